/* `topobench run`: set up MPI, the results document and the watchdog, run the selected
 * tests in a fixed order, and finish with the agreed status. Rank 0 owns the document
 * and rewrites it after every finished test. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "cli.h"
#include "doc.h"
#include "fs.h"
#include "gpu_copy.h"
#include "gpu.h"
#include "harness.h"
#include "matrix.h"
#include "nccl_bench.h"
#include "verbs_run.h"
#include "report.h"
#include "tb_build_info.h"
#include "tb_git.h"
#include "topo.h"
#include "topo_pack.h"
#include "ucx_xport.h"
#include "watchdog.h"
#include "xport.h"

/* Per-rank facts gathered at rank 0 for the document. */
typedef struct rank_info {
    int local_rank, local_size, node_index, bound;
    char cpuset[128];
    int gpu;          /* this rank's device (visible index), -1 none */
    char gpu_name[96], gpu_busid[32], gpu_uuid[48];
    char boot_id[40]; /* the kernel's boot id ("" unreadable) */
} rank_info_t;

/* The running kernel's boot id: hosts that share it are one machine (network namespaces,
 * containers), whose CPUs their ranks share; the analyzer counts them together. */
static void read_boot_id(char *buf, size_t len)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    buf[0] = '\0';
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* The environment of the run that decides what GPU and network libraries do. */
static json_t *run_environment(void)
{
    static const char *const prefixes[] = {"NCCL_", "CUDA_", "UCX_", "OMPI_"};
    extern char **environ;
    json_t *env = json_object();
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        char name[256];
        if (!eq || (size_t)(eq - *e) >= sizeof(name))
            continue;
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
            if (!strncmp(*e, prefixes[i], strlen(prefixes[i]))) {
                snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
                json_object_set_new(env, name, json_string(eq + 1));
                break;
            }
    }
    return env;
}

/* The CUDA runtime this run loaded (or why none), and how MPI reaches device memory. */
static json_t *run_cuda(const tb_gpu_t *g)
{
    const char *why = NULL;
    const tb_cuda_t *cu = tb_cuda_get(&why);
    char rt[16], drv[16];
    json_t *j;
    if (!cu)
        return json_pack("{s:b, s:s}", "loaded", 0, "reason", why);
    tb_cuda_version_string(cu->runtime_version, rt, sizeof(rt));
    tb_cuda_version_string(cu->driver_version, drv, sizeof(drv));
    j = json_pack("{s:b, s:s, s:s, s:s, s:s, s:i, s:b}", "loaded", 1, "library", cu->path,
                  "file", cu->resolved, "runtime_version", rt, "driver_version", drv, "devices",
                  cu->ndevices, "usable", g->ok);
    if (!g->ok)
        json_object_set_new(j, "reason", json_string(g->why));
    if (cu->missing_optional[0])
        json_object_set_new(j, "missing_optional", json_string(cu->missing_optional));
    return j;
}

static json_t *run_metadata(const tb_suite_t *s, int argc, char **argv)
{
    char now[32], mpi_lib[256];
    int ver = 0, sub = 0;
    char mpi_ver[16];
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    tb_doc_timestamp(now, sizeof(now));
    tb_rt_library_version(mpi_lib, sizeof(mpi_lib));
    (void)TB_MPI_CHECK(MPI_Get_version(&ver, &sub));
    snprintf(mpi_ver, sizeof(mpi_ver), "%d.%d", ver, sub);
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:s, "
                     "s:s, s:i, s:i, s:o, s:b}",
                     "start_time", now, "end_time", now, "command_line", cmd,
                     "topobench_version", TB_VERSION, "git_hash", TB_GIT_HASH, "build_type",
                     TB_BUILD_TYPE, "build", (json_t *)tb_cli_build_json(), "mpi_library", mpi_lib,
                     "mpi_version", mpi_ver, "hwloc_version", tb_topo_hwloc_version(), "nranks",
                     s->rt->size, "nnodes", s->rt->nnodes,
                     "options", (json_t *)tb_opts_to_json(s->opts), "fault_injection",
                     s->fault.enabled);
}

/* The GPU members of `run` (schema 3): cuda, nccl (the NCCL code fills it), mpi_cuda_aware,
 * environment. */
static void run_metadata_gpu(const tb_suite_t *s, json_t *run)
{
    const tb_gpu_t *g = s->gpu;
    json_object_set_new(run, "cuda", run_cuda(g));
    if (!json_object_get(run, "nccl"))
        json_object_set_new(run, "nccl", json_null());
    json_object_set_new(run, "mpi_cuda_aware",
                        json_pack("{s:b, s:s}", "aware", g->mpi_cuda_aware, "how",
                                  g->mpi_cuda_how));
    json_object_set_new(run, "environment", run_environment());
}

