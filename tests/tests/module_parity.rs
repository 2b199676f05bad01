//! Every nn module and loss, forward and backward, against PyTorch: the cases of
//! `tests/fixtures/modules.{json,safetensors}`, written by `tests/gen_module_fixtures.py`
//! (its docstring describes the format).
//!
//! Each case builds the Lantern module from PyTorch's constructor arguments, loads torch's
//! state dict by name (strict: names, shapes and dtypes must match), runs the forward in the
//! case's mode, and compares every output, the buffers after a training-mode forward
//! (batch-norm running statistics), and the gradients of `Σᵢ sum(outᵢ · cotᵢ)` with respect
//! to the inputs and every parameter. All float32; tolerances are per case in the JSON:
//! 1e-5 relative + 1e-5 absolute for short sums, 1e-4 + 2e-5 for recurrent and attention
//! layers, which chain more f32 rounding.

use lantern::io::StateDict;
use lantern::nn::functional::{
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, CrossEntropyOptions, KLDivLoss, L1Loss, MSELoss,
    NLLLoss, Reduction, SmoothL1Loss,
};
use lantern::nn::{
    Activation, AdaptiveAvgPool2d, AttentionMasks, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d,
    Conv1dOpts, Conv2d, Embedding, GroupNorm, LayerNorm, Linear, MaxPool2d, Module,
    MultiheadAttention, RnnOptions, TransformerEncoderLayer, TransformerEncoderLayerOptions, GRU,
    LSTM,
};
use lantern::{io, Conv2dOpts, DType, Device, Tensor};
use lantern_tests::fixtures::{fixtures_dir, Json};
use std::collections::BTreeMap;

struct Fixture {
    tensors: BTreeMap<String, Tensor>,
    cases: Vec<Json>,
}

fn fixture() -> Fixture {
    let dir = fixtures_dir();
    let sd = io::load_file(dir.join("modules.safetensors"))
        .expect("tests/fixtures/modules.safetensors: run tests/gen_module_fixtures.py");
    let text =
        std::fs::read_to_string(dir.join("modules.json")).expect("tests/fixtures/modules.json");
    let doc = Json::parse(&text).expect("modules.json parses");
    Fixture {
        tensors: sd.into_iter().collect(),
        cases: doc
            .get("cases")
            .and_then(Json::as_arr)
            .expect("cases")
            .to_vec(),
    }
}

/// One case: its id, arguments and tensors.
struct Case<'a> {
    id: String,
    module: &'a str,
    args: &'a Json,
    train: bool,
    fx: &'a Fixture,
}

impl Case<'_> {
    fn t(&self, name: &str) -> Option<&Tensor> {
        self.fx.tensors.get(&format!("{}/{name}", self.id))
    }

    /// The entries under `<id>/<prefix>/`, prefix stripped.
    fn under(&self, prefix: &str) -> StateDict {
        let p = format!("{}/{prefix}/", self.id);
        self.fx
            .tensors
            .iter()
            .filter_map(|(k, t)| Some((k.strip_prefix(&p)?.to_string(), t.clone())))
            .collect()
    }

    fn arg(&self, k: &str) -> &Json {
        self.args
            .get(k)
            .unwrap_or_else(|| panic!("{}: no arg {k}", self.id))
    }

    fn us(&self, k: &str) -> usize {
        self.arg(k).as_i64().expect("int arg") as usize
    }

    fn f(&self, k: &str) -> f64 {
        self.arg(k).as_f64().expect("number arg")
    }

    fn b(&self, k: &str) -> bool {
        self.arg(k).as_bool().expect("bool arg")
    }

    fn pair(&self, k: &str) -> [usize; 2] {
        let v: Vec<usize> = self
            .arg(k)
            .as_arr()
            .expect("list arg")
            .iter()
            .map(|x| x.as_i64().expect("int") as usize)
            .collect();
        [v[0], v[1]]
    }

    fn reduction(&self) -> Reduction {
        match self.arg("reduction").as_str() {
            Some("none") => Reduction::None,
            Some("sum") => Reduction::Sum,
            Some("mean" | "batchmean") => Reduction::Mean,
            r => panic!("{}: reduction {r:?}", self.id),
        }
    }

    fn ce_opts(&self) -> CrossEntropyOptions {
        CrossEntropyOptions {
            weight: self.t("weight").cloned(),
            ignore_index: self
                .args
                .get("ignore_index")
                .and_then(Json::as_i64)
                .unwrap_or(-100),
            reduction: self.reduction(),
            label_smoothing: self
                .args
                .get("label_smoothing")
                .and_then(Json::as_f64)
                .unwrap_or(0.0),
        }
    }
}

