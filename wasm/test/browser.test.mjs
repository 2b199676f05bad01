// End to end in headless Chromium: serve the repository over http on 127.0.0.1, open www/
// (the digits page, which imports wasm/pkg), wait until it has trained, check the accuracy
// it shows and save a screenshot to wasm/test-results/ (git-ignored). Skipped when Chromium
// or playwright-core (`scripts/setup.sh --wasm --browser`) is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, normalize, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TARGET = 0.9;

// playwright-core lives in $LANTERN_TOOLS/node_modules (on NODE_PATH, which `require` honours).
let playwright = null;
try {
  playwright = createRequire(import.meta.url)('playwright-core');
} catch {}
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : !playwright ? 'playwright-core not installed' : false;

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

function serve() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(ROOT, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function withPage(fn) {
  const server = await serve();
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'],
  });
  try {
    const page = await browser.newPage();
    return await fn(page, `http://127.0.0.1:${server.address().port}`);
  } finally {
    await browser.close();
    server.close();
  }
}

function trainPage(query, shot) {
  return withPage(async (page, origin) => {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/www/${query}`);
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status').dataset.state), null, { timeout: 200_000 });
    const status = await page.$eval('#status', (e) => ({ state: e.dataset.state, text: e.textContent, acc: Number(e.dataset.accuracy) }));
    const rows = await page.$$eval('#log tr', (trs) => trs.length);
    mkdirSync(join(ROOT, 'wasm/test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, `wasm/test-results/${shot}`), fullPage: true });
    assert.deepEqual(errors, []);
    assert.equal(status.state, 'done', status.text);
    assert.equal(rows, 8);
    assert.ok(status.acc >= TARGET, `accuracy ${status.acc} < ${TARGET}`);
    console.log(`browser ${query || '(wasm)'}: ${status.text}`);
    return page.$eval('#backend', (e) => e.textContent);
  });
}

test('the digits page trains in Chromium and reaches the target accuracy', { skip, timeout: 240_000 }, async () => {
  assert.equal(await trainPage('', 'digits-page.png'), 'wasm');
});

// The WebGPU build runs on SwiftShader here (--enable-unsafe-webgpu, no GPU). In-place ops
// read an aliased input from a snapshot copy there (lantern-wgpu's snapshot_aliased_inputs,
// on for wasm32): WebGPU forbids one buffer bound writable and bound again in a dispatch.
const noGpuBuild = !existsSync(join(ROOT, 'wasm/pkg-webgpu/index.js')) && 'no WebGPU build (bash wasm/build.sh --webgpu)';
test('the digits page trains on the WebGPU backend', { skip: skip || noGpuBuild, timeout: 240_000 }, async () => {
  assert.equal(await trainPage('?webgpu', 'digits-page-webgpu.png'), 'webgpu');
});

test('WebGPU build: setBackend, ops and an async readback on the GPU in Chromium', { skip: skip || noGpuBuild, timeout: 120_000 }, async () => {
  const r = await withPage(async (page, origin) => {
    await page.goto(`${origin}/www/index.html`);
    return page.evaluate(async () => {
      const { default: lt } = await import('/wasm/pkg-webgpu/index.js');
      await lt.setBackend('webgpu');
      const a = lt.tensor([[1, 2], [3, 4]]);
      const c = a.matmul(a).add(1).relu();
      const s = c.sum(1);
      const up = lt.tensor([1, 2], { dtype: 'int64' });
      let blocked = '';
      try {
        c.to('wasm'); // a GPU → CPU move reads back, which the main thread cannot block on
      } catch (e) {
        blocked = e.message;
      }
      return { backend: c.backend, c: Array.from(await c.data()), s: Array.from(await s.data()), up: up.backend, blocked, mem: lt.memory().backends.webgpu.numTensors };
    });
  });
  assert.deepEqual(r.c, [8, 11, 16, 23]);
  assert.deepEqual(r.s, [19, 39]);
  assert.equal(r.backend, 'webgpu');
  assert.equal(r.up, 'webgpu');
  assert.match(r.blocked, /would block/);
  assert.ok(r.mem >= 3);
});
