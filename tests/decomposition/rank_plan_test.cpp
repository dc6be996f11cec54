// Rank plan: exact linear partition, cost model, the whole pipeline and the plan file.
#include "hemeplm/decomposition/rank_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "fragment_test_systems.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "test_support.hpp"

namespace hemeplm::decomposition {
namespace {

std::vector<Fragment> with_costs(const std::vector<double>& costs) {
  std::vector<Fragment> fragments(costs.size());
  for (std::size_t f = 0; f < costs.size(); ++f)
    fragments[f].id = static_cast<int>(f), fragments[f].cost = costs[f];
  return fragments;
}

/// Optimal bottleneck of splitting costs into `ranks` non-empty contiguous runs, by O(K F^2) DP.
double optimal_bottleneck(const std::vector<double>& costs, int ranks) {
  const int n = static_cast<int>(costs.size());
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> prefix(n + 1, 0.0);
  for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + costs[i];
  std::vector<std::vector<double>> best(ranks + 1, std::vector<double>(n + 1, inf));
  best[0][0] = 0;
  for (int k = 1; k <= ranks; ++k) {
    for (int end = k; end <= n; ++end) {
      for (int start = k - 1; start < end; ++start) {
        best[k][end] = std::min(best[k][end], std::max(best[k - 1][start], prefix[end] - prefix[start]));
      }
    }
  }
  return best[ranks][n];
}

TEST(AssignRanks, MatchesTheExactOptimumOnRandomCosts) {
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> cost(0, 1000);
  for (int trial = 0; trial < 300; ++trial) {
    const int count = 1 + trial % 14;
    const int ranks = 1 + trial % std::min(count, 6);
    std::vector<double> costs(count);
    for (double& c : costs) c = cost(random);
    auto fragments = with_costs(costs);
    const std::vector<double> rank_cost = assign_ranks(fragments, ranks);
    ASSERT_EQ(static_cast<int>(rank_cost.size()), ranks);
    std::vector<double> recomputed(ranks, 0.0);
    std::vector<int> members(ranks, 0);
    for (std::size_t f = 0; f < fragments.size(); ++f) {
      if (f > 0) {
        ASSERT_GE(fragments[f].rank, fragments[f - 1].rank) << "runs must be contiguous";
      }
      recomputed[fragments[f].rank] += fragments[f].cost;
      ++members[fragments[f].rank];
    }
    EXPECT_EQ(recomputed, rank_cost);
    for (int r = 0; r < ranks; ++r) EXPECT_GT(members[r], 0) << "rank " << r << " is empty";
    EXPECT_NEAR(*std::max_element(rank_cost.begin(), rank_cost.end()), optimal_bottleneck(costs, ranks), 1e-9)
        << "trial " << trial;
  }
}

TEST(AssignRanks, MoreRanksThanFragmentsIsAUsageError) {
  auto fragments = with_costs({1, 2, 3});
  EXPECT_THROW(assign_ranks(fragments, 4), UsageError);
  EXPECT_THROW(assign_ranks(fragments, 0), UsageError);
}

TEST(AssignRanks, ImbalanceIsMaxOverMean) {
  EXPECT_DOUBLE_EQ(imbalance({1, 1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(imbalance({3, 1}), 1.5);
}

TEST(EstimateCosts, CountsAtomsPlusNeighbours) {
  NeighborList list;
  list.cutoff = 5;
  list.offsets = {0, 2, 3, 4, 4};  // atom 0: 1, 2; atom 1: 0; atom 2: 0; atom 3: none
  list.neighbors = {1, 2, 0, 0};
  std::vector<Fragment> fragments(2);
  fragments[0].core = {0, 3};
  fragments[0].buffer = {1};
  fragments[1].core = {1, 2};
  fragments[1].caps = {{2, 0, {}}};
  estimate_costs(fragments, list);
  EXPECT_DOUBLE_EQ(fragments[0].cost, 3 + 1 + 2);
  EXPECT_DOUBLE_EQ(fragments[1].cost, 2 + 2 + 2);
}

System small_complex() {
  System system;
  test::add_peptide(system, "A", test::mixed_residues(30));
  test::add_ligand(system, {38, -4.0, 0});
  for (int k = 0; k < 6; ++k) test::add_water(system, {8.0 * k, 5, 0});
  test::finish(system);
  return system;
}

TEST(MakePlan, IsDeterministicAndCoversEveryAtomOnce) {
  const System system = small_complex();
  PlanOptions options;
  options.ranks = 3;
  options.domains.count = 4;
  const Plan a = make_plan(system, options);
  const Plan b = make_plan(system, options);
  EXPECT_EQ(plan_to_json(a, system), plan_to_json(b, system));
  std::vector<int> cores(system.atom_count(), 0);
  for (int rank = 0; rank < options.ranks; ++rank) {
    const std::vector<int> local = local_fragments(a, rank);
    EXPECT_FALSE(local.empty());
    for (int f : local) {
      for (int atom : a.fragments[f].core) ++cores[atom];
    }
  }
  EXPECT_EQ(std::count(cores.begin(), cores.end(), 1), system.atom_count());
  EXPECT_EQ(a.domains.count, 4);
}

TEST(PlanJson, RoundTripsBothSchemes) {
  const System system = small_complex();
  for (const char* scheme : {"denoise", "ai2bmd"}) {
    SCOPED_TRACE(scheme);
    PlanOptions options;
    options.scheme = scheme;
    options.ranks = 2;
    options.domains.count = 3;
    const Plan plan = make_plan(system, options);
    const nlohmann::json written = plan_to_json(plan, system);
    EXPECT_EQ(written["format"], "hemeplm-plan");
    EXPECT_EQ(written["version"], 1);
    EXPECT_EQ(written["atoms"], system.atom_count());
    EXPECT_EQ(written.contains("residues") && written["residues"].is_number(), true);
    const nlohmann::json reparsed = nlohmann::json::parse(written.dump());
    const Plan read = plan_from_json(reparsed, "plan.json", system);
    EXPECT_EQ(plan_to_json(read, system), written);
    if (std::string(scheme) == "ai2bmd") {
      EXPECT_TRUE(written["fragments"][0].contains("caps"));
      EXPECT_EQ(read.fragments[1].caps.size(), plan.fragments[1].caps.size());
    }
  }
}

TEST(PlanJson, BadFilesNameTheFragmentAndTheProblem) {
  const System system = small_complex();
  PlanOptions options;
  options.ranks = 2;
  const nlohmann::json good = plan_to_json(make_plan(system, options), system);
  auto expect_error = [&](nlohmann::json bad, const std::string& needle) {
    try {
      plan_from_json(bad, "plan.json", system);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind("plan.json: ", 0), 0u) << message;
      EXPECT_NE(message.find(needle), std::string::npos) << message;
    }
  };
  nlohmann::json bad = good;
  bad["atoms"] = system.atom_count() + 1;
  expect_error(bad, "atoms but the structure has");
  bad = good;
  bad["fragments"][1]["weights"].erase(0);
  expect_error(bad, "fragment 1: ");
  bad = good;
  bad["fragments"][1]["core"].push_back(system.atom_count());
  expect_error(bad, "fragment 1: \"core\" holds atom index");
  bad = good;
  bad["fragments"][2]["rank"] = 5;
  expect_error(bad, "fragment 2: \"rank\" 5");
  bad = good;
  bad["fragments"][0]["core"].erase(0);
  bad["fragments"][0]["weights"].erase(0);
  expect_error(bad, "in no fragment core");
  bad = good;
  bad.erase("domains");
  expect_error(bad, "missing key \"domains\"");
  bad = good;
  bad["version"] = 2;
  expect_error(bad, "version 2");
}

void report_plan(const char* name, const System& system, const PlanOptions& options, double max_imbalance) {
  const auto start = std::chrono::steady_clock::now();
  const Plan plan = make_plan(system, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double balance = imbalance(plan.rank_cost);
  std::cout << "[ timing   ] " << name << " (" << system.atom_count()
            << " atoms): fragments + domains + plan " << seconds << " s, " << plan.fragments.size()
            << " fragments, " << options.ranks << " ranks, imbalance " << balance << ", domain edge cut "
            << plan.domains.edge_cut << "\n";
  EXPECT_LE(balance, max_imbalance);
  EXPECT_LT(seconds, 10.0);
  const Plan read =
      plan_from_json(nlohmann::json::parse(plan_to_json(plan, system).dump()), "plan.json", system);
  EXPECT_EQ(read.fragments.size(), plan.fragments.size());
}

TEST(MakePlanReal, EveryShippedStructureGetsAPlanWithBothSchemes) {
  HEMEPLM_REQUIRE_SHARED_DATA(folder_probe, "trpcage_1l2y_nmr.pdb");
  const std::vector<std::pair<std::string, std::string>> inputs{
      {"chignolin_cln025_capped_vac.pdb", ""},
      {"chignolin_1uao_nmr.pdb", ""},
      {"chignolin_cln025_5awl_xtal.pdb", ""},
      {"trpcage_1l2y_nmr.pdb", ""},
      {"pl_1iep_abl_receptorH.pdb", "pl_1iep_imatinib_ligand.sdf"},
      {"nr_lbd_6a22_rorg_ligand_xtal.pdb", ""},
      {"big_3wip_achbp_heavy.pdb", ""}};
  for (const auto& [structure, ligand] : inputs) {
    SCOPED_TRACE(structure);
    SystemSources sources{test::shared_data(structure), {}};
    if (!ligand.empty()) sources.ligands.push_back(test::shared_data(ligand));
    if (sources.structure.empty()) continue;
    const System system = load_system(sources);
    for (const char* scheme : {"denoise", "ai2bmd"}) {
      SCOPED_TRACE(scheme);
      PlanOptions options;
      options.scheme = scheme;
      options.ranks = system.atom_count() > 1000 ? 2 : 1;  // a mini-protein is one denoise core
      const Plan plan = make_plan(system, options);
      EXPECT_EQ(plan.atom_count, system.atom_count());
      std::cout << "[ plan     ] " << structure << " " << scheme << ": " << plan.fragments.size()
                << " fragments, imbalance " << imbalance(plan.rank_cost) << "\n";
    }
  }
}

TEST(MakePlanReal, FarnesyltransferaseWithLigandOnFourRanks) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "big_1s63_ligand.sdf");
  const System system = load_system({receptor, {ligand}});
  PlanOptions options;
  options.ranks = 4;
  report_plan("1s63 + ligand", system, options, 1.15);
}

TEST(MakePlanReal, SolvatedDhfrOnFourRanks) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "big_dhfr_solvated_23558.pdb");
  const System system = load_system({path, {}});
  PlanOptions options;
  options.ranks = 4;
  report_plan("DHFR solvated", system, options, 1.15);
}

}  // namespace
}  // namespace hemeplm::decomposition
