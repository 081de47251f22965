/* libibverbs source: every RDMA device's firmware and, per port, state, physical state,
 * link layer, active rate (speed x width), LID and GID table with GID types. This is the
 * production source where devices exist; sysfs.c fills the same port fields, through the
 * same helpers, for ports verbs did not describe (built without libibverbs, tests). GID
 * types and the netdev behind a port come from sysfs in both cases: verbs has no portable
 * call for them on every rdma-core release. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "topo_internal.h"

#ifdef TB_HAVE_VERBS
#include <infiniband/verbs.h>

/* Nominal data rate per lane in Gb/s, as the kernel's rate file and ibstat report it
 * (4X HDR = 200): the line rates (HDR 53.125 per lane) include FEC and encoding. The
 * installed rdma-core has no active_speed_ex, so XDR (a 16-bit speed code) cannot be
 * told apart here; sysfs reads it as text on kernels that know it. */
static double lane_gbps(unsigned speed)
{
    switch (speed) {
    case 1: return 2.5;   /* SDR */
    case 2: return 5.0;   /* DDR */
    case 4: return 10.0;  /* QDR */
    case 8: return 10.0;  /* FDR10 */
    case 16: return 14.0; /* FDR */
    case 32: return 25.0; /* EDR */
    case 64: return 50.0; /* HDR */
    case 128: return 100.0; /* NDR */
    default: return 0;
    }
}

static int width_lanes(unsigned width)
{
    switch (width) {
    case 1: return 1;
    case 2: return 4;
    case 4: return 8;
    case 8: return 12;
    case 16: return 2;
    default: return 0;
    }
}

static void fill_port(tb_topo_port_t *port, struct ibv_context *ctx, const char *dev,
                      const struct ibv_port_attr *pa)
{
    char netdev[32];
    memcpy(netdev, port->netdev, sizeof(netdev));
    tb_topo_port_init(port, port->num);
    memcpy(port->netdev, netdev, sizeof(netdev));
    snprintf(port->link_layer, sizeof(port->link_layer), "%s",
             pa->link_layer == IBV_LINK_LAYER_ETHERNET ? "Ethernet" : "InfiniBand");
    tb_topo_port_set_state(port, (int)pa->state, (int)pa->phys_state);
    port->rate_gbps = lane_gbps(pa->active_speed) * width_lanes(pa->active_width);
    port->lid = pa->lid;
    if (!port->netdev[0])
        tb_topo_sysfs_port_netdev(dev, port->num, port->netdev, sizeof(port->netdev));
    port->gids_typed = 1;
    for (int i = 0; i < pa->gid_tbl_len; i++) {
        union ibv_gid gid;
        char type[32];
        if (ibv_query_gid(ctx, (uint8_t)port->num, i, &gid) != 0)
            continue;
        if (tb_topo_sysfs_gid_type(dev, port->num, i, type, sizeof(type)) != 0)
            type[0] = '\0';
        tb_topo_port_add_gid(port, i, gid.raw, type[0] ? type : NULL);
    }
}

void tb_topo_add_verbs(tb_topo_t *topo)
{
    int ndev = 0, nports = 0, nfail = 0;
    struct ibv_device **list = ibv_get_device_list(&ndev);

    if (!list || ndev == 0) {
        /* ENOSYS: no RDMA subsystem in the kernel; an empty list: no HCA. */
        tb_topo_add_note(topo, "verbs: no RDMA devices found%s",
                         !list && errno == ENOSYS ? " (no RDMA support in the kernel)" : "");
        if (list)
            ibv_free_device_list(list);
        return;
    }
    for (int d = 0; d < ndev; d++) {
        const char *name = ibv_get_device_name(list[d]);
        struct ibv_context *ctx = ibv_open_device(list[d]);
        struct ibv_device_attr attr;
        int idx;
        if (!ctx) {
            nfail++;
            tb_warn("verbs: cannot open %s: %s", name, strerror(errno));
            continue;
        }
        idx = tb_topo_sysfs_ib_nic(topo, name);
        if (idx >= 0 && ibv_query_device(ctx, &attr) == 0) {
            char *fw = topo->objs[idx].firmware;
            /* fw_ver is 64 bytes, the model keeps 48: firmware strings are far shorter. */
            memcpy(fw, attr.fw_ver, sizeof(topo->objs[idx].firmware) - 1);
            fw[sizeof(topo->objs[idx].firmware) - 1] = '\0';
            for (int p = 1; p <= attr.phys_port_cnt; p++) {
                struct ibv_port_attr pa;
                tb_topo_port_t *port = tb_topo_nic_port(&topo->objs[idx], p);
                if (!port || ibv_query_port(ctx, (uint8_t)p, &pa) != 0)
                    continue;
                fill_port(port, ctx, name, &pa);
                nports++;
            }
        } else {
            nfail++;
        }
        ibv_close_device(ctx);
    }
    ibv_free_device_list(list);
    tb_topo_add_note(topo, "verbs: %d RDMA device%s, %d port%s%s", ndev, ndev == 1 ? "" : "s",
                     nports, nports == 1 ? "" : "s",
                     nfail ? " (some devices could not be opened or queried)" : "");
}

#else

void tb_topo_add_verbs(tb_topo_t *topo)
{
    tb_topo_add_note(topo, "verbs: built without libibverbs (RDMA ports read from sysfs)");
}

#endif
