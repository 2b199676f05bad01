#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures that pin Lantern's numerics.

How to run (from the repository root, with PyTorch installed):

    ~/.cache/lantern-venv/bin/python tests/gen_fixtures.py

It (re)writes one JSON file per op group in tests/fixtures/ and prints what it
wrote.  The output is deterministic: every group re-seeds torch's RNG with a
fixed seed, computation runs single-threaded on the CPU, and the JSON is
written with a fixed key order, so re-running gives byte-identical files.
The Rust tests only read the committed fixtures; they never run Python.

File format
-----------
    {"generator": "tests/gen_fixtures.py", "torch": "<torch.__version__>",
     "cases": [ <case>, <case>, ... ]}                 (one case per line)

A case:
    {"id": "<op>/<description>",   unique across all files
     "op": "<op>",                 op name (PyTorch name; scalar forms end in _scalar)
     "inputs": [<tensor>, ...],    positional tensor inputs (may be empty)
     "args": {...},                keyword arguments, PyTorch names
     "outputs": [<tensor>, ...],   one or more outputs (e.g. max with dim -> values,
                                   indices; split/chunk -> the pieces)
     "rtol": float, "atol": float} a value matches if |got - want| <= atol + rtol*|want|

A tensor:
    {"dtype": "float32" | "float64" | "float16" | "bfloat16" | "int32" | "int64" | "bool",
     "shape": [d0, d1, ...],       [] for a 0-d tensor (data then has one element)
     "data": [...],                flat row-major values; floats as Python repr() of
                                   the exact value as a float64, ints as ints, bools
                                   as true/false; non-finite as "nan", "inf", "-inf"
     "view": [[...], ...]}         inputs only, optional: view ops applied in order to
                                   the (contiguous) base tensor given by shape/data, to
                                   obtain a non-contiguous operand:
                                     ["t"], ["transpose", d0, d1], ["permute", [dims]],
                                     ["narrow", dim, start, length], ["expand", [shape]],
                                     ["slice", dim, start, end, step]   (= x[..., start:end:step])
Outputs are always the values of the result, materialized contiguous.

Conventions in args:
  * tuples are lists; optional args that are absent/None are JSON null;
  * a dtype is its name string ("float32", ...);
  * Python scalars keep their Python type: 2 (int) and 2.0 (float) differ, and
    that matters for type promotion (int64 tensor + 2 -> int64, + 2.0 -> float32);
  * non-finite float args are the strings "nan", "inf", "-inf" (e.g. norm p="inf",
    masked_fill value="-inf"); norm's p may also be the string "fro".

Inputs are generated in float64 and then cast to the case dtype, so the stored
data is exactly the input PyTorch saw.
"""

import json
import math
import os
import warnings

import torch
import torch.nn.functional as F

SEED = 1234
GENERATOR = "tests/gen_fixtures.py"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

torch.set_num_threads(1)
# var/std with correction >= N (a deliberate NaN case) warns; the result is what we want.
warnings.filterwarnings("ignore", message=".*degrees of freedom is <= 0.*")

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

f32, f64, f16, bf16 = torch.float32, torch.float64, torch.float16, torch.bfloat16
i32, i64, b8 = torch.int32, torch.int64, torch.bool

# Tolerances (rtol, atol).
EXACT = (0.0, 0.0)            # exact ops: copies, comparisons, + - * / (IEEE), casts
T32 = (1e-5, 1e-6)            # float32 transcendental / softmax-like
T64 = (1e-12, 1e-12)          # float64 anything non-exact
R32 = (1e-5, 1e-5)            # float32 reductions (summation order differs)
MM32 = (1e-4, 1e-5)           # float32 matmul / conv
HALF = (1e-2, 1e-3)           # float16 / bfloat16 arithmetic
LIN32 = (1e-6, 1e-6)          # linspace / arange float32 (formula may differ by an ulp)


def tol(dtype, f32tol=T32):
    """Default non-exact tolerance for a floating dtype."""
    if dtype == f64:
        return T64
    if dtype in (f16, bf16):
        return HALF
    return f32tol


# ----------------------------------------------------------------------------
# Input construction (always float64 first, then cast)
# ----------------------------------------------------------------------------

def tensor(data, dtype=f32):
    if dtype.is_floating_point:
        return torch.tensor(data, dtype=f64).to(dtype)
    return torch.tensor(data, dtype=dtype)


def randn(shape, dtype=f32, scale=1.0, offset=0.0):
    return (torch.randn(shape, dtype=f64) * scale + offset).to(dtype)


def uniform(shape, lo, hi, dtype=f32):
    return (torch.rand(shape, dtype=f64) * (hi - lo) + lo).to(dtype)


def randint(shape, lo, hi, dtype=i64):
    return torch.randint(lo, hi, shape, dtype=i64).to(dtype)


def small_ints(shape, lo=-3, hi=4, dtype=f32):
    """Integer-valued data (to create ties), in any dtype."""
    return torch.randint(lo, hi, shape, dtype=i64).to(f64).to(dtype)


def arange(shape, dtype=f32):
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n, dtype=f64).reshape(shape).to(dtype)


def mask(shape, p=0.5):
    return torch.rand(shape, dtype=f64) < p


class Inp:
    """A case input: a contiguous base tensor plus optional view ops."""

    def __init__(self, base, *views):
        self.base = base.contiguous()
        self.views = [list(v) for v in views]

    def materialize(self):
        t = self.base
        for v in self.views:
            t = apply_view(t, v)
        return t


def V(base, *views):
    return Inp(base, *views)


def slice_along(t, dim, start, end, step):
    idx = [slice(None)] * t.dim()
    idx[dim % t.dim()] = slice(start, end, step)
    return t[tuple(idx)]


def apply_view(t, v):
    kind = v[0]
    if kind == "t":
        return t.t()
    if kind == "transpose":
        return t.transpose(v[1], v[2])
    if kind == "permute":
        return t.permute(v[1])
    if kind == "narrow":
        return t.narrow(v[1], v[2], v[3])
    if kind == "expand":
        return t.expand(v[1])
    if kind == "slice":
        return slice_along(t, v[1], v[2], v[3], v[4])
    raise ValueError(f"unknown view op {v!r}")


# ----------------------------------------------------------------------------
# JSON encoding
# ----------------------------------------------------------------------------

def enc(x):
    """Encode a Python value for JSON (non-finite floats -> strings, tuples -> lists)."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(x, torch.dtype):
        return DTYPE_NAMES[x]
    if isinstance(x, (list, tuple)):
        return [enc(v) for v in x]
    if isinstance(x, dict):
        return {k: enc(v) for k, v in x.items()}
    raise TypeError(f"cannot encode {type(x)}: {x!r}")


def tensor_json(t, views=None):
    t = t.detach().contiguous()
    d = {
        "dtype": DTYPE_NAMES[t.dtype],
        "shape": list(t.shape),
        "data": [enc(v) for v in t.reshape(-1).tolist()],
    }
    if views:
        d["view"] = enc(views)
    return d


# ----------------------------------------------------------------------------
# Op registry: op name -> fn(list_of_input_tensors, **args)
# The args dict given to case() is both what is written to JSON and what
# drives the computation here, so the two can never disagree.
# ----------------------------------------------------------------------------

def _dt(name):
    return None if name is None else DTYPES[name]


