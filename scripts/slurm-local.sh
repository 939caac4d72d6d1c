#!/usr/bin/env bash
# A throwaway single-node Slurm cluster that lives in one folder (for tests and for trying the sweep launcher
# on one machine). Needs root and Debian's slurmctld, slurmd, slurm-client and munge (scripts/setup.sh).
#   scripts/slurm-local.sh start DIR   starts munged, slurmctld and slurmd with everything under DIR, waits until
#                                      the node is idle, prints "export SLURM_CONF=DIR/etc/slurm.conf" (eval it)
#   scripts/slurm-local.sh stop DIR    cancels every job, stops slurmd, slurmctld and munged by the PIDs in DIR's
#                                      pid files (never by name) and waits until they are gone
# Nothing outside DIR is written; the daemons listen on free ports of 127.0.0.1 only.
set -euo pipefail

die() { echo "slurm-local: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: scripts/slurm-local.sh start|stop DIR"
cmd="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
conf="$dir/etc/slurm.conf"

# Alive: a non-empty /proc/PID/cmdline (a stopped daemon can linger as a zombie, which has none).
alive() { [ -n "$1" ] && [ -n "$(tr -d '\0' < "/proc/$1/cmdline" 2>/dev/null)" ]; }

stop_pid() {  # stop_pid NAME PIDFILE
  local pid
  pid="$(cat "$2" 2>/dev/null || true)"
  alive "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do alive "$pid" || return 0; sleep 0.05; done
  echo "slurm-local: $1 (pid $pid) did not stop in 5 s; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
}

if [ "$cmd" = stop ]; then
  if [ -f "$conf" ] && [ -f "$dir/run/slurmctld.pid" ] && alive "$(cat "$dir/run/slurmctld.pid")"; then
    export SLURM_CONF="$conf"
    scancel --user=root >/dev/null 2>&1 || true
    for _ in $(seq 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  stop_pid slurmd "$dir/run/slurmd.pid"
  stop_pid slurmctld "$dir/run/slurmctld.pid"
  stop_pid munged "$dir/run/munged.pid"
  exit 0
fi
[ "$cmd" = start ] || die "unknown command '$cmd' (start or stop)"
[ "$(id -u)" -eq 0 ] || die "needs root (slurmd runs jobs as their users)"
for b in munged slurmctld slurmd sbatch squeue sinfo scancel; do
  command -v "$b" >/dev/null || die "$b not found (scripts/setup.sh installs slurmctld slurmd slurm-client munge)"
done

mkdir -p "$dir"/{etc,run,log,state,spool,munge-key}
chmod 755 "$dir" "$dir/run"
chmod 700 "$dir/munge-key"
# munge: the key apart from the socket, whose folder and parents must be world-executable.
dd if=/dev/urandom bs=1024 count=1 of="$dir/munge-key/munge.key" status=none
chmod 400 "$dir/munge-key/munge.key"
munged --key-file="$dir/munge-key/munge.key" --socket="$dir/run/munge.socket" --pid-file="$dir/run/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/state/munge.seed" \
  || die "munged did not start (see $dir/log/munged.log)"

ports="$(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
read -r ctld_port slurmd_port <<< "$ports"
host="$(hostname -s)"
node="$(slurmd -C | head -1)"
node_name="$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<< "$node")"
: > "$dir/etc/plugstack.conf"
cat > "$conf" <<EOF
ClusterName=fp8sim-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MpiDefault=none
ReturnToService=2
PlugStackConfig=$dir/etc/plugstack.conf
$node NodeAddr=127.0.0.1
PartitionName=local Nodes=$node_name Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"
slurmctld -f "$conf" || die "slurmctld did not start (see $dir/log/slurmctld.log)"
slurmd -f "$conf" || die "slurmd did not start (see $dir/log/slurmd.log)"
for _ in $(seq 200); do
  [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = idle ] && { echo "export SLURM_CONF=$conf"; exit 0; }
  sleep 0.1
done
die "the node did not become idle in 20 s (logs in $dir/log)"
