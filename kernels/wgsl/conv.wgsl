// 2-D convolution as an implicit GEMM, its two gradients, and max pooling with its gradient.
// Float dtypes only; f16/bf16 are loaded and stored through the accessors and computed in f32.
//
// The three convolution entry points run one tiled GEMM, conv_gemm, each with its own A, B
// and output indexing (tiles as in matmul.wgsl: a workgroup computes 64 x 64 outputs with
// 16 x 16 invocations of 4 x 4, stepping k by 16 through workgroup memory); operand tiles
// are gathered straight from the tensors: no column matrix is ever written. Per group
// (workgroup z):
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

// The three products (each entry point passes its own constant: the compiler specializes).
const FWD: u32 = 0u;
const DX: u32 = 1u;
const DW: u32 = 2u;

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
    // Reciprocals of the divisors (see dv).
    inv_khw: f32,
    inv_kw: f32,
    inv_ow: f32,
    inv_w: f32,
    inv_ohw: f32,
    inv_hw: f32,
    inv_s: vec2f,
}

fn geo() -> Geo {
    let groups = prm(9u);
    let khw = prm(5u) * prm(6u);
    let s = vec2u(prm(HDR), prm(HDR + 1u));
    return Geo(prm(0u), prm(1u), prm(2u), prm(3u), prm(4u), prm(5u), prm(6u), prm(7u), prm(8u),
        prm(1u) / groups, prm(4u) / groups, khw, s, vec2u(prm(HDR + 2u), prm(HDR + 3u)),
        vec2u(prm(HDR + 4u), prm(HDR + 5u)), 1.0 / f32(khw), 1.0 / f32(prm(6u)),
        1.0 / f32(prm(8u)), 1.0 / f32(prm(3u)), 1.0 / f32(prm(7u) * prm(8u)),
        1.0 / f32(prm(2u) * prm(3u)), 1.0 / vec2f(s));
}

// a / b for a quotient below 2^22 (the driver checks every dim), given inv = 1 / b: a float
// multiply and one correction (integer division has no vector instruction on CPUs: lavapipe
// runs it lane by lane).
fn dv(a: u32, b: u32, inv: f32) -> u32 {
    var q = u32(f32(a) * inv);
    if (q * b > a) {
        q -= 1u;
    } else if (q * b + b <= a) {
        q += 1u;
    }
    return q;
}

// (quotient, remainder) of a pixel index by the plane width.
fn row_col(q: u32, w: u32, inv_w: f32) -> vec2u {
    let y = dv(q, w, inv_w);
    return vec2u(y, q - y * w);
}

// The product's (rows, columns, k) for one group.
fn gemm_dims(g: Geo, mode: u32) -> vec3u {
    let ohw = g.oh * g.ow;
    if (mode == FWD) {
        return vec3u(g.ocg, g.n * ohw, g.cg * g.khw);
    }
    if (mode == DX) {
        return vec3u(g.cg, g.n * g.h * g.w, g.ocg * g.khw);
    }
    return vec3u(g.ocg, g.cg * g.khw, g.n * ohw);
}

// What the B operand's column `bc` fixes for the whole k loop: a base offset in input 0 and
// two coordinates. FWD: output pixel (sample, oy, ox), its window's corner; DX: input pixel
// (sample, iy, ix) in padded coordinates; DW: weight tap (c, ki, kj), its offset.
struct Col {
    base: u32,
    y: i32,
    x: i32,
}

