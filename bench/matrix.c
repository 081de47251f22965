/* All-pairs bandwidth and latency matrices with the shift pattern, and the isolated mode.
 *
 * Shift pattern (mpiGraph's): in round d (1..N-1) rank r sends to r+d and receives from
 * r-d, all pairs of the round at once, so a matrix costs N-1 rounds. In each repetition of
 * a round every rank posts a window of receives from r-d and a window of sends to r+d,
 * after two barriers (the first polled, as it may wait long on the previous repetition's
 * slowest pair; the second short, so the ranks start together). The receives' and the
 * sends' completions are timed apart from that start: the receive time gives the
 * bandwidth from r-d into r, the send time the bandwidth r pushed to r+d. A window (many
 * megabytes, not one message) makes a fixed per-repetition cost (barrier skew, wake-up
 * of a descheduled rank, rendezvous) small beside the transfer, so it does not compress
 * the ratios between slow and healthy pairs. Each cell is window x size over the mean
 * time of the repetitions (mpiGraph's definition: it sums its per-repetition times),
 * with its spread (coefficient of variation of the repetition times).
 *
 * Latency is a concurrent ping-pong in which every rank pings r+d and answers r-d, half
 * the round trip. Every round ends with dedicated check repetitions carrying the
 * (rank, iteration, size) pattern of harness.h, for the window and for the ping-pong.
 *
 * Waiting never spins for long: requests are completed by polling the transport (testall)
 * that spins for the first 20 us (a ping-pong's wait), then yields the CPU (sched_yield) up
 * to 1 ms, then sleeps for 1/128 of the time waited so far (at most 1 ms) between polls. On
 * an idle core a yield returns at once, so short waits keep a spin's precision; on an
 * oversubscribed machine (ranks > cores, the virtual cluster) a rank waiting on a slow peer
 * no longer takes the CPU from the ranks that do the work. The sleep overshoots a
 * completion by at most 1/128 (< 0.8%) of the time measured plus the wake-up latency (the
 * timer slack is set to 1 us while a matrix runs). That bound holds only where the transfer
 * goes on while the rank sleeps (MPI's own progress, the NIC): a transport that moves data
 * only inside its progress call (UCX: ucp_worker_progress copies, pulls or pushes the next
 * fragment) would stall with the rank, so while its own requests are pending such a rank
 * only yields, never sleeps. Waits on a barrier (wait_mpi) may sleep: a peer then owes it
 * nothing but a short acknowledgement. Open MPI's mpi_yield_when_idle would only yield, and
 * only where the launcher or user set it, and other MPI libraries have no such switch.
 *
 * Each rank keeps one row of each matrix (O(N)); comm rank 0 gathers the N x N matrices
 * one at a time (O(N^2)).
 *
 * Memory kinds (--mem): the windows and the ping-pong buffers live in the send and
 * receive kinds (mem.h); checks fill and verify their host views. Device buffers that MPI
 * cannot take are staged through pinned host memory inside the timed repetition: the
 * window is copied device -> host after the receives are posted and before the sends,
 * and host -> device after the receives completed (the receive time then ends when that
 * copy did); each ping and pong is copied out before it is sent and in after it
 * arrived. */
#include "matrix.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "doc.h"
#include "gpu.h"
#include "harness.h"
#include "stats.h"
#include "units.h"
#include "watchdog.h"
#include "xport.h"

#define TAG_BW 21
#define TAG_PING 22
#define TAG_PONG 23
#define TAG_RESULT 31
#define LAT_BYTES 8
/* A window moves up to this many bytes per pair and repetition (at least one message,
 * at most --window messages). */
#define WINDOW_BYTES ((size_t)16 << 20)
#define MAX_REPS 200
#define SPIN_S 20e-6         /* poll without yielding for the first 20 us of a wait */
#define YIELD_S 1e-3         /* yield, not sleep, for the first millisecond of a wait */
#define PAUSE_FRACTION 128.0 /* then sleep 1/128 of the time waited */
#define PAUSE_MAX_S 1e-3

/* A failed MPI call inside a round leaves the other ranks blocked in theirs: end the job
 * (no figure is recorded from it). XMUST: the same for a transport's call. */
#define MUST(call)                                                                                 \
    do {                                                                                           \
        tb_status_t must_st_ = TB_MPI_CHECK(call);                                                 \
        if (must_st_ != TB_OK)                                                                     \
            tb_rt_abort(must_st_, "matrix round");                                                 \
    } while (0)
#define XMUST(call)                                                                                \
    do {                                                                                           \
        tb_status_t xmust_st_ = (call);                                                            \
        if (xmust_st_ != TB_OK)                                                                    \
            tb_rt_abort(xmust_st_, "matrix round");                                                \
    } while (0)

static int reps_for(const tb_opts_t *o, double est, int lo, int hi)
{
    double r = o->time_budget / (est > 0 ? est : 1e-9);
    if (o->iters > 0)
        return (int)(o->iters < hi ? (o->iters > lo ? o->iters : lo) : hi);
    if (!(r >= lo))
        return lo;
    return r > hi ? hi : (int)r;
}

/* Gives the CPU away while waiting `waited` seconds on other ranks (see the top); never
 * sleeps unless `may_sleep`. */
static void pause_waiting(double waited, int may_sleep)
{
    double p;
    struct timespec ts;
    if (waited < SPIN_S)
        return;
    if (waited < YIELD_S || !may_sleep) {
        sched_yield();
        return;
    }
    p = waited / PAUSE_FRACTION;
    if (p > PAUSE_MAX_S)
        p = PAUSE_MAX_S;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)(p * 1e9);
    nanosleep(&ts, NULL);
}

/* Completes the transport's request slots [first, first + nrecv) and then nsend more by
 * polling, and notes when each group completed, in seconds since t0 (t_recv, t_send NULL:
 * not timed). The first polls read no clock, so a short wait costs what MPI_Wait would.
 * A transport that progresses only when polled is never left asleep (see the top). */
