// Building the receptor part of a System from validated records: residues, chains and kinds.
#include "receptor_chemistry.hpp"
#include "residue_kinds.hpp"

namespace hemeplm {

System build_receptor_system(ReceptorFile& file, const std::string& path, bool ligand_files_given) {
  System system;
  system.sources.push_back(path);
  system.model_count = file.model_count;
  system.box = file.box;
  const int n = static_cast<int>(file.atoms.size());
  system.positions.reserve(n);
  system.atomic_numbers.reserve(n);
  system.atom_names.reserve(n);
  system.atom_residue.reserve(n);
  system.origins.reserve(n);
  system.formal_charges.assign(n, 0);

  for (int i = 0; i < n; ++i) {
    ReceptorAtom& atom = file.atoms[i];
    bool new_residue = i == 0 || atom.starts_chain;
    if (!new_residue) {
      const ReceptorAtom& previous = file.atoms[i - 1];
      new_residue = atom.seq != previous.seq || atom.insertion != previous.insertion ||
                    atom.residue_name != previous.residue_name || atom.chain_name != previous.chain_name;
    }
    if (i == 0 || atom.starts_chain) {
      Chain chain;
      chain.name = atom.chain_name;
      chain.first_residue = system.residue_count();
      system.chains.push_back(std::move(chain));
    }
    if (new_residue) {
      Residue residue;
      residue.name = atom.residue_name;
      residue.seq = atom.seq;
      residue.insertion = atom.insertion;
      residue.chain = static_cast<int>(system.chains.size()) - 1;
      residue.first_atom = i;
      system.residues.push_back(std::move(residue));
      ++system.chains.back().residue_count;
    }
    ++system.residues.back().atom_count;
    system.positions.push_back(atom.position);
    system.atomic_numbers.push_back(atom.atomic_number);
    system.atom_names.push_back(std::move(atom.name));
    system.atom_residue.push_back(system.residue_count() - 1);
    // mmCIF rows are not lines; describe_atom then names the file without a line.
    system.origins.push_back({0, file.records_are_rows ? 0 : atom.record});
  }
  for (Residue& residue : system.residues) {
    const int single = residue.atom_count == 1 ? system.atomic_numbers[residue.first_atom] : 0;
    residue.kind = classify_residue(residue.name, single, ligand_files_given);
  }
  return system;
}

}  // namespace hemeplm
