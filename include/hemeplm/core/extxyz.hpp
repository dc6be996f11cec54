// Extended XYZ (the ASE/extxyz convention): per frame an atom-count line, a comment line of
// key=value pairs (Lattice="...", Properties=species:S:1:pos:R:3:forces:R:3, energy=..., pbc="T T T"),
// then one line per atom. Shared by load_system (first frame as a structure) and the trajectory importer
// (every frame), and molecule sets such as QM9 (every frame a different molecule, per-molecule
// properties as numeric comment keys). Values stay in the file's units (ASE: Å, eV, eV/Å); callers
// convert.
#pragma once

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm {

struct ExtxyzFrame {
  std::vector<std::string> species;  ///< element symbols as written ("C", "H")
  std::vector<Vec3> positions;       ///< file units (Å)
  std::vector<Vec3> forces;          ///< file units (eV/Å); empty when Properties has no forces column
  std::optional<double> energy;      ///< the "energy" key (eV); nullopt when absent
  std::optional<Box> box;            ///< Lattice rows, unless pbc says "F F F"
  /// Every other numeric key=value of the comment line (all but energy, Lattice, Properties, pbc),
  /// names as written ("epsgap", "<R2>"), values in the file's units.
  std::map<std::string, double> properties;
  long first_line = 0;  ///< 1-based line of the atom-count line
};

/// What may change between frames.
enum class ExtxyzAtoms {
  kFixed,    ///< a trajectory: frame 0 fixes the atom count, the species and the columns
  kVariable  ///< a molecule set: every frame has its own atoms and its own Properties columns
};

/// Reads frames one at a time. Every problem is an InputError "<file>: line N (frame F): <problem>".
class ExtxyzReader {
 public:
  /// Opens the file; InputError when it is missing or empty.
  explicit ExtxyzReader(const std::string& path, ExtxyzAtoms atoms = ExtxyzAtoms::kFixed);
  /// Reads the next frame; false at a clean end of file. With ExtxyzAtoms::kFixed every later frame
  /// must repeat frame 0's atom count, species and columns.
  bool next(ExtxyzFrame& frame);
  const std::string& path() const { return path_; }
  long frames_read() const { return frames_read_; }

 private:
  struct Column {
    int first = 0;  ///< index of the first token of this property on an atom line
    bool present = false;
  };
  bool read_line(std::string& line);
  void parse_comment(const std::string& line, ExtxyzFrame& frame);
  [[noreturn]] void fail(long line, const std::string& problem) const;

  std::string path_;
  ExtxyzAtoms atoms_;
  std::ifstream in_;
  long line_ = 0;
  long frames_read_ = 0;
  int atom_count_ = -1;
  std::vector<std::string> first_species_;
  Column species_, pos_, forces_;
  int tokens_per_atom_ = 0;
};

/// One frame as a System, built exactly as load_system builds an .xyz file's first frame (bonds from
/// covalent radii, one ligand molecule per connected component) and featurized: the topology of one
/// molecule of a molecule set. `path` is recorded as the System's source.
System extxyz_frame_system(const ExtxyzFrame& frame, const std::string& path);

}  // namespace hemeplm
