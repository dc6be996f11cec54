#include "hemeplm/parallel_io/h5md.hpp"

namespace hemeplm::parallel_io {

AtomRange owned_atoms(int atom_count, int rank, int ranks) {
  const int base = atom_count / ranks, extra = atom_count % ranks;
  return {rank * base + (rank < extra ? rank : extra), base + (rank < extra ? 1 : 0)};
}

}  // namespace hemeplm::parallel_io
