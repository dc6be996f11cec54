#!/usr/bin/python3
"""Reference molecular dynamics with OpenMM, written as hemeplm H5MD (docs/h5md-layout.md).

Protein: amber14 (amber14-all.xml) with OBC2/GBn2 implicit solvent or TIP3P(-FB) water + PME; hydrogens
are added at pH 7 when the structure has none.  Ligands: GAFF 1.4 via Open Babel atom types and gaff.dat,
Gasteiger charges (tools/gaff_ligand.py).  After minimisation, N Langevin steps are run and every K-th
step's positions, forces, potential energy and box are appended to the H5MD file.  The file is written
as <stem>.partial.h5md while the run goes (every frame flushed) and renamed to the output path at the
end, so an interrupted run keeps its frames and never replaces a good file.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import List, NoReturn, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import gaff_ligand  # noqa: E402
from h5md_layout import H5mdTrajectoryWriter  # noqa: E402
from md_topology import LigandBlock, topology_arrays  # noqa: E402

PROG = "reference_md.py"
HEMEPLM_VERSION = "0.1.0"
CHARGE_NOTE = ("ligand charges are Gasteiger (Open Babel), not AM1-BCC: adequate for reference/training "
               "data, not a validated ligand force field")


class UsageError(Exception):
    """Bad input or options: reported as one line, exit status 2."""


class Interrupted(Exception):
    """SIGTERM/SIGINT during the run."""


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Prints the message as one line and exits with status 2."""
        sys.stderr.write(f"{PROG}: error: {message} (see --help)\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = OneLineParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0] + "\n\n" + "\n\n".join(__doc__.split("\n\n")[1:]),
        epilog="example:\n  /usr/bin/python3 tools/reference_md.py --structure inputs/example/complex.pdb "
               "\\\n      --ligand inputs/example/ligand.sdf --steps 5000 --stride 50 --out ref.h5md\n\n"
               "exit status: 0 success, 2 bad input or options, 1 simulation failure, "
               "130/143 interrupted (frames kept in <stem>.partial.h5md)")
    p.add_argument("--structure", required=True, help="protein PDB or PDBx/mmCIF file (hydrogens optional)")
    p.add_argument("--ligand", action="append", default=[], metavar="SDF",
                   help="ligand SDF (3D; hydrogens added when missing); repeat for several ligands")
    p.add_argument("--solvent", choices=("implicit", "explicit"), default="implicit",
                   help="implicit (GB, no cutoff) or explicit water (1 nm padding, neutralising "
                        "Na+/Cl-, PME 1 nm) [implicit]")
    p.add_argument("--implicit-model", choices=("obc2", "gbn2"), default="obc2", help="GB model [obc2]")
    p.add_argument("--water-model", choices=("tip3pfb", "tip3p"), default="tip3pfb",
                   help="explicit water model [tip3pfb]")
    p.add_argument("--steps", type=int, default=5000, help="MD steps after minimisation [5000]")
    p.add_argument("--timestep-fs", type=float, default=2.0, help="time step in fs [2]")
    p.add_argument("--stride", type=int, default=50, help="write every K steps [50]")
    p.add_argument("--temperature", type=float, default=300.0, help="temperature in K [300]")
    p.add_argument("--friction", type=float, default=1.0, help="Langevin friction in 1/ps [1]")
    p.add_argument("--seed", type=int, default=1, help="random seed (velocities, integrator) [1]")
    p.add_argument("--platform", choices=("CPU", "Reference"), default="CPU",
                   help="OpenMM platform; Reference is double precision and slow [CPU]")
    p.add_argument("--threads", type=int, default=0, help="CPU platform threads (0 = OpenMM default)")
    p.add_argument("--minimize-steps", type=int, default=500,
                   help="energy-minimisation iterations before MD, 0 to skip [500]")
    p.add_argument("--out", required=True, help="output H5MD file (.h5md)")
    p.add_argument("--pdb-out", metavar="PDB",
                   help="also write the simulated system (with added H, ligands, solvent) after "
                        "minimisation as PDB: a topology for MDAnalysis/VMD")
    return p


