// Layout kernels: strided copies, casts, fills and iota.
//   copy_{dtype}(Ew s, T* y, const T* x)                 y = x, any strides on both sides
//   cast_{src}_{dst}(Ew s, D* y, const S* x)             the CPU driver's conversions
//   fill_{dtype}(Ew s, T* y, u64 bits)                   bits: the element, little-endian
//   iota_{dtype}(Ew s, T* y, double start, double step)  y[i] = start + i * step (1-D)

template <typename T> struct IsBool { static const bool v = false; };
template <> struct IsBool<bool> { static const bool v = true; };

// The CPU driver's `cast_one`: float -> int saturates to i64 (NaN -> 0) and then wraps;
// int -> float goes through f64; anything -> bool is "nonzero" (NaN is true).
template <typename S, typename D> __device__ __forceinline__ D cast_one(S s) {
  if (Info<D>::is_float) {
    return Info<S>::is_float ? from_f64<D>(to_f64(s)) : from_f64<D>((double)to_i64(s));
  } else if (IsBool<D>::v) {
    return Info<S>::is_float ? from_i64<D>(to_f64(s) != 0.0) : from_i64<D>(to_i64(s) != 0);
  } else {
    return Info<S>::is_float ? from_i64<D>(sat_i64(to_f64(s))) : from_i64<D>(to_i64(s));
  }
}

#define CAST(S, D)                                                                \
  extern "C" __global__ void cast_##S##_##D(const Ew s, D* y, const S* x) {       \
    map1<S, D>(s, y, x, [](S v) { return cast_one<S, D>(v); });                   \
  }
#define CAST_FROM(S)                                                              \
  CAST(S, bool) CAST(S, u8) CAST(S, i8) CAST(S, i32) CAST(S, i64)                 \
  CAST(S, f16) CAST(S, bf16) CAST(S, f32) CAST(S, f64)

#define LAYOUT(T)                                                                 \
  extern "C" __global__ void copy_##T(const Ew s, T* y, const T* x) {             \
    map1<T, T>(s, y, x, [](T v) { return v; });                                   \
  }                                                                               \
  extern "C" __global__ void fill_##T(const Ew s, T* y, u64 bits) {               \
    T v;                                                                          \
    memcpy(&v, &bits, sizeof(T));                                                 \
    map0<T>(s, y, [v](u64) { return v; });                                        \
  }                                                                               \
  extern "C" __global__ void iota_##T(const Ew s, T* y, double start, double step) { \
    map0<T>(s, y, [start, step](u64 i) {                                          \
      double v = __dadd_rn(start, __dmul_rn((double)i, step));                    \
      return Info<T>::is_float ? from_f64<T>(v) : from_i64<T>(sat_i64(v));        \
    });                                                                           \
  }                                                                               \
  CAST_FROM(T)

#if LT_FOR(LT_F32)
LAYOUT(f32)
#endif
#if LT_FOR(LT_F64)
LAYOUT(f64)
#endif
#if LT_FOR(LT_F16)
LAYOUT(f16)
#endif
#if LT_FOR(LT_BF16)
LAYOUT(bf16)
#endif
#if LT_FOR(LT_I32)
LAYOUT(i32)
#endif
#if LT_FOR(LT_I64)
LAYOUT(i64)
#endif
#if LT_FOR(LT_I8)
LAYOUT(i8)
#endif
#if LT_FOR(LT_U8)
LAYOUT(u8)
#endif
#if LT_FOR(LT_BOOL)
LAYOUT(bool)
#endif
