// Conditioning masks per mode, their fallbacks, mix parsing and sampling frequencies.
#include "hemeplm/diffusion/conditioning.hpp"

#include <gtest/gtest.h>

#include <string>

#include "hemeplm/core/error.hpp"
#include "hemeplm/diffusion/keyed_random.hpp"

namespace hemeplm::diffusion {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

torch::Tensor positions(std::int64_t atoms) {
  auto generator = keyed_generator({99, static_cast<std::uint64_t>(atoms)});
  return torch::randn({atoms, 3}, generator, kF64) * 3.0;
}

torch::Tensor frames_mask(std::int64_t frames, std::initializer_list<std::int64_t> known) {
  auto m = torch::zeros({frames}, torch::kBool);
  for (const auto f : known) m[f] = true;
  return m;
}

TEST(Conditioning, ForecastAndTransitionPathMasks) {
  auto generator = keyed_generator({1});
  const auto pos = positions(6);
  const auto forecast = make_conditioning(ConditioningMode::kForecast, 6, 5, {}, pos, generator);
  EXPECT_EQ(forecast.mode, ConditioningMode::kForecast);
  EXPECT_TRUE(torch::equal(forecast.known_frames, frames_mask(5, {0})));
  EXPECT_FALSE(forecast.known_atoms.defined());
  const auto free = forecast.free_entries(6, 5);
  EXPECT_FALSE(free.select(1, 0).any().item<bool>());
  EXPECT_TRUE(free.slice(1, 1).all().item<bool>());

  const auto tps = make_conditioning(ConditioningMode::kTransitionPath, 6, 5, {}, pos, generator);
  EXPECT_EQ(tps.mode, ConditioningMode::kTransitionPath);
  EXPECT_TRUE(torch::equal(tps.known_frames, frames_mask(5, {0, 4})));
  EXPECT_EQ(tps.free_entries(6, 5).sum().item<std::int64_t>(), 6 * 3);

  const auto none = make_conditioning(ConditioningMode::kUnconditional, 6, 5, {}, pos, generator);
  EXPECT_FALSE(none.known_frames.defined());
  EXPECT_FALSE(none.known_atoms.defined());
  EXPECT_TRUE(none.free_entries(6, 5).all().item<bool>());
}

// True when `generated` is the k nearest atoms of one of its own members.
bool is_spatial_patch(const torch::Tensor& generated, const torch::Tensor& pos) {
  const auto inside = torch::nonzero(generated).squeeze(1);
  const auto outside = torch::nonzero(generated.logical_not()).squeeze(1);
  for (std::int64_t i = 0; i < inside.size(0); ++i) {
    const auto d = (pos - pos[inside[i]]).norm(2, 1);
    if (outside.numel() == 0 ||
        d.index_select(0, inside).max().item<double>() <= d.index_select(0, outside).min().item<double>()) {
      return true;
    }
  }
  return false;
}

TEST(Conditioning, InpaintSelectsLigandOrSpatialPatch) {
  const std::int64_t atoms = 40, frames = 4;
  const auto pos = positions(atoms);
  auto ligand = torch::zeros({atoms}, torch::kBool);
  ligand.slice(0, 30).fill_(true);
  int ligand_draws = 0, patch_draws = 0;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    auto generator = keyed_generator({seed});
    const auto c = make_conditioning(ConditioningMode::kInpaint, atoms, frames, ligand, pos, generator);
    ASSERT_EQ(c.mode, ConditioningMode::kInpaint);
    EXPECT_TRUE(torch::equal(c.known_frames, frames_mask(frames, {0})));
    ASSERT_EQ(c.known_atoms.sizes(), (std::vector<std::int64_t>{atoms, frames}));
    // The same atoms are known in every frame.
    EXPECT_TRUE(torch::equal(c.known_atoms, c.known_atoms.select(1, 0).unsqueeze(1).expand({atoms, frames})));
    const auto generated = c.known_atoms.select(1, 0).logical_not();
    if (torch::equal(generated, ligand)) {
      ++ligand_draws;
    } else {
      ++patch_draws;
      const auto k = generated.sum().item<std::int64_t>();
      EXPECT_GE(k, 2);   // ceil(0.05 * 40)
      EXPECT_LE(k, 10);  // ceil(0.25 * 40)
      EXPECT_TRUE(is_spatial_patch(generated, pos));
    }
    const auto free = c.free_entries(atoms, frames);
    EXPECT_FALSE(free.select(1, 0).any().item<bool>());
    EXPECT_TRUE(torch::equal(free.slice(1, 1), generated.unsqueeze(1).expand({atoms, frames - 1})));
  }
  EXPECT_GT(ligand_draws, 10);
  EXPECT_GT(patch_draws, 10);

