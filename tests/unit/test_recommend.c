/* The recommendations (docs/analysis.md, "Recommendations"): each rule on a document where
 * it must fire and one where it must not. The nodes' topologies are the real fixtures of
 * ../shared/fixtures (and the recorded sysfs tree of tests/data/sysfs, read by live
 * discovery), imported and modelled as `run` records them; where a case needs a fact no
 * fixture has (two nodes whose GID indices disagree), the test edits that one field of
 * the JSON and says so. Then the files rendered from them (report/recommend.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "doc.h"
#include "log.h"
#include "report.h"
#include "tb_test.h"
#include "topo.h"

#define FIX TB_FIXTURES_DIR
#define DATA TB_TEST_DATA_DIR

static json_t *topo_of_file(const char *path)
{
    tb_topo_t *t = NULL;
    json_t *j;
    TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &t), TB_OK);
    if (!t)
        return NULL;
    j = tb_topo_to_json(t);
    tb_topo_destroy(t);
    return j;
}

/* This machine seen through the recorded sysfs tree: its HCAs (mlx5_2 DOWN, mlx5_1 RoCE
 * with RoCE v1 GIDs only) and interfaces (eth0, ens1f0, ib0 up; a veth up; docker0, lo). */
static json_t *topo_recorded_sysfs(void)
{
    tb_topo_t *t = NULL;
    json_t *j;
    setenv("TOPOBENCH_SYSFS_ROOT", DATA "/sysfs", 1);
    TB_CHECK_INT(tb_topo_discover(&t), TB_OK);
    unsetenv("TOPOBENCH_SYSFS_ROOT");
    if (!t)
        return NULL;
    j = tb_topo_to_json(t);
    tb_topo_destroy(t);
    return j;
}

/* A results document of `n` nodes with these topologies (stolen), one rank per GPU (one
 * rank on nodes without GPUs), no test. */
static json_t *doc_of(json_t **topos, int n)
{
    json_t *hosts = json_array(), *ranks = json_array();
    int r = 0;
    for (int h = 0; h < n; h++) {
        char name[16];
        int k = (int)json_integer_value(json_object_get(topos[h], "gpus"));
        json_t *rl = json_array();
        k = k > 0 ? k : 1;
        snprintf(name, sizeof(name), "n%d", h);
        for (int lr = 0; lr < k; lr++, r++) {
            json_array_append_new(rl, json_integer(r));
            json_array_append_new(ranks, json_pack("{s:i, s:s, s:i, s:i, s:i, s:s, s:b}", "rank", r,
                                                   "host", name, "node_index", h, "local_rank", lr,
                                                   "local_size", k, "cpuset", "", "bound", 0));
        }
        json_array_append_new(hosts, json_pack("{s:s, s:i, s:o, s:o}", "name", name, "node_index",
                                               h, "ranks", rl, "topology", topos[h]));
    }
    return json_pack("{s:s, s:i, s:b, s:s, s:i, s:{s:s, s:[], s:i, s:i}, s:o, s:o, s:[], s:[]}",
                     "schema", "topobench-results", "schema_version", 2, "complete", 1, "status",
                     "success", "exit_code", 0, "run", "start_time", "2026-12-02T15:00:00Z",
                     "command_line", "nranks", r, "nnodes", n, "hosts", hosts, "ranks", ranks,
                     "tests", "findings");
}

static json_t *recommend(const json_t *doc)
{
    tb_analysis_opts_t o;
    json_t *a = NULL, *r;
    tb_analysis_opts_default(&o);
    TB_CHECK_INT(tb_analysis_run(doc, "/nonexistent", &o, &a), TB_OK);
    if (!a)
        return NULL;
    r = json_incref(json_object_get(a, "recommendations"));
    json_decref(a);
    TB_CHECK(json_is_object(r));
    return r;
}

/* The element of rec[member] whose `key` is `value`, or NULL. */
static const json_t *item_by(const json_t *rec, const char *member, const char *key,
                             const char *value)
{
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(rec, member), i, x)
    {
        const char *v = json_string_value(json_object_get(x, key));
        if (v && !strcmp(v, value))
            return x;
    }
    return NULL;
}

static const json_t *env_item(const json_t *rec, const char *name)
{
    return item_by(rec, "nccl_env", "name", name);
}

static const char *env_value(const json_t *rec, const char *name)
{
    return json_string_value(json_object_get(env_item(rec, name), "value"));
}

static int kept(const json_t *rec, const char *name)
{
    return item_by(rec, "defaults_kept", "name", name) != NULL;
}

/* Whether any evidence string of the item contains `needle`. */
static int cites(const json_t *item, const char *needle)
{
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(item, "evidence"), i,
                       e) if (strstr(json_string_value(e), needle)) return 1;
    return 0;
}

static json_t *port_of(json_t *topo, const char *nic)
{
    json_t *o;
    size_t i;
    json_array_foreach(json_object_get(topo, "objects"), i,
                       o) if (!strcmp(json_string_value(json_object_get(o, "name")),
                                      nic)) return json_array_get(json_object_get(o, "ports"), 0);
    return NULL;
}

static json_t *netif_of(json_t *topo, const char *name)
{
    json_t *o;
    size_t i;
    json_array_foreach(
        json_object_get(topo, "netifs"), i,
        o) if (!strcmp(json_string_value(json_object_get(o, "name")), name)) return o;
    return NULL;
}

