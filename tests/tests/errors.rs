//! One test per bad-input error: each asserts the `Error` variant, the op it names, that
//! the message names the offending shapes, dtypes, dims or devices, and that the panicking
//! short form panics with the very same message.

use lantern::cpu::CpuDriver;
use lantern::{Conv2dOpts, DType, Device, Error, Result, Tensor};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq)]
enum Kind {
    Shape,
    DType,
    Device,
    Arg,
    OutOfMemory,
}

fn kind(e: &Error) -> Option<Kind> {
    Some(match e {
        Error::Shape { .. } => Kind::Shape,
        Error::DType { .. } => Kind::DType,
        Error::Device { .. } => Kind::Device,
        Error::Arg { .. } => Kind::Arg,
        Error::OutOfMemory { .. } => Kind::OutOfMemory,
        _ => return None,
    })
}

fn op_of(e: &Error) -> Option<&'static str> {
    match e {
        Error::Shape { op, .. }
        | Error::DType { op, .. }
        | Error::Device { op, .. }
        | Error::Arg { op, .. } => Some(op),
        _ => None,
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    match p.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

/// Asserts that `r` is an error of `want` kind raised by `op` whose message contains every
/// needle, and that `short` (the panicking form) panics with the same message.
#[track_caller]
fn expect<T: std::fmt::Debug>(
    r: Result<T>,
    want: Kind,
    op: &str,
    needles: &[&str],
    short: impl FnOnce() -> T,
) -> Error {
    let e = match r {
        Err(e) => e,
        Ok(v) => panic!("expected a {want:?} error from {op}, got Ok({v:?})"),
    };
    let msg = e.to_string();
    assert_eq!(kind(&e), Some(want), "wrong variant: {e:?}");
    if want != Kind::OutOfMemory {
        assert_eq!(op_of(&e), Some(op), "wrong op in {e:?}");
        assert!(msg.contains(op), "message does not name {op}: {msg}");
    }
    for n in needles {
        assert!(msg.contains(n), "message does not name {n:?}: {msg}");
    }
    match catch_unwind(AssertUnwindSafe(short)) {
        Ok(v) => panic!("the short form of {op} did not panic but gave {v:?}"),
        Err(p) => assert_eq!(panic_text(p), msg, "the short form panics differently"),
    }
    e
}

fn cpu() -> Device {
    Device::cpu()
}

/// A tensor of `shape` holding 0, 1, 2, ... as f32.
fn t(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|i| i as f32).collect();
    Tensor::from_slice(&v, shape, &cpu())
}

/// A 0-dim f32 tensor.
fn sc(v: f32) -> Tensor {
    Tensor::try_scalar(v, DType::F32, &cpu()).unwrap()
}

fn ti(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape, &cpu())
}

fn fresh_device() -> Device {
    Device::new(Arc::new(CpuDriver::new()))
}

// ---- shapes -----------------------------------------------------------------------------

#[test]
fn binary_shape_mismatch() {
    let (a, b) = (t(&[2, 3]), t(&[4]));
    expect(
        a.try_add(&b),
        Kind::Shape,
        "add",
        &["[2, 3]", "[4]"],
        || &a + &b,
    );
    expect(
        a.try_mul(&b),
        Kind::Shape,
        "mul",
        &["[2, 3]", "[4]"],
        || a.mul(&b),
    );
    expect(b.try_lt(&a), Kind::Shape, "lt", &["[4]", "[2, 3]"], || {
        b.lt(&a)
    });
    let c = t(&[3, 2]);
    expect(
        a.try_add_(&c).cloned(),
        Kind::Shape,
        "add_",
        &["[2, 3]", "[3, 2]"],
        || {
            a.try_add_(&c).unwrap_or_else(|e| panic!("{e}"));
            a.clone()
        },
    );
}

#[test]
fn where_shape_mismatch() {
    let c = t(&[2, 3]).try_gt_scalar(1.0).unwrap();
    let (x, y) = (t(&[4]), t(&[1]));
    expect(
        Tensor::try_where(&c, &x, &y),
        Kind::Shape,
        "where",
        &["[2, 3]", "[4]"],
        || Tensor::where_(&c, &x, &y),
    );
}

