// report.html of 'hemeplm evaluate': one self-contained page (inline CSS, no script, no external URL) with
// the metrics of metrics.json, generated sets and baselines side by side, and the plots present.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/report.hpp"

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;
// ordered_json keeps metrics.json's member order, which the tables follow.
using json = nlohmann::ordered_json;
/// Flattened metric values in their first-seen order.
using FlatValues = std::vector<std::pair<std::string, json>>;

constexpr const char* kNull = "\u2013";  // en dash for an absent value (JSON null)
constexpr std::size_t kTopResidues = 20;

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
     max-width:1150px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f0f0f0} td.key,th.key{text-align:left;font-family:ui-monospace,Menlo,Consolas,monospace}
th.baseline,td.baseline{background:#f7f7fb;color:#444} th.reference{background:#e8f0e8}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em} dt{font-weight:600} dd{margin:0}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;word-break:break-all}
.missing{border:2px solid #c0392b;background:#fdecea;color:#7b241c;padding:.8em 1em;border-radius:6px;
         font-weight:600;margin:1em 0}
figure{display:inline-block;margin:.5em 1em 1em 0;vertical-align:top;max-width:100%}
figure img{max-width:100%;border:1px solid #ddd} figcaption{font-size:.9em;color:#444;max-width:800px}
.caption{color:#555;font-size:.9em}
)";

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A JSON value as escaped HTML text: numbers with 4 significant digits (integers as they are), null as
/// a dash, arrays of scalars joined by spaces.
std::string text_of(const json& value) {
  if (value.is_null()) return kNull;
  if (value.is_number_integer()) return value.dump();
  if (value.is_number()) {
    const double x = value.get<double>();
    if (!std::isfinite(x)) return kNull;
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", x);
    return buffer;
  }
  if (value.is_string()) return escape(value.get<std::string>());
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value) joined += (joined.empty() ? "" : " ") + text_of(item);
    return joined;
  }
  return escape(value.dump());
}

/// Scalar members of a metrics object, nested objects flattened to "outer.inner" keys.
void flatten(const json& object, const std::string& prefix, FlatValues& out) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_object())
      flatten(value, prefix + key + ".", out);
    else
      out.emplace_back(prefix + key, value);
  }
}

struct MetricsColumn {
  std::string name;
  bool baseline = false;
  FlatValues values;

  const json* find(const std::string& key) const {
    for (const auto& [k, v] : values)
      if (k == key) return &v;
    return nullptr;
  }
};

/// The table group of a metric key: divergences, structure, dynamics, the rest.
int group_of(const std::string& key) {
  if (key.rfind("jsd_", 0) == 0) return 0;
  if (key.size() > 2 && key.compare(key.size() - 2, 2, "_A") == 0) return 1;
  if (key.find("_ps") != std::string::npos || key.find("decorrelation") != std::string::npos) return 2;
  return 3;
}

constexpr const char* kGroupTitles[] = {
    "Distributions: Jensen–Shannon divergence to the reference (0 = identical, ln 2 = disjoint)",
    "Structure (Å)", "Dynamics", "Other metrics"};

