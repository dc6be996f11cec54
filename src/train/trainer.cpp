// The training loop (see trainer.hpp): setup, steps, validation, checkpoints and restart.
#include "hemeplm/train/trainer.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/loss.hpp"
#include "hemeplm/dist/communicator.hpp"
#include "hemeplm/dist/device.hpp"
#include "hemeplm/dist/gradient_all_reduce.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/train/learning_rate.hpp"
#include "hemeplm/train/model_state.hpp"
#include "hemeplm/train/optimizer.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "hemeplm/train/training_data.hpp"
#include "hemeplm/train/training_targets.hpp"
#include "hemeplm/train/weight_ema.hpp"
#include "stop_signals.hpp"
#include "training_log.hpp"
#include "training_loss.hpp"

namespace hemeplm::train {
namespace {

using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Stage 1 trains the denoiser's conformer part (what stage 2 freezes), plus the energy model when the
/// data has labels. Stage 2 trains everything else; the ViSNet backbone is the context encoder there, so
/// it trains from the diffusion loss too, while the energy head (used by the energy/force terms only)
/// trains only with labels. Unused modules keep requires_grad = false, so AdamW's weight decay never
/// touches a module the step does not use. Property terms train the backbone and their heads; without the
/// diffusion term (--targets diffusion:0) nothing of the denoising path trains.
void select_trainable(model::HemePLM& model, int stage, bool energy_terms, bool property_terms,
                      bool diffusion_term) {
  for (auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    bool trainable;
    if (name.rfind("energy_model.", 0) == 0) {
      const bool backbone = name.rfind("energy_model.backbone.", 0) == 0;
      trainable = energy_terms || (backbone && ((stage == 2 && diffusion_term) || property_terms));
    } else if (name.rfind("property_heads.", 0) == 0) {
      trainable = property_terms;
    } else if (!diffusion_term) {
      trainable = false;
    } else if (stage == 1) {
      trainable = name.rfind("denoiser.embedding.", 0) == 0 || name.rfind("denoiser.input_linear.", 0) == 0 ||
                  name.rfind("denoiser.spatial.", 0) == 0;
    } else {
      trainable = true;
    }
    item.value().set_requires_grad(trainable);
  }
  if (stage == 2) model->freeze_spatial();
}

ordered_json options_json(const TrainingOptions& o) {
  ordered_json j;
  j["stage"] = o.stage;
  j["data"] = o.data;
  j["window_frames"] = o.stage == 1 ? 1 : o.window_frames;
  j["window_stride"] = o.window_stride;
  j["validation_fraction"] = o.validation_fraction;
  j["batch_per_rank"] = o.batch;
  j["steps"] = o.steps;
  j["lr"] = o.lr;
  j["warmup_steps"] = o.warmup_steps;
  j["decay"] = o.decay;
  j["min_lr"] = o.min_lr;
  j["weight_decay"] = o.weight_decay;
  j["clip"] = o.clip;
  j["ema_decay"] = o.ema_decay;
  j["seed"] = o.seed;
  j["diffusion_steps"] = o.diffusion_steps;
  j["schedule"] = o.schedule;
  j["kabsch"] = o.kabsch;
  // Only when used, so that checkpoints written before the option existed resume unchanged.
  if (o.per_frame_noise > 0) j["per_frame_noise"] = o.per_frame_noise;
  j["conditioning"] = o.conditioning;
  j["energy_weight"] = o.energy_weight;
  j["force_weight"] = o.force_weight;
  j["energy_ema"] = o.energy_ema;
  j["targets"] = o.targets;
  j["float64"] = o.float64;
  j["max_sample_atoms"] = o.max_sample_atoms;
  j["fragment_core_residues"] = o.fragment_core_residues;
  j["fragment_buffer"] = o.fragment_buffer;
  j["init"] = o.init;
  if (!o.residue_embeddings.empty()) j["residue_embeddings"] = o.residue_embeddings;
  return j;
}

}  // namespace

class Trainer::Impl {
 public:
  // First member: a preemption during the (possibly long) setup is recorded, not fatal.
  StopSignals signals;
  TrainingOptions options;
  MPI_Comm comm;
  int rank = 0, ranks = 1;
  std::ostream* out;
  torch::Device device = torch::kCPU;
  model::HemePLM model{nullptr};
  std::unique_ptr<TrainingData> data;
  std::unique_ptr<diffusion::NoiseSchedule> schedule;
  LossSettings loss;
  std::unique_ptr<dist::Communicator> communicator;
  std::unique_ptr<dist::GradientAllReduce> reducer;
  std::unique_ptr<AdamW> optimizer;
  std::unique_ptr<LearningRateSchedule> lr;
  std::unique_ptr<WeightEma> ema;
  diffusion::LossEma energy_ema;
  EnergyStatistics energy;
  TrainingTargets targets;
  std::vector<std::string> added_property_heads;  ///< named by --targets, added to the model config
  std::vector<torch::Tensor> trainable;
  std::int64_t step = 0, draws = 0, bad_steps = 0, skipped = 0;

