// Baselines, per-set analysis and the structure evaluation's tables on alanine dipeptide frames made in
// memory, and trajectory files through the real H5MD writer and reader.
#include "hemeplm/evaluate/structure_evaluation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "evaluate_test_data.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/evaluate/set_analysis.hpp"
#include "test_support.hpp"

namespace hemeplm::evaluate {
namespace {

System alanine_dipeptide() {
  return load_system({test::shared_data("ala2_traj_top_mdtraj.pdb"), {}});
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(SetAnalysis, TrivialBaselineReproducesTheReferenceRmsf) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  const System system = alanine_dipeptide();
  // Atom-dependent noise: hydrogens move 0.4 Å per component, heavy atoms 0.1 Å.
  Trajectory reference = test::noisy_trajectory(system, 400, 0.1, 5);
  std::mt19937_64 random(9);
  std::normal_distribution<double> gauss(0, 0.3);
  for (std::int64_t f = 0; f < reference.frame_count; ++f)
    for (int i = 0; i < system.atom_count(); ++i)
      if (system.is_hydrogen(i))
        reference.positions[f * system.atom_count() + i] += Vec3{gauss(random), gauss(random), gauss(random)};
  const std::vector<int> fit = heavy_atoms(system);
  const std::vector<double> rmsf = rmsf_per_atom(reference, fit);
  const Trajectory trivial = trivial_baseline(reference, fit, 1);
  ASSERT_EQ(trivial.frame_count, reference.frame_count);
  const std::vector<double> trivial_rmsf = rmsf_per_atom(trivial, fit);
  for (int i = 0; i < system.atom_count(); ++i) EXPECT_NEAR(trivial_rmsf[i], rmsf[i], 0.15 * rmsf[i]) << i;
  EXPECT_GT(rmsf[0], 2 * rmsf[1]);  // atom 0 is a hydrogen, atom 1 a carbon
  // Seeded: the same seed gives the same frames, another seed others.
  EXPECT_EQ(trivial_baseline(reference, fit, 1).positions[100].x, trivial.positions[100].x);
  EXPECT_NE(trivial_baseline(reference, fit, 2).positions[100].x, trivial.positions[100].x);
}

TEST(SetAnalysis, TorsionDecorrelationOfARotatingAndAFrozenTorsion) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  Trajectory t = test::noisy_trajectory(alanine_dipeptide(), 100, 0.0, 1);
  for (double& time : t.time_ps) time *= 2;  // 2 ps per frame
  // Atom 3's torsion about a fixed axis turns by 0.25 rad per frame: C(τ) = cos(0.25 τ) < 1/e first at
  // τ = 5 frames (cos 1.25 = 0.315; cos 1.0 = 0.540); a torsion of frozen atoms never decorrelates.
  const int n = t.atom_count();
  for (std::int64_t f = 0; f < t.frame_count; ++f) {
    Vec3* x = t.positions.data() + f * n;
    x[0] = {1, 0, 0}, x[1] = {0, 0, 0}, x[2] = {0, 0, 1};
    x[3] = {std::cos(0.25 * f), std::sin(0.25 * f), 1};
  }
  const std::vector<double> tau = torsion_decorrelation_ps(t, {{0, 1, 2, 3}, {4, 5, 6, 8}});
  EXPECT_DOUBLE_EQ(tau[0], 10.0);
  EXPECT_TRUE(std::isnan(tau[1]));
  EXPECT_DOUBLE_EQ(frame_spacing_ps(t), 2.0);
}

TEST(SetAnalysis, LigandRmsdIsMeasuredInThePocketFrame) {
  HEMEPLM_REQUIRE_SHARED_DATA(receptor, "pl_184l_t4l99a_receptorH.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(ligand, "pl_184l_isobutylbenzene_ligand.sdf");
  const System system = load_system({receptor, {ligand}});
  // Frame 0 as loaded; frame 1 the whole complex turned and moved; frame 2 the ligand alone moved by
  // 1 Å along x: the pocket-frame RMSD is 0, 0 and 1 Å.
  Trajectory t = test::noisy_trajectory(system, 3, 0.0, 1);
  const int n = t.atom_count();
  for (int i = 0; i < n; ++i) {
    const Vec3 x = system.positions[i];
    t.positions[n + i] = Vec3{x.y, -x.x, x.z} + Vec3{3, 4, 5};
  }
  const AnalysisFrame frame = make_analysis_frame(t, {});
  ASSERT_FALSE(frame.ligand_atoms.empty());
  ASSERT_GT(frame.pocket_atoms.size(), 20u);
  for (int i : frame.ligand_atoms) t.positions[2 * n + i] += Vec3{1, 0, 0};
  const SetAnalysis a = analyse_set(frame, t);
  ASSERT_EQ(a.ligand_rmsd.size(), 3u);
  EXPECT_NEAR(a.ligand_rmsd[0], 0.0, 1e-9);
  EXPECT_NEAR(a.ligand_rmsd[1], 0.0, 1e-6);
  EXPECT_NEAR(a.ligand_rmsd[2], 1.0, 1e-6);
  EXPECT_NEAR(a.rmsd[1], 0.0, 1e-6);  // a rigid motion of everything
  EXPECT_NEAR(a.rg[1], a.rg[0], 1e-9);
  // Pocket atoms lie within 8 Å of a ligand heavy atom and are not ligand atoms.
  for (int p : frame.pocket_atoms) {
    double nearest = 1e9;
    for (int l : frame.ligand_atoms)
      nearest = std::min(nearest, norm(system.positions[p] - system.positions[l]));
    EXPECT_LE(nearest, 8.0);
    EXPECT_EQ(std::find(frame.ligand_atoms.begin(), frame.ligand_atoms.end(), p), frame.ligand_atoms.end());
  }
}

TEST(StructureEvaluation, ATrajectoryComparedWithItselfHasZeroDivergence) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  const System system = alanine_dipeptide();
  const Trajectory reference = test::noisy_trajectory(system, 120, 0.15, 21);
  const Trajectory other = test::noisy_trajectory(system, 80, 0.6, 22);
  test::TempDir dir;
  std::ostringstream log;
  StructureEvaluationOptions options;
  options.tica_lag = 2;
  const std::string text = evaluate_structure(options, reference, {{"same", &reference}, {"hot", &other}},
                                              dir.path().string(), log);
  const auto json = nlohmann::json::parse(text);
  const auto& same = json["generated"][0]["metrics"];
  for (const std::string key :
       {"jsd_bond_length", "jsd_bond_angle", "jsd_torsion", "jsd_tica0", "jsd_tica01", "jsd_phi_psi"})
    EXPECT_EQ(same[key].get<double>(), 0.0) << key;
  const auto& hot = json["generated"][1]["metrics"];
  EXPECT_GT(hot["jsd_bond_length"].get<double>(), 0.1);
  EXPECT_GT(hot["rmsf_mean_A"].get<double>(), 2 * same["rmsf_mean_A"].get<double>());
  EXPECT_TRUE(hot["ligand_pocket_rmsd_mean_A"].is_null());
  for (const auto* metrics : {&json["baselines"]["md_oracle"]["metrics"],
                              &json["baselines"]["trivial"]["metrics"], &json["reference"]["metrics"]}) {
    ASSERT_EQ(metrics->size(), structure_metric_keys().size());
    for (const auto& key : structure_metric_keys()) EXPECT_TRUE(metrics->contains(key)) << key;
  }
  // The MD oracle of noise about one structure is close to the reference, unlike the hot set.
  EXPECT_LT(json["baselines"]["md_oracle"]["metrics"]["jsd_bond_length"].get<double>(),
            hot["jsd_bond_length"].get<double>());
  const std::string d = dir.path().string() + "/";
  EXPECT_EQ(first_line(d + "distributions_bond_length.csv"),
            "bin_center,reference,md_oracle,trivial,same,hot");
  EXPECT_EQ(first_line(d + "distributions_tica0.csv"), "bin_center,reference,md_oracle,trivial,same,hot");
  EXPECT_EQ(first_line(d + "ramachandran.csv"), "set,residue,frame,phi_deg,psi_deg");
  EXPECT_EQ(first_line(d + "tica.csv"), "set,frame,tica0,tica1");
  EXPECT_EQ(first_line(d + "rmsf.csv"), "residue_index,residue,reference,trivial,same,hot");
  EXPECT_EQ(first_line(d + "timeseries.csv"), "set,frame,time_ps,rmsd_A,rg_A,ligand_rmsd_A");
  EXPECT_EQ(first_line(d + "metrics.csv"), "metric,set,value");
  EXPECT_EQ(first_line(d + "torsion_decorrelation.csv"),
            "torsion,atoms,reference,md_oracle,trivial,same,hot");
  // Every distribution column is normalised.
  std::ifstream csv(d + "distributions_torsion.csv");
  std::string line;
  std::getline(csv, line);
  std::vector<double> sums(5, 0.0);
  int rows = 0;
  while (std::getline(csv, line)) {
    std::stringstream fields(line);
    std::string field;
    std::getline(fields, field, ',');
    for (double& s : sums) {
      std::getline(fields, field, ',');
      s += std::stod(field);
    }
    ++rows;
  }
  EXPECT_EQ(rows, 100);
  for (double s : sums) EXPECT_NEAR(s, 1.0, 1e-6);  // 8 significant digits per entry
}

TEST(StructureEvaluation, TooFewFramesForTheLagIsAUsageError) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  const Trajectory reference = test::noisy_trajectory(alanine_dipeptide(), 4, 0.1, 1);
  test::TempDir dir;
  std::ostringstream log;
  StructureEvaluationOptions options;
  options.tica_lag = 4;
  EXPECT_THROW(evaluate_structure(options, reference, {}, dir.path().string(), log), UsageError);
}

