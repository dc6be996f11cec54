#!/usr/bin/env bash
# A one-node, loopback-only Slurm 22.05 cluster (slurmctld + slurmd + munged from Debian) for testing
# jobscripts/. Everything it writes lives under $SLURM_ROOT; nothing goes to /etc.
#
# Usage: SLURM_ROOT=DIR tests/slurm/start-slurm.sh start|stop|status|env
#   start   write the configuration (first time) and start munged, slurmctld and slurmd; idempotent
#   stop    cancel the cluster's jobs, stop the daemons and end every process left by its jobs
#   status  which daemons run, and sinfo
#   env     the line that points the Slurm clients at this cluster:  eval "$(start-slurm.sh env)"
#   node    the name of the cluster's one node
# Run as root (slurmd starts job steps as the submitting user). SLURM_ROOT defaults to
# /tmp/hemeplm-slurm; keep it short: the munge socket path must stay under 108 characters.
set -u

SLURM_ROOT=${SLURM_ROOT:-/tmp/hemeplm-slurm}
etc=$SLURM_ROOT/etc
run=$SLURM_ROOT/run
log=$SLURM_ROOT/log
state=$SLURM_ROOT/state
conf=$etc/slurm.conf
munge_socket=$run/munge.socket.2
export SLURM_CONF=$conf
# Every daemon is started with this in its environment, so that `stop` can find what they (and the job
# steps they fork) leave behind without touching anyone else's processes.
marker="HEMEPLM_TEST_SLURM_ROOT=$SLURM_ROOT"
# The node's name in Slurm; every address in slurm.conf is 127.0.0.1.
node=hemeplmnode
# Listening on loopback only (NoInAddrAny) makes slurmctld and slurmd bind to the address of the machine's
# host name, which on a CI machine may not resolve (the daemons then die at start) or may not be loopback.
# So the daemons run, where root may, in their own UTS namespace whose host name is "localhost". Where it
# may not, they keep the machine's host name, and listen on every address unless it resolves to loopback.
# The choice is made once, with the configuration, and kept in $run/daemon-host.
run_daemon() {
  if [ "$(cat "$run/daemon-host")" = localhost ]; then
    unshare --uts sh -c 'hostname localhost && exec "$@"' sh env "$marker" "$@"
  else
    env "$marker" "$@"
  fi
}

pick_daemon_host() {
  if unshare --uts sh -c 'hostname localhost' 2>/dev/null; then
    echo localhost
  else
    hostname -s 2>/dev/null || hostname
  fi
}

