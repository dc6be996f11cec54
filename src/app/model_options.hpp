// The model options shared by every command that builds a model (info --model, train, sample):
// --model NAME plus one option per hyperparameter, named model.<key>, so that a config file can
// override any of them in a [model] section (`visnet.hidden = 64`) and the command line can too
// (`--model.visnet.hidden 64`). Torch-free: only the model layer's config header.
#pragma once

#include "command.hpp"
#include "hemeplm/model/config.hpp"

namespace hemeplm::app {

/// Adds --model (default `default_name`, none when null) and the model.<key> overrides.
void add_model_options(po::options_description& options, const char* default_name = "tiny");

/// The named configuration with every given override applied, validated. Throws UsageError.
model::HemePLMConfig model_config_from(const po::variables_map& options);

}  // namespace hemeplm::app
