#!/bin/sh
# Per-rank wrapper (topobench): this rank's GPU (CUDA_VISIBLE_DEVICES), NIC
# (UCX_NET_DEVICES; NCCL_IB_HCA where a node needs its own list) and CPU binding
# (numactl, else taskset) from the recommended placement, with nccl.env beside
# it loaded first (TOPOBENCH_NO_NCCL_ENV=1 skips it). Then runs the program:
#   mpirun ... ./topobench-bind.sh APP ARGS      srun ... ./topobench-bind.sh APP ARGS
# The local rank comes from the launcher (Open MPI, Slurm, MPICH, PMI).
here=$(cd "$(dirname "$0")" && pwd)
lr=${OMPI_COMM_WORLD_LOCAL_RANK:-${SLURM_LOCALID:-${MPI_LOCALRANKID:-${PMI_LOCAL_RANK:-}}}}
if [ -z "$lr" ]; then
    echo "topobench-bind.sh: no local rank in the environment (not started by mpirun or srun?)" >&2
    exit 2
fi
if [ "${TOPOBENCH_NO_NCCL_ENV:-0}" != 1 ] && [ -f "$here/nccl.env" ]; then
    set -a; . "$here/nccl.env"; set +a
fi
host=$(hostname)
gpu= nic= numa= cpus=
case "$host" in
    *)
        case "$lr" in
        0) nic=mlx5_0:1 numa=0 cpus=0-3 ;;  # NUMA 0 (cores 0-3); NIC mlx5_0 port 1
        *) echo "topobench-bind.sh: $host has no plan for local rank $lr (1 planned)" >&2; exit 2 ;;
        esac
        ;;
esac
[ -n "$gpu" ] && export CUDA_VISIBLE_DEVICES="$gpu"
[ -n "$nic" ] && export UCX_NET_DEVICES="$nic"
if [ -n "$cpus" ] && command -v numactl >/dev/null 2>&1; then
    exec numactl --physcpubind="$cpus" --localalloc "$@"
elif [ -n "$cpus" ] && command -v taskset >/dev/null 2>&1; then
    exec taskset -c "$cpus" "$@"
fi
exec "$@"
