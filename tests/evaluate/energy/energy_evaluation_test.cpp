// The energy part of hemeplm evaluate on real files: a tiny model trained by the real binary on rMD17
// ethanol, its energies checked against the model API called directly, its forces against central finite
// differences of that energy, the CSV files against the output contract, and the refusals (no trained
// energy head, atoms of another system). Regression metrics are checked against hand-computed values
// and a plain two-pass reference.
#include "hemeplm/evaluate/energy_evaluation.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/trajectory.hpp"
#include "hemeplm/model/hemeplm_model.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/train/model_input.hpp"
#include "hemeplm/train/model_state.hpp"
#include "hemeplm/train/training_checkpoint.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

// ---------------------------------------------------------------------------------------------------
// Regression metrics

TEST(RegressionMetrics, PerfectPredictionHasUnitR2AndPearson) {
  const std::vector<double> y{1.5, -2.0, 3.25, 7.0};
  const auto m = regression_metrics(y, y);
  EXPECT_EQ(m.count, 4);
  EXPECT_DOUBLE_EQ(m.mse, 0.0);
  EXPECT_DOUBLE_EQ(m.mae, 0.0);
  EXPECT_DOUBLE_EQ(m.rmse, 0.0);
  EXPECT_DOUBLE_EQ(m.r2, 1.0);
  EXPECT_NEAR(m.pearson, 1.0, 1e-15);
}

TEST(RegressionMetrics, ConstantOffsetKeepsPearsonButNotR2) {
  // truth 1..4: SS_tot = 5; every error is 2, so SS_res = 16 and R² = 1 - 16/5.
  const auto m = regression_metrics({1, 2, 3, 4}, {3, 4, 5, 6});
  EXPECT_DOUBLE_EQ(m.mse, 4.0);
  EXPECT_DOUBLE_EQ(m.mae, 2.0);
  EXPECT_DOUBLE_EQ(m.rmse, 2.0);
  EXPECT_NEAR(m.r2, 1.0 - 16.0 / 5.0, 1e-14);
  EXPECT_NEAR(m.pearson, 1.0, 1e-14);
}

TEST(RegressionMetrics, SmallExampleByHand) {
  // errors 1, 0, 1; SS_tot = 2, SS_res = 2; centred truth (-1, 0, 1), predictions (-2/3, -2/3, 4/3):
  // covariance sum 2, SS_pred 24/9, so pearson = 2 / sqrt(2 * 24/9) = sqrt(3)/2.
  const auto m = regression_metrics({1, 2, 3}, {2, 2, 4});
  EXPECT_NEAR(m.mse, 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(m.mae, 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(m.rmse, std::sqrt(2.0 / 3.0), 1e-15);
  EXPECT_NEAR(m.r2, 0.0, 1e-15);
  EXPECT_NEAR(m.pearson, std::sqrt(3.0) / 2.0, 1e-15);
}

TEST(RegressionMetrics, LargeEnergiesMatchATwoPassReference) {
  // Molecular energies: -4e5 kJ/mol with a spread of a few kJ/mol, where one-pass sums would cancel.
  std::vector<double> truth, predicted;
  for (int i = 0; i < 1000; ++i) {
    truth.push_back(-406000.0 + 3.0 * std::sin(0.37 * i));
    predicted.push_back(truth.back() + 0.5 * std::cos(1.3 * i) + 0.1);
  }
  const double n = static_cast<double>(truth.size());
  double mt = 0, mp = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) mt += truth[i] / n, mp += predicted[i] / n;
  double sst = 0, ssp = 0, sxy = 0, sse = 0, sae = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    sst += (truth[i] - mt) * (truth[i] - mt);
    ssp += (predicted[i] - mp) * (predicted[i] - mp);
    sxy += (truth[i] - mt) * (predicted[i] - mp);
    sse += (predicted[i] - truth[i]) * (predicted[i] - truth[i]);
    sae += std::abs(predicted[i] - truth[i]);
  }
  const auto m = regression_metrics(truth, predicted);
  EXPECT_NEAR(m.mse, sse / n, 1e-9);
  EXPECT_NEAR(m.mae, sae / n, 1e-9);
  EXPECT_NEAR(m.r2, 1 - sse / sst, 1e-9);
  EXPECT_NEAR(m.pearson, sxy / std::sqrt(sst * ssp), 1e-9);
  EXPECT_GT(m.r2, 0.9);
}

