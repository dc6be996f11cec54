// Data-parallel training throughput of `hemeplm train` (Trainer): median step time, global samples/s
// and the share of the step spent in the bucketed gradient all-reduce, per model configuration, on
// denoising fragments of an 11,714-atom protein-ligand complex. An MPI program:
//
//   mpiexec -n R train-bench [--configs tiny,paper] [--steps 5] [--warmup 1] [--batch 1]
//       [--threads N] [--frames 4] [--fragment-residues 8] [--fragment-buffer 8] [--max-sample-atoms 4000]
//       [--paper-frames 2] [--paper-fragment-residues 1] [--paper-fragment-buffer 4]
//       [--structure PDB] [--ligand SDF] [--data FILE.h5md] [--dataset-frames 16]
//       [--max-case-seconds 900] [--workdir DIR] [--out FILE]
//
// Dataset: unless --data is given, the complex (../shared/data/big_1s63_ftase_proteinH.pdb + ligand
// big_1s63_ligand.sdf) is loaded and --dataset-frames frames (the structure plus independent Gaussian
// displacements of 0.05 Å per coordinate, fixed seed) are written collectively to an H5MD dataset in the
// work directory (a fresh /tmp/train-bench-XXXXXX, removed at the end unless --workdir is given).
//
// Per configuration (options --paper-* override the generic ones for `paper`, whose forward+backward
// needs ~23 MB per atom, docs/model.md):
//  1. The samples the trainer will draw are replayed with a TrainingData of the same options and seed
//     (same sampler, same comm): atoms per sample, fragment count; rank 0 also builds every fragment
//     to report their sizes and the load-balance efficiency mean / E[max of n draws] at n = 2..512
//     ranks if a sample's time were proportional to its atoms. Memory gate: ranks x the estimated
//     peak of the largest drawn sample must stay below 85 % of MemAvailable, else the case is skipped.
//  2. Warm-up: a Trainer runs --warmup steps (checkpoint at the end). Its last step time sets how many
//     measured steps fit in --max-case-seconds (at most --steps, at least 1).
//  3. Measurement: a second Trainer resumes from that checkpoint and runs the measured steps; the JSON-
//     lines log rows of those steps give step_s, samples_per_s (global) and allreduce_fraction (rank 0).
//  4. A pure all-reduce probe: after a barrier, MPI_Allreduce of the gradient size in 25 MiB float
//     buckets (median of 5), i.e. the all-reduce time without waiting for a slower rank. The trainer's
//     allreduce_fraction includes that wait (ranks draw fragments of different sizes).
// Also reported: CPU seconds per step and rank (getrusage) and the 1-minute load average, since the
// wall time on a shared machine depends on the other jobs. Stage 2 (temporal training), batch per rank
// --batch, no validation, no progress output, torch threads per rank --threads (0 = the trainer's
// default, cores / ranks on the node).
#include <mpi.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "hemeplm/train/trainer.hpp"
#include "hemeplm/train/training_data.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;
namespace pio = hemeplm::parallel_io;
namespace train = hemeplm::train;
using hemeplm::System;
using hemeplm::Vec3;

constexpr std::size_t kBucketBytes = 25u << 20;  // GradientAllReduce's default bucket size

struct FragmentSettings {
  int frames = 4;
  int core_residues = 8;
  double buffer = 8.0;
};

