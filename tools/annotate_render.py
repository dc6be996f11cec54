#!/usr/bin/python3
"""2D view of the pocket's residue force vectors for `hemeplm annotate`: reads DIR/residues.csv and writes
DIR/pocket_forces.png.

The pocket residues (in_pocket = 1) are projected onto the two principal axes of their centres (the plane
that shows the pocket widest); each residue is a dot at its projected centre, its summed predicted force
projected onto the same plane is an arrow, and dots and arrows are coloured by the residue's predicted
energy (kJ/mol). Arrow lengths share one scale, printed in the title. Prints one JSON line
{"written": [...]} as the last line of stdout.

Usage: annotate_render.py DIR
Exit status: 0 success, 1 malformed or missing residues.csv (one line on stderr), 2 bad usage,
3 numpy or matplotlib is not installed (apt-get install python3-matplotlib).
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

PROG = "annotate_render.py"
COLUMNS = ("chain", "residue_number", "residue_name", "energy_kJ_mol", "force_x", "force_y", "force_z",
           "centre_x", "centre_y", "centre_z", "in_pocket")


def fail(message: str, status: int) -> None:
    """One line on stderr, then exit."""
    sys.stderr.write(f"{PROG}: {' '.join(message.split())}\n")
    sys.exit(status)


try:
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as error:  # the C++ side reports exit status 3 as "matplotlib is not installed"
    fail(f"numpy and matplotlib are needed ({error}); apt-get install python3-matplotlib", 3)


def read_pocket(path: Path):
    """Labels, centres [n, 3], forces [n, 3] and energies [n] of the pocket residues."""
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                fail(f"{path}: line 1: missing column(s) {', '.join(missing)}", 1)
            labels, centres, forces, energies = [], [], [], []
            for row in reader:
                if row["in_pocket"] != "1":
                    continue
                try:
                    centres.append([float(row[f"centre_{k}"]) for k in "xyz"])
                    forces.append([float(row[f"force_{k}"]) for k in "xyz"])
                    energies.append(float(row["energy_kJ_mol"]))
                except ValueError as error:
                    fail(f"{path}: line {reader.line_num}: {error}", 1)
                labels.append(f"{row['residue_name']}{row['residue_number']}"
                              + (f":{row['chain']}" if row["chain"] else ""))
    except OSError as error:
        fail(f"{path}: {error.strerror}", 1)
    return labels, np.array(centres).reshape(-1, 3), np.array(forces).reshape(-1, 3), np.array(energies)


def principal_axes(points):
    """Two orthonormal axes of largest spread (x and y when there are fewer than three points)."""
    if len(points) < 3:
        return np.eye(3)[:2]
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:2]


def main(argv) -> int:
    if len(argv) != 1:
        fail("usage: annotate_render.py DIR", 2)
    folder = Path(argv[0])
    labels, centres, forces, energies = read_pocket(folder / "residues.csv")
    if len(labels) == 0:
        print(json.dumps({"written": [], "skipped": {"pocket_forces.png": "no pocket residues"}}))
        return 0
    axes = principal_axes(centres)
    origin = centres.mean(axis=0)
    xy = (centres - origin) @ axes.T
    uv = forces @ axes.T
    span = max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])), 1.0)
    largest = float(np.max(np.linalg.norm(uv, axis=1))) if len(uv) else 0.0
    scale = 0.15 * span / largest if largest > 0 else 1.0  # longest arrow: 15% of the pocket's width

    fig, ax = plt.subplots(figsize=(8, 7))
    low, high = float(energies.min()), float(energies.max())
    norm = matplotlib.colors.Normalize(vmin=low, vmax=high if high > low else low + 1.0)
    cmap = plt.get_cmap("coolwarm")
    ax.scatter(xy[:, 0], xy[:, 1], c=energies, cmap=cmap, norm=norm, s=30, edgecolors="black",
               linewidths=0.4, zorder=3)
    ax.quiver(xy[:, 0], xy[:, 1], uv[:, 0] * scale, uv[:, 1] * scale, energies, cmap=cmap, norm=norm,
              angles="xy", scale_units="xy", scale=1.0, width=0.004, zorder=4)
    fontsize = 7 if len(labels) <= 60 else 5
    for (x, y), label in zip(xy, labels):
        ax.annotate(label, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=fontsize, color="0.25")
    colorbar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    colorbar.set_label("predicted residue energy (kJ/mol)")
    ax.set_xlabel("pocket principal axis 1 (Å)")
    ax.set_ylabel("pocket principal axis 2 (Å)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"Residue forces of {len(labels)} pocket residues (projected)\n"
                 f"arrow: 1 kJ/mol/Å = {scale:.3g} Å", fontsize=10)
    fig.tight_layout()
    out = folder / "pocket_forces.png"
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}")
    print(json.dumps({"written": ["pocket_forces.png"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
