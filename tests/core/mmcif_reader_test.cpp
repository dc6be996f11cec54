// mmCIF input: the same structure as PDB and mmCIF gives the same System; bad rows name the row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/error.hpp"
#include "hemeplm/core/structure_io.hpp"
#include "receptor_test_support.hpp"
#include "test_support.hpp"

namespace hemeplm {
namespace {

std::string quoted(const std::string& value) {
  if (value.empty()) return "?";
  return value.find('\'') != std::string::npos ? "\"" + value + "\"" : value;
}

struct CifAtom {
  std::string element, name, residue, chain;
  int seq = 0;
  double x = 0, y = 0, z = 0;
  char altloc = '.';
};

// A minimal PDBx/mmCIF file (the columns gemmi and wwPDB files use), one row per atom.
std::string mmcif_text(const std::vector<CifAtom>& atoms, const std::string& cell = "") {
  std::ostringstream out;
  out << "data_test\n" << cell << "loop_\n";
  for (const char* column :
       {"group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
        "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z", "occupancy",
        "B_iso_or_equiv", "auth_seq_id", "auth_asym_id", "pdbx_PDB_model_num"}) {
    out << "_atom_site." << column << "\n";
  }
  int id = 0;
  for (const CifAtom& a : atoms) {
    char xyz[96];
    std::snprintf(xyz, sizeof xyz, "%.3f %.3f %.3f", a.x, a.y, a.z);
    out << "ATOM " << ++id << " " << a.element << " " << quoted(a.name) << " " << a.altloc << " " << a.residue
        << " " << a.chain << " 1 " << a.seq << " ? " << xyz << " 1.00 0.00 " << a.seq << " " << a.chain
        << " 1\n";
  }
  out << "#\n";
  return out.str();
}

std::vector<CifAtom> atoms_of(const System& system) {
  std::vector<CifAtom> atoms;
  for (int i = 0; i < system.atom_count(); ++i) {
    const Residue& r = system.residue_of(i);
    const std::string chain = system.chains[r.chain].name.empty() ? "A" : system.chains[r.chain].name;
    atoms.push_back({std::string(element_symbol(system.atomic_numbers[i])), system.atom_names[i], r.name,
                     chain, r.seq, system.positions[i].x, system.positions[i].y, system.positions[i].z});
  }
  return atoms;
}

void expect_same_system(const System& a, const System& b) {
  ASSERT_EQ(a.atom_count(), b.atom_count());
  for (int i = 0; i < a.atom_count(); ++i) {
    ASSERT_EQ(a.atom_names[i], b.atom_names[i]) << i;
    EXPECT_EQ(a.atomic_numbers[i], b.atomic_numbers[i]) << i;
    EXPECT_NEAR(norm(a.positions[i] - b.positions[i]), 0.0, 1e-3) << i;
    EXPECT_EQ(a.residue_of(i).name, b.residue_of(i).name) << i;
    EXPECT_EQ(a.residue_of(i).seq, b.residue_of(i).seq) << i;
  }
  ASSERT_EQ(a.bonds.size(), b.bonds.size());
  for (std::size_t k = 0; k < a.bonds.size(); ++k) {
    EXPECT_EQ(a.bonds[k].a, b.bonds[k].a);
    EXPECT_EQ(a.bonds[k].b, b.bonds[k].b);
    EXPECT_EQ(a.bonds[k].order, b.bonds[k].order);
  }
  EXPECT_EQ(a.formal_charges, b.formal_charges);
  EXPECT_EQ(a.molecules.size(), b.molecules.size());
}

std::string message_of(const std::string& path) {
  try {
    load_system({path, {}});
  } catch (const InputError& e) {
    return e.what();
  }
  return "no InputError";
}

TEST(MmcifReader, SameSystemAsPdbForCappedChignolinAndCrystalWaters) {
  HEMEPLM_REQUIRE_SHARED_DATA(capped, "chignolin_cln025_capped_vac.pdb");
  HEMEPLM_REQUIRE_SHARED_DATA(crystal, "chignolin_cln025_5awl_xtal.pdb");
  test::TempDir dir;
  for (const std::string& pdb : {capped, crystal}) {
    const System from_pdb = load_system({pdb, {}});
    const std::string cell =
        "_cell.length_a 59.921\n_cell.length_b 59.921\n_cell.length_c 59.921\n"
        "_cell.angle_alpha 90\n_cell.angle_beta 90\n_cell.angle_gamma 90\n";
    const std::string cif = dir.write("s.cif", mmcif_text(atoms_of(from_pdb), from_pdb.box ? cell : ""));
    const System from_cif = load_system({cif, {}});
    expect_same_system(from_pdb, from_cif);
    EXPECT_EQ(from_pdb.box.has_value(), from_cif.box.has_value());
    if (from_cif.box) {
      EXPECT_NEAR(from_cif.box->volume(), std::pow(59.921, 3), 1.0);
    }
  }
}

TEST(MmcifReader, GzippedMmcifAndPdb) {
  HEMEPLM_REQUIRE_SHARED_DATA(pdb, "chignolin_cln025_capped_vac.pdb");
  if (!std::filesystem::exists("/bin/gzip")) GTEST_SKIP() << "gzip is not installed";
  test::TempDir dir;
  const System from_pdb = load_system({pdb, {}});
  const std::string cif = dir.write("s.cif", mmcif_text(atoms_of(from_pdb)));
  const std::string copy = dir.write("s.pdb", test::read_text(pdb));
  ASSERT_EQ(test::run_command({"/bin/gzip", cif, copy}).exit_status, 0);
  expect_same_system(from_pdb, load_system({cif + ".gz", {}}));
  expect_same_system(from_pdb, load_system({copy + ".gz", {}}));
}

std::vector<CifAtom> glycine() {
  return {{"N", "N", "GLY", "A", 1, 1.0, 2.0, 3.0},
          {"C", "CA", "GLY", "A", 1, 2.4, 2.0, 3.0},
          {"C", "C", "GLY", "A", 1, 3.0, 3.4, 3.0}};
}

TEST(MmcifReader, AlternateLocationsAndAuthIds) {
  std::vector<CifAtom> atoms = glycine();
  atoms.push_back({"O", "O", "GLY", "A", 1, 3.5, 4.0, 3.0, 'A'});
  atoms.push_back({"O", "O", "GLY", "A", 1, 3.6, 4.1, 3.0, 'B'});
  test::TempDir dir;
  const System system = load_system({dir.write("alt.cif", mmcif_text(atoms)), {}});
  ASSERT_EQ(system.atom_count(), 4);
  EXPECT_DOUBLE_EQ(system.positions[3].x, 3.5);
  EXPECT_EQ(system.chains[0].name, "A");
}

TEST(MmcifReader, BadRowsNameFileAndRow) {
  test::TempDir dir;
  std::string text = mmcif_text(glycine());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string copy = text;
    copy.replace(copy.find(from), from.size(), to);
    return copy;
  };
  std::string path = dir.write("absurd.cif", replaced("2.400 2.000 3.000", "1e9 2.000 3.000"));
  EXPECT_EQ(message_of(path).rfind(path + ": _atom_site row 2: x coordinate '1e9' is absurd", 0), 0u)
      << message_of(path);
  path = dir.write("garbled.cif", replaced("2.400 2.000 3.000", "2.400 2.0x0 3.000"));
  EXPECT_EQ(message_of(path), path + ": _atom_site row 2: y coordinate '2.0x0' is not a number");
  path = dir.write("missing.cif", replaced("2.400 2.000 3.000", "2.400 2.000 ?"));
  EXPECT_EQ(message_of(path), path + ": _atom_site row 2: z coordinate is blank");
  path = dir.write("nan.cif", replaced("2.400 2.000 3.000", "nan 2.000 3.000"));
  EXPECT_EQ(message_of(path), path + ": _atom_site row 2: x coordinate 'nan' is not finite");
  path = dir.write("element.cif", replaced("ATOM 2 C CA", "ATOM 2 Qq CA"));
  EXPECT_EQ(message_of(path), path + ": _atom_site row 2: unknown element 'Qq' in type_symbol");
  path = dir.write("duplicate.cif", replaced("ATOM 3 C C ", "ATOM 3 C CA "));
  EXPECT_EQ(message_of(path),
            path + ": _atom_site row 3: duplicate atom CA of GLY 1 chain A (also at _atom_site row 2)");
  // A loop row with a missing value: CIF syntax error with its line.
  path = dir.write("syntax.cif", replaced("1.00 0.00 1 A 1\nATOM 3", "1.00 0.00 1 A\nATOM 3"));
  const std::string syntax = message_of(path);
  EXPECT_EQ(syntax.rfind(path + ": ", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("mmCIF syntax error"), std::string::npos) << syntax;
  path = dir.write("quote.cif", "data_x\nloop_\n_atom_site.id\n'unterminated\n");
  EXPECT_NE(message_of(path).find(": line 4: mmCIF syntax error"), std::string::npos) << message_of(path);
}

}  // namespace
}  // namespace hemeplm
