// ResidueEmbeddingTable: HDF5 and NPY files written by h5py/numpy (and by tools/make_residue_embeddings.py)
// read back exactly, and every malformed file is an InputError naming the file and the problem.
#include "hemeplm/parallel_io/residue_embeddings.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "hemeplm/core/error.hpp"
#include "test_support.hpp"

namespace hemeplm::parallel_io {
namespace {

/// Runs a Python snippet with numpy and h5py imported and `d` = the folder; fails the test on error.
void python(const test::TempDir& dir, const std::string& code) {
  const std::string script = "import numpy as np, h5py, sys\nd = sys.argv[1]\n" + code;
  const auto result = test::run_command({HEMEPLM_PYTHON, "-c", script, dir.path().string()}, 120);
  ASSERT_EQ(result.exit_status, 0) << result.err;
}

/// Value of row r, column e in the files the tests write: exact in float32.
float expected_value(int r, int e) {
  return static_cast<float>(r) * 0.5f - static_cast<float>(e) * 0.25f;
}

std::string expect_input_error(const std::string& path) {
  try {
    ResidueEmbeddingTable::read(path);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(e.file()), std::string::npos);
    return e.what();
  }
  ADD_FAILURE() << path << ": no InputError";
  return {};
}

TEST(ResidueEmbeddingTable, HdfVariableLengthStringsRoundTrip) {
  test::TempDir dir;
  python(dir, R"(
v = np.array([[r * 0.5 - e * 0.25 for e in range(3)] for r in range(4)])
with h5py.File(d + '/e.h5', 'w') as f:
    f['embeddings'] = v  # float64
    f['chain'] = np.array(['A', 'A', 'B', 'B'], dtype=h5py.string_dtype())
    f['residue_number'] = np.array([1, 2, 2, 2], dtype=np.int64)
    f['insertion_code'] = np.array(['', '', '', 'A'], dtype=h5py.string_dtype())
)");
  const auto table = ResidueEmbeddingTable::read((dir.path() / "e.h5").string());
  EXPECT_EQ(table->width(), 3);
  EXPECT_EQ(table->size(), 4);
  const ResidueKey keys[] = {{"A", 1, ' '}, {"A", 2, ' '}, {"B", 2, ' '}, {"B", 2, 'A'}};
  for (int r = 0; r < 4; ++r) {
    const auto row = table->find(keys[r]);
    ASSERT_EQ(row.size(), 3u) << keys[r].to_string();
    for (int e = 0; e < 3; ++e) EXPECT_EQ(row[e], expected_value(r, e)) << keys[r].to_string();
  }
  EXPECT_TRUE(table->find({"A", 3, ' '}).empty());
  EXPECT_TRUE(table->find({"C", 1, ' '}).empty());
  EXPECT_TRUE(table->find({"A", 1, 'A'}).empty());
  EXPECT_EQ((ResidueKey{"B", 2, 'A'}).to_string(), "B:2A");
  EXPECT_EQ((ResidueKey{"A", 42, ' '}).to_string(), "A:42");
}

TEST(ResidueEmbeddingTable, HdfFixedLengthStringsWithoutInsertionCodes) {
  test::TempDir dir;
  python(dir, R"(
v = np.array([[r * 0.5 - e * 0.25 for e in range(2)] for r in range(3)], dtype=np.float32)
with h5py.File(d + '/e.hdf5', 'w') as f:
    f['embeddings'] = v
    f['chain'] = np.array([b'A', b'AB', b'A'], dtype='S2')
    f['residue_number'] = np.array([-3, 7, 8], dtype=np.int32)
)");
  const auto table = ResidueEmbeddingTable::read((dir.path() / "e.hdf5").string());
  ASSERT_EQ(table->size(), 3);
  const ResidueKey keys[] = {{"A", -3, ' '}, {"AB", 7, ' '}, {"A", 8, ' '}};
  for (int r = 0; r < 3; ++r) {
    const auto row = table->find(keys[r]);
    ASSERT_EQ(row.size(), 2u) << keys[r].to_string();
    for (int e = 0; e < 2; ++e) EXPECT_EQ(row[e], expected_value(r, e)) << keys[r].to_string();
  }
}

TEST(ResidueEmbeddingTable, NpyVersionsAndDtypesRoundTrip) {
  test::TempDir dir;
  python(dir, R"(
from numpy.lib import format
v = np.array([[r * 0.5 - e * 0.25 for e in range(5)] for r in range(3)])
np.save(d + '/f4.npy', v.astype('<f4'))
with open(d + '/f8v2.npy', 'wb') as f:
    format.write_array(f, v.astype('<f8'), version=(2, 0))
for stem in ('f4', 'f8v2'):
    with open(d + '/' + stem + '.keys.csv', 'w') as f:
        f.write('chain,residue_number,insertion_code\nA,10,\nA,10,B\n B , 11 ,\n')
)");
  for (const char* name : {"f4.npy", "f8v2.npy"}) {
    const auto table = ResidueEmbeddingTable::read((dir.path() / name).string());
    ASSERT_EQ(table->width(), 5) << name;
    ASSERT_EQ(table->size(), 3) << name;
    const ResidueKey keys[] = {{"A", 10, ' '}, {"A", 10, 'B'}, {"B", 11, ' '}};
    for (int r = 0; r < 3; ++r) {
      const auto row = table->find(keys[r]);
      ASSERT_EQ(row.size(), 5u) << name << " " << keys[r].to_string();
      for (int e = 0; e < 5; ++e) EXPECT_EQ(row[e], expected_value(r, e)) << name;
    }
  }
}

TEST(ResidueEmbeddingTable, ToolWritesTheSameTableInBothFormats) {
  test::TempDir dir;
  const std::string tool = std::string(HEMEPLM_TOOLS_DIR) + "/make_residue_embeddings.py";
  const std::string pdb = test::source_file("inputs/example/complex.pdb");
  const std::string h5 = (dir.path() / "e.h5").string(), npy = (dir.path() / "e.npy").string();
  for (const auto& out : {h5, npy}) {
    const auto result =
        test::run_command({HEMEPLM_PYTHON, tool, pdb, out, "--width", "24", "--kind", "onehot"});
    ASSERT_EQ(result.exit_status, 0) << result.err;
  }
  const auto a = ResidueEmbeddingTable::read(h5);
  const auto b = ResidueEmbeddingTable::read(npy);
  ASSERT_EQ(a->size(), 50);  // chains A and B of the example complex
  ASSERT_EQ(b->size(), 50);
  ASSERT_EQ(a->width(), 24);
  const auto row_a = a->find({"A", 1, ' '}), row_b = b->find({"A", 1, ' '});
  ASSERT_EQ(row_a.size(), 24u);
  ASSERT_EQ(row_b.size(), 24u);
  for (int e = 0; e < 24; ++e) EXPECT_EQ(row_a[e], row_b[e]);
  EXPECT_EQ(row_a[15], 1.0f);  // residue A:1 is SER, type 15 of the one-hot block
}

TEST(ResidueEmbeddingTable, HdfErrorsNameFileAndProblem) {
  test::TempDir dir;
  python(dir, R"(
def write(name, emb, chain, number, insertion=None):
    with h5py.File(d + '/' + name, 'w') as f:
        if emb is not None: f['embeddings'] = emb
        if chain is not None: f['chain'] = np.array(chain, dtype=h5py.string_dtype())
        if number is not None: f['residue_number'] = np.array(number, dtype=np.int32)
        if insertion is not None: f['insertion_code'] = np.array(insertion, dtype=h5py.string_dtype())
z = np.zeros((2, 3), dtype=np.float32)
write('one_d.h5', np.zeros(4), ['A'] * 4, [1, 2, 3, 4])
write('short_chain.h5', z, ['A'], [1, 2])
write('short_number.h5', z, ['A', 'A'], [1])
write('duplicate.h5', z, ['A', 'A'], [5, 5])
write('no_chain.h5', z, None, [1, 2])
write('no_embeddings.h5', None, ['A', 'A'], [1, 2])
write('width0.h5', np.zeros((2, 0), dtype=np.float32), ['A', 'A'], [1, 2])
write('nan.h5', np.array([[0, 1], [np.nan, 0]], dtype=np.float32), ['A', 'A'], [1, 2])
write('long_insertion.h5', z, ['A', 'A'], [1, 2], ['', 'AB'])
write('text_numbers.h5', z, ['A', 'A'], None)
with h5py.File(d + '/text_numbers.h5', 'a') as f:
    f['residue_number'] = np.array(['1', '2'], dtype=h5py.string_dtype())
open(d + '/garbage.h5', 'w').write('not hdf5')
)");
  const auto error = [&](const std::string& name) {
    return expect_input_error((dir.path() / name).string());
  };
  EXPECT_NE(error("one_d.h5").find("2-D"), std::string::npos);
  EXPECT_NE(error("short_chain.h5").find("/chain"), std::string::npos);
  EXPECT_NE(error("short_number.h5").find("/residue_number"), std::string::npos);
  EXPECT_NE(error("duplicate.h5").find("duplicate residue key A:5"), std::string::npos);
  EXPECT_NE(error("no_chain.h5").find("/chain"), std::string::npos);
  EXPECT_NE(error("no_embeddings.h5").find("/embeddings"), std::string::npos);
  EXPECT_NE(error("width0.h5").find("width 0"), std::string::npos);
  EXPECT_NE(error("nan.h5").find("non-finite"), std::string::npos);
  EXPECT_NE(error("long_insertion.h5").find("insertion code 'AB'"), std::string::npos);
  EXPECT_NE(error("text_numbers.h5").find("/residue_number"), std::string::npos);
  EXPECT_NE(error("garbage.h5").find("not an HDF5 file"), std::string::npos);
  EXPECT_NE(error("absent.h5").find("not found"), std::string::npos);
  EXPECT_NE(expect_input_error(dir.write("e.txt", "x")).find("unknown residue-embedding format"),
            std::string::npos);
}

TEST(ResidueEmbeddingTable, NpyErrorsNameFileAndProblem) {
  test::TempDir dir;
  python(dir, R"(
z = np.zeros((2, 3))
keys = 'chain,residue_number\nA,1\nA,2\n'
def write(stem, array, key_text=keys):
    np.save(d + '/' + stem + '.npy', array)
    if key_text is not None: open(d + '/' + stem + '.keys.csv', 'w').write(key_text)
write('big_endian', z.astype('>f4'))
write('ints', z.astype(np.int32))
write('fortran', np.asfortranarray(np.zeros((2, 3), dtype=np.float32)))
write('three_d', np.zeros((2, 3, 1), dtype=np.float32))
write('no_keys', z, None)
write('few_keys', z, 'chain,residue_number\nA,1\n')
write('bad_header', z, 'chain,resid\nA,1\nA,2\n')
write('bad_number', z, 'chain,residue_number\nA,1\nA,x2\n')
write('duplicate', z, 'chain,residue_number,insertion_code\nA,1,\nA,1,\n')
write('fields', z, 'chain,residue_number\nA,1\nA,2,C\n')
np.save(d + '/truncated.npy', z)
data = open(d + '/truncated.npy', 'rb').read()
open(d + '/truncated.npy', 'wb').write(data[:-5])
open(d + '/truncated.keys.csv', 'w').write(keys)
open(d + '/magic.npy', 'wb').write(b'PK\x03\x04 not numpy')
)");
  const auto error = [&](const std::string& name) {
    return expect_input_error((dir.path() / name).string());
  };
  EXPECT_NE(error("big_endian.npy").find("'>f4' is not supported"), std::string::npos);
  EXPECT_NE(error("ints.npy").find("is not supported"), std::string::npos);
  EXPECT_NE(error("fortran.npy").find("Fortran"), std::string::npos);
  EXPECT_NE(error("three_d.npy").find("2-D"), std::string::npos);
  EXPECT_NE(error("no_keys.npy").find("no_keys.keys.csv"), std::string::npos);
  EXPECT_NE(error("few_keys.npy").find("1 keys but"), std::string::npos);
  EXPECT_NE(error("bad_header.npy").find("line 1"), std::string::npos);
  EXPECT_NE(error("bad_number.npy").find("line 3: residue number 'x2'"), std::string::npos);
  EXPECT_NE(error("duplicate.npy").find("duplicate residue key A:1"), std::string::npos);
  EXPECT_NE(error("fields.npy").find("line 3: 3 fields"), std::string::npos);
  EXPECT_NE(error("truncated.npy").find("truncated"), std::string::npos);
  EXPECT_NE(error("magic.npy").find("not an NPY file"), std::string::npos);
}

}  // namespace
}  // namespace hemeplm::parallel_io
