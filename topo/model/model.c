/* The topology model: the one link bandwidth table (REFERENCE.md section 3), path classes
 * and expected bandwidth between endpoints, nearest NICs, and the findings that need no
 * benchmark. Every source fills the same graph; this file only reads it (and completes
 * derived fields in tb_topo_model_build). The rules are written down in docs/topology.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topo_internal.h"

/* ---------------------------------------------------------------------------------------
 * The link bandwidth table. Per direction, GB/s = 1e9 bytes/s.
 * ------------------------------------------------------------------------------------- */

/* PCIe, per lane after line encoding: GT/s x 8b/10b (Gen1/2) or x 128b/130b (Gen3-5) / 8.
 * Gen6 uses PAM4 with 256-byte FLITs; REFERENCE.md gives ~121 GB/s for x16, i.e. 7.56 per
 * lane. Source: PCI-SIG base specifications as summarized in REFERENCE.md section 3
 * (Gen3 x16 15.75, Gen4 x16 31.5, Gen5 x16 63.0, Gen6 x16 ~121). The achieved share per
 * generation: Gen3 10-12 of 15.75 (we take 11, 70%), Gen4 ~26-27 of 31.5 (pinned H2D/D2H,
 * we take 26.5, 84%), Gen5 ~55 of 63 (88%); Gen1/2 have no figure in REFERENCE.md and
 * take Gen3's ratio, Gen6 has none published and takes Gen5's. */
static const struct {
    int gen;
    double lane_gbs;
    double achieved_ratio;
} pcie_table[] = {
    {1, 2.5 * 0.8 / 8, 11.0 / 15.75},
    {2, 5.0 * 0.8 / 8, 11.0 / 15.75},
    {3, 8.0 * 128 / 130 / 8, 11.0 / 15.75},
    {4, 16.0 * 128 / 130 / 8, 26.5 / 31.5},
    {5, 32.0 * 128 / 130 / 8, 55.0 / 63.0},
    {6, 121.0 / 16, 55.0 / 63.0},
};

int tb_topo_bw_pcie(int gen, int width, tb_topo_bw_t *bw_p)
{
    memset(bw_p, 0, sizeof(*bw_p));
    for (size_t i = 0; i < sizeof(pcie_table) / sizeof(pcie_table[0]); i++) {
        if (pcie_table[i].gen != gen || width <= 0)
            continue;
        bw_p->theoretical_gbs = pcie_table[i].lane_gbs * width;
        bw_p->achievable_gbs = bw_p->theoretical_gbs * pcie_table[i].achieved_ratio;
        snprintf(bw_p->name, sizeof(bw_p->name), "PCIe Gen%d x%d", gen, width);
        return 0;
    }
    snprintf(bw_p->name, sizeof(bw_p->name), "PCIe (speed unknown)");
    return -1;
}

/* NVLink per link and direction: NVLink1 (P100) 20 GB/s, NVLink2 (V100), 3 (A100) and
 * 4 (H100/H200) 25 GB/s, NVLink5 (B200/GB200) 50 GB/s (NVIDIA data sheets via
 * REFERENCE.md section 3). Achieved: NVLink3 p2p ~274 of 300 (91%), NVLink4 ~376 of 450
 * (83%), NVLink5 ~747 of 900 (83%); NVLink1/2 have no figure and take NVLink3's ratio.
 * Version 0 (unknown, e.g. nvidia-smi text) counts 25 GB/s per link, the most common. */
static const struct {
    int version;
    double link_gbs;
    double achieved_ratio;
} nvlink_table[] = {
    {0, 25.0, 274.0 / 300.0}, {1, 20.0, 274.0 / 300.0}, {2, 25.0, 274.0 / 300.0},
    {3, 25.0, 274.0 / 300.0}, {4, 25.0, 376.0 / 450.0}, {5, 50.0, 747.0 / 900.0},
};

int tb_topo_bw_nvlink(int version, int count, tb_topo_bw_t *bw_p)
{
    memset(bw_p, 0, sizeof(*bw_p));
    for (size_t i = 0; i < sizeof(nvlink_table) / sizeof(nvlink_table[0]); i++) {
        if (nvlink_table[i].version != version || count <= 0)
            continue;
        bw_p->theoretical_gbs = nvlink_table[i].link_gbs * count;
        bw_p->achievable_gbs = bw_p->theoretical_gbs * nvlink_table[i].achieved_ratio;
        if (version > 0)
            snprintf(bw_p->name, sizeof(bw_p->name), "NVLink%d x%d", version, count);
        else
            snprintf(bw_p->name, sizeof(bw_p->name), "NVLink x%d", count);
        return 0;
    }
    snprintf(bw_p->name, sizeof(bw_p->name), "NVLink");
    return -1;
}

/* Network ports: line rate in Gb/s / 8. Achieved per REFERENCE.md section 3: IB FDR
 * ~6.1 of 7 GB/s, EDR / 100GbE ~12 of 12.5, HDR / 200GbE ~23-24 of 25 (23.5), NDR / 400GbE
 * ~46-48 of 50 (47); XDR (800) has no figure and takes NDR's ratio, as does any other rate. */
static const struct {
    double gbps;
    const char *ib_name;
    double achieved_gbs;
} net_table[] = {
    {56, "IB FDR", 6.1}, {100, "IB EDR", 12.0}, {200, "IB HDR", 23.5},
    {400, "IB NDR", 47.0}, {800, "IB XDR", 800 / 8.0 * 47.0 / 50.0},
};

int tb_topo_bw_net(double rate_gbps, const char *link_layer, tb_topo_bw_t *bw_p)
{
    int ib = link_layer && strcmp(link_layer, "InfiniBand") == 0;
    memset(bw_p, 0, sizeof(*bw_p));
    if (!(rate_gbps > 0)) {
        snprintf(bw_p->name, sizeof(bw_p->name), "network (rate unknown)");
        return -1;
    }
    bw_p->theoretical_gbs = rate_gbps / 8;
    bw_p->achievable_gbs = bw_p->theoretical_gbs * 47.0 / 50.0;
    snprintf(bw_p->name, sizeof(bw_p->name), "%gGbE", rate_gbps);
    for (size_t i = 0; i < sizeof(net_table) / sizeof(net_table[0]); i++) {
        if (net_table[i].gbps != rate_gbps)
            continue;
        bw_p->achievable_gbs = net_table[i].achieved_gbs;
        if (ib)
            snprintf(bw_p->name, sizeof(bw_p->name), "%s", net_table[i].ib_name);
    }
    if (ib && strncmp(bw_p->name, "IB", 2) != 0)
        snprintf(bw_p->name, sizeof(bw_p->name), "IB %g Gb/s", rate_gbps);
    return 0;
}

