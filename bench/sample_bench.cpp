// Sampling throughput of `hemeplm sample` (run_sampling, DecomposedModel) on >10k-atom systems. An MPI
// program run by hand; one JSON document with a record per case:
//
//   mpiexec -n R sample-bench [--cases forecast,rolling,step-scaling,rank-speedup,vs-md,paper-memory]
//       [--frames 100] [--steps 10] [--window 8] [--diffusion-steps 1000] [--repeats 3] [--copies 9]
//       [--threads N] [--keep-freed-memory 1] [--max-batch-atoms 20000] [--paper-max-batch-atoms 4000]
//       [--max-case-seconds 900]
//       [--md-reference md_reference.json] [--structure PDB --ligand SDF --solvated PDB] [--out FILE]
//
//  forecast      run_sampling (forecast, --frames, --steps denoising steps) of 1S63 and solvated DHFR;
//                a one-block probe first sets how many frames fit in --max-case-seconds.
//  rolling       1S63: run_sampling forecast of 2 (T - 1) frames with the block sampler at T - 1 denoising
//                steps and with --rolling at T - 1 levels (the same model calls per frame once warm): the
//                rolling sampler's per-call overhead on a large system (it re-encodes the context every
//                call); frames/s of each and their ratio.
//  step-scaling  DecomposedModel::epsilon after begin_block (median of --repeats) on 1S63 and on
//                replicate_system(1S63, --copies); ratio of the two (target <= 11 for 9 copies).
//  paper-memory  `paper` on the replicated system: peak RSS per rank over begin_block + one epsilon
//                (target <= 16 GB), batches of --paper-max-batch-atoms.
//  rank-speedup  one torch thread per rank: --repeats epsilon steps on rank 0 alone (MPI_COMM_SELF), then
//                on every rank; speed-up t1 / tR (target >= 1.7 at 2 ranks).
//  vs-md         `paper`, DDPM with the checkpoint's diffusion steps: begin_block + seconds per step
//                extrapolated to a block, simulated ns/day at dt = 10 ps per frame, over the MD engines'
//                ns/day on the same protein from bench/md_reference.py (--md-reference).
//
// Weights are random (seeded), with the denoiser's parameters scaled by 0.1: random denoisers at full
// scale are chaotic and sampling stops on non-finite values. Timings do not depend on the weights; the
// frames are not physical. Every timing is recorded with the 1-minute load average (shared machine).
#include <mpi.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/core/system_replicate.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/sample/decomposed_model.hpp"
#include "hemeplm/sample/sampler.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/model_state.hpp"
#include "hemeplm/train/training_checkpoint.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
namespace sample = hemeplm::sample;
using hemeplm::System;

constexpr double kDtPs = 10.0;  // the checkpoint's time between frames

struct Args {
  std::vector<std::string> cases = {"forecast", "step-scaling", "rank-speedup", "vs-md", "paper-memory"};
  std::int64_t frames = 100, steps = 10, window = 8, diffusion_steps = 1000;
  int repeats = 3, copies = 9, threads = 0;
  std::int64_t max_batch_atoms = 20000, paper_max_batch_atoms = 4000;
  double max_case_seconds = 900;
  std::string data = HEMEPLM_SHARED_DATA;
  std::string structure = data + "/big_1s63_ftase_proteinH.pdb", ligand = data + "/big_1s63_ligand.sdf";
  std::string solvated = data + "/big_dhfr_solvated_23558.pdb";
  std::string md_reference, out;
  bool keep_freed = true;  ///< keep_freed_tensor_memory(), as hemeplm sample does (0: measure without it)
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) parts.push_back(item);
  return parts;
}

