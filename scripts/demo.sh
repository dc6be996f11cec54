#!/usr/bin/env bash
# The README's main command: sets everything up and runs the main job on the bundled example
# (inputs/example: two helices + ibuprofen, made by scripts/make-example-inputs.py).
# Today the main job is data preparation and decomposition: describe the system, import its reference
# MD trajectory (OpenMM, made by scripts/make-reference-md.sh) into an H5MD training dataset with 2 MPI
# ranks, and split the system into overlapping fragments, domains and a 2-rank plan.
# Usage: scripts/demo.sh [output folder, default out/demo]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
outdir=${1:-out/demo}

step() { printf '\n== %s\n' "$*"; }

step "installing dependencies (Debian packages; skipped when present)"
scripts/install-deps.sh

step "configuring and building (Release)"
start=$(date +%s)
cmake --preset release -DHEMEPLM_BUILD_TESTS=OFF -DHEMEPLM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release --target hemeplm
echo "built in $(($(date +%s) - start)) s"
hemeplm=build/release/bin/hemeplm
structure=inputs/example/complex.pdb
ligand=inputs/example/ligand.sdf
mkdir -p "$outdir"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # mpirun refuses root otherwise
mpirun_cmd=(mpirun -n 2 --oversubscribe --bind-to none)

step "hemeplm info $structure --ligand $ligand"
"$hemeplm" info "$structure" --ligand "$ligand"

step "hemeplm prepare (reference MD -> H5MD training dataset, 2 MPI ranks writing collectively)"
"${mpirun_cmd[@]}" "$hemeplm" prepare --trajectory inputs/example/reference-md.h5md --atoms heavy \
  --out "$outdir/dataset.h5md"

step "hemeplm fragment (denoising fragments, 2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" fragment "$structure" --ligand "$ligand" \
  --core-residues 6 --buffer 8 --domains 4 --out "$outdir/plan.json"

step "hemeplm fragment --scheme ai2bmd (AI2BMD energy units)"
"$hemeplm" fragment "$structure" --ligand "$ligand" --scheme ai2bmd --ranks 2 \
  --out "$outdir/plan-ai2bmd.json" --json

step "hemeplm train, stage 1 (conformer pretraining of the tiny model, 2 MPI ranks)"
# The dataset holds heavy atoms only, so its all-atom energies are no labels: the trainer skips them.
"${mpirun_cmd[@]}" "$hemeplm" train --data "$outdir/dataset.h5md" --model tiny --stage 1 --steps 100 \
  --batch 4 --lr 1e-3 --warmup-steps 10 --checkpoint-dir "$outdir/stage1" --checkpoint-every 50

step "hemeplm train, stage 2 (temporal training from the stage-1 checkpoint, 2 MPI ranks)"
"${mpirun_cmd[@]}" "$hemeplm" train --data "$outdir/dataset.h5md" --model tiny --stage 2 \
  --init "$outdir/stage1/checkpoint-000000100.h5" --frames 4 --steps 30 --batch 2 --lr 1e-3 \
  --warmup-steps 5 --checkpoint-dir "$outdir/stage2"

step "done"
echo "dataset: $outdir/dataset.h5md (H5MD, docs/h5md-layout.md; MDAnalysis and VMD read it)"
echo "plans:   $outdir/plan.json and $outdir/plan-ai2bmd.json (format: docs/plan-format.md)"
echo "model:   $outdir/stage2/checkpoint-000000030.h5 (log: $outdir/stage2/train.jsonl; docs/training.md)"
