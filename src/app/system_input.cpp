#include "system_input.hpp"

#include <cstdio>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::app {

namespace {
// No covalent bond is shorter than ~0.74 Å (H2); 0.3 Å apart means the same atom twice.
constexpr double kOverlapDistance = 0.3;
}  // namespace

void add_structure_options(po::options_description& options,
                           po::positional_options_description& positionals) {
  options.add_options()(
      "structure", po::value<std::string>()->value_name("FILE"),
      "receptor or whole system: PDB (.pdb/.ent) or mmCIF (.cif/.mmcif), optionally .gz, or a hemeplm "
      "H5MD file (its topology and frame 0, or sample's --structure-frame)")(
      "ligand", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
      "ligand file, SDF (V2000/V3000) or MOL2, 3D coordinates in the receptor's frame; repeatable. "
      "Without it, HETATM groups that are not water or ions become the ligands");
  positionals.add("structure", 1);
}

bool is_h5md_path(const std::string& path) {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot);
  return ext == ".h5md" || ext == ".h5";
}

System load_system_frame(const std::string& path, const std::vector<std::string>& ligands,
                         std::int64_t frame) {
  if (!is_h5md_path(path)) {
    if (frame != 0)
      throw UsageError("a frame other than 0 of " + path +
                       " needs an H5MD file (a PDB or mmCIF is one structure)");
    SystemSources sources;
    sources.structure = path;
    sources.ligands = ligands;
    return load_system(sources);
  }
  if (!ligands.empty())
    throw UsageError("--ligand does not apply to " + path + ": an H5MD file already holds its ligands");
  const parallel_io::H5mdReader reader(path);
  System system = reader.read_system();
  const std::int64_t frames = reader.frame_count();
  const std::int64_t index = frame < 0 ? frames + frame : frame;
  if (index < 0 || index >= frames)
    throw InputError(path, "frame " + std::to_string(frame),
                     "outside the file's " + std::to_string(frames) + " frames");
  reader.read_positions(index, 1, parallel_io::AtomRange{0, system.atom_count()}, system.positions);
  if (const auto box = reader.box(index)) system.box = *box;
  return system;
}

System load_validated_system(const po::variables_map& options) {
  if (!options.count("structure")) throw UsageError("a STRUCTURE file is required; see the command's --help");
  std::vector<std::string> ligands;
  if (options.count("ligand")) ligands = options["ligand"].as<std::vector<std::string>>();
  const std::int64_t frame =
      options.count("structure-frame") ? options["structure-frame"].as<std::int64_t>() : 0;
  System system = load_system_frame(options["structure"].as<std::string>(), ligands, frame);

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
