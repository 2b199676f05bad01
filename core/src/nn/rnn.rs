//! Recurrent layers: [`LSTM`] and [`GRU`] with PyTorch's gate order (LSTM `i, f, g, o`;
//! GRU `r, z, n`), parameter names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
//! `bias_hh_l0`, ...) and initialisation (every parameter `U(-1/√H, 1/√H)`).
//! `num_layers` stacked layers with optional dropout between them, optionally bidirectional
//! (the reverse direction's parameters end in `_reverse`, as in PyTorch).

use super::{init, visit_each, Module, TensorVisitor};
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Result};
use crate::fmt::Float;
use crate::tensor::Tensor;
use alloc::string::String;
use alloc::vec::Vec;

/// One layer's weights: `weight_ih [G·H, in]`, `weight_hh [G·H, H]` and the two biases.
pub struct RnnLayer {
    /// Input-to-hidden weights `[G·H, in]` (`G` = 4 for LSTM, 3 for GRU).
    pub weight_ih: Tensor,
    /// Hidden-to-hidden weights `[G·H, H]`.
    pub weight_hh: Tensor,
    /// `[G·H]`, if bias.
    pub bias_ih: Option<Tensor>,
    /// `[G·H]`, if bias.
    pub bias_hh: Option<Tensor>,
}

impl RnnLayer {
    fn new(
        gates: usize,
        input: usize,
        hidden: usize,
        bias: bool,
        device: &Device,
    ) -> Result<RnnLayer> {
        let k = 1.0 / crate::math::sqrt(hidden.max(1) as f64);
        let p = |shape: &[usize]| -> Result<Tensor> {
            let t = Tensor::try_zeros(shape.to_vec(), DType::F32, device)?;
            init::uniform_(&t, -k, k)?;
            t.try_requires_grad_(true)
        };
        Ok(RnnLayer {
            weight_ih: p(&[gates * hidden, input])?,
            weight_hh: p(&[gates * hidden, hidden])?,
            bias_ih: if bias {
                Some(p(&[gates * hidden])?)
            } else {
                None
            },
            bias_hh: if bias {
                Some(p(&[gates * hidden])?)
            } else {
                None
            },
        })
    }

    /// Splits `g` into `n` equal gates along the last dim.
    fn gates(op: &'static str, g: &Tensor, n: usize) -> Result<Vec<Tensor>> {
        let parts = g.try_chunk(n, -1)?;
        if parts.len() != n || g.dims()[g.rank() - 1] % n != 0 {
            return Err(shape_err(
                op,
                alloc::format!("gate pre-activations divisible into {n} gates"),
                g.shape(),
            ));
        }
        Ok(parts)
    }

    fn named(&self, l: usize, reverse: bool, v: &mut Vec<(String, Tensor)>) {
        let sfx = if reverse { "_reverse" } else { "" };
        v.push((
            alloc::format!("weight_ih_l{l}{sfx}"),
            self.weight_ih.clone(),
        ));
        v.push((
            alloc::format!("weight_hh_l{l}{sfx}"),
            self.weight_hh.clone(),
        ));
        if let (Some(bi), Some(bh)) = (&self.bias_ih, &self.bias_hh) {
            v.push((alloc::format!("bias_ih_l{l}{sfx}"), bi.clone()));
            v.push((alloc::format!("bias_hh_l{l}{sfx}"), bh.clone()));
        }
    }

    /// `x W_ihᵀ + b_ih` for every step at once.
    fn input_part(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.try_matmul(&self.weight_ih.try_t()?)?;
        match &self.bias_ih {
            Some(b) => y.try_add(b),
            None => Ok(y),
        }
    }

    /// `h W_hhᵀ + b_hh`.
    fn hidden_part(&self, h: &Tensor) -> Result<Tensor> {
        let y = h.try_matmul(&self.weight_hh.try_t()?)?;
        match &self.bias_hh {
            Some(b) => y.try_add(b),
            None => Ok(y),
        }
    }
}

/// Constructor arguments of [`LSTM`] and [`GRU`] besides the sizes, with PyTorch's defaults
/// via `Default`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct RnnOptions {
    /// Stacked layers (1).
    pub num_layers: usize,
    /// Biases `b_ih` and `b_hh` (true).
    pub bias: bool,
    /// Input and output are `[N, L, *]` instead of `[L, N, *]` (false).
    pub batch_first: bool,
    /// Dropout on every layer's output except the last, in training mode (0).
    pub dropout: f64,
    /// Run a second, reversed direction and concatenate the features (false).
    pub bidirectional: bool,
}