/* Inter-socket links as NCCL's topology model rates them (REFERENCE.md section 3, NCCL
 * src/graph/topo.h): Skylake-class UPI 10 GB/s, Sapphire Rapids 22, Emerald Rapids 40,
 * AMD 16, POWER9 32. These are NCCL's planning figures, used for both columns. Matched on
 * the CPU model text the sources write (import_nccl.c names Intel models by family/model). */
static const struct {
    const char *match;
    const char *name;
    double gbs;
} socket_table[] = {
    {"Emerald Rapids", "inter-socket (UPI, Emerald Rapids)", 40},
    {"Sapphire Rapids", "inter-socket (UPI, Sapphire Rapids)", 22},
    {"Skylake", "inter-socket (UPI, Skylake)", 10},
    {"Cascade Lake", "inter-socket (UPI, Skylake)", 10},
    {"GenuineIntel", "inter-socket (QPI/UPI)", 10},
    {"Intel", "inter-socket (QPI/UPI)", 10},
    {"AMD", "inter-socket (xGMI)", 16},
    {"EPYC", "inter-socket (xGMI)", 16},
    {"POWER9", "inter-socket (X-Bus, POWER9)", 32},
};

const char *tb_topo_cpu_generation(const char *vendor, long family, long model)
{
    if (!vendor || strcmp(vendor, "GenuineIntel") != 0 || family != 6)
        return "";
    switch (model) {
    case 85: return " (Skylake/Cascade Lake)";
    case 143: return " (Sapphire Rapids)";
    case 207: return " (Emerald Rapids)";
    case 173: return " (Granite Rapids)";
    default: return "";
    }
}

/* PCIe generation of the CPU's root ports: the highest a device attached to them can
 * train at, whatever the device supports. Intel family 6 models as Linux's
 * arch/x86/include/asm/intel-family.h names them, the generation from Intel's product
 * specifications ("PCI Express Revision"); AMD families/models from AMD's processor
 * programming references, the generation from AMD's EPYC product pages. Only server parts
 * whose every SKU has the same revision are listed. */
static const struct {
    const char *vendor;
    long family, model;
    int gen;
} cpu_pcie_table[] = {
    {"GenuineIntel", 6, 0x2d, 3}, /* Sandy Bridge-EP (Xeon E5 v1) */
    {"GenuineIntel", 6, 0x3e, 3}, /* Ivy Bridge-EP (Xeon E5 v2) */
    {"GenuineIntel", 6, 0x3f, 3}, /* Haswell-EP (Xeon E5 v3) */
    {"GenuineIntel", 6, 0x4f, 3}, /* Broadwell-EP (Xeon E5 v4) */
    {"GenuineIntel", 6, 0x55, 3}, /* Skylake-SP, Cascade Lake, Cooper Lake */
    {"GenuineIntel", 6, 0x6a, 4}, /* Ice Lake-SP (3rd gen Xeon Scalable) */
    {"GenuineIntel", 6, 0x6c, 4}, /* Ice Lake-D */
    {"GenuineIntel", 6, 0x8f, 5}, /* Sapphire Rapids (4th gen) */
    {"GenuineIntel", 6, 0xcf, 5}, /* Emerald Rapids (5th gen) */
    {"GenuineIntel", 6, 0xad, 5}, /* Granite Rapids (Xeon 6 P-core) */
    {"GenuineIntel", 6, 0xae, 5}, /* Granite Rapids-D */
    {"GenuineIntel", 6, 0xaf, 5}, /* Sierra Forest (Xeon 6 E-core) */
    {"AuthenticAMD", 0x17, 0x01, 3}, /* EPYC 7001 Naples (Zen) */
    {"AuthenticAMD", 0x17, 0x31, 4}, /* EPYC 7002 Rome (Zen 2) */
    {"AuthenticAMD", 0x19, 0x01, 4}, /* EPYC 7003 Milan (Zen 3) */
    {"AuthenticAMD", 0x19, 0x11, 5}, /* EPYC 9004 Genoa (Zen 4) */
    {"AuthenticAMD", 0x19, 0xa0, 5}, /* EPYC 97x4 Bergamo (Zen 4c) */
    {"AuthenticAMD", 0x1a, 0x02, 5}, /* EPYC 9005 Turin (Zen 5) */
    {"AuthenticAMD", 0x1a, 0x11, 5}, /* EPYC 9005 Turin dense (Zen 5c) */
};

int tb_topo_cpu_pcie_gen(const char *vendor, long family, long model)
{
    if (!vendor)
        return 0;
    /* NCCL writes base family + (extended family << 4): 0x8f for family 0x17. */
    if (family > 0x0f && (family & 0x0f) == 0x0f)
        family = 0x0f + (family >> 4);
    for (size_t i = 0; i < sizeof(cpu_pcie_table) / sizeof(cpu_pcie_table[0]); i++)
        if (strcmp(vendor, cpu_pcie_table[i].vendor) == 0 && family == cpu_pcie_table[i].family &&
            model == cpu_pcie_table[i].model)
            return cpu_pcie_table[i].gen;
    return 0;
}

int tb_topo_bw_socket(const char *cpu_model, tb_topo_bw_t *bw_p)
{
    memset(bw_p, 0, sizeof(*bw_p));
    snprintf(bw_p->name, sizeof(bw_p->name), "inter-socket");
    if (!cpu_model)
        return -1;
    for (size_t i = 0; i < sizeof(socket_table) / sizeof(socket_table[0]); i++) {
        if (!strstr(cpu_model, socket_table[i].match))
            continue;
        bw_p->theoretical_gbs = bw_p->achievable_gbs = socket_table[i].gbs;
        snprintf(bw_p->name, sizeof(bw_p->name), "%s", socket_table[i].name);
        return 0;
    }
    return -1;
}

int tb_topo_pcie_gen_of_rate(const char *text)
{
    static const struct {
        double gts;
        int gen;
    } rates[] = {{2.5, 1}, {5, 2}, {8, 3}, {16, 4}, {32, 5}, {64, 6}};
    char *end;
    double v;
    if (!text)
        return 0;
    v = strtod(text, &end);
    if (end == text)
        return 0;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
        if (v > rates[i].gts - 0.01 && v < rates[i].gts + 0.01)
            return rates[i].gen;
    return 0;
}

/* NVLinks per GPU model (NVIDIA data sheets): order matters, the first match wins, so
 * PCIe variants come before the SXM names they contain. */
