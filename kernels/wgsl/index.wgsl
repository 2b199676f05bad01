// gather, index_select (flag `gather`) and scatter_add (flag `scatter`) along one dim.
// Indices (x1) are int64 (the driver refuses others, as the CPU does; the modules also build
// for int32); negative ones wrap once, out-of-range ones set the error
// flag (reported at the next read) and are clamped, so a bad index never faults the device.
//
// Parameter block: prm(0) numel (of the iterated shape), prm(1) rank r, prm(2) dim, prm(3) size of
// the indexed dim, prm(4) the error bits naming the op (err::GATHER, ...); then the elementwise layout over the iterated shape (y for gather, the
// index for scatter_add): operand 0 = y0, 1 = x0, 2 = x1 (index_select passes the 1-D index
// with stride 0 everywhere but `dim`). The indexed operand's stride at `dim` is applied to
// the index value instead of the coordinate.

fn wrap_index(v: i32, size: u32) -> u32 {
    var w = v;
    if (w < 0) {
        w += i32(size);
    }
    if (w < 0 || u32(w) >= size) {
        fail(1u | prm(4));
        return 0u;
    }
    return u32(w);
}

// Offset in operand k of linear index i with the coordinate at `dim` replaced by j.
fn offs_at(i: u32, k: u32, j: u32) -> u32 {
    let r = prm(1);
    let dim = prm(2);
    let b = HDR + r + k * (r + 1u);
    var off = prm(b);
    var rem = i;
    for (var d = r; d > 0u; d--) {
        let n = prm(HDR + d - 1u);
        var c = rem % n;
        rem /= n;
        if (d - 1u == dim) {
            c = j;
        }
        off += c * prm(b + d);
    }
    return off;
}

//#if gather
@compute @workgroup_size(256)
fn gather_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let j = wrap_index(i32(ld_x1(offs(i, 2u))), prm(3));
    cp_x0_y0(offs_at(i, 1u, j), offs(i, 0u));
}
//#endif

//#if scatter
@compute @workgroup_size(256)
fn scatter_add_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let j = wrap_index(i32(ld_x1(offs(i, 2u))), prm(3));
    add_y0(offs_at(i, 0u, j), ld_x0(offs(i, 1u)));
}
//#endif
