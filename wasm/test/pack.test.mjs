// The npm package as a user gets it: `npm pack` wasm/pkg, install the tarball into a fresh
// project, import it from Node ESM by name and run a training step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('../pkg/', import.meta.url));
const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

test('npm pack, install the tarball elsewhere, import lantern-ml and train a step', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantern-ml-pack-'));
  try {
    const tarball = npm(['pack', PKG, '--pack-destination', dir], dir).trim().split('\n').pop();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    npm(['install', '--offline', join(dir, tarball)], dir);
    const installed = join(dir, 'node_modules/lantern-ml');
    for (const f of ['package.json', 'index.js', 'node.js', 'api.js', 'lantern.js', 'index.d.ts', 'lantern_wasm.js', 'lantern_wasm_bg.wasm']) {
      assert.ok(existsSync(join(installed, f)), `${f} is in the package`);
    }
    writeFileSync(join(dir, 'main.mjs'), `
      import lt from 'lantern-ml';
      import { tensor } from 'lantern-ml';
      lt.manualSeed(0);
      const model = new lt.nn.Sequential(new lt.nn.Linear(3, 4), new lt.nn.ReLU(), new lt.nn.Linear(4, 2));
      const opt = new lt.optim.SGD(model.parameters(), { lr: 0.1 });
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      const y = tensor([0, 1], { dtype: 'int64' });
      const losses = [];
      for (let i = 0; i < 5; i++) {
        const loss = lt.nn.functional.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        losses.push(await loss.item());
      }
      console.log(JSON.stringify({ losses, backend: lt.getBackend() }));
    `);
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: dir, encoding: 'utf8' }));
    assert.equal(out.backend, 'wasm');
    assert.equal(out.losses.length, 5);
    assert.ok(out.losses[4] < out.losses[0], `loss went ${out.losses}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
