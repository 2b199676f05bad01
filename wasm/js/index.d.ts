// Type declarations for lantern-ml: Lantern's JS API (PyTorch names in camelCase).

/** PyTorch's dtype names. */
export type DType = 'bool' | 'uint8' | 'int8' | 'int32' | 'int64' | 'float16' | 'bfloat16' | 'float32' | 'float64';
/** What `await t.data()` resolves to for each dtype (float16/bfloat16 widen to Float32Array). */
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
export type Shape = number[] | Uint32Array;
/** One dim or several (negative dims count from the end); undefined reduces over all. */
export type Dims = number | number[];
export type Operand = Tensor | number | boolean;
export type NestedArray = number | boolean | bigint | NestedArray[];
export type TensorData = NestedArray | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint8ClampedArray | Int8Array;
export type Backend = 'wasm' | 'webgpu';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}
export interface TensorOptions extends CreateOptions {
  shape?: Shape;
}
export interface KeepDim {
  keepdim?: boolean;
}

/** An n-dimensional array in wasm memory. Readback is async: `await t.data()`. */
export class Tensor {
  private constructor();
  /** The handle id; throws once the tensor was released. */
  readonly id: number;
  readonly shape: number[];
  readonly dtype: DType;
  readonly ndim: number;
  readonly rank: number;
  readonly size: number;
  readonly backend: Backend;
  readonly isReleased: boolean;
  numel(): number;
  dim(): number;

  /** Frees the handle now. */
  free(): void;
  dispose(): void;
  /** Exempts the tensor from lt.tidy and from the per-step scope of optimizer.step(). */
  keep(): this;

  requiresGrad: boolean;
  requiresGrad_(on?: boolean): this;
  readonly isLeaf: boolean;
  /** The accumulated gradient (a new handle each read), or null. */
  grad: Tensor | null;
  backward(gradient?: Tensor, opts?: { retainGraph?: boolean }): void;
  detach(): Tensor;

  data(): Promise<TypedData>;
  item(): Promise<number | boolean>;
  array(): Promise<any>;
  toString(): string;
  print(): void;

  add(o: Operand): Tensor;
  sub(o: Operand): Tensor;
  rsub(o: Operand): Tensor;
  mul(o: Operand): Tensor;
  div(o: Operand): Tensor;
  rdiv(o: Operand): Tensor;
  pow(o: Operand): Tensor;
  remainder(o: Operand): Tensor;
  floorDivide(o: Operand): Tensor;
  maximum(o: Operand): Tensor;
  minimum(o: Operand): Tensor;
  eq(o: Operand): Tensor;
  ne(o: Operand): Tensor;
  lt(o: Operand): Tensor;
  le(o: Operand): Tensor;
  gt(o: Operand): Tensor;
  ge(o: Operand): Tensor;
  logicalAnd(o: Operand): Tensor;
  logicalOr(o: Operand): Tensor;
  logicalXor(o: Operand): Tensor;
  bitwiseAnd(o: Operand): Tensor;
  bitwiseOr(o: Operand): Tensor;
  bitwiseXor(o: Operand): Tensor;

  neg(): Tensor;
  abs(): Tensor;
  sign(): Tensor;
  reciprocal(): Tensor;
  sqrt(): Tensor;
  rsqrt(): Tensor;
  square(): Tensor;
  exp(): Tensor;
  exp2(): Tensor;
  expm1(): Tensor;
  log(): Tensor;
  log2(): Tensor;
  log1p(): Tensor;
  sin(): Tensor;
  cos(): Tensor;
  tanh(): Tensor;
  erf(): Tensor;
  floor(): Tensor;
  ceil(): Tensor;
  round(): Tensor;
  trunc(): Tensor;
  logicalNot(): Tensor;
  sigmoid(): Tensor;
  relu(): Tensor;
  silu(): Tensor;
  gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor;
  leakyRelu(negativeSlope?: number): Tensor;
  softplus(opts?: { beta?: number; threshold?: number }): Tensor;
  clamp(min?: number | null, max?: number | null): Tensor;
  clip(min?: number | null, max?: number | null): Tensor;
  contiguous(): Tensor;
  clone(): Tensor;
  zerosLike(): Tensor;
  onesLike(): Tensor;
  fullLike(value: number): Tensor;
  bernoulli(): Tensor;
  /** A copy in another dtype, or on another backend ('wasm', 'webgpu'). */
  to(target: DType | Backend): Tensor;
  float(): Tensor;
  double(): Tensor;
  int(): Tensor;
  long(): Tensor;
  bool(): Tensor;

