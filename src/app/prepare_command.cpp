// hemeplm prepare: imports MD trajectories (XTC, TRR, DCD, multi-model PDB, extended XYZ, H5MD) of one
// system, or an SDF/MOL2 conformer set of one molecule, into one H5MD dataset, written collectively by
// every rank of the job; or (--molecules) a molecule set such as QM9 into one single-frame dataset per
// molecule with its property labels, the molecules shared out over the ranks.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "command.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/extxyz.hpp"
#include "hemeplm/core/molecular_properties.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/core/system_subset.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "hemeplm/parallel_io/molecule_dataset.hpp"
#include "hemeplm/parallel_io/trajectory_source.hpp"
#include "options.hpp"

namespace hemeplm::app {
namespace {

namespace pio = parallel_io;
using nlohmann::ordered_json;

struct PrepareSettings {
  std::string topology;
  std::vector<std::string> ligands;
  std::vector<std::string> trajectories;
  int stride = 1;
  std::int64_t first_frame = 0;                                        // of each trajectory, 0-based
  std::int64_t last_frame = std::numeric_limits<std::int64_t>::max();  // exclusive
  bool heavy_only = false;
  int chunk_frames = 32;
  std::string out;
};

PrepareSettings read_settings(const po::variables_map& o) {
  PrepareSettings s;
  if (o.count("topology")) s.topology = o["topology"].as<std::string>();
  if (o.count("ligand")) s.ligands = o["ligand"].as<std::vector<std::string>>();
  if (!o.count("trajectory"))
    throw UsageError("hemeplm prepare: at least one --trajectory FILE (or --molecules FILE.xyz) is required");
  s.trajectories = o["trajectory"].as<std::vector<std::string>>();
  if (!o.count("out")) throw UsageError("hemeplm prepare: --out FILE.h5md is required");
  s.out = o["out"].as<std::string>();
  s.stride = o["stride"].as<int>();
  require_range("stride", s.stride, 1, 1000000);
  s.first_frame = o["first-frame"].as<std::int64_t>();
  if (s.first_frame < 0) throw UsageError("--first-frame must be >= 0");
  if (o.count("last-frame")) {
    s.last_frame = o["last-frame"].as<std::int64_t>();
    if (s.last_frame <= s.first_frame)
      throw UsageError("--last-frame must be larger than --first-frame (frames [first, last) are kept)");
  }
  s.chunk_frames = o["chunk-frames"].as<int>();
  require_range("chunk-frames", s.chunk_frames, 1, 4096);
  const std::string atoms = o["atoms"].as<std::string>();
  if (atoms != "all" && atoms != "heavy")
    throw UsageError("--atoms must be 'all' or 'heavy' (got '" + atoms + "')");
  s.heavy_only = atoms == "heavy";
  if (!s.ligands.empty() && s.topology.empty())
    throw UsageError("--ligand needs --topology (the receptor the ligands belong to)");
  return s;
}

struct MoleculeSettings {
  std::string molecules;  // extended XYZ molecule set
  std::string out_dir;
  std::int64_t first_frame = 0;                                        // 0-based molecule index
  std::int64_t last_frame = std::numeric_limits<std::int64_t>::max();  // exclusive
};

MoleculeSettings read_molecule_settings(const po::variables_map& o) {
  for (const char* other : {"trajectory", "topology", "ligand", "out"})
    if (o.count(other))
      throw UsageError(std::string("--molecules writes one dataset per molecule into --out-dir; --") + other +
                       " belongs to trajectory import");
  if (o["stride"].as<int>() != 1 || o["atoms"].as<std::string>() != "all")
    throw UsageError("--molecules keeps every molecule and all atoms (no --stride, --atoms)");
  MoleculeSettings s;
  s.molecules = o["molecules"].as<std::string>();
  if (!o.count("out-dir")) throw UsageError("hemeplm prepare --molecules: --out-dir DIR is required");
  s.out_dir = o["out-dir"].as<std::string>();
  s.first_frame = o["first-frame"].as<std::int64_t>();
  if (s.first_frame < 0) throw UsageError("--first-frame must be >= 0");
  if (o.count("last-frame")) {
    s.last_frame = o["last-frame"].as<std::int64_t>();
    if (s.last_frame <= s.first_frame)
      throw UsageError("--last-frame must be larger than --first-frame (molecules [first, last) are kept)");
  }
  return s;
}

std::string molecule_file_name(std::int64_t index) {
  char name[64];
  std::snprintf(name, sizeof name, "mol-%06lld.h5md", static_cast<long long>(index));
  return name;
}

/// `prepare --molecules`: every rank reads the whole set (parsing is cheap and keeps the summary and
/// any input error identical on all ranks) and writes every size-th selected molecule.
int prepare_molecules(const po::variables_map& options, const RunContext& context) {
  const MoleculeSettings settings = read_molecule_settings(options);
  const auto start = std::chrono::steady_clock::now();
  if (context.is_root()) {
    std::error_code error;
    std::filesystem::create_directories(settings.out_dir, error);
    if (error || !std::filesystem::is_directory(settings.out_dir))
      throw InputError(settings.out_dir, "cannot create the output folder");
  }
  MPI_Barrier(context.comm);

  ExtxyzReader reader(settings.molecules, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  std::int64_t index = 0, written = 0, last_index = 0;
  int min_atoms = std::numeric_limits<int>::max(), max_atoms = 0;
  std::map<std::string, std::pair<std::string, std::int64_t>> seen;  // name -> (unit, molecules)
  for (; reader.next(frame); ++index) {
    if (index < settings.first_frame) continue;
    if (index >= settings.last_frame) break;
    const std::string record =
        "frame " + std::to_string(index) + " (line " + std::to_string(frame.first_line) + ")";
    const std::vector<MoleculeProperty> properties =
        map_molecule_properties(frame.properties, settings.molecules, record);
    const int atoms = static_cast<int>(frame.species.size());
    min_atoms = std::min(min_atoms, atoms), max_atoms = std::max(max_atoms, atoms);
    for (const MoleculeProperty& p : properties) {
      auto& entry = seen.emplace(p.name, std::make_pair(p.unit, std::int64_t{0})).first->second;
      ++entry.second;
    }
    last_index = index;
    if (written++ % context.size != context.rank) continue;
    ordered_json config, provenance;
    config["molecules"] = settings.molecules;
    config["frame"] = index;
    config["atoms"] = "all";
    provenance["program"] = "hemeplm prepare --molecules";
    provenance["version"] = HEMEPLM_VERSION;
    provenance["molecules"] = settings.molecules;
    provenance["frame"] = index;
    provenance["format"] = "extended XYZ molecule set (Å; QM9 Hartree properties -> eV)";
    pio::MoleculeDatasetInfo info;
    info.source = settings.molecules + "#frame " + std::to_string(index);
    info.config_json = config.dump();
    info.provenance_json = provenance.dump();
    const System system = extxyz_frame_system(frame, settings.molecules);
    pio::write_molecule_dataset(
        (std::filesystem::path(settings.out_dir) / molecule_file_name(index)).string(), system, properties,
        info);
  }
  if (written == 0)
    throw InputError(settings.molecules, "no molecule in the range of --first-frame " +
                                             std::to_string(settings.first_frame) + " (it holds " +
                                             std::to_string(index) + " molecules)");
  MPI_Barrier(context.comm);
  if (context.is_root()) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    *context.out << "wrote " << written << " molecules to " << settings.out_dir << " ("
                 << molecule_file_name(settings.first_frame) << " .. " << molecule_file_name(last_index)
                 << "): " << min_atoms << " to " << max_atoms << " atoms per molecule, in " << seconds
                 << " s\n";
    *context.out << "properties (" << seen.size() << "):";
    for (const auto& [name, entry] : seen) {
      *context.out << " " << name << (entry.first.empty() ? "" : " [" + entry.first + "]");
      if (entry.second != written) *context.out << " (" << entry.second << " molecules)";
    }
    *context.out << "\n";
  }
  return 0;
}

bool is_ligand_file(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".sdf" || ext == ".sd" || ext == ".mol" || ext == ".mol2";
}

/// The System the trajectories describe: --topology (+ ligands), or the first trajectory itself. A
/// ligand file alone (no receptor) is its molecules; as a trajectory (a conformer set), its first record.
System load_topology(const PrepareSettings& s) {
  if (!s.topology.empty()) {
    const std::string ext = std::filesystem::path(s.topology).extension().string();
    if (ext == ".h5md" || ext == ".h5") return pio::H5mdReader(s.topology).read_system();
    if (is_ligand_file(s.topology) && s.ligands.empty()) return load_ligand_system(s.topology);
    return load_system({s.topology, s.ligands});
  }
  const std::string& first = s.trajectories.front();
  if (!pio::trajectory_has_topology(first))
    throw UsageError(first + " does not describe its atoms; give the structure with --topology FILE");
  const std::string ext = std::filesystem::path(first).extension().string();
  if (ext == ".h5md" || ext == ".h5") return pio::H5mdReader(first).read_system();
  if (is_ligand_file(first)) return load_ligand_system(first, /*first_molecule_only=*/true);
  return load_system({first, {}});
}

/// Rejects a trajectory whose atoms are not in the topology's order: in the first frame, bonded atoms
/// must sit at bonding distance. A few stretched bonds are tolerated (the topology may come from a
/// different conformation); a wrong order stretches most of them.
void check_atom_order(const System& topology, const pio::TrajectoryFrame& frame, const std::string& path) {
  if (topology.bonds.empty()) return;
  std::size_t stretched = 0;
  for (const Bond& b : topology.bonds) {
    const double limit = 1.6 * (covalent_radius(topology.atomic_numbers[b.a]) +
                                covalent_radius(topology.atomic_numbers[b.b])) +
                         0.5;
    if (norm(frame.positions[b.b] - frame.positions[b.a]) > limit) ++stretched;
  }
  if (stretched * 20 > topology.bonds.size())
    throw InputError(
        path, "frame 1",
        std::to_string(stretched) + " of " + std::to_string(topology.bonds.size()) +
            " topology bonds are broken in the first frame: the atom order does not match the topology");
}

std::string temporary_path_for(const std::string& out, MPI_Comm comm) {
  long pid = static_cast<long>(::getpid());
  MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);  // one name for all ranks: the file is created collectively
  const std::filesystem::path p(out);
  return (p.parent_path() / ("." + p.filename().string() + ".tmp." + std::to_string(pid))).string();
}

/// Removes the temporary output unless the run completed (rank 0 owns the file system operations).
class TemporaryOutput {
 public:
  TemporaryOutput(std::string path, bool owner) : path_(std::move(path)), owner_(owner) {}
  ~TemporaryOutput() {
    if (owner_ && !committed_) std::remove(path_.c_str());
  }
  TemporaryOutput(const TemporaryOutput&) = delete;
  TemporaryOutput& operator=(const TemporaryOutput&) = delete;
  const std::string& path() const { return path_; }
  void commit_to(const std::string& target) {
    if (owner_ && std::rename(path_.c_str(), target.c_str()) != 0)
      throw InputError(target, "cannot move the finished dataset into place");
    committed_ = true;
  }

