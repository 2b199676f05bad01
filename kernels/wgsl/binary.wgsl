// Elementwise ops of two operands (broadcast by zero strides) on strided views.
// Operand 0 is y0, 1 is x0 (lhs), 2 is x1 (rhs). Comparisons (module flag `cmp`) output bool.

struct At {
    ok: bool,
    y: u32,
    a: u32,
    b: u32,
}

fn at(g: vec3u, n: vec3u) -> At {
    let i = linear_id(g, n);
    if (i >= prm(0)) {
        return At(false, 0u, 0u, 0u);
    }
    return At(true, offs(i, 0u), offs(i, 1u), offs(i, 2u));
}
//#if cmp
// naga lowers float `!=` to an ordered comparison (false when an operand is NaN); IEEE and
// the CPU driver say NaN != anything.
//#if float
fn ne_(a: T, b: T) -> bool {
    return a != b || is_nan(a) || is_nan(b);
}
//#else
fn ne_(a: T, b: T) -> bool {
    return a != b;
}
//#endif
@compute @workgroup_size(256)
fn eq_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(0u, 1u, a == b)); } }
@compute @workgroup_size(256)
fn ne_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(0u, 1u, ne_(a, b))); } }
@compute @workgroup_size(256)
fn lt_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(0u, 1u, a < b)); } }
@compute @workgroup_size(256)
fn le_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(0u, 1u, a <= b)); } }
@compute @workgroup_size(256)
fn gt_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(0u, 1u, a > b)); } }
@compute @workgroup_size(256)
fn ge_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(0u, 1u, a >= b)); } }
//#else
//#if float
// libm's powf special cases (C99 F.9.4.4), then pow of the magnitude with the sign of an odd
// integer power: the hardware pow is exp2(b * log2(a)), undefined for a <= 0.
fn pow_(a: f32, b: f32) -> f32 {
    if (b == 0.0 || a == 1.0) {
        return 1.0;
    }
    if (is_nan(a) || is_nan(b)) {
        return f32_nan();
    }
    let m = abs(a);
    let inf = f32_inf();
    if (abs(b) == inf) {
        // |a| == 1 (a == -1 here): 1; otherwise 0 or inf by which side of 1 |a| lies.
        if (m == 1.0) {
            return 1.0;
        }
        return select(0.0, inf, (m > 1.0) == (b > 0.0));
    }
    let whole = trunc(b) == b;
    let odd = whole && abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
    let neg = (bitcast<u32>(a) >> 31u) == 1u;
    var r: f32;
    if (m == inf) {
        r = select(0.0, inf, b > 0.0);
    } else if (m == 0.0) {
        r = select(0.0, inf, b < 0.0);
    } else if (m == 1.0) {
        // a == -1 with a whole exponent (a fractional one is NaN below).
        r = 1.0;
    } else {
        r = pow(m, b);
    }
    if (neg && !whole && m != inf && m != 0.0) {
        return f32_nan();
    }
    if (odd && neg) {
        r = -r;
    }
    return r;
}

// a / b rounded to nearest, as IEEE division on the CPU gives it. GPU division may be off by
// a few ulps (Vulkan allows 2.5), which moves floor(a / b) across an integer; one correction
// step with the residual a - q*b (exact in an fma) gives the correctly rounded quotient.
fn div_rn(a: f32, b: f32) -> f32 {
    let q = a / b;
    let inf = f32_inf();
    if (abs(q) == inf || abs(b) == inf || b == 0.0 || is_nan(q)) {
        return q;
    }
    return fma(fma(-q, b, a), 1.0 / b, q);
}

