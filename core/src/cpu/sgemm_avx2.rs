//! f32 GEMM for x86-64 with AVX2 and FMA (picked at run time): BLIS's loop nest around a
//! 6×16 micro-kernel. Twelve accumulators hide the FMA latency that `matrixmultiply`'s 8×8
//! kernel (eight accumulators) leaves exposed; other CPUs and f64 keep `matrixmultiply`.
//!
//! Blocking: b in `KC × NC` blocks packed into 16-column panels (L3), a in `MC × KC` blocks
//! packed into 6-row panels (L2); the kernel streams one panel of each (L1). The packing
//! buffers are per thread and reused across calls.

use core::arch::x86_64::*;
use std::cell::RefCell;
use std::vec::Vec;

const MR: usize = 6;
const NR: usize = 16;
const KC: usize = 256;
const MC: usize = 96;
const NC: usize = 2048;

std::thread_local! {
    /// Packed blocks of a and of b, reused across calls on this thread.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACK_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's buffer in `cell` grown to `len`, or on a fresh one when the
/// thread's is in use (a rayon worker waiting inside [`sgemm_parallel`] may run another
/// product's task).
fn with_buffer<R>(
    cell: &'static std::thread::LocalKey<RefCell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    cell.with(|c| match c.try_borrow_mut() {
        Ok(mut v) => {
            if v.len() < len {
                v.resize(len, 0.0);
            }
            f(&mut v[..len])
        }
        Err(_) => f(&mut std::vec![0.0; len]),
    })
}

/// Whether this CPU runs the kernel (AVX2 and FMA).
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// `c = alpha * a @ b + beta * c` (c not read when beta is 0), `matrixmultiply::sgemm`'s
/// argument order and strides.
///
/// # Safety
/// [`available`] returned true; the pointers and strides describe matrices inside live
/// buffers; c's elements are distinct and alias neither a nor b.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let at = |i: usize, j: usize| -> *mut f32 {
        // SAFETY: (i, j) lies in c (callers stay below m, n), so the offset stays in c's
        // buffer.
        unsafe { c.offset(i as isize * rsc + j as isize * csc) }
    };
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                let p = at(i, j);
                // SAFETY: p is an element of c.
                unsafe { *p = if beta == 0.0 { 0.0 } else { beta * *p } };
            }
        }
        return;
    }
    let need_b = NC.min(n.next_multiple_of(NR)) * KC;
    with_buffer(&PACK_B, need_b, |bp| {
        with_buffer(&PACK_A, MC * KC, |ap| {
            for jc in (0..n).step_by(NC) {
                let nc = NC.min(n - jc);
                for pc in (0..k).step_by(KC) {
                    let kc = KC.min(k - pc);
                    // SAFETY: the block's offsets are inside b (pc < k, jc < n).
                    let bb = unsafe { b.offset(pc as isize * rsb + jc as isize * csb) };
                    // SAFETY: the block lies in b; bp holds need_b ≥ nc·kc (rounded) elements.
                    unsafe { pack_b(kc, nc, bb, rsb, csb, bp) };
                    let blk = Block { jc, nc, pc, kc };
                    let out = COut { c, rsc, csc };
                    // SAFETY: rows 0..m of a and c; bp packed above.
                    unsafe { rows(&blk, 0..m, (a, rsa, csa), bp, ap, &out, alpha, beta) };
                }
            }
        })
    });
}

