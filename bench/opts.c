/* The run options table, its parser (getopt_long built from the table), presets and
 * help. Presets set every tunable; explicit options given on the command line win
 * whatever their order, because presets are applied first. */
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fs.h"
#include "log.h"
#include "nccl_types.h"
#include "units.h"
#include "verbs_setup.h"


static const char *const all_tests[] = {"latency",   "bw",        "bibw",
                                        "all_reduce", "all_gather", "reduce_scatter",
                                        "broadcast", "alltoall",  "matrix",
                                        "node_matrix", "gpu_copy", "nccl_all_reduce",
                                        "nccl_all_gather", "nccl_reduce_scatter",
                                        "nccl_broadcast", "nccl_reduce", "nccl_alltoall",
                                        "nccl_sendrecv", "isolated"};
#define N_ALL_TESTS (sizeof(all_tests) / sizeof(all_tests[0]))
/* Fabric tests below MPI (bench/verbs): only when named, never in "all" or the default. */
static const char *const verbs_tests[] = {"verbs_write_bw", "verbs_read_bw", "verbs_send_bw",
                                          "verbs_write_lat", "verbs_send_lat", "verbs_matrix",
                                          "gdr"};

static const struct preset {
    const char *name;
    size_t min_bytes, max_bytes;
    double step_factor, time_budget;
    long min_iters, max_iters;
    size_t matrix_bytes;
    const char *what;
} presets[] = {
    {"quick", 8, 1 << 20, 4, 0.02, 5, 2000, 1 << 20, "8B-1M, x4 steps, 20 ms per size"},
    {"standard", 8, 16 << 20, 2, 0.1, 10, 20000, 4 << 20, "8B-16M, x2 steps, 100 ms per size"},
    {"full", 1, 256 << 20, 2, 0.5, 20, 100000, 16 << 20, "1B-256M, x2 steps, 500 ms per size"},
};

enum { ARG_NONE, ARG_SIZE, ARG_LONG, ARG_DOUBLE, ARG_DURATION, ARG_STRING, ARG_BOOL, ARG_LIST };

#define GIB ((double)(1 << 30))
#define MAX_ITERS 1e7 /* 80 MB of iteration times per rank */
#define MAX_SECONDS_PER_SIZE 3600.0
#define MAX_TIMEOUT_S (7 * 86400.0)

/* One row per option: the only place an option is declared. Numeric options carry their
 * range [lo, hi]; a value outside it is a usage error that names the range. */