  sum(dim?: Dims, opts?: KeepDim): Tensor;
  mean(dim?: Dims, opts?: KeepDim): Tensor;
  prod(dim?: Dims, opts?: KeepDim): Tensor;
  amax(dim?: Dims, opts?: KeepDim): Tensor;
  amin(dim?: Dims, opts?: KeepDim): Tensor;
  logsumexp(dim?: Dims, opts?: KeepDim): Tensor;
  var(dim?: Dims, opts?: KeepDim & { correction?: number }): Tensor;
  std(dim?: Dims, opts?: KeepDim & { correction?: number }): Tensor;
  norm(ord?: number, dim?: Dims, opts?: KeepDim): Tensor;
  argmax(dim?: number, opts?: KeepDim): Tensor;
  argmin(dim?: number, opts?: KeepDim): Tensor;
  /** The 0-dim maximum; with a dim, [values, indices]; with a tensor, the elementwise maximum. */
  max(): Tensor;
  max(dim: number, opts?: KeepDim): [Tensor, Tensor];
  max(other: Tensor): Tensor;
  min(): Tensor;
  min(dim: number, opts?: KeepDim): [Tensor, Tensor];
  min(other: Tensor): Tensor;
  cumsum(dim: number): Tensor;
  cumprod(dim: number): Tensor;
  softmax(dim: number): Tensor;
  logSoftmax(dim: number): Tensor;

  reshape(...shape: number[] | [number[]]): Tensor;
  view(...shape: number[] | [number[]]): Tensor;
  permute(...dims: number[] | [number[]]): Tensor;
  expand(...shape: number[] | [number[]]): Tensor;
  broadcastTo(shape: number[]): Tensor;
  /** F.pad, constant mode: [left, right, top, bottom, ...] from the last dim inward. */
  pad(pad: number[], opts?: { value?: number }): Tensor;
  transpose(dim0: number, dim1: number): Tensor;
  t(): Tensor;
  readonly T: Tensor;
  flatten(startDim?: number, endDim?: number): Tensor;
  unflatten(dim: number, sizes: number[]): Tensor;
  select(dim: number, index: number): Tensor;
  narrow(dim: number, start: number, length: number): Tensor;
  /** Python slicing t[start:end:step] along dim. */
  slice(dim: number, start?: number, end?: number, step?: number): Tensor;
  squeeze(dim?: number): Tensor;
  unsqueeze(dim: number): Tensor;
  split(size: number, dim?: number): Tensor[];
  chunk(chunks: number, dim?: number): Tensor[];

  matmul(o: Tensor): Tensor;
  mm(o: Tensor): Tensor;
  gather(dim: number, index: Tensor): Tensor;
  indexSelect(dim: number, index: Tensor): Tensor;
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
  maskedFill(mask: Tensor, value: number): Tensor;
  where(cond: Tensor, other: Tensor | number): Tensor;

  add_(o: Operand): this;
  sub_(o: Operand): this;
  mul_(o: Operand): this;
  div_(o: Operand): this;
  copy_(src: Tensor): this;
  fill_(value: number): this;
  zero_(): this;
}

