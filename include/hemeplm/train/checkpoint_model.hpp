// The model a training checkpoint describes, ready to evaluate: hemeplm sample and hemeplm evaluate's
// energy head both start from it, so they load the same weights the same way.
#pragma once

#include <string>

#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"

namespace hemeplm::train {

/// Builds the model from the checkpoint's configuration (checkpoint_model_config), in the dtype its
/// parameters were stored in, and loads the parameters; with `use_ema`, the parameters that have an EMA
/// shadow take the shadow (what validation and sampling use), validated by WeightEma. InputError naming
/// `path` on a configuration, name, shape or dtype mismatch.
model::HemePLM load_checkpoint_model(const parallel_io::Checkpoint& checkpoint, const std::string& path,
                                     bool use_ema);

}  // namespace hemeplm::train
