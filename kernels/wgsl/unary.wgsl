// Elementwise ops of one operand on strided views (elementwise parameter block).
// Operand 0 is y0, operand 1 is x0. Floats compute in f32 (f16/bf16 round on store).

struct At {
    ok: bool,
    y: u32,
    x: u32,
}

fn at(g: vec3u, n: vec3u) -> At {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return At(false, 0u, 0u);
    }
    return At(true, offs(i, 0u), offs(i, 1u));
}

//#if float
// e^x - 1 without cancellation near 0 (Taylor below 0.5, where its error is < 1e-8).
fn expm1_(x: f32) -> f32 {
    if (abs(x) < 0.5) {
        return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0
            + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0))))))));
    }
    return exp(x) - 1.0;
}

// ln(1 + x), Kahan's trick: exact near 0.
fn log1p_(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) {
        return x;
    }
    if (abs(x) > 0.5) {
        return log(u);
    }
    return log(u) * x / (u - 1.0);
}

fn tanh_(x: f32) -> f32 {
    let a = abs(x);
    if (a < 0.55) {
        let e = expm1_(2.0 * x);
        return e / (e + 2.0);
    }
    if (a > 10.0) {
        return sign(x);
    }
    let e = exp(2.0 * a);
    return sign(x) * (1.0 - 2.0 / (e + 1.0));
}

// erf: its Maclaurin series below 1 (relative error < 1e-7), Abramowitz & Stegun 7.1.26
// above (absolute error < 1.5e-7, where erf > 0.84).
fn erf_(x: f32) -> f32 {
    let a = abs(x);
    if (a < 1.0) {
        let z = x * x;
        var term = x;
        var sum = x;
        for (var k = 1; k < 13; k++) {
            let kf = f32(k);
            term = -term * z / kf;
            sum += term / (2.0 * kf + 1.0);
        }
        return sum * 1.1283791670955126;
    }
    if (a > 4.0) {
        return sign(x);
    }
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
        + t * 1.061405429))));
    return sign(x) * (1.0 - p * exp(-a * a));
}

fn fsign(x: f32) -> f32 {
    return select(select(x, -1.0, x < 0.0), 1.0, x > 0.0);
}

@compute @workgroup_size(256)
fn neg_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, -ld_x0(u.x)); } }
@compute @workgroup_size(256)
fn abs_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, abs(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn sign_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, fsign(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn recip_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, 1.0 / ld_x0(u.x)); } }
@compute @workgroup_size(256)
fn sqrt_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, sqrt(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn rsqrt_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, 1.0 / sqrt(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn exp_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, exp(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn exp2_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, exp2(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn expm1_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, expm1_(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn log_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, log(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn log2_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, log2(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn log1p_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, log1p_(ld_x0(u.x))); } }
// GPU sin and cos are accurate near [-pi, pi] only (Vulkan bounds their error there): reduce
// by 2*pi first, Cody-Waite style, with 2*pi split in two f32 parts and exact fma products.
fn reduce_2pi(x: f32) -> f32 {
    if (abs(x) <= 3.0 || abs(x) >= 16777216.0) {
        return x;
    }
    let k = round(x * 0.15915494309189535);
    return fma(-k, -1.7484556e-7, fma(-k, 6.2831854820251465, x));
}

@compute @workgroup_size(256)
fn sin_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, sin(reduce_2pi(ld_x0(u.x)))); } }
@compute @workgroup_size(256)
fn cos_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, cos(reduce_2pi(ld_x0(u.x)))); } }
@compute @workgroup_size(256)
fn tanh_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, tanh_(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn erf_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, erf_(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn floor_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, floor(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn ceil_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, ceil(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn round_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, round(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn trunc_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, trunc(ld_x0(u.x))); } }
//#endif

//#if sint
@compute @workgroup_size(256)
fn neg_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, -ld_x0(u.x)); } }
@compute @workgroup_size(256)
fn abs_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, abs(ld_x0(u.x))); } }
@compute @workgroup_size(256)
fn sign_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, sign(ld_x0(u.x))); } }
//#endif

//#if uint
@compute @workgroup_size(256)
fn neg_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, 0u - ld_x0(u.x)); } }
@compute @workgroup_size(256)
fn sign_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, select(0u, 1u, ld_x0(u.x) > 0u)); } }
//#endif

//#if bool
@compute @workgroup_size(256)
fn logical_not_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, 1u - ld_x0(u.x)); } }
//#endif

//#if int|bool
// Rounding an integer (and |x| of unsigned or bool) is the identity.
@compute @workgroup_size(256)
fn identity_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { st_y0(u.y, ld_x0(u.x)); } }
//#endif
