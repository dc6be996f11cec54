#include "hemeplm/train/training_checkpoint.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {
using nlohmann::ordered_json;
}  // namespace

std::string data_position_json(const std::vector<std::string>& rank_positions, const TrainingState& s) {
  ordered_json j;
  j["ranks"] = ordered_json::array();
  for (const auto& p : rank_positions) j["ranks"].push_back(ordered_json::parse(p));
  // nlohmann writes doubles with enough digits to read back the same value.
  j["trainer"] = {{"step", s.step},
                  {"draws", s.draws},
                  {"skipped", s.skipped},
                  {"bad_steps", s.bad_steps},
                  {"lr_schedule", ordered_json::parse(s.lr_schedule_json)},
                  {"energy_ema_initialised", s.energy_ema_initialised},
                  {"energy_ema_value", s.energy_ema_value}};
  return j.dump();
}

DataPosition parse_data_position(const std::string& path, const std::string& json) {
  const auto j = ordered_json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.contains("ranks") || !j["ranks"].is_array() || !j.contains("trainer"))
    throw InputError(path, "/data_position", "is not the data position of a hemeplm training run");
  DataPosition p;
  try {
    for (const auto& r : j["ranks"]) p.rank_positions.push_back(r.dump());
    const auto& t = j["trainer"];
    p.state.step = t.at("step").get<std::int64_t>();
    p.state.draws = t.at("draws").get<std::int64_t>();
    p.state.skipped = t.at("skipped").get<std::int64_t>();
    p.state.bad_steps = t.at("bad_steps").get<std::int64_t>();
    p.state.lr_schedule_json = t.at("lr_schedule").dump();
    p.state.energy_ema_initialised = t.at("energy_ema_initialised").get<bool>();
    p.state.energy_ema_value = t.at("energy_ema_value").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, "/data_position", std::string("trainer state is incomplete: ") + e.what());
  }
  return p;
}

std::vector<parallel_io::TensorRecord> rng_records(std::uint64_t seed) {
  parallel_io::TensorRecord r;
  r.name = "seed";
  r.dtype = parallel_io::DType::kInt64;
  r.shape = {1};
  r.data.resize(sizeof seed);
  std::memcpy(r.data.data(), &seed, sizeof seed);
  return {r};
}

std::string model_config_json_text(const model::HemePLMConfig& config) {
  ordered_json j;
  j["name"] = config.name;
  ordered_json h = ordered_json::object();
  for (const auto& [key, value] : model::hyperparameter_values(config)) h[key] = value;
  j["hyperparameters"] = h;
  return j.dump();
}

model::HemePLMConfig checkpoint_model_config(const std::string& config_json, const std::string& path) {
  auto j = ordered_json::parse(config_json, nullptr, false);
  if (!j.is_discarded() && j.contains("model")) j = j["model"];
  if (j.is_discarded() || !j.contains("name") || !j.contains("hyperparameters") ||
      !j["hyperparameters"].is_object())
    throw InputError(path, "/parameters/config",
                     "holds no model configuration (not a hemeplm model checkpoint)");
  try {
    auto config = model::model_config(j["name"].get<std::string>());
    for (const auto& [key, value] : j["hyperparameters"].items()) {
      if (key != "name") model::set_hyperparameter(config, key, value.get<std::string>());
    }
    config.validate();
    return config;
  } catch (const Error& e) {
    throw InputError(path, "model configuration", e.what());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, "model configuration", e.what());
  }
}

}  // namespace hemeplm::train
