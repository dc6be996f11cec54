// Training examples from H5MD datasets: every rank draws its own (trajectory, window, fragment) samples
// from the parallel reader, and each sample becomes the model input of its atoms plus the clean window
// x0, the per-atom loss weights and, when the dataset has them, the energy and forces of the window's
// first frame. Systems larger than max_sample_atoms are cut into the decomposition layer's denoising
// fragments (core + buffer); the loss then runs over core atoms only, since buffer atoms see a truncated
// environment. Held-out validation windows are the chronological tail of every trajectory, or, when every
// trajectory is a single frame (a molecule set from `prepare --molecules`), the last datasets. Datasets
// with per-frame properties (/observables/properties) label each example with them.
#pragma once

#include <mpi.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/vec3.hpp"
#include "hemeplm/decomposition/fragments.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/dataset_sampler.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/trainer.hpp"

namespace hemeplm::train {

struct TrainingDataOptions {
  std::vector<std::string> files;    ///< H5MD datasets written by `hemeplm prepare`
  int window_frames = 1;             ///< T frames per example (1 = conformer training)
  int window_stride = 1;             ///< frames between window starts
  double validation_fraction = 0.1;  ///< chronological tail of every trajectory held out, [0, 0.9];
                                     ///< with one-frame trajectories only: the last ceil(f x files) files
                                     ///< (at most all but one)
  int validation_windows = 64;       ///< at most this many validation windows in all (evenly spread)
  int max_sample_atoms = 4000;       ///< larger systems are split into denoising fragments
  decomposition::DenoiseOptions fragments;
  ModelInputOptions input;  ///< cutoff, hops, domains, dtype (with_context is ignored: always set)
  std::uint64_t seed = 1;
};

/// The data options a Trainer with these training options uses (window of 1 frame in stage 1, the
/// model's cutoff and domain count, the fragment settings, the dtype).
TrainingDataOptions training_data_options(const TrainingOptions& options);

struct TrainingExample {
  model::HemePLMInput input;  ///< one graph; context = the window's first frame
  torch::Tensor x0;           ///< [N, T, 3] clean window (Å), input dtype
  torch::Tensor atom_weight;  ///< [N] loss weight: 1 core, 0 buffer; undefined = every atom counts
  torch::Tensor energy;       ///< [1] potential energy of frame 0 (kJ/mol), float64; undefined when absent
  torch::Tensor forces;       ///< [N, 3] forces of frame 0 (kJ/mol/Å); undefined when absent
  /// [P] float64 labels of the window's first frame in TrainingData::property_names() order; undefined
  /// when the datasets have no common properties, and for fragment samples (properties label the
  /// whole system).
  torch::Tensor properties;
  bool has_ligand = false;
};

/// Energy standardisation of the energy head: E = sum_i std * y_i + mean.
struct EnergyStatistics {
  bool available = false;  ///< every dataset has potential energies and forces
  double mean = 0;         ///< mean potential energy per frame (kJ/mol)
  double std = 1;          ///< RMS force component (kJ/mol/Å), the natural scale of forces and energies
};

class TrainingData {
 public:
  /// Opens every file (collectively on `comm`: each rank reads independently what it samples) and builds
  /// the sampler of this rank. UsageError/InputError naming the file for anything unusable.
  TrainingData(const TrainingDataOptions& options, MPI_Comm comm);
  ~TrainingData();
  TrainingData(const TrainingData&) = delete;
  TrainingData& operator=(const TrainingData&) = delete;

  /// This rank's next training sample.
  parallel_io::WindowSample next();
  /// The example of a sample (training or validation).
  TrainingExample load(const parallel_io::WindowSample& sample);
  /// This rank's share of the fixed validation windows (the same list every time).
  std::vector<parallel_io::WindowSample> validation_samples() const;
  std::int64_t validation_total() const;  ///< over all ranks

  std::int64_t samples_per_epoch() const;  ///< per rank
  std::string position_json() const;       ///< sampler position (see ShardedWindowSampler)
  void restore(const std::string& position_json);

  /// Mean energy and force scale over up to `max_frames` training frames (the same on every rank).
  EnergyStatistics energy_statistics(int max_frames = 1000) const;
  bool has_energies() const;
  /// Properties every dataset has (sorted; empty when one dataset has none), their units as stored.
  std::vector<std::string> property_names() const;
  std::vector<std::string> property_units() const;
  /// Per property: mean and population standard deviation (floored at 1e-6) over every training frame
  /// of every dataset; the same on every rank.
  std::vector<std::pair<double, double>> property_statistics() const;
  double dt_ps() const;               ///< time between frames of the first trajectory (0 when unknown)
  int fragment_count() const;         ///< samples units per window (1 per unfragmented dataset)
  int max_atoms() const;              ///< largest sample (atoms)
  int atomic_number_limit() const;    ///< 1 + the largest atomic number in the data
  std::vector<int> elements() const;  ///< atomic numbers present in the data, ascending
  const TrainingDataOptions& options() const { return options_; }

 private:
  class Impl;
  TrainingDataOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hemeplm::train
