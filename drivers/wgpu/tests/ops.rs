//! Every primitive × dtype on the wgpu driver against the CPU driver, with strided,
//! permuted, offset and broadcast (zero-stride) views and per-op tolerances. An op the CPU
//! driver refuses for a dtype must be refused here too.

mod common;

use common::*;
use lantern::dtype::Scalar;
use lantern::ops::{BinaryOp, Distribution, PrimOp, ReduceOp, ScanOp, UnaryOp};
use lantern::{DType, Layout, Shape};

/// A [a, b, c] view that is the transpose of a contiguous [c, b, a] buffer, at an offset.
fn permuted(shape: &[usize], offset: usize) -> Layout {
    let rev: Vec<usize> = shape.iter().rev().copied().collect();
    let perm: Vec<usize> = (0..shape.len()).rev().collect();
    let mut l = Layout::contiguous(Shape::new(&rev)).permute(&perm);
    l.offset = offset;
    l
}

/// `small` broadcast to `shape` (zero strides where `small` has 1).
fn broadcast(small: &[usize], shape: &[usize]) -> Layout {
    Layout::contiguous(Shape::new(small))
        .broadcast_to(&Shape::new(shape), "test")
        .unwrap()
}

fn contig(shape: &[usize]) -> Layout {
    Layout::contiguous(Shape::new(shape))
}

struct Tally {
    ran: Vec<String>,
    refused: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            ran: Vec::new(),
            refused: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn record(&mut self, what: String, r: Result<bool, String>) {
        match r {
            Ok(true) => self.ran.push(what),
            Ok(false) => self.refused.push(what),
            Err(e) => self.failures.push(e),
        }
    }

    fn finish(self, group: &str) {
        println!(
            "{group}: {} passed vs cpu, {} refused by both (cpu and wgpu agree)",
            self.ran.len(),
            self.refused.len()
        );
        if !self.refused.is_empty() {
            println!("  refused: {}", self.refused.join(", "));
        }
        assert!(
            self.failures.is_empty(),
            "{group}: {} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn unary_tol(op: UnaryOp, dt: DType) -> (f64, f64) {
    let r = rtol(dt);
    match op {
        UnaryOp::Erf | UnaryOp::Tanh | UnaryOp::Expm1 | UnaryOp::Log1p => (r.max(1e-5), 1e-6),
        _ => (r, if dt == DType::F32 { 1e-6 } else { 0.0 }),
    }
}

#[test]
fn unary() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    for dt in DTYPES {
        for op in UnaryOp::ALL {
            let kind = match op {
                UnaryOp::Sqrt | UnaryOp::Rsqrt | UnaryOp::Log | UnaryOp::Log2 => Data::Positive,
                _ => Data::Any,
            };
            let x = Operand::with_layout(dt, permuted(&[3, 5, 7], 2), 11, kind);
            let y = Operand::dense(dt, &[3, 5, 7], 12, Data::Any);
            let (r, a) = unary_tol(op, dt);
            let what = format!("{}_{}", op.name(), dt.name());
            t.record(
                what.clone(),
                check(&g, &what, &PrimOp::Unary(op), &[&x], &y, r, a),
            );
            // A strided output view as well.
            let y2 = Operand::with_layout(dt, permuted(&[3, 5, 7], 1), 13, Data::Any);
            let what2 = format!("{what} (strided out)");
            if let Err(e) = check(&g, &what2, &PrimOp::Unary(op), &[&x], &y2, r, a) {
                t.failures.push(e);
            }
        }
    }
    t.finish("unary");
}

#[test]
fn binary_with_broadcast() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    let shape = [4, 5, 6];
    for dt in DTYPES {
        for op in BinaryOp::ALL {
            let (ka, kb) = match op {
                BinaryOp::Div | BinaryOp::Rem | BinaryOp::FloorDiv => (Data::Any, Data::Positive),
                BinaryOp::Pow if dt.is_float() => (Data::Positive, Data::Small),
                BinaryOp::Pow => (Data::Small, Data::Positive),
                _ => (Data::Any, Data::Any),
            };
            let a = Operand::with_layout(dt, permuted(&shape, 3), 21, ka);
            let b = Operand::with_layout(dt, broadcast(&[1, 5, 1], &shape), 22, kb);
            let out_dt = if op.is_cmp() { DType::Bool } else { dt };
            let y = Operand::dense(out_dt, &shape, 23, Data::Any);
            let r = if op == BinaryOp::Pow {
                rtol(dt) * 10.0
            } else {
                rtol(dt)
            };
            let what = format!("{}_{}", op.name(), dt.name());
            t.record(
                what.clone(),
                check(&g, &what, &PrimOp::Binary(op), &[&a, &b], &y, r, 1e-6),
            );
        }
    }
    t.finish("binary");
}