  // Without ligand atoms, always a patch; at least one atom even for tiny systems.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    auto generator = keyed_generator({seed, 1});
    const auto c = make_conditioning(ConditioningMode::kInpaint, 3, 2, torch::zeros({3}, torch::kBool),
                                     positions(3), generator);
    const auto k = c.known_atoms.select(1, 0).logical_not().sum().item<std::int64_t>();
    EXPECT_EQ(k, 1);
  }
  auto generator = keyed_generator({5});
  EXPECT_THROW(make_conditioning(ConditioningMode::kInpaint, 5, 3, {}, {}, generator), UsageError);
}

TEST(Conditioning, Fallbacks) {
  auto generator = keyed_generator({2});
  const auto pos = positions(5);
  for (const auto mode : {ConditioningMode::kForecast, ConditioningMode::kTransitionPath,
                          ConditioningMode::kInpaint, ConditioningMode::kUnconditional}) {
    const auto c = make_conditioning(mode, 5, 1, {}, pos, generator);
    EXPECT_EQ(c.mode, ConditioningMode::kUnconditional) << to_string(mode);
    EXPECT_TRUE(c.free_entries(5, 1).all().item<bool>());
  }
  const auto tps = make_conditioning(ConditioningMode::kTransitionPath, 5, 2, {}, pos, generator);
  EXPECT_EQ(tps.mode, ConditioningMode::kForecast);
  EXPECT_TRUE(torch::equal(tps.known_frames, frames_mask(2, {0})));
  const auto inpaint = make_conditioning(ConditioningMode::kInpaint, 1, 4, {}, positions(1), generator);
  EXPECT_EQ(inpaint.mode, ConditioningMode::kForecast);
  EXPECT_FALSE(inpaint.known_atoms.defined());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(sample_conditioning(ConditioningMix{}, 5, 1, {}, pos, generator).mode,
              ConditioningMode::kUnconditional);
  }
}

TEST(Conditioning, ModeNames) {
  for (const auto mode : {ConditioningMode::kForecast, ConditioningMode::kTransitionPath,
                          ConditioningMode::kInpaint, ConditioningMode::kUnconditional}) {
    EXPECT_EQ(parse_conditioning_mode(to_string(mode)), mode);
  }
  EXPECT_STREQ(to_string(ConditioningMode::kTransitionPath), "tps");
  EXPECT_THROW(parse_conditioning_mode("interpolate"), UsageError);
}

