"""GAFF parameters for small-molecule ligands as OpenMM force-field XML (ffxml).

Debian ships neither AmberTools nor openmmforcefields, so the ligand route is:

* the ligand is read from SDF with RDKit (hydrogens are added with 3D coordinates when missing);
* Open Babel's GAFF plugin assigns GAFF atom types (OBForceField "GAFF" Setup + GetAtomTypes);
* bonded and Lennard-Jones values come from Open Babel's copy of gaff.dat (GAFF 1.4), looked up with
  Amber's rules: a specific torsion beats the X-b-c-X wildcard and its barrier is divided by IDIVF;
  impropers try the specific entry, then X-b-c-d, then X-X-c-d (central atom third);
* partial charges are Gasteiger charges (Open Babel), shifted so that they sum to the formal charge;
* 1-4 interactions are scaled by 1/1.2 (electrostatics) and 0.5 (Lennard-Jones), as in amber14.

Every ligand atom gets its own atom type and class ("<tag>-<atom name>"), and every bond, angle,
torsion and improper is written for the actual atoms, so OpenMM's wildcard matching never has to guess
and two ligands never share a name.  A missing bonded parameter is an error naming the GAFF types.
Gasteiger charges are not AM1-BCC: the result is a reasonable reference force field, not a validated one.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

GAFF_DAT = Path("/usr/share/openbabel/3.1.1/gaff.dat")
PARAMETERISATION = "GAFF 1.4 (Open Babel atom types, gaff.dat) with Gasteiger charges"
KCAL = 4.184  # kJ per kcal
COULOMB14 = 1.0 / 1.2
LJ14 = 0.5


class LigandError(Exception):
    """A ligand that cannot be read or parameterised; the message names the file and atom."""


@dataclasses.dataclass
class Ligand:
    """One ligand molecule with hydrogens, in the atom order of the SDF (added H at the end)."""

    path: str
    record: int                      # 0-based record index in the file
    title: str
    residue_name: str                # hemeplm's rule: first word of the title, alnum, upper, <= 4
    atom_names: List[str]            # element symbol + 1-based index ("C1", "H16")
    atomic_numbers: List[int]
    formal_charges: List[int]
    positions: List[Tuple[float, float, float]]   # Angstrom
    bonds: List[Tuple[int, int, int]]             # (a, b, order), a < b, order 4 = aromatic
    molblock: str                    # kekulized MOL block with all hydrogens (input to Open Babel)
    added_hydrogens: int = 0


@dataclasses.dataclass
class GaffParameters:
    """The sections of gaff.dat that a ligand needs (kcal/mol, Angstrom, degrees)."""

    masses: Dict[str, float]
    bonds: Dict[Tuple[str, str], Tuple[float, float]]
    angles: Dict[Tuple[str, str, str], Tuple[float, float]]
    torsions: Dict[Tuple[str, str, str, str], List[Tuple[float, float, float, float]]]
    impropers: Dict[Tuple[str, str, str, str], Tuple[float, float, float]]
    lj: Dict[str, Tuple[float, float]]


def residue_name_from_title(title: str) -> str:
    """hemeplm's ligand residue name: "STI" -> "STI", "1a46_ligand" -> "1A46", "" -> "LIG"."""
    word = title.split()[0] if title.split() else ""
    name = "".join(c for c in word if c.isalnum())[:4].upper()
    return name or "LIG"


def _types_of(line: str, count: int) -> Tuple[str, ...]:
    """The `count` hyphen-separated, 2-column atom types at the start of a gaff.dat line."""
    return tuple(line[3 * i:3 * i + 2].strip() for i in range(count))


