// Cost model and rank assignment: fragments in chain order are split into contiguous runs, one per
// rank, minimising the most loaded rank (exact linear partition by bisection on the bottleneck).
#include "hemeplm/decomposition/rank_plan.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "fragment_support.hpp"
#include "hemeplm/core/error.hpp"

namespace hemeplm::decomposition {

void estimate_costs(std::vector<Fragment>& fragments, const NeighborList& neighbors) {
  const int atom_count = neighbors.atom_count();
  auto atom_cost = [&](int atom) {
    if (atom < 0 || atom >= atom_count) {
      throw UsageError("cost estimate: atom index " + std::to_string(atom) +
                       " is outside the neighbour list of " + std::to_string(atom_count) + " atoms");
    }
    return 1.0 + static_cast<double>(neighbors.offsets[atom + 1] - neighbors.offsets[atom]);
  };
  for (Fragment& fragment : fragments) {
    double cost = 0;
    for (int a : fragment.core) cost += atom_cost(a);
    for (int a : fragment.buffer) cost += atom_cost(a);
    for (const CapHydrogen& cap : fragment.caps) cost += atom_cost(cap.bonded_to);
    fragment.cost = cost;
  }
}

namespace {

/// Ranks needed when each takes fragments greedily while its load stays <= bottleneck.
int ranks_needed(const std::vector<Fragment>& fragments, double bottleneck) {
  int ranks = 1;
  double load = 0;
  bool empty = true;
  for (const Fragment& fragment : fragments) {
    if (!empty && load + fragment.cost > bottleneck) ++ranks, load = 0;
    load += fragment.cost;
    empty = false;
  }
  return ranks;
}

}  // namespace

std::vector<double> assign_ranks(std::vector<Fragment>& fragments, int ranks) {
  const int count = static_cast<int>(fragments.size());
  if (ranks < 1)
    throw UsageError("rank plan: the rank count must be at least 1, got " + std::to_string(ranks));
  if (ranks > count) {
    throw UsageError("rank plan: " + std::to_string(ranks) + " ranks but only " + std::to_string(count) +
                     " fragments; use at most " + std::to_string(count) + " ranks or smaller fragments");
  }
  for (const Fragment& fragment : fragments) {
    if (!(fragment.cost >= 0))
      throw UsageError("rank plan: fragment " + std::to_string(fragment.id) + " has a negative cost");
  }
  const double total = std::accumulate(fragments.begin(), fragments.end(), 0.0,
                                       [](double sum, const Fragment& f) { return sum + f.cost; });
  const double largest =
      std::max_element(fragments.begin(), fragments.end(), [](const Fragment& a, const Fragment& b) {
        return a.cost < b.cost;
      })->cost;
  // The optimum lies in [max(largest, total/ranks), total]; bisect until the interval is at the
  // rounding level of the costs, then place with the feasible upper bound.
  double low = std::max(largest, total / ranks);
  double high = total;
  if (ranks_needed(fragments, low) <= ranks) high = low;
  for (int iteration = 0; iteration < 200 && high - low > 1e-12 * high; ++iteration) {
    const double middle = 0.5 * (low + high);
    (ranks_needed(fragments, middle) <= ranks ? high : low) = middle;
  }

  // Greedy placement under the bottleneck, but stop early whenever the remaining fragments are just
  // enough to give every remaining rank one: no rank is left empty and no load exceeds `high`.
  std::vector<double> rank_cost(ranks, 0.0);
  int rank = 0;
  int in_rank = 0;
  for (int f = 0; f < count; ++f) {
    const int ranks_after = ranks - rank - 1;
    const bool over = rank_cost[rank] + fragments[f].cost > high;
    const bool only_enough_left = count - f <= ranks_after;
    if (in_rank > 0 && ranks_after > 0 && (over || only_enough_left)) ++rank, in_rank = 0;
    fragments[f].rank = rank;
    rank_cost[rank] += fragments[f].cost;
    ++in_rank;
  }
  return rank_cost;
}

double imbalance(const std::vector<double>& rank_cost) {
  if (rank_cost.empty()) return 1.0;
  const double total = std::accumulate(rank_cost.begin(), rank_cost.end(), 0.0);
  if (total <= 0) return 1.0;
  return *std::max_element(rank_cost.begin(), rank_cost.end()) * static_cast<double>(rank_cost.size()) /
         total;
}

std::vector<int> local_fragments(const Plan& plan, int rank) {
  std::vector<int> ids;
  for (const Fragment& fragment : plan.fragments) {
    if (fragment.rank == rank) ids.push_back(fragment.id);
  }
  return ids;
}

Plan make_plan(const System& system, const PlanOptions& options) {
  Plan plan;
  plan.scheme = options.scheme;
  plan.atom_count = system.atom_count();
  plan.residue_count = system.residue_count();
  plan.ranks = options.ranks;
  plan.denoise = options.denoise;
  plan.cost_cutoff = options.cost_cutoff;
  if (options.scheme == "denoise") {
    plan.fragments = make_denoise_fragments(system, options.denoise);
  } else if (options.scheme == "ai2bmd") {
    plan.fragments = make_ai2bmd_fragments(system);
  } else {
    throw UsageError("rank plan: unknown fragmentation scheme '" + options.scheme +
                     "' (use denoise or ai2bmd)");
  }
  if (!(options.cost_cutoff > 0)) throw UsageError("rank plan: cost_cutoff must be > 0 Å");

  int pooled = 0;
  for (const Residue& residue : system.residues) {
    pooled += detail::is_polymer_residue(residue.kind) || residue.kind == ResidueKind::kCofactor;
  }
  plan.domain_options = options.domains;
  plan.domain_options.count = std::min(options.domains.count, pooled);
  if (plan.domain_options.count >= 1) {
    plan.domains = partition_domains(system, plan.domain_options);
  } else {
    plan.domains.residue_domain.assign(system.residue_count(), -1);
  }

  estimate_costs(plan.fragments, detail::system_neighbors(system, options.cost_cutoff));
  plan.rank_cost = assign_ranks(plan.fragments, options.ranks);
  return plan;
}

}  // namespace hemeplm::decomposition