static const struct opt_def {
    const char *name;
    int short_name;
    int arg;
    const char *metavar;
    const char *help;
    double lo, hi;
} opt_table[] = {
    {"suite", 's', ARG_STRING, "NAME", "preset: quick, standard (default), full", 0, 0},
    {"minbytes", 'b', ARG_SIZE, "SIZE", "smallest message size (K/M/G = powers of two)", 0,
     16 * GIB},
    {"maxbytes", 'e', ARG_SIZE, "SIZE", "largest message size (at most 16G)", 0, 16 * GIB},
    {"stepfactor", 'f', ARG_DOUBLE, "F", "multiply the size by F between steps (> 1, <= 1024)",
     1, 1024},
    {"iters", 'n', ARG_LONG, "N", "fixed timed iterations per size (default: adapt to budget)",
     0, MAX_ITERS},
    {"warmup", 'w', ARG_LONG, "N", "fixed warm-up iterations per size (default: adapt)", 0,
     MAX_ITERS},
    {"time-budget", 'T', ARG_DURATION, "DUR", "time per size in adaptive mode (e.g. 100ms)", 0,
     MAX_SECONDS_PER_SIZE},
    {"min-iters", 0, ARG_LONG, "N", "adaptive mode: at least N timed iterations", 0, MAX_ITERS},
    {"max-iters", 0, ARG_LONG, "N", "adaptive mode: at most N timed iterations", 1, MAX_ITERS},
    {"tests", 't', ARG_LIST, "LIST", "comma-separated tests, or 'all' (see below)", 0, 0},
    {"outdir", 'o', ARG_STRING, "DIR",
     "where results.json and CSV files go (default: a new topobench-results/DATE-TIME)", 0, 0},
    {"check", 'c', ARG_LONG, "N", "check data on N dedicated iterations per size, 0: off (default 1)",
     0, 1000},
    {"timeout", 0, ARG_DURATION, "DUR", "abort when a blocking step makes no progress this long",
     0, MAX_TIMEOUT_S},
    {"matrix-size", 'm', ARG_SIZE, "SIZE", "message size of the all-pairs bandwidth matrices",
     1, GIB},
    {"window", 0, ARG_LONG, "N", "non-blocking sends per window in bandwidth tests (OSU: 64)", 1,
     4096},
    {"pairs", 'p', ARG_STRING, "A-B,...",
     "isolated mode: measure these rank pairs one at a time (alone: only them)", 0, 0},
    {"nccl-lib", 0, ARG_STRING, "PATH",
     "NCCL library of the nccl_* tests (default: TOPOBENCH_NCCL_LIB, else libnccl.so.2)", 0, 0},
    {"datatype", 'd', ARG_STRING, "TYPE",
     "nccl_* tests: int8 uint8 int32 uint32 int64 uint64 half float double bfloat16 f8e4m3 "
     "f8e5m2, or all (default float)",
     0, 0},
    {"op", 0, ARG_STRING, "OP",
     "nccl_* reductions: sum prod max min avg, or all (default sum; nccl-tests' -o)", 0, 0},
    {"root", 'r', ARG_STRING, "N|all", "nccl_broadcast, nccl_reduce: root rank, or all (default 0)",
     0, 0},
    {"blocking", 'z', ARG_LONG, "0-3",
     "nccl_* tests: 0 queue the iterations; 1 wait and barrier after each; 2 wait after each; "
     "3 as 1, the barrier not timed",
     0, 3},
    {"cudagraph", 'G', ARG_LONG, "N",
     "nccl_* tests: capture the iterations as a CUDA graph, launch it N times (default 0)", 0,
     1000000},
    {"average", 'a', ARG_LONG, "0-3",
     "nccl_* tests: time over ranks: 0 rank 0's, 1 mean (default), 2 min, 3 max", 0, 3},
    {"ngpus", 'g', ARG_LONG, "1", "GPUs per rank: 1 (one GPU per rank, nccl-tests' -g 1)", 1, 1},
    {"batches", 0, ARG_LONG, "N",
     "nccl_* tests: timed batches per size; their spread beside the figure (default 5)", 1,
     10000},
    {"copy-size", 0, ARG_SIZE, "SIZE",
     "gpu_copy: bytes of each copy (default 512M, as nvbandwidth)", 1, 16 * GIB},
    {"copy-samples", 0, ARG_LONG, "N",
     "gpu_copy: timed batches of 16 copies per cell, the median reported (default 3)", 1, 63},
    {"mem", 0, ARG_STRING, "KIND[,KIND]",
     "memory of the buffers: host (default), pinned, device, managed; two kinds: send,receive "
     "(OSU's D D, H D)",
     0, 0},
    {"backend", 0, ARG_STRING, "NAME",
     "transport of latency, bw, bibw and the matrices: mpi (default) or ucx", 0, 0},
    {"gpus", 0, ARG_STRING, "LIST",
     "device of each local rank, e.g. 0,2,1,3 (default: the local rank's index; after "
     "CUDA_VISIBLE_DEVICES)",
     0, 0},
    {"hca", 0, ARG_STRING, "DEV[:PORT]",
     "verbs_* and gdr: the RDMA port (default: per rank the NIC nearest its GPU or cores)", 0, 0},
    {"gid-index", 0, ARG_LONG, "N",
     "verbs_* and gdr: GID index (default: RoCE v2 IPv4 entry on RoCE, none on InfiniBand)", 0,
     4095},
    {"qps", 0, ARG_LONG, "N", "verbs_* bandwidth tests: queue pairs (perftest -q, default 1)", 1,
     64},
    {"tx-depth", 0, ARG_LONG, "N",
     "verbs_* tests: outstanding work requests per QP (perftest -t, default 128)", 1, 8192},
    {"tclass", 0, ARG_LONG, "N",
     "verbs_* and gdr: traffic class of the GRH, RoCE's DSCP x 4 (perftest --tclass, default 0)", 0,
     255},
    {"sl", 0, ARG_LONG, "N", "verbs_* and gdr: service level (perftest --sl, default 0)", 0, 15},
    {"no-progress", 0, ARG_NONE, NULL, "no progress line on rank 0", 0, 0},
    {"no-analyze", 0, ARG_NONE, NULL, "do not analyse the results at the end (topobench analyze)",
     0, 0},
    {"retest", 0, ARG_NONE, NULL,
     "measure the analysis's suspect pairs again, one at a time, in this job", 0, 0},
    {"mad-threshold", 0, ARG_DOUBLE, "K",
     "analysis: an outlier is beyond K scaled MADs from its peers (default 4)", 0.5, 1000},
    {"min-drop", 0, ARG_DOUBLE, "F",
     "analysis: ... and at least F (fraction) from their median (default 0.25)", 0, 0.99},
    {"quiet", 'q', ARG_NONE, NULL, "no result tables on the terminal", 0, 0},
    {"help", 'h', ARG_NONE, NULL, "this text", 0, 0},
};
#define N_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void tb_opts_print_help(void)
{
    printf("usage: mpirun -np N topobench [run] [OPTIONS]\n"
           "       srun --mpi=pmix topobench [run] [OPTIONS]\n\n"
           "Measures point-to-point and collective performance over MPI on host or GPU memory,\n"
           "the all-pairs bandwidth/latency matrices, and writes OUTDIR/results.json plus\n"
           "one CSV per test. Units: sizes in bytes (input K/M/G = 2^10/2^20/2^30),\n"
           "bandwidth GB/s = 1e9 bytes/s, time in microseconds.\n\nOptions:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[64];
        const struct opt_def *o = &opt_table[i];
        if (o->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        printf("  %-28s %s\n", left, o->help);
    }
    printf("\nSuites (explicit options override them):\n");
    for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
        printf("  %-9s %s, matrices at %zu bytes\n", presets[i].name, presets[i].what,
               presets[i].matrix_bytes);
    printf("\nTests:\n"
           "  latency        ping-pong, half round trip (intra-node pair; inter-node pair too)\n"
           "  bw, bibw       OSU windowed bandwidth, one and both directions\n"
           "  all_reduce     sum, float and double; in-place and out-of-place\n"
           "  all_gather, reduce_scatter, alltoall   in-place and out-of-place\n"
           "  broadcast      root 0\n"
           "  matrix         all-pairs bandwidth and latency, every rank (shift pattern)\n"
           "  node_matrix    the same with one rank per node (fabric check)\n"
           "  gpu_copy       each node's GPU copy matrix (nvbandwidth's copy-engine cases):\n"
           "                 host<->device per NUMA node, device<->device one and both ways,\n"
           "                 device-local; skipped where there is no CUDA runtime or device\n"
           "  isolated       the pairs given with --pairs, one at a time\n"
           "  nccl_all_reduce, nccl_all_gather, nccl_reduce_scatter, nccl_broadcast,\n"
           "  nccl_reduce, nccl_alltoall, nccl_sendrecv   NCCL on device memory, one GPU per\n"
           "                 rank, run and timed as nccl-tests (-n 20 -w 1 unless given)\n"

           "  verbs_write_bw, verbs_read_bw, verbs_send_bw   RDMA bandwidth between rank 0 and\n"
           "                 the first rank of another node, as perftest's ib_*_bw: --qps,\n"
           "                 --tx-depth, the size sweep; Gb/s and GB/s (docs/verbs.md)\n"
           "  verbs_write_lat, verbs_send_lat   the same pair's ping-pong, half round trip\n"
           "  verbs_matrix   RDMA write bandwidth between every pair of nodes (shift rounds)\n"
           "  gdr            does GPUDirect RDMA work? a verdict per node and GPU-NIC pair\n"
           "Default: all but isolated and the verbs_*/gdr tests; --pairs alone runs only "
           "isolated.\n\n"
           "Defaults: timeout 60s, window 64, check on.\n\n");
    tb_cli_print_exit_statuses(stdout);
}

static void apply_preset(tb_opts_t *o, const struct preset *p)
{
    o->suite = p->name;
    o->min_bytes = p->min_bytes;
    o->max_bytes = p->max_bytes;
    o->step_factor = p->step_factor;
    o->time_budget = p->time_budget;
    o->min_iters = p->min_iters;
    o->max_iters = p->max_iters;
    o->matrix_bytes = p->matrix_bytes;
}

static tb_status_t parse_tests(tb_opts_t *o, const char *list)
{
    char buf[512], *save = NULL, *tok;
    o->ntests = 0;
    snprintf(buf, sizeof(buf), "%s", list);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        if (!strcmp(tok, "all")) {
            for (i = 0; i + 1 < N_ALL_TESTS && o->ntests < TB_MAX_TESTS; i++)
                snprintf(o->tests[o->ntests++], sizeof(o->tests[0]), "%s", all_tests[i]);
            continue;
        }
        for (i = 0; i < N_ALL_TESTS; i++)
            if (!strcmp(tok, all_tests[i]))
                break;
        for (size_t k = 0; i == N_ALL_TESTS && k < sizeof(verbs_tests) / sizeof(verbs_tests[0]);
             k++)
            if (!strcmp(tok, verbs_tests[k]))
                i = 0; /* known */
        if (i == N_ALL_TESTS)
            return tb_error(TB_ERR_USAGE, "--tests: unknown test '%s' (see --help)", tok);
        if (o->ntests >= TB_MAX_TESTS)
            return tb_error(TB_ERR_USAGE, "--tests: too many tests");
        snprintf(o->tests[o->ntests++], sizeof(o->tests[0]), "%s", tok);
    }
    if (o->ntests == 0)
        return tb_error(TB_ERR_USAGE, "--tests: empty list");
    return TB_OK;
}

