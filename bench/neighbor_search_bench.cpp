// Neighbour search scaling: the Kokkos cell list on 1k, 10k and 100k atoms of a real protein (1S63,
// farnesyltransferase with hydrogens, 11,685 atoms) replicated on a 3D grid, cutoff 5 Å, plus the O(N^2)
// reference at 1k for contrast. Prints time(100k) / time(10k); linear scaling gives ~10 (target <= 12).
//
//   neighbor-search-bench [--pdb FILE] [--json FILE] [Google Benchmark flags, e.g.
//                          --benchmark_out=FILE --benchmark_out_format=json]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"

namespace {

using hemeplm::Vec3;
using hemeplm::decomposition::NeighborList;

constexpr double kCutoff = 5.0;  // Å
constexpr double kGap = 10.0;    // Å between replicas: more than the cutoff, so copies do not touch

// Fallback reader: x, y, z from the fixed columns 31-54 of ATOM/HETATM records of the first model.
std::vector<Vec3> read_pdb_columns(const std::string& path) {
  std::ifstream in(path);
  std::vector<Vec3> positions;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ENDMDL", 0) == 0) break;
    if ((line.rfind("ATOM", 0) == 0 || line.rfind("HETATM", 0) == 0) && line.size() >= 54) {
      positions.push_back(
          {std::stod(line.substr(30, 8)), std::stod(line.substr(38, 8)), std::stod(line.substr(46, 8))});
    }
  }
  return positions;
}

struct Structure {
  std::string source;
  std::vector<Vec3> positions;
};

Structure load_structure(const std::string& path) {
  try {
    hemeplm::SystemSources sources;
    sources.structure = path;
    return {path + " (load_system)", hemeplm::load_system(sources).positions};
  } catch (const std::exception& error) {
    std::cerr << "note: load_system failed (" << error.what() << "); reading PDB columns directly\n";
  }
  std::vector<Vec3> positions = read_pdb_columns(path);
  if (!positions.empty()) return {path + " (fixed-column read)", positions};
  // Without the data folder: uniform atoms at protein density (0.1 / Å^3), so the program still runs.
  std::cerr << "note: " << path << " not readable; using a synthetic 11,685-atom system\n";
  std::mt19937_64 random(1);
  const double side = std::cbrt(11685 / 0.1);
  std::uniform_real_distribution<double> u(0, side);
  positions.resize(11685);
  for (Vec3& p : positions) p = {u(random), u(random), u(random)};
  return {"synthetic uniform", positions};
}

// The first `atoms` atoms of copies of `unit` laid out on a cubic grid with kGap between bounding
// boxes: 1k and 10k are the start of the protein chain, 100k is 8 copies plus part of a 9th.
std::vector<Vec3> replicate(const std::vector<Vec3>& unit, std::size_t atoms) {
  Vec3 lo = unit.front(), hi = unit.front();
  for (const Vec3& p : unit) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
  }
  const Vec3 pitch = hi - lo + Vec3{kGap, kGap, kGap};
  const std::size_t copies = (atoms + unit.size() - 1) / unit.size();
  const int side = static_cast<int>(std::ceil(std::cbrt(static_cast<double>(copies)) - 1e-9));
  std::vector<Vec3> out;
  out.reserve(atoms);
  for (std::size_t c = 0; out.size() < atoms; ++c) {
    const Vec3 shift{pitch.x * static_cast<double>(c % side), pitch.y * static_cast<double>(c / side % side),
                     pitch.z * static_cast<double>(c / side / side)};
    for (std::size_t i = 0; i < unit.size() && out.size() < atoms; ++i) out.push_back(unit[i] + shift);
  }
  return out;
}

void set_counters(benchmark::State& state, const std::vector<Vec3>& positions, const NeighborList& list) {
  state.counters["atoms"] = static_cast<double>(positions.size());
  state.counters["edges"] = static_cast<double>(list.edge_count());
  state.counters["edges_per_atom"] =
      static_cast<double>(list.edge_count()) / static_cast<double>(positions.size());
}

using Search = NeighborList (*)(hemeplm::Span<const Vec3>, double, const std::optional<hemeplm::Box>&);

// One benchmark: `search` on the first state.range(0) atoms of the replicated unit.
void run_search(benchmark::State& state, const std::vector<Vec3>& unit, Search search) {
  const std::vector<Vec3> positions = replicate(unit, static_cast<std::size_t>(state.range(0)));
  NeighborList list;
  for (auto _ : state) {
    list = search(positions, kCutoff, std::nullopt);
    benchmark::DoNotOptimize(list.neighbors.data());
  }
  set_counters(state, positions, list);
}

