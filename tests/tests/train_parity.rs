//! Training step for step against PyTorch, and Hessian-vector products through double
//! backward: `tests/fixtures/train.{safetensors,json}`, written by
//! `tests/gen_train_fixtures.py` (its docstring lists every tensor).
//!
//! Training runs in float32 on both sides, as users train. The weights come from torch
//! through `io::load_file` and `Module::load_state_dict`, so the state-dict names are checked
//! too. Tolerances:
//! - losses: [`LOSS_RTOL`] relative at every step (issue 3's requirement);
//! - parameters after 20 steps and one-step gradients: [`PARAM_RTOL`] relative plus
//!   [`PARAM_ATOL`]: f32 rounding differences (Lantern's GEMM blocking and reduction order
//!   are not torch's) summed over 20 updates;
//! - Hessian-vector products run in float64, so [`HVP_TOL`] pins the double-backward rules
//!   themselves.

use lantern::autograd;
use lantern::io::StateDict;
use lantern::nn::functional::{self as F, Reduction};
use lantern::nn::{
    Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, RnnOptions, Sequential,
    TransformerEncoderLayer, TransformerEncoderLayerOptions, LSTM,
};
use lantern::optim::{Adam, Optimizer, Sgd};
use lantern::{io, Conv2dOpts, Device, Tensor};
use lantern_tests::fixtures::{fixtures_dir, Json};

/// Loss at every step, relative.
const LOSS_RTOL: f64 = 1e-4;
/// Parameters and gradients, relative part.
const PARAM_RTOL: f64 = 1e-5;
/// Parameters and gradients, absolute part: values are O(0.1), where an f32 ulp is ~1e-8;
/// the largest difference seen is 9e-8 (CNN, SGD), so this leaves a 10x margin.
const PARAM_ATOL: f64 = 1e-6;
/// Hessian-vector products in float64, relative to max(|want|, 1).
const HVP_TOL: f64 = 1e-10;

struct Fixture {
    sd: StateDict,
    losses: Json,
    hyper: Json,
}

fn fixture() -> Fixture {
    let dir = fixtures_dir();
    let sd = io::load_file(dir.join("train.safetensors"))
        .expect("tests/fixtures/train.safetensors: run tests/gen_train_fixtures.py");
    let text = std::fs::read_to_string(dir.join("train.json")).expect("tests/fixtures/train.json");
    let doc = Json::parse(&text).expect("train.json parses");
    Fixture {
        sd,
        losses: doc.get("losses").expect("losses").clone(),
        hyper: doc.get("hyper").expect("hyper").clone(),
    }
}

impl Fixture {
    fn get(&self, key: &str) -> &Tensor {
        &self
            .sd
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("train.safetensors has no {key}"))
            .1
    }

    /// The entries under `prefix.`, with the prefix stripped (a module's state dict).
    fn under(&self, prefix: &str) -> StateDict {
        let p = format!("{prefix}.");
        let v: StateDict = self
            .sd
            .iter()
            .filter_map(|(k, t)| Some((k.strip_prefix(&p)?.to_string(), t.clone())))
            .collect();
        assert!(!v.is_empty(), "train.safetensors has nothing under {p}");
        v
    }

    fn losses(&self, name: &str) -> Vec<f64> {
        self.losses
            .get(name)
            .and_then(Json::as_arr)
            .unwrap_or_else(|| panic!("no losses for {name}"))
            .iter()
            .map(|v| v.as_f64().expect("loss"))
            .collect()
    }

    fn hyper(&self, opt: &str, key: &str) -> f64 {
        self.hyper
            .get(opt)
            .and_then(|o| o.get(key))
            .and_then(Json::as_f64)
            .unwrap_or_else(|| panic!("no hyper-parameter {opt}.{key}"))
    }

    fn optimizer(&self, name: &str, params: Vec<Tensor>) -> Box<dyn Optimizer> {
        match name {
            "sgd" => Box::new(
                Sgd::new(params, self.hyper("sgd", "lr")).momentum(self.hyper("sgd", "momentum")),
            ),
            "adamw" => {
                let mut o = Adam::adamw(params, self.hyper("adamw", "lr"));
                o.weight_decay = self.hyper("adamw", "weight_decay");
                Box::new(o)
            }
            _ => panic!("unknown optimizer {name}"),
        }
    }
}

/// Largest `|got - want| / |want|` over the pairs, after asserting each is within `rtol`.
fn check_rel(what: &str, got: &[f64], want: &[f64], rtol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let rel = (g - w).abs() / w.abs();
        assert!(
            rel <= rtol,
            "{what}[{i}]: lantern {g:e} vs torch {w:e} (rel {rel:e})"
        );
        worst = worst.max(rel);
    }
    worst
}

