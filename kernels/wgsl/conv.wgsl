// 2-D convolution as an implicit GEMM, its two gradients, and max pooling with its gradient.
// Float dtypes only; f16/bf16 are loaded and stored through the accessors and computed in f32.
//
// Each convolution kernel is one tiled GEMM (as matmul.wgsl: a workgroup computes a 64 x 64
// output tile with 16 x 16 invocations of 4 x 4 outputs, stepping k by 16 through workgroup
// memory) whose operand tiles are gathered straight from the tensors: no column matrix is
// ever written. Per group (workgroup z):
//   conv2d_$T               y[oc, (n, oy, ox)]  = w[oc, (c, ki, kj)] @ x-windows[(c, ki, kj), (n, oy, ox)] (+ bias)
//   conv2d_input_grad_$T    gx[c, (n, iy, ix)]  = wᵀ[c, (oc, ki, kj)] @ gy-taps[(oc, ki, kj), (n, iy, ix)]
//   conv2d_weight_grad_$T   gw[oc, (c, ki, kj)] = gy[oc, (n, oy, ox)] @ x-windowsᵀ[(n, oy, ox), (c, ki, kj)]
// Every output element is written once (the gradients need no zeroing and no atomics).
// The columns an invocation stages stay the same across the k loop, so their coordinates are
// decoded once.
//
// Convolution parameter block: prm(0) N, prm(1) C, prm(2) H, prm(3) W, prm(4) OC, prm(5) KH,
// prm(6) KW, prm(7) OH, prm(8) OW, prm(9) groups, prm(10) 1 with a bias, prm(11) the first
// column of this dispatch (wide outputs take several); from HDR: stride, padding, dilation
// ([h, w] each), then the offsets of inputs 0, 1, 2 and of the output.
//
// Max pooling (one invocation per output, the window's first maximum, the last NaN wins, as
// the CPU kernel and PyTorch): prm(0) outputs N·C·OH·OW, prm(1) H, prm(2) W, prm(3) OH,
// prm(4) OW, prm(5) KH, prm(6) KW, prm(7..9) stride, prm(9..11) padding, from HDR: dilation
// [h, w], x, y and indices offsets. Its gradient (one invocation per plane, adding in output
// order as the CPU does): prm(0) planes N·C, prm(1) H·W, prm(2) OH·OW, prm(3) gy, prm(4)
// indices and prm(5) gx offsets.

//#if conv|grad
const TM: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> AS: array<T, 1024>; // TM x TK
var<workgroup> BS: array<T, 1024>; // TK x TM

struct Geo {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oc: u32,
    kh: u32,
    kw: u32,
    oh: u32,
    ow: u32,
    cg: u32,
    ocg: u32,
    khw: u32,
    s: vec2u,
    p: vec2u,
    d: vec2u,
}

fn geo() -> Geo {
    let groups = prm(9u);
    return Geo(prm(0u), prm(1u), prm(2u), prm(3u), prm(4u), prm(5u), prm(6u), prm(7u), prm(8u),
        prm(1u) / groups, prm(4u) / groups, prm(5u) * prm(6u),
        vec2u(prm(HDR), prm(HDR + 1u)), vec2u(prm(HDR + 2u), prm(HDR + 3u)),
        vec2u(prm(HDR + 4u), prm(HDR + 5u)));
}

// Four rows of four accumulators (statically indexed: a private array indexed in loops
// lands in scratch memory on some compilers, lavapipe's among them).
struct Acc {
    r0: vec4<T>,
    r1: vec4<T>,
    r2: vec4<T>,
    r3: vec4<T>,
}

// Invocation t's share of one staged k step: rows tr..tr+4, columns tc + 16j.
fn mma(a: Acc, t: u32) -> Acc {
    var acc = a;
    let tr = (t / 16u) * 4u;
    let tc = t % 16u;
    for (var kk = 0u; kk < TK; kk++) {
        let bb = kk * TM + tc;
        let b4 = vec4<T>(BS[bb], BS[bb + 16u], BS[bb + 32u], BS[bb + 48u]);
        acc.r0 += AS[tr * TK + kk] * b4;
        acc.r1 += AS[(tr + 1u) * TK + kk] * b4;
        acc.r2 += AS[(tr + 2u) * TK + kk] * b4;
        acc.r3 += AS[(tr + 3u) * TK + kk] * b4;
    }
    return acc;
}

