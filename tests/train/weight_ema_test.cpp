// WeightEma: the average over a few updates by hand, with and without the (1+n)/(10+n) warm-up; swap()
// twice restores the live weights bit for bit; the state records round trip exactly and a bad set of
// records is one InputError listing the problems.
#include "hemeplm/train/weight_ema.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

using parallel_io::DType;
using parallel_io::TensorRecord;

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

bool bitwise_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const torch::Tensor ca = a.detach().contiguous(), cb = b.detach().contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<std::size_t>(ca.nbytes())) == 0;
}

/// Sets every element of `p` to `value` as an optimizer would (in place, outside autograd).
void set(torch::Tensor& p, double value) {
  torch::NoGradGuard no_grad;
  p.fill_(value);
}

TEST(WeightEmaTest, AveragesWithoutWarmup) {
  torch::Tensor p = torch::full({2, 3}, 1.0, kF64).requires_grad_(true);
  WeightEma ema({{"p", p}}, 0.9, /*warmup=*/false);
  EXPECT_EQ(ema.updates(), 0);
  double shadow = 1.0;
  const double values[] = {2.0, -1.0, 5.0, 0.5};
  for (const double value : values) {
    set(p, value);
    ema.update();
    shadow = 0.9 * shadow + 0.1 * value;
  }
  EXPECT_EQ(ema.updates(), 4);
  ema.swap();
  EXPECT_NEAR(p[1][2].item<double>(), shadow, 1e-15);
  EXPECT_NEAR(p[0][0].item<double>(), shadow, 1e-15);
  ema.swap();
  EXPECT_EQ(p[0][0].item<double>(), 0.5);
  EXPECT_TRUE(p.requires_grad());
}

TEST(WeightEmaTest, AveragesWithWarmup) {
  torch::Tensor p = torch::full({4}, 1.0, kF64).requires_grad_(true);
  WeightEma ema({{"p", p}}, 0.5, /*warmup=*/true);
  double shadow = 1.0;
  const double values[] = {3.0, -2.0, 7.0, 1.0, 4.0};
  for (int n = 0; n < 5; ++n) {
    const double decay = std::min(0.5, (1.0 + n) / (10.0 + n));
    EXPECT_DOUBLE_EQ(ema.current_decay(), decay) << n;
    set(p, values[n]);
    ema.update();
    shadow = decay * shadow + (1 - decay) * values[n];
  }
  // n = 0..4 decays: 0.1, 0.1818, 0.25, 0.3077, 0.3571 (all below 0.5): the warm-up mattered.
  const auto records = ema.state_records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].name, "p");
  double stored = 0;
  std::memcpy(&stored, records[0].data.data(), sizeof stored);
  EXPECT_NEAR(stored, shadow, 1e-14);
  // Without warm-up the same sequence gives another average.
  double plain = 1.0;
  for (const double value : values) plain = 0.5 * plain + 0.5 * value;
  EXPECT_GT(std::abs(plain - shadow), 1e-3);
  // Eventually the configured decay caps the warm-up value.
  WeightEma late({{"p", p}}, 0.5, true);
  for (int i = 0; i < 20; ++i) late.update();
  EXPECT_EQ(late.current_decay(), 0.5);
}

TEST(WeightEmaTest, SwapTwiceIsIdentityAndKeepsTensorIdentity) {
  torch::manual_seed(3);
  torch::Tensor a = torch::randn({3, 5}, kF64).requires_grad_(true);
  torch::Tensor b = torch::randn({7}, torch::kFloat32).requires_grad_(true);
  WeightEma ema({{"a", a}, {"b", b}}, 0.99, true);
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) {
      a.add_(0.1);
      b.mul_(1.5);
      ema.update();
    }
  }
  const torch::Tensor a_live = a.detach().clone(), b_live = b.detach().clone();
  const void* a_data = a.data_ptr();
  ema.swap();
  EXPECT_TRUE(ema.swapped());
  EXPECT_FALSE(bitwise_equal(a, a_live));
  EXPECT_EQ(a.data_ptr(), a_data);
  EXPECT_THROW(ema.update(), UsageError);
  // Records hold the shadows whether swapped or not.
  const auto swapped_records = ema.state_records();
  ema.swap();
  EXPECT_FALSE(ema.swapped());
  EXPECT_TRUE(bitwise_equal(a, a_live));
  EXPECT_TRUE(bitwise_equal(b, b_live));
  const auto records = ema.state_records();
  ASSERT_EQ(records.size(), swapped_records.size());
  for (std::size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].data, swapped_records[i].data);
}