static const struct {
    const char *match;
    int links;
    int version;
} gpu_table[] = {
    {"A100-PCIE", 0, 3}, {"A100 PCIe", 0, 3}, {"A100 80GB PCIe", 0, 3},
    {"H100 PCIe", 0, 4}, {"H100 NVL", 0, 4},  {"A800", 8, 3},
    {"A100", 12, 3},     {"H800", 8, 4},      {"H100", 18, 4},
    {"H200", 18, 4},     {"GH200", 18, 4},    {"B200", 18, 5},
    {"GB200", 18, 5},    {"B300", 18, 5},     {"V100-SXM2", 6, 2},
    {"V100-SXM3", 6, 2}, {"V100 SXM2", 6, 2}, {"P100-SXM2", 4, 1},
};

int tb_topo_nvlink_expected(const char *gpu_model)
{
    for (size_t i = 0; gpu_model && i < sizeof(gpu_table) / sizeof(gpu_table[0]); i++)
        if (strstr(gpu_model, gpu_table[i].match))
            return gpu_table[i].links;
    return 0;
}

int tb_topo_nvlink_version_of_sm(int sm)
{
    /* P100 (sm 60) NVLink1; V100 (70) and Turing's NVLink bridges (75: 25 GB/s per link)
     * NVLink2; A100 (80) 3; H100/H200/GH200 (90) 4; B200/GB200 (100) and B300 (103) 5.
     * GA10x (86: A40, RTX A6000) has NVLink3 with narrower links (NCCL rates them 12 GB/s
     * against A100's 20), which the table does not have: unknown. */
    switch (sm) {
    case 60: return 1;
    case 70: case 75: return 2;
    case 80: return 3;
    case 90: return 4;
    case 100: case 103: return 5;
    default: return 0;
    }
}

const char *tb_topo_gpu_arch_of_sm(int sm)
{
    static const struct {
        int lo, hi;
        const char *name;
    } archs[] = {{30, 37, "Kepler"},  {50, 53, "Maxwell"}, {60, 62, "Pascal"},
                 {70, 72, "Volta"},   {75, 75, "Turing"},  {80, 87, "Ampere"},
                 {89, 89, "Ada Lovelace"}, {90, 90, "Hopper"}, {100, 121, "Blackwell"}};
    for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
        if (sm >= archs[i].lo && sm <= archs[i].hi)
            return archs[i].name;
    return NULL;
}

int tb_topo_nvlink_version(const char *gpu_model)
{
    for (size_t i = 0; gpu_model && i < sizeof(gpu_table) / sizeof(gpu_table[0]); i++)
        if (strstr(gpu_model, gpu_table[i].match))
            return gpu_table[i].version;
    if (gpu_model && (strstr(gpu_model, "V100") != NULL))
        return 2;
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Paths.
 * ------------------------------------------------------------------------------------- */

#define MAX_DEPTH 64

/* Ancestors of `i`, itself first, root last; returns count. Cycles (a malformed graph)
 * stop at MAX_DEPTH. */
static int ancestors(const tb_topo_t *topo, int i, int *out)
{
    int n = 0;
    while (i >= 0 && (size_t)i < topo->nobjs && n < MAX_DEPTH) {
        out[n++] = i;
        i = topo->objs[i].parent;
    }
    return n;
}

static int given_link(const tb_topo_t *topo, int a, int b)
{
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        if (l->kind == TB_LINK_GIVEN && ((l->a == a && l->b == b) || (l->a == b && l->b == a)))
            return (int)i;
    }
    return -1;
}

static int has_given_links(const tb_topo_t *topo)
{
    for (size_t i = 0; i < topo->nlinks; i++)
        if (topo->links[i].kind == TB_LINK_GIVEN)
            return 1;
    return 0;
}

/* NVLinks (or xGMI links) of `a` that end in the NVSwitch fabric. */
static int switch_links(const tb_topo_t *topo, int a, int *version_p, int *inferred_p)
{
    int n = 0;
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        int other;
        if (l->kind != TB_LINK_NVLINK || !l->active)
            continue;
        other = l->a == a ? l->b : l->b == a ? l->a : -1;
        if (other < 0 || topo->objs[other].kind != TB_OBJ_NVSWITCH)
            continue;
        n += l->count > 0 ? l->count : 1;
        if (l->version)
            *version_p = l->version;
        if (inferred_p)
            *inferred_p |= (l->inferred & (TB_INF_COUNT | TB_INF_VERSION)) != 0;
    }
    return n;
}

static int gpu_nvlink_version(const tb_topo_t *topo, int a)
{
    return topo->objs[a].kind == TB_OBJ_GPU ? tb_topo_nvlink_version(topo->objs[a].model) : 0;
}

/* Keeps the smaller of two bandwidths as the bottleneck; unknown (0) never wins. */
static int take_min(tb_topo_path_t *p, const tb_topo_bw_t *bw)
{
    if (!(bw->theoretical_gbs > 0))
        return 0;
    if (p->theoretical_gbs > 0 && p->theoretical_gbs <= bw->theoretical_gbs)
        return 0;
    p->theoretical_gbs = bw->theoretical_gbs;
    p->achievable_gbs = bw->achievable_gbs;
    snprintf(p->bottleneck, sizeof(p->bottleneck), "%s", bw->name);
    p->inferred = 0;
    return 1;
}

/* The link from object `i` up to its parent, as a table entry. */
/* Live readings only: a link at full width but below its generation. GPUs (and the
 * switch ports above them) drop to Gen1 when idle to save power, so at discovery time
 * this is usually power management, not a fault: the capability is what the path
 * should deliver under load, and the finding is information to re-check under load. */
static int idle_speed(const tb_topo_t *topo, const tb_topo_obj_t *o)
{
    return strcmp(topo->source, "live") == 0 && o->link_gen > 0 &&
           o->link_max_gen > o->link_gen &&
           !(o->link_width > 0 && o->link_max_width > o->link_width);
}

static int uplink_bw(const tb_topo_t *topo, int i, tb_topo_bw_t *bw)
{
    const tb_topo_obj_t *o = &topo->objs[i];
    memset(bw, 0, sizeof(*bw));
    if (o->link_gen > 0 && o->link_width > 0 && idle_speed(topo, o)) {
        tb_topo_bw_pcie(o->link_max_gen, o->link_width, bw);
        return 0;
    }
    if (o->link_gen > 0 && o->link_width > 0) {
        tb_topo_bw_pcie(o->link_gen, o->link_width, bw);
        if (o->link_gbs > 0 && o->link_gbs < bw->theoretical_gbs)
            bw->theoretical_gbs = bw->achievable_gbs = o->link_gbs;
        return 0;
    }
    if (o->link_gbs > 0) {
        /* A source that gives only GB/s (hwloc pci_link_speed with an odd figure). */
        bw->theoretical_gbs = o->link_gbs;
        bw->achievable_gbs = o->link_gbs * 26.5 / 31.5;
        snprintf(bw->name, sizeof(bw->name), "PCIe %.2f GB/s", o->link_gbs);
        return 0;
    }
    return -1;
}