static void wait_apart(tb_xport_t *x, int first, int nrecv, int nsend, double t0, double *t_recv,
                       double *t_send)
{
    int rdone = nrecv == 0, sdone = nsend == 0, polls = 0;
    double since = 0;
    while (!rdone || !sdone) {
        if (!rdone) {
            XMUST(x->ops->testall(x, first, nrecv, &rdone));
            if (rdone && t_recv)
                *t_recv = MPI_Wtime() - t0;
        }
        if (!sdone) {
            XMUST(x->ops->testall(x, first + nrecv, nsend, &sdone));
            if (sdone && t_send)
                *t_send = MPI_Wtime() - t0;
        }
        if ((rdone && sdone) || ++polls < 64)
            continue;
        if (polls == 64)
            since = MPI_Wtime();
        pause_waiting(MPI_Wtime() - since, x->ops->progress == NULL);
    }
}

/* Waits on an MPI request (a non-blocking collective) the same way, driving the transport
 * meanwhile: UCX progresses only when asked, and a rank whose requests completed may still
 * owe a peer its rendezvous acknowledgement (xport.h, tb_xport_wait_mpi). No blocking MPI
 * call is made while a peer may still wait on a transfer. */
static void wait_mpi(tb_xport_t *x, MPI_Request *bar)
{
    int done = 0, polls = 0;
    double since = 0;
    for (;;) {
        MUST(MPI_Test(bar, &done, MPI_STATUS_IGNORE));
        if (done)
            return;
        if (x->ops->progress)
            x->ops->progress(x);
        if (++polls < 64)
            continue;
        if (polls == 64)
            since = MPI_Wtime();
        pause_waiting(MPI_Wtime() - since, 1);
    }
}

/* The largest of every rank's `local`, reduced while the transport is driven (wait_mpi). */
static double max_driven(tb_xport_t *x, MPI_Comm comm, double local)
{
    MPI_Request rq;
    double max = 0;
    MUST(MPI_Iallreduce(&local, &max, 1, MPI_DOUBLE, MPI_MAX, comm, &rq));
    wait_mpi(x, &rq);
    return max;
}

/* A failed staging copy inside a round ends the job, as a failed MPI call does. */
#define STAGE(call)                                                                                \
    do {                                                                                           \
        tb_status_t stage_st_ = (call);                                                            \
        if (stage_st_ != TB_OK)                                                                    \
            tb_rt_abort(stage_st_, "matrix round: staging a device buffer");                       \
    } while (0)

/* One round's bandwidth state: a window of `window` messages of `bytes` each way, in the
 * transport's slots 0..window-1 (receives) and window..2 window-1 (sends). */
typedef struct {
    MPI_Comm comm;
    tb_xport_t *x;
    int window;
    size_t bytes;
    const tb_cuda_t *cu;
    tb_xferbuf_t xs, xr;        /* window x bytes each, in the send and receive kinds */
    unsigned char *sbuf, *rbuf; /* what the transport is given (the buffers, or their staging) */
    unsigned char *shost, *rhost; /* host views, filled and checked */
    /* The slow-link test fault (suite.h): the window to or from `slow_peer` (comm rank,
     * -1 none) is posted TB_FAULT_SLOW_DELAY_S late in timed repetitions. */
    int slow_peer;
} bw_t;

static void post_recvs(bw_t *b, int src)
{
    for (int w = 0; w < b->window; w++)
        XMUST(b->x->ops->irecv(b->x, w, b->rbuf + (size_t)w * b->bytes, b->bytes, src, TAG_BW));
}

static void post_sends(bw_t *b, int dst)
{
    STAGE(tb_xferbuf_stage_out(&b->xs, b->cu, 0, b->bytes * (size_t)b->window));
    for (int w = 0; w < b->window; w++)
        XMUST(b->x->ops->isend(b->x, b->window + w, b->sbuf + (size_t)w * b->bytes, b->bytes, dst,
                               TAG_BW));
}

/* One bandwidth repetition: receive a window from src while sending one to dst. */
static void bw_rep(bw_t *b, int src, int dst, int slow, double *t_send, double *t_recv)
{
    MPI_Request bar;
    double t0;
    int late_r = slow && src == b->slow_peer, late_s = slow && dst == b->slow_peer;
    MUST(MPI_Ibarrier(b->comm, &bar));
    wait_mpi(b->x, &bar);
    /* every rank's previous transfers completed: nothing is owed, a blocking call is safe */
    MUST(MPI_Barrier(b->comm));
    t0 = MPI_Wtime();
    if (!late_r)
        post_recvs(b, src);
    if (!late_s)
        post_sends(b, dst);
    if (late_r || late_s) {
        /* the test fault: the other side's transfer goes on while the slow one waits */
        int rdone = late_r, sdone = late_s;
        struct timespec ts = {0, 200 * 1000};
        while (MPI_Wtime() - t0 < TB_FAULT_SLOW_DELAY_S) {
            if (!rdone) {
                XMUST(b->x->ops->testall(b->x, 0, b->window, &rdone));
                if (rdone)
                    *t_recv = MPI_Wtime() - t0;
            }
            if (!sdone) {
                XMUST(b->x->ops->testall(b->x, b->window, b->window, &sdone));
                if (sdone)
                    *t_send = MPI_Wtime() - t0;
            }
            nanosleep(&ts, NULL);
        }
        if (late_r)
            post_recvs(b, src);
        if (late_s)
            post_sends(b, dst);
        if (late_r || !rdone)
            wait_apart(b->x, 0, b->window, 0, t0, t_recv, NULL);
        if (late_s || !sdone)
            wait_apart(b->x, b->window, 0, b->window, t0, NULL, t_send);
    } else {
        wait_apart(b->x, 0, b->window, b->window, t0, t_recv, t_send);
    }
    if (b->xr.stage) {
        STAGE(tb_xferbuf_stage_in(&b->xr, b->cu, 0, b->bytes * (size_t)b->window));
        *t_recv = MPI_Wtime() - t0;
    }
    tb_wd_beat();
}

