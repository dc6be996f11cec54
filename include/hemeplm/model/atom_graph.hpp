// The input every model module shares: atoms of one or more graphs (fragments or whole systems)
// concatenated without padding, with directed edges built by the caller from the decomposition
// layer's cell lists. No N x N tensor anywhere: pairs only come in as edge lists.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace hemeplm::model {

/// PyG flow convention: for an edge e, src = j and dst = i, messages flow j -> i and are summed into i
/// with index_add_. Edges are within the cutoff and never self-loops; modules that need self-loops
/// (the ViSNet attention) add them themselves.
struct AtomGraph {
  torch::Tensor atomic_numbers;  ///< [N] int64
  torch::Tensor positions;       ///< [N, 3] float32 or float64, Å (requires_grad for forces)
  torch::Tensor edge_src;        ///< [E] int64
  torch::Tensor edge_dst;        ///< [E] int64
  torch::Tensor edge_shift;  ///< [E, 3] periodic image shift in Å added to pos[src] - pos[dst], or undefined
  torch::Tensor batch;       ///< [N] int64 graph index of each atom, ascending
  std::int64_t graph_count = 1;

  std::int64_t atom_count() const { return positions.size(0); }
  std::int64_t edge_count() const { return edge_src.numel(); }
};

}  // namespace hemeplm::model
