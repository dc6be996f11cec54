#!/usr/bin/python3
"""ctest for tools/reference_md.py: a short protein + ligand run in implicit solvent on the CPU platform.

Checks the H5MD layout and units with h5py, reads the file back with MDAnalysis (atom and frame counts,
positions, potential energy), recomputes energies and forces with the Reference platform (double
precision) from the stored positions, checks forces = -dE/dx by central finite differences on one
ligand atom, and checks that bad inputs exit with status 2 and one line on stderr.
Usage: test_reference_md.py SOURCE_DIR [WORK_DIR]
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import h5py
import numpy as np

SKIP = 77


def check(condition: bool, message: str) -> None:
    """Fails the test with a message."""
    if not condition:
        raise AssertionError(message)


def run_tool(root: Path, *args: str) -> subprocess.CompletedProcess:
    """Runs reference_md.py with the system Python."""
    return subprocess.run(["/usr/bin/python3", str(root / "tools/reference_md.py"), *args],
                          capture_output=True, text=True, timeout=600)


def check_layout(path: Path, n_frames: int) -> int:
    """The H5MD groups, shapes and VL-string units of docs/h5md-layout.md; returns the atom count."""
    with h5py.File(path, "r") as f:
        check(list(f["h5md"].attrs["version"]) == [1, 1], "h5md version")
        check(f["h5md/creator"].attrs["name"] == "hemeplm", "creator name")
        traj = f["particles/trajectory"]
        check(int(traj["box"].attrs["dimension"]) == 3, "box dimension")
        check(list(traj["box"].attrs["boundary"]) == ["none"] * 3, "implicit solvent: boundary none")
        check("edges" not in traj["box"], "no box edges without periodicity")
        pos = traj["position/value"]
        n = pos.shape[1]
        check(pos.shape == (n_frames, n, 3) and pos.dtype == np.float32, f"position shape {pos.shape}")
        check(pos.chunks[1:] == (n, 3) and pos.maxshape[0] is None, "position chunked/extensible")
        units = {"particles/trajectory/position/value": "Angstrom",
                 "particles/trajectory/position/time": "ps",
                 "particles/trajectory/force/value": "kJ mol-1 Angstrom-1",
                 "particles/trajectory/force/time": "ps", "particles/trajectory/mass": "u",
                 "particles/trajectory/charge": "e",
                 "observables/potential_energy/value": "kJ mol-1",
                 "observables/potential_energy/time": "ps"}
        for name, unit in units.items():
            attr_id = f[name].attrs.get_id("unit")
            check(attr_id.get_type().is_variable_str(), f"{name}: unit is not a VL string")
            check(f[name].attrs["unit"] == unit, f"{name}: unit {f[name].attrs['unit']!r}")
        steps = traj["position/step"][:]
        check(list(steps) == [5, 10, 15, 20], f"steps {steps}")
        check(np.allclose(traj["position/time"][:], steps * 0.002), "times in ps")
        check(list(f["observables/potential_energy/step"][:]) == list(steps), "energy steps")
        check(traj["force/value"].shape == (n_frames, n, 3), "force shape")
        check(traj["species"].shape == (n,) and traj["mass"].shape == (n,), "species/mass")
        vmd = f["parameters/vmd_structure"]
        for name in ("name", "type", "resname", "chain", "segid", "resid", "atomicnumber",
                     "bond_from", "bond_to"):
            check(name in vmd, f"vmd_structure/{name}")
        check(vmd["bond_from"][:].min() >= 1, "vmd bonds are 1-based")
        hp = f["parameters/hemeplm"]
        check(hp.attrs["format"] == "hemeplm-h5md" and int(hp.attrs["format_version"]) == 1, "format")
        prov = json.loads(hp.attrs["provenance"])
        for key in ("openmm_version", "platform", "force_fields", "ligand_parameterisation",
                    "temperature_K", "timestep_fs", "friction_per_ps", "seed", "steps", "stride", "inputs"):
            check(key in prov, f"provenance lacks {key}")
        check("AM1-BCC" in prov["charge_model"]["note"], "provenance notes Gasteiger is not AM1-BCC")
        json.loads(hp.attrs["config"])
        top = hp["topology"]
        kinds = list(top["residue_kind"].asstr()[:])
        check(kinds.count("ligand") == 1 and kinds.count("amino-acid") == 50, f"residue kinds {set(kinds)}")
        check(list(top["molecule_kind"].asstr()[:]) == ["polymer", "polymer", "ligand"], "molecule kinds")
        bonds = top["bond"][:]
        check(bonds.shape[1] == 3 and np.all(bonds[:, 0] < bonds[:, 1]), "bond a < b")
        check((bonds[:, 2] == 4).sum() == 6, "the ligand's aromatic ring keeps order 4")
        check(top["atom_name"].shape == (n,) and top["molecule_residues"].shape == top["residue_name"].shape,
              "topology sizes")
        check(int(hp["trajectories/frame_count"][0]) == n_frames, "trajectory index")
    return n


def check_mdanalysis(pdb: Path, path: Path, n_atoms: int, n_frames: int) -> None:
    """MDAnalysis reads the file: counts, positions in Angstrom, potential energy in ts.data."""
    warnings.filterwarnings("ignore")
    import MDAnalysis as mda
    u = mda.Universe(str(pdb), str(path))
    check(len(u.atoms) == n_atoms and len(u.trajectory) == n_frames,
          f"MDAnalysis: {len(u.atoms)} atoms, {len(u.trajectory)} frames")
    with h5py.File(path, "r") as f:
        pos = f["particles/trajectory/position/value"][:]
        energy = f["observables/potential_energy/value"][:]
    for k, ts in enumerate(u.trajectory):
        check(np.allclose(ts.positions, pos[k], atol=1e-4), f"MDAnalysis positions differ in frame {k}")
        check(abs(ts.data["potential_energy"] - energy[k]) < 1e-6, "MDAnalysis potential energy")
        check(abs(ts.time - 0.002 * 5 * (k + 1)) < 1e-9, f"MDAnalysis time {ts.time}")


def check_forces(root: Path, pdb: Path, path: Path, ligand: Path) -> None:
    """Stored energy/forces agree with the Reference platform, and forces = -dE/dx (finite differences)."""
    sys.path.insert(0, str(root / "tools"))
    import openmm
    from openmm import app
    import gaff_ligand
    import reference_md
    lig = gaff_ligand.read_ligands(str(ligand))[0]
    xml = gaff_ligand.ligand_ffxml(lig, "L1", gaff_ligand.load_gaff())
    ff = app.ForceField("amber14-all.xml", "implicit/obc2.xml", io.StringIO(xml))
    topology = app.PDBFile(str(pdb)).topology
    system = ff.createSystem(topology, nonbondedMethod=app.NoCutoff, constraints=None)
    reference_md.use_native_obc2(system)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    with h5py.File(path, "r") as f:
        x = f["particles/trajectory/position/value"][-1].astype(np.float64) / 10.0  # nm
        stored_f = f["particles/trajectory/force/value"][-1].astype(np.float64)      # kJ/mol/A
        stored_e = float(f["observables/potential_energy/value"][-1])

    def energy_forces(positions):
        """Reference-platform energy (kJ/mol) and forces (kJ/mol/A) at positions in nm."""
        context.setPositions(positions)
        state = context.getState(getEnergy=True, getForces=True)
        return (state.getPotentialEnergy()._value,
                np.array(state.getForces(asNumpy=True)._value) / 10.0)  # kJ/mol/A

    e_ref, f_ref = energy_forces(x)
    check(abs(e_ref - stored_e) < 1e-3 * abs(stored_e) + 1.0, f"energy {stored_e} vs Reference {e_ref}")
    scale = np.abs(f_ref).max()
    check(np.abs(f_ref - stored_f).max() < 2e-3 * scale + 0.5,
          f"stored forces differ from Reference by {np.abs(f_ref - stored_f).max():.3g}")
    atom = len(x) - 20  # a ligand heavy atom (the ligand is last; its H come after its heavy atoms)
    h = 1e-5  # nm
    for d in range(3):
        plus, minus = x.copy(), x.copy()
        plus[atom, d] += h
        minus[atom, d] -= h
        fd = -(energy_forces(plus)[0] - energy_forces(minus)[0]) / (2 * h) / 10.0  # kJ/mol/A
        check(abs(fd - f_ref[atom, d]) < 1e-3 * max(1.0, abs(fd)),
              f"atom {atom} axis {d}: -dE/dx {fd:.6f} vs force {f_ref[atom, d]:.6f}")
        check(abs(fd - stored_f[atom, d]) < 1e-2 * max(10.0, abs(fd)),
              f"atom {atom} axis {d}: -dE/dx {fd:.6f} vs stored force {stored_f[atom, d]:.6f}")


def check_errors(root: Path, work: Path) -> None:
    """Bad inputs: exit status 2 and exactly one line on stderr naming the problem."""
    silane = work / "silane.sdf"
    silane.write_text(
        "TMS\n  test\n\n  5  4  0  0  0  0  0  0  0  0999 V2000\n"
        "    0.0000    0.0000    0.0000 Si  0  0  0  0  0  0  0  0  0  0  0  0\n"
        "    1.8700    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "   -0.6200    1.7600    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "   -0.6200   -0.8800    1.5200 C   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "   -0.6200   -0.8800   -1.5200 C   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "  1  2  1  0\n  1  3  1  0\n  1  4  1  0\n  1  5  1  0\nM  END\n$$$$\n")
    truncated = work / "truncated.sdf"
    text = (root / "inputs/example/ligand.sdf").read_text().splitlines()
    truncated.write_text("\n".join(text[:20]) + "\n")
    structure = str(root / "inputs/example/complex.pdb")
    cases = [(["--ligand", str(silane)], "Si1"), (["--ligand", str(truncated)], "truncated.sdf"),
             (["--ligand", str(work / "missing.sdf")], "missing.sdf"), (["--stride", "0"], "--stride"),
             (["--solvent", "vacuum"], "--solvent")]
    for extra, needle in cases:
        result = run_tool(root, "--structure", structure, "--out", str(work / "bad.h5md"), *extra)
        lines = result.stderr.strip().splitlines()
        check(result.returncode == 2, f"{extra}: exit {result.returncode}, stderr {result.stderr!r}")
        check(len(lines) == 1 and needle in lines[0], f"{extra}: stderr {result.stderr!r}")
        check(not (work / "bad.h5md").exists(), f"{extra}: an output file was left")


def main() -> int:
    """Runs the checks; returns 0, 1 (failure) or 77 (skip)."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    try:
        import MDAnalysis  # noqa: F401
        import openmm  # noqa: F401
        from openbabel import openbabel  # noqa: F401
    except ImportError as exc:
        print(f"SKIP: {exc}")
        return SKIP
    with tempfile.TemporaryDirectory(dir=sys.argv[2] if len(sys.argv) > 2 else None) as tmp:
        work = Path(tmp)
        out, pdb = work / "ref.h5md", work / "ref.pdb"
        ligand = root / "inputs/example/ligand.sdf"
        start = time.monotonic()
        result = run_tool(root, "--structure", str(root / "inputs/example/complex.pdb"),
                          "--ligand", str(ligand), "--steps", "20", "--stride", "5",
                          "--minimize-steps", "100", "--seed", "7", "--out", str(out),
                          "--pdb-out", str(pdb))
        print(result.stderr, end="")
        check(result.returncode == 0, f"reference_md.py failed with {result.returncode}")
        print(f"run: {time.monotonic() - start:.1f} s")
        n = check_layout(out, 4)
        check_mdanalysis(pdb, out, n, 4)
        check_forces(root, pdb, out, ligand)
        check_errors(root, work)
        print(f"all checks passed in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as exc:
        print(f"FAIL: {exc}")
        sys.exit(1)
