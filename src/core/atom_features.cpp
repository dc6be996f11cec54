// The 42 per-atom features of features.hpp, perceived by RDKit from the System's own graph.
//
// Unit of work: a connected component of the bond graph (bonds to metals left out, see below), not a
// System::Molecule, so that a disulfide or a covalent ligand link is seen by RDKit as the real bond.
// Components of at most three atoms (waters, ions) cannot hold a stereocentre, so their rows depend
// only on the graph: they are computed once per distinct graph and copied (7,000 waters cost one
// RWMol).
#include "atom_features.hpp"

#include <GraphMol/Conformer.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/PartialCharges/GasteigerCharges.h>
#include <GraphMol/RWMol.h>
#include <GraphMol/RingInfo.h>
#include <GraphMol/SanitException.h>
#include <RDGeneral/Invariant.h>
#include <RDGeneral/RDLog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

#include "hemeplm/core/elements.hpp"
#include "hemeplm/core/features.hpp"

namespace hemeplm {
namespace {

/// Elements that may carry implicit hydrogens when a residue has none written (heavy-atom files).
bool may_have_implicit_h(int z) {
  switch (z) {
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 15:
    case 16:
    case 17:
    case 34:
    case 35:
    case 53:
      return true;
    default:
      return false;
  }
}

struct Neighbor {
  int atom;
  int order;
};

/// Atom adjacency (CSR) of the whole System, with bond orders.
struct Adjacency {
  std::vector<int> offsets;
  std::vector<Neighbor> neighbors;

