// Reductions over a set of axes: one workgroup per output with a workgroup tree reduction,
// or (`*_small` entries, for short reductions) one invocation per output.
//
// Parameter block: prm(0) outputs, prm(1) kept rank kr, prm(2) reduced rank rr, prm(3) reduced count;
// from HDR: kept dims[kr], x kept strides[kr], y kept strides[kr], reduced dims[rr],
// x reduced strides[rr], x offset, y offset. Sums and products accumulate in the compute
// type (f32 for f16/bf16; integers wrap as the CPU's narrowed i64 accumulator does).

var<workgroup> SV: array<T, 256>;
//#if arg
var<workgroup> SI: array<u32, 256>;
//#endif

// (x offset, y offset) of output o.
fn kept(o: u32) -> vec2u {
    let kr = prm(1);
    let rr = prm(2);
    var xo = prm(HDR + 3u * kr + 2u * rr);
    var yo = prm(HDR + 3u * kr + 2u * rr + 1u);
    var rem = o;
    for (var d = kr; d > 0u; d--) {
        let n = prm(HDR + d - 1u);
        let c = rem % n;
        rem /= n;
        xo += c * prm(HDR + kr + d - 1u);
        yo += c * prm(HDR + 2u * kr + d - 1u);
    }
    return vec2u(xo, yo);
}

// Offset of reduced index r relative to the output's base.
fn red(r: u32) -> u32 {
    let kr = prm(1);
    let rr = prm(2);
    let b = HDR + 3u * kr;
    var off = 0u;
    var rem = r;
    for (var d = rr; d > 0u; d--) {
        let n = prm(b + d - 1u);
        off += (rem % n) * prm(b + rr + d - 1u);
        rem /= n;
    }
    return off;
}

//#if float
fn mx(a: T, b: T) -> T {
    return select(b, a, is_nan(a) || a > b);
}
fn mn(a: T, b: T) -> T {
    return select(b, a, is_nan(a) || a < b);
}
fn low() -> T {
    return lowest_f32();
}
fn high() -> T {
    return highest_f32();
}
fn nan_(a: T) -> bool {
    return is_nan(a);
}
//#else
fn mx(a: T, b: T) -> T {
    return max(a, b);
}
fn mn(a: T, b: T) -> T {
    return min(a, b);
}
//#if sint
fn low() -> T {
    return lowest_i32();
}
fn high() -> T {
    return highest_i32();
}
//#else
fn low() -> T {
    return lowest_u32();
}
fn high() -> T {
    return highest_u32();
}
//#endif
fn nan_(a: T) -> bool {
    return false;
}
//#endif

//#if !arg
fn comb_sum(a: T, b: T) -> T {
    return a + b;
}

@compute @workgroup_size(256)
fn sum_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = T(0);
    for (var r = t; r < prm(3); r += WG) {
        acc = comb_sum(acc, ld_x0(base.x + red(r)));
    }
    SV[t] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s) {
            SV[t] = comb_sum(SV[t], SV[t + s]);
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        st_y0(base.y, SV[0]);
    }
}

@compute @workgroup_size(256)
fn sum_small_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let o = linear_id(g, n);
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = T(0);
    for (var r = 0u; r < prm(3); r++) {
        acc = comb_sum(acc, ld_x0(base.x + red(r)));
    }
    st_y0(base.y, acc);
}

fn comb_prod(a: T, b: T) -> T {
    return a * b;
}

@compute @workgroup_size(256)
fn prod_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = T(1);
    for (var r = t; r < prm(3); r += WG) {
        acc = comb_prod(acc, ld_x0(base.x + red(r)));
    }
    SV[t] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s) {
            SV[t] = comb_prod(SV[t], SV[t + s]);
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        st_y0(base.y, SV[0]);
    }
}

@compute @workgroup_size(256)
fn prod_small_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let o = linear_id(g, n);
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = T(1);
    for (var r = 0u; r < prm(3); r++) {
        acc = comb_prod(acc, ld_x0(base.x + red(r)));
    }
    st_y0(base.y, acc);
}

fn comb_max(a: T, b: T) -> T {
    return mx(a, b);
}

