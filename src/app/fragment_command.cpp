// hemeplm fragment: splits a System into fragments (denoising or AI2BMD units), partitions residues
// into domains and assigns fragments to ranks; writes the plan file and prints a summary.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "command.hpp"
#include "hemeplm/core/atomic_file.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"
#include "options.hpp"
#include "system_input.hpp"

namespace hemeplm::app {
namespace {

using nlohmann::ordered_json;
namespace dc = decomposition;

struct FragmentSettings {
  std::string scheme;
  int ranks = 1;
  dc::DenoiseOptions denoise;
  dc::DomainOptions domains;
  std::string out;
  bool json = false;
};

FragmentSettings read_settings(const po::variables_map& o, const RunContext& context) {
  FragmentSettings s;
  s.scheme = o["scheme"].as<std::string>();
  if (s.scheme != "denoise" && s.scheme != "ai2bmd")
    throw UsageError("--scheme must be 'denoise' or 'ai2bmd' (got '" + s.scheme + "')");
  s.ranks = o.count("ranks") ? o["ranks"].as<int>() : context.size;
  require_range("ranks", s.ranks, 1, 1 << 20);
  s.denoise.core_residues = o["core-residues"].as<int>();
  require_range("core-residues", s.denoise.core_residues, 1, 100000);
  s.denoise.buffer = o["buffer"].as<double>();
  require_range("buffer", s.denoise.buffer, 0.0, 100.0);
  s.denoise.blend = o["blend"].as<double>();
  require_range("blend", s.denoise.blend, 0.0, s.denoise.buffer);
  s.domains.count = o["domains"].as<int>();
  require_range("domains", s.domains.count, 1, 1 << 20);
  s.out = o.count("out") ? o["out"].as<std::string>() : std::string();
  s.json = o["json"].as<bool>();
  return s;
}

/// "A:PHE55-SER62 (8) +IBP": the chain span of the core's polymer residues, then other molecules.
std::string describe_residues(const System& system, const std::vector<int>& residues) {
  std::vector<int> polymer, other;
  for (int r : residues) {
    const ResidueKind kind = system.residues[r].kind;
    const bool in_chain =
        kind == ResidueKind::kAminoAcid || kind == ResidueKind::kCap || kind == ResidueKind::kNucleic;
    (in_chain ? polymer : other).push_back(r);
  }
  std::string text;
  if (!polymer.empty()) {
    const Residue& a = system.residues[polymer.front()];
    const Residue& b = system.residues[polymer.back()];
    text = system.chains[a.chain].name + ":" + a.name + std::to_string(a.seq);
    if (polymer.size() > 1)
      text += "-" + b.name + std::to_string(b.seq) + " (" + std::to_string(polymer.size()) + ")";
  }
  if (other.size() <= 2) {
    for (int r : other) text += (text.empty() ? "" : " +") + system.residues[r].name;
  } else {
    text += (text.empty() ? "" : " +") + std::to_string(other.size()) + " molecules";
  }
  return text;
}

void print_table(std::ostream& out, const dc::Plan& plan, const System& system, double seconds) {
  out << std::fixed << std::setprecision(3);
  out << "scheme " << plan.scheme << ": " << plan.fragments.size() << " fragments of " << plan.atom_count
      << " atoms (" << plan.residue_count << " residues), " << plan.domains.count << " domains (edge cut "
      << plan.domains.edge_cut << "), " << plan.ranks << " ranks, imbalance " << dc::imbalance(plan.rank_cost)
      << ", " << seconds << " s\n\n";

  // Per rank: how much work and how much of it is buffer (redundant) work.
  out << "  rank  fragments  core atoms  buffer atoms       cost  share\n";
  const double total = std::max(1.0, [&] {
    double t = 0;
    for (double c : plan.rank_cost) t += c;
    return t;
  }());
  for (int r = 0; r < plan.ranks; ++r) {
    long fragments = 0, core = 0, buffer = 0;
    for (const auto& f : plan.fragments)
      if (f.rank == r)
        ++fragments, core += static_cast<long>(f.core.size()), buffer += static_cast<long>(f.buffer.size());
    out << std::setw(6) << r << std::setw(11) << fragments << std::setw(12) << core << std::setw(14) << buffer
        << std::setw(11) << std::setprecision(0) << plan.rank_cost[r] << std::setw(6) << std::setprecision(1)
        << 100.0 * plan.rank_cost[r] / total << "%\n";
  }

  constexpr std::size_t kListed = 60;  // beyond this, the plan file is the place to look
  out << "\n    id  rank  kind        residues                              core  buffer   caps\n";
  for (std::size_t k = 0; k < plan.fragments.size() && k < kListed; ++k) {
    const auto& f = plan.fragments[k];
    const std::string residues = describe_residues(system, f.residues);
    out << std::setw(6) << f.id << std::setw(6) << f.rank << "  " << std::left << std::setw(12)
        << dc::to_string(f.kind) << std::setw(36) << residues.substr(0, 35) << std::right << std::setw(6)
        << f.core.size() << std::setw(8) << f.buffer.size() << std::setw(7) << f.caps.size() << '\n';
  }
  if (plan.fragments.size() > kListed)
    out << "   ... " << plan.fragments.size() - kListed << " more (write them all with --out plan.json)\n";
}

class FragmentCommand final : public Command {
 public:
  const char* name() const override { return "fragment"; }
  const char* summary() const override {
    return "split a system into fragments, domains and a rank plan (plan.json)";
  }
  const char* usage() const override {
    return "STRUCTURE [--ligand FILE]... [--scheme denoise|ai2bmd] [--ranks N] [--core-residues K] "
           "[--buffer ANGSTROM] [--domains K] [--out plan.json] [--json]";
  }
  void add_options(po::options_description& options) const override {
    po::positional_options_description unused;
    add_structure_options(options, unused);
    options.add_options()("scheme", po::value<std::string>()->default_value("denoise")->value_name("NAME"),
                          "denoise: overlapping core+buffer fragments for the decomposed sampler; "
                          "ai2bmd: capped dipeptides and ACE-NME units (2n-1 per chain of n residues)")(
        "ranks", po::value<int>()->value_name("N"),
        "number of ranks to plan for (default: the MPI ranks of this run)")(
        "core-residues", po::value<int>()->default_value(8)->value_name("K"),
        "consecutive residues per fragment core (denoise)")(
        "buffer", po::value<double>()->default_value(8.0)->value_name("ANGSTROM"),
        "buffer radius around each core (denoise)")(
        "blend", po::value<double>()->default_value(2.0)->value_name("ANGSTROM"),
        "width over which blending weights fall from 1 to 0 past the core; 0 = hard partition (denoise)")(
        "domains", po::value<int>()->default_value(8)->value_name("K"),
        "domains of the residue contact graph (METIS)")("out", po::value<std::string>()->value_name("FILE"),
                                                        "write the plan (JSON, see docs/plan-format.md)")(
        "json", po::bool_switch(), "print a JSON summary instead of tables");
  }
  void add_positionals(po::positional_options_description& positionals) const override {
    positionals.add("structure", 1);
  }
  const char* epilog() const override {
    return "Examples:\n"
           "  hemeplm fragment inputs/example/complex.pdb --ligand inputs/example/ligand.sdf \\\n"
           "      --ranks 2 --out plan.json\n"
           "  hemeplm fragment chignolin_capped.pdb --scheme ai2bmd --json\n"
           "  mpirun -n 4 hemeplm fragment system.pdb --out plan.json   # plans for 4 ranks\n"
           "The plan lists, per fragment, its rank, core and buffer atoms (global indices in input\n"
           "order) and blending weights that sum to 1 over the fragments holding each atom\n"
           "(docs/plan-format.md).\n";
  }
  int run(const po::variables_map& options, const RunContext& context) const override {
    const FragmentSettings settings = read_settings(options, context);
    return run_on_root(context, [&] { return make_and_report_plan(options, settings, context); });
  }

