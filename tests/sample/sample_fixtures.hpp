// Shared pieces of the sampler tests: the bundled example complex (two helices + ibuprofen, made by
// scripts/make-example-inputs.py), a small random model and its checkpoint, MPI helpers.
#pragma once

#include <mpi.h>
#include <torch/torch.h>

#include <string>

#include "hemeplm/core/system.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/model/hemeplm_model.hpp"

namespace hemeplm::sample::test {

/// inputs/example/complex.pdb + ligand.sdf with features.
System example_complex();

/// tiny with a short receptive field (1 ViSNet layer of 5 Å, 1 denoiser layer = 6 bond hops), so
/// that a buffer of ~12 Å covers it on a system that is still several fragments wide.
model::HemePLMConfig short_range_config();

/// Model with seeded random weights (torch::manual_seed(seed) before construction), in `dtype`.
model::HemePLM random_model(const model::HemePLMConfig& config, torch::ScalarType dtype, std::uint64_t seed);

/// The same with the denoiser's parameters scaled by `scale`: a smooth, small eps_hat. Random denoisers
/// at full scale are chaotic (float32 rounding grows to Å within a few steps, and they overflow after a
/// few blocks), unlike trained ones; scaled down they keep sampling finite and comparable over many steps.
model::HemePLM smooth_model(const model::HemePLMConfig& config, torch::ScalarType dtype, std::uint64_t seed,
                            double scale = 0.1);

/// Writes a stage-2 training checkpoint of `model` (window T, S diffusion steps, dt) readable by
/// hemeplm sample.
void save_sampling_checkpoint(const std::string& path, const model::HemePLM& model, int window_frames,
                              int diffusion_steps, double dt_ps);

/// A folder every rank of `comm` sees (rank 0 makes it, the path is broadcast).
std::string shared_temp_dir(MPI_Comm comm);

double all_max(double value, MPI_Comm comm);

}  // namespace hemeplm::sample::test
