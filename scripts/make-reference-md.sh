#!/usr/bin/env bash
# Makes the bundled example's reference MD trajectory, inputs/example/reference-md.h5md (and its
# topology inputs/example/reference-md.pdb): OpenMM amber14 + GAFF/Gasteiger ligand, OBC2 implicit
# solvent, 300 K, 2 fs, 4000 steps (8 ps) written every 50 steps (80 frames, about 2 MB).
# Takes about 3-6 minutes on 2 cores (CPU platform). Usage: scripts/make-reference-md.sh [out dir]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
outdir=${1:-inputs/example}
mkdir -p "$outdir"
/usr/bin/python3 tools/reference_md.py \
  --structure inputs/example/complex.pdb --ligand inputs/example/ligand.sdf \
  --solvent implicit --implicit-model obc2 --steps 4000 --stride 50 --timestep-fs 2 \
  --temperature 300 --friction 1 --seed 2024 --platform CPU --minimize-steps 500 \
  --out "$outdir/reference-md.h5md" --pdb-out "$outdir/reference-md.pdb"
