#!/usr/bin/env bash
# ctest slurm.jobscripts (label slurm): runs the CPU variants of jobscripts/ on a real one-node,
# loopback-only Slurm (slurmctld, slurmd, munged from Debian; tests/slurm/start-slurm.sh):
#   1. prepare.sbatch imports the example system's reference MD into an H5MD dataset (2 ranks);
#   2. train.sbatch trains a small model with 2 ranks; mid-run the batch shell gets USR1 as
#      '--signal=B:USR1@120' would send it; the script forwards it, the ranks checkpoint, the job requeues
#      itself, and the second run resumes from that checkpoint and finishes every step;
#   3. sample.sbatch samples a short forecast with 2 ranks (srun --mpi=pmix) from the final checkpoint and
#      a 2-rank plan from 'hemeplm fragment'; the H5MD file is checked with h5py and read back by
#      'hemeplm prepare'.
# The CPU variants are the same scripts with sbatch command-line overrides (--gpus-per-node=0, 2 tasks,
# 1 core each) and HEMEPLM_* variables, as in jobscripts/README.md.
# Usage: run-slurm-test.sh HEMEPLM_BINARY WORK_DIR      Exit 77 (skipped) without root or Slurm/munge.
set -uo pipefail

[ $# -eq 2 ] || {
  echo "usage: $0 HEMEPLM_BINARY WORK_DIR" >&2
  exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
hemeplm=$1
work=$2
python=/usr/bin/python3
started=$(date +%s)

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root: the test cluster's slurmd and munged run as root"
for bin in munged slurmctld slurmd sbatch squeue scontrol scancel srun sinfo; do
  command -v "$bin" >/dev/null || skip "$bin not found (Debian: slurmctld slurmd slurm-client munge)"
done
"$python" -c 'import h5py, numpy' 2>/dev/null || skip "$python cannot import h5py and numpy (Debian: python3-h5py)"
if [ ! -f "$hemeplm" ] || [ ! -x "$hemeplm" ]; then
  echo "FAIL: $hemeplm is not an executable file" >&2
  exit 1
fi
hemeplm=$(cd "$(dirname "$hemeplm")" && pwd)/$(basename "$hemeplm")

# A test run inside a Slurm job must not hand that job's settings to the test cluster's jobs.
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SRUN|SALLOC)_')

rm -rf "$work"
mkdir -p "$work" || exit 1
work=$(cd "$work" && pwd)
# The munge socket path must stay under 108 characters: a short root in /tmp, not the build tree.
SLURM_ROOT=$(mktemp -d /tmp/hemeplm-slurm.XXXXXX) || exit 1
export SLURM_ROOT
cluster=(bash "$here/start-slurm.sh")
export SLURM_CONF=$SLURM_ROOT/etc/slurm.conf

failed=""
jobs_submitted=()
fail() {
  echo "FAIL: $*" >&2
  failed=1
  exit 1
}

