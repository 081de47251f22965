/* The verbs tests' decisions from recorded inputs (verbs_setup.h): HCA port and GID
 * choice, the NIC nearest a rank, PCIe ACS on the GPU-NIC path, the GPUDirect verdict. */
#define _DEFAULT_SOURCE /* realpath */
#include "verbs_setup.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "log.h"

/* Appends `text` to a bounded buffer (cut when full). */
static void append(char *buf, size_t len, const char *sep, const char *text)
{
    size_t n = strlen(buf);
    if (n + 1 < len)
        snprintf(buf + n, len - n, "%s%s", n ? sep : "", text);
}

tb_status_t tb_verbs_hca_parse(const char *spec, char *dev, size_t len, int *port_p)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    size_t n = colon ? (size_t)(colon - spec) : (spec ? strlen(spec) : 0);
    long port = 1;
    if (n == 0 || n >= len || n >= TB_VERBS_DEV_LEN || strchr(spec, '/'))
        return tb_error(TB_ERR_USAGE, "--hca '%s': expected DEVICE[:PORT], e.g. mlx5_0:1",
                        spec ? spec : "");
    if (colon) {
        char *end;
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || port < 1 || port > 255)
            return tb_error(TB_ERR_USAGE, "--hca '%s': the port after ':' must be a number 1-255",
                            spec);
    }
    memcpy(dev, spec, n);
    dev[n] = '\0';
    *port_p = (int)port;
    return TB_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t tb_verbs_devices_list(char *buf, size_t len)
{
    char path[PATH_MAX], *names[64];
    size_t n = 0;
    DIR *d;
    struct dirent *e;
    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/class/infiniband", tb_topo_sysfs_root());
    if (!(d = opendir(path)))
        return 0;
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.' && (names[n] = strdup(e->d_name)))
            n++;
    closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);
    for (size_t i = 0; i < n; i++) {
        append(buf, len, ", ", names[i]);
        free(names[i]);
    }
    return n;
}

tb_status_t tb_verbs_port_read(const char *dev, int port, tb_verbs_port_info_t *info)
{
    char rel[512], val[128], devs[512];
    struct stat sb;
    char path[PATH_MAX];

    memset(info, 0, sizeof(*info));
    snprintf(info->dev, sizeof(info->dev), "%s", dev);
    info->port = port;
    snprintf(path, sizeof(path), "%s/class/infiniband/%s/ports/%d", tb_topo_sysfs_root(), dev,
             port);
    if (stat(path, &sb) != 0) {
        size_t n = tb_verbs_devices_list(devs, sizeof(devs));
        snprintf(path, sizeof(path), "%s/class/infiniband/%s", tb_topo_sysfs_root(), dev);
        if (stat(path, &sb) != 0)
            return tb_error(TB_ERR_USAGE, "--hca %s: no RDMA device '%s' on this node (%s%s)", dev,
                            dev, n ? "it has: " : "it has none", devs);
        return tb_error(TB_ERR_USAGE, "--hca %s:%d: %s has no port %d", dev, port, dev, port);
    }
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/link_layer", dev, port);
    if (tb_topo_sysfs_read(rel, val, sizeof(val)) == 0)
        snprintf(info->link_layer, sizeof(info->link_layer), "%s", val);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/state", dev, port);
    if (tb_topo_sysfs_read(rel, val, sizeof(val)) == 0)
        info->state = atoi(val);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/lid", dev, port);
    if (tb_topo_sysfs_read(rel, val, sizeof(val)) == 0)
        info->lid = (int)strtol(val, NULL, 0);
    snprintf(path, sizeof(path), "%s/class/infiniband/%s/ports/%d/gid_attrs/ndevs",
             tb_topo_sysfs_root(), dev, port);
    info->has_ndevs = stat(path, &sb) == 0;
    /* The table is dense in the kernel (gids/0..N-1); unused slots read as zero. */
    for (int i = 0; i < 4096 && info->ngids < TB_VERBS_MAX_GIDS; i++) {
        tb_verbs_gid_t *g = &info->gids[info->ngids];
        int zero = 1;
        snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/gids/%d", dev, port, i);
        if (tb_topo_sysfs_read(rel, val, sizeof(val)) != 0)
            break;
        memset(g, 0, sizeof(*g));
        if (inet_pton(AF_INET6, val, g->raw) != 1)
            continue;
        for (int k = 0; k < 16; k++)
            zero &= g->raw[k] == 0;
        if (zero)
            continue;
        g->index = i;
        snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/gid_attrs/types/%d", dev, port, i);
        if (tb_topo_sysfs_read(rel, val, sizeof(val)) == 0)
            snprintf(g->type, sizeof(g->type), "%s", val);
        snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/gid_attrs/ndevs/%d", dev, port, i);
        if (tb_topo_sysfs_read(rel, val, sizeof(val)) == 0)
            snprintf(g->ndev, sizeof(g->ndev), "%s", val);
        info->ngids++;
    }
    return TB_OK;
}