TEST(RegressionMetrics, UndefinedCasesAreNaNAndSizesMustMatch) {
  const auto constant = regression_metrics({2, 2, 2}, {1, 2, 3});
  EXPECT_TRUE(std::isnan(constant.r2));
  EXPECT_TRUE(std::isnan(constant.pearson));
  EXPECT_NEAR(constant.mae, 2.0 / 3.0, 1e-15);
  const auto empty = regression_metrics({}, {});
  EXPECT_EQ(empty.count, 0);
  EXPECT_TRUE(std::isnan(empty.mse));
  EXPECT_THROW(regression_metrics({1, 2}, {1}), UsageError);
}

// ---------------------------------------------------------------------------------------------------
// The energy head of a real checkpoint

std::vector<std::string> csv_lines(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
  return fields;
}

/// The newest checkpoint-*.h5 of a folder, or "" when there is none.
std::string newest_checkpoint(const fs::path& dir) {
  std::string newest;
  if (!fs::is_directory(dir)) return newest;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0 && entry.path().extension() == ".h5" &&
        entry.path().string() > newest)
      newest = entry.path().string();
  }
  return newest;
}

/// Runs the real binary; the test fails with its stderr when it does not exit 0.
void run_hemeplm(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::hemeplm_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = test::run_command(argv, 600);
  ASSERT_EQ(r.exit_status, 0) << "hemeplm " << args.front() << ":\n" << r.out << r.err;
}

/// The checkpoint's model with its EMA weights, in float64, built directly through the model and
/// training APIs: the plain reference the evaluation is compared with.
model::HemePLM reference_model(const std::string& path) {
  const auto checkpoint = parallel_io::read_checkpoint(path);
  model::HemePLM model(train::checkpoint_model_config(checkpoint.config_json, path));
  train::load_module_state(*model, checkpoint.parameters, path);
  torch::NoGradGuard no_grad;
  auto named = model->named_parameters(true);
  for (const auto& record : checkpoint.ema) {
    auto* param = named.find(record.name);
    if (!param) continue;
    EXPECT_EQ(record.dtype, parallel_io::DType::kFloat32) << record.name;
    param->copy_(torch::from_blob(const_cast<unsigned char*>(record.data.data()),
                                  torch::IntArrayRef(record.shape), torch::kFloat32));
  }
  model->to(torch::kFloat64);
  model->eval();
  return model;
}

/// E (kJ/mol) of `system` at `positions` through HemePLMInput::context_graph and EnergyModel::forward.
double reference_energy(model::HemePLM& model, System system, const std::vector<Vec3>& positions) {
  torch::NoGradGuard no_grad;
  system.positions = positions;
  train::ModelInputOptions options;
  options.cutoff = model->config().visnet.cutoff;
  options.dtype = torch::kFloat64;
  const auto input = train::make_model_input(system, {}, options);
  return model->energy_model()->forward(input.context_graph()).item<double>();
}

class EnergyEvaluation : public ::testing::Test {
 protected:
  // One dataset and one trained checkpoint for the whole suite: training takes seconds, not milliseconds.
  static void SetUpTestSuite() {
    const std::string xyz = test::shared_data("rmd17_ethanol_1000_train.xyz");
    if (xyz.empty()) return;
    dir_ = std::make_unique<TempDir>();
    dataset_ = (dir_->path() / "eth.h5md").string();
    run_hemeplm({"prepare", "--trajectory", xyz, "--last-frame", "100", "--out", dataset_});
    run_hemeplm({"train", "--data", dataset_, "--model", "tiny", "--stage", "1", "--steps", "20", "--batch",
                 "4", "--threads", "1", "--checkpoint-dir", (dir_->path() / "ck").string(),
                 "--validation-fraction", "0", "--quiet"});
    checkpoint_ = newest_checkpoint(dir_->path() / "ck");
  }
  static void TearDownTestSuite() { dir_.reset(); }

