//! Optimizers, gradient clipping and LR schedulers against PyTorch: the values in
//! `tests/fixtures/optim.json` (written by `tests/gen_optim_fixtures.py`, whose docstring
//! describes them). Optimizers run in float64 on a fixed quadratic through Lantern's autograd
//! and must match torch's first 5 steps to ~1e-12; schedulers' rates to ~1e-12.
//! Also: optimizer state saved mid-run (through safetensors) resumes bit-identically, and bad
//! state dicts and arguments are errors.

use lantern::io::StateDict;
use lantern::optim::{
    clip_grad_norm_, clip_grad_value_, Adagrad, Adam, Anneal, CosineAnnealingLR, ExponentialLR,
    LinearLR, LrScheduler, MultiStepLR, OneCycleLR, OneCycleOpts, Optimizer, RMSprop, Sgd, StepLR,
};
use lantern::{io, DType, Device, Error, Tensor};
use lantern_tests::fixtures::{fixtures_dir, Json};

fn fixture() -> Json {
    let text = std::fs::read_to_string(fixtures_dir().join("optim.json"))
        .expect("tests/fixtures/optim.json: run tests/gen_optim_fixtures.py");
    Json::parse(&text).expect("optim.json parses")
}

fn floats(j: &Json) -> Vec<f64> {
    fn walk(j: &Json, out: &mut Vec<f64>) {
        match j.as_arr() {
            Some(a) => a.iter().for_each(|x| walk(x, out)),
            None => out.push(j.as_f64().unwrap_or_else(|| panic!("not a number: {j}"))),
        }
    }
    let mut v = Vec::new();
    walk(j, &mut v);
    v
}

fn f(j: &Json, k: &str) -> f64 {
    j.get(k)
        .and_then(Json::as_f64)
        .unwrap_or_else(|| panic!("no float {k}"))
}

fn close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = rtol * w.abs().max(1e-3);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: lantern {g:e} vs torch {w:e} (diff {:e})",
            (g - w).abs()
        );
    }
}

struct Problem {
    x: Tensor,
    y: Tensor,
    a: Tensor,
    t: Tensor,
    c: Tensor,
    u: Tensor,
}

impl Problem {
    fn new(fx: &Json) -> Problem {
        Problem::with_dtype(fx, DType::F64)
    }

    fn with_dtype(fx: &Json, dt: DType) -> Problem {
        let cpu = Device::cpu();
        let t = |k: &str, shape: &[usize]| {
            Tensor::from_slice(&floats(fx.get(k).unwrap()), shape.to_vec(), &cpu).to_dtype(dt)
        };
        Problem {
            x: t("x0", &[3]).requires_grad_(true),
            y: t("y0", &[2, 2]).requires_grad_(true),
            a: t("a", &[3]),
            t: t("t", &[3]),
            c: t("c", &[2, 2]),
            u: t("u", &[2, 2]),
        }
    }

    fn params(&self) -> Vec<Tensor> {
        vec![self.x.clone(), self.y.clone()]
    }

    /// `sum(a (x - t)(x - t)) + sum(c (y - u)(y - u))`, backward; returns the loss.
    fn loss_backward(&self) -> f64 {
        let dx = self.x.sub(&self.t);
        let dy = self.y.sub(&self.u);
        let l = self
            .a
            .mul(&dx)
            .mul(&dx)
            .sum(None, false)
            .add(&self.c.mul(&dy).mul(&dy).sum(None, false));
        l.backward();
        l.to_f64_vec()[0]
    }
}

fn kw_f(kw: &Json, k: &str) -> Option<f64> {
    kw.get(k).and_then(Json::as_f64)
}

fn kw_b(kw: &Json, k: &str) -> bool {
    kw.get(k).and_then(Json::as_bool).unwrap_or(false)
}

