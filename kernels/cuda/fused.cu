// Fused ops (lantern::ops::FusedOp) over the last axis of a contiguous tensor seen as
// [rows, cols]: one block of 256 threads per row, the row's max and sum reduced by warp
// shuffles and then across warps in shared memory.
//   softmax_{dtype}(Rows p, T* y, const T* x)       y = exp(x - max) / sum(exp(x - max))
//   log_softmax_{dtype}(Rows p, T* y, const T* x)   y = (x - max) - log(sum(exp(x - max)))
// f16/bf16 compute in f32 and round once at the end (the composed default rounds each step).

struct Rows {
  u64 rows;
  u64 cols;
};

template <typename C> __device__ __forceinline__ C block_max(C v, C* sh) {
  for (int o = 16; o > 0; o >>= 1) v = nan_max(v, (C)__shfl_down_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (int)(blockDim.x >> 5) ? sh[lane] : sh[0];
    for (int o = 16; o > 0; o >>= 1) v = nan_max(v, (C)__shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) sh[0] = v;
  }
  __syncthreads();
  v = sh[0];
  __syncthreads();
  return v;
}

template <typename C> __device__ __forceinline__ C block_sum(C v, C* sh) {
  for (int o = 16; o > 0; o >>= 1) v += (C)__shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (int)(blockDim.x >> 5) ? sh[lane] : (C)0;
    for (int o = 16; o > 0; o >>= 1) v += (C)__shfl_down_sync(0xffffffffu, v, o);
    if (lane == 0) sh[0] = v;
  }
  __syncthreads();
  v = sh[0];
  __syncthreads();
  return v;
}

template <typename T, bool LOG> __device__ __forceinline__ void softmax_run(const Rows& p, T* y, const T* x) {
  typedef typename Cv<T>::C C;
  __shared__ C sh[32];
  for (u64 r = blockIdx.x; r < p.rows; r += gridDim.x) {
    const T* xr = x + r * p.cols;
    T* yr = y + r * p.cols;
    C m = (C)(-__longlong_as_double(0x7ff0000000000000LL));  // -inf; nan_max: common.cuh
    for (u64 c = threadIdx.x; c < p.cols; c += blockDim.x) m = nan_max(m, Cv<T>::in(xr[c]));
    m = block_max(m, sh);
    C s = 0;
    for (u64 c = threadIdx.x; c < p.cols; c += blockDim.x) s += m_exp(Cv<T>::in(xr[c]) - m);
    s = block_sum(s, sh);
    const C ls = m_log(s);
    for (u64 c = threadIdx.x; c < p.cols; c += blockDim.x) {
      const C z = Cv<T>::in(xr[c]) - m;
      yr[c] = Cv<T>::out(LOG ? z - ls : m_exp(z) / s);
    }
  }
}

#define FUSED_ALL(T)                                                                       \
  extern "C" __global__ void softmax_##T(const Rows p, T* y, const T* x) {                 \
    softmax_run<T, false>(p, y, x);                                                        \
  }                                                                                        \
  extern "C" __global__ void log_softmax_##T(const Rows p, T* y, const T* x) {             \
    softmax_run<T, true>(p, y, x);                                                         \
  }

#if LT_FOR(LT_F32)
FUSED_ALL(f32)
#endif
#if LT_FOR(LT_F64)
FUSED_ALL(f64)
#endif
#if LT_FOR(LT_F16)
FUSED_ALL(f16)
#endif
#if LT_FOR(LT_BF16)
FUSED_ALL(bf16)
#endif