  explicit Adjacency(const System& s) : offsets(s.atom_count() + 1, 0) {
    for (const Bond& b : s.bonds) ++offsets[b.a + 1], ++offsets[b.b + 1];
    std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
    neighbors.resize(offsets.back());
    std::vector<int> fill(offsets.begin(), offsets.end() - 1);
    for (const Bond& b : s.bonds) {
      neighbors[fill[b.a]++] = {b.b, b.order};
      neighbors[fill[b.b]++] = {b.a, b.order};
    }
  }
  const Neighbor* begin(int a) const { return neighbors.data() + offsets[a]; }
  const Neighbor* end(int a) const { return neighbors.data() + offsets[a + 1]; }
};

bool chemical_bond(const System& s, int a, int b) {
  return !is_metal(s.atomic_numbers[a]) && !is_metal(s.atomic_numbers[b]);
}

/// Connected components over chemical bonds; each component's atoms ascending.
std::vector<std::vector<int>> components(const System& s) {
  std::vector<int> parent(s.atom_count());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&parent](int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const Bond& b : s.bonds)
    if (chemical_bond(s, b.a, b.b)) parent[find(b.a)] = find(b.b);
  std::vector<int> slot(s.atom_count(), -1);
  std::vector<std::vector<int>> out;
  for (int i = 0; i < s.atom_count(); ++i) {
    const int root = find(i);
    if (slot[root] < 0) slot[root] = static_cast<int>(out.size()), out.emplace_back();
    out[slot[root]].push_back(i);
  }
  return out;
}

/// Per atom: may RDKit add implicit H? Only for organic elements of residues that have no H at all
/// (so a heavy-atom-only structure gets sensible H counts), never for ions.
std::vector<char> implicit_h_allowed(const System& s) {
  const int nres = s.residue_count();
  const bool have_residues = nres > 0 && static_cast<int>(s.atom_residue.size()) == s.atom_count();
  std::vector<char> res_has_h(std::max(nres, 1), 0);
  bool any_h = false;
  for (int i = 0; i < s.atom_count(); ++i) {
    if (!s.is_hydrogen(i)) continue;
    any_h = true;
    if (have_residues) res_has_h[s.atom_residue[i]] = 1;
  }
  std::vector<char> allowed(s.atom_count(), 0);
  for (int i = 0; i < s.atom_count(); ++i) {
    const bool residue_has_h = have_residues ? res_has_h[s.atom_residue[i]] != 0 : any_h;
    const bool ion = have_residues && s.residues[s.atom_residue[i]].kind == ResidueKind::kIon;
    allowed[i] = !residue_has_h && !ion && may_have_implicit_h(s.atomic_numbers[i]);
  }
  return allowed;
}

RDKit::Bond::BondType rdkit_bond_type(int order) {
  switch (order) {
    case 2:
      return RDKit::Bond::DOUBLE;
    case 3:
      return RDKit::Bond::TRIPLE;
    case Bond::kAromatic:
      return RDKit::Bond::AROMATIC;
    default:
      return RDKit::Bond::SINGLE;
  }
}

/// The component as an RDKit molecule; local index k is atoms[k]. `local` maps System -> local.
std::unique_ptr<RDKit::RWMol> build_mol(const System& s, const Adjacency& adj, const std::vector<int>& atoms,
                                        const std::vector<int>& local, const std::vector<char>& implicit_ok,
                                        bool with_conformer) {
  auto mol = std::make_unique<RDKit::RWMol>();
  for (int g : atoms) {
    RDKit::Atom atom(s.atomic_numbers[g]);
    atom.setFormalCharge(s.formal_charges.empty() ? 0 : s.formal_charges[g]);
    atom.setNoImplicit(!implicit_ok[g]);
    mol->addAtom(&atom, true, false);
  }
  for (int g : atoms) {
    for (const Neighbor* nb = adj.begin(g); nb != adj.end(g); ++nb) {
      if (nb->atom < g || !chemical_bond(s, g, nb->atom)) continue;
      const unsigned a = local[g], b = local[nb->atom];
      mol->addBond(a, b, rdkit_bond_type(nb->order));
      if (nb->order == Bond::kAromatic) {
        mol->getBondBetweenAtoms(a, b)->setIsAromatic(true);
        mol->getAtomWithIdx(a)->setIsAromatic(true);
        mol->getAtomWithIdx(b)->setIsAromatic(true);
      }
    }
  }
  if (with_conformer) {
    auto conf = std::make_unique<RDKit::Conformer>(atoms.size());
    for (std::size_t k = 0; k < atoms.size(); ++k) {
      const Vec3& p = s.positions[atoms[k]];
      conf->setAtomPos(k, RDGeom::Point3D(p.x, p.y, p.z));
    }
    conf->set3D(true);
    mol->addConformer(conf.release(), true);
  }
  return mol;
}

struct Perceived {
  std::unique_ptr<RDKit::RWMol> mol;
  bool fully_sanitized = false;
};

/// Full sanitisation, else the most that RDKit accepts: the valence check skipped, then also
/// kekulisation and aromaticity, and at last ring perception alone.
Perceived sanitize_as_far_as_possible(const std::function<std::unique_ptr<RDKit::RWMol>()>& build) {
  using RDKit::MolOps::SanitizeFlags;
  const unsigned all = SanitizeFlags::SANITIZE_ALL;
  const unsigned no_valence = all ^ SanitizeFlags::SANITIZE_PROPERTIES;
  const unsigned no_aromatic =
      no_valence ^ SanitizeFlags::SANITIZE_KEKULIZE ^ SanitizeFlags::SANITIZE_SETAROMATICITY;
  for (unsigned ops : {all, no_valence, no_aromatic}) {
    Perceived p{build(), false};  // rebuilt: a failed sanitisation leaves the molecule half-modified
    try {
      if (ops != all) p.mol->updatePropertyCache(false);
      unsigned failed = 0;
      RDKit::MolOps::sanitizeMol(*p.mol, failed, ops);
      p.fully_sanitized = ops == all;
      return p;
    } catch (const RDKit::MolSanitizeException&) {
    } catch (const Invar::Invariant&) {
    }
  }
  Perceived p{build(), false};
  try {
    p.mol->updatePropertyCache(false);
    RDKit::MolOps::findSSSR(*p.mol);
  } catch (const std::exception&) {
  }
  return p;
}

int hybridization_slot(RDKit::Atom::HybridizationType h) {
  switch (h) {
    case RDKit::Atom::SP:
      return 1;
    case RDKit::Atom::SP2:
      return 2;
    case RDKit::Atom::SP3:
      return 3;
    case RDKit::Atom::SP3D:
      return 4;
    case RDKit::Atom::SP3D2:
      return 5;
    case RDKit::Atom::OTHER:
      return 6;
    default:
      return 0;  // UNSPECIFIED, S
  }
}

/// N bonded to a C or S that carries a double bond to O or S: its lone pair is delocalised.
bool is_amide_like_n(const RDKit::ROMol& mol, const RDKit::Atom& n) {
  for (const auto& nb : mol.atomNeighbors(&n)) {
    const int z = nb->getAtomicNum();
    if (z != 6 && z != 16) continue;
    for (const RDKit::Bond* b : mol.atomBonds(nb)) {
      const RDKit::Atom* other = b->getOtherAtom(nb);
      if (other != &n && b->getBondType() == RDKit::Bond::DOUBLE &&
          (other->getAtomicNum() == 8 || other->getAtomicNum() == 16))
        return true;
    }
  }
  return false;
}

void set_one_hot(float* row, int start, int size, int slot) {
  row[start + std::clamp(slot, 0, size - 1)] = 1.0f;
}

/// Fills the rows of one component. `rows` holds atoms.size() x kAtomFeatureCount zeros.
void featurize_component(const System& s, const Adjacency& adj, const std::vector<int>& atoms,
                         const std::vector<int>& local, const std::vector<char>& implicit_ok, float* rows) {
  const bool stereo_possible = atoms.size() > 3;
  const Perceived perceived = sanitize_as_far_as_possible(
      [&] { return build_mol(s, adj, atoms, local, implicit_ok, stereo_possible); });
  RDKit::RWMol* mol = perceived.mol.get();
  if (!mol->getRingInfo()->isInitialized()) {
    try {
      RDKit::MolOps::findSSSR(*mol);
    } catch (const std::exception&) {
    }
  }

  std::vector<double> charges(atoms.size(), 0.0);
  try {
    RDKit::computeGasteigerCharges(*mol, charges, 12, false);
  } catch (const std::exception&) {
    std::fill(charges.begin(), charges.end(), 0.0);
  }
  if (stereo_possible && perceived.fully_sanitized) {
    try {
      RDKit::MolOps::assignStereochemistryFrom3D(*mol);
    } catch (const std::exception&) {
    }
  }

  const RDKit::RingInfo* rings = mol->getRingInfo();
  for (std::size_t k = 0; k < atoms.size(); ++k) {
    const int g = atoms[k];
    const RDKit::Atom& a = *mol->getAtomWithIdx(static_cast<unsigned>(k));
    float* row = rows + k * kAtomFeatureCount;
    const int z = a.getAtomicNum();
    const int q = a.getFormalCharge();

    row[feature::kAromatic] = a.getIsAromatic() ? 1.0f : 0.0f;
    set_one_hot(row, feature::kHybridization, feature::kHybridizationCount,
                hybridization_slot(a.getHybridization()));
    row[feature::kGasteigerCharge] = std::isfinite(charges[k]) ? static_cast<float>(charges[k]) : 0.0f;

    int explicit_h = 0, heavy = 0;
    for (const Neighbor* nb = adj.begin(g); nb != adj.end(g); ++nb)
      (s.atomic_numbers[nb->atom] == 1 ? explicit_h : heavy) += 1;
    // H not in the graph: implicit ones, and those RDKit moves into the explicit count of an
    // aromatic [nH] when it perceives aromaticity (so getNumImplicitHs() alone would miss them).
    int implicit_h = 0;
    try {
      implicit_h = static_cast<int>(a.getTotalNumHs(false));
    } catch (const Invar::Invariant&) {
    }
    const int hydrogens = explicit_h + implicit_h;
    set_one_hot(row, feature::kHydrogenCount, feature::kHydrogenCountSize, hydrogens);
    set_one_hot(row, feature::kHeavyDegree, feature::kHeavyDegreeSize, heavy);
    set_one_hot(row, feature::kFormalCharge, feature::kFormalChargeSize, q + 2);

    if (rings->isInitialized() && rings->numAtomRings(static_cast<unsigned>(k)) > 0) {
      row[feature::kInRing] = 1.0f;
      for (int size : rings->atomRingSizes(static_cast<unsigned>(k)))
        row[feature::kRingSize + std::clamp(size - 3, 0, feature::kRingSizeCount - 1)] = 1.0f;
    }

    std::string cip;
    int chirality = 0;
    if (a.getPropIfPresent(RDKit::common_properties::_CIPCode, cip) && (cip == "R" || cip == "S"))
      chirality = cip == "R" ? 1 : 2;
    else if (a.getChiralTag() != RDKit::Atom::CHI_UNSPECIFIED ||
             a.hasProp(RDKit::common_properties::_ChiralityPossible))
      chirality = 3;
    set_one_hot(row, feature::kChirality, feature::kChiralityCount, chirality);

    row[feature::kDonor] = (z == 7 || z == 8 || z == 16) && hydrogens > 0 ? 1.0f : 0.0f;
    bool acceptor = false;
    if (z == 8) acceptor = q <= 0;
    if (z == 7) {
      // A trivalent N whose lone pair is in a pi system (amide, aniline, pyrrole, sulfonamide) is
      // not an acceptor; pyridine-type, imine, nitrile and amine N are.
      const bool trivalent = heavy + hydrogens == 3;
      const bool lone_pair_delocalised =
          trivalent &&
          (a.getIsAromatic() || a.getHybridization() == RDKit::Atom::SP2 || is_amide_like_n(*mol, a));
      acceptor = q <= 0 && !lone_pair_delocalised;
    }
    row[feature::kAcceptor] = acceptor ? 1.0f : 0.0f;

    bool conjugated = false;
    for (const RDKit::Bond* b : mol->atomBonds(&a)) conjugated = conjugated || b->getIsConjugated();
    row[feature::kConjugated] = conjugated ? 1.0f : 0.0f;
  }
}

/// Graph of a component of at most three atoms; equal keys give equal feature rows.
std::string small_component_key(const System& s, const Adjacency& adj, const std::vector<int>& atoms,
                                const std::vector<int>& local, const std::vector<char>& implicit_ok) {
  std::string key;
  for (int g : atoms) {
    key += std::to_string(s.atomic_numbers[g]) + ',' +
           std::to_string(s.formal_charges.empty() ? 0 : s.formal_charges[g]) + (implicit_ok[g] ? 'i' : 'x');
    for (const Neighbor* nb = adj.begin(g); nb != adj.end(g); ++nb)
      key += chemical_bond(s, g, nb->atom)
                 ? '/' + std::to_string(local[nb->atom]) + ':' + std::to_string(nb->order)
                 : std::string("/m");
    key += ';';
  }
  return key;
}

}  // namespace

