// hemeplm evaluate: generated trajectories against reference MD (structure and dynamics metrics beside an
// MD-oracle and a trivial baseline, optionally the checkpoint's energy head), written as metrics.json, CSV
// tables, plots and report.html (docs/evaluation.md). Serial: rank 0 computes while the others wait.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/energy_evaluation.hpp"
#include "hemeplm/evaluate/report.hpp"
#include "hemeplm/evaluate/structure_evaluation.hpp"
#include "hemeplm/evaluate/trajectory.hpp"
#include "options.hpp"

namespace hemeplm::app {
namespace {

using nlohmann::ordered_json;
namespace ev = evaluate;

struct EvaluateSettings {
  std::vector<std::string> references, generated;
  std::string checkpoint, out, python;  // empty: /usr/bin/python3, else python3 on PATH (report.hpp)
  ev::StructureEvaluationOptions structure;
  int threads = 0;
  bool plots = true, quiet = false;
};

EvaluateSettings read_settings(const po::variables_map& o) {
  EvaluateSettings s;
  if (!o.count("reference"))
    throw UsageError("hemeplm evaluate: at least one --reference FILE.h5md is required");
  s.references = o["reference"].as<std::vector<std::string>>();
  if (o.count("generated")) s.generated = o["generated"].as<std::vector<std::string>>();
  if (o.count("checkpoint")) s.checkpoint = o["checkpoint"].as<std::string>();
  if (s.generated.empty() && s.checkpoint.empty())
    throw UsageError("hemeplm evaluate: give --generated FILE.h5md (repeatable) and/or --checkpoint FILE");
  if (!o.count("out")) throw UsageError("hemeplm evaluate: --out DIR is required");
  s.out = o["out"].as<std::string>();
  s.structure.tica_lag = o["tica-lag"].as<int>();
  require_range("tica-lag", s.structure.tica_lag, 1, 100000000);
  s.structure.oracle_fraction = o["oracle-fraction"].as<double>();
  if (!(s.structure.oracle_fraction > 0 && s.structure.oracle_fraction < 1))
    throw UsageError("--oracle-fraction must be between 0 and 1, exclusive (got " +
                     std::to_string(s.structure.oracle_fraction) + ")");
  s.structure.seed = o["seed"].as<std::uint64_t>();
  if (o.count("python")) s.python = o["python"].as<std::string>();
  s.threads = o["threads"].as<int>();
  require_range("threads", s.threads, 0, 4096);
  s.plots = !o["no-plots"].as<bool>();
  s.quiet = o["quiet"].as<bool>();
  return s;
}

// The program's own command line, for provenance (Linux; empty elsewhere).
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : text)
    if (c == '\0') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string cell(const ordered_json& value) {
  if (!value.is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value.get<double>());
  return text;
}

// Main metrics, one row per metric: reference, generated sets, then the baselines.
void print_table(std::ostream& out, const ordered_json& metrics) {
  std::vector<std::pair<std::string, const ordered_json*>> columns = {
      {"reference", &metrics["reference"]["metrics"]}};
  for (const auto& g : metrics["generated"])
    columns.push_back({g["label"].get<std::string>(), &g["metrics"]});
  columns.push_back({"md_oracle", &metrics["baselines"]["md_oracle"]["metrics"]});
  columns.push_back({"trivial", &metrics["baselines"]["trivial"]["metrics"]});
  std::size_t width = 12;
  for (const auto& c : columns) width = std::max(width, c.first.size() + 2);
  auto pad = [](std::string text, std::size_t n) {
    return text.size() < n ? text.append(n - text.size(), ' ') : text;
  };
  std::string line = pad("metric", 34);
  for (const auto& c : columns) line += pad(c.first, width);
  out << line << '\n';
  for (const std::string& key : ev::structure_metric_keys()) {
    line = pad(key, 34);
    for (const auto& c : columns) line += pad(cell((*c.second)[key]), width);
    out << line << '\n';
  }
  // "energy"/"forces" are null when the reference has no labels.
  if (metrics.contains("energy") && metrics["energy"].contains("energy") &&
      metrics["energy"]["energy"].is_object()) {
    const auto& e = metrics["energy"];
    out << "energy head: energy MAE " << cell(e["energy"]["mae"]) << " kJ/mol, R² "
        << cell(e["energy"]["r2"]);
    if (e.contains("forces") && e["forces"].is_object())
      out << "; force MAE " << cell(e["forces"]["mae"]) << " kJ/mol/Å, R² " << cell(e["forces"]["r2"]);
    out << '\n';
  }
}

// One line per property head: MAE next to the training-mean baseline.
void print_properties(std::ostream& out, const ordered_json& metrics) {
  if (!metrics.contains("properties") || !metrics["properties"].contains("properties")) return;
  for (const auto& [name, m] : metrics["properties"]["properties"].items()) {
    if (!m.is_object()) {
      out << "property " << name << ": no labels in the references\n";
      continue;
    }
    const std::string unit = m.value("unit", std::string());
    out << "property " << name << ": MAE " << cell(m["mae"]) << (unit.empty() ? "" : " " + unit) << ", RMSE "
        << cell(m["rmse"]) << ", R² " << cell(m["r2"]) << ", Pearson " << cell(m["pearson"]) << " over "
        << m["count"].get<long long>() << " molecules/frames (training-mean baseline MAE "
        << cell(m["mean_baseline_mae"]) << ")\n";
  }
}

/// True when every part describes the same atoms as the first (one system, several trajectory pieces).
bool one_system(const std::vector<ev::Trajectory>& parts) {
  for (std::size_t i = 1; i < parts.size(); ++i) {
    try {
      ev::require_same_atoms(parts.front(), parts[i]);
    } catch (const InputError&) {
      return false;
    }
  }
  return true;
}

class EvaluateCommand final : public Command {
 public:
  const char* name() const override { return "evaluate"; }
  const char* summary() const override {
    return "metrics of generated trajectories against reference MD, with baselines, plots and a report";
  }
  const char* usage() const override {
    return "--reference FILE.h5md... --generated FILE.h5md... [--checkpoint FILE] --out DIR [--tica-lag N] "
           "[--oracle-fraction F] [--seed S] [--no-plots]";
  }
  void add_options(po::options_description& options) const override {
    const ev::StructureEvaluationOptions d;
    options.add_options()("reference", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
                          "reference MD (hemeplm H5MD, e.g. from hemeplm prepare); repeatable: files are "
                          "concatenated in order")(
        "generated", po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
        "generated trajectory (hemeplm sample) with the reference's atoms; repeatable: each file is one set "
        "labelled by its file name")(
        "checkpoint", po::value<std::string>()->value_name("FILE"),
        "also evaluate this checkpoint's energy/force head and property heads (e.g. gap) against the "
        "reference's labels")("out", po::value<std::string>()->value_name("DIR"), "output folder (created)")(
        "tica-lag", po::value<int>()->default_value(d.tica_lag)->value_name("N"), "TICA lag time in frames")(
        "oracle-fraction", po::value<double>()->default_value(d.oracle_fraction)->value_name("F"),
        "the reference's last fraction F of frames is the MD-oracle baseline, compared with the rest")(
        "seed", po::value<std::uint64_t>()->default_value(d.seed)->value_name("S"),
        "seed of the trivial baseline's noise")("no-plots", po::bool_switch(), "write no PNG plots")(
        "python", po::value<std::string>()->value_name("PATH"),
        "Python interpreter with matplotlib for the plots (default: /usr/bin/python3, Debian's, else python3 "
        "on PATH)")("threads", po::value<int>()->default_value(0)->value_name("N"),
                    "torch threads for --checkpoint (0 = all cores)")("quiet", po::bool_switch(),
                                                                      "no progress lines");
  }
  void add_positionals(po::positional_options_description&) const override {}
  const char* epilog() const override {
    return "Writes DIR/metrics.json, CSV tables, DIR/plots/*.png and DIR/report.html (docs/evaluation.md).\n"
           "References of different systems (a molecule set from hemeplm prepare --molecules, one file per\n"
           "molecule) or of single frames only have no structure metrics; with --checkpoint their property\n"
           "heads are compared with the stored labels (DIR/properties.csv, metrics.json \"properties\").\n"
           "Examples:\n"
           "  hemeplm evaluate --reference test.h5md --generated forecast.h5md --checkpoint c.h5 --out "
           "eval\n"
           "  hemeplm evaluate --reference qm9/molecule_*.h5md --checkpoint c.h5 --out eval\n";
  }

