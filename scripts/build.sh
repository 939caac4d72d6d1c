#!/usr/bin/env bash
# Configures and builds fp8sim into build/ (or the folder given as $1) with Ninja.
#   scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"; shift || true
cmake -S "$root" -B "$dir" -G Ninja -DFP8SIM_PYTHON="$root/.venv/bin/python" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