TEST(Conditioning, MixParsing) {
  const auto mix = parse_conditioning_mix("forecast=0.6,tps=0.2,inpaint=0.2,unconditional=0");
  EXPECT_EQ(mix.forecast, 0.6);
  EXPECT_EQ(mix.transition_path, 0.2);
  EXPECT_EQ(mix.inpaint, 0.2);
  EXPECT_EQ(mix.unconditional, 0.0);
  const auto subset = parse_conditioning_mix(" tps = 3 , inpaint=1");
  EXPECT_EQ(subset.forecast, 0.0);
  EXPECT_EQ(subset.transition_path, 3.0);
  EXPECT_EQ(subset.inpaint, 1.0);
  EXPECT_EQ(subset.unconditional, 0.0);
  const ConditioningMix odd{1.0 / 3.0, 0.1, 0.0, 2e-7};
  const auto back = parse_conditioning_mix(to_string(odd));
  EXPECT_EQ(back.forecast, odd.forecast);
  EXPECT_EQ(back.transition_path, odd.transition_path);
  EXPECT_EQ(back.unconditional, odd.unconditional);
  EXPECT_EQ(to_string(ConditioningMix{}), "forecast=0.5,tps=0.2,inpaint=0.2,unconditional=0.1");

  for (const std::string bad : {"forecast", "foo=1", "forecast=-1", "forecast=abc", "forecast=1x",
                                "forecast=nan", "forecast=1,forecast=2", "forecast="}) {
    try {
      parse_conditioning_mix(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      const std::string what = e.what();
      const auto item = bad.substr(bad.rfind(',') == std::string::npos ? 0 : bad.rfind(',') + 1);
      EXPECT_NE(what.find(item), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos);
    }
  }
  EXPECT_THROW(parse_conditioning_mix("forecast=0,tps=0"), UsageError);
  EXPECT_THROW(parse_conditioning_mix(""), UsageError);
  EXPECT_THROW(validate(ConditioningMix{0.5, -0.1, 0.0, 0.0}), UsageError);
  auto generator = keyed_generator({3});
  EXPECT_THROW(sample_conditioning(ConditioningMix{0, 0, 0, 0}, 4, 4, {}, positions(4), generator),
               UsageError);
}

TEST(Conditioning, FrequenciesFollowMix) {
  const ConditioningMix mix{0.5, 0.2, 0.2, 0.1};
  const auto pos = positions(10);
  auto generator = keyed_generator({4});
  int counts[4] = {0, 0, 0, 0};
  const int draws = 2000;
  for (int i = 0; i < draws; ++i)
    ++counts[static_cast<int>(sample_conditioning(mix, 10, 5, {}, pos, generator).mode)];
  const double expected[] = {0.5, 0.2, 0.2, 0.1};
  // 0.04 is over four standard deviations at p = 0.5 with 2000 draws.
  for (int m = 0; m < 4; ++m) EXPECT_NEAR(counts[m] / static_cast<double>(draws), expected[m], 0.04) << m;

  const ConditioningMix no_tps{1.0, 0.0, 1.0, 0.0};
  for (int i = 0; i < 300; ++i) {
    const auto mode = sample_conditioning(no_tps, 10, 5, {}, pos, generator).mode;
    EXPECT_TRUE(mode == ConditioningMode::kForecast || mode == ConditioningMode::kInpaint);
  }
}

TEST(Conditioning, SameSeedSameMasks) {
  const auto pos = positions(12);
  auto ligand = torch::zeros({12}, torch::kBool);
  ligand.slice(0, 8).fill_(true);
  auto a = keyed_generator({11, 22});
  auto b = keyed_generator({11, 22});
  bool any_difference_from_other_seed = false;
  auto c = keyed_generator({11, 23});
  for (int i = 0; i < 30; ++i) {
    const auto x = sample_conditioning(ConditioningMix{}, 12, 6, ligand, pos, a);
    const auto y = sample_conditioning(ConditioningMix{}, 12, 6, ligand, pos, b);
    const auto z = sample_conditioning(ConditioningMix{}, 12, 6, ligand, pos, c);
    EXPECT_EQ(x.mode, y.mode);
    EXPECT_TRUE(torch::equal(x.free_entries(12, 6), y.free_entries(12, 6)));
    any_difference_from_other_seed |= !torch::equal(x.free_entries(12, 6), z.free_entries(12, 6));
  }
  EXPECT_TRUE(any_difference_from_other_seed);
}

}  // namespace
}  // namespace hemeplm::diffusion