/* The ping-pong buffers: received ([0] the pong from dst, [1] the ping from src) in the
 * receive kind, sent ([0] the ping to dst, [1] the pong to src) in the send kind,
 * LAT_BYTES each. */
enum { LAT_PONG_IN, LAT_PING_IN };
enum { LAT_PING_OUT, LAT_PONG_OUT };
typedef struct {
    MPI_Comm comm;
    tb_xport_t *x;
    int slot; /* the transport's slots slot..slot+3: pong in, ping in, ping out, pong out */
    const tb_cuda_t *cu;
    tb_xferbuf_t xs, xr;
    unsigned char *in, *out;       /* what the transport is given */
    unsigned char *in_host, *out_host;
} lat_t;

/* One concurrent ping-pong: ping dst, answer src. Returns half the round trip to dst. */
static double lat_rep(lat_t *l, int src, int dst)
{
    tb_xport_t *x = l->x;
    int q = l->slot;
    double t0, t = 0;
    t0 = MPI_Wtime();
    XMUST(x->ops->irecv(x, q, l->in + LAT_PONG_IN * LAT_BYTES, LAT_BYTES, dst, TAG_PONG));
    XMUST(x->ops->irecv(x, q + 1, l->in + LAT_PING_IN * LAT_BYTES, LAT_BYTES, src, TAG_PING));
    STAGE(tb_xferbuf_stage_out(&l->xs, l->cu, LAT_PING_OUT * LAT_BYTES, LAT_BYTES));
    XMUST(x->ops->isend(x, q + 2, l->out + LAT_PING_OUT * LAT_BYTES, LAT_BYTES, dst, TAG_PING));
    wait_apart(x, q + 1, 1, 0, 0, NULL, NULL);
    STAGE(tb_xferbuf_stage_in(&l->xr, l->cu, LAT_PING_IN * LAT_BYTES, LAT_BYTES));
    STAGE(tb_xferbuf_stage_out(&l->xs, l->cu, LAT_PONG_OUT * LAT_BYTES, LAT_BYTES));
    XMUST(x->ops->isend(x, q + 3, l->out + LAT_PONG_OUT * LAT_BYTES, LAT_BYTES, src, TAG_PONG));
    wait_apart(x, q, 1, 0, t0, &t, NULL);
    if (l->xr.stage) {
        STAGE(tb_xferbuf_stage_in(&l->xr, l->cu, LAT_PONG_IN * LAT_BYTES, LAT_BYTES));
        t = MPI_Wtime() - t0;
    }
    wait_apart(x, q + 2, 2, 0, 0, NULL, NULL);
    tb_wd_beat();
    return t / 2;
}

/* Host views -> buffers after a fill, received buffer -> its host view before a check. */
static void push_pull(const tb_xferbuf_t *s_, const tb_xferbuf_t *r, const tb_cuda_t *cu,
                      size_t n, int pull)
{
    tb_status_t st = pull ? tb_membuf_pull(&r->mem, cu, n)
                          : tb_membuf_push(&s_->mem, cu, n);
    if (st == TB_OK && !pull)
        st = tb_membuf_push(&r->mem, cu, n);
    if (st)
        tb_rt_abort(st, "matrix round: copying the check data");
}

/* A receiver's first wrong data of one measurement, with who sent it. */
typedef struct {
    tb_mismatch_t mm;
    int from; /* world rank */
} bad_t;

static void note_bad(bad_t *bad, const tb_mismatch_t *one, int from)
{
    if (!bad->mm.wrong) {
        bad->mm = *one;
        bad->from = from;
    } else {
        bad->mm.wrong += one->wrong;
    }
}

/* Check repetition of round d's bandwidth: every message of the window carries its own
 * pattern (iteration d x window + w). */
static void bw_check(tb_suite_t *s, const char *name, const char *level, bw_t *b, int d, int src,
                     int dst, int my_world, int src_world, bad_t *bad)
{
    tb_mismatch_t one = {0};
    double ts, tr;
    for (int w = 0; w < b->window; w++) {
        long iter = (long)d * b->window + w;
        tb_pattern_fill_bytes(b->shost + (size_t)w * b->bytes, b->bytes,
                   tb_pattern_seed(my_world, iter, b->bytes), 0);
        tb_pattern_fill_bytes(b->rhost + (size_t)w * b->bytes, b->bytes,
                   tb_pattern_seed(src_world, iter, b->bytes), 1);
    }
    push_pull(&b->xs, &b->xr, b->cu, b->bytes * (size_t)b->window, 0);
    tb_wd_iteration(-1);
    bw_rep(b, src, dst, 0, &ts, &tr);
    push_pull(&b->xs, &b->xr, b->cu, b->bytes * (size_t)b->window, 1);
    if (tb_suite_fault(s, "corrupt", name))
        b->rhost[0] ^= 0x5a;
    for (int w = 0; w < b->window; w++) {
        long iter = (long)d * b->window + w;
        tb_pattern_check_bytes(b->rhost + (size_t)w * b->bytes, b->bytes,
                    tb_pattern_seed(src_world, iter, b->bytes), (size_t)w * b->bytes, &one);
    }
    if (one.wrong) {
        tb_log(TB_LOG_ERROR,
               "data corruption: test '%s' (%s) size %zu round %d: %zu wrong bytes from rank %d "
               "(host %s), first at offset %zu of the %d-message window",
               name, level, b->bytes, d, one.wrong, src_world, tb_rt_host_of(s->rt, src_world),
               one.first_offset, b->window);
        note_bad(bad, &one, src_world);
    }
}

/* Check repetition of round d's ping-pong: the ping carries the pinger's pattern of
 * iteration 2d, the pong the answerer's of iteration 2d + 1. */
