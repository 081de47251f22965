/* Helper of bench/perf/scale.sh (not a test): what rank 0 does with the results document
 * of a large job, without the job.
 *
 *   tb_scale_gen doc DIR NRANKS RANKS_PER_NODE [TOPOLOGY_FILE]
 *     Builds, in DIR, the document rank 0 holds during a full-suite run of NRANKS ranks:
 *     ranks[], hosts[] (each with the topology model imported from TOPOLOGY_FILE, as
 *     every node's discovery would put there), every sweep entry of the default tests
 *     (8 B .. 16 MiB), the rank and node matrices (five matrices each: receive and send
 *     bandwidth, their spreads, latency; stored with tb_doc_matrix_set one at a time, each
 *     from an N x N buffer as rank 0's gather leaves it) and the isolated pairs. The
 *     document is rewritten with tb_doc_write after every entry, as `run` does. Prints
 *     each rewrite's time, the largest, the document's and side files' sizes, and the
 *     peak resident memory (VmHWM).
 *
 *   tb_scale_gen group NRANKS RANKS_PER_NODE
 *     Times tb_rt_group_nodes (rt.c's node grouping) on NRANKS host names against the
 *     quadratic grouping it replaced, on the same names, and prints both and the ratio.
 *
 * Cell values are synthetic (every cell a distinct double, so nothing compresses); only
 * time and memory are measured here. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "doc.h"
#include "rt.h"
#include "topo.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: what a rewrite costs rank 0 whatever else shares the cores. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

typedef struct {
    json_t *doc;
    tb_doc_writer_t *writer;
    char path[4096], dir[4000];
    int rewrites;
    double max_s, total_s, max_cpu_s;
} gen_t;

static int rewrite(gen_t *g, const char *after)
{
    double t0 = now(), c0 = cpu_now(), dt, dc;
    if (tb_doc_writer_write(g->writer, g->doc, g->path) != TB_OK)
        return -1;
    dt = now() - t0;
    dc = cpu_now() - c0;
    g->rewrites++;
    g->total_s += dt;
    if (dt > g->max_s)
        g->max_s = dt;
    if (dc > g->max_cpu_s)
        g->max_cpu_s = dc;
    printf("rewrite %2d after %-28s %8.3f s wall %8.3f s cpu  %10ld bytes\n", g->rewrites,
           after, dt, dc, file_size(g->path));
    return 0;
}

/* One results[] row as harness.c writes it. */
static json_t *row(size_t size, int in_place, int coll, double t_us)
{
    json_t *r = json_pack("{s:I, s:I, s:b, s:i, s:i, s:i, s:i}", "size", (json_int_t)size,
                          "count", (json_int_t)(coll ? size / 4 : size), "in_place", in_place,
                          "iterations", 1000, "samples", 1000, "batch", 1, "warmup", 100);
    json_object_set_new(r, "time_us",
                        json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "min", t_us * 0.97,
                                  "median", t_us, "p99", t_us * 1.3, "mean", t_us * 1.01, "max",
                                  t_us * 2.1, "cv", 0.0523, "slowest_rank", t_us * 1.07));
    if (coll) {
        json_object_set_new(r, "algbw_gbps", json_real((double)size / t_us * 1e-3));
        json_object_set_new(r, "busbw_gbps", json_real((double)size / t_us * 1.9e-3));
    } else {
        json_object_set_new(r, "bw_gbps", json_real((double)size / t_us * 1e-3));
    }
    json_object_set_new(r, "wrong", json_integer(0));
    json_object_set_new(r, "checked", json_true());
    return r;
}

static json_t *entry(const char *name, const char *kind, const char *dtype,
                     const char *placement, const char *level)
{
    tb_doc_keys_t k = {"mpi", "host", "host", dtype, placement, level};
    return tb_doc_entry_new(name, kind, &k, NULL);
}

/* A matrix test of n ranks: five matrices, each built in an n x n buffer (what rank 0
 * gathers), stored, freed. */
