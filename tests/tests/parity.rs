//! PyTorch parity: every case of `tests/fixtures/*.json` (written by `tests/gen_fixtures.py`)
//! runs through Lantern on the CPU driver and must match PyTorch's result within the
//! case's tolerance, with the same shape and dtype.
//!
//! A case may be skipped only with a written reason in [`SKIPPED`]; a skipped case that
//! no longer exists, or that now passes, fails the run, so the list cannot rot.

use lantern::{Conv2dOpts, DType, Device, NormOrd, Scalar, Tensor};
use lantern_tests::fixtures::{self, build_input, compare, Case, Json};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Cases that are allowed to fail, with the reason. Keep this short.
const SKIPPED: &[(&str, &str)] = &[];

const FILES: [&str; 9] = [
    "creation", "views", "unary", "binary", "reduce", "linalg", "nn", "index", "cast",
];

type Res<T> = Result<T, String>;

fn arg_i(c: &Case, k: &str) -> Res<i64> {
    c.arg(k)
        .as_i64()
        .ok_or_else(|| format!("arg {k:?} is not an int: {}", c.arg(k)))
}

fn arg_is(c: &Case, k: &str) -> Res<isize> {
    arg_i(c, k).map(|v| v as isize)
}

fn arg_us(c: &Case, k: &str) -> Res<usize> {
    arg_i(c, k).and_then(|v| usize::try_from(v).map_err(|e| format!("arg {k:?}: {e}")))
}

fn arg_f(c: &Case, k: &str) -> Res<f64> {
    c.arg(k)
        .as_f64()
        .ok_or_else(|| format!("arg {k:?} is not a number: {}", c.arg(k)))
}

fn arg_b(c: &Case, k: &str) -> Res<bool> {
    c.arg(k)
        .as_bool()
        .ok_or_else(|| format!("arg {k:?} is not a bool: {}", c.arg(k)))
}

fn arg_scalar(c: &Case, k: &str) -> Res<Scalar> {
    c.arg(k)
        .as_scalar()
        .ok_or_else(|| format!("arg {k:?} is not a scalar: {}", c.arg(k)))
}

fn list_is(j: &Json) -> Res<Vec<isize>> {
    j.as_arr()
        .ok_or_else(|| format!("not a list: {j}"))?
        .iter()
        .map(|v| {
            v.as_i64()
                .map(|i| i as isize)
                .ok_or_else(|| format!("not an int: {v}"))
        })
        .collect()
}

fn arg_list_is(c: &Case, k: &str) -> Res<Vec<isize>> {
    list_is(c.arg(k)).map_err(|e| format!("arg {k:?}: {e}"))
}

fn arg_list_us(c: &Case, k: &str) -> Res<Vec<usize>> {
    arg_list_is(c, k)?
        .into_iter()
        .map(|v| usize::try_from(v).map_err(|e| format!("arg {k:?}: {e}")))
        .collect()
}

fn arg_pair(c: &Case, k: &str) -> Res<[usize; 2]> {
    let v = arg_list_us(c, k)?;
    <[usize; 2]>::try_from(v.as_slice()).map_err(|_| format!("arg {k:?} is not a pair: {v:?}"))
}

fn arg_dtype(c: &Case, k: &str) -> Res<Option<DType>> {
    match c.arg(k) {
        Json::Null => Ok(None),
        j => j
            .as_str()
            .and_then(DType::from_name)
            .map(Some)
            .ok_or_else(|| format!("arg {k:?} is not a dtype: {j}")),
    }
}

/// `dim` as PyTorch takes it: null (all dims), an int, or a list of ints.
fn arg_dims(c: &Case, k: &str) -> Res<Option<Vec<isize>>> {
    match c.arg(k) {
        Json::Null => Ok(None),
        j if j.is_int() => Ok(Some(vec![arg_is(c, k)?])),
        j => list_is(j).map(Some),
    }
}

fn arg_opt_f(c: &Case, k: &str) -> Res<Option<f64>> {
    match c.arg(k) {
        Json::Null => Ok(None),
        _ => arg_f(c, k).map(Some),
    }
}

fn need_false(c: &Case, k: &str) -> Res<()> {
    if arg_b(c, k)? {
        return Err(format!("{k} = true has no Lantern equivalent"));
    }
    Ok(())
}

