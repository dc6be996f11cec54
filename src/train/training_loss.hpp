// The training loss of a batch of examples (model-spec.md (c) and the joint loss): per example a keyed
// draw of the conditioning masks, the diffusion step and the noise; examples grouped by conditioning mode
// (a batch shares its conditioning frames) and run through the model; the Kabsch-aligned epsilon loss
// over free entries (core atoms of fragments only), plus energy and force terms of the ViSNet head on
// the clean first frame when the data has labels, and per-molecule property terms (HOMO-LUMO gap, ...)
// of the property heads on the same clean frame.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/diffusion/conditioning.hpp"
#include "hemeplm/diffusion/schedule.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/train/training_data.hpp"

namespace hemeplm::train {

/// One supervised per-molecule property: MSE of the standardised prediction against the standardised
/// label (the head's own mean/std), times `weight`.
struct PropertyTerm {
  std::string name;
  std::int64_t head = 0;   ///< column of HemePLM::properties*() (model property_names() order)
  std::int64_t label = 0;  ///< entry of TrainingExample::properties (TrainingData::property_names() order)
  double weight = 1;
};

struct LossSettings {
  int stage = 2;
  double diffusion_weight = 1;  ///< 0: the denoiser does not run (property-only training)
  const diffusion::NoiseSchedule* schedule = nullptr;
  diffusion::ConditioningMix mix;
  bool kabsch = true;
  /// Probability that a stage-2 example draws per-frame noise levels (diffusion::draw_frame_steps) instead
  /// of one step for the whole window: what the rolling sampler needs.
  double per_frame_noise = 0;
  bool energy_terms = false;  ///< labels present and weights > 0
  double energy_weight = 0.05, force_weight = 0.95;
  double energy_alpha = 0.05;            ///< gradient of the EMA-smoothed energy term = alpha * d(L_E)
  double energy_std = 1.0;               ///< standardisation scale (kJ/mol and kJ/mol/Å)
  std::vector<PropertyTerm> properties;  ///< empty: no property terms
  std::uint64_t seed = 1;
  torch::Device device = torch::kCPU;
};

/// Identity of an example for its random draws: the same sample gets the same masks, step and noise
/// whatever the rank count or batch split (training: epoch and position in the epoch's permutation).
struct ExampleKey {
  std::uint64_t stream = 0;
  std::uint64_t index = 0;
};

/// Sums over the batch's examples (divide by `examples` for means).
struct LossSums {
  double diffusion = 0;   ///< epsilon loss
  double energy = 0;      ///< standardised squared energy error
  double forces = 0;      ///< standardised mean squared force-component error
  double energy_abs = 0;  ///< |E - E_ref| in kJ/mol
  double force_abs = 0;   ///< sum of |F - F_ref| components in kJ/mol/Å
  double labelled = 0;    ///< examples with energy labels
  double force_components = 0;
  double examples = 0;
  /// Per LossSettings::properties term: sums of squared standardised errors and of absolute physical
  /// errors over the molecules with labels (property_labelled of them).
  std::vector<double> property_squared, property_abs;
  double property_labelled = 0;
};

/// Computes the batch loss; with `backward`, backpropagates
/// (diffusion_weight * sum of eps losses + energy_weight * energy_alpha * sum E + force_weight * sum F
///  + sum over property terms of weight * sum of squared standardised errors) / scale.
LossSums batch_loss(model::HemePLM& model, std::vector<TrainingExample>& examples,
                    const std::vector<ExampleKey>& keys, const LossSettings& settings, bool backward,
                    double scale);

}  // namespace hemeplm::train
