"""hemeplm topology arrays (docs/h5md-layout.md) from a simulated OpenMM Topology.

Residue and molecule kinds follow hemeplm's core rules (src/core/residue_kinds.cpp, molecules.cpp):
amino acids, caps, nucleotides, water and monatomic ions by residue name; residues from --ligand files
are "ligand"; other groups are "cofactor" when ligand files are given, else "ligand".  Molecules are the
connected components of the bond graph over residues, numbered by their first residue.  Bond orders:
OpenMM 7.7 does not give orders for standard residues, so they are 1; ligand bonds keep the SDF's order
(4 = aromatic).  Formal charges: ligands from the SDF; protein atoms from the hydrogens present (N with
four neighbours +1, ARG NH2 +1, HIP ND1 +1, deprotonated carboxylate O -1, CYM SG -1); ions by element.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Sequence

from gaff_ligand import Ligand
from h5md_layout import TopologyArrays

AMINO_ACIDS = {
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET", "PHE",
    "PRO", "SER", "THR", "TRP", "TYR", "VAL", "HID", "HIE", "HIP", "HSD", "HSE", "HSP", "HISD", "HISE",
    "HISH", "CYX", "CYM", "ASH", "GLH", "LYN", "ARN", "MSE", "ASPP", "GLUP", "LSN"}
CAPS = {"ACE", "NME", "NMA", "NH2"}
NUCLEOTIDES = {"DA", "DC", "DG", "DT", "DU", "DI", "A", "C", "G", "U", "I", "DA5", "DA3", "DC5", "DC3",
               "DG5", "DG3", "DT5", "DT3", "RU"}
WATERS = {"HOH", "WAT", "TIP3", "TIP4", "TIP5", "SOL", "H2O", "DOD", "T3P", "T4P", "SPC", "TIP"}
ION_CHARGES = {3: 1, 11: 1, 19: 1, 37: 1, 55: 1, 47: 1, 9: -1, 17: -1, 35: -1, 53: -1, 12: 2, 20: 2,
               30: 2, 25: 2, 26: 2, 27: 2, 28: 2, 29: 2, 38: 2, 56: 2, 48: 2, 13: 3}


@dataclasses.dataclass
class LigandBlock:
    """Where a ligand's atoms start in the simulated topology."""

    first_atom: int
    ligand: Ligand


def residue_kind(name: str, single_atom_z: int, is_ligand_file: bool, ligand_files_given: bool) -> str:
    """hemeplm's ResidueKind name of a residue (`single_atom_z`: Z of a one-atom residue, else 0)."""
    if is_ligand_file:
        return "ligand"
    if name in AMINO_ACIDS:
        return "amino-acid"
    if name in CAPS:
        return "cap"
    if name in WATERS:
        return "water"
    if single_atom_z in ION_CHARGES:
        return "ion"
    if name in NUCLEOTIDES:
        return "nucleic"
    return "cofactor" if ligand_files_given else "ligand"


def _protein_formal_charges(residue, neighbours: Dict[int, List], charges: List[int]) -> None:
    """pH-aware formal charges of one amino-acid residue from the hydrogens present."""
    atoms = {a.name: a for a in residue.atoms()}

    def hydrogens(atom) -> int:
        """Number of hydrogens bonded to an atom."""
        return sum(1 for b in neighbours[atom.index]
                   if b.element is not None and b.element.atomic_number == 1)

    for atom in residue.atoms():
        z = atom.element.atomic_number if atom.element is not None else 0
        degree = len(neighbours[atom.index])
        if z == 7 and degree == 4:
            charges[atom.index] = 1
    if residue.name == "ARG" and "NH2" in atoms and hydrogens(atoms["NH2"]) == 2:
        charges[atoms["NH2"].index] = 1
    if residue.name in ("HIS", "HIP") and "ND1" in atoms and "NE2" in atoms and \
            hydrogens(atoms["ND1"]) == 1 and hydrogens(atoms["NE2"]) == 1:
        charges[atoms["ND1"].index] = 1
    pairs = [("O", "OXT")]
    if residue.name in ("ASP", "ASH"):
        pairs.append(("OD1", "OD2"))
    if residue.name in ("GLU", "GLH"):
        pairs.append(("OE1", "OE2"))
    for ends in pairs:
        present = [atoms[e] for e in ends if e in atoms]
        if len(present) == 2 and all(hydrogens(a) == 0 and len(neighbours[a.index]) == 1 for a in present):
            charges[present[1].index] = -1
    if "SG" in atoms and residue.name in ("CYS", "CYM") and len(neighbours[atoms["SG"].index]) == 1:
        charges[atoms["SG"].index] = -1


