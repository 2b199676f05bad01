// Shared by every CUDA kernel group: element types, conversions that match the CPU driver
// bit for bit, strided indexing and the device error flag. The CUDA driver prepends this
// file to each group's source before NVRTC compiles it (no #include, no CUDA headers: the
// sources compile with NVRTC alone).
//
// Kernel names are `{op}_{dtype}` with Lantern's short dtype names, which are also the C
// type names below: f32 f64 f16 bf16 i32 i64 u8 i8 bool.
//
// A group compiles one dtype at a time when the driver defines LT_ONLY to one of the LT_*
// codes below (LT_FOR(code) is then true only for it); without LT_ONLY every dtype is built,
// which is what the CPU-side NVRTC check does.

typedef unsigned char u8;
typedef signed char i8;
typedef int i32;
typedef long long i64;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned short u16;
typedef float f32;
typedef double f64;
struct __align__(2) f16 { u16 x; };
struct __align__(2) bf16 { u16 x; };

#define LT_BOOL 0
#define LT_U8 1
#define LT_I8 2
#define LT_I32 3
#define LT_I64 4
#define LT_F16 5
#define LT_BF16 6
#define LT_F32 7
#define LT_F64 8
#ifdef LT_ONLY
#define LT_FOR(code) (LT_ONLY == (code))
#else
#define LT_FOR(code) 1
#endif

// Device error flag bits (DESIGN.md, Errors: faults are deferred to synchronize/read).
#define LT_ERR_GATHER 1u
#define LT_ERR_INDEX_SELECT 2u
#define LT_ERR_SCATTER_ADD 4u
#define LT_ERR_DIV_ZERO 8u
#define LT_ERR_NEG_POW 16u

__device__ __forceinline__ void lt_flag(u32* err, u32 bit) {
  if ((*(volatile u32*)err & bit) == 0) atomicOr(err, bit);
}

#define LT_MAX_DIMS 8
#define LT_GRID_LOOP(i, n)                                                        \
  for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (u64)(n);         \
       i += (u64)gridDim.x * blockDim.x)

// ---------------------------------------------------------------- 16-bit floats
__device__ __forceinline__ float f16_to_f32(f16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.x));
  return f;
}
__device__ __forceinline__ f16 f32_to_f16(float f) {
  f16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.x) : "f"(f));
  return h;
}
// f64 -> f16 as the CPU driver does it: `half::f16::from_f64` on x86-64 with F16C (every
// machine Lantern's CI and GPU hosts run on) rounds to f32 first, then to f16. Its other
// paths (no F16C, no_std) truncate the f64 instead; see the CUDA issue note.
__device__ __forceinline__ f16 f64_to_f16(double d) { return f32_to_f16((float)d); }
__device__ __forceinline__ float bf16_to_f32(bf16 h) {
  return __uint_as_float(((u32)h.x) << 16);
}
// Round to nearest even; NaN stays a (quiet) NaN, as the `half` crate does.
__device__ __forceinline__ bf16 f32_to_bf16(float f) {
  u32 x = __float_as_uint(f);
  bf16 r;
  if ((x & 0x7fffffffu) > 0x7f800000u) {
    r.x = (u16)((x >> 16) | 0x0040u);
    return r;
  }
  u32 round = 0x8000u;
  if ((x & round) != 0 && (x & (3u * round - 1u)) != 0) {
    r.x = (u16)((x >> 16) + 1u);
  } else {
    r.x = (u16)(x >> 16);
  }
  return r;
}
// f64 -> bf16 exactly as `half::bf16::from_f64` (the CPU driver's conversion): the low 32
// bits of the f64 are dropped first, then the rest rounds to nearest even. That is not
// always the correctly rounded result (the dropped bits can break a tie), but it is the
// CPU's, on every platform.
__device__ __forceinline__ bf16 f64_to_bf16(double d) {
  const u64 val = (u64)__double_as_longlong(d);
  const u32 x = (u32)(val >> 32);
  const u32 sign = x & 0x80000000u, exp = x & 0x7FF00000u, man = x & 0x000FFFFFu;
  bf16 r;
  if (exp == 0x7FF00000u) {
    const u32 nan_bit = (man == 0 && (u32)val == 0) ? 0u : 0x0040u;
    r.x = (u16)((sign >> 16) | 0x7F80u | nan_bit | (man >> 13));
    return r;
  }
  const u32 half_sign = sign >> 16;
  const i64 half_exp = (i64)(exp >> 20) - 1023 + 127;
  if (half_exp >= 0xFF) {
    r.x = (u16)(half_sign | 0x7F80u);
    return r;
  }
  if (half_exp <= 0) {
    if (7 - half_exp > 21) {
      r.x = (u16)half_sign;
      return r;
    }
    const u32 m = man | 0x00100000u;
    u32 half_man = m >> (u32)(14 - half_exp);
    const u32 round_bit = 1u << (u32)(13 - half_exp);
    if ((m & round_bit) != 0 && (m & (3u * round_bit - 1u)) != 0) half_man += 1;
    r.x = (u16)(half_sign | half_man);
    return r;
  }
  const u32 hexp = ((u32)half_exp) << 7, hman = man >> 13, round_bit = 0x00001000u;
  const u32 bits = half_sign | hexp | hman;
  r.x = (u16)(((man & round_bit) != 0 && (man & (3u * round_bit - 1u)) != 0) ? bits + 1u : bits);
  return r;
}

