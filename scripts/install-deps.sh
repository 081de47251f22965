#!/usr/bin/env bash
# Installs what topobench needs to build and test on Debian 12 (run as root).
# The CUDA toolkit with NCCL is optional and not a Debian package: when it is in its
# standard location the build uses it, otherwise the GPU parts are left out.
set -euo pipefail
packages=(
  build-essential cmake pkgconf git
  libopenmpi-dev openmpi-bin
  libhwloc-dev hwloc
  libjansson-dev libxml2-dev libxml2-utils
  libibverbs-dev rdma-core libucx-dev
  iproute2 util-linux procps python3 time bc
  netpipe-openmpi
  clang libclang-rt-14-dev
  chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Another apt or dpkg may hold the package lock (unattended-upgrades on a fresh machine, a
# second install in parallel): wait for it, up to TB_APT_LOCK_TIMEOUT seconds (default 10
# minutes), instead of failing at once. apt applies the timeout to the dpkg lock and to the
# package lists' lock of `apt-get update`.
lock_timeout=${TB_APT_LOCK_TIMEOUT:-600}
case $lock_timeout in
  '' | *[!0-9]*) echo "install-deps: TB_APT_LOCK_TIMEOUT='$lock_timeout': expected seconds" >&2; exit 2 ;;
esac
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "install-deps: installing ${missing[*]} (waiting up to ${lock_timeout}s for a held package lock)"
  apt-get -o DPkg::Lock::Timeout="$lock_timeout" update -qq
  apt-get -o DPkg::Lock::Timeout="$lock_timeout" install -y -qq "${missing[@]}"
fi