static json_t *host_topo(json_t *doc, size_t h)
{
    return json_object_get(json_array_get(json_object_get(doc, "hosts"), h), "topology");
}

/* NCCL_IB_HCA, NCCL_SOCKET_IFNAME, NCCL_IB_GID_INDEX on the recorded sysfs tree. */
static void test_ports_and_interfaces(void)
{
    json_t *t[2] = {topo_recorded_sysfs(), topo_recorded_sysfs()}, *doc, *rec;
    const json_t *it;
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    rec = recommend(doc);
    /* mlx5_2 is DOWN: the list names the ports that are up, exactly */
    TB_CHECK_STR(env_value(rec, "NCCL_IB_HCA"), "=mlx5_0:1,mlx5_1:1");
    TB_CHECK(cites(env_item(rec, "NCCL_IB_HCA"), "n0: mlx5_2 port 1 is DOWN"));
    /* a veth is up: NCCL's automatic choice would consider it */
    it = env_item(rec, "NCCL_SOCKET_IFNAME");
    TB_CHECK(it != NULL);
    if (it) {
        const char *v = env_value(rec, "NCCL_SOCKET_IFNAME");
        TB_CHECK(v[0] == '=' && strstr(v, "eth0") && strstr(v, "ib0") && !strstr(v, "veth") &&
                 !strstr(v, "docker") && !strstr(v, "ens1f1")); /* ens1f1 is down */
        TB_CHECK(cites(it, "veth3f2a1b0 (virtual, up"));
    }
    /* RoCE v1 GIDs only: no index to name */
    TB_CHECK(env_item(rec, "NCCL_IB_GID_INDEX") == NULL);
    TB_CHECK(kept(rec, "NCCL_IB_GID_INDEX"));
    json_decref(rec);

    /* must not fire: every port up, the veth down */
    for (size_t h = 0; h < 2; h++) {
        json_object_set_new(port_of(host_topo(doc, h), "mlx5_2"), "state", json_string("ACTIVE"));
        json_object_set_new(netif_of(host_topo(doc, h), "veth3f2a1b0"), "operstate",
                            json_string("down"));
    }
    rec = recommend(doc);
    TB_CHECK(env_item(rec, "NCCL_IB_HCA") == NULL && kept(rec, "NCCL_IB_HCA"));
    TB_CHECK(env_item(rec, "NCCL_SOCKET_IFNAME") == NULL && kept(rec, "NCCL_SOCKET_IFNAME"));
    json_decref(rec);

    /* the GID rule fires where the table has a RoCE v2 IPv4 entry (edited: the recorded
     * port has v1 GIDs only), and says where nodes disagree */
    json_object_set_new(port_of(host_topo(doc, 0), "mlx5_1"), "rocev2_gid_index", json_integer(3));
    json_object_set_new(port_of(host_topo(doc, 1), "mlx5_1"), "rocev2_gid_index", json_integer(3));
    rec = recommend(doc);
    TB_CHECK_STR(env_value(rec, "NCCL_IB_GID_INDEX"), "3");
    TB_CHECK_INT(json_array_size(json_object_get(rec, "findings")), 0);
    json_decref(rec);
    json_object_set_new(port_of(host_topo(doc, 1), "mlx5_1"), "rocev2_gid_index", json_integer(1));
    rec = recommend(doc);
    it = env_item(rec, "NCCL_IB_GID_INDEX");
    TB_CHECK(it && json_object_get(json_object_get(it, "per_host"), "n1") != NULL);
    TB_CHECK_STR(json_string_value(
                     json_object_get(json_array_get(json_object_get(rec, "findings"), 0), "code")),
                 "gid_index_disagree");
    json_decref(rec);
    json_decref(doc);
}

/* NCCL_SOCKET_IFNAME: a bond (and a VLAN) is carried by a device, not a risky interface;
 * NCCL takes ib* interfaces with an address first. The recorded sysfs tree's interfaces,
 * edited: bond0 added carrying the address (eth0 its slave, without one), a management
 * NIC ens1f0 with an address, ib0 up, the veth up. */
static void test_socket_ifname_bond(void)
{
    json_t *t[2] = {topo_recorded_sysfs(), topo_recorded_sysfs()}, *doc, *rec;
    const json_t *it;
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    for (size_t h = 0; h < 2; h++) {
        json_t *topo = host_topo(doc, h);
        json_array_append_new(json_object_get(topo, "netifs"),
                              json_pack("{s:s, s:s, s:s, s:s}", "name", "bond0", "kind", "bond",
                                        "operstate", "up", "ipv4", h ? "10.0.0.2" : "10.0.0.1"));
        json_object_set_new(netif_of(topo, "ens1f0"), "ipv4",
                            json_string(h ? "192.168.0.2" : "192.168.0.1"));
    }
    /* must fire (the veth is a candidate: no ib* interface has an address), and name the
     * bond, not leave it out as virtual */
    rec = recommend(doc);
    TB_CHECK_STR(env_value(rec, "NCCL_SOCKET_IFNAME"), "=ens1f0,bond0");
    it = env_item(rec, "NCCL_SOCKET_IFNAME");
    TB_CHECK(it && cites(it, "veth3f2a1b0 (virtual, up") && !cites(it, "bond0 ("));
    json_decref(rec);
    /* must not fire: ib0 has an address, so NCCL's automatic choice takes it and never
     * reaches the veth */
    for (size_t h = 0; h < 2; h++)
        json_object_set_new(netif_of(host_topo(doc, h), "ib0"), "ipv4",
                            json_string(h ? "10.1.0.2" : "10.1.0.1"));
    rec = recommend(doc);
    TB_CHECK(env_item(rec, "NCCL_SOCKET_IFNAME") == NULL);
    it = item_by(rec, "defaults_kept", "name", "NCCL_SOCKET_IFNAME");
    TB_CHECK(it && cites(it, "takes ib* interfaces first"));
    json_decref(rec);
    json_decref(doc);
}

