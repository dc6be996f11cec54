// The MPI Communicator against analytic sums, and the NCCL factory's behaviour in this build. Every
// collective is reached by every rank (no ASSERT before a collective call) so a failure cannot hang.
#include "hemeplm/dist/communicator.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hemeplm/core/error.hpp"
#include "world.hpp"

namespace hemeplm::dist {
namespace {

TEST(MpiCommunicator, ReportsRankSizeAndBackend) {
  const World world;
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  EXPECT_EQ(comm->rank(), world.rank);
  EXPECT_EQ(comm->size(), world.size);
  EXPECT_STREQ(comm->backend_name(), "mpi");
  comm->barrier();
}

// Rank r contributes (r + 1) * (i + 1) at element i: the sum is S * (i + 1) with S = size (size + 1) / 2.
template <class T>
void expect_analytic_sum(torch::ScalarType type) {
  const World world;
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  const std::int64_t n = 1000;
  torch::Tensor t = (torch::arange(1, n + 1, torch::kLong) * (world.rank + 1)).to(type).reshape({10, 100});
  comm->all_reduce_sum(t);
  EXPECT_EQ(t.scalar_type(), type);
  EXPECT_EQ(t.sizes(), (std::vector<std::int64_t>{10, 100}));
  const std::int64_t s = std::int64_t{world.size} * (world.size + 1) / 2;
  const torch::Tensor flat = t.reshape({-1}).contiguous();
  const T* data = flat.data_ptr<T>();
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i)
    if (data[i] != static_cast<T>(s * (i + 1))) ++wrong;
  EXPECT_EQ(wrong, 0) << "elements differing from the analytic sum, size " << world.size;
}

TEST(MpiCommunicator, AllReduceSumFloat32IsAnalyticSum) {
  expect_analytic_sum<float>(torch::kFloat);
}
TEST(MpiCommunicator, AllReduceSumFloat64IsAnalyticSum) {
  expect_analytic_sum<double>(torch::kDouble);
}
TEST(MpiCommunicator, AllReduceSumInt64IsAnalyticSum) {
  expect_analytic_sum<std::int64_t>(torch::kLong);
}
TEST(MpiCommunicator, AllReduceSumInt32IsAnalyticSum) {
  expect_analytic_sum<std::int32_t>(torch::kInt);
}

TEST(MpiCommunicator, AllReduceSumOfNonContiguousTensorWritesBack) {
  const World world;
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  torch::Tensor base = torch::arange(12, torch::kDouble).reshape({3, 4}) + world.rank;
  torch::Tensor view = base.t();  // non-contiguous view of `base`
  ASSERT_FALSE(view.is_contiguous());
  comm->all_reduce_sum(view);
  const double ranks = world.size * (world.size - 1) / 2.0;
  const torch::Tensor expected = torch::arange(12, torch::kDouble).reshape({3, 4}) * world.size + ranks;
  EXPECT_TRUE(torch::equal(base, expected)) << base;
}

TEST(MpiCommunicator, AllReduceSumOfEmptyTensorIsANoOp) {
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  torch::Tensor t = torch::empty({0}, torch::kDouble);
  comm->all_reduce_sum(t);
  EXPECT_EQ(t.numel(), 0);
}

TEST(MpiCommunicator, AllReduceSumRejectsUnsupportedDtypeAndUndefinedTensor) {
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  torch::Tensor flags = torch::ones({4}, torch::kBool);
  EXPECT_THROW(comm->all_reduce_sum(flags), UsageError);
  torch::Tensor undefined;
  EXPECT_THROW(comm->all_reduce_sum(undefined), UsageError);
  EXPECT_THROW(comm->broadcast(flags, comm->size()), UsageError);  // root out of range
}

TEST(MpiCommunicator, BroadcastCopiesRootValuesForEveryRoot) {
  const World world;
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  for (int root = 0; root < world.size; ++root) {
    torch::Tensor d = torch::arange(7, torch::kDouble) * 0.25 + 100.0 * world.rank;
    torch::Tensor l = torch::arange(5, torch::kLong) + 1000 * world.rank;
    torch::Tensor f = torch::full({2, 3}, static_cast<float>(world.rank) + 0.5f);
    comm->broadcast(d, root);
    comm->broadcast(l, root);
    comm->broadcast(f, root);
    EXPECT_TRUE(torch::equal(d, torch::arange(7, torch::kDouble) * 0.25 + 100.0 * root)) << "root " << root;
    EXPECT_TRUE(torch::equal(l, torch::arange(5, torch::kLong) + 1000 * root)) << "root " << root;
    EXPECT_TRUE(torch::equal(f, torch::full({2, 3}, static_cast<float>(root) + 0.5f))) << "root " << root;
  }
}

TEST(MpiCommunicator, IsIndependentOfTheCommunicatorItWasMadeFrom) {
  // A duplicate: messages on MPI_COMM_WORLD do not match the communicator's collectives.
  const World world;
  MPI_Comm half = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, world.rank % 2, world.rank, &half);
  int half_size = 0;
  MPI_Comm_size(half, &half_size);
  {
    auto comm = make_mpi_communicator(half);
    EXPECT_EQ(comm->size(), half_size);
    torch::Tensor one = torch::ones({1}, torch::kLong);
    comm->all_reduce_sum(one);
    EXPECT_EQ(one.item<std::int64_t>(), half_size);
  }
  MPI_Comm_free(&half);
}

TEST(NcclCommunicator, BuildFlagMatchesFactoryBehaviour) {
  if (nccl_built()) GTEST_SKIP() << "NCCL build: the factory needs a GPU per rank, not tested here";
  try {
    (void)make_nccl_communicator(MPI_COMM_WORLD, 0);
    ADD_FAILURE() << "make_nccl_communicator did not throw in a build without NCCL";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("built without NCCL"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_status(), 2);
  }
}

}  // namespace
}  // namespace hemeplm::dist
