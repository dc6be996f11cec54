// The plan file (JSON): written by `hemeplm fragment`, read back by the sampler. Reading checks the
// file against the System it is used with, so that a plan made for another structure is rejected
// with the fragment and the problem named rather than indexing out of range later.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/decomposition/rank_plan.hpp"

namespace hemeplm::decomposition {

using nlohmann::json;

namespace {

constexpr const char* kFormat = "hemeplm-plan";
constexpr int kVersion = 1;

json fragment_to_json(const Fragment& fragment) {
  json object = {{"id", fragment.id},
                 {"rank", fragment.rank},
                 {"kind", to_string(fragment.kind)},
                 {"core", fragment.core},
                 {"buffer", fragment.buffer},
                 {"weights", fragment.weights},
                 {"residues", fragment.residues},
                 {"cost", fragment.cost}};
  if (fragment.kind != FragmentKind::kDenoise) {
    json caps = json::array();
    for (const CapHydrogen& cap : fragment.caps) {
      caps.push_back({{"bonded_to", cap.bonded_to},
                      {"replaces", cap.replaces},
                      {"position", {cap.position.x, cap.position.y, cap.position.z}}});
    }
    object["caps"] = std::move(caps);
  }
  return object;
}

/// Reads plan values with one-line errors naming the file and the record.
class Reader {
 public:
  Reader(const std::string& file, const System& system) : file_(file), system_(system) {}

  [[noreturn]] void fail(const std::string& record, const std::string& problem) const {
    throw InputError(file_, record, problem);
  }

  const json& member(const json& object, const char* key, const std::string& record) const {
    if (!object.is_object()) fail(record, "expected a JSON object");
    const auto it = object.find(key);
    if (it == object.end()) fail(record, std::string("missing key \"") + key + "\"");
    return *it;
  }

  template <class T>
  T value(const json& object, const char* key, const std::string& record) const {
    const json& item = member(object, key, record);
    try {
      return item.get<T>();
    } catch (const json::exception&) {
      fail(record, std::string("\"") + key + "\" has the wrong type (" + item.type_name() + ")");
    }
  }

  double number(const json& object, const char* key, const std::string& record) const {
    const json& item = member(object, key, record);
    if (!item.is_number() || !std::isfinite(item.get<double>())) {
      fail(record, std::string("\"") + key + "\" must be a finite number");
    }
    return item.get<double>();
  }

  /// Ascending atom indices within [0, atom_count).
  std::vector<int> atom_list(const json& object, const char* key, const std::string& record) const {
    std::vector<int> atoms = value<std::vector<int>>(object, key, record);
    for (std::size_t k = 0; k < atoms.size(); ++k) {
      if (atoms[k] < 0 || atoms[k] >= system_.atom_count()) {
        fail(record, std::string("\"") + key + "\" holds atom index " + std::to_string(atoms[k]) +
                         ", outside the structure's " + std::to_string(system_.atom_count()) + " atoms");
      }
      if (k > 0 && atoms[k] <= atoms[k - 1])
        fail(record, std::string("\"") + key + "\" is not strictly ascending");
    }
    return atoms;
  }

  Vec3 position(const json& object, const std::string& record) const {
    const std::vector<double> xyz = value<std::vector<double>>(object, "position", record);
    if (xyz.size() != 3 || !std::isfinite(xyz[0]) || !std::isfinite(xyz[1]) || !std::isfinite(xyz[2])) {
      fail(record, "cap \"position\" must be three finite numbers");
    }
    return {xyz[0], xyz[1], xyz[2]};
  }