export function tensor(data: TensorData | Tensor, opts?: TensorOptions): Tensor;
export function zeros(shape: Shape, opts?: CreateOptions): Tensor;
export function zeros(...dims: number[]): Tensor;
export function ones(shape: Shape, opts?: CreateOptions): Tensor;
export function ones(...dims: number[]): Tensor;
export function full(shape: Shape, value: number | boolean, opts?: CreateOptions): Tensor;
export function rand(shape: Shape, opts?: CreateOptions): Tensor;
export function rand(...dims: number[]): Tensor;
export function randn(shape: Shape, opts?: CreateOptions): Tensor;
export function randn(...dims: number[]): Tensor;
export function randint(low: number, high: number, shape: Shape): Tensor;
export function arange(end: number, opts?: { dtype?: DType }): Tensor;
export function arange(start: number, end: number, step?: number, opts?: { dtype?: DType }): Tensor;
export function linspace(start: number, end: number, steps: number, opts?: { dtype?: DType }): Tensor;
export function eye(n: number, m?: number, opts?: { dtype?: DType }): Tensor;
export function zerosLike(t: Tensor): Tensor;
export function onesLike(t: Tensor): Tensor;
export function fullLike(t: Tensor, value: number): Tensor;
export function randLike(t: Tensor): Tensor;
export function randnLike(t: Tensor): Tensor;
/** Seeds the generator (Philox 4x32-10: the same numbers on every backend). */
export function manualSeed(seed: number): void;

export function cat(tensors: Tensor[], dim?: number): Tensor;
export function concat(tensors: Tensor[], dim?: number): Tensor;
export function stack(tensors: Tensor[], dim?: number): Tensor;
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor;
/** torch.autograd.grad: null where no gradient flows. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts?: { retainGraph?: boolean; createGraph?: boolean }): (Tensor | null)[];

type Bin = (a: Tensor, b: Operand) => Tensor;
type Un = (a: Tensor) => Tensor;
export const add: Bin, sub: Bin, mul: Bin, div: Bin, pow: Bin, remainder: Bin, maximum: Bin, minimum: Bin;
export const eq: Bin, ne: Bin, lt: Bin, le: Bin, gt: Bin, ge: Bin;
export function matmul(a: Tensor, b: Tensor): Tensor;
export const neg: Un, abs: Un, sqrt: Un, exp: Un, log: Un, sin: Un, cos: Un, tanh: Un, sigmoid: Un, relu: Un;
export const floor: Un, ceil: Un, round: Un, erf: Un, sign: Un, square: Un, rsqrt: Un, expm1: Un, log1p: Un;
export function sum(t: Tensor, dim?: Dims, opts?: KeepDim): Tensor;
export function mean(t: Tensor, dim?: Dims, opts?: KeepDim): Tensor;
export function prod(t: Tensor, dim?: Dims, opts?: KeepDim): Tensor;
export function amax(t: Tensor, dim?: Dims, opts?: KeepDim): Tensor;
export function amin(t: Tensor, dim?: Dims, opts?: KeepDim): Tensor;
export function logsumexp(t: Tensor, dim?: Dims, opts?: KeepDim): Tensor;
export function norm(t: Tensor, ord?: number, dim?: Dims, opts?: KeepDim): Tensor;
export function argmax(t: Tensor, dim?: number, opts?: KeepDim): Tensor;
export function argmin(t: Tensor, dim?: number, opts?: KeepDim): Tensor;
export function max(t: Tensor, dim?: number | Tensor, opts?: KeepDim): any;
export function min(t: Tensor, dim?: number | Tensor, opts?: KeepDim): any;
export function softmax(t: Tensor, dim: number): Tensor;
export function logSoftmax(t: Tensor, dim: number): Tensor;
export function cumsum(t: Tensor, dim: number): Tensor;
export function reshape(t: Tensor, shape: number[]): Tensor;
export function transpose(t: Tensor, dim0: number, dim1: number): Tensor;
export function permute(t: Tensor, dims: number[]): Tensor;
export function flatten(t: Tensor, startDim?: number, endDim?: number): Tensor;
export function squeeze(t: Tensor, dim?: number): Tensor;
export function unsqueeze(t: Tensor, dim: number): Tensor;
export function narrow(t: Tensor, dim: number, start: number, length: number): Tensor;
export function clamp(t: Tensor, min?: number | null, max?: number | null): Tensor;
export function gather(t: Tensor, dim: number, index: Tensor): Tensor;
export function indexSelect(t: Tensor, dim: number, index: Tensor): Tensor;

/** Runs fn and frees every tensor it made except those in its (synchronous) result. */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
/** Runs fn without recording the autograd graph. */
export function noGrad<T>(fn: () => T): T;
export function setGradEnabled(on: boolean): boolean;
export function isGradEnabled(): boolean;

