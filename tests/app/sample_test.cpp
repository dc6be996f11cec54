// hemeplm sample as a user runs it: a trajectory from a checkpoint written as H5MD (times from the
// checkpoint's dt, energies on request), a killed run that --resume continues to exactly the frames of
// an uninterrupted one, and one-line errors (exit status 2, no file left behind) on bad input.
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../sample/sample_fixtures.hpp"
#include "child_process.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::test {
namespace {

namespace fs = std::filesystem;
namespace pio = hemeplm::parallel_io;
namespace fixtures = hemeplm::sample::test;

const std::string kComplex = source_file("inputs/example/complex.pdb");
const std::string kLigand = source_file("inputs/example/ligand.sdf");
constexpr double kDt = 0.25;  // ps between frames in the test checkpoints

/// Checkpoints shared by the tests of this file, written once.
struct Checkpoints {
  TempDir dir;
  std::string smooth;   ///< denoiser scaled by 0.1: stays finite over many steps and blocks
  std::string chaotic;  ///< denoiser scaled up 10x: overflows within a few steps
  std::string max_z8;   ///< embeds atomic numbers below 8 only
};

const Checkpoints& checkpoints() {
  static const std::unique_ptr<Checkpoints> made = [] {
    auto c = std::make_unique<Checkpoints>();
    c->smooth = (c->dir.path() / "smooth.h5").string();
    c->chaotic = (c->dir.path() / "chaotic.h5").string();
    c->max_z8 = (c->dir.path() / "max_z8.h5").string();
    const auto config = fixtures::short_range_config();
    fixtures::save_sampling_checkpoint(c->smooth, fixtures::smooth_model(config, torch::kFloat32, 7), 3, 100,
                                       kDt);
    // Random weights at full scale overflow after a few blocks; scaled up 10x, within the first block.
    fixtures::save_sampling_checkpoint(c->chaotic, fixtures::smooth_model(config, torch::kFloat32, 7, 10.0),
                                       3, 100, kDt);
    auto small = config;
    small.visnet.max_z = 8;
    fixtures::save_sampling_checkpoint(c->max_z8, fixtures::smooth_model(small, torch::kFloat32, 7), 3, 100,
                                       kDt);
    return c;
  }();
  return *made;
}

/// hemeplm sample on the bundled complex, plus `args`.
std::vector<std::string> sample_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{hemeplm_binary(), "sample", "--structure", kComplex, "--ligand", kLigand};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

/// A short forecast with the smooth checkpoint into `out`, plus `extra`.
std::vector<std::string> forecast(const std::string& out, std::int64_t frames, std::int64_t steps,
                                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"--checkpoint",   checkpoints().smooth,
                                "--mode",         "forecast",
                                "--frames",       std::to_string(frames),
                                "--block-frames", "3",
                                "--steps",        std::to_string(steps),
                                "--threads",      "1",
                                "--out",          out};
  args.insert(args.end(), extra.begin(), extra.end());
  return sample_argv(args);
}

/// Every frame's positions, frame-major.
std::vector<Vec3> all_positions(const std::string& path) {
  pio::H5mdReader reader(path);
  std::vector<Vec3> positions(static_cast<std::size_t>(reader.frame_count() * reader.atom_count()));
  reader.read_positions(0, reader.frame_count(), {0, reader.atom_count()}, Span<Vec3>(positions));
  return positions;
}

double max_abs_difference(const std::vector<Vec3>& a, const std::vector<Vec3>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (int d = 0; d < 3; ++d) worst = std::max(worst, std::abs(a[i][d] - b[i][d]));
  return worst;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) +
         (!text.empty() && text.back() != '\n' ? 1 : 0);
}

