/* topo's public header: one node's topology as a graph of plain structs, shared by every
 * source (live discovery, hwloc XML, NCCL topology XML, nvidia-smi topo -m text), and the
 * model computed from it (path classes, expected bandwidth, locality, findings).
 *
 * Other modules include only this header; hwloc.h, libxml2 and verbs stay inside topo/.
 *
 * The graph is a tree plus extra links. Every object has a parent (-1 for the root
 * machine object) that follows the hardware hierarchy: machine > package > NUMA node >
 * host bridge > PCIe switches/bridges > devices. The edge to the parent is the PCIe (or
 * inter-socket) link, described by the child's `link` fields. NVLinks, xGMI links and
 * NVSwitch connections are extra entries in `links`, not part of the tree. */
#ifndef TB_TOPO_H
#define TB_TOPO_H

#include <stddef.h>

#include "status.h"

typedef enum tb_topo_kind {
    TB_OBJ_MACHINE,
    TB_OBJ_PACKAGE,    /* CPU socket */
    TB_OBJ_NUMA,
    TB_OBJ_HOSTBRIDGE, /* PCIe root complex */
    TB_OBJ_BRIDGE,     /* one PCIe switch (or PCI-PCI bridge); root and downstream ports fold */
    TB_OBJ_GPU,
    TB_OBJ_NIC,        /* one NIC PCI function; ports below it in tb_topo_obj_t.ports */
    TB_OBJ_NVSWITCH,
    TB_OBJ_PCIDEV,     /* any other PCI device (NVMe, ...) */
    TB_OBJ_KIND_COUNT
} tb_topo_kind_t;

typedef enum tb_link_kind {
    TB_LINK_PCIE,
    TB_LINK_NVLINK,
    TB_LINK_XGMI,
    TB_LINK_SOCKET, /* inter-socket (UPI, xGMI between CPUs, X-Bus) */
    TB_LINK_NET,    /* network port */
    /* Not a physical link: a path class the source states for a pair of endpoints
     * (nvidia-smi topo -m has classes but no PCIe tree). `cls` holds the class, `count`
     * the NV# count, `p2p` the topo -p2p status. tb_topo_path() consults these first. */
    TB_LINK_GIVEN,
    TB_LINK_KIND_COUNT
} tb_link_kind_t;

/* Path classes in the vocabulary of nvidia-smi topo -m and NCCL, ordered nearest first. */
typedef enum tb_path_class {
    TB_PATH_SELF, /* X */
    TB_PATH_NV,   /* NV# : NVLink (direct or through NVSwitch) */
    TB_PATH_PIX,  /* at most one PCIe switch between them */
    TB_PATH_PXB,  /* several PCIe switches, no host bridge */
    TB_PATH_PHB,  /* through a PCIe host bridge */
    TB_PATH_NODE, /* across host bridges within one NUMA node */
    TB_PATH_SYS,  /* across NUMA nodes / the inter-socket link */
    TB_PATH_NET,  /* across the network */
    TB_PATH_UNKNOWN,
    TB_PATH_COUNT
} tb_path_class_t;

#define TB_TOPO_NAME_LEN 96
#define TB_TOPO_MAX_PORTS 4

typedef struct tb_topo_port {
    int num;                 /* port number, 1-based as in verbs */
    char state[16];          /* ACTIVE, DOWN, INIT, ... ("" = unknown) */
    char phys_state[16];     /* LinkUp, Polling, Disabled, ... */
    char link_layer[16];     /* InfiniBand, Ethernet */
    double rate_gbps;        /* active rate, Gb/s (bits); 0 = unknown */
    double max_rate_gbps;    /* best rate the port supports, 0 = unknown */
    char netdev[32];         /* interface behind the port (ib0, eth2) */
    int has_rocev2_gid;      /* Ethernet ports: a RoCE v2 GID exists */
    int rocev2_gid_index;    /* first RoCE v2 GID with an IPv4 address, -1 none */
    /* Added for live discovery (hwloc osdev infos, verbs, sysfs). */
    int lid;                 /* InfiniBand LID, 0 unknown/none */
    int ngids;               /* non-zero GIDs in the table */
    int nrocev1_gids;        /* GIDs of type RoCE v1 (Ethernet ports) */
    int nrocev2_gids;        /* GIDs of type RoCE v2 */
    int gids_typed;          /* the source read the GID types (verbs, sysfs; hwloc does not) */
} tb_topo_port_t;