TEST(WeightEmaTest, StateRecordsRoundTrip) {
  torch::manual_seed(4);
  torch::Tensor a = torch::randn({2, 2}, kF64).requires_grad_(true);
  torch::Tensor b = torch::randn({3}, torch::kFloat32).requires_grad_(true);
  WeightEma ema({{"layer.a", a}, {"layer.b", b}}, 0.9, true);
  for (int i = 0; i < 4; ++i) {
    {
      torch::NoGradGuard no_grad;
      a.add_(0.3 * i);
      b.sub_(0.2);
    }
    ema.update();
  }
  const std::vector<TensorRecord> records = ema.state_records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].name, "layer.a");
  EXPECT_EQ(records[0].dtype, DType::kFloat64);
  EXPECT_EQ(records[1].dtype, DType::kFloat32);
  EXPECT_EQ(records[2].name, "updates");
  EXPECT_EQ(records[2].dtype, DType::kInt64);
  EXPECT_EQ(records[2].shape, (std::vector<std::int64_t>{1}));

  // A fresh EMA over the same live weights, loaded, continues bit-identically.
  torch::Tensor a2 = a.detach().clone().requires_grad_(true);
  torch::Tensor b2 = b.detach().clone().requires_grad_(true);
  WeightEma restored({{"layer.a", a2}, {"layer.b", b2}}, 0.9, true);
  restored.load_state_records(records, "memory");
  EXPECT_EQ(restored.updates(), 4);
  EXPECT_EQ(restored.current_decay(), ema.current_decay());
  {
    torch::NoGradGuard no_grad;
    a.mul_(0.5);
    a2.mul_(0.5);
  }
  ema.update();
  restored.update();
  const auto after = ema.state_records(), restored_after = restored.state_records();
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].data, restored_after[i].data) << i;

  // Loading while swapped puts the shadows where they live then (the parameters).
  restored.swap();
  restored.load_state_records(records, "memory");
  double value = 0;
  std::memcpy(&value, records[0].data.data(), sizeof value);
  EXPECT_EQ(a2[0][0].item<double>(), value);
}

TEST(WeightEmaTest, LoadErrorsListProblemsAndLeaveStateUnchanged) {
  torch::Tensor a = torch::ones({2}, kF64).requires_grad_(true);
  torch::Tensor b = torch::ones({3}, kF64).requires_grad_(true);
  WeightEma ema({{"a", a}, {"b", b}}, 0.9);
  ema.update();
  const std::vector<TensorRecord> before = ema.state_records();
  std::vector<TensorRecord> records = before;
  records[0].name = "A";      // missing "a", unexpected "A"
  records[1].shape = {1, 3};  // mis-shaped "b"
  try {
    ema.load_state_records(records, "ckpt.h5");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("ckpt.h5"), std::string::npos) << message;
    EXPECT_NE(message.find("'a'"), std::string::npos) << message;
    EXPECT_NE(message.find("'A'"), std::string::npos) << message;
    EXPECT_NE(message.find("'b'"), std::string::npos) << message;
  }
  records = before;
  records.pop_back();  // no "updates"
  EXPECT_THROW(ema.load_state_records(records, "ckpt.h5"), InputError);
  records = before;
  records[1].data.resize(2);  // byte count does not match the shape
  EXPECT_THROW(ema.load_state_records(records, "ckpt.h5"), InputError);
  const auto after = ema.state_records();
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].data, before[i].data) << i;
  EXPECT_EQ(ema.updates(), 1);

  EXPECT_THROW(WeightEma({{"a", a}}, 1.0), UsageError);
  EXPECT_THROW(WeightEma({{"a", a}, {"a", b}}, 0.9), UsageError);
  EXPECT_THROW(WeightEma({{"updates", a}}, 0.9), UsageError);
}

}  // namespace
}  // namespace hemeplm::train