static int gid_ipv4(const unsigned char *raw)
{
    static const unsigned char v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(raw, v4, sizeof(v4)) == 0;
}

static int gid_link_local(const unsigned char *raw)
{
    return raw[0] == 0xfe && (raw[1] & 0xc0) == 0x80;
}

tb_status_t tb_verbs_gid_choose(const tb_verbs_port_info_t *info, int want,
                                tb_verbs_gid_choice_t *c)
{
    static const char *const rule[] = {
        "RoCE v2 with an IPv4-mapped address", "RoCE v2 with a global IPv6 address", "RoCE v2",
        "RoCE v1 with an IPv4-mapped address (no RoCE v2 entry)", "RoCE v1 (no RoCE v2 entry)"};
    int ib = strcmp(info->link_layer, "Ethernet") != 0;
    const tb_verbs_gid_t *best = NULL;
    int best_rank = 5;

    memset(c, 0, sizeof(*c));
    c->index = -1;
    if (want >= 0) {
        for (size_t i = 0; i < info->ngids; i++)
            if (info->gids[i].index == want)
                best = &info->gids[i];
        if (!best)
            return tb_error(TB_ERR_USAGE,
                            "--gid-index %d: %s port %d has no GID %d (%zu "
                            "non-zero entries%s)",
                            want, info->dev, info->port, want, info->ngids,
                            info->ngids ? "; see its gids/ directory" : "");
        c->index = want;
        c->roce_v2 = strstr(best->type, "v2") != NULL;
        c->ipv4 = gid_ipv4(best->raw);
        snprintf(c->why, sizeof(c->why), "--gid-index %d (%s%s)", want,
                 best->type[0] ? best->type : "type unknown", c->ipv4 ? ", IPv4" : "");
        return TB_OK;
    }
    if (ib) {
        snprintf(c->why, sizeof(c->why), "InfiniBand: routed by LID %d, no GRH", info->lid);
        return TB_OK;
    }
    for (size_t i = 0; i < info->ngids; i++) {
        const tb_verbs_gid_t *g = &info->gids[i];
        int r;
        if (info->has_ndevs && !g->ndev[0])
            continue; /* an entry of no interface: the kernel will not route it */
        if (strstr(g->type, "v2"))
            r = gid_ipv4(g->raw) ? 0 : !gid_link_local(g->raw) ? 1 : 2;
        else if (strstr(g->type, "v1"))
            r = gid_ipv4(g->raw) ? 3 : 4;
        else
            continue;
        if (r < best_rank) {
            best_rank = r;
            best = g;
        }
    }
    if (!best)
        return tb_error(TB_ERR_ENV,
                        "%s port %d (RoCE): no GID entry usable for RoCE (%zu "
                        "non-zero entries, none typed RoCE v1/v2%s)",
                        info->dev, info->port, info->ngids,
                        info->has_ndevs ? " and bound to a netdev" : "");
    c->index = best->index;
    c->roce_v2 = best_rank <= 2;
    c->ipv4 = gid_ipv4(best->raw);
    snprintf(c->why, sizeof(c->why), "RoCE: first %s, GID %d%s%s", rule[best_rank], best->index,
             best->ndev[0] ? " on " : "", best->ndev);
    return TB_OK;
}

/* --- the NIC nearest a rank --- */

