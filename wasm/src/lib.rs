//! `lantern-wasm`: the wasm-bindgen layer under the npm package `lantern-ml`.
//!
//! Tensors live in a handle table on the Rust side and JS holds their numeric ids, so JS decides
//! when a handle dies (`t.free()`, `lt.tidy`, the per-step scope, a FinalizationRegistry) and
//! lists of tensors cross the boundary as plain `Uint32Array`s. Every export returns `Result`
//! and calls only `try_` APIs: a Rust `Err` becomes a thrown JS `Error` with the same message,
//! and nothing reachable from JS panics (a wasm panic aborts the instance). The camelCase API,
//! argument checks and memory scopes are in `wasm/js/lantern.js`.
//!
//! ```
//! let a = lantern_wasm::from_f32(&[1.0, 2.0, 3.0, 4.0], &[2, 2], "float32").unwrap();
//! let b = lantern_wasm::matmul(a, a).unwrap();
//! assert_eq!(lantern_wasm::to_f64_vec(b).unwrap(), vec![7.0, 10.0, 15.0, 22.0]);
//! ```

mod modules;
mod ops;
mod optim;
mod print;

pub use modules::*;
pub use ops::*;
pub use optim::*;
pub use print::*;

use core::cell::RefCell;
use lantern::{DType, Device, Tensor};
use wasm_bindgen::prelude::*;

/// Result type of every export: the error's message becomes the thrown JS `Error`'s.
pub type JsResult<T> = Result<T, JsError>;

/// Converts a core error into a JS exception with the same message.
pub(crate) fn js(e: lantern::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// A JS-facing argument error (checked here before it could reach a panicking path).
pub(crate) fn arg(op: &str, msg: impl core::fmt::Display) -> JsError {
    JsError::new(&format!("{op}: {msg}"))
}

/// The live tensors by id. Ids are never reused until the u32 counter wraps, so a stale id
/// from JS is reported as released instead of silently naming another tensor.
#[derive(Default)]
struct Table {
    live: hashbrown::HashMap<u32, Tensor>,
    next: u32,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
    static DEVICE: RefCell<Device> = RefCell::new(Device::cpu());
}

/// The tensor behind `id` (a cheap clone: the table is never borrowed across an op).
pub(crate) fn get(id: u32) -> JsResult<Tensor> {
    TABLE
        .with(|t| t.borrow().live.get(&id).cloned())
        .ok_or_else(|| {
            JsError::new(&format!(
                "tensor #{id} was released (freed, or dropped by lt.tidy or an optimizer step)"
            ))
        })
}

/// Registers a tensor and returns its id.
pub(crate) fn put(t: Tensor) -> u32 {
    TABLE.with(|tab| {
        let mut tab = tab.borrow_mut();
        let mut id = tab.next;
        while id == 0 || tab.live.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        tab.next = id.wrapping_add(1);
        tab.live.insert(id, t);
        id
    })
}

/// Registers the result of a fallible op.
pub(crate) fn put_r(r: lantern::Result<Tensor>) -> JsResult<u32> {
    r.map(put).map_err(js)
}

/// The tensors behind a list of ids.
pub(crate) fn get_all(ids: &[u32]) -> JsResult<Vec<Tensor>> {
    ids.iter().map(|&i| get(i)).collect()
}

/// The device new tensors are made on (the CPU driver compiled to wasm).
pub(crate) fn device() -> Device {
    DEVICE.with(|d| d.borrow().clone())
}

/// Parses PyTorch's dtype names.
pub(crate) fn dtype(name: &str) -> JsResult<DType> {
    DType::from_name(name).ok_or_else(|| {
        JsError::new(&format!(
            "unknown dtype '{name}' (expected one of bool, uint8, int8, int32, int64, float16, bfloat16, float32, float64)"
        ))
    })
}

/// A shape from JS (`u32` dims; usize is 32 bits on wasm32).
pub(crate) fn shape(dims: &[u32]) -> Vec<usize> {
    dims.iter().map(|&d| d as usize).collect()
}

/// Dims from JS as isize (negative counts from the end).
pub(crate) fn idims(dims: &[i32]) -> Vec<isize> {
    dims.iter().map(|&d| d as isize).collect()
}

/// Records panic messages so a trap that escapes validation still says what happened.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = info.to_string());
    }));
}

