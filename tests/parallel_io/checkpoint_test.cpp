// Checkpoints: bit-identical round trips, atomic replacement (failed and killed writers), rotation,
// and one-line errors for every kind of bad file.
#include "hemeplm/parallel_io/checkpoint.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "checkpoint_hdf5.hpp"
#include "hemeplm/core/error.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TensorRecord random_tensor(const std::string& name, DType dtype, std::vector<std::int64_t> shape,
                           std::mt19937_64& generator) {
  TensorRecord record;
  record.name = name;
  record.dtype = dtype;
  record.shape = std::move(shape);
  std::size_t count = 1;
  for (const std::int64_t d : record.shape) count *= static_cast<std::size_t>(d);
  record.data.resize(count * dtype_size(dtype));
  // Random bytes include NaNs with payloads, infinities and denormals: all must survive unchanged.
  for (unsigned char& byte : record.data) byte = static_cast<unsigned char>(generator());
  return record;
}

Checkpoint small_checkpoint(std::int64_t step) {
  std::mt19937_64 generator(static_cast<std::uint64_t>(step));
  Checkpoint checkpoint;
  checkpoint.step = step;
  checkpoint.parameters.push_back(random_tensor("w", DType::kFloat32, {4, 3}, generator));
  checkpoint.optimizer.push_back(random_tensor("step", DType::kInt64, {}, generator));
  checkpoint.ema.push_back(random_tensor("w", DType::kFloat32, {4, 3}, generator));
  checkpoint.rng.push_back(random_tensor("cpu", DType::kUInt8, {16}, generator));
  checkpoint.program_version = "test";
  return checkpoint;
}

void expect_same_records(const std::vector<TensorRecord>& a, const std::vector<TensorRecord>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].dtype, b[i].dtype) << a[i].name;
    EXPECT_EQ(a[i].shape, b[i].shape) << a[i].name;
    EXPECT_TRUE(a[i].data == b[i].data) << a[i].name << ": data differs";
  }
}

void expect_same(const Checkpoint& a, const Checkpoint& b) {
  expect_same_records(a.parameters, b.parameters);
  expect_same_records(a.optimizer, b.optimizer);
  expect_same_records(a.ema, b.ema);
  expect_same_records(a.rng, b.rng);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.data_position_json, b.data_position_json);
  EXPECT_EQ(a.config_json, b.config_json);
  EXPECT_EQ(a.program_version, b.program_version);
  EXPECT_EQ(a.format_version, b.format_version);
}

/// Runs `body` and returns the InputError's message; fails the test when none is thrown.
template <class F>
std::string input_error(F&& body) {
  try {
    body();
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message;
    return message;
  }
  ADD_FAILURE() << "no InputError";
  return {};
}

std::vector<std::string> folder_names(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Checkpoint, RoundTripsEveryDtypeAndShapeBitForBit) {
  test::TempDir dir;
  std::mt19937_64 generator(7);
  Checkpoint checkpoint;
  const DType dtypes[] = {DType::kFloat32, DType::kFloat64, DType::kInt64, DType::kInt32, DType::kUInt8};
  const std::vector<std::vector<std::int64_t>> shapes = {{},     {0},       {1},          {7},
                                                         {2, 3}, {3, 0, 2}, {2, 3, 4, 5}, {1, 1, 1, 1, 1}};
  for (const DType dtype : dtypes)
    for (std::size_t s = 0; s < shapes.size(); ++s)
      checkpoint.parameters.push_back(random_tensor(
          std::string("layer.") + to_string(dtype) + "." + std::to_string(s), dtype, shapes[s], generator));
  // Names that HDF5 would read as paths or that collide with our escapes.
  for (const char* name :
       {"exp_avg/backbone.w", "a/b/c", "/leading", "trailing/", "100%", "%2F", ".", "..", "x//y"})
    checkpoint.optimizer.push_back(random_tensor(name, DType::kFloat32, {2}, generator));
  checkpoint.ema.push_back(random_tensor("z.weight", DType::kFloat64, {3, 3}, generator));
  checkpoint.rng.push_back(random_tensor("torch.cpu", DType::kUInt8, {5056}, generator));
  checkpoint.step = 123456789012;
  checkpoint.data_position_json = R"({"epoch":3,"index":17,"seed":18446744073709551615})";
  checkpoint.config_json = "{\"name\":\"Å\\u00e9 \\n\",\"multi\":\"line\nbreak\"}";
  checkpoint.program_version = "hemeplm 0.1.0 (abc123)";
  const std::string path = (dir.path() / "c.h5").string();
  write_checkpoint(path, checkpoint);
  expect_same(checkpoint, read_checkpoint(path));
  EXPECT_EQ(folder_names(dir.path()), std::vector<std::string>{"c.h5"});  // no temporary file left
}