def _dims(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def _p(p):
    return float(p) if isinstance(p, str) and p in ("inf", "-inf") else p


def _norm(x, p, dim, keepdim):
    p = _p(p)
    if p == "fro":
        p = 2  # Frobenius over the reduced dims == vector 2-norm over them
    return torch.linalg.vector_norm(x, ord=p, dim=_dims(dim), keepdim=keepdim)


def _max_min(fn):
    def f(xs, dim=None, keepdim=False):
        if dim is None:
            assert not keepdim
            return fn(xs[0])
        return tuple(fn(xs[0], dim, keepdim))
    return f


def _prod(xs, dim=None, keepdim=False):
    if dim is None:
        assert not keepdim
        return torch.prod(xs[0])
    return torch.prod(xs[0], dim, keepdim)


OPS = {
    # creation
    "zeros": lambda xs, shape, dtype: torch.zeros(shape, dtype=_dt(dtype)),
    "ones": lambda xs, shape, dtype: torch.ones(shape, dtype=_dt(dtype)),
    "full": lambda xs, shape, fill_value, dtype: torch.full(shape, fill_value, dtype=_dt(dtype)),
    "arange": lambda xs, start, end, step, dtype: torch.arange(start, end, step, dtype=_dt(dtype)),
    "linspace": lambda xs, start, end, steps, dtype: torch.linspace(start, end, steps, dtype=_dt(dtype)),
    "eye": lambda xs, n, m, dtype: torch.eye(n, m, dtype=_dt(dtype)),
    "zeros_like": lambda xs, dtype=None: torch.zeros_like(xs[0], dtype=_dt(dtype)),
    "ones_like": lambda xs, dtype=None: torch.ones_like(xs[0], dtype=_dt(dtype)),
    "full_like": lambda xs, fill_value, dtype=None: torch.full_like(xs[0], fill_value, dtype=_dt(dtype)),
    # views / shape ops
    "reshape": lambda xs, shape: xs[0].reshape(shape),
    "view": lambda xs, shape: xs[0].view(shape),
    "permute": lambda xs, dims: xs[0].permute(dims),
    "transpose": lambda xs, dim0, dim1: xs[0].transpose(dim0, dim1),
    "t": lambda xs: xs[0].t(),
    "narrow": lambda xs, dim, start, length: xs[0].narrow(dim, start, length),
    "slice": lambda xs, dim, start, end, step: slice_along(xs[0], dim, start, end, step),
    "select": lambda xs, dim, index: xs[0].select(dim, index),
    "expand": lambda xs, shape: xs[0].expand(shape),
    "broadcast_to": lambda xs, shape: torch.broadcast_to(xs[0], shape),
    "squeeze": lambda xs, dim: xs[0].squeeze() if dim is None else xs[0].squeeze(dim),
    "unsqueeze": lambda xs, dim: xs[0].unsqueeze(dim),
    "flatten": lambda xs, start_dim, end_dim: xs[0].flatten(start_dim, end_dim),
    "unflatten": lambda xs, dim, sizes: xs[0].unflatten(dim, sizes),
    "contiguous": lambda xs: xs[0].contiguous(),
    "cat": lambda xs, dim: torch.cat(xs, dim),
    "stack": lambda xs, dim: torch.stack(xs, dim),
    "split": lambda xs, split_size_or_sections, dim: torch.split(xs[0], split_size_or_sections, dim),
    "chunk": lambda xs, chunks, dim: torch.chunk(xs[0], chunks, dim),
    # unary
    "neg": lambda xs: torch.neg(xs[0]),
    "abs": lambda xs: torch.abs(xs[0]),
    "exp": lambda xs: torch.exp(xs[0]),
    "log": lambda xs: torch.log(xs[0]),
    "log1p": lambda xs: torch.log1p(xs[0]),
    "expm1": lambda xs: torch.expm1(xs[0]),
    "sqrt": lambda xs: torch.sqrt(xs[0]),
    "rsqrt": lambda xs: torch.rsqrt(xs[0]),
    "sin": lambda xs: torch.sin(xs[0]),
    "cos": lambda xs: torch.cos(xs[0]),
    "tanh": lambda xs: torch.tanh(xs[0]),
    "sigmoid": lambda xs: torch.sigmoid(xs[0]),
    "relu": lambda xs: torch.relu(xs[0]),
    "gelu": lambda xs, approximate: F.gelu(xs[0], approximate=approximate),
    "silu": lambda xs: F.silu(xs[0]),
    "softplus": lambda xs, beta, threshold: F.softplus(xs[0], beta=beta, threshold=threshold),
    "clamp": lambda xs, min, max: torch.clamp(xs[0], min=min, max=max),
    "pow_scalar": lambda xs, exponent: torch.pow(xs[0], exponent),
    "floor": lambda xs: torch.floor(xs[0]),
    "ceil": lambda xs: torch.ceil(xs[0]),
    "round": lambda xs: torch.round(xs[0]),
    "sign": lambda xs: torch.sign(xs[0]),
    "logical_not": lambda xs: torch.logical_not(xs[0]),
    # binary (tensor, tensor)
    "add": lambda xs: torch.add(xs[0], xs[1]),
    "sub": lambda xs: torch.sub(xs[0], xs[1]),
    "mul": lambda xs: torch.mul(xs[0], xs[1]),
    "div": lambda xs: torch.div(xs[0], xs[1]),
    "maximum": lambda xs: torch.maximum(xs[0], xs[1]),
    "minimum": lambda xs: torch.minimum(xs[0], xs[1]),
    "pow": lambda xs: torch.pow(xs[0], xs[1]),
    "eq": lambda xs: torch.eq(xs[0], xs[1]),
    "ne": lambda xs: torch.ne(xs[0], xs[1]),
    "lt": lambda xs: torch.lt(xs[0], xs[1]),
    "le": lambda xs: torch.le(xs[0], xs[1]),
    "gt": lambda xs: torch.gt(xs[0], xs[1]),
    "ge": lambda xs: torch.ge(xs[0], xs[1]),
    "logical_and": lambda xs: torch.logical_and(xs[0], xs[1]),
    "logical_or": lambda xs: torch.logical_or(xs[0], xs[1]),
    # binary (tensor, python scalar)
    "add_scalar": lambda xs, other: torch.add(xs[0], other),
    "sub_scalar": lambda xs, other: torch.sub(xs[0], other),
    "mul_scalar": lambda xs, other: torch.mul(xs[0], other),
    "div_scalar": lambda xs, other: torch.div(xs[0], other),
    "eq_scalar": lambda xs, other: torch.eq(xs[0], other),
    "ne_scalar": lambda xs, other: torch.ne(xs[0], other),
    "lt_scalar": lambda xs, other: torch.lt(xs[0], other),
    "le_scalar": lambda xs, other: torch.le(xs[0], other),
    "gt_scalar": lambda xs, other: torch.gt(xs[0], other),
    "ge_scalar": lambda xs, other: torch.ge(xs[0], other),
    # reductions
    "sum": lambda xs, dim, keepdim: torch.sum(xs[0], dim=_dims(dim), keepdim=keepdim),
    "mean": lambda xs, dim, keepdim: torch.mean(xs[0], dim=_dims(dim), keepdim=keepdim),
    "prod": _prod,
    "var": lambda xs, dim, correction, keepdim: torch.var(xs[0], dim=_dims(dim), correction=correction, keepdim=keepdim),
    "std": lambda xs, dim, correction, keepdim: torch.std(xs[0], dim=_dims(dim), correction=correction, keepdim=keepdim),
    "max": _max_min(torch.max),
    "min": _max_min(torch.min),
    "argmax": lambda xs, dim, keepdim: torch.argmax(xs[0], dim=dim, keepdim=keepdim),
    "argmin": lambda xs, dim, keepdim: torch.argmin(xs[0], dim=dim, keepdim=keepdim),
    "logsumexp": lambda xs, dim, keepdim: torch.logsumexp(xs[0], dim=_dims(dim), keepdim=keepdim),
    "norm": lambda xs, p, dim, keepdim: _norm(xs[0], p, dim, keepdim),
    # linalg
    "matmul": lambda xs: torch.matmul(xs[0], xs[1]),
    # nn
    "softmax": lambda xs, dim: F.softmax(xs[0], dim=dim),
    "log_softmax": lambda xs, dim: F.log_softmax(xs[0], dim=dim),
    "one_hot": lambda xs, num_classes: F.one_hot(xs[0], num_classes=num_classes),
    "pad": lambda xs, pad, mode, value: F.pad(xs[0], pad, mode=mode, value=value),
    "conv1d": lambda xs, stride, padding, dilation, groups: F.conv1d(
        xs[0], xs[1], xs[2] if len(xs) > 2 else None, stride=stride, padding=padding,
        dilation=dilation, groups=groups),
    "conv2d": lambda xs, stride, padding, dilation, groups: F.conv2d(
        xs[0], xs[1], xs[2] if len(xs) > 2 else None, stride=stride, padding=padding,
        dilation=dilation, groups=groups),
    "max_pool1d": lambda xs, kernel_size, stride, padding, dilation, ceil_mode: F.max_pool1d(
        xs[0], kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode),
    "max_pool2d": lambda xs, kernel_size, stride, padding, dilation, ceil_mode: F.max_pool2d(
        xs[0], kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode),
    "avg_pool1d": lambda xs, kernel_size, stride, padding, ceil_mode, count_include_pad: F.avg_pool1d(
        xs[0], kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad),
    "avg_pool2d": lambda xs, kernel_size, stride, padding, ceil_mode, count_include_pad: F.avg_pool2d(
        xs[0], kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad),
    # indexing / selection
    "gather": lambda xs, dim: torch.gather(xs[0], dim, xs[1]),
    "index_select": lambda xs, dim: torch.index_select(xs[0], dim, xs[1]),
    "scatter_add": lambda xs, dim: torch.scatter_add(xs[0], dim, xs[1], xs[2]),
    "masked_fill": lambda xs, value: xs[0].masked_fill(xs[1], value),
    "where": lambda xs: torch.where(xs[0], xs[1], xs[2]),
    # casts
    "to": lambda xs, dtype: xs[0].to(_dt(dtype)),
}


# ----------------------------------------------------------------------------
# Case collection
# ----------------------------------------------------------------------------

GROUPS = {}          # file stem -> list of cases
_IDS = set()
_current = None


def group(name):
    """Start a group (one output file); re-seeds the RNG so groups are independent."""
    global _current
    _current = name
    GROUPS[name] = []
    torch.manual_seed(SEED + sum(ord(c) for c in name))


def case(id, op, inputs=(), args=None, tol=EXACT):
    """Compute one case with torch and record it in the current group."""
    assert id.split("/")[0] == op, f"id {id!r} must start with op {op!r}"
    assert id not in _IDS, f"duplicate id {id!r}"
    _IDS.add(id)
    args = dict(args or {})
    inputs = [i if isinstance(i, Inp) else Inp(i) for i in inputs]
    out = OPS[op]([i.materialize() for i in inputs], **args)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    rtol, atol = tol
    GROUPS[_current].append({
        "id": id,
        "op": op,
        "inputs": [tensor_json(i.base, i.views) for i in inputs],
        "args": enc(args),
        "outputs": [tensor_json(o) for o in outs],
        "rtol": float(rtol),
        "atol": float(atol),
    })


# ============================================================================
# creation
# ============================================================================

def gen_creation():
    group("creation")
    case("zeros/f32_2x3", "zeros", args={"shape": [2, 3], "dtype": "float32"})
    case("zeros/i64_0d", "zeros", args={"shape": [], "dtype": "int64"})
    case("zeros/bool_empty", "zeros", args={"shape": [0, 2], "dtype": "bool"})
    case("ones/f64_4", "ones", args={"shape": [4], "dtype": "float64"})
    case("ones/i32_2x2x2", "ones", args={"shape": [2, 2, 2], "dtype": "int32"})
    case("ones/bool_3", "ones", args={"shape": [3], "dtype": "bool"})
    case("full/f32", "full", args={"shape": [2, 3], "fill_value": 1.5, "dtype": "float32"})
    case("full/f32_inexact", "full", args={"shape": [3], "fill_value": 0.1, "dtype": "float32"})
    case("full/i64", "full", args={"shape": [3, 1], "fill_value": -7, "dtype": "int64"})
    case("full/f16", "full", args={"shape": [2], "fill_value": 0.1, "dtype": "float16"})
    case("full/bf16", "full", args={"shape": [2], "fill_value": 0.1, "dtype": "bfloat16"})
    case("full/bool", "full", args={"shape": [2, 2], "fill_value": True, "dtype": "bool"})
    case("full/f32_neg_inf", "full", args={"shape": [2], "fill_value": float("-inf"), "dtype": "float32"})
    case("arange/i64", "arange", args={"start": 0, "end": 5, "step": 1, "dtype": "int64"})
    case("arange/i64_step3", "arange", args={"start": -4, "end": 9, "step": 3, "dtype": "int64"})
    case("arange/i64_negative_step", "arange", args={"start": 5, "end": -2, "step": -2, "dtype": "int64"})
    case("arange/f32_tenths", "arange", args={"start": 0.0, "end": 1.0, "step": 0.1, "dtype": "float32"}, tol=LIN32)
    case("arange/f32_negative_step", "arange", args={"start": 5.0, "end": 0.0, "step": -1.5, "dtype": "float32"}, tol=LIN32)
    case("arange/f64", "arange", args={"start": -1.0, "end": 1.0, "step": 0.25, "dtype": "float64"}, tol=T64)
    case("arange/empty", "arange", args={"start": 3, "end": 3, "step": 1, "dtype": "int64"})
    case("linspace/f32_0_1_5", "linspace", args={"start": 0.0, "end": 1.0, "steps": 5, "dtype": "float32"}, tol=LIN32)
    case("linspace/f32_sym_7", "linspace", args={"start": -1.0, "end": 1.0, "steps": 7, "dtype": "float32"}, tol=LIN32)
    case("linspace/f32_decreasing", "linspace", args={"start": 3.0, "end": -2.0, "steps": 11, "dtype": "float32"}, tol=LIN32)
    case("linspace/f64_10", "linspace", args={"start": 0.0, "end": 1.0, "steps": 10, "dtype": "float64"}, tol=T64)
    case("linspace/one_step", "linspace", args={"start": 2.0, "end": 3.0, "steps": 1, "dtype": "float32"}, tol=LIN32)
    case("linspace/zero_steps", "linspace", args={"start": 0.0, "end": 1.0, "steps": 0, "dtype": "float32"})
    case("eye/square_f32", "eye", args={"n": 3, "m": 3, "dtype": "float32"})
    case("eye/wide_f64", "eye", args={"n": 2, "m": 4, "dtype": "float64"})
    case("eye/tall_i64", "eye", args={"n": 4, "m": 2, "dtype": "int64"})
    case("eye/bool", "eye", args={"n": 2, "m": 2, "dtype": "bool"})
    x = randn((2, 3))
    case("zeros_like/f32", "zeros_like", [x])
    case("zeros_like/i64_from_noncontig", "zeros_like", [V(randint((3, 2), -5, 5), ["t"])])
    case("zeros_like/dtype_f64", "zeros_like", [x], {"dtype": "float64"})
    case("ones_like/f64", "ones_like", [randn((2, 2), f64)])
    case("ones_like/bool", "ones_like", [mask((3,))])
    case("ones_like/dtype_i32", "ones_like", [x], {"dtype": "int32"})
    case("full_like/f32", "full_like", [x], {"fill_value": 2.5})
    case("full_like/i64", "full_like", [randint((4,), 0, 3)], {"fill_value": 9})
    case("full_like/dtype_f16", "full_like", [x], {"fill_value": 0.3, "dtype": "float16"})


# ============================================================================
# views / shape ops (exact)
# ============================================================================

def gen_views():
    group("views")
    a = arange((2, 3, 4))
    m = arange((3, 4))
    case("reshape/flat", "reshape", [a], {"shape": [24]})
    case("reshape/infer", "reshape", [a], {"shape": [4, -1]})
    case("reshape/infer_first", "reshape", [a], {"shape": [-1, 2, 3]})
    case("reshape/noncontig_copy", "reshape", [V(m, ["t"])], {"shape": [2, 6]})
    case("reshape/to_0d", "reshape", [tensor([7.0])], {"shape": []})
    case("reshape/from_0d", "reshape", [tensor(3.5)], {"shape": [1, 1]})
    case("reshape/i64", "reshape", [arange((6,), i64)], {"shape": [3, 2]})
    case("reshape/empty", "reshape", [torch.zeros((0, 6))], {"shape": [2, 0, 3]})
    case("view/split_dim", "view", [a], {"shape": [2, 3, 2, 2]})
    case("view/infer", "view", [m], {"shape": [-1]})
    case("view/bool", "view", [mask((2, 4))], {"shape": [4, 2]})
    case("permute/3d", "permute", [a], {"dims": [2, 0, 1]})
    case("permute/negative_dims", "permute", [a], {"dims": [-1, -3, -2]})
    case("permute/noncontig", "permute", [V(arange((4, 3, 2)), ["transpose", 0, 2])], {"dims": [1, 2, 0]})
    case("transpose/2d", "transpose", [m], {"dim0": 0, "dim1": 1})
    case("transpose/3d_neg", "transpose", [a], {"dim0": -1, "dim1": 0})
    case("transpose/same_dim", "transpose", [m], {"dim0": 1, "dim1": 1})
    case("t/2d", "t", [m])
    case("t/1d", "t", [arange((4,))])
    case("t/i32", "t", [arange((2, 3), i32)])
    case("narrow/dim0", "narrow", [a], {"dim": 0, "start": 1, "length": 1})
    case("narrow/last", "narrow", [a], {"dim": -1, "start": 1, "length": 2})
    case("narrow/negative_start", "narrow", [m], {"dim": 1, "start": -3, "length": 2})
    case("narrow/zero_length", "narrow", [m], {"dim": 0, "start": 1, "length": 0})
    case("slice/step2", "slice", [m], {"dim": 1, "start": 0, "end": 4, "step": 2})
    case("slice/dim0_step", "slice", [arange((7, 2))], {"dim": 0, "start": 1, "end": 6, "step": 3})
    case("slice/negative_start_end_clamped", "slice", [m], {"dim": -1, "start": -3, "end": 100, "step": 1})
    case("slice/end_null", "slice", [arange((6,))], {"dim": 0, "start": 2, "end": None, "step": 2})
    case("slice/empty", "slice", [m], {"dim": 0, "start": 2, "end": 1, "step": 1})
    case("select/dim0", "select", [a], {"dim": 0, "index": 1})
    case("select/mid", "select", [a], {"dim": 1, "index": 2})
    case("select/negative_index", "select", [a], {"dim": -1, "index": -1})
    case("select/to_0d", "select", [arange((5,))], {"dim": 0, "index": 3})
    case("expand/row", "expand", [arange((1, 3))], {"shape": [4, 3]})
    case("expand/new_leading_dims", "expand", [arange((3, 1))], {"shape": [2, 3, 4]})
    case("expand/minus_one", "expand", [arange((2, 1))], {"shape": [-1, 3]})
    case("expand/from_0d", "expand", [tensor(2.0)], {"shape": [2, 2]})
    case("broadcast_to/row", "broadcast_to", [arange((3,))], {"shape": [2, 3]})
    case("broadcast_to/both", "broadcast_to", [arange((1, 2, 1), i64)], {"shape": [3, 2, 2]})
    s = arange((1, 3, 1, 2))
    case("squeeze/all", "squeeze", [s], {"dim": None})
    case("squeeze/dim0", "squeeze", [s], {"dim": 0})
    case("squeeze/negative_dim", "squeeze", [s], {"dim": -2})
    case("squeeze/noop_non_one", "squeeze", [s], {"dim": 1})
    case("squeeze/all_ones_to_0d", "squeeze", [tensor([[5.0]])], {"dim": None})
    case("unsqueeze/front", "unsqueeze", [m], {"dim": 0})
    case("unsqueeze/middle", "unsqueeze", [m], {"dim": 1})
    case("unsqueeze/last_negative", "unsqueeze", [m], {"dim": -1})
    case("unsqueeze/0d", "unsqueeze", [tensor(1.5)], {"dim": 0})
    case("flatten/all", "flatten", [a], {"start_dim": 0, "end_dim": -1})
    case("flatten/tail", "flatten", [arange((2, 3, 2, 2))], {"start_dim": 1, "end_dim": -1})
    case("flatten/middle", "flatten", [arange((2, 3, 2, 2))], {"start_dim": 1, "end_dim": 2})
    case("flatten/noncontig", "flatten", [V(m, ["t"])], {"start_dim": 0, "end_dim": 1})
    case("flatten/0d", "flatten", [tensor(4.0)], {"start_dim": 0, "end_dim": -1})
    case("unflatten/basic", "unflatten", [arange((2, 12))], {"dim": 1, "sizes": [3, 4]})
    case("unflatten/infer", "unflatten", [arange((12, 2))], {"dim": 0, "sizes": [2, -1, 3]})
    case("unflatten/negative_dim", "unflatten", [arange((2, 6))], {"dim": -1, "sizes": [2, 3]})
    case("contiguous/transposed", "contiguous", [V(a, ["transpose", 0, 2])])
    case("contiguous/sliced", "contiguous", [V(arange((4, 6)), ["slice", 1, 1, 6, 2])])
    case("contiguous/expanded", "contiguous", [V(arange((3, 1)), ["expand", [3, 4]])])
    case("cat/dim0", "cat", [arange((2, 3)), randn((1, 3))], {"dim": 0})
    case("cat/dim1_three", "cat", [arange((2, 1)), randn((2, 2)), randn((2, 3))], {"dim": 1})
    case("cat/negative_dim", "cat", [arange((2, 2, 2)), randn((2, 2, 1))], {"dim": -1})
    case("cat/with_empty", "cat", [torch.zeros((0, 3)), arange((2, 3))], {"dim": 0})
    case("cat/noncontig", "cat", [V(arange((3, 2)), ["t"]), arange((2, 2))], {"dim": 1})
    case("cat/i64", "cat", [arange((2,), i64), arange((3,), i64)], {"dim": 0})
    case("cat/single", "cat", [arange((2, 2))], {"dim": 0})
    case("stack/dim0", "stack", [arange((2, 3)), randn((2, 3))], {"dim": 0})
    case("stack/dim1", "stack", [arange((2, 3)), randn((2, 3)), randn((2, 3))], {"dim": 1})
    case("stack/last", "stack", [arange((2, 3)), randn((2, 3))], {"dim": 2})
    case("stack/negative", "stack", [arange((3,)), randn((3,))], {"dim": -1})
    case("stack/0d", "stack", [tensor(1.0), tensor(2.0), tensor(3.0)], {"dim": 0})
    case("split/even", "split", [arange((6, 2))], {"split_size_or_sections": 2, "dim": 0})
    case("split/uneven", "split", [arange((2, 5))], {"split_size_or_sections": 2, "dim": 1})
    case("split/larger_than_dim", "split", [arange((3,))], {"split_size_or_sections": 5, "dim": 0})
    case("split/sections", "split", [arange((2, 6))], {"split_size_or_sections": [1, 3, 2], "dim": -1})
    case("split/sections_with_zero", "split", [arange((4,))], {"split_size_or_sections": [0, 4], "dim": 0})
    case("chunk/even", "chunk", [arange((6,))], {"chunks": 3, "dim": 0})
    case("chunk/uneven", "chunk", [arange((2, 5))], {"chunks": 3, "dim": 1})
    case("chunk/fewer_than_requested", "chunk", [arange((6, 1))], {"chunks": 4, "dim": 0})
    case("chunk/more_than_size", "chunk", [arange((2,))], {"chunks": 5, "dim": 0})
    case("chunk/negative_dim", "chunk", [arange((3, 4))], {"chunks": 2, "dim": -1})


# ============================================================================
# unary
# ============================================================================

def gen_unary():
    group("unary")

    def general(shape=(3, 4), dtype=f32, scale=2.0):
        x = randn(shape, f64, scale)
        x.view(-1)[0] = 0.0
        return x.to(dtype)

    # domain (lo, hi) per op; special extra values checked separately
    domains = {
        "exp": (-5.0, 5.0), "log": (0.01, 10.0), "log1p": (-0.9, 5.0), "expm1": (-3.0, 3.0),
        "sqrt": (0.0, 10.0), "rsqrt": (0.05, 10.0), "sin": (-7.0, 7.0), "cos": (-7.0, 7.0),
        "tanh": (-5.0, 5.0), "sigmoid": (-8.0, 8.0),
    }
    for op, (lo, hi) in domains.items():
        for dt in (f32, f64):
            name = DTYPE_NAMES[dt].replace("float", "f")
            case(f"{op}/{name}", op, [uniform((3, 5), lo, hi, dt)], tol=tol(dt))
        case(f"{op}/f32_noncontig", op, [V(uniform((4, 3), lo, hi), ["t"])], tol=T32)

    # precision-sensitive and special values
    case("exp/f32_extremes", "exp", [tensor([-104.0, -87.0, 0.0, 88.0, 89.0, float("-inf"), float("inf"), float("nan")])], tol=T32)
    case("log/specials", "log", [tensor([0.0, -1.0, float("inf"), 1.0, float("nan")])], tol=T32)
    case("log1p/tiny", "log1p", [tensor([1e-8, -1e-7, 1e-4, -0.5, 0.0, -1.0])], tol=T32)
    case("log1p/tiny_f64", "log1p", [tensor([1e-15, -1e-12, 1e-8, 0.0, -1.0], f64)], tol=T64)
    case("expm1/tiny", "expm1", [tensor([1e-8, -1e-7, 1e-4, 0.0, 20.0, -20.0])], tol=T32)
    case("expm1/tiny_f64", "expm1", [tensor([1e-15, -1e-12, 1e-8, 0.0], f64)], tol=T64)
    case("sqrt/specials", "sqrt", [tensor([0.0, -1.0, float("inf"), 4.0, 2.0])], tol=T32)
    case("rsqrt/specials", "rsqrt", [tensor([0.0, 4.0, float("inf"), 0.25, -1.0])], tol=T32)
    case("tanh/saturated", "tanh", [tensor([-20.0, -10.0, 10.0, 20.0, 1e-6, 0.0])], tol=T32)
    case("sigmoid/saturated", "sigmoid", [tensor([-100.0, -30.0, -17.0, 17.0, 30.0, 100.0, 0.0])], tol=T32)
    case("sin/larger_args", "sin", [tensor([-100.0, -31.4, 10.0, 50.0, 100.0])], tol=T32)
    case("cos/larger_args", "cos", [tensor([-100.0, -31.4, 10.0, 50.0, 100.0])], tol=T32)

    # exact elementwise
    for op in ("neg", "abs", "relu", "sign"):
        case(f"{op}/f32", op, [general()], tol=EXACT)
        case(f"{op}/f64", op, [general((5,), f64)], tol=EXACT)
        case(f"{op}/f32_noncontig", op, [V(general((4, 6)), ["slice", 1, 0, 6, 2])], tol=EXACT)
    for op in ("neg", "abs", "sign"):
        case(f"{op}/i32", op, [randint((2, 4), -5, 6, i32)], tol=EXACT)
        case(f"{op}/i64", op, [randint((7,), -9, 10, i64)], tol=EXACT)
    case("relu/specials", "relu", [tensor([float("nan"), float("-inf"), float("inf"), -0.0, 1e-30])], tol=EXACT)
    case("abs/specials", "abs", [tensor([float("nan"), float("-inf"), -0.0])], tol=EXACT)
    case("sign/specials", "sign", [tensor([float("-inf"), float("inf"), -0.0, 0.0, -1e-30])], tol=EXACT)

    # activations
    for approx in ("none", "tanh"):
        case(f"gelu/{approx}_f32", "gelu", [general((3, 5), scale=3.0)], {"approximate": approx}, tol=T32)
        case(f"gelu/{approx}_f64", "gelu", [general((6,), f64, 3.0)], {"approximate": approx}, tol=T64)
        case(f"gelu/{approx}_noncontig", "gelu", [V(general((4, 3)), ["t"])], {"approximate": approx}, tol=T32)
        case(f"gelu/{approx}_tails", "gelu", [tensor([-10.0, -6.0, -4.0, 4.0, 6.0, 10.0])], {"approximate": approx}, tol=T32)
    case("silu/f32", "silu", [general((3, 5), scale=3.0)], tol=T32)
    case("silu/f64", "silu", [general((6,), f64, 3.0)], tol=T64)
    case("silu/tails", "silu", [tensor([-100.0, -20.0, 20.0, 100.0])], tol=T32)
    case("softplus/default", "softplus", [general((3, 5), scale=5.0)], {"beta": 1.0, "threshold": 20.0}, tol=T32)
    case("softplus/default_tails", "softplus", [tensor([-30.0, -10.0, 19.5, 20.0, 20.5, 30.0])], {"beta": 1.0, "threshold": 20.0}, tol=T32)
    case("softplus/beta2_threshold1", "softplus", [tensor([-2.0, -0.5, 0.0, 0.25, 0.5, 0.75, 2.0])], {"beta": 2.0, "threshold": 1.0}, tol=T32)
    case("softplus/beta_half_f64", "softplus", [general((6,), f64, 3.0)], {"beta": 0.5, "threshold": 20.0}, tol=T64)

    # clamp (min/max either null), NaN propagates
    cx = tensor([-3.0, -1.5, -0.5, 0.0, 0.5, 1.0, 2.5, float("nan")])
    case("clamp/both", "clamp", [cx], {"min": -1.0, "max": 1.0}, tol=EXACT)
    case("clamp/min_only", "clamp", [cx], {"min": 0.0, "max": None}, tol=EXACT)
    case("clamp/max_only", "clamp", [cx], {"min": None, "max": 0.5}, tol=EXACT)
    case("clamp/f64_noncontig", "clamp", [V(general((4, 3), f64), ["t"])], {"min": -0.5, "max": 0.75}, tol=EXACT)
    case("clamp/min_gt_max", "clamp", [tensor([-1.0, 0.5, 3.0])], {"min": 2.0, "max": 1.0}, tol=EXACT)
    case("clamp/i64_int_bounds", "clamp", [randint((6,), -10, 10)], {"min": -3, "max": 4}, tol=EXACT)

    # pow with a python scalar exponent
    pos = uniform((2, 4), 0.1, 4.0)
    case("pow_scalar/square", "pow_scalar", [general((2, 4))], {"exponent": 2.0}, tol=T32)
    case("pow_scalar/int_exponent_2", "pow_scalar", [general((2, 4))], {"exponent": 2}, tol=T32)
    case("pow_scalar/cube_negative_base", "pow_scalar", [general((2, 4))], {"exponent": 3.0}, tol=T32)
    case("pow_scalar/sqrt", "pow_scalar", [pos], {"exponent": 0.5}, tol=T32)
    case("pow_scalar/reciprocal", "pow_scalar", [pos], {"exponent": -1.0}, tol=T32)
    case("pow_scalar/neg_half", "pow_scalar", [pos], {"exponent": -0.5}, tol=T32)
    case("pow_scalar/fractional", "pow_scalar", [pos], {"exponent": 2.5}, tol=T32)
    case("pow_scalar/zero", "pow_scalar", [general((2, 3))], {"exponent": 0.0}, tol=EXACT)
    case("pow_scalar/negative_base_fractional_nan", "pow_scalar", [tensor([-2.0, -0.5, 0.0, 2.0])], {"exponent": 0.5}, tol=T32)
    case("pow_scalar/f64", "pow_scalar", [uniform((5,), 0.1, 4.0, f64)], {"exponent": 1.7}, tol=T64)
    case("pow_scalar/i64", "pow_scalar", [randint((5,), -4, 5)], {"exponent": 3}, tol=EXACT)

    # rounding: halves round to even
    halves = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -2.7, -0.2, 0.0, 0.49999997, 1.2, 2.7, 1e7 + 0.5]
    for op in ("floor", "ceil", "round"):
        case(f"{op}/f32_halves", op, [tensor(halves)], tol=EXACT)
        case(f"{op}/f64", op, [general((6,), f64, 3.0)], tol=EXACT)
        case(f"{op}/f32_noncontig", op, [V(general((3, 4), scale=3.0), ["t"])], tol=EXACT)
    case("round/f64_halves", "round", [tensor([-2.5, -0.5, 0.5, 1.5, 2.5, 4503599627370495.5], f64)], tol=EXACT)

    # logical_not
    case("logical_not/bool", "logical_not", [mask((2, 3))], tol=EXACT)
    case("logical_not/f32", "logical_not", [tensor([0.0, -0.0, 1.5, -2.0, float("nan"), float("inf")])], tol=EXACT)
    case("logical_not/i64", "logical_not", [tensor([0, 1, -3, 0], i64)], tol=EXACT)
    case("logical_not/bool_noncontig", "logical_not", [V(mask((3, 2)), ["t"])], tol=EXACT)


