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
        crate::math::sqrtf(self)
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
        crate::math::sqrt(self)
    }
}

/// Runs `op` on views that passed [`crate::ops::optim_step_views`] (contiguous, one f32 or
/// f64 dtype and shape, distinct buffers); `None` for another pairing of op and views.
pub(crate) fn step(op: &FusedOp, g: &Arg, outs: &[&Arg]) -> Option<Result<()>> {
    let n = g.layout.numel();
    match (op, outs, g.dtype) {
        (FusedOp::AdamStep(s), [p, m, v], DType::F32) => adam::<f32>(s, n, g, p, m, v),
        (FusedOp::AdamStep(s), [p, m, v], DType::F64) => adam::<f64>(s, n, g, p, m, v),
        (FusedOp::SgdStep(s), [p, b], DType::F32) => sgd::<f32>(s, n, g, p, b),
        (FusedOp::SgdStep(s), [p, b], DType::F64) => sgd::<f64>(s, n, g, p, b),
        _ => return None,
    }
    Some(Ok(()))
}

/// Runs `f` on matching chunks of the gradient (read) and the outputs (written), in parallel
/// when there are many elements. Plain slices let the compiler vectorise the loop bodies.
fn chunks<T: F, const K: usize>(
    n: usize,
    g: &Arg,
    outs: [&Arg; K],
    f: impl Fn(&[T], [&mut [T]; K]) + Sync + Send,
) {
    let base = |a: &Arg| -> Ptr<T> {
        // SAFETY: `resolve` checked the view (offset + numel) lies inside its buffer.
        Ptr(unsafe { (a.ptr.0 as *mut T).add(a.layout.offset) })
    };
    let gp = base(g);
    let op = outs.map(base);
    par_range(n.div_ceil(CHUNK), n * 8, |c| {
        let (start, len) = (c * CHUNK, CHUNK.min(n - c * CHUNK));
        // SAFETY: the views are `n` elements long and lie in distinct buffers (checked by
        // `optim_step_views`); each chunk index is handed to one task only, so the mutable slices of
        // different tasks never overlap.
        unsafe {
            let gs = core::slice::from_raw_parts(gp.at(start) as *const T, len);
            f(
                gs,
                op.map(|p| core::slice::from_raw_parts_mut(p.at(start), len)),
            );
        }
    });
}

fn adam<T: F>(s: &AdamStep, n: usize, g: &Arg, p: &Arg, m: &Arg, v: &Arg) {
    // One loop per flag pair: a flag tested inside the loop kept it from vectorising.
    match (s.decay_mul != 1.0, s.l2 != 0.0) {
        (false, false) => adam_with::<T, false, false>(s, n, g, p, m, v),
        (true, false) => adam_with::<T, true, false>(s, n, g, p, m, v),
        (false, true) => adam_with::<T, false, true>(s, n, g, p, m, v),
        (true, true) => adam_with::<T, true, true>(s, n, g, p, m, v),
    }
}

fn adam_with<T: F, const SCALE: bool, const L2: bool>(
    s: &AdamStep,
    n: usize,
    g: &Arg,
    p: &Arg,
    m: &Arg,
    v: &Arg,
) {
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
    chunks::<T, 3>(n, g, [p, m, v], move |gs, [ps, ms, vs]| {
        for (((&gi, pi), mi), vi) in gs
            .iter()
            .zip(ps.iter_mut())
            .zip(ms.iter_mut())
            .zip(vs.iter_mut())
        {
            let mut pv = *pi;
            let mut gv = gi;
            if SCALE {
                pv = pv.mul(decay);
            }
            if L2 {
                gv = gv + pv.mul(l2);
            }
            let mv = *mi + (gv - *mi).mul(w1);
            let vv = (*vi).mul(b2) + gv.mul(w2).mul(gv);
            let denom = vv.sqrt().div(bc2) + eps;
            *pi = pv + mv.mul(nss).div(denom);
            *mi = mv;
            *vi = vv;
        }
    });
}

fn sgd<T: F>(s: &SgdStep, n: usize, g: &Arg, p: &Arg, b: &Arg) {
    match (s.weight_decay != 0.0, s.nesterov) {
        (false, false) => sgd_with::<T, false, false>(s, n, g, p, b),
        (true, false) => sgd_with::<T, true, false>(s, n, g, p, b),
        (false, true) => sgd_with::<T, false, true>(s, n, g, p, b),
        (true, true) => sgd_with::<T, true, true>(s, n, g, p, b),
    }
}

fn sgd_with<T: F, const WD: bool, const NESTEROV: bool>(
    s: &SgdStep,
    n: usize,
    g: &Arg,
    p: &Arg,
    b: &Arg,
) {
    let [mom, keep, wd, neg_lr] = [s.momentum, 1.0 - s.dampening, s.weight_decay, -s.lr].map(T::of);
    chunks::<T, 2>(n, g, [p, b], move |gs, [ps, bs]| {
        for ((&gi, pi), bi) in gs.iter().zip(ps.iter_mut()).zip(bs.iter_mut()) {
            let mut d = gi;
            if WD {
                d = d + (*pi).mul(wd);
            }
            let bv = (*bi).mul(mom) + d.mul(keep);
            let d = if NESTEROV { d + bv.mul(mom) } else { bv };
            *pi = *pi + d.mul(neg_lr);
            *bi = bv;
        }
    });
}
