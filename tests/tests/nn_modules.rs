//! nn modules and losses beyond the basics: gradient checks in f64 (module parameters are
//! gradcheck inputs, swapped into the module's public fields), train/eval behaviour,
//! PyTorch's state-dict key names, and errors for bad input.

use lantern::nn::functional::{self as F, CrossEntropyOptions, Reduction};
use lantern::nn::{
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Dropout, Embedding, GroupNorm,
    LayerNorm, LeakyReLU, Linear, LogSoftmax, Module, ModuleList, SiLU, Sigmoid, Softmax, Tanh,
    GELU,
};
use lantern::{DType, Device, Error, Tensor};
use lantern_tests::gradcheck::{gradcheck, rand_in};

fn cpu() -> Device {
    Device::cpu()
}

fn keys(m: &dyn Module) -> Vec<String> {
    m.state_dict().into_iter().map(|(k, _)| k).collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "lengths differ: {a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "element {i}: {x} vs {y} ({a:?} vs {b:?})"
        );
    }
}

fn f64s(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape, &cpu())
}

fn i64s(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape, &cpu())
}

#[test]
fn activation_modules() {
    let x = rand_in(&[2, 3, 4], -2.0, 2.0, 1);
    let mods: Vec<(&str, Box<dyn Module>)> = vec![
        ("LeakyReLU", Box::new(LeakyReLU::new(0.2))),
        ("LeakyReLU default", Box::new(LeakyReLU::default())),
        ("GELU", Box::new(GELU::default())),
        ("GELU tanh", Box::new(GELU::new("tanh").unwrap())),
        ("SiLU", Box::new(SiLU)),
        ("Sigmoid", Box::new(Sigmoid)),
        ("Tanh", Box::new(Tanh)),
        ("Softmax", Box::new(Softmax::new(1))),
        ("LogSoftmax", Box::new(LogSoftmax::new(-1))),
    ];
    for (name, m) in &mods {
        assert!(m.parameters().is_empty());
        gradcheck(name, std::slice::from_ref(&x), |t| m.forward(&t[0]));
    }
    let y = LeakyReLU::new(0.1)
        .forward(&f64s(&[-2.0, 0.0, 3.0], &[3]))
        .unwrap();
    close(&y.to_f64_vec(), &[-0.2, 0.0, 3.0], 1e-12);
    assert_eq!(LeakyReLU::default().negative_slope, 0.01);
    let e = GELU::new("fast").expect_err("bad approximate");
    assert!(e.to_string().contains("GELU"), "{e}");
}

#[test]
fn pooling_modules() {
    let x = rand_in(&[2, 3, 6, 4], -1.0, 1.0, 2);
    let avg = AvgPool2d::new(2);
    assert_eq!(avg.forward(&x).unwrap().dims(), &[2, 3, 3, 2]);
    gradcheck("AvgPool2d", std::slice::from_ref(&x), |t| {
        avg.forward(&t[0])
    });
    let ad = AdaptiveAvgPool2d::new([3, 2]);
    let y = ad.forward(&x).unwrap();
    close(
        &y.to_f64_vec(),
        &avg.forward(&x).unwrap().to_f64_vec(),
        1e-12,
    );
    gradcheck(
        "AdaptiveAvgPool2d divisible",
        std::slice::from_ref(&x),
        |t| ad.forward(&t[0]),
    );
    // Not dividing: PyTorch's windows floor(i·n/o) .. ceil((i+1)·n/o).
    let row = f64s(&[0.0, 1.0, 2.0, 3.0, 4.0], &[1, 1, 1, 5]);
    let y = AdaptiveAvgPool2d::new([1, 3]).forward(&row).unwrap();
    close(&y.to_f64_vec(), &[0.5, 2.0, 3.5], 1e-12);
    let ad2 = AdaptiveAvgPool2d::new([4, 3]);
    assert_eq!(ad2.forward(&x).unwrap().dims(), &[2, 3, 4, 3]);
    gradcheck("AdaptiveAvgPool2d uneven", std::slice::from_ref(&x), |t| {
        ad2.forward(&t[0])
    });
    let unb = AdaptiveAvgPool2d::new([1, 1])
        .forward(&x.select(0, 0))
        .unwrap();
    assert_eq!(unb.dims(), &[3, 1, 1]);
    let e = ad
        .forward(&rand_in(&[2, 3], 0.0, 1.0, 3))
        .expect_err("rank 2");
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "AdaptiveAvgPool2d",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn module_list_names_and_train_mode() {
    let dev = cpu();
    let mut l = ModuleList::new();
    l.push(Linear::new(3, 4, true, &dev).unwrap());
    l.push(BatchNorm1d::new(4, &dev).unwrap());
    l.push(Dropout::new(0.5));
    assert_eq!(l.len(), 3);
    assert_eq!(
        keys(&l),
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked"
        ]
    );
    l.train(false);
    assert!(!l.is_training());
    assert!(!l.get(1).unwrap().is_training() && !l.get(2).unwrap().is_training());
    let x = Tensor::ones([2, 3], DType::F32, &dev);
    let mut h = x.clone();
    for m in l.iter() {
        h = m.forward(&h).unwrap();
    }
    assert_eq!(h.dims(), &[2, 4]);
    let e = l.forward(&x).expect_err("ModuleList has no forward");
    assert!(e.to_string().contains("ModuleList"), "{e}");
}

#[test]
fn embedding() {
    let dev = cpu();
    lantern::manual_seed(0);
    let emb = Embedding::new(10, 3, None, &dev).unwrap();
    assert_eq!(keys(&emb), ["weight"]);
    assert_eq!(emb.weight.dims(), &[10, 3]);
    assert!(emb.weight.requires_grad());
    // N(0, 1) init: a large table has mean ≈ 0 and std ≈ 1.
    let big = Embedding::new(1000, 20, None, &dev).unwrap();
    let m = big.weight.mean(None, false).item::<f32>();
    let s = big.weight.std(None, 1.0, false).item::<f32>();
    assert!(m.abs() < 0.05 && (s - 1.0).abs() < 0.05, "mean {m} std {s}");

    let idx = i64s(&[1, 4, 4, 0, 9, 1], &[2, 3]);
    let y = emb.forward(&idx).unwrap();
    assert_eq!(y.dims(), &[2, 3, 3]);
    let w = emb.weight.to_f64_vec();
    assert_eq!(y.to_f64_vec()[3..6], w[12..15]);

    let w0 = rand_in(&[10, 3], -1.0, 1.0, 4);
    gradcheck("Embedding", &[w0], |t| {
        let mut e = Embedding::new(10, 3, None, &cpu())?;
        e.weight = t[0].clone();
        e.forward(&idx)
    });

    // padding_idx: the row starts at zero and gets no gradient (negative counts from the end).
    let pe = Embedding::new(10, 3, Some(-8), &dev).unwrap();
    assert_eq!(pe.padding_idx, Some(2));
    assert_eq!(pe.weight.narrow(0, 2, 1).to_f64_vec(), [0.0; 3]);
    let out = pe.forward(&i64s(&[2, 3, 2], &[3])).unwrap();
    out.sum(None, false).backward();
    let g = pe.weight.grad().unwrap().to_f64_vec();
    assert_eq!(g[6..9], [0.0; 3]);
    assert_eq!(g[9..12], [1.0; 3]);

    let e = emb
        .forward(&Tensor::zeros([2], DType::F32, &dev))
        .expect_err("float indices");
    assert!(
        matches!(
            &e,
            Error::DType {
                op: "Embedding",
                ..
            }
        ),
        "{e}"
    );
    let e = emb.forward(&i64s(&[10], &[1])).expect_err("out of range");
    assert!(
        e.to_string().contains("Embedding") && e.to_string().contains("10"),
        "{e}"
    );
    assert!(Embedding::new(4, 2, Some(4), &dev).is_err());
}

#[test]
fn batch_norm_gradients() {
    let x = rand_in(&[4, 3, 2, 2], -2.0, 2.0, 5);
    let w = rand_in(&[3], 0.5, 1.5, 6);
    let b = rand_in(&[3], -0.5, 0.5, 7);
    let f64_stats = |bn: &mut BatchNorm2d| {
        bn.running_mean = Some(rand_in(&[3], -0.5, 0.5, 8));
        bn.running_var = Some(rand_in(&[3], 0.5, 2.0, 9));
    };
    gradcheck(
        "BatchNorm2d train",
        &[x.clone(), w.clone(), b.clone()],
        |t| {
            let mut bn = BatchNorm2d::new(3, &cpu())?;
            f64_stats(&mut bn);
            bn.weight = Some(t[1].clone());
            bn.bias = Some(t[2].clone());
            bn.forward(&t[0])
        },
    );
    gradcheck(
        "BatchNorm2d eval",
        &[x.clone(), w.clone(), b.clone()],
        |t| {
            let mut bn = BatchNorm2d::new(3, &cpu())?;
            f64_stats(&mut bn);
            bn.train(false);
            bn.weight = Some(t[1].clone());
            bn.bias = Some(t[2].clone());
            bn.forward(&t[0])
        },
    );
    let x1 = rand_in(&[5, 3], -2.0, 2.0, 10);
    gradcheck("BatchNorm1d [N, C]", &[x1, w.clone(), b.clone()], |t| {
        let mut bn = BatchNorm1d::new(3, &cpu())?;
        bn.weight = Some(t[1].clone());
        bn.bias = Some(t[2].clone());
        bn.forward(&t[0])
    });
    let x3 = rand_in(&[2, 3, 4], -2.0, 2.0, 11);
    gradcheck("BatchNorm1d [N, C, L] no affine", &[x3], |t| {
        BatchNorm1d::with_options(3, 1e-5, Some(0.1), false, false, &cpu())?.forward(&t[0])
    });
}

#[test]
fn batch_norm_train_vs_eval() {
    let dev = cpu();
    let mut bn = BatchNorm2d::new(2, &dev).unwrap();
    assert_eq!(
        keys(&bn),
        [
            "weight",
            "bias",
            "running_mean",
            "running_var",
            "num_batches_tracked"
        ]
    );
    assert_eq!(bn.num_batches_tracked.as_ref().unwrap().dtype(), DType::I64);
    assert_eq!(bn.named_parameters().len(), 2);
    assert_eq!((bn.eps, bn.momentum), (1e-5, Some(0.1)));
    // Channel 0 holds 1..=8, channel 1 holds 10·(1..=8).
    let v: Vec<f64> = (0..16)
        .map(|i| ((i % 4) + 1 + 4 * (i / 8)) as f64 * if (i / 4) % 2 == 0 { 1.0 } else { 10.0 })
        .collect();
    let x = f64s(&v, &[2, 2, 2, 2]).to_dtype(DType::F32);
    let per_ch =
        |c: usize| -> Vec<f64> { (0..16).filter(|i| (i / 4) % 2 == c).map(|i| v[i]).collect() };
    let stats = |c: usize| {
        let d = per_ch(c);
        let n = d.len() as f64;
        let m = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / n;
        (m, var, var * n / (n - 1.0))
    };
    let y = bn.forward(&x).unwrap();
    // Train mode: batch statistics with the biased variance.
    let yv = y.to_f64_vec();
    for i in 0..16 {
        let (m, var, _) = stats((i / 4) % 2);
        assert!(
            (yv[i] - (v[i] - m) / (var + 1e-5).sqrt()).abs() < 1e-4,
            "y[{i}]"
        );
    }
    // Running stats: momentum 0.1, unbiased variance.
    let rm = bn.running_mean.as_ref().unwrap().to_f64_vec();
    let rv = bn.running_var.as_ref().unwrap().to_f64_vec();
    for c in 0..2 {
        let (m, _, unb) = stats(c);
        assert!(
            (rm[c] - 0.1 * m).abs() < 1e-4 * (1.0 + m.abs()),
            "running_mean[{c}]"
        );
        assert!(
            (rv[c] - (0.9 + 0.1 * unb)).abs() < 1e-4 * (1.0 + unb),
            "running_var[{c}]"
        );
    }
    assert_eq!(bn.num_batches_tracked.as_ref().unwrap().item::<i64>(), 1);
    // Eval mode: running statistics, and no update.
    bn.train(false);
    assert!(!bn.is_training());
    let ye = bn.forward(&x).unwrap().to_f64_vec();
    for i in 0..16 {
        let c = (i / 4) % 2;
        assert!(
            (ye[i] - (v[i] - rm[c]) / (rv[c] + 1e-5).sqrt()).abs() < 1e-4,
            "eval y[{i}]"
        );
    }
    assert_eq!(bn.running_mean.as_ref().unwrap().to_f64_vec(), rm);
    assert_eq!(bn.num_batches_tracked.as_ref().unwrap().item::<i64>(), 1);
    // momentum = None: a cumulative average (two batches → the mean of both batch means).
    let cum = BatchNorm1d::with_options(1, 1e-5, None, true, true, &dev).unwrap();
    cum.forward(&f64s(&[1.0, 3.0], &[2, 1]).to_dtype(DType::F32))
        .unwrap();
    cum.forward(&f64s(&[5.0, 7.0], &[2, 1]).to_dtype(DType::F32))
        .unwrap();
    close(
        &cum.running_mean.as_ref().unwrap().to_f64_vec(),
        &[4.0],
        1e-6,
    );
    close(
        &cum.running_var.as_ref().unwrap().to_f64_vec(),
        &[2.0],
        1e-6,
    );
    // Bad input names the layer and both shapes.
    let e = BatchNorm2d::new(3, &dev)
        .unwrap()
        .forward(&x)
        .expect_err("channels");
    let s = e.to_string();
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "BatchNorm2d",
                ..
            }
        ) && s.contains("[N, 3, H, W]")
            && s.contains("[2, 2, 2, 2]"),
        "{s}"
    );
    let e = BatchNorm1d::new(2, &dev)
        .unwrap()
        .forward(&x)
        .expect_err("rank");
    assert!(e.to_string().contains("BatchNorm1d"), "{e}");
    let e = BatchNorm1d::new(2, &dev)
        .unwrap()
        .forward(&Tensor::ones([1, 2], DType::F32, &dev))
        .expect_err("one value");
    assert!(
        e.to_string().contains("more than 1 value per channel"),
        "{e}"
    );
    let e = BatchNorm1d::new(2, &dev)
        .unwrap()
        .forward(&Tensor::ones([3, 2], DType::I64, &dev))
        .expect_err("int input");
    assert!(
        matches!(
            &e,
            Error::DType {
                op: "BatchNorm1d",
                ..
            }
        ),
        "{e}"
    );
    // load_state_dict round trip through PyTorch's names.
    let other = BatchNorm2d::new(2, &dev).unwrap();
    other.load_state_dict(&bn.state_dict()).unwrap();
    assert_eq!(other.running_var.as_ref().unwrap().to_f64_vec(), rv);
}

#[test]
fn dropout_train_vs_eval() {
    let dev = cpu();
    lantern::manual_seed(3);
    let mut d = Dropout::new(0.5);
    let x = Tensor::ones([1000], DType::F32, &dev);
    let y = d.forward(&x).unwrap().to_f64_vec();
    assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    assert!((400..600).contains(&zeros), "{zeros} zeros");
    d.train(false);
    assert_eq!(d.forward(&x).unwrap().to_f64_vec(), vec![1.0; 1000]);
}

#[test]
fn layer_norm() {
    let dev = cpu();
    let ln = LayerNorm::new(&[3, 4], &dev).unwrap();
    assert_eq!(keys(&ln), ["weight", "bias"]);
    assert_eq!(ln.weight.as_ref().unwrap().to_f64_vec(), vec![1.0; 12]);
    let x = rand_in(&[2, 3, 4], -2.0, 2.0, 12);
    let w = rand_in(&[3, 4], 0.5, 1.5, 13);
    let b = rand_in(&[3, 4], -0.5, 0.5, 14);
    gradcheck("LayerNorm", &[x.clone(), w.clone(), b.clone()], |t| {
        let mut ln = LayerNorm::new(&[3, 4], &cpu())?;
        ln.weight = Some(t[1].clone());
        ln.bias = Some(t[2].clone());
        ln.forward(&t[0])
    });
    gradcheck("LayerNorm no affine", std::slice::from_ref(&x), |t| {
        LayerNorm::with_options(&[4], 1e-5, false, false, &cpu())?.forward(&t[0])
    });
    // Values: each row normalised with the biased variance.
    let y = LayerNorm::new(&[4], &dev)
        .unwrap()
        .forward(&f64s(&[1.0, 2.0, 3.0, 4.0], &[1, 4]))
        .unwrap();
    let s = (1.25f64 + 1e-5).sqrt();
    close(
        &y.to_f64_vec(),
        &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s],
        1e-10,
    );
    let e = ln
        .forward(&rand_in(&[2, 4, 3], 0.0, 1.0, 15))
        .expect_err("shape");
    let s = e.to_string();
    assert!(s.contains("LayerNorm") && s.contains("[2, 4, 3]"), "{s}");
}

#[test]
fn group_norm() {
    let dev = cpu();
    let gn = GroupNorm::new(2, 4, &dev).unwrap();
    assert_eq!(keys(&gn), ["weight", "bias"]);
    let x = rand_in(&[2, 4, 3], -2.0, 2.0, 16);
    let w = rand_in(&[4], 0.5, 1.5, 17);
    let b = rand_in(&[4], -0.5, 0.5, 18);
    gradcheck("GroupNorm", &[x.clone(), w, b], |t| {
        let mut gn = GroupNorm::new(2, 4, &cpu())?;
        gn.weight = Some(t[1].clone());
        gn.bias = Some(t[2].clone());
        gn.forward(&t[0])
    });
    let x4 = rand_in(&[1, 6, 2, 2], -2.0, 2.0, 19);
    gradcheck("GroupNorm 4-D no affine", &[x4], |t| {
        GroupNorm::with_options(3, 6, 1e-5, false, &cpu())?.forward(&t[0])
    });
    // num_groups = 1 over [N, C, L] is a LayerNorm over [C, L].
    let g1 = GroupNorm::new(1, 4, &dev).unwrap().forward(&x).unwrap();
    let l1 = LayerNorm::new(&[4, 3], &dev).unwrap().forward(&x).unwrap();
    close(&g1.to_f64_vec(), &l1.to_f64_vec(), 1e-10);
    assert!(GroupNorm::new(3, 4, &dev).is_err());
    let e = gn
        .forward(&rand_in(&[2, 3, 3], 0.0, 1.0, 20))
        .expect_err("channels");
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "GroupNorm",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn regression_losses() {
    let a = rand_in(&[3, 4], -2.0, 2.0, 21);
    let b = rand_in(&[3, 4], -2.0, 2.0, 22);
    for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        gradcheck("smooth_l1_loss", &[a.clone(), b.clone()], |t| {
            F::smooth_l1_loss(&t[0], &t[1], r, 1.0)
        });
        gradcheck("smooth_l1_loss beta 0.5", &[a.clone(), b.clone()], |t| {
            F::smooth_l1_loss(&t[0], &t[1], r, 0.5)
        });
        gradcheck("huber_loss", &[a.clone(), b.clone()], |t| {
            F::huber_loss(&t[0], &t[1], r, 0.7)
        });
    }
    let y = F::smooth_l1_loss(
        &f64s(&[0.0, 0.0, 0.0], &[3]),
        &f64s(&[0.5, -2.0, 0.0], &[3]),
        Reduction::None,
        1.0,
    )
    .unwrap();
    close(&y.to_f64_vec(), &[0.125, 1.5, 0.0], 1e-12);
    let y = F::smooth_l1_loss(
        &f64s(&[0.0, 0.0], &[2]),
        &f64s(&[0.5, -2.0], &[2]),
        Reduction::Sum,
        0.0,
    )
    .unwrap();
    close(&y.to_f64_vec(), &[2.5], 1e-12);
    let e = F::smooth_l1_loss(&a, &rand_in(&[4, 3], 0.0, 1.0, 1), Reduction::Mean, 1.0)
        .expect_err("shape");
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "smooth_l1_loss",
                ..
            }
        ),
        "{e}"
    );
    let l = lantern::nn::SmoothL1Loss::default();
    assert_eq!(l.beta, 1.0);
    assert!(l.forward(&a, &b).is_ok());
}

#[test]
fn binary_cross_entropy_losses() {
    let p = rand_in(&[3, 4], 0.05, 0.95, 23);
    let t = rand_in(&[3, 4], 0.0, 1.0, 24);
    let w = rand_in(&[4], 0.5, 2.0, 25);
    let x = rand_in(&[3, 4], -3.0, 3.0, 26);
    for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        gradcheck("bce", &[p.clone(), t.clone()], |a| {
            F::binary_cross_entropy(&a[0], &a[1], None, r)
        });
        gradcheck("bce weight", &[p.clone(), t.clone(), w.clone()], |a| {
            F::binary_cross_entropy(&a[0], &a[1], Some(&a[2]), r)
        });
        gradcheck("bce logits", &[x.clone(), t.clone()], |a| {
            F::binary_cross_entropy_with_logits(&a[0], &a[1], None, None, r)
        });
        gradcheck(
            "bce logits weights",
            &[x.clone(), t.clone(), w.clone(), w.clone()],
            |a| F::binary_cross_entropy_with_logits(&a[0], &a[1], Some(&a[2]), Some(&a[3]), r),
        );
    }
    // Values against the textbook formulas.
    let pv = p.to_f64_vec();
    let tv = t.to_f64_vec();
    let xv = x.to_f64_vec();
    let wv = w.to_f64_vec();
    let bce: Vec<f64> = pv
        .iter()
        .zip(&tv)
        .map(|(p, t)| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()))
        .collect();
    close(
        &F::binary_cross_entropy(&p, &t, None, Reduction::None)
            .unwrap()
            .to_f64_vec(),
        &bce,
        1e-10,
    );
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let pw: Vec<f64> = (0..12)
        .map(|i| {
            let (z, t, w) = (xv[i], tv[i], wv[i % 4]);
            -w * (w * t * sig(z).ln() + (1.0 - t) * (1.0 - sig(z)).ln())
        })
        .collect();
    close(
        &F::binary_cross_entropy_with_logits(&x, &t, Some(&w), Some(&w), Reduction::None)
            .unwrap()
            .to_f64_vec(),
        &pw,
        1e-10,
    );
    // Stable for large logits; BCE's log clamps at -100 with a finite gradient.
    let big = F::binary_cross_entropy_with_logits(
        &f64s(&[1000.0, -1000.0], &[2]),
        &f64s(&[0.0, 1.0], &[2]),
        None,
        None,
        Reduction::None,
    )
    .unwrap();
    close(&big.to_f64_vec(), &[1000.0, 1000.0], 1e-12);
    let p0 = f64s(&[0.0, 1.0], &[2]).requires_grad_(true);
    let l = F::binary_cross_entropy(&p0, &f64s(&[1.0, 0.0], &[2]), None, Reduction::Sum).unwrap();
    close(&l.to_f64_vec(), &[200.0], 1e-12);
    l.backward();
    assert!(p0
        .grad()
        .unwrap()
        .to_f64_vec()
        .iter()
        .all(|g| g.is_finite()));
    // Bad input.
    let e = F::binary_cross_entropy(&x, &t, None, Reduction::Mean).expect_err("range");
    assert!(e.to_string().contains("between 0 and 1"), "{e}");
    let e = F::binary_cross_entropy_with_logits(
        &x,
        &i64s(&[0; 12], &[3, 4]),
        None,
        None,
        Reduction::Mean,
    )
    .expect_err("dtype");
    assert!(
        matches!(
            &e,
            Error::DType {
                op: "binary_cross_entropy_with_logits",
                ..
            }
        ),
        "{e}"
    );
    let loss = lantern::nn::BCEWithLogitsLoss {
        pos_weight: Some(w.clone()),
        ..Default::default()
    };
    assert!(loss.forward(&x, &t).is_ok());
}