 private:
  std::string path_;
  bool owner_;
  bool committed_ = false;
};

class PrepareCommand final : public Command {
 public:
  const char* name() const override { return "prepare"; }
  const char* summary() const override { return "import MD trajectories of one system into an H5MD dataset"; }
  const char* usage() const override {
    return "[--topology FILE] [--ligand FILE]... --trajectory FILE... [--stride K] [--atoms all|heavy] "
           "--out FILE.h5md\n   or: hemeplm prepare --molecules FILE.xyz --out-dir DIR [--first-frame I] "
           "[--last-frame J]";
  }
  void add_options(po::options_description& options) const override {
    options.add_options()(
        "topology", po::value<std::string>()->value_name("FILE"),
        "structure of the simulated system (PDB, mmCIF, XYZ, SDF/MOL2 ligand alone or H5MD) in the "
        "trajectories' atom order; not needed when the first trajectory describes its atoms (extended XYZ, "
        "multi-model PDB, hemeplm H5MD, SDF/MOL2 conformer set)")(
        "ligand", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
        "ligand file (SDF/MOL2) whose atoms follow the topology's in the trajectories; repeatable")(
        "trajectory", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
        "XTC, TRR, DCD, multi-model PDB, extended XYZ (energy and forces read), H5MD, or an SDF/MOL2 "
        "conformer set (records of one molecule, same atoms in the same order; each record a frame, no time "
        "axis); repeatable: trajectories of one system are appended, each indexed")(
        "stride", po::value<int>()->default_value(1)->value_name("K"), "keep every K-th frame")(
        "first-frame", po::value<std::int64_t>()->default_value(0)->value_name("F"),
        "first frame of each trajectory to keep (0-based)")(
        "last-frame", po::value<std::int64_t>()->value_name("L"),
        "keep frames before L only (exclusive, 0-based; default: to the end), e.g. --first-frame 0 "
        "--last-frame 400 for a training split and --first-frame 400 for its test split")(
        "atoms", po::value<std::string>()->default_value("all")->value_name("all|heavy"),
        "keep all atoms, or heavy atoms only")(
        "chunk-frames", po::value<int>()->default_value(32)->value_name("C"),
        "frames buffered per collective write (HDF5 chunk length along time)")(
        "out", po::value<std::string>()->value_name("FILE.h5md"),
        "the dataset to write (replaced only on success)")(
        "molecules", po::value<std::string>()->value_name("FILE.xyz"),
        "a molecule set instead of a trajectory: extended XYZ whose frames are different molecules (QM9), "
        "numeric comment keys being per-molecule properties; writes one single-frame dataset per molecule, "
        "DIR/mol-<frame index, 6 digits>.h5md, with the properties (QM9's Hartree energies in eV; "
        "docs/properties.md). --first-frame/--last-frame select molecules by frame index")(
        "out-dir", po::value<std::string>()->value_name("DIR"),
        "with --molecules: the folder of the per-molecule datasets (created; files replaced)");
  }
  void add_positionals(po::positional_options_description&) const override {}
  const char* epilog() const override {
    return "Units are converted to Å, ps, kJ/mol and kJ/mol/Å and stated in the file (docs/h5md-layout.md).\n"
           "Examples:\n"
           "  hemeplm prepare --topology ala2.pdb --trajectory run1.xtc --trajectory run2.xtc --out "
           "ala2.h5md\n"
           "  hemeplm prepare --trajectory rmd17_ethanol.xyz --out ethanol.h5md      # energies and forces\n"
           "  hemeplm prepare --trajectory conformers.sdf --out conformers.h5md     # stage-1 conformer set\n"
           "  hemeplm prepare --molecules qm9.xyz --out-dir qm9/train --first-frame 0 --last-frame 80   # "
           "QM9\n"
           "  hemeplm prepare --molecules qm9.xyz --out-dir qm9/test --first-frame 80\n"
           "  mpirun -n 4 hemeplm prepare --topology big.pdb --trajectory big.dcd --stride 10 --out "
           "big.h5md\n";
  }

