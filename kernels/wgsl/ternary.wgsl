// where: y0 = x0 ? x1 : x2 (x0 bool), strided and broadcast views.
// Operands: 0 = y0, 1 = x0 (cond), 2 = x1, 3 = x2.

@compute @workgroup_size(256)
fn where_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let c = ld_x0(offs(i, 1u));
    let a = ld_x1(offs(i, 2u));
    let b = ld_x2(offs(i, 3u));
    st_y0(offs(i, 0u), select(b, a, c != 0u));
}
