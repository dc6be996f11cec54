#include "sampling_setup.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/dist/device.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/parallel_io/residue_embeddings.hpp"
#include "hemeplm/train/checkpoint_model.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "tensor_all_reduce.hpp"

namespace hemeplm::sample {
namespace {

using json = nlohmann::ordered_json;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

Mode parse_mode(const std::string& name) {
  if (name == "forecast") return Mode::kForecast;
  if (name == "tps") return Mode::kTps;
  if (name == "inpaint") return Mode::kInpaint;
  if (name == "unconditional") return Mode::kUnconditional;
  throw UsageError("--mode '" + name + "': expected forecast, tps, inpaint or unconditional");
}

void check_same_topology(const System& start, const System& end, const std::string& what) {
  if (start.atom_count() != end.atom_count())
    throw UsageError(what + " has " + std::to_string(end.atom_count()) + " atoms, the start structure " +
                     std::to_string(start.atom_count()) + ": the end structure must have the same topology");
  for (int a = 0; a < start.atom_count(); ++a) {
    if (start.atomic_numbers[a] != end.atomic_numbers[a] || start.atom_names[a] != end.atom_names[a])
      throw UsageError(what + ": atom " + std::to_string(a) + " is " + start.atom_names[a] + " (Z " +
                       std::to_string(start.atomic_numbers[a]) + ") in the start structure but " +
                       end.atom_names[a] + " (Z " + std::to_string(end.atomic_numbers[a]) +
                       ") here: the topologies differ");
  }
}

decomposition::Plan load_or_make_plan(MPI_Comm comm, const System& system, const SampleOptions& o,
                                      const std::function<void(const std::string&)>& say) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  if (!o.ranks_plan.empty()) {
    std::ifstream in(o.ranks_plan);
    if (!in) throw InputError(o.ranks_plan, "cannot open the plan file");
    json j;
    try {
      j = json::parse(in);
    } catch (const std::exception& e) {
      throw InputError(o.ranks_plan, "not a JSON plan file (" + std::string(e.what()) + ")");
    }
    auto plan = decomposition::plan_from_json(j, o.ranks_plan, system);
    if (plan.scheme != "denoise")
      throw UsageError(o.ranks_plan + ": a '" + plan.scheme +
                       "' plan; sampling needs a 'denoise' plan (hemeplm fragment --scheme denoise)");
    for (const auto& f : plan.fragments)
      if (static_cast<std::int64_t>(f.core.size() + f.buffer.size()) > o.max_batch_atoms)
        throw UsageError(o.ranks_plan + ": fragment " + std::to_string(f.id) + " has " +
                         std::to_string(f.core.size() + f.buffer.size()) +
                         " atoms, more than --max-batch-atoms " + std::to_string(o.max_batch_atoms) +
                         ": make the plan with fewer core residues");
    if (plan.ranks != size) {
      say("plan " + o.ranks_plan + " is for " + std::to_string(plan.ranks) + " ranks; reassigning its " +
          std::to_string(plan.fragments.size()) + " fragments to " + std::to_string(size));
      plan.rank_cost = decomposition::assign_ranks(plan.fragments, size);
      plan.ranks = size;
    }
    return plan;
  }
  decomposition::PlanOptions p;
  p.scheme = "denoise";
  p.ranks = size;
  p.denoise.core_residues = o.core_residues;
  p.denoise.buffer = o.buffer;
  p.denoise.blend = std::min(o.blend, o.buffer);
  // A fragment too large for one model call is split further: fewer core residues per fragment.
  while (true) {
    decomposition::Plan plan;
    try {
      plan = decomposition::make_plan(system, p);
    } catch (const UsageError&) {
      // Typically more ranks than fragments: smaller cores give more fragments.
      if (p.denoise.core_residues == 1) throw;
      p.denoise.core_residues = std::max(1, p.denoise.core_residues / 2);
      say("no plan for " + std::to_string(size) + " ranks with these cores; trying " +
          std::to_string(p.denoise.core_residues) + " core residues per fragment");
      continue;
    }
    std::size_t largest = 0;
    int worst = 0;
    for (const auto& f : plan.fragments)
      if (f.core.size() + f.buffer.size() > largest) largest = f.core.size() + f.buffer.size(), worst = f.id;
    if (static_cast<std::int64_t>(largest) <= o.max_batch_atoms) return plan;
    if (p.denoise.core_residues == 1)
      throw UsageError("fragment " + std::to_string(worst) + " has " + std::to_string(largest) +
                       " atoms with one core residue, more than --max-batch-atoms " +
                       std::to_string(o.max_batch_atoms) + ": raise it or lower --buffer");
    p.denoise.core_residues = std::max(1, p.denoise.core_residues / 2);
    say("fragments up to " + std::to_string(largest) +
        " atoms exceed --max-batch-atoms; splitting further: " + std::to_string(p.denoise.core_residues) +
        " core residues per fragment");
  }
}

/// The --residue-embeddings table when the model takes one (its width must be the model's), else null.
std::shared_ptr<const parallel_io::ResidueEmbeddingTable> residue_embeddings_for(
    const model::HemePLMConfig& model_config, const SampleOptions& o) {
  const auto dim = model_config.residue_embedding_dim;
  if (o.residue_embeddings.empty()) {
    if (dim > 0)
      throw UsageError(
          o.checkpoint + " was trained with " + std::to_string(dim) +
          "-wide residue embeddings (train --residue-embeddings): give --residue-embeddings FILE "
          "with the same kind of vectors for this structure");
    return nullptr;
  }
  if (dim == 0)
    throw UsageError(
        "--residue-embeddings " + o.residue_embeddings + ": " + o.checkpoint +
        " was trained without residue embeddings (residue_embedding.dim = 0); leave the option out");
  auto table = parallel_io::ResidueEmbeddingTable::read(o.residue_embeddings);
  if (table->width() != dim)
    throw UsageError("--residue-embeddings " + o.residue_embeddings + " holds " +
                     std::to_string(table->width()) + "-wide vectors, but " + o.checkpoint +
                     " was trained with " + std::to_string(dim) + "-wide ones (residue_embedding.dim)");
  return table;
}

}  // namespace

