#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests and trials of
# deploy/slurm/index.sh: munged, slurmctld and slurmd (Debian packages munge and
# slurm-wlm), all started by root with their configuration, key, sockets, state
# and logs in one directory; nothing under /etc is touched.
#
#   deploy/slurm/one-node-cluster.sh start [DIR]   # prints: export SLURM_CONF=DIR/slurm.conf
#   deploy/slurm/one-node-cluster.sh stop  [DIR]   # stops the daemons started here, removes DIR
#
# DIR defaults to $FAIR_SLURM_DIR, else /tmp/fair-slurm. Slurm's clients (sbatch,
# sinfo, ...) find the cluster through SLURM_CONF. The node has the CPUs and memory
# `slurmd -C` finds; ports: $FAIR_SLURM_PORT (slurmctld) and the next (slurmd),
# 6817 and 6818 by default. `start` returns once `sinfo` shows the node idle (or
# fails after 60 s, with the daemons' logs).
set -euo pipefail

usage() { echo "usage: $0 start|stop [DIR]" >&2; exit 1; }
[ $# -ge 1 ] || usage
action=$1
dir=${2:-${FAIR_SLURM_DIR:-/tmp/fair-slurm}}
port=${FAIR_SLURM_PORT:-6817}

start() {
  [ "$(id -u)" -eq 0 ] || { echo "$0: start needs root (SlurmUser=root)" >&2; exit 1; }
  for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || { echo "$0: $tool missing: apt-get install slurm-wlm munge" >&2; exit 1; }
  done
  if [ -e "$dir/slurm.conf" ]; then
    echo "$0: $dir holds a cluster already: stop it first ($0 stop $dir)" >&2
    exit 1
  fi
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 700 "$dir/munge"
  dir=$(cd "$dir" && pwd)

  # munge: a 1 KiB key of our own, its socket in DIR (--force: DIR may sit
  # under a world-writable /tmp, which munged otherwise refuses).
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed"

  host=$(hostname -s)
  node=$(slurmd -C | head -n 1)   # NodeName=HOST CPUs=... RealMemory=...
  cat >"$dir/slurm.conf" <<CONF
# Written by deploy/slurm/one-node-cluster.sh: a one-node cluster for tests.
ClusterName=fairtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
$node State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 120); do
    if [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.5
  done
  echo "$0: the node is not idle after 60 s: $(sinfo -h -o '%T %E' 2>&1)" >&2
  tail -n 20 "$dir"/log/*.log >&2
  stop
  exit 1
}

# Ends a daemon by the pid file it wrote, waiting for it (10 s, then SIGKILL).
end() {
  local pidfile=$1 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  [ -d "$dir" ] || return 0
  end "$dir/slurmd.pid"
  end "$dir/slurmctld.pid"
  end "$dir/munge/munged.pid"
  rm -rf "$dir"
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