TEST(SampleCli, HelpListsTheOptions) {
  const auto r = run_command({hemeplm_binary(), "sample", "--help"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (const char* option :
       {"--checkpoint", "--mode", "--inpaint-atoms", "--resume", "--energies", "--ranks-plan", "--end"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << " missing from:\n" << r.out;
}

TEST(SampleCli, ForecastWritesH5mdWithTimesAndEnergies) {
  TempDir dir;
  const std::string out = (dir.path() / "traj.h5md").string();
  constexpr std::int64_t kFrames = 5;  // 3 blocks of 2 new frames, the last one cut to 1
  const auto r = run_command(forecast(out, kFrames, 3, {"--energies"}));
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("block 3/3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote " + out), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));

  pio::H5mdReader reader(out);
  ASSERT_EQ(reader.frame_count(), kFrames + 1);
  const auto times = reader.times_ps();
  ASSERT_EQ(static_cast<std::int64_t>(times.size()), kFrames + 1);
  for (std::int64_t k = 0; k <= kFrames; ++k) EXPECT_NEAR(times[k], static_cast<double>(k) * kDt, 1e-9) << k;
  const auto names = reader.observable_names();
  ASSERT_NE(std::find(names.begin(), names.end(), "potential_energy"), names.end());
  const auto energies = reader.read_observable("potential_energy", 0, kFrames + 1);
  ASSERT_EQ(static_cast<std::int64_t>(energies.size()), kFrames + 1);
  for (const double e : energies) EXPECT_TRUE(std::isfinite(e)) << e;
  // Frame 0 is the structure; the generated frames moved and stayed finite.
  const auto positions = all_positions(out);
  for (const auto& p : positions)
    ASSERT_TRUE(std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]));
  const auto n = static_cast<std::size_t>(reader.atom_count());
  const std::vector<Vec3> first(positions.begin(), positions.begin() + n);
  const std::vector<Vec3> last(positions.end() - n, positions.end());
  EXPECT_GT(max_abs_difference(first, last), 1e-3);

  // Without --energies there is no observable.
  const std::string plain = (dir.path() / "plain.h5md").string();
  const auto p = run_command(forecast(plain, 2, 2, {"--quiet"}));
  ASSERT_EQ(p.exit_status, 0) << p.err;
  EXPECT_EQ(p.out, "");
  EXPECT_TRUE(pio::H5mdReader(plain).observable_names().empty());
}

TEST(SampleCli, KilledRunResumesToTheUninterruptedFrames) {
  TempDir dir;
  constexpr std::int64_t kFrames = 16, kSteps = 4;  // 8 blocks
  const std::string out = (dir.path() / "killed.h5md").string();
  {
    Child child(forecast(out, kFrames, kSteps), dir.path() / "killed.out", dir.path() / "killed.err");
    const bool ready = wait_until(child, [&] {
      const std::string text = fs::exists(dir.path() / "killed.out")
                                   ? read_text((dir.path() / "killed.out").string())
                                   : std::string();
      return text.find("block 2/8") != std::string::npos;
    });
    ASSERT_TRUE(ready) << read_text((dir.path() / "killed.err").string());
    ASSERT_EQ(kill(child.pid(), SIGKILL), 0);
    EXPECT_EQ(child.wait(), 128 + SIGKILL);
  }
  ASSERT_FALSE(fs::exists(out)) << "the run finished before it was killed";
  ASSERT_TRUE(fs::exists(out + ".partial"));

  const auto resumed = run_command(forecast(out, kFrames, kSteps, {"--resume"}));
  ASSERT_EQ(resumed.exit_status, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("resuming"), std::string::npos) << resumed.out;
  EXPECT_EQ(resumed.out.find("block 1/8"), std::string::npos) << "block 1 sampled again:\n" << resumed.out;
  EXPECT_FALSE(fs::exists(out + ".partial"));

  // --resume without a partial file just starts.
  const std::string whole = (dir.path() / "whole.h5md").string();
  const auto uninterrupted = run_command(forecast(whole, kFrames, kSteps, {"--resume"}));
  ASSERT_EQ(uninterrupted.exit_status, 0) << uninterrupted.out << uninterrupted.err;
  EXPECT_EQ(uninterrupted.out.find("resuming"), std::string::npos) << uninterrupted.out;
  EXPECT_NE(uninterrupted.out.find("block 1/8"), std::string::npos) << uninterrupted.out;

  EXPECT_EQ(pio::H5mdReader(out).frame_count(), kFrames + 1);
  const auto a = all_positions(out);
  const auto b = all_positions(whole);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LT(max_abs_difference(a, b), 1e-6) << "resumed frames differ from the uninterrupted run";
}

struct BadInput {
  std::string name;
  std::function<std::vector<std::string>(const TempDir&, const std::string& out)> args;
  std::vector<std::string> keywords;  ///< each must appear in the message
};