static void nv_path(const tb_topo_t *topo, int a, int b, tb_topo_path_t *p)
{
    int direct = 0, xgmi = 0, version = 0, va = 0, vb = 0;
    double given_gbs = 0;
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        if ((l->kind != TB_LINK_NVLINK && l->kind != TB_LINK_XGMI) || !l->active)
            continue;
        if (!((l->a == a && l->b == b) || (l->a == b && l->b == a)))
            continue;
        direct += l->count > 0 ? l->count : 1;
        xgmi |= l->kind == TB_LINK_XGMI;
        if (l->version)
            version = l->version;
        given_gbs += l->gbs;
        p->inferred |= (l->inferred & (TB_INF_COUNT | TB_INF_VERSION)) != 0;
    }
    if (topo->objs[a].kind == TB_OBJ_GPU && topo->objs[b].kind == TB_OBJ_GPU) {
        int sa = switch_links(topo, a, &va, &p->inferred);
        int sb = switch_links(topo, b, &vb, &p->inferred);
        int fabric = sa < sb ? sa : sb;
        if (fabric > 0) {
            direct += fabric;
            if (!version)
                version = va ? va : vb;
        }
    }
    if (direct == 0)
        return;
    p->cls = TB_PATH_NV;
    p->nvlinks = direct;
    p->xgmi = xgmi;
    if (xgmi) {
        /* xGMI speeds are not in REFERENCE.md: only a figure the source gives counts. */
        p->theoretical_gbs = given_gbs;
        p->achievable_gbs = given_gbs;
        snprintf(p->bottleneck, sizeof(p->bottleneck), "xGMI x%d", direct);
        return;
    }
    if (!version)
        version = gpu_nvlink_version(topo, a);
    {
        tb_topo_bw_t bw;
        if (tb_topo_bw_nvlink(version, direct, &bw) != 0)
            tb_topo_bw_nvlink(0, direct, &bw);
        if (given_gbs > 0 && given_gbs < bw.theoretical_gbs) {
            bw.achievable_gbs = bw.achievable_gbs * given_gbs / bw.theoretical_gbs;
            bw.theoretical_gbs = given_gbs;
        }
        p->theoretical_gbs = bw.theoretical_gbs;
        p->achievable_gbs = bw.achievable_gbs;
        snprintf(p->bottleneck, sizeof(p->bottleneck), "%s", bw.name);
    }
}

static int numa_ancestor(const tb_topo_t *topo, const int *anc, int n)
{
    for (int i = 0; i < n; i++)
        if (topo->objs[anc[i]].kind == TB_OBJ_NUMA)
            return anc[i];
    return -1;
}

/* Whether two PCI bus ids ("0000:0c:00.0", "0000:0c:00.1") name functions of one device. */
static int same_device(const char *x, const char *y)
{
    const char *dx = strrchr(x, '.'), *dy = strrchr(y, '.');
    return dx && dy && dx - x == dy - y && dx != x && strncmp(x, y, (size_t)(dx - x)) == 0;
}

static void tree_path(const tb_topo_t *topo, int a, int b, tb_topo_path_t *p)
{
    int aa[MAX_DEPTH], ab[MAX_DEPTH];
    int na = ancestors(topo, a, aa), nb = ancestors(topo, b, ab);
    int lca = -1, ia = -1, ib = -1, bridges = 0, hostbridges = 0;
    tb_topo_bw_t bw;

    for (int i = 0; i < na && lca < 0; i++)
        for (int j = 0; j < nb; j++)
            if (aa[i] == ab[j]) {
                lca = aa[i];
                ia = i;
                ib = j;
                break;
            }
    if (lca < 0) {
        p->cls = TB_PATH_UNKNOWN;
        snprintf(p->bottleneck, sizeof(p->bottleneck), "unknown (not connected)");
        return;
    }
    /* Objects strictly between the endpoints, and the LCA. */
    for (int i = 1; i < ia; i++) {
        bridges += topo->objs[aa[i]].kind == TB_OBJ_BRIDGE;
        hostbridges += topo->objs[aa[i]].kind == TB_OBJ_HOSTBRIDGE;
    }
    for (int j = 1; j < ib; j++) {
        bridges += topo->objs[ab[j]].kind == TB_OBJ_BRIDGE;
        hostbridges += topo->objs[ab[j]].kind == TB_OBJ_HOSTBRIDGE;
    }
    if (same_device(topo->objs[a].busid, topo->objs[b].busid)) {
        /* Two functions of one device (the ports of a dual-port NIC): no bridge between
         * them, whatever sits above. */
        p->cls = TB_PATH_PIX;
    } else switch (topo->objs[lca].kind) {
    case TB_OBJ_BRIDGE:
    case TB_OBJ_GPU:
    case TB_OBJ_NIC:
    case TB_OBJ_PCIDEV:
    case TB_OBJ_NVSWITCH:
        bridges += topo->objs[lca].kind == TB_OBJ_BRIDGE && lca != a && lca != b;
        p->cls = bridges <= 1 ? TB_PATH_PIX : TB_PATH_PXB;
        break;
    case TB_OBJ_HOSTBRIDGE:
        p->cls = TB_PATH_PHB;
        break;
    case TB_OBJ_NUMA:
        /* Below one NUMA node: across host bridges, unless a side has none (a device
         * hung directly below the NUMA node), which is one host bridge. */
        p->cls = hostbridges >= 2 ? TB_PATH_NODE : TB_PATH_PHB;
        break;
    case TB_OBJ_PACKAGE: {
        int numa_a = numa_ancestor(topo, aa, na), numa_b = numa_ancestor(topo, ab, nb);
        p->cls = (numa_a >= 0 && numa_b >= 0 && numa_a != numa_b) ? TB_PATH_SYS : TB_PATH_NODE;
        break;
    }
    case TB_OBJ_MACHINE:
    default:
        p->cls = TB_PATH_SYS;
        break;
    }
    /* Bottleneck: every object below the LCA contributes its link to the parent. */
    for (int side = 0; side < 2; side++) {
        const int *anc = side ? ab : aa;
        int n = side ? ib : ia;
        for (int i = 0; i < n; i++)
            if (uplink_bw(topo, anc[i], &bw) == 0 && take_min(p, &bw))
                /* hwloc's GB/s figure names a generation and width by a rule. */
                p->inferred = (topo->objs[anc[i]].inferred & TB_INF_LINK) != 0;
    }
    if (p->cls == TB_PATH_SYS && (topo->objs[lca].kind == TB_OBJ_PACKAGE ||
                                  tb_topo_count(topo, TB_OBJ_PACKAGE) == 1)) {
        /* NUMA nodes of one package (EPYC NPS4, Threadripper): the path crosses the
         * package's own fabric, not an inter-socket link, and has no table figure. */
        if (!(p->theoretical_gbs > 0))
            snprintf(p->bottleneck, sizeof(p->bottleneck), "cross-NUMA, one package");
    } else if (p->cls == TB_PATH_SYS) {
        const char *cpu = topo->cpu_model;
        if (tb_topo_bw_socket(cpu, &bw) == 0)
            take_min(p, &bw);
        else if (!(p->theoretical_gbs > 0))
            snprintf(p->bottleneck, sizeof(p->bottleneck), "inter-socket");
    }
    if (!p->bottleneck[0])
        snprintf(p->bottleneck, sizeof(p->bottleneck), "unknown (no link data)");
}