TEST(Checkpoint, EmptyCheckpointRoundTrips) {
  test::TempDir dir;
  const std::string path = (dir.path() / "empty.h5").string();
  write_checkpoint(path, Checkpoint{});
  expect_same(Checkpoint{}, read_checkpoint(path));
}

TEST(Checkpoint, TenThousandTensorsAreFastAndKeepTheirOrder) {
  test::TempDir dir;
  std::mt19937_64 generator(3);
  Checkpoint checkpoint;
  for (int i = 0; i < 10000; ++i)
    checkpoint.parameters.push_back(
        random_tensor("block" + std::to_string(9999 - i) + ".w", DType::kFloat32, {4, 4}, generator));
  const std::string path = (dir.path() / "many.h5").string();
  const auto t0 = Clock::now();
  write_checkpoint(path, checkpoint);
  const auto t1 = Clock::now();
  const Checkpoint back = read_checkpoint(path);
  const auto t2 = Clock::now();
  expect_same(checkpoint, back);
  const double write_s = std::chrono::duration<double>(t1 - t0).count();
  const double read_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("[ timing   ] 10,000 tensors: write %.3f s, read %.3f s\n", write_s, read_s);
  EXPECT_LT(write_s + read_s, 20.0);
}

TEST(Checkpoint, LargeCheckpointTiming) {
  // 18.4M float32 (75 MB): the paper model's parameters.
  test::TempDir dir;
  Checkpoint checkpoint;
  TensorRecord record;
  record.name = "all";
  record.shape = {18'400'000};
  record.data.resize(18'400'000 * 4);
  for (std::size_t i = 0; i < record.data.size(); ++i)
    record.data[i] = static_cast<unsigned char>(i * 2654435761u >> 13);
  checkpoint.parameters.push_back(std::move(record));
  const std::string path = (dir.path() / "large.h5").string();
  const auto t0 = Clock::now();
  write_checkpoint(path, checkpoint);
  const auto t1 = Clock::now();
  const Checkpoint back = read_checkpoint(path);
  const auto t2 = Clock::now();
  EXPECT_TRUE(back.parameters.at(0).data == checkpoint.parameters[0].data);
  std::printf("[ timing   ] 75 MB checkpoint: write (incl. fsync) %.3f s, read %.3f s\n",
              std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
}

TEST(Checkpoint, InconsistentRecordsAreRefusedBeforeAnyFileIsWritten) {
  test::TempDir dir;
  const std::string path = (dir.path() / "c.h5").string();
  Checkpoint bad = small_checkpoint(1);
  bad.parameters[0].data.pop_back();
  EXPECT_THROW(write_checkpoint(path, bad), UsageError);
  Checkpoint duplicate = small_checkpoint(1);
  duplicate.parameters.push_back(duplicate.parameters[0]);
  EXPECT_THROW(write_checkpoint(path, duplicate), UsageError);
  Checkpoint unnamed = small_checkpoint(1);
  unnamed.rng[0].name.clear();
  EXPECT_THROW(write_checkpoint(path, unnamed), UsageError);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Checkpoint, FailedRenameLeavesTheTargetAndNoTemporaryFile) {
  // The target is a folder: the temporary file is complete, then rename() fails.
  test::TempDir dir;
  fs::create_directory(dir.path() / "c.h5");
  dir.write("c.h5/keep", "precious");
  const std::string message =
      input_error([&] { write_checkpoint((dir.path() / "c.h5").string(), small_checkpoint(1)); });
  EXPECT_NE(message.find("c.h5"), std::string::npos) << message;
  EXPECT_EQ(folder_names(dir.path()), std::vector<std::string>{"c.h5"});
  EXPECT_EQ(test::read_text((dir.path() / "c.h5/keep").string()), "precious");
}

TEST(Checkpoint, MissingFolderIsAnInputError) {
  test::TempDir dir;
  const std::string path = (dir.path() / "no/such/c.h5").string();
  EXPECT_NE(input_error([&] { write_checkpoint(path, small_checkpoint(1)); }).find("temporary"),
            std::string::npos);
}

TEST(Checkpoint, DiskFullMidWriteKeepsTheOldCheckpoint) {
  // A child limited to 1 MB per file (RLIMIT_FSIZE, as a full disk) fails while writing a 4 MB
  // checkpoint: the old file must be intact and no temporary file left.
  test::TempDir dir;
  const std::string path = (dir.path() / "c.h5").string();
  write_checkpoint(path, small_checkpoint(1));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1 << 20, 1 << 20};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    Checkpoint big = small_checkpoint(2);
    big.parameters[0].shape = {1 << 20};
    big.parameters[0].data.assign(4u << 20, 1);
    try {
      write_checkpoint(path, big);
    } catch (const InputError&) {
      ::_exit(0);
    }
    ::_exit(3);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the write did not fail with InputError";
  expect_same(small_checkpoint(1), read_checkpoint(path));
  EXPECT_EQ(folder_names(dir.path()), std::vector<std::string>{"c.h5"});
}