static void lat_check(tb_suite_t *s, const char *name, const char *level, lat_t *l, int d,
                      int src, int dst, const int *world_of, int my_world, bad_t *bad)
{
    char fault[48];
    tb_mismatch_t ping = {0}, pong = {0};
    uint64_t ping_in = tb_pattern_seed(world_of[src], 2L * d, LAT_BYTES);
    uint64_t pong_in = tb_pattern_seed(world_of[dst], 2L * d + 1, LAT_BYTES);
    tb_pattern_fill_bytes(l->out_host + LAT_PING_OUT * LAT_BYTES, LAT_BYTES,
               tb_pattern_seed(my_world, 2L * d, LAT_BYTES), 0);
    tb_pattern_fill_bytes(l->out_host + LAT_PONG_OUT * LAT_BYTES, LAT_BYTES,
               tb_pattern_seed(my_world, 2L * d + 1, LAT_BYTES), 0);
    tb_pattern_fill_bytes(l->in_host + LAT_PING_IN * LAT_BYTES, LAT_BYTES, ping_in, 1);
    tb_pattern_fill_bytes(l->in_host + LAT_PONG_IN * LAT_BYTES, LAT_BYTES, pong_in, 1);
    push_pull(&l->xs, &l->xr, l->cu, 2 * LAT_BYTES, 0);
    (void)lat_rep(l, src, dst);
    push_pull(&l->xs, &l->xr, l->cu, 2 * LAT_BYTES, 1);
    snprintf(fault, sizeof(fault), "%s_latency", name);
    if (tb_suite_fault(s, "corrupt", fault))
        l->in_host[LAT_PING_IN * LAT_BYTES] ^= 0x5a;
    tb_pattern_check_bytes(l->in_host + LAT_PING_IN * LAT_BYTES, LAT_BYTES, ping_in, 0, &ping);
    tb_pattern_check_bytes(l->in_host + LAT_PONG_IN * LAT_BYTES, LAT_BYTES, pong_in, 0, &pong);
    for (int k = 0; k < 2; k++) {
        const tb_mismatch_t *one = k ? &pong : &ping;
        int from = world_of[k ? dst : src];
        if (!one->wrong)
            continue;
        tb_log(TB_LOG_ERROR,
               "data corruption: test '%s' (%s) latency size %d round %d: %zu wrong bytes in "
               "the %s from rank %d (host %s), first at offset %zu",
               name, level, LAT_BYTES, d, one->wrong, k ? "pong" : "ping", from,
               tb_rt_host_of(s->rt, from), one->first_offset);
        note_bad(bad, one, from);
    }
}

/* Gathers one row per rank into the N x N matrix `key` of the entry's matrix object
 * (comm rank 0), transposed when each rank's row is a column of the document's
 * [sender][receiver] layout, and stores it through the document's matrix API (inline, or a
 * side file beside results.json for large N). Returns the storing status at rank 0. */
static tb_status_t gather_matrix(tb_suite_t *s, MPI_Comm comm, int n, int me, const double *row,
                                 int transpose, json_t *mobj, const char *stem, const char *key)
{
    size_t nn = (size_t)n * (size_t)n;
    double *all = me == 0 ? tb_rt_gather_buffer(sizeof(double) * nn) : NULL;
    char dir[sizeof(s->results_path)], *slash;
    tb_status_t st;
    MUST(MPI_Gather(row, n, MPI_DOUBLE, all, n, MPI_DOUBLE, 0, comm));
    if (me != 0)
        return TB_OK;
    if (transpose)
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                double t = all[(size_t)i * n + j];
                all[(size_t)i * n + j] = all[(size_t)j * n + i];
                all[(size_t)j * n + i] = t;
            }
    snprintf(dir, sizeof(dir), "%s", s->results_path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    pthread_mutex_lock(&s->doc_lock);
    st = tb_doc_matrix_set(mobj, key, all, (size_t)n, dir, stem);
    pthread_mutex_unlock(&s->doc_lock);
    free(all);
    return st;
}

/* Each receiver's first wrong data of bandwidth and latency, with who sent it, into the
 * entry's errors (comm rank 0). */
static void collect_errors(tb_suite_t *s, json_t *entry, MPI_Comm comm, int n, int me, int my_world,
                           const bad_t bad[2])
{
    double mine[2][3], *all = NULL;
    static const char *what[2] = {"bandwidth", "latency"};
    for (int k = 0; k < 2; k++) {
        mine[k][0] = (double)bad[k].mm.wrong;
        mine[k][1] = (double)bad[k].mm.first_offset;
        mine[k][2] = (double)bad[k].from;
    }
    if (me == 0)
        all = tb_rt_gather_buffer(sizeof(mine) * (size_t)n + sizeof(int) * (size_t)n);
    MUST(MPI_Gather(mine, 6, MPI_DOUBLE, all, 6, MPI_DOUBLE, 0, comm));
    {
        int *worlds = all ? (int *)(all + 6 * (size_t)n) : NULL;
        MUST(MPI_Gather(&my_world, 1, MPI_INT, worlds, 1, MPI_INT, 0, comm));
        for (int r = 0; all && r < n; r++)
            for (int k = 0; k < 2; k++) {
                const double *e = all + 6 * (size_t)r + 3 * k;
                if (e[0] > 0)
                    tb_suite_add_error(
                        s, entry,
                        json_pack("{s:I, s:s, s:i, s:s, s:i, s:I, s:I}", "size",
                                  (json_int_t)(k ? LAT_BYTES : s->opts->matrix_bytes),
                                  "measurement", what[k], "rank", worlds[r], "host",
                                  tb_rt_host_of(s->rt, worlds[r]), "from_rank", (int)e[2], "offset",
                                  (json_int_t)e[1], "wrong", (json_int_t)e[0]));
            }
    }
    free(all);
}

/* Bandwidth from the mean time of the repetitions, and their spread. */
static void cell_of(double *times, int reps, double bytes, double *gbps, double *cv)
{
    tb_stats_t st;
    tb_stats_compute(times, (size_t)reps, &st);
    *gbps = tb_gbps(bytes, st.mean);
    *cv = st.cv;
}

/* A pair of buffers of `bytes` each in the send and receive kinds of --mem; *cu_p is the
 * runtime they need (NULL for host memory). Rank 0 of `entry` records how the transport
 * reaches them. */
