// Fused ops (lantern::ops::FusedOp) over the last axis of a contiguous tensor seen as
// [rows, cols]: one block of 256 threads per row, the row's max and sum reduced by warp
// shuffles and then across warps in shared memory.
//   softmax_{dtype}(Rows p, T* y, const T* x)       y = exp(x - max) / sum(exp(x - max))
//   log_softmax_{dtype}(Rows p, T* y, const T* x)   y = (x - max) - log(sum(exp(x - max)))
//   layer_norm_{dtype}(LayerNorm p, T* y, C* mean, C* rstd, const T* x, const T* w, const T* b)
//       y = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps) (biased), the row's mean and
//       rstd stored in the compute type C; w and b may be null (no affine / no bias)
// f16/bf16 compute in f32 and round once at the end (the composed default rounds each step).
//   adam_step_{dtype}(Adam q, T* p, const T* g, T* m, T* v)   one Adam/AdamW step in place
//   sgd_step_{dtype}(Sgd q, T* p, const T* g, T* b)           one momentum SGD step in place
// The optimizer kernels evaluate lantern::optim's composed update in its order, each scalar
// rounded to the compute type as the composed ops round their wrapped scalars.

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

struct LayerNorm {
  u64 rows;
  u64 cols;
  double eps;
};

// Two passes over the row for the statistics (mean, then the centred squares): the variance
// does not cancel as E[x^2] - E[x]^2 does.
template <typename T> __device__ __forceinline__ void layer_norm_run(const LayerNorm& p, T* y, typename Cv<T>::C* mean, typename Cv<T>::C* rstd, const T* x, const T* w, const T* b) {
  typedef typename Cv<T>::C C;
  __shared__ C sh[32];
  for (u64 r = blockIdx.x; r < p.rows; r += gridDim.x) {
    const T* xr = x + r * p.cols;
    T* yr = y + r * p.cols;
    C s = 0;
    for (u64 c = threadIdx.x; c < p.cols; c += blockDim.x) s += Cv<T>::in(xr[c]);
    const C m = block_sum(s, sh) / (C)p.cols;
    C q = 0;
    for (u64 c = threadIdx.x; c < p.cols; c += blockDim.x) {
      const C d = Cv<T>::in(xr[c]) - m;
      q += d * d;
    }
    const C rs = (C)1 / m_sqrt(block_sum(q, sh) / (C)p.cols + (C)p.eps);
    if (threadIdx.x == 0) {
      mean[r] = m;
      rstd[r] = rs;
    }
    for (u64 c = threadIdx.x; c < p.cols; c += blockDim.x) {
      C v = (Cv<T>::in(xr[c]) - m) * rs;
      if (w) v = v * Cv<T>::in(w[c]);
      if (b) v = v + Cv<T>::in(b[c]);
      yr[c] = Cv<T>::out(v);
    }
  }
}

struct Adam {
  u64 n;
  double decay_mul, l2, one_minus_b1, b2, one_minus_b2, bias2_sqrt, eps, neg_step_size;
};

template <typename T> __device__ __forceinline__ void adam_run(const Adam& q, T* p, const T* g, T* m, T* v) {
  typedef typename Cv<T>::C C;
  LT_GRID_LOOP(i, q.n) {
    C pi = Cv<T>::in(p[i]);
    C gi = Cv<T>::in(g[i]);
    if (q.decay_mul != 1.0) pi = pi * (C)q.decay_mul;
    if (q.l2 != 0.0) gi = gi + pi * (C)q.l2;
    C mi = Cv<T>::in(m[i]);
    mi = mi + (gi - mi) * (C)q.one_minus_b1;
    C vi = Cv<T>::in(v[i]) * (C)q.b2;
    vi = vi + (gi * (C)q.one_minus_b2) * gi;
    const C denom = m_sqrt(vi) / (C)q.bias2_sqrt + (C)q.eps;
    pi = pi + (mi * (C)q.neg_step_size) / denom;
    p[i] = Cv<T>::out(pi);
    m[i] = Cv<T>::out(mi);
    v[i] = Cv<T>::out(vi);
  }
}

struct Sgd {
  u64 n;
  double lr, momentum, dampening, weight_decay;
  int nesterov;
};

template <typename T> __device__ __forceinline__ void sgd_run(const Sgd& q, T* p, const T* g, T* b) {
  typedef typename Cv<T>::C C;
  LT_GRID_LOOP(i, q.n) {
    const C pi = Cv<T>::in(p[i]);
    C d = Cv<T>::in(g[i]);
    if (q.weight_decay != 0.0) d = d + pi * (C)q.weight_decay;
    const C bi = Cv<T>::in(b[i]) * (C)q.momentum + d * (C)(1.0 - q.dampening);
    d = q.nesterov ? d + bi * (C)q.momentum : bi;
    p[i] = Cv<T>::out(pi + d * (C)(-q.lr));
    b[i] = Cv<T>::out(bi);
  }
}

#define FUSED_ALL(T)                                                                       \
  extern "C" __global__ void softmax_##T(const Rows p, T* y, const T* x) {                 \
    softmax_run<T, false>(p, y, x);                                                        \
  }                                                                                        \
  extern "C" __global__ void log_softmax_##T(const Rows p, T* y, const T* x) {             \
    softmax_run<T, true>(p, y, x);                                                         \
  }                                                                                        \
  extern "C" __global__ void layer_norm_##T(const LayerNorm p, T* y, Cv<T>::C* mean,           \
                                            Cv<T>::C* rstd, const T* x, const T* w,         \
                                            const T* b) {                                   \
    layer_norm_run<T>(p, y, mean, rstd, x, w, b);                                          \
  }                                                                                        \
  extern "C" __global__ void adam_step_##T(const Adam q, T* p, const T* g, T* m, T* v) {   \
    adam_run<T>(q, p, g, m, v);                                                            \
  }                                                                                        \
  extern "C" __global__ void sgd_step_##T(const Sgd q, T* p, const T* g, T* b) {           \
    sgd_run<T>(q, p, g, b);                                                                \
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
