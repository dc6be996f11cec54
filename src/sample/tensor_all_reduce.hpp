// In-place MPI all-reduce of a CPU tensor (float32 or float64), for the few global sums of sampling,
// and the Vec3 <-> [n, 3] float64 tensor conversions of the sampler.
#pragma once

#include <mpi.h>
#include <torch/types.h>

#include <vector>

#include "hemeplm/core/span.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::sample {

/// `t` must be a contiguous CPU float32/float64 tensor; UsageError otherwise, Error on an MPI failure.
void all_reduce(torch::Tensor& t, MPI_Op op, MPI_Comm comm);

/// [n, 3] float64 copy of the positions.
torch::Tensor vec3_tensor(Span<const Vec3> positions);
/// The rows of an [n, 3] tensor (any floating dtype) as Vec3.
std::vector<Vec3> tensor_vec3(const torch::Tensor& t);

}  // namespace hemeplm::sample
