// End to end in Node: XOR and a digits MLP train to a stated accuracy, and memory stays flat
// across epochs without lt.tidy (the per-step scope of optimizer.step(); run with --expose-gc
// so the FinalizationRegistry safety net is exercised too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import lt from '../pkg/node.js';
import { makeDigits } from '../../www/digits.js';

test('XOR: a 2-8-1 MLP with SGD reaches 100% accuracy', async () => {
  lt.manualSeed(0);
  const x = lt.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = lt.tensor([[0], [1], [1], [0]]);
  const model = new lt.nn.Sequential(new lt.nn.Linear(2, 8), new lt.nn.Tanh(), new lt.nn.Linear(8, 1));
  const opt = new lt.optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
  let loss = Infinity;
  for (let i = 0; i < 300; i++) {
    const l = lt.nn.functional.binaryCrossEntropyWithLogits(model.forward(x), y);
    opt.zeroGrad();
    l.backward();
    opt.step();
    loss = await l.item();
  }
  const pred = await lt.noGrad(() => model.forward(x).gt(0)).data();
  assert.deepEqual(Array.from(pred), [0, 1, 1, 0]);
  assert.ok(loss < 0.05, `final loss ${loss}`);
});

async function accuracy(model, x, y) {
  return lt.tidy(() => lt.noGrad(() => model.forward(x).argmax(1).eq(y).float().mean().keep())).item();
}

test('digits: a 64-64-10 MLP with Adam reaches >= 95% test accuracy; memory flat over 10 epochs without tidy', async () => {
  lt.manualSeed(0);
  const train = makeDigits(2000, 1);
  const test = makeDigits(500, 2);
  const xtr = lt.tensor(train.x, { shape: [2000, 64] });
  const ytr = lt.tensor(train.y, { dtype: 'int64' });
  const xte = lt.tensor(test.x, { shape: [500, 64] });
  const yte = lt.tensor(test.y, { dtype: 'int64' });
  const model = new lt.nn.Sequential(new lt.nn.Linear(64, 64), new lt.nn.ReLU(), new lt.nn.Linear(64, 10));
  const opt = new lt.optim.Adam(model.parameters(), { lr: 1e-2 });
  const loader = new lt.data.DataLoader(new lt.data.TensorDataset(xtr, ytr), { batchSize: 64, shuffle: true });
  const mem = [];
  const losses = []; // strong references: only the step scope can release these
  let acc = 0;
  for (let epoch = 0; epoch < 10; epoch++) {
    for (const [xb, yb] of loader) {
      const loss = lt.nn.functional.crossEntropy(model.forward(xb), yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss);
    }
    acc = await accuracy(model, xte, yte);
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 0)); // let finalizers run
    mem.push(lt.memory());
  }
  assert.ok(acc >= 0.95, `test accuracy ${acc}`);
  // After the first epochs (optimizer state appears at the first step), handles and bytes
  // must not grow.
  const [first, last] = [mem[2], mem[9]];
  assert.ok(last.numTensors <= first.numTensors, `tensors ${mem.map((m) => m.numTensors)}`);
  assert.ok(last.numBytes <= first.numBytes, `bytes ${mem.map((m) => m.numBytes)}`);
  assert.ok(losses.slice(1, -2).every((l) => l.isReleased), 'the step scope released every older loss (the first, made before any step, is left to the GC)');
  assert.ok(!losses.at(-1).isReleased && (await losses.at(-1).item()) < 0.5, 'the last loss is still readable');
  await assert.rejects(losses[1].item(), /released by optimizer\.step\(\)/);
  assert.ok(last.numTensors < 80, `tensors alive: ${last.numTensors}`);
  console.log(`digits MLP: test accuracy ${(acc * 100).toFixed(1)}%; live tensors per epoch ${mem.map((m) => m.numTensors)}; bytes ${mem.map((m) => m.numBytes)}`);
});

test('the FinalizationRegistry frees handles that escape tidy, free and the step scope', { skip: !globalThis.gc && 'needs node --expose-gc' }, async () => {
  const before = lt.memory().numTensors;
  (() => {
    for (let i = 0; i < 200; i++) lt.ones([256]).mul(2);
  })();
  assert.ok(lt.memory().numTensors >= before + 200);
  for (let i = 0; i < 20 && lt.memory().numTensors > before + 10; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(lt.memory().numTensors <= before + 10, `still alive: ${lt.memory().numTensors - before}`);
});