static tb_status_t kind_buffers(tb_suite_t *s, json_t *entry, size_t bytes, tb_xferbuf_t *xs,
                                tb_xferbuf_t *xr, const tb_cuda_t **cu_p)
{
    const tb_gpu_t *g = s->gpu;
    const tb_mem_kind_t *ks = tb_mem_kind_find(s->opts->mem[0]),
                        *kr = tb_mem_kind_find(s->opts->mem[1]);
    int aware = tb_xport_device_memory(s);
    tb_status_t st;
    if (!ks)
        ks = tb_mem_kind(TB_MEM_HOST);
    if (!kr)
        kr = tb_mem_kind(TB_MEM_HOST);
    *cu_p = g && g->ok ? g->cu : NULL;
    if ((ks->needs_gpu || kr->needs_gpu) && !*cu_p)
        return tb_error(TB_ERR_ENV, "--mem %s,%s needs a GPU: %s", ks->name, kr->name,
                        g && g->why[0] ? g->why : "none usable");
    if (entry) {
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(entry, "transfer", json_string(tb_mem_transfer(ks, kr, aware)));
        pthread_mutex_unlock(&s->doc_lock);
    }
    if ((st = tb_xferbuf_alloc(xs, ks, *cu_p, bytes, aware)))
        return st;
    if ((st = tb_xferbuf_alloc(xr, kr, *cu_p, bytes, aware)))
        tb_xferbuf_free(xs, *cu_p);
    return st;
}

