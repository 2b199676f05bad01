// lantern-ml, Node entry: reads the wasm from the package directory.
import { readFile } from 'node:fs/promises';
import init from './lantern_wasm.js';
import * as api from './api.js';

await init({ module_or_path: await readFile(new URL('./lantern_wasm_bg.wasm', import.meta.url)) });

export * from './api.js';
export default api;