export interface BackendMemory {
  numBytes: number;
  peakBytes: number;
  reservedBytes: number;
  allocations: number;
  numTensors: number;
}
/** Bytes and tensor handles alive, in total and per backend. */
export function memory(): { numBytes: number; numTensors: number; peakBytes: number; backends: Record<string, BackendMemory> };

export type StateDict = Record<string, Tensor>;
/** A model's state (or a {name: Tensor} object) as safetensors bytes. */
export function save(modelOrState: Module | StateDict | Map<string, Tensor>): Uint8Array;
/** Parses safetensors bytes (from lt.save or PyTorch's safetensors.torch.save). */
export function load(bytes: Uint8Array | ArrayBuffer): StateDict;
/**
 * Makes `name` the backend new tensors, layers and loaded state go to. 'webgpu' needs a build
 * with the WebGPU driver (`wasm/build.sh --webgpu`) and navigator.gpu; otherwise it throws an
 * Error saying which is missing. Tensors of different backends do not mix: use t.to().
 */
export function setBackend(name: Backend): Promise<boolean>;
export function getBackend(): Backend;
export const version: string;

// ------------------------------------------------------------------------------ nn

/** Base class of layers and models: set child modules and nn.Parameter tensors as fields. */
export class Module {
  training: boolean;
  forward(...args: any[]): any;
  /** PyTorch's module(x). */
  call(...args: any[]): any;
  registerParameter(name: string, t: Tensor): void;
  registerBuffer(name: string, t: Tensor): void;
  namedChildren(): IterableIterator<[string, Module]>;
  children(): Module[];
  namedParameters(): [string, Tensor][];
  parameters(): Tensor[];
  namedBuffers(): [string, Tensor][];
  stateDict(): StateDict;
  /** Strict: missing or unexpected keys, or other shapes or dtypes, throw. */
  loadStateDict(state: StateDict | Map<string, Tensor>): this;
  train(mode?: boolean): this;
  eval(): this;
  zeroGrad(): void;
}
type Pair = number | [number, number];
declare class Layer extends Module {
  forward(x: Tensor): Tensor;
}
declare class Linear extends Layer {
  constructor(inFeatures: number, outFeatures: number, opts?: { bias?: boolean });
  readonly weight: Tensor;
  readonly bias?: Tensor;
}
declare class Conv2d extends Layer {
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts?: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; bias?: boolean });
  readonly weight: Tensor;
  readonly bias?: Tensor;
}
declare class LayerNorm extends Layer {
  constructor(normalizedShape: number | number[], opts?: { eps?: number; elementwiseAffine?: boolean; bias?: boolean });
}
interface BatchNormOptions {
  eps?: number;
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}
declare class BatchNorm1d extends Layer {
  constructor(numFeatures: number, opts?: BatchNormOptions);
}
declare class BatchNorm2d extends Layer {
  constructor(numFeatures: number, opts?: BatchNormOptions);
}
declare class GroupNorm extends Layer {
  constructor(numGroups: number, numChannels: number, opts?: { eps?: number; affine?: boolean });
}
declare class Embedding extends Layer {
  constructor(numEmbeddings: number, embeddingDim: number, opts?: { paddingIdx?: number });
  readonly weight: Tensor;
}
interface RnnOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  bidirectional?: boolean;
}
declare class LSTM extends Layer {
  constructor(inputSize: number, hiddenSize: number, opts?: RnnOptions);
}
declare class GRU extends Layer {
  constructor(inputSize: number, hiddenSize: number, opts?: RnnOptions);
}
declare class MultiheadAttention extends Layer {
  constructor(embedDim: number, numHeads: number, opts?: { dropout?: number; bias?: boolean; batchFirst?: boolean });
}
declare class TransformerEncoderLayer extends Layer {
  constructor(dModel: number, nhead: number);
}
declare class Sequential extends Layer {
  constructor(...layers: Module[]);
  append(m: Module): this;
  readonly length: number;
}
declare class ModuleList extends Sequential implements Iterable<Module> {
  [Symbol.iterator](): Iterator<Module>;
}
declare class ReLU extends Layer {}
declare class Sigmoid extends Layer {}
declare class Tanh extends Layer {}
declare class SiLU extends Layer {}
declare class Identity extends Layer {}
declare class GELU extends Layer {
  constructor(opts?: { approximate?: 'none' | 'tanh' });
}
declare class LeakyReLU extends Layer {
  constructor(negativeSlope?: number);
}
declare class Softplus extends Layer {
  constructor(opts?: { beta?: number; threshold?: number });
}
declare class Softmax extends Layer {
  constructor(dim?: number);
}
declare class LogSoftmax extends Layer {
  constructor(dim?: number);
}
declare class Flatten extends Layer {
  constructor(startDim?: number, endDim?: number);
}
declare class Dropout extends Layer {
  constructor(p?: number);
}
declare class MaxPool2d extends Layer {
  constructor(kernelSize: Pair, opts?: { stride?: Pair; padding?: Pair });
}
declare class AvgPool2d extends Layer {
  constructor(kernelSize: Pair, opts?: { stride?: Pair; padding?: Pair });
}
declare class AdaptiveAvgPool2d extends Layer {
  constructor(outputSize: Pair);
}
export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions {
  reduction?: Reduction;
  /** Class weights (cross entropy, NLL) or element weights (BCE). */
  weight?: Tensor;
  ignoreIndex?: number;
  labelSmoothing?: number;
  posWeight?: Tensor;
  beta?: number;
  delta?: number;
  logTarget?: boolean;
}
type LossFn = (input: Tensor, target: Tensor, opts?: LossOptions) => Tensor;
declare class Loss extends Module {
  constructor(opts?: LossOptions);
  forward(input: Tensor, target: Tensor): Tensor;
}