static int nic_active_port(const tb_topo_obj_t *nic)
{
    for (int i = 0; i < nic->nports; i++)
        if (!strcmp(nic->ports[i].state, "ACTIVE"))
            return nic->ports[i].num;
    return 0;
}

static int find_gpu(const tb_topo_t *topo, const char *busid)
{
    char want[32], have[32];
    tb_topo_busid_normalize(busid, want, sizeof(want));
    for (size_t i = 0; i < topo->nobjs; i++) {
        if (topo->objs[i].kind != TB_OBJ_GPU || !topo->objs[i].busid[0])
            continue;
        tb_topo_busid_normalize(topo->objs[i].busid, have, sizeof(have));
        if (!strcmp(want, have))
            return (int)i;
    }
    return -1;
}

static const char *numa_cpuset(const tb_topo_t *topo, int numa)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].kind == TB_OBJ_NUMA && topo->objs[i].os_index == numa)
            return topo->objs[i].cpuset;
    return "";
}

tb_status_t tb_verbs_nic_nearest(const tb_topo_t *topo, const char *gpu_busid, const char *cpuset,
                                 int local_rank, char *dev, size_t len, int *port_p, char *why,
                                 size_t wlen)
{
    int cand[64], ncand = 0, nics[64], gpu = -1, pick, active;
    size_t nnic;
    tb_path_class_t best = TB_PATH_UNKNOWN;

    if (gpu_busid && gpu_busid[0])
        gpu = find_gpu(topo, gpu_busid);
    if (gpu >= 0 && (nnic = tb_topo_nearest_nics(topo, gpu, nics, 64)) > 0) {
        /* Nearest first; an ACTIVE port beats a nearer NIC whose ports are down. */
        for (int pass = 0; pass < 2 && !ncand; pass++) {
            for (size_t i = 0; i < nnic; i++) {
                tb_topo_path_t p;
                if (pass == 0 && !nic_active_port(&topo->objs[nics[i]]))
                    continue;
                tb_topo_path(topo, gpu, nics[i], &p);
                if (ncand && p.cls != best)
                    break;
                best = p.cls;
                cand[ncand++] = nics[i];
            }
        }
        pick = cand[local_rank % ncand];
        snprintf(why, wlen, "nearest RDMA NIC to %s (%s%s%s)", topo->objs[gpu].name,
                 tb_path_class_name(best), ncand > 1 ? ", one of several: local rank modulo" : "",
                 nic_active_port(&topo->objs[pick]) ? "" : "; no ACTIVE port");
    } else {
        const char *rule = "any RDMA NIC";
        for (int pass = 0; pass < 4 && !ncand; pass++) {
            for (size_t i = 0; i < topo->nobjs && ncand < 64; i++) {
                const tb_topo_obj_t *o = &topo->objs[i];
                int near;
                if (o->kind != TB_OBJ_NIC || !o->nports)
                    continue;
                near = cpuset && cpuset[0] && o->numa >= 0 &&
                       tb_topo_cpusets_intersect(cpuset, numa_cpuset(topo, o->numa));
                /* pass 0: near and active; 1: active; 2: near; 3: any */
                if ((pass == 0 || pass == 2) && !near)
                    continue;
                if (pass < 2 && !nic_active_port(o))
                    continue;
                cand[ncand++] = (int)i;
                rule = pass % 2 == 0 ? "RDMA NIC on the NUMA node of the rank's cores"
                                     : "any RDMA NIC (none on the rank's NUMA node)";
            }
        }
        if (!ncand)
            return tb_error(TB_ERR_ENV, "no RDMA NIC in this node's topology");
        pick = cand[local_rank % ncand];
        snprintf(why, wlen, "%s%s%s", rule, ncand > 1 ? ", one of several: local rank modulo" : "",
                 nic_active_port(&topo->objs[pick]) ? "" : "; no ACTIVE port");
    }
    active = nic_active_port(&topo->objs[pick]);
    snprintf(dev, len, "%s", topo->objs[pick].name);
    *port_p = active                              ? active
              : topo->objs[pick].ports[0].num > 0 ? topo->objs[pick].ports[0].num
                                                  : 1;
    return TB_OK;
}

