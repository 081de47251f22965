/* bench/verbs's decisions from recorded inputs (tests/data/sysfs_rdma, made by
 * tests/data/sysfs_rdma_make.py): --hca parsing, port and GID table reading, the GID
 * choice, the NIC nearest a rank's GPU or cores, ACS config-space parsing along a PCIe
 * path, and every reason of the GPUDirect RDMA verdict. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cudrv.h"
#include "tb_test.h"
#include "verbs_setup.h"

#define ROOT TB_TEST_DATA_DIR "/sysfs_rdma"

/* Arrays through a pointer: TB_CHECK_HAS tests its text for NULL. */
static const char *txt(const char *s)
{
    return s;
}

static void test_hca_parse(void)
{
    char dev[64];
    int port = 0;
    TB_CHECK_INT(tb_verbs_hca_parse("mlx5_0:1", dev, sizeof(dev), &port), TB_OK);
    TB_CHECK_STR(dev, "mlx5_0");
    TB_CHECK_INT(port, 1);
    TB_CHECK_INT(tb_verbs_hca_parse("mlx5_3:2", dev, sizeof(dev), &port), TB_OK);
    TB_CHECK_INT(port, 2);
    TB_CHECK_INT(tb_verbs_hca_parse("bnxt_re0", dev, sizeof(dev), &port), TB_OK);
    TB_CHECK_STR(dev, "bnxt_re0");
    TB_CHECK_INT(port, 1);
    TB_CHECK_INT(tb_verbs_hca_parse("mlx5_0:x", dev, sizeof(dev), &port), TB_ERR_USAGE);
    TB_CHECK_INT(tb_verbs_hca_parse("mlx5_0:0", dev, sizeof(dev), &port), TB_ERR_USAGE);
    TB_CHECK_INT(tb_verbs_hca_parse(":1", dev, sizeof(dev), &port), TB_ERR_USAGE);
    TB_CHECK_INT(tb_verbs_hca_parse("", dev, sizeof(dev), &port), TB_ERR_USAGE);
    TB_CHECK_INT(tb_verbs_hca_parse("../x:1", dev, sizeof(dev), &port), TB_ERR_USAGE);
}

static void test_ports_and_gids(void)
{
    static tb_verbs_port_info_t p;
    tb_verbs_gid_choice_t c;
    char list[256];

    TB_CHECK_INT(tb_verbs_devices_list(list, sizeof(list)), 4);
    TB_CHECK_STR(list, "mlx5_0, mlx5_1, mlx5_2, mlx5_3");

    /* InfiniBand: LID routing, no GID unless asked. */
    TB_CHECK_INT(tb_verbs_port_read("mlx5_0", 1, &p), TB_OK);
    TB_CHECK_STR(p.link_layer, "InfiniBand");
    TB_CHECK_INT(p.state, 4);
    TB_CHECK_INT(p.lid, 0x12);
    TB_CHECK_INT(p.ngids, 1);
    TB_CHECK_INT(tb_verbs_gid_choose(&p, -1, &c), TB_OK);
    TB_CHECK_INT(c.index, -1);
    TB_CHECK_HAS(txt(c.why), "LID 18");
    TB_CHECK_INT(tb_verbs_gid_choose(&p, 0, &c), TB_OK);
    TB_CHECK_INT(c.index, 0);

    /* RoCE, the common table: v2 with IPv4 (3), not v1 IPv4 (2) or v2 link-local (1). */
    TB_CHECK_INT(tb_verbs_port_read("mlx5_1", 1, &p), TB_OK);
    TB_CHECK_STR(p.link_layer, "Ethernet");
    TB_CHECK_INT(p.ngids, 6); /* slot 6 is zero: unused */
    TB_CHECK_INT(p.has_ndevs, 1);
    TB_CHECK_STR(p.gids[3].type, "RoCE v2");
    TB_CHECK_STR(p.gids[3].ndev, "ens2f0");
    TB_CHECK_INT(tb_verbs_gid_choose(&p, -1, &c), TB_OK);
    TB_CHECK_INT(c.index, 3);
    TB_CHECK_INT(c.roce_v2, 1);
    TB_CHECK_INT(c.ipv4, 1);
    TB_CHECK_HAS(txt(c.why), "RoCE v2 with an IPv4-mapped address, GID 3 on ens2f0");
    /* --gid-index overrides, and must name a non-zero entry. */
    TB_CHECK_INT(tb_verbs_gid_choose(&p, 5, &c), TB_OK);
    TB_CHECK_INT(c.index, 5);
    TB_CHECK_INT(c.ipv4, 0);
    TB_CHECK_HAS(txt(c.why), "--gid-index 5 (RoCE v2)");
    TB_CHECK_INT(tb_verbs_gid_choose(&p, 6, &c), TB_ERR_USAGE);
    TB_CHECK_INT(tb_verbs_gid_choose(&p, 40, &c), TB_ERR_USAGE);

    /* An IPv4 v2 entry bound to no netdev is skipped: the global IPv6 v2 entry. */
    TB_CHECK_INT(tb_verbs_port_read("mlx5_2", 1, &p), TB_OK);
    TB_CHECK_INT(tb_verbs_gid_choose(&p, -1, &c), TB_OK);
    TB_CHECK_INT(c.index, 3);
    TB_CHECK_INT(c.ipv4, 0);
    TB_CHECK_HAS(txt(c.why), "global IPv6");

    /* RoCE v1 only: the IPv4 one, said to be v1. */
    TB_CHECK_INT(tb_verbs_port_read("mlx5_3", 1, &p), TB_OK);
    TB_CHECK_INT(tb_verbs_gid_choose(&p, -1, &c), TB_OK);
    TB_CHECK_INT(c.index, 1);
    TB_CHECK_INT(c.roce_v2, 0);
    TB_CHECK_HAS(txt(c.why), "no RoCE v2 entry");
    /* Untyped entries: nothing usable. */
    TB_CHECK_INT(tb_verbs_port_read("mlx5_3", 2, &p), TB_OK);
    TB_CHECK_INT(p.state, 1);
    TB_CHECK_INT(tb_verbs_gid_choose(&p, -1, &c), TB_ERR_ENV);

    /* Names that do not exist. */
    TB_CHECK_INT(tb_verbs_port_read("mlx5_9", 1, &p), TB_ERR_USAGE);
    TB_CHECK_INT(tb_verbs_port_read("mlx5_0", 2, &p), TB_ERR_USAGE);
}

