//! One error type for every fallible operation in Lantern.

use alloc::string::String;
use core::fmt;

/// The error returned by every fallible Lantern operation.
///
/// Messages name the op and the offending shapes, dtypes or devices, so that a
/// failure deep inside a model says what went wrong without a debugger.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// Operand shapes do not fit the op.
    Shape {
        /// The op that rejected its operands, e.g. `"matmul"`.
        op: &'static str,
        /// What the op needed.
        expected: String,
        /// What it was given.
        got: String,
    },
    /// An operand has a dtype the op does not accept.
    DType {
        /// The op.
        op: &'static str,
        /// Details naming the dtypes involved.
        msg: String,
    },
    /// Operands live on different devices, or a device is unavailable.
    Device {
        /// The op.
        op: &'static str,
        /// Details naming the devices involved.
        msg: String,
    },
    /// An argument is out of range (a dim, an index, a size).
    Arg {
        /// The op.
        op: &'static str,
        /// What is wrong with the argument.
        msg: String,
    },
    /// An allocation would pass the device's memory limit, or the device is out of memory.
    OutOfMemory {
        /// The device, e.g. `"cpu"` or `"cuda:0"`.
        device: String,
        /// Bytes requested.
        requested: usize,
        /// Bytes in use on the device when the request failed.
        in_use: usize,
        /// The memory limit, if one is set.
        limit: Option<usize>,
    },
    /// The device does not implement this op for this dtype.
    Unsupported {
        /// The op.
        op: &'static str,
        /// The dtype (or dtypes) involved.
        dtype: String,
        /// The device.
        device: String,
    },
    /// A blocking call was made where blocking is not allowed (the browser's main thread).
    WouldBlock {
        /// The op.
        op: &'static str,
    },
    /// A device-side fault reported at the next synchronisation point.
    Deferred {
        /// The op that faulted.
        op: &'static str,
        /// The driver's description.
        message: String,
    },
    /// Any other driver failure.
    Driver(String),
    /// An I/O failure (files, streams).
    Io(String),
    /// Malformed serialized data (safetensors, fixtures).
    Format(String),
    /// Autograd could not run (no graph, modified saved tensor, ...).
    Autograd(String),
}

/// `Result` with Lantern's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, expected, got } => {
                write!(f, "shape error in {op}: expected {expected}, got {got}")
            }
            Error::DType { op, msg } => write!(f, "dtype error in {op}: {msg}"),
            Error::Device { op, msg } => write!(f, "device error in {op}: {msg}"),
            Error::Arg { op, msg } => write!(f, "invalid argument to {op}: {msg}"),
            Error::OutOfMemory {
                device,
                requested,
                in_use,
                limit,
            } => {
                write!(
                    f,
                    "out of memory: allocating {} on {device} failed, {} in use",
                    Bytes(*requested),
                    Bytes(*in_use)
                )?;
                if let Some(l) = limit {
                    write!(f, ", limit {}", Bytes(*l))?;
                }
                Ok(())
            }
            Error::Unsupported { op, dtype, device } => {
                write!(f, "{op} is not supported for {dtype} on {device}")
            }
            Error::WouldBlock { op } => write!(
                f,
                "{op} would block, which is not allowed here: use the async variant"
            ),
            Error::Deferred { op, message } => write!(f, "device error in {op}: {message}"),
            Error::Driver(m) => write!(f, "driver error: {m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::Format(m) => write!(f, "format error: {m}"),
            Error::Autograd(m) => write!(f, "autograd error: {m}"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(alloc::format!("{e}"))
    }
}

/// Formats a byte count the way people read it (`64.0 MiB`): integer arithmetic, rounded
/// half to even like `{:.1}` on the quotient, so that no float formatting is linked.
pub(crate) struct Bytes(pub usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as u128;
        let (unit, shift, digits) = match b {
            0..1024 => return write!(f, "{b} B"),
            1024..0x10_0000 => ("KiB", 10, 1),
            0x10_0000..0x4000_0000 => ("MiB", 20, 1),
            _ => ("GiB", 30, 2),
        };
        let scale = 10u128.pow(digits);
        let (q, r) = ((b * scale) >> shift, (b * scale) & ((1 << shift) - 1));
        let half = 1 << (shift - 1);
        let n = q + u128::from(r > half || (r == half && q % 2 == 1));
        let (int, frac) = (n / scale, n % scale);
        write!(f, "{int}.{frac:0w$} {unit}", w = digits as usize)
    }
}

/// Builds an [`Error::Shape`] from anything printable.
pub(crate) fn shape_err(
    op: &'static str,
    expected: impl fmt::Display,
    got: impl fmt::Display,
) -> Error {
    Error::Shape {
        op,
        expected: alloc::format!("{expected}"),
        got: alloc::format!("{got}"),
    }
}

/// Builds an [`Error::Arg`].
pub(crate) fn arg_err(op: &'static str, msg: impl fmt::Display) -> Error {
    Error::Arg {
        op,
        msg: alloc::format!("{msg}"),
    }
}

/// Builds an [`Error::DType`].
pub(crate) fn dtype_err(op: &'static str, msg: impl fmt::Display) -> Error {
    Error::DType {
        op,
        msg: alloc::format!("{msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::Bytes;
    use alloc::format;

    /// The integer rounding prints what `{:.1}`/`{:.2}` print on the exact quotient.
    #[test]
    fn bytes_match_float_formatting() {
        let sizes = [
            0,
            1023,
            1024,
            1075,
            1076,
            1126,
            1127,
            3 << 19,
            (1 << 20) - 1,
            1 << 20,
            0x3fff_ffff,
            1 << 30,
            (1 << 30) + (5 << 20) + (1 << 10),
            3 * (1 << 30) + (1 << 30) / 200,
            usize::MAX,
        ];
        for b in sizes.into_iter().chain((0..2000).map(|i| i * 9973 + 1000)) {
            let x = b as f64;
            let want = if b < 1024 {
                format!("{b} B")
            } else if b < 1 << 20 {
                format!("{:.1} KiB", x / 1024.0)
            } else if b < 1 << 30 {
                format!("{:.1} MiB", x / (1024.0 * 1024.0))
            } else {
                format!("{:.2} GiB", x / (1024.0 * 1024.0 * 1024.0))
            };
            if b < 1 << 53 {
                assert_eq!(format!("{}", Bytes(b)), want, "{b}");
            }
        }
        assert_eq!(format!("{}", Bytes(usize::MAX)), "17179869184.00 GiB");
    }
}
