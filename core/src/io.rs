//! Saving and loading state dicts as [safetensors], byte-compatible with PyTorch's
//! `safetensors.torch` (`save` / `load`, `save_file` / `load_file`).
//!
//! The layout: an 8-byte little-endian header length `n`, `n` bytes of JSON
//! (`{"__metadata__": {..}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ..}`,
//! padded with spaces to a multiple of 8), then the tensors' bytes, little-endian, row-major,
//! back to back. Writing goes through the `safetensors` crate, the code PyTorch's writer runs
//! (Python's `safetensors` wraps it), so for the same state dict the bytes are identical to
//! torch's: tensors ordered by descending dtype alignment, then by name. Reading validates
//! the whole header here first — every field, with overflow-checked sizes and offsets that
//! must tile the data section exactly — and a malformed file is an [`Error::Format`] naming
//! what is wrong, never a panic.
//!
//! ```
//! use lantern::{io, Device, Tensor};
//! let w = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &Device::cpu());
//! let bytes = io::save_state_dict(&[("fc.weight".into(), w)]).unwrap();
//! let back = io::load_state_dict(&bytes).unwrap();
//! assert_eq!(back[0].0, "fc.weight");
//! assert_eq!(back[0].1.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0]);
//! assert!(io::load_state_dict(&bytes[..bytes.len() - 1]).is_err());
//! ```
//!
//! [safetensors]: https://github.com/huggingface/safetensors

use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Shape;
use crate::tensor::Tensor;
use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cmp::Ordering;
use safetensors::Dtype;

/// A state dict: names (PyTorch's keys) and tensors.
pub type StateDict = Vec<(String, Tensor)>;

/// The reference reader's limit on the JSON header (100 MB).
const MAX_HEADER: u64 = 100_000_000;

fn fmt_err(msg: impl core::fmt::Display) -> Error {
    Error::Format(alloc::format!("safetensors: {msg}"))
}

/// The safetensors name of a Lantern dtype.
fn to_st(dt: DType) -> Dtype {
    match dt {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I8 => Dtype::I8,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
    }
}

/// A safetensors dtype name: its size in bits and the Lantern dtype, if Lantern has one.
/// `None` for a name the format does not define.
fn from_st_name(name: &str) -> Option<(usize, Option<DType>)> {
    Some(match name {
        "BOOL" => (8, Some(DType::Bool)),
        "U8" => (8, Some(DType::U8)),
        "I8" => (8, Some(DType::I8)),
        "I32" => (32, Some(DType::I32)),
        "I64" => (64, Some(DType::I64)),
        "F16" => (16, Some(DType::F16)),
        "BF16" => (16, Some(DType::BF16)),
        "F32" => (32, Some(DType::F32)),
        "F64" => (64, Some(DType::F64)),
        "F4" => (4, None),
        "F6_E2M3" | "F6_E3M2" => (6, None),
        "F8_E5M2" | "F8_E4M3" | "F8_E8M0" | "F8_E4M3FNUZ" | "F8_E5M2FNUZ" => (8, None),
        "I16" | "U16" => (16, None),
        "U32" => (32, None),
        "U64" | "C64" => (64, None),
        _ => return None,
    })
}

