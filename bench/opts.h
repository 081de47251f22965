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

typedef struct tb_opts {
    const char *suite;      /* quick, standard, full */
    size_t min_bytes, max_bytes;
    double step_factor;     /* multiplicative step between sizes */
    long iters;             /* fixed timed iterations; 0 = adapt to time_budget */
    long warmup;            /* fixed warm-up iterations; -1 = adapt */
    long min_iters, max_iters;
    double time_budget;     /* seconds per size (adaptive mode) */
    int check;              /* data checking on dedicated iterations */
    int check_iters;
    double timeout;         /* watchdog: seconds without progress */
    const char *outdir;
    int ntests;
    char tests[TB_MAX_TESTS][32];
    size_t matrix_bytes;    /* message size of the bandwidth matrices */
    int window;             /* OSU window of non-blocking sends */
    int npairs;             /* isolated mode pairs */
    int pairs[TB_MAX_PAIRS][2];
    int progress;           /* show progress on rank 0 */
    int quiet;              /* no terminal tables */
} tb_opts_t;

/* Parses argv (argv[0] is "run"). On --help prints the help and returns TB_OK with
 * *help_p = 1. Errors print a message naming the option (TB_ERR_USAGE). */
TB_NODISCARD tb_status_t tb_opts_parse(int argc, char **argv, tb_opts_t *opts, int *help_p);

/* Whether test `name` is selected. */
int tb_opts_has_test(const tb_opts_t *opts, const char *name);

/* The sizes of the sweep: min, min*f, ... up to max (max always included). Returns the
 * count; fills at most `cap` entries. */
size_t tb_opts_sizes(const tb_opts_t *opts, size_t *sizes, size_t cap);

/* The effective options as a jansson object (json_t *). */
void *tb_opts_to_json(const tb_opts_t *opts);

#endif
