#!/usr/bin/env bash
# wasm/build.sh: builds the npm package lantern-ml into wasm/pkg/ (git-ignored).
#
# usage: bash wasm/build.sh [--dev] [--webgpu]
#   --dev     the dev profile (fast build, slow code)
#   --webgpu  also compile in the WebGPU driver (lantern-wgpu), into wasm/pkg-webgpu/
#
# cargo (wasm32, simd128, profile wasm-release) → wasm-bindgen --target web → wasm-opt -O1
# (npm binaryen, when on PATH) → the hand-written JS layer (wasm/js) and package.json → terser
# over the JS (when on PATH). One wasm file serves both entry points: index.js fetches it next
# to itself (browsers, bundlers), node.js reads it from disk (Node ≥ 18). Prints the package's
# gzipped size.
# Needs `bash scripts/setup.sh --wasm` once (wasm-bindgen-cli, binaryen, terser).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools=${LANTERN_TOOLS:-$HOME/.cache/lantern-tools}
if [ -f "$tools/env.sh" ]; then
  # shellcheck source=/dev/null
  . "$tools/env.sh"
fi
command -v wasm-bindgen >/dev/null || {
  echo "build.sh: wasm-bindgen not found: run bash scripts/setup.sh --wasm" >&2
  exit 1
}

profile=wasm-release
out=wasm/pkg
features=()
for arg in "$@"; do
  case $arg in
    --dev) profile=dev ;;
    --webgpu) out=wasm/pkg-webgpu features=(--features webgpu) ;;
    *) echo "build.sh: unknown option $arg (usage: bash wasm/build.sh [--dev] [--webgpu])" >&2 && exit 2 ;;
  esac
done
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
# Only this build gets simd128; the profile keeps its artifacts apart from the test builds.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+simd128" \
  cargo build -p lantern-wasm --target wasm32-unknown-unknown --profile "$profile" "${features[@]}"
dir=$profile
[ "$profile" = dev ] && dir=debug
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --out-dir "$out" --out-name lantern_wasm \
  "$target_dir/wasm32-unknown-unknown/$dir/lantern_wasm.wasm"
if command -v wasm-opt >/dev/null && [ "$profile" != dev ]; then
  # -O1: the smallest gzipped output of -O1..-O3/-Os/-Oz (the stronger levels shrink the raw
  # module but gzip worse: 261 KB at -O1, 279 at -Oz). Functions sorted by name (wasm-bindgen
  # keeps the name section; wasm-opt drops it after) put a generic's copies side by side, in
  # gzip's window: 5 KB less gzipped.
  wasm-opt -O1 --reorder-functions-by-name --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-reference-types --enable-multivalue --enable-mutable-globals \
    "$out/lantern_wasm_bg.wasm" -o "$out/lantern_wasm_bg.wasm"
else
  echo "build.sh: wasm-opt not on PATH (or --dev): the wasm is not post-optimised" >&2
fi
cp wasm/js/*.js wasm/js/*.d.ts wasm/js/package.json wasm/README.md "$out/"
rm -f "$out/.gitignore"
# The shipped JS minified (the docs are in index.d.ts and the sources): terser keeps export
# and class names and the wasm-bindgen `@ts-self-types` pragma. Without terser (setup.sh
# --wasm installs it), only whole-line comments go.
if command -v terser >/dev/null; then
  for f in "$out"/*.js; do
    terser "$f" --module --compress --mangle --keep-classnames --comments '/@ts-self-types/' \
      -o "$f.min" && mv "$f.min" "$f"
  done
elif command -v node >/dev/null; then
  echo "build.sh: terser not on PATH: the JS is not minified" >&2
  node wasm/strip-comments.mjs "$out"/*.js
fi

size() { gzip -9 -c "$@" | wc -c; }
wasm_gz=$(size "$out/lantern_wasm_bg.wasm")
js_gz=$(cat "$out"/*.js | size)
printf 'lantern-ml built in %s: wasm %d KB (%d KB gzipped), JS %d KB gzipped, total %d KB gzipped\n' \
  "$out" $(($(wc -c <"$out/lantern_wasm_bg.wasm") / 1024)) $((wasm_gz / 1024)) $((js_gz / 1024)) \
  $(((wasm_gz + js_gz) / 1024))
