//! MNIST from its four idx files (torchvision's `datasets.MNIST`, without the download).
//!
//! `bash scripts/setup.sh --mnist` unpacks the files into `~/.cache/lantern-data/mnist`;
//! [`default_dir`] finds them there or under `$LANTERN_DATA/mnist`.

use crate::driver::Device;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec::Vec;
use std::path::{Path, PathBuf};

/// Mean and standard deviation of the training pixels (scaled to [0, 1]), as torchvision's
/// MNIST example normalises them.
pub const NORMALIZE: (f32, f32) = (0.1307, 0.3081);

/// `$LANTERN_DATA/mnist`, or `~/.cache/lantern-data/mnist` when `LANTERN_DATA` is unset.
pub fn default_dir() -> PathBuf {
    std::env::var_os("LANTERN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/lantern-data")
        })
        .join("mnist")
}

/// True when all four idx files are in `dir`.
pub fn is_present(dir: &Path) -> bool {
    FILES.iter().all(|f| dir.join(f).is_file())
}

const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Reads an idx file of bytes (big-endian header: zero, zero, type 8, rank, dims).
pub fn read_idx(path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Io(format!(
            "{}: {e} (run `bash scripts/setup.sh --mnist` first)",
            path.display()
        ))
    })?;
    let bad = |why: &str| Error::Format(format!("{}: {why}", path.display()));
    if bytes.len() < 4 || bytes[..3] != [0, 0, 8] {
        return Err(bad("not an idx file of u8"));
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(bad("truncated header"));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let data = bytes[header..].to_vec();
    if data.len() != dims.iter().product::<usize>() {
        return Err(bad("data length does not match its dims"));
    }
    Ok((dims, data))
}

/// One split (`train`: 60,000 images, else the 10,000 test images), at most `limit` examples:
/// images float32 `[N, 1, 28, 28]` normalised by [`NORMALIZE`], labels int64 `[N]`.
pub fn load(
    dir: &Path,
    train: bool,
    limit: Option<usize>,
    dev: &Device,
) -> Result<(Tensor, Tensor)> {
    let split = if train { "train" } else { "t10k" };
    let (d, px) = read_idx(&dir.join(format!("{split}-images-idx3-ubyte")))?;
    let (ld, lb) = read_idx(&dir.join(format!("{split}-labels-idx1-ubyte")))?;
    if d.len() != 3 || ld.len() != 1 || ld[0] != d[0] {
        return Err(Error::Format(format!(
            "{}: images {d:?} and labels {ld:?} do not form one MNIST split",
            dir.display()
        )));
    }
    let n = limit.map_or(d[0], |l| l.min(d[0]));
    let (mean, std) = NORMALIZE;
    let x: Vec<f32> = px[..n * d[1] * d[2]]
        .iter()
        .map(|&p| (p as f32 / 255.0 - mean) / std)
        .collect();
    let y: Vec<i64> = lb[..n].iter().map(|&l| l as i64).collect();
    Ok((
        Tensor::try_from_slice(&x, [n, 1, d[1], d[2]], dev)?,
        Tensor::try_from_slice(&y, [n], dev)?,
    ))
}
