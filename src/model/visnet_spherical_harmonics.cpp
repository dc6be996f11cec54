// Real spherical harmonics without the l = 0 term (model-spec.md (a)). Component order matches the
// reference ViSNet Sphere module, so checkpoints and the l = 1 block ([x, y, z]) line up.
#include <torch/types.h>

#include <cmath>

#include "hemeplm/core/error.hpp"
#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {

torch::Tensor spherical_harmonics(const torch::Tensor& unit_vectors, std::int64_t lmax) {
  const auto x = unit_vectors.select(1, 0);
  const auto y = unit_vectors.select(1, 1);
  const auto z = unit_vectors.select(1, 2);
  if (lmax == 1) return torch::stack({x, y, z}, 1);
  if (lmax != 2) throw UsageError("spherical_harmonics: lmax must be 1 or 2, got " + std::to_string(lmax));
  // Not normalised to unit norm per l: Y is used as-is (also inside the edge-update rejection), like the
  // reference. Every term is a polynomial, so zero (self-loop) vectors give zeros with finite gradients.
  const double s3 = std::sqrt(3.0);
  return torch::stack({x, y, z, s3 * x * z, s3 * x * y, y * y - 0.5 * (x * x + z * z), s3 * y * z,
                       (s3 / 2.0) * (z * z - x * x)},
                      1);
}

}  // namespace hemeplm::model