Args parse(int argc, char** argv) {
  Args a;
  const auto to_int = [](const std::string& v) { return std::stoll(v); };
  const std::map<std::string, std::function<void(const std::string&)>> set = {
      {"--cases", [&](const std::string& v) { a.cases = split(v); }},
      {"--frames", [&](const std::string& v) { a.frames = to_int(v); }},
      {"--steps", [&](const std::string& v) { a.steps = to_int(v); }},
      {"--window", [&](const std::string& v) { a.window = to_int(v); }},
      {"--diffusion-steps", [&](const std::string& v) { a.diffusion_steps = to_int(v); }},
      {"--repeats", [&](const std::string& v) { a.repeats = std::max(1, std::stoi(v)); }},
      {"--copies", [&](const std::string& v) { a.copies = std::stoi(v); }},
      {"--threads", [&](const std::string& v) { a.threads = std::stoi(v); }},
      {"--max-batch-atoms", [&](const std::string& v) { a.max_batch_atoms = to_int(v); }},
      {"--paper-max-batch-atoms", [&](const std::string& v) { a.paper_max_batch_atoms = to_int(v); }},
      {"--max-case-seconds", [&](const std::string& v) { a.max_case_seconds = std::stod(v); }},
      {"--structure", [&](const std::string& v) { a.structure = v; }},
      {"--ligand", [&](const std::string& v) { a.ligand = v; }},
      {"--solvated", [&](const std::string& v) { a.solvated = v; }},
      {"--md-reference", [&](const std::string& v) { a.md_reference = v; }},
      {"--out", [&](const std::string& v) { a.out = v; }},
      {"--keep-freed-memory", [&](const std::string& v) { a.keep_freed = v == "1"; }}};
  for (int i = 1; i < argc; ++i) {
    const auto it = set.find(argv[i]);
    if (it == set.end()) throw hemeplm::UsageError(std::string("sample-bench: unknown option ") + argv[i]);
    if (i + 1 >= argc) throw hemeplm::UsageError("sample-bench: " + it->first + " needs a value");
    it->second(argv[++i]);
  }
  return a;
}

// --- machine state ----------------------------------------------------------------------------------
double proc_value(const char* file, const std::string& key) {  // kB fields of /proc files, in GB
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0 / 1024.0;
  return 0;
}
double load_average() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}
double mem_available_gb() {
  return proc_value("/proc/meminfo", "MemAvailable");
}
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

double all_max(double value, MPI_Comm comm) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
  return value;
}
double max_rss_gb(MPI_Comm comm) {
  return all_max(proc_value("/proc/self/status", "VmHWM"), comm);
}
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// --- model, checkpoint, plan --------------------------------------------------------------------
/// Seeded random weights, the denoiser scaled by 0.1 so that sampling stays finite (see the top).
hemeplm::model::HemePLM smooth_model(const std::string& config) {
  torch::manual_seed(11);
  hemeplm::model::HemePLM model(hemeplm::model::model_config(config));
  model->eval();
  torch::NoGradGuard no_grad;
  for (auto& p : model->denoiser()->parameters()) p.mul_(0.1);
  return model;
}

/// A stage-2 checkpoint run_sampling reads (as hemeplm train writes it; no EMA).
void save_checkpoint(const std::string& path, const hemeplm::model::HemePLM& model, const Args& args) {
  json j;
  j["format"] = "hemeplm-train";
  j["model"] = json::parse(hemeplm::train::model_config_json_text(model->config()));
  j["training"] = {{"stage", 2},
                   {"window_frames", args.window},
                   {"diffusion_steps", args.diffusion_steps},
                   {"schedule", "linear"}};
  j["data"] = {{"dt_ps", kDtPs}, {"ranks", 1}};
  hemeplm::train::save_module(path, *model, j.dump(), 1);
}

