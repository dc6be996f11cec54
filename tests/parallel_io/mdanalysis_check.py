#!/usr/bin/python3
"""Proves that MDAnalysis reads hemeplm's H5MD files, and writes H5MD files for hemeplm to read.

  mdanalysis_check.py FILE.h5md TOPOLOGY EXPECTED.json
      TOPOLOGY is a PDB file or an atom count. EXPECTED holds
      {"atoms": N, "frames": F, "checks": [{"frame": f, "time": t, "step": s,
        "dimensions": [a, b, c, alpha, beta, gamma] (omit for no box), "potential_energy": e,
        "atoms": [i, ...], "positions": [[x, y, z], ...]}, ...]}   (Å, ps, kJ/mol)
      Exit status 0 when every value matches (positions to 2e-3 Å: float32 storage).

  mdanalysis_check.py --write-mdanalysis OUT.h5md N_ATOMS N_FRAMES
      Writes a trajectory with MDAnalysis' own H5MDWriter in nm, ps, nm/ps and kJ/(mol nm), with the
      values of reference_values() below (the C++ test recomputes them).
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")  # xdrlib DeprecationWarning under Python 3.11, h5py notices
import numpy as np  # noqa: E402
import MDAnalysis as mda  # noqa: E402
from MDAnalysis.coordinates.memory import MemoryReader  # noqa: E402


def fail(message):
    print("mdanalysis_check: " + message, file=sys.stderr)
    sys.exit(1)


def universe(path, topology):
    if topology.isdigit():
        u = mda.Universe.empty(int(topology), trajectory=False)
        u.load_new(path, format="H5MD")
        return u
    return mda.Universe(topology, path, format="H5MD")


def check(path, topology, expected_path):
    with open(expected_path) as handle:
        expected = json.load(handle)
    u = universe(path, topology)
    if len(u.atoms) != expected["atoms"]:
        fail(f"{len(u.atoms)} atoms, expected {expected['atoms']}")
    if len(u.trajectory) != expected["frames"]:
        fail(f"{len(u.trajectory)} frames, expected {expected['frames']}")
    for item in expected["checks"]:
        ts = u.trajectory[item["frame"]]
        where = f"frame {item['frame']}"
        if abs(ts.time - item["time"]) > 1e-6:
            fail(f"{where}: time {ts.time}, expected {item['time']}")
        if "step" in item and int(ts.data["step"]) != item["step"]:
            fail(f"{where}: step {ts.data['step']}, expected {item['step']}")
        if "dimensions" in item:
            if ts.dimensions is None or not np.allclose(ts.dimensions, item["dimensions"], atol=1e-3):
                fail(f"{where}: dimensions {ts.dimensions}, expected {item['dimensions']}")
        elif ts.dimensions is not None:
            fail(f"{where}: dimensions {ts.dimensions}, expected none")
        if "potential_energy" in item:
            value = ts.data.get("potential_energy")
            if value is None or abs(float(value) - item["potential_energy"]) > 1e-6:
                fail(f"{where}: potential_energy {value}, expected {item['potential_energy']}")
        got = ts.positions[item["atoms"]]
        want = np.array(item["positions"])
        if not np.allclose(got, want, atol=2e-3):
            worst = int(np.argmax(np.abs(got - want).max(axis=1)))
            fail(f"{where}: atom {item['atoms'][worst]} at {got[worst]}, expected {want[worst]}")
    print(f"mdanalysis_check: {path}: {len(u.atoms)} atoms, {len(u.trajectory)} frames: OK")


def reference_values(n_atoms, n_frames):
    """Positions (Å), velocities (Å/ps), forces (kJ/mol/Å), box lengths (Å); dt = 2 ps."""
    f = np.arange(n_frames, dtype=np.float64)[:, None]
    i = np.arange(n_atoms, dtype=np.float64)[None, :]
    positions = np.stack([0.1 * i + f, -0.05 * i + 0 * f, 0.5 * f + 0 * i], axis=-1)
    velocities = np.stack([1.0 + f + 0 * i, 0.01 * i + 0 * f, -2.0 + 0 * f + 0 * i], axis=-1)
    forces = np.stack([f + 0 * i, -0.1 * i + 0 * f, 3.0 + 0 * f + 0 * i], axis=-1)
    boxes = np.array([[40.0 + k, 41.0, 42.0, 90.0, 90.0, 90.0] for k in range(n_frames)])
    return positions, velocities, forces, boxes


def write_mdanalysis(path, n_atoms, n_frames):
    positions, velocities, forces, boxes = reference_values(n_atoms, n_frames)
    u = mda.Universe.empty(n_atoms, trajectory=False)
    u.trajectory = MemoryReader(positions.astype(np.float32), order="fac", dimensions=boxes, dt=2.0,
                                velocities=velocities.astype(np.float32), forces=forces.astype(np.float32))
    with mda.Writer(path, n_atoms=n_atoms, format="H5MD", lengthunit="nm", timeunit="ps",
                    velocityunit="nm/ps", forceunit="kJ/(mol*nm)") as writer:
        for _ in u.trajectory:
            writer.write(u)
    print(f"mdanalysis_check: wrote {path}: {n_atoms} atoms, {n_frames} frames")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--write-mdanalysis":
        write_mdanalysis(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 4:
        check(*sys.argv[1:])
    else:
        fail("usage: mdanalysis_check.py FILE.h5md TOPOLOGY EXPECTED.json | --write-mdanalysis OUT.h5md N F")