  void SetUp() override {
    if (test::shared_data("rmd17_ethanol_1000_train.xyz").empty())
      GTEST_SKIP() << "../shared/data/rmd17_ethanol_1000_train.xyz is absent: test needs it";
    ASSERT_FALSE(checkpoint_.empty()) << "training the suite's checkpoint failed";
  }

  EnergyEvaluationOptions options() const {
    EnergyEvaluationOptions o;
    o.checkpoint = checkpoint_;
    o.threads = 1;
    return o;
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string dataset_, checkpoint_;
};
std::unique_ptr<TempDir> EnergyEvaluation::dir_;
std::string EnergyEvaluation::dataset_;
std::string EnergyEvaluation::checkpoint_;

TEST_F(EnergyEvaluation, EnergiesEqualTheModelApiAndMetricsMatchTheCsv) {
  const auto reference = read_trajectory(dataset_, 0, 6);
  ASSERT_TRUE(reference.has_energies());
  TempDir out;
  std::ostringstream log;
  const auto result = json::parse(evaluate_energy_head(options(), reference, {}, out.path().string(), log));
  EXPECT_NE(log.str().find("100%"), std::string::npos) << log.str();

  auto model = reference_model(checkpoint_);
  const auto rows = csv_lines(out.path() / "energy_frames.csv");
  ASSERT_EQ(rows.size(), 7u);
  std::vector<double> truth, predicted;
  for (std::int64_t f = 0; f < reference.frame_count; ++f) {
    const auto fields = split(rows[static_cast<std::size_t>(f + 1)]);
    ASSERT_EQ(fields.size(), 3u);
    EXPECT_EQ(std::stoll(fields[0]), f);
    const auto frame = reference.frame(f);
    const double expected =
        reference_energy(model, reference.system, std::vector<Vec3>(frame.begin(), frame.end()));
    EXPECT_NEAR(std::stod(fields[2]), expected, 1e-9 * std::abs(expected)) << "frame " << f;
    // The CSV files keep 12 significant digits.
    const double label = reference.energies[static_cast<std::size_t>(f)];
    EXPECT_NEAR(std::stod(fields[1]), label, 1e-11 * std::abs(label));
    truth.push_back(std::stod(fields[1]));
    predicted.push_back(std::stod(fields[2]));
  }
  const auto m = regression_metrics(truth, predicted);
  EXPECT_NEAR(result["energy"]["mae"].get<double>(), m.mae, 1e-6 * (1 + m.mae));
  EXPECT_NEAR(result["energy"]["mse"].get<double>(), m.mse, 1e-6 * (1 + m.mse));
  EXPECT_EQ(result["energy"]["count"].get<int>(), 6);
  EXPECT_EQ(result["frames"].get<int>(), 6);
  EXPECT_EQ(result["dtype"], "float64");
  EXPECT_EQ(result["weights"], "ema");
}

TEST_F(EnergyEvaluation, ForcesEqualCentralFiniteDifferencesOfTheEnergy) {
  const auto reference = read_trajectory(dataset_, 7, 1);
  TempDir out;
  std::ostringstream log;
  const auto result = json::parse(evaluate_energy_head(options(), reference, {}, out.path().string(), log));
  const auto rows = csv_lines(out.path() / "force_components.csv");
  const int atoms = reference.atom_count();
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(1 + 3 * atoms));

