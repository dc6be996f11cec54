#!/usr/bin/env bash
# Rolling (diagonal) sampler against the plain block sampler on alanine dipeptide (docs/sampling.md,
# "Rolling sampler"): one stage-2 checkpoint trained with --per-frame-noise samples the same forecast with
# each sampler; frames/s comes from the same run of `hemeplm sample` on the same machine, the quality from
# `hemeplm evaluate` (bond-length, bond-angle, torsion and phi/psi JSD against the whole 501-frame MD
# trajectory). Prints one line per run and writes OUT/rolling.json with the frames/s ratios.
# Usage: scripts/rolling-bench.sh [output folder, default out/rolling]
#   HEMEPLM (binary, default build/release/bin/hemeplm), HEMEPLM_SHARED_DATA (default ../shared/data),
#   ROLLING_STAGE1 (a stage-1 ala2 checkpoint to start from; trained here otherwise, 3000 steps),
#   ROLLING_STAGE2 (a stage-2 checkpoint trained with --per-frame-noise; trained here otherwise),
#   ROLLING_FRAMES (frames per run, default 200), ROLLING_THREADS (torch threads, default 1).
# About 45 minutes on one core with both trainings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-out/rolling}
hemeplm=${HEMEPLM:-build/release/bin/hemeplm}
data=${HEMEPLM_SHARED_DATA:-../shared/data}
frames=${ROLLING_FRAMES:-200}
threads=${ROLLING_THREADS:-1}
export OMP_NUM_THREADS=1
mkdir -p "$out"
for f in ala2_traj_top_mdtraj.pdb ala2_traj_501frames.xtc; do
  [[ -f "$data/$f" ]] || { echo "rolling-bench: $data/$f not found (set HEMEPLM_SHARED_DATA)" >&2; exit 2; }
done
say() { printf '\n== %s\n' "$*"; }

[[ -f "$out/ala2-train.h5md" ]] || "$hemeplm" prepare --topology "$data/ala2_traj_top_mdtraj.pdb" \
  --trajectory "$data/ala2_traj_501frames.xtc" --last-frame 400 --out "$out/ala2-train.h5md"
[[ -f "$out/ala2-all.h5md" ]] || "$hemeplm" prepare --topology "$data/ala2_traj_top_mdtraj.pdb" \
  --trajectory "$data/ala2_traj_501frames.xtc" --out "$out/ala2-all.h5md"
[[ -f "$out/ala2-start.h5md" ]] || "$hemeplm" prepare --topology "$data/ala2_traj_top_mdtraj.pdb" \
  --trajectory "$data/ala2_traj_501frames.xtc" --first-frame 400 --out "$out/ala2-start.h5md"

stage1=${ROLLING_STAGE1:-}
if [[ -z "$stage1" ]]; then
  say "stage 1 (3000 steps of 16)"
  "$hemeplm" train --data "$out/ala2-train.h5md" --model tiny --stage 1 --steps 3000 --batch 16 --lr 5e-4 \
    --warmup-steps 50 --threads "$threads" --checkpoint-dir "$out/stage1" --checkpoint-every 1000 --validate-every 500
  stage1="$out/stage1/checkpoint-000003000.h5"
fi
stage2=${ROLLING_STAGE2:-}
if [[ -z "$stage2" ]]; then
  say "stage 2 with per-frame noise levels on half of the windows (3000 steps of 8 windows of 8 frames)"
  "$hemeplm" train --data "$out/ala2-train.h5md" --model tiny --stage 2 --init "$stage1" --frames 8 \
    --steps 3000 --batch 8 --lr 5e-4 --warmup-steps 50 --threads "$threads" --per-frame-noise 0.5 \
    --checkpoint-dir "$out/stage2" --checkpoint-every 1000 --validate-every 500
  stage2="$out/stage2/checkpoint-000003000.h5"
fi

