// The stored topology of a hemeplm H5MD file (docs/h5md-layout.md, /parameters/hemeplm/topology):
// everything needed to rebuild the System, plus VMD's and H5MD's own views of the same bonds.
#include "h5md_topology.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_handles.hpp"

namespace hemeplm::parallel_io {
namespace {

constexpr const char* kTopology = "/parameters/hemeplm/topology";

std::vector<std::int32_t> as_int32(const std::vector<int>& values) {
  return {values.begin(), values.end()};
}

void write_ints(hid_t group, const std::string& name, const std::vector<std::int32_t>& values) {
  h5::write_dataset(group, name, {values.size()}, values.data());
}

void write_vmd_structure(hid_t parameters, const System& system) {
  const h5::Group vmd = h5::create_group(parameters, "vmd_structure");
  const int n = system.atom_count();
  std::vector<std::string> resname(n), chain(n);
  std::vector<std::int32_t> resid(n);
  for (int i = 0; i < n; ++i) {
    const Residue& residue = system.residue_of(i);
    resname[i] = residue.name;
    chain[i] = residue.chain >= 0 ? system.chains[residue.chain].name : "";
    resid[i] = residue.seq;
  }
  h5::write_strings_dataset(vmd.get(), "name", system.atom_names);
  // VMD's PDB reader also uses the atom name as the type; it colours by it.
  h5::write_strings_dataset(vmd.get(), "type", system.atom_names);
  h5::write_strings_dataset(vmd.get(), "resname", resname);
  h5::write_strings_dataset(vmd.get(), "chain", chain);
  h5::write_strings_dataset(vmd.get(), "segid", chain);
  write_ints(vmd.get(), "resid", resid);
  write_ints(vmd.get(), "atomicnumber", as_int32(system.atomic_numbers));
  std::vector<std::int32_t> from, to;
  for (const Bond& bond : system.bonds) {
    from.push_back(bond.a + 1);  // h5mdplugin counts atoms from 1
    to.push_back(bond.b + 1);
  }
  write_ints(vmd.get(), "bond_from", from);
  write_ints(vmd.get(), "bond_to", to);
}

void write_connectivity(hid_t file, const System& system) {
  const h5::Group connectivity = h5::create_group(file, "connectivity");
  std::vector<std::int32_t> pairs;
  for (const Bond& bond : system.bonds) {
    pairs.push_back(bond.a);
    pairs.push_back(bond.b);
  }
  h5::write_dataset(connectivity.get(), "bonds", {system.bonds.size(), 2}, pairs.data());
  const h5::Dataset bonds(H5Dopen2(connectivity.get(), "bonds", H5P_DEFAULT));
  hobj_ref_t reference{};
  h5::check(H5Rcreate(&reference, file, "/particles/trajectory", H5R_OBJECT, -1), "/connectivity/bonds",
            "cannot reference /particles/trajectory");
  const h5::Space scalar(H5Screate(H5S_SCALAR));
  const h5::Attribute attr(
      H5Acreate2(bonds.get(), "particles_group", H5T_STD_REF_OBJ, scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr.get(), H5T_STD_REF_OBJ, &reference) < 0)
    throw h5::Failure("/connectivity/bonds", "cannot write particles_group");
}

ResidueKind residue_kind_from(const std::string& name, const std::string& where) {
  for (ResidueKind kind :
       {ResidueKind::kAminoAcid, ResidueKind::kCap, ResidueKind::kNucleic, ResidueKind::kWater,
        ResidueKind::kIon, ResidueKind::kLigand, ResidueKind::kCofactor}) {
    if (name == to_string(kind)) return kind;
  }
  throw h5::Failure(where, "unknown residue kind '" + name + "'");
}

MoleculeKind molecule_kind_from(const std::string& name, const std::string& where) {
  for (MoleculeKind kind : {MoleculeKind::kPolymer, MoleculeKind::kLigand, MoleculeKind::kCofactor,
                            MoleculeKind::kWater, MoleculeKind::kIon, MoleculeKind::kOther}) {
    if (name == to_string(kind)) return kind;
  }
  throw h5::Failure(where, "unknown molecule kind '" + name + "'");
}

std::string path_of(const char* name) {
  return std::string(kTopology) + "/" + name;
}

template <class T>
std::vector<T> read_table(hid_t file, const char* name, std::size_t expected_size, const char* size_name) {
  std::vector<T> values = h5::read_all<T>(file, path_of(name));
  if (values.size() != expected_size)
    throw h5::Failure(path_of(name), "has " + std::to_string(values.size()) + " entries but there are " +
                                         std::to_string(expected_size) + " " + size_name);
  return values;
}

std::vector<std::string> read_names(hid_t file, const char* name, std::size_t expected_size,
                                    const char* size_name) {
  std::vector<std::string> values = h5::read_strings(file, path_of(name));
  if (values.size() != expected_size)
    throw h5::Failure(path_of(name), "has " + std::to_string(values.size()) + " entries but there are " +
                                         std::to_string(expected_size) + " " + size_name);
  return values;
}

void check_index(int value, std::size_t limit, const char* name, std::size_t entry) {
  if (value < 0 || static_cast<std::size_t>(value) >= limit)
    throw h5::Failure(path_of(name), "entry " + std::to_string(entry) + " = " + std::to_string(value) +
                                         " is outside [0, " + std::to_string(limit) + ")");
}

}  // namespace

void write_topology(hid_t file, const System& system) {
  const h5::Group parameters(H5Gopen2(file, "/parameters", H5P_DEFAULT));
  write_vmd_structure(parameters.get(), system);
  const h5::Group topology = h5::create_group(file, kTopology);
  const hid_t g = topology.get();

  h5::write_strings_dataset(g, "atom_name", system.atom_names);
  write_ints(g, "atom_residue", as_int32(system.atom_residue));
  write_ints(g, "formal_charge", as_int32(system.formal_charges));
  write_ints(g, "atomic_number", as_int32(system.atomic_numbers));

  std::vector<std::string> residue_name, residue_insertion, residue_kind;
  std::vector<std::int32_t> residue_seq, residue_chain, molecule_residues;
  for (const Residue& residue : system.residues) {
    residue_name.push_back(residue.name);
    residue_seq.push_back(residue.seq);
    residue_insertion.push_back(residue.insertion == ' ' ? "" : std::string(1, residue.insertion));
    residue_chain.push_back(residue.chain);
    residue_kind.push_back(to_string(residue.kind));
    molecule_residues.push_back(residue.molecule);
  }
  h5::write_strings_dataset(g, "residue_name", residue_name);
  write_ints(g, "residue_seq", residue_seq);
  h5::write_strings_dataset(g, "residue_insertion", residue_insertion);
  write_ints(g, "residue_chain", residue_chain);
  h5::write_strings_dataset(g, "residue_kind", residue_kind);

  std::vector<std::string> chain_name;
  for (const Chain& chain : system.chains) chain_name.push_back(chain.name);
  h5::write_strings_dataset(g, "chain_name", chain_name);

  std::vector<std::int32_t> bonds;
  for (const Bond& bond : system.bonds) bonds.insert(bonds.end(), {bond.a, bond.b, bond.order});
  h5::write_dataset(g, "bond", {system.bonds.size(), 3}, bonds.data());

  std::vector<std::string> molecule_kind, molecule_name;
  for (const Molecule& molecule : system.molecules) {
    molecule_kind.push_back(to_string(molecule.kind));
    molecule_name.push_back(molecule.name);
  }
  h5::write_strings_dataset(g, "molecule_kind", molecule_kind);
  h5::write_strings_dataset(g, "molecule_name", molecule_name);
  write_ints(g, "molecule_residues", molecule_residues);

  if (system.box) {
    std::array<double, 9> box{};
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 3; ++k) box[3 * i + k] = system.box->vectors[i][k];
    h5::write_dataset(g, "box", {3, 3}, box.data());
  }
  write_connectivity(file, system);
}