fn make(cls: &str, kw: &Json, params: Vec<Tensor>) -> Box<dyn Optimizer> {
    match cls {
        "SGD" => {
            let mut o = Sgd::new(params, kw_f(kw, "lr").unwrap());
            o.momentum = kw_f(kw, "momentum").unwrap_or(0.0);
            o.dampening = kw_f(kw, "dampening").unwrap_or(0.0);
            o.weight_decay = kw_f(kw, "weight_decay").unwrap_or(0.0);
            o.nesterov = kw_b(kw, "nesterov");
            Box::new(o)
        }
        "Adam" | "AdamW" => {
            let lr = kw_f(kw, "lr").unwrap();
            let mut o = if cls == "Adam" {
                Adam::new(params, lr)
            } else {
                Adam::adamw(params, lr)
            };
            if let Some(b) = kw.get("betas") {
                let b = floats(b);
                o.betas = (b[0], b[1]);
            }
            if let Some(w) = kw_f(kw, "weight_decay") {
                o.weight_decay = w;
            }
            o.amsgrad = kw_b(kw, "amsgrad");
            Box::new(o)
        }
        "RMSprop" => {
            let mut o = RMSprop::new(params, kw_f(kw, "lr").unwrap_or(0.01));
            o.alpha = kw_f(kw, "alpha").unwrap_or(0.99);
            o.momentum = kw_f(kw, "momentum").unwrap_or(0.0);
            o.weight_decay = kw_f(kw, "weight_decay").unwrap_or(0.0);
            o.centered = kw_b(kw, "centered");
            Box::new(o)
        }
        "Adagrad" => {
            let mut o = Adagrad::new(params, kw_f(kw, "lr").unwrap_or(0.01));
            o.lr_decay = kw_f(kw, "lr_decay").unwrap_or(0.0);
            o.weight_decay = kw_f(kw, "weight_decay").unwrap_or(0.0);
            o.initial_accumulator_value = kw_f(kw, "initial_accumulator_value").unwrap_or(0.0);
            Box::new(o)
        }
        _ => panic!("unknown optimizer {cls}"),
    }
}

/// Runs `steps` steps; returns (losses, x after each step, y after each step).
fn run(p: &Problem, opt: &mut dyn Optimizer, steps: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut ls, mut xs, mut ys) = (vec![], vec![], vec![]);
    for _ in 0..steps {
        opt.zero_grad();
        ls.push(p.loss_backward());
        opt.step().unwrap();
        xs.extend(p.x.to_f64_vec());
        ys.extend(p.y.to_f64_vec());
    }
    (ls, xs, ys)
}

fn cases<'a>(fx: &'a Json, k: &str) -> &'a [Json] {
    fx.get(k).and_then(Json::as_arr).unwrap()
}

fn s<'a>(c: &'a Json, k: &str) -> &'a str {
    c.get(k).and_then(Json::as_str).unwrap()
}

#[test]
fn optimizers_match_torch_for_five_steps() {
    let fx = fixture();
    let all = cases(&fx, "optimizers");
    assert_eq!(all.len(), 12);
    for c in all {
        let name = s(c, "name");
        let p = Problem::new(&fx);
        let mut opt = make(s(c, "optimizer"), c.get("kwargs").unwrap(), p.params());
        let (ls, xs, ys) = run(&p, opt.as_mut(), 5);
        close(
            &ls,
            &floats(c.get("losses").unwrap()),
            1e-12,
            &format!("{name} loss"),
        );
        close(
            &xs,
            &floats(c.get("x").unwrap()),
            1e-12,
            &format!("{name} x"),
        );
        close(
            &ys,
            &floats(c.get("y").unwrap()),
            1e-12,
            &format!("{name} y"),
        );
    }
}

