// lantern-ml, browser (and bundler) entry: fetches the wasm next to this file.
import init from './lantern_wasm.js';
import * as api from './api.js';

await init();

export * from './api.js';
export default api;