struct Measured {
  double atoms = 0, edges = 0;
  std::vector<double> seconds;  ///< per-iteration wall time of each repetition
  /// Median over repetitions: the machines are shared, and one slow repetition must not decide.
  double median_seconds() const {
    std::vector<double> s = seconds;
    std::sort(s.begin(), s.end());
    const std::size_t n = s.size();
    return n == 0 ? 0.0 : (n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]));
  }
};

// Console output as usual, plus the per-iteration wall time of each benchmark for the summary.
class Recorder : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred || run.iterations == 0) continue;
      Measured& m = measured[run.benchmark_name()];
      m.seconds.push_back(run.real_accumulated_time / static_cast<double>(run.iterations));
      if (auto it = run.counters.find("atoms"); it != run.counters.end()) m.atoms = it->second;
      if (auto it = run.counters.find("edges"); it != run.counters.end()) m.edges = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, Measured> measured;
};

}  // namespace

int main(int argc, char** argv) {
  // Our own options are taken out before Google Benchmark sees (and rejects) them.
  std::string pdb = std::string(HEMEPLM_SHARED_DATA) + "/big_1s63_ftase_proteinH.pdb";
  std::string json_path;
  std::vector<char*> rest = {argv[0]};
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--json") == 0 && a + 1 < argc) {
      json_path = argv[++a];
    } else if (std::strcmp(argv[a], "--pdb") == 0 && a + 1 < argc) {
      pdb = argv[++a];
    } else {
      rest.push_back(argv[a]);
    }
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_count, rest.data())) return 2;

  hemeplm::decomposition::KokkosRuntime kokkos;  // never given argv: Kokkos 3 would eat --threads
  const Structure structure = load_structure(pdb);
  const std::vector<Vec3>& unit = structure.positions;
  benchmark::RegisterBenchmark(
      "BM_CellList",
      [&unit](benchmark::State& state) { run_search(state, unit, &hemeplm::decomposition::find_neighbors); })
      ->Arg(1000)
      ->Arg(10000)
      ->Arg(100000)
      ->Unit(benchmark::kMillisecond)
      ->Repetitions(5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_BruteForce",
                               [&unit](benchmark::State& state) {
                                 run_search(state, unit, &hemeplm::decomposition::find_neighbors_brute_force);
                               })
      ->Arg(1000)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  std::cout << "structure: " << structure.source << ", " << structure.positions.size() << " atoms; cutoff "
            << kCutoff << " Å; " << hemeplm::decomposition::KokkosRuntime::description() << "\n";

  Recorder recorder;
  benchmark::RunSpecifiedBenchmarks(&recorder);
  benchmark::Shutdown();

  // Names carry the argument and options ("BM_CellList/10000/repeats:5/real_time").
  auto find_run = [&recorder](const std::string& prefix) {
    auto it = recorder.measured.lower_bound(prefix);
    return it != recorder.measured.end() && it->first.compare(0, prefix.size(), prefix) == 0
               ? it
               : recorder.measured.end();
  };
  const auto small = find_run("BM_CellList/10000/");
  const auto large = find_run("BM_CellList/100000/");
  double ratio = std::nan("");
  if (small != recorder.measured.end() && large != recorder.measured.end() &&
      small->second.median_seconds() > 0) {
    ratio = large->second.median_seconds() / small->second.median_seconds();
    std::printf("time(100k) / time(10k) = %.2f, medians of %zu repetitions (linear: 10, target <= 12): %s\n",
                ratio, large->second.seconds.size(), ratio <= 12 ? "ok" : "ABOVE TARGET");
  }

  if (!json_path.empty()) {
    nlohmann::json summary;
    summary["structure"] = structure.source;
    summary["cutoff_angstrom"] = kCutoff;
    summary["kokkos"] = hemeplm::decomposition::KokkosRuntime::description();
    summary["runs"] = nlohmann::json::array();
    for (const auto& [name, m] : recorder.measured) {
      summary["runs"].push_back({{"name", name},
                                 {"atoms", m.atoms},
                                 {"edges", m.edges},
                                 {"seconds", m.median_seconds()},
                                 {"repetitions", m.seconds.size()}});
    }
    summary["ratio_100k_over_10k"] = std::isnan(ratio) ? nlohmann::json() : nlohmann::json(ratio);
    summary["ratio_target"] = 12;
    std::ofstream out(json_path);
    out << summary.dump(2) << "\n";
    if (!out) {
      std::cerr << "neighbor-search-bench: cannot write " << json_path << "\n";
      return 1;
    }
  }
  return 0;
}
