#include "hemeplm/train/checkpoint_model.hpp"

#include <torch/torch.h>

#include <set>
#include <utility>
#include <vector>

#include "hemeplm/train/model_state.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "hemeplm/train/weight_ema.hpp"

namespace hemeplm::train {
namespace {

// load_module_state checks dtypes, so the model must have the stored one before loading.
torch::ScalarType stored_dtype(const parallel_io::Checkpoint& checkpoint) {
  for (const auto& record : checkpoint.parameters) {
    if (record.dtype == parallel_io::DType::kFloat64) return torch::kFloat64;
    if (record.dtype == parallel_io::DType::kFloat32) return torch::kFloat32;
  }
  return torch::kFloat32;
}

// Stage 2 keeps shadows of the trainable parameters only; the frozen ones keep their loaded values.
void load_ema_weights(model::HemePLM& model, const parallel_io::Checkpoint& checkpoint,
                      const std::string& path) {
  std::set<std::string> shadowed;
  for (const auto& record : checkpoint.ema) shadowed.insert(record.name);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& item : model->named_parameters(true))
    if (shadowed.count(item.key())) named.emplace_back(item.key(), item.value());
  if (named.empty()) return;
  WeightEma ema(named, 0.5);
  ema.load_state_records(checkpoint.ema, path);
  ema.swap();  // the parameters now hold the shadows; `ema` keeps the live values and goes away
}

}  // namespace

model::HemePLM load_checkpoint_model(const parallel_io::Checkpoint& checkpoint, const std::string& path,
                                     bool use_ema) {
  model::HemePLM model(checkpoint_model_config(checkpoint.config_json, path));
  model->to(stored_dtype(checkpoint));
  load_module_state(*model, checkpoint.parameters, path);
  if (use_ema) load_ema_weights(model, checkpoint, path);
  return model;
}

}  // namespace hemeplm::train
