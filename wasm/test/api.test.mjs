// The JS API: creation, views, autograd, nn modules and state dicts, optimizers and
// schedulers, data loading, save/load (a PyTorch-written file included), lifetimes, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import lt from '../pkg/node.js';

const arr = async (t) => Array.from(await t.data(), Number);
const near = (got, want, tol = 1e-5) => want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tol, `[${i}] ${got[i]} vs ${w}`));

test('creation from arrays, typed arrays and constructors', async () => {
  const a = lt.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, 'float32');
  assert.deepEqual(await a.array(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(lt.tensor(new Int32Array([1, 2])).dtype, 'int32');
  assert.equal(lt.tensor(new BigInt64Array([1n, 2n])).dtype, 'int64');
  assert.equal(lt.tensor([true, false]).dtype, 'bool');
  assert.equal(lt.tensor(3.5).ndim, 0);
  const b = lt.tensor(new Float32Array(6).fill(2), { shape: [3, 2], dtype: 'float64' });
  assert.deepEqual([b.shape, b.dtype], [[3, 2], 'float64']);
  assert.deepEqual(await arr(lt.zeros([2, 2])), [0, 0, 0, 0]);
  assert.deepEqual(await arr(lt.ones(2, 3).sum()), [6]);
  assert.deepEqual(await arr(lt.full([2], 7, { dtype: 'int32' })), [7, 7]);
  assert.deepEqual(await arr(lt.arange(5)), [0, 1, 2, 3, 4]);
  assert.equal(lt.arange(5).dtype, 'int64');
  assert.deepEqual(await arr(lt.arange(0, 1, 0.25)), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(await arr(lt.linspace(0, 1, 3)), [0, 0.5, 1]);
  assert.deepEqual(await arr(lt.eye(2)), [1, 0, 0, 1]);
  lt.manualSeed(42);
  const r1 = await arr(lt.randn([4]));
  lt.manualSeed(42);
  assert.deepEqual(await arr(lt.randn([4])), r1);
  const u = await arr(lt.rand([1000]));
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const ri = await arr(lt.randint(3, 6, [100]));
  assert.ok(ri.every((v) => v >= 3 && v < 6 && Number.isInteger(v)));
  assert.equal(await lt.tensor([[2.5]]).item(), 2.5);
});

test('ops, broadcasting, views and reductions', async () => {
  const a = lt.arange(6, { dtype: 'float32' }).reshape(2, 3);
  assert.deepEqual(await arr(a.add(lt.tensor([10, 20, 30]))), [10, 21, 32, 13, 24, 35]);
  assert.deepEqual(await arr(a.mul(2).sub(1)), [-1, 1, 3, 5, 7, 9]);
  assert.deepEqual(await arr(a.rsub(1)), [1, 0, -1, -2, -3, -4]);
  assert.deepEqual(await arr(a.t()), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(await arr(a.permute(1, 0).contiguous().reshape(-1)), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(await arr(a.slice(1, 1)), [1, 2, 4, 5]);
  assert.deepEqual(await arr(a.narrow(0, 1, 1)), [3, 4, 5]);
  assert.deepEqual(await arr(a.select(1, -1)), [2, 5]);
  assert.deepEqual(a.unsqueeze(0).shape, [1, 2, 3]);
  assert.deepEqual(a.unsqueeze(0).squeeze().shape, [2, 3]);
  assert.deepEqual(await arr(lt.cat([a, a], 0).sum(0)), [6, 10, 14]);
  assert.deepEqual(lt.stack([a, a]).shape, [2, 2, 3]);
  assert.deepEqual(await arr(a.sum(1)), [3, 12]);
  assert.deepEqual(await arr(a.mean(0, { keepdim: true })), [1.5, 2.5, 3.5]);
  const [v, i] = a.max(1);
  assert.deepEqual([await arr(v), await arr(i)], [[2, 5], [2, 2]]);
  assert.deepEqual(await arr(a.argmax()), [5]);
  assert.deepEqual(await arr(a.matmul(a.t())), [5, 14, 14, 50]);
  near(await arr(lt.tensor([0, Math.log(3)]).softmax(0)), [0.25, 0.75]);
  assert.deepEqual(await arr(lt.where(a.gt(2), a, 0)), [0, 0, 0, 3, 4, 5]);
  assert.deepEqual(await arr(a.clamp(1, 4)), [1, 1, 2, 3, 4, 4]);
  assert.equal(lt.arange(4).mul(2).dtype, 'int64');
  assert.equal(lt.arange(4).mul(0.5).dtype, 'float32');
  assert.equal(a.gt(1).dtype, 'bool');
  assert.deepEqual(Array.from(await a.gt(1).data()), [0, 0, 1, 1, 1, 1]);
  assert.deepEqual(a.split(1, 0).map((t) => t.shape), [[1, 3], [1, 3]]);
  const c = lt.zeros([3]);
  c.add_(lt.ones([3])).mul_(3);
  assert.deepEqual(await arr(c), [3, 3, 3]);
  assert.match(a.toString(), /tensor\(\[\[0\., 1\., 2\.\]/);
});

test('autograd: backward, grad, noGrad, autograd.grad', async () => {
  const x = lt.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward();
  assert.deepEqual(await arr(x.grad), [2, 4, 6]);
  assert.equal(x.isLeaf, true);
  assert.equal(y.requiresGrad, true);
  const z = lt.noGrad(() => x.mul(2));
  assert.equal(z.requiresGrad, false);
  assert.equal(lt.isGradEnabled(), true);
  const [g] = lt.grad(x.exp().sum(), [x]);
  near(await arr(g), [Math.E, Math.E ** 2, Math.E ** 3], 1e-4);
  x.grad = null;
  assert.equal(x.grad, null);
  assert.throws(() => lt.tensor([1, 2], { dtype: 'int64' }).requiresGrad_(), /floating point/);
});

test('nn: modules, PyTorch state-dict names, train/eval, save and load', async () => {
  lt.manualSeed(0);
  const model = new lt.nn.Sequential(new lt.nn.Linear(4, 8), new lt.nn.ReLU(), new lt.nn.BatchNorm1d(8), new lt.nn.Linear(8, 3));
  assert.deepEqual(Object.keys(model.stateDict()), ['0.weight', '0.bias', '2.weight', '2.bias', '3.weight', '3.bias', '2.running_mean', '2.running_var', '2.num_batches_tracked']);
  assert.equal(model.parameters().length, 6);
  assert.deepEqual(model['0'].weight.shape, [8, 4]);
  model.eval();
  assert.equal(model['2'].training, false);
  const x = lt.randn([5, 4]);
  const y = await arr(model.forward(x));
  const bytes = lt.save(model);
  assert.ok(bytes instanceof Uint8Array && bytes.length > 100);
  lt.manualSeed(1);
  const other = new lt.nn.Sequential(new lt.nn.Linear(4, 8), new lt.nn.ReLU(), new lt.nn.BatchNorm1d(8), new lt.nn.Linear(8, 3)).eval();
  assert.notDeepEqual(await arr(other.forward(x)), y);
  other.loadStateDict(lt.load(bytes));
  assert.deepEqual(await arr(other.forward(x)), y);
  assert.throws(() => other.loadStateDict({ '0.weight': lt.zeros([8, 4]) }), /missing keys/);
  // Custom modules: fields that are modules or nn.Parameter tensors are registered.
  class Net extends lt.nn.Module {
    constructor() {
      super();
      this.scale = lt.nn.Parameter(lt.ones([3]));
      this.fc = new lt.nn.Linear(2, 3);
    }
    forward(x) {
      return this.fc.forward(x).mul(this.scale);
    }
  }
  assert.deepEqual(new Net().namedParameters().map(([k]) => k), ['scale', 'fc.weight', 'fc.bias']);
  const conv = new lt.nn.Conv2d(1, 2, 3, { padding: 1 });
  assert.deepEqual(conv.forward(lt.randn([1, 1, 5, 5])).shape, [1, 2, 5, 5]);
  assert.deepEqual(new lt.nn.MaxPool2d(2).forward(lt.randn([1, 2, 4, 4])).shape, [1, 2, 2, 2]);
  assert.deepEqual(new lt.nn.Embedding(10, 4).forward(lt.tensor([1, 2], { dtype: 'int64' })).shape, [2, 4]);
  assert.deepEqual(new lt.nn.LayerNorm([4]).forward(x).shape, [5, 4]);
});

test('a safetensors file written by PyTorch loads into an nn.Sequential and reproduces its output', async () => {
  const sd = lt.load(readFileSync(new URL('../../tests/fixtures/state_dict.safetensors', import.meta.url)));
  const model = new lt.nn.Sequential(new lt.nn.Linear(4, 8), new lt.nn.ReLU(), new lt.nn.Linear(8, 3));
  const { '0.weight': w0, '0.bias': b0, '2.weight': w2, '2.bias': b2 } = sd;
  model.loadStateDict({ '0.weight': w0, '0.bias': b0, '2.weight': w2, '2.bias': b2 });
  near(await arr(model.forward(sd['io.input'])), await arr(sd['io.output']));
  assert.equal(sd['dtypes.i64'].dtype, 'int64');
});

test('optimizers and schedulers', async () => {
  for (const [Opt, opts] of [[lt.optim.SGD, { lr: 0.1, momentum: 0.9 }], [lt.optim.Adam, { lr: 0.1 }], [lt.optim.AdamW, { lr: 0.1 }], [lt.optim.RMSprop, { lr: 0.05 }], [lt.optim.Adagrad, { lr: 0.5 }]]) {
    const w = lt.tensor([3, -2], { requiresGrad: true });
    const opt = new Opt([w], opts);
    for (let i = 0; i < 100; i++) {
      opt.zeroGrad();
      w.square().sum().backward();
      opt.step();
    }
    const v = await arr(w);
    assert.ok(Math.abs(v[0]) < 0.3 && Math.abs(v[1]) < 0.3, `${Opt.name}: ${v}`);
  }
  // SGD: one exact step.
  const p = lt.tensor([1, 2], { requiresGrad: true });
  const sgd = new lt.optim.SGD([p], { lr: 0.5 });
  p.mul(p).sum().backward();
  sgd.step();
  assert.deepEqual(await arr(p), [0, 0]);
  const sched = new lt.optim.lrScheduler.StepLR(sgd, { stepSize: 2, gamma: 0.1 });
  const lrs = [];
  for (let i = 0; i < 4; i++) {
    sched.step();
    lrs.push(sgd.lr);
  }
  near(lrs, [0.5, 0.05, 0.05, 0.005], 1e-12);
  const cos = new lt.optim.lrScheduler.CosineAnnealingLR(new lt.optim.SGD([p], { lr: 1 }), { TMax: 2 });
  cos.step();
  near(cos.getLastLr(), [0.5], 1e-12);
  assert.ok(Object.keys(new lt.optim.Adam([p]).stateDict()).includes('param_groups.0.lr'));
});

test('data: TensorDataset and a seeded, shuffling DataLoader', async () => {
  const x = lt.arange(10, { dtype: 'float32' }).reshape(10, 1);
  const y = lt.arange(10);
  const dl = new lt.data.DataLoader(new lt.data.TensorDataset(x, y), { batchSize: 4, shuffle: true, seed: 3 });
  assert.equal(dl.length, 3);
  const seen = [];
  for (const [xb, yb] of dl) {
    assert.deepEqual(await arr(xb.reshape(-1)), await arr(yb));
    seen.push(...(await arr(yb)));
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const second = [];
  for (const [, yb] of dl) second.push(...(await arr(yb)));
  assert.notDeepEqual(second, seen);
});

test('lifetimes: free, tidy, keep, and released tensors throw', async () => {
  const base = lt.memory();
  const a = lt.ones([100]);
  assert.equal(lt.memory().numTensors, base.numTensors + 1);
  a.free();
  assert.equal(lt.memory().numTensors, base.numTensors);
  assert.throws(() => a.add(1), /freed with t\.free\(\)/);
  let kept;
  const out = lt.tidy(() => {
    const t = lt.ones([10]).mul(2);
    kept = lt.ones([3]).keep();
    t.add(1);
    return { t };
  });
  assert.deepEqual(await arr(out.t), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  assert.equal(lt.memory().numTensors, base.numTensors + 2);
  let inner;
  assert.throws(() => lt.tidy(() => {
    inner = lt.ones([2]);
    throw new Error('boom');
  }), /boom/);
  assert.throws(() => inner.sum(), /released by lt\.tidy/);
  assert.throws(() => lt.tidy(async () => lt.ones([1])), /must not be async/);
  out.t.free();
  kept.free();
  assert.equal(lt.memory().numTensors, base.numTensors);
});

test('errors: thrown with core messages, and the module keeps working', async () => {
  const a = lt.ones([2, 3]);
  assert.throws(() => a.matmul(a), (e) => e instanceof Error && /matmul/.test(e.message) && /\[2, 3\]/.test(e.message));
  assert.throws(() => a.reshape(4, 2), /reshape/);
  assert.throws(() => a.add(lt.ones([4])), /shape/);
  assert.throws(() => lt.tensor([1, 2], { dtype: 'float33' }), /unknown dtype/);
  assert.throws(() => lt.zeros([-1]), /integer >= 0/);
  assert.throws(() => lt.zeros([2 ** 16, 2 ** 16, 2 ** 16]), /Error|overflow|large/);
  assert.throws(() => lt.tensor([[1, 2], [3]]), /rectangular/);
  assert.throws(() => a.sum(7), /dim/);
  assert.throws(() => a.transpose(0, 1.5), /integer/);
  assert.throws(() => new lt.nn.Linear(4, 2).forward(a), /Linear/);
  assert.throws(() => new lt.nn.Conv2d(3, 4, 3, { groups: 2 }), /divisible/);
  assert.throws(() => new lt.nn.Conv2d(1, 1, 0), /positive/);
  assert.throws(() => lt.nn.functional.maxPool2d(lt.ones([1, 1, 2, 2]), 3), /max_pool2d|kernel|size/);
  assert.throws(() => lt.nn.functional.crossEntropy(lt.ones([2, 3]), lt.tensor([0, 5], { dtype: 'int64' })), /target|class|range|5/);
  assert.throws(() => lt.load(new Uint8Array([1, 2, 3])), /safetensors|header|bytes/);
  assert.throws(() => lt.nn.functional.mseLoss(a, a, { reduction: 'avg' }), /reduction/);
  assert.throws(() => new lt.optim.SGD([a]), /leaf requiring grad/);
  await assert.rejects(lt.setBackend('cuda'), /unknown backend/);
  await assert.rejects(lt.setBackend('webgpu'), /WebGPU is not available|navigator\.gpu/);
  assert.equal(await lt.setBackend('wasm'), true);
  assert.equal(lt.getBackend(), 'wasm');
  assert.equal(a.backend, 'wasm');
  assert.equal(lt.memory().backends.webgpu.numTensors, 0);
  assert.throws(() => a.to('webgpu'), /not open/);
  assert.deepEqual(await arr(a.sum()), [6]);
});

// The package's hand-vectorised f32 relu/maximum/minimum (core/src/cpu/simd128.rs): four
// lanes plus a scalar tail, a broadcast operand, a strided view; NaN wins, -0 < +0.
test('relu, maximum, minimum and clamp: NaN, signed zeros, tails, broadcasts, strides', async () => {
  const xs = [NaN, -0, 0, -1.5, 2, Infinity, -Infinity, 3, -2, 0.5, NaN];
  const ys = [1, 0, -0, NaN, 2.5, -Infinity, Infinity, 3, -0, NaN, -7];
  const same = (got, want) => want.forEach((w, i) =>
    assert.ok(Object.is(got[i], w) || (Number.isNaN(w) && Number.isNaN(got[i])), `[${i}] ${got[i]} vs ${w}`));
  const max = (p, q) => (Number.isNaN(p) || p > q || (p === 0 && q === 0 && Object.is(q, -0)) ? p : q);
  const min = (p, q) => (Number.isNaN(p) || p < q || (p === 0 && q === 0 && Object.is(p, -0)) ? p : q);
  const f32 = (v) => Array.from(Float32Array.from(v));
  const x = lt.tensor(xs), y = lt.tensor(ys);
  same(await arr(x.relu()), f32(xs.map((v) => max(v, 0))));
  same(await arr(x.maximum(y)), f32(xs.map((v, i) => max(v, ys[i]))));
  same(await arr(x.minimum(y)), f32(xs.map((v, i) => min(v, ys[i]))));
  same(await arr(x.maximum(lt.tensor(-0))), f32(xs.map((v) => max(v, -0))));
  same(await arr(lt.tensor(0.5).minimum(x)), f32(xs.map((v) => min(0.5, v))));
  same(await arr(x.clamp(-1, 2)), f32(xs.map((v) => min(max(v, -1), 2))));
  // A transposed (strided) view takes the scalar path.
  const m = lt.tensor(xs.slice(0, 10), { shape: [2, 5] }).t();
  const mt = [0, 1, 2, 3, 4].flatMap((c) => [xs[c], xs[5 + c]]);
  same(await arr(m.relu()), f32(mt.map((v) => max(v, 0))));
  same(await arr(m.maximum(lt.tensor(1))), f32(mt.map((v) => max(v, 1))));
});

// The package's simd128 exp (core/src/cpu/simd128.rs `exp4`, also inside softmax): within 2
// ulp of e^x over the whole f32 range, exact at the edges (0, 1, inf, NaN, subnormals).
test('exp is within 2 ulp everywhere, and exact at the edges', async () => {
  const xs = [];
  for (let v = -110; v <= 90; v += 0.0037) xs.push(v);
  for (let v = -1e-3; v <= 1e-3; v += 1.3e-6) xs.push(v);
  xs.push(0, -0, Infinity, -Infinity, NaN, 88.72, 88.73, -87.33, -103.2, -103.98, -1e30, 1e30);
  const x = Float32Array.from(xs);
  const got = Array.from(await lt.tensor(x).exp().data());
  const bits = (v) => new Int32Array(Float32Array.of(v).buffer)[0];
  let worst = 0;
  x.forEach((v, i) => {
    const want = Math.fround(Math.exp(v));
    if (Number.isNaN(want)) return assert.ok(Number.isNaN(got[i]), `exp(${v}) = ${got[i]}`);
    if (!Number.isFinite(want) || want === 0) return assert.equal(got[i], want, `exp(${v})`);
    worst = Math.max(worst, Math.abs(bits(got[i]) - bits(want)));
  });
  assert.ok(worst <= 2, `worst error ${worst} ulp`);
  assert.equal((await lt.tensor([0, 1]).exp().data())[0], 1);
  // Softmax rows through the same exp: sum to 1, match the f64 reference.
  const row = Array.from({ length: 37 }, (_, i) => Math.sin(i) * 30);
  const s = Array.from(await lt.tensor(row).softmax(0).data());
  const e = row.map((v) => Math.exp(v - Math.max(...row)));
  const z = e.reduce((a, b) => a + b);
  near(s, e.map((v) => v / z), 1e-6);
});