/* What a source did not state but a rule derived (docs/topology.md, "Inferred values"):
 * bits of tb_topo_obj_t.inferred and tb_topo_link_t.inferred, shown in the text output
 * with a '*' and in JSON as an "inferred" list. */
#define TB_INF_NUMA 0x01u       /* obj: NUMA node taken from a neighbour, not stated */
#define TB_INF_LINK 0x02u       /* obj: PCIe generation/width from a GB/s figure (hwloc) */
#define TB_INF_LINK_MAX 0x04u   /* obj: maximum generation from the switch's other ports */
#define TB_INF_LINK_LAYER 0x08u /* obj: port link layer from PCI class, LID or address */
#define TB_INF_COUNT 0x10u      /* link: link count from GB/s / per-link rate of the model */
#define TB_INF_VERSION 0x20u    /* link: NVLink version from the GPU model name */

typedef struct tb_topo_obj {
    tb_topo_kind_t kind;
    int parent;                  /* index in tb_topo_t.objs, -1 for the root */
    char name[TB_TOPO_NAME_LEN]; /* "GPU0", "mlx5_0", "NUMA1", "Package0", switch id */
    char model[TB_TOPO_NAME_LEN];/* "NVIDIA H100 80GB HBM3", "ConnectX-7", CPU model */
    char busid[32];              /* PCI bus id "0000:1b:00.0", "" when not PCI */
    char uuid[64];               /* GPU UUID when known */
    int os_index;                /* package / NUMA / GPU index, -1 unknown */
    int numa;                    /* NUMA node the object hangs below, -1 unknown */
    char cpuset[128];            /* near cores as a list "0-23,48-71", "" unknown */
    unsigned long long memory_bytes; /* NUMA node memory, 0 unknown */
    /* Link to the parent (PCIe: generation and width; current and maximum). */
    int link_gen, link_width, link_max_gen, link_max_width;
    double link_gbs;             /* usable per-direction GB/s reported by the source, 0 unknown */
    /* GPUs: NVLink count the model expects, from the GPU model name (0 unknown). */
    int nvlink_expected;
    /* NICs. */
    int nports;
    tb_topo_port_t ports[TB_TOPO_MAX_PORTS];
    char firmware[48];
    char driver[48];
    unsigned inferred;           /* TB_INF_* bits */
} tb_topo_obj_t;

typedef struct tb_topo_link {
    tb_link_kind_t kind;
    int a, b;      /* object indices; for NVLink to the CPU b is the package */
    int count;     /* parallel links (NVLinks, lanes are in link_width) */
    int version;   /* NVLink version, 0 unknown */
    double gbs;    /* per-direction GB/s summed over count, 0 = derive from the table */
    int active;    /* 0 when the source says the link is down */
    /* TB_LINK_GIVEN only. */
    int cls;       /* tb_path_class_t, TB_PATH_UNKNOWN when only p2p is given */
    int p2p;       /* -1 not stated, 0 no P2P (GNS, CNS, ...), 1 OK */
    unsigned inferred; /* TB_INF_COUNT, TB_INF_VERSION */
} tb_topo_link_t;

/* A network interface of the host (sysfs /sys/class/net), physical or not: NCCL_SOCKET_IFNAME
 * advice needs to know which interfaces are docker bridges, veths or loopback. */
typedef enum tb_netif_kind {
    TB_NETIF_PHYSICAL, /* backed by a device (PCI NIC, virtio, IPoIB child) */
    TB_NETIF_VIRTUAL,  /* veth, tun/tap, macvlan: no device behind it */
    TB_NETIF_BRIDGE,   /* Linux bridge (docker0, br-*, virbr0) */
    TB_NETIF_LOOPBACK,
    TB_NETIF_BOND, /* bonding master: carried by its slaves' devices */
    TB_NETIF_VLAN, /* 802.1Q VLAN: carried by its parent's device */
    TB_NETIF_KIND_COUNT
} tb_netif_kind_t;