fn column(g: Geo, gi: u32, mode: u32, bc: u32) -> Col {
    let ohw = g.oh * g.ow;
    let hw = g.h * g.w;
    if (mode == FWD) {
        let sm = dv(bc, ohw, g.inv_ohw);
        let yx = row_col(bc - sm * ohw, g.ow, g.inv_ow);
        let base = prm(HDR + 6u) + (sm * g.c + gi * g.cg) * hw;
        return Col(base, i32(yx.x * g.s.x) - i32(g.p.x), i32(yx.y * g.s.y) - i32(g.p.y));
    }
    if (mode == DX) {
        let sm = dv(bc, hw, g.inv_hw);
        let yx = row_col(bc - sm * hw, g.w, g.inv_w);
        let base = prm(HDR + 6u) + (sm * g.oc + gi * g.ocg) * ohw;
        return Col(base, i32(yx.x + g.p.x), i32(yx.y + g.p.y));
    }
    let ci = dv(bc, g.khw, g.inv_khw);
    let kyx = row_col(bc - ci * g.khw, g.kw, g.inv_kw);
    let base = prm(HDR + 6u) + (gi * g.cg + ci) * hw;
    return Col(base, i32(kyx.x * g.d.x) - i32(g.p.x), i32(kyx.y * g.d.y) - i32(g.p.y));
}

// Element (row, k) of the A operand (input 1): FWD the weight, DX the weight transposed per
// tap, DW the output gradient.
fn a_at(g: Geo, gi: u32, mode: u32, row: u32, k: u32) -> T {
    if (mode == FWD) {
        return ld_x1(prm(HDR + 7u) + (gi * g.ocg + row) * g.cg * g.khw + k);
    }
    if (mode == DX) {
        let o = dv(k, g.khw, g.inv_khw);
        return ld_x1(prm(HDR + 7u) + ((gi * g.ocg + o) * g.cg + row) * g.khw + k - o * g.khw);
    }
    let ohw = g.oh * g.ow;
    let sm = dv(k, ohw, g.inv_ohw);
    return ld_x1(prm(HDR + 7u) + (sm * g.oc + gi * g.ocg + row) * ohw + k - sm * ohw);
}

// Element (k, column) of the B operand (input 0, zero outside it): FWD a window tap of x,
// DX the output gradient of the output whose tap reads this pixel (oy·s + ki·d = iy + p),
// DW the input pixel under a tap.
fn b_at(g: Geo, mode: u32, c: Col, k: u32) -> T {
    if (mode == DW) {
        let ohw = g.oh * g.ow;
        let sm = dv(k, ohw, g.inv_ohw);
        let o = row_col(k - sm * ohw, g.ow, g.inv_ow);
        let iy = i32(o.x * g.s.x) + c.y;
        let ix = i32(o.y * g.s.y) + c.x;
        if (iy < 0 || iy >= i32(g.h) || ix < 0 || ix >= i32(g.w)) {
            return T(0);
        }
        return ld_x0(c.base + sm * g.c * g.h * g.w + u32(iy) * g.w + u32(ix));
    }
    let ch = dv(k, g.khw, g.inv_khw);
    let tap = row_col(k - ch * g.khw, g.kw, g.inv_kw);
    let ty = i32(tap.x * g.d.x);
    let tx = i32(tap.y * g.d.y);
    if (mode == FWD) {
        let iy = c.y + ty;
        let ix = c.x + tx;
        if (iy < 0 || iy >= i32(g.h) || ix < 0 || ix >= i32(g.w)) {
            return T(0);
        }
        return ld_x0(c.base + (ch * g.h + u32(iy)) * g.w + u32(ix));
    }
    let sy = c.y - ty;
    let sx = c.x - tx;
    if (sy < 0 || sx < 0) {
        return T(0);
    }
    let oy = dv(u32(sy), g.s.x, g.inv_s.x);
    let ox = dv(u32(sx), g.s.y, g.inv_s.y);
    if (oy * g.s.x != u32(sy) || ox * g.s.y != u32(sx) || oy >= g.oh || ox >= g.ow) {
        return T(0);
    }
    return ld_x0(c.base + (ch * g.oh + oy) * g.ow + ox);
}

