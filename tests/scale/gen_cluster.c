/* A simulated cluster's results document, for the analyzer at scale (issue 9 point 7;
 * docs/analysis.md, "At scale"). Not a measurement: the document says so in
 * run.simulated.
 *
 *   tb_gen_cluster DIR [-n NODES] [-g RANKS_PER_NODE] [-s SEED] [--noise F] [--no-faults]
 *
 * Writes DIR/results.json as `topobench run` would at the end of a full-suite run of
 * NODES x RANKS_PER_NODE ranks (default 512 x 8), with the matrices above 64 ranks in
 * .npy side files, and DIR/faults.json: what was injected and the culprits `topobench
 * analyze` must name (kind and subject, as the analysis section writes them).
 *
 * The cluster. Every node: two sockets (Sapphire Rapids, 56 cores each, one NUMA node
 * each), 8 PCIe GPUs in pairs behind four PCIe switches, one ConnectX-6 HCA with one IB
 * HDR port (200 Gb/s) behind the first switch, the ranks bound four per socket. Each
 * node's topology is built here and completed by topo's model (tb_topo_model_build),
 * and the nodes are compared by topo's heterogeneity check (tb_topo_compare_nodes), as
 * rank 0 does in a run: the findings are the model's, not written by hand.
 *
 * The measurements. A NET cell of a matrix moves through the sender's and the receiver's
 * port, shared in its shift round by the flows leaving the sender's node and entering
 * the receiver's (round d: row i sends to row i + d; 8 ranks per node put 8 flows through
 * each port in most rounds): min(P_a / flows_out, P_b / flows_in) x 0.92, P the port's
 * typically achieved figure in the model's link table (IB HDR 23.5 GB/s). Within a node
 * (shared memory): same NUMA node 9.5 GB/s, across sockets 5.8. Latency: 2.1 us over
 * the network, 0.32 us within a NUMA node, 0.55 across sockets. Point-to-point entries
 * are one pair each (intra-node: ranks 0 and 1; inter-node: ranks 0 and the first rank
 * of node 1); collectives are bound by the slowest node's port. Every figure is
 * multiplied by 1 + e, e normal with standard deviation F (--noise, default 0.05),
 * clipped to 3 F (a measurement noise with no tail beyond that: see docs/analysis.md).
 * A gpu_copy entry (written last, so the matrices' noise is the same without it) holds
 * every node's copy matrix over its NUMA nodes and GPUs at 0.92 of each path's figure,
 * with the same noise and no fault.
 *
 * The faults (--no-faults: none), on distinct nodes drawn with the seed, never nodes 0
 * and 1 (the point-to-point pairs):
 *   3 slow links     both directions of every cell between two nodes at 0.4;
 *   1 one-way link   a -> b at 0.4, b -> a healthy;
 *   1 slow node      every network cell of the node at 0.5 (its topology is like the others);
 *   1 half-rate NIC  the node's port active at 100 Gb/s (it supports 200): the model's
 *                    figure for it is IB EDR's 12.0 GB/s and its cells follow it;
 *   1 other topology one GPU missing (7 of 8), measuring like its peers.
 * Expected culprits: `node` for the slow node and the half-rate NIC's node, `link`
 * "a <-> b" (nodes in node order) for each slow link, `direction` "a -> b", and
 * `topology` for the node with a GPU missing. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doc.h"
#include "topo.h"

#define PORT_RATE 200.0   /* Gb/s: IB HDR */
#define EFFICIENCY 0.92   /* of the model's typically achieved figure */
#define SHM_SAME 9.5      /* GB/s within a NUMA node */
#define SHM_CROSS 5.8     /* GB/s across sockets */
#define LAT_NET 2.1       /* us */
#define LAT_SAME 0.32
#define LAT_CROSS 0.55
#define LINK_FACTOR 0.4
#define NODE_FACTOR 0.5
#define MATRIX_SIZE 4194304
#define SOCKET_CORES 56

enum { F_NONE, F_LINK, F_DIRECTION, F_SLOW_NODE, F_HALF_NIC, F_OTHER_TOPO };

typedef struct gen {
    int nodes, per, nranks;
    double noise;
    uint64_t rng;
    int faults;
    /* the faults: links[k] = {a, b} (a < b for links; a sends for the direction) */
    int links[3][2], dir[2], slow_node, half_nic, other_topo;
    double *port;   /* per node: its port's figure, GB/s (model's achievable) */
    double *factor; /* per node: fault factor on its network cells */
    char dir_path[4096];
} gen_t;

