/* hwloc source: builds the graph from this machine's hwloc topology or from an hwloc XML
 * export (lstopo --of xml). Maps packages, NUMA nodes, PCIe host bridges and switches,
 * GPUs, NICs (with their OpenFabrics ports), NVSwitches, and turns the NVLinkBandwidth /
 * XGMIBandwidth distance matrices into links. Also owns the PCIe speed arithmetic shared
 * with sysfs.c and nvml.c (GB/s <-> generation x width, REFERENCE.md section 3). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <hwloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topo_internal.h"

/* Theoretical per-direction GB/s from the one PCIe table (model.c). */
double tb_topo_pcie_gbs(int gen, int width)
{
    tb_topo_bw_t bw;
    return tb_topo_bw_pcie(gen, width, &bw) == 0 ? bw.theoretical_gbs : 0;
}

/* hwloc records only the product GT/s x encoding x width, so one figure fits several
 * (gen, width) pairs (15.75 GB/s is Gen3 x16, Gen4 x8 or Gen5 x4). GPUs, NICs and switch
 * uplinks are x16 far more often than not, so the widest width that fits exactly wins;
 * figures that fit none (0 = unknown, hwloc's placeholder 1.0 in anonymized exports
 * still fits Gen1 x4) leave gen and width at 0. */
void tb_topo_pcie_from_gbs(double gbs, int *gen_p, int *width_p)
{
    static const int widths[] = {16, 8, 4, 2, 1, 32, 12};
    *gen_p = 0;
    *width_p = 0;
    if (!(gbs > 0))
        return;
    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        for (int gen = 6; gen >= 1; gen--) {
            double want = tb_topo_pcie_gbs(gen, widths[w]);
            if (fabs(gbs - want) <= want * 0.002) {
                *gen_p = gen;
                *width_p = widths[w];
                return;
            }
        }
    }
}

/* The GPU backends whose OS device names carry the driver's device index, in the order
 * they are trusted for numbering: nvmlN, cudaN, rsmiN, and openclPdD (D, within one
 * OpenCL platform). */
enum { GPU_BK_NVML, GPU_BK_CUDA, GPU_BK_RSMI, GPU_BK_OPENCL, GPU_BK_COUNT };

typedef struct hw_ctx {
    tb_topo_t *topo;
    hwloc_topology_t h;
    int xml; /* an export: interfaces come from its OS devices (live: sysfs) */
    int ngpus, nnics, nswitches, nplain;
    /* Per GPU (graph order): its object and its index in each backend, -1 none. */
    int *gpu_obj;
    int (*gpu_index)[GPU_BK_COUNT];
    int cap_gpus;
} hw_ctx_t;

static void set_index(hwloc_obj_t o, int idx)
{
    o->userdata = (void *)(intptr_t)(idx + 1);
}

static int get_index(hwloc_obj_t o)
{
    return o ? (int)(intptr_t)o->userdata - 1 : -1;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Copies without leading and trailing blanks: BIOSes pad CPU brand strings. */
static void copy_trimmed(char *dst, size_t len, const char *src)
{
    size_t n;
    src = src ? src : "";
    src += strspn(src, " \t");
    n = strlen(src);
    while (n > 0 && isspace((unsigned char)src[n - 1]))
        n--;
    snprintf(dst, len, "%.*s", (int)n, src);
}

/* pci.ids names functions "MT27800 Family [ConnectX-5]": the bracketed marketing name is
 * what the NCCL importer's table and every vendor tool call the NIC. */
static void nic_model(char *dst, size_t len, const char *pcidev)
{
    const char *open = strrchr(pcidev, '['), *close = strrchr(pcidev, ']');
    if (open && close && close > open + 1 && close[1] == '\0')
        snprintf(dst, len, "%.*s", (int)(close - open - 1), open + 1);
    else
        copy_str(dst, len, pcidev);
}

static void busid_of(const struct hwloc_pcidev_attr_s *pci, char *buf, size_t len)
{
    snprintf(buf, len, "%04x:%02x:%02x.%01x", (unsigned)pci->domain, (unsigned)pci->bus,
             (unsigned)pci->dev, (unsigned)pci->func);
}

static void set_link(tb_topo_obj_t *o, float linkspeed)
{
    if (!(linkspeed > 0))
        return;
    o->link_gbs = linkspeed;
    tb_topo_pcie_from_gbs(linkspeed, &o->link_gen, &o->link_width);
    if (o->link_gen > 0)
        o->inferred |= TB_INF_LINK; /* one GB/s figure, several (gen, width) pairs */
}

/* The NUMA node of a normal object: its nodeset when it holds exactly one node. */
static int numa_of(hwloc_obj_t o)
{
    if (!o || !o->nodeset || hwloc_bitmap_weight(o->nodeset) != 1)
        return -1;
    return hwloc_bitmap_first(o->nodeset);
}

static int find_numa_obj(const tb_topo_t *topo, int os_index)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].kind == TB_OBJ_NUMA && topo->objs[i].os_index == os_index)
            return (int)i;
    return -1;
}

static int add_obj(hw_ctx_t *ctx, const tb_topo_obj_t *obj, hwloc_obj_t hobj)
{
    int idx = tb_topo_add_obj(ctx->topo, obj);
    if (idx >= 0 && hobj)
        set_index(hobj, idx);
    return idx;
}

/* Pass 1: machine, packages and NUMA nodes (memory children), so that I/O attached
 * anywhere can find its NUMA node in pass 2. Objects the model does not keep (groups,
 * dies, caches, cores) map to their nearest kept ancestor. */
