// Reading a receptor structure file (PDB or mmCIF, optionally gzipped) into validated atom records.
// gemmi parses the file; a line/row-level scan of our own validates every record first (gemmi
// accepts garbage silently), fixes the atom order to the file order and remembers where each atom
// came from. Internal to the core layer.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace gemmi {
struct Model;
}

namespace hemeplm {

/// One atom of the first model, first conformer, in file order.
struct ReceptorAtom {
  std::string name;          ///< trimmed atom name
  std::string residue_name;  ///< up to 4 characters ("TIP3")
  std::string chain_name;
  int seq = 0;
  char insertion = ' ';
  Vec3 position;
  int atomic_number = 0;
  int formal_charge = 0;      ///< from the file (PDB columns 79-80, pdbx_formal_charge); 0 if absent
  int record = 0;             ///< 1-based line (PDB) or _atom_site row (mmCIF)
  bool starts_chain = false;  ///< first atom after a chain-id change, a TER record or the file start
  bool hetatm = false;
};

struct ReceptorFile {
  std::vector<ReceptorAtom> atoms;
  std::vector<std::array<int, 2>> conect_pairs;  ///< CONECT bonds as indices into atoms (i < j)
  std::optional<Box> box;
  int model_count = 1;
  bool records_are_rows = false;  ///< mmCIF: ReceptorAtom::record is an _atom_site row, not a line

  std::string record_label(int record) const;
};

/// Reads a .pdb/.ent/.cif/.mmcif file (or its .gz). Throws InputError "<file>: <record>: <problem>".
ReceptorFile read_receptor_file(const std::string& path);

// ---- pieces shared by the PDB and mmCIF readers ----------------------------------------------------

ReceptorFile read_pdb_text(const std::string& path, std::string_view text);
ReceptorFile read_mmcif_text(const std::string& path, std::string_view text);

/// Parses a coordinate field; the returned message is empty on success, else says what is wrong
/// ("x coordinate '12.3ab' is not a number").
std::string parse_coordinate(std::string_view field, char axis, double& value);

/// Box vectors from cell lengths (Å) and angles (degrees); nullopt for the 1 Å dummy cell of NMR
/// entries and for absent cells (all zero / all one).
std::optional<Box> box_from_cell(double a, double b, double c, double alpha, double beta, double gamma);

/// A record as the scans see it, with the place gemmi gives it in its chains/residues/atoms.
struct ScannedAtom {
  ReceptorAtom atom;
  char altloc = '\0';
  int gemmi_chain = 0, gemmi_residue = 0, gemmi_atom = 0;
};

/// Keeps, per residue position, the blank conformer and the first alternate location seen.
class FirstConformerFilter {
 public:
  bool keep(const std::string& residue_position, char altloc);

 private:
  std::unordered_map<std::string, char> first_altloc_;
};

/// Mimics how gemmi groups records (a new chain whenever the chain id changes, residues merged by id
/// within a chain) so each record can be matched with gemmi's atom without relying on serials.
class GemmiGroupingTracker {
 public:
  void place(const std::string& chain_id, const std::string& residue_key, ScannedAtom& scanned);

 private:
  bool started_ = false;
  std::string chain_id_;
  int chain_ = -1;
  std::unordered_map<std::string, int> residue_index_;
  std::vector<int> residue_atoms_;
};

/// Takes positions (and trimmed names, checked against the scan) from gemmi's first model and drops
/// the records that FirstConformerFilter rejected (marked by `kept`).
std::vector<ReceptorAtom> merge_with_gemmi(const std::string& path, const gemmi::Model& model,
                                           std::vector<ScannedAtom>& scanned, const std::vector<bool>& kept,
                                           bool records_are_rows);

std::string trim(std::string_view text);

}  // namespace hemeplm
