//! The spike's checks, kept: buffers, add, matmul, awaited and blocking reads, batching,
//! and the error paths (device mixing, memory limit, unsupported dtypes, deferred faults).

mod common;

use common::*;
use lantern::driver::{Driver, View};
use lantern::ops::{BinaryOp, PrimOp};
use lantern::{DType, Device, Error, Layout, Shape, Tensor};

#[test]
fn write_read_roundtrip_aligned_and_unaligned() {
    let g = gpu_or_skip!();
    let b = g.alloc(64).unwrap();
    let bytes: Vec<u8> = (0..64u8).collect();
    g.write(b, 0, &bytes).unwrap();
    // Unaligned offset and length: goes through the byte copy kernel.
    g.write(b, 5, &[200, 201, 202]).unwrap();
    let v = View {
        buf: b,
        layout: Layout::contiguous(Shape::new(&[64])),
        dtype: DType::U8,
    };
    let mut want = bytes.clone();
    want[5..8].copy_from_slice(&[200, 201, 202]);
    assert_eq!(g.read_blocking(&v).unwrap(), want);
    // A view at an odd byte offset with a stride: read through a dense copy.
    let v2 = View {
        buf: b,
        layout: Layout {
            shape: Shape::new(&[3]),
            strides: [3usize].into_iter().collect(),
            offset: 7,
        },
        dtype: DType::U8,
    };
    assert_eq!(
        g.read_blocking(&v2).unwrap(),
        vec![want[7], want[10], want[13]]
    );
    g.free(b);
}

#[test]
fn bools_are_one_byte_at_the_host() {
    let g = gpu_or_skip!();
    let dev = device(&g);
    let t = Tensor::from_slice(&[true, false, true, true, false], [5], &dev);
    assert_eq!(t.to_vec::<bool>(), vec![true, false, true, true, false]);
    let n = t.logical_not();
    assert_eq!(n.to_vec::<bool>(), vec![false, true, false, false, true]);
}

#[test]
fn add_and_matmul_through_tensors() {
    let g = gpu_or_skip!();
    let dev = device(&g);
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3], &dev);
    let b = Tensor::from_slice(&[10.0f32, 20.0, 30.0], [3], &dev);
    assert_eq!(
        (&a + &b).to_vec::<f32>(),
        vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]
    );
    let m = a.matmul(&a.t());
    assert_eq!(m.to_vec::<f32>(), vec![14.0, 32.0, 32.0, 77.0]);
}

#[test]
fn awaited_read_completes() {
    let g = gpu_or_skip!();
    let dev = device(&g);
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0], [3], &dev);
    let fut = (&a * &a).to_vec_async::<f32>();
    // The future owns everything it needs: awaiting later works.
    drop(a);
    assert_eq!(lantern::block_on(fut).unwrap(), vec![1.0, 4.0, 9.0]);
}

#[test]
fn many_dispatches_share_a_submit() {
    // A driver of its own: reads by tests running beside this one submit the shared queue.
    let shared = gpu_or_skip!();
    let g = common::own_driver(&shared);
    let dev = device(&g);
    let mut x = Tensor::from_slice(&[1.0f32; 16], [16], &dev);
    let (d0, s0) = g.counters();
    for _ in 0..50 {
        x = &x + 1.0;
    }
    let (d1, s1) = g.counters();
    assert!(d1 - d0 >= 50, "dispatches {d0} -> {d1}");
    assert!(s1 - s0 <= 2, "50 adds took {} submits", s1 - s0);
    assert_eq!(x.to_vec::<f32>(), vec![51.0; 16]);
}

#[test]
fn mixing_devices_is_a_device_error_and_leaves_the_driver_usable() {
    let g = gpu_or_skip!();
    let dev = device(&g);
    let a = Tensor::ones([4], DType::F32, &dev);
    let c = Tensor::ones([4], DType::F32, &Device::cpu());
    let e = a.try_add(&c).unwrap_err();
    assert!(matches!(e, Error::Device { .. }), "{e}");
    assert_eq!((&a + &a).to_vec::<f32>(), vec![2.0; 4]);
}

