// Learning-rate schedule: warm-up, then constant / cosine / reduce-on-plateau.
#include "hemeplm/train/learning_rate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kPlateauThreshold = 1e-4;  ///< relative improvement that resets the patience count

std::string format_double(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

}  // namespace

DecayKind parse_decay_kind(const std::string& name) {
  if (name == "constant") return DecayKind::kConstant;
  if (name == "cosine") return DecayKind::kCosine;
  if (name == "plateau") return DecayKind::kPlateau;
  throw UsageError("learning-rate decay '" + name + "' is unknown; expected constant, cosine or plateau");
}

const char* to_string(DecayKind kind) {
  switch (kind) {
    case DecayKind::kConstant:
      return "constant";
    case DecayKind::kCosine:
      return "cosine";
    case DecayKind::kPlateau:
      return "plateau";
  }
  return "unknown";
}

LearningRateSchedule::LearningRateSchedule(const LearningRateOptions& options)
    : options_(options), best_(0.0) {
  const auto fail = [](const std::string& what) { throw UsageError("learning-rate schedule: " + what); };
  if (!(options.lr > 0) || !std::isfinite(options.lr))
    fail("lr must be finite and > 0, got " + format_double(options.lr));
  if (options.warmup_steps < 0)
    fail("warmup_steps must be >= 0, got " + std::to_string(options.warmup_steps));
  if (!(options.min_lr >= 0) || !(options.min_lr <= options.lr))
    fail("min_lr must lie in [0, lr = " + format_double(options.lr) + "], got " +
         format_double(options.min_lr));
  if (options.decay == DecayKind::kCosine) {
    if (options.total_steps < 1) fail("total_steps must be >= 1, got " + std::to_string(options.total_steps));
    if (options.total_steps <= options.warmup_steps)
      fail("cosine decay needs total_steps (" + std::to_string(options.total_steps) + ") > warmup_steps (" +
           std::to_string(options.warmup_steps) + ")");
  }
  if (options.decay == DecayKind::kPlateau) {
    if (!(options.plateau_factor > 0 && options.plateau_factor < 1))
      fail("plateau_factor must lie in (0, 1), got " + format_double(options.plateau_factor));
    if (options.plateau_patience < 1)
      fail("plateau_patience must be >= 1, got " + std::to_string(options.plateau_patience));
  }
}

double LearningRateSchedule::lr(std::int64_t step) const {
  if (step < 0) throw UsageError("learning-rate schedule: step must be >= 0, got " + std::to_string(step));
  const LearningRateOptions& o = options_;
  double value = o.lr;
  switch (o.decay) {
    case DecayKind::kConstant:
      break;
    case DecayKind::kCosine:
      if (step >= o.total_steps) {
        value = o.min_lr;
      } else if (step > o.warmup_steps) {
        const double progress =
            static_cast<double>(step - o.warmup_steps) / static_cast<double>(o.total_steps - o.warmup_steps);
        value = o.min_lr + (o.lr - o.min_lr) * 0.5 * (1.0 + std::cos(kPi * progress));
      }
      break;
    case DecayKind::kPlateau:
      value = std::max(o.min_lr, o.lr * scale_);
      break;
  }
  if (step < o.warmup_steps) value *= static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  return value;
}

void LearningRateSchedule::report_validation(double loss) {
  if (options_.decay != DecayKind::kPlateau) return;
  // Relative threshold in "min" mode, as torch's ReduceLROnPlateau(threshold_mode="rel").
  const bool improved = std::isfinite(loss) && (!has_best_ || loss < best_ * (1.0 - kPlateauThreshold));
  if (improved) {
    best_ = loss;
    has_best_ = true;
    bad_count_ = 0;
    return;
  }
  if (++bad_count_ >= options_.plateau_patience) {
    bad_count_ = 0;
    // Stop shrinking once min_lr is reached, so the scale cannot underflow over a long run.
    if (options_.lr * scale_ > options_.min_lr) scale_ *= options_.plateau_factor;
  }
}

std::string LearningRateSchedule::state_json() const {
  return "{\"scale\": " + format_double(scale_) +
         ", \"best\": " + (has_best_ ? format_double(best_) : "null") +
         ", \"bad_count\": " + std::to_string(bad_count_) + "}";
}

void LearningRateSchedule::restore(const std::string& text) {
  const auto fail = [&](const std::string& what) {
    throw UsageError("learning-rate schedule state: " + what + " in '" + text + "'");
  };
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    fail(std::string("malformed JSON (") + error.what() + ")");
  }
  if (!json.is_object()) fail("not a JSON object");
  for (const char* key : {"scale", "best", "bad_count"})
    if (!json.contains(key)) fail(std::string("missing \"") + key + "\"");
  const nlohmann::json& scale = json["scale"];
  const nlohmann::json& best = json["best"];
  const nlohmann::json& bad_count = json["bad_count"];
  if (!scale.is_number() || !(scale.get<double>() > 0) || !(scale.get<double>() <= 1))
    fail("\"scale\" must be a number in (0, 1]");
  if (!best.is_null() && !best.is_number()) fail("\"best\" must be a number or null");
  if (!bad_count.is_number_integer() || bad_count.get<std::int64_t>() < 0 ||
      bad_count.get<std::int64_t>() > 1000000000)
    fail("\"bad_count\" must be a non-negative integer");
  scale_ = scale.get<double>();
  has_best_ = !best.is_null();
  best_ = has_best_ ? best.get<double>() : 0.0;
  bad_count_ = static_cast<int>(bad_count.get<std::int64_t>());
}

}  // namespace hemeplm::train
