//! The bindings in wasm (Node, or headless Chromium with WASM_BINDGEN_USE_BROWSER=1):
//! values through the async readback, errors thrown as JS errors with core's messages, no
//! trap on bad input, training, safetensors from PyTorch, handle accounting.
#![cfg(target_arch = "wasm32")]

use lantern_wasm as lw;
use wasm_bindgen::{JsCast, JsError, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

async fn read_f32(id: u32) -> Vec<f32> {
    let v = JsFuture::from(lw::read(id).unwrap()).await.unwrap();
    v.dyn_into::<js_sys::Float32Array>().unwrap().to_vec()
}

fn message(e: JsError) -> String {
    let v: JsValue = e.into();
    String::from(v.dyn_into::<js_sys::Error>().unwrap().message())
}

fn f32s(data: &[f32], shape: &[u32]) -> u32 {
    lw::from_f32(data, shape, "float32").unwrap()
}

#[wasm_bindgen_test]
async fn matmul_and_broadcast_read_back() {
    let a = f32s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let b = f32s(&[10.0, 20.0], &[2]);
    let c = lw::binary(lw::matmul(a, a).unwrap(), b, "add").unwrap();
    assert_eq!(read_f32(c).await, vec![17.0, 30.0, 25.0, 42.0]);
    assert_eq!(lw::shape_of(c).unwrap(), vec![2, 2]);
    let s = lw::reduce(c, "sum", Some(vec![1]), false).unwrap();
    assert_eq!(read_f32(s).await, vec![47.0, 67.0]);
}

#[wasm_bindgen_test]
async fn int_scalars_keep_the_dtype_and_int64_reads_as_bigint() {
    let a = lw::arange(0.0, 4.0, 1.0, "int64").unwrap();
    let b = lw::binary_scalar(a, 2.0, "mul", false).unwrap();
    assert_eq!(lw::dtype_of(b).unwrap(), "int64");
    let v = JsFuture::from(lw::read(b).unwrap()).await.unwrap();
    let v = v.dyn_into::<js_sys::BigInt64Array>().unwrap().to_vec();
    assert_eq!(v, vec![0, 2, 4, 6]);
    let f = lw::binary_scalar(a, 0.5, "mul", false).unwrap();
    assert_eq!(lw::dtype_of(f).unwrap(), "float32");
}

#[wasm_bindgen_test]
async fn errors_carry_core_messages_and_the_module_keeps_working() {
    let a = f32s(&[1.0; 6], &[2, 3]);
    let labels = lw::arange(0.0, 3.0, 1.0, "int64").unwrap();
    let e = message(lw::matmul(a, a).unwrap_err());
    assert!(e.contains("matmul") && e.contains("[2, 3]"), "{e}");
    // Each of these must come back as an error, never a trap.
    let bad: Vec<Result<u32, JsError>> = vec![
        lw::from_f32(&[1.0, 2.0], &[3], "float32"),
        lw::from_f32(&[1.0], &[1], "float33"),
        lw::full(&[65536, 65536, 65536], 0.0, "float32"),
        lw::full(&[1 << 20, 1 << 20], 0.0, "float64"),
        lw::with_dims(a, "reshape", &[4, 2], 0.0),
        lw::with_dims(a, "permute", &[0, 0], 0.0),
        lw::two_ints(a, "transpose", 0, 5),
        lw::narrow(a, 1, 2, 5),
        lw::slice(a, 9, 0, None, 1),
        lw::unary(a, "nope"),
        lw::along_dim(a, "softmax", -3),
        lw::index(a, "gather", 0, a),
        lw::arange(0.0, 1.0, 0.0, "float32"),
        lw::conv2d(a, a, None, &[1, 1], &[0, 0], &[1, 1], 1),
        lw::pool2d(a, "maxPool2d", &[2, 2], &[1, 1], &[0, 0]),
        lw::loss("crossEntropy", a, labels, "mean", 0.0, -100.0, None, None),
        lw::loss("mseLoss", a, a, "avg", 0.0, -100.0, None, None),
        lw::unary(0xdead, "exp"),
        lw::join(&[], "cat", 0),
    ];
    for (i, r) in bad.into_iter().enumerate() {
        let e = r.err().unwrap_or_else(|| panic!("case {i} should fail"));
        assert!(!message(e).is_empty(), "case {i}");
    }
    assert!(lw::RawModule::linear(4, 3, true)
        .unwrap()
        .forward(a)
        .is_err());
    assert!(lw::RawModule::conv2d(3, 4, &[3, 3], &[1, 1], &[0, 0], &[1, 1], 0, true).is_err());
    assert!(lw::RawModule::group_norm(3, 4, 1e-5, true).is_err());
    assert!(lw::load_safetensors(b"\x10\0\0\0\0\0\0\0{\"a\":").is_err());
    // Still alive and correct.
    let s = lw::reduce(a, "sum", None, false).unwrap();
    assert_eq!(read_f32(s).await, vec![6.0]);
}

#[wasm_bindgen_test]
async fn xor_trains_with_sgd() {
    lw::manual_seed(0.0);
    let x = f32s(&[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
    let y = f32s(&[0.0, 1.0, 1.0, 0.0], &[4, 1]);
    let l1 = lw::RawModule::linear(2, 8, true).unwrap();
    let l2 = lw::RawModule::linear(8, 1, true).unwrap();
    let mut params = l1.param_ids();
    params.extend(l2.param_ids());
    let mut o = lw::OptimOpts::new();
    o.lr = 0.5;
    o.momentum = 0.9;
    let mut opt = lw::RawOptimizer::new("SGD", &params, &o).unwrap();
    let mut last = f32::MAX;
    for _ in 0..300 {
        let h = lw::unary(l1.forward(x).unwrap(), "tanh").unwrap();
        let p = lw::unary(l2.forward(h).unwrap(), "sigmoid").unwrap();
        let loss = lw::loss("mseLoss", p, y, "mean", 0.0, -100.0, None, None).unwrap();
        opt.zero_grad();
        lw::backward(loss, None, false).unwrap();
        opt.step().unwrap();
        last = lw::to_f64_vec(loss).unwrap()[0] as f32;
        for id in [h, p, loss] {
            lw::free(id);
        }
    }
    assert!(last < 0.01, "XOR loss {last}");
}

#[wasm_bindgen_test]
async fn pytorch_safetensors_load_and_run() {
    let bytes = include_bytes!("../../tests/fixtures/state_dict.safetensors");
    let sd = lw::load_safetensors(bytes).unwrap();
    let (names, ids) = (sd.names(), sd.ids());
    let find = |k: &str| ids[names.iter().position(|n| n == k).unwrap()];
    let l0 = lw::RawModule::linear(4, 8, true).unwrap();
    let l2 = lw::RawModule::linear(8, 3, true).unwrap();
    for (m, p) in [(&l0, "0"), (&l2, "2")] {
        let src: Vec<String> = m.param_names().iter().map(|n| format!("{p}.{n}")).collect();
        let src_ids: Vec<u32> = src.iter().map(|k| find(k)).collect();
        lw::load_state_dict(m.param_names(), &m.param_ids(), m.param_names(), &src_ids).unwrap();
    }
    let h = lw::unary(l0.forward(find("io.input")).unwrap(), "relu").unwrap();
    let y = read_f32(l2.forward(h).unwrap()).await;
    let want = read_f32(find("io.output")).await;
    assert_eq!(y.len(), 15);
    for (a, b) in y.iter().zip(&want) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    // Strict loading names what is wrong.
    let e = message(
        lw::load_state_dict(
            l0.param_names(),
            &l0.param_ids(),
            vec!["weight".into()],
            &[find("0.weight")],
        )
        .unwrap_err(),
    );
    assert!(e.contains("bias"), "{e}");
}

#[wasm_bindgen_test]
fn free_releases_handles_and_bytes() {
    let before = lw::memory("wasm").unwrap();
    let t = lw::full(&[1000], 1.0, "float32").unwrap();
    let during = lw::memory("wasm").unwrap();
    assert_eq!(during[4], before[4] + 1.0);
    assert!(during[0] >= before[0] + 4000.0);
    assert!(lw::free(t));
    assert!(!lw::free(t));
    assert!(!lw::is_live(t));
    let after = lw::memory("wasm").unwrap();
    assert_eq!(after[4], before[4]);
    assert_eq!(after[0], before[0]);
    let e = message(lw::unary(t, "exp").unwrap_err());
    assert!(e.contains("released"), "{e}");
}

/// `toString` writes floats with JS (no Rust float formatting in the package) and must print
/// what core's `Display` prints, exact ties (rounded half to even) and `-0.` included.
#[wasm_bindgen_test]
fn format_matches_the_native_printout() {
    let odd32 = |ks: core::ops::Range<i32>| ks.step_by(2).map(|k| f64::from(k) / 32.0);
    let cases: Vec<Vec<f64>> = vec![
        odd32(1001..4001).collect(),
        odd32(1..1001).chain([1e-6]).collect(),
        (10_000..11_000)
            .map(|k| f64::from(k) * 10.0 + 5.0)
            .chain([0.5])
            .collect(),
        vec![-0.0, -0.03125, 0.5, 1.5, -2.25],
        vec![-0.0, -1e-5, 3.0, f64::NAN, f64::NEG_INFINITY, 1e300, 5e-324],
        vec![-0.0, 1.0, -3.0, 1e7],
        (0..300)
            .map(|i| (f64::from(i) * 0.37).sin() * 1e3)
            .collect(),
    ];
    for v in &cases {
        let native = lantern::Tensor::from_slice(v, [v.len()], &lantern::Device::cpu());
        let id = lw::from_f64(v, &[v.len() as u32], "float64").unwrap();
        assert_eq!(lw::format_tensor(id).unwrap(), native.to_string());
        // float32, 2-D: the halves of the values as rows.
        let v32: Vec<f32> = v[..v.len() / 2 * 2].iter().map(|&x| x as f32).collect();
        let half = v32.len() / 2;
        let native = lantern::Tensor::from_slice(&v32, [2, half], &lantern::Device::cpu());
        let id = f32s(&v32, &[2, half as u32]);
        assert_eq!(lw::format_tensor(id).unwrap(), native.to_string());
    }
}
