// wasm/strip-comments.mjs FILE...: drops whole-line comments (`// ...` lines and `/* ... */`
// blocks that start a line) from the package's JS, in place: the docs live in index.d.ts and
// in the sources, and the published files are counted against the size budget (issue 5).
// Line-based on purpose: these files keep no comment markers inside multi-line strings.
// A `/* @ts-self-types=... */` pragma stays.
import { readFileSync, writeFileSync } from 'node:fs';

for (const file of process.argv.slice(2)) {
  const out = [];
  let inBlock = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (inBlock) {
      if (t.includes('*/')) inBlock = false;
      continue;
    }
    if (t.startsWith('/*') && !t.startsWith('/* @ts-self-types')) {
      const end = t.indexOf('*/', 2);
      // Code after a one-line comment (`/*#__PURE__*/ f()`) keeps its line.
      if (end >= 0 && t.slice(end + 2).trim() !== '') {
        out.push(line);
        continue;
      }
      inBlock = end < 0;
      continue;
    }
    if (t.startsWith('//')) continue;
    out.push(line);
  }
  writeFileSync(file, out.join('\n'));
}
