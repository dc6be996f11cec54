// load_system: receptor -> bonds -> charges -> molecules -> ligand files -> per-atom features.
#include "hemeplm/core/structure_io.hpp"

#include <cctype>

#include "atom_features.hpp"
#include "hemeplm/core/error.hpp"
#include "ligand_reader.hpp"
#include "receptor_chemistry.hpp"
#include "receptor_file.hpp"
#include "xyz_structure.hpp"

namespace hemeplm {
namespace {

// .xyz/.extxyz (any case): extended XYZ, whose first frame is the structure.
bool is_xyz_path(const std::string& path) {
  const std::size_t dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "xyz" || ext == "extxyz";
}

// Receptor file -> bonds -> charges -> molecules.
System read_receptor(const SystemSources& sources) {
  ReceptorFile file = read_receptor_file(sources.structure);
  std::vector<int> file_charges;
  file_charges.reserve(file.atoms.size());
  for (const ReceptorAtom& atom : file.atoms) file_charges.push_back(atom.formal_charge);

  System system = build_receptor_system(file, sources.structure, !sources.ligands.empty());
  assign_receptor_bonds(system, file.conect_pairs);
  assign_receptor_formal_charges(system, file_charges);
  assign_receptor_molecules(system);
  return system;
}

}  // namespace

System load_system(const SystemSources& sources) {
  if (sources.structure.empty()) throw UsageError("no receptor structure file given (.pdb or .cif)");
  // Small molecules with energies/forces (rMD17, 3BPA) come as extended XYZ: no receptor chemistry.
  System system =
      is_xyz_path(sources.structure) ? read_xyz_system(sources.structure) : read_receptor(sources);

  for (std::size_t i = 0; i < sources.ligands.size(); ++i) {
    const std::vector<LigandRecord> records = read_ligand_file(sources.ligands[i]);
    system.sources.push_back(sources.ligands[i]);
    append_ligands(system, records, static_cast<int>(system.sources.size()) - 1, "L" + std::to_string(i + 1));
  }
  compute_atom_features(system);
  return system;
}

void featurize(System& system) {
  compute_atom_features(system);
}

}  // namespace hemeplm
