// hemeplm evaluate, energy part: the checkpoint's energy/force head on every reference frame (against its
// labels when it has them) and on every generated frame (energies only), written as the energy CSV files
// of docs/evaluation.md and the "energy" object of metrics.json.
//
// The reference files label total energies only, so the per-residue errors are force errors: the mean
// absolute error of the force components of each residue's atoms. Next to them the model's predicted
// per-residue energies (atom energies summed per residue) are written for the heatmap.
#include "hemeplm/evaluate/energy_evaluation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "energy_head.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/model/config.hpp"
#include "regression_accumulator.hpp"

namespace hemeplm::evaluate {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A progress line every ~10% of the frames, with the elapsed time and an estimate of what is left.
class Progress {
 public:
  Progress(std::ostream& log, std::int64_t total) : log_(log), total_(total), start_(Clock::now()) {}
  void frame_done() {
    ++done_;
    const std::int64_t tenth = done_ * 10 / std::max<std::int64_t>(total_, 1);
    if (tenth <= reported_) return;
    reported_ = tenth;
    const double elapsed = seconds_since(start_);
    const double left = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
    log_ << "energy head: " << done_ << "/" << total_ << " frames (" << done_ * 100 / total_ << "%), "
         << std::fixed << std::setprecision(1) << elapsed << " s elapsed, ETA " << left << " s"
         << std::defaultfloat << std::setprecision(6) << '\n'
         << std::flush;
  }

 private:
  std::ostream& log_;
  std::int64_t total_, done_ = 0, reported_ = 0;
  Clock::time_point start_;
};

/// `keep` frame indices spread evenly over [0, count) (all of them when keep >= count).
std::vector<std::int64_t> even_subset(std::int64_t count, std::int64_t keep) {
  std::vector<std::int64_t> frames;
  keep = std::clamp<std::int64_t>(keep, 0, count);
  for (std::int64_t i = 0; i < keep; ++i) frames.push_back(i * count / keep);
  return frames;
}

/// "ALA12:A" (name, number, insertion code, chain), as rmsf.csv names residues.
std::string residue_label(const System& system, int r) {
  const auto& residue = system.residues[static_cast<std::size_t>(r)];
  std::string label = residue.name + std::to_string(residue.seq);
  if (residue.insertion != ' ') label += residue.insertion;
  if (residue.chain >= 0 && residue.chain < static_cast<int>(system.chains.size()) &&
      !system.chains[static_cast<std::size_t>(residue.chain)].name.empty())
    label += ":" + system.chains[static_cast<std::size_t>(residue.chain)].name;
  return label;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

/// A CSV file of the output folder: header written at once, '.' decimals, 12 significant digits.
class CsvFile {
 public:
  CsvFile(const std::filesystem::path& path, const std::string& header) : path_(path.string()), out_(path) {
    if (!out_) throw InputError(path_, "cannot be written");
    out_.imbue(std::locale::classic());
    out_ << std::setprecision(12) << header << '\n';
  }
  std::ofstream& out() { return out_; }
  void close() {
    out_.close();
    if (!out_) throw InputError(path_, "could not be written completely (disk full?)");
  }

 private:
  std::string path_;
  std::ofstream out_;
};

struct MeanStd {
  double mean = 0, std = 0;  ///< population standard deviation
};
MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
  if (values.empty()) return {std::nan(""), std::nan("")};
  for (const double v : values) m.mean += v;
  m.mean /= static_cast<double>(values.size());
  for (const double v : values) m.std += (v - m.mean) * (v - m.mean);
  m.std = std::sqrt(m.std / static_cast<double>(values.size()));
  return m;
}

json energy_summary(const std::vector<double>& energies) {
  const auto m = mean_std(energies);
  return {{"frames", energies.size()}, {"energy_mean", m.mean}, {"energy_std", m.std}};
}

/// Residues reported per residue: everything but water and ions (thousands of them in a solvated box,
/// and not what a heatmap of the solute should show); all residues when nothing else is left.
std::vector<int> reported_residues(const System& system) {
  std::vector<int> residues;
  for (int r = 0; r < system.residue_count(); ++r) {
    const auto kind = system.residues[static_cast<std::size_t>(r)].kind;
    if (kind != ResidueKind::kWater && kind != ResidueKind::kIon) residues.push_back(r);
  }
  if (residues.empty())
    for (int r = 0; r < system.residue_count(); ++r) residues.push_back(r);
  return residues;
}

}  // namespace