def load_gaff(path: Path = GAFF_DAT) -> GaffParameters:
    """Parses an Amber parm file (gaff.dat layout: fixed-width type columns, blank-line sections)."""
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise LigandError(f"{path}: cannot read GAFF parameters ({exc.strerror})") from None
    sections: List[List[str]] = [[]]
    for line in lines[1:]:
        if line.startswith("MOD4") or line.startswith("END"):
            sections.append([line])
            continue
        if not line.strip():
            sections.append([])
        else:
            sections[-1].append(line)
    # atoms, hydrophilic list + bonds, angles, torsions, impropers, then 10-12, equivalences, MOD4.
    masses = {ln.split()[0]: float(ln.split()[1]) for ln in sections[0]}
    bonds, angles, torsions, impropers, lj = {}, {}, {}, {}, {}
    for ln in sections[1][1:]:
        f = ln[5:].split()
        bonds.setdefault(_types_of(ln, 2), (float(f[0]), float(f[1])))
    for ln in sections[2]:
        f = ln[8:].split()
        angles.setdefault(_types_of(ln, 3), (float(f[0]), float(f[1])))
    previous_continues: Optional[Tuple[str, ...]] = None
    for ln in sections[3]:
        key = _types_of(ln, 4)
        f = ln[11:].split()
        term = (float(f[0]), float(f[1]), float(f[2]), float(f[3]))  # IDIVF, PK, PHASE, PN
        if previous_continues == key:
            torsions[key].append(term)
        elif key not in torsions:
            torsions[key] = [term]
        previous_continues = key if term[3] < 0 else None
    for ln in sections[4]:
        f = ln[11:].split()
        impropers.setdefault(_types_of(ln, 4), (float(f[0]), float(f[1]), float(f[2])))
    for section in sections:
        if section and section[0].startswith("MOD4"):
            for ln in section[1:]:
                f = ln.split()
                lj[f[0]] = (float(f[1]), float(f[2]))
    return GaffParameters(masses, bonds, angles, torsions, impropers, lj)


def read_ligands(path: str) -> List[Ligand]:
    """Reads every record of an SDF file; adds missing hydrogens (RDKit, with 3D coordinates)."""
    from rdkit import Chem, RDLogger
    RDLogger.DisableLog("rdApp.*")
    if not os.path.isfile(path):
        raise LigandError(f"{path}: no such ligand file")
    if Path(path).suffix.lower() not in (".sdf", ".sd", ".mol"):
        raise LigandError(f"{path}: unknown ligand file extension (expected .sdf, .sd or .mol)")
    supplier = Chem.SDMolSupplier(path, removeHs=False, sanitize=True)
    ligands: List[Ligand] = []
    for k in range(len(supplier)):
        mol = supplier[k]
        if mol is None:
            raise LigandError(f"{path}: record {k + 1}: RDKit cannot parse the molecule "
                              "(truncated record, bad counts line or impossible valence)")
        if mol.GetNumConformers() == 0 or not mol.GetConformer().Is3D():
            raise LigandError(f"{path}: record {k + 1}: the molecule has no 3D coordinates")
        before = mol.GetNumAtoms()
        if any(a.GetTotalNumHs() > 0 for a in mol.GetAtoms()):
            mol = Chem.AddHs(mol, addCoords=True)
        title = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
        kek = Chem.Mol(mol)
        Chem.Kekulize(kek, clearAromaticFlags=False)
        bonds = []
        for b in mol.GetBonds():
            order = {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3,
                     Chem.BondType.AROMATIC: 4}.get(b.GetBondType())
            if order is None:
                raise LigandError(f"{path}: record {k + 1}: unsupported bond type between atoms "
                                  f"{b.GetBeginAtomIdx() + 1} and {b.GetEndAtomIdx() + 1}")
            i, j = sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
            bonds.append((i, j, order))
        conf = mol.GetConformer()
        ligands.append(Ligand(
            path=path, record=k, title=title, residue_name=residue_name_from_title(title),
            atom_names=[f"{a.GetSymbol()}{a.GetIdx() + 1}" for a in mol.GetAtoms()],
            atomic_numbers=[a.GetAtomicNum() for a in mol.GetAtoms()],
            formal_charges=[a.GetFormalCharge() for a in mol.GetAtoms()],
            positions=[tuple(conf.GetAtomPosition(i)) for i in range(mol.GetNumAtoms())],
            bonds=sorted(bonds), molblock=Chem.MolToMolBlock(kek, kekulize=True),
            added_hydrogens=mol.GetNumAtoms() - before))
    if not ligands:
        raise LigandError(f"{path}: no molecules found")
    return ligands