// ---------------------------------------------------------------- conversions
// Cv<T>: the compute type C of an element type (f32 for f16/bf16) and the conversions.
template <typename T> struct Cv {
  typedef T C;
  static __device__ __forceinline__ C in(T v) { return v; }
  static __device__ __forceinline__ T out(C v) { return v; }
};
template <> struct Cv<f16> {
  typedef float C;
  static __device__ __forceinline__ float in(f16 v) { return f16_to_f32(v); }
  static __device__ __forceinline__ f16 out(float v) { return f32_to_f16(v); }
};
template <> struct Cv<bf16> {
  typedef float C;
  static __device__ __forceinline__ float in(bf16 v) { return bf16_to_f32(v); }
  static __device__ __forceinline__ bf16 out(float v) { return f32_to_bf16(v); }
};

// Rounds a compute value through T (identity for f32/f64): composed ops round each step
// exactly where the CPU driver does.
template <typename T> __device__ __forceinline__ typename Cv<T>::C rt(typename Cv<T>::C v) {
  return Cv<T>::in(Cv<T>::out(v));
}

template <typename T> struct Info;
template <> struct Info<bool> { static const bool is_float = false; static const bool is_signed = false; typedef u8 U; };
template <> struct Info<u8> { static const bool is_float = false; static const bool is_signed = false; typedef u8 U; };
template <> struct Info<i8> { static const bool is_float = false; static const bool is_signed = true; typedef u8 U; };
template <> struct Info<i32> { static const bool is_float = false; static const bool is_signed = true; typedef u32 U; };
template <> struct Info<i64> { static const bool is_float = false; static const bool is_signed = true; typedef u64 U; };
template <> struct Info<f16> { static const bool is_float = true; static const bool is_signed = true; typedef u16 U; };
template <> struct Info<bf16> { static const bool is_float = true; static const bool is_signed = true; typedef u16 U; };
template <> struct Info<f32> { static const bool is_float = true; static const bool is_signed = true; typedef u32 U; };
template <> struct Info<f64> { static const bool is_float = true; static const bool is_signed = true; typedef u64 U; };

