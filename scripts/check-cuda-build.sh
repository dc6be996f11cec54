#!/usr/bin/env bash
# Configures, compiles and links the CUDA + NCCL build (--preset cuda). Where no GPU exists it only
# proves the build; `hemeplm info --devices` then reports that no device is usable, and nothing runs
# on a GPU. Skips (exit 0, with a message) when nvcc is absent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
  echo "check-cuda-build: /usr/local/cuda/bin/nvcc not found; CUDA build not checked"
  exit 0
fi
start=$(date +%s)
cmake --preset cuda -DHEMEPLM_BUILD_TESTS=OFF -DHEMEPLM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset cuda --target hemeplm
echo "check-cuda-build: CUDA/NCCL build compiled and linked in $(($(date +%s) - start)) s"
build/cuda/bin/hemeplm --version
build/cuda/bin/hemeplm info --devices
