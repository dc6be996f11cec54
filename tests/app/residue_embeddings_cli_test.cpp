// --residue-embeddings as a user runs it: train a few steps on the example reference MD with synthetic
// embeddings from tools/make_residue_embeddings.py, sample a frame with them; the embeddings change the
// sampled frames; one-line errors (exit status 2) when the file is missing, not wanted or too narrow.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../sample/sample_fixtures.hpp"
#include "hemeplm/parallel_io/h5md.hpp"
#include "test_support.hpp"

#ifndef HEMEPLM_PYTHON
#define HEMEPLM_PYTHON "/usr/bin/python3"
#endif

namespace hemeplm::test {
namespace {

namespace fs = std::filesystem;
namespace fixtures = hemeplm::sample::test;

const std::string kComplex = source_file("inputs/example/complex.pdb");
const std::string kLigand = source_file("inputs/example/ligand.sdf");
const std::string kReferenceMd = source_file("inputs/example/reference-md.h5md");

/// tools/make_residue_embeddings.py PDB OUT --width W --seed S.
std::string make_embeddings(const TempDir& dir, const std::string& name, int width, int seed,
                            const std::string& pdb = kComplex) {
  const std::string out = (dir.path() / name).string();
  const auto r = run_command({HEMEPLM_PYTHON, source_file("tools/make_residue_embeddings.py"), pdb, out,
                              "--width", std::to_string(width), "--seed", std::to_string(seed)});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return out;
}

/// One DDPM step: a model trained for 3 steps (full-scale random denoiser) overflows over more.
std::vector<std::string> sample_argv(const std::string& checkpoint, const std::string& out,
                                     const std::vector<std::string>& extra) {
  std::vector<std::string> argv{hemeplm_binary(), "sample",   "--structure", kComplex,   "--ligand", kLigand,
                                "--checkpoint",   checkpoint, "--mode",      "forecast", "--frames", "1",
                                "--steps",        "1",        "--threads",   "1",        "--seed",   "5",
                                "--out",          out};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::vector<Vec3> last_frame(const std::string& path) {
  parallel_io::H5mdReader reader(path);
  std::vector<Vec3> positions(static_cast<std::size_t>(reader.atom_count()));
  reader.read_positions(reader.frame_count() - 1, 1, {0, reader.atom_count()}, Span<Vec3>(positions));
  return positions;
}

void expect_one_line_error(const CommandResult& r, const std::vector<std::string>& expected) {
  EXPECT_EQ(r.exit_status, 2) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr must be one line:\n" << r.err;
  for (const auto& e : expected)
    EXPECT_NE(r.err.find(e), std::string::npos) << "'" << e << "' not in: " << r.err;
}

/// Sampling checkpoints (fixture models): one without embeddings, one taking 8-wide ones.
struct Checkpoints {
  TempDir dir;
  std::string plain, with8;
};

const Checkpoints& checkpoints() {
  static const std::unique_ptr<Checkpoints> made = [] {
    auto c = std::make_unique<Checkpoints>();
    c->plain = (c->dir.path() / "plain.h5").string();
    c->with8 = (c->dir.path() / "with8.h5").string();
    auto config = fixtures::short_range_config();
    fixtures::save_sampling_checkpoint(c->plain, fixtures::smooth_model(config, torch::kFloat32, 7), 3, 100,
                                       0.5);
    config.residue_embedding_dim = 8;
    fixtures::save_sampling_checkpoint(c->with8, fixtures::smooth_model(config, torch::kFloat32, 7), 3, 100,
                                       0.5);
    return c;
  }();
  return *made;
}

TEST(ResidueEmbeddingsCli, HelpListsTheOption) {
  for (const char* command : {"train", "sample"}) {
    const auto r = run_command({hemeplm_binary(), command, "--help"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("--residue-embeddings"), std::string::npos) << command << ":\n" << r.out;
  }
}

TEST(ResidueEmbeddingsCli, TrainThreeStepsThenSampleAFrame) {
  TempDir dir;
  // The reference MD is the example complex with hydrogens: same chains and residue numbers.
  const std::string embeddings =
      make_embeddings(dir, "e.npy", 12, 1, source_file("inputs/example/reference-md.pdb"));
  const fs::path ckpt = dir.path() / "ckpt";
  const auto t = run_command({hemeplm_binary(),
                              "train",
                              "--data",
                              kReferenceMd,
                              "--residue-embeddings",
                              embeddings,
                              "--stage",
                              "2",
                              "--frames",
                              "3",
                              "--steps",
                              "3",
                              "--warmup-steps",
                              "1",
                              "--threads",
                              "1",
                              "--validation-windows",
                              "1",
                              "--checkpoint-dir",
                              ckpt.string(),
                              "--quiet"},
                             600);
  ASSERT_EQ(t.exit_status, 0) << t.out << t.err;
  const std::string checkpoint = (ckpt / "checkpoint-000000003.h5").string();
  ASSERT_TRUE(fs::exists(checkpoint)) << t.out;

  const std::string out = (dir.path() / "traj.h5md").string();
  const auto s = run_command(sample_argv(checkpoint, out, {"--residue-embeddings", embeddings}), 300);
  ASSERT_EQ(s.exit_status, 0) << s.out << s.err;
  parallel_io::H5mdReader reader(out);
  EXPECT_EQ(reader.frame_count(), 2);
  for (const auto& p : last_frame(out))
    ASSERT_TRUE(std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]));

  // The checkpoint wants them: sampling without is an error, and so is another width.
  expect_one_line_error(run_command(sample_argv(checkpoint, (dir.path() / "x.h5md").string(), {})),
                        {"12-wide residue embeddings", "--residue-embeddings FILE"});
  const std::string narrow = make_embeddings(dir, "narrow.h5", 4, 1);
  expect_one_line_error(run_command(sample_argv(checkpoint, (dir.path() / "y.h5md").string(),
                                                {"--residue-embeddings", narrow})),
                        {"4-wide", "12-wide"});
  // Resuming training without the file, or with another width, is refused naming the checkpoint.
  const auto resume = run_command({hemeplm_binary(), "train", "--data", kReferenceMd, "--residue-embeddings",
                                   narrow, "--stage", "2", "--frames", "3", "--steps", "4", "--threads", "1",
                                   "--checkpoint-dir", ckpt.string(), "--resume", "--quiet"},
                                  300);
  expect_one_line_error(resume, {"checkpoint-000000003.h5", "12-wide residue embeddings", "4-wide"});
  const auto without = run_command(
      {hemeplm_binary(), "train", "--data", kReferenceMd, "--stage", "2", "--frames", "3", "--steps", "4",
       "--threads", "1", "--checkpoint-dir", ckpt.string(), "--resume", "--quiet"},
      300);
  expect_one_line_error(without, {"checkpoint-000000003.h5", "give --residue-embeddings FILE"});
}

TEST(ResidueEmbeddingsCli, EmbeddingsChangeTheSampledFrames) {
  TempDir dir;
  const std::string a = make_embeddings(dir, "a.h5", 8, 1), b = make_embeddings(dir, "b.npy", 8, 2);
  const std::string out_a = (dir.path() / "a.h5md").string(), out_a2 = (dir.path() / "a2.h5md").string();
  const std::string out_b = (dir.path() / "b.h5md").string();
  for (const auto& [file, out] : {std::pair{a, out_a}, std::pair{a, out_a2}, std::pair{b, out_b}}) {
    const auto r = run_command(sample_argv(checkpoints().with8, out, {"--residue-embeddings", file}), 300);
    ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  }
  const auto fa = last_frame(out_a), fa2 = last_frame(out_a2), fb = last_frame(out_b);
  double same = 0, different = 0;
  for (std::size_t i = 0; i < fa.size(); ++i)
    for (int d = 0; d < 3; ++d) {
      same = std::max(same, std::abs(fa[i][d] - fa2[i][d]));
      different = std::max(different, std::abs(fa[i][d] - fb[i][d]));
    }
  EXPECT_EQ(same, 0.0);  // same seed, same file: the same frame
  EXPECT_GT(different, 1e-6);
}

TEST(ResidueEmbeddingsCli, ErrorsForMissingUnwantedAndIncompleteFiles) {
  TempDir dir;
  const std::string e8 = make_embeddings(dir, "e8.h5", 8, 1);
  expect_one_line_error(run_command(sample_argv(checkpoints().with8, (dir.path() / "a.h5md").string(), {})),
                        {checkpoints().with8, "8-wide residue embeddings"});
  expect_one_line_error(run_command(sample_argv(checkpoints().plain, (dir.path() / "b.h5md").string(),
                                                {"--residue-embeddings", e8})),
                        {"trained without residue embeddings"});
  // A table without residue A:3 of the structure.
  const std::string out = (dir.path() / "short.h5").string();
  const auto made = run_command({HEMEPLM_PYTHON, source_file("tools/make_residue_embeddings.py"), kComplex,
                                 out, "--width", "8", "--skip", "A:3"});
  ASSERT_EQ(made.exit_status, 0) << made.err;
  expect_one_line_error(run_command(sample_argv(checkpoints().with8, (dir.path() / "c.h5md").string(),
                                                {"--residue-embeddings", out})),
                        {"A:3 (GLU)", out});
  expect_one_line_error(
      run_command(sample_argv(checkpoints().with8, (dir.path() / "d.h5md").string(),
                              {"--residue-embeddings", (dir.path() / "absent.h5").string()})),
      {"absent.h5", "not found"});
  for (const char* name : {"a.h5md", "b.h5md", "c.h5md", "d.h5md"})
    EXPECT_FALSE(fs::exists(dir.path() / name));
}

}  // namespace
}  // namespace hemeplm::test