  auto model = reference_model(checkpoint_);
  const auto frame = reference.frame(0);
  const std::vector<Vec3> x0(frame.begin(), frame.end());
  constexpr double h = 1e-4;  // Å
  double largest = 0;
  std::vector<double> finite_difference, predicted;
  for (int a = 0; a < atoms; ++a) {
    for (int c = 0; c < 3; ++c) {
      auto plus = x0, minus = x0;
      (c == 0 ? plus[a].x : c == 1 ? plus[a].y : plus[a].z) += h;
      (c == 0 ? minus[a].x : c == 1 ? minus[a].y : minus[a].z) -= h;
      const double fd = -(reference_energy(model, reference.system, plus) -
                          reference_energy(model, reference.system, minus)) /
                        (2 * h);
      const auto fields = split(rows[static_cast<std::size_t>(1 + 3 * a + c)]);
      ASSERT_EQ(fields.size(), 5u);
      EXPECT_EQ(std::stoi(fields[1]), a);
      EXPECT_EQ(fields[2], std::string(1, "xyz"[c]));
      const double label = reference.forces[static_cast<std::size_t>(a)][c];
      EXPECT_NEAR(std::stod(fields[3]), label, 1e-11 * std::abs(label));
      finite_difference.push_back(fd);
      predicted.push_back(std::stod(fields[4]));
      largest = std::max(largest, std::abs(fd));
    }
  }
  ASSERT_GT(largest, 0.0);
  for (std::size_t i = 0; i < predicted.size(); ++i)
    EXPECT_NEAR(predicted[i], finite_difference[i], 1e-5 * largest) << "component " << i;

  // The force metrics are those of the CSV's columns (every component is written under the cap).
  std::vector<double> truth;
  for (int a = 0; a < atoms; ++a)
    for (int c = 0; c < 3; ++c) truth.push_back(reference.forces[static_cast<std::size_t>(a)][c]);
  const auto m = regression_metrics(truth, predicted);
  EXPECT_NEAR(result["forces"]["mae"].get<double>(), m.mae, 1e-8 * (1 + m.mae));
  EXPECT_NEAR(result["forces"]["r2"].get<double>(), m.r2, 1e-8);
  EXPECT_EQ(result["forces"]["count"].get<int>(), 3 * atoms);
}

TEST_F(EnergyEvaluation, CsvFilesFollowTheContract) {
  const auto reference = read_trajectory(dataset_, 0, 10);
  const auto forecast = read_trajectory(dataset_, 3, 7);  // frames 3..9 of the reference
  const int atoms = reference.atom_count();
  TempDir out;
  std::ostringstream log;
  const auto result = json::parse(
      evaluate_energy_head(options(), reference, {{"forecast", &forecast}}, out.path().string(), log));

  const int residues = static_cast<int>(result["residues"].size());
  ASSERT_GE(residues, 1);
  const auto expect_file = [&](const std::string& name, const std::string& header, std::size_t rows) {
    const auto lines = csv_lines(out.path() / name);
    ASSERT_FALSE(lines.empty()) << name << " is missing or empty";
    EXPECT_EQ(lines.front(), header) << name;
    EXPECT_EQ(lines.size(), rows + 1) << name;
  };
  expect_file("energy_frames.csv", "frame,true_kj_mol,predicted_kj_mol", 10);
  expect_file("force_components.csv", "frame,atom,component,true,predicted", 10u * atoms * 3);
  expect_file("residue_errors.csv", "frame,residue_index,residue,force_mae", 10u * residues);
  expect_file("residue_energies.csv", "set,frame,residue_index,residue,energy_kj_mol", 10u * residues);
  expect_file("energy_distributions.csv", "set,frame,energy_kj_mol", 10 + 10 + 7);

  // Generated frames are the reference's frames 3..9: the no-gradient energies equal the reference ones.
  std::vector<double> model_reference, model_forecast;
  for (const auto& line : csv_lines(out.path() / "energy_distributions.csv")) {
    const auto fields = split(line);
    if (fields[0] == "reference (model)") model_reference.push_back(std::stod(fields[2]));
    if (fields[0] == "forecast") model_forecast.push_back(std::stod(fields[2]));
  }
  ASSERT_EQ(model_reference.size(), 10u);
  ASSERT_EQ(model_forecast.size(), 7u);
  for (std::size_t i = 0; i < 7; ++i)
    EXPECT_NEAR(model_forecast[i], model_reference[i + 3], 1e-9 * std::abs(model_reference[i + 3]));

  // Per-residue energies of a frame sum to its energy less the head's constant offset, the same for every
  // frame (ethanol is one residue plus nothing left out).
  std::vector<double> offsets;
  for (const auto& line : csv_lines(out.path() / "residue_energies.csv")) {
    const auto fields = split(line);
    if (fields[0] != "reference") continue;
    offsets.push_back(model_reference[std::stoul(fields[1])] - std::stod(fields[4]));
  }
  ASSERT_EQ(offsets.size(), 10u * residues);
  if (residues == 1) {
    for (const double offset : offsets) EXPECT_NEAR(offset, offsets.front(), 1e-6);
  }

  EXPECT_EQ(result["generated"][0]["label"], "forecast");
  EXPECT_EQ(result["generated"][0]["frames"].get<int>(), 7);
  for (const char* key : {"mse", "mae", "rmse", "r2", "pearson", "count"})
    EXPECT_TRUE(result["energy"].contains(key)) << key;
  for (const char* key : {"mae", "rmse", "r2", "count"}) EXPECT_TRUE(result["forces"].contains(key)) << key;
  EXPECT_GT(result["timing"]["reference_seconds_per_frame"].get<double>(), 0.0);
  std::cout << "[ timing   ] ethanol (" << atoms
            << " atoms): " << result["timing"]["reference_seconds_per_frame"].get<double>() * 1e3
            << " ms per reference frame (energy + forces), "
            << result["timing"]["generated_seconds_per_frame"].get<double>() * 1e3
            << " ms per generated frame (energy), 1 thread\n";
}