/// core's `host-math` functions (its transcendental functions): JS's `Math`, which the engine
/// ships anyway, so the package carries no libm copy of them.
#[cfg(target_arch = "wasm32")]
mod host_math {
    use js_sys::Math;

    macro_rules! unary {
        ($($sym:ident = $f:ident),*) => {$(
            #[no_mangle]
            extern "C" fn $sym(x: f64) -> f64 {
                Math::$f(x)
            }
        )*};
    }
    unary!(
        lantern_host_exp = exp,
        lantern_host_expm1 = expm1,
        lantern_host_log = log,
        lantern_host_log2 = log2,
        lantern_host_log1p = log1p,
        lantern_host_sin = sin,
        lantern_host_cos = cos,
        lantern_host_tanh = tanh
    );

    #[no_mangle]
    extern "C" fn lantern_host_pow(x: f64, y: f64) -> f64 {
        Math::pow(x, y)
    }
}

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The message of the last panic (empty if none): a panic is a bug, reported with this text.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> String {
    LAST_PANIC.with(|p| p.borrow().clone())
}

// ---------------------------------------------------------------------------- handles

/// Releases the handle `id`; the storage goes back to the pool once no view or graph uses it.
#[wasm_bindgen]
pub fn free(id: u32) -> bool {
    TABLE.with(|t| t.borrow_mut().live.remove(&id)).is_some()
}

/// True while `id` names a live tensor.
#[wasm_bindgen(js_name = isLive)]
pub fn is_live(id: u32) -> bool {
    TABLE.with(|t| t.borrow().live.contains_key(&id))
}

thread_local! {
    /// The WebGPU device once `setBackend('webgpu')` opened it (one per instance).
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// The JS name of a device's backend.
fn backend_of(d: &Device) -> &'static str {
    if d.driver().name() == "cpu" {
        "wasm"
    } else {
        "webgpu"
    }
}

/// The device behind a backend name, if it exists in this instance.
fn backend_device(name: &str) -> JsResult<Option<Device>> {
    match name {
        "wasm" => Ok(Some(Device::cpu())),
        "webgpu" => Ok(GPU.with(|g| g.borrow().clone())),
        _ => Err(arg(
            "backend",
            format!("unknown backend '{name}' (expected 'wasm' or 'webgpu')"),
        )),
    }
}

/// `[bytes in use, peak bytes, bytes reserved by the pool, allocations, live tensor handles]`
/// on one backend (all zero for a backend not opened).
#[wasm_bindgen(js_name = memoryStats)]
pub fn memory(backend: &str) -> JsResult<Vec<f64>> {
    let Some(dev) = backend_device(backend)? else {
        return Ok(vec![0.0; 5]);
    };
    let m = dev.memory();
    let n = TABLE.with(|t| {
        t.borrow()
            .live
            .values()
            .filter(|t| *t.device() == dev)
            .count()
    });
    Ok(vec![
        m.in_use as f64,
        m.peak as f64,
        m.reserved as f64,
        m.allocations as f64,
        n as f64,
    ])
}

/// The backend new tensors go to: `"wasm"` (the CPU driver) or `"webgpu"`.
#[wasm_bindgen(js_name = backendName)]
pub fn backend_name() -> String {
    backend_of(&device()).into()
}

/// The backend a tensor lives on.
#[wasm_bindgen(js_name = backendOf)]
pub fn tensor_backend(id: u32) -> JsResult<String> {
    Ok(backend_of(get(id)?.device()).into())
}

/// A copy of the tensor on another backend (`t.to('webgpu')`).
#[wasm_bindgen(js_name = toBackend)]
pub fn to_backend(id: u32, backend: &str) -> JsResult<u32> {
    let t = get(id)?;
    let dev = backend_device(backend)?.ok_or_else(|| {
        arg(
            "to",
            format!("backend '{backend}' is not open: call lt.setBackend('{backend}') first"),
        )
    })?;
    put_r(t.try_to_device(&dev))
}

/// A backend that needs no opening (`wasm`, or `webgpu` once opened).
fn open_backend(name: &str) -> JsResult<Device> {
    backend_device(name)?
        .ok_or_else(|| arg("setBackend", format!("backend '{name}' is not available")))
}

