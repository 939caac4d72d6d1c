#!/usr/bin/env bash
# The checks too long for the default test run (label `exhaustive`): every one of the 2^32 float32 inputs
# converted to every FP8 row of the format table, against ml_dtypes. About 2 minutes per format on the
# 2-core machine. Builds first (scripts/build.sh), then runs `ctest -L exhaustive` in build/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
cd "$root/build" && ctest -j "$(nproc)" --output-on-failure -L exhaustive "$@"