/* machine > package0 > NUMA0 (0-7) > host bridge > switch > {GPU0, mlx5_0};
 * machine > package1 > NUMA1 (8-15) > host bridge > {GPU1, mlx5_1 ACTIVE, mlx5_2 DOWN}. */
static int add(tb_topo_t *t, tb_topo_kind_t kind, int parent, const char *name, const char *busid,
               int numa, const char *port_state)
{
    tb_topo_obj_t o;
    tb_topo_obj_init(&o, kind);
    o.parent = parent;
    o.numa = numa;
    snprintf(o.name, sizeof(o.name), "%s", name);
    snprintf(o.busid, sizeof(o.busid), "%s", busid);
    if (kind == TB_OBJ_NUMA) {
        o.os_index = numa;
        snprintf(o.cpuset, sizeof(o.cpuset), "%s", numa ? "8-15" : "0-7");
    }
    if (port_state) {
        o.nports = 1;
        o.ports[0].num = 1;
        o.ports[0].rocev2_gid_index = -1;
        snprintf(o.ports[0].state, sizeof(o.ports[0].state), "%s", port_state);
    }
    return tb_topo_add_obj(t, &o);
}

static void test_nearest_nic(void)
{
    tb_topo_t *t = NULL;
    char dev[64], why[256];
    int port = 0, m, hb0, hb1, sw, n2;
    if (tb_topo_create(&t) != TB_OK) {
        TB_CHECK(0);
        return;
    }
    m = add(t, TB_OBJ_MACHINE, -1, "Machine", "", -1, NULL);
    hb0 = add(t, TB_OBJ_HOSTBRIDGE,
              add(t, TB_OBJ_NUMA, add(t, TB_OBJ_PACKAGE, m, "Package0", "", 0, NULL), "NUMA0", "",
                  0, NULL),
              "HostBridge0", "", 0, NULL);
    sw = add(t, TB_OBJ_BRIDGE, hb0, "0000:03:00.0", "0000:03:00.0", 0, NULL);
    add(t, TB_OBJ_GPU, sw, "GPU0", "0000:05:00.0", 0, NULL);
    add(t, TB_OBJ_NIC, sw, "mlx5_0", "0000:06:00.0", 0, "ACTIVE");
    hb1 = add(t, TB_OBJ_HOSTBRIDGE,
              add(t, TB_OBJ_NUMA, add(t, TB_OBJ_PACKAGE, m, "Package1", "", 1, NULL), "NUMA1", "",
                  1, NULL),
              "HostBridge1", "", 1, NULL);
    add(t, TB_OBJ_GPU, hb1, "GPU1", "0000:85:00.0", 1, NULL);
    add(t, TB_OBJ_NIC, hb1, "mlx5_1", "0000:86:00.0", 1, "ACTIVE");
    n2 = add(t, TB_OBJ_NIC, hb1, "mlx5_2", "0000:87:00.0", 1, "DOWN");

    /* The GPU's nearest NIC (PIX under one switch); bus ids in NVML's spelling too. */
    TB_CHECK_INT(tb_verbs_nic_nearest(t, "00000000:05:00.0", "0-15", 0, dev, sizeof(dev), &port,
                                      why, sizeof(why)),
                 TB_OK);
    TB_CHECK_STR(dev, "mlx5_0");
    TB_CHECK_INT(port, 1);
    TB_CHECK_HAS(txt(why), "nearest RDMA NIC to GPU0 (PIX");
    /* GPU1: mlx5_1 and mlx5_2 are both PHB away; mlx5_2's port is down. */
    TB_CHECK_INT(
        tb_verbs_nic_nearest(t, "0000:85:00.0", "", 1, dev, sizeof(dev), &port, why, sizeof(why)),
        TB_OK);
    TB_CHECK_STR(dev, "mlx5_1");
    TB_CHECK_HAS(txt(why), "(PHB");
    /* Both up: local ranks spread over them. */
    snprintf(t->objs[n2].ports[0].state, sizeof(t->objs[n2].ports[0].state), "ACTIVE");
    TB_CHECK_INT(
        tb_verbs_nic_nearest(t, "0000:85:00.0", "", 1, dev, sizeof(dev), &port, why, sizeof(why)),
        TB_OK);
    TB_CHECK_STR(dev, "mlx5_2");
    TB_CHECK_HAS(txt(why), "one of several");
    /* No GPU: the NIC on the NUMA node of the rank's cores. */
    TB_CHECK_INT(tb_verbs_nic_nearest(t, NULL, "2-3", 0, dev, sizeof(dev), &port, why, sizeof(why)),
                 TB_OK);
    TB_CHECK_STR(dev, "mlx5_0");
    TB_CHECK_HAS(txt(why), "NUMA node of the rank's cores");
    TB_CHECK_INT(tb_verbs_nic_nearest(t, "", "9", 2, dev, sizeof(dev), &port, why, sizeof(why)),
                 TB_OK);
    TB_CHECK_STR(dev, "mlx5_1");
    /* A GPU the topology lacks: by cores. */
    TB_CHECK_INT(tb_verbs_nic_nearest(t, "0000:aa:00.0", "8-15", 1, dev, sizeof(dev), &port, why,
                                      sizeof(why)),
                 TB_OK);
    TB_CHECK_STR(dev, "mlx5_2");
    tb_topo_destroy(t);

    /* No NIC at all. */
    if (tb_topo_create(&t) == TB_OK) {
        add(t, TB_OBJ_MACHINE, -1, "Machine", "", -1, NULL);
        TB_CHECK_INT(
            tb_verbs_nic_nearest(t, NULL, "0", 0, dev, sizeof(dev), &port, why, sizeof(why)),
            TB_ERR_ENV);
        tb_topo_destroy(t);
    }
}

