#!/usr/bin/env bash
# The virtual cluster: N "nodes" on this machine, each a network namespace with its own
# host name (a UTS namespace per process tree), joined by a Linux bridge that lives in a
# namespace of its own, so nothing of it is visible in (or routed from) the root
# namespace. MPI is launched from node 0 across the others through rsh-agent.sh, which
# enters a node's namespaces the way ssh would log into it. tc can shape one node's link
# in both directions to plant a known fault. See docs/vcluster.md.
#
# As a library (sourced):            As a driver:
#   . tests/vcluster/vcluster.sh       bash tests/vcluster/vcluster.sh [-n N] [-s K:RATE]
#   vc_create 3                             [-- MPIRUN-ARGS...]   (default: hostname)
#   vc_shape 2 200mbit                 bash tests/vcluster/vcluster.sh --reap
#   vc_mpirun [MPIRUN-ARGS...] PROG ARGS...
#   vc_destroy  (also run by the EXIT/INT/TERM trap that vc_create installs)
#
# Names carry a per-run tag (owner pid + random), so concurrent runs never collide; the
# subnet is drawn per run from 10.128.0.0/9. Needs root, iproute2 (ip, tc), util-linux
# (unshare), Open MPI's mpirun.

VC_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VC_PREFIX=tbvc # every namespace this code creates starts with this
VC_TAG=""
VC_DIR=""
VC_N=0
VC_BR_NS=""
VC_NS=()
VC_HOSTS=()
VC_IPS=()
VC_SUBNET=""

vc_log() { echo "vcluster: $*" >&2; }

# vc_check: can this machine host a virtual cluster? Prints the reason and returns 1 if not.
vc_check() {
    local t
    if [ "$(id -u)" != 0 ]; then echo "needs root (network namespaces, tc)"; return 1; fi
    for t in ip tc unshare mpirun hostname; do
        command -v "$t" >/dev/null 2>&1 || { echo "'$t' is not installed"; return 1; }
    done
    t="${VC_PREFIX}probe$$"
    if ! ip netns add "$t" 2>/dev/null; then echo "cannot create network namespaces"; return 1; fi
    if ! ip -n "$t" link add vcbr type bridge 2>/dev/null ||
        ! ip -n "$t" link add vca type veth peer name vcb 2>/dev/null ||
        ! ip -n "$t" link set vca up 2>/dev/null ||
        ! tc -n "$t" qdisc add dev vca root tbf rate 100mbit burst 32kb latency 50ms 2>/dev/null; then
        ip netns del "$t" 2>/dev/null
        echo "bridge, veth or tbf unavailable in network namespaces (kernel modules?)"
        return 1
    fi
    if ! ip netns exec "$t" unshare --uts sh -c 'hostname vcprobe' 2>/dev/null; then
        ip netns del "$t" 2>/dev/null
        echo "cannot enter a namespace with its own host name (unshare --uts)"
        return 1
    fi
    ip netns del "$t"
}

# A /24 in 10.128.0.0/9 that no route of the root namespace covers (the cluster is
# isolated anyway; this only keeps the addresses unambiguous in logs).
vc_pick_subnet() {
    local i a b
    for i in $(seq 1 50); do
        a=$((128 + RANDOM % 128))
        b=$((RANDOM % 256))
        if ! ip route show | grep -q "^10\.$a\.$b\."; then
            echo "10.$a.$b"
            return 0
        fi
    done
    return 1
}

# vc_wait_up NS DEV: waits up to 5 s for DEV's operational state to be "up".
vc_wait_up() {
    local i
    for i in $(seq 1 50); do
        [ "$(ip netns exec "$1" cat "/sys/class/net/$2/operstate" 2>/dev/null)" = up ] && return 0
        sleep 0.1
    done
    return 1
}

