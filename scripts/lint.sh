#!/usr/bin/env bash
# The code-hygiene checks CI runs (`npm run lint`): ESLint (typescript-eslint) on every
# TypeScript and JavaScript file, clang-format on every C++ file (reports, never rewrites;
# `scripts/lint.sh --fix` rewrites), and clang-tidy's basic profile (.clang-tidy) on core/ and
# cli/ against build/native's compile commands.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
[ "${1:-}" = "--fix" ] && fix=1
mapfile -t cpp < <(git ls-files '*.cpp' '*.h')

echo "lint: eslint"
if ((fix)); then npx eslint --fix .; else npx eslint .; fi

echo "lint: clang-format (${#cpp[@]} files)"
if ((fix)); then clang-format -i "${cpp[@]}"; else clang-format --dry-run --Werror "${cpp[@]}"; fi

[ -f build/native/compile_commands.json ] || { cmake --preset native >/dev/null; cmake --build --preset native; }
# Only what the native build compiles: the wasm SIMD kernels are checked by the wasm build itself.
mapfile -t tidy < <(node -e 'for (const e of require("./build/native/compile_commands.json")) { const f = require("path").relative(process.cwd(), e.file); if (/^(core|cli)\//.test(f)) console.log(f); }' | sort -u)
echo "lint: clang-tidy (${#tidy[@]} files)"
# clang-tidy exits non-zero on any finding; the findings themselves decide below.
{ printf '%s\n' "${tidy[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build/native --quiet 2>&1 || true; } |
  { grep -v -E '^[0-9]+ warnings? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter' || true; } > build/clang-tidy.log
if grep -q -E ': (error|warning):' build/clang-tidy.log; then
  grep -E ': (error|warning):' build/clang-tidy.log | sort -u
  echo "lint: clang-tidy found the problems above (full log: build/clang-tidy.log)" >&2
  exit 1
fi
echo "lint: clean"
