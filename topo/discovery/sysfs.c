/* sysfs source: network interfaces (/sys/class/net), PCIe link state of every device the
 * graph holds (/sys/bus/pci/devices), and the RDMA ports under /sys/class/infiniband when
 * libibverbs gave nothing (no verbs in the build, or a recorded tree in tests).
 *
 * Also owns the helpers every source uses to fill a NIC port (state codes to names, GID
 * types, RoCE v2 with IPv4), so that hwloc, verbs and sysfs go through one code path.
 * TOPOBENCH_SYSFS_ROOT replaces /sys, for recorded trees; a recorded tree may use plain
 * directories where the kernel has symlinks (device, net), since everything here is
 * reached with stat/opendir that follow links, and PCI bus ids come from uevent files. */
#define _DEFAULT_SOURCE /* getifaddrs, DT_* */
#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "log.h"
#include "topo_internal.h"

/* Truncating copy: sysfs values longer than the model's fields are cut, not errors. */
static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (len == 0)
        return;
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *tb_netif_kind_name(tb_netif_kind_t kind)
{
    static const char *names[TB_NETIF_KIND_COUNT] = {"physical", "virtual", "bridge",
                                                     "loopback", "bond",    "vlan"};
    return (unsigned)kind < TB_NETIF_KIND_COUNT ? names[kind] : "unknown";
}

/* --- NIC ports, shared by every source --- */

void tb_topo_port_init(tb_topo_port_t *port, int num)
{
    memset(port, 0, sizeof(*port));
    port->num = num;
    port->rocev2_gid_index = -1;
}

/* The port numbered `num` of a NIC, created when new; NULL when the table is full. */
tb_topo_port_t *tb_topo_nic_port(tb_topo_obj_t *nic, int num)
{
    for (int i = 0; i < nic->nports; i++)
        if (nic->ports[i].num == num)
            return &nic->ports[i];
    if (num <= 0 || nic->nports >= TB_TOPO_MAX_PORTS)
        return NULL;
    tb_topo_port_init(&nic->ports[nic->nports], num);
    return &nic->ports[nic->nports++];
}

/* State and physical state as the verbs enums number them (sysfs prints the same
 * numbers: "4: ACTIVE", "5: LinkUp"); -1 leaves a field as it is. */
void tb_topo_port_set_state(tb_topo_port_t *port, int state, int phys_state)
{
    static const char *states[] = {"NOP", "DOWN", "INIT", "ARMED", "ACTIVE", "ACTIVE_DEFER"};
    static const char *phys[] = {"",         "Sleep",   "Polling",
                                 "Disabled", "PortConfigurationTraining",
                                 "LinkUp",   "LinkErrorRecovery", "PhyTest"};
    if (state >= 0)
        snprintf(port->state, sizeof(port->state), "%s",
                 state < (int)(sizeof(states) / sizeof(states[0])) ? states[state] : "UNKNOWN");
    if (phys_state >= 0)
        snprintf(port->phys_state, sizeof(port->phys_state), "%s",
                 phys_state < (int)(sizeof(phys) / sizeof(phys[0])) ? phys[phys_state]
                                                                     : "Unknown");
}

/* One GID table entry. `type` is the kernel's text ("IB/RoCE v1", "RoCE v2"), NULL when
 * the source does not say (hwloc). NCCL_IB_GID_INDEX wants a RoCE v2 GID that carries an
 * IPv4 address (::ffff:a.b.c.d) so that it routes across subnets. */
void tb_topo_port_add_gid(tb_topo_port_t *port, int index, const unsigned char raw[16],
                          const char *type)
{
    static const unsigned char v4prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    int zero = 1;
    for (int i = 0; i < 16; i++)
        zero &= raw[i] == 0;
    if (zero)
        return; /* unused table slot */
    port->ngids++;
    if (!type)
        return;
    if (strstr(type, "v2")) {
        port->nrocev2_gids++;
        port->has_rocev2_gid = 1;
        if (port->rocev2_gid_index < 0 && memcmp(raw, v4prefix, sizeof(v4prefix)) == 0)
            port->rocev2_gid_index = index;
    } else if (strstr(type, "v1") && strcmp(port->link_layer, "Ethernet") == 0) {
        port->nrocev1_gids++;
    }
}

/* --- PCI bus ids --- */

