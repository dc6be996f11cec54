// Data-parallel training of the HemePLM model (model-spec.md (c), (d) and the joint loss): every rank
// draws its own samples, gradients are averaged over ranks in ~25 MB buckets (MPI, or NCCL on GPUs),
// AdamW with warm-up and decay, clipping, EMA weights, a NaN/Inf guard, validation on a held-out
// chronological split, and checkpoints that make a resumed run bit-identical to an uninterrupted one.
// Torch-free header: the CLI includes it without paying for the LibTorch headers.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "hemeplm/model/config.hpp"

namespace hemeplm::train {

struct TrainingOptions {
  // Data.
  std::vector<std::string> data;  ///< H5MD datasets (hemeplm prepare)
  int window_frames = 8;          ///< T frames per example in stage 2 (stage 1 always uses 1)
  int window_stride = 1;          ///< frames between window starts
  double validation_fraction = 0.1;
  int validation_windows = 64;
  std::int64_t validate_every = 0;  ///< steps between validations; 0 = once per epoch
  int max_sample_atoms = 4000;      ///< larger systems are trained on denoising fragments
  int fragment_core_residues = 8;   ///< consecutive residues per fragment core
  double fragment_buffer = 8.0;     ///< Å, buffer radius around a fragment core

  // Model and stages.
  model::HemePLMConfig model = model::model_config("tiny");
  int stage = 2;     ///< 1: conformer pretraining on single frames; 2: temporal, spatial layers frozen
  std::string init;  ///< checkpoint whose parameters initialise the model (stage 2 from stage 1)
  bool float64 = false;
  /// Precomputed per-residue embeddings (HDF5/NPY, docs/residue-embeddings.md); empty = none. Sets the
  /// model's residue_embedding.dim to the file's width.
  std::string residue_embeddings;

  // Diffusion and loss.
  int diffusion_steps = 1000;
  std::string schedule = "linear";  ///< linear (scaled) | cosine
  bool kabsch = true;
  /// Probability that a stage-2 example draws staggered per-frame noise levels (the rolling sampler's
  /// windows, diffusion/rolling.hpp) instead of one level for the window; 0 = the plain training.
  double per_frame_noise = 0;
  std::string conditioning = "forecast=0.5,tps=0.2,inpaint=0.2,unconditional=0.1";
  double energy_weight = 0.05;  ///< lambda_E (used when every dataset has energies and forces)
  double force_weight = 0.95;   ///< lambda_F
  double energy_ema = 0.05;     ///< EMA alpha of the energy term (TorchMD-Net)
  /// Supervised targets with weights, "energy:0.05,forces:0.95,gap:1" (a name alone takes weight 1; the
  /// energy and force weights default to energy_weight and force_weight). Empty = energy and forces when
  /// every dataset has them. Property names must be the model's property_heads.
  std::string targets;

  // Optimisation.
  std::int64_t steps = 1000;
  int batch = 4;  ///< examples per rank and step
  double lr = 1e-4;
  std::int64_t warmup_steps = 100;
  std::string decay = "cosine";  ///< constant | cosine | plateau
  double min_lr = 1e-6;
  double weight_decay = 0.01;
  double clip = 1.0;         ///< gradient-norm clip (0 = none)
  double ema_decay = 0.999;  ///< EMA of the weights
  int max_bad_steps = 10;    ///< consecutive non-finite steps before giving up
  std::uint64_t seed = 1;

  // Checkpoints, logs, runtime.
  std::string checkpoint_dir = "checkpoints";
  std::int64_t checkpoint_every = 500;
  double checkpoint_minutes = 30;
  int keep_checkpoints = 3;
  bool resume = false;
  bool deterministic = false;
  std::string log;               ///< JSON lines; empty = <checkpoint_dir>/train.jsonl
  int threads = 0;               ///< torch threads per rank; 0 = cores / ranks per node
  std::string backend = "auto";  ///< auto | mpi | nccl (auto: NCCL when built and a GPU is bound)
  bool progress = true;          ///< rank 0 prints progress lines
};

struct TrainingSummary {
  std::int64_t step = 0;           ///< optimizer steps completed (including before a resume)
  bool stopped_by_signal = false;  ///< SIGTERM/SIGUSR1/SIGINT: checkpoint written, exit 0
  std::string last_checkpoint;
  double last_loss = 0;
  std::int64_t skipped_steps = 0;  ///< non-finite steps skipped
};

class Trainer {
 public:
  /// Collective over `comm`. Throws UsageError/InputError (one line, naming the file) for bad options,
  /// data or checkpoints. `out` receives rank 0's progress (may be null).
  Trainer(const TrainingOptions& options, MPI_Comm comm, std::ostream* out);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Trains until options.steps or a stop signal (collective).
  TrainingSummary run();

  /// Test hook (collective): draws the next batch, computes the loss and the rank-averaged gradient,
  /// and changes no parameter. Returns the loss averaged over all ranks' examples; `gradient` gets
  /// every trainable parameter's averaged gradient, flattened in parameter order, as float64.
  double compute_gradients(std::vector<double>& gradient);

  /// Trainable parameter count (after the stage's freezing).
  std::int64_t trainable_parameters() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hemeplm::train
