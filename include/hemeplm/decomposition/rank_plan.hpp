// The rank plan: fragments assigned to MPI ranks so that the estimated cost is balanced, plus its
// JSON form (the plan file read by `hemeplm sample --ranks-plan`).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/decomposition/domains.hpp"
#include "hemeplm/decomposition/fragments.hpp"
#include "hemeplm/decomposition/neighbor_list.hpp"

namespace hemeplm::decomposition {

/// cost(fragment) = sum over its atoms (core and buffer) of (1 + neighbours within the model cutoff);
/// an ai2bmd cap hydrogen counts like the atom it is bonded to. `neighbors` is a full list of the
/// System at that cutoff.
void estimate_costs(std::vector<Fragment>& fragments, const NeighborList& neighbors);

/// Assigns Fragment::rank in [0, ranks) so that ranks get contiguous runs of fragments (fragments are
/// ordered along chains, so neighbours stay together) with the largest load as small as possible.
/// Exact linear partition (bisection on the bottleneck). Every rank gets at least one fragment; a
/// UsageError says so when ranks exceed fragments. Returns the per-rank cost.
std::vector<double> assign_ranks(std::vector<Fragment>& fragments, int ranks);

/// max / mean of the per-rank cost (1 = perfect balance).
double imbalance(const std::vector<double>& rank_cost);

struct Plan {
  std::string scheme;  ///< "denoise" or "ai2bmd"
  int atom_count = 0;
  int residue_count = 0;
  int ranks = 1;
  std::vector<Fragment> fragments;
  std::vector<double> rank_cost;
  DomainMap domains;
  DenoiseOptions denoise;        ///< options used (denoise scheme)
  DomainOptions domain_options;  ///< options the domain map was made with
  double cost_cutoff = 5.0;      ///< Å, neighbour cutoff of the cost model
};

struct PlanOptions {
  std::string scheme = "denoise";  ///< "denoise" or "ai2bmd"
  int ranks = 1;
  DenoiseOptions denoise;
  DomainOptions domains;     ///< count is clamped to the pooled residue count when larger
  double cost_cutoff = 5.0;  ///< Å
};

/// The whole pipeline: fragments of the scheme, domains, costs, rank assignment. Deterministic: every
/// MPI rank that calls it with the same System and options gets the same Plan.
Plan make_plan(const System& system, const PlanOptions& options);

/// Ids of the fragments assigned to `rank`, ascending.
std::vector<int> local_fragments(const Plan& plan, int rank);

/// The plan file. Top-level keys: "format", "version", "scheme", "atoms", "residues", "ranks", "imbalance",
/// "rank_cost", "parameters", "fragments" (objects with "id", "rank", "kind", "core", "buffer",
/// "weights", "residues", "cost" and, for ai2bmd, "caps"), "domains". See docs/plan-format.md.
nlohmann::json plan_to_json(const Plan& plan, const System& system);

/// Reads a plan file written by plan_to_json, checking it against the System (atom count, indices).
Plan plan_from_json(const nlohmann::json& json, const std::string& file, const System& system);

}  // namespace hemeplm::decomposition
