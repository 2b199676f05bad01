//! Matmul through cuBLAS: strided-batched GEMM, with transposes expressed as layouts (a
//! row-major product is the column-major product of the transposes, so no operand is
//! copied). TF32 stays off (cuBLAS's default math mode), as in PyTorch. What cuBLAS cannot
//! express (integer dtypes, operands with no unit stride, batch dims that do not merge into
//! one stride, k = 0, sizes past i32) runs the fallback kernel in `matmul.cu`.

use crate::device::{Func, Inner, KernelKey};
use crate::params::{coalesce, Mm, MAX_DIMS};
use cudarc::cublas::sys as blas;
use cudarc::driver::sys;
use lantern::{DType, Error, Result, View};
use lantern_kernels::cuda::MATMUL;
use std::ffi::c_void;

pub(crate) struct Blas {
    handle: blas::cublasHandle_t,
}
// SAFETY: the handle is used under the driver's mutex, one call at a time.
unsafe impl Send for Blas {}

impl Blas {
    /// A handle bound to `stream`, or None when libcublas is missing or fails to start.
    pub(crate) fn new(stream: sys::CUstream) -> Option<Blas> {
        // SAFETY: only tries to open the library by its usual names.
        if !unsafe { blas::is_culib_present() } {
            return None;
        }
        let mut handle: blas::cublasHandle_t = std::ptr::null_mut();
        // SAFETY: out-pointer to a local; the context is current (Inner::new).
        let ok = unsafe {
            blas::cublasCreate_v2(&mut handle) == blas::cublasStatus_t::CUBLAS_STATUS_SUCCESS
                && blas::cublasSetStream_v2(handle, stream as blas::cudaStream_t)
                    == blas::cublasStatus_t::CUBLAS_STATUS_SUCCESS
                && blas::cublasSetMathMode(handle, blas::cublasMath_t::CUBLAS_DEFAULT_MATH)
                    == blas::cublasStatus_t::CUBLAS_STATUS_SUCCESS
        };
        ok.then_some(Blas { handle })
    }
}

impl Drop for Blas {
    fn drop(&mut self) {
        // SAFETY: created by cublasCreate_v2, destroyed once.
        unsafe {
            blas::cublasDestroy_v2(self.handle);
        }
    }
}

/// A matrix operand as cuBLAS sees it: column-major, or row-major (its transpose), with a
/// leading dimension.
#[derive(Copy, Clone, Debug, PartialEq)]
struct Mat {
    row_major: bool,
    ld: usize,
}

/// How a rows x cols matrix with these strides can be handed to cuBLAS, if at all.
fn describe(rows: usize, cols: usize, rs: usize, cs: usize) -> Option<Mat> {
    let cs1 = cols == 1 || cs == 1;
    let ld_r = if rows == 1 { cols.max(1) } else { rs };
    if cs1 && ld_r >= cols.max(1) {
        return Some(Mat {
            row_major: true,
            ld: ld_r,
        });
    }
    let rs1 = rows == 1 || rs == 1;
    let ld_c = if cols == 1 { rows.max(1) } else { cs };
    if rs1 && ld_c >= rows.max(1) {
        return Some(Mat {
            row_major: false,
            ld: ld_c,
        });
    }
    None
}

/// One cuBLAS call: operands, leading dims and ops in cuBLAS's column-major terms.
struct Call {
    ta: bool,
    tb: bool,
    m: i32,
    n: i32,
    k: i32,
    a_is_b: bool,
    lda: i32,
    ldb: i32,
    ldc: i32,
}

