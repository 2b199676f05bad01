//! Shared test support: the adapter (picked explicitly and printed, or a printed skip), and
//! a harness that runs one primitive on the CPU driver and on the wgpu driver with the same
//! bytes and views, then compares the outputs.
#![allow(dead_code)]

use lantern::cpu::CpuDriver;
use lantern::driver::{BufId, Driver, View};
use lantern::ops::PrimOp;
use lantern::{DType, Device, Layout, Shape};
use lantern_wgpu::{Options, WgpuDriver};
use std::sync::{Arc, OnceLock};

/// The wgpu driver every test shares, or `None` (and a printed reason) without an adapter.
///
/// Picks explicitly: the adapter whose name contains `$LANTERN_WGPU_ADAPTER` (e.g. `nvidia`)
/// when that is set, else one named like "llvmpipe" (lavapipe, what CI runs), else the first
/// adapter found; lists what it found.
pub fn gpu() -> Option<Arc<WgpuDriver>> {
    static GPU: OnceLock<Option<Arc<WgpuDriver>>> = OnceLock::new();
    GPU.get_or_init(|| {
        let found = lantern_wgpu::adapters(lantern_wgpu::wgpu::Backends::all());
        for a in &found {
            eprintln!(
                "wgpu adapter found: {} ({:?}, {:?})",
                a.name, a.backend, a.device_type
            );
        }
        let named = |part: &str| {
            let part = part.to_lowercase();
            found
                .iter()
                .find(move |a| a.name.to_lowercase().contains(&part))
        };
        let pick = match std::env::var("LANTERN_WGPU_ADAPTER") {
            Ok(want) => named(&want),
            Err(_) => named("llvmpipe").or_else(|| found.first()),
        };
        let Some(pick) = pick else {
            eprintln!("SKIP: no wgpu adapter on this machine (install mesa-vulkan-drivers)");
            return None;
        };
        let opts = Options {
            adapter_name: Some(pick.name.clone()),
            backends: pick.backend.into(),
            ..Options::default()
        };
        match WgpuDriver::new(&opts) {
            Ok(d) => {
                let i = d.adapter_info();
                eprintln!(
                    "wgpu tests run on: {} ({:?}, {:?})",
                    i.name, i.backend, i.device_type
                );
                Some(Arc::new(d))
            }
            Err(e) => {
                eprintln!("SKIP: wgpu adapter {} did not open: {e}", pick.name);
                None
            }
        }
    })
    .clone()
}

/// The wgpu device, or return from the test after printing why not.
#[macro_export]
macro_rules! gpu_or_skip {
    () => {
        match common::gpu() {
            Some(g) => g,
            None => return,
        }
    };
}

/// A driver of its own on the shared driver's adapter, for tests whose limits or counters must
/// not see the tests running beside them.
pub fn own_driver(shared: &WgpuDriver) -> Arc<WgpuDriver> {
    let info = shared.adapter_info();
    let opts = Options {
        adapter_name: Some(info.name.clone()),
        backends: info.backend.into(),
        ..Options::default()
    };
    Arc::new(WgpuDriver::new(&opts).expect("a second wgpu driver on the same adapter"))
}

pub fn device(g: &Arc<WgpuDriver>) -> Device {
    Device::new(g.clone())
}

/// Deterministic test data: bytes of `n` elements of `dt`, in ranges every op accepts.
pub fn data(dt: DType, n: usize, seed: u64, kind: Data) -> Vec<u8> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as u32
    };
    let mut out = Vec::with_capacity(n * dt.size());
    for _ in 0..n {
        let r = next();
        let f = (r % 20001) as f64 / 10000.0 * 3.0 - 3.0; // [-3, 3]
        let f = match kind {
            Data::Any => f,
            Data::Positive => f.abs() + 0.25,
            Data::Small => f / 3.0,
        };
        let i = match kind {
            Data::Any => (r % 41) as i64 - 20,
            Data::Positive => (r % 9) as i64 + 1,
            Data::Small => (r % 7) as i64 - 3,
        };
        match dt {
            DType::F32 => out.extend_from_slice(&(f as f32).to_le_bytes()),
            DType::F64 => out.extend_from_slice(&f.to_le_bytes()),
            DType::F16 => out.extend_from_slice(&half::f16::from_f64(f).to_le_bytes()),
            DType::BF16 => out.extend_from_slice(&half::bf16::from_f64(f).to_le_bytes()),
            DType::I32 => out.extend_from_slice(&(i as i32).to_le_bytes()),
            DType::I64 => out.extend_from_slice(&i.to_le_bytes()),
            DType::I8 => out.push(i as i8 as u8),
            DType::U8 => out.push(i.unsigned_abs() as u8),
            DType::Bool => out.push((r & 1) as u8),
        }
    }
    out
}

/// Value ranges for [`data`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Data {
    /// Floats in [-3, 3], ints in [-20, 20].
    Any,
    /// Floats in [0.25, 3.25], ints in [1, 9] (divisors, logs).
    Positive,
    /// Floats in [-1, 1], ints in [-3, 3] (powers, products).
    Small,
}

