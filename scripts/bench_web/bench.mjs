// One training step of an MLP 784-256-128-10 (batch 64, SGD, cross entropy) in Node:
// lantern-ml (wasm, simd128, one thread) against TensorFlow.js's wasm backend (XNNPACK,
// SIMD, one thread). Prints both medians and the ratio. Run through scripts/bench_web/run.sh.
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import lt from '../../wasm/pkg/node.js';

const require = createRequire(import.meta.url);
const WARMUP = Number(process.env.WARMUP ?? 100);
const REPS = Number(process.env.REPS ?? 100);
const [B, D, H1, H2, C] = [64, 784, 256, 128, 10];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Rounds alternate between the two, so load from other processes on this machine hits both
// alike; the warm-up lets V8 tier both wasm modules up from its baseline compiler.
function compare(steps) {
  for (const step of steps) for (let i = 0; i < WARMUP; i++) step();
  const samples = steps.map(() => []);
  for (let round = 0; round < 10; round++) {
    steps.forEach((step, k) => {
      for (let i = 0; i < REPS / 10; i++) {
        const t0 = performance.now();
        step();
        samples[k].push(performance.now() - t0);
      }
    });
  }
  return samples.map((s) => ({ median: median(s), min: Math.min(...s) }));
}

// Same inputs for both: a fixed pseudo-random batch.
const xData = Float32Array.from({ length: B * D }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const yData = Int32Array.from({ length: B }, (_, i) => (i * 7) % C);

function lantern() {
  lt.manualSeed(0);
  const model = new lt.nn.Sequential(new lt.nn.Linear(D, H1), new lt.nn.ReLU(), new lt.nn.Linear(H1, H2), new lt.nn.ReLU(), new lt.nn.Linear(H2, C));
  const opt = new lt.optim.SGD(model.parameters(), { lr: 0.01 });
  const x = lt.tensor(xData, { shape: [B, D] });
  const y = lt.tensor(yData, { dtype: 'int64' });
  // lt.tidy frees the step's tensors as tf.tidy does on the other side (else they wait for
  // the garbage collector's FinalizationRegistry, which makes the timings noisy).
  return () => {
    lt.tidy(() => {
      const loss = lt.nn.functional.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  };
}

async function tfjs() {
  const tf = require('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${require.resolve('@tensorflow/tfjs-backend-wasm').replace(/dist\/.*$/, 'dist/')}`);
  wasm.setThreadsCount(1);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.env().set('WASM_HAS_SIMD_SUPPORT', process.env.TFJS_SIMD !== '0');
  await tf.setBackend('wasm');
  await tf.ready();
  const glorot = (r, c) => tf.variable(tf.randomUniform([r, c], -Math.sqrt(6 / (r + c)), Math.sqrt(6 / (r + c)), 'float32', 0));
  const [w1, w2, w3] = [glorot(D, H1), glorot(H1, H2), glorot(H2, C)];
  const [b1, b2, b3] = [H1, H2, C].map((n) => tf.variable(tf.zeros([n])));
  const x = tf.tensor2d(xData, [B, D]);
  const y = tf.oneHot(tf.tensor1d(yData, 'int32'), C);
  const opt = tf.train.sgd(0.01);
  const step = () => {
    tf.tidy(() => {
      opt.minimize(() => {
        const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
        const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h2, w3), b3));
      });
    });
  };
  return { step, backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') };
}

const t = await tfjs();
const [l, p] = compare([lantern(), t.step]);
const row = (name, r) => console.log(`  ${name.padEnd(36)} median ${r.median.toFixed(3)} ms   min ${r.min.toFixed(3)} ms`);
console.log(`MLP 784-256-128-10 training step, batch ${B}, SGD, ${REPS} steps each (Node ${process.version}, one thread)`);
row('lantern-ml (wasm, simd128)', l);
row(`tfjs ${t.backend} (XNNPACK, simd ${t.simd})`, p);
console.log(`  ratio lantern / tfjs (medians)       ${(l.median / p.median).toFixed(3)}x`);
