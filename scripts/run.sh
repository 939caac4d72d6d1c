#!/usr/bin/env bash
# README's main-job command: sets up, builds, and runs the most complete pipeline fp8sim has so far.
# Today that is the FP8/INT8 cast of a real network's weights (simrun quantize); `simrun --workload
# bert-base` replaces it when the simulator lands (issues #4-#6).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
simrun="$root/build/simrun/simrun"
weights="$root/../shared/data/resnet-cifar10/resnet20.safetensors"
out="$root/build/out"
mkdir -p "$out"
if [ ! -f "$weights" ]; then
  echo "run: $weights not found (the ../shared data is optional); casting a generated file instead" >&2
  weights="$out/example.safetensors"
  "$root/.venv/bin/python" "$root/scripts/make_example_safetensors.py" "$weights"
fi
for fmt in e4m3 e5m2 int8; do
  echo "== simrun quantize $(basename "$weights") --format $fmt"
  "$simrun" quantize "$weights" "$out/$(basename "$weights" .safetensors)-$fmt.safetensors" --format "$fmt"
done