#[test]
fn kl_div_loss() {
    let x = rand_in(&[3, 4], -1.0, 1.0, 27).log_softmax(-1);
    let mut tv = rand_in(&[3, 4], 0.0, 1.0, 28).to_f64_vec();
    tv[5] = 0.0;
    let t = f64s(&tv, &[3, 4]);
    // t·log t is not differentiable at t = 0: check gradients where t > 0, values everywhere.
    let tpos = rand_in(&[3, 4], 0.1, 1.0, 28);
    for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        gradcheck("kl_div", &[x.clone(), tpos.clone()], |a| {
            F::kl_div(&a[0], &a[1], r, false)
        });
        gradcheck("kl_div log_target", &[x.clone(), t.clone()], |a| {
            F::kl_div(&a[0], &a[1], r, true)
        });
    }
    gradcheck("kl_div batchmean", &[x.clone(), tpos.clone()], |a| {
        F::kl_div_batchmean(&a[0], &a[1], false)
    });
    let xv = x.to_f64_vec();
    let pointwise: Vec<f64> = xv
        .iter()
        .zip(&tv)
        .map(|(x, t)| if *t > 0.0 { t * (t.ln() - x) } else { 0.0 })
        .collect();
    close(
        &F::kl_div(&x, &t, Reduction::None, false)
            .unwrap()
            .to_f64_vec(),
        &pointwise,
        1e-12,
    );
    let bm = F::kl_div_batchmean(&x, &t, false).unwrap().item::<f64>();
    assert!((bm - pointwise.iter().sum::<f64>() / 3.0).abs() < 1e-12);
    let lt = F::kl_div(&x, &tpos.log(), Reduction::None, true)
        .unwrap()
        .to_f64_vec();
    close(
        &lt,
        &F::kl_div(&x, &tpos, Reduction::None, false)
            .unwrap()
            .to_f64_vec(),
        1e-12,
    );
}

/// Reference cross entropy with class weights, ignore_index and label smoothing (PyTorch's rule).
fn ce_reference(
    logits: &[f64],
    n: usize,
    c: usize,
    target: &[i64],
    w: &[f64],
    ignore: i64,
    ls: f64,
) -> (Vec<f64>, f64) {
    let mut losses = vec![0.0; n];
    let mut denom = 0.0;
    for i in 0..n {
        if target[i] == ignore {
            continue;
        }
        let row = &logits[i * c..(i + 1) * c];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let logp: Vec<f64> = row.iter().map(|v| v - lse).collect();
        let ti = target[i] as usize;
        let nll = -w[ti] * logp[ti];
        let smooth: f64 = -(0..c).map(|k| w[k] * logp[k]).sum::<f64>();
        losses[i] = (1.0 - ls) * nll + ls / c as f64 * smooth;
        denom += w[ti];
    }
    let mean = losses.iter().sum::<f64>() / denom;
    (losses, mean)
}

#[test]
fn cross_entropy_options() {
    let logits = rand_in(&[5, 4], -2.0, 2.0, 29);
    let target = i64s(&[0, 3, 1, 3, 2], &[5]);
    let w = rand_in(&[4], 0.5, 2.0, 30);
    let lv = logits.to_f64_vec();
    let wv = w.to_f64_vec();
    // Defaults equal the existing cross_entropy.
    let d = F::cross_entropy_ext(&logits, &target, &CrossEntropyOptions::default())
        .unwrap()
        .item::<f64>();
    let old = F::cross_entropy(&logits, &target, Reduction::Mean, 0.0)
        .unwrap()
        .item::<f64>();
    assert!((d - old).abs() < 1e-12);
    for ls in [0.0, 0.2] {
        let opts = CrossEntropyOptions {
            weight: Some(w.clone()),
            ignore_index: 3,
            reduction: Reduction::Mean,
            label_smoothing: ls,
        };
        let (per, mean) = ce_reference(&lv, 5, 4, &[0, 3, 1, 3, 2], &wv, 3, ls);
        let got = F::cross_entropy_ext(&logits, &target, &opts)
            .unwrap()
            .item::<f64>();
        assert!((got - mean).abs() < 1e-10, "ls {ls}: {got} vs {mean}");
        let none = CrossEntropyOptions {
            reduction: Reduction::None,
            ..opts.clone()
        };
        close(
            &F::cross_entropy_ext(&logits, &target, &none)
                .unwrap()
                .to_f64_vec(),
            &per,
            1e-10,
        );
        for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            gradcheck(
                "cross_entropy weight/ignore/smoothing",
                &[logits.clone(), w.clone()],
                |a| {
                    let o = CrossEntropyOptions {
                        weight: Some(a[1].clone()),
                        reduction: r,
                        ..opts.clone()
                    };
                    F::cross_entropy_ext(&a[0], &target, &o)
                },
            );
        }
    }
    // Probability targets (rows summing to one), with weight and smoothing; mean over N.
    let probs = rand_in(&[5, 4], 0.0, 1.0, 31).softmax(-1);
    for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        gradcheck(
            "cross_entropy probabilities",
            &[logits.clone(), probs.clone(), w.clone()],
            |a| {
                let o = CrossEntropyOptions {
                    weight: Some(a[2].clone()),
                    reduction: r,
                    label_smoothing: 0.1,
                    ..Default::default()
                };
                F::cross_entropy_ext(&a[0], &a[1], &o)
            },
        );
    }
    // One-hot probabilities equal class indices (no weight).
    let onehot = target.one_hot(Some(4)).to_dtype(DType::F64);
    let a = F::cross_entropy_ext(&logits, &onehot, &CrossEntropyOptions::default())
        .unwrap()
        .item::<f64>();
    assert!((a - d).abs() < 1e-12);
    // K-dimensional: [N, C, L] with [N, L] targets equals the flattened form.
    let x3 = rand_in(&[2, 4, 3], -2.0, 2.0, 32);
    let t3 = i64s(&[0, 1, 2, 3, 3, 0], &[2, 3]);
    let flat = x3.permute(&[0, 2, 1]).reshape(&[6, 4]);
    let none = CrossEntropyOptions {
        reduction: Reduction::None,
        ..Default::default()
    };
    let a = F::cross_entropy_ext(&x3, &t3, &none).unwrap();
    assert_eq!(a.dims(), &[2, 3]);
    let b = F::cross_entropy_ext(&flat, &t3.reshape(&[6]), &none).unwrap();
    close(&a.to_f64_vec(), &b.to_f64_vec(), 1e-12);
    gradcheck("cross_entropy K-dim", std::slice::from_ref(&x3), |a| {
        F::cross_entropy_ext(&a[0], &t3, &CrossEntropyOptions::default())
    });
    // Bad targets: dtype, shape, range.
    let e = F::cross_entropy_ext(
        &logits,
        &Tensor::zeros([5], DType::Bool, &cpu()),
        &CrossEntropyOptions::default(),
    )
    .expect_err("bool");
    assert!(
        matches!(
            &e,
            Error::DType {
                op: "cross_entropy",
                ..
            }
        ),
        "{e}"
    );
    let e = F::cross_entropy_ext(
        &logits,
        &i64s(&[0, 1], &[2]),
        &CrossEntropyOptions::default(),
    )
    .expect_err("shape");
    assert!(
        e.to_string().contains("[2]") && e.to_string().contains("[5, 4]"),
        "{e}"
    );
    let e = F::cross_entropy_ext(
        &logits,
        &i64s(&[0, 1, 2, 3, 4], &[5]),
        &CrossEntropyOptions::default(),
    )
    .expect_err("range");
    assert!(e.to_string().contains("out of bounds"), "{e}");
    // A negative target is out of range too (the gather would wrap it), and so is an
    // ignore_index other than the one given.
    for t in [[0i64, -1, 2, 3, 1], [0, 1, -100, 2, 3]] {
        let opts = CrossEntropyOptions {
            ignore_index: -7,
            ..Default::default()
        };
        let e = F::cross_entropy_ext(&logits, &i64s(&t, &[5]), &opts).expect_err("negative");
        assert!(
            e.to_string().contains("out of bounds") && e.to_string().contains("cross_entropy"),
            "{e}"
        );
    }
    let e = F::cross_entropy_ext(
        &logits,
        &probs.reshape(&[4, 5]),
        &CrossEntropyOptions::default(),
    )
    .expect_err("prob shape");
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "cross_entropy",
                ..
            }
        ),
        "{e}"
    );
    let loss = lantern::nn::CrossEntropyLoss::default();
    assert!((loss.forward(&logits, &target).unwrap().item::<f64>() - d).abs() < 1e-12);
}

#[test]
fn nll_loss_with_weights() {
    let logits = rand_in(&[5, 4], -2.0, 2.0, 80);
    let target = i64s(&[0, 3, 1, 3, 2], &[5]);
    let w = rand_in(&[4], 0.5, 2.0, 81);
    for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        let opts = CrossEntropyOptions {
            weight: Some(w.clone()),
            ignore_index: 1,
            reduction: r,
            ..Default::default()
        };
        let ce = F::cross_entropy_ext(&logits, &target, &opts).unwrap();
        let nll = F::nll_loss_ext(&logits.log_softmax(-1), &target, &opts).unwrap();
        close(&nll.to_f64_vec(), &ce.to_f64_vec(), 1e-12);
        gradcheck("nll_loss_ext", &[logits.clone(), w.clone()], |t| {
            let o = CrossEntropyOptions {
                weight: Some(t[1].clone()),
                ..opts.clone()
            };
            F::nll_loss_ext(&t[0], &target, &o)
        });
    }
    let plain = F::nll_loss(&logits, &target, Reduction::Mean, None)
        .unwrap()
        .item::<f64>();
    let ext = lantern::nn::NLLLoss::default()
        .forward(&logits, &target)
        .unwrap()
        .item::<f64>();
    assert!((plain - ext).abs() < 1e-12);
    let e = F::nll_loss_ext(&logits, &logits, &CrossEntropyOptions::default())
        .expect_err("float target");
    assert!(matches!(&e, Error::DType { op: "nll_loss", .. }), "{e}");
}

#[test]
fn linear_wrong_width_names_layer() {
    let l = Linear::new(3, 2, true, &cpu()).unwrap();
    let e = l
        .forward(&Tensor::ones([4, 5], DType::F32, &cpu()))
        .expect_err("width");
    let s = e.to_string();
    assert!(s.contains("Linear") && s.contains("[4, 5]"), "{s}");
}

fn sigm(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `W·v + b` for a row-major `[rows, v.len()]` matrix.
fn affine_ref(w: &[f64], b: &[f64], v: &[f64]) -> Vec<f64> {
    (0..b.len())
        .map(|r| b[r] + (0..v.len()).map(|k| w[r * v.len() + k] * v[k]).sum::<f64>())
        .collect()
}

/// Plain-loop reference of one LSTM or GRU layer over `x [L, I]` (one batch element).
fn rnn_ref(lstm: bool, x: &[f64], steps: usize, p: &[Vec<f64>], hsz: usize) -> Vec<f64> {
    let isz = x.len() / steps;
    let (mut h, mut c) = (vec![0.0; hsz], vec![0.0; hsz]);
    let mut out = Vec::new();
    for t in 0..steps {
        let gi = affine_ref(&p[0], &p[2], &x[t * isz..(t + 1) * isz]);
        let gh = affine_ref(&p[1], &p[3], &h);
        for j in 0..hsz {
            if lstm {
                let g = |k: usize| gi[k * hsz + j] + gh[k * hsz + j];
                let (i, f, gg, o) = (sigm(g(0)), sigm(g(1)), g(2).tanh(), sigm(g(3)));
                c[j] = f * c[j] + i * gg;
                h[j] = o * c[j].tanh();
            } else {
                let r = sigm(gi[j] + gh[j]);
                let z = sigm(gi[hsz + j] + gh[hsz + j]);
                let n = (gi[2 * hsz + j] + r * gh[2 * hsz + j]).tanh();
                h[j] = (1.0 - z) * n + z * h[j];
            }
        }
        out.extend_from_slice(&h);
    }
    out
}

#[test]
fn lstm_and_gru() {
    use lantern::nn::{RnnOptions, GRU, LSTM};
    let dev = cpu();
    let lstm = LSTM::new(3, 2, &dev).unwrap();
    assert_eq!(
        keys(&lstm),
        ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    );
    assert_eq!(lstm.layers()[0].weight_ih.dims(), &[8, 3]);
    let bound = 1.0 / 2f64.sqrt();
    assert!(lstm
        .parameters()
        .iter()
        .all(|p| p.to_f64_vec().iter().all(|v| v.abs() <= bound)));
    let gru2 = GRU::with_options(
        3,
        2,
        RnnOptions {
            num_layers: 2,
            batch_first: true,
            ..Default::default()
        },
        &dev,
    )
    .unwrap();
    assert_eq!(
        keys(&gru2),
        [
            "weight_ih_l0",
            "weight_hh_l0",
            "bias_ih_l0",
            "bias_hh_l0",
            "weight_ih_l1",
            "weight_hh_l1",
            "bias_ih_l1",
            "bias_hh_l1"
        ]
    );
    assert_eq!(gru2.layers()[1].weight_ih.dims(), &[6, 2]);
    let bi = LSTM::with_options(
        3,
        2,
        RnnOptions {
            bidirectional: true,
            num_layers: 2,
            bias: false,
            ..Default::default()
        },
        &dev,
    )
    .unwrap();
    assert_eq!(
        keys(&bi),
        [
            "weight_ih_l0",
            "weight_hh_l0",
            "weight_ih_l0_reverse",
            "weight_hh_l0_reverse",
            "weight_ih_l1",
            "weight_hh_l1",
            "weight_ih_l1_reverse",
            "weight_hh_l1_reverse"
        ]
    );
    assert_eq!(bi.layers()[2].weight_ih.dims(), &[8, 4]);

    let x = rand_in(&[3, 2, 3], -1.0, 1.0, 40); // [L, N, I]
    for (lstm_kind, gates) in [(true, 4usize), (false, 3)] {
        let ps: Vec<Tensor> = [(gates * 2, 3), (gates * 2, 2)]
            .iter()
            .enumerate()
            .map(|(i, &(r, c))| rand_in(&[r, c], -0.8, 0.8, 41 + i as u64))
            .chain((0..2).map(|i| rand_in(&[gates * 2], -0.5, 0.5, 45 + i)))
            .collect();
        let run = |t: &[Tensor], batch_first: bool| -> lantern::Result<Tensor> {
            let x = if batch_first {
                t[0].transpose(0, 1)
            } else {
                t[0].clone()
            };
            let set = |l: &mut lantern::nn::RnnLayer| {
                l.weight_ih = t[1].clone();
                l.weight_hh = t[2].clone();
                l.bias_ih = Some(t[3].clone());
                l.bias_hh = Some(t[4].clone());
            };
            if lstm_kind {
                let mut m = LSTM::with_options(
                    3,
                    2,
                    RnnOptions {
                        batch_first,
                        ..Default::default()
                    },
                    &cpu(),
                )?;
                set(&mut m.layers_mut()[0]);
                let (y, (h, c)) = m.forward_with(&x, None)?;
                let y = if batch_first {
                    y.try_transpose(0, 1)?
                } else {
                    y
                };
                Tensor::try_cat(
                    &[
                        y.try_reshape(&[-1])?,
                        h.try_reshape(&[-1])?,
                        c.try_reshape(&[-1])?,
                    ],
                    0,
                )
            } else {
                let mut m = GRU::with_options(
                    3,
                    2,
                    RnnOptions {
                        batch_first,
                        ..Default::default()
                    },
                    &cpu(),
                )?;
                set(&mut m.layers_mut()[0]);
                let (y, h) = m.forward_with(&x, None)?;
                let y = if batch_first {
                    y.try_transpose(0, 1)?
                } else {
                    y
                };
                Tensor::try_cat(&[y.try_reshape(&[-1])?, h.try_reshape(&[-1])?], 0)
            }
        };
        let mut inputs = vec![x.clone()];
        inputs.extend(ps.iter().cloned());
        let name = if lstm_kind { "LSTM" } else { "GRU" };
        gradcheck(name, &inputs, |t| run(t, false));
        // batch_first only changes the layout.
        let a = run(&inputs, false).unwrap().to_f64_vec();
        close(&run(&inputs, true).unwrap().to_f64_vec(), &a, 1e-12);
        // Values against a plain-loop reference (batch element 1).
        let xv = x.to_f64_vec();
        let x1: Vec<f64> = (0..3)
            .flat_map(|t| xv[(t * 2 + 1) * 3..(t * 2 + 2) * 3].to_vec())
            .collect();
        let pv: Vec<Vec<f64>> = ps.iter().map(|p| p.to_f64_vec()).collect();
        let want = rnn_ref(lstm_kind, &x1, 3, &pv, 2);
        let got: Vec<f64> = (0..3)
            .flat_map(|t| a[(t * 2 + 1) * 2..(t * 2 + 2) * 2].to_vec())
            .collect();
        close(&got, &want, 1e-12);
    }
    // Two stacked layers, batch_first, with an initial state and an unbatched input.
    let h0 = Tensor::zeros([2, 4, 2], DType::F32, &dev);
    let (y, h) = gru2
        .forward_with(&Tensor::ones([4, 5, 3], DType::F32, &dev), Some(&h0))
        .unwrap();
    assert_eq!(
        (y.dims(), h.dims()),
        (&[4usize, 5, 2][..], &[2usize, 4, 2][..])
    );
    let (y, (h, c)) = lstm
        .forward_with(&Tensor::ones([5, 3], DType::F32, &dev), None)
        .unwrap();
    assert_eq!(
        (y.dims(), h.dims(), c.dims()),
        (&[5usize, 2][..], &[1usize, 2][..], &[1usize, 2][..])
    );
    assert_eq!(
        lstm.forward(&Tensor::ones([5, 4, 3], DType::F32, &dev))
            .unwrap()
            .dims(),
        &[5, 4, 2]
    );
    // Bad input names the layer and the shapes.
    let e = lstm
        .forward(&Tensor::ones([5, 4, 7], DType::F32, &dev))
        .expect_err("width");
    let s = e.to_string();
    assert!(
        s.contains("LSTM") && s.contains("[5, 4, 7]") && s.contains("3]"),
        "{s}"
    );
    let e = gru2
        .forward_with(
            &Tensor::ones([4, 5, 3], DType::F32, &dev),
            Some(&Tensor::zeros([1, 4, 2], DType::F32, &dev)),
        )
        .expect_err("h0");
    assert!(
        e.to_string().contains("GRU") && e.to_string().contains("h0"),
        "{e}"
    );
}

/// Attention with identity projections, per batch element and head, by plain loops:
/// `softmax(q kᵀ / √d + mask) v` over each head's slice of the features.
fn attention_ref(
    x: &[f64],
    l: usize,
    e: usize,
    heads: usize,
    hide: impl Fn(usize, usize) -> bool,
) -> Vec<f64> {
    let d = e / heads;
    let mut out = vec![0.0; l * e];
    for h in 0..heads {
        for i in 0..l {
            let s: Vec<f64> = (0..l)
                .map(|j| {
                    if hide(i, j) {
                        f64::NEG_INFINITY
                    } else {
                        (0..d)
                            .map(|c| x[i * e + h * d + c] * x[j * e + h * d + c])
                            .sum::<f64>()
                            / (d as f64).sqrt()
                    }
                })
                .collect();
            let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = s.iter().map(|v| (v - m).exp()).sum();
            for j in 0..l {
                let p = (s[j] - m).exp() / z;
                for c in 0..d {
                    out[i * e + h * d + c] += p * x[j * e + h * d + c];
                }
            }
        }
    }
    out
}

#[test]
fn multihead_attention() {
    use lantern::nn::{AttentionMasks, MultiheadAttention};
    let dev = cpu();
    let mha = MultiheadAttention::new(4, 2, &dev).unwrap();
    assert_eq!(
        keys(&mha),
        [
            "in_proj_weight",
            "in_proj_bias",
            "out_proj.weight",
            "out_proj.bias"
        ]
    );
    assert_eq!(mha.in_proj_weight.dims(), &[12, 4]);
    assert!(mha
        .in_proj_bias
        .as_ref()
        .unwrap()
        .to_f64_vec()
        .iter()
        .all(|&v| v == 0.0));
    assert!(mha
        .out_proj
        .bias
        .as_ref()
        .unwrap()
        .to_f64_vec()
        .iter()
        .all(|&v| v == 0.0));
    let bound = (6.0f64 / 16.0).sqrt(); // xavier: fan_in 4, fan_out 12
    assert!(mha
        .in_proj_weight
        .to_f64_vec()
        .iter()
        .all(|v| v.abs() <= bound));

    // Values: identity projections reduce to per-head softmax(q kᵀ/√d) v.
    let x = rand_in(&[3, 2, 4], -1.0, 1.0, 50); // [L, N, E]
    let eye3 = Tensor::cat(
        &[
            Tensor::eye(4, 4, DType::F64, &dev),
            Tensor::eye(4, 4, DType::F64, &dev),
            Tensor::eye(4, 4, DType::F64, &dev),
        ],
        0,
    );
    let ident = |heads: usize| {
        let mut m = MultiheadAttention::new(4, heads, &cpu()).unwrap();
        m.in_proj_weight = eye3.clone();
        m.in_proj_bias = Some(Tensor::zeros([12], DType::F64, &cpu()));
        m.out_proj.weight = Tensor::eye(4, 4, DType::F64, &cpu());
        m.out_proj.bias = Some(Tensor::zeros([4], DType::F64, &cpu()));
        m
    };
    let xv = x.to_f64_vec();
    let x1: Vec<f64> = (0..3)
        .flat_map(|t| xv[(t * 2 + 1) * 4..(t * 2 + 2) * 4].to_vec())
        .collect();
    for heads in [1, 2] {
        let (y, w) = ident(heads)
            .forward_qkv(&x, &x, &x, AttentionMasks::default(), true, true)
            .unwrap();
        assert_eq!(
            (y.dims(), w.as_ref().unwrap().dims()),
            (&[3usize, 2, 4][..], &[2usize, 3, 3][..])
        );
        let yv = y.to_f64_vec();
        let got: Vec<f64> = (0..3)
            .flat_map(|t| yv[(t * 2 + 1) * 4..(t * 2 + 2) * 4].to_vec())
            .collect();
        close(&got, &attention_ref(&x1, 3, 4, heads, |_, _| false), 1e-12);
        // Causal and key-padding masks.
        let causal = AttentionMasks {
            is_causal: true,
            ..Default::default()
        };
        let yv = ident(heads)
            .forward_qkv(&x, &x, &x, causal, false, true)
            .unwrap()
            .0
            .to_f64_vec();
        let got: Vec<f64> = (0..3)
            .flat_map(|t| yv[(t * 2 + 1) * 4..(t * 2 + 2) * 4].to_vec())
            .collect();
        close(&got, &attention_ref(&x1, 3, 4, heads, |i, j| j > i), 1e-12);
        let bool_mask = Tensor::from_slice(
            &[false, true, true, false, false, true, false, false, false],
            [3, 3],
            &dev,
        );
        let m = AttentionMasks {
            attn_mask: Some(&bool_mask),
            ..Default::default()
        };
        let yb = ident(heads)
            .forward_qkv(&x, &x, &x, m, false, true)
            .unwrap()
            .0
            .to_f64_vec();
        close(&yb, &yv, 1e-12);
        let kpm = Tensor::from_slice(&[false, false, false, false, false, true], [2, 3], &dev);
        let m = AttentionMasks {
            key_padding_mask: Some(&kpm),
            ..Default::default()
        };
        let (yk, wk) = ident(heads)
            .forward_qkv(&x, &x, &x, m, true, false)
            .unwrap();
        assert_eq!(wk.as_ref().unwrap().dims(), &[2, heads, 3, 3]);
        let yv = yk.to_f64_vec();
        let got: Vec<f64> = (0..3)
            .flat_map(|t| yv[(t * 2 + 1) * 4..(t * 2 + 2) * 4].to_vec())
            .collect();
        close(&got, &attention_ref(&x1, 3, 4, heads, |_, j| j == 2), 1e-12);
    }

    // Gradients through every input and parameter, weights included.
    let q = rand_in(&[3, 2, 4], -1.0, 1.0, 51);
    let kv = rand_in(&[5, 2, 4], -1.0, 1.0, 52);
    let params = [
        rand_in(&[12, 4], -0.7, 0.7, 53),
        rand_in(&[12], -0.3, 0.3, 54),
        rand_in(&[4, 4], -0.7, 0.7, 55),
        rand_in(&[4], -0.3, 0.3, 56),
    ];
    let mut inputs = vec![q.clone(), kv.clone(), kv.clone()];
    inputs.extend(params.iter().cloned());
    let fmask = rand_in(&[3, 5], -1.0, 0.0, 57);
    for batch_first in [false, true] {
        gradcheck("MultiheadAttention", &inputs, |t| {
            let mut m = MultiheadAttention::with_options(4, 2, 0.0, true, batch_first, &cpu())?;
            m.in_proj_weight = t[3].clone();
            m.in_proj_bias = Some(t[4].clone());
            m.out_proj.weight = t[5].clone();
            m.out_proj.bias = Some(t[6].clone());
            let tr = |x: &Tensor| {
                if batch_first {
                    x.try_transpose(0, 1)
                } else {
                    Ok(x.clone())
                }
            };
            let masks = AttentionMasks {
                attn_mask: Some(&fmask),
                ..Default::default()
            };
            let (y, w) = m.forward_qkv(&tr(&t[0])?, &tr(&t[1])?, &tr(&t[2])?, masks, true, true)?;
            Tensor::try_cat(
                &[tr(&y)?.try_reshape(&[-1])?, w.unwrap().try_reshape(&[-1])?],
                0,
            )
        });
    }
    // Unbatched input.
    assert_eq!(
        mha.forward(&Tensor::ones([3, 4], DType::F32, &dev))
            .unwrap()
            .dims(),
        &[3, 4]
    );
    // Bad input.
    let e = mha
        .forward(&Tensor::ones([3, 2, 5], DType::F32, &dev))
        .expect_err("width");
    let s = e.to_string();
    assert!(
        s.contains("MultiheadAttention") && s.contains("[3, 2, 5]"),
        "{s}"
    );
    assert!(MultiheadAttention::new(6, 4, &dev).is_err());
    let bad = Tensor::ones([3, 3], DType::F32, &dev);
    let m = AttentionMasks {
        key_padding_mask: Some(&bad),
        ..Default::default()
    };
    let x32 = Tensor::ones([3, 2, 4], DType::F32, &dev);
    assert!(mha
        .forward_qkv(&x32, &x32, &x32, m, false, true)
        .expect_err("kpm")
        .to_string()
        .contains("key_padding_mask"));
}

#[test]
fn transformer_encoder_layer() {
    use lantern::nn::{Activation, TransformerEncoderLayer, TransformerEncoderLayerOptions};
    let dev = cpu();
    let layer = TransformerEncoderLayer::new(8, 2, &dev).unwrap();
    assert_eq!(
        keys(&layer),
        [
            "self_attn.in_proj_weight",
            "self_attn.in_proj_bias",
            "self_attn.out_proj.weight",
            "self_attn.out_proj.bias",
            "linear1.weight",
            "linear1.bias",
            "linear2.weight",
            "linear2.bias",
            "norm1.weight",
            "norm1.bias",
            "norm2.weight",
            "norm2.bias"
        ]
    );
    assert_eq!(layer.linear1.weight.dims(), &[2048, 8]);
    assert_eq!(layer.opts.dropout, 0.1);

    let x = rand_in(&[3, 2, 4], -1.0, 1.0, 60);
    let shapes: [&[usize]; 12] = [
        &[12, 4],
        &[12],
        &[4, 4],
        &[4],
        &[6, 4],
        &[6],
        &[4, 6],
        &[4],
        &[4],
        &[4],
        &[4],
        &[4],
    ];
    let params: Vec<Tensor> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| rand_in(s, -0.6, 0.6, 61 + i as u64))
        .collect();
    let mut inputs = vec![x.clone()];
    inputs.extend(params.iter().cloned());
    for (norm_first, activation) in [(false, Activation::Relu), (true, Activation::Gelu)] {
        let opts = TransformerEncoderLayerOptions {
            dim_feedforward: 6,
            norm_first,
            activation,
            ..Default::default()
        };
        gradcheck("TransformerEncoderLayer", &inputs, |t| {
            let mut m = TransformerEncoderLayer::with_options(4, 2, opts, &cpu())?;
            m.train(false);
            m.self_attn.in_proj_weight = t[1].clone();
            m.self_attn.in_proj_bias = Some(t[2].clone());
            m.self_attn.out_proj.weight = t[3].clone();
            m.self_attn.out_proj.bias = Some(t[4].clone());
            m.linear1.weight = t[5].clone();
            m.linear1.bias = Some(t[6].clone());
            m.linear2.weight = t[7].clone();
            m.linear2.bias = Some(t[8].clone());
            m.norm1.weight = Some(t[9].clone());
            m.norm1.bias = Some(t[10].clone());
            m.norm2.weight = Some(t[11].clone());
            m.norm2.bias = Some(t[12].clone());
            m.forward(&t[0])
        });
    }
    // Dropout: eval is deterministic, train is not.
    let mut l = TransformerEncoderLayer::with_options(
        4,
        2,
        TransformerEncoderLayerOptions {
            dim_feedforward: 6,
            dropout: 0.5,
            ..Default::default()
        },
        &dev,
    )
    .unwrap();
    let x32 = x.to_dtype(DType::F32);
    lantern::manual_seed(1);
    let t1 = l.forward(&x32).unwrap().to_f64_vec();
    let t2 = l.forward(&x32).unwrap().to_f64_vec();
    assert_ne!(t1, t2);
    l.train(false);
    assert!(!l.self_attn.is_training());
    assert_eq!(
        l.forward(&x32).unwrap().to_f64_vec(),
        l.forward(&x32).unwrap().to_f64_vec()
    );
    let e = l
        .forward(&Tensor::ones([3, 2, 5], DType::F32, &dev))
        .expect_err("width");
    assert!(e.to_string().contains("[3, 2, 5]"), "{e}");
}

