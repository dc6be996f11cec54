// Orchestrates the structure-and-dynamics evaluation: baselines, TICA, per-set analysis, metrics, CSV
// tables (see structure_evaluation.hpp and docs/evaluation.md).
#include "hemeplm/evaluate/structure_evaluation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/histogram.hpp"
#include "hemeplm/evaluate/set_analysis.hpp"
#include "hemeplm/evaluate/tica.hpp"

namespace hemeplm::evaluate {
namespace {

using nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRadToDeg = 180.0 / 3.14159265358979323846;
constexpr int kTica2dBins = 30;

// A set to measure: its trajectory's analysis and TICA coordinates (frames x components).
struct MeasuredSet {
  std::string name;
  const Trajectory* trajectory = nullptr;
  SetAnalysis analysis;
  std::vector<double> tica;
};

ordered_json number(double x) {
  return std::isfinite(x) ? ordered_json(x) : ordered_json(nullptr);
}

std::string csv_number(double x) {
  if (!std::isfinite(x)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.8g", x);
  return text;
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / v.size();
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// TICA coordinates of every set share bins over the union of their ranges.
struct TicaBins {
  int components = 0;
  double lo[2] = {0, 0}, hi[2] = {0, 0};
};

TicaBins tica_bins(const std::vector<const MeasuredSet*>& sets, int components) {
  TicaBins bins;
  bins.components = components;
  for (int k = 0; k < components; ++k) {
    bins.lo[k] = std::numeric_limits<double>::infinity();
    bins.hi[k] = -bins.lo[k];
    for (const MeasuredSet* s : sets)
      for (std::size_t f = 0; f * components < s->tica.size(); ++f) {
        const double v = s->tica[f * components + k];
        if (std::isfinite(v)) bins.lo[k] = std::min(bins.lo[k], v), bins.hi[k] = std::max(bins.hi[k], v);
      }
    if (!(bins.hi[k] > bins.lo[k])) bins.hi[k] = bins.lo[k] + 1;  // one value everywhere
  }
  return bins;
}

Histogram tica0_histogram(const MeasuredSet& s, const TicaBins& bins) {
  Histogram h(bins.lo[0], bins.hi[0], kDistributionBins);
  for (std::size_t f = 0; f * bins.components < s.tica.size(); ++f) h.add(s.tica[f * bins.components]);
  return h;
}

Histogram2D tica01_histogram(const MeasuredSet& s, const TicaBins& bins) {
  Histogram2D h(bins.lo[0], bins.hi[0], kTica2dBins, bins.lo[1], bins.hi[1], kTica2dBins);
  if (bins.components < 2) return h;
  for (std::size_t f = 0; 2 * f < s.tica.size(); ++f) h.add(s.tica[2 * f], s.tica[2 * f + 1]);
  return h;
}

ordered_json metrics_of(const MeasuredSet& set, const MeasuredSet& against, const TicaBins& bins,
                        bool phi_psi) {
  const SetAnalysis& a = set.analysis;
  const SetAnalysis& r = against.analysis;
  ordered_json m;
  m["jsd_bond_length"] = number(jensen_shannon(r.bond_length.normalized(), a.bond_length.normalized()));
  m["jsd_bond_angle"] = number(jensen_shannon(r.bond_angle.normalized(), a.bond_angle.normalized()));
  m["jsd_torsion"] = number(jensen_shannon(r.torsion.normalized(), a.torsion.normalized()));
  const bool tica = bins.components >= 1;
  m["jsd_tica0"] = number(tica ? jensen_shannon(tica0_histogram(against, bins).normalized(),
                                                tica0_histogram(set, bins).normalized())
                               : kNaN);
  m["jsd_tica01"] = number(bins.components >= 2 ? jensen_shannon(tica01_histogram(against, bins).normalized(),
                                                                 tica01_histogram(set, bins).normalized())
                                                : kNaN);
  m["jsd_phi_psi"] = number(phi_psi ? jensen_shannon(r.phi_psi.normalized(), a.phi_psi.normalized()) : kNaN);
  m["rmsd_mean_A"] = number(mean(a.rmsd));
  m["rg_mean_A"] = number(mean(a.rg));
  m["rmsf_mean_A"] = number(mean(a.rmsf_residue));
  m["ligand_pocket_rmsd_mean_A"] = number(mean(a.ligand_rmsd));
  std::vector<double> reached;
  for (double t : a.decorrelation_ps)
    if (std::isfinite(t)) reached.push_back(t);
  double median = kNaN;
  if (!reached.empty()) {
    std::sort(reached.begin(), reached.end());
    const std::size_t h = reached.size() / 2;
    median = reached.size() % 2 ? reached[h] : 0.5 * (reached[h - 1] + reached[h]);
  }
  m["torsion_decorrelation_ps_median"] = number(median);
  m["torsion_decorrelated_fraction"] = number(
      a.decorrelation_ps.empty() ? kNaN : static_cast<double>(reached.size()) / a.decorrelation_ps.size());
  return m;
}

void write_csv(const std::string& out_dir, const std::string& name, const std::string& text) {
  write_file_atomically((std::filesystem::path(out_dir) / name).string(), text);
}

std::string header(const std::string& first, const std::vector<const MeasuredSet*>& columns) {
  std::string h = first;
  for (const MeasuredSet* s : columns) h += "," + s->name;
  return h + "\n";
}

void write_distribution(const std::string& out_dir, const std::string& name,
                        const std::vector<const MeasuredSet*>& columns,
                        const std::vector<Histogram>& histograms, double center_scale = 1.0) {
  std::ostringstream csv;
  csv << header("bin_center", columns);
  std::vector<std::vector<double>> p;
  for (const Histogram& h : histograms) p.push_back(h.normalized());
  for (int b = 0; b < histograms.front().bins(); ++b) {
    csv << csv_number(histograms.front().center(b) * center_scale);
    for (const auto& column : p) csv << ',' << csv_number(column[b]);
    csv << '\n';
  }
  write_csv(out_dir, name, csv.str());
}

std::string atom_label(const System& system, int atom) {
  return system.atom_names[atom] + std::to_string(atom);
}

}  // namespace

const std::vector<std::string>& structure_metric_keys() {
  static const std::vector<std::string> keys = {"jsd_bond_length",
                                                "jsd_bond_angle",
                                                "jsd_torsion",
                                                "jsd_tica0",
                                                "jsd_tica01",
                                                "jsd_phi_psi",
                                                "rmsd_mean_A",
                                                "rg_mean_A",
                                                "rmsf_mean_A",
                                                "ligand_pocket_rmsd_mean_A",
                                                "torsion_decorrelation_ps_median",
                                                "torsion_decorrelated_fraction"};
  return keys;
}

std::vector<std::string> unique_labels(const std::vector<std::string>& paths) {
  std::set<std::string> used = {"reference", "md_oracle", "trivial", "set", "bin_center"};
  std::vector<std::string> labels;
  for (const std::string& path : paths) {
    std::string stem = std::filesystem::path(path).stem().string();
    // Commas and quotes would break the CSV headers.
    for (char& c : stem)
      if (c == ',' || c == '"' || c == '\n') c = '_';
    if (stem.empty()) stem = "generated";
    std::string label = stem;
    for (int k = 2; used.count(label); ++k) label = stem + "_" + std::to_string(k);
    used.insert(label);
    labels.push_back(label);
  }
  return labels;
}

std::string evaluate_structure(const StructureEvaluationOptions& options, const Trajectory& reference,
                               const std::vector<LabelledTrajectory>& generated, const std::string& out_dir,
                               std::ostream& log) {
  const Stopwatch clock;
  auto progress = [&](const std::string& what) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.1f", clock.seconds());
    log << "evaluate: " << what << " (" << elapsed << " s)" << std::endl;
  };
  for (const auto& g : generated) require_same_atoms(reference, *g.trajectory);
  if (!(options.oracle_fraction > 0 && options.oracle_fraction < 1))
    throw UsageError("--oracle-fraction must be in (0, 1) (got " + std::to_string(options.oracle_fraction) +
                     ")");
  const std::int64_t frames = reference.frame_count;
  const std::int64_t oracle_frames = std::llround(frames * options.oracle_fraction);
  if (oracle_frames < 1 || frames - oracle_frames < 1)
    throw UsageError("the reference has " + std::to_string(frames) +
                     " frames: too few to split into an MD-oracle part of fraction " +
                     std::to_string(options.oracle_fraction) + " and a remainder");
  ordered_json notes = ordered_json::array();

  // TICA fitted on the full reference.
  const TicaFeatures features = choose_tica_features(reference.system, options.max_torsions);
  const int dim = features.dim();
  const int components = std::min(dim, 2);
  TicaModel model;
  if (dim > 0) {
    model = fit_tica(tica_feature_matrix(features, reference), frames, dim, options.tica_lag);
    progress("TICA fitted on " + std::to_string(dim) + " features of " + std::to_string(frames) +
             " reference frames");
  } else {
    notes.push_back("fewer than two heavy atoms: no TICA features, jsd_tica0 and jsd_tica01 are null");
  }
  auto project = [&](const Trajectory& t) {
    return dim > 0 ? tica_project(model, tica_feature_matrix(features, t), t.frame_count, components)
                   : std::vector<double>{};
  };
  const AnalysisFrame frame = make_analysis_frame(
      reference,
      features.torsions.empty() ? heavy_internal_coordinates(reference.system).torsions : features.torsions);

  auto measure = [&](const std::string& name, const Trajectory& t) {
    MeasuredSet s;
    s.name = name;
    s.trajectory = &t;
    s.analysis = analyse_set(frame, t);
    s.tica = project(t);
    progress("analysed " + name + " (" + std::to_string(t.frame_count) + " frames)");
    return s;
  };
  const MeasuredSet ref = measure("reference", reference);
  const Trajectory oracle_base = slice(reference, 0, frames - oracle_frames);
  const Trajectory oracle_part = slice(reference, frames - oracle_frames, oracle_frames);
  const MeasuredSet oracle_ref = measure("md_oracle reference part", oracle_base);
  const MeasuredSet oracle = measure("md_oracle", oracle_part);
  const Trajectory trivial_trajectory = trivial_baseline(reference, frame.fit_atoms, options.seed);
  const MeasuredSet trivial = measure("trivial", trivial_trajectory);
  std::vector<MeasuredSet> sets;
  sets.reserve(generated.size());
  for (const auto& g : generated) sets.push_back(measure(g.label, *g.trajectory));

  std::vector<const MeasuredSet*> all = {&ref, &oracle_ref, &oracle, &trivial};
  for (const auto& s : sets) all.push_back(&s);
  const TicaBins bins = tica_bins(all, components);
  const bool phi_psi = !frame.backbone.residues.empty();

  // metrics.json fragments
  ordered_json result;
  result["reference"]["metrics"] = metrics_of(ref, ref, bins, phi_psi);
  result["generated"] = ordered_json::array();
  for (std::size_t g = 0; g < sets.size(); ++g)
    result["generated"].push_back({{"label", sets[g].name},
                                   {"file", generated[g].trajectory->path},
                                   {"frames", generated[g].trajectory->frame_count},
                                   {"metrics", metrics_of(sets[g], ref, bins, phi_psi)}});
  result["baselines"]["md_oracle"] = {
      {"description", "the reference's last " + std::to_string(oracle_frames) + " frames (fraction " +
                          csv_number(options.oracle_fraction) + ") against its first " +
                          std::to_string(frames - oracle_frames)},
      {"frames", oracle_frames},
      {"metrics", metrics_of(oracle, oracle_ref, bins, phi_psi)}};
  result["baselines"]["trivial"] = {
      {"description",
       "the reference's first frame plus Gaussian noise with the reference's per-atom RMSF "
       "(seed " +
           std::to_string(options.seed) + ")"},
      {"frames", trivial_trajectory.frame_count},
      {"metrics", metrics_of(trivial, ref, bins, phi_psi)}};
  ordered_json tica_info;
  tica_info["lag_frames"] = options.tica_lag;
  tica_info["lag_ps"] = number(options.tica_lag * frame_spacing_ps(reference));
  tica_info["features"] =
      features.torsions.empty() ? "heavy-atom pair distances" : "cos/sin of heavy-atom torsions";
  tica_info["feature_count"] = dim;
  tica_info["eigenvalues"] = ordered_json::array();
  for (int k = 0; k < std::min(dim, 5); ++k) tica_info["eigenvalues"].push_back(number(model.eigenvalues[k]));
  result["tica"] = tica_info;
  if (dim > 0 && frames - options.tica_lag < 2 * dim)
    notes.push_back("TICA has " + std::to_string(dim) + " features but only " +
                    std::to_string(frames - options.tica_lag) +
                    " lagged reference frame pairs: its components are poorly determined (use more frames)");
  if (!phi_psi) notes.push_back("no backbone phi/psi pairs (not a peptide): jsd_phi_psi is null");
  if (frame.ligand_atoms.empty())
    notes.push_back("no ligand molecule: ligand_pocket_rmsd_mean_A is null");
  else if (frame.pocket_atoms.empty())
    notes.push_back(
        "the ligand has no pocket (fewer than 3 other heavy atoms within 8 A): "
        "ligand_pocket_rmsd_mean_A is null");
  if (frame_spacing_ps(reference) <= 0)
    notes.push_back("the reference's times do not increase: decorrelation times are null");
  if (reference.path.find('+') != std::string::npos)
    notes.push_back(
        "several reference files are concatenated: TICA lag pairs and decorrelation lags span "
        "their joins");
  result["notes"] = notes;

  // CSV tables
  std::vector<const MeasuredSet*> columns = {&ref, &oracle, &trivial};
  for (const auto& s : sets) columns.push_back(&s);
  std::vector<const MeasuredSet*> rows = {&ref, &trivial};  // sets in per-set tables
  for (const auto& s : sets) rows.push_back(&s);
  auto histograms = [&](auto member) {
    std::vector<Histogram> h;
    for (const MeasuredSet* s : columns) h.push_back(s->analysis.*member);
    return h;
  };
  // A distribution is written when the reference has such values (ethanol has no heavy-atom torsion).
  if (ref.analysis.bond_length.total() > 0)
    write_distribution(out_dir, "distributions_bond_length.csv", columns,
                       histograms(&SetAnalysis::bond_length));
  if (ref.analysis.bond_angle.total() > 0)
    write_distribution(out_dir, "distributions_bond_angle.csv", columns,
                       histograms(&SetAnalysis::bond_angle));
  if (ref.analysis.torsion.total() > 0)
    write_distribution(out_dir, "distributions_torsion.csv", columns, histograms(&SetAnalysis::torsion));
  if (components >= 1) {
    std::vector<Histogram> h;
    for (const MeasuredSet* s : columns) h.push_back(tica0_histogram(*s, bins));
    write_distribution(out_dir, "distributions_tica0.csv", columns, h);
    std::ostringstream csv;
    csv << "set,frame,tica0,tica1\n";
    for (const MeasuredSet* s : rows)
      for (std::int64_t f = 0; f < s->trajectory->frame_count; ++f)
        csv << s->name << ',' << f << ',' << csv_number(s->tica[f * components]) << ','
            << (components > 1 ? csv_number(s->tica[f * components + 1]) : "") << '\n';
    write_csv(out_dir, "tica.csv", csv.str());
  }
  const System& system = reference.system;
  if (phi_psi) {
    std::ostringstream csv;
    csv << "set,residue,frame,phi_deg,psi_deg\n";
    const std::size_t pairs = frame.backbone.residues.size();
    for (const MeasuredSet* s : rows) {
      const std::int64_t n = s->trajectory->frame_count;
      const std::int64_t stride = std::max<std::int64_t>(
          1,
          static_cast<std::int64_t>((n * static_cast<long long>(pairs) + options.max_ramachandran_rows - 1) /
                                    options.max_ramachandran_rows));
      for (std::int64_t f = 0; f < n; f += stride)
        for (std::size_t p = 0; p < pairs; ++p)
          csv << s->name << ',' << residue_label(system, frame.backbone.residues[p]) << ',' << f << ','
              << csv_number(s->analysis.phi[f * pairs + p] * kRadToDeg) << ','
              << csv_number(s->analysis.psi[f * pairs + p] * kRadToDeg) << '\n';
    }
    write_csv(out_dir, "ramachandran.csv", csv.str());
  }
  {
    std::ostringstream csv;
    csv << header("residue_index,residue", rows);
    for (std::size_t k = 0; k < frame.rmsf_residues.size(); ++k) {
      csv << frame.rmsf_residues[k] << ',' << residue_label(system, frame.rmsf_residues[k]);
      for (const MeasuredSet* s : rows) csv << ',' << csv_number(s->analysis.rmsf_residue[k]);
      csv << '\n';
    }
    write_csv(out_dir, "rmsf.csv", csv.str());
  }
  {
    std::ostringstream csv;
    csv << "set,frame,time_ps,rmsd_A,rg_A,ligand_rmsd_A\n";
    for (const MeasuredSet* s : rows)
      for (std::int64_t f = 0; f < s->trajectory->frame_count; ++f)
        csv << s->name << ',' << f << ',' << csv_number(s->trajectory->time_ps[f]) << ','
            << csv_number(s->analysis.rmsd[f]) << ',' << csv_number(s->analysis.rg[f]) << ','
            << (s->analysis.ligand_rmsd.empty() ? "" : csv_number(s->analysis.ligand_rmsd[f])) << '\n';
    write_csv(out_dir, "timeseries.csv", csv.str());
  }
  {
    std::ostringstream csv;
    csv << header("torsion,atoms", columns);
    for (std::size_t k = 0; k < frame.decorrelation_torsions.size(); ++k) {
      const auto& q = frame.decorrelation_torsions[k];
      csv << k << ',' << atom_label(system, q[0]) << '-' << atom_label(system, q[1]) << '-'
          << atom_label(system, q[2]) << '-' << atom_label(system, q[3]);
      for (const MeasuredSet* s : columns) csv << ',' << csv_number(s->analysis.decorrelation_ps[k]);
      csv << '\n';
    }
    write_csv(out_dir, "torsion_decorrelation.csv", csv.str());
  }
  {
    std::ostringstream csv;
    csv << "metric,set,value\n";
    auto add = [&](const std::string& set, const ordered_json& metrics) {
      for (const auto& [key, value] : metrics.items())
        csv << key << ',' << set << ',' << (value.is_number() ? csv_number(value.get<double>()) : "") << '\n';
    };
    add("reference", result["reference"]["metrics"]);
    for (const auto& g : result["generated"]) add(g["label"].get<std::string>(), g["metrics"]);
    add("md_oracle", result["baselines"]["md_oracle"]["metrics"]);
    add("trivial", result["baselines"]["trivial"]["metrics"]);
    write_csv(out_dir, "metrics.csv", csv.str());
  }
  progress("structure metrics and tables written");
  return result.dump();
}

}  // namespace hemeplm::evaluate
