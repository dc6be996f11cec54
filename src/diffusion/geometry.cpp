#include "hemeplm/diffusion/geometry.hpp"

#include <torch/types.h>
#include <torch/utils.h>

#include <string>
#include <tuple>

#include "hemeplm/core/error.hpp"

namespace hemeplm::diffusion {

namespace {

void check_inputs(const char* what, const torch::Tensor& x, const torch::Tensor& graph,
                  std::int64_t graph_count, const torch::Tensor& entries) {
  if (!x.defined() || x.dim() != 3 || x.size(2) != 3) {
    throw UsageError(std::string(what) + ": coordinates must be [atoms, frames, 3]");
  }
  if (!graph.defined() || graph.dim() != 1 || graph.size(0) != x.size(0)) {
    throw UsageError(std::string(what) + ": graph index must be [atoms] with one entry per atom");
  }
  if (graph_count < 0) throw UsageError(std::string(what) + ": graph count must not be negative");
  if (entries.defined() &&
      (entries.dim() != 2 || entries.size(0) != x.size(0) || entries.size(1) != x.size(1))) {
    throw UsageError(std::string(what) + ": entry mask must be [atoms, frames]");
  }
}

/// [N, T] weights (1 = selected) in `dtype` on x's device.
torch::Tensor entry_weights(const torch::Tensor& x, const torch::Tensor& entries, torch::Dtype dtype) {
  const auto opts = torch::TensorOptions().dtype(dtype).device(x.device());
  if (!entries.defined()) return torch::ones({x.size(0), x.size(1)}, opts);
  return entries.to(opts);
}

}  // namespace

torch::Tensor remove_center_of_mass(const torch::Tensor& x, const torch::Tensor& graph,
                                    std::int64_t graph_count, const torch::Tensor& entries) {
  check_inputs("centre-of-mass removal", x, graph, graph_count, entries);
  const auto w = entry_weights(x, entries, x.scalar_type());
  const auto g = graph.to(x.device(), torch::kLong);
  const auto opts = x.options();
  const auto sums = torch::zeros({graph_count, 3}, opts).index_add(0, g, (x * w.unsqueeze(-1)).sum(1));
  const auto counts = torch::zeros({graph_count}, opts).index_add(0, g, w.sum(1));
  // clamp: a graph without selected entries has a zero sum and must not produce 0/0.
  const auto mean = sums / counts.clamp_min(1.0).unsqueeze(-1);
  return x - mean.index_select(0, g).unsqueeze(1) * w.unsqueeze(-1);
}

torch::Tensor kabsch_align(const torch::Tensor& mobile, const torch::Tensor& target,
                           const torch::Tensor& graph, std::int64_t graph_count,
                           const torch::Tensor& entries) {
  check_inputs("Kabsch alignment", mobile, graph, graph_count, entries);
  if (!target.defined() || target.sizes() != mobile.sizes()) {
    throw UsageError("Kabsch alignment: target must have the shape of the mobile coordinates");
  }
  torch::NoGradGuard no_grad;
  // float64 throughout: the cross-covariance of near-identical sets (small t) is ill-conditioned in float32.
  const auto p = mobile.detach().to(torch::kFloat64);
  const auto q = target.detach().to(p.device(), torch::kFloat64);
  const auto w = entry_weights(p, entries, torch::kFloat64);
  const auto g = graph.to(p.device(), torch::kLong);
  const auto opts = p.options();

  const auto counts = torch::zeros({graph_count}, opts).index_add(0, g, w.sum(1));
  const auto denom = counts.clamp_min(1.0).unsqueeze(-1);
  const auto wx = w.unsqueeze(-1);
  const auto cp = torch::zeros({graph_count, 3}, opts).index_add(0, g, (p * wx).sum(1)) / denom;
  const auto cq = torch::zeros({graph_count, 3}, opts).index_add(0, g, (q * wx).sum(1)) / denom;
  const auto pc = p - cp.index_select(0, g).unsqueeze(1);
  const auto qc = q - cq.index_select(0, g).unsqueeze(1);
  // H_b = sum over selected entries of p_c q_c^T ([N, 3, 3] per atom first, then per graph).
  const auto h_atom = torch::matmul((pc * wx).transpose(1, 2), qc);
  const auto h = torch::zeros({graph_count, 3, 3}, opts).index_add(0, g, h_atom);

  torch::Tensor u, s, vh;
  std::tie(u, s, vh) = at::linalg_svd(h, /*full_matrices=*/false);
  const auto v = vh.transpose(1, 2);
  const auto ut = u.transpose(1, 2);
  // R = V diag(1, 1, d) U^T with d = sign(det(V U^T)): the proper rotation even when the optimal
  // orthogonal map is a reflection (kabsch_torch lacks this fix).
  const auto d = torch::sign(torch::det(torch::matmul(v, ut)));
  auto fix = torch::ones({graph_count, 3}, opts);
  fix.select(1, 2).copy_(torch::where(d == 0, torch::ones_like(d), d));
  auto r = torch::matmul(v * fix.unsqueeze(1), ut);
  // A graph without selected entries keeps the identity (the SVD of a zero matrix is arbitrary).
  const auto eye = torch::eye(3, opts).expand({graph_count, 3, 3});
  r = torch::where((counts > 0).view({-1, 1, 1}), r, eye);
  // x -> R (x - cp) + cq, applied to every entry of the graph.
  const auto shift = cq - torch::matmul(r, cp.unsqueeze(-1)).squeeze(-1);
  const auto r_atom = r.index_select(0, g);
  const auto aligned = torch::matmul(p, r_atom.transpose(1, 2)) + shift.index_select(0, g).unsqueeze(1);
  const auto keep = (counts > 0).index_select(0, g).view({-1, 1, 1});
  return torch::where(keep, aligned, p).to(mobile.scalar_type());
}

torch::Tensor kabsch_align_reference(const torch::Tensor& mobile, const torch::Tensor& target,
                                     const torch::Tensor& graph, std::int64_t graph_count,
                                     const torch::Tensor& entries) {
  check_inputs("Kabsch alignment", mobile, graph, graph_count, entries);
  torch::NoGradGuard no_grad;
  const auto p = mobile.detach().to(torch::kCPU, torch::kFloat64);
  const auto q = target.detach().to(torch::kCPU, torch::kFloat64);
  const auto g = graph.to(torch::kCPU, torch::kLong);
  const auto sel = entries.defined() ? entries.to(torch::kCPU, torch::kBool)
                                     : torch::ones({p.size(0), p.size(1)}, torch::kBool);
  auto out = p.clone();
  for (std::int64_t b = 0; b < graph_count; ++b) {
    const auto atoms = torch::nonzero(g == b).squeeze(1);
    if (atoms.numel() == 0) continue;
    const auto m = sel.index_select(0, atoms);
    if (!m.any().item<bool>()) continue;
    const auto pts_p = p.index_select(0, atoms).index({m});  // [M, 3]
    const auto pts_q = q.index_select(0, atoms).index({m});
    const auto mp = pts_p.mean(0);
    const auto mq = pts_q.mean(0);
    const auto h = torch::matmul((pts_p - mp).t(), pts_q - mq);
    torch::Tensor u, s, vh;
    std::tie(u, s, vh) = at::linalg_svd(h, /*full_matrices=*/true);
    auto v = vh.t();
    if (torch::det(torch::matmul(v, u.t())).item<double>() < 0) v.select(1, 2).neg_();
    const auto r = torch::matmul(v, u.t());
    const auto all = p.index_select(0, atoms);
    out.index_copy_(0, atoms, torch::matmul(all - mp, r.t()) + mq);
  }
  return out.to(mobile.scalar_type());
}

}  // namespace hemeplm::diffusion
