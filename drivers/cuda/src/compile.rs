//! NVRTC: compiles a kernel group for a device at run time (cubin for the device's own
//! architecture when NVRTC knows it, PTX otherwise), or to PTX on a machine without a GPU
//! for the CI check that every kernel source compiles.

use cudarc::nvrtc::sys;
use lantern::DType;
use lantern_kernels::cuda::{Group, COMMON, OPTIONS};
use std::ffi::{c_char, CStr, CString};

/// What NVRTC produces.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// PTX for `compute_{arch}` (the driver JIT-compiles it for the device).
    Ptx(u32),
    /// Machine code for `sm_{arch}`.
    Cubin(u32),
}

/// True when libnvrtc can be opened (it is looked up on the library path).
pub fn nvrtc_available() -> bool {
    // SAFETY: only tries to open the library by its usual names.
    unsafe { sys::is_culib_present() }
}

/// NVRTC's version, `(major, minor)`. Call only when [`nvrtc_available`].
pub fn nvrtc_version() -> Option<(i32, i32)> {
    let (mut a, mut b) = (0, 0);
    // SAFETY: two out-pointers to live locals.
    let r = unsafe { sys::nvrtcVersion(&mut a, &mut b) };
    (r == sys::nvrtcResult::NVRTC_SUCCESS).then_some((a, b))
}

/// The architectures NVRTC can emit machine code for (`90` for sm_90).
pub fn supported_archs() -> Vec<u32> {
    let mut n = 0;
    // SAFETY: out-pointer to a live local.
    if unsafe { sys::nvrtcGetNumSupportedArchs(&mut n) } != sys::nvrtcResult::NVRTC_SUCCESS {
        return Vec::new();
    }
    let mut v = vec![0i32; n.max(0) as usize];
    // SAFETY: `v` holds the `n` entries NVRTC writes.
    if unsafe { sys::nvrtcGetSupportedArchs(v.as_mut_ptr()) } != sys::nvrtcResult::NVRTC_SUCCESS {
        return Vec::new();
    }
    v.into_iter().map(|a| a as u32).collect()
}

/// The code NVRTC should make for a device of compute capability `arch` (e.g. 90): its
/// own cubin when NVRTC supports it, else PTX for the newest architecture NVRTC supports
/// below it, which the driver compiles on load.
pub fn target_for(arch: u32) -> Target {
    let archs = supported_archs();
    if archs.contains(&arch) {
        Target::Cubin(arch)
    } else {
        Target::Ptx(
            archs
                .into_iter()
                .filter(|&a| a <= arch)
                .max()
                .unwrap_or(arch),
        )
    }
}

/// The `LT_ONLY` code of a dtype in `common.cuh`.
pub fn dtype_code(dt: DType) -> u32 {
    match dt {
        DType::Bool => 0,
        DType::U8 => 1,
        DType::I8 => 2,
        DType::I32 => 3,
        DType::I64 => 4,
        DType::F16 => 5,
        DType::BF16 => 6,
        DType::F32 => 7,
        DType::F64 => 8,
    }
}

/// The dtype's suffix in kernel names.
pub fn dtype_suffix(dt: DType) -> &'static str {
    match dt {
        DType::Bool => "bool",
        DType::U8 => "u8",
        DType::I8 => "i8",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

type SizeFn = unsafe fn(sys::nvrtcProgram, *mut usize) -> sys::nvrtcResult;
type GetFn = unsafe fn(sys::nvrtcProgram, *mut c_char) -> sys::nvrtcResult;

struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: the program was created by nvrtcCreateProgram and is destroyed once.
        unsafe {
            sys::nvrtcDestroyProgram(&mut self.0);
        }
    }
}

