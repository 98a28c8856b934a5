#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz", build/fuzz) and runs each for a given time on
# one core, seeded from tests/fuzz/corpus/<target>/ with tests/fuzz/<target>.dict. Prints one
# line per target: executions, executions per second and coverage (edges, features).
# A crash, leak, timeout or over-allocation is copied to tests/fuzz/regressions/<target>/
# (CTest then replays it in every build: fuzz_regressions_<target>) and the script fails.
#   scripts/fuzz.sh [--seconds N] [--runs N] [--timeout S] [target...]   default 600 s per target, every target
# --runs stops each target after N executions (the time limit still applies as a cap).
# --timeout is the seconds one input may take before it counts as a hang (default 10); raise it on
# a machine that builds beside the fuzzer, where a starved input otherwise reads as a hang.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
timeout=10
runs=()
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs=(-runs="$2"); shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/*_fuzz.cpp; do
    name=$(basename "$source" _fuzz.cpp)
    targets+=("$name")
  done
fi

failed=0
printf '%-12s %14s %10s %8s %8s  %s\n' target executions execs/s cov ft result
for t in "${targets[@]}"; do
  work="build/fuzz/runs/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  status=ok
  # The seeds stay read-only; what the fuzzer finds new goes to the work corpus, which later
  # runs start from. rss/malloc limits catch unbounded allocation, -timeout catches hangs.
  build/fuzz/tests/fuzz/"${t}"_fuzz "${dict[@]}" -max_total_time="$seconds" "${runs[@]}" -timeout="$timeout" -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "tests/fuzz/corpus/$t" >"$work/log.txt" 2>&1 || status=FAILED
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log.txt" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log.txt" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$work/log.txt" | tail -1 | cut -d' ' -f2)
  if [ "$status" != ok ]; then
    failed=1
    mkdir -p "tests/fuzz/regressions/$t"
    for artifact in "$work"/artifacts/*; do
      [ -f "$artifact" ] && cp "$artifact" "tests/fuzz/regressions/$t/" && status="FAILED: tests/fuzz/regressions/$t/$(basename "$artifact")"
    done
    grep -m3 -E 'ERROR|SUMMARY|property violated' "$work/log.txt" >&2 || tail -5 "$work/log.txt" >&2
  fi
  printf '%-12s %14s %10s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$status"
done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), one core per target, ${seconds} s each"
exit $failed
