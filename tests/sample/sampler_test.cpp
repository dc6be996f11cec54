// hemeplm sample's driver through its library entry point: the trajectory does not depend on the
// number of ranks (keyed noise, exact stitching; float32), the output is a valid H5MD file with the
// checkpoint's time step, and the modes' masks hold (known frames and atoms stay as given).
#include "hemeplm/sample/sampler.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "sample_fixtures.hpp"

namespace hemeplm::sample {
namespace {

namespace fs = std::filesystem;

struct Trajectory {
  std::vector<Vec3> positions;  // frame-major
  std::int64_t frames = 0;
  std::vector<double> times;
};

Trajectory read_all(const std::string& path, int atoms) {
  parallel_io::H5mdReader reader(path);
  Trajectory t;
  t.frames = reader.frame_count();
  t.positions.resize(static_cast<std::size_t>(t.frames * atoms));
  reader.read_positions(0, t.frames, {0, atoms}, Span<Vec3>(t.positions));
  t.times = reader.times_ps();
  return t;
}

double max_difference(const Trajectory& a, const Trajectory& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.positions.size(); ++i)
    worst = std::max(worst, norm(a.positions[i] - b.positions[i]));
  return worst;
}

class SamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    dir_ = test::shared_temp_dir(MPI_COMM_WORLD);
    checkpoint_ = dir_ + "/model.h5";
    smooth_checkpoint_ = dir_ + "/smooth.h5";
    if (rank_ == 0) {
      const auto model = test::random_model(test::short_range_config(), torch::kFloat32, 5);
      test::save_sampling_checkpoint(checkpoint_, model, 3, 50, 10.0);
      test::save_sampling_checkpoint(smooth_checkpoint_,
                                     test::smooth_model(test::short_range_config(), torch::kFloat32, 5), 3,
                                     50, 10.0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank_ == 0) fs::remove_all(dir_);
  }
  SampleOptions options(const std::string& mode, const std::string& out) const {
    SampleOptions o;
    o.checkpoint = checkpoint_;
    o.mode = mode;
    o.frames = 2;  // one block of 3 frames: a random denoiser stays finite for a few steps only
    o.steps = 2;
    o.seed = 11;
    o.core_residues = 2;
    o.buffer = 10.0;
    o.max_batch_atoms = 300;
    o.out = out;
    o.quiet = true;
    return o;
  }
  int rank_ = 0;
  std::string dir_, checkpoint_, smooth_checkpoint_;
};

TEST_F(SamplerTest, RanksGiveTheSameTrajectory) {
  const System system = test::example_complex();
  // One rank alone (on its own communicator), then every rank of the run, with the smooth model:
  // float32 over one block of 10 DDPM steps (the 1e-4 Å), and float64 over three blocks, where
  // each block conditions on the previous one's last frame (agreement to rounding).
  auto single = options("forecast", "");
  single.checkpoint = smooth_checkpoint_;
  single.steps = 10;
  auto blocks = single;
  blocks.frames = 6;
  blocks.steps = 6;
  blocks.float64 = true;
  for (auto* o : {&single, &blocks}) {
    const std::string name = o == &single ? "float32-one-block" : "float64-three-blocks";
    o->out = dir_ + "/" + name + "-one.h5md";
    if (rank_ == 0) run_sampling(MPI_COMM_SELF, system, std::nullopt, *o, nullptr);
    o->out = dir_ + "/" + name + "-all.h5md";
    const auto report = run_sampling(MPI_COMM_WORLD, system, std::nullopt, *o, nullptr);
    EXPECT_EQ(report.frames_written, 1 + o->frames);
    EXPECT_EQ(report.blocks, o->frames / 2);  // blocks of 3 frames give 2 new frames each
    if (rank_ != 0) continue;
    const auto one = read_all(dir_ + "/" + name + "-one.h5md", system.atom_count());
    const auto all = read_all(dir_ + "/" + name + "-all.h5md", system.atom_count());
    ASSERT_EQ(one.frames, 1 + o->frames);
    ASSERT_EQ(all.frames, 1 + o->frames);
    const double diff = max_difference(one, all);
    std::printf("[ %s: 1 rank vs all ranks: max |dx| = %.3e Å ]\n", name.c_str(), diff);
    EXPECT_LT(diff, o->float64 ? 1e-8 : 1e-4);
    EXPECT_DOUBLE_EQ(all.times[2], 20.0);  // the checkpoint's 10 ps per frame
    // Frame 0 is the structure; generated frames moved and are finite.
    double moved = 0;
    for (int a = 0; a < system.atom_count(); ++a) {
      EXPECT_LT(norm(all.positions[a] - system.positions[a]), 1e-3);
      moved = std::max(moved, norm(all.positions[system.atom_count() + a] - system.positions[a]));
    }
    EXPECT_GT(moved, 1e-3);
    EXPECT_FALSE(fs::exists(dir_ + "/" + name + "-all.h5md.partial"));
  }
}

