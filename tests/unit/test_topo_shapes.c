/* Machines nobody wrote a fixture for (issue 7): small hand-made files in tests/data/topo,
 * one per shape, with the counts, classes, numbering and findings a reader of the file
 * expects; and the rules checked on every shared fixture (NICs are RDMA devices, GPU i is
 * the driver's device i). tests/data/topo/README.md says what each file describes. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tb_test.h"
#include "topo.h"

#define DATA TB_TEST_DATA_DIR "/topo/"

static tb_topo_t *import(const char *path)
{
    tb_topo_t *t = NULL;
    TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &t), TB_OK);
    return t;
}

/* Names of all objects of a kind in graph order, comma-separated. */
static void names_of(const tb_topo_t *t, tb_topo_kind_t kind, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < tb_topo_count(t, kind); i++) {
        if (i)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, t->objs[tb_topo_nth(t, kind, i)].name, len - strlen(buf) - 1);
    }
}

static void netif_names(const tb_topo_t *t, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < t->nnetifs; i++) {
        if (i)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, t->netifs[i].name, len - strlen(buf) - 1);
    }
}

/* The nearest NICs of a GPU as "a,b (CLASS)". */
static void nearest(const tb_topo_t *t, const char *gpu, char *buf, size_t len)
{
    int nics[16], g = tb_topo_find(t, gpu);
    size_t n = g >= 0 ? tb_topo_nearest_nics(t, g, nics, 16) : 0;
    tb_topo_path_t best, p;
    buf[0] = '\0';
    if (n == 0)
        return;
    tb_topo_path(t, g, nics[0], &best);
    for (size_t k = 0; k < n; k++) {
        tb_topo_path(t, g, nics[k], &p);
        if (p.cls != best.cls)
            break;
        if (k)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, t->objs[nics[k]].name, len - strlen(buf) - 1);
    }
    snprintf(buf + strlen(buf), len - strlen(buf), " (%s)", tb_path_class_name(best.cls));
}

static const char *cls(const tb_topo_t *t, const char *a, const char *b)
{
    tb_topo_path_t p;
    tb_topo_path(t, tb_topo_find(t, a), tb_topo_find(t, b), &p);
    return tb_path_class_name(p.cls);
}

/* Shape 1: two 1 GbE Broadcom functions and an I210 (Gen1 x1, in GPU0's own switch)
 * beside four ConnectX-5 functions. The NICs are the four HCAs; the I210 is no NIC
 * column and no nearest NIC; every netdev is an interface. */
static void test_ethernet_beside_rdma(void)
{
    char buf[512];
    tb_topo_t *t = import(DATA "hwloc-ethernet-beside-rdma.xml");
    int i;
    if (!t)
        return;
    TB_CHECK_INT(tb_topo_count(t, TB_OBJ_GPU), 4);
    names_of(t, TB_OBJ_NIC, buf, sizeof(buf));
    TB_CHECK_STR(buf, "mlx5_0,mlx5_1,mlx5_2,mlx5_3");
    netif_names(t, buf, sizeof(buf));
    TB_CHECK_STR(buf, "enp5s0,ib0,ib1,eno1,eno2,ib2,ib3");
    i = tb_topo_find(t, "enp5s0");
    TB_CHECK(i >= 0 && t->objs[i].kind == TB_OBJ_PCIDEV);
    TB_CHECK_STR(t->netifs[0].busid, "0000:05:00.0");
    TB_CHECK_STR(t->netifs[0].address, "3c:ec:ef:00:00:05");
    TB_CHECK_INT(t->netifs[0].kind, TB_NETIF_PHYSICAL);
    /* GPU0's own switch holds the I210; its nearest NICs are still the HCAs, NODE away. */
    TB_CHECK_STR(cls(t, "GPU0", "enp5s0"), "PIX");
    nearest(t, "GPU0", buf, sizeof(buf));
    TB_CHECK_STR(buf, "mlx5_0,mlx5_1 (NODE)");
    nearest(t, "GPU3", buf, sizeof(buf));
    TB_CHECK_STR(buf, "mlx5_2,mlx5_3 (PIX)");
    TB_CHECK_INT(tb_topo_count_findings(t, "gdr_off_by_default"), 2);
    TB_CHECK_INT(tb_topo_count_findings(t, "gpu_nic_far"), 0);
    {
        json_t *j = tb_topo_to_json(t);
        TB_CHECK(j != NULL);
        TB_CHECK_INT(json_integer_value(json_object_get(j, "nics")), 4);
        TB_CHECK_INT(json_array_size(json_object_get(j, "gpu_nic_paths")), 16);
        TB_CHECK_INT(json_array_size(json_object_get(j, "netifs")), 7);
        json_decref(j);
    }
    tb_topo_destroy(t);
}

