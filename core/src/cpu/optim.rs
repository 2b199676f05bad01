//! Fused optimizer updates ([`FusedOp::AdamStep`], [`FusedOp::SgdStep`]) for f32 and f64: one
//! pass over the parameter and its state instead of the composed update's five to ten, in the
//! composed update's order of operations (each scalar rounded to the dtype, as the composed
//! ops round their wrapped scalars), so the results are the composed path's bit for bit.

use super::walk::{par_range, Ptr};
use super::Arg;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::{AdamStep, FusedOp, SgdStep};

/// Elements per parallel task: large enough to amortise a rayon task.
const CHUNK: usize = 16 * 1024;

/// Float arithmetic the updates need, for f32 and f64.
trait F: Copy + Send + Sync + core::ops::Add<Output = Self> + core::ops::Sub<Output = Self> {
    fn of(x: f64) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
}

impl F for f32 {
    fn of(x: f64) -> f32 {
        x as f32
    }
    fn mul(self, o: f32) -> f32 {
        self * o
    }
    fn div(self, o: f32) -> f32 {
        self / o
    }
    fn sqrt(self) -> f32 {
        libm::sqrtf(self)
    }
}

impl F for f64 {
    fn of(x: f64) -> f64 {
        x
    }
    fn mul(self, o: f64) -> f64 {
        self * o
    }
    fn div(self, o: f64) -> f64 {
        self / o
    }
    fn sqrt(self) -> f64 {
        libm::sqrt(self)
    }
}

/// Runs `op` when every view is contiguous and of one float dtype; `None` otherwise (the
/// composed update).
pub(crate) fn step(op: &FusedOp, g: &Arg, outs: &[&Arg]) -> Option<Result<()>> {
    let n = g.layout.numel();
    let fits = |a: &Arg| a.layout.is_contiguous() && a.dtype == g.dtype && a.layout.numel() == n;
    if !fits(g) || !outs.iter().all(|a| fits(a)) {
        return None;
    }
    match (op, outs, g.dtype) {
        (FusedOp::AdamStep(s), [p, m, v], DType::F32) => adam::<f32>(s, n, g, p, m, v),
        (FusedOp::AdamStep(s), [p, m, v], DType::F64) => adam::<f64>(s, n, g, p, m, v),
        (FusedOp::SgdStep(s), [p, b], DType::F32) => sgd::<f32>(s, n, g, p, b),
        (FusedOp::SgdStep(s), [p, b], DType::F64) => sgd::<f64>(s, n, g, p, b),
        _ => return None,
    }
    Some(Ok(()))
}

/// The typed element pointer of a contiguous view.
fn at<T>(a: &Arg) -> Ptr<T> {
    // SAFETY: `resolve` checked the view (offset + numel) lies inside its buffer.
    Ptr(unsafe { (a.ptr.0 as *mut T).add(a.layout.offset) })
}

/// Calls `f(i)` for every element index, in parallel chunks when there are many.
fn each(n: usize, f: impl Fn(usize) + Sync + Send) {
    par_range(n.div_ceil(CHUNK), n * 8, |c| {
        for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
            f(i)
        }
    });
}

fn adam<T: F>(s: &AdamStep, n: usize, g: &Arg, p: &Arg, m: &Arg, v: &Arg) {
    let (gp, pp, mp, vp) = (at::<T>(g), at::<T>(p), at::<T>(m), at::<T>(v));
    let [decay, l2, w1, b2, w2, bc2, eps, nss] = [
        s.decay_mul,
        s.l2,
        s.one_minus_beta1,
        s.beta2,
        s.one_minus_beta2,
        s.bias2_sqrt,
        s.eps,
        s.neg_step_size,
    ]
    .map(T::of);
    let (scale, with_l2) = (s.decay_mul != 1.0, s.l2 != 0.0);
    each(n, |i| {
        // SAFETY: i < n, the views' length; each index is touched by one task only.
        unsafe {
            let mut pi = *pp.at(i);
            let mut gi = *gp.at(i);
            if scale {
                pi = pi.mul(decay);
            }
            if with_l2 {
                gi = gi + pi.mul(l2);
            }
            let mut mi = *mp.at(i);
            mi = mi + (gi - mi).mul(w1);
            let mut vi = (*vp.at(i)).mul(b2);
            vi = vi + gi.mul(w2).mul(gi);
            let denom = vi.sqrt().div(bc2) + eps;
            *pp.at(i) = pi + mi.mul(nss).div(denom);
            *mp.at(i) = mi;
            *vp.at(i) = vi;
        }
    });
}

fn sgd<T: F>(s: &SgdStep, n: usize, g: &Arg, p: &Arg, b: &Arg) {
    let (gp, pp, bp) = (at::<T>(g), at::<T>(p), at::<T>(b));
    let [mom, keep, wd, neg_lr] = [s.momentum, 1.0 - s.dampening, s.weight_decay, -s.lr].map(T::of);
    let (with_wd, nesterov) = (s.weight_decay != 0.0, s.nesterov);
    each(n, |i| {
        // SAFETY: as in `adam`.
        unsafe {
            let pi = *pp.at(i);
            let mut d = *gp.at(i);
            if with_wd {
                d = d + pi.mul(wd);
            }
            let bi = (*bp.at(i)).mul(mom) + d.mul(keep);
            let d = if nesterov { d + bi.mul(mom) } else { bi };
            *pp.at(i) = pi + d.mul(neg_lr);
            *bp.at(i) = bi;
        }
    });
}