  Impl(const TrainingOptions& o, MPI_Comm c, std::ostream* os)
      : options(o), comm(c), out(os), energy_ema(o.energy_ema) {
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &ranks);
    validate_options();
    const auto placement = dist::node_placement(comm);
    model::set_torch_threads(options.threads, placement.local_size);
    model::keep_freed_tensor_memory();
    if (options.deterministic) torch::globalContext().setDeterministicAlgorithms(true, false);

    const TrainingDataOptions data_options = training_data_options(options);
    set_residue_embedding_dim(data_options.input.residue_embeddings.get());
    data = std::make_unique<TrainingData>(data_options, comm);
    if (data->atomic_number_limit() > options.model.visnet.max_z)
      throw UsageError("the data holds atomic number " + std::to_string(data->atomic_number_limit() - 1) +
                       ", outside the model's embedding table (visnet.max_z = " +
                       std::to_string(options.model.visnet.max_z) + ")");

    schedule = std::make_unique<diffusion::NoiseSchedule>(diffusion::parse_schedule_kind(options.schedule),
                                                          options.diffusion_steps);
    loss.stage = options.stage;
    loss.schedule = schedule.get();
    loss.mix = diffusion::parse_conditioning_mix(options.conditioning);
    loss.kabsch = options.kabsch;
    loss.per_frame_noise = options.per_frame_noise;
    configure_targets();
    loss.energy_alpha = options.energy_ema;
    loss.seed = options.seed;

    choose_device();
    loss.device = device;
    torch::manual_seed(options.seed);  // the same initial parameters on every rank and in every run
    model = model::HemePLM(options.model);
    model->to(options.float64 ? torch::kFloat64 : torch::kFloat32);
    model->to(device);
    if (!options.init.empty()) {
      const auto init = parallel_io::read_checkpoint(options.init);  // read once: config and parameters
      check_model_config(options.init, init.config_json);
      load_module_state(*model, init.parameters, options.init);
    } else {
      if (loss.energy_terms) {
        energy = data->energy_statistics();
        model->energy_model()->set_standardization(energy.mean, energy.std);
      }
      set_property_statistics();
    }
    bind_property_terms();
    select_trainable(model, options.stage, loss.energy_terms, !loss.properties.empty(),
                     loss.diffusion_weight > 0);

    std::vector<torch::Tensor> state;
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (auto& item : model->named_parameters()) {
      state.push_back(item.value());
      if (item.value().requires_grad())
        named.emplace_back(item.key(), item.value()), trainable.push_back(item.value());
    }
    for (auto& item : model->named_buffers()) state.push_back(item.value());
    dist::broadcast_tensors(*communicator, state, 0);
    reducer = std::make_unique<dist::GradientAllReduce>(trainable);
    AdamWOptions adam;
    adam.weight_decay = options.weight_decay;
    optimizer = std::make_unique<AdamW>(named, adam);
    LearningRateOptions l;
    l.lr = options.lr;
    // A short run (a test, a smoke run) keeps a warm-up shorter than itself rather than failing.
    l.warmup_steps =
        std::min<std::int64_t>(options.warmup_steps, std::max<std::int64_t>(0, options.steps - 1));
    l.decay = parse_decay_kind(options.decay);
    l.total_steps = std::max<std::int64_t>(1, options.steps);
    l.min_lr = std::min(options.min_lr, options.lr);
    lr = std::make_unique<LearningRateSchedule>(l);
    ema = std::make_unique<WeightEma>(named, options.ema_decay);
    loss.energy_std = model_energy_std();
  }

