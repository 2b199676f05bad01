//! PyTorch parity fixtures: loading `tests/fixtures/*.json` (written by
//! `tests/gen_fixtures.py`, whose docstring defines the format), building the input
//! tensors on a device, and comparing results with the expected values.
//!
//! Numbers are kept as their JSON text (serde_json's `arbitrary_precision`) and parsed
//! with `str::parse`, which rounds correctly: the exact cases (casts to f16/bf16 at a tie,
//! `1 + 2^-24`) depend on the last bit, and ints must stay apart from floats.

use lantern::{DType, Device, Scalar, Tensor};
use std::fmt;
use std::path::{Path, PathBuf};

/// A JSON value whose numbers keep their source text (so ints and floats stay apart,
/// as the fixture format requires, and floats parse exactly).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, keys in file order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole JSON document.
    pub fn parse(text: &str) -> Result<Json, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Json::from_value(v))
    }

    /// Converts serde_json's value; with its `arbitrary_precision` feature a number keeps
    /// its source text, and `preserve_order` keeps object keys in file order.
    fn from_value(v: serde_json::Value) -> Json {
        use serde_json::Value as V;
        match v {
            V::Null => Json::Null,
            V::Bool(b) => Json::Bool(b),
            V::Number(n) => Json::Num(n.to_string()),
            V::String(s) => Json::Str(s),
            V::Array(a) => Json::Arr(a.into_iter().map(Json::from_value).collect()),
            V::Object(o) => Json::Obj(
                o.into_iter()
                    .map(|(k, v)| (k, Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object (None if absent or not an object).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// True for `null` (and for an absent member, via `Option`).
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// True for a number written without a fraction or exponent (a Python `int`).
    pub fn is_int(&self) -> bool {
        matches!(self, Json::Num(s) if !s.contains(['.', 'e', 'E']))
    }

    /// A float: a number, or one of the strings `"nan"`, `"inf"`, `"-inf"`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(s) => s.parse().ok(),
            Json::Str(s) => match s.as_str() {
                "nan" => Some(f64::NAN),
                "inf" => Some(f64::INFINITY),
                "-inf" => Some(f64::NEG_INFINITY),
                _ => None,
            },
            _ => None,
        }
    }

    /// An integer (a number written as an int).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Num(s) if self.is_int() => s.parse().ok(),
            _ => None,
        }
    }

    /// A bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An array's items.
    pub fn as_arr(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// A Python scalar with its type: int → `Scalar::Int`, float (or a non-finite string)
    /// → `Scalar::Float`, bool → `Scalar::Bool`. The type drives promotion.
    pub fn as_scalar(&self) -> Option<Scalar> {
        match self {
            Json::Bool(b) => Some(Scalar::Bool(*b)),
            _ if self.is_int() => self.as_i64().map(Scalar::Int),
            _ => self.as_f64().map(Scalar::Float),
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Num(s) => f.write_str(s),
            Json::Str(s) => write!(f, "{s:?}"),
            Json::Arr(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Json::Obj(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Flat row-major values of a fixture tensor, in the widest host type of its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// float16 / bfloat16 / float32 / float64 (exact: every value is the dtype's value).
    Float(Vec<f64>),
    /// int32 / int64.
    Int(Vec<i64>),
    /// bool.
    Bool(Vec<bool>),
}

impl Data {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Data::Float(v) => v.len(),
            Data::Int(v) => v.len(),
            Data::Bool(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One view op applied to a fixture input (see the generator's `apply_view`).
#[derive(Clone, Debug, PartialEq)]
pub enum ViewOp {
    /// `t()`.
    T,
    /// `transpose(d0, d1)`.
    Transpose(isize, isize),
    /// `permute(dims)`.
    Permute(Vec<isize>),
    /// `narrow(dim, start, length)`.
    Narrow(isize, usize, usize),
    /// `expand(shape)`.
    Expand(Vec<isize>),
    /// `x[..., start:end:step]` along `dim`.
    Slice(isize, isize, Option<isize>, usize),
}

/// A tensor of a fixture: dtype, shape, values and (inputs only) view ops.
#[derive(Clone, Debug, PartialEq)]
pub struct FixtureTensor {
    /// Element type.
    pub dtype: DType,
    /// Shape of `data` (of the base tensor when `view` is not empty).
    pub shape: Vec<usize>,
    /// Flat row-major values.
    pub data: Data,
    /// View ops applied in order to the contiguous base.
    pub view: Vec<ViewOp>,
}

/// One fixture case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Unique id, `"<op>/<description>"`.
    pub id: String,
    /// The PyTorch op name.
    pub op: String,
    /// Positional tensor inputs.
    pub inputs: Vec<FixtureTensor>,
    /// Keyword arguments (a JSON object).
    pub args: Json,
    /// Expected outputs.
    pub outputs: Vec<FixtureTensor>,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
}

impl Case {
    /// The argument `name` (`Json::Null` when absent).
    pub fn arg(&self, name: &str) -> &Json {
        static NULL: Json = Json::Null;
        self.args.get(name).unwrap_or(&NULL)
    }
}

/// The directory holding the fixture files.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Loads `tests/fixtures/<name>.json`.
pub fn load(name: &str) -> Result<Vec<Case>, String> {
    let path = fixtures_dir().join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse_cases(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a fixture file.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let doc = Json::parse(text)?;
    let cases = doc
        .get("cases")
        .and_then(Json::as_arr)
        .ok_or("no \"cases\" array")?;
    cases.iter().map(parse_case).collect()
}

fn parse_case(c: &Json) -> Result<Case, String> {
    let id = c
        .get("id")
        .and_then(Json::as_str)
        .ok_or("case without an id")?
        .to_string();
    let field = |k: &str| c.get(k).ok_or_else(|| format!("{id}: no {k:?}"));
    let tensors = |k: &str| -> Result<Vec<FixtureTensor>, String> {
        field(k)?
            .as_arr()
            .ok_or_else(|| format!("{id}: {k:?} is not an array"))?
            .iter()
            .map(|t| parse_tensor(t).map_err(|e| format!("{id}: {k}: {e}")))
            .collect()
    };
    let num = |k: &str| {
        field(k)?
            .as_f64()
            .ok_or_else(|| format!("{id}: {k:?} is not a number"))
    };
    Ok(Case {
        op: field("op")?
            .as_str()
            .ok_or_else(|| format!("{id}: op is not a string"))?
            .to_string(),
        inputs: tensors("inputs")?,
        args: field("args")?.clone(),
        outputs: tensors("outputs")?,
        rtol: num("rtol")?,
        atol: num("atol")?,
        id,
    })
}

fn usizes(j: &Json) -> Option<Vec<usize>> {
    j.as_arr()?
        .iter()
        .map(|v| v.as_i64().and_then(|i| usize::try_from(i).ok()))
        .collect()
}

fn isizes(j: &Json) -> Option<Vec<isize>> {
    j.as_arr()?
        .iter()
        .map(|v| v.as_i64().map(|i| i as isize))
        .collect()
}

fn parse_tensor(t: &Json) -> Result<FixtureTensor, String> {
    let dtype_name = t.get("dtype").and_then(Json::as_str).ok_or("no dtype")?;
    let dtype = DType::from_name(dtype_name).ok_or_else(|| format!("dtype {dtype_name:?}"))?;
    let shape = t.get("shape").and_then(usizes).ok_or("bad shape")?;
    let raw = t.get("data").and_then(Json::as_arr).ok_or("no data")?;
    let bad = |v: &Json| format!("bad {dtype} value {v}");
    let data = if dtype.is_float() {
        Data::Float(
            raw.iter()
                .map(|v| v.as_f64().ok_or_else(|| bad(v)))
                .collect::<Result<_, _>>()?,
        )
    } else if dtype == DType::Bool {
        Data::Bool(
            raw.iter()
                .map(|v| v.as_bool().ok_or_else(|| bad(v)))
                .collect::<Result<_, _>>()?,
        )
    } else {
        Data::Int(
            raw.iter()
                .map(|v| v.as_i64().ok_or_else(|| bad(v)))
                .collect::<Result<_, _>>()?,
        )
    };
    if data.len() != shape.iter().product::<usize>() {
        return Err(format!("{} values for shape {shape:?}", data.len()));
    }
    let view = match t.get("view") {
        None | Some(Json::Null) => Vec::new(),
        Some(v) => v
            .as_arr()
            .ok_or("view is not an array")?
            .iter()
            .map(parse_view)
            .collect::<Result<_, _>>()?,
    };
    Ok(FixtureTensor {
        dtype,
        shape,
        data,
        view,
    })
}

fn parse_view(v: &Json) -> Result<ViewOp, String> {
    let a = v.as_arr().ok_or_else(|| format!("view op {v}"))?;
    let bad = || format!("bad view op {v}");
    let int = |i: usize| a.get(i).and_then(Json::as_i64).ok_or_else(bad);
    let kind = a.first().and_then(Json::as_str).ok_or_else(bad)?;
    Ok(match kind {
        "t" => ViewOp::T,
        "transpose" => ViewOp::Transpose(int(1)? as isize, int(2)? as isize),
        "permute" => ViewOp::Permute(a.get(1).and_then(isizes).ok_or_else(bad)?),
        "narrow" => ViewOp::Narrow(int(1)? as isize, int(2)? as usize, int(3)? as usize),
        "expand" => ViewOp::Expand(a.get(1).and_then(isizes).ok_or_else(bad)?),
        "slice" => ViewOp::Slice(
            int(1)? as isize,
            int(2)? as isize,
            match a.get(3) {
                Some(Json::Null) => None,
                _ => Some(int(3)? as isize),
            },
            int(4)? as usize,
        ),
        _ => return Err(bad()),
    })
}

/// Builds `t` on `device`: the contiguous base from `data`, then the view ops, each with
/// Lantern's own view method, so the result is a real (usually non-contiguous) view.
pub fn build(t: &FixtureTensor, device: &Device) -> lantern::Result<Tensor> {
    let shape = t.shape.as_slice();
    let base = match (&t.data, t.dtype) {
        (Data::Float(v), DType::F64) => Tensor::try_from_slice(v, shape, device)?,
        (Data::Float(v), DType::F32) => {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::try_from_slice(&v, shape, device)?
        }
        // The values are exact in the target dtype, so any correct cast is exact; `check_input`
        // reads them back to be sure.
        (Data::Float(v), dt) => Tensor::try_from_slice(v, shape, device)?.try_to_dtype(dt)?,
        (Data::Int(v), DType::I64) => Tensor::try_from_slice(v, shape, device)?,
        (Data::Int(v), DType::I32) => {
            let v: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            Tensor::try_from_slice(&v, shape, device)?
        }
        (Data::Int(v), dt) => Tensor::try_from_slice(v, shape, device)?.try_to_dtype(dt)?,
        (Data::Bool(v), _) => Tensor::try_from_slice(v, shape, device)?,
    };
    let mut x = base;
    for op in &t.view {
        x = match op {
            ViewOp::T => x.try_t()?,
            ViewOp::Transpose(a, b) => x.try_transpose(*a, *b)?,
            ViewOp::Permute(d) => x.try_permute(d)?,
            ViewOp::Narrow(d, s, l) => x.try_narrow(*d, *s, *l)?,
            ViewOp::Expand(s) => x.try_expand(s)?,
            ViewOp::Slice(d, s, e, st) => x.try_slice(*d, *s, *e, *st)?,
        };
    }
    Ok(x)
}

/// Builds an input and checks that its base holds exactly the fixture's values and that
/// the view ops produced a view of it (not a copy).
pub fn build_input(t: &FixtureTensor, device: &Device) -> Result<Tensor, String> {
    let base_only = FixtureTensor {
        view: Vec::new(),
        ..t.clone()
    };
    let base = build(&base_only, device).map_err(|e| format!("building input: {e}"))?;
    let got = read(&base).map_err(|e| format!("reading input back: {e}"))?;
    if !same_data(&got, &t.data) {
        return Err(format!(
            "input {} {:?} did not round-trip through the device",
            t.dtype, t.shape
        ));
    }
    let x = build(t, device).map_err(|e| format!("building input: {e}"))?;
    if !t.view.is_empty() && x.is_contiguous() && x.numel() > 1 {
        // Not an error (some view chains are contiguous), but none in the fixtures is.
        return Err(format!(
            "input view {:?} of {:?} came out contiguous",
            t.view, t.shape
        ));
    }
    Ok(x)
}

/// Exact equality of values: NaN equals NaN, and the sign of zero counts.
fn same_data(a: &Data, b: &Data) -> bool {
    match (a, b) {
        (Data::Float(a), Data::Float(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    (x.is_nan() && y.is_nan())
                        || (x == y && x.is_sign_negative() == y.is_sign_negative())
                })
        }
        _ => a == b,
    }
}

/// Reads a tensor back as fixture data (ints exactly, floats widened to f64).
pub fn read(t: &Tensor) -> lantern::Result<Data> {
    Ok(match t.dtype() {
        DType::Bool => Data::Bool(t.try_to_vec::<bool>()?),
        DType::I64 => Data::Int(t.try_to_vec::<i64>()?),
        DType::I32 => Data::Int(t.try_to_vec::<i32>()?.into_iter().map(i64::from).collect()),
        DType::I8 => Data::Int(t.try_to_vec::<i8>()?.into_iter().map(i64::from).collect()),
        DType::U8 => Data::Int(t.try_to_vec::<u8>()?.into_iter().map(i64::from).collect()),
        _ => Data::Float(t.try_to_f64_vec()?),
    })
}

/// True when `got` matches `want`: `|got - want| <= atol + rtol·|want|`, NaN matches NaN,
/// infinities must be equal.
pub fn close(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

/// Row-major multi-index of flat index `i` in `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        if shape[d] > 0 {
            idx[d] = i % shape[d];
            i /= shape[d];
        }
    }
    idx
}

/// Compares output `k` of case `id` with the expected tensor; returns one message per
/// problem (shape, dtype, or each mismatching element), each naming the case, the index
/// and both values.
pub fn compare(
    id: &str,
    k: usize,
    got: &Tensor,
    want: &FixtureTensor,
    rtol: f64,
    atol: f64,
) -> Vec<String> {
    let at = format!("{id}: output {k}");
    if got.dims() != want.shape.as_slice() {
        return vec![format!(
            "{at}: shape {:?}, want {:?}",
            got.dims(),
            want.shape
        )];
    }
    if got.dtype() != want.dtype {
        return vec![format!("{at}: dtype {}, want {}", got.dtype(), want.dtype)];
    }
    let data = match read(got) {
        Ok(d) => d,
        Err(e) => return vec![format!("{at}: reading the result failed: {e}")],
    };
    let floats = |d: &Data| -> Vec<f64> {
        match d {
            Data::Float(v) => v.clone(),
            Data::Int(v) => v.iter().map(|&x| x as f64).collect(),
            Data::Bool(v) => v.iter().map(|&b| b as u8 as f64).collect(),
        }
    };
    let (gf, wf) = (floats(&data), floats(&want.data));
    let mut bad = Vec::new();
    for i in 0..gf.len() {
        let (ok, g, w) = match (&data, &want.data) {
            // Ints compare exactly first (i64 beyond 2^53 does not fit an f64).
            (Data::Int(g), Data::Int(w)) => (
                g[i] == w[i] || close(gf[i], wf[i], rtol, atol),
                g[i].to_string(),
                w[i].to_string(),
            ),
            (Data::Bool(g), Data::Bool(w)) => (g[i] == w[i], g[i].to_string(), w[i].to_string()),
            _ => (
                close(gf[i], wf[i], rtol, atol),
                format!("{:e}", gf[i]),
                format!("{:e}", wf[i]),
            ),
        };
        if !ok {
            bad.push(format!(
                "{at}: index {i} {:?}: got {g}, want {w} (rtol {rtol:e}, atol {atol:e})",
                unravel(i, &want.shape)
            ));
        }
    }
    bad
}
