//! Elementwise ops: unary math, binary arithmetic with broadcasting and PyTorch's type
//! promotion, comparisons, logical ops, `where`, activations.

use super::{sugar, Tensor};
use crate::autograd::{record, GradOp, Saved};
use crate::dtype::{promote_scalar, promote_types, DType, Scalar};
use crate::error::{dtype_err, Result};
use crate::layout::broadcast_shapes;
use crate::ops::{BinaryOp, FusedOp, PrimOp, UnaryOp};
use smallvec::smallvec;

/// PyTorch's `result_type` for two tensors: dimensioned tensors outrank 0-dim ones, which
/// only promote across categories (bool < int < float).
fn result_type(a: &Tensor, b: &Tensor) -> DType {
    let (da, db) = (a.dtype(), b.dtype());
    match (a.rank() == 0, b.rank() == 0) {
        (false, true) => combine(da, db),
        (true, false) => combine(db, da),
        _ => promote_types(da, db),
    }
}

fn category(d: DType) -> u8 {
    if d.is_float() {
        2
    } else if d == DType::Bool {
        0
    } else {
        1
    }
}

/// `combine_categories(higher, lower)` from PyTorch's `ResultTypeState`.
fn combine(higher: DType, lower: DType) -> DType {
    if category(lower) > category(higher) {
        promote_types(higher, lower)
    } else {
        higher
    }
}

fn float_of(d: DType) -> DType {
    if d.is_float() {
        d
    } else {
        DType::F32
    }
}

impl Tensor {
    /// Applies a unary primitive; ints are promoted to float32 for float-only ops.
    pub(crate) fn unary(&self, op: UnaryOp) -> Result<Tensor> {
        let x = if op.float_only() && !self.dtype().is_float() {
            self.try_to_dtype(DType::F32)?
        } else if op == UnaryOp::LogicalNot {
            self.try_to_dtype(DType::Bool)?
        } else {
            self.clone()
        };
        let out = Tensor::empty(x.shape().clone(), x.dtype(), x.device())?;
        Tensor::exec(&PrimOp::Unary(op), &[&x], &out)?;
        Ok(record(out, GradOp::Unary(op), &[&x], |y| {
            smallvec![Saved::input(&x), Saved::output(y)]
        }))
    }

    /// Applies a binary primitive to `a` and `b` already cast to `dtype` and broadcast.
    fn binary_in(a: &Tensor, b: &Tensor, op: BinaryOp, dtype: DType) -> Result<Tensor> {
        a.same_device(op.name(), &[b])?;
        let shape = if a.shape() == b.shape() {
            a.shape().clone()
        } else {
            broadcast_shapes(a.shape(), b.shape(), op.name())?
        };
        let a = a.try_to_dtype(dtype)?;
        let b = b.try_to_dtype(dtype)?;
        let va = a.try_broadcast_to(shape.dims())?;
        let vb = b.try_broadcast_to(shape.dims())?;
        let out_dtype = if op.is_cmp() || op.is_logical() {
            DType::Bool
        } else {
            dtype
        };
        let out = Tensor::empty(shape, out_dtype, a.device())?;
        Tensor::exec(&PrimOp::Binary(op), &[&va, &vb], &out)?;
        if op.is_cmp() || op.is_logical() || op.is_bitwise() {
            return Ok(out);
        }
        Ok(record(out, GradOp::Binary(op), &[&va, &vb], |y| {
            smallvec![Saved::input(&va), Saved::input(&vb), Saved::output(y)]
        }))
    }

    /// The compute dtype of a binary op given the promoted operand dtype.
    fn op_dtype(op: BinaryOp, promoted: DType) -> Result<DType> {
        Ok(match op {
            BinaryOp::Div => float_of(promoted),
            BinaryOp::LogicalAnd | BinaryOp::LogicalOr | BinaryOp::LogicalXor => DType::Bool,
            BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor if promoted.is_float() => {
                return Err(dtype_err(
                    op.name(),
                    alloc::format!("bitwise ops need integer or bool tensors, got {promoted}"),
                ))
            }
            BinaryOp::Sub if promoted == DType::Bool => {
                return Err(dtype_err(
                    "sub",
                    "subtraction of bool tensors is not supported (use logical_xor)",
                ))
            }
            _ => promoted,
        })
    }

