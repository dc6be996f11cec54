#!/usr/bin/python3
"""Plots of `hemeplm evaluate`: reads the CSV files of an evaluation folder and writes DIR/plots/*.png.

Each plot is drawn only when its CSV file exists (docs/evaluation.md lists the files and their columns):
parity plots of predicted against true energies and forces, the per-residue force error heatmap, the
energy distributions, bond-length/angle/torsion/TICA-0 histograms (reference against generated sets and
the baselines), the Ramachandran plot, the free-energy surface on TICA-0/1, RMSF per residue and the
RMSD/Rg time series. Prints one line per plot written, then one JSON line
{"written": [...], "skipped": {"name": "reason"}} as the last line of stdout.

Usage: evaluate_plots.py DIR
Exit status: 0 success, 1 malformed CSV file (one line on stderr naming file and line), 2 bad usage,
3 numpy or matplotlib is not installed (apt-get install python3-matplotlib).
"""
from __future__ import annotations

import csv
import json
import math
import os
import sys
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

PROG = "evaluate_plots.py"
DPI = 120
# Reference and the baselines keep fixed styles so they read the same in every plot; generated sets
# take the colour cycle.
FIXED_STYLES = {
    "reference": {"color": "black", "linestyle": "-", "linewidth": 2.2},
    "md_oracle": {"color": "0.45", "linestyle": "--", "linewidth": 1.6},
    "trivial": {"color": "tab:red", "linestyle": ":", "linewidth": 1.6},
}
GENERATED_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
                    "tab:olive", "tab:cyan"]


class CsvError(Exception):
    """A malformed CSV file: the message names the file and the line."""


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
    fail(f"numpy and matplotlib are needed for plots ({error}); apt-get install python3-matplotlib", 3)


class Table:
    """A CSV file read with the csv module: header names and columns of strings."""

    def __init__(self, path: Path, required: Sequence[str]):
        self.path = path
        self.rows: List[List[str]] = []
        self.lines: List[int] = []  # line number of each row in the file, for error messages
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            try:
                header = next(reader)
            except StopIteration:
                raise CsvError(f"{path}: line 1: the file is empty (a header row is expected)") from None
            except csv.Error as error:
                raise CsvError(f"{path}: line 1: {error}") from None
            self.header = [h.strip() for h in header]
            missing = [c for c in required if c not in self.header]
            if missing:
                raise CsvError(f"{path}: line 1: the header lacks column(s) {', '.join(missing)}")
            if len(set(self.header)) != len(self.header):
                raise CsvError(f"{path}: line 1: repeated column names in the header")
            try:
                for row in reader:
                    if not row:
                        continue
                    if len(row) != len(self.header):
                        raise CsvError(f"{path}: line {reader.line_num}: {len(row)} fields, the header has "
                                       f"{len(self.header)}")
                    self.rows.append(row)
                    self.lines.append(reader.line_num)
            except csv.Error as error:
                raise CsvError(f"{path}: line {reader.line_num}: {error}") from None
        self.index = {name: k for k, name in enumerate(self.header)}

    def text(self, name: str) -> List[str]:
        """One column as strings."""
        k = self.index[name]
        return [row[k].strip() for row in self.rows]

    def numbers(self, name: str) -> "np.ndarray":
        """One column as float64; empty cells and 'nan' are NaN, anything else that is not a number fails."""
        k = self.index[name]
        values = np.empty(len(self.rows))
        for i, row in enumerate(self.rows):
            cell = row[k].strip()
            if cell == "" or cell.lower() in ("nan", "null"):
                values[i] = math.nan
                continue
            try:
                values[i] = float(cell)
            except ValueError:
                raise CsvError(f"{self.path}: line {self.lines[i]}: column {name}: '{cell}' is not a "
                               "number") from None
        return values


def style_of(name: str, generated_index: int) -> Dict:
    """Line style for a set: fixed for reference and baselines, the colour cycle for generated sets."""
    if name in FIXED_STYLES:
        return dict(FIXED_STYLES[name])
    return {"color": GENERATED_COLORS[generated_index % len(GENERATED_COLORS)], "linestyle": "-",
            "linewidth": 1.6}


