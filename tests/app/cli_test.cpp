// The hemeplm program as a user runs it: help, version, config files, info and fragment output.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace hemeplm::test {
namespace {

using nlohmann::json;

const std::string kComplex = source_file("inputs/example/complex.pdb");
const std::string kLigand = source_file("inputs/example/ligand.sdf");

TEST(Cli, HelpListsCommands) {
  const auto r = run_command({hemeplm_binary(), "--help"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("info"), std::string::npos);
  EXPECT_NE(r.out.find("fragment"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Cli, VersionNamesTheLibraries) {
  const auto r = run_command({hemeplm_binary(), "--version"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (const char* word : {"hemeplm 0.", "MPI", "Kokkos", "gemmi", "RDKit", "CUDA", "NCCL"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << " missing in:\n" << r.out;
}

TEST(Cli, EveryCommandHasHelp) {
  for (const char* command : {"info", "fragment"}) {
    const auto r = run_command({hemeplm_binary(), command, "--help"});
    ASSERT_EQ(r.exit_status, 0) << command << ": " << r.err;
    EXPECT_NE(r.out.find(std::string("Usage: hemeplm ") + command), std::string::npos);
    EXPECT_NE(r.out.find("--config"), std::string::npos);
  }
}

TEST(Cli, UnknownCommandAndOptionExitWithTwo) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"frobnicate"}, {"info", kComplex, "--no-such-option"}}) {
    std::vector<std::string> argv{hemeplm_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_command(argv);
    EXPECT_EQ(r.exit_status, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(Info, ExampleComplexAsJson) {
  const auto r = run_command({hemeplm_binary(), "info", kComplex, "--ligand", kLigand, "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["atoms"], 401 + 33);
  EXPECT_EQ(j["chains"], 3);  // A, B and the ligand file's chain
  EXPECT_EQ(j["residues"], 25 + 25 + 1);
  EXPECT_EQ(j["ligands"].size(), 1u);
  EXPECT_EQ(j["ligands"][0]["atoms"], 33);
  EXPECT_TRUE(j["hydrogens"].get<bool>());  // the ligand's; the helices are heavy-atom only
  EXPECT_EQ(j["hydrogen_count"], 18);       // ibuprofen C13H18O2
  EXPECT_TRUE(j["box"].is_null());
  EXPECT_EQ(j["molecules"], 3);
  EXPECT_GT(j["bonds"].get<int>(), 400);
}

TEST(Info, TableIsHumanReadable) {
  const auto r = run_command({hemeplm_binary(), "info", kComplex});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("atoms"), std::string::npos);
  EXPECT_NE(r.out.find("401"), std::string::npos);
  EXPECT_NE(r.out.find("absent"), std::string::npos);  // no hydrogens in the helices
}

TEST(Info, DevicesReportsHonestlyWithoutGpu) {
  const auto r = run_command({hemeplm_binary(), "info", "--devices", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json j = json::parse(r.out);
  if (j["devices"].empty()) {
    EXPECT_FALSE(j["problem"].get<std::string>().empty());
  }
}

TEST(Info, ModelPaperParameterCount) {
  const auto r = run_command({hemeplm_binary(), "info", "--model", "paper", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json j = json::parse(r.out);
  const auto parameters = j["parameters"].get<std::int64_t>();
  EXPECT_GE(parameters, 17'500'000);
  EXPECT_LE(parameters, 18'900'000);
  EXPECT_EQ(parameters, j["expected_from_spec"].get<std::int64_t>());
  EXPECT_EQ(j["modules"]["energy_model"]["parameters"], 9'815'298);
  EXPECT_EQ(j["modules"]["denoiser"]["parameters"], 3'267'301);
  EXPECT_EQ(j["hyperparameters"]["visnet.hidden"], "256");

  const auto table = run_command({hemeplm_binary(), "info", "--model", "tiny"});
  ASSERT_EQ(table.exit_status, 0) << table.err;
  EXPECT_NE(table.out.find("cross_attention"), std::string::npos) << table.out;
}

TEST(Info, ModelHyperparametersFromConfigFileAndCommandLine) {
  TempDir dir;
  const std::string config = dir.write("model.ini",
                                       "model = paper\n"
                                       "[model]\n"
                                       "visnet.layers = 8\n"
                                       "cross_attention.distance_bias = false\n");
  const auto r = run_command({hemeplm_binary(), "info", "--config", config, "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json j = json::parse(r.out);
  // One ViS-MP layer and the 32 distance-bias weights fewer than paper (model-spec.md: 1,051,904).
  EXPECT_EQ(j["parameters"].get<std::int64_t>(), 18'449'511 - 1'051'904);
  EXPECT_EQ(j["hyperparameters"]["visnet.layers"], "8");

  const auto cli =
      run_command({hemeplm_binary(), "info", "--config", config, "--model.visnet.layers", "9", "--json"});
  ASSERT_EQ(cli.exit_status, 0) << cli.err;
  EXPECT_EQ(json::parse(cli.out)["parameters"].get<std::int64_t>(), 18'449'511);

  const std::string bad = dir.write("bad.ini", "model = tiny\n[model]\nvisnet.hiden = 8\n");
  const auto unknown = run_command({hemeplm_binary(), "info", "--config", bad});
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_NE(unknown.err.find("bad.ini"), std::string::npos) << unknown.err;
  const auto invalid =
      run_command({hemeplm_binary(), "info", "--model", "tiny", "--model.visnet.heads", "5"});
  EXPECT_EQ(invalid.exit_status, 2);
  EXPECT_NE(invalid.err.find("heads"), std::string::npos) << invalid.err;
  EXPECT_EQ(std::count(invalid.err.begin(), invalid.err.end(), '\n'), 1) << invalid.err;
}

TEST(Fragment, JsonSummaryAndPlanFile) {
  TempDir dir;
  const std::string plan = (dir.path() / "plan.json").string();
  const auto r = run_command({hemeplm_binary(), "fragment", kComplex, "--ligand", kLigand, "--ranks", "2",
                              "--core-residues", "6", "--domains", "4", "--out", plan, "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json summary = json::parse(r.out);
  EXPECT_EQ(summary["atoms"], 434);
  EXPECT_EQ(summary["residues"], 51);
  EXPECT_EQ(summary["ranks"], 2);
  EXPECT_GE(summary["imbalance"].get<double>(), 1.0);
  const json p = json::parse(read_text(plan));
  EXPECT_EQ(p["atoms"], 434);
  ASSERT_EQ(p["fragments"].size(), summary["fragments"].get<std::size_t>());
  // Every atom in exactly one core; weights sum to one per atom.
  std::vector<int> cores(434, 0);
  std::vector<double> weight(434, 0.0);
  for (const auto& f : p["fragments"]) {
    EXPECT_GE(f["rank"].get<int>(), 0);
    EXPECT_LT(f["rank"].get<int>(), 2);
    std::size_t k = 0;
    for (int a : f["core"]) ++cores[a], weight[a] += f["weights"][k++].get<double>();
    for (int a : f["buffer"]) weight[a] += f["weights"][k++].get<double>();
    EXPECT_EQ(k, f["weights"].size());
  }
  for (int a = 0; a < 434; ++a) {
    EXPECT_EQ(cores[a], 1) << "atom " << a;
    EXPECT_NEAR(weight[a], 1.0, 1e-9) << "atom " << a;
  }
}

TEST(Fragment, TableWithoutJson) {
  const auto r = run_command({hemeplm_binary(), "fragment", kComplex, "--ligand", kLigand, "--ranks", "2"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("imbalance"), std::string::npos);
  EXPECT_NE(r.out.find("rank"), std::string::npos);
}

TEST(Fragment, ConfigFileSuppliesOptionsAndCommandLineWins) {
  TempDir dir;
  const std::string config = dir.write("fragment.ini",
                                       "# hemeplm fragment settings\n"
                                       "ligand = " +
                                           kLigand +
                                           "\n"
                                           "core-residues = 5\n"
                                           "ranks = 3\n"
                                           "json = true\n");
  const auto from_file = run_command({hemeplm_binary(), "fragment", kComplex, "--config", config});
  ASSERT_EQ(from_file.exit_status, 0) << from_file.err;
  const json a = json::parse(from_file.out);
  EXPECT_EQ(a["ranks"], 3);
  EXPECT_EQ(a["atoms"], 434);  // the ligand came from the file

  const auto overridden =
      run_command({hemeplm_binary(), "fragment", kComplex, "--config", config, "--ranks", "2"});
  ASSERT_EQ(overridden.exit_status, 0) << overridden.err;
  EXPECT_EQ(json::parse(overridden.out)["ranks"], 2);
}

TEST(Fragment, UnknownConfigKeyIsAnError) {
  TempDir dir;
  const std::string config = dir.write("bad.ini", "core-residue = 5\n");
  const auto r = run_command({hemeplm_binary(), "fragment", kComplex, "--config", config});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("bad.ini"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Fragment, Ai2bmdOnCappedChignolin) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "chignolin_cln025_capped_vac.pdb");
  const auto r = run_command(
      {hemeplm_binary(), "fragment", pdb, "--scheme", "ai2bmd", "--ranks", "1", "--domains", "2", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["fragments"], 19);
}

TEST(Fragment, Ai2bmdOnTrpCage) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "trpcage_1l2y_nmr.pdb");
  const auto r = run_command(
      {hemeplm_binary(), "fragment", pdb, "--scheme", "ai2bmd", "--ranks", "1", "--domains", "2", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["fragments"], 39);
}

TEST(Fragment, FarnesyltransferaseOnFourRanksIsBalanced) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "big_1s63_ftase_proteinH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(sdf, "big_1s63_ligand.sdf");
  const auto r = run_command({hemeplm_binary(), "fragment", pdb, "--ligand", sdf, "--ranks", "4", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["atoms"], 11714);
  EXPECT_EQ(j["ranks"], 4);
  EXPECT_LE(j["imbalance"].get<double>(), 1.15);
}

TEST(Fragment, SolvatedDhfr) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "big_dhfr_solvated_23558.pdb");
  const auto r = run_command({hemeplm_binary(), "fragment", pdb, "--ranks", "4", "--json"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["atoms"], 23558);
  EXPECT_LE(j["imbalance"].get<double>(), 1.15);
}

}  // namespace
}  // namespace hemeplm::test
