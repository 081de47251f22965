/* NCCL topology XML importer (NCCL_TOPO_FILE / NCCL_TOPO_DUMP_FILE, and RCCL's dialect
 * with <xgmi> links), parsed with libxml2. Real dumps and hand-written cloud files differ:
 * fake switches (ffff:ff:..), missing attributes, placeholder vendors, NVLinks to NVSwitches
 * that are not in the file, a GPU's nvlink pointing at itself. Each quirk becomes a note or
 * a finding, never a crash; only XML that does not parse is an error.
 *
 * Mapping: machine > one NUMA object per <cpu> > one host bridge per <cpu> (NCCL omits
 * root ports and treats the CPU as the host bridge) > <pci> bridges > GPUs / NICs. Each
 * <net> is one NIC object (like an IB device in verbs or a NIC column of nvidia-smi),
 * sharing the PCI function's link. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <jansson.h>

#include "log.h"
#include "topo_internal.h"
#include "topo_nccl.h"

typedef struct pending_link {
    int from;
    char target[32];
    char tclass[16];
    int count;
    int version; /* NVLink generation of the GPU it starts from, 0 unknown */
    tb_link_kind_t kind;
    int line;
} pending_link_t;

typedef struct nccl_ctx {
    tb_topo_t *topo;
    const char *path;
    int root, ngpus, nanon_nics, nvirtual, nswitch_fake, nsocket;
    pending_link_t *pend;
    size_t npend, cap_pend;
} nccl_ctx_t;