/// Runs one case through Lantern and returns its outputs.
fn run_case(c: &Case, dev: &Device) -> Res<Vec<Tensor>> {
    let xs: Vec<Tensor> = c
        .inputs
        .iter()
        .map(|t| build_input(t, dev))
        .collect::<Res<_>>()?;
    let x = || xs.first().ok_or_else(|| "no input".to_string());
    let y = |i: usize| xs.get(i).ok_or_else(|| format!("no input {i}"));
    let one = |r: lantern::Result<Tensor>| r.map(|t| vec![t]);
    let dtype = || -> Res<DType> { arg_dtype(c, "dtype")?.ok_or("no dtype".to_string()) };
    let shape = || arg_list_us(c, "shape");
    let dims = || arg_dims(c, "dim");
    let keepdim = || arg_b(c, "keepdim");

    let r: lantern::Result<Vec<Tensor>> = match c.op.as_str() {
        // creation
        "zeros" => one(Tensor::try_zeros(shape()?, dtype()?, dev)),
        "ones" => one(Tensor::try_ones(shape()?, dtype()?, dev)),
        "full" => one(Tensor::try_full(
            shape()?,
            arg_scalar(c, "fill_value")?,
            dtype()?,
            dev,
        )),
        "arange" => one(Tensor::try_arange(
            arg_f(c, "start")?,
            arg_f(c, "end")?,
            arg_f(c, "step")?,
            dtype()?,
            dev,
        )),
        "linspace" => one(Tensor::try_linspace(
            arg_f(c, "start")?,
            arg_f(c, "end")?,
            arg_us(c, "steps")?,
            dtype()?,
            dev,
        )),
        "eye" => one(Tensor::try_eye(
            arg_us(c, "n")?,
            arg_us(c, "m")?,
            dtype()?,
            dev,
        )),
        "zeros_like" | "ones_like" | "full_like" => {
            let x = x()?;
            let v = match c.op.as_str() {
                "zeros_like" => Scalar::Int(0),
                "ones_like" => Scalar::Int(1),
                _ => arg_scalar(c, "fill_value")?,
            };
            match arg_dtype(c, "dtype")? {
                // `*_like(x, dtype=d)` is `full(x.shape, v, d)`.
                Some(d) => one(Tensor::try_full(x.shape().clone(), v, d, x.device())),
                None => one(match c.op.as_str() {
                    "zeros_like" => x.try_zeros_like(),
                    "ones_like" => x.try_ones_like(),
                    _ => x.try_full_like(v),
                }),
            }
        }

        // views and shape ops
        "reshape" => one(x()?.try_reshape(&arg_list_is(c, "shape")?)),
        "view" => one(x()?.try_view(&arg_list_is(c, "shape")?)),
        "permute" => one(x()?.try_permute(&arg_list_is(c, "dims")?)),
        "transpose" => one(x()?.try_transpose(arg_is(c, "dim0")?, arg_is(c, "dim1")?)),
        "t" => one(x()?.try_t()),
        "narrow" => {
            let x = x()?;
            let dim = arg_is(c, "dim")?;
            // PyTorch's narrow takes a negative start counted from the end; Lantern's
            // start is a usize, so the wrap happens here.
            let mut start = arg_i(c, "start")?;
            if start < 0 {
                start += x.try_size(dim).map_err(|e| e.to_string())? as i64;
            }
            let start = usize::try_from(start).map_err(|e| format!("narrow start: {e}"))?;
            one(x.try_narrow(dim, start, arg_us(c, "length")?))
        }
        "slice" => {
            let end = match c.arg("end") {
                Json::Null => None,
                _ => Some(arg_is(c, "end")?),
            };
            one(x()?.try_slice(
                arg_is(c, "dim")?,
                arg_is(c, "start")?,
                end,
                arg_us(c, "step")?,
            ))
        }
        "select" => one(x()?.try_select(arg_is(c, "dim")?, arg_is(c, "index")?)),
        "expand" => one(x()?.try_expand(&arg_list_is(c, "shape")?)),
        "broadcast_to" => one(x()?.try_broadcast_to(&shape()?)),
        "squeeze" => {
            let dim = match c.arg("dim") {
                Json::Null => None,
                _ => Some(arg_is(c, "dim")?),
            };
            one(x()?.try_squeeze(dim))
        }
        "unsqueeze" => one(x()?.try_unsqueeze(arg_is(c, "dim")?)),
        "flatten" => one(x()?.try_flatten(arg_is(c, "start_dim")?, arg_is(c, "end_dim")?)),
        "unflatten" => one(x()?.try_unflatten(arg_is(c, "dim")?, &arg_list_is(c, "sizes")?)),
        "contiguous" => one(x()?.try_contiguous()),
        "cat" => one(Tensor::try_cat(&xs, arg_is(c, "dim")?)),
        "stack" => one(Tensor::try_stack(&xs, arg_is(c, "dim")?)),
        "split" => {
            let dim = arg_is(c, "dim")?;
            let s = c.arg("split_size_or_sections");
            if s.is_int() {
                x()?.try_split(arg_us(c, "split_size_or_sections")?, dim)
            } else {
                x()?.try_split_sizes(&arg_list_us(c, "split_size_or_sections")?, dim)
            }
        }
        "chunk" => x()?.try_chunk(arg_us(c, "chunks")?, arg_is(c, "dim")?),

        // unary
        "neg" => one(x()?.try_neg()),
        "abs" => one(x()?.try_abs()),
        "exp" => one(x()?.try_exp()),
        "log" => one(x()?.try_log()),
        "log1p" => one(x()?.try_log1p()),
        "expm1" => one(x()?.try_expm1()),
        "sqrt" => one(x()?.try_sqrt()),
        "rsqrt" => one(x()?.try_rsqrt()),
        "sin" => one(x()?.try_sin()),
        "cos" => one(x()?.try_cos()),
        "tanh" => one(x()?.try_tanh()),
        "sigmoid" => one(x()?.try_sigmoid()),
        "relu" => one(x()?.try_relu()),
        "gelu" => {
            let tanh = match c.arg("approximate").as_str() {
                Some("none") => false,
                Some("tanh") => true,
                _ => return Err(format!("gelu approximate {}", c.arg("approximate"))),
            };
            one(x()?.try_gelu(tanh))
        }
        "silu" => one(x()?.try_silu()),
        "softplus" => one(x()?.try_softplus(arg_f(c, "beta")?, arg_f(c, "threshold")?)),
        "clamp" => one(x()?.try_clamp(arg_opt_f(c, "min")?, arg_opt_f(c, "max")?)),
        "pow_scalar" => one(x()?.try_pow_scalar(arg_scalar(c, "exponent")?)),
        "floor" => one(x()?.try_floor()),
        "ceil" => one(x()?.try_ceil()),
        "round" => one(x()?.try_round()),
        "sign" => one(x()?.try_sign()),
        "logical_not" => one(x()?.try_logical_not()),

        // binary, tensor ⊕ tensor
        "add" => one(x()?.try_add(y(1)?)),
        "sub" => one(x()?.try_sub(y(1)?)),
        "mul" => one(x()?.try_mul(y(1)?)),
        "div" => one(x()?.try_div(y(1)?)),
        "maximum" => one(x()?.try_maximum(y(1)?)),
        "minimum" => one(x()?.try_minimum(y(1)?)),
        "pow" => one(x()?.try_pow(y(1)?)),
        "eq" => one(x()?.try_eq(y(1)?)),
        "ne" => one(x()?.try_ne(y(1)?)),
        "lt" => one(x()?.try_lt(y(1)?)),
        "le" => one(x()?.try_le(y(1)?)),
        "gt" => one(x()?.try_gt(y(1)?)),
        "ge" => one(x()?.try_ge(y(1)?)),
        "logical_and" => one(x()?.try_logical_and(y(1)?)),
        "logical_or" => one(x()?.try_logical_or(y(1)?)),

        // binary, tensor ⊕ Python scalar (int vs float decides promotion)
        "add_scalar" => one(x()?.try_add_scalar(arg_scalar(c, "other")?)),
        "sub_scalar" => one(x()?.try_sub_scalar(arg_scalar(c, "other")?)),
        "mul_scalar" => one(x()?.try_mul_scalar(arg_scalar(c, "other")?)),
        "div_scalar" => one(x()?.try_div_scalar(arg_scalar(c, "other")?)),
        "eq_scalar" => one(x()?.try_eq_scalar(arg_scalar(c, "other")?)),
        "ne_scalar" => one(x()?.try_ne_scalar(arg_scalar(c, "other")?)),
        "lt_scalar" => one(x()?.try_lt_scalar(arg_scalar(c, "other")?)),
        "le_scalar" => one(x()?.try_le_scalar(arg_scalar(c, "other")?)),
        "gt_scalar" => one(x()?.try_gt_scalar(arg_scalar(c, "other")?)),
        "ge_scalar" => one(x()?.try_ge_scalar(arg_scalar(c, "other")?)),

        // reductions
        "sum" => one(x()?.try_sum(dims()?.as_deref(), keepdim()?)),
        "mean" => one(x()?.try_mean(dims()?.as_deref(), keepdim()?)),
        "prod" => one(x()?.try_prod(dims()?.as_deref(), keepdim()?)),
        "var" => one(x()?.try_var(dims()?.as_deref(), arg_f(c, "correction")?, keepdim()?)),
        "std" => one(x()?.try_std(dims()?.as_deref(), arg_f(c, "correction")?, keepdim()?)),
        "max" | "min" => {
            let max = c.op == "max";
            match c.arg("dim") {
                Json::Null => one(if max {
                    x()?.try_max_all()
                } else {
                    x()?.try_min_all()
                }),
                _ => {
                    let (d, k) = (arg_is(c, "dim")?, keepdim()?);
                    let r = if max {
                        x()?.try_max_dim(d, k)
                    } else {
                        x()?.try_min_dim(d, k)
                    };
                    r.map(|(v, i)| vec![v, i])
                }
            }
        }
        "argmax" | "argmin" => {
            let dim = match c.arg("dim") {
                Json::Null => None,
                _ => Some(arg_is(c, "dim")?),
            };
            one(if c.op == "argmax" {
                x()?.try_argmax(dim, keepdim()?)
            } else {
                x()?.try_argmin(dim, keepdim()?)
            })
        }
        "logsumexp" => {
            let d = dims()?.ok_or("logsumexp needs dim")?;
            one(x()?.try_logsumexp(&d, keepdim()?))
        }
        "norm" => {
            let p = c.arg("p");
            let ord = match p.as_str() {
                // Frobenius over the reduced dims is the vector 2-norm over them.
                Some("fro") => NormOrd::P(2.0),
                Some("inf") => NormOrd::Inf,
                Some("-inf") => NormOrd::NegInf,
                _ => NormOrd::P(arg_f(c, "p")?),
            };
            one(x()?.try_norm(ord, dims()?.as_deref(), keepdim()?))
        }

        // linalg
        "matmul" => one(x()?.try_matmul(y(1)?)),

        // nn
        "softmax" => one(x()?.try_softmax(arg_is(c, "dim")?)),
        "log_softmax" => one(x()?.try_log_softmax(arg_is(c, "dim")?)),
        "one_hot" => {
            let n = arg_i(c, "num_classes")?;
            one(x()?.try_one_hot(if n < 0 { None } else { Some(n as usize) }))
        }
        "pad" => {
            if c.arg("mode").as_str() != Some("constant") {
                return Err(format!("pad mode {}", c.arg("mode")));
            }
            one(x()?.try_pad(&arg_list_is(c, "pad")?, arg_f(c, "value")?))
        }
        "conv1d" => one(x()?.try_conv1d(
            y(1)?,
            xs.get(2),
            arg_us(c, "stride")?,
            arg_us(c, "padding")?,
            arg_us(c, "dilation")?,
            arg_us(c, "groups")?,
        )),
        "conv2d" => one(x()?.try_conv2d(
            y(1)?,
            xs.get(2),
            Conv2dOpts {
                stride: arg_pair(c, "stride")?,
                padding: arg_pair(c, "padding")?,
                dilation: arg_pair(c, "dilation")?,
                groups: arg_us(c, "groups")?,
            },
        )),
        "max_pool1d" => {
            need_false(c, "ceil_mode")?;
            one(x()?.try_max_pool1d(
                arg_us(c, "kernel_size")?,
                arg_us(c, "stride")?,
                arg_us(c, "padding")?,
                arg_us(c, "dilation")?,
            ))
        }
        "max_pool2d" => {
            need_false(c, "ceil_mode")?;
            one(x()?.try_max_pool2d(
                arg_pair(c, "kernel_size")?,
                arg_pair(c, "stride")?,
                arg_pair(c, "padding")?,
                arg_pair(c, "dilation")?,
            ))
        }
        "avg_pool1d" => {
            need_false(c, "ceil_mode")?;
            one(x()?.try_avg_pool1d(
                arg_us(c, "kernel_size")?,
                arg_us(c, "stride")?,
                arg_us(c, "padding")?,
                arg_b(c, "count_include_pad")?,
            ))
        }
        "avg_pool2d" => {
            need_false(c, "ceil_mode")?;
            one(x()?.try_avg_pool2d(
                arg_pair(c, "kernel_size")?,
                arg_pair(c, "stride")?,
                arg_pair(c, "padding")?,
                arg_b(c, "count_include_pad")?,
            ))
        }

        // indexing and selection
        "gather" => one(x()?.try_gather(arg_is(c, "dim")?, y(1)?)),
        "index_select" => one(x()?.try_index_select(arg_is(c, "dim")?, y(1)?)),
        "scatter_add" => one(x()?.try_scatter_add(arg_is(c, "dim")?, y(1)?, y(2)?)),
        "masked_fill" => one(x()?.try_masked_fill(y(1)?, arg_scalar(c, "value")?)),
        "where" => one(Tensor::try_where(x()?, y(1)?, y(2)?)),

        // casts
        "to" => one(x()?.try_to_dtype(dtype()?)),

        op => return Err(format!("op {op:?} is not mapped to Lantern")),
    };
    r.map_err(|e| format!("Lantern error: {e}"))
}