TEST_F(SamplerTest, InpaintingKeepsTheUnselectedAtomsAndTpsKeepsTheEnds) {
  const System system = test::example_complex();
  auto o = options("inpaint", dir_ + "/inpaint.h5md");
  o.inpaint_atoms = "ligand";
  run_sampling(MPI_COMM_WORLD, system, std::nullopt, o, nullptr);
  System end = system;
  for (auto& p : end.positions) p = p + Vec3{0.5, -0.3, 0.2};
  auto t = options("tps", dir_ + "/tps.h5md");
  t.frames = 1;
  run_sampling(MPI_COMM_WORLD, system, end, t, nullptr);
  if (rank_ != 0) return;
  const int n = system.atom_count();
  const auto inpaint = read_all(dir_ + "/inpaint.h5md", n);
  const auto ligand = select_atoms_by(system, "ligand");
  std::vector<char> is_ligand(static_cast<std::size_t>(n), 0);
  for (const int a : ligand) is_ligand[static_cast<std::size_t>(a)] = 1;
  double kept = 0, moved = 0;
  for (std::int64_t f = 1; f < inpaint.frames; ++f)
    for (int a = 0; a < n; ++a) {
      const double d = norm(inpaint.positions[static_cast<std::size_t>(f * n + a)] - system.positions[a]);
      (is_ligand[static_cast<std::size_t>(a)] ? moved : kept) =
          std::max(is_ligand[static_cast<std::size_t>(a)] ? moved : kept, d);
    }
  EXPECT_LT(kept, 1e-3) << "atoms outside the selection must follow the given structure";
  EXPECT_GT(moved, 1e-2);
  const auto tps = read_all(dir_ + "/tps.h5md", n);
  ASSERT_EQ(tps.frames, 3);  // start, 1 generated, end
  for (int a = 0; a < n; ++a) {
    EXPECT_LT(norm(tps.positions[static_cast<std::size_t>(a)] - system.positions[a]), 1e-3);
    EXPECT_LT(norm(tps.positions[static_cast<std::size_t>(2 * n + a)] - end.positions[a]), 1e-3);
  }
}

