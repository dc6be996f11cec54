// HaloExchange: the per-neighbour row lists are built once (Alltoall + Alltoallv of ghost ids sent to their
// owners); each exchange then packs rows into one contiguous buffer per neighbour and uses Irecv/Isend.
#include "hemeplm/dist/halo_exchange.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/error.hpp"

namespace hemeplm::dist {
namespace {

// One tag suffices: the communicator is our own duplicate, MPI does not let messages between a pair of
// ranks overtake each other, and every exchange completes (Waitall) before it returns.
constexpr int kTag = 4242;

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  throw Error(
      std::string("HaloExchange: MPI error in ") + what + ": " +
      (length > 0 ? std::string(text, static_cast<std::size_t>(length)) : "code " + std::to_string(rc)));
}

// Makes a mistake seen by some ranks collective: the lowest rank with a message broadcasts it and every
// rank throws it, so no rank is left waiting in a later collective.
void throw_on_every_rank(MPI_Comm comm, int rank, int size, const std::string& message) {
  const int mine = message.empty() ? size : rank;
  int first = size;
  check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  if (first == size) return;
  int length = static_cast<int>(message.size());
  check(MPI_Bcast(&length, 1, MPI_INT, first, comm), "MPI_Bcast");
  std::string text = rank == first ? message : std::string(static_cast<std::size_t>(length), ' ');
  check(MPI_Bcast(text.data(), length, MPI_CHAR, first, comm), "MPI_Bcast");
  throw UsageError(text);
}

// The first problem with this rank's own arguments, or "" when there is none.
std::string check_layout(int rank, int size, const std::vector<std::int64_t>& atoms,
                         const std::vector<int>& owner) {
  const std::string prefix = "HaloExchange: rank " + std::to_string(rank) + ": ";
  if (atoms.size() != owner.size())
    return prefix + "local_atoms has " + std::to_string(atoms.size()) + " ids but owner has " +
           std::to_string(owner.size()) + " entries";
  if (atoms.size() > static_cast<std::size_t>(INT_MAX)) return prefix + "more than INT_MAX local atoms";
  for (std::size_t i = 0; i < atoms.size(); ++i) {
    if (i > 0 && atoms[i] <= atoms[i - 1])
      return prefix + "local_atoms is not ascending and unique: atom " + std::to_string(atoms[i]) +
             " follows atom " + std::to_string(atoms[i - 1]) + " at row " + std::to_string(i);
    if (owner[i] < 0 || owner[i] >= size)
      return prefix + "atom " + std::to_string(atoms[i]) + " has owner " + std::to_string(owner[i]) +
             ", not a rank of a " + std::to_string(size) + "-rank communicator";
  }
  return {};
}

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}

}  // namespace

HaloExchange::CommHandle::CommHandle(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  // Errors come back as return codes (turned into exceptions) instead of aborting the job.
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
}

HaloExchange::CommHandle::CommHandle(CommHandle&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)) {}

HaloExchange::CommHandle& HaloExchange::CommHandle::operator=(CommHandle&& other) noexcept {
  if (this != &other) {
    CommHandle old(std::move(*this));  // frees our current communicator on scope exit
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
  }
  return *this;
}