// The CPU driver's `Num::to_f64` / `to_i64` / `from_f64` / `from_i64`, per type.
__device__ __forceinline__ double to_f64(bool v) { return v ? 1.0 : 0.0; }
__device__ __forceinline__ double to_f64(u8 v) { return (double)v; }
__device__ __forceinline__ double to_f64(i8 v) { return (double)v; }
__device__ __forceinline__ double to_f64(i32 v) { return (double)v; }
__device__ __forceinline__ double to_f64(i64 v) { return (double)v; }
__device__ __forceinline__ double to_f64(f16 v) { return (double)f16_to_f32(v); }
__device__ __forceinline__ double to_f64(bf16 v) { return (double)bf16_to_f32(v); }
__device__ __forceinline__ double to_f64(f32 v) { return (double)v; }
__device__ __forceinline__ double to_f64(f64 v) { return v; }

// Rust's saturating float -> i64 (`as`): NaN -> 0.
__device__ __forceinline__ i64 sat_i64(double d) {
  if (d != d) return 0;
  if (d >= 9223372036854775807.0) return 9223372036854775807ll;
  if (d <= -9223372036854775808.0) return (i64)(-9223372036854775807ll - 1);
  return (i64)d;
}

__device__ __forceinline__ i64 to_i64(bool v) { return v ? 1 : 0; }
__device__ __forceinline__ i64 to_i64(u8 v) { return (i64)v; }
__device__ __forceinline__ i64 to_i64(i8 v) { return (i64)v; }
__device__ __forceinline__ i64 to_i64(i32 v) { return (i64)v; }
__device__ __forceinline__ i64 to_i64(i64 v) { return v; }
__device__ __forceinline__ i64 to_i64(f16 v) { return sat_i64((double)f16_to_f32(v)); }
__device__ __forceinline__ i64 to_i64(bf16 v) { return sat_i64((double)bf16_to_f32(v)); }
__device__ __forceinline__ i64 to_i64(f32 v) { return sat_i64((double)v); }
__device__ __forceinline__ i64 to_i64(f64 v) { return sat_i64(v); }

template <typename T> __device__ __forceinline__ T from_i64(i64 x);
template <> __device__ __forceinline__ bool from_i64<bool>(i64 x) { return x != 0; }
template <> __device__ __forceinline__ u8 from_i64<u8>(i64 x) { return (u8)(u64)x; }
template <> __device__ __forceinline__ i8 from_i64<i8>(i64 x) { return (i8)(u8)(u64)x; }
template <> __device__ __forceinline__ i32 from_i64<i32>(i64 x) { return (i32)(u32)(u64)x; }
template <> __device__ __forceinline__ i64 from_i64<i64>(i64 x) { return x; }
template <> __device__ __forceinline__ f16 from_i64<f16>(i64 x) { return f64_to_f16((double)x); }
template <> __device__ __forceinline__ bf16 from_i64<bf16>(i64 x) { return f64_to_bf16((double)x); }
template <> __device__ __forceinline__ f32 from_i64<f32>(i64 x) { return (float)x; }
template <> __device__ __forceinline__ f64 from_i64<f64>(i64 x) { return (double)x; }

// Saturating like Rust's `f as i32`.
template <typename T> __device__ __forceinline__ T sat_int(double d, double lo, double hi) {
  if (d != d) return (T)0;
  if (d <= lo) return (T)(i64)lo;
  if (d >= hi) return (T)(i64)hi;
  return (T)(i64)d;
}
template <typename T> __device__ __forceinline__ T from_f64(double x);
template <> __device__ __forceinline__ bool from_f64<bool>(double x) { return x != 0.0; }
template <> __device__ __forceinline__ u8 from_f64<u8>(double x) { return sat_int<u8>(x, 0.0, 255.0); }
template <> __device__ __forceinline__ i8 from_f64<i8>(double x) { return sat_int<i8>(x, -128.0, 127.0); }
template <> __device__ __forceinline__ i32 from_f64<i32>(double x) { return sat_int<i32>(x, -2147483648.0, 2147483647.0); }
template <> __device__ __forceinline__ i64 from_f64<i64>(double x) { return sat_i64(x); }
template <> __device__ __forceinline__ f16 from_f64<f16>(double x) { return f64_to_f16(x); }
// As the CPU driver: a value exact in f32 rounds once, from f32 (half's f64 path truncates the
// low mantissa word first, a double rounding); others keep that f64 path.
template <> __device__ __forceinline__ bf16 from_f64<bf16>(double x) {
  const float f = (float)x;
  return ((double)f == x || x != x) ? f32_to_bf16(f) : f64_to_bf16(x);
}
template <> __device__ __forceinline__ f32 from_f64<f32>(double x) { return (float)x; }
template <> __device__ __forceinline__ f64 from_f64<f64>(double x) { return x; }

