// Per-residue energies and forces of 'hemeplm annotate' on the bundled example complex (881 atoms, 51
// residues, with ligand): a tiny model trained for two steps by the real binary; the residue energies sum
// to the energy minus the head's mean (HemePLM::residue_energies), forces match a central difference of
// the energy and sum to zero (the head sees only relative positions), and the refusals.
#include "hemeplm/evaluate/residue_prediction.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/evaluate/trajectory.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/train/checkpoint_model.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

using test::TempDir;

void run_hemeplm(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::hemeplm_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = test::run_command(argv, 600);
  ASSERT_EQ(r.exit_status, 0) << "hemeplm " << args.front() << ":\n" << r.out << r.err;
}

class ResiduePredictionTest : public ::testing::Test {
 protected:
  // One dataset and checkpoint for the suite: training takes seconds.
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    dataset_ = (dir_->path() / "example.h5md").string();
    run_hemeplm({"prepare", "--trajectory", test::source_file("inputs/example/reference-md.h5md"),
                 "--last-frame", "8", "--out", dataset_});
    run_hemeplm({"train", "--data", dataset_, "--model", "tiny", "--stage", "1", "--steps", "2", "--batch",
                 "2", "--threads", "1", "--checkpoint-dir", (dir_->path() / "ck").string(),
                 "--validation-fraction", "0", "--quiet"});
    checkpoint_ = (dir_->path() / "ck" / "checkpoint-000000002.h5").string();
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(checkpoint_)) << "training the checkpoint failed";
  }

  ResiduePredictionOptions options() const {
    ResiduePredictionOptions o;
    o.checkpoint = checkpoint_;
    o.threads = 1;
    return o;
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string dataset_, checkpoint_;
};
std::unique_ptr<TempDir> ResiduePredictionTest::dir_;
std::string ResiduePredictionTest::dataset_, ResiduePredictionTest::checkpoint_;

TEST_F(ResiduePredictionTest, ResidueEnergiesSumToEnergyMinusTheHeadMean) {
  const Trajectory frame = read_trajectory(dataset_, 3, 1);
  const auto p = predict_residues(options(), frame.system, dataset_, frame.frame(0));
  ASSERT_EQ(p.residue_energy.size(), static_cast<std::size_t>(frame.system.residue_count()));
  ASSERT_EQ(p.forces.size(), static_cast<std::size_t>(frame.atom_count()));
  EXPECT_EQ(p.checkpoint_step, 2);
  double sum = 0;
  for (const double e : p.residue_energy) {
    ASSERT_TRUE(std::isfinite(e));
    sum += e;
  }
  EXPECT_NEAR(sum + p.energy_offset, p.energy, 1e-9 * (1 + std::abs(p.energy)));

  // The offset is the energy head's mean buffer (the per-frame energy offset no residue owns).
  const auto checkpoint = parallel_io::read_checkpoint(checkpoint_);
  auto model = train::load_checkpoint_model(checkpoint, checkpoint_, true);
  const double mean = model->energy_model()->named_buffers(false)["mean"].item<double>();
  EXPECT_NE(mean, 0.0);
  EXPECT_NEAR(p.energy_offset, mean, 1e-5 * std::abs(mean) + 1e-6);
  // Residues differ: a constant per residue would be a wrong segment sum.
  EXPECT_NE(p.residue_energy.front(), p.residue_energy.back());
}

TEST_F(ResiduePredictionTest, ForcesAreMinusTheEnergyGradientAndSumToZero) {
  const Trajectory frame = read_trajectory(dataset_, 3, 1);
  const auto p = predict_residues(options(), frame.system, dataset_, frame.frame(0));
  Vec3 total;
  double largest = 0;
  for (const Vec3& f : p.forces) {
    total += f;
    largest = std::max(largest, norm(f));
  }
  ASSERT_GT(largest, 0.0);
  EXPECT_LT(norm(total), 1e-6 * largest * p.forces.size());

  // Central difference on a ligand atom's x (float64 evaluation).
  int atom = frame.atom_count() - 1;
  const double h = 1e-4;
  std::vector<Vec3> plus(frame.frame(0).begin(), frame.frame(0).end()), minus = plus;
  plus[static_cast<std::size_t>(atom)].x += h;
  minus[static_cast<std::size_t>(atom)].x -= h;
  const double e_plus = predict_residues(options(), frame.system, dataset_, plus).energy;
  const double e_minus = predict_residues(options(), frame.system, dataset_, minus).energy;
  const double fd = -(e_plus - e_minus) / (2 * h);
  EXPECT_NEAR(p.forces[static_cast<std::size_t>(atom)].x, fd, 1e-4 * (1 + std::abs(fd)));
}

TEST_F(ResiduePredictionTest, OtherAtomsAndMissingCheckpointsAreInputErrors) {
  // The example's heavy-atom structure: the training data (881 atoms with hydrogens) is readable.
  const System heavy = load_system(
      {test::source_file("inputs/example/complex.pdb"), {test::source_file("inputs/example/ligand.sdf")}});
  try {
    predict_residues(options(), heavy, "complex.pdb", heavy.positions);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("complex.pdb"), std::string::npos) << e.what();
  }
  auto o = options();
  o.checkpoint = (dir_->path() / "missing.h5").string();
  EXPECT_THROW(predict_residues(o, heavy, "complex.pdb", heavy.positions), InputError);
  o.checkpoint.clear();
  EXPECT_THROW(predict_residues(o, heavy, "complex.pdb", heavy.positions), UsageError);
}

}  // namespace
}  // namespace hemeplm::evaluate
