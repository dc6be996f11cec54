// The plotting script (tools/evaluate_plots.py) run through run_plot_script: real CSV files of the output
// contract, the real system Python with Debian's matplotlib, real PNG files; and every way the plotting
// stack can be absent, which must end up in PlotResult::missing instead of an exception.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "hemeplm/evaluate/report.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

constexpr const char* kSystemPython = "/usr/bin/python3";

/// Sets an environment variable for one test and restores the previous value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_.c_str(), old_->c_str(), 1);
    else
      unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

bool system_matplotlib_available() {
  const auto r = test::run_command({kSystemPython, "-c", "import numpy, matplotlib"});
  return r.exit_status == 0;
}

#define REQUIRE_MATPLOTLIB()          \
  if (!system_matplotlib_available()) \
  GTEST_SKIP() << kSystemPython << " has no numpy/matplotlib (apt-get install python3-matplotlib)"

/// A smooth deterministic pseudo-random value in [-1, 1].
double wave(int i, int salt) {
  return std::sin(0.37 * i + 1.3 * salt) * std::cos(0.11 * i * (salt + 1));
}

/// A normalised histogram column with its peak at `centre` (in bins).
std::vector<double> histogram(int bins, double centre) {
  std::vector<double> h(bins);
  double sum = 0;
  for (int b = 0; b < bins; ++b) sum += h[b] = std::exp(-0.5 * (b - centre) * (b - centre) / 16.0);
  for (auto& x : h) x /= sum;
  return h;
}

/// Every CSV file of the output contract (docs/evaluation.md), small, with two generated sets.
void write_contract_csv_files(const TempDir& dir) {
  const std::vector<std::string> labels = {"forecast", "diffusion"};
  const std::vector<std::string> sets = {"reference", "trivial", "forecast", "diffusion"};
  const std::pair<const char*, double> kinds[] = {
      {"bond_length", 90}, {"bond_angle", 1.5}, {"torsion", -3.1}, {"tica0", -2}};
  for (const auto& [kind, low] : kinds) {
    std::ostringstream csv;
    csv << "bin_center,reference,md_oracle,trivial,forecast,diffusion\n";
    std::vector<std::vector<double>> columns;
    for (int c = 0; c < 5; ++c) columns.push_back(histogram(30, 12 + c));
    for (int b = 0; b < 30; ++b) {
      csv << low + 0.1 * b;
      for (const auto& column : columns) csv << ',' << column[b];
      csv << '\n';
    }
    dir.write(std::string("distributions_") + kind + ".csv", csv.str());
  }
  std::ostringstream rama, tica, series, energy_sets;
  rama << "set,residue,frame,phi_deg,psi_deg\n";
  tica << "set,frame,tica0,tica1\n";
  series << "set,frame,time_ps,rmsd_A,rg_A,ligand_rmsd_A\n";
  for (std::size_t s = 0; s < sets.size(); ++s) {
    for (int f = 0; f < 60; ++f) {
      for (int r = 2; r < 4; ++r)
        rama << sets[s] << ",ALA" << r << ":A," << f << ',' << -70 + 40 * wave(f, r) << ','
             << -40 + 50 * wave(f, r + 7) << '\n';
      tica << sets[s] << ',' << f << ',' << wave(f, 1) + 0.2 * s << ',' << wave(f, 2) << '\n';
      series << sets[s] << ',' << f << ',' << 0.5 * f << ',' << 1 + wave(f, 3) << ',' << 9 + wave(f, 4)
             << ",\n";  // ligand_rmsd_A empty: no ligand
    }
  }
  dir.write("ramachandran.csv", rama.str());
  dir.write("tica.csv", tica.str());
  dir.write("timeseries.csv", series.str());
  std::ostringstream rmsf;
  rmsf << "residue_index,residue,reference,trivial,forecast,diffusion\n";
  for (int r = 0; r < 12; ++r)
    rmsf << r << ",GLY" << r + 1 << ":A," << 1 + 0.5 * wave(r, 1) << ',' << 1 + 0.5 * wave(r, 2) << ','
         << 1 + 0.5 * wave(r, 3) << ',' << 1 + 0.5 * wave(r, 4) << '\n';
  dir.write("rmsf.csv", rmsf.str());
  std::ostringstream frames, forces, residues;
  frames << "frame,true_kj_mol,predicted_kj_mol\n";
  forces << "frame,atom,component,true,predicted\n";
  residues << "frame,residue_index,residue,force_mae\n";
  for (int f = 0; f < 20; ++f) {
    frames << f << ',' << -1000 + 50 * wave(f, 5) << ',' << -1000 + 50 * wave(f, 5) + 5 * wave(f, 6) << '\n';
    for (int a = 0; a < 10; ++a)
      for (const char* c : {"x", "y", "z"})
        forces << f << ',' << a << ',' << c << ',' << 100 * wave(f * 10 + a, c[0]) << ','
               << 100 * wave(f * 10 + a, c[0]) + 8 * wave(a, f) << '\n';
    for (int r = 0; r < 12; ++r)
      residues << f << ',' << r << ",GLY" << r + 1 << ":A," << 5 + 3 * wave(f + r, 7) << '\n';
  }
  dir.write("energy_frames.csv", frames.str());
  dir.write("force_components.csv", forces.str());
  dir.write("residue_errors.csv", residues.str());
  energy_sets << "set,frame,energy_kj_mol\n";
  for (const char* set : {"reference (labels)", "reference (model)", "forecast", "diffusion"})
    for (int f = 0; f < 40; ++f)
      energy_sets << '"' << set << "\"," << f << ',' << -1000 + 40 * wave(f, 8) << '\n';
  dir.write("energy_distributions.csv", energy_sets.str());
}

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char signature[8] = {};
  in.read(signature, 8);
  return in.gcount() == 8 && std::string(signature, 8) == std::string("\x89PNG\r\n\x1a\n", 8);
}

