// Index kernels. Indices are i64; negative ones count from the end. An index out of range
// is clamped (gather, index_select) or skipped (scatter_add) so the kernel never faults,
// and sets the device error flag that the next synchronize/read reports.
//
//   gather_{dtype}(Idx p, T* y, const T* x, const i64* idx, u32* err)
//       y shaped like idx: y[..i..] = x[.. idx[..i..] at `dim` ..]
//   index_select_{dtype}(Idx p, T* y, const T* x, const i64* idx, u32* err)
//       idx 1-D: y[.. j at dim ..] = x[.. idx[j] at dim ..]
//   scatter_add_{dtype}(Idx p, T* y, const T* src, const i64* idx, u32* err)
//       y[.. idx[..i..] at dim ..] += src[..i..] (atomic; y was filled beforehand)

struct Idx {
  u64 numel;
  i32 rank;
  i32 dim;
  i64 size;  // the indexed axis' size in the tensor indexed (x, or y for scatter_add)
  i64 istride;  // index_select: the 1-D index's stride
  i64 tdim;     // the indexed tensor's stride along `dim`
  u64 dims[LT_MAX_DIMS];  // the iteration shape (y for gather/index_select, idx for scatter_add)
  i64 a[LT_MAX_DIMS];     // strides of the iterated output/input (y; src for scatter_add)
  i64 t[LT_MAX_DIMS];     // strides of the indexed tensor (x; y for scatter_add)
  i64 ix[LT_MAX_DIMS];    // strides of idx (gather, scatter_add)
};

__device__ __forceinline__ i64 wrap_index(i64 j, i64 size, u32* err, u32 bit, bool* ok) {
  if (j < 0) j += size;
  if (j < 0 || j >= size) {
    lt_flag(err, bit);
    *ok = false;
    return j < 0 ? 0 : (size > 0 ? size - 1 : 0);
  }
  *ok = true;
  return j;
}

// Offsets of element i: o[0] in the iterated tensor, o[1] in the indexed tensor without the
// indexed axis, o[2] in idx; c = the coordinate along `dim`.
__device__ __forceinline__ void idx_offsets(const Idx& p, u64 i, i64 (&o)[3], i64* c) {
  o[0] = o[1] = o[2] = 0;
  *c = 0;
#pragma unroll
  for (int d = LT_MAX_DIMS - 1; d >= 0; --d) {
    if (d < p.rank) {
      u64 k = i % p.dims[d];
      i /= p.dims[d];
      o[0] += (i64)k * p.a[d];
      o[2] += (i64)k * p.ix[d];
      if (d == p.dim) {
        *c = (i64)k;
      } else {
        o[1] += (i64)k * p.t[d];
      }
    }
  }
}

template <typename T>
__device__ __forceinline__ void gather_run(const Idx& p, T* y, const T* x, const i64* idx, u32* err) {
  LT_GRID_LOOP(i, p.numel) {
    i64 o[3], c;
    idx_offsets(p, i, o, &c);
    bool ok;
    i64 j = wrap_index(idx[o[2]], p.size, err, LT_ERR_GATHER, &ok);
    y[o[0]] = p.size > 0 ? x[o[1] + j * p.tdim] : T();
  }
}

template <typename T>
__device__ __forceinline__ void index_select_run(const Idx& p, T* y, const T* x, const i64* idx, u32* err) {
  LT_GRID_LOOP(i, p.numel) {
    i64 o[3], c;
    idx_offsets(p, i, o, &c);
    bool ok;
    i64 j = wrap_index(idx[c * p.istride], p.size, err, LT_ERR_INDEX_SELECT, &ok);
    y[o[0]] = p.size > 0 ? x[o[1] + j * p.tdim] : T();
  }
}