/// Makes `name` the backend new tensors, layers and loaded state go to; `webgpu` opens the
/// browser's adapter once (async) and needs a build with the `webgpu` feature.
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = setBackend)]
pub async fn set_backend(name: String) -> JsResult<()> {
    let dev = match name.as_str() {
        "webgpu" => webgpu().await?,
        other => open_backend(other)?,
    };
    DEVICE.with(|d| *d.borrow_mut() = dev);
    Ok(())
}

/// Makes `name` the backend new tensors, layers and loaded state go to. Without the `webgpu`
/// feature nothing awaits, so this is a plain function (the JS layer awaits it all the same)
/// and the package carries no future machinery for it (issue 5).
#[cfg(not(feature = "webgpu"))]
#[wasm_bindgen(js_name = setBackend)]
pub fn set_backend(name: String) -> JsResult<()> {
    if name == "webgpu" {
        return Err(JsError::new(
            "setBackend('webgpu'): this build of lantern-ml has only the 'wasm' backend (the WebGPU driver is compiled in by `bash wasm/build.sh --webgpu`)",
        ));
    }
    let dev = open_backend(&name)?;
    DEVICE.with(|d| *d.borrow_mut() = dev);
    Ok(())
}

#[cfg(feature = "webgpu")]
async fn webgpu() -> JsResult<Device> {
    if let Some(d) = GPU.with(|g| g.borrow().clone()) {
        return Ok(d);
    }
    let drv = lantern_wgpu::WgpuDriver::new_async(&lantern_wgpu::Options::default())
        .await
        .map_err(|e| arg("setBackend('webgpu')", e))?;
    // Device is an Arc by design (DESIGN, "The driver trait"); on wasm32 drivers are neither
    // Send nor Sync (MaybeSend), and one instance is one thread.
    #[allow(clippy::arc_with_non_send_sync)]
    let d = Device::new(std::sync::Arc::new(drv));
    GPU.with(|g| *g.borrow_mut() = Some(d.clone()));
    Ok(d)
}

// ---------------------------------------------------------------------------- creation