# ============================================================================
# binary (tensor-tensor with broadcasting, type promotion) and scalar forms
# ============================================================================

def gen_binary():
    group("binary")
    arith = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]

    def operands(op, shape_a, shape_b, dtype=f32):
        a = randn(shape_a, dtype, 2.0)
        if op == "pow":
            a = uniform(shape_a, 0.1, 3.0, dtype)
            b = uniform(shape_b, -2.0, 2.5, dtype)
        elif op == "div":
            b = uniform(shape_b, 0.5, 3.0, dtype) * (torch.randint(0, 2, shape_b) * 2 - 1).to(dtype)
        else:
            b = randn(shape_b, dtype, 2.0)
        return a, b

    for op in arith:
        t32 = T32 if op == "pow" else EXACT
        t64 = T64 if op == "pow" else EXACT
        case(f"{op}/same_shape_f32", op, operands(op, (2, 3), (2, 3)), tol=t32)
        case(f"{op}/same_shape_f64", op, operands(op, (5,), (5,), f64), tol=t64)
        case(f"{op}/broadcast_row_f32", op, operands(op, (2, 3), (3,)), tol=t32)
        case(f"{op}/broadcast_col_f32", op, operands(op, (3, 4), (3, 1)), tol=t32)
        case(f"{op}/broadcast_both_f32", op, operands(op, (3, 1), (1, 4)), tol=t32)
        case(f"{op}/broadcast_rank_f64", op, operands(op, (2, 1, 3), (4, 1), f64), tol=t64)
        case(f"{op}/zero_dim_rhs", op, operands(op, (2, 2), ()), tol=t32)
        a, b = operands(op, (4, 3), (3, 1))
        case(f"{op}/noncontig_transposed_expanded", op,
             [V(a, ["t"]), V(b, ["expand", [3, 4]])], tol=t32)
        a, b = operands(op, (2, 6), (2, 3))
        case(f"{op}/noncontig_sliced", op, [V(a, ["slice", 1, 0, 6, 2]), b], tol=t32)
        a, b = operands(op, (0, 3), (3,))
        case(f"{op}/empty_rows", op, [a, b], tol=t32)
        a, b = operands(op, (2, 0), (2, 1))
        case(f"{op}/empty_cols", op, [a, b], tol=t32)
        # f16 / bf16
        case(f"{op}/f16", op, operands(op, (6,), (6,), f16), tol=HALF)
        case(f"{op}/bf16", op, operands(op, (6,), (6,), bf16), tol=HALF)

    # integer arithmetic
    ia, ib = randint((2, 3), -10, 10), randint((3,), -10, 10)
    case("add/i64", "add", [ia, ib])
    case("sub/i64", "sub", [ia, ib])
    case("mul/i64", "mul", [ia, ib])
    case("maximum/i64", "maximum", [ia, ib])
    case("minimum/i64", "minimum", [ia, ib])
    case("add/i32", "add", [randint((4,), -100, 100, i32), randint((4,), -100, 100, i32)])
    case("div/i64_i64_true_division", "div", [tensor([7, -7, 6, 1, 0, 5], i64), tensor([2, 2, 3, 3, 4, 0], i64)], tol=EXACT)
    case("div/i32_i32_true_division", "div", [tensor([7, -9, 10], i32), tensor([2, 4, 3], i32)], tol=EXACT)
    case("pow/i64", "pow", [randint((6,), -3, 4), randint((6,), 0, 4)])
    case("pow/negative_base_int_exponent_f32", "pow", [tensor([-2.0, -2.0, -0.5, -3.0]), tensor([3.0, 2.0, -1.0, 0.5])], tol=T32)
    case("pow/zero_base", "pow", [tensor([0.0, 0.0, 0.0]), tensor([0.0, 1.0, -1.0])], tol=T32)

    # type promotion
    case("add/i64_f32_to_f32", "add", [randint((2, 3), -5, 5), randn((2, 3))])
    case("mul/f32_i64_to_f32", "mul", [randn((3,)), randint((2, 3), -5, 5)])
    case("sub/i32_i64_to_i64", "sub", [randint((3,), -5, 5, i32), randint((3,), -5, 5, i64)])
    case("add/i32_f64_to_f64", "add", [randint((3,), -5, 5, i32), randn((3,), f64)])
    case("add/f16_f32_to_f32", "add", [randn((3,), f16), randn((3,), f32)])
    case("add/bf16_f16_to_f32", "add", [randn((3,), bf16), randn((3,), f16)])
    case("add/f32_f64_to_f64", "add", [randn((2, 2), f32), randn((2, 2), f64)])
    case("add/bool_i64_to_i64", "add", [mask((4,)), randint((4,), -3, 3)])
    case("div/i64_f32_to_f32", "div", [randint((4,), -10, 10), uniform((4,), 0.5, 2.0)])
    case("pow/i64_f32_to_f32", "pow", [randint((4,), 1, 5), uniform((4,), -1.0, 2.0)], tol=T32)
    # 0-d tensors participate like scalars in promotion within the same category
    case("add/f32_with_0d_f64_stays_f32", "add", [randn((3,)), randn((), f64)])
    case("mul/i64_with_0d_f32_to_f32", "mul", [randint((3,), -4, 4), randn((), f32)])
    case("add/0d_0d", "add", [randn(()), randn(())])

    # special values
    case("div/by_zero_f32", "div", [tensor([1.0, -1.0, 0.0, 0.0, 3.0]), tensor([0.0, 0.0, 0.0, 2.0, -0.0])])
    nan = float("nan")
    case("maximum/nan_propagates", "maximum", [tensor([nan, 1.0, 2.0, nan, -0.0]), tensor([0.0, nan, 1.0, nan, 0.0])])
    case("minimum/nan_propagates", "minimum", [tensor([nan, 1.0, 2.0, nan, -0.0]), tensor([0.0, nan, 1.0, nan, 0.0])])
    case("maximum/f64_nan_propagates", "maximum", [tensor([nan, -1.0, 3.0], f64), tensor([5.0, nan, -3.0], f64)])
    case("add/inf", "add", [tensor([float("inf"), float("inf"), 1.0]), tensor([float("-inf"), 1.0, nan])])

    # comparisons (ties from small integer values)
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        case(f"{op}/f32_ties", op, [small_ints((3, 4)), small_ints((3, 4))])
        case(f"{op}/f32_broadcast", op, [small_ints((3, 1)), small_ints((4,))])
        case(f"{op}/f64_noncontig", op, [V(small_ints((4, 3), dtype=f64), ["t"]), small_ints((3, 4), dtype=f64)])
        case(f"{op}/i64", op, [small_ints((6,), dtype=i64), small_ints((6,), dtype=i64)])
        case(f"{op}/i64_f32_mixed", op, [small_ints((5,), dtype=i64), tensor([-1.0, 0.5, 0.0, 2.0, 3.0])])
        case(f"{op}/nan", op, [tensor([nan, nan, 1.0, 0.0]), tensor([nan, 1.0, nan, -0.0])])
        case(f"{op}/bool", op, [tensor([True, True, False, False], b8), tensor([True, False, True, False], b8)])
        case(f"{op}/empty", op, [randn((0, 2)), randn((2,))])

    # logical
    for op in ("logical_and", "logical_or"):
        case(f"{op}/bool", op, [tensor([True, True, False, False], b8), tensor([True, False, True, False], b8)])
        case(f"{op}/bool_broadcast", op, [mask((3, 1)), mask((1, 4))])
        case(f"{op}/f32_nonzero", op, [tensor([0.0, -0.0, 2.0, nan, 0.5]), tensor([1.0, 3.0, 0.0, 0.0, -1.0])])
        case(f"{op}/i64_bool_mixed", op, [tensor([0, 1, -2, 0], i64), tensor([True, True, False, False], b8)])
        case(f"{op}/noncontig", op, [V(mask((3, 2)), ["t"]), mask((2, 3))])

    # tensor <op> python scalar
    for op in ("add_scalar", "sub_scalar", "mul_scalar", "div_scalar"):
        case(f"{op}/f32_float", op, [randn((2, 3))], {"other": 2.5})
        case(f"{op}/f32_int", op, [randn((2, 3))], {"other": 3})
        case(f"{op}/f32_inexact", op, [randn((4,))], {"other": 0.1})
        case(f"{op}/f64_float", op, [randn((4,), f64)], {"other": -1.25})
        case(f"{op}/i64_int", op, [randint((5,), -10, 10)], {"other": 3})
        case(f"{op}/i64_float_to_f32", op, [randint((5,), -10, 10)], {"other": 0.5})
        case(f"{op}/i32_int", op, [randint((4,), -10, 10, i32)], {"other": -2})
        case(f"{op}/f16_float", op, [randn((4,), f16)], {"other": 1.5}, tol=HALF)
        case(f"{op}/bf16_float", op, [randn((4,), bf16)], {"other": 0.3}, tol=HALF)
        case(f"{op}/f32_noncontig", op, [V(randn((3, 2)), ["t"])], {"other": 1.5})
    case("div_scalar/f32_by_zero", "div_scalar", [tensor([1.0, -2.0, 0.0])], {"other": 0.0})
    case("add_scalar/bool_int_to_i64", "add_scalar", [mask((4,))], {"other": 2})
    for op in ("eq_scalar", "ne_scalar", "lt_scalar", "le_scalar", "gt_scalar", "ge_scalar"):
        case(f"{op}/f32_float", op, [small_ints((2, 4))], {"other": 1.0})
        case(f"{op}/f32_int", op, [small_ints((2, 4))], {"other": 0})
        case(f"{op}/i64_int", op, [small_ints((6,), dtype=i64)], {"other": -1})
        case(f"{op}/i64_float", op, [small_ints((6,), dtype=i64)], {"other": 0.5})
        case(f"{op}/f32_nan", op, [tensor([nan, 1.0, 2.0])], {"other": 1.0})


