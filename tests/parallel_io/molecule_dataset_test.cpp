// Per-molecule datasets with property labels: written by write_molecule_dataset, read back through
// H5mdReader, DatasetReader and read_frame_properties, and checked independently with h5py.
#include "hemeplm/parallel_io/molecule_dataset.hpp"

#include <gtest/gtest.h>

#include "hemeplm/core/error.hpp"
#include "hemeplm/core/extxyz.hpp"
#include "hemeplm/parallel_io/dataset_reader.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

System water(const test::TempDir& dir) {
  const std::string path = dir.write("water.xyz", "3\n\nO 0 0 0.1\nH 0.96 0 0\nH -0.2 0.93 0\n");
  ExtxyzReader reader(path, ExtxyzAtoms::kVariable);
  ExtxyzFrame frame;
  reader.next(frame);
  return extxyz_frame_system(frame, path);
}

const std::vector<MoleculeProperty> kProperties{
    {"zpve", "eV", 0.5816552},
    {"gap", "eV", 13.736108072594743},
    {"a", "", -1.0 / 3.0},
    {"cv", "cal mol-1 K-1", 6.002},
};

TEST(MoleculeDataset, PropertiesRoundTripExactlyWithUnits) {
  test::TempDir dir;
  const System system = water(dir);
  const std::string path = (dir.path() / "mol-000002.h5md").string();
  write_molecule_dataset(path, system, kProperties, {"qm9.xyz#frame 2", R"({"frame":2})", "{}"});

  const FrameProperties read = read_frame_properties(path);
  EXPECT_EQ(read.names, (std::vector<std::string>{"a", "cv", "gap", "zpve"}));  // sorted
  EXPECT_EQ(read.units, (std::vector<std::string>{"", "cal mol-1 K-1", "eV", "eV"}));
  ASSERT_EQ(read.values.size(), 4u);
  EXPECT_EQ(read.values[0], std::vector<double>{-1.0 / 3.0});  // float64: bit-exact
  EXPECT_EQ(read.values[2], std::vector<double>{13.736108072594743});

  const DatasetReader dataset(path, 1);
  EXPECT_EQ(dataset.h5md().frame_count(), 1);
  EXPECT_EQ(dataset.atom_count(), 3);
  EXPECT_EQ(dataset.property_names(), read.names);
  EXPECT_EQ(dataset.property_unit("cv"), "cal mol-1 K-1");
  EXPECT_EQ(dataset.property("zpve", 0), 0.5816552);
  EXPECT_THROW(dataset.property("homo", 0), InputError);
  EXPECT_THROW(dataset.property_unit("homo"), InputError);
  EXPECT_THROW(dataset.property("gap", 1), UsageError);
  // The subgroup is no observable of its own; positions and topology are the molecule's.
  EXPECT_TRUE(dataset.h5md().observable_names().empty());
  const System back = dataset.h5md().read_system();
  EXPECT_EQ(back.atomic_numbers, system.atomic_numbers);
  EXPECT_EQ(back.bonds.size(), 2u);
  EXPECT_NEAR(back.positions[2].y, 0.93, 1e-6);
  EXPECT_EQ(dataset.trajectories().at(0).source, "qm9.xyz#frame 2");
  // No temporary file is left next to the dataset.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 2);  // water.xyz and the dataset
}

TEST(MoleculeDataset, LayoutAsDocumentedSeenByH5py) {
  if (test::run_command({HEMEPLM_PYTHON, "-c", "import h5py"}, 60).exit_status != 0)
    GTEST_SKIP() << "h5py is not installed";
  test::TempDir dir;
  const std::string path = (dir.path() / "m.h5md").string();
  write_molecule_dataset(path, water(dir), kProperties, {"m", "{}", "{}"});
  const std::string script =
      "import h5py, sys\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "g = f['observables/properties/gap']\n"
      "assert g['value'].dtype == 'float64' and g['value'].shape == (1,), g['value']\n"
      "assert g['value'].attrs['unit'] in (b'eV', 'eV'), g['value'].attrs['unit']\n"
      "assert g['step'].shape == (1,) and g['time'].shape == (1,)\n"
      "assert abs(g['value'][0] - 13.736108072594743) == 0\n"
      "assert sorted(f['observables/properties']) == ['a', 'cv', 'gap', 'zpve']\n"
      "assert 'unit' not in f['observables/properties/a/value'].attrs  # no unit stated\n"
      "print('ok')\n";
  const auto r = test::run_command({HEMEPLM_PYTHON, "-c", script, path}, 60);
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
}

TEST(MoleculeDataset, DatasetWithoutPropertiesHasNone) {
  test::TempDir dir;
  const std::string path = (dir.path() / "plain.h5md").string();
  write_molecule_dataset(path, water(dir), {}, {"m", "{}", "{}"});
  EXPECT_TRUE(read_frame_properties(path).names.empty());
  const DatasetReader dataset(path, 1);
  EXPECT_TRUE(dataset.property_names().empty());
  try {
    dataset.property("gap", 0);
    FAIL() << "a missing property was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("holds no properties"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hemeplm::parallel_io