    /// `a ⊕ b` with broadcasting and type promotion.
    pub fn try_binary(&self, other: &Tensor, op: BinaryOp) -> Result<Tensor> {
        let dt = Tensor::op_dtype(op, result_type(self, other))?;
        Tensor::binary_in(self, other, op, dt)
    }

    /// `a ⊕ scalar` (or `scalar ⊕ a` when `reverse`): the scalar keeps the tensor's dtype
    /// unless it is of a higher category (PyTorch's wrapped-number rule).
    pub fn try_binary_scalar(
        &self,
        s: impl Into<Scalar>,
        op: BinaryOp,
        reverse: bool,
    ) -> Result<Tensor> {
        let s = s.into();
        let dt = Tensor::op_dtype(op, promote_scalar(self.dtype(), s))?;
        let st = Tensor::try_scalar(s, dt, self.device())?;
        if reverse {
            Tensor::binary_in(&st, self, op, dt)
        } else {
            Tensor::binary_in(self, &st, op, dt)
        }
    }

    /// `cond ? x : y` with broadcasting (PyTorch's `torch.where`).
    pub fn try_where(cond: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        cond.same_device("where", &[x, y])?;
        let shape = broadcast_shapes(cond.shape(), x.shape(), "where")?;
        let shape = broadcast_shapes(&shape, y.shape(), "where")?;
        let dt = result_type(x, y);
        let c = cond
            .try_to_dtype(DType::Bool)?
            .try_broadcast_to(shape.dims())?;
        let xv = x.try_to_dtype(dt)?.try_broadcast_to(shape.dims())?;
        let yv = y.try_to_dtype(dt)?.try_broadcast_to(shape.dims())?;
        let out = Tensor::empty(shape, dt, x.device())?;
        Tensor::exec(&PrimOp::Where, &[&c, &xv, &yv], &out)?;
        Ok(record(out, GradOp::Where, &[&c, &xv, &yv], |_| {
            smallvec![Saved::input(&c)]
        }))
    }