# ============================================================================
# reductions
# ============================================================================

def gen_reduce():
    group("reduce")
    x = randn((3, 4))
    x3 = randn((2, 3, 4))
    xd = randn((3, 5), f64)
    ones_sum = dict(tol=R32)

    for op in ("sum", "mean"):
        case(f"{op}/all", op, [x], {"dim": None, "keepdim": False}, **ones_sum)
        case(f"{op}/all_keepdim", op, [x], {"dim": None, "keepdim": True}, **ones_sum)
        case(f"{op}/dim0", op, [x], {"dim": 0, "keepdim": False}, **ones_sum)
        case(f"{op}/dim_neg1_keepdim", op, [x], {"dim": -1, "keepdim": True}, **ones_sum)
        case(f"{op}/dims_0_2", op, [x3], {"dim": [0, 2], "keepdim": False}, **ones_sum)
        case(f"{op}/dims_neg_keepdim", op, [x3], {"dim": [-1, -3], "keepdim": True}, **ones_sum)
        case(f"{op}/middle_dim", op, [x3], {"dim": 1, "keepdim": False}, **ones_sum)
        case(f"{op}/noncontig", op, [V(randn((4, 3)), ["t"])], {"dim": 1, "keepdim": False}, **ones_sum)
        case(f"{op}/expanded", op, [V(randn((3, 1)), ["expand", [3, 5]])], {"dim": None, "keepdim": False}, **ones_sum)
        case(f"{op}/f64", op, [xd], {"dim": 1, "keepdim": False}, tol=T64)
        case(f"{op}/f64_all", op, [xd], {"dim": None, "keepdim": False}, tol=T64)
        case(f"{op}/long_row_f32", op, [randn((2, 100))], {"dim": 1, "keepdim": False}, tol=(1e-5, 1e-5))
        case(f"{op}/0d", op, [randn(())], {"dim": None, "keepdim": False}, **ones_sum)
    case("sum/i64", "sum", [randint((3, 4), -50, 50)], {"dim": 1, "keepdim": False})
    case("sum/i64_all", "sum", [randint((3, 4), -50, 50)], {"dim": None, "keepdim": False})
    case("sum/i32_to_i64", "sum", [randint((5,), -50, 50, i32)], {"dim": None, "keepdim": False})
    case("sum/bool_to_i64", "sum", [mask((3, 4))], {"dim": 0, "keepdim": False})
    case("sum/bool_all", "sum", [mask((3, 4))], {"dim": None, "keepdim": False})
    case("sum/empty_dim", "sum", [torch.zeros((2, 0))], {"dim": 1, "keepdim": False})
    case("sum/empty_all", "sum", [torch.zeros((0, 3))], {"dim": None, "keepdim": False})
    case("sum/empty_keepdim", "sum", [torch.zeros((0, 3))], {"dim": 0, "keepdim": True})
    case("sum/f16", "sum", [randn((8,), f16)], {"dim": 0, "keepdim": False}, tol=HALF)
    case("mean/empty_dim_nan", "mean", [torch.zeros((2, 0))], {"dim": 1, "keepdim": False})
    case("mean/f16", "mean", [randn((8,), f16)], {"dim": 0, "keepdim": False}, tol=HALF)

    case("prod/all", "prod", [uniform((2, 3), 0.5, 2.0)], {"dim": None, "keepdim": False}, tol=R32)
    case("prod/dim1", "prod", [randn((3, 4))], {"dim": 1, "keepdim": False}, tol=R32)
    case("prod/dim_neg1_keepdim", "prod", [randn((2, 3, 2))], {"dim": -1, "keepdim": True}, tol=R32)
    case("prod/dim0_noncontig", "prod", [V(randn((3, 4)), ["t"])], {"dim": 0, "keepdim": False}, tol=R32)
    case("prod/with_zero", "prod", [tensor([[1.5, 0.0, 2.0], [2.0, -3.0, 0.5]])], {"dim": 1, "keepdim": False}, tol=R32)
    case("prod/i64", "prod", [randint((2, 4), -4, 5)], {"dim": 1, "keepdim": False})
    case("prod/i64_all", "prod", [randint((5,), 1, 5)], {"dim": None, "keepdim": False})
    case("prod/f64", "prod", [randn((3, 3), f64)], {"dim": 0, "keepdim": False}, tol=T64)
    case("prod/empty_dim", "prod", [torch.zeros((2, 0))], {"dim": 1, "keepdim": False})
    case("prod/empty_all", "prod", [torch.zeros((0,))], {"dim": None, "keepdim": False})
    case("prod/bool_to_i64", "prod", [tensor([[True, True], [True, False]], b8)], {"dim": 1, "keepdim": False})

    for op in ("var", "std"):
        case(f"{op}/all_unbiased", op, [x], {"dim": None, "correction": 1, "keepdim": False}, tol=T32)
        case(f"{op}/all_biased", op, [x], {"dim": None, "correction": 0, "keepdim": False}, tol=T32)
        case(f"{op}/dim1", op, [x], {"dim": 1, "correction": 1, "keepdim": False}, tol=T32)
        case(f"{op}/dim0_keepdim_biased", op, [x], {"dim": 0, "correction": 0, "keepdim": True}, tol=T32)
        case(f"{op}/dims_list", op, [x3], {"dim": [0, -1], "correction": 1, "keepdim": False}, tol=T32)
        case(f"{op}/noncontig", op, [V(randn((5, 3)), ["t"])], {"dim": -1, "correction": 1, "keepdim": False}, tol=T32)
        case(f"{op}/f64", op, [xd], {"dim": 1, "correction": 1, "keepdim": False}, tol=T64)
        case(f"{op}/offset_mean", op, [randn((2, 6), f32, 1.0, 1000.0)], {"dim": 1, "correction": 1, "keepdim": False}, tol=(1e-4, 1e-4))
        case(f"{op}/correction2", op, [randn((6,))], {"dim": 0, "correction": 2, "keepdim": False}, tol=T32)
        case(f"{op}/single_element_nan", op, [randn((3, 1))], {"dim": 1, "correction": 1, "keepdim": False}, tol=T32)

    ties = tensor([[1.0, 3.0, 3.0, -2.0], [-1.0, -1.0, -5.0, -5.0], [2.0, 0.0, 2.0, 1.0]])
    for op in ("max", "min"):
        case(f"{op}/all", op, [x], {"dim": None, "keepdim": False})
        case(f"{op}/dim1_ties", op, [ties], {"dim": 1, "keepdim": False})
        case(f"{op}/dim0_ties_keepdim", op, [ties], {"dim": 0, "keepdim": True})
        case(f"{op}/dim_neg1_3d", op, [x3], {"dim": -1, "keepdim": False})
        case(f"{op}/noncontig", op, [V(small_ints((4, 3)), ["t"])], {"dim": 1, "keepdim": False})
        case(f"{op}/i64", op, [small_ints((3, 4), dtype=i64)], {"dim": 0, "keepdim": False})
        case(f"{op}/i64_all", op, [small_ints((3, 4), dtype=i64)], {"dim": None, "keepdim": False})
        case(f"{op}/f64", op, [xd], {"dim": 1, "keepdim": False})
        case(f"{op}/nan", op, [tensor([[1.0, float("nan"), 3.0], [float("nan"), 5.0, float("nan")], [0.0, 2.0, -1.0]])], {"dim": 1, "keepdim": False})
        case(f"{op}/nan_all", op, [tensor([1.0, float("nan"), 3.0])], {"dim": None, "keepdim": False})
        case(f"{op}/infs", op, [tensor([[float("-inf"), float("-inf")], [float("inf"), float("inf")]])], {"dim": 1, "keepdim": False})
    for op in ("argmax", "argmin"):
        case(f"{op}/all", op, [x], {"dim": None, "keepdim": False})
        case(f"{op}/all_ties", op, [ties], {"dim": None, "keepdim": False})
        case(f"{op}/dim1_ties", op, [ties], {"dim": 1, "keepdim": False})
        case(f"{op}/dim0_keepdim", op, [ties], {"dim": 0, "keepdim": True})
        case(f"{op}/dim_neg1_3d", op, [x3], {"dim": -1, "keepdim": False})
        case(f"{op}/noncontig", op, [V(small_ints((4, 3)), ["t"])], {"dim": 0, "keepdim": False})
        case(f"{op}/i64", op, [small_ints((2, 5), dtype=i64)], {"dim": 1, "keepdim": False})
        case(f"{op}/nan", op, [tensor([[1.0, float("nan"), 3.0], [0.0, 2.0, -1.0]])], {"dim": 1, "keepdim": False})
        case(f"{op}/all_keepdim", op, [x], {"dim": None, "keepdim": True})

    case("logsumexp/dim1", "logsumexp", [x], {"dim": 1, "keepdim": False}, tol=T32)
    case("logsumexp/dim_neg1_keepdim", "logsumexp", [x3], {"dim": -1, "keepdim": True}, tol=T32)
    case("logsumexp/dims_list", "logsumexp", [x3], {"dim": [0, 1], "keepdim": False}, tol=T32)
    case("logsumexp/large_values", "logsumexp", [tensor([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.5]])], {"dim": 1, "keepdim": False}, tol=T32)
    case("logsumexp/with_neg_inf", "logsumexp", [tensor([[float("-inf"), 0.0, 1.0], [float("-inf"), float("-inf"), float("-inf")]])], {"dim": 1, "keepdim": False}, tol=T32)
    case("logsumexp/noncontig", "logsumexp", [V(randn((4, 3), f32, 3.0), ["t"])], {"dim": 0, "keepdim": False}, tol=T32)
    case("logsumexp/f64", "logsumexp", [xd], {"dim": 0, "keepdim": False}, tol=T64)

    case("norm/p2_all", "norm", [x], {"p": 2, "dim": None, "keepdim": False}, tol=T32)
    case("norm/p2_dim1", "norm", [x], {"p": 2, "dim": 1, "keepdim": False}, tol=T32)
    case("norm/p2_dim0_keepdim", "norm", [x], {"p": 2, "dim": 0, "keepdim": True}, tol=T32)
    case("norm/p1_dim_neg1", "norm", [x3], {"p": 1, "dim": -1, "keepdim": False}, tol=T32)
    case("norm/fro_all", "norm", [x], {"p": "fro", "dim": None, "keepdim": False}, tol=T32)
    case("norm/fro_dims", "norm", [x3], {"p": "fro", "dim": [1, 2], "keepdim": False}, tol=T32)
    case("norm/inf_dim1", "norm", [x], {"p": float("inf"), "dim": 1, "keepdim": False}, tol=EXACT)
    case("norm/neg_inf_dim1", "norm", [x], {"p": float("-inf"), "dim": 1, "keepdim": False}, tol=EXACT)
    case("norm/inf_all", "norm", [x], {"p": float("inf"), "dim": None, "keepdim": False}, tol=EXACT)
    case("norm/p3_dim0", "norm", [x], {"p": 3, "dim": 0, "keepdim": False}, tol=T32)
    case("norm/p0_5_dim1", "norm", [x], {"p": 0.5, "dim": 1, "keepdim": False}, tol=T32)
    case("norm/p2_noncontig", "norm", [V(randn((4, 3)), ["t"])], {"p": 2, "dim": 1, "keepdim": False}, tol=T32)
    case("norm/p2_f64", "norm", [xd], {"p": 2, "dim": 1, "keepdim": False}, tol=T64)
    case("norm/p2_large_no_overflow_f64", "norm", [tensor([3e200, 4e200], f64)], {"p": 2, "dim": None, "keepdim": False}, tol=T64)
    case("norm/p2_zeros", "norm", [torch.zeros((3,))], {"p": 2, "dim": None, "keepdim": False}, tol=EXACT)