/* Sets every RDMA port of a node's topology to this rate (Gb/s) of that maximum (edited: the
 * fixtures run their ports at the best rate they support). */
static void set_port_rates(json_t *topo, double rate, double max_rate)
{
    json_t *o, *p;
    size_t i, k;
    json_array_foreach(json_object_get(topo, "objects"), i, o)
        json_array_foreach(json_object_get(o, "ports"), k, p)
    {
        json_object_set_new(p, "rate_gbps", json_real(rate));
        json_object_set_new(p, "max_rate_gbps", json_real(max_rate));
    }
}

static const json_t *finding(const json_t *rec, const char *code)
{
    return item_by(rec, "findings", "code", code);
}

/* NCCL_IB_HCA judges a port against the rate most nodes' ports of its kind run at, not
 * against its own maximum: 200GbE NICs on 100G switches (OCI's RoCE ports edited to run at
 * 100 of 200 Gb/s) keep every port, with an info finding; one port below its peers is
 * excluded. */
static void test_hca_fabric_rate(void)
{
    json_t *t[2] = {topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml"),
                    topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml")};
    json_t *doc, *rec;
    const json_t *it, *l;
    size_t i;
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    set_port_rates(host_topo(doc, 0), 100, 200);
    set_port_rates(host_topo(doc, 1), 100, 200);
    rec = recommend(doc);
    /* must not fire: the whole fabric runs at 100 Gb/s */
    TB_CHECK(env_item(rec, "NCCL_IB_HCA") == NULL && kept(rec, "NCCL_IB_HCA"));
    it = finding(rec, "port_below_max_rate");
    TB_CHECK(it != NULL);
    if (it) {
        TB_CHECK_STR(json_string_value(json_object_get(it, "severity")), "info");
        TB_CHECK(strstr(json_string_value(json_object_get(it, "message")), "at 100 of 200 Gb/s") !=
                 NULL);
    }
    /* the placement still has a NIC for every GPU */
    json_array_foreach(
        json_object_get(
            json_array_get(json_object_get(json_object_get(rec, "placement"), "hosts"), 0),
            "local"),
        i, l) TB_CHECK(json_string_value(json_object_get(l, "nic")) != NULL);
    json_decref(rec);

    /* must fire: one port of n1 at 50 Gb/s while its peers run at 100 */
    {
        json_t *o;
        json_array_foreach(json_object_get(host_topo(doc, 1), "objects"), i,
                           o) if (!strcmp(json_string_value(json_object_get(o, "kind")), "nic"))
        {
            json_object_set_new(json_array_get(json_object_get(o, "ports"), 0), "rate_gbps",
                                json_real(50));
            break;
        }
    }
    rec = recommend(doc);
    it = env_item(rec, "NCCL_IB_HCA");
    TB_CHECK(it != NULL);
    if (it) {
        TB_CHECK(json_object_get(json_object_get(it, "per_host"), "n1") != NULL);
        TB_CHECK(cites(it, "is active at 50 Gb/s, below the 100 Gb/s most nodes' RoCE"));
    }
    json_decref(rec);
    json_decref(doc);

    /* RoCE NICs at 100 of 200 Gb/s (200GbE on 100G switches): still RoCE ports, so the GID
     * index is judged (not "InfiniBand needs no GID index") */
    t[0] = topo_recorded_sysfs();
    t[1] = topo_recorded_sysfs();
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    for (size_t h = 0; h < 2; h++) {
        json_t *p = port_of(host_topo(doc, h), "mlx5_1");
        json_object_set_new(p, "max_rate_gbps", json_real(200));
        json_object_set_new(p, "rocev2_gid_index", json_integer(3));
    }
    rec = recommend(doc);
    TB_CHECK_STR(env_value(rec, "NCCL_IB_HCA"), "=mlx5_0:1,mlx5_1:1"); /* mlx5_2 is DOWN */
    TB_CHECK_STR(env_value(rec, "NCCL_IB_GID_INDEX"), "3");
    TB_CHECK(finding(rec, "port_below_max_rate") != NULL);
    json_decref(rec);
    json_decref(doc);
}

/* The same rules on real hwloc exports: a down port of an LLNL node (mpibind ulna, hwloc
 * 1.11) and its RoCE GID table, which hwloc records without types. */
static void test_hwloc_exports(void)
{
    json_t *t[2] = {topo_of_file(FIX "/hwloc_xml/mpibind_arm64-ulna-hwloc1.xml"),
                    topo_of_file(FIX "/hwloc_xml/mpibind_arm64-ulna-hwloc1.xml")};
    json_t *doc, *rec;
    const json_t *it;
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    rec = recommend(doc);
    it = env_item(rec, "NCCL_IB_HCA");
    TB_CHECK(it != NULL);
    if (it)
        TB_CHECK(cites(it, "is DOWN"));
    TB_CHECK(env_item(rec, "NCCL_IB_GID_INDEX") == NULL && kept(rec, "NCCL_IB_GID_INDEX"));
    json_decref(rec);
    json_decref(doc);
}

/* Adds a gdr test entry whose verdicts are (host, status, first reason code, ratio) as the
 * gdr test records them (bench/verbs; recorded-style inputs, not a measurement). */
static void add_gdr(json_t *doc, const char *const *hosts, const char *const *status,
                    const char *const *code, const double *ratio, int n)
{
    json_t *v = json_array();
    for (int i = 0; i < n; i++) {
        char line[160];
        if (!strcmp(status[i], "works"))
            snprintf(line, sizeof(line),
                     "gdr: works (dmabuf), %.2f GB/s = %.0f%% of "
                     "host-memory RDMA (20.00 GB/s)",
                     20.0 * ratio[i], 100 * ratio[i]);
        else
            snprintf(line, sizeof(line), "gdr: not available: %s", code[i]);
        json_array_append_new(
            v, json_pack("{s:s, s:s, s:s, s:s, s:o, s:[{s:s, s:s}], s:s}", "host", hosts[i], "path",
                         "PHB", "status", status[i], "nic", "mlx5_0:1", "ratio",
                         ratio[i] > 0 ? json_real(ratio[i]) : json_null(), "reasons", "code",
                         code[i], "text", code[i], "line", line));
    }
    json_array_append_new(json_object_get(doc, "tests"),
                          json_pack("{s:s, s:s, s:s, s:o}", "name", "gdr", "kind", "gdr", "status",
                                    "ok", "verdicts", v));
}

/* NCCL_NET_GDR_LEVEL reads the gdr test's verdicts: measured at host-memory speed on every
 * far node it is set; slower, an experiment; failed transfers drain their node; a
 * registration that fails everywhere leaves nothing to enable. */
static void test_gdr_measured(void)
{
    const char *far =
        FIX "/nvidia_smi_topo/stelline_Puget-ThreadripperPRO-WRX90_2xRTX6000Ada-2xmlx5_PHB.txt";
    static const char *const hosts[] = {"n0", "n1"};
    static const struct {
        const char *status[2], *code[2];
        double ratio[2];
        const char *want_status, *want_value, *cite;
    } cases[] = {
        {{"works", "works"},
         {"path_far", "path_far"},
         {0.95, 0.97},
         "set",
         "PHB",
         "at 90% or more"},
        {{"works", "works"}, {"path_far", "path_far"}, {0.5, 0.97}, "try", "PHB", "below 90%"},
        /* n1's transfers fail: n1 is drained (below), n0 measured alone */
        {{"works", "not_available"},
         {"path_far", "transfer_error"},
         {0.95, 0},
         "set",
         "PHB",
         "at 90% or more"},
        {{"not_available", "not_available"},
         {"no_rdma_device", "no_gpu"},
         {0, 0},
         "try",
         "PHB",
         "no such measurement"},
        {{"not_available", "not_available"},
         {"module_not_loaded", "dmabuf_unsupported"},
         {0, 0},
         NULL,
         NULL,
         "measured (gdr test)"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        json_t *t[2] = {topo_of_file(far), topo_of_file(far)}, *doc, *rec;
        const json_t *it;
        if (!t[0] || !t[1])
            return;
        doc = doc_of(t, 2);
        add_gdr(doc, hosts, cases[k].status, cases[k].code, cases[k].ratio, 2);
        rec = recommend(doc);
        it = env_item(rec, "NCCL_NET_GDR_LEVEL");
        if (!cases[k].want_status) {
            const json_t *kk;
            size_t i;
            TB_CHECK(it == NULL && kept(rec, "NCCL_NET_GDR_LEVEL"));
            json_array_foreach(json_object_get(rec, "defaults_kept"), i,
                               kk) if (!strcmp(json_string_value(json_object_get(kk, "name")),
                                               "NCCL_NET_GDR_LEVEL"))
                TB_CHECK(cites(kk, cases[k].cite));
        } else {
            TB_CHECK(it != NULL);
            if (it) {
                TB_CHECK_STR(json_string_value(json_object_get(it, "status")),
                             cases[k].want_status);
                TB_CHECK_STR(env_value(rec, "NCCL_NET_GDR_LEVEL"), cases[k].want_value);
                TB_CHECK(cites(it, cases[k].cite));
            }
        }
        /* a failed transfer drains its node, and only that node (not LOC for all) */
        {
            const json_t *d = json_object_get(rec, "drain");
            int transfer = !strcmp(cases[k].code[1], "transfer_error");
            TB_CHECK_INT(json_array_size(d), transfer ? 1 : 0);
            if (transfer) {
                TB_CHECK_STR(json_string_value(json_object_get(json_array_get(d, 0), "host")),
                             "n1");
                TB_CHECK(
                    strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(json_array_get(d, 0), "reasons"), 0),
                               "reason")),
                           "transfers on it failed") != NULL);
            }
        }
        json_decref(rec);
        json_decref(doc);
    }
}