    /// `mask ? value : self` (mask broadcasts to self's shape).
    pub fn try_masked_fill(&self, mask: &Tensor, value: impl Into<Scalar>) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            return Err(dtype_err(
                "masked_fill",
                alloc::format!("mask must be bool, got {}", mask.dtype()),
            ));
        }
        let m = mask.try_broadcast_to(self.dims()).map_err(|_| {
            crate::error::shape_err(
                "masked_fill",
                alloc::format!("a mask broadcastable to {}", self.shape()),
                mask.shape(),
            )
        })?;
        let v = Tensor::try_scalar(value.into(), self.dtype(), self.device())?;
        Tensor::try_where(&m, &v.try_broadcast_to(self.dims())?, self)
    }

    /// Clamps into `[min, max]`; either bound may be absent. NaN stays NaN.
    pub fn try_clamp(&self, min: Option<f64>, max: Option<f64>) -> Result<Tensor> {
        let int = !self.dtype().is_float();
        let sc = |v: f64| {
            if int && crate::math::trunc(v) == v {
                Scalar::Int(v as i64)
            } else {
                Scalar::Float(v)
            }
        };
        let _ng = crate::autograd::no_grad();
        let mut x = self.clone();
        if let Some(lo) = min {
            x = x.try_binary_scalar(sc(lo), BinaryOp::Maximum, false)?;
        }
        if let Some(hi) = max {
            x = x.try_binary_scalar(sc(hi), BinaryOp::Minimum, false)?;
        }
        if min.is_none() && max.is_none() {
            return Err(crate::error::arg_err(
                "clamp",
                "at least one of min and max must be given",
            ));
        }
        drop(_ng);
        Ok(record(x, GradOp::Clamp { min, max }, &[self], |_| {
            smallvec![Saved::input(self)]
        }))
    }

    /// Runs a fused op with one input and one output of the input's shape: the driver's
    /// kernel if it has one, else `default`.
    /// The result is one autograd node (`grad`), whichever path computed it.
    pub(crate) fn fused_unary(
        &self,
        op: FusedOp,
        grad: GradOp,
        default: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.try_to_dtype(DType::F32)?
        };
        let y = {
            let _ng = crate::autograd::no_grad();
            let out = Tensor::empty(x.shape().clone(), x.dtype(), x.device())?;
            match x.device().driver().fused(
                &op,
                &[x.as_view()],
                core::slice::from_ref(&out.as_view()),
            ) {
                Some(r) => r.map(|_| out)?,
                None => {
                    drop(out);
                    default(&x)?
                }
            }
        };
        Ok(record(y, grad, &[&x], |y| {
            smallvec![Saved::input(&x), Saved::output(y)]
        }))
    }

    /// `1 / (1 + e^-x)`.
    pub fn try_sigmoid(&self) -> Result<Tensor> {
        self.fused_unary(FusedOp::Sigmoid, GradOp::Sigmoid, |x| {
            x.unary(UnaryOp::Neg)?
                .unary(UnaryOp::Exp)?
                .try_binary_scalar(1.0, BinaryOp::Add, false)?
                .unary(UnaryOp::Recip)
        })
    }

    /// `max(x, 0)`; NaN stays NaN.
    pub fn try_relu(&self) -> Result<Tensor> {
        let y = crate::autograd::with_grad_mode(false, || {
            if self.dtype().is_float() {
                let out = Tensor::empty(self.shape().clone(), self.dtype(), self.device())?;
                let r = self.device().driver().fused(
                    &FusedOp::Relu,
                    &[self.as_view()],
                    core::slice::from_ref(&out.as_view()),
                );
                if let Some(r) = r {
                    return r.map(|_| out);
                }
            }
            self.try_binary_scalar(Scalar::Int(0), BinaryOp::Maximum, false)
        })?;
        Ok(record(y, GradOp::Relu, &[self], |y| {
            smallvec![Saved::output(y)]
        }))
    }

    /// GELU: `x·Φ(x)` exactly (`approximate = "none"`) or with the tanh approximation.
    pub fn try_gelu(&self, tanh: bool) -> Result<Tensor> {
        self.fused_unary(FusedOp::Gelu { tanh }, GradOp::Gelu { tanh }, |x| {
            let inner = if tanh {
                // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                let x3 = x
                    .try_binary(x, BinaryOp::Mul)?
                    .try_binary(x, BinaryOp::Mul)?;
                x3.try_binary_scalar(0.044715, BinaryOp::Mul, false)?
                    .try_binary(x, BinaryOp::Add)?
                    .try_binary_scalar(0.797_884_560_802_865_4, BinaryOp::Mul, false)?
                    .unary(UnaryOp::Tanh)?
            } else {
                x.try_binary_scalar(core::f64::consts::FRAC_1_SQRT_2, BinaryOp::Mul, false)?
                    .unary(UnaryOp::Erf)?
            };
            inner
                .try_binary_scalar(1.0, BinaryOp::Add, false)?
                .try_binary(x, BinaryOp::Mul)?
                .try_binary_scalar(0.5, BinaryOp::Mul, false)
        })
    }

    /// SiLU (swish): `x·sigmoid(x)`.
    pub fn try_silu(&self) -> Result<Tensor> {
        self.fused_unary(FusedOp::Silu, GradOp::Silu, |x| {
            x.try_sigmoid()?.try_binary(x, BinaryOp::Mul)
        })
    }

    /// Softplus: `log(1 + e^(βx)) / β`, linear above `threshold` (PyTorch's defaults are 1 and 20).
    pub fn try_softplus(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.try_to_dtype(DType::F32)?
        };
        let y = crate::autograd::with_grad_mode(false, || -> Result<Tensor> {
            let bx = x.try_binary_scalar(beta, BinaryOp::Mul, false)?;
            let soft = bx
                .unary(UnaryOp::Exp)?
                .unary(UnaryOp::Log1p)?
                .try_binary_scalar(beta, BinaryOp::Div, false)?;
            let lin = bx.try_binary_scalar(threshold, BinaryOp::Gt, false)?;
            Tensor::try_where(&lin, &x, &soft)
        })?;
        Ok(record(
            y,
            GradOp::Softplus { beta, threshold },
            &[&x],
            |_| smallvec![Saved::input(&x)],
        ))
    }

    /// `x ^ exponent` for a scalar exponent.
    pub fn try_pow_scalar(&self, exponent: impl Into<Scalar>) -> Result<Tensor> {
        self.try_binary_scalar(exponent, BinaryOp::Pow, false)
    }

    /// Elementwise `x ^ y` with broadcasting.
    pub fn try_pow(&self, other: &Tensor) -> Result<Tensor> {
        self.try_binary(other, BinaryOp::Pow)
    }
}

