// The TypeScript declarations: tsc --strict checks wasm/test/types/usage.ts against the built
// package's index.d.ts (real usage compiles, misuse marked @ts-expect-error must fail).
// Skipped when TypeScript (`scripts/setup.sh --wasm`) is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let tsc = null;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc'); // NODE_PATH: $LANTERN_TOOLS
} catch {}

test('index.d.ts type-checks real usage and rejects misuse', { skip: !tsc && 'typescript not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantern-ml-types-'));
  try {
    const pkg = join(dir, 'node_modules/lantern-ml');
    mkdirSync(pkg, { recursive: true });
    for (const f of ['index.d.ts', 'package.json']) copyFileSync(fileURLToPath(new URL(`../pkg/${f}`, import.meta.url)), join(pkg, f));
    copyFileSync(fileURLToPath(new URL('types/usage.ts', import.meta.url)), join(dir, 'usage.ts'));
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true },
      files: ['usage.ts'],
    }));
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc: ${e.stdout}${e.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