// ---------------------------------------------------------------------------------------
// PyTorch parity. Inputs and parameters are deterministic (`det`), the same formula on both
// sides; parameters are loaded by their state-dict names (so the names and their order are
// checked too). Each case compares every output, then the gradients of
// `Σᵢ sum(outᵢ · det(outᵢ.shape, 50 + i))` with respect to the input and every parameter.
// The `static` references below were computed in float32 by torch with the generator at
// the end of this file.

struct Ref {
    outs: &'static [&'static [f64]],
    x_grad: &'static [f64],
    p_grads: &'static [&'static [f64]],
}

fn det(shape: &[usize], seed: u64, scale: f64, offset: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| offset + scale * (seed as f64 * 1.3 + i as f64 * 0.7).sin())
        .collect();
    Tensor::from_slice(&v, shape, &cpu()).to_dtype(DType::F32)
}

fn det_leaf(shape: &[usize], scale: f64, offset: f64) -> Tensor {
    det(shape, 1, scale, offset).requires_grad_(true)
}

/// Loads `det(shape, 100 + k, 0.5)` into the k-th parameter through `load_state_dict`.
fn load_det(m: &dyn Module) {
    let params: Vec<String> = m.named_parameters().into_iter().map(|(k, _)| k).collect();
    let state: Vec<(String, Tensor)> = m
        .state_dict()
        .into_iter()
        .map(|(k, t)| match params.iter().position(|p| *p == k) {
            Some(i) => (k, det(t.dims(), 100 + i as u64, 0.5, 0.0)),
            None => (k, t),
        })
        .collect();
    m.load_state_dict(&state).unwrap();
}

fn assert_ref(name: &str, what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: {what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 2e-5 + 1e-4 * w.abs(),
            "{name}: {what}[{i}]: got {g}, torch {w}"
        );
    }
}

fn check_ref(name: &str, outs: &[Tensor], x: Option<&Tensor>, params: &[Tensor], r: &Ref) {
    assert_eq!(outs.len(), r.outs.len(), "{name}: number of outputs");
    let mut loss = Tensor::zeros([], DType::F32, &cpu());
    for (i, (o, want)) in outs.iter().zip(r.outs).enumerate() {
        assert_ref(name, &format!("output {i}"), &o.to_f64_vec(), want);
        loss = loss.add(
            &o.mul(&det(o.dims(), 50 + i as u64, 1.0, 0.0))
                .sum(None, false),
        );
    }
    loss.backward();
    if let Some(x) = x {
        assert_ref(
            name,
            "input grad",
            &x.grad().unwrap().to_f64_vec(),
            r.x_grad,
        );
    }
    assert_eq!(
        params.len(),
        r.p_grads.len(),
        "{name}: number of parameters"
    );
    for (i, (p, want)) in params.iter().zip(r.p_grads).enumerate() {
        let g = p
            .grad()
            .map(|g| g.to_f64_vec())
            .unwrap_or_else(|| vec![0.0; p.numel()]);
        assert_ref(name, &format!("grad of parameter {i}"), &g, want);
    }
}

#[test]
fn torch_parity_modules() {
    use lantern::nn::{
        Activation, AttentionMasks, MultiheadAttention, RnnOptions, TransformerEncoder,
        TransformerEncoderLayer, TransformerEncoderLayerOptions, GRU, LSTM,
    };
    let dev = cpu();
    fn bn_case(m: &mut dyn Module, shape: &[usize], name: &str, r: &Ref) {
        load_det(m);
        let x = det_leaf(shape, 1.0, 0.0);
        let y = m.forward(&x).unwrap();
        let bufs: Vec<Tensor> = m
            .named_buffers()
            .into_iter()
            .take(2)
            .map(|(_, t)| t.mul_scalar(1.0))
            .collect();
        m.train(false);
        let y2 = m.forward(&x).unwrap();
        check_ref(
            name,
            &[y, bufs[0].clone(), bufs[1].clone(), y2],
            Some(&x),
            &m.parameters(),
            r,
        );
    }
    bn_case(
        &mut BatchNorm2d::new(3, &dev).unwrap(),
        &[4, 3, 2, 2],
        "BatchNorm2d",
        &BN2D,
    );
    bn_case(
        &mut BatchNorm1d::new(3, &dev).unwrap(),
        &[4, 3, 2],
        "BatchNorm1d",
        &BN1D,
    );

    let simple = |m: &dyn Module, shape: &[usize], name: &str, r: &Ref| {
        load_det(m);
        let x = det_leaf(shape, 1.0, 0.0);
        check_ref(
            name,
            &[m.forward(&x).unwrap()],
            Some(&x),
            &m.parameters(),
            r,
        );
    };
    simple(
        &LayerNorm::new(&[3, 4], &dev).unwrap(),
        &[2, 3, 4],
        "LayerNorm",
        &LN,
    );
    simple(
        &GroupNorm::new(2, 4, &dev).unwrap(),
        &[2, 4, 3],
        "GroupNorm",
        &GN,
    );
    simple(
        &AdaptiveAvgPool2d::new([3, 4]),
        &[1, 2, 5, 7],
        "AdaptiveAvgPool2d",
        &ADAPTIVE,
    );
    let avg = AvgPool2d {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
        count_include_pad: false,
    };
    simple(&avg, &[1, 2, 5, 6], "AvgPool2d", &AVGPOOL);

    let lstm = LSTM::with_options(
        3,
        4,
        RnnOptions {
            num_layers: 2,
            ..Default::default()
        },
        &dev,
    )
    .unwrap();
    load_det(&lstm);
    let x = det_leaf(&[5, 2, 3], 1.0, 0.0);
    let (y, (h, c)) = lstm.forward_with(&x, None).unwrap();
    check_ref("LSTM", &[y, h, c], Some(&x), &lstm.parameters(), &LSTM2);

    let gru = GRU::with_options(
        3,
        4,
        RnnOptions {
            batch_first: true,
            ..Default::default()
        },
        &dev,
    )
    .unwrap();
    load_det(&gru);
    let x = det_leaf(&[2, 5, 3], 1.0, 0.0);
    let (y, h) = gru.forward_with(&x, None).unwrap();
    check_ref("GRU", &[y, h], Some(&x), &gru.parameters(), &GRU_BF);

    let bi = RnnOptions {
        num_layers: 2,
        bidirectional: true,
        ..Default::default()
    };
    let lstm = LSTM::with_options(3, 4, bi, &dev).unwrap();
    load_det(&lstm);
    let x = det_leaf(&[5, 2, 3], 1.0, 0.0);
    let (y, (h, c)) = lstm.forward_with(&x, None).unwrap();
    assert_eq!(
        (y.dims(), h.dims()),
        (&[5usize, 2, 8][..], &[4usize, 2, 4][..])
    );
    check_ref(
        "LSTM bidirectional",
        &[y, h, c],
        Some(&x),
        &lstm.parameters(),
        &LSTM_BI,
    );

    let bi = RnnOptions {
        batch_first: true,
        bidirectional: true,
        ..Default::default()
    };
    let gru = GRU::with_options(3, 4, bi, &dev).unwrap();
    load_det(&gru);
    let x = det_leaf(&[2, 5, 3], 1.0, 0.0);
    let (y, h) = gru
        .forward_with(&x, Some(&det(&[2, 2, 4], 11, 1.0, 0.0)))
        .unwrap();
    check_ref(
        "GRU bidirectional",
        &[y, h],
        Some(&x),
        &gru.parameters(),
        &GRU_BI,
    );

    let mha = MultiheadAttention::new(4, 2, &dev).unwrap();
    load_det(&mha);
    let x = det_leaf(&[3, 2, 4], 1.0, 0.0);
    let kpm = Tensor::from_slice(&[false, false, false, false, false, true], [2, 3], &dev);
    let masks = AttentionMasks {
        key_padding_mask: Some(&kpm),
        ..Default::default()
    };
    let (y, w) = mha.forward_qkv(&x, &x, &x, masks, true, true).unwrap();
    check_ref(
        "MultiheadAttention",
        &[y, w.unwrap()],
        Some(&x),
        &mha.parameters(),
        &MHA,
    );

    let post = TransformerEncoderLayerOptions {
        dim_feedforward: 6,
        dropout: 0.0,
        ..Default::default()
    };
    let pre = TransformerEncoderLayerOptions {
        activation: Activation::Gelu,
        batch_first: true,
        norm_first: true,
        ..post
    };
    for (opts, shape, name, r) in [
        (post, [3, 2, 4], "TransformerEncoderLayer", &TEL_POST),
        (
            pre,
            [2, 3, 4],
            "TransformerEncoderLayer norm_first",
            &TEL_PRE,
        ),
    ] {
        let mut m = TransformerEncoderLayer::with_options(4, 2, opts, &dev).unwrap();
        m.train(false);
        simple(&m, &shape, name, r);
    }

    let mut enc = TransformerEncoder::new(4, 2, post, 2, true, &dev).unwrap();
    enc.train(false);
    assert!(!enc.layers[1].self_attn.is_training());
    simple(&enc, &[3, 2, 4], "TransformerEncoder", &TENC);
    // Fresh layers start from the same weights (PyTorch deep-copies one layer).
    let fresh = TransformerEncoder::new(4, 2, post, 3, false, &dev).unwrap();
    let sd = fresh.state_dict();
    assert_eq!(sd.len(), 36);
    assert_eq!(sd[0].0, "layers.0.self_attn.in_proj_weight");
    assert_eq!(sd[24].0, "layers.2.self_attn.in_proj_weight");
    assert_eq!(sd[0].1.to_f64_vec(), sd[24].1.to_f64_vec());
    assert!(!sd[0].1.shares_storage(&sd[24].1));

    let emb = Embedding::new(6, 3, Some(1), &dev).unwrap();
    load_det(&emb);
    let y = emb.forward(&i64s(&[1, 4, 1, 0, 5, 2], &[2, 3])).unwrap();
    check_ref("Embedding", &[y], None, &emb.parameters(), &EMB);

    let x = det_leaf(&[2, 5], 2.0, 0.0);
    let acts = [
        F::leaky_relu(&x, 0.2).unwrap(),
        x.gelu(true),
        x.silu(),
        x.log_softmax(0),
        GELU::default().forward(&x).unwrap(),
        Sigmoid.forward(&x).unwrap(),
        Tanh.forward(&x).unwrap(),
        Softmax::new(1).forward(&x).unwrap(),
    ];
    check_ref("activations", &acts, Some(&x), &[], &ACTS);
}

#[test]
fn torch_parity_losses() {
    let t34 = det(&[3, 4], 2, 1.0, 0.0);
    let x = det_leaf(&[3, 4], 1.0, 0.0);
    let outs = [
        F::smooth_l1_loss(&x, &t34, Reduction::Mean, 0.5).unwrap(),
        F::huber_loss(&x, &t34, Reduction::Sum, 0.7).unwrap(),
    ];
    check_ref("smooth_l1/huber", &outs, Some(&x), &[], &SMOOTH_L1);

    let tp = det(&[3, 4], 4, 0.5, 0.5);
    let w4 = det(&[4], 3, 0.5, 1.0);
    let p = det_leaf(&[3, 4], 0.4, 0.5);
    let outs = [
        F::binary_cross_entropy(&p, &tp, Some(&w4), Reduction::Mean).unwrap(),
        F::binary_cross_entropy(&p, &tp, None, Reduction::None).unwrap(),
    ];
    check_ref("binary_cross_entropy", &outs, Some(&p), &[], &BCE);

    let x = det_leaf(&[3, 4], 3.0, 0.0);
    let outs = [
        F::binary_cross_entropy_with_logits(&x, &tp, Some(&w4), Some(&w4), Reduction::Mean)
            .unwrap(),
        F::binary_cross_entropy_with_logits(&x, &tp, None, None, Reduction::Sum).unwrap(),
    ];
    check_ref(
        "binary_cross_entropy_with_logits",
        &outs,
        Some(&x),
        &[],
        &BCE_LOGITS,
    );

    let kt = det(&[3, 4], 5, 1.0, 0.0).softmax(-1);
    let x = det_leaf(&[3, 4], 1.0, 0.0);
    let outs = [
        F::kl_div_batchmean(&x, &kt, false).unwrap(),
        F::kl_div(&x, &kt.log(), Reduction::Sum, true).unwrap(),
        F::kl_div(&x, &kt, Reduction::Mean, false).unwrap(),
    ];
    check_ref("kl_div", &outs, Some(&x), &[], &KL);

    let x = det_leaf(&[5, 4], 2.0, 0.0);
    let tgt = i64s(&[0, 2, 1, 3, 2], &[5]);
    let w = det(&[4], 6, 0.5, 1.0);
    let o1 = CrossEntropyOptions {
        weight: Some(w.clone()),
        ignore_index: 2,
        label_smoothing: 0.1,
        ..Default::default()
    };
    let o2 = CrossEntropyOptions {
        weight: Some(w.clone()),
        reduction: Reduction::None,
        label_smoothing: 0.2,
        ..Default::default()
    };
    let o3 = CrossEntropyOptions {
        weight: Some(w.clone()),
        label_smoothing: 0.1,
        ..Default::default()
    };
    let probs = det(&[5, 4], 7, 1.0, 0.0).softmax(-1);
    let kdim = x.reshape(&[5, 2, 2]).transpose(1, 2);
    let outs = [
        F::cross_entropy_ext(&x, &tgt, &o1).unwrap(),
        F::cross_entropy_ext(&x, &tgt, &o2).unwrap(),
        F::cross_entropy_ext(&x, &probs, &o3).unwrap(),
        F::cross_entropy_ext(
            &kdim,
            &i64s(&[0, 1, 1, 0, 0, 0, 1, 1, 1, 0], &[5, 2]),
            &CrossEntropyOptions::default(),
        )
        .unwrap(),
        F::nll_loss_ext(
            &x.log_softmax(1),
            &tgt,
            &CrossEntropyOptions {
                weight: Some(w.clone()),
                ignore_index: 1,
                reduction: Reduction::Sum,
                ..Default::default()
            },
        )
        .unwrap(),
    ];
    check_ref("cross_entropy", &outs, Some(&x), &[], &CE);
}