static void nic_port_limit(const tb_topo_t *topo, int i, tb_topo_path_t *p)
{
    const tb_topo_obj_t *o = &topo->objs[i];
    const tb_topo_port_t *best = NULL;
    tb_topo_bw_t bw;
    if (o->kind != TB_OBJ_NIC)
        return;
    for (int k = 0; k < o->nports && k < TB_TOPO_MAX_PORTS; k++)
        if (!best || o->ports[k].rate_gbps > best->rate_gbps)
            best = &o->ports[k];
    if (best && tb_topo_bw_net(best->rate_gbps, best->link_layer, &bw) == 0)
        take_min(p, &bw);
}

void tb_topo_path(const tb_topo_t *topo, int a, int b, tb_topo_path_t *path_p)
{
    tb_topo_path_t p;
    int g;
    memset(&p, 0, sizeof(p));
    p.cls = TB_PATH_UNKNOWN;
    if (!topo || a < 0 || b < 0 || (size_t)a >= topo->nobjs || (size_t)b >= topo->nobjs) {
        snprintf(p.bottleneck, sizeof(p.bottleneck), "unknown");
        *path_p = p;
        return;
    }
    if (a == b) {
        p.cls = TB_PATH_SELF;
        *path_p = p;
        return;
    }
    g = given_link(topo, a, b);
    if (g >= 0 && topo->links[g].cls != TB_PATH_UNKNOWN) {
        const tb_topo_link_t *l = &topo->links[g];
        p.given = 1;
        p.cls = (tb_path_class_t)l->cls;
        if (p.cls == TB_PATH_NV) {
            tb_topo_bw_t bw;
            int version = gpu_nvlink_version(topo, a);
            p.nvlinks = l->count;
            if (tb_topo_bw_nvlink(version, l->count, &bw) != 0)
                tb_topo_bw_nvlink(0, l->count, &bw);
            p.theoretical_gbs = bw.theoretical_gbs;
            p.achievable_gbs = bw.achievable_gbs;
            snprintf(p.bottleneck, sizeof(p.bottleneck), "%s", bw.name);
        } else {
            /* nvidia-smi gives the class only, no link speeds. */
            snprintf(p.bottleneck, sizeof(p.bottleneck), "unknown (no link data)");
        }
        *path_p = p;
        return;
    }
    if (has_given_links(topo)) {
        /* A matrix source that does not state this pair (a partial matrix): no tree to
         * fall back on, so say so instead of guessing. */
        snprintf(p.bottleneck, sizeof(p.bottleneck), "unknown (not in the source)");
        *path_p = p;
        return;
    }
    nv_path(topo, a, b, &p);
    if (p.cls != TB_PATH_NV) {
        tree_path(topo, a, b, &p);
        /* A NIC endpoint moves data no faster than its port: GPUDirect RDMA from a GPU
         * behind a Gen5 switch to a 200G port is a 25 GB/s path. */
        nic_port_limit(topo, a, &p);
        nic_port_limit(topo, b, &p);
    }
    *path_p = p;
}

/* Orders NICs by path class, then by expected bandwidth. Every NIC object is an RDMA
 * device (every source keeps plain interfaces out of the NICs, docs/topology.md), so a
 * 1 GbE port is never a candidate: NCCL never picks a socket interface while an RDMA
 * device exists. */
typedef struct nic_rank {
    int nic;
    tb_path_class_t cls;
    double gbs;
} nic_rank_t;

static int nic_rank_cmp(const void *x, const void *y)
{
    const nic_rank_t *a = x, *b = y;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->gbs != b->gbs)
        return a->gbs > b->gbs ? -1 : 1;
    return a->nic - b->nic;
}

size_t tb_topo_nearest_nics(const tb_topo_t *topo, int gpu, int *nics, size_t max)
{
    nic_rank_t *r;
    size_t n = 0, nnic = tb_topo_count(topo, TB_OBJ_NIC);
    if (nnic == 0 || max == 0)
        return 0;
    r = calloc(nnic, sizeof(*r));
    if (!r)
        return 0;
    for (size_t i = 0; i < topo->nobjs; i++) {
        tb_topo_path_t p;
        if (topo->objs[i].kind != TB_OBJ_NIC)
            continue;
        tb_topo_path(topo, gpu, (int)i, &p);
        if (p.cls == TB_PATH_UNKNOWN)
            continue;
        r[n].nic = (int)i;
        r[n].cls = p.cls;
        r[n].gbs = p.theoretical_gbs;
        n++;
    }
    qsort(r, n, sizeof(*r), nic_rank_cmp);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        nics[i] = r[i].nic;
    free(r);
    return n;
}

/* ---------------------------------------------------------------------------------------
 * GPU numbering.
 * ------------------------------------------------------------------------------------- */

typedef struct gpu_key {
    int obj;       /* object index now */
    int index;     /* driver index, -1 none */
    char bus[32];  /* normalized bus id, "" none */
} gpu_key_t;

static int by_index(const void *x, const void *y)
{
    const gpu_key_t *a = x, *b = y;
    return a->index != b->index ? (a->index < b->index ? -1 : 1) : a->obj - b->obj;
}

static int by_bus(const void *x, const void *y)
{
    const gpu_key_t *a = x, *b = y;
    int c = strcmp(a->bus, b->bus);
    return c ? c : a->obj - b->obj;
}