  int run(const po::variables_map& options, const RunContext& context) const override {
    const EvaluateSettings s = read_settings(options);
    return run_on_root(context, [&] { return evaluate(s, *context.out); });
  }

 private:
  static int evaluate(const EvaluateSettings& s, std::ostream& out) {
    const auto start = std::chrono::steady_clock::now();
    std::ostream silent(nullptr);
    std::ostream& log = s.quiet ? silent : out;
    auto elapsed = [&] {
      char text[32];
      std::snprintf(text, sizeof text, "%.1f s",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return std::string(text);
    };

    std::vector<ev::Trajectory> parts;
    for (const std::string& path : s.references) parts.push_back(ev::read_trajectory(path));
    // Structure and dynamics metrics need one system with a trajectory; a molecule set (one file per
    // molecule) or single frames have none, and are evaluated for their property labels only.
    const bool same_system = one_system(parts);
    std::int64_t reference_frames = 0;
    for (const auto& part : parts) reference_frames += part.frame_count;
    const bool trajectory = same_system && reference_frames >= 2;
    if (!same_system && !s.generated.empty()) ev::concatenate(parts);  // InputError naming the two files
    if (!trajectory && !s.generated.empty())
      throw UsageError(
          std::string("hemeplm evaluate: --generated needs a reference trajectory of one system; ") +
          (same_system ? "the references hold a single frame"
                       : "the references are " + std::to_string(parts.size()) +
                             " different systems (a molecule set)"));
    const ev::CheckpointHeads heads =
        s.checkpoint.empty() ? ev::CheckpointHeads{} : ev::checkpoint_heads(s.checkpoint);
    if (!trajectory && heads.properties.empty())
      throw UsageError("hemeplm evaluate: the references are " +
                       std::string(same_system ? "a single frame" : "different systems (a molecule set)") +
                       ", which have no structure metrics; give --checkpoint with property heads to compare "
                       "its predictions with their labels");
    const ev::Trajectory reference = same_system ? ev::concatenate(parts) : parts.front();
    parts.clear();
    std::vector<ev::Trajectory> generated;
    for (const std::string& path : s.generated) {
      generated.push_back(ev::read_trajectory(path));
      ev::require_same_atoms(reference, generated.back());
    }
    if (same_system)
      log << "evaluate: read " << reference.frame_count << " reference frames of " << reference.atom_count()
          << " atoms and " << generated.size() << " generated trajectories (" << elapsed() << ")"
          << std::endl;
    else
      log << "evaluate: read " << s.references.size() << " reference files of different systems ("
          << reference_frames << " frames in all; " << elapsed() << ")" << std::endl;

    std::error_code error;
    std::filesystem::create_directories(s.out, error);
    if (error || !std::filesystem::is_directory(s.out))
      throw InputError(s.out, "cannot create the output folder: " + error.message());

    const std::vector<std::string> labels = ev::unique_labels(s.generated);
    std::vector<ev::LabelledTrajectory> sets;
    for (std::size_t g = 0; g < generated.size(); ++g) sets.push_back({labels[g], &generated[g]});
    ordered_json structure;
    if (trajectory) {
      structure = ordered_json::parse(ev::evaluate_structure(s.structure, reference, sets, s.out, log));
    } else {
      structure["reference"]["metrics"] = nullptr;
      structure["generated"] = ordered_json::array();
      structure["baselines"] = ordered_json::object();
      structure["tica"] = nullptr;
      structure["notes"] = {std::string("no structure or dynamics metrics: the references are ") +
                            (same_system ? "a single frame" : "single molecules of different systems") +
                            ", not a trajectory"};
    }

    ordered_json metrics;
    metrics["format"] = "hemeplm-evaluate";
    metrics["format_version"] = 1;
    metrics["program"] = {
        {"name", "hemeplm evaluate"}, {"version", HEMEPLM_VERSION}, {"command_line", command_line()}};
    metrics["reference"] = {{"files", s.references},
                            {"frames", reference_frames},
                            {"atoms", same_system ? ordered_json(reference.atom_count()) : ordered_json()},
                            {"metrics", structure["reference"]["metrics"]}};
    metrics["generated"] = structure["generated"];
    metrics["baselines"] = structure["baselines"];
    metrics["tica"] = structure["tica"];
    std::vector<std::string> energy_notes;
    // The energy head runs on one system; a checkpoint without a trained energy head but with property
    // heads skips it (one with neither still gets EnergyHead's error).
    const bool energy_part =
        !s.checkpoint.empty() && same_system && (heads.energy || heads.properties.empty());
    if (!s.checkpoint.empty() && !energy_part)
      energy_notes.push_back(!heads.energy
                                 ? "energy head not evaluated: the checkpoint has no trained energy head"
                                 : "energy head not evaluated: the references are different systems");
    if (!heads.properties.empty()) {
      ev::PropertyEvaluationOptions property;
      property.checkpoint = s.checkpoint;
      property.threads = s.threads;
      metrics["properties"] =
          ordered_json::parse(ev::evaluate_property_heads(property, s.references, s.out, log));
      log << "evaluate: property heads evaluated (" << elapsed() << ")" << std::endl;
    }
    if (energy_part) {
      ev::EnergyEvaluationOptions energy;
      energy.checkpoint = s.checkpoint;
      energy.threads = s.threads;
      std::vector<std::pair<std::string, const ev::Trajectory*>> energy_sets;
      for (const auto& set : sets) energy_sets.emplace_back(set.label, set.trajectory);
      metrics["energy"] =
          ordered_json::parse(ev::evaluate_energy_head(energy, reference, energy_sets, s.out, log));
      log << "evaluate: energy head evaluated (" << elapsed() << ")" << std::endl;
    }
    metrics["plots"] = {{"written", ordered_json::array()}, {"missing", "--no-plots was given"}};
    metrics["notes"] = structure["notes"];
    if (metrics.contains("energy") && metrics["energy"].contains("notes"))
      for (const auto& note : metrics["energy"]["notes"]) metrics["notes"].push_back(note);
    for (const auto& note : energy_notes) metrics["notes"].push_back(note);
    if (metrics.contains("properties")) {
      for (const auto& note : metrics["properties"]["notes"]) metrics["notes"].push_back(note);
      // The report lists the notes; the property metrics appear there too.
      std::ostringstream summary;
      print_properties(summary, metrics);
      std::string line;
      std::istringstream lines(summary.str());
      while (std::getline(lines, line)) metrics["notes"].push_back(line);
    }
    const std::string metrics_path = (std::filesystem::path(s.out) / "metrics.json").string();
    write_file_atomically(metrics_path, metrics.dump(2) + "\n");

    ev::PlotResult plots;
    plots.missing = "--no-plots was given";
    if (s.plots && !trajectory) {
      plots.missing = "no plots: the references are not a trajectory (property metrics only)";
      metrics["plots"] = {{"written", ordered_json::array()}, {"missing", plots.missing}};
      write_file_atomically(metrics_path, metrics.dump(2) + "\n");
    } else if (s.plots) {
      plots = ev::run_plot_script(s.out, s.python, log);
      metrics["plots"] = {{"written", plots.written}, {"missing", plots.missing}};
      write_file_atomically(metrics_path, metrics.dump(2) + "\n");
      log << "evaluate: " << plots.written.size() << " plots"
          << (plots.missing.empty() ? "" : " (" + plots.missing + ")") << " (" << elapsed() << ")"
          << std::endl;
    }
    ev::write_report_html(s.out, metrics.dump(), plots);

    if (trajectory) print_table(out, metrics);
    print_properties(out, metrics);
    out << "report: " << (std::filesystem::path(s.out) / "report.html").string() << std::endl;
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_evaluate_command() {
  return std::make_unique<EvaluateCommand>();
}

}  // namespace hemeplm::app