#[test]
fn matmul_inner_dim_mismatch() {
    let (a, b) = (t(&[2, 3]), t(&[4, 5]));
    expect(
        a.try_matmul(&b),
        Kind::Shape,
        "matmul",
        &["[2, 3]", "[4, 5]"],
        || a.matmul(&b),
    );
    let v = t(&[4]);
    expect(
        a.try_matmul(&v),
        Kind::Shape,
        "matmul",
        &["[2, 3]", "[4]"],
        || a.matmul(&v),
    );
}

#[test]
fn matmul_batch_mismatch_names_the_operands() {
    let (a, b) = (t(&[2, 2, 3]), t(&[3, 3, 4]));
    expect(
        a.try_matmul(&b),
        Kind::Shape,
        "matmul",
        &["[2, 2, 3]", "[3, 3, 4]"],
        || a.matmul(&b),
    );
}

#[test]
fn matmul_of_a_0_dim_tensor() {
    let (a, s) = (t(&[2, 3]), sc(2.0));
    expect(
        a.try_matmul(&s),
        Kind::Shape,
        "matmul",
        &["[2, 3]", "[]"],
        || a.matmul(&s),
    );
}

#[test]
fn matmul_dtype_mismatch() {
    let (a, b) = (t(&[2, 3]), t(&[3, 2]).to_dtype(DType::F64));
    expect(
        a.try_matmul(&b),
        Kind::DType,
        "matmul",
        &["float32", "float64"],
        || a.matmul(&b),
    );
}

#[test]
fn conv2d_channel_mismatch() {
    let (x, w) = (t(&[1, 3, 5, 5]), t(&[2, 4, 3, 3]));
    let o = Conv2dOpts::default();
    expect(
        x.try_conv2d(&w, None, o),
        Kind::Shape,
        "conv2d",
        &["[1, 3, 5, 5]", "[2, 4, 3, 3]"],
        || x.conv2d(&w, None, o),
    );
    let g = Conv2dOpts { groups: 2, ..o };
    let w2 = t(&[3, 2, 3, 3]);
    let x2 = t(&[1, 4, 5, 5]);
    expect(
        x2.try_conv2d(&w2, None, g),
        Kind::Shape,
        "conv2d",
        &["[1, 4, 5, 5]", "[3, 2, 3, 3]", "groups"],
        || x2.conv2d(&w2, None, g),
    );
}

#[test]
fn conv2d_bias_and_rank() {
    let (x, w, b) = (t(&[1, 3, 5, 5]), t(&[2, 3, 3, 3]), t(&[3]));
    let o = Conv2dOpts::default();
    expect(
        x.try_conv2d(&w, Some(&b), o),
        Kind::Shape,
        "conv2d",
        &["[2]", "[3]"],
        || x.conv2d(&w, Some(&b), o),
    );
    let x5 = t(&[1, 1, 3, 5, 5]);
    expect(
        x5.try_conv2d(&w, None, o),
        Kind::Shape,
        "conv2d",
        &["[1, 1, 3, 5, 5]"],
        || x5.conv2d(&w, None, o),
    );
}

#[test]
fn layer_norm_shape_and_device_mismatch() {
    use lantern::nn::functional::layer_norm;
    let (x, w) = (t(&[2, 4, 3]), t(&[4]));
    let check = |r: Result<Tensor>, want: Kind, needles: &[&str]| {
        let e = r.expect_err("an error");
        let msg = e.to_string();
        assert_eq!(
            (kind(&e), op_of(&e)),
            (Some(want), Some("layer_norm")),
            "{e:?}"
        );
        for n in needles {
            assert!(msg.contains(n), "message does not name {n:?}: {msg}");
        }
    };
    // normalized_shape must be x's trailing dims; weight and bias must be normalized_shape.
    check(
        layer_norm(&x, &[4], None, None, 1e-5),
        Kind::Shape,
        &["[2, 4, 3]", "[4]"],
    );
    check(
        layer_norm(&x, &[4, 4], None, None, 1e-5),
        Kind::Shape,
        &["[2, 4, 3]", "[4, 4]"],
    );
    check(
        layer_norm(&x, &[], None, None, 1e-5),
        Kind::Shape,
        &["[2, 4, 3]", "[]"],
    );
    check(
        layer_norm(&x, &[3], Some(&w), None, 1e-5),
        Kind::Shape,
        &["[2, 4, 3]", "[3]", "[4]"],
    );
    check(
        layer_norm(&x, &[3], None, Some(&w), 1e-5),
        Kind::Shape,
        &["[2, 4, 3]", "[3]", "[4]"],
    );
    check(
        layer_norm(&ti(&[1, 2, 3], &[3]), &[3], None, None, 1e-5),
        Kind::DType,
        &["int64"],
    );
    let other = t(&[3]).to_device(&fresh_device());
    check(
        layer_norm(&x, &[3], Some(&other), None, 1e-5),
        Kind::Device,
        &[],
    );
    // Parameters of another float dtype are cast to x's (f32 ones for an f16 input, as
    // PyTorch's mixed-type layer norm): the output keeps x's dtype.
    let xh = x.to_dtype(lantern::DType::F16);
    let y = layer_norm(&xh, &[3], Some(&t(&[3])), None, 1e-5).expect("f32 weight, f16 input");
    assert_eq!(y.dtype(), lantern::DType::F16);
}

