// Collective H5MD write throughput against a raw sequential write of the same bytes to the same disk.
// Run by hand: mpiexec -n 2 build/bench/h5md-write-bench [--frames 2000] [--chunk 32] [--rounds 3] [--dir
// DIR]
//                                                         [--json OUT.json] [--random]
// The system is ../shared/data/big_dhfr_solvated_23558.pdb read with load_system (23,558 atoms), or
// --random coordinates for as many atoms when that file is absent. Both timings include getting the
// bytes to the disk: the H5MD file is flushed (MPI_File_sync) after every chunk and fsync'ed after
// close; dd runs with conv=fsync. Big files are deleted afterwards.
#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/h5md.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace pio = hemeplm::parallel_io;

struct Options {
  long frames = 2000;
  int chunk = 32;
  std::string dir = ".";
  std::string json = "h5md_write_bench.json";
  bool random = false;
  int rounds = 3;  ///< interleaved H5MD and dd runs; the ratio is of their medians
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--frames")
      o.frames = std::stol(next());
    else if (a == "--chunk")
      o.chunk = std::stoi(next());
    else if (a == "--rounds")
      o.rounds = std::max(1, std::stoi(next()));
    else if (a == "--dir")
      o.dir = next();
    else if (a == "--json")
      o.json = next();
    else if (a == "--random")
      o.random = true;
  }
  return o;
}

