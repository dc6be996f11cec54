// ViSNet backbone and EquivariantScalar energy/force head (model-spec.md section (a)), one concept per TU:
//   visnet_radial_basis.cpp        ExpNormal RBF + cosine cutoff
//   visnet_spherical_harmonics.cpp real Y(d) without l = 0
//   visnet_neighbor_embedding.cpp  x_i <- W_c [x_i || sum_j E2(z_j) (W_d e + b_d) phi]
//   visnet_vis_mp_layer.cpp        one ViS-MP layer (steps 1-8)
//   visnet_equivariant_scalar.cpp  two gated equivariant blocks -> per-atom scalar
//   visnet_backbone.cpp            ViSNet (embedding + layers) and EnergyModel (energy, residues, forces)
// Edges come in through AtomGraph (no self-loops, no N x N tensor); the backbone appends the self-loops the
// reference radius_graph(loop=True) would have. All scatters are index_add over edge_dst (messages j -> i).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemeplm/model/atom_graph.hpp"
#include "hemeplm/model/config.hpp"

namespace hemeplm::model {

/// phi(r) = 0.5 (cos(pi r / r_c) + 1) for r < r_c, else 0. Any shape.
torch::Tensor cosine_cutoff(const torch::Tensor& distance, double cutoff);

/// Real spherical harmonics of unit vectors [E, 3] -> [E, M], l = 0 dropped; zero vectors give zeros.
torch::Tensor spherical_harmonics(const torch::Tensor& unit_vectors, std::int64_t lmax);

/// Edge-update factor of a ViS-MP layer: sum_m Rej(a, y)_m Rej(b, -y)_m for a, b [E, M, H] and y [E, M]
/// -> [E, H]. The fast form never materialises the rejections; the reference is the plain formula.
torch::Tensor rejection_product(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& y);
torch::Tensor rejection_product_reference(const torch::Tensor& a, const torch::Tensor& b,
                                          const torch::Tensor& y);

/// ExpNormal smearing e_k(r) = phi(r) exp(-beta_k (exp(-alpha r) - mu_k)^2); mu, beta are buffers.
class ExpNormalRBFImpl : public torch::nn::Module {
 public:
  ExpNormalRBFImpl(double cutoff, std::int64_t num_rbf);
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& distance);  ///< [E] -> [E, R]

 private:
  double cutoff_;
  std::int64_t num_rbf_;
  torch::Tensor means_, betas_;
};
TORCH_MODULE(ExpNormalRBF);

class NeighborEmbeddingImpl : public torch::nn::Module {
 public:
  explicit NeighborEmbeddingImpl(const ViSNetConfig& config);
  void reset_parameters();
  /// Edges here are the non-self edges only; rbf [E, R] and cut [E] belong to them.
  torch::Tensor forward(const torch::Tensor& atomic_numbers, const torch::Tensor& x, const torch::Tensor& src,
                        const torch::Tensor& dst, const torch::Tensor& rbf, const torch::Tensor& cut);

 private:
  torch::nn::Embedding neighbor_embedding_{nullptr};
  torch::nn::Linear distance_proj_{nullptr}, combine_{nullptr};
};
TORCH_MODULE(NeighborEmbedding);

/// Per-edge geometry shared by all layers (self-loops included, last N edges).
struct ViSNetEdges {
  torch::Tensor src, dst;   ///< [E] int64
  torch::Tensor cut;        ///< [E] phi(r_ij)
  torch::Tensor harmonics;  ///< [E, M] Y(d_ij), zero on self-loops
};

struct ViSNetState {
  torch::Tensor x;  ///< [N, H] scalars
  torch::Tensor v;  ///< [N, M, H] vectors
  torch::Tensor f;  ///< [E, H] edge features
};

class VisMPLayerImpl : public torch::nn::Module {
 public:
  VisMPLayerImpl(const ViSNetConfig& config, bool last_layer);
  void reset_parameters();
  /// Returns the residual-updated state (step 8); f is passed through unchanged on the last layer.
  /// edge_chunk > 0 (inference only, under NoGradGuard) processes the edges in blocks of that many.
  ViSNetState forward(const ViSNetState& state, const ViSNetEdges& edges, std::int64_t edge_chunk = 0);

