// Property heads end to end, as a user runs them: QM9 molecules 0-15 (training) and 16-19 (test) from
// `hemeplm prepare --molecules`, a tiny stage-1 run with `--targets gap` for 30 steps, and `hemeplm
// evaluate` printing the gap MAE, writing properties.csv and metrics.json's "properties" object; plus
// the one-line errors of bad --targets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace hemeplm {
namespace {

namespace fs = std::filesystem;
using namespace hemeplm::test;  // NOLINT: test helpers

std::vector<std::string> molecule_files(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".h5md") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> with_each(const std::string& option, const std::vector<std::string>& files) {
  std::vector<std::string> args;
  for (const auto& f : files) args.insert(args.end(), {option, f});
  return args;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The prepared QM9 molecules 0-15 (train) and 16-19 (test), once for the suite.
class PropertyCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string qm9 = shared_data("qm9_first100.xyz");
    if (qm9.empty()) return;
    dir_ = new TempDir();  // NOLINT: suite fixture lifetime (deleted in TearDownTestSuite)
    for (const auto& [name, first, last] :
         {std::tuple<std::string, int, int>{"train", 0, 16}, {"test", 16, 20}}) {
      const auto r = run_command(
          {hemeplm_binary(), "prepare", "--molecules", qm9, "--out-dir", (dir_->path() / name).string(),
           "--first-frame", std::to_string(first), "--last-frame", std::to_string(last)},
          300);
      ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (dir_ == nullptr) GTEST_SKIP() << "shared data qm9_first100.xyz not available";
  }
  static std::vector<std::string> train_files() { return molecule_files(dir_->path() / "train"); }
  static std::vector<std::string> test_files() { return molecule_files(dir_->path() / "test"); }
  static TempDir* dir_;
};
TempDir* PropertyCli::dir_ = nullptr;

TEST_F(PropertyCli, TrainGapThenEvaluateReportsMaeAndWritesCsv) {
  ASSERT_EQ(train_files().size(), 16u);
  ASSERT_EQ(test_files().size(), 4u);
  TempDir work;
  const auto ckpt = work.path() / "ckpt";
  auto train = concat({hemeplm_binary(), "train", "--stage",          "1",
                       "--model",        "tiny",  "--targets",        "gap",
                       "--steps",        "30",    "--batch",          "4",
                       "--lr",           "1e-3",  "--warmup-steps",   "5",
                       "--threads",      "1",     "--checkpoint-dir", ckpt.string()},
                      with_each("--data", train_files()));
  const auto t = run_command(train, 300);
  ASSERT_EQ(t.exit_status, 0) << t.out << t.err;
  EXPECT_NE(t.out.find("added property head 'gap'"), std::string::npos) << t.out;
  // train.jsonl has the per-head loss on every step.
  std::ifstream log(ckpt / "train.jsonl");
  std::string line;
  int rows_with_gap = 0;
  while (std::getline(log, line)) {
    const auto row = nlohmann::json::parse(line);
    if (!row.contains("split") && row.contains("loss_gap") && row["loss_gap"].is_number()) ++rows_with_gap;
  }
  EXPECT_EQ(rows_with_gap, 30);

  std::string checkpoint;
  for (const auto& e : fs::directory_iterator(ckpt))
    if (e.path().extension() == ".h5") checkpoint = std::max(checkpoint, e.path().string());
  ASSERT_FALSE(checkpoint.empty());
  const auto out = work.path() / "eval";
  const auto e = run_command(concat(concat({hemeplm_binary(), "evaluate", "--checkpoint", checkpoint, "--out",
                                            out.string(), "--threads", "1"},
                                           with_each("--reference", test_files())),
                                    {}),
                             300);
  ASSERT_EQ(e.exit_status, 0) << e.out << e.err;
  EXPECT_NE(e.out.find("property gap: MAE"), std::string::npos) << e.out;

  const auto metrics = nlohmann::json::parse(read_text((out / "metrics.json").string()));
  ASSERT_TRUE(metrics.contains("properties"));
  const auto& gap = metrics["properties"]["properties"]["gap"];
  ASSERT_TRUE(gap.is_object()) << metrics["properties"].dump();
  EXPECT_EQ(gap["count"].get<int>(), 4);
  EXPECT_EQ(gap["unit"].get<std::string>(), "eV");
  EXPECT_TRUE(std::isfinite(gap["mae"].get<double>()));
  EXPECT_LT(gap["mae"].get<double>(), 10.0);               // QM9 gaps are a few eV; a broken scale is far off
  EXPECT_TRUE(metrics["reference"]["metrics"].is_null());  // molecule set: no structure metrics

  // properties.csv: header + one row per molecule, with labels equal to the stored gaps.
  std::istringstream csv(read_text((out / "properties.csv").string()));
  std::getline(csv, line);
  EXPECT_EQ(line, "file,frame,property,unit,label,prediction");
  double mae = 0;
  int rows = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> cells;
    std::stringstream fields(line);
    std::string cell;
    while (std::getline(fields, cell, ',')) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 6u) << line;
    EXPECT_EQ(cells[2], "gap");
    mae += std::abs(std::stod(cells[4]) - std::stod(cells[5]));
    ++rows;
  }
  ASSERT_EQ(rows, 4);
  EXPECT_NEAR(mae / rows, gap["mae"].get<double>(), 1e-6);  // the metric is the CSV's plain mean
}

TEST_F(PropertyCli, BadTargetsAreOneLineErrors) {
  TempDir work;
  const auto files = train_files();
  const std::vector<std::string> data{"--data", files.at(0), "--data", files.at(1)};
  struct Case {
    std::string targets, expect;
  };
  for (const auto& c : std::vector<Case>{{"gap:abc", "gap:abc"},
                                         {"gap:-1", "gap:-1"},
                                         {"gap,gap", "listed twice"},
                                         {"Gap", "Gap"},
                                         {"nosuchproperty", "nosuchproperty"},
                                         {"energy,gap", "energy"},
                                         {"diffusion:0", "no loss term"}}) {
    const auto r = run_command(
        concat({hemeplm_binary(), "train", "--stage", "1", "--model", "tiny", "--targets", c.targets,
                "--steps", "1", "--threads", "1", "--checkpoint-dir", (work.path() / "ckpt").string()},
               data),
        120);
    EXPECT_EQ(r.exit_status, 2) << c.targets << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.targets << ": " << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(work.path() / "ckpt" / "train.jsonl") &&
                 fs::file_size(work.path() / "ckpt" / "train.jsonl") > 0);
  }
  // A property head the checkpoint to resume from lacks is a configuration mismatch.
  const auto ckpt = (work.path() / "plain").string();
  auto plain = concat({hemeplm_binary(), "train", "--stage", "1", "--model", "tiny", "--steps", "1",
                       "--threads", "1", "--checkpoint-dir", ckpt},
                      data);
  ASSERT_EQ(run_command(plain, 120).exit_status, 0);
  auto resumed = concat({hemeplm_binary(), "train", "--stage", "1", "--model", "tiny", "--steps", "2",
                         "--threads", "1", "--targets", "gap", "--resume", "--checkpoint-dir", ckpt},
                        data);
  const auto r = run_command(resumed, 120);
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.err.find("property_heads"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hemeplm
