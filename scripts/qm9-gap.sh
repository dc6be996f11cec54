#!/usr/bin/env bash
# The HOMO-LUMO gap measurement of docs/properties.md: QM9 molecules 0-79 train a gap head on the tiny
# model (stage 1, --targets gap,diffusion:0, 1 thread), molecules 80-99 (the held-out 20%) are evaluated,
# and the gap MAE is printed next to the trivial baseline (always predicting the training mean).
# Usage: scripts/qm9-gap.sh [output folder, default out/qm9-gap]
#   HEMEPLM=/path/to/hemeplm (default: build/release/bin/hemeplm)
#   QM9=/path/to/qm9_first100.xyz (default: ../shared/data/qm9_first100.xyz)
#   GAP_STEPS, GAP_BATCH, GAP_LR override the run (defaults below: ~5 minutes on 1 thread; lr and batch
#   chosen on a validation split of the training molecules, 0-63 vs 64-79, never on the test set).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
outdir=${1:-out/qm9-gap}
hemeplm=${HEMEPLM:-build/release/bin/hemeplm}
qm9=${QM9:-../shared/data/qm9_first100.xyz}
steps=${GAP_STEPS:-12000}
batch=${GAP_BATCH:-8}
lr=${GAP_LR:-2e-3}
export OMP_NUM_THREADS=1

rm -rf "$outdir"
mkdir -p "$outdir"
"$hemeplm" prepare --molecules "$qm9" --out-dir "$outdir/train" --first-frame 0 --last-frame 80
"$hemeplm" prepare --molecules "$qm9" --out-dir "$outdir/test" --first-frame 80 --last-frame 100

data=()
for f in "$outdir"/train/*.h5md; do data+=(--data "$f"); done
reference=()
for f in "$outdir"/test/*.h5md; do reference+=(--reference "$f"); done

# Every training molecule trains (--validation-fraction 0): the test molecules are the held-out set.
start=$(date +%s)
"$hemeplm" train --stage 1 --model tiny --targets gap,diffusion:0 --steps "$steps" --batch "$batch" \
  --lr "$lr" --warmup-steps 100 --decay cosine --min-lr 1e-5 --validation-fraction 0 \
  --checkpoint-every "$steps" --threads 1 --checkpoint-dir "$outdir/ckpt" "${data[@]}"
echo "training took $(($(date +%s) - start)) s"
checkpoint=$(ls "$outdir"/ckpt/checkpoint-*.h5 | sort | tail -n 1)

"$hemeplm" evaluate --checkpoint "$checkpoint" --out "$outdir/eval" --threads 1 "${reference[@]}" |
  tee "$outdir/evaluate.txt"
/usr/bin/python3 - "$outdir/eval/metrics.json" <<'PY'
import json, sys
gap = json.load(open(sys.argv[1]))["properties"]["properties"]["gap"]
print(f"held-out gap MAE {gap['mae']:.3f} eV over {gap['count']} molecules "
      f"(training-mean baseline {gap['mean_baseline_mae']:.3f} eV, R2 {gap['r2']}, Pearson {gap['pearson']})")
PY