static tb_status_t parse_mem(tb_opts_t *o, const char *list)
{
    static const char *const kinds[] = {"host", "pinned", "device", "managed"};
    char buf[64], *comma;
    const char *side[2];
    snprintf(buf, sizeof(buf), "%s", list);
    comma = strchr(buf, ',');
    if (comma)
        *comma = '\0';
    side[0] = buf;
    side[1] = comma ? comma + 1 : buf;
    for (int k = 0; k < 2; k++) {
        int known = 0;
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            known |= !strcmp(side[k], kinds[i]);
        if (!known || strchr(side[k], ','))
            return tb_error(TB_ERR_USAGE,
                            "--mem '%s': expected KIND or SEND,RECEIVE with kinds host, pinned, "
                            "device, managed",
                            list);
        snprintf(o->mem[k], sizeof(o->mem[k]), "%s", side[k]);
    }
    return TB_OK;
}

static tb_status_t parse_gpus(tb_opts_t *o, const char *list)
{
    const char *p = list;
    o->ngpus = 0;
    while (*p) {
        char *end;
        long v;
        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > 1023 || (*end && *end != ',') ||
            (*end == ',' && !end[1]))
            goto bad;
        if (o->ngpus >= (int)(sizeof(o->gpus) / sizeof(o->gpus[0])))
            return tb_error(TB_ERR_USAGE, "--gpus: at most %zu devices",
                            sizeof(o->gpus) / sizeof(o->gpus[0]));
        o->gpus[o->ngpus++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (o->ngpus)
        return TB_OK;
bad:
    return tb_error(TB_ERR_USAGE,
                    "--gpus '%s': expected a comma-separated list of device indices such as "
                    "0,2,1,3",
                    list);
}

int tb_opts_mem_needs_gpu(const tb_opts_t *o)
{
    return strcmp(o->mem[0], "host") != 0 || strcmp(o->mem[1], "host") != 0;
}

static tb_status_t parse_pairs(tb_opts_t *o, const char *list)
{
    const char *p = list;
    o->npairs = 0;
    while (*p) {
        char *end;
        long a, b;
        errno = 0;
        a = strtol(p, &end, 10);
        if (end == p || *end != '-' || errno)
            goto bad;
        p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || errno || a < 0 || b < 0 || a == b ||
            a > INT_MAX || b > INT_MAX)
            goto bad;
        if (o->npairs >= TB_MAX_PAIRS)
            return tb_error(TB_ERR_USAGE, "--pairs: at most %d pairs", TB_MAX_PAIRS);
        o->pairs[o->npairs][0] = (int)a;
        o->pairs[o->npairs][1] = (int)b;
        o->npairs++;
        p = *end ? end + 1 : end;
    }
    if (o->npairs == 0)
        goto bad;
    return TB_OK;
bad:
    return tb_error(TB_ERR_USAGE,
                    "--pairs '%s': expected a comma-separated list of distinct rank pairs "
                    "such as 0-4,1-5",
                    list);
}