impl Default for RnnOptions {
    fn default() -> Self {
        RnnOptions {
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
        }
    }
}

/// The parts shared by [`LSTM`] and [`GRU`].
struct Rnn {
    op: &'static str,
    input_size: usize,
    hidden_size: usize,
    opts: RnnOptions,
    layers: Vec<RnnLayer>,
}

impl Rnn {
    fn new(
        op: &'static str,
        gates: usize,
        input_size: usize,
        hidden_size: usize,
        opts: RnnOptions,
        device: &Device,
    ) -> Result<Rnn> {
        if opts.num_layers == 0 || hidden_size == 0 {
            return Err(arg_err(op, "num_layers and hidden_size must be positive"));
        }
        if !(0.0..=1.0).contains(&opts.dropout) {
            return Err(arg_err(
                op,
                alloc::format!("dropout must be in [0, 1], got {}", Float(opts.dropout)),
            ));
        }
        let dirs = if opts.bidirectional { 2 } else { 1 };
        let mut layers = Vec::with_capacity(opts.num_layers * dirs);
        for l in 0..opts.num_layers {
            let inp = if l == 0 {
                input_size
            } else {
                hidden_size * dirs
            };
            for _ in 0..dirs {
                layers.push(RnnLayer::new(gates, inp, hidden_size, opts.bias, device)?);
            }
        }
        Ok(Rnn {
            op,
            input_size,
            hidden_size,
            opts,
            layers,
        })
    }

    fn dirs(&self) -> usize {
        if self.opts.bidirectional {
            2
        } else {
            1
        }
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            layer.named(i / self.dirs(), i % self.dirs() == 1, &mut v);
        }
        v
    }

    /// Checks `x` and returns it as `[L, N, I]` plus whether it was unbatched.
    fn seq_major(&self, x: &Tensor) -> Result<(Tensor, bool)> {
        let i = self.input_size;
        let ok = (x.rank() == 2 || x.rank() == 3) && x.dims()[x.rank() - 1] == i;
        if !ok {
            let want = if self.opts.batch_first {
                alloc::format!("[N, L, {i}] or [L, {i}]")
            } else {
                alloc::format!("[L, N, {i}] or [L, {i}]")
            };
            return Err(shape_err(
                self.op,
                alloc::format!("input {want} (batch_first = {})", self.opts.batch_first),
                x.shape(),
            ));
        }
        if !x.dtype().is_float() {
            return Err(dtype_err(
                self.op,
                alloc::format!("input must be floating point, got {}", x.dtype()),
            ));
        }
        if x.rank() == 2 {
            return Ok((x.try_unsqueeze(1)?, true));
        }
        Ok((
            if self.opts.batch_first {
                x.try_transpose(0, 1)?
            } else {
                x.clone()
            },
            false,
        ))
    }

    /// The initial state `[layers·dirs, N, H]` (given, checked, or zeros).
    fn state(
        &self,
        name: &str,
        s: Option<&Tensor>,
        n: usize,
        unbatched: bool,
        like: &Tensor,
    ) -> Result<Tensor> {
        let (h, ld) = (self.hidden_size, self.layers.len());
        match s {
            None => Tensor::try_zeros([ld, n, h], like.dtype(), like.device()),
            Some(t) => {
                let want: Vec<usize> = if unbatched {
                    alloc::vec![ld, h]
                } else {
                    alloc::vec![ld, n, h]
                };
                if t.dims() != want.as_slice() {
                    return Err(shape_err(
                        self.op,
                        alloc::format!("{name} of shape {want:?}"),
                        t.shape(),
                    ));
                }
                if unbatched {
                    t.try_unsqueeze(1)
                } else {
                    Ok(t.clone())
                }
            }
        }
    }

    /// Runs every layer and direction over `xs [L, N, I]` from the initial states (one per
    /// layer and direction); `step(layer, x W_ihᵀ + b_ih at t, state)` gives the next state
    /// and `hidden(state)` its output. Returns the last layer's output and the final states.
    fn run<S: Clone>(
        &self,
        xs: Tensor,
        init: Vec<S>,
        training: bool,
        step: impl Fn(&RnnLayer, &Tensor, &S) -> Result<S>,
        hidden: impl Fn(&S) -> Tensor,
    ) -> Result<(Tensor, Vec<S>)> {
        let (steps, n) = (xs.dims()[0], xs.dims()[1]);
        let dirs = self.dirs();
        let mut finals = Vec::with_capacity(self.layers.len());
        let mut seq = xs;
        for l in 0..self.opts.num_layers {
            let mut ys = Vec::with_capacity(dirs);
            for d in 0..dirs {
                let k = l * dirs + d;
                let layer = &self.layers[k];
                let xw = layer.input_part(&seq)?;
                let mut s = init[k].clone();
                let mut outs: Vec<Option<Tensor>> = alloc::vec![None; steps];
                for i in 0..steps {
                    let t = if d == 0 { i } else { steps - 1 - i };
                    s = step(layer, &xw.try_select(0, t as isize)?, &s)?;
                    outs[t] = Some(hidden(&s));
                }
                finals.push(s);
                let outs: Vec<Tensor> = outs.into_iter().flatten().collect();
                ys.push(if steps == 0 {
                    Tensor::try_zeros([0, n, self.hidden_size], seq.dtype(), seq.device())?
                } else {
                    Tensor::try_stack(&outs, 0)?
                });
            }
            let y = if dirs == 1 {
                ys.remove(0)
            } else {
                Tensor::try_cat(&ys, -1)?
            };
            seq = if l + 1 < self.opts.num_layers {
                super::functional::dropout(&y, self.opts.dropout, training)?
            } else {
                y
            };
        }
        Ok((seq, finals))
    }

    /// Output back to the caller's layout.
    fn output(&self, y: Tensor, unbatched: bool) -> Result<Tensor> {
        if unbatched {
            y.try_squeeze(Some(1))
        } else if self.opts.batch_first {
            y.try_transpose(0, 1)
        } else {
            Ok(y)
        }
    }

    fn final_state(&self, s: Vec<Tensor>, unbatched: bool) -> Result<Tensor> {
        let s = Tensor::try_stack(&s, 0)?;
        if unbatched {
            s.try_squeeze(Some(1))
        } else {
            Ok(s)
        }
    }
}