/// The plan run_sampling makes (8 core residues, 10 Å buffer, 2 Å blend), split until fragments fit a batch.
hemeplm::decomposition::Plan make_plan(const System& system, int ranks, std::int64_t max_batch_atoms) {
  hemeplm::decomposition::PlanOptions p;
  p.ranks = ranks;
  p.denoise.core_residues = 8;
  p.denoise.buffer = 10.0;
  p.denoise.blend = 2.0;
  while (true) {
    auto plan = hemeplm::decomposition::make_plan(system, p);
    std::size_t largest = 0;
    for (const auto& f : plan.fragments) largest = std::max(largest, f.core.size() + f.buffer.size());
    if (static_cast<std::int64_t>(largest) <= max_batch_atoms || p.denoise.core_residues == 1) return plan;
    p.denoise.core_residues = std::max(1, p.denoise.core_residues / 2);
  }
}

/// Peak memory estimate of one rank (GB): inference of one batch, from docs/model.md's forward peaks at
/// T = 4 (tiny 0.076, paper 0.32 MB per atom), scaled by T / 4, plus 2 kB per system atom of global input.
double estimate_gb(const std::string& config, std::int64_t batch_atoms, std::int64_t frames,
                   std::int64_t atoms) {
  const double mb_per_atom = config == "paper" ? 0.32 : 0.076;
  return mb_per_atom * 1e-3 * static_cast<double>(batch_atoms) * std::max(1.0, frames / 4.0) + 2e-6 * atoms;
}

/// Memory gate: every rank of the node below 85 % of MemAvailable; returns the skip reason or "".
std::string memory_gate(json& c, double estimate, int ranks, MPI_Comm comm) {
  double available = mem_available_gb();
  MPI_Bcast(&available, 1, MPI_DOUBLE, 0, comm);
  c["estimated_peak_gb_per_rank"] = estimate;
  c["mem_available_gb"] = available;
  if (ranks * estimate <= 0.85 * available) return "";
  return "estimated " + std::to_string(ranks * estimate) + " GB for " + std::to_string(ranks) +
         " rank(s) > 85 % of " + std::to_string(available) + " GB available";
}

json skipped(json c, const std::string& reason) {
  c["skipped"] = reason;
  return c;
}

/// Largest count of atoms (cores + buffers of its fragments) that one rank of `plan` holds.
std::int64_t max_rank_atoms(const hemeplm::decomposition::Plan& plan) {
  std::vector<std::int64_t> atoms(static_cast<std::size_t>(plan.ranks), 0);
  for (const auto& f : plan.fragments)
    atoms[static_cast<std::size_t>(f.rank)] += static_cast<std::int64_t>(f.core.size() + f.buffer.size());
  return *std::max_element(atoms.begin(), atoms.end());
}

/// Seconds per held atom of begin_block measured in this run, per model configuration.
std::map<std::string, double> g_encode_s_per_atom, g_step_s_per_atom;

// --- denoising steps on a DecomposedModel --------------------------------------------------------
struct StepProbe {
  double begin_block_s = 0, setup_s = 0, peak_rss_gb = 0, load = 0;
  std::vector<double> step_s;
  std::int64_t local_atoms_max = 0, fragment_atoms_max = 0;  // distinct / summed over fragments
  int fragments = 0;
  sample::DecomposedTimings timings;  // rank 0
};

json to_json(const StepProbe& p) {
  return {{"setup_s", p.setup_s},
          {"begin_block_s", p.begin_block_s},
          {"epsilon_s", p.step_s},
          {"epsilon_s_median", median(p.step_s)},
          {"fragments", p.fragments},
          {"local_atoms_max_rank", p.local_atoms_max},
          {"fragment_atoms_max_rank", p.fragment_atoms_max},
          {"peak_rss_gb_max_rank", p.peak_rss_gb},
          {"rank0_seconds",
           {{"encode", p.timings.encode},
            {"attention", p.timings.attention},
            {"denoise", p.timings.denoise},
            {"halo", p.timings.halo},
            {"all_reduce", p.timings.all_reduce}}},
          {"load_average_1min", p.load}};
}

