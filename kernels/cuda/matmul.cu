// The fallback batched matmul for what cuBLAS cannot express: integer and bool dtypes,
// operands whose last two strides are both non-unit, and k = 0.
//
//   matmul_{dtype}(Mm p, T* y, const T* a, const T* b)
//       y[z, i, j] = alpha * sum_k a[z, i, k] * b[z, k, j] + beta * y[z, i, j]
//
// 16x16 tiles through shared memory; blocks (16, 16), grid (n/16, m/16, batches). Sums
// accumulate as the CPU driver's portable kernel does (f32 for 16-bit floats, wrapping i64
// for ints, k in ascending order); beta = 0 never reads y.

struct Mm {
  u64 m;
  u64 n;
  u64 k;
  u64 batch;
  i32 brank;
  i32 beta_zero;
  i64 ars, acs, brs, bcs, yrs, ycs;
  double alpha;
  double beta;
  u64 bdims[LT_MAX_DIMS];
  i64 ab[LT_MAX_DIMS];
  i64 bb[LT_MAX_DIMS];
  i64 yb[LT_MAX_DIMS];
};

__device__ __forceinline__ float acc_from(double v, float) { return (float)v; }
__device__ __forceinline__ double acc_from(double v, double) { return v; }
__device__ __forceinline__ i64 acc_from(double v, i64) { return sat_i64(v); }

template <typename T>
__device__ __forceinline__ void mm_run(const Mm& p, T* y, const T* a, const T* b) {
  typedef typename Acc<T>::A A;
  __shared__ A as[16][17];
  __shared__ A bs[16][17];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const A alpha = acc_from(p.alpha, (A)0), beta = acc_from(p.beta, (A)0);
  for (u64 z = blockIdx.z; z < p.batch; z += gridDim.z) {
    const i64 ao = dot_index(z, p.brank, p.bdims, p.ab);
    const i64 bo = dot_index(z, p.brank, p.bdims, p.bb);
    const i64 yo = dot_index(z, p.brank, p.bdims, p.yb);
    const u64 row = (u64)blockIdx.y * 16 + ty, col = (u64)blockIdx.x * 16 + tx;
    A acc = (A)0;
    for (u64 k0 = 0; k0 < p.k; k0 += 16) {
      as[ty][tx] = (row < p.m && k0 + tx < p.k) ? Acc<T>::up(a[ao + (i64)row * p.ars + (i64)(k0 + tx) * p.acs]) : (A)0;
      bs[ty][tx] = (k0 + ty < p.k && col < p.n) ? Acc<T>::up(b[bo + (i64)(k0 + ty) * p.brs + (i64)col * p.bcs]) : (A)0;
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < 16; ++kk) acc = wadd(acc, wmul(as[ty][kk], bs[kk][tx]));
      __syncthreads();
    }
    if (row < p.m && col < p.n) {
      T* dst = y + yo + (i64)row * p.yrs + (i64)col * p.ycs;
      A v = wmul(acc, alpha);
      if (!p.beta_zero) v = wadd(v, wmul(Acc<T>::up(*dst), beta));
      *dst = Acc<T>::down(v);
    }
  }
}

#define MATMUL(T)                                                                 \
  extern "C" __global__ void matmul_##T(const Mm p, T* y, const T* a, const T* b) { mm_run<T>(p, y, a, b); }

#if LT_FOR(LT_F32)
MATMUL(f32)
#endif
#if LT_FOR(LT_F64)
MATMUL(f64)
#endif
#if LT_FOR(LT_F16)
MATMUL(f16)
#endif
#if LT_FOR(LT_BF16)
MATMUL(bf16)
#endif
#if LT_FOR(LT_I32)
MATMUL(i32)
#endif
#if LT_FOR(LT_I64)
MATMUL(i64)
#endif
#if LT_FOR(LT_I8)
MATMUL(i8)
#endif
#if LT_FOR(LT_U8)
MATMUL(u8)
#endif
#if LT_FOR(LT_BOOL)
MATMUL(bool)
#endif