/// Runs a case and compares its outputs; returns the failure messages (empty = pass).
fn check_case(c: &Case, dev: &Device) -> Vec<String> {
    let run = catch_unwind(AssertUnwindSafe(|| run_case(c, dev)));
    let outs = match run {
        Ok(Ok(outs)) => outs,
        Ok(Err(e)) => return vec![format!("{}: {e}", c.id)],
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return vec![format!("{}: panicked: {msg}", c.id)];
        }
    };
    if outs.len() != c.outputs.len() {
        return vec![format!(
            "{}: {} outputs, want {}",
            c.id,
            outs.len(),
            c.outputs.len()
        )];
    }
    let mut bad = Vec::new();
    for (k, (got, want)) in outs.iter().zip(&c.outputs).enumerate() {
        let cmp = catch_unwind(AssertUnwindSafe(|| {
            compare(&c.id, k, got, want, c.rtol, c.atol)
        }));
        match cmp {
            Ok(v) => bad.extend(v),
            Err(_) => bad.push(format!("{}: output {k}: comparing panicked", c.id)),
        }
    }
    bad
}

/// Runs `cases` with the skip list `skipped`; prints a summary and returns every failure
/// (a failing case not in `skipped`, or a case in `skipped` that passes).
fn run_cases(name: &str, cases: &[Case], skipped: &[(&str, &str)]) -> Vec<String> {
    let dev = Device::cpu();
    let mut failures: Vec<String> = Vec::new();
    let (mut passed, mut skips) = (0usize, 0usize);
    for c in cases {
        let bad = check_case(c, &dev);
        let reason = skipped.iter().find(|(s, _)| *s == c.id).map(|(_, r)| *r);
        match (reason, bad.is_empty()) {
            (None, true) => passed += 1,
            (None, false) => failures.extend(bad),
            (Some(reason), false) => {
                skips += 1;
                println!("SKIPPED {}: {reason}", c.id);
                for b in &bad {
                    println!("    {b}");
                }
            }
            (Some(_), true) => failures.push(format!(
                "{}: is in SKIPPED but passes now; remove it from the list",
                c.id
            )),
        }
    }
    println!(
        "{name}: {passed} passed, {skips} skipped, {} failing, of {} cases",
        cases.len() - passed - skips,
        cases.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    failures
}

/// Runs every case of one fixture file and panics if any fails.
fn run_file(name: &str) {
    let cases = fixtures::load(name).unwrap_or_else(|e| panic!("{e}"));
    assert!(!cases.is_empty(), "{name}.json has no cases");
    let failures = run_cases(name, &cases, SKIPPED);
    assert!(
        failures.is_empty(),
        "{name}: {} failure(s); see the FAIL lines above",
        failures.len()
    );
}

macro_rules! parity_tests {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            run_file(stringify!($name));
        }
    )*};
}