// Stores row `r` of the product at columns c0 + 16j (with the bias in FWD).
fn store_row(g: Geo, gi: u32, mode: u32, r: u32, c0: u32, v: vec4<T>) {
    let mnk = gemm_dims(g, mode);
    if (r >= mnk.x) {
        return;
    }
    let ohw = g.oh * g.ow;
    let hw = g.h * g.w;
    let b = bias(gi * g.ocg + r);
    for (var j = 0u; j < 4u; j++) {
        let col = c0 + 16u * j;
        if (col >= mnk.y) {
            continue;
        }
        var at: u32;
        if (mode == FWD) {
            let sm = dv(col, ohw, g.inv_ohw);
            at = (sm * g.oc + gi * g.ocg + r) * ohw + col - sm * ohw;
        } else if (mode == DX) {
            let sm = dv(col, hw, g.inv_hw);
            at = (sm * g.c + gi * g.cg + r) * hw + col - sm * hw;
        } else {
            at = (gi * g.ocg + r) * mnk.y + col;
        }
        st_y0(prm(HDR + 9u) + at, v[j] + b);
    }
}

// Four rows of four accumulators (statically indexed: a private array indexed in loops
// lands in scratch memory on some compilers, lavapipe's among them).
struct Acc {
    r0: vec4<T>,
    r1: vec4<T>,
    r2: vec4<T>,
    r3: vec4<T>,
}

// One convolution product of group wg.z: the tile of rows wg.y·64.., columns (first
// column prm(11)) wg.x·64... Invocation t stages column t % 64 of B throughout (its
// coordinates decoded once) and computes rows tr..tr+4, columns tc + 16j.
fn conv_gemm(wg: vec3u, t: u32, mode: u32) {
    let g = geo();
    let gi = wg.z;
    let mnk = gemm_dims(g, mode);
    let row0 = wg.y * TM;
    let col0 = prm(11u) + wg.x * TM;
    let bc = col0 + t % TM;
    let col = column(g, gi, mode, bc);
    let tr = (t / 16u) * 4u;
    let tc = t % 16u;
    var acc = Acc(vec4<T>(T(0)), vec4<T>(T(0)), vec4<T>(T(0)), vec4<T>(T(0)));
    for (var k0 = 0u; k0 < mnk.z; k0 += TK) {
        for (var j = 0u; j < 4u; j++) {
            let e = j * WG + t;
            let ar = row0 + e / TK;
            let ak = k0 + e % TK;
            var av = T(0);
            if (ar < mnk.x && ak < mnk.z) {
                av = a_at(g, gi, mode, ar, ak);
            }
            AS[e] = av;
            let bk = k0 + e / TM;
            var bv = T(0);
            if (bc < mnk.y && bk < mnk.z) {
                bv = b_at(g, mode, col, bk);
            }
            BS[e] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let bb = kk * TM + tc;
            let b4 = vec4<T>(BS[bb], BS[bb + 16u], BS[bb + 32u], BS[bb + 48u]);
            acc.r0 += AS[tr * TK + kk] * b4;
            acc.r1 += AS[(tr + 1u) * TK + kk] * b4;
            acc.r2 += AS[(tr + 2u) * TK + kk] * b4;
            acc.r3 += AS[(tr + 3u) * TK + kk] * b4;
        }
        workgroupBarrier();
    }
    store_row(g, gi, mode, row0 + tr, col0 + tc, acc.r0);
    store_row(g, gi, mode, row0 + tr + 1u, col0 + tc, acc.r1);
    store_row(g, gi, mode, row0 + tr + 2u, col0 + tc, acc.r2);
    store_row(g, gi, mode, row0 + tr + 3u, col0 + tc, acc.r3);
}
//#endif

//#if conv
fn bias(o: u32) -> T {
    if (prm(10u) != 0u) {
        return ld_x2(prm(HDR + 8u) + o);
    }
    return T(0);
}

// ins [x, w, bias], outs [y].
@compute @workgroup_size(256)
fn conv2d_$T(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
    conv_gemm(wg, t, FWD);
}
//#endif

//#if grad
fn bias(o: u32) -> T {
    return T(0);
}

// ins [gy, w], outs [gx].
@compute @workgroup_size(256)
fn conv2d_input_grad_$T(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
    conv_gemm(wg, t, DX);
}

// ins [x, gy], outs [gw].
@compute @workgroup_size(256)
fn conv2d_weight_grad_$T(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
    conv_gemm(wg, t, DW);
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