/* --- queues, errors, peers --- */

tb_status_t tb_verbs_queue_sizes(const char *dev, int nqps, int depth, int max_qp_wr, int max_cqe,
                                 int *rx_depth_p, int *cqe_p, char *why, size_t wlen)
{
    long long rx = depth * 2 > 512 ? depth * 2 : 512, cqe;
    if (max_qp_wr > 0 && depth > max_qp_wr) {
        snprintf(why, wlen, "--tx-depth %d: %s allows at most %d work requests per QP (max_qp_wr)",
                 depth, dev, max_qp_wr);
        return TB_ERR_USAGE;
    }
    if (max_qp_wr > 0 && rx > max_qp_wr)
        rx = max_qp_wr;
    cqe = (long long)nqps * (depth + rx) + 16;
    if (max_cqe > 0 && cqe > max_cqe) {
        /* Fewer receives first: a send test needs only depth of them posted. */
        rx = ((long long)max_cqe - 16) / nqps - depth;
        if (rx < depth) {
            snprintf(why, wlen,
                     "--qps %d with --tx-depth %d need a completion queue of %lld entries; %s "
                     "allows %d (max_cqe)",
                     nqps, depth, (long long)nqps * 2 * depth + 16, dev, max_cqe);
            return TB_ERR_USAGE;
        }
        cqe = (long long)nqps * (depth + rx) + 16;
    }
    *rx_depth_p = (int)rx;
    *cqe_p = (int)cqe;
    return TB_OK;
}

tb_status_t tb_verbs_errno_status(int err, const char *what, long long memlock, char *why,
                                  size_t wlen)
{
    char lim[64];
    if (err != ENOMEM && err != EPERM) {
        snprintf(why, wlen, "%s: %s (errno %d)", what, strerror(err), err);
        return TB_ERR_INTERNAL;
    }
    if (memlock < 0)
        snprintf(lim, sizeof(lim), "unlimited");
    else
        snprintf(lim, sizeof(lim), "%lld KiB", memlock / 1024);
    snprintf(why, wlen, "%s: %s (errno %d); RLIMIT_MEMLOCK is %s (ulimit -l)", what, strerror(err),
             err, lim);
    return TB_ERR_ENV;
}

long long tb_verbs_memlock(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_MEMLOCK, &r) != 0 || r.rlim_cur == RLIM_INFINITY)
        return -1;
    return (long long)r.rlim_cur;
}

static int gid_ipv4(const unsigned char *raw);

tb_status_t tb_verbs_peer_compat(int my_roce, const unsigned char my_gid[16], int my_gid_index,
                                 int their_roce, const unsigned char their_gid[16],
                                 int their_gid_index, char *why, size_t wlen)
{
    if (my_roce != their_roce) {
        snprintf(why, wlen,
                 "link layers differ: this port is %s, the peer's %s (a RoCE port cannot reach "
                 "an InfiniBand one; choose ports of one fabric with --hca)",
                 my_roce ? "RoCE (Ethernet)" : "InfiniBand",
                 their_roce ? "RoCE (Ethernet)" : "InfiniBand");
        return TB_ERR_ENV;
    }
    if (my_roce && my_gid_index >= 0 && their_gid_index >= 0 &&
        gid_ipv4(my_gid) != gid_ipv4(their_gid)) {
        snprintf(why, wlen,
                 "GID families differ: this port's GID %d is %s, the peer's GID %d %s (choose "
                 "entries of one family with --gid-index)",
                 my_gid_index, gid_ipv4(my_gid) ? "IPv4-mapped" : "IPv6", their_gid_index,
                 gid_ipv4(their_gid) ? "IPv4-mapped" : "IPv6");
        return TB_ERR_ENV;
    }
    return TB_OK;
}

/* --- ring rounds --- */

static int ring_blamed(const tb_verbs_ring_node_t *nodes, int n, int d, int i)
{
    int pred = ((i - d) % n + n) % n, ppred = ((pred - d) % n + n) % n;
    int in = nodes[pred].failed, both = nodes[i].failed && in;
    int pred_both = nodes[pred].failed && nodes[ppred].failed;
    return both || (in && !pred_both);
}