static void put16(unsigned char *b, size_t off, unsigned v)
{
    b[off] = (unsigned char)(v & 0xff);
    b[off + 1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *b, size_t off, unsigned v)
{
    put16(b, off, v & 0xffff);
    put16(b, off + 2, v >> 16);
}

static void test_acs(void)
{
    static unsigned char cfg[4096];
    tb_pci_acs_t acs;
    tb_pci_acs_path_t path;

    /* Only the 64 bytes an unprivileged reader gets. */
    TB_CHECK_INT(tb_pci_acs_parse(cfg, 64, &acs), -1);
    /* No extended capability. */
    TB_CHECK_INT(tb_pci_acs_parse(cfg, sizeof(cfg), &acs), 0);
    TB_CHECK_INT(acs.found, 0);
    /* AER at 0x100 -> ACS at 0x148: control 0x001d (SV RR CR UF) redirects. */
    put32(cfg, 0x100, 0x0001u | 1u << 16 | 0x148u << 20);
    put32(cfg, 0x148, 0x000du | 1u << 16);
    put16(cfg, 0x14c, 0x005f);
    put16(cfg, 0x14e, 0x001d);
    TB_CHECK_INT(tb_pci_acs_parse(cfg, sizeof(cfg), &acs), 0);
    TB_CHECK_INT(acs.found, 1);
    TB_CHECK_INT(acs.cap, 0x5f);
    TB_CHECK_INT(acs.ctrl, 0x1d);
    TB_CHECK_INT(acs.redirect, 1);
    /* Source validation alone does not redirect; egress control does. */
    put16(cfg, 0x14e, 0x0001);
    TB_CHECK_INT(tb_pci_acs_parse(cfg, sizeof(cfg), &acs), 0);
    TB_CHECK_INT(acs.redirect, 0);
    put16(cfg, 0x14e, TB_ACS_EC);
    TB_CHECK_INT(tb_pci_acs_parse(cfg, sizeof(cfg), &acs), 0);
    TB_CHECK_INT(acs.redirect, 1);
    /* A loop in the chain ends the walk. */
    put32(cfg, 0x100, 0x0001u | 1u << 16 | 0x100u << 20);
    TB_CHECK_INT(tb_pci_acs_parse(cfg, sizeof(cfg), &acs), 0);
    TB_CHECK_INT(acs.found, 0);
    /* The dump ends inside the chain. */
    put32(cfg, 0x100, 0x0001u | 1u << 16 | 0x148u << 20);
    TB_CHECK_INT(tb_pci_acs_parse(cfg, 0x14a, &acs), 0);
    TB_CHECK_INT(acs.found, 0);

    /* The recorded tree: GPU 05:00.0 - NIC 06:00.0 cross 00:01.0 (ACS off), 03:00.0 (64
     * bytes), 04:00.0 (redirect) and 04:01.0 (AER, then ACS off). */
    TB_CHECK_INT(tb_pci_acs_path("0000:05:00.0", "06:00.0", &path), TB_OK);
    TB_CHECK_INT(path.nbridges, 4);
    TB_CHECK_INT(path.nredirect, 1);
    TB_CHECK_STR(path.redirect, "0000:04:00.0 (ACS ctrl 0x001d)");
    TB_CHECK_INT(path.nunreadable, 1);
    TB_CHECK_STR(path.unreadable, "0000:03:00.0");
    TB_CHECK_INT(tb_pci_acs_path("0000:85:00.0", "0000:86:00.0", &path), TB_OK);
    TB_CHECK_INT(path.nbridges, 4);
    TB_CHECK_INT(path.nredirect, 0);
    TB_CHECK_INT(path.nunreadable, 0);
    TB_CHECK_INT(tb_pci_acs_path("0000:05:00.0", "0000:99:00.0", &path), TB_ERR_ENV);
}

static void base_inputs(tb_gdr_inputs_t *in)
{
    memset(in, 0, sizeof(*in));
    snprintf(in->host, sizeof(in->host), "node1");
    snprintf(in->gpu, sizeof(in->gpu), "GPU0");
    snprintf(in->nic, sizeof(in->nic), "mlx5_0:1");
    in->have_nic = in->have_gpu = 1;
    in->peermem_loaded = 1;
    snprintf(in->path_class, sizeof(in->path_class), "PIX");
}

static void test_verdict(void)
{
    tb_gdr_inputs_t in;
    tb_gdr_verdict_t v;

    /* No RDMA device, whatever else. */
    base_inputs(&in);
    in.have_nic = 0;
    in.have_gpu = 0;
    snprintf(in.no_nic_why, sizeof(in.no_nic_why), "libibverbs lists no device");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 0);
    TB_CHECK_STR(v.reasons[0].code, "no_rdma_device");
    TB_CHECK_STR(v.line, "gdr: not available: no RDMA device: libibverbs lists no device");
    /* No GPU. */
    base_inputs(&in);
    in.have_gpu = 0;
    snprintf(in.no_gpu_why, sizeof(in.no_gpu_why), "libcudart.so: not found");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_STR(v.reasons[0].code, "no_gpu");
    TB_CHECK_STR(v.line, "gdr: not available: no GPU: libcudart.so: not found");

    /* dma-buf works: measured against host memory. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_OK;
    in.gdr_gbps = 20.0;
    in.host_gbps = 25.0;
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 1);
    TB_CHECK_STR(v.method, "dmabuf");
    TB_CHECK_NEAR(v.ratio, 0.8, 1e-12);
    TB_CHECK_STR(v.line, "gdr: works (dmabuf), 20.00 GB/s = 80% of host-memory RDMA (25.00 GB/s)");
    TB_CHECK_INT(v.nreasons, 0);
    /* dma-buf unsupported, peer memory works. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_UNSUPPORTED;
    snprintf(in.dmabuf_why, sizeof(in.dmabuf_why), "CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED = 0");
    in.peermem = TB_GDR_REG_OK;
    snprintf(in.not_measured, sizeof(in.not_measured), "one node");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 1);
    TB_CHECK_STR(v.method, "peermem");
    TB_CHECK_STR(v.line, "gdr: works (peermem), bandwidth not measured: one node");

    /* Neither: dma-buf unsupported and the module not loaded. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_UNSUPPORTED;
    snprintf(in.dmabuf_why, sizeof(in.dmabuf_why), "ibv_reg_dmabuf_mr: Operation not supported");
    in.peermem_loaded = 0;
    in.peermem = TB_GDR_REG_ERROR;
    in.peermem_errno = 14;
    snprintf(in.peermem_why, sizeof(in.peermem_why), "ibv_reg_mr: Bad address");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 0);
    TB_CHECK_INT(v.nreasons, 2);
    TB_CHECK_STR(v.reasons[0].code, "dmabuf_unsupported");
    TB_CHECK_STR(v.reasons[1].code, "module_not_loaded");
    /* The line docs/verbs.md shows as the "not available" example. */
    TB_CHECK_STR(v.line, "gdr: not available: dma-buf unsupported by driver/kernel: "
                         "ibv_reg_dmabuf_mr: Operation not supported; nvidia_peermem not loaded "
                         "(no /sys/module/nvidia_peermem or nv_peer_mem, not in /proc/modules): "
                         "ibv_reg_mr "
                         "cannot pin GPU memory; it failed: ibv_reg_mr: Bad address");
    /* Registration errors with errno. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_ERROR;
    in.dmabuf_errno = 12;
    snprintf(in.dmabuf_why, sizeof(in.dmabuf_why), "ibv_reg_dmabuf_mr: Cannot allocate memory");
    in.peermem = TB_GDR_REG_ERROR;
    in.peermem_errno = 22;
    snprintf(in.peermem_why, sizeof(in.peermem_why), "ibv_reg_mr: Invalid argument");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_STR(v.reasons[0].code, "dmabuf_error");
    TB_CHECK_HAS(txt(v.reasons[0].text), "(errno 12)");
    TB_CHECK_STR(v.reasons[1].code, "peermem_error");
    TB_CHECK_HAS(txt(v.reasons[1].text), "Invalid argument (errno 22)");

    /* Registered, but the transfer failed, with ACS redirect on the path. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_OK;
    in.transfer_failed = 1;
    snprintf(in.transfer_why, sizeof(in.transfer_why), "completion: remote access error");
    in.acs_checked = 1;
    in.acs.nredirect = 1;
    snprintf(in.acs.redirect, sizeof(in.acs.redirect), "0000:04:00.0 (ACS ctrl 0x001d)");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 0);
    TB_CHECK_STR(v.reasons[0].code, "transfer_error");
    TB_CHECK_STR(v.reasons[1].code, "acs_redirect");
    TB_CHECK_HAS(txt(v.line), "PCIe ACS redirect enabled on 0000:04:00.0 (ACS ctrl 0x001d)");
    /* ACS redirect while transfers work: works, with the warning. */
    in.transfer_failed = 0;
    in.gdr_gbps = 5.0;
    in.host_gbps = 24.0;
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 1);
    TB_CHECK_STR(v.reasons[0].code, "acs_redirect");
    TB_CHECK_HAS(txt(v.line), "= 21% of host-memory RDMA");
    /* Unreadable ACS is said, not guessed. */
    base_inputs(&in);
    in.peermem = TB_GDR_REG_OK;
    in.acs_checked = 1;
    in.acs.nunreadable = 1;
    snprintf(in.acs.unreadable, sizeof(in.acs.unreadable), "0000:03:00.0");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_STR(v.reasons[0].code, "acs_unreadable");
    /* A far path: works but slow, with the expected penalty. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_OK;
    snprintf(in.path_class, sizeof(in.path_class), "SYS");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 1);
    TB_CHECK_STR(v.reasons[0].code, "path_far");
    TB_CHECK_HAS(txt(v.reasons[0].text), "GPU-NIC path SYS: works but slow: expect about 47% of "
                                         "host-memory RDMA");
    snprintf(in.path_class, sizeof(in.path_class), "PHB");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_STR(v.reasons[0].code, "path_far");

    /* The JSON form. */
    {
        char *text;
        json_t *j;
        base_inputs(&in);
        in.dmabuf = TB_GDR_REG_OK;
        in.gdr_gbps = 20.0;
        in.host_gbps = 25.0;
        tb_gdr_verdict_decide(&in, &v);
        j = tb_gdr_verdict_to_json(&in, &v);
        text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
        json_decref(j);
        TB_CHECK_HAS(text, "\"status\":\"works\"");
        TB_CHECK_HAS(text, "\"method\":\"dmabuf\"");
        TB_CHECK_HAS(text, "\"ratio\":0.8");
        TB_CHECK_HAS(text, "\"nic\":\"mlx5_0:1\"");
        free(text);
    }
}

