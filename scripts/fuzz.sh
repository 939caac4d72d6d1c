#!/usr/bin/env bash
# Fuzzes every input parser with libFuzzer (clang, AddressSanitizer + UndefinedBehaviorSanitizer):
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET ...]
# Targets (fuzz/fuzz_<target>.cpp): safetensors config commands workload_json sweep_spec stsb_tsv cifar_bin.
# Builds into build-fuzz/, starts each target from its committed corpus fuzz/corpus/<target>/ (the working
# corpus grows in build-fuzz/corpus/<target>/), and writes crashing inputs to build-fuzz/findings/<target>/.
# Prints one line per target: seconds run, executions, corpus size, findings. A finding: fix the parser,
# copy the input into fuzz/corpus/<target>/ (CTest's fuzz_replay:<target> then replays it in every build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors config commands workload_json sweep_spec stsb_tsv cifar_bin)
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs clang)"; exit 2; }
bdir="$root/build-fuzz"
cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFP8SIM_FUZZ=ON -DFP8SIM_SANITIZE=ON -DFP8SIM_WITH_RTL=OFF \
  -DFP8SIM_BUILD_TESTS=OFF >/dev/null
cmake --build "$bdir" -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
unset FP8SIM_MINILM_DIR FP8SIM_SHARED  # the targets must not read real data
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
status=0
printf '%-14s %8s %12s %8s %s\n' target seconds executions corpus findings
for t in "${targets[@]}"; do
  work="$bdir/corpus/$t"; finds="$bdir/findings/$t"
  mkdir -p "$work" "$finds"
  log="$bdir/fuzz_$t.log"
  set +e
  "$bdir/fuzz/fuzz_$t" "$work" "$root/fuzz/corpus/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="$finds/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  n=$(find "$finds" -type f | wc -l)
  [ "$rc" -eq 0 ] && [ "$n" -eq 0 ] || status=1
  printf '%-14s %8s %12s %8s %s\n' "$t" "$secs" "$execs" "$(find "$work" -type f | wc -l)" \
    "$([ "$n" -eq 0 ] && echo none || echo "$n in $finds (log: $log)")"
done
exit $status
