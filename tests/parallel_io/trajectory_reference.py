#!/usr/bin/python3
"""Reference values for trajectory_source_test.cpp, from MDAnalysis and plain Python.

  trajectory_reference.py dump TOPOLOGY TRAJECTORY OUT.bin
      MDAnalysis reads TRAJECTORY (TOPOLOGY may be "-" for a multi-model PDB read on its own) and writes
      float64 values: n_frames, n_atoms, then per frame time (ps), the 3x3 box vectors (Å, zeros when
      MDAnalysis has no box) and the positions (Å).
  trajectory_reference.py trr TOPOLOGY XTC OUT.trr
      Rewrites the XTC as TRR with MDAnalysis, adding velocities = 0.5 * positions (Å/ps) and
      forces = 2 * positions (kJ/mol/Å), which the C++ test recomputes from its own XTC read.
  trajectory_reference.py dcd-variants IN.dcd OUT_SWAPPED.dcd OUT_MARKER64.dcd
      Writes the same DCD byte-swapped, and with 64-bit record markers (no MDAnalysis needed).
"""
import struct
import sys
import warnings

warnings.simplefilter("ignore")  # xdrlib DeprecationWarning under Python 3.11, DCD notices


def dump(topology, trajectory, out):
    import numpy as np
    import MDAnalysis as mda

    u = mda.Universe(trajectory) if topology == "-" else mda.Universe(topology, trajectory)
    values = [float(len(u.trajectory)), float(u.atoms.n_atoms)]
    chunks = [np.array(values)]
    for ts in u.trajectory:
        box = ts.triclinic_dimensions
        if box is None:
            box = np.zeros((3, 3))
        chunks.append(np.concatenate([[ts.time], np.asarray(box, dtype=np.float64).ravel(),
                                      np.asarray(ts.positions, dtype=np.float64).ravel()]))
    np.concatenate(chunks).astype("<f8").tofile(out)


def trr(topology, xtc, out):
    import MDAnalysis as mda

    u = mda.Universe(topology, xtc)
    with mda.Writer(out, n_atoms=u.atoms.n_atoms) as writer:
        for ts in u.trajectory:
            ts.has_velocities = True
            ts.has_forces = True
            ts.velocities = 0.5 * ts.positions
            ts.forces = 2.0 * ts.positions
            writer.write(u.atoms)


def records(data):
    offset = 0
    while offset < len(data):
        (size,) = struct.unpack_from("<i", data, offset)
        yield data[offset + 4:offset + 4 + size]
        offset += 8 + size


def dcd_variants(source, swapped_path, marker64_path):
    data = open(source, "rb").read()
    swapped, marker64 = bytearray(), bytearray()
    for index, payload in enumerate(records(data)):
        size = len(payload)
        if index == 0:  # "CORD" stays as text, the 20 control words are int32/float32
            words = struct.unpack_from("<20i", payload, 4)
            body = payload[:4] + struct.pack(">20i", *words)
        elif index == 1:  # NTITLE then text
            body = struct.pack(">i", struct.unpack_from("<i", payload)[0]) + payload[4:]
        elif size == 48:  # unit cell: six float64
            body = struct.pack(">6d", *struct.unpack("<6d", payload))
        else:  # atom count or float32 coordinates
            n = size // 4
            body = struct.pack(">%df" % n, *struct.unpack("<%df" % n, payload)) if index > 2 else \
                struct.pack(">i", *struct.unpack("<i", payload))
        swapped += struct.pack(">i", size) + body + struct.pack(">i", size)
        marker64 += struct.pack("<q", size) + payload + struct.pack("<q", size)
    open(swapped_path, "wb").write(swapped)
    open(marker64_path, "wb").write(marker64)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "dump":
        dump(*sys.argv[2:5])
    elif mode == "trr":
        trr(*sys.argv[2:5])
    elif mode == "dcd-variants":
        dcd_variants(*sys.argv[2:5])
    else:
        sys.exit("unknown mode " + mode)