/// Collective over `comm`: plan, DecomposedModel, begin_block (frame 0 known) and up to `steps` epsilon
/// calls at a mid schedule step, each after a barrier, max over ranks; stops once `budget_s` is spent.
StepProbe probe_steps(MPI_Comm comm, const System& system, const hemeplm::model::HemePLM& model,
                      std::int64_t frames, int steps, std::int64_t max_batch_atoms, double budget_s) {
  torch::NoGradGuard no_grad;
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  reset_peak_rss();
  StepProbe p;
  const auto t0 = Clock::now();
  const auto plan = make_plan(system, ranks, max_batch_atoms);
  hemeplm::train::ModelInputOptions io;
  io.cutoff = model->config().visnet.cutoff;
  io.domains = static_cast<int>(model->config().pooling_domains);
  io.with_context = false;
  auto global = std::make_shared<sample::GlobalInput>(hemeplm::train::make_model_input(system, {}, io));
  sample::DecomposedModelOptions options;
  options.max_batch_atoms = max_batch_atoms;
  options.cutoff = io.cutoff;
  sample::DecomposedModel dm(comm, model, global, plan, system.box, options);
  p.fragments = static_cast<int>(plan.fragments.size());
  p.fragment_atoms_max = max_rank_atoms(plan);
  p.local_atoms_max = static_cast<std::int64_t>(all_max(static_cast<double>(dm.local_count()), comm));

  // Centred structure in every frame; x_t adds unit noise drawn for the whole system (same on every rank).
  const auto n = static_cast<std::int64_t>(system.atom_count());
  auto positions = torch::empty({n, 3}, torch::kFloat64);
  auto* xyz = positions.data_ptr<double>();
  for (std::int64_t a = 0; a < n; ++a)
    for (int k = 0; k < 3; ++k) xyz[3 * a + k] = system.positions[static_cast<std::size_t>(a)][k];
  positions -= positions.mean(0);
  const auto local = torch::tensor(dm.local_atoms(), torch::kInt64);
  const auto x_given = positions.index_select(0, local).unsqueeze(1).repeat({1, frames, 1}).contiguous();
  torch::manual_seed(5);
  const auto noise = torch::randn({n, frames, 3}, torch::kFloat64);
  const auto x_t = (x_given + noise.index_select(0, local)).contiguous();
  auto known_frames = torch::zeros({frames}, torch::kBool);
  known_frames[0] = true;
  p.setup_s = all_max(seconds_since(t0), comm);

  MPI_Barrier(comm);
  auto t = Clock::now();
  dm.begin_block(known_frames, torch::Tensor(), x_given, x_given.select(1, 0).contiguous());
  p.begin_block_s = all_max(seconds_since(t), comm);
  for (int s = 0; s < steps; ++s) {
    MPI_Barrier(comm);
    t = Clock::now();
    (void)dm.epsilon(500, x_t);
    p.step_s.push_back(all_max(seconds_since(t), comm));
    if (all_max(seconds_since(t0), comm) + p.step_s.back() > budget_s) break;  // same decision everywhere
  }
  p.timings = dm.timings();
  g_encode_s_per_atom[model->config().name] = p.begin_block_s / static_cast<double>(p.fragment_atoms_max);
  g_step_s_per_atom[model->config().name] = median(p.step_s) / static_cast<double>(p.fragment_atoms_max);
  p.peak_rss_gb = max_rss_gb(comm);
  p.load = load_average();
  return p;
}

// --- cases ---------------------------------------------------------------------------------------
struct Inputs {
  System ftase, solvated, replicated;
  bool loaded_solvated = false, loaded_replicated = false;
};