#define TB_TOPO_MAX_NETIFS 64

typedef struct tb_topo_netif {
    char name[32];
    char operstate[16];  /* up, down, unknown, ... as sysfs says */
    int speed_mbps;      /* -1 unknown (down links and virtual interfaces) */
    int mtu;             /* 0 unknown */
    tb_netif_kind_t kind;
    char busid[32];      /* PCI bus id of the device behind it, "" none */
    char address[32];    /* MAC (or IPoIB hardware address, truncated) */
    char ipv4[16];       /* first IPv4 address (live discovery only), "" none */
} tb_topo_netif_t;

/* A GPU pair without peer-to-peer access (NVML P2P read status), for the no_p2p finding. */
typedef struct tb_topo_p2p {
    int a, b;           /* GPU object indices, a < b */
    char reason[32];    /* "gpu_not_supported", "chipset_not_supported", ... */
} tb_topo_p2p_t;

#define TB_TOPO_MAX_P2P 128

/* A finding that needs no benchmark: a degraded link, a down port, ... */
typedef enum tb_finding_severity { TB_SEV_INFO, TB_SEV_WARN, TB_SEV_ERROR } tb_finding_severity_t;

typedef struct tb_topo_finding {
    tb_finding_severity_t severity;
    char code[32];     /* stable identifier: "pcie_degraded", "nvlink_down", ... */
    char object[TB_TOPO_NAME_LEN];
    char message[256];
} tb_topo_finding_t;

/* One node's topology. Created by a source, then completed by tb_topo_model_build(). */
typedef struct tb_topo {
    char hostname[64];
    char source[32];       /* "live", "hwloc-xml", "nccl-xml", "nvidia-smi" */
    char source_file[256]; /* file it came from, "" for live */
    char cpu_model[TB_TOPO_NAME_LEN];
    int cpu_pcie_gen;      /* PCIe generation of the CPU's root ports, 0 unknown
                            * (tb_topo_cpu_pcie_gen; caps the links of devices on them) */
    char driver_version[32];
    size_t nobjs, cap_objs;
    tb_topo_obj_t *objs;
    size_t nlinks, cap_links;
    tb_topo_link_t *links;
    size_t nfindings, cap_findings;
    tb_topo_finding_t *findings;
    /* What each discovery source did or why it was skipped ("hwloc: 2 packages",
     * "nvml: libnvidia-ml.so.1 not found"). */
    size_t nnotes;
    char notes[16][160];
    /* Added for live discovery. Fixed arrays so the lifetime code needs no change. */
    size_t nnetifs;                /* sysfs network interfaces */
    tb_topo_netif_t netifs[TB_TOPO_MAX_NETIFS];
    int p2p_checked;               /* NVML answered P2P queries for every GPU pair */
    size_t nno_p2p;                /* pairs without P2P (only meaningful when checked) */
    tb_topo_p2p_t no_p2p[TB_TOPO_MAX_P2P];
} tb_topo_t;

typedef enum tb_topo_format {
    TB_TOPO_FMT_AUTO,
    TB_TOPO_FMT_HWLOC_XML,
    TB_TOPO_FMT_NCCL_XML,
    TB_TOPO_FMT_NVSMI,
} tb_topo_format_t;

/* --- lifetime and building (topo.c) --- */
TB_NODISCARD tb_status_t tb_topo_create(tb_topo_t **topo_p);
void tb_topo_destroy(tb_topo_t *topo);
/* Appends an object (copied); returns its index or -1 on allocation failure. */
int tb_topo_add_obj(tb_topo_t *topo, const tb_topo_obj_t *obj);
int tb_topo_add_link(tb_topo_t *topo, const tb_topo_link_t *link);
void tb_topo_add_finding(tb_topo_t *topo, tb_finding_severity_t sev, const char *code,
                         const char *object, const char *fmt, ...) TB_PRINTF(5, 6);
