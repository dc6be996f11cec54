// Ligand files (SDF V2000/V3000, MOL2) read with RDKit, and their addition to a System.
// Internal to the core layer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm {

/// One molecule of a ligand file, as read (hydrogens kept, coordinates in Å).
struct LigandRecord {
  std::string title;   ///< first line of the SDF record / MOL2 molecule name
  int first_line = 0;  ///< 1-based line where the record starts
  std::vector<int> atomic_numbers;
  std::vector<Vec3> positions;
  std::vector<std::string> atom_names;  ///< element + 1-based index ("C1", "N7") unless the file names them
  std::vector<int> formal_charges;
  std::vector<int> atom_lines;  ///< 1-based line of each atom record
  std::vector<Bond> bonds;      ///< local atom indices; order 1/2/3 or Bond::kAromatic
};

/// Called with each record (and its 0-based index) as soon as it is read; may throw, and returns false
/// to stop reading after that record.
using LigandRecordVisitor = std::function<bool(const LigandRecord& record, int index)>;

/// Reads every molecule of a ligand file (up to where `visit`, if given, says stop). Throws InputError
/// naming the file, the line/record and the problem: missing/empty file, unknown format, truncated or
/// garbled records, unknown elements, non-finite or absurd coordinates, molecules without 3D coordinates.
std::vector<LigandRecord> read_ligand_file(const std::string& path, const LigandRecordVisitor& visit = {});

/// Appends the records as ligand molecules: one chain per call (named `chain_name`), one residue and
/// one MoleculeKind::kLigand molecule per record, atoms and bonds (re-indexed) at the end of the System,
/// origins pointing at `source` (an index into system.sources).
void append_ligands(System& system, const std::vector<LigandRecord>& records, int source,
                    const std::string& chain_name);

}  // namespace hemeplm
