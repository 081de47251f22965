/* Machines nobody wrote a fixture for (issue 7): small hand-made files in tests/data/topo,
 * one per shape, with the counts, classes, numbering and findings a reader of the file
 * expects; and the rules checked on every shared fixture (NICs are RDMA devices, GPU i is
 * the driver's device i). tests/data/topo/README.md says what each file describes. */
#define _DEFAULT_SOURCE /* open_memstream, mkstemp */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    /* A hand-written NCCL file without <gpu dev>: PCI bus order (Hyper-V bus ids 0001,
     * 0002 on NUMA 1, 0003, 0004 on NUMA 0, ...), not the file's order (NUMA 0 first). */
    t = import(TB_FIXTURES_DIR "/nccl_topo_xml/azhpc-images_ndv4-topo.xml");
    if (!t)
        return;
    {
        static const int numa[8] = {1, 1, 0, 0, 3, 3, 2, 2};
        for (size_t g = 0; g < 8; g++)
            TB_CHECK_INT(t->objs[tb_topo_nth(t, TB_OBJ_GPU, g)].numa, numa[g]);
    }
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

/* ---- Shape 6: one machine through two sources gives one model ----
 * Every field of the JSON model is compared where both sources state it; a field one
 * source does not carry (port state and rate in hwloc, NVLink GB/s in NCCL XML) is not a
 * disagreement, nor is a figure computed from it (a GPU-NIC path whose bottleneck is the
 * port). Provenance ("inferred", notes, source), the graph's indices and the interface
 * list (NCCL lists only its transport's devices) are not model facts. */
static const char *const ignored_keys[] = {"index", "parent", "inferred", NULL};
/* Two captures of one machine class (not one machine) share the shape, not the bus ids,
 * core numbers, NIC numbering or memory size of the GPU model. */
static const char *const class_keys[] = {"busid", "cpuset", "os_index", "model", NULL};
static int class_only;

static int ignored(const char *key)
{
    for (int i = 0; ignored_keys[i]; i++)
        if (strcmp(key, ignored_keys[i]) == 0)
            return 1;
    for (int i = 0; class_only && class_keys[i]; i++)
        if (strcmp(key, class_keys[i]) == 0)
            return 1;
    return 0;
}

static json_t *by_name(json_t *arr, const char *key, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *n = json_string_value(json_object_get(e, key));
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

/* Values present on both sides must be equal (reals within 0.1%); recursion into
 * objects and arrays (element by element). Reports the path of each difference. */
static int same_value(json_t *x, json_t *y, const char *where)
{
    int diff = 0;
    if (json_is_number(x) && json_is_number(y)) {
        double a = json_number_value(x), b = json_number_value(y);
        diff = !(a == b || (a - b < 1e-3 * (a > 0 ? a : -a) && b - a < 1e-3 * (a > 0 ? a : -a)));
    } else if (json_is_object(x) && json_is_object(y)) {
        const char *k;
        json_t *v;
        json_object_foreach(x, k, v) {
            char sub[256];
            json_t *w = json_object_get(y, k);
            if (!w || ignored(k))
                continue;
            snprintf(sub, sizeof(sub), "%s.%s", where, k);
            diff |= !same_value(v, w, sub);
        }
        return !diff;
    } else if (json_is_array(x) && json_is_array(y)) {
        diff = json_array_size(x) != json_array_size(y);
        for (size_t i = 0; !diff && i < json_array_size(x); i++) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
            diff |= !same_value(json_array_get(x, i), json_array_get(y, i), sub);
        }
    } else {
        diff = !json_equal(x, y);
    }
    if (diff) {
        char *a = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(y, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "  %s: %s != %s\n", where, a ? a : "?", b ? b : "?");
        free(a);
        free(b);
    }
    return !diff;
}

static int port_rate_known(json_t *model, const char *nic)
{
    json_t *o = by_name(json_object_get(model, "objects"), "name", nic);
    json_t *p = o ? json_array_get(json_object_get(o, "ports"), 0) : NULL;
    return p && json_object_get(p, "rate_gbps") != NULL;
}

static void pair_key(json_t *e, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%s", json_string_value(json_object_get(e, "a")),
             json_string_value(json_object_get(e, "b")));
}

static json_t *by_pair(json_t *arr, const char *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        char k[256];
        pair_key(e, k, sizeof(k));
        if (strcmp(k, key) == 0)
            return e;
    }
    return NULL;
}