# ============================================================================
# matmul
# ============================================================================

def gen_linalg():
    group("linalg")
    for dt in (f32, f64):
        n = DTYPE_NAMES[dt].replace("float", "f")
        t = MM32 if dt == f32 else T64
        case(f"matmul/dot_{n}", "matmul", [randn((5,), dt), randn((5,), dt)], tol=t)
        case(f"matmul/mv_{n}", "matmul", [randn((3, 4), dt), randn((4,), dt)], tol=t)
        case(f"matmul/vm_{n}", "matmul", [randn((3,), dt), randn((3, 4), dt)], tol=t)
        case(f"matmul/mm_{n}", "matmul", [randn((3, 4), dt), randn((4, 5), dt)], tol=t)
        case(f"matmul/bmm_{n}", "matmul", [randn((2, 3, 4), dt), randn((2, 4, 2), dt)], tol=t)
        case(f"matmul/broadcast_batch_{n}", "matmul", [randn((2, 1, 3, 4), dt), randn((5, 4, 2), dt)], tol=t)
        case(f"matmul/3d_2d_{n}", "matmul", [randn((2, 3, 4), dt), randn((4, 3), dt)], tol=t)
    case("matmul/2d_3d_f32", "matmul", [randn((3, 4)), randn((2, 4, 2))], tol=MM32)
    case("matmul/1d_3d_f32", "matmul", [randn((4,)), randn((2, 4, 3))], tol=MM32)
    case("matmul/3d_1d_f32", "matmul", [randn((2, 3, 4)), randn((4,))], tol=MM32)
    case("matmul/transposed_lhs_f32", "matmul", [V(randn((4, 3)), ["t"]), randn((4, 2))], tol=MM32)
    case("matmul/transposed_rhs_f32", "matmul", [randn((3, 4)), V(randn((5, 4)), ["t"])], tol=MM32)
    case("matmul/both_transposed_f64", "matmul", [V(randn((4, 3), f64), ["t"]), V(randn((2, 4), f64), ["t"])], tol=T64)
    case("matmul/batched_transposed_rhs_f32", "matmul", [randn((2, 3, 4)), V(randn((2, 5, 4)), ["transpose", 1, 2])], tol=MM32)
    case("matmul/sliced_lhs_f32", "matmul", [V(randn((3, 8)), ["slice", 1, 0, 8, 2]), randn((4, 2))], tol=MM32)
    case("matmul/expanded_batch_f32", "matmul", [V(randn((1, 3, 4)), ["expand", [2, 3, 4]]), randn((2, 4, 3))], tol=MM32)
    case("matmul/k_zero_f32", "matmul", [randn((2, 0)), randn((0, 3))], tol=EXACT)
    case("matmul/1x1_f32", "matmul", [randn((1, 1)), randn((1, 1))], tol=MM32)
    case("matmul/longer_k_f32", "matmul", [randn((2, 64)), randn((64, 2))], tol=MM32)