def ordered_sets(names: Sequence[str]) -> List[str]:
    """Reference first, generated sets in file order, baselines last."""
    unique = list(dict.fromkeys(names))
    front = [n for n in unique if n.startswith("reference")]
    back = [n for n in ("md_oracle", "trivial") if n in unique]
    return front + [n for n in unique if n not in front and n not in back] + back


def r_squared(truth: "np.ndarray", predicted: "np.ndarray") -> float:
    """Coefficient of determination 1 - SS_res/SS_tot (NaN when the truth is constant)."""
    ss_tot = float(np.sum((truth - truth.mean()) ** 2))
    if ss_tot == 0.0:
        return math.nan
    return 1.0 - float(np.sum((truth - predicted) ** 2)) / ss_tot


def finite_pairs(a: "np.ndarray", b: "np.ndarray") -> Tuple["np.ndarray", "np.ndarray"]:
    """The pairs where both values are finite."""
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def parity(table: Table, true_col: str, pred_col: str, quantity: str, unit: str, out: Path) -> None:
    """Predicted against true with the y = x diagonal; R² and MAE of the plotted data in the title."""
    truth, predicted = finite_pairs(table.numbers(true_col), table.numbers(pred_col))
    if truth.size == 0:
        raise ValueError("no finite values")
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    if truth.size > 5000:  # many force components: density instead of overplotted points
        hb = ax.hexbin(truth, predicted, gridsize=80, bins="log", mincnt=1, cmap="viridis")
        fig.colorbar(hb, ax=ax, label="points per bin")
    else:
        ax.scatter(truth, predicted, s=10, alpha=0.6, color="tab:blue", label="frames")
    low = float(min(truth.min(), predicted.min()))
    high = float(max(truth.max(), predicted.max()))
    pad = 0.03 * (high - low or 1.0)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], color="black", linestyle="--", linewidth=1,
            label="y = x")
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel(f"true {quantity} ({unit})")
    ax.set_ylabel(f"predicted {quantity} ({unit})")
    r2 = r_squared(truth, predicted)
    mae = float(np.mean(np.abs(truth - predicted)))
    r2_text = "n/a" if math.isnan(r2) else f"{r2:.4f}"
    ax.set_title(f"{quantity}: R² = {r2_text}, MAE = {mae:.3g} {unit} (n = {truth.size})", fontsize=10)
    ax.legend(loc="upper left")
    save(fig, out)


def plot_energy_parity(d: Path, out: Path) -> None:
    """energy_frames.csv: predicted against true energy per frame."""
    t = Table(d / "energy_frames.csv", ["frame", "true_kj_mol", "predicted_kj_mol"])
    parity(t, "true_kj_mol", "predicted_kj_mol", "energy", "kJ/mol", out)


def plot_force_parity(d: Path, out: Path) -> None:
    """force_components.csv: predicted against true force components."""
    t = Table(d / "force_components.csv", ["frame", "atom", "component", "true", "predicted"])
    parity(t, "true", "predicted", "force component", "kJ/mol/Å", out)