TEST_F(EnergyEvaluation, CappedFilesSubsampleFramesEvenly) {
  const auto reference = read_trajectory(dataset_, 0, 12);
  const int atoms = reference.atom_count();
  auto o = options();
  o.max_force_rows = 4 * 3 * atoms + 5;  // room for 4 frames
  o.max_residue_frames = 3;
  TempDir out;
  std::ostringstream log;
  const auto result = json::parse(evaluate_energy_head(o, reference, {}, out.path().string(), log));
  const auto forces = csv_lines(out.path() / "force_components.csv");
  ASSERT_EQ(forces.size(), 1u + 4u * 3u * atoms);
  std::vector<int> frames;
  for (std::size_t i = 1; i < forces.size(); ++i) {
    const int f = std::stoi(split(forces[i])[0]);
    if (frames.empty() || frames.back() != f) frames.push_back(f);
  }
  EXPECT_EQ(frames, (std::vector<int>{0, 3, 6, 9}));
  const int residues = static_cast<int>(result["residues"].size());
  EXPECT_EQ(csv_lines(out.path() / "residue_energies.csv").size(), 1u + 3u * residues);
  EXPECT_EQ(result["forces"]["count"].get<int>(), 12 * 3 * atoms);  // the metrics use every frame
  EXPECT_EQ(csv_lines(out.path() / "energy_frames.csv").size(), 13u);
}

TEST_F(EnergyEvaluation, ReferenceWithoutLabelsGivesDistributionsOnly) {
  auto reference = read_trajectory(dataset_, 0, 4);
  reference.energies.clear();
  reference.forces.clear();
  TempDir out;
  std::ostringstream log;
  const auto result = json::parse(evaluate_energy_head(options(), reference, {}, out.path().string(), log));
  EXPECT_TRUE(result["energy"].is_null());
  EXPECT_TRUE(result["forces"].is_null());
  EXPECT_FALSE(fs::exists(out.path() / "energy_frames.csv"));
  EXPECT_FALSE(fs::exists(out.path() / "force_components.csv"));
  EXPECT_FALSE(fs::exists(out.path() / "residue_errors.csv"));
  const auto lines = csv_lines(out.path() / "energy_distributions.csv");
  ASSERT_EQ(lines.size(), 5u);
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(split(lines[i])[0], "reference (model)");
  const auto notes = result["notes"].dump();
  EXPECT_NE(notes.find("no potential energies"), std::string::npos) << notes;
}

