// hemeplm evaluate as a user runs it: two parts of the alanine dipeptide trajectory prepared with
// hemeplm prepare, one the reference and one the "generated" set; then the errors a user can make.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace hemeplm::test {
namespace {

std::string first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool one_line_error(const CommandResult& r) {
  return r.exit_status == 2 && r.err.find("error") != std::string::npos &&
         r.err.find('\n') == r.err.size() - 1;
}

class EvaluateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    top_ = shared_data("ala2_traj_top_mdtraj.pdb");
    xtc_ = shared_data("ala2_traj_501frames.xtc");
    if (top_.empty() || xtc_.empty()) GTEST_SKIP() << "../shared/data ala2 files are absent: test needs them";
    reference_ = prepare("reference.h5md", {"--last-frame", "200"});
    generated_ = prepare("forecast.h5md", {"--first-frame", "200", "--last-frame", "300"});
  }
  std::string prepare(const std::string& name, std::vector<std::string> extra) {
    const std::string out = (dir_.path() / name).string();
    std::vector<std::string> argv = {hemeplm_binary(), "prepare", "--topology", top_,
                                     "--trajectory",   xtc_,      "--out",      out};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    return out;
  }
  CommandResult evaluate(std::vector<std::string> args) {
    args.insert(args.begin(), {hemeplm_binary(), "evaluate"});
    return run_command(args, 300);
  }

  TempDir dir_;
  std::string top_, xtc_, reference_, generated_;
};

