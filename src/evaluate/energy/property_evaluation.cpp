// hemeplm evaluate, property part: the checkpoint's per-molecule property heads (HOMO-LUMO gap, ...) on
// every frame of every reference file against the labels stored in the files, written as
// properties.csv and the "properties" object of metrics.json. Each file is its own system (a molecule
// set is one file per molecule), so the model input is rebuilt per file.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/energy_evaluation.hpp"
#include "hemeplm/model/config.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/parallel_io/dataset_reader.hpp"
#include "hemeplm/train/checkpoint_model.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "regression_accumulator.hpp"

namespace hemeplm::evaluate {
namespace {

using json = nlohmann::ordered_json;

/// CSV field: quoted when it holds a separator or a quote.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

CheckpointHeads checkpoint_heads(const std::string& checkpoint_path) {
  const auto checkpoint = parallel_io::read_checkpoint(checkpoint_path);
  const auto config = json::parse(checkpoint.config_json, nullptr, false);
  if (config.is_discarded() || !config.is_object() || config.value("format", "") != "hemeplm-train")
    throw InputError(checkpoint_path, "not a checkpoint written by hemeplm train");
  CheckpointHeads heads;
  const auto model_config = train::checkpoint_model_config(checkpoint.config_json, checkpoint_path);
  heads.properties = model::split_property_heads(model_config.property_heads);
  // Checkpoints older than the "energy" record: EnergyHead decides from the buffers, so say "trained".
  heads.energy = config.contains("energy") && config["energy"].is_object()
                     ? config["energy"].value("available", false)
                     : true;
  return heads;
}

std::string evaluate_property_heads(const PropertyEvaluationOptions& options,
                                    const std::vector<std::string>& reference_files,
                                    const std::string& out_dir, std::ostream& log) {
  if (options.checkpoint.empty()) throw UsageError("the property evaluation needs --checkpoint CHECKPOINT");
  const auto start = std::chrono::steady_clock::now();
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  model::set_torch_threads(threads);

  const auto checkpoint = parallel_io::read_checkpoint(options.checkpoint);
  const auto model_config = train::checkpoint_model_config(checkpoint.config_json, options.checkpoint);
  auto model = train::load_checkpoint_model(checkpoint, options.checkpoint, options.use_ema);
  if (!model->has_property_heads())
    throw InputError(options.checkpoint,
                     "has no property heads (model.property_heads is empty: train with --targets gap)");
  const auto dtype = options.float64 ? torch::kFloat64 : model->parameters().front().scalar_type();
  model->to(dtype);
  model->eval();
  const auto names = model->property_names();
  const auto statistics = model->property_standardization();

  std::vector<RegressionAccumulator> metrics(names.size());
  std::vector<double> baseline_abs(names.size(), 0.0);
  std::vector<std::string> units(names.size());
  std::vector<std::string> notes;
  const std::string csv_path = (std::filesystem::path(out_dir) / "properties.csv").string();
  std::ofstream csv(csv_path);
  if (!csv) throw InputError(csv_path, "cannot open for writing");
  csv << "file,frame,property,unit,label,prediction\n" << std::setprecision(10);

  std::int64_t frames = 0;
  torch::NoGradGuard no_grad;
  for (const auto& path : reference_files) {
    const Trajectory trajectory = read_trajectory(path);
    const auto labels = parallel_io::read_frame_properties(path);
    train::ModelInputOptions input_options;
    input_options.cutoff = model_config.visnet.cutoff;
    input_options.domains = static_cast<int>(model_config.pooling_domains);
    input_options.dtype = dtype;
    input_options.with_context = true;
    auto input = train::make_model_input(trajectory.system, {}, input_options);
    for (std::size_t p = 0; p < names.size(); ++p) {
      const auto it = std::find(labels.names.begin(), labels.names.end(), names[p]);
      if (it == labels.names.end())
        notes.push_back(path + " has no '" + names[p] + "' labels: its predictions are written without them");
      else if (units[p].empty())
        units[p] = labels.units[static_cast<std::size_t>(it - labels.names.begin())];
    }
    for (std::int64_t f = 0; f < trajectory.frame_count; ++f) {
      train::set_context(input, trajectory.frame(f), trajectory.system.box, model_config.visnet.cutoff);
      const auto predicted = model->properties(input.context_graph()).to(torch::kFloat64).contiguous();
      const auto* values = predicted.data_ptr<double>();
      for (std::size_t p = 0; p < names.size(); ++p) {
        const auto it = std::find(labels.names.begin(), labels.names.end(), names[p]);
        double label = std::nan("");
        if (it != labels.names.end()) {
          const auto& series = labels.values[static_cast<std::size_t>(it - labels.names.begin())];
          if (f < static_cast<std::int64_t>(series.size())) label = series[static_cast<std::size_t>(f)];
        }
        if (std::isfinite(label)) {
          metrics[p].add(label, values[p]);
          baseline_abs[p] += std::abs(label - statistics[p].first);
        }
        csv << csv_field(path) << ',' << f << ',' << names[p] << ',' << csv_field(units[p]) << ',';
        if (std::isfinite(label)) csv << label;
        csv << ',' << values[p] << '\n';
      }
      ++frames;
    }
  }
  csv.close();
  if (!csv) throw InputError(csv_path, "write failed");

  json result;
  result["checkpoint"] = options.checkpoint;
  result["checkpoint_step"] = checkpoint.step;
  result["weights"] = options.use_ema ? "ema" : "raw";
  result["dtype"] = dtype == torch::kFloat64 ? "float64" : "float32";
  result["files"] = reference_files.size();
  result["frames"] = frames;
  json properties = json::object();
  for (std::size_t p = 0; p < names.size(); ++p) {
    const auto m = metrics[p].metrics();
    if (m.count == 0) {
      properties[names[p]] = nullptr;
      continue;
    }
    properties[names[p]] = {{"unit", units[p]},
                            {"count", m.count},
                            {"mse", m.mse},
                            {"mae", m.mae},
                            {"rmse", m.rmse},
                            {"r2", m.r2},
                            {"pearson", m.pearson},
                            {"mean_baseline_mae", baseline_abs[p] / static_cast<double>(m.count)},
                            {"training_mean", statistics[p].first},
                            {"training_std", statistics[p].second}};
  }
  result["properties"] = properties;
  result["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result["csv"] = {"properties.csv"};
  result["notes"] = notes;
  log << "property heads: " << frames << " frames of " << reference_files.size() << " file(s) evaluated\n"
      << std::flush;
  return result.dump();
}

}  // namespace hemeplm::evaluate