// Python-style remainder (the sign of the divisor) of the exact C fmod: a - t*b with
// t = trunc(a / b) is exact in an fma, and a t one off shows as a residual of the wrong sign
// or size, corrected by one |b|.
fn rem_(a: f32, b: f32) -> f32 {
    let inf = f32_inf();
    if (b == 0.0 || is_nan(a) || is_nan(b) || abs(a) == inf) {
        return f32_nan();
    }
    var r = a;
    if (abs(b) != inf) {
        let t = trunc(div_rn(a, b));
        r = fma(-t, b, a);
        let step = select(-abs(b), abs(b), a >= 0.0);
        if (r != 0.0 && ((r < 0.0) != (a < 0.0))) {
            r = r + step;
        } else if (abs(r) >= abs(b)) {
            r = r - step;
        }
        if (r == 0.0) {
            // fmod's zero has a's sign.
            r = a * 0.0;
        }
    }
    if (r != 0.0 && ((r < 0.0) != (b < 0.0))) {
        return r + b;
    }
    return r;
}

@compute @workgroup_size(256)
fn add_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a + b); } }
@compute @workgroup_size(256)
fn sub_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a - b); } }
@compute @workgroup_size(256)
fn mul_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a * b); } }
@compute @workgroup_size(256)
fn div_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a / b); } }
@compute @workgroup_size(256)
fn pow_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, pow_(a, b)); } }
@compute @workgroup_size(256)
fn rem_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, rem_(a, b)); } }
@compute @workgroup_size(256)
fn floor_div_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, floor(div_rn(a, b))); } }
@compute @workgroup_size(256)
fn maximum_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(b, a, is_nan(a) || a > b)); } }
@compute @workgroup_size(256)
fn minimum_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, select(b, a, is_nan(a) || a < b)); } }
//#endif
//#if int
// Division by zero sets the error flag (the CPU driver returns an error) and yields 0.
fn div_(a: T, b: T) -> T {
    if (b == T(0)) {
        fail(2u);
        return T(0);
    }
    return a / b;
}

fn rem_(a: T, b: T) -> T {
    if (b == T(0)) {
        fail(2u);
        return T(0);
    }
    let r = a % b;
//#if sint
    if (r != 0 && ((r < 0) != (b < 0))) {
        return r + b;
    }
//#endif
    return r;
}

fn floor_div_(a: T, b: T) -> T {
    if (b == T(0)) {
        fail(2u);
        return T(0);
    }
    let q = a / b;
//#if sint
    if (a % b != 0 && ((a < 0) != (b < 0))) {
        return q - 1;
    }
//#endif
    return q;
}

// Wrapping integer power by squaring; a negative exponent sets the error flag.
fn pow_(a: T, b: T) -> T {
    if (b < T(0)) {
        fail(8u);
        return T(0);
    }
    var r = T(1);
    var base = a;
    var e = u32(b);
    while (e != 0u) {
        if ((e & 1u) == 1u) {
            r *= base;
        }
        base *= base;
        e >>= 1u;
    }
    return r;
}

@compute @workgroup_size(256)
fn add_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a + b); } }
@compute @workgroup_size(256)
fn sub_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a - b); } }
@compute @workgroup_size(256)
fn mul_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a * b); } }
@compute @workgroup_size(256)
fn div_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, div_(a, b)); } }
@compute @workgroup_size(256)
fn pow_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, pow_(a, b)); } }
@compute @workgroup_size(256)
fn rem_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, rem_(a, b)); } }
@compute @workgroup_size(256)
fn floor_div_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, floor_div_(a, b)); } }
@compute @workgroup_size(256)
fn maximum_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, max(a, b)); } }
@compute @workgroup_size(256)
fn minimum_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, min(a, b)); } }
@compute @workgroup_size(256)
fn bitwise_and_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a & b); } }
@compute @workgroup_size(256)
fn bitwise_or_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a | b); } }
@compute @workgroup_size(256)
fn bitwise_xor_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a ^ b); } }
//#endif
//#if bool
@compute @workgroup_size(256)
fn logical_and_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a & b); } }
@compute @workgroup_size(256)
fn logical_or_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a | b); } }
@compute @workgroup_size(256)
fn logical_xor_$T(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) { let u = at(g, n); if (u.ok) { let a = ld_x0(u.a); let b = ld_x1(u.b); st_y0(u.y, a ^ b); } }
//#endif
//#endif
