// Ternary kernels: where_{dtype}(Ew s, T* y, const bool* cond, const T* a, const T* b),
// `y = cond ? a : b` with every input broadcast to y's shape.

#define WHERE(T)                                                                  \
  extern "C" __global__ void where_##T(const Ew s, T* y, const bool* c, const T* a, const T* b) { \
    map3<bool, T, T>(s, y, c, a, b, [](bool vc, T va, T vb) { return vc ? va : vb; }); \
  }

#if LT_FOR(LT_F32)
WHERE(f32)
#endif
#if LT_FOR(LT_F64)
WHERE(f64)
#endif
#if LT_FOR(LT_F16)
WHERE(f16)
#endif
#if LT_FOR(LT_BF16)
WHERE(bf16)
#endif
#if LT_FOR(LT_I32)
WHERE(i32)
#endif
#if LT_FOR(LT_I64)
WHERE(i64)
#endif
#if LT_FOR(LT_I8)
WHERE(i8)
#endif
#if LT_FOR(LT_U8)
WHERE(u8)
#endif
#if LT_FOR(LT_BOOL)
WHERE(bool)
#endif