static tb_status_t map_normal(hw_ctx_t *ctx, hwloc_obj_t o, int parent)
{
    tb_topo_obj_t obj;
    int idx = parent;

    if (o->type == HWLOC_OBJ_MACHINE && parent < 0) {
        const char *product = hwloc_obj_get_info_by_name(o, "DMIProductName");
        tb_topo_obj_init(&obj, TB_OBJ_MACHINE);
        copy_str(obj.name, sizeof(obj.name), "Machine");
        copy_str(obj.model, sizeof(obj.model), product);
        if (o->cpuset)
            hwloc_bitmap_list_snprintf(obj.cpuset, sizeof(obj.cpuset), o->cpuset);
        obj.numa = numa_of(o);
        idx = add_obj(ctx, &obj, o);
    } else if (o->type == HWLOC_OBJ_PACKAGE) {
        const char *cpu = hwloc_obj_get_info_by_name(o, "CPUModel");
        tb_topo_obj_init(&obj, TB_OBJ_PACKAGE);
        obj.parent = parent;
        obj.os_index = o->os_index == HWLOC_UNKNOWN_INDEX ? -1 : (int)o->os_index;
        snprintf(obj.name, sizeof(obj.name), "Package%d", obj.os_index >= 0 ? obj.os_index
                                                                            : (int)o->logical_index);
        copy_trimmed(obj.model, sizeof(obj.model), cpu);
        if (cpu && !ctx->topo->cpu_model[0]) {
            /* The brand string never names the generation that sets the inter-socket
             * figure; the family and model numbers do. */
            const char *fam = hwloc_obj_get_info_by_name(o, "CPUFamilyNumber");
            const char *mod = hwloc_obj_get_info_by_name(o, "CPUModelNumber");
            const char *vendor = hwloc_obj_get_info_by_name(o, "CPUVendor");
            long f = fam ? atol(fam) : -1, m = mod ? atol(mod) : -1;
            snprintf(ctx->topo->cpu_model, sizeof(ctx->topo->cpu_model), "%s%s", obj.model,
                     tb_topo_cpu_generation(vendor, f, m));
            ctx->topo->cpu_pcie_gen = tb_topo_cpu_pcie_gen(vendor, f, m);
        }
        if (o->cpuset)
            hwloc_bitmap_list_snprintf(obj.cpuset, sizeof(obj.cpuset), o->cpuset);
        obj.numa = numa_of(o);
        idx = add_obj(ctx, &obj, o);
    } else {
        set_index(o, parent);
    }
    if (idx < 0 && (o->type == HWLOC_OBJ_MACHINE || o->type == HWLOC_OBJ_PACKAGE))
        return tb_error(TB_ERR_INTERNAL, "out of memory building the topology");

    for (hwloc_obj_t m = o->memory_first_child; m; m = m->next_sibling) {
        if (m->type == HWLOC_OBJ_NUMANODE) {
            tb_topo_obj_init(&obj, TB_OBJ_NUMA);
            obj.parent = idx;
            obj.os_index = m->os_index == HWLOC_UNKNOWN_INDEX ? -1 : (int)m->os_index;
            obj.numa = obj.os_index;
            snprintf(obj.name, sizeof(obj.name), "NUMA%d", obj.os_index);
            obj.memory_bytes = m->attr ? m->attr->numanode.local_memory : 0;
            if (m->cpuset)
                hwloc_bitmap_list_snprintf(obj.cpuset, sizeof(obj.cpuset), m->cpuset);
            if (add_obj(ctx, &obj, m) < 0)
                return tb_error(TB_ERR_INTERNAL, "out of memory building the topology");
        } else {
            /* Memory-side caches sit between the parent and its NUMA nodes. */
            tb_status_t st = map_normal(ctx, m, idx);
            if (st != TB_OK)
                return st;
        }
    }
    for (hwloc_obj_t c = o->first_child; c; c = c->next_sibling) {
        tb_status_t st = map_normal(ctx, c, idx);
        if (st != TB_OK)
            return st;
    }
    return TB_OK;
}

/* GPU vendors whose display-class functions are compute or graphics GPUs. */
static int gpu_vendor(unsigned vendor)
{
    return vendor == 0x10de || vendor == 0x1002 || vendor == 0x8086;
}

/* Display functions that are board management VGA rather than GPUs even though the
 * vendor makes GPUs: ATI ES1000 (1002:515e, 1002:5159) on many older servers. */
static int bmc_vga(unsigned vendor, unsigned device)
{
    return vendor == 0x1002 && (device == 0x515e || device == 0x5159);
}

static int has_osdev(hwloc_obj_t pci, hwloc_obj_osdev_type_t type)
{
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling)
        if (c->type == HWLOC_OBJ_OS_DEVICE && c->attr->osdev.type == type)
            return 1;
    return 0;
}

static int has_any_osdev(hwloc_obj_t pci)
{
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling)
        if (c->type == HWLOC_OBJ_OS_DEVICE)
            return 1;
    return 0;
}

/* A NIC of the model is a network device NCCL can carry traffic over with RDMA, as
 * nvidia-smi topo -m and NCCL list them: one with an OpenFabrics OS device, or, when the
 * export shows no OS device for it at all, known RDMA hardware. A network function that
 * shows only a netdev (1 GbE ports, a cloud ENA, virtio) is a plain interface: a PCI
 * device of the tree and an entry of the interfaces, never a NIC. */