hemeplm::System bench_system(bool random) {
  const std::string pdb = std::string(HEMEPLM_SHARED_DATA) + "/big_dhfr_solvated_23558.pdb";
  if (!random && std::filesystem::exists(pdb)) return hemeplm::load_system({pdb, {}});
  // Random coordinates in a 62 Å box, as many atoms as the solvated DHFR system, all carbon atoms in
  // one residue (the writer needs a topology, not chemistry).
  hemeplm::System system;
  const int n = 23558;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 62.0);
  system.residues.push_back({"UNK", 1, ' ', 0, 0, n, hemeplm::ResidueKind::kLigand, 0});
  system.chains.push_back({"A", 0, 1});
  system.molecules.push_back({hemeplm::MoleculeKind::kOther, "UNK", {0}, n});
  for (int i = 0; i < n; ++i) {
    system.positions.push_back({u(rng), u(rng), u(rng)});
    system.atomic_numbers.push_back(6);
    system.atom_names.push_back("C");
    system.atom_residue.push_back(0);
    system.formal_charges.push_back(0);
    system.origins.push_back({});
  }
  return system;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const Options options = parse(argc, argv);
  const hemeplm::System system = bench_system(options.random);
  const int n = system.atom_count();
  const pio::AtomRange owned = pio::owned_atoms(n, rank, size);
  const std::string h5md = (std::filesystem::path(options.dir) / "h5md_write_bench.h5md").string();
  const std::string raw = (std::filesystem::path(options.dir) / "h5md_write_bench.raw").string();

  pio::H5mdWriterOptions writer_options;
  writer_options.chunk_frames = options.chunk;
  writer_options.observables = {"potential_energy"};
  std::vector<hemeplm::Vec3> positions(system.positions.begin() + owned.first,
                                       system.positions.begin() + owned.first + owned.count);
  const std::vector<double> energy{-1.0e5};
  hemeplm::Box box;
  box.vectors = {hemeplm::Vec3{62, 0, 0}, hemeplm::Vec3{0, 62, 0}, hemeplm::Vec3{0, 0, 62}};

  // One H5MD run: create, append every frame, close, fsync. Collective; every rank gets the time.
  double create_seconds = 0, append_seconds = 0;  // parts of the last H5MD run, for the report
  auto time_h5md = [&] {
    if (rank == 0) sync();  // no dirty pages of an earlier run still being written back
    MPI_Barrier(MPI_COMM_WORLD);
    const Clock::time_point start = Clock::now();
    {
      pio::H5mdWriter writer(MPI_COMM_WORLD, h5md, system, owned, writer_options);
      create_seconds = seconds_since(start);
      for (long f = 0; f < options.frames; ++f) {
        for (hemeplm::Vec3& p : positions) p.x += 1e-3;  // frames differ; costs < 1% of the write
        pio::FrameView view;
        view.step = f;
        view.time_ps = 0.1 * f;
        view.positions = positions;
        view.box = &box;
        view.observables = energy;
        writer.append(view);
      }
      append_seconds = seconds_since(start) - create_seconds;
      writer.close();
    }
    if (rank == 0) {  // close() wrote the index with the serial driver: make that durable too
      const int fd = open(h5md.c_str(), O_RDONLY);
      fsync(fd);
      close(fd);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return seconds_since(start);
  };
  const double payload = static_cast<double>(options.frames) * n * 3 * sizeof(float);
  const long blocks = static_cast<long>(payload / (4 << 20)) + 1;
  const double dd_bytes = static_cast<double>(blocks) * (4 << 20);
  int dd_status = 0;
  // The same number of bytes written sequentially by dd and synced once: the disk's streaming speed.
  auto time_dd = [&] {
    const std::string dd =
        "dd if=/dev/zero of=" + raw + " bs=4M count=" + std::to_string(blocks) + " conv=fsync status=none";
    sync();
    const Clock::time_point start = Clock::now();
    dd_status |= std::system(dd.c_str());
    return seconds_since(start);
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };

  // Interleaved rounds, so that both see the same state of a shared, noisy disk.
  std::vector<double> h5md_runs, dd_runs;
  for (int round = 0; round < options.rounds; ++round) {
    h5md_runs.push_back(time_h5md());
    if (rank == 0) dd_runs.push_back(time_dd());
    MPI_Barrier(MPI_COMM_WORLD);
  }

  if (rank == 0) {
    const double h5md_seconds = median(h5md_runs), dd_seconds = median(dd_runs);
    const double h5md_mb_s = payload / h5md_seconds / 1e6, dd_mb_s = dd_bytes / dd_seconds / 1e6;
    const double file_bytes = static_cast<double>(std::filesystem::file_size(h5md));
    auto list = [](const std::vector<double>& v) {
      std::string t;
      for (double x : v) t += (t.empty() ? "" : ", ") + std::to_string(x);
      return "[" + t + "]";
    };
    char text[2048];
    std::snprintf(
        text, sizeof text,
        "{\"ranks\": %d, \"atoms\": %d, \"frames\": %ld, \"chunk_frames\": %d, \"flush_interval_s\": %.1f, "
        "\"system\": \"%s\",\n \"rounds\": %d, \"h5md_seconds_runs\": %s, \"dd_seconds_runs\": %s,\n"
        " \"h5md_payload_bytes\": %.0f, \"h5md_file_bytes\": %.0f, \"h5md_seconds\": %.3f, "
        "\"h5md_MB_per_s\": %.1f,\n \"dd_bytes\": %.0f, \"dd_seconds\": %.3f, \"dd_MB_per_s\": %.1f, "
        "\"dd_status\": %d,\n \"h5md_create_seconds\": %.3f, \"h5md_append_seconds\": %.3f, \"ratio\": "
        "%.3f}\n",
        size, n, options.frames, options.chunk, writer_options.flush_interval_s,
        options.random ? "random 23558 atoms" : "big_dhfr_solvated_23558.pdb", options.rounds,
        list(h5md_runs).c_str(), list(dd_runs).c_str(), payload, file_bytes, median(h5md_runs), h5md_mb_s,
        dd_bytes, dd_seconds, dd_mb_s, dd_status, create_seconds, append_seconds, h5md_mb_s / dd_mb_s);
    std::fputs(text, stdout);
    std::ofstream(options.json) << text;
    std::filesystem::remove(h5md);
    std::filesystem::remove(raw);
  }
  MPI_Finalize();
  return 0;
}