#[test]
fn memory_limit_gives_out_of_memory_and_leaves_the_driver_usable() {
    let g = gpu_or_skip!();
    // A driver of its own: the limit must not disturb tests running beside this one.
    let own = common::own_driver(&g);
    let dev = Device::new(own.clone());
    let keep = Tensor::zeros([1024], DType::F32, &dev);
    dev.set_memory_limit(Some(64 * 1024));
    let e = Tensor::try_zeros([1 << 20], DType::F32, &dev).unwrap_err();
    assert!(matches!(e, Error::OutOfMemory { .. }), "{e}");
    assert!(e.to_string().contains("wgpu"), "{e}");
    let ok = Tensor::ones([16], DType::F32, &dev);
    assert_eq!(
        (&ok + &keep.narrow(0, 0, 16)).to_vec::<f32>(),
        vec![1.0; 16]
    );
    let m = dev.memory();
    assert!(
        m.in_use > 0 && m.peak >= m.in_use && m.limit == Some(64 * 1024),
        "{m:?}"
    );
    dev.set_memory_limit(None);
    let big = Tensor::zeros([1 << 20], DType::F32, &dev);
    assert_eq!(big.sum(None, false).item::<f32>(), 0.0);
}

#[test]
fn oversize_buffers_are_a_clear_error() {
    let g = gpu_or_skip!();
    let too_big = g.max_buffer_bytes() as usize + 1;
    let e = g.alloc(too_big).unwrap_err();
    assert!(matches!(e, Error::OutOfMemory { .. }), "{e}");
    assert!(e.to_string().contains("largest buffer"), "{e}");
    let b = g.alloc(16).unwrap();
    g.free(b);
}

