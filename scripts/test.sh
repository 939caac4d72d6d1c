#!/usr/bin/env bash
# README's test command: sets up, builds and runs every test, then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Pass ctest arguments to select a slice, e.g.
#   scripts/test.sh -L unit        scripts/test.sh -LE slow
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
# Without arguments: every test except the label `exhaustive` (all 2^32 float32 inputs for every FP8 row:
# scripts/exhaustive.sh runs those; the default run checks every FP8 row on its boundary region, bf16 on all 2^32).
if [ $# -eq 0 ]; then set -- -LE exhaustive; default_run=1; else default_run=0; fi
(cd "$root/build" && ctest -j "$(nproc)" --output-on-failure "$@")
if [ "$default_run" -eq 1 ]; then
  echo "test: sanitizer build (ASan + UBSan), unit tests"
  "$root/scripts/build.sh" "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DFP8SIM_SANITIZE=ON -DFP8SIM_WITH_RTL=OFF
  (cd "$root/build-asan" && ctest -j "$(nproc)" --output-on-failure -L unit -LE slow)
fi
