// hemeplm annotate as a user runs it on the bundled example complex: a tiny checkpoint trained for two
// steps by the real binary, then every output file, B-factors equal to residues.csv, PNG files when
// matplotlib and pymol are installed, and the errors a user can make.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"

namespace hemeplm::test {
namespace {

namespace fs = std::filesystem;

bool one_line_error(const CommandResult& r) {
  return r.exit_status == 2 && r.err.find("error") != std::string::npos &&
         r.err.find('\n') == r.err.size() - 1;
}

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in && std::string(magic + 1, 3) == "PNG";
}

/// residues.csv as "chain:number" -> column -> text.
std::map<std::string, std::map<std::string, std::string>> read_residues(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream head(line);
  for (std::string field; std::getline(head, field, ',');) header.push_back(field);
  std::map<std::string, std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::map<std::string, std::string> values;
    std::size_t k = 0;
    for (std::string field; std::getline(row, field, ',') && k < header.size(); ++k)
      values[header[k]] = field;
    rows[values["chain"] + ":" + values["residue_number"]] = values;
  }
  return rows;
}

/// Every ATOM/HETATM record's chain:number (input chain names) -> B-factor (columns 61-66); the
/// REMARK 99 scale.
struct PdbBFactors {
  std::vector<std::pair<std::string, double>> atoms;
  double scale = 1.0;
};
PdbBFactors read_pdb(const fs::path& path) {
  PdbBFactors result;
  std::map<std::string, std::string> chain_names;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_LE(line.size(), 80u) << line;
    const std::string scaled = "REMARK  99 B-FACTOR = VALUE TIMES ", renamed = "REMARK  99 CHAIN ";
    if (line.rfind(scaled, 0) == 0) result.scale = std::stod(line.substr(scaled.size()));
    // "REMARK  99 CHAIN C = INPUT CHAIN L1 (...)": PDB's one-character id of a longer chain name.
    if (line.rfind(renamed, 0) == 0) {
      std::istringstream words(line.substr(renamed.size()));
      std::string id, equals, input, chain, name;
      words >> id >> equals >> input >> chain >> name;
      chain_names[id] = name;
    }
    if (line.rfind("ATOM  ", 0) != 0 && line.rfind("HETATM", 0) != 0) continue;
    std::string seq = line.substr(22, 4);
    seq.erase(0, seq.find_first_not_of(' '));
    const std::string id = line.substr(21, 1);
    result.atoms.emplace_back((chain_names.count(id) ? chain_names[id] : id) + ":" + seq,
                              std::stod(line.substr(60, 6)));
  }
  return result;
}

class AnnotateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    dataset_ = (dir_->path() / "example.h5md").string();
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {hemeplm_binary(), "prepare", "--trajectory", source_file("inputs/example/reference-md.h5md"),
              "--last-frame", "8", "--out", dataset_},
             {hemeplm_binary(), "train", "--data", dataset_, "--model", "tiny", "--stage", "1", "--steps",
              "2", "--batch", "2", "--threads", "1", "--checkpoint-dir", (dir_->path() / "ck").string(),
              "--validation-fraction", "0", "--quiet"}}) {
      const CommandResult r = run_command(argv, 600);
      ASSERT_EQ(r.exit_status, 0) << r.err;
    }
    checkpoint_ = (dir_->path() / "ck" / "checkpoint-000000002.h5").string();
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override { ASSERT_TRUE(fs::exists(checkpoint_)) << "training the checkpoint failed"; }

  static CommandResult annotate(std::vector<std::string> args) {
    args.insert(args.begin(), {hemeplm_binary(), "annotate", "--threads", "1"});
    return run_command(args, 300);
  }

  static std::unique_ptr<TempDir> dir_;
  static std::string dataset_, checkpoint_;
};
std::unique_ptr<TempDir> AnnotateCli::dir_;
std::string AnnotateCli::dataset_, AnnotateCli::checkpoint_;