macro_rules! rnn_type {
    ($(#[$doc:meta])* $name:ident, $gates:expr) => {
        $(#[$doc])*
        pub struct $name {
            inner: Rnn,
            training: bool,
        }

        impl $name {
            /// PyTorch's defaults: one layer, bias, sequence-major input, no dropout,
            /// unidirectional; float32 on `device`.
            pub fn new(input_size: usize, hidden_size: usize, device: &Device) -> Result<$name> {
                $name::with_options(input_size, hidden_size, RnnOptions::default(), device)
            }

            /// PyTorch's constructor arguments (no `proj_size`).
            pub fn with_options(input_size: usize, hidden_size: usize, opts: RnnOptions, device: &Device) -> Result<$name> {
                Ok($name { inner: Rnn::new(stringify!($name), $gates, input_size, hidden_size, opts, device)?, training: true })
            }

            /// Features of `x`.
            pub fn input_size(&self) -> usize {
                self.inner.input_size
            }

            /// Features of each direction's `h`.
            pub fn hidden_size(&self) -> usize {
                self.inner.hidden_size
            }

            /// The options it was built with.
            pub fn options(&self) -> &RnnOptions {
                &self.inner.opts
            }

            /// Per-layer, per-direction weights in PyTorch's order (`l0`, `l0_reverse`, `l1`, ...).
            pub fn layers(&self) -> &[RnnLayer] {
                &self.inner.layers
            }

            /// Mutable access to the weights (e.g. to install float64 tensors).
            pub fn layers_mut(&mut self) -> &mut [RnnLayer] {
                &mut self.inner.layers
            }
        }

        impl Module for $name {
            /// The output sequence from a zero initial state (use `forward_with` for the state).
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                Ok(self.forward_with(x, None)?.0)
            }

            fn named_parameters(&self) -> Vec<(String, Tensor)> {
                self.inner.named_parameters()
            }

            fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
                self.inner.layers.iter_mut().try_for_each(|l| {
                    visit_each(f, [Some(&mut l.weight_ih), Some(&mut l.weight_hh), l.bias_ih.as_mut(), l.bias_hh.as_mut()])
                })
            }

            fn train(&mut self, mode: bool) {
                self.training = mode;
            }

            fn is_training(&self) -> bool {
                self.training
            }
        }
    };
}

