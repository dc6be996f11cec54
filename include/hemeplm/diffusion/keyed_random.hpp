// Counter-based randomness: every random draw is keyed by (seed, step, slot, purpose) rather than by a
// stream position, so results never depend on the rank count, on the order work is done, or on restarts.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <initializer_list>

namespace hemeplm::diffusion {

/// splitmix64 finaliser (a bijection on 64 bits).
std::uint64_t splitmix64(std::uint64_t x);

/// splitmix64-style hash of the keys (order matters), e.g. keyed_seed({seed, step, slot, purpose}).
std::uint64_t keyed_seed(std::initializer_list<std::uint64_t> keys);

/// A CPU torch generator seeded with keyed_seed(keys). Its seed folds the high 32 bits into the low ones
/// because torch's CPU mt19937 only uses the low 32 bits of a seed.
torch::Generator keyed_generator(std::initializer_list<std::uint64_t> keys);

}  // namespace hemeplm::diffusion
