/* Options of `topobench run`, declared as one table (opts.c) that drives parsing, the
 * --help text and the "options" object of the results document. */
#ifndef TB_BENCH_OPTS_H
#define TB_BENCH_OPTS_H

#include <stddef.h>

#include "status.h"

#define TB_MAX_TESTS 32
#define TB_MAX_PAIRS 256
#define TB_MAX_SIZES 256
/* Largest message of a point-to-point or matrix test (counts are ints in MPI). */
#define TB_MAX_MESSAGE_BYTES ((size_t)1 << 30)

/* Options of the nccl_* tests, with nccl-tests' letters and meaning (README, "NCCL
 * collectives"). */
typedef struct tb_nccl_opts {
    const char *lib;   /* --nccl-lib PATH; NULL: TOPOBENCH_NCCL_LIB, else libnccl.so.2 */
    const char *dtype; /* -d: nccl-tests' type name, or "all" (default "float") */
    const char *op;    /* --op (nccl-tests' -o): sum prod max min avg, or "all" */
    int root;          /* -r: root of broadcast and reduce; -1: every rank in turn ("all") */
    int blocking;      /* -z 0..3 */
    int graph;         /* -G: CUDA graph launches of the captured iterations; 0 none */
    int average;       /* -a: time over ranks: 0 rank 0, 1 mean (default), 2 min, 3 max */
    int batches;       /* timed batches per size (topobench's spread beside the figure) */
} tb_nccl_opts_t;

/* Options of the verbs_* and gdr tests (bench/verbs, docs/verbs.md), perftest's meaning. */
typedef struct tb_verbs_opts {
    const char *hca; /* --hca DEV[:PORT]; NULL: per rank the RDMA NIC nearest its GPU/cores */
    int gid_index;   /* --gid-index (perftest -x); -1: chosen from the GID table */
    int qps;         /* --qps (perftest -q) */
    int tx_depth;    /* --tx-depth (perftest -t) */
    int tclass;      /* --tclass: GRH traffic class (perftest --tclass, NCCL_IB_TC) */
    int sl;          /* --sl: service level (perftest --sl, NCCL_IB_SL) */
} tb_verbs_opts_t;

typedef struct tb_opts {
    const char *suite;      /* quick, standard, full */
    size_t min_bytes, max_bytes;
    double step_factor;     /* multiplicative step between sizes */
    long iters;             /* fixed timed iterations; 0 = adapt to time_budget */
    long warmup;            /* fixed warm-up iterations; -1 = adapt */
    long min_iters, max_iters;
    double time_budget;     /* seconds per size (adaptive mode) */
    int check;              /* data checking on dedicated iterations */
    int check_iters;        /* how many (-c N, nccl-tests' meaning; -c 1 is one) */
    double timeout;         /* watchdog: seconds without progress */
    const char *outdir;
    int outdir_given;       /* -o given; otherwise a new directory under TB_DEFAULT_OUTDIR */
    char outdir_buf[4096];
    int ntests;
    char tests[TB_MAX_TESTS][32];
    size_t matrix_bytes;    /* message size of the bandwidth matrices */
    int window;             /* OSU window of non-blocking sends */
    int npairs;             /* isolated mode pairs */
    int pairs[TB_MAX_PAIRS][2];
    int progress;           /* show progress on rank 0 */
    int analyze;            /* rank 0 analyses the document at the end (topo/analysis) */
    int retest;             /* measure the analysis's suspect pairs again in isolation */
    double mad_k, min_drop; /* the analysis's outlier thresholds; 0 = its defaults */
    int quiet;              /* no terminal tables */
    tb_nccl_opts_t nccl;
    size_t copy_bytes;      /* gpu_copy: buffer of each copy (nvbandwidth: 512 MiB) */
    int copy_samples;       /* gpu_copy: timed batches per cell, the median reported */
    /* Memory kinds of the send and the receive buffers (--mem KIND[,KIND]): "host",
     * "pinned", "device", "managed"; one kind given is both. */
    char mem[2][16];
    char backend[8];        /* --backend: transport of the p2p tests and matrices (xport.h) */
    int ngpus;              /* --gpus: device of local rank i is gpus[i % ngpus]; 0 unset */
    int gpus[64];
    tb_verbs_opts_t verbs;
} tb_opts_t;

/* Whether either memory kind of --mem needs a GPU (anything but host). */
int tb_opts_mem_needs_gpu(const tb_opts_t *opts);

/* Parent of the default output directory: each run without -o gets a new
 * TB_DEFAULT_OUTDIR/YYYYMMDD-HHMMSS (with -2, -3, ... when two start in the same second). */
#define TB_DEFAULT_OUTDIR "topobench-results"

/* Parses argv (argv[0] is "run"). On --help returns TB_OK with *help_p = 1 (printing is
 * the caller's: tb_opts_print_help). Errors print a message naming the option and, for
 * numbers, the accepted range (TB_ERR_USAGE). */
TB_NODISCARD tb_status_t tb_opts_parse(int argc, char **argv, tb_opts_t *opts, int *help_p);
void tb_opts_print_help(void);

/* Before MPI is initialised: whether argv asks for --help; if so the help is printed once
 * (by the launcher's rank 0, or by a process started without a launcher). */
int tb_opts_help_requested(int argc, char **argv);

/* What needs the job's size: --pairs name existing ranks. TB_ERR_USAGE otherwise. */
TB_NODISCARD tb_status_t tb_opts_check_job(const tb_opts_t *opts, int nranks);

/* Rank 0: creates the output directory. With -o, DIR (mkdir -p; an existing results.json
 * there is replaced, with a warning); without, a new directory under TB_DEFAULT_OUTDIR,
 * never an existing one; opts->outdir then names it. TB_ERR_ENV when it cannot. */
TB_NODISCARD tb_status_t tb_opts_outdir_create(tb_opts_t *opts);

/* Whether test `name` is selected. */
int tb_opts_has_test(const tb_opts_t *opts, const char *name);

/* The sizes of the sweep: min, min*f, ... up to max (max always included). Returns the
 * count; fills at most `cap` entries. */
size_t tb_opts_sizes(const tb_opts_t *opts, size_t *sizes, size_t cap);

/* The effective options as a jansson object (json_t *). */
void *tb_opts_to_json(const tb_opts_t *opts);

#endif