/// [`sgemm`] on up to `workers` rayon tasks that share each packed block of b (packed in
/// parallel, once) and split the rows of c evenly, each packing its own a: splitting the
/// product into independent calls instead packs all of b once per task.
///
/// # Safety
/// As [`sgemm`].
#[cfg(feature = "threads")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_parallel(
    workers: usize,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    use rayon::prelude::*;
    let per = m.div_ceil(workers.max(1)).next_multiple_of(MR);
    let parts = m.div_ceil(per.max(1));
    if parts < 2 || n == 0 || k == 0 {
        // SAFETY: this function's contract.
        return unsafe { sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) };
    }
    /// A pointer the tasks may share (each writes its own part).
    #[derive(Clone, Copy)]
    struct P(*mut f32);
    // SAFETY: tasks read shared operands and write disjoint ranges; the buffers outlive them.
    unsafe impl Send for P {}
    // SAFETY: as above.
    unsafe impl Sync for P {}
    impl P {
        /// The pointer (a method, so closures capture the whole `P`, not its field).
        fn get(self) -> *mut f32 {
            self.0
        }
    }
    let (pa, pb) = (P(a as *mut f32), P(b as *mut f32));
    let out = COut { c, rsc, csc };
    let need_b = NC.min(n.next_multiple_of(NR)) * KC;
    with_buffer(&PACK_B, need_b, |bp| {
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let panels = nc.div_ceil(NR);
                let chunk = panels.div_ceil(parts);
                let shared = P(bp.as_mut_ptr());
                (0..parts).into_par_iter().for_each(|t| {
                    let (q0, q1) = (t * chunk, ((t + 1) * chunk).min(panels));
                    if q0 >= q1 {
                        return;
                    }
                    let cols = (q1 * NR).min(nc) - q0 * NR;
                    // SAFETY: panels q0..q1 of the packed block are this task's alone and lie
                    // in bp (need_b ≥ panels·NR·kc); the columns lie in b.
                    unsafe {
                        let dst = core::slice::from_raw_parts_mut(
                            shared.get().add(q0 * NR * kc),
                            (q1 - q0) * NR * kc,
                        );
                        let src = pb
                            .get()
                            .offset(pc as isize * rsb + (jc + q0 * NR) as isize * csb);
                        pack_b(kc, cols, src, rsb, csb, dst);
                    }
                });
                let blk = Block { jc, nc, pc, kc };
                let bp: &[f32] = bp;
                (0..parts).into_par_iter().for_each(|t| {
                    let r = t * per..((t + 1) * per).min(m);
                    with_buffer(&PACK_A, MC * KC, |ap| {
                        // SAFETY: rows r of a and c are this task's; bp is packed above and
                        // only read here.
                        unsafe { rows(&blk, r, (pa.get(), rsa, csa), bp, ap, &out, alpha, beta) };
                    });
                });
            }
        }
    });
}

/// The `jc`/`pc` block of b that is packed: columns `jc..jc + nc`, steps `pc..pc + kc`.
#[derive(Clone, Copy)]
struct Block {
    jc: usize,
    nc: usize,
    pc: usize,
    kc: usize,
}

/// c and its strides, shareable by the workers of [`sgemm_parallel`] (they write disjoint
/// rows).
struct COut {
    c: *mut f32,
    rsc: isize,
    csc: isize,
}
// SAFETY: workers write disjoint rows of c, which outlives the call.
unsafe impl Sync for COut {}

/// Rows `r` of c for one packed block of b: a packed in `MC`-row blocks into `ap`, then every
/// micro-tile.
///
/// # Safety
/// AVX2/FMA are available; `r` lies in a's and c's rows; `bp` holds the block packed by
/// [`pack_b`]; `out` describes c.
#[allow(clippy::too_many_arguments)]
unsafe fn rows(
    blk: &Block,
    r: core::ops::Range<usize>,
    (a, rsa, csa): (*const f32, isize, isize),
    bp: &[f32],
    ap: &mut [f32],
    out: &COut,
    alpha: f32,
    beta: f32,
) {
    let Block { jc, nc, pc, kc } = *blk;
    for ic in r.clone().step_by(MC) {
        let mc = MC.min(r.end - ic);
        // SAFETY: the block's offsets are inside a (ic < m, pc < k).
        let ab = unsafe { a.offset(ic as isize * rsa + pc as isize * csa) };
        // SAFETY: the block lies in a; ap holds MC·KC elements.
        unsafe { pack_a(mc, kc, ab, rsa, csa, ap) };
        for jr in (0..nc).step_by(NR) {
            for ir in (0..mc).step_by(MR) {
                let (i, j) = ((ic + ir) as isize, (jc + jr) as isize);
                let tile = Tile {
                    // SAFETY: (i, j) lies in c.
                    c: unsafe { out.c.offset(i * out.rsc + j * out.csc) },
                    rsc: out.rsc,
                    csc: out.csc,
                    mr: MR.min(mc - ir),
                    nr: NR.min(nc - jr),
                };
                let scale = Scale {
                    alpha,
                    // Later k blocks add to what the first one wrote.
                    beta: if pc == 0 { beta } else { 1.0 },
                    overwrite: pc == 0 && beta == 0.0,
                };
                // SAFETY: AVX2/FMA (this function's contract); the panels hold kc steps
                // (packed above), the tile lies in c.
                unsafe {
                    kernel(
                        kc,
                        ap.as_ptr().add(ir * kc),
                        bp.as_ptr().add(jr * kc),
                        &tile,
                        &scale,
                    )
                };
            }
        }
    }
}

