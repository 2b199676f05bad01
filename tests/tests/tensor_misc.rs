//! Tensor behaviour the PyTorch fixtures do not cover: printing, random numbers,
//! asynchronous readback, views sharing storage, memory statistics.

use lantern::{block_on, manual_seed, DType, Device, Tensor};

fn cpu() -> Device {
    Device::cpu()
}

#[test]
fn display_matches_pytorch_print() {
    let t = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &cpu());
    assert_eq!(format!("{t}"), "tensor([[1., 2.],\n        [3., 4.]])");
    let t = Tensor::from_slice(&[1.5f32, -2.25], [2], &cpu());
    assert_eq!(format!("{t}"), "tensor([ 1.5000, -2.2500])");
    let t = Tensor::from_slice(&[1i64, 2, 3], [3], &cpu());
    assert_eq!(format!("{t}"), "tensor([1, 2, 3])");
    let t = Tensor::from_slice(&[true, false], [2], &cpu());
    assert_eq!(format!("{t}"), "tensor([ True, False])");
    let t = Tensor::from_slice(&[1.0f64, 2.0], [2], &cpu());
    assert_eq!(format!("{t}"), "tensor([1., 2.], dtype=torch.float64)");
    let t = Tensor::from_slice(&[3.5f32], [], &cpu());
    assert_eq!(format!("{t}"), "tensor(3.5000)");
    let t = Tensor::from_slice(&[1e-5f32, 1.0], [2], &cpu());
    assert_eq!(format!("{t}"), "tensor([1.0000e-05, 1.0000e+00])");
    let t = Tensor::from_slice(&[1i32, -20], [2], &cpu());
    assert_eq!(format!("{t}"), "tensor([  1, -20], dtype=torch.int32)");
}

#[test]
fn random_is_seeded_and_has_the_right_moments() {
    manual_seed(42);
    let a = Tensor::rand([10_000], DType::F32, &cpu()).to_vec::<f32>();
    manual_seed(42);
    let b = Tensor::rand([10_000], DType::F32, &cpu()).to_vec::<f32>();
    assert_eq!(a, b, "same seed, same numbers");
    let c = Tensor::rand([10_000], DType::F32, &cpu()).to_vec::<f32>();
    assert_ne!(a, c, "the counter advances between draws");
    assert!(a.iter().all(|&x| (0.0..1.0).contains(&x)));
    let mean = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
    assert!((mean - 0.5).abs() < 0.01, "uniform mean {mean}");
    let n = Tensor::randn([20_000], DType::F64, &cpu());
    let m = n.mean(None, false).item::<f64>();
    let s = n.std(None, 1.0, false).item::<f64>();
    assert!(
        m.abs() < 0.02 && (s - 1.0).abs() < 0.02,
        "normal mean {m}, std {s}"
    );
    let r = Tensor::randint(3, 7, [5000], &cpu()).to_vec::<i64>();
    assert!(r.iter().all(|&x| (3..7).contains(&x)));
    for v in 3..7 {
        let k = r.iter().filter(|&&x| x == v).count();
        assert!(
            (1000..1500).contains(&k),
            "randint value {v} drawn {k} times"
        );
    }
    let p = Tensor::full([4000], 0.25, DType::F32, &cpu());
    let hits = p.try_bernoulli().unwrap().sum(None, false).item::<f32>();
    assert!(
        (850.0..1150.0).contains(&hits),
        "bernoulli(0.25) gave {hits} ones of 4000"
    );
}

#[test]
fn async_readback_and_item() {
    let t = Tensor::arange(0.0, 6.0, 1.0, DType::F32, &cpu())
        .reshape(&[2, 3])
        .t();
    let fut = t.to_vec_async::<f32>();
    assert_eq!(block_on(fut).unwrap(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert!(
        block_on(t.to_vec_async::<i64>()).is_err(),
        "wrong element type is an error"
    );
    assert_eq!(t.sum(None, false).item::<f32>(), 15.0);
}

#[test]
fn views_share_storage_and_copies_do_not() {
    let x = Tensor::arange(0.0, 12.0, 1.0, DType::F32, &cpu()).reshape(&[3, 4]);
    for v in [
        x.t(),
        x.narrow(1, 1, 2),
        x.select(0, 1),
        x.unsqueeze(0),
        x.slice(1, 0, None, 2),
        x.view(&[4, 3]),
    ] {
        assert!(v.shares_storage(&x));
    }
    assert!(x.t().contiguous().is_contiguous());
    assert!(!x.t().contiguous().shares_storage(&x));
    assert!(
        x.contiguous().shares_storage(&x),
        "contiguous() on a contiguous tensor copies nothing"
    );
    assert!(x.expand(&[2, 3, 4]).shares_storage(&x));
}

#[test]
fn memory_stats_and_limit() {
    let dev = Device::new(std::sync::Arc::new(lantern::cpu::CpuDriver::new()));
    let before = dev.memory();
    let t = Tensor::zeros([1024], DType::F32, &dev);
    let m = dev.memory();
    assert!(m.in_use >= before.in_use + 4096 && m.peak >= m.in_use && m.reserved >= m.in_use);
    drop(t);
    let m2 = dev.memory();
    assert_eq!(
        m2.in_use, before.in_use,
        "a dropped tensor returns its buffer"
    );
    let _t = Tensor::zeros([1024], DType::F32, &dev);
    assert_eq!(
        dev.memory().allocations,
        m2.allocations,
        "the pool reuses the cached buffer"
    );
    dev.set_memory_limit(Some(64 * 1024));
    let e = Tensor::try_zeros([1 << 20], DType::F32, &dev).unwrap_err();
    assert!(e.to_string().contains("out of memory"), "{e}");
    assert!(
        Tensor::try_zeros([16], DType::F32, &dev).is_ok(),
        "usable after OOM"
    );
}
