// The model evaluated over a rank plan: every rank holds its fragments (core + buffer) and evaluates
// the model on them; what couples the fragments is exchanged, and only that:
//  - per block (the context is the block's clean reference frame): ViSNet scalars are kept for core
//    atoms only; the ligand tokens (all ligand atoms of the system) are completed on every rank by an
//    all-reduce; the residue -> domain -> protein pooling is completed from partial sums (all-reduce);
//  - per denoising step: the ligand -> residue cross-attention is completed from partial sums
//    (all-reduce of a few numbers per ligand atom), each rank forms the per-atom context of the atoms it
//    owns and sends it to the ranks holding them as buffer atoms (point-to-point halo exchange), the
//    denoiser runs on every fragment, and the blended eps_hat of buffer atoms goes back to their owners
//    (reverse halo exchange).
// When every buffer covers the receptive field, the stitched eps_hat equals the whole-system one.
#pragma once

#include <mpi.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"
#include "hemeplm/dist/halo_exchange.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/sample/fragment_input.hpp"

namespace hemeplm::sample {

struct DecomposedModelOptions {
  torch::ScalarType dtype = torch::kFloat32;  ///< of the model evaluation (float64 for exactness tests)
  std::int64_t max_batch_atoms = 20000;       ///< fragments are batched per rank up to this many atoms
  double cutoff = 5.0;                        ///< Å, context radius graph (the model's visnet.cutoff)
};

/// Wall-clock seconds spent per kind of work since construction (this rank).
struct DecomposedTimings {
  double encode = 0, attention = 0, denoise = 0, halo = 0, all_reduce = 0;
};

class DecomposedModel {
 public:
  /// Collective over `comm` (plan.ranks must equal its size). `model` is used as is (eval mode, its
  /// dtype = options.dtype). UsageError when the plan does not cover every atom exactly once by cores.
  DecomposedModel(MPI_Comm comm, model::HemePLM model, std::shared_ptr<const GlobalInput> global,
                  const decomposition::Plan& plan, std::optional<Box> box,
                  const DecomposedModelOptions& options);
  ~DecomposedModel();
  DecomposedModel(const DecomposedModel&) = delete;
  DecomposedModel& operator=(const DecomposedModel&) = delete;

  /// Ascending global ids of the atoms this rank holds (its fragments' cores and buffers) = local rows.
  const std::vector<std::int64_t>& local_atoms() const;
  /// Local rows of the atoms this rank owns (the cores of its fragments), ascending.
  const std::vector<int>& owned_rows() const;
  std::int64_t local_count() const;
  int fragment_count() const;  ///< on this rank
  int batch_count() const;     ///< model calls per evaluation on this rank
  const dist::HaloExchange& halo() const;

  /// Collective. Sets the block's frames and masks and encodes its context. known_frames: [T] bool or
  /// undefined; known_atoms: [n_local, T] bool or undefined; x_given: [n_local, T, 3] float64 (every local
  /// row); context: [n_local, 3] float64 clean reference positions, or undefined for no context.
  void begin_block(const torch::Tensor& known_frames, const torch::Tensor& known_atoms,
                   const torch::Tensor& x_given, const torch::Tensor& context);
  /// Collective. The blended eps_hat [n_local, T_free, 3] float64 for x_t [n_local, T, 3] float64 (every
  /// local row current): complete on owned rows, partial sums on the others.
  torch::Tensor epsilon(std::int64_t model_step, const torch::Tensor& x_t);
  /// The same with one diffusion step per frame (frame_steps [T] int64; the rolling sampler).
  torch::Tensor epsilon(const torch::Tensor& frame_steps, const torch::Tensor& x_t);
  /// Collective. Potential energy (kJ/mol) of the conformation `positions` ([n_local, 3] float64, every
  /// local row) from the energy head: each rank sums the atom energies of the atoms it owns, each
  /// evaluated in its fragment (exact when buffers cover ViSNet's receptive field), plus the head's mean.
  double energy(const torch::Tensor& positions);
  /// Collective. Ghost rows of a contiguous [n_local, ...] float64 tensor take their owners' values.
  void update_ghosts(torch::Tensor& values);

  const DecomposedTimings& timings() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hemeplm::sample