/* Findings as a sorted "code object" list. */
static void finding_list(json_t *model, char *buf, size_t len)
{
    char items[64][128];
    size_t n = 0, i;
    json_t *f;
    buf[0] = '\0';
    json_array_foreach(json_object_get(model, "findings"), i, f) {
        if (n < 64)
            snprintf(items[n++], sizeof(items[0]), "%s %s",
                     json_string_value(json_object_get(f, "code")),
                     json_string_value(json_object_get(f, "object")));
    }
    qsort(items, n, sizeof(items[0]), (int (*)(const void *, const void *))strcmp);
    for (i = 0; i < n; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "; " : "", items[i]);
}

static size_t count_kind(json_t *model, const char *kind)
{
    size_t n = 0, i;
    json_t *o;
    json_array_foreach(json_object_get(model, "objects"), i, o)
        n += strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0;
    return n;
}

/* Compares two sources' models of one machine; `machine_class`: two captures of one
 * machine class, compared on shape only (class_keys). */
static void check_same_model(const char *pa, const char *pb, int machine_class)
{
    static const char *const kinds[] = {"gpu", "nic", "nvswitch", "numa"};
    tb_topo_t *ta = import(pa), *tb = import(pb);
    json_t *a, *b, *e;
    size_t i;
    char fa[4096], fb[4096];
    if (!ta || !tb) {
        tb_topo_destroy(ta);
        tb_topo_destroy(tb);
        return;
    }
    fprintf(stderr, "same model: %s vs %s\n", pa, pb);
    class_only = machine_class;
    a = tb_topo_to_json(ta);
    b = tb_topo_to_json(tb);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        TB_CHECK_INT(count_kind(a, kinds[k]), count_kind(b, kinds[k]));
    /* GPU and NIC objects by name: busid, model, NUMA, near cores, os_index, PCIe link,
     * NVLinks expected, ports. */
    json_array_foreach(json_object_get(a, "objects"), i, e) {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *o = by_name(json_object_get(b, "objects"), "name", name);
        if (strcmp(kind, "gpu") != 0 && strcmp(kind, "nic") != 0)
            continue;
        TB_CHECK(o != NULL);
        if (!o)
            continue;
        TB_CHECK(same_value(e, o, name));
    }
    /* GPU pairs: class, NV#, expected bandwidth, bottleneck. */
    json_array_foreach(json_object_get(a, "gpu_pairs"), i, e) {
        char key[256];
        pair_key(e, key, sizeof(key));
        TB_CHECK(by_pair(json_object_get(b, "gpu_pairs"), key) != NULL);
        if (by_pair(json_object_get(b, "gpu_pairs"), key))
            TB_CHECK(same_value(e, by_pair(json_object_get(b, "gpu_pairs"), key), key));
    }
    TB_CHECK_INT(json_array_size(json_object_get(a, "gpu_pairs")),
                 json_array_size(json_object_get(b, "gpu_pairs")));
    /* GPU-NIC paths: the class always, figures where both know the port rate. */
    json_array_foreach(json_object_get(a, "gpu_nic_paths"), i, e) {
        char key[256];
        json_t *o;
        const char *nic = json_string_value(json_object_get(e, "b"));
        pair_key(e, key, sizeof(key));
        o = by_pair(json_object_get(b, "gpu_nic_paths"), key);
        TB_CHECK(o != NULL);
        if (!o)
            continue;
        if (port_rate_known(a, nic) != port_rate_known(b, nic)) {
            json_object_del(e, "theoretical_gbs"), json_object_del(o, "theoretical_gbs");
            json_object_del(e, "achievable_gbs"), json_object_del(o, "achievable_gbs");
            json_object_del(e, "bottleneck"), json_object_del(o, "bottleneck");
        }
        TB_CHECK(same_value(e, o, key));
    }
    TB_CHECK_INT(json_array_size(json_object_get(a, "gpu_nic_paths")),
                 json_array_size(json_object_get(b, "gpu_nic_paths")));
    /* Locality: NUMA node, near cores, nearest NICs and their class. */
    json_array_foreach(json_object_get(a, "locality"), i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *o = by_name(json_object_get(b, "locality"), "name", name);
        TB_CHECK(o != NULL);
        if (o)
            TB_CHECK(same_value(e, o, name));
    }
    /* NVLink and xGMI links: ends, count, version, state. */
    json_array_foreach(json_object_get(a, "links"), i, e) {
        char key[256];
        json_t *o;
        pair_key(e, key, sizeof(key));
        o = by_pair(json_object_get(b, "links"), key);
        if (!o) { /* listed from the other end */
            char rev[256];
            snprintf(rev, sizeof(rev), "%s-%s", json_string_value(json_object_get(e, "b")),
                     json_string_value(json_object_get(e, "a")));
            o = by_pair(json_object_get(b, "links"), rev);
            json_object_del(e, "a"), json_object_del(e, "b");
        }
        TB_CHECK(o != NULL);
        if (o)
            TB_CHECK(same_value(e, o, key));
    }
    TB_CHECK_INT(json_array_size(json_object_get(a, "links")),
                 json_array_size(json_object_get(b, "links")));
    finding_list(a, fa, sizeof(fa));
    finding_list(b, fb, sizeof(fb));
    TB_CHECK_STR(fa, fb);
    json_decref(a);
    json_decref(b);
    tb_topo_destroy(ta);
    tb_topo_destroy(tb);
}

