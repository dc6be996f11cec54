#!/usr/bin/python3
"""Reference-MD speed: simulated ns/day of plain MD (OpenMM 7.7 CPU, GROMACS 2022 if `gmx` exists)
on the systems hemeplm samples, for comparison with hemeplm's own simulated ns/day.

Run with Debian's /usr/bin/python3 (the pyenv python3 on PATH does not see python3-simtk):

    /usr/bin/python3 bench/md_reference.py --threads 2 --out md_reference.json

Every run: 2 fs steps, HBonds constraints, Langevin 300 K (OpenMM LangevinMiddleIntegrator 1/ps;
GROMACS integrator=sd, tau-t=1 ps), a short minimization, warm-up steps, then a timed run.
ns/day = simulated ns / wall-clock days of the timed part only (setup, minimization and warm-up excluded).
A run that fails is recorded with status "failed" and the reason; the script does not stop.
See bench/README-md-reference.md for what each record means and measured numbers.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
FTASE = "big_1s63_ftase_proteinH.pdb"
DHFR = "big_dhfr_solvated_23558.pdb"
DHFR_BOX_NM = 6.223  # cubic box of OpenMM's 5dfr_solv-cube_equil.pdb; the shared file has no CRYST1
LIGAND_NOTE = ("protein only: the Zn2+ and the FPP cofactor (HETATM) are removed, and the inhibitor of "
               "big_1s63_ligand.sdf is not included; they need GAFF/metal parameters that are not available")
DT_FS = 2.0
TEMPERATURE_K = 300.0

OPENMM_RUNS = {
    # key: (system, force field files, solvent label, nonbonded label)
    "ftase-vacuum-nocutoff": ("ftase", ["amber14-all.xml"], "vacuum", "NoCutoff"),
    "ftase-vacuum-rf": ("ftase", ["amber14-all.xml"], "vacuum",
                        "CutoffNonPeriodic 1.0 nm (reaction field, eps_rf 78.3)"),
    "ftase-obc2": ("ftase", ["amber99sb.xml", "amber99_obc.xml"], "implicit OBC2 (GBSAOBCForce)",
                   "CutoffNonPeriodic 2.0 nm"),
    "ftase-gbn2": ("ftase", ["amber14-all.xml", "implicit/gbn2.xml"], "implicit GBn2 (CustomGBForce)",
                   "CutoffNonPeriodic 2.0 nm"),
    "dhfr-pme": ("dhfr", ["amber14-all.xml", "amber14/tip3p.xml"], "explicit TIP3P",
                 "PME 0.9 nm (cubic box 6.223 nm)"),
}
DEFAULT_OPENMM_RUNS = ["ftase-vacuum-nocutoff", "ftase-vacuum-rf", "ftase-obc2", "dhfr-pme"]  # gbn2: opt-in, slow
GMX_RUNS = ["ftase-box-rf", "ftase-box-pme"]


def log(msg):
    print("[md_reference] " + msg, file=sys.stderr, flush=True)


def machine_info():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "nproc": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "loadavg_start": list(os.getloadavg()),
        "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return info


def record(engine, engine_version, system, atoms, force_field, solvent, nonbonded, steps, threads, wall_s,
           notes, status="ok", error=None, **extra):
    ns = steps * DT_FS * 1e-6
    rec = {
        "engine": engine,
        "engine_version": engine_version,
        "system": system,
        "atoms": atoms,
        "force_field": force_field,
        "solvent": solvent,
        "nonbonded": nonbonded,
        "dt_fs": DT_FS,
        "steps": steps,
        "threads": threads,
        "wall_s": round(wall_s, 3) if wall_s else wall_s,
        "ns_per_day": round(ns / (wall_s / 86400.0), 3) if (status == "ok" and wall_s) else None,
        "notes": notes,
        "status": status,
    }
    if error:
        rec["error"] = error
    rec.update(extra)
    return rec


# ---------------------------------------------------------------------------------------------------
# OpenMM
# ---------------------------------------------------------------------------------------------------

def import_openmm():
    try:
        import openmm  # noqa: F401
        import openmm.app  # noqa: F401
        import openmm.unit  # noqa: F401
    except ImportError as e:
        raise RuntimeError("OpenMM is not importable from %s (%s). Install with: apt-get install -y "
                           "--no-install-recommends python3-simtk libopenmm-plugins, and run with "
                           "/usr/bin/python3" % (sys.executable, e))
    import openmm
    names = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    if "CPU" not in names:
        raise RuntimeError("OpenMM has no CPU platform (platforms: %s). Install libopenmm-plugins." % names)
    return openmm


def add_c_terminal_oxygens(app, unit, topology, positions):
    """Rebuilds `topology` with an OXT on every C-terminal amino acid that lacks one (placed 1.25 Å from
    C, opposite the CA/O bisector). Returns (topology, positions, number added)."""
    import numpy as np
    from openmm import Vec3
    pos = np.array(positions.value_in_unit(unit.nanometer))
    new_top = app.Topology()
    new_pos = []
    added = 0
    for chain in topology.chains():
        new_chain = new_top.addChain(chain.id)
        residues = list(chain.residues())
        for k, res in enumerate(residues):
            new_res = new_top.addResidue(res.name, new_chain, res.id, res.insertionCode)
            names = {}
            for atom in res.atoms():
                names[atom.name] = atom
                new_top.addAtom(atom.name, atom.element, new_res, atom.id)
                new_pos.append(Vec3(*pos[atom.index]))
            last = k == len(residues) - 1
            if last and "OXT" not in names and all(n in names for n in ("C", "CA", "O")):
                c, ca, o = (pos[names[n].index] for n in ("C", "CA", "O"))
                u1 = (ca - c) / np.linalg.norm(ca - c)
                u2 = (o - c) / np.linalg.norm(o - c)
                d = -(u1 + u2)
                d /= np.linalg.norm(d)
                oxt = c + 0.125 * d
                new_top.addAtom("OXT", app.element.oxygen, new_res)
                new_pos.append(Vec3(*oxt))
                added += 1
    new_top.createStandardBonds()
    return new_top, unit.Quantity(new_pos, unit.nanometer), added


def chain_gaps(topology, positions, unit):
    """Consecutive residues of a chain whose C..N distance exceeds 2 Å (missing residues)."""
    import numpy as np
    pos = np.array(positions.value_in_unit(unit.nanometer))
    gaps = 0
    for chain in topology.chains():
        prev_c = None
        for res in chain.residues():
            atoms = {a.name: a for a in res.atoms()}
            if prev_c is not None and "N" in atoms:
                if np.linalg.norm(pos[atoms["N"].index] - pos[prev_c]) > 0.2:
                    gaps += 1
            prev_c = atoms["C"].index if "C" in atoms else None
    return gaps


def prepare_ftase(app, unit, path, forcefield):
    """Protein of 1S63 ready for `forcefield`: HETATM groups removed, OXT added, missing H added."""
    pdb = app.PDBFile(path)
    modeller = app.Modeller(pdb.topology, pdb.positions)
    hetero = [r for r in pdb.topology.residues() if r.name in ("ZN", "FPP")]
    removed = sorted({r.name for r in hetero})
    modeller.delete(hetero)
    top, pos, oxt = add_c_terminal_oxygens(app, unit, modeller.topology, modeller.positions)
    n_before = top.getNumAtoms()
    modeller = app.Modeller(top, pos)
    modeller.addHydrogens(forcefield, pH=7.0)
    notes = [LIGAND_NOTE,
             "removed %s; added %d C-terminal OXT; Modeller.addHydrogens(pH 7) added %d H (N-terminal NH3+ "
             "and templates' H missing from the reduce output) to the %d file atoms kept"
             % ("+".join(removed) or "nothing", oxt, modeller.topology.getNumAtoms() - n_before, n_before - oxt)]
    gaps = chain_gaps(modeller.topology, modeller.positions, unit)
    if gaps:
        notes.append("%d chain gaps (missing residues) are bonded across as in the PDB's chain order" % gaps)
    return modeller.topology, modeller.positions, notes


def prepare_dhfr(app, unit, path, box_nm):
    from openmm import Vec3
    pdb = app.PDBFile(path)
    notes = []
    if pdb.topology.getPeriodicBoxVectors() is None:
        if box_nm is None:
            raise RuntimeError("%s has no CRYST1 (no periodic box) and --dhfr-box-nm 0 was given: "
                               "explicit-solvent PME needs a box" % os.path.basename(path))
        pdb.topology.setUnitCellDimensions(Vec3(box_nm, box_nm, box_nm) * unit.nanometer)
        notes.append("the PDB has NO CRYST1; box set to a %.3f nm cube (the box of OpenMM's "
                     "5dfr_solv-cube_equil.pdb, per shared/data/README.md)" % box_nm)
    else:
        notes.append("box from CRYST1")
    notes.append("CHARMM names (TIP3, HT1..) mapped by OpenMM's pdbNames.xml; coordinates were "
                  "equilibrated with another force field, hence the short minimization")
    return pdb.topology, pdb.positions, notes


_PREPARED = {}  # system key -> (topology, minimized positions, notes, minimization seconds)


def prepared_system(openmm, app, unit, system_key, path, args):
    """Topology and positions of a system, minimized once and shared by every run on it. FTase is
    minimized with amber14 + CutoffNonPeriodic (reaction field): OpenMM's minimizer with NoCutoff or GB on
    11.7k atoms takes minutes; DHFR with its own PME system."""
    if system_key in _PREPARED:
        return _PREPARED[system_key]
    t0 = time.perf_counter()
    if system_key == "ftase":
        ff = app.ForceField("amber14-all.xml")
        top, pos, notes = prepare_ftase(app, unit, path, ff)
        kwargs = dict(nonbondedMethod=app.CutoffNonPeriodic, nonbondedCutoff=1.0 * unit.nanometer)
        how = "amber14-all, CutoffNonPeriodic 1.0 nm"
    else:
        ff = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
        top, pos, notes = prepare_dhfr(app, unit, path, args.dhfr_box_nm or None)
        kwargs = dict(nonbondedMethod=app.PME, nonbondedCutoff=0.9 * unit.nanometer)
        how = "amber14-all+tip3p, PME 0.9 nm"
    if args.minimize > 0:
        system = ff.createSystem(top, constraints=app.HBonds, **kwargs)
        integ = openmm.LangevinMiddleIntegrator(TEMPERATURE_K * unit.kelvin, 1.0 / unit.picosecond,
                                                DT_FS * unit.femtoseconds)
        ctx = openmm.Context(system, integ, openmm.Platform.getPlatformByName("CPU"),
                             {"Threads": str(args.threads)})
        ctx.setPositions(pos)
        openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, args.minimize)
        pos = ctx.getState(getPositions=True).getPositions(asNumpy=True)
        del ctx, integ
        notes = notes + ["minimized once (%d iterations, %s, %.0f s) before all runs on this system"
                         % (args.minimize, how, time.perf_counter() - t0)]
    _PREPARED[system_key] = (top, pos, notes)
    return _PREPARED[system_key]


def timed_steps(sim, steps, max_seconds):
    """Runs up to `steps` MD steps, in chunks of about 1 s, stopping once `max_seconds` have passed.
    Returns (steps done, wall seconds)."""
    done = 0
    chunk = 1
    t0 = time.perf_counter()
    while done < steps:
        n = min(chunk, steps - done)
        t = time.perf_counter()
        sim.step(n)
        done += n
        elapsed = time.perf_counter() - t0
        if elapsed > max_seconds:
            break
        per_step = (time.perf_counter() - t) / n
        chunk = max(1, min(100, int(1.0 / max(per_step, 1e-6))))
    return done, time.perf_counter() - t0


def run_openmm(key, args, data_dir):
    openmm = import_openmm()
    from openmm import app, unit
    system_key, ff_files, solvent, nonbonded_label = OPENMM_RUNS[key]
    version = openmm.Platform.getOpenMMVersion()
    sys_name = FTASE if system_key == "ftase" else DHFR
    path = os.path.join(data_dir, sys_name)
    label = sys_name + (" (protein only)" if system_key == "ftase" else "")
    base = dict(engine="openmm", engine_version=version, system=label, force_field="+".join(ff_files),
                solvent=solvent, nonbonded=nonbonded_label, threads=args.threads)
    atoms = None
    notes = []
    try:
        if not os.path.isfile(path):
            raise RuntimeError("input file not found: %s (use --data-dir)" % path)
        t0 = time.perf_counter()
        top, pos, notes = prepared_system(openmm, app, unit, system_key, path, args)
        t_setup = time.perf_counter()
        forcefield = app.ForceField(*ff_files)
        atoms = top.getNumAtoms()
        kwargs = dict(constraints=app.HBonds)
        if nonbonded_label.startswith("NoCutoff"):
            kwargs["nonbondedMethod"] = app.NoCutoff
        elif nonbonded_label.startswith("CutoffNonPeriodic"):
            kwargs["nonbondedMethod"] = app.CutoffNonPeriodic
            kwargs["nonbondedCutoff"] = float(nonbonded_label.split()[1]) * unit.nanometer
        elif nonbonded_label.startswith("PME"):
            kwargs["nonbondedMethod"] = app.PME
            kwargs["nonbondedCutoff"] = float(nonbonded_label.split()[1]) * unit.nanometer
            kwargs["ewaldErrorTolerance"] = 5e-4
        system = forcefield.createSystem(top, **kwargs)
        t_build = time.perf_counter()
        forces = sorted({f.__class__.__name__ for f in system.getForces()})
        integrator = openmm.LangevinMiddleIntegrator(TEMPERATURE_K * unit.kelvin, 1.0 / unit.picosecond,
                                                     DT_FS * unit.femtoseconds)
        plat = openmm.Platform.getPlatformByName("CPU")
        sim = app.Simulation(top, system, integrator, plat, {"Threads": str(args.threads)})
        sim.context.setPositions(pos)
        sim.context.setVelocitiesToTemperature(TEMPERATURE_K * unit.kelvin, 1)
        setup_s = time.perf_counter() - t0
        warm_done, warm_s = timed_steps(sim, args.warmup, args.max_seconds / 4) if args.warmup else (0, 0.0)
        done, wall = timed_steps(sim, args.steps, args.max_seconds)
        state = sim.context.getState(getEnergy=True)
        epot = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        if not math.isfinite(epot):
            raise RuntimeError("potential energy is not finite after the run (%r): unstable" % epot)
        stop_note = ""
        if done < args.steps:
            stop_note = "; timed run stopped after %d of %d steps at --max-seconds %g" % (
                done, args.steps, args.max_seconds)
        notes = notes + ["forces: " + ", ".join(forces),
                         "LangevinMiddleIntegrator 300 K, 1/ps; %d warm-up step(s) untimed (%.1f s)%s"
                         % (warm_done, warm_s, stop_note)]
        if kwargs.get("nonbondedMethod") == app.PME:
            notes.append("Debian's libopenmm-plugins lacks libOpenMMPME.so: PME reciprocal space runs on the "
                         "single-threaded fallback kernel")
        return record(steps=done, atoms=atoms, wall_s=wall, notes="; ".join(notes), platform="CPU",
                      setup_s=round(setup_s, 2), system_build_s=round(t_build - t_setup, 2),
                      potential_kj_mol_end=round(epot, 1), **base)
    except Exception as e:  # noqa: BLE001 - recorded, not raised
        log("openmm %s failed: %s" % (key, e))
        if args.verbose:
            traceback.print_exc()
        return record(steps=0, atoms=atoms, wall_s=None, notes="; ".join(notes), status="failed",
                      error="%s: %s" % (e.__class__.__name__, str(e)[:1500]), **base)


# ---------------------------------------------------------------------------------------------------
# GROMACS
# ---------------------------------------------------------------------------------------------------

MDP_COMMON = """\
cutoff-scheme   = Verlet
pbc             = xyz
rvdw            = 1.0
rcoulomb        = 1.0
constraints     = h-bonds
nstxout         = 0
nstvout         = 0
nstfout         = 0
nstxout-compressed = 0
nstenergy       = 0
nstlog          = 1000
"""
MDP_COULOMB = {"rf": "coulombtype = Reaction-Field\nepsilon-rf = 78.3\n",
               "pme": "coulombtype = PME\nfourierspacing = 0.12\n"}


def gmx_run(gmx, argv, cwd, stdin=None, timeout=300):
    cmd = [gmx, "-quiet", "-nocopyright"] + argv
    p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, GMX_MAXBACKUP="-1"))
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()
        # GROMACS puts the reason in a block after "Fatal error:"; keep it and the last lines.
        text = "\n".join(tail)
        m = re.search(r"(Fatal error:.*?)(?:\n-{5,}|\Z)", text, re.S)
        reason = m.group(1).strip() if m else "\n".join(tail[-8:])
        raise RuntimeError("`gmx %s` exited %d: %s" % (argv[0], p.returncode, reason[:1200]))
    return p


def gmx_version(gmx):
    try:
        p = subprocess.run([gmx, "-quiet", "--version"], capture_output=True, text=True, timeout=60)
        m = re.search(r"GROMACS version:\s*(\S+)", p.stdout)
        simd = re.search(r"SIMD instructions:\s*(\S+)", p.stdout)
        return (m.group(1) if m else "unknown"), (simd.group(1) if simd else "unknown")
    except Exception:  # noqa: BLE001
        return "unknown", "unknown"


def run_gromacs(gmx, variant, args, data_dir, workdir, prepared):
    version, simd = gmx_version(gmx)
    coul = variant.split("-")[-1]
    nonbonded = ("Reaction-Field 1.0 nm (eps_rf 78.3), PBC, no solvent" if coul == "rf"
                 else "PME 1.0 nm, PBC, no solvent")
    base = dict(engine="gromacs", engine_version=version, system=FTASE + " (protein only)",
                force_field="amber99sb-ildn", solvent="vacuum in a periodic box (1.0 nm padding)",
                nonbonded=nonbonded, threads=args.threads)
    atoms = None
    notes = [LIGAND_NOTE]
    try:
        src = os.path.join(data_dir, FTASE)
        if not os.path.isfile(src):
            raise RuntimeError("input file not found: %s (use --data-dir)" % src)
        if not prepared:
            # ATOM records only (drops ZN and FPP HETATM); pdb2gmx -ignh rebuilds every H.
            with open(src) as f, open(os.path.join(workdir, "protein.pdb"), "w") as g:
                chain = None
                for line in f:
                    if line.startswith("ATOM"):
                        if chain is not None and line[21] != chain:
                            g.write("TER\n")
                        chain = line[21]
                        g.write(line)
                g.write("TER\nEND\n")
            gmx_run(gmx, ["pdb2gmx", "-f", "protein.pdb", "-o", "conf.gro", "-p", "topol.top",
                          "-ff", "amber99sb-ildn", "-water", "tip3p", "-ignh"], workdir)
            gmx_run(gmx, ["editconf", "-f", "conf.gro", "-o", "box.gro", "-c", "-d", "1.0", "-bt", "cubic"],
                    workdir)
            if args.minimize > 0:
                with open(os.path.join(workdir, "em.mdp"), "w") as f:
                    f.write("integrator = steep\nnsteps = %d\nemtol = 1000\n" % args.minimize + MDP_COMMON +
                            MDP_COULOMB["rf"])
                gmx_run(gmx, ["grompp", "-f", "em.mdp", "-c", "box.gro", "-p", "topol.top", "-o", "em.tpr",
                              "-maxwarn", "2"], workdir)
                gmx_run(gmx, ["mdrun", "-deffnm", "em", "-ntmpi", "1", "-ntomp", str(args.threads),
                              "-pin", "off"], workdir, timeout=600)
            else:
                shutil.copy(os.path.join(workdir, "box.gro"), os.path.join(workdir, "em.gro"))
            prepared.append(True)
        with open(os.path.join(workdir, "em.gro")) as f:
            f.readline()
            atoms = int(f.readline())
        nsteps = 2 * args.gmx_steps  # -resethway: timing covers the second half
        mdp = ("integrator = sd\ndt = %.3f\nnsteps = %d\ntc-grps = System\ntau-t = 1.0\nref-t = %g\n"
               "gen-vel = yes\ngen-temp = %g\ngen-seed = 1\nnstcalcenergy = 100\n"
               % (DT_FS / 1000, nsteps, TEMPERATURE_K, TEMPERATURE_K)) + MDP_COMMON + MDP_COULOMB[coul]
        name = "md_" + coul
        with open(os.path.join(workdir, name + ".mdp"), "w") as f:
            f.write(mdp)
        gmx_run(gmx, ["grompp", "-f", name + ".mdp", "-c", "em.gro", "-p", "topol.top", "-o", name + ".tpr",
                      "-maxwarn", "2"], workdir)
        t0 = time.perf_counter()
        gmx_run(gmx, ["mdrun", "-deffnm", name, "-ntmpi", "1", "-ntomp", str(args.threads), "-pin", "off",
                      "-nb", "cpu", "-resethway", "-nsteps", str(nsteps)], workdir, timeout=600)
        total_wall = time.perf_counter() - t0
        with open(os.path.join(workdir, name + ".log")) as f:
            logtext = f.read()
        m_time = re.search(r"^\s*Time:\s+(\S+)\s+(\S+)", logtext, re.M)
        m_perf = re.search(r"^Performance:\s+(\S+)", logtext, re.M)
        if not (m_time and m_perf):
            raise RuntimeError("no Time:/Performance: lines in %s.log" % name)
        wall = float(m_time.group(2))
        timed_steps = nsteps - nsteps // 2
        rec = record(steps=timed_steps, atoms=atoms, wall_s=wall, notes="", **base)
        rec["ns_per_day_gmx_log"] = float(m_perf.group(1))
        notes += ["pdb2gmx -ignh (all H rebuilt, default termini/HIS states), editconf -d 1.0 cubic, steep "
                  "%d steps" % args.minimize,
                  "integrator sd (Langevin) 300 K tau-t 1 ps; mdrun -ntmpi 1 -ntomp %d -pin off -nb cpu "
                  "-resethway -nsteps %d: timing is the second half (%d steps), mdrun total wall incl. "
                  "setup %.1f s" % (args.threads, nsteps, timed_steps, total_wall),
                  "binary SIMD: %s (Debian build)" % simd]
        rec["notes"] = "; ".join(notes)
        return rec
    except Exception as e:  # noqa: BLE001
        log("gromacs %s failed: %s" % (variant, e))
        if args.verbose:
            traceback.print_exc()
        return record(steps=0, atoms=atoms, wall_s=None, notes="; ".join(notes), status="failed",
                      error="%s: %s" % (e.__class__.__name__, str(e)[:1500]), **base)


# ---------------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Measure simulated ns/day of plain MD with OpenMM (CPU platform) and GROMACS (if `gmx` "
                    "is installed) on hemeplm's large test systems. Run with /usr/bin/python3.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="CPU threads (OpenMM Threads, gmx -ntomp)")
    p.add_argument("--steps", type=int, default=200, help="timed MD steps per run (2 fs each)")
    p.add_argument("--warmup", type=int, default=10, help="untimed MD steps before the timed run")
    p.add_argument("--minimize", type=int, default=20,
                   help="energy-minimization iterations before MD (0: none)")
    p.add_argument("--max-seconds", type=float, default=10.0,
                   help="OpenMM: stop a timed run early after this many seconds (steps done are recorded); "
                        "warm-up stops after a quarter of it")
    p.add_argument("--openmm-runs", default=",".join(DEFAULT_OPENMM_RUNS),
                   help="comma-separated OpenMM runs from: %s; 'none' for none" % ", ".join(OPENMM_RUNS))
    p.add_argument("--gmx-runs", default=",".join(GMX_RUNS),
                   help="comma-separated GROMACS runs from: %s; 'none' for none" % ", ".join(GMX_RUNS))
    p.add_argument("--gmx-steps", type=int, default=100,
                   help="GROMACS: timed steps; mdrun runs twice as many with -resethway (first half untimed)")
    p.add_argument("--gmx", default=None, help="GROMACS binary (default: `gmx` on PATH, then /usr/bin/gmx)")
    p.add_argument("--dhfr-box-nm", type=float, default=DHFR_BOX_NM,
                   help="cubic box edge for the DHFR PDB, which has no CRYST1 (0: refuse to guess)")
    p.add_argument("--data-dir", default=DEFAULT_DATA, help="folder with the shared/data PDB files")
    p.add_argument("--keep", default=None, help="keep GROMACS work files in this folder")
    p.add_argument("--out", default=None, help="write the JSON here (default: stdout)")
    p.add_argument("--verbose", action="store_true", help="print tracebacks of failed runs")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    if args.steps < 1 or args.gmx_steps < 1 or args.warmup < 0 or args.minimize < 0 or args.max_seconds <= 0:
        p.error("--steps and --gmx-steps must be >= 1, --warmup and --minimize >= 0, --max-seconds > 0")

    def split(text, known, what):
        items = [] if text.strip().lower() == "none" else [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in known]
        if bad:
            p.error("unknown %s run(s) %s; choose from %s" % (what, ", ".join(bad), ", ".join(known)))
        return items

    args.openmm_runs = split(args.openmm_runs, list(OPENMM_RUNS), "OpenMM")
    args.gmx_runs = split(args.gmx_runs, GMX_RUNS, "GROMACS")
    if not os.path.isdir(args.data_dir):
        p.error("--data-dir %s is not a folder" % args.data_dir)
    return args


def reexec_with_system_python(argv):
    """The pyenv python3 on PATH does not see Debian's python3-simtk: rerun under /usr/bin/python3."""
    import importlib.util
    system_python = "/usr/bin/python3"
    if (importlib.util.find_spec("openmm") is None and os.access(system_python, os.X_OK)
            and os.path.realpath(sys.executable) != os.path.realpath(system_python)
            and not os.environ.get("MD_REFERENCE_NO_REEXEC")):
        log("openmm is not importable from %s; rerunning under %s" % (sys.executable, system_python))
        os.environ["MD_REFERENCE_NO_REEXEC"] = "1"
        os.execv(system_python, [system_python, os.path.abspath(__file__)] + list(argv))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.openmm_runs:
        reexec_with_system_python(argv)
    t_start = time.perf_counter()
    result = {"benchmark": "md_reference", "machine": machine_info(),
              "settings": {"dt_fs": DT_FS, "temperature_K": TEMPERATURE_K, "constraints": "HBonds",
                           "threads": args.threads, "steps": args.steps, "warmup": args.warmup,
                           "minimize": args.minimize, "max_seconds": args.max_seconds,
                           "gmx_steps": args.gmx_steps},
              "records": []}
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    if args.openmm_runs:
        try:
            import_openmm()
        except RuntimeError as e:
            log(str(e))
            for key in args.openmm_runs:
                system_key, ff_files, solvent, nb = OPENMM_RUNS[key]
                result["records"].append(record(
                    "openmm", None, FTASE if system_key == "ftase" else DHFR, None, "+".join(ff_files), solvent,
                    nb, 0, args.threads, None, "", status="failed", error=str(e)))
            args.openmm_runs = []
    for key in args.openmm_runs:
        log("openmm %s ..." % key)
        rec = run_openmm(key, args, args.data_dir)
        log("  -> %s ns/day (%s steps in %s s)" % (rec["ns_per_day"], rec["steps"], rec["wall_s"]))
        result["records"].append(rec)

    if args.gmx_runs:
        gmx = args.gmx or shutil.which("gmx") or ("/usr/bin/gmx" if os.access("/usr/bin/gmx", os.X_OK) else None)
        if gmx is None:
            msg = "`gmx` not found on PATH (install: apt-get install -y --no-install-recommends gromacs)"
            log(msg)
            for variant in args.gmx_runs:
                result["records"].append(record("gromacs", None, FTASE + " (protein only)", None,
                                                "amber99sb-ildn", "vacuum in a periodic box", variant, 0,
                                                args.threads, None, "", status="failed", error=msg))
        else:
            workdir = args.keep or tempfile.mkdtemp(prefix="md_reference_gmx_")
            os.makedirs(workdir, exist_ok=True)
            prepared = []
            try:
                prep_error = None
                for variant in args.gmx_runs:
                    if prep_error:  # preparation failed: the other variants would fail the same way
                        rec = dict(result["records"][-1], nonbonded=variant,
                                   error="skipped, preparation failed: " + prep_error)
                    else:
                        log("gromacs %s ..." % variant)
                        rec = run_gromacs(gmx, variant, args, args.data_dir, workdir, prepared)
                        log("  -> %s ns/day (%s steps in %s s)" % (rec["ns_per_day"], rec["steps"],
                                                                    rec["wall_s"]))
                        if rec["status"] != "ok" and not prepared:
                            prep_error = rec.get("error", "")
                    result["records"].append(rec)
            finally:
                if not args.keep:
                    shutil.rmtree(workdir, ignore_errors=True)

    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["total_wall_s"] = round(time.perf_counter() - t_start, 1)
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
        log("wrote %s" % args.out)
    else:
        print(text)
    failed = [r for r in result["records"] if r["status"] != "ok"]
    log("%d records, %d failed, total %.0f s" % (len(result["records"]), len(failed), result["total_wall_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