/* Appends one verdict (host, GPU, path, status, first reason code, ratio) to the document's
 * gdr test, creating it: the gdr test writes one per GPU of each node (recorded-style
 * inputs, not a measurement). */
static void add_gdr_verdict(json_t *doc, const char *host, const char *gpu, const char *path,
                            const char *status, const char *code, double ratio)
{
    json_t *tests = json_object_get(doc, "tests"), *t = NULL, *x;
    size_t i;
    char line[160];
    json_array_foreach(tests, i,
                       x) if (!strcmp(json_string_value(json_object_get(x, "name")), "gdr")) t = x;
    if (!t) {
        t = json_pack("{s:s, s:s, s:s, s:[]}", "name", "gdr", "kind", "gdr", "status", "ok",
                      "verdicts");
        json_array_append_new(tests, t);
    }
    if (!strcmp(status, "works"))
        snprintf(line, sizeof(line), "gdr: works (dmabuf), %.0f%% of host-memory RDMA",
                 100 * ratio);
    else
        snprintf(line, sizeof(line), "gdr: not available: %s", code);
    json_array_append_new(json_object_get(t, "verdicts"),
                          json_pack("{s:s, s:s, s:s, s:s, s:o, s:[{s:s, s:s}], s:s}", "host", host,
                                    "gpu", gpu, "path", path, "status", status, "ratio",
                                    ratio > 0 ? json_real(ratio) : json_null(), "reasons", "code",
                                    code, "text", code, "line", line));
}