/* Moves the GPU objects among the GPU slots: slot[k] receives the GPU key[k] names. */
static tb_status_t permute_gpus(tb_topo_t *topo, const gpu_key_t *key, const int *slot, size_t n)
{
    int *map = malloc(topo->nobjs * sizeof(*map));
    tb_topo_obj_t *moved = malloc(n * sizeof(*moved));
    if (!map || !moved) {
        free(map);
        free(moved);
        return tb_error(TB_ERR_INTERNAL, "out of memory numbering GPUs");
    }
    for (size_t i = 0; i < topo->nobjs; i++)
        map[i] = (int)i;
    for (size_t k = 0; k < n; k++) {
        map[key[k].obj] = slot[k];
        moved[k] = topo->objs[key[k].obj];
    }
    for (size_t k = 0; k < n; k++)
        topo->objs[slot[k]] = moved[k];
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].parent >= 0)
            topo->objs[i].parent = map[topo->objs[i].parent];
    for (size_t i = 0; i < topo->nlinks; i++) {
        topo->links[i].a = map[topo->links[i].a];
        topo->links[i].b = map[topo->links[i].b];
    }
    for (size_t i = 0; i < topo->nno_p2p && i < TB_TOPO_MAX_P2P; i++) {
        tb_topo_p2p_t *q = &topo->no_p2p[i];
        int a = q->a >= 0 && (size_t)q->a < topo->nobjs ? map[q->a] : q->a;
        int b = q->b >= 0 && (size_t)q->b < topo->nobjs ? map[q->b] : q->b;
        q->a = a < b ? a : b;
        q->b = a < b ? b : a;
    }
    free(map);
    free(moved);
    return TB_OK;
}

tb_status_t tb_topo_number_gpus(tb_topo_t *topo)
{
    size_t n = tb_topo_count(topo, TB_OBJ_GPU), k = 0;
    gpu_key_t *key;
    int *slot, by_driver = 1, by_busid = 1;
    tb_status_t st;
    if (n == 0)
        return TB_OK;
    key = calloc(n, sizeof(*key));
    slot = calloc(n, sizeof(*slot));
    if (!key || !slot) {
        free(key);
        free(slot);
        return tb_error(TB_ERR_INTERNAL, "out of memory numbering GPUs");
    }
    for (size_t i = 0; i < topo->nobjs; i++) {
        const tb_topo_obj_t *o = &topo->objs[i];
        if (o->kind != TB_OBJ_GPU)
            continue;
        slot[k] = (int)i;
        key[k].obj = (int)i;
        key[k].index = o->os_index;
        if (o->busid[0])
            tb_topo_busid_normalize(o->busid, key[k].bus, sizeof(key[k].bus));
        by_driver &= o->os_index >= 0;
        by_busid &= o->busid[0] != '\0';
        k++;
    }
    qsort(key, n, sizeof(*key), by_index);
    for (k = 1; by_driver && k < n; k++)
        by_driver = key[k].index != key[k - 1].index;
    if (!by_driver) {
        if (by_busid)
            qsort(key, n, sizeof(*key), by_bus);
        else
            for (k = 0; k < n; k++)
                key[k].obj = slot[k]; /* graph order */
        for (k = 0; k < n; k++)
            key[k].index = (int)k;
    }
    st = permute_gpus(topo, key, slot, n);
    for (k = 0; st == TB_OK && k < n; k++) {
        tb_topo_obj_t *o = &topo->objs[slot[k]];
        o->os_index = key[k].index;
        snprintf(o->name, sizeof(o->name), "GPU%d", key[k].index);
    }
    free(key);
    free(slot);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * Model build: derived fields and findings.
 * ------------------------------------------------------------------------------------- */

static void fill_numa(tb_topo_t *topo)
{
    for (size_t i = 0; i < topo->nobjs; i++) {
        tb_topo_obj_t *o = &topo->objs[i];
        /* Sources that state generation and width (NCCL XML) get the GB/s they imply. */
        if (!(o->link_gbs > 0) && o->link_gen > 0 && o->link_width > 0)
            o->link_gbs = tb_topo_pcie_gbs(o->link_gen, o->link_width);
    }
    for (size_t i = 0; i < topo->nobjs; i++) {
        int anc[MAX_DEPTH], n;
        tb_topo_obj_t *o = &topo->objs[i];
        if (o->numa >= 0)
            continue;
        n = ancestors(topo, (int)i, anc);
        for (int k = 0; k < n; k++)
            if (topo->objs[anc[k]].kind == TB_OBJ_NUMA) {
                o->numa = topo->objs[anc[k]].os_index;
                break;
            }
        if (!o->cpuset[0])
            for (int k = 1; k < n; k++)
                if (topo->objs[anc[k]].cpuset[0]) {
                    char tmp[sizeof(o->cpuset)];
                    memcpy(tmp, topo->objs[anc[k]].cpuset, sizeof(tmp));
                    memcpy(o->cpuset, tmp, sizeof(tmp));
                    break;
                }
    }
}

/* What the ports of bridge `i` can run at: the maximum the source gives for its link, else
 * (NCCL XML, which reports only current speeds) the fastest of its own link and the switch
 * ports nested below it. A PCIe switch is one chip and one generation; only NCCL XML nests
 * one chip's levels as parent and child <pci> (Broadcom's two-level switches), while in
 * hwloc graphs a child bridge is another switch, whose speed says nothing about this one. */
static int bridge_capability(const tb_topo_t *topo, int i, int nccl)
{
    const tb_topo_obj_t *o = &topo->objs[i];
    int best = o->link_gen;
    if (o->link_max_gen > 0 || !nccl)
        return o->link_max_gen;
    for (size_t j = 0; j < topo->nobjs; j++)
        if (topo->objs[j].parent == i && topo->objs[j].kind == TB_OBJ_BRIDGE &&
            topo->objs[j].link_gen > best)
            best = topo->objs[j].link_gen;
    return best;
}

/* A link's capability is the lower of its two ends'. An upstream switch port whose source
 * gives no maximum takes its chip's (bridge_capability: the OCI H100 dump's 5.0 GT/s
 * uplinks above Gen5 ports). Every maximum is then capped by the link partner: the ports of
 * the switch above, or the CPU's root ports (cpu_pcie_gen) for a device or switch on a root
 * port. A ConnectX-8's built-in switch with Gen6 ports runs its uplink at Gen5 under a Gen5
 * CPU: that is its capability there, not a degraded link; a Gen4 device trained at Gen2
 * still is one. */
static void link_capability(tb_topo_t *topo)
{
    int nccl = strcmp(topo->source, "nccl-xml") == 0;
    int *chip = calloc(topo->nobjs ? topo->nobjs : 1, sizeof(*chip));
    if (!chip)
        return;
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].kind == TB_OBJ_BRIDGE)
            chip[i] = bridge_capability(topo, (int)i, nccl);
    for (size_t i = 0; i < topo->nobjs; i++) {
        tb_topo_obj_t *o = &topo->objs[i];
        int cap = 0, p = o->parent;
        if (o->kind == TB_OBJ_BRIDGE && o->link_max_gen <= 0 && o->link_gen > 0 &&
            chip[i] > o->link_gen) {
            o->link_max_gen = chip[i];
            o->inferred |= TB_INF_LINK_MAX; /* from the chip's other ports */
        }
        if (o->link_max_gen <= 0 || p < 0)
            continue;
        switch (topo->objs[p].kind) {
        case TB_OBJ_BRIDGE:
            cap = chip[p];
            break;
        case TB_OBJ_HOSTBRIDGE:
        case TB_OBJ_NUMA:
        case TB_OBJ_PACKAGE:
            /* A root port (sources fold root ports into the host bridge). Devices hung
             * below the machine have no known attachment. */
            cap = topo->cpu_pcie_gen;
            break;
        default:
            break;
        }
        if (cap > 0 && cap < o->link_max_gen) {
            o->link_max_gen = cap > o->link_gen ? cap : o->link_gen;
            o->inferred |= TB_INF_LINK_MAX; /* capped by the link partner */
        }
    }
    free(chip);
}