/// What a case produced: outputs, and the module's parameters and buffers (empty for losses).
struct Run {
    outs: Vec<Tensor>,
    params: StateDict,
    buffers: StateDict,
}

/// Loads torch's state, sets the mode, runs `fwd`.
fn run_module<M: Module>(c: &Case, mut m: M, fwd: impl FnOnce(&M) -> Vec<Tensor>) -> Run {
    m.load_state_dict(&c.under("state"))
        .unwrap_or_else(|e| panic!("{}: load_state_dict: {e}", c.id));
    m.train(c.train);
    let outs = fwd(&m);
    Run {
        outs,
        params: m.named_parameters(),
        buffers: m.named_buffers(),
    }
}

fn loss(outs: lantern::Result<Tensor>) -> Run {
    Run {
        outs: vec![outs.expect("loss")],
        params: Vec::new(),
        buffers: Vec::new(),
    }
}

fn run_case(c: &Case, xs: &[Tensor]) -> Run {
    let dev = Device::cpu();
    let one = |r: lantern::Result<Tensor>| vec![r.unwrap_or_else(|e| panic!("{}: {e}", c.id))];
    let x = &xs[0];
    let module = c.module;
    match module {
        "Linear" => run_module(
            c,
            Linear::new(c.us("in_features"), c.us("out_features"), c.b("bias"), &dev).unwrap(),
            |m| one(m.forward(x)),
        ),
        "Conv1d" => {
            let opts = Conv1dOpts {
                stride: c.us("stride"),
                padding: c.us("padding"),
                dilation: c.us("dilation"),
                groups: c.us("groups"),
            };
            let m = Conv1d::new(
                c.us("in_channels"),
                c.us("out_channels"),
                c.us("kernel_size"),
                opts,
                c.b("bias"),
                &dev,
            )
            .unwrap();
            run_module(c, m, |m| one(m.forward(x)))
        }
        "Conv2d" => {
            let opts = Conv2dOpts {
                stride: c.pair("stride"),
                padding: c.pair("padding"),
                dilation: c.pair("dilation"),
                groups: c.us("groups"),
            };
            let m = Conv2d::new(
                c.us("in_channels"),
                c.us("out_channels"),
                c.pair("kernel_size"),
                opts,
                c.b("bias"),
                &dev,
            )
            .unwrap();
            run_module(c, m, |m| one(m.forward(x)))
        }
        "LayerNorm" => {
            let shape: Vec<usize> = c
                .arg("normalized_shape")
                .as_arr()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap() as usize)
                .collect();
            let m = LayerNorm::with_options(
                &shape,
                c.f("eps"),
                c.b("elementwise_affine"),
                c.b("bias"),
                &dev,
            )
            .unwrap();
            run_module(c, m, |m| one(m.forward(x)))
        }
        "GroupNorm" => {
            let m = GroupNorm::with_options(
                c.us("num_groups"),
                c.us("num_channels"),
                c.f("eps"),
                c.b("affine"),
                &dev,
            )
            .unwrap();
            run_module(c, m, |m| one(m.forward(x)))
        }
        "BatchNorm1d" | "BatchNorm2d" => {
            let (nf, eps, mom) = (c.us("num_features"), c.f("eps"), Some(c.f("momentum")));
            let (affine, track) = (c.b("affine"), c.b("track_running_stats"));
            if module == "BatchNorm1d" {
                let m = BatchNorm1d::with_options(nf, eps, mom, affine, track, &dev).unwrap();
                run_module(c, m, |m| one(m.forward(x)))
            } else {
                let m = BatchNorm2d::with_options(nf, eps, mom, affine, track, &dev).unwrap();
                run_module(c, m, |m| one(m.forward(x)))
            }
        }
        "MaxPool2d" => {
            let m = MaxPool2d {
                kernel: c.pair("kernel_size"),
                stride: c.pair("stride"),
                padding: c.pair("padding"),
            };
            run_module(c, m, |m| one(m.forward(x)))
        }
        "AvgPool2d" => {
            let m = AvgPool2d {
                kernel: c.pair("kernel_size"),
                stride: c.pair("stride"),
                padding: c.pair("padding"),
                count_include_pad: c.b("count_include_pad"),
            };
            run_module(c, m, |m| one(m.forward(x)))
        }
        "AdaptiveAvgPool2d" => run_module(c, AdaptiveAvgPool2d::new(c.pair("output_size")), |m| {
            one(m.forward(x))
        }),
        "Embedding" => {
            let pad = Some(c.arg("padding_idx").as_i64().unwrap());
            let m =
                Embedding::new(c.us("num_embeddings"), c.us("embedding_dim"), pad, &dev).unwrap();
            run_module(c, m, |m| one(m.forward(x)))
        }
        "MultiheadAttention" => {
            let m = MultiheadAttention::with_options(
                c.us("embed_dim"),
                c.us("num_heads"),
                c.f("dropout"),
                c.b("bias"),
                c.b("batch_first"),
                &dev,
            )
            .unwrap();
            let (need, avg) = (c.b("need_weights"), c.b("average_attn_weights"));
            run_module(c, m, |m| {
                // Cross-attention with an attention mask, or self-attention with a key
                // padding mask.
                let (q, k, v, masks) = if xs.len() == 4 {
                    let masks = AttentionMasks {
                        attn_mask: Some(&xs[3]),
                        ..Default::default()
                    };
                    (&xs[0], &xs[1], &xs[2], masks)
                } else {
                    let masks = AttentionMasks {
                        key_padding_mask: Some(&xs[1]),
                        ..Default::default()
                    };
                    (x, x, x, masks)
                };
                let (y, w) = m.forward_qkv(q, k, v, masks, need, avg).unwrap();
                vec![y, w.expect("weights")]
            })
        }
        "TransformerEncoderLayer" => {
            let opts = TransformerEncoderLayerOptions {
                dim_feedforward: c.us("dim_feedforward"),
                dropout: c.f("dropout"),
                activation: match c.arg("activation").as_str() {
                    Some("gelu") => Activation::Gelu,
                    _ => Activation::Relu,
                },
                batch_first: c.b("batch_first"),
                norm_first: c.b("norm_first"),
                ..Default::default()
            };
            let m =
                TransformerEncoderLayer::with_options(c.us("d_model"), c.us("nhead"), opts, &dev)
                    .unwrap();
            run_module(c, m, |m| one(m.forward(x)))
        }
        "LSTM" | "GRU" => {
            let opts = RnnOptions {
                num_layers: c.us("num_layers"),
                batch_first: c.b("batch_first"),
                bidirectional: c.b("bidirectional"),
                ..Default::default()
            };
            let (i, h) = (c.us("input_size"), c.us("hidden_size"));
            if module == "LSTM" {
                run_module(c, LSTM::with_options(i, h, opts, &dev).unwrap(), |m| {
                    let (y, (h, cn)) = m.forward_with(x, Some((&xs[1], &xs[2]))).unwrap();
                    vec![y, h, cn]
                })
            } else {
                run_module(c, GRU::with_options(i, h, opts, &dev).unwrap(), |m| {
                    let (y, h) = m.forward_with(x, Some(&xs[1])).unwrap();
                    vec![y, h]
                })
            }
        }
        "MSELoss" => loss(
            MSELoss {
                reduction: c.reduction(),
            }
            .forward(x, &xs[1]),
        ),
        "L1Loss" => loss(
            L1Loss {
                reduction: c.reduction(),
            }
            .forward(x, &xs[1]),
        ),
        "SmoothL1Loss" => loss(
            SmoothL1Loss {
                reduction: c.reduction(),
                beta: c.f("beta"),
            }
            .forward(x, &xs[1]),
        ),
        "CrossEntropyLoss" => loss(CrossEntropyLoss { opts: c.ce_opts() }.forward(x, &xs[1])),
        "NLLLoss" => loss(NLLLoss { opts: c.ce_opts() }.forward(x, &xs[1])),
        "BCELoss" => loss(
            BCELoss {
                weight: c.t("weight").cloned(),
                reduction: c.reduction(),
            }
            .forward(x, &xs[1]),
        ),
        "BCEWithLogitsLoss" => loss(
            BCEWithLogitsLoss {
                weight: c.t("weight").cloned(),
                pos_weight: c.t("pos_weight").cloned(),
                reduction: c.reduction(),
            }
            .forward(x, &xs[1]),
        ),
        "KLDivLoss" => loss(
            KLDivLoss {
                reduction: c.reduction(),
                batchmean: c.arg("reduction").as_str() == Some("batchmean"),
                log_target: c.b("log_target"),
            }
            .forward(x, &xs[1]),
        ),
        other => panic!("{}: no Lantern mapping for {other}", c.id),
    }
}