tb_verbs_ring_part_t tb_verbs_ring_judge(const tb_verbs_ring_node_t *nodes, int n, int d, int me,
                                         int read, char *why, size_t wlen)
{
    int succ = (me + d) % n, pred = ((me - d) % n + n) % n, first = -1, count = 0;
    const char *verb = read ? "RDMA read" : "RDMA write";
    why[0] = '\0';
    for (int i = 0; i < n; i++)
        if (nodes[i].failed) {
            count++;
            if (first < 0)
                first = i;
        }
    if (first < 0)
        return TB_RING_FINE;
    if (ring_blamed(nodes, n, d, me)) {
        if (nodes[me].failed)
            snprintf(why, wlen,
                     "this node's transfers failed both ways: its %s %s %s (node %d): %s; the %s "
                     "of %s (node %d) %s it: %s",
                     verb, read ? "from" : "to", nodes[succ].host, succ, nodes[me].why, verb,
                     nodes[pred].host, pred, read ? "from" : "into", nodes[pred].why);
        else
            snprintf(why, wlen, "the %s %s %s (node %d) %s this node failed: %s", verb,
                     read ? "by" : "from", nodes[pred].host, pred, read ? "from" : "into",
                     nodes[pred].why);
        return TB_RING_BLAMED;
    }
    if (nodes[me].failed)
        snprintf(why, wlen,
                 "ring stopped: this node's %s %s %s (node %d) failed, counted against that node: "
                 "%s",
                 verb, read ? "from" : "to", nodes[succ].host, succ, nodes[me].why);
    else
        snprintf(why, wlen, "ring stopped: the %s %s (node %d) -> %s (node %d) failed%s: %s", verb,
                 nodes[first].host, first, nodes[(first + d) % n].host, (first + d) % n,
                 count > 1 ? " (and others)" : "", nodes[first].why);
    return TB_RING_STOPPED;
}

/* --- ACS --- */

int tb_pci_acs_parse(const unsigned char *cfg, size_t len, tb_pci_acs_t *acs)
{
    unsigned off = 0x100;
    memset(acs, 0, sizeof(*acs));
    if (len < 0x104)
        return -1;
    for (int hops = 0; off >= 0x100 && off + 8 <= len && hops < 512; hops++) {
        unsigned h = (unsigned)cfg[off] | (unsigned)cfg[off + 1] << 8 |
                     (unsigned)cfg[off + 2] << 16 | (unsigned)cfg[off + 3] << 24;
        if (h == 0 || h == 0xffffffffu)
            break;
        if ((h & 0xffff) == TB_PCI_EXT_CAP_ACS) {
            acs->found = 1;
            acs->cap = (unsigned)cfg[off + 4] | (unsigned)cfg[off + 5] << 8;
            acs->ctrl = (unsigned)cfg[off + 6] | (unsigned)cfg[off + 7] << 8;
            acs->redirect = (acs->ctrl & (TB_ACS_RR | TB_ACS_CR | TB_ACS_EC)) != 0;
            return 0;
        }
        off = (h >> 20) & 0xffc;
    }
    return 0;
}

/* "0000:1b:00.0" shaped path component. */
static int is_bdf(const char *s, size_t n)
{
    unsigned a, b, c, d;
    char tail;
    char buf[32];
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return sscanf(buf, "%4x:%2x:%2x.%1x%c", &a, &b, &c, &d, &tail) == 4 && n == 12;
}

/* The chain of PCI functions from the root down to `busid`, from the target of its
 * bus/pci/devices link. Returns the count (0: not found). */
static int pci_chain(const char *busid, char chain[][16], int max)
{
    char path[PATH_MAX], real[PATH_MAX], norm[32];
    const char *p;
    int n = 0;
    tb_topo_busid_normalize(busid, norm, sizeof(norm));
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", tb_topo_sysfs_root(), norm);
    if (!realpath(path, real))
        return 0;
    for (p = real; *p && n < max;) {
        const char *slash;
        size_t len;
        if (*p == '/')
            p++;
        slash = strchr(p, '/');
        len = slash ? (size_t)(slash - p) : strlen(p);
        if (is_bdf(p, len)) {
            memcpy(chain[n], p, len);
            chain[n++][len] = '\0';
        }
        p += len;
    }
    return n && !strcmp(chain[n - 1], norm) ? n : 0;
}

