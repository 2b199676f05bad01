// Op parity with PyTorch through the JS API: the fixtures in tests/fixtures/*.json (written by
// tests/gen_fixtures.py with PyTorch), a representative subset of binary, unary, reduce,
// linalg and nn cases, each checked against its rtol/atol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import lt from '../pkg/node.js';

const FIX = new URL('../../tests/fixtures/', import.meta.url);
const load = (name) => JSON.parse(readFileSync(new URL(`${name}.json`, FIX), 'utf8')).cases;
const num = (v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : typeof v === 'boolean' ? Number(v) : v);
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

function build(input) {
  let t = lt.tensor(Float64Array.from(input.data, num), { shape: input.shape, dtype: input.dtype });
  for (const [op, ...a] of input.view ?? []) {
    if (op === 'slice') t = t.slice(a[0], a[1], a[2] ?? undefined, a[3]);
    else t = t[op](...a);
  }
  return t;
}

const BINARY = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or']);

/** Runs one case; returns its outputs, or null for a case this API does not expose. */
function run(c, x) {
  const a = c.args;
  const op = c.op;
  const kd = { keepdim: !!a.keepdim };
  if (BINARY.has(op)) return [x[0][camel(op)](x[1])];
  if (op.endsWith('_scalar') && op !== 'pow_scalar') return [x[0][op.slice(0, -7)](num(a.other))];
  switch (op) {
    case 'gelu': return [x[0].gelu({ approximate: a.approximate })];
    case 'softplus': return [x[0].softplus({ beta: a.beta, threshold: a.threshold })];
    case 'clamp': return [x[0].clamp(a.min, a.max)];
    case 'pow_scalar': return [x[0].pow(num(a.exponent))];
    case 'sum': case 'mean': case 'prod': case 'logsumexp': return [x[0][op](a.dim ?? undefined, kd)];
    case 'var': case 'std': return [x[0][op](a.dim ?? undefined, { ...kd, correction: a.correction })];
    case 'max': case 'min': {
      const r = x[0][op](a.dim ?? undefined, kd);
      return Array.isArray(r) ? r : [r];
    }
    case 'argmax': case 'argmin': return [x[0][op](a.dim ?? undefined, kd)];
    case 'norm': {
      const ord = a.p === 'fro' ? 2 : num(a.p);
      return [x[0].norm(ord, a.dim ?? undefined, kd)];
    }
    case 'matmul': return [x[0].matmul(x[1])];
    case 'softmax': return [x[0].softmax(a.dim)];
    case 'log_softmax': return [x[0].logSoftmax(a.dim)];
    case 'one_hot': return [lt.nn.functional.oneHot(x[0], a.num_classes < 0 ? undefined : a.num_classes)];
    case 'pad': return a.mode === 'constant' ? [x[0].pad(a.pad, { value: a.value ?? 0 })] : null;
    case 'conv2d':
      return [lt.nn.functional.conv2d(x[0], x[1], x[2], { stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups })];
    case 'max_pool2d': case 'avg_pool2d': {
      const plain = !a.ceil_mode && [a.dilation ?? 1].flat().every((d) => d === 1) && a.count_include_pad !== false;
      const f = lt.nn.functional[camel(op)];
      return plain ? [f(x[0], a.kernel_size, { stride: a.stride ?? undefined, padding: a.padding })] : null;
    }
    default:
      return x.length === 1 && typeof x[0][camel(op)] === 'function' ? [x[0][camel(op)]()] : null;
  }
}

function close(got, want, rtol, atol) {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= atol + rtol * Math.abs(want);
}

for (const file of ['binary', 'unary', 'reduce', 'linalg', 'nn']) {
  test(`PyTorch parity: ${file}.json`, async () => {
    let checked = 0;
    for (const c of load(file)) {
      // Int64 beyond 2^53 cannot cross JSON into JS numbers exactly.
      if (c.inputs.some((i) => i.data.some((v) => typeof v === 'number' && Math.abs(v) > 2 ** 53))) continue;
      const outs = lt.tidy(() => {
        const r = run(c, c.inputs.map(build));
        return r && r.map((t) => t.keep());
      });
      if (!outs) continue;
      assert.equal(outs.length, c.outputs.length, c.id);
      for (const [k, want] of c.outputs.entries()) {
        const got = outs[k];
        assert.deepEqual(got.shape, want.shape, `${c.id}: shape`);
        assert.equal(got.dtype, want.dtype, `${c.id}: dtype`);
        const data = Array.from(await got.data(), Number);
        want.data.forEach((v, i) => {
          assert.ok(close(data[i], num(v), c.rtol ?? 0, c.atol ?? 0), `${c.id}[${i}]: got ${data[i]}, want ${v}`);
        });
        got.free();
      }
      checked++;
    }
    assert.ok(checked >= 10, `${file}: only ${checked} cases ran`);
    console.log(`${file}: ${checked} of ${load(file).length} cases checked`);
  });
}