/// Compares every tensor of `got` with `want` by name within `atol + rtol·|want|`; returns
/// the largest absolute difference seen.
fn check_tensors(what: &str, got: &StateDict, want: &StateDict, rtol: f64, atol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: number of tensors");
    let mut worst = 0.0f64;
    for (k, w) in want {
        let g = &got
            .iter()
            .find(|(n, _)| n == k)
            .unwrap_or_else(|| panic!("{what}: lantern has no {k}"))
            .1;
        assert_eq!(g.dims(), w.dims(), "{what}: {k} shape");
        for (i, (a, b)) in g.to_f64_vec().iter().zip(w.to_f64_vec()).enumerate() {
            let d = (a - b).abs();
            assert!(
                d <= atol + rtol * b.abs(),
                "{what}: {k}[{i}]: lantern {a:e} vs torch {b:e}"
            );
            worst = worst.max(d);
        }
    }
    worst
}

fn mlp(dev: &Device) -> Sequential {
    Sequential::new()
        .add(Linear::new(64, 32, true, dev).unwrap())
        .add(ReLU)
        .add(Linear::new(32, 16, true, dev).unwrap())
        .add(ReLU)
        .add(Linear::new(16, 10, true, dev).unwrap())
}

fn cnn(dev: &Device) -> Sequential {
    let pad1 = Conv2dOpts {
        padding: [1, 1],
        ..Default::default()
    };
    Sequential::new()
        .add(Conv2d::new(1, 4, [3, 3], pad1, true, dev).unwrap())
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(4, 8, [3, 3], pad1, true, dev).unwrap())
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::default())
        .add(Linear::new(72, 10, true, dev).unwrap())
}

/// 20 steps of each optimizer from torch's initial weights on torch's batches.
fn train_matches_torch(name: &str, make: fn(&Device) -> Sequential) {
    let fx = fixture();
    let dev = Device::cpu();
    let (x, y) = (fx.get(&format!("{name}.x")), fx.get(&format!("{name}.y")));
    let steps = x.dims()[0];
    for opt_name in ["sgd", "adamw"] {
        let run = format!("{name}.{opt_name}");
        let model = make(&dev);
        model
            .load_state_dict(&fx.under(&format!("{name}.init")))
            .unwrap();
        let mut opt = fx.optimizer(opt_name, model.parameters());
        let mut losses = Vec::new();
        for s in 0..steps {
            opt.zero_grad();
            let logits = model.forward(&x.select(0, s as isize)).unwrap();
            let loss =
                F::cross_entropy(&logits, &y.select(0, s as isize), Reduction::Mean, 0.0).unwrap();
            loss.backward();
            opt.step().unwrap();
            losses.push(loss.item::<f32>() as f64);
        }
        let want = fx.losses(&run);
        assert_eq!(want.len(), steps, "{run}: steps");
        let worst = check_rel(&format!("{run} loss"), &losses, &want, LOSS_RTOL);
        let pw = check_tensors(
            &format!("{run} final parameters"),
            &model.state_dict(),
            &fx.under(&format!("{run}.final")),
            PARAM_RTOL,
            PARAM_ATOL,
        );
        println!("{run}: max loss deviation {worst:e} relative, parameters {pw:e} absolute");
    }
}

#[test]
fn mlp_sgd_momentum_and_adamw_match_torch_for_20_steps() {
    train_matches_torch("mlp", mlp);
}

#[test]
fn cnn_sgd_momentum_and_adamw_match_torch_for_20_steps() {
    train_matches_torch("cnn", cnn);
}

/// One step of `opt_name` on `mse_loss(fwd(model, x), target)`: loss, every gradient and
/// every updated parameter against torch.
fn one_step_matches_torch(
    name: &str,
    opt_name: &str,
    model: &dyn Module,
    fwd: impl Fn(&Tensor) -> Tensor,
) {
    let fx = fixture();
    model
        .load_state_dict(&fx.under(&format!("{name}.init")))
        .unwrap();
    let (x, target) = (
        fx.get(&format!("{name}.x")),
        fx.get(&format!("{name}.target")),
    );
    let mut opt = fx.optimizer(opt_name, model.parameters());
    let loss = F::mse_loss(&fwd(x), target, Reduction::Mean).unwrap();
    loss.backward();
    let grads: StateDict = model
        .named_parameters()
        .into_iter()
        .map(|(k, p)| (k, p.grad().expect("every parameter has a gradient")))
        .collect();
    opt.step().unwrap();
    let lw = check_rel(
        &format!("{name} loss"),
        &[loss.item::<f32>() as f64],
        &fx.losses(name),
        LOSS_RTOL,
    );
    let gw = check_tensors(
        &format!("{name} gradients"),
        &grads,
        &fx.under(&format!("{name}.grad")),
        PARAM_RTOL,
        PARAM_ATOL,
    );
    let pw = check_tensors(
        &format!("{name} updated parameters"),
        &model.state_dict(),
        &fx.under(&format!("{name}.after")),
        PARAM_RTOL,
        PARAM_ATOL,
    );
    println!("{name}: loss {lw:e} relative, gradients {gw:e}, parameters {pw:e} absolute");
}

