// EGNN-style spatial modules of the EGInterpolator stack (model-spec.md section (d)): the GVP
// transition, the BasicES layer (EGCL + GV_FF) and the stage-1 BasicES conformer model.
//
// Layout (all trajectory modules): x [N, T, 3], h [N, T, H] -- channels last, so every per-frame
// MLP is a plain Linear on the last dimension (the [N*T, .] flattening of the spec, with no
// permutes). Edges are the caller's 3-hop bond graph as index tensors (src = j -> dst = i, summed
// into i with index_add); no N x N tensor is ever built.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace hemeplm::model {

/// Graph-level input shared by the conformer model and the interpolator.
struct MoleculeInput {
  torch::Tensor atomic_numbers;  ///< [N] int64, < 100
  torch::Tensor atom_features;   ///< [N, 42] RDKit features (same dtype as the model)
  torch::Tensor edge_src;        ///< [E] int64 (j)
  torch::Tensor edge_dst;        ///< [E] int64 (i)
  torch::Tensor edge_type;       ///< [E] int64 bond/hop type, < 50
  /// [N] integer DDPM step of each atom's graph (broadcast by the caller), or [N, T] one per frame.
  torch::Tensor diffusion_step;
};

/// Sinusoidal embedding SinEmb_d(t) = [sin(t f) || cos(t f)], f_k = exp(-k ln(1e4) / (d/2 - 1)).
/// Takes integer (or real) t of any shape [M]; returns [M, dim] in `dtype`.
torch::Tensor es_sin_embedding(const torch::Tensor& t, std::int64_t dim, torch::ScalarType dtype);

/// One geometric vector perceptron (Jing 2021) with a sigmoid vector gate on the updated scalars.
class GVPImpl : public torch::nn::Module {
 public:
  GVPImpl(std::int64_t s_in, std::int64_t s_out, std::int64_t v_in, std::int64_t v_out, bool scalar_silu);
  /// s [M, s_in], v [M, 3, v_in] -> (s' [M, s_out], v' [M, 3, v_out]).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& s, const torch::Tensor& v);

 private:
  torch::nn::Linear wh_{nullptr}, wu_{nullptr}, ws_{nullptr}, wg_{nullptr};
  bool scalar_silu_;
};
TORCH_MODULE(GVP);

/// EGNN EGCL (edge MLP, replacing node MLP, normalized mean coordinate step) followed by the
/// GV_FF transition whose vector output is the coordinate update. 150,830 parameters at H = 128.
class BasicESLayerImpl : public torch::nn::Module {
 public:
  explicit BasicESLayerImpl(std::int64_t hidden = 128, std::int64_t edge_dim = 4);
  /// x [N, T, 3], h [N, T, H], edge_attr [E, edge_dim] -> (x', h'); frames are independent.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& h,
                                                  const torch::Tensor& edge_src,
                                                  const torch::Tensor& edge_dst,
                                                  const torch::Tensor& edge_attr);

 private:
  torch::nn::Sequential edge_mlp_{nullptr}, coord_mlp_{nullptr}, node_mlp_{nullptr};
  GVP transition_in_{nullptr}, transition_out_{nullptr};
};
TORCH_MODULE(BasicESLayer);

/// Atom/edge embeddings of stage 1: h0 = Linear(72->30)([Emb(100,30)(z) || f_42]), a = Emb(50,4)(type).
class ESEmbeddingImpl : public torch::nn::Module {
 public:
  ESEmbeddingImpl();
  /// -> (h0 [N, 30], edge_attr [E, 4]).
  std::pair<torch::Tensor, torch::Tensor> forward(const MoleculeInput& in);

 private:
  torch::nn::Embedding atom_type_{nullptr}, edge_type_{nullptr};
  torch::nn::Linear feature_linear_{nullptr};
};
TORCH_MODULE(ESEmbedding);

/// h = input_linear([h0 || SinEmb32(step)]) broadcast to [N, T, H]; with per-frame steps [N, T] the
/// step embedding differs per frame (T must equal `frames`); returns (h, edge_attr).
/// Shared by both stages so the stage-1 names ("embedding", "input_linear") are the same.
std::pair<torch::Tensor, torch::Tensor> embed_trajectory(ESEmbedding& embedding,
                                                         torch::nn::Linear& input_linear,
                                                         const MoleculeInput& in, std::int64_t frames);

/// Stage 1: BasicES conformer denoiser, six layers (918,434 parameters at H = 128). Runs any number
/// of frames independently; trained with T = 1. Returns eps_hat = x_out - x_in [N, T, 3].
class ConformerModelImpl : public torch::nn::Module {
 public:
  explicit ConformerModelImpl(std::int64_t layers = 6, std::int64_t hidden = 128);
  torch::Tensor forward(const MoleculeInput& in, const torch::Tensor& x);

 private:
  ESEmbedding embedding_{nullptr};
  torch::nn::Linear input_linear_{nullptr};
  torch::nn::ModuleList spatial_{nullptr};
};
TORCH_MODULE(ConformerModel);

}  // namespace hemeplm::model