/* Shape 1, cloud: an ENA (netdev only) under the same switch as the EFA: one NIC. */
static void test_cloud_efa_beside_ena(void)
{
    char buf[256];
    tb_topo_t *t = import(DATA "hwloc-cloud-efa-beside-ena.xml");
    if (!t)
        return;
    names_of(t, TB_OBJ_NIC, buf, sizeof(buf));
    TB_CHECK_STR(buf, "rdmap20s0");
    netif_names(t, buf, sizeof(buf));
    TB_CHECK_STR(buf, "ens32");
    nearest(t, "GPU1", buf, sizeof(buf));
    TB_CHECK_STR(buf, "rdmap20s0 (PIX)");
    tb_topo_destroy(t);
}

/* Shape 1 in NCCL XML: socket <net>s (port 0, no RDMA hardware) are interfaces. */
static void test_nccl_socket_nets(void)
{
    char buf[256];
    tb_topo_t *t =
        import(TB_FIXTURES_DIR "/nccl_topo_xml/zy-uestc-yccl_4xA6000-gen3-noRDMA_topo.xml");
    if (!t)
        return;
    TB_CHECK_INT(tb_topo_count(t, TB_OBJ_NIC), 0);
    netif_names(t, buf, sizeof(buf));
    TB_CHECK_STR(buf, "eno1np0,eno2np1");
    TB_CHECK_INT(t->netifs[0].speed_mbps, 1000);
    TB_CHECK_STR(t->netifs[0].busid, "0000:18:00.0");
    TB_CHECK_INT(tb_topo_count_findings(t, "gpu_nic_far"), 0);
    tb_topo_destroy(t);
}

/* Shape 5: an MI250X node whose rsmi numbers do not follow the tree: rsmi4/rsmi5 under
 * NUMA node 0, rsmi0/rsmi1 under NUMA node 3. GPU i is rsmi i. */
static void test_mi250x_numbering(void)
{
    static const struct {
        const char *busid;
        int numa;
    } want[8] = {{"0000:d3:00.0", 3}, {"0000:d4:00.0", 3}, {"0000:cb:00.0", 1},
                 {"0000:cc:00.0", 1}, {"0000:db:00.0", 0}, {"0000:dc:00.0", 0},
                 {"0000:c3:00.0", 2}, {"0000:c4:00.0", 2}};
    char buf[256], name[16];
    tb_topo_t *t = import(DATA "hwloc-mi250x-rsmi-order.xml");
    if (!t)
        return;
    TB_CHECK_INT(tb_topo_count(t, TB_OBJ_GPU), 8);
    for (int g = 0; g < 8; g++) {
        int i = tb_topo_nth(t, TB_OBJ_GPU, (size_t)g);
        snprintf(name, sizeof(name), "GPU%d", g);
        TB_CHECK(i >= 0);
        if (i < 0)
            continue;
        TB_CHECK_STR(t->objs[i].name, name);
        TB_CHECK_INT(t->objs[i].os_index, g);
        TB_CHECK_STR(t->objs[i].busid, want[g].busid);
        TB_CHECK_INT(t->objs[i].numa, want[g].numa);
    }
    /* Slingshot NICs (17db:0501) have no OS device in the export: RDMA by their id. */
    TB_CHECK_INT(tb_topo_count(t, TB_OBJ_NIC), 4);
    nearest(t, "GPU0", buf, sizeof(buf));
    TB_CHECK_STR(buf, "0000:d5:00.0 (PIX)");
    nearest(t, "GPU4", buf, sizeof(buf));
    TB_CHECK_STR(buf, "0000:dd:00.0 (PIX)");
    /* xGMI links follow the numbers: rsmi0-rsmi1 and rsmi0-rsmi2. */
    TB_CHECK_STR(cls(t, "GPU0", "GPU1"), "NV");
    TB_CHECK_STR(cls(t, "GPU0", "GPU2"), "NV");
    TB_CHECK_STR(cls(t, "GPU0", "GPU3"), "SYS");
    TB_CHECK_INT(tb_topo_count_findings(t, "gpu_nic_far"), 0);
    tb_topo_destroy(t);
}