#[test]
fn torch_parity_attention_function() {
    let (k, v) = (det(&[2, 5, 4], 8, 1.0, 0.0), det(&[2, 5, 6], 9, 1.0, 0.0));
    let allowed = [
        true, false, true, true, false, true, true, true, false, true, false, true, true, true,
        true,
    ];
    let bmask = Tensor::from_slice(&allowed, [3, 5], &cpu());
    let q = det_leaf(&[2, 3, 4], 1.0, 0.0);
    let (k3, v3) = (k.narrow(1, 0, 3), v.narrow(1, 0, 3));
    let outs = [
        F::scaled_dot_product_attention(&q, &k, &v, Some(&bmask), 0.0, false, None).unwrap(),
        F::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            Some(&det(&[3, 5], 10, 1.0, 0.0)),
            0.0,
            false,
            Some(0.3),
        )
        .unwrap(),
        F::scaled_dot_product_attention(&q, &k3, &v3, None, 0.0, true, None).unwrap(),
    ];
    check_ref("scaled_dot_product_attention", &outs, Some(&q), &[], &SDPA);
    let e = F::scaled_dot_product_attention(&q, &v, &v, None, 0.0, false, None)
        .expect_err("E mismatch");
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "scaled_dot_product_attention",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn functional_forms_match_modules() {
    let dev = cpu();
    let x = rand_in(&[4, 6, 3], -2.0, 2.0, 70);
    let w = rand_in(&[6], 0.5, 1.5, 71);
    let b = rand_in(&[6], -0.5, 0.5, 72);
    // layer_norm / group_norm
    let mut ln = LayerNorm::new(&[3], &dev).unwrap();
    ln.weight = Some(rand_in(&[3], 0.5, 1.5, 73));
    ln.bias = Some(rand_in(&[3], -0.5, 0.5, 74));
    let want = ln.forward(&x).unwrap().to_f64_vec();
    close(
        &F::layer_norm(&x, &[3], ln.weight.as_ref(), ln.bias.as_ref(), 1e-5)
            .unwrap()
            .to_f64_vec(),
        &want,
        1e-12,
    );
    gradcheck("F::layer_norm", &[x.clone(), w.narrow(0, 0, 3)], |t| {
        F::layer_norm(&t[0], &[3], Some(&t[1]), None, 1e-5)
    });
    let e = F::layer_norm(&x, &[3], Some(&w), None, 1e-5).expect_err("weight shape");
    assert!(
        matches!(
            &e,
            Error::Shape {
                op: "layer_norm",
                ..
            }
        ),
        "{e}"
    );
    let mut gn = GroupNorm::new(3, 6, &dev).unwrap();
    gn.weight = Some(w.clone());
    gn.bias = Some(b.clone());
    let want = gn.forward(&x).unwrap().to_f64_vec();
    close(
        &F::group_norm(&x, 3, Some(&w), Some(&b), 1e-5)
            .unwrap()
            .to_f64_vec(),
        &want,
        1e-12,
    );
    assert!(F::group_norm(&x, 4, None, None, 1e-5).is_err());
    // batch_norm: training updates the given running stats like BatchNorm1d does.
    let mut bn = BatchNorm1d::new(6, &dev).unwrap();
    bn.weight = Some(w.clone());
    bn.bias = Some(b.clone());
    bn.running_mean = Some(Tensor::zeros([6], DType::F64, &dev));
    bn.running_var = Some(Tensor::ones([6], DType::F64, &dev));
    let (rm, rv) = (
        Tensor::zeros([6], DType::F64, &dev),
        Tensor::ones([6], DType::F64, &dev),
    );
    let y = F::batch_norm(
        &x,
        Some(&rm),
        Some(&rv),
        Some(&w),
        Some(&b),
        true,
        0.1,
        1e-5,
    )
    .unwrap();
    close(
        &y.to_f64_vec(),
        &bn.forward(&x).unwrap().to_f64_vec(),
        1e-12,
    );
    close(
        &rm.to_f64_vec(),
        &bn.running_mean.as_ref().unwrap().to_f64_vec(),
        1e-12,
    );
    close(
        &rv.to_f64_vec(),
        &bn.running_var.as_ref().unwrap().to_f64_vec(),
        1e-12,
    );
    bn.train(false);
    let y = F::batch_norm(
        &x,
        Some(&rm),
        Some(&rv),
        Some(&w),
        Some(&b),
        false,
        0.1,
        1e-5,
    )
    .unwrap();
    close(
        &y.to_f64_vec(),
        &bn.forward(&x).unwrap().to_f64_vec(),
        1e-12,
    );
    gradcheck("F::batch_norm", &[x.clone(), w.clone(), b.clone()], |t| {
        F::batch_norm(&t[0], None, None, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5)
    });
    let e = F::batch_norm(
        &x,
        Some(&rm.narrow(0, 0, 5)),
        Some(&rv),
        None,
        None,
        true,
        0.1,
        1e-5,
    )
    .expect_err("stats shape");
    assert!(
        e.to_string().contains("batch_norm") && e.to_string().contains("[5]"),
        "{e}"
    );
    // embedding and adaptive_avg_pool2d
    let emb = Embedding::new(5, 2, None, &dev).unwrap();
    let idx = i64s(&[4, 0, 2], &[3]);
    assert_eq!(
        F::embedding(&idx, &emb.weight, None).unwrap().to_f64_vec(),
        emb.forward(&idx).unwrap().to_f64_vec()
    );
    let img = rand_in(&[1, 2, 5, 7], -1.0, 1.0, 75);
    close(
        &F::adaptive_avg_pool2d(&img, [3, 4]).unwrap().to_f64_vec(),
        &AdaptiveAvgPool2d::new([3, 4])
            .forward(&img)
            .unwrap()
            .to_f64_vec(),
        1e-12,
    );
}

// Generated by torch 2.15.0+cu132 (see torch_parity).

#[rustfmt::skip]
static BN2D: Ref = Ref {
    outs: &[&[-8.617848754e-01, -8.254888058e-01, -5.031251311e-01, -4.630649462e-02, 4.736680388e-01, 5.950447321e-01, 3.967451155e-01, -2.796734869e-02, 1.932680905e-01, 4.742022976e-02, 7.204069197e-02, 2.555501163e-01, -3.545697033e-02, 3.365058899e-01, 4.480321407e-01, 2.466691732e-01, -3.940820321e-02, -4.886464179e-01, -7.478840947e-01, -6.951976418e-01, 2.613086700e-01, 5.176860690e-01, 7.233584523e-01, 7.815948725e-01, 2.385008037e-01, -1.841074228e-01, -6.222996712e-01, -8.699873686e-01, -6.899889708e-01, -3.447970748e-01, 1.227408573e-01, 4.927344024e-01, 7.807808518e-01, 6.603609324e-01, 4.221337736e-01, 1.781413406e-01, -8.723534346e-01, -8.054049611e-01, -4.618346095e-01, -3.228893969e-03, 4.987657070e-01, 5.894954205e-01, 3.631587923e-01, -7.379456609e-02, 1.732282490e-01, 4.191621765e-02, 8.366113901e-02, 2.788297534e-01], &[1.257427502e-02, -1.629770175e-02, 1.813784055e-02], &[9.515558481e-01, 9.514749646e-01, 9.514273405e-01], &[-7.547279596e-01, -7.288595438e-01, -4.991094768e-01, -1.735326648e-01, 4.162508547e-01, 5.026924610e-01, 3.614681959e-01, 5.899815261e-02, 1.925949901e-01, 8.877112716e-02, 1.062975526e-01, 2.369313389e-01, -1.658001691e-01, 9.929950535e-02, 1.787848026e-01, 3.527247161e-02, 5.085024983e-02, -2.690864503e-01, -4.537093043e-01, -4.161872566e-01, 2.410306334e-01, 4.235365391e-01, 5.699473023e-01, 6.114037633e-01, 2.945082448e-02, -2.717440426e-01, -5.840457082e-01, -7.605739236e-01, -4.124777913e-01, -1.666403860e-01, 1.663289219e-01, 4.298294485e-01, 6.108242273e-01, 5.251016617e-01, 3.555162847e-01, 1.818268001e-01, -7.622601986e-01, -7.145457268e-01, -4.696815312e-01, -1.428310573e-01, 4.341247976e-01, 4.987403452e-01, 3.375487924e-01, 2.636110410e-02, 1.783293486e-01, 8.485301584e-02, 1.145697236e-01, 2.535032630e-01]],
    x_grad: &[-1.015979499e-01, -7.665590942e-02, -4.762685299e-02, -2.816355228e-02, 8.515077829e-02, 6.625823677e-02, 3.661793470e-02, 1.017031074e-02, -3.128039837e-02, -2.592788264e-02, -1.157424599e-02, 5.029782653e-03, -2.790549397e-02, -2.765510976e-02, -4.636359960e-02, -7.523185015e-02, 9.688675404e-03, -6.518065929e-04, 9.728848934e-03, 3.594848514e-02, 5.388915539e-03, 1.621976495e-02, 1.622897387e-02, 5.412306637e-03, -7.593971491e-02, -1.011417806e-01, -1.107406914e-01, -1.002219990e-01, 3.667961061e-02, 6.631147861e-02, 8.517071605e-02, 8.438730240e-02, 5.053356290e-03, -1.154778898e-02, -2.591103315e-02, -3.128106892e-02, -9.974493086e-02, -7.382097840e-02, -4.514333606e-02, -2.719950676e-02, 8.410952985e-02, 6.367494166e-02, 3.370761871e-02, 8.301615715e-03, -3.126744926e-02, -2.485670522e-02, -9.948596358e-03, 6.445258856e-03],
    p_grads: &[&[7.890850067e+00, 7.846421242e+00, 7.710873127e+00], &[1.912422776e+00, -2.143132925e+00, 2.126192570e+00]],
};

#[rustfmt::skip]
static BN1D: Ref = Ref {
    outs: &[&[-7.638228536e-01, -7.295476198e-01, -2.794330418e-01, 2.302046716e-01, 5.526715517e-01, 6.159085631e-01, 2.905076146e-01, -1.026800573e-01, -3.921632469e-01, -6.828171015e-01, -5.892847106e-02, 1.152799204e-01, 1.649913564e-02, 3.677529097e-01, 7.817005515e-01, 5.570552945e-01, 2.853600383e-01, 5.130796507e-02, -7.691600919e-01, -7.203843594e-01, -2.565681040e-01, 2.543553412e-01, 5.593777299e-01, 6.146624684e-01], &[2.314296924e-02, 1.736972132e-03, -2.255251072e-02], &[9.619439840e-01, 9.461057782e-01, 9.611415863e-01], &[-7.472620606e-01, -7.215337157e-01, -1.808786392e-01, 1.519162208e-01, 5.529971123e-01, 6.001763940e-01, 4.415832832e-02, -2.509832084e-01, -2.544917762e-01, -4.442895651e-01, 9.669952840e-02, 2.266715020e-01, -1.615228057e-01, 1.021415666e-01, 5.120446086e-01, 3.653505743e-01, 3.535634875e-01, 1.789438277e-01, -7.512683868e-01, -7.146554589e-01, -1.659477800e-01, 1.676866710e-01, 5.580003858e-01, 5.992467403e-01]],
    x_grad: &[-4.726076126e-02, -3.927919269e-02, -7.472839952e-02, -4.086887836e-02, -9.484007955e-03, -1.413604617e-02, 1.297584176e-02, -1.339206100e-02, -2.237124443e-01, -1.932373643e-01, -6.911359727e-03, -4.801392555e-03, 1.075196266e-02, 2.862457931e-02, -9.869336337e-02, -1.624342501e-01, -1.813960075e-02, -1.555645466e-02, -4.730409384e-02, -3.846076131e-02, -7.229322195e-02, -4.026889801e-02, -9.702704847e-03, -1.434554160e-02],
    p_grads: &[&[4.110246181e+00, 3.483814240e+00, 3.958648443e+00], &[1.341616035e+00, 5.340048075e-01, -1.160089612e+00]],
};

#[rustfmt::skip]
static LN: Ref = Ref {
    outs: &[&[-8.095915318e-01, -4.550498724e-01, 2.552285790e-01, 4.482267499e-01, -1.212276965e-01, -6.988362670e-01, -6.931684017e-01, -4.846638441e-01, -6.195757389e-01, -8.090342879e-01, -4.391164482e-01, 2.691846788e-01, -2.379772663e-01, 4.675747752e-01, 6.458025575e-01, 4.402159154e-01, 4.767807722e-01, 6.908856630e-01, 4.364407063e-01, -3.048680723e-01, -6.859037876e-01, -2.200229615e-01, 4.796838164e-01, 6.427699924e-01]],
    x_grad: &[-3.258294463e-01, 3.587676585e-02, 3.556295037e-01, 8.611468226e-02, -3.486424088e-01, -2.461876124e-01, 2.173055410e-01, 2.823605239e-01, -1.377020329e-01, -3.228962421e-01, 4.755038023e-02, 3.564205170e-01, 2.141329944e-01, 2.532583177e-01, -1.920976341e-01, -3.856160343e-01, -6.245970726e-04, 3.350561559e-01, 7.602623105e-02, -3.408682942e-01, -2.249451578e-01, 2.223900259e-01, 2.462067902e-01, -2.029193342e-01],
    p_grads: &[&[1.027625799e+00, 1.170474648e+00, 5.201101899e-01, 4.970441163e-01, 1.496894836e+00, 2.065578699e+00, 1.216423988e+00, 8.815574646e-02, 1.819583178e-01, 1.044281602e+00, 1.159838676e+00, 5.064817071e-01], &[-8.320653439e-02, -6.930307150e-01, -9.769117832e-01, -8.013359904e-01, -2.488793135e-01, 4.206292033e-01, 8.923091888e-01, 9.443222284e-01, 5.522058010e-01, -9.962165356e-02, -7.045955658e-01, -9.781870842e-01]],
};

#[rustfmt::skip]
static GN: Ref = Ref {
    outs: &[&[-8.525182009e-01, -8.201931715e-01, -5.330979824e-01, 2.050068080e-01, 5.466979146e-01, 6.547105312e-01, 8.100610971e-01, 5.327944756e-01, 2.381207198e-01, 5.778728724e-01, 5.692838430e-01, 5.052654743e-01, -3.924458027e-01, 8.893086761e-02, 2.332628667e-01, 3.058364987e-01, -2.475683093e-01, -8.284952044e-01, 2.681094036e-02, 5.248807743e-02, 2.181073576e-01, 4.660938382e-01, 4.125305414e-01, 3.973639905e-01]],
    x_grad: &[-2.860919833e-01, 2.294266224e-02, 2.290659547e-01, 2.456835210e-01, 4.988934100e-02, -2.614896894e-01, 1.592693478e-01, -1.641527712e-01, -3.424134851e-01, 1.791293025e-01, 1.104244888e-01, 5.774313956e-02, 8.017948270e-01, 3.288702667e-01, -1.728878915e-01, -4.691870213e-01, -4.283604026e-01, -6.022995710e-02, -1.685901433e-01, 1.871334389e-02, 2.310834676e-01, -2.567075193e-02, -4.548963904e-02, -1.004622877e-02],
    p_grads: &[&[2.352449656e+00, 4.321570873e+00, 7.578719258e-01, 3.200980186e+00], &[-1.753149033e+00, -6.295861006e-01, 2.388837337e+00, -1.782404304e+00]],
};

#[rustfmt::skip]
static LSTM2: Ref = Ref {
    outs: &[&[-9.167251736e-02, 3.582326323e-02, 1.529609412e-01, 1.249779686e-01, -7.642289251e-02, 3.447066620e-02, 1.425139159e-01, 1.357991397e-01, -1.406869292e-01, 4.283053800e-02, 2.041370124e-01, 1.495744437e-01, -1.376802325e-01, 4.126853496e-02, 2.071113437e-01, 1.467052400e-01, -1.702682972e-01, 5.174284428e-02, 2.171027362e-01, 1.573754251e-01, -1.658027917e-01, 4.559021816e-02, 2.207877189e-01, 1.538858414e-01, -1.871520579e-01, 5.068516359e-02, 2.276605219e-01, 1.531556398e-01, -1.861899197e-01, 5.588461831e-02, 2.218547016e-01, 1.581631303e-01, -1.961195916e-01, 5.495835468e-02, 2.264853120e-01, 1.552619338e-01, -1.957164109e-01, 5.326259136e-02, 2.286112159e-01, 1.537524611e-01], &[5.108870566e-02, 1.917541474e-01, 1.322909445e-01, 3.980572894e-02, 1.066424176e-01, 7.045292109e-02, 2.277451456e-01, 4.807117954e-02, -1.961195916e-01, 5.495835468e-02, 2.264853120e-01, 1.552619338e-01, -1.957164109e-01, 5.326259136e-02, 2.286112159e-01, 1.537524611e-01], &[9.857929498e-02, 5.998014808e-01, 5.604708195e-01, 1.065905467e-01, 4.399023354e-01, 1.549857110e-01, 6.031144857e-01, 3.150771260e-01, -2.994332314e-01, 1.138419211e-01, 6.060968637e-01, 5.704180002e-01, -2.969152331e-01, 1.112843826e-01, 6.071048975e-01, 5.680130124e-01]],
    x_grad: &[-1.247852109e-02, -2.187906019e-02, -2.098953910e-02, -1.791907824e-03, -1.259188401e-03, -1.342531759e-04, 8.145469241e-03, 3.856493160e-03, -2.246252727e-03, -8.569570258e-03, -1.264797803e-02, -1.077784225e-02, -2.228460833e-02, -1.364520192e-02, 1.411747187e-03, 9.413627908e-03, 4.192115739e-03, -3.001011908e-03, 6.055221707e-02, 7.461652160e-02, 5.358750373e-02, 1.083967239e-01, 7.956182957e-02, 1.330775302e-02, -2.159386873e-01, -8.184335381e-02, 9.074424952e-02, -2.393480092e-01, -3.877450228e-01, -3.537794054e-01],
    p_grads: &[&[6.549046934e-02, 6.635499001e-02, 3.601172566e-02, 2.531009912e-02, -1.044717282e-01, -1.851188540e-01, 1.743180603e-01, 1.433229744e-01, 4.492085427e-02, 1.809286885e-02, -9.922441095e-04, -1.961068809e-02, 1.223839000e-01, 4.488463700e-02, -5.372456834e-02, 1.569869071e-01, 9.529536963e-02, -1.121506095e-02, 2.743298933e-02, -7.246725727e-03, -3.851819411e-02, -1.364091132e-02, 5.075475201e-04, 1.441729814e-02, 6.832163930e-01, 1.069516838e-01, -5.196140409e-01, 9.547908902e-01, 7.279151082e-01, 1.586895436e-01, 1.042714566e-01, 6.471492350e-03, -9.437210858e-02, -1.493908912e-01, -1.003657058e-01, -4.136964679e-03, 1.744819572e-03, 9.254709817e-03, 1.241196692e-02, 8.740758896e-02, 2.278537862e-02, -5.255314708e-02, 2.268764228e-01, 1.475691050e-01, -1.142280176e-03, 5.004470050e-02, 2.216043882e-02, -1.614622399e-02], &[2.111444995e-02, 9.874750860e-03, 1.024494600e-02, 1.313692983e-02, -1.173388958e-02, 7.255952805e-03, -1.717496291e-02, -4.103282932e-03, 2.933508903e-02, 8.427040651e-03, 9.529498639e-04, 1.778499782e-02, 2.292620251e-03, 3.857736476e-03, 6.403978914e-04, 1.183842774e-03, -8.101325366e-04, -2.502083313e-03, -2.241602540e-02, 2.008896088e-03, 3.794333339e-02, 2.362156473e-02, 1.319115050e-02, 2.353716642e-02, 3.052774118e-03, 4.317229148e-03, -1.565310056e-03, 2.463270677e-03, 4.175117705e-03, 2.462660195e-03, 6.803036202e-03, 1.847655978e-03, -4.268328846e-02, -2.015943825e-02, -1.657684147e-01, -6.841314491e-03, 1.608689576e-01, 6.124100834e-02, 9.159058332e-03, 1.002875343e-01, 2.794320881e-02, 2.745200880e-02, 1.242702547e-02, 1.793772727e-02, 3.270185366e-02, 3.473613411e-02, 6.453298032e-02, 1.461648010e-02, -4.059929401e-03, -3.846839769e-03, -3.793778829e-03, -2.261372050e-03, -4.243802745e-03, -3.684578231e-03, -1.991207153e-02, -7.811620017e-04, 2.662287652e-02, 9.889943525e-03, -7.309242152e-03, 1.688779332e-02, 1.006974932e-02, 7.475849241e-03, 2.563760383e-03, 6.258140318e-03], &[1.047063991e-01, -4.784946516e-02, 1.125462875e-01, 2.343250997e-02, -6.147508323e-02, 1.951208115e-01, 1.869590953e-02, 3.508275747e-02, -5.881590247e-01, 6.562367678e-01, 1.826096773e-01, 3.730416298e-01, -3.388704360e-02, -7.585916668e-02, 9.632806480e-02, 5.357835814e-02], &[1.047063991e-01, -4.784946516e-02, 1.125462875e-01, 2.343250997e-02, -6.147508323e-02, 1.951208115e-01, 1.869590953e-02, 3.508275747e-02, -5.881590247e-01, 6.562367678e-01, 1.826096773e-01, 3.730416298e-01, -3.388704360e-02, -7.585916668e-02, 9.632806480e-02, 5.357835814e-02], &[1.972007332e-03, 8.945560083e-03, -9.463404305e-03, 2.807382960e-03, 3.886280174e-04, -3.113896120e-03, 2.316553611e-03, -4.142294638e-04, 1.091315690e-02, -1.054647565e-02, 1.068608928e-02, 3.077042056e-03, 1.122588851e-02, 3.524732543e-03, 2.244514646e-03, 5.716039799e-03, -6.169931497e-03, 3.861762350e-03, 1.621854375e-03, -2.573798411e-03, 3.192021511e-03, -2.185014309e-03, 1.739257248e-03, 1.122623682e-03, 1.195175666e-02, -1.061821915e-02, 1.248643454e-02, 3.840690712e-03, 6.657184102e-03, -1.056183479e-03, 1.218755636e-02, 2.546452684e-03, -3.678723052e-02, -6.152676046e-02, 7.383912802e-02, -3.205794469e-02, 6.801377051e-03, -8.807012439e-02, 7.055064291e-02, -1.603952609e-02, 2.709919214e-02, -2.785966545e-02, 2.432047389e-02, 7.380333729e-03, 3.454460204e-02, 8.552121930e-03, 1.933621056e-02, 1.661797985e-02, -2.569960197e-03, -2.039513784e-03, -6.684824824e-03, -4.764662590e-04, -2.548971970e-04, -8.299079491e-04, 2.493856242e-03, -9.114642744e-04, -4.418240860e-03, -1.011726260e-02, -1.651646104e-03, -5.896438845e-03, -1.124263159e-03, -8.221867494e-03, -1.250678394e-02, -1.737742685e-03], &[-8.386520203e-04, 4.672554860e-05, 5.691273254e-04, 4.460385535e-04, -2.485096920e-04, 1.570323075e-04, 1.922114170e-04, 1.800677273e-04, -6.452239584e-03, 2.325228415e-03, 5.892814603e-03, 4.501389805e-03, -7.663048338e-03, 2.307708142e-03, 8.243121207e-03, 5.864676088e-03, -1.432862598e-03, 1.684026793e-04, 1.287583145e-03, 5.991680664e-04, -7.893341244e-04, 3.529230889e-04, 7.946764235e-04, 6.858395063e-04, -5.499830935e-03, 2.064400585e-03, 5.327344406e-03, 4.314651713e-03, -8.558486588e-03, 2.608775627e-03, 9.516128339e-03, 6.845539436e-03, 2.483197488e-03, 5.745032686e-04, 3.628987470e-04, -9.025941108e-05, -1.257989556e-02, 6.040995941e-03, 8.569779806e-03, 6.076671649e-03, -1.507380046e-02, 5.580697674e-03, 1.359008998e-02, 1.056265924e-02, -3.070331737e-02, 9.254945442e-03, 3.340952471e-02, 2.380160242e-02, 5.223713815e-03, -1.570102526e-03, -6.839384325e-03, -4.579902627e-03, -1.308193780e-03, 4.442174977e-04, 1.181479776e-03, 7.485811366e-04, 2.490322106e-03, -4.687438486e-04, -7.967115380e-03, -5.962399300e-03, 8.493294008e-03, -2.308156108e-03, -1.436893828e-02, -9.910013527e-03], &[-1.100022346e-02, -2.101740800e-03, 4.710466135e-03, 2.451229841e-02, 2.107238397e-03, 4.110166803e-03, 2.311368473e-02, 4.059349373e-02, 3.228494525e-02, -7.406127453e-02, -5.344212055e-03, 9.810146689e-02, -3.372707218e-02, 8.877962828e-04, -7.848929614e-02, -9.108791500e-02], &[-1.100022346e-02, -2.101740800e-03, 4.710466135e-03, 2.451229841e-02, 2.107238397e-03, 4.110166803e-03, 2.311368473e-02, 4.059349373e-02, 3.228494525e-02, -7.406127453e-02, -5.344212055e-03, 9.810146689e-02, -3.372707218e-02, 8.877962828e-04, -7.848929614e-02, -9.108791500e-02]],
};

