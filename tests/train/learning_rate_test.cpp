// The learning-rate schedule: warm-up values, cosine endpoints and midpoint, constant, plateau reductions
// after the patience runs out, an exact state_json round trip, and option / parse errors.
#include "hemeplm/train/learning_rate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

TEST(LearningRateTest, WarmupIsLinearFromLrOverWarmupToLr) {
  LearningRateOptions options;
  options.lr = 1e-3;
  options.warmup_steps = 4;
  options.decay = DecayKind::kConstant;
  const LearningRateSchedule schedule(options);
  EXPECT_DOUBLE_EQ(schedule.lr(0), 0.25e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(1), 0.50e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(2), 0.75e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(3), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(4), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(1000000), 1e-3);
  EXPECT_THROW(schedule.lr(-1), UsageError);
}

TEST(LearningRateTest, ConstantWithoutWarmup) {
  LearningRateOptions options;
  options.lr = 3e-4;
  options.decay = DecayKind::kConstant;
  const LearningRateSchedule schedule(options);
  for (const std::int64_t step : {0, 1, 17, 100000}) EXPECT_EQ(schedule.lr(step), 3e-4);
}

TEST(LearningRateTest, CosineEndpointsAndMidpoint) {
  LearningRateOptions options;
  options.lr = 1e-3;
  options.min_lr = 1e-5;
  options.warmup_steps = 10;
  options.total_steps = 110;
  options.decay = DecayKind::kCosine;
  const LearningRateSchedule schedule(options);
  EXPECT_DOUBLE_EQ(schedule.lr(0), 1e-4);
  EXPECT_DOUBLE_EQ(schedule.lr(9), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.lr(10), 1e-3);                   // decay starts at the peak
  EXPECT_NEAR(schedule.lr(60), 0.5 * (1e-3 + 1e-5), 1e-18);  // midpoint
  EXPECT_NEAR(schedule.lr(35), 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + std::cos(std::acos(-1.0) / 4)), 1e-18);
  EXPECT_LT(schedule.lr(109), 1e-5 * 1.05);  // 1e-5 + 2.4e-7
  EXPECT_GT(schedule.lr(109), 1e-5);
  EXPECT_DOUBLE_EQ(schedule.lr(110), 1e-5);  // reaches min_lr at total_steps
  EXPECT_DOUBLE_EQ(schedule.lr(500), 1e-5);
  for (std::int64_t step = 11; step <= 110; ++step) EXPECT_LT(schedule.lr(step), schedule.lr(step - 1));

  LearningRateOptions plain;
  plain.lr = 2.0;
  plain.total_steps = 4;
  const LearningRateSchedule no_warmup(plain);
  EXPECT_DOUBLE_EQ(no_warmup.lr(0), 2.0);
  EXPECT_NEAR(no_warmup.lr(2), 1.0, 1e-15);
  EXPECT_EQ(no_warmup.lr(4), 0.0);
}

TEST(LearningRateTest, PlateauReducesAfterPatience) {
  LearningRateOptions options;
  options.lr = 1.0;
  options.decay = DecayKind::kPlateau;
  options.plateau_factor = 0.5;
  options.plateau_patience = 3;
  options.min_lr = 0.2;
  LearningRateSchedule schedule(options);
  schedule.report_validation(10.0);  // first: best
  EXPECT_EQ(schedule.lr(5), 1.0);
  schedule.report_validation(9.9995);  // relative improvement 5e-5 < 1e-4: bad 1
  schedule.report_validation(11.0);    // bad 2
  EXPECT_EQ(schedule.lr(5), 1.0);
  schedule.report_validation(9.0);  // improvement: count restarts
  schedule.report_validation(9.5);
  schedule.report_validation(9.5);
  EXPECT_EQ(schedule.lr(5), 1.0);
  schedule.report_validation(std::nan(""));  // bad 3: reduce
  EXPECT_EQ(schedule.lr(5), 0.5);
  EXPECT_EQ(schedule.plateau_scale(), 0.5);
  for (int i = 0; i < 2; ++i) schedule.report_validation(9.0);
  EXPECT_EQ(schedule.lr(5), 0.5);
  schedule.report_validation(9.0);  // third bad since the reduction
  EXPECT_EQ(schedule.lr(5), 0.25);
  for (int i = 0; i < 3; ++i) schedule.report_validation(9.0);
  EXPECT_EQ(schedule.lr(5), 0.2);  // clamped at min_lr
  for (int i = 0; i < 30; ++i) schedule.report_validation(9.0);
  EXPECT_EQ(schedule.lr(5), 0.2);

  // Other decays ignore validations.
  LearningRateOptions constant;
  constant.decay = DecayKind::kConstant;
  LearningRateSchedule unaffected(constant);
  for (int i = 0; i < 20; ++i) unaffected.report_validation(1.0);
  EXPECT_EQ(unaffected.lr(0), constant.lr);
}