#[test]
fn where_cast_fill_iota_copy() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    let shape = [3, 4, 5];
    for dt in DTYPES {
        let c = Operand::with_layout(DType::Bool, broadcast(&[3, 1, 5], &shape), 31, Data::Any);
        let a = Operand::with_layout(dt, permuted(&shape, 1), 32, Data::Any);
        let b = Operand::with_layout(dt, broadcast(&[1, 4, 1], &shape), 33, Data::Any);
        let y = Operand::dense(dt, &shape, 34, Data::Any);
        let w = format!("where_{}", dt.name());
        t.record(
            w.clone(),
            check(&g, &w, &PrimOp::Where, &[&c, &a, &b], &y, 0.0, 0.0),
        );

        let w = format!("copy_{}", dt.name());
        let ys = Operand::with_layout(dt, permuted(&shape, 2), 35, Data::Any);
        t.record(
            w.clone(),
            check(&g, &w, &PrimOp::Copy, &[&a], &ys, 0.0, 0.0),
        );

        for to in DTYPES {
            let w = format!("cast_{}_to_{}", dt.name(), to.name());
            let y = Operand::dense(to, &shape, 36, Data::Any);
            t.record(w.clone(), check(&g, &w, &PrimOp::Cast, &[&a], &y, 0.0, 0.0));
        }

        for v in [Scalar::Float(2.5), Scalar::Int(-7), Scalar::Bool(true)] {
            let w = format!("fill_{}_{v:?}", dt.name());
            t.record(
                w.clone(),
                check(&g, &w, &PrimOp::Fill(v), &[], &ys, 0.0, 0.0),
            );
        }

        let mut l = Layout::contiguous(Shape::new(&[9]));
        l.strides[0] = 2;
        l.offset = 1;
        let y = Operand::with_layout(dt, l, 37, Data::Any);
        let w = format!("iota_{}", dt.name());
        let op = PrimOp::Iota {
            start: 3.0,
            step: -2.0,
        };
        t.record(w.clone(), check(&g, &w, &op, &[], &y, 0.0, 0.0));
    }
    t.finish("layout and where");
}

#[test]
fn reductions() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    let shape = [6, 70, 5];
    for dt in DTYPES {
        for op in ReduceOp::ALL {
            let arg = matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin);
            let axes_list: Vec<Vec<usize>> = match op {
                ReduceOp::Prod => vec![vec![2]],
                ReduceOp::ArgMax | ReduceOp::ArgMin => vec![vec![1], vec![2]],
                _ => vec![vec![1], vec![0, 2], vec![0, 1, 2]],
            };
            let kind = if op == ReduceOp::Prod {
                Data::Small
            } else {
                Data::Any
            };
            let x = Operand::with_layout(dt, permuted(&shape, 4), 41, kind);
            for axes in axes_list {
                let mut oshape = shape.to_vec();
                for &a in &axes {
                    oshape[a] = 1;
                }
                let out_dt = if arg { DType::I64 } else { dt };
                let y = Operand::dense(out_dt, &oshape, 42, Data::Any);
                let (r, a) = match (op, dt) {
                    (ReduceOp::Sum, DType::F32) => (1e-5, 1e-4),
                    (ReduceOp::Sum, DType::F16 | DType::BF16) => (rtol(dt), rtol(dt)),
                    _ => (rtol(dt), 0.0),
                };
                let what = format!("{}_{} over {axes:?}", op.name(), dt.name());
                let prim = PrimOp::Reduce {
                    op,
                    axes: axes.iter().copied().collect(),
                };
                t.record(what.clone(), check(&g, &what, &prim, &[&x], &y, r, a));
            }
        }
        // A long reduction: the workgroup tree over 20,000 elements per output.
        let x = Operand::dense(dt, &[3, 20_000], 43, Data::Any);
        for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::ArgMin] {
            let out_dt = if op == ReduceOp::ArgMin {
                DType::I64
            } else {
                dt
            };
            let y = Operand::dense(out_dt, &[3, 1], 44, Data::Any);
            let (r, a) = match (op, dt) {
                (ReduceOp::Sum, DType::F32) => (1e-5, 1e-3),
                (ReduceOp::Sum, DType::F16 | DType::BF16) => (rtol(dt), 1.0),
                _ => (rtol(dt), 0.0),
            };
            let what = format!("{}_{} over 20000", op.name(), dt.name());
            let prim = PrimOp::Reduce {
                op,
                axes: [1usize].into_iter().collect(),
            };
            t.record(what.clone(), check(&g, &what, &prim, &[&x], &y, r, a));
        }
    }
    t.finish("reduce");
}