void tb_topo_add_note(tb_topo_t *topo, const char *fmt, ...) TB_PRINTF(2, 3);
/* Fills an object with defaults (parent -1, numa -1, os_index -1, kind). */
void tb_topo_obj_init(tb_topo_obj_t *obj, tb_topo_kind_t kind);
const char *tb_topo_kind_name(tb_topo_kind_t kind);
const char *tb_path_class_name(tb_path_class_t cls);
const char *tb_netif_kind_name(tb_netif_kind_t kind); /* "physical", ... (sysfs.c) */

/* --- sources --- */
/* Live discovery of this node: hwloc, NVML (dlopen), libibverbs, sysfs. Each missing
 * source is recorded as a note, not an error. TOPOBENCH_SYSFS_ROOT redirects sysfs and
 * TOPOBENCH_NVML_LIB the NVML library, for tests. */
TB_NODISCARD tb_status_t tb_topo_discover(tb_topo_t **topo_p);
/* Imports a recorded topology; format sniffed from content unless given. Errors name the
 * file (and line where the format has lines) and return TB_ERR_INPUT. */
TB_NODISCARD tb_status_t tb_topo_import_file(const char *path, tb_topo_format_t format,
                                             tb_topo_t **topo_p);

/* --- the model (model.c) --- */
/* Computes derived facts (NUMA of each object, NVLink counts) and the findings that need
 * no benchmark. Call once after a source has filled the graph. */
TB_NODISCARD tb_status_t tb_topo_model_build(tb_topo_t *topo);

typedef struct tb_topo_path {
    tb_path_class_t cls;
    int nvlinks;              /* for TB_PATH_NV: links between the two (NV#) */
    int xgmi;                 /* TB_PATH_NV made of AMD xGMI links (printed XGMI#) */
    int given;                /* class stated by the source, not derived from a tree */
    int inferred;             /* the bottleneck's figure rests on an inferred value */
    double theoretical_gbs;   /* per direction */
    double achievable_gbs;    /* typically achieved */
    char bottleneck[64];      /* "PCIe Gen4 x16", "NVLink3 x12", "UPI" */
} tb_topo_path_t;

/* The link bandwidth table (model.c, REFERENCE.md section 3): per-direction GB/s,
 * theoretical and typically achieved, and a name for the link ("PCIe Gen4 x16").
 * Each returns 0 when the link is in the table, -1 (figures 0) when it is not. */
typedef struct tb_topo_bw {
    double theoretical_gbs;
    double achievable_gbs;
    char name[48];
} tb_topo_bw_t;
int tb_topo_bw_pcie(int gen, int width, tb_topo_bw_t *bw_p);
int tb_topo_bw_nvlink(int version, int count, tb_topo_bw_t *bw_p); /* version 0: 25/link */
int tb_topo_bw_net(double rate_gbps, const char *link_layer, tb_topo_bw_t *bw_p);
/* Inter-socket link as NCCL models it, from the CPU model text ("Sapphire Rapids",
 * "AuthenticAMD", "POWER9"). */
int tb_topo_bw_socket(const char *cpu_model, tb_topo_bw_t *bw_p);
/* PCIe generation of a transfer rate text: "16.0 GT/s PCIe", "8 GT/s" -> 4, 3; 0 unknown. */
int tb_topo_pcie_gen_of_rate(const char *text);
/* " (Sapphire Rapids)" and the like for an Intel family/model pair, "" when the
 * inter-socket table has nothing specific; appended to CPU model names so that every
 * source gets the same inter-socket figure. */
const char *tb_topo_cpu_generation(const char *vendor, long family, long model);
/* PCIe generation of a CPU's root ports from its x86 vendor, family and model (CPUID's
 * display family, or NCCL's family id, which adds the extended family shifted left by 4),
 * 0 unknown. The table and its sources are in docs/topology.md. */