/// Compiles one group (all dtypes, or only `only`'s kernels) and returns the PTX (with a
/// trailing NUL, ready for `cuModuleLoadData`) or the cubin. Errors carry NVRTC's log.
pub fn compile(group: &Group, only: Option<DType>, target: Target) -> Result<Vec<u8>, String> {
    let src = format!(
        "{COMMON}\n#line 1 \"{name}.cu\"\n{body}",
        name = group.name,
        body = group.source
    );
    let src = CString::new(src).map_err(|_| format!("{}.cu contains a NUL byte", group.name))?;
    let name = CString::new(format!("{}.cu", group.name)).expect("internal: no NUL in a name");
    let mut opts: Vec<CString> = OPTIONS
        .iter()
        .chain(group.options.iter())
        .map(|o| CString::new(*o).expect("internal: no NUL in an option"))
        .collect();
    opts.push(
        CString::new(match target {
            Target::Ptx(a) => format!("--gpu-architecture=compute_{a}"),
            Target::Cubin(a) => format!("--gpu-architecture=sm_{a}"),
        })
        .expect("internal: no NUL"),
    );
    if let Some(dt) = only {
        opts.push(CString::new(format!("-DLT_ONLY={}", dtype_code(dt))).expect("internal: no NUL"));
    }
    let opt_ptrs: Vec<*const c_char> = opts.iter().map(|o| o.as_ptr()).collect();
    let mut raw: sys::nvrtcProgram = std::ptr::null_mut();
    // SAFETY: `src` and `name` are NUL-terminated and outlive the call; no headers.
    let r = unsafe {
        sys::nvrtcCreateProgram(
            &mut raw,
            src.as_ptr(),
            name.as_ptr(),
            0,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!(
            "nvrtcCreateProgram({}): {}",
            group.name,
            err_str(r)
        ));
    }
    let prog = Program(raw);
    // SAFETY: the option pointers point into `opts`, alive for the call.
    let r = unsafe { sys::nvrtcCompileProgram(prog.0, opt_ptrs.len() as i32, opt_ptrs.as_ptr()) };
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!(
            "NVRTC failed to compile {}.cu ({}):\n{}",
            group.name,
            err_str(r),
            log(&prog)
        ));
    }
    let (size_fn, get_fn): (SizeFn, GetFn) = match target {
        Target::Ptx(_) => (sys::nvrtcGetPTXSize, sys::nvrtcGetPTX),
        Target::Cubin(_) => (sys::nvrtcGetCUBINSize, sys::nvrtcGetCUBIN),
    };
    let mut n = 0usize;
    // SAFETY: out-pointer to a live local.
    let r = unsafe { size_fn(prog.0, &mut n) };
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!(
            "reading {}'s code size: {}",
            group.name,
            err_str(r)
        ));
    }
    let mut out = vec![0u8; n];
    // SAFETY: `out` has the `n` bytes NVRTC writes.
    let r = unsafe { get_fn(prog.0, out.as_mut_ptr() as *mut c_char) };
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!("reading {}'s code: {}", group.name, err_str(r)));
    }
    Ok(out)
}

fn log(prog: &Program) -> String {
    let mut n = 0usize;
    // SAFETY: out-pointer to a live local.
    if unsafe { sys::nvrtcGetProgramLogSize(prog.0, &mut n) } != sys::nvrtcResult::NVRTC_SUCCESS {
        return String::from("(no log)");
    }
    let mut buf = vec![0u8; n.max(1)];
    // SAFETY: `buf` has the `n` bytes NVRTC writes.
    unsafe { sys::nvrtcGetProgramLog(prog.0, buf.as_mut_ptr() as *mut c_char) };
    String::from_utf8_lossy(&buf)
        .trim_end_matches('\0')
        .to_string()
}

fn err_str(r: sys::nvrtcResult) -> String {
    // SAFETY: NVRTC returns a static NUL-terminated string for every result code.
    let p = unsafe { sys::nvrtcGetErrorString(r) };
    if p.is_null() {
        return format!("{r:?}");
    }
    // SAFETY: non-null and NUL-terminated (above).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}