# vc_create N: builds the cluster, writes $VC_DIR/{hosts,hostfile}, installs the cleanup
# trap. Node k: namespace ${VC_PREFIX}<tag>n<k>, host name node<k>, address .(k+1). The
# links' MTU is $VC_MTU (default 1500).
vc_create() {
    local n=${1:-3} k net
    VC_N=$n
    VC_TAG="$$x$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')"
    VC_DIR=$(mktemp -d "/tmp/topobench-vcluster.$VC_TAG.XXXXXX") || return 1
    mkdir -p "$VC_DIR/tmp"
    trap 'vc_destroy' EXIT
    trap 'vc_destroy; trap - INT; kill -INT $$' INT
    trap 'vc_destroy; trap - TERM; kill -TERM $$' TERM
    net=$(vc_pick_subnet) || { vc_log "no free subnet"; return 1; }
    VC_SUBNET="$net.0/24"
    VC_BR_NS="${VC_PREFIX}${VC_TAG}br"
    ip netns add "$VC_BR_NS" || return 1
    ip -n "$VC_BR_NS" link add br0 type bridge || return 1
    # No STP and no forwarding delay: ports forward at once.
    ip -n "$VC_BR_NS" link set br0 type bridge stp_state 0 forward_delay 0 2>/dev/null
    ip -n "$VC_BR_NS" link set br0 up || return 1
    : >"$VC_DIR/hosts"
    : >"$VC_DIR/hostfile"
    for k in $(seq 0 $((n - 1))); do
        VC_NS[k]="${VC_PREFIX}${VC_TAG}n$k"
        VC_HOSTS[k]="node$k"
        VC_IPS[k]="$net.$((k + 1))"
        ip netns add "${VC_NS[k]}" || return 1
        # Created inside the bridge namespace, the node end moved straight into the node:
        # no interface ever appears in the root namespace.
        ip -n "$VC_BR_NS" link add "p$k" type veth peer name eth0 netns "${VC_NS[k]}" || return 1
        ip -n "$VC_BR_NS" link set "p$k" mtu "${VC_MTU:-1500}" master br0 up || return 1
        ip -n "${VC_NS[k]}" link set lo up || return 1
        ip -n "${VC_NS[k]}" addr add "${VC_IPS[k]}/24" dev eth0 || return 1
        ip -n "${VC_NS[k]}" link set eth0 mtu "${VC_MTU:-1500}" up || return 1
        echo "${VC_HOSTS[k]} ${VC_NS[k]} ${VC_IPS[k]}" >>"$VC_DIR/hosts"
        echo "${VC_HOSTS[k]} slots=1" >>"$VC_DIR/hostfile"
    done
    # Ports forward at once without STP, but the veths take a moment to report carrier:
    # wait until every port and node end is up before anyone connects.
    for k in $(seq 0 $((n - 1))); do
        if ! vc_wait_up "$VC_BR_NS" "p$k" || ! vc_wait_up "${VC_NS[k]}" eth0; then
            vc_log "node$k: link did not come up"
            return 1
        fi
    done
    vc_log "$n nodes, subnet $VC_SUBNET, tag $VC_TAG, files in $VC_DIR"
}

# vc_shape K RATE [BURST] [LATENCY]: token bucket on both ends of node K's link, so both
# directions are limited (tc shapes egress only: the node's eth0 limits what it sends,
# the bridge port p<K> limits what it receives). The queue is kept short (20 ms): the
# TCP acknowledgements of the other direction share it, and behind 100 ms of queued data
# they slow the incoming flow down measurably.
vc_shape() {
    local k=$1 rate=$2 burst=${3:-64kb} lat=${4:-20ms}
    tc -n "${VC_NS[k]}" qdisc replace dev eth0 root tbf rate "$rate" burst "$burst" latency "$lat" &&
        tc -n "$VC_BR_NS" qdisc replace dev "p$k" root tbf rate "$rate" burst "$burst" latency "$lat" &&
        vc_log "node$k shaped to $rate both ways (burst $burst, latency $lat)"
}

# vc_exec K CMD...: runs CMD on node K (its network namespace and host name), under
# timeout(1) when VC_TIMEOUT (seconds) is set.
vc_exec() {
    local k=$1 t=()
    shift
    [ -n "${VC_TIMEOUT:-}" ] && t=(timeout --kill-after=10 "$VC_TIMEOUT")
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    "${t[@]}" ip netns exec "${VC_NS[k]}" unshare --uts sh -c 'hostname "$0" && exec "$@"' "${VC_HOSTS[k]}" "$@"
}