static const char *attr(xmlNodePtr n, const char *name)
{
    /* libxml2 returns attribute values through the node's properties without copying. */
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (a->name && strcmp((const char *)a->name, name) == 0 && a->children &&
            a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

static int is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static long attr_long(xmlNodePtr n, const char *name, long dflt)
{
    const char *v = attr(n, name);
    char *end;
    long r;
    if (!v || !*v)
        return dflt;
    r = strtol(v, &end, 0);
    return end == v ? dflt : r;
}

static void copy_lower(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = 0;
}

/* "000000ff,ffff0000,00ffffff" (32-bit words, most significant first) -> "0-23,48-71". */
static void mask_to_list(const char *mask, char *out, size_t len)
{
    unsigned char bits[1024] = {0};
    int nbits = 0, start = -1;
    size_t n = strlen(mask), used = 0;
    out[0] = 0;
    /* Walk hex digits from the least significant end, skipping commas. */
    for (size_t k = n; k-- > 0 && nbits + 4 <= (int)sizeof(bits);) {
        int c = tolower((unsigned char)mask[k]), v;
        if (c == ',')
            continue;
        if (!isxdigit(c))
            return;
        v = isdigit(c) ? c - '0' : c - 'a' + 10;
        for (int b = 0; b < 4; b++)
            bits[nbits++] = (unsigned char)((v >> b) & 1);
    }
    for (int i = 0; i <= nbits; i++) {
        int set = i < nbits && bits[i];
        if (set && start < 0)
            start = i;
        if (!set && start >= 0) {
            int w;
            if (start == i - 1)
                w = snprintf(out + used, len - used, "%s%d", used ? "," : "", start);
            else
                w = snprintf(out + used, len - used, "%s%d-%d", used ? "," : "", start, i - 1);
            if (w < 0 || (size_t)w >= len - used) {
                out[used] = 0;
                return;
            }
            used += (size_t)w;
            start = -1;
        }
    }
}

/* Names the CPU the way the inter-socket table matches it. */
static void cpu_model_name(xmlNodePtr cpu, char *out, size_t len)
{
    const char *vendor = attr(cpu, "vendor"), *arch = attr(cpu, "arch");
    long family = attr_long(cpu, "familyid", -1), model = attr_long(cpu, "modelid", -1);
    const char *gen = tb_topo_cpu_generation(vendor, family, model);
    if (arch && strcmp(arch, "arm64") == 0 && vendor && strcmp(vendor, "GenuineIntel") != 0)
        vendor = "arm64"; /* Grace dumps say vendor="AMD" for lack of an arm64 vendor id */
    snprintf(out, len, "%s family %ld model %ld%s", vendor ? vendor : "unknown", family, model,
             gen);
}

static const struct {
    unsigned vendor, device;
    const char *name;
} pci_models[] = {
    {0x10de, 0x20b0, "NVIDIA A100-SXM4-40GB"},
    {0x10de, 0x20b2, "NVIDIA A100-SXM4-80GB"},
    {0x10de, 0x20b5, "NVIDIA A100 80GB PCIe"},
    {0x10de, 0x20f1, "NVIDIA A100-PCIE-40GB"},
    {0x10de, 0x2330, "NVIDIA H100 80GB HBM3"},
    {0x10de, 0x2331, "NVIDIA H100 PCIe"},
    {0x10de, 0x2230, "NVIDIA RTX A6000"},
    {0x10de, 0x2684, "NVIDIA GeForce RTX 4090"},
    {0x10de, 0x2237, "NVIDIA A10G"},
    {0x10de, 0x1db1, "Tesla V100-SXM2-16GB"},
    {0x10de, 0x1db5, "Tesla V100-SXM2-32GB"},
    {0x1002, 0x74a1, "AMD Instinct MI300X"},
    {0x1002, 0x740c, "AMD Instinct MI250X/MI250"},
    {0x15b3, 0x1013, "ConnectX-4"},
    {0x15b3, 0x1017, "ConnectX-5"},
    {0x15b3, 0x1019, "ConnectX-5 Ex"},
    {0x15b3, 0x101b, "ConnectX-6"},
    {0x15b3, 0x101d, "ConnectX-6 Dx"},
    {0x15b3, 0x1021, "ConnectX-7"},
    {0x15b3, 0x1023, "ConnectX-8"},
    {0x1d0f, 0xefa0, "AWS EFA"},
};

/* The model's name from the PCI id table; else `fallback` with the id. Returns whether the
 * table knew the id. */
static int model_name(xmlNodePtr pci, const char *fallback, char *out, size_t len)
{
    long v = attr_long(pci, "vendor", -1), d = attr_long(pci, "device", -1);
    for (size_t i = 0; i < sizeof(pci_models) / sizeof(pci_models[0]); i++)
        if ((long)pci_models[i].vendor == v && (long)pci_models[i].device == d) {
            snprintf(out, len, "%s", pci_models[i].name);
            return 1;
        }
    if (v > 0 && v != 0xffff && d >= 0)
        snprintf(out, len, "%s 0x%04lx:0x%04lx", fallback, (unsigned long)v, (unsigned long)d);
    else
        snprintf(out, len, "%s", fallback);
    return 0;
}

/* An NVIDIA GPU's compute capability as NCCL writes it (<gpu sm="90">), 0 unknown. RCCL
 * writes an AMD GPU's own numbering into the same attribute (sm="304" gcn="gfx942"), which
 * is no CUDA compute capability. */
static int gpu_sm(xmlNodePtr pci, xmlNodePtr gpu)
{
    if (!gpu || attr(gpu, "gcn") || attr_long(pci, "vendor", 0x10de) == 0x1002)
        return 0;
    return (int)attr_long(gpu, "sm", 0);
}

/* Names a GPU: the PCI id table's name, else its architecture from the compute capability
 * ("NVIDIA Blackwell (sm 100)"), else the PCI id. Its NVLink generation comes from what the
 * source states (the compute capability), the name only where it says nothing. */
static void gpu_model(xmlNodePtr pci, xmlNodePtr gpu, tb_topo_obj_t *o, int *nvlink_version_p)
{
    int sm = gpu_sm(pci, gpu);
    const char *arch = tb_topo_gpu_arch_of_sm(sm);
    if (!model_name(pci, "GPU", o->model, sizeof(o->model)) && arch)
        snprintf(o->model, sizeof(o->model), "NVIDIA %s (sm %d)", arch, sm);
    if (gpu && attr(gpu, "gcn"))
        snprintf(o->model + strlen(o->model), sizeof(o->model) - strlen(o->model), " (%s)",
                 attr(gpu, "gcn"));
    *nvlink_version_p = tb_topo_nvlink_version_of_sm(sm);
    if (!*nvlink_version_p && !sm)
        *nvlink_version_p = tb_topo_nvlink_version(o->model);
}

static void set_link(xmlNodePtr pci, tb_topo_obj_t *o)
{
    o->link_gen = tb_topo_pcie_gen_of_rate(attr(pci, "link_speed"));
    o->link_width = (int)attr_long(pci, "link_width", 0);
    if (o->link_width < 0 || o->link_width > 32)
        o->link_width = 0;
}

static int add(nccl_ctx_t *c, const tb_topo_obj_t *o)
{
    int idx = tb_topo_add_obj(c->topo, o);
    if (idx < 0)
        tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
    return idx;
}

/* Docker bridges, veths, Calico and tunnel interfaces: NCCL lists them, they carry no
 * inter-node traffic worth modelling. */
static int virtual_netdev(const char *name)
{
    static const char *prefixes[] = {"veth", "br-",   "docker", "cali", "tunl", "flannel",
                                     "cni",  "vxlan", "virbr",  "lo",   "kube", "weave"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* NCCL lists the devices of the network transport it chose: RDMA devices (IB verbs,
 * EFA through its plugin) or, without any, socket interfaces. Only RDMA devices are NICs
 * of the model (docs/topology.md); a socket <net> is recorded as an interface. RDMA is
 * told by the PCI function (InfiniBand/fabric class, Mellanox, EFA, Slingshot), the
 * device name, or the port: NCCL's IB transport numbers ports from 1, sockets say 0. */
static int rdma_net(xmlNodePtr n, long cls, long vendor, long device)
{
    static const char *const prefixes[] = {"mlx", "hfi", "qib", "rdmap", "efa", "bnxt_re",
                                           "irdma", "erdma", "ionic", "cxi", "qedr", "hns"};
    const char *name = attr(n, "name");
    if (cls > 0 &&
        tb_topo_rdma_hardware((unsigned)vendor, (unsigned)device, (unsigned)(cls >> 8)))
        return 1;
    for (size_t i = 0; name && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return attr_long(n, "port", 0) >= 1;
}

static void add_socket_netif(nccl_ctx_t *c, xmlNodePtr n, xmlNodePtr pci, const char *name)
{
    tb_topo_t *topo = c->topo;
    tb_topo_netif_t *nif;
    long speed = attr_long(n, "speed", 0);
    if (topo->nnetifs >= TB_TOPO_MAX_NETIFS)
        return;
    nif = &topo->netifs[topo->nnetifs++];
    memset(nif, 0, sizeof(*nif));
    snprintf(nif->name, sizeof(nif->name), "%s", name ? name : "?");
    nif->kind = TB_NETIF_PHYSICAL;
    nif->speed_mbps = speed > 0 && speed < 100000000 ? (int)speed : -1;
    if (pci)
        copy_lower(nif->busid, sizeof(nif->busid), attr(pci, "busid"));
    c->nsocket++;
}

static tb_status_t add_nets(nccl_ctx_t *c, xmlNodePtr nic, xmlNodePtr pci, int parent)
{
    long cls = pci ? attr_long(pci, "class", -1) : -1;
    long vendor = pci ? attr_long(pci, "vendor", -1) : -1;
    long device = pci ? attr_long(pci, "device", -1) : -1;
    for (xmlNodePtr n = nic->children; n; n = n->next) {
        tb_topo_obj_t o;
        const char *name;
        long speed;
        if (!is(n, "net"))
            continue;
        name = attr(n, "name");
        if (name && virtual_netdev(name)) {
            c->nvirtual++;
            continue;
        }
        if (!rdma_net(n, cls, vendor, device)) {
            add_socket_netif(c, n, pci, name);
            continue;
        }
        tb_topo_obj_init(&o, TB_OBJ_NIC);
        o.parent = parent;
        if (name && *name)
            snprintf(o.name, sizeof(o.name), "%s", name);
        else
            snprintf(o.name, sizeof(o.name), "net%ld", attr_long(n, "dev", 0));
        if (pci) {
            copy_lower(o.busid, sizeof(o.busid), attr(pci, "busid"));
            set_link(pci, &o);
            model_name(pci, "NIC", o.model, sizeof(o.model));
        } else {
            snprintf(o.model, sizeof(o.model), "network interface");
        }
        o.os_index = (int)attr_long(n, "dev", -1);
        o.nports = 1;
        o.ports[0].num = (int)attr_long(n, "port", 1);
        o.ports[0].rocev2_gid_index = -1;
        speed = attr_long(n, "speed", 0); /* Mb/s */
        if (speed > 0)
            o.ports[0].rate_gbps = speed / 1000.0;
        /* NCCL writes no link layer: the PCI class says it (marked inferred). */
        if ((cls >> 8) == 0x0207)
            snprintf(o.ports[0].link_layer, sizeof(o.ports[0].link_layer), "InfiniBand");
        else if ((cls >> 8) == 0x0200 && vendor == 0x15b3)
            snprintf(o.ports[0].link_layer, sizeof(o.ports[0].link_layer), "Ethernet");
        if (o.ports[0].link_layer[0])
            o.inferred |= TB_INF_LINK_LAYER;
        if (add(c, &o) < 0)
            return TB_ERR_INTERNAL;
        /* NCCL writes gdr="0" when GPUDirect RDMA cannot be used with this NIC (no
         * nvidia-peermem or dma-buf): traffic is staged through host memory. Socket NICs
         * never have it, so only RDMA ones (a link layer known from the PCI class) count. */
        if (o.ports[0].link_layer[0] && attr(n, "gdr") && attr_long(n, "gdr", 1) == 0)
            tb_topo_add_finding(c->topo, TB_SEV_WARN, "gdr_unavailable", o.name,
                                "NCCL recorded gdr=0 for %s: GPUDirect RDMA is not available "
                                "(nvidia-peermem or dma-buf support missing?), so GPU traffic "
                                "is staged through host memory",
                                o.name);
    }
    return TB_OK;
}

static tb_status_t pend_link(nccl_ctx_t *c, int from, xmlNodePtr l, tb_link_kind_t kind,
                             int version)
{
    pending_link_t *p;
    if (c->npend == c->cap_pend) {
        size_t ncap = c->cap_pend ? c->cap_pend * 2 : 32;
        void *np = realloc(c->pend, ncap * sizeof(*c->pend));
        if (!np)
            return tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
        c->pend = np;
        c->cap_pend = ncap;
    }
    p = &c->pend[c->npend++];
    memset(p, 0, sizeof(*p));
    p->from = from;
    p->kind = kind;
    p->version = version;
    copy_lower(p->target, sizeof(p->target), attr(l, "target"));
    copy_lower(p->tclass, sizeof(p->tclass), attr(l, "tclass"));
    p->count = (int)attr_long(l, "count", 1);
    if (p->count < 1 || p->count > 64)
        p->count = 1;
    p->line = (int)xmlGetLineNo(l);
    return TB_OK;
}

static tb_status_t walk_pci(nccl_ctx_t *c, xmlNodePtr pci, int parent);

static tb_status_t walk_children(nccl_ctx_t *c, xmlNodePtr node, int parent)
{
    tb_status_t st;
    for (xmlNodePtr n = node->children; n; n = n->next) {
        if (is(n, "pci")) {
            if ((st = walk_pci(c, n, parent)) != TB_OK)
                return st;
        } else if (is(n, "nic")) {
            if ((st = add_nets(c, n, NULL, parent)) != TB_OK)
                return st;
        }
    }
    return TB_OK;
}

static tb_status_t walk_pci(nccl_ctx_t *c, xmlNodePtr pci, int parent)
{
    xmlNodePtr gpu = NULL, nic = NULL;
    long cls = attr_long(pci, "class", -1);
    const char *busid = attr(pci, "busid");
    tb_topo_obj_t o;
    int idx, nvlink_version = 0;
    tb_status_t st;

    for (xmlNodePtr n = pci->children; n; n = n->next) {
        if (is(n, "gpu"))
            gpu = n;
        else if (is(n, "nic"))
            nic = n;
    }
    if (nic && !gpu && (cls >> 16) != 0x06)
        /* Each <net> becomes a NIC with this PCI function's link. A <nic> inside a bridge
         * or host bridge <pci> is not that function: it hangs below the bridge object
         * (walk_children) and keeps neither its model nor its link. */
        return add_nets(c, nic, pci, parent);

    if (gpu)
        tb_topo_obj_init(&o, TB_OBJ_GPU);
    else if ((cls >> 8) == 0x0604)
        tb_topo_obj_init(&o, TB_OBJ_BRIDGE);
    else if ((cls >> 8) == 0x0600)
        tb_topo_obj_init(&o, TB_OBJ_HOSTBRIDGE); /* a root complex some dumps list */
    else if ((cls >> 16) == 0x03)
        tb_topo_obj_init(&o, TB_OBJ_GPU);
    else if ((cls >> 8) == 0x0680 && attr_long(pci, "vendor", -1) == 0x10de)
        tb_topo_obj_init(&o, TB_OBJ_NVSWITCH);
    else if ((cls >> 16) == 0x02)
        tb_topo_obj_init(&o, TB_OBJ_NIC);
    else
        tb_topo_obj_init(&o, TB_OBJ_PCIDEV);
    o.parent = parent;
    copy_lower(o.busid, sizeof(o.busid), busid);
    set_link(pci, &o);

    switch (o.kind) {
    case TB_OBJ_GPU:
        /* dev is CUDA's index; hand-written files without it are numbered in PCI bus
         * order by tb_topo_number_gpus (as nvidia-smi and CUDA_DEVICE_ORDER=PCI_BUS_ID). */
        o.os_index = gpu ? (int)attr_long(gpu, "dev", -1) : -1;
        snprintf(o.name, sizeof(o.name), "GPU%d", o.os_index >= 0 ? o.os_index : c->ngpus);
        gpu_model(pci, gpu, &o, &nvlink_version);
        c->ngpus++;
        break;
    case TB_OBJ_BRIDGE:
        /* Hand-written cloud files invent switches in bus ffff:ff. */
        if (strncmp(o.busid, "ffff:ff:", 8) == 0) {
            snprintf(o.name, sizeof(o.name), "switch %s (synthetic)", o.busid);
            c->nswitch_fake++;
        } else {
            snprintf(o.name, sizeof(o.name), "switch %s", o.busid[0] ? o.busid : "?");
        }
        model_name(pci, "PCIe bridge", o.model, sizeof(o.model));
        break;
    case TB_OBJ_NIC:
        /* A NIC without <net> (hand-written files): no device name to show. */
        snprintf(o.name, sizeof(o.name), "NIC%d", c->nanon_nics++);
        model_name(pci, "NIC", o.model, sizeof(o.model));
        o.nports = 1;
        o.ports[0].num = 1;
        o.ports[0].rocev2_gid_index = -1;
        if ((cls >> 8) == 0x0207) {
            snprintf(o.ports[0].link_layer, sizeof(o.ports[0].link_layer), "InfiniBand");
            o.inferred |= TB_INF_LINK_LAYER;
        }
        break;
    default:
        snprintf(o.name, sizeof(o.name), "pci %s", o.busid[0] ? o.busid : "?");
        model_name(pci, "PCI device", o.model, sizeof(o.model));
        break;
    }
    if ((idx = add(c, &o)) < 0)
        return TB_ERR_INTERNAL;
    if (gpu)
        for (xmlNodePtr l = gpu->children; l; l = l->next) {
            if (is(l, "nvlink"))
                st = pend_link(c, idx, l, TB_LINK_NVLINK, nvlink_version);
            else if (is(l, "xgmi"))
                st = pend_link(c, idx, l, TB_LINK_XGMI, 0);
            else
                continue;
            if (st != TB_OK)
                return st;
        }
    return walk_children(c, pci, idx);
}

static int find_busid(const tb_topo_t *topo, const char *busid)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].busid[0] && strcmp(topo->objs[i].busid, busid) == 0 &&
            topo->objs[i].kind != TB_OBJ_NIC)
            return (int)i;
    return -1;
}

static int find_link(const tb_topo_t *topo, tb_link_kind_t kind, int a, int b)
{
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        if (l->kind == kind && ((l->a == a && l->b == b) || (l->a == b && l->b == a)))
            return (int)i;
    }
    return -1;
}

/* Resolves <nvlink>/<xgmi> targets once every object exists (targets may come later in
 * the file). GPU-GPU links are listed from both ends: keep one link per pair. */
static tb_status_t resolve_links(nccl_ctx_t *c)
{
    tb_topo_t *topo = c->topo;
    int invisible = 0;
    for (size_t i = 0; i < c->npend; i++) {
        pending_link_t *p = &c->pend[i];
        /* No pointer into topo->objs is kept: adding an NVSwitch may move the array. */
        tb_topo_link_t l;
        int to, existing;
        if (!p->target[0]) {
            tb_topo_add_note(topo, "%s:%d: %s link of %s without a target, ignored", c->path,
                             p->line, p->kind == TB_LINK_XGMI ? "xgmi" : "nvlink", topo->objs[p->from].name);
            continue;
        }
        if (strcmp(p->target, topo->objs[p->from].busid) == 0) {
            tb_topo_add_finding(topo, TB_SEV_WARN, "nvlink_self_target", topo->objs[p->from].name,
                                "%s:%d: %s lists an NVLink (count %d) to its own bus id %s; "
                                "ignored (a known quirk of some VM dumps, e.g. Azure NC A100 "
                                "v4: the GPU has no usable NVLink peer)",
                                c->path, p->line, topo->objs[p->from].name, p->count, p->target);
            continue;
        }
        to = find_busid(topo, p->target);
        if (to < 0 && strcmp(p->tclass, "0x068000") == 0) {
            /* NVSwitches are usually not in the file (NCCL lists their links, not them). */
            tb_topo_obj_t sw;
            tb_topo_obj_init(&sw, TB_OBJ_NVSWITCH);
            sw.parent = c->root;
            snprintf(sw.busid, sizeof(sw.busid), "%s", p->target);
            snprintf(sw.name, sizeof(sw.name), "NVSwitch %s", p->target);
            snprintf(sw.model, sizeof(sw.model), "NVSwitch (from nvlink targets)");
            if ((to = add(c, &sw)) < 0)
                return TB_ERR_INTERNAL;
            invisible++;
        }
        if (to < 0) {
            tb_topo_add_note(topo, "%s:%d: %s of %s targets %s (class %s), not in the file; "
                             "ignored", c->path, p->line,
                             p->kind == TB_LINK_XGMI ? "xgmi" : "nvlink", topo->objs[p->from].name,
                             p->target, p->tclass[0] ? p->tclass : "?");
            continue;
        }
        if (topo->objs[to].kind == TB_OBJ_GPU &&
            (existing = find_link(topo, p->kind, p->from, to)) >= 0) {
            if (topo->links[existing].count != p->count)
                tb_topo_add_note(topo, "%s:%d: %s-%s link count %d here, %d from the other "
                                 "end; keeping the smaller", c->path, p->line, topo->objs[p->from].name,
                                 topo->objs[to].name, p->count, topo->links[existing].count);
            if (p->count < topo->links[existing].count)
                topo->links[existing].count = p->count;
            continue;
        }
        memset(&l, 0, sizeof(l));
        l.kind = p->kind;
        l.a = p->from;
        l.b = to;
        l.count = p->count;
        l.active = 1;
        l.p2p = -1;
        l.cls = TB_PATH_UNKNOWN;
        if (p->kind == TB_LINK_NVLINK) {
            l.version = p->version;
            /* NCCL states the count, not the generation (from sm or the PCI id). */
            l.inferred = l.version ? TB_INF_VERSION : 0;
        }
        if (tb_topo_add_link(topo, &l) < 0)
            return tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
    }
    if (invisible)
        tb_topo_add_note(topo, "nccl-xml: %d NVSwitch%s known only from nvlink targets",
                         invisible, invisible == 1 ? "" : "es");
    return TB_OK;
}

static tb_status_t build(nccl_ctx_t *c, xmlNodePtr sys)
{
    tb_topo_t *topo = c->topo;
    tb_topo_obj_t o;
    int ncpu = 0;
    tb_status_t st;

    tb_topo_obj_init(&o, TB_OBJ_MACHINE);
    snprintf(o.name, sizeof(o.name), "Machine");
    if ((c->root = add(c, &o)) < 0)
        return TB_ERR_INTERNAL;
    for (xmlNodePtr cpu = sys->children; cpu; cpu = cpu->next) {
        int numa, hb;
        const char *aff;
        if (!is(cpu, "cpu"))
            continue;
        tb_topo_obj_init(&o, TB_OBJ_NUMA);
        o.parent = c->root;
        o.os_index = (int)attr_long(cpu, "numaid", -1);
        if (o.os_index >= 0)
            snprintf(o.name, sizeof(o.name), "NUMA%d", o.os_index);
        else
            snprintf(o.name, sizeof(o.name), "CPU%d", ncpu);
        if ((aff = attr(cpu, "affinity")) != NULL)
            mask_to_list(aff, o.cpuset, sizeof(o.cpuset));
        cpu_model_name(cpu, o.model, sizeof(o.model));
        if (!topo->cpu_model[0])
            snprintf(topo->cpu_model, sizeof(topo->cpu_model), "%s", o.model);
        if (!topo->cpu_pcie_gen)
            topo->cpu_pcie_gen = tb_topo_cpu_pcie_gen(attr(cpu, "vendor"),
                                                      attr_long(cpu, "familyid", -1),
                                                      attr_long(cpu, "modelid", -1));
        if ((numa = add(c, &o)) < 0)
            return TB_ERR_INTERNAL;
        tb_topo_obj_init(&o, TB_OBJ_HOSTBRIDGE);
        o.parent = numa;
        snprintf(o.name, sizeof(o.name), "HostBridge%d", ncpu);
        if ((hb = add(c, &o)) < 0)
            return TB_ERR_INTERNAL;
        if ((st = walk_children(c, cpu, hb)) != TB_OK)
            return st;
        ncpu++;
    }
    if (ncpu == 0)
        tb_topo_add_note(topo, "%s: no <cpu> element; nothing to import", c->path);
    if (c->nvirtual)
        tb_topo_add_note(topo, "nccl-xml: %d virtual interface%s (docker, veth, calico, "
                         "tunnels) left out of the NICs", c->nvirtual,
                         c->nvirtual == 1 ? "" : "s");
    if (c->nsocket)
        tb_topo_add_note(topo, "nccl-xml: %d socket interface%s (no RDMA) recorded as "
                         "interface%s, not NICs", c->nsocket, c->nsocket == 1 ? "" : "s",
                         c->nsocket == 1 ? "" : "s");
    if (c->nswitch_fake)
        tb_topo_add_note(topo, "nccl-xml: %d synthetic PCIe switch%s (bus ffff:ff) from a "
                         "hand-written file: PIX/PXB classes follow the file, not the hardware",
                         c->nswitch_fake, c->nswitch_fake == 1 ? "" : "es");
    if ((st = resolve_links(c)) != TB_OK)
        return st;
    tb_topo_add_note(topo, "nccl-xml: %d cpu, %zu GPU, %zu NIC, %zu NVSwitch", ncpu,
                     tb_topo_count(topo, TB_OBJ_GPU), tb_topo_count(topo, TB_OBJ_NIC),
                     tb_topo_count(topo, TB_OBJ_NVSWITCH));
    return TB_OK;
}

/* Parses `path` (no network, libxml2's messages kept for ours): TB_ERR_INPUT naming the
 * file and line when it is not well-formed XML. *ctxt_p and *doc_p are for the caller to
 * free, also on error. */
static tb_status_t read_xml(const char *path, const char *what, xmlParserCtxtPtr *ctxt_p,
                            xmlDocPtr *doc_p)
{
    const xmlError *e;
    char msg[200] = "not well-formed";
    *doc_p = NULL;
    if (!(*ctxt_p = xmlNewParserCtxt()))
        return tb_error(TB_ERR_INTERNAL, "%s: cannot create an XML parser", path);
    *doc_p = xmlCtxtReadFile(*ctxt_p, path, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (*doc_p)
        return TB_OK;
    e = xmlCtxtGetLastError(*ctxt_p);
    if (e && e->message) {
        snprintf(msg, sizeof(msg), "%s", e->message);
        msg[strcspn(msg, "\n")] = 0;
    }
    return tb_error(TB_ERR_INPUT, "%s:%d: malformed NCCL %s XML: %s", path, e ? e->line : 0,
                    what, msg);
}

tb_status_t tb_topo_from_nccl_xml(tb_topo_t *topo, const char *path)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    nccl_ctx_t c;
    tb_status_t st = TB_OK;

    memset(&c, 0, sizeof(c));
    c.topo = topo;
    c.path = path;
    if ((st = read_xml(path, "topology", &ctxt, &doc)))
        goto out;
    root = xmlDocGetRootElement(doc);
    if (!root) {
        st = tb_error(TB_ERR_INPUT, "%s: empty XML document", path);
        goto out;
    }
    if (is(root, "graphs")) {
        st = tb_error(TB_ERR_INPUT,
                      "%s:%d: this is an NCCL graph file (<graphs>, NCCL_GRAPH_FILE: rings and "
                      "trees), not a topology (<system>, NCCL_TOPO_FILE)",
                      path, (int)xmlGetLineNo(root));
        goto out;
    }
    if (!is(root, "system")) {
        st = tb_error(TB_ERR_INPUT, "%s:%d: root element <%s> is not an NCCL topology "
                      "<system>", path, (int)xmlGetLineNo(root), (const char *)root->name);
        goto out;
    }
    snprintf(topo->source, sizeof(topo->source), "nccl-xml");
    if (attr_long(root, "version", 1) >= 2)
        tb_topo_add_note(topo, "nccl-xml: <system version=\"%s\"> (RCCL dialect)",
                         attr(root, "version"));
    st = build(&c, root);
out:
    free(c.pend);
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return st;
}

/* ---- NCCL's graph dump (NCCL_GRAPH_DUMP_FILE, topo_nccl.h) ---- */

static json_t *attr_num(xmlNodePtr n, const char *name)
{
    const char *v = attr(n, name);
    char *end;
    double d;
    if (!v)
        return json_null();
    d = strtod(v, &end);
    if (end == v || *end)
        return json_string(v);
    return d == (double)(json_int_t)d ? json_integer((json_int_t)d) : json_real(d);
}

/* NCCL's graph patterns (src/include/graph.h: NCCL_TOPO_PATTERN_*). */
static const char *pattern_name(long p)
{
    switch (p) {
    case 1: return "balanced_tree";
    case 2: return "split_tree";
    case 3: return "tree";
    case 4: return "ring";
    case 5: return "nvls";
    case 6: return "collnet_direct";
    default: return "unknown";
    }
}

tb_status_t tb_topo_nccl_graphs_read(const char *path, void **json_p)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    json_t *graphs = NULL;
    tb_status_t st;

    *json_p = NULL;
    if ((st = read_xml(path, "graph", &ctxt, &doc)))
        goto out;
    root = xmlDocGetRootElement(doc);
    if (!root || !is(root, "graphs")) {
        st = tb_error(TB_ERR_INPUT, "%s:%d: root element <%s> is not an NCCL graph dump <graphs>",
                      path, root ? (int)xmlGetLineNo(root) : 0,
                      root ? (const char *)root->name : "(none)");
        goto out;
    }
    graphs = json_array();
    for (xmlNodePtr g = root->children; g; g = g->next) {
        json_t *channels, *gj;
        const char *pat;
        if (!is(g, "graph"))
            continue;
        channels = json_array();
        for (xmlNodePtr ch = g->children; ch; ch = ch->next) {
            json_t *nets, *gpus;
            if (!is(ch, "channel"))
                continue;
            nets = json_array();
            gpus = json_array();
            for (xmlNodePtr d = ch->children; d; d = d->next) {
                if (is(d, "net"))
                    json_array_append_new(nets, attr_num(d, "dev"));
                else if (is(d, "gpu"))
                    json_array_append_new(gpus, attr_num(d, "dev"));
            }
            json_array_append_new(channels, json_pack("{s:o, s:o}", "nets", nets, "gpus", gpus));
        }
        pat = attr(g, "pattern");
        gj = json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                       attr_num(g, "id"), "pattern", attr_num(g, "pattern"), "pattern_name",
                       pattern_name(pat ? strtol(pat, NULL, 10) : 0), "crossnic",
                       attr_num(g, "crossnic"), "nchannels", attr_num(g, "nchannels"),
                       "speedintra", attr_num(g, "speedintra"), "speedinter",
                       attr_num(g, "speedinter"), "typeintra", attr_num(g, "typeintra"),
                       "typeinter", attr_num(g, "typeinter"), "channels", channels);
        json_array_append_new(graphs, gj);
    }
    *json_p = graphs;
out:
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return st;
}
