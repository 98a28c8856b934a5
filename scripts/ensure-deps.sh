#!/usr/bin/env bash
# Makes sure the system packages and npm packages hooklab builds with are present.
# Installs what is missing with apt when it can (root, or passwordless sudo); otherwise prints
# the one command to run. Called by `npm start` and `npm test`, and by .ci/run; the benchmarks
# call it with --bench, which adds what their peers need (PyTorch, OpenBLAS).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config      # native build
  libgtest-dev                          # native tests
  libxnnpack-dev libpthreadpool-dev     # native matrix products
  nlohmann-json3-dev                    # JSON in C++
  emscripten                            # WebAssembly build (3.1.6 on Debian 12)
  chromium fonts-dejavu-core            # browser tests and benchmarks (headless)
  clang libclang-rt-14-dev              # fuzz targets (libclang_rt.fuzzer-x86_64.a, ASan, UBSan)
  clang-format clang-tidy               # npm run lint
  python3-numpy                         # the generated random test models (models/tools/make_test_models.py)
)
if [ "${1:-}" = "--bench" ]; then
  # the random GPT-2-small-shaped model (numpy) and the PyTorch peers, on OpenBLAS
  packages+=(python3-torch libopenblas0-pthread)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "hooklab: installing missing system packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  elif sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "hooklab: run this once, then retry:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "hooklab: Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
# npm packages (lockfile-exact); reinstall when package-lock.json changed since the last install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
