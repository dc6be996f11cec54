// The assembled HemePLM model: a ViSNet context encoder (with its energy/force head) on a clean
// reference conformation, residue tokens, residue -> domain -> protein pooling, time-aware
// cross-attention between residues (plus pooled tokens) and ligand atoms, and the EGInterpolator
// denoiser over T frames, which receives the per-atom context through a Linear adapter added to h
// after its input linear.
//
// Why the context is encoded on clean coordinates: ViSNet on noisy x_t at large diffusion steps would
// see every atom within a few Å of every other one (a dense radius graph) and learn nothing; on the
// reference conformation (the known frame of forecast/tps/inpaint, the given structure otherwise) it
// is the physics the denoiser needs, and it does not depend on the diffusion step, so a sampler encodes
// once per block and only the cross-attention (AdaLN on t) and the denoiser run at every step.
//
// The forward is split so that a decomposed run can complete the pooling across ranks:
//   encode() -> pooling_partials() -> [caller: all-reduce] -> pool() -> denoise()
// forward() chains them for residues that are all local.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/model/atom_graph.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/model/cross_attention.hpp"
#include "hemeplm/model/pooling.hpp"
#include "hemeplm/model/property_heads.hpp"
#include "hemeplm/model/temporal.hpp"
#include "hemeplm/model/time_embedding.hpp"
#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {

/// Several graphs (fragments or whole systems) concatenated without padding; every index below is
/// into this concatenation. Floating tensors share the model's dtype (positions may be float64).
struct HemePLMInput {
  // Atoms.
  torch::Tensor atomic_numbers;  ///< [N] int64 (< visnet.max_z and < 100)
  torch::Tensor atom_features;   ///< [N, 42] features of core/features.hpp
  torch::Tensor atom_graph;      ///< [N] int64 graph of each atom, ascending
  std::int64_t graph_count = 1;
  /// [B] int64 DDPM step of each graph, or [B, T] one per frame (per-frame noise levels: the rolling
  /// sampler and the training that supports it; known frames carry step 0 there).
  torch::Tensor diffusion_step;

  // Denoiser graph: the 3-hop bond graph, both directions, type < 50 (bond order / hop kind).
  torch::Tensor bond_src, bond_dst, bond_type;  ///< [Eb] int64

  // Context: clean reference positions and their radius graph within visnet.cutoff (cell lists,
  // no self-loops, both directions). Undefined context_positions = no context (adapter adds nothing).
  torch::Tensor context_positions;       ///< [N, 3] Å
  torch::Tensor radius_src, radius_dst;  ///< [Er] int64
  torch::Tensor radius_shift;            ///< [Er, 3] periodic image shift in Å, or undefined

  // Residue tokens and ligand atoms (either may be empty).
  torch::Tensor atom_residue;    ///< [N] int64 residue token of the atom in [0, R), -1 for none
  torch::Tensor residue_type;    ///< [R] int64 in [0, 21)
  torch::Tensor residue_anchor;  ///< [R] int64 atom index of the anchor (C-alpha, or a cofactor's metal)
  torch::Tensor residue_domain;  ///< [R] int64 domain in [0, K), -1 = not pooled (e.g. buffer residues)
  torch::Tensor ligand_atom;     ///< [N] bool, atoms that are ligand tokens in the cross-attention
  /// [R, E] precomputed per-residue embeddings (model dtype), required when the model's
  /// residue_embedding_dim E > 0 and residues are present; must be undefined when E = 0.
  torch::Tensor residue_embedding;

  // Frames.
  torch::Tensor frame_times;   ///< [T] int64 frame index (only offsets matter)
  torch::Tensor known_frames;  ///< [T] bool conditioning frames (no output), or undefined
  torch::Tensor known_atoms;   ///< [N, T] bool inpainting mask, or undefined
  torch::Tensor x_given;       ///< [N, T, 3] clean coordinates; needed when a mask is set

  std::int64_t atom_count() const { return atomic_numbers.size(0); }
  std::int64_t residue_count() const { return residue_type.defined() ? residue_type.size(0) : 0; }
  /// The context conformation as a ViSNet graph (for energies and forces on request).
  AtomGraph context_graph() const;
};

/// Batches inputs (graphs) into one, without padding: indices are offset, graphs renumbered in order.
/// All inputs must have the same frames (frame_times), the same masks present or absent, and the same
/// context presence; UsageError otherwise.
HemePLMInput concatenate_inputs(const std::vector<HemePLMInput>& inputs);

/// What encode() computes once per input: independent of the diffusion step and of x_t.
struct ContextEncoding {
  torch::Tensor atom_scalars;    ///< [N, H] ViSNet invariant features
  torch::Tensor residue_tokens;  ///< [R, H]
  torch::Tensor anchors;         ///< [R, 3] anchor positions
  bool defined() const { return atom_scalars.defined(); }
};

/// Domain tokens of present domains and the protein token of graphs with any domain, as keys without
/// positions (no anchor: the distance bias does not apply to them); positions take the template's options.
TokenSet pooled_key_tokens(const PooledTokens& pooled, const torch::Tensor& position_template);

/// The HemePLM model; parameter names are stable (they are the checkpoint's dataset names):
/// energy_model, time_mlp, residue_tokens, cross_attention.<i>, pooling, denoiser, context_adapter,
/// and residue_embedding only when residue_embedding_dim > 0, property_heads only when the config lists
/// property heads (so older checkpoints load unchanged).
class HemePLMImpl : public torch::nn::Module {
 public:
  explicit HemePLMImpl(const HemePLMConfig& config);

