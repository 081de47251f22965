/* What the verbs tests decide before they touch an HCA, with no verbs or MPI call, so every
 * decision is unit-tested from recorded inputs (tests/data/sysfs_rdma):
 *   - which HCA port a rank uses: `--hca dev[:port]`, else the RDMA NIC nearest the rank's
 *     GPU (or its cores) in the node's topology;
 *   - which GID a RoCE port uses: the RoCE v2 entry with an IPv4-mapped address by default
 *     (NCCL_IB_GID_INDEX's advice), `--gid-index` to override; InfiniBand routes by LID;
 *   - whether PCIe ACS redirects peer traffic on the GPU-NIC path (config space, extended
 *     capability 0x000D, where sysfs lets us read past the first 256 bytes);
 *   - the queue sizes a port handle asks for, within the device's caps;
 *   - what a failed registration or queue creation means (the locked-memory limit);
 *   - whether two ports can connect (link layer, GID family);
 *   - who is to blame when a transfer of a ring round fails;
 *   - the GPUDirect RDMA verdict from what the test found (docs/verbs.md).
 * Everything is read below tb_topo_sysfs_root() (TOPOBENCH_SYSFS_ROOT in tests). */
#ifndef TB_BENCH_VERBS_SETUP_H
#define TB_BENCH_VERBS_SETUP_H

#include <stddef.h>

#include "status.h"
#include "topo.h"

#define TB_VERBS_DEV_LEN 64
#define TB_VERBS_MAX_GIDS 128

/* `--hca mlx5_0:1` (port 1 when omitted). TB_ERR_USAGE, logged, for anything else. */
TB_NODISCARD tb_status_t tb_verbs_hca_parse(const char *spec, char *dev, size_t len, int *port_p);

/* RDMA devices under <root>/class/infiniband, sorted, as one text "mlx5_0, mlx5_1" ("" when
 * none); returns the count. */
size_t tb_verbs_devices_list(char *buf, size_t len);

typedef struct tb_verbs_gid {
    int index;
    unsigned char raw[16];
    char type[16]; /* "IB/RoCE v1", "RoCE v2" (gid_attrs/types), "" unknown */
    char ndev[32]; /* netdev of the entry (gid_attrs/ndevs), "" none */
} tb_verbs_gid_t;

typedef struct tb_verbs_port_info {
    char dev[TB_VERBS_DEV_LEN];
    int port;
    char link_layer[16]; /* InfiniBand, Ethernet */
    int state;           /* 4 = ACTIVE (the verbs enum); 0 unknown */
    int lid;
    int has_ndevs; /* the kernel publishes gid_attrs/ndevs */
    size_t ngids;  /* non-zero entries, index order */
    tb_verbs_gid_t gids[TB_VERBS_MAX_GIDS];
} tb_verbs_port_info_t;

/* Reads one port from sysfs. TB_ERR_USAGE when the device or port does not exist (the
 * message names it and lists the devices there are). */
TB_NODISCARD tb_status_t tb_verbs_port_read(const char *dev, int port, tb_verbs_port_info_t *info);

typedef struct tb_verbs_gid_choice {
    int index;     /* -1: InfiniBand, routed by LID without a GRH */
    int roce_v2;   /* the entry is RoCE v2 */
    int ipv4;      /* its address is IPv4-mapped (::ffff:a.b.c.d) */
    char why[192]; /* how it was chosen, for the document */
} tb_verbs_gid_choice_t;

/* The GID a port's QPs use. `want` >= 0 (--gid-index): that entry, TB_ERR_USAGE when the
 * table has none there. Otherwise InfiniBand: -1 (LID); Ethernet (RoCE): the first RoCE v2
 * entry with an IPv4-mapped address, then RoCE v2 with a global IPv6 address, then any RoCE
 * v2, then RoCE v1; only entries bound to a netdev where the kernel says which. TB_ERR_ENV
 * when an Ethernet port has no usable entry. */
TB_NODISCARD tb_status_t tb_verbs_gid_choose(const tb_verbs_port_info_t *info, int want,
                                             tb_verbs_gid_choice_t *c);

/* The RDMA NIC port for a rank, from its node's topology: the NIC nearest the GPU with bus
 * id `gpu_busid` (NULL or "": none), else one whose NUMA node holds the rank's cores
 * (`cpuset`, hwloc list syntax), else any; NICs with an ACTIVE port first; ties spread
 * over local ranks (local_rank modulo their number). TB_ERR_ENV when the topology has no
 * RDMA NIC. `why` says which rule chose it ("nearest GPU0 (PIX)"). */
TB_NODISCARD tb_status_t tb_verbs_nic_nearest(const tb_topo_t *topo, const char *gpu_busid,
                                              const char *cpuset, int local_rank, char *dev,
                                              size_t len, int *port_p, char *why, size_t wlen);

