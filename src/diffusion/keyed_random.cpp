#include "hemeplm/diffusion/keyed_random.hpp"

#include <ATen/CPUGeneratorImpl.h>

namespace hemeplm::diffusion {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t keyed_seed(std::initializer_list<std::uint64_t> keys) {
  // Chaining h <- mix(h ^ mix(k)) makes the result depend on the order of the keys and on their count
  // ({a} and {a, 0} differ), unlike a plain XOR or sum of hashes.
  std::uint64_t h = 0x243F6A8885A308D3ULL;
  for (const auto key : keys) h = splitmix64(h ^ splitmix64(key));
  return h;
}

torch::Generator keyed_generator(std::initializer_list<std::uint64_t> keys) {
  const std::uint64_t h = keyed_seed(keys);
  // createCPUGenerator exists in LibTorch 1.13 and 2.x; its mt19937 keeps only the low 32 bits of a seed.
  return at::detail::createCPUGenerator(h ^ (h >> 32));
}

}  // namespace hemeplm::diffusion