  const HemePLMConfig& config() const { return config_; }

  /// Throws UsageError naming the first field that does not fit this model (atomic number >= max_z,
  /// domain >= K, residue type >= 21, bond type >= 50, mismatched sizes). encode(), and so forward(),
  /// call it; denoise() does not (it runs at every step on an input encode() has checked).
  void check_input(const HemePLMInput& in) const;

  /// ViSNet + residue tokens on the context conformation; undefined when the input has no context.
  ContextEncoding encode(const HemePLMInput& in);
  /// Softmax partials of the pooling over this input's residues with residue_domain >= 0 (see
  /// pooling.hpp for how ranks complete them: MPI_MAX of max as `shift`, then MPI_SUM).
  PoolingPartials pooling_partials(const HemePLMInput& in, const ContextEncoding& context,
                                   const torch::Tensor& shift = {});
  /// Domain and protein tokens from complete partials.
  PooledTokens pool(const PoolingPartials& complete);
  /// eps_hat [N, T_free, 3] for x_t [N, T, 3]: equivariant and translation-invariant (output minus
  /// input coordinates). `context` may be undefined (no context); `pooled` may be empty (no pooling).
  torch::Tensor denoise(const HemePLMInput& in, const ContextEncoding& context, const PooledTokens& pooled,
                        const torch::Tensor& x_t);
  /// The pieces of denoise() for a caller that assembles the per-atom context itself (the decomposed
  /// sampler: ligand tokens complete on every rank, residues spread over ranks):
  /// c = time_mlp(diffusion_step) [B, H_t]; for per-frame steps [B, T] the mean of time_mlp over the
  /// free frames (known_frames [T] bool, undefined = all) ...
  torch::Tensor time_conditioning(const torch::Tensor& diffusion_step,
                                  const torch::Tensor& known_frames = {});
  /// ... the cross-attention stack on explicit token sets, returning the updated {ligand h, residue h}
  /// (unchanged without blocks); with `reduce`, the ligand -> residue attention is completed by it
  /// (CrossAttentionBlock::forward_partial), once per block ...
  std::pair<torch::Tensor, torch::Tensor> attend(const TokenSet& ligand, const TokenSet& residues,
                                                 const TokenSet& extra_keys, const torch::Tensor& c,
                                                 std::int64_t graph_count,
                                                 const AttentionReducer& reduce = {});
  /// ... the adapter from per-atom context features [n, visnet hidden] to the denoiser's width ...
  torch::Tensor adapt_context(const torch::Tensor& per_atom);
  /// ... and the denoiser given that context ([N, denoiser hidden], or undefined for none).
  torch::Tensor denoise_with_context(const HemePLMInput& in, const torch::Tensor& atom_context,
                                     const torch::Tensor& x_t);
  bool has_cross_attention() const { return !cross_attention_->is_empty(); }

  /// encode + local pooling + denoise.
  torch::Tensor forward(const HemePLMInput& in, const torch::Tensor& x_t);
  /// Stage 1: the denoiser's conformer part alone (EGInterpolator::forward_conformer) on the bond
  /// graph; no context, cross-attention or temporal layers. eps_hat [N, T, 3], frames independent.
  torch::Tensor denoise_conformer(const HemePLMInput& in, const torch::Tensor& x_t);

  /// Energy per graph and forces of the context conformation (graph.positions must require grad;
  /// create_graph = true when training on forces).
  EnergyForces energy_and_forces(const AtomGraph& graph, bool create_graph);
  /// Per-residue energies (for heatmaps): segment sums over `residue_index` of the atom energies.
  torch::Tensor residue_energies(const AtomGraph& graph, const torch::Tensor& residue_index,
                                 std::int64_t residue_count);

  /// Per-molecule properties of each graph [B, P] (P = property_names().size()), physical units, from
  /// the shared ViSNet backbone on `graph`; UsageError when the model has no property heads.
  torch::Tensor properties(const AtomGraph& graph);
  /// The same in standardised units ((value - mean) / std per head): what the training loss compares.
  torch::Tensor properties_standardised(const AtomGraph& graph);
  /// (mean, std) per head in property_names() order, physical units.
  void set_property_standardization(const std::vector<std::pair<double, double>>& statistics);
  std::vector<std::pair<double, double>> property_standardization() const;
  /// The model's property heads in order (config.property_heads); empty when none.
  std::vector<std::string> property_names() const;
  bool has_property_heads() const { return !property_heads_.is_empty(); }
  PropertyHeads property_heads() const { return property_heads_; }

  /// Stage 2: requires_grad = false on the denoiser's stage-1 part (embedding, input_linear, spatial).
  void freeze_spatial();

  EnergyModel energy_model() const { return energy_model_; }
  EGInterpolator denoiser() const { return denoiser_; }
  HierarchicalPooling pooling_module() const { return pooling_; }

 private:
  HemePLMConfig config_;
  EnergyModel energy_model_{nullptr};
  DiffusionTimeMLP time_mlp_{nullptr};
  ResidueTokens residue_tokens_{nullptr};
  torch::nn::ModuleList cross_attention_{nullptr};
  HierarchicalPooling pooling_{nullptr};
  EGInterpolator denoiser_{nullptr};
  torch::nn::Linear context_adapter_{nullptr};
  torch::nn::Linear residue_embedding_{nullptr};  ///< E -> visnet.hidden, only when E > 0
  PropertyHeads property_heads_{nullptr};         ///< only when config.property_heads is non-empty
};
TORCH_MODULE(HemePLM);

}  // namespace hemeplm::model
