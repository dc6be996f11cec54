// decomposition-mpi-test (run by ctest under mpiexec -n 2 and -n 3): every rank builds the same plan
// independently, and the fragments each rank owns cover every atom's core exactly once.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fragment_test_systems.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/decomposition/kokkos_runtime.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"
#include "test_support.hpp"

namespace hemeplm::decomposition {
namespace {

int comm_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int comm_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

System complex_with_solvent() {
  System system;
  test::add_peptide(system, "A", test::mixed_residues(40));
  test::add_peptide(system, "B", test::mixed_residues(12), {0, 15, 0});
  test::add_ligand(system, {31, -4.0, 0});
  for (int k = 0; k < 20; ++k) test::add_water(system, {7.0 * k, -9, 2.0 * (k % 3)});
  test::add_ion(system, {64, -4.5, 1});
  test::finish(system);
  return system;
}

/// Every rank's plan, serialised, must hash to the same value.
void expect_same_plan_everywhere(const Plan& plan, const System& system) {
  const std::uint64_t hash = std::hash<std::string>{}(plan_to_json(plan, system).dump());
  std::vector<std::uint64_t> hashes(comm_size());
  MPI_Allgather(&hash, 1, MPI_UINT64_T, hashes.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  for (int r = 0; r < comm_size(); ++r)
    EXPECT_EQ(hashes[r], hashes[0]) << "rank " << r << " built another plan";
}

/// Sum over ranks of how often each atom appears in the cores (and, for ai2bmd, the signed weights)
/// of the fragments the rank owns.
void expect_cores_cover_every_atom_once(const Plan& plan, const System& system) {
  const int n = system.atom_count();
  std::vector<int> local_count(n, 0), total_count(n, 0);
  std::vector<double> local_weight(n, 0.0), total_weight(n, 0.0);
  const std::vector<int> mine = local_fragments(plan, comm_rank());
  EXPECT_FALSE(mine.empty()) << "rank " << comm_rank() << " owns no fragment";
  for (int f : mine) {
    const Fragment& fragment = plan.fragments[f];
    for (std::size_t k = 0; k < fragment.core.size(); ++k) {
      ++local_count[fragment.core[k]];
      local_weight[fragment.core[k]] += fragment.weights[k];
    }
  }
  MPI_Allreduce(local_count.data(), total_count.data(), n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(local_weight.data(), total_weight.data(), n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  for (int a = 0; a < n; ++a) {
    if (plan.scheme == "denoise") {
      ASSERT_EQ(total_count[a], 1) << "atom " << a;
    } else {
      ASSERT_GE(total_count[a], 1) << "atom " << a;
      ASSERT_NEAR(total_weight[a], 1.0, 1e-12) << "atom " << a;  // AI2BMD: sum dipeptides - sum ACE-NME
    }
  }
}

TEST(PlanMpi, DenoisePlanIsIdenticalOnEveryRankAndCoversEveryAtomOnce) {
  const System system = complex_with_solvent();
  PlanOptions options;
  options.ranks = comm_size();
  options.denoise.core_residues = 6;
  options.domains.count = 4;
  const Plan plan = make_plan(system, options);
  expect_same_plan_everywhere(plan, system);
  expect_cores_cover_every_atom_once(plan, system);
}

TEST(PlanMpi, Ai2bmdPlanIsIdenticalOnEveryRankAndWeightsSumToOne) {
  const System system = complex_with_solvent();
  PlanOptions options;
  options.scheme = "ai2bmd";
  options.ranks = comm_size();
  const Plan plan = make_plan(system, options);
  expect_same_plan_everywhere(plan, system);
  expect_cores_cover_every_atom_once(plan, system);
}

TEST(PlanMpi, RealComplexWithLigand) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "big_1s63_ligand.sdf");
  const System system = load_system({receptor, {ligand}});
  PlanOptions options;
  options.ranks = comm_size();
  const Plan plan = make_plan(system, options);
  expect_same_plan_everywhere(plan, system);
  expect_cores_cover_every_atom_once(plan, system);
}

}  // namespace
}  // namespace hemeplm::decomposition

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  // Only rank 0 prints; the others run the same tests silently.
  std::unique_ptr<::testing::TestEventListener> silenced;
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    silenced.reset(listeners.Release(listeners.default_result_printer()));
  }
  int failed = 0;
  {
    hemeplm::decomposition::KokkosRuntime kokkos;
    failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  }
  // Every rank returns the same status, so mpiexec reports a failure seen on any rank.
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any_failed;
}
