#!/usr/bin/env bash
# Installs what topobench needs to build and test on Debian 12 (run as root).
# The CUDA toolkit with NCCL is optional and not a Debian package: when it is in its
# standard location the build uses it, otherwise the GPU parts are left out.
set -euo pipefail
packages=(
  build-essential cmake pkgconf git
  libopenmpi-dev openmpi-bin
  libhwloc-dev hwloc
  libjansson-dev libxml2-dev
  libibverbs-dev rdma-core libucx-dev
  iproute2 util-linux procps python3 time
  netpipe-openmpi
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
