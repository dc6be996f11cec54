// TrainingData on per-molecule datasets (prepare --molecules): property labels of every example, the
// property statistics against a direct computation from the XYZ file, and the held-out split of
// one-frame datasets (whole files instead of trajectory tails).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "hemeplm/core/extxyz.hpp"
#include "hemeplm/core/molecular_properties.hpp"
#include "hemeplm/parallel_io/molecule_dataset.hpp"
#include "hemeplm/train/training_data.hpp"
#include "test_support.hpp"

namespace hemeplm::train {
namespace {

/// The first `count` QM9 molecules as datasets (as prepare --molecules writes them) and their mapped
/// properties, read independently from the XYZ file.
struct Molecules {
  std::vector<std::string> files;
  std::vector<std::vector<MoleculeProperty>> properties;
  std::vector<long> atoms;
};

Molecules write_molecules(const std::string& qm9, const test::TempDir& dir, int count) {
  Molecules out;
  ExtxyzReader reader(qm9, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  for (int i = 0; i < count && reader.next(frame); ++i) {
    out.properties.push_back(map_molecule_properties(frame.properties, qm9, "frame"));
    out.atoms.push_back(static_cast<long>(frame.species.size()));
    out.files.push_back((dir.path() / ("mol-" + std::to_string(i) + ".h5md")).string());
    parallel_io::write_molecule_dataset(out.files.back(), extxyz_frame_system(frame, qm9),
                                        out.properties.back(), {"qm9#" + std::to_string(i), "{}", "{}"});
  }
  return out;
}

TrainingDataOptions options_for(const std::vector<std::string>& files, double validation_fraction) {
  TrainingDataOptions o;
  o.files = files;
  o.validation_fraction = validation_fraction;
  o.input.dtype = torch::kFloat64;
  return o;
}

TEST(TrainingDataProperties, LabelsAndStatisticsOfMolecules) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  test::TempDir dir;
  const Molecules molecules = write_molecules(qm9, dir, 6);
  // 6 files, fraction 0.3: the last ceil(1.8) = 2 molecules are held out whole.
  TrainingData data(options_for(molecules.files, 0.3), MPI_COMM_SELF);

  std::vector<std::string> names;
  for (const auto& p : molecules.properties[0]) names.push_back(p.name);  // sorted by the map
  ASSERT_EQ(data.property_names(), names);
  ASSERT_EQ(data.property_names().size(), 15u);
  const auto units = data.property_units();
  for (std::size_t p = 0; p < names.size(); ++p)
    EXPECT_EQ(units[p], molecules.properties[0][p].unit) << names[p];

  EXPECT_EQ(data.samples_per_epoch(), 4);
  ASSERT_EQ(data.validation_total(), 2);
  const auto validation = data.validation_samples();
  ASSERT_EQ(validation.size(), 2u);
  for (std::size_t v = 0; v < validation.size(); ++v) {
    // One trajectory and one unit per dataset: the sampler "trajectory" is the dataset index.
    const int molecule = validation[v].trajectory;
    EXPECT_EQ(molecule, static_cast<int>(4 + v));
    const TrainingExample example = data.load(validation[v]);
    ASSERT_TRUE(example.properties.defined());
    EXPECT_EQ(example.properties.dtype(), torch::kFloat64);
    ASSERT_EQ(example.properties.numel(), 15);
    for (std::size_t p = 0; p < names.size(); ++p)
      EXPECT_EQ(example.properties[static_cast<long>(p)].item<double>(),
                molecules.properties[molecule][p].value);
  }
  std::set<int> drawn;
  for (int i = 0; i < 8; ++i) {
    const auto sample = data.next();
    ASSERT_LT(sample.trajectory, 4);  // held-out molecules are never drawn for training
    drawn.insert(sample.trajectory);
    const TrainingExample example = data.load(sample);
    EXPECT_EQ(example.x0.size(0), molecules.atoms[sample.trajectory]);
    const auto& expected = molecules.properties[sample.trajectory];
    const auto gap = std::find(names.begin(), names.end(), "gap") - names.begin();
    EXPECT_EQ(example.properties[gap].item<double>(), expected[gap].value);
  }
  EXPECT_EQ(drawn.size(), 4u);  // two epochs of 4 samples cover every training molecule

  // Statistics over the 4 training molecules, computed directly (two-pass, population).
  const auto stats = data.property_statistics();
  ASSERT_EQ(stats.size(), names.size());
  for (std::size_t p = 0; p < names.size(); ++p) {
    double mean = 0, variance = 0;
    for (int m = 0; m < 4; ++m) mean += molecules.properties[m][p].value / 4;
    for (int m = 0; m < 4; ++m) variance += std::pow(molecules.properties[m][p].value - mean, 2) / 4;
    EXPECT_NEAR(stats[p].first, mean, 1e-9 * std::max(1.0, std::abs(mean))) << names[p];
    EXPECT_NEAR(stats[p].second, std::max(std::sqrt(variance), 1e-6),
                1e-6 * std::max(1.0, std::sqrt(variance)))
        << names[p];
  }
}

TEST(TrainingDataProperties, HeldOutFilesNeverEmptyTheTrainingSet) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  test::TempDir dir;
  const Molecules molecules = write_molecules(qm9, dir, 2);
  {
    TrainingData none(options_for(molecules.files, 0.0), MPI_COMM_SELF);
    EXPECT_EQ(none.samples_per_epoch(), 2);
    EXPECT_EQ(none.validation_total(), 0);
  }
  {
    TrainingData most(options_for(molecules.files, 0.9), MPI_COMM_SELF);  // ceil(1.8) = 2, capped at 1
    EXPECT_EQ(most.samples_per_epoch(), 1);
    EXPECT_EQ(most.validation_total(), 1);
  }
  TrainingData single(options_for({molecules.files[0]}, 0.5), MPI_COMM_SELF);
  EXPECT_EQ(single.samples_per_epoch(), 1);
  EXPECT_EQ(single.validation_total(), 0);
  // One molecule: a standard deviation of 0 is floored.
  for (const auto& [mean, std] : single.property_statistics()) EXPECT_EQ(std, 1e-6) << mean;
}

TEST(TrainingDataProperties, CommonPropertiesOnlyAndNoneWithoutLabels) {
  HEMEPLM_REQUIRE_SHARED_DATA(qm9, "qm9_first100.xyz");
  test::TempDir dir;
  const Molecules molecules = write_molecules(qm9, dir, 2);
  ExtxyzReader reader(qm9, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  reader.next(frame);
  const System methane = extxyz_frame_system(frame, qm9);
  const std::string partial = (dir.path() / "partial.h5md").string();
  parallel_io::write_molecule_dataset(partial, methane, {{"gap", "eV", 1.5}, {"extra", "", 2.0}},
                                      {"p", "{}", "{}"});
  TrainingData some(options_for({molecules.files[0], partial}, 0.0), MPI_COMM_SELF);
  EXPECT_EQ(some.property_names(), std::vector<std::string>{"gap"});
  EXPECT_EQ(some.property_units(), std::vector<std::string>{"eV"});
  const auto stats = some.property_statistics();
  ASSERT_EQ(stats.size(), 1u);
  const double gap0 = molecules.properties[0][6].value;  // "gap" is 7th in sorted order
  ASSERT_EQ(molecules.properties[0][6].name, "gap");
  EXPECT_NEAR(stats[0].first, (gap0 + 1.5) / 2, 1e-12);
  EXPECT_NEAR(stats[0].second, std::abs(gap0 - 1.5) / 2, 1e-12);

  const std::string bare = (dir.path() / "bare.h5md").string();
  parallel_io::write_molecule_dataset(bare, methane, {}, {"b", "{}", "{}"});
  TrainingData unlabeled(options_for({molecules.files[0], bare}, 0.0), MPI_COMM_SELF);
  EXPECT_TRUE(unlabeled.property_names().empty());
  EXPECT_TRUE(unlabeled.property_statistics().empty());
  EXPECT_FALSE(unlabeled.load(unlabeled.next()).properties.defined());
}

}  // namespace
}  // namespace hemeplm::train
