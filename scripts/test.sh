#!/usr/bin/env bash
# scripts/test.sh: Lantern's test command. Formatting, lints, the workspace tests, and core
# without std for the host, an embedded target and wasm32. Run scripts/setup.sh once first.
# Steps for crates that do not exist yet are skipped, so this file grows with the workspace.
#
# usage: bash scripts/test.sh [--quick]     --quick skips cargo fmt and clippy

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=0
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" && exit 0 ;;
    *) echo "test.sh: unknown option $arg (usage: bash scripts/test.sh [--quick])" >&2 && exit 2 ;;
  esac
done

# Mesa's Vulkan loader complains on every device open without one.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-runtime-$(id -u)}
mkdir -p -m 700 "$XDG_RUNTIME_DIR"

tools=${LANTERN_TOOLS:-$HOME/.cache/lantern-tools}
if [ -f "$tools/env.sh" ]; then
  # shellcheck source=/dev/null
  . "$tools/env.sh"
fi

# run CMD...: one step, with the command as its header and the time it took.
run() {
  local start=$SECONDS
  printf '\n==> %s\n' "$*"
  "$@"
  printf '    ok (%ds)\n' $((SECONDS - start))
}

# cross TARGET WRAPPER CARGO_ARGS...: cargo for TARGET, with rustup's prebuilt std when the
# target is installed, else through setup.sh's wrapper (Debian rustc-web with -Zbuild-std).
cross() {
  local target=$1 wrapper=$2
  shift 2
  if grep -qx "$target" <<<"$(rustup target list --installed 2>/dev/null)"; then
    run cargo "$@" --target "$target"
  elif command -v "cargo-$wrapper" >/dev/null; then
    run cargo "$wrapper" "$@"
  else
    echo "test.sh: no $target toolchain: run bash scripts/setup.sh" >&2
    exit 1
  fi
}

if [ "$quick" = 0 ]; then
  run cargo fmt --all -- --check
  run cargo clippy --workspace --all-targets -- -D warnings
fi
run cargo test --workspace
# The npm package builds core with `compact` (fewer per-dtype kernels; wasm32 only, so the
# workspace run above tests the fast kernels): the conformance suite on that path too.
run cargo test -p lantern-tests --features lantern/compact --test conformance_cpu

# core is no_std + alloc: prove it on the host and on targets that have no std at all.
run cargo build -p lantern --no-default-features
cross thumbv7em-none-eabihf embedded build -p lantern --no-default-features
cross wasm32-unknown-unknown wasm build -p lantern --no-default-features

# wgpu driver: its tests skip when no adapter is found, so on CI first prove there is one
# (lavapipe, from `setup.sh --wgpu`); else the workspace tests above pass without running them.
if [ -d drivers/wgpu ] && [ "${CI:-}" = true ]; then
  run vulkaninfo --summary
fi
# The same driver compiles for the browser (WebGPU backend).
if [ -d drivers/wgpu ]; then
  cross wasm32-unknown-unknown wasm build -p lantern-wgpu
fi

# wasm crate: wasm-bindgen tests in Node, then in headless Chromium when chromedriver is there
# (`setup.sh --wasm`, `--browser`; env.sh sets the runner and the Chromium flags).
if [ -d wasm ]; then
  cross wasm32-unknown-unknown wasm test -p lantern-wasm
  if command -v chromedriver >/dev/null; then
    export WASM_BINDGEN_USE_BROWSER=1
    cross wasm32-unknown-unknown wasm test -p lantern-wasm
    unset WASM_BINDGEN_USE_BROWSER
  fi
  # The npm package lantern-ml: build it (prints its gzipped size), then the JS suites against
  # it in Node: PyTorch parity, API, training and flat memory (--expose-gc for the
  # FinalizationRegistry), hostile inputs, npm pack + install, the .d.ts under tsc --strict,
  # and the www/ page in headless Chromium (skipped without Chromium and playwright-core).
  run bash wasm/build.sh
  # The WebGPU flavour (wasm/pkg-webgpu) for the browser tests that run it on SwiftShader.
  if command -v chromium >/dev/null; then
    run bash wasm/build.sh --webgpu
  fi
  run node --expose-gc --test wasm/test/
fi

printf '\nall checks passed (%ds)\n' "$SECONDS"
