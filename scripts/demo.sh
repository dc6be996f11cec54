#!/usr/bin/env bash
# The README's main command: sets everything up and runs the whole mission on the bundled example
# (inputs/example: two helices + ibuprofen, made by scripts/make-example-inputs.py):
#   reference MD with OpenMM -> hemeplm prepare -> train stage 1 and stage 2 (tiny model) ->
#   sample a forecast and a transition path with 2 MPI ranks -> hemeplm evaluate -> report.html
# Under 20 minutes on 2 cores including the build (docs/results.md has the measured times).
# Usage: scripts/demo.sh [output folder, default out/demo]
#   HEMEPLM=/path/to/hemeplm uses that binary and skips the install and build steps.
#   DEMO_MD_STEPS, DEMO_STAGE1_STEPS, DEMO_STAGE2_STEPS override the run lengths (defaults below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
outdir=${1:-out/demo}
md_steps=${DEMO_MD_STEPS:-2000}          # 2 fs steps: 4 ps of reference MD
md_stride=20                             # -> 100 frames, 40 fs apart
stage1_steps=${DEMO_STAGE1_STEPS:-150}
stage2_steps=${DEMO_STAGE2_STEPS:-150}
train_frames=80                          # frames 0-79 train; 80-99 are the held-out reference

demo_start=$(date +%s)
step() { printf '\n== [%s elapsed] %s\n' "$(elapsed)" "$*"; }
elapsed() {
  local s=$(($(date +%s) - demo_start))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

if [[ -n "${HEMEPLM:-}" ]]; then
  hemeplm=$HEMEPLM
else
  step "installing dependencies (Debian packages; skipped when present)"
  scripts/install-deps.sh
  step "configuring and building hemeplm (Release)"
  cmake --preset release -DHEMEPLM_BUILD_TESTS=OFF -DHEMEPLM_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build --preset release --target hemeplm
  hemeplm=build/release/bin/hemeplm
fi
structure=inputs/example/complex.pdb
ligand=inputs/example/ligand.sdf
mkdir -p "$outdir"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # mpirun refuses root otherwise
export OMP_NUM_THREADS=1                                          # torch threads are set per rank
mpirun_cmd=(mpirun -n 2 --oversubscribe --bind-to none)

step "the system: $structure + $ligand (made by scripts/make-example-inputs.py)"
"$hemeplm" info "$structure" --ligand "$ligand"

step "reference MD with OpenMM: amber14 + GAFF ligand, OBC2 implicit solvent, 300 K, $md_steps steps of 2 fs"
/usr/bin/python3 tools/reference_md.py --structure "$structure" --ligand "$ligand" \
  --solvent implicit --steps "$md_steps" --stride "$md_stride" --temperature 300 --seed 2024 \
  --platform CPU --threads 2 --minimize-steps 200 \
  --out "$outdir/reference-md.h5md" --pdb-out "$outdir/reference-md.pdb"

step "hemeplm prepare: frames 0-$((train_frames - 1)) for training, the rest as the held-out reference (2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" prepare --trajectory "$outdir/reference-md.h5md" \
  --last-frame "$train_frames" --out "$outdir/train.h5md"
"${mpirun_cmd[@]}" "$hemeplm" prepare --trajectory "$outdir/reference-md.h5md" \
  --first-frame "$train_frames" --out "$outdir/heldout.h5md"

# A few minutes of training on 80 frames shows the workflow, not the model's quality: the quality
# targets (scripts/quality-targets.sh, docs/results.md) train for longer on public data.
step "hemeplm train, stage 1: conformers + energy/force head ($stage1_steps steps, 2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" train --data "$outdir/train.h5md" --model tiny --stage 1 \
  --steps "$stage1_steps" --batch 1 --lr 1e-3 --warmup-steps 20 --validation-fraction 0 \
  --checkpoint-dir "$outdir/stage1" --checkpoint-every "$stage1_steps"
stage1=$(printf '%s/stage1/checkpoint-%09d.h5' "$outdir" "$stage1_steps")

step "hemeplm train, stage 2: dynamics on 3-frame windows ($stage2_steps steps, 2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" train --data "$outdir/train.h5md" --model tiny --stage 2 --init "$stage1" \
  --frames 3 --steps "$stage2_steps" --batch 1 --lr 1e-3 --warmup-steps 20 --validation-fraction 0 \
  --checkpoint-dir "$outdir/stage2" --checkpoint-every "$stage2_steps"
model=$(printf '%s/stage2/checkpoint-%09d.h5' "$outdir" "$stage2_steps")

# --clip-x0 keeps a minutes-old model's rollout near physical positions (docs/sampling.md).
step "hemeplm sample: forecast of 19 frames from the first held-out frame (2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" sample --checkpoint "$model" --structure "$outdir/heldout.h5md" \
  --mode forecast --frames 19 --steps 20 --clip-x0 2 --energies --out "$outdir/forecast.h5md"

step "hemeplm sample: transition path between the first and last held-out frames (2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" sample --checkpoint "$model" --structure "$outdir/heldout.h5md" \
  --mode tps --end "$outdir/heldout.h5md" --end-frame -1 --frames 18 --steps 20 --clip-x0 2 \
  --out "$outdir/transition.h5md"

step "hemeplm evaluate: generated vs held-out MD, energy head vs labels, baselines, plots"
"$hemeplm" evaluate --reference "$outdir/heldout.h5md" --generated "$outdir/forecast.h5md" \
  --generated "$outdir/transition.h5md" --checkpoint "$model" --out "$outdir/evaluation"

step "done in $(elapsed)"
echo "reference MD: $outdir/reference-md.h5md (H5MD; MDAnalysis and VMD read it, topology $outdir/reference-md.pdb)"
echo "model:        $model (training log: $outdir/stage2/train.jsonl; docs/training.md)"
echo "trajectories: $outdir/forecast.h5md, $outdir/transition.h5md (docs/sampling.md)"
echo "report:       $outdir/evaluation/report.html (metrics: $outdir/evaluation/metrics.json; docs/evaluation.md)"
