#!/usr/bin/env bash
# The quality targets of docs/results.md, measured end to end with the hemeplm binary on public data:
#   1. rMD17 ethanol: tiny trained (stage 1, energies + forces) on frames 0-799, energy head evaluated on
#      frames 800-999: energy R² (target >= 0.9), MAE, force MAE.
#   2. alanine dipeptide (MD, 1 ps/frame): trained on frames 0-399 (stage 1, then stage 2 on 8-frame
#      windows), 100 frames forecast from frame 400, backbone phi/psi JSD against frames 400-500 next to
#      the trivial baseline (target: below it) and the MD oracle.
# Usage: scripts/quality-targets.sh [output folder, default out/quality]
#   HEMEPLM (binary, default build/release/bin/hemeplm), HEMEPLM_SHARED_DATA (default ../shared/data),
#   ALA2_MODEL_ARGS (model options for ala2, default --model tiny), QUALITY_THREADS (torch threads, default 1).
# Takes about 17 minutes on one core; prints the numbers and writes OUT/quality.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-out/quality}
hemeplm=${HEMEPLM:-build/release/bin/hemeplm}
data=${HEMEPLM_SHARED_DATA:-../shared/data}
threads=${QUALITY_THREADS:-1}
# e.g. ALA2_MODEL_ARGS="--model tiny --model.visnet.hidden 64 --model.denoiser.hidden 128 --model.denoiser.layers 4"
read -r -a ala2_model <<<"${ALA2_MODEL_ARGS:---model tiny}"
export OMP_NUM_THREADS=1
mkdir -p "$out"
for f in rmd17_ethanol_1000_train.xyz ala2_traj_top_mdtraj.pdb ala2_traj_501frames.xtc; do
  [[ -f "$data/$f" ]] || { echo "quality-targets: $data/$f not found (set HEMEPLM_SHARED_DATA)" >&2; exit 2; }
done
say() { printf '\n== %s\n' "$*"; }

say "rMD17 ethanol: prepare (train 0-799, test 800-999)"
"$hemeplm" prepare --trajectory "$data/rmd17_ethanol_1000_train.xyz" --last-frame 800 --out "$out/ethanol-train.h5md"
"$hemeplm" prepare --trajectory "$data/rmd17_ethanol_1000_train.xyz" --first-frame 800 --out "$out/ethanol-test.h5md"
say "rMD17 ethanol: train tiny, stage 1 with energies and forces (3000 steps of 16)"
"$hemeplm" train --data "$out/ethanol-train.h5md" --model tiny --stage 1 --steps 3000 --batch 16 --lr 5e-4 \
  --warmup-steps 50 --threads "$threads" --checkpoint-dir "$out/ethanol-stage1" --checkpoint-every 1000 \
  --validate-every 500
say "rMD17 ethanol: evaluate the energy head on frames 800-999"
"$hemeplm" evaluate --reference "$out/ethanol-test.h5md" \
  --checkpoint "$out/ethanol-stage1/checkpoint-000003000.h5" --threads "$threads" --out "$out/ethanol-evaluation"

say "alanine dipeptide: prepare (train 0-399, reference 400-500)"
"$hemeplm" prepare --topology "$data/ala2_traj_top_mdtraj.pdb" --trajectory "$data/ala2_traj_501frames.xtc" \
  --last-frame 400 --out "$out/ala2-train.h5md"
"$hemeplm" prepare --topology "$data/ala2_traj_top_mdtraj.pdb" --trajectory "$data/ala2_traj_501frames.xtc" \
  --first-frame 400 --out "$out/ala2-reference.h5md"
say "alanine dipeptide: stage 1 (3000 steps of 16) and stage 2 (3000 steps of 8 windows of 8 frames)"
"$hemeplm" train --data "$out/ala2-train.h5md" "${ala2_model[@]}" --stage 1 --steps 3000 --batch 16 --lr 5e-4 \
  --warmup-steps 50 --threads "$threads" --checkpoint-dir "$out/ala2-stage1" --checkpoint-every 1000 \
  --validate-every 500
"$hemeplm" train --data "$out/ala2-train.h5md" "${ala2_model[@]}" --stage 2 \
  --init "$out/ala2-stage1/checkpoint-000003000.h5" --frames 8 --steps 3000 --batch 8 --lr 5e-4 \
  --warmup-steps 50 --threads "$threads" --checkpoint-dir "$out/ala2-stage2" --checkpoint-every 1000 \
  --validate-every 500
say "alanine dipeptide: forecast 100 frames from frame 400"
"$hemeplm" sample --checkpoint "$out/ala2-stage2/checkpoint-000003000.h5" --structure "$out/ala2-reference.h5md" \
  --mode forecast --frames 100 --threads "$threads" --out "$out/ala2-forecast.h5md"
say "alanine dipeptide: evaluate against frames 400-500"
"$hemeplm" evaluate --reference "$out/ala2-reference.h5md" --generated "$out/ala2-forecast.h5md" \
  --out "$out/ala2-evaluation"

/usr/bin/python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
eth = json.load(open(f"{out}/ethanol-evaluation/metrics.json"))["energy"]
ala = json.load(open(f"{out}/ala2-evaluation/metrics.json"))
gen = ala["generated"][0]["metrics"]
base = {k: v["metrics"] for k, v in ala["baselines"].items()}
result = {
    "ethanol_energy_r2": eth["energy"]["r2"], "ethanol_energy_mae_kj_mol": eth["energy"]["mae"],
    "ethanol_force_mae_kj_mol_A": eth["forces"]["mae"], "ethanol_force_r2": eth["forces"]["r2"],
    "ala2_phi_psi_jsd_forecast": gen["jsd_phi_psi"], "ala2_phi_psi_jsd_trivial": base["trivial"]["jsd_phi_psi"],
    "ala2_phi_psi_jsd_md_oracle": base["md_oracle"]["jsd_phi_psi"],
}
result["ethanol_energy_r2_target_met"] = result["ethanol_energy_r2"] >= 0.9
result["ala2_phi_psi_target_met"] = result["ala2_phi_psi_jsd_forecast"] < result["ala2_phi_psi_jsd_trivial"]
json.dump(result, open(f"{out}/quality.json", "w"), indent=2)
for k, v in result.items():
    print(f"{k:32s} {v}")
EOF