# ============================================================================
# nn: softmax, log_softmax, one_hot, pad, conv, pooling
# ============================================================================

def gen_nn():
    group("nn")
    for op in ("softmax", "log_softmax"):
        case(f"{op}/dim1", op, [randn((3, 5), f32, 2.0)], {"dim": 1}, tol=T32)
        case(f"{op}/dim0", op, [randn((3, 5), f32, 2.0)], {"dim": 0}, tol=T32)
        case(f"{op}/dim_neg1_3d", op, [randn((2, 3, 4), f32, 2.0)], {"dim": -1}, tol=T32)
        case(f"{op}/middle_dim_3d", op, [randn((2, 3, 4), f32, 2.0)], {"dim": 1}, tol=T32)
        case(f"{op}/large_values", op, [tensor([[100.0, 101.0, 99.0], [-100.0, -101.0, -1000.0], [1000.0, 0.0, -1000.0]])], {"dim": 1}, tol=T32)
        case(f"{op}/with_neg_inf", op, [tensor([[float("-inf"), 0.0, 1.0, float("-inf")], [2.0, float("-inf"), 2.0, 0.5]])], {"dim": -1}, tol=T32)
        case(f"{op}/noncontig", op, [V(randn((5, 3), f32, 2.0), ["t"])], {"dim": 1}, tol=T32)
        case(f"{op}/f64", op, [randn((2, 6), f64, 3.0)], {"dim": 1}, tol=T64)
        case(f"{op}/1d", op, [randn((7,), f32, 2.0)], {"dim": 0}, tol=T32)

    case("one_hot/basic", "one_hot", [tensor([0, 2, 1, 3], i64)], {"num_classes": 4})
    case("one_hot/more_classes", "one_hot", [tensor([1, 0], i64)], {"num_classes": 5})
    case("one_hot/infer_classes", "one_hot", [tensor([0, 3, 1], i64)], {"num_classes": -1})
    case("one_hot/2d", "one_hot", [tensor([[0, 1], [2, 0]], i64)], {"num_classes": 3})
    case("one_hot/0d", "one_hot", [tensor(2, i64)], {"num_classes": 3})

    x2 = arange((2, 3))
    x3 = arange((2, 3, 4))
    case("pad/last_dim", "pad", [x2], {"pad": [1, 2], "mode": "constant", "value": 0.0})
    case("pad/last_two_dims", "pad", [x3], {"pad": [1, 1, 2, 0], "mode": "constant", "value": 0.0})
    case("pad/value", "pad", [x2], {"pad": [2, 0], "mode": "constant", "value": -1.5})
    case("pad/all_three_dims", "pad", [x3], {"pad": [0, 1, 0, 0, 1, 1], "mode": "constant", "value": 9.0})
    case("pad/negative_crop", "pad", [x3], {"pad": [-1, 2], "mode": "constant", "value": 0.0})
    case("pad/negative_both", "pad", [x3], {"pad": [-1, -1, 1, -1], "mode": "constant", "value": 7.0})
    case("pad/i64", "pad", [arange((2, 2), i64)], {"pad": [1, 1], "mode": "constant", "value": 5})
    case("pad/noncontig", "pad", [V(arange((3, 2)), ["t"])], {"pad": [1, 0, 0, 1], "mode": "constant", "value": 0.0})
    case("pad/zero", "pad", [x2], {"pad": [0, 0], "mode": "constant", "value": 0.0})

    # conv1d: x [N, C, L], weight [O, C/groups, K], optional bias [O]
    def c1(n, c, l, o, k, groups=1, bias=True, dt=f32):
        ins = [randn((n, c, l), dt), randn((o, c // groups, k), dt)]
        if bias:
            ins.append(randn((o,), dt))
        return ins
    conv_args1 = lambda stride=1, padding=0, dilation=1, groups=1: {
        "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    case("conv1d/basic", "conv1d", c1(2, 3, 7, 4, 3), conv_args1(), tol=MM32)
    case("conv1d/no_bias", "conv1d", c1(1, 2, 6, 3, 2, bias=False), conv_args1(), tol=MM32)
    case("conv1d/stride2_pad1", "conv1d", c1(2, 2, 8, 3, 3), conv_args1(stride=2, padding=1), tol=MM32)
    case("conv1d/dilation2", "conv1d", c1(1, 2, 9, 2, 3), conv_args1(dilation=2, padding=2), tol=MM32)
    case("conv1d/groups2", "conv1d", c1(1, 4, 6, 6, 3, groups=2), conv_args1(groups=2), tol=MM32)
    case("conv1d/depthwise", "conv1d", c1(2, 3, 5, 3, 3, groups=3, bias=False), conv_args1(padding=1, groups=3), tol=MM32)
    case("conv1d/f64", "conv1d", c1(1, 2, 6, 2, 3, dt=f64), conv_args1(stride=1, padding=1), tol=T64)
    case("conv1d/unbatched", "conv1d", [randn((2, 5)), randn((3, 2, 2)), randn((3,))], conv_args1(), tol=MM32)
    case("conv1d/noncontig_input", "conv1d", [V(randn((1, 6, 2)), ["transpose", 1, 2]), randn((2, 2, 3))], conv_args1(), tol=MM32)

    # conv2d: x [N, C, H, W], weight [O, C/groups, kH, kW], optional bias
    def c2(n, c, h, w, o, kh, kw, groups=1, bias=True, dt=f32):
        ins = [randn((n, c, h, w), dt), randn((o, c // groups, kh, kw), dt)]
        if bias:
            ins.append(randn((o,), dt))
        return ins
    conv_args2 = lambda stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1: {
        "stride": list(stride), "padding": list(padding), "dilation": list(dilation), "groups": groups}
    case("conv2d/basic", "conv2d", c2(1, 2, 4, 4, 3, 3, 3), conv_args2(), tol=MM32)
    case("conv2d/batch2_no_bias", "conv2d", c2(2, 2, 4, 3, 2, 2, 2, bias=False), conv_args2(), tol=MM32)
    case("conv2d/stride2_pad1", "conv2d", c2(1, 2, 5, 5, 2, 3, 3), conv_args2(stride=(2, 2), padding=(1, 1)), tol=MM32)
    case("conv2d/dilation2", "conv2d", c2(1, 1, 6, 6, 2, 2, 2), conv_args2(dilation=(2, 2)), tol=MM32)
    case("conv2d/groups2", "conv2d", c2(1, 4, 4, 4, 4, 3, 3, groups=2), conv_args2(padding=(1, 1), groups=2), tol=MM32)
    case("conv2d/depthwise_multiplier2", "conv2d", c2(1, 3, 4, 4, 6, 3, 3, groups=3), conv_args2(padding=(1, 1), groups=3), tol=MM32)
    case("conv2d/asymmetric", "conv2d", c2(1, 2, 5, 6, 2, 2, 3), conv_args2(stride=(1, 2), padding=(0, 1), dilation=(2, 1)), tol=MM32)
    case("conv2d/1x1", "conv2d", c2(2, 3, 2, 2, 4, 1, 1), conv_args2(), tol=MM32)
    case("conv2d/f64", "conv2d", c2(1, 2, 4, 4, 2, 3, 3, dt=f64), conv_args2(padding=(1, 1)), tol=T64)
    case("conv2d/unbatched", "conv2d", [randn((2, 4, 4)), randn((2, 2, 3, 3))], conv_args2(), tol=MM32)
    case("conv2d/noncontig_input", "conv2d", [V(randn((1, 2, 5, 4)), ["transpose", 2, 3]), randn((2, 2, 2, 2)), randn((2,))], conv_args2(), tol=MM32)

    # pooling: padding is -inf for max, 0 (optionally counted) for avg
    pool1 = lambda k, s, p=0, d=1: {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": False}
    pool2 = lambda k, s, p=(0, 0), d=(1, 1): {"kernel_size": list(k), "stride": list(s), "padding": list(p), "dilation": list(d), "ceil_mode": False}
    case("max_pool1d/k2s2", "max_pool1d", [randn((2, 2, 8))], pool1(2, 2))
    case("max_pool1d/k3s1_pad1_negative", "max_pool1d", [randn((1, 2, 6), f32, 1.0, -5.0)], pool1(3, 1, 1))
    case("max_pool1d/k3s2_remainder", "max_pool1d", [randn((1, 1, 8))], pool1(3, 2))
    case("max_pool1d/dilation2", "max_pool1d", [randn((1, 2, 9))], pool1(2, 1, 1, 2))
    case("max_pool1d/ties", "max_pool1d", [small_ints((1, 1, 8))], pool1(2, 2))
    case("max_pool1d/f64", "max_pool1d", [randn((1, 2, 7), f64)], pool1(3, 2, 1))
    case("max_pool2d/k2s2", "max_pool2d", [randn((1, 2, 4, 4))], pool2((2, 2), (2, 2)))
    case("max_pool2d/k3s2_pad1_negative", "max_pool2d", [randn((1, 1, 5, 5), f32, 1.0, -5.0)], pool2((3, 3), (2, 2), (1, 1)))
    case("max_pool2d/dilation2", "max_pool2d", [randn((1, 1, 6, 6))], pool2((2, 2), (1, 1), (0, 0), (2, 2)))
    case("max_pool2d/nonsquare", "max_pool2d", [randn((2, 1, 4, 6))], pool2((2, 3), (1, 2), (1, 1)))
    case("max_pool2d/unbatched", "max_pool2d", [randn((2, 4, 4))], pool2((2, 2), (2, 2)))
    case("max_pool2d/noncontig", "max_pool2d", [V(randn((1, 2, 4, 5)), ["transpose", 2, 3])], pool2((2, 2), (1, 1)))
    apool1 = lambda k, s, p=0, cip=True: {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": False, "count_include_pad": cip}
    apool2 = lambda k, s, p=(0, 0), cip=True: {"kernel_size": list(k), "stride": list(s), "padding": list(p), "ceil_mode": False, "count_include_pad": cip}
    case("avg_pool1d/k2s2", "avg_pool1d", [randn((2, 2, 8))], apool1(2, 2), tol=T32)
    case("avg_pool1d/k3s1_pad1_include", "avg_pool1d", [randn((1, 2, 6))], apool1(3, 1, 1, True), tol=T32)
    case("avg_pool1d/k3s1_pad1_exclude", "avg_pool1d", [randn((1, 2, 6))], apool1(3, 1, 1, False), tol=T32)
    case("avg_pool1d/k3s2_remainder", "avg_pool1d", [randn((1, 1, 8))], apool1(3, 2), tol=T32)
    case("avg_pool1d/f64", "avg_pool1d", [randn((1, 1, 7), f64)], apool1(2, 2, 1, False), tol=T64)
    case("avg_pool2d/k2s2", "avg_pool2d", [randn((1, 2, 4, 4))], apool2((2, 2), (2, 2)), tol=T32)
    case("avg_pool2d/k3s2_pad1_include", "avg_pool2d", [randn((1, 1, 5, 5))], apool2((3, 3), (2, 2), (1, 1), True), tol=T32)
    case("avg_pool2d/k3s2_pad1_exclude", "avg_pool2d", [randn((1, 1, 5, 5))], apool2((3, 3), (2, 2), (1, 1), False), tol=T32)
    case("avg_pool2d/nonsquare", "avg_pool2d", [randn((2, 1, 4, 6))], apool2((2, 3), (1, 2), (1, 1), False), tol=T32)
    case("avg_pool2d/unbatched", "avg_pool2d", [randn((2, 4, 4))], apool2((2, 2), (2, 2)), tol=T32)


# ============================================================================
# index / selection: gather, index_select, scatter_add, masked_fill, where
# ============================================================================

def gen_index():
    group("index")
    x = randn((3, 4))
    case("gather/dim1", "gather", [x, randint((3, 2), 0, 4)], {"dim": 1})
    case("gather/dim0", "gather", [x, randint((2, 4), 0, 3)], {"dim": 0})
    case("gather/dim_neg1_smaller_index", "gather", [x, randint((2, 3), 0, 4)], {"dim": -1})
    case("gather/3d_dim1", "gather", [randn((2, 3, 2)), randint((2, 4, 2), 0, 3)], {"dim": 1})
    case("gather/i64", "gather", [randint((2, 5), -9, 9), randint((2, 3), 0, 5)], {"dim": 1})
    case("gather/noncontig_x", "gather", [V(randn((4, 3)), ["t"]), randint((3, 3), 0, 4)], {"dim": 1})
    case("gather/empty_index", "gather", [x, torch.zeros((3, 0), dtype=i64)], {"dim": 1})

    case("index_select/dim0", "index_select", [x, tensor([2, 0], i64)], {"dim": 0})
    case("index_select/dim1_repeats", "index_select", [x, tensor([3, 3, 0, 1, 3], i64)], {"dim": 1})
    case("index_select/dim_neg1", "index_select", [randn((2, 2, 3)), tensor([2, 1], i64)], {"dim": -1})
    case("index_select/noncontig", "index_select", [V(randn((4, 3)), ["t"]), tensor([1, 3], i64)], {"dim": 1})
    case("index_select/i64", "index_select", [randint((5,), -9, 9), tensor([4, 0, 4], i64)], {"dim": 0})
    case("index_select/empty_index", "index_select", [x, torch.zeros((0,), dtype=i64)], {"dim": 0})
    case("index_select/bool", "index_select", [mask((4,)), tensor([3, 2, 1, 0], i64)], {"dim": 0})

    case("scatter_add/dim0_duplicates", "scatter_add",
         [torch.zeros((3, 5)), tensor([[0, 1, 2, 0, 0], [2, 0, 0, 1, 2]], i64), randn((2, 5))], {"dim": 0}, tol=(1e-6, 1e-6))
    case("scatter_add/dim1_into_nonzero", "scatter_add",
         [randn((2, 4)), tensor([[0, 0, 3], [1, 2, 1]], i64), randn((2, 3))], {"dim": 1}, tol=(1e-6, 1e-6))
    case("scatter_add/src_larger_than_index", "scatter_add",
         [torch.zeros((3, 3)), tensor([[2, 1], [0, 0]], i64), randn((3, 4))], {"dim": -1}, tol=(1e-6, 1e-6))
    case("scatter_add/i64", "scatter_add",
         [torch.zeros((4,), dtype=i64), tensor([0, 1, 0, 3, 3, 3], i64), tensor([1, 2, 3, 4, 5, 6], i64)], {"dim": 0})
    case("scatter_add/f64_3d", "scatter_add",
         [torch.zeros((2, 2, 3), dtype=f64), randint((2, 2, 3), 0, 2), randn((2, 2, 3), f64)], {"dim": 1}, tol=T64)

    nan = float("nan")
    case("masked_fill/same_shape", "masked_fill", [x, mask((3, 4))], {"value": -1.0})
    case("masked_fill/broadcast_row_mask", "masked_fill", [x, mask((4,))], {"value": 0.5})
    case("masked_fill/broadcast_col_mask", "masked_fill", [x, mask((3, 1), 0.7)], {"value": 2.0})
    case("masked_fill/neg_inf", "masked_fill", [x, tensor([[False, True, True, True], [False, False, True, True], [False, False, False, True]], b8)], {"value": float("-inf")})
    case("masked_fill/i64", "masked_fill", [randint((2, 3), -5, 5), mask((2, 3))], {"value": 7})
    case("masked_fill/noncontig", "masked_fill", [V(randn((4, 3)), ["t"]), mask((3, 4))], {"value": 0.0})
    case("masked_fill/f64_nan", "masked_fill", [randn((4,), f64), tensor([True, False, True, False], b8)], {"value": nan})

    case("where/same_shape", "where", [mask((3, 4)), randn((3, 4)), randn((3, 4))])
    case("where/broadcast_all", "where", [mask((3, 1)), randn((4,)), randn(())])
    case("where/broadcast_cond", "where", [mask((4,)), randn((2, 4)), randn((2, 4))])
    case("where/i64", "where", [mask((5,)), randint((5,), -9, 9), randint((5,), -9, 9)])
    case("where/i64_f32_to_f32", "where", [mask((4,)), randint((4,), -9, 9), randn((4,))])
    case("where/f32_f64_to_f64", "where", [mask((3,)), randn((3,)), randn((3,), f64)])
    case("where/noncontig", "where", [V(mask((4, 3)), ["t"]), V(randn((4, 3)), ["t"]), randn((3, 4))])
    case("where/nan_passthrough", "where", [tensor([True, False, True], b8), tensor([nan, 1.0, 2.0]), tensor([0.0, nan, 3.0])])


# ============================================================================
# casts
# ============================================================================

def gen_cast():
    group("cast")
    nan, inf = float("nan"), float("inf")
    case("to/f32_i32_trunc", "to", [tensor([-2.7, -2.5, -0.9, -0.0, 0.0, 0.4, 1.5, 2.999, 100.75, -1e6, 16777216.0])], {"dtype": "int32"})
    case("to/f32_i64_trunc", "to", [tensor([-3.99, -0.5, 0.5, 3.99, 1e10])], {"dtype": "int64"})
    case("to/f64_i32_trunc", "to", [tensor([-7.5, 7.5, 0.999999], f64)], {"dtype": "int32"})
    # float16: 1+2^-11 is a tie (rounds to even: 1.0), 1+3*2^-11 ties up; overflow to inf; subnormals
    case("to/f32_f16", "to", [tensor([1.0 + 2**-11, 1.0 + 3 * 2**-11, 0.1, -0.1, 65504.0, 65520.0, 70000.0, -70000.0,
                                      6e-8, 3e-8, 2.98e-8, 1e-5, 3.14159265, nan, inf, -inf, -0.0])], {"dtype": "float16"})
    case("to/f32_f16_random", "to", [randn((12,), f32, 10.0)], {"dtype": "float16"})
    # bfloat16: 1+2^-8 is a tie (-> 1.0), 1+3*2^-8 ties up (-> 1+2^-6); 3.4e38 rounds to inf
    case("to/f32_bf16", "to", [tensor([1.0 + 2**-8, 1.0 + 3 * 2**-8, 1.0 + 2**-8 + 2**-20, 0.1, -0.1, 3.14159265,
                                       3.4e38, -3.4e38, 1e-39, 1e-41, nan, inf, -inf, -0.0])], {"dtype": "bfloat16"})
    case("to/f32_bf16_random", "to", [randn((12,), f32, 10.0)], {"dtype": "bfloat16"})
    case("to/f16_f32", "to", [randn((6,), f16)], {"dtype": "float32"})
    case("to/bf16_f32", "to", [randn((6,), bf16)], {"dtype": "float32"})
    case("to/f16_bf16", "to", [tensor([0.1, 1.0009765625, 60000.0, -3.5], f16)], {"dtype": "bfloat16"})
    case("to/i64_f32", "to", [tensor([0, -5, 16777216, 16777217, 16777219, -16777217, 2**40 + 1], i64)], {"dtype": "float32"})
    case("to/i32_f32", "to", [tensor([0, 7, -2147483648, 2147483647], i32)], {"dtype": "float32"})
    case("to/i64_f64", "to", [tensor([2**53 + 1, -3, 0], i64)], {"dtype": "float64"})
    case("to/i64_i32", "to", [tensor([1, -1, 2**31 - 1, -(2**31)], i64)], {"dtype": "int32"})
    case("to/i32_i64", "to", [randint((4,), -100, 100, i32)], {"dtype": "int64"})
    case("to/f32_bool", "to", [tensor([0.0, -0.0, 1e-30, -2.0, nan, inf])], {"dtype": "bool"})
    case("to/i64_bool", "to", [tensor([0, 1, -7, 0], i64)], {"dtype": "bool"})
    case("to/bool_f32", "to", [tensor([True, False, True], b8)], {"dtype": "float32"})
    case("to/bool_i64", "to", [tensor([True, False, True], b8)], {"dtype": "int64"})
    case("to/f64_f32", "to", [tensor([0.1, 1.0 / 3.0, 1e-46, 1e-40, 3.5e38, -3.5e38, 1.0 + 2**-24, 1.0 + 3 * 2**-24, 16777217.0, nan], f64)], {"dtype": "float32"})
    case("to/f64_f32_random", "to", [randn((6,), f64)], {"dtype": "float32"})
    case("to/f32_f64", "to", [randn((6,), f32)], {"dtype": "float64"})
    case("to/f32_f32_noop", "to", [randn((3,))], {"dtype": "float32"})
    case("to/noncontig_f32_f16", "to", [V(randn((3, 2), f32, 5.0), ["t"])], {"dtype": "float16"})
    case("to/noncontig_f64_i64", "to", [V(randn((2, 6), f64, 10.0), ["slice", 1, 1, 6, 2])], {"dtype": "int64"})


# ----------------------------------------------------------------------------

def write_group(name, cases):
    header = json.dumps({"generator": GENERATOR, "torch": torch.__version__})
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases]
    text = header[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path, len(text.encode("utf-8"))


def main():
    for gen in (gen_creation, gen_views, gen_unary, gen_binary, gen_reduce,
                gen_linalg, gen_nn, gen_index, gen_cast):
        gen()
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for name, cases in GROUPS.items():
        path, size = write_group(name, cases)
        total += size
        ops = sorted({c["op"] for c in cases})
        print(f"wrote {os.path.relpath(path)}: {len(cases)} cases, {size} bytes, ops: {', '.join(ops)}")
    print(f"total: {sum(len(c) for c in GROUPS.values())} cases, {total} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    main()
