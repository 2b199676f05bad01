//! Kernel parameter blocks, laid out exactly as the structs in `kernels/cuda/*.cu`, and the
//! host-side shape work that fills them (merging dims, choosing a kernel mode).

use lantern::{DType, Error, Layout, Result};

/// Dims a kernel indexes after merging (`LT_MAX_DIMS` in `common.cuh`).
pub const MAX_DIMS: usize = 8;

/// `struct Ew` in `common.cuh`: elementwise kernels. Operand 0 is the output.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Ew {
    pub numel: u64,
    pub rank: i32,
    pub mode: i32,
    pub dims: [u64; MAX_DIMS],
    pub st: [[i64; MAX_DIMS]; 4],
}

/// `struct Red` in `reduce.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Red {
    pub nout: u64,
    pub nred: u64,
    pub chunk: u64,
    pub krank: i32,
    pub rrank: i32,
    pub group: i32,
    pub splits: i32,
    pub kdims: [u64; MAX_DIMS],
    pub kx: [i64; MAX_DIMS],
    pub ky: [i64; MAX_DIMS],
    pub rdims: [u64; MAX_DIMS],
    pub rx: [i64; MAX_DIMS],
}

/// `struct Scan` in `reduce.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Scan {
    pub rows: u64,
    pub n: u64,
    pub orank: i32,
    pub mode: i32,
    pub sx: i64,
    pub sy: i64,
    pub odims: [u64; MAX_DIMS],
    pub ox: [i64; MAX_DIMS],
    pub oy: [i64; MAX_DIMS],
}

/// `struct Idx` in `index.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Idx {
    pub numel: u64,
    pub rank: i32,
    pub dim: i32,
    pub size: i64,
    pub istride: i64,
    pub tdim: i64,
    pub dims: [u64; MAX_DIMS],
    pub a: [i64; MAX_DIMS],
    pub t: [i64; MAX_DIMS],
    pub ix: [i64; MAX_DIMS],
}

/// `struct Mm` in `matmul.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Mm {
    pub m: u64,
    pub n: u64,
    pub k: u64,
    pub batch: u64,
    pub brank: i32,
    pub beta_zero: i32,
    pub ars: i64,
    pub acs: i64,
    pub brs: i64,
    pub bcs: i64,
    pub yrs: i64,
    pub ycs: i64,
    pub alpha: f64,
    pub beta: f64,
    pub bdims: [u64; MAX_DIMS],
    pub ab: [i64; MAX_DIMS],
    pub bb: [i64; MAX_DIMS],
    pub yb: [i64; MAX_DIMS],
}

/// `struct Rnd` in `random.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Rnd {
    pub n: u64,
    pub seed: u64,
    pub offset: u64,
    pub a: f64,
    pub b: f64,
}

/// Dims after dropping size-1 dims and merging dims that are adjacent in memory for every
/// operand (the CPU driver's `coalesce`): `(dims, strides per operand)`, outermost first.
pub fn coalesce<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
) -> (Vec<usize>, [Vec<usize>; N]) {
    let mut dims: Vec<usize> = Vec::with_capacity(shape.len());
    let mut st: [Vec<usize>; N] = core::array::from_fn(|_| Vec::with_capacity(shape.len()));
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable = !dims.is_empty()
            && (0..N).all(|k| st[k].last().copied() == strides[k][i].checked_mul(d));
        if mergeable {
            let j = dims.len() - 1;
            dims[j] *= d;
            for k in 0..N {
                st[k][j] = strides[k][i];
            }
        } else {
            dims.push(d);
            for k in 0..N {
                st[k].push(strides[k][i]);
            }
        }
    }
    (dims, st)
}

pub fn too_many_dims(op: &'static str, dt: DType, rank: usize) -> Error {
    Error::Unsupported {
        op,
        dtype: format!(
            "{dt} with {rank} dims left after merging (the CUDA kernels index at most {MAX_DIMS})"
        ),
        device: String::from("cuda"),
    }
}

/// One operand of an elementwise kernel: its layout, element size and device address.
pub struct Operand<'a> {
    pub layout: &'a Layout,
    pub size: usize,
    pub addr: u64,
}