/* Queue sizes within the device's caps (--tx-depth, --qps against max_qp_wr, max_cqe). */
static void test_queue_sizes(void)
{
    char why[256] = "";
    int rx = 0, cqe = 0;
    /* perftest's default depth: 512 receives, CQ for both queues. */
    TB_CHECK_INT(
        tb_verbs_queue_sizes("mlx5_0", 1, 128, 32768, 4194303, &rx, &cqe, why, sizeof(why)), TB_OK);
    TB_CHECK_INT(rx, 512);
    TB_CHECK_INT(cqe, 128 + 512 + 16);
    TB_CHECK_INT(
        tb_verbs_queue_sizes("mlx5_0", 4, 1024, 32768, 4194303, &rx, &cqe, why, sizeof(why)),
        TB_OK);
    TB_CHECK_INT(rx, 2048);
    TB_CHECK_INT(cqe, 4 * (1024 + 2048) + 16);
    /* The receive depth stays within max_qp_wr. */
    TB_CHECK_INT(tb_verbs_queue_sizes("dev", 1, 300, 400, 100000, &rx, &cqe, why, sizeof(why)),
                 TB_OK);
    TB_CHECK_INT(rx, 400);
    /* A small CQ takes receives away, down to depth. */
    TB_CHECK_INT(tb_verbs_queue_sizes("dev", 2, 128, 32768, 1000, &rx, &cqe, why, sizeof(why)),
                 TB_OK);
    TB_CHECK_INT(rx, (1000 - 16) / 2 - 128);
    TB_CHECK(cqe <= 1000);
    /* Over the caps: a usage error naming the option and the cap. */
    TB_CHECK_INT(
        tb_verbs_queue_sizes("mlx5_0", 1, 8192, 4096, 4194303, &rx, &cqe, why, sizeof(why)),
        TB_ERR_USAGE);
    TB_CHECK_STR(why, "--tx-depth 8192: mlx5_0 allows at most 4096 work requests per QP "
                      "(max_qp_wr)");
    TB_CHECK_INT(tb_verbs_queue_sizes("dev", 64, 8192, 32768, 65535, &rx, &cqe, why, sizeof(why)),
                 TB_ERR_USAGE);
    TB_CHECK_HAS(txt(why), "--qps 64 with --tx-depth 8192 need a completion queue of 1048592 "
                           "entries; dev allows 65535 (max_cqe)");
}