#[test]
fn optimizers_in_float32_track_torch() {
    // The same runs with float32 parameters and state: the f64 trajectory to f32 accuracy.
    let fx = fixture();
    for c in cases(&fx, "optimizers") {
        let name = s(c, "name");
        let p = Problem::with_dtype(&fx, DType::F32);
        let mut opt = make(s(c, "optimizer"), c.get("kwargs").unwrap(), p.params());
        let (_, xs, ys) = run(&p, opt.as_mut(), 5);
        assert_eq!(p.x.dtype(), DType::F32);
        let want: Vec<f64> = floats(c.get("x").unwrap())
            .into_iter()
            .chain(floats(c.get("y").unwrap()))
            .collect();
        assert_eq!(xs.len() + ys.len(), want.len());
        for (i, (g, w)) in xs.iter().chain(&ys).zip(&want).enumerate() {
            // Parameters are O(1): f32 rounding over 5 steps, relative to max(|w|, 1).
            let tol = 2e-5 * w.abs().max(1.0);
            assert!((g - w).abs() <= tol, "{name} f32 [{i}]: {g} vs torch {w}");
        }
    }
}

#[test]
fn optimizer_state_resumes_bit_identically_through_safetensors() {
    let fx = fixture();
    for c in cases(&fx, "optimizers") {
        let name = s(c, "name");
        let (cls, kw) = (s(c, "optimizer"), c.get("kwargs").unwrap());
        let p = Problem::new(&fx);
        let mut opt = make(cls, kw, p.params());
        let whole = run(&p, opt.as_mut(), 5);

        let q = Problem::new(&fx);
        let mut first = make(cls, kw, q.params());
        let (mut ls, mut xs, mut ys) = run(&q, first.as_mut(), 2);
        let sd = first.state_dict().unwrap();
        let bytes = io::save_state_dict(&sd).unwrap();
        drop(first);
        let mut second = make(cls, kw, q.params());
        second.set_lr(123.0);
        second
            .load_state_dict(&io::load_state_dict(&bytes).unwrap())
            .unwrap();
        assert_eq!(
            second.lr(),
            kw_f(kw, "lr").unwrap_or(0.01),
            "{name}: lr restored"
        );
        let (l2, x2, y2) = run(&q, second.as_mut(), 3);
        ls.extend(l2);
        xs.extend(x2);
        ys.extend(y2);
        assert_eq!((ls, xs, ys), whole, "{name}: resumed run differs");
    }
}

#[test]
fn optimizer_state_dict_keys_and_errors() {
    let fx = fixture();
    let p = Problem::new(&fx);
    let mut adam = Adam::new(p.params(), 0.1);
    adam.amsgrad = true;
    run(&p, &mut adam, 1);
    let keys: Vec<String> = adam
        .state_dict()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        [
            "state.0.step",
            "state.0.exp_avg",
            "state.0.exp_avg_sq",
            "state.0.max_exp_avg_sq",
            "state.1.step",
            "state.1.exp_avg",
            "state.1.exp_avg_sq",
            "state.1.max_exp_avg_sq",
            "param_groups.0.lr",
        ]
    );
    let sd = adam.state_dict().unwrap();
    assert_eq!(sd[0].1.dtype(), DType::F32);
    assert_eq!(sd[0].1.item::<f32>(), 1.0);

    let cpu = Device::cpu();
    let bad: Vec<(&str, StateDict, &str)> = vec![
        (
            "unknown name",
            vec![("state.0.momentum_buffer".into(), p.x.detach())],
            "unexpected key",
        ),
        (
            "unknown key",
            vec![("lr".into(), p.x.detach())],
            "unexpected key",
        ),
        (
            "index",
            vec![("state.2.exp_avg".into(), p.x.detach())],
            "parameter 2",
        ),
        (
            "shape",
            vec![("state.1.exp_avg".into(), p.x.detach())],
            "shape",
        ),
        (
            "step",
            vec![(
                "state.0.step".into(),
                Tensor::from_slice(&[-1.0f32], Vec::<usize>::new(), &cpu),
            )],
            "step count",
        ),
    ];
    for (what, sd, needle) in bad {
        let before = adam.state_dict().unwrap();
        let e = adam.load_state_dict(&sd).unwrap_err().to_string();
        assert!(e.contains(needle), "{what}: {e}");
        let after = adam.state_dict().unwrap();
        assert_eq!(before.len(), after.len(), "{what}: state changed on error");
    }
    // SGD keeps no step count; a fresh optimizer's state is only the lr.
    let sgd = Sgd::new(p.params(), 0.1).momentum(0.9);
    let keys: Vec<String> = sgd
        .state_dict()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["param_groups.0.lr"]);
}