// ---------------------------------------------------------------- math on f32 and f64
#define LT_MATH1(name, f32fn, f64fn)                                              \
  __device__ __forceinline__ float name(float a) { return f32fn(a); }             \
  __device__ __forceinline__ double name(double a) { return f64fn(a); }
LT_MATH1(m_sqrt, sqrtf, sqrt)
LT_MATH1(m_exp, expf, exp)
LT_MATH1(m_exp2, exp2f, exp2)
LT_MATH1(m_expm1, expm1f, expm1)
LT_MATH1(m_log, logf, log)
LT_MATH1(m_log2, log2f, log2)
LT_MATH1(m_log1p, log1pf, log1p)
LT_MATH1(m_sin, sinf, sin)
LT_MATH1(m_cos, cosf, cos)
LT_MATH1(m_tanh, tanhf, tanh)
LT_MATH1(m_erf, erff, erf)
LT_MATH1(m_floor, floorf, floor)
LT_MATH1(m_ceil, ceilf, ceil)
LT_MATH1(m_rint, rintf, rint)
LT_MATH1(m_trunc, truncf, trunc)
LT_MATH1(m_fabs, fabsf, fabs)
__device__ __forceinline__ float m_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double m_pow(double a, double b) { return pow(a, b); }
__device__ __forceinline__ float m_fmod(float a, float b) { return fmodf(a, b); }
__device__ __forceinline__ double m_fmod(double a, double b) { return fmod(a, b); }
template <typename C> __device__ __forceinline__ bool m_isnan(C a) { return a != a; }

// NaN-propagating max/min, exactly the CPU driver's `nan_max` / `nan_min`.
template <typename C> __device__ __forceinline__ C nan_max(C a, C b) {
  return (m_isnan(a) || a > b) ? a : b;
}
template <typename C> __device__ __forceinline__ C nan_min(C a, C b) {
  return (m_isnan(a) || a < b) ? a : b;
}

// ---------------------------------------------------------------- strided elementwise
// Operand 0 is the output, 1.. the inputs. mode 0: strided (coalesced dims); mode 1: rank 1
// with strides 0 or 1 (dense or a broadcast scalar); mode 2: mode 1 with every dense
// operand aligned for 16-byte vector accesses.
struct Ew {
  u64 numel;
  i32 rank;
  i32 mode;
  u64 dims[LT_MAX_DIMS];
  i64 st[4][LT_MAX_DIMS];
};

template <int N>
__device__ __forceinline__ void ew_offsets(const Ew& s, u64 i, i64 (&o)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) o[k] = 0;
  if (s.numel <= 0xffffffffull) {
    u32 r = (u32)i;
#pragma unroll
    for (int d = LT_MAX_DIMS - 1; d >= 0; --d) {
      if (d < s.rank) {
        u32 n = (u32)s.dims[d];
        u32 c = r % n;
        r /= n;
#pragma unroll
        for (int k = 0; k < N; ++k) o[k] += (i64)c * s.st[k][d];
      }
    }
  } else {
    u64 r = i;
#pragma unroll
    for (int d = LT_MAX_DIMS - 1; d >= 0; --d) {
      if (d < s.rank) {
        u64 n = s.dims[d];
        u64 c = r % n;
        r /= n;
#pragma unroll
        for (int k = 0; k < N; ++k) o[k] += (i64)c * s.st[k][d];
      }
    }
  }
}