# name | sample options. The window is the training window (8 frames), so the rolling sampler has 7 levels
# per frame (one frame per call) or a multiple. --clip-x0 2 on the compared runs: the tiny model of this
# script drifts apart without it in long rollouts (docs/sampling.md, "Rolling sampler").
clip="--clip-x0 2"
runs=(
  "plain-ddpm-1000|--sampler ddpm"
  "plain-ddpm-1000-clip|--sampler ddpm $clip"
  "plain-ddpm-50-clip|--sampler ddpm --steps 50 $clip"
  "plain-ddpm-14-clip|--sampler ddpm --steps 14 $clip"
  "plain-ddpm-7-clip|--sampler ddpm --steps 7 $clip"
  "plain-ddim-7-clip|--sampler ddim --steps 7 $clip"
  "rolling-ddpm-7-clip|--sampler ddpm --rolling $clip"
  "rolling-ddpm-14-clip|--sampler ddpm --rolling --steps 14 $clip"
  "rolling-ddpm-49-clip|--sampler ddpm --rolling --steps 49 $clip"
  "rolling-ddim-7-clip|--sampler ddim --rolling $clip"
)
for run in "${runs[@]}"; do
  name=${run%%|*}
  read -r -a extra <<<"${run#*|}"
  say "$name"
  "$hemeplm" sample --checkpoint "$stage2" --structure "$out/ala2-start.h5md" --mode forecast \
    --frames "$frames" --seed 7 --threads "$threads" "${extra[@]}" --out "$out/$name.h5md" | tee "$out/$name.log"
  "$hemeplm" evaluate --reference "$out/ala2-all.h5md" --generated "$out/$name.h5md" \
    --out "$out/eval-$name" > "$out/eval-$name.log"
done

/usr/bin/python3 - "$out" "${runs[@]}" <<'PY'
import json, re, sys
out, runs = sys.argv[1], [r.split("|")[0] for r in sys.argv[2:]]
rows = {}
for name in runs:
    log = open(f"{out}/{name}.log").read()
    fps = float(re.search(r"([0-9.]+) frames/s", log).group(1))
    m = json.load(open(f"{out}/eval-{name}/metrics.json"))["generated"][0]["metrics"]
    rows[name] = {"frames_per_s": fps, **{k: m[k] for k in ("jsd_bond_length", "jsd_bond_angle", "jsd_torsion", "jsd_phi_psi")}}
result = {"runs": rows, "comparisons": {}}
# Equal quality: the rolling run's bond-length and torsion JSD within 10% of the plain run's (or better).
def matches(r, p):
    return r["jsd_bond_length"] <= 1.1 * p["jsd_bond_length"] and r["jsd_torsion"] <= 1.1 * p["jsd_torsion"]
for rolling in (n for n in rows if n.startswith("rolling")):
    r = rows[rolling]
    for plain in (n for n in rows if n.startswith("plain") and n.endswith("-clip")):
        p = rows[plain]
        result["comparisons"][f"{rolling} vs {plain}"] = {
            "frames_per_s_ratio": r["frames_per_s"] / p["frames_per_s"],
            "jsd_bond_length_ratio": r["jsd_bond_length"] / p["jsd_bond_length"],
            "jsd_torsion_ratio": r["jsd_torsion"] / p["jsd_torsion"],
            "equal_quality": matches(r, p),
        }
    # The headline: against the fastest plain run whose quality this rolling run matches.
    matched = [n for n in rows if n.startswith("plain") and n.endswith("-clip") and matches(r, rows[n])]
    if matched:
        best = max(matched, key=lambda n: rows[n]["frames_per_s"])
        result["comparisons"][f"{rolling} at equal quality"] = {
            "plain": best, "frames_per_s_ratio": r["frames_per_s"] / rows[best]["frames_per_s"]}
    else:
        result["comparisons"][f"{rolling} at equal quality"] = {"plain": None, "frames_per_s_ratio": None}
json.dump(result, open(f"{out}/rolling.json", "w"), indent=2)
print(f"{'run':18s} {'frames/s':>9s} {'JSD bond':>9s} {'JSD angle':>9s} {'JSD tors':>9s} {'JSD phi/psi':>11s}")
for name, r in rows.items():
    print(f"{name:18s} {r['frames_per_s']:9.2f} {r['jsd_bond_length']:9.4f} {r['jsd_bond_angle']:9.4f} {r['jsd_torsion']:9.4f} {r['jsd_phi_psi']:11.4f}")
for k, v in result["comparisons"].items():
    if k.endswith("at equal quality"):
        ratio = "none matched" if v["plain"] is None else f"x{v['frames_per_s_ratio']:.2f} vs {v['plain']}"
        print(f"{k:44s} {ratio}")
    else:
        print(f"{k:44s} speed x{v['frames_per_s_ratio']:.2f}  bond JSD x{v['jsd_bond_length_ratio']:.2f}  "
              f"torsion JSD x{v['jsd_torsion_ratio']:.2f}  equal quality: {v['equal_quality']}")
PY