/// Plans `y = a @ b` (m x k times k x n) as one column-major GEMM, or None.
fn plan(m: usize, n: usize, k: usize, a: Mat, b: Mat, y: Mat) -> Option<Call> {
    let i = |v: usize| i32::try_from(v).ok();
    if y.row_major {
        // Y^T (n x m) = B^T (n x k) . A^T (k x m): a row-major operand is already the
        // transpose in column-major terms (op N); a column-major one needs op T.
        Some(Call {
            ta: !b.row_major,
            tb: !a.row_major,
            m: i(n)?,
            n: i(m)?,
            k: i(k)?,
            a_is_b: true,
            lda: i(b.ld)?,
            ldb: i(a.ld)?,
            ldc: i(y.ld)?,
        })
    } else {
        Some(Call {
            ta: a.row_major,
            tb: b.row_major,
            m: i(m)?,
            n: i(n)?,
            k: i(k)?,
            a_is_b: false,
            lda: i(a.ld)?,
            ldb: i(b.ld)?,
            ldc: i(y.ld)?,
        })
    }
}

fn last2(v: &View) -> (usize, usize) {
    let r = v.layout.rank();
    (v.layout.strides[r - 2], v.layout.strides[r - 1])
}

/// `y = alpha * a @ b + beta * y` over broadcast batch dims.
pub(crate) fn matmul(
    inner: &Inner,
    a: &View,
    b: &View,
    y: &View,
    alpha: f64,
    beta: f64,
) -> Result<()> {
    let op = "matmul";
    let r = y.layout.rank();
    if r < 2 || a.layout.rank() != r || b.layout.rank() != r {
        return Err(Error::Driver(format!(
            "matmul: operands must have the output's rank (>= 2), got {}, {} and {}",
            a.layout.rank(),
            b.layout.rank(),
            r
        )));
    }
    if a.dtype != y.dtype || b.dtype != y.dtype {
        return Err(Error::DType {
            op,
            msg: format!(
                "operands must share a dtype, got {}, {} and {}",
                a.dtype, b.dtype, y.dtype
            ),
        });
    }
    let dt = y.dtype;
    let m = y.layout.dims()[r - 2];
    let n = y.layout.dims()[r - 1];
    let k = a.layout.dims()[r - 1];
    let batch = &y.layout.dims()[..r - 2];
    let (ad, bd_) = (a.layout.dims(), b.layout.dims());
    if ad[r - 2] != m
        || bd_[r - 1] != n
        || bd_[r - 2] != k
        || ad[..r - 2] != *batch
        || bd_[..r - 2] != *batch
    {
        return Err(Error::Shape {
            op,
            expected: format!(
                "a [.., {m}, k] and b [.., k, {n}] with the output's batch dims {batch:?}"
            ),
            got: format!(
                "a {}, b {}, out {}",
                a.layout.shape, b.layout.shape, y.layout.shape
            ),
        });
    }
    let nbatch: usize = batch.iter().product();
    if m == 0 || n == 0 || nbatch == 0 {
        return Ok(());
    }
    let [pa, pb, py] = inner.resolve(op, [a, b, y])?;
    // Batch dims merged across the three operands (size-1 dims dropped).
    let (bd, [ab, bb, yb]) = coalesce::<3>(
        batch,
        [
            &a.layout.strides[..r - 2],
            &b.layout.strides[..r - 2],
            &y.layout.strides[..r - 2],
        ],
    );
    let (ars, acs) = last2(a);
    let (brs, bcs) = last2(b);
    let (yrs, ycs) = last2(y);
    let blas_dtype = matches!(dt, DType::F32 | DType::F64 | DType::F16 | DType::BF16);
    // Batch dims beyond the innermost one loop on the host (a few calls, no sync).
    let outer: usize = bd.iter().rev().skip(1).product();
    if let (true, Some(h)) = (blas_dtype && k > 0 && outer <= 1024, inner.blas.as_ref()) {
        let mats = (
            describe(m, k, ars, acs),
            describe(k, n, brs, bcs),
            describe(m, n, yrs, ycs),
        );
        if let (Some(ma), Some(mb), Some(my)) = mats {
            let y_batch_ok = bd.is_empty() || yb[bd.len() - 1] > 0;
            if let (Some(c), true) = (plan(m, n, k, ma, mb, my), y_batch_ok) {
                let last = bd.len().saturating_sub(1);
                let count = bd.last().copied().unwrap_or(1);
                let sa = ab.last().copied().unwrap_or(0) as i64;
                let sb = bb.last().copied().unwrap_or(0) as i64;
                let sy = yb.last().copied().unwrap_or(0) as i64;
                if let Ok(count) = i32::try_from(count) {
                    let h = crate::device::lock(h);
                    let es = dt.size() as u64;
                    for o in 0..outer {
                        // Element offsets of outer batch index `o` (row-major over bd[..last]).
                        let (mut oa, mut ob, mut oy, mut rem) = (0u64, 0u64, 0u64, o);
                        for d in (0..last).rev() {
                            let c = rem % bd[d];
                            rem /= bd[d];
                            oa += (c * ab[d]) as u64;
                            ob += (c * bb[d]) as u64;
                            oy += (c * yb[d]) as u64;
                        }
                        gemm(
                            &h,
                            dt,
                            &c,
                            (pa + oa * es, sa),
                            (pb + ob * es, sb),
                            (py + oy * es, sy),
                            count,
                            alpha,
                            beta,
                        )?;
                    }
                    return Ok(());
                }
            }
        }
    }
    fallback(
        inner,
        dt,
        (m, n, k),
        (&bd, &ab, &bb, &yb),
        [(ars, acs), (brs, bcs), (yrs, ycs)],
        [pa, pb, py],
        alpha,
        beta,
    )
}

