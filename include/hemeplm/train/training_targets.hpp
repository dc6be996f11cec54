// The supervised targets of a training run, `--targets energy:0.05,forces:0.95,gap:1`: which terms the
// joint loss has and their weights. Parsed without the data or the model; the trainer then checks the
// names against both (check_property_targets).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hemeplm::train {

struct TrainingTargets {
  bool given = false;           ///< false: empty text, today's behaviour (energy/forces when labelled)
  bool energy = false;          ///< "energy" listed (with a weight > 0)
  bool forces = false;          ///< "forces" listed (with a weight > 0)
  double energy_weight = 0;     ///< lambda_E (default --energy-weight when named without a weight)
  double force_weight = 0;      ///< lambda_F (default --force-weight)
  double diffusion_weight = 1;  ///< "diffusion:W"; 1 unless given (0 = no denoising loss)
  std::vector<std::pair<std::string, double>> properties;  ///< (name, weight) in the order given
};

/// Parses a comma list of `name` or `name:weight` items. Weights must be finite and >= 0; names are
/// energy, forces, diffusion or a property name (lower-case letters, digits, _). UsageError naming the
/// bad item for a malformed item, an unparsable or negative weight, or a repeated name.
TrainingTargets parse_training_targets(const std::string& text, double default_energy_weight,
                                       double default_force_weight);

/// UsageError naming the first property of `targets` that `model_heads` (the model's property heads) or
/// `data_properties` (what every dataset labels) lacks.
void check_property_targets(const TrainingTargets& targets, const std::vector<std::string>& model_heads,
                            const std::vector<std::string>& data_properties);

}  // namespace hemeplm::train
