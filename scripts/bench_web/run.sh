#!/usr/bin/env bash
# scripts/bench_web/run.sh: lantern-ml vs TensorFlow.js (wasm backend) on one MLP training
# step in Node; installs the peer into scripts/bench_web/node_modules (git-ignored) and builds
# wasm/pkg when it is missing. A benchmark, not a test: it prints, it does not judge.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[ -d node_modules/@tensorflow/tfjs-backend-wasm ] || npm install --no-audit --no-fund --loglevel=error
[ -f ../../wasm/pkg/node.js ] || bash ../../wasm/build.sh
node bench.mjs