/* NCCL_NET_GDR_LEVEL reads every GPU's verdict of a node, not its first: another GPU's
 * failure leaves the node out; SYS is set (measured) only where a SYS path measured well. */
static void test_gdr_per_gpu(void)
{
    const char *far =
        FIX "/nvidia_smi_topo/stelline_Puget-ThreadripperPRO-WRX90_2xRTX6000Ada-2xmlx5_PHB.txt";
    static const char *const hosts[] = {"n0", "n1"};
    json_t *t[2] = {topo_of_file(far), topo_of_file(far)}, *doc, *rec;
    const json_t *it;
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    /* GPU1 edited to be SYS away from its nearest NIC (the fixture has both GPUs NODE away) */
    for (size_t h = 0; h < 2; h++) {
        json_t *l;
        size_t i;
        json_array_foreach(json_object_get(host_topo(doc, h), "locality"), i,
                           l) if (!strcmp(json_string_value(json_object_get(l, "name")), "GPU1"))
            json_object_set_new(l, "nearest_nic_class", json_string("SYS"));
        add_gdr_verdict(doc, hosts[h], "GPU0", "NODE", "works", "path_far", 0.95);
    }
    /* must not be set: measured at NODE only, and the level is SYS */
    rec = recommend(doc);
    TB_CHECK_STR(env_value(rec, "NCCL_NET_GDR_LEVEL"), "SYS");
    TB_CHECK_STR(json_string_value(json_object_get(env_item(rec, "NCCL_NET_GDR_LEVEL"), "status")),
                 "try");
    json_decref(rec);
    /* must be set: GPU1's SYS path measured at host-memory speed on both nodes */
    for (size_t h = 0; h < 2; h++)
        add_gdr_verdict(doc, hosts[h], "GPU1", "SYS", "works", "path_far", 0.93);
    rec = recommend(doc);
    it = env_item(rec, "NCCL_NET_GDR_LEVEL");
    TB_CHECK_STR(json_string_value(json_object_get(it, "status")), "set");
    TB_CHECK_STR(json_string_value(json_object_get(it, "basis")), "measured");
    json_decref(rec);
    json_decref(doc);

    /* another GPU of n0 (not the first verdict) failed to register: n0 is left out and said
     * so; n1 measured well alone sets it */
    t[0] = topo_of_file(far);
    t[1] = topo_of_file(far);
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    add_gdr_verdict(doc, "n0", "GPU0", "NODE", "works", "path_far", 0.95);
    add_gdr_verdict(doc, "n0", "GPU1", "NODE", "not_available", "registration_failed", 0);
    add_gdr_verdict(doc, "n1", "GPU0", "NODE", "works", "path_far", 0.95);
    add_gdr_verdict(doc, "n1", "GPU1", "NODE", "works", "path_far", 0.96);
    rec = recommend(doc);
    it = env_item(rec, "NCCL_NET_GDR_LEVEL");
    TB_CHECK(it != NULL);
    if (it) {
        TB_CHECK_STR(json_string_value(json_object_get(it, "status")), "set");
        TB_CHECK(cites(it, "left out"));
        TB_CHECK(cites(it, "n0 GPU1: gdr: not available: registration_failed"));
    }
    json_decref(rec);
    json_decref(doc);
}