  /// --targets: the loss terms and weights; property targets missing from the model's property_heads are
  /// added to it (the checkpoint records them, so a --resume or --init checkpoint without them fails
  /// check_model_config). Empty --targets keeps energy and forces whenever every dataset has them.
  void configure_targets() {
    targets = parse_training_targets(options.targets, options.energy_weight, options.force_weight);
    if (!targets.given) {
      loss.energy_terms = data->has_energies() && (options.energy_weight > 0 || options.force_weight > 0);
      loss.energy_weight = options.energy_weight;
      loss.force_weight = options.force_weight;
      return;
    }
    if ((targets.energy || targets.forces) && !data->has_energies())
      throw UsageError("--targets '" + options.targets +
                       "': energy/forces requested but not every dataset has potential energies and forces");
    loss.energy_terms = targets.energy || targets.forces;
    loss.energy_weight = targets.energy_weight;
    loss.force_weight = targets.force_weight;
    loss.diffusion_weight = targets.diffusion_weight;
    auto heads = model::split_property_heads(options.model.property_heads);
    for (const auto& [name, weight] : targets.properties) {
      if (std::find(heads.begin(), heads.end(), name) != heads.end()) continue;
      heads.push_back(name);
      added_property_heads.push_back(name);
      options.model.property_heads += (options.model.property_heads.empty() ? "" : ",") + name;
    }
    check_property_targets(targets, heads, data->property_names());
    bool any_property = false;
    for (const auto& item : targets.properties) any_property = any_property || item.second > 0;
    if (targets.diffusion_weight <= 0 && !loss.energy_terms && !any_property)
      throw UsageError("--targets '" + options.targets + "' leaves no loss term with a weight > 0");
  }

  /// Head standardisation of a fresh run from the training labels (mean, std per property).
  void set_property_statistics() {
    if (!model->has_property_heads()) return;
    const auto names = data->property_names();
    const auto statistics = data->property_statistics();
    auto current = model->property_standardization();
    const auto heads = model->property_names();
    for (std::size_t h = 0; h < heads.size(); ++h) {
      const auto it = std::find(names.begin(), names.end(), heads[h]);
      if (it != names.end()) current[h] = statistics.at(static_cast<std::size_t>(it - names.begin()));
      if (!(current[h].second > 0)) current[h].second = 1.0;  // constant labels: keep the unit scale
    }
    model->set_property_standardization(current);
  }

  void bind_property_terms() {
    loss.properties.clear();
    const auto heads = model->property_names();
    const auto names = data->property_names();
    for (const auto& [name, weight] : targets.properties) {
      PropertyTerm term;
      term.name = name;
      term.weight = weight;
      term.head = std::find(heads.begin(), heads.end(), name) - heads.begin();
      term.label = std::find(names.begin(), names.end(), name) - names.begin();
      if (weight > 0) loss.properties.push_back(term);
    }
  }

  /// Terms of the joint loss from summed values: diffusion, energy/forces (EMA-less) and properties.
  double property_loss_sum(const std::vector<double>& squared, double labelled) const {
    double total = 0;
    for (std::size_t t = 0; t < loss.properties.size(); ++t)
      total += loss.properties[t].weight * squared[t] / std::max(1.0, labelled);
    return total;
  }

  std::vector<std::pair<std::string, double>> property_columns(const std::vector<double>& squared,
                                                               const std::vector<double>& absolute,
                                                               double labelled) const {
    std::vector<std::pair<std::string, double>> columns;
    if (labelled <= 0) return columns;
    for (std::size_t t = 0; t < loss.properties.size(); ++t) {
      columns.emplace_back("loss_" + loss.properties[t].name, squared[t] / labelled);
      columns.emplace_back(loss.properties[t].name + "_mae", absolute[t] / labelled);
    }
    return columns;
  }