/// One operand: dtype, layout, and the contents of its whole buffer.
pub struct Operand {
    pub dtype: DType,
    pub layout: Layout,
    pub bytes: Vec<u8>,
}

impl Operand {
    /// A dense operand of `shape` with generated data.
    pub fn dense(dtype: DType, shape: &[usize], seed: u64, kind: Data) -> Operand {
        let layout = Layout::contiguous(Shape::new(shape));
        Operand::with_layout(dtype, layout, seed, kind)
    }

    /// An operand with any layout; the buffer covers the layout's span.
    pub fn with_layout(dtype: DType, layout: Layout, seed: u64, kind: Data) -> Operand {
        let n = layout.span_end().max(1);
        Operand {
            dtype,
            bytes: data(dtype, n, seed, kind),
            layout,
        }
    }

    /// Explicit bytes.
    pub fn bytes(dtype: DType, layout: Layout, bytes: Vec<u8>) -> Operand {
        Operand {
            dtype,
            layout,
            bytes,
        }
    }
}

fn upload(d: &dyn Driver, o: &Operand) -> lantern::Result<BufId> {
    let b = d.alloc(o.bytes.len().max(4))?;
    d.write(b, 0, &o.bytes)?;
    Ok(b)
}

/// Runs `op` on one driver; returns the output view's bytes, densely packed.
pub fn run_on(
    d: &dyn Driver,
    op: &PrimOp,
    ins: &[&Operand],
    out: &Operand,
) -> lantern::Result<Vec<u8>> {
    let mut bufs = Vec::new();
    let r = (|| {
        let mut views = Vec::new();
        for o in ins {
            let b = upload(d, o)?;
            bufs.push(b);
            views.push(View {
                buf: b,
                layout: o.layout.clone(),
                dtype: o.dtype,
            });
        }
        let ob = upload(d, out)?;
        bufs.push(ob);
        let ov = View {
            buf: ob,
            layout: out.layout.clone(),
            dtype: out.dtype,
        };
        d.exec(op, &views, std::slice::from_ref(&ov))?;
        d.read_blocking(&ov)
    })();
    for b in bufs {
        d.free(b);
    }
    r
}

/// Decodes dense bytes of `dt` to f64 (NaN kept).
pub fn decode(dt: DType, b: &[u8]) -> Vec<f64> {
    b.chunks_exact(dt.size())
        .map(|c| match dt {
            DType::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
            DType::F64 => f64::from_le_bytes(c.try_into().expect("8 bytes")),
            DType::F16 => half::f16::from_le_bytes([c[0], c[1]]).to_f64(),
            DType::BF16 => half::bf16::from_le_bytes([c[0], c[1]]).to_f64(),
            DType::I32 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
            DType::I64 => i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64,
            DType::I8 => c[0] as i8 as f64,
            DType::U8 => c[0] as f64,
            DType::Bool => c[0] as f64,
        })
        .collect()
}

/// Relative tolerance per dtype for ordinary ops.
pub fn rtol(dt: DType) -> f64 {
    match dt {
        DType::F32 => 2e-5,
        DType::F16 => 2e-3,
        DType::BF16 => 1.6e-2,
        _ => 0.0,
    }
}

/// Compares two outputs; `Err` describes the first mismatch.
pub fn compare(dt: DType, cpu: &[u8], gpu: &[u8], rtol: f64, atol: f64) -> Result<(), String> {
    let (a, b) = (decode(dt, cpu), decode(dt, gpu));
    if a.len() != b.len() {
        return Err(format!("lengths differ: cpu {} gpu {}", a.len(), b.len()));
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let ok = (x.is_nan() && y.is_nan())
            || x == y
            || (x - y).abs() <= atol + rtol * x.abs().max(y.abs());
        if !ok {
            return Err(format!("element {i}: cpu {x} gpu {y} (of {})", a.len()));
        }
    }
    Ok(())
}

/// Runs on both drivers and compares. Both must agree on failure too (an op the CPU refuses
/// must be refused here); returns whether the op ran.
pub fn check(
    g: &WgpuDriver,
    what: &str,
    op: &PrimOp,
    ins: &[&Operand],
    out: &Operand,
    rtol: f64,
    atol: f64,
) -> Result<bool, String> {
    let cpu = CpuDriver::new();
    let c = run_on(&cpu, op, ins, out);
    let w = run_on(g, op, ins, out);
    match (c, w) {
        (Ok(c), Ok(w)) => compare(out.dtype, &c, &w, rtol, atol)
            .map(|_| true)
            .map_err(|e| format!("{what}: {e}")),
        (Err(_), Err(_)) => Ok(false),
        (Ok(_), Err(e)) => Err(format!("{what}: cpu ran, wgpu failed: {e}")),
        (Err(e), Ok(_)) => Err(format!("{what}: wgpu ran, cpu failed: {e}")),
    }
}

/// The dtypes the wgpu driver computes.
pub const DTYPES: [DType; 8] = [
    DType::F32,
    DType::F16,
    DType::BF16,
    DType::I32,
    DType::I64,
    DType::I8,
    DType::U8,
    DType::Bool,
];