TEST_F(SamplerTest, UnconditionalDdimBlocksAreIndependentAndFinite) {
  const System system = test::example_complex();
  auto o = options("unconditional", dir_ + "/unconditional.h5md");
  o.checkpoint = smooth_checkpoint_;
  o.sampler = "ddim";
  o.steps = 6;
  o.frames = 6;  // two blocks of 3 generated frames
  const auto report = run_sampling(MPI_COMM_WORLD, system, std::nullopt, o, nullptr);
  EXPECT_EQ(report.blocks, 2);
  if (rank_ != 0) return;
  const int n = system.atom_count();
  const auto t = read_all(dir_ + "/unconditional.h5md", n);
  ASSERT_EQ(t.frames, 7);
  for (const auto& p : t.positions)
    ASSERT_TRUE(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z));
  // Generated from noise: frame 1 is not the structure, and the two blocks differ.
  double from_structure = 0, between_blocks = 0;
  for (int a = 0; a < n; ++a) {
    from_structure =
        std::max(from_structure, norm(t.positions[static_cast<std::size_t>(n + a)] - system.positions[a]));
    between_blocks = std::max(between_blocks, norm(t.positions[static_cast<std::size_t>(4 * n + a)] -
                                                   t.positions[static_cast<std::size_t>(n + a)]));
  }
  EXPECT_GT(from_structure, 0.1);
  EXPECT_GT(between_blocks, 0.1);
}

TEST_F(SamplerTest, BadInputsAreOneLineUsageErrors) {
  const System system = test::example_complex();
  const auto expect_usage = [&](SampleOptions o, const std::optional<System>& end,
                                const std::string& needle) {
    try {
      run_sampling(MPI_COMM_WORLD, system, end, o, nullptr);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_status(), 2) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  };
  auto o = options("inpaint", dir_ + "/bad.h5md");
  o.inpaint_atoms = "resname NOPE";
  expect_usage(o, std::nullopt, "matches no atom");
  System other = system;
  other.atomic_numbers[3] = 8;
  other.atom_names[3] = "OX";
  expect_usage(options("tps", dir_ + "/bad.h5md"), other, "topologies differ");
  expect_usage(options("tps", dir_ + "/bad.h5md"), std::nullopt, "--end");
  expect_usage(options("sideways", dir_ + "/bad.h5md"), std::nullopt, "--mode");
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_ == 0) {
    EXPECT_FALSE(fs::exists(dir_ + "/bad.h5md"));
    EXPECT_FALSE(fs::exists(dir_ + "/bad.h5md.partial"));
  }
}

// A checkpoint trained with --dtype float64 stores float64 parameters; sampling in float32 (the default)
// loads it into a model of the stored dtype first, then converts (it used to refuse it).
TEST_F(SamplerTest, Float64CheckpointSamplesInFloat32) {
  const System system = test::example_complex();
  const std::string checkpoint = dir_ + "/smooth64.h5";
  if (rank_ == 0)
    test::save_sampling_checkpoint(
        checkpoint, test::smooth_model(test::short_range_config(), torch::kFloat64, 5), 3, 50, 10.0);
  MPI_Barrier(MPI_COMM_WORLD);
  auto o = options("forecast", dir_ + "/from64.h5md");
  o.checkpoint = checkpoint;
  const auto report = run_sampling(MPI_COMM_WORLD, system, std::nullopt, o, nullptr);
  EXPECT_EQ(report.frames_written, 3);
}

// x0 clipping: the random full-scale denoiser (chaotic, it overflows after a few blocks) rolls out
// many blocks with --clip-x0 and every frame stays within the radius of the forecast's start (the
// final DDPM step returns the clipped x0_hat; the CoM projection after clipping moves it by far less
// than an Å here). The ranks still agree, since clipping is per atom and frame.
TEST_F(SamplerTest, ClippedRolloutOfAChaoticModelStaysNearItsStart) {
  const System system = test::example_complex();
  auto o = options("forecast", dir_ + "/clipped.h5md");
  o.frames = 8;  // four blocks of 2 new frames
  o.steps = 10;
  o.clip_x0 = 1.5;
  run_sampling(MPI_COMM_WORLD, system, std::nullopt, o, nullptr);
  if (rank_ != 0) return;
  const int n = system.atom_count();
  const auto t = read_all(dir_ + "/clipped.h5md", n);
  ASSERT_EQ(t.frames, 9);
  double previous_block_end_distance = 0;
  for (std::int64_t f = 1; f < t.frames; ++f) {
    const std::int64_t anchor_frame = 2 * ((f - 1) / 2);  // each block starts from the last frame before it
    double worst = 0;
    for (int a = 0; a < n; ++a) {
      const Vec3 p = t.positions[static_cast<std::size_t>(f * n + a)];
      ASSERT_TRUE(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z)) << "frame " << f;
      worst = std::max(worst, norm(p - t.positions[static_cast<std::size_t>(anchor_frame * n + a)]));
    }
    EXPECT_LT(worst, 1.5 + 0.5) << "frame " << f;
    previous_block_end_distance = worst;
  }
  EXPECT_GT(previous_block_end_distance, 0.05);  // it did move
}