macro_rules! from_typed {
    ($($(#[$m:meta])* $name:ident $js:literal: $t:ty;)*) => {$(
        $(#[$m])*
        #[wasm_bindgen(js_name = $js)]
        pub fn $name(data: &[$t], dims: &[u32], dtype_name: &str) -> JsResult<u32> {
            let dt = dtype(dtype_name)?;
            // Cast on the CPU: GPU drivers lack some host dtypes (WGSL has no f64).
            let cpu = Device::cpu();
            let mut t = Tensor::try_from_slice(data, shape(dims), &cpu).map_err(js)?;
            if t.dtype() != dt {
                t = t.try_to_dtype(dt).map_err(js)?;
            }
            let dev = device();
            if dev != cpu {
                t = t.try_to_device(&dev).map_err(js)?;
            }
            Ok(put(t))
        }
    )*};
}

from_typed! {
    /// A tensor from a `Float32Array`, cast to `dtype_name`.
    from_f32 "fromF32": f32;
    /// A tensor from a `Float64Array` (plain JS arrays come this way), cast to `dtype_name`.
    from_f64 "fromF64": f64;
    /// A tensor from an `Int32Array`, cast to `dtype_name`.
    from_i32 "fromI32": i32;
    /// A tensor from a `BigInt64Array`, cast to `dtype_name`.
    from_i64 "fromI64": i64;
    /// A tensor from a `Uint8Array` (also bool data as 0/1), cast to `dtype_name`.
    from_u8 "fromU8": u8;
    /// A tensor from an `Int8Array`, cast to `dtype_name`.
    from_i8 "fromI8": i8;
}

/// A JS number as a scalar: integral values stay integers so int tensors keep their dtype.
pub(crate) fn scalar(v: f64) -> lantern::Scalar {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        lantern::Scalar::Int(v as i64)
    } else {
        lantern::Scalar::Float(v)
    }
}

/// `torch.full(shape, value, dtype)`.
#[wasm_bindgen]
pub fn full(dims: &[u32], value: f64, dtype_name: &str) -> JsResult<u32> {
    put_r(Tensor::try_full(
        shape(dims),
        scalar(value),
        dtype(dtype_name)?,
        &device(),
    ))
}

/// `torch.arange(start, end, step, dtype)`.
#[wasm_bindgen]
pub fn arange(start: f64, end: f64, step: f64, dtype_name: &str) -> JsResult<u32> {
    put_r(Tensor::try_arange(
        start,
        end,
        step,
        dtype(dtype_name)?,
        &device(),
    ))
}

/// `torch.linspace(start, end, steps, dtype)`.
#[wasm_bindgen]
pub fn linspace(start: f64, end: f64, steps: u32, dtype_name: &str) -> JsResult<u32> {
    put_r(Tensor::try_linspace(
        start,
        end,
        steps as usize,
        dtype(dtype_name)?,
        &device(),
    ))
}

/// `torch.eye(n, m, dtype)`.
#[wasm_bindgen]
pub fn eye(n: u32, m: u32, dtype_name: &str) -> JsResult<u32> {
    put_r(Tensor::try_eye(
        n as usize,
        m as usize,
        dtype(dtype_name)?,
        &device(),
    ))
}

/// Random tensors: `kind` is `rand` (uniform on [0, 1)) or `randn` (standard normal).
#[wasm_bindgen]
pub fn random(kind: &str, dims: &[u32], dtype_name: &str) -> JsResult<u32> {
    let (s, dt, dev) = (shape(dims), dtype(dtype_name)?, device());
    put_r(match kind {
        "rand" => Tensor::try_rand(s, dt, &dev),
        "randn" => Tensor::try_randn(s, dt, &dev),
        _ => return Err(arg("random", format!("unknown distribution '{kind}'"))),
    })
}

/// `torch.randint(low, high, shape)`, int64.
#[wasm_bindgen]
pub fn randint(low: f64, high: f64, dims: &[u32]) -> JsResult<u32> {
    put_r(Tensor::try_randint(
        low as i64,
        high as i64,
        shape(dims),
        &device(),
    ))
}

/// Seeds the default generator (Philox: the same numbers on every driver).
#[wasm_bindgen(js_name = manualSeed)]
pub fn manual_seed(seed: f64) {
    lantern::manual_seed(seed as u64)
}

// ---------------------------------------------------------------------------- metadata

/// The dims.
#[wasm_bindgen(js_name = shapeOf)]
pub fn shape_of(id: u32) -> JsResult<Vec<u32>> {
    Ok(get(id)?.dims().iter().map(|&d| d as u32).collect())
}

/// PyTorch's dtype name.
#[wasm_bindgen(js_name = dtypeOf)]
pub fn dtype_of(id: u32) -> JsResult<String> {
    Ok(get(id)?.dtype().name().into())
}

/// Whether gradients flow to or through the tensor.
#[wasm_bindgen(js_name = requiresGrad)]
pub fn requires_grad(id: u32) -> JsResult<bool> {
    Ok(get(id)?.requires_grad())
}

/// True for tensors not computed by a recorded op.
#[wasm_bindgen(js_name = isLeaf)]
pub fn is_leaf(id: u32) -> JsResult<bool> {
    Ok(get(id)?.is_leaf())
}

/// `t.requires_grad_(on)`.
#[wasm_bindgen(js_name = setRequiresGrad)]
pub fn set_requires_grad(id: u32, on: bool) -> JsResult<()> {
    get(id)?.try_requires_grad_(on).map_err(js)?;
    Ok(())
}

/// A new handle on the accumulated gradient, if any.
#[wasm_bindgen]
pub fn grad(id: u32) -> JsResult<Option<u32>> {
    Ok(get(id)?.grad().map(put))
}

/// Replaces (or with `None` clears) the accumulated gradient.
#[wasm_bindgen(js_name = setGrad)]
pub fn set_grad(id: u32, g: Option<u32>) -> JsResult<()> {
    let t = get(id)?;
    let g = g.map(get).transpose()?;
    if let Some(g) = &g {
        if g.dims() != t.dims() {
            return Err(arg(
                "grad",
                format!(
                    "assigned grad has shape {} but the tensor has shape {}",
                    g.shape(),
                    t.shape()
                ),
            ));
        }
    }
    t.set_grad(g);
    Ok(())
}

/// `t.backward(grad, retain_graph)`.
#[wasm_bindgen]
pub fn backward(id: u32, g: Option<u32>, retain_graph: bool) -> JsResult<()> {
    let t = get(id)?;
    let g = g.map(get).transpose()?;
    t.try_backward_with(g.as_ref(), retain_graph, false)
        .map_err(js)
}

/// `torch.autograd.grad(outputs, inputs)`: a handle per input, 0 where it gets no gradient.
#[wasm_bindgen(js_name = autogradGrad)]
pub fn autograd_grad(
    outputs: &[u32],
    inputs: &[u32],
    retain_graph: bool,
    create_graph: bool,
) -> JsResult<Vec<u32>> {
    let (o, i) = (get_all(outputs)?, get_all(inputs)?);
    let gs = lantern::autograd::grad(&o, &i, None, retain_graph, create_graph).map_err(js)?;
    Ok(gs.into_iter().map(|g| g.map(put).unwrap_or(0)).collect())
}

/// Turns gradient recording on or off; returns the previous mode.
#[wasm_bindgen(js_name = setGradEnabled)]
pub fn set_grad_enabled(on: bool) -> bool {
    lantern::autograd::set_grad_enabled(on)
}

/// Whether ops record the autograd graph.
#[wasm_bindgen(js_name = isGradEnabled)]
pub fn is_grad_enabled() -> bool {
    lantern::autograd::is_grad_enabled()
}

// ---------------------------------------------------------------------------- readback

/// The host type `data()` gives for a dtype: f16/bf16 and f64 widen/keep as floats, bool is bytes.
fn read_as(t: &Tensor) -> lantern::Result<(Tensor, DType)> {
    let want = match t.dtype() {
        DType::F16 | DType::BF16 => DType::F32,
        DType::Bool => DType::U8,
        d => d,
    };
    Ok((t.try_to_dtype(want)?, want))
}

/// The typed array `data()` gives for the bytes of a [`read_as`] dtype, or the read's error.
fn typed_array(bytes: lantern::Result<Vec<u8>>, dt: DType) -> Result<JsValue, JsValue> {
    let bytes = bytes.map_err(|e| JsValue::from(js(e)))?;
    // One copy into a fresh (aligned) ArrayBuffer, viewed as the element type: wasm and
    // JS typed arrays are both little-endian.
    let u8s = js_sys::Uint8Array::from(&bytes[..]);
    let buf = u8s.buffer();
    Ok(match dt {
        DType::F32 => js_sys::Float32Array::new(&buf).into(),
        DType::F64 => js_sys::Float64Array::new(&buf).into(),
        DType::I32 => js_sys::Int32Array::new(&buf).into(),
        DType::I64 => js_sys::BigInt64Array::new(&buf).into(),
        DType::U8 => u8s.into(),
        DType::I8 => js_sys::Int8Array::new(&buf).into(),
        DType::Bool | DType::F16 | DType::BF16 => {
            return Err(arg("data", "internal: unconverted dtype").into())
        }
    })
}

/// Reads the elements without blocking: a promise of a typed array (`Float32Array` for
/// float32/16, `Float64Array`, `Int32Array`, `BigInt64Array` for int64, `Uint8Array` for
/// uint8 and bool, `Int8Array`).
#[wasm_bindgen]
pub fn read(id: u32) -> JsResult<js_sys::Promise> {
    let (t, dt) = read_as(&get(id)?).map_err(js)?;
    let t = t.try_contiguous().map_err(js)?;
    #[cfg(feature = "webgpu")]
    {
        let f = t.device().driver().read(&t.as_view());
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            typed_array(f.await, dt)
        }))
    }
    // Only the CPU driver: its readback is ready at once, so the promise is settled here and
    // the package carries no future machinery (issue 5).
    #[cfg(not(feature = "webgpu"))]
    Ok(
        match typed_array(t.device().driver().read_blocking(&t.as_view()), dt) {
            Ok(v) => js_sys::Promise::resolve(&v),
            Err(e) => js_sys::Promise::reject(&e),
        },
    )
}

/// The elements as f64, blocking (native tests and the doc example; JS uses [`read`]).
pub fn to_f64_vec(id: u32) -> JsResult<Vec<f64>> {
    get(id)?.try_to_f64_vec().map_err(js)
}
