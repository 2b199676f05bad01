// Reductions over a set of axes and prefix scans along one axis.
//
//   {sum,prod,max,min,argmax,argmin}_{dtype}(Red p, Y* y, const T* x, void* part)
//   {op}_{dtype}_fin(Red p, Y* y, const void* part)
//   {cumsum,cumprod}_{dtype}(Scan p, T* y, const T* x)
//
// Each output is reduced by a group of p.group threads (1, 32 or 256; blocks are 256 wide)
// over p.splits chunks of the reduced index (grid.y). With one split the group writes y;
// with several it writes a partial state per (output, split) into `part` and the `_fin`
// kernel combines them in order. Every combine is associative and commutative on the
// values it sees (argmax breaks ties by the lower index), so results do not depend on
// timing. Sums and products accumulate as the CPU driver does (f32 for 16-bit floats, i64
// for ints); argmax/argmin write i64 and NaN wins, as in PyTorch.

struct Red {
  u64 nout;
  u64 nred;
  u64 chunk;
  i32 krank;
  i32 rrank;
  i32 group;
  i32 splits;
  u64 kdims[LT_MAX_DIMS];
  i64 kx[LT_MAX_DIMS];
  i64 ky[LT_MAX_DIMS];
  u64 rdims[LT_MAX_DIMS];
  i64 rx[LT_MAX_DIMS];
};

template <typename T> struct SumR {
  typedef typename Acc<T>::A S;
  typedef T Y;
  static __device__ __forceinline__ S init() { return (S)0; }
  static __device__ __forceinline__ S one(T v, i64) { return Acc<T>::up(v); }
  static __device__ __forceinline__ S comb(S a, S b) { return wadd(a, b); }
  static __device__ __forceinline__ Y fin(S s) { return Acc<T>::down(s); }
};
template <typename T> struct ProdR {
  typedef typename Acc<T>::A S;
  typedef T Y;
  static __device__ __forceinline__ S init() { return (S)1; }
  static __device__ __forceinline__ S one(T v, i64) { return Acc<T>::up(v); }
  static __device__ __forceinline__ S comb(S a, S b) { return wmul(a, b); }
  static __device__ __forceinline__ Y fin(S s) { return Acc<T>::down(s); }
};

template <typename C> __device__ __forceinline__ C lowest();
template <typename C> __device__ __forceinline__ C highest();
template <> __device__ __forceinline__ float lowest<float>() { return -__int_as_float(0x7f800000); }
template <> __device__ __forceinline__ float highest<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double lowest<double>() { return -__longlong_as_double(0x7ff0000000000000ll); }
template <> __device__ __forceinline__ double highest<double>() { return __longlong_as_double(0x7ff0000000000000ll); }
template <> __device__ __forceinline__ i64 lowest<i64>() { return (i64)(-9223372036854775807ll - 1); }
template <> __device__ __forceinline__ i64 highest<i64>() { return 9223372036854775807ll; }
template <> __device__ __forceinline__ i32 lowest<i32>() { return (i32)(-2147483647 - 1); }
template <> __device__ __forceinline__ i32 highest<i32>() { return 2147483647; }
template <> __device__ __forceinline__ i8 lowest<i8>() { return (i8)-128; }
template <> __device__ __forceinline__ i8 highest<i8>() { return (i8)127; }
template <> __device__ __forceinline__ u8 lowest<u8>() { return (u8)0; }
template <> __device__ __forceinline__ u8 highest<u8>() { return (u8)255; }
template <> __device__ __forceinline__ bool lowest<bool>() { return false; }
template <> __device__ __forceinline__ bool highest<bool>() { return true; }

template <typename T> struct MaxR {
  typedef typename Cv<T>::C S;
  typedef T Y;
  static __device__ __forceinline__ S init() { return lowest<S>(); }
  static __device__ __forceinline__ S one(T v, i64) { return Cv<T>::in(v); }
  static __device__ __forceinline__ S comb(S a, S b) { return nan_max(a, b); }
  static __device__ __forceinline__ Y fin(S s) { return Cv<T>::out(s); }
};
template <typename T> struct MinR {
  typedef typename Cv<T>::C S;
  typedef T Y;
  static __device__ __forceinline__ S init() { return highest<S>(); }
  static __device__ __forceinline__ S one(T v, i64) { return Cv<T>::in(v); }
  static __device__ __forceinline__ S comb(S a, S b) { return nan_min(a, b); }
  static __device__ __forceinline__ Y fin(S s) { return Cv<T>::out(s); }
};

