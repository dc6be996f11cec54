// Temporal modules of the EGInterpolator stack (model-spec.md (d)): the ETLayer (single-head
// temporal attention with a relative-time embedding) and the stage-2 EGInterpolator.
// Layout as in egnn.hpp: x [N, T, 3], h [N, T, H].
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include <string>

#include "hemeplm/model/egnn.hpp"

namespace hemeplm::model {

/// GeoTDM ETLayer: alpha_ts = softmax_s(q_t . (k_s + rho_ts)), rho_ts = W_tau SinEmb32(t - s) + b_tau.
/// 119,937 parameters at H = 128. Depends on frame times only through the offsets t - s.
class ETLayerImpl : public torch::nn::Module {
 public:
  explicit ETLayerImpl(std::int64_t hidden = 128);
  /// x [N, T, 3], h [N, T, H], frame_times [T] int64 -> (x', h').
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& h,
                                                  const torch::Tensor& frame_times);

 private:
  torch::nn::Sequential q_mlp_{nullptr}, k_mlp_{nullptr}, v_mlp_{nullptr}, x_mlp_{nullptr};
  torch::nn::Linear time_emb_{nullptr};
};
TORCH_MODULE(ETLayer);

/// Trajectory input of stage 2: the molecule plus frame times and the conditioning masks.
struct TrajectoryInput {
  MoleculeInput molecule;
  torch::Tensor frame_times;  ///< [T] int64 frame index of each frame (only offsets matter)
  torch::Tensor
      known_frames;           ///< [T] bool, true = conditioning frame (never noised, no output); or undefined
  torch::Tensor known_atoms;  ///< [N, T] bool, true = atom held at x_given (inpainting); or undefined
  torch::Tensor x_given;      ///< [N, T, 3] clean coordinates; needed when any mask is set
};

/// Stage 2: n x [frozen S_i, T2_i, extra S'_i, T_i] with cascaded sigma(k) mixing anchored on S_i.
/// Parameter names of the stage-1 part ("embedding", "input_linear", "spatial") equal those of
/// ConformerModel, so a stage-1 checkpoint loads by name. n = 6: 3,267,301 (2,348,867 trainable).
class EGInterpolatorImpl : public torch::nn::Module {
 public:
  explicit EGInterpolatorImpl(std::int64_t layers = 6, std::int64_t hidden = 128);
  /// x_t [N, T, 3] full length (entries at known frames/atoms are ignored) -> eps_hat [N, T_free, 3].
  /// Inpainted (known) atoms inside free frames still get an eps_hat entry: the loss masks them and
  /// the sampler re-imposes x_given (model-spec.md (c)). CoM projection of eps_hat is the caller's.
  /// `context` [N, H] (optional) is added to every frame's h after the input linear (the HemePLM
  /// context adapter's output); it is invariant, so equivariance is kept.
  torch::Tensor forward(const TrajectoryInput& in, const torch::Tensor& x_t,
                        const torch::Tensor& context = {});
  /// Stage 1 (conformer pretraining): only the stage-1 part -- embedding, input linear and the spatial
  /// layers S_i, exactly ConformerModel's forward -- on frames that are denoised independently.
  /// x_t [N, T, 3] -> eps_hat [N, T, 3]. Training this trains what freeze_spatial() later freezes.
  torch::Tensor forward_conformer(const MoleculeInput& molecule, const torch::Tensor& x_t);
  /// requires_grad = false on everything that is in the stage-1 checkpoint.
  void freeze_spatial();

 private:
  std::int64_t layers_;
  ESEmbedding embedding_{nullptr};
  torch::nn::Linear input_linear_{nullptr};
  torch::nn::ModuleList spatial_{nullptr}, temporal2_{nullptr}, extra_spatial_{nullptr}, temporal_{nullptr};
  torch::nn::ModuleList norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
  torch::nn::Embedding condition_embedding_{nullptr};
  std::vector<torch::Tensor> mix_logits_;  ///< per layer [k_x,k_h] for T2, S', T (last: no T h-logit)
};
TORCH_MODULE(EGInterpolator);

}  // namespace hemeplm::model