// a / b for a quotient below 2^22, given inv = 1 / b: a float multiply and one correction
// (integer division has no vector instruction on CPUs: lavapipe runs it lane by lane).
fn dv(a: u32, b: u32, inv: f32) -> u32 {
    var q = u32(f32(a) * inv);
    if (q * b > a) {
        q -= 1u;
    } else if (q * b + b <= a) {
        q += 1u;
    }
    return q;
}

fn zero_acc() -> Acc {
    return Acc(vec4<T>(T(0)), vec4<T>(T(0)), vec4<T>(T(0)), vec4<T>(T(0)));
}
//#endif

//#if conv
// One output row r (an output channel of group gi) at columns c0 + 16j.
fn conv_store(g: Geo, gi: u32, r: u32, c0: u32, v: vec4<T>) {
    let ohw = g.oh * g.ow;
    if (r >= g.ocg) {
        return;
    }
    let o = gi * g.ocg + r;
    var b = T(0);
    if (prm(10u) != 0u) {
        b = ld_x2(prm(HDR + 8u) + o);
    }
    for (var j = 0u; j < 4u; j++) {
        let col = c0 + 16u * j;
        if (col < g.n * ohw) {
            st_y0(prm(HDR + 9u) + ((col / ohw) * g.oc + o) * ohw + col % ohw, v[j] + b);
        }
    }
}

@compute @workgroup_size(256)
fn conv2d_$T(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
    let g = geo();
    let gi = wg.z;
    let kk = g.cg * g.khw;
    let ohw = g.oh * g.ow;
    let ncol = g.n * ohw;
    let row0 = wg.y * TM;
    let col0 = prm(11u) + wg.x * TM;
    // The column this invocation stages: output pixel (sample, oy, ox).
    let bc = col0 + t % TM;
    let q = bc % ohw;
    let iy0 = i32((q / g.ow) * g.s.x) - i32(g.p.x);
    let ix0 = i32((q % g.ow) * g.s.y) - i32(g.p.y);
    let xb = prm(HDR + 6u) + ((bc / ohw) * g.c + gi * g.cg) * g.h * g.w;
    let wb = prm(HDR + 7u) + gi * g.ocg * kk;
    let inv_khw = 1.0 / f32(g.khw);
    let inv_kw = 1.0 / f32(g.kw);
    var acc = zero_acc();
    for (var k0 = 0u; k0 < kk; k0 += TK) {
        for (var j = 0u; j < 4u; j++) {
            let e = j * WG + t;
            let ar = row0 + e / TK;
            let ak = k0 + e % TK;
            var av = T(0);
            if (ar < g.ocg && ak < kk) {
                av = ld_x1(wb + ar * kk + ak);
            }
            AS[e] = av;
            let k = k0 + e / TM;
            var bv = T(0);
            if (bc < ncol && k < kk) {
                let ci = dv(k, g.khw, inv_khw);
                let r = k - ci * g.khw;
                let ki = dv(r, g.kw, inv_kw);
                let iy = iy0 + i32(ki * g.d.x);
                let ix = ix0 + i32((r - ki * g.kw) * g.d.y);
                if (iy >= 0 && iy < i32(g.h) && ix >= 0 && ix < i32(g.w)) {
                    bv = ld_x0(xb + (ci * g.h + u32(iy)) * g.w + u32(ix));
                }
            }
            BS[e] = bv;
        }
        workgroupBarrier();
        acc = mma(acc, t);
        workgroupBarrier();
    }
    let tr = row0 + (t / 16u) * 4u;
    let tc = col0 + t % 16u;
    conv_store(g, gi, tr, tc, acc.r0);
    conv_store(g, gi, tr + 1u, tc, acc.r1);
    conv_store(g, gi, tr + 2u, tc, acc.r2);
    conv_store(g, gi, tr + 3u, tc, acc.r3);
}
//#endif

//#if grad
// One row r of the input gradient (an input channel of group gi) at columns c0 + 16j.
fn gx_store(g: Geo, gi: u32, r: u32, c0: u32, v: vec4<T>) {
    let hw = g.h * g.w;
    if (r >= g.cg) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = c0 + 16u * j;
        if (col < g.n * hw) {
            st_y0(prm(HDR + 9u) + ((col / hw) * g.c + gi * g.cg + r) * hw + col % hw, v[j]);
        }
    }
}

