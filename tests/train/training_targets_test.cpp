// --targets parsing and checking: weights, defaults, and the one-line errors naming the bad item.
#include "hemeplm/train/training_targets.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::train {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_training_targets(text, 0.05, 0.95);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainingTargets, EmptyKeepsTodaysBehaviour) {
  for (const std::string text : {"", "  "}) {
    const auto t = parse_training_targets(text, 0.05, 0.95);
    EXPECT_FALSE(t.given);
    EXPECT_TRUE(t.properties.empty());
    EXPECT_EQ(t.diffusion_weight, 1.0);
  }
}

TEST(TrainingTargets, WeightsAndDefaults) {
  const auto t = parse_training_targets("energy, forces:0.5,gap:2, homo", 0.05, 0.95);
  EXPECT_TRUE(t.given && t.energy && t.forces);
  EXPECT_DOUBLE_EQ(t.energy_weight, 0.05);  // named alone: --energy-weight
  EXPECT_DOUBLE_EQ(t.force_weight, 0.5);
  EXPECT_DOUBLE_EQ(t.diffusion_weight, 1.0);
  ASSERT_EQ(t.properties.size(), 2u);
  EXPECT_EQ(t.properties[0].first, "gap");
  EXPECT_DOUBLE_EQ(t.properties[0].second, 2.0);
  EXPECT_EQ(t.properties[1].first, "homo");
  EXPECT_DOUBLE_EQ(t.properties[1].second, 1.0);  // named alone: 1

  const auto gap_only = parse_training_targets("gap,diffusion:0", 0.05, 0.95);
  EXPECT_FALSE(gap_only.energy || gap_only.forces);
  EXPECT_DOUBLE_EQ(gap_only.energy_weight, 0.0);
  EXPECT_DOUBLE_EQ(gap_only.diffusion_weight, 0.0);
  const auto forces_alone = parse_training_targets("forces", 0.05, 0.95);
  EXPECT_FALSE(forces_alone.energy);
  EXPECT_DOUBLE_EQ(forces_alone.force_weight, 0.95);
  EXPECT_FALSE(parse_training_targets("energy:0", 0.05, 0.95).energy);
}

TEST(TrainingTargets, ErrorsNameTheBadItem) {
  EXPECT_NE(error_of("gap:x").find("gap:x"), std::string::npos);
  EXPECT_NE(error_of("gap:-1").find("gap:-1"), std::string::npos);
  EXPECT_NE(error_of("gap:nan").find("gap:nan"), std::string::npos);
  EXPECT_NE(error_of("gap:").find("gap:"), std::string::npos);
  EXPECT_NE(error_of("Gap").find("'Gap'"), std::string::npos);
  EXPECT_NE(error_of(":1").find("':1'"), std::string::npos);
  EXPECT_NE(error_of("gap,,energy").find("empty item"), std::string::npos);
  EXPECT_NE(error_of("gap, gap:2").find("listed twice"), std::string::npos);
  for (const std::string text : {"gap:x", "Gap", "gap,gap"})
    EXPECT_EQ(error_of(text).find('\n'), std::string::npos);
}

TEST(TrainingTargets, PropertiesMustBeInTheModelAndTheData) {
  const auto t = parse_training_targets("gap,homo:0.5", 0.05, 0.95);
  EXPECT_NO_THROW(check_property_targets(t, {"gap", "homo"}, {"gap", "homo", "lumo"}));
  try {
    check_property_targets(t, {"gap"}, {"gap", "homo"});
    FAIL() << "homo is not a model head";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no property head 'homo'"), std::string::npos) << e.what();
  }
  try {
    check_property_targets(t, {"gap", "homo"}, {"gap", "lumo"});
    FAIL() << "homo is not in the data";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("training data has no property 'homo'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace hemeplm::train
