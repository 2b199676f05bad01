// Type-checked against the package's index.d.ts by types.test.mjs (tsc --strict, never run).
import lt, { tensor, Tensor } from 'lantern-ml';

const x: Tensor = tensor([[1, 2], [3, 4]], { dtype: 'float32' });
const model = new lt.nn.Sequential(new lt.nn.Linear(2, 4), new lt.nn.ReLU(), new lt.nn.Linear(4, 2));
const opt = new lt.optim.Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999] });
const sched = new lt.optim.lrScheduler.StepLR(opt, { stepSize: 2 });
const loss = lt.nn.functional.crossEntropy(model.forward(x), tensor([0, 1], { dtype: 'int64' }), { labelSmoothing: 0.1 });
loss.backward();
opt.step();
sched.step();
const [values, indices] = x.max(1);
const bytes: number = lt.memory().backends.wasm.numBytes;
model.loadStateDict(lt.load(lt.save(model)));
const loader = new lt.data.DataLoader(new lt.data.TensorDataset(x, x), { batchSize: 1, shuffle: true });
for (const [a, b] of loader) a.add(b).free();
const kept: Tensor = lt.tidy(() => x.mul(2).keep());
lt.noGrad(() => x.exp().sum(-1, { keepdim: true }));
class Net extends lt.nn.Module {
  fc = new lt.nn.Linear(2, 2);
  forward(t: Tensor): Tensor {
    return this.fc.forward(t).relu();
  }
}
new Net().forward(x);

export async function read(): Promise<unknown[]> {
  const data = await x.data();
  const item: number | boolean = await x.sum().item();
  await lt.setBackend('wasm');
  return [data, item, values, indices, bytes, kept];
}

// @ts-expect-error: dims are numbers
x.sum('a');
// @ts-expect-error: sizes are numbers
new lt.nn.Linear('a', 2);
// @ts-expect-error: not a dtype or backend
x.to('float33');
// @ts-expect-error: readback is async
const sync: Float32Array = x.data();
// @ts-expect-error: no such backend
lt.setBackend('cuda');
