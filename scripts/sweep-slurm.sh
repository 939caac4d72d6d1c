#!/usr/bin/env bash
# Runs a `simrun sweep` on Slurm: a job array with one task per shard (simrun sweep ... --shard I/N --out DIR)
# and a merge job that starts after every task succeeded (--dependency=afterok), writing DIR/sweep.csv,
# DIR/sweep.json, DIR/sweep.html and DIR/report.json: the bytes a single-process `simrun sweep` writes.
#
#   scripts/sweep-slurm.sh --shards N --out DIR [launcher options] -- SPEC [simrun sweep options]
#
# launcher options:
#   --shards N          array tasks (shards); design points I, I+N, ... go to task I           (required)
#   --out DIR           result folder, shared by every task (a shared file system on a real cluster) (required)
#   --simrun PATH       the simrun binary the jobs run [build/simrun/simrun of this checkout]
#   --cpus-per-task C   CPUs per task, also simrun's --jobs (design points of a shard in parallel) [1]
#   --max-parallel M    at most M tasks at once (--array=0-(N-1)%M) [no limit]
#   --time T            time limit per task (sbatch --time) [the partition's]
#   --partition P       partition [the default one]
#   --wait [SECONDS]    wait for the merge (polling squeue; default limit 3600 s); exit status 0 only when every
#                       task and the merge succeeded; on a failed task the merge job is cancelled
# Job scripts go to DIR/jobs, logs to DIR/logs (shard-%A_%a.out, merge-%j.out). Rerunning resumes: design points
# whose result is in DIR already are not run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "sweep-slurm: $*" >&2; exit 2; }

shards="" out="" simrun="$root/build/simrun/simrun" cpus=1 maxpar="" time_limit="" partition="" wait_s=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    --simrun) simrun="${2:-}"; shift 2 ;;
    --cpus-per-task) cpus="${2:-}"; shift 2 ;;
    --max-parallel) maxpar="${2:-}"; shift 2 ;;
    --time) time_limit="${2:-}"; shift 2 ;;
    --partition) partition="${2:-}"; shift 2 ;;
    --wait) if [[ "${2:-}" =~ ^[0-9]+$ ]]; then wait_s="$2"; shift 2; else wait_s=3600; shift; fi ;;
    --) shift; break ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help; simrun's arguments go after --)" ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards N: a positive integer is required"
[ -n "$out" ] || die "--out DIR is required"
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task '$cpus' is not a positive integer"
[ -z "$maxpar" ] || [[ "$maxpar" =~ ^[1-9][0-9]*$ ]] || die "--max-parallel '$maxpar' is not a positive integer"
[ $# -gt 0 ] || die "no SPEC (simrun sweep's arguments go after --)"
[ -x "$simrun" ] || die "simrun not found at $simrun (build it, or --simrun PATH)"
command -v sbatch >/dev/null || die "sbatch not found (Slurm client tools)"
simrun="$(cd "$(dirname "$simrun")" && pwd)/$(basename "$simrun")"
mkdir -p "$out"/{jobs,logs}
out="$(cd "$out" && pwd)"

# The sweep's arguments must parse before anything is queued (one error line, as simrun gives it).
"$simrun" sweep "$@" --help >/dev/null

q() { printf '%q ' "$@"; }
cat > "$out/jobs/shard.sh" <<EOS
#!/usr/bin/env bash
# One shard of the sweep (array task \$SLURM_ARRAY_TASK_ID of $shards), written by scripts/sweep-slurm.sh.
set -euo pipefail
exec $(q "$simrun") sweep $(q "$@") --shard "\$SLURM_ARRAY_TASK_ID/$shards" --out $(q "$out") --jobs $cpus --quiet
EOS
cat > "$out/jobs/merge.sh" <<EOS
#!/usr/bin/env bash
# The merge of the $shards shards, written by scripts/sweep-slurm.sh.
set -euo pipefail
exec $(q "$simrun") sweep merge $(q "$out") --csv $(q "$out/sweep.csv") --json $(q "$out/sweep.json") \\
  --report-html $(q "$out/sweep.html") --report-json $(q "$out/report.json") --quiet > /dev/null
EOS
chmod +x "$out/jobs/shard.sh" "$out/jobs/merge.sh"

common=(--parsable --chdir "$PWD")
[ -n "$partition" ] && common+=(--partition "$partition")
[ -n "$time_limit" ] && common+=(--time "$time_limit")
array="0-$((shards - 1))${maxpar:+%$maxpar}"
aid="$(sbatch "${common[@]}" --job-name fp8sim-sweep --array "$array" --cpus-per-task "$cpus" \
        -o "$out/logs/shard-%A_%a.out" "$out/jobs/shard.sh")"
aid="${aid%%;*}"
mid="$(sbatch "${common[@]}" --job-name fp8sim-sweep-merge --dependency "afterok:$aid" --kill-on-invalid-dep=yes \
        -o "$out/logs/merge-%j.out" "$out/jobs/merge.sh")"
mid="${mid%%;*}"
echo "sweep-slurm: shards: job array $aid ($shards tasks), merge: job $mid (afterok:$aid); results in $out"
[ -n "$wait_s" ] || exit 0

# Waiting: squeue, not sacct (no accounting database needed); finished jobs stay listed for a while (MinJobAge).
t_end=$((SECONDS + wait_s))
while :; do
  states="$(squeue -h -t all -j "$aid,$mid" -o '%i %T' 2>/dev/null || true)"
  failed="$(awk '$1 ~ /_/ && $2 ~ /FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED/ {print $1 " " $2}' <<< "$states")"
  merge_state="$(awk -v m="$mid" '$1 == m {print $2}' <<< "$states")"
  if [ -n "$failed" ]; then
    scancel "$mid" 2>/dev/null || true
    echo "sweep-slurm: shard task(s) failed: $(tr '\n' ' ' <<< "$failed")(logs: $out/logs); merge cancelled; rerun to resume" >&2
    exit 1
  fi
  case "$merge_state" in
    COMPLETED) echo "sweep-slurm: merged: $out/sweep.csv, sweep.json, sweep.html, report.json"; exit 0 ;;
    FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)
      echo "sweep-slurm: merge job $mid $merge_state: $(tail -n 3 "$out/logs/merge-$mid.out" 2>/dev/null | tr '\n' ' ')" >&2
      exit 1 ;;
  esac
  [ $SECONDS -lt $t_end ] || { echo "sweep-slurm: still not merged after $wait_s s (jobs $aid, $mid keep running)" >&2; exit 1; }
  sleep 0.2
done