void write_metrics_tables(std::ostream& html, const json& metrics) {
  std::vector<MetricsColumn> columns;
  if (metrics.contains("generated") && metrics["generated"].is_array()) {
    for (const auto& set : metrics["generated"]) {
      MetricsColumn column;
      column.name = set.value("label", std::string("generated"));
      if (set.contains("metrics") && set["metrics"].is_object()) flatten(set["metrics"], "", column.values);
      columns.push_back(std::move(column));
    }
  }
  if (metrics.contains("baselines") && metrics["baselines"].is_object()) {
    // md_oracle and trivial first, in that order, then any other baseline.
    std::vector<std::string> names;
    for (const char* known : {"md_oracle", "trivial"})
      if (metrics["baselines"].contains(known)) names.emplace_back(known);
    for (const auto& [name, unused] : metrics["baselines"].items())
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    for (const auto& name : names) {
      const json& baseline = metrics["baselines"][name];
      MetricsColumn column;
      column.name = name;
      column.baseline = true;
      if (baseline.is_object() && baseline.contains("metrics") && baseline["metrics"].is_object())
        flatten(baseline["metrics"], "", column.values);
      columns.push_back(std::move(column));
    }
  }
  html << "<h2>Metrics</h2>\n";
  if (columns.empty()) {
    html << "<p>metrics.json has no generated sets or baselines.</p>\n";
    return;
  }
  std::vector<std::pair<std::string, int>> keys;  // key -> group, in first-seen order
  for (const auto& column : columns)
    for (const auto& [key, unused] : column.values)
      if (std::none_of(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; }))
        keys.emplace_back(key, group_of(key));
  html << "<p class=\"caption\">Columns: the generated sets, then the baselines (shaded; Inputs above says "
          "what each baseline is). A dash: the metric does not apply.</p>\n";
  for (int group = 0; group < 4; ++group) {
    if (std::none_of(keys.begin(), keys.end(), [&](const auto& k) { return k.second == group; })) continue;
    html << "<h3>" << escape(kGroupTitles[group]) << "</h3>\n<table>\n<tr><th class=\"key\">metric</th>";
    for (const auto& column : columns)
      html << "<th" << (column.baseline ? " class=\"baseline\"" : "") << ">" << escape(column.name)
           << "</th>";
    html << "</tr>\n";
    for (const auto& [key, key_group] : keys) {
      if (key_group != group) continue;
      html << "<tr><td class=\"key\">" << escape(key) << "</td>";
      for (const auto& column : columns) {
        const json* found = column.find(key);
        html << "<td" << (column.baseline ? " class=\"baseline\"" : "") << ">"
             << (found ? text_of(*found) : std::string(kNull)) << "</td>";
      }
      html << "</tr>\n";
    }
    html << "</table>\n";
  }
}

void write_key_value_table(std::ostream& html, const json& object) {
  html << "<table>\n";
  FlatValues values;
  flatten(object, "", values);
  for (const auto& [key, value] : values)
    html << "<tr><td class=\"key\">" << escape(key) << "</td><td>" << text_of(value) << "</td></tr>\n";
  html << "</table>\n";
}

/// An array of objects as a table; columns are the union of the keys in first-seen order.
void write_records_table(std::ostream& html, const std::vector<const json*>& records) {
  std::vector<std::string> header;
  for (const json* record : records)
    for (const auto& [key, unused] : record->items())
      if (std::find(header.begin(), header.end(), key) == header.end()) header.push_back(key);
  html << "<table>\n<tr>";
  for (const auto& key : header) html << "<th>" << escape(key) << "</th>";
  html << "</tr>\n";
  for (const json* record : records) {
    html << "<tr>";
    for (const auto& key : header) {
      const bool text = record->contains(key) && (*record)[key].is_string();
      html << "<td" << (text ? " class=\"key\"" : "") << ">"
           << (record->contains(key) ? text_of((*record)[key]) : std::string(kNull)) << "</td>";
    }
    html << "</tr>\n";
  }
  html << "</table>\n";
}

