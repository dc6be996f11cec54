#include "system_input.hpp"

#include <cstdio>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"

namespace hemeplm::app {

namespace {
// No covalent bond is shorter than ~0.74 Å (H2); 0.3 Å apart means the same atom twice.
constexpr double kOverlapDistance = 0.3;
}  // namespace

void add_structure_options(po::options_description& options,
                           po::positional_options_description& positionals) {
  options.add_options()("structure", po::value<std::string>()->value_name("FILE"),
                        "receptor or whole system: PDB (.pdb/.ent) or mmCIF (.cif/.mmcif), optionally .gz")(
      "ligand", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
      "ligand file, SDF (V2000/V3000) or MOL2, 3D coordinates in the receptor's frame; repeatable. "
      "Without it, HETATM groups that are not water or ions become the ligands");
  positionals.add("structure", 1);
}

System load_validated_system(const po::variables_map& options) {
  if (!options.count("structure")) throw UsageError("a STRUCTURE file is required; see the command's --help");
  SystemSources sources;
  sources.structure = options["structure"].as<std::string>();
  if (options.count("ligand")) sources.ligands = options["ligand"].as<std::vector<std::string>>();
  System system = load_system(sources);

  const auto overlaps = decomposition::find_overlapping_atoms(system.positions, kOverlapDistance, system.box);
  if (!overlaps.empty()) {
    const int i = overlaps.front()[0], j = overlaps.front()[1];
    char distance[32];
    std::snprintf(distance, sizeof distance, "%.3f", norm(system.positions[j] - system.positions[i]));
    const std::string more =
        overlaps.size() > 1 ? " (and " + std::to_string(overlaps.size() - 1) + " more pairs)" : std::string();
    throw InputError(
        system.sources[system.origins[j].source],
        system.origins[j].line > 0 ? line_record(system.origins[j].line) : "atom " + std::to_string(j + 1),
        "atom is " + std::string(distance) + " Å from " + system.describe_atom(i) +
            ": duplicated or overlapping atoms" + more);
  }
  return system;
}

}  // namespace hemeplm::app