TEST(LearningRateTest, PlateauWithWarmupScalesTheReducedRate) {
  LearningRateOptions options;
  options.lr = 1.0;
  options.warmup_steps = 2;
  options.decay = DecayKind::kPlateau;
  options.plateau_factor = 0.5;
  options.plateau_patience = 1;
  LearningRateSchedule schedule(options);
  schedule.report_validation(1.0);
  schedule.report_validation(1.0);
  EXPECT_EQ(schedule.lr(0), 0.25);
  EXPECT_EQ(schedule.lr(1), 0.5);
}

TEST(LearningRateTest, StateJsonRoundTripIsExact) {
  LearningRateOptions options;
  options.lr = 0.1;
  options.decay = DecayKind::kPlateau;
  options.plateau_factor = 0.7;  // 0.7^k is not a short decimal
  options.plateau_patience = 2;
  LearningRateSchedule schedule(options);
  schedule.report_validation(1.0 / 3.0);
  for (int i = 0; i < 5; ++i) schedule.report_validation(0.5);
  const std::string state = schedule.state_json();

  LearningRateSchedule restored(options);
  restored.restore(state);
  EXPECT_EQ(restored.state_json(), state);
  EXPECT_EQ(restored.plateau_scale(), schedule.plateau_scale());
  EXPECT_EQ(restored.lr(3), schedule.lr(3));
  // The restored best and bad count act exactly like the original ones.
  for (const double loss : {1.0 / 3.0 * (1 - 0.9e-4), 1.0 / 3.0 * (1 - 1.1e-4), 0.4, 0.4, 0.4}) {
    schedule.report_validation(loss);
    restored.report_validation(loss);
    EXPECT_EQ(restored.state_json(), schedule.state_json()) << loss;
    EXPECT_EQ(restored.lr(0), schedule.lr(0));
  }
  EXPECT_LT(schedule.plateau_scale(), 0.7 * 0.7);

  // Fresh schedule: best is null.
  LearningRateSchedule fresh(options);
  EXPECT_NE(fresh.state_json().find("null"), std::string::npos) << fresh.state_json();
  restored.restore(fresh.state_json());
  EXPECT_EQ(restored.state_json(), fresh.state_json());
}

TEST(LearningRateTest, RestoreRejectsMalformedState) {
  LearningRateSchedule schedule(LearningRateOptions{});
  EXPECT_THROW(schedule.restore("{"), UsageError);
  EXPECT_THROW(schedule.restore("[1, 2]"), UsageError);
  EXPECT_THROW(schedule.restore(R"({"scale": 1.0, "best": null})"), UsageError);
  EXPECT_THROW(schedule.restore(R"({"scale": "x", "best": null, "bad_count": 0})"), UsageError);
  EXPECT_THROW(schedule.restore(R"({"scale": 0.5, "best": null, "bad_count": -1})"), UsageError);
  EXPECT_THROW(schedule.restore(R"({"scale": 0.5, "best": "y", "bad_count": 1})"), UsageError);
  EXPECT_NO_THROW(schedule.restore(R"({"scale": 0.5, "best": 2.5, "bad_count": 1})"));
}

TEST(LearningRateTest, ParseDecayKindAndOptionErrors) {
  EXPECT_EQ(parse_decay_kind("constant"), DecayKind::kConstant);
  EXPECT_EQ(parse_decay_kind("cosine"), DecayKind::kCosine);
  EXPECT_EQ(parse_decay_kind("plateau"), DecayKind::kPlateau);
  for (const DecayKind kind : {DecayKind::kConstant, DecayKind::kCosine, DecayKind::kPlateau})
    EXPECT_EQ(parse_decay_kind(to_string(kind)), kind);
  EXPECT_THROW(parse_decay_kind("Cosine"), UsageError);
  EXPECT_THROW(parse_decay_kind(""), UsageError);
  EXPECT_THROW(parse_decay_kind("linear"), UsageError);

  const auto throws = [](auto modify) {
    LearningRateOptions options;
    modify(options);
    try {
      LearningRateSchedule schedule(options);
    } catch (const UsageError&) {
      return true;
    }
    return false;
  };
  EXPECT_FALSE(throws([](LearningRateOptions&) {}));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.lr = 0; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.lr = -1e-3; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.lr = std::nan(""); }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.warmup_steps = -1; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.min_lr = 1.0; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.min_lr = -1.0; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.total_steps = 0; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.warmup_steps = 5, o.total_steps = 5; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.decay = DecayKind::kPlateau, o.plateau_factor = 1.0; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.decay = DecayKind::kPlateau, o.plateau_factor = 0.0; }));
  EXPECT_TRUE(throws([](LearningRateOptions& o) { o.decay = DecayKind::kPlateau, o.plateau_patience = 0; }));
  EXPECT_FALSE(throws([](LearningRateOptions& o) { o.decay = DecayKind::kConstant, o.total_steps = 0; }));
}

}  // namespace
}  // namespace hemeplm::train
