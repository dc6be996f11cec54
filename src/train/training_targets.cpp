// Parsing and checking --targets (see training_targets.hpp).
#include "hemeplm/train/training_targets.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool property_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text.empty() ? "none" : text;
}

}  // namespace

TrainingTargets parse_training_targets(const std::string& text, double default_energy_weight,
                                       double default_force_weight) {
  TrainingTargets t;
  if (trimmed(text).empty()) return t;
  t.given = true;
  std::set<std::string> seen;
  std::stringstream in(text);
  std::string raw;
  while (std::getline(in, raw, ',')) {
    const std::string item = trimmed(raw);
    if (item.empty()) throw UsageError("--targets '" + text + "': empty item");
    const auto colon = item.find(':');
    const std::string name = trimmed(item.substr(0, colon));
    double weight = -1;  // < 0: not given
    if (colon != std::string::npos) {
      const std::string value = trimmed(item.substr(colon + 1));
      errno = 0;
      char* end = nullptr;
      weight = std::strtod(value.c_str(), &end);
      if (value.empty() || errno != 0 || *end != '\0' || !std::isfinite(weight) || weight < 0)
        throw UsageError("--targets item '" + item + "': the weight must be a number >= 0");
    }
    if (!property_name(name))
      throw UsageError("--targets item '" + item +
                       "': not a target name (energy, forces, diffusion or a property such as gap)");
    if (!seen.insert(name).second)
      throw UsageError("--targets item '" + item + "': '" + name + "' is listed twice");
    if (name == "energy") {
      t.energy_weight = weight < 0 ? default_energy_weight : weight;
      t.energy = t.energy_weight > 0;
    } else if (name == "forces") {
      t.force_weight = weight < 0 ? default_force_weight : weight;
      t.forces = t.force_weight > 0;
    } else if (name == "diffusion") {
      t.diffusion_weight = weight < 0 ? 1.0 : weight;
    } else {
      t.properties.emplace_back(name, weight < 0 ? 1.0 : weight);
    }
  }
  return t;
}

void check_property_targets(const TrainingTargets& targets, const std::vector<std::string>& model_heads,
                            const std::vector<std::string>& data_properties) {
  for (const auto& [name, weight] : targets.properties) {
    if (std::find(model_heads.begin(), model_heads.end(), name) == model_heads.end())
      throw UsageError("--targets item '" + name + "': the model has no property head '" + name +
                       "' (model.property_heads: " + joined(model_heads) + ")");
    if (std::find(data_properties.begin(), data_properties.end(), name) == data_properties.end())
      throw UsageError("--targets item '" + name + "': the training data has no property '" + name +
                       "' (properties in every dataset: " + joined(data_properties) + ")");
  }
}

}  // namespace hemeplm::train
