// Training examples from H5MD datasets (see training_data.hpp).
#include "hemeplm/train/training_data.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/system_subset.hpp"
#include "hemeplm/parallel_io/dataset_reader.hpp"

namespace hemeplm::train {
namespace pio = parallel_io;

namespace {

/// The atoms one sample covers: a whole system or one denoising fragment (core + buffer).
struct SampleUnit {
  std::vector<int> atoms;     ///< ascending global indices; empty = the whole system
  std::vector<float> weight;  ///< per atom of `atoms`: 1 core, 0 buffer
  bool has_ligand = false;
  std::optional<model::HemePLMInput> input;  ///< topology tensors, built on first use
};

struct Dataset {
  std::string path;
  std::unique_ptr<pio::DatasetReader> reader;
  System system;
  std::vector<pio::TrajectoryInfo> trajectories;  ///< as stored
  std::vector<std::int64_t> training_frames;      ///< per trajectory: frames before the held-out tail
  std::vector<SampleUnit> units;
  bool has_energy = false;
  std::vector<std::size_t> property_columns;  ///< per common property: its index in reader->properties()
};

/// One sampler "trajectory": a (dataset, trajectory, unit) triple with the trajectory's training part.
struct Entry {
  int dataset = 0, trajectory = 0, unit = 0;
};

bool has_ligand_atoms(const System& system, const std::vector<int>& atoms) {
  std::vector<bool> ligand(system.atom_count(), false);
  for (int m : system.ligand_molecules()) {
    for (int r : system.molecules[m].residues) {
      const Residue& residue = system.residues[r];
      for (int a = residue.first_atom; a < residue.first_atom + residue.atom_count; ++a) ligand[a] = true;
    }
  }
  if (atoms.empty()) return std::find(ligand.begin(), ligand.end(), true) != ligand.end();
  return std::any_of(atoms.begin(), atoms.end(), [&](int a) { return ligand[a]; });
}

/// The properties every dataset has (sorted; none when one dataset has none), with their units, and
/// each dataset's columns of them. A property stored in different units is an InputError.
void find_common_properties(std::vector<Dataset>& datasets, std::vector<std::string>& names,
                            std::vector<std::string>& units) {
  names = datasets.front().reader->property_names();
  for (const Dataset& ds : datasets) {
    const std::vector<std::string> mine = ds.reader->property_names();
    std::vector<std::string> common;
    std::set_intersection(names.begin(), names.end(), mine.begin(), mine.end(), std::back_inserter(common));
    names = std::move(common);
  }
  units.clear();
  for (const std::string& name : names) units.push_back(datasets.front().reader->property_unit(name));
  for (Dataset& ds : datasets) {
    ds.property_columns.clear();
    const std::vector<std::string>& all = ds.reader->properties().names;
    for (std::size_t p = 0; p < names.size(); ++p) {
      const std::string unit = ds.reader->property_unit(names[p]);
      if (unit != units[p])
        throw InputError(ds.path, std::string(pio::kPropertiesGroup) + "/" + names[p],
                         "unit '" + unit + "' differs from '" + units[p] + "' in " + datasets.front().path);
      ds.property_columns.push_back(
          static_cast<std::size_t>(std::lower_bound(all.begin(), all.end(), names[p]) - all.begin()));
    }
  }
}

}  // namespace

TrainingDataOptions training_data_options(const TrainingOptions& o) {
  TrainingDataOptions d;
  d.files = o.data;
  d.window_frames = o.stage == 1 ? 1 : o.window_frames;
  d.window_stride = o.window_stride;
  d.validation_fraction = o.validation_fraction;
  d.validation_windows = o.validation_windows;
  d.max_sample_atoms = o.max_sample_atoms;
  d.fragments.core_residues = o.fragment_core_residues;
  d.fragments.buffer = o.fragment_buffer;
  d.fragments.blend = std::min(d.fragments.blend, d.fragments.buffer);
  d.input.cutoff = o.model.visnet.cutoff;
  d.input.domains = static_cast<int>(o.model.pooling_domains);
  d.input.dtype = o.float64 ? torch::kFloat64 : torch::kFloat32;
  if (!o.residue_embeddings.empty())
    d.input.residue_embeddings = parallel_io::ResidueEmbeddingTable::read(o.residue_embeddings);
  d.seed = o.seed;
  return d;
}

class TrainingData::Impl {
 public:
  std::vector<Dataset> datasets;
  std::vector<Entry> entries;
  std::vector<pio::WindowSample> validation;  ///< all ranks' windows, in order
  std::unique_ptr<pio::ShardedWindowSampler> sampler;
  int rank = 0, ranks = 1;
  std::vector<std::string> property_names, property_units;  ///< properties every dataset has, sorted
};

TrainingData::TrainingData(const TrainingDataOptions& options, MPI_Comm comm)
    : options_(options), impl_(std::make_unique<Impl>()) {
  if (options_.files.empty()) throw UsageError("no training data: give at least one --data FILE.h5md");
  if (!(options_.validation_fraction >= 0 && options_.validation_fraction <= 0.9))
    throw UsageError("--validation-fraction must be between 0 and 0.9 (got " +
                     std::to_string(options_.validation_fraction) + ")");
  if (options_.max_sample_atoms < 1) throw UsageError("--max-sample-atoms must be at least 1");
  MPI_Comm_rank(comm, &impl_->rank);
  MPI_Comm_size(comm, &impl_->ranks);
  std::vector<pio::TrajectoryInfo> sampler_trajectories;
  for (std::size_t d = 0; d < options_.files.size(); ++d) {
    Dataset ds;
    ds.path = options_.files[d];
    ds.reader = std::make_unique<pio::DatasetReader>(ds.path, options_.window_frames, comm);
    ds.system = ds.reader->h5md().read_system();
    ds.trajectories = ds.reader->trajectories();
    const auto observables = ds.reader->h5md().observable_names();
    // Energies of a dataset prepared with --atoms heavy belong to the all-atom system, not to the atoms
    // stored: they are no label for a model that sees only the heavy atoms.
    const auto prepared = nlohmann::json::parse(ds.reader->h5md().config_json(), nullptr, false);
    const bool heavy_only =
        !prepared.is_discarded() && prepared.is_object() && prepared.value("atoms", "") == "heavy";
    ds.has_energy =
        !heavy_only && ds.reader->h5md().has_forces() &&
        std::find(observables.begin(), observables.end(), "potential_energy") != observables.end();
    if (ds.system.atom_count() > options_.max_sample_atoms) {
      for (const auto& fragment : decomposition::make_denoise_fragments(ds.system, options_.fragments)) {
        SampleUnit unit;
        std::vector<std::pair<int, float>> atoms;
        for (int a : fragment.core) atoms.emplace_back(a, 1.0f);
        for (int a : fragment.buffer) atoms.emplace_back(a, 0.0f);
        std::sort(atoms.begin(), atoms.end());
        for (const auto& [a, w] : atoms) unit.atoms.push_back(a), unit.weight.push_back(w);
        unit.has_ligand = has_ligand_atoms(ds.system, unit.atoms);
        ds.units.push_back(std::move(unit));
      }
    } else {
      SampleUnit whole;
      whole.has_ligand = has_ligand_atoms(ds.system, {});
      ds.units.push_back(std::move(whole));
    }
    impl_->datasets.push_back(std::move(ds));
  }
  // Validation: the chronological tail of every trajectory. Molecule sets (prepare --molecules) are
  // many one-frame datasets, whose tails are empty; there whole datasets are held out instead: the last
  // ceil(fraction x files) files, at most all but one so that training keeps data.
  bool single_frames = true;
  for (const Dataset& ds : impl_->datasets)
    for (const auto& info : ds.trajectories) single_frames = single_frames && info.frame_count == 1;
  const std::size_t files = impl_->datasets.size();
  const std::size_t held_out_files =
      single_frames
          ? std::min(files - 1,
                     static_cast<std::size_t>(std::ceil(options_.validation_fraction * files - 1e-9)))
          : 0;
  for (std::size_t d = 0; d < files; ++d) {
    Dataset& ds = impl_->datasets[d];
    const bool held_out_dataset = d + held_out_files >= files;
    for (std::size_t t = 0; t < ds.trajectories.size(); ++t) {
      const auto& info = ds.trajectories[t];
      const auto held_out =
          held_out_dataset
              ? info.frame_count
              : static_cast<std::int64_t>(std::floor(options_.validation_fraction * info.frame_count));
      ds.training_frames.push_back(info.frame_count - held_out);
      // Validation: non-overlapping windows of the tail.
      for (std::int64_t start = info.frame_count - held_out;
           start + options_.window_frames <= info.frame_count;
           start += std::max(options_.window_frames, options_.window_stride)) {
        for (std::size_t u = 0; u < ds.units.size(); ++u) {
          pio::WindowSample sample;
          sample.trajectory = static_cast<int>(impl_->entries.size() + t * ds.units.size() + u);
          sample.first_frame = info.first_frame + start;
          impl_->validation.push_back(sample);
        }
      }
    }
    for (std::size_t t = 0; t < ds.trajectories.size(); ++t) {
      for (std::size_t u = 0; u < ds.units.size(); ++u) {
        impl_->entries.push_back({static_cast<int>(d), static_cast<int>(t), static_cast<int>(u)});
        pio::TrajectoryInfo training = ds.trajectories[t];
        training.frame_count = ds.training_frames[t];
        sampler_trajectories.push_back(training);
      }
    }
  }
  find_common_properties(impl_->datasets, impl_->property_names, impl_->property_units);
  if (impl_->validation.size() > static_cast<std::size_t>(std::max(0, options_.validation_windows))) {
    // Evenly spread over the list, so every trajectory and fragment keeps a share.
    std::vector<pio::WindowSample> kept;
    const double stride = static_cast<double>(impl_->validation.size()) / options_.validation_windows;
    for (int i = 0; i < options_.validation_windows; ++i)
      kept.push_back(impl_->validation[static_cast<std::size_t>(i * stride)]);
    impl_->validation = std::move(kept);
  }
  impl_->sampler = std::make_unique<pio::ShardedWindowSampler>(sampler_trajectories, options_.window_frames,
                                                               options_.window_stride, 1, options_.seed,
                                                               impl_->rank, impl_->ranks);
}

TrainingData::~TrainingData() = default;

pio::WindowSample TrainingData::next() {
  return impl_->sampler->next();
}

TrainingExample TrainingData::load(const pio::WindowSample& sample) {
  const Entry& entry = impl_->entries.at(static_cast<std::size_t>(sample.trajectory));
  Dataset& ds = impl_->datasets[entry.dataset];
  SampleUnit& unit = ds.units[entry.unit];
  const bool whole = unit.atoms.empty();
  const int n = whole ? ds.system.atom_count() : static_cast<int>(unit.atoms.size());
  const int frames = options_.window_frames;
  pio::WindowSample read_sample = sample;
  read_sample.trajectory = entry.trajectory;

  if (!unit.input) {
    ModelInputOptions input_options = options_.input;
    input_options.with_context = false;  // set per example from the window's first frame
    unit.input = whole ? make_model_input(ds.system, {}, input_options)
                       : make_model_input(select_atoms(ds.system, unit.atoms), {}, input_options);
  }
  TrainingExample example;
  example.input = *unit.input;
  example.has_ligand = unit.has_ligand;

  std::vector<Vec3> positions(static_cast<std::size_t>(frames) * n);
  if (whole) {
    ds.reader->read(read_sample, pio::AtomRange{0, n}, pio::DatasetQuantity::kPositions, positions);
  } else {
    ds.reader->read(read_sample, Span<const int>(unit.atoms), pio::DatasetQuantity::kPositions, positions);
  }
  const auto dtype = options_.input.dtype;
  // Frame-major [T, N, 3] doubles -> [N, T, 3] in the model dtype.
  // clone(): with T = 1 the permuted view is already contiguous and to(kFloat64) is a no-op, so
  // without it x0 would alias `positions`, which dies at the end of this function.
  example.x0 = torch::from_blob(positions.data(), {frames, n, 3}, torch::kFloat64)
                   .permute({1, 0, 2})
                   .to(dtype)
                   .clone(torch::MemoryFormat::Contiguous);
  example.input.frame_times = torch::arange(frames, torch::kInt64);
  const auto box = ds.reader->box(read_sample);
  set_context(example.input, Span<const Vec3>(positions.data(), static_cast<std::size_t>(n)), box,
              options_.input.cutoff);
  if (!whole) example.atom_weight = torch::tensor(unit.weight).to(dtype);

  // Properties label the whole system (a molecule): a fragment has none.
  if (whole && !ds.property_columns.empty()) {
    const auto& values = ds.reader->properties().values;
    std::vector<double> labels;
    for (std::size_t column : ds.property_columns)
      labels.push_back(values[column].at(static_cast<std::size_t>(sample.first_frame)));
    example.properties = torch::tensor(labels, torch::kFloat64);
  }
  if (whole && ds.has_energy) {
    const auto energy = ds.reader->h5md().read_observable("potential_energy", sample.first_frame, 1);
    example.energy = torch::tensor(energy, torch::kFloat64);
    std::vector<Vec3> forces(static_cast<std::size_t>(n));
    ds.reader->h5md().read_forces(sample.first_frame, 1, pio::AtomRange{0, n}, forces);
    example.forces = torch::from_blob(forces.data(), {n, 3}, torch::kFloat64).to(dtype).clone();
  }
  return example;
}

std::vector<pio::WindowSample> TrainingData::validation_samples() const {
  std::vector<pio::WindowSample> mine;
  for (std::size_t i = impl_->rank; i < impl_->validation.size(); i += impl_->ranks)
    mine.push_back(impl_->validation[i]);
  return mine;
}

std::int64_t TrainingData::validation_total() const {
  return static_cast<std::int64_t>(impl_->validation.size());
}

std::int64_t TrainingData::samples_per_epoch() const {
  return impl_->sampler->samples_per_epoch();
}

std::string TrainingData::position_json() const {
  return impl_->sampler->position_json();
}

void TrainingData::restore(const std::string& position_json) {
  impl_->sampler->restore(position_json);
}

bool TrainingData::has_energies() const {
  return std::all_of(impl_->datasets.begin(), impl_->datasets.end(),
                     [](const Dataset& ds) { return ds.has_energy && ds.units.size() == 1; });
}

EnergyStatistics TrainingData::energy_statistics(int max_frames) const {
  EnergyStatistics stats;
  if (!has_energies()) return stats;
  double energy_sum = 0, force_sq = 0;
  std::int64_t energy_count = 0, force_count = 0;
  const int force_frames = std::min(max_frames, 100);
  for (const Dataset& ds : impl_->datasets) {
    const int n = ds.system.atom_count();
    std::vector<Vec3> forces(static_cast<std::size_t>(n));
    for (std::size_t t = 0; t < ds.trajectories.size(); ++t) {
      const auto first = ds.trajectories[t].first_frame;
      const auto count = ds.training_frames[t];
      if (count <= 0) continue;
      const auto energies = ds.reader->h5md().read_observable("potential_energy", first, count);
      const std::int64_t step = std::max<std::int64_t>(1, count / max_frames);
      for (std::int64_t f = 0; f < count; f += step) energy_sum += energies[f], ++energy_count;
      const std::int64_t force_step = std::max<std::int64_t>(1, count / force_frames);
      for (std::int64_t f = 0; f < count; f += force_step) {
        ds.reader->h5md().read_forces(first + f, 1, pio::AtomRange{0, n}, forces);
        for (const Vec3& v : forces) force_sq += v.x * v.x + v.y * v.y + v.z * v.z;
        force_count += 3 * n;
      }
    }
  }
  if (energy_count == 0 || force_count == 0) return stats;
  stats.available = true;
  stats.mean = energy_sum / static_cast<double>(energy_count);
  stats.std = std::sqrt(force_sq / static_cast<double>(force_count));
  if (!(stats.std > 1e-8)) stats.std = 1.0;  // forces all zero: keep the head's natural scale
  return stats;
}

std::vector<std::string> TrainingData::property_names() const {
  return impl_->property_names;
}

std::vector<std::string> TrainingData::property_units() const {
  return impl_->property_units;
}

std::vector<std::pair<double, double>> TrainingData::property_statistics() const {
  // Every training frame (properties are read once per file, so this is cheap); the files and the
  // split are the same on every rank, hence so are the statistics.
  const std::size_t count = impl_->property_names.size();
  std::vector<double> sum(count, 0.0), sum_sq(count, 0.0);
  std::int64_t frames = 0;
  for (const Dataset& ds : impl_->datasets) {
    const auto& values = ds.reader->properties().values;
    for (std::size_t t = 0; t < ds.trajectories.size(); ++t) {
      const auto first = static_cast<std::size_t>(ds.trajectories[t].first_frame);
      for (std::int64_t f = 0; f < ds.training_frames[t]; ++f, ++frames) {
        for (std::size_t p = 0; p < count; ++p) {
          const double v = values[ds.property_columns[p]][first + static_cast<std::size_t>(f)];
          sum[p] += v, sum_sq[p] += v * v;
        }
      }
    }
  }
  std::vector<std::pair<double, double>> stats;
  for (std::size_t p = 0; p < count; ++p) {
    const double mean = frames > 0 ? sum[p] / static_cast<double>(frames) : 0.0;
    const double variance =
        frames > 0 ? std::max(0.0, sum_sq[p] / static_cast<double>(frames) - mean * mean) : 0.0;
    stats.emplace_back(mean, std::max(std::sqrt(variance), 1e-6));
  }
  return stats;
}

double TrainingData::dt_ps() const {
  const auto& trajectories = impl_->datasets.front().trajectories;
  return trajectories.empty() ? 0.0 : trajectories.front().dt_ps;
}

int TrainingData::fragment_count() const {
  int count = 0;
  for (const Dataset& ds : impl_->datasets) count = std::max(count, static_cast<int>(ds.units.size()));
  return count;
}

int TrainingData::max_atoms() const {
  int atoms = 0;
  for (const Dataset& ds : impl_->datasets) {
    for (const SampleUnit& unit : ds.units) {
      atoms =
          std::max(atoms, unit.atoms.empty() ? ds.system.atom_count() : static_cast<int>(unit.atoms.size()));
    }
  }
  return atoms;
}

std::vector<int> TrainingData::elements() const {
  std::set<int> seen;
  for (const Dataset& ds : impl_->datasets)
    seen.insert(ds.system.atomic_numbers.begin(), ds.system.atomic_numbers.end());
  return {seen.begin(), seen.end()};
}

int TrainingData::atomic_number_limit() const {
  int limit = 0;
  for (const Dataset& ds : impl_->datasets) {
    for (int z : ds.system.atomic_numbers) limit = std::max(limit, z + 1);
  }
  return limit;
}

}  // namespace hemeplm::train