/// Packs an `mc × kc` block of a into panels of MR rows: panel p, step kk, row i at
/// `p·MR·kc + kk·MR + i`; rows past mc are zeros.
///
/// # Safety
/// The block lies inside a; `out` holds `mc.next_multiple_of(MR) · kc` elements.
unsafe fn pack_a(mc: usize, kc: usize, a: *const f32, rsa: isize, csa: isize, out: &mut [f32]) {
    for (p, ir) in (0..mc).step_by(MR).enumerate() {
        let mr = MR.min(mc - ir);
        let panel = &mut out[p * MR * kc..(p + 1) * MR * kc];
        if mr == MR {
            // A full panel: six rows read side by side, no per-element test.
            for (kk, step) in panel.chunks_exact_mut(MR).enumerate() {
                for (i, v) in step.iter_mut().enumerate() {
                    // SAFETY: row ir + i < mc and column kk < kc lie in the block.
                    *v = unsafe { *a.offset((ir + i) as isize * rsa + kk as isize * csa) };
                }
            }
            continue;
        }
        // The last, partial panel: zeros, then its rows.
        panel.fill(0.0);
        for i in 0..mr {
            // SAFETY: row ir + i < mc lies in the block.
            let row = unsafe { a.offset((ir + i) as isize * rsa) };
            for (kk, step) in panel.chunks_exact_mut(MR).enumerate() {
                // SAFETY: column kk < kc lies in the block.
                step[i] = unsafe { *row.offset(kk as isize * csa) };
            }
        }
    }
}

/// Packs a `kc × nc` block of b into panels of NR columns: panel q, step kk, column j at
/// `q·NR·kc + kk·NR + j`; columns past nc are zeros.
///
/// # Safety
/// The block lies inside b; `out` holds `nc.next_multiple_of(NR) · kc` elements.
unsafe fn pack_b(kc: usize, nc: usize, b: *const f32, rsb: isize, csb: isize, out: &mut [f32]) {
    let mut o = 0;
    for jr in (0..nc).step_by(NR) {
        let nr = NR.min(nc - jr);
        for kk in 0..kc {
            // SAFETY: row kk < kc, column jr < nc are inside the block.
            let row = unsafe { b.offset(kk as isize * rsb + jr as isize * csb) };
            let dst = &mut out[o..o + NR];
            if nr == NR && csb == 1 {
                // SAFETY: the NR elements from `row` are inside the block's row.
                dst.copy_from_slice(unsafe { core::slice::from_raw_parts(row, NR) });
            } else {
                for (j, d) in dst.iter_mut().enumerate() {
                    *d = if j < nr {
                        // SAFETY: column jr + j < nc is inside the block.
                        unsafe { *row.offset(j as isize * csb) }
                    } else {
                        0.0
                    };
                }
            }
            o += NR;
        }
    }
}