#[test]
fn f64_is_unsupported() {
    let g = gpu_or_skip!();
    let dev = device(&g);
    let a = Tensor::try_zeros([4], DType::F64, &dev);
    let e = match a {
        Ok(t) => t.try_add(&t).unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}

#[test]
fn a_bad_index_is_a_deferred_error_and_the_driver_recovers() {
    let g = gpu_or_skip!();
    let own = common::own_driver(&g);
    let x = Operand::dense(DType::F32, &[4], 1, Data::Any);
    let idx = Operand::bytes(
        DType::I64,
        Layout::contiguous(Shape::new(&[2])),
        [1i64, 9].iter().flat_map(|v| v.to_le_bytes()).collect(),
    );
    let out = Operand::dense(DType::F32, &[2], 2, Data::Any);
    let e = run_on(&*own, &PrimOp::IndexSelect { dim: 0 }, &[&x, &idx], &out).unwrap_err();
    // The deferred error names the op that faulted.
    assert!(
        matches!(
            e,
            Error::Deferred {
                op: "index_select",
                ..
            }
        ),
        "{e}"
    );
    own.synchronize().unwrap();
    let a = Operand::dense(DType::F32, &[8], 3, Data::Any);
    let r = run_on(&*own, &PrimOp::Binary(BinaryOp::Add), &[&a, &a], &a).unwrap();
    assert_eq!(r.len(), 32);
}

#[test]
fn int64_beyond_32_bits_is_a_deferred_error() {
    let g = gpu_or_skip!();
    let own = common::own_driver(&g);
    let a = Operand::bytes(
        DType::I64,
        Layout::contiguous(Shape::new(&[2])),
        [1i64, 1 << 40]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    );
    let e = run_on(&*own, &PrimOp::Binary(BinaryOp::Add), &[&a, &a], &a).unwrap_err();
    assert!(matches!(e, Error::Deferred { op: "int64", .. }), "{e}");
    // Copies move int64 bits untouched.
    let r = run_on(&*own, &PrimOp::Copy, &[&a], &a).unwrap();
    assert_eq!(decode(DType::I64, &r), vec![1.0, (1u64 << 40) as f64]);
}

#[test]
fn softmax_and_log_softmax_are_one_fused_dispatch_each() {
    let shared = gpu_or_skip!();
    let g = common::own_driver(&shared);
    let dev = device(&g);
    let vals: Vec<f32> = (0..600).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
    let x = Tensor::from_slice(&vals, [2, 300], &dev);
    let cpu = Tensor::from_slice(&vals, [2, 300], &Device::cpu());
    for log in [false, true] {
        let (d0, _) = g.counters();
        let y = if log {
            x.try_log_softmax(-1)
        } else {
            x.try_softmax(-1)
        }
        .unwrap();
        let (d1, _) = g.counters();
        assert_eq!(d1 - d0, 1, "log {log}: {} dispatches", d1 - d0);
        let want = if log {
            cpu.try_log_softmax(-1)
        } else {
            cpu.try_softmax(-1)
        }
        .unwrap();
        for (a, b) in y.to_vec::<f32>().iter().zip(want.to_vec::<f32>()) {
            assert!(
                (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
                "log {log}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn layer_norm_is_one_fused_dispatch() {
    use lantern::nn::functional::layer_norm;
    let shared = gpu_or_skip!();
    let g = common::own_driver(&shared);
    let dev = device(&g);
    let cpu = Device::cpu();
    // Rows longer than a workgroup, and a norm over two dims.
    for (shape, norm) in [(&[3usize, 300][..], &[300usize][..]), (&[2, 3, 5], &[3, 5])] {
        let n: usize = shape.iter().product();
        let m: usize = norm.iter().product();
        let vals: Vec<f32> = (0..n)
            .map(|i| (i as f32 * 0.37).sin() * 5.0 + 2.0)
            .collect();
        let wv: Vec<f32> = (0..m).map(|i| 0.5 + (i as f32 * 0.11).cos()).collect();
        let bv: Vec<f32> = (0..m).map(|i| (i as f32 * 0.23).sin()).collect();
        let (w, b) = (
            Tensor::from_slice(&wv, norm.to_vec(), &dev),
            Tensor::from_slice(&bv, norm.to_vec(), &dev),
        );
        let (wc, bc) = (
            Tensor::from_slice(&wv, norm.to_vec(), &cpu),
            Tensor::from_slice(&bv, norm.to_vec(), &cpu),
        );
        for dt in [DType::F32, DType::F16, DType::BF16] {
            let x = Tensor::from_slice(&vals, shape.to_vec(), &dev).to_dtype(dt);
            let xc = Tensor::from_slice(&vals, shape.to_vec(), &cpu).to_dtype(dt);
            let (w, b, wc, bc) = (
                w.to_dtype(dt),
                b.to_dtype(dt),
                wc.to_dtype(dt),
                bc.to_dtype(dt),
            );
            for (wt, bs) in [(None, None), (Some(&w), None), (Some(&w), Some(&b))] {
                let (d0, _) = g.counters();
                let y = layer_norm(&x, norm, wt, bs, 1e-5).unwrap();
                let (d1, _) = g.counters();
                let what = format!(
                    "{shape:?} {dt:?} weight {} bias {}",
                    wt.is_some(),
                    bs.is_some()
                );
                assert_eq!(d1 - d0, 1, "{what}: {} dispatches", d1 - d0);
                let want = layer_norm(&xc, norm, wt.map(|_| &wc), bs.map(|_| &bc), 1e-5).unwrap();
                let tol = if dt == DType::F32 { 1e-5 } else { 1e-2 };
                for (a, b) in y.to_f64_vec().iter().zip(want.to_f64_vec()) {
                    assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{what}: {a} vs {b}");
                }
            }
        }
    }
}

#[test]
fn layer_norm_kernel_matches_f64_references() {
    let g = gpu_or_skip!();
    let dev = device(&g);
    let failures = lantern_tests::fused::layer_norm_against_the_cpu(
        &dev,
        &[DType::F32, DType::F16, DType::BF16],
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// What the browser build does by default (WebGPU rejects a buffer bound twice when one
/// binding is writable): in-place ops read their aliased input from a snapshot copy.
#[test]
fn in_place_ops_read_a_snapshot_of_an_aliased_input() {
    let shared = gpu_or_skip!();
    let info = shared.adapter_info();
    let own = std::sync::Arc::new(
        lantern_wgpu::WgpuDriver::new(&lantern_wgpu::Options {
            adapter_name: Some(info.name.clone()),
            backends: info.backend.into(),
            snapshot_aliased_inputs: true,
            ..Default::default()
        })
        .unwrap(),
    );
    let dev = device(&own);
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [4], &dev);
    let before = dev.memory();
    x.try_add_(&x).unwrap();
    let after = dev.memory();
    // One snapshot taken from the pool and given back at once.
    assert_eq!(after.requests, before.requests + 1);
    assert_eq!(after.in_use, before.in_use);
    x.try_mul_scalar_(3.0).unwrap();
    // Overlapping views of one buffer: the source is read as it was before the write.
    x.try_narrow(0, 1, 3)
        .unwrap()
        .try_copy_(&x.try_narrow(0, 0, 3).unwrap())
        .unwrap();
    assert_eq!(x.to_vec::<f32>(), vec![6.0, 6.0, 12.0, 18.0]);
    // An SGD step updates its parameter in place.
    let p = Tensor::from_slice(&[1.0f32, -2.0], [2], &dev).requires_grad_(true);
    let mut opt = lantern::optim::Sgd::new(vec![p.clone()], 0.25);
    p.mul(&p).sum(None, false).backward();
    lantern::optim::Optimizer::step(&mut opt).unwrap();
    assert_eq!(p.to_vec::<f32>(), vec![0.5, -1.0]);
}

/// Three AdamW steps on one parameter and three momentum-SGD steps on another, on `dev`.
/// Returns both parameters and, per step, how far `dispatches()` moved over the two updates.
fn adamw_and_sgd_steps(dev: &Device, dispatches: impl Fn() -> u64) -> ([Tensor; 2], Vec<u64>) {
    use lantern::optim::{Adam, Optimizer, Sgd};
    let p = Tensor::from_slice(&[1.0f32, -2.0, 0.5], [3], dev).requires_grad_(true);
    let q = Tensor::from_slice(&[3.0f32, 0.25], [2], dev).requires_grad_(true);
    let mut adam = Adam::adamw(vec![p.clone()], 0.1);
    let mut sgd = Sgd::new(vec![q.clone()], 0.1).momentum(0.9);
    let mut per_step = Vec::new();
    for _ in 0..3 {
        p.mul(&p)
            .sum(None, false)
            .add(&q.mul(&q).sum(None, false))
            .backward();
        let d0 = dispatches();
        adam.step().unwrap();
        sgd.step().unwrap();
        per_step.push(dispatches() - d0);
        adam.zero_grad();
        sgd.zero_grad();
    }
    ([p, q], per_step)
}

#[test]
fn optimizer_steps_are_one_fused_dispatch_per_parameter() {
    let shared = gpu_or_skip!();
    let g = common::own_driver(&shared);
    let (gpu, per_step) = adamw_and_sgd_steps(&device(&g), || g.counters().0);
    // The first SGD step creates its momentum buffer (composed); later ones are fused.
    assert_eq!(per_step[1..], [2, 2], "dispatches per step: {per_step:?}");
    // The same steps on the CPU's path.
    let (cpu, _) = adamw_and_sgd_steps(&Device::cpu(), || 0);
    for (a, b) in gpu.iter().zip(&cpu) {
        for (x, y) in a.to_vec::<f32>().iter().zip(b.to_vec::<f32>()) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }
}