/// Element-wise `|got - want| <= atol + rtol·|want|`; returns one message per mismatch
/// (at most 5) and the largest difference relative to `atol + rtol·|want|`.
fn compare(what: &str, got: &Tensor, want: &Tensor, rtol: f64, atol: f64) -> (Vec<String>, f64) {
    if got.dims() != want.dims() {
        return (
            vec![format!(
                "{what}: shape {:?}, torch {:?}",
                got.dims(),
                want.dims()
            )],
            f64::INFINITY,
        );
    }
    if got.dtype() != want.dtype() {
        return (
            vec![format!(
                "{what}: dtype {}, torch {}",
                got.dtype(),
                want.dtype()
            )],
            f64::INFINITY,
        );
    }
    let mut bad = Vec::new();
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.to_f64_vec().iter().zip(want.to_f64_vec()).enumerate() {
        let (d, tol) = ((g - w).abs(), atol + rtol * w.abs());
        worst = worst.max(if d == 0.0 { 0.0 } else { d / tol });
        // NaN fails too.
        if (d > tol || d.is_nan()) && bad.len() < 5 {
            bad.push(format!("{what}[{i}]: lantern {g:e}, torch {w:e}"));
        }
    }
    (bad, worst)
}

/// Runs one case; returns its failures and its worst deviation (1.0 = at tolerance).
fn check(fx: &Fixture, j: &Json) -> (Vec<String>, f64) {
    let id = j.get("id").and_then(Json::as_str).expect("id").to_string();
    let num = |k: &str| j.get(k).and_then(Json::as_f64).expect(k);
    let (rtol, atol) = (num("rtol"), num("atol"));
    let c = Case {
        module: j.get("module").and_then(Json::as_str).expect("module"),
        args: j.get("args").expect("args"),
        train: j.get("train").and_then(Json::as_bool).expect("train"),
        fx,
        id,
    };
    let n_in = num("inputs") as usize;
    let xs: Vec<Tensor> = (0..n_in)
        .map(|i| {
            let t = c.t(&format!("in{i}")).expect("input").detach();
            if c.t(&format!("gin{i}")).is_some() {
                t.requires_grad_(true)
            } else {
                t
            }
        })
        .collect();
    let run = run_case(&c, &xs);
    let mut bad = Vec::new();
    let mut worst = 0.0f64;
    let mut note = |(b, w): (Vec<String>, f64)| {
        bad.extend(b);
        worst = worst.max(w);
    };
    assert_eq!(run.outs.len(), num("outputs") as usize, "{}: outputs", c.id);
    let mut total = Tensor::zeros([], DType::F64, &Device::cpu());
    for (i, o) in run.outs.iter().enumerate() {
        note(compare(
            &format!("{}: output {i}", c.id),
            o,
            c.t(&format!("out{i}")).expect("output"),
            rtol,
            atol,
        ));
        let cot = c.t(&format!("cot{i}")).expect("cotangent");
        total = total.add(
            &o.to_dtype(DType::F64)
                .mul(&cot.to_dtype(DType::F64))
                .sum(None, false),
        );
    }
    for (k, want) in c.under("after") {
        let got = &run
            .buffers
            .iter()
            .find(|(n, _)| *n == k)
            .unwrap_or_else(|| panic!("{}: no buffer {k}", c.id))
            .1;
        note(compare(
            &format!("{}: buffer {k} after forward", c.id),
            got,
            &want,
            rtol,
            atol,
        ));
    }
    total.backward();
    for (i, x) in xs.iter().enumerate() {
        if let Some(want) = c.t(&format!("gin{i}")) {
            let got = x
                .grad()
                .unwrap_or_else(|| panic!("{}: no gradient for input {i}", c.id));
            note(compare(
                &format!("{}: grad of input {i}", c.id),
                &got,
                want,
                rtol,
                atol,
            ));
        }
    }
    let grads = c.under("grad");
    assert_eq!(
        grads.len(),
        run.params.len(),
        "{}: number of parameters",
        c.id
    );
    for (k, want) in grads {
        let p = &run
            .params
            .iter()
            .find(|(n, _)| *n == k)
            .unwrap_or_else(|| panic!("{}: no parameter {k}", c.id))
            .1;
        let got = p.grad().unwrap_or_else(|| p.zeros_like());
        note(compare(
            &format!("{}: grad of {k}", c.id),
            &got,
            &want,
            rtol,
            atol,
        ));
    }
    (bad, worst)
}