void compute_atom_features(System& system) {
  const RDLog::LogStateSetter silence_rdkit;  // sanitisation failures are handled, not printed
  const int n = system.atom_count();
  system.features.assign(static_cast<std::size_t>(n) * kAtomFeatureCount, 0.0f);
  const Adjacency adj(system);
  const std::vector<char> implicit_ok = implicit_h_allowed(system);
  std::vector<int> local(n, -1);
  std::unordered_map<std::string, std::vector<float>> small_cache;
  std::vector<float> rows;

  for (const std::vector<int>& atoms : components(system)) {
    for (std::size_t k = 0; k < atoms.size(); ++k) local[atoms[k]] = static_cast<int>(k);
    std::string key;
    const std::vector<float>* cached = nullptr;
    if (atoms.size() <= 3) {
      key = small_component_key(system, adj, atoms, local, implicit_ok);
      const auto it = small_cache.find(key);
      if (it != small_cache.end()) cached = &it->second;
    }
    if (!cached) {
      rows.assign(atoms.size() * kAtomFeatureCount, 0.0f);
      featurize_component(system, adj, atoms, local, implicit_ok, rows.data());
      if (!key.empty()) cached = &small_cache.emplace(key, rows).first->second;
    }
    const std::vector<float>& src = cached ? *cached : rows;
    for (std::size_t k = 0; k < atoms.size(); ++k)
      std::copy_n(src.data() + k * kAtomFeatureCount, kAtomFeatureCount,
                  system.features.data() + static_cast<std::size_t>(atoms[k]) * kAtomFeatureCount);
  }
}

}  // namespace hemeplm