/// One tensor on its way out: host bytes, row-major.
struct Host {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::View for &Host {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Serializes a state dict to safetensors bytes, identical to what PyTorch's
/// `safetensors.torch.save(state_dict)` writes for the same names, dtypes, shapes and values.
///
/// Tensors may live on any device and need not be contiguous (they are read back row-major).
/// Names must be unique.
pub fn save_state_dict(state: &[(String, Tensor)]) -> Result<Vec<u8>> {
    save_state_dict_with_metadata(state, &[])
}

/// [`save_state_dict`] with a `__metadata__` map of string pairs (PyTorch's `metadata=`).
///
/// With two or more metadata entries the order of their keys in the header follows the
/// reference writer's hash map, as in files written by PyTorch, so the bytes are
/// reproducible only for at most one entry (e.g. `{"format": "pt"}`); the tensors' part
/// is always deterministic.
pub fn save_state_dict_with_metadata(
    state: &[(String, Tensor)],
    metadata: &[(String, String)],
) -> Result<Vec<u8>> {
    let mut hosts: Vec<(&str, Host)> = Vec::new();
    hosts
        .try_reserve_exact(state.len())
        .map_err(|_| Error::Io("save_state_dict: host allocation failed".into()))?;
    for (i, (name, t)) in state.iter().enumerate() {
        if state[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::Arg {
                op: "save_state_dict",
                msg: alloc::format!("duplicate key '{name}'"),
            });
        }
        let data = t.device().driver().read_blocking(&t.as_view())?;
        hosts.push((
            name.as_str(),
            Host {
                dtype: to_st(t.dtype()),
                shape: t.dims().to_vec(),
                data,
            },
        ));
    }
    for (i, (k, _)) in metadata.iter().enumerate() {
        if metadata[..i].iter().any(|(m, _)| m == k) {
            return Err(Error::Arg {
                op: "save_state_dict",
                msg: alloc::format!("duplicate metadata key '{k}'"),
            });
        }
    }
    let info = if metadata.is_empty() {
        None
    } else {
        // The map type is the crate's (std's or hashbrown's, by its features): inferred.
        Some(metadata.iter().cloned().collect())
    };
    safetensors::serialize(hosts.iter().map(|(n, h)| (*n, h)), info).map_err(|e| Error::Arg {
        op: "save_state_dict",
        msg: alloc::format!("safetensors writer: {e}"),
    })
}

/// A tensor's header entry, validated.
struct Entry {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    start: usize,
    end: usize,
}

/// What a safetensors file holds, validated: entries in data order, metadata sorted by key,
/// and the data section.
struct Parsed<'a> {
    entries: Vec<Entry>,
    metadata: Vec<(String, String)>,
    data: &'a [u8],
}

fn as_usize(v: &serde_json::Value, what: impl Fn() -> String) -> Result<usize> {
    let n = v.as_u64().ok_or_else(|| {
        fmt_err(alloc::format!(
            "{}: expected a non-negative integer, got {v}",
            what()
        ))
    })?;
    usize::try_from(n).map_err(|_| {
        fmt_err(alloc::format!(
            "{}: {n} does not fit this platform's usize",
            what()
        ))
    })
}

/// The permutation that sorts `n` items by `cmp`, ties in their original order (a stable
/// sort). The reader's sorts all go through it, so the npm wasm holds one sort instantiation
/// (indices, compared through `dyn`) instead of a stable sort per element type (issue 5).
fn sort_order(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
    order
}

/// `v` rearranged by a permutation of its indices from [`sort_order`].
fn permuted<T>(v: Vec<T>, order: &[usize]) -> Vec<T> {
    let mut slots: Vec<Option<T>> = v.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots[i].take()).collect()
}

fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    let Some(len_bytes) = bytes.get(..8) else {
        return Err(fmt_err(alloc::format!(
            "the file is {} bytes, shorter than the 8-byte header length",
            bytes.len()
        )));
    };
    let mut n8 = [0u8; 8];
    n8.copy_from_slice(len_bytes);
    let n = u64::from_le_bytes(n8);
    if n > MAX_HEADER {
        return Err(fmt_err(alloc::format!(
            "header length {n} is over the format's limit of {MAX_HEADER} bytes"
        )));
    }
    let header_end = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            fmt_err(alloc::format!(
                "header length {n} runs past the end of the {}-byte file",
                bytes.len()
            ))
        })?;
    let header = core::str::from_utf8(&bytes[8..header_end])
        .map_err(|e| fmt_err(alloc::format!("the header is not UTF-8: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(header)
        .map_err(|e| fmt_err(alloc::format!("the header is not valid JSON: {e}")))?;
    let serde_json::Value::Object(map) = json else {
        return Err(fmt_err("the header is not a JSON object"));
    };
    let data = &bytes[header_end..];

    let mut entries: Vec<Entry> = Vec::new();
    let mut metadata: Vec<(String, String)> = Vec::new();
    for (name, v) in &map {
        if name == "__metadata__" {
            let serde_json::Value::Object(m) = v else {
                return Err(fmt_err("__metadata__ is not an object of strings"));
            };
            for (k, val) in m {
                let Some(s) = val.as_str() else {
                    return Err(fmt_err(alloc::format!(
                        "__metadata__ value of '{k}' is not a string: {val}"
                    )));
                };
                metadata.push((k.clone(), s.to_string()));
            }
            continue;
        }
        let field = |f: &str| {
            v.get(f)
                .ok_or_else(|| fmt_err(alloc::format!("tensor '{name}' has no '{f}' field")))
        };
        if !v.is_object() {
            return Err(fmt_err(alloc::format!(
                "entry '{name}' is not an object: {v}"
            )));
        }
        let dt_name = field("dtype")?
            .as_str()
            .ok_or_else(|| fmt_err(alloc::format!("tensor '{name}': dtype is not a string")))?;
        let (bits, dtype) = from_st_name(dt_name)
            .ok_or_else(|| fmt_err(alloc::format!("tensor '{name}': unknown dtype '{dt_name}'")))?;
        let shape_v = field("shape")?
            .as_array()
            .ok_or_else(|| fmt_err(alloc::format!("tensor '{name}': shape is not an array")))?;
        let mut shape = Vec::with_capacity(shape_v.len());
        for d in shape_v {
            shape.push(as_usize(d, || {
                alloc::format!("tensor '{name}': shape entry")
            })?);
        }
        let offs = field("data_offsets")?
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| {
                fmt_err(alloc::format!(
                    "tensor '{name}': data_offsets is not a [begin, end] pair"
                ))
            })?;
        let start = as_usize(&offs[0], || alloc::format!("tensor '{name}': data_offsets"))?;
        let end = as_usize(&offs[1], || alloc::format!("tensor '{name}': data_offsets"))?;
        let nbytes = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .and_then(|n| n.checked_mul(bits))
            .filter(|b| b % 8 == 0)
            .map(|b| b / 8)
            .ok_or_else(|| {
                fmt_err(alloc::format!(
                    "tensor '{name}': shape {shape:?} of {dt_name} has no whole byte size on this platform"
                ))
            })?;
        if end < start || end - start != nbytes {
            return Err(fmt_err(alloc::format!(
                "tensor '{name}': data_offsets [{start}, {end}] do not hold the {nbytes} bytes of shape {shape:?} {dt_name}"
            )));
        }
        if end > data.len() {
            return Err(fmt_err(alloc::format!(
                "tensor '{name}': data_offsets [{start}, {end}] run past the end of the {}-byte data section",
                data.len()
            )));
        }
        let Some(dtype) = dtype else {
            return Err(Error::Unsupported {
                op: "load_state_dict",
                dtype: alloc::format!("{dt_name} (tensor '{name}')"),
                device: "any".into(),
            });
        };
        entries.push(Entry {
            name: name.clone(),
            dtype,
            shape,
            start,
            end,
        });
    }
    // The data must be tiled exactly, in offset order, as the reference reader requires.
    let order = sort_order(entries.len(), &|a, b| {
        let (x, y) = (&entries[a], &entries[b]);
        (x.start, x.end).cmp(&(y.start, y.end))
    });
    let entries = permuted(entries, &order);
    let mut at = 0usize;
    for e in &entries {
        if e.start != at {
            return Err(fmt_err(alloc::format!(
                "tensor '{}' starts at byte {} of the data section, expected {at} (gap or overlap)",
                e.name,
                e.start
            )));
        }
        at = e.end;
    }
    if at != data.len() {
        return Err(fmt_err(alloc::format!(
            "the tensors cover {at} bytes but the data section has {}",
            data.len()
        )));
    }
    let order = sort_order(metadata.len(), &|a, b| metadata[a].cmp(&metadata[b]));
    let metadata = permuted(metadata, &order);
    Ok(Parsed {
        entries,
        metadata,
        data,
    })
}

fn build(p: &Parsed<'_>, device: &Device) -> Result<Vec<(String, Tensor)>> {
    let mut out = Vec::new();
    out.try_reserve_exact(p.entries.len())
        .map_err(|_| Error::Io("load_state_dict: host allocation failed".into()))?;
    for e in &p.entries {
        let t = Tensor::empty(Shape::new(&e.shape), e.dtype, device)?;
        let src = p
            .data
            .get(e.start..e.end)
            .ok_or_else(|| fmt_err("internal: offsets checked"))?;
        if e.dtype == DType::Bool && src.iter().any(|&b| b > 1) {
            return Err(fmt_err(alloc::format!(
                "tensor '{}': BOOL data holds bytes other than 0 and 1",
                e.name
            )));
        }
        if !src.is_empty() {
            device.driver().write(t.as_view().buf, 0, src)?;
        }
        out.push((e.name.clone(), t));
    }
    Ok(out)
}

/// Loads a safetensors state dict onto the CPU, tensors in file (data-offset) order.
///
/// Any malformed input — short file, bad header length, invalid UTF-8 or JSON, missing or
/// ill-typed fields, unknown dtype, offsets that overflow, overlap, leave gaps or run past
/// the end — is an [`Error::Format`] naming the problem. A well-formed file holding a dtype
/// Lantern lacks (`F8_E4M3`, `U16`, ...) is [`Error::Unsupported`].
pub fn load_state_dict(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    load_state_dict_to(bytes, &Device::cpu())
}

/// [`load_state_dict`] onto `device`.
pub fn load_state_dict_to(bytes: &[u8], device: &Device) -> Result<Vec<(String, Tensor)>> {
    build(&parse(bytes)?, device)
}

/// [`load_state_dict_to`] that also returns the `__metadata__` pairs, sorted by key.
pub fn load_state_dict_with_metadata(
    bytes: &[u8],
    device: &Device,
) -> Result<(StateDict, Vec<(String, String)>)> {
    let p = parse(bytes)?;
    let t = build(&p, device)?;
    Ok((t, p.metadata))
}

/// Writes [`save_state_dict`]'s bytes to `path` (PyTorch's `safetensors.torch.save_file`).
#[cfg(feature = "std")]
pub fn save_file(state: &[(String, Tensor)], path: impl AsRef<std::path::Path>) -> Result<()> {
    let bytes = save_state_dict(state)?;
    std::fs::write(path.as_ref(), bytes)
        .map_err(|e| Error::Io(alloc::format!("writing {}: {e}", path.as_ref().display())))
}

/// Reads a safetensors file onto the CPU (PyTorch's `safetensors.torch.load_file`).
#[cfg(feature = "std")]
pub fn load_file(path: impl AsRef<std::path::Path>) -> Result<Vec<(String, Tensor)>> {
    let bytes = std::fs::read(path.as_ref())
        .map_err(|e| Error::Io(alloc::format!("reading {}: {e}", path.as_ref().display())))?;
    load_state_dict(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn overflowing_offsets_are_errors_not_panics() {
        // Eight tensors whose sizes sum to 2^64 - 8: the reference reader's unchecked
        // `end + 8 + n` would overflow here.
        let big = (1u64 << 61) - 1;
        let mut h = String::from("{");
        for i in 0..8u64 {
            if i > 0 {
                h.push(',');
            }
            h.push_str(&alloc::format!(
                "\"t{i}\":{{\"dtype\":\"U8\",\"shape\":[{big}],\"data_offsets\":[{},{}]}}",
                i * big,
                (i + 1) * big
            ));
        }
        h.push('}');
        let e = load_state_dict(&file(&h, &[])).unwrap_err();
        assert!(matches!(e, Error::Format(_)), "{e}");
        let e = load_state_dict(&file(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,8],\"data_offsets\":[0,0]}}",
            &[],
        ))
        .unwrap_err();
        assert!(e.to_string().contains("whole byte size"), "{e}");
    }

    #[test]
    fn entries_in_data_order_and_metadata_by_key() {
        // Names in the opposite order of the offsets (and an empty tensor at offset 0),
        // metadata keys out of order.
        let f = file(
            r#"{"__metadata__":{"b":"2","a":"1"},
                "a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},
                "b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},
                "c":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#,
            &[1, 2, 3],
        );
        let (sd, md) = load_state_dict_with_metadata(&f, &Device::cpu()).unwrap();
        let names: Vec<&str> = sd.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        assert_eq!(sd[1].1.to_vec::<u8>(), [1, 2]);
        let md: Vec<(&str, &str)> = md.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(md, [("a", "1"), ("b", "2")]);
    }

    #[test]
    fn sort_order_is_stable() {
        let keys = [2, 1, 2, 0, 1];
        let order = sort_order(keys.len(), &|a, b| keys[a].cmp(&keys[b]));
        assert_eq!(order, [3, 1, 4, 0, 2]);
        assert_eq!(
            permuted(alloc::vec!['a', 'b', 'c', 'd', 'e'], &order),
            ['d', 'b', 'e', 'a', 'c']
        );
    }

    #[test]
    fn metadata_round_trips() {
        let t = Tensor::from_slice(&[1i64, -2], [2], &Device::cpu());
        let md = vec![("format".to_string(), "pt".to_string())];
        let b = save_state_dict_with_metadata(&[("x".into(), t)], &md).unwrap();
        let (ts, m) = load_state_dict_with_metadata(&b, &Device::cpu()).unwrap();
        assert_eq!(m, md);
        assert_eq!(ts[0].1.to_vec::<i64>(), vec![1, -2]);
        assert_eq!((8 + u64::from_le_bytes(b[..8].try_into().unwrap())) % 8, 0);
    }
}