tb_status_t tb_opts_parse(int argc, char **argv, tb_opts_t *o, int *help_p)
{
    struct option longopts[N_OPTS + 1];
    char shortopts[3 * N_OPTS + 2], *sp = shortopts;
    const char *suite = "standard";
    const struct preset *preset = NULL;
    int c, idx;

    *help_p = 0;
    memset(o, 0, sizeof(*o));
    /* The suite decides the defaults of the others, so find it before anything else. */
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--suite") || !strcmp(argv[i], "-s")) && i + 1 < argc)
            suite = argv[i + 1];
        else if (!strncmp(argv[i], "--suite=", 8))
            suite = argv[i] + 8;
        else if (!strncmp(argv[i], "-s", 2) && argv[i][2])
            suite = argv[i] + 2;
    }
    for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
        if (!strcmp(suite, presets[i].name))
            preset = &presets[i];
    if (!preset)
        return tb_error(TB_ERR_USAGE, "--suite '%s': expected quick, standard or full", suite);
    apply_preset(o, preset);
    o->iters = 0;
    o->warmup = -1;
    o->check = 1;
    o->check_iters = 1;
    o->nccl.dtype = "float";
    o->nccl.op = "sum";
    o->nccl.average = 1;
    o->nccl.batches = 5;
    o->timeout = 60.0;
    o->outdir = TB_DEFAULT_OUTDIR;
    o->window = 64;
    o->progress = 1;
    o->analyze = 1;
    o->copy_bytes = (size_t)512 << 20;
    o->copy_samples = 3;
    o->verbs.gid_index = -1;
    o->verbs.qps = 1;
    o->verbs.tx_depth = 128;
    snprintf(o->mem[0], sizeof(o->mem[0]), "host");
    snprintf(o->mem[1], sizeof(o->mem[1]), "host");
    snprintf(o->backend, sizeof(o->backend), "mpi");

    *sp++ = ':';
    for (size_t i = 0; i < N_OPTS; i++) {
        longopts[i].name = opt_table[i].name;
        longopts[i].has_arg = opt_table[i].arg == ARG_NONE ? no_argument : required_argument;
        longopts[i].flag = NULL;
        longopts[i].val = 256 + (int)i;
        if (opt_table[i].short_name) {
            *sp++ = (char)opt_table[i].short_name;
            if (opt_table[i].arg != ARG_NONE)
                *sp++ = ':';
        }
    }
    *sp = '\0';
    memset(&longopts[N_OPTS], 0, sizeof(longopts[0]));

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
        const struct opt_def *d = NULL;
        const char *arg = optarg, *name;
        size_t size = 0;
        double dval = 0, num = 0;
        long lval = 0;
        char *end;

        if (c == '?')
            return tb_error(TB_ERR_USAGE, "unknown option '%s' (see topobench run --help)",
                            argv[optind - 1]);
        if (c == ':')
            return tb_error(TB_ERR_USAGE, "option '%s' needs a value", argv[optind - 1]);
        if (c >= 256) {
            d = &opt_table[c - 256];
        } else {
            for (size_t i = 0; i < N_OPTS; i++)
                if (opt_table[i].short_name == c)
                    d = &opt_table[i];
        }
        if (!d)
            return tb_error(TB_ERR_INTERNAL, "option table mismatch for '%c'", c);
        name = d->name;
        switch (d->arg) {
        case ARG_SIZE:
            if (tb_size_parse(arg, &size))
                return tb_error(TB_ERR_USAGE, "--%s '%s': expected a size such as 8, 64K, 4M, 1G",
                                name, arg);
            num = (double)size;
            break;
        case ARG_LONG:
            errno = 0;
            lval = strtol(arg, &end, 10);
            if (end == arg || *end || lval < 0 || errno)
                return tb_error(TB_ERR_USAGE, "--%s '%s': expected an integer from %.0f to %.0f",
                                name, arg, d->lo, d->hi);
            num = (double)lval;
            break;
        case ARG_DOUBLE:
            dval = strtod(arg, &end);
            if (end == arg || *end || !isfinite(dval))
                return tb_error(TB_ERR_USAGE, "--%s '%s': expected a number", name, arg);
            num = dval;
            break;
        case ARG_DURATION:
            if (tb_duration_parse(arg, &dval) || !isfinite(dval))
                return tb_error(TB_ERR_USAGE,
                                "--%s '%s': expected a duration such as 30, 500ms, 2m", name, arg);
            num = dval;
            break;
        case ARG_BOOL:
            if (strcmp(arg, "0") && strcmp(arg, "1"))
                return tb_error(TB_ERR_USAGE, "--%s '%s': expected 0 or 1", name, arg);
            lval = arg[0] == '1';
            break;
        default:
            break;
        }
        if ((d->arg == ARG_SIZE || d->arg == ARG_LONG || d->arg == ARG_DOUBLE ||
             d->arg == ARG_DURATION) &&
            (num < d->lo || num > d->hi)) {
            char lo[32], hi[32];
            if (d->arg == ARG_SIZE) {
                tb_size_format((size_t)d->lo, lo, sizeof(lo));
                tb_size_format((size_t)d->hi, hi, sizeof(hi));
            } else {
                snprintf(lo, sizeof(lo), "%.10g%s", d->lo, d->arg == ARG_DURATION ? "s" : "");
                snprintf(hi, sizeof(hi), "%.10g%s", d->hi, d->arg == ARG_DURATION ? "s" : "");
            }
            return tb_error(TB_ERR_USAGE, "--%s %s: out of range, expected %s to %s", name, arg,
                            lo, hi);
        }
        if (!strcmp(name, "suite"))
            ; /* handled above */
        else if (!strcmp(name, "minbytes"))
            o->min_bytes = size;
        else if (!strcmp(name, "maxbytes"))
            o->max_bytes = size;
        else if (!strcmp(name, "stepfactor"))
            o->step_factor = dval;
        else if (!strcmp(name, "iters"))
            o->iters = lval;
        else if (!strcmp(name, "warmup"))
            o->warmup = lval;
        else if (!strcmp(name, "time-budget"))
            o->time_budget = dval;
        else if (!strcmp(name, "min-iters"))
            o->min_iters = lval;
        else if (!strcmp(name, "max-iters"))
            o->max_iters = lval;
        else if (!strcmp(name, "tests")) {
            tb_status_t st = parse_tests(o, arg);
            if (st)
                return st;
        } else if (!strcmp(name, "outdir")) {
            if (!arg[0])
                return tb_error(TB_ERR_USAGE, "--outdir: empty directory name");
            o->outdir = arg;
            o->outdir_given = 1;
        } else if (!strcmp(name, "check")) {
            o->check = lval > 0;
            o->check_iters = lval > 0 ? (int)lval : 1;
        } else if (!strcmp(name, "nccl-lib")) {
            if (!arg[0])
                return tb_error(TB_ERR_USAGE, "--nccl-lib: empty path");
            o->nccl.lib = arg;
        } else if (!strcmp(name, "datatype")) {
            if (strcmp(arg, "all") && !tb_nccl_type_find(arg))
                return tb_error(TB_ERR_USAGE,
                                "--datatype '%s': expected int8, uint8, int32, uint32, int64, "
                                "uint64, half, float, double, bfloat16, f8e4m3, f8e5m2 or all",
                                arg);
            o->nccl.dtype = arg;
        } else if (!strcmp(name, "op")) {
            if (strcmp(arg, "all") && !tb_nccl_op_find(arg))
                return tb_error(TB_ERR_USAGE,
                                "--op '%s': expected sum, prod, max, min, avg or all", arg);
            o->nccl.op = arg;
        } else if (!strcmp(name, "root")) {
            errno = 0;
            lval = strtol(arg, &end, 10);
            if (!strcmp(arg, "all") || !strcmp(arg, "-1"))
                o->nccl.root = -1;
            else if (end == arg || *end || errno || lval < 0 || lval > INT_MAX)
                return tb_error(TB_ERR_USAGE, "--root '%s': expected a rank (0, 1, ...) or all",
                                arg);
            else
                o->nccl.root = (int)lval;
        } else if (!strcmp(name, "blocking"))
            o->nccl.blocking = (int)lval;
        else if (!strcmp(name, "cudagraph"))
            o->nccl.graph = (int)lval;
        else if (!strcmp(name, "average"))
            o->nccl.average = (int)lval;
        else if (!strcmp(name, "ngpus"))
            ; /* one GPU per rank is all there is (range 1..1) */
        else if (!strcmp(name, "batches"))
            o->nccl.batches = (int)lval;
        else if (!strcmp(name, "timeout"))
            o->timeout = dval;
        else if (!strcmp(name, "matrix-size"))
            o->matrix_bytes = size;
        else if (!strcmp(name, "copy-size"))
            o->copy_bytes = size;
        else if (!strcmp(name, "copy-samples"))
            o->copy_samples = (int)lval;
        else if (!strcmp(name, "gid-index"))
            o->verbs.gid_index = (int)lval;
        else if (!strcmp(name, "qps"))
            o->verbs.qps = (int)lval;
        else if (!strcmp(name, "tx-depth"))
            o->verbs.tx_depth = (int)lval;
        else if (!strcmp(name, "tclass"))
            o->verbs.tclass = (int)lval;
        else if (!strcmp(name, "sl"))
            o->verbs.sl = (int)lval;
        else if (!strcmp(name, "hca")) {
            char dev[64];
            int port;
            if (tb_verbs_hca_parse(arg, dev, sizeof(dev), &port) != TB_OK)
                return TB_ERR_USAGE;
            o->verbs.hca = arg;
        }
        else if (!strcmp(name, "window"))
            o->window = (int)lval;
        else if (!strcmp(name, "pairs")) {
            tb_status_t st = parse_pairs(o, arg);
            if (st)
                return st;
        } else if (!strcmp(name, "mem")) {
            tb_status_t st = parse_mem(o, arg);
            if (st)
                return st;
        } else if (!strcmp(name, "backend")) {
            if (strcmp(arg, "mpi") && strcmp(arg, "ucx"))
                return tb_error(TB_ERR_USAGE, "--backend '%s': expected mpi or ucx", arg);
            snprintf(o->backend, sizeof(o->backend), "%s", arg);
        } else if (!strcmp(name, "gpus")) {
            tb_status_t st = parse_gpus(o, arg);
            if (st)
                return st;
        } else if (!strcmp(name, "no-progress"))
            o->progress = 0;
        else if (!strcmp(name, "no-analyze"))
            o->analyze = 0;
        else if (!strcmp(name, "retest"))
            o->retest = 1;
        else if (!strcmp(name, "mad-threshold"))
            o->mad_k = dval;
        else if (!strcmp(name, "min-drop"))
            o->min_drop = dval;
        else if (!strcmp(name, "quiet"))
            o->quiet = 1;
        else if (!strcmp(name, "help")) {
            *help_p = 1;
            return TB_OK;
        }
    }
    if (optind < argc)
        return tb_error(TB_ERR_USAGE, "unexpected argument '%s' (see topobench run --help)",
                        argv[optind]);
    if (o->min_bytes > o->max_bytes)
        return tb_error(TB_ERR_USAGE, "--minbytes (%zu) is larger than --maxbytes (%zu)",
                        o->min_bytes, o->max_bytes);
    if (o->max_bytes > ((size_t)1 << 34))
        return tb_error(TB_ERR_USAGE, "--maxbytes %zu: at most 16G", o->max_bytes);
    if (!(o->step_factor > 1.0))
        return tb_error(TB_ERR_USAGE, "--stepfactor %g: must be greater than 1", o->step_factor);
    if (o->timeout <= 0)
        return tb_error(TB_ERR_USAGE, "--timeout: must be greater than 0");
    if (o->iters == 0 && o->time_budget <= 0)
        return tb_error(TB_ERR_USAGE, "--time-budget: must be greater than 0");
    if (o->min_iters < 1)
        o->min_iters = 1;
    if (o->max_iters < o->min_iters)
        return tb_error(TB_ERR_USAGE, "--max-iters (%ld) is below --min-iters (%ld)",
                        o->max_iters, o->min_iters);
    if (o->matrix_bytes == 0 || o->matrix_bytes > TB_MAX_MESSAGE_BYTES)
        return tb_error(TB_ERR_USAGE, "--matrix-size %zu: expected 1 byte to %zu bytes (1G)",
                        o->matrix_bytes, (size_t)TB_MAX_MESSAGE_BYTES);
    {
        size_t sizes[TB_MAX_SIZES + 1];
        if (tb_opts_sizes(o, sizes, TB_MAX_SIZES + 1) > TB_MAX_SIZES)
            return tb_error(TB_ERR_USAGE,
                            "--minbytes %zu to --maxbytes %zu in steps of x%g: more than %d "
                            "sizes; use a larger --stepfactor",
                            o->min_bytes, o->max_bytes, o->step_factor, TB_MAX_SIZES);
    }
    if (o->nccl.blocking == 3 && o->nccl.graph > 0)
        return tb_error(TB_ERR_USAGE, "--blocking 3 and --cudagraph exclude each other (as in "
                                      "nccl-tests: the barriers cannot be captured)");
    if (o->ntests == 0 && o->npairs) {
        /* `-p 0-4` alone: confirm a suspect pair, nothing else. */
        snprintf(o->tests[o->ntests++], sizeof(o->tests[0]), "isolated");
    } else if (o->ntests == 0) {
        for (size_t i = 0; i + 1 < N_ALL_TESTS; i++)
            snprintf(o->tests[o->ntests++], sizeof(o->tests[0]), "%s", all_tests[i]);
    }
    if (o->npairs && !tb_opts_has_test(o, "isolated") && o->ntests < TB_MAX_TESTS)
        snprintf(o->tests[o->ntests++], sizeof(o->tests[0]), "isolated");
    if (tb_opts_has_test(o, "isolated") && !o->npairs)
        return tb_error(TB_ERR_USAGE, "test 'isolated' needs --pairs A-B,...");
    if (o->retest && !o->analyze)
        return tb_error(TB_ERR_USAGE, "--retest measures the analysis's suspects again: it "
                                      "cannot go with --no-analyze");
    return TB_OK;
}