#[test]
fn conv1d_channel_mismatch_names_conv1d() {
    let (x, w) = (t(&[1, 3, 8]), t(&[2, 4, 3]));
    let e = x.try_conv1d(&w, None, 1, 0, 1, 1).unwrap_err();
    assert_eq!(kind(&e), Some(Kind::Shape), "{e:?}");
    assert_eq!(op_of(&e), Some("conv1d"), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("[1, 3, 8]") && msg.contains("[2, 4, 3]"),
        "{msg}"
    );
}

#[test]
fn conv2d_input_smaller_than_kernel() {
    let (x, w) = (t(&[1, 1, 2, 2]), t(&[1, 1, 3, 3]));
    let o = Conv2dOpts::default();
    expect(
        x.try_conv2d(&w, None, o),
        Kind::Shape,
        "conv2d",
        &["3"],
        || x.conv2d(&w, None, o),
    );
}

#[test]
fn bad_reshape_sizes() {
    let x = t(&[2, 3]);
    expect(
        x.try_reshape(&[4, -1]),
        Kind::Shape,
        "reshape",
        &["6", "[2, 3]", "[4, -1]"],
        || x.reshape(&[4, -1]),
    );
    expect(
        x.try_reshape(&[4, 2]),
        Kind::Shape,
        "reshape",
        &["6", "[2, 3]", "[4, 2]"],
        || x.reshape(&[4, 2]),
    );
    expect(
        x.try_reshape(&[-1, -1]),
        Kind::Arg,
        "reshape",
        &["-1"],
        || x.reshape(&[-1, -1]),
    );
    expect(
        x.try_reshape(&[-2, -3]),
        Kind::Arg,
        "reshape",
        &["-2"],
        || x.reshape(&[-2, -3]),
    );
}

#[test]
fn view_of_a_non_viewable_layout() {
    let x = t(&[2, 3]).t();
    expect(
        x.try_view(&[6]),
        Kind::Shape,
        "view",
        &["[3, 2]", "reshape"],
        || x.view(&[6]),
    );
}

#[test]
fn broadcast_and_expand_mismatch() {
    let x = t(&[2, 3]);
    expect(
        x.try_broadcast_to(&[4, 3]),
        Kind::Shape,
        "broadcast_to",
        &["[2, 3]", "[4, 3]"],
        || x.broadcast_to(&[4, 3]),
    );
    expect(
        x.try_expand(&[3]),
        Kind::Shape,
        "expand",
        &["2", "[3]"],
        || x.expand(&[3]),
    );
    expect(
        x.try_expand(&[-1, 2, 3]),
        Kind::Arg,
        "expand",
        &["-1"],
        || x.expand(&[-1, 2, 3]),
    );
}

#[test]
fn cat_and_stack_mismatch() {
    let (a, b) = (t(&[2, 3]), t(&[2, 4]));
    expect(
        Tensor::try_cat(&[a.clone(), b.clone()], 0),
        Kind::Shape,
        "cat",
        &["[2, 3]", "[2, 4]"],
        || Tensor::cat(&[a.clone(), b.clone()], 0),
    );
    let c = t(&[6]);
    expect(
        Tensor::try_cat(&[a.clone(), c.clone()], 0),
        Kind::Shape,
        "cat",
        &["[2, 3]", "[6]"],
        || Tensor::cat(&[a.clone(), c.clone()], 0),
    );
    expect(
        Tensor::try_cat(&[], 0),
        Kind::Arg,
        "cat",
        &["empty"],
        || Tensor::cat(&[], 0),
    );
    let d = t(&[3, 2]);
    expect(
        Tensor::try_stack(&[a.clone(), d.clone()], 0),
        Kind::Shape,
        "stack",
        &["[2, 3]", "[3, 2]"],
        || Tensor::stack(&[a.clone(), d.clone()], 0),
    );
    expect(
        Tensor::try_cat(&[a.clone(), a.clone()], 2),
        Kind::Arg,
        "cat",
        &["dim 2", "rank 2"],
        || Tensor::cat(&[a.clone(), a.clone()], 2),
    );
}

