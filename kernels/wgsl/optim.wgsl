// Optimizer updates in place, one invocation per element, evaluating lantern::optim's composed
// update in its order (each scalar an f32, as the composed ops' wrapped scalars are).
//   adam_step_$T   ins [grad], outs [param, exp_avg, exp_avg_sq]
//   sgd_step_$T    ins [grad], outs [param, momentum_buffer]
//
// Parameter block: prm(0) elements, prm(1) grad offset, prm(2) param offset, prm(3) first
// state offset, prm(4) second state offset (Adam); from prm(5) the f32 bits of the scalars:
// Adam: decay_mul, l2, 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps, -lr / (1 - beta1^t);
// SGD: lr, momentum, 1 - dampening, weight_decay, nesterov (0 or 1, not float bits).

fn sc(i: u32) -> f32 {
    return bitcast<f32>(prm(5u + i));
}

//#if adam
@compute @workgroup_size(256)
fn adam_step_$T(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(gid, n);
    if (i >= prm(0)) {
        return;
    }
    var p = ld_y0(prm(2) + i);
    var g = ld_x0(prm(1) + i);
    if (sc(0u) != 1.0) {
        p = p * sc(0u);
    }
    if (sc(1u) != 0.0) {
        g = g + p * sc(1u);
    }
    var m = ld_y1(prm(3) + i);
    m = m + (g - m) * sc(2u);
    var v = ld_y2(prm(4) + i) * sc(3u);
    v = v + (g * sc(4u)) * g;
    let denom = sqrt(v) / sc(5u) + sc(6u);
    p = p + (m * sc(7u)) / denom;
    st_y0(prm(2) + i, p);
    st_y1(prm(3) + i, m);
    st_y2(prm(4) + i, v);
}
//#else
@compute @workgroup_size(256)
fn sgd_step_$T(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(gid, n);
    if (i >= prm(0)) {
        return;
    }
    let p = ld_y0(prm(2) + i);
    var d = ld_x0(prm(1) + i);
    if (sc(3u) != 0.0) {
        d = d + p * sc(3u);
    }
    let b = ld_y1(prm(3) + i) * sc(1u) + d * sc(2u);
    if (prm(9) == 1u) {
        d = d + b * sc(1u);
    } else {
        d = b;
    }
    st_y0(prm(2) + i, p + d * (-sc(0u)));
    st_y1(prm(3) + i, b);
}
//#endif