/// run_sampling of `system`: a one-block probe, then as many blocks as fit in the budget (at most --frames).
json forecast_system(const Args& args, const System& system, const std::string& name, const std::string& dir,
                     MPI_Comm comm) {
  sample::SampleOptions o;
  o.checkpoint = dir + "/tiny.ckpt";
  o.frames = args.window - 1;
  o.steps = args.steps;
  o.max_batch_atoms = args.max_batch_atoms;
  o.threads = args.threads;
  o.use_ema = false;
  o.quiet = true;
  o.out = dir + "/" + name + "-probe.h5md";
  json c = {{"system", name},
            {"atoms", system.atom_count()},
            {"denoising_steps", args.steps},
            {"block_frames", args.window},
            {"requested_frames", args.frames}};
  const auto t0 = Clock::now();
  reset_peak_rss();
  auto report = sample::run_sampling(comm, system, std::nullopt, o, nullptr);
  const double per_block = all_max(report.seconds, comm);
  const double left = args.max_case_seconds - all_max(seconds_since(t0), comm);
  const auto fit = static_cast<std::int64_t>(std::floor((left - report.setup_seconds) / (1.1 * per_block)));
  const std::int64_t frames = std::min(args.frames, std::max<std::int64_t>(fit, 0) * (args.window - 1));
  c["probe_block_s"] = per_block;
  if (frames > o.frames) {
    o.frames = frames;
    o.out = dir + "/" + name + ".h5md";
    reset_peak_rss();
    report = sample::run_sampling(comm, system, std::nullopt, o, nullptr);
  }
  if (o.frames < args.frames) c["note"] = "frames cut to fit --max-case-seconds";
  c["frames"] = o.frames;
  c["blocks"] = report.blocks;
  c["fragments"] = report.fragments;
  c["seconds"] = report.seconds;
  c["setup_seconds"] = report.setup_seconds;
  c["frames_per_s"] = report.frames_per_second;
  c["ns_per_day"] = report.ns_per_day;
  c["dt_ps"] = report.dt_ps;
  c["s_per_denoising_step"] = report.seconds_per_step;
  c["peak_rss_gb_max_rank"] = max_rss_gb(comm);
  c["shares_rank0"] = {
      {"model", report.model_share}, {"halo", report.halo_share}, {"all_reduce", report.all_reduce_share}};
  c["load_average_1min"] = load_average();
  return c;
}

json forecast_case(const Args& args, Inputs& in, const std::string& dir, MPI_Comm comm) {
  json c = {{"systems", json::array()}};
  c["systems"].push_back(forecast_system(args, in.ftase, "1s63", dir, comm));
  if (in.loaded_solvated)
    c["systems"].push_back(forecast_system(args, in.solvated, "dhfr_solvated", dir, comm));
  return c;
}

json rolling_case(const Args& args, Inputs& in, const std::string& dir, MPI_Comm comm) {
  json c = {{"system", "1s63"}, {"atoms", in.ftase.atom_count()}, {"block_frames", args.window}};
  sample::SampleOptions o;
  o.checkpoint = dir + "/tiny.ckpt";
  o.frames = 2 * (args.window - 1);
  o.steps = args.window - 1;
  o.max_batch_atoms = args.max_batch_atoms;
  o.threads = args.threads;
  o.use_ema = false;
  o.quiet = true;
  c["frames"] = o.frames;
  c["levels"] = o.steps;
  for (const bool rolling : {false, true}) {
    o.rolling = rolling;
    o.out = dir + (rolling ? "/rolling.h5md" : "/plain.h5md");
    const auto report = sample::run_sampling(comm, in.ftase, std::nullopt, o, nullptr);
    c[rolling ? "rolling" : "plain"] = {{"frames_per_s", report.frames_per_second},
                                        {"s_per_model_call", report.seconds_per_step},
                                        {"seconds", report.seconds}};
  }
  c["rolling_over_plain_frames_per_s"] =
      c["rolling"]["frames_per_s"].get<double>() / c["plain"]["frames_per_s"].get<double>();
  c["load_average_1min"] = load_average();
  return c;
}

