// SDF conformer sets as trajectories: each record of one molecule is a frame, the topology is the first
// record alone, and files whose records are different molecules are refused with one-line InputErrors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "hemeplm/parallel_io/trajectory_source.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

using parallel_io::open_trajectory;
using parallel_io::TrajectoryFrame;
namespace test = hemeplm::test;

/// The records of an SDF file as text, each with its "$$$$" line.
std::vector<std::string> sdf_records(const std::string& path) {
  std::istringstream in(test::read_text(path));
  std::vector<std::string> records(1);
  std::string line;
  while (std::getline(in, line)) {
    records.back() += line + "\n";
    if (line.rfind("$$$$", 0) == 0) records.emplace_back();
  }
  if (records.back().find_first_not_of(" \r\n") == std::string::npos) records.pop_back();
  return records;
}

/// Element symbols and coordinates of a V2000 record's atom block, exactly as the fixed columns hold
/// them (what RDKit's MolBlock parser puts into the conformer).
struct AtomBlock {
  std::vector<std::string> symbols;
  std::vector<Vec3> positions;
};

AtomBlock v2000_atoms(const std::string& record) {
  std::istringstream in(record);
  std::string line;
  for (int i = 0; i < 4; ++i) std::getline(in, line);
  const int n = std::atoi(line.substr(0, 3).c_str());
  AtomBlock block;
  for (int i = 0; i < n && std::getline(in, line); ++i) {
    block.positions.push_back({std::atof(line.substr(0, 10).c_str()), std::atof(line.substr(10, 10).c_str()),
                               std::atof(line.substr(20, 10).c_str())});
    std::string symbol = line.substr(31, 3);
    symbol.erase(symbol.find_last_not_of(' ') + 1);
    block.symbols.push_back(symbol);
  }
  return block;
}