/// Where a micro-tile of c sits, and how much of it is real (edge tiles are smaller).
struct Tile {
    c: *mut f32,
    rsc: isize,
    csc: isize,
    mr: usize,
    nr: usize,
}

/// `c = alpha * acc + beta * c`, or `alpha * acc` when `overwrite` (c unread).
struct Scale {
    alpha: f32,
    beta: f32,
    overwrite: bool,
}

/// One `MR × NR` tile: `kc` rank-1 updates from packed panels, then the tile's store.
///
/// # Safety
/// AVX2 and FMA are available; `ap` holds `kc · MR` and `bp` `kc · NR` elements; the tile's
/// `mr × nr` elements lie in c.
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel(kc: usize, ap: *const f32, bp: *const f32, t: &Tile, s: &Scale) {
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    for kk in 0..kc {
        // SAFETY: step kk < kc of each panel (this function's contract).
        unsafe {
            let (a, b) = (ap.add(kk * MR), bp.add(kk * NR));
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (i, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.add(i));
                row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                row[1] = _mm256_fmadd_ps(av, b1, row[1]);
            }
        }
    }
    let va = _mm256_set1_ps(s.alpha);
    if t.mr == MR && t.nr == NR && t.csc == 1 {
        for (i, row) in acc.iter().enumerate() {
            // SAFETY: a full tile with unit column stride: 16 contiguous elements per row.
            unsafe {
                let p = t.c.offset(i as isize * t.rsc);
                let r0 = _mm256_mul_ps(row[0], va);
                let r1 = _mm256_mul_ps(row[1], va);
                let (r0, r1) = if s.overwrite {
                    (r0, r1)
                } else {
                    let vb = _mm256_set1_ps(s.beta);
                    (
                        _mm256_fmadd_ps(_mm256_loadu_ps(p), vb, r0),
                        _mm256_fmadd_ps(_mm256_loadu_ps(p.add(8)), vb, r1),
                    )
                };
                _mm256_storeu_ps(p, r0);
                _mm256_storeu_ps(p.add(8), r1);
            }
        }
    } else {
        let mut tmp = [0f32; MR * NR];
        for (i, row) in acc.iter().enumerate() {
            // SAFETY: row i of tmp has NR = 16 elements.
            unsafe {
                _mm256_storeu_ps(tmp.as_mut_ptr().add(i * NR), row[0]);
                _mm256_storeu_ps(tmp.as_mut_ptr().add(i * NR + 8), row[1]);
            }
        }
        for i in 0..t.mr {
            for j in 0..t.nr {
                // SAFETY: (i, j) is inside the tile's real part.
                unsafe {
                    let p = t.c.offset(i as isize * t.rsc + j as isize * t.csc);
                    let v = s.alpha * tmp[i * NR + j];
                    *p = if s.overwrite { v } else { s.beta * *p + v };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against an f64 triple loop, over shapes that cross every block edge (MR, NR, KC, MC,
    /// NC), with row- and column-major operands and every beta case.
    #[test]
    fn matches_a_reference_across_block_edges() {
        if !available() {
            std::println!("skipped: this CPU has no AVX2/FMA");
            return;
        }
        let shapes = [
            (1, 1, 1),
            (6, 16, 7),
            (7, 17, 300),
            (97, 33, 513),
            (13, NC + 19, 5),
            (MC + 5, 40, KC + 1),
        ];
        for (si, &(m, n, k)) in shapes.iter().enumerate() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1.0f32, 0.0f32), (0.5, 1.0), (1.0, -2.0)] {
                    let val = |i: usize, s: usize| ((i * 37 + s * 11) % 23) as f32 / 7.0 - 1.5;
                    let a: Vec<f32> = (0..m * k).map(|i| val(i, si)).collect();
                    let b: Vec<f32> = (0..k * n).map(|i| val(i, si + 3)).collect();
                    let c0: Vec<f32> = (0..m * n).map(|i| val(i, si + 5)).collect();
                    // a is m×k: row-major, or stored k×m (column-major) when ta.
                    let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
                    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
                    let mut c = c0.clone();
                    // SAFETY: AVX2/FMA checked above; the strides describe a, b and c.
                    unsafe {
                        sgemm(
                            m,
                            k,
                            n,
                            alpha,
                            a.as_ptr(),
                            rsa,
                            csa,
                            b.as_ptr(),
                            rsb,
                            csb,
                            beta,
                            c.as_mut_ptr(),
                            n as isize,
                            1,
                        )
                    };
                    for i in 0..m {
                        for j in 0..n {
                            let mut s = 0f64;
                            for kk in 0..k {
                                let av = a[(i as isize * rsa + kk as isize * csa) as usize];
                                let bv = b[(kk as isize * rsb + j as isize * csb) as usize];
                                s += av as f64 * bv as f64;
                            }
                            let old = if beta == 0.0 {
                                0.0
                            } else {
                                beta as f64 * c0[i * n + j] as f64
                            };
                            let want = alpha as f64 * s + old;
                            let got = c[i * n + j] as f64;
                            assert!(
                                (got - want).abs() <= 1e-4 * (1.0 + want.abs()) * (k as f64).sqrt(),
                                "m{m} n{n} k{k} ta{ta} tb{tb} alpha{alpha} beta{beta} at ({i},{j}): {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The shared-packing form gives the single-threaded result bit for bit (same blocks,
    /// same kernel; only rows move between threads), with 1 to 5 workers.
    #[cfg(feature = "threads")]
    #[test]
    fn parallel_form_matches_the_single_threaded_one() {
        if !available() {
            std::println!("skipped: this CPU has no AVX2/FMA");
            return;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for &(m, n, k) in &[(13, 40, 7), (200, 70, KC + 3), (MC * 2 + 7, NC + 5, 33)] {
            for (ta, beta) in [(false, 0.0f32), (true, 0.5)] {
                let val = |i: usize| ((i * 31) % 17) as f32 / 5.0 - 1.6;
                let a: Vec<f32> = (0..m * k).map(val).collect();
                let b: Vec<f32> = (0..k * n).map(|i| val(i + 3)).collect();
                let c0: Vec<f32> = (0..m * n).map(|i| val(i + 7)).collect();
                let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
                let mut want = c0.clone();
                // SAFETY: AVX2/FMA checked above; the strides describe a, b and c.
                unsafe {
                    sgemm(
                        m,
                        k,
                        n,
                        1.5,
                        a.as_ptr(),
                        rsa,
                        csa,
                        b.as_ptr(),
                        n as isize,
                        1,
                        beta,
                        want.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                };
                for workers in 1..=5 {
                    let mut got = c0.clone();
                    let cp = got.as_mut_ptr() as usize;
                    pool.install(|| {
                        // SAFETY: as above.
                        unsafe {
                            sgemm_parallel(
                                workers,
                                m,
                                k,
                                n,
                                1.5,
                                a.as_ptr(),
                                rsa,
                                csa,
                                b.as_ptr(),
                                n as isize,
                                1,
                                beta,
                                cp as *mut f32,
                                n as isize,
                                1,
                            )
                        }
                    });
                    assert!(
                        got.iter()
                            .zip(&want)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "m{m} n{n} k{k} ta{ta} workers {workers}"
                    );
                }
            }
        }
    }

    /// beta = 0 ignores c's old contents, NaN included (the contract matmul relies on).
    #[test]
    fn beta_zero_overwrites_nan() {
        if !available() {
            std::println!("skipped: this CPU has no AVX2/FMA");
            return;
        }
        let (m, n, k) = (7, 18, 3);
        let a = std::vec![1.0f32; m * k];
        let b = std::vec![2.0f32; k * n];
        let mut c = std::vec![f32::NAN; m * n];
        // SAFETY: AVX2/FMA checked above; row-major strides.
        unsafe {
            sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            )
        };
        assert!(c.iter().all(|&x| x == 6.0), "{c:?}");
    }
}
