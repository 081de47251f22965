#!/usr/bin/env bash
# rsh agent of the virtual cluster (mpirun --mca plm_rsh_agent): "logs in" to a node the
# way ssh would, by entering the node's network namespace with a fresh UTS namespace that
# carries the node's host name, and runs the command line there through sh (as ssh hands
# its joined arguments to the remote shell; Open MPI quotes for that).
# Usage: rsh-agent.sh [-options...] HOST COMMAND...
# HOST is a node name or address from $TOPOBENCH_VCLUSTER_HOSTS, written by vcluster.sh
# with one "name namespace address" line per node.
set -u
map=${TOPOBENCH_VCLUSTER_HOSTS:?rsh-agent.sh: TOPOBENCH_VCLUSTER_HOSTS is not set}
# ssh-style options that Open MPI may put before the host (-x, -n, -o X): no meaning here.
while [ $# -gt 0 ]; do
    case $1 in
        -o | -l | -p) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
host=${1:?rsh-agent.sh: no host}
shift
[ $# -gt 0 ] || { echo "rsh-agent.sh: no command for $host" >&2; exit 2; }
line=$(awk -v h="$host" '$1 == h || $3 == h { print $1, $2; exit }' "$map")
if [ -z "$line" ]; then
    echo "rsh-agent.sh: unknown host '$host' (not in $map)" >&2
    exit 255
fi
name=${line%% *}
ns=${line#* }
# shellcheck disable=SC2016 # $0 and $* are the inner shell's
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec sh -c "$*"' "$name" "$@"
