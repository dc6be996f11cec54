// GradientAllReduce and broadcast_tensors over the MPI communicator: exact float64 means against an
// MPI_Allreduce reference and analytic values, the bucket layout, undefined and frozen gradients.
#include "hemeplm/dist/gradient_all_reduce.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/dist/communicator.hpp"

namespace hemeplm::dist {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const double scale = std::max(want.abs().max().item<double>(), 1e-300);
  return (got - want).abs().max().item<double>() / scale;
}

torch::nn::Sequential small_stack(std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::nn::Sequential net(torch::nn::Linear(4, 8), torch::nn::Tanh(), torch::nn::Linear(8, 6),
                            torch::nn::Tanh(), torch::nn::Linear(6, 3));
  net->to(torch::kDouble);
  return net;
}

// Rank-dependent gradients of a float64 Linear stack; parameters identical on all ranks.
void backward_rank_dependent(torch::nn::Sequential& net, int step) {
  torch::manual_seed(1000 + 17 * step + world_rank());
  const torch::Tensor x = torch::randn({5, 4}, torch::kDouble);
  net->zero_grad();
  net->forward(x).pow(2).sum().backward();
}

// The mean over ranks of each parameter's grad, computed with plain MPI_Allreduce.
std::vector<torch::Tensor> mpi_reference_mean(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> mean;
  for (const torch::Tensor& p : parameters) {
    torch::Tensor g = p.grad().detach().clone().contiguous();
    MPI_Allreduce(MPI_IN_PLACE, g.data_ptr<double>(), static_cast<int>(g.numel()), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    mean.push_back(g / world_size());
  }
  return mean;
}

TEST(GradientAllReduce, LinearStackGradsBecomeExactMeanOverRanks) {
  auto net = small_stack(7);
  const std::vector<torch::Tensor> parameters = net->parameters();
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  GradientAllReduce reducer(parameters, /*bucket_bytes=*/256);  // several buckets
  EXPECT_GT(reducer.bucket_count(), 2u);
  for (int step = 0; step < 2; ++step) {  // the second step reuses the bucket buffers
    backward_rank_dependent(net, step);
    const std::vector<torch::Tensor> want = mpi_reference_mean(parameters);
    const double seconds = reducer.all_reduce_mean(*comm);
    EXPECT_GE(seconds, 0.0);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      EXPECT_EQ(parameters[i].grad().sizes(), parameters[i].sizes());
      EXPECT_LE(relative_error(parameters[i].grad(), want[i]), 1e-14)
          << "parameter " << i << ", step " << step;
    }
  }
}

TEST(GradientAllReduce, GradsBecomeAnalyticMean) {
  const int rank = world_rank(), size = world_size();
  auto net = small_stack(11);
  const std::vector<torch::Tensor> parameters = net->parameters();
  std::vector<torch::Tensor> base;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    base.push_back(
        torch::linspace(-1.0, 2.0, parameters[i].numel(), torch::kDouble).reshape(parameters[i].sizes()) +
        static_cast<double>(i));
    parameters[i].mutable_grad() = base.back() * (rank + 1) + 0.1 * rank * rank;
  }
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  GradientAllReduce reducer(parameters);  // default 25 MiB: one bucket
  EXPECT_EQ(reducer.bucket_count(), 1u);
  reducer.all_reduce_mean(*comm);
  // mean of (r + 1) = (size + 1) / 2; mean of r^2 = (size - 1)(2 size - 1) / 6.
  const double mean_factor = (size + 1) / 2.0, mean_square = (size - 1) * (2.0 * size - 1) / 6.0;
  for (std::size_t i = 0; i < parameters.size(); ++i)
    EXPECT_LE(relative_error(parameters[i].grad(), base[i] * mean_factor + 0.1 * mean_square), 1e-14)
        << "parameter " << i;
}

