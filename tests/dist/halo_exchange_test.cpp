// HaloExchange against layouts whose results are known analytically. Every rank constructs and exchanges
// in every test (no ASSERT before a collective call), so a failure on one rank cannot hang the others.
#include "hemeplm/dist/halo_exchange.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "world.hpp"

namespace hemeplm::dist {
namespace {

// The synthetic system: kAtoms atoms in contiguous blocks over `size` ranks; each rank also holds as
// ghosts the atoms within kHalo ids outside either end of its block (no wrapping).
constexpr std::int64_t kAtoms = 50;
constexpr std::int64_t kHalo = 3;

std::int64_t block_begin(int rank, int size) {
  return kAtoms * rank / size;
}

int owner_of(std::int64_t id, int size) {
  int r = 0;
  while (id >= block_begin(r + 1, size)) ++r;
  return r;
}

struct Layout {
  std::vector<std::int64_t> atoms;
  std::vector<int> owner;
};

Layout layout_of(int rank, int size) {
  Layout l;
  const std::int64_t begin = std::max<std::int64_t>(0, block_begin(rank, size) - kHalo);
  const std::int64_t end = std::min<std::int64_t>(kAtoms, block_begin(rank + 1, size) + kHalo);
  for (std::int64_t id = begin; id < end; ++id) {
    l.atoms.push_back(id);
    l.owner.push_back(owner_of(id, size));
  }
  return l;
}

bool holds(int rank, int size, std::int64_t id) {
  const Layout l = layout_of(rank, size);
  return std::find(l.atoms.begin(), l.atoms.end(), id) != l.atoms.end();
}

// The owner's value of atom `id` in column c, and the contribution of a ghost of it on `rank`: small
// integers, so float sums are exact and any ordering gives the same result.
double owned_value(std::int64_t id, int c) {
  return 1000.0 * static_cast<double>(id) + c + 1;
}
double ghost_value(int rank, std::int64_t id, int c) {
  return 100000.0 * (rank + 1) + 10.0 * static_cast<double>(id) + c;
}

template <class T>
void expect_forward(int width) {
  const World world;
  const Layout l = layout_of(world.rank, world.size);
  const HaloExchange halo(MPI_COMM_WORLD, l.atoms, l.owner);
  std::vector<T> values(l.atoms.size() * static_cast<std::size_t>(width));
  for (std::size_t i = 0; i < l.atoms.size(); ++i)
    for (int c = 0; c < width; ++c)
      values[i * width + c] = l.owner[i] == world.rank ? static_cast<T>(owned_value(l.atoms[i], c)) : T(-1);
  halo.forward(Span<T>(values), width);
  int wrong = 0;
  for (std::size_t i = 0; i < l.atoms.size(); ++i)
    for (int c = 0; c < width; ++c)
      if (values[i * width + c] != static_cast<T>(owned_value(l.atoms[i], c))) ++wrong;
  EXPECT_EQ(wrong, 0) << "rows differing from the owner's, rank " << world.rank << " of " << world.size;
}

template <class T>
void expect_reverse_add(int width) {
  const World world;
  const Layout l = layout_of(world.rank, world.size);
  const HaloExchange halo(MPI_COMM_WORLD, l.atoms, l.owner);
  std::vector<T> values(l.atoms.size() * static_cast<std::size_t>(width));
  for (std::size_t i = 0; i < l.atoms.size(); ++i)
    for (int c = 0; c < width; ++c)
      values[i * width + c] = static_cast<T>(
          l.owner[i] == world.rank ? owned_value(l.atoms[i], c) : ghost_value(world.rank, l.atoms[i], c));
  halo.reverse_add(Span<T>(values), width);
  int wrong = 0;
  for (std::size_t i = 0; i < l.atoms.size(); ++i) {
    const std::int64_t id = l.atoms[i];
    for (int c = 0; c < width; ++c) {
      double expected = ghost_value(world.rank, id, c);  // ghost rows stay as they were
      if (l.owner[i] == world.rank) {
        expected = owned_value(id, c);
        for (int q = 0; q < world.size; ++q)
          if (q != world.rank && holds(q, world.size, id)) expected += ghost_value(q, id, c);
      }
      if (values[i * width + c] != static_cast<T>(expected)) ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0) << "rows differing from the analytic sum, rank " << world.rank << " of " << world.size;
}

TEST(HaloExchange, ForwardGivesGhostsTheOwnersRowsDoubleWidth1) {
  expect_forward<double>(1);
}
TEST(HaloExchange, ForwardGivesGhostsTheOwnersRowsDoubleWidth3) {
  expect_forward<double>(3);
}
TEST(HaloExchange, ForwardGivesGhostsTheOwnersRowsFloatWidth1) {
  expect_forward<float>(1);
}
TEST(HaloExchange, ForwardGivesGhostsTheOwnersRowsFloatWidth3) {
  expect_forward<float>(3);
}
TEST(HaloExchange, ReverseAddSumsGhostsIntoOwnersDoubleWidth1) {
  expect_reverse_add<double>(1);
}
TEST(HaloExchange, ReverseAddSumsGhostsIntoOwnersDoubleWidth3) {
  expect_reverse_add<double>(3);
}
TEST(HaloExchange, ReverseAddSumsGhostsIntoOwnersFloatWidth1) {
  expect_reverse_add<float>(1);
}
TEST(HaloExchange, ReverseAddSumsGhostsIntoOwnersFloatWidth3) {
  expect_reverse_add<float>(3);
}

TEST(HaloExchange, ReportsTheLayout) {
  const World world;
  const Layout l = layout_of(world.rank, world.size);
  const HaloExchange halo(MPI_COMM_WORLD, l.atoms, l.owner);
  std::vector<int> owned, ghosts;
  std::set<int> neighbours;
  std::int64_t sent = 0;
  for (std::size_t i = 0; i < l.atoms.size(); ++i) {
    if (l.owner[i] == world.rank) {
      owned.push_back(static_cast<int>(i));
      for (int q = 0; q < world.size; ++q)
        if (q != world.rank && holds(q, world.size, l.atoms[i])) {
          ++sent;
          neighbours.insert(q);
        }
    } else {
      ghosts.push_back(static_cast<int>(i));
      neighbours.insert(l.owner[i]);
    }
  }
  EXPECT_EQ(halo.local_atoms(), l.atoms);
  EXPECT_EQ(halo.owner(), l.owner);
  EXPECT_EQ(halo.owned_rows(), owned);
  EXPECT_EQ(halo.ghost_rows(), ghosts);
  EXPECT_EQ(halo.ghost_count(), static_cast<std::int64_t>(ghosts.size()));
  EXPECT_EQ(halo.neighbour_count(), static_cast<int>(neighbours.size()));
  EXPECT_EQ(halo.sent_rows_per_forward(), sent);
  if (world.size > 1) {
    EXPECT_GT(halo.ghost_count(), 0);  // the layout does exercise the exchange
  }
}

TEST(HaloExchange, MovedExchangeStillWorks) {
  const World world;
  const Layout l = layout_of(world.rank, world.size);
  HaloExchange first(MPI_COMM_WORLD, l.atoms, l.owner);
  HaloExchange second(std::move(first));
  HaloExchange third(MPI_COMM_SELF, {}, {});
  third = std::move(second);
  std::vector<double> values(l.atoms.size());
  for (std::size_t i = 0; i < l.atoms.size(); ++i)
    values[i] = l.owner[i] == world.rank ? owned_value(l.atoms[i], 0) : -1.0;
  third.forward(Span<double>(values), 1);
  int wrong = 0;
  for (std::size_t i = 0; i < l.atoms.size(); ++i)
    if (values[i] != owned_value(l.atoms[i], 0)) ++wrong;
  EXPECT_EQ(wrong, 0);
}

// On a one-rank communicator every atom is owned: nothing is exchanged and nothing changes.
TEST(HaloExchange, SingleRankHasNoGhostsAndExchangesAreNoOps) {
  const HaloExchange halo(MPI_COMM_SELF, {2, 5, 7, 11}, {0, 0, 0, 0});
  EXPECT_EQ(halo.ghost_count(), 0);
  EXPECT_EQ(halo.neighbour_count(), 0);
  EXPECT_EQ(halo.sent_rows_per_forward(), 0);
  EXPECT_EQ(halo.owned_rows(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(halo.ghost_rows().empty());
  std::vector<double> d{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<double> d0 = d;
  halo.forward(Span<double>(d), 2);
  halo.reverse_add(Span<double>(d), 2);
  EXPECT_EQ(d, d0);
  std::vector<float> f{1, 2, 3, 4};
  const std::vector<float> f0 = f;
  halo.forward(Span<float>(f), 1);
  halo.reverse_add(Span<float>(f), 1);
  EXPECT_EQ(f, f0);
  const HaloExchange empty(MPI_COMM_SELF, {}, {});
  std::vector<double> none;
  empty.forward(Span<double>(none), 3);
  EXPECT_EQ(empty.ghost_count(), 0);
}

TEST(HaloExchange, RejectsBadArguments) {
  EXPECT_THROW(HaloExchange(MPI_COMM_SELF, {1, 2, 3}, {0, 0}), UsageError);     // sizes differ
  EXPECT_THROW(HaloExchange(MPI_COMM_SELF, {1, 3, 2}, {0, 0, 0}), UsageError);  // not ascending
  EXPECT_THROW(HaloExchange(MPI_COMM_SELF, {1, 2, 2}, {0, 0, 0}), UsageError);  // not unique
  EXPECT_THROW(HaloExchange(MPI_COMM_SELF, {1, 2, 3}, {0, 1, 0}), UsageError);  // no rank 1
  EXPECT_THROW(HaloExchange(MPI_COMM_SELF, {1, 2, 3}, {0, -1, 0}), UsageError);
  try {
    HaloExchange(MPI_COMM_SELF, {4, 9}, {0, 3});
    ADD_FAILURE() << "no UsageError for an out-of-range owner";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("atom 9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("owner 3"), std::string::npos) << e.what();
  }
  const HaloExchange halo(MPI_COMM_SELF, {1, 2, 3}, {0, 0, 0});
  std::vector<double> d(6);
  EXPECT_THROW(halo.forward(Span<double>(d), 0), UsageError);
  EXPECT_THROW(halo.forward(Span<double>(d), -2), UsageError);
  EXPECT_THROW(halo.forward(Span<double>(d), 3), UsageError);  // 6 values, 9 expected
  EXPECT_THROW(halo.reverse_add(Span<double>(d), 4), UsageError);
  std::vector<float> f(5);
  EXPECT_THROW(halo.forward(Span<float>(f), 2), UsageError);
  EXPECT_THROW(halo.reverse_add(Span<float>(f), 0), UsageError);
}

// A mistake in one rank's own arguments is reported on every rank (all ranks throw, none waits).
TEST(HaloExchange, BadArgumentsOnOneRankThrowOnEveryRank) {
  const World world;
  Layout l = layout_of(world.rank, world.size);
  if (world.rank == world.size - 1) std::swap(l.atoms.front(), l.atoms.back());
  try {
    HaloExchange halo(MPI_COMM_WORLD, l.atoms, l.owner);
    ADD_FAILURE() << "no UsageError on rank " << world.rank;
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("rank " + std::to_string(world.size - 1)), std::string::npos)
        << e.what();
  }
}

// Runs the constructor on a layout where `claimer` holds atom `id` as a ghost owned by rank 0 and rank 0
// holds it as `rank0_owner` (-1: not at all); expects the same UsageError naming the atom on every rank.
void expect_inconsistent_layout_throws(std::int64_t id, int rank0_owner) {
  const World world;
  const int claimer = world.size - 1;
  Layout l = layout_of(world.rank, world.size);
  auto add = [&](int o) {
    const auto it = std::lower_bound(l.atoms.begin(), l.atoms.end(), id);
    if (it != l.atoms.end() && *it == id) {
      l.owner[static_cast<std::size_t>(it - l.atoms.begin())] = o;
      return;
    }
    l.owner.insert(l.owner.begin() + (it - l.atoms.begin()), o);
    l.atoms.insert(it, id);
  };
  if (world.rank == claimer) add(0);
  if (world.rank == 0 && rank0_owner >= 0) add(rank0_owner);
  try {
    HaloExchange halo(MPI_COMM_WORLD, l.atoms, l.owner);
    ADD_FAILURE() << "no UsageError on rank " << world.rank;
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("atom " + std::to_string(id)), std::string::npos) << what;
    EXPECT_NE(what.find("rank " + std::to_string(claimer)), std::string::npos) << what;
    EXPECT_NE(what.find("rank 0"), std::string::npos) << what;
  }
}

TEST(HaloExchange, GhostOfAnAtomItsOwnerDoesNotHoldThrowsOnEveryRank) {
  const World world;
  if (world.size < 2) GTEST_SKIP() << "needs at least 2 ranks";
  expect_inconsistent_layout_throws(1000, -1);
}

TEST(HaloExchange, GhostOfAnAtomItsOwnerHoldsAsGhostThrowsOnEveryRank) {
  const World world;
  if (world.size < 2) GTEST_SKIP() << "needs at least 2 ranks";
  expect_inconsistent_layout_throws(1000, 1);  // rank 0 says rank 1 owns it
}

}  // namespace
}  // namespace hemeplm::dist
