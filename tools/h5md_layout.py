"""hemeplm's H5MD layout (docs/h5md-layout.md) written with h5py, frame by frame.

`TopologyArrays` holds /parameters/hemeplm/topology; `H5mdTrajectoryWriter` creates the file, writes
the static parts, appends frames (each one written and flushed at once, so a killed run keeps every
frame it reported) and closes.  Lengths in Angstrom, times in ps, energies in kJ/mol, forces in
kJ/mol/Angstrom; every unit is a variable-length ASCII string attribute, as MDAnalysis requires.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence

import h5py
import numpy as np

VL = h5py.string_dtype("ascii")
VL_UTF8 = h5py.string_dtype("utf-8")
FORMAT_VERSION = 1


@dataclasses.dataclass
class TopologyArrays:
    """Everything /parameters/hemeplm/topology holds (indices 0-based)."""

    atom_name: List[str]
    atom_residue: List[int]
    formal_charge: List[int]
    atomic_number: List[int]
    mass: List[float]
    residue_name: List[str]
    residue_seq: List[int]
    residue_insertion: List[str]
    residue_chain: List[int]
    residue_kind: List[str]
    chain_name: List[str]
    bond: List[Sequence[int]]            # (a, b, order), a < b, sorted
    molecule_kind: List[str]
    molecule_name: List[str]
    molecule_residues: List[int]         # molecule index of each residue
    box: Optional[np.ndarray] = None     # 3x3 Angstrom, rows = box vectors, when periodic

    @property
    def atom_count(self) -> int:
        """Number of atoms."""
        return len(self.atom_name)


def _string_dataset(group: h5py.Group, name: str, values: Sequence[str]) -> None:
    """A VL ASCII string dataset (non-ASCII characters are replaced)."""
    clean = [v.encode("ascii", "replace").decode("ascii") for v in values]
    group.create_dataset(name, data=np.array(clean, dtype=object), dtype=VL)


def _unit(dataset: h5py.Dataset, unit: str) -> None:
    """Sets the `unit` attribute as a variable-length string."""
    dataset.attrs.create("unit", unit, dtype=VL)


def _time_series(group: h5py.Group, shape: Sequence[int], dtype, chunk: int, unit: str) -> None:
    """step/time/value datasets of an H5MD time-dependent element, extensible along frames."""
    group.create_dataset("step", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(max(chunk, 1),))
    t = group.create_dataset("time", shape=(0,), maxshape=(None,), dtype=np.float64,
                             chunks=(max(chunk, 1),))
    _unit(t, "ps")
    v = group.create_dataset("value", shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                             chunks=(max(chunk, 1), *shape))
    _unit(v, unit)


class H5mdTrajectoryWriter:
    """Writes one trajectory in hemeplm's H5MD layout; use as a context manager."""

    def __init__(self, path: str, topology: TopologyArrays, *, forces: bool, observables: Sequence[str],
                 config_json: str, provenance_json: str, creator_version: str, author: str = "hemeplm",
                 chunk_frames: int = 32, source: str = "", dt_ps: float = 0.0) -> None:
        self.path = path
        self.topology = topology
        self.periodic = topology.box is not None
        self.forces = forces
        self.observables = list(observables)
        self.frames = 0
        self.source = source
        self.dt_ps = dt_ps
        n = topology.atom_count
        f = self.file = h5py.File(path, "w", libver=("earliest", "v110"))
        h5 = f.create_group("h5md")
        h5.attrs["version"] = np.array([1, 1], np.int32)
        h5.create_group("author").attrs.create("name", author, dtype=VL)
        creator = h5.create_group("creator")
        creator.attrs.create("name", "hemeplm", dtype=VL)
        creator.attrs.create("version", creator_version, dtype=VL)
        traj = f.create_group("particles/trajectory")
        box = traj.create_group("box")
        box.attrs["dimension"] = np.int32(3)
        box.attrs.create("boundary", ["periodic" if self.periodic else "none"] * 3, dtype=VL)
        # C frames per chunk, at most ~4 MiB per chunk so that big systems do not allocate huge chunks.
        chunk = max(1, min(chunk_frames, (4 << 20) // max(1, 12 * n)))
        if self.periodic:
            _time_series(box.create_group("edges"), (3, 3), np.float32, chunk, "Angstrom")
        _time_series(traj.create_group("position"), (n, 3), np.float32, chunk, "Angstrom")
        if forces:
            _time_series(traj.create_group("force"), (n, 3), np.float32, chunk, "kJ mol-1 Angstrom-1")
        traj.create_dataset("species", data=np.asarray(topology.atomic_number, np.int32))
        _unit(traj.create_dataset("mass", data=np.asarray(topology.mass, np.float64)), "u")
        charge = traj.create_dataset("charge", data=np.asarray(topology.formal_charge, np.float64))
        _unit(charge, "e")
        charge.attrs.create("type", "formal", dtype=VL)
        for name in self.observables:
            _time_series(f.create_group(f"observables/{name}"), (), np.float64, 256,
                         "kJ mol-1" if name.endswith("energy") else "")
        bonds = np.asarray([b[:2] for b in topology.bond], np.int32).reshape(-1, 2)
        conn = f.create_group("connectivity")
        conn.create_dataset("bonds", data=bonds).attrs["particles_group"] = traj.ref
        self._write_vmd_structure(f.create_group("parameters/vmd_structure"), bonds)
        hemeplm = f.create_group("parameters/hemeplm")
        hemeplm.attrs.create("format", "hemeplm-h5md", dtype=VL)
        hemeplm.attrs["format_version"] = np.int32(FORMAT_VERSION)
        hemeplm.attrs.create("config", config_json, dtype=VL_UTF8)
        hemeplm.attrs.create("provenance", provenance_json, dtype=VL_UTF8)
        self._write_topology(hemeplm.create_group("topology"))
        f.flush()

    def _write_vmd_structure(self, g: h5py.Group, bonds: np.ndarray) -> None:
        """/parameters/vmd_structure: per-atom strings and 1-based bond lists for VMD's h5mdplugin."""
        top = self.topology
        res = top.atom_residue
        _string_dataset(g, "name", top.atom_name)
        _string_dataset(g, "type", top.atom_name)  # as parallel_io's writer: the atom name
        _string_dataset(g, "resname", [top.residue_name[r] for r in res])
        chains = [top.chain_name[top.residue_chain[r]] for r in res]
        _string_dataset(g, "chain", chains)
        _string_dataset(g, "segid", chains)
        g.create_dataset("resid", data=np.asarray([top.residue_seq[r] for r in res], np.int32))
        g.create_dataset("atomicnumber", data=np.asarray(top.atomic_number, np.int32))
        g.create_dataset("bond_from", data=(bonds[:, 0] + 1).astype(np.int32))
        g.create_dataset("bond_to", data=(bonds[:, 1] + 1).astype(np.int32))

    def _write_topology(self, g: h5py.Group) -> None:
        """/parameters/hemeplm/topology."""
        top = self.topology
        _string_dataset(g, "atom_name", top.atom_name)
        g.create_dataset("atom_residue", data=np.asarray(top.atom_residue, np.int32))
        g.create_dataset("formal_charge", data=np.asarray(top.formal_charge, np.int32))
        g.create_dataset("atomic_number", data=np.asarray(top.atomic_number, np.int32))
        _string_dataset(g, "residue_name", top.residue_name)
        g.create_dataset("residue_seq", data=np.asarray(top.residue_seq, np.int32))
        _string_dataset(g, "residue_insertion", top.residue_insertion)
        g.create_dataset("residue_chain", data=np.asarray(top.residue_chain, np.int32))
        _string_dataset(g, "residue_kind", top.residue_kind)
        _string_dataset(g, "chain_name", top.chain_name)
        g.create_dataset("bond", data=np.asarray(top.bond, np.int32).reshape(-1, 3))
        _string_dataset(g, "molecule_kind", top.molecule_kind)
        _string_dataset(g, "molecule_name", top.molecule_name)
        g.create_dataset("molecule_residues", data=np.asarray(top.molecule_residues, np.int32))
        if top.box is not None:
            g.create_dataset("box", data=np.asarray(top.box, np.float64))

    def append(self, step: int, time_ps: float, positions: np.ndarray,
               forces: Optional[np.ndarray] = None, observables: Sequence[float] = (),
               box: Optional[np.ndarray] = None) -> None:
        """Appends one frame (positions Angstrom, forces kJ/mol/Angstrom, box rows Angstrom) and
        flushes the file."""
        f, k = self.file, self.frames
        groups = [("particles/trajectory/position", positions)]
        if self.forces:
            groups.append(("particles/trajectory/force", forces))
        if self.periodic:
            groups.append(("particles/trajectory/box/edges", box))
        groups += [(f"observables/{n}", v) for n, v in zip(self.observables, observables)]
        for name, value in groups:
            g = f[name]
            for ds in ("step", "time", "value"):
                g[ds].resize(k + 1, axis=0)
            g["step"][k] = step
            g["time"][k] = time_ps
            g["value"][k] = value
        self.frames = k + 1
        f.flush()

    def set_provenance(self, provenance_json: str) -> None:
        """Replaces the provenance JSON (e.g. to add the measured performance at the end)."""
        self.file["parameters/hemeplm"].attrs.create("provenance", provenance_json, dtype=VL_UTF8)

    def close(self) -> None:
        """Writes the one-row trajectory index and closes the file."""
        if self.file is None:
            return
        g = self.file.require_group("parameters/hemeplm/trajectories")
        for name in ("first_frame", "frame_count", "source", "dt_ps"):
            if name in g:
                del g[name]
        g.create_dataset("first_frame", data=np.asarray([0], np.int64))
        g.create_dataset("frame_count", data=np.asarray([self.frames], np.int64))
        _string_dataset(g, "source", [self.source])
        g.create_dataset("dt_ps", data=np.asarray([self.dt_ps], np.float64))
        self.file.close()
        self.file = None

    def __enter__(self) -> "H5mdTrajectoryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
