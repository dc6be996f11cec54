#include "hemeplm/diffusion/conditioning.hpp"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <tuple>

#include "hemeplm/core/error.hpp"

namespace hemeplm::diffusion {

const char* to_string(ConditioningMode mode) {
  switch (mode) {
    case ConditioningMode::kForecast:
      return "forecast";
    case ConditioningMode::kTransitionPath:
      return "tps";
    case ConditioningMode::kInpaint:
      return "inpaint";
    case ConditioningMode::kUnconditional:
      return "unconditional";
  }
  return "unknown";
}

ConditioningMode parse_conditioning_mode(const std::string& name) {
  if (name == "forecast") return ConditioningMode::kForecast;
  if (name == "tps" || name == "transition_path") return ConditioningMode::kTransitionPath;
  if (name == "inpaint") return ConditioningMode::kInpaint;
  if (name == "unconditional") return ConditioningMode::kUnconditional;
  throw UsageError("unknown conditioning mode '" + name +
                   "' (expected 'forecast', 'tps', 'inpaint' or 'unconditional')");
}

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// Shortest decimal form that reads back as the same double, so to_string/parse round-trips exactly.
std::string format_weight(double value) {
  char buffer[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::stod(buffer) == value) break;
  }
  return buffer;
}

double& weight_of(ConditioningMix& mix, ConditioningMode mode) {
  switch (mode) {
    case ConditioningMode::kForecast:
      return mix.forecast;
    case ConditioningMode::kTransitionPath:
      return mix.transition_path;
    case ConditioningMode::kInpaint:
      return mix.inpaint;
    case ConditioningMode::kUnconditional:
      break;
  }
  return mix.unconditional;
}

torch::Tensor frame_mask(std::int64_t frames, std::initializer_list<std::int64_t> known) {
  auto mask = torch::zeros({frames}, torch::kBool);
  for (const auto f : known) mask[f] = true;
  return mask;
}

double uniform(torch::Generator& generator) {
  return torch::rand({1}, generator, torch::TensorOptions().dtype(torch::kFloat64)).item<double>();
}

/// The atoms that inpainting generates (true = generated): the ligand, or a spatial patch around a random
/// atom.
torch::Tensor inpaint_selection(std::int64_t atoms, const torch::Tensor& ligand_atom,
                                const torch::Tensor& positions, torch::Generator& generator) {
  if (ligand_atom.defined()) {
    if (ligand_atom.dim() != 1 || ligand_atom.size(0) != atoms) {
      throw UsageError("inpaint conditioning: ligand mask must have one entry per atom");
    }
    const auto ligand = ligand_atom.to(torch::kCPU, torch::kBool);
    if (ligand.any().item<bool>() && uniform(generator) < 0.5) return ligand;
  }
  if (!positions.defined() || positions.dim() != 2 || positions.size(0) != atoms || positions.size(1) != 3) {
    throw UsageError("inpaint conditioning needs atom positions as [atoms, 3]");
  }
  const auto pos = positions.detach().to(torch::kCPU, torch::kFloat64);
  const auto centre =
      torch::randint(atoms, {1}, generator, torch::TensorOptions().dtype(torch::kLong)).item<std::int64_t>();
  const double fraction = 0.05 + 0.20 * uniform(generator);
  const auto k = std::min<std::int64_t>(
      atoms,
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(fraction * static_cast<double>(atoms)))));
  const auto d2 = (pos - pos[centre]).pow(2).sum(1);
  const auto nearest = std::get<1>(torch::topk(d2, k, /*dim=*/0, /*largest=*/false));
  auto selected = torch::zeros({atoms}, torch::kBool);
  selected.index_fill_(0, nearest, true);
  return selected;
}

}  // namespace

void validate(const ConditioningMix& mix) {
  const double weights[] = {mix.forecast, mix.transition_path, mix.inpaint, mix.unconditional};
  double sum = 0.0;
  for (const double w : weights) {
    if (!std::isfinite(w) || w < 0.0) {
      throw UsageError("conditioning mix '" + to_string(mix) + "': weights must be finite and not negative");
    }
    sum += w;
  }
  if (!(sum > 0.0)) throw UsageError("conditioning mix '" + to_string(mix) + "': the weights sum to zero");
}