#[test]
fn cat_of_0_dim_tensors() {
    let s = sc(1.0);
    expect(
        Tensor::try_cat(&[s.clone(), s.clone()], 0),
        Kind::Arg,
        "cat",
        &["0-dim"],
        || Tensor::cat(&[s.clone(), s.clone()], 0),
    );
    // stack of 0-dim tensors is fine: [2].
    assert_eq!(Tensor::stack(&[s.clone(), s], 0).dims(), &[2]);
}

#[test]
fn split_sizes_mismatch() {
    let x = t(&[5, 2]);
    let e = x.try_split_sizes(&[2, 2], 0).unwrap_err();
    assert_eq!(kind(&e), Some(Kind::Shape));
    assert!(
        e.to_string().contains("[5, 2]") && e.to_string().contains("[2, 2]"),
        "{e}"
    );
    expect(x.try_chunk(0, 0), Kind::Arg, "chunk", &["positive"], || {
        x.chunk(0, 0)
    });
}

// ---- dims -------------------------------------------------------------------------------

#[test]
fn dim_out_of_range() {
    let x = t(&[2, 3]);
    expect(
        x.try_sum(Some(&[2]), false),
        Kind::Arg,
        "sum",
        &["dim 2", "rank 2", "[-2, 1]"],
        || x.sum(Some(&[2]), false),
    );
    expect(
        x.try_softmax(-3),
        Kind::Arg,
        "softmax",
        &["dim -3", "rank 2"],
        || x.softmax(-3),
    );
    expect(
        x.try_transpose(0, 2),
        Kind::Arg,
        "transpose",
        &["dim 2"],
        || x.transpose(0, 2),
    );
    expect(
        x.try_unsqueeze(3),
        Kind::Arg,
        "unsqueeze",
        &["dim 3"],
        || x.unsqueeze(3),
    );
    expect(
        x.try_squeeze(Some(2)),
        Kind::Arg,
        "squeeze",
        &["dim 2"],
        || x.squeeze(Some(2)),
    );
    expect(
        x.try_argmax(Some(5), false),
        Kind::Arg,
        "argmax",
        &["dim 5"],
        || x.argmax(Some(5), false),
    );
    expect(x.try_cumsum(2), Kind::Arg, "cumsum", &["dim 2"], || {
        x.cumsum(2)
    });
    expect(x.try_cumprod(-3), Kind::Arg, "cumprod", &["dim -3"], || {
        x.cumprod(-3)
    });
}

#[test]
fn repeated_dims() {
    let x = t(&[2, 3]);
    expect(
        x.try_sum(Some(&[0, -2]), false),
        Kind::Arg,
        "sum",
        &["appears more than once", "[0, -2]"],
        || x.sum(Some(&[0, -2]), false),
    );
    expect(
        x.try_amax(Some(&[1, 1]), false),
        Kind::Arg,
        "amax",
        &["[1, 1]"],
        || x.amax(Some(&[1, 1]), false),
    );
    expect(
        x.try_permute(&[1, 1]),
        Kind::Arg,
        "permute",
        &["repeated", "[1, 1]"],
        || x.permute(&[1, 1]),
    );
    expect(
        x.try_permute(&[1, 0, 2]),
        Kind::Shape,
        "permute",
        &["[2, 3]", "[1, 0, 2]"],
        || x.permute(&[1, 0, 2]),
    );
    expect(
        x.try_flatten(1, 0),
        Kind::Arg,
        "flatten",
        &["start_dim"],
        || x.flatten(1, 0),
    );
}