 private:
  static int make_and_report_plan(const po::variables_map& options, const FragmentSettings& settings,
                                  const RunContext& context) {
    const auto start = std::chrono::steady_clock::now();
    const System system = load_validated_system(options);

    dc::PlanOptions plan_options;
    plan_options.scheme = settings.scheme;
    plan_options.ranks = settings.ranks;
    plan_options.denoise = settings.denoise;
    plan_options.domains = settings.domains;
    const dc::Plan plan = dc::make_plan(system, plan_options);
    // The library lowers the default domain count on small systems; a count the user asked for is
    // honoured or refused.
    if (!options["domains"].defaulted() && plan.domain_options.count < settings.domains.count)
      throw UsageError("--domains " + std::to_string(settings.domains.count) + " exceeds the " +
                       std::to_string(plan.domain_options.count) +
                       " residues that can be pooled into domains");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (!settings.out.empty())
      write_file_atomically(settings.out, dc::plan_to_json(plan, system).dump() + "\n");

    if (settings.json) {
      ordered_json j;
      j["scheme"] = plan.scheme;
      j["atoms"] = plan.atom_count;
      j["residues"] = plan.residue_count;
      j["fragments"] = plan.fragments.size();
      j["ranks"] = plan.ranks;
      j["imbalance"] = dc::imbalance(plan.rank_cost);
      j["domains"] = plan.domains.count;
      std::size_t largest = 0, total = 0;
      for (const auto& f : plan.fragments) {
        largest = std::max(largest, f.core.size() + f.buffer.size());
        total += f.core.size() + f.buffer.size();
      }
      j["largest_fragment_atoms"] = largest;
      j["mean_fragment_atoms"] =
          plan.fragments.empty() ? 0.0 : static_cast<double>(total) / plan.fragments.size();
      j["seconds"] = seconds;
      j["plan"] = settings.out.empty() ? ordered_json(nullptr) : ordered_json(settings.out);
      *context.out << j.dump(2) << '\n';
    } else {
      print_table(*context.out, plan, system, seconds);
      if (!settings.out.empty()) *context.out << "\nplan written to " << settings.out << '\n';
    }
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_fragment_command() {
  return std::make_unique<FragmentCommand>();
}

}  // namespace hemeplm::app