 private:
  std::int64_t hidden_, heads_;
  bool last_layer_;
  torch::nn::LayerNorm layernorm_{nullptr};
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr};
  torch::nn::Linear dk_proj_{nullptr}, dv_proj_{nullptr}, s_proj_{nullptr};
  torch::nn::Linear vec_proj_{nullptr}, o_proj_{nullptr};
  torch::nn::Linear w_src_proj_{nullptr}, w_trg_proj_{nullptr}, f_proj_{nullptr};  // null on the last layer
};
TORCH_MODULE(VisMPLayer);

/// One gated equivariant block: in -> out channels, intermediate width `intermediate`.
class GatedEquivariantBlockImpl : public torch::nn::Module {
 public:
  GatedEquivariantBlockImpl(std::int64_t in, std::int64_t out, std::int64_t intermediate,
                            bool scalar_activation);
  void reset_parameters();
  /// x [N, in], v [N, M, in] -> {x' [N, out], v' [N, M, out]}.
  std::vector<torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& v);

 private:
  std::int64_t out_;
  bool scalar_activation_;
  torch::nn::Linear vec1_proj_{nullptr}, vec2_proj_{nullptr}, update_in_{nullptr}, update_out_{nullptr};
};
TORCH_MODULE(GatedEquivariantBlock);

class EquivariantScalarImpl : public torch::nn::Module {
 public:
  explicit EquivariantScalarImpl(std::int64_t hidden);
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& v);  ///< per-atom y [N]

 private:
  GatedEquivariantBlock block1_{nullptr}, block2_{nullptr};
};
TORCH_MODULE(EquivariantScalar);

struct ViSNetOutput {
  torch::Tensor x;  ///< [N, H] invariant per-atom features
  torch::Tensor v;  ///< [N, M, H] equivariant per-atom features (components ordered like Y)
};

class ViSNetImpl : public torch::nn::Module {
 public:
  explicit ViSNetImpl(const ViSNetConfig& config);
  void reset_parameters();
  ViSNetOutput forward(const AtomGraph& graph);
  const ViSNetConfig& config() const { return config_; }

  /// Without autograd (NoGradGuard), the layers process edges in blocks sized so that one [block, M, H]
  /// tensor holds at most `elements` values (default 4M: 16 MB in float32, 2,048 edges for `paper`);
  /// the result is the same to rounding and the peak memory no longer grows with E x M x H.
  /// 0 disables blocking. With autograd on, the layers always take all edges at once.
  void set_inference_block_elements(std::int64_t elements) { inference_block_elements_ = elements; }

 private:
  ViSNetConfig config_;
  std::int64_t inference_block_elements_ = std::int64_t{1} << 22;
  ExpNormalRBF rbf_{nullptr};
  torch::nn::Embedding embedding_{nullptr};
  NeighborEmbedding neighbor_embedding_{nullptr};
  torch::nn::Linear edge_embedding_{nullptr};  // W_e: f_ij = (x_i + x_j) (W_e e(r_ij) + b_e)
  std::vector<VisMPLayer> layers_;
  torch::nn::LayerNorm out_norm_{nullptr};
};
TORCH_MODULE(ViSNet);

struct EnergyForces {
  torch::Tensor energy;  ///< [B] per graph
  torch::Tensor forces;  ///< [N, 3] = -dE/dpos
};

/// Backbone + head + standardisation buffers: E_graph = sum_i std * y_i + mean.
class EnergyModelImpl : public torch::nn::Module {
 public:
  explicit EnergyModelImpl(const ViSNetConfig& config);
  void reset_parameters();
  void set_standardization(double mean, double std);
  torch::Tensor atom_energies(const AtomGraph& graph);  ///< std * y_i, [N] (mean not included)
  torch::Tensor forward(const AtomGraph& graph);        ///< per-graph energy [B]
  /// Segment sums of atom_energies over residue_index [N] (int64 in [0, residue_count)); the per-graph mean
  /// is not attributed to any residue, so residues of graph b sum to energy[b] - mean.
  torch::Tensor residue_energies(const AtomGraph& graph, const torch::Tensor& residue_index,
                                 std::int64_t residue_count);
  /// graph.positions must require grad. create_graph = true for force-matching training (double backward).
  EnergyForces energy_and_forces(const AtomGraph& graph, bool create_graph);

  ViSNet backbone() const { return backbone_; }
  EquivariantScalar head() const { return head_; }

 private:
  ViSNet backbone_{nullptr};
  EquivariantScalar head_{nullptr};
  torch::Tensor mean_, std_;
};
TORCH_MODULE(EnergyModel);

}  // namespace hemeplm::model
