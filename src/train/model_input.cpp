// System -> HemePLMInput (see model_input.hpp for what each field holds and why).
#include "hemeplm/train/model_input.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hemeplm/core/bond_graph.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/features.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/domains.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"

namespace hemeplm::train {
namespace {

const auto kIndex = torch::TensorOptions().dtype(torch::kInt64);

/// Chain ids as the embedding tables store them: blanks around them carry no meaning.
std::string trim_blanks(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

torch::Tensor index_tensor(const std::vector<std::int64_t>& values) {
  return torch::tensor(torch::ArrayRef<std::int64_t>(values), kIndex);
}

/// Anchor atom of a residue token, or -1 when the residue is not a token.
int token_anchor(const System& system, const Residue& residue) {
  const int end = residue.first_atom + residue.atom_count;
  if (residue.kind == ResidueKind::kAminoAcid) {
    for (int a = residue.first_atom; a < end; ++a) {
      if (system.atom_names[a] == "CA" && system.atomic_numbers[a] == 6) return a;
    }
    return -1;
  }
  if (residue.kind == ResidueKind::kCofactor) {
    for (int a = residue.first_atom; a < end; ++a) {
      if (is_metal(system.atomic_numbers[a])) return a;
    }
  }
  return -1;
}

struct ResidueTokens {
  std::vector<std::int64_t> atom_residue;  // per atom
  std::vector<std::int64_t> type, anchor, system_residue;
  std::vector<bool> ligand;  // per atom
};

ResidueTokens residue_tokens(const System& system) {
  ResidueTokens t;
  const int n = system.atom_count();
  t.atom_residue.assign(n, -1);
  t.ligand.assign(n, false);
  std::vector<bool> ligand_residue(system.residue_count(), false);
  for (int m : system.ligand_molecules()) {
    for (int r : system.molecules[m].residues) ligand_residue[r] = true;
  }
  for (int r = 0; r < system.residue_count(); ++r) {
    const Residue& residue = system.residues[r];
    const int end = residue.first_atom + residue.atom_count;
    if (ligand_residue[r]) {
      for (int a = residue.first_atom; a < end; ++a) t.ligand[a] = true;
      continue;
    }
    const int anchor = token_anchor(system, residue);
    if (anchor < 0) continue;
    const auto token = static_cast<std::int64_t>(t.type.size());
    t.type.push_back(residue.kind == ResidueKind::kAminoAcid ? residue_type_index(residue.name)
                                                             : kOtherResidueType);
    t.anchor.push_back(anchor);
    t.system_residue.push_back(r);
    for (int a = residue.first_atom; a < end; ++a) t.atom_residue[a] = token;
  }
  return t;
}

/// Domain of every token: METIS on the pooled residues with at most as many domains as residues.
std::vector<std::int64_t> token_domains(const System& system, const ResidueTokens& tokens, int domains) {
  std::vector<std::int64_t> out(tokens.type.size(), -1);
  if (domains == 0 || tokens.type.empty()) return out;
  int pooled = 0;
  for (const Residue& r : system.residues) {
    pooled += r.kind == ResidueKind::kAminoAcid || r.kind == ResidueKind::kCap ||
              r.kind == ResidueKind::kNucleic || r.kind == ResidueKind::kCofactor;
  }
  decomposition::DomainOptions options;
  options.count = std::min(domains, pooled);
  if (options.count < 1) return out;
  const decomposition::DomainMap map = decomposition::partition_domains(system, options);
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = map.residue_domain[tokens.system_residue[k]];
  return out;
}

/// [R, E] table rows of the tokens' residues by (chain, author number, insertion): a missing amino acid is
/// an error (its vector would silently be zero), a missing cofactor gets zeros (PLMs see no hemes).
torch::Tensor residue_embedding_rows(const System& system, const ResidueTokens& tokens,
                                     const parallel_io::ResidueEmbeddingTable& table,
                                     torch::ScalarType dtype) {
  const auto count = static_cast<std::int64_t>(tokens.system_residue.size());
  auto out = torch::zeros({count, table.width()}, torch::kFloat32);
  auto* row = out.data_ptr<float>();
  for (std::int64_t k = 0; k < count; ++k, row += table.width()) {
    const Residue& residue = system.residues[static_cast<std::size_t>(tokens.system_residue[k])];
    parallel_io::ResidueKey key;
    if (residue.chain >= 0) key.chain = trim_blanks(system.chains[residue.chain].name);
    key.number = residue.seq;
    key.insertion = residue.insertion;
    const Span<const float> values = table.find(key);
    if (!values.empty()) {
      std::copy(values.begin(), values.end(), row);
    } else if (residue.kind == ResidueKind::kAminoAcid) {
      throw UsageError("residue " + key.to_string() + " (" + residue.name + ") is not in " + table.path() +
                       ": the residue embeddings must cover every amino acid of the structure, keyed by "
                       "chain and author residue number (" +
                       std::to_string(table.size()) + " residues there)");
    }
  }
  return out.to(dtype);
}

torch::Tensor features_tensor(const System& system, torch::ScalarType dtype) {
  const std::int64_t n = system.atom_count();
  if (system.features.size() == static_cast<std::size_t>(n) * kAtomFeatureCount) {
    // from_blob does not own (or write) the System's buffer: the copy below does.
    auto view = torch::from_blob(const_cast<float*>(system.features.data()), {n, kAtomFeatureCount},
                                 torch::TensorOptions().dtype(torch::kFloat32));
    return view.to(dtype, /*non_blocking=*/false, /*copy=*/true);
  }
  System copy = system;
  featurize(copy);
  return features_tensor(copy, dtype);
}

torch::Tensor positions_tensor(Span<const Vec3> positions, torch::ScalarType dtype) {
  auto out = torch::empty({static_cast<std::int64_t>(positions.size()), 3}, torch::kFloat64);
  auto* p = out.data_ptr<double>();
  for (const Vec3& v : positions) *p++ = v.x, *p++ = v.y, *p++ = v.z;
  return out.to(dtype);
}

}  // namespace

int residue_type_index(const std::string& residue_name) {
  static constexpr std::array<std::string_view, 20> kCanonical = {
      "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE",
      "LEU", "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL"};
  const std::string_view name = standard_amino_acid(residue_name);
  const auto it = std::find(kCanonical.begin(), kCanonical.end(), name);
  return it == kCanonical.end() ? kOtherResidueType : static_cast<int>(it - kCanonical.begin());
}

void set_context(model::HemePLMInput& input, Span<const Vec3> positions, const std::optional<Box>& box,
                 double cutoff) {
  if (!(cutoff > 0)) throw UsageError("model input: the radius-graph cutoff must be > 0 Å");
  if (input.atomic_numbers.defined() && static_cast<std::int64_t>(positions.size()) != input.atom_count()) {
    throw UsageError("model input: " + std::to_string(positions.size()) + " context positions for " +
                     std::to_string(input.atom_count()) + " atoms");
  }
  const auto dtype = input.atom_features.defined() ? input.atom_features.scalar_type() : torch::kFloat32;
  const decomposition::NeighborList list = decomposition::find_neighbors(positions, cutoff, box);
  const std::int64_t edges = list.edge_count();
  auto src = torch::empty({edges}, kIndex);
  auto dst = torch::empty({edges}, kIndex);
  auto* s = src.data_ptr<std::int64_t>();
  auto* d = dst.data_ptr<std::int64_t>();
  for (int i = 0; i < list.atom_count(); ++i) {
    for (std::int64_t e = list.offsets[i]; e < list.offsets[i + 1]; ++e) {
      // Neighbour j of i is a message j -> i: src = j, dst = i (AtomGraph's flow convention).
      s[e] = list.neighbors[e];
      d[e] = i;
    }
  }
  input.context_positions = positions_tensor(positions, dtype);
  input.radius_src = src;
  input.radius_dst = dst;
  input.radius_shift = torch::Tensor();
  if (box && !list.images.empty()) {
    // list.displacement(i -> j) = pos[j] + n.L - pos[i] and the model's vector is pos[src] - pos[dst] +
    // shift with src = j, dst = i: the shift is n.L itself.
    auto shift = torch::empty({edges, 3}, torch::kFloat64);
    auto* p = shift.data_ptr<double>();
    for (std::int64_t e = 0; e < edges; ++e) {
      const auto& n = list.images[e];
      for (int k = 0; k < 3; ++k) {
        *p++ = n[0] * box->vectors[0][k] + n[1] * box->vectors[1][k] + n[2] * box->vectors[2][k];
      }
    }
    input.radius_shift = shift.to(dtype);
  }
}

model::HemePLMInput make_model_input(const System& system, const torch::Tensor& x_given,
                                     const ModelInputOptions& options) {
  const std::int64_t n = system.atom_count();
  if (options.domains < 0)
    throw UsageError("model input: domains must be >= 0, got " + std::to_string(options.domains));
  if (!c10::isFloatingType(options.dtype)) throw UsageError("model input: dtype must be a floating type");
  for (int a = 0; a < n; ++a) {
    if (system.atomic_numbers[a] < 1 || system.atomic_numbers[a] >= 100) {
      throw UsageError("model input: " + system.describe_atom(a) + " has atomic number " +
                       std::to_string(system.atomic_numbers[a]) + ", the model embeds 1..99");
    }
  }
  torch::Tensor frames;
  if (x_given.defined()) {
    if (x_given.dim() != 3 || x_given.size(0) != n || x_given.size(2) != 3 || x_given.size(1) < 1) {
      throw UsageError("model input: x_given must be [" + std::to_string(n) +
                       ", T, 3] (atoms, frames, xyz), got " + std::string(c10::str(x_given.sizes())));
    }
    if (!c10::isFloatingType(x_given.scalar_type()))
      throw UsageError("model input: x_given must be floating point");
    frames = x_given.to(options.dtype);
  } else {
    frames = positions_tensor(system.positions, options.dtype).unsqueeze(1);
  }

  model::HemePLMInput in;
  std::vector<std::int64_t> z(system.atomic_numbers.begin(), system.atomic_numbers.end());
  in.atomic_numbers = index_tensor(z);
  in.atom_features = features_tensor(system, options.dtype);
  in.atom_graph = torch::zeros({n}, kIndex);
  in.graph_count = 1;
  in.diffusion_step = torch::zeros({1}, kIndex);

  const BondGraph bonds = bond_hop_edges(system, options.max_hops);
  in.bond_src = index_tensor(bonds.src);
  in.bond_dst = index_tensor(bonds.dst);
  in.bond_type = index_tensor(bonds.type);

  if (options.with_context) set_context(in, system.positions, system.box, options.cutoff);

  const ResidueTokens tokens = residue_tokens(system);
  in.atom_residue = index_tensor(tokens.atom_residue);
  in.residue_type = index_tensor(tokens.type);
  in.residue_anchor = index_tensor(tokens.anchor);
  in.residue_domain = index_tensor(token_domains(system, tokens, options.domains));
  in.ligand_atom = torch::zeros({n}, torch::kBool);
  auto* ligand = in.ligand_atom.data_ptr<bool>();
  for (std::int64_t a = 0; a < n; ++a) ligand[a] = tokens.ligand[a];

  if (options.residue_embeddings)
    in.residue_embedding = residue_embedding_rows(system, tokens, *options.residue_embeddings, options.dtype);

  in.frame_times = torch::arange(frames.size(1), kIndex);
  in.x_given = frames;
  return in;
}

}  // namespace hemeplm::train
