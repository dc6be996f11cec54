// hemeplm info: what a structure (plus ligands) holds, as a table or JSON; and the accelerators seen.
#include <cmath>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "command.hpp"
#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/dist/device.hpp"
#include "model_options.hpp"
#include "system_input.hpp"

namespace hemeplm::app {
namespace {

using nlohmann::ordered_json;

ordered_json box_json(const Box& box) {
  ordered_json j;
  ordered_json vectors = ordered_json::array();
  double length[3];
  for (int k = 0; k < 3; ++k) {
    const Vec3& v = box.vectors[k];
    vectors.push_back({v.x, v.y, v.z});
    length[k] = norm(v);
  }
  auto angle = [&](int a, int b) {
    return std::acos(dot(box.vectors[a], box.vectors[b]) / (length[a] * length[b])) * 180.0 / M_PI;
  };
  j["vectors"] = vectors;
  j["lengths"] = {length[0], length[1], length[2]};
  j["angles"] = {angle(1, 2), angle(0, 2), angle(0, 1)};
  j["volume"] = box.volume();
  return j;
}

ordered_json summarize(const System& s) {
  ordered_json j;
  j["file"] = s.sources.empty() ? "" : s.sources.front();
  j["ligand_files"] = ordered_json(
      std::vector<std::string>(s.sources.begin() + (s.sources.empty() ? 0 : 1), s.sources.end()));
  j["atoms"] = s.atom_count();
  j["residues"] = s.residue_count();
  j["chains"] = s.chains.size();
  j["molecules"] = s.molecules.size();
  j["bonds"] = s.bonds.size();
  j["models"] = s.model_count;
  int hydrogens = 0, net_charge = 0;
  std::map<int, int> by_z;
  for (int i = 0; i < s.atom_count(); ++i) {
    hydrogens += s.is_hydrogen(i);
    net_charge += s.formal_charges[i];
    ++by_z[s.atomic_numbers[i]];
  }
  j["hydrogens"] = hydrogens > 0;
  j["hydrogen_count"] = hydrogens;
  j["formal_charge"] = net_charge;
  ordered_json elements = ordered_json::object();
  for (const auto& [z, n] : by_z) elements[std::string(element_symbol(z))] = n;
  j["elements"] = elements;
  std::map<std::string, int> residue_kinds;
  for (const Residue& r : s.residues) ++residue_kinds[to_string(r.kind)];
  j["residue_kinds"] = residue_kinds;
  ordered_json ligands = ordered_json::array();
  for (int m : s.ligand_molecules()) {
    const Molecule& mol = s.molecules[m];
    const Residue& first = s.residues[mol.residues.front()];
    ordered_json l;
    l["name"] = mol.name;
    l["atoms"] = mol.atom_count;
    l["chain"] = s.chains[first.chain].name;
    l["residue"] = first.seq;
    l["source"] = s.sources[s.origins[first.first_atom].source];
    ligands.push_back(l);
  }
  j["ligands"] = ligands;
  j["box"] = s.box ? box_json(*s.box) : ordered_json(nullptr);
  return j;
}

void print_table(std::ostream& out, const ordered_json& j) {
  auto row = [&](const char* key, const std::string& value) {
    out << std::left << std::setw(16) << key << value << '\n';
  };
  row("file", j["file"].get<std::string>());
  for (const auto& l : j["ligand_files"]) row("ligand file", l.get<std::string>());
  row("atoms", std::to_string(j["atoms"].get<int>()));
  row("hydrogens", j["hydrogens"].get<bool>()
                       ? "present (" + std::to_string(j["hydrogen_count"].get<int>()) + ")"
                       : "absent");
  row("residues", std::to_string(j["residues"].get<int>()));
  std::string kinds;
  for (const auto& [k, v] : j["residue_kinds"].items())
    kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(v.get<int>());
  row("  by kind", kinds);
  row("chains", std::to_string(j["chains"].get<int>()));
  row("molecules", std::to_string(j["molecules"].get<int>()));
  row("bonds", std::to_string(j["bonds"].get<int>()));
  row("models", std::to_string(j["models"].get<int>()));
  row("formal charge", std::to_string(j["formal_charge"].get<int>()));
  std::string elements;
  for (const auto& [k, v] : j["elements"].items())
    elements += (elements.empty() ? "" : " ") + k + std::to_string(v.get<int>());
  row("elements", elements);
  if (j["box"].is_null()) {
    row("box", "none (not periodic)");
  } else {
    std::ostringstream b;
    b << std::fixed << std::setprecision(3) << j["box"]["lengths"][0].get<double>() << " x "
      << j["box"]["lengths"][1].get<double>() << " x " << j["box"]["lengths"][2].get<double>()
      << " Å, angles " << std::setprecision(2) << j["box"]["angles"][0].get<double>() << " "
      << j["box"]["angles"][1].get<double>() << " " << j["box"]["angles"][2].get<double>();
    row("box", b.str());
  }
  if (j["ligands"].empty()) row("ligands", "none");
  for (const auto& l : j["ligands"])
    row("ligand", l["name"].get<std::string>() + " (" + std::to_string(l["atoms"].get<int>()) +
                      " atoms, chain " + l["chain"].get<std::string>() + ", from " +
                      l["source"].get<std::string>() + ")");
}

ordered_json devices_json(MPI_Comm comm) {
  const dist::DeviceReport r = dist::query_devices();
  ordered_json j;
  j["cuda_built"] = r.cuda_built;
  j["nccl_built"] = r.nccl_built;
  j["cuda_runtime"] = r.cuda_runtime_version;
  j["cuda_driver"] = r.cuda_driver_version;
  j["nccl"] = r.nccl_version;
  j["devices"] = r.devices;
  const dist::NodePlacement placement = dist::node_placement(comm);
  j["node_local_rank"] = placement.local_rank;
  j["node_ranks"] = placement.local_size;
  if (!r.devices.empty()) {
    const int device = dist::bind_device(comm);
    j["bound_device"] = device;
    const std::string problem = dist::device_self_test(device);
    j["self_test"] = problem.empty() ? "passed" : problem;
  }
  j["problem"] = r.problem;
  return j;
}

ordered_json model_json(const model::HemePLMConfig& config) {
  const auto built = model::count_parameters(config);
  const auto expected = model::expected_parameter_counts(config);
  ordered_json j;
  j["model"] = config.name;
  std::int64_t total = 0, trainable = 0, expected_total = 0;
  ordered_json modules = ordered_json::object();
  for (std::size_t i = 0; i < built.size(); ++i) {
    total += built[i].parameters;
    trainable += built[i].trainable_in_stage2;
    expected_total += expected[i].parameters;
    modules[built[i].module] = {{"parameters", built[i].parameters},
                                {"expected_from_spec", expected[i].parameters},
                                {"trainable_in_stage2", built[i].trainable_in_stage2}};
  }
  j["parameters"] = total;
  j["expected_from_spec"] = expected_total;
  j["trainable_in_stage2"] = trainable;
  j["modules"] = modules;
  ordered_json hyper = ordered_json::object();
  for (const auto& [key, value] : model::hyperparameter_values(config))
    if (key != "name") hyper[key] = value;
  j["hyperparameters"] = hyper;
  return j;
}

void print_model_table(std::ostream& out, const ordered_json& j) {
  out << "model           " << j["model"].get<std::string>() << '\n'
      << "parameters      " << j["parameters"].get<std::int64_t>()
      << " (spec formulas: " << j["expected_from_spec"].get<std::int64_t>()
      << "; trainable in stage 2: " << j["trainable_in_stage2"].get<std::int64_t>() << ")\n";
  for (const auto& [name, m] : j["modules"].items())
    out << "  " << std::left << std::setw(18) << name << std::right << std::setw(12)
        << m["parameters"].get<std::int64_t>() << '\n';
  out << "hyperparameters\n";
  for (const auto& [key, value] : j["hyperparameters"].items())
    out << "  " << std::left << std::setw(36) << key << value.get<std::string>() << '\n';
}

class InfoCommand final : public Command {
 public:
  const char* name() const override { return "info"; }
  const char* summary() const override {
    return "describe a structure (atoms, residues, ligands, bonds, box) or the devices";
  }
  const char* usage() const override {
    return "STRUCTURE [--ligand FILE]... [--json] | --devices [--json] | --model NAME [--json]";
  }
  void add_options(po::options_description& options) const override {
    po::positional_options_description unused;
    add_structure_options(options, unused);
    options.add_options()("json", po::bool_switch(), "print one JSON object instead of a table")(
        "devices", po::bool_switch(),
        "describe the CUDA devices and NCCL this build can use, and self-test them");
    add_model_options(options, nullptr);
  }
  void add_positionals(po::positional_options_description& positionals) const override {
    positionals.add("structure", 1);
  }
  const char* epilog() const override {
    return "Examples:\n"
           "  hemeplm info inputs/example/complex.pdb --ligand inputs/example/ligand.sdf\n"
           "  hemeplm info protein.cif --json | jq .atoms\n"
           "  mpirun -n 4 hemeplm info --devices   # one line per node-local rank binding\n"
           "  hemeplm info --model paper --json     # parameter counts per module\n"
           "  hemeplm info --model tiny --model.denoiser.layers 4\n"
           "  hemeplm info --model paper --config model.ini   # [model] section: visnet.hidden = 128\n";
  }
  int run(const po::variables_map& options, const RunContext& context) const override {
    const bool json = options["json"].as<bool>();
    if (options.count("model")) {
      return run_on_root(context, [&] {
        const ordered_json j = model_json(model_config_from(options));
        if (json) {
          *context.out << j.dump(2) << '\n';
        } else {
          print_model_table(*context.out, j);
        }
        return 0;
      });
    }
    if (options["devices"].as<bool>()) {
      const ordered_json j = devices_json(context.comm);
      if (context.is_root()) {
        if (json) {
          *context.out << j.dump(2) << '\n';
        } else {
          *context.out << "CUDA:    "
                       << (j["cuda_built"].get<bool>() ? "runtime " + j["cuda_runtime"].get<std::string>()
                                                       : "not built")
                       << '\n'
                       << "NCCL:    "
                       << (j["nccl_built"].get<bool>() ? j["nccl"].get<std::string>() : "not built") << '\n';
          for (const auto& d : j["devices"]) *context.out << "device:  " << d.get<std::string>() << '\n';
          if (j.contains("self_test"))
            *context.out << "self-test on device " << j["bound_device"] << ": "
                         << j["self_test"].get<std::string>() << '\n';
          if (!j["problem"].get<std::string>().empty())
            *context.out << "no GPU:  " << j["problem"].get<std::string>() << '\n';
        }
      }
      return 0;
    }
    return run_on_root(context, [&] {
      const ordered_json j = summarize(load_validated_system(options));
      if (json) {
        *context.out << j.dump(2) << '\n';
      } else {
        print_table(*context.out, j);
      }
      return 0;
    });
  }
};

}  // namespace

std::unique_ptr<Command> make_info_command() {
  return std::make_unique<InfoCommand>();
}

}  // namespace hemeplm::app