/* NCCL_NET_GDR_LEVEL from the GPU-NIC path classes; NCCL_CROSS_NIC from the nodes' rails. */
static void test_gdr_and_cross_nic(void)
{
    const char *far =
        FIX "/nvidia_smi_topo/stelline_Puget-ThreadripperPRO-WRX90_2xRTX6000Ada-2xmlx5_PHB.txt";
    json_t *t[2] = {topo_of_file(far), topo_of_file(far)}, *doc, *rec;
    const json_t *it;
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    rec = recommend(doc);
    it = env_item(rec, "NCCL_NET_GDR_LEVEL");
    TB_CHECK(it != NULL);
    if (it) {
        TB_CHECK_STR(json_string_value(json_object_get(it, "status")), "try");
        TB_CHECK_STR(env_value(rec, "NCCL_NET_GDR_LEVEL"), "PHB");
        TB_CHECK(cites(it, "nearest NIC"));
    }
    /* nvidia-smi states classes, not a tree: no switch to miss */
    TB_CHECK(env_item(rec, "NCCL_TOPO_FILE") == NULL && kept(rec, "NCCL_TOPO_FILE"));
    json_decref(rec);
    json_decref(doc);

    t[0] = topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml");
    t[1] = topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml");
    if (!t[0] || !t[1])
        return;
    doc = doc_of(t, 2);
    rec = recommend(doc);
    /* GPU and NIC under one switch: NCCL's default uses GPUDirect RDMA already */
    TB_CHECK(env_item(rec, "NCCL_NET_GDR_LEVEL") == NULL && kept(rec, "NCCL_NET_GDR_LEVEL"));
    TB_CHECK(env_item(rec, "NCCL_CROSS_NIC") == NULL && kept(rec, "NCCL_CROSS_NIC"));
    TB_CHECK(env_item(rec, "NCCL_TOPO_FILE") == NULL && kept(rec, "NCCL_TOPO_FILE"));
    json_decref(rec);
    /* one node's port down: the rails no longer line up */
    {
        json_t *o;
        size_t i;
        json_array_foreach(json_object_get(host_topo(doc, 1), "objects"), i,
                           o) if (!strcmp(json_string_value(json_object_get(o, "kind")), "nic"))
        {
            json_object_set_new(json_array_get(json_object_get(o, "ports"), 0), "state",
                                json_string("DOWN"));
            break;
        }
    }
    rec = recommend(doc);
    TB_CHECK_STR(env_value(rec, "NCCL_CROSS_NIC"), "1");
    it = env_item(rec, "NCCL_IB_HCA");
    TB_CHECK(it && json_object_get(json_object_get(it, "per_host"), "n1") != NULL);
    json_decref(rec);
    json_decref(doc);
}

/* NCCL_TOPO_FILE where the PCIe tree is hidden (Azure ND v2: GPUs and the HCA straight
 * under the CPUs), with a generated file that NCCL's format reads back with the GPU and
 * NIC of one NUMA node below one switch; not where switches show (Azure ND A100 v4's own
 * file). */
static void test_topo_file(void)
{
    json_t *t[2] = {topo_of_file(FIX "/nccl_topo_xml/azhpc-images_ndv2-topo.xml"),
                    topo_of_file(FIX "/nccl_topo_xml/azhpc-images_ndv2-topo.xml")};
    json_t *doc, *rec;
    const json_t *it;
    char dir[] = "/tmp/tb_recommend_XXXXXX", path[512];
    if (!t[0] || !t[1] || !mkdtemp(dir))
        return;
    doc = doc_of(t, 2);
    rec = recommend(doc);
    it = env_item(rec, "NCCL_TOPO_FILE");
    TB_CHECK(it != NULL);
    if (it)
        TB_CHECK(cites(it, "no PCIe switch above any of them"));
    TB_CHECK_INT(json_array_size(json_object_get(rec, "nccl_topo_files")), 1);
    /* rendered, and read back: GPU0 and the HCA now below one switch (PIX) */
    {
        json_t *a = json_object();
        size_t nf = 0;
        tb_topo_t *back = NULL;
        json_object_set(a, "recommendations", rec);
        json_object_set_new(doc, "analysis", a);
        TB_CHECK_INT(tb_report_recommend_write(doc, dir, &nf), TB_OK);
        TB_CHECK_INT(nf, 8);
        snprintf(path, sizeof(path), "%s/nccl-topo.xml", dir);
        TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_NCCL_XML, &back), TB_OK);
        if (back) {
            int g = tb_topo_nth(back, TB_OBJ_GPU, 0), n = tb_topo_nth(back, TB_OBJ_NIC, 0);
            tb_topo_path_t p;
            TB_CHECK_INT(tb_topo_count(back, TB_OBJ_GPU), 8);
            TB_CHECK_INT(tb_topo_count(back, TB_OBJ_NIC), 1);
            if (g >= 0 && n >= 0) {
                tb_topo_path(back, g, n, &p);
                TB_CHECK_STR(tb_path_class_name(p.cls), "PIX");
            }
            tb_topo_destroy(back);
        }
        snprintf(path, sizeof(path), "%s/nccl.env", dir);
        {
            FILE *f = fopen(path, "r");
            char buf[16384];
            size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
            buf[len] = 0;
            if (f)
                fclose(f);
            TB_CHECK(strstr(buf, "\nNCCL_TOPO_FILE=/") != NULL);
            TB_CHECK(strstr(buf, "/nccl-topo.xml\n") != NULL);
        }
    }
    json_decref(rec);
    json_decref(doc);

    t[0] = topo_of_file(FIX "/nccl_topo_xml/azhpc-images_ndv4-topo.xml");
    t[1] = topo_of_file(FIX "/nccl_topo_xml/azhpc-images_ndv4-topo.xml");
    if (t[0] && t[1]) {
        doc = doc_of(t, 2);
        rec = recommend(doc);
        TB_CHECK(env_item(rec, "NCCL_TOPO_FILE") == NULL && kept(rec, "NCCL_TOPO_FILE"));
        json_decref(rec);
        json_decref(doc);
    }
}

static char *slurp(const char *dir, const char *name)
{
    char path[512];
    FILE *f;
    long n;
    char *buf;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "r")))
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    if (buf)
        buf[n] = 0;
    fclose(f);
    return buf;
}

