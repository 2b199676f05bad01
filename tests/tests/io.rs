//! safetensors interop with PyTorch (`lantern::io`): the fixture written by
//! `tests/gen_io_fixtures.py` with `safetensors.torch` loads with the exact values, Lantern's
//! re-save is byte-identical to torch's file, a model loaded from it gives torch's outputs,
//! modules round-trip, and malformed files are errors. The test also writes
//! `tests/fixtures/state_dict_lantern.safetensors`, which the script loads in torch and checks.

use lantern::nn::{Linear, Module, ReLU, Sequential};
use lantern::{io, DType, Device, Error, Tensor};
use lantern_tests::fixtures::fixtures_dir;

fn torch_file() -> Vec<u8> {
    std::fs::read(fixtures_dir().join("state_dict.safetensors"))
        .expect("tests/fixtures/state_dict.safetensors: run tests/gen_io_fixtures.py")
}

fn get<'a>(sd: &'a [(String, Tensor)], k: &str) -> &'a Tensor {
    &sd.iter()
        .find(|(n, _)| n == k)
        .unwrap_or_else(|| panic!("no key {k}"))
        .1
}

/// The `dtypes.*` tensors of the script's `dtype_zoo`, built by Lantern.
fn dtype_zoo() -> Vec<(String, Tensor)> {
    let cpu = Device::cpu();
    let f =
        |v: &[f32], s: &[usize], dt: DType| Tensor::from_slice(v, s.to_vec(), &cpu).to_dtype(dt);
    let f64v: Vec<f64> = (0..6).map(|i| i as f64 / 3.0).collect();
    vec![
        ("dtypes.f64".into(), Tensor::from_slice(&f64v, [2, 3], &cpu)),
        (
            "dtypes.f32".into(),
            Tensor::from_slice(&[-0.5f32, -0.25, 0.0, 0.25, 0.5], [5], &cpu),
        ),
        (
            "dtypes.f16".into(),
            f(&[-1.0, -0.5, 0.0, 0.5], &[4], DType::F16),
        ),
        ("dtypes.bf16".into(), f(&[0.0, 1.5, 3.0], &[3], DType::BF16)),
        (
            "dtypes.i64".into(),
            Tensor::from_slice(&[-(1i64 << 40), 0, 7, 1 << 62], [4], &cpu),
        ),
        (
            "dtypes.i32".into(),
            Tensor::from_slice(&[-5i32, 100000, 3, i32::MIN], [2, 2], &cpu),
        ),
        (
            "dtypes.i8".into(),
            Tensor::from_slice(&[-128i8, 0, 127], [3], &cpu),
        ),
        (
            "dtypes.u8".into(),
            Tensor::from_slice(&[0u8, 255, 7, 1], [4], &cpu),
        ),
        (
            "dtypes.bool".into(),
            Tensor::from_slice(&[true, false, true], [3], &cpu),
        ),
        (
            "dtypes.scalar".into(),
            Tensor::from_slice(&[3.5f32], Vec::<usize>::new(), &cpu),
        ),
        (
            "dtypes.empty".into(),
            Tensor::zeros([0, 3], DType::F32, &cpu),
        ),
    ]
}

fn mlp() -> Sequential {
    let cpu = Device::cpu();
    Sequential::new()
        .add(Linear::new(4, 8, true, &cpu).unwrap())
        .add(ReLU)
        .add(Linear::new(8, 3, true, &cpu).unwrap())
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|x| x.to_bits()).collect()
}

#[test]
fn torch_fixture_loads_with_exact_values() {
    let bytes = torch_file();
    let (sd, md) = io::load_state_dict_with_metadata(&bytes, &Device::cpu()).unwrap();
    assert_eq!(md, vec![("format".to_string(), "pt".to_string())]);
    assert_eq!(sd.len(), 17);
    for (k, want) in dtype_zoo() {
        let got = get(&sd, &k);
        assert_eq!(got.dtype(), want.dtype(), "{k}");
        assert_eq!(got.dims(), want.dims(), "{k}");
        assert_eq!(bits(got), bits(&want), "{k}");
    }
    assert_eq!(get(&sd, "0.weight").dims(), &[8, 4]);
    assert_eq!(get(&sd, "2.bias").dims(), &[3]);
    let x = get(&sd, "io.input").to_vec::<f32>();
    assert_eq!(x[0], -2.0);
    assert_eq!(x[19], 2.0);
}

#[test]
fn resave_is_byte_identical_to_torch() {
    let bytes = torch_file();
    let sd = io::load_state_dict(&bytes).unwrap();
    let md = [("format".to_string(), "pt".to_string())];
    let again = io::save_state_dict_with_metadata(&sd, &md).unwrap();
    assert_eq!(again.len(), bytes.len());
    assert!(again == bytes, "Lantern's bytes differ from torch's");
    // The order of the input does not matter: the writer sorts as the reference does.
    let mut rev = sd.clone();
    rev.reverse();
    assert!(io::save_state_dict_with_metadata(&rev, &md).unwrap() == bytes);
}