#[rustfmt::skip]
static GRU_BF: Ref = Ref {
    outs: &[&[2.401007414e-01, -1.809082031e-01, 7.121610641e-01, 2.196457386e-01, 1.891902089e-01, 4.533403218e-01, 1.480334997e-01, 3.814198077e-01, -1.559817344e-01, 6.741985679e-01, 4.754140377e-01, 2.105052471e-01, 1.162855029e-01, 3.283290267e-01, 7.860639691e-01, 3.092913926e-01, 1.247050241e-02, 6.323504448e-01, 9.360176325e-02, 3.893682361e-01, -5.414440855e-02, 5.368059874e-01, 3.886877596e-01, -1.748633198e-02, 2.064829320e-01, 1.845173091e-01, 7.922574282e-01, 1.554857790e-01, 1.040067002e-01, 5.750480890e-01, 1.478632689e-01, 3.062324822e-01, -1.805215329e-01, 7.012232542e-01, 4.948444963e-01, 1.642523706e-01, 1.165711731e-01, 3.467879593e-01, 7.839292884e-01, 2.770013213e-01], &[1.247050241e-02, 6.323504448e-01, 9.360176325e-02, 3.893682361e-01, 1.165711731e-01, 3.467879593e-01, 7.839292884e-01, 2.770013213e-01]],
    x_grad: &[-2.313074283e-02, -7.478873432e-02, -9.127242118e-02, -1.000588164e-01, -2.774307970e-03, 9.581498057e-02, 1.774684340e-02, -3.506248817e-03, -2.311028540e-02, -5.529141426e-02, 7.656200230e-02, 1.724070758e-01, 6.120382994e-02, -1.022589393e-03, -6.276806444e-02, -3.536177054e-02, -7.602176070e-02, -8.092755079e-02, -6.416551769e-04, -6.360442936e-02, -9.665304422e-02, 6.409920752e-02, -2.645263635e-02, -1.045633852e-01, 9.456697106e-02, 1.518574208e-01, 1.377269328e-01, 4.461646080e-02, -8.668191731e-02, -1.772124320e-01],
    p_grads: &[&[4.612984881e-02, 4.237233475e-02, 1.868645474e-02, 3.109955043e-02, 4.683497921e-02, 4.054320604e-02, 8.191925474e-03, 1.068756729e-02, 8.156678639e-03, 1.076978515e-03, -6.785524078e-03, -1.145668887e-02, -1.326657683e-01, -9.843507409e-02, -1.790881157e-02, 6.891194731e-02, -2.334071696e-02, -1.046158299e-01, 2.592662349e-02, 1.527192891e-01, 2.076857090e-01, -1.245124638e-02, -5.639438983e-03, 3.824694781e-03, 3.157205284e-01, 4.084278345e-01, 3.090453744e-01, 3.976036608e-01, 4.461742640e-01, 2.849021554e-01, 1.346239448e-01, 4.276466668e-01, 5.195405483e-01, -6.611890346e-02, 1.463858336e-01, 2.900430560e-01], &[-1.019565738e-03, 5.765614100e-03, -5.650070962e-03, 1.757512800e-04, -1.910812920e-03, 4.017294571e-02, 6.853649393e-03, 4.213728011e-03, 1.197737874e-04, 1.227213815e-02, 1.638374990e-03, 3.697130363e-03, 1.083747018e-03, -5.707150325e-03, 1.829671673e-03, 2.647362126e-04, 1.405571401e-02, 9.545811452e-03, -1.963884570e-03, 2.415447682e-02, 2.582414635e-02, 1.373955421e-02, 1.568934023e-01, 6.376178935e-03, -4.836115614e-02, -1.155157313e-01, -1.875197142e-01, -6.914995611e-02, 4.936377518e-04, -6.774157286e-03, -8.513182402e-03, 1.257730555e-02, -3.149079531e-02, 3.255732656e-01, -3.780663013e-03, 6.922184676e-02, -3.542028368e-03, 2.434194088e-01, 9.857252985e-02, 2.745711990e-02, -2.650887892e-02, 9.896159172e-02, -1.239214242e-01, -6.380891893e-03, -2.125478350e-02, 2.732212655e-03, -1.031156927e-01, -3.179007024e-02], &[1.121326443e-02, 4.228892177e-02, 2.639640123e-03, -4.099313170e-03, -6.003602594e-02, 3.097747564e-01, -1.982067078e-01, 4.817597941e-02, 2.647531927e-01, 4.050940573e-01, -1.508646607e-01, -1.001552641e-01], &[1.121326350e-02, 4.228891432e-02, 2.639638260e-03, -4.099313170e-03, -6.003602594e-02, 3.097747564e-01, -1.982066929e-01, 4.817597568e-02, 9.657615423e-02, 3.440587521e-01, -1.081506833e-01, -7.334668189e-02]],
};

#[rustfmt::skip]
static LSTM_BI: Ref = Ref {
    outs: &[&[-1.483651698e-01, -1.556450874e-01, -4.292255640e-02, 1.091527864e-01, -2.121765465e-01, -2.457217276e-01, -3.859770596e-01, -3.132620454e-01, -1.514471918e-01, -1.101510376e-01, 3.267214075e-02, 1.248067468e-01, -1.745106727e-01, -2.092236578e-01, -3.588584065e-01, -3.245157599e-01, -2.695879042e-01, -1.805202961e-01, -1.432777289e-02, 1.429896653e-01, -1.589591503e-01, -2.036006451e-01, -3.438712656e-01, -2.946339548e-01, -2.686583102e-01, -2.141377479e-01, -2.254596911e-03, 1.448850185e-01, -1.905416995e-01, -2.257905006e-01, -3.553159535e-01, -2.736666501e-01, -3.492119014e-01, -1.926756352e-01, 2.236217819e-02, 1.545798331e-01, -1.311198622e-01, -1.821946502e-01, -3.029511273e-01, -2.481919974e-01, -3.434643447e-01, -2.161037326e-01, 6.099774037e-03, 1.494709253e-01, -1.340461522e-01, -1.892394274e-01, -3.108078241e-01, -2.551963627e-01, -4.050298631e-01, -2.573073804e-01, -1.235662680e-02, 1.600189507e-01, -1.158600077e-01, -1.756936461e-01, -2.572174966e-01, -1.781285852e-01, -3.937017024e-01, -2.215756029e-01, 2.035581879e-02, 1.554121971e-01, -9.578911215e-02, -1.620761454e-01, -2.475928515e-01, -1.982096285e-01, -4.361987114e-01, -2.541829646e-01, -9.433148429e-03, 1.583443284e-01, -4.560133815e-02, -1.104346067e-01, -1.485129446e-01, -1.227283031e-01, -4.388400912e-01, -2.811985314e-01, -2.253782935e-02, 1.623782218e-01, -6.426028162e-02, -1.248956174e-01, -1.553563625e-01, -1.038766876e-01], &[5.108870566e-02, 1.917541474e-01, 1.322909445e-01, 3.980572894e-02, 1.066424176e-01, 7.045292109e-02, 2.277451456e-01, 4.807117954e-02, -3.595449775e-02, -3.283256898e-03, 2.057491541e-01, 8.720356971e-02, -4.535274804e-01, 2.148084790e-01, 1.010694280e-01, 8.123091608e-02, -4.361987114e-01, -2.541829646e-01, -9.433148429e-03, 1.583443284e-01, -4.388400912e-01, -2.811985314e-01, -2.253782935e-02, 1.623782218e-01, -2.121765465e-01, -2.457217276e-01, -3.859770596e-01, -3.132620454e-01, -1.745106727e-01, -2.092236578e-01, -3.588584065e-01, -3.245157599e-01], &[9.857929498e-02, 5.998014808e-01, 5.604708195e-01, 1.065905467e-01, 4.399023354e-01, 1.549857110e-01, 6.031144857e-01, 3.150771260e-01, -7.079171389e-02, -8.258506656e-03, 3.134266138e-01, 6.058131456e-01, -6.219488978e-01, 4.999335110e-01, 4.126417339e-01, 1.681388170e-01, -6.903854609e-01, -4.490878582e-01, -1.472708862e-02, 5.000289679e-01, -6.827604771e-01, -4.814046621e-01, -3.406194970e-02, 4.793506265e-01, -3.937138915e-01, -4.465364218e-01, -5.553889275e-01, -6.152946949e-01, -3.478060961e-01, -4.230691791e-01, -5.263170004e-01, -6.457327008e-01]],
    x_grad: &[1.576715261e-01, 2.232150435e-01, 1.837770343e-01, 1.404078901e-01, 2.496440113e-01, 2.414686382e-01, -7.750222832e-02, 6.406974792e-02, 1.755087078e-01, -1.006646231e-01, -6.996481121e-02, -6.359471474e-03, -3.103324585e-02, 7.841017097e-03, 4.302752391e-02, 5.119510740e-02, 1.363934204e-02, -3.033121489e-02, 1.245927662e-01, 1.199959219e-01, 5.896310508e-02, 1.167562529e-01, 7.874678075e-02, 3.701474518e-03, -2.147218883e-01, -1.189288348e-01, 3.279831260e-02, -2.289847732e-01, -4.310889840e-01, -4.304453135e-01],
    p_grads: &[&[3.584867716e-02, 5.605865270e-02, 4.990337789e-02, 4.281399399e-02, -1.135725826e-01, -2.165442109e-01, 1.940072477e-01, 1.657172889e-01, 5.948789045e-02, 2.485997975e-02, -2.323227935e-02, -6.039803475e-02, 1.408689022e-01, 3.543631360e-02, -8.666251600e-02, 1.830462366e-01, 1.104479879e-01, -1.409567241e-02, 2.697183378e-02, -1.884757727e-02, -5.580268055e-02, -1.317889988e-02, 7.149562240e-03, 2.411547303e-02, 9.296665192e-01, 2.512542605e-01, -5.453267694e-01, 9.719635844e-01, 7.068015933e-01, 1.092198491e-01, 8.457261324e-02, -7.445310056e-02, -1.984623373e-01, -2.636958957e-01, -3.073927462e-01, -2.065179646e-01, 1.980971545e-02, 3.762442619e-02, 3.774377704e-02, 1.896172762e-01, 6.100337207e-02, -9.630137682e-02, 2.849806547e-01, 1.728172451e-01, -2.062479779e-02, 5.018582195e-02, 2.108065411e-03, -4.696115106e-02], &[1.590275764e-02, 6.469656248e-03, 8.962156251e-03, 1.050074492e-02, -1.344047487e-02, 1.103161741e-02, -2.092418447e-02, -4.398069810e-03, 4.145918787e-02, 1.281713881e-02, 4.665324930e-03, 2.460739389e-02, 8.267349564e-03, 9.959970601e-03, 3.730741562e-03, 4.545157310e-03, -9.174997918e-03, -6.167393178e-03, -3.427769244e-02, -1.818292425e-03, 4.549032077e-02, 2.849659510e-02, 1.712205447e-02, 2.827776968e-02, 6.488835905e-03, 9.411239065e-03, 1.918167574e-03, 4.534350708e-03, 9.377658367e-03, 5.458701402e-03, 1.186733507e-02, 4.512138665e-03, -9.305430949e-02, -5.579359084e-02, -2.616379261e-01, -2.789790742e-02, 1.883166730e-01, 7.515238971e-02, 1.141728461e-02, 1.180370972e-01, 4.311465472e-02, 4.794718698e-02, 2.678532153e-02, 2.715101838e-02, 6.512355059e-02, 7.848960161e-02, 1.129472852e-01, 3.100798465e-02, -8.074332029e-03, -7.430993486e-03, -1.047013141e-02, -3.724191105e-03, -8.144957945e-03, -2.220593859e-03, -3.882187605e-02, -1.171531156e-03, 4.793803394e-02, 2.357006446e-02, -3.561569843e-03, 2.971007675e-02, 1.902253181e-02, 1.532308292e-02, 1.045188215e-02, 1.120755263e-02], &[5.737229809e-02, -5.814211816e-02, 1.287775338e-01, 7.354061306e-02, -1.253121048e-01, 2.380308360e-01, 4.749139026e-02, 6.966614723e-02, -1.216936827e+00, 5.928712487e-01, 3.093380332e-01, 7.829215527e-01, -1.074462831e-01, -1.380777359e-01, 1.139533892e-01, 1.290295124e-01], &[5.737229809e-02, -5.814211816e-02, 1.287775338e-01, 7.354061306e-02, -1.253121048e-01, 2.380308360e-01, 4.749139026e-02, 6.966614723e-02, -1.216936827e+00, 5.928712487e-01, 3.093380332e-01, 7.829215527e-01, -1.074462831e-01, -1.380777359e-01, 1.139533892e-01, 1.290295124e-01], &[-4.177350551e-03, 2.541295812e-02, 4.305114970e-02, 5.128954723e-02, -5.392134190e-02, -1.337721795e-01, -6.624997407e-02, -1.383439004e-01, -1.453725249e-01, -2.717487514e-03, -1.096159220e-03, 1.040704548e-03, 4.963533580e-02, 6.647329777e-02, 5.204783380e-02, -4.572284874e-03, -3.992043436e-02, -5.649339035e-02, -5.984882638e-02, -1.071159169e-01, -1.040047258e-01, -1.998296753e-02, -7.202900946e-02, -9.019868076e-02, -2.416517735e-01, -2.244796008e-01, -1.017311886e-01, -4.869692326e-01, -6.095502377e-01, -4.454503655e-01, -7.522076964e-01, -9.050071239e-01, -6.321676970e-01, -1.375364065e-01, -4.497884810e-01, -5.504980087e-01, 2.064406127e-02, 2.717319876e-04, -2.022839524e-02, 1.003811136e-03, -3.057848290e-02, -4.777923971e-02, -1.087423116e-01, -9.934409708e-02, -4.322279990e-02, -8.323811740e-02, -9.345142543e-02, -5.971306562e-02], &[2.045806730e-03, -5.313409565e-05, -1.974759065e-02, -7.174267434e-03, -2.422239259e-02, 8.370007388e-03, 4.430501163e-02, 1.847605780e-02, 7.946955040e-03, -6.375976373e-03, 2.402004600e-02, 9.433341213e-03, -7.559409831e-03, 3.733156016e-03, 3.132625483e-03, 1.332690008e-03, -4.243286699e-02, 1.928487793e-02, 1.814131811e-02, 9.580926970e-03, 4.346406087e-02, -1.994944178e-02, -1.566495746e-02, -9.396952577e-03, 1.718406193e-02, -9.378291667e-03, 7.495813072e-03, 2.623623936e-03, -6.060185377e-03, 1.066172728e-03, 2.113375627e-02, 8.704736829e-03, 8.685024083e-02, -4.482191429e-02, -1.200364437e-02, -7.894329727e-03, 3.077540994e-01, -1.447004825e-01, -6.839649379e-02, -4.790532589e-02, 1.665993333e-01, -8.156418055e-02, -1.654353179e-02, -1.094805263e-02, -3.703170642e-02, 8.043310605e-03, 1.227132082e-01, 5.051173642e-02, -6.883144379e-03, 2.942345105e-03, 1.652640058e-03, 1.355640823e-03, -3.256170021e-04, -5.515022203e-04, 9.313981049e-03, 3.463932313e-03, 5.204957444e-03, -3.092634724e-03, 4.583899397e-03, 1.979535678e-03, 1.233867742e-02, -4.162065685e-03, -5.363044329e-03, -2.409717534e-03], &[-1.492280215e-01, 2.222253233e-01, 1.159691066e-01, -9.589923546e-03, 1.069119275e-01, -1.082547233e-01, 3.194375709e-02, 9.978993982e-02, 9.144628793e-02, -2.575565577e-01, -3.244143724e-01, 5.496549606e-01, -4.357051104e-02, 5.681075156e-02, 3.391776979e-02, -6.205929816e-02], &[-1.492280215e-01, 2.222253233e-01, 1.159691066e-01, -9.589923546e-03, 1.069119275e-01, -1.082547233e-01, 3.194375709e-02, 9.978993982e-02, 9.144628793e-02, -2.575565577e-01, -3.244143724e-01, 5.496549606e-01, -4.357051104e-02, 5.681075156e-02, 3.391776979e-02, -6.205929816e-02], &[3.785691038e-02, 3.564376757e-02, 3.876369819e-02, 2.070861496e-02, -5.283389241e-02, 2.374357916e-02, 3.444027901e-02, 1.814030670e-02, 1.579875685e-02, 3.081659041e-02, 2.861330099e-02, 9.495095350e-03, -2.021519840e-02, -1.150226919e-03, 2.672507800e-02, 1.284050196e-02, 9.371857159e-04, 1.512640389e-03, -8.137813420e-04, 5.898383097e-04, -3.827860579e-03, 1.035302877e-03, 9.279432707e-04, 5.397325149e-04, 6.057392806e-03, -6.632776931e-03, 4.578172520e-04, 1.899769530e-03, -5.870769382e-04, 7.782030385e-03, -4.433516413e-03, -1.270906068e-03, 3.522003442e-02, 1.943533681e-02, 3.248678893e-02, 1.864463650e-02, -4.918935150e-02, 2.201847732e-02, 3.365948796e-02, 1.791271940e-02, 2.904164605e-02, 3.290465102e-02, 3.341149911e-02, 1.685656607e-02, -4.923298582e-02, 1.234406419e-02, 3.914548457e-02, 2.007531002e-02, 6.106146611e-05, -5.295767332e-04, 4.223902361e-04, 1.877649484e-04, 2.899838379e-03, -1.758626779e-03, -2.508114558e-04, -2.185243648e-05, 8.961427025e-03, -1.357752737e-02, 4.368422087e-03, 2.806567121e-03, 4.694552161e-03, 7.022720762e-03, -3.299139440e-03, -3.623347729e-04, -2.825802192e-02, -4.056470841e-02, -3.463921323e-02, -1.622546092e-02, 4.435538128e-02, -2.092602476e-02, -2.553543448e-02, -1.290564146e-02, -9.240534157e-02, -1.516427994e-01, -1.503341198e-01, -5.565914884e-02, 1.435680836e-01, -1.986469142e-02, -1.435984075e-01, -7.109503448e-02, -3.014098480e-02, -1.816132069e-01, -1.161841527e-01, -3.671118617e-02, 4.322614521e-02, 7.271727920e-02, -1.201277599e-01, -5.552116036e-02, 4.739037156e-02, -4.585837945e-02, 1.447222568e-02, 1.561632659e-02, 1.044566557e-02, 4.560440034e-02, -2.571561933e-02, -5.099065602e-03, 2.001366392e-02, 1.611433807e-03, 1.856869087e-02, 1.012729760e-02, -1.280770055e-03, 5.198368337e-03, 6.480103359e-03, 3.631853964e-03, 1.972923428e-02, 1.578087918e-02, 2.570995316e-02, 1.222758275e-02, 4.746633116e-03, -7.451156620e-03, 1.414993405e-02, 8.343986236e-03, 1.557848183e-03, -2.965235399e-05, 2.118950011e-03, 7.478930056e-04, 1.617749076e-04, -9.720872622e-04, 1.968839439e-03, 1.206031186e-03, -1.349461381e-03, -1.597999223e-02, -9.445598349e-03, -3.968645353e-03, -8.247711696e-03, 1.667466387e-02, -1.064948551e-02, -6.498402916e-03], &[-1.060100868e-01, -6.995342672e-02, 4.497859627e-03, 5.456586182e-02, -8.716013283e-02, -5.376905203e-02, 1.044107950e-03, 3.865892068e-02, -1.027671751e-04, 1.336877722e-05, -3.188952687e-04, -1.178826133e-04, 8.732780814e-03, 4.140602890e-03, 1.902595512e-03, -1.166284565e-04, -6.510004401e-02, -4.245596752e-02, 2.393423347e-03, 3.263252601e-02, -8.568264544e-02, -5.419802666e-02, 8.664240158e-05, 3.807902336e-02, -1.279240474e-03, -4.206052108e-04, 4.857693857e-04, 3.172982542e-04, 1.377179474e-02, 8.139367215e-03, 2.814410953e-03, -2.637996804e-03, 1.168302223e-01, 7.823062688e-02, -4.439030774e-03, -6.081027165e-02, 4.361577332e-01, 2.740865350e-01, -2.064351225e-03, -1.944129020e-01, 5.064542294e-01, 2.935187817e-01, 8.080559201e-04, -1.783278435e-01, 4.491856322e-02, 2.044583485e-02, 1.585683785e-02, 5.708116107e-03, -4.787937179e-02, -2.704594843e-02, 6.221123040e-03, 2.326783910e-02, -8.501905203e-02, -4.646381736e-02, 5.122014321e-03, 3.083999082e-02, -2.165957587e-03, -9.402977885e-04, 1.254810777e-04, 7.122093230e-04, 4.714460671e-02, 2.351298928e-02, 9.681825759e-04, -7.878624834e-03], &[2.314561009e-01, 1.562426537e-01, 5.049464293e-03, -1.334084943e-02, 2.234791815e-01, 2.457122356e-01, 2.003284171e-04, -2.659788355e-03, -1.732576489e-01, -8.829950094e-01, -7.397068143e-01, -4.987350106e-02, 5.379587784e-02, 1.211190224e-01, 1.234478597e-02, -9.602561593e-02], &[2.314561009e-01, 1.562426537e-01, 5.049464293e-03, -1.334084943e-02, 2.234791815e-01, 2.457122356e-01, 2.003284171e-04, -2.659788355e-03, -1.732576489e-01, -8.829950094e-01, -7.397068143e-01, -4.987350106e-02, 5.379587784e-02, 1.211190224e-01, 1.234478597e-02, -9.602561593e-02], &[2.839055471e-02, 8.378214203e-03, -1.116990484e-02, 1.591627859e-02, -4.610050097e-02, 2.290300094e-02, 4.801724106e-03, 6.971806288e-03, 3.010537662e-02, 1.101544127e-02, 2.044809051e-02, 1.440428291e-02, -6.038064510e-02, 2.838813886e-02, 3.426703811e-02, 1.789033413e-02, 2.723686956e-02, 8.754493669e-03, 4.004423320e-02, 9.829761460e-03, -8.806729317e-02, 4.234933481e-02, 5.890537053e-02, 2.600512467e-02, -1.440014970e-02, -3.215646138e-03, 2.802759223e-02, -1.135225408e-02, -3.873682348e-03, 1.908303704e-03, 2.224723808e-02, 5.690032616e-03, 2.823992446e-02, 8.727283217e-03, -7.691996638e-03, 1.588072069e-02, -5.008180439e-02, 2.409582026e-02, 8.478868753e-03, 7.981300354e-03, 2.833188698e-02, 1.439123601e-02, 1.701337472e-02, 1.445445325e-02, -5.689455196e-02, 2.495072968e-02, 3.012563288e-02, 1.623663865e-02, 3.092137352e-02, 2.002016827e-02, 4.741365090e-02, 1.364070829e-02, -6.924998760e-02, 2.734264173e-02, 5.851620436e-02, 2.779030614e-02, -6.769035943e-03, 3.128143027e-03, 4.063887522e-02, -6.606334820e-03, 2.460426476e-04, -4.653254524e-03, 3.314780444e-02, 1.199429482e-02, -8.440399915e-02, -1.862631738e-02, 3.014419042e-02, -4.690052569e-02, 1.337448359e-01, -6.399159133e-02, -1.970299333e-02, -2.387042344e-02, -9.248124063e-02, -4.016559571e-02, -5.153295025e-02, -4.591704905e-02, 1.906678975e-01, -8.828117698e-02, -9.540789574e-02, -5.177735910e-02, -2.590096369e-02, 1.916793262e-04, -3.046438284e-02, -7.703615818e-03, 1.094914451e-01, -5.844332278e-02, -5.676410347e-02, -2.374068089e-02, 3.814662248e-02, 2.892117761e-02, -7.105254382e-02, 3.237803653e-02, 5.295340344e-02, -3.092450276e-02, -7.294426858e-02, -1.732458919e-02, 1.798898727e-02, 4.016145598e-03, -1.985301264e-02, 1.030608080e-02, -4.072755203e-02, 2.008177713e-02, -3.946593497e-03, 3.054368077e-03, 2.828239091e-02, 1.000472624e-02, -1.795892790e-02, 1.462206524e-02, -7.211744040e-02, 3.579740971e-02, 7.369396277e-03, 9.166566655e-03, 1.796478592e-02, 6.877159700e-03, -8.056160994e-03, 7.920767181e-03, -5.976419896e-02, 3.165386245e-02, 1.153495256e-02, 7.784352172e-03, 1.140744239e-02, 1.162325032e-02, 1.851710863e-02, 3.769875737e-03, -3.898704425e-02, 1.973429509e-02, 2.556002885e-02, 1.061157696e-02], &[-2.129635774e-02, -2.088676021e-02, -3.512595594e-02, -2.670462243e-02, -3.783070296e-02, -4.833300039e-02, -7.956751436e-02, -6.359517574e-02, -6.149818748e-02, -8.333027363e-02, -1.377756894e-01, -1.118226126e-01, -1.123122871e-02, -2.172408998e-02, -3.628378361e-02, -3.079839796e-02, -2.185075916e-02, -2.450781874e-02, -3.924232349e-02, -3.011970408e-02, -3.027344123e-02, -3.910771012e-02, -6.335701793e-02, -5.030135438e-02, -4.461535811e-02, -6.104913354e-02, -1.000207961e-01, -8.094964921e-02, -1.102228463e-02, -1.959805004e-02, -3.326103464e-02, -2.898628078e-02, 6.933958083e-02, 6.656310707e-02, 1.134954616e-01, 8.834681660e-02, 1.062889025e-01, 1.359208524e-01, 2.218653113e-01, 1.761905551e-01, 7.613291591e-02, 1.029113680e-01, 1.704732627e-01, 1.379002780e-01, 6.371243298e-02, 1.064954847e-01, 1.745505333e-01, 1.464717388e-01, -1.491712593e-02, -1.029917784e-02, -1.887247711e-02, -1.467590220e-02, -3.404549882e-02, -3.296246752e-02, -5.788237602e-02, -4.565742984e-02, -3.324700519e-02, -3.702632338e-02, -6.430473924e-02, -5.097464100e-02, -2.568188123e-02, -3.711137548e-02, -6.124991179e-02, -4.838977754e-02], &[8.347868919e-02, 2.028949559e-01, 2.816502452e-01, 4.936115444e-02, 9.691472352e-02, 1.890982687e-01, 3.160229623e-01, 1.299054772e-01, -2.775862217e-01, -5.940974355e-01, -2.442122251e-01, -1.443983316e-01, 3.865911067e-02, 9.882246703e-02, 7.371556014e-02, 1.065484509e-01], &[8.347868919e-02, 2.028949559e-01, 2.816502452e-01, 4.936115444e-02, 9.691472352e-02, 1.890982687e-01, 3.160229623e-01, 1.299054772e-01, -2.775862217e-01, -5.940974355e-01, -2.442122251e-01, -1.443983316e-01, 3.865911067e-02, 9.882246703e-02, 7.371556014e-02, 1.065484509e-01]],
};

