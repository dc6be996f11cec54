// report.html from a metrics.json of the output contract: every metric key in the tables, sets and
// baselines as columns, the plots present, the missing-plots note, escaping, and its errors.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/report.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

const std::vector<std::string> kMetricKeys = {"jsd_bond_length",
                                              "jsd_bond_angle",
                                              "jsd_torsion",
                                              "jsd_tica0",
                                              "jsd_tica01",
                                              "jsd_phi_psi",
                                              "rmsd_mean_A",
                                              "rg_mean_A",
                                              "rmsf_mean_A",
                                              "ligand_pocket_rmsd_mean_A",
                                              "torsion_decorrelation_ps_median"};

json metrics_object(double scale) {
  json m = json::object();
  for (std::size_t k = 0; k < kMetricKeys.size(); ++k) m[kMetricKeys[k]] = scale * (0.0123456 + 0.1 * k);
  return m;
}

json example_metrics() {
  json j;
  j["format"] = "hemeplm-evaluate";
  j["format_version"] = 1;
  j["program"] = {
      {"name", "hemeplm"},
      {"version", "0.1.0"},
      {"command_line", "hemeplm evaluate --reference ref.h5md --generated forecast.h5md --out ev"}};
  j["reference"] = {{"files", {"ref.h5md"}}, {"frames", 500}, {"atoms", 1234}};
  json forecast = {{"label", "forecast"}, {"file", "forecast.h5md"}, {"frames", 200}};
  forecast["metrics"] = metrics_object(1.0);
  forecast["metrics"]["ligand_pocket_rmsd_mean_A"] = nullptr;
  json evil = {{"label", "<script>alert(1)</script>"}, {"file", "a&b.h5md"}, {"frames", 100}};
  evil["metrics"] = metrics_object(2.0);
  j["generated"] = {forecast, evil};
  j["baselines"]["md_oracle"] = {{"description", "held-out reference frames"},
                                 {"metrics", metrics_object(0.5)}};
  j["baselines"]["trivial"] = {{"description", "the first frame repeated"}, {"metrics", metrics_object(3.0)}};
  json residues = json::array();
  for (int r = 0; r < 25; ++r)
    residues.push_back({{"residue", "RES" + std::to_string(r) + ":A"}, {"force_mae", 1.0 + r * 0.5}});
  j["energy"] = {
      {"checkpoint", "model.ckpt"},
      {"frames", 500},
      {"energy",
       {{"mse", 4.0}, {"mae", 1.5}, {"rmse", 2.0}, {"r2", 0.987654}, {"pearson", 0.99}, {"count", 500}}},
      {"forces", {{"mae", 3.25}, {"rmse", 4.5}, {"r2", 0.9}, {"count", 1000}}},
      {"residues", residues},
      {"generated", {{{"label", "forecast"}, {"energy_mean", -1000.0}, {"energy_std", 25.0}}}}};
  j["plots"] = {{"written", json::array()}, {"missing", ""}};
  j["notes"] = {"torsion decorrelation needs at least 10 frames", "1 < 2 & 3 > 2"};
  return j;
}

std::string write_and_read(const TempDir& dir, const json& metrics, const PlotResult& plots) {
  write_report_html(dir.path().string(), metrics.dump(2), plots);
  EXPECT_FALSE(fs::exists(dir.path() / "report.html.partial"));
  return test::read_text((dir.path() / "report.html").string());
}