def topology_arrays(topology, system, ligands: Sequence[LigandBlock], ligand_files_given: bool
                    ) -> TopologyArrays:
    """The /parameters/hemeplm/topology arrays of the simulated system (masses from the System)."""
    atoms = list(topology.atoms())
    residues = list(topology.residues())
    chains = list(topology.chains())
    n = len(atoms)
    ligand_atom: Dict[int, tuple] = {}
    for block in ligands:
        for i in range(len(block.ligand.atom_names)):
            ligand_atom[block.first_atom + i] = (block, i)
    ligand_residues = {atoms[b.first_atom].residue.index for b in ligands}
    neighbours: Dict[int, List] = {i: [] for i in range(n)}
    for bond in topology.bonds():
        neighbours[bond[0].index].append(bond[1])
        neighbours[bond[1].index].append(bond[0])

    charges = [0] * n
    kinds = []
    for res in residues:
        members_ = list(res.atoms())
        z = members_[0].element.atomic_number if len(members_) == 1 and members_[0].element else 0
        kind = residue_kind(res.name, z, res.index in ligand_residues, ligand_files_given)
        kinds.append(kind)
        if kind == "amino-acid":
            _protein_formal_charges(res, neighbours, charges)
        elif kind == "ion":
            atom = next(res.atoms())
            charges[atom.index] = ION_CHARGES.get(atom.element.atomic_number if atom.element else 0, 0)
    for index, (block, i) in ligand_atom.items():
        charges[index] = block.ligand.formal_charges[i]

    ligand_orders = {}
    for block in ligands:
        for a, b, order in block.ligand.bonds:
            ligand_orders[(block.first_atom + a, block.first_atom + b)] = order
    bonds = []
    for bond in topology.bonds():
        a, b = sorted((bond[0].index, bond[1].index))
        order = ligand_orders.get((a, b)) or (bond.order if getattr(bond, "order", None) else 1)
        bonds.append((a, b, int(order)))
    bonds.sort()

    # Molecules: connected components over residues, numbered by first residue.
    parent = list(range(len(residues)))

    def find(x: int) -> int:
        """Root of a residue's set (path halving)."""
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in bonds:
        ra, rb = find(atoms[a].residue.index), find(atoms[b].residue.index)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    molecule_of_root: Dict[int, int] = {}
    molecule_residues, members = [], []
    for r in range(len(residues)):
        root = find(r)
        if root not in molecule_of_root:
            molecule_of_root[root] = len(members)
            members.append([])
        members[molecule_of_root[root]].append(r)
        molecule_residues.append(molecule_of_root[root])
    molecule_kind, molecule_name = [], []
    titles = {atoms[b.first_atom].residue.index: b.ligand.title for b in ligands}
    for group in members:
        ks = [kinds[r] for r in group]
        if any(k in ("amino-acid", "cap", "nucleic") for k in ks):
            kind = "polymer"
        elif all(k == "water" for k in ks):
            kind = "water"
        elif all(k == "ion" for k in ks):
            kind = "ion"
        elif "ligand" in ks:
            kind = "ligand"
        elif "cofactor" in ks:
            kind = "cofactor"
        else:
            kind = "other"
        parts: List[str] = []
        for r in group:
            part = residues[r].chain.id if kind == "polymer" else residues[r].name
            if kind == "ligand" and len(group) == 1 and titles.get(r):
                part = titles[r]
            if part and part not in parts:
                parts.append(part)
        molecule_kind.append(kind)
        molecule_name.append("+".join(parts))

    def seq(res) -> int:
        """Integer residue number from OpenMM's string id (index + 1 when not numeric)."""
        digits = "".join(c for c in str(res.id) if c.isdigit() or c == "-")
        try:
            return int(digits)
        except ValueError:
            return res.index + 1

    return TopologyArrays(
        atom_name=[a.name for a in atoms],
        atom_residue=[a.residue.index for a in atoms],
        formal_charge=charges,
        atomic_number=[a.element.atomic_number if a.element is not None else 0 for a in atoms],
        mass=[system.getParticleMass(i)._value for i in range(n)],
        residue_name=[r.name for r in residues],
        residue_seq=[seq(r) for r in residues],
        residue_insertion=[(getattr(r, "insertionCode", "") or "").strip() for r in residues],
        residue_chain=[r.chain.index for r in residues],
        residue_kind=kinds,
        chain_name=[c.id for c in chains],
        bond=bonds,
        molecule_kind=molecule_kind,
        molecule_name=molecule_name,
        molecule_residues=molecule_residues,
    )
