// Counter-based randomness: same keys, same numbers; any change of the keys, different numbers.
#include "hemeplm/diffusion/keyed_random.hpp"

#include <gtest/gtest.h>

namespace hemeplm::diffusion {
namespace {

torch::Tensor draw(std::initializer_list<std::uint64_t> keys) {
  auto generator = keyed_generator(keys);
  return torch::randn({64}, generator, torch::TensorOptions().dtype(torch::kFloat64));
}

TEST(KeyedRandom, SameKeysReproduce) {
  EXPECT_EQ(keyed_seed({7, 3, 1, 2}), keyed_seed({7, 3, 1, 2}));
  EXPECT_TRUE(torch::equal(draw({7, 3, 1, 2}), draw({7, 3, 1, 2})));
}

TEST(KeyedRandom, DifferentKeysDiffer) {
  EXPECT_NE(keyed_seed({1, 2}), keyed_seed({2, 1}));
  EXPECT_NE(keyed_seed({1}), keyed_seed({1, 0}));
  EXPECT_NE(keyed_seed({0}), keyed_seed({}));
  const auto base = draw({7, 3, 1, 2});
  for (const auto& other :
       {draw({7, 3, 1, 3}), draw({7, 3, 2, 1}), draw({8, 3, 1, 2}), draw({7, 3, 1, 2, 0})}) {
    EXPECT_FALSE(torch::allclose(base, other));
  }
  // Keys that differ only in their high 32 bits must still give different streams.
  EXPECT_FALSE(torch::allclose(draw({1ULL << 40}), draw({1ULL << 41})));
}

}  // namespace
}  // namespace hemeplm::diffusion
