// copy, cast, fill, iota on strided views (elementwise parameter block, see common.wgsl).
// Operand 0 is the output y0, operand 1 the input x0.

//#if copy
@compute @workgroup_size(256)
fn copy_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    cp_x0_y0(offs(i, 1u), offs(i, 0u));
}
//#endif

//#if cast
@compute @workgroup_size(256)
fn cast_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    st_y0(offs(i, 0u), cast_x0_y0(ld_x0(offs(i, 1u))));
}
//#endif

//#if fill
// prm(2): the value's bits in the compute type.
@compute @workgroup_size(256)
fn fill_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    st_y0(offs(i, 0u), bitcast<TY0>(prm(2)));
}
//#endif

//#if iota
// prm(2), prm(3): start and step, bits in the compute type.
@compute @workgroup_size(256)
fn iota_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let start = bitcast<TY0>(prm(2));
    let step = bitcast<TY0>(prm(3));
    st_y0(offs(i, 0u), start + TY0(i) * step);
}
//#endif