TEST_F(EvaluateCli, WritesMetricsTablesAndReport) {
  const auto out = dir_.path() / "eval";
  const CommandResult r =
      evaluate({"--reference", reference_, "--generated", generated_, "--no-plots", "--out", out.string()});
  ASSERT_EQ(r.exit_status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("report: " + (out / "report.html").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("jsd_tica0"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out / "report.html"));
  EXPECT_FALSE(std::filesystem::exists(out / "plots" / "rmsf.png"));

  const auto metrics = nlohmann::json::parse(read_text((out / "metrics.json").string()));
  EXPECT_EQ(metrics["format"], "hemeplm-evaluate");
  EXPECT_EQ(metrics["reference"]["frames"], 200);
  EXPECT_EQ(metrics["reference"]["atoms"], 22);
  ASSERT_EQ(metrics["generated"].size(), 1u);
  EXPECT_EQ(metrics["generated"][0]["label"], "forecast");
  EXPECT_EQ(metrics["generated"][0]["frames"], 100);
  const auto& m = metrics["generated"][0]["metrics"];
  for (const char* key : {"jsd_bond_length", "jsd_bond_angle", "jsd_torsion", "jsd_tica0", "jsd_tica01",
                          "jsd_phi_psi", "rmsd_mean_A", "rg_mean_A", "rmsf_mean_A"}) {
    ASSERT_TRUE(m.contains(key)) << key;
    EXPECT_TRUE(m[key].is_number()) << key;
    EXPECT_TRUE(metrics["baselines"]["md_oracle"]["metrics"][key].is_number()) << key;
    EXPECT_TRUE(metrics["baselines"]["trivial"]["metrics"][key].is_number()) << key;
  }
  EXPECT_TRUE(m["ligand_pocket_rmsd_mean_A"].is_null());  // alanine dipeptide has no ligand
  EXPECT_TRUE(m.contains("torsion_decorrelation_ps_median"));
  EXPECT_FALSE(metrics.contains("energy"));
  EXPECT_EQ(metrics["plots"]["written"].size(), 0u);
  // Real MD against real MD is closer than noise about the start frame.
  EXPECT_LT(m["jsd_bond_length"].get<double>(),
            metrics["baselines"]["trivial"]["metrics"]["jsd_bond_length"].get<double>());

  EXPECT_EQ(first_line(out / "distributions_bond_length.csv"),
            "bin_center,reference,md_oracle,trivial,forecast");
  EXPECT_EQ(first_line(out / "distributions_bond_angle.csv"),
            "bin_center,reference,md_oracle,trivial,forecast");
  EXPECT_EQ(first_line(out / "distributions_torsion.csv"), "bin_center,reference,md_oracle,trivial,forecast");
  EXPECT_EQ(first_line(out / "distributions_tica0.csv"), "bin_center,reference,md_oracle,trivial,forecast");
  EXPECT_EQ(first_line(out / "ramachandran.csv"), "set,residue,frame,phi_deg,psi_deg");
  EXPECT_EQ(first_line(out / "tica.csv"), "set,frame,tica0,tica1");
  EXPECT_EQ(first_line(out / "rmsf.csv"), "residue_index,residue,reference,trivial,forecast");
  EXPECT_EQ(first_line(out / "timeseries.csv"), "set,frame,time_ps,rmsd_A,rg_A,ligand_rmsd_A");
  EXPECT_EQ(first_line(out / "metrics.csv"), "metric,set,value");
  EXPECT_EQ(first_line(out / "torsion_decorrelation.csv"),
            "torsion,atoms,reference,md_oracle,trivial,forecast");
}

TEST_F(EvaluateCli, UserErrorsExitTwoWithOneLine) {
  const std::string out = (dir_.path() / "bad").string();
  const std::string heavy = prepare("heavy.h5md", {"--atoms", "heavy", "--last-frame", "20"});
  CommandResult r = evaluate({"--reference", reference_, "--generated", heavy, "--no-plots", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  EXPECT_NE(r.err.find(reference_), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(heavy), std::string::npos) << r.err;

  const std::string missing = (dir_.path() / "missing.h5md").string();
  r = evaluate({"--reference", reference_, "--generated", missing, "--no-plots", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;

  r = evaluate({"--reference", reference_, "--generated", generated_, "--tica-lag", "0", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = evaluate({"--reference", reference_, "--generated", generated_, "--tica-lag", "500", "--no-plots",
                "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = evaluate(
      {"--reference", reference_, "--generated", generated_, "--oracle-fraction", "1.5", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = evaluate({"--reference", reference_, "--generated", generated_, "--bogus", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = evaluate({"--reference", reference_, "--out", out});  // nothing to evaluate
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
}

// Ethanol (rMD17) with energies and forces: a tiny checkpoint trained by the real binary adds the energy
// part; ethanol has no heavy-atom torsion, so TICA runs on pair distances and torsion tables are absent.
TEST(EvaluateCliEnergy, CheckpointAddsTheEnergyPart) {
  HEMEPLM_REQUIRE_SHARED_DATA(xyz, "rmd17_ethanol_1000_train.xyz");
  TempDir dir;
  const std::string reference = (dir.path() / "eth.h5md").string(),
                    generated = (dir.path() / "gen.h5md").string();
  const std::string hemeplm = hemeplm_binary(), checkpoints = (dir.path() / "ck").string();
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {hemeplm, "prepare", "--trajectory", xyz, "--last-frame", "100", "--out", reference},
           {hemeplm, "prepare", "--trajectory", xyz, "--first-frame", "100", "--last-frame", "150", "--out",
            generated},
           {hemeplm, "train", "--data", reference, "--model", "tiny", "--stage", "1", "--steps", "10",
            "--batch", "4", "--threads", "1", "--checkpoint-dir", checkpoints, "--validation-fraction", "0",
            "--quiet"}}) {
    const CommandResult r = run_command(argv, 300);
    ASSERT_EQ(r.exit_status, 0) << r.err;
  }
  const auto out = dir.path() / "eval";
  const CommandResult r = run_command(
      {hemeplm, "evaluate", "--reference", reference, "--generated", generated, "--checkpoint",
       checkpoints + "/checkpoint-000000010.h5", "--threads", "1", "--no-plots", "--out", out.string()},
      300);
  ASSERT_EQ(r.exit_status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("energy head: energy MAE"), std::string::npos) << r.out;
  const auto metrics = nlohmann::json::parse(read_text((out / "metrics.json").string()));
  EXPECT_TRUE(metrics["energy"]["energy"]["r2"].is_number());
  EXPECT_EQ(metrics["tica"]["features"], "heavy-atom pair distances");
  EXPECT_TRUE(metrics["generated"][0]["metrics"]["jsd_tica0"].is_number());
  EXPECT_TRUE(metrics["generated"][0]["metrics"]["jsd_torsion"].is_null());
  EXPECT_TRUE(std::filesystem::exists(out / "energy_frames.csv"));
  EXPECT_TRUE(std::filesystem::exists(out / "distributions_bond_length.csv"));
  EXPECT_FALSE(std::filesystem::exists(out / "distributions_torsion.csv"));
  EXPECT_FALSE(std::filesystem::exists(out / "ramachandran.csv"));
}

}  // namespace
}  // namespace hemeplm::test