die() {
  echo "start-slurm.sh: $*" >&2
  exit 1
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# Two free TCP ports next to each other, so that two test clusters (or a site's Slurm) can coexist.
pick_ports() {
  local first tries
  for tries in $(seq 1 50); do
    first=$((20000 + (RANDOM % 20000) * 2))
    if port_free "$first" && port_free $((first + 1)); then
      echo "$first"
      return 0
    fi
  done
  die "no two free TCP ports found after $tries tries"
}

write_conf() {
  mkdir -p "$etc" "$run" "$log" "$state/ctld" "$state/d" "$SLURM_ROOT/tmp"
  chmod 755 "$SLURM_ROOT" "$run"  # munged refuses a socket directory others may write to
  if [ ! -s "$run/munge.key" ]; then
    dd if=/dev/urandom of="$run/munge.key" bs=1024 count=1 status=none
  fi
  chmod 400 "$run/munge.key"
  [ -s "$conf" ] && return 0  # keep the ports of a cluster that may still be running

  local cpus mem_mb real_mem port host listen="CommunicationParameters=NoCtldInAddrAny,NoInAddrAny"
  # slurmctld runs only where SlurmctldHost names the host it runs on; the address in parentheses keeps
  # the clients from resolving that name.
  host=$(pick_daemon_host)
  [ -n "$host" ] || die "this machine has no host name (hostname printed nothing)"
  echo "$host" >"$run/daemon-host"
  if [ "$host" != localhost ] && ! getent ahostsv4 "$host" | awk '{print $1}' | grep -q '^127\.'; then
    listen="# CommunicationParameters: none, see start-slurm.sh"
    echo "start-slurm.sh: host name $host does not resolve to loopback and unshare --uts is not permitted:" \
      "the test cluster listens on every address" >&2
  fi
  cpus=$(nproc)
  [ "$cpus" -lt 2 ] && cpus=2  # the tests run 2-task jobs; config_overrides lets the node claim 2
  mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  real_mem=$((mem_mb * 8 / 10))
  port=$(pick_ports) || exit 1
  cat >"$conf" <<EOF
# Written by tests/slurm/start-slurm.sh: one node, loopback only, state under $SLURM_ROOT.
ClusterName=hemeplmtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
# Both are needed: NoInAddrAny alone leaves slurmctld listening on 0.0.0.0.
$listen
MailProg=/bin/true
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
TmpFS=$SLURM_ROOT/tmp
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$log/slurmctld.log
SlurmdLogFile=$log/slurmd.log
ProctrackType=proctrack/linuxproc
# Binds each task to its cores (srun --cpu-bind=cores in the job scripts); no cgroups needed.
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default per-CPU memory every job gets the whole node's memory and jobs run one at a time.
DefMemPerCPU=$((real_mem / cpus / 2))
SchedulerType=sched/backfill
# Start batch jobs at once (the default waits up to 3 s).
SchedulerParameters=batch_sched_delay=0
MpiDefault=pmix
ReturnToService=2
# Finished jobs stay visible to scontrol for an hour: there is no accounting database (no sacct).
MinJobAge=3600
KillWait=10
SlurmdParameters=config_overrides
FirstJobId=$((1000 + RANDOM % 9000))
NodeName=$node NodeHostname=$node NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

node_state() { sinfo -h -n "$node" -o %T 2>/dev/null; }

start() {
  [ "$(id -u)" = 0 ] || die "run as root"
  local bin
  for bin in munged slurmctld slurmd sinfo; do
    command -v "$bin" >/dev/null || die "$bin not found (Debian: slurmctld slurmd slurm-client munge)"
  done
  write_conf
  if ! pid_alive "$run/munged.pid"; then
    rm -f "$munge_socket" "$munge_socket.lock"
    run_daemon munged --force --socket="$munge_socket" --key-file="$run/munge.key" \
      --pid-file="$run/munged.pid" --log-file="$log/munged.log" --seed-file="$run/munged.seed" ||
      die "munged did not start; see $log/munged.log"
  fi
  if ! pid_alive "$run/slurmctld.pid"; then
    run_daemon slurmctld -f "$conf" || die "slurmctld did not start; see $log/slurmctld.log"
  fi
  if ! pid_alive "$run/slurmd.pid"; then
    run_daemon slurmd -f "$conf" -N "$node" || die "slurmd did not start; see $log/slurmd.log"
  fi
  # Bounded by time, not by tries: with slurmctld down each sinfo waits out its message timeout.
  local t0=$SECONDS d state=""
  while ((SECONDS - t0 < 30)); do
    for d in munged slurmctld slurmd; do
      # A daemon writes its pid file a moment after the command that started it returns.
      pid_alive "$run/$d.pid" || { [ ! -e "$run/$d.pid" ] && ((SECONDS - t0 < 5)); } || {
        tail -n 8 "$log/$d.log" >&2
        die "$d exited during start-up; see $log/$d.log (last lines above)"
      }
    done
    state=$(node_state)
    case "$state" in idle | mixed | allocated) return 0 ;; esac
    sleep 0.2
  done
  tail -n 5 "$log"/*.log >&2
  die "node $node is '$state', not idle, after 30 s"
}

# Processes started by this cluster: the daemons and slurmstepd (they carry the marker) and the jobs'
# processes (their environment names this cluster's slurm.conf and a job id).
cluster_pids() {
  local environ pid vars
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    vars=$({ tr '\0' '\n' <"$environ"; } 2>/dev/null) || continue
    case $'\n'"$vars"$'\n' in
      *$'\n'"$marker"$'\n'*) echo "$pid" ;;
      *$'\n'"SLURM_CONF=$conf"$'\n'*$'\n'SLURM_JOB_ID=* | *$'\n'SLURM_JOB_ID=*$'\n'"SLURM_CONF=$conf"$'\n'*) echo "$pid" ;;
    esac
  done
}

any_alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

# TERM to every pid given, up to $1 tenths of a second for them to end, then KILL to those left.
terminate() {
  local tenths=$1 pid
  shift
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null
  for _ in $(seq 1 "$tenths"); do
    any_alive "$@" || return 0
    sleep 0.1
  done
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null; done
  return 0
}

# Stops the daemons of the given pid files together (each takes about 2 s to shut down).
stop_daemons() {
  local file pids=()
  for file in "$@"; do
    pid_alive "$file" && pids+=("$(cat "$file")")
  done
  terminate 100 "${pids[@]}"
  rm -f "$@"
}

stop() {
  local jobs pids=()
  if pid_alive "$run/slurmctld.pid"; then
    jobs=$(squeue -h -o %i 2>/dev/null)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086  # one job id per word
      scancel $jobs 2>/dev/null
      for _ in $(seq 1 50); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  stop_daemons "$run/slurmd.pid" "$run/slurmctld.pid"
  # Job processes that outlived their slurmstepd (there should be none).
  read -r -a pids <<<"$(cluster_pids | grep -vx "$(cat "$run/munged.pid" 2>/dev/null || echo none)" | tr '\n' ' ')"
  terminate 20 "${pids[@]}"
  stop_daemons "$run/munged.pid"
  read -r -a pids <<<"$(cluster_pids | tr '\n' ' ')"
  terminate 20 "${pids[@]}"
  return 0
}

status() {
  local d
  for d in munged slurmctld slurmd; do
    if pid_alive "$run/$d.pid"; then echo "$d running (pid $(cat "$run/$d.pid"))"; else echo "$d not running"; fi
  done
  pid_alive "$run/slurmctld.pid" && sinfo
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  node) echo "$node" ;;
  pids) cluster_pids ;;
  *)
    echo "usage: SLURM_ROOT=DIR $0 start|stop|status|env|node|pids" >&2
    exit 2
    ;;
esac