#[rustfmt::skip]
static GRU_BI: Ref = Ref {
    outs: &[&[6.449304223e-01, 5.366766453e-02, 8.006237745e-01, -3.063903451e-01, 1.155374944e-01, 1.913306117e-01, 3.068769276e-01, 6.322579384e-01, 3.672623038e-01, 4.882518053e-01, 2.713179588e-01, 7.148012519e-03, -5.747373104e-01, 4.703320265e-01, 4.622739553e-01, 1.663601398e-02, -5.928659439e-02, 6.467938423e-01, 5.469842553e-01, -8.096568286e-02, -1.319998801e-01, -7.641627640e-02, 6.897017360e-01, 3.672274649e-01, 1.941743791e-01, 2.708117366e-01, 8.179550767e-01, 9.256953001e-02, 2.952290475e-01, 4.558861256e-02, 4.544847012e-01, 5.656718016e-01, 1.064213663e-01, 6.048298478e-01, 1.574307978e-01, 2.684799433e-01, -1.330612302e-01, 4.186667502e-01, 5.446056128e-01, -5.700026751e-01, -6.230137944e-01, 5.623880029e-01, -1.944479346e-02, 2.663836479e-01, -2.730274498e-01, 5.478864163e-02, 6.224006414e-01, 4.799829423e-01, -1.195557714e-01, 1.860034615e-01, 6.706141233e-01, 3.835710883e-01, 3.460210562e-02, 2.498679757e-01, 1.785559058e-01, 7.034038305e-01, -1.167754270e-02, 6.016638279e-01, 5.005723238e-02, 4.707127512e-01, -7.006802559e-01, 5.240020752e-01, 1.773135364e-01, 2.724880278e-01, -2.353242785e-01, 7.229695916e-01, 4.456146955e-01, 2.929311991e-01, -4.436031282e-01, -1.058894098e-01, 1.310376823e-01, 6.052988172e-01, 7.554452121e-02, 3.736102581e-01, 7.652732134e-01, 3.747298717e-01, -3.194625080e-01, -6.894445419e-01, -6.663123369e-01, 6.072369814e-01], &[1.064213663e-01, 6.048298478e-01, 1.574307978e-01, 2.684799433e-01, 7.554452121e-02, 3.736102581e-01, 7.652732134e-01, 3.747298717e-01, 1.155374944e-01, 1.913306117e-01, 3.068769276e-01, 6.322579384e-01, -2.730274498e-01, 5.478864163e-02, 6.224006414e-01, 4.799829423e-01]],
    x_grad: &[-1.512233019e-01, -2.131425142e-01, -1.748174727e-01, 6.008921862e-01, 3.942150474e-01, 2.132356167e-03, 2.496302128e-01, 1.613088548e-01, -2.878520638e-03, -5.341510475e-02, -1.413914561e-01, -1.628692448e-01, -1.732938886e-01, -5.506718904e-02, 8.905840665e-02, 2.360316813e-01, 3.462985754e-01, 2.936958075e-01, 1.847457290e-01, 4.060150981e-01, 4.363293052e-01, -4.009459019e-01, -2.199566662e-01, 6.448167562e-02, -3.342489004e-01, -2.989663482e-01, -1.230751872e-01, -9.516970813e-02, -1.737925112e-01, -1.706779748e-01],
    p_grads: &[&[4.786573350e-02, 1.107587200e-02, -3.092313930e-02, 3.815249726e-02, 2.465080842e-02, -4.445407540e-04, -3.830992803e-02, -4.756260663e-02, -3.444584459e-02, 6.899113208e-02, 9.751930088e-02, 8.018263429e-02, -1.241337359e-01, 1.461227089e-01, 3.476553559e-01, 1.020833477e-01, 1.219390780e-01, 8.444491029e-02, 1.484151185e-01, 3.473031223e-01, 3.828490973e-01, 8.765770495e-02, 8.166171610e-02, 3.725896031e-02, 2.977564633e-01, 5.261499882e-01, 5.070869923e-01, 2.007668167e-01, 1.828600913e-01, 7.895141095e-02, 3.207685053e-01, 5.543440580e-01, 5.272030234e-01, -3.956875205e-01, -4.471225291e-02, 3.272918463e-01], &[1.636396050e-01, 9.477598965e-02, 5.409785733e-02, -7.536798716e-02, 1.474736482e-01, 9.457726777e-02, 6.652668118e-02, -5.432859436e-02, 3.400187939e-03, 1.048206538e-02, 5.070018768e-02, 8.935214952e-03, 1.805420965e-03, -1.814487949e-02, -6.561396271e-02, -2.815157734e-02, -3.293482363e-01, -1.210705191e-01, -1.137469187e-01, 1.085775048e-01, -1.658321023e-01, 2.395424247e-02, 8.399382234e-02, 1.208556443e-01, 8.159517497e-02, -3.510110825e-02, -2.659074068e-01, -1.563763022e-01, 1.961806267e-01, -1.124674082e-02, -1.110732257e-01, -1.462318301e-01, 1.085463524e+00, 6.464834809e-01, 1.897026151e-01, -4.451613426e-01, 7.311674953e-01, 5.345727801e-01, 4.377675951e-01, -2.556338608e-01, 2.373125851e-01, -9.513383731e-03, -3.355472535e-02, -3.048444688e-01, 5.440638959e-02, -1.446504593e-01, 7.220327854e-02, -1.583106518e-01], &[6.414658576e-02, -7.223857194e-02, 7.424259931e-02, 4.218767211e-02, 7.285652161e-01, 4.079523683e-01, -1.958988309e-01, 1.788032800e-02, 4.294428527e-01, 5.693197250e-02, -3.823279142e-01, 1.743363142e-01], &[6.414657831e-02, -7.223857194e-02, 7.424260676e-02, 4.218767583e-02, 7.285652161e-01, 4.079523087e-01, -1.958988458e-01, 1.788032055e-02, 5.693382025e-02, 1.938307434e-01, -3.022987247e-01, 4.450832307e-02], &[7.628593594e-04, -2.213837579e-02, -3.462759033e-02, -7.816208154e-02, -5.278278515e-02, -2.578926273e-03, -3.391086683e-02, 7.264638785e-03, 4.502347484e-02, -5.364819989e-02, -2.404801548e-02, 1.686232537e-02, 2.878729105e-01, 1.414535195e-01, -7.149373740e-02, 8.164393716e-03, 9.343003854e-03, 6.127435248e-03, 1.318866313e-01, 7.098961622e-02, -2.329491824e-02, -1.399661899e-01, -9.471800923e-02, -4.922509193e-03, -7.958590984e-02, -2.519100606e-01, -3.057570159e-01, -6.087948009e-02, 2.485128641e-01, 4.410255849e-01, -6.634719372e-01, -2.592634857e-01, 2.668804824e-01, -4.134597182e-01, -2.000562698e-01, 1.074368283e-01], &[2.424578369e-02, -3.507688642e-03, -3.265791340e-03, -1.472022384e-02, -5.933327600e-02, -2.299722657e-02, -8.436910808e-02, 1.107654423e-01, -9.022454917e-02, -8.837170899e-02, -1.570806652e-01, 5.108489841e-02, -5.507073924e-02, -8.579079807e-02, -7.918345928e-02, 7.776928693e-02, 1.128212921e-02, -2.809613012e-02, -2.536538839e-01, -2.628872693e-01, 2.074822038e-02, -3.909506649e-02, 1.876704395e-02, 4.240516573e-04, 1.046559364e-01, 1.180809140e-01, 7.500954717e-02, -1.779014319e-01, 2.993267775e-02, 3.280965686e-01, 4.062559009e-01, 5.881902575e-02, 1.113132164e-01, 3.414509296e-01, 5.250199139e-02, 3.523959965e-02, -6.141048670e-01, -4.261333346e-01, -8.655285835e-01, 1.901029795e-01, -7.290897369e-01, -8.733705282e-01, -1.229839087e+00, 8.967587352e-01, -6.008849740e-01, -5.365343094e-01, -3.877884746e-01, 5.017529726e-01], &[4.627173394e-02, 1.581618339e-01, -2.398589551e-01, 1.982753575e-01, 3.156727552e-02, -3.956441879e-01, -4.536454082e-01, -9.968589991e-02, -4.484542012e-01, -5.005952716e-01, 5.181028247e-01, 6.350069642e-01], &[4.627173394e-02, 1.581618339e-01, -2.398589402e-01, 1.982753575e-01, 3.156727552e-02, -3.956441581e-01, -4.536454082e-01, -9.968584776e-02, -2.645954490e-01, -5.108886957e-01, 5.668596029e-01, 2.999337614e-01]],
};

#[rustfmt::skip]
static MHA: Ref = Ref {
    outs: &[&[2.409952283e-01, 4.170622826e-01, -2.258214206e-01, -3.498992920e-01, 2.547014058e-01, 1.728828847e-01, 2.206150442e-01, -9.470046759e-01, 2.271695137e-01, 4.314637482e-01, -2.391344756e-01, -3.392130136e-01, 2.576673329e-01, 1.678951681e-01, 2.270481735e-01, -9.541398287e-01, 2.265887856e-01, 4.381494224e-01, -2.511525154e-01, -3.232513666e-01, 2.551002800e-01, 1.663503349e-01, 2.325262874e-01, -9.629182816e-01], &[1.490943730e-01, 3.141516745e-01, 5.367538929e-01, 1.162746251e-01, 2.925155163e-01, 5.912098885e-01, 1.515350491e-01, 3.021247387e-01, 5.463401675e-01, 3.410214186e-01, 6.589785814e-01, 0.000000000e+00, 3.419569731e-01, 6.580430269e-01, 0.000000000e+00, 4.197665155e-01, 5.802335143e-01, 0.000000000e+00]],
    x_grad: &[-3.926558048e-02, -7.799294591e-02, -8.003900945e-02, -4.444146901e-02, 2.801094577e-02, 6.190184876e-02, 6.667933613e-02, 4.009649158e-02, 3.631317988e-02, 2.387166023e-02, 2.029240131e-04, -2.356124483e-02, -3.616700321e-02, -2.904979140e-02, -8.269995451e-03, 1.639930904e-02, -4.336796701e-02, -6.926874816e-02, -6.259138882e-02, -2.647629008e-02, 7.877363823e-03, 1.163852401e-02, 9.925904684e-03, 3.544976003e-03],
    p_grads: &[&[-1.678347960e-02, -2.652592584e-02, -2.379281074e-02, -9.869568050e-03, 2.595710382e-02, 3.817683458e-02, 3.244141489e-02, 1.144827530e-02, 3.590624034e-02, 3.665218130e-02, 2.016001195e-02, -5.813708063e-03, -3.389559686e-02, -3.569145873e-02, -2.070105821e-02, 4.025366623e-03, 5.613462999e-02, 2.719078586e-02, -1.454132050e-02, -4.943441227e-02, -5.481515825e-02, -2.490120754e-02, 1.672418043e-02, 5.048391968e-02, -2.274077944e-02, -7.926978171e-03, 1.061500702e-02, 2.416458540e-02, 4.139650241e-02, 1.684995927e-02, -1.562138274e-02, -4.074574634e-02, 2.015673071e-01, 4.198871255e-01, 4.407274723e-01, 2.542867959e-01, 4.874134064e-01, 1.075338483e+00, 1.157515168e+00, 6.952943206e-01, 5.043809414e-01, 1.203347087e+00, 1.336360216e+00, 8.408622742e-01, 3.272758722e-01, 7.869198322e-01, 8.764631152e-01, 5.537920594e-01], &[-7.073272020e-03, 1.286512241e-02, 3.095561825e-02, -3.130656481e-02, 8.475035429e-08, -8.754432201e-08, -2.235174179e-08, 1.443549991e-08, -1.590231061e-02, 1.547768712e-01, 2.526620626e-01, 2.317163050e-01], &[1.943144321e+00, -3.520184994e+00, 4.374916077e+00, -4.845185280e+00, 2.195420265e+00, -3.200720072e+00, 4.101063251e+00, -4.755725384e+00, 1.415155888e+00, -1.375906944e+00, 1.898416400e+00, -2.429572821e+00, -3.067839146e-02, 1.096016884e+00, -1.197085023e+00, 1.039245367e+00], &[2.201199532e-01, -3.720231652e-01, -7.891981602e-01, -8.352008462e-01]],
};

#[rustfmt::skip]
static TEL_POST: Ref = Ref {
    outs: &[&[-5.494509935e-01, 1.431365162e-01, 5.589185953e-01, 6.271400452e-01, -6.130437255e-01, 2.001824975e-01, 5.560840964e-01, 6.214598417e-01, -3.571068347e-01, 3.796692938e-02, 5.612248182e-01, 6.649613380e-01, -6.676633954e-01, 2.234247178e-01, 5.536257029e-01, 5.968382955e-01, 1.619772636e-03, -2.785997689e-01, 5.420067906e-01, 5.285191536e-01, -6.355364323e-01, 2.096239775e-01, 5.551594496e-01, 6.116513610e-01]],
    x_grad: &[-1.044704616e-01, 3.599244356e-02, 1.132047549e-02, -1.433816832e-02, 2.588025331e-01, -2.334275991e-01, -1.830294728e-01, 1.803732961e-01, -2.174336016e-01, -2.285302803e-02, 1.493883282e-01, -2.517772093e-02, 1.248962507e-01, -5.274188519e-02, -1.148203835e-01, 1.027324498e-01, 8.315214515e-02, -2.655513585e-02, 2.301106751e-01, -4.071235657e-01, 1.056958959e-01, 2.348605171e-02, -6.603332609e-02, 3.333054110e-02],
    p_grads: &[&[-1.193283824e-03, -1.221894007e-02, -1.749783941e-02, -1.454723068e-02, 1.833018032e-03, 1.812691800e-02, 2.589544654e-02, 2.148494124e-02, -8.174422197e-03, -1.844332553e-03, 5.353175104e-03, 1.003300119e-02, 9.517248720e-03, 3.627551720e-03, -3.968239762e-03, -9.697706439e-03, 2.233327366e-02, 9.834520519e-03, -7.289560512e-03, -2.098524757e-02, -2.951644734e-02, -1.412643772e-02, 7.907458581e-03, 2.622235194e-02, 8.251681924e-03, 7.959886454e-03, 3.924431279e-03, -1.956745982e-03, 1.212644018e-02, 3.058265429e-03, -7.448258810e-03, -1.445174962e-02, -7.084366679e-02, -2.672743797e-01, -3.380017579e-01, -2.497616708e-01, 2.456386201e-02, -2.336040139e-02, -6.029789895e-02, -6.887635589e-02, 6.459344923e-02, 2.127354741e-01, 2.608246803e-01, 1.862439811e-01, 7.919475436e-02, 3.463512063e-01, 4.506133199e-01, 3.429449201e-01], &[-9.636105970e-03, 1.110542472e-02, 1.705266535e-02, -1.872172393e-02, -1.390435500e-08, 1.688022166e-08, 1.117587090e-08, -2.328306437e-08, 9.724863619e-02, 2.664404511e-01, 3.103211522e-01, 2.082529366e-01], &[-2.380044460e-01, 2.058627307e-01, -3.784373403e-01, 5.767695308e-01, 2.063119859e-01, -1.530489624e-01, 2.958605289e-01, -4.661251009e-01, 2.059766650e-01, -5.234213471e-01, 6.523476839e-01, -7.694013119e-01, -1.742842048e-01, 4.706073999e-01, -5.697706938e-01, 6.587567329e-01], &[2.595306337e-01, -2.393206060e-01, 7.430799305e-02, -9.451796860e-02], &[-2.057903819e-02, -6.768991705e-03, -1.500321366e-02, -6.860793568e-03, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 4.040560219e-03, -8.145425469e-03, -1.086868718e-02, 4.063742701e-03, -2.329557538e-01, 1.772540212e-01, 2.021564245e-01, -1.978196204e-01, -4.781297222e-02, 5.450052768e-02, 6.898829341e-02, -4.856022447e-02, 1.598169953e-01, -9.388542175e-02, -9.662610292e-02, 1.235377863e-01], &[2.678090334e-02, 0.000000000e+00, 1.578891277e-02, -4.608138204e-01, -1.367734671e-01, 2.515935898e-01], &[-9.653088637e-03, 0.000000000e+00, 1.066204906e-02, -2.083586752e-01, -3.132599592e-02, -5.328310132e-01, -2.898608102e-03, 0.000000000e+00, -2.623995300e-03, 7.679896057e-02, 3.026715517e-01, 3.372016251e-01, 2.559980785e-04, 0.000000000e+00, 2.929815557e-03, 5.087680183e-04, -5.131724291e-03, 1.285482757e-02, 1.229570247e-02, 0.000000000e+00, -1.096786838e-02, 1.310509443e-01, -2.662137747e-01, 1.827746928e-01], &[-5.344164371e-01, 6.573960781e-01, 2.466410398e-03, -1.254459023e-01], &[9.541708231e-01, 2.183849961e-01, 1.033452153e-01, 1.055021167e+00], &[-5.400252342e-01, 5.611495972e-01, -1.391515136e-01, -2.458301783e-01], &[-1.396938562e+00, 1.773152351e+00, 1.450560331e+00, -5.963851810e-01], &[2.201199532e-01, -3.720231652e-01, -7.891981602e-01, -8.352008462e-01]],
};

