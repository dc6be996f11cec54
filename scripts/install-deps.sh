#!/usr/bin/env bash
# Installs every Debian (bookworm) package that hemeplm's build, tests and examples need.
# Idempotent: packages already installed are skipped, and `apt-get update` runs at most once.
# Usage: scripts/install-deps.sh [--with-examples]   (as root, or with sudo available)
#   --with-examples  also installs the Python tools that regenerate inputs/ (RDKit, PeptideBuilder).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config ninja-build
  # MPI and parallel HDF5
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
  # LibTorch (CPU) and a fast BLAS for it (the OpenMP variant; the pthread one oversubscribes)
  libtorch-dev libopenblas0-openmp
  # Kokkos (from Trilinos), Boost, JSON, METIS
  libtrilinos-kokkos-dev libboost-program-options-dev libboost-dev nlohmann-json3-dev libmetis-dev
  # structure and ligand readers, with the headers gemmi needs but does not declare
  gemmi-dev librdkit-dev tao-pegtl-dev libstb-dev zlib1g-dev
  # trajectory import: GROMACS XTC/TRR through libgromacs
  libgromacs-dev
  # tests and benchmarks; MDAnalysis and h5py prove that other tools read our H5MD files
  libgtest-dev libgmock-dev libbenchmark-dev python3-mdanalysis python3-h5py python3-numpy
  # reference MD for training data (tools/reference_md.py): OpenMM, and Open Babel for GAFF ligand types
  python3-simtk libopenmm-plugins openbabel python3-openbabel
  # 'hemeplm evaluate' plots (metrics and report.html are written without it)
  python3-matplotlib
  # 'hemeplm annotate' ray-traced PNGs (pymol -cq; structure files and CSV are written without it)
  pymol
  # the one-node loopback Slurm that runs jobscripts/ in the tests (ctest label "slurm")
  slurm-wlm slurmctld slurmd slurm-client munge libpmix-dev
)
if [[ "${1:-}" == "--with-examples" ]]; then
  packages+=(python3-rdkit python3-peptidebuilder python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  SUDO="sudo"
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