def gaff_types_and_charges(ligand: Ligand, known_types: Sequence[str]) -> Tuple[List[str], List[float]]:
    """GAFF atom types (Open Babel) and Gasteiger charges summing to the formal charge."""
    from openbabel import openbabel as ob
    ob.obErrorLog.SetOutputLevel(0)
    conv = ob.OBConversion()
    conv.SetInFormat("mol")
    mol = ob.OBMol()
    if not conv.ReadString(mol, ligand.molblock) or mol.NumAtoms() != len(ligand.atom_names):
        raise LigandError(f"{ligand.path}: record {ligand.record + 1}: Open Babel cannot read the molecule")
    field = ob.OBForceField.FindForceField("GAFF")
    if field is None or not field.Setup(mol) or not field.GetAtomTypes(mol):
        raise LigandError(f"{ligand.path}: record {ligand.record + 1}: Open Babel's GAFF setup failed")
    types = []
    for atom in ob.OBMolAtomIter(mol):
        data = atom.GetData("FFAtomType")
        value = data.GetValue() if data is not None else ""
        i = atom.GetIdx() - 1
        if value not in known_types:
            raise LigandError(f"{ligand.path}: atom {i + 1} ({ligand.atom_names[i]}): Open Babel assigns "
                              f"no GAFF atom type (got '{value}'); GAFF cannot describe this element "
                              "or bonding")
        types.append(value)
    model = ob.OBChargeModel.FindType("gasteiger")
    if model is None or not model.ComputeCharges(mol):
        raise LigandError(f"{ligand.path}: record {ligand.record + 1}: Gasteiger charges failed")
    charges = [atom.GetPartialCharge() for atom in ob.OBMolAtomIter(mol)]
    if any(math.isnan(q) for q in charges):
        raise LigandError(f"{ligand.path}: record {ligand.record + 1}: Gasteiger charges are NaN")
    shift = (sum(ligand.formal_charges) - sum(charges)) / len(charges)
    return types, [q + shift for q in charges]


def _lookup_torsion(params: GaffParameters, t: Sequence[str]) -> Optional[List[Tuple[float, ...]]]:
    """Amber rule: the specific a-b-c-d (either direction) wins over X-b-c-X."""
    for key in ((t[0], t[1], t[2], t[3]), (t[3], t[2], t[1], t[0]),
                ("X", t[1], t[2], "X"), ("X", t[2], t[1], "X")):
        if key in params.torsions:
            return params.torsions[key]
    return None


def _lookup_improper(params: GaffParameters, types: Sequence[str], center: int,
                     others: Sequence[int]) -> Optional[Tuple[Tuple[int, int, int, int], Tuple]]:
    """Best improper for a trivalent centre: (i, j, k=centre, l) and (PK, PHASE, PN), or None.

    Tries every choice of l and order of i, j against the specific entry, then X-j-k-l, then X-X-k-l;
    atoms on wildcard positions are ordered by (GAFF type, index) as tleap does.
    """
    tk = types[center]
    for wildcards in range(3):
        for l_atom in others:
            rest = [a for a in others if a != l_atom]
            for i_atom, j_atom in itertools.permutations(rest):
                key = (("X" if wildcards >= 1 else types[i_atom]),
                       ("X" if wildcards >= 2 else types[j_atom]), tk, types[l_atom])
                if key in params.impropers:
                    if wildcards == 2:
                        i_atom, j_atom = sorted(rest, key=lambda a: (types[a], a))
                    return (i_atom, j_atom, center, l_atom), params.impropers[key]
    return None


def _missing(ligand: Ligand, kind: str, types: Sequence[str], atoms: Sequence[int]) -> LigandError:
    """The error for a bonded term gaff.dat does not define."""
    names = "-".join(ligand.atom_names[a] for a in atoms)
    return LigandError(f"{ligand.path}: no GAFF {kind} parameter for types {'-'.join(types)} "
                       f"(atoms {names})")