static int is_rdma_nic(hwloc_obj_t o)
{
    const struct hwloc_pcidev_attr_s *p = &o->attr->pcidev;
    if (has_osdev(o, HWLOC_OBJ_OSDEV_OPENFABRICS))
        return 1;
    return !has_any_osdev(o) && tb_topo_rdma_hardware(p->vendor_id, p->device_id, p->class_id);
}

static tb_topo_kind_t classify_pci(hwloc_obj_t o)
{
    const struct hwloc_pcidev_attr_s *p = &o->attr->pcidev;
    unsigned cls = p->class_id;
    if (o->subtype && strcmp(o->subtype, "NVSwitch") == 0)
        return TB_OBJ_NVSWITCH;
    if (cls == 0x0680 && p->vendor_id == 0x10de)
        return TB_OBJ_NVSWITCH;
    if ((cls == 0x0300 || cls == 0x0302 || cls == 0x0380) && gpu_vendor(p->vendor_id) &&
        !bmc_vga(p->vendor_id, p->device_id))
        return TB_OBJ_GPU;
    if (is_rdma_nic(o))
        return TB_OBJ_NIC;
    return TB_OBJ_PCIDEV;
}

/* Trailing decimal number of an OS device name ("nvml3" -> 3), -1 when none. */
static int trailing_index(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || !isdigit((unsigned char)name[n - 1]))
        return -1;
    while (n > 0 && isdigit((unsigned char)name[n - 1]))
        n--;
    return atoi(name + n);
}

static int backend_of(const char *backend, const char *name)
{
    if (!strcmp(backend, "NVML") || !strncmp(name, "nvml", 4))
        return GPU_BK_NVML;
    if (!strcmp(backend, "CUDA") || !strncmp(name, "cuda", 4))
        return GPU_BK_CUDA;
    if (!strcmp(backend, "RSMI") || !strncmp(name, "rsmi", 4))
        return GPU_BK_RSMI;
    if (!strcmp(backend, "OpenCL") || !strncmp(name, "opencl", 6))
        return GPU_BK_OPENCL;
    return -1;
}

/* GPU name, UUID and per-backend device indices from its OS devices; the driver-side
 * backends (NVML, CUDA, RSMI) are preferred over OpenCL for the name, whose names are
 * marketing strings of the family. */
static void gpu_from_osdevs(hwloc_obj_t pci, tb_topo_obj_t *obj, int index[GPU_BK_COUNT])
{
    int best = 0;
    for (int k = 0; k < GPU_BK_COUNT; k++)
        index[k] = -1;
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling) {
        const char *model, *backend, *uuid, *name;
        int rank, bk;
        if (c->type != HWLOC_OBJ_OS_DEVICE)
            continue;
        name = c->name ? c->name : "";
        model = hwloc_obj_get_info_by_name(c, "GPUModel");
        backend = hwloc_obj_get_info_by_name(c, "Backend");
        if (!backend)
            backend = c->subtype ? c->subtype : "";
        uuid = hwloc_obj_get_info_by_name(c, "NVIDIAUUID");
        if (!uuid)
            uuid = hwloc_obj_get_info_by_name(c, "AMDUUID");
        if (uuid && !obj->uuid[0])
            copy_str(obj->uuid, sizeof(obj->uuid), uuid);
        rank = !strcmp(backend, "NVML") ? 4 : !strcmp(backend, "CUDA") ? 3
             : !strcmp(backend, "RSMI") ? 2 : model ? 1 : 0;
        if (rank > best && model) {
            best = rank;
            /* rocm-smi cuts the first two letters of some names ("deon Instinct MI50"). */
            if (strncmp(model, "deon ", 5) == 0)
                snprintf(obj->model, sizeof(obj->model), "Ra%s", model);
            else
                copy_str(obj->model, sizeof(obj->model), model);
        }
        bk = backend_of(backend, name);
        if (bk >= 0 && index[bk] < 0)
            index[bk] = trailing_index(name); /* openclPdD: D */
    }
}

/* GPU numbering (docs/topology.md): GPU i is the device the driver calls i. The first
 * backend that numbers every GPU of the graph, each with its own index, gives the
 * numbers (os_index); when none does (no OS devices, NVIDIA and AMD GPUs side by side,
 * several OpenCL platforms), os_index stays -1 and tb_topo_number_gpus() numbers the
 * GPUs in PCI bus order, as CUDA_DEVICE_ORDER=PCI_BUS_ID does. */
static void choose_gpu_numbers(hw_ctx_t *ctx)
{
    for (int bk = 0; bk < GPU_BK_COUNT; bk++) {
        int ok = ctx->ngpus > 0;
        for (int i = 0; ok && i < ctx->ngpus; i++) {
            ok = ctx->gpu_index[i][bk] >= 0;
            for (int j = 0; ok && j < i; j++)
                ok = ctx->gpu_index[j][bk] != ctx->gpu_index[i][bk];
        }
        if (!ok)
            continue;
        for (int i = 0; i < ctx->ngpus; i++)
            ctx->topo->objs[ctx->gpu_obj[i]].os_index = ctx->gpu_index[i][bk];
        return;
    }
    for (int i = 0; i < ctx->ngpus; i++)
        ctx->topo->objs[ctx->gpu_obj[i]].os_index = -1;
}

/* The interfaces of an export: every network OS device (netdevs of plain Ethernet
 * functions and of HCAs alike, as /sys/class/net lists them on the live machine, where
 * sysfs.c fills the same table). hwloc records no state, speed or MTU. */