def plot_residue_heatmap(d: Path, out: Path) -> None:
    """residue_errors.csv: force MAE on a frames × residues grid."""
    t = Table(d / "residue_errors.csv", ["frame", "residue_index", "residue", "force_mae"])
    frames = t.numbers("frame")
    residues = t.numbers("residue_index")
    mae = t.numbers("force_mae")
    if mae.size == 0:
        raise ValueError("no rows")
    frame_values = np.unique(frames)
    residue_values = np.unique(residues)
    names = dict(zip(residues.tolist(), t.text("residue")))
    grid = np.full((frame_values.size, residue_values.size), np.nan)
    grid[np.searchsorted(frame_values, frames), np.searchsorted(residue_values, residues)] = mae
    fig, ax = plt.subplots(figsize=(max(6.0, min(16.0, 0.12 * residue_values.size + 3)), 4.8))
    image = ax.imshow(grid, aspect="auto", origin="lower", interpolation="nearest", cmap="magma_r")
    fig.colorbar(image, ax=ax, label="force MAE (kJ/mol/Å)")
    ax.set_xlabel("residue")
    ax.set_ylabel("frame")
    step = max(1, residue_values.size // 25)
    ticks = np.arange(0, residue_values.size, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([names[residue_values[k]] for k in ticks], rotation=90, fontsize=7)
    frame_step = max(1, frame_values.size // 10)
    frame_ticks = np.arange(0, frame_values.size, frame_step)
    ax.set_yticks(frame_ticks)
    ax.set_yticklabels([str(int(frame_values[k])) for k in frame_ticks])
    ax.set_title("per-residue force error (frames × residues)")
    save(fig, out)


def plot_energy_distributions(d: Path, out: Path) -> None:
    """energy_distributions.csv: one step histogram per set on common bins."""
    t = Table(d / "energy_distributions.csv", ["set", "frame", "energy_kj_mol"])
    sets = t.text("set")
    energy = t.numbers("energy_kj_mol")
    finite = energy[np.isfinite(energy)]
    if finite.size == 0:
        raise ValueError("no finite energies")
    bins = np.histogram_bin_edges(finite, bins=min(60, max(10, int(math.sqrt(finite.size)))))
    fig, ax = plt.subplots(figsize=(7, 4.6))
    labels = np.array(sets)
    generated = 0
    for name in ordered_sets(sets):
        values = energy[(labels == name) & np.isfinite(energy)]
        if values.size == 0:
            continue
        if name == "reference (labels)":
            style = {"color": "black", "linestyle": "-", "linewidth": 2.2}
        elif name == "reference (model)":
            style = {"color": "0.45", "linestyle": "--", "linewidth": 1.8}
        else:
            style = style_of(name, generated)
            generated += 1
        ax.hist(values, bins=bins, density=True, histtype="step", label=f"{name} (n = {values.size})",
                **style)
    ax.set_xlabel("potential energy (kJ/mol)")
    ax.set_ylabel("probability density (1/(kJ/mol))")
    ax.set_title("energy distributions")
    ax.legend(fontsize=8)
    save(fig, out)


HISTOGRAMS = {
    "bond_length": ("bond length (pm)", "bond lengths"),
    "bond_angle": ("bond angle (rad)", "bond angles"),
    "torsion": ("torsion angle (rad)", "torsion angles"),
    "tica0": ("TICA-0 (unitless)", "TICA-0 projection"),
}


def plot_histogram(kind: str) -> Callable[[Path, Path], None]:
    """The drawing function for distributions_<kind>.csv (histograms already normalised)."""
    def draw(d: Path, out: Path) -> None:
        """Reference, generated sets and baselines as step lines."""
        t = Table(d / f"distributions_{kind}.csv", ["bin_center", "reference"])
        centers = t.numbers("bin_center")
        if centers.size == 0:
            raise ValueError("no bins")
        xlabel, title = HISTOGRAMS[kind]
        fig, ax = plt.subplots(figsize=(7, 4.6))
        generated = 0
        for name in ordered_sets([h for h in t.header if h != "bin_center"]):
            style = style_of(name, generated)
            if name not in FIXED_STYLES:
                generated += 1
            ax.step(centers, t.numbers(name), where="mid", label=name, **style)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction per bin")
        ax.set_title(f"{title}: reference vs generated and baselines")
        ax.legend(fontsize=8)
        save(fig, out)

    return draw


def panel_grid(count: int) -> Tuple["plt.Figure", List]:
    """Up to three panels per row; the unused ones hidden."""
    columns = min(count, 3)
    rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4.4 * columns, 4.0 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def plot_ramachandran(d: Path, out: Path) -> None:
    """ramachandran.csv: a (φ, ψ) density per set."""
    t = Table(d / "ramachandran.csv", ["set", "residue", "frame", "phi_deg", "psi_deg"])
    sets = np.array(t.text("set"))
    phi, psi = t.numbers("phi_deg"), t.numbers("psi_deg")
    names = ordered_sets(sets.tolist())
    if not names:
        raise ValueError("no rows")
    fig, axes = panel_grid(len(names))
    for ax, name in zip(axes, names):
        keep = (sets == name) & np.isfinite(phi) & np.isfinite(psi)
        ax.hexbin(phi[keep], psi[keep], gridsize=45, extent=(-180, 180, -180, 180), bins="log", mincnt=1,
                  cmap="viridis")
        ax.set_xlim(-180, 180)
        ax.set_ylim(-180, 180)
        ax.set_xticks(range(-180, 181, 90))
        ax.set_yticks(range(-180, 181, 90))
        ax.set_aspect("equal")
        ax.set_xlabel("φ (degrees)")
        ax.set_ylabel("ψ (degrees)")
        ax.set_title(f"{name} (n = {int(keep.sum())})")
    fig.suptitle("Ramachandran plot (log counts)")
    save(fig, out)


def plot_fes_tica(d: Path, out: Path) -> None:
    """tica.csv: −ln of the 2-D histogram on TICA-0/1 (kT), one panel per set, one common scale."""
    t = Table(d / "tica.csv", ["set", "frame", "tica0", "tica1"])
    sets = np.array(t.text("set"))
    x, y = t.numbers("tica0"), t.numbers("tica1")
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ValueError("no finite TICA coordinates")
    names = ordered_sets(sets[ok].tolist())
    # One grid for all sets, so the surfaces compare bin for bin.
    x_edges = np.linspace(x[ok].min(), x[ok].max() + 1e-12, 41)
    y_edges = np.linspace(y[ok].min(), y[ok].max() + 1e-12, 41)
    fig, axes = panel_grid(len(names))
    surfaces = []
    for name in names:
        keep = ok & (sets == name)
        counts, _, _ = np.histogram2d(x[keep], y[keep], bins=(x_edges, y_edges))
        with np.errstate(divide="ignore"):
            free_energy = -np.log(counts / counts.sum())
        free_energy -= free_energy[np.isfinite(free_energy)].min()
        surfaces.append(np.where(np.isfinite(free_energy), free_energy, np.nan))
    top = max(float(np.nanmax(s)) for s in surfaces) or 1.0
    for ax, name, surface in zip(axes, names, surfaces):
        image = ax.pcolormesh(x_edges, y_edges, surface.T, cmap="viridis", vmin=0.0, vmax=top, shading="flat")
        ax.set_xlabel("TICA-0")
        ax.set_ylabel("TICA-1")
        ax.set_title(name)
        fig.colorbar(image, ax=ax, label="free energy (kT)")
    fig.suptitle("free-energy surface −ln p(TICA-0, TICA-1), minimum set to 0")
    save(fig, out)


def plot_rmsf(d: Path, out: Path) -> None:
    """rmsf.csv: RMSF per residue, one line per set."""
    t = Table(d / "rmsf.csv", ["residue_index", "residue", "reference"])
    index = t.numbers("residue_index")
    if index.size == 0:
        raise ValueError("no residues")
    fig, ax = plt.subplots(figsize=(max(7.0, min(16.0, 0.08 * index.size + 4)), 4.6))
    generated = 0
    for name in ordered_sets([h for h in t.header if h not in ("residue_index", "residue")]):
        style = style_of(name, generated)
        if name not in FIXED_STYLES:
            generated += 1
        ax.plot(index, t.numbers(name), label=name, marker="." if index.size < 60 else None, **style)
    ax.set_xlabel("residue index")
    ax.set_ylabel("RMSF (Å)")
    ax.set_title("RMSF per residue")
    ax.legend(fontsize=8)
    save(fig, out)


def plot_timeseries(d: Path, out: Path) -> None:
    """timeseries.csv: RMSD, Rg and (with a ligand) ligand RMSD against time."""
    t = Table(d / "timeseries.csv", ["set", "frame", "time_ps", "rmsd_A", "rg_A", "ligand_rmsd_A"])
    sets = np.array(t.text("set"))
    time = t.numbers("time_ps")
    columns = [("rmsd_A", "RMSD (Å)"), ("rg_A", "radius of gyration (Å)"),
               ("ligand_rmsd_A", "ligand RMSD (Å)")]
    values = {c: t.numbers(c) for c, _ in columns}
    columns = [(c, label) for c, label in columns if np.isfinite(values[c]).any()]
    if not columns:
        raise ValueError("no values")
    fig, axes = plt.subplots(len(columns), 1, figsize=(8, 2.8 * len(columns)), sharex=True, squeeze=False)
    generated = 0
    for name in ordered_sets(sets.tolist()):
        style = style_of(name, generated)
        if name not in FIXED_STYLES:
            generated += 1
        style["linewidth"] = min(style["linewidth"], 1.4)
        keep = sets == name
        for ax, (column, _) in zip(axes[:, 0], columns):
            ax.plot(time[keep], values[column][keep], label=name, **style)
    for ax, (_, label) in zip(axes[:, 0], columns):
        ax.set_ylabel(label)
    axes[-1, 0].set_xlabel("time (ps)")
    axes[0, 0].legend(fontsize=8)
    axes[0, 0].set_title("time series")
    save(fig, out)


def save(fig, out: Path) -> None:
    """Saves a figure as PNG at DPI and closes it."""
    fig.tight_layout()
    # Written under a temporary name and renamed, so a killed run never leaves a truncated PNG.
    partial = out.with_name(out.name + ".partial")
    fig.savefig(partial, dpi=DPI, format="png")
    plt.close(fig)
    os.replace(partial, out)


# plot name -> (CSV file it needs, drawing function)
PLOTS: List[Tuple[str, str, Callable[[Path, Path], None]]] = [
    ("energy_parity", "energy_frames.csv", plot_energy_parity),
    ("force_parity", "force_components.csv", plot_force_parity),
    ("residue_error_heatmap", "residue_errors.csv", plot_residue_heatmap),
    ("energy_distributions", "energy_distributions.csv", plot_energy_distributions),
    ("hist_bond_length", "distributions_bond_length.csv", plot_histogram("bond_length")),
    ("hist_bond_angle", "distributions_bond_angle.csv", plot_histogram("bond_angle")),
    ("hist_torsion", "distributions_torsion.csv", plot_histogram("torsion")),
    ("hist_tica0", "distributions_tica0.csv", plot_histogram("tica0")),
    ("ramachandran", "ramachandran.csv", plot_ramachandran),
    ("fes_tica", "tica.csv", plot_fes_tica),
    ("rmsf", "rmsf.csv", plot_rmsf),
    ("timeseries", "timeseries.csv", plot_timeseries),
]


def main(argv: Sequence[str]) -> int:
    """Draws every plot whose CSV file exists; returns the exit status."""
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__)
            return 0
        fail("usage: evaluate_plots.py DIR (the output folder of hemeplm evaluate)", 2)
    folder = Path(argv[0])
    if not folder.is_dir():
        fail(f"{folder}: not a folder", 2)
    plots = folder / "plots"
    written: List[str] = []
    skipped: Dict[str, str] = {}
    for name, csv_name, draw in PLOTS:
        if not (folder / csv_name).is_file():
            skipped[name] = f"no {csv_name}"
            continue
        plots.mkdir(exist_ok=True)
        try:
            draw(folder, plots / f"{name}.png")
        except CsvError as error:
            fail(str(error), 1)
        except ValueError as error:  # a well-formed file without data to draw
            plt.close("all")
            skipped[name] = f"{csv_name}: {error}"
            continue
        written.append(f"plots/{name}.png")
        print(f"wrote plots/{name}.png", flush=True)
    print(json.dumps({"written": written, "skipped": skipped}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