std::string import_error(const std::string& path) {
  try {
    auto source = open_trajectory(path);
    TrajectoryFrame frame;
    while (source->next(frame)) {
    }
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(TrajectorySdf, RuxolitinibConformersAreTenFrames) {
  HEMEPLM_REQUIRE_SHARED_DATA(sdf, "ruxolitinib_10conformers.sdf");
  EXPECT_TRUE(parallel_io::trajectory_has_topology(sdf));
  auto source = open_trajectory(sdf);
  EXPECT_EQ(source->atom_count(), 41);  // C17H18N6
  std::vector<TrajectoryFrame> frames;
  TrajectoryFrame frame;
  while (source->next(frame)) frames.push_back(frame);
  ASSERT_EQ(frames.size(), 10u);
  for (std::size_t k = 0; k < frames.size(); ++k) {
    EXPECT_EQ(frames[k].step, static_cast<std::int64_t>(k));
    EXPECT_EQ(frames[k].time_ps, 0.0);  // conformers have no time axis
    EXPECT_EQ(frames[k].positions.size(), 41u);
    EXPECT_FALSE(frames[k].box.has_value());
    EXPECT_TRUE(frames[k].forces.empty());
    EXPECT_FALSE(frames[k].potential_energy.has_value());
  }

  // Record 3 (frame 2): coordinates as written in the file, which is what RDKit's conformer holds.
  const std::vector<std::string> records = sdf_records(sdf);
  ASSERT_EQ(records.size(), 10u);
  const AtomBlock third = v2000_atoms(records[2]);
  ASSERT_EQ(third.positions.size(), 41u);
  EXPECT_NEAR(third.positions[0].x, -3.7746, 1e-12);  // first atom line of record 3
  for (int i = 0; i < 41; ++i) {
    EXPECT_NEAR(frames[2].positions[i].x, third.positions[i].x, 1e-9) << "atom " << i + 1;
    EXPECT_NEAR(frames[2].positions[i].y, third.positions[i].y, 1e-9) << "atom " << i + 1;
    EXPECT_NEAR(frames[2].positions[i].z, third.positions[i].z, 1e-9) << "atom " << i + 1;
  }
  EXPECT_GT(norm(frames[2].positions[0] - frames[0].positions[0]), 0.1);  // a different conformer
}

TEST(TrajectorySdf, TopologyIsTheFirstRecordAlone) {
  HEMEPLM_REQUIRE_SHARED_DATA(sdf, "ruxolitinib_10conformers.sdf");
  const System system = load_ligand_system(sdf, /*first_molecule_only=*/true);
  const AtomBlock first = v2000_atoms(sdf_records(sdf).front());
  ASSERT_EQ(system.atom_count(), 41);
  ASSERT_EQ(first.symbols.size(), 41u);
  int hydrogens = 0, carbons = 0, nitrogens = 0;
  for (int i = 0; i < 41; ++i) {
    const int z = system.atomic_numbers[i];
    hydrogens += z == 1, carbons += z == 6, nitrogens += z == 7;
    // Element order as written; hydrogens as written, none added.
    const char* symbol = z == 1 ? "H" : z == 6 ? "C" : z == 7 ? "N" : "?";
    EXPECT_EQ(first.symbols[i], symbol) << "atom " << i + 1;
    EXPECT_NEAR(norm(system.positions[i] - first.positions[i]), 0.0, 1e-9) << "atom " << i + 1;
  }
  EXPECT_EQ(carbons, 17);
  EXPECT_EQ(hydrogens, 18);
  EXPECT_EQ(nitrogens, 6);
  EXPECT_EQ(system.bonds.size(), 44u);
  EXPECT_EQ(system.molecules.size(), 1u);
  EXPECT_EQ(system.residue_count(), 1);
  EXPECT_FALSE(system.features.empty());
  bool has_double = false;
  for (const Bond& b : system.bonds) has_double = has_double || b.order == 2;
  EXPECT_TRUE(has_double);  // bond orders from the file (kekulised)

  // Every frame's element order is the topology's: the reader checked it against record 1.
  const std::vector<LigandConformer> records = read_conformer_set(sdf);
  ASSERT_EQ(records.size(), 10u);
  for (const LigandConformer& r : records) EXPECT_EQ(r.atomic_numbers, system.atomic_numbers);
}

TEST(TrajectorySdf, DifferentMoleculesAreRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(drugbank, "minidrugbank_371.sdf");
  const std::vector<std::string> records = sdf_records(drugbank);
  ASSERT_GE(records.size(), 2u);
  test::TempDir dir;
  const std::string mixed = dir.write("two_drugs.sdf", records[0] + records[1]);
  const std::string message = import_error(mixed);
  ASSERT_FALSE(message.empty()) << "two different molecules were accepted as conformers";
  EXPECT_NE(message.find("two_drugs.sdf"), std::string::npos) << message;
  EXPECT_NE(message.find("record 2"), std::string::npos) << message;
  EXPECT_NE(message.find("44 atoms"), std::string::npos) << message;  // record 1 (19 in record 2)
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;

  // The whole file: refused at record 2 too, before a later record can fail for reasons of its own.
  const std::string whole = import_error(drugbank);
  EXPECT_NE(whole.find("record 2"), std::string::npos) << whole;
  EXPECT_NE(whole.find("one molecule"), std::string::npos) << whole;
}

TEST(TrajectorySdf, SameAtomCountOtherElementsAreRefused) {
  HEMEPLM_REQUIRE_SHARED_DATA(sdf, "ruxolitinib_10conformers.sdf");
  std::vector<std::string> records = sdf_records(sdf);
  // Record 4: the first hydrogen becomes a fluorine (still chemically valid, same atom count).
  const AtomBlock fourth = v2000_atoms(records[3]);
  int hydrogen = 0;
  while (fourth.symbols[hydrogen] != "H") ++hydrogen;
  std::istringstream in(records[3]);
  std::string line, edited;
  for (int i = 0; std::getline(in, line); ++i) {
    if (i == 4 + hydrogen) line.replace(31, 2, "F ");
    edited += line + "\n";
  }
  records[3] = edited;
  test::TempDir dir;
  std::string text;
  for (const std::string& r : records) text += r;
  const std::string message = import_error(dir.write("edited.sdf", text));
  EXPECT_NE(message.find("edited.sdf"), std::string::npos) << message;
  EXPECT_NE(message.find("record 4"), std::string::npos) << message;
  EXPECT_NE(message.find("atom " + std::to_string(hydrogen + 1) + " is F"), std::string::npos) << message;
}

}  // namespace
}  // namespace hemeplm