static void add_netif(hw_ctx_t *ctx, hwloc_obj_t osdev, const char *busid)
{
    tb_topo_t *topo = ctx->topo;
    tb_topo_netif_t *nif;
    const char *addr = hwloc_obj_get_info_by_name(osdev, "Address");
    if (!ctx->xml || !osdev->name || topo->nnetifs >= TB_TOPO_MAX_NETIFS)
        return;
    nif = &topo->netifs[topo->nnetifs++];
    memset(nif, 0, sizeof(*nif));
    copy_str(nif->name, sizeof(nif->name), osdev->name);
    nif->kind = TB_NETIF_PHYSICAL;
    nif->speed_mbps = -1;
    copy_str(nif->busid, sizeof(nif->busid), busid);
    copy_str(nif->address, sizeof(nif->address), addr);
}

static void netifs_from_osdevs(hw_ctx_t *ctx, hwloc_obj_t pci, const char *busid)
{
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling)
        if (c->type == HWLOC_OBJ_OS_DEVICE && c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK)
            add_netif(ctx, c, busid);
}

/* The netdev name of a plain network function, "" when it has none. */
static const char *netdev_name(hwloc_obj_t pci)
{
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling)
        if (c->type == HWLOC_OBJ_OS_DEVICE && c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK &&
            c->name)
            return c->name;
    return "";
}

/* Bytes of a hardware address "aa:bb:...": 6 for Ethernet, 20 for IPoIB; 0 unknown. */
static int address_bytes(hwloc_obj_t pci, const char *netdev)
{
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling) {
        const char *addr;
        if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name || strcmp(c->name, netdev) != 0)
            continue;
        addr = hwloc_obj_get_info_by_name(c, "Address");
        return addr && *addr ? (int)(strlen(addr) + 1) / 3 : 0;
    }
    return 0;
}

/* hwloc records no link layer; the port says it as the NCCL importer's class rule does,
 * from the strongest evidence first: a LID is assigned only on InfiniBand (Ethernet ports
 * read 0), an IPoIB netdev has a 20-byte hardware address and an Ethernet one 6 bytes, and
 * the PCI class is 0x0207 (InfiniBand), 0x0208 (fabric: Omni-Path presents InfiniBand to
 * verbs), 0x0c06 (old IB HCAs) or 0x0200 (Ethernet: RoCE). Marked inferred. */
static void infer_link_layers(hwloc_obj_t pci, tb_topo_obj_t *obj)
{
    unsigned cls = pci->type == HWLOC_OBJ_PCI_DEVICE ? pci->attr->pcidev.class_id : 0;
    for (int k = 0; k < obj->nports && k < TB_TOPO_MAX_PORTS; k++) {
        tb_topo_port_t *pt = &obj->ports[k];
        int bytes = pt->netdev[0] ? address_bytes(pci, pt->netdev) : 0;
        const char *layer = NULL;
        if (pt->link_layer[0])
            continue;
        if (pt->lid != 0 || bytes == 20)
            layer = "InfiniBand";
        else if (bytes == 6)
            layer = "Ethernet";
        else if (cls == 0x0207 || cls == 0x0208 || cls == 0x0c06)
            layer = "InfiniBand";
        else if ((cls >> 8) == 0x02)
            layer = "Ethernet";
        if (layer) {
            copy_str(pt->link_layer, sizeof(pt->link_layer), layer);
            obj->inferred |= TB_INF_LINK_LAYER;
        }
    }
}

/* NIC name, ports and netdevs from its OpenFabrics and network OS devices. */
static void nic_from_osdevs(hwloc_obj_t pci, tb_topo_obj_t *obj)
{
    const char *netname = NULL;
    for (hwloc_obj_t c = pci->io_first_child; c; c = c->next_sibling) {
        if (c->type != HWLOC_OBJ_OS_DEVICE || !c->name)
            continue;
        if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS) {
            if (!obj->name[0])
                copy_str(obj->name, sizeof(obj->name), c->name);
            for (int n = 1; n <= TB_TOPO_MAX_PORTS; n++) {
                char key[32];
                const char *state, *lid;
                tb_topo_port_t *port;
                snprintf(key, sizeof(key), "Port%dState", n);
                state = hwloc_obj_get_info_by_name(c, key);
                if (!state)
                    continue;
                port = tb_topo_nic_port(obj, n);
                if (!port)
                    break;
                tb_topo_port_set_state(port, atoi(state), -1);
                snprintf(key, sizeof(key), "Port%dLID", n);
                lid = hwloc_obj_get_info_by_name(c, key);
                if (lid)
                    port->lid = (int)strtol(lid, NULL, 0);
                for (int g = 0; g < 256; g++) {
                    unsigned char raw[16];
                    const char *gid;
                    snprintf(key, sizeof(key), "Port%dGID%d", n, g);
                    gid = hwloc_obj_get_info_by_name(c, key);
                    if (!gid)
                        break;
                    /* hwloc does not record the GID type: counted, not typed. */
                    if (inet_pton(AF_INET6, gid, raw) == 1)
                        tb_topo_port_add_gid(port, g, raw, NULL);
                }
            }
        } else if (c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK) {
            const char *portnum = hwloc_obj_get_info_by_name(c, "Port");
            if (!netname)
                netname = c->name;
            if (portnum) {
                tb_topo_port_t *port = tb_topo_nic_port(obj, atoi(portnum));
                if (port && !port->netdev[0])
                    copy_str(port->netdev, sizeof(port->netdev), c->name);
            }
        }
    }
    if (!obj->name[0] && netname)
        copy_str(obj->name, sizeof(obj->name), netname);
    infer_link_layers(pci, obj);
}