TEST(PlotScript, DrawsEveryPlotOfTheContractAsPng) {
  REQUIRE_MATPLOTLIB();
  TempDir dir;
  write_contract_csv_files(dir);
  ScopedEnv script("HEMEPLM_PLOT_SCRIPT", std::nullopt);
  std::ostringstream log;
  const PlotResult plots = run_plot_script(dir.path().string(), kSystemPython, log);
  ASSERT_EQ(plots.missing, "") << log.str();
  const std::set<std::string> expected = {"plots/energy_parity.png",
                                          "plots/force_parity.png",
                                          "plots/residue_error_heatmap.png",
                                          "plots/energy_distributions.png",
                                          "plots/hist_bond_length.png",
                                          "plots/hist_bond_angle.png",
                                          "plots/hist_torsion.png",
                                          "plots/hist_tica0.png",
                                          "plots/ramachandran.png",
                                          "plots/fes_tica.png",
                                          "plots/rmsf.png",
                                          "plots/timeseries.png"};
  EXPECT_EQ(std::set<std::string>(plots.written.begin(), plots.written.end()), expected);
  EXPECT_EQ(plots.written.size(), expected.size());
  for (const auto& path : expected) {
    EXPECT_TRUE(is_png(dir.path() / path)) << path;
    EXPECT_GT(fs::file_size(dir.path() / path), 5000u) << path;  // a drawn figure, not an empty canvas
    EXPECT_NE(log.str().find("wrote " + path), std::string::npos) << log.str();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "plots" / "rmsf.png.partial"));
}

TEST(PlotScript, DrawsOnlyThePlotsWhoseCsvExists) {
  REQUIRE_MATPLOTLIB();
  TempDir dir;
  dir.write("rmsf.csv",
            "residue_index,residue,reference,trivial,gen\n0,ALA1:A,1.0,1.5,0.9\n1,GLY2:A,2,2.5,1.8\n");
  std::ostringstream log;
  const PlotResult plots = run_plot_script(dir.path().string(), kSystemPython, log);
  EXPECT_EQ(plots.missing, "");
  EXPECT_EQ(plots.written, std::vector<std::string>{"plots/rmsf.png"});
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() / "plots")) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
  EXPECT_NE(log.str().find("skipped fes_tica: no tica.csv"), std::string::npos) << log.str();
}

