/* Watchdog: a thread per rank that ends the job when the rank makes no progress for the
 * timeout, or when SIGINT/SIGTERM arrives, after rank 0 has recorded how the run ended.
 *
 * The measuring thread beats a heartbeat (one relaxed atomic increment) in its loops and
 * describes what it is about to wait on (test, size, round, peer or collective). The
 * thread never calls MPI (the program runs at MPI_THREAD_SINGLE, see rt.c): a stalled
 * rank prints what it waits on and sends a report to rank 0's watchdog over a UDP side
 * channel set up at start; rank 0 collects the reports for a few seconds, names the
 * rank(s) the others wait on that sent none (stopped, dead) or that are stuck outside
 * communication, lets the run save the results document through the hook, and every
 * rank leaves with _exit and the timeout status, so the launcher ends the job. A signal
 * handler only writes the signal number to a pipe; the watchdog thread does the rest. */
#ifndef TB_BENCH_WATCHDOG_H
#define TB_BENCH_WATCHDOG_H

#include <stdatomic.h>
#include <stddef.h>

#include "rt.h"

extern atomic_ulong tb_wd_heartbeat;

static inline void tb_wd_beat(void)
{
    atomic_fetch_add_explicit(&tb_wd_heartbeat, 1, memory_order_relaxed);
}

/* `peer` of tb_wd_context when the rank waits on no single rank. */
#define TB_WD_COLLECTIVE (-1) /* a collective over all ranks */
#define TB_WD_LOCAL (-2)      /* local work: not waiting on another rank */
#define TB_WD_LEADERS (-3)    /* a collective over the node leaders */

/* How the run ends, given to the hook on the watchdog thread. */
typedef struct tb_wd_ending {
    tb_status_t status;      /* TB_ERR_TIMEOUT or TB_ERR_INTERRUPTED */
    const char *message;     /* one line for people */
    const int *stalled;      /* timeout: the ranks that did not arrive (rank 0's view) */
    int nstalled;
    int rank0_silent;        /* on ranks other than 0: rank 0 did not answer the report */
} tb_wd_ending_t;

/* Called on the watchdog thread before the process exits: on rank 0 to save the results
 * document; on other ranks only when rank 0 did not answer (rank0_silent). */
typedef void (*tb_wd_hook_t)(void *arg, const tb_wd_ending_t *ending);

/* Collective over rt->world: rank 0 opens the side channel and every rank learns its
 * address; installs the SIGINT/SIGTERM handlers; starts the thread. */
TB_NODISCARD tb_status_t tb_wd_start(const tb_rt_t *rt, double timeout, tb_wd_hook_t hook,
                                     void *arg);
void tb_wd_stop(void);

/* What this rank is doing now: a peer's world rank or one of TB_WD_COLLECTIVE,
 * TB_WD_LOCAL, TB_WD_LEADERS. */
void tb_wd_context(const char *test, const char *variant, size_t size, int round, int peer,
                   const char *what);
/* Keeps the current context aside (restore 0) and puts it back (restore 1): for a wait
 * that interrupts a step, so a hang after it is not described as that wait. One level. */
void tb_wd_context_keep(int restore);
/* Iteration number within the current context, for the message. */
void tb_wd_iteration(long iteration);

/* Local work that makes progress without beating (rank 0 writing the document): the
 * watchdog allows it TB_WD_BUSY_FACTOR x the timeout. */
#define TB_WD_BUSY_FACTOR 10
void tb_wd_busy(int busy);

/* Completes `req` by polling, beating the heartbeat meanwhile: for waits on other ranks'
 * work (a pair test, a result being measured elsewhere), which are not this rank being
 * stuck; the ranks doing the work are watched by their own watchdogs. */
TB_NODISCARD tb_status_t tb_wd_wait_polled(MPI_Request *req);
/* The same, beating for at most `max_seconds`; after that the wait counts toward the
 * timeout (for waits on rank 0's local work, which has no watchdog of its own on the
 * other ranks' side). */
TB_NODISCARD tb_status_t tb_wd_wait_polled_for(MPI_Request *req, double max_seconds);

/* The test-only fault switch's "stop" kind: this rank stops itself (SIGSTOP, every thread
 * with it) when it first enters `test`. */
void tb_wd_stop_in(const char *test);

#endif