static int matrix_entry(gen_t *g, const char *name, const char *level, int n, int per_node)
{
    static const char *const keys[] = {"recv_gbps", "recv_cv", "send_gbps", "send_cv",
                                       "latency_us"};
    json_t *e = entry(name, "matrix", "byte", NULL, level), *labels = json_array(), *ranks = json_array(), *m;
    char stem[128];
    for (int i = 0; i < n; i++) {
        char l[64];
        int rank = per_node ? i : i * 8;
        snprintf(l, sizeof(l), "gpu-node-%05d:%d", per_node ? i / per_node : i, rank);
        json_array_append_new(labels, json_string(l));
        json_array_append_new(ranks, json_integer(rank));
    }
    m = json_pack("{s:s, s:i, s:i, s:f, s:o, s:o}", "level", level, "size", 1 << 20, "rounds",
                  n - 1, "elapsed_s", 123.4, "labels", labels, "ranks", ranks);
    json_object_set_new(e, "matrix", m);
    json_array_append_new(json_object_get(g->doc, "tests"), e);
    snprintf(stem, sizeof(stem), "%s-%s", name, level);
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        size_t cells = (size_t)n * (size_t)n;
        double *v = malloc(cells * sizeof(double));
        if (!v)
            return -1;
        for (size_t c = 0; c < cells; c++)
            v[c] = c % ((size_t)n + 1) == 0 ? NAN : 20.0 + (double)(c % 9973) * 1e-3;
        if (tb_doc_matrix_set(m, keys[k], v, (size_t)n, g->dir, stem) != TB_OK) {
            free(v);
            return -1;
        }
        free(v);
    }
    json_object_set_new(e, "status", json_string("ok"));
    return rewrite(g, name);
}

static int gen_doc(const char *dir, int n, int per_node, const char *topo_file)
{
    static const struct {
        const char *name, *kind, *dtype;
    } sweeps[] = {{"latency", "p2p", "byte"},          {"bw", "p2p", "byte"},
                  {"bibw", "p2p", "byte"},             {"all_reduce", "collective", "float"},
                  {"all_reduce", "collective", "double"}, {"all_gather", "collective", "float"},
                  {"reduce_scatter", "collective", "float"}, {"broadcast", "collective", "float"},
                  {"alltoall", "collective", "float"}};
    int nnodes = (n + per_node - 1) / per_node;
    json_t *topo_json = NULL, *ranks, *hosts, *tests, *pairs;
    gen_t g = {0};

    snprintf(g.dir, sizeof(g.dir), "%s", dir);
    snprintf(g.path, sizeof(g.path), "%s/results.json", dir);
    if (topo_file) {
        tb_topo_t *t = NULL;
        if (tb_topo_import_file(topo_file, TB_TOPO_FMT_AUTO, &t) != TB_OK) {
            fprintf(stderr, "cannot import %s\n", topo_file);
            return 1;
        }
        topo_json = tb_topo_to_json(t);
        tb_topo_destroy(t);
    }
    g.doc = tb_doc_new();
    json_object_set_new(g.doc, "run", json_pack("{s:s, s:i, s:i}", "start_time",
                                                "2026-12-02T12:00:00Z", "nranks", n, "nnodes",
                                                nnodes));
    ranks = json_object_get(g.doc, "ranks");
    hosts = json_object_get(g.doc, "hosts");
    tests = json_object_get(g.doc, "tests");
    for (int r = 0; r < n; r++) {
        char host[64];
        snprintf(host, sizeof(host), "gpu-node-%05d", r / per_node);
        json_array_append_new(ranks, json_pack("{s:i, s:s, s:i, s:i, s:i, s:s, s:b}", "rank", r,
                                               "host", host, "node_index", r / per_node,
                                               "local_rank", r % per_node, "local_size",
                                               per_node, "cpuset", "0-13,112-125", "bound", 1));
    }
    for (int h = 0; h < nnodes; h++) {
        char host[64];
        json_t *rl = json_array();
        snprintf(host, sizeof(host), "gpu-node-%05d", h);
        for (int r = h * per_node; r < n && r < (h + 1) * per_node; r++)
            json_array_append_new(rl, json_integer(r));
        json_array_append_new(hosts, json_pack("{s:s, s:i, s:o, s:o}", "name", host,
                                               "node_index", h, "ranks", rl, "topology",
                                               topo_json ? json_deep_copy(topo_json)
                                                         : json_null()));
    }
    json_decref(topo_json);
    if (rewrite(&g, "job description") != 0)
        goto fail;
    /* As run does once the topologies are in (tb_suite_freeze_job). */
    if (tb_doc_writer_create(&g.writer) != TB_OK ||
        tb_doc_writer_freeze(g.writer, g.doc, "hosts") != TB_OK ||
        tb_doc_writer_freeze(g.writer, g.doc, "ranks") != TB_OK)
        goto fail;
    for (size_t t = 0; t < sizeof(sweeps) / sizeof(sweeps[0]); t++) {
        int coll = !strcmp(sweeps[t].kind, "collective");
        for (int pl = 0; pl < (coll ? 1 : 2); pl++) {
            const char *placement = coll ? NULL : pl ? "inter-node" : "intra-node";
            json_t *e = entry(sweeps[t].name, sweeps[t].kind, sweeps[t].dtype, placement, NULL);
            json_t *results = json_object_get(e, "results");
            char what[64];
            json_array_append_new(tests, e);
            for (size_t size = 8; size <= ((size_t)16 << 20); size *= 2)
                for (int ip = 0; ip <= coll; ip++)
                    json_array_append_new(results, row(size, ip, coll, 1.0 + (double)size * 1e-4));
            json_object_set_new(e, "status", json_string("ok"));
            snprintf(what, sizeof(what), "%s %s", sweeps[t].name,
                     placement ? placement : sweeps[t].dtype);
            if (rewrite(&g, what) != 0)
                goto fail;
        }
    }
    if (matrix_entry(&g, "matrix", "rank", n, per_node) != 0 ||
        matrix_entry(&g, "node_matrix", "node", nnodes, 0) != 0)
        goto fail;
    {
        json_t *e = entry("isolated", "matrix", "byte", NULL, "isolated");
        pairs = json_array();
        for (int i = 0; i < 16; i++)
            json_array_append_new(pairs, json_pack("{s:i, s:i, s:f, s:f}", "a", i, "b",
                                                   n - 1 - i, "bw_gbps", 23.1, "latency_us", 2.5));
        json_object_set_new(e, "matrix", json_pack("{s:s, s:i, s:o}", "level", "isolated",
                                                   "size", 1 << 20, "pairs", pairs));
        json_object_set_new(e, "status", json_string("ok"));
        json_array_append_new(tests, e);
        if (rewrite(&g, "isolated") != 0)
            goto fail;
    }
    json_object_set_new(g.doc, "complete", json_true());
    json_object_set_new(g.doc, "status", json_string("success"));
    if (rewrite(&g, "end of run") != 0)
        goto fail;
    {
        char npy[8192];
        snprintf(npy, sizeof(npy), "%s/matrix-rank-recv_gbps.npy", dir);
        printf("ranks %d nodes %d: %d rewrites, largest %.3f s, mean %.3f s; results.json %ld "
               "bytes; one rank matrix file %ld bytes; peak resident %ld KiB\n",
               n, nnodes, g.rewrites, g.max_s, g.total_s / g.rewrites, file_size(g.path),
               file_size(npy), vm_hwm_kib());
    }
    printf("max_rewrite_wall_s %.3f\nmax_rewrite_cpu_s %.3f\n", g.max_s, g.max_cpu_s);
    tb_doc_writer_destroy(g.writer);
    json_decref(g.doc);
    return 0;
fail:
    fprintf(stderr, "writing %s failed\n", g.path);
    tb_doc_writer_destroy(g.writer);
    json_decref(g.doc);
    return 1;
}