// The element offset of linear index i under dims/strides (row-major).
__device__ __forceinline__ i64 dot_index(u64 i, int rank, const u64* dims, const i64* st) {
  i64 off = 0;
#pragma unroll
  for (int d = LT_MAX_DIMS - 1; d >= 0; --d) {
    if (d < rank) {
      u64 c = i % dims[d];
      i /= dims[d];
      off += (i64)c * st[d];
    }
  }
  return off;
}

template <typename T, int N> struct alignas(sizeof(T) * N) Pack { T v[N]; };

template <typename A, typename B> struct VecOf {
  static const int n = 16 / (sizeof(A) > sizeof(B) ? sizeof(A) : sizeof(B));
};

// y = f() for every element (fill).
template <typename TO, typename F>
__device__ __forceinline__ void map0(const Ew& s, TO* y, F f) {
  if (s.mode != 0) {
    LT_GRID_LOOP(i, s.numel) y[i] = f(i);
  } else {
    LT_GRID_LOOP(i, s.numel) {
      i64 o[1];
      ew_offsets<1>(s, i, o);
      y[o[0]] = f(i);
    }
  }
}

// y = f(x).
template <typename TI, typename TO, typename F>
__device__ __forceinline__ void map1(const Ew& s, TO* y, const TI* x, F f) {
  const int V = VecOf<TI, TO>::n;
  if (s.mode == 2) {
    // x is dense or a broadcast scalar (stride 0).
    const bool sx = s.st[1][0] != 0;
    u64 nv = s.numel / V;
    const Pack<TI, V>* xv = (const Pack<TI, V>*)x;
    Pack<TO, V>* yv = (Pack<TO, V>*)y;
    const TI x0 = x[0];
    LT_GRID_LOOP(j, nv) {
      Pack<TI, V> a;
      if (sx) {
        a = xv[j];
      } else {
#pragma unroll
        for (int l = 0; l < V; ++l) a.v[l] = x0;
      }
      Pack<TO, V> r;
#pragma unroll
      for (int l = 0; l < V; ++l) r.v[l] = f(a.v[l]);
      yv[j] = r;
    }
    LT_GRID_LOOP(t, s.numel - nv * V) {
      u64 i = nv * V + t;
      y[i] = f(x[sx ? i : 0]);
    }
  } else if (s.mode == 1) {
    i64 sx = s.st[1][0];
    LT_GRID_LOOP(i, s.numel) y[i] = f(x[(i64)i * sx]);
  } else {
    LT_GRID_LOOP(i, s.numel) {
      i64 o[2];
      ew_offsets<2>(s, i, o);
      y[o[0]] = f(x[o[1]]);
    }
  }
}

// y = f(a, b); in modes 1 and 2 an input of stride 0 is a broadcast scalar.
template <typename TI, typename TO, typename F>
__device__ __forceinline__ void map2(const Ew& s, TO* y, const TI* a, const TI* b, F f) {
  const int V = VecOf<TI, TO>::n;
  const bool sa = s.st[1][0] != 0, sb = s.st[2][0] != 0;
  if (s.mode == 2) {
    u64 nv = s.numel / V;
    const Pack<TI, V>* av = (const Pack<TI, V>*)a;
    const Pack<TI, V>* bv = (const Pack<TI, V>*)b;
    Pack<TO, V>* yv = (Pack<TO, V>*)y;
    const TI a0 = a[0];
    const TI b0 = b[0];
    LT_GRID_LOOP(j, nv) {
      Pack<TI, V> p, q;
      if (sa) {
        p = av[j];
      } else {
#pragma unroll
        for (int l = 0; l < V; ++l) p.v[l] = a0;
      }
      if (sb) {
        q = bv[j];
      } else {
#pragma unroll
        for (int l = 0; l < V; ++l) q.v[l] = b0;
      }
      Pack<TO, V> r;
#pragma unroll
      for (int l = 0; l < V; ++l) r.v[l] = f(p.v[l], q.v[l]);
      yv[j] = r;
    }
    LT_GRID_LOOP(t, s.numel - nv * V) {
      u64 i = nv * V + t;
      y[i] = f(a[sa ? i : 0], b[sb ? i : 0]);
    }
  } else if (s.mode == 1) {
    i64 s1 = s.st[1][0], s2 = s.st[2][0];
    LT_GRID_LOOP(i, s.numel) y[i] = f(a[(i64)i * s1], b[(i64)i * s2]);
  } else {
    LT_GRID_LOOP(i, s.numel) {
      i64 o[3];
      ew_offsets<3>(s, i, o);
      y[o[0]] = f(a[o[1]], b[o[2]]);
    }
  }
}