int tb_topo_cpu_pcie_gen(const char *vendor, long family, long model);
/* NVLinks a GPU model has (A100 SXM 12, H100 SXM 18, A800 8, ...), 0 unknown / none;
 * and its NVLink version (0 unknown). */
int tb_topo_nvlink_expected(const char *gpu_model);
int tb_topo_nvlink_version(const char *gpu_model);
/* From an NVIDIA GPU's CUDA compute capability as NCCL writes it (sm="90"): its NVLink
 * generation (60 -> 1, 70/75 -> 2, 80 -> 3, 90 -> 4, 100/103 -> 5; 0 where it has none or
 * the rate differs from the table, as GA10x's narrower links) and its architecture's name
 * ("Blackwell"; NULL unknown). */
int tb_topo_nvlink_version_of_sm(int sm);
const char *tb_topo_gpu_arch_of_sm(int sm);

/* Path between two objects (GPU, NIC, package). */
void tb_topo_path(const tb_topo_t *topo, int a, int b, tb_topo_path_t *path_p);

/* Nearest NICs of a GPU (indices into objs), best path class first; returns count. */
size_t tb_topo_nearest_nics(const tb_topo_t *topo, int gpu, int *nics, size_t max);

/* Index of the object with this name (-1 when none), and how many findings carry `code`. */
int tb_topo_find(const tb_topo_t *topo, const char *name);
size_t tb_topo_count_findings(const tb_topo_t *topo, const char *code);

/* Count objects of one kind, and the index of the i-th one in graph order (-1 when out
 * of range). GPUs are in number order: the i-th GPU is GPU<i> when the driver's indices
 * are dense (docs/topology.md, "GPU numbering"); a GPU's parent may come after it. */
size_t tb_topo_count(const tb_topo_t *topo, tb_topo_kind_t kind);
int tb_topo_nth(const tb_topo_t *topo, tb_topo_kind_t kind, size_t i);

/* --- output (print.c, json.c) --- */
#include <stdio.h>
void tb_topo_print(const tb_topo_t *topo, FILE *out); /* matrices, locality, findings */
/* The model as a jansson object (json_t *), returned as void * so that users of this
 * header need not include jansson.h. NULL on allocation failure. */
void *tb_topo_to_json(const tb_topo_t *topo);

/* "info", "warning", "error": the severity words of findings in JSON (json.c). */
const char *tb_topo_severity_name(tb_finding_severity_t sev);

/* Heterogeneity across nodes: compares each topology with the majority shape and appends
 * findings ("fewer GPUs than the majority", "slower NIC", "different driver") to a jansson
 * array (json_t *). */
void tb_topo_compare_nodes(tb_topo_t *const *topos, size_t n, void *findings_json);

/* --- sysfs (sysfs.c) --- */
/* The sysfs root discovery reads: TOPOBENCH_SYSFS_ROOT when set (a recorded tree, for
 * tests), else "/sys". bench/verbs reads RDMA ports, GID tables and PCI config space
 * below the same root. */
const char *tb_topo_sysfs_root(void);
/* First line of <root>/<rel>, trailing whitespace removed; 0 when it could be read. */
int tb_topo_sysfs_read(const char *rel, char *buf, size_t len);
/* "00000000:1B:00.0" (NVML), "1b:00.0", "0000:1b:00.0" -> "0000:1b:00.0". */
void tb_topo_busid_normalize(const char *in, char *out, size_t len);

/* --- this process (binding.c) --- */
/* This process's CPU binding in hwloc list syntax ("0-3"), and whether it is narrower
 * than the whole machine. TB_ERR_ENV when hwloc cannot tell ("unknown", unbound). */
TB_NODISCARD tb_status_t tb_topo_binding(char *cpuset, size_t len, int *bound_p);
/* Whether two cpusets in list syntax share a processing unit. */
int tb_topo_cpusets_intersect(const char *a, const char *b);
/* The hwloc version topobench was built against. */
const char *tb_topo_hwloc_version(void);

/* `topobench topo [--from FILE] [--format F] [--json]`: returns a tb_status_t. */
TB_NODISCARD tb_status_t tb_topo_cmd(int argc, char **argv);

#endif