TEST(GradientAllReduce, BucketsFollowReverseOrderAndExcludeFrozenParameters) {
  const std::vector<std::int64_t> numel{10, 30, 5, 5, 40, 100, 3};
  std::vector<torch::Tensor> parameters;
  for (std::int64_t n : numel) parameters.push_back(torch::zeros({n}, torch::kDouble).requires_grad_(true));
  parameters[2].requires_grad_(false);
  const GradientAllReduce reducer(parameters, /*bucket_bytes=*/400);  // 50 doubles
  // Reversed, frozen #2 left out: 6 (3) | 5 (100, oversized, alone) | 4 + 3 (45) | 1 + 0 (40).
  const std::vector<std::vector<std::size_t>> want{{6}, {5}, {4, 3}, {1, 0}};
  EXPECT_EQ(reducer.bucket_parameters(), want);
  ASSERT_EQ(reducer.bucket_count(), want.size());
  const std::vector<std::size_t> bytes{24, 800, 360, 320};
  for (std::size_t b = 0; b < bytes.size(); ++b)
    EXPECT_EQ(reducer.bucket_bytes(b), bytes[b]) << "bucket " << b;
}

TEST(GradientAllReduce, BucketLayoutInvariantsOnMixedSizesAndDtypes) {
  std::vector<torch::Tensor> parameters;
  for (int i = 0; i < 60; ++i) {
    const std::int64_t n = 1 + (i * 37) % 290;
    const auto type = (i / 7) % 3 == 2 ? torch::kFloat : torch::kDouble;
    parameters.push_back(torch::zeros({n}, type).requires_grad_(i % 11 != 5));
  }
  const std::size_t limit = 1024;
  const GradientAllReduce reducer(parameters, limit);
  const auto& buckets = reducer.bucket_parameters();
  std::vector<std::size_t> order;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    ASSERT_FALSE(buckets[b].empty());
    std::size_t sum = 0;
    for (std::size_t i : buckets[b]) {
      order.push_back(i);
      sum += static_cast<std::size_t>(parameters[i].numel()) * parameters[i].element_size();
      EXPECT_EQ(parameters[i].scalar_type(), parameters[buckets[b].front()].scalar_type()) << "bucket " << b;
    }
    EXPECT_EQ(reducer.bucket_bytes(b), sum);
    if (buckets[b].size() > 1) {
      EXPECT_LE(sum, limit) << "bucket " << b;
    }
    if (sum > limit) {
      EXPECT_EQ(buckets[b].size(), 1u) << "oversized bucket " << b;
    }
    if (b + 1 < buckets.size()) {  // split only where needed: dtype change or the next one would not fit
      const torch::Tensor& next = parameters[buckets[b + 1].front()];
      const bool same_type = next.scalar_type() == parameters[buckets[b].front()].scalar_type();
      if (same_type) {
        EXPECT_GT(sum + static_cast<std::size_t>(next.numel()) * next.element_size(), limit)
            << "bucket " << b;
      }
    }
  }
  std::vector<std::size_t> want;
  for (std::size_t i = parameters.size(); i-- > 0;)
    if (parameters[i].requires_grad()) want.push_back(i);
  EXPECT_EQ(order, want);  // reverse order, every trainable parameter exactly once, frozen ones absent
}

TEST(GradientAllReduce, MixedDtypesAreAveragedPerDtype) {
  const int rank = world_rank(), size = world_size();
  std::vector<torch::Tensor> parameters{torch::zeros({3, 2}, torch::kFloat).requires_grad_(true),
                                        torch::zeros({4}, torch::kDouble).requires_grad_(true),
                                        torch::zeros({5}, torch::kFloat).requires_grad_(true)};
  for (std::size_t i = 0; i < parameters.size(); ++i)
    parameters[i].mutable_grad() = torch::full(parameters[i].sizes(), 2.0 * (rank + 1) * (i + 1),
                                               torch::TensorOptions().dtype(parameters[i].scalar_type()));
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  GradientAllReduce reducer(parameters);
  EXPECT_EQ(reducer.bucket_count(), 3u);  // float32 | float64 | float32 along the reversed list
  reducer.all_reduce_mean(*comm);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    EXPECT_EQ(parameters[i].grad().scalar_type(), parameters[i].scalar_type());
    const double want = (size + 1.0) * (i + 1);  // mean of 2 (r + 1) (i + 1)
    EXPECT_TRUE(torch::equal(parameters[i].grad(), torch::full_like(parameters[i], want)))
        << "parameter " << i;
  }
}

