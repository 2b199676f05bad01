// Trains a digits classifier with lantern-ml and shows loss and accuracy per epoch. Serve the
// repository root over http and open /www/ (the page imports the package from wasm/pkg), or
// /www/?webgpu for the WebGPU build (wasm/pkg-webgpu, from `wasm/build.sh --webgpu`).
import { makeDigits } from './digits.js';

const webgpu = new URLSearchParams(location.search).has('webgpu');
const { default: lt } = await import(webgpu ? '../wasm/pkg-webgpu/index.js' : '../wasm/pkg/index.js');

const EPOCHS = 8;
const $ = (id) => document.getElementById(id);

async function accuracy(model, x, y) {
  const pred = lt.tidy(() => lt.noGrad(() => model.forward(x).argmax(1).eq(y).float().mean()));
  const acc = await pred.item();
  pred.free();
  return acc;
}

async function main() {
  if (webgpu) await lt.setBackend('webgpu');
  $('backend').textContent = lt.getBackend();
  lt.manualSeed(0);
  const train = makeDigits(3000, 1);
  const test = makeDigits(600, 2);
  const xtr = lt.tensor(train.x, { shape: [3000, 64] });
  const ytr = lt.tensor(train.y, { dtype: 'int64' });
  const xte = lt.tensor(test.x, { shape: [600, 64] });
  const yte = lt.tensor(test.y, { dtype: 'int64' });

  const model = new lt.nn.Sequential(new lt.nn.Linear(64, 64), new lt.nn.ReLU(), new lt.nn.Linear(64, 10));
  const opt = new lt.optim.Adam(model.parameters(), { lr: 1e-2 });
  const loader = new lt.data.DataLoader(new lt.data.TensorDataset(xtr, ytr), { batchSize: 64, shuffle: true, seed: 0 });

  $('status').textContent = 'Training…';
  $('status').dataset.state = 'training';
  let acc = 0;
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const t0 = performance.now();
    let total = 0;
    for (const [xb, yb] of loader) {
      // No tidy here: optimizer.step() releases what the previous step made.
      const loss = lt.nn.functional.crossEntropy(model.forward(xb), yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      total += await loss.item();
    }
    acc = await accuracy(model, xte, yte);
    const ms = performance.now() - t0;
    const mem = lt.memory();
    $('log').insertAdjacentHTML('beforeend', `<tr><td>${epoch}</td><td>${(total / loader.length).toFixed(4)}</td>` +
      `<td>${(acc * 100).toFixed(1)}%</td><td>${ms.toFixed(0)}</td><td>${(mem.numBytes / 1024).toFixed(0)} KB, ${mem.numTensors} tensors</td></tr>`);
    await new Promise((r) => setTimeout(r)); // let the table paint
  }
  await showSamples(model, test);
  $('status').textContent = `Done: test accuracy ${(acc * 100).toFixed(1)}% after ${EPOCHS} epochs.`;
  $('status').dataset.state = 'done';
  $('status').dataset.accuracy = String(acc);
}

async function showSamples(model, test) {
  const n = 12;
  const x = lt.tensor(test.x.subarray(0, n * 64), { shape: [n, 64] });
  const pred = lt.noGrad(() => model.forward(x).argmax(1));
  const p = await pred.data();
  x.free();
  pred.free();
  for (let i = 0; i < n; i++) {
    const c = document.createElement('canvas');
    c.width = c.height = 8;
    const img = c.getContext('2d').createImageData(8, 8);
    for (let k = 0; k < 64; k++) {
      const v = 255 - Math.round(test.x[i * 64 + k] * 255);
      img.data.set([v, v, v, 255], k * 4);
    }
    c.getContext('2d').putImageData(img, 0, 0);
    const f = document.createElement('figure');
    const ok = Number(p[i]) === test.y[i];
    f.append(c);
    f.insertAdjacentHTML('beforeend', `<figcaption class="${ok ? 'ok' : 'bad'}">${p[i]}</figcaption>`);
    $('samples').append(f);
  }
}

main().catch((e) => {
  $('status').textContent = `Error: ${e.message}`;
  $('status').dataset.state = 'error';
  console.error(e);
});