  void validate_options() const {
    const auto& o = options;
    if (o.stage != 1 && o.stage != 2)
      throw UsageError("--stage must be 1 or 2 (got " + std::to_string(o.stage) + ")");
    if (o.steps < 0) throw UsageError("--steps must be >= 0");
    if (o.batch < 1) throw UsageError("--batch must be at least 1 (got " + std::to_string(o.batch) + ")");
    if (!(o.lr > 0)) throw UsageError("--lr must be positive");
    if (o.stage == 2 && o.window_frames < 2)
      throw UsageError("--frames must be at least 2 in stage 2 (temporal training), got " +
                       std::to_string(o.window_frames));
    if (o.checkpoint_every < 1) throw UsageError("--checkpoint-every must be at least 1");
    if (o.diffusion_steps < 2) throw UsageError("--diffusion-steps must be at least 2");
    if (!(o.per_frame_noise >= 0 && o.per_frame_noise <= 1))
      throw UsageError("--per-frame-noise must be a probability in [0, 1] (got " +
                       std::to_string(o.per_frame_noise) + ")");
    if (o.max_bad_steps < 1) throw UsageError("--max-bad-steps must be at least 1");
  }

  void choose_device() {
    const bool want_gpu = options.backend == "nccl" || options.backend == "auto";
    int index = -1;
    if (want_gpu && torch::cuda::is_available()) index = dist::bind_device(comm);
    if (index >= 0) device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    if (options.backend == "nccl") {
      if (index < 0)
        throw UsageError("--backend nccl needs a CUDA device for every rank; none is usable here");
      communicator = dist::make_nccl_communicator(comm, index);
    } else if (options.backend == "auto" && index >= 0 && dist::nccl_built()) {
      communicator = dist::make_nccl_communicator(comm, index);
    } else if (options.backend == "mpi" || options.backend == "auto") {
      communicator = dist::make_mpi_communicator(comm);
    } else {
      throw UsageError("--backend must be auto, mpi or nccl (got " + options.backend + ")");
    }
  }

  double model_energy_std() {
    for (auto& item : model->energy_model()->named_buffers()) {
      if (item.key() == "std") return item.value().item<double>();
    }
    return 1.0;
  }

  /// A fresh model takes the width of --residue-embeddings; a model that wants them needs the file.
  void set_residue_embedding_dim(const parallel_io::ResidueEmbeddingTable* table) {
    auto& dim = options.model.residue_embedding_dim;
    if (!table) {
      if (dim > 0)
        throw UsageError("residue_embedding.dim = " + std::to_string(dim) +
                         " needs --residue-embeddings FILE (the per-residue vectors)");
      return;
    }
    if (dim > 0 && dim != table->width())
      throw UsageError("--residue-embeddings " + table->path() + " holds " + std::to_string(table->width()) +
                       "-wide vectors, but residue_embedding.dim is " + std::to_string(dim));
    dim = table->width();
  }