#[rustfmt::skip]
static TEL_PRE: Ref = Ref {
    outs: &[&[1.784713984e+00, 1.972439885e+00, 4.033125043e-01, -7.796682119e-01, 2.828371525e-02, -3.386080265e-03, -6.795719266e-01, -5.937852859e-01, 1.384871483e+00, 2.011412144e+00, 9.163365364e-01, -1.334281266e-01, 6.071597934e-01, 2.249773145e-01, -1.069343567e+00, -1.139092088e+00, 7.667077780e-01, 1.574608207e+00, 1.024118185e+00, 3.847267628e-01, 1.262138724e+00, 7.753767371e-01, -9.101471305e-01, -1.449746132e+00]],
    x_grad: &[8.335815072e-01, 2.736216784e-01, -4.269559383e-01, -9.000407457e-01, -1.048763156e+00, -7.884085774e-01, 2.631770372e-01, 8.211903572e-01, 9.928980470e-01, 8.122428656e-01, 2.479237318e-01, -4.146531224e-01, -9.053484201e-01, -9.729458094e-01, -5.479670167e-01, 9.156979620e-02, 7.267901301e-01, 1.003421068e+00, 8.029747009e-01, 2.279997021e-01, -4.470800459e-01, -9.126172662e-01, -9.564148188e-01, -5.524978638e-01],
    p_grads: &[&[-3.489262890e-03, 2.165111946e-04, -3.954886924e-03, 6.346767768e-03, 1.290085842e-03, 1.810000686e-04, 2.752332482e-03, -4.706888925e-03, -1.031678636e-03, 2.585725742e-04, -1.653118525e-03, 3.688616445e-03, 4.427623935e-03, -1.026835525e-03, 1.884488040e-03, -2.693620743e-03, -6.785597652e-03, -1.814228017e-05, -1.921619987e-03, -3.305595601e-03, 5.584827624e-03, 2.418751828e-04, 1.429336146e-03, 3.816154320e-03, 1.936916145e-03, -1.852702117e-04, 6.762656849e-04, 2.423957631e-05, -5.452108104e-03, -8.972524083e-04, -9.518849547e-04, -6.916865241e-03, -3.109878674e-02, -6.156252697e-03, -2.236228622e-02, -9.050276130e-04, -8.172719926e-02, -9.262854606e-02, -1.452723742e-01, -3.095391206e-02, -8.254717290e-02, -1.333868057e-01, -1.980599910e-01, -3.067637235e-02, -5.968215317e-02, -1.131998971e-01, -1.608111411e-01, -3.178510815e-02], &[3.829703201e-03, -3.409129567e-03, 1.612886670e-03, 8.995318785e-05, -1.862645149e-09, 3.492459655e-09, 8.847564459e-09, 1.862645149e-09, 2.398172580e-02, 2.504613101e-01, 3.591451645e-01, 2.989174128e-01], &[-2.425792515e-01, 1.148732752e-01, -1.151745915e-01, 1.634300649e-01, 2.676599026e-01, 9.670044482e-02, 2.025401592e-01, -4.891172051e-01, 3.627241850e-01, 6.417019665e-02, 2.362588644e-01, -5.362947583e-01, 4.923516512e-01, -1.906879619e-02, 2.935925126e-01, -6.011280417e-01], &[1.899522841e-01, -5.782465935e-01, -6.596126556e-01, -7.283953428e-01], &[1.594056562e-02, -3.920735791e-03, -1.319066994e-02, -1.312512089e-03, -7.835279405e-02, 7.910702378e-02, -4.702109843e-03, 1.313254517e-02, 4.833058454e-03, 1.007302105e-02, -1.856589876e-02, -2.453449997e-04, 5.244360119e-02, -2.550845966e-02, -6.020916626e-03, -4.198076203e-03, 7.146082819e-02, -8.677841723e-02, 5.364459753e-02, -5.515606143e-03, 1.294993907e-01, -1.748838723e-01, 6.836920977e-02, -2.562011965e-02], &[-2.999806777e-02, -1.009591762e-02, -4.195234179e-02, -8.172312751e-03, 1.262560040e-01, 1.561652124e-01], &[-3.725871444e-02, -1.677595824e-01, 3.734616935e-02, -3.659402132e-01, 3.646390736e-01, -2.859103084e-01, 6.347096711e-02, -1.241130009e-01, 1.361338198e-01, -6.615130305e-01, 4.170821905e-01, -7.698294520e-01, 1.343492717e-01, -2.209412679e-02, 1.708956361e-01, -6.459659338e-01, 2.733649909e-01, -8.916858435e-01, 1.420410275e-01, 9.031597525e-02, 1.252825558e-01, -3.266110122e-01, 1.079998910e-03, -5.941684246e-01], &[2.201199532e-01, -3.720231652e-01, -7.891981602e-01, -8.352008462e-01], &[7.067488506e-03, -3.162435815e-02, -3.006978519e-02, 1.568177715e-02], &[-4.961907491e-02, -7.487763464e-02, -6.492006779e-02, -2.442958206e-02], &[8.942219615e-02, -1.940106750e-01, 8.287502453e-03, -2.234588750e-02], &[-2.334780246e-02, -1.559149940e-02, -5.022920668e-04, 1.482318714e-02]],
};

#[rustfmt::skip]
static TENC: Ref = Ref {
    outs: &[&[-9.908505678e-01, -2.628459334e-01, 5.521667600e-01, 5.032150149e-01, -1.000559092e+00, -2.407798022e-01, 5.493882298e-01, 5.028085709e-01, -9.641078115e-01, -3.186405897e-01, 5.578049421e-01, 5.042027235e-01, -1.006055951e+00, -2.278329730e-01, 5.480394363e-01, 5.025294423e-01, -8.694058061e-01, -4.781536162e-01, 5.714935660e-01, 5.058670640e-01, -1.002847075e+00, -2.354371846e-01, 5.488362908e-01, 5.026944280e-01]],
    x_grad: &[-4.555039108e-03, -2.164015081e-03, -6.677284837e-04, -9.903816972e-04, -3.287864476e-02, 2.490223572e-02, 2.454159409e-02, -1.960629411e-02, 3.593564406e-02, -2.270867489e-02, -1.819297299e-02, -1.281287987e-02, -2.283241227e-02, 1.564611495e-02, 1.791217178e-02, -1.864812337e-02, 3.889745101e-02, 3.018789180e-02, 3.162323497e-03, -8.151943982e-02, -2.533449046e-02, 8.387602866e-03, 1.216943935e-02, -8.940074593e-03],
    p_grads: &[&[6.714784831e-05, -7.263250882e-04, -1.178196049e-03, -1.075942884e-03, -1.292306551e-04, 8.741073543e-04, 1.466338988e-03, 1.368928584e-03, 9.230528376e-04, 2.711779671e-03, 3.225114197e-03, 2.221627394e-03, -1.061153249e-03, -3.003335092e-03, -3.533001756e-03, -2.401042264e-03, 1.946793054e-03, 7.812477998e-04, -7.517306367e-04, -1.931158477e-03, -1.145553193e-03, -3.134087892e-04, 6.661365042e-04, 1.332387561e-03, -4.204395227e-03, -2.500475384e-03, 3.794571385e-04, 3.080925439e-03, 4.293777514e-03, 2.010986907e-03, -1.217602054e-03, -3.873534035e-03, 5.881438963e-03, 2.934078500e-02, 3.900070488e-02, 3.031798080e-02, 1.740359887e-02, 5.430888757e-02, 6.567186117e-02, 4.614833370e-02, 1.378622930e-02, 5.035855994e-02, 6.324647367e-02, 4.638858512e-02, 1.155317388e-02, 2.710036375e-02, 2.990183234e-02, 1.863999851e-02], &[-2.291565761e-03, 3.421494737e-03, 7.016937598e-04, -4.003412323e-04, -2.195520210e-09, 1.531589078e-09, -6.984919310e-10, 6.402842700e-10, -3.572172299e-02, 1.108590234e-02, 5.267964303e-02, 6.949733198e-02], &[3.570461646e-02, -8.522441983e-02, 1.075092405e-01, -1.287385374e-01, -4.123235866e-02, -5.557926372e-03, -2.201972157e-02, 6.085694581e-02, -3.878071159e-02, 1.509463973e-02, -3.997651115e-02, 7.328712195e-02, 4.430845007e-02, 7.568772882e-02, -4.551303387e-02, -5.405499600e-03], &[8.261231706e-03, 7.730682194e-02, 5.516400188e-02, -1.407320499e-01], &[3.499147668e-02, 1.150962524e-02, 2.551064827e-02, 1.166572049e-02, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, -2.820150694e-03, 5.685183220e-03, 7.585912477e-03, -2.836331027e-03, -8.368131518e-02, -1.621067338e-02, -4.757788777e-02, -2.378053777e-02, -4.418729246e-02, -3.015288338e-02, -5.571013317e-02, -6.010444835e-03, 1.608871296e-02, -2.991371602e-02, -3.764102608e-02, 1.458645891e-02], &[-4.553679004e-02, 0.000000000e+00, -1.102003455e-02, 8.694197237e-02, 1.045080945e-01, 7.292240858e-02], &[3.015124938e-03, 0.000000000e+00, -1.210991642e-03, 3.470622376e-02, -2.236051671e-02, 9.011909366e-02, -1.084048068e-03, 0.000000000e+00, 1.058714697e-03, -1.137826405e-02, 3.187810257e-02, -8.797764778e-03, -1.613375382e-03, 0.000000000e+00, -4.858158063e-04, -2.562805079e-02, -3.600625694e-02, -1.047070101e-01, -3.177016042e-04, 0.000000000e+00, 6.380925770e-04, 2.300093416e-03, 2.648867667e-02, 2.338568307e-02], &[5.522207916e-02, 2.664428949e-02, -1.323561966e-01, 5.048984289e-02], &[-3.545738757e-01, -7.638477534e-02, -7.722809911e-03, -1.026076525e-01], &[3.358586133e-02, 3.371161222e-02, -9.990921617e-02, 9.305617213e-02], &[1.369835287e-01, 2.624711096e-01, 8.857671171e-03, 7.375962287e-02], &[-5.650601536e-02, -1.329013705e-02, -3.227137029e-03, 1.423441917e-01], &[-9.542153748e-06, -2.240635695e-05, 6.293370825e-05, 6.607358955e-05, 9.792759556e-06, 2.292030513e-05, -6.449033390e-05, -6.774799840e-05, -8.043594789e-06, -1.555738709e-05, 4.274454477e-05, 4.296156840e-05, 6.512896107e-06, 1.338887250e-05, -3.625620593e-05, -3.647237463e-05, -8.491247718e-05, 7.239154365e-05, 4.050174539e-06, 2.791211409e-05, 3.790310802e-05, -3.222408122e-05, -1.789859425e-06, -1.230239832e-05, -3.843854756e-06, 2.870711342e-06, 1.111043275e-07, 6.000626627e-07, 1.896265603e-04, -1.391977421e-04, -4.725561666e-06, -2.406145359e-05, 4.083337262e-02, -2.503074706e-02, -9.847335517e-03, -1.087403670e-02, 2.625170164e-02, -2.917037159e-02, 2.271997742e-02, 2.488172613e-02, -1.259054989e-03, -1.914490201e-02, 4.461967573e-02, 4.903978854e-02, -2.757850848e-02, -5.749153206e-04, 4.551533610e-02, 5.002410710e-02], &[1.147937728e-04, -1.176239821e-04, 7.838074089e-05, -6.647920236e-05, 2.169144864e-09, -9.822542779e-10, 6.730260793e-11, -8.149072528e-10, -1.764552854e-02, 4.111620784e-02, 8.054035157e-02, 8.208508790e-02], &[-4.704510421e-02, -2.565543726e-02, 1.089473814e-02, 2.914639190e-04, -4.654414952e-02, -1.293297857e-03, 5.331113935e-03, -1.113561913e-02, -2.015816420e-02, -5.699553061e-03, 3.473463235e-03, -2.392355353e-03, 1.137474701e-01, 3.264829889e-02, -1.969932020e-02, 1.323651522e-02], &[-7.359351963e-02, -3.795906156e-02, -2.387530729e-02, 1.354279369e-01], &[8.913373947e-02, 5.561250821e-02, 7.525227964e-02, 9.414178878e-02, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 2.109610438e-01, 4.647619650e-02, 1.186890006e-01, 1.329054981e-01, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, -1.589736342e-01, -6.997606903e-02, -1.138509884e-01, -1.370215416e-01], &[1.202021390e-01, 0.000000000e+00, 2.057162970e-01, 0.000000000e+00, 0.000000000e+00, -1.873791516e-01], &[-2.851219177e-01, 0.000000000e+00, -9.470343590e-02, 0.000000000e+00, 0.000000000e+00, -1.842559502e-02, 3.468136787e-01, 0.000000000e+00, 1.311661005e-01, 0.000000000e+00, 0.000000000e+00, 1.510315016e-02, -2.096854746e-01, 0.000000000e+00, -9.422098100e-02, 0.000000000e+00, 0.000000000e+00, -2.323820489e-03, 1.479936540e-01, 0.000000000e+00, 5.775826797e-02, 0.000000000e+00, 0.000000000e+00, 5.646263715e-03], &[-2.634684443e-01, 3.016007543e-01, -1.644305587e-01, 1.262981594e-01], &[8.813636899e-01, 1.852901876e-01, -6.914839149e-02, 2.469155490e-01], &[-4.207565784e-01, 2.635172307e-01, -6.539823115e-02, 3.158698976e-01], &[-2.165389955e-01, -6.001004949e-02, -1.494441777e-01, -3.341820240e-01], &[-9.940055013e-02, 4.324698150e-01, 8.481751382e-02, -4.178868532e-01], &[-1.922262274e-02, 5.317846537e-01, 6.122736931e-01, 8.147742748e-01], &[2.201199532e-01, -3.720231652e-01, -7.891981602e-01, -8.352008462e-01]],
};

#[rustfmt::skip]
static EMB: Ref = Ref {
    outs: &[&[7.625552267e-02, 3.766641915e-01, 4.999217987e-01, 8.455334604e-02, 3.821397126e-01, 4.999998212e-01, 7.625552267e-02, 3.766641915e-01, 4.999217987e-01, -4.650529623e-01, -4.739999175e-01, -2.600173056e-01, 3.827021718e-01, 8.541373163e-02, -2.520461380e-01, 3.880583644e-01, 9.368503094e-02, -2.447498441e-01]],
    x_grad: &[],
    p_grads: &[&[8.172547817e-01, 2.538233697e-01, -4.289851189e-01, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, 1.016006991e-01, 7.185925245e-01, 9.976190925e-01, 0.000000000e+00, 0.000000000e+00, 0.000000000e+00, -9.029366970e-01, -9.674718380e-01, -5.769898891e-01, -9.100351930e-01, -9.630814791e-01, -5.631754994e-01]],
};

#[rustfmt::skip]
static ADAPTIVE: Ref = Ref {
    outs: &[&[5.920515060e-01, 5.882778764e-01, -1.712421775e-01, -7.003229856e-01, -3.862954080e-01, -2.559524775e-02, 3.751213551e-01, 2.955508530e-01, 3.584073484e-02, -5.466749072e-01, -4.384875596e-01, 2.199287713e-01, 2.314875126e-01, 6.371550560e-01, 2.323936820e-01, -4.572412372e-01, -4.231103361e-01, -2.483570576e-01, 2.488813251e-01, 4.229742289e-01, 4.562444687e-01, -2.334706038e-01, -6.369303465e-01, -2.302694917e-01]],
    x_grad: &[2.067071646e-01, 2.517156303e-01, 4.500845447e-02, -2.394759282e-02, -6.895604730e-02, -2.946902215e-01, -2.257341743e-01, 4.546186328e-02, 2.636034042e-02, -1.910153404e-02, -7.862874866e-02, -5.952721834e-02, -1.674617231e-01, -1.079345047e-01, -1.612453014e-01, -2.253552973e-01, -6.410998851e-02, -5.468115956e-02, 9.428827092e-03, 1.272284985e-01, 1.177996695e-01, 8.783431351e-02, 1.599334478e-01, 7.209914178e-02, 1.238318682e-01, 5.173271894e-02, 6.228610873e-02, 1.055338979e-02, 2.490796149e-01, 3.852887452e-01, 1.362091303e-01, 1.785130203e-01, 4.230389372e-02, -6.494238973e-02, -1.072462797e-01, -2.275087982e-01, -3.880223632e-01, -1.605135798e-01, -2.543761730e-01, -9.386258572e-02, -6.846240908e-02, 2.540017478e-02, -1.077433750e-01, -1.574103534e-01, -4.966700822e-02, -5.381295085e-02, -4.145942628e-03, 6.084160507e-02, 6.498754770e-02, 1.197654232e-01, 2.306119949e-01, 1.108465716e-01, 2.005632222e-01, 8.971664310e-02, 1.293040216e-01, 3.958737105e-02, 8.737258613e-03, -3.322890401e-02, -4.196616262e-02, -1.119859964e-01, -7.001984119e-02, -1.677329540e-01, -9.771312028e-02, -1.110281646e-01, -2.638409138e-01, -1.528127342e-01, -3.125492334e-01, -1.597364843e-01, -2.970369756e-01, -1.373004913e-01],
    p_grads: &[],
};

#[rustfmt::skip]
static AVGPOOL: Ref = Ref {
    outs: &[&[2.710565031e-01, 4.240677059e-01, 3.537119552e-02, -3.569672583e-03, -5.445086397e-03, -3.631181316e-04, 2.839873135e-01, 4.225755632e-01, 2.108735777e-02, 1.771114022e-01, -2.634383142e-01, -3.743069172e-01, -2.182374476e-03, 3.459890606e-03, 4.769411404e-03, 1.622196883e-01, -2.745328546e-01, -3.672775924e-01]],
    x_grad: &[2.067071646e-01, 2.517156303e-01, 4.500845447e-02, -2.394759282e-02, -6.895604730e-02, -6.895604730e-02, 5.621771514e-02, -6.270691752e-03, -6.248841807e-02, -1.955544651e-01, -1.330660284e-01, -1.330660284e-01, -1.504894495e-01, -2.579863071e-01, -1.074968725e-01, -1.716068685e-01, -6.410998851e-02, -6.410998851e-02, -1.292745918e-01, -1.189717799e-01, 1.030279696e-02, 1.122458726e-01, 1.019430831e-01, 1.019430831e-01, 2.121486142e-02, 1.390145272e-01, 1.177996695e-01, 2.838527560e-01, 1.660530716e-01, 1.660530716e-01, 2.043136954e-01, 2.466175854e-01, 4.230389372e-02, -2.919362858e-02, -7.149752229e-02, -7.149752229e-02, 5.264116824e-02, -1.206399500e-02, -6.470516324e-02, -1.987777352e-01, -1.340725720e-01, -1.340725720e-01, -1.516725272e-01, -2.586815953e-01, -1.070090532e-01, -1.695841104e-01, -6.257505715e-02, -6.257505715e-02, -1.262723505e-01, -1.135159954e-01, 1.275637001e-02, 1.164511666e-01, 1.036947966e-01, 1.036947966e-01, 2.540017478e-02, 1.451655924e-01, 1.197654232e-01, 2.860352695e-01, 1.662698537e-01, 1.662698537e-01],
    p_grads: &[],
};

#[rustfmt::skip]
static ACTS: Ref = Ref {
    outs: &[&[1.927116394e+00, 1.818594813e+00, 8.547597528e-01, -1.022164449e-01, -3.273108602e-01, -3.984658420e-01, -2.822161317e-01, -3.323576227e-02, 1.156879544e+00, 1.935839295e+00], &[1.875153303e+00, 1.755825520e+00, 6.868326068e-01, -1.557181776e-01, -8.340549469e-02, -4.606594890e-02, -1.118630096e-01, -7.212319970e-02, 1.013615966e+00, 1.884691358e+00], &[1.682237387e+00, 1.564714313e+00, 5.996692181e-01, -1.916251183e-01, -2.666511238e-01, -2.391007245e-01, -2.766616642e-01, -7.620140165e-02, 8.801137209e-01, 1.691719055e+00], &[-1.965755969e-02, -3.880748525e-02, -3.076734245e-01, -1.840764165e+00, -3.600094795e+00, -3.939103127e+00, -3.268482685e+00, -1.328611970e+00, -1.728023738e-01, -2.770132013e-02], &[1.875118017e+00, 1.755877733e+00, 6.869344711e-01, -1.556995064e-01, -8.323810250e-02, -4.615709186e-02, -1.116312966e-01, -7.212295383e-02, 1.013818860e+00, 1.884648681e+00], &[8.729298711e-01, 8.603973985e-01, 7.015646696e-01, 3.749398887e-01, 1.629344821e-01, 1.200106516e-01, 1.960636824e-01, 4.585506320e-01, 7.607651949e-01, 8.738943338e-01], &[9.584996700e-01, 9.486981034e-01, 6.935479045e-01, -4.707880020e-01, -9.269893169e-01, -9.634816051e-01, -8.877233863e-01, -1.646658182e-01, 8.200203180e-01, 9.592027664e-01], &[4.246260524e-01, 3.809573054e-01, 1.453075111e-01, 3.707750142e-02, 1.203162037e-02, 1.202940382e-02, 2.151181735e-02, 7.470181584e-02, 2.804969251e-01, 6.112600565e-01]],
    x_grad: &[3.606961966e-01, 2.695774734e-01, -4.382620454e-01, 2.441079170e-01, 2.767647505e-01, -2.683570683e-01, -4.669356048e-01, 2.378691882e-01, 3.197566271e-01, -2.076469660e-01],
    p_grads: &[],
};