rnn_type!(
    /// Long short-term memory (PyTorch's `nn.LSTM`): `i, f, g, o = σ, σ, tanh, σ` of
    /// `x W_ihᵀ + b_ih + h W_hhᵀ + b_hh` split in that order; `c' = f·c + i·g`,
    /// `h' = o·tanh(c')`.
    LSTM, 4
);
rnn_type!(
    /// Gated recurrent unit (PyTorch's `nn.GRU`): `r, z = σ(...)`,
    /// `n = tanh(x W_inᵀ + b_in + r·(h W_hnᵀ + b_hn))`, `h' = (1 - z)·n + z·h`.
    GRU, 3
);

impl LSTM {
    /// Runs the sequence from `(h0, c0)` (each `[num_layers·dirs, N, H]`; zeros when `None`)
    /// and returns `(output, (h_n, c_n))`, output `[L, N, dirs·H]` (`[N, L, dirs·H]` if
    /// batch_first).
    pub fn forward_with(
        &self,
        x: &Tensor,
        hx: Option<(&Tensor, &Tensor)>,
    ) -> Result<(Tensor, (Tensor, Tensor))> {
        let r = &self.inner;
        let (xs, unbatched) = r.seq_major(x)?;
        let n = xs.dims()[1];
        let h0 = r.state("h0", hx.map(|h| h.0), n, unbatched, &xs)?;
        let c0 = r.state("c0", hx.map(|h| h.1), n, unbatched, &xs)?;
        let init = (0..r.layers.len())
            .map(|k| Ok((h0.try_select(0, k as isize)?, c0.try_select(0, k as isize)?)))
            .collect::<Result<Vec<_>>>()?;
        let step = |layer: &RnnLayer,
                    xw: &Tensor,
                    (h, c): &(Tensor, Tensor)|
         -> Result<(Tensor, Tensor)> {
            let g = xw.try_add(&layer.hidden_part(h)?)?;
            let parts = RnnLayer::gates("LSTM", &g, 4)?;
            let i = parts[0].try_sigmoid()?;
            let f = parts[1].try_sigmoid()?;
            let gg = parts[2].try_tanh()?;
            let o = parts[3].try_sigmoid()?;
            let c = f.try_mul(c)?.try_add(&i.try_mul(&gg)?)?;
            let h = o.try_mul(&c.try_tanh()?)?;
            Ok((h, c))
        };
        let (y, finals) = r.run(xs, init, self.training, step, |s| s.0.clone())?;
        let (hn, cn): (Vec<Tensor>, Vec<Tensor>) = finals.into_iter().unzip();
        Ok((
            r.output(y, unbatched)?,
            (r.final_state(hn, unbatched)?, r.final_state(cn, unbatched)?),
        ))
    }
}

impl GRU {
    /// Runs the sequence from `h0` (`[num_layers·dirs, N, H]`; zeros when `None`) and returns
    /// `(output, h_n)`, output `[L, N, dirs·H]` (`[N, L, dirs·H]` if batch_first).
    pub fn forward_with(&self, x: &Tensor, h0: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let r = &self.inner;
        let (xs, unbatched) = r.seq_major(x)?;
        let n = xs.dims()[1];
        let h0 = r.state("h0", h0, n, unbatched, &xs)?;
        let init = (0..r.layers.len())
            .map(|k| h0.try_select(0, k as isize))
            .collect::<Result<Vec<_>>>()?;
        let step = |layer: &RnnLayer, xw: &Tensor, h: &Tensor| -> Result<Tensor> {
            let xi = RnnLayer::gates("GRU", xw, 3)?;
            let hh = RnnLayer::gates("GRU", &layer.hidden_part(h)?, 3)?;
            let r = xi[0].try_add(&hh[0])?.try_sigmoid()?;
            let z = xi[1].try_add(&hh[1])?.try_sigmoid()?;
            let nn = xi[2].try_add(&r.try_mul(&hh[2])?)?.try_tanh()?;
            // h' = n + z·(h - n)
            nn.try_add(&z.try_mul(&h.try_sub(&nn)?)?)
        };
        let (y, finals) = r.run(xs, init, self.training, step, |s| s.clone())?;
        Ok((r.output(y, unbatched)?, r.final_state(finals, unbatched)?))
    }
}
