#!/usr/bin/env bash
# README's main-job command: sets up, builds, and runs the most complete pipeline fp8sim has so far.
# `simrun --workload bert-base` (quantize, lower, simulate, verify, cost, report FP8 against INT8; issue #6)
# replaces it once it lands. Until then this runs the same stages one by one:
#   1. simrun quantize: cast real CIFAR-10 ResNet-20 weights to E4M3 / E5M2 / INT8 (scale 1, no calibration);
#   2. fp8sim-ptq: post-training quantization accuracy of ResNet-20 on real CIFAR-10 images, FP32 vs INT8 vs
#      E4M3 (calibration on the first 256 images, evaluation on the next 1,000);
#   3. fp8sim_sim_run: one BERT-base-sized GEMM (128 x 768 x 768, random SYNTHETIC operand codes) on the
#      default 32x32 array, cycle-accurate in SystemC, every output checked against the golden model, for an
#      E4M3 array and for an INT8 array.
# Without ../shared, stages 1-2 say so and use a small synthetic file or are skipped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
bin="$root/build"
out="$bin/out"
mkdir -p "$out"

weights="$root/../shared/data/resnet-cifar10/resnet20.safetensors"
if [ ! -f "$weights" ]; then
  echo "run: $weights not found (the ../shared data is optional); casting a generated SYNTHETIC file instead" >&2
  weights="$out/example.safetensors"
  "$root/.venv/bin/python" "$root/scripts/make_example_safetensors.py" "$weights"
fi
for fmt in e4m3 e5m2 int8; do
  echo "== 1. simrun quantize $(basename "$weights") --format $fmt"
  "$bin/simrun/simrun" quantize "$weights" "$out/$(basename "$weights" .safetensors)-$fmt.safetensors" \
    --format "$fmt" --quiet
done

echo "== 2. PTQ accuracy, resnet20-cifar10 (calibrate on 256 images, evaluate 1,000)"
for fmt in fp32 int8 e4m3; do
  status=0
  "$bin/workloads/fp8sim-ptq" eval --workload resnet20-cifar10 --format "$fmt" --eval-offset 256 \
    --eval-count 1000 || status=$?
  if [ "$status" -eq 77 ]; then echo "   (skipped: CIFAR-10 data not available)"; break; fi
  [ "$status" -eq 0 ] || exit "$status"
done

echo "== 3. cycle-accurate simulation, 128 x 768 x 768 GEMM (SYNTHETIC operands), default 32x32 array"
int8_cfg="$out/default32-int8.toml"
sed -e 's/^pe = .*/pe = "int8"/' -e 's/^accumulator = .*/accumulator = "int32"/' -e 's/^name = .*/name = "default32-int8"/' \
  "$root/sim/configs/default32.toml" > "$int8_cfg"
for cfg in "$root/sim/configs/default32.toml" "$int8_cfg"; do
  "$bin/sim/fp8sim_sim_run" --config "$cfg" --m 128 --k 768 --n 768
done