System read_topology(hid_t file) {
  if (!h5::exists(file, kTopology))
    throw h5::Failure(kTopology, "missing group: the file has no hemeplm topology to rebuild a System from");
  System system;
  system.atom_names = h5::read_strings(file, path_of("atom_name"));
  const std::size_t n = system.atom_names.size();
  system.atom_residue = read_table<int>(file, "atom_residue", n, "atoms");
  system.formal_charges = read_table<int>(file, "formal_charge", n, "atoms");
  system.atomic_numbers = read_table<int>(file, "atomic_number", n, "atoms");
  system.positions.assign(n, Vec3{});
  system.origins.assign(n, AtomOrigin{});

  const std::vector<std::string> residue_name = h5::read_strings(file, path_of("residue_name"));
  const std::size_t r = residue_name.size();
  const std::vector<int> residue_seq = read_table<int>(file, "residue_seq", r, "residues");
  const std::vector<std::string> insertion = read_names(file, "residue_insertion", r, "residues");
  const std::vector<int> residue_chain = read_table<int>(file, "residue_chain", r, "residues");
  const std::vector<std::string> residue_kind = read_names(file, "residue_kind", r, "residues");
  const std::vector<int> molecule_residues = read_table<int>(file, "molecule_residues", r, "residues");
  const std::vector<std::string> chain_name = h5::read_strings(file, path_of("chain_name"));
  const std::vector<std::string> molecule_kind = h5::read_strings(file, path_of("molecule_kind"));
  const std::vector<std::string> molecule_name =
      read_names(file, "molecule_name", molecule_kind.size(), "molecule kinds");

  for (const std::string& name : chain_name) system.chains.push_back(Chain{name, 0, 0});
  for (std::size_t m = 0; m < molecule_kind.size(); ++m)
    system.molecules.push_back(
        Molecule{molecule_kind_from(molecule_kind[m], path_of("molecule_kind")), molecule_name[m], {}, 0});
  for (std::size_t i = 0; i < r; ++i) {
    Residue residue;
    residue.name = residue_name[i];
    residue.seq = residue_seq[i];
    residue.insertion = insertion[i].empty() ? ' ' : insertion[i][0];
    check_index(residue_chain[i], system.chains.size(), "residue_chain", i);
    residue.chain = residue_chain[i];
    residue.kind = residue_kind_from(residue_kind[i], path_of("residue_kind"));
    check_index(molecule_residues[i], system.molecules.size(), "molecule_residues", i);
    residue.molecule = molecule_residues[i];
    system.molecules[residue.molecule].residues.push_back(static_cast<int>(i));
    system.residues.push_back(residue);
  }

  // Residues own contiguous atoms and chains own contiguous residues (system.hpp); a file that breaks
  // that would break every consumer of the System, so it is rejected here.
  for (std::size_t i = 0; i < n; ++i) {
    check_index(system.atom_residue[i], r, "atom_residue", i);
    Residue& residue = system.residues[system.atom_residue[i]];
    if (residue.atom_count == 0) residue.first_atom = static_cast<int>(i);
    if (residue.first_atom + residue.atom_count != static_cast<int>(i))
      throw h5::Failure(path_of("atom_residue"), "atoms of residue " +
                                                     std::to_string(system.atom_residue[i]) +
                                                     " are not contiguous (atom " + std::to_string(i) + ")");
    ++residue.atom_count;
    ++system.molecules[residue.molecule].atom_count;
  }
  for (std::size_t i = 0; i < r; ++i) {
    Chain& chain = system.chains[system.residues[i].chain];
    if (chain.residue_count == 0) chain.first_residue = static_cast<int>(i);
    if (chain.first_residue + chain.residue_count != static_cast<int>(i))
      throw h5::Failure(path_of("residue_chain"),
                        "residues of chain " + std::to_string(system.residues[i].chain) +
                            " are not contiguous (residue " + std::to_string(i) + ")");
    ++chain.residue_count;
  }

  std::vector<hsize_t> dims;
  const std::vector<int> bonds = h5::read_all<int>(file, path_of("bond"), &dims);
  if (!(dims.size() == 2 && dims[1] == 3) && !bonds.empty())
    throw h5::Failure(path_of("bond"), "shape is not [bonds][3]");
  for (std::size_t b = 0; 3 * b + 2 < bonds.size(); ++b) {
    Bond bond{bonds[3 * b], bonds[3 * b + 1], bonds[3 * b + 2]};
    check_index(bond.a, n, "bond", b);
    check_index(bond.b, n, "bond", b);
    if (bond.a > bond.b) std::swap(bond.a, bond.b);
    system.bonds.push_back(bond);
  }

  if (h5::exists(file, path_of("box"))) {
    const std::vector<double> box = read_table<double>(file, "box", 9, "box components");
    Box cell;
    for (int i = 0; i < 3; ++i) cell.vectors[i] = {box[3 * i], box[3 * i + 1], box[3 * i + 2]};
    system.box = cell;
  }
  return system;
}

}  // namespace hemeplm::parallel_io