export namespace nn {
  export { Module, Linear, Conv2d, LayerNorm, BatchNorm1d, BatchNorm2d, GroupNorm, Embedding, LSTM, GRU };
  export { MultiheadAttention, TransformerEncoderLayer, Sequential, ModuleList, ReLU, Sigmoid, Tanh, SiLU };
  export { Identity, GELU, LeakyReLU, Softplus, Softmax, LogSoftmax, Flatten, Dropout, MaxPool2d, AvgPool2d };
  export { AdaptiveAvgPool2d };
  /** Marks a tensor as a parameter (requires grad, kept across steps); returns it. */
  export function Parameter(t: Tensor): Tensor;
  export class CrossEntropyLoss extends Loss {}
  export class NLLLoss extends Loss {}
  export class MSELoss extends Loss {}
  export class L1Loss extends Loss {}
  export class SmoothL1Loss extends Loss {}
  export class HuberLoss extends Loss {}
  export class BCELoss extends Loss {}
  export class BCEWithLogitsLoss extends Loss {}
  export class KLDivLoss extends Loss {}
  export namespace functional {
    export function relu(x: Tensor): Tensor;
    export function sigmoid(x: Tensor): Tensor;
    export function tanh(x: Tensor): Tensor;
    export function silu(x: Tensor): Tensor;
    export function gelu(x: Tensor, opts?: { approximate?: 'none' | 'tanh' }): Tensor;
    export function leakyRelu(x: Tensor, negativeSlope?: number): Tensor;
    export function softplus(x: Tensor, opts?: { beta?: number; threshold?: number }): Tensor;
    export function softmax(x: Tensor, dim: number): Tensor;
    export function logSoftmax(x: Tensor, dim: number): Tensor;
    export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor;
    export function dropout(x: Tensor, opts?: { p?: number; training?: boolean }): Tensor;
    export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }): Tensor;
    export function maxPool2d(x: Tensor, kernelSize: Pair, opts?: { stride?: Pair; padding?: Pair }): Tensor;
    export function avgPool2d(x: Tensor, kernelSize: Pair, opts?: { stride?: Pair; padding?: Pair }): Tensor;
    export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor;
    export function layerNorm(x: Tensor, normalizedShape: number[], opts?: { weight?: Tensor; bias?: Tensor; eps?: number }): Tensor;
    export function embedding(input: Tensor, weight: Tensor): Tensor;
    export function oneHot(t: Tensor, numClasses?: number): Tensor;
    export function pad(x: Tensor, pad: number[], opts?: { value?: number }): Tensor;
    export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: { attnMask?: Tensor; dropoutP?: number; isCausal?: boolean }): Tensor;
    export const crossEntropy: LossFn, nllLoss: LossFn, mseLoss: LossFn, l1Loss: LossFn, smoothL1Loss: LossFn;
    export const huberLoss: LossFn, binaryCrossEntropy: LossFn, binaryCrossEntropyWithLogits: LossFn, klDiv: LossFn;
  }
  export namespace utils {
    /** Rescales gradients to a total norm of at most maxNorm; returns the norm before. */
    export function clipGradNorm(parameters: Tensor[], maxNorm: number, normType?: number): Tensor;
    export function clipGradValue(parameters: Tensor[], clipValue: number): void;
  }
}
export const functional: typeof nn.functional;