static tb_status_t map_io(hw_ctx_t *ctx, hwloc_obj_t o, int parent, int numa);

static int grow_gpus(hw_ctx_t *ctx)
{
    int ncap = ctx->cap_gpus ? 2 * ctx->cap_gpus : 16;
    int *obj = realloc(ctx->gpu_obj, (size_t)ncap * sizeof(*obj));
    int(*index)[GPU_BK_COUNT];
    if (!obj)
        return -1;
    ctx->gpu_obj = obj;
    index = realloc(ctx->gpu_index, (size_t)ncap * sizeof(*index));
    if (!index)
        return -1;
    ctx->gpu_index = index;
    ctx->cap_gpus = ncap;
    return 0;
}

static tb_status_t map_io_children(hw_ctx_t *ctx, hwloc_obj_t o, int parent, int numa)
{
    for (hwloc_obj_t c = o->io_first_child; c; c = c->next_sibling) {
        tb_status_t st = map_io(ctx, c, parent, numa);
        if (st != TB_OK)
            return st;
    }
    return TB_OK;
}

/* Near cores of an I/O object: those of the normal object it is attached to. */
static void io_cpuset(hw_ctx_t *ctx, hwloc_obj_t o, tb_topo_obj_t *obj)
{
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(ctx->h, o);
    if (anc && anc->cpuset)
        hwloc_bitmap_list_snprintf(obj->cpuset, sizeof(obj->cpuset), anc->cpuset);
}

/* hwloc shows every port of the PCIe fabric as a bridge: below the host bridge (depth
 * 0) the root port (depth 1), then per switch its upstream port (even depth) and one
 * downstream port per slot (odd depth). The model has one BRIDGE per switch, as NCCL's
 * topology and nvidia-smi's PIX/PXB count them: root ports and downstream ports fold into
 * their parent. Their links are not lost: a root port's link is its switch's uplink, a
 * downstream port's is the device's own, and both are read from the objects that stay. A
 * downstream port is recognised by its odd depth and its parent being the same chip's
 * upstream port (same vendor: AMD's GPU switches have upstream 1002:14a0 and downstream
 * 1002:14a1), so cascaded switches stay two switches: their upstream ports are at even
 * depths. */
static int folds_into_parent(hwloc_obj_t o)
{
    hwloc_obj_t up = o->parent;
    const struct hwloc_bridge_attr_s *b = &o->attr->bridge, *ub;
    if (b->upstream_type != HWLOC_OBJ_BRIDGE_PCI || !up || up->type != HWLOC_OBJ_BRIDGE)
        return 0;
    ub = &up->attr->bridge;
    if (ub->upstream_type == HWLOC_OBJ_BRIDGE_HOST)
        return 1; /* root port */
    return b->depth % 2 == 1 && ub->upstream_type == HWLOC_OBJ_BRIDGE_PCI &&
           ub->upstream.pci.vendor_id == b->upstream.pci.vendor_id;
}

