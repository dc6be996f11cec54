// The 42-value per-atom chemistry feature vector that the model embeds (model-spec.md section (d):
// aromaticity, hybridisation, partial charge, attached hydrogens, degree, formal charge, ring size,
// chirality). Computed with RDKit for every atom of the System, proteins included. The layout is part
// of the checkpoint format: append, never reorder.
#pragma once

// How each value is perceived (src/core/atom_features.cpp), for anyone reading a checkpoint:
// - The unit of perception is a connected component of System::bonds, so a disulfide or a covalent
//   ligand link is a real bond. Bonds to metals (Li..Po alkali/alkaline-earth/transition/post-
//   transition metals) are left out of the RDKit graph, as RDKit's MetalDisconnector does, but do
//   count in kHeavyDegree.
// - Hydrogens: atoms of a residue that has no H at all get RDKit's implicit H (organic elements only,
//   never ions), so heavy-atom and all-H files give the same features for heavy atoms; atoms of a
//   residue with any H get none. kHydrogenCount = H neighbours + implicit H.
// - Hybridisation: RDKit's; hydrogens (S) and unperceived atoms share slot 0.
// - Gasteiger: RDKit computeGasteigerCharges, 12 iterations; implicit H are folded into their heavy
//   atom, so the value differs (< 0.35 e) between heavy-atom and all-H inputs; 0 where RDKit has no
//   parameters; a lone ion carries its formal charge.
// - Ring size is multi-hot (a fused-ring atom has several), from RDKit's symmetrised SSSR.
// - Chirality: CIP label from the 3D coordinates (RDKit legacy perception); "unassigned" is a
//   possible stereocentre without a label. Components RDKit cannot fully sanitise (over-valent
//   HETATM groups) get "none" there, and their other values come from partial sanitisation.
// - Acceptor: O with formal charge <= 0; N with formal charge <= 0 unless trivalent with its lone
//   pair in a pi system (aromatic [nH], SP2 such as aniline, or bonded to C/S=O/S as in amides).
// - One-hot groups (hybridisation, H count, degree, formal charge, chirality) have exactly one 1.

namespace hemeplm {

inline constexpr int kAtomFeatureCount = 42;

namespace feature {
inline constexpr int kAromatic = 0;       ///< 1 if aromatic (RDKit model)
inline constexpr int kHybridization = 1;  ///< one-hot [1,8): S/unspec., SP, SP2, SP3, SP3D, SP3D2, other
inline constexpr int kHybridizationCount = 7;
inline constexpr int kGasteigerCharge = 8;    ///< Gasteiger partial charge (e), 0 where undefined
inline constexpr int kHydrogenCount = 9;      ///< one-hot [9,16): attached H 0..5, 6+ (explicit or implicit;
inline constexpr int kHydrogenCountSize = 7;  ///< the "implicit valence" of a heavy-atom-only molecule)
inline constexpr int kHeavyDegree = 16;       ///< one-hot [16,23): heavy-atom neighbours 0..5, 6+
inline constexpr int kHeavyDegreeSize = 7;
inline constexpr int kFormalCharge = 23;  ///< one-hot [23,28): -2 or less, -1, 0, +1, +2 or more
inline constexpr int kFormalChargeSize = 5;
inline constexpr int kInRing = 28;    ///< 1 if in any ring
inline constexpr int kRingSize = 29;  ///< [29,35): in a ring of size 3, 4, 5, 6, 7, 8+ (multi-hot)
inline constexpr int kRingSizeCount = 6;
inline constexpr int kChirality = 35;  ///< one-hot [35,39): none, R, S, unassigned stereocentre
inline constexpr int kChiralityCount = 4;
inline constexpr int kDonor = 39;       ///< 1 if N/O/S with an attached H (hydrogen-bond donor)
inline constexpr int kAcceptor = 40;    ///< 1 if N/O acceptor (not positively charged, not amide N)
inline constexpr int kConjugated = 41;  ///< 1 if part of a conjugated bond
}  // namespace feature

}  // namespace hemeplm