#[test]
fn narrow_select_slice_out_of_range() {
    let x = t(&[2, 3]);
    expect(
        x.try_narrow(1, 2, 2),
        Kind::Arg,
        "narrow",
        &["start 2", "length 2", "size 3", "[2, 3]"],
        || x.narrow(1, 2, 2),
    );
    expect(
        x.try_narrow(2, 0, 1),
        Kind::Arg,
        "narrow",
        &["dim 2"],
        || x.narrow(2, 0, 1),
    );
    expect(
        x.try_select(0, 2),
        Kind::Arg,
        "select",
        &["index 2", "size 2"],
        || x.select(0, 2),
    );
    expect(
        x.try_select(1, -4),
        Kind::Arg,
        "select",
        &["index -4", "size 3"],
        || x.select(1, -4),
    );
    expect(
        x.try_slice(0, 0, None, 0),
        Kind::Arg,
        "slice",
        &["step"],
        || x.slice(0, 0, None, 0),
    );
    expect(
        x.try_slice(3, 0, None, 1),
        Kind::Arg,
        "slice",
        &["dim 3"],
        || x.slice(3, 0, None, 1),
    );
}

#[test]
fn view_ops_on_a_0_dim_tensor() {
    let s = sc(1.0);
    expect(s.try_select(0, 0), Kind::Arg, "select", &["0-dim"], || {
        s.select(0, 0)
    });
    expect(
        s.try_narrow(0, 0, 1),
        Kind::Arg,
        "narrow",
        &["0-dim"],
        || s.narrow(0, 0, 1),
    );
    expect(
        s.try_slice(0, 0, None, 1),
        Kind::Arg,
        "slice",
        &["0-dim"],
        || s.slice(0, 0, None, 1),
    );
    expect(s.try_split(1, 0), Kind::Arg, "split", &["0-dim"], || {
        s.split(1, 0)
    });
    expect(
        s.try_unflatten(0, &[1]),
        Kind::Arg,
        "unflatten",
        &["0-dim"],
        || s.unflatten(0, &[1]),
    );
}

#[test]
fn reductions_over_dim_0_of_a_0_dim_tensor_work() {
    // PyTorch allows dim 0 and -1 on 0-dim tensors for reductions and scans.
    let s = sc(2.5);
    assert_eq!(s.sum(Some(&[0]), false).to_vec::<f32>(), vec![2.5]);
    assert_eq!(s.sum(Some(&[-1]), true).dims(), &[] as &[usize]);
    assert_eq!(s.mean(Some(&[0]), false).to_vec::<f32>(), vec![2.5]);
    assert_eq!(s.amax(Some(&[0]), false).to_vec::<f32>(), vec![2.5]);
    assert_eq!(s.argmax(Some(0), false).to_vec::<i64>(), vec![0]);
    assert_eq!(s.cumsum(0).to_vec::<f32>(), vec![2.5]);
    expect(
        s.try_sum(Some(&[1]), false),
        Kind::Arg,
        "sum",
        &["dim 1"],
        || s.sum(Some(&[1]), false),
    );
    expect(s.try_cumsum(1), Kind::Arg, "cumsum", &["dim 1"], || {
        s.cumsum(1)
    });
}

#[test]
fn size_of_a_0_dim_tensor() {
    let s = sc(1.0);
    let r = catch_unwind(AssertUnwindSafe(|| s.try_size(0)));
    match r {
        Ok(Err(e)) => assert_eq!(kind(&e), Some(Kind::Arg), "{e}"),
        Ok(Ok(n)) => panic!("size(0) of a 0-dim tensor gave {n}"),
        Err(p) => panic!("try_size(0) of a 0-dim tensor panicked: {}", panic_text(p)),
    }
}

// ---- indexing ---------------------------------------------------------------------------

#[test]
fn gather_wrong_index_dtype_and_range() {
    let x = t(&[4, 3]);
    let i32_idx = ti(&[0, 1, 2], &[1, 3]).to_dtype(DType::I32);
    expect(
        x.try_gather(0, &i32_idx),
        Kind::DType,
        "gather",
        &["int64", "int32"],
        || x.gather(0, &i32_idx),
    );
    let far = ti(&[0, 7, 2], &[1, 3]);
    expect(
        x.try_gather(0, &far),
        Kind::Arg,
        "gather",
        &["index 7", "size 4"],
        || x.gather(0, &far),
    );
    let flat = ti(&[0, 1], &[2]);
    expect(
        x.try_gather(0, &flat),
        Kind::Shape,
        "gather",
        &["rank 2", "[2]"],
        || x.gather(0, &flat),
    );
}