/* The grouping rt.c did before: every rank compares its name with all lower ranks. */
static int group_quadratic(const char *hosts, int n, int *node_of)
{
    int nnodes = 0;
    for (int r = 0; r < n; r++) {
        int found = -1;
        for (int q = 0; q < r && found < 0; q++)
            if (!strncmp(hosts + (size_t)q * TB_HOST_LEN, hosts + (size_t)r * TB_HOST_LEN,
                         TB_HOST_LEN))
                found = node_of[q];
        node_of[r] = found >= 0 ? found : nnodes++;
    }
    return nnodes;
}

static int gen_group(int n, int per_node)
{
    char *hosts = calloc((size_t)n, TB_HOST_LEN);
    int *a = calloc((size_t)n, sizeof(int)), *b = calloc((size_t)n, sizeof(int)), na = 0, nb;
    double t0, t_new, t_old;
    if (!hosts || !a || !b)
        return 1;
    /* Real jobs often place ranks round-robin over nodes: the worst case for the old
     * grouping's early exit as much as any. */
    for (int r = 0; r < n; r++)
        snprintf(hosts + (size_t)r * TB_HOST_LEN, TB_HOST_LEN, "gpu-node-%05d",
                 r % ((n + per_node - 1) / per_node));
    t0 = now();
    if (tb_rt_group_nodes(hosts, n, a, &na) != TB_OK)
        return 1;
    t_new = now() - t0;
    t0 = now();
    nb = group_quadratic(hosts, n, b);
    t_old = now() - t0;
    if (na != nb || memcmp(a, b, sizeof(int) * (size_t)n) != 0) {
        fprintf(stderr, "groupings differ\n");
        return 1;
    }
    printf("grouping %d ranks on %d nodes: sorted %.6f s, quadratic (before) %.6f s, "
           "ratio %.1fx\n", n, na, t_new, t_old, t_old / (t_new > 0 ? t_new : 1e-9));
    free(hosts);
    free(a);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "doc"))
        return gen_doc(argv[2], atoi(argv[3]), atoi(argv[4]), argc > 5 ? argv[5] : NULL);
    if (argc == 4 && !strcmp(argv[1], "group"))
        return gen_group(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: tb_scale_gen doc DIR NRANKS RANKS_PER_NODE [TOPOLOGY_FILE]\n"
                    "       tb_scale_gen group NRANKS RANKS_PER_NODE\n");
    return 2;
}