#[allow(clippy::too_many_arguments)]
fn gemm(
    h: &Blas,
    dt: DType,
    c: &Call,
    a: (u64, i64),
    b: (u64, i64),
    y: (u64, i64),
    count: i32,
    alpha: f64,
    beta: f64,
) -> Result<()> {
    let (p1, p2) = if c.a_is_b { (b, a) } else { (a, b) };
    let op = |t: bool| {
        if t {
            blas::cublasOperation_t::CUBLAS_OP_T
        } else {
            blas::cublasOperation_t::CUBLAS_OP_N
        }
    };
    let (ta, tb) = (op(c.ta), op(c.tb));
    // SAFETY: pointers are live device addresses whose extents `describe` and `plan` keep
    // within the views (checked by `resolve`); the handle is bound to the driver's stream.
    let st = unsafe {
        match dt {
            DType::F32 => {
                let (al, be) = (alpha as f32, beta as f32);
                blas::cublasSgemmStridedBatched(
                    h.handle,
                    ta,
                    tb,
                    c.m,
                    c.n,
                    c.k,
                    &al,
                    p1.0 as *const f32,
                    c.lda,
                    p1.1,
                    p2.0 as *const f32,
                    c.ldb,
                    p2.1,
                    &be,
                    y.0 as *mut f32,
                    c.ldc,
                    y.1,
                    count,
                )
            }
            DType::F64 => blas::cublasDgemmStridedBatched(
                h.handle,
                ta,
                tb,
                c.m,
                c.n,
                c.k,
                &alpha,
                p1.0 as *const f64,
                c.lda,
                p1.1,
                p2.0 as *const f64,
                c.ldb,
                p2.1,
                &beta,
                y.0 as *mut f64,
                c.ldc,
                y.1,
                count,
            ),
            _ => {
                let ty = if dt == DType::F16 {
                    blas::cudaDataType_t::CUDA_R_16F
                } else {
                    blas::cudaDataType_t::CUDA_R_16BF
                };
                let (al, be) = (alpha as f32, beta as f32);
                blas::cublasGemmStridedBatchedEx(
                    h.handle,
                    ta,
                    tb,
                    c.m,
                    c.n,
                    c.k,
                    &al as *const f32 as *const c_void,
                    p1.0 as *const c_void,
                    ty,
                    c.lda,
                    p1.1,
                    p2.0 as *const c_void,
                    ty,
                    c.ldb,
                    p2.1,
                    &be as *const f32 as *const c_void,
                    y.0 as *mut c_void,
                    ty,
                    c.ldc,
                    y.1,
                    count,
                    blas::cublasComputeType_t::CUBLAS_COMPUTE_32F,
                    blas::cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
                )
            }
        }
    };
    if st == blas::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
        Ok(())
    } else {
        Err(Error::Driver(format!("cuda: cuBLAS matmul failed: {st:?}")))
    }
}