#[rustfmt::skip]
static SMOOTH_L1: Ref = Ref {
    outs: &[&[5.698942542e-01], &[4.116696358e+00]],
    x_grad: &[-8.198387921e-02, -1.556445360e-01, -1.556445360e-01, -1.556445360e-01, 8.327741176e-03, 1.556445360e-01, 1.556445360e-01, 1.556445360e-01, 6.629072130e-02, -8.543153107e-02, -1.556445360e-01, -1.556445360e-01],
    p_grads: &[],
};

#[rustfmt::skip]
static BCE: Ref = Ref {
    outs: &[&[8.039875031e-01], &[2.047353745e+00, 1.414959073e+00, 6.443189979e-01, 8.908346891e-01, 1.747925997e+00, 1.919946909e+00, 9.007774591e-01, 6.537505388e-01, 1.304895163e+00, 2.053437233e+00, 1.387516141e+00, 6.385281682e-01]],
    x_grad: &[-2.246852160e+00, -3.840061426e+00, -6.516477466e-02, 1.313061714e+00, -1.735845357e-01, -5.339596272e+00, -1.769158244e+00, 1.043582678e+00, 1.448820710e+00, -2.488605499e+00, -3.714326382e+00, -4.612770397e-03],
    p_grads: &[],
};

#[rustfmt::skip]
static BCE_LOGITS: Ref = Ref {
    outs: &[&[9.104338288e-01], &[2.060085678e+01]],
    x_grad: &[-2.449675202e-01, -1.786587536e-01, -3.325782344e-02, 1.642288566e-01, 2.665536404e-01, 2.378152460e-01, 1.212499812e-01, -6.464473903e-02, -2.316135764e-01, -2.533709705e-01, -1.726307273e-01, -2.784008160e-02],
    p_grads: &[],
};

#[rustfmt::skip]
static KL: Ref = Ref {
    outs: &[&[-1.441509247e+00], &[-4.324527740e+00], &[-3.603773117e-01]],
    x_grad: &[1.929275319e-02, 3.440761566e-02, 4.224773496e-02, 3.242749721e-02, 5.825099349e-02, 2.985301614e-02, 1.976023614e-02, 2.051134780e-02, 1.196225919e-02, 2.363938093e-02, 4.189593345e-02, 5.087801814e-02],
    p_grads: &[],
};

#[rustfmt::skip]
static CE: Ref = Ref {
    outs: &[&[1.081625462e+00], &[1.375916719e+00, 1.998612404e+00, 1.439974904e+00, 1.302189231e+00, 1.225761175e+00], &[1.915214896e+00], &[8.783048391e-01], &[5.404542923e+00]],
    x_grad: &[-6.809555888e-01, 4.324207902e-01, 1.664133370e-01, 8.212148398e-02, 5.583810806e-02, 1.025791839e-01, -1.230515838e-01, -3.536581993e-02, -4.477478564e-03, 4.597321749e-01, -3.386589289e-01, -1.165956408e-01, 1.065733358e-01, 1.118102223e-01, 9.280707687e-02, -3.111906648e-01, 1.438394338e-01, 2.297948599e-01, -6.278194189e-01, 2.541851401e-01],
    p_grads: &[],
};

#[rustfmt::skip]
static SDPA: Ref = Ref {
    outs: &[&[-3.596080542e-01, 1.034098044e-01, 5.177924633e-01, 6.886491776e-01, 5.356234908e-01, 1.306856573e-01, -3.625762835e-02, 6.114383042e-02, 1.297883838e-01, 1.373914778e-01, 8.037719131e-02, -1.443973184e-02, -3.435804546e-01, -4.419470429e-01, -3.324590623e-01, -6.661033630e-02, 2.305662036e-01, 4.193038940e-01, 3.387331963e-01, 2.394111454e-02, -3.021108806e-01, -4.860753715e-01, -4.414310455e-01, -1.891747862e-01, 2.037543803e-01, 2.085884213e-01, 1.153200567e-01, -3.218513727e-02, -1.645531356e-01, -2.195292562e-01, -2.811475992e-01, 3.273331374e-02, 3.312191963e-01, 4.739275575e-01, 3.937403560e-01, 1.283709109e-01], &[-1.576472372e-01, -2.771140635e-01, -2.662498653e-01, -1.301641315e-01, 6.713979691e-02, 2.328668237e-01, -1.936887503e-01, -2.721481323e-01, -2.226120085e-01, -6.837797165e-02, 1.180153191e-01, 2.489041537e-01, -2.526989877e-01, -4.149526358e-01, -3.820475638e-01, -1.694595218e-01, 1.228279397e-01, 3.573475182e-01, -1.564768553e-01, -6.629747152e-02, 5.506266281e-02, 1.505259126e-01, 1.751945317e-01, 1.174663976e-01, 1.515748352e-01, 2.932436168e-01, 2.969953120e-01, 1.610654593e-01, -5.061596632e-02, -2.384919524e-01, -1.479097903e-01, 7.976586372e-02, 2.699263394e-01, 3.331362605e-01, 2.396669835e-01, 3.347857296e-02], &[-7.619835734e-01, -1.656041741e-01, 5.086614490e-01, 9.436956644e-01, 9.348950386e-01, 4.863986969e-01, -7.018611431e-01, -2.301081717e-01, 3.498682380e-01, 7.652962208e-01, 8.207933307e-01, 4.902586043e-01, -1.410846263e-01, -5.674703121e-01, -7.269657850e-01, -5.445578694e-01, -1.060359478e-01, 3.823563457e-01, 9.591758251e-01, 9.158096313e-01, 4.417237937e-01, -2.401116043e-01, -8.090187907e-01, -9.974317551e-01, 5.743235946e-01, 6.827829480e-01, 4.701187611e-01, 3.635038435e-02, -4.145141840e-01, -6.704261899e-01, -3.876143098e-01, -1.168171167e-01, 2.089210302e-01, 4.364002943e-01, 4.586336911e-01, 2.651645541e-01]],
    x_grad: &[1.911927611e-01, -2.011020780e-01, -4.988155365e-01, -5.619281530e-01, -7.605481148e-02, -2.581542730e-02, 3.656544536e-02, 8.174896240e-02, -4.017585814e-01, -4.859771430e-01, -3.416329920e-01, -3.661356866e-02, -1.097619534e-03, 4.973208904e-02, 7.717201114e-02, 6.831675023e-02, 1.329169124e-01, 5.652860403e-01, 7.317922711e-01, 5.541251898e-01, -3.871244192e-02, -2.869615257e-01, -4.002481699e-01, -3.252918720e-01],
    p_grads: &[],
};

// Generator (run with PyTorch installed; prints the statics above):
// # Generates the PyTorch reference constants of tests/tests/nn_modules.rs (torch_parity).
// import math, torch, torch.nn as nn, torch.nn.functional as F
// torch.set_num_threads(1)
//
// def det(shape, seed, scale=1.0, offset=0.0):
//     n = math.prod(shape)
//     v = [offset + scale * math.sin(seed * 1.3 + i * 0.7) for i in range(n)]
//     return torch.tensor(v, dtype=torch.float64).to(torch.float32).reshape(shape)
//
// def load(m):
//     with torch.no_grad():
//         for k, (_, p) in enumerate(m.named_parameters()):
//             p.copy_(det(list(p.shape), 100 + k, 0.5))
//
// out = []
// def emit(name, outs, x, params):
//     loss = sum((o.double() * det(list(o.shape), 50 + i).double()).sum() for i, o in enumerate(outs))
//     loss.backward()
//     f = lambda t: "&[" + ", ".join(f"{v:.9e}" for v in t.detach().double().flatten().tolist()) + "]"
//     xg = f(x.grad) if x is not None and x.grad is not None else "&[]"
//     pg = "&[" + ", ".join(f(p.grad if p.grad is not None else torch.zeros_like(p)) for p in params) + "]"
//     out.append(f"#[rustfmt::skip]\nstatic {name}: Ref = Ref {{\n    outs: &[{', '.join(f(o) for o in outs)}],\n    x_grad: {xg},\n    p_grads: {pg},\n}};\n")
//
// def leaf(shape, seed=1, scale=1.0, offset=0.0):
//     return det(shape, seed, scale, offset).requires_grad_(True)
//
// def mod_case(name, m, x, fwd):
//     load(m)
//     emit(name, fwd(m, x), x, list(m.parameters()))
//
// def bn(m, x):
//     y = m(x); rm = m.running_mean.clone(); rv = m.running_var.clone(); m.eval(); return [y, rm, rv, m(x)]
// mod_case("BN2D", nn.BatchNorm2d(3), leaf([4, 3, 2, 2]), bn)
// mod_case("BN1D", nn.BatchNorm1d(3), leaf([4, 3, 2]), bn)
// mod_case("LN", nn.LayerNorm([3, 4]), leaf([2, 3, 4]), lambda m, x: [m(x)])
// mod_case("GN", nn.GroupNorm(2, 4), leaf([2, 4, 3]), lambda m, x: [m(x)])
// def lstm(m, x):
//     y, (h, c) = m(x); return [y, h, c]
// mod_case("LSTM2", nn.LSTM(3, 4, num_layers=2), leaf([5, 2, 3]), lstm)
// def gru(m, x):
//     y, h = m(x); return [y, h]
// mod_case("GRU_BF", nn.GRU(3, 4, batch_first=True), leaf([2, 5, 3]), gru)
// mod_case("LSTM_BI", nn.LSTM(3, 4, num_layers=2, bidirectional=True), leaf([5, 2, 3]), lstm)
// mod_case("GRU_BI", nn.GRU(3, 4, batch_first=True, bidirectional=True), leaf([2, 5, 3]), lambda m, x: list(m(x, det([2, 2, 4], 11))))
// kpm = torch.tensor([[False, False, False], [False, False, True]])
// def mha(m, x):
//     y, w = m(x, x, x, key_padding_mask=kpm, need_weights=True); return [y, w]
// mod_case("MHA", nn.MultiheadAttention(4, 2), leaf([3, 2, 4]), mha)
// def tel(m, x):
//     m.eval(); return [m(x)]
// mod_case("TEL_POST", nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0), leaf([3, 2, 4]), tel)
// mod_case("TEL_PRE", nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu", batch_first=True, norm_first=True), leaf([2, 3, 4]), tel)
// enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0), num_layers=2, norm=nn.LayerNorm(4), enable_nested_tensor=False)
// mod_case("TENC", enc, leaf([3, 2, 4]), tel)
// emb = nn.Embedding(6, 3, padding_idx=1); load(emb)
// idx = torch.tensor([[1, 4, 1], [0, 5, 2]])
// emit("EMB", [emb(idx)], None, list(emb.parameters()))
// mod_case("ADAPTIVE", nn.AdaptiveAvgPool2d((3, 4)), leaf([1, 2, 5, 7]), lambda m, x: [m(x)])
// mod_case("AVGPOOL", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), leaf([1, 2, 5, 6]), lambda m, x: [m(x)])
// mod_case("ACTS", nn.Identity(), leaf([2, 5], scale=2.0), lambda m, x: [F.leaky_relu(x, 0.2), F.gelu(x, approximate="tanh"), F.silu(x), torch.log_softmax(x, 0), F.gelu(x), torch.sigmoid(x), torch.tanh(x), torch.softmax(x, 1)])
//
// def loss_case(name, x, fn):
//     emit(name, fn(x), x, [])
// t34 = det([3, 4], 2)
// w4 = det([4], 3, 0.5, 1.0)
// loss_case("SMOOTH_L1", leaf([3, 4]), lambda x: [F.smooth_l1_loss(x, t34, beta=0.5), F.huber_loss(x, t34, reduction="sum", delta=0.7)])
// tp = det([3, 4], 4, 0.5, 0.5)
// loss_case("BCE", leaf([3, 4], scale=0.4, offset=0.5), lambda p: [F.binary_cross_entropy(p, tp, weight=w4), F.binary_cross_entropy(p, tp, reduction="none")])
// loss_case("BCE_LOGITS", leaf([3, 4], scale=3.0), lambda x: [F.binary_cross_entropy_with_logits(x, tp, weight=w4, pos_weight=w4), F.binary_cross_entropy_with_logits(x, tp, reduction="sum")])
// kt = torch.softmax(det([3, 4], 5), -1)
// loss_case("KL", leaf([3, 4]), lambda x: [F.kl_div(x, kt, reduction="batchmean"), F.kl_div(x, kt.log(), reduction="sum", log_target=True), F.kl_div(x, kt, reduction="mean")])
// tgt = torch.tensor([0, 2, 1, 3, 2])
// w4c = det([4], 6, 0.5, 1.0)
// loss_case("CE", leaf([5, 4], scale=2.0), lambda x: [
//     F.cross_entropy(x, tgt, weight=w4c, ignore_index=2, label_smoothing=0.1),
//     F.cross_entropy(x, tgt, weight=w4c, reduction="none", label_smoothing=0.2),
//     F.cross_entropy(x, torch.softmax(det([5, 4], 7), -1), weight=w4c, label_smoothing=0.1),
//     F.cross_entropy(x.reshape(5, 2, 2).transpose(1, 2), torch.tensor([[0, 1], [1, 0], [0, 0], [1, 1], [1, 0]])),
//     F.nll_loss(torch.log_softmax(x, 1), tgt, weight=w4c, ignore_index=1, reduction="sum"),
// ])
// kq, vq = det([2, 5, 4], 8), det([2, 5, 6], 9)
// bmask = torch.tensor([[True, False, True, True, False], [True, True, True, False, True], [False, True, True, True, True]])
// loss_case("SDPA", leaf([2, 3, 4]), lambda q: [
//     F.scaled_dot_product_attention(q, kq, vq, attn_mask=bmask),
//     F.scaled_dot_product_attention(q, kq, vq, attn_mask=det([3, 5], 10), scale=0.3),
//     F.scaled_dot_product_attention(q, kq[:, :3], vq[:, :3], is_causal=True),
// ])
// print(f"// Generated by torch {torch.__version__} (see torch_parity).\n")
// print("\n".join(out))

#[test]
fn conv1d_module_init_keys_and_errors() {
    use lantern::nn::{Conv1d, Conv1dOpts};
    lantern::manual_seed(5);
    let opts = Conv1dOpts {
        groups: 2,
        ..Default::default()
    };
    let m = Conv1d::new(4, 6, 3, opts, true, &cpu()).unwrap();
    assert_eq!(keys(&m), ["weight", "bias"]);
    assert_eq!(m.weight.dims(), [6, 2, 3]);
    // PyTorch's default: kaiming_uniform(a = √5) and the bias both give U(±1/√fan_in).
    let bound = 1.0 / (6.0f64).sqrt();
    for p in m.parameters() {
        let v = p.to_f64_vec();
        assert!(v.iter().all(|x| x.abs() <= bound), "{v:?}");
        assert!(v.iter().any(|x| x.abs() > bound / 2.0), "{v:?}");
    }
    let y = m
        .forward(&Tensor::ones([2, 4, 5], DType::F32, &cpu()))
        .unwrap();
    assert_eq!(y.dims(), [2, 6, 3]);
    let unbatched = m
        .forward(&Tensor::ones([4, 5], DType::F32, &cpu()))
        .unwrap();
    assert_eq!(unbatched.dims(), [6, 3]);
    assert_eq!(
        keys(&Conv1d::new(4, 6, 3, Conv1dOpts::default(), false, &cpu()).unwrap()),
        ["weight"]
    );

    let bad = Conv1dOpts {
        groups: 3,
        ..Default::default()
    };
    let e = Conv1d::new(4, 6, 3, bad, true, &cpu())
        .err()
        .expect("groups");
    assert!(
        e.to_string().contains("Conv1d") && e.to_string().contains("groups"),
        "{e}"
    );
    let e = m
        .forward(&Tensor::ones([2, 5, 5], DType::F32, &cpu()))
        .expect_err("channels");
    assert!(e.to_string().contains("conv1d"), "{e}");
}

#[test]
fn cross_entropy_target_dtype_errors_name_the_loss() {
    let logits = Tensor::zeros([4, 3], DType::F32, &cpu());
    // Class indices as floats: the classic mistake. Float targets are probabilities, which
    // must have the logits' shape, so the error says so and names int64.
    let floats = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 1.0], [4], &cpu());
    let e = F::cross_entropy(&logits, &floats, Reduction::Mean, 0.0).expect_err("f32 target");
    let s = e.to_string();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "cross_entropy",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        s.contains("int64") && s.contains("[4, 3]") && s.contains("[4]"),
        "{s}"
    );
    let bools = Tensor::from_slice(&[true, false, true, true], [4], &cpu());
    let e = F::cross_entropy(&logits, &bools, Reduction::Mean, 0.0).expect_err("bool target");
    assert!(
        matches!(
            e,
            Error::DType {
                op: "cross_entropy",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("bool"), "{e}");
    let e =
        F::nll_loss_ext(&logits, &floats, &CrossEntropyOptions::default()).expect_err("f32 target");
    assert!(matches!(e, Error::DType { op: "nll_loss", .. }), "{e:?}");
    assert!(e.to_string().contains("float32"), "{e}");
    // Probabilities of the right shape are a valid target for both forms.
    let probs = Tensor::full([4, 3], 1.0 / 3.0, DType::F32, &cpu());
    let l = F::cross_entropy(&logits, &probs, Reduction::Mean, 0.0).unwrap();
    assert!((l.item::<f32>() - 3f32.ln()).abs() < 1e-6);
}

#[test]
fn load_state_dict_mismatches_name_the_key() {
    let l = Linear::new(3, 2, true, &cpu()).unwrap();
    let before = l.weight.to_f64_vec();
    let w = Tensor::zeros([2, 3], DType::F32, &cpu());
    let b = Tensor::zeros([2], DType::F32, &cpu());
    let load = |sd: Vec<(&str, Tensor)>| {
        let sd: Vec<(String, Tensor)> = sd.into_iter().map(|(k, t)| (k.into(), t)).collect();
        l.load_state_dict(&sd).expect_err("mismatch").to_string()
    };
    let e = load(vec![("weight", w.clone())]);
    assert!(e.contains("missing keys [\"bias\"]"), "{e}");
    let e = load(vec![
        ("weight", w.clone()),
        ("bias", b.clone()),
        ("fc.bias", b.clone()),
    ]);
    assert!(e.contains("unexpected keys [\"fc.bias\"]"), "{e}");
    let e = load(vec![("weight", w.t()), ("bias", b.clone())]);
    assert!(
        e.contains("weight") && e.contains("[2, 3]") && e.contains("[3, 2]"),
        "{e}"
    );
    let e = load(vec![
        ("weight", w.to_dtype(DType::F64)),
        ("bias", b.clone()),
    ]);
    assert!(e.contains("weight") && e.contains("float64"), "{e}");
    // A failed load changes nothing, not even the keys that matched.
    let e = load(vec![
        ("weight", w.clone()),
        ("bias", Tensor::zeros([3], DType::F32, &cpu())),
    ]);
    assert!(e.contains("bias"), "{e}");
    assert_eq!(l.weight.to_f64_vec(), before);
}

#[test]
fn module_to_moves_parameters_buffers_and_gradients() {
    use lantern::cpu::CpuDriver;
    use lantern::nn::{
        MultiheadAttention, Sequential, TransformerEncoder, TransformerEncoderLayerOptions, LSTM,
    };
    use std::sync::Arc;
    let other = Device::new(Arc::new(CpuDriver::new()));
    assert!(other != cpu());
    let opts = TransformerEncoderLayerOptions {
        dim_feedforward: 8,
        dropout: 0.0,
        ..Default::default()
    };
    let mut list = ModuleList::new();
    list.push(
        Sequential::new()
            .add(Linear::new(4, 4, true, &cpu()).unwrap())
            .add(BatchNorm1d::new(4, &cpu()).unwrap()),
    );
    list.push(TransformerEncoder::new(4, 2, opts, 2, true, &cpu()).unwrap());
    list.push(LSTM::new(4, 3, &cpu()).unwrap());
    list.push(MultiheadAttention::new(4, 2, &cpu()).unwrap());
    list.push(Embedding::new(5, 4, None, &cpu()).unwrap());
    list.push(GroupNorm::new(2, 4, &cpu()).unwrap());
    list.push(LayerNorm::new(&[4], &cpu()).unwrap());
    let before = list.state_dict();
    let params = list.named_parameters().len();
    let w0 = before[0].1.clone();
    w0.set_grad(Some(w0.ones_like()));

    list.to(&other).unwrap();
    let after = list.state_dict();
    assert_eq!(after.len(), before.len());
    for ((k, a), (_, b)) in after.iter().zip(&before) {
        assert!(a.device() == &other, "{k} on {}", a.device());
        assert_eq!(a.to_f64_vec(), b.to_f64_vec(), "{k}");
        assert_eq!(a.dtype(), b.dtype(), "{k}");
        assert_eq!(a.requires_grad(), b.requires_grad(), "{k}");
    }
    assert_eq!(list.named_parameters().len(), params);
    let g = list.named_parameters()[0].1.grad().expect("gradient moved");
    assert!(g.device() == &other);
    assert_eq!(g.to_f64_vec(), vec![1.0; 16]);

    // The moved model runs on the new device, and refuses inputs from the old one.
    let seq = list.get(0).unwrap();
    let x = Tensor::ones([3, 4], DType::F32, &other);
    let y = seq.forward(&x).unwrap();
    assert!(y.device() == &other);
    y.sum(None, false).backward();
    let e = seq
        .forward(&Tensor::ones([3, 4], DType::F32, &cpu()))
        .expect_err("input on the old device");
    assert!(matches!(e, Error::Device { .. }), "{e:?}");
    // Moving to where it already is changes nothing.
    let ptr = Arc::as_ptr(list.state_dict()[0].1.storage());
    list.to(&other).unwrap();
    assert_eq!(Arc::as_ptr(list.state_dict()[0].1.storage()), ptr);
}

#[test]
fn module_to_reports_a_tensor_its_module_did_not_move() {
    // A user module that lists its weight but does not implement visit_tensors_mut.
    struct Opaque(Tensor);
    impl Module for Opaque {
        fn forward(&self, x: &Tensor) -> lantern::Result<Tensor> {
            x.try_mul(&self.0)
        }
        fn named_parameters(&self) -> Vec<(String, Tensor)> {
            vec![("scale".into(), self.0.clone())]
        }
    }
    let other = Device::new(std::sync::Arc::new(lantern::cpu::CpuDriver::new()));
    let mut m = Opaque(Tensor::ones([2], DType::F32, &cpu()));
    let e = m.to(&other).expect_err("not moved").to_string();
    assert!(e.contains("Module::to") && e.contains("scale"), "{e}");
    // Nothing to move is fine.
    assert!(GELU::default().to(&other).is_ok());
}
