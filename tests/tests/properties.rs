//! Property tests of views and broadcasting against a naive reference: a row-major
//! `Vec<f64>` with index arithmetic, which also carries each element's storage offset so
//! it knows whether a result must share storage with its base (and where each element
//! lives in it). Shapes, view chains, broadcast pairs, reduction dims and matmul operands
//! come from a seeded xorshift generator; invalid arguments are generated on purpose and
//! must fail in Lantern exactly when the reference rejects them.

use lantern::{DType, Device, Tensor};
use lantern_tests::conformance::Rng;

// ---------------------------------------------------------------------------------------
// The reference
// ---------------------------------------------------------------------------------------

/// A row-major n-d array; `offs[i]` is where element `i` lives in storage `storage`
/// (0 is the base tensor's storage; every copy gets a fresh number).
#[derive(Clone, Debug)]
struct Nd {
    shape: Vec<usize>,
    vals: Vec<f64>,
    offs: Vec<usize>,
    storage: usize,
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major index of a multi-index.
fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |a, (&i, &d)| a * d + i)
}

/// The multi-index of row-major position `i`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

/// PyTorch's `maybe_wrap_dim` (a 0-dim tensor accepts dims -1 and 0).
fn wrap(dim: isize, rank: usize) -> Option<usize> {
    let r = rank.max(1) as isize;
    let d = if dim < 0 { dim + r } else { dim };
    (0..r).contains(&d).then_some(d as usize)
}

/// A dim of a tensor that has one (narrow, select, slice on 0-dim tensors fail).
fn real_dim(dim: isize, rank: usize) -> Option<usize> {
    if rank == 0 {
        None
    } else {
        wrap(dim, rank)
    }
}

static NEXT_STORAGE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

impl Nd {
    fn base(shape: &[usize], vals: Vec<f64>) -> Nd {
        Nd {
            shape: shape.to_vec(),
            offs: (0..vals.len()).collect(),
            vals,
            storage: 0,
        }
    }

    /// A new array of `shape` whose element at multi-index `i` is ours at `from(i)`.
    fn gather(&self, shape: Vec<usize>, from: impl Fn(&[usize]) -> Vec<usize>) -> Nd {
        let n = numel(&shape);
        let mut vals = Vec::with_capacity(n);
        let mut offs = Vec::with_capacity(n);
        for i in 0..n {
            let src = ravel(&from(&unravel(i, &shape)), &self.shape);
            vals.push(self.vals[src]);
            offs.push(self.offs[src]);
        }
        Nd {
            shape,
            vals,
            offs,
            storage: self.storage,
        }
    }