struct Args {
  std::vector<std::string> configs = {"tiny", "paper"};
  int steps = 5;
  int warmup = 1;
  int batch = 1;
  int threads = 0;  ///< torch threads per rank; 0 = the trainer's default (cores / ranks on the node)
  int max_sample_atoms = 4000;
  FragmentSettings generic{4, 8, 8.0};
  FragmentSettings paper{2, 1, 4.0};
  std::string structure = std::string(HEMEPLM_SHARED_DATA) + "/big_1s63_ftase_proteinH.pdb";
  std::string ligand = std::string(HEMEPLM_SHARED_DATA) + "/big_1s63_ligand.sdf";
  std::string data;
  int dataset_frames = 16;
  double max_case_seconds = 900;
  std::string workdir;
  std::string out;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) parts.push_back(item);
  }
  return parts;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw hemeplm::UsageError("train-bench: " + opt + " needs a value");
      return argv[++i];
    };
    if (opt == "--configs") {
      a.configs = split(value());
    } else if (opt == "--steps") {
      a.steps = std::max(1, std::stoi(value()));
    } else if (opt == "--warmup") {
      a.warmup = std::max(1, std::stoi(value()));
    } else if (opt == "--batch") {
      a.batch = std::max(1, std::stoi(value()));
    } else if (opt == "--threads") {
      a.threads = std::max(0, std::stoi(value()));
    } else if (opt == "--max-sample-atoms") {
      a.max_sample_atoms = std::stoi(value());
    } else if (opt == "--frames") {
      a.generic.frames = std::stoi(value());
    } else if (opt == "--fragment-residues") {
      a.generic.core_residues = std::stoi(value());
    } else if (opt == "--fragment-buffer") {
      a.generic.buffer = std::stod(value());
    } else if (opt == "--paper-frames") {
      a.paper.frames = std::stoi(value());
    } else if (opt == "--paper-fragment-residues") {
      a.paper.core_residues = std::stoi(value());
    } else if (opt == "--paper-fragment-buffer") {
      a.paper.buffer = std::stod(value());
    } else if (opt == "--structure") {
      a.structure = value();
    } else if (opt == "--ligand") {
      a.ligand = value();
    } else if (opt == "--data") {
      a.data = value();
    } else if (opt == "--dataset-frames") {
      a.dataset_frames = std::max(4, std::stoi(value()));
    } else if (opt == "--max-case-seconds") {
      a.max_case_seconds = std::stod(value());
    } else if (opt == "--workdir") {
      a.workdir = value();
    } else if (opt == "--out") {
      a.out = value();
    } else {
      throw hemeplm::UsageError(
          "train-bench: unknown option '" + opt +
          "' (--configs --steps --warmup --batch --threads --max-sample-atoms --frames "
          "--fragment-residues --fragment-buffer --paper-frames --paper-fragment-residues "
          "--paper-fragment-buffer --structure --ligand --data --dataset-frames "
          "--max-case-seconds --workdir --out)");
    }
  }
  return a;
}

double mem_available_gb() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemAvailable:", 0) == 0) return std::stod(line.substr(13)) / (1024.0 * 1024.0);
  }
  return 0;
}

double peak_rss_gb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / (1024.0 * 1024.0);
  }
  return 0;
}

/// Forward+backward peak per atom (GB) from docs/model.md (model-bench, T = 4): tiny 7.1 GB at 9,988
/// atoms, paper 11.5 GB at 489 atoms; other configurations are assumed to cost like paper.
double gb_per_atom(const std::string& config) {
  return config == "tiny" ? 7.1 / 9988 : 11.5 / 489;
}

/// CPU seconds (user + system) of this process so far.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

/// 1-minute load average: the machine is shared, so a step's wall time depends on the other jobs.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  in >> load;
  return load;
}