  void check_model_config(const std::string& path, const std::string& config_json) const {
    const auto stored = checkpoint_model_config(config_json, path);
    if (stored.residue_embedding_dim != options.model.residue_embedding_dim) {
      const auto theirs = stored.residue_embedding_dim, mine = options.model.residue_embedding_dim;
      throw InputError(path, "model configuration",
                       theirs == 0 ? "was trained without residue embeddings, but this run gives " +
                                         std::to_string(mine) + "-wide ones (--residue-embeddings)"
                       : mine == 0 ? "was trained with " + std::to_string(theirs) +
                                         "-wide residue embeddings: give --residue-embeddings FILE"
                                   : "was trained with " + std::to_string(theirs) +
                                         "-wide residue embeddings, --residue-embeddings " +
                                         options.residue_embeddings + " holds " + std::to_string(mine) +
                                         "-wide ones");
    }
    const auto mine = model::hyperparameter_values(options.model);
    const auto theirs = model::hyperparameter_values(stored);
    std::string differences;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (mine[i].second != theirs[i].second)
        differences += (differences.empty() ? "" : ", ") + mine[i].first + " " + theirs[i].second +
                       " (checkpoint) vs " + mine[i].second;
    }
    if (!differences.empty())
      throw InputError(path, "model configuration", "does not match this run's model: " + differences);
  }

  /// Keys of this rank's next example: (epoch, position in the epoch's permutation), so the draws of a
  /// sample do not depend on how many ranks share the epoch.
  ExampleKey next_key() {
    const auto per_epoch = std::max<std::int64_t>(1, data->samples_per_epoch());
    const auto n = draws++;
    return {static_cast<std::uint64_t>(n / per_epoch),
            static_cast<std::uint64_t>((n % per_epoch) * ranks + rank)};
  }

  struct StepStats {
    LossSums sums;
    double comm_seconds = 0, grad_norm = 0;
    bool finite = true;
    bool stop = false, time_checkpoint = false;
  };

  /// Appends the property sums (squared per term, absolute per term, labelled) to an all-reduce vector;
  /// ranks without property labels in the batch contribute zeros.
  void append_property_sums(std::vector<double>& v, const LossSums& sums) const {
    const auto terms = loss.properties.size();
    for (std::size_t t = 0; t < terms; ++t)
      v.push_back(t < sums.property_squared.size() ? sums.property_squared[t] : 0.0);
    for (std::size_t t = 0; t < terms; ++t)
      v.push_back(t < sums.property_abs.size() ? sums.property_abs[t] : 0.0);
    v.push_back(sums.property_labelled);
  }

  /// One batch: loss, backward, gradient average; the caller decides on the update.
  StepStats gradients(int stop_signal, bool time_due) {
    StepStats st;
    std::vector<TrainingExample> examples;
    std::vector<ExampleKey> keys;
    for (int j = 0; j < options.batch; ++j) {
      examples.push_back(data->load(data->next()));
      keys.push_back(next_key());
    }
    optimizer->zero_grad();
    model->train();
    st.sums = batch_loss(model, examples, keys, loss, true, static_cast<double>(options.batch));
    st.comm_seconds = reducer->all_reduce_mean(*communicator);
    // One small all-reduce carries the loss terms and the stop decisions, so every rank agrees.
    std::vector<double> v = {st.sums.diffusion,
                             st.sums.energy,
                             st.sums.forces,
                             st.sums.energy_abs,
                             st.sums.force_abs,
                             st.sums.labelled,
                             st.sums.force_components,
                             st.sums.examples,
                             stop_signal != 0 ? 1.0 : 0.0,
                             rank == 0 && time_due ? 1.0 : 0.0};
    append_property_sums(v, st.sums);
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, comm);
    const auto terms = loss.properties.size();
    st.sums = LossSums{};
    st.sums.diffusion = v[0], st.sums.energy = v[1], st.sums.forces = v[2], st.sums.energy_abs = v[3];
    st.sums.force_abs = v[4], st.sums.labelled = v[5], st.sums.force_components = v[6];
    st.sums.examples = v[7];
    st.sums.property_squared.assign(v.begin() + 10, v.begin() + 10 + terms);
    st.sums.property_abs.assign(v.begin() + 10 + terms, v.begin() + 10 + 2 * terms);
    st.sums.property_labelled = v[10 + 2 * terms];
    st.stop = v[8] > 0;
    st.time_checkpoint = v[9] > 0;
    double property_squared = 0;
    for (const double x : st.sums.property_squared) property_squared += x;
    st.finite = std::isfinite(v[0] + v[1] + v[2] + property_squared) && gradients_finite(trainable);
    return st;
  }

  ValidationRecord validate() {
    ValidationRecord r;
    r.step = step;
    const auto samples = data->validation_samples();
    LossSums sums;
    ema->swap();  // validation with the EMA weights, the ones sampling uses
    model->eval();
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < samples.size(); ++i) {
        std::vector<TrainingExample> one{data->load(samples[i])};
        // Fixed keys: every validation sees the same masks, steps and noise, so values are comparable.
        const auto index = static_cast<std::uint64_t>(i) * ranks + rank;
        const auto s = batch_loss(model, one, {ExampleKey{0x76616c6964ULL, index}}, loss, false, 1.0);
        sums.diffusion += s.diffusion, sums.energy += s.energy, sums.forces += s.forces;
        sums.energy_abs += s.energy_abs, sums.force_abs += s.force_abs, sums.labelled += s.labelled;
        sums.force_components += s.force_components, sums.examples += s.examples;
        sums.property_squared.resize(loss.properties.size(), 0.0);
        sums.property_abs.resize(loss.properties.size(), 0.0);
        for (std::size_t t = 0; t < s.property_squared.size(); ++t)
          sums.property_squared[t] += s.property_squared[t], sums.property_abs[t] += s.property_abs[t];
        sums.property_labelled += s.property_labelled;
      }
    }
    ema->swap();
    std::vector<double> v = {sums.diffusion, sums.energy,   sums.forces,           sums.energy_abs,
                             sums.force_abs, sums.labelled, sums.force_components, sums.examples};
    append_property_sums(v, sums);
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, comm);
    const auto terms = loss.properties.size();
    const std::vector<double> squared(v.begin() + 8, v.begin() + 8 + terms);
    const std::vector<double> absolute(v.begin() + 8 + terms, v.begin() + 8 + 2 * terms);
    const double property_labelled = v[8 + 2 * terms];
    const double n = std::max(1.0, v[7]), labelled = std::max(1.0, v[5]);
    r.windows = static_cast<std::int64_t>(v[7]);
    r.loss_diffusion = v[0] / n;
    r.loss_energy = v[5] > 0 ? v[1] / labelled : 0;
    r.loss_forces = v[5] > 0 ? v[2] / labelled : 0;
    r.loss = loss.diffusion_weight * r.loss_diffusion + loss.energy_weight * r.loss_energy +
             loss.force_weight * r.loss_forces + property_loss_sum(squared, property_labelled);
    r.properties = property_columns(squared, absolute, property_labelled);
    if (v[5] > 0) r.energy_mae = v[3] / labelled, r.force_mae = v[4] / std::max(1.0, v[6]);
    lr->report_validation(r.loss);
    return r;
  }

  // --- checkpoints ---------------------------------------------------------------------------------

  TrainingState state() const {
    TrainingState s;
    s.step = step;
    s.draws = draws;
    s.skipped = skipped;
    s.bad_steps = bad_steps;
    s.lr_schedule_json = lr->state_json();
    s.energy_ema_initialised = energy_ema.initialised();
    s.energy_ema_value = energy_ema.value();
    return s;
  }

  std::string save_checkpoint(const parallel_io::CheckpointDirectory& directory) {
    // Sampler positions of every rank, gathered to rank 0 (they differ only in the rank field today).
    const std::string mine = data->position_json();
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(ranks);
    MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm);
    std::vector<int> offsets(ranks, 0);
    for (int r = 1; r < ranks; ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
    std::string all(rank == 0 ? static_cast<std::size_t>(offsets.back() + lengths.back()) : 0, '\0');
    MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0, comm);
    std::string path;
    if (rank == 0) {
      std::vector<std::string> positions;
      for (int r = 0; r < ranks; ++r) positions.push_back(all.substr(offsets[r], lengths[r]));
      parallel_io::Checkpoint ck;
      ck.parameters = module_state_records(*model);
      ck.optimizer = optimizer->state_records();
      ck.ema = ema->state_records();
      ck.rng = rng_records(options.seed);
      ck.step = step;
      ck.data_position_json = data_position_json(positions, state());
      ordered_json config;
      config["format"] = "hemeplm-train";
      config["model"] = ordered_json::parse(model_config_json_text(options.model));
      config["training"] = options_json(options);
      // elements: sampling warns about elements the model never saw.
      config["data"] = {{"dt_ps", data->dt_ps()}, {"ranks", ranks}, {"elements", data->elements()}};
      config["energy"] = {{"available", loss.energy_terms}, {"std", loss.energy_std}};
      ck.config_json = config.dump();
      path = directory.save(ck);
    }
    // Nobody continues (or exits) before the file is complete: a kill after this point loses nothing.
    MPI_Barrier(comm);
    int path_length = static_cast<int>(path.size());
    MPI_Bcast(&path_length, 1, MPI_INT, 0, comm);
    path.resize(static_cast<std::size_t>(path_length));
    MPI_Bcast(path.data(), path_length, MPI_CHAR, 0, comm);
    return path;
  }

  void restore(const std::string& path) {
    const auto ck = parallel_io::read_checkpoint(path);
    check_model_config(path, ck.config_json);
    const auto config = ordered_json::parse(ck.config_json, nullptr, false);
    if (config.is_discarded() || !config.contains("training"))
      throw InputError(path, "/parameters/config", "is not a hemeplm training checkpoint");
    const auto& training = config["training"];
    if (training.value("stage", 0) != options.stage)
      throw InputError(path, "training stage",
                       "was " + std::to_string(training.value("stage", 0)) + ", this run is stage " +
                           std::to_string(options.stage));
    const auto& position = parse_data_position(path, ck.data_position_json);
    if (static_cast<int>(position.rank_positions.size()) != ranks)
      throw InputError(path, "data position",
                       "was written by " + std::to_string(position.rank_positions.size()) +
                           " ranks; resume with the same number (this run has " + std::to_string(ranks) +
                           ")");
    if (training.value("batch_per_rank", 0) != options.batch)
      throw InputError(path, "batch",
                       "was " + std::to_string(training.value("batch_per_rank", 0)) +
                           " per rank; resume with the same --batch (" + std::to_string(options.batch) +
                           " given)");
    load_module_state(*model, ck.parameters, path);
    optimizer->load_state_records(ck.optimizer, path);
    ema->load_state_records(ck.ema, path);
    data->restore(position.rank_positions[rank]);
    const TrainingState& s = position.state;
    step = ck.step;
    draws = s.draws;
    skipped = s.skipped;
    bad_steps = s.bad_steps;
    lr->restore(s.lr_schedule_json);
    energy_ema.restore(s.energy_ema_initialised, s.energy_ema_value);
    loss.energy_std = model_energy_std();
  }
};

