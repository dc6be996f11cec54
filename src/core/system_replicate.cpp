#include "hemeplm/core/system_replicate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

#include "hemeplm/core/error.hpp"

namespace hemeplm {
namespace {

void check_arguments(int copies, double gap) {
  if (copies < 1)
    throw UsageError("replicate_system: copies must be at least 1, got " + std::to_string(copies));
  if (!std::isfinite(gap) || gap < 0)
    throw UsageError("replicate_system: gap must be a finite distance >= 0 Å, got " + std::to_string(gap));
}

void check_size(const char* what, std::size_t count, int copies) {
  if (count * static_cast<std::size_t>(copies) > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw UsageError(std::string("replicate_system: ") + std::to_string(copies) + " copies of " +
                     std::to_string(count) + " " + what + " exceed the " +
                     std::to_string(std::numeric_limits<int>::max()) + " a System can index");
}

/// Smallest n with n^3 >= copies (exact integer arithmetic, no floating-point cube root surprises).
int ceil_cbrt(int copies) {
  int n = 1;
  while (static_cast<long long>(n) * n * n < copies) ++n;
  return n;
}

/// Smallest n with n^2 >= value.
int ceil_sqrt(int value) {
  int n = 1;
  while (static_cast<long long>(n) * n < value) ++n;
  return n;
}

int ceil_div(int a, int b) {
  return (a + b - 1) / b;
}

/// Unique chain names: A-Z, a-z, 0-9, then two and three characters of the same alphabet.
class ChainNamer {
 public:
  explicit ChainNamer(const std::vector<Chain>& taken) {
    for (const Chain& c : taken) used_.insert(c.name);
  }
  std::string next() {
    for (;;) {
      std::string name = candidate(index_++);
      if (used_.insert(name).second) return name;
    }
  }

 private:
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr long long kSize = sizeof(kAlphabet) - 1;
  static std::string candidate(long long i) {
    // Names of length 1, then 2, then 3, ...; within one length in alphabet order.
    long long length = 1, block = kSize;
    while (i >= block) {
      i -= block;
      ++length;
      block *= kSize;
    }
    std::string name(static_cast<std::size_t>(length), ' ');
    for (long long p = length - 1; p >= 0; --p) {
      name[static_cast<std::size_t>(p)] = kAlphabet[i % kSize];
      i /= kSize;
    }
    return name;
  }
  std::unordered_set<std::string> used_;
  long long index_ = 0;
};

/// "A+B" style name of a polymer from the (new) chain names of its residues, each name once.
std::string polymer_name(const System& out, const Molecule& molecule) {
  std::vector<std::string> parts;
  for (int r : molecule.residues) {
    const std::string& chain = out.chains[out.residues[r].chain].name;
    if (!chain.empty() && std::find(parts.begin(), parts.end(), chain) == parts.end()) parts.push_back(chain);
  }
  std::string name;
  for (const std::string& part : parts) name += name.empty() ? part : "+" + part;
  return name;
}

template <typename T>
void repeat_into(std::vector<T>& out, const std::vector<T>& in, int copies) {
  out.reserve(in.size() * static_cast<std::size_t>(copies));
  for (int k = 0; k < copies; ++k) out.insert(out.end(), in.begin(), in.end());
}

}  // namespace

std::vector<Vec3> replication_offsets(const System& system, int copies, double gap) {
  check_arguments(copies, gap);
  Vec3 extent;
  if (!system.positions.empty()) {
    Vec3 lo = system.positions.front(), hi = lo;
    for (const Vec3& p : system.positions) {
      lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
      hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
    }
    extent = hi - lo;
  }
  const Vec3 step = extent + Vec3{gap, gap, gap};
  const int nx = ceil_cbrt(copies);
  const int ny = ceil_sqrt(ceil_div(copies, nx));
  std::vector<Vec3> offsets;
  offsets.reserve(static_cast<std::size_t>(copies));
  for (int k = 0; k < copies; ++k) {
    const int ix = k % nx, iy = (k / nx) % ny, iz = k / (nx * ny);
    offsets.push_back({ix * step.x, iy * step.y, iz * step.z});
  }
  return offsets;
}

System replicate_system(const System& system, int copies, double gap) {
  check_arguments(copies, gap);
  const int n_atoms = system.atom_count();
  const int n_residues = system.residue_count();
  const int n_chains = static_cast<int>(system.chains.size());
  const int n_molecules = static_cast<int>(system.molecules.size());
  check_size("atoms", static_cast<std::size_t>(n_atoms), copies);
  check_size("bonds", system.bonds.size(), copies);
  check_size("residues", static_cast<std::size_t>(n_residues), copies);
  check_size("chains", static_cast<std::size_t>(n_chains), copies);
  check_size("molecules", static_cast<std::size_t>(n_molecules), copies);
  const std::vector<Vec3> offsets = replication_offsets(system, copies, gap);

  System out;
  out.sources = system.sources;
  out.model_count = system.model_count;
  // out.box stays empty: the copies are laid out in open space (see the header).

  out.positions.reserve(static_cast<std::size_t>(n_atoms) * copies);
  for (int k = 0; k < copies; ++k)
    for (const Vec3& p : system.positions) out.positions.push_back(p + offsets[k]);
  repeat_into(out.atomic_numbers, system.atomic_numbers, copies);
  repeat_into(out.atom_names, system.atom_names, copies);
  repeat_into(out.formal_charges, system.formal_charges, copies);
  repeat_into(out.features, system.features, copies);  // n x kAtomFeatureCount rows, or empty
  repeat_into(out.origins, system.origins, copies);

  out.atom_residue.reserve(system.atom_residue.size() * copies);
  for (int k = 0; k < copies; ++k)
    for (int r : system.atom_residue) out.atom_residue.push_back(r + k * n_residues);

  out.residues.reserve(static_cast<std::size_t>(n_residues) * copies);
  for (int k = 0; k < copies; ++k)
    for (Residue r : system.residues) {
      r.first_atom += k * n_atoms;
      if (r.chain >= 0) r.chain += k * n_chains;
      if (r.molecule >= 0) r.molecule += k * n_molecules;
      out.residues.push_back(std::move(r));
    }

  ChainNamer namer(system.chains);
  out.chains.reserve(static_cast<std::size_t>(n_chains) * copies);
  for (int k = 0; k < copies; ++k)
    for (Chain c : system.chains) {
      c.first_residue += k * n_residues;
      if (k > 0) c.name = namer.next();
      out.chains.push_back(std::move(c));
    }

  // Copy k's atoms all come after copy k-1's, so bonds sorted within a copy stay sorted overall.
  out.bonds.reserve(system.bonds.size() * copies);
  for (int k = 0; k < copies; ++k)
    for (Bond b : system.bonds) {
      b.a += k * n_atoms;
      b.b += k * n_atoms;
      out.bonds.push_back(b);
    }

  out.molecules.reserve(static_cast<std::size_t>(n_molecules) * copies);
  for (int k = 0; k < copies; ++k)
    for (Molecule m : system.molecules) {
      for (int& r : m.residues) r += k * n_residues;
      if (k > 0 && m.kind == MoleculeKind::kPolymer) {
        const std::string renamed = polymer_name(out, m);
        if (!renamed.empty()) m.name = renamed;
      }
      out.molecules.push_back(std::move(m));
    }
  return out;
}

}  // namespace hemeplm