// Atomic adds: native for 32/64-bit types, a compare-and-swap on the enclosing 32-bit word
// for 8- and 16-bit ones (portable to every architecture NVRTC targets).
__device__ __forceinline__ void atomic_add(f32* p, f32 v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(f64* p, f64 v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(i32* p, i32 v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(i64* p, i64 v) {
  atomicAdd((unsigned long long*)p, (unsigned long long)v);
}
template <typename T, typename F> __device__ __forceinline__ void atomic_small(T* p, F f) {
  const u64 addr = (u64)p;
  u32* word = (u32*)(addr & ~(u64)3);
  const u32 shift = (u32)(addr & 3) * 8;
  const u32 mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
  u32 old = *word, assumed;
  do {
    assumed = old;
    T cur;
    u32 bits = (assumed & mask) >> shift;
    if (sizeof(T) == 1) {
      u8 b = (u8)bits;
      memcpy(&cur, &b, 1);
    } else {
      u16 h = (u16)bits;
      memcpy(&cur, &h, 2);
    }
    T nv = f(cur);
    u32 nb = 0;
    if (sizeof(T) == 1) {
      u8 b;
      memcpy(&b, &nv, 1);
      nb = b;
    } else {
      u16 h;
      memcpy(&h, &nv, 2);
      nb = h;
    }
    old = atomicCAS(word, assumed, (assumed & ~mask) | (nb << shift));
  } while (old != assumed);
}
__device__ __forceinline__ void atomic_add(f16* p, f16 v) {
  atomic_small(p, [v](f16 c) { return f32_to_f16(f16_to_f32(c) + f16_to_f32(v)); });
}
__device__ __forceinline__ void atomic_add(bf16* p, bf16 v) {
  atomic_small(p, [v](bf16 c) { return f32_to_bf16(bf16_to_f32(c) + bf16_to_f32(v)); });
}
__device__ __forceinline__ void atomic_add(u8* p, u8 v) {
  atomic_small(p, [v](u8 c) { return (u8)(c + v); });
}
__device__ __forceinline__ void atomic_add(i8* p, i8 v) {
  atomic_small(p, [v](i8 c) { return (i8)(u8)((u8)c + (u8)v); });
}
__device__ __forceinline__ void atomic_add(bool* p, bool v) {
  if (v) atomic_small(p, [](bool) { return true; });
}

template <typename T>
__device__ __forceinline__ void scatter_add_run(const Idx& p, T* y, const T* src, const i64* idx, u32* err) {
  LT_GRID_LOOP(i, p.numel) {
    i64 o[3], c;
    idx_offsets(p, i, o, &c);
    bool ok;
    i64 j = wrap_index(idx[o[2]], p.size, err, LT_ERR_SCATTER_ADD, &ok);
    if (ok) atomic_add(&y[o[1] + j * p.tdim], src[o[0]]);
  }
}

#define INDEX(T)                                                                  \
  extern "C" __global__ void gather_##T(const Idx p, T* y, const T* x, const i64* idx, u32* err) { \
    gather_run<T>(p, y, x, idx, err);                                             \
  }                                                                               \
  extern "C" __global__ void index_select_##T(const Idx p, T* y, const T* x, const i64* idx, u32* err) { \
    index_select_run<T>(p, y, x, idx, err);                                       \
  }                                                                               \
  extern "C" __global__ void scatter_add_##T(const Idx p, T* y, const T* src, const i64* idx, u32* err) { \
    scatter_add_run<T>(p, y, src, idx, err);                                      \
  }

#if LT_FOR(LT_F32)
INDEX(f32)
#endif
#if LT_FOR(LT_F64)
INDEX(f64)
#endif
#if LT_FOR(LT_F16)
INDEX(f16)
#endif
#if LT_FOR(LT_BF16)
INDEX(bf16)
#endif
#if LT_FOR(LT_I32)
INDEX(i32)
#endif
#if LT_FOR(LT_I64)
INDEX(i64)
#endif
#if LT_FOR(LT_I8)
INDEX(i8)
#endif
#if LT_FOR(LT_U8)
INDEX(u8)
#endif
#if LT_FOR(LT_BOOL)
INDEX(bool)
#endif
