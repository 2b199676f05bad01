// Binary elementwise kernels: {op}_{dtype}(Ew s, TO* y, const T* a, const T* b, u32* err).
// a and b are already broadcast to y's shape (stride 0 where broadcast). Comparisons write
// bool. Integer division by zero and negative integer powers write 0 and set the device
// error flag, which the next synchronize/read reports (the CPU driver fails at once).

#define BINARY(name, T, TO, EXPR)                                                 \
  extern "C" __global__ void name##_##T(const Ew s, TO* y, const T* a, const T* b, u32* err) { \
    map2<T, TO>(s, y, a, b, [err](T va, T vb) {                                   \
      typedef Cv<T>::C C;                                                         \
      C p = Cv<T>::in(va), q = Cv<T>::in(vb);                                     \
      (void)err;                                                                  \
      return (EXPR);                                                              \
    });                                                                           \
  }

#define BINARY_F(name, T, EXPR) BINARY(name, T, T, Cv<T>::out((C)(EXPR)))
#define BINARY_CMP(T)                                                             \
  BINARY(eq, T, bool, p == q)                                                     \
  BINARY(ne, T, bool, p != q)                                                     \
  BINARY(lt, T, bool, p < q)                                                      \
  BINARY(le, T, bool, p <= q)                                                     \
  BINARY(gt, T, bool, p > q)                                                      \
  BINARY(ge, T, bool, p >= q)

// Python-style remainder: the sign of the divisor (torch.remainder).
template <typename T>
__device__ __forceinline__ typename Cv<T>::C frem(typename Cv<T>::C p, typename Cv<T>::C q) {
  typedef typename Cv<T>::C C;
  C r = rt<T>(m_fmod(p, q));
  return (r != (C)0 && ((r < (C)0) != (q < (C)0))) ? r + q : r;
}

#define BINARY_FLOAT(T)                                                           \
  BINARY_F(add, T, p + q)                                                         \
  BINARY_F(sub, T, p - q)                                                         \
  BINARY_F(mul, T, p * q)                                                         \
  BINARY_F(div, T, p / q)                                                         \
  BINARY_F(pow, T, m_pow(p, q))                                                   \
  BINARY_F(rem, T, frem<T>(p, q))                                                 \
  BINARY_F(floor_div, T, m_floor(p / q))                                          \
  BINARY_F(maximum, T, nan_max(p, q))                                             \
  BINARY_F(minimum, T, nan_min(p, q))                                             \
  BINARY_CMP(T)

// Integer ops with the CPU driver's wrapping semantics.
template <typename T> struct Int {
  typedef typename Info<T>::U U;
  static __device__ __forceinline__ T add(T a, T b) { return (T)((U)a + (U)b); }
  static __device__ __forceinline__ T sub(T a, T b) { return (T)((U)a - (U)b); }
  static __device__ __forceinline__ T mul(T a, T b) { return (T)((U)a * (U)b); }
  static __device__ __forceinline__ bool is_min_neg1(T a, T b) {
    return Info<T>::is_signed && b == (T)-1 && a == (T)((U)1 << (sizeof(T) * 8 - 1));
  }
  static __device__ __forceinline__ T div(T a, T b, u32* err) {
    if (b == (T)0) { lt_flag(err, LT_ERR_DIV_ZERO); return (T)0; }
    if (is_min_neg1(a, b)) return a;
    return (T)(a / b);
  }
  static __device__ __forceinline__ T wrem(T a, T b) {
    return is_min_neg1(a, b) ? (T)0 : (T)(a % b);
  }
  static __device__ __forceinline__ T rem(T a, T b, u32* err) {
    if (b == (T)0) { lt_flag(err, LT_ERR_DIV_ZERO); return (T)0; }
    T r = wrem(a, b);
    return (r != (T)0 && ((r < (T)0) != (b < (T)0))) ? add(r, b) : r;
  }
  static __device__ __forceinline__ T floor_div(T a, T b, u32* err) {
    if (b == (T)0) { lt_flag(err, LT_ERR_DIV_ZERO); return (T)0; }
    T q = is_min_neg1(a, b) ? a : (T)(a / b);
    return (wrem(a, b) != (T)0 && ((a < (T)0) != (b < (T)0))) ? sub(q, (T)1) : q;
  }
  static __device__ __forceinline__ T pow(T a, T b, u32* err) {
    if (b < (T)0) { lt_flag(err, LT_ERR_NEG_POW); return (T)0; }
    u32 e = (u32)(u64)(i64)b;
    U base = (U)a, acc = (U)1;
    while (e) {
      if (e & 1u) acc = (U)(acc * base);
      base = (U)(base * base);
      e >>= 1;
    }
    return (T)acc;
  }
};

#define BINARY_INT(T)                                                             \
  BINARY(add, T, T, Int<T>::add(va, vb))                                          \
  BINARY(sub, T, T, Int<T>::sub(va, vb))                                          \
  BINARY(mul, T, T, Int<T>::mul(va, vb))                                          \
  BINARY(div, T, T, Int<T>::div(va, vb, err))                                     \
  BINARY(rem, T, T, Int<T>::rem(va, vb, err))                                     \
  BINARY(floor_div, T, T, Int<T>::floor_div(va, vb, err))                         \
  BINARY(pow, T, T, Int<T>::pow(va, vb, err))                                     \
  BINARY(maximum, T, T, (T)(va > vb ? va : vb))                                   \
  BINARY(minimum, T, T, (T)(va < vb ? va : vb))                                   \
  BINARY(bitwise_and, T, T, (T)(va & vb))                                         \
  BINARY(bitwise_or, T, T, (T)(va | vb))                                          \
  BINARY(bitwise_xor, T, T, (T)(va ^ vb))                                         \
  BINARY_CMP(T)

#if LT_FOR(LT_F32)
BINARY_FLOAT(f32)
#endif
#if LT_FOR(LT_F64)
BINARY_FLOAT(f64)
#endif
#if LT_FOR(LT_F16)
BINARY_FLOAT(f16)
#endif
#if LT_FOR(LT_BF16)
BINARY_FLOAT(bf16)
#endif
#if LT_FOR(LT_I32)
BINARY_INT(i32)
#endif
#if LT_FOR(LT_I64)
BINARY_INT(i64)
#endif
#if LT_FOR(LT_I8)
BINARY_INT(i8)
#endif
#if LT_FOR(LT_U8)
BINARY_INT(u8)
#endif
#if LT_FOR(LT_BOOL)
BINARY(logical_and, bool, bool, va && vb)
BINARY(bitwise_and, bool, bool, va && vb)
BINARY(mul, bool, bool, va && vb)
BINARY(minimum, bool, bool, va && vb)
BINARY(logical_or, bool, bool, va || vb)
BINARY(bitwise_or, bool, bool, va || vb)
BINARY(add, bool, bool, va || vb)
BINARY(maximum, bool, bool, va || vb)
BINARY(logical_xor, bool, bool, va != vb)
BINARY(bitwise_xor, bool, bool, va != vb)
BINARY_CMP(bool)
#endif