std::string evaluate_energy_head(const EnergyEvaluationOptions& options, const Trajectory& reference,
                                 const std::vector<std::pair<std::string, const Trajectory*>>& generated,
                                 const std::string& out_dir, std::ostream& log) {
  if (options.checkpoint.empty()) throw UsageError("the energy evaluation needs --checkpoint CHECKPOINT");
  if (options.max_force_rows < 1) throw UsageError("max_force_rows must be at least 1");
  if (options.max_residue_frames < 0) throw UsageError("max_residue_frames must not be negative");
  for (const auto& [label, trajectory] : generated) {
    if (!trajectory) throw UsageError("generated set '" + label + "' has no trajectory");
    require_same_atoms(reference, *trajectory);
  }
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  model::set_torch_threads(threads);

  std::vector<std::string> notes;
  EnergyHead head(options.checkpoint, options.use_ema, options.float64);
  head.check_system(reference.system, reference.path, notes);
  head.set_system(reference.system);
  const std::filesystem::path dir(out_dir);
  std::filesystem::create_directories(dir);

  const System& system = reference.system;
  const int atoms = reference.atom_count();
  const std::int64_t frames = reference.frame_count;
  const bool energy_labels = reference.has_energies();
  const bool force_labels = reference.has_forces();

  const auto residues = reported_residues(system);
  std::vector<std::int64_t> atom_group(static_cast<std::size_t>(atoms), -1);
  {
    std::vector<std::int64_t> group_of_residue(static_cast<std::size_t>(system.residue_count()), -1);
    for (std::size_t g = 0; g < residues.size(); ++g)
      group_of_residue[static_cast<std::size_t>(residues[g])] = static_cast<std::int64_t>(g);
    for (int a = 0; a < atoms; ++a)
      atom_group[static_cast<std::size_t>(a)] =
          group_of_residue[static_cast<std::size_t>(system.atom_residue[static_cast<std::size_t>(a)])];
  }
  const auto groups = static_cast<std::int64_t>(residues.size());
  std::vector<std::string> labels;
  for (const int r : residues) labels.push_back(csv_field(residue_label(system, r)));

  // Frames of the capped files: force rows (atoms strided too when one frame alone exceeds the cap) and
  // the per-residue heatmaps.
  const std::int64_t components = 3 * static_cast<std::int64_t>(atoms);
  const auto force_frames =
      even_subset(frames, std::max<std::int64_t>(1, options.max_force_rows / components));
  const std::int64_t atom_stride = (components + options.max_force_rows - 1) / options.max_force_rows;
  std::vector<char> writes_forces(static_cast<std::size_t>(frames), 0);
  for (const auto f : force_frames) writes_forces[static_cast<std::size_t>(f)] = 1;
  std::vector<char> writes_residues(static_cast<std::size_t>(frames), 0);
  for (const auto f : even_subset(frames, options.max_residue_frames))
    writes_residues[static_cast<std::size_t>(f)] = 1;

  std::int64_t total_frames = frames;
  for (const auto& item : generated) total_frames += item.second->frame_count;
  log << "energy head of " << head.path() << " (step " << head.step() << ", "
      << (head.float64() ? "float64" : "float32") << ", " << threads << " thread(s)): " << frames
      << " reference frame(s) of " << atoms << " atoms" << (force_labels ? " with forces" : "") << ", "
      << total_frames - frames << " generated frame(s)\n"
      << std::flush;
  Progress progress(log, total_frames);

  std::vector<std::string> written;
  std::unique_ptr<CsvFile> force_csv, residue_error_csv;
  if (force_labels) {
    force_csv =
        std::make_unique<CsvFile>(dir / "force_components.csv", "frame,atom,component,true,predicted");
    residue_error_csv =
        std::make_unique<CsvFile>(dir / "residue_errors.csv", "frame,residue_index,residue,force_mae");
  }
  CsvFile residue_energy_csv(dir / "residue_energies.csv", "set,frame,residue_index,residue,energy_kj_mol");

  std::vector<double> predicted(static_cast<std::size_t>(frames));
  RegressionAccumulator force_metrics;
  std::vector<double> residue_abs(static_cast<std::size_t>(groups), 0), frame_abs(residue_abs);
  std::vector<std::int64_t> residue_components(static_cast<std::size_t>(groups), 0),
      frame_components(residue_components);
  std::vector<Vec3> forces(static_cast<std::size_t>(atoms));
  static const char kAxis[3] = {'x', 'y', 'z'};
  const auto reference_start = Clock::now();
  for (std::int64_t f = 0; f < frames; ++f) {
    const auto positions = reference.frame(f);
    predicted[static_cast<std::size_t>(f)] =
        force_labels ? head.energy_and_forces(positions, forces) : head.energy(positions);
    if (force_labels) {
      const Vec3* truth = reference.forces.data() + f * atoms;
      std::fill(frame_abs.begin(), frame_abs.end(), 0.0);
      std::fill(frame_components.begin(), frame_components.end(), 0);
      auto& out = force_csv->out();
      for (int a = 0; a < atoms; ++a) {
        const auto g = atom_group[static_cast<std::size_t>(a)];
        const bool row = writes_forces[static_cast<std::size_t>(f)] && a % atom_stride == 0;
        for (int c = 0; c < 3; ++c) {
          const double t = truth[a][c], p = forces[static_cast<std::size_t>(a)][c];
          force_metrics.add(t, p);
          if (g >= 0)
            frame_abs[static_cast<std::size_t>(g)] += std::abs(p - t),
                ++frame_components[static_cast<std::size_t>(g)];
          if (row) out << f << ',' << a << ',' << kAxis[c] << ',' << t << ',' << p << '\n';
        }
      }
      for (std::int64_t g = 0; g < groups; ++g) {
        const auto i = static_cast<std::size_t>(g);
        residue_abs[i] += frame_abs[i], residue_components[i] += frame_components[i];
        if (writes_residues[static_cast<std::size_t>(f)] && frame_components[i] > 0)
          residue_error_csv->out() << f << ',' << residues[i] << ',' << labels[i] << ','
                                   << frame_abs[i] / static_cast<double>(frame_components[i]) << '\n';
      }
    }
    if (writes_residues[static_cast<std::size_t>(f)] && groups > 0) {
      const auto energies = head.group_energies(positions, atom_group, groups);
      for (std::int64_t g = 0; g < groups; ++g)
        residue_energy_csv.out() << "reference," << f << ',' << residues[static_cast<std::size_t>(g)] << ','
                                 << labels[static_cast<std::size_t>(g)] << ','
                                 << energies[static_cast<std::size_t>(g)] << '\n';
    }
    progress.frame_done();
  }
  const double reference_seconds = seconds_since(reference_start);
  if (force_csv) {
    force_csv->close(), residue_error_csv->close();
    written.insert(written.end(), {"force_components.csv", "residue_errors.csv"});
  }
  residue_energy_csv.close();
  written.push_back("residue_energies.csv");

  std::vector<std::vector<double>> generated_energies;
  const auto generated_start = Clock::now();
  for (const auto& item : generated) {
    std::vector<double> energies;
    for (std::int64_t f = 0; f < item.second->frame_count; ++f) {
      energies.push_back(head.energy(item.second->frame(f)));
      progress.frame_done();
    }
    generated_energies.push_back(std::move(energies));
  }
  const double generated_seconds = seconds_since(generated_start);

  if (energy_labels) {
    CsvFile csv(dir / "energy_frames.csv", "frame,true_kj_mol,predicted_kj_mol");
    for (std::int64_t f = 0; f < frames; ++f)
      csv.out() << f << ',' << reference.energies[static_cast<std::size_t>(f)] << ','
                << predicted[static_cast<std::size_t>(f)] << '\n';
    csv.close();
    written.push_back("energy_frames.csv");
  }
  {
    CsvFile csv(dir / "energy_distributions.csv", "set,frame,energy_kj_mol");
    if (energy_labels)
      for (std::int64_t f = 0; f < frames; ++f)
        csv.out() << "reference (labels)," << f << ',' << reference.energies[static_cast<std::size_t>(f)]
                  << '\n';
    for (std::int64_t f = 0; f < frames; ++f)
      csv.out() << "reference (model)," << f << ',' << predicted[static_cast<std::size_t>(f)] << '\n';
    for (std::size_t i = 0; i < generated.size(); ++i)
      for (std::size_t f = 0; f < generated_energies[i].size(); ++f)
        csv.out() << csv_field(generated[i].first) << ',' << f << ',' << generated_energies[i][f] << '\n';
    csv.close();
    written.push_back("energy_distributions.csv");
  }

  json result;
  result["checkpoint"] = head.path();
  result["checkpoint_step"] = head.step();
  result["weights"] = options.use_ema ? "ema" : "live";
  result["dtype"] = head.float64() ? "float64" : "float32";
  result["reference"] = reference.path;
  result["frames"] = frames;
  result["atoms"] = atoms;
  if (energy_labels) {
    const auto m = regression_metrics(reference.energies, predicted);
    result["energy"] = {{"count", m.count}, {"mse", m.mse},         {"mae", m.mae},     {"rmse", m.rmse},
                        {"r2", m.r2},       {"pearson", m.pearson}, {"units", "kJ/mol"}};
  } else {
    result["energy"] = nullptr;
    notes.push_back(reference.path +
                    " has no potential energies: no energy parity metrics; the model's "
                    "energy distributions are still written");
  }
  if (force_labels) {
    const auto m = force_metrics.metrics();
    result["forces"] = {
        {"count", m.count}, {"mae", m.mae}, {"rmse", m.rmse}, {"r2", m.r2}, {"units", "kJ/mol/A"}};
  } else {
    result["forces"] = nullptr;
    notes.push_back(reference.path +
                    " has no forces: no force metrics, force_components.csv and "
                    "residue_errors.csv are not written");
  }
  json per_residue = json::array();
  if (force_labels)
    for (std::size_t i = 0; i < residues.size(); ++i)
      if (residue_components[i] > 0)
        per_residue.push_back({{"residue_index", residues[i]},
                               {"residue", residue_label(system, residues[i])},
                               {"force_mae", residue_abs[i] / static_cast<double>(residue_components[i])}});
  result["residues"] = per_residue;
  result["reference_model"] = energy_summary(predicted);
  if (energy_labels) result["reference_labels"] = energy_summary(reference.energies);
  json generated_json = json::array();
  for (std::size_t i = 0; i < generated.size(); ++i) {
    json g = {{"label", generated[i].first}, {"file", generated[i].second->path}};
    const json summary = energy_summary(generated_energies[i]);
    for (const auto& item : summary.items()) g[item.key()] = item.value();
    generated_json.push_back(g);
  }
  result["generated"] = generated_json;
  const auto generated_frames = total_frames - frames;
  result["timing"] = {
      {"threads", threads},
      {"reference_seconds_per_frame", frames > 0 ? reference_seconds / static_cast<double>(frames) : 0.0},
      {"reference_includes_forces", force_labels},
      {"generated_seconds_per_frame",
       generated_frames > 0 ? generated_seconds / static_cast<double>(generated_frames) : 0.0}};
  result["csv"] = written;

  notes.push_back(
      "per-residue errors are force errors: the reference labels only total energies, so residue_errors.csv "
      "holds the mean absolute error of the force components of each residue's atoms (kJ/mol/A); "
      "residue_energies.csv holds the model's predicted per-residue energies (atom energies summed per "
      "residue, the head's constant offset in no residue)");
  if (static_cast<int>(residues.size()) < system.residue_count())
    notes.push_back("water and ion residues are left out of the per-residue outputs");
  if (force_labels && (static_cast<std::int64_t>(force_frames.size()) < frames || atom_stride > 1))
    notes.push_back(
        "force_components.csv holds " + std::to_string(force_frames.size()) + " of " +
        std::to_string(frames) + " frames" +
        (atom_stride > 1 ? " and every " + std::to_string(atom_stride) + "th atom" : std::string()) +
        " (at most " + std::to_string(options.max_force_rows) + " rows); the force metrics use all");
  if (frames > options.max_residue_frames)
    notes.push_back("residue_energies.csv and residue_errors.csv hold " +
                    std::to_string(std::min<std::int64_t>(frames, options.max_residue_frames)) + " of " +
                    std::to_string(frames) + " frames, spread evenly");
  if (system.box) notes.push_back("periodic: the box of the reference's first frame is used for every frame");
  result["notes"] = notes;

  log << "energy head: done in " << std::fixed << std::setprecision(1) << seconds_since(reference_start)
      << " s (" << std::setprecision(4)
      << (frames > 0 ? reference_seconds / static_cast<double>(frames) : 0.0) << " s per reference frame"
      << (force_labels ? " with forces" : "") << ")" << std::defaultfloat << std::setprecision(6) << '\n'
      << std::flush;
  return result.dump(2);
}

}  // namespace hemeplm::evaluate