def ligand_ffxml(ligand: Ligand, tag: str, params: GaffParameters) -> str:
    """OpenMM ffxml text for one ligand: one residue template, per-atom types and explicit terms."""
    types, charges = gaff_types_and_charges(ligand, list(params.masses))
    n = len(types)
    neighbours: List[List[int]] = [[] for _ in range(n)]
    for a, b, _ in ligand.bonds:
        neighbours[a].append(b)
        neighbours[b].append(a)
    cls = [f"{tag}-{name}" for name in ligand.atom_names]
    root = ET.Element("ForceField")
    ET.SubElement(root, "Info").text = f"{PARAMETERISATION}; {ligand.path} record {ligand.record + 1}"
    atom_types = ET.SubElement(root, "AtomTypes")
    from openmm.app import element as elem
    for i in range(n):
        ET.SubElement(atom_types, "Type", name=cls[i], **{"class": cls[i]},
                      element=elem.Element.getByAtomicNumber(ligand.atomic_numbers[i]).symbol,
                      mass=f"{params.masses[types[i]]:.4f}")
    residues = ET.SubElement(root, "Residues")
    residue = ET.SubElement(residues, "Residue", name=f"{tag}-{ligand.residue_name}")
    for i in range(n):
        ET.SubElement(residue, "Atom", name=ligand.atom_names[i], type=cls[i], charge=f"{charges[i]:.6f}")
    for a, b, _ in ligand.bonds:
        ET.SubElement(residue, "Bond", atomName1=ligand.atom_names[a], atomName2=ligand.atom_names[b])

    bond_force = ET.SubElement(root, "HarmonicBondForce")
    for a, b, _ in ligand.bonds:
        value = params.bonds.get((types[a], types[b])) or params.bonds.get((types[b], types[a]))
        if value is None:
            raise _missing(ligand, "bond", (types[a], types[b]), (a, b))
        ET.SubElement(bond_force, "Bond", class1=cls[a], class2=cls[b], length=f"{value[1] / 10:.6f}",
                      k=f"{2 * value[0] * KCAL * 100:.4f}")

    angle_force = ET.SubElement(root, "HarmonicAngleForce")
    for j in range(n):
        for i, k in itertools.combinations(sorted(neighbours[j]), 2):
            key = (types[i], types[j], types[k])
            value = params.angles.get(key) or params.angles.get(key[::-1])
            if value is None:
                raise _missing(ligand, "angle", key, (i, j, k))
            ET.SubElement(angle_force, "Angle", class1=cls[i], class2=cls[j], class3=cls[k],
                          angle=f"{math.radians(value[1]):.8f}", k=f"{2 * value[0] * KCAL:.6f}")

    torsion_force = ET.SubElement(root, "PeriodicTorsionForce")
    for j, k, _ in ligand.bonds:
        for i in neighbours[j]:
            for l_atom in neighbours[k]:
                if i in (j, k) or l_atom in (j, k) or i == l_atom:
                    continue
                key = (types[i], types[j], types[k], types[l_atom])
                terms = _lookup_torsion(params, key)
                if terms is None:
                    raise _missing(ligand, "torsion", key, (i, j, k, l_atom))
                attrs = {"class1": cls[i], "class2": cls[j], "class3": cls[k], "class4": cls[l_atom]}
                for m, (idivf, pk, phase, pn) in enumerate(terms, start=1):
                    attrs[f"periodicity{m}"] = str(int(abs(round(pn))))
                    attrs[f"phase{m}"] = f"{math.radians(phase):.8f}"
                    attrs[f"k{m}"] = f"{pk / idivf * KCAL:.6f}"
                ET.SubElement(torsion_force, "Proper", **attrs)
    for k in range(n):
        if len(neighbours[k]) != 3:
            continue
        found = _lookup_improper(params, types, k, neighbours[k])
        if found is None:
            continue
        (i, j, _, l_atom), (pk, phase, pn) = found
        # OpenMM's improper: class1 is the central atom, the torsion is (class2, class3, class1, class4).
        ET.SubElement(torsion_force, "Improper", class1=cls[k], class2=cls[i], class3=cls[j],
                      class4=cls[l_atom], periodicity1=str(int(abs(round(pn)))),
                      phase1=f"{math.radians(phase):.8f}", k1=f"{pk * KCAL:.6f}")

    nonbonded = ET.SubElement(root, "NonbondedForce", coulomb14scale=f"{COULOMB14:.10f}",
                              lj14scale=f"{LJ14}")
    ET.SubElement(nonbonded, "UseAttributeFromResidue", name="charge")
    for i in range(n):
        if types[i] not in params.lj:
            raise LigandError(f"{ligand.path}: atom {i + 1} ({ligand.atom_names[i]}): no GAFF "
                              f"Lennard-Jones parameters for type {types[i]}")
        rmin_half, eps = params.lj[types[i]]
        sigma = 2 * rmin_half * 2 ** (-1 / 6) / 10
        ET.SubElement(nonbonded, "Atom", type=cls[i], sigma=f"{sigma if sigma > 0 else 1.0:.8f}",
                      epsilon=f"{eps * KCAL:.8f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def gaff_type_list(ligand: Ligand, params: GaffParameters) -> List[str]:
    """The GAFF atom types of a ligand (for reports and tests)."""
    return gaff_types_and_charges(ligand, list(params.masses))[0]
