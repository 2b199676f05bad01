// lantern-ml: Lantern's JS API over the wasm bindings (PyTorch names in camelCase).
//
// The Rust side keeps tensors in a handle table; a JS Tensor holds a handle id. Handles die
// through t.free(), lt.tidy(fn), the implicit per-step scope (see Scope below), or, for what
// escapes all three, a FinalizationRegistry. Every Rust error arrives as a thrown Error with
// the core's message; arguments are checked here first so that no input reaches a path that
// could trap the wasm instance.
import * as w from './lantern_wasm.js';

// ------------------------------------------------------------------------------ lifetimes

// Safety net for handles nobody freed: the GC cannot see wasm memory, so this only bounds
// leaks; tidy and the step scope are what keep memory flat.
const registry = typeof FinalizationRegistry === 'undefined'
  ? { register() {}, unregister() {} }
  : new FinalizationRegistry((id) => w.free(id));

const tidyScopes = [];
// The implicit training-step scope. It starts at an optimizer's first step(): tensors made
// before it (data, models) are never released by it, and constructing an optimizer starts a
// new run. A tensor made during a step is released at the end of the *next* step unless it is
// kept (t.keep(), parameters, leaves that require grad, dataset tensors), so
// `await loss.item()` right after `optimizer.step()` still works while memory stays flat
// across epochs. The lists hold WeakRefs, so the GC can still collect (and the registry free)
// what the scope has not released yet.
const steps = { active: false, current: [], previous: [] };

const RELEASED = {
  free: 'this tensor was freed with t.free()',
  tidy: 'this tensor was released by lt.tidy(): return it from the tidy function or call t.keep() inside it',
  step: 'this tensor was released by optimizer.step(): it was made during an earlier training step; call t.keep() to keep a tensor across steps',
};

function track(t) {
  registry.register(t, t._id, t);
  adopt(t);
}

function adopt(t) {
  if (tidyScopes.length) tidyScopes[tidyScopes.length - 1].push(t);
  else if (steps.active) steps.current.push(new WeakRef(t));
}

function release(t, why) {
  if (t._released !== null) return;
  w.free(t._id);
  registry.unregister(t);
  t._released = why;
}

/** Ends a training step's scope (called by every optimizer's step). */
function endStep() {
  if (!steps.active) {
    steps.active = true;
    return;
  }
  for (const r of steps.previous) {
    const t = r.deref();
    if (t && !t._kept) release(t, RELEASED.step);
  }
  steps.previous = steps.current;
  steps.current = [];
}

/** A new optimizer starts a new run: stop tracking the last one's tensors (the GC still can). */
function restartSteps() {
  steps.active = false;
  steps.current = [];
  steps.previous = [];
}

/** Runs `fn` and frees every tensor it made except those in its result (lt.tidy). */
export function tidy(nameOrFn, maybeFn) {
  const fn = typeof nameOrFn === 'function' ? nameOrFn : maybeFn;
  if (typeof fn !== 'function') throw new TypeError('lt.tidy(fn): fn must be a function');
  const scope = [];
  tidyScopes.push(scope);
  let result;
  try {
    result = fn();
  } catch (e) {
    tidyScopes.pop();
    for (const t of scope) if (!t._kept) release(t, RELEASED.tidy);
    throw e;
  }
  tidyScopes.pop();
  if (result && typeof result.then === 'function') {
    for (const t of scope) if (!t._kept) release(t, RELEASED.tidy);
    throw new Error('lt.tidy(fn): fn must not be async (tensors made after an await would escape the scope)');
  }
  const out = new Set();
  collect(result, out, 0);
  for (const t of scope) {
    if (out.has(t) || t._kept) adopt(t);
    else release(t, RELEASED.tidy);
  }
  return result;
}

function collect(v, out, depth) {
  if (v instanceof Tensor) out.add(v);
  else if (depth < 8 && v && typeof v === 'object') {
    for (const x of Array.isArray(v) ? v : v instanceof Map ? v.values() : Object.values(v)) collect(x, out, depth + 1);
  }
}

/** Runs `fn` without recording the autograd graph (torch.no_grad). */
export function noGrad(fn) {
  const prev = w.setGradEnabled(false);
  try {
    return fn();
  } finally {
    w.setGradEnabled(prev);
  }
}

/** Runs `fn` with gradient recording switched on or off. */
export function setGradEnabled(on) {
  return w.setGradEnabled(!!on);
}

/** Whether ops record the autograd graph. */
export const isGradEnabled = () => w.isGradEnabled();

const BACKENDS = ['wasm', 'webgpu'];

/** Bytes and tensors alive, in total and per backend. */
export function memory() {
  const backends = {};
  const total = { numBytes: 0, numTensors: 0, peakBytes: 0 };
  for (const b of BACKENDS) {
    const [inUse, peak, reserved, allocations, tensors] = w.memoryStats(b);
    backends[b] = { numBytes: inUse, peakBytes: peak, reservedBytes: reserved, allocations, numTensors: tensors };
    total.numBytes += inUse;
    total.numTensors += tensors;
    total.peakBytes += peak;
  }
  return { ...total, backends };
}

// ------------------------------------------------------------------------------ arguments

const I32 = 2 ** 31;

function int(v, what, min = -I32) {
  if (typeof v === 'bigint') v = Number(v);
  if (!Number.isInteger(v) || v < min || v >= I32) {
    throw new TypeError(`${what} must be an integer${min === 0 ? ' >= 0' : ''}, got ${String(v)}`);
  }
  return v;
}

