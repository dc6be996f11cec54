// The rolling (diagonal) sampler of hemeplm sample --rolling: one window whose free frames sit at
// staggered noise levels (diffusion/rolling.hpp); every model call advances each frame one level and
// finishes the frame next to the known one, which becomes the new known frame.
#pragma once

#include <mpi.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "hemeplm/core/system.hpp"
#include "hemeplm/sample/decomposed_model.hpp"
#include "hemeplm/sample/sampler.hpp"
#include "sampling_setup.hpp"

namespace hemeplm::sample {

struct RollingCounts {
  std::int64_t frames = 0;  ///< finished frames written
  std::int64_t calls = 0;   ///< model calls, warm-up included
};

/// Collective. Forecast from `start` ([N, 3] float64, the file's last frame) until the output holds
/// setup.total_frames frames. Noise is keyed by (seed, output frame index, level), so any rank count
/// gives the same frames; a resumed run starts a new window (warm-up) from the last written frame.
RollingCounts sample_rolling(MPI_Comm comm, const System& system, const SampleOptions& options,
                             const SamplingSetup& setup, DecomposedModel& dm, const RankRows& rows,
                             OutputFile& output, const torch::Tensor& start,
                             const std::function<void(const std::string&)>& progress);

}  // namespace hemeplm::sample