#[test]
fn torch_weights_give_torch_outputs_and_modules_round_trip() {
    let sd = io::load_state_dict(&torch_file()).unwrap();
    let model = mlp();
    let weights: Vec<(String, Tensor)> = sd
        .iter()
        .filter(|(k, _)| k.starts_with(|c: char| c.is_ascii_digit()))
        .cloned()
        .collect();
    model.load_state_dict(&weights).unwrap();
    let x = get(&sd, "io.input");
    let y = model.forward(x).unwrap().to_vec::<f32>();
    let want = get(&sd, "io.output").to_vec::<f32>();
    for (g, w) in y.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{g} vs torch {w}");
    }

    // Round trip through bytes and through a file into a fresh (differently initialised) model.
    let bytes = io::save_state_dict(&model.state_dict()).unwrap();
    let other = mlp();
    assert_ne!(other.forward(x).unwrap().to_vec::<f32>(), y);
    other
        .load_state_dict(&io::load_state_dict(&bytes).unwrap())
        .unwrap();
    assert_eq!(other.forward(x).unwrap().to_vec::<f32>(), y);
    let path = std::env::temp_dir().join(format!("lantern-io-{}.safetensors", std::process::id()));
    io::save_file(&model.state_dict(), &path).unwrap();
    let third = mlp();
    third
        .load_state_dict(&io::load_file(&path).unwrap())
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(third.forward(x).unwrap().to_vec::<f32>(), y);

    // The file the fixture script loads in torch: the dtype zoo and these weights times 2.
    let mut out = dtype_zoo();
    for (k, t) in model.state_dict() {
        out.push((format!("model.{k}"), t.detach().mul_scalar(2.0)));
    }
    let md = [("format".to_string(), "pt".to_string())];
    let lbytes = io::save_state_dict_with_metadata(&out, &md).unwrap();
    let lpath = fixtures_dir().join("state_dict_lantern.safetensors");
    if std::fs::read(&lpath).ok().as_deref() != Some(&lbytes[..]) {
        std::fs::write(&lpath, &lbytes).unwrap();
    }
}

#[test]
fn non_contiguous_and_views_save_row_major() {
    let cpu = Device::cpu();
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3], &cpu);
    let t = a.t();
    let b = io::save_state_dict(&[("t".into(), t.clone())]).unwrap();
    let back = io::load_state_dict(&b).unwrap();
    assert_eq!(back[0].1.dims(), &[3, 2]);
    assert_eq!(back[0].1.to_vec::<f32>(), t.contiguous().to_vec::<f32>());
    let dup = io::save_state_dict(&[("x".into(), a.clone()), ("x".into(), a)]);
    assert!(matches!(dup, Err(Error::Arg { .. })));
}

fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn malformed_files_are_format_errors() {
    let good = torch_file();
    let hdr = |h: &str, d: &[u8]| io::load_state_dict(&with_header(h, d));
    let t = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert!(hdr(t, &[0; 8]).is_ok());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "shorter than"),
        ("7 bytes", vec![0; 7], "shorter than"),
        ("truncated", good[..good.len() - 1].to_vec(), "past the end"),
        ("extra byte", [&good[..], &[0]].concat(), "cover"),
        (
            "header too long",
            [&u64::MAX.to_le_bytes()[..], b"{}"].concat(),
            "limit",
        ),
        (
            "header past end",
            [&64u64.to_le_bytes()[..], b"{}"].concat(),
            "past the end",
        ),
        (
            "not utf8",
            with_header("\u{0}", &[])
                .into_iter()
                .map(|b| if b == 0 { 0xff } else { b })
                .collect(),
            "",
        ),
        ("not json", with_header("{\"a\":", &[]), "JSON"),
        ("not object", with_header("[1,2]", &[]), "not a JSON object"),
        (
            "entry not object",
            with_header(r#"{"a":3}"#, &[]),
            "not an object",
        ),
        (
            "no dtype",
            with_header(r#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, &[0; 4]),
            "dtype",
        ),
        (
            "bad dtype",
            with_header(
                r#"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "unknown dtype",
        ),
        (
            "negative dim",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "non-negative",
        ),
        (
            "float dim",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "non-negative",
        ),
        (
            "one offset",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
                &[0; 4],
            ),
            "pair",
        ),
        (
            "size mismatch",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
                &[0; 4],
            ),
            "do not hold",
        ),
        (
            "reversed offsets",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#,
                &[0; 4],
            ),
            "do not hold",
        ),
        (
            "past end",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                &[0; 4],
            ),
            "past the end",
        ),
        (
            "gap",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
            "gap",
        ),
        (
            "overlap",
            with_header(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
            "gap or overlap",
        ),
        (
            "huge shape",
            with_header(
                r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#,
                &[],
            ),
            "byte size",
        ),
        (
            "dim over u64",
            with_header(
                r#"{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}}"#,
                &[],
            ),
            "non-negative",
        ),
        (
            "bad metadata",
            with_header(r#"{"__metadata__":{"k":1}}"#, &[]),
            "not a string",
        ),
        (
            "bad bool",
            with_header(
                r#"{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}"#,
                &[2],
            ),
            "BOOL",
        ),
    ];
    for (what, bytes, needle) in cases {
        match io::load_state_dict(&bytes) {
            Err(Error::Format(m)) => {
                assert!(m.contains(needle), "{what}: message {m:?} lacks {needle:?}")
            }
            Err(e) => panic!("{what}: expected Error::Format, got {e}"),
            Ok(_) => panic!("{what}: loaded"),
        }
    }
    // Well-formed, but a dtype Lantern lacks.
    let e = hdr(
        r#"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#,
        &[0; 2],
    )
    .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    // Every truncation of a real file is an error, never a panic.
    for n in 0..good.len() {
        assert!(
            io::load_state_dict(&good[..n]).is_err(),
            "prefix of {n} bytes loaded"
        );
    }
}

#[test]
fn mismatched_state_dict_is_an_error() {
    let sd = io::load_state_dict(&torch_file()).unwrap();
    let model = mlp();
    // The fixture holds more than the model's keys: strict loading names them.
    let e = model.load_state_dict(&sd).unwrap_err().to_string();
    assert!(e.contains("io.input"), "{e}");
}
