// The System: every atom of a protein-ligand complex with its residue, chain and molecule, covalent
// bonds, per-atom chemistry features and the optional periodic box. Atoms keep the order of the input
// files (receptor first, then each ligand file in the order given), so a global atom index means the
// same thing in every tool and output file.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hemeplm/core/vec3.hpp"

namespace hemeplm {

enum class ResidueKind {
  kAminoAcid,  ///< standard or common variant amino acid (HIS/HID/HSD, CYX, ...), part of a polymer
  kCap,        ///< ACE, NME/NMA, NH2 terminal caps
  kNucleic,    ///< DNA/RNA nucleotide
  kWater,      ///< HOH, WAT, TIP3, SOL, ...
  kIon,        ///< monatomic ion (NA, CL, ZN, ...)
  kLigand,     ///< small molecule from a ligand file, or a HETATM group when no ligand file is given
  kCofactor,   ///< non-water, non-ion HETATM group of the receptor when ligand files are given
};

enum class MoleculeKind { kPolymer, kLigand, kCofactor, kWater, kIon, kOther };

const char* to_string(ResidueKind kind);
const char* to_string(MoleculeKind kind);

/// The standard amino acid a residue name stands for: protonation and force-field variants (HID, HIE,
/// HIP, HSD, HSE, HSP, HISD, HISE, HISH, CYX, CYM, ASH, ASPP, GLH, GLUP, LYN, LSN, ARN) give their parent,
/// MSE gives MET; any other name is returned unchanged.
std::string_view standard_amino_acid(std::string_view residue_name);

struct Residue {
  std::string name;      ///< residue name as in the file ("ALA", "HSD", "LIG")
  int seq = 0;           ///< author residue number
  char insertion = ' ';  ///< insertion code, ' ' when none
  int chain = -1;        ///< index into System::chains
  int first_atom = 0;    ///< atoms of a residue are contiguous: [first_atom, first_atom + atom_count)
  int atom_count = 0;
  ResidueKind kind = ResidueKind::kLigand;
  int molecule = -1;  ///< index into System::molecules
};

struct Chain {
  std::string name;       ///< chain id ("A"); ligand files get their own chains
  int first_residue = 0;  ///< residues of a chain are contiguous
  int residue_count = 0;
};

struct Bond {
  int a = 0, b = 0;  ///< atom indices, a < b
  int order = 1;     ///< 1, 2, 3; aromatic bonds are kAromatic
  static constexpr int kAromatic = 4;
};

struct Molecule {
  MoleculeKind kind = MoleculeKind::kOther;
  std::string name;           ///< ligand/cofactor residue name or molecule title; chain names for polymers
  std::vector<int> residues;  ///< indices into System::residues, ascending
  int atom_count = 0;
};

/// A periodic cell: three box vectors (Å) as rows.
struct Box {
  std::array<Vec3, 3> vectors{};
  bool is_orthorhombic() const;
  double volume() const;
};

/// Where an atom came from, for error messages: source file index and 1-based line (0 when unknown).
struct AtomOrigin {
  int source = 0;
  int line = 0;
};

class System {
 public:
  // Per-atom arrays, all of size atom_count().
  std::vector<Vec3> positions;          ///< Å
  std::vector<int> atomic_numbers;      ///< Z
  std::vector<std::string> atom_names;  ///< trimmed atom names ("CA", "HB1", "C12")
  std::vector<int> atom_residue;        ///< index into residues
  std::vector<int> formal_charges;      ///< e
  std::vector<float> features;          ///< atom_count() x kAtomFeatureCount, row-major (features.hpp)
  std::vector<AtomOrigin> origins;

  std::vector<Residue> residues;
  std::vector<Chain> chains;
  std::vector<Bond> bonds;  ///< sorted by (a, b), unique
  std::vector<Molecule> molecules;
  std::optional<Box> box;            ///< periodic cell when the file defines a real one
  std::vector<std::string> sources;  ///< input files, receptor first
  int model_count = 1;               ///< models in the receptor file (the System holds the first)

  int atom_count() const { return static_cast<int>(positions.size()); }
  int residue_count() const { return static_cast<int>(residues.size()); }
  bool is_hydrogen(int atom) const { return atomic_numbers[atom] == 1; }
  bool has_hydrogens() const;
  const Residue& residue_of(int atom) const { return residues[atom_residue[atom]]; }
  /// Indices of the molecules of kind kLigand, in input order.
  std::vector<int> ligand_molecules() const;
  /// "line 12 of x.pdb" style description of an atom for messages.
  std::string describe_atom(int atom) const;
  /// Atom adjacency from bonds as CSR (offsets of size atom_count()+1, neighbours sorted).
  void bonded_neighbors(std::vector<int>& offsets, std::vector<int>& neighbors) const;
};

}  // namespace hemeplm
