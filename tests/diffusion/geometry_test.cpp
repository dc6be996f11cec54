// Centre-of-mass projection and batched Kabsch alignment against plain per-graph references.
#include "hemeplm/diffusion/geometry.hpp"

#include <gtest/gtest.h>

#include <tuple>

namespace hemeplm::diffusion {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

double max_abs(const torch::Tensor& t) {
  return t.numel() == 0 ? 0.0 : t.abs().max().item<double>();
}

torch::Tensor random_rotation() {
  auto q = std::get<0>(torch::linalg_qr(torch::randn({3, 3}, kF64)));
  if (torch::det(q).item<double>() < 0) q.select(1, 0).neg_();
  return q;
}

// Three graphs of 4, 5 and 3 atoms over 6 frames.
struct Batch {
  torch::Tensor graph = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2}, torch::kLong);
  std::int64_t graphs = 3, atoms = 12, frames = 6;
};

TEST(Geometry, CenterOfMassZeroesMaskedMeanOnly) {
  torch::manual_seed(2);
  const Batch b;
  const auto x = torch::randn({b.atoms, b.frames, 3}, kF64) + 5.0;
  auto entries = torch::rand({b.atoms, b.frames}, kF64) < 0.6;
  entries.slice(0, 9).fill_(false);  // graph 2 has no selected entry
  const auto y = remove_center_of_mass(x, b.graph, b.graphs, entries);
  for (std::int64_t g = 0; g < 2; ++g) {
    const auto atoms = torch::nonzero(b.graph == g).squeeze(1);
    const auto sel = entries.index_select(0, atoms);
    const auto mean = y.index_select(0, atoms).index({sel}).mean(0);
    EXPECT_LT(max_abs(mean), 1e-12) << "graph " << g;
  }
  const auto unselected = entries.logical_not();
  EXPECT_TRUE(torch::equal(y.index({unselected}), x.index({unselected})));
  // Unmasked: every graph's mean over all atoms x frames is zero.
  const auto z = remove_center_of_mass(x, b.graph, b.graphs);
  for (std::int64_t g = 0; g < b.graphs; ++g) {
    EXPECT_LT(max_abs(z.index({b.graph == g}).reshape({-1, 3}).mean(0)), 1e-12);
  }
  // Within a graph, every selected entry is moved by the same vector.
  for (std::int64_t g = 0; g < 2; ++g) {
    const auto in_graph = (b.graph == g).unsqueeze(1) & entries;
    const auto shift = (x - y).index({in_graph});
    EXPECT_LT(max_abs(shift - shift[0]), 1e-12);
  }
}

TEST(Geometry, KabschBatchedMatchesReference) {
  torch::manual_seed(3);
  const Batch b;
  const auto mobile = torch::randn({b.atoms, b.frames, 3}, kF64) * 2.0 + 1.0;
  const auto target = torch::randn({b.atoms, b.frames, 3}, kF64) * 2.0 - 1.0;
  auto entries = torch::rand({b.atoms, b.frames}, kF64) < 0.5;
  entries.slice(0, 9).fill_(false);  // graph 2: nothing selected -> unchanged
  for (const auto& mask : {torch::Tensor(), entries}) {
    const auto batched = kabsch_align(mobile, target, b.graph, b.graphs, mask);
    const auto reference = kabsch_align_reference(mobile, target, b.graph, b.graphs, mask);
    EXPECT_LT(max_abs(batched - reference), 1e-12);
  }
  const auto masked = kabsch_align(mobile, target, b.graph, b.graphs, entries);
  EXPECT_TRUE(torch::equal(masked.slice(0, 9), mobile.slice(0, 9)));
}

