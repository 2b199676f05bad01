// Batched strided matmul, y = alpha * a @ b + beta * y, tiled through workgroup memory:
// a workgroup computes a 64 x 64 tile of y with 16 x 16 invocations of 4 x 4 outputs each
// (4 rows, 4 columns 16 apart),
// stepping k by 16. Operands are strided views (a transpose is a layout) loaded through the
// dtype accessors, so f16/bf16/int8 need no conversion pass; batch dims broadcast (stride 0).
//
// Parameter block: prm(0) m, prm(1) n, prm(2) k, prm(3) batches, prm(4) batch rank br, prm(5) alpha and
// prm(6) beta (bits of the compute type), prm(7) 1 when beta is used, prm(8) first batch of this
// dispatch; from HDR: a, b, y offsets; a row/col, b row/col, y row/col strides; batch
// dims[br]; a, b, y batch strides[br] each.

const TM: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> AS: array<T, 1024>; // TM x TK
var<workgroup> BS: array<T, 1024>; // TK x TM

// (a, b, y) element offsets of batch `bi`.
fn batch_offs(bi: u32) -> vec3u {
    let br = prm(4);
    var o = vec3u(prm(HDR), prm(HDR + 1u), prm(HDR + 2u));
    var rem = bi;
    let s = HDR + 9u;
    for (var d = br; d > 0u; d--) {
        let n = prm(s + d - 1u);
        let c = rem % n;
        rem /= n;
        o += c * vec3u(prm(s + br + d - 1u), prm(s + 2u * br + d - 1u), prm(s + 3u * br + d - 1u));
    }
    return o;
}

@compute @workgroup_size(256)
fn matmul_$T(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_index) t: u32) {
    let m = prm(0);
    let n = prm(1);
    let k = prm(2);
    let bi = w.z + prm(8);
    if (bi >= prm(3)) {
        return;
    }
    let o = batch_offs(bi);
    let ars = prm(HDR + 3u);
    let acs = prm(HDR + 4u);
    let brs = prm(HDR + 5u);
    let bcs = prm(HDR + 6u);
    let yrs = prm(HDR + 7u);
    let ycs = prm(HDR + 8u);
    let row0 = w.y * TM;
    let col0 = w.x * TM;
    // Invocation t computes rows tr..tr+4 and columns tc, tc+16, tc+32, tc+48: neighbouring
    // invocations read neighbouring words of the b tile and of y.
    let tr = (t / 16u) * 4u;
    let tc = t % 16u;
    // Four row accumulators of four columns each, all statically indexed (a private array
    // indexed in loops lands in scratch memory on some compilers, lavapipe's among them).
    var acc0 = vec4<T>(T(0));
    var acc1 = vec4<T>(T(0));
    var acc2 = vec4<T>(T(0));
    var acc3 = vec4<T>(T(0));
    for (var k0 = 0u; k0 < k; k0 += TK) {
        // Each invocation stages 4 elements of the a tile and 4 of the b tile; neighbouring
        // invocations load neighbouring elements (coalesced along k for a, n for b).
        for (var j = 0u; j < 4u; j++) {
            let e = j * 256u + t;
            let ar = e / TK;
            let ak = e % TK;
            var av = T(0);
            if (row0 + ar < m && k0 + ak < k) {
                av = ld_x0(o.x + (row0 + ar) * ars + (k0 + ak) * acs);
            }
            AS[e] = av;
            let bk = e / TM;
            let bc = e % TM;
            var bv = T(0);
            if (k0 + bk < k && col0 + bc < n) {
                bv = ld_x1(o.y + (k0 + bk) * brs + (col0 + bc) * bcs);
            }
            BS[e] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let bb = kk * TM + tc;
            let b4 = vec4<T>(BS[bb], BS[bb + 16u], BS[bb + 32u], BS[bb + 48u]);
            acc0 += AS[tr * TK + kk] * b4;
            acc1 += AS[(tr + 1u) * TK + kk] * b4;
            acc2 += AS[(tr + 2u) * TK + kk] * b4;
            acc3 += AS[(tr + 3u) * TK + kk] * b4;
        }
        workgroupBarrier();
    }
    let alpha = bitcast<T>(prm(5));
    let beta = bitcast<T>(prm(6));
    store_row(o.z, row0 + tr, col0 + tc, acc0, alpha, beta, m, n, yrs, ycs);
    store_row(o.z, row0 + tr + 1u, col0 + tc, acc1, alpha, beta, m, n, yrs, ycs);
    store_row(o.z, row0 + tr + 2u, col0 + tc, acc2, alpha, beta, m, n, yrs, ycs);
    store_row(o.z, row0 + tr + 3u, col0 + tc, acc3, alpha, beta, m, n, yrs, ycs);
}

fn store_row(base: u32, r: u32, c0: u32, acc: vec4<T>, alpha: T, beta: T, m: u32, n: u32, yrs: u32, ycs: u32) {
    if (r >= m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let c = c0 + 16u * j;
        if (c < n) {
            let yi = base + r * yrs + c * ycs;
            var v = alpha * acc[j];
            if (prm(7) != 0u) {
                v += beta * ld_y0(yi);
            }
            st_y0(yi, v);
        }
    }
}