show_diagnostics() {
  local f
  for f in "$work"/*.out; do
    [ -e "$f" ] || continue
    echo "---- $f (last 40 lines)"
    tail -n 40 "$f"
  done
  for jid in "${jobs_submitted[@]}"; do
    echo "---- scontrol show job $jid"
    scontrol show job "$jid" 2>&1 | grep -E 'JobState|Restarts|ExitCode|Reason|StdOut'
  done
  for f in "$SLURM_ROOT"/log/slurmctld.log "$SLURM_ROOT"/log/slurmd.log; do
    [ -e "$f" ] || continue
    echo "---- $f (last 25 lines, first-start notes about missing state files left out)"
    grep -v -e 'state file' -e 'Trying backup state' "$f" | tail -n 25
  done
}

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  kill "$watchdog" 2>/dev/null
  [ -n "$failed" ] || [ "$code" != 0 ] && show_diagnostics
  "${cluster[@]}" stop
  mkdir -p "$work/slurm-logs" && cp "$SLURM_ROOT"/log/* "$work/slurm-logs/" 2>/dev/null
  local left
  left=$("${cluster[@]}" pids)
  if [ -n "$left" ]; then
    echo "FAIL: processes of the test cluster are still running:" >&2
    # shellcheck disable=SC2086  # one pid per word
    ps -o pid,args -p $left >&2
    code=1
  fi
  rm -rf "$SLURM_ROOT"
  echo "slurm test: $([ "$code" = 0 ] && echo passed || echo failed) in $(($(date +%s) - started)) s"
  exit "$code"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
# A deadline for the whole test, below ctest's TIMEOUT: a hang then ends in diagnostics and a stopped
# cluster instead of a silent kill. The watchdog ends this script's current command (bash runs the trap
# only after it) and then the script. Its sleeps hold no pipe, so nothing waits for them after it ends.
deadline=${HEMEPLM_SLURM_TEST_DEADLINE:-540}
(
  while ((SECONDS < deadline)); do sleep 1 </dev/null >/dev/null 2>&1; done
  echo "FAIL: the test ran past its deadline of $deadline s (HEMEPLM_SLURM_TEST_DEADLINE)" >&2
  kill -TERM $$
  pkill -TERM -P $$
) &
watchdog=$!

job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# Waits until job $1 has left the queue (finished in any way); fails after $2 seconds.
wait_finished() {
  local jid=$1 limit=$2 what=$3 t0=$SECONDS
  while squeue -h -j "$jid" 2>/dev/null | grep -q .; do
    ((SECONDS - t0 > limit)) && fail "$what (job $jid) still in the queue after $limit s: $(job_field "$jid" JobState)"
    sleep 0.5
  done
}

expect_completed() {
  local jid=$1 what=$2 state code
  state=$(job_field "$jid" JobState)
  code=$(job_field "$jid" ExitCode)
  if [ "$state" != COMPLETED ] || [ "$code" != 0:0 ]; then
    fail "$what (job $jid) ended $state with exit code $code"
  fi
  echo "$what: job $jid COMPLETED, exit code 0"
}

# ---- the cluster ---------------------------------------------------------------------------------------
"${cluster[@]}" start || fail "the test cluster did not start"
node=$("${cluster[@]}" node)
srun --mpi=list 2>&1 | grep -q pmix || fail "Slurm has no pmix plugin (srun --mpi=list): install libpmix2/slurm-wlm"
echo "cluster up in $(($(date +%s) - started)) s: $(sinfo -h -o '%P %T %C' | head -n 1)"
cd "$work" || fail "cannot enter $work"

# What every job gets: loopback only (shared memory between ranks of one node), one thread per rank.
export OMPI_MCA_btl=self,vader PMIX_MCA_ptl_tcp_if_include=lo OMP_NUM_THREADS=1
export HEMEPLM="$hemeplm" HEMEPLM_MODULES="" HEMEPLM_ENV_FILE="" NCCL_SOCKET_IFNAME=lo NCCL_IB_HCA=""
cpu_variant=(--nodes=1 --ntasks-per-node=2 --gpus-per-node=0 --cpus-per-task=1 --time=00:10:00)

# ---- 1. prepare -------------------------------------------------------------------------------------
jid=$(HEMEPLM_TRAJECTORIES="$repo/inputs/example/reference-md.h5md" HEMEPLM_ATOMS=heavy \
  HEMEPLM_OUT="$work/data/train.h5md" \
  sbatch --parsable "${cpu_variant[@]}" --output="$work/prepare-%j.out" "$repo/jobscripts/prepare.sbatch") ||
  fail "sbatch prepare.sbatch"
jobs_submitted+=("$jid")
wait_finished "$jid" 60 "prepare"
expect_completed "$jid" "prepare"
[ -s "$work/data/train.h5md" ] || fail "prepare wrote no $work/data/train.h5md"

# ---- 2. train, USR1 mid-run, requeue, resume ----------------------------------------------------------
steps=120
checkpoints=$work/checkpoints
small_model=(--model.visnet.hidden 16 --model.visnet.layers 1 --model.denoiser.layers 1
  --model.denoiser.hidden 16 --model.cross_attention.blocks 1)
jid=$(HEMEPLM_DATA="$work/data/train.h5md" HEMEPLM_CHECKPOINT_DIR="$checkpoints" HEMEPLM_MODEL=tiny \
  HEMEPLM_STAGE=2 HEMEPLM_STEPS=$steps \
  sbatch --parsable "${cpu_variant[@]}" --output="$work/train-%j.out" "$repo/jobscripts/train.sbatch" \
  --batch 1 --frames 4 --lr 1e-3 --warmup-steps 5 --checkpoint-every 1000 --checkpoint-minutes 0 \
  --validate-every 100000 "${small_model[@]}") || fail "sbatch train.sbatch"
jobs_submitted+=("$jid")
train_out=$work/train-$jid.out

last_step() { [ -s "$checkpoints/train.jsonl" ] && sed -n 's/^{"step":\([0-9]*\),"loss".*/\1/p' "$checkpoints/train.jsonl" | tail -n 1; }
t0=$SECONDS
while :; do
  step=$(last_step)
  [ -n "$step" ] && [ "$step" -ge 20 ] && break
  squeue -h -j "$jid" | grep -q . || fail "training job $jid ended before step 20"
  ((SECONDS - t0 > 150)) && fail "training job $jid did not reach step 20 in 150 s (last step: ${step:-none})"
  sleep 0.2
done
echo "train: job $jid at step $step; sending USR1 to its batch shell (as --signal=B:USR1@120 does)"
scancel --signal=USR1 --batch "$jid" || fail "scancel --signal=USR1 --batch $jid"

# The job requeues itself: it is pending again with Restarts=1.
t0=$SECONDS
while :; do
  state=$(job_field "$jid" JobState)
  restarts=$(job_field "$jid" Restarts)
  [ "$restarts" = 1 ] && [ "$state" = PENDING ] && break
  case "$state" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
      fail "job $jid ended $state after USR1 instead of requeueing itself (Restarts=$restarts)" ;;
  esac
  ((SECONDS - t0 > 60)) && fail "job $jid not requeued 60 s after USR1: $state, Restarts=$restarts"
  sleep 0.2
done
stop_line=$(grep -m 1 '^stop signal received: checkpoint' "$train_out") ||
  fail "the training did not report a checkpoint after USR1"
stop_step=$(sed -n 's/.* written at step \([0-9]*\);.*/\1/p' <<<"$stop_line")
stop_checkpoint=$checkpoints/$(printf 'checkpoint-%09d.h5' "$stop_step")
[ -s "$stop_checkpoint" ] || fail "no checkpoint $stop_checkpoint after USR1 ($stop_line)"
if [ "$stop_step" -lt "$step" ] || [ "$stop_step" -ge "$steps" ]; then
  fail "checkpoint after USR1 at step $stop_step: expected between $step and $steps"
fi
grep -q 'requeueing job' "$train_out" || fail "train.sbatch did not say it requeued the job"
echo "train: USR1 -> checkpoint at step $stop_step, job requeued (Restarts=1)"

# Slurm makes a requeued job eligible only 2 minutes later; the test does not wait for that. It waits
# until the first run is cleaned up (node idle) and 2 s more: slurmd refuses a job credential from the
# same second as the revocation that ended the first run ("Job credential revoked").
t0=$SECONDS
until [ "$(sinfo -h -n "$node" -o %T)" = idle ]; do
  ((SECONDS - t0 > 30)) && fail "node not idle 30 s after job $jid was requeued: $(sinfo -h -n "$node" -o %T)"
  sleep 0.2
done
sleep 2
scontrol update JobId="$jid" StartTime=now || fail "scontrol update JobId=$jid StartTime=now"
wait_finished "$jid" 200 "resumed training"
expect_completed "$jid" "train"
[ "$(job_field "$jid" Restarts)" = 1 ] || fail "job $jid: Restarts=$(job_field "$jid" Restarts), expected 1"
grep -q "^resumed from $stop_checkpoint at step $stop_step\$" "$train_out" ||
  fail "the second run did not resume from $stop_checkpoint"
grep -q "run 2:" "$train_out" || fail "train.sbatch did not log its second run"
final_checkpoint=$checkpoints/$(printf 'checkpoint-%09d.h5' "$steps")
[ -s "$final_checkpoint" ] || fail "no final checkpoint $final_checkpoint"
"$python" - "$checkpoints/train.jsonl" "$steps" <<'EOF' || fail "train.jsonl does not read as one run of $steps steps"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
steps = [r["step"] for r in rows if "split" not in r]
if steps != list(range(1, int(sys.argv[2]) + 1)):
    sys.exit(f"step rows: {steps[:3]}...{steps[-3:]} ({len(steps)} rows)")
EOF
echo "train: resumed at step $stop_step and finished all $steps steps"

# ---- 3. decomposed sampling ---------------------------------------------------------------------------
frames=4
structure=$repo/inputs/example/complex.pdb
ligand=$repo/inputs/example/ligand.sdf
# A plan made beforehand, as on a login node (the script's optional HEMEPLM_RANKS_PLAN).
"$hemeplm" fragment "$structure" --ligand "$ligand" --ranks 2 --core-residues 32 --buffer 10 \
  --out "$work/plan.json" >"$work/fragment.log" 2>&1 || fail "hemeplm fragment: $(tail -n 3 "$work/fragment.log")"
jid=$(HEMEPLM_CHECKPOINT="$final_checkpoint" HEMEPLM_STRUCTURE="$structure" HEMEPLM_LIGANDS="$ligand" \
  HEMEPLM_MODE=forecast HEMEPLM_FRAMES=$frames HEMEPLM_OUT="$work/forecast.h5md" \
  HEMEPLM_RANKS_PLAN="$work/plan.json" \
  sbatch --parsable "${cpu_variant[@]}" --output="$work/sample-%j.out" "$repo/jobscripts/sample.sbatch" \
  --steps 2) || fail "sbatch sample.sbatch"
jobs_submitted+=("$jid")
wait_finished "$jid" 120 "sampling"
expect_completed "$jid" "sample"
grep -q "fragments on 2 rank(s)" "$work/sample-$jid.out" || fail "sampling did not run on 2 ranks"
if grep -q "reassigning" "$work/sample-$jid.out"; then fail "the 2-rank plan was reassigned"; fi
"$python" - "$work/forecast.h5md" "$frames" "$structure" "$ligand" <<'EOF' || fail "forecast.h5md is not a valid trajectory"
import sys
import h5py
import numpy as np
path, frames, pdb, sdf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
expected = [[float(l[30:38]), float(l[38:46]), float(l[46:54])]
            for l in open(pdb) if l.startswith(("ATOM", "HETATM"))]
mol = open(sdf).read().splitlines()
expected += [[float(x) for x in l.split()[:3]] for l in mol[4:4 + int(mol[3][:3])]]
expected = np.array(expected)
with h5py.File(path, "r") as f:
    assert "h5md" in f, "no /h5md group"
    position = f["particles/trajectory/position/value"][...]
    time = f["particles/trajectory/position/time"][...]
assert position.shape == (frames + 1, len(expected), 3), f"shape {position.shape}"
assert np.isfinite(position).all(), "non-finite positions"
assert len(time) == frames + 1 and np.all(np.diff(time) > 0), f"times {time}"
# forecast: frame 0 is the given structure, in its frame of reference
assert np.abs(position[0] - expected).max() < 1e-3, "frame 0 is not the input structure"
print(f"forecast.h5md: {position.shape[0]} frames of {position.shape[1]} atoms, finite")
EOF
"$hemeplm" prepare --trajectory "$work/forecast.h5md" --out "$work/forecast-check.h5md" >"$work/read-back.log" 2>&1 ||
  fail "hemeplm prepare cannot read forecast.h5md back: $(tail -n 3 "$work/read-back.log")"
"$python" -c "
import h5py, sys
n = h5py.File(sys.argv[1], 'r')['particles/trajectory/position/value'].shape[0]
sys.exit(0 if n == int(sys.argv[2]) + 1 else f'{n} frames read back')" "$work/forecast-check.h5md" "$frames" ||
  fail "the read-back dataset has the wrong frame count"
echo "sample: forecast.h5md valid and read back by hemeplm prepare"
