// Property-head training on real QM9 molecules (one H5MD dataset per molecule, written like `hemeplm
// prepare --molecules` does): a fresh run sets the head's standardisation from the labels, a gap-only
// step (--targets gap,diffusion:0) has gradients on the head and the backbone only and changes the head,
// and --targets errors name the bad item.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/extxyz.hpp"
#include "hemeplm/core/molecular_properties.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/parallel_io/dataset_reader.hpp"
#include "hemeplm/parallel_io/molecule_dataset.hpp"
#include "hemeplm/train/trainer.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

namespace fs = std::filesystem;
using namespace hemeplm::test;  // NOLINT: test helpers

/// The first `count` QM9 molecules as datasets in `dir`.
std::vector<std::string> write_molecules(const std::string& xyz, const fs::path& dir, int count) {
  ExtxyzReader reader(xyz, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  std::vector<std::string> files;
  for (int i = 0; i < count && reader.next(frame); ++i) {
    const auto record = "frame " + std::to_string(i);
    const System system = extxyz_frame_system(frame, xyz);
    const auto properties = map_molecule_properties(frame.properties, xyz, record);
    parallel_io::MoleculeDatasetInfo info;
    info.source = xyz + "#" + record;
    files.push_back((dir / ("mol-" + std::to_string(i) + ".h5md")).string());
    parallel_io::write_molecule_dataset(files.back(), system, properties, info);
  }
  return files;
}

TrainingOptions gap_options(const std::vector<std::string>& files, const fs::path& ckpt) {
  TrainingOptions o;
  o.data = files;
  o.stage = 1;
  o.model = model::model_config("tiny");
  o.targets = "gap,diffusion:0";
  o.validation_fraction = 0;
  o.steps = 1;
  o.batch = 4;
  o.lr = 1e-2;
  o.warmup_steps = 0;
  o.threads = 1;
  o.progress = false;
  o.checkpoint_dir = ckpt.string();
  return o;
}

std::vector<float> floats(const parallel_io::TensorRecord& r) {
  std::vector<float> v(r.data.size() / sizeof(float));
  std::memcpy(v.data(), r.data.data(), v.size() * sizeof(float));
  return v;
}

TEST(PropertyTraining, GapOnlyStepTrainsTheHeadFromStandardisedLabels) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "qm9_first100.xyz");
  TempDir dir;
  const auto files = write_molecules(xyz, dir.path(), 8);
  ASSERT_EQ(files.size(), 8u);
  const auto options = gap_options(files, dir.path() / "ckpt");

  {  // Gradients reach the gap head and the backbone, nothing else (no diffusion term).
    Trainer trainer(options, MPI_COMM_SELF, nullptr);
    std::vector<double> gradient;
    trainer.compute_gradients(gradient);
    double norm = 0;
    for (const double g : gradient) norm += g * g;
    EXPECT_GT(norm, 0);
    // Trainable: the backbone and the gap head. The gap head has the size of the (frozen) energy head,
    // so the count is the energy model's.
    auto config = options.model;
    config.property_heads = "gap";
    std::int64_t expected = 0;
    for (const auto& m : model::expected_parameter_counts(config))
      if (m.module == "energy_model") expected = m.parameters;
    EXPECT_EQ(trainer.trainable_parameters(), expected);
  }

  Trainer trainer(options, MPI_COMM_SELF, nullptr);
  const auto summary = trainer.run();
  ASSERT_EQ(summary.step, 1);
  const auto checkpoint = parallel_io::read_checkpoint(summary.last_checkpoint);
  // The initial parameters: the trainer seeds torch with options.seed before building the model.
  auto config = options.model;
  config.property_heads = "gap";
  torch::manual_seed(options.seed);
  model::HemePLM initial(config);
  auto initial_parameters = initial->named_parameters();
  auto initial_buffers = initial->named_buffers();
  bool head_changed = false, denoiser_changed = false;
  double mean = 0, scale = 0;
  for (const auto& record : checkpoint.parameters) {
    if (record.name == "property_heads.gap.mean") mean = floats(record).at(0);
    if (record.name == "property_heads.gap.std") scale = floats(record).at(0);
    if (!initial_parameters.contains(record.name)) continue;
    const auto before = initial_parameters[record.name].detach().contiguous().reshape({-1});
    const auto after = floats(record);
    double difference = 0;
    for (std::size_t i = 0; i < after.size(); ++i)
      difference = std::max(difference, std::abs(static_cast<double>(after[i]) -
                                                 before[static_cast<std::int64_t>(i)].item<double>()));
    if (record.name.rfind("property_heads.gap.", 0) == 0 && difference > 0) head_changed = true;
    if (record.name.rfind("denoiser.", 0) == 0 && difference > 0) denoiser_changed = true;
  }
  EXPECT_TRUE(head_changed);
  EXPECT_FALSE(denoiser_changed);  // diffusion:0: the denoiser is not trained (nor weight-decayed)
  // Fresh run: the head standardisation is the labels' mean and population std.
  std::vector<double> gaps;
  for (const auto& f : files) {
    const auto p = parallel_io::read_frame_properties(f);
    for (std::size_t i = 0; i < p.names.size(); ++i)
      if (p.names[i] == "gap") gaps.push_back(p.values[i].at(0));
  }
  ASSERT_EQ(gaps.size(), files.size());
  double m = 0, v = 0;
  for (const double g : gaps) m += g / static_cast<double>(gaps.size());
  for (const double g : gaps) v += (g - m) * (g - m) / static_cast<double>(gaps.size());
  EXPECT_NEAR(mean, m, 1e-5);
  EXPECT_NEAR(scale, std::sqrt(v), 1e-5);
  EXPECT_GT(m, 3.0);  // QM9 gaps in eV, not Hartree
}

TEST(PropertyTraining, TargetsErrors) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "qm9_first100.xyz");
  TempDir dir;
  const auto files = write_molecules(xyz, dir.path(), 2);
  auto options = gap_options(files, dir.path() / "ckpt");
  options.targets = "gap,energy";
  EXPECT_THROW(Trainer(options, MPI_COMM_SELF, nullptr), UsageError);  // QM9 here has no forces
  options.targets = "nosuch";
  try {
    Trainer trainer(options, MPI_COMM_SELF, nullptr);
    FAIL() << "a property the data lacks";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no property 'nosuch'"), std::string::npos) << e.what();
  }
  options.targets = "diffusion:0";
  EXPECT_THROW(Trainer(options, MPI_COMM_SELF, nullptr), UsageError);
}

}  // namespace
}  // namespace hemeplm::train
