// Conditioning masks for trajectory diffusion (model-spec.md (c), "Conditioning modes"): which frames
// and which atoms are given (held at x_given) and which are generated (noised, and scored by the loss).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace hemeplm::diffusion {

enum class ConditioningMode { kForecast, kTransitionPath, kInpaint, kUnconditional };

/// "forecast" "tps" "inpaint" "unconditional".
const char* to_string(ConditioningMode mode);
/// The names of to_string (also "transition_path" for tps); UsageError otherwise.
ConditioningMode parse_conditioning_mode(const std::string& name);

/// Relative weights of the modes when masks are sampled per training example (>= 0, sum > 0).
struct ConditioningMix {
  double forecast = 0.5, transition_path = 0.2, inpaint = 0.2, unconditional = 0.1;
};

/// UsageError unless every weight is finite and >= 0 and their sum is > 0.
void validate(const ConditioningMix& mix);
/// "forecast=0.6,tps=0.2,inpaint=0.2,unconditional=0" (any subset; unnamed modes get 0 when a spec is given);
/// UsageError naming the bad item.
ConditioningMix parse_conditioning_mix(const std::string& spec);
/// All four modes, in parse_conditioning_mix's syntax (round-trips exactly).
std::string to_string(const ConditioningMix& mix);

struct Conditioning {
  ConditioningMode mode = ConditioningMode::kUnconditional;
  torch::Tensor known_frames;  ///< [T] bool (true = conditioning frame) or undefined
  torch::Tensor known_atoms;   ///< [N, T] bool (true = atom held at x_given) or undefined
  /// [N, T] bool: entries that are NOT known (the loss runs over these).
  torch::Tensor free_entries(std::int64_t atoms, std::int64_t frames) const;
};

/// Draws the mode from `mix` with `generator`, then the masks for one example of `atoms` atoms and `frames`
/// frames: forecast: known_frames = {0}; tps: {0, T-1}; inpaint: known_frames = {0} and known_atoms[i, t] =
/// !S[i] where S is the ligand atoms (ligand_atom [N] bool, if any ligand atom and with probability 1/2) or
/// else the k nearest atoms (in `positions` [N,3]) to a random atom, k = ceil(f N) with f ~ U(0.05, 0.25),
/// at least 1; unconditional: nothing. Frames == 1 (conformer training) always gives unconditional; tps with
/// frames < 3 falls back to forecast; inpaint with a single atom falls back to forecast. Deterministic for a
/// given generator state. Masks are CPU tensors.
Conditioning sample_conditioning(const ConditioningMix& mix, std::int64_t atoms, std::int64_t frames,
                                 const torch::Tensor& ligand_atom, const torch::Tensor& positions,
                                 torch::Generator& generator);

/// The masks of a given mode (same rules, mode fixed; the inpaint selection still drawn from the generator).
Conditioning make_conditioning(ConditioningMode mode, std::int64_t atoms, std::int64_t frames,
                               const torch::Tensor& ligand_atom, const torch::Tensor& positions,
                               torch::Generator& generator);

}  // namespace hemeplm::diffusion
