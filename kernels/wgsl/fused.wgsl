// Fused ops over the last axis of a contiguous tensor seen as [rows, cols]: one workgroup
// per row, the row's max and sum by workgroup tree reductions (NaN wins the max, as in the
// CPU driver's reduction). f16/bf16 compute in f32 and round once at the store.
//   softmax_$T       y = exp(x - max) / sum(exp(x - max))
//   log_softmax_$T   y = (x - max) - log(sum(exp(x - max)))
//   layer_norm_$T    y = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps) (biased var);
//                    the row's mean and rstd stored as f32 (two more outputs). Built with the
//                    `layer_norm` flag, `weight` and `bias` when those inputs are bound.
//
// Parameter block: prm(0) rows, prm(1) cols, prm(2) x offset, prm(3) y offset; layer norm:
// prm(4) weight offset, prm(5) bias offset, prm(6) mean offset, prm(7) rstd offset,
// prm(8) eps (f32 bits).

var<workgroup> SV: array<f32, 256>;

// The workgroup's max (`is_max`) or sum of `v`; called by every invocation of the workgroup.
fn row_reduce(t: u32, v: f32, is_max: bool) -> f32 {
    SV[t] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s) {
            let a = SV[t];
            let b = SV[t + s];
            let mx = select(a, b, !is_nan(a) && (is_nan(b) || b > a));
            SV[t] = select(a + b, mx, is_max);
        }
        workgroupBarrier();
    }
    let r = SV[0];
    workgroupBarrier();
    return r;
}

//#if layer_norm
fn layer_norm_row(w: vec3u, n: vec3u, t: u32) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let cols = prm(1);
    let xb = prm(2) + o * cols;
    let yb = prm(3) + o * cols;
    // Two passes (mean, then the centred squares): no cancellation in the variance.
    var s = 0.0;
    for (var c = t; c < cols; c += WG) {
        s += f32(ld_x0(xb + c));
    }
    let mean = row_reduce(t, s, false) / f32(cols);
    var q = 0.0;
    for (var c = t; c < cols; c += WG) {
        let d = f32(ld_x0(xb + c)) - mean;
        q += d * d;
    }
    let vr = row_reduce(t, q, false) / f32(cols);
    let rs = 1.0 / sqrt(vr + bitcast<f32>(prm(8)));
    if (t == 0u) {
        st_y1(prm(6) + o, mean);
        st_y2(prm(7) + o, rs);
    }
    for (var c = t; c < cols; c += WG) {
        var v = (f32(ld_x0(xb + c)) - mean) * rs;
//#if weight
        v = v * f32(ld_x1(prm(4) + c));
//#endif
//#if bias
        v = v + f32(ld_x2(prm(5) + c));
//#endif
        st_y0(yb + c, T(v));
    }
}

@compute @workgroup_size(256)
fn layer_norm_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    layer_norm_row(w, n, t);
}
//#else
fn softmax_row(w: vec3u, n: vec3u, t: u32, log_out: bool) {
    let o = w.y * n.x + w.x;
    if (o >= prm(0)) {
        return;
    }
    let cols = prm(1);
    let xb = prm(2) + o * cols;
    let yb = prm(3) + o * cols;
    var m = -f32_inf();
    for (var c = t; c < cols; c += WG) {
        let v = f32(ld_x0(xb + c));
        if (!is_nan(m) && (is_nan(v) || v > m)) {
            m = v;
        }
    }
    m = row_reduce(t, m, true);
    var s = 0.0;
    for (var c = t; c < cols; c += WG) {
        s += exp(f32(ld_x0(xb + c)) - m);
    }
    s = row_reduce(t, s, false);
    let ls = log(s);
    for (var c = t; c < cols; c += WG) {
        let z = f32(ld_x0(xb + c)) - m;
        st_y0(yb + c, T(select(exp(z) / s, z - ls, log_out)));
    }
}

@compute @workgroup_size(256)
fn softmax_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    softmax_row(w, n, t, false);
}

@compute @workgroup_size(256)
fn log_softmax_$T(@builtin(workgroup_id) w: vec3u, @builtin(num_workgroups) n: vec3u, @builtin(local_invocation_index) t: u32) {
    softmax_row(w, n, t, true);
}
//#endif