SamplingSetup prepare_sampling(MPI_Comm comm, const System& system, const std::optional<System>& end,
                               const SampleOptions& o, const std::function<void(const std::string&)>& say) {
  SamplingSetup s;
  s.mode = parse_mode(o.mode);
  if (o.out.empty()) throw UsageError("--out FILE.h5md is required");
  if (o.frames < 1) throw UsageError("--frames must be >= 1, got " + std::to_string(o.frames));
  if (o.max_batch_atoms < 1) throw UsageError("--max-batch-atoms must be >= 1");
  if (s.mode == Mode::kTps && !end) throw UsageError("--mode tps needs --end FILE (the end structure)");
  if (s.mode != Mode::kTps && end) throw UsageError("--end is only used by --mode tps");
  if (s.mode == Mode::kInpaint) {
    s.inpaint = select_atoms_by(system, o.inpaint_atoms);
  } else if (!o.inpaint_atoms.empty()) {
    throw UsageError("--inpaint-atoms is only used by --mode inpaint");
  }
  if (end) check_same_topology(system, *end, "--end structure");
  if (o.rolling && s.mode != Mode::kForecast)
    throw UsageError(
        "--rolling generates a trajectory forward from its last frame: it works with --mode "
        "forecast only (got --mode " +
        o.mode + ")");

  // Checkpoint: model configuration, weights, and the training facts sampling follows.
  const auto checkpoint = parallel_io::read_checkpoint(o.checkpoint);
  json config;
  try {
    config = json::parse(checkpoint.config_json);
  } catch (const std::exception&) {
    throw InputError(o.checkpoint, "its configuration is not JSON");
  }
  if (config.value("format", "") != "hemeplm-train" || !config.contains("training"))
    throw InputError(o.checkpoint, "not a checkpoint written by hemeplm train");
  const auto model_config = train::checkpoint_model_config(checkpoint.config_json, o.checkpoint);
  const auto& training = config["training"];
  const int stage = training.value("stage", 2);
  for (int a = 0; a < system.atom_count(); ++a) {
    if (system.atomic_numbers[a] >= std::min<std::int64_t>(model_config.visnet.max_z, 100))
      throw UsageError("the model embeds atomic numbers below " + std::to_string(model_config.visnet.max_z) +
                       ", but " + system.describe_atom(a) + " has " +
                       std::to_string(system.atomic_numbers[a]));
  }
  if (config.contains("data") && config["data"].contains("elements")) {
    std::set<int> seen;
    for (const auto& z : config["data"]["elements"]) seen.insert(z.get<int>());
    std::set<int> unseen;
    for (const int z : system.atomic_numbers)
      if (!seen.count(z)) unseen.insert(z);
    std::string list;
    for (const int z : unseen) list += (list.empty() ? "" : ", ") + std::string(element_symbol(z));
    if (!unseen.empty()) say("warning: elements never seen in training: " + list + " (sampling anyway)");
  }
  s.dt_ps = config.contains("data") ? config["data"].value("dt_ps", 1.0) : 1.0;
  const std::int64_t window = training.value("window_frames", 8);
  if (stage == 1 || window < 2)
    say("warning: " + o.checkpoint +
        " is a stage-1 (conformer) checkpoint; its temporal layers are untrained");
  s.block_frames = o.block_frames > 0 ? o.block_frames : std::max<std::int64_t>(window, 2);
  if (s.block_frames < 2) throw UsageError("--block-frames must be >= 2");
  const auto per_block = s.mode == Mode::kUnconditional ? s.block_frames : s.block_frames - 1;
  s.frames_per_block = per_block;
  if (o.rolling) {
    // One model call per finished frame: each "block" is one frame, the window holds T - 1 noise levels.
    s.frames_per_block = 1;
    s.blocks = o.frames;
    s.total_frames = 1 + o.frames;
    if (o.steps > 0 && o.steps % per_block != 0)
      throw UsageError(
          "--rolling gives every free frame of the window the same number of noise levels, so "
          "--steps must be a multiple of " +
          std::to_string(per_block) + " (--block-frames " + std::to_string(s.block_frames) +
          " minus the known frame), or left out for " + std::to_string(per_block) + " (got --steps " +
          std::to_string(o.steps) + ")");
    if (!(training.value("per_frame_noise", 0.0) > 0))
      say("warning: " + o.checkpoint +
          " was trained without per-frame noise levels (hemeplm train --per-frame-noise); --rolling asks it "
          "for windows it has not seen and its frames will be poor");
  } else if (s.mode == Mode::kTps) {
    s.block_frames = o.frames + 2;
    s.blocks = 1;
    s.total_frames = o.frames + 2;
  } else {
    s.blocks = (o.frames + per_block - 1) / per_block;
    s.total_frames = 1 + o.frames;
  }
  const int trained_steps = training.value("diffusion_steps", 1000);
  s.noise = std::make_unique<diffusion::NoiseSchedule>(
      diffusion::parse_schedule_kind(training.value("schedule", std::string("linear"))), trained_steps);
  s.sampling = std::make_unique<diffusion::SamplingSchedule>(
      *s.noise, diffusion::parse_sampler_kind(o.sampler),
      o.rolling ? (o.steps > 0 ? o.steps : per_block) : (o.steps > 0 ? o.steps : trained_steps), o.eta);

  s.model = train::load_checkpoint_model(checkpoint, o.checkpoint, o.use_ema);
  s.model->to(o.float64 ? torch::kFloat64 : torch::kFloat32);  // the input tensors' dtype
  s.model->eval();
  const auto placement = dist::node_placement(comm);
  model::set_torch_threads(o.threads, placement.local_size);

  train::ModelInputOptions input_options;
  input_options.cutoff = model_config.visnet.cutoff;
  input_options.domains = static_cast<int>(model_config.pooling_domains);
  input_options.dtype = o.float64 ? torch::kFloat64 : torch::kFloat32;
  input_options.with_context = false;
  input_options.residue_embeddings = residue_embeddings_for(model_config, o);
  s.global = std::make_shared<GlobalInput>(train::make_model_input(system, {}, input_options));
  s.plan = load_or_make_plan(comm, system, o, say);
  if (end) {
    s.end_positions = vec3_tensor(end->positions);
  }

  json record;
  record["format"] = "hemeplm-sample";
  record["checkpoint"] = std::filesystem::absolute(o.checkpoint).string();
  record["checkpoint_step"] = checkpoint.step;
  record["structure"] = system.sources;
  record["atoms"] = system.atom_count();
  record["mode"] = o.mode;
  record["inpaint_atoms"] = o.inpaint_atoms;
  record["frames"] = o.frames;
  record["block_frames"] = s.block_frames;
  record["steps"] = s.sampling->size();
  record["sampler"] = o.sampler;
  record["eta"] = o.eta;
  record["clip_x0"] = o.clip_x0;
  if (o.rolling) record["rolling"] = true;  // only when set: files written before it existed still resume
  record["seed"] = o.seed;
  record["ema"] = o.use_ema;
  record["float64"] = o.float64;
  // Only when given, so that files written before the option existed still resume.
  if (!o.residue_embeddings.empty())
    record["residue_embeddings"] = std::filesystem::absolute(o.residue_embeddings).string();
  record["dt_ps"] = s.dt_ps;
  s.config_json = record.dump();
  say("sampling " + o.mode + ": " + std::to_string(system.atom_count()) + " atoms in " +
      std::to_string(s.plan.fragments.size()) + " fragments, " +
      (o.rolling
           ? "rolling window of " + std::to_string(s.block_frames) + " frames (" +
                 std::to_string(s.sampling->size()) + " staggered " + o.sampler + " levels, a frame every " +
                 std::to_string(s.sampling->size() / per_block) + " call(s))"
           : std::to_string(s.blocks) + " block(s) of " + std::to_string(s.block_frames) + " frames, " +
                 std::to_string(s.sampling->size()) + " " + o.sampler + " steps") +
      ", " + std::to_string(s.dt_ps) + " ps between frames");
  return s;
}