/* ENOMEM / EPERM from a registration: the locked-memory limit, a skip with the limit named;
 * other errors stay errors. */
static void test_errno_status(void)
{
    char why[256];
    TB_CHECK_INT(
        tb_verbs_errno_status(ENOMEM, "ibv_reg_mr of 8388608 bytes", 65536, why, sizeof(why)),
        TB_ERR_ENV);
    TB_CHECK_HAS(txt(why), "ibv_reg_mr of 8388608 bytes: ");
    TB_CHECK_HAS(txt(why), "(errno 12); RLIMIT_MEMLOCK is 64 KiB (ulimit -l)");
    TB_CHECK_INT(tb_verbs_errno_status(EPERM, "ibv_create_qp", -1, why, sizeof(why)), TB_ERR_ENV);
    TB_CHECK_HAS(txt(why), "RLIMIT_MEMLOCK is unlimited (ulimit -l)");
    TB_CHECK_INT(tb_verbs_errno_status(EINVAL, "ibv_create_qp", 65536, why, sizeof(why)),
                 TB_ERR_INTERNAL);
    TB_CHECK_HAS(txt(why), "ibv_create_qp: ");
    TB_CHECK(strstr(why, "RLIMIT_MEMLOCK") == NULL);
}

/* Link layer and GID family of the two ends. */
static void test_peer_compat(void)
{
    static const unsigned char v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 10};
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 0, 0, 0x10};
    char why[256] = "";
    TB_CHECK_INT(tb_verbs_peer_compat(1, v4, 3, 1, v4, 3, why, sizeof(why)), TB_OK);
    TB_CHECK_INT(tb_verbs_peer_compat(0, v6, -1, 0, v6, -1, why, sizeof(why)), TB_OK);
    /* InfiniBand: no family check (a GID is used only where both asked for one). */
    TB_CHECK_INT(tb_verbs_peer_compat(0, v4, 0, 0, v6, 0, why, sizeof(why)), TB_OK);
    TB_CHECK_INT(tb_verbs_peer_compat(1, v4, 3, 0, v6, -1, why, sizeof(why)), TB_ERR_ENV);
    TB_CHECK_HAS(txt(why), "link layers differ: this port is RoCE (Ethernet), the peer's "
                           "InfiniBand");
    TB_CHECK_INT(tb_verbs_peer_compat(1, v4, 3, 1, v6, 5, why, sizeof(why)), TB_ERR_ENV);
    TB_CHECK_HAS(txt(why), "GID families differ: this port's GID 3 is IPv4-mapped, the peer's "
                           "GID 5 IPv6");
    TB_CHECK_HAS(txt(why), "--gid-index");
}