/// Runs every case whose module is in `modules` (all when empty).
fn run_cases(modules: &[&str]) -> usize {
    let fx = fixture();
    let mut failures = Vec::new();
    let mut n = 0;
    for j in &fx.cases {
        let m = j.get("module").and_then(Json::as_str).expect("module");
        if !modules.is_empty() && !modules.contains(&m) {
            continue;
        }
        n += 1;
        let id = j.get("id").and_then(Json::as_str).unwrap_or("?");
        let (bad, worst) = check(&fx, j);
        println!("{id}: worst deviation {worst:.3} of tolerance");
        failures.extend(bad);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    n
}

const LOSSES: &[&str] = &[
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
];

#[test]
fn layers_match_torch_forward_and_backward() {
    let n = run_cases(&[
        "Linear",
        "Conv1d",
        "Conv2d",
        "LayerNorm",
        "GroupNorm",
        "BatchNorm1d",
        "BatchNorm2d",
        "MaxPool2d",
        "AvgPool2d",
        "AdaptiveAvgPool2d",
        "Embedding",
    ]);
    assert_eq!(n, 23);
}

#[test]
fn attention_and_recurrent_layers_match_torch_forward_and_backward() {
    let n = run_cases(&[
        "MultiheadAttention",
        "TransformerEncoderLayer",
        "LSTM",
        "GRU",
    ]);
    assert_eq!(n, 6);
}

#[test]
fn losses_match_torch_for_every_reduction() {
    let n = run_cases(LOSSES);
    assert_eq!(n, 49);
}

#[test]
fn every_fixture_case_is_run() {
    let fx = fixture();
    assert_eq!(fx.cases.len(), 23 + 6 + 49);
    // Every loss has a case for each reduction.
    for m in LOSSES {
        for red in ["none", "mean", "sum"] {
            assert!(
                fx.cases
                    .iter()
                    .any(|j| j.get("module").and_then(Json::as_str) == Some(m)
                        && j.get("args")
                            .and_then(|a| a.get("reduction"))
                            .and_then(Json::as_str)
                            == Some(red)),
                "{m} has no {red} case"
            );
        }
    }
}

#[test]
fn compare_reports_values_shapes_and_dtypes() {
    let dev = Device::cpu();
    let want = Tensor::from_slice(&[1.0f32, -2.0, 3.0], [3], &dev);
    assert!(compare("same", &want, &want, 0.0, 0.0).0.is_empty());
    let off = Tensor::from_slice(&[1.0f32, -2.0001, 3.0], [3], &dev);
    let (bad, worst) = compare("off", &off, &want, 1e-5, 1e-5);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("off[1]: lantern -2.0000"), "{}", bad[0]);
    assert!(worst > 1.0);
    assert!(compare("shape", &want.reshape(&[1, 3]), &want, 1.0, 1.0).0[0].contains("shape"));
    assert!(compare("dtype", &want.to_dtype(DType::F64), &want, 1.0, 1.0).0[0].contains("dtype"));
}
