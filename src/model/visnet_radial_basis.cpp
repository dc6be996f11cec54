// ExpNormal radial basis and cosine cutoff (model-spec.md (a), "Radial basis").
#include <torch/types.h>

#include <cmath>

#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {
namespace {
constexpr double kPi = 3.14159265358979323846;  // M_PI is not ISO C++
}  // namespace

torch::Tensor cosine_cutoff(const torch::Tensor& distance, double cutoff) {
  // The indicator keeps phi exactly 0 (with zero gradient) beyond r_c, where cos would rise again.
  const auto inside = (distance < cutoff).to(distance.scalar_type());
  return 0.5 * (torch::cos(distance * (kPi / cutoff)) + 1.0) * inside;
}

ExpNormalRBFImpl::ExpNormalRBFImpl(double cutoff, std::int64_t num_rbf) : cutoff_(cutoff), num_rbf_(num_rbf) {
  means_ = register_buffer("means", torch::empty({num_rbf}));
  betas_ = register_buffer("betas", torch::empty({num_rbf}));
  reset_parameters();
}

void ExpNormalRBFImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  // Computed in float64, then stored in the buffers' dtype. The lower end is exp(-r_c), not exp(-alpha r_c):
  // a quirk of the reference kept for checkpoint parity.
  const double start = std::exp(-cutoff_);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  means_.copy_(torch::linspace(start, 1.0, num_rbf_, f64));
  betas_.fill_(std::pow(2.0 / static_cast<double>(num_rbf_) * (1.0 - start), -2.0));
}

torch::Tensor ExpNormalRBFImpl::forward(const torch::Tensor& distance) {
  const double alpha = 5.0 / cutoff_;
  const auto r = distance.unsqueeze(-1);
  return cosine_cutoff(r, cutoff_) * torch::exp(-betas_ * torch::pow(torch::exp(-alpha * r) - means_, 2));
}

}  // namespace hemeplm::model