macro_rules! unary_methods {
    ($($(#[$m:meta])* $name:ident $try:ident => $op:ident;)*) => {
        impl Tensor {
            $(
                $(#[$m])*
                pub fn $try(&self) -> Result<Tensor> { self.unary(UnaryOp::$op) }
            )*
            sugar! { $( $(#[$m])* fn $name(&self) -> Tensor = $try; )* }
        }
    };
}

unary_methods! {
    /// `-x`.
    neg try_neg => Neg;
    /// `|x|`.
    abs try_abs => Abs;
    /// Sign: -1, 0 or 1.
    sign try_sign => Sign;
    /// `1 / x`.
    reciprocal try_reciprocal => Recip;
    /// Square root.
    sqrt try_sqrt => Sqrt;
    /// `1 / sqrt(x)`.
    rsqrt try_rsqrt => Rsqrt;
    /// `e^x`.
    exp try_exp => Exp;
    /// `2^x`.
    exp2 try_exp2 => Exp2;
    /// `e^x - 1`.
    expm1 try_expm1 => Expm1;
    /// Natural log.
    log try_log => Log;
    /// Base-2 log.
    log2 try_log2 => Log2;
    /// `ln(1 + x)`.
    log1p try_log1p => Log1p;
    /// Sine.
    sin try_sin => Sin;
    /// Cosine.
    cos try_cos => Cos;
    /// Hyperbolic tangent.
    tanh try_tanh => Tanh;
    /// Error function.
    erf try_erf => Erf;
    /// Round down.
    floor try_floor => Floor;
    /// Round up.
    ceil try_ceil => Ceil;
    /// Round half to even.
    round try_round => Round;
    /// Round toward zero.
    trunc try_trunc => Trunc;
    /// Logical not (any dtype → bool).
    logical_not try_logical_not => LogicalNot;
}

macro_rules! binary_methods {
    ($($(#[$m:meta])* $name:ident $try:ident $sname:ident $stry:ident => $op:ident;)*) => {
        impl Tensor {
            $(
                $(#[$m])*
                pub fn $try(&self, other: &Tensor) -> Result<Tensor> { self.try_binary(other, BinaryOp::$op) }
                $(#[$m])*
                /// (Scalar operand.)
                pub fn $stry(&self, other: impl Into<Scalar>) -> Result<Tensor> { self.try_binary_scalar(other, BinaryOp::$op, false) }
                $(#[$m])*
                #[track_caller]
                pub fn $sname(&self, other: impl Into<Scalar>) -> Tensor {
                    self.$stry(other).unwrap_or_else(|e| panic!("{e}"))
                }
            )*
            sugar! { $( $(#[$m])* fn $name(&self, other: &Tensor) -> Tensor = $try; )* }
        }
    };
}

binary_methods! {
    /// `a + b`.
    add try_add add_scalar try_add_scalar => Add;
    /// `a - b`.
    sub try_sub sub_scalar try_sub_scalar => Sub;
    /// `a * b`.
    mul try_mul mul_scalar try_mul_scalar => Mul;
    /// True division `a / b` (ints give float32).
    div try_div div_scalar try_div_scalar => Div;
    /// Python-style remainder.
    remainder try_remainder remainder_scalar try_remainder_scalar => Rem;
    /// `floor(a / b)`.
    floor_divide try_floor_divide floor_divide_scalar try_floor_divide_scalar => FloorDiv;
    /// NaN-propagating maximum.
    maximum try_maximum maximum_scalar try_maximum_scalar => Maximum;
    /// NaN-propagating minimum.
    minimum try_minimum minimum_scalar try_minimum_scalar => Minimum;
    /// `a == b`.
    eq try_eq eq_scalar try_eq_scalar => Eq;
    /// `a != b`.
    ne try_ne ne_scalar try_ne_scalar => Ne;
    /// `a < b`.
    lt try_lt lt_scalar try_lt_scalar => Lt;
    /// `a <= b`.
    le try_le le_scalar try_le_scalar => Le;
    /// `a > b`.
    gt try_gt gt_scalar try_gt_scalar => Gt;
    /// `a >= b`.
    ge try_ge ge_scalar try_ge_scalar => Ge;
    /// Logical and (nonzero is true).
    logical_and try_logical_and logical_and_scalar try_logical_and_scalar => LogicalAnd;
    /// Logical or.
    logical_or try_logical_or logical_or_scalar try_logical_or_scalar => LogicalOr;
    /// Logical xor.
    logical_xor try_logical_xor logical_xor_scalar try_logical_xor_scalar => LogicalXor;
    /// Bitwise and (ints, bool).
    bitwise_and try_bitwise_and bitwise_and_scalar try_bitwise_and_scalar => BitAnd;
    /// Bitwise or.
    bitwise_or try_bitwise_or bitwise_or_scalar try_bitwise_or_scalar => BitOr;
    /// Bitwise xor.
    bitwise_xor try_bitwise_xor bitwise_xor_scalar try_bitwise_xor_scalar => BitXor;
}

impl Tensor {
    sugar! {
        /// Panicking form of [`Tensor::try_sigmoid`].
        fn sigmoid(&self) -> Tensor = try_sigmoid;
        /// Panicking form of [`Tensor::try_relu`].
        fn relu(&self) -> Tensor = try_relu;
        /// Panicking form of [`Tensor::try_gelu`].
        fn gelu(&self, tanh: bool) -> Tensor = try_gelu;
        /// Panicking form of [`Tensor::try_silu`].
        fn silu(&self) -> Tensor = try_silu;
        /// Panicking form of [`Tensor::try_softplus`].
        fn softplus(&self, beta: f64, threshold: f64) -> Tensor = try_softplus;
        /// Panicking form of [`Tensor::try_pow_scalar`].
        fn pow_scalar(&self, exponent: Scalar) -> Tensor = try_pow_scalar;
        /// Panicking form of [`Tensor::try_pow`].
        fn pow(&self, other: &Tensor) -> Tensor = try_pow;
        /// Panicking form of [`Tensor::try_clamp`].
        fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor = try_clamp;
        /// Panicking form of [`Tensor::try_masked_fill`].
        fn masked_fill(&self, mask: &Tensor, value: Scalar) -> Tensor = try_masked_fill;
    }

    /// Panicking form of [`Tensor::try_where`].
    #[track_caller]
    pub fn where_(cond: &Tensor, x: &Tensor, y: &Tensor) -> Tensor {
        Tensor::try_where(cond, x, y).unwrap_or_else(|e| panic!("{e}"))
    }
}

macro_rules! operator {
    ($tr:ident $m:ident $try:ident $stry:ident) => {
        impl core::ops::$tr<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $m(self, rhs: &Tensor) -> Tensor {
                self.$try(rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl core::ops::$tr<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $m(self, rhs: Tensor) -> Tensor {
                self.$try(&rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl core::ops::$tr<f64> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $m(self, rhs: f64) -> Tensor {
                self.$stry(rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        impl core::ops::$tr<f64> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $m(self, rhs: f64) -> Tensor {
                self.$stry(rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
    };
}
operator!(Add add try_add try_add_scalar);
operator!(Sub sub try_sub try_sub_scalar);
operator!(Mul mul try_mul try_mul_scalar);
operator!(Div div try_div try_div_scalar);

impl core::ops::Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        self.try_neg().unwrap_or_else(|e| panic!("{e}"))
    }
}

/// In-place ops: write into `self`'s storage and bump its version counter, so autograd
/// can tell when a saved tensor was modified.
impl Tensor {
    fn inplace(&self, op: &'static str, f: impl FnOnce() -> Result<()>) -> Result<&Tensor> {
        if self.requires_grad() && crate::autograd::is_grad_enabled() {
            return Err(crate::error::Error::Autograd(alloc::format!(
                "{op}: a tensor that requires grad cannot be modified in place while grad mode \
                 is on (use no_grad, or the out-of-place op)"
            )));
        }
        if self
            .layout()
            .strides
            .iter()
            .zip(self.dims())
            .any(|(&s, &d)| s == 0 && d > 1)
        {
            return Err(crate::error::arg_err(
                op,
                "cannot write in place into a broadcast (expanded) view",
            ));
        }
        f()?;
        self.storage().bump_version();
        Ok(self)
    }

    fn binary_inplace(&self, other: &Tensor, op: BinaryOp, name: &'static str) -> Result<&Tensor> {
        self.same_device(name, &[other])?;
        let b = other
            .try_to_dtype(self.dtype())?
            .try_broadcast_to(self.dims())
            .map_err(|_| {
                crate::error::shape_err(
                    name,
                    alloc::format!("an operand broadcastable to {}", self.shape()),
                    other.shape(),
                )
            })?;
        self.inplace(name, || {
            Tensor::exec(&PrimOp::Binary(op), &[self, &b], self)
        })
    }

    /// `self += other` in place.
    pub fn try_add_(&self, other: &Tensor) -> Result<&Tensor> {
        self.binary_inplace(other, BinaryOp::Add, "add_")
    }

    /// `self -= other` in place.
    pub fn try_sub_(&self, other: &Tensor) -> Result<&Tensor> {
        self.binary_inplace(other, BinaryOp::Sub, "sub_")
    }

    /// `self *= other` in place.
    pub fn try_mul_(&self, other: &Tensor) -> Result<&Tensor> {
        self.binary_inplace(other, BinaryOp::Mul, "mul_")
    }

    /// `self /= other` in place (float tensors).
    pub fn try_div_(&self, other: &Tensor) -> Result<&Tensor> {
        if !self.dtype().is_float() {
            return Err(dtype_err(
                "div_",
                alloc::format!(
                    "true division in place needs a float tensor, got {}",
                    self.dtype()
                ),
            ));
        }
        self.binary_inplace(other, BinaryOp::Div, "div_")
    }

    /// `self *= s` in place.
    pub fn try_mul_scalar_(&self, s: impl Into<Scalar>) -> Result<&Tensor> {
        let st = Tensor::try_scalar(s.into(), self.dtype(), self.device())?;
        self.binary_inplace(&st, BinaryOp::Mul, "mul_")
    }

    /// `self += s` in place.
    pub fn try_add_scalar_(&self, s: impl Into<Scalar>) -> Result<&Tensor> {
        let st = Tensor::try_scalar(s.into(), self.dtype(), self.device())?;
        self.binary_inplace(&st, BinaryOp::Add, "add_")
    }

    /// Copies `src` (broadcast and cast to `self`) into `self`'s elements.
    pub fn try_copy_(&self, src: &Tensor) -> Result<&Tensor> {
        self.same_device("copy_", &[src])?;
        let s = src
            .try_to_dtype(self.dtype())?
            .try_broadcast_to(self.dims())
            .map_err(|_| {
                crate::error::shape_err(
                    "copy_",
                    alloc::format!("a source broadcastable to {}", self.shape()),
                    src.shape(),
                )
            })?;
        self.inplace("copy_", || Tensor::exec(&PrimOp::Copy, &[&s], self))
    }

    /// Sets every element to `value`.
    pub fn try_fill_(&self, value: impl Into<Scalar>) -> Result<&Tensor> {
        let v = value.into();
        self.inplace("fill_", || Tensor::exec(&PrimOp::Fill(v), &[], self))
    }

    /// Sets every element to zero.
    pub fn try_zero_(&self) -> Result<&Tensor> {
        self.try_fill_(Scalar::Int(0))
    }
}