/// Builds the `Ew` block for an output and its inputs (all of the output's shape).
/// `vec` gives the vector width in elements when the kernel has a vector path (mode 2);
/// `None` for kernels without one.
pub fn ew(
    op: &'static str,
    dt: DType,
    out: &Operand,
    ins: &[Operand],
    vec: Option<usize>,
) -> Result<Ew> {
    let shape = out.layout.dims();
    let numel = out.layout.numel();
    let mut e = Ew {
        numel: numel as u64,
        ..Ew::default()
    };
    let mut all: [&[usize]; 4] = [&[]; 4];
    all[0] = &out.layout.strides;
    for (k, x) in ins.iter().enumerate() {
        all[k + 1] = &x.layout.strides;
    }
    let (dims, st) = coalesce::<4>(
        shape,
        [
            all[0],
            if ins.is_empty() { all[0] } else { all[1] },
            if ins.len() < 2 { all[0] } else { all[2] },
            if ins.len() < 3 { all[0] } else { all[3] },
        ],
    );
    if dims.len() > MAX_DIMS {
        return Err(too_many_dims(op, dt, dims.len()));
    }
    e.rank = dims.len() as i32;
    for (d, &n) in dims.iter().enumerate() {
        e.dims[d] = n as u64;
        for (row, s) in e.st.iter_mut().zip(&st) {
            row[d] = s[d] as i64;
        }
    }
    let nops = ins.len() + 1;
    // Dense (mode 1): one dim (or one element) with the output contiguous and every input
    // contiguous or a broadcast scalar.
    let dense = match dims.len() {
        0 => {
            for k in 0..4 {
                e.st[k][0] = 0;
            }
            e.rank = 1;
            e.dims[0] = numel as u64;
            true
        }
        1 => e.st[0][0] == 1 && (1..nops).all(|k| e.st[k][0] <= 1),
        _ => false,
    };
    if dense {
        e.mode = 1;
        if let Some(v) = vec {
            let ops = core::iter::once(out).chain(ins.iter());
            let aligned = ops
                .enumerate()
                .all(|(k, o)| e.st[k][0] == 0 || o.addr % (v * o.size) as u64 == 0);
            if aligned && numel >= v && e.st[0][0] == 1 {
                e.mode = 2;
            }
        }
    }
    Ok(e)
}

/// The vector width of a kernel whose elements are `a` and `b` bytes (`VecOf` in common.cuh).
pub fn vec_width(a: usize, b: usize) -> usize {
    16 / a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern::Shape;

    #[test]
    fn struct_sizes_match_the_cuda_structs() {
        assert_eq!(core::mem::size_of::<Ew>(), 8 + 4 + 4 + 64 + 256);
        assert_eq!(core::mem::size_of::<Red>(), 24 + 16 + 5 * 64);
        assert_eq!(core::mem::size_of::<Scan>(), 16 + 8 + 16 + 3 * 64);
        assert_eq!(core::mem::size_of::<Idx>(), 8 + 8 + 24 + 4 * 64);
        assert_eq!(core::mem::size_of::<Mm>(), 32 + 8 + 48 + 16 + 4 * 64);
        assert_eq!(core::mem::size_of::<Rnd>(), 40);
    }

    #[test]
    fn contiguous_operands_merge_to_one_dense_dim() {
        let l = Layout::contiguous(Shape::new(&[4, 5, 6]));
        let o = Operand {
            layout: &l,
            size: 4,
            addr: 256,
        };
        let i = Operand {
            layout: &l,
            size: 4,
            addr: 512,
        };
        let e = ew("add", DType::F32, &o, &[i], Some(4)).unwrap();
        assert_eq!((e.rank, e.mode, e.dims[0]), (1, 2, 120));
        // Misaligned input: dense but scalar loads.
        let i = Operand {
            layout: &l,
            size: 4,
            addr: 516,
        };
        let e = ew("add", DType::F32, &o, &[i], Some(4)).unwrap();
        assert_eq!(e.mode, 1);
    }

    #[test]
    fn broadcast_and_transposed_operands_stay_strided() {
        let y = Layout::contiguous(Shape::new(&[3, 4]));
        let row = Layout {
            shape: Shape::new(&[3, 4]),
            strides: [0usize, 1].into_iter().collect(),
            offset: 0,
        };
        let t = Layout::contiguous(Shape::new(&[4, 3])).permute(&[1, 0]);
        let o = Operand {
            layout: &y,
            size: 4,
            addr: 0,
        };
        let a = Operand {
            layout: &row,
            size: 4,
            addr: 0,
        };
        let b = Operand {
            layout: &t,
            size: 4,
            addr: 0,
        };
        let e = ew("add", DType::F32, &o, &[a, b], Some(4)).unwrap();
        assert_eq!((e.rank, e.mode), (2, 0));
        assert_eq!(&e.st[1][..2], &[0, 1]);
        assert_eq!(&e.st[2][..2], &[1, 3]);
        // A scalar broadcast against a dense tensor is dense.
        let s = Layout {
            shape: Shape::new(&[3, 4]),
            strides: [0usize, 0].into_iter().collect(),
            offset: 0,
        };
        let c = Operand {
            layout: &s,
            size: 4,
            addr: 4,
        };
        let o = Operand {
            layout: &y,
            size: 4,
            addr: 0,
        };
        let e = ew("add", DType::F32, &o, &[c], Some(4)).unwrap();
        assert_eq!((e.rank, e.mode), (1, 2));
    }
}
