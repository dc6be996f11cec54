// AdamW against torch::optim::AdamW on a small float64 MLP, skipping of parameters without a gradient,
// bit-identical continuation after a state round trip (in memory and through a checkpoint file), load
// errors that list every problem, and gradient clipping / finiteness against torch and hand computations.
#include "hemeplm/train/optimizer.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/train/model_state.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

using parallel_io::DType;
using parallel_io::TensorRecord;

torch::nn::Sequential make_mlp(std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::nn::Sequential mlp(torch::nn::Linear(4, 8), torch::nn::Tanh(), torch::nn::Linear(8, 8),
                            torch::nn::Tanh(), torch::nn::Linear(8, 3));
  mlp->to(torch::kFloat64);
  return mlp;
}

std::vector<std::pair<std::string, torch::Tensor>> named_parameters(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : module.named_parameters()) named.emplace_back(item.key(), item.value());
  return named;
}

/// Fixed data so that every model sees the same batches.
struct Data {
  torch::Tensor x, y;
};
Data make_data() {
  torch::manual_seed(1234);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  return {torch::randn({16, 4}, f64), torch::randn({16, 3}, f64)};
}

void backward(torch::nn::Sequential& mlp, const Data& data, int step) {
  // A batch that changes with the step, so that moments see varying gradients.
  const torch::Tensor x = data.x * (1.0 + 0.1 * step);
  const torch::Tensor loss = (mlp->forward(x) - data.y).pow(2).mean();
  loss.backward();
}

double lr_at(int step) {
  return 1e-2 * (1.0 + 0.5 * std::sin(0.7 * step));
}

bool bitwise_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const torch::Tensor ca = a.detach().contiguous(), cb = b.detach().contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<std::size_t>(ca.nbytes())) == 0;
}

TEST(AdamWTest, MatchesTorchAdamWOnMlpWithVaryingLearningRate) {
  const Data data = make_data();
  auto ours = make_mlp(7);
  auto reference = make_mlp(7);
  const AdamWOptions options{0.85, 0.97, 1e-7, 0.05};
  AdamW optimizer(named_parameters(*ours), options);
  torch::optim::AdamW torch_optimizer(reference->parameters(),
                                      torch::optim::AdamWOptions(1e-2)
                                          .betas(std::make_tuple(options.beta1, options.beta2))
                                          .eps(options.eps)
                                          .weight_decay(options.weight_decay)
                                          .amsgrad(false));
  const std::vector<torch::Tensor> initial = ours->parameters();
  std::vector<torch::Tensor> initial_copy;
  for (const torch::Tensor& p : initial) initial_copy.push_back(p.detach().clone());

  for (int step = 0; step < 30; ++step) {
    optimizer.zero_grad();
    backward(ours, data, step);
    optimizer.step(lr_at(step));

    torch_optimizer.zero_grad();
    backward(reference, data, step);
    static_cast<torch::optim::AdamWOptions&>(torch_optimizer.param_groups()[0].options()).lr(lr_at(step));
    torch_optimizer.step();
  }
  const auto ours_params = ours->parameters();
  const auto reference_params = reference->parameters();
  ASSERT_EQ(ours_params.size(), reference_params.size());
  for (std::size_t i = 0; i < ours_params.size(); ++i) {
    const double scale = reference_params[i].abs().max().item<double>();
    const double difference = (ours_params[i] - reference_params[i]).abs().max().item<double>();
    EXPECT_LE(difference, 1e-12 * scale) << "parameter " << i;
    // The parameters really moved (the comparison is not trivially between initial values).
    EXPECT_GT((ours_params[i] - initial_copy[i]).abs().max().item<double>(), 1e-3) << "parameter " << i;
  }
}

TEST(AdamWTest, KeepsOnlyParametersThatRequireGrad) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor a = torch::ones({2}, f64).requires_grad_(true);
  torch::Tensor frozen = torch::ones({3}, f64);
  AdamW optimizer({{"a", a}, {"frozen", frozen}});
  EXPECT_EQ(optimizer.names(), std::vector<std::string>{"a"});
  ASSERT_EQ(optimizer.parameters().size(), 1u);
  EXPECT_TRUE(optimizer.parameters()[0].is_same(a));
  EXPECT_THROW(AdamW({{"a", a}, {"a", a}}), UsageError);
  EXPECT_THROW(AdamW({{"a", a}}, AdamWOptions{1.0, 0.999, 1e-8, 0.01}), UsageError);
}

