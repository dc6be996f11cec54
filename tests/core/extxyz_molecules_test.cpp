// Extended XYZ molecule sets (QM9): per-frame atoms and numeric comment keys as properties, the QM9
// property map, and the clear error a trajectory reader gives on such a file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/extxyz.hpp"
#include "hemeplm/core/features.hpp"
#include "hemeplm/core/molecular_properties.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

constexpr double kEvPerHartree = 27.211386245988;

TEST(ExtxyzMolecules, Qm9FramesHaveTheirOwnAtomsAndProperties) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "qm9_first100.xyz");
  ExtxyzReader reader(path, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  std::vector<int> counts;
  std::vector<std::map<std::string, double>> properties;
  std::vector<std::vector<std::string>> species;
  while (reader.next(frame)) {
    counts.push_back(static_cast<int>(frame.species.size()));
    properties.push_back(frame.properties);
    species.push_back(frame.species);
  }
  ASSERT_EQ(counts.size(), 100u);
  EXPECT_EQ(*std::min_element(counts.begin(), counts.end()), 3);
  EXPECT_EQ(*std::max_element(counts.begin(), counts.end()), 17);
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), 0), 1001);
  EXPECT_EQ((std::vector<int>{counts[0], counts[1], counts[2], counts[99]}), (std::vector<int>{5, 4, 3, 13}));
  EXPECT_EQ(species[0], (std::vector<std::string>{"C", "H", "H", "H", "H"}));  // methane
  EXPECT_EQ(species[2], (std::vector<std::string>{"O", "H", "H"}));            // water
  // Every numeric key but Properties/pbc, names as written.
  const std::vector<std::string> keys{"<R2>", "A",     "B",       "C",       "Cv",     "G",  "H",   "U",
                                      "U0",   "alpha", "epsHOMO", "epsLUMO", "epsgap", "mu", "zpve"};
  for (const auto& p : properties) {
    std::vector<std::string> names;
    for (const auto& [key, value] : p) names.push_back(key);
    ASSERT_EQ(names, keys);
  }
  EXPECT_DOUBLE_EQ(properties[0].at("epsgap"), 0.5048);
  EXPECT_DOUBLE_EQ(properties[0].at("<R2>"), 35.3641);
  EXPECT_DOUBLE_EQ(properties[1].at("mu"), 1.6256);
  EXPECT_DOUBLE_EQ(properties[80].at("U0"), -233.555951);
}

TEST(ExtxyzMolecules, TrajectoryReaderRejectsAMoleculeSetWithAHint) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "qm9_first100.xyz");
  ExtxyzReader reader(path);  // the default: a trajectory
  ExtxyzFrame frame;
  ASSERT_TRUE(reader.next(frame));
  try {
    reader.next(frame);
    FAIL() << "a trajectory reader accepted frames of different molecules";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("line 8"), std::string::npos) << message;
    EXPECT_NE(message.find("frame has 4 atoms, frame 0 has 5"), std::string::npos) << message;
    EXPECT_NE(message.find("prepare --molecules"), std::string::npos) << message;
  }
}

TEST(ExtxyzMolecules, SameCountOtherSpeciesIsAlsoRejectedForATrajectory) {
  test::TempDir dir;
  const std::string path = dir.write("two.xyz",
                                     "3\n\nO 0 0 0\nH 0.96 0 0\nH 0 0.96 0\n"
                                     "3\n\nC 0 0 0\nO 1.16 0 0\nO -1.16 0 0\n");
  ExtxyzReader trajectory(path);
  ExtxyzFrame frame;
  ASSERT_TRUE(trajectory.next(frame));
  EXPECT_THROW(trajectory.next(frame), InputError);
  ExtxyzReader molecules(path, ExtxyzAtoms::kVariable);
  ASSERT_TRUE(molecules.next(frame));
  ASSERT_TRUE(molecules.next(frame));
  EXPECT_EQ(frame.species, (std::vector<std::string>{"C", "O", "O"}));
  EXPECT_FALSE(molecules.next(frame));
}