TEST_F(EnergyEvaluation, ReferenceOfOtherAtomsIsRefusedNamingBothFiles) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  TempDir dir;
  const auto ala2 = (dir.path() / "ala2.h5md").string();
  run_hemeplm({"prepare", "--topology", top, "--trajectory", xtc, "--last-frame", "5", "--out", ala2});
  const auto reference = read_trajectory(ala2);
  std::ostringstream log;
  try {
    evaluate_energy_head(options(), reference, {}, (dir.path() / "out").string(), log);
    FAIL() << "a reference of other atoms was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(ala2), std::string::npos) << message;
    EXPECT_NE(message.find(checkpoint_), std::string::npos) << message;
  }
}

TEST_F(EnergyEvaluation, ReferenceOfAnotherAtomCountIsRefused) {
  // Ethanol frames without their last hydrogen: the same elements, one atom fewer than the training data.
  TempDir dir;
  std::ifstream in(test::shared_data("rmd17_ethanol_1000_train.xyz"));
  std::ostringstream xyz;
  std::string line;
  for (int frame = 0; frame < 3; ++frame) {
    for (int l = 0; l < 11 && std::getline(in, line); ++l)
      if (l == 0) {
        ASSERT_EQ(line, "9");
        xyz << "8\n";
      } else if (l < 10) {
        xyz << line << '\n';
      }
  }
  const auto trimmed = dir.write("ethanol-less-h.xyz", xyz.str());
  const auto h5md = (dir.path() / "ethanol-less-h.h5md").string();
  run_hemeplm({"prepare", "--trajectory", trimmed, "--out", h5md});
  const auto reference = read_trajectory(h5md);
  ASSERT_EQ(reference.atom_count(), 8);
  std::ostringstream log;
  try {
    evaluate_energy_head(options(), reference, {}, (dir.path() / "out").string(), log);
    FAIL() << "a reference of another atom count was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(h5md), std::string::npos) << message;
    EXPECT_NE(message.find(checkpoint_), std::string::npos) << message;
    EXPECT_NE(message.find(dataset_ + " has 9"), std::string::npos) << message;
  }
}

TEST_F(EnergyEvaluation, GeneratedTrajectoryOfOtherAtomsIsRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  TempDir dir;
  const auto ala2 = (dir.path() / "ala2.h5md").string();
  run_hemeplm({"prepare", "--topology", top, "--trajectory", xtc, "--last-frame", "3", "--out", ala2});
  const auto reference = read_trajectory(dataset_, 0, 2);
  const auto other = read_trajectory(ala2);
  std::ostringstream log;
  EXPECT_THROW(
      evaluate_energy_head(options(), reference, {{"other", &other}}, (dir.path() / "out").string(), log),
      InputError);
}

TEST(EnergyEvaluationWithoutLabels, CheckpointTrainedWithoutEnergiesIsRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  TempDir dir;
  const auto ala2 = (dir.path() / "ala2.h5md").string();
  run_hemeplm({"prepare", "--topology", top, "--trajectory", xtc, "--last-frame", "20", "--out", ala2});
  run_hemeplm({"train", "--data", ala2, "--model", "tiny", "--stage", "1", "--steps", "10", "--batch", "2",
               "--threads", "1", "--checkpoint-dir", (dir.path() / "ck").string(), "--validation-fraction",
               "0", "--quiet"});
  EnergyEvaluationOptions o;
  o.checkpoint = newest_checkpoint(dir.path() / "ck");
  o.threads = 1;
  ASSERT_FALSE(o.checkpoint.empty());
  const auto reference = read_trajectory(ala2, 0, 2);
  std::ostringstream log;
  try {
    evaluate_energy_head(o, reference, {}, (dir.path() / "out").string(), log);
    FAIL() << "a checkpoint without a trained energy head was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        o.checkpoint + ": has no trained energy head: it was trained on data without energies and forces");
  }
}

}  // namespace
}  // namespace hemeplm::evaluate
