/* Progress display on rank 0: which test of how many, where in it (size, round), time
 * elapsed and an estimate of what is left. A redrawn line on a terminal; plain lines at
 * most every few seconds otherwise (logs, CI, and always under mpirun, whose stderr is a
 * pipe), so long runs show they are alive without flooding. */
#ifndef TB_CORE_PROGRESS_H
#define TB_CORE_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

#define TB_PROGRESS_PLAIN_INTERVAL_S 5.0

typedef struct tb_progress {
    FILE *out;
    int tty;
    int enabled;
    double start;      /* monotonic seconds at init: "elapsed" counts from here */
    double last_print; /* monotonic seconds; < 0 before the first line */
    double interval;   /* plain-mode minimum seconds between lines */
    int line_open;     /* tty: a line is drawn and not yet cleared */
    int test_k, test_n; /* current test entry, 1-based, of test_n planned */
    char test[96];     /* what the current test is: "all_reduce (float)" */
} tb_progress_t;

void tb_progress_init(tb_progress_t *p, FILE *out, int enabled);
/* Test k of n begins (n below k is raised to k). */
void tb_progress_test(tb_progress_t *p, int k, int n, const char *label);
/* Where the current test is: `done` in [0, 1] of it finished, `fmt` says what is being
 * measured now ("64K in-place", "round 3/7"). Prints when the interval has passed. */
void tb_progress_step(tb_progress_t *p, double done, const char *fmt, ...) TB_PRINTF(3, 4);
/* Clears the redrawn line (tty) so that ordinary output follows on a clean line. */
void tb_progress_clear(tb_progress_t *p);

/* The progress line: "test K/N TEST: WHAT; M:SS elapsed, about M:SS left". The estimate
 * assumes the tests left take as long on average as those done (k - 1 + done of n after
 * `elapsed` seconds); "estimating" until 1% is done. */
void tb_progress_format(char *buf, size_t len, int k, int n, const char *test, const char *what,
                        double done, double elapsed);

double tb_now(void); /* monotonic seconds */

#endif
