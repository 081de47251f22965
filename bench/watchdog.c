/* Watchdog thread. The heartbeat is a counter, not a timestamp, so the measuring thread
 * never reads a clock for it; the watchdog samples it every 100 ms. */
#include "watchdog.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

atomic_ulong tb_wd_heartbeat;

static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int running, stop;
    const tb_rt_t *rt;
    double timeout;
    tb_wd_hook_t hook;
    void *arg;
    /* context, under lock */
    char test[48], variant[32], what[96];
    size_t size;
    int round, peer;
    atomic_long iteration;
} wd = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

void tb_wd_context(const char *test, const char *variant, size_t size, int round, int peer,
                   const char *what)
{
    pthread_mutex_lock(&wd.lock);
    snprintf(wd.test, sizeof(wd.test), "%s", test ? test : "");
    snprintf(wd.variant, sizeof(wd.variant), "%s", variant ? variant : "");
    snprintf(wd.what, sizeof(wd.what), "%s", what ? what : "");
    wd.size = size;
    wd.round = round;
    wd.peer = peer;
    atomic_store_explicit(&wd.iteration, -1, memory_order_relaxed);
    pthread_mutex_unlock(&wd.lock);
    tb_wd_beat();
}

tb_status_t tb_wd_wait_polled(MPI_Request *req)
{
    const struct timespec pause = {0, 200 * 1000};
    int done = 0;
    while (!done) {
        tb_status_t st = TB_MPI_CHECK(MPI_Test(req, &done, MPI_STATUS_IGNORE));
        if (st != TB_OK)
            return st;
        if (!done)
            nanosleep(&pause, NULL);
        tb_wd_beat();
    }
    return TB_OK;
}

void tb_wd_iteration(long iteration)
{
    atomic_store_explicit(&wd.iteration, iteration, memory_order_relaxed);
}

static void format_message(char *msg, size_t len, double stalled)
{
    char where[160] = "", peer[160] = "";
    long it = atomic_load_explicit(&wd.iteration, memory_order_relaxed);
    pthread_mutex_lock(&wd.lock);
    snprintf(where, sizeof(where), "test '%s'%s%s%s size %zu", wd.test,
             wd.variant[0] ? " (" : "", wd.variant, wd.variant[0] ? ")" : "", wd.size);
    if (wd.round > 0)
        snprintf(where + strlen(where), sizeof(where) - strlen(where), " round %d", wd.round);
    if (it >= 0)
        snprintf(where + strlen(where), sizeof(where) - strlen(where), " iteration %ld", it);
    if (wd.peer >= 0)
        snprintf(peer, sizeof(peer), "waiting on rank %d (host %s)", wd.peer,
                 tb_rt_host_of(wd.rt, wd.peer));
    else
        snprintf(peer, sizeof(peer), "%s", wd.what[0] ? wd.what : "waiting in a collective");
    snprintf(msg, len, "timeout: no progress for %.1f s in %s: %s", stalled, where, peer);
    pthread_mutex_unlock(&wd.lock);
}

static void *wd_main(void *unused)
{
    unsigned long last = atomic_load(&tb_wd_heartbeat);
    double last_change = tb_now();
    (void)unused;
    pthread_mutex_lock(&wd.lock);
    while (!wd.stop) {
        struct timespec ts;
        unsigned long now_beat;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wd.cond, &wd.lock, &ts);
        if (wd.stop)
            break;
        now_beat = atomic_load_explicit(&tb_wd_heartbeat, memory_order_relaxed);
        if (now_beat != last) {
            last = now_beat;
            last_change = tb_now();
            continue;
        }
        if (tb_now() - last_change >= wd.timeout) {
            char msg[512];
            pthread_mutex_unlock(&wd.lock);
            format_message(msg, sizeof(msg), tb_now() - last_change);
            tb_log(TB_LOG_ERROR, "%s", msg);
            if (wd.hook)
                wd.hook(wd.arg, msg);
            /* Let the other ranks print what they wait on before the job goes down;
             * rank 0 goes last so its document is written whatever happens. */
            sleep(wd.rt->rank == 0 ? 2 : 4);
            MPI_Abort(MPI_COMM_WORLD, TB_EXIT_TIMEOUT);
            _exit(TB_EXIT_TIMEOUT);
        }
    }
    pthread_mutex_unlock(&wd.lock);
    return NULL;
}

tb_status_t tb_wd_start(const tb_rt_t *rt, double timeout, tb_wd_hook_t hook, void *arg)
{
    wd.rt = rt;
    wd.timeout = timeout;
    wd.hook = hook;
    wd.arg = arg;
    wd.stop = 0;
    wd.peer = -1;
    if (pthread_create(&wd.thread, NULL, wd_main, NULL) != 0)
        return tb_error(TB_ERR_ENV, "cannot start the watchdog thread");
    wd.running = 1;
    return TB_OK;
}

void tb_wd_stop(void)
{
    if (!wd.running)
        return;
    pthread_mutex_lock(&wd.lock);
    wd.stop = 1;
    pthread_cond_signal(&wd.cond);
    pthread_mutex_unlock(&wd.lock);
    pthread_join(wd.thread, NULL);
    wd.running = 0;
}