/// Load-balance efficiency of a synchronous step over n ranks when a sample's time is proportional to
/// its atoms and every rank draws one sample uniformly from `atoms`: mean / E[max of n draws], with
/// E[max] = sum_k a_(k) ((k/m)^n - ((k-1)/m)^n) over the sorted sizes a_(1..m).
double balance_efficiency(std::vector<int> atoms, int n) {
  if (atoms.empty()) return 1;
  std::sort(atoms.begin(), atoms.end());
  const double m = static_cast<double>(atoms.size());
  double mean = 0, expected_max = 0;
  for (std::size_t k = 1; k <= atoms.size(); ++k) {
    mean += atoms[k - 1] / m;
    expected_max += atoms[k - 1] * (std::pow(k / m, n) - std::pow((k - 1) / m, n));
  }
  return mean / expected_max;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void broadcast_string(std::string& s, MPI_Comm comm) {
  int length = static_cast<int>(s.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  s.resize(static_cast<std::size_t>(length));
  MPI_Bcast(s.data(), length, MPI_CHAR, 0, comm);
}

/// The structure plus `frames` frames of Gaussian displacements (sigma 0.05 Å), written collectively.
void write_dataset(const Args& args, const std::string& path, MPI_Comm comm, int& atoms_out) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  std::vector<std::string> ligands;
  if (!args.ligand.empty()) ligands.push_back(args.ligand);
  const System system = hemeplm::load_system({args.structure, ligands});
  const int n = system.atom_count();
  atoms_out = n;
  const pio::AtomRange owned = pio::owned_atoms(n, rank, ranks);
  pio::H5mdWriterOptions options;
  json provenance = {{"program", "train-bench"},
                     {"structure", args.structure},
                     {"ligands", ligands},
                     {"displacement_sigma_angstrom", 0.05}};
  options.provenance_json = provenance.dump();
  pio::H5mdWriter writer(comm, path, system, owned, options);
  writer.begin_trajectory("train-bench-gaussian-0.05A", 10.0);
  std::mt19937_64 rng(12345);  // every rank draws every atom: the same frames on any rank count
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<Vec3> positions(static_cast<std::size_t>(n));
  for (int f = 0; f < args.dataset_frames; ++f) {
    for (int i = 0; i < n; ++i) {
      const Vec3 d{noise(rng), noise(rng), noise(rng)};
      positions[static_cast<std::size_t>(i)] = system.positions[static_cast<std::size_t>(i)] + d;
    }
    pio::FrameView view;
    view.step = f * 5000;
    view.time_ps = 10.0 * f;
    view.positions =
        hemeplm::Span<const Vec3>(positions.data() + owned.first, static_cast<std::size_t>(owned.count));
    view.box = system.box ? &*system.box : nullptr;
    writer.append(view);
  }
  writer.close();
}

train::TrainingOptions training_options(const Args& args, const std::string& config,
                                        const FragmentSettings& f, const std::string& data,
                                        const fs::path& dir) {
  train::TrainingOptions o;
  o.data = {data};
  o.window_frames = f.frames;
  o.validation_fraction = 0;
  o.max_sample_atoms = args.max_sample_atoms;
  o.fragment_core_residues = f.core_residues;
  o.fragment_buffer = f.buffer;
  o.model = hemeplm::model::model_config(config);
  o.stage = 2;
  o.batch = args.batch;
  o.warmup_steps = 0;  // constant learning rate: the step count may differ between the two trainers
  o.decay = "constant";
  o.checkpoint_dir = (dir / "checkpoints").string();
  o.checkpoint_every = 1000000000;
  o.checkpoint_minutes = 0;
  o.keep_checkpoints = 1;
  o.log = (dir / "train.jsonl").string();
  o.progress = false;
  o.threads = args.threads;
  o.seed = 7;
  return o;
}

struct StepRow {
  std::int64_t step = 0;
  double step_s = 0, samples_per_s = 0, allreduce_fraction = 0;
};

std::vector<StepRow> read_log(const std::string& path, std::int64_t after_step) {
  std::vector<StepRow> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step_s") || !j.contains("step")) continue;
    StepRow r;
    r.step = j["step"].get<std::int64_t>();
    if (r.step <= after_step) continue;
    r.step_s = j["step_s"].get<double>();
    r.samples_per_s = j.value("samples_per_s", 0.0);
    r.allreduce_fraction = j.value("allreduce_fraction", 0.0);
    rows.push_back(r);
  }
  return rows;
}

/// Median seconds of an in-place float sum all-reduce of `bytes` in kBucketBytes buckets (5 repeats).
double allreduce_probe(std::int64_t bytes, MPI_Comm comm) {
  std::vector<float> buffer(static_cast<std::size_t>(std::min<std::int64_t>(bytes, kBucketBytes) / 4), 1.0f);
  std::vector<double> times;
  for (int r = 0; r < 6; ++r) {
    MPI_Barrier(comm);
    const auto t0 = Clock::now();
    for (std::int64_t left = bytes; left > 0; left -= static_cast<std::int64_t>(kBucketBytes)) {
      const int count = static_cast<int>(std::min<std::int64_t>(left, kBucketBytes) / 4);
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), count, MPI_FLOAT, MPI_SUM, comm);
    }
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r > 0) times.push_back(t);  // the first call sets up the connection
  }
  double m = median(times);
  MPI_Bcast(&m, 1, MPI_DOUBLE, 0, comm);
  return m;
}