@compute @workgroup_size(256)
fn max_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = low();
    for (var r = t; r < prm(3); r += WG) {
        acc = comb_max(acc, ld_x0(base.x + red(r)));
    }
    SV[t] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s) {
            SV[t] = comb_max(SV[t], SV[t + s]);
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        st_y0(base.y, SV[0]);
    }
}

@compute @workgroup_size(256)
fn max_small_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let o = linear_id(g, n);
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = low();
    for (var r = 0u; r < prm(3); r++) {
        acc = comb_max(acc, ld_x0(base.x + red(r)));
    }
    st_y0(base.y, acc);
}

fn comb_min(a: T, b: T) -> T {
    return mn(a, b);
}

@compute @workgroup_size(256)
fn min_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = high();
    for (var r = t; r < prm(3); r += WG) {
        acc = comb_min(acc, ld_x0(base.x + red(r)));
    }
    SV[t] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s) {
            SV[t] = comb_min(SV[t], SV[t + s]);
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        st_y0(base.y, SV[0]);
    }
}

@compute @workgroup_size(256)
fn min_small_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let o = linear_id(g, n);
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var acc = high();
    for (var r = 0u; r < prm(3); r++) {
        acc = comb_min(acc, ld_x0(base.x + red(r)));
    }
    st_y0(base.y, acc);
}

//#else
// True when (v, i) beats (w, j): the first NaN wins, then the max, then the lower index.
fn beats_argmax(v: T, i: u32, w: T, j: u32) -> bool {
    if (j == 0xffffffffu) {
        return i != 0xffffffffu;
    }
    if (i == 0xffffffffu) {
        return false;
    }
    if (nan_(v) || nan_(w)) {
        return nan_(v) && (!nan_(w) || i < j);
    }
    return v > w || (v == w && i < j);
}

@compute @workgroup_size(256)
fn argmax_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var bv = T(0);
    var bi = 0xffffffffu;
    for (var r = t; r < prm(3); r += WG) {
        let v = ld_x0(base.x + red(r));
        if (beats_argmax(v, r, bv, bi)) {
            bv = v;
            bi = r;
        }
    }
    SV[t] = bv;
    SI[t] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s && beats_argmax(SV[t + s], SI[t + s], SV[t], SI[t])) {
            SV[t] = SV[t + s];
            SI[t] = SI[t + s];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        st_y0(base.y, i32(SI[0]));
    }
}

@compute @workgroup_size(256)
fn argmax_small_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let o = linear_id(g, n);
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var bv = T(0);
    var bi = 0xffffffffu;
    for (var r = 0u; r < prm(3); r++) {
        let v = ld_x0(base.x + red(r));
        if (beats_argmax(v, r, bv, bi)) {
            bv = v;
            bi = r;
        }
    }
    st_y0(base.y, i32(bi));
}

// True when (v, i) beats (w, j): the first NaN wins, then the min, then the lower index.
fn beats_argmin(v: T, i: u32, w: T, j: u32) -> bool {
    if (j == 0xffffffffu) {
        return i != 0xffffffffu;
    }
    if (i == 0xffffffffu) {
        return false;
    }
    if (nan_(v) || nan_(w)) {
        return nan_(v) && (!nan_(w) || i < j);
    }
    return v < w || (v == w && i < j);
}

@compute @workgroup_size(256)
fn argmin_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var bv = T(0);
    var bi = 0xffffffffu;
    for (var r = t; r < prm(3); r += WG) {
        let v = ld_x0(base.x + red(r));
        if (beats_argmin(v, r, bv, bi)) {
            bv = v;
            bi = r;
        }
    }
    SV[t] = bv;
    SI[t] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s && beats_argmin(SV[t + s], SI[t + s], SV[t], SI[t])) {
            SV[t] = SV[t + s];
            SI[t] = SI[t + s];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        st_y0(base.y, i32(SI[0]));
    }
}

@compute @workgroup_size(256)
fn argmin_small_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let o = linear_id(g, n);
    if (o >= prm(0)) {
        return;
    }
    let base = kept(o);
    var bv = T(0);
    var bi = 0xffffffffu;
    for (var r = 0u; r < prm(3); r++) {
        let v = ld_x0(base.x + red(r));
        if (beats_argmin(v, r, bv, bi)) {
            bv = v;
            bi = r;
        }
    }
    st_y0(base.y, i32(bi));
}

//#endif
