//! Datasets and batching (PyTorch's `torch.utils.data`): a `Dataset` trait, `TensorDataset`,
//! a `DataLoader` with seeded shuffling, and `random_split`.

use crate::error::{arg_err, Result};
use crate::rng::philox_at;
use crate::tensor::Tensor;
use alloc::vec::Vec;

#[cfg(feature = "std")]
pub mod mnist;

/// Indexed examples.
pub trait Dataset {
    /// Number of examples.
    fn len(&self) -> usize;
    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A batch of examples by index, already collated (stacked along a new dim 0).
    fn get_batch(&self, indices: &[usize]) -> Result<Vec<Tensor>>;
}

/// Examples are rows (dim 0) of several tensors of equal length.
pub struct TensorDataset {
    tensors: Vec<Tensor>,
}

impl TensorDataset {
    /// Fails unless every tensor has the same size along dim 0.
    pub fn new(tensors: Vec<Tensor>) -> Result<TensorDataset> {
        let n = tensors
            .first()
            .map(|t| t.dims().first().copied().unwrap_or(0));
        if tensors
            .iter()
            .any(|t| t.rank() == 0 || Some(t.dims()[0]) != n)
        {
            return Err(arg_err(
                "TensorDataset",
                "all tensors need the same size in dim 0",
            ));
        }
        Ok(TensorDataset { tensors })
    }
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.tensors.first().map(|t| t.dims()[0]).unwrap_or(0)
    }

    fn get_batch(&self, indices: &[usize]) -> Result<Vec<Tensor>> {
        let dev = match self.tensors.first() {
            Some(t) => t.device().clone(),
            None => return Ok(Vec::new()),
        };
        let idx: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let it = Tensor::try_from_slice(&idx, [idx.len()], &dev)?;
        self.tensors
            .iter()
            .map(|t| t.try_index_select(0, &it))
            .collect()
    }
}

/// A permutation of `0..n` from the Philox stream (Fisher–Yates), reproducible from `seed`.
pub fn randperm(n: usize, seed: u64, offset: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let w = philox_at(seed, offset, i as u64);
        let r = (((w[0] as u64) << 32) | w[1] as u64) % (i as u64 + 1);
        p.swap(i, r as usize);
    }
    p
}

/// Batches of a dataset, optionally shuffled with a seeded generator each epoch.
pub struct DataLoader<'a, D: Dataset> {
    dataset: &'a D,
    /// Examples per batch.
    pub batch_size: usize,
    /// Reshuffle every epoch.
    pub shuffle: bool,
    /// Drop the last incomplete batch.
    pub drop_last: bool,
    seed: u64,
    epoch: u64,
}

impl<'a, D: Dataset> DataLoader<'a, D> {
    /// A loader over `dataset`; `seed` drives shuffling.
    pub fn new(dataset: &'a D, batch_size: usize, shuffle: bool, seed: u64) -> DataLoader<'a, D> {
        DataLoader {
            dataset,
            batch_size: batch_size.max(1),
            shuffle,
            drop_last: false,
            seed,
            epoch: 0,
        }
    }

    /// Number of batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// True when an epoch has no batches.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batches of the next epoch.
    pub fn epoch(&mut self) -> impl Iterator<Item = Result<Vec<Tensor>>> + '_ {
        let n = self.dataset.len();
        let order = if self.shuffle {
            randperm(n, self.seed, self.epoch.wrapping_mul(n as u64))
        } else {
            (0..n).collect()
        };
        self.epoch += 1;
        let bs = self.batch_size;
        let nb = self.len();
        let ds = self.dataset;
        (0..nb).map(move |b| {
            let end = ((b + 1) * bs).min(n);
            ds.get_batch(&order[b * bs..end])
        })
    }
}

/// Splits `0..n` into shuffled index sets of the given lengths (PyTorch's `random_split`).
pub fn random_split(n: usize, lengths: &[usize], seed: u64) -> Result<Vec<Vec<usize>>> {
    if lengths.iter().sum::<usize>() != n {
        return Err(arg_err(
            "random_split",
            alloc::format!("lengths {lengths:?} must sum to {n}"),
        ));
    }
    let p = randperm(n, seed, 0);
    let mut at = 0;
    Ok(lengths
        .iter()
        .map(|&l| {
            let v = p[at..at + l].to_vec();
            at += l;
            v
        })
        .collect())
}

/// A subset of a dataset by indices.
pub struct Subset<'a, D: Dataset> {
    dataset: &'a D,
    indices: Vec<usize>,
}

impl<'a, D: Dataset> Subset<'a, D> {
    /// The examples of `dataset` at `indices`.
    pub fn new(dataset: &'a D, indices: Vec<usize>) -> Subset<'a, D> {
        Subset { dataset, indices }
    }
}

impl<D: Dataset> Dataset for Subset<'_, D> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Vec<Tensor>> {
        let mapped: Vec<usize> = indices.iter().map(|&i| self.indices[i]).collect();
        self.dataset.get_batch(&mapped)
    }
}
