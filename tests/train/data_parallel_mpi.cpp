// Data parallelism does not change the gradient: R ranks with batch b average to the same gradient (and
// loss) as one rank with batch R*b on the same samples, float64, through the real bucketed MPI
// all-reduce. Runs under mpiexec with 2 and 3 ranks (ctest train.mpi_np2 / train.mpi_np3).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "hemeplm/parallel_io/trajectory_source.hpp"
#include "hemeplm/train/trainer.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

namespace pio = parallel_io;

/// Rank 0 writes an H5MD dataset of the first `max_frames` frames (with forces and energies when the
/// trajectory has them); every rank gets its path.
std::string write_dataset(const std::string& structure, const std::string& trajectory,
                          const std::string& folder, int max_frames) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string path = folder + "/data.h5md";
  if (rank == 0) {
    const System system = load_system({structure, {}});
    auto source = pio::open_trajectory(trajectory);
    pio::TrajectoryFrame frame;
    EXPECT_TRUE(source->next(frame));
    pio::H5mdWriterOptions options;
    options.forces = !frame.forces.empty();
    if (frame.potential_energy) options.observables.push_back("potential_energy");
    pio::H5mdWriter writer(MPI_COMM_SELF, path, system, pio::AtomRange{0, system.atom_count()}, options);
    int written = 0;
    do {
      pio::FrameView view;
      view.step = written;
      view.time_ps = 0.1 * written;
      view.positions = frame.positions;
      if (options.forces) view.forces = frame.forces;
      std::vector<double> energy{frame.potential_energy.value_or(0.0)};
      if (frame.potential_energy) view.observables = energy;
      writer.append(view);
    } while (++written < max_frames && source->next(frame));
    writer.close();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

/// Broadcasts rank 0's folder name so that every rank uses the same dataset.
std::string shared_folder(const test::TempDir& dir) {
  std::string name = dir.path().string();
  int length = static_cast<int>(name.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  name.resize(static_cast<std::size_t>(length));
  MPI_Bcast(name.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
  return name;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff += (a[i] - b[i]) * (a[i] - b[i]), norm += b[i] * b[i];
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
}

void expect_same_gradient_as_one_rank(TrainingOptions options) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const int batch = options.batch;
  options.float64 = true;
  options.progress = false;
  options.validation_fraction = 0;
  options.threads = 1;

  std::vector<double> distributed, single;
  Trainer parallel(options, MPI_COMM_WORLD, nullptr);
  const double loss_parallel = parallel.compute_gradients(distributed);
  // Every rank holds the same averaged gradient.
  std::vector<double> root_copy = distributed;
  MPI_Bcast(root_copy.data(), static_cast<int>(root_copy.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  EXPECT_EQ(relative_difference(distributed, root_copy), 0.0);

  if (rank == 0) {
    options.batch = batch * ranks;
    Trainer serial(options, MPI_COMM_SELF, nullptr);
    const double loss_serial = serial.compute_gradients(single);
    ASSERT_EQ(single.size(), distributed.size());
    EXPECT_GT(std::sqrt(std::inner_product(single.begin(), single.end(), single.begin(), 0.0)), 0.0);
    const double difference = relative_difference(distributed, single);
    EXPECT_LE(difference, 1e-10) << ranks << " ranks x batch " << batch;
    std::cout << ranks << " ranks x batch " << batch << " vs 1 rank x batch " << batch * ranks << ": "
              << single.size() << " gradient entries, relative difference " << difference << ", loss "
              << loss_parallel << " vs " << loss_serial << "\n";
    EXPECT_NEAR(loss_parallel, loss_serial, 1e-10 * std::abs(loss_serial));
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(DataParallel, TemporalStageGradientEqualsOneRankWithTheWholeBatch) {
  const std::string top = test::shared_data("ala2_traj_top_mdtraj.pdb");
  const std::string dcd = test::shared_data("ala2_traj_501frames.dcd");
  if (top.empty() || dcd.empty()) GTEST_SKIP() << "../shared/data/ala2_* is absent: test needs it";
  test::TempDir dir;
  TrainingOptions options;
  options.data = {write_dataset(top, dcd, shared_folder(dir), 40)};
  options.model = model::model_config("tiny");
  options.stage = 2;
  options.window_frames = 4;
  options.batch = 2;
  options.diffusion_steps = 100;
  options.checkpoint_dir = shared_folder(dir) + "/checkpoints";
  expect_same_gradient_as_one_rank(options);
}

TEST(DataParallel, EnergyAndForceTermsGradientEqualsOneRankWithTheWholeBatch) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  test::TempDir dir;
  TrainingOptions options;
  options.data = {write_dataset(xyz, xyz, shared_folder(dir), 30)};
  options.model = model::model_config("tiny");
  options.stage = 1;
  options.batch = 3;
  options.diffusion_steps = 100;
  options.checkpoint_dir = shared_folder(dir) + "/checkpoints";
  expect_same_gradient_as_one_rank(options);
}

}  // namespace
}  // namespace hemeplm::train