TEST(AdamWTest, SkipsParametersWithUndefinedGrad) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor a = torch::full({2, 2}, 0.5, f64).requires_grad_(true);
  torch::Tensor b = torch::full({3}, -0.25, f64).requires_grad_(true);
  AdamW optimizer({{"a", a}, {"b", b}}, AdamWOptions{0.9, 0.999, 1e-8, 0.1});
  const torch::Tensor b_before = b.detach().clone();
  const torch::Tensor a_before = a.detach().clone();
  a.mutable_grad() = torch::full({2, 2}, 2.0, f64);
  optimizer.step(1e-2);
  // b: no decay, no update; a: moved.
  EXPECT_TRUE(bitwise_equal(b, b_before));
  EXPECT_FALSE(bitwise_equal(a, a_before));
  // First AdamW step by hand: p*(1-lr*wd) - lr * m_hat / (sqrt(v_hat)+eps), m_hat = g, v_hat = g^2.
  const double expected = 0.5 * (1 - 1e-2 * 0.1) - 1e-2 * 2.0 / (2.0 + 1e-8);
  EXPECT_NEAR(a[0][0].item<double>(), expected, 1e-14);

  for (const TensorRecord& record : optimizer.state_records()) {
    if (record.name == "step/a" || record.name == "step/b") {
      std::int64_t step = -1;
      std::memcpy(&step, record.data.data(), sizeof step);
      EXPECT_EQ(step, record.name == "step/a" ? 1 : 0) << record.name;
    }
    if (record.name == "exp_avg/b" || record.name == "exp_avg_sq/b") {
      for (unsigned char byte : record.data) EXPECT_EQ(byte, 0) << record.name;
    }
  }
  optimizer.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(AdamWTest, StateRecordsHaveNamesDtypesAndShapes) {
  auto mlp = make_mlp(3);
  AdamW optimizer(named_parameters(*mlp));
  const std::vector<TensorRecord> records = optimizer.state_records();
  ASSERT_EQ(records.size(), 3 * optimizer.names().size());
  EXPECT_EQ(records[0].name, "exp_avg/0.weight");
  EXPECT_EQ(records[1].name, "exp_avg_sq/0.weight");
  EXPECT_EQ(records[2].name, "step/0.weight");
  EXPECT_EQ(records[0].dtype, DType::kFloat64);
  EXPECT_EQ(records[0].shape, (std::vector<std::int64_t>{8, 4}));
  EXPECT_EQ(records[2].dtype, DType::kInt64);
  EXPECT_EQ(records[2].shape, (std::vector<std::int64_t>{1}));
  EXPECT_EQ(records[0].data.size(), 8u * 4u * sizeof(double));
}

/// Trains `steps` steps on (model, optimizer) starting at step index `first`.
void train(torch::nn::Sequential& mlp, AdamW& optimizer, const Data& data, int first, int steps) {
  for (int step = first; step < first + steps; ++step) {
    optimizer.zero_grad();
    backward(mlp, data, step);
    optimizer.step(lr_at(step));
  }
}

TEST(AdamWTest, RestoredStateContinuesBitIdentically) {
  const Data data = make_data();
  auto original = make_mlp(11);
  AdamW optimizer(named_parameters(*original), AdamWOptions{0.9, 0.99, 1e-8, 0.02});
  train(original, optimizer, data, 0, 7);

  // "Kill": only the records survive; a fresh model (other initial values) and optimizer load them.
  const std::vector<TensorRecord> parameter_records = module_state_records(*original);
  const std::vector<TensorRecord> optimizer_records = optimizer.state_records();
  auto resumed = make_mlp(99);
  load_module_state(*resumed, parameter_records, "memory");
  AdamW resumed_optimizer(named_parameters(*resumed), AdamWOptions{0.9, 0.99, 1e-8, 0.02});
  resumed_optimizer.load_state_records(optimizer_records, "memory");

  train(original, optimizer, data, 7, 10);
  train(resumed, resumed_optimizer, data, 7, 10);
  const auto a = original->parameters(), b = resumed->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(bitwise_equal(a[i], b[i])) << "parameter " << i;

  // Without the optimizer state (fresh moments) the continuation differs: the test can tell.
  auto fresh = make_mlp(99);
  load_module_state(*fresh, parameter_records, "memory");
  AdamW fresh_optimizer(named_parameters(*fresh), AdamWOptions{0.9, 0.99, 1e-8, 0.02});
  train(fresh, fresh_optimizer, data, 7, 10);
  EXPECT_FALSE(bitwise_equal(a[0], fresh->parameters()[0]));
}