// ------------------------------------------------------------------------------ optim

declare class Optimizer {
  readonly params: Tensor[];
  lr: number;
  /** One update; also ends the implicit per-step memory scope. */
  step(): void;
  zeroGrad(): void;
  stateDict(): StateDict;
  loadStateDict(state: StateDict): void;
}
type Params = Iterable<Tensor> | Module;
declare class LRScheduler {
  readonly optimizer: Optimizer;
  readonly lastEpoch: number;
  step(): void;
  getLastLr(): number[];
}
export namespace optim {
  export { Optimizer };
  export class SGD extends Optimizer {
    constructor(params: Params, opts?: { lr?: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean });
  }
  interface AdamOptions {
    lr?: number;
    betas?: [number, number];
    eps?: number;
    weightDecay?: number;
    amsgrad?: boolean;
  }
  export class Adam extends Optimizer {
    constructor(params: Params, opts?: AdamOptions);
  }
  export class AdamW extends Optimizer {
    constructor(params: Params, opts?: AdamOptions);
  }
  export class RMSprop extends Optimizer {
    constructor(params: Params, opts?: { lr?: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean });
  }
  export class Adagrad extends Optimizer {
    constructor(params: Params, opts?: { lr?: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number });
  }
  export namespace lrScheduler {
    export class StepLR extends LRScheduler {
      constructor(opt: Optimizer, opts: { stepSize: number; gamma?: number });
    }
    export class MultiStepLR extends LRScheduler {
      constructor(opt: Optimizer, opts: { milestones: number[]; gamma?: number });
    }
    export class ExponentialLR extends LRScheduler {
      constructor(opt: Optimizer, opts: { gamma: number });
    }
    export class CosineAnnealingLR extends LRScheduler {
      constructor(opt: Optimizer, opts: { TMax: number; etaMin?: number });
    }
    export class LinearLR extends LRScheduler {
      constructor(opt: Optimizer, opts?: { startFactor?: number; endFactor?: number; totalIters?: number });
    }
    export class OneCycleLR extends LRScheduler {
      constructor(opt: Optimizer, opts: { maxLr: number; totalSteps: number; pctStart?: number; annealStrategy?: 'cos' | 'linear'; cycleMomentum?: boolean; baseMomentum?: number; maxMomentum?: number; divFactor?: number; finalDivFactor?: number; threePhase?: boolean });
    }
  }
}

// ------------------------------------------------------------------------------ data

export namespace data {
  export interface Dataset {
    readonly length: number;
    getBatch(indices: ArrayLike<number>): Tensor[];
  }
  /** Rows (dim 0) of tensors of equal length; its tensors are kept. */
  export class TensorDataset implements Dataset {
    constructor(...tensors: Tensor[]);
    readonly tensors: Tensor[];
    readonly length: number;
    getBatch(indices: ArrayLike<number>): Tensor[];
  }
  /** Batches of a dataset, shuffled with a seeded permutation per epoch. */
  export class DataLoader implements Iterable<Tensor[]> {
    constructor(dataset: Dataset, opts?: { batchSize?: number; shuffle?: boolean; dropLast?: boolean; seed?: number });
    readonly length: number;
    batchSize: number;
    shuffle: boolean;
    dropLast: boolean;
    seed: number;
    epoch: number;
    [Symbol.iterator](): Iterator<Tensor[]>;
  }
}

declare const lantern: typeof import('./index.js');
export default lantern;