static void find_pcie(tb_topo_t *topo)
{
    for (size_t i = 0; i < topo->nobjs; i++) {
        const tb_topo_obj_t *o = &topo->objs[i];
        tb_topo_bw_t now, max;
        int gen_low = o->link_gen > 0 && o->link_max_gen > o->link_gen;
        int width_low = o->link_width > 0 && o->link_max_width > o->link_width;
        const char *what = o->busid[0] ? o->busid : o->name;
        if (!gen_low && !width_low)
            continue;
        tb_topo_bw_pcie(o->link_gen, o->link_width, &now);
        tb_topo_bw_pcie(o->link_max_gen > 0 ? o->link_max_gen : o->link_gen,
                        o->link_max_width > 0 ? o->link_max_width : o->link_width, &max);
        if (idle_speed(topo, o)) {
            tb_topo_add_finding(topo, TB_SEV_INFO, "pcie_speed_idle", o->name,
                                "%s %s link reads %s, capable of %s: devices lower the link "
                                "speed when idle; if it stays there under load it is "
                                "degraded",
                                tb_topo_kind_name(o->kind), what, now.name, max.name);
            continue;
        }
        tb_topo_add_finding(topo, TB_SEV_WARN, "pcie_degraded", o->name,
                            "%s %s link runs at %s (%.1f GB/s) below its capability %s "
                            "(%.1f GB/s%s)%s",
                            tb_topo_kind_name(o->kind), what, now.name, now.theoretical_gbs,
                            max.name, max.theoretical_gbs,
                            o->inferred & TB_INF_LINK_MAX
                                ? ", inferred: the switch's other ports and the link partner"
                                : "",
                            o->kind == TB_OBJ_BRIDGE ? ": every device below it is limited"
                                                     : "");
    }
}

static int nvlinks_described(const tb_topo_t *topo)
{
    if (strcmp(topo->source, "live") == 0)
        return 1;
    for (size_t i = 0; i < topo->nlinks; i++)
        if (topo->links[i].kind == TB_LINK_NVLINK)
            return 1;
    return 0;
}

static void find_nvlink(tb_topo_t *topo)
{
    int described = nvlinks_described(topo);
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        if (l->kind == TB_LINK_NVLINK && !l->active)
            tb_topo_add_finding(topo, TB_SEV_WARN, "nvlink_down", topo->objs[l->a].name,
                                "NVLink between %s and %s is down (%d link%s)",
                                topo->objs[l->a].name, topo->objs[l->b].name, l->count,
                                l->count == 1 ? "" : "s");
    }
    if (!described) {
        /* SXM GPUs in a source that records no NVLinks (hwloc without the NVML plugin,
         * hand-written files): their GPU-GPU figures are the PCIe path, not the real one. */
        for (size_t g = 0; g < topo->nobjs; g++) {
            const tb_topo_obj_t *o = &topo->objs[g];
            if (o->kind == TB_OBJ_GPU && tb_topo_nvlink_expected(o->model) > 0) {
                tb_topo_add_note(topo,
                                 "%s (%s) has %d NVLinks but the source records none: GPU-GPU "
                                 "classes and expected bandwidth are the PCIe path's",
                                 o->name, o->model, tb_topo_nvlink_expected(o->model));
                break;
            }
        }
        return;
    }
    for (size_t g = 0; g < topo->nobjs; g++) {
        tb_topo_obj_t *o = &topo->objs[g];
        int n = 0;
        if (o->kind != TB_OBJ_GPU)
            continue;
        if (!o->nvlink_expected)
            o->nvlink_expected = tb_topo_nvlink_expected(o->model);
        if (!o->nvlink_expected)
            continue;
        for (size_t i = 0; i < topo->nlinks; i++) {
            const tb_topo_link_t *l = &topo->links[i];
            if (l->kind == TB_LINK_NVLINK && l->active && (l->a == (int)g || l->b == (int)g))
                n += l->count > 0 ? l->count : 1;
        }
        if (n < o->nvlink_expected)
            tb_topo_add_finding(topo, TB_SEV_WARN, "nvlink_count", o->name,
                                "%s (%s) has %d active NVLinks, the model has %d", o->name,
                                o->model, n, o->nvlink_expected);
    }
}

/* Matrix sources (nvidia-smi): no GPU model, so NVLink counts are judged against the
 * others in the node and against the full counts of NVSwitch systems. */
static void find_given_nvlink(tb_topo_t *topo)
{
    int counts[64] = {0}, ncounts[64] = {0}, nc = 0, pairs = 0, nvpairs = 0, majority = 0;
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        int k;
        if (l->kind != TB_LINK_GIVEN || l->cls == TB_PATH_UNKNOWN)
            continue;
        if (topo->objs[l->a].kind != TB_OBJ_GPU || topo->objs[l->b].kind != TB_OBJ_GPU)
            continue;
        pairs++;
        if (l->cls != TB_PATH_NV)
            continue;
        nvpairs++;
        for (k = 0; k < nc && counts[k] != l->count; k++)
            ;
        if (k == nc && nc < 64)
            counts[nc++] = l->count;
        if (k < 64)
            ncounts[k]++;
    }
    if (nvpairs == 0)
        return;
    for (int k = 0; k < nc; k++)
        if (ncounts[k] > ncounts[majority])
            majority = k;
    /* A pair below the node's usual count has lost links (all-to-all NVSwitch nodes). */
    if (nvpairs == pairs && pairs >= 6) {
        for (size_t i = 0; i < topo->nlinks; i++) {
            const tb_topo_link_t *l = &topo->links[i];
            if (l->kind == TB_LINK_GIVEN && l->cls == TB_PATH_NV &&
                l->count < counts[majority])
                tb_topo_add_finding(topo, TB_SEV_WARN, "nvlink_down", topo->objs[l->a].name,
                                    "%s-%s is NV%d where the other pairs are NV%d",
                                    topo->objs[l->a].name, topo->objs[l->b].name, l->count,
                                    counts[majority]);
        }
        if (counts[majority] != 12 && counts[majority] != 18 && ncounts[majority] * 2 > pairs)
            tb_topo_add_finding(
                topo, TB_SEV_INFO, "nvlink_count", "GPUs",
                "GPU pairs are NV%d: fewer NVLinks than an A100 SXM (NV12) or H100/H200/B200 "
                "SXM (NV18) node; expected on an A800/H800 (NV8), otherwise links are down",
                counts[majority]);
    }
}