static void test_same_machine_two_sources(void)
{
    /* Hand-made: one V100 node as lstopo and as NCCL would write it. */
    check_same_model(DATA "hwloc-same-node.xml", DATA "nccl_same_node.xml", 0);
    /* Real: one machine exported with hwloc's normal and whole I/O filters. */
    check_same_model(TB_FIXTURES_DIR "/hwloc_xml/hwloc-v2x_32em64t-2n8c2t-pci-normalio.xml",
                     TB_FIXTURES_DIR "/hwloc_xml/hwloc-v2x_32em64t-2n8c2t-pci-wholeio.xml", 0);
    /* Real: the OCI and AWS pairs of one machine class (A100 40 and 80 GB parts). */
    check_same_model(TB_FIXTURES_DIR "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml",
                     TB_FIXTURES_DIR "/nccl_topo_xml/oci-hpc-oke_BM.GPU.A100-v2.8.xml", 1);
    check_same_model(TB_FIXTURES_DIR "/nccl_topo_xml/aws-ofi-nccl_p4d-24xl-topo.xml",
                     TB_FIXTURES_DIR "/nccl_topo_xml/aws-ofi-nccl_p4de-24xl-topo.xml", 1);
}

/* Text output of a topology, for checks on what the user reads. */
static char *print_text(const tb_topo_t *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    tb_topo_print(t, f);
    fclose(f);
    return buf;
}