// (value, index); index -1 is the empty state.
template <typename C> struct ArgS {
  C v;
  i64 i;
};
template <typename T, bool IS_MAX> struct ArgR {
  typedef typename Cv<T>::C C;
  typedef ArgS<C> S;
  typedef i64 Y;
  static __device__ __forceinline__ S init() { S s; s.v = (C)0; s.i = -1; return s; }
  static __device__ __forceinline__ S one(T v, i64 i) { S s; s.v = Cv<T>::in(v); s.i = i; return s; }
  static __device__ __forceinline__ S comb(S a, S b) {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    bool an = m_isnan(a.v), bn = m_isnan(b.v);
    if (an || bn) {
      if (an && bn) return a.i < b.i ? a : b;
      return an ? a : b;
    }
    bool b_better = IS_MAX ? (b.v > a.v) : (b.v < a.v);
    bool a_better = IS_MAX ? (a.v > b.v) : (a.v < b.v);
    if (b_better) return b;
    if (a_better) return a;
    return a.i < b.i ? a : b;
  }
  static __device__ __forceinline__ Y fin(S s) { return s.i < 0 ? 0 : s.i; }
};

template <typename T> struct ArgMaxR : ArgR<T, true> {};
template <typename T> struct ArgMinR : ArgR<T, false> {};