tb_status_t tb_opts_check_job(const tb_opts_t *o, int nranks)
{
    if (o->nccl.root >= nranks)
        return tb_error(TB_ERR_USAGE, "--root %d: the job has ranks 0..%d only", o->nccl.root,
                        nranks - 1);
    for (int i = 0; i < o->npairs; i++)
        if (o->pairs[i][0] >= nranks || o->pairs[i][1] >= nranks)
            return tb_error(TB_ERR_USAGE, "--pairs %d-%d: the job has ranks 0..%d only",
                            o->pairs[i][0], o->pairs[i][1], nranks - 1);
    return TB_OK;
}

/* Whether the launcher says this process is not the job's first rank (read before MPI
 * is initialised, so that `run --help` prints once and starts no MPI). */
static int launcher_rank_nonzero(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strcmp(v, "0") != 0;
    }
    return 0;
}

int tb_opts_help_requested(int argc, char **argv)
{
    tb_opts_t o;
    int help = 0;
    tb_status_t st;
    /* Parsed quietly: errors are said once MPI tells which rank speaks. */
    tb_log_set_level(TB_LOG_ERROR + 1);
    st = tb_opts_parse(argc, argv, &o, &help);
    tb_log_set_level(TB_LOG_INFO);
    if (st != TB_OK || !help)
        return 0;
    if (!launcher_rank_nonzero())
        tb_opts_print_help();
    return 1;
}