/* Hosts and ranks arrays. Every rank calls it (gathers). */
static tb_status_t describe_job(tb_suite_t *s)
{
    const tb_rt_t *rt = s->rt;
    rank_info_t mine, *all = NULL;
    tb_status_t st;
    memset(&mine, 0, sizeof(mine));
    mine.local_rank = rt->local_rank;
    mine.local_size = rt->local_size;
    mine.node_index = rt->node_index;
    mine.bound = rt->bound;
    snprintf(mine.cpuset, sizeof(mine.cpuset), "%s", rt->cpuset);
    mine.gpu = s->gpu->device;
    read_boot_id(mine.boot_id, sizeof(mine.boot_id));
    if (mine.gpu >= 0) {
        snprintf(mine.gpu_name, sizeof(mine.gpu_name), "%s", s->gpu->info.name);
        snprintf(mine.gpu_busid, sizeof(mine.gpu_busid), "%s", s->gpu->info.busid);
        snprintf(mine.gpu_uuid, sizeof(mine.gpu_uuid), "%s", s->gpu->info.uuid);
    }
    if ((st = tb_rt_alloc_agreed(rt->world, 1, (size_t)rt->size * sizeof(*all), (void **)&all)))
        return st;
    st = TB_MPI_CHECK(
        MPI_Gather(&mine, sizeof(mine), MPI_BYTE, all, sizeof(mine), MPI_BYTE, 0, rt->world));
    if (st != TB_OK || rt->rank != 0) {
        free(all);
        return st;
    }
    json_t *hosts = json_object_get(s->doc, "hosts"), *ranks = json_object_get(s->doc, "ranks");
    for (int n = 0; n < rt->nnodes; n++) {
        json_t *rl = json_array();
        for (int r = 0; r < rt->size; r++)
            if (rt->node_of[r] == n)
                json_array_append_new(rl, json_integer(r));
        const char *boot = all[rt->first_rank_of_node[n]].boot_id;
        json_array_append_new(hosts, json_pack("{s:s, s:i, s:o, s:n, s:s?}", "name",
                                               tb_rt_host_of(rt, rt->first_rank_of_node[n]),
                                               "node_index", n, "ranks", rl, "topology",
                                               "boot_id", *boot ? boot : NULL));
    }
    int unbound = 0;
    for (int r = 0; r < rt->size; r++)
        unbound += !all[r].bound;
    if (unbound)
        json_array_append_new(
            json_object_get(s->doc, "findings"),
            json_pack("{s:s, s:s, s:s, s:s}", "severity", "warning", "code", "ranks_unbound",
                      "host", "", "message",
                      "ranks are not bound to cores: timings are noisier "
                      "(mpirun --bind-to core, srun --cpu-bind=cores)"));
    for (int r = 0; r < rt->size; r++) {
        json_t *gpu = all[r].gpu < 0 ? json_null()
                                     : json_pack("{s:i, s:s, s:s, s:s}", "index", all[r].gpu,
                                                 "name", all[r].gpu_name, "busid",
                                                 all[r].gpu_busid, "uuid", all[r].gpu_uuid);
        json_array_append_new(ranks, json_pack("{s:i, s:s, s:i, s:i, s:i, s:s, s:b, s:o}", "rank",
                                               r, "host", tb_rt_host_of(rt, r), "node_index",
                                               all[r].node_index, "local_rank", all[r].local_rank,
                                               "local_size", all[r].local_size, "cpuset",
                                               all[r].cpuset, "bound", all[r].bound, "gpu", gpu));
    }
    free(all);
    return TB_OK;
}

/* How a node's topology was obtained, sent to rank 0 with the model. */
enum { TOPO_LIVE, TOPO_FROM_FILE, TOPO_FILE_MISSING, TOPO_FILE_INVALID };

/* TOPOBENCH_TOPO_FILE for `host`, with %h replaced by the host name so one setting
 * serves a directory of per-node files. 0 when unset. */
static int topo_file_for(const char *host, char *path, size_t len)
{
    const char *spec = getenv("TOPOBENCH_TOPO_FILE");
    size_t n = 0;
    if (!spec || !*spec)
        return 0;
    for (const char *p = spec; *p && n + 1 < len; p++) {
        if (p[0] == '%' && p[1] == 'h') {
            n += (size_t)snprintf(path + n, len - n, "%s", host);
            p++;
        } else {
            path[n++] = *p;
        }
        if (n >= len)
            n = len - 1;
    }
    path[n] = '\0';
    return 1;
}

/* Rank 0: the finding for a node whose TOPOBENCH_TOPO_FILE is missing or unreadable. */
static void topo_file_finding(json_t *findings, const char *host, int how)
{
    char path[4096], msg[4400];
    if (how != TOPO_FILE_MISSING && how != TOPO_FILE_INVALID)
        return;
    topo_file_for(host, path, sizeof(path));
    if (how == TOPO_FILE_MISSING)
        snprintf(msg, sizeof(msg),
                 "TOPOBENCH_TOPO_FILE: %s does not exist; this node was discovered live", path);
    else
        snprintf(msg, sizeof(msg),
                 "TOPOBENCH_TOPO_FILE: %s cannot be read as a topology (the error is on that "
                 "node's output); nothing was measured",
                 path);
    json_array_append_new(findings,
                          json_pack("{s:s, s:s, s:s, s:s}", "severity",
                                    how == TOPO_FILE_MISSING ? "warning" : "error", "code",
                                    how == TOPO_FILE_MISSING ? "topology_file_missing"
                                                             : "topology_file_invalid",
                                    "host", host, "message", msg));
}

/* Every node's topology: local rank 0 discovers its node, rank 0 gathers the models over
 * the node leaders, puts each into hosts[].topology and reports the nodes that differ from
 * the majority. A node whose discovery fails gets a null topology and a finding. A
 * TOPOBENCH_TOPO_FILE that exists but cannot be read is malformed input (TB_ERR_INPUT, on
 * that node's leader): the caller agrees on it and measures nothing. */