// y = f(c, a, b).
template <typename TC, typename TI, typename TO, typename F>
__device__ __forceinline__ void map3(const Ew& s, TO* y, const TC* c, const TI* a, const TI* b, F f) {
  if (s.mode != 0) {
    i64 s1 = s.st[1][0], s2 = s.st[2][0], s3 = s.st[3][0];
    LT_GRID_LOOP(i, s.numel) y[i] = f(c[(i64)i * s1], a[(i64)i * s2], b[(i64)i * s3]);
  } else {
    LT_GRID_LOOP(i, s.numel) {
      i64 o[4];
      ew_offsets<4>(s, i, o);
      y[o[0]] = f(c[o[1]], a[o[2]], b[o[3]]);
    }
  }
}

// ---------------------------------------------------------------- accumulators
// Acc<T>: the accumulator of sums and products (f32 for 16-bit floats, i64 for ints), as in
// the CPU driver's `Accum`.
template <typename T> struct Acc;
template <> struct Acc<f32> { typedef float A; static __device__ __forceinline__ A up(f32 v) { return v; } static __device__ __forceinline__ f32 down(A a) { return a; } };
template <> struct Acc<f64> { typedef double A; static __device__ __forceinline__ A up(f64 v) { return v; } static __device__ __forceinline__ f64 down(A a) { return a; } };
template <> struct Acc<f16> { typedef float A; static __device__ __forceinline__ A up(f16 v) { return f16_to_f32(v); } static __device__ __forceinline__ f16 down(A a) { return f32_to_f16(a); } };
template <> struct Acc<bf16> { typedef float A; static __device__ __forceinline__ A up(bf16 v) { return bf16_to_f32(v); } static __device__ __forceinline__ bf16 down(A a) { return f32_to_bf16(a); } };
template <> struct Acc<i64> { typedef i64 A; static __device__ __forceinline__ A up(i64 v) { return v; } static __device__ __forceinline__ i64 down(A a) { return a; } };
template <> struct Acc<i32> { typedef i64 A; static __device__ __forceinline__ A up(i32 v) { return v; } static __device__ __forceinline__ i32 down(A a) { return (i32)(u32)(u64)a; } };
template <> struct Acc<i8> { typedef i64 A; static __device__ __forceinline__ A up(i8 v) { return v; } static __device__ __forceinline__ i8 down(A a) { return (i8)(u8)(u64)a; } };
template <> struct Acc<u8> { typedef i64 A; static __device__ __forceinline__ A up(u8 v) { return v; } static __device__ __forceinline__ u8 down(A a) { return (u8)(u64)a; } };
template <> struct Acc<bool> { typedef i64 A; static __device__ __forceinline__ A up(bool v) { return v ? 1 : 0; } static __device__ __forceinline__ bool down(A a) { return a != 0; } };

// Wrapping integer arithmetic (signed overflow is undefined in C++).
__device__ __forceinline__ i64 wadd(i64 a, i64 b) { return (i64)((u64)a + (u64)b); }
__device__ __forceinline__ i64 wmul(i64 a, i64 b) { return (i64)((u64)a * (u64)b); }
__device__ __forceinline__ float wadd(float a, float b) { return a + b; }
__device__ __forceinline__ float wmul(float a, float b) { return a * b; }
__device__ __forceinline__ double wadd(double a, double b) { return a + b; }
__device__ __forceinline__ double wmul(double a, double b) { return a * b; }