/* ---- seeded randomness ------------------------------------------------------------ */

static uint64_t next_u64(gen_t *g)
{
    /* splitmix64 */
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(gen_t *g)
{
    return ((double)(next_u64(g) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* 1 + e, e normal with standard deviation g->noise, clipped to 3 standard deviations. */
static double noisy(gen_t *g, double v)
{
    double e = sqrt(-2.0 * log(uniform01(g))) * cos(6.283185307179586 * uniform01(g));
    if (e > 3)
        e = 3;
    if (e < -3)
        e = -3;
    return v * (1.0 + g->noise * e);
}

/* ---- topologies ------------------------------------------------------------------- */

static void host_name(int h, char *out, size_t len)
{
    snprintf(out, len, "gpu-node-%04d", h);
}

static int add(tb_topo_t *t, tb_topo_kind_t kind, int parent, const char *name, int numa,
               const char *cpuset)
{
    tb_topo_obj_t o;
    tb_topo_obj_init(&o, kind);
    o.parent = parent;
    o.numa = numa;
    snprintf(o.name, sizeof(o.name), "%s", name);
    if (cpuset)
        snprintf(o.cpuset, sizeof(o.cpuset), "%s", cpuset);
    return tb_topo_add_obj(t, &o);
}

static void pcie(tb_topo_t *t, int i, const char *busid)
{
    tb_topo_obj_t *o = &t->objs[i];
    snprintf(o->busid, sizeof(o->busid), "%s", busid);
    o->link_gen = o->link_max_gen = 4;
    o->link_width = o->link_max_width = 16;
}

/* One node: see the file's comment. */
static tb_topo_t *node_topology(int h, int ngpus, double port_rate)
{
    static const char *const cpu = "Intel(R) Xeon(R) Platinum 8480+ (Sapphire Rapids)";
    tb_topo_t *t = NULL;
    int machine, gpu = 0;
    char name[64], cpus[32];
    if (tb_topo_create(&t) != TB_OK)
        return NULL;
    host_name(h, t->hostname, sizeof(t->hostname));
    snprintf(t->source, sizeof(t->source), "simulated");
    snprintf(t->cpu_model, sizeof(t->cpu_model), "%s", cpu);
    snprintf(t->driver_version, sizeof(t->driver_version), "550.54.15");
    snprintf(cpus, sizeof(cpus), "0-%d", 2 * SOCKET_CORES - 1);
    machine = add(t, TB_OBJ_MACHINE, -1, "Machine", -1, cpus);
    for (int s = 0; s < 2; s++) {
        int pkg, numa;
        snprintf(cpus, sizeof(cpus), "%d-%d", s * SOCKET_CORES, (s + 1) * SOCKET_CORES - 1);
        snprintf(name, sizeof(name), "Package%d", s);
        pkg = add(t, TB_OBJ_PACKAGE, machine, name, s, cpus);
        t->objs[pkg].os_index = s;
        snprintf(t->objs[pkg].model, sizeof(t->objs[pkg].model), "%s", cpu);
        snprintf(name, sizeof(name), "NUMA%d", s);
        numa = add(t, TB_OBJ_NUMA, pkg, name, s, cpus);
        t->objs[numa].os_index = s;
        t->objs[numa].memory_bytes = 1ull << 39;
        for (int b = 0; b < 2; b++) {
            int hb, sw, k = 2 * s + b;
            char bus[32];
            snprintf(name, sizeof(name), "HostBridge%d", k);
            hb = add(t, TB_OBJ_HOSTBRIDGE, numa, name, s, cpus);
            snprintf(bus, sizeof(bus), "0000:%02x:00.0", 0x10 + 0x20 * k);
            sw = add(t, TB_OBJ_BRIDGE, hb, bus, s, cpus);
            pcie(t, sw, bus);
            for (int i = 0; i < 2; i++, gpu++) {
                int o;
                if (gpu >= ngpus)
                    continue;
                snprintf(name, sizeof(name), "GPU%d", gpu);
                o = add(t, TB_OBJ_GPU, sw, name, s, cpus);
                snprintf(t->objs[o].model, sizeof(t->objs[o].model), "NVIDIA A100 80GB PCIe");
                t->objs[o].os_index = gpu;
                snprintf(bus, sizeof(bus), "0000:%02x:00.0", 0x12 + 0x20 * k + i);
                pcie(t, o, bus);
            }
            if (k == 0) {
                int o = add(t, TB_OBJ_NIC, sw, "mlx5_0", s, cpus);
                tb_topo_obj_t *nic = &t->objs[o];
                snprintf(nic->model, sizeof(nic->model), "ConnectX-6");
                snprintf(nic->firmware, sizeof(nic->firmware), "20.39.1002");
                snprintf(bus, sizeof(bus), "0000:%02x:00.0", 0x1f);
                pcie(t, o, bus);
                nic->nports = 1;
                nic->ports[0].num = 1;
                snprintf(nic->ports[0].state, sizeof(nic->ports[0].state), "ACTIVE");
                snprintf(nic->ports[0].phys_state, sizeof(nic->ports[0].phys_state), "LinkUp");
                snprintf(nic->ports[0].link_layer, sizeof(nic->ports[0].link_layer),
                         "InfiniBand");
                snprintf(nic->ports[0].netdev, sizeof(nic->ports[0].netdev), "ib0");
                nic->ports[0].rate_gbps = port_rate;
                nic->ports[0].max_rate_gbps = PORT_RATE;
                nic->ports[0].lid = h + 1;
            }
        }
    }
    if (tb_topo_model_build(t) != TB_OK) {
        tb_topo_destroy(t);
        return NULL;
    }
    return t;
}

/* ---- faults ----------------------------------------------------------------------- */

static void draw_faults(gen_t *g)
{
    int *perm = malloc((size_t)g->nodes * sizeof(int)), n = g->nodes - 2, k = 0;
    g->port = malloc((size_t)g->nodes * sizeof(double));
    g->factor = malloc((size_t)g->nodes * sizeof(double));
    if (!perm || !g->port || !g->factor) {
        fprintf(stderr, "tb_gen_cluster: out of memory\n");
        exit(4);
    }
    g->slow_node = g->half_nic = g->other_topo = g->dir[0] = g->dir[1] = -1;
    for (int i = 0; i < 3; i++)
        g->links[i][0] = g->links[i][1] = -1;
    for (int h = 0; h < g->nodes; h++)
        g->factor[h] = 1, g->port[h] = 0;
    for (int i = 0; i < n; i++)
        perm[i] = i + 2;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(next_u64(g) % (uint64_t)(i + 1)), x = perm[i];
        perm[i] = perm[j], perm[j] = x;
    }
    if (g->faults) {
        for (int i = 0; i < 3; i++, k += 2) {
            g->links[i][0] = perm[k] < perm[k + 1] ? perm[k] : perm[k + 1];
            g->links[i][1] = perm[k] < perm[k + 1] ? perm[k + 1] : perm[k];
        }
        g->dir[0] = perm[k++];
        g->dir[1] = perm[k++];
        g->slow_node = perm[k++];
        g->half_nic = perm[k++];
        g->other_topo = perm[k++];
        g->factor[g->slow_node] = NODE_FACTOR;
    }
    free(perm);
}

/* The fault factor of a network cell from node a to node b (links and the direction). */
static double link_factor(const gen_t *g, int a, int b)
{
    for (int i = 0; i < 3; i++)
        if ((a == g->links[i][0] && b == g->links[i][1]) ||
            (b == g->links[i][0] && a == g->links[i][1]))
            return LINK_FACTOR;
    return a == g->dir[0] && b == g->dir[1] ? LINK_FACTOR : 1;
}

static json_t *faults_json(const gen_t *g)
{
    json_t *f = json_array(), *expect = json_array();
    char a[64], b[64], subject[160];
    for (int i = 0; g->faults && i < 3; i++) {
        host_name(g->links[i][0], a, sizeof(a));
        host_name(g->links[i][1], b, sizeof(b));
        snprintf(subject, sizeof(subject), "%s <-> %s", a, b);
        json_array_append_new(f, json_pack("{s:s, s:[s, s], s:f}", "fault", "slow link",
                                           "nodes", a, b, "factor", LINK_FACTOR));
        json_array_append_new(expect, json_pack("{s:s, s:s}", "kind", "link", "subject", subject));
    }
    if (g->faults) {
        host_name(g->dir[0], a, sizeof(a));
        host_name(g->dir[1], b, sizeof(b));
        snprintf(subject, sizeof(subject), "%s -> %s", a, b);
        json_array_append_new(f, json_pack("{s:s, s:s, s:s, s:f}", "fault", "one-way slow link",
                                           "from", a, "to", b, "factor", LINK_FACTOR));
        json_array_append_new(expect,
                              json_pack("{s:s, s:s}", "kind", "direction", "subject", subject));
        host_name(g->slow_node, a, sizeof(a));
        json_array_append_new(f, json_pack("{s:s, s:s, s:f}", "fault", "slow node", "node", a,
                                           "factor", NODE_FACTOR));
        json_array_append_new(expect, json_pack("{s:s, s:s}", "kind", "node", "subject", a));
        host_name(g->half_nic, a, sizeof(a));
        json_array_append_new(f, json_pack("{s:s, s:s, s:f, s:f}", "fault", "NIC at half rate",
                                           "node", a, "rate_gbps", PORT_RATE / 2,
                                           "max_rate_gbps", PORT_RATE));
        json_array_append_new(expect, json_pack("{s:s, s:s}", "kind", "node", "subject", a));
        host_name(g->other_topo, a, sizeof(a));
        json_array_append_new(f, json_pack("{s:s, s:s, s:i}", "fault", "different topology",
                                           "node", a, "gpus", 7));
        json_array_append_new(expect, json_pack("{s:s, s:s}", "kind", "topology", "subject", a));
    }
    return json_pack("{s:i, s:i, s:f, s:o, s:o}", "nodes", g->nodes, "ranks_per_node", g->per,
                     "noise", g->noise, "faults", f, "expected_culprits", expect);
}

/* ---- the document ----------------------------------------------------------------- */

static int node_of(const gen_t *g, int rank)
{
    return rank / g->per;
}

static int socket_of(const gen_t *g, int rank)
{
    return (rank % g->per) * 2 / g->per;
}

static json_t *hosts_and_ranks(gen_t *g, json_t *doc)
{
    tb_topo_t **topos = calloc((size_t)g->nodes, sizeof(*topos));
    json_t *hosts = json_object_get(doc, "hosts"), *ranks = json_object_get(doc, "ranks");
    if (!topos)
        return NULL;
    for (int h = 0; h < g->nodes; h++) {
        char name[64];
        json_t *rl = json_array(), *tj;
        tb_topo_bw_t bw;
        double rate = h == g->half_nic ? PORT_RATE / 2 : PORT_RATE;
        topos[h] = node_topology(h, h == g->other_topo ? 7 : 8, rate);
        if (!topos[h] || !(tj = tb_topo_to_json(topos[h])))
            return NULL;
        tb_topo_bw_net(rate, "InfiniBand", &bw);
        g->port[h] = bw.achievable_gbs;
        host_name(h, name, sizeof(name));
        for (int l = 0; l < g->per; l++) {
            int r = h * g->per + l, cores = SOCKET_CORES * 2 / g->per;
            char cpus[32];
            snprintf(cpus, sizeof(cpus), "%d-%d", l * cores, l * cores + cores - 1);
            json_array_append_new(rl, json_integer(r));
            json_array_append_new(ranks, json_pack("{s:i, s:s, s:i, s:i, s:i, s:s, s:b}", "rank",
                                                   r, "host", name, "node_index", h,
                                                   "local_rank", l, "local_size", g->per,
                                                   "cpuset", cpus, "bound", 1));
        }
        json_array_append_new(hosts, json_pack("{s:s, s:i, s:o, s:o}", "name", name,
                                               "node_index", h, "ranks", rl, "topology", tj));
    }
    tb_topo_compare_nodes(topos, (size_t)g->nodes, json_object_get(doc, "findings"));
    for (int h = 0; h < g->nodes; h++)
        tb_topo_destroy(topos[h]);
    free(topos);
    return doc;
}

/* A results[] row as the harness writes it, from the headline (mean) time. */
static json_t *row(gen_t *g, long long size, int coll, double t_us, double bw, double busbw)
{
    json_t *r = json_pack("{s:I, s:I, s:b, s:i, s:i, s:i, s:i}", "size", (json_int_t)size,
                          "count", (json_int_t)(coll ? size / 4 : size), "in_place", 0,
                          "iterations", 200, "samples", 200, "batch", 1, "warmup", 20);
    double med = noisy(g, t_us);
    json_object_set_new(r, "time_us",
                        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "min", med * 0.96, "median",
                                  med, "p99", med * 1.2, "mean", t_us, "max", med * 1.5, "cv",
                                  g->noise));
    if (coll) {
        json_object_set_new(json_object_get(r, "time_us"), "slowest_rank", json_real(t_us * 1.04));
        json_object_set_new(json_object_get(r, "time_us"), "fastest_rank", json_real(t_us * 0.97));
        json_object_set_new(r, "algbw_gbps", json_real(bw));
        json_object_set_new(r, "busbw_gbps", json_real(busbw));
    } else if (bw > 0) {
        json_object_set_new(r, "bw_gbps", json_real(bw));
    }
    json_object_set_new(r, "wrong", json_integer(0));
    json_object_set_new(r, "checked", json_true());
    return r;
}

static json_t *entry(const char *name, const char *kind, const char *dtype,
                     const char *placement, const char *level, json_t *params)
{
    tb_doc_keys_t k = {"mpi", "host", "host", dtype, placement, level};
    json_t *e = tb_doc_entry_new(name, kind, &k, params);
    json_object_set_new(e, "status", json_string("ok"));
    return e;
}

/* Point-to-point: latency, bw, bibw; intra-node (ranks 0, 1) and inter-node (0 and the
 * first rank of node 1). */
static void p2p_entries(gen_t *g, json_t *tests)
{
    static const char *const names[] = {"latency", "bw", "bibw"};
    for (int t = 0; t < 3; t++)
        for (int inter = 0; inter < 2; inter++) {
            int b = inter ? g->per : 1;
            double peak = inter ? EFFICIENCY * (g->port[0] < g->port[1] ? g->port[0] : g->port[1])
                                : SHM_SAME;
            double lat = inter ? LAT_NET : LAT_SAME;
            json_t *e = entry(names[t], "p2p", "byte", inter ? "inter-node" : "intra-node", NULL,
                              json_pack("{s:[i, i], s:[s, s], s:i}", "pair", 0, b, "hosts",
                                        "gpu-node-0000", inter ? "gpu-node-0001" : "gpu-node-0000",
                                        "window", 64));
            for (long long size = t ? 1 : 0; size <= (4ll << 20); size = size ? size * 2 : 1) {
                /* bibw moves both directions at once */
                double bw = noisy(g, (t == 2 ? 2 : 1) * peak * (double)size /
                                         ((double)size + peak * 1e3 * lat));
                double t_us = t ? (double)size * 1e-3 / bw * (t == 2 ? 2 : 1) : noisy(g, lat);
                json_array_append_new(json_object_get(e, "results"),
                                      row(g, size, 0, t_us, t ? bw : 0, 0));
            }
            json_array_append_new(tests, e);
        }
}

/* Collectives: ring-bound by the slowest node's network share (one port for 8 ranks). */
static void collective_entries(gen_t *g, json_t *tests)
{
    static const struct {
        const char *name, *dtype;
        double busfactor; /* busbw / algbw for n ranks: see REFERENCE.md section 1 */
        int allreduce_like;
    } colls[] = {{"all_reduce", "float", 2, 1},   {"all_reduce", "double", 2, 1},
                 {"all_gather", "float", 1, 0},   {"reduce_scatter", "float", 1, 0},
                 {"broadcast", "float", 0, 0},     {"alltoall", "float", 1, 0}};
    double slowest = 1e30;
    int n = g->nranks;
    for (int h = 0; h < g->nodes; h++)
        if (g->port[h] * g->factor[h] < slowest)
            slowest = g->port[h] * g->factor[h];
    for (size_t c = 0; c < sizeof(colls) / sizeof(colls[0]); c++) {
        double factor = colls[c].busfactor == 0 ? 1 : colls[c].busfactor * (n - 1) / n;
        json_t *e = entry(colls[c].name, "collective", colls[c].dtype, NULL, NULL,
                          json_pack("{s:s, s:i}", "dtype", colls[c].dtype, "ranks", n));
        if (colls[c].allreduce_like)
            json_object_set_new(json_object_get(e, "params"), "op", json_string("sum"));
        for (long long size = 4; size <= (64ll << 20); size *= 4) {
            /* each node's port carries its 8 ranks' share */
            double busbw_peak = EFFICIENCY * slowest, alpha = 25.0 + 2.0 * log2((double)n);
            double t_us = noisy(g, alpha + (double)size * factor / (busbw_peak * 1e3));
            double algbw = (double)size * 1e-3 / t_us;
            json_array_append_new(json_object_get(e, "results"),
                                  row(g, size, 1, t_us, algbw, algbw * factor));
        }
        json_array_append_new(tests, e);
    }
}

/* The gpu_copy entry: every node's copy matrix over its NUMA nodes and GPUs, from its
 * topology as the run records it (paths from gpu_pairs and the GPUs' NUMA nodes; the
 * expected figure: the pair's typically achieved figure, a NUMA node to a GPU the GPU's
 * PCIe link, or the inter-socket link where lower), each cell that figure x 0.92 with the
 * noise; device-local copies 1,500 GB/s (HBM2e) x 0.92, no model figure. No fault: the
 * analysis must name nothing here. Written after the matrices, so their noise is the
 * same as without it. */
static void gpu_copy_entry(gen_t *g, json_t *doc)
{
    const json_t *hosts = json_object_get(doc, "hosts"), *h;
    tb_doc_keys_t k = {"cuda", NULL, NULL, "byte", NULL, "node"};
    json_t *e = tb_doc_entry_new("gpu_copy", "gpu_copy", &k,
                                 json_pack("{s:i, s:i, s:i, s:i, s:s}", "size", 67108864, "batch",
                                           16, "warmup", 4, "samples", 5, "statistic", "median"));
    tb_topo_bw_t pcie, sock;
    size_t hi;
    tb_topo_bw_pcie(4, 16, &pcie);
    if (tb_topo_bw_socket("Intel(R) Xeon(R) Platinum 8480+ (Sapphire Rapids)", &sock) != 0)
        sock.achievable_gbs = pcie.achievable_gbs;
    json_object_set_new(e, "status", json_string("ok"));
    json_object_set_new(e, "nodes", json_array());
    json_array_foreach(hosts, hi, h) {
        const json_t *topo = json_object_get(h, "topology"), *o, *pr;
        char labels[72][16];
        int numa[72], n = 2;
        size_t i;
        json_t *lab = json_array(), *eps = json_array(), *paths = json_object(),
               *copy = json_array(), *exp = json_array();
        for (int m = 0; m < 2; m++) {
            snprintf(labels[m], sizeof(labels[m]), "NUMA%d", m);
            numa[m] = m;
        }
        json_array_foreach(json_object_get(topo, "objects"), i, o)
            if (!strcmp(json_string_value(json_object_get(o, "kind")), "gpu") && n < 72) {
                snprintf(labels[n], sizeof(labels[n]), "%s",
                         json_string_value(json_object_get(o, "name")));
                numa[n++] = (int)json_integer_value(json_object_get(o, "numa"));
            }
        for (int a = 0; a < n; a++) {
            json_t *pa = json_object(), *cr = json_array(), *er = json_array();
            json_array_append_new(lab, json_string(labels[a]));
            json_array_append_new(
                eps, a < 2 ? json_pack("{s:s, s:s, s:i}", "label", labels[a], "kind", "numa",
                                       "numa", numa[a])
                           : json_pack("{s:s, s:s, s:i, s:i, s:s}", "label", labels[a], "kind",
                                       "gpu", "numa", numa[a], "cuda_device", a - 2,
                                       "topology_object", labels[a]));
            for (int b = 0; b < n; b++) {
                const char *cls = "X";
                double x = 0;
                if (a < 2 && b < 2) {
                    cls = a == b ? "X" : "SYS";
                } else if (a == b) {
                    x = -1; /* device-local */
                } else if (a < 2 || b < 2) {
                    cls = numa[a] == numa[b] ? "PHB" : "SYS";
                    x = pcie.achievable_gbs;
                    if (numa[a] != numa[b] && sock.achievable_gbs < x)
                        x = sock.achievable_gbs;
                } else {
                    json_array_foreach(json_object_get(topo, "gpu_pairs"), i, pr) {
                        const char *pa_ = json_string_value(json_object_get(pr, "a")),
                                   *pb_ = json_string_value(json_object_get(pr, "b"));
                        if ((!strcmp(pa_, labels[a]) && !strcmp(pb_, labels[b])) ||
                            (!strcmp(pa_, labels[b]) && !strcmp(pb_, labels[a]))) {
                            cls = json_string_value(json_object_get(pr, "class"));
                            x = json_number_value(json_object_get(pr, "achievable_gbs"));
                        }
                    }
                }
                json_object_set_new(pa, labels[b], json_string(cls));
                json_array_append_new(cr, x == 0 ? json_null()
                                                 : json_real(noisy(g, (x < 0 ? 1500 : x) *
                                                                          EFFICIENCY)));
                json_array_append_new(er, x > 0 ? json_real(x) : json_null());
            }
            json_object_set_new(paths, labels[a], pa);
            json_array_append_new(copy, cr);
            json_array_append_new(exp, er);
        }
        json_array_append_new(
            json_object_get(e, "nodes"),
            json_pack("{s:O, s:I, s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "host",
                      json_object_get(h, "name"), "node_index", (json_int_t)hi, "rank",
                      (int)hi * g->per, "status", "ok", "labels", lab, "endpoints", eps, "paths",
                      paths, "copy_gbps", copy, "expected_gbps", exp));
    }
    json_array_append_new(json_object_get(doc, "tests"), e);
}

/* One matrix test (rank or node level): its five matrices built one at a time in an
 * n x n buffer and stored (side files above 64 rows). */
static int matrix_entry(gen_t *g, json_t *tests, int node_level)
{
    static const char *const keys[] = {"recv_gbps", "send_gbps", "recv_cv", "send_cv",
                                       "latency_us"};
    const char *level = node_level ? "node" : "rank";
    int n = node_level ? g->nodes : g->nranks, step = node_level ? g->per : 1;
    json_t *labels = json_array(), *ranks = json_array(), *reps = json_array(), *m;
    json_t *e = entry(node_level ? "node_matrix" : "matrix", "matrix", "byte", NULL, level,
                      json_pack("{s:i, s:i, s:i}", "size", MATRIX_SIZE, "ranks", n, "window", 4));
    unsigned *out = calloc((size_t)g->nodes * (size_t)n, sizeof(unsigned)),
             *in = calloc((size_t)g->nodes * (size_t)n, sizeof(unsigned));
    double *v = malloc((size_t)n * (size_t)n * sizeof(double));
    char stem[64];
    if (!out || !in || !v)
        return -1;
    for (int i = 0; i < n; i++) {
        char l[96], host[64];
        host_name(node_of(g, i * step), host, sizeof(host));
        snprintf(l, sizeof(l), "%s:%d", host, i * step);
        json_array_append_new(labels, json_string(l));
        json_array_append_new(ranks, json_integer(i * step));
        if (i)
            json_array_append_new(reps, json_integer(3));
    }
    /* flows through each node's port per shift round */
    for (int d = 1; d < n; d++)
        for (int i = 0; i < n; i++) {
            int ha = node_of(g, i * step), hb = node_of(g, ((i + d) % n) * step);
            if (ha != hb)
                out[(size_t)ha * (size_t)n + (size_t)d]++, in[(size_t)hb * (size_t)n + (size_t)d]++;
        }
    m = json_pack("{s:s, s:i, s:i, s:i, s:o, s:f, s:o, s:o}", "level", level, "size", MATRIX_SIZE,
                  "window", 4, "rounds", n - 1, "repetitions", reps, "elapsed_s", 0.0, "labels",
                  labels, "ranks", ranks);
    json_object_set_new(e, "matrix", m);
    snprintf(stem, sizeof(stem), "%s-%s", node_level ? "node_matrix" : "matrix", level);
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                int ra = i * step, rb = j * step, ha = node_of(g, ra), hb = node_of(g, rb);
                size_t d = (size_t)((j - i + n) % n);
                double x;
                if (i == j) {
                    x = NAN;
                } else if (k == 2 || k == 3) {
                    x = 0.01 + 0.02 * uniform01(g);
                } else if (k == 4) {
                    x = noisy(g, ha != hb ? LAT_NET
                                 : socket_of(g, ra) == socket_of(g, rb) ? LAT_SAME
                                                                          : LAT_CROSS);
                } else if (ha == hb) {
                    x = noisy(g, socket_of(g, ra) == socket_of(g, rb) ? SHM_SAME : SHM_CROSS);
                } else {
                    unsigned ko = out[(size_t)ha * (size_t)n + d], ki = in[(size_t)hb * (size_t)n + d];
                    double ea = g->port[ha] / (ko ? ko : 1), eb = g->port[hb] / (ki ? ki : 1);
                    x = EFFICIENCY * (ea < eb ? ea : eb) * g->factor[ha] * g->factor[hb] *
                        link_factor(g, ha, hb);
                    /* a send completes when the data is handed over: a little above */
                    x = noisy(g, k == 1 ? x * 1.02 : x);
                }
                v[(size_t)i * (size_t)n + (size_t)j] = x;
            }
        if (tb_doc_matrix_set(m, keys[k], v, (size_t)n, g->dir_path, stem) != TB_OK)
            return -1;
    }
    free(out);
    free(in);
    free(v);
    json_array_append_new(tests, e);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: tb_gen_cluster DIR [-n NODES] [-g RANKS_PER_NODE] [-s SEED] "
                    "[--noise F] [--no-faults]\n");
    return 2;
}