static tb_status_t map_io(hw_ctx_t *ctx, hwloc_obj_t o, int parent, int numa)
{
    tb_topo_obj_t obj;
    const char *pcidev_name;
    int idx;

    if (o->type == HWLOC_OBJ_BRIDGE && folds_into_parent(o))
        return map_io_children(ctx, o, parent, numa);
    if (o->type == HWLOC_OBJ_BRIDGE) {
        const struct hwloc_bridge_attr_s *b = &o->attr->bridge;
        if (b->upstream_type == HWLOC_OBJ_BRIDGE_HOST) {
            tb_topo_obj_init(&obj, TB_OBJ_HOSTBRIDGE);
            if (b->downstream_type == HWLOC_OBJ_BRIDGE_PCI)
                snprintf(obj.name, sizeof(obj.name), "HostBridge%04x:%02x",
                         (unsigned)b->downstream.pci.domain,
                         (unsigned)b->downstream.pci.secondary_bus);
            else
                copy_str(obj.name, sizeof(obj.name), "HostBridge");
        } else {
            tb_topo_obj_init(&obj, TB_OBJ_BRIDGE);
            busid_of(&b->upstream.pci, obj.busid, sizeof(obj.busid));
            copy_str(obj.name, sizeof(obj.name), obj.busid);
            pcidev_name = hwloc_obj_get_info_by_name(o, "PCIDevice");
            if (pcidev_name)
                copy_str(obj.model, sizeof(obj.model), pcidev_name);
            else
                snprintf(obj.model, sizeof(obj.model), "%04x:%04x",
                         (unsigned)b->upstream.pci.vendor_id,
                         (unsigned)b->upstream.pci.device_id);
            set_link(&obj, b->upstream.pci.linkspeed);
        }
        obj.parent = parent;
        obj.numa = numa;
        io_cpuset(ctx, o, &obj);
        idx = add_obj(ctx, &obj, o);
        if (idx < 0)
            return tb_error(TB_ERR_INTERNAL, "out of memory building the topology");
        return map_io_children(ctx, o, idx, numa);
    }

    if (o->type == HWLOC_OBJ_PCI_DEVICE) {
        const struct hwloc_pcidev_attr_s *p = &o->attr->pcidev;
        tb_topo_kind_t kind = classify_pci(o);
        tb_topo_obj_init(&obj, kind);
        obj.parent = parent;
        obj.numa = numa;
        io_cpuset(ctx, o, &obj);
        busid_of(p, obj.busid, sizeof(obj.busid));
        set_link(&obj, p->linkspeed);
        pcidev_name = hwloc_obj_get_info_by_name(o, "PCIDevice");
        if (pcidev_name)
            copy_str(obj.model, sizeof(obj.model), pcidev_name);
        else
            snprintf(obj.model, sizeof(obj.model), "%04x:%04x", (unsigned)p->vendor_id,
                     (unsigned)p->device_id);
        switch (kind) {
        case TB_OBJ_GPU:
            if (ctx->ngpus == ctx->cap_gpus && grow_gpus(ctx) != 0)
                return tb_error(TB_ERR_INTERNAL, "out of memory building the topology");
            gpu_from_osdevs(o, &obj, ctx->gpu_index[ctx->ngpus]);
            ctx->gpu_obj[ctx->ngpus] = (int)ctx->topo->nobjs; /* the index add_obj gives */
            snprintf(obj.name, sizeof(obj.name), "GPU%d", ctx->ngpus++);
            break;
        case TB_OBJ_NVSWITCH:
            /* Unidentified switches read as 0000:0000; hwloc's subtype still says. */
            if (!pcidev_name)
                copy_str(obj.model, sizeof(obj.model), "NVSwitch");
            snprintf(obj.name, sizeof(obj.name), "NVSwitch%d", ctx->nswitches++);
            break;
        case TB_OBJ_NIC:
            if (pcidev_name)
                nic_model(obj.model, sizeof(obj.model), pcidev_name);
            nic_from_osdevs(o, &obj);
            if (!obj.name[0])
                copy_str(obj.name, sizeof(obj.name), obj.busid);
            ctx->nnics++;
            break;
        default:
            /* A plain network function is named after its interface, like the
             * interface table, so that the two can be told together. */
            copy_str(obj.name, sizeof(obj.name), netdev_name(o));
            if (!obj.name[0])
                copy_str(obj.name, sizeof(obj.name), obj.busid);
            else
                ctx->nplain++;
            break;
        }
        netifs_from_osdevs(ctx, o, obj.busid);
        idx = add_obj(ctx, &obj, o);
        if (idx < 0)
            return tb_error(TB_ERR_INTERNAL, "out of memory building the topology");
        /* OS devices are read through their PCI parent; they map to it. */
        for (hwloc_obj_t c = o->io_first_child; c; c = c->next_sibling)
            if (c->type == HWLOC_OBJ_OS_DEVICE)
                set_index(c, idx);
            else if (map_io(ctx, c, idx, numa) != TB_OK)
                return TB_ERR_INTERNAL;
        return TB_OK;
    }

    if (o->type == HWLOC_OBJ_OS_DEVICE) {
        /* An HCA seen without its PCI function (PCI discovery off, virtual devices). */
        if (o->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS && o->name) {
            tb_topo_obj_init(&obj, TB_OBJ_NIC);
            obj.parent = parent;
            obj.numa = numa;
            io_cpuset(ctx, o, &obj);
            copy_str(obj.name, sizeof(obj.name), o->name);
            idx = add_obj(ctx, &obj, o);
            if (idx < 0)
                return tb_error(TB_ERR_INTERNAL, "out of memory building the topology");
            ctx->nnics++;
        } else {
            set_index(o, parent);
        }
    }
    return TB_OK;
}

/* Pass 2: I/O subtrees hang below the NUMA node of their attachment point when that is
 * a single node, else below the package or machine it maps to. */
static tb_status_t map_io_roots(hw_ctx_t *ctx, hwloc_obj_t o)
{
    int numa = numa_of(o);
    int parent = numa >= 0 ? find_numa_obj(ctx->topo, numa) : -1;
    tb_status_t st;
    if (parent < 0)
        parent = get_index(o);
    st = map_io_children(ctx, o, parent, numa);
    for (hwloc_obj_t c = o->first_child; c && st == TB_OK; c = c->next_sibling)
        st = map_io_roots(ctx, c);
    return st;
}

/* The object a distance matrix entry stands for: OS devices map to their PCI function. */
static int dist_obj_index(hwloc_obj_t o)
{
    return get_index(o);
}

/* NVLink generation and per-link GB/s by GPU model name (REFERENCE.md section 3). */
static void nvlink_gen(const char *model, int *version_p, double *per_link_p)
{
    *version_p = 0;
    *per_link_p = 25.0;
    if (!model)
        return;
    if (strstr(model, "P100"))
        *version_p = 1, *per_link_p = 20.0;
    else if (strstr(model, "V100"))
        *version_p = 2;
    else if (strstr(model, "A100") || strstr(model, "A800") || strstr(model, "A30"))
        *version_p = 3;
    else if (strstr(model, "H100") || strstr(model, "H200") || strstr(model, "H800") ||
             strstr(model, "GH200"))
        *version_p = 4;
    else if (strstr(model, "B100") || strstr(model, "B200") || strstr(model, "B300"))
        *version_p = 5, *per_link_p = 50.0;
}

