// Random kernels from Philox 4x32-10, element i from counter (offset + i) under key seed:
// the same numbers as the CPU driver's `random` (lantern::rng). Compiled with -fmad=false
// so no multiply-add is fused where the CPU rounds twice.
//
//   uniform_{dtype}(Rnd p, T* y)     a = low, b = high
//   normal_{dtype}(Rnd p, T* y)      a = mean, b = std
//   bernoulli_{dtype}(Rnd p, T* y)   a = p
//
// y is contiguous. Uniform and Bernoulli are bit-identical to the CPU driver for every
// dtype; normal is bit-identical on the f32 path (f32, f16, bf16 and the ints), whose logf
// and cosf below are ports of the CPU's libm (FreeBSD msun), and within an ulp or two of it
// for f64, which uses CUDA's log and cos.

struct Rnd {
  u64 n;
  u64 seed;
  u64 offset;
  double a;
  double b;
};

struct Words { u32 w[4]; };

__device__ __forceinline__ Words philox_at(u64 seed, u64 offset, u64 i) {
  const u64 ctr = offset + i;
  u32 c0 = (u32)ctr, c1 = (u32)(ctr >> 32), c2 = 0, c3 = 0;
  u32 k0 = (u32)seed, k1 = (u32)(seed >> 32);
#pragma unroll
  for (int r = 0; r < 10; ++r) {
    const u32 lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
    const u32 lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
    const u32 n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  Words out;
  out.w[0] = c0;
  out.w[1] = c1;
  out.w[2] = c2;
  out.w[3] = c3;
  return out;
}

__device__ __forceinline__ float unit_f32(u32 w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }
// low + unit_f32(w) * range from partial products exact in f32, as lantern::rng::uniform_f32
// sums them (the same bits on every driver, fused multiply-adds or not).
__device__ __forceinline__ float uniform_draw(u32 w, float low, float range) {
  const u32 k = w >> 8;
  const float uh = (float)(k >> 12) * (1.0f / 4096.0f);
  const float ul = (float)(k & 0xfffu) * (1.0f / 16777216.0f);
  const float rh = __uint_as_float(__float_as_uint(range) & 0xfffff000u);
  const float rl = range - rh;
  const float v = low + uh * rh;
  const float v2 = v + (uh * rl + ul * rh);
  return v2 + ul * rl;
}
__device__ __forceinline__ double unit_f64(u32 hi, u32 lo) {
  const u64 bits = ((u64)hi << 21) ^ ((u64)lo >> 11);
  return (double)bits * (1.0 / 9007199254740992.0);
}

// libm's logf (FreeBSD e_logf.c), line for line.
__device__ float lm_logf(float x) {
  const float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f;
  const float lg1 = 0.66666662693f, lg2 = 0.40000972152f, lg3 = 0.28498786688f, lg4 = 0.24279078841f;
  u32 ix = __float_as_uint(x);
  int k = 0;
  if (ix < 0x00800000u || (ix >> 31) != 0) {
    if ((ix << 1) == 0) return -1.0f / (x * x);
    if ((ix >> 31) != 0) return __uint_as_float(0x7fc00000u);  // log(-x) = NaN
    k -= 25;
    x *= 33554432.0f;
    ix = __float_as_uint(x);
  } else if (ix >= 0x7f800000u) {
    return x;
  } else if (ix == 0x3f800000u) {
    return 0.0f;
  }
  ix += 0x3f800000u - 0x3f3504f3u;
  k += (int)(ix >> 23) - 0x7f;
  ix = (ix & 0x007fffffu) + 0x3f3504f3u;
  x = __uint_as_float(ix);
  const float f = x - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float w = z * z;
  const float t1 = w * (lg2 + w * lg4);
  const float t2 = z * (lg1 + w * lg3);
  const float r = t2 + t1;
  const float hfsq = 0.5f * f * f;
  const float dk = (float)k;
  return s * (hfsq + r) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
}

__device__ float lm_k_cosf(double x) {
  const double c0 = -0.499999997251031003120, c1 = 0.0416666233237390631894;
  const double c2 = -0.00138867637746099294692, c3 = 0.0000243904487962774090654;
  const double z = x * x, w = z * z, r = c2 + z * c3;
  return (float)(((1.0 + z * c0) + w * c1) + (w * z) * r);
}
__device__ float lm_k_sinf(double x) {
  const double s1 = -0.166666666416265235595, s2 = 0.0083333293858894631756;
  const double s3 = -0.000198393348360966317347, s4 = 0.0000027183114939898219064;
  const double z = x * x, w = z * z, r = s3 + z * s4, s = z * x;
  return (float)((x + s * (s1 + z * s2)) + s * w * r);
}
// libm's cosf (FreeBSD s_cosf.c) for |x| <= 9*pi/4, which covers every angle drawn here
// (2*pi*u with u < 1); larger arguments fall back to CUDA's cosf.
__device__ float lm_cosf(float x) {
  const double pio2 = 1.5707963267948966;
  const double c1pio2 = 1.0 * pio2, c2pio2 = 2.0 * pio2, c3pio2 = 3.0 * pio2, c4pio2 = 4.0 * pio2;
  const double x64 = (double)x;
  u32 ix = __float_as_uint(x);
  const bool sign = (ix >> 31) != 0;
  ix &= 0x7fffffffu;
  if (ix <= 0x3f490fdau) {
    if (ix < 0x39800000u) return 1.0f;
    return lm_k_cosf(x64);
  }
  if (ix <= 0x407b53d1u) {
    if (ix > 0x4016cbe3u) return -lm_k_cosf(sign ? x64 + c2pio2 : x64 - c2pio2);
    return sign ? lm_k_sinf(x64 + c1pio2) : lm_k_sinf(c1pio2 - x64);
  }
  if (ix <= 0x40e231d5u) {
    if (ix > 0x40afeddfu) return lm_k_cosf(sign ? x64 + c4pio2 : x64 - c4pio2);
    return sign ? lm_k_sinf(-x64 - c3pio2) : lm_k_sinf(x64 - c3pio2);
  }
  return cosf(x);
}

__device__ __forceinline__ float normal_f32_of(Words w) {
  const float u1 = ((float)(w.w[0] >> 8) + 1.0f) * (1.0f / 16777216.0f);
  const float u2 = unit_f32(w.w[1]);
  const float tau = __uint_as_float(0x40c90fdbu);
  return sqrtf(-2.0f * lm_logf(u1)) * lm_cosf(tau * u2);
}
__device__ __forceinline__ double normal_f64_of(Words w) {
  const double u1 = 1.0 - unit_f64(w.w[0], w.w[1]);
  const double u2 = unit_f64(w.w[2], w.w[3]);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

template <typename T> struct IsF64 { static const bool v = false; };
template <> struct IsF64<f64> { static const bool v = true; };

template <typename T> __device__ __forceinline__ void uniform_run(const Rnd& p, T* y) {
  LT_GRID_LOOP(i, p.n) {
    const Words w = philox_at(p.seed, p.offset, i);
    double v;
    if (IsF64<T>::v) {
      v = p.a + unit_f64(w.w[0], w.w[1]) * (p.b - p.a);
    } else {
      v = (double)uniform_draw(w.w[0], (float)p.a, (float)(p.b - p.a));
      if (v >= p.b) v = p.a;
    }
    // Rounding to the dtype (f16, bf16) can land on `high` too.
    T t = from_f64<T>(v);
    if (to_f64(t) >= p.b) t = from_f64<T>(p.a);
    y[i] = t;
  }
}
template <typename T> __device__ __forceinline__ void normal_run(const Rnd& p, T* y) {
  LT_GRID_LOOP(i, p.n) {
    const Words w = philox_at(p.seed, p.offset, i);
    const double z = IsF64<T>::v ? normal_f64_of(w) : (double)normal_f32_of(w);
    y[i] = from_f64<T>(p.a + p.b * z);
  }
}
template <typename T> __device__ __forceinline__ void bernoulli_run(const Rnd& p, T* y) {
  LT_GRID_LOOP(i, p.n) {
    const Words w = philox_at(p.seed, p.offset, i);
    const bool hit = IsF64<T>::v ? unit_f64(w.w[0], w.w[1]) < p.a : (double)unit_f32(w.w[0]) < p.a;
    y[i] = from_i64<T>(hit ? 1 : 0);
  }
}

#define RANDOM(T)                                                                 \
  extern "C" __global__ void uniform_##T(const Rnd p, T* y) { uniform_run<T>(p, y); } \
  extern "C" __global__ void normal_##T(const Rnd p, T* y) { normal_run<T>(p, y); } \
  extern "C" __global__ void bernoulli_##T(const Rnd p, T* y) { bernoulli_run<T>(p, y); }

#if LT_FOR(LT_F32)
RANDOM(f32)
#endif
#if LT_FOR(LT_F64)
RANDOM(f64)
#endif
#if LT_FOR(LT_F16)
RANDOM(f16)
#endif
#if LT_FOR(LT_BF16)
RANDOM(bf16)
#endif
#if LT_FOR(LT_I32)
RANDOM(i32)
#endif
#if LT_FOR(LT_I64)
RANDOM(i64)
#endif
#if LT_FOR(LT_I8)
RANDOM(i8)
#endif
#if LT_FOR(LT_U8)
RANDOM(u8)
#endif
#if LT_FOR(LT_BOOL)
RANDOM(bool)
#endif