/* Shape 6, item by item: what one source left unsaid or said differently. */
static void test_same_model_details(void)
{
    tb_topo_t *t;
    json_t *j, *e;
    char *text;

    /* hwloc: link layer from LID / address / class, marked inferred; CPU model trimmed;
     * NIC model as the NCCL importer names it; a NIC on a root port (folded into its host
     * bridge) keeps its own model. */
    if ((t = import(DATA "hwloc-same-node.xml"))) {
        int nic = tb_topo_find(t, "mlx5_1");
        TB_CHECK_STR(t->cpu_model, "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz (Skylake/Cascade Lake)");
        TB_CHECK(nic >= 0 && t->objs[t->objs[nic].parent].kind == TB_OBJ_HOSTBRIDGE);
        if (nic >= 0) {
            TB_CHECK_STR(t->objs[nic].model, "ConnectX-5");
            TB_CHECK_STR(t->objs[nic].ports[0].link_layer, "InfiniBand");
            TB_CHECK(t->objs[nic].inferred & TB_INF_LINK_LAYER);
            TB_CHECK(t->objs[nic].inferred & TB_INF_LINK); /* Gen3 x16 from 15.75 GB/s */
        }
        text = print_text(t);
        TB_CHECK(text && strstr(text, "1: ACTIVE ? InfiniBand*") != NULL);
        TB_CHECK(text && strstr(text, "* = inferred") != NULL);
        free(text);
        tb_topo_destroy(t);
    }
    if ((t = import(DATA "hwloc-ethernet-beside-rdma.xml"))) {
        TB_CHECK_STR(t->objs[tb_topo_nth(t, TB_OBJ_PACKAGE, 0)].model,
                     "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"); /* file: two trailing blanks */
        tb_topo_destroy(t);
    }
    /* An Ethernet function with LID 0 and a MAC (ConnectX-4 Lx, hwloc 1.x export). */
    if ((t = import(TB_FIXTURES_DIR "/hwloc_xml/mpibind_arm64-ulna-hwloc1.xml"))) {
        int nic = tb_topo_find(t, "mlx5_1");
        TB_CHECK(nic >= 0 && strcmp(t->objs[nic].ports[0].link_layer, "Ethernet") == 0);
        /* hwloc does not type GIDs: no RoCE v2 verdict. */
        TB_CHECK_INT(tb_topo_count_findings(t, "roce_no_v2_gid"), 0);
        tb_topo_destroy(t);
    }
    /* NCCL XML: the GB/s of a stated generation and width. */
    if ((t = import(DATA "nccl_same_node.xml"))) {
        j = tb_topo_to_json(t);
        e = by_name(json_object_get(j, "objects"), "name", "GPU0");
        TB_CHECK_NEAR(json_real_value(json_object_get(json_object_get(e, "pcie_link"), "gbs")),
                      15.75, 0.01);
        json_decref(j);
        tb_topo_destroy(t);
    }
    /* xGMI: text XGMI#, JSON class XGMI with xgmi_links; one package's NUMA nodes are not
     * joined by an inter-socket link. */
    if ((t = import(DATA "hwloc-mi250x-rsmi-order.xml"))) {
        tb_topo_path_t p;
        j = tb_topo_to_json(t);
        e = by_pair(json_object_get(j, "gpu_pairs"), "GPU0-GPU1");
        TB_CHECK_STR(json_string_value(json_object_get(e, "class")), "XGMI");
        TB_CHECK_INT(json_integer_value(json_object_get(e, "xgmi_links")), 1);
        TB_CHECK(json_object_get(e, "nvlinks") == NULL);
        json_decref(j);
        tb_topo_path(t, tb_topo_find(t, "GPU0"), tb_topo_find(t, "GPU3"), &p);
        TB_CHECK_STR(tb_path_class_name(p.cls), "SYS");
        TB_CHECK(strstr(p.bottleneck, "inter-socket") == NULL);
        TB_CHECK_STR(p.bottleneck, "PCIe Gen4 x16");
        text = print_text(t);
        TB_CHECK(text && strstr(text, "XGMI1") != NULL && strstr(text, "inter-socket (") == NULL);
        free(text);
        tb_topo_destroy(t);
    }
    /* Two packages, two NUMA nodes each (NPS2): GPUs on the two NUMA nodes of package 0
     * cross its own fabric (SYS, PCIe-bound), not the 16 GB/s inter-socket link that
     * joins them to package 1's. */
    {
        tb_topo_obj_t o;
        int root, gpu[3], k = 0;
        TB_CHECK_INT(tb_topo_create(&t), TB_OK);
        snprintf(t->cpu_model, sizeof(t->cpu_model), "AMD EPYC 7402 24-Core Processor");
        tb_topo_obj_init(&o, TB_OBJ_MACHINE);
        root = tb_topo_add_obj(t, &o);
        for (int pk = 0; pk < 2; pk++) {
            int pkg;
            tb_topo_obj_init(&o, TB_OBJ_PACKAGE);
            o.parent = root;
            pkg = tb_topo_add_obj(t, &o);
            for (int n = 0; n < 2 - pk; n++) {
                tb_topo_obj_init(&o, TB_OBJ_NUMA);
                o.parent = pkg;
                o.os_index = 2 * pk + n;
                o.parent = tb_topo_add_obj(t, &o);
                o.kind = TB_OBJ_GPU;
                o.os_index = -1;
                o.link_gen = 4;
                o.link_width = 16;
                gpu[k++] = tb_topo_add_obj(t, &o);
            }
        }
        TB_CHECK_INT(tb_topo_model_build(t), TB_OK);
        {
            tb_topo_path_t p;
            tb_topo_path(t, gpu[0], gpu[1], &p);
            TB_CHECK_STR(tb_path_class_name(p.cls), "SYS");
            TB_CHECK_STR(p.bottleneck, "PCIe Gen4 x16");
            tb_topo_path(t, gpu[0], gpu[2], &p);
            TB_CHECK_STR(p.bottleneck, "inter-socket (xGMI)");
        }
        tb_topo_destroy(t);
    }
    /* Inferred capability (NCCL XML switch uplinks) and NIC NUMA (nvidia-smi text). */
    if ((t = import(TB_FIXTURES_DIR "/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml"))) {
        int sw = tb_topo_find(t, "switch 0000:08:00.0");
        TB_CHECK(sw >= 0 && (t->objs[sw].inferred & TB_INF_LINK_MAX));
        j = tb_topo_to_json(t);
        e = by_name(json_object_get(j, "objects"), "name", "switch 0000:08:00.0");
        TB_CHECK_STR(json_string_value(json_array_get(json_object_get(e, "inferred"), 0)),
                     "pcie_max_gen");
        json_decref(j);
        tb_topo_destroy(t);
    }
    if ((t = import(TB_FIXTURES_DIR "/nvidia_smi_topo/"
                    "NVIDIA-nccl-issue933_8xA800-NV8-9NIC_PIX-NODE-SYS_PARTIAL-rows-GPU0-6.txt"))) {
        int nic = tb_topo_find(t, "NIC0");
        TB_CHECK(nic >= 0 && t->objs[nic].numa >= 0 && (t->objs[nic].inferred & TB_INF_NUMA));
        text = print_text(t);
        TB_CHECK(text && strstr(text, "* = inferred") != NULL);
        free(text);
        tb_topo_destroy(t);
    }
    /* Near cores in full: no list cut at a column with a dangling comma. */
    if ((t = import(TB_FIXTURES_DIR "/nccl_topo_xml/zy-uestc-yccl_4xA6000-gen3-noRDMA_topo.xml"))) {
        const char *cpus = t->objs[tb_topo_find(t, "GPU0")].cpuset;
        text = print_text(t);
        TB_CHECK(strlen(cpus) > 22 && text && strstr(text, cpus) != NULL);
        for (char *l = text; l && (l = strstr(l, ",\n")); l++)
            TB_CHECK(l == text || l[-1] < '0' || l[-1] > '9'); /* "...,16," cut */
        free(text);
        tb_topo_destroy(t);
    }
    /* NCCL XML: a <nic> inside a root-complex <pci> (class 0x0600) is not that function:
     * it takes neither its model, bus id nor link. */
    {
        char path[] = "/tmp/tb_topo_rc_XXXXXX";
        int fd = mkstemp(path);
        static const char xml[] =
            "<system version=\"1\">\n"
            " <cpu numaid=\"0\" affinity=\"0000000f\" arch=\"x86_64\" vendor=\"GenuineIntel\""
            " familyid=\"6\" modelid=\"143\">\n"
            "  <pci busid=\"0000:00:00.0\" class=\"0x060000\" vendor=\"0x8086\" device=\"0x09a2\""
            " link_speed=\"\" link_width=\"0\">\n"
            "   <nic><net name=\"mlx5_0\" dev=\"0\" speed=\"400000\" port=\"1\" gdr=\"1\"/></nic>\n"
            "  </pci>\n </cpu>\n</system>\n";
        TB_CHECK(fd >= 0 && write(fd, xml, sizeof(xml) - 1) == (ssize_t)(sizeof(xml) - 1));
        if (fd >= 0)
            close(fd);
        if ((t = import(path))) {
            int nic = tb_topo_find(t, "mlx5_0");
            TB_CHECK(nic >= 0);
            if (nic >= 0) {
                TB_CHECK(strstr(t->objs[nic].model, "0x8086") == NULL);
                TB_CHECK_STR(t->objs[nic].busid, "");
                TB_CHECK_INT(t->objs[t->objs[nic].parent].kind, TB_OBJ_HOSTBRIDGE);
            }
            tb_topo_destroy(t);
        }
        unlink(path);
    }
}