TEST(Checkpoint, KilledWriterLeavesOldOrCompleteNewFile) {
  test::TempDir dir;
  const CheckpointDirectory checkpoints(dir.path().string(), "checkpoint", 2);
  const std::string old_path = checkpoints.save(small_checkpoint(1));
  Checkpoint big = small_checkpoint(2);
  big.parameters[0].shape = {16 << 20};
  big.parameters[0].data.assign(64u << 20, 7);
  const std::string target = (dir.path() / "checkpoint-000000002.h5").string();
  int completed = 0;
  for (const int delay_ms : {0, 5, 20, 60, 150, 400}) {
    fs::remove(target);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        write_checkpoint(target, big);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    // Whatever moment the kill hit: no file under the final name, or the complete new checkpoint.
    if (fs::exists(target)) {
      ++completed;
      const Checkpoint back = read_checkpoint(target);
      EXPECT_EQ(back.step, 2);
      EXPECT_TRUE(back.parameters[0].data == big.parameters[0].data);
    }
    expect_same(small_checkpoint(1), read_checkpoint(old_path));
    const std::string latest = checkpoints.latest();
    EXPECT_TRUE(latest == old_path || latest == target) << latest;
  }
  std::printf("[ info     ] %d of 6 killed writers had already renamed the new file into place\n", completed);
  // The next save removes what killed writers left behind.
  checkpoints.save(small_checkpoint(3));
  for (const std::string& name : folder_names(dir.path()))
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST(Checkpoint, DirectoryKeepsTheNewestAndSkipsDamagedFiles) {
  test::TempDir dir;
  const CheckpointDirectory checkpoints(dir.path().string(), "run", 3);
  EXPECT_EQ(checkpoints.latest(), "");
  for (int step = 1; step <= 6; ++step) checkpoints.save(small_checkpoint(step * 100));
  EXPECT_EQ(folder_names(dir.path()),
            (std::vector<std::string>{"run-000000400.h5", "run-000000500.h5", "run-000000600.h5"}));
  EXPECT_EQ(checkpoints.latest(), (dir.path() / "run-000000600.h5").string());
  // A temporary file and a truncated newest file are skipped; other prefixes are ignored.
  dir.write(".run-000000700.h5.tmp.abcdef", "partial");
  dir.write("other-000000900.h5", "x");
  const std::string newest = (dir.path() / "run-000000600.h5").string();
  fs::resize_file(newest, fs::file_size(newest) / 2);
  EXPECT_EQ(checkpoints.latest(), (dir.path() / "run-000000500.h5").string());
  // Saving an older step (a run restarted from step 200) keeps the new file.
  const std::string restarted = checkpoints.save(small_checkpoint(200));
  EXPECT_TRUE(fs::exists(restarted));
  EXPECT_FALSE(fs::exists(dir.path() / ".run-000000700.h5.tmp.abcdef"));
  EXPECT_TRUE(fs::exists(dir.path() / "other-000000900.h5"));
  EXPECT_EQ(folder_names(dir.path()).size(), 4u);  // 3 kept + the other prefix
  EXPECT_THROW(CheckpointDirectory(dir.path().string(), "run", 0), UsageError);
}

TEST(Checkpoint, DamagedFilesGiveOneLineErrors) {
  test::TempDir dir;
  const std::string good = (dir.path() / "good.h5").string();
  write_checkpoint(good, small_checkpoint(5));

  EXPECT_NE(input_error([&] { read_checkpoint((dir.path() / "absent.h5").string()); }).find("not found"),
            std::string::npos);
  const std::string text = dir.write("text.h5", "this is not HDF5\n");
  EXPECT_NE(input_error([&] { read_checkpoint(text); }).find("text.h5: not a readable HDF5 file"),
            std::string::npos);
  const std::string truncated = (dir.path() / "truncated.h5").string();
  fs::copy_file(good, truncated);
  fs::resize_file(truncated, fs::file_size(truncated) - 100);
  EXPECT_NE(input_error([&] { read_checkpoint(truncated); }).find("truncated.h5"), std::string::npos);
  const std::string empty = dir.write("empty.h5", "");
  EXPECT_NE(input_error([&] { read_checkpoint(empty); }).find("empty.h5"), std::string::npos);
}

/// Copies `good` to `name` in `dir` and lets `edit` change it through the HDF5 C API.
template <class Edit>
std::string edited_copy(const test::TempDir& dir, const std::string& good, const std::string& name,
                        Edit edit) {
  const std::string path = (dir.path() / name).string();
  fs::copy_file(good, path);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  edit(file);
  H5Fclose(file);
  return path;
}

TEST(Checkpoint, WrongContentsNameTheAttributeOrDataset) {
  using namespace checkpoint_detail;  // NOLINT
  test::TempDir dir;
  const std::string good = (dir.path() / "good.h5").string();
  write_checkpoint(good, small_checkpoint(5));

  const std::string other = edited_copy(dir, good, "other.h5", [](hid_t f) {
    H5Adelete(f, "format");
    write_string_attribute(f, "format", "something-else");
  });
  EXPECT_NE(
      input_error([&] { read_checkpoint(other); }).find("other.h5: attribute format: is 'something-else'"),
      std::string::npos);
  const std::string no_format =
      edited_copy(dir, good, "noformat.h5", [](hid_t f) { H5Adelete(f, "format"); });
  EXPECT_NE(input_error([&] { read_checkpoint(no_format); }).find("attribute format: missing"),
            std::string::npos);
  const std::string no_step = edited_copy(dir, good, "nostep.h5", [](hid_t f) { H5Adelete(f, "step"); });
  EXPECT_NE(input_error([&] { read_checkpoint(no_step); }).find("nostep.h5: attribute step: missing"),
            std::string::npos);
  const std::string text_step = edited_copy(dir, good, "textstep.h5", [](hid_t f) {
    H5Adelete(f, "step");
    write_string_attribute(f, "step", "12");
  });
  EXPECT_NE(input_error([&] { read_checkpoint(text_step); }).find("attribute step: is not an integer"),
            std::string::npos);

  Checkpoint future = small_checkpoint(5);
  future.format_version = 2;
  const std::string newer = (dir.path() / "newer.h5").string();
  write_checkpoint(newer, future);
  EXPECT_NE(input_error([&] { read_checkpoint(newer); }).find("attribute format_version: 2 is newer"),
            std::string::npos);

  const std::string half = edited_copy(dir, good, "float16.h5", [](hid_t f) {
    const auto space = h5::Space(H5Screate_simple(1, std::array<hsize_t, 1>{4}.data(), nullptr));
    const auto d = h5::Dataset(
        H5Dcreate2(f, "/parameters/half", H5T_STD_I16LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  });
  EXPECT_NE(
      input_error([&] { read_checkpoint(half); }).find("dataset /parameters/half: has an unsupported type"),
      std::string::npos);
  const std::string group = edited_copy(dir, good, "group.h5", [](hid_t f) {
    const auto g = h5::Group(H5Gcreate2(f, "/ema/sub", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  });
  EXPECT_NE(input_error([&] { read_checkpoint(group); }).find("dataset /ema/sub: is not a dataset"),
            std::string::npos);
  const std::string no_rng =
      edited_copy(dir, good, "norng.h5", [](hid_t f) { H5Ldelete(f, "/rng", H5P_DEFAULT); });
  EXPECT_NE(input_error([&] { read_checkpoint(no_rng); }).find("group /rng: missing"), std::string::npos);
  const std::string escape = edited_copy(dir, good, "escape.h5", [](hid_t f) {
    H5Lmove(f, "/parameters/w", f, "/parameters/w%zz", H5P_DEFAULT, H5P_DEFAULT);
  });
  EXPECT_NE(input_error([&] { read_checkpoint(escape); }).find("malformed"), std::string::npos);
}

TEST(Checkpoint, CheckTensorsReportsEveryMismatchAtOnce) {
  std::vector<TensorRecord> found(4);
  found[0] = {"a", DType::kFloat32, {2, 3}, std::vector<unsigned char>(24)};
  found[1] = {"b", DType::kFloat64, {4}, std::vector<unsigned char>(32)};
  found[2] = {"old.name", DType::kFloat32, {1}, std::vector<unsigned char>(4)};
  found[3] = {"ok", DType::kInt64, {}, std::vector<unsigned char>(8)};
  std::vector<TensorSpec> expected = {{"a", DType::kFloat32, {3, 2}},
                                      {"b", DType::kFloat32, {4}},
                                      {"new.name", DType::kFloat32, {1}},
                                      {"ok", DType::kInt64, {}}};
  const std::string message = input_error([&] { check_tensors("ck.h5", found, expected); });
  EXPECT_NE(message.find("ck.h5: tensors: "), std::string::npos) << message;
  EXPECT_NE(message.find("1 missing, 1 unexpected, 2 with another shape or dtype"), std::string::npos)
      << message;
  EXPECT_NE(message.find("missing 'new.name'"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected 'old.name'"), std::string::npos) << message;
  EXPECT_NE(message.find("'a' is [2,3] float32, model expects [3,2] float32"), std::string::npos) << message;
  EXPECT_NE(message.find("'b' is [4] float64, model expects [4] float32"), std::string::npos) << message;
  EXPECT_EQ(message.find("'ok'"), std::string::npos) << message;

  for (int i = 0; i < 10; ++i) expected.push_back({"extra" + std::to_string(i), DType::kFloat32, {1}});
  const std::string many = input_error([&] { check_tensors("ck.h5", found, expected); });
  EXPECT_NE(many.find("11 missing"), std::string::npos) << many;
  EXPECT_NE(many.find("; and 9 more"), std::string::npos) << many;

  EXPECT_NO_THROW(check_tensors("ck.h5", {found[3]}, {{"ok", DType::kInt64, {}}}));
}

TEST(Checkpoint, ReadsAndIsReadByH5py) {
  // Interoperability both ways: h5py reads our file (escaped names, VL strings), and a checkpoint made
  // by h5py (fixed-length string attributes, groups without a creation-order index) loads.
  test::TempDir dir;
  const std::string ours = (dir.path() / "ours.h5").string();
  Checkpoint checkpoint = small_checkpoint(9);
  checkpoint.optimizer[0].name = "exp_avg/w";
  write_checkpoint(ours, checkpoint);
  const std::string theirs = (dir.path() / "theirs.h5").string();
  const std::string script = dir.write("make.py", R"(
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["format"] == "hemeplm-checkpoint", f.attrs["format"]
    assert f.attrs["step"] == 9 and f["optimizer/exp_avg%2Fw"].dtype == np.int64
    assert f["parameters/w"].shape == (4, 3)
with h5py.File(sys.argv[2], "w") as f:
    f.attrs["format"] = np.bytes_("hemeplm-checkpoint")
    f.attrs["format_version"] = np.int32(1)
    f.attrs["step"] = np.int64(3)
    for k in ("data_position", "config"): f.attrs[k] = np.bytes_("{}")
    f.attrs["program_version"] = "h5py"
    p = f.create_group("parameters")
    p["b"] = np.arange(6, dtype=np.float32).reshape(2, 3)
    p["a"] = np.float64(2.5)
    for g in ("optimizer", "ema", "rng"): f.create_group(g)
)");
  const test::CommandResult result = test::run_command({HEMEPLM_PYTHON, script, ours, theirs});
  if (result.exit_status != 0 && result.err.find("No module named") != std::string::npos)
    GTEST_SKIP() << "h5py is not installed";
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Checkpoint back = read_checkpoint(theirs);
  EXPECT_EQ(back.step, 3);
  EXPECT_EQ(back.program_version, "h5py");
  ASSERT_EQ(back.parameters.size(), 2u);
  EXPECT_EQ(back.parameters[0].name, "a");  // name order without a creation-order index
  EXPECT_EQ(back.parameters[0].shape, std::vector<std::int64_t>{});
  EXPECT_EQ(back.parameters[1].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(back.parameters[1].dtype, DType::kFloat32);
  float values[6];
  std::memcpy(values, back.parameters[1].data.data(), sizeof values);
  EXPECT_EQ(values[5], 5.0f);
}

TEST(Checkpoint, NameEscapingIsReversible) {
  using namespace checkpoint_detail;  // NOLINT
  for (const char* name : {"a.b", "a/b", "%", "%25", ".", "..", "/", "a%2Fb", ""})
    EXPECT_EQ(unescape_name(escape_name(name)).value_or("<bad>"), name);
  EXPECT_FALSE(unescape_name("a%2").has_value());
  EXPECT_FALSE(unescape_name("a%41").has_value());
}

}  // namespace
}  // namespace hemeplm::parallel_io