static void ring_nodes(tb_verbs_ring_node_t *nodes, int n)
{
    memset(nodes, 0, (size_t)n * sizeof(*nodes));
    for (int i = 0; i < n; i++)
        snprintf(nodes[i].host, sizeof(nodes[i].host), "n%d", i);
}

static void ring_fail(tb_verbs_ring_node_t *nodes, int i, const char *why)
{
    nodes[i].failed = 1;
    snprintf(nodes[i].why, sizeof(nodes[i].why), "%s", why);
}

/* Who is blamed when a transfer of a ring round fails: one bad node gives one verdict, not
 * one per node of the ring. */
static void test_ring_judge(void)
{
    tb_verbs_ring_node_t nodes[8];
    char why[512];
    int blamed = 0;

    /* Nothing failed. */
    ring_nodes(nodes, 8);
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 1, 3, 0, why, sizeof(why)), TB_RING_FINE);
    TB_CHECK_STR(why, "");

    /* Node 4 broken both ways (3 -> 4 and 4 -> 5 fail): only node 4 is blamed. */
    ring_fail(nodes, 3, "completion error: transport retry counter exceeded");
    ring_fail(nodes, 4, "completion error: remote access error");
    for (int i = 0; i < 8; i++)
        blamed += tb_verbs_ring_judge(nodes, 8, 1, i, 0, why, sizeof(why)) == TB_RING_BLAMED;
    TB_CHECK_INT(blamed, 1);
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 1, 4, 0, why, sizeof(why)), TB_RING_BLAMED);
    TB_CHECK_HAS(txt(why), "this node's transfers failed both ways: its RDMA write to n5 (node 5)");
    TB_CHECK_HAS(txt(why), "the RDMA write of n3 (node 3) into it: completion error: transport "
                           "retry counter exceeded");
    /* Its neighbours: stopped, their own failed transfer counted against node 4. */
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 1, 3, 0, why, sizeof(why)), TB_RING_STOPPED);
    TB_CHECK_HAS(txt(why), "ring stopped: this node's RDMA write to n4 (node 4) failed, counted "
                           "against that node");
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 1, 5, 0, why, sizeof(why)), TB_RING_STOPPED);
    /* A bystander: stopped, naming the first failed pair. */
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 1, 0, 0, why, sizeof(why)), TB_RING_STOPPED);
    TB_CHECK_STR(why, "ring stopped: the RDMA write n3 (node 3) -> n4 (node 4) failed (and "
                      "others): completion error: transport retry counter exceeded");

    /* One failed transfer (2 -> 4 at shift 2): its target is blamed, its initiator not. */
    ring_nodes(nodes, 8);
    ring_fail(nodes, 2, "completion error: remote access error");
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 2, 4, 1, why, sizeof(why)), TB_RING_BLAMED);
    TB_CHECK_STR(why, "the RDMA read by n2 (node 2) from this node failed: completion error: "
                      "remote access error");
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 2, 2, 1, why, sizeof(why)), TB_RING_STOPPED);
    TB_CHECK_INT(tb_verbs_ring_judge(nodes, 8, 2, 3, 1, why, sizeof(why)), TB_RING_STOPPED);

    /* Every transfer failed (a fault everywhere): every node is blamed. */
    ring_nodes(nodes, 3);
    for (int i = 0; i < 3; i++)
        ring_fail(nodes, i, "completion error");
    for (int i = 0; i < 3; i++)
        TB_CHECK_INT(tb_verbs_ring_judge(nodes, 3, 1, i, 0, why, sizeof(why)), TB_RING_BLAMED);
}