 private:
  const std::string& file_;
  const System& system_;
};

FragmentKind kind_from_string(const Reader& reader, const std::string& text, const std::string& record) {
  for (FragmentKind kind :
       {FragmentKind::kDenoise, FragmentKind::kDipeptide, FragmentKind::kAceNme, FragmentKind::kMolecule}) {
    if (text == to_string(kind)) return kind;
  }
  reader.fail(record, "unknown fragment kind '" + text + "'");
}

Fragment fragment_from_json(const Reader& reader, const json& object, int index, int ranks,
                            const System& system) {
  const std::string record = "fragment " + std::to_string(index);
  Fragment fragment;
  fragment.id = reader.value<int>(object, "id", record);
  if (fragment.id != index)
    reader.fail(record, "\"id\" is " + std::to_string(fragment.id) + ", expected its position " +
                            std::to_string(index));
  fragment.rank = reader.value<int>(object, "rank", record);
  if (fragment.rank < 0 || fragment.rank >= ranks) {
    reader.fail(record,
                "\"rank\" " + std::to_string(fragment.rank) + " is outside 0.." + std::to_string(ranks - 1));
  }
  fragment.kind = kind_from_string(reader, reader.value<std::string>(object, "kind", record), record);
  fragment.core = reader.atom_list(object, "core", record);
  fragment.buffer = reader.atom_list(object, "buffer", record);
  for (int a : fragment.buffer) {
    if (std::binary_search(fragment.core.begin(), fragment.core.end(), a)) {
      reader.fail(record, "atom index " + std::to_string(a) + " is in both the core and the buffer");
    }
  }
  fragment.weights = reader.value<std::vector<double>>(object, "weights", record);
  if (fragment.weights.size() != fragment.core.size() + fragment.buffer.size()) {
    reader.fail(record, std::to_string(fragment.weights.size()) + " weights for " +
                            std::to_string(fragment.core.size() + fragment.buffer.size()) +
                            " atoms (core + buffer)");
  }
  for (double w : fragment.weights) {
    if (!std::isfinite(w)) reader.fail(record, "a weight is not a finite number");
  }
  fragment.residues = reader.value<std::vector<int>>(object, "residues", record);
  for (int r : fragment.residues) {
    if (r < 0 || r >= system.residue_count())
      reader.fail(record, "residue index " + std::to_string(r) + " is out of range");
  }
  fragment.cost = reader.number(object, "cost", record);
  if (fragment.kind != FragmentKind::kDenoise) {
    const json& caps = reader.member(object, "caps", record);
    if (!caps.is_array()) reader.fail(record, "\"caps\" must be an array");
    for (const json& cap : caps) {
      CapHydrogen hydrogen{reader.value<int>(cap, "bonded_to", record),
                           reader.value<int>(cap, "replaces", record), reader.position(cap, record)};
      for (int a : {hydrogen.bonded_to, hydrogen.replaces}) {
        if (a < 0 || a >= system.atom_count())
          reader.fail(record, "cap atom index " + std::to_string(a) + " is out of range");
      }
      fragment.caps.push_back(hydrogen);
    }
  }
  return fragment;
}

}  // namespace

json plan_to_json(const Plan& plan, const System& system) {
  if (plan.atom_count != system.atom_count()) {
    throw UsageError("plan file: the plan covers " + std::to_string(plan.atom_count) +
                     " atoms but the structure has " + std::to_string(system.atom_count()));
  }
  json parameters = {{"cost_cutoff", plan.cost_cutoff},
                     {"domains",
                      {{"count", plan.domain_options.count},
                       {"contact_cutoff", plan.domain_options.contact_cutoff},
                       {"seed", plan.domain_options.seed}}}};
  if (plan.scheme == "denoise") {
    parameters["denoise"] = {{"core_residues", plan.denoise.core_residues},
                             {"buffer", plan.denoise.buffer},
                             {"blend", plan.denoise.blend},
                             {"ligand_contact", plan.denoise.ligand_contact},
                             {"solvent_cell", plan.denoise.solvent_cell}};
  }
  json fragments = json::array();
  for (const Fragment& fragment : plan.fragments) fragments.push_back(fragment_to_json(fragment));
  return {{"format", kFormat},
          {"version", kVersion},
          {"scheme", plan.scheme},
          {"atoms", plan.atom_count},
          {"residues", plan.residue_count},
          {"ranks", plan.ranks},
          {"imbalance", imbalance(plan.rank_cost)},
          {"rank_cost", plan.rank_cost},
          {"parameters", std::move(parameters)},
          {"fragments", std::move(fragments)},
          {"domains",
           {{"count", plan.domains.count},
            {"edge_cut", plan.domains.edge_cut},
            {"residue_domain", plan.domains.residue_domain}}}};
}

Plan plan_from_json(const json& file_json, const std::string& file, const System& system) {
  const Reader reader(file, system);
  const std::string top = "top level";
  if (!file_json.is_object() || reader.value<std::string>(file_json, "format", top) != kFormat) {
    reader.fail(top, std::string("not a plan file (\"format\" is not \"") + kFormat + "\")");
  }
  const int version = reader.value<int>(file_json, "version", top);
  if (version != kVersion)
    reader.fail(top, "plan format version " + std::to_string(version) + " is not supported (expected 1)");

  Plan plan;
  plan.scheme = reader.value<std::string>(file_json, "scheme", top);
  if (plan.scheme != "denoise" && plan.scheme != "ai2bmd")
    reader.fail(top, "unknown scheme '" + plan.scheme + "'");
  plan.atom_count = reader.value<int>(file_json, "atoms", top);
  if (plan.atom_count != system.atom_count()) {
    reader.fail(top, "the plan is for " + std::to_string(plan.atom_count) + " atoms but the structure has " +
                         std::to_string(system.atom_count()));
  }
  plan.residue_count = reader.value<int>(file_json, "residues", top);
  if (plan.residue_count != system.residue_count()) {
    reader.fail(top, "the plan is for " + std::to_string(plan.residue_count) +
                         " residues but the structure has " + std::to_string(system.residue_count()));
  }
  plan.ranks = reader.value<int>(file_json, "ranks", top);
  if (plan.ranks < 1) reader.fail(top, "\"ranks\" must be at least 1");
  plan.rank_cost = reader.value<std::vector<double>>(file_json, "rank_cost", top);
  if (static_cast<int>(plan.rank_cost.size()) != plan.ranks)
    reader.fail(top, "\"rank_cost\" must have one entry per rank");

  const std::string parameters_record = "parameters";
  const json& parameters = reader.member(file_json, "parameters", top);
  plan.cost_cutoff = reader.number(parameters, "cost_cutoff", parameters_record);
  const json& domain_parameters = reader.member(parameters, "domains", parameters_record);
  plan.domain_options.count = reader.value<int>(domain_parameters, "count", parameters_record);
  plan.domain_options.contact_cutoff = reader.number(domain_parameters, "contact_cutoff", parameters_record);
  plan.domain_options.seed = reader.value<int>(domain_parameters, "seed", parameters_record);
  if (plan.scheme == "denoise") {
    const json& denoise = reader.member(parameters, "denoise", parameters_record);
    plan.denoise.core_residues = reader.value<int>(denoise, "core_residues", parameters_record);
    plan.denoise.buffer = reader.number(denoise, "buffer", parameters_record);
    plan.denoise.blend = reader.number(denoise, "blend", parameters_record);
    plan.denoise.ligand_contact = reader.number(denoise, "ligand_contact", parameters_record);
    plan.denoise.solvent_cell = reader.number(denoise, "solvent_cell", parameters_record);
  }

  const json& fragments = reader.member(file_json, "fragments", top);
  if (!fragments.is_array() || fragments.empty()) reader.fail(top, "\"fragments\" must be a non-empty array");
  std::vector<int> core_of(plan.atom_count, -1);
  for (std::size_t f = 0; f < fragments.size(); ++f) {
    plan.fragments.push_back(
        fragment_from_json(reader, fragments[f], static_cast<int>(f), plan.ranks, system));
    if (plan.scheme != "denoise") continue;
    for (int a : plan.fragments.back().core) {
      if (core_of[a] >= 0) {
        reader.fail("fragment " + std::to_string(f), "atom index " + std::to_string(a) +
                                                         " is also in the core of fragment " +
                                                         std::to_string(core_of[a]));
      }
      core_of[a] = static_cast<int>(f);
    }
  }
  if (plan.scheme == "denoise") {
    for (int a = 0; a < plan.atom_count; ++a) {
      if (core_of[a] < 0)
        reader.fail("fragments", "atom index " + std::to_string(a) + " is in no fragment core");
    }
  }

  const std::string domains_record = "domains";
  const json& domains = reader.member(file_json, "domains", top);
  plan.domains.count = reader.value<int>(domains, "count", domains_record);
  plan.domains.edge_cut = reader.value<int>(domains, "edge_cut", domains_record);
  plan.domains.residue_domain = reader.value<std::vector<int>>(domains, "residue_domain", domains_record);
  if (static_cast<int>(plan.domains.residue_domain.size()) != plan.residue_count) {
    reader.fail(domains_record, "\"residue_domain\" must have one entry per residue");
  }
  for (int d : plan.domains.residue_domain) {
    if (d < -1 || d >= plan.domains.count)
      reader.fail(domains_record, "domain " + std::to_string(d) + " is out of range");
  }
  return plan;
}

}  // namespace hemeplm::decomposition