static tb_status_t gather_topologies(tb_suite_t *s)
{
    const tb_rt_t *rt = s->rt;
    tb_topo_t *mine = NULL, **topos = NULL;
    void *img = NULL;
    char *all = NULL, file[4096] = "";
    tb_status_t st;
    size_t len = 0;
    int ilen, *lens = NULL, *displs = NULL, total = 0, how = TOPO_LIVE, *hows = NULL;

    if (rt->leaders == MPI_COMM_NULL)
        return TB_OK;
    tb_wd_context("topology", "", 0, 0, TB_WD_LOCAL, "discovering this node's topology");
    /* A recorded file stands in for discovery where the live view is wrong (VMs whose
     * virtual PCIe tree hides the real locality, as NCCL_TOPO_FILE does for NCCL). */
    if (topo_file_for(rt->host, file, sizeof(file)) && access(file, F_OK) == 0) {
        how = TOPO_FROM_FILE;
        st = tb_topo_import_file(file, TB_TOPO_FMT_AUTO, &mine);
        if (st != TB_OK)
            how = TOPO_FILE_INVALID;
    } else {
        if (file[0]) {
            how = TOPO_FILE_MISSING;
            tb_warn("TOPOBENCH_TOPO_FILE: %s does not exist; discovering this node live", file);
        }
        st = tb_topo_discover(&mine);
    }
    if (st == TB_OK && !mine->hostname[0])
        snprintf(mine->hostname, sizeof(mine->hostname), "%s", rt->host);
    if (st == TB_OK && tb_topo_pack(mine, &img, &len) != TB_OK)
        len = 0;
    /* Kept for the tests that place work by the node's topology (gpu_copy; NCCL's view of the node, bench/nccl/nccl_view.c). */
    if (st == TB_OK)
        s->node_topo = mine;
    else
        tb_topo_destroy(mine);
    tb_wd_context("topology", "", 0, 0, TB_WD_LEADERS, "gathering the nodes' topologies at rank 0");
    ilen = len <= (size_t)1 << 30 ? (int)len : 0;
    if ((st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)rt->nnodes * sizeof(int),
                                 (void **)&lens)) ||
        (st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)rt->nnodes * sizeof(int),
                                 (void **)&displs)) ||
        (st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)rt->nnodes * sizeof(int),
                                 (void **)&hows)) ||
        (st = TB_MPI_CHECK(MPI_Gather(&ilen, 1, MPI_INT, lens, 1, MPI_INT, 0, rt->leaders))) ||
        (st = TB_MPI_CHECK(MPI_Gather(&how, 1, MPI_INT, hows, 1, MPI_INT, 0, rt->leaders))))
        goto out;
    if (rt->rank == 0) {
        for (int i = 0; i < rt->nnodes; i++) {
            displs[i] = total;
            total += lens[i];
        }
    }
    if ((st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)total, (void **)&all)) ||
        (st = TB_MPI_CHECK(MPI_Gatherv(img, ilen, MPI_BYTE, all, lens, displs, MPI_BYTE, 0,
                                       rt->leaders))))
        goto out;
    if (rt->rank != 0)
        goto out;
    topos = calloc((size_t)rt->nnodes, sizeof(*topos));
    /* The watchdog's hook may write the document meanwhile. */
    pthread_mutex_lock(&s->doc_lock);
    json_t *hosts = json_object_get(s->doc, "hosts"), *findings = json_object_get(s->doc, "findings");
    size_t ngood = 0;
    for (int i = 0; topos && i < rt->nnodes; i++) {
        json_t *host = json_array_get(hosts, (size_t)i), *tj;
        tb_topo_t *t = NULL;
        if (hows)
            topo_file_finding(findings, json_string_value(json_object_get(host, "name")),
                              hows[i]);
        if (hows && hows[i] == TOPO_FILE_INVALID)
            continue;
        if (lens[i] == 0 || tb_topo_unpack(all + displs[i], (size_t)lens[i], &t) != TB_OK) {
            json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s}", "severity", "warning",
                                                      "code", "topology_unknown", "host",
                                                      json_string_value(json_object_get(host, "name")),
                                                      "message", "topology discovery failed on this node"));
            continue;
        }
        tj = tb_topo_to_json(t);
        if (tj)
            json_object_set_new(host, "topology", tj);
        topos[ngood++] = t;
    }
    if (ngood > 1)
        tb_topo_compare_nodes(topos, ngood, findings);
    pthread_mutex_unlock(&s->doc_lock);
    for (size_t i = 0; topos && i < ngood; i++)
        tb_topo_destroy(topos[i]);
out:
    free(img);
    free(topos);
    free(all);
    free(lens);
    free(displs);
    free(hows);
    if (st == TB_OK && how == TOPO_FILE_INVALID)
        st = TB_ERR_INPUT;
    return st;
}

/* Two PCI bus ids name the same device ("00000000:1B:00.0" as CUDA writes it, "0000:1b:00.0"
 * as sysfs and topo do). */