static int read_config(const char *bdf, unsigned char *buf, size_t cap, size_t *len_p)
{
    char path[PATH_MAX];
    FILE *f;
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", tb_topo_sysfs_root(), bdf);
    if (!(f = fopen(path, "rb")))
        return -1;
    *len_p = fread(buf, 1, cap, f);
    fclose(f);
    return 0;
}

tb_status_t tb_pci_acs_path(const char *busid_a, const char *busid_b, tb_pci_acs_path_t *path)
{
    char a[16][16], b[16][16];
    int na = pci_chain(busid_a, a, 16), nb = pci_chain(busid_b, b, 16), common = 0;
    memset(path, 0, sizeof(*path));
    if (!na || !nb)
        return tb_error(TB_ERR_ENV, "PCI device %s not under %s/bus/pci/devices",
                        !na ? busid_a : busid_b, tb_topo_sysfs_root());
    while (common < na - 1 && common < nb - 1 && !strcmp(a[common], b[common]))
        common++;
    /* The bridges of both chains, the shared ones once: the switch ports a peer transfer
     * crosses (ACS on the shared upstream ones cannot redirect it, but reading them costs
     * nothing and a root port's redirect matters when the path goes through it). */
    for (int side = 0; side < 2; side++) {
        char(*ch)[16] = side ? b : a;
        int n = side ? nb : na;
        for (int i = side ? common : 0; i < n - 1; i++) {
            unsigned char cfg[4096];
            size_t len = 0;
            tb_pci_acs_t acs;
            path->nbridges++;
            if (read_config(ch[i], cfg, sizeof(cfg), &len) != 0 ||
                tb_pci_acs_parse(cfg, len, &acs) != 0) {
                path->nunreadable++;
                append(path->unreadable, sizeof(path->unreadable), ", ", ch[i]);
                continue;
            }
            if (acs.redirect) {
                char one[64];
                snprintf(one, sizeof(one), "%s (ACS ctrl 0x%04x)", ch[i], acs.ctrl);
                path->nredirect++;
                append(path->redirect, sizeof(path->redirect), ", ", one);
            }
        }
    }
    return TB_OK;
}

/* --- the verdict --- */

/* The peer-memory client: nvidia_peermem (driver 465 and later), nv_peer_mem (the
 * MLNX_OFED-era module, still loaded on older installs). */
static const char *const peermem_modules[] = {"nvidia_peermem", "nv_peer_mem"};

int tb_gdr_peermem_loaded(void)
{
    char path[PATH_MAX], line[256];
    struct stat sb;
    FILE *f;
    int found = 0;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/module/%s", tb_topo_sysfs_root(), peermem_modules[i]);
        if (stat(path, &sb) == 0)
            return 1;
    }
    if (strcmp(tb_topo_sysfs_root(), "/sys") != 0 || !(f = fopen("/proc/modules", "r")))
        return 0;
    while (!found && fgets(line, sizeof(line), f))
        for (size_t i = 0; i < 2 && !found; i++) {
            size_t k = strlen(peermem_modules[i]);
            found = !strncmp(line, peermem_modules[i], k) && line[k] == ' ';
        }
    fclose(f);
    return found;
}