static void find_ports(tb_topo_t *topo)
{
    for (size_t i = 0; i < topo->nobjs; i++) {
        const tb_topo_obj_t *o = &topo->objs[i];
        if (o->kind != TB_OBJ_NIC)
            continue;
        for (int k = 0; k < o->nports && k < TB_TOPO_MAX_PORTS; k++) {
            const tb_topo_port_t *pt = &o->ports[k];
            /* An empty state means the source does not report port details (importers);
             * checks that need them are skipped. */
            if (!pt->state[0])
                continue;
            if (strcmp(pt->state, "ACTIVE") != 0)
                tb_topo_add_finding(topo, TB_SEV_WARN, "ib_port_down", o->name,
                                    "%s port %d is %s%s%s", o->name, pt->num, pt->state,
                                    pt->phys_state[0] ? " / " : "", pt->phys_state);
            else if (pt->rate_gbps > 0 && pt->max_rate_gbps > pt->rate_gbps)
                tb_topo_add_finding(topo, TB_SEV_WARN, "ib_port_slow", o->name,
                                    "%s port %d runs at %g Gb/s, it supports %g Gb/s", o->name,
                                    pt->num, pt->rate_gbps, pt->max_rate_gbps);
            /* Only a source that typed the GIDs (verbs, sysfs) can tell none is v2. */
            if (strcmp(pt->link_layer, "Ethernet") == 0 && pt->gids_typed &&
                !pt->has_rocev2_gid)
                tb_topo_add_finding(topo, TB_SEV_WARN, "roce_no_v2_gid", o->name,
                                    "%s port %d is Ethernet (RoCE) without a RoCE v2 GID: "
                                    "NCCL needs one (NCCL_IB_GID_INDEX)",
                                    o->name, pt->num);
        }
    }
}

static int has_finding(const tb_topo_t *topo, const char *code, const char *object)
{
    for (size_t i = 0; i < topo->nfindings; i++)
        if (strcmp(topo->findings[i].code, code) == 0 &&
            strcmp(topo->findings[i].object, object) == 0)
            return 1;
    return 0;
}

static void find_gpu_nic(tb_topo_t *topo)
{
    if (tb_topo_count(topo, TB_OBJ_NIC) == 0)
        return;
    for (size_t g = 0; g < topo->nobjs; g++) {
        int nic;
        tb_topo_path_t p;
        if (topo->objs[g].kind != TB_OBJ_GPU)
            continue;
        if (tb_topo_nearest_nics(topo, (int)g, &nic, 1) != 1)
            continue;
        tb_topo_path(topo, (int)g, nic, &p);
        if (p.cls >= TB_PATH_SYS && p.cls != TB_PATH_UNKNOWN)
            tb_topo_add_finding(topo, TB_SEV_WARN, "gpu_nic_far", topo->objs[g].name,
                                "%s has no NIC nearer than %s (nearest %s): GPUDirect RDMA "
                                "is off by default and traffic crosses the CPU interconnect",
                                topo->objs[g].name, tb_path_class_name(p.cls),
                                topo->objs[nic].name);
        else if ((p.cls == TB_PATH_PHB || p.cls == TB_PATH_NODE) &&
                 !has_finding(topo, "gdr_unavailable", topo->objs[nic].name))
            /* (No advice to enable what the source says is unavailable.) */
            /* NCCL's default GDR level is PXB: a host bridge on the way turns it off. */
            tb_topo_add_finding(topo, TB_SEV_INFO, "gdr_off_by_default", topo->objs[g].name,
                                "%s reaches its nearest RDMA NIC %s through %s: NCCL uses "
                                "GPUDirect RDMA only up to PXB by default "
                                "(NCCL_NET_GDR_LEVEL=%s enables it, where a measured GDR "
                                "transfer is faster)",
                                topo->objs[g].name, topo->objs[nic].name,
                                tb_path_class_name(p.cls), tb_path_class_name(p.cls));
    }
}

static void find_p2p(tb_topo_t *topo)
{
    /* Live discovery (NVML) records pairs without P2P in no_p2p. */
    for (size_t i = 0; i < topo->nno_p2p && i < TB_TOPO_MAX_P2P; i++) {
        const tb_topo_p2p_t *q = &topo->no_p2p[i];
        if (q->a < 0 || q->b < 0 || (size_t)q->a >= topo->nobjs || (size_t)q->b >= topo->nobjs)
            continue;
        tb_topo_add_finding(topo, TB_SEV_WARN, "no_p2p", topo->objs[q->a].name,
                            "%s and %s have no peer-to-peer access (%s): transfers between "
                            "them are staged through host memory",
                            topo->objs[q->a].name, topo->objs[q->b].name,
                            q->reason[0] ? q->reason : "not supported");
    }
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        if (l->kind == TB_LINK_GIVEN && l->p2p == 0)
            tb_topo_add_finding(topo, TB_SEV_WARN, "no_p2p", topo->objs[l->a].name,
                                "%s and %s have no peer-to-peer access: transfers between "
                                "them are staged through host memory",
                                topo->objs[l->a].name, topo->objs[l->b].name);
    }
}

tb_status_t tb_topo_model_build(tb_topo_t *topo)
{
    if (!topo)
        return tb_error(TB_ERR_INTERNAL, "topology model: no graph");
    for (size_t i = 0; i < topo->nobjs; i++) {
        int p = topo->objs[i].parent;
        if (p >= (int)topo->nobjs || p == (int)i)
            return tb_error(TB_ERR_INTERNAL, "topology model: object %zu has parent %d", i, p);
    }
    for (size_t i = 0; i < topo->nlinks; i++)
        if (topo->links[i].a < 0 || topo->links[i].b < 0 ||
            (size_t)topo->links[i].a >= topo->nobjs || (size_t)topo->links[i].b >= topo->nobjs)
            return tb_error(TB_ERR_INTERNAL, "topology model: link %zu joins unknown objects",
                            i);
    if (tb_topo_number_gpus(topo) != TB_OK)
        return TB_ERR_INTERNAL;
    fill_numa(topo);
    link_capability(topo);
    find_pcie(topo);
    find_nvlink(topo);
    find_given_nvlink(topo);
    find_ports(topo);
    find_gpu_nic(topo);
    find_p2p(topo);
    return TB_OK;
}