#[test]
fn index_select_wrong_index_dtype_and_range() {
    let x = t(&[4, 3]);
    let f = Tensor::from_slice(&[0.0f32, 1.0], [2], &cpu());
    expect(
        x.try_index_select(0, &f),
        Kind::DType,
        "index_select",
        &["int64", "float32"],
        || x.index_select(0, &f),
    );
    let far = ti(&[3, -5], &[2]);
    expect(
        x.try_index_select(0, &far),
        Kind::Arg,
        "index_select",
        &["index -5", "size 4"],
        || x.index_select(0, &far),
    );
    let two_d = ti(&[0, 1], &[1, 2]);
    expect(
        x.try_index_select(0, &two_d),
        Kind::Shape,
        "index_select",
        &["1-D", "[1, 2]"],
        || x.index_select(0, &two_d),
    );
}

#[test]
fn scatter_add_wrong_index_dtype_range_and_src() {
    let x = t(&[4, 3]);
    let src = t(&[2, 3]);
    let bad = ti(&[0, 1, 2, 3, 0, 1], &[2, 3]).to_dtype(DType::I32);
    expect(
        x.try_scatter_add(0, &bad, &src),
        Kind::DType,
        "scatter_add",
        &["int64", "int32"],
        || x.scatter_add(0, &bad, &src),
    );
    let far = ti(&[0, 1, 2, 3, 4, 1], &[2, 3]);
    expect(
        x.try_scatter_add(0, &far, &src),
        Kind::Arg,
        "scatter_add",
        &["index 4", "size 4"],
        || x.scatter_add(0, &far, &src),
    );
    let ok = ti(&[0, 1, 2, 3, 0, 1], &[2, 3]);
    let src64 = src.to_dtype(DType::F64);
    expect(
        x.try_scatter_add(0, &ok, &src64),
        Kind::DType,
        "scatter_add",
        &["float32", "float64"],
        || x.scatter_add(0, &ok, &src64),
    );
    let big = ti(&[0; 12], &[3, 4]);
    expect(
        x.try_scatter_add(0, &big, &src),
        Kind::Shape,
        "scatter_add",
        &["[3, 4]", "[2, 3]"],
        || x.scatter_add(0, &big, &src),
    );
}

#[test]
fn scatter_add_on_0_dim_tensors() {
    let s = sc(1.0);
    let i = Tensor::try_scalar(0, DType::I64, &cpu()).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| s.try_scatter_add(0, &i, &s)));
    match r {
        Ok(Ok(v)) => assert_eq!(v.to_vec::<f32>(), vec![2.0]),
        Ok(Err(e)) => panic!("scatter_add on 0-dim tensors failed: {e}"),
        Err(p) => panic!("scatter_add on 0-dim tensors panicked: {}", panic_text(p)),
    }
}

#[test]
fn one_hot_out_of_range() {
    let x = ti(&[0, 5, 1], &[3]);
    expect(
        x.try_one_hot(Some(3)),
        Kind::Arg,
        "one_hot",
        &["5", "3"],
        || x.one_hot(Some(3)),
    );
    let neg = ti(&[0, -1], &[2]);
    expect(
        neg.try_one_hot(None),
        Kind::Arg,
        "one_hot",
        &["non-negative"],
        || neg.one_hot(None),
    );
    let f = t(&[2]);
    expect(
        f.try_one_hot(Some(3)),
        Kind::DType,
        "one_hot",
        &["int64", "float32"],
        || f.one_hot(Some(3)),
    );
}

// ---- dtypes -----------------------------------------------------------------------------

#[test]
fn mean_and_var_of_ints() {
    let x = ti(&[1, 2, 3], &[3]);
    expect(
        x.try_mean(None, false),
        Kind::DType,
        "mean",
        &["int64"],
        || x.mean(None, false),
    );
    expect(
        x.try_var(None, 1.0, false),
        Kind::DType,
        "var",
        &["int64"],
        || x.var(None, 1.0, false),
    );
    expect(
        x.try_norm(lantern::NormOrd::P(2.0), None, false),
        Kind::DType,
        "norm",
        &["int64"],
        || x.norm(lantern::NormOrd::P(2.0), None, false),
    );
}

#[test]
fn bitwise_on_floats() {
    let (a, b) = (t(&[3]), t(&[3]));
    expect(
        a.try_bitwise_and(&b),
        Kind::DType,
        "bitwise_and",
        &["float32"],
        || a.bitwise_and(&b),
    );
    let i = ti(&[1, 2, 3], &[3]);
    expect(
        i.try_bitwise_xor(&a),
        Kind::DType,
        "bitwise_xor",
        &["float32"],
        || i.bitwise_xor(&a),
    );
    expect(
        i.try_bitwise_or_scalar(0.5),
        Kind::DType,
        "bitwise_or",
        &["float32"],
        || i.bitwise_or_scalar(0.5),
    );
}

