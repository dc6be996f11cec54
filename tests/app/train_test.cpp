// hemeplm train as a user runs it: datasets from 'hemeplm prepare', losses that fall, checkpoints that
// resume bit-identically after a kill, graceful stop on Slurm's signals, clean errors on bad input and
// bad checkpoints, and two MPI ranks.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "child_process.hpp"
#include "hemeplm/parallel_io/checkpoint.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

namespace hemeplm::test {
namespace {

namespace fs = std::filesystem;
namespace pio = hemeplm::parallel_io;
using nlohmann::json;

const std::string kReferenceMd = source_file("inputs/example/reference-md.h5md");

std::vector<std::string> train(std::vector<std::string> args) {
  std::vector<std::string> argv{hemeplm_binary(), "train"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> mpiexec(int ranks, std::vector<std::string> args) {
  std::vector<std::string> argv{HEMEPLM_MPIEXEC, "-n", std::to_string(ranks), "--oversubscribe",
                                hemeplm_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// DIR/checkpoint-<9-digit step>.h5
std::string checkpoint_path(const fs::path& dir, std::int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%09lld.h5", static_cast<long long>(step));
  return (dir / name).string();
}

/// The checkpoint files (checkpoint-*.h5) in `dir`, sorted; none when the folder is absent.
std::vector<std::string> checkpoints_in(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::is_directory(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0 && entry.path().extension() == ".h5") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Every JSON-lines row of a training log that parses (a row being written may be incomplete).
std::vector<json> read_log(const std::string& path) {
  std::vector<json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto row = json::parse(line, nullptr, false);
    if (!row.is_discarded()) rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<json> training_rows(const std::vector<json>& rows) {
  std::vector<json> out;
  for (const auto& r : rows)
    if (!r.contains("split")) out.push_back(r);
  return out;
}

std::vector<json> validation_rows(const std::vector<json>& rows) {
  std::vector<json> out;
  for (const auto& r : rows)
    if (r.value("split", "") == "validation") out.push_back(r);
  return out;
}

/// Checks the training rows are exactly steps 1..last, once each.
void expect_one_row_per_step(const std::vector<json>& rows, std::int64_t last) {
  const auto steps = training_rows(rows);
  ASSERT_EQ(static_cast<std::int64_t>(steps.size()), last) << "training rows in the log";
  for (std::int64_t i = 0; i < last; ++i)
    EXPECT_EQ(steps[i]["step"].get<std::int64_t>(), i + 1) << "row " << i;
}

double mean_loss(const std::vector<json>& rows, std::size_t first, std::size_t count) {
  double sum = 0;
  for (std::size_t i = first; i < first + count; ++i) sum += rows.at(i)["loss"].get<double>();
  return sum / static_cast<double>(count);
}

/// `hemeplm prepare` of the alanine-dipeptide trajectory into DIR/ala2.h5md.
std::string prepare_ala2(const TempDir& dir, const std::string& top, const std::string& dcd) {
  const std::string out = (dir.path() / "ala2.h5md").string();
  const auto r =
      run_command({hemeplm_binary(), "prepare", "--topology", top, "--trajectory", dcd, "--out", out});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return out;
}

std::int64_t last_training_step(const std::string& log) {
  const auto rows = training_rows(read_log(log));
  return rows.empty() ? 0 : rows.back()["step"].get<std::int64_t>();
}

void expect_same_records(const std::vector<pio::TensorRecord>& a, const std::vector<pio::TensorRecord>& b,
                         const std::string& group) {
  ASSERT_EQ(a.size(), b.size()) << group;
  std::map<std::string, const pio::TensorRecord*> by_name;
  for (const auto& r : b) by_name[r.name] = &r;
  for (const auto& r : a) {
    const auto it = by_name.find(r.name);
    ASSERT_NE(it, by_name.end()) << group << "/" << r.name << " missing";
    EXPECT_EQ(r.dtype, it->second->dtype) << group << "/" << r.name;
    EXPECT_EQ(r.shape, it->second->shape) << group << "/" << r.name;
    EXPECT_TRUE(r.data == it->second->data) << group << "/" << r.name << " differs";
  }
}

// --- options and bad input ---------------------------------------------------------------------------

TEST(TrainCli, HelpListsTheOptions) {
  const auto r = run_command(train({"--help"}));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (const char* option :
       {"--data", "--model", "--config", "--stage", "--init", "--steps", "--batch", "--lr", "--seed",
        "--checkpoint-dir", "--checkpoint-every", "--resume", "--deterministic", "--log"})
    EXPECT_NE(r.out.find(std::string(option) + " "), std::string::npos) << option << " not in:\n" << r.out;
}

struct BadTrainInput {
  const char* name;
  std::vector<std::string> args;    ///< after "train"; "DATA" stands for a valid dataset
  std::vector<std::string> expect;  ///< substrings of the one-line message
};

std::ostream& operator<<(std::ostream& os, const BadTrainInput& b) {
  return os << b.name;
}

class TrainBadInput : public ::testing::TestWithParam<BadTrainInput> {};

TEST_P(TrainBadInput, OneLineErrorExitStatus2AndNoCheckpoint) {
  TempDir dir;
  const fs::path ckpt = dir.path() / "ckpt";
  std::vector<std::string> args;
  for (const auto& a : GetParam().args) args.push_back(a == "DATA" ? kReferenceMd : a);
  args = concat(args, {"--steps", "2", "--warmup-steps", "1", "--threads", "1", "--validation-windows", "1",
                       "--checkpoint-dir", ckpt.string(), "--quiet"});
  for (auto& a : args)
    if (a == "ABSENT") a = (dir.path() / "absent.h5md").string();
  const auto r = run_command(train(args));
  EXPECT_EQ(r.exit_status, 2) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr must be one line:\n" << r.err;
  for (const auto& e : GetParam().expect)
    EXPECT_NE(r.err.find(e), std::string::npos) << "'" << e << "' not in: " << r.err;
  EXPECT_TRUE(checkpoints_in(ckpt).empty()) << "a checkpoint was written";
}

INSTANTIATE_TEST_SUITE_P(
    Train, TrainBadInput,
    ::testing::Values(
        BadTrainInput{"NoData", {"--stage", "1"}, {"--data"}},
        BadTrainInput{"MissingDataFile", {"--data", "ABSENT", "--stage", "1"}, {"absent.h5md"}},
        BadTrainInput{"StageThree", {"--data", "DATA", "--stage", "3"}, {"--stage", "3"}},
        BadTrainInput{"BatchZero", {"--data", "DATA", "--stage", "1", "--batch", "0"}, {"--batch"}},
        BadTrainInput{
            "OneFrameInStageTwo", {"--data", "DATA", "--stage", "2", "--frames", "1"}, {"--frames"}},
        BadTrainInput{
            "UnknownConditioningMode",
            {"--data", "DATA", "--stage", "2", "--frames", "2", "--conditioning", "forecast=1,sideways=1"},
            {"conditioning", "sideways"}},
        BadTrainInput{"BadConditioningWeight",
                      {"--data", "DATA", "--stage", "2", "--frames", "2", "--conditioning", "forecast=x"},
                      {"conditioning", "forecast=x"}},
        BadTrainInput{"UnknownSchedule",
                      {"--data", "DATA", "--stage", "1", "--schedule", "quadratic"},
                      {"schedule", "quadratic"}},
        BadTrainInput{"UnknownModel", {"--data", "DATA", "--stage", "1", "--model", "huge"}, {"huge"}},
        BadTrainInput{"PerFrameNoiseAboveOne",
                      {"--data", "DATA", "--stage", "2", "--frames", "2", "--per-frame-noise", "1.5"},
                      {"--per-frame-noise", "1.5"}}),
    [](const ::testing::TestParamInfo<BadTrainInput>& p) { return std::string(p.param.name); });

// --- learning -----------------------------------------------------------------------------------------

TEST(Train, Ala2LossFallsInStageOneThenStageTwoTrainsFromItsCheckpoint) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  TempDir dir;
  const std::string data = prepare_ala2(dir, top, dcd);
  const fs::path s1 = dir.path() / "s1", s2 = dir.path() / "s2";
  const std::int64_t steps1 = 120;
  const auto r1 = run_command(train({"--data",
                                     data,
                                     "--stage",
                                     "1",
                                     "--steps",
                                     std::to_string(steps1),
                                     "--batch",
                                     "8",
                                     "--lr",
                                     "1e-3",
                                     "--warmup-steps",
                                     "10",
                                     "--validation-windows",
                                     "16",
                                     "--validate-every",
                                     "1000",
                                     "--threads",
                                     "1",
                                     "--checkpoint-dir",
                                     s1.string(),
                                     "--quiet"}),
                              300);
  ASSERT_EQ(r1.exit_status, 0) << r1.err;
  const auto rows1 = read_log((s1 / "train.jsonl").string());
  expect_one_row_per_step(rows1, steps1);
  const auto steps = training_rows(rows1);
  for (const auto& row : steps) {
    for (const char* key : {"step", "loss", "loss_diffusion", "lr", "grad_norm", "samples_per_s",
                            "allreduce_fraction", "skipped"})
      EXPECT_TRUE(row.contains(key)) << key << " not in " << row.dump();
  }
  ASSERT_EQ(steps.size(), static_cast<std::size_t>(steps1));
  const double first = mean_loss(steps, 0, 20), last = mean_loss(steps, steps.size() - 20, 20);
  EXPECT_LT(last, 0.7 * first) << "mean loss of the first 20 steps " << first << ", of the last 20 " << last;
  const auto val1 = validation_rows(rows1);
  ASSERT_GE(val1.size(), 2u) << "validation at step 0 and at the end";
  EXPECT_EQ(val1.front()["step"].get<std::int64_t>(), 0);
  EXPECT_EQ(val1.back()["step"].get<std::int64_t>(), steps1);
  EXPECT_LT(val1.back()["loss"].get<double>(), val1.front()["loss"].get<double>());
  const std::string stage1_checkpoint = checkpoint_path(s1, steps1);
  ASSERT_TRUE(fs::exists(stage1_checkpoint));

  // Stage 2 from the stage-1 checkpoint on 4-frame windows, plus `extra` options.
  const auto stage2 = [&](const fs::path& out, std::int64_t step_count, std::vector<std::string> extra) {
    std::vector<std::string> args{"--data",
                                  data,
                                  "--stage",
                                  "2",
                                  "--init",
                                  stage1_checkpoint,
                                  "--frames",
                                  "4",
                                  "--steps",
                                  std::to_string(step_count),
                                  "--batch",
                                  "4",
                                  "--lr",
                                  "1e-3",
                                  "--warmup-steps",
                                  "5",
                                  "--validation-windows",
                                  "8",
                                  "--threads",
                                  "1",
                                  "--checkpoint-dir",
                                  out.string(),
                                  "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(train(args), 300);
  };
  const std::int64_t steps2 = 30;
  const auto r2 = stage2(s2, steps2, {});
  ASSERT_EQ(r2.exit_status, 0) << r2.err;
  const auto rows2 = read_log((s2 / "train.jsonl").string());
  expect_one_row_per_step(rows2, steps2);
  for (const auto& row : training_rows(rows2)) EXPECT_TRUE(std::isfinite(row["loss"].get<double>()));
  const std::string stage2_checkpoint = checkpoint_path(s2, steps2);
  ASSERT_TRUE(fs::exists(stage2_checkpoint));
  const auto ck2 = pio::read_checkpoint(stage2_checkpoint);
  EXPECT_EQ(ck2.step, steps2);
  const auto config = json::parse(ck2.config_json);
  EXPECT_EQ(config["training"]["stage"].get<int>(), 2) << ck2.config_json;
  EXPECT_EQ(config["training"]["window_frames"].get<int>(), 4) << ck2.config_json;

  // Stage 2 freezes the stage-1 spatial layers: they come out as they went in; something else trained.
  const auto ck1 = pio::read_checkpoint(stage1_checkpoint);
  std::map<std::string, const pio::TensorRecord*> stage1;
  for (const auto& r : ck1.parameters) stage1[r.name] = &r;
  int frozen = 0, changed = 0;
  for (const auto& r : ck2.parameters) {
    const auto it = stage1.find(r.name);
    ASSERT_NE(it, stage1.end()) << r.name;
    const bool same = r.data == it->second->data;
    if (r.name.rfind("denoiser.spatial.", 0) == 0 || r.name.rfind("denoiser.embedding.", 0) == 0 ||
        r.name.rfind("denoiser.input_linear.", 0) == 0) {
      ++frozen;
      EXPECT_TRUE(same) << r.name << " changed in stage 2";
    } else if (!same) {
      ++changed;
    }
  }
  EXPECT_GT(frozen, 0);
  EXPECT_GT(changed, 0) << "stage 2 changed no parameter";

  // Per-frame noise levels on every window (what the rolling sampler needs): finite losses, the setting
  // recorded; then `sample --rolling` from it runs without the untrained-windows warning, which the plain
  // stage-2 checkpoint gets.
  const fs::path s3 = dir.path() / "s3";
  const auto r3 = stage2(s3, 10, {"--per-frame-noise", "1"});
  ASSERT_EQ(r3.exit_status, 0) << r3.err;
  for (const auto& row : training_rows(read_log((s3 / "train.jsonl").string())))
    EXPECT_TRUE(std::isfinite(row["loss"].get<double>()));
  const auto ck3 = pio::read_checkpoint(checkpoint_path(s3, 10));
  EXPECT_DOUBLE_EQ(json::parse(ck3.config_json)["training"]["per_frame_noise"].get<double>(), 1.0);
  EXPECT_FALSE(config["training"].contains("per_frame_noise")) << "recorded only when used";
  for (const auto& [checkpoint, warned] : {std::pair<std::string, bool>{checkpoint_path(s3, 10), false},
                                           std::pair<std::string, bool>{stage2_checkpoint, true}}) {
    const auto out = (dir.path() / (warned ? "plain-rolling.h5md" : "rolling.h5md")).string();
    const auto r = run_command(
        {hemeplm_binary(), "sample", "--checkpoint", checkpoint, "--structure", data, "--mode", "forecast",
         "--rolling", "--frames", "3", "--clip-x0", "2", "--threads", "1", "--out", out},
        300);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("rolling window of 4 frames (3 staggered ddpm levels"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("without per-frame noise levels") != std::string::npos, warned) << r.out;
    EXPECT_EQ(pio::H5mdReader(out).frame_count(), 4);
  }
}

TEST(Train, Rmd17EthanolForceErrorFalls) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  TempDir dir;
  const std::string data = (dir.path() / "ethanol.h5md").string();
  const auto p = run_command({hemeplm_binary(), "prepare", "--trajectory", xyz, "--out", data});
  ASSERT_EQ(p.exit_status, 0) << p.err;
  const fs::path ckpt = dir.path() / "ckpt";
  const std::int64_t steps = 80;
  const auto r = run_command(train({"--data",
                                    data,
                                    "--stage",
                                    "1",
                                    "--steps",
                                    std::to_string(steps),
                                    "--batch",
                                    "8",
                                    "--lr",
                                    "1e-3",
                                    "--warmup-steps",
                                    "10",
                                    "--validation-fraction",
                                    "0.2",
                                    "--validate-every",
                                    "1000",
                                    "--validation-windows",
                                    "16",
                                    "--threads",
                                    "1",
                                    "--checkpoint-dir",
                                    ckpt.string(),
                                    "--quiet"}),
                             300);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto rows = read_log((ckpt / "train.jsonl").string());
  expect_one_row_per_step(rows, steps);
  for (const auto& row : training_rows(rows)) {
    for (const char* key : {"loss_energy", "loss_forces", "force_mae"})
      EXPECT_TRUE(row.contains(key)) << key << " not in " << row.dump();
  }
  const auto val = validation_rows(rows);
  ASSERT_GE(val.size(), 2u);
  ASSERT_EQ(val.front()["step"].get<std::int64_t>(), 0);
  ASSERT_EQ(val.back()["step"].get<std::int64_t>(), steps);
  ASSERT_TRUE(val.front().contains("force_mae") && val.back().contains("force_mae")) << val.back().dump();
  ASSERT_TRUE(val.front().contains("energy_mae")) << val.front().dump();
  const double before = val.front()["force_mae"].get<double>(), after = val.back()["force_mae"].get<double>();
  EXPECT_LT(after, 0.7 * before) << "validation force MAE " << before << " -> " << after << " kJ/mol/A";
}

// --- restart ------------------------------------------------------------------------------------------

TEST(TrainRestart, KilledRunResumesBitIdentically) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  TempDir dir;
  const std::string data = prepare_ala2(dir, top, dcd);
  const std::int64_t steps = 40;
  const auto command = [&](const fs::path& ckpt) {
    return train({"--data",
                  data,
                  "--stage",
                  "1",
                  "--steps",
                  std::to_string(steps),
                  "--batch",
                  "4",
                  "--lr",
                  "1e-3",
                  "--warmup-steps",
                  "5",
                  "--checkpoint-every",
                  "10",
                  "--keep-checkpoints",
                  "10",
                  "--validation-windows",
                  "4",
                  "--validate-every",
                  "15",
                  "--deterministic",
                  "--threads",
                  "1",
                  "--seed",
                  "7",
                  "--checkpoint-dir",
                  ckpt.string(),
                  "--quiet"});
  };
  const fs::path a = dir.path() / "a", b = dir.path() / "b";
  const auto ra = run_command(command(a), 300);
  ASSERT_EQ(ra.exit_status, 0) << ra.err;

  // Run B: killed without warning once it logged steps past its first checkpoint.
  const std::string log_b = (b / "train.jsonl").string();
  std::int64_t killed_at = 0;
  {
    Child child(command(b), dir.path() / "b.out", dir.path() / "b.err");
    const bool ready = wait_until(child, [&] { return last_training_step(log_b) >= 13; });
    ASSERT_TRUE(ready) << "run B ended or hung before step 13: "
                       << read_text((dir.path() / "b.err").string());
    ASSERT_EQ(kill(child.pid(), SIGKILL), 0);
    EXPECT_EQ(child.wait(), 128 + SIGKILL);
    killed_at = last_training_step(log_b);
  }
  ASSERT_TRUE(fs::exists(checkpoint_path(b, 10)));
  ASSERT_FALSE(fs::exists(checkpoint_path(b, steps))) << "run B finished before the kill: nothing tested";
  std::int64_t newest = 0;
  for (std::int64_t s = 10; s < steps; s += 10)
    if (fs::exists(checkpoint_path(b, s))) newest = s;

  const auto rb = run_command(concat(command(b), {"--resume"}), 300);
  ASSERT_EQ(rb.exit_status, 0) << rb.err;
  EXPECT_NE(rb.out.find("resumed from"), std::string::npos) << rb.out;
  std::cout << "[ killed at step " << killed_at << ", resumed from checkpoint " << newest << " ]\n";

  const auto ck_a = pio::read_checkpoint(checkpoint_path(a, steps));
  const auto ck_b = pio::read_checkpoint(checkpoint_path(b, steps));
  EXPECT_EQ(ck_a.step, steps);
  EXPECT_EQ(ck_b.step, steps);
  ASSERT_FALSE(ck_a.parameters.empty());
  ASSERT_FALSE(ck_a.optimizer.empty());
  ASSERT_FALSE(ck_a.ema.empty());
  expect_same_records(ck_a.parameters, ck_b.parameters, "/parameters");
  expect_same_records(ck_a.optimizer, ck_b.optimizer, "/optimizer");
  expect_same_records(ck_a.ema, ck_b.ema, "/ema");
  expect_same_records(ck_a.rng, ck_b.rng, "/rng");
  EXPECT_EQ(ck_a.data_position_json, ck_b.data_position_json);

  // One row per step, the killed run's rows after its checkpoint replaced by the resumed run's, which
  // are the uninterrupted run's to the bit.
  const auto rows_a = read_log((a / "train.jsonl").string());
  const auto rows_b = read_log(log_b);
  expect_one_row_per_step(rows_b, steps);
  const auto train_a = training_rows(rows_a), train_b = training_rows(rows_b);
  ASSERT_EQ(train_a.size(), train_b.size());
  for (std::size_t i = 0; i < train_a.size(); ++i)
    EXPECT_EQ(train_a[i]["loss"].get<double>(), train_b[i]["loss"].get<double>()) << "step " << i + 1;
  std::vector<std::pair<std::int64_t, double>> val_a, val_b;
  for (const auto& r : validation_rows(rows_a)) val_a.emplace_back(r["step"], r["loss"]);
  for (const auto& r : validation_rows(rows_b)) val_b.emplace_back(r["step"], r["loss"]);
  EXPECT_EQ(val_a, val_b) << "validation rows (step, loss) of the uninterrupted and the resumed run";
}

class TrainStopSignal : public ::testing::TestWithParam<int> {};

TEST_P(TrainStopSignal, WritesACheckpointExitsZeroAndResumes) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  TempDir dir;
  const std::string data = prepare_ala2(dir, top, dcd);
  const fs::path ckpt = dir.path() / "ckpt";
  const std::string log = (ckpt / "train.jsonl").string();
  const auto command = [&](std::int64_t steps) {
    return train({"--data", data, "--stage", "1", "--steps", std::to_string(steps), "--batch", "2", "--lr",
                  "1e-3", "--warmup-steps", "2", "--validation-windows", "2", "--threads", "1",
                  "--checkpoint-dir", ckpt.string()});
  };
  const fs::path out = dir.path() / "run.out", err = dir.path() / "run.err";
  int status = -1;
  {
    Child child(command(100000), out, err);
    const bool ready = wait_until(child, [&] { return last_training_step(log) >= 3; });
    ASSERT_TRUE(ready) << "no training rows: " << read_text(err.string());
    ASSERT_EQ(kill(child.pid(), GetParam()), 0);
    status = child.wait(120);
  }
  EXPECT_EQ(status, 0) << read_text(err.string());
  EXPECT_NE(read_text(out.string()).find("stopped by signal"), std::string::npos) << read_text(out.string());
  const std::int64_t stopped = last_training_step(log);
  ASSERT_GE(stopped, 3);
  EXPECT_LT(stopped, 100000);
  const auto names = checkpoints_in(ckpt);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ((ckpt / names.back()).string(), checkpoint_path(ckpt, stopped)) << "newest checkpoint";
  ASSERT_TRUE(fs::exists(checkpoint_path(ckpt, stopped)));
  EXPECT_EQ(pio::read_checkpoint(checkpoint_path(ckpt, stopped)).step, stopped);

  const auto r = run_command(concat(command(stopped + 3), {"--resume"}), 120);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(last_training_step(log), stopped + 3);
  ASSERT_TRUE(fs::exists(checkpoint_path(ckpt, stopped + 3)));
  EXPECT_EQ(pio::read_checkpoint(checkpoint_path(ckpt, stopped + 3)).step, stopped + 3);
  expect_one_row_per_step(read_log(log), stopped + 3);
}

INSTANTIATE_TEST_SUITE_P(Train, TrainStopSignal, ::testing::Values(SIGTERM, SIGUSR1, SIGINT),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return std::string(p.param == SIGTERM   ? "Sigterm"
                                              : p.param == SIGUSR1 ? "Sigusr1"
                                                                   : "Sigint");
                         });

// --- bad checkpoints ----------------------------------------------------------------------------------

class TrainBadCheckpoint : public ::testing::Test {
 protected:
  /// One dataset and one good tiny stage-1 checkpoint (3 steps) for the whole suite.
  static void SetUpTestSuite() {
    const std::string top = shared_data("ala2_traj_top_mdtraj.pdb"),
                      dcd = shared_data("ala2_traj_501frames.dcd");
    if (top.empty() || dcd.empty()) return;
    dir_ = std::make_unique<TempDir>();
    data_ = prepare_ala2(*dir_, top, dcd);
    const auto r = run_command(command(dir_->path() / "good", {}), 120);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    good_ = checkpoint_path(dir_->path() / "good", 3);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override {
    if (dir_ == nullptr) GTEST_SKIP() << "../shared/data/ala2_traj_* are absent: test needs them";
    ASSERT_TRUE(fs::exists(good_)) << "the tiny stage-1 run wrote no checkpoint";
  }
  /// A tiny stage-1 run of 3 steps into `ckpt`.
  static std::vector<std::string> command(const fs::path& ckpt, const std::vector<std::string>& extra) {
    return concat(
        train({"--data", data_, "--stage", "1", "--steps", "3", "--batch", "2", "--warmup-steps", "1",
               "--validation-windows", "1", "--threads", "1", "--checkpoint-dir", ckpt.string(), "--quiet"}),
        extra);
  }
  /// Runs with `extra`, expects a one-line error holding every `expect`, and no new checkpoint.
  static void expect_refused(const fs::path& ckpt, const std::vector<std::string>& extra,
                             const std::vector<std::string>& expect) {
    const auto before = checkpoints_in(ckpt);
    const auto r = run_command(command(ckpt, extra), 120);
    EXPECT_NE(r.exit_status, 0);
    EXPECT_EQ(r.exit_status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr must be one line:\n" << r.err;
    for (const auto& e : expect)
      EXPECT_NE(r.err.find(e), std::string::npos) << "'" << e << "' not in: " << r.err;
    EXPECT_EQ(checkpoints_in(ckpt), before) << "checkpoints changed";
  }
  static std::unique_ptr<TempDir> dir_;
  static std::string data_, good_;
  TempDir mine_;  ///< this test's own files
};

std::unique_ptr<TempDir> TrainBadCheckpoint::dir_;
std::string TrainBadCheckpoint::data_, TrainBadCheckpoint::good_;

TEST_F(TrainBadCheckpoint, TruncatedInitIsRefusedNamingTheFile) {
  const std::string text = read_text(good_);
  const std::string bad = mine_.write("truncated-checkpoint.h5", text.substr(0, text.size() / 2));
  expect_refused(mine_.path() / "run", {"--init", bad}, {"truncated-checkpoint.h5"});
}

TEST_F(TrainBadCheckpoint, RandomBytesInitIsRefusedNamingTheFile) {
  std::mt19937 rng(42);
  std::string bytes(4096, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
  const std::string bad = mine_.write("random-bytes.h5", bytes);
  expect_refused(mine_.path() / "run", {"--init", bad}, {"random-bytes.h5"});
}

TEST_F(TrainBadCheckpoint, InitFromAnotherModelConfigNamesTheHyperparameter) {
  expect_refused(mine_.path() / "run", {"--init", good_, "--model.denoiser.layers", "2"},
                 {"checkpoint-000000003.h5", "denoiser.layers"});
}

TEST_F(TrainBadCheckpoint, ResumeFromAnotherModelConfigIsRefused) {
  // The folder's newest checkpoint is the tiny default's; this run asks for narrower ViSNet features.
  const fs::path folder = mine_.path() / "run";
  fs::create_directories(folder);
  fs::copy_file(good_, folder / "checkpoint-000000003.h5");
  expect_refused(folder, {"--resume", "--model.visnet.hidden", "16"},
                 {"checkpoint-000000003.h5", "visnet.hidden"});
}

// --- MPI ----------------------------------------------------------------------------------------------

TEST(TrainMpi, TwoRanksWriteOneLogAndResumeNeedsTheSameRankCount) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(dcd, "ala2_traj_501frames.dcd");
  TempDir dir;
  const std::string data = prepare_ala2(dir, top, dcd);
  const fs::path ckpt = dir.path() / "ckpt";
  const std::vector<std::string> args{
      "train", "--data",    data, "--stage",          "1",           "--steps",
      "10",    "--batch",   "2",  "--warmup-steps",   "2",           "--validation-windows",
      "4",     "--threads", "1",  "--checkpoint-dir", ckpt.string(), "--quiet"};
  const auto r = run_command(mpiexec(2, args), 300);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // Only rank 0 prints and logs.
  EXPECT_EQ(std::count_if(fs::directory_iterator(ckpt), fs::directory_iterator(),
                          [](const fs::directory_entry& e) { return e.path().extension() == ".jsonl"; }),
            1);
  const auto rows = read_log((ckpt / "train.jsonl").string());
  expect_one_row_per_step(rows, 10);
  for (const auto& row : training_rows(rows)) {
    ASSERT_TRUE(row.contains("samples_per_s") && row["samples_per_s"].is_number()) << row.dump();
    EXPECT_GT(row["samples_per_s"].get<double>(), 0) << row.dump();
    EXPECT_TRUE(row.contains("allreduce_fraction")) << row.dump();
  }
  EXPECT_NE(r.out.find("finished at step 10"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("finished at step 10"), r.out.rfind("finished at step 10")) << r.out;
  const std::string last = checkpoint_path(ckpt, 10);
  ASSERT_TRUE(fs::exists(last));
  const auto ck = pio::read_checkpoint(last);
  EXPECT_EQ(ck.step, 10);
  EXPECT_EQ(json::parse(ck.config_json)["data"]["ranks"].get<int>(), 2) << ck.config_json;

  auto resume = args;
  resume[6] = "12";  // --steps
  resume.push_back("--resume");
  resume.insert(resume.begin(), hemeplm_binary());
  const auto one = run_command(resume, 120);
  EXPECT_EQ(one.exit_status, 2) << one.err;
  EXPECT_EQ(std::count(one.err.begin(), one.err.end(), '\n'), 1) << one.err;
  EXPECT_NE(one.err.find("2 ranks"), std::string::npos) << one.err;
  EXPECT_NE(one.err.find("checkpoint-000000010.h5"), std::string::npos) << one.err;
  EXPECT_FALSE(fs::exists(checkpoint_path(ckpt, 12)));
}

}  // namespace
}  // namespace hemeplm::test