json step_scaling_case(const Args& args, Inputs& in, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  const auto model = smooth_model("tiny");
  json c = {{"model", "tiny"}, {"block_frames", args.window}, {"copies", args.copies}};
  const double estimate = estimate_gb("tiny", args.max_batch_atoms, args.window, in.replicated.atom_count());
  if (const auto reason = memory_gate(c, estimate, ranks, comm); !reason.empty()) return skipped(c, reason);
  const auto small = probe_steps(comm, in.ftase, model, args.window, args.repeats, args.max_batch_atoms,
                                 args.max_case_seconds / 4);
  c["small"] = to_json(small);
  c["small"]["atoms"] = in.ftase.atom_count();
  c["atom_ratio"] = static_cast<double>(in.replicated.atom_count()) / in.ftase.atom_count();
  // Time gate: the large system costs about atom_ratio times the small one.
  const double seconds =
      c["atom_ratio"].get<double>() * (small.begin_block_s + args.repeats * median(small.step_s));
  c["estimated_large_s"] = seconds;
  if (seconds > args.max_case_seconds)
    return skipped(c, "large system: estimated " + std::to_string(seconds) + " s > --max-case-seconds");
  const auto large = probe_steps(comm, in.replicated, model, args.window, args.repeats, args.max_batch_atoms,
                                 args.max_case_seconds);
  c["large"] = to_json(large);
  c["large"]["atoms"] = in.replicated.atom_count();
  c["step_time_ratio"] = median(large.step_s) / median(small.step_s);
  c["begin_block_ratio"] = large.begin_block_s / small.begin_block_s;
  c["target_step_time_ratio"] = 11;
  return c;
}

/// Estimated seconds of a `paper` begin_block + one epsilon on `system`, both proportional to the
/// atoms a rank holds (buffers included). Rates from a paper probe of this run, else a tiny one times 29
/// (begin_block: docs/model.md's paper/tiny forward per atom) and 32 (step: the denoiser's width^2 x
/// depth), else ~0.02 s per atom and thread for each (docs/model.md's paper forward).
double paper_probe_estimate(json& c, const System& system, const Args& args, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  const auto held = max_rank_atoms(make_plan(system, ranks, args.paper_max_batch_atoms));
  double encode = 0.02 / ranks, step = 0.02 / ranks;
  if (g_encode_s_per_atom.count("paper"))
    encode = g_encode_s_per_atom["paper"], step = g_step_s_per_atom["paper"];
  else if (g_encode_s_per_atom.count("tiny"))
    encode = 29 * g_encode_s_per_atom["tiny"], step = 32 * g_step_s_per_atom["tiny"];
  double seconds[2] = {encode * static_cast<double>(held), step * static_cast<double>(held)};
  MPI_Bcast(seconds, 2, MPI_DOUBLE, 0, comm);  // rank 0 alone ran rank-speedup's one-rank probe
  c["rank_atoms_max"] = held;
  c["estimated_begin_block_s"] = seconds[0];
  c["estimated_epsilon_s"] = seconds[1];
  return seconds[0] + seconds[1];
}

json paper_memory_case(const Args& args, Inputs& in, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  json c = {{"model", "paper"},
            {"atoms", in.replicated.atom_count()},
            {"max_batch_atoms", args.paper_max_batch_atoms},
            {"block_frames", args.window},
            {"target_peak_gb_per_rank", 16}};
  const double estimate =
      estimate_gb("paper", args.paper_max_batch_atoms, args.window, in.replicated.atom_count());
  if (const auto reason = memory_gate(c, estimate, ranks, comm); !reason.empty()) return skipped(c, reason);
  const double seconds = paper_probe_estimate(c, in.replicated, args, comm);
  if (seconds > args.max_case_seconds)
    return skipped(
        c, "estimated begin_block + one epsilon " + std::to_string(seconds) + " s > --max-case-seconds");
  const auto probe = probe_steps(comm, in.replicated, smooth_model("paper"), args.window, 1,
                                 args.paper_max_batch_atoms, args.max_case_seconds);
  c["probe"] = to_json(probe);
  c["peak_rss_gb_per_rank"] = probe.peak_rss_gb;
  return c;
}

