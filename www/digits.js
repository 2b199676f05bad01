// Synthetic 8×8 digits (sklearn's digits have the same size, but no data ships with the
// page): a 5×7 glyph per class, shifted, with stroke intensity jitter, dropped pixels and
// noise, from a seeded generator so every run sees the same data.

const GLYPHS = [
  ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
];

/** mulberry32: a small seeded PRNG, uniform on [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` digits as `x` (Float32Array, n×64, values in [0, 1]) and `y` (Int32Array of labels).
 * @param {number} n
 * @param {number} seed
 */
export function makeDigits(n, seed = 1) {
  const r = rng(seed);
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(r() * 10);
    y[i] = label;
    const dx = Math.floor(r() * 4);
    const dy = Math.floor(r() * 2);
    const ink = 0.55 + 0.45 * r();
    const img = x.subarray(i * 64, (i + 1) * 64);
    GLYPHS[label].forEach((row, gy) => {
      for (let gx = 0; gx < 5; gx++) {
        if (row[gx] === '1' && r() > 0.12) img[(gy + dy) * 8 + gx + dx] = ink;
      }
    });
    for (let p = 0; p < 64; p++) img[p] = Math.min(1, Math.max(0, img[p] + (r() - 0.5) * 0.5 * (r() < 0.25 ? 1 : 0)));
  }
  return { x, y };
}
