/* The model: the bandwidth table against REFERENCE.md section 3, path classes and
 * bottlenecks on small synthetic graphs, findings from port and link states, JSON. */
#include <jansson.h>
#include <string.h>

#include "log.h"
#include "tb_test.h"
#include "topo.h"

static void test_table(void)
{
    tb_topo_bw_t bw;
    /* PCIe x16: Gen3 15.75, Gen4 31.5, Gen5 63.0, Gen6 ~121 (REFERENCE.md section 3). */
    TB_CHECK_INT(tb_topo_bw_pcie(3, 16, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 15.75, 0.01);
    TB_CHECK(bw.achievable_gbs >= 10 && bw.achievable_gbs <= 12);
    TB_CHECK_STR(bw.name, "PCIe Gen3 x16");
    TB_CHECK_INT(tb_topo_bw_pcie(3, 8, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 15.75 / 2, 0.01); /* "x8 halves it" */
    TB_CHECK_INT(tb_topo_bw_pcie(4, 16, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 31.5, 0.01);
    TB_CHECK(bw.achievable_gbs >= 26 && bw.achievable_gbs <= 27);
    TB_CHECK_INT(tb_topo_bw_pcie(5, 16, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 63.0, 0.05);
    TB_CHECK_NEAR(bw.achievable_gbs, 55.0, 0.5);
    TB_CHECK_INT(tb_topo_bw_pcie(6, 16, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 121.0, 0.5);
    TB_CHECK_INT(tb_topo_bw_pcie(1, 16, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 4.0, 0.01); /* 2.5 GT/s x 8b/10b x 16 / 8 */
    TB_CHECK_INT(tb_topo_bw_pcie(2, 16, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 8.0, 0.01);
    TB_CHECK_INT(tb_topo_bw_pcie(7, 16, &bw), -1);
    TB_CHECK_INT(tb_topo_bw_pcie(4, 0, &bw), -1);

    /* NVLink: V100 6 x 25 = 150, A100 12 x 25 = 300 (~274), A800 8 = 200, H100 18 x 25 =
     * 450 (~376), B200 18 x 50 = 900 (~747), P100 20 per link. */
    TB_CHECK_INT(tb_topo_bw_nvlink(2, 6, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 150, 1e-9);
    TB_CHECK_INT(tb_topo_bw_nvlink(3, 12, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 300, 1e-9);
    TB_CHECK_NEAR(bw.achievable_gbs, 274, 0.5);
    TB_CHECK_STR(bw.name, "NVLink3 x12");
    TB_CHECK_INT(tb_topo_bw_nvlink(3, 8, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 200, 1e-9);
    TB_CHECK_INT(tb_topo_bw_nvlink(4, 18, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 450, 1e-9);
    TB_CHECK_NEAR(bw.achievable_gbs, 376, 0.5);
    TB_CHECK_INT(tb_topo_bw_nvlink(5, 18, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 900, 1e-9);
    TB_CHECK_NEAR(bw.achievable_gbs, 747, 0.5);
    TB_CHECK_INT(tb_topo_bw_nvlink(1, 4, &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 80, 1e-9);

    /* Networks: FDR 7 (~6.1), EDR 12.5 (~12), HDR 25 (23-24), NDR 50 (46-48), XDR 100. */
    TB_CHECK_INT(tb_topo_bw_net(56, "InfiniBand", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 7, 1e-9);
    TB_CHECK_NEAR(bw.achievable_gbs, 6.1, 1e-9);
    TB_CHECK_STR(bw.name, "IB FDR");
    TB_CHECK_INT(tb_topo_bw_net(100, "Ethernet", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 12.5, 1e-9);
    TB_CHECK_NEAR(bw.achievable_gbs, 12, 1e-9);
    TB_CHECK_STR(bw.name, "100GbE");
    TB_CHECK_INT(tb_topo_bw_net(200, "InfiniBand", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 25, 1e-9);
    TB_CHECK(bw.achievable_gbs >= 23 && bw.achievable_gbs <= 24);
    TB_CHECK_INT(tb_topo_bw_net(400, "InfiniBand", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 50, 1e-9);
    TB_CHECK(bw.achievable_gbs >= 46 && bw.achievable_gbs <= 48);
    TB_CHECK_STR(bw.name, "IB NDR");
    TB_CHECK_INT(tb_topo_bw_net(800, "InfiniBand", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 100, 1e-9);
    TB_CHECK_INT(tb_topo_bw_net(0, "InfiniBand", &bw), -1);

    /* Inter-socket (NCCL's model): Skylake 10, SPR 22, EMR 40, AMD 16, POWER9 32. */
    TB_CHECK_INT(tb_topo_bw_socket("Intel Xeon (Skylake)", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 10, 1e-9);
    TB_CHECK_INT(tb_topo_bw_socket("GenuineIntel family 6 model 143 (Sapphire Rapids)", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 22, 1e-9);
    TB_CHECK_INT(tb_topo_bw_socket("Emerald Rapids", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 40, 1e-9);
    TB_CHECK_INT(tb_topo_bw_socket("AuthenticAMD family 23 model 49", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 16, 1e-9);
    TB_CHECK_INT(tb_topo_bw_socket("POWER9, altivec supported", &bw), 0);
    TB_CHECK_NEAR(bw.theoretical_gbs, 32, 1e-9);
    TB_CHECK_INT(tb_topo_bw_socket("mystery", &bw), -1);

    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("2.5 GT/s"), 1);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("5.0 GT/s PCIe"), 2);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("8 GT/s"), 3);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("16.0 GT/s PCIe"), 4);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("32 GT/s PCIe/s"), 5);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("64.0 GT/s PCIe"), 6);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate(""), 0);
    TB_CHECK_INT(tb_topo_pcie_gen_of_rate("fast"), 0);

    TB_CHECK_INT(tb_topo_nvlink_expected("NVIDIA A100-SXM4-80GB"), 12);
    TB_CHECK_INT(tb_topo_nvlink_expected("NVIDIA H100 80GB HBM3"), 18);
    TB_CHECK_INT(tb_topo_nvlink_expected("NVIDIA A800-SXM4-80GB"), 8);
    TB_CHECK_INT(tb_topo_nvlink_expected("Tesla V100-SXM2-32GB"), 6);
    TB_CHECK_INT(tb_topo_nvlink_expected("NVIDIA B200"), 18);
    TB_CHECK_INT(tb_topo_nvlink_expected("NVIDIA A100 80GB PCIe"), 0);
}

/* A two-socket machine: per socket a NUMA node, a host bridge with a switch holding two
 * GPUs and a NIC, and a second host bridge with one GPU. */
typedef struct synth {
    tb_topo_t *t;
    int gpu[6], nic[2], sw[2];
} synth_t;

static int add(tb_topo_t *t, tb_topo_kind_t kind, int parent, const char *name, int gen,
               int width)
{
    tb_topo_obj_t o;
    tb_topo_obj_init(&o, kind);
    o.parent = parent;
    snprintf(o.name, sizeof(o.name), "%s", name);
    o.link_gen = gen;
    o.link_width = width;
    return tb_topo_add_obj(t, &o);
}

static void build_synth(synth_t *s)
{
    int root, pkg, numa, hb, hb2;
    char name[16];
    TB_CHECK_INT(tb_topo_create(&s->t), TB_OK);
    snprintf(s->t->source, sizeof(s->t->source), "test");
    snprintf(s->t->cpu_model, sizeof(s->t->cpu_model), "Intel Xeon (Sapphire Rapids)");
    root = add(s->t, TB_OBJ_MACHINE, -1, "Machine", 0, 0);
    for (int k = 0; k < 2; k++) {
        pkg = add(s->t, TB_OBJ_PACKAGE, root, "Package", 0, 0);
        numa = add(s->t, TB_OBJ_NUMA, pkg, "NUMA", 0, 0);
        s->t->objs[numa].os_index = k;
        hb = add(s->t, TB_OBJ_HOSTBRIDGE, numa, "HB", 0, 0);
        hb2 = add(s->t, TB_OBJ_HOSTBRIDGE, numa, "HB2", 0, 0);
        s->sw[k] = add(s->t, TB_OBJ_BRIDGE, hb, "sw", 4, 16);
        snprintf(name, sizeof(name), "GPU%d", 3 * k);
        s->gpu[3 * k] = add(s->t, TB_OBJ_GPU, s->sw[k], name, 5, 16);
        snprintf(name, sizeof(name), "GPU%d", 3 * k + 1);
        s->gpu[3 * k + 1] = add(s->t, TB_OBJ_GPU, s->sw[k], name, 4, 16);
        snprintf(name, sizeof(name), "GPU%d", 3 * k + 2);
        s->gpu[3 * k + 2] = add(s->t, TB_OBJ_GPU, hb2, name, 4, 16);
        snprintf(name, sizeof(name), "mlx5_%d", k);
        s->nic[k] = add(s->t, TB_OBJ_NIC, s->sw[k], name, 4, 16);
        s->t->objs[s->nic[k]].nports = 1;
        s->t->objs[s->nic[k]].ports[0].num = 1;
        s->t->objs[s->nic[k]].ports[0].rate_gbps = 200;
        snprintf(s->t->objs[s->nic[k]].ports[0].link_layer, 16, "InfiniBand");
    }
}

static void check_path(const tb_topo_t *t, int a, int b, tb_path_class_t cls, double gbs,
                       const char *bottleneck)
{
    tb_topo_path_t p;
    tb_topo_path(t, a, b, &p);
    TB_CHECK_STR(tb_path_class_name(p.cls), tb_path_class_name(cls));
    TB_CHECK_NEAR(p.theoretical_gbs, gbs, 0.05);
    if (bottleneck)
        TB_CHECK_STR(p.bottleneck, bottleneck);
}

static void test_paths(void)
{
    synth_t s;
    tb_topo_link_t l;
    int nics[4];
    build_synth(&s);
    if (!s.t)
        return;
    TB_CHECK_INT(tb_topo_model_build(s.t), TB_OK);
    check_path(s.t, s.gpu[0], s.gpu[0], TB_PATH_SELF, 0, NULL);
    /* Same switch: PIX, limited by the Gen4 GPU (the Gen5 one is faster). */
    check_path(s.t, s.gpu[0], s.gpu[1], TB_PATH_PIX, 31.5, "PCIe Gen4 x16");
    /* GPU to NIC on the same switch: the 200G port is the bottleneck. */
    check_path(s.t, s.gpu[0], s.nic[0], TB_PATH_PIX, 25, "IB HDR");
    /* Across the two host bridges of one NUMA node. */
    check_path(s.t, s.gpu[0], s.gpu[2], TB_PATH_NODE, 31.5, NULL);
    /* Across sockets: the Sapphire Rapids UPI (22) is below PCIe Gen4 x16. */
    check_path(s.t, s.gpu[0], s.gpu[3], TB_PATH_SYS, 22, "inter-socket (UPI, Sapphire Rapids)");
    check_path(s.t, s.gpu[2], s.nic[1], TB_PATH_SYS, 22, NULL);
    /* Nearest NIC of GPU2 is the PIX one of its own socket (NODE). */
    TB_CHECK_INT(tb_topo_nearest_nics(s.t, s.gpu[2], nics, 4), 2);
    TB_CHECK_INT(nics[0], s.nic[0]);
    TB_CHECK_INT(s.t->objs[s.gpu[4]].numa, 1);

    /* NVLinks join GPU0 and GPU3 directly: NV4 wins over SYS. */
    memset(&l, 0, sizeof(l));
    l.kind = TB_LINK_NVLINK;
    l.a = s.gpu[0];
    l.b = s.gpu[3];
    l.count = 4;
    l.version = 3;
    l.active = 1;
    TB_CHECK(tb_topo_add_link(s.t, &l) >= 0);
    {
        tb_topo_path_t p;
        tb_topo_path(s.t, s.gpu[3], s.gpu[0], &p);
        TB_CHECK_INT(p.cls, TB_PATH_NV);
        TB_CHECK_INT(p.nvlinks, 4);
        TB_CHECK_STR(p.bottleneck, "NVLink3 x4");
        TB_CHECK_NEAR(p.theoretical_gbs, 100, 1e-9);
    }
    tb_topo_destroy(s.t);
}

static void test_nvswitch(void)
{
    /* Two GPUs with 6 and 5 links into two NVSwitches: NV5 (the smaller), like nvidia-smi. */
    tb_topo_t *t = NULL;
    int root, g0, g1, sw0, sw1;
    tb_topo_link_t l;
    TB_CHECK_INT(tb_topo_create(&t), TB_OK);
    root = add(t, TB_OBJ_MACHINE, -1, "Machine", 0, 0);
    g0 = add(t, TB_OBJ_GPU, root, "GPU0", 0, 0);
    g1 = add(t, TB_OBJ_GPU, root, "GPU1", 0, 0);
    sw0 = add(t, TB_OBJ_NVSWITCH, root, "NVSwitch0", 0, 0);
    sw1 = add(t, TB_OBJ_NVSWITCH, root, "NVSwitch1", 0, 0);
    snprintf(t->objs[g0].model, sizeof(t->objs[0].model), "NVIDIA H100 80GB HBM3");
    snprintf(t->objs[g1].model, sizeof(t->objs[0].model), "NVIDIA H100 80GB HBM3");
    memset(&l, 0, sizeof(l));
    l.kind = TB_LINK_NVLINK;
    l.active = 1;
    l.a = g0, l.b = sw0, l.count = 3;
    tb_topo_add_link(t, &l);
    l.a = g0, l.b = sw1, l.count = 3;
    tb_topo_add_link(t, &l);
    l.a = g1, l.b = sw0, l.count = 3;
    tb_topo_add_link(t, &l);
    l.a = g1, l.b = sw1, l.count = 2;
    tb_topo_add_link(t, &l);
    l.a = g1, l.b = sw1, l.count = 1, l.active = 0; /* a down link */
    tb_topo_add_link(t, &l);
    snprintf(t->source, sizeof(t->source), "live");
    TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
    {
        tb_topo_path_t p;
        tb_topo_path(t, g0, g1, &p);
        TB_CHECK_INT(p.cls, TB_PATH_NV);
        TB_CHECK_INT(p.nvlinks, 5);
        TB_CHECK_STR(p.bottleneck, "NVLink4 x5");
    }
    {
        int down = 0, count = 0;
        for (size_t i = 0; i < t->nfindings; i++) {
            down += strcmp(t->findings[i].code, "nvlink_down") == 0;
            count += strcmp(t->findings[i].code, "nvlink_count") == 0;
        }
        TB_CHECK_INT(down, 1);
        TB_CHECK_INT(count, 2); /* 6 and 5 active links of 18 */
    }
    tb_topo_destroy(t);
}

static void test_port_findings(void)
{
    synth_t s;
    tb_topo_port_t *p;
    int codes[4] = {0};
    build_synth(&s);
    if (!s.t)
        return;
    /* A degraded GPU link, a down IB port, a slow one, a RoCE port without v2 GID. */
    s.t->objs[s.gpu[1]].link_max_gen = 5;
    p = &s.t->objs[s.nic[0]].ports[0];
    snprintf(p->state, sizeof(p->state), "DOWN");
    p = &s.t->objs[s.nic[1]].ports[0];
    snprintf(p->state, sizeof(p->state), "ACTIVE");
    p->max_rate_gbps = 400;
    p->gids_typed = 1; /* a source that reads GID types (verbs, sysfs) */
    snprintf(p->link_layer, sizeof(p->link_layer), "Ethernet");
    TB_CHECK_INT(tb_topo_model_build(s.t), TB_OK);
    for (size_t i = 0; i < s.t->nfindings; i++) {
        const char *c = s.t->findings[i].code;
        codes[0] += strcmp(c, "pcie_degraded") == 0;
        codes[1] += strcmp(c, "ib_port_down") == 0;
        codes[2] += strcmp(c, "ib_port_slow") == 0;
        codes[3] += strcmp(c, "roce_no_v2_gid") == 0;
    }
    TB_CHECK_INT(codes[0], 1);
    TB_CHECK_INT(codes[1], 1);
    TB_CHECK_INT(codes[2], 1);
    TB_CHECK_INT(codes[3], 1);
    {
        json_t *j = tb_topo_to_json(s.t), *pairs;
        TB_CHECK(j != NULL);
        pairs = json_object_get(j, "gpu_pairs");
        TB_CHECK_INT(json_array_size(pairs), 15); /* 6 GPUs: 6*5/2 */
        TB_CHECK_INT(json_array_size(json_object_get(j, "gpu_nic_paths")), 12);
        TB_CHECK_INT(json_array_size(json_object_get(j, "findings")), s.t->nfindings);
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(pairs, 0), "class")),
                     "PIX");
        json_decref(j);
    }
    tb_topo_destroy(s.t);
}

/* Live readings: a GPU link below its generation at full width is the idle power state,
 * information rather than a warning, and the path is expected at the capability. */
static void test_live_idle_speed(void)
{
    synth_t s;
    tb_topo_path_t path;
    build_synth(&s);
    if (!s.t)
        return;
    snprintf(s.t->source, sizeof(s.t->source), "live");
    s.t->objs[s.gpu[1]].link_max_gen = s.t->objs[s.gpu[1]].link_gen;
    s.t->objs[s.gpu[1]].link_gen = 1;
    s.t->objs[s.gpu[1]].link_max_width = s.t->objs[s.gpu[1]].link_width;
    TB_CHECK_INT(tb_topo_model_build(s.t), TB_OK);
    TB_CHECK_INT(tb_topo_count_findings(s.t, "pcie_degraded"), 0);
    TB_CHECK_INT(tb_topo_count_findings(s.t, "pcie_speed_idle"), 1);
    tb_topo_path(s.t, s.gpu[0], s.gpu[1], &path);
    TB_CHECK(strstr(path.bottleneck, "Gen1") == NULL);
    /* A narrower link is a fault whatever the load. */
    s.t->nfindings = 0;
    s.t->objs[s.gpu[1]].link_max_width = 2 * s.t->objs[s.gpu[1]].link_width;
    TB_CHECK_INT(tb_topo_model_build(s.t), TB_OK);
    TB_CHECK_INT(tb_topo_count_findings(s.t, "pcie_degraded"), 1);
    tb_topo_destroy(s.t);
}

/* A machine with one NUMA node and one host bridge (index in *hb_p), from `source`. */
static tb_topo_t *one_host_bridge(const char *source, int *hb_p)
{
    tb_topo_t *t = NULL;
    int root, numa;
    TB_CHECK_INT(tb_topo_create(&t), TB_OK);
    if (!t)
        return NULL;
    snprintf(t->source, sizeof(t->source), "%s", source);
    root = add(t, TB_OBJ_MACHINE, -1, "Machine", 0, 0);
    numa = add(t, TB_OBJ_NUMA, root, "NUMA0", 0, 0);
    *hb_p = add(t, TB_OBJ_HOSTBRIDGE, numa, "HB", 0, 0);
    return t;
}

/* A switch as NCCL XML nests it below host bridge `hb`: its upstream level (index
 * returned) at `up_gen`, a downstream level and a device of `kind` at `down_gen`, x16. */
static int nested_switch(tb_topo_t *t, int hb, int up_gen, int down_gen, tb_topo_kind_t kind)
{
    int up = add(t, TB_OBJ_BRIDGE, hb, "up", up_gen, 16);
    int down = add(t, TB_OBJ_BRIDGE, up, "down", down_gen, 16);
    add(t, kind, down, kind == TB_OBJ_GPU ? "GPU0" : "mlx5_0", down_gen, 16);
    return up;
}

static void test_switch_inference(void)
{
    /* A switch upstream port at Gen2 whose downstream ports run Gen5: trained down. */
    int hb, up;
    tb_topo_t *t = one_host_bridge("nccl-xml", &hb); /* the inference is NCCL XML's */
    if (!t)
        return;
    up = nested_switch(t, hb, 2, 5, TB_OBJ_GPU);
    TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
    TB_CHECK_INT(t->nfindings, 1);
    if (t->nfindings)
        TB_CHECK_STR(t->findings[0].code, "pcie_degraded");
    TB_CHECK_INT(t->objs[up].link_max_gen, 5);
    tb_topo_destroy(t);
}

/* Issue 7, shape 3: a link's capability is the lower of its two ends'. */
static void test_link_capability(void)
{
    int hb, up, dev, sw4, nic5;
    tb_topo_t *t = one_host_bridge("nccl-xml", &hb);
    if (!t)
        return;
    /* A ConnectX-8's built-in switch: Gen6 downstream ports, Gen5 uplink to the CPU. */
    up = nested_switch(t, hb, 5, 6, TB_OBJ_NIC);
    /* Under a Gen5 CPU (Granite Rapids) the uplink runs at its capability. */
    t->cpu_pcie_gen = tb_topo_cpu_pcie_gen("GenuineIntel", 6, 173);
    TB_CHECK_INT(t->cpu_pcie_gen, 5);
    TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
    TB_CHECK_INT(t->nfindings, 0);
    TB_CHECK_INT(t->objs[up].link_max_gen, 5);
    /* Where the CPU is not known, the switch's own ports are all there is: Gen6. */
    t->nfindings = 0;
    t->cpu_pcie_gen = 0;
    t->objs[up].link_max_gen = 0;
    TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
    TB_CHECK_INT(tb_topo_count_findings(t, "pcie_degraded"), 1);
    TB_CHECK_INT(t->objs[up].link_max_gen, 6);
    tb_topo_destroy(t);

    /* Sources that give maximum generations (live sysfs, NVML): a Gen4 device trained at
     * Gen2 x16 on a Gen5 root port is degraded; a Gen5 NIC at Gen4 behind a Gen4 switch is
     * at its capability there; a Gen5 device on a Gen4 CPU's root port too. */
    if (!(t = one_host_bridge("test", &hb)))
        return;
    dev = add(t, TB_OBJ_GPU, hb, "GPU0", 2, 16);
    t->objs[dev].link_max_gen = 4;
    sw4 = add(t, TB_OBJ_BRIDGE, hb, "sw", 4, 16);
    t->objs[sw4].link_max_gen = 4;
    nic5 = add(t, TB_OBJ_NIC, sw4, "mlx5_1", 4, 16);
    t->objs[nic5].link_max_gen = 5;
    t->cpu_pcie_gen = 5;
    TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
    TB_CHECK_INT(tb_topo_count_findings(t, "pcie_degraded"), 1);
    for (size_t i = 0; i < t->nfindings; i++)
        if (strcmp(t->findings[i].code, "pcie_degraded") == 0)
            TB_CHECK_STR(t->findings[i].object, "GPU0");
    TB_CHECK_INT(t->objs[nic5].link_max_gen, 4);
    t->nfindings = 0;
    t->objs[dev].link_gen = 4;
    t->objs[dev].link_max_gen = 5;
    t->cpu_pcie_gen = tb_topo_cpu_pcie_gen("AuthenticAMD", 143, 49); /* Rome, NCCL's id */
    TB_CHECK_INT(t->cpu_pcie_gen, 4);
    TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
    TB_CHECK_INT(tb_topo_count_findings(t, "pcie_degraded"), 0);
    tb_topo_destroy(t);

    /* The CPU table: display family and NCCL's family id alike; unknown parts are 0. */
    TB_CHECK_INT(tb_topo_cpu_pcie_gen("GenuineIntel", 6, 85), 3);
    TB_CHECK_INT(tb_topo_cpu_pcie_gen("GenuineIntel", 6, 143), 5);
    TB_CHECK_INT(tb_topo_cpu_pcie_gen("AuthenticAMD", 23, 49), 4);
    TB_CHECK_INT(tb_topo_cpu_pcie_gen("AuthenticAMD", 175, 17), 5);
    TB_CHECK_INT(tb_topo_cpu_pcie_gen("AuthenticAMD", 25, 1), 4);
    TB_CHECK_INT(tb_topo_cpu_pcie_gen("GenuineIntel", 6, 151), 0);
    TB_CHECK_INT(tb_topo_cpu_pcie_gen(NULL, 6, 143), 0);
}

/* Issue 7, shape 4: the NVLink generation from the compute capability NCCL states. */
static void test_sm(void)
{
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(60), 1);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(70), 2);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(80), 3);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(86), 0);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(90), 4);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(100), 5);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(103), 5);
    TB_CHECK_INT(tb_topo_nvlink_version_of_sm(89), 0);
    TB_CHECK_STR(tb_topo_gpu_arch_of_sm(100), "Blackwell");
    TB_CHECK_STR(tb_topo_gpu_arch_of_sm(90), "Hopper");
    TB_CHECK_STR(tb_topo_gpu_arch_of_sm(86), "Ampere");
    TB_CHECK(tb_topo_gpu_arch_of_sm(0) == NULL);
    TB_CHECK(tb_topo_gpu_arch_of_sm(304) == NULL);
}

int main(void)
{
    tb_log_set_level(TB_LOG_ERROR);
    test_table();
    test_paths();
    test_nvswitch();
    test_port_findings();
    test_switch_inference();
    test_live_idle_speed();
    test_link_capability();
    test_sm();
    return tb_test_done();
}