function num(v, what) {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${typeof v}`);
  return v;
}

function ints(v, what, min) {
  if (typeof v === 'number' || typeof v === 'bigint') v = [v];
  if (v == null || typeof v[Symbol.iterator] !== 'function') throw new TypeError(`${what} must be a list of integers`);
  const a = Array.from(v, (x, i) => int(x, `${what}[${i}]`, min));
  return min === 0 ? Uint32Array.from(a) : Int32Array.from(a);
}

const shapeArg = (v, what = 'shape') => ints(v, what, 0);
const dimArg = (d, what = 'dim') => int(d, what);
const optDims = (d) => (d == null ? undefined : ints(d, 'dim'));
const pairArg = (v, what) => shapeArg(typeof v === 'number' ? [v, v] : v, what);

function tensorArg(t, what = 'argument') {
  if (!(t instanceof Tensor)) throw new TypeError(`${what} must be a lt.Tensor, got ${t === null ? 'null' : typeof t}`);
  return t.id;
}

const optTensor = (t, what) => (t == null ? undefined : tensorArg(t, what));
const ids = (list, what = 'tensors') => Uint32Array.from(Array.from(list, (t, i) => tensorArg(t, `${what}[${i}]`)));
const wrap = (id) => new Tensor(id);
const wrapAll = (list) => Array.from(list, wrap);
/** A dtype name for the bindings (always a string: they read string arguments as UTF-8). */
const dt = (v, fallback = 'float32') => (v == null ? fallback : String(v));

// Op helpers outside the class, so no JS caller can hand them a non-string op name (the
// bindings' string arguments must be strings).
const un = (t, op) => wrap(w.unary(t.id, op));
function bin(t, other, op, reverse = false) {
  if (other instanceof Tensor) return wrap(reverse ? w.binary(other.id, t.id, op) : w.binary(t.id, other.id, op));
  return wrap(w.binaryScalar(t.id, num(other, `${op} operand`), op, reverse));
}
const red = (t, op, dim, keepdim) => wrap(w.reduce(t.id, op, optDims(dim), !!keepdim));
function maxMin(t, op, dim, keepdim) {
  if (dim instanceof Tensor) return bin(t, dim, op === 'max' ? 'maximum' : 'minimum');
  const r = wrapAll(w.maxMin(t.id, op, dim == null ? undefined : dimArg(dim), !!keepdim));
  return dim == null ? r[0] : r;
}
function inplace(t, o, op) {
  if (o instanceof Tensor) w.inplace(t.id, o.id, op);
  else w.inplaceScalar(t.id, num(o, 'operand'), op);
  return t;
}

// ------------------------------------------------------------------------------ Tensor

/** An n-dimensional array in wasm memory, with PyTorch's ops. */
export class Tensor {
  constructor(id) {
    this._id = id;
    this._released = null;
    this._kept = false;
    this._shape = null;
    track(this);
  }

  /** The handle id; throws once the tensor was released. */
  get id() {
    if (this._released !== null) throw new Error(`lantern-ml: ${this._released}`);
    return this._id;
  }

  get shape() {
    return (this._shape ??= Array.from(w.shapeOf(this.id)));
  }
  get dtype() {
    return w.dtypeOf(this.id);
  }
  get ndim() {
    return this.shape.length;
  }
  get rank() {
    return this.shape.length;
  }
  get size() {
    return this.numel();
  }
  numel() {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  dim() {
    return this.shape.length;
  }
  get backend() {
    return w.backendOf(this.id);
  }
  get isReleased() {
    return this._released !== null;
  }

  // --- lifetime
  /** Frees the handle now (storage returns to the pool once no view uses it). */
  free() {
    release(this, RELEASED.free);
  }
  dispose() {
    this.free();
  }
  /** Exempts the tensor from lt.tidy and the per-step scope. */
  keep() {
    this._kept = true;
    return this;
  }

  // --- autograd
  get requiresGrad() {
    return w.requiresGrad(this.id);
  }
  set requiresGrad(on) {
    this.requiresGrad_(on);
  }
  requiresGrad_(on = true) {
    w.setRequiresGrad(this.id, !!on);
    if (on) this._kept = true; // a leaf that requires grad is a parameter
    return this;
  }
  get isLeaf() {
    return w.isLeaf(this.id);
  }
  get grad() {
    const g = w.grad(this.id);
    return g === undefined ? null : wrap(g);
  }
  set grad(g) {
    w.setGrad(this.id, g == null ? undefined : tensorArg(g, 'grad'));
  }
  backward(gradient, { retainGraph = false } = {}) {
    w.backward(this.id, optTensor(gradient, 'gradient'), !!retainGraph);
  }
  detach() {
    return un(this, 'detach');
  }

  // --- readback (never blocks: a promise, as the GPU readback is)
  /** The elements as a typed array (BigInt64Array for int64, Uint8Array for bool). */
  data() {
    return w.read(this.id);
  }
  /** The single element as a number (or boolean for bool tensors). */
  async item() {
    const n = this.numel();
    if (n !== 1) throw new Error(`item: a tensor with one element, got shape [${this.shape}]`);
    const dt = this.dtype;
    const v = (await this.data())[0];
    return dt === 'bool' ? v !== 0 : typeof v === 'bigint' ? Number(v) : v;
  }
  /** The elements as nested JS arrays of numbers. */
  async array() {
    const shape = this.shape;
    const dt = this.dtype;
    const flat = Array.from(await this.data(), (v) => (dt === 'bool' ? v !== 0 : typeof v === 'bigint' ? Number(v) : v));
    const build = (d, off) => {
      if (d === shape.length) return flat[off];
      const step = shape.slice(d + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[d] }, (_, i) => build(d + 1, off + i * step));
    };
    return build(0, 0);
  }
  toString() {
    return this._released !== null ? 'Tensor(released)' : w.format(this.id);
  }
  print() {
    console.log(this.toString());
  }

  // --- arithmetic and comparison (tensor or number, broadcasting)
  add(o) { return bin(this, o, 'add'); }
  sub(o) { return bin(this, o, 'sub'); }
  rsub(o) { return bin(this, o, 'sub', true); }
  mul(o) { return bin(this, o, 'mul'); }
  div(o) { return bin(this, o, 'div'); }
  rdiv(o) { return bin(this, o, 'div', true); }
  pow(o) { return o instanceof Tensor ? bin(this, o, 'pow') : wrap(w.unaryParam(this.id, 'powScalar', num(o, 'exponent'), 0)); }
  remainder(o) { return bin(this, o, 'remainder'); }
  floorDivide(o) { return bin(this, o, 'floorDivide'); }
  maximum(o) { return bin(this, o, 'maximum'); }
  minimum(o) { return bin(this, o, 'minimum'); }
  eq(o) { return bin(this, o, 'eq'); }
  ne(o) { return bin(this, o, 'ne'); }
  lt(o) { return bin(this, o, 'lt'); }
  le(o) { return bin(this, o, 'le'); }
  gt(o) { return bin(this, o, 'gt'); }
  ge(o) { return bin(this, o, 'ge'); }
  logicalAnd(o) { return bin(this, o, 'logicalAnd'); }
  logicalOr(o) { return bin(this, o, 'logicalOr'); }
  logicalXor(o) { return bin(this, o, 'logicalXor'); }
  bitwiseAnd(o) { return bin(this, o, 'bitwiseAnd'); }
  bitwiseOr(o) { return bin(this, o, 'bitwiseOr'); }
  bitwiseXor(o) { return bin(this, o, 'bitwiseXor'); }

  // --- unary
  neg() { return un(this, 'neg'); }
  abs() { return un(this, 'abs'); }
  sign() { return un(this, 'sign'); }
  reciprocal() { return un(this, 'reciprocal'); }
  sqrt() { return un(this, 'sqrt'); }
  rsqrt() { return un(this, 'rsqrt'); }
  square() { return un(this, 'square'); }
  exp() { return un(this, 'exp'); }
  exp2() { return un(this, 'exp2'); }
  expm1() { return un(this, 'expm1'); }
  log() { return un(this, 'log'); }
  log2() { return un(this, 'log2'); }
  log1p() { return un(this, 'log1p'); }
  sin() { return un(this, 'sin'); }
  cos() { return un(this, 'cos'); }
  tanh() { return un(this, 'tanh'); }
  erf() { return un(this, 'erf'); }
  floor() { return un(this, 'floor'); }
  ceil() { return un(this, 'ceil'); }
  round() { return un(this, 'round'); }
  trunc() { return un(this, 'trunc'); }
  logicalNot() { return un(this, 'logicalNot'); }
  sigmoid() { return un(this, 'sigmoid'); }
  relu() { return un(this, 'relu'); }
  silu() { return un(this, 'silu'); }
  gelu({ approximate = 'none' } = {}) {
    if (approximate !== 'none' && approximate !== 'tanh') throw new TypeError(`gelu: approximate must be 'none' or 'tanh', got ${approximate}`);
    return un(this, approximate === 'tanh' ? 'geluTanh' : 'gelu');
  }
  leakyRelu(negativeSlope = 0.01) { return wrap(w.unaryParam(this.id, 'leakyRelu', num(negativeSlope, 'negativeSlope'), 0)); }
  softplus({ beta = 1, threshold = 20 } = {}) { return wrap(w.unaryParam(this.id, 'softplus', num(beta, 'beta'), num(threshold, 'threshold'))); }
  clamp(min, max) {
    return wrap(w.clamp(this.id, min == null ? undefined : num(min, 'min'), max == null ? undefined : num(max, 'max')));
  }
  clip(min, max) { return this.clamp(min, max); }
  contiguous() { return un(this, 'contiguous'); }
  clone() { return un(this, 'clone'); }
  zerosLike() { return un(this, 'zerosLike'); }
  onesLike() { return un(this, 'onesLike'); }
  fullLike(v) { return wrap(w.unaryParam(this.id, 'fullLike', num(v, 'fill value'), 0)); }
  bernoulli() { return un(this, 'bernoulli'); }
  /** A copy in another dtype ('float64', ...) or on another backend ('wasm', 'webgpu'). */
  to(target) {
    const name = String(target);
    return wrap(BACKENDS.includes(name) ? w.toBackend(this.id, name) : w.toDtype(this.id, name));
  }
  float() { return this.to('float32'); }
  double() { return this.to('float64'); }
  int() { return this.to('int32'); }
  long() { return this.to('int64'); }
  bool() { return this.to('bool'); }

  // --- reductions (dim: a number, a list, or undefined for all)
  sum(dim, { keepdim = false } = {}) { return red(this, 'sum', dim, keepdim); }
  mean(dim, { keepdim = false } = {}) { return red(this, 'mean', dim, keepdim); }
  prod(dim, { keepdim = false } = {}) { return red(this, 'prod', dim, keepdim); }
  amax(dim, { keepdim = false } = {}) { return red(this, 'amax', dim, keepdim); }
  amin(dim, { keepdim = false } = {}) { return red(this, 'amin', dim, keepdim); }
  logsumexp(dim, { keepdim = false } = {}) { return red(this, 'logsumexp', dim, keepdim); }
  var(dim, { correction = 1, keepdim = false } = {}) { return wrap(w.moments(this.id, 'var', optDims(dim), num(correction, 'correction'), !!keepdim)); }
  std(dim, { correction = 1, keepdim = false } = {}) { return wrap(w.moments(this.id, 'std', optDims(dim), num(correction, 'correction'), !!keepdim)); }
  norm(ord = 2, dim, { keepdim = false } = {}) { return wrap(w.norm(this.id, num(ord, 'ord'), optDims(dim), !!keepdim)); }
  argmax(dim, { keepdim = false } = {}) { return wrap(w.argreduce(this.id, 'argmax', dim == null ? undefined : dimArg(dim), !!keepdim)); }
  argmin(dim, { keepdim = false } = {}) { return wrap(w.argreduce(this.id, 'argmin', dim == null ? undefined : dimArg(dim), !!keepdim)); }
  /** max() → 0-dim max; max(dim) → [values, indices]; max(tensor) → elementwise maximum. */
  max(dim, { keepdim = false } = {}) { return maxMin(this, 'max', dim, keepdim); }
  min(dim, { keepdim = false } = {}) { return maxMin(this, 'min', dim, keepdim); }
  cumsum(dim) { return wrap(w.alongDim(this.id, 'cumsum', dimArg(dim))); }
  cumprod(dim) { return wrap(w.alongDim(this.id, 'cumprod', dimArg(dim))); }
  softmax(dim) { return wrap(w.alongDim(this.id, 'softmax', dimArg(dim))); }
  logSoftmax(dim) { return wrap(w.alongDim(this.id, 'logSoftmax', dimArg(dim))); }

  // --- views and shape
  reshape(...shape) { return wrap(w.withDims(this.id, 'reshape', ints(shape.length === 1 ? shape[0] : shape, 'shape'), 0)); }
  view(...shape) { return wrap(w.withDims(this.id, 'view', ints(shape.length === 1 ? shape[0] : shape, 'shape'), 0)); }
  permute(...dims) { return wrap(w.withDims(this.id, 'permute', ints(dims.length === 1 ? dims[0] : dims, 'dims'), 0)); }
  expand(...shape) { return wrap(w.withDims(this.id, 'expand', ints(shape.length === 1 ? shape[0] : shape, 'shape'), 0)); }
  broadcastTo(shape) { return this.expand(shape); }
  pad(pad, { value = 0 } = {}) { return wrap(w.withDims(this.id, 'pad', ints(pad, 'pad'), num(value, 'value'))); }
  transpose(d0, d1) { return wrap(w.twoInts(this.id, 'transpose', dimArg(d0), dimArg(d1))); }
  t() { return un(this, 't'); }
  get T() { return this.t(); }
  flatten(startDim = 0, endDim = -1) { return wrap(w.twoInts(this.id, 'flatten', dimArg(startDim), dimArg(endDim))); }
  unflatten(dim, sizes) { return wrap(w.unflatten(this.id, dimArg(dim), ints(sizes, 'sizes'))); }
  select(dim, index) { return wrap(w.twoInts(this.id, 'select', dimArg(dim), int(index, 'index'))); }
  narrow(dim, start, length) { return wrap(w.narrow(this.id, dimArg(dim), int(start, 'start', 0), int(length, 'length', 0))); }
  /** Python slicing t[start:end:step] along `dim` (negative and out-of-range bounds clamp). */
  slice(dim, start = 0, end = undefined, step = 1) {
    return wrap(w.slice(this.id, dimArg(dim), int(start, 'start'), end == null ? undefined : int(end, 'end'), int(step, 'step', 1)));
  }
  squeeze(dim) { return wrap(w.squeeze(this.id, dim == null ? undefined : dimArg(dim))); }
  unsqueeze(dim) { return wrap(w.alongDim(this.id, 'unsqueeze', dimArg(dim))); }
  split(size, dim = 0) { return wrapAll(w.split(this.id, 'split', int(size, 'split_size', 1), dimArg(dim))); }
  chunk(chunks, dim = 0) { return wrapAll(w.split(this.id, 'chunk', int(chunks, 'chunks', 1), dimArg(dim))); }

  // --- linear algebra, indexing, nn
  matmul(o) { return wrap(w.matmul(this.id, tensorArg(o, 'matmul operand'))); }
  mm(o) { return this.matmul(o); }
  gather(dim, index) { return wrap(w.index(this.id, 'gather', dimArg(dim), tensorArg(index, 'index'))); }
  indexSelect(dim, index) { return wrap(w.index(this.id, 'indexSelect', dimArg(dim), tensorArg(index, 'index'))); }
  scatterAdd(dim, index, src) { return wrap(w.scatterAdd(this.id, dimArg(dim), tensorArg(index, 'index'), tensorArg(src, 'src'))); }
  maskedFill(mask, value) { return wrap(w.maskedFill(this.id, tensorArg(mask, 'mask'), num(value, 'value'))); }
  where(cond, other) { return where(cond, this, other); }

  // --- in place (optimizers and user code; autograd's version counter guards misuse)
  add_(o) { return inplace(this, o, 'add_'); }
  sub_(o) { return o instanceof Tensor ? inplace(this, o, 'sub_') : inplace(this, -num(o, 'operand'), 'add_'); }
  mul_(o) { return inplace(this, o, 'mul_'); }
  div_(o) { return o instanceof Tensor ? inplace(this, o, 'div_') : inplace(this, 1 / num(o, 'operand'), 'mul_'); }
  copy_(src) { return inplace(this, src, 'copy_'); }
  fill_(v) { return inplace(this, num(v, 'value'), 'fill_'); }
  zero_() { return this.fill_(0); }
}

// ------------------------------------------------------------------------------ creation

const TYPED = [
  [Float32Array, 'float32', w.fromF32],
  [Float64Array, 'float64', w.fromF64],
  [Int32Array, 'int32', w.fromI32],
  [BigInt64Array, 'int64', w.fromI64],
  [Uint8Array, 'uint8', w.fromU8],
  [Uint8ClampedArray, 'uint8', w.fromU8],
  [Int8Array, 'int8', w.fromI8],
];

function flattenNested(data) {
  const shape = [];
  let probe = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat = data.flat(Infinity);
  const n = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== n || flat.some(Array.isArray)) {
    throw new Error(`tensor: nested arrays must be rectangular (first row gives shape [${shape}])`);
  }
  return { shape, flat };
}

/** A tensor from a number, (nested) array or typed array (torch.tensor). */
export function tensor(data, { shape, dtype, requiresGrad = false } = {}) {
  let flat;
  let inferred;
  let natural = 'float32';
  let from = w.fromF64;
  if (data instanceof Tensor) return data.clone();
  const typed = ArrayBuffer.isView(data) ? TYPED.find(([C]) => data instanceof C) : null;
  if (typed) {
    [, natural, from] = typed;
    flat = data;
    inferred = [data.length];
  } else if (ArrayBuffer.isView(data)) {
    flat = Float64Array.from(data, Number);
    inferred = [data.length];
    natural = Number.isInteger(flat[0]) ? 'int64' : 'float32';
  } else {
    let values;
    if (Array.isArray(data)) ({ shape: inferred, flat: values } = flattenNested(data));
    else if (['number', 'boolean', 'bigint'].includes(typeof data)) [inferred, values] = [[], [data]];
    else throw new TypeError(`tensor: data must be a number, an array or a typed array, got ${data === null ? 'null' : typeof data}`);
    if (values.length && values.every((v) => typeof v === 'boolean')) natural = 'bool';
    else if (values.length && values.every((v) => typeof v === 'bigint')) natural = 'int64';
    flat = Float64Array.from(values, (v, i) => {
      if (typeof v === 'bigint' || typeof v === 'boolean') return Number(v);
      if (typeof v !== 'number') throw new TypeError(`tensor: element ${i} is ${typeof v}, not a number`);
      return v;
    });
  }
  const t = wrap(from(flat, shapeArg(shape ?? inferred), dt(dtype, natural)));
  return requiresGrad ? t.requiresGrad_(true) : t;
}

function shapeOf(args) {
  const last = args[args.length - 1];
  const opts = last && typeof last === 'object' && !Array.isArray(last) && !ArrayBuffer.isView(last) ? args.pop() : {};
  const shape = args.length === 1 && typeof args[0] !== 'number' ? args[0] : args;
  return [shapeArg(shape), opts];
}

function made(id, opts) {
  const t = wrap(id);
  return opts.requiresGrad ? t.requiresGrad_(true) : t;
}

/** zeros(shape, {dtype}) or zeros(2, 3). */
export function zeros(...args) {
  const [s, o] = shapeOf(args);
  return made(w.full(s, 0, dt(o.dtype)), o);
}
export function ones(...args) {
  const [s, o] = shapeOf(args);
  return made(w.full(s, 1, dt(o.dtype)), o);
}
export function full(shape, value, opts = {}) {
  const dtype = dt(opts.dtype, typeof value === 'boolean' ? 'bool' : 'float32');
  return made(w.full(shapeArg(shape), num(value, 'fill value'), dtype), opts);
}
export function rand(...args) {
  const [s, o] = shapeOf(args);
  return made(w.random('rand', s, dt(o.dtype)), o);
}
export function randn(...args) {
  const [s, o] = shapeOf(args);
  return made(w.random('randn', s, dt(o.dtype)), o);
}
/** Integers uniform on [low, high), int64. */
export function randint(low, high, shape) {
  return wrap(w.randint(int(low, 'low', -(2 ** 53)), int(high, 'high', -(2 ** 53)), shapeArg(shape)));
}
/** arange(end), arange(start, end, step); int64 when every bound is an integer. */
export function arange(start, end, step = 1, opts = {}) {
  if (typeof end === 'object' && end !== null) [opts, end] = [end, undefined];
  if (typeof step === 'object' && step !== null) [opts, step] = [step, 1];
  if (end === undefined) [start, end] = [0, start];
  const [a, b, c] = [num(start, 'start'), num(end, 'end'), num(step, 'step')];
  const dtype = dt(opts.dtype, [a, b, c].every(Number.isInteger) ? 'int64' : 'float32');
  return wrap(w.arange(a, b, c, dtype));
}
export function linspace(start, end, steps, { dtype = 'float32' } = {}) {
  return wrap(w.linspace(num(start, 'start'), num(end, 'end'), int(steps, 'steps', 0), dt(dtype)));
}
export function eye(n, m = n, { dtype = 'float32' } = {}) {
  return wrap(w.eye(int(n, 'n', 0), int(m, 'm', 0), dt(dtype)));
}
export const zerosLike = (t) => t.zerosLike();
export const onesLike = (t) => t.onesLike();
export const fullLike = (t, v) => t.fullLike(v);
export const randLike = (t) => un(t, 'randLike');
export const randnLike = (t) => un(t, 'randnLike');

/** Seeds the generator (Philox: the same numbers on every backend). */
export function manualSeed(seed) {
  w.manualSeed(int(seed, 'seed', 0));
}

// ------------------------------------------------------------------------------ free functions

export function cat(tensors, dim = 0) {
  return wrap(w.join(ids(tensors), 'cat', dimArg(dim)));
}
export const concat = cat;
export function stack(tensors, dim = 0) {
  return wrap(w.join(ids(tensors), 'stack', dimArg(dim)));
}
/** torch.where(cond, x, y): x and y may be numbers. */
export function where(cond, x, y) {
  const c = tensorArg(cond, 'condition');
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) {
    const like = x instanceof Tensor ? x : y instanceof Tensor ? y : null;
    const dt = like ? like.dtype : 'float32';
    return tidy(() => {
      const tx = x instanceof Tensor ? x : full([], num(x, 'x'), { dtype: dt });
      const ty = y instanceof Tensor ? y : full([], num(y, 'y'), { dtype: dt });
      return wrap(w.whereOp(c, tx.id, ty.id));
    });
  }
  return wrap(w.whereOp(c, x.id, y.id));
}
const method = (m) => (t, ...a) => t[m](...a);
// torch.add(a, b)-style free functions.
export const add = method('add'), sub = method('sub'), mul = method('mul'), div = method('div'), pow = method('pow'),
  remainder = method('remainder'), maximum = method('maximum'), minimum = method('minimum'), eq = method('eq'),
  ne = method('ne'), lt = method('lt'), le = method('le'), gt = method('gt'), ge = method('ge'),
  matmul = method('matmul'), neg = method('neg'), abs = method('abs'), sqrt = method('sqrt'), exp = method('exp'),
  log = method('log'), sin = method('sin'), cos = method('cos'), tanh = method('tanh'), sigmoid = method('sigmoid'),
  relu = method('relu'), sum = method('sum'), mean = method('mean'), amax = method('amax'), amin = method('amin'),
  argmax = method('argmax'), argmin = method('argmin'), max = method('max'), min = method('min'),
  softmax = method('softmax'), logSoftmax = method('logSoftmax'), reshape = method('reshape'),
  transpose = method('transpose'), permute = method('permute'), flatten = method('flatten'),
  squeeze = method('squeeze'), unsqueeze = method('unsqueeze'), clamp = method('clamp'), gather = method('gather'),
  indexSelect = method('indexSelect'), cumsum = method('cumsum'), prod = method('prod'), norm = method('norm'),
  logsumexp = method('logsumexp'), floor = method('floor'), ceil = method('ceil'), round = method('round'),
  erf = method('erf'), sign = method('sign'), square = method('square'), rsqrt = method('rsqrt'),
  expm1 = method('expm1'), log1p = method('log1p'), narrow = method('narrow');

/** torch.autograd.grad: gradients of `outputs` w.r.t. `inputs`, null where none flows. */
export function grad(outputs, inputs, { retainGraph = false, createGraph = false } = {}) {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  return Array.from(w.autogradGrad(ids(outs, 'outputs'), ids(ins, 'inputs'), !!retainGraph, !!createGraph), (g) => (g === 0 ? null : wrap(g)));
}

// ------------------------------------------------------------------------------ nn

/** Marks a tensor as a parameter (requires grad, kept across steps); returns it. */
export function Parameter(t) {
  if (!(t instanceof Tensor)) throw new TypeError('nn.Parameter: expected a lt.Tensor');
  t.requiresGrad_(true);
  t._isParameter = true;
  return t;
}

/** Base class of layers and models; subclass it and set children/parameters as fields. */
export class Module {
  constructor() {
    Object.defineProperty(this, '_params', { value: new Map(), writable: true });
    Object.defineProperty(this, '_buffers', { value: new Map(), writable: true });
    this.training = true;
  }
  forward() {
    throw new Error(`${this.constructor.name}.forward is not implemented`);
  }
  /** PyTorch's `module(x)`. */
  call(...args) {
    return this.forward(...args);
  }
  registerParameter(name, t) {
    this._params.set(name, Parameter(t));
  }
  registerBuffer(name, t) {
    this._buffers.set(name, t.keep());
  }
  *namedChildren() {
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
  }
  children() {
    return Array.from(this.namedChildren(), ([, m]) => m);
  }
  _own(kind) {
    const own = new Map(kind === 'params' ? this._params : this._buffers);
    if (kind === 'params') for (const [k, v] of Object.entries(this)) if (v instanceof Tensor && v._isParameter) own.set(k, v);
    return own;
  }
  _walk(kind, prefix, out) {
    for (const [k, v] of this._own(kind)) out.push([prefix + k, v]);
    for (const [k, m] of this.namedChildren()) m._walk(kind, `${prefix}${k}.`, out);
    return out;
  }
  /** [name, tensor] pairs with PyTorch's dotted names ("0.weight"). */
  namedParameters() {
    return this._walk('params', '', []);
  }
  parameters() {
    return this.namedParameters().map(([, t]) => t);
  }
  namedBuffers() {
    return this._walk('buffers', '', []);
  }
  /** Parameters and buffers by name, as a plain object (insertion-ordered). */
  stateDict() {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }
  /** Copies values in by name; strict, like PyTorch's default (missing/unexpected keys throw). */
  loadStateDict(state) {
    const mine = Object.entries(this.stateDict());
    const theirs = state instanceof Map ? [...state] : Object.entries(state);
    w.loadStateDict(mine.map(([k]) => k), ids(mine.map(([, t]) => t)), theirs.map(([k]) => String(k)), ids(theirs.map(([, t]) => t), 'state'));
    return this;
  }
  train(mode = true) {
    this.training = !!mode;
    this._raw?.train(!!mode);
    for (const m of this.children()) m.train(mode);
    return this;
  }
  eval() {
    return this.train(false);
  }
  zeroGrad() {
    for (const p of this.parameters()) p.grad = null;
  }
}

/** A layer whose parameters, initialisation and forward are core's. */
class NativeModule extends Module {
  constructor(raw) {
    super();
    Object.defineProperty(this, '_raw', { value: raw });
    const bind = (names, handles, map) => {
      names.forEach((n, i) => {
        const t = wrap(handles[i]).keep();
        map.set(n, t);
        if (!n.includes('.')) Object.defineProperty(this, n, { value: t, enumerable: false });
      });
    };
    bind(raw.paramNames(), raw.paramIds(), this._params);
    for (const t of this._params.values()) t._isParameter = true;
    bind(raw.bufferNames(), raw.bufferIds(), this._buffers);
  }
  forward(x) {
    return wrap(this._raw.forward(tensorArg(x, 'input')));
  }
}

/** A layer that is one tensor op. */
class Lambda extends Module {
  constructor(fn) {
    super();
    Object.defineProperty(this, '_fn', { value: fn });
  }
  forward(x) {
    return this._fn(x, this);
  }
}

const size = (v, what) => int(v, what, 0);

export class Linear extends NativeModule {
  constructor(inFeatures, outFeatures, { bias = true } = {}) {
    super(w.RawModule.linear(size(inFeatures, 'in_features'), size(outFeatures, 'out_features'), !!bias));
  }
}
export class Conv2d extends NativeModule {
  constructor(inChannels, outChannels, kernelSize, { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true } = {}) {
    const k = pairArg(kernelSize, 'kernel_size');
    if (k.some((x) => x === 0)) throw new Error('Conv2d: kernel_size must be positive');
    super(w.RawModule.conv2d(size(inChannels, 'in_channels'), size(outChannels, 'out_channels'), k, pairArg(stride, 'stride'),
      pairArg(padding, 'padding'), pairArg(dilation, 'dilation'), size(groups, 'groups'), !!bias));
  }
}
export class LayerNorm extends NativeModule {
  constructor(normalizedShape, { eps = 1e-5, elementwiseAffine = true, bias = true } = {}) {
    super(w.RawModule.layerNorm(shapeArg(normalizedShape, 'normalized_shape'), num(eps, 'eps'), !!elementwiseAffine, !!bias));
  }
}
function batchNorm(dims, n, { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true }) {
  return w.RawModule.batchNorm(dims, size(n, 'num_features'), num(eps, 'eps'), momentum == null ? undefined : num(momentum, 'momentum'), !!affine, !!trackRunningStats);
}
export class BatchNorm1d extends NativeModule {
  constructor(numFeatures, opts = {}) {
    super(batchNorm(1, numFeatures, opts));
  }
}
export class BatchNorm2d extends NativeModule {
  constructor(numFeatures, opts = {}) {
    super(batchNorm(2, numFeatures, opts));
  }
}
export class GroupNorm extends NativeModule {
  constructor(numGroups, numChannels, { eps = 1e-5, affine = true } = {}) {
    super(w.RawModule.groupNorm(size(numGroups, 'num_groups'), size(numChannels, 'num_channels'), num(eps, 'eps'), !!affine));
  }
}
export class Embedding extends NativeModule {
  constructor(numEmbeddings, embeddingDim, { paddingIdx } = {}) {
    super(w.RawModule.embedding(size(numEmbeddings, 'num_embeddings'), size(embeddingDim, 'embedding_dim'), paddingIdx == null ? undefined : int(paddingIdx, 'padding_idx')));
  }
}
function rnn(kind, inputSize, hiddenSize, { numLayers = 1, bias = true, batchFirst = false, dropout = 0, bidirectional = false }) {
  return w.RawModule.rnn(kind, size(inputSize, 'input_size'), size(hiddenSize, 'hidden_size'), size(numLayers, 'num_layers'), !!bias, !!batchFirst, num(dropout, 'dropout'), !!bidirectional);
}
/** nn.LSTM; forward(x) returns the output sequence. */
export class LSTM extends NativeModule {
  constructor(inputSize, hiddenSize, opts = {}) {
    super(rnn('LSTM', inputSize, hiddenSize, opts));
  }
}
/** nn.GRU; forward(x) returns the output sequence. */
export class GRU extends NativeModule {
  constructor(inputSize, hiddenSize, opts = {}) {
    super(rnn('GRU', inputSize, hiddenSize, opts));
  }
}
/** nn.MultiheadAttention; forward(x) is self-attention. */
export class MultiheadAttention extends NativeModule {
  constructor(embedDim, numHeads, { dropout = 0, bias = true, batchFirst = false } = {}) {
    super(w.RawModule.multiheadAttention(size(embedDim, 'embed_dim'), size(numHeads, 'num_heads'), num(dropout, 'dropout'), !!bias, !!batchFirst));
  }
}
export class TransformerEncoderLayer extends NativeModule {
  constructor(dModel, nhead) {
    super(w.RawModule.transformerEncoderLayer(size(dModel, 'd_model'), size(nhead, 'nhead')));
  }
}

export class ReLU extends Lambda { constructor() { super((x) => x.relu()); } }
export class Sigmoid extends Lambda { constructor() { super((x) => x.sigmoid()); } }
export class Tanh extends Lambda { constructor() { super((x) => x.tanh()); } }
export class SiLU extends Lambda { constructor() { super((x) => x.silu()); } }
export class Identity extends Lambda { constructor() { super((x) => x); } }
export class GELU extends Lambda { constructor({ approximate = 'none' } = {}) { super((x) => x.gelu({ approximate })); } }
export class LeakyReLU extends Lambda { constructor(negativeSlope = 0.01) { super((x) => x.leakyRelu(negativeSlope)); } }
export class Softplus extends Lambda { constructor(opts = {}) { super((x) => x.softplus(opts)); } }
export class Softmax extends Lambda { constructor(dim = -1) { super((x) => x.softmax(dim)); } }
export class LogSoftmax extends Lambda { constructor(dim = -1) { super((x) => x.logSoftmax(dim)); } }
export class Flatten extends Lambda { constructor(startDim = 1, endDim = -1) { super((x) => x.flatten(startDim, endDim)); } }
export class Dropout extends Lambda { constructor(p = 0.5) { super((x, m) => dropout(x, { p, training: m.training })); } }
export class MaxPool2d extends Lambda {
  constructor(kernelSize, { stride, padding = 0 } = {}) { super((x) => maxPool2d(x, kernelSize, { stride, padding })); }
}
export class AvgPool2d extends Lambda {
  constructor(kernelSize, { stride, padding = 0 } = {}) { super((x) => avgPool2d(x, kernelSize, { stride, padding })); }
}
export class AdaptiveAvgPool2d extends Lambda { constructor(outputSize) { super((x) => adaptiveAvgPool2d(x, outputSize)); } }

/** Layers applied in order; children are named "0", "1", ... as in PyTorch. */
export class Sequential extends Module {
  constructor(...layers) {
    super();
    if (layers.length === 1 && Array.isArray(layers[0])) layers = layers[0];
    layers.forEach((m, i) => this.append(m, i));
  }
  append(m, i = this.length) {
    if (!(m instanceof Module)) throw new TypeError(`Sequential: item ${i} is not a lt.nn.Module`);
    this[String(i)] = m;
    return this;
  }
  get length() {
    return this.children().length;
  }
  forward(x) {
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
}
/** A list of modules registered as children ("0", "1", ...). */
export class ModuleList extends Sequential {
  forward() {
    throw new Error('ModuleList has no forward: iterate over its children');
  }
  [Symbol.iterator]() {
    return this.children()[Symbol.iterator]();
  }
}

// --- functional
export function linear(x, weight, bias) {
  const y = x.matmul(weight.t());
  return bias ? y.add(bias) : y;
}
export function dropout(x, { p = 0.5, training = true } = {}) {
  return wrap(w.dropout(tensorArg(x, 'input'), num(p, 'p'), !!training));
}
export function conv2d(x, weight, bias, { stride = 1, padding = 0, dilation = 1, groups = 1 } = {}) {
  return wrap(w.conv2d(tensorArg(x, 'input'), tensorArg(weight, 'weight'), optTensor(bias, 'bias'), pairArg(stride, 'stride'),
    pairArg(padding, 'padding'), pairArg(dilation, 'dilation'), size(groups, 'groups')));
}
function pool(op, x, kernelSize, stride, padding) {
  const k = pairArg(kernelSize, 'kernel_size');
  if (k.some((v) => v === 0)) throw new Error(`${op}: kernel_size must be positive`);
  const s = stride == null ? k : pairArg(stride, 'stride');
  if (s.some((v) => v === 0)) throw new Error(`${op}: stride must be positive`);
  return wrap(w.pool2d(tensorArg(x, 'input'), op, k, s, pairArg(padding, 'padding')));
}
export const maxPool2d = (x, kernelSize, { stride, padding = 0 } = {}) => pool('maxPool2d', x, kernelSize, stride, padding);
export const avgPool2d = (x, kernelSize, { stride, padding = 0 } = {}) => pool('avgPool2d', x, kernelSize, stride, padding);
export function adaptiveAvgPool2d(x, outputSize) {
  const o = pairArg(outputSize, 'output_size');
  return wrap(w.pool2d(tensorArg(x, 'input'), 'adaptiveAvgPool2d', o, o, Uint32Array.of(0, 0)));
}
export function layerNorm(x, normalizedShape, { weight, bias, eps = 1e-5 } = {}) {
  return wrap(w.layerNorm(tensorArg(x, 'input'), shapeArg(normalizedShape, 'normalized_shape'), optTensor(weight, 'weight'), optTensor(bias, 'bias'), num(eps, 'eps')));
}
export const embedding = (input, weight) => wrap(w.embedding(tensorArg(input, 'input'), tensorArg(weight, 'weight')));
export const oneHot = (t, numClasses) => wrap(w.oneHot(tensorArg(t, 'input'), numClasses == null ? 0 : size(numClasses, 'num_classes')));
export const pad = (x, p, opts) => x.pad(p, opts);
export function scaledDotProductAttention(q, k, v, { attnMask, dropoutP = 0, isCausal = false } = {}) {
  return wrap(w.scaledDotProductAttention(tensorArg(q, 'query'), tensorArg(k, 'key'), tensorArg(v, 'value'), optTensor(attnMask, 'attn_mask'), num(dropoutP, 'dropout_p'), !!isCausal));
}

function lossFn(op, param) {
  return (input, target, opts = {}) => {
    const { reduction = 'mean', ignoreIndex = -100, weight, posWeight } = opts;
    const p = param ? num(opts[param.name] ?? param.default, param.name) : 0;
    return wrap(w.loss(op, tensorArg(input, 'input'), tensorArg(target, 'target'), String(reduction), p, int(ignoreIndex, 'ignoreIndex'), optTensor(weight, 'weight'), optTensor(posWeight, 'posWeight')));
  };
}
export const crossEntropy = lossFn('crossEntropy', { name: 'labelSmoothing', default: 0 });
export const nllLoss = lossFn('nllLoss');
export const mseLoss = lossFn('mseLoss');
export const l1Loss = lossFn('l1Loss');
export const smoothL1Loss = lossFn('smoothL1Loss', { name: 'beta', default: 1 });
export const huberLoss = lossFn('huberLoss', { name: 'delta', default: 1 });
export const binaryCrossEntropy = lossFn('binaryCrossEntropy');
export const binaryCrossEntropyWithLogits = lossFn('binaryCrossEntropyWithLogits');
const klDivRaw = lossFn('klDiv', { name: 'logTarget', default: 0 });
export const klDiv = (input, target, opts = {}) => klDivRaw(input, target, { ...opts, logTarget: opts.logTarget ? 1 : 0 });

class Loss extends Module {
  constructor(fn, opts) {
    super();
    Object.defineProperty(this, '_fn', { value: fn });
    Object.defineProperty(this, '_opts', { value: opts });
  }
  forward(input, target) {
    return this._fn(input, target, this._opts);
  }
}
export class CrossEntropyLoss extends Loss { constructor(opts = {}) { super(crossEntropy, opts); } }
export class NLLLoss extends Loss { constructor(opts = {}) { super(nllLoss, opts); } }
export class MSELoss extends Loss { constructor(opts = {}) { super(mseLoss, opts); } }
export class L1Loss extends Loss { constructor(opts = {}) { super(l1Loss, opts); } }
export class SmoothL1Loss extends Loss { constructor(opts = {}) { super(smoothL1Loss, opts); } }
export class HuberLoss extends Loss { constructor(opts = {}) { super(huberLoss, opts); } }
export class BCELoss extends Loss { constructor(opts = {}) { super(binaryCrossEntropy, opts); } }
export class BCEWithLogitsLoss extends Loss { constructor(opts = {}) { super(binaryCrossEntropyWithLogits, opts); } }
export class KLDivLoss extends Loss { constructor(opts = {}) { super(klDiv, opts); } }

export function clipGradNorm(parameters, maxNorm, normType = 2) {
  return wrap(w.clipGradNorm(ids(parameters, 'parameters'), num(maxNorm, 'max_norm'), num(normType, 'norm_type')));
}
export function clipGradValue(parameters, clipValue) {
  w.clipGradValue(ids(parameters, 'parameters'), num(clipValue, 'clip_value'));
}

// ------------------------------------------------------------------------------ optim

const DEFAULTS = {
  SGD: { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  Adam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false },
  AdamW: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false },
  RMSprop: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
  Adagrad: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 },
};

function toNamed(nt) {
  const names = nt.names;
  const out = Object.fromEntries(Array.from(nt.ids, (id, i) => [names[i], wrap(id)]));
  nt.free();
  return out;
}

/** Base of the optimizers; `step()` also closes the implicit per-step memory scope. */
export class Optimizer {
  constructor(kind, params, opts) {
    const o = { ...DEFAULTS[kind], ...opts };
    this.params = Array.from(params instanceof Module ? params.parameters() : params);
    for (const p of this.params) if (p instanceof Tensor) p.keep();
    const raw = new w.OptimOpts();
    raw.lr = num(o.lr, 'lr');
    for (const k of ['momentum', 'dampening', 'weightDecay', 'eps', 'alpha', 'lrDecay', 'initialAccumulatorValue']) {
      if (o[k] !== undefined) raw[k] = num(o[k], k);
    }
    for (const k of ['nesterov', 'amsgrad', 'centered']) raw[k] = !!o[k];
    if (o.betas) [raw.beta1, raw.beta2] = [num(o.betas[0], 'betas[0]'), num(o.betas[1], 'betas[1]')];
    try {
      this._raw = new w.RawOptimizer(kind, ids(this.params, 'params'), raw);
    } finally {
      raw.free();
    }
    restartSteps();
  }
  step() {
    this._raw.step();
    endStep();
  }
  zeroGrad() {
    this._raw.zeroGrad();
  }
  get lr() {
    return this._raw.lr;
  }
  set lr(v) {
    this._raw.lr = num(v, 'lr');
  }
  stateDict() {
    return toNamed(this._raw.stateDict());
  }
  loadStateDict(state) {
    const e = Object.entries(state);
    this._raw.loadStateDict(e.map(([k]) => String(k)), ids(e.map(([, t]) => t), 'state'));
  }
}
export class SGD extends Optimizer { constructor(params, opts = {}) { super('SGD', params, opts); } }
export class Adam extends Optimizer { constructor(params, opts = {}) { super('Adam', params, opts); } }
export class AdamW extends Optimizer { constructor(params, opts = {}) { super('AdamW', params, opts); } }
export class RMSprop extends Optimizer { constructor(params, opts = {}) { super('RMSprop', params, opts); } }
export class Adagrad extends Optimizer { constructor(params, opts = {}) { super('Adagrad', params, opts); } }

class LRScheduler {
  constructor(kind, optimizer, args) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${kind}: expected a lt.optim optimizer`);
    this.optimizer = optimizer;
    this._raw = new w.RawScheduler(kind, optimizer._raw, Float64Array.from(args, (v, i) => num(v, `${kind} argument ${i}`)));
  }
  step() {
    this._raw.step(this.optimizer._raw);
  }
  getLastLr() {
    return [this._raw.lastLr()];
  }
  get lastEpoch() {
    return this._raw.lastEpoch();
  }
}
export class StepLR extends LRScheduler {
  constructor(opt, { stepSize, gamma = 0.1 } = {}) { super('StepLR', opt, [stepSize, gamma]); }
}
export class MultiStepLR extends LRScheduler {
  constructor(opt, { milestones = [], gamma = 0.1 } = {}) { super('MultiStepLR', opt, [gamma, ...milestones]); }
}
export class ExponentialLR extends LRScheduler {
  constructor(opt, { gamma } = {}) { super('ExponentialLR', opt, [gamma]); }
}
export class CosineAnnealingLR extends LRScheduler {
  constructor(opt, { TMax, tMax, etaMin = 0 } = {}) { super('CosineAnnealingLR', opt, [TMax ?? tMax, etaMin]); }
}
export class LinearLR extends LRScheduler {
  constructor(opt, { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = {}) { super('LinearLR', opt, [startFactor, endFactor, totalIters]); }
}
export class OneCycleLR extends LRScheduler {
  constructor(opt, { maxLr, totalSteps, pctStart = 0.3, annealStrategy = 'cos', cycleMomentum = true, baseMomentum = 0.85, maxMomentum = 0.95, divFactor = 25, finalDivFactor = 1e4, threePhase = false } = {}) {
    super('OneCycleLR', opt, [maxLr, totalSteps, pctStart, divFactor, finalDivFactor, annealStrategy === 'cos' ? 1 : 0, cycleMomentum ? 1 : 0, baseMomentum, maxMomentum, threePhase ? 1 : 0]);
  }
}

// ------------------------------------------------------------------------------ data

/** Examples are rows (dim 0) of tensors of equal length; its tensors are kept. */
export class TensorDataset {
  constructor(...tensors) {
    if (!tensors.length) throw new Error('TensorDataset: needs at least one tensor');
    const n = tensors[0].shape[0];
    tensors.forEach((t, i) => {
      tensorArg(t, `tensors[${i}]`);
      if (t.ndim === 0 || t.shape[0] !== n) throw new Error('TensorDataset: all tensors need the same size in dim 0');
      t.keep();
    });
    this.tensors = tensors;
  }
  get length() {
    return this.tensors[0].shape[0];
  }
  /** A collated batch: each tensor's rows at `indices`. */
  getBatch(indices) {
    const idx = wrap(w.fromF64(Float64Array.from(indices), Uint32Array.of(indices.length), 'int64'));
    try {
      return this.tensors.map((t) => t.indexSelect(0, idx));
    } finally {
      idx.free();
    }
  }
}

/** Batches over a dataset, shuffled with a seeded Philox permutation as core's DataLoader. */
export class DataLoader {
  constructor(dataset, { batchSize = 1, shuffle = false, dropLast = false, seed = 0 } = {}) {
    this.dataset = dataset;
    this.batchSize = int(batchSize, 'batchSize', 1);
    this.shuffle = !!shuffle;
    this.dropLast = !!dropLast;
    this.seed = int(seed, 'seed', 0);
    this.epoch = 0;
  }
  get length() {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  *[Symbol.iterator]() {
    const n = this.dataset.length;
    const order = this.shuffle ? w.randperm(n, this.seed, this.epoch * n) : Uint32Array.from({ length: n }, (_, i) => i);
    this.epoch += 1;
    for (let b = 0; b < this.length; b++) {
      yield this.dataset.getBatch(order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize)));
    }
  }
}