/* "00000000:1B:00.0" (NVML), "1b:00.0", "0000:1b:00.0" -> "0000:1b:00.0". */
void tb_topo_busid_normalize(const char *in, char *out, size_t len)
{
    unsigned dom = 0, bus = 0, dev = 0, fn = 0;
    if (sscanf(in, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
        snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
    else if (sscanf(in, "%x:%x.%x", &bus, &dev, &fn) == 3)
        snprintf(out, len, "%04x:%02x:%02x.%x", 0u, bus, dev, fn);
    else
        snprintf(out, len, "%s", in);
}

int tb_topo_find_busid(const tb_topo_t *topo, const char *busid)
{
    char want[32], have[32];
    tb_topo_busid_normalize(busid, want, sizeof(want));
    for (size_t i = 0; i < topo->nobjs; i++) {
        if (!topo->objs[i].busid[0])
            continue;
        tb_topo_busid_normalize(topo->objs[i].busid, have, sizeof(have));
        if (strcmp(want, have) == 0)
            return (int)i;
    }
    return -1;
}

/* Network hardware that carries RDMA (so NCCL traffic) by what it is: InfiniBand (0x0207),
 * Omni-Path and other fabrics (0x0208), the InfiniBand serial-bus class of older HCAs
 * (0x0c06: QLogic qib, ConnectX-2), Mellanox/NVIDIA ConnectX in any network class (RoCE),
 * AWS EFA and HPE Slingshot (Cassini, 17db:0501), whose exports often show no OS device. */
int tb_topo_rdma_hardware(unsigned vendor, unsigned device, unsigned cls)
{
    if (cls == 0x0207 || cls == 0x0208 || cls == 0x0c06)
        return 1;
    if ((cls >> 8) != 0x02)
        return 0;
    return vendor == 0x15b3 || (vendor == 0x1d0f && (device & 0xfff0) == 0xefa0) ||
           (vendor == 0x17db && device == 0x0501);
}

/* --- file reading --- */

const char *tb_topo_sysfs_root(void)
{
    const char *root = getenv("TOPOBENCH_SYSFS_ROOT");
    return root && root[0] ? root : "/sys";
}

/* First line of root/<rel>, trailing whitespace removed; 0 when it could be read. Files
 * that exist but fail to read (speed of a down link: EINVAL) count as absent. */
static int read_line(const char *rel, char *buf, size_t len)
{
    char path[1024];
    FILE *f;
    size_t n;
    snprintf(path, sizeof(path), "%s/%s", tb_topo_sysfs_root(), rel);
    f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, (int)len, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    return 0;
}

int tb_topo_sysfs_read(const char *rel, char *buf, size_t len)
{
    return read_line(rel, buf, len);
}

static int exists(const char *rel)
{
    char path[1024];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", tb_topo_sysfs_root(), rel);
    return stat(path, &sb) == 0;
}

/* KEY=value from a uevent file (a device's, a netdev's): works through the kernel's
 * symlinks and in a recorded tree alike. */
static int uevent_value(const char *rel_dir, const char *key, char *buf, size_t len)
{
    char path[1024], line[256];
    size_t klen = strlen(key);
    FILE *f;
    int found = -1;
    snprintf(path, sizeof(path), "%s/%s/uevent", tb_topo_sysfs_root(), rel_dir);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            line[strcspn(line, "\n")] = '\0';
            copy_str(buf, len, line + klen + 1);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

/* PCI_SLOT_NAME from a device's uevent. */
static int uevent_busid(const char *rel_device, char *buf, size_t len)
{
    return uevent_value(rel_device, "PCI_SLOT_NAME", buf, len);
}

/* Directory entries except dot files, sorted (readdir order is arbitrary). */
static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_dir(const char *rel, char ***names_p)
{
    char path[1024];
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    snprintf(path, sizeof(path), "%s/%s", tb_topo_sysfs_root(), rel);
    *names_p = NULL;
    d = opendir(path);
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **p = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));
            if (!p)
                break;
            names = p;
            cap = cap ? cap * 2 : 16;
        }
        names[n] = strdup(e->d_name);
        if (!names[n])
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
    *names_p = names;
    return n;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* --- RDMA ports --- */

int tb_topo_sysfs_gid_type(const char *dev, int port, int index, char *buf, size_t len)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/gid_attrs/types/%d", dev, port,
             index);
    return read_line(rel, buf, len);
}

/* The netdev behind an RDMA port: device/net/<if> of the HCA, told apart by dev_port
 * (0-based) on multi-port functions. */