#[test]
fn clipping_matches_torch() {
    let fx = fixture();
    let clip = fx.get("clip").unwrap();
    let cpu = Device::cpu();
    let setup = || {
        let p1 = Tensor::zeros([3], DType::F64, &cpu).requires_grad_(true);
        let p2 = Tensor::zeros([2, 2], DType::F64, &cpu).requires_grad_(true);
        p1.set_grad(Some(Tensor::from_slice(
            &floats(clip.get("g1").unwrap()),
            [3],
            &cpu,
        )));
        p2.set_grad(Some(Tensor::from_slice(
            &floats(clip.get("g2").unwrap()),
            [2, 2],
            &cpu,
        )));
        vec![p1, p2]
    };
    for c in clip.get("norm").and_then(Json::as_arr).unwrap() {
        let ps = setup();
        let nt = f(c, "norm_type");
        let total = clip_grad_norm_(&ps, f(c, "max_norm"), nt).unwrap();
        let what = format!("clip_grad_norm_ max_norm {} p {nt}", f(c, "max_norm"));
        close(&[total.item::<f64>()], &[f(c, "total")], 1e-13, &what);
        close(
            &ps[0].grad().unwrap().to_vec::<f64>(),
            &floats(c.get("g1").unwrap()),
            1e-13,
            &what,
        );
        close(
            &ps[1].grad().unwrap().to_vec::<f64>(),
            &floats(c.get("g2").unwrap()),
            1e-13,
            &what,
        );
    }
    for c in clip.get("value").and_then(Json::as_arr).unwrap() {
        let ps = setup();
        clip_grad_value_(&ps, f(c, "clip")).unwrap();
        assert_eq!(
            ps[0].grad().unwrap().to_vec::<f64>(),
            floats(c.get("g1").unwrap())
        );
        assert_eq!(
            ps[1].grad().unwrap().to_vec::<f64>(),
            floats(c.get("g2").unwrap())
        );
    }
    // No gradients at all: a zero norm, nothing touched.
    let bare = vec![Tensor::zeros([2], DType::F32, &cpu)];
    assert_eq!(clip_grad_norm_(&bare, 1.0, 2.0).unwrap().item::<f32>(), 0.0);
}

fn sched_for(c: &Json, opt: &mut dyn Optimizer) -> lantern::Result<Box<dyn LrScheduler>> {
    let kw = c.get("kwargs").unwrap();
    let i = |k: &str, d: u64| kw.get(k).and_then(Json::as_i64).map_or(d, |v| v as u64);
    let g = |k: &str, d: f64| kw_f(kw, k).unwrap_or(d);
    Ok(match s(c, "scheduler") {
        "StepLR" => Box::new(StepLR::new(opt, i("step_size", 0), g("gamma", 0.1))?),
        "MultiStepLR" => {
            let ms: Vec<u64> = floats(kw.get("milestones").unwrap())
                .iter()
                .map(|&m| m as u64)
                .collect();
            Box::new(MultiStepLR::new(opt, &ms, g("gamma", 0.1))?)
        }
        "ExponentialLR" => Box::new(ExponentialLR::new(opt, g("gamma", 0.0))?),
        "CosineAnnealingLR" => Box::new(CosineAnnealingLR::new(
            opt,
            i("T_max", 0),
            g("eta_min", 0.0),
        )?),
        "LinearLR" => Box::new(LinearLR::new(
            opt,
            g("start_factor", 1.0 / 3.0),
            g("end_factor", 1.0),
            i("total_iters", 5),
        )?),
        "OneCycleLR" => {
            let d = OneCycleOpts::default();
            let o = OneCycleOpts {
                pct_start: g("pct_start", d.pct_start),
                anneal_strategy: match kw.get("anneal_strategy").and_then(Json::as_str) {
                    Some("linear") => Anneal::Linear,
                    _ => Anneal::Cos,
                },
                cycle_momentum: kw
                    .get("cycle_momentum")
                    .and_then(Json::as_bool)
                    .unwrap_or(true),
                base_momentum: g("base_momentum", d.base_momentum),
                max_momentum: g("max_momentum", d.max_momentum),
                div_factor: g("div_factor", d.div_factor),
                final_div_factor: g("final_div_factor", d.final_div_factor),
                three_phase: kw_b(kw, "three_phase"),
            };
            Box::new(OneCycleLR::new(
                opt,
                g("max_lr", 0.0),
                i("total_steps", 0),
                o,
            )?)
        }
        other => panic!("unknown scheduler {other}"),
    })
}