void write_energy_section(std::ostream& html, const json& energy) {
  html << "<h2>Energy head against the reference labels</h2>\n";
  static const std::map<std::string, std::string> captions = {
      {"energy", "Energy per frame (kJ/mol): predicted against the reference labels"},
      {"forces", "Force components (kJ/mol/Å): predicted against the reference labels"}};
  json summary = json::object();
  for (const auto& [key, value] : energy.items())
    if (!value.is_object() && !value.is_array()) summary[key] = value;
  if (!summary.empty()) write_key_value_table(html, summary);
  for (const char* group : {"energy", "forces"}) {
    if (!energy.contains(group) || !energy[group].is_object()) continue;
    html << "<h3>" << escape(captions.at(group)) << "</h3>\n";
    write_key_value_table(html, energy[group]);
  }
  for (const auto& [key, value] : energy.items()) {
    if (value.is_object() && !captions.count(key)) {
      html << "<h3>" << escape(key) << "</h3>\n";
      write_key_value_table(html, value);
    }
  }
  if (energy.contains("residues") && energy["residues"].is_array()) {
    std::vector<const json*> residues;
    for (const auto& r : energy["residues"])
      if (r.is_object()) residues.push_back(&r);
    const auto error_of = [](const json* r) {
      return r->contains("force_mae") && (*r)["force_mae"].is_number() ? (*r)["force_mae"].get<double>()
                                                                       : -1.0;
    };
    std::stable_sort(residues.begin(), residues.end(),
                     [&](const json* a, const json* b) { return error_of(a) > error_of(b); });
    const std::size_t total = residues.size();
    if (residues.size() > kTopResidues) residues.resize(kTopResidues);
    html << "<h3>Residues with the largest force error (top " << residues.size() << " of " << total
         << ", force MAE in kJ/mol/Å)</h3>\n";
    write_records_table(html, residues);
  }
  if (energy.contains("generated") && energy["generated"].is_array()) {
    std::vector<const json*> sets;
    for (const auto& s : energy["generated"])
      if (s.is_object()) sets.push_back(&s);
    if (!sets.empty()) {
      html << "<h3>Model energies on the generated frames (kJ/mol)</h3>\n";
      write_records_table(html, sets);
    }
  }
  if (energy.contains("notes") && energy["notes"].is_array() && !energy["notes"].empty()) {
    html << "<ul>\n";
    for (const auto& note : energy["notes"]) html << "<li>" << text_of(note) << "</li>\n";
    html << "</ul>\n";
  }
}

std::string caption_of(const std::string& path) {
  static const std::map<std::string, std::string> captions = {
      {"energy_parity", "Predicted against true energy per reference frame; the dashed line is y = x."},
      {"force_parity", "Predicted against true force components; the dashed line is y = x."},
      {"residue_error_heatmap", "Per-residue force MAE (kJ/mol/Å), frames × residues."},
      {"energy_distributions",
       "Energy distributions: reference labels, the model on reference frames and "
       "the model on each generated set."},
      {"hist_bond_length", "Bond-length distributions (pm): reference, generated sets and baselines."},
      {"hist_bond_angle", "Bond-angle distributions (rad): reference, generated sets and baselines."},
      {"hist_torsion", "Torsion-angle distributions (rad): reference, generated sets and baselines."},
      {"hist_tica0", "Distributions of the first TICA component: reference, generated sets and baselines."},
      {"ramachandran", "Ramachandran plots (φ, ψ in degrees) per set."},
      {"fes_tica", "Free-energy surfaces −ln p on TICA-0/1 (kT, minimum 0) per set, on one common grid."},
      {"rmsf", "RMSF per residue (Å)."},
      {"timeseries", "RMSD, radius of gyration and ligand RMSD (Å) against time."}};
  const std::string stem = fs::path(path).stem().string();
  const auto found = captions.find(stem);
  return found == captions.end() ? stem : found->second;
}

void write_plots_section(std::ostream& html, const PlotResult& plots) {
  html << "<h2>Plots</h2>\n";
  if (!plots.missing.empty())
    html << "<div class=\"missing\">Plots are missing: " << escape(plots.missing)
         << ". The metrics above and the CSV files are complete; install python3-matplotlib and run "
            "<code>python3 evaluate_plots.py DIR</code> (or the evaluation again) to draw them.</div>\n";
  if (plots.written.empty() && plots.missing.empty())
    html << "<p>No plots were drawn: the evaluation wrote no data to plot.</p>\n";
  for (const auto& path : plots.written) {
    const std::string caption = caption_of(path);
    html << "<figure><img src=\"" << escape(path) << "\" alt=\"" << escape(caption) << "\"><figcaption>"
         << escape(caption) << " <code>" << escape(path) << "</code></figcaption></figure>\n";
  }
}