# The mpirun options that keep MPI on the cluster's subnet over TCP: ob1 with tcp,self
# (one rank per node, so no shared memory to use), UCX and OFI never opened, no tree
# spawn (the agent runs where mpirun is), session files in this run's directory.
vc_mpirun_opts() {
    printf '%s\n' --hostfile "$VC_DIR/hostfile" --oversubscribe \
        --mca plm_rsh_agent "$VC_HERE/rsh-agent.sh" --mca plm_rsh_no_tree_spawn 1 \
        --mca routed direct \
        --mca pml ob1 --mca btl tcp,self --mca osc ^ucx --mca mtl ^ofi,psm,psm2 \
        --mca btl_tcp_if_include "$VC_SUBNET" --mca oob_tcp_if_include "$VC_SUBNET" \
        --mca orte_tmpdir_base "$VC_DIR/tmp" --mca btl_base_warn_component_unused 0
}

# vc_mpirun [MPIRUN-ARGS...]: mpirun started on node 0, one rank per node by default
# (VC_NP ranks, default N, placed with --map-by VC_MAP, default node).
vc_mpirun() {
    local opts
    mapfile -t opts < <(vc_mpirun_opts)
    TOPOBENCH_VCLUSTER_HOSTS="$VC_DIR/hosts" TMPDIR="$VC_DIR/tmp" \
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        OMPI_MCA_pml=ob1 OMPI_MCA_mpi_yield_when_idle=1 \
        vc_exec 0 mpirun "${opts[@]}" -np "${VC_NP:-$VC_N}" --map-by "${VC_MAP:-node}" "$@" &
    # Waiting on a background job instead of running it in the foreground lets the
    # INT/TERM trap run at once (bash defers traps until a foreground command ends).
    wait $!
}

# Kills what still runs in namespace $1 (only processes inside our own namespaces):
# TERM, up to 3 s for them to go (mpirun takes its daemons down), then KILL.
vc_kill_ns() {
    local ns=$1 sig i pids
    for sig in TERM KILL; do
        for i in $(seq 1 30); do
            pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
            [ -n "$pids" ] || return 0
            # shellcheck disable=SC2086
            [ "$i" = 1 ] && kill -s "$sig" $pids 2>/dev/null
            sleep 0.1
        done
    done
}

# vc_destroy: stray processes, namespaces (their veths and the bridge go with them), the
# run's directory. Safe to call twice and on a half-built cluster.
vc_destroy() {
    local ns
    [ -n "$VC_TAG" ] || return 0
    for ns in "${VC_NS[@]}" "$VC_BR_NS"; do
        [ -n "$ns" ] || continue
        vc_kill_ns "$ns"
        ip netns del "$ns" 2>/dev/null
    done
    [ -n "$VC_DIR" ] && rm -rf "$VC_DIR"
    vc_log "removed cluster $VC_TAG"
    VC_TAG=""
    VC_NS=()
    VC_BR_NS=""
}

# vc_reap: removes what runs killed with SIGKILL left behind: namespaces and directories
# of ours whose owner process (the pid in the tag) is gone.
vc_reap() {
    local ns pid d
    for ns in $(ip netns list | awk '{print $1}' | grep "^${VC_PREFIX}[0-9]*x"); do
        pid=${ns#"$VC_PREFIX"}
        pid=${pid%%x*}
        if ! kill -0 "$pid" 2>/dev/null; then
            vc_kill_ns "$ns"
            ip netns del "$ns" && vc_log "reaped $ns"
        fi
    done
    for d in /tmp/topobench-vcluster.*; do
        [ -d "$d" ] || continue
        pid=${d#/tmp/topobench-vcluster.}
        pid=${pid%%x*}
        kill -0 "$pid" 2>/dev/null || { rm -rf "$d" && vc_log "reaped $d"; }
    done
}

vc_main() {
    local n=3 shape="" rc
    while [ $# -gt 0 ]; do
        case $1 in
            -n) n=$2; shift 2 ;;
            -s) shape=$2; shift 2 ;;
            --reap) vc_reap; return 0 ;;
            --) shift; break ;;
            -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}"; return 0 ;;
            *) break ;;
        esac
    done
    if ! rc=$(vc_check); then vc_log "$rc"; return 77; fi
    vc_create "$n" || return 1
    if [ -n "$shape" ]; then vc_shape "${shape%%:*}" "${shape#*:}" || return 1; fi
    if [ $# -eq 0 ]; then set -- hostname; fi
    vc_mpirun "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    vc_main "$@"
    exit $?
fi
