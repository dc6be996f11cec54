// The assembled HemePLM model (see hemeplm_model.hpp for the data flow and why the context is encoded
// on clean coordinates).
#include "hemeplm/model/hemeplm_model.hpp"

#include <torch/nn/modules/container/modulelist.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "hemeplm/core/error.hpp"

namespace hemeplm::model {
namespace {

/// The denoiser's view of an input: atoms, bond-hop graph and each atom's diffusion step.
MoleculeInput molecule_input(const HemePLMInput& in) {
  return {in.atomic_numbers, in.atom_features,
          in.bond_src,       in.bond_dst,
          in.bond_type,      in.diffusion_step.to(torch::kLong).index_select(0, in.atom_graph)};
}

}  // namespace

/// Domain tokens of present domains and the protein token of graphs with any domain, as keys without
/// positions (they have no anchor: the distance bias does not apply to them).
TokenSet pooled_key_tokens(const PooledTokens& pooled, const torch::Tensor& position_template) {
  if (!pooled.domain_tokens.defined()) return {};
  const auto b = pooled.domain_tokens.size(0), k = pooled.domain_tokens.size(1);
  const auto hidden = pooled.domain_tokens.size(2);
  const auto index_options = torch::TensorOptions().dtype(torch::kLong).device(pooled.domain_tokens.device());
  const auto unpositioned = [&](torch::Tensor h, torch::Tensor graph) {
    const auto n = h.size(0);
    return TokenSet{std::move(h), torch::zeros({n, 3}, position_template.options()), std::move(graph),
                    torch::zeros({n}, index_options.dtype(torch::kBool))};
  };
  // Both sets are ascending by graph already; merge_token_sets keeps that order.
  const auto domains = pooled.domain_mask.reshape({-1}).nonzero().squeeze(1);
  const auto graphs = pooled.domain_mask.any(1).nonzero().squeeze(1);
  const auto domain_graph = torch::arange(b, index_options).repeat_interleave(k);
  return merge_token_sets(unpositioned(pooled.domain_tokens.reshape({b * k, hidden}).index_select(0, domains),
                                       domain_graph.index_select(0, domains)),
                          unpositioned(pooled.protein.index_select(0, graphs), graphs));
}

HemePLMImpl::HemePLMImpl(const HemePLMConfig& config) : config_(config) {
  config_.validate();
  energy_model_ = register_module("energy_model", EnergyModel(config_.visnet));
  time_mlp_ = register_module("time_mlp", DiffusionTimeMLP(config_.time));
  residue_tokens_ = register_module("residue_tokens", ResidueTokens(config_.visnet.hidden));
  cross_attention_ = register_module("cross_attention", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < config_.cross_attention_blocks; ++i)
    cross_attention_->push_back(CrossAttentionBlock(config_.cross_attention()));
  pooling_ = register_module("pooling", HierarchicalPooling(config_.pooling()));
  denoiser_ = register_module("denoiser", EGInterpolator(config_.denoiser.layers, config_.denoiser.hidden));
  context_adapter_ =
      register_module("context_adapter", torch::nn::Linear(config_.visnet.hidden, config_.denoiser.hidden));
  if (config_.residue_embedding_dim > 0)
    residue_embedding_ = register_module(
        "residue_embedding", torch::nn::Linear(config_.residue_embedding_dim, config_.visnet.hidden));
  const auto property_names = split_property_heads(config_.property_heads);
  if (!property_names.empty())
    property_heads_ = register_module("property_heads", PropertyHeads(property_names, config_.visnet.hidden));
}

void HemePLMImpl::check_input(const HemePLMInput& in) const {
  const auto n = in.atom_count();
  const auto fail = [](const std::string& what) { throw UsageError("HemePLM input: " + what); };
  const auto below = [&](const torch::Tensor& t, std::int64_t limit, const char* name) {
    if (t.defined() && t.numel() > 0) {
      const auto lo = t.min().item<std::int64_t>(), hi = t.max().item<std::int64_t>();
      if (lo < 0 || hi >= limit)
        fail(std::string(name) + " has values in [" + std::to_string(lo) + ", " + std::to_string(hi) +
             "], the model takes [0, " + std::to_string(limit) + ")");
    }
  };
  const auto rows = [&](const torch::Tensor& t, std::int64_t expected, const char* name) {
    if (t.defined() && t.size(0) != expected)
      fail(std::string(name) + " has " + std::to_string(t.size(0)) + " rows, expected " +
           std::to_string(expected));
  };
  below(in.atomic_numbers, std::min<std::int64_t>(config_.visnet.max_z, 100), "atomic_numbers");
  rows(in.atom_features, n, "atom_features");
  rows(in.atom_graph, n, "atom_graph");
  rows(in.context_positions, n, "context_positions");
  rows(in.x_given, n, "x_given");
  rows(in.diffusion_step, in.graph_count, "diffusion_step");
  if (in.diffusion_step.defined() && in.diffusion_step.dim() == 2 && in.frame_times.defined() &&
      in.diffusion_step.size(1) != in.frame_times.size(0))
    fail("per-frame diffusion_step has " + std::to_string(in.diffusion_step.size(1)) + " frames, the input " +
         std::to_string(in.frame_times.size(0)));
  below(in.atom_graph, in.graph_count, "atom_graph");
  below(in.bond_type, 50, "bond_type");
  below(in.bond_src, n, "bond_src");
  below(in.bond_dst, n, "bond_dst");
  below(in.radius_src, n, "radius_src");
  below(in.radius_dst, n, "radius_dst");
  below(in.residue_type, kResidueTypeCount, "residue_type");
  below(in.residue_anchor, n, "residue_anchor");
  if (in.residue_domain.defined() && in.residue_domain.numel() > 0)
    below(in.residue_domain.clamp_min(-1) + 1, config_.pooling_domains + 1,
          "residue_domain + 1 (domains -1 .. K-1; K = pooling.domains)");
  if (in.atom_features.defined() && in.atom_features.size(1) != 42)
    fail("atom_features has " + std::to_string(in.atom_features.size(1)) + " columns, expected 42");
  const auto e = config_.residue_embedding_dim;
  if (e == 0 && in.residue_embedding.defined())
    fail(
        "residue_embedding is given but the model has no residue-embedding projection "
        "(residue_embedding.dim = 0: it was trained without --residue-embeddings)");
  if (e > 0 && in.residue_count() > 0) {
    if (!in.residue_embedding.defined())
      fail("the model takes " + std::to_string(e) +
           "-wide residue embeddings (it was trained with --residue-embeddings) and none were given");
    rows(in.residue_embedding, in.residue_count(), "residue_embedding");
    if (in.residue_embedding.dim() != 2 || in.residue_embedding.size(1) != e)
      fail("residue_embedding is " +
           std::to_string(in.residue_embedding.dim() == 2 ? in.residue_embedding.size(1) : -1) +
           " wide, the model takes " + std::to_string(e));
  }
}

ContextEncoding HemePLMImpl::encode(const HemePLMInput& in) {
  check_input(in);
  if (!in.context_positions.defined()) return {};
  ContextEncoding context;
  context.atom_scalars = energy_model_->backbone()->forward(in.context_graph()).x;
  if (in.residue_count() > 0) {
    context.residue_tokens = residue_tokens_(context.atom_scalars, in.atom_residue, in.residue_type);
    // Precomputed (e.g. protein-language-model) residue vectors: invariant, so adding them to the
    // invariant tokens keeps the model equivariant.
    if (residue_embedding_)
      context.residue_tokens = context.residue_tokens + residue_embedding_(in.residue_embedding);
    context.anchors = ResidueTokensImpl::anchors(in.context_positions, in.residue_anchor);
  }
  return context;
}

PoolingPartials HemePLMImpl::pooling_partials(const HemePLMInput& in, const ContextEncoding& context,
                                              const torch::Tensor& shift) {
  if (!context.defined() || in.residue_count() == 0) return {};
  const auto residue_graph = in.atom_graph.index_select(0, in.residue_anchor);
  return pooling_->partial_sums(context.residue_tokens, in.residue_domain, residue_graph, in.graph_count,
                                shift);
}

PooledTokens HemePLMImpl::pool(const PoolingPartials& complete) {
  if (!complete.sum_exp.defined()) return {};
  return pooling_->finish(complete);
}

torch::Tensor HemePLMImpl::time_conditioning(const torch::Tensor& diffusion_step,
                                             const torch::Tensor& known_frames) {
  if (diffusion_step.dim() != 2) return time_mlp_(diffusion_step);
  // Per-frame steps: the tokens are shared by all frames, so they see the mean conditioning of the
  // frames being generated (equal steps give exactly time_mlp(step)).
  const auto graphs = diffusion_step.size(0), frames = diffusion_step.size(1);
  const auto c = time_mlp_(diffusion_step.reshape({-1}));
  const auto per_frame = c.view({graphs, frames, c.size(1)});
  if (!known_frames.defined()) return per_frame.mean(1);
  const auto free = known_frames.to(torch::kBool).logical_not().nonzero().squeeze(1).to(c.device());
  return per_frame.index_select(1, free).mean(1);
}

std::pair<torch::Tensor, torch::Tensor> HemePLMImpl::attend(const TokenSet& ligand, const TokenSet& residues,
                                                            const TokenSet& extra_keys,
                                                            const torch::Tensor& c, std::int64_t graph_count,
                                                            const AttentionReducer& reduce) {
  auto ligand_tokens = ligand;
  auto residue_tokens = residues;
  for (const auto& module : *cross_attention_) {
    auto block = module->as<CrossAttentionBlock>();
    const auto out =
        reduce ? block->forward_partial(ligand_tokens, residue_tokens, c, graph_count, extra_keys, reduce)
               : block->forward(ligand_tokens, residue_tokens, c, graph_count, extra_keys);
    ligand_tokens.h = out.ligand;
    residue_tokens.h = out.residues;
  }
  return {ligand_tokens.h, residue_tokens.h};
}

torch::Tensor HemePLMImpl::adapt_context(const torch::Tensor& per_atom) {
  return context_adapter_(per_atom);
}

torch::Tensor HemePLMImpl::denoise_with_context(const HemePLMInput& in, const torch::Tensor& atom_context,
                                                const torch::Tensor& x_t) {
  TrajectoryInput trajectory;
  trajectory.molecule = molecule_input(in);
  trajectory.frame_times = in.frame_times;
  trajectory.known_frames = in.known_frames;
  trajectory.known_atoms = in.known_atoms;
  trajectory.x_given = in.x_given;
  return denoiser_->forward(trajectory, x_t, atom_context);
}

torch::Tensor HemePLMImpl::denoise(const HemePLMInput& in, const ContextEncoding& context,
                                   const PooledTokens& pooled, const torch::Tensor& x_t) {
  torch::Tensor atom_context;  // [N, denoiser hidden], undefined without context
  if (context.defined()) {
    const auto& s = context.atom_scalars;
    const auto residue_count = in.residue_count();
    const auto ligand = in.ligand_atom.defined() ? in.ligand_atom.to(torch::kBool).nonzero().squeeze(1)
                                                 : torch::empty({0}, in.atom_graph.options());
    TokenSet ligand_tokens{s.index_select(0, ligand),
                           in.context_positions.index_select(0, ligand),
                           in.atom_graph.index_select(0, ligand),
                           {}};
    TokenSet residue_tokens;
    if (residue_count > 0) {
      residue_tokens = {
          context.residue_tokens, context.anchors, in.atom_graph.index_select(0, in.residue_anchor), {}};
    }
    if (has_cross_attention() && residue_count > 0 && ligand.numel() > 0) {
      std::tie(ligand_tokens.h, residue_tokens.h) =
          attend(ligand_tokens, residue_tokens, pooled_key_tokens(pooled, in.context_positions),
                 time_conditioning(in.diffusion_step, in.known_frames), in.graph_count);
    }
    // Per atom: residue atoms get their (attended) residue token on top of their own scalars, ligand
    // atoms their attended token (which already carries their scalars through the residuals).
    auto per_atom = s;
    if (residue_count > 0) {
      const auto members = in.atom_residue.ge(0).nonzero().squeeze(1);
      per_atom = per_atom.index_add(
          0, members, residue_tokens.h.index_select(0, in.atom_residue.index_select(0, members)));
    }
    if (ligand.numel() > 0) per_atom = per_atom.index_copy(0, ligand, ligand_tokens.h);
    atom_context = context_adapter_(per_atom);
  }
  return denoise_with_context(in, atom_context, x_t);
}

torch::Tensor HemePLMImpl::forward(const HemePLMInput& in, const torch::Tensor& x_t) {
  const auto context = encode(in);
  return denoise(in, context, pool(pooling_partials(in, context)), x_t);
}

torch::Tensor HemePLMImpl::denoise_conformer(const HemePLMInput& in, const torch::Tensor& x_t) {
  return denoiser_->forward_conformer(molecule_input(in), x_t);
}

EnergyForces HemePLMImpl::energy_and_forces(const AtomGraph& graph, bool create_graph) {
  return energy_model_->energy_and_forces(graph, create_graph);
}

torch::Tensor HemePLMImpl::residue_energies(const AtomGraph& graph, const torch::Tensor& residue_index,
                                            std::int64_t residue_count) {
  return energy_model_->residue_energies(graph, residue_index, residue_count);
}

torch::Tensor HemePLMImpl::properties_standardised(const AtomGraph& graph) {
  if (!property_heads_) throw UsageError("this model has no property heads (model.property_heads is empty)");
  // The energy model's backbone: properties and energies share one ViSNet.
  const auto features = energy_model_->backbone()->forward(graph);
  return property_heads_->standardised(features, graph.batch, graph.graph_count);
}

torch::Tensor HemePLMImpl::properties(const AtomGraph& graph) {
  return property_heads_->to_physical(properties_standardised(graph));
}

void HemePLMImpl::set_property_standardization(const std::vector<std::pair<double, double>>& statistics) {
  if (!property_heads_) throw UsageError("this model has no property heads (model.property_heads is empty)");
  property_heads_->set_standardization(statistics);
}

std::vector<std::pair<double, double>> HemePLMImpl::property_standardization() const {
  return property_heads_ ? property_heads_->standardization() : std::vector<std::pair<double, double>>{};
}

std::vector<std::string> HemePLMImpl::property_names() const {
  return property_heads_ ? property_heads_->names() : std::vector<std::string>{};
}

void HemePLMImpl::freeze_spatial() {
  denoiser_->freeze_spatial();
}

std::vector<ModuleParameterCount> count_parameters(const HemePLMConfig& config) {
  HemePLM model(config);
  model->freeze_spatial();
  std::vector<ModuleParameterCount> counts;
  for (const auto& child : model->named_children()) {
    ModuleParameterCount count{child.key(), 0, 0};
    for (const auto& p : child.value()->parameters()) {
      count.parameters += p.numel();
      if (p.requires_grad()) count.trainable_in_stage2 += p.numel();
    }
    counts.push_back(count);
  }
  return counts;
}

}  // namespace hemeplm::model
