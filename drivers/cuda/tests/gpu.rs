//! Tests on a real GPU: the shared conformance suite and a few driver-specific checks. Each
//! skips with the reason when `lantern_cuda::cuda(0)` fails (no driver, no GPU, no NVRTC).

use lantern::ops::PrimOp;
use lantern::{DType, Device, Error, Layout, Shape, Tensor, View};

fn gpu() -> Option<Device> {
    match lantern_cuda::cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

#[test]
fn no_gpu_is_a_clear_error_or_a_device() {
    match lantern_cuda::cuda(0) {
        Ok(d) => assert_eq!(d.to_string(), "cuda:0"),
        Err(e) => {
            let m = e.to_string();
            assert!(matches!(e, Error::Device { .. }), "{e:?}");
            assert!(
                m.contains("cuda") || m.contains("CUDA") || m.contains("NVRTC"),
                "{m}"
            );
        }
    }
    assert!(matches!(
        lantern_cuda::cuda(4096),
        Err(Error::Device { .. })
    ));
}

#[test]
fn conformance() {
    let Some(dev) = gpu() else { return };
    if let Some(d) = lantern_cuda::driver(0) {
        println!(
            "device: {} (sm_{}), cuBLAS: {}",
            d.device_name(),
            d.compute_capability(),
            d.has_cublas()
        );
    }
    let t = std::time::Instant::now();
    if let Some(d) = lantern_cuda::driver(0) {
        d.precompile(&DType::ALL).expect("precompile");
        println!("compiled every kernel for every dtype in {:?}", t.elapsed());
    }
    let t = std::time::Instant::now();
    let report = lantern_tests::conformance::conformance(&dev);
    println!("{report}");
    for (family, counts) in report.by_family() {
        println!(
            "  {family:<12} pass {:>5} fail {:>4} unsupported {:>4} skipped {:>4}",
            counts[0], counts[1], counts[2], counts[3]
        );
    }
    for u in report.unsupported() {
        println!("unsupported: {u:?}");
    }
    println!("conformance on {dev} took {:?}", t.elapsed());
    report.assert_ok();
}

#[test]
fn ops_match_the_cpu() {
    let Some(dev) = gpu() else { return };
    let cpu = Device::cpu();
    let n = 3 * 1003;
    let xs: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 8.0)
        .collect();
    let a = Tensor::from_slice(&xs, [3, 1003], &cpu);
    let g = a.to_device(&dev);
    let close = |x: &Tensor, y: &Tensor| {
        let (p, q) = (x.to_f64_vec(), y.to_f64_vec());
        assert_eq!(p.len(), q.len());
        for (i, (u, v)) in p.iter().zip(&q).enumerate() {
            assert!(
                (u - v).abs() <= 1e-5 * (1.0 + v.abs()),
                "element {i}: {u} vs {v}"
            );
        }
    };
    close(&(&g + &g).exp(), &(&a + &a).exp());
    close(&g.sum(Some(&[1]), false), &a.sum(Some(&[1]), false));
    close(&g.t().contiguous(), &a.t().contiguous());
    close(&g.matmul(&g.t()), &a.matmul(&a.t()));
    close(
        &g.to_dtype(DType::BF16).to_dtype(DType::F32),
        &a.to_dtype(DType::BF16).to_dtype(DType::F32),
    );
    close(&g.argmax(Some(1), false), &a.argmax(Some(1), false));
}

#[test]
fn layer_norm_kernel_matches_f64_references() {
    let Some(dev) = gpu() else { return };
    let failures = lantern_tests::fused::layer_norm_against_the_cpu(
        &dev,
        &[DType::F32, DType::F64, DType::F16, DType::BF16],
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn random_draws_equal_the_cpu_bit_for_bit() {
    let Some(dev) = gpu() else { return };
    let d = dev.driver();
    let cpu = Device::cpu();
    for dt in [DType::F32, DType::F16, DType::BF16, DType::F64] {
        for dist in [
            lantern::ops::Distribution::Uniform {
                low: -2.0,
                high: 3.0,
            },
            lantern::ops::Distribution::Normal {
                mean: 0.5,
                std: 2.0,
            },
            lantern::ops::Distribution::Bernoulli { p: 0.3 },
        ] {
            let n = 70_000usize;
            let op = PrimOp::Random {
                dist,
                seed: 1234,
                offset: 99,
            };
            let read = |dev: &Device| {
                let buf = dev.driver().alloc(n * dt.size()).unwrap();
                let v = View {
                    buf,
                    layout: Layout::contiguous(Shape::new(&[n])),
                    dtype: dt,
                };
                dev.driver()
                    .exec(&op, &[], core::slice::from_ref(&v))
                    .unwrap();
                let r = dev.driver().read_blocking(&v).unwrap();
                dev.driver().free(buf);
                r
            };
            let (g, c) = (read(&dev), read(&cpu));
            let same = g == c;
            if !same {
                let es = dt.size();
                let diffs: Vec<String> = (0..n)
                    .filter(|&i| g[i * es..(i + 1) * es] != c[i * es..(i + 1) * es])
                    .take(6)
                    .map(|i| {
                        format!(
                            "[{i}] gpu {:02x?} cpu {:02x?}",
                            &g[i * es..(i + 1) * es],
                            &c[i * es..(i + 1) * es]
                        )
                    })
                    .collect();
                eprintln!("{dt} {dist:?}: {}", diffs.join(", "));
            }
            let normal_f64 =
                matches!(dist, lantern::ops::Distribution::Normal { .. }) && dt == DType::F64;
            // f64 normals use CUDA's log/cos: equal within rounding, not bit for bit.
            if !normal_f64 {
                assert!(same, "{dt} {dist:?} differs from the CPU");
            }
        }
    }
    d.synchronize().unwrap();
}

#[test]
fn device_faults_are_deferred_and_the_driver_keeps_working() {
    let Some(dev) = gpu() else { return };
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0], [3], &dev);
    let idx = Tensor::from_slice(&[0i64, 5], [2], &dev);
    let r = x.try_index_select(0, &idx).and_then(|_| dev.synchronize());
    assert!(
        matches!(
            r,
            Err(Error::Deferred {
                op: "index_select",
                ..
            }) | Err(Error::Arg { .. })
        ),
        "{r:?}"
    );
    dev.synchronize().unwrap();
    let a = Tensor::from_slice(&[7i32, 8], [2], &dev);
    let z = Tensor::from_slice(&[0i32, 2], [2], &dev);
    let r = a.try_floor_divide(&z).and_then(|q| q.try_to_vec::<i32>());
    assert!(
        r.is_err(),
        "integer division by zero must be reported: {r:?}"
    );
    assert_eq!((&x + &x).to_vec::<f32>(), vec![2.0, 4.0, 6.0]);
}

#[test]
fn memory_is_pooled_and_limited() {
    let Some(dev) = gpu() else { return };
    let d = dev.driver();
    d.synchronize().unwrap();
    let before = d.memory();
    let b = d.alloc(1 << 20).unwrap();
    d.free(b);
    let b2 = d.alloc(1 << 20).unwrap();
    assert_eq!(
        d.memory().allocations,
        before.allocations + 1,
        "the freed block is reused"
    );
    d.free(b2);
    d.set_memory_limit(Some(before.in_use + (4 << 20)));
    let e = d.alloc(64 << 20).unwrap_err();
    assert!(matches!(e, Error::OutOfMemory { .. }), "{e:?}");
    d.set_memory_limit(None);
    let b3 = d.alloc(64 << 20).unwrap();
    d.free(b3);
}