TEST(StructureEvaluation, LabelsAreUniqueFileStems) {
  EXPECT_EQ(unique_labels({"a/forecast.h5md", "b/forecast.h5md", "trivial.h5md", "x,y.h5md"}),
            (std::vector<std::string>{"forecast", "forecast_2", "trivial_2", "x_y"}));
}

TEST(Trajectory, ReadsFilesAndChecksThatTheyDescribeTheSameAtoms) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "ala2_traj_top_mdtraj.pdb");
  test::TempDir dir;
  const System system = alanine_dipeptide();
  Trajectory a = test::noisy_trajectory(system, 10, 0.1, 1);
  for (std::int64_t f = 0; f < a.frame_count; ++f) a.energies.push_back(-10.0 * f);
  const std::string path_a = (dir.path() / "a.h5md").string();
  test::write_h5md(a, path_a);
  const Trajectory read = read_trajectory(path_a);
  ASSERT_EQ(read.frame_count, 10);
  EXPECT_NEAR(read.frame(7)[3].y, a.frame(7)[3].y, 1e-5);
  EXPECT_NEAR(read.energies[4], -40.0, 1e-9);
  EXPECT_NEAR(read.time_ps[9], 9.0, 1e-9);
  const Trajectory part = read_trajectory(path_a, 6, 3);
  EXPECT_EQ(part.frame_count, 3);
  EXPECT_NEAR(part.frame(0)[5].z, a.frame(6)[5].z, 1e-5);
  EXPECT_NEAR(part.system.positions[5].z, a.frame(6)[5].z, 1e-5);
  EXPECT_THROW(read_trajectory(path_a, 8, 5), InputError);

  const Trajectory both = concatenate({read, part});
  EXPECT_EQ(both.frame_count, 13);
  EXPECT_EQ(both.energies.size(), 13u);
  EXPECT_NEAR(both.frame(12)[0].x, a.frame(8)[0].x, 1e-5);
  EXPECT_EQ(slice(both, 10, 3).frame(0)[2].x, both.frame(10)[2].x);

  // Another system: the first three atoms only (different atom count), and one renamed atom.
  System renamed = system;
  renamed.atom_names[4] = "CX";
  Trajectory b = test::noisy_trajectory(renamed, 3, 0.1, 2);
  const std::string path_b = (dir.path() / "b.h5md").string();
  test::write_h5md(b, path_b);
  try {
    require_same_atoms(read, read_trajectory(path_b));
    FAIL() << "different atom names were accepted";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path_a), std::string::npos) << what;
    EXPECT_NE(what.find(path_b), std::string::npos) << what;
    EXPECT_NE(what.find("atom 4"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  Trajectory shorter = read;
  shorter.path = "short.h5md";
  shorter.system.positions.pop_back();
  EXPECT_THROW(require_same_atoms(read, shorter), InputError);
}

}  // namespace
}  // namespace hemeplm::evaluate
