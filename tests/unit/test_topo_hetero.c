/* Heterogeneity across nodes: identical nodes give no finding; a node with fewer GPUs, a
 * slower NIC or another driver gives exactly one finding naming that host. */
#include <jansson.h>
#include <string.h>

#include "log.h"
#include "tb_test.h"
#include "topo.h"

static tb_topo_t *node(const char *host, int ngpus, double nic_gbps, const char *driver)
{
    tb_topo_t *t = NULL;
    tb_topo_obj_t o;
    int root, sw;
    if (tb_topo_create(&t) != TB_OK)
        return NULL;
    snprintf(t->hostname, sizeof(t->hostname), "%s", host);
    snprintf(t->driver_version, sizeof(t->driver_version), "%s", driver);
    tb_topo_obj_init(&o, TB_OBJ_MACHINE);
    root = tb_topo_add_obj(t, &o);
    tb_topo_obj_init(&o, TB_OBJ_BRIDGE);
    o.parent = root;
    sw = tb_topo_add_obj(t, &o);
    for (int i = 0; i < ngpus; i++) {
        tb_topo_obj_init(&o, TB_OBJ_GPU);
        o.parent = sw;
        snprintf(o.name, sizeof(o.name), "GPU%d", i);
        snprintf(o.model, sizeof(o.model), "NVIDIA H100 80GB HBM3");
        tb_topo_add_obj(t, &o);
    }
    tb_topo_obj_init(&o, TB_OBJ_NIC);
    o.parent = sw;
    snprintf(o.name, sizeof(o.name), "mlx5_0");
    o.nports = 1;
    o.ports[0].num = 1;
    o.ports[0].rate_gbps = nic_gbps;
    tb_topo_add_obj(t, &o);
    if (tb_topo_model_build(t) != TB_OK) {
        tb_topo_destroy(t);
        return NULL;
    }
    return t;
}

static size_t compare(tb_topo_t **nodes, size_t n, json_t **findings_p)
{
    json_t *f = json_array();
    tb_topo_compare_nodes(nodes, n, f);
    *findings_p = f;
    return json_array_size(f);
}

static void test_identical(void)
{
    tb_topo_t *n[3] = {node("a", 8, 400, "550.54"), node("b", 8, 400, "550.54"),
                       node("c", 8, 400, "550.54")};
    json_t *f;
    TB_CHECK_INT(compare(n, 3, &f), 0);
    json_decref(f);
    for (int i = 0; i < 3; i++)
        tb_topo_destroy(n[i]);
}

static void test_fewer_gpus(void)
{
    tb_topo_t *n[3] = {node("a", 8, 400, "550.54"), node("b", 7, 400, "550.54"),
                       node("c", 8, 400, "550.54")};
    json_t *f, *e;
    TB_CHECK_INT(compare(n, 3, &f), 1);
    e = json_array_get(f, 0);
    TB_CHECK_STR(json_string_value(json_object_get(e, "host")), "b");
    TB_CHECK_STR(json_string_value(json_object_get(e, "severity")), "warning");
    TB_CHECK_STR(json_string_value(json_object_get(e, "code")), "node_differs");
    TB_CHECK(strstr(json_string_value(json_object_get(e, "message")), "GPU count 7 (majority: 8)")
             != NULL);
    json_decref(f);
    for (int i = 0; i < 3; i++)
        tb_topo_destroy(n[i]);
}

/* Two nodes that differ: no majority, so nobody is blamed; one job-wide finding names
 * both values. */
static void test_no_majority(void)
{
    tb_topo_t *n[2] = {node("a", 8, 400, "550.54"), node("b", 4, 400, "550.54")};
    json_t *f, *e;
    size_t k, count_found = 0, nf = compare(n, 2, &f);
    TB_CHECK(nf >= 1); /* GPU count, and what follows from it (models, pair classes) */
    json_array_foreach(f, k, e) {
        TB_CHECK_STR(json_string_value(json_object_get(e, "code")), "nodes_disagree");
        TB_CHECK_STR(json_string_value(json_object_get(e, "host")), "");
        if (strcmp(json_string_value(json_object_get(e, "attribute")), "GPU count") == 0) {
            count_found++;
            TB_CHECK(strstr(json_string_value(json_object_get(e, "message")), "a: 8; b: 4"));
        }
    }
    TB_CHECK_INT(count_found, 1);
    json_decref(f);
    for (int i = 0; i < 2; i++)
        tb_topo_destroy(n[i]);
}

static void test_slow_nic_and_driver(void)
{
    tb_topo_t *n[4] = {node("a", 8, 400, "550.54"), node("b", 8, 400, "550.54"),
                       node("c", 8, 200, "550.54"), node("d", 8, 400, "535.104")};
    json_t *f;
    TB_CHECK_INT(compare(n, 4, &f), 2);
    TB_CHECK_STR(json_string_value(json_object_get(json_array_get(f, 0), "host")), "c");
    TB_CHECK(strstr(json_string_value(json_object_get(json_array_get(f, 0), "message")),
                    "NIC port rates 1x 200 Gb/s") != NULL);
    TB_CHECK_STR(json_string_value(json_object_get(json_array_get(f, 1), "host")), "d");
    /* A driver difference alone is informational. */
    TB_CHECK_STR(json_string_value(json_object_get(json_array_get(f, 1), "severity")), "info");
    json_decref(f);
    for (int i = 0; i < 4; i++)
        tb_topo_destroy(n[i]);
}

static void test_fixtures(void)
{
    /* Real captures: OCI H100 dump vs its container variant (same shape, other NIC speed). */
    tb_topo_t *n[3] = {NULL, NULL, NULL};
    json_t *f;
    const char *files[3] = {"/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml",
                            "/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml",
                            "/nccl_topo_xml/oci-hpc_BM.GPU.H100.8_H100-topology-kubernetes.xml"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s%s", TB_FIXTURES_DIR, files[i]);
        TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &n[i]), TB_OK);
    }
    if (n[0] && n[1] && n[2]) {
        TB_CHECK_INT(compare(n, 3, &f), 1);
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(f, 0), "host")),
                     "oci-hpc_BM.GPU.H100.8_H100-topology-kubernetes.xml");
        json_decref(f);
    }
    for (int i = 0; i < 3; i++)
        tb_topo_destroy(n[i]);
}

int main(void)
{
    tb_log_set_level(TB_LOG_ERROR);
    test_identical();
    test_fewer_gpus();
    test_no_majority();
    test_slow_nic_and_driver();
    test_fixtures();
    return tb_test_done();
}