TEST(PlotScript, MalformedCsvNamesFileAndLine) {
  REQUIRE_MATPLOTLIB();
  TempDir dir;
  dir.write("rmsf.csv", "residue_index,residue,reference,trivial\n0,ALA1:A,1.0,1.5\n1,GLY2:A,abc,2.5\n");
  std::ostringstream log;
  const PlotResult plots = run_plot_script(dir.path().string(), kSystemPython, log);
  EXPECT_TRUE(plots.written.empty());
  EXPECT_EQ(plots.missing.rfind("the plotting script failed: ", 0), 0u) << plots.missing;
  EXPECT_NE(plots.missing.find("rmsf.csv: line 3: column reference: 'abc' is not a number"),
            std::string::npos)
      << plots.missing;

  // The script itself: exit status 1 and one line on stderr, for a short row and a header without columns.
  dir.write("rmsf.csv", "residue_index,residue,reference\n0,ALA1:A\n");
  auto r =
      test::run_command({kSystemPython, test::source_file("tools/evaluate_plots.py"), dir.path().string()});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("rmsf.csv: line 2: 2 fields, the header has 3"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  dir.write("rmsf.csv", "residue_index,reference\n0,1.0\n");
  r = test::run_command({kSystemPython, test::source_file("tools/evaluate_plots.py"), dir.path().string()});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("rmsf.csv: line 1: the header lacks column(s) residue"), std::string::npos) << r.err;
}

TEST(PlotScript, NoScriptIsReportedNotThrown) {
  TempDir dir;
  write_contract_csv_files(dir);
  ScopedEnv script("HEMEPLM_PLOT_SCRIPT", (dir.path() / "no-such-script.py").string());
  EXPECT_EQ(find_plot_script(), (dir.path() / "no-such-script.py").string());
  std::ostringstream log;
  PlotResult plots;
  EXPECT_NO_THROW(plots = run_plot_script(dir.path().string(), kSystemPython, log));
  EXPECT_TRUE(plots.written.empty());
  EXPECT_NE(plots.missing.find("no-such-script.py does not exist"), std::string::npos) << plots.missing;
  EXPECT_FALSE(fs::exists(dir.path() / "plots"));
}

TEST(PlotScript, NoPythonIsReportedNotThrown) {
  TempDir dir;
  write_contract_csv_files(dir);
  ScopedEnv script("HEMEPLM_PLOT_SCRIPT", std::nullopt);
  for (const std::string python : {"hemeplm-no-such-python3", "/nonexistent/bin/python3"}) {
    std::ostringstream log;
    PlotResult plots;
    EXPECT_NO_THROW(plots = run_plot_script(dir.path().string(), python, log));
    EXPECT_TRUE(plots.written.empty());
    EXPECT_EQ(plots.missing, python + " not found");
    EXPECT_NE(log.str().find(python + " not found"), std::string::npos) << log.str();
  }
}

TEST(PlotScript, PythonWithoutMatplotlibIsReportedAsMissingMatplotlib) {
  if (!fs::exists(kSystemPython)) GTEST_SKIP() << kSystemPython << " is absent";
  TempDir dir;
  write_contract_csv_files(dir);
  // A matplotlib package that fails to import, found first through PYTHONPATH: what a python3 without
  // python3-matplotlib looks like to the script.
  fs::create_directories(dir.path() / "fake" / "matplotlib");
  dir.write("fake/matplotlib/__init__.py", "raise ImportError('No module named matplotlib')\n");
  ScopedEnv path("PYTHONPATH", (dir.path() / "fake").string());
  const auto r =
      test::run_command({kSystemPython, test::source_file("tools/evaluate_plots.py"), dir.path().string()});
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("python3-matplotlib"), std::string::npos) << r.err;

  std::ostringstream log;
  const PlotResult plots = run_plot_script(dir.path().string(), kSystemPython, log);
  EXPECT_TRUE(plots.written.empty());
  EXPECT_EQ(plots.missing, "matplotlib is not installed (apt-get install python3-matplotlib)");
  EXPECT_FALSE(fs::exists(dir.path() / "plots"));
}

TEST(PlotScript, FindsTheSourceTreeScriptWithoutOverride) {
  ScopedEnv script("HEMEPLM_PLOT_SCRIPT", std::nullopt);
  const std::string found = find_plot_script();
  ASSERT_FALSE(found.empty());
  EXPECT_TRUE(fs::equivalent(found, test::source_file("tools/evaluate_plots.py"))) << found;
  ScopedEnv empty("HEMEPLM_PLOT_SCRIPT", std::string());  // set but empty: ignored
  EXPECT_EQ(find_plot_script(), found);
}

}  // namespace
}  // namespace hemeplm::evaluate
