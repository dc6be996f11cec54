// ViSNet backbone (embedding + ViS-MP layers) and EnergyModel (backbone + head + standardisation) giving
// per-graph and per-residue energies and forces (model-spec.md (a)). Configurations: config.cpp.
#include <torch/autograd.h>
#include <torch/nn/init.h>
#include <torch/types.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/model/visnet.hpp"

namespace hemeplm::model {

ViSNetImpl::ViSNetImpl(const ViSNetConfig& config) : config_(config) {
  config_.validate();
  const auto h = config_.hidden;
  rbf_ = register_module("rbf", ExpNormalRBF(config_.cutoff, config_.num_rbf));
  embedding_ = register_module("embedding", torch::nn::Embedding(config_.max_z, h));
  neighbor_embedding_ = register_module("neighbor_embedding", NeighborEmbedding(config_));
  edge_embedding_ = register_module("edge_embedding", torch::nn::Linear(config_.num_rbf, h));
  for (std::int64_t l = 0; l < config_.layers; ++l) {
    layers_.push_back(
        register_module("layer" + std::to_string(l), VisMPLayer(config_, l + 1 == config_.layers)));
  }
  out_norm_ = register_module("out_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
  reset_parameters();
}

void ViSNetImpl::reset_parameters() {
  rbf_->reset_parameters();
  embedding_->reset_parameters();
  neighbor_embedding_->reset_parameters();
  torch::nn::init::xavier_uniform_(edge_embedding_->weight);
  torch::nn::init::zeros_(edge_embedding_->bias);
  for (auto& layer : layers_) layer->reset_parameters();
  out_norm_->reset_parameters();
}

ViSNetOutput ViSNetImpl::forward(const AtomGraph& graph) {
  const auto& pos = graph.positions;
  const auto n = graph.atom_count();
  const auto& z = graph.atomic_numbers;

  // Geometry of the caller's (non-self) edges: d_ij = pos[src] - pos[dst] (+ periodic shift).
  auto vec = pos.index_select(0, graph.edge_src) - pos.index_select(0, graph.edge_dst);
  if (graph.edge_shift.defined()) vec = vec + graph.edge_shift;
  const auto r = vec.norm(2, 1);
  const auto rbf = rbf_(r);
  const auto cut = cosine_cutoff(r, config_.cutoff);

  auto x = neighbor_embedding_(z, embedding_(z), graph.edge_src, graph.edge_dst, rbf, cut);

  // Append the self-loops radius_graph(loop=True) has. Their r = 0 and Y = 0 are constants, built without
  // normalising a zero vector, so no NaN reaches the (double) backward.
  const auto loops = torch::arange(n, graph.edge_src.options());
  const auto zeros_n = torch::zeros({n}, pos.options());
  ViSNetEdges edges;
  edges.src = torch::cat({graph.edge_src, loops});
  edges.dst = torch::cat({graph.edge_dst, loops});
  const auto r_all = torch::cat({r, zeros_n});
  const auto unit = torch::cat({vec / r.unsqueeze(1), torch::zeros({n, 3}, pos.options())});
  edges.cut = cosine_cutoff(r_all, config_.cutoff);
  edges.harmonics = spherical_harmonics(unit, config_.lmax);
  const auto rbf_all = rbf_(r_all);

  ViSNetState state;
  state.f = (x.index_select(0, edges.dst) + x.index_select(0, edges.src)) * edge_embedding_(rbf_all);
  state.x = x;
  state.v = torch::zeros({n, config_.vector_components(), config_.hidden}, x.options());
  std::int64_t edge_chunk = 0;
  if (!torch::GradMode::is_enabled() && inference_block_elements_ > 0) {
    edge_chunk =
        std::max<std::int64_t>(1, inference_block_elements_ / (config_.vector_components() * config_.hidden));
  }
  for (auto& layer : layers_) state = layer(state, edges, edge_chunk);

  // Final norms; VecLN is the identity for vecnorm_type = 'none'.
  return {out_norm_(state.x), state.v};
}

EnergyModelImpl::EnergyModelImpl(const ViSNetConfig& config) {
  backbone_ = register_module("backbone", ViSNet(config));
  head_ = register_module("head", EquivariantScalar(config.hidden));
  mean_ = register_buffer("mean", torch::zeros({}));
  std_ = register_buffer("std", torch::ones({}));
}

void EnergyModelImpl::reset_parameters() {
  backbone_->reset_parameters();
  head_->reset_parameters();
}

void EnergyModelImpl::set_standardization(double mean, double std) {
  torch::NoGradGuard no_grad;
  mean_.fill_(mean);
  std_.fill_(std);
}

torch::Tensor EnergyModelImpl::atom_energies(const AtomGraph& graph) {
  const auto features = backbone_(graph);
  return head_(features.x, features.v) * std_;
}

torch::Tensor EnergyModelImpl::forward(const AtomGraph& graph) {
  const auto e = atom_energies(graph);
  return torch::zeros({graph.graph_count}, e.options()).index_add(0, graph.batch, e) + mean_;
}

torch::Tensor EnergyModelImpl::residue_energies(const AtomGraph& graph, const torch::Tensor& residue_index,
                                                std::int64_t residue_count) {
  const auto e = atom_energies(graph);
  return torch::zeros({residue_count}, e.options()).index_add(0, residue_index, e);
}

EnergyForces EnergyModelImpl::energy_and_forces(const AtomGraph& graph, bool create_graph) {
  EnergyForces out;
  out.energy = forward(graph);
  // Graphs are independent, so the gradient of the summed energy gives every graph's forces at once.
  const auto grads = torch::autograd::grad({out.energy.sum()}, {graph.positions}, /*grad_outputs=*/{},
                                           /*retain_graph=*/create_graph, /*create_graph=*/create_graph);
  out.forces = -grads[0];
  return out;
}

}  // namespace hemeplm::model
