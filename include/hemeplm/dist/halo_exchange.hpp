// Point-to-point halo exchange over MPI for the domain-decomposed sampler: every atom is owned by exactly
// one rank, other ranks may hold copies ("ghosts") of it. forward() copies owners' rows onto ghosts;
// reverse_add() sums ghosts' rows back into their owners' rows. Torch-free: plain host arrays.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <vector>

#include "hemeplm/core/span.hpp"

namespace hemeplm::dist {

/// Point-to-point exchange between ranks that hold copies ("ghosts") of atoms owned by other ranks, as
/// the decomposed sampler needs: every atom is owned by exactly one rank; other ranks may hold ghosts.
/// forward() and reverse_add() are collective over the ranks that exchange with each other: every rank
/// calls them in the same order with the same width.
class HaloExchange {
 public:
  /// Collective over `comm` (duplicated internally, freed in the destructor; errors returned, not aborting).
  /// local_atoms: ascending, unique global ids of the atoms this rank holds (owned and ghosts);
  /// owner[i]: rank owning local_atoms[i] (== this rank for owned atoms). Builds, once, per neighbour rank
  /// the list of local rows to send and to receive (MPI_Alltoall of counts + MPI_Alltoallv of ids).
  /// UsageError (thrown on every rank, naming the global atom id and the ranks) when a ghost's owner
  /// does not hold that atom as owned, when sizes differ, ids are not ascending/unique, or owner is out of
  /// range. MPI failures become hemeplm::Error with MPI_Error_string's text.
  HaloExchange(MPI_Comm comm, std::vector<std::int64_t> local_atoms, std::vector<int> owner);
  ~HaloExchange();
  HaloExchange(const HaloExchange&) = delete;
  HaloExchange& operator=(const HaloExchange&) = delete;
  HaloExchange(HaloExchange&& other) noexcept;
  HaloExchange& operator=(HaloExchange&& other) noexcept;

  /// values: local_atoms().size() * width row-major. Ghost rows are overwritten with the owner's row.
  /// UsageError for width <= 0 or a size mismatch.
  void forward(Span<double> values, int width) const;
  void forward(Span<float> values, int width) const;
  /// Each ghost row is sent to its owner and added to the owner's row; contributions are added in
  /// ascending sender-rank order (deterministic). Ghost rows are left unchanged.
  void reverse_add(Span<double> values, int width) const;
  void reverse_add(Span<float> values, int width) const;

  const std::vector<std::int64_t>& local_atoms() const { return local_atoms_; }
  const std::vector<int>& owner() const { return owner_; }
  std::vector<int> owned_rows() const;  ///< local row indices of owned atoms, ascending
  std::vector<int> ghost_rows() const;  ///< local row indices of ghosts, ascending
  int neighbour_count() const { return static_cast<int>(neighbours_.size()); }  ///< ranks exchanged with
  std::int64_t ghost_count() const;
  std::int64_t sent_rows_per_forward() const;  ///< rows this rank sends in forward()

 private:
  // One rank this rank exchanges with. Forward: send_rows (owned rows the neighbour holds as ghosts, in
  // ascending global id) go out, recv_rows (ghost rows owned by the neighbour, ascending) come in;
  // reverse_add() runs the same lists the other way.
  struct Neighbour {
    int rank = 0;
    std::vector<int> send_rows;
    std::vector<int> recv_rows;
  };

  // Owns the duplicated communicator, so that it is freed also when the constructor throws.
  class CommHandle {
   public:
    explicit CommHandle(MPI_Comm comm);
    CommHandle(CommHandle&& other) noexcept;
    CommHandle& operator=(CommHandle&& other) noexcept;
    ~CommHandle();
    MPI_Comm get() const { return comm_; }

   private:
    MPI_Comm comm_ = MPI_COMM_NULL;  // MPI_COMM_NULL once moved from
  };

  template <class T>
  void exchange(Span<T> values, int width, bool reverse) const;

  CommHandle comm_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<std::int64_t> local_atoms_;
  std::vector<int> owner_;
  std::vector<Neighbour> neighbours_;  // ascending rank
};

}  // namespace hemeplm::dist
