#include "tensor_all_reduce.hpp"

#include <string>

#include "hemeplm/core/error.hpp"

namespace hemeplm::sample {

void all_reduce(torch::Tensor& t, MPI_Op op, MPI_Comm comm) {
  if (!t.is_contiguous() || !t.device().is_cpu() ||
      (t.scalar_type() != torch::kFloat64 && t.scalar_type() != torch::kFloat32))
    throw UsageError("all_reduce: a contiguous CPU float32/float64 tensor is required");
  if (t.numel() == 0) return;
  const auto type = t.scalar_type() == torch::kFloat64 ? MPI_DOUBLE : MPI_FLOAT;
  const int rc = MPI_Allreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(t.numel()), type, op, comm);
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(rc, text, &length);
    throw Error("MPI_Allreduce failed during sampling: " +
                std::string(text, static_cast<std::size_t>(length)));
  }
}

torch::Tensor vec3_tensor(Span<const Vec3> positions) {
  auto out = torch::empty({static_cast<std::int64_t>(positions.size()), 3}, torch::kFloat64);
  auto* p = out.data_ptr<double>();
  for (const auto& v : positions) *p++ = v.x, *p++ = v.y, *p++ = v.z;
  return out;
}

std::vector<Vec3> tensor_vec3(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  std::vector<Vec3> out(static_cast<std::size_t>(c.size(0)));
  const auto* p = c.data_ptr<double>();
  for (auto& v : out) v = {p[0], p[1], p[2]}, p += 3;
  return out;
}

}  // namespace hemeplm::sample
