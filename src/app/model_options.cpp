#include "model_options.hpp"

#include "hemeplm/core/error.hpp"

namespace hemeplm::app {

void add_model_options(po::options_description& options, const char* default_name) {
  std::string names;
  for (const auto& n : model::model_config_names()) names += (names.empty() ? "" : ", ") + n;
  auto* name = po::value<std::string>()->value_name("NAME");
  if (default_name != nullptr) name->default_value(default_name);
  options.add_options()("model", name, ("named model configuration: " + names).c_str());
  po::options_description overrides(
      "Model hyperparameters (override the named configuration; in a config file: [model] section)");
  for (const auto& h : model::hyperparameters()) {
    overrides.add_options()(("model." + h.key).c_str(), po::value<std::string>()->value_name("V"),
                            h.description.c_str());
  }
  options.add(overrides);
}

model::HemePLMConfig model_config_from(const po::variables_map& options) {
  auto config = model::model_config(options["model"].as<std::string>());
  for (const auto& h : model::hyperparameters()) {
    const std::string option = "model." + h.key;
    if (options.count(option)) model::set_hyperparameter(config, h.key, options[option].as<std::string>());
  }
  config.validate();
  return config;
}

}  // namespace hemeplm::app
