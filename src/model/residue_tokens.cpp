#include <stdexcept>

#include "hemeplm/model/cross_attention.hpp"

namespace hemeplm::model {

ResidueTokensImpl::ResidueTokensImpl(std::int64_t hidden) : hidden_(hidden) {
  type_embedding_ = register_module("type_embedding", torch::nn::Embedding(kResidueTypeCount, hidden));
  atom_projection_ = register_module("atom_projection", torch::nn::Linear(hidden, hidden));
}

void ResidueTokensImpl::reset_parameters() {
  type_embedding_->reset_parameters();
  atom_projection_->reset_parameters();
}

torch::Tensor ResidueTokensImpl::forward(const torch::Tensor& atom_scalars, const torch::Tensor& atom_residue,
                                         const torch::Tensor& residue_types) {
  if (atom_scalars.dim() != 2 || atom_scalars.size(1) != hidden_) {
    throw std::invalid_argument("ResidueTokens: atom_scalars must be [N, H]");
  }
  const std::int64_t residue_count = residue_types.size(0);

  // Segment mean with index_add_ (no torch_scatter in LibTorch); atoms outside residues are dropped
  // first so that -1 never reaches index_add_.
  const auto inside = atom_residue.ge(0).nonzero().squeeze(1);
  const auto index = atom_residue.index_select(0, inside);
  const auto values = atom_scalars.index_select(0, inside);
  auto sums = torch::zeros({residue_count, hidden_}, atom_scalars.options()).index_add_(0, index, values);
  auto counts = torch::zeros({residue_count}, atom_scalars.options())
                    .index_add_(0, index, torch::ones({index.size(0)}, atom_scalars.options()));
  const auto mean = sums / counts.clamp_min(1.0).unsqueeze(1);

  return type_embedding_(residue_types) + atom_projection_(mean);
}

torch::Tensor ResidueTokensImpl::anchors(const torch::Tensor& positions, const torch::Tensor& anchor_atom) {
  return positions.index_select(0, anchor_atom);
}

}  // namespace hemeplm::model