// --rolling: one window with staggered levels, one frame per model call after W - 1 warm-up calls. The
// trajectory is the same on one rank and on all (noise keyed by output frame and level), every frame is
// finite and centred where the start structure is, and the mode/steps it cannot take are clear errors.
TEST_F(SamplerTest, RollingSamplerIsRankIndependentAndEmitsOneFramePerCall) {
  const System system = test::example_complex();
  auto o = options("forecast", "");
  o.checkpoint = smooth_checkpoint_;
  o.rolling = true;
  o.steps = 0;         // the window's T - 1 = 2 levels
  o.block_frames = 4;  // 3 levels
  o.frames = 5;
  o.float64 = true;
  o.out = dir_ + "/rolling-one.h5md";
  if (rank_ == 0) {
    const auto report = run_sampling(MPI_COMM_SELF, system, std::nullopt, o, nullptr);
    EXPECT_EQ(report.frames_written, 6);
    EXPECT_EQ(report.blocks, 5);
    // 2 warm-up calls + 5 finishing calls.
    EXPECT_NEAR(report.seconds_per_step * 7, report.seconds, 1e-9 + 1e-6 * report.seconds);
  }
  o.out = dir_ + "/rolling-all.h5md";
  run_sampling(MPI_COMM_WORLD, system, std::nullopt, o, nullptr);
  if (rank_ == 0) {
    const int n = system.atom_count();
    const auto one = read_all(dir_ + "/rolling-one.h5md", n);
    const auto all = read_all(dir_ + "/rolling-all.h5md", n);
    ASSERT_EQ(one.frames, 6);
    ASSERT_EQ(all.frames, 6);
    const double diff = max_difference(one, all);
    std::printf("[ rolling: 1 rank vs all ranks: max |dx| = %.3e Å ]\n", diff);
    EXPECT_LT(diff, 1e-8);
    Vec3 start_centre{0, 0, 0};
    for (int a = 0; a < n; ++a) start_centre = start_centre + system.positions[static_cast<std::size_t>(a)];
    for (std::int64_t f = 1; f < all.frames; ++f) {
      Vec3 centre{0, 0, 0};
      double moved = 0;
      for (int a = 0; a < n; ++a) {
        const Vec3 p = all.positions[static_cast<std::size_t>(f * n + a)];
        ASSERT_TRUE(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z)) << "frame " << f;
        centre = centre + p;
        moved = std::max(moved, norm(p - all.positions[static_cast<std::size_t>((f - 1) * n + a)]));
      }
      EXPECT_LT(norm(centre - start_centre) / n, 1e-4) << "frame " << f;  // float32 file rounding
      EXPECT_GT(moved, 1e-4) << "frame " << f;
    }
  }
  const auto expect_usage = [&](SampleOptions bad, const std::string& needle) {
    try {
      run_sampling(MPI_COMM_WORLD, system, std::nullopt, bad, nullptr);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_status(), 2) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto bad = o;
  bad.out = dir_ + "/rolling-bad.h5md";
  bad.steps = 10;
  expect_usage(bad, "--steps must be a multiple of 3");
  bad.steps = 0;
  bad.mode = "unconditional";
  expect_usage(bad, "--mode forecast only");
}

}  // namespace
}  // namespace hemeplm::sample