OutputFile::OutputFile(MPI_Comm comm, const System& system, const SampleOptions& o,
                       const SamplingSetup& setup, const std::function<void(const std::string&)>& say,
                       std::function<double(const torch::Tensor&)> energy_of)
    : comm_(comm),
      system_(system),
      setup_(setup),
      out_(o.out),
      partial_(o.out + ".partial"),
      energy_of_(std::move(energy_of)) {
  int size = 1;
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size);
  range_ = parallel_io::owned_atoms(system.atom_count(), rank_, size);
  parallel_io::H5mdWriterOptions w;
  w.config_json = setup.config_json;
  w.flush_interval_s = 0;  // every block is flushed explicitly: a killed run keeps its completed blocks
  if (energy_of_) w.observables = {"potential_energy"};
  const auto n = static_cast<std::int64_t>(system.atom_count());
  const auto per_block = setup.frames_per_block;

  std::vector<torch::Tensor> carried;  // frames of completed blocks from the partial file
  if (o.resume && std::filesystem::exists(partial_)) {
    parallel_io::H5mdReader reader(partial_);
    const auto theirs = nlohmann::json::parse(reader.config_json(), nullptr, false);
    const auto ours = nlohmann::json::parse(setup.config_json);
    for (const auto& [key, value] : ours.items()) {
      if (theirs.is_discarded() || !theirs.contains(key) || theirs[key] != value)
        throw UsageError(
            "--resume: " + partial_ + " was written with another " + key + " (" +
            (theirs.is_discarded() || !theirs.contains(key) ? std::string("missing") : theirs[key].dump()) +
            " there, " + value.dump() + " now); remove it or run with the same options");
    }
    const auto in_file = reader.frame_count();
    completed_blocks_ = in_file < 1 ? 0 : std::min<std::int64_t>((in_file - 1) / per_block, setup.blocks);
    if (setup.mode == Mode::kTps) completed_blocks_ = 0;
    resumed_frames_ = completed_blocks_ == 0 ? 0 : 1 + completed_blocks_ * per_block;
    for (std::int64_t f = 0; f < resumed_frames_; ++f) {
      std::vector<Vec3> buffer(static_cast<std::size_t>(n));
      reader.read_positions(f, 1, {0, static_cast<int>(n)}, Span<Vec3>(buffer));
      carried.push_back(vec3_tensor(buffer));
    }
    say("resuming " + partial_ + ": " + std::to_string(completed_blocks_) + " completed block(s), " +
        std::to_string(resumed_frames_) + " frames kept of " + std::to_string(in_file));
  } else if (o.resume) {
    say("--resume: no " + partial_ + " to continue; starting");
  }
  MPI_Barrier(comm_);  // every rank has read the old file before it is replaced

  const auto target = carried.empty() ? partial_ : partial_ + ".tmp";
  writer_ = std::make_unique<parallel_io::H5mdWriter>(comm_, target, system, range_, w);
  writer_->begin_trajectory(std::filesystem::path(out_).filename().string(), setup.dt_ps);
  if (carried.empty()) {
    append(vec3_tensor(system.positions).to(torch::kFloat32).to(torch::kFloat64));
  } else {
    for (const auto& frame : carried) append(frame);
    last_frame_ = carried.back();
    resumed_ = true;
  }
  writer_->flush();
  if (target != partial_) {
    MPI_Barrier(comm_);
    if (rank_ == 0) std::filesystem::rename(target, partial_);
    MPI_Barrier(comm_);
  }
}

