// Unary elementwise kernels: {op}_{dtype}(Ew s, T* y, const T* x), y and x of one shape.
// Floats compute in f32 (f16, bf16, f32) or f64 and round once, as the CPU driver does;
// ops the CPU driver composes of two roundings (rsqrt = 1 / sqrt) round twice here too.

#define UNARY(name, T, EXPR)                                                      \
  extern "C" __global__ void name##_##T(const Ew s, T* y, const T* x) {           \
    map1<T, T>(s, y, x, [](T v) {                                                 \
      typedef Cv<T>::C C;                                                         \
      C a = Cv<T>::in(v);                                                         \
      return Cv<T>::out((C)(EXPR));                                               \
    });                                                                           \
  }

template <typename C> __device__ __forceinline__ C fsign(C a) {
  return a > (C)0 ? (C)1 : (a < (C)0 ? (C)-1 : a);
}

#define UNARY_FLOAT(T)                                                            \
  UNARY(neg, T, -a)                                                               \
  UNARY(abs, T, m_fabs(a))                                                        \
  UNARY(sign, T, fsign(a))                                                        \
  UNARY(recip, T, (C)1 / a)                                                       \
  UNARY(sqrt, T, m_sqrt(a))                                                       \
  UNARY(rsqrt, T, (C)1 / rt<T>(m_sqrt(a)))                                        \
  UNARY(exp, T, m_exp(a))                                                         \
  UNARY(exp2, T, m_exp2(a))                                                       \
  UNARY(expm1, T, m_expm1(a))                                                     \
  UNARY(log, T, m_log(a))                                                         \
  UNARY(log2, T, m_log2(a))                                                       \
  UNARY(log1p, T, m_log1p(a))                                                     \
  UNARY(sin, T, m_sin(a))                                                         \
  UNARY(cos, T, m_cos(a))                                                         \
  UNARY(tanh, T, m_tanh(a))                                                       \
  UNARY(erf, T, m_erf(a))                                                         \
  UNARY(floor, T, m_floor(a))                                                     \
  UNARY(ceil, T, m_ceil(a))                                                       \
  UNARY(round, T, m_rint(a))                                                      \
  UNARY(trunc, T, m_trunc(a))

// Integers: wrapping negation and abs; the rounding ops are the identity.
template <typename T> __device__ __forceinline__ T ineg(T a) {
  return (T)((typename Info<T>::U)0 - (typename Info<T>::U)a);
}
template <typename T> __device__ __forceinline__ T iabs(T a) {
  return (Info<T>::is_signed && a < (T)0) ? ineg(a) : a;
}
template <typename T> __device__ __forceinline__ T isign(T a) {
  return a > (T)0 ? (T)1 : (a < (T)0 ? (T)-1 : (T)0);
}

#define UNARY_INT(T)                                                              \
  UNARY(neg, T, ineg<T>(a))                                                       \
  UNARY(abs, T, iabs<T>(a))                                                       \
  UNARY(sign, T, isign<T>(a))                                                     \
  UNARY(floor, T, a)                                                              \
  UNARY(ceil, T, a)                                                               \
  UNARY(round, T, a)                                                              \
  UNARY(trunc, T, a)

#if LT_FOR(LT_F32)
UNARY_FLOAT(f32)
#endif
#if LT_FOR(LT_F64)
UNARY_FLOAT(f64)
#endif
#if LT_FOR(LT_F16)
UNARY_FLOAT(f16)
#endif
#if LT_FOR(LT_BF16)
UNARY_FLOAT(bf16)
#endif
#if LT_FOR(LT_I32)
UNARY_INT(i32)
#endif
#if LT_FOR(LT_I64)
UNARY_INT(i64)
#endif
#if LT_FOR(LT_I8)
UNARY_INT(i8)
#endif
#if LT_FOR(LT_U8)
UNARY_INT(u8)
#endif
#if LT_FOR(LT_BOOL)
UNARY(logical_not, bool, !a)
UNARY(abs, bool, a)
UNARY(floor, bool, a)
UNARY(ceil, bool, a)
UNARY(round, bool, a)
UNARY(trunc, bool, a)
#endif