__device__ __forceinline__ float shfl_down(float v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ double shfl_down(double v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ i64 shfl_down(i64 v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ i32 shfl_down(i32 v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
__device__ __forceinline__ i8 shfl_down(i8 v, int o) { return (i8)__shfl_down_sync(0xffffffffu, (int)v, o); }
__device__ __forceinline__ u8 shfl_down(u8 v, int o) { return (u8)__shfl_down_sync(0xffffffffu, (int)v, o); }
__device__ __forceinline__ bool shfl_down(bool v, int o) { return __shfl_down_sync(0xffffffffu, (int)v, o) != 0; }
template <typename C> __device__ __forceinline__ ArgS<C> shfl_down(ArgS<C> v, int o) {
  ArgS<C> r;
  r.v = shfl_down(v.v, o);
  r.i = shfl_down(v.i, o);
  return r;
}

template <typename R> __device__ __forceinline__ typename R::S warp_reduce(typename R::S s, int width) {
  for (int o = width / 2; o > 0; o /= 2) s = R::comb(s, shfl_down(s, o));
  return s;
}

template <typename T, typename R>
__device__ __forceinline__ void reduce_run(const Red& p, typename R::Y* y, const T* x, void* part) {
  typedef typename R::S S;
  __shared__ S smem[8];
  const int G = p.group;
  const int lane = threadIdx.x % G;
  const u64 o = (u64)blockIdx.x * (256 / G) + threadIdx.x / G;
  const bool live = o < p.nout;
  S acc = R::init();
  if (live) {
    const i64 xb = dot_index(o, p.krank, p.kdims, p.kx);
    const u64 start = (u64)blockIdx.y * p.chunk;
    u64 end = start + p.chunk;
    if (end > p.nred) end = p.nred;
    if (p.rrank <= 1) {
      const i64 rs = p.rrank == 1 ? p.rx[0] : 0;
      for (u64 r = start + lane; r < end; r += G) acc = R::comb(acc, R::one(x[xb + (i64)r * rs], (i64)r));
    } else {
      for (u64 r = start + lane; r < end; r += G)
        acc = R::comb(acc, R::one(x[xb + dot_index(r, p.rrank, p.rdims, p.rx)], (i64)r));
    }
  }
  if (G >= 32) {
    acc = warp_reduce<R>(acc, 32);
    if (G == 256) {
      const int warp = threadIdx.x / 32;
      if (threadIdx.x % 32 == 0) smem[warp] = acc;
      __syncthreads();
      if (warp == 0) {
        acc = threadIdx.x < 8 ? smem[threadIdx.x] : R::init();
        acc = warp_reduce<R>(acc, 8);
      }
    }
  }
  if (live && lane == 0) {
    if (p.splits == 1) {
      y[dot_index(o, p.krank, p.kdims, p.ky)] = R::fin(acc);
    } else {
      ((S*)part)[o * p.splits + blockIdx.y] = acc;
    }
  }
}

template <typename T, typename R>
__device__ __forceinline__ void reduce_fin(const Red& p, typename R::Y* y, const void* part) {
  typedef typename R::S S;
  LT_GRID_LOOP(o, p.nout) {
    const S* ps = (const S*)part + o * p.splits;
    S acc = R::init();
    for (int k = 0; k < p.splits; ++k) acc = R::comb(acc, ps[k]);
    y[dot_index(o, p.krank, p.kdims, p.ky)] = R::fin(acc);
  }
}

#define REDUCE_OP(name, T, R)                                                     \
  extern "C" __global__ void __launch_bounds__(256) name##_##T(const Red p, R::Y* y, const T* x, void* part) { \
    reduce_run<T, R>(p, y, x, part);                                              \
  }                                                                               \
  extern "C" __global__ void name##_##T##_fin(const Red p, R::Y* y, const void* part) { \
    reduce_fin<T, R>(p, y, part);                                                 \
  }

// ---------------------------------------------------------------- scans
struct Scan {
  u64 rows;
  u64 n;
  i32 orank;
  i32 mode;  // 0: a thread per row; 1: a warp per row
  i64 sx;
  i64 sy;
  u64 odims[LT_MAX_DIMS];
  i64 ox[LT_MAX_DIMS];
  i64 oy[LT_MAX_DIMS];
};

template <typename T, bool PROD>
__device__ __forceinline__ void scan_run(const Scan& p, T* y, const T* x) {
  typedef typename Acc<T>::A A;
  if (p.mode == 0) {
    LT_GRID_LOOP(r, p.rows) {
      const i64 xb = dot_index(r, p.orank, p.odims, p.ox);
      const i64 yb = dot_index(r, p.orank, p.odims, p.oy);
      A a = PROD ? (A)1 : (A)0;
      for (u64 i = 0; i < p.n; ++i) {
        A v = Acc<T>::up(x[xb + (i64)i * p.sx]);
        a = PROD ? wmul(a, v) : wadd(a, v);
        y[yb + (i64)i * p.sy] = Acc<T>::down(a);
      }
    }
    return;
  }
  const int lane = threadIdx.x % 32;
  const u64 warps = (u64)gridDim.x * (blockDim.x / 32);
  for (u64 r = (u64)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < p.rows; r += warps) {
    const i64 xb = dot_index(r, p.orank, p.odims, p.ox);
    const i64 yb = dot_index(r, p.orank, p.odims, p.oy);
    A carry = PROD ? (A)1 : (A)0;
    for (u64 t = 0; t < p.n; t += 32) {
      const u64 i = t + lane;
      A v = PROD ? (A)1 : (A)0;
      if (i < p.n) v = Acc<T>::up(x[xb + (i64)i * p.sx]);
#pragma unroll
      for (int o = 1; o < 32; o *= 2) {
        A u = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v = PROD ? wmul(u, v) : wadd(u, v);
      }
      v = PROD ? wmul(carry, v) : wadd(carry, v);
      if (i < p.n) y[yb + (i64)i * p.sy] = Acc<T>::down(v);
      carry = __shfl_sync(0xffffffffu, v, 31);
    }
  }
}

#define SCAN(T)                                                                   \
  extern "C" __global__ void cumsum_##T(const Scan p, T* y, const T* x) { scan_run<T, false>(p, y, x); } \
  extern "C" __global__ void cumprod_##T(const Scan p, T* y, const T* x) { scan_run<T, true>(p, y, x); }

#define REDUCE_ALL(T)                                                             \
  REDUCE_OP(sum, T, SumR<T>)                                                      \
  REDUCE_OP(prod, T, ProdR<T>)                                                    \
  REDUCE_OP(max, T, MaxR<T>)                                                      \
  REDUCE_OP(min, T, MinR<T>)                                                      \
  REDUCE_OP(argmax, T, ArgMaxR<T>)                                           \
  REDUCE_OP(argmin, T, ArgMinR<T>)                                          \
  SCAN(T)

#if LT_FOR(LT_F32)
REDUCE_ALL(f32)
#endif
#if LT_FOR(LT_F64)
REDUCE_ALL(f64)
#endif
#if LT_FOR(LT_F16)
REDUCE_ALL(f16)
#endif
#if LT_FOR(LT_BF16)
REDUCE_ALL(bf16)
#endif
#if LT_FOR(LT_I32)
REDUCE_ALL(i32)
#endif
#if LT_FOR(LT_I64)
REDUCE_ALL(i64)
#endif
#if LT_FOR(LT_I8)
REDUCE_ALL(i8)
#endif
#if LT_FOR(LT_U8)
REDUCE_ALL(u8)
#endif
#if LT_FOR(LT_BOOL)
REDUCE_ALL(bool)
#endif