OutputFile::~OutputFile() {
  if (finished_) return;
  writer_.reset();
  if (rank_ == 0 && !resumed_) {
    std::error_code ignored;
    std::filesystem::remove(partial_, ignored);
  }
}

void OutputFile::append(const torch::Tensor& positions) {
  const auto buffer = tensor_vec3(positions.narrow(0, range_.first, range_.count));
  parallel_io::FrameView view;
  view.step = frames_written_;
  view.time_ps = static_cast<double>(frames_written_) * setup_.dt_ps;
  view.positions = Span<const Vec3>(buffer);
  view.box = system_.box ? &*system_.box : nullptr;
  double energy = 0;
  if (energy_of_) {
    energy = energy_of_(positions);
    view.observables = Span<const double>(&energy, 1);
  }
  writer_->append(view);
  ++frames_written_;
}

void OutputFile::append_block(const torch::Tensor& frames, std::int64_t) {
  for (std::int64_t g = 0; g < frames.size(1) && frames_written_ < setup_.total_frames; ++g)
    append(frames.select(1, g));
  writer_->flush();
}

void OutputFile::finish() {
  // A resumed run's writer opened OUT.partial.tmp, since renamed to OUT.partial; closing reopens the
  // file by the writer's path (the trajectory index), so the file gets that name back first.
  const auto writing = resumed_ ? partial_ + ".tmp" : partial_;
  if (resumed_) {
    MPI_Barrier(comm_);
    if (rank_ == 0) std::filesystem::rename(partial_, writing);
    MPI_Barrier(comm_);
  }
  writer_->close();
  writer_.reset();
  MPI_Barrier(comm_);
  if (rank_ == 0) std::filesystem::rename(writing, out_);
  MPI_Barrier(comm_);
  finished_ = true;
}