TEST(ReportHtml, ShowsEveryMetricWithSetsAndBaselinesSideBySide) {
  TempDir dir;
  PlotResult plots;
  plots.written = {"plots/rmsf.png", "plots/fes_tica.png"};
  const std::string html = write_and_read(dir, example_metrics(), plots);
  for (const auto& key : kMetricKeys) EXPECT_NE(html.find(">" + key + "<"), std::string::npos) << key;
  // The columns: generated sets in order, then the baselines.
  const auto forecast = html.find("<th>forecast</th>");
  const auto evil = html.find("<th>&lt;script&gt;alert(1)&lt;/script&gt;</th>");
  const auto oracle = html.find("<th class=\"baseline\">md_oracle</th>");
  const auto trivial = html.find("<th class=\"baseline\">trivial</th>");
  ASSERT_NE(forecast, std::string::npos);
  ASSERT_NE(evil, std::string::npos);
  ASSERT_NE(oracle, std::string::npos);
  ASSERT_NE(trivial, std::string::npos);
  EXPECT_LT(forecast, evil);
  EXPECT_LT(evil, oracle);
  EXPECT_LT(oracle, trivial);
  // The jsd_bond_length row: 4 significant digits per set, in column order.
  const std::regex row(
      "<td class=\"key\">jsd_bond_length</td><td>0\\.01235</td><td>0\\.02469</td>"
      "<td class=\"baseline\">0\\.006173</td><td class=\"baseline\">0\\.03704</td></tr>");
  EXPECT_TRUE(std::regex_search(html, row)) << html;
  // null is a dash, not "null" or 0.
  EXPECT_NE(html.find("<td class=\"key\">ligand_pocket_rmsd_mean_A</td><td>\u2013</td>"), std::string::npos);
  EXPECT_EQ(html.find(">null<"), std::string::npos);
  // Plots as relative images with captions; no note about missing plots.
  EXPECT_NE(html.find("<img src=\"plots/rmsf.png\""), std::string::npos);
  EXPECT_NE(html.find("<img src=\"plots/fes_tica.png\""), std::string::npos);
  EXPECT_NE(html.find("RMSF per residue"), std::string::npos);
  EXPECT_EQ(html.find("class=\"missing\""), std::string::npos);
  // Inputs, program and notes, escaped.
  EXPECT_NE(html.find("hemeplm evaluate --reference ref.h5md"), std::string::npos);
  EXPECT_NE(html.find("a&amp;b.h5md"), std::string::npos);
  EXPECT_NE(html.find("1 &lt; 2 &amp; 3 &gt; 2"), std::string::npos);
  EXPECT_NE(html.find("torsion decorrelation needs at least 10 frames"), std::string::npos);
  // Self-contained: no script, no external resources.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '<') - std::count(html.begin(), html.end(), '>'), 0);
}

TEST(ReportHtml, EnergySectionHasMetricsAndTheTwentyWorstResidues) {
  TempDir dir;
  const std::string html = write_and_read(dir, example_metrics(), PlotResult{});
  EXPECT_NE(html.find("<td class=\"key\">r2</td><td>0.9877</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"key\">mae</td><td>3.25</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"key\">pearson</td><td>0.99</td>"), std::string::npos);
  EXPECT_NE(html.find("top 20 of 25"), std::string::npos);
  // Residues 5..24 have the largest errors, the worst first; 0..4 are left out.
  const auto worst = html.find(">RES24:A<");
  const auto next = html.find(">RES23:A<");
  ASSERT_NE(worst, std::string::npos);
  ASSERT_NE(next, std::string::npos);
  EXPECT_LT(worst, next);
  EXPECT_NE(html.find(">RES5:A<"), std::string::npos);
  for (int r = 0; r < 5; ++r)
    EXPECT_EQ(html.find(">RES" + std::to_string(r) + ":A<"), std::string::npos) << r;
  EXPECT_NE(html.find("energy_mean"), std::string::npos);
  // Without a checkpoint there is no energy section.
  json no_energy = example_metrics();
  no_energy.erase("energy");
  const std::string plain = write_and_read(dir, no_energy, PlotResult{});
  EXPECT_EQ(plain.find("Energy head"), std::string::npos);
}

TEST(ReportHtml, MissingPlotsGiveAVisibleNoteAndNoImages) {
  TempDir dir;
  PlotResult plots;
  plots.missing = "matplotlib is not installed (apt-get install python3-matplotlib)";
  const std::string html = write_and_read(dir, example_metrics(), plots);
  EXPECT_NE(html.find("<div class=\"missing\">"), std::string::npos);
  EXPECT_NE(html.find("matplotlib is not installed (apt-get install python3-matplotlib)"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  for (const auto& key : kMetricKeys) EXPECT_NE(html.find(">" + key + "<"), std::string::npos) << key;

  plots.missing = "the plotting script failed: <b>x</b>";
  const std::string escaped = write_and_read(dir, example_metrics(), plots);
  EXPECT_NE(escaped.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(escaped.find("<b>x</b>"), std::string::npos);
}

TEST(ReportHtml, BadJsonOrFolderThrowsInputError) {
  TempDir dir;
  EXPECT_THROW(write_report_html(dir.path().string(), "{\"generated\": [", PlotResult{}), InputError);
  EXPECT_THROW(write_report_html(dir.path().string(), "[1, 2]", PlotResult{}), InputError);
  EXPECT_FALSE(fs::exists(dir.path() / "report.html"));
  try {
    write_report_html((dir.path() / "no" / "such" / "folder").string(), example_metrics().dump(),
                      PlotResult{});
    FAIL() << "no exception for a missing folder";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("report.html"), std::string::npos) << e.what();
  }
}

TEST(ReportHtml, RewritingReplacesTheOldReport) {
  TempDir dir;
  PlotResult plots;
  plots.written = {"plots/rmsf.png"};
  write_and_read(dir, example_metrics(), plots);
  const std::string second = write_and_read(dir, example_metrics(), PlotResult{});
  EXPECT_EQ(second.find("plots/rmsf.png"), std::string::npos);
}

}  // namespace
}  // namespace hemeplm::evaluate
