// Helpers every module includes (after the generated bindings and accessors).
//
// The parameter block: 64 words in a uniform buffer, read as prm(i) (P[i] in comments).
fn prm(i: u32) -> u32 {
    return P[i >> 2u][i & 3u];
}

// Parameter block for the strided elementwise kernels:
//   prm(0) numel, prm(1) rank r, prm(2..12) scalars (op specific), prm(12..12+r) dims (outer first),
//   then per operand k (outputs first, then inputs): prm(b) offset, prm(b+1..b+1+r) strides,
//   with b = 12 + r + k * (r + 1). Offsets and strides are in elements.

const WG: u32 = 256u;
const HDR: u32 = 12u;

// Sets bits of the device error flag; the driver reports them at the next read/synchronize.
fn fail(code: u32) {
    atomicOr(&ERR[0], code);
}

// The linear invocation index of a 1-D kernel dispatched as (x, y) workgroups
// (large dispatches spill into y: maxComputeWorkgroupsPerDimension is 65535).
fn linear_id(g: vec3u, n: vec3u) -> u32 {
    return g.y * n.x * WG + g.x;
}

// Element offset of linear index i in operand k of an elementwise parameter block.
fn offs(i: u32, k: u32) -> u32 {
    let r = prm(1);
    let b = HDR + r + k * (r + 1u);
    // Coalesced contiguous views are rank 1: no division at all.
    if (r <= 1u) {
        return prm(b) + i * prm(b + 1u);
    }
    var off = prm(b);
    var rem = i;
    for (var d = r; d > 1u; d--) {
        let n = prm(HDR + d - 1u);
        off += (rem % n) * prm(b + d);
        rem /= n;
    }
    // The outermost coordinate needs no modulo.
    return off + rem * prm(b + 1u);
}

// Read from private variables so the bitcasts are not constant-folded: a const-expression
// that evaluates to inf or NaN is a shader-creation error in WGSL, which Chromium's Tint
// enforces (naga does not), so browsers rejected every kernel that includes this file.
var<private> F32_INF_BITS: u32 = 0x7f800000u;
var<private> F32_NAN_BITS: u32 = 0x7fc00000u;

fn f32_inf() -> f32 {
    return bitcast<f32>(F32_INF_BITS);
}

fn f32_nan() -> f32 {
    return bitcast<f32>(F32_NAN_BITS);
}

fn is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// f32 -> bfloat16 bits, round to nearest even (as the `half` crate), NaN stays NaN.
fn bf16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    if (is_nan(x)) {
        return (b >> 16u) | 0x40u;
    }
    return ((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) & 0xffffu;
}

// The smallest and largest values of each compute type (reduction identities).
fn lowest_f32() -> f32 {
    return -f32_inf();
}
fn highest_f32() -> f32 {
    return f32_inf();
}
fn lowest_i32() -> i32 {
    return -2147483647i - 1i;
}
fn highest_i32() -> i32 {
    return 2147483647i;
}
fn lowest_u32() -> u32 {
    return 0u;
}
fn highest_u32() -> u32 {
    return 0xffffffffu;
}

// f32 -> IEEE half bits, round to nearest even (as the `half` crate; `pack2x16float` leaves
// the rounding to the implementation, and lavapipe's does not tie to even).
fn f16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sign = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) {
        return sign | 0x7e00u | ((a >> 13u) & 0x3ffu);
    }
    if (a >= 0x477ff000u) {
        return sign | 0x7c00u;
    }
    if (a >= 0x38800000u) {
        let r = a - 0x38000000u;
        return sign | ((r + 0xfffu + ((r >> 13u) & 1u)) >> 13u);
    }
    if (a <= 0x33000000u) {
        return sign;
    }
    let shift = 126u - (a >> 23u);
    let m = (a & 0x7fffffu) | 0x800000u;
    let q = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    var r = q;
    if (rem > half || (rem == half && (q & 1u) == 1u)) {
        r += 1u;
    }
    return sign | r;
}
