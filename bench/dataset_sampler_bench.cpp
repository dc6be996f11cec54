// Training-data throughput: (trajectory, window, fragment) samples per second drawn by
// ShardedWindowSampler and read by DatasetReader from an H5MD dataset of 2,000 frames of solvated
// alanine dipeptide (2,269 atoms, ../shared/data/ala2_explicit_openmm.pdb) in 4 trajectories of 500
// frames, windows of 8 frames. The dataset (~110 MB: positions and forces) is written once at start-up
// into $TMPDIR and removed at exit; it stays in the page cache, so this measures the HDF5 and
// gathering cost per sample, not the disk.
// Run: build/release/bench/dataset-sampler-bench --benchmark_out=sampler.json --benchmark_out_format=json
#include <benchmark/benchmark.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/dataset_reader.hpp"

namespace {

namespace pio = hemeplm::parallel_io;
using hemeplm::Vec3;

constexpr int kWindow = 8;
constexpr int kFragmentAtoms = 500;
constexpr int kFragments = 16;

/// The bench dataset: written by main() before the benchmarks run.
struct Dataset {
  std::string path;
  hemeplm::System system;
  std::vector<std::vector<int>> fragments;  ///< kFragments spatial neighbourhoods of kFragmentAtoms atoms
};

const Dataset* g_dataset = nullptr;  // set once in main(), read-only afterwards

void write_dataset(Dataset& d, const std::string& source) {
  d.system = hemeplm::load_system({source, {}});
  const int n = d.system.atom_count();
  pio::H5mdWriterOptions options;
  options.forces = true;
  pio::H5mdWriter writer(MPI_COMM_SELF, d.path, d.system, {0, n}, options);
  std::vector<Vec3> positions(static_cast<std::size_t>(n)), forces(static_cast<std::size_t>(n));
  for (int t = 0; t < 4; ++t) {
    writer.begin_trajectory("bench-" + std::to_string(t) + ".dcd", 0.2);
    for (int f = 0; f < 500; ++f) {
      const std::int64_t frame = 500 * t + f;
      for (int i = 0; i < n; ++i) {
        const double phase = 0.01 * static_cast<double>(frame) + i;
        positions[static_cast<std::size_t>(i)] = d.system.positions[static_cast<std::size_t>(i)] +
                                                 Vec3{0.1 * std::sin(phase), 0.1 * std::cos(phase), 0.05};
        forces[static_cast<std::size_t>(i)] = Vec3{std::cos(phase), 0.0, -std::sin(phase)};
      }
      pio::FrameView view;
      view.step = frame * 100;
      view.time_ps = 0.2 * static_cast<double>(frame);
      view.positions = positions;
      view.forces = forces;
      view.box = d.system.box ? &*d.system.box : nullptr;
      writer.append(view);
    }
  }
  writer.close();
  // Fragments as the decomposition makes them: the atoms nearest to a centre, as sorted index lists
  // (solute plus the surrounding waters: scattered over the whole index range).
  for (int k = 0; k < kFragments; ++k) {
    const Vec3 centre = d.system.positions[static_cast<std::size_t>((k * 997) % n)];
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    const auto distance = [&](int i) {
      const Vec3 p = d.system.positions[static_cast<std::size_t>(i)];
      return (p.x - centre.x) * (p.x - centre.x) + (p.y - centre.y) * (p.y - centre.y) +
             (p.z - centre.z) * (p.z - centre.z);
    };
    std::nth_element(order.begin(), order.begin() + kFragmentAtoms, order.end(),
                     [&](int a, int b) { return distance(a) < distance(b); });
    order.resize(kFragmentAtoms);
    std::sort(order.begin(), order.end());
    d.fragments.push_back(order);
  }
}

pio::ShardedWindowSampler make_sampler(const pio::DatasetReader& reader, int fragments) {
  return pio::ShardedWindowSampler(reader.trajectories(), kWindow, 1, fragments, 12345, 0, 1);
}

/// Sampler alone: the cost of next() (including the reshuffle every epoch).
void BM_SamplerNext(benchmark::State& state) {
  pio::DatasetReader reader(g_dataset->path, kWindow);
  pio::ShardedWindowSampler sampler = make_sampler(reader, kFragments);
  for (auto _ : state) benchmark::DoNotOptimize(sampler.next());
  state.SetItemsProcessed(state.iterations());
}

/// Whole system (2,269 atoms x 8 frames), positions or positions + forces.
void BM_WholeSystemWindow(benchmark::State& state) {
  const bool with_forces = state.range(0) != 0;
  pio::DatasetReader reader(g_dataset->path, kWindow);
  pio::ShardedWindowSampler sampler = make_sampler(reader, 1);
  const int n = reader.atom_count();
  std::vector<Vec3> positions(static_cast<std::size_t>(kWindow * n)), forces(positions.size());
  for (auto _ : state) {
    const pio::WindowSample sample = sampler.next();
    reader.read(sample, pio::AtomRange{0, n}, pio::DatasetQuantity::kPositions, positions);
    if (with_forces) reader.read(sample, pio::AtomRange{0, n}, pio::DatasetQuantity::kForces, forces);
    benchmark::DoNotOptimize(positions.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["atoms"] = n;
}

/// A 500-atom contiguous range (one hyperslab), for comparison with scattered fragments.
void BM_RangeWindow500(benchmark::State& state) {
  pio::DatasetReader reader(g_dataset->path, kWindow);
  pio::ShardedWindowSampler sampler = make_sampler(reader, kFragments);
  std::vector<Vec3> positions(static_cast<std::size_t>(kWindow * kFragmentAtoms));
  for (auto _ : state) {
    const pio::WindowSample sample = sampler.next();
    const int first = (sample.fragment * 131) % (reader.atom_count() - kFragmentAtoms);
    reader.read(sample, pio::AtomRange{first, kFragmentAtoms}, pio::DatasetQuantity::kPositions, positions);
    benchmark::DoNotOptimize(positions.data());
  }
  state.SetItemsProcessed(state.iterations());
}

/// A 500-atom spatial fragment (scattered index list) read with max_gap = range(0).
void BM_FragmentWindow500(benchmark::State& state) {
  const int max_gap = static_cast<int>(state.range(0));
  pio::DatasetReader reader(g_dataset->path, kWindow);
  pio::ShardedWindowSampler sampler = make_sampler(reader, kFragments);
  std::vector<Vec3> positions(static_cast<std::size_t>(kWindow * kFragmentAtoms));
  for (auto _ : state) {
    const pio::WindowSample sample = sampler.next();
    const std::vector<int>& atoms = g_dataset->fragments[static_cast<std::size_t>(sample.fragment)];
    reader.read(sample, atoms, pio::DatasetQuantity::kPositions, positions, max_gap);
    benchmark::DoNotOptimize(positions.data());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_SamplerNext);
BENCHMARK(BM_WholeSystemWindow)->Arg(0)->Arg(1)->ArgName("forces");
BENCHMARK(BM_RangeWindow500);
BENCHMARK(BM_FragmentWindow500)->Arg(0)->Arg(16)->Arg(128)->Arg(512)->Arg(1 << 30)->ArgName("max_gap");

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const std::filesystem::path source =
      std::filesystem::path(HEMEPLM_SHARED_DATA) / "ala2_explicit_openmm.pdb";
  if (!std::filesystem::exists(source)) {
    std::fprintf(stderr, "dataset-sampler-bench: %s is absent\n", source.string().c_str());
    MPI_Finalize();
    return 1;
  }
  int status = 0;
  {
    Dataset dataset;
    dataset.path = (std::filesystem::temp_directory_path() /
                    ("hemeplm-sampler-bench-" + std::to_string(::getpid()) + ".h5md"))
                       .string();
    write_dataset(dataset, source.string());
    g_dataset = &dataset;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
      status = 1;
    } else {
      benchmark::RunSpecifiedBenchmarks();
    }
    g_dataset = nullptr;
    std::filesystem::remove(dataset.path);
  }
  MPI_Finalize();
  return status;
}