/* --- queues, errors, peers --- */

/* Queue sizes of a port handle of `nqps` QPs with `depth` (--tx-depth) send work requests
 * each: *rx_depth_p receives per QP, max(512, 2 x depth) within the device's `max_qp_wr`, so
 * a sender never finds the receive queue empty (an RNR NAK stalls it 0.64 ms); *cqe_p, a
 * completion queue holding every completion at once, nqps x (depth + rx_depth) + 16, within
 * `max_cqe` (the receive depth gives way first, down to depth). TB_ERR_USAGE when --tx-depth
 * exceeds max_qp_wr or the CQ cannot fit: `why` names the option and the cap; nothing
 * logged. */
TB_NODISCARD tb_status_t tb_verbs_queue_sizes(const char *dev, int nqps, int depth, int max_qp_wr,
                                              int max_cqe, int *rx_depth_p, int *cqe_p, char *why,
                                              size_t wlen);

/* The status of a failed memory registration, CQ or QP creation (`what`) with errno `err`:
 * ENOMEM and EPERM are, more often than not, the locked-memory limit (ulimit -l, small under
 * many Slurm and container setups): TB_ERR_ENV, `why` "<what>: <error> (errno N);
 * RLIMIT_MEMLOCK is X KiB (ulimit -l)" (`memlock` the soft limit in bytes, negative:
 * unlimited); anything else TB_ERR_INTERNAL with the same text without the limit. Nothing
 * logged. */
TB_NODISCARD tb_status_t tb_verbs_errno_status(int err, const char *what, long long memlock,
                                               char *why, size_t wlen);
/* This process's RLIMIT_MEMLOCK soft limit in bytes; -1 unlimited or unknown. */
long long tb_verbs_memlock(void);

/* Whether our port can reach the peer's: the same link layer (`roce`: Ethernet; a RoCE port
 * cannot reach an InfiniBand one, ibv_modify_qp(RTR) says only "Invalid argument"), and on
 * RoCE GIDs of the same family (an IPv4-mapped GID cannot reach an IPv6-only one: the
 * transfer ends in "retry exceeded"). TB_OK, or TB_ERR_ENV with `why` (names --gid-index). */
TB_NODISCARD tb_status_t tb_verbs_peer_compat(int my_roce, const unsigned char my_gid[16],
                                              int my_gid_index, int their_roce,
                                              const unsigned char their_gid[16],
                                              int their_gid_index, char *why, size_t wlen);

/* --- ring rounds: who failed --- */

/* One node's part of a ring round of shift d: its own transfer (an RDMA write to, or read
 * from, node (i + d) % n) failed, and the error it saw. */
typedef struct tb_verbs_ring_node {
    int failed;
    char host[64];
    char why[256];
} tb_verbs_ring_node_t;

typedef enum tb_verbs_ring_part {
    TB_RING_FINE,    /* nothing failed anywhere */
    TB_RING_BLAMED,  /* this node is the likely culprit */
    TB_RING_STOPPED, /* a transfer failed elsewhere (or this node's, counted against its peer) */
} tb_verbs_ring_part_t;

/* Node `me`'s part in a ring round from every node's outcome (`nodes`, `n` of them, shift
 * `d`; `read`: the initiator reads from its target). A failed completion is seen by the
 * initiator but is more often the fault of the target's side (its incoming path, its
 * memory), so: a node whose transfers both ways failed is blamed; so is the target of a
 * failed transfer whose initiator is not blamed; everyone else is stopped. `why` says which
 * pair failed with the error seen (BLAMED), or which pair stopped the ring (STOPPED); ""
 * for FINE. */
tb_verbs_ring_part_t tb_verbs_ring_judge(const tb_verbs_ring_node_t *nodes, int n, int d, int me,
                                         int read, char *why, size_t wlen);

/* --- PCIe Access Control Services --- */

#define TB_PCI_EXT_CAP_ACS 0x000d
/* ACS control bits that send peer-to-peer traffic up to the root complex. */
#define TB_ACS_RR 0x0004 /* P2P request redirect */
#define TB_ACS_CR 0x0008 /* P2P completion redirect */
#define TB_ACS_EC 0x0020 /* P2P egress control */

typedef struct tb_pci_acs {
    int found;          /* the device has the ACS extended capability */
    unsigned cap, ctrl; /* its capability and control registers */
    int redirect;       /* ctrl has RR, CR or EC set */
} tb_pci_acs_t;

/* Parses a config space dump (`len` bytes from offset 0, as sysfs's `config` file gives
 * it). Returns -1 when the extended space (from 0x100) is not in the dump (sysfs gives
 * only 64 bytes to an unprivileged reader), 0 otherwise (*acs says whether ACS is there).
 * A malformed capability chain (a loop, a pointer below 0x100) ends the walk. */
