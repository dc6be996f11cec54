#include "hemeplm/sample/fragment_input.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "hemeplm/core/error.hpp"

namespace hemeplm::sample {
namespace {

const auto kIndex = torch::TensorOptions().dtype(torch::kInt64);

std::vector<std::int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kInt64).contiguous();
  return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

torch::Tensor to_tensor(const std::vector<std::int64_t>& v) {
  return torch::tensor(v, kIndex).reshape({static_cast<std::int64_t>(v.size())});
}

}  // namespace

GlobalInput::GlobalInput(model::HemePLMInput input) : input_(std::move(input)) {
  const auto n = input_.atom_count();
  atom_residue_ =
      input_.atom_residue.defined() ? to_vector(input_.atom_residue) : std::vector<std::int64_t>(n, -1);
  residue_anchor_ =
      input_.residue_anchor.defined() ? to_vector(input_.residue_anchor) : std::vector<std::int64_t>{};
  residue_atom_count_.assign(residue_anchor_.size(), 0);
  for (const auto r : atom_residue_)
    if (r >= 0) ++residue_atom_count_[static_cast<std::size_t>(r)];
  if (input_.ligand_atom.defined()) {
    const auto flags = input_.ligand_atom.to(torch::kBool).contiguous();
    for (std::int64_t a = 0; a < n; ++a)
      if (flags.data_ptr<bool>()[a]) ligand_atoms_.push_back(a);
  }
  // Stable counting sort of the edges by source atom.
  const auto src = to_vector(input_.bond_src);
  edge_offsets_.assign(static_cast<std::size_t>(n) + 1, 0);
  for (const auto s : src) ++edge_offsets_[static_cast<std::size_t>(s) + 1];
  for (std::int64_t a = 0; a < n; ++a) edge_offsets_[a + 1] += edge_offsets_[a];
  edge_order_.resize(src.size());
  auto next = edge_offsets_;
  for (std::size_t e = 0; e < src.size(); ++e) edge_order_[next[src[e]]++] = static_cast<std::int64_t>(e);
}

FragmentInput restrict_to_fragment(const GlobalInput& global, const decomposition::Fragment& fragment) {
  FragmentInput out;
  out.fragment = fragment.id;
  std::vector<std::pair<std::int64_t, double>> members;  // (global atom, weight), core then buffer
  const auto& w = fragment.weights;
  std::size_t k = 0;
  for (const int a : fragment.core) members.emplace_back(a, k < w.size() ? w[k++] : 1.0);
  const auto core_count = members.size();
  for (const int a : fragment.buffer) members.emplace_back(a, k < w.size() ? w[k++] : 0.0);
  std::vector<char> is_core(members.size(), 0);
  std::fill(is_core.begin(), is_core.begin() + static_cast<std::ptrdiff_t>(core_count), 1);
  std::vector<std::size_t> order(members.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return members[a].first < members[b].first; });
  for (const auto i : order) {
    out.atoms.push_back(members[i].first);
    out.weights.push_back(members[i].second);
    out.core.push_back(is_core[i]);
  }
  const auto n = static_cast<std::int64_t>(out.atoms.size());
  const auto local_of = [&](std::int64_t g) -> std::int64_t {
    const auto it = std::lower_bound(out.atoms.begin(), out.atoms.end(), g);
    return it != out.atoms.end() && *it == g ? it - out.atoms.begin() : -1;
  };

  const auto& in = global.input();
  const auto index = to_tensor(out.atoms);
  model::HemePLMInput f;
  f.atomic_numbers = in.atomic_numbers.index_select(0, index);
  f.atom_features = in.atom_features.index_select(0, index);
  f.atom_graph = torch::zeros({n}, kIndex);
  f.graph_count = 1;
  f.diffusion_step = torch::zeros({1}, kIndex);
  f.ligand_atom =
      in.ligand_atom.defined() ? in.ligand_atom.index_select(0, index) : torch::zeros({n}, torch::kBool);

  // Global edges between fragment atoms, in global edge order per source atom.
  const auto dst = in.bond_dst.contiguous();
  const auto* dst_ptr = dst.data_ptr<std::int64_t>();
  std::vector<std::int64_t> edges, src_local, dst_local;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto g = out.atoms[static_cast<std::size_t>(i)];
    for (auto e = global.edge_offsets()[g]; e < global.edge_offsets()[g + 1]; ++e) {
      const auto edge = global.edge_order()[e];
      const auto j = local_of(dst_ptr[edge]);
      if (j < 0) continue;
      edges.push_back(edge);
      src_local.push_back(i);
      dst_local.push_back(j);
    }
  }
  f.bond_src = to_tensor(src_local);
  f.bond_dst = to_tensor(dst_local);
  f.bond_type = in.bond_type.index_select(0, to_tensor(edges));

  // Residue tokens anchored in the core; every atom of such a residue must be in the core too.
  std::vector<std::int64_t> atom_residue(static_cast<std::size_t>(n), -1), anchors;
  std::vector<std::int64_t> token_local(global.residue_anchor().size(), -1), held;
  for (std::size_t r = 0; r < global.residue_anchor().size(); ++r) {
    const auto anchor = local_of(global.residue_anchor()[r]);
    if (anchor < 0 || !out.core[static_cast<std::size_t>(anchor)]) continue;
    token_local[r] = static_cast<std::int64_t>(out.residues.size());
    out.residues.push_back(static_cast<std::int64_t>(r));
    anchors.push_back(anchor);
    held.push_back(0);
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const auto r = global.atom_residue()[static_cast<std::size_t>(out.atoms[static_cast<std::size_t>(i)])];
    if (r < 0 || token_local[static_cast<std::size_t>(r)] < 0 || !out.core[static_cast<std::size_t>(i)])
      continue;
    atom_residue[static_cast<std::size_t>(i)] = token_local[static_cast<std::size_t>(r)];
    ++held[static_cast<std::size_t>(token_local[static_cast<std::size_t>(r)])];
  }
  for (std::size_t t = 0; t < out.residues.size(); ++t) {
    const auto r = out.residues[t];
    if (held[t] != global.residue_atom_count()[static_cast<std::size_t>(r)]) {
      throw UsageError("fragment " + std::to_string(fragment.id) +
                       ": its core holds the anchor of residue token " + std::to_string(r) + " but only " +
                       std::to_string(held[t]) + " of its " +
                       std::to_string(global.residue_atom_count()[static_cast<std::size_t>(r)]) +
                       " atoms; cores must hold whole residues (make the plan with this System)");
    }
  }
  f.atom_residue = to_tensor(atom_residue);
  const auto tokens = to_tensor(out.residues);
  f.residue_type = in.residue_type.index_select(0, tokens);
  f.residue_anchor = to_tensor(anchors);
  f.residue_domain = in.residue_domain.index_select(0, tokens);
  if (in.residue_embedding.defined()) f.residue_embedding = in.residue_embedding.index_select(0, tokens);
  out.input = std::move(f);
  return out;
}

}  // namespace hemeplm::sample