def check_args(args: argparse.Namespace) -> None:
    """Validates option values and input files (UsageError naming the problem)."""
    for name in ("structure",):
        path = getattr(args, name)
        if not os.path.isfile(path):
            raise UsageError(f"{path}: no such file (--{name})")
    for path in args.ligand:
        if not os.path.isfile(path):
            raise UsageError(f"{path}: no such file (--ligand)")
    if Path(args.structure).suffix.lower() not in (".pdb", ".ent", ".cif", ".mmcif"):
        raise UsageError(f"{args.structure}: unknown structure extension (expected .pdb or .cif)")
    checks = [(args.steps >= 1, "--steps must be at least 1"),
              (args.stride >= 1, "--stride must be at least 1"),
              (args.stride <= args.steps, "--stride must not exceed --steps (no frame would be written)"),
              (0 < args.timestep_fs <= 5, "--timestep-fs must be in (0, 5]"),
              (args.temperature > 0, "--temperature must be positive"),
              (args.friction >= 0, "--friction must be non-negative"),
              (args.minimize_steps >= 0, "--minimize-steps must be non-negative"),
              (args.threads >= 0, "--threads must be non-negative"),
              (0 <= args.seed < 2**31, "--seed must be in [0, 2^31)")]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    out = Path(args.out)
    if out.suffix.lower() != ".h5md":
        raise UsageError(f"{args.out}: the output must end in .h5md (MDAnalysis needs the extension)")
    for path in (args.out, args.pdb_out):
        if path and not Path(path).resolve().parent.is_dir():
            raise UsageError(f"{path}: the output folder does not exist")


def sha256(path: str) -> str:
    """Hex SHA-256 of a file."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def force_field_files(args: argparse.Namespace) -> List[str]:
    """OpenMM force-field files for the protein and solvent."""
    if args.solvent == "implicit":
        return ["amber14-all.xml", f"implicit/{args.implicit_model}.xml"]
    return ["amber14-all.xml", f"amber14/{args.water_model}.xml"]


def build_system(args: argparse.Namespace, log):
    """Modeller topology/positions, System, ligand blocks and the number of hydrogens added."""
    from openmm import app, unit
    import openmm
    reader = app.PDBxFile if Path(args.structure).suffix.lower() in (".cif", ".mmcif") else app.PDBFile
    try:
        structure = reader(args.structure)
    except Exception as exc:  # OpenMM raises bare Exceptions/ValueErrors for bad files
        raise UsageError(f"{args.structure}: cannot read the structure ({one_line(exc)})") from None
    if structure.topology.getNumAtoms() == 0:
        raise UsageError(f"{args.structure}: no atoms")
    params = gaff_ligand.load_gaff()
    ligand_xml: List[str] = []
    ligands: List[gaff_ligand.Ligand] = []
    per_file: List[List[gaff_ligand.Ligand]] = []
    for path in args.ligand:
        per_file.append(gaff_ligand.read_ligands(path))
        for lig in per_file[-1]:
            tag = f"L{len(ligands) + 1}"
            ligand_xml.append(gaff_ligand.ligand_ffxml(lig, tag, params))
            ligands.append(lig)
            log(f"ligand {path} record {lig.record + 1}: {lig.residue_name}, {len(lig.atom_names)} atoms "
                f"({lig.added_hydrogens} H added), net charge {sum(lig.formal_charges)}")
    ff_files = force_field_files(args)
    forcefield = app.ForceField(*ff_files, *[io.StringIO(x) for x in ligand_xml])
    modeller = app.Modeller(structure.topology, structure.positions)
    has_h = any(a.element is not None and a.element.atomic_number == 1 for a in modeller.topology.atoms())
    added = 0
    if not has_h:
        before = modeller.topology.getNumAtoms()
        try:
            modeller.addHydrogens(forcefield, pH=7.0)
        except Exception as exc:
            raise UsageError(f"{args.structure}: cannot add hydrogens ({one_line(exc)})") from None
        added = modeller.topology.getNumAtoms() - before
        log(f"added {added} hydrogens at pH 7")
    blocks: List[LigandBlock] = []
    bond_types = {1: app.Single, 2: app.Double, 3: app.Triple, 4: app.Aromatic}
    for file_index, file_ligands in enumerate(per_file):
        top = app.Topology()
        chain = top.addChain(f"L{file_index + 1}")  # hemeplm: one chain per ligand file
        positions = []
        for lig in file_ligands:
            blocks.append(LigandBlock(first_atom=modeller.topology.getNumAtoms() + len(positions),
                                      ligand=lig))
            residue = top.addResidue(lig.residue_name, chain, id=str(lig.record + 1))
            atoms = [top.addAtom(name, app.Element.getByAtomicNumber(z), residue)
                     for name, z in zip(lig.atom_names, lig.atomic_numbers)]
            for a, b, order in lig.bonds:
                top.addBond(atoms[a], atoms[b], type=bond_types[order], order=order if order < 4 else None)
            positions += [openmm.Vec3(*p) for p in lig.positions]
        modeller.add(top, positions * unit.angstrom)
    if args.solvent == "explicit":
        modeller.addSolvent(forcefield, model="tip3p", padding=1.0 * unit.nanometer, neutralize=True)
        log(f"solvated: {modeller.topology.getNumAtoms()} atoms")
    method = app.PME if args.solvent == "explicit" else app.NoCutoff
    kwargs = {"nonbondedCutoff": 1.0 * unit.nanometer} if args.solvent == "explicit" else {}
    try:
        system = forcefield.createSystem(modeller.topology, nonbondedMethod=method,
                                         constraints=app.HBonds, rigidWater=True, **kwargs)
    except ValueError as exc:
        raise UsageError(f"{args.structure}: OpenMM cannot parameterise the system ({one_line(exc)})") \
            from None
    if args.solvent == "implicit" and args.implicit_model == "obc2":
        use_native_obc2(system)
    return modeller, system, blocks, added, ff_files


def use_native_obc2(system) -> None:
    """Replaces implicit/obc2.xml's CustomGBForce by OpenMM's GBSAOBCForce with the same radii and
    scale factors (the same OBC2 + ACE model; energies agree to ~1e-8 relative), which is vectorised on
    the CPU platform and tens of times faster than the CustomGBForce."""
    import openmm
    index = [i for i, f in enumerate(system.getForces()) if isinstance(f, openmm.CustomGBForce)]
    if len(index) != 1:
        return
    custom = system.getForce(index[0])
    names = [custom.getPerParticleParameterName(i) for i in range(custom.getNumPerParticleParameters())]
    if names != ["charge", "or", "sr"]:
        return  # an OpenMM version with a different parameterisation: keep the custom force
    offset = 0.009  # nm, OBC dielectric offset in customgbforces.GBSAOBC2Force
    native = openmm.GBSAOBCForce()
    native.setNonbondedMethod(openmm.GBSAOBCForce.NoCutoff)
    native.setSoluteDielectric(1.0)
    native.setSolventDielectric(78.5)
    for i in range(custom.getNumParticles()):
        charge, offset_radius, scaled_radius = custom.getParticleParameters(i)
        native.addParticle(charge, offset_radius + offset, scaled_radius / offset_radius)
    system.removeForce(index[0])
    system.addForce(native)


def one_line(exc: BaseException) -> str:
    """An exception's message squeezed onto one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