/* Numbering where no backend numbers every GPU: PCI bus order. The chimera workstation
 * has an NVIDIA GPU (cuda0) and an AMD one (opencl0d0): both say 0. */
static void test_bus_order_fallback(void)
{
    tb_topo_t *t = import(TB_FIXTURES_DIR "/hwloc_xml/flux-sched_multi_gpu_types_chimera.xml");
    if (!t)
        return;
    TB_CHECK_STR(t->objs[tb_topo_find(t, "GPU0")].busid, "0000:08:00.0");
    TB_CHECK_STR(t->objs[tb_topo_find(t, "GPU1")].busid, "0000:44:00.0");
    tb_topo_destroy(t);
    /* K40m (cuda0), Radeon (opencl0d1), three M2075 without OS devices: bus order. */
    t = import(TB_FIXTURES_DIR "/hwloc_xml/hwloc-v2x_32em64t-2n8c2t-pci-normalio.xml");
    if (!t)
        return;
    TB_CHECK_STR(t->objs[tb_topo_find(t, "GPU0")].busid, "0000:03:00.0");
    TB_CHECK_STR(t->objs[tb_topo_find(t, "GPU3")].busid, "0000:84:00.1");
    tb_topo_destroy(t);
    /* NCCL's dev is CUDA's index, gaps included (dev 2 is not in the file). */
    t = import(TB_FIXTURES_DIR
               "/nccl_topo_xml/sugarlxn-nccl_test_4xRTX4090-4NUMA-calico_nccl_topo.xml");
    if (!t)
        return;
    TB_CHECK_STR(t->objs[tb_topo_nth(t, TB_OBJ_GPU, 2)].name, "GPU3");
    TB_CHECK_STR(t->objs[tb_topo_find(t, "GPU3")].busid, "0000:61:00.0");
    tb_topo_destroy(t);
}

/* The rules on every shared fixture that imports: NIC objects are RDMA devices (no
 * netdev-style names of plain Ethernet), GPUs are in number order with os_index = number
 * and unique names. */
static void check_rules(const char *path)
{
    tb_topo_t *t = NULL;
    int last = -1;
    if (tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &t) != TB_OK)
        return; /* rejected files are the importers' tests' business */
    for (size_t g = 0; g < tb_topo_count(t, TB_OBJ_GPU); g++) {
        const tb_topo_obj_t *o = &t->objs[tb_topo_nth(t, TB_OBJ_GPU, g)];
        char name[16];
        snprintf(name, sizeof(name), "GPU%d", o->os_index);
        if (o->os_index <= last || strcmp(o->name, name) != 0)
            fprintf(stderr, "%s: %s os_index %d after %d\n", path, o->name, o->os_index, last);
        TB_CHECK(o->os_index > last);
        TB_CHECK_STR(o->name, name);
        last = o->os_index;
    }
    for (size_t k = 0; k < tb_topo_count(t, TB_OBJ_NIC); k++) {
        const tb_topo_obj_t *o = &t->objs[tb_topo_nth(t, TB_OBJ_NIC, k)];
        int plain = !strncmp(o->name, "eth", 3) || !strncmp(o->name, "eno", 3) ||
                    !strncmp(o->name, "enp", 3) || !strncmp(o->name, "ens", 3) ||
                    !strncmp(o->name, "wlp", 3);
        if (plain)
            fprintf(stderr, "%s: %s is a NIC\n", path, o->name);
        TB_CHECK(!plain);
    }
    tb_topo_destroy(t);
}

static void test_rules_on_fixtures(void)
{
    static const char *const dirs[] = {"hwloc_xml", "nccl_topo_xml", "nvidia_smi_topo"};
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char dir[512];
        DIR *dp;
        struct dirent *e;
        snprintf(dir, sizeof(dir), "%s/%s", TB_FIXTURES_DIR, dirs[d]);
        dp = opendir(dir);
        TB_CHECK(dp != NULL);
        while (dp && (e = readdir(dp))) {
            char path[1024];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            check_rules(path);
        }
        if (dp)
            closedir(dp);
    }
}

int main(void)
{
    tb_log_set_level(TB_LOG_ERROR);
    test_ethernet_beside_rdma();
    test_cloud_efa_beside_ena();
    test_nccl_socket_nets();
    test_mi250x_numbering();
    test_bus_order_fallback();
    test_rules_on_fixtures();
    return tb_test_done();
}