/* Placement per local rank (OCI BM.GPU4.8: 8 A100, each with a ConnectX-5 below its
 * switch): GPU i, its own NIC, its NUMA node's cores; and the files. */
static void test_placement_files(void)
{
    json_t *t[3];
    json_t *doc, *rec, *a;
    const json_t *h0, *l;
    char dir[] = "/tmp/tb_recommend_XXXXXX", *txt;
    size_t nf = 0, i;
    int nics_distinct = 1;
    for (int k = 0; k < 3; k++)
        if (!(t[k] = topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml")))
            return;
    if (!mkdtemp(dir))
        return;
    doc = doc_of(t, 3);
    rec = recommend(doc);
    h0 = json_array_get(json_object_get(json_object_get(rec, "placement"), "hosts"), 0);
    TB_CHECK_INT(json_integer_value(json_object_get(h0, "ranks")), 8);
    json_array_foreach(json_object_get(h0, "local"), i, l)
    {
        const json_t *m;
        size_t k;
        TB_CHECK_INT(json_integer_value(json_object_get(l, "gpu_index")), (long long)i);
        TB_CHECK(json_string_value(json_object_get(l, "nic")) != NULL);
        TB_CHECK(json_string_value(json_object_get(l, "cpuset"))[0] != 0);
        TB_CHECK_STR(json_string_value(json_object_get(l, "nic_path")), "PXB");
        json_array_foreach(json_object_get(h0, "local"), k,
                           m) if (k < i && !strcmp(json_string_value(json_object_get(m, "nic")),
                                                   json_string_value(json_object_get(l, "nic"))))
            nics_distinct = 0;
    }
    TB_CHECK(nics_distinct); /* 8 GPUs, 8 NICs: each its own */
    a = json_object();
    json_object_set(a, "recommendations", rec);
    json_object_set_new(doc, "analysis", a);
    TB_CHECK_INT(tb_report_recommend_write(doc, dir, &nf), TB_OK);
    TB_CHECK_INT(nf, 7);
    if ((txt = slurp(dir, "rankfile"))) {
        TB_CHECK(strstr(txt, "\nrank 0=n0 slot=") != NULL);
        TB_CHECK(strstr(txt, "\nrank 23=n2 slot=") != NULL);
        TB_CHECK(strstr(txt, "rmaps_rank_file_physical 1") != NULL);
        /* Open MPI 5 reads slot lists as logical cores: the file says to use the wrapper */
        TB_CHECK(strstr(txt, "--bind-to none ./topobench-bind.sh") != NULL);
        free(txt);
    }
    if ((txt = slurp(dir, "slurm.txt"))) {
        TB_CHECK(strstr(txt, "--gpu-bind=map_gpu:0,1,2,3,4,5,6,7 ") != NULL);
        TB_CHECK(strstr(txt, "--cpu-bind=mask_cpu:0x") != NULL);
        TB_CHECK(strstr(txt, "--exclude") == NULL); /* nothing to drain */
        free(txt);
    }
    if ((txt = slurp(dir, "slurm-hostfile"))) {
        TB_CHECK(strncmp(txt, "n0\nn0\n", 6) == 0);
        free(txt);
    }
    if ((txt = slurp(dir, "topobench-bind.sh"))) {
        char cmd[600];
        struct stat sb;
        TB_CHECK(strstr(txt, "gpu=3 nic=") != NULL);
        snprintf(cmd, sizeof(cmd), "%s/topobench-bind.sh", dir);
        TB_CHECK(stat(cmd, &sb) == 0 && (sb.st_mode & 0111));
        snprintf(cmd, sizeof(cmd), "sh -n %s/topobench-bind.sh", dir);
        TB_CHECK_INT(system(cmd), 0);
        free(txt);
    }
    if ((txt = slurp(dir, "drain.txt"))) {
        TB_CHECK(strstr(txt, "# no node to drain") != NULL);
        free(txt);
    }
    json_decref(rec);
    json_decref(doc);
}

static json_t *recommend_file(const char *name)
{
    char path[512];
    json_t *doc = NULL, *rec;
    snprintf(path, sizeof(path), "%s/analysis/%s", DATA, name);
    TB_CHECK_INT(tb_doc_load(path, &doc), TB_OK);
    if (!doc)
        return NULL;
    rec = recommend(doc);
    json_decref(doc);
    return rec;
}

/* Ring order from the node matrix, and the nodes to drain. */
static void test_ring_and_drain(void)
{
    json_t *rec = recommend_file("ring_adjacent.json");
    const json_t *ring, *hosts;
    if (rec) {
        ring = json_object_get(rec, "ring_order");
        hosts = json_object_get(ring, "hosts");
        TB_CHECK(json_is_true(json_object_get(ring, "changed")));
        TB_CHECK_INT(json_array_size(hosts), 8);
        /* the slow pair n2-n3 is not adjacent any more (ring: the last wraps to the first) */
        for (size_t i = 0; i < json_array_size(hosts); i++) {
            const char *x = json_string_value(json_array_get(hosts, i));
            const char *y =
                json_string_value(json_array_get(hosts, (i + 1) % json_array_size(hosts)));
            TB_CHECK(!((!strcmp(x, "n2") && !strcmp(y, "n3")) ||
                       (!strcmp(x, "n3") && !strcmp(y, "n2"))));
        }
        TB_CHECK_INT(json_array_size(json_object_get(rec, "drain")), 0);
        json_decref(rec);
    }
    if ((rec = recommend_file("noise_only.json"))) {
        TB_CHECK(json_is_false(json_object_get(json_object_get(rec, "ring_order"), "changed")));
        TB_CHECK_INT(json_array_size(json_object_get(rec, "drain")), 0);
        json_decref(rec);
    }
    if ((rec = recommend_file("slow_node.json"))) {
        const json_t *d = json_array_get(json_object_get(rec, "drain"), 0);
        TB_CHECK_INT(json_array_size(json_object_get(rec, "drain")), 1);
        TB_CHECK_STR(json_string_value(json_object_get(d, "host")), "n3");
        TB_CHECK_STR(json_string_value(json_object_get(
                         json_array_get(json_object_get(d, "reasons"), 0), "basis")),
                     "measured");
        /* a drained node leaves the ring */
        TB_CHECK_INT(json_array_size(json_object_get(json_object_get(rec, "ring_order"), "hosts")),
                     7);
        json_decref(rec);
    }
    /* n4's port at half rate: drained for it, and not a reason for the job's HCA list */
    if ((rec = recommend_file("half_rate_nic.json"))) {
        const json_t *d = json_array_get(json_object_get(rec, "drain"), 0);
        TB_CHECK_STR(json_string_value(json_object_get(d, "host")), "n4");
        TB_CHECK(env_item(rec, "NCCL_IB_HCA") == NULL && kept(rec, "NCCL_IB_HCA"));
        json_decref(rec);
    }
    if ((rec = recommend_file("differs_healthy.json"))) {
        const json_t *d = json_array_get(json_object_get(rec, "drain"), 0);
        TB_CHECK_STR(json_string_value(json_object_get(d, "host")), "n2");
        TB_CHECK_STR(json_string_value(json_object_get(
                         json_array_get(json_object_get(d, "reasons"), 0), "basis")),
                     "topology");
        json_decref(rec);
    }
}

/* Placement on a node with CPU ids up to 4095 and beyond (edited NUMA cpusets): the masks
 * are whole, never cut at a fixed buffer; ids past the mask's 4096 are said, not dropped
 * silently. */
static void test_placement_high_cpus(void)
{
    json_t *t[1] = {topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml")}, *doc, *rec;
    const json_t *l;
    static const char *const sets[] = {"3968-4095", "4000-4200"};
    if (!t[0])
        return;
    doc = doc_of(t, 1);
    for (int k = 0; k < 2; k++) {
        json_t *o;
        size_t i;
        json_array_foreach(json_object_get(host_topo(doc, 0), "objects"), i,
                           o) if (!strcmp(json_string_value(json_object_get(o, "kind")), "numa"))
            json_object_set_new(o, "cpuset", json_string(sets[k]));
        rec = recommend(doc);
        l = json_array_get(
            json_object_get(
                json_array_get(json_object_get(json_object_get(rec, "placement"), "hosts"), 0),
                "local"),
            0);
        TB_CHECK_STR(json_string_value(json_object_get(l, "cpuset")), sets[k]);
        /* 128 groups of 8 hex digits: the top one holds CPUs 4064-4095 */
        TB_CHECK_INT(strlen(json_string_value(json_object_get(l, "cpu_groups"))), 128 * 9 - 1);
        TB_CHECK(strncmp(json_string_value(json_object_get(l, "cpu_groups")), "ffffffff,", 9) == 0);
        TB_CHECK_INT(strlen(json_string_value(json_object_get(l, "cpu_mask"))), 2 + 1024);
        TB_CHECK((strstr(json_string_value(json_object_get(l, "evidence")),
                         "4096 and above are left out") != NULL) == (k == 1));
        json_decref(rec);
    }
    json_decref(doc);
}

/* NCCL_ALGO and NCCL_PROTO: never a default; a run measured with them set says so. */
static void test_debug_settings(void)
{
    json_t *t[1] = {topo_of_file(FIX "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml")}, *doc, *rec;
    if (!t[0])
        return;
    doc = doc_of(t, 1);
    rec = recommend(doc);
    TB_CHECK(env_item(rec, "NCCL_ALGO") == NULL && kept(rec, "NCCL_ALGO, NCCL_PROTO"));
    TB_CHECK_INT(json_array_size(json_object_get(rec, "findings")), 0);
    json_decref(rec);
    json_object_set_new(json_object_get(doc, "run"), "environment",
                        json_pack("{s:s, s:s}", "NCCL_ALGO", "Tree", "NCCL_DEBUG", "INFO"));
    rec = recommend(doc);
    TB_CHECK(env_item(rec, "NCCL_ALGO") == NULL);
    TB_CHECK_STR(json_string_value(
                     json_object_get(json_array_get(json_object_get(rec, "findings"), 0), "code")),
                 "debug_setting_in_run");
    json_decref(rec);
    json_decref(doc);
}

int main(void)
{
    tb_log_set_identity("test", -1);
    test_ports_and_interfaces();
    test_hwloc_exports();
    test_hca_fabric_rate();
    test_socket_ifname_bond();
    test_gdr_and_cross_nic();
    test_gdr_measured();
    test_gdr_per_gpu();
    test_topo_file();
    test_placement_files();
    test_placement_high_cpus();
    test_ring_and_drain();
    test_debug_settings();
    return tb_test_done();
}