json run_case(const Args& args, const std::string& config, const std::string& data, const fs::path& root,
              MPI_Comm comm) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const FragmentSettings f = config == "paper" ? args.paper : args.generic;
  const fs::path dir = root / ("case-" + config + "-" + std::to_string(ranks) + "ranks");
  if (rank == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  MPI_Barrier(comm);
  json c;
  c["config"] = config;
  c["ranks"] = ranks;
  c["frames"] = f.frames;
  c["batch_per_rank"] = args.batch;
  c["fragment_core_residues"] = f.core_residues;
  c["fragment_buffer_angstrom"] = f.buffer;
  c["max_sample_atoms"] = args.max_sample_atoms;
  train::TrainingOptions options = training_options(args, config, f, data, dir);
  const auto t_case = Clock::now();

  // 1. Replay the draws of warm-up + measured steps: atoms per sample on every rank.
  const int draws = (args.warmup + args.steps) * args.batch;
  std::vector<int> my_atoms;
  int fragments = 0, largest_fragment = 0;
  {
    train::TrainingData replay(train::training_data_options(options), comm);
    fragments = replay.fragment_count();
    largest_fragment = replay.max_atoms();
    for (int k = 0; k < draws; ++k) my_atoms.push_back(replay.load(replay.next()).input.atom_count());
  }
  std::vector<int> all_atoms(static_cast<std::size_t>(draws * ranks));
  MPI_Allgather(my_atoms.data(), draws, MPI_INT, all_atoms.data(), draws, MPI_INT, comm);
  // Measured steps only: rank r's draws [warmup*batch, draws).
  std::vector<double> measured_atoms;
  int max_drawn = 0;
  for (int r = 0; r < ranks; ++r) {
    for (int k = 0; k < draws; ++k) {
      const int a = all_atoms[static_cast<std::size_t>(r * draws + k)];
      max_drawn = std::max(max_drawn, a);
      if (k >= args.warmup * args.batch) measured_atoms.push_back(a);
    }
  }
  // Size (core + buffer atoms) of every fragment the sampler draws from, and the load balance it implies.
  if (rank == 0) {
    const train::TrainingDataOptions d = train::training_data_options(options);
    const System system = pio::H5mdReader(data).read_system();
    std::vector<int> sizes;
    if (system.atom_count() > d.max_sample_atoms) {
      for (const auto& fragment : hemeplm::decomposition::make_denoise_fragments(system, d.fragments))
        sizes.push_back(static_cast<int>(fragment.core.size() + fragment.buffer.size()));
    } else {
      sizes.push_back(system.atom_count());
    }
    std::vector<double> as_double(sizes.begin(), sizes.end());
    c["fragment_atoms"] = {
        {"median", median(as_double)},
        {"mean", std::accumulate(as_double.begin(), as_double.end(), 0.0) / as_double.size()},
        {"min", *std::min_element(sizes.begin(), sizes.end())},
        {"max", *std::max_element(sizes.begin(), sizes.end())}};
    json balance;
    for (int n : {2, 8, 64, 512}) balance[std::to_string(n)] = balance_efficiency(sizes, n);
    c["balance_efficiency_if_time_proportional_to_atoms"] = balance;
  }
  c["fragments"] = fragments;
  c["largest_fragment_atoms"] = largest_fragment;
  c["atoms_per_sample"] = {{"median", median(measured_atoms)},
                           {"min", *std::min_element(measured_atoms.begin(), measured_atoms.end())},
                           {"max", *std::max_element(measured_atoms.begin(), measured_atoms.end())}};
  c["atoms_per_sample_all_draws_by_rank"] = all_atoms;

  // Memory gate (single node: every rank on this machine).
  double available = mem_available_gb();
  MPI_Bcast(&available, 1, MPI_DOUBLE, 0, comm);
  const double estimate = gb_per_atom(config) * max_drawn * std::max(1.0, f.frames / 4.0) * args.batch;
  c["estimated_peak_gb_per_rank"] = estimate;
  c["mem_available_gb"] = available;
  if (ranks * estimate > 0.85 * available) {
    c["skipped"] = "estimated " + std::to_string(ranks * estimate) + " GB for " + std::to_string(ranks) +
                   " rank(s) > 85 % of " + std::to_string(available) + " GB available";
    return c;
  }

  // 2. Warm-up trainer (ends with a checkpoint).
  std::int64_t trainable = 0;
  options.steps = args.warmup;
  {
    train::Trainer trainer(options, comm, nullptr);
    trainable = trainer.trainable_parameters();
    trainer.run();
  }
  double warm_step = 0;
  if (rank == 0) {
    const auto rows = read_log(options.log, 0);
    warm_step = rows.empty() ? 0 : rows.back().step_s;
  }
  MPI_Bcast(&warm_step, 1, MPI_DOUBLE, 0, comm);
  const double spent = std::chrono::duration<double>(Clock::now() - t_case).count();
  int measured = args.steps;
  if (warm_step > 0) {
    const double fit = std::floor((args.max_case_seconds - spent) / (1.2 * warm_step));
    measured = static_cast<int>(std::clamp(fit, 1.0, static_cast<double>(args.steps)));
  }
  MPI_Bcast(&measured, 1, MPI_INT, 0, comm);
  c["warmup_steps"] = args.warmup;
  c["warmup_last_step_s"] = warm_step;
  c["measured_steps"] = measured;
  if (measured < args.steps) c["note"] = "measured steps cut by --max-case-seconds";

  // 3. Measured steps: resume from the warm-up checkpoint.
  options.steps = args.warmup + measured;
  options.resume = true;
  const double load_before = load_average();
  double cpu_run = 0, wall_run = 0;
  {
    train::Trainer trainer(options, comm, nullptr);
    const double cpu0 = cpu_seconds();
    const auto wall0 = Clock::now();
    trainer.run();
    cpu_run = cpu_seconds() - cpu0;
    wall_run = std::chrono::duration<double>(Clock::now() - wall0).count();
  }
  double cpu_sum = 0;
  MPI_Reduce(&cpu_run, &cpu_sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm);
  // Per rank and measured step, including the checkpoint the trainer writes at its last step.
  c["cpu_s_per_step_rank_mean"] = cpu_sum / ranks / measured;
  c["wall_s_per_step_incl_checkpoint"] = wall_run / measured;
  c["load_average_1min"] = {{"before", load_before}, {"after", load_average()}};
  double peak = peak_rss_gb(), peak_max = 0;
  MPI_Reduce(&peak, &peak_max, 1, MPI_DOUBLE, MPI_MAX, 0, comm);

  // 4. Pure all-reduce of the gradient size.
  const std::int64_t gradient_bytes = trainable * 4;  // float32
  const double probe = allreduce_probe(gradient_bytes, comm);

  c["trainable_parameters"] = trainable;
  c["gradient_bytes"] = gradient_bytes;
  c["buckets"] = (gradient_bytes + static_cast<std::int64_t>(kBucketBytes) - 1) /
                 static_cast<std::int64_t>(kBucketBytes);
  c["peak_rss_gb_max_rank"] = peak_max;
  c["allreduce_probe_s"] = probe;
  if (rank == 0) {
    const auto rows = read_log(options.log, args.warmup);
    std::vector<double> step_s, sps, frac, comm_s;
    json per_step = json::array();
    for (const auto& r : rows) {
      step_s.push_back(r.step_s), sps.push_back(r.samples_per_s), frac.push_back(r.allreduce_fraction);
      comm_s.push_back(r.step_s * r.allreduce_fraction);
      per_step.push_back({{"step", r.step},
                          {"step_s", r.step_s},
                          {"samples_per_s", r.samples_per_s},
                          {"allreduce_fraction", r.allreduce_fraction}});
    }
    c["steps"] = per_step;
    c["step_s_median"] = median(step_s);
    c["step_s_min"] = step_s.empty() ? 0 : *std::min_element(step_s.begin(), step_s.end());
    c["step_s_max"] = step_s.empty() ? 0 : *std::max_element(step_s.begin(), step_s.end());
    c["samples_per_s_median"] = median(sps);
    c["allreduce_fraction_median"] = median(frac);
    c["allreduce_s_median"] = median(comm_s);
    c["compute_s_median"] = median(step_s) - median(comm_s);
  }
  c["case_seconds"] = std::chrono::duration<double>(Clock::now() - t_case).count();
  return c;
}

