// Centre-of-mass projection and batched Kabsch alignment of coordinate trajectories
// (model-spec.md (c), training steps 2 and 4). x is [N, T, 3] for graphs concatenated without padding;
// graph [N] int64 is the graph index of each atom, graph_count B; `entries` [N, T] bool selects the
// (atom, frame) entries that take part (undefined = all).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace hemeplm::diffusion {

/// x minus, per graph, the mean over the graph's selected entries (atoms x frames); only selected entries
/// change. A graph with no selected entry is unchanged. Differentiable in x.
torch::Tensor remove_center_of_mass(const torch::Tensor& x, const torch::Tensor& graph,
                                    std::int64_t graph_count, const torch::Tensor& entries = {});

/// Per graph, the proper rigid motion (rotation with the det-sign fix, plus translation) that best
/// superimposes mobile onto target over the graph's selected entries (all of its atoms x frames as one point
/// set) -- float64 SVD, under NoGradGuard -- applied to ALL of mobile's entries of that graph. Returns
/// mobile's dtype (no grad). A graph with no selected entry is unchanged.
torch::Tensor kabsch_align(const torch::Tensor& mobile, const torch::Tensor& target,
                           const torch::Tensor& graph, std::int64_t graph_count,
                           const torch::Tensor& entries = {});

/// Plain reference (loops over graphs, one 3x3 SVD each) used by the tests against the batched version.
torch::Tensor kabsch_align_reference(const torch::Tensor& mobile, const torch::Tensor& target,
                                     const torch::Tensor& graph, std::int64_t graph_count,
                                     const torch::Tensor& entries = {});

}  // namespace hemeplm::diffusion