parity_tests!(creation, views, unary, binary, reduce, linalg, nn, index, cast);

/// Every SKIPPED id must name an existing case, once; every fixture file has a test.
#[test]
fn skip_list_is_current() {
    let mut ids = std::collections::HashSet::new();
    for f in FILES {
        for c in fixtures::load(f).unwrap_or_else(|e| panic!("{e}")) {
            assert!(ids.insert(c.id.clone()), "duplicate case id {}", c.id);
        }
    }
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(fixtures::fixtures_dir())
        .expect("reading tests/fixtures")
        .filter_map(|e| {
            let p = e.ok()?.path();
            // Only the op fixtures written by gen_fixtures.py; other generators (optim, io)
            // have their own tests.
            let ours = std::fs::read_to_string(&p)
                .is_ok_and(|t| t.contains("\"generator\": \"tests/gen_fixtures.py\""));
            (p.extension()? == "json" && ours)
                .then_some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    let tested: std::collections::BTreeSet<String> = FILES.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, tested, "a fixture file has no parity test");
    let mut seen = std::collections::HashSet::new();
    for (id, reason) in SKIPPED {
        println!("SKIPPED {id}: {reason}");
        assert!(
            ids.contains(*id),
            "SKIPPED names {id}, which no fixture has"
        );
        assert!(seen.insert(*id), "SKIPPED names {id} twice");
        assert!(!reason.trim().is_empty(), "SKIPPED {id} has no reason");
    }
}

/// The harness itself: exact number parsing, and every kind of mismatch is reported.
#[test]
fn harness_catches_mismatches() {
    use fixtures::{close, Data};
    // 17-digit values parse correctly rounded, ints stay ints.
    let j = Json::parse(r#"[0.10000000149011612, 2, 2.0, "-inf", 1e-46]"#).unwrap();
    let a = j.as_arr().unwrap();
    assert_eq!(a[0].as_f64(), Some(0.1f32 as f64));
    assert_eq!(a[1].as_scalar(), Some(Scalar::Int(2)));
    assert_eq!(a[2].as_scalar(), Some(Scalar::Float(2.0)));
    assert_eq!(a[3].as_f64(), Some(f64::NEG_INFINITY));
    assert_eq!(a[4].as_f64(), Some(1e-46));
    assert!(close(f64::NAN, f64::NAN, 0.0, 0.0));
    assert!(!close(1.0, f64::NAN, 1.0, 1.0));
    assert!(!close(1e300, f64::INFINITY, 1.0, 1.0));
    assert!(!close(f64::INFINITY, f64::NEG_INFINITY, 1.0, 1.0));
    assert!(close(1.0 + 1e-6, 1.0, 1e-6, 0.0) && !close(1.0 + 3e-6, 1.0, 1e-6, 1e-6));

    let cases = fixtures::load("unary").unwrap();
    let case = cases.iter().find(|c| c.id == "exp/f32").unwrap().clone();
    let dev = Device::cpu();
    assert!(check_case(&case, &dev).is_empty());

    let mut value = case.clone();
    if let Data::Float(v) = &mut value.outputs[0].data {
        v[5] *= 1.0 + 1e-4;
    }
    let bad = check_case(&value, &dev);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("exp/f32: output 0: index 5 [1, 0]: got "),
        "{}",
        bad[0]
    );

    let mut nan = case.clone();
    if let Data::Float(v) = &mut nan.outputs[0].data {
        v[0] = f64::NAN;
    }
    assert_eq!(check_case(&nan, &dev).len(), 1);

    let mut dtype = case.clone();
    dtype.outputs[0].dtype = DType::F64;
    assert!(check_case(&dtype, &dev)[0].contains("dtype float32, want float64"));

    let mut shape = case.clone();
    shape.outputs[0].shape = vec![5, 3];
    assert!(check_case(&shape, &dev)[0].contains("shape [3, 5], want [5, 3]"));

    let mut unknown = case.clone();
    unknown.op = "no_such_op".into();
    assert!(check_case(&unknown, &dev)[0].contains("not mapped"));

    // A skipped case that passes is a failure; a skipped case that fails is not.
    let stale = run_cases(
        "self-test (stale skip, must fail)",
        std::slice::from_ref(&case),
        &[("exp/f32", "x")],
    );
    assert!(stale[0].contains("passes now"), "{stale:?}");
    assert!(run_cases(
        "self-test (failing skipped case)",
        &[value],
        &[("exp/f32", "x")]
    )
    .is_empty());
}