HaloExchange::CommHandle::~CommHandle() {
  int finalized = 0;
  MPI_Finalized(&finalized);  // freeing after MPI_Finalize is erroneous; the handle is gone anyway
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

HaloExchange::HaloExchange(MPI_Comm comm, std::vector<std::int64_t> local_atoms, std::vector<int> owner)
    : comm_(comm), local_atoms_(std::move(local_atoms)), owner_(std::move(owner)) {
  check(MPI_Comm_rank(comm_.get(), &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_.get(), &size_), "MPI_Comm_size");
  throw_on_every_rank(comm_.get(), rank_, size_, check_layout(rank_, size_, local_atoms_, owner_));

  // Ask each owner for our ghosts of its atoms: ids grouped by owner, ascending within a group.
  std::vector<int> ask_count(static_cast<std::size_t>(size_), 0);
  for (const int o : owner_)
    if (o != rank_) ++ask_count[static_cast<std::size_t>(o)];
  std::vector<int> ask_displ(static_cast<std::size_t>(size_), 0);
  for (int p = 1; p < size_; ++p) ask_displ[p] = ask_displ[p - 1] + ask_count[p - 1];
  std::vector<Neighbour> by_rank(static_cast<std::size_t>(size_));
  std::vector<std::int64_t> asked(static_cast<std::size_t>(std::max(1, static_cast<int>(ghost_count()))));
  for (std::size_t i = 0; i < owner_.size(); ++i) {
    const int o = owner_[i];
    if (o == rank_) continue;
    Neighbour& n = by_rank[static_cast<std::size_t>(o)];
    asked[static_cast<std::size_t>(ask_displ[o]) + n.recv_rows.size()] = local_atoms_[i];
    n.recv_rows.push_back(static_cast<int>(i));
  }
  std::vector<int> give_count(static_cast<std::size_t>(size_), 0);
  check(MPI_Alltoall(ask_count.data(), 1, MPI_INT, give_count.data(), 1, MPI_INT, comm_.get()),
        "MPI_Alltoall");
  std::vector<int> give_displ(static_cast<std::size_t>(size_), 0);
  std::int64_t give_total = 0;
  for (int p = 0; p < size_; ++p) {
    give_displ[p] = static_cast<int>(std::min<std::int64_t>(give_total, INT_MAX));
    give_total += give_count[p];
  }
  // Alltoallv displacements are int: agree on the error rather than let one rank bail out alone.
  throw_on_every_rank(comm_.get(), rank_, size_,
                      give_total > INT_MAX ? "HaloExchange: rank " + std::to_string(rank_) +
                                                 " is asked for more than INT_MAX ghost rows"
                                           : std::string());
  std::vector<std::int64_t> given(static_cast<std::size_t>(std::max<std::int64_t>(1, give_total)));
  check(MPI_Alltoallv(asked.data(), ask_count.data(), ask_displ.data(), MPI_INT64_T, given.data(),
                      give_count.data(), give_displ.data(), MPI_INT64_T, comm_.get()),
        "MPI_Alltoallv");

  // Each requested id must be an atom we own; otherwise the layouts of two ranks disagree.
  std::string problem;
  for (int p = 0; p < size_ && problem.empty(); ++p) {
    for (int k = 0; k < give_count[p]; ++k) {
      const std::int64_t id = given[static_cast<std::size_t>(give_displ[p] + k)];
      const auto it = std::lower_bound(local_atoms_.begin(), local_atoms_.end(), id);
      const bool held = it != local_atoms_.end() && *it == id;
      const int row = static_cast<int>(it - local_atoms_.begin());
      if (!held || owner_[static_cast<std::size_t>(row)] != rank_) {
        problem = "HaloExchange: rank " + std::to_string(p) + " holds atom " + std::to_string(id) +
                  " as a ghost owned by rank " + std::to_string(rank_) + ", but rank " +
                  std::to_string(rank_) +
                  (held ? " holds it as a ghost owned by rank " +
                              std::to_string(owner_[static_cast<std::size_t>(row)])
                        : " does not hold it");
        break;
      }
      by_rank[static_cast<std::size_t>(p)].send_rows.push_back(row);
    }
  }
  throw_on_every_rank(comm_.get(), rank_, size_, problem);

  for (int p = 0; p < size_; ++p) {
    Neighbour& n = by_rank[static_cast<std::size_t>(p)];
    if (n.send_rows.empty() && n.recv_rows.empty()) continue;
    n.rank = p;
    neighbours_.push_back(std::move(n));
  }
}

HaloExchange::~HaloExchange() = default;
HaloExchange::HaloExchange(HaloExchange&&) noexcept = default;
HaloExchange& HaloExchange::operator=(HaloExchange&&) noexcept = default;

std::vector<int> HaloExchange::owned_rows() const {
  std::vector<int> rows;
  for (std::size_t i = 0; i < owner_.size(); ++i)
    if (owner_[i] == rank_) rows.push_back(static_cast<int>(i));
  return rows;
}

std::vector<int> HaloExchange::ghost_rows() const {
  std::vector<int> rows;
  for (std::size_t i = 0; i < owner_.size(); ++i)
    if (owner_[i] != rank_) rows.push_back(static_cast<int>(i));
  return rows;
}

std::int64_t HaloExchange::ghost_count() const {
  return static_cast<std::int64_t>(
      std::count_if(owner_.begin(), owner_.end(), [&](int o) { return o != rank_; }));
}

std::int64_t HaloExchange::sent_rows_per_forward() const {
  std::int64_t rows = 0;
  for (const Neighbour& n : neighbours_) rows += static_cast<std::int64_t>(n.send_rows.size());
  return rows;
}

void HaloExchange::forward(Span<double> values, int width) const {
  exchange(values, width, false);
}
void HaloExchange::forward(Span<float> values, int width) const {
  exchange(values, width, false);
}
void HaloExchange::reverse_add(Span<double> values, int width) const {
  exchange(values, width, true);
}
void HaloExchange::reverse_add(Span<float> values, int width) const {
  exchange(values, width, true);
}

template <class T>
void HaloExchange::exchange(Span<T> values, int width, bool reverse) const {
  const char* name = reverse ? "HaloExchange::reverse_add" : "HaloExchange::forward";
  if (width <= 0)
    throw UsageError(std::string(name) + ": width " + std::to_string(width) + " is not positive");
  const std::size_t w = static_cast<std::size_t>(width);
  if (values.size() != local_atoms_.size() * w)
    throw UsageError(std::string(name) + ": " + std::to_string(values.size()) + " values, expected " +
                     std::to_string(local_atoms_.size()) + " atoms x width " + std::to_string(width));

  // reverse_add() sends what forward() receives and vice versa.
  const auto out_rows = [&](const Neighbour& n) -> const std::vector<int>& {
    return reverse ? n.recv_rows : n.send_rows;
  };
  const auto in_rows = [&](const Neighbour& n) -> const std::vector<int>& {
    return reverse ? n.send_rows : n.recv_rows;
  };
  const std::size_t count = neighbours_.size();
  std::vector<std::size_t> out_offset(count + 1, 0), in_offset(count + 1, 0);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t out = out_rows(neighbours_[k]).size() * w, in = in_rows(neighbours_[k]).size() * w;
    if (out > static_cast<std::size_t>(INT_MAX) || in > static_cast<std::size_t>(INT_MAX))
      throw UsageError(std::string(name) + ": a message to or from rank " +
                       std::to_string(neighbours_[k].rank) + " exceeds INT_MAX values; use a smaller width");
    out_offset[k + 1] = out_offset[k] + out;
    in_offset[k + 1] = in_offset[k] + in;
  }
  std::vector<T> out_buffer(out_offset[count]), in_buffer(in_offset[count]);
  for (std::size_t k = 0; k < count; ++k) {
    T* dst = out_buffer.data() + out_offset[k];
    for (const int row : out_rows(neighbours_[k]))
      dst = std::copy_n(values.data() + static_cast<std::size_t>(row) * w, w, dst);
  }

  // Receives first, so that sends can complete without unexpected-message buffering.
  std::vector<MPI_Request> requests;
  requests.reserve(2 * count);
  const MPI_Datatype type = mpi_type<T>();
  for (std::size_t k = 0; k < count; ++k) {
    const int n = static_cast<int>(in_offset[k + 1] - in_offset[k]);
    if (n == 0) continue;
    requests.emplace_back();
    check(MPI_Irecv(in_buffer.data() + in_offset[k], n, type, neighbours_[k].rank, kTag, comm_.get(),
                    &requests.back()),
          "MPI_Irecv");
  }
  for (std::size_t k = 0; k < count; ++k) {
    const int n = static_cast<int>(out_offset[k + 1] - out_offset[k]);
    if (n == 0) continue;
    requests.emplace_back();
    check(MPI_Isend(out_buffer.data() + out_offset[k], n, type, neighbours_[k].rank, kTag, comm_.get(),
                    &requests.back()),
          "MPI_Isend");
  }
  check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");

  // Neighbours are in ascending rank order, so reverse_add() sums in a fixed order on every run.
  for (std::size_t k = 0; k < count; ++k) {
    const T* src = in_buffer.data() + in_offset[k];
    for (const int row : in_rows(neighbours_[k])) {
      T* dst = values.data() + static_cast<std::size_t>(row) * w;
      for (std::size_t c = 0; c < w; ++c, ++src) dst[c] = reverse ? dst[c] + *src : *src;
    }
  }
}

}  // namespace hemeplm::dist