TEST_F(AnnotateCli, ReferenceFrameWritesEveryFile) {
  const fs::path out = dir_->path() / "frame3";
  const CommandResult r = annotate({"--checkpoint", checkpoint_, "--reference", dataset_, "--frame", "3",
                                    "--pocket-radius", "6", "--out", out.string()});
  ASSERT_EQ(r.exit_status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("pocket residues"), std::string::npos) << r.out;
  for (const char* file : {"energy.pdb", "energy.cif", "force_error.pdb", "force_error.cif", "residues.csv",
                           "pocket_forces.py", "summary.json"})
    EXPECT_TRUE(fs::exists(out / file)) << file;

  const auto summary = nlohmann::json::parse(read_text((out / "summary.json").string()));
  EXPECT_EQ(summary["format"], "hemeplm-annotate");
  EXPECT_EQ(summary["atoms"], 881);
  EXPECT_EQ(summary["frame"], 3);
  const int pocket = summary["pocket_residues"].get<int>();
  EXPECT_GT(pocket, 1);
  EXPECT_LT(pocket, summary["residues"].get<int>());

  // B-factors of both PDB files hold the CSV's values (scaled as REMARK 99 says) on every atom.
  const auto residues = read_residues(out / "residues.csv");
  ASSERT_EQ(residues.size(), 51u);
  double energy_sum = 0;
  int in_pocket = 0;
  for (const auto& [key, row] : residues) {
    energy_sum += std::stod(row.at("energy_kJ_mol"));
    in_pocket += row.at("in_pocket") == "1";
    EXPECT_FALSE(row.at("force_error_kJ_mol_A").empty()) << key;
  }
  EXPECT_EQ(in_pocket, pocket);
  EXPECT_NEAR(energy_sum + summary["energy_offset_kJ_mol"].get<double>(),
              summary["energy_kJ_mol"].get<double>(),
              1e-4 * (1 + std::abs(summary["energy_kJ_mol"].get<double>())));
  for (const auto& [file, column] : std::vector<std::pair<std::string, std::string>>{
           {"energy.pdb", "energy_kJ_mol"}, {"force_error.pdb", "force_error_kJ_mol_A"}}) {
    const auto pdb = read_pdb(out / file);
    ASSERT_EQ(pdb.atoms.size(), 881u) << file;
    for (const auto& [key, b] : pdb.atoms) {
      ASSERT_TRUE(residues.count(key)) << file << " " << key;
      const double value = std::stod(residues.at(key).at(column));
      ASSERT_NEAR(b / pdb.scale, value, 0.005 / pdb.scale + 1e-6 * std::abs(value)) << file << " " << key;
    }
  }

  // PNG files where the renderers exist; otherwise the summary says why.
  std::string notes;
  for (const auto& note : summary["notes"]) notes += note.get<std::string>() + "\n";
  for (const char* png : {"pocket_forces.png", "energy.png", "pocket_forces_3d.png"}) {
    if (fs::exists(out / png)) {
      EXPECT_TRUE(is_png(out / png)) << png;
    } else {
      EXPECT_NE(notes.find(std::string(png) + " "), std::string::npos) << png << ": " << notes;
    }
  }
  if (run_command({"/usr/bin/env", "PATH=/usr/bin:/bin", "pymol", "-cq", "-d", "quit"}).exit_status == 0) {
    EXPECT_TRUE(is_png(out / "energy.png")) << notes;
    EXPECT_TRUE(is_png(out / "pocket_forces_3d.png")) << notes;
  }
  if (run_command({"/usr/bin/python3", "-c", "import matplotlib"}).exit_status == 0) {
    EXPECT_TRUE(is_png(out / "pocket_forces.png")) << notes;
  }
}

TEST_F(AnnotateCli, StructureAloneHasNoForceError) {
  const fs::path out = dir_->path() / "structure";
  const CommandResult r =
      annotate({"--checkpoint", checkpoint_, "--structure", source_file("inputs/example/reference-md.pdb"),
                "--no-images", "--out", out.string()});
  ASSERT_EQ(r.exit_status, 0) << r.err << r.out;
  EXPECT_TRUE(fs::exists(out / "energy.pdb"));
  EXPECT_TRUE(fs::exists(out / "energy.cif"));
  EXPECT_TRUE(fs::exists(out / "pocket_forces.py"));
  EXPECT_FALSE(fs::exists(out / "force_error.pdb"));
  EXPECT_FALSE(fs::exists(out / "pocket_forces.png"));
  const auto residues = read_residues(out / "residues.csv");
  ASSERT_FALSE(residues.empty());
  EXPECT_TRUE(residues.begin()->second.at("force_error_kJ_mol_A").empty());
}

TEST_F(AnnotateCli, UserErrorsExitTwoWithOneLine) {
  const std::string out = (dir_->path() / "bad").string();
  CommandResult r =
      annotate({"--checkpoint", checkpoint_, "--reference", dataset_, "--frame", "99", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  EXPECT_NE(r.err.find(dataset_), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("frame 99"), std::string::npos) << r.err;

  const std::string missing = (dir_->path() / "missing.pdb").string();
  r = annotate({"--checkpoint", checkpoint_, "--structure", missing, "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;

  // The heavy-atom structure is not the reference's 881 atoms.
  r = annotate({"--checkpoint", checkpoint_, "--structure", source_file("inputs/example/complex.pdb"),
                "--ligand", source_file("inputs/example/ligand.sdf"), "--reference", dataset_, "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  EXPECT_NE(r.err.find("881"), std::string::npos) << r.err;

  r = annotate({"--checkpoint", (dir_->path() / "none.h5").string(), "--reference", dataset_, "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = annotate({"--reference", dataset_, "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = annotate({"--checkpoint", checkpoint_, "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = annotate({"--checkpoint", checkpoint_, "--structure", source_file("inputs/example/complex.pdb"),
                "--frame", "2", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  r = annotate({"--checkpoint", checkpoint_, "--reference", dataset_, "--pocket-radius", "0", "--out", out});
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;

  const CommandResult help = run_command({hemeplm_binary(), "annotate", "--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("--pocket-radius"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("energy.pdb"), std::string::npos) << help.out;
}

// A checkpoint trained on data without energies (alanine dipeptide positions only) has no energy head.
TEST(AnnotateCliNoEnergy, CheckpointWithoutEnergyHeadIsRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(top, "ala2_traj_top_mdtraj.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(xtc, "ala2_traj_501frames.xtc");
  TempDir dir;
  const std::string data = (dir.path() / "ala2.h5md").string(), ck = (dir.path() / "ck").string();
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {hemeplm_binary(), "prepare", "--topology", top, "--trajectory", xtc, "--last-frame", "10",
            "--out", data},
           {hemeplm_binary(), "train", "--data", data, "--model", "tiny", "--stage", "1", "--steps", "2",
            "--batch", "2", "--threads", "1", "--checkpoint-dir", ck, "--validation-fraction", "0",
            "--quiet"}}) {
    const CommandResult r = run_command(argv, 600);
    ASSERT_EQ(r.exit_status, 0) << r.err;
  }
  const std::string checkpoint = ck + "/checkpoint-000000002.h5";
  const CommandResult r = run_command({hemeplm_binary(), "annotate", "--checkpoint", checkpoint,
                                       "--reference", data, "--out", (dir.path() / "out").string()},
                                      300);
  EXPECT_TRUE(one_line_error(r)) << r.exit_status << ": " << r.err;
  EXPECT_NE(r.err.find(checkpoint), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("energy head"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hemeplm::test