void tb_topo_sysfs_port_netdev(const char *dev, int port, char *buf, size_t len)
{
    char rel[512], val[32];
    char **names;
    size_t n;
    snprintf(rel, sizeof(rel), "class/infiniband/%s/device/net", dev);
    n = list_dir(rel, &names);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int dev_port = 0;
        snprintf(rel, sizeof(rel), "class/infiniband/%s/device/net/%s/dev_port", dev, names[i]);
        if (read_line(rel, val, sizeof(val)) == 0)
            dev_port = atoi(val);
        if (dev_port + 1 == port) {
            snprintf(buf, len, "%s", names[i]);
            break;
        }
    }
    free_list(names, n);
}

/* The NIC object of an RDMA device: by name (hwloc's OpenFabrics osdev), else by PCI bus
 * id; created below the machine when hwloc did not see it. -1 on allocation failure. */
int tb_topo_sysfs_ib_nic(tb_topo_t *topo, const char *dev)
{
    char rel[512], busid[32] = "", val[64];
    tb_topo_obj_t obj;
    int idx = -1, root = -1;
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].kind == TB_OBJ_NIC && strcmp(topo->objs[i].name, dev) == 0)
            return (int)i;
    snprintf(rel, sizeof(rel), "class/infiniband/%s/device", dev);
    if (uevent_busid(rel, busid, sizeof(busid)) == 0)
        idx = tb_topo_find_busid(topo, busid);
    if (idx >= 0) {
        tb_topo_obj_t *o = &topo->objs[idx];
        /* hwloc named it after its netdev, or classified it as a plain PCI device. */
        o->kind = TB_OBJ_NIC;
        copy_str(o->name, sizeof(o->name), dev);
        return idx;
    }
    tb_topo_obj_init(&obj, TB_OBJ_NIC);
    copy_str(obj.name, sizeof(obj.name), dev);
    copy_str(obj.busid, sizeof(obj.busid), busid);
    for (size_t i = 0; i < topo->nobjs && root < 0; i++)
        if (topo->objs[i].kind == TB_OBJ_MACHINE)
            root = (int)i;
    obj.parent = root;
    snprintf(rel, sizeof(rel), "class/infiniband/%s/device/numa_node", dev);
    if (read_line(rel, val, sizeof(val)) == 0)
        obj.numa = atoi(val);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/hca_type", dev);
    if (read_line(rel, val, sizeof(val)) == 0)
        copy_str(obj.model, sizeof(obj.model), val);
    return tb_topo_add_obj(topo, &obj);
}

static void sysfs_fill_port(tb_topo_port_t *port, const char *dev, int num)
{
    char rel[512], val[128], netdev[32];
    char **gids;
    size_t ngids;

    copy_str(netdev, sizeof(netdev), port->netdev);
    tb_topo_port_init(port, num);
    copy_str(port->netdev, sizeof(port->netdev), netdev);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/link_layer", dev, num);
    if (read_line(rel, val, sizeof(val)) == 0)
        copy_str(port->link_layer, sizeof(port->link_layer), val);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/state", dev, num);
    if (read_line(rel, val, sizeof(val)) == 0)
        tb_topo_port_set_state(port, atoi(val), -1);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/phys_state", dev, num);
    if (read_line(rel, val, sizeof(val)) == 0)
        tb_topo_port_set_state(port, -1, atoi(val));
    /* "200 Gb/sec (4X HDR)": the kernel's nominal data rate, as ibstat shows it. */
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/rate", dev, num);
    if (read_line(rel, val, sizeof(val)) == 0)
        port->rate_gbps = strtod(val, NULL);
    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/lid", dev, num);
    if (read_line(rel, val, sizeof(val)) == 0)
        port->lid = (int)strtol(val, NULL, 0);
    if (!port->netdev[0])
        tb_topo_sysfs_port_netdev(dev, num, port->netdev, sizeof(port->netdev));

    snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/gids", dev, num);
    ngids = list_dir(rel, &gids);
    port->gids_typed = 1;
    /* Numeric order: GID indices are what NCCL_IB_GID_INDEX names. */
    for (int want = 0, seen = 0; (size_t)seen < ngids && want < 4096; want++) {
        char name[16], type[32];
        unsigned char raw[16];
        int found = 0;
        snprintf(name, sizeof(name), "%d", want);
        for (size_t i = 0; i < ngids; i++)
            found |= strcmp(gids[i], name) == 0;
        if (!found)
            continue;
        seen++;
        snprintf(rel, sizeof(rel), "class/infiniband/%s/ports/%d/gids/%d", dev, num, want);
        if (read_line(rel, val, sizeof(val)) != 0 || inet_pton(AF_INET6, val, raw) != 1)
            continue;
        if (tb_topo_sysfs_gid_type(dev, num, want, type, sizeof(type)) != 0)
            type[0] = '\0';
        tb_topo_port_add_gid(port, want, raw, type[0] ? type : NULL);
    }
    free_list(gids, ngids);
}

