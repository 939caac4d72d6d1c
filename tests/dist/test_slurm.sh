#!/usr/bin/env bash
# scripts/sweep-slurm.sh on a throwaway single-node Slurm cluster (scripts/slurm-local.sh: munged, slurmctld and
# slurmd started from a temporary folder, stopped by PID at the end, also on failure): the 4-point sweep as a
# 4-task job array plus the merge job (afterok), compared byte for byte with the single-process sweep.
source "$(dirname "$0")/common.sh"
need_reference
[ "$(id -u)" -eq 0 ] || skip "not root (the local Slurm cluster's slurmd needs root)"
for b in munged slurmctld slurmd sbatch squeue; do
  command -v "$b" >/dev/null || skip "$b not installed (scripts/setup.sh installs slurmctld slurmd slurm-client munge)"
done
cluster="$tmp/cluster"
stop_cluster() { "$src/scripts/slurm-local.sh" stop "$cluster" || true; cleanup_tmp; }
trap stop_cluster EXIT
eval "$("$src/scripts/slurm-local.sh" start "$cluster")"
t0=$SECONDS
"$src/scripts/sweep-slurm.sh" --shards 4 --out "$tmp/out" --simrun "$simrun" --wait 150 -- "$spec" "${opts[@]}" \
  || { tail -n 5 "$tmp/out"/logs/* >&2 || true; fail "sweep-slurm.sh failed"; }
echo "job array and merge: $((SECONDS - t0)) s"
# Every array task ran (one manifest per shard), and the merge equals the single-process sweep.
for i in 0 1 2 3; do [ -f "$tmp/out/shards/shard-$i-of-4.json" ] || fail "shard $i/4 left no manifest"; done
same_as_reference "$tmp/out"
echo "ok: the 4-task Slurm job array, merged, equals the single-process sweep"