RankRows rank_rows(const DecomposedModel& dm) {
  const auto index = torch::TensorOptions().dtype(torch::kInt64);
  const auto& local = dm.local_atoms();
  RankRows r;
  r.local_index = torch::tensor(local, index);
  r.owned_rows =
      torch::tensor(std::vector<std::int64_t>(dm.owned_rows().begin(), dm.owned_rows().end()), index);
  for (const int row : dm.owned_rows()) r.owned_atoms.push_back(local[static_cast<std::size_t>(row)]);
  r.owned_index = torch::tensor(r.owned_atoms, index);
  return r;
}

torch::Tensor gather_frames(const torch::Tensor& local, const torch::Tensor& centre, const RankRows& rows,
                            std::int64_t atoms, MPI_Comm comm) {
  auto gathered = torch::zeros({atoms, local.size(1), 3}, kF64);
  gathered.index_copy_(0, rows.owned_index, local.index_select(0, rows.owned_rows) + centre);
  all_reduce(gathered, MPI_SUM, comm);
  return gathered.to(torch::kFloat32).to(torch::kFloat64);
}

torch::Tensor keyed_noise(std::uint64_t seed, std::int64_t block, std::uint64_t step,
                          const std::vector<std::int64_t>& atoms, std::int64_t frames) {
  std::vector<std::int64_t> frame_ids(static_cast<std::size_t>(frames));
  for (std::int64_t f = 0; f < frames; ++f) frame_ids[static_cast<std::size_t>(f)] = f;
  auto z = torch::empty({static_cast<std::int64_t>(atoms.size()), frames, 3}, kF64);
  diffusion::keyed_normals({seed, static_cast<std::uint64_t>(block), step}, atoms, frame_ids,
                           Span<double>(z.data_ptr<double>(), static_cast<std::size_t>(z.numel())));
  return z;
}