  int run(const po::variables_map& options, const RunContext& context) const override {
    if (options.count("molecules")) return prepare_molecules(options, context);
    const PrepareSettings settings = read_settings(options);
    const auto start = std::chrono::steady_clock::now();
    const System full = load_topology(settings);
    const std::vector<int> keep = settings.heavy_only ? heavy_atoms(full) : std::vector<int>{};
    const System system = settings.heavy_only ? select_atoms(full, keep) : full;

    // Every rank reads every frame (XTC cannot be split) and writes the atoms it owns.
    std::vector<std::unique_ptr<pio::TrajectorySource>> sources;
    for (const std::string& path : settings.trajectories) {
      sources.push_back(pio::open_trajectory(path));
      if (sources.back()->atom_count() != full.atom_count())
        throw InputError(path, "atom count",
                         "trajectory has " + std::to_string(sources.back()->atom_count()) +
                             " atoms, the topology " + std::to_string(full.atom_count()));
    }
    pio::TrajectoryFrame frame;
    if (!sources.front()->next(frame)) throw InputError(settings.trajectories.front(), "file holds no frame");
    check_atom_order(full, frame, settings.trajectories.front());

    pio::H5mdWriterOptions writer_options;
    writer_options.chunk_frames = settings.chunk_frames;
    writer_options.forces = !frame.forces.empty();
    writer_options.velocities = !frame.velocities.empty();
    if (frame.potential_energy) writer_options.observables.push_back("potential_energy");
    ordered_json provenance;
    provenance["program"] = "hemeplm prepare";
    provenance["version"] = HEMEPLM_VERSION;
    provenance["topology"] = settings.topology.empty() ? settings.trajectories.front() : settings.topology;
    provenance["ligands"] = settings.ligands;
    provenance["trajectories"] = ordered_json::array();
    for (const auto& s : sources)
      provenance["trajectories"].push_back({{"path", s->path()}, {"format", s->description()}});
    ordered_json config;
    config["stride"] = settings.stride;
    config["first_frame"] = settings.first_frame;
    if (settings.last_frame != std::numeric_limits<std::int64_t>::max())
      config["last_frame"] = settings.last_frame;
    config["atoms"] = settings.heavy_only ? "heavy" : "all";
    config["chunk_frames"] = settings.chunk_frames;
    writer_options.provenance_json = provenance.dump();
    writer_options.config_json = config.dump();

    TemporaryOutput output(temporary_path_for(settings.out, context.comm), context.is_root());
    const pio::AtomRange owned = pio::owned_atoms(system.atom_count(), context.rank, context.size);
    pio::H5mdWriter writer(context.comm, output.path(), system, owned, writer_options);

    std::vector<Vec3> positions(owned.count), velocities, forces;
    std::vector<double> observables;
    auto select = [&](const std::vector<Vec3>& all, std::vector<Vec3>& mine) {
      mine.resize(owned.count);
      for (int k = 0; k < owned.count; ++k) {
        const int atom = settings.heavy_only ? keep[owned.first + k] : owned.first + k;
        mine[k] = all[atom];
      }
    };
    std::int64_t total = 0;
    for (std::size_t t = 0; t < sources.size(); ++t) {
      pio::TrajectorySource& source = *sources[t];
      if (t > 0 && !source.next(frame)) throw InputError(source.path(), "file holds no frame");
      const auto t0 = std::chrono::steady_clock::now();
      std::int64_t read = 0, kept = 0;
      double first_time = frame.time_ps, second_time = frame.time_ps;
      bool dt_known = false;
      do {
        if (!frame.forces.empty() != writer_options.forces ||
            !frame.velocities.empty() != writer_options.velocities ||
            frame.potential_energy.has_value() != !writer_options.observables.empty())
          throw InputError(
              source.path(), "frame " + std::to_string(read + 1),
              "holds different data (forces, velocities, energy) than the first trajectory's frames");
        if (read >= settings.last_frame) break;
        if (read >= settings.first_frame && (read - settings.first_frame) % settings.stride == 0) {
          if (kept == 0) writer.begin_trajectory(source.path(), 0.0), first_time = frame.time_ps;
          if (kept == 1) second_time = frame.time_ps, dt_known = true;
          select(frame.positions, positions);
          pio::FrameView view;
          view.step = frame.step;
          view.time_ps = frame.time_ps;
          view.positions = positions;
          Box box;
          if (system.box || frame.box) {
            box = frame.box ? *frame.box : *system.box;
            view.box = &box;
          }
          if (writer_options.velocities) select(frame.velocities, velocities), view.velocities = velocities;
          if (writer_options.forces) select(frame.forces, forces), view.forces = forces;
          observables.assign(1, frame.potential_energy.value_or(0.0));
          if (!writer_options.observables.empty()) view.observables = observables;
          writer.append(view);
          ++kept;
        }
        ++read;
      } while (source.next(frame));
      if (kept == 0)
        throw InputError(source.path(), "no frame in the range of --first-frame " +
                                            std::to_string(settings.first_frame) + " (it holds " +
                                            std::to_string(read) + " frames)");
      total += kept;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (context.is_root()) {
        char line[512];
        std::snprintf(
            line, sizeof line, "%s: read %lld frames, kept %lld (stride %d), dt %.4g ps, %.0f frames/s\n",
            source.path().c_str(), static_cast<long long>(read), static_cast<long long>(kept),
            settings.stride, dt_known ? second_time - first_time : 0.0, read / std::max(seconds, 1e-9));
        *context.out << line << std::flush;
      }
    }
    writer.close();
    MPI_Barrier(context.comm);
    output.commit_to(settings.out);
    MPI_Barrier(context.comm);
    if (context.is_root()) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      *context.out << "wrote " << settings.out << ": " << total << " frames of " << system.atom_count()
                   << " atoms" << (writer_options.forces ? ", forces" : "")
                   << (writer_options.observables.empty() ? "" : ", energies") << " in " << seconds << " s\n";
    }
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_prepare_command() {
  return std::make_unique<PrepareCommand>();
}

}  // namespace hemeplm::app