#[allow(clippy::too_many_arguments)]
fn fallback(
    inner: &Inner,
    dt: DType,
    (m, n, k): (usize, usize, usize),
    (bd, ab, bb, yb): (&[usize], &[usize], &[usize], &[usize]),
    st: [(usize, usize); 3],
    ptrs: [u64; 3],
    alpha: f64,
    beta: f64,
) -> Result<()> {
    if bd.len() > MAX_DIMS {
        return Err(crate::params::too_many_dims("matmul", dt, bd.len()));
    }
    let mut p = Mm {
        m: m as u64,
        n: n as u64,
        k: k as u64,
        batch: bd.iter().product::<usize>() as u64,
        brank: bd.len() as i32,
        beta_zero: (beta == 0.0) as i32,
        ars: st[0].0 as i64,
        acs: st[0].1 as i64,
        brs: st[1].0 as i64,
        bcs: st[1].1 as i64,
        yrs: st[2].0 as i64,
        ycs: st[2].1 as i64,
        alpha,
        beta,
        ..Mm::default()
    };
    for d in 0..bd.len() {
        p.bdims[d] = bd[d] as u64;
        p.ab[d] = ab[d] as i64;
        p.bb[d] = bb[d] as i64;
        p.yb[d] = yb[d] as i64;
    }
    let f: Func = inner.func(
        &MATMUL,
        KernelKey {
            group: MATMUL.name,
            op: "matmul",
            dt,
            dt2: None,
            suffix: "",
        },
    )?;
    let [mut pa, mut pb, mut py] = ptrs;
    let grid = (
        n.div_ceil(16).min(u32::MAX as usize) as u32,
        m.div_ceil(16).min(65535) as u32,
        (p.batch as usize).clamp(1, 65535) as u32,
    );
    if m.div_ceil(16) > 65535 {
        return Err(Error::Unsupported {
            op: "matmul",
            dtype: format!(
                "{dt} with {m} rows on the fallback kernel (at most {})",
                65535 * 16
            ),
            device: String::from("cuda"),
        });
    }
    let mut args = [
        &mut p as *mut Mm as *mut c_void,
        &mut py as *mut u64 as *mut c_void,
        &mut pa as *mut u64 as *mut c_void,
        &mut pb as *mut u64 as *mut c_void,
    ];
    inner.launch(f, grid, (16, 16, 1), &mut args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_map_to_cublas_operands() {
        // Row-major 3x4: ld 4. Its transpose view (strides 1, 3) of a 4x3: column-major, ld 3.
        assert_eq!(
            describe(3, 4, 4, 1),
            Some(Mat {
                row_major: true,
                ld: 4
            })
        );
        assert_eq!(
            describe(3, 4, 1, 3),
            Some(Mat {
                row_major: false,
                ld: 3
            })
        );
        // A row slice keeps its parent's ld.
        assert_eq!(
            describe(3, 4, 10, 1),
            Some(Mat {
                row_major: true,
                ld: 10
            })
        );
        // Vectors and single elements accept any stride on their size-1 dim.
        assert_eq!(
            describe(1, 4, 0, 1),
            Some(Mat {
                row_major: true,
                ld: 4
            })
        );
        assert_eq!(
            describe(4, 1, 1, 0),
            Some(Mat {
                row_major: true,
                ld: 1
            })
        );
        // Neither stride unit, or a broadcast row: not expressible.
        assert_eq!(describe(3, 4, 8, 2), None);
        assert_eq!(describe(3, 4, 0, 1), None);
    }

    #[test]
    fn row_major_output_swaps_operands() {
        let a = Mat {
            row_major: true,
            ld: 5,
        };
        let b = Mat {
            row_major: false,
            ld: 5,
        };
        let y = Mat {
            row_major: true,
            ld: 7,
        };
        let c = plan(3, 7, 5, a, b, y).unwrap();
        assert!(c.a_is_b && c.ta && !c.tb);
        assert_eq!((c.m, c.n, c.k, c.lda, c.ldb, c.ldc), (7, 3, 5, 5, 5, 7));
    }
}
