#include "sample_fixtures.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/train/model_state.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "test_support.hpp"

namespace hemeplm::sample::test {

System example_complex() {
  SystemSources sources;
  sources.structure = hemeplm::test::source_file("inputs/example/complex.pdb");
  sources.ligands = {hemeplm::test::source_file("inputs/example/ligand.sdf")};
  return load_system(sources);
}

model::HemePLMConfig short_range_config() {
  auto c = model::model_config("tiny");
  c.visnet.layers = 1;
  c.denoiser.layers = 1;
  return c;
}

model::HemePLM random_model(const model::HemePLMConfig& config, torch::ScalarType dtype, std::uint64_t seed) {
  torch::manual_seed(seed);
  model::HemePLM model(config);
  model->to(dtype);
  model->eval();
  return model;
}

model::HemePLM smooth_model(const model::HemePLMConfig& config, torch::ScalarType dtype, std::uint64_t seed,
                            double scale) {
  auto model = random_model(config, dtype, seed);
  torch::NoGradGuard no_grad;
  for (auto& p : model->denoiser()->parameters()) p.mul_(scale);
  return model;
}

void save_sampling_checkpoint(const std::string& path, const model::HemePLM& model, int window_frames,
                              int diffusion_steps, double dt_ps) {
  nlohmann::ordered_json j;
  j["format"] = "hemeplm-train";
  j["model"] = nlohmann::ordered_json::parse(train::model_config_json_text(model->config()));
  j["training"] = {{"stage", 2},
                   {"window_frames", window_frames},
                   {"diffusion_steps", diffusion_steps},
                   {"schedule", "linear"}};
  j["data"] = {{"dt_ps", dt_ps}, {"ranks", 1}};
  train::save_module(path, *model, j.dump(), 1);
}

std::string shared_temp_dir(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::vector<char> buffer(4096, 0);
  if (rank == 0) {
    auto base = std::filesystem::temp_directory_path() / "hemeplm-sample-test-XXXXXX";
    std::string pattern = base.string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    std::copy(pattern.begin(), pattern.end(), buffer.begin());
  }
  MPI_Bcast(buffer.data(), static_cast<int>(buffer.size()), MPI_CHAR, 0, comm);
  return std::string(buffer.data());
}

double all_max(double value, MPI_Comm comm) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
  return value;
}

}  // namespace hemeplm::sample::test