/* Ports that libibverbs already described (it always sets the physical state; hwloc
 * never does) are left alone: verbs is the production source, sysfs the fallback. */
static int add_infiniband(tb_topo_t *topo)
{
    char **devs;
    size_t ndevs = list_dir("class/infiniband", &devs);
    int nports = 0;
    for (size_t d = 0; d < ndevs; d++) {
        char rel[512], val[64];
        char **ports;
        size_t np;
        int idx = tb_topo_sysfs_ib_nic(topo, devs[d]);
        if (idx < 0)
            break;
        snprintf(rel, sizeof(rel), "class/infiniband/%s/fw_ver", devs[d]);
        if (!topo->objs[idx].firmware[0] && read_line(rel, val, sizeof(val)) == 0)
            copy_str(topo->objs[idx].firmware, sizeof(topo->objs[idx].firmware), val);
        snprintf(rel, sizeof(rel), "class/infiniband/%s/ports", devs[d]);
        np = list_dir(rel, &ports);
        for (size_t p = 0; p < np; p++) {
            tb_topo_port_t *port = tb_topo_nic_port(&topo->objs[idx], atoi(ports[p]));
            /* verbs always reads the physical state; hwloc's OS-device infos never do. */
            if (!port || port->phys_state[0])
                continue;
            sysfs_fill_port(port, devs[d], port->num);
            nports++;
        }
        free_list(ports, np);
    }
    free_list(devs, ndevs);
    return nports;
}

/* --- PCIe links --- */

/* "16.0 GT/s PCIe", "8 GT/s", "2.5 GT/s" -> generation; 0 unknown. */
static int gen_of_speed(const char *text)
{
    double gts = strtod(text, NULL);
    if (gts >= 63)
        return 6;
    if (gts >= 31)
        return 5;
    if (gts >= 15)
        return 4;
    if (gts >= 7.9)
        return 3;
    if (gts >= 4.9)
        return 2;
    if (gts >= 2.4)
        return 1;
    return 0;
}

static int add_pci_links(tb_topo_t *topo)
{
    int n = 0;
    for (size_t i = 0; i < topo->nobjs; i++) {
        tb_topo_obj_t *o = &topo->objs[i];
        char rel[256], val[64], busid[32];
        int got = 0;
        if (!o->busid[0])
            continue;
        tb_topo_busid_normalize(o->busid, busid, sizeof(busid));
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/current_link_speed", busid);
        if (read_line(rel, val, sizeof(val)) == 0 && gen_of_speed(val))
            o->link_gen = gen_of_speed(val), got = 1;
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/current_link_width", busid);
        if (read_line(rel, val, sizeof(val)) == 0 && atoi(val) > 0)
            o->link_width = atoi(val), got = 1;
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/max_link_speed", busid);
        if (read_line(rel, val, sizeof(val)) == 0 && gen_of_speed(val))
            o->link_max_gen = gen_of_speed(val), got = 1;
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/max_link_width", busid);
        if (read_line(rel, val, sizeof(val)) == 0 && atoi(val) > 0)
            o->link_max_width = atoi(val), got = 1;
        if (got && o->link_gen && o->link_width) {
            o->link_gbs = tb_topo_pcie_gbs(o->link_gen, o->link_width);
            o->inferred &= ~TB_INF_LINK; /* sysfs states generation and width */
        }
        n += got;
    }
    return n;
}

/* --- network interfaces --- */

static void add_ipv4(tb_topo_t *topo)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return;
    for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_name)
            continue;
        for (size_t i = 0; i < topo->nnetifs; i++) {
            tb_topo_netif_t *nif = &topo->netifs[i];
            if (strcmp(nif->name, a->ifa_name) == 0 && !nif->ipv4[0])
                inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)a->ifa_addr)->sin_addr,
                          nif->ipv4, sizeof(nif->ipv4));
        }
    }
    freeifaddrs(ifa);
}

