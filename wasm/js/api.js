// The public surface of lantern-ml: tensor functions at the top level, and PyTorch's
// namespaces (nn, nn.functional, optim, optim.lrScheduler, data).
import * as L from './lantern.js';

export {
  Tensor, tensor, zeros, ones, full, rand, randn, randint, arange, linspace, eye, zerosLike, onesLike, fullLike,
  randLike, randnLike, manualSeed, cat, concat, stack, where, grad, tidy, noGrad, setGradEnabled, isGradEnabled,
  memory, save, load, setBackend, getBackend, version, add, sub, mul, div, pow, remainder, maximum, minimum, eq, ne,
  lt, le, gt, ge, matmul, neg, abs, sqrt, exp, log, sin, cos, tanh, sigmoid, relu, sum, mean, amax, amin, argmax,
  argmin, max, min, softmax, logSoftmax, reshape, transpose, permute, flatten, squeeze, unsqueeze, clamp, gather,
  indexSelect, cumsum, prod, norm, logsumexp, floor, ceil, round, erf, sign, square, rsqrt, expm1, log1p, narrow,
} from './lantern.js';

/** torch.nn.functional */
export const functional = Object.freeze({
  relu: (x) => x.relu(), sigmoid: (x) => x.sigmoid(), tanh: (x) => x.tanh(), silu: (x) => x.silu(),
  gelu: (x, o) => x.gelu(o), leakyRelu: (x, s) => x.leakyRelu(s), softplus: (x, o) => x.softplus(o),
  softmax: (x, dim) => x.softmax(dim), logSoftmax: (x, dim) => x.logSoftmax(dim),
  linear: L.linear, dropout: L.dropout, conv2d: L.conv2d, maxPool2d: L.maxPool2d, avgPool2d: L.avgPool2d,
  adaptiveAvgPool2d: L.adaptiveAvgPool2d, layerNorm: L.layerNorm, embedding: L.embedding, oneHot: L.oneHot,
  pad: L.pad, scaledDotProductAttention: L.scaledDotProductAttention, crossEntropy: L.crossEntropy,
  nllLoss: L.nllLoss, mseLoss: L.mseLoss, l1Loss: L.l1Loss, smoothL1Loss: L.smoothL1Loss, huberLoss: L.huberLoss,
  binaryCrossEntropy: L.binaryCrossEntropy, binaryCrossEntropyWithLogits: L.binaryCrossEntropyWithLogits,
  klDiv: L.klDiv,
});

/** torch.nn */
export const nn = Object.freeze({
  Module: L.Module, Parameter: L.Parameter, Sequential: L.Sequential, ModuleList: L.ModuleList,
  Linear: L.Linear, Conv2d: L.Conv2d, LayerNorm: L.LayerNorm, BatchNorm1d: L.BatchNorm1d, BatchNorm2d: L.BatchNorm2d,
  GroupNorm: L.GroupNorm, Embedding: L.Embedding, LSTM: L.LSTM, GRU: L.GRU, MultiheadAttention: L.MultiheadAttention,
  TransformerEncoderLayer: L.TransformerEncoderLayer, ReLU: L.ReLU, Sigmoid: L.Sigmoid, Tanh: L.Tanh, SiLU: L.SiLU,
  GELU: L.GELU, LeakyReLU: L.LeakyReLU, Softplus: L.Softplus, Softmax: L.Softmax, LogSoftmax: L.LogSoftmax,
  Identity: L.Identity, Flatten: L.Flatten, Dropout: L.Dropout, MaxPool2d: L.MaxPool2d, AvgPool2d: L.AvgPool2d,
  AdaptiveAvgPool2d: L.AdaptiveAvgPool2d, CrossEntropyLoss: L.CrossEntropyLoss, NLLLoss: L.NLLLoss,
  MSELoss: L.MSELoss, L1Loss: L.L1Loss, SmoothL1Loss: L.SmoothL1Loss, HuberLoss: L.HuberLoss, BCELoss: L.BCELoss,
  BCEWithLogitsLoss: L.BCEWithLogitsLoss, KLDivLoss: L.KLDivLoss, functional,
  utils: Object.freeze({ clipGradNorm: L.clipGradNorm, clipGradValue: L.clipGradValue }),
});

/** torch.optim */
export const optim = Object.freeze({
  Optimizer: L.Optimizer, SGD: L.SGD, Adam: L.Adam, AdamW: L.AdamW, RMSprop: L.RMSprop, Adagrad: L.Adagrad,
  lrScheduler: Object.freeze({
    StepLR: L.StepLR, MultiStepLR: L.MultiStepLR, ExponentialLR: L.ExponentialLR,
    CosineAnnealingLR: L.CosineAnnealingLR, LinearLR: L.LinearLR, OneCycleLR: L.OneCycleLR,
  }),
});

/** torch.utils.data */
export const data = Object.freeze({ TensorDataset: L.TensorDataset, DataLoader: L.DataLoader });
