// Loading a training checkpoint's energy head and evaluating it frame by frame, through the model and
// training layers' own APIs (load_checkpoint_model, make_model_input, set_context, energy_and_forces): the
// same model, weights and graph construction as training and sampling.
#include "energy_head.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "hemeplm/train/checkpoint_model.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/training_checkpoint.hpp"

namespace hemeplm::evaluate {
namespace {

using json = nlohmann::json;

std::string element_list(const std::set<int>& elements) {
  std::string list;
  for (const int z : elements) list += (list.empty() ? "" : ", ") + std::string(element_symbol(z));
  return list;
}

}  // namespace

class EnergyHead::Impl {
 public:
  std::string path;
  std::int64_t step = 0;
  json config;
  model::HemePLMConfig model_config;
  model::HemePLM model{nullptr};
  torch::ScalarType dtype = torch::kFloat64;
  model::HemePLMInput input;
  std::optional<Box> box;
  bool has_input = false;

  model::AtomGraph graph_of(Span<const Vec3> positions) {
    if (!has_input) throw UsageError("EnergyHead: set_system() must come before evaluating frames");
    if (static_cast<std::int64_t>(positions.size()) != input.atom_count())
      throw UsageError("EnergyHead: a frame of " + std::to_string(positions.size()) +
                       " atoms for a system of " + std::to_string(input.atom_count()));
    train::set_context(input, positions, box, model_config.visnet.cutoff);
    return input.context_graph();
  }
};

EnergyHead::EnergyHead(const std::string& checkpoint_path, bool use_ema, bool float64)
    : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.path = checkpoint_path;
  const auto checkpoint = parallel_io::read_checkpoint(checkpoint_path);
  s.step = checkpoint.step;
  s.config = json::parse(checkpoint.config_json, nullptr, false);
  if (s.config.is_discarded() || !s.config.is_object() || s.config.value("format", "") != "hemeplm-train")
    throw InputError(checkpoint_path, "not a checkpoint written by hemeplm train");
  s.model_config = train::checkpoint_model_config(checkpoint.config_json, checkpoint_path);

  s.model = train::load_checkpoint_model(checkpoint, checkpoint_path, use_ema);

  // Trained energy head: the trainer records whether its loss had energy terms; older checkpoints do
  // not, and then the standardisation buffers tell (set only from labelled data, else mean 0, std 1).
  bool trained;
  if (s.config.contains("energy") && s.config["energy"].is_object()) {
    trained = s.config["energy"].value("available", false);
  } else {
    auto buffers = s.model->energy_model()->named_buffers(false);
    trained = buffers["mean"].item<double>() != 0.0 || buffers["std"].item<double>() != 1.0;
  }
  if (!trained)
    throw InputError(checkpoint_path,
                     "has no trained energy head: it was trained on data without energies and forces");

  s.dtype = float64 ? torch::kFloat64 : s.model->parameters().front().scalar_type();
  s.model->to(s.dtype);
  s.model->eval();
}

EnergyHead::~EnergyHead() = default;

const std::string& EnergyHead::path() const {
  return impl_->path;
}
std::int64_t EnergyHead::step() const {
  return impl_->step;
}
bool EnergyHead::float64() const {
  return impl_->dtype == torch::kFloat64;
}