ConditioningMix parse_conditioning_mix(const std::string& spec) {
  ConditioningMix mix{0.0, 0.0, 0.0, 0.0};
  bool seen[4] = {false, false, false, false};
  std::stringstream stream(spec);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const auto text = trim(item);
    const auto equals = text.find('=');
    if (equals == std::string::npos) {
      throw UsageError("conditioning mix item '" + text + "' is not of the form mode=weight");
    }
    const auto name = trim(text.substr(0, equals));
    const auto value_text = trim(text.substr(equals + 1));
    ConditioningMode mode;
    try {
      mode = parse_conditioning_mode(name);
    } catch (const UsageError&) {
      throw UsageError("conditioning mix item '" + text +
                       "' names an unknown mode (expected forecast, tps, inpaint or unconditional)");
    }
    auto& slot = seen[static_cast<int>(mode)];
    if (slot) throw UsageError("conditioning mix item '" + text + "' repeats mode '" + to_string(mode) + "'");
    slot = true;
    double value = 0.0;
    std::size_t used = 0;
    try {
      value = std::stod(value_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (value_text.empty() || used != value_text.size() || !std::isfinite(value) || value < 0.0) {
      throw UsageError("conditioning mix item '" + text + "' needs a finite, non-negative weight");
    }
    weight_of(mix, mode) = value;
  }
  if (!(mix.forecast + mix.transition_path + mix.inpaint + mix.unconditional > 0.0)) {
    throw UsageError("conditioning mix '" + spec + "' gives no mode a positive weight");
  }
  return mix;
}

std::string to_string(const ConditioningMix& mix) {
  return "forecast=" + format_weight(mix.forecast) + ",tps=" + format_weight(mix.transition_path) +
         ",inpaint=" + format_weight(mix.inpaint) + ",unconditional=" + format_weight(mix.unconditional);
}

torch::Tensor Conditioning::free_entries(std::int64_t atoms, std::int64_t frames) const {
  auto free = torch::ones({atoms, frames}, torch::kBool);
  if (known_frames.defined())
    free = free & known_frames.to(torch::kCPU, torch::kBool).logical_not().unsqueeze(0);
  if (known_atoms.defined()) free = free & known_atoms.to(torch::kCPU, torch::kBool).logical_not();
  return free;
}

Conditioning make_conditioning(ConditioningMode mode, std::int64_t atoms, std::int64_t frames,
                               const torch::Tensor& ligand_atom, const torch::Tensor& positions,
                               torch::Generator& generator) {
  if (atoms < 1 || frames < 1) throw UsageError("conditioning needs at least one atom and one frame");
  torch::NoGradGuard no_grad;
  // Fallbacks: a single conformer has nothing to condition on; TPS needs a frame between its ends;
  // inpainting one atom would leave nothing known.
  if (frames == 1) mode = ConditioningMode::kUnconditional;
  if (mode == ConditioningMode::kTransitionPath && frames < 3) mode = ConditioningMode::kForecast;
  if (mode == ConditioningMode::kInpaint && atoms == 1) mode = ConditioningMode::kForecast;

  Conditioning c;
  c.mode = mode;
  switch (mode) {
    case ConditioningMode::kForecast:
      c.known_frames = frame_mask(frames, {0});
      break;
    case ConditioningMode::kTransitionPath:
      c.known_frames = frame_mask(frames, {0, frames - 1});
      break;
    case ConditioningMode::kInpaint: {
      c.known_frames = frame_mask(frames, {0});
      const auto generated = inpaint_selection(atoms, ligand_atom, positions, generator);
      c.known_atoms = generated.logical_not().unsqueeze(1).expand({atoms, frames}).contiguous();
      break;
    }
    case ConditioningMode::kUnconditional:
      break;
  }
  return c;
}

Conditioning sample_conditioning(const ConditioningMix& mix, std::int64_t atoms, std::int64_t frames,
                                 const torch::Tensor& ligand_atom, const torch::Tensor& positions,
                                 torch::Generator& generator) {
  validate(mix);
  const double weights[] = {mix.forecast, mix.transition_path, mix.inpaint, mix.unconditional};
  const ConditioningMode modes[] = {ConditioningMode::kForecast, ConditioningMode::kTransitionPath,
                                    ConditioningMode::kInpaint, ConditioningMode::kUnconditional};
  const double u = uniform(generator) * (weights[0] + weights[1] + weights[2] + weights[3]);
  // Walk the cumulative weights; rounding at the top end picks the last mode with positive weight, never
  // a zero-weight one.
  ConditioningMode mode = ConditioningMode::kUnconditional;
  double cumulative = 0.0;
  for (int i = 0; i < 4; ++i) {
    if (weights[i] <= 0.0) continue;
    mode = modes[i];
    cumulative += weights[i];
    if (u < cumulative) break;
  }
  return make_conditioning(mode, atoms, frames, ligand_atom, positions, generator);
}

}  // namespace hemeplm::diffusion