static int same_busid(const char *a, const char *b)
{
    unsigned x[4], y[4];
    if (!a || !b || sscanf(a, "%x:%x:%x.%x", &x[0], &x[1], &x[2], &x[3]) != 4 ||
        sscanf(b, "%x:%x:%x.%x", &y[0], &y[1], &y[2], &y[3]) != 4)
        return 0;
    return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Rank 0, once the topologies are in: each rank's GPU joined to its node's topology (the
 * GPU object by bus id, else by UUID), with its NUMA node and its nearest NICs and their
 * path class, so every measurement joins to a topology path. */
static void join_gpu_topology(tb_suite_t *s)
{
    json_t *ranks, *hosts, *r;
    size_t i;
    if (s->rt->rank != 0 || !s->doc)
        return;
    pthread_mutex_lock(&s->doc_lock);
    ranks = json_object_get(s->doc, "ranks");
    hosts = json_object_get(s->doc, "hosts");
    json_array_foreach(ranks, i, r) {
        json_t *gpu = json_object_get(r, "gpu"), *host, *topo, *o, *found = NULL, *loc;
        size_t k;
        const char *name = NULL;
        if (!json_is_object(gpu))
            continue;
        host = json_array_get(hosts, (size_t)json_integer_value(json_object_get(r, "node_index")));
        topo = json_object_get(host, "topology");
        json_array_foreach(json_object_get(topo, "objects"), k, o) {
            const char *kind = json_string_value(json_object_get(o, "kind"));
            const char *uuid = json_string_value(json_object_get(o, "uuid"));
            if (!kind || strcmp(kind, "gpu") != 0)
                continue;
            if (same_busid(json_string_value(json_object_get(o, "busid")),
                           json_string_value(json_object_get(gpu, "busid"))) ||
                (uuid && !strcmp(uuid, json_string_value(json_object_get(gpu, "uuid")))))
                found = o;
        }
        json_object_set_new(gpu, "numa", json_null());
        json_object_set_new(gpu, "nearest_nic", json_null());
        if (!found) {
            json_object_set_new(gpu, "topology_object", json_null());
            json_object_set_new(gpu, "note",
                                json_string(json_is_object(topo)
                                                ? "not in this node's topology (discovery did "
                                                  "not see this device)"
                                                : "this node's topology is unknown"));
            continue;
        }
        name = json_string_value(json_object_get(found, "name"));
        json_object_set_new(gpu, "topology_object", json_string(name ? name : ""));
        if (json_is_integer(json_object_get(found, "numa")))
            json_object_set(gpu, "numa", json_object_get(found, "numa"));
        json_array_foreach(json_object_get(topo, "locality"), k, loc) {
            const char *ln = json_string_value(json_object_get(loc, "name"));
            json_t *nics = json_object_get(loc, "nearest_nics");
            if (!ln || !name || strcmp(ln, name) != 0)
                continue;
            if (json_array_size(nics) > 0) {
                json_object_set(gpu, "nearest_nic", json_array_get(nics, 0));
                json_object_set(gpu, "nearest_nics", nics);
                json_object_set(gpu, "nic_path", json_object_get(loc, "nearest_nic_class"));
            }
        }
    }
    pthread_mutex_unlock(&s->doc_lock);
}

/* Marks the running tests and the document with how the run ended. */
static void mark_ending(json_t *doc, const tb_wd_ending_t *e)
{
    json_t *tests = json_object_get(doc, "tests"), *t, *stalled = json_array();
    const char *name = tb_status_string(e->status);
    size_t i;
    json_array_foreach(tests, i, t) {
        const char *st = json_string_value(json_object_get(t, "status"));
        if (st && !strcmp(st, "running")) {
            json_object_set_new(t, "status", json_string(name));
            json_object_set_new(t, e->status == TB_ERR_TIMEOUT ? "timeout_message"
                                                               : "ending_message",
                                json_string(e->message));
        }
    }
    for (int k = 0; k < e->nstalled; k++)
        json_array_append_new(stalled, json_integer(e->stalled[k]));
    json_object_set_new(doc, "status", json_string(name));
    json_object_set_new(doc, "exit_code", json_integer(tb_status_exit_code(e->status)));
    json_object_set_new(doc, "complete", json_false());
    json_object_set_new(doc, "ending", json_pack("{s:s, s:s, s:o}", "status", name, "message",
                                                 e->message, "stalled_ranks", stalled));
}

/* Writes the CSV files beside the document, or says what the document on disk lacks. */
static tb_status_t write_outputs(tb_suite_t *s, json_t *doc, tb_status_t doc_st)
{
    char missing[1024], dir[sizeof(s->results_path)];
    char *slash;
    snprintf(dir, sizeof(dir), "%s", s->results_path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    if (doc_st == TB_OK && (doc_st = tb_report_csv_write(doc, dir, dir)) == TB_OK)
        return TB_OK;
    if (s->rt->rank == 0) {
        tb_suite_unsaved_tests(s, missing, sizeof(missing));
        tb_log(TB_LOG_ERROR, "%s lacks these tests: %s; CSV files were not written",
               s->results_path, missing);
    } else {
        tb_log(TB_LOG_ERROR, "CSV files were not written");
    }
    return doc_st;
}

/* The analysis's options: its defaults, with the thresholds given to run. */
static void analysis_opts(const tb_suite_t *s, tb_analysis_opts_t *ao)
{
    tb_analysis_opts_default(ao);
    if (s->opts->mad_k > 0)
        ao->mad_k = s->opts->mad_k;
    if (s->opts->min_drop > 0)
        ao->min_drop = s->opts->min_drop;
}

/* Rank 0 at the end: the analysis of what was measured (topo/analysis), printed and
 * written into the document. It judges the run; it never changes its exit status, and a
 * failure leaves the document as it was. */
static void analyze_results(tb_suite_t *s)
{
    tb_analysis_opts_t ao;
    json_t *a = NULL;
    char dir[sizeof(s->results_path)];
    tb_path_dir(s->results_path, dir, sizeof(dir));
    analysis_opts(s, &ao);
    if (tb_analysis_run(s->doc, dir, &ao, &a) != TB_OK)
        return;
    fputc('\n', stdout);
    tb_analysis_print(a, stdout);
    json_object_set_new(s->doc, "analysis", a);
    if (tb_doc_write(s->doc, s->results_path) != TB_OK) {
        json_object_del(s->doc, "analysis");
        return;
    }
    {
        size_t n = 0;
        if (tb_report_recommend_write(s->doc, dir, &n) == TB_OK)
            printf("recommendations: %zu files written to %s (nccl.env, rankfile, hostfile, "
                   "slurm.txt, slurm-hostfile, topobench-bind.sh, drain.txt%s)\n",
                   n, dir, n > 7 ? ", nccl-topo*.xml" : "");
    }
}

/* run --retest (ClusterKit's practice): rank 0 analyses what was measured; every suspect
 * pair of a verdict, with a healthy pair of the same path class as its reference, is
 * measured again alone in this job (entry "retest"), so the final analysis can say
 * whether isolation confirmed each verdict: a pair slow in the concurrent matrix but
 * fine alone was load, not its link. Every rank calls it. */
static tb_status_t retest(tb_suite_t *s)
{
    static int pairs[TB_MAX_PAIRS][2];
    const tb_rt_t *rt = s->rt;
    json_t *extra = NULL;
    int n = 0;
    tb_status_t st;
    if (rt->rank == 0) {
        tb_analysis_opts_t ao;
        json_t *a = NULL;
        char dir[sizeof(s->results_path)];
        tb_path_dir(s->results_path, dir, sizeof(dir));
        analysis_opts(s, &ao);
        tb_wd_busy(1);
        pthread_mutex_lock(&s->doc_lock);
        if (tb_analysis_run(s->doc, dir, &ao, &a) == TB_OK) {
            static const char *const kinds[] = {"pairs", "controls"};
            const json_t *cf = json_object_get(a, "confirm"), *p;
            size_t i;
            extra = json_pack("{s:[], s:[]}", "suspects", "controls");
            for (int k = 0; k < 2; k++)
                json_array_foreach(json_object_get(cf, kinds[k]), i, p) {
                    int x = (int)json_integer_value(json_array_get(p, 0)),
                        y = (int)json_integer_value(json_array_get(p, 1)), dup = 0;
                    for (int m = 0; m < n; m++)
                        dup |= pairs[m][0] == x && pairs[m][1] == y;
                    if (dup || n >= TB_MAX_PAIRS)
                        continue;
                    pairs[n][0] = x;
                    pairs[n][1] = y;
                    n++;
                    json_array_append_new(json_object_get(extra, k ? "controls" : "suspects"),
                                          json_pack("[i,i]", x, y));
                }
        }
        pthread_mutex_unlock(&s->doc_lock);
        tb_wd_busy(0);
        json_decref(a);
    }
    /* the others wait, polled, while rank 0 analyses */
    tb_suite_wait_all(s, "retest");
    if ((st = TB_MPI_CHECK(MPI_Bcast(&n, 1, MPI_INT, 0, rt->world))) ||
        (n && (st = TB_MPI_CHECK(MPI_Bcast(pairs, 2 * n, MPI_INT, 0, rt->world))))) {
        json_decref(extra);
        return st;
    }
    if (!n) {
        if (rt->rank == 0)
            printf("retest: the analysis names no suspect pair; nothing to measure again\n\n");
        json_decref(extra);
        return TB_OK;
    }
    return tb_pairs_run(s, "retest", (const int(*)[2])pairs, n, extra);
}

/* Rank 0 at the end, after the analysis: report.html beside the CSV files. */
static tb_status_t write_html(tb_suite_t *s)
{
    char dir[sizeof(s->results_path)], path[sizeof(s->results_path) + 16];
    tb_path_dir(s->results_path, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/report.html", dir);
    return tb_report_html_write(s->doc, NULL, dir, path);
}

/* Rank 0 whose main thread is stuck or leaving: the lock is held only briefly by the
 * main thread, unless it is itself writing the document. */
static int lock_doc(tb_suite_t *s)
{
    for (int tries = 0; pthread_mutex_trylock(&s->doc_lock) != 0; tries++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        if (tries > 500)
            return 0;
        nanosleep(&ts, NULL);
    }
    return 1;
}

/* Another rank found rank 0 silent: a rank on rank 0's node (which sees its output
 * directory) records the ending in the document rank 0 last saved. */
static void record_for_rank0(tb_suite_t *s, const tb_wd_ending_t *e)
{
    const tb_rt_t *rt = s->rt;
    json_t *doc = NULL;
    const char *status;
    if (rt->node_of[rt->rank] != 0 || rt->local_rank > 2)
        return;
    sleep((unsigned)rt->local_rank - 1); /* one at a time; the first one does it */
    if (tb_doc_load(s->results_path, &doc) != TB_OK)
        return;
    status = json_string_value(json_object_get(doc, "status"));
    if (status && !strcmp(status, "running")) {
        mark_ending(doc, e);
        if (write_outputs(s, doc, tb_doc_write(doc, s->results_path)) == TB_OK)
            tb_log(TB_LOG_ERROR, "rank %d recorded the ending in %s for rank 0", rt->rank,
                   s->results_path);
    }
    json_decref(doc);
}

/* The watchdog's hook: keep what finished, marked with how the run ended. */
static void on_ending(void *arg, const tb_wd_ending_t *e)
{
    tb_suite_t *s = arg;
    tb_status_t st;
    struct stat sb;
    if (s->rt->rank != 0) {
        if (e->rank0_silent)
            record_for_rank0(s, e);
        return;
    }
    if (!s->doc || !lock_doc(s)) {
        tb_log(TB_LOG_ERROR, "the results document could not be updated (busy)");
        return;
    }
    /* Rank 0 stopped, then resumed by the launcher's teardown (SIGCONT, SIGTERM): the
     * ending another rank recorded meanwhile is the true one. */
    if (s->saved_ino &&
        (stat(s->results_path, &sb) != 0 || (unsigned long)sb.st_ino != s->saved_ino)) {
        pthread_mutex_unlock(&s->doc_lock);
        tb_log(TB_LOG_ERROR, "%s was rewritten by another rank (rank 0 did not respond); "
               "kept as it is", s->results_path);
        return;
    }
    mark_ending(s->doc, e);
    st = tb_doc_writer_write(s->writer, s->doc, s->results_path);
    pthread_mutex_unlock(&s->doc_lock);
    if (write_outputs(s, s->doc, st) == TB_OK)
        tb_log(TB_LOG_ERROR, "results so far kept in %s (and CSV files beside it)",
               s->results_path);
}

/* Makes a two-rank communicator for (a, b), with a as comm rank 0; NULL elsewhere. */
static tb_status_t pair_comm(const tb_rt_t *rt, int a, int b, MPI_Comm *c)
{
    int in = rt->rank == a || rt->rank == b;
    *c = MPI_COMM_NULL;
    return TB_MPI_CHECK(MPI_Comm_split(rt->world, in ? 0 : MPI_UNDEFINED, rt->rank == a ? 0 : 1, c));
}

static tb_status_t skip_test(tb_suite_t *s, const char *name, const char *kind,
                             const tb_doc_keys_t *keys, const char *why)
{
    json_t *e = tb_suite_begin_test(s, name, kind, keys, NULL);
    if (e)
        return tb_suite_end_test(s, e, "skipped", why);
    return TB_OK;
}

/* Why GPU tests cannot run in this job (--mem asks for GPU memory and some rank has no
 * usable GPU), or NULL. Said once at the start; each entry records it. */
static const char *gpu_skip_reason(const tb_suite_t *s)
{
    return tb_opts_mem_needs_gpu(s->opts) && !s->gpu->ok ? s->gpu->why : NULL;
}

/* Why the transport tests (latency, bw, bibw, the matrices) cannot run: no GPU for --mem, or
 * the transport of --backend did not start; NULL when they can. */
static const char *xport_skip_reason(const tb_suite_t *s)
{
    const char *why = gpu_skip_reason(s);
    return why ? why : tb_xport_skip_reason(s);
}

/* latency, bw, bibw on the intra-node pair and, with two nodes or more, the inter-node
 * pair. Both pairs include rank 0, which owns the document. */
static tb_status_t run_p2p(tb_suite_t *s, const tb_test_ops_t *ops)
{
    const tb_rt_t *rt = s->rt;
    int intra = -1, inter = rt->nnodes > 1 ? rt->first_rank_of_node[1] : -1;
    tb_status_t st = TB_OK;
    for (int r = 1; r < rt->size && intra < 0; r++)
        if (rt->node_of[r] == 0)
            intra = r;
    const struct {
        const char *variant;
        int peer;
        const char *why;
    } pairs[] = {{"intra-node", intra, "needs two ranks on the first node"},
                 {"inter-node", inter, "needs two nodes"}};
    for (size_t i = 0; i < 2; i++) {
        tb_status_t one = TB_OK;
        tb_doc_keys_t keys = tb_suite_keys_mem(s, "byte", pairs[i].variant, NULL);
        if (xport_skip_reason(s) && (pairs[i].peer >= 0 || i == 0)) {
            one = skip_test(s, ops->name, "p2p", &keys, xport_skip_reason(s));
        } else if (pairs[i].peer < 0) {
            /* A one-node job has no inter-node pair: nothing to say about it. */
            if (i == 0 || rt->nnodes > 1)
                one = skip_test(s, ops->name, "p2p", &keys, pairs[i].why);
        } else {
            MPI_Comm c;
            one = pair_comm(rt, 0, pairs[i].peer, &c);
            if (one == TB_OK && c != MPI_COMM_NULL) {
                json_t *params = rt->rank == 0
                                     ? json_pack("{s:[i,i], s:[s,s], s:i}", "pair", 0,
                                                 pairs[i].peer, "hosts", tb_rt_host_of(rt, 0),
                                                 tb_rt_host_of(rt, pairs[i].peer), "window",
                                                 s->opts->window)
                                     : NULL;
                one = tb_harness_run(s, ops, &tb_dtype_byte, &keys, c, params);
                (void)TB_MPI_CHECK(MPI_Comm_free(&c));
            }
        }
        tb_suite_wait_all(s, ops->name);
        one = tb_suite_sync(s, rt->world, one);
        if (one > st)
            st = one;
    }
    return st;
}

static tb_status_t run_collective(tb_suite_t *s, const tb_test_ops_t *ops, const tb_dtype_t *dt)
{
    json_t *params = s->rt->rank == 0
                         ? json_pack("{s:s, s:i}", "dtype", dt->name, "ranks", s->rt->size)
                         : NULL;
    /* Only the reductions have an operation, only broadcast a root. */
    if (params && (ops == &tb_test_all_reduce || ops == &tb_test_reduce_scatter))
        json_object_set_new(params, "op", json_string("sum"));
    if (params && ops == &tb_test_broadcast)
        json_object_set_new(params, "root", json_integer(0));
    tb_doc_keys_t keys = tb_suite_keys_mem(s, dt->name, NULL, NULL);
    const char *why = gpu_skip_reason(s);
    if (!why && tb_xport_ops(s) != &tb_xport_mpi)
        why = "collectives run over MPI only (--backend ucx measures latency, bw, bibw and the "
              "matrices)";
    if (why) {
        json_t *e = tb_suite_begin_test(s, ops->name, "collective", &keys, params);
        return e ? tb_suite_end_test(s, e, "skipped", why) : TB_OK;
    }
    return tb_harness_run(s, ops, dt, &keys, s->rt->world, params);
}

static tb_status_t run_tests(tb_suite_t *s)
{
    static const tb_test_ops_t *const p2p[] = {&tb_test_latency, &tb_test_bw, &tb_test_bibw};
    static const tb_test_ops_t *const colls[] = {&tb_test_all_gather, &tb_test_reduce_scatter,
                                                 &tb_test_broadcast, &tb_test_alltoall};
    const tb_opts_t *o = s->opts;
    const tb_rt_t *rt = s->rt;
    tb_status_t worst = TB_OK, st;

    if (gpu_skip_reason(s)) {
        /* Once, here; the entries keep the reason without printing it again. */
        if (rt->rank == 0)
            printf("topobench: every GPU test skipped (--mem %s,%s): %s\n\n", o->mem[0],
                   o->mem[1], gpu_skip_reason(s));
        s->quiet_skips = 1;
    } else if (tb_xport_skip_reason(s)) {
        if (rt->rank == 0)
            printf("topobench: every --backend %s test skipped: %s\n\n", o->backend,
                   tb_xport_skip_reason(s));
        s->quiet_skips = 1;
    }

/* Corruption is recorded and the run goes on; anything worse ends it. */
#define TB_NEXT(expr)                                                                          \
    do {                                                                                       \
        st = tb_suite_sync(s, rt->world, (expr));                                              \
        if (st > worst)                                                                        \
            worst = st;                                                                        \
        if (st != TB_OK && st != TB_ERR_CORRUPT)                                               \
            return worst;                                                                      \
    } while (0)

    /* First: it measures its own memory (pinned host, device), whatever --mem says. */
    if (tb_opts_has_test(o, "gpu_copy"))
        TB_NEXT(tb_gpu_copy_run(s));
    for (size_t i = 0; i < sizeof(p2p) / sizeof(p2p[0]); i++)
        if (tb_opts_has_test(o, p2p[i]->name))
            TB_NEXT(run_p2p(s, p2p[i]));
    if (tb_opts_has_test(o, "all_reduce")) {
        TB_NEXT(run_collective(s, &tb_test_all_reduce, &tb_dtype_float));
        TB_NEXT(run_collective(s, &tb_test_all_reduce, &tb_dtype_double));
    }
    for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
        if (tb_opts_has_test(o, colls[i]->name))
            TB_NEXT(run_collective(s, colls[i], &tb_dtype_float));
    TB_NEXT(tb_nccl_run_tests(s));
    TB_NEXT(tb_verbs_run_tests(s));
    if (xport_skip_reason(s)) {
        static const struct {
            const char *name, *level;
        } mats[] = {{"matrix", "rank"}, {"node_matrix", "node"}, {"isolated", "isolated"}};
        for (size_t i = 0; i < sizeof(mats) / sizeof(mats[0]); i++) {
            tb_doc_keys_t keys = tb_suite_keys_mem(s, "byte", NULL, mats[i].level);
            if (tb_opts_has_test(o, mats[i].name))
                TB_NEXT(skip_test(s, mats[i].name, "matrix", &keys, xport_skip_reason(s)));
        }
    } else {
        if (tb_opts_has_test(o, "matrix"))
            TB_NEXT(tb_matrix_run(s, "matrix", "rank", rt->world));
        if (tb_opts_has_test(o, "node_matrix")) {
            tb_status_t one = TB_OK;
            if (rt->leaders != MPI_COMM_NULL)
                one = tb_matrix_run(s, "node_matrix", "node", rt->leaders);
            tb_suite_wait_all(s, "node_matrix");
            TB_NEXT(one);
        }
        if (tb_opts_has_test(o, "isolated"))
            TB_NEXT(tb_isolated_run(s));
    }
#undef TB_NEXT
    return worst;
}

tb_status_t tb_run_cmd(int argc, char **argv)
{
    tb_rt_t rt;
    tb_opts_t opts;
    tb_suite_t suite;
    tb_gpu_t gpu;
    tb_status_t st;
    int help = 0;

    /* `run --help` starts no MPI. */
    if (tb_opts_help_requested(argc, argv))
        return TB_OK;
    if ((st = tb_rt_init(&argc, &argv, &rt)))
        return st;
    memset(&suite, 0, sizeof(suite));
    suite.rt = &rt;
    suite.opts = &opts;
    pthread_mutex_init(&suite.doc_lock, NULL);

    /* Every rank parses the same argv; only rank 0 says what is wrong. */
    if (rt.rank != 0)
        tb_log_set_level(TB_LOG_ERROR + 1);
    if (rt.rank == 0) {
        st = tb_opts_parse(argc, argv, &opts, &help);
    } else {
        /* --help once, not once per rank. */
        if (!freopen("/dev/null", "w", stdout))
            tb_warn("cannot silence standard output of rank %d", rt.rank);
        st = tb_opts_parse(argc, argv, &opts, &help);
    }
    tb_log_set_level(TB_LOG_INFO);
    if (st == TB_OK && rt.rank == 0)
        st = tb_opts_check_job(&opts, rt.size); /* before anything is measured */
    /* Rank 0 alone checked the job: everyone follows its word. */
    st = tb_rt_agree(&rt, st);
    if (st || help)
        goto out_finalize;

    /* Every run loads the GPU runtime (it records its versions); a job without a GPU on
     * every rank runs GPU tests as skips. */
    if ((st = tb_gpu_setup(&rt, opts.gpus, opts.ngpus, &gpu)))
        goto out_finalize;
    suite.gpu = &gpu;
    /* --backend ucx: UCX on every rank, or the reason its tests are skipped. */
    if (tb_xport_ops(&suite) == &tb_xport_ucx &&
        (st = tb_ucx_setup(&rt, &suite.ucx, suite.backend_why, sizeof(suite.backend_why))))
        goto out_finalize;
    if (rt.rank == 0 && gpu.shared && tb_opts_mem_needs_gpu(&opts))
        tb_warn("two or more ranks of a node share one GPU: their GPU figures share it too "
                "(--gpus, or one rank per GPU)");

    tb_suite_fault_from_env(&suite);
    tb_progress_init(&suite.progress, stderr, opts.progress && rt.rank == 0);
    /* A file-size limit makes a write fail (reported) instead of killing rank 0. */
    signal(SIGXFSZ, SIG_IGN);

    if (rt.rank == 0) {
        st = tb_opts_outdir_create(&opts);
        snprintf(suite.results_path, sizeof(suite.results_path), "%s/results.json", opts.outdir);
        if (st == TB_OK) {
            suite.doc = tb_doc_new();
            json_object_set_new(suite.doc, "run", run_metadata(&suite, argc, argv));
            run_metadata_gpu(&suite, json_object_get(suite.doc, "run"));
            if (tb_xport_ops(&suite) == &tb_xport_ucx)
                json_object_set_new(json_object_get(suite.doc, "run"), "ucx",
                                    tb_ucx_describe(suite.ucx, suite.backend_why));
            st = tb_doc_write(suite.doc, suite.results_path);
        }
    }
    /* Every rank knows the document's path: one on rank 0's node records the ending if
     * rank 0 stops (on_ending). */
    if ((st = tb_rt_agree(&rt, st)) ||
        (st = TB_MPI_CHECK(MPI_Bcast(suite.results_path, sizeof(suite.results_path), MPI_CHAR,
                                     0, rt.world))) ||
        (st = describe_job(&suite)))
        goto out_finalize;
    if (rt.rank == 0) {
        tb_info("%d ranks on %d nodes; results go to %s", rt.size, rt.nnodes,
                suite.results_path);
        st = tb_suite_save(&suite);
    }
    if ((st = tb_rt_agree(&rt, st)))
        goto out_finalize;

    if ((st = tb_rt_agree(&rt, tb_wd_start(&rt, opts.timeout, on_ending, &suite))))
        goto out_finalize;
    /* A broken TOPOBENCH_TOPO_FILE is malformed input: nothing is measured. */
    st = gather_topologies(&suite);
    join_gpu_topology(&suite);
    tb_suite_freeze_job(&suite);
    if (rt.rank == 0)
        suite.finished_unsaved = 1; /* the topologies */
    st = tb_suite_sync(&suite, rt.world, st);
    if (st == TB_OK)
        st = run_tests(&suite);
    /* The retest measures on --mem too; without a GPU there is nothing it could measure. */
    if (st == TB_OK && opts.retest && !xport_skip_reason(&suite))
        st = tb_suite_sync(&suite, rt.world, retest(&suite));
    tb_wd_stop();

    if (rt.rank == 0) {
        tb_status_t final = st > suite.save_status ? st : suite.save_status, wst;
        json_object_set_new(suite.doc, "complete", json_boolean(st == TB_OK || st == TB_ERR_CORRUPT));
        json_object_set_new(suite.doc, "status", json_string(tb_status_string(final)));
        json_object_set_new(suite.doc, "exit_code", json_integer(tb_status_exit_code(final)));
        wst = write_outputs(&suite, suite.doc, tb_suite_save(&suite));
        if (wst > final)
            final = wst;
        if (wst == TB_OK && suite.save_status != TB_OK)
            tb_log(TB_LOG_ERROR, "%s could not be rewritten during the run (see above); it "
                   "holds every test now, and the exit status says the run was at risk",
                   suite.results_path);
        if (st == TB_ERR_CORRUPT)
            tb_log(TB_LOG_ERROR, "data corruption detected; see the errors in %s",
                   suite.results_path);
        if (wst == TB_OK && suite.opts->analyze)
            analyze_results(&suite);
        if (wst == TB_OK && (wst = write_html(&suite)) > final)
            final = wst;
        if (wst == TB_OK)
            printf("topobench: %s; results in %s (CSV files and report.html beside it)\n",
                   tb_status_string(final), suite.results_path);
        else
            printf("topobench: %s; %s is incomplete and no CSV files were written\n",
                   tb_status_string(final), suite.results_path);
        st = final;
    }
    st = tb_rt_agree(&rt, st);
out_finalize:
    tb_ucx_teardown(&rt, suite.ucx);
    tb_doc_writer_destroy(suite.writer);
    tb_topo_destroy(suite.node_topo);
    json_decref(suite.doc);
    tb_rt_finalize(&rt);
    pthread_mutex_destroy(&suite.doc_lock);
    return st;
}