static void reason(tb_gdr_verdict_t *v, const char *code, const char *fmt, ...) TB_PRINTF(3, 4);
static void reason(tb_gdr_verdict_t *v, const char *code, const char *fmt, ...)
{
    va_list ap;
    if (v->nreasons >= TB_GDR_MAX_REASONS)
        return;
    snprintf(v->reasons[v->nreasons].code, sizeof(v->reasons[0].code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(v->reasons[v->nreasons].text, sizeof(v->reasons[0].text), fmt, ap);
    va_end(ap);
    v->nreasons++;
}

static int far_class(const char *cls)
{
    return !strcmp(cls, "PHB") || !strcmp(cls, "NODE") || !strcmp(cls, "SYS");
}

void tb_gdr_verdict_decide(const tb_gdr_inputs_t *in, tb_gdr_verdict_t *v)
{
    memset(v, 0, sizeof(*v));
    if (!in->have_nic) {
        int said = !strncmp(in->no_nic_why, "no RDMA device", 14);
        reason(v, "no_rdma_device", "%s%s%s", said ? "" : "no RDMA device",
               in->no_nic_why[0] && !said ? ": " : "", in->no_nic_why);
    } else if (!in->have_gpu) {
        reason(v, "no_gpu", "no GPU%s%s", in->no_gpu_why[0] ? ": " : "", in->no_gpu_why);
    } else {
        if (in->dmabuf == TB_GDR_REG_OK)
            snprintf(v->method, sizeof(v->method), "dmabuf");
        else if (in->peermem == TB_GDR_REG_OK)
            snprintf(v->method, sizeof(v->method), "peermem");
        if (!v->method[0]) {
            if (in->dmabuf == TB_GDR_REG_UNSUPPORTED)
                reason(v, "dmabuf_unsupported", "dma-buf unsupported by driver/kernel: %s",
                       in->dmabuf_why);
            else if (in->dmabuf == TB_GDR_REG_ERROR)
                reason(v, "dmabuf_error", "dma-buf registration error: %s (errno %d)",
                       in->dmabuf_why, in->dmabuf_errno);
            if (in->peermem_loaded == 0)
                reason(v, "module_not_loaded",
                       "nvidia_peermem not loaded (no /sys/module/nvidia_peermem or "
                       "nv_peer_mem, not in /proc/modules): ibv_reg_mr cannot pin GPU memory%s%s",
                       in->peermem == TB_GDR_REG_ERROR ? "; it failed: " : "",
                       in->peermem == TB_GDR_REG_ERROR ? in->peermem_why : "");
            else if (in->peermem == TB_GDR_REG_ERROR || in->peermem == TB_GDR_REG_UNSUPPORTED)
                reason(v, "peermem_error", "ibv_reg_mr on GPU memory failed: %s (errno %d)",
                       in->peermem_why, in->peermem_errno);
        } else if (in->transfer_failed) {
            reason(v, "transfer_error",
                   "registration (%s) worked but the RDMA transfer on GPU "
                   "memory failed: %s",
                   v->method, in->transfer_why);
        } else {
            v->works = 1;
        }
        if (in->acs_checked && in->acs.nredirect)
            reason(v, "acs_redirect",
                   "PCIe ACS redirect enabled on %s of the GPU-NIC path: peer traffic goes up "
                   "to the root complex (slow, or dropped under an IOMMU)",
                   in->acs.redirect);
        if (in->acs_checked && in->acs.nunreadable && !in->acs.nredirect)
            reason(v, "acs_unreadable",
                   "ACS not checked on %s: config space past 256 bytes not readable (run as "
                   "root)",
                   in->acs.unreadable);
        if (far_class(in->path_class))
            reason(v, "path_far",
                   "GPU-NIC path %s: %s slow: expect about %.0f%% of host-memory RDMA "
                   "(REFERENCE.md: HDR, GPU buffer over a SYS path ~11 of ~23-24 GB/s); NCCL "
                   "uses GDR there only with NCCL_NET_GDR_LEVEL",
                   in->path_class, v->works ? "works but" : "would be",
                   100.0 * TB_GDR_FAR_EXPECTED_RATIO);
    }
    if (v->works && in->gdr_gbps > 0 && in->host_gbps > 0) {
        v->ratio = in->gdr_gbps / in->host_gbps;
        snprintf(v->line, sizeof(v->line),
                 "gdr: works (%s), %.2f GB/s = %.0f%% of host-memory RDMA (%.2f GB/s)", v->method,
                 in->gdr_gbps, 100.0 * v->ratio, in->host_gbps);
    } else if (v->works && in->gdr_gbps > 0) {
        /* The host-memory ring failed or stopped: the GPU figure stands without a ratio. */
        snprintf(v->line, sizeof(v->line),
                 "gdr: works (%s), %.2f GB/s (host-memory RDMA not measured%s%s)", v->method,
                 in->gdr_gbps, in->not_measured[0] ? ": " : "", in->not_measured);
    } else if (v->works) {
        snprintf(v->line, sizeof(v->line), "gdr: works (%s), bandwidth not measured%s%s", v->method,
                 in->not_measured[0] ? ": " : "", in->not_measured);
    } else {
        snprintf(v->line, sizeof(v->line), "gdr: not available: %s",
                 v->nreasons ? v->reasons[0].text : "no registration path tried");
        for (size_t i = 1; i < v->nreasons; i++)
            if (strcmp(v->reasons[i].code, "path_far") &&
                strcmp(v->reasons[i].code, "acs_unreadable"))
                append(v->line, sizeof(v->line), "; ", v->reasons[i].text);
    }
}

void tb_gdr_ring_result(tb_gdr_inputs_t *in, int gpu, tb_verbs_ring_part_t part, const char *text)
{
    if (part == TB_RING_FINE)
        return;
    if (gpu && part == TB_RING_BLAMED) {
        in->transfer_failed = 1;
        snprintf(in->transfer_why, sizeof(in->transfer_why), "%s", text);
    } else {
        char one[sizeof(in->not_measured)];
        snprintf(one, sizeof(one), "%s%s", gpu ? "" : "host-memory ring: ", text);
        append(in->not_measured, sizeof(in->not_measured), "; ", one);
    }
}

static const char *reg_name(tb_gdr_reg_t r)
{
    static const char *const names[] = {"untried", "ok", "unsupported", "error"};
    return (unsigned)r < 4 ? names[r] : "untried";
}

void *tb_gdr_verdict_to_json(const tb_gdr_inputs_t *in, const tb_gdr_verdict_t *v)
{
    json_t *j = json_object(), *rs = json_array();
    for (size_t i = 0; i < v->nreasons; i++)
        json_array_append_new(
            rs, json_pack("{s:s, s:s}", "code", v->reasons[i].code, "text", v->reasons[i].text));
    json_object_set_new(j, "host", json_string(in->host));
    json_object_set_new(j, "gpu", in->gpu[0] ? json_string(in->gpu) : json_null());
    json_object_set_new(j, "nic", in->nic[0] ? json_string(in->nic) : json_null());
    json_object_set_new(j, "path", in->path_class[0] ? json_string(in->path_class) : json_null());
    json_object_set_new(j, "status", json_string(v->works ? "works" : "not_available"));
    json_object_set_new(j, "method", v->method[0] ? json_string(v->method) : json_null());
    json_object_set_new(j, "gdr_write_gbps",
                        in->gdr_gbps > 0 ? json_real(in->gdr_gbps) : json_null());
    json_object_set_new(j, "host_write_gbps",
                        in->host_gbps > 0 ? json_real(in->host_gbps) : json_null());
    json_object_set_new(j, "gdr_read_gbps",
                        in->gdr_read_gbps > 0 ? json_real(in->gdr_read_gbps) : json_null());
    json_object_set_new(j, "host_read_gbps",
                        in->host_read_gbps > 0 ? json_real(in->host_read_gbps) : json_null());
    json_object_set_new(j, "not_measured",
                        in->not_measured[0] ? json_string(in->not_measured) : json_null());
    json_object_set_new(j, "ratio", v->ratio > 0 ? json_real(v->ratio) : json_null());
    json_object_set_new(j, "reasons", rs);
    json_object_set_new(j, "line", json_string(v->line));
    json_object_set_new(j, "registration",
                        json_pack("{s:s, s:s, s:i}", "dmabuf", reg_name(in->dmabuf), "peermem",
                                  reg_name(in->peermem), "peermem_loaded", in->peermem_loaded));
    if (in->acs_checked)
        json_object_set_new(j, "acs",
                            json_pack("{s:i, s:i, s:i, s:s, s:s}", "bridges", in->acs.nbridges,
                                      "redirect", in->acs.nredirect, "unreadable",
                                      in->acs.nunreadable, "redirect_on", in->acs.redirect,
                                      "unreadable_on", in->acs.unreadable));
    return j;
}
