// Benchmark of the `hemeplm fragment` pipeline on real systems: loading (readers, bonds, features),
// denoising fragments, METIS domains, cost estimate and the 4-rank plan. Target (issue 2): 1S63 +
// ligand (11,714 atoms) with 4 ranks in under 10 s on one core, imbalance <= 1.15.
// Run: build/release/bench/fragment-bench --benchmark_out=fragment.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"

namespace {

namespace dc = hemeplm::decomposition;

std::string data(const std::string& name) {
  const auto p = std::filesystem::path(HEMEPLM_SHARED_DATA) / name;
  return std::filesystem::exists(p) ? p.string() : std::string();
}

hemeplm::SystemSources sources_for(int which) {
  if (which == 0) return {data("big_1s63_ftase_proteinH.pdb"), {data("big_1s63_ligand.sdf")}};
  return {data("big_dhfr_solvated_23558.pdb"), {}};
}

bool available(const hemeplm::SystemSources& s, benchmark::State& state) {
  bool ok = !s.structure.empty();
  for (const auto& l : s.ligands) ok = ok && !l.empty();
  if (!ok) state.SkipWithError("../shared/data is absent");
  return ok;
}

void BM_LoadSystem(benchmark::State& state) {
  const auto sources = sources_for(static_cast<int>(state.range(0)));
  if (!available(sources, state)) return;
  int atoms = 0;
  for (auto _ : state) atoms = hemeplm::load_system(sources).atom_count();
  state.counters["atoms"] = atoms;
}

void BM_FragmentPipeline(benchmark::State& state) {
  const auto sources = sources_for(static_cast<int>(state.range(0)));
  if (!available(sources, state)) return;
  const hemeplm::System system = hemeplm::load_system(sources);
  double imbalance = 0;
  std::size_t fragments = 0;
  for (auto _ : state) {
    auto plan = dc::make_denoise_fragments(system, dc::DenoiseOptions{});
    const auto domains = dc::partition_domains(system, dc::DomainOptions{});
    dc::estimate_costs(plan, dc::find_neighbors(system.positions, 5.0, system.box));
    imbalance = dc::imbalance(dc::assign_ranks(plan, 4));
    fragments = plan.size();
    benchmark::DoNotOptimize(domains);
  }
  state.counters["atoms"] = system.atom_count();
  state.counters["fragments"] = static_cast<double>(fragments);
  state.counters["imbalance_4_ranks"] = imbalance;
}

// Argument 0: 1S63 + ligand (11,714 atoms); 1: solvated DHFR (23,558 atoms).
BENCHMARK(BM_LoadSystem)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_FragmentPipeline)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  hemeplm::decomposition::KokkosRuntime kokkos;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
