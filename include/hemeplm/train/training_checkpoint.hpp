// What a training checkpoint holds beyond tensors, and how a model configuration travels in it: the
// trainer's counters and schedule state (in the data-position JSON, next to every rank's sampler
// position), the model hyperparameters (in the configuration JSON, so `sample` and `--init` rebuild the
// same model), and the random-number state. All randomness of training is counter-based -- keyed by
// (seed, epoch, sample position) -- so the seed is the whole RNG state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/model/config.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"

namespace hemeplm::train {

struct TrainingState {
  std::int64_t step = 0;
  std::int64_t draws = 0;      ///< samples drawn by each rank so far
  std::int64_t skipped = 0;    ///< non-finite steps skipped in all
  std::int64_t bad_steps = 0;  ///< consecutive non-finite steps at the checkpoint
  std::string lr_schedule_json = "{}";
  bool energy_ema_initialised = false;
  double energy_ema_value = 0;
};

struct DataPosition {
  std::vector<std::string> rank_positions;  ///< ShardedWindowSampler::position_json of rank r
  TrainingState state;
};

/// {"ranks": [...], "trainer": {...}} with doubles written exactly (17 significant digits).
std::string data_position_json(const std::vector<std::string>& rank_positions, const TrainingState& state);
/// InputError naming `path` when the JSON is not a training position.
DataPosition parse_data_position(const std::string& path, const std::string& json);

/// /rng records: "seed" (uint64 as int64 [1]).
std::vector<parallel_io::TensorRecord> rng_records(std::uint64_t seed);

/// {"name": ..., "hyperparameters": {key: value, ...}} of a configuration.
std::string model_config_json_text(const model::HemePLMConfig& config);
/// The model configuration stored in a checkpoint's configuration JSON (a training checkpoint's
/// "model" member, or such an object itself). InputError naming `path` when absent or invalid.
model::HemePLMConfig checkpoint_model_config(const std::string& config_json, const std::string& path);

}  // namespace hemeplm::train