fn sched_opt(c: &Json) -> (Tensor, Box<dyn Optimizer>) {
    let p = Tensor::zeros([2], DType::F64, &Device::cpu()).requires_grad_(true);
    let lr = f(c, "lr");
    let opt: Box<dyn Optimizer> = match s(c, "optimizer") {
        "SGD" => Box::new(Sgd::new(vec![p.clone()], lr).momentum(0.9)),
        "Adam" => Box::new(Adam::new(vec![p.clone()], lr)),
        "Adagrad" => Box::new(Adagrad::new(vec![p.clone()], lr)),
        o => panic!("unknown optimizer {o}"),
    };
    (p, opt)
}

#[test]
fn schedulers_match_torch() {
    let fx = fixture();
    let all = cases(&fx, "schedulers");
    assert_eq!(all.len(), 13);
    for c in all {
        let name = s(c, "name");
        let (p, mut opt) = sched_opt(c);
        let mut sched = sched_for(c, opt.as_mut()).unwrap();
        let mut lrs = vec![sched.get_last_lr()];
        let mut moms = vec![opt.momentum_or_beta1()];
        assert_eq!(opt.lr(), sched.get_last_lr());
        let steps = c.get("steps").and_then(Json::as_i64).unwrap();
        for _ in 0..steps {
            p.set_grad(Some(p.ones_like()));
            opt.step().unwrap();
            sched.step(opt.as_mut()).unwrap();
            lrs.push(sched.get_last_lr());
            moms.push(opt.momentum_or_beta1());
            assert_eq!(opt.lr(), sched.get_last_lr());
        }
        assert_eq!(sched.last_epoch(), steps as u64);
        close(
            &lrs,
            &floats(c.get("lrs").unwrap()),
            1e-12,
            &format!("{name} lr"),
        );
        if let Some(m) = c.get("momentum") {
            let got: Vec<f64> = moms.iter().map(|m| m.unwrap()).collect();
            close(&got, &floats(m), 1e-12, &format!("{name} momentum"));
        }
        if s(c, "scheduler") == "OneCycleLR" {
            // PyTorch raises past total_steps; so does Lantern, leaving the rate alone.
            let lr = opt.lr();
            assert!(
                sched.step(opt.as_mut()).is_err(),
                "{name}: stepped past total_steps"
            );
            assert_eq!(opt.lr(), lr);
        }
    }
}

#[test]
fn scheduler_arguments_are_checked() {
    let p = Tensor::zeros([2], DType::F32, &Device::cpu()).requires_grad_(true);
    let mut sgd = Sgd::new(vec![p.clone()], 0.1);
    assert!(matches!(
        StepLR::new(&mut sgd, 0, 0.5),
        Err(Error::Arg { .. })
    ));
    assert!(CosineAnnealingLR::new(&mut sgd, 0, 0.0).is_err());
    assert!(LinearLR::new(&mut sgd, 0.0, 1.0, 5).is_err());
    assert!(LinearLR::new(&mut sgd, 0.5, 1.5, 5).is_err());
    assert!(OneCycleLR::new(&mut sgd, 0.1, 0, OneCycleOpts::default()).is_err());
    let bad_pct = OneCycleOpts {
        pct_start: 1.5,
        ..OneCycleOpts::default()
    };
    assert!(OneCycleLR::new(&mut sgd, 0.1, 10, bad_pct).is_err());
    let mut ada = Adagrad::new(vec![p], 0.1);
    let e = OneCycleLR::new(&mut ada, 0.1, 10, OneCycleOpts::default()).unwrap_err();
    assert!(e.to_string().contains("momentum"), "{e}");
    // None of the failed constructions changed the rate.
    assert_eq!(sgd.lr(), 0.1);
    assert_eq!(ada.lr(), 0.1);
}

