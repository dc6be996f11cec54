#!/usr/bin/python3
"""Synthetic per-residue embeddings for a PDB file, in the layouts `--residue-embeddings` reads.

For tests and to show the layout (docs/residue-embeddings.md); real protein-language-model vectors
(ESM-2 and the like) come from their own tools, e.g. fair-esm, and are written in the same layout.

  make_residue_embeddings.py complex.pdb out.h5  --width 16 --kind random --seed 1
  make_residue_embeddings.py complex.pdb out.npy --width 32 --kind onehot   (writes out.keys.csv too)

Kinds: random (seeded normal values) or onehot (one-hot of the residue type in 20 columns, the rest
sin/cos features of the residue's position in its chain; needs --width >= 22).
Residues are every ATOM/HETATM residue of the file (first model), keyed by chain id, author residue
number and insertion code. --skip CHAIN:NUMBER[INS] leaves residues out (to test the error for them).
"""
import argparse
import os
import sys

import numpy as np

AMINO_ACIDS = ["ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE",
               "LEU", "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL"]


def pdb_residues(path):
    """(chain, number, insertion, name) of every residue, in file order, first model only."""
    residues = []
    seen = set()
    with open(path) as f:
        for line in f:
            if line.startswith("ENDMDL"):
                break
            if not line.startswith(("ATOM  ", "HETATM")):
                continue
            chain = line[21].strip()
            number = int(line[22:26])
            insertion = line[26].strip()
            key = (chain, number, insertion)
            if key not in seen:
                seen.add(key)
                residues.append((chain, number, insertion, line[17:20].strip()))
    if not residues:
        sys.exit(f"{path}: no ATOM/HETATM records")
    return residues


def key_text(chain, number, insertion):
    return f"{chain}:{number}{insertion}"


def embeddings(residues, width, kind, seed):
    if kind == "random":
        return np.random.default_rng(seed).standard_normal((len(residues), width))
    if width < 22:
        sys.exit("--kind onehot needs --width >= 22 (20 residue types + position features)")
    out = np.zeros((len(residues), width))
    position = {}
    for row, (chain, _, _, name) in enumerate(residues):
        if name in AMINO_ACIDS:
            out[row, AMINO_ACIDS.index(name)] = 1.0
        index = position.get(chain, 0)
        position[chain] = index + 1
        for k in range(width - 20):
            frequency = 1.0 / (10000.0 ** (2 * (k // 2) / (width - 20)))
            out[row, 20 + k] = np.sin(index * frequency) if k % 2 == 0 else np.cos(index * frequency)
    return out


def write_hdf5(path, residues, values, dtype):
    import h5py
    with h5py.File(path, "w") as f:
        f["embeddings"] = values.astype(dtype)
        f["chain"] = np.array([r[0] for r in residues], dtype=h5py.string_dtype())
        f["residue_number"] = np.array([r[1] for r in residues], dtype=np.int32)
        f["insertion_code"] = np.array([r[2] for r in residues], dtype=h5py.string_dtype())


def write_npy(path, residues, values, dtype):
    np.save(path, values.astype(dtype))
    keys = os.path.splitext(path)[0] + ".keys.csv"
    with open(keys, "w") as f:
        f.write("chain,residue_number,insertion_code\n")
        for chain, number, insertion, _ in residues:
            f.write(f"{chain},{number},{insertion}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdb")
    parser.add_argument("out", help="OUT.h5 / OUT.hdf5 (HDF5) or OUT.npy (+ OUT.keys.csv)")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--kind", choices=["random", "onehot"], default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--skip", action="append", default=[], metavar="CHAIN:NUMBER")
    args = parser.parse_args()
    if args.width < 1:
        sys.exit("--width must be >= 1")

    residues = pdb_residues(args.pdb)
    values = embeddings(residues, args.width, args.kind, args.seed)
    keep = [i for i, r in enumerate(residues) if key_text(r[0], r[1], r[2]) not in set(args.skip)]
    residues = [residues[i] for i in keep]
    values = values[keep]
    extension = os.path.splitext(args.out)[1].lower()
    if extension in (".h5", ".hdf5"):
        write_hdf5(args.out, residues, values, args.dtype)
    elif extension == ".npy":
        write_npy(args.out, residues, values, args.dtype)
    else:
        sys.exit(f"{args.out}: expected .h5, .hdf5 or .npy")
    print(f"{args.out}: {len(residues)} residues x {args.width} ({args.kind}, {args.dtype})")


if __name__ == "__main__":
    main()