#[test]
fn lstm_step_matches_torch() {
    let lstm = LSTM::with_options(5, 6, RnnOptions::default(), &Device::cpu()).unwrap();
    one_step_matches_torch("lstm", "adamw", &lstm, |x| {
        lstm.forward_with(x, None).unwrap().0
    });
}

#[test]
fn transformer_encoder_layer_step_matches_torch() {
    let opts = TransformerEncoderLayerOptions {
        dim_feedforward: 16,
        dropout: 0.0,
        batch_first: true,
        ..Default::default()
    };
    let tel = TransformerEncoderLayer::with_options(8, 2, opts, &Device::cpu()).unwrap();
    one_step_matches_torch("tel", "sgd", &tel, |x| tel.forward(x).unwrap());
}

/// `H v` by double backward for the parameters named `names` of fixture `name`.
fn hvp_matches_torch(name: &str, names: &[&str], loss_fn: impl Fn(&Fixture, &[Tensor]) -> Tensor) {
    let fx = fixture();
    let leaves: Vec<Tensor> = names
        .iter()
        .map(|k| {
            fx.get(&format!("{name}.param.{k}"))
                .detach()
                .requires_grad_(true)
        })
        .collect();
    let loss = loss_fn(&fx, &leaves);
    let gs = autograd::grad(std::slice::from_ref(&loss), &leaves, None, true, true).unwrap();
    let mut dot = Tensor::zeros([], loss.dtype(), &Device::cpu());
    for (k, g) in names.iter().zip(&gs) {
        let g = g.as_ref().expect("every parameter has a gradient");
        dot = dot.add(&g.mul(fx.get(&format!("{name}.v.{k}"))).sum(None, false));
    }
    let hv = autograd::grad(&[dot], &leaves, None, false, false).unwrap();
    let mut worst = (loss.item::<f64>() - fx.losses(name)[0]).abs();
    assert!(
        worst <= HVP_TOL,
        "{name}: loss {} vs torch {:?}",
        loss.item::<f64>(),
        fx.losses(name)
    );
    for (i, k) in names.iter().enumerate() {
        for (what, got) in [("grad", gs[i].as_ref()), ("hv", hv[i].as_ref())] {
            let got = got
                .unwrap_or_else(|| panic!("{name}: no {what} for {k}"))
                .to_f64_vec();
            let want = fx.get(&format!("{name}.{what}.{k}")).to_f64_vec();
            assert_eq!(got.len(), want.len());
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                let d = (g - w).abs();
                assert!(
                    d <= HVP_TOL * w.abs().max(1.0),
                    "{name}: {what} {k}[{j}]: {g:e} vs torch {w:e}"
                );
                worst = worst.max(d);
            }
        }
    }
    println!("{name}: max deviation {worst:e}");
}

#[test]
fn hessian_vector_product_of_tanh_softplus_mlp_matches_torch() {
    hvp_matches_torch("hvp_mlp", &["w1", "b1", "w2", "b2"], |fx, p| {
        let (x, t) = (fx.get("hvp_mlp.x"), fx.get("hvp_mlp.t"));
        let h = x.matmul(&p[0].t()).add(&p[1]).tanh();
        let z = h.matmul(&p[2].t()).add(&p[3]).softplus(1.0, 20.0);
        let d = z.sub(t);
        d.mul(&d).mean(None, false)
    });
}

#[test]
fn hessian_vector_product_through_matmul_softmax_cross_entropy_matches_torch() {
    hvp_matches_torch("hvp_ce", &["w"], |fx, p| {
        let (x, y) = (fx.get("hvp_ce.x"), fx.get("hvp_ce.y"));
        let z = x.matmul(&p[0]);
        let sm = z.softmax(-1);
        F::cross_entropy(&z, y, Reduction::Mean, 0.0)
            .unwrap()
            .add(&sm.mul(&sm).sum(None, false).mul_scalar(0.5))
    });
}