TEST(GradientAllReduce, UndefinedGradCountsAsZeroAndBecomesDefined) {
  const int rank = world_rank(), size = world_size();
  std::vector<torch::Tensor> parameters{torch::zeros({3}, torch::kDouble).requires_grad_(true),
                                        torch::zeros({2, 2}, torch::kDouble).requires_grad_(true)};
  // Parameter 0: no grad on rank 0, grad (r + 1) elsewhere. Parameter 1: no grad anywhere.
  if (rank != 0) parameters[0].mutable_grad() = torch::full({3}, rank + 1.0, torch::kDouble);
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  GradientAllReduce reducer(parameters);
  reducer.all_reduce_mean(*comm);
  ASSERT_TRUE(parameters[0].grad().defined());
  ASSERT_TRUE(parameters[1].grad().defined());
  double sum = 0;
  for (int r = 1; r < size; ++r) sum += r + 1.0;
  EXPECT_LE((parameters[0].grad() - sum / size).abs().max().item<double>(), 1e-14 * std::max(sum, 1.0));
  EXPECT_TRUE(torch::equal(parameters[1].grad(), torch::zeros({2, 2}, torch::kDouble)));
  EXPECT_EQ(parameters[1].grad().sizes(), parameters[1].sizes());
}

TEST(GradientAllReduce, FrozenParametersAreLeftAlone) {
  const int rank = world_rank();
  std::vector<torch::Tensor> parameters{torch::full({4}, rank + 0.5, torch::kDouble).requires_grad_(true),
                                        torch::full({4}, rank + 0.25, torch::kDouble),
                                        torch::full({2}, rank + 0.75, torch::kDouble)};
  parameters[0].mutable_grad() = torch::ones({4}, torch::kDouble);
  parameters[1].mutable_grad() = torch::full({4}, 10.0 * rank, torch::kDouble);  // frozen, has a grad
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  GradientAllReduce reducer(parameters);
  EXPECT_EQ(reducer.bucket_parameters(), (std::vector<std::vector<std::size_t>>{{0}}));
  reducer.all_reduce_mean(*comm);
  EXPECT_TRUE(torch::equal(parameters[0].grad(), torch::ones({4}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(parameters[1].grad(), torch::full({4}, 10.0 * rank, torch::kDouble)));
  EXPECT_FALSE(parameters[2].grad().defined());
  EXPECT_TRUE(torch::equal(parameters[1], torch::full({4}, rank + 0.25, torch::kDouble)));
}

TEST(BroadcastTensors, MakesRankDependentParametersAndBuffersEqualToRoot) {
  const int rank = world_rank(), size = world_size();
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  for (int root : {0, size - 1}) {
    auto net = small_stack(500 + rank);  // rank-dependent parameters
    torch::Tensor steps = torch::full({2, 3}, 7 * rank, torch::kLong);
    torch::Tensor scale = torch::full({5}, rank + 0.5f, torch::kFloat);
    std::vector<torch::Tensor> tensors = net->parameters();
    tensors.push_back(steps);
    tensors.push_back(scale);
    broadcast_tensors(*comm, tensors, root);

    const auto want_net = small_stack(500 + root);
    const std::vector<torch::Tensor> want = want_net->parameters();
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_TRUE(torch::equal(tensors[i], want[i])) << "parameter " << i << ", root " << root;
    EXPECT_TRUE(torch::equal(steps, torch::full({2, 3}, 7 * root, torch::kLong))) << "root " << root;
    EXPECT_TRUE(torch::equal(scale, torch::full({5}, root + 0.5f, torch::kFloat))) << "root " << root;
    EXPECT_TRUE(net->parameters().front().requires_grad());
  }
}

TEST(BroadcastTensors, MismatchedLayoutThrowsOnEveryRank) {
  const int rank = world_rank(), size = world_size();
  if (size < 2) GTEST_SKIP() << "needs at least 2 ranks";
  auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  std::vector<torch::Tensor> tensors{torch::zeros({3}, torch::kDouble),
                                     torch::zeros({rank == 1 ? 5 : 4}, torch::kDouble)};
  EXPECT_THROW(broadcast_tensors(*comm, tensors, 0), UsageError);
  comm->barrier();  // everyone is still in step afterwards
}

}  // namespace
}  // namespace hemeplm::dist
