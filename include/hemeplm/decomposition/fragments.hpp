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
  int bonded_to = 0;  ///< atom in the fragment that keeps the bond
  int replaces = 0;   ///< atom outside the fragment whose place the hydrogen takes
  Vec3 position;      ///< Å: bonded_to + unit(replaces - bonded_to) * (r_cov(bonded_to) + r_cov(H))
};

enum class FragmentKind { kDenoise, kDipeptide, kAceNme, kMolecule };
const char* to_string(FragmentKind kind);

struct Fragment {
  int id = 0;
  int rank = 0;
  FragmentKind kind = FragmentKind::kDenoise;
  std::vector<int> core;          ///< ascending global atom indices (ai2bmd: all atoms of the unit)
  std::vector<int> buffer;        ///< ascending, disjoint from core (empty for ai2bmd)
  std::vector<double> weights;    ///< one per atom of core then buffer
  std::vector<int> residues;      ///< residues whose atoms the core holds (ai2bmd: central residue first)
  std::vector<CapHydrogen> caps;  ///< ai2bmd only
  double cost = 0;                ///< estimated cost (atoms x neighbours) used by the rank plan
};

struct DenoiseOptions {
  int core_residues = 8;        ///< consecutive polymer residues per core (>= 1)
  double buffer = 8.0;          ///< Å, buffer radius around the core (>= 0)
  double blend = 2.0;           ///< Å, width of the weight taper into the buffer (0 = hard partition)
  double ligand_contact = 4.5;  ///< Å, heavy-atom distance at which a ligand "touches" a residue
  double solvent_cell = 12.0;   ///< Å, edge of the grid cells that group bulk solvent into fragments
};

/// Overlapping denoising fragments of the whole System (scheme "denoise").
///  - Polymer cores: `core_residues` consecutive residues along each chain segment (a chain break
///    starts a new segment); a last core shorter than half the size is merged into the previous one.
///  - Ligands, cofactors and other non-polymer molecules join the core of the polymer fragment whose
///    core heavy atoms the most ligand heavy atoms come within `ligand_contact` of (ties: lower id),
///    or a fragment of their own when they touch none. Every other fragment they come within
///    `buffer` of gets the whole molecule in its buffer (atoms past the radius with weight 0).
///  - Waters and ions join the core of the fragment owning the nearest polymer/ligand atom within
///    `buffer`; the rest (bulk) are grouped by `solvent_cell` grid cells (fractional cells of the box
///    when the System is periodic).
///  - Order: polymer cores along the chains, then lone ligands, then solvent cells.
///  - Weights w_f(i) = s(d_f(i)) / sum_g s(d_g(i)), d = distance to fragment f's core (0 in the core),
///    s(d) = (1 + cos(pi d / blend)) / 2 for d < blend, else 0. blend = 0 gives a hard partition.
/// UsageError for core_residues < 1, buffer < 0, blend outside [0, buffer], ligand_contact <= 0 or
/// solvent_cell <= 0. O(N) through find_neighbors at max(buffer, ligand_contact).
std::vector<Fragment> make_denoise_fragments(const System& system, const DenoiseOptions& options);

/// AI2BMD units (scheme "ai2bmd"), one set per protein chain segment (residues joined by peptide
/// bonds; a chain break starts a new set; a residue isolated by breaks gives one dipeptide). Units
/// are interleaved along the chain: dipeptide, ACE-NME, dipeptide, ... ACE/NME/NH2 caps are not
/// counted in n but belong wholly to the first/last dipeptide. A cap hydrogen is placed for every
/// covalent bond from an included heavy atom to an excluded heavy atom. Every other molecule
/// (ligand, cofactor, water, ion) is one kMolecule unit with weight 1. A UsageError names the chain
/// when a chain has fewer than 2 amino-acid residues, or the residue when it is a nucleotide.
std::vector<Fragment> make_ai2bmd_fragments(const System& system);

}  // namespace hemeplm::decomposition