static tb_status_t map_distances(hw_ctx_t *ctx, const char *name, tb_link_kind_t kind)
{
    struct hwloc_distances_s *dist[8];
    unsigned nr = 8;
    tb_topo_t *topo = ctx->topo;
    tb_status_t st = TB_OK;
    int nadded = 0;

    if (hwloc_distances_get_by_name(ctx->h, name, &nr, dist, 0) != 0)
        return TB_OK; /* no such matrix: nothing to map */
    if (nr > 8)
        nr = 8;
    for (unsigned d = 0; d < nr; d++) {
        unsigned n = dist[d]->nbobjs;
        for (unsigned i = 0; i < n && st == TB_OK; i++) {
            for (unsigned j = i + 1; j < n; j++) {
                /* Per direction MB/s; take the larger if the matrix is not symmetric. */
                hwloc_uint64_t v = dist[d]->values[i * n + j];
                hwloc_uint64_t w = dist[d]->values[j * n + i];
                int a = dist_obj_index(dist[d]->objs[i]);
                int b = dist_obj_index(dist[d]->objs[j]);
                tb_topo_link_t link;
                const char *gpu_model = NULL;
                double per_link;
                if (w > v)
                    v = w;
                if (v == 0 || a < 0 || b < 0 || a == b)
                    continue;
                memset(&link, 0, sizeof(link));
                link.kind = kind;
                link.a = a;
                link.b = b;
                link.active = 1;
                link.gbs = (double)v / 1000.0;
                if (topo->objs[a].kind == TB_OBJ_GPU)
                    gpu_model = topo->objs[a].model;
                else if (topo->objs[b].kind == TB_OBJ_GPU)
                    gpu_model = topo->objs[b].model;
                if (kind == TB_LINK_NVLINK) {
                    /* Both from the GPU model: hwloc gives MB/s summed over links. */
                    nvlink_gen(gpu_model, &link.version, &per_link);
                    link.count = fmod(link.gbs, per_link) == 0 ? (int)(link.gbs / per_link) : 0;
                    link.inferred = TB_INF_COUNT | (link.version ? TB_INF_VERSION : 0);
                } else {
                    link.count = 1; /* xGMI: no per-link figure is recorded */
                }
                if (tb_topo_add_link(topo, &link) < 0) {
                    st = tb_error(TB_ERR_INTERNAL, "out of memory adding %s links", name);
                    break;
                }
                nadded++;
            }
        }
        hwloc_distances_release(ctx->h, dist[d]);
    }
    if (st == TB_OK && nadded)
        tb_topo_add_note(topo, "hwloc: %d %s links from %s", nadded,
                         kind == TB_LINK_NVLINK ? "NVLink" : "xGMI", name);
    return st;
}

/* hwloc 2.9 dereferences a missing complete_cpuset (complete_nodeset) of an object that
 * has a cpuset (nodeset): found by fuzzing; every hwloc export writes both, so such files
 * are refused before hwloc sees them. */
static tb_status_t check_object_sets(const char *path)
{
    char line[8192];
    long lineno = 0;
    int in_tag = 0, cpuset = 0, ccpuset = 0, nodeset = 0, cnodeset = 0;
    tb_status_t st = TB_OK;
    FILE *f = fopen(path, "r");
    if (!f)
        return tb_error(TB_ERR_INPUT, "%s: cannot open hwloc XML: %s", path, strerror(errno));
    /* Tags may span lines; track the current <object ...> until its '>'. */
    while (st == TB_OK && fgets(line, sizeof(line), f)) {
        const char *p = line;
        lineno++;
        while (*p) {
            if (!in_tag) {
                const char *t = strstr(p, "<object");
                if (!t)
                    break;
                in_tag = 1;
                cpuset = ccpuset = nodeset = cnodeset = 0;
                p = t + 7;
                continue;
            }
            if (*p == '>') {
                if ((cpuset && !ccpuset) || (nodeset && !cnodeset)) {
                    st = tb_error(TB_ERR_INPUT, "%s:%ld: object with a %s but no complete_%s: "
                                  "not a valid hwloc export", path, lineno,
                                  cpuset && !ccpuset ? "cpuset" : "nodeset",
                                  cpuset && !ccpuset ? "cpuset" : "nodeset");
                    break;
                }
                in_tag = 0;
            } else if (*p == ' ') {
                cpuset |= strncmp(p + 1, "cpuset=", 7) == 0;
                nodeset |= strncmp(p + 1, "nodeset=", 8) == 0;
                ccpuset |= strncmp(p + 1, "complete_cpuset=", 16) == 0;
                cnodeset |= strncmp(p + 1, "complete_nodeset=", 17) == 0;
            }
            p++;
        }
    }
    fclose(f);
    return st;
}

/* hwloc 2.x refuses XML version 3.0 with a terse message on stderr; find the version
 * first so the user learns which file and which hwloc are at odds. */
