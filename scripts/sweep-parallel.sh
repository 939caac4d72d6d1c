#!/usr/bin/env bash
# Runs a `simrun sweep` on one host with GNU parallel: N shards (simrun sweep ... --shard I/N --out DIR), at most
# J at once, then the merge, writing DIR/sweep.csv, DIR/sweep.json, DIR/sweep.html and DIR/report.json: the bytes
# a single-process `simrun sweep` writes.
#
#   scripts/sweep-parallel.sh --out DIR [--shards N] [--jobs J] [--simrun PATH] -- SPEC [simrun sweep options]
#
#   --shards N     shards [the CPU count]        --jobs J   shards running at once [the CPU count]
#   --simrun PATH  [build/simrun/simrun of this checkout]
# Each shard runs its design points one at a time (simrun --jobs 1); logs in DIR/logs. Rerunning resumes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "sweep-parallel: $*" >&2; exit 2; }
shards="$(nproc)" jobs="$(nproc)" out="" simrun="$root/build/simrun/simrun"
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="${2:-}"; shift 2 ;;
    --jobs) jobs="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    --simrun) simrun="${2:-}"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help; simrun's arguments go after --)" ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards '$shards' is not a positive integer"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs '$jobs' is not a positive integer"
[ -n "$out" ] || die "--out DIR is required"
[ $# -gt 0 ] || die "no SPEC (simrun sweep's arguments go after --)"
[ -x "$simrun" ] || die "simrun not found at $simrun (build it, or --simrun PATH)"
command -v parallel >/dev/null || die "GNU parallel not found (scripts/setup.sh installs it)"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd)"
"$simrun" sweep "$@" --help >/dev/null  # the arguments parse before anything runs

# One job script (arguments quoted once, here); parallel passes it the shard index.
mkdir -p "$out/jobs"
q() { printf '%q ' "$@"; }
cat > "$out/jobs/shard-local.sh" <<EOS
#!/usr/bin/env bash
# Shard \$1 of $shards of the sweep, written by scripts/sweep-parallel.sh.
exec $(q "$simrun") sweep $(q "$@") --shard "\$1/$shards" --out $(q "$out") --jobs 1 --quiet 2> $(printf %q "$out/logs")/shard-\$1.err
EOS
chmod +x "$out/jobs/shard-local.sh"
status=0
parallel --will-cite --halt soon,fail=1 -j "$jobs" --joblog "$out/logs/joblog.txt" "$out/jobs/shard-local.sh" {} \
  ::: $(seq 0 $((shards - 1))) || status=$?
if [ $status -ne 0 ]; then
  echo "sweep-parallel: $status shard(s) failed (logs: $out/logs/shard-*.err); rerun to resume" >&2
  exit 1
fi
"$simrun" sweep merge "$out" --out "$out" --quiet > /dev/null
echo "sweep-parallel: merged $shards shards: $out/sweep.csv, sweep.json, sweep.html, report.json"