#[test]
fn matmul_batched_strided_broadcast() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    for dt in DTYPES {
        let (m, k, n) = (37, 19, 23);
        let kind = if dt.is_float() {
            Data::Any
        } else {
            Data::Small
        };
        // a: [2, m, k] stored transposed; b: [2, k, n] with batch stride 0.
        let mut al = Layout::contiguous(Shape::new(&[2, k, m])).permute(&[0, 2, 1]);
        al.offset = 0;
        let a = Operand::with_layout(dt, al, 51, kind);
        let b = Operand::with_layout(dt, broadcast(&[1, k, n], &[2, k, n]), 52, kind);
        let y = Operand::dense(dt, &[2, m, n], 53, kind);
        let (r, at) = match dt {
            DType::F32 => (1e-5, 1e-5),
            DType::F16 | DType::BF16 => (rtol(dt), rtol(dt)),
            _ => (0.0, 0.0),
        };
        for (alpha, beta) in [(1.0, 0.0), (2.0, 0.5)] {
            let w = format!("matmul_{} alpha {alpha} beta {beta}", dt.name());
            let op = PrimOp::Matmul { alpha, beta };
            t.record(w.clone(), check(&g, &w, &op, &[&a, &b], &y, r, at));
        }
    }
    // Larger than one tile in every direction, with a ragged edge.
    let a = Operand::dense(DType::F32, &[200, 300], 54, Data::Any);
    let b = Operand::dense(DType::F32, &[300, 150], 55, Data::Any);
    let y = Operand::dense(DType::F32, &[200, 150], 56, Data::Any);
    let op = PrimOp::Matmul {
        alpha: 1.0,
        beta: 0.0,
    };
    t.record(
        "matmul_f32 200x300x150".into(),
        check(&g, "matmul 200x300x150", &op, &[&a, &b], &y, 1e-5, 1e-4),
    );
    t.finish("matmul");
}

fn index_bytes(n: usize, lo: i64, hi: i64, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .flat_map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            let v = lo + ((s >> 33) as i64).rem_euclid(hi - lo);
            v.to_le_bytes()
        })
        .collect()
}

#[test]
fn gather_index_select_scatter_add() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    for dt in DTYPES {
        let x = Operand::with_layout(dt, permuted(&[4, 6, 5], 1), 61, Data::Any);
        let idx = Operand::bytes(DType::I64, contig(&[4, 3, 5]), index_bytes(60, -6, 6, 1));
        let y = Operand::dense(dt, &[4, 3, 5], 62, Data::Any);
        let w = format!("gather_{}", dt.name());
        let op = PrimOp::Gather { dim: 1 };
        t.record(w.clone(), check(&g, &w, &op, &[&x, &idx], &y, 0.0, 0.0));

        let idx1 = Operand::bytes(DType::I64, contig(&[7]), index_bytes(7, -6, 6, 2));
        let y = Operand::dense(dt, &[4, 7, 5], 63, Data::Any);
        let w = format!("index_select_{}", dt.name());
        let op = PrimOp::IndexSelect { dim: 1 };
        t.record(w.clone(), check(&g, &w, &op, &[&x, &idx1], &y, 0.0, 0.0));

        let src = Operand::dense(dt, &[4, 3, 5], 64, Data::Any);
        let idx2 = Operand::bytes(DType::I64, contig(&[4, 3, 5]), index_bytes(60, 0, 6, 3));
        let y = Operand::with_layout(dt, permuted(&[4, 6, 5], 0), 65, Data::Any);
        let w = format!("scatter_add_{}", dt.name());
        let op = PrimOp::ScatterAdd { dim: 1 };
        if dt == DType::I64 {
            // The two words of an int64 cannot be updated atomically: refused, clearly.
            let e = run_on(&*g, &op, &[&src, &idx2], &y).unwrap_err();
            assert!(matches!(e, lantern::Error::Unsupported { .. }), "{e}");
            continue;
        }
        t.record(
            w.clone(),
            check(&g, &w, &op, &[&src, &idx2], &y, rtol(dt), rtol(dt)),
        );
    }
    t.finish("index");
}

#[test]
fn scans() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    for dt in DTYPES {
        for (op, dim, kind) in [
            (ScanOp::CumSum, 1, Data::Any),
            (ScanOp::CumSum, 2, Data::Any),
            (ScanOp::CumProd, 2, Data::Small),
        ] {
            let x = Operand::with_layout(dt, permuted(&[5, 40, 3], 2), 71, kind);
            let y = Operand::dense(dt, &[5, 40, 3], 72, Data::Any);
            let (r, a) = if dt.is_float() {
                (rtol(dt), rtol(dt))
            } else {
                (0.0, 0.0)
            };
            let w = format!("{op:?}_{} dim {dim}", dt.name());
            t.record(
                w.clone(),
                check(&g, &w, &PrimOp::Scan { op, dim }, &[&x], &y, r, a),
            );
        }
    }
    t.finish("scan");
}