tb_status_t tb_matrix_run(tb_suite_t *s, const char *name, const char *level, MPI_Comm comm)
{
    const tb_opts_t *o = s->opts;
    enum { RECV, RECV_CV, SEND, SEND_CV, LAT, NROWS };
    int n, me, my_world = s->rt->rank, *world_of = NULL, *reps_of = NULL;
    double *rows = NULL, *tsend = NULL, *trecv = NULL;
    lat_t lat;
    json_t *entry = NULL, *mobj = NULL;
    tb_status_t st = TB_OK;
    bad_t bad[2];
    unsigned long long wrong, wrong_total = 0;
    double t_start = 0, elapsed;
    bw_t b;
    tb_doc_keys_t keys;
    tb_xport_t x;
    const char *why;
#ifdef __linux__
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
#endif

    memset(&b, 0, sizeof(b));
    memset(&lat, 0, sizeof(lat));
    memset(bad, 0, sizeof(bad));
    memset(&x, 0, sizeof(x));
    MUST(MPI_Comm_size(comm, &n));
    MUST(MPI_Comm_rank(comm, &me));
    b.comm = comm;
    b.bytes = o->matrix_bytes;
    b.window = (int)(WINDOW_BYTES / b.bytes);
    if (b.window < 1)
        b.window = 1;
    if (b.window > o->window)
        b.window = o->window;
    keys = tb_suite_keys_mem(s, "byte", NULL, level);
    if (me == 0)
        entry =
            tb_suite_begin_test(s, name, "matrix", &keys,
                                json_pack("{s:I, s:i, s:i}", "size", (json_int_t)o->matrix_bytes,
                                          "ranks", n, "window", b.window));
    why = n < 2 ? (strcmp(level, "node") ? "needs at least 2 ranks" : "needs at least 2 nodes")
                : tb_xport_mem_skip_reason(s);
    if (why) {
        if (entry)
            tb_suite_end_test(s, entry, "skipped", why);
        return TB_OK;
    }
    rows = malloc(sizeof(double) * NROWS * (size_t)n);
    tsend = malloc(sizeof(double) * 4 * MAX_REPS);
    trecv = malloc(sizeof(double) * 4 * MAX_REPS);
    world_of = calloc((size_t)n, sizeof(int));
    reps_of = calloc((size_t)n, sizeof(int));
    b.comm = lat.comm = comm;
    b.x = lat.x = &x;
    lat.slot = 2 * b.window;
    if (!rows || !tsend || !trecv || !world_of || !reps_of)
        st = tb_error(TB_ERR_ENV, "%s: cannot allocate buffers for a window of %d x %zu bytes",
                      name, b.window, o->matrix_bytes);
    if (st == TB_OK)
        st = tb_xport_open(s, comm, 2 * b.window + 4, &x);
    if (st == TB_OK)
        st = kind_buffers(s, entry, b.bytes * (size_t)b.window, &b.xs, &b.xr, &b.cu);
    if (st == TB_OK)
        st = kind_buffers(s, NULL, 2 * LAT_BYTES, &lat.xs, &lat.xr, &lat.cu);
    if ((st = tb_rt_agree_comm(comm, st)))
        goto out;
    b.sbuf = b.xs.mpi;
    b.rbuf = b.xr.mpi;
    b.shost = b.xs.mem.host;
    b.rhost = b.xr.mem.host;
    lat.out = lat.xs.mpi;
    lat.in = lat.xr.mpi;
    lat.out_host = lat.xs.mem.host;
    lat.in_host = lat.xr.mem.host;
    MUST(MPI_Allgather(&my_world, 1, MPI_INT, world_of, 1, MPI_INT, comm));
    b.slow_peer = -1;
    for (int r = 0; r < n; r++)
        if (r != me && tb_suite_fault_slow(s, name, world_of[r]))
            b.slow_peer = r;
    for (int k = 0; k < NROWS; k++)
        rows[(size_t)k * n + me] = NAN;
#ifdef __linux__
    (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#endif
    t_start = MPI_Wtime();

    for (int d = 1; d < n; d++) {
        int dst = (me + d) % n, src = (me - d + n) % n, reps;
        double est = 0, local, ts, tr, bytes = (double)b.bytes * b.window;
        if (me == 0)
            tb_progress_step(&s->progress, (double)(d - 1) / (n - 1), "round %d/%d", d, n - 1);
        tb_wd_context(name, level, o->matrix_bytes, d, world_of[src], NULL);
        /* Bandwidth: one calibration repetition (it also opens lazy connections), then as
         * many as the budget allows, the same count on every rank. */
        bw_rep(&b, src, dst, 1, &ts, &tr);
        local = ts > tr ? ts : tr;
        est = max_driven(&x, comm, local);
        reps = reps_for(o, est, 3, MAX_REPS);
        reps_of[d] = reps;
        for (int i = 0; i < reps; i++) {
            tb_wd_iteration(i);
            bw_rep(&b, src, dst, 1, &tsend[i], &trecv[i]);
        }
        cell_of(trecv, reps, bytes, &rows[RECV * (size_t)n + src],
                &rows[RECV_CV * (size_t)n + src]);
        cell_of(tsend, reps, bytes, &rows[SEND * (size_t)n + dst],
                &rows[SEND_CV * (size_t)n + dst]);
        if (o->check)
            bw_check(s, name, level, &b, d, src, dst, my_world, world_of[src], &bad[0]);
        /* Latency: concurrent ping-pong. */
        tb_wd_context(name, level, LAT_BYTES, d, world_of[src], NULL);
        local = lat_rep(&lat, src, dst);
        est = max_driven(&x, comm, local);
        reps = reps_for(o, 2 * est, 10, 4 * MAX_REPS);
        for (int i = 0; i < reps; i++) {
            tb_wd_iteration(i);
            trecv[i] = lat_rep(&lat, src, dst);
        }
        {
            tb_stats_t lst;
            tb_stats_compute(trecv, (size_t)reps, &lst);
            rows[LAT * (size_t)n + dst] = lst.mean * 1e6;
        }
        if (o->check)
            lat_check(s, name, level, &lat, d, src, dst, world_of, my_world, &bad[1]);
        tb_wd_iteration(-1);
    }
    {
        /* the last round's transfers completed everywhere before the blocking gathers */
        MPI_Request bar;
        MUST(MPI_Ibarrier(comm, &bar));
        wait_mpi(&x, &bar);
    }
#ifdef __linux__
    if (slack > 0)
        (void)prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
#endif

    elapsed = MPI_Wtime() - t_start;
    if (me == 0) {
        json_t *labels = json_array(), *ranks = json_array(), *reps = json_array();
        for (int i = 0; i < n; i++) {
            char label[TB_HOST_LEN + 16];
            snprintf(label, sizeof(label), "%s:%d", tb_rt_host_of(s->rt, world_of[i]), world_of[i]);
            json_array_append_new(labels, json_string(label));
            json_array_append_new(ranks, json_integer(world_of[i]));
            if (i > 0)
                json_array_append_new(reps, json_integer(reps_of[i]));
        }
        mobj =
            json_pack("{s:s, s:I, s:i, s:i, s:o, s:f, s:o, s:o}", "level", level, "size",
                      (json_int_t)o->matrix_bytes, "window", b.window, "rounds", n - 1,
                      "repetitions", reps, "elapsed_s", elapsed, "labels", labels, "ranks", ranks);
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(entry, "matrix", mobj);
        pthread_mutex_unlock(&s->doc_lock);
    }
    /* Row r of the receive matrices is indexed by sender: the document's column r. One
     * matrix at a time at rank 0. */
    {
        static const struct {
            int row, transpose;
            const char *key;
        } mats[] = {{RECV, 1, "recv_gbps"},
                    {RECV_CV, 1, "recv_cv"},
                    {SEND, 0, "send_gbps"},
                    {SEND_CV, 0, "send_cv"},
                    {LAT, 0, "latency_us"}};
        char stem[128];
        snprintf(stem, sizeof(stem), "%s-%s", name, level);
        for (size_t k = 0; k < sizeof(mats) / sizeof(mats[0]); k++) {
            tb_status_t one = gather_matrix(s, comm, n, me, rows + mats[k].row * (size_t)n,
                                            mats[k].transpose, mobj, stem, mats[k].key);
            if (one && !st)
                st = one;
        }
        st = tb_rt_agree_comm(comm, st);
    }
    /* What the transport selected for every pair (UCX: its lanes), once the rounds used them. */
    if (st == TB_OK) {
        int *peers = malloc(sizeof(int) * (size_t)n);
        st = peers ? TB_OK : tb_error(TB_ERR_ENV, "%s: out of memory", name);
        for (int r = 0; peers && r < n; r++)
            peers[r] = r == me ? -1 : r;
        if ((st = tb_rt_agree_comm(comm, st)) == TB_OK)
            st = tb_rt_agree_comm(comm, tb_xport_record(s, entry, &x, peers, n, world_of));
        free(peers);
    }
    wrong = bad[0].mm.wrong + bad[1].mm.wrong;
    MUST(MPI_Allreduce(&wrong, &wrong_total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm));
    if (wrong_total) {
        collect_errors(s, entry, comm, n, me, my_world, bad);
        st = TB_ERR_CORRUPT;
    }
out:
    if (entry)
        tb_suite_end_test(s, entry, st == TB_OK ? "ok" : tb_status_string(st), NULL);
    if (me == 0)
        tb_progress_clear(&s->progress);
    free(rows);
    free(tsend);
    free(trecv);
    free(world_of);
    free(reps_of);
    tb_xport_close(&x);
    tb_xferbuf_free(&b.xs, b.cu);
    tb_xferbuf_free(&b.xr, b.cu);
    tb_xferbuf_free(&lat.xs, lat.cu);
    tb_xferbuf_free(&lat.xr, lat.cu);
    return st;
}

/* ---- isolated mode: chosen pairs one at a time, with the point-to-point tests ---- */

/* Mean time (OSU's headline) of `reps` runs of a point-to-point operation on a two-rank ctx, with
 * the repetition count agreed from one calibration run. A failed run ends the job: the peer is
 * blocked in the matching call, and no figure may come from a failed call. */
static double pair_measure(tb_suite_t *s, const tb_test_ops_t *ops, tb_bench_ctx_t *ctx,
                           double *times, int lo, int hi, int slow)
{
    double est = 0, t0, local;
    tb_stats_t st;
    tb_status_t rc;
    int reps;
    /* the slow-link test fault (suite.h): each window starts late, on both ends */
    struct timespec late = {(time_t)TB_FAULT_SLOW_DELAY_S,
                            (long)((TB_FAULT_SLOW_DELAY_S - (time_t)TB_FAULT_SLOW_DELAY_S) * 1e9)};
    t0 = MPI_Wtime();
    if (slow)
        nanosleep(&late, NULL);
    if ((rc = ops->run(ctx)))
        tb_rt_abort(rc, "isolated pair");
    local = MPI_Wtime() - t0;
    est = max_driven(ctx->xp, ctx->comm, local);
    reps = reps_for(s->opts, est, lo, hi);
    for (int i = 0; i < reps; i++) {
        t0 = MPI_Wtime();
        if (slow) {
            nanosleep(&late, NULL);
            tb_wd_beat();
        }
        if ((rc = ops->run(ctx)))
            tb_rt_abort(rc, "isolated pair");
        times[i] = MPI_Wtime() - t0;
        tb_wd_beat();
    }
    XMUST(tb_xport_settle(ctx->xp)); /* before the pair's blocking MPI calls */
    tb_stats_compute(times, (size_t)reps, &st);
    return st.mean;
}

/* Check iterations of a point-to-point operation (one message per window, as the harness
 * does): the p2p tests' own fill and check with the (rank, iteration, size) pattern. */
static void pair_check(tb_suite_t *s, const tb_test_ops_t *ops, tb_bench_ctx_t *ctx,
                       const char *fault, tb_mismatch_t *mm)
{
    int window = ctx->window;
    tb_status_t rc;
    ctx->window = 1;
    for (int j = 0; j < s->opts->check_iters; j++) {
        long iter = 1 + j;
        ops->fill(ctx, iter);
        push_pull(ctx->xsend, ctx->xrecv, ctx->cu, ctx->size, 0);
        tb_wd_iteration(iter);
        if ((rc = ops->run(ctx)))
            tb_rt_abort(rc, "isolated pair");
        push_pull(ctx->xsend, ctx->xrecv, ctx->cu, ctx->size, 1);
        if (tb_suite_fault(s, "corrupt", fault))
            ((unsigned char *)ctx->recv_host)[0] ^= 0x5a;
        ops->check(ctx, iter, mm);
        tb_wd_beat();
    }
    XMUST(tb_xport_settle(ctx->xp));
    ctx->window = window;
    tb_wd_iteration(-1);
}

/* What the initiator of a pair sends to rank 0: the two figures, then per pair rank
 * (a, b) and per measurement (latency, bandwidth) wrong bytes, first offset, expected and
 * received value. */
enum { RES_BW, RES_LAT, RES_ERR, RES_PER_RANK = 8, RES_LEN = RES_ERR + 2 * RES_PER_RANK };

static void pair_record(tb_suite_t *s, json_t *entry, json_t *pairs, int a, int b,
                        const double *res)
{
    static const char *what[2] = {"latency", "bandwidth"};
    json_int_t wrong = 0;
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 2; k++) {
            const double *e = res + RES_ERR + r * RES_PER_RANK + 4 * k;
            int rank = r ? b : a;
            if (!(e[0] > 0))
                continue;
            wrong += (json_int_t)e[0];
            tb_suite_add_error(s, entry,
                               json_pack("{s:I, s:s, s:i, s:s, s:i, s:I, s:f, s:f, s:I}", "size",
                                         (json_int_t)(k ? s->opts->matrix_bytes : LAT_BYTES),
                                         "measurement", what[k], "rank", rank, "host",
                                         tb_rt_host_of(s->rt, rank), "from_rank", r ? a : b,
                                         "offset", (json_int_t)e[1], "expected", e[2], "got", e[3],
                                         "wrong", (json_int_t)e[0]));
        }
    /* With the hosts, so the isolated table can show them. */
    json_array_append_new(pairs, json_pack("{s:i, s:s, s:i, s:s, s:f, s:f, s:I}", "a", a, "a_host",
                                           tb_rt_host_of(s->rt, a), "b", b, "b_host",
                                           tb_rt_host_of(s->rt, b), "bw_gbps", res[RES_BW],
                                           "latency_us", res[RES_LAT], "wrong", wrong));
}

