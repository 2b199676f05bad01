// cumsum and cumprod along one dim: one invocation per row, accumulating in the compute type.
//
// Parameter block: prm(0) rows, prm(1) rank r of the other dims, prm(2) length of the scanned dim,
// prm(3) x stride and prm(4) y stride along it; then the elementwise layout over the other dims
// (operand 0 = y0, 1 = x0).

//#if bool
fn scan_add(a: T, b: T) -> T {
    return select(0u, 1u, (a + b) != 0u);
}
//#else
fn scan_add(a: T, b: T) -> T {
    return a + b;
}
//#endif

@compute @workgroup_size(256)
fn cumsum_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let row = linear_id(g, n);
    if (row >= prm(0)) {
        return;
    }
    let yb = offs(row, 0u);
    let xb = offs(row, 1u);
    var acc = T(0);
    for (var i = 0u; i < prm(2); i++) {
        acc = scan_add(acc, ld_x0(xb + i * prm(3)));
        st_y0(yb + i * prm(4), acc);
    }
}

@compute @workgroup_size(256)
fn cumprod_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let row = linear_id(g, n);
    if (row >= prm(0)) {
        return;
    }
    let yb = offs(row, 0u);
    let xb = offs(row, 1u);
    var acc = T(1);
    for (var i = 0u; i < prm(2); i++) {
        acc *= ld_x0(xb + i * prm(3));
        st_y0(yb + i * prm(4), acc);
    }
}