#[test]
fn random_matches_the_cpu_philox_stream() {
    let g = gpu_or_skip!();
    let mut t = Tally::new();
    for offset in [7u64, 0xFFFF_FFF0] {
        for dist in [
            Distribution::Uniform {
                low: -2.0,
                high: 3.0,
            },
            Distribution::Normal {
                mean: 0.5,
                std: 2.0,
            },
            Distribution::Bernoulli { p: 0.3 },
        ] {
            for dt in [DType::F32, DType::F16, DType::BF16, DType::Bool, DType::I32] {
                let bern = matches!(dist, Distribution::Bernoulli { .. });
                if !dt.is_float() && !bern {
                    continue;
                }
                let y = Operand::dense(dt, &[1000], 81, Data::Any);
                // Uniform and bernoulli are bit-exact; normal differs by log/cos/sqrt ulps.
                // f16: the CPU rounds f32 -> f16 through `half`'s f64 path, which drops
                // sticky bits (half 2.7.1 `f64_to_f16_fallback`) and can be off by one ulp
                // where this driver rounds correctly (f32 -1.3872076 -> -1.3876953).
                let (r, a) = match dist {
                    Distribution::Normal { .. } => (rtol(dt).max(1e-5), 1e-5),
                    _ if dt == DType::F16 => (rtol(dt), 0.0),
                    _ => (0.0, 0.0),
                };
                let op = PrimOp::Random {
                    dist,
                    seed: 0x1234_5678_9abc,
                    offset,
                };
                let w = format!("{dist:?}_{} offset {offset}", dt.name());
                t.record(w.clone(), check(&g, &w, &op, &[], &y, r, a));
            }
        }
    }
    t.finish("random");
}

#[test]
fn zero_size_views() {
    let g = gpu_or_skip!();
    let x = Operand::bytes(DType::F32, contig(&[0, 4]), vec![0; 4]);
    let y = Operand::bytes(DType::F32, contig(&[0, 4]), vec![0; 4]);
    let r = run_on(&*g, &PrimOp::Unary(UnaryOp::Exp), &[&x], &y).unwrap();
    assert!(r.is_empty());
    let s = Operand::dense(DType::F32, &[1, 4], 1, Data::Any);
    let sum = PrimOp::Reduce {
        op: ReduceOp::Sum,
        axes: [0usize].into_iter().collect(),
    };
    let check0 = check(&g, "sum over an empty axis", &sum, &[&x], &s, 0.0, 0.0);
    assert_eq!(check0, Ok(true));
}

#[test]
fn a_dispatch_larger_than_one_grid_dimension() {
    let g = gpu_or_skip!();
    // 65535 workgroups of 256 cover 16,776,960 elements: this one spills into y.
    let n = 16_777_216 + 1000;
    let a = Operand::dense(DType::U8, &[n], 91, Data::Any);
    let b = Operand::dense(DType::U8, &[n], 92, Data::Any);
    let y = Operand::dense(DType::U8, &[n], 93, Data::Any);
    let r = check(
        &g,
        "add_u8 17M",
        &PrimOp::Binary(BinaryOp::Add),
        &[&a, &b],
        &y,
        0.0,
        0.0,
    );
    assert_eq!(r, Ok(true));
}

/// Whole exponents (what `x ** 2`, `x ** -1` and the conformance edge values use) are within
/// an ulp of the CPU's powf, where `exp2(b · log2(a))` was 1e-5 off for 2^100 on NVIDIA.
#[test]
fn pow_with_whole_exponents_is_within_an_ulp_of_the_cpu() {
    let g = gpu_or_skip!();
    let bases = [
        2.0f32, 3.0, 1.1, 0.7, -1.3, 10.0, -2.5, 1.0001, 0.999, 7.0, -1.5, 0.1,
    ];
    let exps = [
        2.0f32, 3.0, 5.0, 7.0, 10.0, 17.0, 31.0, 100.0, 127.0, 1000.0, 12345.0,
    ];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &x in &bases {
        for e in exps.iter().flat_map(|e| [*e, -*e]) {
            // Results in f32's normal range (subnormals take the general path).
            let v = (x as f64).powf(e as f64).abs();
            if (1e-37..3e38).contains(&v) {
                a.push(x);
                b.push(e);
            }
        }
    }
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let n = a.len();
    let a = Operand::bytes(DType::F32, contig(&[n]), bytes(&a));
    let b = Operand::bytes(DType::F32, contig(&[n]), bytes(&b));
    let y = Operand::dense(DType::F32, &[n], 1, Data::Any);
    let r = check(
        &g,
        "pow whole",
        &PrimOp::Binary(BinaryOp::Pow),
        &[&a, &b],
        &y,
        1.2e-7,
        0.0,
    );
    assert_eq!(r, Ok(true));
}