Trainer::Trainer(const TrainingOptions& options, MPI_Comm comm, std::ostream* out)
    : impl_(std::make_unique<Impl>(options, comm, out)) {}

Trainer::~Trainer() = default;

std::int64_t Trainer::trainable_parameters() const {
  std::int64_t count = 0;
  for (const auto& p : impl_->trainable) count += p.numel();
  return count;
}

double Trainer::compute_gradients(std::vector<double>& gradient) {
  auto& m = *impl_;
  const auto st = m.gradients(0, false);
  gradient.clear();
  for (const auto& p : m.trainable) {
    const auto g = p.grad().defined()
                       ? p.grad().detach().to(torch::kCPU, torch::kFloat64).contiguous().reshape({-1})
                       : torch::zeros({p.numel()}, torch::kFloat64);
    gradient.insert(gradient.end(), g.data_ptr<double>(), g.data_ptr<double>() + g.numel());
  }
  return st.sums.diffusion / std::max(1.0, st.sums.examples);
}

TrainingSummary Trainer::run() {
  auto& m = *impl_;
  const auto& o = m.options;
  const bool root = m.rank == 0;
  parallel_io::CheckpointDirectory directory(o.checkpoint_dir, "checkpoint", o.keep_checkpoints);
  TrainingSummary summary;
  if (o.resume) {
    const std::string latest = directory.latest();
    if (!latest.empty()) {
      m.restore(latest);
      if (root && m.out) *m.out << "resumed from " << latest << " at step " << m.step << "\n";
    } else if (root && m.out) {
      *m.out << "--resume: no checkpoint in " << o.checkpoint_dir << " yet; starting from step 0\n";
    }
  }
  const std::string log_path =
      o.log.empty() ? (std::filesystem::path(o.checkpoint_dir) / "train.jsonl").string() : o.log;
  std::unique_ptr<TrainingLog> log;
  if (root) log = std::make_unique<TrainingLog>(log_path, m.step, m.out, o.steps, o.progress);
  const auto note = [&](const std::string& text) {
    if (log) log->note(text);
  };
  if (root) {
    note("training stage " + std::to_string(o.stage) + " of model '" + o.model.name +
         "': " + std::to_string(trainable_parameters()) + " trainable parameters, " +
         std::to_string(m.ranks) + " rank(s) x batch " + std::to_string(o.batch) + ", backend " +
         m.communicator->backend_name() + ", " + (m.device.is_cuda() ? "CUDA" : "CPU") +
         (m.loss.energy_terms ? ", energy/force terms on" : "") + "; log " + log_path);
    for (const auto& name : m.added_property_heads)
      note("--targets: added property head '" + name +
           "' to the model (model.property_heads = " + m.options.model.property_heads + ")");
    for (const auto& term : m.loss.properties) {
      const auto statistics = m.model->property_standardization().at(static_cast<std::size_t>(term.head));
      note("property term '" + term.name + "' (weight " + std::to_string(term.weight) +
           "): head standardisation mean " + std::to_string(statistics.first) + ", std " +
           std::to_string(statistics.second));
    }
  }
  const std::int64_t per_epoch_steps =
      std::max<std::int64_t>(1, m.data->samples_per_epoch() / std::max(1, o.batch));
  const std::int64_t validate_every = o.validate_every > 0 ? o.validate_every : per_epoch_steps;
  const bool has_validation = m.data->validation_total() > 0;
  const auto validate = [&] {
    const auto r = m.validate();
    if (log) log->validation(r);
  };
  const auto& signals = m.signals;
  int early_stop = signals.received() != 0 ? 1 : 0;  // every rank must take the same branch
  MPI_Allreduce(MPI_IN_PLACE, &early_stop, 1, MPI_INT, MPI_MAX, m.comm);
  if (early_stop != 0) {  // stopped before the first step: nothing new to save
    note("stop signal received before the first step; nothing to save, exiting");
    summary.step = m.step;
    summary.stopped_by_signal = true;
    return summary;
  }
  if (has_validation && m.step == 0 && o.steps > 0) validate();  // the untrained baseline

  auto last_checkpoint_time = Clock::now();
  while (m.step < o.steps) {
    const auto t0 = Clock::now();
    const bool time_due =
        o.checkpoint_minutes > 0 && seconds_since(last_checkpoint_time) >= 60.0 * o.checkpoint_minutes;
    auto st = m.gradients(signals.received(), time_due);
    StepRecord record;
    record.skipped = !st.finite;
    const double rate = m.lr->lr(m.step);
    if (st.finite) {
      record.grad_norm = clip_grad_norm(m.trainable, o.clip);
      m.optimizer->step(rate);
      m.ema->update();
      m.bad_steps = 0;
    } else {
      m.optimizer->zero_grad();
      ++m.skipped;
      if (++m.bad_steps >= o.max_bad_steps) {
        throw Error("training diverged: " + std::to_string(m.bad_steps) +
                    " consecutive steps with non-finite loss or gradients (last at step " +
                    std::to_string(m.step + 1) + "); lower --lr, raise --warmup-steps or check the data");
      }
    }
    ++m.step;
    const double n = std::max(1.0, st.sums.examples);
    const double labelled = st.sums.labelled;
    record.step = m.step;
    record.epoch = (m.draws - 1) / std::max<std::int64_t>(1, m.data->samples_per_epoch());
    record.loss_diffusion = st.sums.diffusion / n;
    if (labelled > 0) {
      record.loss_energy =
          m.energy_ema.apply(torch::tensor(st.sums.energy / labelled, torch::kFloat64)).item<double>();
      record.loss_forces = st.sums.forces / labelled;
      record.force_mae = st.sums.force_abs / std::max(1.0, st.sums.force_components);
    }
    record.loss = m.loss.diffusion_weight * record.loss_diffusion +
                  m.loss.energy_weight * record.loss_energy + m.loss.force_weight * record.loss_forces +
                  m.property_loss_sum(st.sums.property_squared, st.sums.property_labelled);
    record.properties =
        m.property_columns(st.sums.property_squared, st.sums.property_abs, st.sums.property_labelled);
    record.lr = rate;
    record.step_seconds = seconds_since(t0);
    record.samples_per_s = st.sums.examples / std::max(1e-9, record.step_seconds);
    record.allreduce_fraction = st.comm_seconds / std::max(1e-9, record.step_seconds);
    summary.last_loss = record.loss;
    if (log) log->step(record);

    if (has_validation && m.step % validate_every == 0 && m.step < o.steps) validate();
    const bool due = m.step % o.checkpoint_every == 0 || m.step == o.steps || st.stop || st.time_checkpoint;
    if (due) {
      summary.last_checkpoint = m.save_checkpoint(directory);
      last_checkpoint_time = Clock::now();
      if (st.time_checkpoint && !st.stop) note("checkpoint " + summary.last_checkpoint + " (time interval)");
    }
    if (st.stop) {
      note("stop signal received: checkpoint " + summary.last_checkpoint + " written at step " +
           std::to_string(m.step) + "; continue with --resume");
      summary.stopped_by_signal = true;
      break;
    }
  }
  if (has_validation && m.step == o.steps && !summary.stopped_by_signal && o.steps > 0) validate();
  if (summary.last_checkpoint.empty() && o.steps > 0) summary.last_checkpoint = directory.latest();
  if (log) {
    log->finish();
    note("finished at step " + std::to_string(m.step) +
         (m.skipped ? " (" + std::to_string(m.skipped) + " non-finite steps skipped)" : "") +
         "; checkpoint " + summary.last_checkpoint);
  }
  summary.step = m.step;
  summary.skipped_steps = m.skipped;
  return summary;
}

}  // namespace hemeplm::train
