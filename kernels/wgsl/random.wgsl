// uniform, normal and bernoulli from Philox 4x32-10 (lantern::rng): element i uses counter
// offset + i under key seed, and the f32 formulas of the CPU driver, so uniform and bernoulli
// give the CPU's numbers bit for bit; normal differs only by the last bits of log/cos/sqrt.
//
// Parameter block: prm(0) numel, prm(1) rank r, prm(2..4) seed (lo, hi), prm(4..6) offset (lo, hi),
// prm(7), prm(8), prm(9) distribution parameters (see each entry); then the elementwise layout
// (operand 0 = y0).

// The high word of a 32 x 32 -> 64-bit product (WGSL has no 64-bit integers).
fn mulhi(a: u32, b: u32) -> u32 {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    return a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}

fn philox(i: u32) -> vec4u {
    let lo = prm(4) + i;
    let hi = prm(5) + select(0u, 1u, lo < i);
    var c = vec4u(lo, hi, 0u, 0u);
    var k = vec2u(prm(2), prm(3));
    for (var r = 0; r < 10; r++) {
        let h0 = mulhi(0xD2511F53u, c.x);
        let l0 = 0xD2511F53u * c.x;
        let h1 = mulhi(0xCD9E8D57u, c.z);
        let l1 = 0xCD9E8D57u * c.z;
        c = vec4u(h1 ^ c.y ^ k.x, l1, h0 ^ c.w ^ k.y, l0);
        k += vec2u(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

fn unit(w: u32) -> f32 {
    return f32(w >> 8u) * (1.0 / 16777216.0);
}

// low + unit(w) * range from partial products exact in f32, as lantern::rng::uniform_f32
// sums them: the same bits whether or not the compiler fuses multiply-adds.
fn uniform_draw(w: u32, low: f32, range: f32) -> f32 {
    let k = w >> 8u;
    let uh = f32(k >> 12u) * (1.0 / 4096.0);
    let ul = f32(k & 0xfffu) * (1.0 / 16777216.0);
    let rh = bitcast<f32>(bitcast<u32>(range) & 0xfffff000u);
    let rl = range - rh;
    let v = low + uh * rh;
    let v2 = v + (uh * rl + ul * rh);
    return v2 + ul * rl;
}

// prm(7) low, prm(8) high - low, prm(9) the smallest f32 >= high (all f32 bits).
@compute @workgroup_size(256)
fn uniform_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let low = bitcast<f32>(prm(7));
    var v = uniform_draw(philox(i).x, low, bitcast<f32>(prm(8)));
    let top = bitcast<f32>(prm(9));
    if (v >= top) {
        v = low;
    }
    // Rounding to the dtype can land on `high` too: the CPU maps that to `low` as well.
//#if f16
    if (unpack2x16float(f16_bits(v)).x >= top) {
        v = low;
    }
//#endif
//#if bf16
    if (bitcast<f32>(bf16_bits(v) << 16u) >= top) {
        v = low;
    }
//#endif
    st_y0(offs(i, 0u), TY0(v));
}

// prm(7) mean, prm(8) std (f32 bits).
@compute @workgroup_size(256)
fn normal_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let w = philox(i);
    let u1 = (f32(w.x >> 8u) + 1.0) * (1.0 / 16777216.0);
    let u2 = unit(w.y);
    let z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    st_y0(offs(i, 0u), TY0(bitcast<f32>(prm(7)) + bitcast<f32>(prm(8)) * z));
}

// prm(7): the count of 24-bit draws k with k / 2^24 < p, so the test is exact integer math.
@compute @workgroup_size(256)
fn bernoulli_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return;
    }
    let hit = (philox(i).x >> 8u) < prm(7);
    st_y0(offs(i, 0u), select(TY0(0), TY0(1), hit));
}
