#!/usr/bin/env bash
# Install the Debian packages marginfall needs, only those that are missing.
#   scripts/install-deps.sh          build and run (compiler, CMake, Open MPI, HDF5, libyaml)
#   scripts/install-deps.sh --test   also what the test suite needs (Python stack, Slurm, clang
#                                    for the libFuzzer harness)
set -euo pipefail

packages=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
          hdf5-tools libyaml-dev libcriterion-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3-h5py python3-numpy python3-scipy python3-yaml python3-pandas
             python3-matplotlib python3-xarray python3-h5netcdf python3-pytest jupyter-nbconvert
             python3-ipykernel slurm-wlm munge
             clang-14 libclang-rt-14-dev)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if (( ${#missing[@]} == 0 )); then
  exit 0
fi

echo "Installing missing Debian packages: ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q -o DPkg::Lock::Timeout=600 >&2
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 \
  "${missing[@]}" >&2
