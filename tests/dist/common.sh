# Shared by the dist tests: sourced with the arguments simrun, source folder, reference folder.
set -euo pipefail
simrun="$1" src="$2" ref="$3"
# The sweep: minilm-l2 (2 encoder layers of all-MiniLM-L6-v2) on small8, 4 design points, 1 item each.
spec="array=8x8,16x16;format=e4m3,int8"
opts=(--workload minilm-l2 --config "$src/sim/configs/small8.toml" --seq 4 --calib 1)
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="$(mktemp -d)"
chmod 755 "$tmp"
cleanup_tmp() { rm -rf "$tmp"; }
trap cleanup_tmp EXIT
trap 'exit 143' TERM INT  # a killed test still runs its EXIT trap (the Slurm test stops its daemons there)
need_reference() { [ -f "$ref/sweep.csv" ] || skip "no reference sweep (dist:reference skipped or failed)"; }
# same_as_reference DIR: the merged outputs in DIR equal the single-process sweep's, byte for byte.
same_as_reference() {
  local f
  for f in sweep.csv sweep.json sweep.html report.json; do
    cmp "$1/$f" "$ref/$f" || fail "$1/$f differs from the single-process sweep's ($ref/$f)"
  done
}