// ins [gy, w], outs [gx].
@compute @workgroup_size(256)
fn conv2d_input_grad_$T(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
    let g = geo();
    let gi = wg.z;
    let kk = g.ocg * g.khw;
    let hw = g.h * g.w;
    let ncol = g.n * hw;
    let row0 = wg.y * TM;
    let col0 = prm(11u) + wg.x * TM;
    // The column this invocation stages: input pixel (sample, iy, ix), padded coordinates.
    let bc = col0 + t % TM;
    let q = bc % hw;
    let ty0 = i32(q / g.w + g.p.x);
    let tx0 = i32(q % g.w + g.p.y);
    let gyb = prm(HDR + 6u) + ((bc / hw) * g.oc + gi * g.ocg) * g.oh * g.ow;
    let wb = prm(HDR + 7u) + gi * g.ocg * g.cg * g.khw;
    let inv_khw = 1.0 / f32(g.khw);
    let inv_kw = 1.0 / f32(g.kw);
    let inv_s = 1.0 / vec2f(g.s);
    var acc = zero_acc();
    for (var k0 = 0u; k0 < kk; k0 += TK) {
        for (var j = 0u; j < 4u; j++) {
            let e = j * WG + t;
            let ar = row0 + e / TK;
            let ak = k0 + e % TK;
            var av = T(0);
            if (ar < g.cg && ak < kk) {
                let o = dv(ak, g.khw, inv_khw);
                av = ld_x1(wb + (o * g.cg + ar) * g.khw + ak - o * g.khw);
            }
            AS[e] = av;
            let k = k0 + e / TM;
            var bv = T(0);
            if (bc < ncol && k < kk) {
                // Tap (ki, kj) of output (oy, ox) reads this pixel when
                // oy·s + ki·d = iy + p (and the same along x).
                let o = dv(k, g.khw, inv_khw);
                let r = k - o * g.khw;
                let ki = dv(r, g.kw, inv_kw);
                let ty = ty0 - i32(ki * g.d.x);
                let tx = tx0 - i32((r - ki * g.kw) * g.d.y);
                if (ty >= 0 && tx >= 0) {
                    let oy = dv(u32(ty), g.s.x, inv_s.x);
                    let ox = dv(u32(tx), g.s.y, inv_s.y);
                    if (oy * g.s.x == u32(ty) && ox * g.s.y == u32(tx) && oy < g.oh && ox < g.ow) {
                        bv = ld_x0(gyb + (o * g.oh + oy) * g.ow + ox);
                    }
                }
            }
            BS[e] = bv;
        }
        workgroupBarrier();
        acc = mma(acc, t);
        workgroupBarrier();
    }
    let tr = row0 + (t / 16u) * 4u;
    let tc = col0 + t % 16u;
    gx_store(g, gi, tr, tc, acc.r0);
    gx_store(g, gi, tr + 1u, tc, acc.r1);
    gx_store(g, gi, tr + 2u, tc, acc.r2);
    gx_store(g, gi, tr + 3u, tc, acc.r3);
}

// One row r of the weight gradient (an output channel of group gi) at columns c0 + 16j.
fn gw_store(g: Geo, gi: u32, r: u32, c0: u32, v: vec4<T>) {
    let kk = g.cg * g.khw;
    if (r >= g.ocg) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = c0 + 16u * j;
        if (col < kk) {
            st_y0(prm(HDR + 9u) + (gi * g.ocg + r) * kk + col, v[j]);
        }
    }
}

