// load_system: receptor -> bonds -> charges -> molecules -> ligand files -> per-atom features.
#include "hemeplm/core/structure_io.hpp"

#include "atom_features.hpp"
#include "hemeplm/core/error.hpp"
#include "ligand_reader.hpp"
#include "receptor_chemistry.hpp"
#include "receptor_file.hpp"

namespace hemeplm {

System load_system(const SystemSources& sources) {
  if (sources.structure.empty()) throw UsageError("no receptor structure file given (.pdb or .cif)");
  ReceptorFile file = read_receptor_file(sources.structure);
  std::vector<int> file_charges;
  file_charges.reserve(file.atoms.size());
  for (const ReceptorAtom& atom : file.atoms) file_charges.push_back(atom.formal_charge);

  System system = build_receptor_system(file, sources.structure, !sources.ligands.empty());
  assign_receptor_bonds(system, file.conect_pairs);
  assign_receptor_formal_charges(system, file_charges);
  assign_receptor_molecules(system);

  for (std::size_t i = 0; i < sources.ligands.size(); ++i) {
    const std::vector<LigandRecord> records = read_ligand_file(sources.ligands[i]);
    system.sources.push_back(sources.ligands[i]);
    append_ligands(system, records, static_cast<int>(system.sources.size()) - 1, "L" + std::to_string(i + 1));
  }
  compute_atom_features(system);
  return system;
}

void featurize(System& system) { compute_atom_features(system); }

}  // namespace hemeplm