#[test]
fn to_vec_with_the_wrong_type() {
    let x = t(&[3]);
    expect(
        x.try_to_vec::<i64>(),
        Kind::DType,
        "to_vec",
        &["float32", "int64"],
        || x.to_vec::<i64>(),
    );
    let e = lantern::block_on(x.to_vec_async::<f64>()).unwrap_err();
    assert_eq!(kind(&e), Some(Kind::DType));
    assert!(e.to_string().contains("float64"), "{e}");
    expect(x.try_item::<f32>(), Kind::Shape, "item", &["[3]"], || {
        x.item::<f32>()
    });
}

#[test]
fn other_dtype_errors() {
    let b = t(&[3]).try_gt_scalar(0.5).unwrap();
    expect(b.try_sub(&b), Kind::DType, "sub", &["bool"], || b.sub(&b));
    let x = t(&[3]);
    let fmask = t(&[3]);
    expect(
        x.try_masked_fill(&fmask, 1.0),
        Kind::DType,
        "masked_fill",
        &["bool", "float32"],
        || x.masked_fill(&fmask, 1.0.into()),
    );
    let i = ti(&[1, 2, 3], &[3]);
    expect(
        i.try_div_(&i).cloned(),
        Kind::DType,
        "div_",
        &["int64"],
        || {
            i.try_div_(&i).unwrap_or_else(|e| panic!("{e}"));
            i.clone()
        },
    );
    expect(
        Tensor::try_rand([2], DType::I64, &cpu()),
        Kind::DType,
        "rand",
        &["int64"],
        || Tensor::rand([2], DType::I64, &cpu()),
    );
    let w = t(&[1, 1, 1, 1]).to_dtype(DType::F64);
    let img = t(&[1, 1, 2, 2]);
    let o = Conv2dOpts::default();
    expect(
        img.try_conv2d(&w, None, o),
        Kind::DType,
        "conv2d",
        &["float32", "float64"],
        || img.conv2d(&w, None, o),
    );
}

// ---- arithmetic -------------------------------------------------------------------------

#[test]
fn integer_division_by_zero() {
    let x = ti(&[7, -7, 3], &[3]);
    let z = ti(&[2, 0, 1], &[3]);
    // The message names the primitive ("floor_div", "rem"), the stem of the public name.
    expect(
        x.try_floor_divide(&z),
        Kind::Arg,
        "floor_div",
        &["division by zero"],
        || x.floor_divide(&z),
    );
    expect(
        x.try_remainder_scalar(0),
        Kind::Arg,
        "rem",
        &["division by zero"],
        || x.remainder_scalar(0),
    );
    let x32 = x.to_dtype(DType::I32);
    expect(
        x32.try_floor_divide_scalar(0),
        Kind::Arg,
        "floor_div",
        &["division by zero"],
        || x32.floor_divide_scalar(0),
    );
    // True division of ints is float division: no error, PyTorch's inf.
    assert_eq!(x.div(&z).to_vec::<f32>(), vec![3.5, f32::NEG_INFINITY, 3.0]);
}

#[test]
fn integer_negative_power() {
    let x = ti(&[2, 3], &[2]);
    expect(
        x.try_pow_scalar(-1),
        Kind::Arg,
        "pow",
        &["negative"],
        || x.pow_scalar((-1).into()),
    );
}