TEST(AdamWTest, CheckpointFileResumeIsBitIdentical) {
  const Data data = make_data();
  auto original = make_mlp(5);
  AdamW optimizer(named_parameters(*original));
  train(original, optimizer, data, 0, 4);

  test::TempDir dir;
  const std::string path = (dir.path() / "checkpoint.h5").string();
  parallel_io::Checkpoint checkpoint;
  checkpoint.parameters = module_state_records(*original);
  checkpoint.optimizer = optimizer.state_records();
  checkpoint.step = 4;
  parallel_io::write_checkpoint(path, checkpoint);

  const parallel_io::Checkpoint read = parallel_io::read_checkpoint(path);
  auto resumed = make_mlp(6);
  load_module_state(*resumed, read.parameters, path);
  AdamW resumed_optimizer(named_parameters(*resumed));
  resumed_optimizer.load_state_records(read.optimizer, path);

  train(original, optimizer, data, 4, 10);
  train(resumed, resumed_optimizer, data, 4, 10);
  const auto a = original->parameters(), b = resumed->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(bitwise_equal(a[i], b[i])) << "parameter " << i;
}

TEST(AdamWTest, LoadErrorsListEveryProblemAndLeaveStateUnchanged) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor a = torch::ones({2, 2}, f64).requires_grad_(true);
  torch::Tensor b = torch::ones({3}, f64).requires_grad_(true);
  AdamW optimizer({{"a", a}, {"b", b}});
  a.mutable_grad() = torch::ones({2, 2}, f64);
  b.mutable_grad() = torch::ones({3}, f64);
  optimizer.step(1e-3);
  const std::vector<TensorRecord> before = optimizer.state_records();

  std::vector<TensorRecord> records = before;
  records.erase(records.begin() + 1);          // missing exp_avg_sq/a
  records[2].shape = {4};                      // exp_avg/b mis-shaped (3 -> 4)
  records[2].data.resize(4 * sizeof(double));  //   (consistent bytes, wrong shape)
  records.push_back(before[0]);                // unexpected name
  records.back().name = "exp_avg/c";
  try {
    optimizer.load_state_records(records, "run/checkpoint-000000007.h5");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("run/checkpoint-000000007.h5"), std::string::npos) << message;
    EXPECT_NE(message.find("exp_avg_sq/a"), std::string::npos) << message;
    EXPECT_NE(message.find("exp_avg/b"), std::string::npos) << message;
    EXPECT_NE(message.find("exp_avg/c"), std::string::npos) << message;
  }
  // Wrong dtype of a step record and wrong byte count are reported too.
  records = before;
  records[2].dtype = DType::kInt32;
  records[2].data.resize(4);
  records[0].data.pop_back();
  try {
    optimizer.load_state_records(records, "x.h5");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("step/a"), std::string::npos) << error.what();
  }
  records = before;
  records[0].data.pop_back();
  EXPECT_THROW(optimizer.load_state_records(records, "x.h5"), InputError);
  records = before;
  const std::int64_t negative = -3;
  std::memcpy(records[2].data.data(), &negative, sizeof negative);
  EXPECT_THROW(optimizer.load_state_records(records, "x.h5"), InputError);

  // Nothing was changed by the failed loads.
  const std::vector<TensorRecord> after = optimizer.state_records();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].data, before[i].data) << after[i].name;
}