tb_status_t tb_opts_outdir_create(tb_opts_t *o)
{
    char stamp[32], path[sizeof(o->outdir_buf) + 16];
    time_t now = time(NULL);
    struct tm tm;
    struct stat sb;
    tb_status_t st;

    if (o->outdir_given) {
        if ((st = tb_mkdir_p(o->outdir)))
            return st;
        snprintf(path, sizeof(path), "%s/results.json", o->outdir);
        if (stat(path, &sb) == 0)
            tb_warn("%s already holds a results.json: this run replaces it and its CSV files",
                    o->outdir);
        return TB_OK;
    }
    /* The default is a new directory per run, never a previous run's. */
    if ((st = tb_mkdir_p(TB_DEFAULT_OUTDIR)))
        return st;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    for (int n = 1; n < 100; n++) {
        if (n == 1)
            snprintf(o->outdir_buf, sizeof(o->outdir_buf), "%s/%s", TB_DEFAULT_OUTDIR, stamp);
        else
            snprintf(o->outdir_buf, sizeof(o->outdir_buf), "%s/%s-%d", TB_DEFAULT_OUTDIR, stamp,
                     n);
        if (mkdir(o->outdir_buf, 0777) == 0) {
            o->outdir = o->outdir_buf;
            return TB_OK;
        }
        if (errno != EEXIST)
            return tb_error(TB_ERR_ENV, "cannot create output directory %s: %s", o->outdir_buf,
                            strerror(errno));
    }
    return tb_error(TB_ERR_ENV, "cannot find a new directory name under %s/%s",
                    TB_DEFAULT_OUTDIR, stamp);
}