#[test]
fn empty_reductions_and_bad_arguments() {
    let e = t(&[0, 3]);
    expect(
        e.try_amax(None, false),
        Kind::Arg,
        "amax",
        &["empty", "[0, 3]"],
        || e.amax(None, false),
    );
    expect(
        e.try_argmin(Some(0), false),
        Kind::Arg,
        "argmin",
        &["empty", "[0, 3]"],
        || e.argmin(Some(0), false),
    );
    let x = t(&[3]);
    expect(
        x.try_clamp(None, None),
        Kind::Arg,
        "clamp",
        &["min"],
        || x.clamp(None, None),
    );
    expect(x.try_pad(&[1], 0.0), Kind::Arg, "pad", &["[1]"], || {
        x.pad(&[1], 0.0)
    });
    expect(
        Tensor::try_arange(0.0, 1.0, 0.0, DType::F32, &cpu()),
        Kind::Arg,
        "arange",
        &["step 0"],
        || Tensor::arange(0.0, 1.0, 0.0, DType::F32, &cpu()),
    );
    expect(
        Tensor::try_from_slice(&[1.0f32; 5], [2, 3], &cpu()),
        Kind::Shape,
        "from_slice",
        &["6", "[2, 3]", "5"],
        || Tensor::from_slice(&[1.0f32; 5], [2, 3], &cpu()),
    );
    expect(
        Tensor::try_randint(3, 3, [2], &cpu()),
        Kind::Arg,
        "randint",
        &["3"],
        || Tensor::randint(3, 3, [2], &cpu()),
    );
    let img = t(&[1, 1, 4, 4]);
    expect(
        img.try_max_pool2d([2, 2], [2, 2], [2, 2], [1, 1]),
        Kind::Arg,
        "max_pool2d",
        &["[2, 2]"],
        || img.max_pool2d([2, 2], [2, 2], [2, 2], [1, 1]),
    );
    let ex = t(&[1, 3]).expand(&[2, 3]);
    let one = t(&[3]);
    expect(
        ex.try_add_(&one).cloned(),
        Kind::Arg,
        "add_",
        &["broadcast"],
        || {
            ex.try_add_(&one).unwrap_or_else(|e| panic!("{e}"));
            ex.clone()
        },
    );
}

// ---- memory and devices -----------------------------------------------------------------

#[test]
fn out_of_memory_with_a_limit() {
    let dev = fresh_device();
    dev.set_memory_limit(Some(1 << 20));
    let e = expect(
        Tensor::try_zeros([1 << 20], DType::F32, &dev),
        Kind::OutOfMemory,
        "",
        &["out of memory", "4.0 MiB", "cpu", "limit 1.0 MiB"],
        || Tensor::zeros([1 << 20], DType::F32, &dev),
    );
    match e {
        Error::OutOfMemory {
            requested, limit, ..
        } => {
            assert_eq!(requested, 4 << 20);
            assert_eq!(limit, Some(1 << 20));
        }
        e => panic!("{e:?}"),
    }
    // An op whose output does not fit fails the same way, and the device keeps working.
    let small = Tensor::ones([1000], DType::F32, &dev);
    let r = small
        .try_broadcast_to(&[1000, 1000])
        .unwrap()
        .try_contiguous();
    assert!(matches!(r, Err(Error::OutOfMemory { .. })), "{r:?}");
    dev.set_memory_limit(None);
    let big = Tensor::zeros([1 << 20], DType::F32, &dev);
    assert_eq!(big.sum(None, false).item::<f32>(), 0.0);
}

#[test]
fn mixing_devices() {
    let other = fresh_device();
    let a = t(&[2, 2]);
    let b = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &other);
    assert_ne!(
        a.device(),
        b.device(),
        "two CPU driver instances compare equal"
    );
    expect(
        a.try_add(&b),
        Kind::Device,
        "add",
        &["same device", "cpu"],
        || &a + &b,
    );
    expect(
        b.try_matmul(&a),
        Kind::Device,
        "matmul",
        &["same device"],
        || b.matmul(&a),
    );
    expect(
        Tensor::try_cat(&[a.clone(), b.clone()], 0),
        Kind::Device,
        "cat",
        &["same device"],
        || Tensor::cat(&[a.clone(), b.clone()], 0),
    );
    let c = a.gt_scalar(1.0);
    expect(
        Tensor::try_where(&c, &a, &b),
        Kind::Device,
        "where",
        &["same device"],
        || Tensor::where_(&c, &a, &b),
    );
    expect(
        a.try_copy_(&b).cloned(),
        Kind::Device,
        "copy_",
        &["same device"],
        || {
            a.try_copy_(&b).unwrap_or_else(|e| panic!("{e}"));
            a.clone()
        },
    );
    let idx = Tensor::from_slice(&[0i64], [1], &other);
    expect(
        a.try_gather(0, &idx.reshape(&[1, 1])),
        Kind::Device,
        "gather",
        &["same device"],
        || a.gather(0, &idx.reshape(&[1, 1])),
    );
    // Moving a tensor makes the op valid.
    let moved = b.to_device(&cpu());
    assert_eq!(a.add(&moved).to_vec::<f32>(), vec![1.0, 3.0, 5.0, 7.0]);
}