// ins [x, gy], outs [gw].
@compute @workgroup_size(256)
fn conv2d_weight_grad_$T(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
    let g = geo();
    let gi = wg.z;
    let ncol = g.cg * g.khw;
    let ohw = g.oh * g.ow;
    let hw = g.h * g.w;
    let kk = g.n * ohw;
    let row0 = wg.y * TM;
    let col0 = prm(11u) + wg.x * TM;
    // The column this invocation stages: weight tap (c, ki, kj).
    let bc = col0 + t % TM;
    let r = bc % g.khw;
    let ky = i32((r / g.kw) * g.d.x) - i32(g.p.x);
    let kx = i32((r % g.kw) * g.d.y) - i32(g.p.y);
    let xb = prm(HDR + 6u) + (gi * g.cg + bc / g.khw) * hw;
    let gyb = prm(HDR + 7u) + gi * g.ocg * ohw;
    let inv_ohw = 1.0 / f32(ohw);
    let inv_ow = 1.0 / f32(g.ow);
    var acc = zero_acc();
    for (var k0 = 0u; k0 < kk; k0 += TK) {
        for (var j = 0u; j < 4u; j++) {
            let e = j * WG + t;
            let ar = row0 + e / TK;
            let ak = k0 + e % TK;
            var av = T(0);
            if (ar < g.ocg && ak < kk) {
                let sm = dv(ak, ohw, inv_ohw);
                av = ld_x1(gyb + (sm * g.oc + ar) * ohw + ak - sm * ohw);
            }
            AS[e] = av;
            let k = k0 + e / TM;
            var bv = T(0);
            if (bc < ncol && k < kk) {
                let sm = dv(k, ohw, inv_ohw);
                let q = k - sm * ohw;
                let oy = dv(q, g.ow, inv_ow);
                let iy = i32(oy * g.s.x) + ky;
                let ix = i32((q - oy * g.ow) * g.s.y) + kx;
                if (iy >= 0 && iy < i32(g.h) && ix >= 0 && ix < i32(g.w)) {
                    bv = ld_x0(xb + sm * g.c * hw + u32(iy) * g.w + u32(ix));
                }
            }
            BS[e] = bv;
        }
        workgroupBarrier();
        acc = mma(acc, t);
        workgroupBarrier();
    }
    let tr = row0 + (t / 16u) * 4u;
    let tc = col0 + t % 16u;
    gw_store(g, gi, tr, tc, acc.r0);
    gw_store(g, gi, tr + 1u, tc, acc.r1);
    gw_store(g, gi, tr + 2u, tc, acc.r2);
    gw_store(g, gi, tr + 3u, tc, acc.r3);
}
//#endif

//#if pool
@compute @workgroup_size(256)
fn max_pool2d_$T(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
    let i = linear_id(gid, nw);
    if (i >= prm(0u)) {
        return;
    }
    let h = prm(1u);
    let w = prm(2u);
    let ohw = prm(3u) * prm(4u);
    let q = i % ohw;
    let y0 = i32((q / prm(4u)) * prm(7u)) - i32(prm(9u));
    let x0 = i32((q % prm(4u)) * prm(8u)) - i32(prm(10u));
    let xb = prm(HDR + 2u) + (i / ohw) * h * w;
    // From -inf at the first tap inside the input: a greater value or a NaN takes over.
    var best = lowest_f32();
    var at = 0u;
    var first = true;
    for (var ki = 0u; ki < prm(5u); ki++) {
        let iy = y0 + i32(ki * prm(HDR));
        if (iy < 0 || iy >= i32(h)) {
            continue;
        }
        for (var kj = 0u; kj < prm(6u); kj++) {
            let ix = x0 + i32(kj * prm(HDR + 1u));
            if (ix < 0 || ix >= i32(w)) {
                continue;
            }
            let p = u32(iy) * w + u32(ix);
            let v = f32(ld_x0(xb + p));
            if (first) {
                at = p;
                first = false;
            }
            if (v > best || is_nan(v)) {
                best = v;
                at = p;
            }
        }
    }
    st_y0(prm(HDR + 3u) + i, T(best));
    st_y1(prm(HDR + 4u) + i, i32(at));
}
//#endif

//#if pool_grad
@compute @workgroup_size(256)
fn max_pool2d_grad_$T(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
    let pl = linear_id(gid, nw);
    if (pl >= prm(0u)) {
        return;
    }
    let hw = prm(1u);
    let ohw = prm(2u);
    let gx = prm(5u) + pl * hw;
    for (var i = 0u; i < hw; i++) {
        st_y0(gx + i, T(0));
    }
    let gy = prm(3u) + pl * ohw;
    let ix = prm(4u) + pl * ohw;
    for (var o = 0u; o < ohw; o++) {
        let at = ld_x1(ix + o);
        // Indices come from the forward kernel; one out of range is skipped, not trusted.
        if (at >= 0 && u32(at) < hw) {
            st_y0(gx + u32(at), ld_y0(gx + u32(at)) + ld_x0(gy + o));
        }
    }
}
//#endif
