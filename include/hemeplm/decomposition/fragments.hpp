// Fragments of a System. Two schemes:
//  - denoise: overlapping fragments for the decomposed diffusion sampler. A core of consecutive polymer
//    residues (plus ligands, solvent) and a buffer of every atom within a radius of the core. Every atom
//    is in exactly one core; per-atom blending weights sum to 1 over all fragments holding the atom.
//  - ai2bmd: AI2BMD energy units, capped dipeptides and ACE-NME overlaps (2n-1 per chain of n
//    residues), with cap hydrogens on every broken covalent bond; signed weights (+1 dipeptide,
//    -1 ACE-NME) also sum to 1 per atom, which is the AI2BMD energy/force recombination rule.
#pragma once

#include <string>
#include <vector>

#include "hemeplm/core/system.hpp"
#include "hemeplm/core/vec3.hpp"

namespace hemeplm::decomposition {

/// A hydrogen that closes a covalent bond cut by the fragment boundary (AI2BMD step 2).
struct CapHydrogen {
  int bonded_to = 0;   ///< atom in the fragment that keeps the bond
  int replaces = 0;    ///< atom outside the fragment whose place the hydrogen takes
  Vec3 position;       ///< Å: bonded_to + unit(replaces - bonded_to) * (r_cov(bonded_to) + r_cov(H))
};

enum class FragmentKind { kDenoise, kDipeptide, kAceNme, kMolecule };
const char* to_string(FragmentKind kind);

struct Fragment {
  int id = 0;
  int rank = 0;
  FragmentKind kind = FragmentKind::kDenoise;
  std::vector<int> core;         ///< ascending global atom indices (ai2bmd: all atoms of the unit)
  std::vector<int> buffer;       ///< ascending, disjoint from core (empty for ai2bmd)
  std::vector<double> weights;   ///< one per atom of core then buffer
  std::vector<int> residues;     ///< residues whose atoms the core holds (ai2bmd: central residue first)
  std::vector<CapHydrogen> caps; ///< ai2bmd only
  double cost = 0;               ///< estimated cost (atoms x neighbours) used by the rank plan
};

struct DenoiseOptions {
  int core_residues = 8;     ///< consecutive polymer residues per core (>= 1)
  double buffer = 8.0;       ///< Å, buffer radius around the core (>= 0)
  double blend = 2.0;        ///< Å, width of the weight taper into the buffer (0 = hard partition)
  double ligand_contact = 4.5;  ///< Å, heavy-atom distance at which a ligand "touches" a residue
  double solvent_cell = 12.0;   ///< Å, edge of the grid cells that group bulk solvent into fragments
};

/// Overlapping denoising fragments of the whole System (scheme "denoise").
std::vector<Fragment> make_denoise_fragments(const System& system, const DenoiseOptions& options);

/// AI2BMD units for every polymer chain (scheme "ai2bmd"); every other molecule is one kMolecule unit.
/// A UsageError names the chain when a chain has fewer than 2 amino-acid residues or is not a protein.
std::vector<Fragment> make_ai2bmd_fragments(const System& system);

}  // namespace hemeplm::decomposition
