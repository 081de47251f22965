/* Watchdog: a thread per rank that aborts the job when the rank makes no progress for the
 * timeout. The measuring thread beats a heartbeat (one relaxed atomic increment) in its
 * loops and describes what it is about to wait on (test, size, round, peer); a stalled
 * heartbeat prints that description with host names, lets rank 0 save the results
 * document, and ends the job with the timeout exit status. */
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

/* Called on the watchdog thread when the timeout fires, before MPI_Abort (rank 0 writes
 * the results document marked "timeout" there). */
typedef void (*tb_wd_hook_t)(void *arg, const char *message);

TB_NODISCARD tb_status_t tb_wd_start(const tb_rt_t *rt, double timeout, tb_wd_hook_t hook,
                                     void *arg);
void tb_wd_stop(void);

/* What this rank is doing now; peer -1 = a collective over `group` ranks. */
void tb_wd_context(const char *test, const char *variant, size_t size, int round, int peer,
                   const char *what);
/* Iteration number within the current context, for the message. */
void tb_wd_iteration(long iteration);

/* Completes `req` by polling, beating the heartbeat meanwhile: for waits on other ranks'
 * work (a pair test, a result being measured elsewhere), which are not this rank being
 * stuck; the ranks doing the work are watched by their own watchdogs. */
TB_NODISCARD tb_status_t tb_wd_wait_polled(MPI_Request *req);

#endif