void write_inputs(std::ostream& html, const json& metrics) {
  if (metrics.contains("program") && metrics["program"].is_object()) {
    html << "<h2>Program</h2>\n<dl>\n";
    for (const auto& [key, value] : metrics["program"].items())
      html << "<dt>" << escape(key) << "</dt><dd><code>" << text_of(value) << "</code></dd>\n";
    html << "</dl>\n";
  }
  html << "<h2>Inputs</h2>\n";
  if (metrics.contains("reference") && metrics["reference"].is_object()) {
    const json& reference = metrics["reference"];
    html << "<h3>Reference</h3>\n<dl>\n";
    for (const auto& [key, value] : reference.items())
      html << "<dt>" << escape(key) << "</dt><dd><code>" << text_of(value) << "</code></dd>\n";
    html << "</dl>\n";
  }
  if (metrics.contains("generated") && metrics["generated"].is_array() && !metrics["generated"].empty()) {
    html << "<h3>Generated sets</h3>\n<table>\n<tr><th class=\"key\">label</th><th class=\"key\">file</th>"
            "<th>frames</th></tr>\n";
    for (const auto& set : metrics["generated"]) {
      const auto field = [&](const char* key) {
        return set.contains(key) ? text_of(set[key]) : std::string(kNull);
      };
      html << "<tr><td class=\"key\">" << field("label") << "</td><td class=\"key\">" << field("file")
           << "</td><td>" << field("frames") << "</td></tr>\n";
    }
    html << "</table>\n";
  }
  if (metrics.contains("baselines") && metrics["baselines"].is_object()) {
    html << "<h3>Baselines</h3>\n<dl>\n";
    for (const auto& [name, baseline] : metrics["baselines"].items())
      html << "<dt>" << escape(name) << "</dt><dd>"
           << (baseline.is_object() && baseline.contains("description") ? text_of(baseline["description"])
                                                                        : std::string(kNull))
           << "</dd>\n";
    html << "</dl>\n";
  }
}

}  // namespace

void write_report_html(const std::string& out_dir, const std::string& metrics_json, const PlotResult& plots) {
  const std::string metrics_path = (fs::path(out_dir) / "metrics.json").string();
  json metrics;
  try {
    metrics = json::parse(metrics_json);
  } catch (const json::exception& e) {
    throw InputError(metrics_path, "not valid JSON: " + one_line(e.what()));
  }
  if (!metrics.is_object()) throw InputError(metrics_path, "not a JSON object");

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>hemeplm evaluate report</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
       << "<h1>hemeplm evaluate report</h1>\n";
  html << "<p class=\"caption\">Generated trajectories against reference MD. Every number here is also in "
          "<code>metrics.json</code> and <code>metrics.csv</code>; the plots' data are the CSV files of "
          "this folder.</p>\n";
  if (!plots.missing.empty())
    html << "<div class=\"missing\">No plots: " << escape(plots.missing) << " (see Plots below).</div>\n";
  write_inputs(html, metrics);
  write_metrics_tables(html, metrics);
  if (metrics.contains("energy") && metrics["energy"].is_object())
    write_energy_section(html, metrics["energy"]);
  write_plots_section(html, plots);
  if (metrics.contains("notes") && metrics["notes"].is_array() && !metrics["notes"].empty()) {
    html << "<h2>Notes</h2>\n<ul>\n";
    for (const auto& note : metrics["notes"]) html << "<li>" << text_of(note) << "</li>\n";
    html << "</ul>\n";
  }
  html << "</body>\n</html>\n";

  // A reader never sees half a report, and a failed write leaves the previous one.
  write_file_atomically((fs::path(out_dir) / "report.html").string(), html.str());
}

}  // namespace hemeplm::evaluate