static tb_status_t check_xml_version(const char *path)
{
    char buf[4096];
    size_t n;
    const char *top, *end, *ver;
    unsigned api = hwloc_get_api_version();
    FILE *f = fopen(path, "r");
    if (!f)
        return tb_error(TB_ERR_INPUT, "%s: cannot open hwloc XML: %s", path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    top = strstr(buf, "<topology");
    if (!top)
        return tb_error(TB_ERR_INPUT, "%s: not an hwloc XML export (no <topology> element "
                        "in the first %zu bytes)", path, n);
    end = strchr(top, '>');
    ver = strstr(top, "version=\"");
    if (ver && (!end || ver < end)) {
        int major = atoi(ver + 9);
        if (major > (int)(api >> 16))
            return tb_error(TB_ERR_INPUT,
                            "%s: hwloc XML version %.*s comes from a newer hwloc (%d.x) than the "
                            "installed hwloc %s (API %u.%u), which cannot import it; re-export it "
                            "with hwloc %u.x (lstopo --of xml) or install hwloc %d",
                            path, (int)strcspn(ver + 9, "\""), ver + 9, major, HWLOC_VERSION,
                            api >> 16, (api >> 8) & 0xff, api >> 16, major);
    }
    return check_object_sets(path);
}

/* hwloc loads its plugins when the first topology is created and unloads them when the
 * last is destroyed. The pci plugin's libpciaccess keeps global state that then becomes
 * unreachable (LeakSanitizer reports it as a leak), and reloading plugins on every call
 * costs time; one empty topology kept for the process keeps them loaded. */
static void keep_plugins_loaded(void)
{
    static hwloc_topology_t keep;
    if (!keep && hwloc_topology_init(&keep) != 0)
        keep = NULL;
}

tb_status_t tb_topo_from_hwloc(tb_topo_t *topo, const char *xml_path)
{
    hw_ctx_t ctx;
    hwloc_topology_t h = NULL;
    hwloc_obj_t root;
    tb_status_t st = TB_OK;
    int npk, nnuma, ncores;
    const char *xml_ver;
    char origin[64] = "";

    memset(&ctx, 0, sizeof(ctx));
    if (xml_path) {
        st = check_xml_version(xml_path);
        if (st != TB_OK)
            return st;
    }
    keep_plugins_loaded();
    if (hwloc_topology_init(&h) != 0)
        return tb_error(TB_ERR_INTERNAL, "hwloc_topology_init failed: %s", strerror(errno));
    /* Files keep everything their exporter kept; live discovery keeps the PCI devices
     * that matter and the bridges leading to them (all bridges would add dozens of
     * empty root ports). Caches are not part of the model. */
    hwloc_topology_set_io_types_filter(h, xml_path ? HWLOC_TYPE_FILTER_KEEP_ALL
                                                   : HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    hwloc_topology_set_cache_types_filter(h, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_icache_types_filter(h, HWLOC_TYPE_FILTER_KEEP_NONE);
    /* The gl component asks X servers about displays: no use for compute GPUs, slow
     * when no server answers, and it leaks inside libX11. */
    hwloc_topology_set_components(h, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "gl");
    if (xml_path && hwloc_topology_set_xml(h, xml_path) != 0) {
        st = tb_error(TB_ERR_INPUT, "%s: hwloc cannot read this XML: %s", xml_path,
                      strerror(errno));
        goto out;
    }
    if (hwloc_topology_load(h) != 0) {
        st = xml_path ? tb_error(TB_ERR_INPUT, "%s: hwloc %s failed to load this XML "
                                 "(malformed or unsupported; hwloc's reason is on stderr): %s",
                                 xml_path, HWLOC_VERSION, strerror(errno))
                      : tb_error(TB_ERR_ENV, "hwloc failed to discover this machine: %s",
                                 strerror(errno));
        goto out;
    }

    ctx.topo = topo;
    ctx.h = h;
    ctx.xml = xml_path != NULL;
    root = hwloc_get_root_obj(h);
    if (xml_path) {
        const char *host = hwloc_obj_get_info_by_name(root, "HostName");
        copy_str(topo->source, sizeof(topo->source), "hwloc-xml");
        copy_str(topo->source_file, sizeof(topo->source_file), xml_path);
        if (host && !topo->hostname[0])
            copy_str(topo->hostname, sizeof(topo->hostname), host);
    }
    st = map_normal(&ctx, root, -1);
    if (st == TB_OK)
        st = map_io_roots(&ctx, root);
    if (st == TB_OK && !topo->cpu_model[0]) {
        /* hwloc 1.x exports put CPUModel on the machine object. */
        const char *cpu = hwloc_obj_get_info_by_name(root, "CPUModel");
        copy_trimmed(topo->cpu_model, sizeof(topo->cpu_model), cpu);
    }
    if (st == TB_OK) {
        choose_gpu_numbers(&ctx);
        st = map_distances(&ctx, "NVLinkBandwidth", TB_LINK_NVLINK);
    }
    if (st == TB_OK)
        st = map_distances(&ctx, "XGMIBandwidth", TB_LINK_XGMI);
    if (st != TB_OK)
        goto out;

    npk = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PACKAGE);
    nnuma = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
    ncores = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
    xml_ver = hwloc_obj_get_info_by_name(root, "hwlocVersion");
    if (xml_path)
        snprintf(origin, sizeof(origin), " (XML%s%s)", xml_ver ? " from hwloc " : "",
                 xml_ver ? xml_ver : "");
    tb_topo_add_note(topo, "hwloc %s%s: %d package%s, %d NUMA node%s, %d cores, "
                     "%d GPU%s, %d RDMA NIC%s, %d plain network function%s, %d NVSwitch%s",
                     HWLOC_VERSION, origin, npk, npk == 1 ? "" : "s",
                     nnuma, nnuma == 1 ? "" : "s", ncores, ctx.ngpus, ctx.ngpus == 1 ? "" : "s",
                     ctx.nnics, ctx.nnics == 1 ? "" : "s", ctx.nplain,
                     ctx.nplain == 1 ? "" : "s", ctx.nswitches,
                     ctx.nswitches == 1 ? "" : "es");
    st = tb_topo_number_gpus(topo);
out:
    free(ctx.gpu_obj);
    free(ctx.gpu_index);
    hwloc_topology_destroy(h);
    return st;
}