// Given entries have x_t == anchor and are unaffected (their eps is zero and their x0_hat is the anchor).
void clip_predicted_positions(const torch::Tensor& x_t, const torch::Tensor& anchor, double alpha_bar,
                              double radius, torch::Tensor& eps) {
  const double a = std::sqrt(alpha_bar), s = std::sqrt(1.0 - alpha_bar);
  const auto x0 = (x_t - s * eps) / a;
  const auto offset = x0 - anchor;
  const auto length = offset.norm(2, {-1}, /*keepdim=*/true);
  const auto scale = torch::clamp_max(radius / length.clamp_min(1e-12), 1.0);
  const auto clipped = anchor + offset * scale;
  eps = (x_t - a * clipped) / s;
}

void throw_non_finite(MPI_Comm comm, const System& system, const torch::Tensor& eps,
                      const torch::Tensor& owned_rows, const std::vector<std::int64_t>& owned_atoms,
                      std::int64_t block, std::int64_t k, std::int64_t model_step) {
  const auto bad = torch::isfinite(eps.index_select(0, owned_rows)).logical_not().flatten(1).any(1);
  const auto rows = bad.nonzero().squeeze(1);
  const auto count = rows.numel();
  // Owned atoms are ascending, so the first bad row is this rank's lowest bad atom.
  const double first =
      count > 0 ? static_cast<double>(owned_atoms[static_cast<std::size_t>(rows[0].item<std::int64_t>())])
                : static_cast<double>(system.atom_count());
  auto c = torch::tensor({static_cast<double>(count)}, kF64);
  auto f = torch::tensor({first}, kF64);
  all_reduce(c, MPI_SUM, comm);
  all_reduce(f, MPI_MIN, comm);
  const auto atom = static_cast<int>(f.item<double>());
  throw Error("non-finite model output at block " + std::to_string(block) + ", denoising step " +
                  std::to_string(k) + " (diffusion step " + std::to_string(model_step) + ") for " +
                  std::to_string(static_cast<std::int64_t>(c.item<double>())) + " atom(s), first " +
                  (atom < system.atom_count() ? system.describe_atom(atom) : std::to_string(atom)) +
                  "; no frame of this block was written",
              2);
}

}  // namespace hemeplm::sample