/// A plan file (hemeplm fragment --out) for another system, the alanine dipeptide `ala2`.
std::string other_plan(const TempDir& dir, const std::string& ala2) {
  const std::string plan = (dir.path() / "ala2-plan.json").string();
  const auto r = run_command({hemeplm_binary(), "fragment", ala2, "--ranks", "1", "--out", plan, "--json"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return plan;
}

std::vector<std::string> with_smooth(const std::string& out, std::vector<std::string> extra) {
  std::vector<std::string> args{"--checkpoint",   checkpoints().smooth,
                                "--frames",       "2",
                                "--block-frames", "3",
                                "--steps",        "2",
                                "--out",          out};
  args.insert(args.end(), extra.begin(), extra.end());
  return sample_argv(args);
}

/// Runs every case in a fresh folder: exit status 2, one line "hemeplm: error: ..." naming the problem,
/// neither OUT nor OUT.partial left.
void expect_bad_input(const std::vector<BadInput>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string out = (dir.path() / "out.h5md").string();
    const auto r = run_command(c.args(dir, out));
    EXPECT_EQ(r.exit_status, 2) << r.out << r.err;
    EXPECT_EQ(line_count(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("hemeplm: error:", 0), 0u) << r.err;
    for (const auto& k : c.keywords)
      EXPECT_NE(r.err.find(k), std::string::npos) << "'" << k << "' in: " << r.err;
    EXPECT_FALSE(fs::exists(out)) << "OUT left behind";
    EXPECT_FALSE(fs::exists(out + ".partial")) << "OUT.partial left behind";
  }
}

TEST(SampleCli, BadInputIsOneLineExitTwoNoFile) {
  expect_bad_input({
      {"no checkpoint",
       [](const TempDir&, const std::string& out) {
         return sample_argv({"--out", out});
       },
       {"--checkpoint"}},
      {"missing checkpoint",
       [](const TempDir& d, const std::string& out) {
         return sample_argv({"--checkpoint", (d.path() / "absent.h5").string(), "--out", out});
       },
       {"absent.h5"}},
      {"checkpoint of random bytes",
       [](const TempDir& d, const std::string& out) {
         std::mt19937 random(3);
         std::string bytes(4096, '\0');
         for (auto& c : bytes) c = static_cast<char>(random() & 0xFF);
         return sample_argv({"--checkpoint", d.write("garbage.h5", bytes), "--out", out});
       },
       {"garbage.h5"}},
      {"model embeds too few elements",
       [](const TempDir&, const std::string& out) {
         return sample_argv({"--checkpoint", checkpoints().max_z8, "--frames", "2", "--out", out});
       },
       {"atomic numbers below 8", "atom 3 (O SER 1 chain A", " has 8"}},
      {"tps without --end",
       [](const TempDir&, const std::string& out) {
         return with_smooth(out, {"--mode", "tps"});
       },
       {"--end"}},
      {"no selection",
       [](const TempDir&, const std::string& out) {
         return with_smooth(out, {"--mode", "inpaint", "--inpaint-atoms", "resname NOPE"});
       },
       {"NOPE"}},
      {"unknown sampler",
       [](const TempDir&, const std::string& out) {
         return with_smooth(out, {"--sampler", "bogus"});
       },
       {"bogus"}},
      {"DDIM eta outside [0, 1]",
       [](const TempDir&, const std::string& out) {
         return with_smooth(out, {"--sampler", "ddim", "--eta", "2"});
       },
       {"eta"}},
      {"no frames",
       [](const TempDir&, const std::string& out) {
         return with_smooth(out, {"--frames", "0"});
       },
       {"--frames"}},
  });
}

// A model that overflows (full-scale random weights, many steps) stops the run with a one-line error
// naming the block and step, and its partial file is removed.
TEST(SampleCli, NonFiniteModelOutputStopsTheRun) {
  expect_bad_input({
      {"non-finite model output",
       [](const TempDir&, const std::string& out) {
         return sample_argv({"--checkpoint", checkpoints().chaotic, "--frames", "12", "--block-frames", "3",
                             "--steps", "50", "--threads", "1", "--out", out});
       },
       {"non-finite", "step"}},
  });
}

TEST(SampleCli, InputsOfAnotherSystemAreRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(ala2, "ala2_vacuum_openmm.pdb");
  expect_bad_input({
      {"--end of another topology",
       [ala2](const TempDir&, const std::string& out) {
         return with_smooth(out, {"--mode", "tps", "--end", ala2});
       },
       {"topolog"}},
      {"plan of another system",
       [ala2](const TempDir& d, const std::string& out) {
         return with_smooth(out, {"--ranks-plan", other_plan(d, ala2)});
       },
       {"ala2-plan.json", "atoms"}},
  });
}

}  // namespace
}  // namespace hemeplm::test