int tb_pci_acs_parse(const unsigned char *cfg, size_t len, tb_pci_acs_t *acs);

typedef struct tb_pci_acs_path {
    int nbridges;       /* PCI bridges on the path (excluding the two devices) */
    int nredirect;      /* bridges with ACS redirect enabled */
    int nunreadable;    /* bridges whose extended config space could not be read */
    char redirect[256]; /* their bus ids, "0000:02:00.0 (ctrl 0x001d), ..." */
    char unreadable[256];
} tb_pci_acs_path_t;

/* The bridges between two PCI devices (from the device links' targets below
 * <root>/bus/pci/devices) and their ACS control. TB_ERR_ENV when a device is not there. */
TB_NODISCARD tb_status_t tb_pci_acs_path(const char *busid_a, const char *busid_b,
                                         tb_pci_acs_path_t *path);

/* --- the GPUDirect RDMA verdict --- */

typedef enum tb_gdr_reg {
    TB_GDR_REG_UNTRIED = 0,
    TB_GDR_REG_OK,
    TB_GDR_REG_UNSUPPORTED, /* the driver, kernel or HCA says no (not an error of ours) */
    TB_GDR_REG_ERROR,       /* the registration call failed: errno / CUDA error in `why` */
} tb_gdr_reg_t;

/* What the gdr test found for one node's GPU-NIC pair. */
typedef struct tb_gdr_inputs {
    char host[64], gpu[32], nic[TB_VERBS_DEV_LEN];
    int have_nic; /* an RDMA port was opened */
    char no_nic_why[192];
    int have_gpu; /* a CUDA device was usable */
    char no_gpu_why[256];
    int peermem_loaded; /* nvidia_peermem or nv_peer_mem loaded; -1 unknown */
    tb_gdr_reg_t dmabuf, peermem;
    int dmabuf_errno, peermem_errno;
    char dmabuf_why[192], peermem_why[192];
    char path_class[8]; /* GPU-NIC path class (PIX, PXB, PHB, NODE, SYS); "" unknown */
    tb_pci_acs_path_t acs;
    int acs_checked;
    double gdr_gbps, host_gbps; /* RDMA write bandwidth, GPU and host memory; 0 not measured */
    double gdr_read_gbps, host_read_gbps; /* RDMA read bandwidth, the same */
    char not_measured[192];               /* why the bandwidths are 0 */
    int transfer_failed;                  /* registration worked, the RDMA transfer did not */
    char transfer_why[192];
} tb_gdr_inputs_t;

#define TB_GDR_MAX_REASONS 6
typedef struct tb_gdr_verdict {
    int works;
    char method[16]; /* dmabuf, peermem; "" */
    double ratio;    /* gdr / host bandwidth; 0 not measured */
    size_t nreasons; /* why not, or the warnings that go with a "works" */
    struct {
        char code[32]; /* no_rdma_device, no_gpu, dmabuf_unsupported, dmabuf_error,
                        * module_not_loaded, peermem_error, acs_redirect, path_far,
                        * transfer_error, acs_unreadable */
        char text[320];
    } reasons[TB_GDR_MAX_REASONS];
    char line[512]; /* "gdr: works (dmabuf), 23.10 GB/s = 97% of host-memory RDMA" */
} tb_gdr_verdict_t;

/* Host-memory RDMA bandwidth a GPU buffer reaches over a GPU-NIC path through the CPU
 * (REFERENCE.md §3: IB HDR, GPU buffer with path SYS ~11 GB/s against ~23-24 GB/s for
 * host memory): the expected penalty of a far path, stated in the verdict. */
#define TB_GDR_FAR_EXPECTED_RATIO (11.0 / 23.5)

void tb_gdr_verdict_decide(const tb_gdr_inputs_t *in, tb_gdr_verdict_t *v);

/* One ring of the gdr test into the node's inputs: this node's `part` of it and its text.
 * GPU memory (`gpu`): BLAMED is a transfer_error; STOPPED a bandwidth not measured. Host
 * memory: either is a host-memory bandwidth not measured (the GPU verdict does not depend
 * on it). FINE changes nothing. */
void tb_gdr_ring_result(tb_gdr_inputs_t *in, int gpu, tb_verbs_ring_part_t part, const char *text);

/* The verdict with its inputs as a jansson object (json_t *; docs/results-schema.md). */
void *tb_gdr_verdict_to_json(const tb_gdr_inputs_t *in, const tb_gdr_verdict_t *v);

/* Whether a peer-memory client is loaded (nvidia_peermem, or MLNX_OFED's older
 * nv_peer_mem): <root>/module/NAME, and /proc/modules when the root is the live /sys. */
int tb_gdr_peermem_loaded(void);

#endif