TEST(ClipGradNormTest, MatchesHandComputationAndTorch) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor a = torch::zeros({2}, f64).requires_grad_(true);
  torch::Tensor b = torch::zeros({2, 1}, f64).requires_grad_(true);
  torch::Tensor c = torch::zeros({1}, f64).requires_grad_(true);  // grad undefined: ignored
  a.mutable_grad() = torch::tensor({3.0, 4.0}, f64);
  b.mutable_grad() = torch::tensor({{12.0}, {0.0}}, f64);
  const double norm = clip_grad_norm({a, b, c}, 6.5);
  EXPECT_DOUBLE_EQ(norm, 13.0);  // sqrt(9 + 16 + 144)
  const double coefficient = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 * coefficient, 1e-15);
  EXPECT_NEAR(b.grad()[0][0].item<double>(), 12.0 * coefficient, 1e-15);
  EXPECT_FALSE(c.grad().defined());

  // Below max_norm: only measured.
  EXPECT_NEAR(clip_grad_norm({a, b, c}, 100.0), 6.5 * 13.0 / (13.0 + 1e-6), 1e-12);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 * coefficient, 1e-15);
  EXPECT_EQ(clip_grad_norm({c}, 1.0), 0.0);

  // Against torch on an MLP's gradients.
  const Data data = make_data();
  auto ours = make_mlp(21), reference = make_mlp(21);
  backward(ours, data, 0);
  backward(reference, data, 0);
  const double torch_norm = torch::nn::utils::clip_grad_norm_(reference->parameters(), 0.05);
  const double our_norm = clip_grad_norm(ours->parameters(), 0.05);
  EXPECT_GT(our_norm, 0.05);
  EXPECT_NEAR(our_norm, torch_norm, 1e-12 * torch_norm);
  const auto p = ours->parameters(), q = reference->parameters();
  for (std::size_t i = 0; i < p.size(); ++i)
    EXPECT_LE((p[i].grad() - q[i].grad()).abs().max().item<double>(),
              1e-12 * q[i].grad().abs().max().item<double>())
        << "parameter " << i;
  EXPECT_NEAR(clip_grad_norm(ours->parameters(), 0.0), 0.05 * our_norm / (our_norm + 1e-6), 1e-12);
}

TEST(ClipGradNormTest, NonFiniteNormLeavesGradsUntouched) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor a = torch::zeros({2}, f64).requires_grad_(true);
  a.mutable_grad() = torch::tensor({std::numeric_limits<double>::infinity(), 1.0}, f64);
  EXPECT_TRUE(std::isinf(clip_grad_norm({a}, 1.0)));
  EXPECT_EQ(a.grad()[1].item<double>(), 1.0);
  a.mutable_grad() = torch::tensor({std::nan(""), 2.0}, f64);
  EXPECT_TRUE(std::isnan(clip_grad_norm({a}, 1.0)));
  EXPECT_EQ(a.grad()[1].item<double>(), 2.0);
  // float32 grads whose squares overflow float32 still give the right (float64) norm.
  torch::Tensor f = torch::zeros({2}, torch::kFloat32).requires_grad_(true);
  f.mutable_grad() = torch::tensor({3e30f, 4e30f});
  EXPECT_NEAR(clip_grad_norm({f}, 0.0), 5e30, 1e-6 * 5e30);  // float32 inputs are not exactly 3e30, 4e30
}

TEST(ClipGradNormTest, GradientsFiniteDetectsNanAndInf) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor a = torch::zeros({3}, f64).requires_grad_(true);
  torch::Tensor b = torch::zeros({2}, f64).requires_grad_(true);
  EXPECT_TRUE(gradients_finite({a, b}));  // no grads at all
  a.mutable_grad() = torch::tensor({1.0, -2.0, 3.0}, f64);
  EXPECT_TRUE(gradients_finite({a, b}));
  b.mutable_grad() = torch::tensor({0.0, std::nan("")}, f64);
  EXPECT_FALSE(gradients_finite({a, b}));
  b.mutable_grad() = torch::tensor({-std::numeric_limits<double>::infinity(), 0.0}, f64);
  EXPECT_FALSE(gradients_finite({a, b}));
  b.mutable_grad() = torch::tensor({1e300, 0.0}, f64);
  EXPECT_TRUE(gradients_finite({a, b}));
}

}  // namespace
}  // namespace hemeplm::train
