#!/usr/bin/python3
"""Builds the bundled example system in inputs/example/ from scratch.

A toy protein-ligand complex: two antiparallel alpha-helical chains (PeptideBuilder, ideal helix
phi/psi = -57/-47, heavy atoms, C-terminal OXT) packed 10 Å apart, and ibuprofen embedded from
SMILES with RDKit (ETKDGv3, seed 42, hydrogens) and placed in the groove between them in the
surface groove at the pose with the most protein contacts that keeps 2.6 Å clearance.

Run: /usr/bin/python3 scripts/make-example-inputs.py   (needs python3-peptidebuilder, python3-rdkit:
scripts/install-deps.sh --with-examples). The output is deterministic.
"""
import math
import os
import sys

import numpy as np
import PeptideBuilder
from Bio.PDB import PDBIO
from PeptideBuilder import Geometry
from rdkit import Chem
from rdkit.Chem import AllChem

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "inputs", "example")
SEQUENCE_A = "SPEELLKKAEELIKRAKELAEKGNK"
SEQUENCE_B = "SPEKLAELIKKAEELLRKAKELAEK"
LIGAND_SMILES = "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O"  # (S)-ibuprofen
HELIX_SPACING = 10.0  # Å between helix axes
MIN_CLEARANCE = 2.6  # Å, closest ligand atom (incl. H) to any protein heavy atom


def helix(sequence):
    geos = []
    for aa in sequence:
        g = Geometry.geometry(aa)
        g.phi, g.psi_im1 = -57.0, -47.0
        geos.append(g)
    structure = PeptideBuilder.make_structure_from_geos(geos)
    PeptideBuilder.add_terminal_OXT(structure)
    return structure


def coords(structure):
    return np.array([a.coord for a in structure.get_atoms()], dtype=float)


def principal_frame(xyz):
    centre = xyz.mean(axis=0)
    _, _, vt = np.linalg.svd(xyz - centre)
    axis = vt[0] if np.dot(vt[0], xyz[-1] - xyz[0]) > 0 else -vt[0]
    return centre, axis, vt


def rotation_onto(a, b):
    """Rotation matrix taking unit vector a onto unit vector b."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-12:
        return np.eye(3) if c > 0 else -np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * (1.0 / (1.0 + c))


def place_helices():
    a, b = helix(SEQUENCE_A), helix(SEQUENCE_B)
    # Chain A along +z centred at the origin; chain B antiparallel, shifted along +x.
    for chain_structure, direction, shift, name in ((a, [0, 0, 1], [0, 0, 0], "A"),
                                                    (b, [0, 0, -1], [HELIX_SPACING, 0, 0], "B")):
        xyz = coords(chain_structure)
        centre, axis, _ = principal_frame(xyz)
        rot = rotation_onto(axis, np.array(direction, dtype=float))
        for atom in chain_structure.get_atoms():
            atom.set_coord((rot @ (atom.coord - centre)) + np.array(shift, dtype=float))
        chain_structure[0]["A"].id = name
    model = a[0]
    chain_b = b[0]["B"]
    chain_b.detach_parent()
    model.add(chain_b)
    return a


def embed_ligand():
    mol = Chem.AddHs(Chem.MolFromSmiles(LIGAND_SMILES))
    params = AllChem.ETKDGv3()
    params.randomSeed = 42
    conformers = list(AllChem.EmbedMultipleConfs(mol, numConfs=20, params=params))
    AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=500)
    return mol, conformers


def place_ligand(mol, conformers, protein_xyz):
    """Pose in the groove between the helices with the most protein atoms within 5 Å of the ligand,
    among poses whose closest approach to any protein atom is at least MIN_CLEARANCE."""
    rng = np.random.default_rng(7)
    best = (-1, None, None, None)  # (contacts, closest, conformer, coordinates)
    for cid in conformers:
        xyz = mol.GetConformer(cid).GetPositions()
        centred = xyz - xyz.mean(axis=0)
        for _ in range(200):
            q = rng.normal(size=4)
            q /= np.linalg.norm(q)
            w, x, y, z = q
            rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
            for dy in (5.0, 6.0, 7.0, 8.0):
                for dz in (-3.0, 0.0, 3.0):
                    placed = centred @ rot.T + np.array([HELIX_SPACING / 2, dy, dz])
                    dist = np.linalg.norm(placed[:, None, :] - protein_xyz[None, :, :], axis=2)
                    closest = float(dist.min())
                    if closest < MIN_CLEARANCE:
                        continue
                    contacts = int(np.count_nonzero(dist.min(axis=0) < 5.0))
                    if contacts > best[0]:
                        best = (contacts, closest, cid, placed)
    if best[2] is None:
        sys.exit("ligand placement failed: no pose clears the protein")
    return best


def main():
    os.makedirs(OUT, exist_ok=True)
    structure = place_helices()
    protein_xyz = coords(structure)
    io = PDBIO()
    io.set_structure(structure)
    pdb_path = os.path.join(OUT, "complex.pdb")
    io.save(pdb_path)

    mol, conformers = embed_ligand()
    contacts, closest, cid, placed = place_ligand(mol, conformers, protein_xyz)
    conf = mol.GetConformer(cid)
    for i, p in enumerate(placed):
        conf.SetAtomPosition(i, p.tolist())
    mol.SetProp("_Name", "IBP")
    mol.SetProp("SMILES", LIGAND_SMILES)
    mol.SetProp("made_by", "scripts/make-example-inputs.py (RDKit ETKDGv3 seed 42, MMFF94)")
    writer = Chem.SDWriter(os.path.join(OUT, "ligand.sdf"))
    writer.write(mol, confId=cid)
    writer.close()
    print(f"wrote {pdb_path}: {len(protein_xyz)} atoms, chains A and B "
          f"({len(SEQUENCE_A)} + {len(SEQUENCE_B)} residues)")
    print(f"wrote ligand.sdf: {mol.GetNumAtoms()} atoms, closest approach to protein {closest:.2f} Å, "
          f"{contacts} protein atoms within 5 Å")


if __name__ == "__main__":
    main()