/// Issue 3: optimizer updates run in place and, after the first step, take nothing new from
/// the system. The model lives on a private CPU driver, so other tests running in parallel
/// do not touch its memory counters.
#[test]
fn optimizer_steps_are_in_place_and_allocate_nothing_after_the_first() {
    use lantern::cpu::CpuDriver;
    use lantern::nn::functional::{cross_entropy, Reduction};
    use lantern::nn::{Linear, Module, ReLU, Sequential};
    use std::sync::Arc;

    type Make = fn(Vec<Tensor>) -> Box<dyn Optimizer>;
    let configs: [(&str, Make); 4] = [
        ("SGD momentum", |p| {
            Box::new(Sgd::new(p, 0.05).momentum(0.9))
        }),
        ("SGD nesterov, weight decay", |p| {
            let mut o = Sgd::new(p, 0.05).momentum(0.9);
            o.nesterov = true;
            o.weight_decay = 1e-4;
            Box::new(o)
        }),
        ("AdamW", |p| Box::new(Adam::adamw(p, 1e-3))),
        ("AdamW amsgrad", |p| {
            let mut o = Adam::adamw(p, 1e-3);
            o.amsgrad = true;
            Box::new(o)
        }),
    ];
    for (name, make) in configs {
        let dev = Device::new(Arc::new(CpuDriver::new()));
        let model = Sequential::new()
            .add(Linear::new(64, 32, true, &dev).unwrap())
            .add(ReLU)
            .add(Linear::new(32, 10, true, &dev).unwrap());
        let params = model.parameters();
        let mut opt = make(params.clone());
        let x = Tensor::randn([8, 64], DType::F32, &dev);
        let y = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5, 6, 7], [8], &dev);
        let storages: Vec<_> = params.iter().map(|p| Arc::as_ptr(p.storage())).collect();
        let mut state_storages = Vec::new();
        let mut per_step = Vec::new();
        for step in 0..6 {
            opt.zero_grad();
            let loss =
                cross_entropy(&model.forward(&x).unwrap(), &y, Reduction::Mean, 0.0).unwrap();
            loss.backward();
            let before = dev.memory();
            opt.step().unwrap();
            let after = dev.memory();
            // Optimizer state buffers are created once and then updated where they are.
            let state: Vec<_> = opt
                .state_dict()
                .unwrap()
                .iter()
                .filter(|(k, t)| !k.ends_with(".step") && t.dtype() == DType::F32)
                .map(|(_, t)| Arc::as_ptr(t.storage()))
                .collect();
            if step == 0 {
                assert!(!state.is_empty(), "{name}: no state after the first step");
                // The counter is live: the first step allocates the state.
                assert!(after.allocations > before.allocations, "{name}: {after:?}");
                state_storages = state;
                continue;
            }
            assert_eq!(
                state, state_storages,
                "{name}: step {step} replaced a state buffer"
            );
            assert_eq!(
                after.allocations, before.allocations,
                "{name}: step {step} allocated from the system"
            );
            assert_eq!(
                after.in_use, before.in_use,
                "{name}: step {step} kept memory"
            );
            per_step.push(after.requests - before.requests);
        }
        let now: Vec<_> = params.iter().map(|p| Arc::as_ptr(p.storage())).collect();
        assert_eq!(
            now, storages,
            "{name}: parameters were replaced, not updated in place"
        );
        // Temporaries (scalars, products) come from the pool's cache, the same every step.
        assert!(
            per_step.windows(2).all(|w| w[0] == w[1]),
            "{name}: pool requests per step {per_step:?}"
        );
    }
}