int tb_opts_has_test(const tb_opts_t *o, const char *name)
{
    for (int i = 0; i < o->ntests; i++)
        if (!strcmp(o->tests[i], name))
            return 1;
    return 0;
}

size_t tb_opts_sizes(const tb_opts_t *o, size_t *sizes, size_t cap)
{
    size_t n = 0;
    double s = (double)o->min_bytes;
    size_t prev = (size_t)-1;
    while (n < cap && s <= (double)o->max_bytes) {
        size_t cur = (size_t)llround(s);
        if (cur > o->max_bytes)
            break;
        if (cur == prev) {
            s = (double)prev + 1; /* a factor too small to move: the next byte count */
            continue;
        }
        sizes[n++] = prev = cur;
        s = s > 0 ? s * o->step_factor : 1;
    }
    if (n < cap && (n == 0 || sizes[n - 1] != o->max_bytes))
        sizes[n++] = o->max_bytes;
    return n;
}

void *tb_opts_to_json(const tb_opts_t *o)
{
    json_t *tests = json_array(), *pairs = json_array(), *gpus = json_array(), *j;
    for (int i = 0; i < o->ngpus; i++)
        json_array_append_new(gpus, json_integer(o->gpus[i]));
    for (int i = 0; i < o->ntests; i++)
        json_array_append_new(tests, json_string(o->tests[i]));
    for (int i = 0; i < o->npairs; i++)
        json_array_append_new(pairs, json_pack("[i,i]", o->pairs[i][0], o->pairs[i][1]));
    j = json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:f, s:b, s:I, s:f, s:I, "
                     "s:i, s:o, s:o, s:I, s:i}",
                     "suite", o->suite, "min_bytes", (json_int_t)o->min_bytes, "max_bytes",
                     (json_int_t)o->max_bytes, "step_factor", o->step_factor, "iters",
                     (json_int_t)o->iters, "warmup", (json_int_t)o->warmup, "min_iters",
                     (json_int_t)o->min_iters, "max_iters", (json_int_t)o->max_iters,
                     "time_budget_s", o->time_budget, "check", o->check, "check_iters",
                     (json_int_t)o->check_iters, "timeout_s", o->timeout, "matrix_bytes",
                     (json_int_t)o->matrix_bytes, "window", o->window, "tests", tests, "pairs",
                     pairs, "copy_bytes", (json_int_t)o->copy_bytes, "copy_samples",
                     o->copy_samples);
    if (j) {
        json_object_set_new(j, "nccl",
                            json_pack("{s:s?, s:s, s:s, s:i, s:i, s:i, s:i, s:i}", "lib",
                                      o->nccl.lib, "datatype", o->nccl.dtype, "op", o->nccl.op,
                                      "root", o->nccl.root, "blocking", o->nccl.blocking,
                                      "cudagraph", o->nccl.graph, "average", o->nccl.average,
                                      "batches", o->nccl.batches));
        json_object_set_new(j, "retest", json_boolean(o->retest));
        if (o->mad_k > 0)
            json_object_set_new(j, "mad_threshold", json_real(o->mad_k));
        if (o->min_drop > 0)
            json_object_set_new(j, "min_drop", json_real(o->min_drop));
        json_object_set_new(j, "mem", json_pack("[s,s]", o->mem[0], o->mem[1]));
        json_object_set_new(j, "backend", json_string(o->backend));
        json_object_set_new(j, "gpus", gpus);
        json_object_set_new(j, "verbs",
                            json_pack("{s:s?, s:i, s:i, s:i, s:i, s:i}", "hca", o->verbs.hca,
                                      "gid_index", o->verbs.gid_index, "qps", o->verbs.qps,
                                      "tx_depth", o->verbs.tx_depth, "tclass", o->verbs.tclass,
                                      "sl", o->verbs.sl));
    } else {
        json_decref(gpus);
    }
    return j;
}