static size_t add_netifs(tb_topo_t *topo, size_t *skipped_p)
{
    char **names;
    size_t n = list_dir("class/net", &names);
    *skipped_p = 0;
    for (size_t i = 0; i < n; i++) {
        tb_topo_netif_t *nif;
        char rel[256], val[64];
        if (topo->nnetifs >= TB_TOPO_MAX_NETIFS) {
            (*skipped_p)++;
            continue;
        }
        nif = &topo->netifs[topo->nnetifs++];
        memset(nif, 0, sizeof(*nif));
        copy_str(nif->name, sizeof(nif->name), names[i]);
        snprintf(rel, sizeof(rel), "class/net/%s/operstate", names[i]);
        if (read_line(rel, val, sizeof(val)) == 0)
            copy_str(nif->operstate, sizeof(nif->operstate), val);
        snprintf(rel, sizeof(rel), "class/net/%s/speed", names[i]);
        nif->speed_mbps = read_line(rel, val, sizeof(val)) == 0 ? atoi(val) : -1;
        if (nif->speed_mbps <= 0)
            nif->speed_mbps = -1;
        snprintf(rel, sizeof(rel), "class/net/%s/mtu", names[i]);
        if (read_line(rel, val, sizeof(val)) == 0)
            nif->mtu = atoi(val);
        snprintf(rel, sizeof(rel), "class/net/%s/address", names[i]);
        if (read_line(rel, val, sizeof(val)) == 0)
            copy_str(nif->address, sizeof(nif->address), val);
        /* type 772 is ARPHRD_LOOPBACK; bridges have a bridge/ directory; bonds a bonding/
         * directory (DEVTYPE=bond), VLANs DEVTYPE=vlan in their uevent; anything with a
         * device behind it is physical (PCI or virtio; IPoIB child interfaces ib0.8001
         * too: they share their parent's device); the rest is virtual. */
        snprintf(rel, sizeof(rel), "class/net/%s/type", names[i]);
        if (strcmp(names[i], "lo") == 0 ||
            (read_line(rel, val, sizeof(val)) == 0 && atoi(val) == 772)) {
            nif->kind = TB_NETIF_LOOPBACK;
        } else {
            char devtype[32] = "";
            int bridge, bond;
            snprintf(rel, sizeof(rel), "class/net/%s", names[i]);
            uevent_value(rel, "DEVTYPE", devtype, sizeof(devtype));
            snprintf(rel, sizeof(rel), "class/net/%s/bridge", names[i]);
            bridge = exists(rel);
            snprintf(rel, sizeof(rel), "class/net/%s/bonding", names[i]);
            bond = exists(rel) || strcmp(devtype, "bond") == 0;
            if (bridge) {
                nif->kind = TB_NETIF_BRIDGE;
            } else if (bond) {
                /* no device of its own, but its slaves' devices carry it */
                nif->kind = TB_NETIF_BOND;
            } else if (strcmp(devtype, "vlan") == 0) {
                nif->kind = TB_NETIF_VLAN; /* carried by its parent's device */
            } else {
                snprintf(rel, sizeof(rel), "class/net/%s/device", names[i]);
                nif->kind = exists(rel) ? TB_NETIF_PHYSICAL : TB_NETIF_VIRTUAL;
                /* A virtio netdev's device is the virtio device; the PCI function
                 * is its parent. */
                if (nif->kind == TB_NETIF_PHYSICAL &&
                    uevent_busid(rel, nif->busid, sizeof(nif->busid)) != 0) {
                    snprintf(rel, sizeof(rel), "class/net/%s/device/..", names[i]);
                    uevent_busid(rel, nif->busid, sizeof(nif->busid));
                }
            }
        }
    }
    free_list(names, n);
    return n;
}

void tb_topo_add_sysfs(tb_topo_t *topo)
{
    const char *root = tb_topo_sysfs_root();
    size_t skipped = 0, nif, nphys = 0;
    int nports, nlinks;

    nif = add_netifs(topo, &skipped);
    /* Addresses belong to this host's interfaces, not to a recorded tree's. */
    if (strcmp(root, "/sys") == 0)
        add_ipv4(topo);
    for (size_t i = 0; i < topo->nnetifs; i++)
        nphys += topo->netifs[i].kind == TB_NETIF_PHYSICAL;
    /* RDMA devices first: the NICs they add need their PCIe links too. */
    nports = add_infiniband(topo);
    nlinks = add_pci_links(topo);
    tb_topo_add_note(topo, "sysfs (%s): %zu network interfaces (%zu physical)%s, PCIe link "
                     "state for %d devices, %d RDMA ports read%s",
                     root, nif - skipped, nphys, skipped ? ", more not recorded" : "", nlinks,
                     nports, nports ? "" : " (none, or all described by verbs)");
}