void EnergyHead::check_system(const System& system, const std::string& system_path,
                              std::vector<std::string>& notes) const {
  const auto& s = *impl_;
  const auto limit = std::min<std::int64_t>(s.model_config.visnet.max_z, 100);
  for (int a = 0; a < system.atom_count(); ++a)
    if (system.atomic_numbers[a] >= limit)
      throw InputError(system_path, "atom " + std::to_string(a),
                       "has atomic number " + std::to_string(system.atomic_numbers[a]) +
                           ", outside the model of " + s.path + " (atomic numbers below " +
                           std::to_string(limit) + ")");

  const auto& data = s.config.contains("data") ? s.config["data"] : json::object();
  if (data.is_object() && data.contains("elements") && data["elements"].is_array()) {
    std::set<int> seen;
    for (const auto& z : data["elements"]) seen.insert(z.get<int>());
    std::set<int> unseen;
    for (const int z : system.atomic_numbers)
      if (!seen.count(z)) unseen.insert(z);
    if (!unseen.empty())
      throw InputError(system_path, "has element(s) " + element_list(unseen) + " that the energy head of " +
                                        s.path + " never saw (its training data has " + element_list(seen) +
                                        "): it was trained on another system");
  }

  // The head's energy offset (mean) is per frame of the training system, so a system of another size
  // gives meaningless energies. The datasets are only named in the checkpoint; check them when readable.
  std::vector<std::string> datasets;
  if (s.config.contains("training") && s.config["training"].contains("data") &&
      s.config["training"]["data"].is_array())
    for (const auto& d : s.config["training"]["data"]) datasets.push_back(d.get<std::string>());
  std::vector<std::string> counts;
  bool all_readable = !datasets.empty();
  for (const auto& d : datasets) {
    std::error_code ignored;
    if (!std::filesystem::is_regular_file(d, ignored)) {
      all_readable = false;
      break;
    }
    try {
      const parallel_io::H5mdReader reader(d);
      if (reader.atom_count() == system.atom_count()) return;
      counts.push_back(d + " has " + std::to_string(reader.atom_count()));
    } catch (const Error&) {
      all_readable = false;
      break;
    }
  }
  if (all_readable) {
    std::string list;
    for (const auto& c : counts) list += (list.empty() ? "" : "; ") + c;
    throw InputError(system_path, "has " + std::to_string(system.atom_count()) +
                                      " atoms but the energy head of " + s.path +
                                      " was trained on other systems (" + list + ")");
  }
  notes.push_back("the training data named in the checkpoint is not readable here, so the atom count of " +
                  system_path + " was not compared with it (elements were)");
}

void EnergyHead::set_system(const System& system) {
  auto& s = *impl_;
  train::ModelInputOptions options;
  options.cutoff = s.model_config.visnet.cutoff;
  options.domains = static_cast<int>(s.model_config.pooling_domains);
  options.dtype = s.dtype;
  options.with_context = true;
  s.input = train::make_model_input(system, {}, options);
  s.box = system.box;
  s.has_input = true;
}

double EnergyHead::energy(Span<const Vec3> positions) {
  torch::NoGradGuard no_grad;
  const auto graph = impl_->graph_of(positions);
  return impl_->model->energy_model()->forward(graph).sum().item<double>();
}

double EnergyHead::energy_and_forces(Span<const Vec3> positions, Span<Vec3> forces) {
  torch::AutoGradMode grad_mode(true);
  auto graph = impl_->graph_of(positions);
  graph.positions = graph.positions.detach().requires_grad_(true);
  const auto result = impl_->model->energy_and_forces(graph, /*create_graph=*/false);
  const auto f = result.forces.detach().to(torch::kFloat64).contiguous();
  const auto* values = f.data_ptr<double>();
  for (std::size_t a = 0; a < forces.size(); ++a)
    forces[a] = Vec3{values[3 * a], values[3 * a + 1], values[3 * a + 2]};
  return result.energy.sum().item<double>();
}

std::vector<double> EnergyHead::group_energies(Span<const Vec3> positions,
                                               const std::vector<std::int64_t>& atom_group,
                                               std::int64_t group_count) {
  torch::NoGradGuard no_grad;
  const auto graph = impl_->graph_of(positions);
  // Atoms in no group go to one extra group that is dropped.
  auto index = torch::empty({static_cast<std::int64_t>(atom_group.size())}, torch::kInt64);
  auto* idx = index.data_ptr<std::int64_t>();
  for (std::size_t a = 0; a < atom_group.size(); ++a)
    idx[a] = atom_group[a] < 0 ? group_count : atom_group[a];
  const auto sums =
      impl_->model->residue_energies(graph, index, group_count + 1).to(torch::kFloat64).contiguous();
  const auto* values = sums.data_ptr<double>();
  return std::vector<double>(values, values + group_count);
}

}  // namespace hemeplm::evaluate
