// hemeplm under mpiexec: same results on any rank count, and a failure ends every rank with the
// message instead of hanging.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.hpp"

namespace hemeplm::test {
namespace {

const std::string kComplex = source_file("inputs/example/complex.pdb");
const std::string kLigand = source_file("inputs/example/ligand.sdf");

std::vector<std::string> mpiexec(int ranks, std::vector<std::string> args) {
  std::vector<std::string> argv{HEMEPLM_MPIEXEC, "-n", std::to_string(ranks), "--oversubscribe",
                                hemeplm_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST(MpiCli, PlanIsTheSameOnOneTwoAndThreeRanks) {
  TempDir dir;
  std::string reference;
  for (int ranks : {1, 2, 3}) {
    const std::string plan = (dir.path() / ("plan" + std::to_string(ranks) + ".json")).string();
    const auto r = run_command(
        mpiexec(ranks, {"fragment", kComplex, "--ligand", kLigand, "--ranks", "3", "--out", plan, "--json"}));
    ASSERT_EQ(r.exit_status, 0) << r.err;
    // Only rank 0 prints: exactly one JSON object.
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '{'), 1) << r.out;
    const std::string text = read_text(plan);
    if (reference.empty()) reference = text;
    EXPECT_EQ(text, reference) << "plan differs with " << ranks << " MPI ranks";
  }
}

TEST(MpiCli, DefaultRankCountIsTheJobSize) {
  const auto r = run_command(mpiexec(2, {"fragment", kComplex, "--json"}));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("\"ranks\": 2"), std::string::npos) << r.out;
}

TEST(MpiCli, BadInputEndsAllRanksWithTheMessage) {
  TempDir dir;
  const std::string plan = (dir.path() / "plan.json").string();
  const auto r =
      run_command(mpiexec(2, {"fragment", (dir.path() / "absent.pdb").string(), "--out", plan}), 60);
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.exit_status, -2) << "timed out: a rank hung";
  EXPECT_NE(r.err.find("absent.pdb"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(plan));
}

}  // namespace
}  // namespace hemeplm::test