std::string fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

void print_table(const json& report, std::ostream& out) {
  out << "\ntrain-bench: " << report["ranks"].get<int>() << " rank(s), "
      << report["threads_per_rank"].get<int>() << " torch thread(s) per rank, "
      << report["system_atoms"].get<int>() << "-atom system\n";
  out << "config  ranks  T  atoms/sample (med, min-max)  steps  step s (med)  samples/s  all-reduce  "
         "allreduce probe  cpu s/step  params      grad MB  peak GB\n";
  for (const auto& c : report["cases"]) {
    out << c["config"].get<std::string>()
        << std::string(8 - std::min<std::size_t>(7, c["config"].get<std::string>().size()), ' ')
        << c["ranks"].get<int>() << "      " << c["frames"].get<int>() << "  ";
    const auto& a = c["atoms_per_sample"];
    out << fixed(a["median"].get<double>(), 0) << " (" << a["min"].get<double>() << "-"
        << a["max"].get<double>() << ")    ";
    if (c.contains("skipped")) {
      out << "skipped: " << c["skipped"].get<std::string>() << "\n";
      continue;
    }
    out << c["measured_steps"].get<int>() << "      " << fixed(c["step_s_median"].get<double>(), 3)
        << "        " << fixed(c["samples_per_s_median"].get<double>(), 3) << "      "
        << fixed(100 * c["allreduce_fraction_median"].get<double>(), 2) << " %     "
        << fixed(1e3 * c["allreduce_probe_s"].get<double>(), 2) << " ms         "
        << fixed(c["cpu_s_per_step_rank_mean"].get<double>(), 3) << "       "
        << c["trainable_parameters"].get<std::int64_t>() << "  "
        << fixed(c["gradient_bytes"].get<std::int64_t>() / 1e6, 1) << "     "
        << fixed(c["peak_rss_gb_max_rank"].get<double>(), 2) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  int status = 0;
  std::string root_to_remove;
  try {
    const Args args = parse(argc, argv);
    hemeplm::decomposition::KokkosRuntime kokkos(1);
    // Work directory: rank 0 creates it, everyone uses the same path (one node).
    std::string workdir = args.workdir;
    if (rank == 0) {
      if (workdir.empty()) {
        char pattern[] = "/tmp/train-bench-XXXXXX";
        if (!mkdtemp(pattern)) throw hemeplm::Error("train-bench: cannot create a directory in /tmp");
        workdir = pattern;
        root_to_remove = workdir;
      } else {
        fs::create_directories(workdir);
      }
    }
    broadcast_string(workdir, MPI_COMM_WORLD);
    const fs::path root(workdir);

    json report;
    report["benchmark"] = "train-bench";
    report["ranks"] = ranks;
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    report["cores"] = cores;
    report["threads_per_rank"] = args.threads > 0 ? args.threads : std::max(1, cores / ranks);
    report["stage"] = 2;
    report["dtype"] = "float32";
    report["backend"] = "mpi";

    std::string data = args.data;
    int system_atoms = 0;
    const auto t0 = Clock::now();
    if (data.empty()) {
      data = (root / "train-bench.h5md").string();
      write_dataset(args, data, MPI_COMM_WORLD, system_atoms);
      report["dataset"] = {{"structure", args.structure},
                           {"ligand", args.ligand},
                           {"frames", args.dataset_frames},
                           {"displacement_sigma_angstrom", 0.05},
                           {"write_seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
    } else {
      system_atoms = pio::H5mdReader(data).atom_count();
      report["dataset"] = {{"file", data}};
    }
    report["system_atoms"] = system_atoms;
    report["cases"] = json::array();
    for (const auto& config : args.configs) {
      if (rank == 0) std::cerr << "train-bench: " << config << " at " << ranks << " rank(s)...\n";
      report["cases"].push_back(run_case(args, config, data, root, MPI_COMM_WORLD));
    }
    if (rank == 0) {
      print_table(report, std::cout);
      if (!args.out.empty()) {
        std::ofstream out(args.out);
        out << report.dump(2) << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "train-bench (rank " << rank << "): " << e.what() << "\n";
    status = 1;
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0 && !root_to_remove.empty()) {
    std::error_code ignored;
    fs::remove_all(root_to_remove, ignored);
  }
  MPI_Finalize();
  return status;
}