/* Shape 7: benchmark outputs (nccl-tests, OSU, perftest) are no topology: refused as
 * input (exit 3) naming the file and what is read, also when a format is forced. */
static void test_not_topologies(void)
{
    static const char *const dirs[] = {"nccl_tests", "perftest_osu"};
    int n = 0;
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char dir[512];
        DIR *dp;
        struct dirent *e;
        snprintf(dir, sizeof(dir), "%s/%s", TB_FIXTURES_DIR, dirs[d]);
        dp = opendir(dir);
        TB_CHECK(dp != NULL);
        while (dp && (e = readdir(dp))) {
            char path[1024], err[4096] = "";
            tb_topo_t *t = NULL;
            FILE *cap = tmpfile();
            int saved = dup(fileno(stderr));
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            fflush(stderr);
            if (cap)
                dup2(fileno(cap), fileno(stderr));
            TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &t), TB_ERR_INPUT);
            TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_NVSMI, &t), TB_ERR_INPUT);
            TB_CHECK(t == NULL);
            fflush(stderr);
            dup2(saved, fileno(stderr));
            close(saved);
            if (cap) {
                rewind(cap);
                err[fread(err, 1, sizeof(err) - 1, cap)] = '\0';
                fclose(cap);
            }
            TB_CHECK(strstr(err, e->d_name) != NULL);
            TB_CHECK(strstr(err, "not a topology this program reads") != NULL);
            n++;
        }
        if (dp)
            closedir(dp);
    }
    TB_CHECK(n >= 20);
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
    test_same_machine_two_sources();
    test_same_model_details();
    test_not_topologies();
    return tb_test_done();
}