    /// A dense copy in fresh storage.
    fn copy(&self) -> Nd {
        Nd {
            shape: self.shape.clone(),
            vals: self.vals.clone(),
            offs: (0..self.vals.len()).collect(),
            storage: NEXT_STORAGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// True when the elements, read row-major under `shape`, sit at `base + Σ i·stride`
    /// for some non-negative strides: a view with that shape exists.
    fn viewable_as(&self, shape: &[usize]) -> bool {
        let n = self.offs.len();
        if n == 0 {
            return true;
        }
        let base = self.offs[0] as isize;
        let mut st = vec![0isize; shape.len()];
        let mut step = 1usize;
        for d in (0..shape.len()).rev() {
            if shape[d] > 1 {
                st[d] = self.offs[step] as isize - base;
                if st[d] < 0 {
                    return false;
                }
            }
            step *= shape[d];
        }
        (0..n).all(|i| {
            let idx = unravel(i, shape);
            let o = base
                + idx
                    .iter()
                    .zip(&st)
                    .map(|(&a, &s)| a as isize * s)
                    .sum::<isize>();
            o == self.offs[i] as isize
        })
    }

    fn permute(&self, dims: &[isize]) -> Option<Nd> {
        let r = self.shape.len();
        if dims.len() != r {
            return None;
        }
        let mut perm = Vec::new();
        for &d in dims {
            let w = wrap(d, r)?;
            if perm.contains(&w) {
                return None;
            }
            perm.push(w);
        }
        let shape = perm.iter().map(|&p| self.shape[p]).collect();
        Some(self.gather(shape, |i| {
            let mut old = vec![0; r];
            for (k, &p) in perm.iter().enumerate() {
                old[p] = i[k];
            }
            old
        }))
    }

    fn transpose(&self, a: isize, b: isize) -> Option<Nd> {
        let r = self.shape.len();
        let (a, b) = (wrap(a, r)?, wrap(b, r)?);
        if r == 0 {
            return Some(self.clone());
        }
        let mut p: Vec<isize> = (0..r as isize).collect();
        p.swap(a, b);
        self.permute(&p)
    }

    fn t(&self) -> Option<Nd> {
        match self.shape.len() {
            0 | 1 => Some(self.clone()),
            2 => self.transpose(0, 1),
            _ => None,
        }
    }

    fn narrow(&self, dim: isize, start: usize, len: usize) -> Option<Nd> {
        let d = real_dim(dim, self.shape.len())?;
        if start + len > self.shape[d] {
            return None;
        }
        let mut shape = self.shape.clone();
        shape[d] = len;
        Some(self.gather(shape, |i| {
            let mut o = i.to_vec();
            o[d] += start;
            o
        }))
    }

    fn slice(&self, dim: isize, start: isize, end: Option<isize>, step: usize) -> Option<Nd> {
        let d = real_dim(dim, self.shape.len())?;
        if step == 0 {
            return None;
        }
        let size = self.shape[d] as isize;
        let clamp = |v: isize| (if v < 0 { v + size } else { v }).clamp(0, size);
        let s = clamp(start);
        let e = clamp(end.unwrap_or(size)).max(s);
        let len = ((e - s) as usize).div_ceil(step);
        let mut shape = self.shape.clone();
        shape[d] = len;
        Some(self.gather(shape, |i| {
            let mut o = i.to_vec();
            o[d] = s as usize + i[d] * step;
            o
        }))
    }

    fn select(&self, dim: isize, index: isize) -> Option<Nd> {
        let d = real_dim(dim, self.shape.len())?;
        let size = self.shape[d] as isize;
        let i = if index < 0 { index + size } else { index };
        if !(0..size).contains(&i) {
            return None;
        }
        let mut shape = self.shape.clone();
        shape.remove(d);
        Some(self.gather(shape, |idx| {
            let mut o = idx.to_vec();
            o.insert(d, i as usize);
            o
        }))
    }

    fn expand(&self, sizes: &[isize]) -> Option<Nd> {
        let r = self.shape.len();
        if sizes.len() < r {
            return None;
        }
        let lead = sizes.len() - r;
        let mut shape = Vec::new();
        for (i, &s) in sizes.iter().enumerate() {
            let t = if s == -1 {
                if i < lead {
                    return None;
                }
                self.shape[i - lead]
            } else if s < 0 {
                return None;
            } else {
                s as usize
            };
            if i >= lead && self.shape[i - lead] != t && self.shape[i - lead] != 1 {
                return None;
            }
            shape.push(t);
        }
        let own = self.shape.clone();
        Some(self.gather(shape, |i| {
            (0..r)
                .map(|k| if own[k] == 1 { 0 } else { i[lead + k] })
                .collect()
        }))
    }

    fn squeeze(&self, dim: Option<isize>) -> Option<Nd> {
        let r = self.shape.len();
        let keep: Vec<usize> = match dim {
            Some(d) => {
                let d = wrap(d, r)?;
                (0..r)
                    .filter(|&k| !(k == d && self.shape[k] == 1))
                    .collect()
            }
            None => (0..r).filter(|&k| self.shape[k] != 1).collect(),
        };
        let shape = keep.iter().map(|&k| self.shape[k]).collect();
        Some(self.gather(shape, |i| {
            let mut o = vec![0; r];
            for (j, &k) in keep.iter().enumerate() {
                o[k] = i[j];
            }
            o
        }))
    }

    fn unsqueeze(&self, dim: isize) -> Option<Nd> {
        let d = wrap(dim, self.shape.len() + 1)?;
        let mut shape = self.shape.clone();
        shape.insert(d, 1);
        Some(self.gather(shape, |i| {
            let mut o = i.to_vec();
            o.remove(d);
            o
        }))
    }

    /// Resolves one -1 against our element count (PyTorch's `infer_size`).
    fn infer(&self, sizes: &[isize]) -> Option<Vec<usize>> {
        let n = self.vals.len();
        let mut out = Vec::new();
        let mut hole = None;
        let mut known = 1usize;
        for (i, &s) in sizes.iter().enumerate() {
            if s == -1 {
                if hole.replace(i).is_some() {
                    return None;
                }
                out.push(1);
            } else if s < 0 {
                return None;
            } else {
                known *= s as usize;
                out.push(s as usize);
            }
        }
        match hole {
            Some(h) => {
                if known == 0 || !n.is_multiple_of(known) {
                    return None;
                }
                out[h] = n / known;
            }
            None if known != n => return None,
            None => {}
        }
        Some(out)
    }

    /// `reshape`: a view when one exists, else a copy.
    fn reshape(&self, sizes: &[isize]) -> Option<Nd> {
        let shape = self.infer(sizes)?;
        let src = if self.viewable_as(&shape) {
            self.clone()
        } else {
            self.copy()
        };
        Some(Nd { shape, ..src })
    }

    /// `view`: only when a view exists.
    fn view(&self, sizes: &[isize]) -> Option<Nd> {
        let shape = self.infer(sizes)?;
        self.viewable_as(&shape).then(|| Nd {
            shape,
            ..self.clone()
        })
    }

    fn flatten(&self, s: isize, e: isize) -> Option<Nd> {
        let r = self.shape.len();
        let (s, e) = (wrap(s, r)?, wrap(e, r)?);
        if r == 0 {
            return self.reshape(&[1]);
        }
        if s > e {
            return None;
        }
        let mut sizes: Vec<isize> = self.shape[..s].iter().map(|&d| d as isize).collect();
        sizes.push(numel(&self.shape[s..=e]) as isize);
        sizes.extend(self.shape[e + 1..].iter().map(|&d| d as isize));
        self.reshape(&sizes)
    }

    fn contiguous(&self) -> Nd {
        let dense = self.offs.windows(2).all(|w| w[1] == w[0] + 1);
        if dense {
            self.clone()
        } else {
            self.copy()
        }
    }
}

/// NumPy broadcasting of two shapes.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let da = if i + a.len() >= r {
            a[i + a.len() - r]
        } else {
            1
        };
        let db = if i + b.len() >= r {
            b[i + b.len() - r]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

/// The value of `x` at an index of a shape it broadcasts to.
fn at_broadcast(x: &Nd, idx: &[usize]) -> f64 {
    let lead = idx.len() - x.shape.len();
    let own: Vec<usize> = (0..x.shape.len())
        .map(|k| if x.shape[k] == 1 { 0 } else { idx[lead + k] })
        .collect();
    x.vals[ravel(&own, &x.shape)]
}

fn zip_broadcast(xs: &[&Nd], f: impl Fn(&[f64]) -> f64) -> Option<(Vec<usize>, Vec<f64>)> {
    let mut shape = xs[0].shape.clone();
    for x in &xs[1..] {
        shape = broadcast(&shape, &x.shape)?;
    }
    let vals = (0..numel(&shape))
        .map(|i| {
            let idx = unravel(i, &shape);
            let v: Vec<f64> = xs.iter().map(|x| at_broadcast(x, &idx)).collect();
            f(&v)
        })
        .collect();
    Some((shape, vals))
}

fn ref_sum(x: &Nd, dims: Option<&[isize]>, keepdim: bool) -> Option<(Vec<usize>, Vec<f64>)> {
    let r = x.shape.len();
    let mut axes: Vec<usize> = Vec::new();
    match dims {
        None | Some([]) => axes = (0..r).collect(),
        Some(ds) => {
            for &d in ds {
                let w = wrap(d, r)?;
                if axes.contains(&w) {
                    return None;
                }
                axes.push(w);
            }
            if r == 0 {
                axes.clear();
            }
        }
    }
    let kshape: Vec<usize> = (0..r)
        .map(|d| if axes.contains(&d) { 1 } else { x.shape[d] })
        .collect();
    let mut vals = vec![0.0; numel(&kshape)];
    for (i, v) in x.vals.iter().enumerate() {
        let mut idx = unravel(i, &x.shape);
        for &a in &axes {
            idx[a] = 0;
        }
        vals[ravel(&idx, &kshape)] += v;
    }
    let shape = if keepdim {
        kshape
    } else {
        (0..r)
            .filter(|d| !axes.contains(d))
            .map(|d| x.shape[d])
            .collect()
    };
    Some((shape, vals))
}

/// `torch.matmul`'s rules: 1-D operands gain a dim that is removed again; batch dims
/// broadcast.
fn ref_matmul(a: &Nd, b: &Nd) -> Option<(Vec<usize>, Vec<f64>)> {
    let (ra, rb) = (a.shape.len(), b.shape.len());
    if ra == 0 || rb == 0 {
        return None;
    }
    let sa = if ra == 1 {
        vec![1, a.shape[0]]
    } else {
        a.shape.clone()
    };
    let sb = if rb == 1 {
        vec![b.shape[0], 1]
    } else {
        b.shape.clone()
    };
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (k2, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != k2 {
        return None;
    }
    let batch = broadcast(&sa[..sa.len() - 2], &sb[..sb.len() - 2])?;
    let mut full = batch.clone();
    full.extend([m, n]);
    let av = Nd {
        shape: sa.clone(),
        ..a.clone()
    };
    let bv = Nd {
        shape: sb.clone(),
        ..b.clone()
    };
    let vals = (0..numel(&full))
        .map(|i| {
            let idx = unravel(i, &full);
            let nb = batch.len();
            (0..k)
                .map(|p| {
                    let mut ia = idx[..nb].to_vec();
                    ia.extend([idx[nb], p]);
                    let mut ib = idx[..nb].to_vec();
                    ib.extend([p, idx[nb + 1]]);
                    at_broadcast(&av, &ia) * at_broadcast(&bv, &ib)
                })
                .sum::<f64>()
        })
        .collect();
    let mut shape = full;
    if rb == 1 {
        shape.pop();
    }
    if ra == 1 {
        shape.remove(shape.len() - if rb == 1 { 1 } else { 2 });
    }
    Some((shape, vals))
}

// ---------------------------------------------------------------------------------------
// Generators and checks
// ---------------------------------------------------------------------------------------

fn cpu() -> Device {
    Device::cpu()
}

fn rand_shape(r: &mut Rng, max_rank: usize) -> Vec<usize> {
    let rank = r.below(max_rank + 1);
    (0..rank)
        .map(|_| {
            if r.below(12) == 0 {
                0
            } else {
                r.int(1, 4) as usize
            }
        })
        .collect()
}

/// A dim argument: usually valid (either sign), sometimes out of range.
fn rand_dim(r: &mut Rng, rank: usize) -> isize {
    let n = rank.max(1) as isize;
    if r.below(10) == 0 {
        [n, -n - 1, n + 2][r.below(3)]
    } else {
        let d = r.below(n as usize) as isize;
        if r.below(2) == 0 {
            d - n
        } else {
            d
        }
    }
}

#[derive(Clone, Debug)]
enum ViewOp {
    Permute(Vec<isize>),
    Transpose(isize, isize),
    T,
    Narrow(isize, usize, usize),
    Slice(isize, isize, Option<isize>, usize),
    Select(isize, isize),
    Expand(Vec<isize>),
    Squeeze(Option<isize>),
    Unsqueeze(isize),
    Reshape(Vec<isize>),
    View(Vec<isize>),
    Flatten(isize, isize),
    Contiguous,
}

fn rand_op(r: &mut Rng, x: &Nd) -> ViewOp {
    let rank = x.shape.len();
    let size =
        |d: isize| -> usize { wrap(d, rank).map_or(3, |w| x.shape.get(w).copied().unwrap_or(1)) };
    match r.below(13) {
        0 => {
            let mut p: Vec<isize> = (0..rank as isize).collect();
            for i in (1..p.len()).rev() {
                p.swap(i, r.below(i + 1));
            }
            for v in p.iter_mut() {
                if r.below(3) == 0 {
                    *v -= rank as isize;
                }
            }
            if r.below(10) == 0 && rank > 0 {
                p[0] = p[p.len() - 1];
            }
            ViewOp::Permute(p)
        }
        1 => ViewOp::Transpose(rand_dim(r, rank), rand_dim(r, rank)),
        2 => ViewOp::T,
        3 => {
            let d = rand_dim(r, rank);
            let s = size(d);
            let start = r.below(s + 1);
            let len = r.below(s - start + 1) + (r.below(10) == 0) as usize;
            ViewOp::Narrow(d, start, len)
        }
        4 => {
            let d = rand_dim(r, rank);
            let s = size(d) as i64;
            let start = r.int(-s - 1, s + 1) as isize;
            let end = if r.below(3) == 0 {
                None
            } else {
                Some(r.int(-s - 1, s + 1) as isize)
            };
            ViewOp::Slice(
                d,
                start,
                end,
                r.int(1, 3) as usize - (r.below(20) == 0) as usize,
            )
        }
        5 => {
            let d = rand_dim(r, rank);
            let s = size(d) as i64;
            ViewOp::Select(d, r.int(-s - 1, s) as isize)
        }
        6 => {
            let lead = r.below(3);
            let mut sizes: Vec<isize> = (0..lead).map(|_| r.int(0, 3) as isize).collect();
            for &d in &x.shape {
                sizes.push(match r.below(4) {
                    0 => -1,
                    1 if d == 1 => r.int(0, 4) as isize,
                    2 if r.below(8) == 0 => d as isize + 1,
                    _ => d as isize,
                });
            }
            ViewOp::Expand(sizes)
        }
        7 => ViewOp::Squeeze(if r.below(2) == 0 {
            None
        } else {
            Some(rand_dim(r, rank))
        }),
        8 => ViewOp::Unsqueeze(rand_dim(r, rank + 1)),
        9 | 10 => {
            // A random factorisation of the element count, with a -1 now and then.
            let n = x.vals.len();
            let mut sizes: Vec<isize> = Vec::new();
            let mut left = n;
            while left > 1 && sizes.len() < 4 {
                let f = (2..=left)
                    .find(|&f| left.is_multiple_of(f) && r.below(2) == 0)
                    .unwrap_or(left);
                sizes.push(f as isize);
                left /= f;
            }
            if n == 0 {
                sizes = vec![0, r.int(1, 3) as isize];
            }
            if r.below(3) == 0 {
                let at = r.below(sizes.len() + 1);
                sizes.insert(at, 1);
            }
            if !sizes.is_empty() && r.below(3) == 0 {
                let at = r.below(sizes.len());
                sizes[at] = -1;
            }
            if r.below(12) == 0 {
                sizes.push(2);
            }
            for i in (1..sizes.len()).rev() {
                let j = r.below(i + 1);
                sizes.swap(i, j);
            }
            if r.below(2) == 0 {
                ViewOp::Reshape(sizes)
            } else {
                ViewOp::View(sizes)
            }
        }
        11 => {
            let s = rand_dim(r, rank);
            let e = if r.below(5) == 0 {
                rand_dim(r, rank)
            } else {
                s.max(rank as isize - 1)
            };
            ViewOp::Flatten(s, e)
        }
        _ => ViewOp::Contiguous,
    }
}

fn apply_ref(x: &Nd, op: &ViewOp) -> Option<Nd> {
    match op {
        ViewOp::Permute(p) => x.permute(p),
        ViewOp::Transpose(a, b) => x.transpose(*a, *b),
        ViewOp::T => x.t(),
        ViewOp::Narrow(d, s, l) => x.narrow(*d, *s, *l),
        ViewOp::Slice(d, s, e, st) => x.slice(*d, *s, *e, *st),
        ViewOp::Select(d, i) => x.select(*d, *i),
        ViewOp::Expand(s) => x.expand(s),
        ViewOp::Squeeze(d) => x.squeeze(*d),
        ViewOp::Unsqueeze(d) => x.unsqueeze(*d),
        ViewOp::Reshape(s) => x.reshape(s),
        ViewOp::View(s) => x.view(s),
        ViewOp::Flatten(s, e) => x.flatten(*s, *e),
        ViewOp::Contiguous => Some(x.contiguous()),
    }
}

fn apply_lantern(t: &Tensor, op: &ViewOp) -> lantern::Result<Tensor> {
    match op {
        ViewOp::Permute(p) => t.try_permute(p),
        ViewOp::Transpose(a, b) => t.try_transpose(*a, *b),
        ViewOp::T => t.try_t(),
        ViewOp::Narrow(d, s, l) => t.try_narrow(*d, *s, *l),
        ViewOp::Slice(d, s, e, st) => t.try_slice(*d, *s, *e, *st),
        ViewOp::Select(d, i) => t.try_select(*d, *i),
        ViewOp::Expand(s) => t.try_expand(s),
        ViewOp::Squeeze(d) => t.try_squeeze(*d),
        ViewOp::Unsqueeze(d) => t.try_unsqueeze(*d),
        ViewOp::Reshape(s) => t.try_reshape(s),
        ViewOp::View(s) => t.try_view(s),
        ViewOp::Flatten(s, e) => t.try_flatten(*s, *e),
        ViewOp::Contiguous => t.try_contiguous(),
    }
}

/// Storage offsets of a tensor's elements, row-major, from its layout.
fn layout_offsets(t: &Tensor) -> Vec<usize> {
    let l = t.layout();
    (0..t.numel())
        .map(|i| {
            let idx = unravel(i, t.dims());
            l.offset
                + idx
                    .iter()
                    .zip(l.strides.iter())
                    .map(|(a, s)| a * s)
                    .sum::<usize>()
        })
        .collect()
}

/// Compares a Lantern tensor with the reference: shape, values, and (against `base`)
/// whether it shares storage and where each element sits.
fn check(t: &Tensor, x: &Nd, base: &Tensor, ctx: &str) {
    assert_eq!(t.dims(), x.shape.as_slice(), "shape after {ctx}");
    assert_eq!(t.to_f64_vec(), x.vals, "values after {ctx}");
    let shares = t.shares_storage(base);
    if x.storage == 0 {
        assert!(shares, "expected a view of the base after {ctx}");
    } else {
        assert!(!shares, "expected a copy after {ctx}");
    }
    if x.storage == 0 || !shares {
        assert_eq!(layout_offsets(t), x.offs, "storage offsets after {ctx}");
    }
}

/// A base tensor of `shape` with distinct values 0, 1, 2, ... (so misplaced elements show).
fn base(shape: &[usize]) -> (Tensor, Nd) {
    let vals: Vec<f64> = (0..numel(shape)).map(|i| i as f64).collect();
    (
        Tensor::from_slice(&vals, shape, &cpu()),
        Nd::base(shape, vals),
    )
}

#[test]
fn view_chains_match_the_reference() {
    let mut r = Rng::new(0x5eed_0001);
    let (mut ran, mut rejected) = (0, 0);
    for case in 0..3000 {
        let shape = rand_shape(&mut r, 4);
        let (bt, bx) = base(&shape);
        let (mut t, mut x) = (bt.clone(), bx);
        let mut ctx = format!("case {case}: base {shape:?}");
        for _ in 0..r.int(1, 6) {
            let op = rand_op(&mut r, &x);
            ctx = format!("{ctx} -> {op:?}");
            let want = apply_ref(&x, &op);
            let got =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply_lantern(&t, &op)))
                    .unwrap_or_else(|_| panic!("panicked: {ctx}"));
            match (got, want) {
                (Ok(g), Some(w)) => {
                    check(&g, &w, &bt, &ctx);
                    t = g;
                    x = w;
                    ran += 1;
                }
                (Err(_), None) => {
                    rejected += 1;
                    break;
                }
                (Ok(g), None) => panic!("Lantern accepted {ctx} (gave {:?})", g.dims()),
                (Err(e), Some(w)) => panic!("Lantern rejected {ctx}: {e} (want {:?})", w.shape),
            }
        }
    }
    assert!(
        ran > 1000 && rejected > 50,
        "ran {ran}, rejected {rejected}"
    );
}

/// A tensor of `shape` with small integer values through a random layout: contiguous,
/// permuted storage, a slice with a step, or an expanded size-1 dim; and its reference.
fn operand(r: &mut Rng, shape: &[usize], dtype: DType) -> (Tensor, Nd) {
    let n = numel(shape);
    let vals: Vec<f64> = (0..n).map(|_| r.int(-4, 4) as f64).collect();
    let x = Nd::base(shape, vals.clone());
    let rank = shape.len();
    let t = match r.below(4) {
        1 if rank >= 2 => {
            // Stored transposed: make the permuted array, permute back.
            let mut p: Vec<usize> = (0..rank).collect();
            p.reverse();
            let stored = x
                .permute(&p.iter().map(|&d| d as isize).collect::<Vec<_>>())
                .unwrap();
            let s = Tensor::from_slice(&stored.vals, stored.shape.as_slice(), &cpu());
            s.permute(&p.iter().map(|&d| d as isize).collect::<Vec<_>>())
        }
        2 if rank >= 1 => {
            // Every other element of a twice-as-long last dim.
            let mut big = shape.to_vec();
            big[rank - 1] *= 2;
            let mut bv = vec![99.0; numel(&big)];
            for (i, v) in vals.iter().enumerate() {
                let mut idx = unravel(i, shape);
                idx[rank - 1] *= 2;
                bv[ravel(&idx, &big)] = *v;
            }
            Tensor::from_slice(&bv, big.as_slice(), &cpu()).slice(-1, 0, None, 2)
        }
        3 if shape.iter().any(|&d| d > 1) => {
            // Broadcast a size-1 dim: every slice along it holds the same values.
            let d = shape.iter().position(|&d| d > 1).unwrap();
            let mut one = shape.to_vec();
            one[d] = 1;
            let small = x.narrow(d as isize, 0, 1).unwrap();
            let s = Tensor::from_slice(&small.vals, one.as_slice(), &cpu());
            let e = s.expand(&shape.iter().map(|&v| v as isize).collect::<Vec<_>>());
            let xr = small
                .expand(&shape.iter().map(|&v| v as isize).collect::<Vec<_>>())
                .unwrap();
            return (e.to_dtype(dtype), Nd::base(shape, xr.vals));
        }
        _ => Tensor::from_slice(&vals, shape, &cpu()),
    };
    (t.to_dtype(dtype), x)
}

/// A shape that broadcasts with `s` (a suffix with some dims set to 1), or now and then
/// one that does not.
fn partner(r: &mut Rng, s: &[usize]) -> Vec<usize> {
    let keep = r.below(s.len() + 1);
    let mut p: Vec<usize> = s[s.len() - keep..]
        .iter()
        .map(|&d| if r.below(3) == 0 { 1 } else { d })
        .collect();
    if r.below(4) == 0 {
        for _ in 0..r.below(2) + 1 {
            p.insert(0, r.int(1, 3) as usize);
        }
    }
    if r.below(10) == 0 {
        if let Some(d) = p.iter_mut().find(|d| **d > 1) {
            *d += 1;
        }
    }
    p
}

#[test]
fn broadcasting_binary_ops_match_the_reference() {
    let mut r = Rng::new(0x5eed_0002);
    let (mut ok, mut bad) = (0, 0);
    for case in 0..1000 {
        let s0 = rand_shape(&mut r, 4);
        let s1 = partner(&mut r, &s0);
        let (mut sa, sb) = if r.below(2) == 0 { (s0, s1) } else { (s1, s0) };
        if r.below(15) == 0 {
            sa.clear(); // a 0-dim operand
        }
        let dt = [DType::F64, DType::F32, DType::I64][r.below(3)];
        let (a, xa) = operand(&mut r, &sa, dt);
        let (b, xb) = operand(&mut r, &sb, dt);
        let ctx = format!("case {case}: {sa:?} {dt} with {sb:?}");
        for (name, got, f) in [
            (
                "add",
                a.try_add(&b),
                (|v: &[f64]| v[0] + v[1]) as fn(&[f64]) -> f64,
            ),
            ("mul", a.try_mul(&b), |v| v[0] * v[1]),
            ("sub", b.try_sub(&a), |v| v[1] - v[0]),
            ("maximum", a.try_maximum(&b), |v| v[0].max(v[1])),
        ] {
            let want = zip_broadcast(&[&xa, &xb], f);
            match (got, want) {
                (Ok(g), Some((shape, vals))) => {
                    assert_eq!(g.dims(), shape.as_slice(), "{name} {ctx}");
                    assert_eq!(g.dtype(), dt, "{name} {ctx}");
                    assert_eq!(g.to_f64_vec(), vals, "{name} {ctx}");
                    assert!(!g.shares_storage(&a) && !g.shares_storage(&b));
                    ok += 1;
                }
                (Err(e), None) => {
                    assert!(matches!(e, lantern::Error::Shape { .. }), "{e:?}");
                    assert!(e.to_string().contains(name), "{e}");
                    bad += 1;
                }
                (Ok(g), None) => panic!("{name} accepted {ctx}: {:?}", g.dims()),
                (Err(e), Some((s, _))) => panic!("{name} rejected {ctx}: {e} (want {s:?})"),
            }
        }
        // In place: only when the broadcast shape is a's own.
        let want = zip_broadcast(&[&xa, &xb], |v| v[0] + v[1]);
        let a2 = a.contiguous().add_scalar(0);
        match (a2.try_add_(&b), want) {
            (Ok(_), Some((shape, vals))) if shape == sa => assert_eq!(a2.to_f64_vec(), vals),
            (Err(_), Some((shape, _))) if shape != sa => {}
            (Err(_), None) => {}
            (r2, w) => panic!(
                "add_ {ctx}: {:?} vs {:?}",
                r2.map(|t| t.dims().to_vec()),
                w.map(|w| w.0)
            ),
        }
    }
    assert!(ok > 3000 && bad > 40, "ok {ok}, bad {bad}");
}

#[test]
fn where_matches_the_reference() {
    let mut r = Rng::new(0x5eed_0003);
    for case in 0..300 {
        let s = rand_shape(&mut r, 3);
        let sc = partner(&mut r, &s);
        let sy = partner(&mut r, &s);
        let (c, xc) = operand(&mut r, &sc, DType::F64);
        let (x, xx) = operand(&mut r, &s, DType::F64);
        let (y, xy) = operand(&mut r, &sy, DType::F32);
        let cond = c.gt_scalar(0.0);
        let got = Tensor::try_where(&cond, &x, &y);
        let want = zip_broadcast(&[&xc, &xx, &xy], |v| if v[0] > 0.0 { v[1] } else { v[2] });
        let ctx = format!("case {case}: cond {sc:?}, x {s:?}, y {sy:?}");
        match (got, want) {
            (Ok(g), Some((shape, vals))) => {
                assert_eq!(g.dims(), shape.as_slice(), "{ctx}");
                // result_type: a 0-dim operand does not promote a dimensioned one.
                let dt = if s.is_empty() && !sy.is_empty() {
                    DType::F32
                } else {
                    DType::F64
                };
                assert_eq!(g.dtype(), dt, "{ctx}");
                assert_eq!(g.to_f64_vec(), vals, "{ctx}");
            }
            (Err(e), None) => assert!(matches!(e, lantern::Error::Shape { op: "where", .. })),
            (g, w) => panic!(
                "{ctx}: {:?} vs {:?}",
                g.map(|t| t.dims().to_vec()),
                w.map(|w| w.0)
            ),
        }
    }
}

#[test]
fn sums_over_random_dims_match_the_reference() {
    let mut r = Rng::new(0x5eed_0004);
    let (mut ok, mut bad) = (0, 0);
    for case in 0..400 {
        let s = rand_shape(&mut r, 4);
        let dt = [DType::F64, DType::F32, DType::I64][r.below(3)];
        let (t, x) = operand(&mut r, &s, dt);
        let rank = s.len();
        let dims: Option<Vec<isize>> = match r.below(5) {
            0 => None,
            _ => Some(
                (0..r.below(rank + 2))
                    .map(|_| rand_dim(&mut r, rank))
                    .collect(),
            ),
        };
        let keepdim = r.below(2) == 0;
        let got = t.try_sum(dims.as_deref(), keepdim);
        let want = ref_sum(&x, dims.as_deref(), keepdim);
        let ctx = format!("case {case}: {s:?} {dt} sum {dims:?} keepdim {keepdim}");
        match (got, want) {
            (Ok(g), Some((shape, vals))) => {
                assert_eq!(g.dims(), shape.as_slice(), "{ctx}");
                assert_eq!(g.to_f64_vec(), vals, "{ctx}");
                ok += 1;
            }
            (Err(e), None) => {
                assert!(
                    matches!(e, lantern::Error::Arg { op: "sum", .. }),
                    "{ctx}: {e:?}"
                );
                bad += 1;
            }
            (g, w) => panic!(
                "{ctx}: {:?} vs {:?}",
                g.map(|t| t.dims().to_vec()),
                w.map(|w| w.0)
            ),
        }
    }
    assert!(ok > 250 && bad > 10, "ok {ok}, bad {bad}");
}

#[test]
fn matmul_of_random_shapes_matches_the_reference() {
    let mut r = Rng::new(0x5eed_0005);
    let (mut ok, mut bad) = (0, 0);
    for case in 0..400 {
        let ra = r.int(1, 4) as usize;
        let rb = r.int(1, 4) as usize;
        let dim = |r: &mut Rng| {
            if r.below(15) == 0 {
                0
            } else {
                r.int(1, 4) as usize
            }
        };
        let (m, k, n) = (dim(&mut r), dim(&mut r), dim(&mut r));
        let mut sa: Vec<usize> = if ra == 1 { vec![k] } else { vec![m, k] };
        let mut sb: Vec<usize> = if rb == 1 { vec![k] } else { vec![k, n] };
        let batch = rand_shape(&mut r, 2);
        for (s, rr) in [(&mut sa, ra), (&mut sb, rb)] {
            if rr > 2 {
                let keep = batch.len().min(rr - 2);
                let lead: Vec<usize> = batch[batch.len() - keep..]
                    .iter()
                    .map(|&d| if r.below(3) == 0 { 1 } else { d })
                    .collect();
                s.splice(0..0, lead);
            }
        }
        if r.below(10) == 0 {
            let last = sb.len().saturating_sub(2);
            sb[last] += 1; // inner dims differ
        }
        let dt = if r.below(2) == 0 {
            DType::F64
        } else {
            DType::F32
        };
        let (a, xa) = operand(&mut r, &sa, dt);
        let (b, xb) = operand(&mut r, &sb, dt);
        let ctx = format!("case {case}: {sa:?} @ {sb:?} {dt}");
        match (a.try_matmul(&b), ref_matmul(&xa, &xb)) {
            (Ok(g), Some((shape, vals))) => {
                assert_eq!(g.dims(), shape.as_slice(), "{ctx}");
                assert_eq!(g.to_f64_vec(), vals, "{ctx}");
                ok += 1;
            }
            (Err(e), None) => {
                assert!(
                    matches!(e, lantern::Error::Shape { op: "matmul", .. }),
                    "{e:?}"
                );
                bad += 1;
            }
            (g, w) => panic!(
                "{ctx}: {:?} vs {:?}",
                g.map(|t| t.dims().to_vec()),
                w.map(|w| w.0)
            ),
        }
    }
    assert!(ok > 300 && bad > 10, "ok {ok}, bad {bad}");
}
