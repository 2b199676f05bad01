// No input reachable from JS traps the wasm instance: every method and function is called
// with hostile arguments; each call must return or throw an ordinary Error (never a
// WebAssembly.RuntimeError), and the module must still compute correctly afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import lt from '../pkg/node.js';

const WEIRD = [undefined, null, -1, 0, 1, 2.5, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 53, 'x', true, [], [-1], [2 ** 20, 2 ** 20], [0, 0], {}, [1, 2, 3, 4, 5, 6, 7]];

function expectNoTrap(what, fn) {
  try {
    const r = fn();
    if (r && typeof r.then === 'function') r.catch(() => {});
  } catch (e) {
    assert.ok(!(e instanceof WebAssembly.RuntimeError), `${what} trapped: ${e.message}`);
    assert.ok(e instanceof Error, `${what} threw a non-Error: ${e}`);
  }
}

test('hostile arguments to every Tensor method throw ordinary errors and never trap', async () => {
  const P = lt.Tensor.prototype;
  const proto = Object.getOwnPropertyNames(P).filter((m) => typeof Object.getOwnPropertyDescriptor(P, m).value === 'function' && !['constructor', 'free', 'dispose', 'print'].includes(m));
  const subjects = () => [lt.ones([2, 3]), lt.zeros([0, 4]), lt.tensor(3), lt.arange(6).reshape(2, 3), lt.tensor([true, false]), lt.ones([2, 1, 3], { dtype: 'float64' })];
  let calls = 0;
  for (const m of proto) {
    for (const t of subjects()) {
      for (const a of WEIRD) {
        lt.tidy(() => {
          expectNoTrap(`${m}(${String(a)})`, () => t[m](a));
          expectNoTrap(`${m}(${String(a)}, ${String(a)})`, () => t[m](a, a));
          expectNoTrap(`${m}(t, ${String(a)})`, () => t[m](lt.ones([3]), a));
        });
        calls += 3;
      }
    }
  }
  assert.ok(calls > 1000);
  assert.deepEqual(Array.from(await lt.ones([2, 2]).matmul(lt.ones([2, 2])).data()), [2, 2, 2, 2]);
});

test('hostile arguments to creation functions, layers, losses and io never trap', async () => {
  const fns = {
    tensor: lt.tensor, zeros: lt.zeros, ones: lt.ones, full: lt.full, rand: lt.rand, randn: lt.randn, randint: lt.randint,
    arange: lt.arange, linspace: lt.linspace, eye: lt.eye, manualSeed: lt.manualSeed, cat: lt.cat, stack: lt.stack,
    load: lt.load, save: lt.save,
  };
  for (const [name, f] of Object.entries(fns)) {
    for (const a of WEIRD) {
      for (const b of WEIRD.slice(0, 12)) lt.tidy(() => expectNoTrap(`${name}(${String(a)}, ${String(b)})`, () => f(a, b, b)));
    }
  }
  const layers = ['Linear', 'Conv2d', 'LayerNorm', 'BatchNorm1d', 'BatchNorm2d', 'GroupNorm', 'Embedding', 'LSTM', 'GRU', 'MultiheadAttention', 'TransformerEncoderLayer', 'MaxPool2d', 'AvgPool2d', 'AdaptiveAvgPool2d', 'Dropout', 'Flatten'];
  const inputs = () => [lt.ones([2, 3]), lt.ones([1, 1, 4, 4]), lt.tensor([0, 1, 7], { dtype: 'int64' }), lt.zeros([0])];
  for (const L of layers) {
    for (const a of [0, 1, 3, 4, 2.5, -1, 2 ** 31, NaN]) {
      lt.tidy(() => {
        let m;
        expectNoTrap(`new ${L}(${a}, ${a})`, () => { m = new lt.nn[L](a, a, a); });
        if (m) for (const x of inputs()) expectNoTrap(`${L}(${a}).forward`, () => m.forward(x));
      });
    }
  }
  const F = lt.nn.functional;
  for (const name of ['crossEntropy', 'nllLoss', 'mseLoss', 'l1Loss', 'smoothL1Loss', 'huberLoss', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'klDiv']) {
    for (const [x, y] of [[[2, 3], [2]], [[2, 3], [2, 3]], [[0, 3], [0]], [[3], [1]]]) {
      for (const dt of ['int64', 'float32', 'bool']) {
        lt.tidy(() => expectNoTrap(`${name}`, () => F[name](lt.randn(x), lt.ones(y, { dtype: dt }).mul(5), { reduction: 'sum', labelSmoothing: 2, beta: -1, delta: 0 })));
      }
    }
  }
  for (const bytes of [new Uint8Array(0), new Uint8Array(8), new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]), new TextEncoder().encode('\u0010\0\0\0\0\0\0\0{"a":{"dtype":"F32","shape":[4294967295,4294967295],"data_offsets":[0,4]}}')]) {
    expectNoTrap('load', () => lt.load(bytes));
  }
  assert.deepEqual(Array.from(await lt.arange(3).add(1).data(), Number), [1, 2, 3]);
});