/* A ring's outcome in the gdr verdict: a blamed node gets transfer_error, a stopped one a
 * bandwidth not measured with the reason; a failed host ring leaves the GPU verdict alone and
 * says why there is no ratio. */
static void test_gdr_ring_result(void)
{
    tb_gdr_inputs_t in;
    tb_gdr_verdict_t v;

    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_OK;
    tb_gdr_ring_result(&in, 1, TB_RING_BLAMED,
                       "the RDMA write from n3 (node 3) into this node "
                       "failed: completion error");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 0);
    TB_CHECK_STR(v.reasons[0].code, "transfer_error");
    TB_CHECK_HAS(txt(v.line), "the RDMA write from n3 (node 3) into this node failed");

    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_OK;
    tb_gdr_ring_result(&in, 1, TB_RING_STOPPED,
                       "ring stopped: the RDMA write n3 (node 3) -> n4 "
                       "(node 4) failed: completion error");
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 1);
    TB_CHECK_INT(v.nreasons, 0);
    TB_CHECK_STR(v.line, "gdr: works (dmabuf), bandwidth not measured: ring stopped: the RDMA "
                         "write n3 (node 3) -> n4 (node 4) failed: completion error");

    /* Host ring failed (even blamed), GPU ring measured. */
    base_inputs(&in);
    in.dmabuf = TB_GDR_REG_OK;
    tb_gdr_ring_result(&in, 0, TB_RING_BLAMED,
                       "the RDMA write from n3 (node 3) into this node "
                       "failed: completion error");
    in.gdr_gbps = 20.0;
    tb_gdr_verdict_decide(&in, &v);
    TB_CHECK_INT(v.works, 1);
    TB_CHECK_INT(in.transfer_failed, 0);
    TB_CHECK_STR(v.line, "gdr: works (dmabuf), 20.00 GB/s (host-memory RDMA not measured: "
                         "host-memory ring: the RDMA write from n3 (node 3) into this node "
                         "failed: completion error)");
    /* Nothing failed: nothing changes. */
    base_inputs(&in);
    tb_gdr_ring_result(&in, 1, TB_RING_FINE, "");
    TB_CHECK_INT(in.transfer_failed, 0);
    TB_CHECK_STR(in.not_measured, "");
}