/// A barrier that sleeps instead of spinning (Open MPI's MPI_Barrier polls), so that the ranks waiting
/// for rank 0's one-rank run leave their cores to it.
void idle_barrier(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  for (int done = 0; !done;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

json rank_speedup_case(const Args& args, Inputs& in, MPI_Comm comm) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  hemeplm::model::set_torch_threads(1);  // fair: one core per rank in both runs
  const auto model = smooth_model("tiny");
  json c = {{"model", "tiny"}, {"threads_per_rank", 1}, {"ranks", ranks}, {"block_frames", args.window}};
  StepProbe one;
  if (rank == 0)
    one = probe_steps(MPI_COMM_SELF, in.ftase, model, args.window, args.repeats, args.max_batch_atoms,
                      args.max_case_seconds / 2);
  idle_barrier(comm);
  c["one_rank"] = to_json(one);
  if (ranks > 1) {
    const auto all = probe_steps(comm, in.ftase, model, args.window, args.repeats, args.max_batch_atoms,
                                 args.max_case_seconds / 2);
    c["all_ranks"] = to_json(all);
    c["speedup"] = median(one.step_s) / median(all.step_s);
    c["target_speedup"] = 1.7;
  } else {
    c["note"] = "run with mpiexec -n 2 for the speed-up";
  }
  hemeplm::model::set_torch_threads(args.threads, ranks);
  return c;
}

/// Best ns/day of each MD engine on the 1S63 protein in md_reference.py's JSON.
json md_reference(const std::string& path) {
  json best = json::object();
  std::ifstream in(path);
  if (!in) return best;
  for (const auto& r : json::parse(in)["records"]) {
    const auto system = r.value("system", std::string());
    if (r.value("status", "ok") != "ok" || system.find("1s63") == std::string::npos) continue;
    const double v = r.value("ns_per_day", 0.0);
    const auto key = r.value("engine", std::string()) + " " + r.value("nonbonded", std::string());
    if (!best.contains(key) || best[key].get<double>() < v) best[key] = v;
  }
  return best;
}

json vs_md_case(const Args& args, Inputs& in, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  json c = {{"model", "paper"},
            {"sampler", "ddpm"},
            {"denoising_steps", args.diffusion_steps},
            {"block_frames", args.window},
            {"max_batch_atoms", args.paper_max_batch_atoms},
            {"dt_ps", kDtPs}};
  const double estimate =
      estimate_gb("paper", args.paper_max_batch_atoms, args.window, in.ftase.atom_count());
  if (const auto reason = memory_gate(c, estimate, ranks, comm); !reason.empty()) return skipped(c, reason);
  if (const double seconds = paper_probe_estimate(c, in.ftase, args, comm); seconds > args.max_case_seconds)
    return skipped(
        c, "estimated begin_block + one epsilon " + std::to_string(seconds) + " s > --max-case-seconds");
  const auto p = probe_steps(comm, in.ftase, smooth_model("paper"), args.window, args.repeats,
                             args.paper_max_batch_atoms, args.max_case_seconds);
  const double step = median(p.step_s);
  const double block_s = p.begin_block_s + static_cast<double>(args.diffusion_steps) * step;
  const double ns_per_day = static_cast<double>(args.window - 1) * kDtPs * 1e-3 / block_s * 86400.0;
  c["probe"] = to_json(p);
  c["extrapolated"] = {
      {"note", "begin_block + denoising_steps x median epsilon; sampler arithmetic excluded"},
      {"block_s", block_s},
      {"ns_per_day", ns_per_day}};
  const auto md = md_reference(args.md_reference);
  c["md_reference_file"] = args.md_reference;
  c["md_ns_per_day"] = md;
  json ratios = json::object();
  for (const auto& [engine, v] : md.items())
    if (v.get<double>() > 0) ratios[engine] = ns_per_day / v.get<double>();
  c["ratio_sampling_over_md"] = ratios;
  c["target_ratio"] = 100;
  return c;
}

Inputs load_inputs(const Args& args) {
  Inputs in;
  in.ftase = hemeplm::load_system({args.structure, {args.ligand}});
  const auto wants = [&](const std::string& name) {
    return std::find(args.cases.begin(), args.cases.end(), name) != args.cases.end();
  };
  if (wants("forecast") && !args.solvated.empty()) {
    in.solvated = hemeplm::load_system({args.solvated, {}});
    in.loaded_solvated = true;
  }
  if (wants("step-scaling") || wants("paper-memory")) {
    in.replicated = hemeplm::replicate_system(in.ftase, args.copies);
    in.loaded_replicated = true;
  }
  return in;
}

std::string shared_temp_dir(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::vector<char> buffer(4096, 0);
  if (rank == 0) {
    std::string pattern = (fs::temp_directory_path() / "sample-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw hemeplm::Error("sample-bench: cannot create a directory in /tmp");
    std::copy(pattern.begin(), pattern.end(), buffer.begin());
  }
  MPI_Bcast(buffer.data(), static_cast<int>(buffer.size()), MPI_CHAR, 0, comm);
  return buffer.data();
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1, status = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  std::string dir;
  try {
    const Args args = parse(argc, argv);
    hemeplm::decomposition::KokkosRuntime kokkos(1);
    dir = shared_temp_dir(MPI_COMM_WORLD);
    const int threads = hemeplm::model::set_torch_threads(args.threads, ranks);
    const bool keep_freed = args.keep_freed && hemeplm::model::keep_freed_tensor_memory();
    if (rank == 0) save_checkpoint(dir + "/tiny.ckpt", smooth_model("tiny"), args);
    MPI_Barrier(MPI_COMM_WORLD);
    Inputs in = load_inputs(args);
    json report = {{"benchmark", "sample-bench"},
                   {"machine",
                    {{"cpu", cpu_model()},
                     {"cores", std::thread::hardware_concurrency()},
                     {"mem_available_gb", mem_available_gb()},
                     {"load_average_1min", load_average()}}},
                   {"ranks", ranks},
                   {"threads_per_rank", threads},
                   {"keep_freed_tensor_memory", keep_freed},
                   {"weights", "random, denoiser scaled by 0.1: timings only, frames not physical"},
                   {"atoms",
                    {{"1s63", in.ftase.atom_count()},
                     {"dhfr_solvated", in.solvated.atom_count()},
                     {"replicated", in.replicated.atom_count()}}},
                   {"cases", json::object()}};
    for (const auto& name : args.cases) {
      if (rank == 0) std::cerr << "sample-bench: " << name << " at " << ranks << " rank(s)...\n";
      const auto t0 = Clock::now();
      json c;
      if (name == "forecast")
        c = forecast_case(args, in, dir, MPI_COMM_WORLD);
      else if (name == "rolling")
        c = rolling_case(args, in, dir, MPI_COMM_WORLD);
      else if (name == "step-scaling")
        c = step_scaling_case(args, in, MPI_COMM_WORLD);
      else if (name == "paper-memory")
        c = paper_memory_case(args, in, MPI_COMM_WORLD);
      else if (name == "rank-speedup")
        c = rank_speedup_case(args, in, MPI_COMM_WORLD);
      else if (name == "vs-md")
        c = vs_md_case(args, in, MPI_COMM_WORLD);
      else
        throw hemeplm::UsageError("sample-bench: unknown case " + name);
      c["case_seconds"] = seconds_since(t0);
      report["cases"][name] = c;
      if (rank == 0) std::cerr << c.dump(2) << "\n";
      if (rank == 0 && !args.out.empty())
        std::ofstream(args.out) << report.dump(2) << "\n";  // after every case
    }
    if (rank == 0 && args.out.empty()) std::cout << report.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "sample-bench (rank " << rank << "): " << e.what() << "\n";
    status = 1;
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0 && !dir.empty()) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  MPI_Finalize();
  return status;
}
