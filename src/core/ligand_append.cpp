// Ligand records become part of a System: one chain per file, one residue and one ligand molecule
// per record, atoms and bonds appended after everything already there.
#include <algorithm>
#include <cctype>

#include "hemeplm/core/features.hpp"
#include "ligand_reader.hpp"  // declares append_ligands

namespace hemeplm {
namespace {

/// "STI" -> "STI", "1a46_ligand" -> "1A46", "DrugBank_2799" -> "DRUG", "" -> "LIG".
std::string residue_name_from_title(const std::string& title) {
  std::string name;
  for (char c : title) {
    if (std::isspace(static_cast<unsigned char>(c))) break;
    if (std::isalnum(static_cast<unsigned char>(c)) && name.size() < 4)
      name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return name.empty() ? "LIG" : name;
}

}  // namespace

void append_ligands(System& system, const std::vector<LigandRecord>& records, int source,
                    const std::string& chain_name) {
  const bool had_features = !system.features.empty();
  Chain chain;
  chain.name = chain_name;
  chain.first_residue = system.residue_count();
  const int chain_index = static_cast<int>(system.chains.size());
  for (std::size_t k = 0; k < records.size(); ++k) {
    const LigandRecord& rec = records[k];
    const int offset = system.atom_count();
    const int n = static_cast<int>(rec.atomic_numbers.size());
    Residue res;
    res.name = residue_name_from_title(rec.title);
    res.seq = static_cast<int>(k) + 1;
    res.chain = chain_index;
    res.first_atom = offset;
    res.atom_count = n;
    res.kind = ResidueKind::kLigand;
    res.molecule = static_cast<int>(system.molecules.size());
    const int residue_index = system.residue_count();
    system.residues.push_back(res);

    Molecule mol;
    mol.kind = MoleculeKind::kLigand;
    mol.name = rec.title.empty() ? res.name : rec.title;
    mol.residues = {residue_index};
    mol.atom_count = n;
    system.molecules.push_back(std::move(mol));

    for (int i = 0; i < n; ++i) {
      system.positions.push_back(rec.positions[i]);
      system.atomic_numbers.push_back(rec.atomic_numbers[i]);
      system.atom_names.push_back(rec.atom_names[i]);
      system.atom_residue.push_back(residue_index);
      system.formal_charges.push_back(rec.formal_charges[i]);
      system.origins.push_back({source, rec.atom_lines[i]});
    }
    for (const Bond& b : rec.bonds) system.bonds.push_back({b.a + offset, b.b + offset, b.order});
    ++chain.residue_count;
  }
  system.chains.push_back(std::move(chain));
  std::sort(system.bonds.begin(), system.bonds.end(),
            [](const Bond& x, const Bond& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
  system.bonds.erase(std::unique(system.bonds.begin(), system.bonds.end(),
                                 [](const Bond& x, const Bond& y) { return x.a == y.a && x.b == y.b; }),
                     system.bonds.end());
  if (had_features)
    system.features.resize(static_cast<std::size_t>(system.atom_count()) * kAtomFeatureCount, 0.0f);
}

}  // namespace hemeplm
