//! Shapes, strides and the strided `Layout` every view edits.

use crate::error::{arg_err, shape_err, Result};
use core::fmt;
use smallvec::SmallVec;

/// Dimensions stored inline for up to 6 dims: no heap allocation on the hot path.
pub type Dims = SmallVec<[usize; 6]>;

/// A tensor shape.
#[derive(PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Dims);

// SmallVec's derived clone pushes element by element; a slice copy is one memcpy, and every
// op clones a few shapes and layouts (a fifth of a tiny add's time went there).
impl Clone for Shape {
    fn clone(&self) -> Shape {
        Shape(SmallVec::from_slice(&self.0))
    }
}

impl Shape {
    /// A shape from a slice of sizes.
    pub fn new(dims: &[usize]) -> Shape {
        Shape(SmallVec::from_slice(dims))
    }

    /// The sizes.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dims.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (checked: overflow is an error).
    pub fn try_numel(&self, op: &'static str) -> Result<usize> {
        self.0.iter().try_fold(1usize, |a, &d| {
            a.checked_mul(d)
                .ok_or_else(|| arg_err(op, alloc::format!("shape {self} has too many elements")))
        })
    }

    /// Number of elements (product of dims; shapes held by tensors never overflow).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Row-major (C-contiguous) strides.
    pub fn contiguous_strides(&self) -> Dims {
        let mut s: Dims = SmallVec::from_elem(0, self.rank());
        let mut acc = 1usize;
        for i in (0..self.rank()).rev() {
            s[i] = acc;
            acc = acc.saturating_mul(self.0[i].max(1));
        }
        s
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape::new(d)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(d: [usize; N]) -> Self {
        Shape::new(&d)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(d: Vec<usize>) -> Self {
        Shape::new(&d)
    }
}

use alloc::vec::Vec;

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where a view's elements sit in its buffer: shape, strides and offset, all in elements.
///
/// Strides are never negative (as in PyTorch). A stride of 0 is a broadcast.
#[derive(PartialEq, Eq, Hash, Debug)]
pub struct Layout {
    /// The view's shape.
    pub shape: Shape,
    /// Elements to step per index in each dim.
    pub strides: Dims,
    /// Element offset of index 0 in the buffer.
    pub offset: usize,
}

impl Clone for Layout {
    fn clone(&self) -> Layout {
        Layout {
            shape: self.shape.clone(),
            strides: SmallVec::from_slice(&self.strides),
            offset: self.offset,
        }
    }
}

impl Layout {
    /// A row-major layout at offset 0.
    pub fn contiguous(shape: Shape) -> Layout {
        let strides = shape.contiguous_strides();
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    /// Number of dims.
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// The sizes.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// True when the elements are row-major and dense (size-1 dims may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut acc = 1usize;
        for i in (0..self.rank()).rev() {
            let d = self.shape.0[i];
            if d != 1 && self.strides[i] != acc {
                return false;
            }
            acc *= d;
        }
        true
    }

    /// One past the largest element offset the view touches (0 for empty views).
    pub fn span_end(&self) -> usize {
        if self.numel() == 0 {
            return self.offset;
        }
        self.offset
            + self
                .shape
                .0
                .iter()
                .zip(self.strides.iter())
                .map(|(&d, &s)| (d - 1) * s)
                .sum::<usize>()
            + 1
    }

    /// A copy with dims permuted: `out.dims[i] = self.dims[perm[i]]`.
    pub fn permute(&self, perm: &[usize]) -> Layout {
        Layout {
            shape: Shape(perm.iter().map(|&p| self.shape.0[p]).collect()),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }

    /// A copy broadcast to `shape` (size-1 and missing leading dims get stride 0).
    pub fn broadcast_to(&self, shape: &Shape, op: &'static str) -> Result<Layout> {
        let r = shape.rank();
        if self.rank() > r {
            return Err(shape_err(
                op,
                alloc::format!("a shape broadcastable to {shape}"),
                &self.shape,
            ));
        }
        let lead = r - self.rank();
        let mut strides: Dims = SmallVec::from_elem(0, r);
        for i in 0..r {
            if i < lead {
                continue;
            }
            let d = self.shape.0[i - lead];
            if d == shape.0[i] {
                strides[i] = if d == 1 { 0 } else { self.strides[i - lead] };
            } else if d == 1 {
                strides[i] = 0;
            } else {
                return Err(shape_err(
                    op,
                    alloc::format!("a shape broadcastable to {shape}"),
                    &self.shape,
                ));
            }
        }
        Ok(Layout {
            shape: shape.clone(),
            strides,
            offset: self.offset,
        })
    }

    /// Strides for viewing these elements with a new shape without copying, if possible
    /// (PyTorch's `computeStride`).
    pub fn reshape_strides(&self, new: &Shape) -> Option<Dims> {
        let old_d = self.dims();
        let old_s = &self.strides;
        let mut out: Dims = SmallVec::from_elem(0, new.rank());
        if self.numel() == 0 {
            return Some(new.contiguous_strides());
        }
        let mut view_d = new.rank() as isize - 1;
        let mut chunk_base_stride = *old_s.last().unwrap_or(&1);
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        let n = old_d.len();
        for td in (0..n).rev() {
            tensor_numel *= old_d[td];
            if td == 0 || (old_d[td - 1] != 1 && old_s[td - 1] != tensor_numel * chunk_base_stride)
            {
                while view_d >= 0 && (view_numel < tensor_numel || new.0[view_d as usize] == 1) {
                    out[view_d as usize] = view_numel * chunk_base_stride;
                    view_numel *= new.0[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if td > 0 {
                    chunk_base_stride = old_s[td - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(out)
    }
}

/// Resolves a possibly negative dim against `rank` (PyTorch's `maybe_wrap_dim`).
pub fn wrap_dim(dim: isize, rank: usize, op: &'static str) -> Result<usize> {
    let r = rank.max(1) as isize;
    let d = if dim < 0 { dim + r } else { dim };
    if d < 0 || d >= r {
        return Err(arg_err(
            op,
            alloc::format!(
                "dim {dim} out of range for a tensor of rank {rank} (expected in [{}, {}])",
                -r,
                r - 1
            ),
        ));
    }
    Ok(d as usize)
}

/// Broadcasts two shapes (NumPy/PyTorch rules).
pub fn broadcast_shapes(a: &Shape, b: &Shape, op: &'static str) -> Result<Shape> {
    let r = a.rank().max(b.rank());
    let mut out: Dims = SmallVec::from_elem(1, r);
    for i in 0..r {
        let da = if i + a.rank() >= r {
            a.0[i + a.rank() - r]
        } else {
            1
        };
        let db = if i + b.rank() >= r {
            b.0[i + b.rank() - r]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(shape_err(
                op,
                alloc::format!("shapes that broadcast together (lhs {a})"),
                alloc::format!("rhs {b}"),
            ));
        };
    }
    Ok(Shape(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_strides_of_transposed_fails_and_of_contiguous_works() {
        let l = Layout::contiguous(Shape::new(&[2, 3, 4]));
        assert_eq!(
            l.reshape_strides(&Shape::new(&[6, 4])).unwrap().as_slice(),
            &[4, 1]
        );
        let t = l.permute(&[0, 2, 1]);
        assert!(t.reshape_strides(&Shape::new(&[24])).is_none());
        assert_eq!(
            t.reshape_strides(&Shape::new(&[2, 4, 3, 1]))
                .unwrap()
                .as_slice(),
            &[12, 1, 4, 4]
        );
    }

    #[test]
    fn broadcasting() {
        let s = broadcast_shapes(&Shape::new(&[2, 1, 3]), &Shape::new(&[4, 1]), "add").unwrap();
        assert_eq!(s.dims(), &[2, 4, 3]);
        assert!(broadcast_shapes(&Shape::new(&[2, 3]), &Shape::new(&[4]), "add").is_err());
    }
}
