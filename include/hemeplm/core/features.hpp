// The 42-value per-atom chemistry feature vector that the model embeds (model-spec.md section (d):
// aromaticity, hybridisation, partial charge, attached hydrogens, degree, formal charge, ring size,
// chirality). Computed with RDKit for every atom of the System, proteins included. The layout is part
// of the checkpoint format: append, never reorder.
#pragma once

namespace hemeplm {

inline constexpr int kAtomFeatureCount = 42;

namespace feature {
inline constexpr int kAromatic = 0;           ///< 1 if aromatic
inline constexpr int kHybridization = 1;      ///< one-hot [1,8): S/unspecified, SP, SP2, SP3, SP3D, SP3D2, other
inline constexpr int kHybridizationCount = 7;
inline constexpr int kGasteigerCharge = 8;    ///< Gasteiger partial charge (e), 0 where undefined
inline constexpr int kHydrogenCount = 9;      ///< one-hot [9,16): attached H 0..5, 6+ (explicit or implicit;
inline constexpr int kHydrogenCountSize = 7;  ///< the "implicit valence" of a heavy-atom-only molecule)
inline constexpr int kHeavyDegree = 16;       ///< one-hot [16,23): heavy-atom neighbours 0..5, 6+
inline constexpr int kHeavyDegreeSize = 7;
inline constexpr int kFormalCharge = 23;      ///< one-hot [23,28): -2 or less, -1, 0, +1, +2 or more
inline constexpr int kFormalChargeSize = 5;
inline constexpr int kInRing = 28;            ///< 1 if in any ring
inline constexpr int kRingSize = 29;          ///< [29,35): member of a ring of size 3, 4, 5, 6, 7, 8+
inline constexpr int kRingSizeCount = 6;
inline constexpr int kChirality = 35;         ///< one-hot [35,39): none, R, S, unassigned stereocentre
inline constexpr int kChiralityCount = 4;
inline constexpr int kDonor = 39;             ///< 1 if N/O/S with an attached H (hydrogen-bond donor)
inline constexpr int kAcceptor = 40;          ///< 1 if N/O acceptor (not positively charged, not amide N)
inline constexpr int kConjugated = 41;        ///< 1 if part of a conjugated bond
}  // namespace feature

}  // namespace hemeplm