tb_status_t tb_isolated_run(tb_suite_t *s)
{
    return tb_pairs_run(s, "isolated", (const int(*)[2])s->opts->pairs, s->opts->npairs, NULL);
}

tb_status_t tb_pairs_run(tb_suite_t *s, const char *name, const int (*plist_in)[2], int npairs,
                         json_t *extra)
{
    const tb_opts_t *o = s->opts;
    const tb_rt_t *rt = s->rt;
    json_t *entry = NULL, *pairs = NULL;
    double *times = calloc(4000, sizeof(double));
    tb_xferbuf_t xs, xr;
    const tb_cuda_t *cu = NULL;
    tb_status_t st = TB_OK;
    int corrupt = 0;

    if (rt->rank == 0) {
        tb_doc_keys_t keys = tb_suite_keys_mem(s, "byte", NULL, "isolated");
        json_t *plist = json_array(), *params;
        for (int i = 0; i < npairs; i++)
            json_array_append_new(plist, json_pack("[i,i]", plist_in[i][0], plist_in[i][1]));
        params = json_pack("{s:I, s:o, s:i}", "size", (json_int_t)o->matrix_bytes, "pairs", plist,
                           "window", o->window);
        if (params && extra)
            json_object_update(params, extra);
        entry = tb_suite_begin_test(s, name, "matrix", &keys, params);
        pairs = json_array();
    }
    json_decref(extra);
    for (int i = 0; i < npairs; i++)
        if (plist_in[i][0] >= rt->size || plist_in[i][1] >= rt->size)
            st = tb_error(TB_ERR_USAGE, "--pairs %d-%d: the job has ranks 0..%d only",
                          plist_in[i][0], plist_in[i][1], rt->size - 1);
    memset(&xs, 0, sizeof(xs));
    memset(&xr, 0, sizeof(xr));
    if (!times)
        st = tb_error(TB_ERR_ENV, "%s: out of memory", name);
    if (tb_xport_mem_skip_reason(s)) {
        if (entry)
            tb_suite_end_test(s, entry, "skipped", tb_xport_mem_skip_reason(s));
        json_decref(pairs);
        free(times);
        return TB_OK;
    }
    if (st == TB_OK)
        st = kind_buffers(s, entry, o->matrix_bytes, &xs, &xr, &cu);
    st = tb_rt_agree(rt, st);

    for (int i = 0; st == TB_OK && i < npairs; i++) {
        int a = plist_in[i][0], b = plist_in[i][1], in = rt->rank == a || rt->rank == b;
        double res[RES_LEN];
        MPI_Comm pc;
        memset(res, 0, sizeof(res));
        MUST(MPI_Comm_split(rt->world, in ? 0 : MPI_UNDEFINED, rt->rank == a ? 0 : 1, &pc));
        if (in) {
            tb_bench_ctx_t ctx;
            tb_mismatch_t mm[2];
            double mine[RES_PER_RANK];
            tb_xport_t px;
            /* the pair's own transport binding (local; a failure ends the job: the peer
             * would wait in the first transfer) */
            XMUST(tb_rt_agree_comm(pc, tb_xport_open(s, pc, 2 * o->window, &px)));
            memset(&ctx, 0, sizeof(ctx));
            ctx.xp = &px;
            memset(mm, 0, sizeof(mm));
            ctx.suite = s;
            ctx.comm = pc;
            ctx.nranks = 2;
            ctx.rank = rt->rank == a ? 0 : 1;
            ctx.peer = 1 - ctx.rank;
            ctx.peer_world = rt->rank == a ? b : a;
            ctx.world_rank = rt->rank;
            ctx.dtype = &tb_dtype_byte;
            ctx.window = o->window;
            ctx.cu = cu;
            ctx.sendbuf = xs.mpi;
            ctx.send_host = xs.mem.host;
            ctx.xsend = &xs;
            ctx.recvbuf = xr.mpi;
            ctx.recv_host = xr.mem.host;
            ctx.xrecv = &xr;
            ctx.buf_bytes = o->matrix_bytes;
            tb_wd_context(name, "", LAT_BYTES, i + 1, ctx.peer_world, NULL);
            ctx.size = ctx.count = ctx.stage_send_bytes = ctx.stage_recv_bytes = LAT_BYTES;
            res[RES_LAT] = pair_measure(s, &tb_test_latency, &ctx, times, 10, 4000, 0) / 2 * 1e6;
            if (o->check)
                pair_check(s, &tb_test_latency, &ctx, "isolated_latency", &mm[0]);
            ctx.size = ctx.count = ctx.stage_send_bytes = ctx.stage_recv_bytes = o->matrix_bytes;
            tb_wd_context(name, "", o->matrix_bytes, i + 1, ctx.peer_world, NULL);
            res[RES_BW] = tb_gbps((double)o->matrix_bytes * o->window,
                                  pair_measure(s, &tb_test_bw, &ctx, times, 3, 200,
                                               tb_suite_fault_slow(s, name, ctx.peer_world)));
            if (o->check)
                pair_check(s, &tb_test_bw, &ctx, "isolated", &mm[1]);
            for (int k = 0; k < 2; k++) {
                mine[4 * k] = (double)mm[k].wrong;
                mine[4 * k + 1] = (double)mm[k].first_offset;
                mine[4 * k + 2] = mm[k].expected;
                mine[4 * k + 3] = mm[k].got;
                if (mm[k].wrong)
                    tb_log(TB_LOG_ERROR,
                           "data corruption: test 'isolated' %s pair %d-%d size %zu: %zu wrong "
                           "bytes from rank %d (host %s), first at offset %zu",
                           k ? "bandwidth" : "latency", a, b, k ? o->matrix_bytes : LAT_BYTES,
                           mm[k].wrong, ctx.peer_world, tb_rt_host_of(rt, ctx.peer_world),
                           mm[k].first_offset);
            }
            /* Both sides' checks to the initiator, which reports to rank 0. */
            MUST(MPI_Gather(mine, RES_PER_RANK, MPI_DOUBLE, res + RES_ERR, RES_PER_RANK, MPI_DOUBLE,
                            0, pc));
            if (rt->rank == a && a != 0)
                MUST(MPI_Send(res, RES_LEN, MPI_DOUBLE, 0, TAG_RESULT, rt->world));
            tb_xport_close(&px);
            MUST(MPI_Comm_free(&pc));
        }
        if (rt->rank == 0 && a != 0) {
            /* Polled, so the heartbeat goes on while the pair measures; the pair's own
             * watchdogs catch a hang between them. */
            MPI_Request rq;
            tb_wd_context(name, "", o->matrix_bytes, i + 1, a, NULL);
            MUST(MPI_Irecv(res, RES_LEN, MPI_DOUBLE, a, TAG_RESULT, rt->world, &rq));
            if (tb_wd_wait_polled(&rq) != TB_OK)
                tb_rt_abort(TB_ERR_INTERNAL, "isolated: receiving a pair's result");
        }
        if (rt->rank == 0) {
            pair_record(s, entry, pairs, a, b, res);
            if (res[RES_ERR] > 0 || res[RES_ERR + 4] > 0 || res[RES_ERR + RES_PER_RANK] > 0 ||
                res[RES_ERR + RES_PER_RANK + 4] > 0)
                corrupt = 1;
        }
        /* One pair at a time: nobody starts the next pair before this one is done. */
        tb_suite_wait_all(s, name);
    }
    if (st == TB_OK)
        st = tb_rt_agree(rt, corrupt ? TB_ERR_CORRUPT : TB_OK);
    if (entry) {
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(entry, "matrix",
                            json_pack("{s:s, s:I, s:o}", "level", "isolated", "size",
                                      (json_int_t)o->matrix_bytes, "pairs", pairs));
        pthread_mutex_unlock(&s->doc_lock);
        tb_suite_end_test(s, entry, st == TB_OK ? "ok" : tb_status_string(st), NULL);
    } else {
        json_decref(pairs);
    }
    free(times);
    tb_xferbuf_free(&xs, cu);
    tb_xferbuf_free(&xr, cu);
    return st;
}