TEST(Geometry, KabschRecoversKnownMotion) {
  torch::manual_seed(4);
  const Batch b;
  const auto target = torch::randn({b.atoms, b.frames, 3}, kF64);
  auto mobile = torch::empty_like(target);
  for (std::int64_t g = 0; g < b.graphs; ++g) {
    // target = R mobile + t  <=>  mobile = R^T (target - t)
    const auto r = random_rotation();
    const auto t = torch::randn({3}, kF64) * 10.0;
    const auto atoms = torch::nonzero(b.graph == g).squeeze(1);
    mobile.index_copy_(0, atoms, torch::matmul(target.index_select(0, atoms) - t, r));
  }
  // A partial selection suffices: the motion is exact on every entry, and applied to all of them.
  const auto entries = torch::rand({b.atoms, b.frames}, kF64) < 0.5;
  entries.select(1, 0).fill_(true);
  const auto aligned = kabsch_align(mobile, target, b.graph, b.graphs, entries);
  EXPECT_LT(max_abs(aligned - target), 1e-10);
}

double signed_volume(const torch::Tensor& p) {  // p: [4, 3]
  return torch::det(torch::stack({p[1] - p[0], p[2] - p[0], p[3] - p[0]})).item<double>();
}

TEST(Geometry, KabschNeverReflects) {
  torch::manual_seed(5);
  const Batch b;
  const auto mobile = torch::randn({b.atoms, b.frames, 3}, kF64);
  auto target = mobile.clone();
  target.select(2, 2).neg_();  // mirror image: the best orthogonal map is a reflection
  for (const bool batched : {true, false}) {
    const auto aligned = batched ? kabsch_align(mobile, target, b.graph, b.graphs)
                                 : kabsch_align_reference(mobile, target, b.graph, b.graphs);
    for (std::int64_t g = 0; g < b.graphs; ++g) {
      const auto pm = mobile.index({b.graph == g}).reshape({-1, 3}).slice(0, 0, 4);
      const auto pa = aligned.index({b.graph == g}).reshape({-1, 3}).slice(0, 0, 4);
      // A proper motion keeps the handedness of every tetrahedron (a reflection would flip the sign).
      EXPECT_NEAR(signed_volume(pa), signed_volume(pm), 1e-9) << "graph " << g;
      // ...and all distances.
      EXPECT_LT(max_abs(torch::cdist(pa, pa) - torch::cdist(pm, pm)), 1e-10);
    }
  }
}

TEST(Geometry, KabschResultInvariantToRotatingMobile) {
  torch::manual_seed(6);
  const Batch b;
  const auto mobile = torch::randn({b.atoms, b.frames, 3}, kF64);
  const auto target = torch::randn({b.atoms, b.frames, 3}, kF64);
  const auto entries = torch::rand({b.atoms, b.frames}, kF64) < 0.7;
  auto moved = torch::empty_like(mobile);
  for (std::int64_t g = 0; g < b.graphs; ++g) {
    const auto atoms = torch::nonzero(b.graph == g).squeeze(1);
    moved.index_copy_(
        0, atoms, torch::matmul(mobile.index_select(0, atoms), random_rotation()) + torch::randn({3}, kF64));
  }
  const auto a = kabsch_align(mobile, target, b.graph, b.graphs, entries);
  const auto c = kabsch_align(moved, target, b.graph, b.graphs, entries);
  EXPECT_LT(max_abs(a - c), 1e-10);
}

TEST(Geometry, KabschPassesNoGradientAndKeepsDtype) {
  torch::manual_seed(7);
  const Batch b;
  const auto mobile = torch::randn({b.atoms, b.frames, 3}, torch::kFloat32).requires_grad_(true);
  const auto target = torch::randn({b.atoms, b.frames, 3}, torch::kFloat32).requires_grad_(true);
  const auto aligned = kabsch_align(mobile, target, b.graph, b.graphs);
  EXPECT_FALSE(aligned.requires_grad());
  EXPECT_EQ(aligned.scalar_type(), torch::kFloat32);
  // The CoM projection, by contrast, is differentiable.
  const auto centred = remove_center_of_mass(mobile, b.graph, b.graphs);
  EXPECT_TRUE(centred.requires_grad());
}

}  // namespace
}  // namespace hemeplm::diffusion
