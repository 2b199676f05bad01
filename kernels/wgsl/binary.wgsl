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
// A positive number (hi·2^32 + lo)·2^e with hi >= 2^31: 64 bits of precision in integers,
// whose arithmetic is exact on every device (an fma's product need not be: lavapipe's is not).
struct Wide {
    hi: u32,
    lo: u32,
    e: i32,
}

// A normal f32 x > 0.
fn wide(x: f32) -> Wide {
    let b = bitcast<u32>(x);
    return Wide(((b & 0x7fffffu) | 0x800000u) << 8u, 0u, i32(b >> 23u) - 190);
}

// The 64-bit product of two words as (high, low).
fn mul_words(a: u32, b: u32) -> vec2u {
    let a1 = a >> 16u;
    let a0 = a & 0xffffu;
    let b1 = b >> 16u;
    let b0 = b & 0xffffu;
    let lo = a0 * b0;
    let m1 = a1 * b0;
    let m2 = a0 * b1;
    let t = (lo >> 16u) + (m1 & 0xffffu) + (m2 & 0xffffu);
    return vec2u(a1 * b1 + (m1 >> 16u) + (m2 >> 16u) + (t >> 16u), (t << 16u) | (lo & 0xffffu));
}

// The top 64 bits of the 128-bit product (truncated: under 2^-62 relative).
fn wide_mul(a: Wide, b: Wide) -> Wide {
    let hh = mul_words(a.hi, b.hi);
    let hl = mul_words(a.hi, b.lo);
    let lh = mul_words(a.lo, b.hi);
    let ll = mul_words(a.lo, b.lo).x;
    // Words 1, 2, 3 of the product with their carries.
    let s = hl.y + lh.y;
    var c = select(0u, 1u, s < hl.y);
    let w1 = s + ll;
    c += select(0u, 1u, w1 < s);
    let t = hh.y + hl.x;
    var c2 = select(0u, 1u, t < hh.y);
    let t2 = t + lh.x;
    c2 += select(0u, 1u, t2 < t);
    let w2 = t2 + c;
    c2 += select(0u, 1u, w2 < t2);
    let w3 = hh.x + c2;
    if (w3 >= 0x80000000u) {
        return Wide(w3, w2, a.e + b.e + 64);
    }
    return Wide((w3 << 1u) | (w2 >> 31u), (w2 << 1u) | (w1 >> 31u), a.e + b.e + 63);
}

// 1 / a to 31 bits (plenty for one f32 rounding): floor(2^63 / hi) by long division.
fn wide_recip(a: Wide) -> Wide {
    var q = 0xffffffffu;
    if (a.hi != 0x80000000u) {
        var rem = 0x80000000u;
        q = 0u;
        for (var i = 0u; i < 32u; i++) {
            let top = rem >> 31u;
            rem = rem << 1u;
            q = q << 1u;
            if (top == 1u || rem >= a.hi) {
                rem = rem - a.hi;
                q = q | 1u;
            }
        }
    }
    return Wide(q, 0u, -127 - a.e);
}

// Rounded to the nearest f32 (ties away from zero).
fn wide_f32(a: Wide) -> f32 {
    var r = (a.hi >> 8u) + ((a.hi >> 7u) & 1u);
    var e = a.e + 40;
    if (r == 0x1000000u) {
        r = 0x800000u;
        e += 1;
    }
    let biased = e + 150;
    if (biased < 1 || biased > 254) {
        return ldexp(f32(r), e);
    }
    return bitcast<f32>((u32(biased) << 23u) | (r & 0x7fffffu));
}

// m^e (or m^-e with `recip`) for a normal m > 0 and a result about in the normal range, by
// square-and-multiply: at most 64 products of 64 bits (squaring doubles a relative error, so
// 2^32 · 2^-62 stays far below an f32 ulp), where exp2(e · log2(m)) multiplies log2's error
// by e (2^100 came out 1e-5 off on NVIDIA).
fn pow_whole(m: f32, e: u32, recip: bool) -> f32 {
    var r = Wide(0x80000000u, 0u, -63);
    var p = wide(m);
    var k = e;
    loop {
        if ((k & 1u) == 1u) {
            r = wide_mul(r, p);
        }
        k >>= 1u;
        if (k == 0u) {
            break;
        }
        p = wide_mul(p, p);
    }
    if (recip) {
        r = wide_recip(r);
    }
    return wide_f32(r);
}

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
    } else if (whole && abs(b) < 4294967296.0 && m >= 1.17549435e-38 && abs(b * log2(m)) < 125.0) {
        r = pow_whole(m, u32(abs(b)), b < 0.0);
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