TEST(ExtxyzMolecules, ExtraColumnsOnlyAsPropertiesDeclaresThem) {
  test::TempDir dir;
  // A QM9 copy with Mulliken charges as a 5th column, declared; text keys are not properties.
  const std::string declared =
      dir.write("charges.xyz",
                "2\nProperties=species:S:1:pos:R:3:charge:R:1 gap=0.25 config_type=qm9 pbc=\"F F F\"\n"
                "H 0 0 0 0.1\nH 0.74 0 0 -0.1\n"
                "3\nProperties=species:S:1:pos:R:3 gap=0.5\nO 0 0 0\nH 0.96 0 0\nH 0 0.96 0\n");
  ExtxyzReader reader(declared, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  ASSERT_TRUE(reader.next(frame));
  EXPECT_EQ(frame.properties, (std::map<std::string, double>{{"gap", 0.25}}));
  EXPECT_DOUBLE_EQ(frame.positions[1].x, 0.74);
  ASSERT_TRUE(reader.next(frame));  // a molecule set may change its columns too
  EXPECT_EQ(frame.properties, (std::map<std::string, double>{{"gap", 0.5}}));

  const std::string undeclared = dir.write("bad.xyz", "2\n\nH 0 0 0 0.1\nH 0.74 0 0 -0.1\n");
  ExtxyzReader bad(undeclared, ExtxyzAtoms::kVariable);
  try {
    bad.next(frame);
    FAIL() << "an undeclared column was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("atom line has 5 columns, Properties says 4"), std::string::npos)
        << e.what();
  }
}

TEST(MolecularProperties, Qm9MapConvertsHartreeToEvAndKeepsOtherKeys) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "qm9_first100.xyz");
  ExtxyzReader reader(path, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  ASSERT_TRUE(reader.next(frame));
  const auto mapped = map_molecule_properties(frame.properties, path, "frame 0");
  std::map<std::string, MoleculeProperty> by_name;
  std::vector<std::string> names;
  for (const auto& p : mapped) by_name[p.name] = p, names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "alpha", "b", "c", "cv", "g", "gap", "h", "homo", "lumo",
                                             "mu", "r2", "u", "u0", "zpve"}));  // sorted
  EXPECT_NEAR(by_name["gap"].value, 13.736, 5e-4);                              // CH4: 0.5048 Ha
  EXPECT_NEAR(by_name["gap"].value, 0.5048 * kEvPerHartree, 1e-12);
  EXPECT_NEAR(by_name["homo"].value, -0.3877 * kEvPerHartree, 1e-12);
  EXPECT_NEAR(by_name["u0"].value, -40.47893 * kEvPerHartree, 1e-9);
  EXPECT_NEAR(by_name["zpve"].value, 0.044749 * kEvPerHartree, 1e-12);
  EXPECT_EQ(by_name["gap"].unit, "eV");
  EXPECT_EQ(by_name["mu"].unit, "Debye");
  EXPECT_EQ(by_name["alpha"].unit, "bohr3");
  EXPECT_EQ(by_name["r2"].unit, "bohr2");
  EXPECT_DOUBLE_EQ(by_name["r2"].value, 35.3641);
  EXPECT_EQ(by_name["cv"].unit, "cal mol-1 K-1");
  EXPECT_DOUBLE_EQ(by_name["cv"].value, 6.469);
  // Rotational constants are not in the table: own name, lower-cased, no unit, value as written.
  EXPECT_EQ(by_name["a"].unit, "");
  EXPECT_DOUBLE_EQ(by_name["a"].value, 157.7118);
}

TEST(MolecularProperties, UnknownKeysAreSanitizedAndCollisionsRejected) {
  EXPECT_EQ(property_name("epsgap"), "gap");
  EXPECT_EQ(property_name("<R2>"), "r2");
  EXPECT_EQ(property_name("My-Label.2"), "my_label_2");
  EXPECT_EQ(property_name("free_energy"), "free_energy");
  try {
    map_molecule_properties({{"epsgap", 0.5}, {"gap", 13.6}}, "set.xyz", "frame 3");
    FAIL() << "two keys mapping to one name were accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("set.xyz"), std::string::npos) << message;
    EXPECT_NE(message.find("frame 3"), std::string::npos) << message;
    EXPECT_NE(message.find("'gap'"), std::string::npos) << message;
  }
}

TEST(ExtxyzMolecules, FrameSystemIsTheMoleculeWithBonds) {
  HEMEPLM_REQUIRE_SHARED_DATA(path, "qm9_first100.xyz");
  ExtxyzReader reader(path, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  ASSERT_TRUE(reader.next(frame));
  ASSERT_TRUE(reader.next(frame));  // NH3
  const System ammonia = extxyz_frame_system(frame, path);
  EXPECT_EQ(ammonia.atom_count(), 4);
  EXPECT_EQ(ammonia.bonds.size(), 3u);
  EXPECT_EQ(ammonia.molecules.size(), 1u);
  EXPECT_EQ(ammonia.atomic_numbers, (std::vector<int>{7, 1, 1, 1}));
  EXPECT_EQ(ammonia.features.size(), 4u * kAtomFeatureCount);  // featurized like load_system's
}

}  // namespace
}  // namespace hemeplm