int main(int argc, char **argv)
{
    gen_t g = {.nodes = 512, .per = 8, .noise = 0.05, .faults = 1};
    unsigned long long seed = 1;
    json_t *doc, *faults;
    char path[4200];
    if (argc < 2 || argv[1][0] == '-')
        return usage();
    snprintf(g.dir_path, sizeof(g.dir_path), "%s", argv[1]);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--no-faults"))
            g.faults = 0;
        else if (i + 1 < argc && !strcmp(argv[i], "-n"))
            g.nodes = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "-g"))
            g.per = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "-s"))
            seed = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--noise"))
            g.noise = atof(argv[++i]);
        else
            return usage();
    }
    if (g.nodes < 13 || g.per < 2 || g.per > 2 * SOCKET_CORES || g.noise < 0 || g.noise > 0.2) {
        fprintf(stderr, "tb_gen_cluster: expected at least 13 nodes (the faults take 11 "
                        "besides nodes 0 and 1), 2..%d ranks per node, noise 0..0.2\n",
                2 * SOCKET_CORES);
        return 2;
    }
    g.nranks = g.nodes * g.per;
    g.rng = seed;
    if (mkdir(g.dir_path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tb_gen_cluster: cannot create %s: %s\n", g.dir_path, strerror(errno));
        return 4;
    }
    draw_faults(&g);
    doc = tb_doc_new();
    json_object_set_new(doc, "run",
                        json_pack("{s:s, s:s, s:[s, s, s], s:i, s:i, s:{s:s, s:I, s:f, s:b}}",
                                  "start_time", "2026-12-02T12:00:00Z", "end_time",
                                  "2026-12-02T13:10:00Z", "command_line", "run", "-o", "results",
                                  "nranks", g.nranks, "nnodes", g.nodes, "simulated", "generator",
                                  "tests/scale/gen_cluster.c", "seed", (json_int_t)seed, "noise",
                                  g.noise, "faults", g.faults));
    if (!hosts_and_ranks(&g, doc)) {
        fprintf(stderr, "tb_gen_cluster: building the topologies failed\n");
        return 1;
    }
    p2p_entries(&g, json_object_get(doc, "tests"));
    collective_entries(&g, json_object_get(doc, "tests"));
    if (matrix_entry(&g, json_object_get(doc, "tests"), 0) != 0 ||
        matrix_entry(&g, json_object_get(doc, "tests"), 1) != 0)
        return 4;
    gpu_copy_entry(&g, doc);
    json_object_set_new(doc, "complete", json_true());
    json_object_set_new(doc, "status", json_string("success"));
    json_object_set_new(doc, "exit_code", json_integer(0));
    snprintf(path, sizeof(path), "%s/results.json", g.dir_path);
    if (tb_doc_write(doc, path) != TB_OK)
        return 4;
    faults = faults_json(&g);
    json_object_set_new(faults, "seed", json_integer((json_int_t)seed));
    snprintf(path, sizeof(path), "%s/faults.json", g.dir_path);
    if (json_dump_file(faults, path, JSON_INDENT(1)) != 0) {
        fprintf(stderr, "tb_gen_cluster: cannot write %s\n", path);
        return 4;
    }
    json_decref(faults);
    json_decref(doc);
    free(g.port);
    free(g.factor);
    return 0;
}
