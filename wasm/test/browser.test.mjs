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

test('the digits page trains in Chromium and reaches the target accuracy', { skip, timeout: 240_000 }, async () => {
  const server = await serve();
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--enable-unsafe-webgpu'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/www/`);
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status').dataset.state), null, { timeout: 200_000 });
    const status = await page.$eval('#status', (e) => ({ state: e.dataset.state, text: e.textContent, acc: Number(e.dataset.accuracy) }));
    const rows = await page.$$eval('#log tr', (trs) => trs.length);
    mkdirSync(join(ROOT, 'wasm/test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'wasm/test-results/digits-page.png'), fullPage: true });
    assert.deepEqual(errors, []);
    assert.equal(status.state, 'done', status.text);
    assert.equal(rows, 8);
    assert.ok(status.acc >= TARGET, `accuracy ${status.acc} < ${TARGET}`);
    console.log(`browser: ${status.text}`);
  } finally {
    await browser.close();
    server.close();
  }
});