// ------------------------------------------------------------------------------ io, backends

/** A model's (or a {name: Tensor} object's) state as safetensors bytes. */
export function save(modelOrState) {
  const state = modelOrState instanceof Module ? modelOrState.stateDict() : modelOrState;
  const e = state instanceof Map ? [...state] : Object.entries(state);
  return w.saveSafetensors(e.map(([k]) => String(k)), ids(e.map(([, t]) => t), 'state'));
}

/** Parses safetensors bytes (from lt.save or PyTorch's safetensors) into {name: Tensor}. */
export function load(bytes) {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new TypeError('load: expected a Uint8Array or ArrayBuffer of safetensors bytes');
  return toNamed(w.loadSafetensors(bytes));
}

/**
 * Makes `name` the backend new tensors, layers and loaded state go to: 'wasm' (the CPU
 * driver, default) or 'webgpu' (the WebGPU driver, in builds made with `--webgpu`, where
 * `navigator.gpu` exists). Tensors of different backends do not mix: move them with t.to().
 */
export async function setBackend(name) {
  if (!BACKENDS.includes(name)) throw new Error(`setBackend: unknown backend ${JSON.stringify(name)} (expected one of ${BACKENDS.join(', ')})`);
  if (name === 'webgpu' && !(typeof navigator !== 'undefined' && navigator.gpu)) {
    throw new Error("setBackend('webgpu'): WebGPU is not available here (navigator.gpu is missing: it needs a browser with WebGPU, in a secure context)");
  }
  await w.setBackend(name);
  return true;
}
/** The backend new tensors go to. */
export const getBackend = () => w.backendName();

export const version = '0.1.0';