static void test_peermem(void)
{
    TB_CHECK_INT(tb_gdr_peermem_loaded(), 0);
    setenv("TOPOBENCH_SYSFS_ROOT", TB_TEST_DATA_DIR "/sysfs_peermem", 1);
    TB_CHECK_INT(tb_gdr_peermem_loaded(), 1);
    /* The MLNX_OFED-era module counts too. */
    setenv("TOPOBENCH_SYSFS_ROOT", TB_TEST_DATA_DIR "/sysfs_nvpeermem", 1);
    TB_CHECK_INT(tb_gdr_peermem_loaded(), 1);
    setenv("TOPOBENCH_SYSFS_ROOT", ROOT, 1);
}

/* The driver API loader says which library and why when it cannot load it (here: no
 * driver; TOPOBENCH_CUDA_DRIVER_LIB names a file that does not exist). */
static void test_cudrv(void)
{
    const char *why = NULL;
    setenv("TOPOBENCH_CUDA_DRIVER_LIB", "/nonexistent/libcuda.so.1", 1);
    TB_CHECK(tb_cudrv_get(&why) == NULL);
    TB_CHECK_HAS(why, "CUDA driver /nonexistent/libcuda.so.1 not loadable");
    TB_CHECK_HAS(why, "searched LD_LIBRARY_PATH=");
    unsetenv("TOPOBENCH_CUDA_DRIVER_LIB");
}

int main(void)
{
    setenv("TOPOBENCH_SYSFS_ROOT", ROOT, 1);
    test_hca_parse();
    test_ports_and_gids();
    test_nearest_nic();
    test_acs();
    test_verdict();
    test_queue_sizes();
    test_errno_status();
    test_peer_compat();
    test_ring_judge();
    test_gdr_ring_result();
    test_peermem();
    test_cudrv();
    return tb_test_done();
}
