// Time-aware cross-attention between residue tokens and ligand atoms (model-spec.md (b)).
// Layout: items of several graphs concatenated without padding, each set with a graph index
// (ascending, like AtomGraph::batch). Attention is dense only inside one graph (ligand atoms x
// residues of that graph); nothing attends across graphs and nothing is N x N over all atoms.
// Frames (T > 1) are handled by the caller as separate graphs: attention is per frame by default.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>

#include "hemeplm/model/config.hpp"

namespace hemeplm::model {

inline constexpr std::int64_t kResidueTypeCount = 21;  ///< 20 amino acids + "other" (cofactors, heme)

/// h_r = Emb(type_r) + Linear(mean of the atom scalars of residue r); 71,168 parameters at H = 256.
class ResidueTokensImpl : public torch::nn::Module {
 public:
  explicit ResidueTokensImpl(std::int64_t hidden = 256);

  void reset_parameters();

  /// atom_scalars: [N, H] (ViSNet output); atom_residue: [N] int64 residue of each atom, or -1 for
  /// atoms outside any residue (ligand, water); residue_types: [R] int64 in [0, 21).
  /// Returns [R, H]; a residue without atoms gets its type embedding plus the Linear bias.
  torch::Tensor forward(const torch::Tensor& atom_scalars, const torch::Tensor& atom_residue,
                        const torch::Tensor& residue_types);

  /// Anchor X_r: positions of the given atom per residue (C-alpha, or the metal of a heme "residue").
  static torch::Tensor anchors(const torch::Tensor& positions, const torch::Tensor& anchor_atom);

 private:
  std::int64_t hidden_;
  torch::nn::Embedding type_embedding_{nullptr};
  torch::nn::Linear atom_projection_{nullptr};
};
TORCH_MODULE(ResidueTokens);

/// One side of the attention: tokens, their positions and their graph.
struct TokenSet {
  torch::Tensor h;      ///< [n, H]
  torch::Tensor x;      ///< [n, 3] Å (ligand atom positions or residue anchors)
  torch::Tensor graph;  ///< [n] int64, ascending
  /// [n] bool, or undefined when every token has a position. Tokens without one (pooled domain and
  /// protein tokens) get no distance bias and no coordinate-channel term; their x is ignored.
  torch::Tensor positioned;
};

/// Both sets in one, still ascending by graph (a stable merge: a's tokens first within a graph).
TokenSet merge_token_sets(const TokenSet& a, const TokenSet& b);

/// Softmax partials of a sub-block's attention per (query, head) over a subset of its keys, shifted by
/// `max` (the largest logit seen): sum_exp = sum_k exp(l_k - max), weighted = sum_k exp(l_k - max) V_k.
/// A query with no key in the subset has max = -inf and zero sums. Keys spread over ranks are completed
/// outside the module: rescale every share to the MPI_MAX of max (rescale_partials), then MPI_SUM.
struct AttentionPartials {
  torch::Tensor max;       ///< [n_q, heads]
  torch::Tensor sum_exp;   ///< [n_q, heads]
  torch::Tensor weighted;  ///< [n_q, heads, d]
};

/// The same partials expressed relative to `max` (>= p.max elementwise): sums scaled by exp(p.max - max).
AttentionPartials rescale_partials(const AttentionPartials& p, const torch::Tensor& max);
/// Partials over the union of two disjoint key subsets (order-independent).
AttentionPartials combine_partials(const AttentionPartials& a, const AttentionPartials& b);
/// Completes one caller's partials with the other callers' (an MPI all-reduce in the sampler).
using AttentionReducer = std::function<AttentionPartials(const AttentionPartials&)>;

struct SubBlockOutput {
  torch::Tensor h;   ///< [n_q, H] updated query tokens
  torch::Tensor dx;  ///< [n_q, 3] equivariant coordinate update, undefined without the channel
};

/// Queries from one set attend to keys/values of the other set of the same graph, modulated by the
/// diffusion time (AdaLN), then a modulated FFN. 16H^2 + 13H parameters (+ heads with the distance
/// bias, + H + 1 with the coordinate channel).
class CrossAttentionSubBlockImpl : public torch::nn::Module {
 public:
  explicit CrossAttentionSubBlockImpl(const CrossAttentionOptions& options = {});

  void reset_parameters();

  /// c: [graph_count, H_t] time conditioning per graph. Queries of a graph with no keys (a system
  /// without ligand) come back unchanged.
  SubBlockOutput forward(const TokenSet& queries, const TokenSet& keys, const torch::Tensor& c,
                         std::int64_t graph_count);

  /// forward() split in two for keys held by several callers: the attention partials of these keys ...
  AttentionPartials attention_partials(const TokenSet& queries, const TokenSet& keys, const torch::Tensor& c,
                                       std::int64_t graph_count);
  /// ... and, from complete partials, the updated query tokens (W_o, modulated FFN). Queries with no key
  /// at all pass unchanged. No coordinate channel on this path.
  torch::Tensor finish_attention(const TokenSet& queries, const AttentionPartials& complete,
                                 const torch::Tensor& c);

  const CrossAttentionOptions& options() const { return options_; }

 private:
  struct Scores;  // logits, values and geometry shared by forward() and attention_partials()
  Scores scores(const TokenSet& queries, const TokenSet& keys, const torch::Tensor& c,
                std::int64_t graph_count);

  CrossAttentionOptions options_;
  torch::nn::Linear modulation_attention_{nullptr}, modulation_ffn_{nullptr};  // [gamma, beta]
  torch::nn::Linear w_q_{nullptr}, w_k_{nullptr}, w_v_{nullptr}, w_o_{nullptr};
  torch::nn::Linear ffn_in_{nullptr}, ffn_out_{nullptr};
  torch::nn::Linear phi_x_{nullptr};
  torch::Tensor distance_weight_raw_;  // [heads], w_h = softplus(raw)
};
TORCH_MODULE(CrossAttentionSubBlock);

struct CrossAttentionBlockOutput {
  torch::Tensor ligand;     ///< [A, H]
  torch::Tensor residues;   ///< [R, H]
  torch::Tensor dx_ligand;  ///< [A, 3] or undefined
};

/// One block = ligand -> residue sub-block, then residue -> ligand sub-block on the updated ligand.
/// Only the ligand side carries the optional coordinate channel (residue anchors stay put).
class CrossAttentionBlockImpl : public torch::nn::Module {
 public:
  explicit CrossAttentionBlockImpl(const CrossAttentionOptions& options = {});

  void reset_parameters();

  /// `extra_keys` (e.g. pooled tokens) join the residue keys of the ligand -> residue direction only.
  CrossAttentionBlockOutput forward(const TokenSet& ligand, const TokenSet& residues, const torch::Tensor& c,
                                    std::int64_t graph_count, const TokenSet& extra_keys = {});

  /// forward() for residues spread over callers (decomposed sampling): `ligand` is complete on every
  /// caller, `residues` and `extra_keys` are this caller's share; `reduce` completes the ligand -> residue
  /// partials and is called exactly once, also with no local residue. Residue outputs are this caller's
  /// residues. UsageError when the options enable the coordinate channel (not supported here).
  CrossAttentionBlockOutput forward_partial(const TokenSet& ligand, const TokenSet& residues,
                                            const torch::Tensor& c, std::int64_t graph_count,
                                            const TokenSet& extra_keys, const AttentionReducer& reduce);

 private:
  CrossAttentionSubBlock ligand_to_residue_{nullptr};
  CrossAttentionSubBlock residue_to_ligand_{nullptr};
};
TORCH_MODULE(CrossAttentionBlock);

}  // namespace hemeplm::model