class Progress:
    """Progress lines with ETA on stderr: rewritten in place on a TTY, plain lines otherwise."""

    def __init__(self, total_steps: int, dt_ps: float) -> None:
        self.total, self.dt_ps = total_steps, dt_ps
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, step: int, force: bool = False) -> None:
        """Reports at most every 10 s (TTY: 0.5 s) and at the end."""
        now = time.monotonic()
        if not force and now - self.last < (0.5 if self.tty else 10.0):
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = step / elapsed
        eta = (self.total - step) / rate if rate > 0 else 0.0
        nsday = step * self.dt_ps / 1000.0 / elapsed * 86400.0
        line = (f"{PROG}: step {step}/{self.total} ({100.0 * step / self.total:.0f}%), "
                f"{nsday:.1f} ns/day, elapsed {elapsed:.0f} s, ETA {eta:.0f} s")
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if step >= self.total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Builds, minimises and runs the system, writing the trajectory. Returns the exit status."""
    import openmm
    from openmm import unit

    def log(message: str) -> None:
        """One progress/info line on stderr."""
        sys.stderr.write(f"{PROG}: {message}\n")
        sys.stderr.flush()

    check_args(args)
    t0 = time.monotonic()
    modeller, system, blocks, added_h, ff_files = build_system(args, log)
    arrays = topology_arrays(modeller.topology, system, blocks, bool(args.ligand))
    n_atoms = arrays.atom_count
    dt_ps = args.timestep_fs / 1000.0
    integrator_cls = getattr(openmm, "LangevinMiddleIntegrator", openmm.LangevinIntegrator)
    integrator = integrator_cls(args.temperature * unit.kelvin, args.friction / unit.picosecond,
                                dt_ps * unit.picoseconds)
    integrator.setRandomNumberSeed(args.seed)
    plat = openmm.Platform.getPlatformByName(args.platform)
    props = {"Threads": str(args.threads)} if args.platform == "CPU" and args.threads else {}
    context = openmm.Context(system, integrator, plat, props)
    context.setPositions(modeller.positions)
    periodic = args.solvent == "explicit"
    if periodic:
        context.setPeriodicBoxVectors(*modeller.topology.getPeriodicBoxVectors())
    e0 = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    if args.minimize_steps > 0:
        openmm.LocalEnergyMinimizer.minimize(context, 10.0, args.minimize_steps)
    e1 = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    log(f"{n_atoms} atoms on {args.platform}; potential energy {e0:.1f} -> {e1:.1f} kJ/mol after "
        f"minimisation; setup {time.monotonic() - t0:.1f} s")
    if args.pdb_out:
        from openmm import app
        with open(args.pdb_out, "w") as handle:
            app.PDBFile.writeFile(modeller.topology, context.getState(getPositions=True).getPositions(),
                                  handle, keepIds=True)
    context.setVelocitiesToTemperature(args.temperature * unit.kelvin, args.seed)
    if periodic:
        arrays.box = np.array(context.getState().getPeriodicBoxVectors(asNumpy=True)
                              .value_in_unit(unit.angstrom), np.float64)
    inputs = [{"role": "structure", "path": args.structure, "sha256": sha256(args.structure)}]
    inputs += [{"role": "ligand", "path": p, "sha256": sha256(p)} for p in args.ligand]
    config = {k: v for k, v in vars(args).items()}
    provenance = {
        "program": "tools/reference_md.py", "version": HEMEPLM_VERSION, "command_line": sys.argv,
        "host": platform.node(), "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "inputs": inputs, "engine": "OpenMM", "openmm_version": openmm.version.version,
        "platform": args.platform, "precision": "double" if args.platform == "Reference" else "mixed",
        "force_fields": ff_files,
        "gb_force": ("GBSAOBCForce (native OBC2 with implicit/obc2.xml radii and scales)"
                     if args.solvent == "implicit" and args.implicit_model == "obc2" else
                     "CustomGBForce" if args.solvent == "implicit" else None),
        "solvent": args.solvent,
        "implicit_model": args.implicit_model if args.solvent == "implicit" else None,
        "water_model": args.water_model if args.solvent == "explicit" else None,
        "nonbonded": "PME, 1 nm cutoff" if periodic else "no cutoff",
        "constraints": "HBonds", "integrator": integrator_cls.__name__,
        "ligand_parameterisation": gaff_ligand.PARAMETERISATION if args.ligand else None,
        "charge_model": {"protein": "amber14 (ff14SB)", "ligand": "Gasteiger" if args.ligand else None,
                         "note": CHARGE_NOTE if args.ligand else None},
        "hydrogens_added": added_h, "atoms": n_atoms,
        "temperature_K": args.temperature, "timestep_fs": args.timestep_fs,
        "friction_per_ps": args.friction, "seed": args.seed, "steps": args.steps, "stride": args.stride,
        "minimize_steps": args.minimize_steps,
        "units": {"position": "Angstrom", "force": "kJ mol-1 Angstrom-1", "energy": "kJ mol-1", "time": "ps"},
    }
    out = Path(args.out)
    partial = out.with_name(out.stem + ".partial.h5md")
    writer = H5mdTrajectoryWriter(
        str(partial), arrays, forces=True, observables=["potential_energy"],
        config_json=json.dumps(config, sort_keys=True), provenance_json=json.dumps(provenance),
        creator_version=HEMEPLM_VERSION, chunk_frames=32, source=out.name, dt_ps=dt_ps * args.stride)

    def on_signal(signum, _frame):
        """Turns SIGTERM/SIGINT into an exception so that the file is closed cleanly."""
        raise Interrupted(signal.Signals(signum).name)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    progress = Progress(args.steps, dt_ps)
    md_start = time.monotonic()
    try:
        step = 0
        while step < args.steps:
            n = min(args.stride, args.steps - step)
            integrator.step(n)
            step += n
            if step % args.stride:
                break
            state = context.getState(getPositions=True, getForces=True, getEnergy=True,
                                     enforcePeriodicBox=periodic)
            pos = state.getPositions(asNumpy=True).value_in_unit(unit.angstrom)
            frc = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.angstrom)
            energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
            box = (np.array(state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.angstrom))
                   if periodic else None)
            if not np.isfinite(energy) or not np.all(np.isfinite(pos)):
                raise RuntimeError(f"the simulation blew up at step {step} (energy {energy})")
            writer.append(step, step * dt_ps, np.asarray(pos), np.asarray(frc), [energy], box)
            progress.update(step, force=step >= args.steps)
    except Interrupted as exc:
        writer.close()
        log(f"interrupted by {exc} after {writer.frames} frames; they are in {partial}")
        return 143 if str(exc) == "SIGTERM" else 130
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    seconds = time.monotonic() - md_start
    nsday = args.steps * dt_ps / 1000.0 / seconds * 86400.0
    provenance["performance"] = {"md_seconds": round(seconds, 3), "ns_per_day": round(nsday, 3)}
    writer.set_provenance(json.dumps(provenance))
    writer.close()
    os.replace(partial, out)
    log(f"wrote {writer.frames} frames of {n_atoms} atoms to {out} ({out.stat().st_size / 1e6:.2f} MB); "
        f"{nsday:.1f} ns/day on {args.platform}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: one-line errors, exit 2 for bad input, 1 for simulation failures."""
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (UsageError, gaff_ligand.LigandError) as exc:
        sys.stderr.write(f"{PROG}: error: {one_line(exc)}\n")
        return 2
    except Exception as exc:  # OpenMM failures (NaN, platform) reach the user as one line
        sys.stderr.write(f"{PROG}: error: {type(exc).__name__}: {one_line(exc)}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
