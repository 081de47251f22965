/* All-pairs bandwidth and latency matrices with the shift pattern: in round d (1..N-1)
 * rank r sends to r+d and receives from r-d, all pairs of the round at once, so a matrix
 * costs N-1 rounds. Each rank keeps one row (O(N)); comm rank 0 gathers the N x N
 * matrices (O(N^2)). Bandwidth into r is timed at the receiver from a common start (a
 * barrier) to the completion of its receive; latency is a concurrent ping-pong in which
 * every rank pings r+d and answers r-d, half the round trip. Medians over repetitions. */
#include "matrix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "stats.h"
#include "units.h"
#include "watchdog.h"

#define TAG_BW 21
#define TAG_PING 22
#define TAG_PONG 23
#define LAT_BYTES 8

static double median_of(double *v, int n)
{
    tb_stats_t st;
    tb_stats_compute(v, (size_t)n, &st);
    return st.median;
}

static int reps_for(const tb_opts_t *o, double est, int lo, int hi)
{
    double r = o->time_budget / (est > 0 ? est : 1e-9);
    if (o->iters > 0)
        return (int)(o->iters < hi ? (o->iters > lo ? o->iters : lo) : hi);
    if (!(r >= lo))
        return lo;
    return r > hi ? hi : (int)r;
}

/* A failed MPI call inside a round leaves the other ranks blocked in theirs: end the job. */
#define MUST(call)                                                                         \
    do {                                                                                   \
        tb_status_t must_st_ = TB_MPI_CHECK(call);                                         \
        if (must_st_ != TB_OK)                                                             \
            tb_rt_abort(must_st_, "matrix round");                                         \
    } while (0)

/* One bandwidth repetition of round d; returns the receive time. */
static double bw_rep(MPI_Comm comm, void *sbuf, void *rbuf, int bytes, int src, int dst)
{
    MPI_Request rq[2];
    double t0, t;
    MUST(MPI_Barrier(comm));
    t0 = MPI_Wtime();
    MUST(MPI_Irecv(rbuf, bytes, MPI_BYTE, src, TAG_BW, comm, &rq[0]));
    MUST(MPI_Isend(sbuf, bytes, MPI_BYTE, dst, TAG_BW, comm, &rq[1]));
    MUST(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    t = MPI_Wtime() - t0;
    MUST(MPI_Wait(&rq[1], MPI_STATUS_IGNORE));
    tb_wd_beat();
    return t;
}

/* One concurrent ping-pong: ping dst, answer src. Returns half the round trip to dst. */
static double lat_rep(MPI_Comm comm, char *buf, int src, int dst)
{
    MPI_Request rq[4];
    double t0, t;
    t0 = MPI_Wtime();
    MUST(MPI_Irecv(buf, LAT_BYTES, MPI_BYTE, dst, TAG_PONG, comm, &rq[0]));
    MUST(MPI_Irecv(buf + LAT_BYTES, LAT_BYTES, MPI_BYTE, src, TAG_PING, comm, &rq[1]));
    MUST(MPI_Isend(buf + 2 * LAT_BYTES, LAT_BYTES, MPI_BYTE, dst, TAG_PING, comm, &rq[2]));
    MUST(MPI_Wait(&rq[1], MPI_STATUS_IGNORE));
    MUST(MPI_Isend(buf + 3 * LAT_BYTES, LAT_BYTES, MPI_BYTE, src, TAG_PONG, comm, &rq[3]));
    MUST(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    t = MPI_Wtime() - t0;
    MUST(MPI_Waitall(2, rq + 2, MPI_STATUSES_IGNORE));
    tb_wd_beat();
    return t / 2;
}

static json_t *matrix_json(const double *m, int n)
{
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        json_t *row = json_array();
        for (int j = 0; j < n; j++)
            json_array_append_new(row, i == j || isnan(m[(size_t)i * n + j])
                                           ? json_null()
                                           : json_real(m[(size_t)i * n + j]));
        json_array_append_new(rows, row);
    }
    return rows;
}

tb_status_t tb_matrix_run(tb_suite_t *s, const char *name, const char *level, MPI_Comm comm)
{
    const tb_opts_t *o = s->opts;
    int n, me, bytes = (int)o->matrix_bytes;
    double *bw_from = NULL, *lat_to = NULL, *times = NULL, *all_bw = NULL, *all_lat = NULL;
    int *world_of = NULL, my_world = s->rt->rank;
    void *sbuf = NULL, *rbuf = NULL;
    char latbuf[4 * LAT_BYTES] = {0};
    json_t *entry = NULL;
    tb_status_t st = TB_OK;
    tb_mismatch_t mm = {0};
    unsigned long long wrong = 0, wrong_total = 0;
    int max_reps = 200, mm_src = -1;
    double t_start = 0, elapsed;

    MPI_Comm_size(comm, &n);
    MPI_Comm_rank(comm, &me);
    tb_doc_keys_t keys = tb_suite_keys("byte", NULL, level);
    if (me == 0)
        entry = tb_suite_begin_test(s, name, "matrix", &keys,
                                    json_pack("{s:I, s:i}", "size", (json_int_t)o->matrix_bytes,
                                              "ranks", n));
    if (n < 2) {
        if (entry)
            tb_suite_end_test(s, entry, "skipped",
                              strcmp(level, "node") ? "needs at least 2 ranks"
                                                    : "needs at least 2 nodes");
        return TB_OK;
    }
    bw_from = calloc((size_t)n, sizeof(double));
    lat_to = calloc((size_t)n, sizeof(double));
    times = calloc((size_t)max_reps * 4 + 8, sizeof(double));
    world_of = calloc((size_t)n, sizeof(int));
    if (posix_memalign(&sbuf, 4096, o->matrix_bytes) != 0)
        sbuf = NULL;
    if (posix_memalign(&rbuf, 4096, o->matrix_bytes) != 0)
        rbuf = NULL;
    if (!bw_from || !lat_to || !times || !world_of || !sbuf || !rbuf)
        st = tb_error(TB_ERR_ENV, "%s: cannot allocate buffers for %zu-byte messages", name,
                      o->matrix_bytes);
    if ((st = tb_rt_agree_comm(comm, st)))
        goto out;
    MPI_Allgather(&my_world, 1, MPI_INT, world_of, 1, MPI_INT, comm);
    memset(sbuf, 0, o->matrix_bytes);
    memset(rbuf, 0, o->matrix_bytes);
    bw_from[me] = lat_to[me] = NAN;
    t_start = MPI_Wtime();

    for (int d = 1; d < n; d++) {
        int dst = (me + d) % n, src = (me - d + n) % n, reps;
        double est = 0, local;
        if (me == 0)
            tb_progress_update(&s->progress, "[%d] %s (%s) round %d/%d", s->test_seq, name,
                               level, d, n - 1);
        tb_wd_context(name, level, o->matrix_bytes, d, world_of[src], NULL);
        /* Bandwidth: one calibration repetition, then as many as the budget allows. */
        local = bw_rep(comm, sbuf, rbuf, bytes, src, dst);
        MPI_Allreduce(&local, &est, 1, MPI_DOUBLE, MPI_MAX, comm);
        reps = reps_for(o, est, 3, max_reps);
        for (int i = 0; i < reps; i++) {
            tb_wd_iteration(i);
            times[i] = bw_rep(comm, sbuf, rbuf, bytes, src, dst);
        }
        bw_from[src] = tb_gbps(o->matrix_bytes, median_of(times, reps));
        if (o->check) {
            long iter = d;
            tb_mismatch_t one = {0};
            uint64_t src_seed = tb_pattern_seed(world_of[src], iter, o->matrix_bytes);
            tb_pattern_fill(&tb_dtype_byte, sbuf, o->matrix_bytes, my_world, 0, iter,
                            o->matrix_bytes, 0);
            memset(rbuf, 0, o->matrix_bytes);
            bw_rep(comm, sbuf, rbuf, bytes, src, dst);
            if (tb_suite_fault(s, "corrupt", name))
                ((unsigned char *)rbuf)[0] ^= 0x5a;
            for (size_t i = 0; i < o->matrix_bytes; i++) {
                unsigned char want = tb_pattern_byte(src_seed, i);
                if (((unsigned char *)rbuf)[i] != want)
                    tb_mismatch_note(&one, i, want, ((unsigned char *)rbuf)[i]);
            }
            if (one.wrong) {
                tb_log(TB_LOG_ERROR,
                       "data corruption: test '%s' (%s) size %zu round %d: %zu wrong bytes from "
                       "rank %d (host %s), first at offset %zu",
                       name, level, o->matrix_bytes, d, one.wrong, world_of[src],
                       tb_rt_host_of(s->rt, world_of[src]), one.first_offset);
                if (!mm.wrong) {
                    mm = one;
                    mm_src = world_of[src];
                }
                wrong += one.wrong;
            }
        }
        /* Latency: concurrent ping-pong. */
        local = lat_rep(comm, latbuf, src, dst);
        MPI_Allreduce(&local, &est, 1, MPI_DOUBLE, MPI_MAX, comm);
        reps = reps_for(o, 2 * est, 10, 4 * max_reps);
        for (int i = 0; i < reps; i++)
            times[i] = lat_rep(comm, latbuf, src, dst);
        lat_to[dst] = median_of(times, reps) * 1e6;
    }

    elapsed = MPI_Wtime() - t_start;
    /* Rows to comm rank 0: O(N^2) there, O(N) everywhere else. */
    if (me == 0) {
        all_bw = tb_rt_gather_buffer(sizeof(double) * (size_t)n * (size_t)n);
        all_lat = tb_rt_gather_buffer(sizeof(double) * (size_t)n * (size_t)n);
    }
    MPI_Gather(bw_from, n, MPI_DOUBLE, all_bw, n, MPI_DOUBLE, 0, comm);
    MPI_Gather(lat_to, n, MPI_DOUBLE, all_lat, n, MPI_DOUBLE, 0, comm);
    MPI_Allreduce(&wrong, &wrong_total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
    if (me == 0 && all_bw && all_lat) {
        /* all_bw[r][src] is bandwidth src -> r; the document is [sender][receiver]. */
        double *bw = malloc(sizeof(double) * (size_t)n * (size_t)n);
        json_t *labels = json_array(), *ranks = json_array();
        for (int i = 0; bw && i < n; i++)
            for (int j = 0; j < n; j++)
                bw[(size_t)i * n + j] = all_bw[(size_t)j * n + i];
        for (int i = 0; i < n; i++) {
            char label[TB_HOST_LEN + 16];
            snprintf(label, sizeof(label), "%s:%d", tb_rt_host_of(s->rt, world_of[i]),
                     world_of[i]);
            json_array_append_new(labels, json_string(label));
            json_array_append_new(ranks, json_integer(world_of[i]));
        }
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(entry, "matrix",
                            json_pack("{s:s, s:I, s:i, s:f, s:o, s:o, s:o, s:o}", "level",
                                      level, "size", (json_int_t)o->matrix_bytes, "rounds", n - 1,
                                      "elapsed_s", elapsed, "labels", labels, "ranks", ranks,
                                      "bandwidth_gbps", matrix_json(bw ? bw : all_bw, n),
                                      "latency_us", matrix_json(all_lat, n)));
        pthread_mutex_unlock(&s->doc_lock);
        free(bw);
    }
    if (wrong_total) {
        /* Each receiver's first wrong byte, with who sent it. */
        double mine[4] = {(double)mm.wrong, (double)mm.first_offset, (double)mm_src,
                          (double)my_world};
        double *errs = me == 0 ? tb_rt_gather_buffer(sizeof(mine) * (size_t)n) : NULL;
        MPI_Gather(mine, 4, MPI_DOUBLE, errs, 4, MPI_DOUBLE, 0, comm);
        for (int r = 0; errs && r < n; r++) {
            double *e = errs + 4 * r;
            if (e[0] > 0)
                tb_suite_add_error(s, entry,
                                   json_pack("{s:I, s:i, s:s, s:i, s:I, s:I}", "size",
                                             (json_int_t)o->matrix_bytes, "rank", (int)e[3],
                                             "host", tb_rt_host_of(s->rt, (int)e[3]), "from_rank",
                                             (int)e[2], "offset", (json_int_t)e[1], "wrong",
                                             (json_int_t)e[0]));
        }
        free(errs);
        st = TB_ERR_CORRUPT;
    }
out:
    if (entry)
        tb_suite_end_test(s, entry, st == TB_OK ? "ok" : tb_status_string(st), NULL);
    if (me == 0)
        tb_progress_clear(&s->progress);
    free(bw_from);
    free(lat_to);
    free(times);
    free(world_of);
    free(all_bw);
    free(all_lat);
    free(sbuf);
    free(rbuf);
    return st;
}

/* Median time of `reps` runs of a point-to-point operation on a two-rank ctx, with the
 * repetition count agreed from one calibration run. */
static double pair_measure(tb_suite_t *s, const tb_test_ops_t *ops, tb_bench_ctx_t *ctx,
                           double *times, int lo, int hi)
{
    double est = 0, t0, local;
    int reps;
    t0 = MPI_Wtime();
    (void)ops->run(ctx);
    local = MPI_Wtime() - t0;
    MPI_Allreduce(&local, &est, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
    reps = reps_for(s->opts, est, lo, hi);
    for (int i = 0; i < reps; i++) {
        t0 = MPI_Wtime();
        (void)ops->run(ctx);
        times[i] = MPI_Wtime() - t0;
        tb_wd_beat();
    }
    return median_of(times, reps);
}

/* One measured pair with its hosts, so the isolated table can show them. */
static json_t *pair_json(const tb_rt_t *rt, int a, int b, const double res[2])
{
    return json_pack("{s:i, s:s, s:i, s:s, s:f, s:f}", "a", a, "a_host", tb_rt_host_of(rt, a),
                     "b", b, "b_host", tb_rt_host_of(rt, b), "bw_gbps", res[0], "latency_us",
                     res[1]);
}

tb_status_t tb_isolated_run(tb_suite_t *s)
{
    const tb_opts_t *o = s->opts;
    const tb_rt_t *rt = s->rt;
    json_t *entry = NULL, *pairs = NULL;
    double *times = calloc(4000, sizeof(double));
    void *sbuf = NULL, *rbuf = NULL;
    tb_status_t st = TB_OK;

    if (rt->rank == 0) {
        tb_doc_keys_t keys = tb_suite_keys("byte", NULL, "isolated");
        json_t *plist = json_array();
        for (int i = 0; i < o->npairs; i++)
            json_array_append_new(plist, json_pack("[i,i]", o->pairs[i][0], o->pairs[i][1]));
        entry = tb_suite_begin_test(s, "isolated", "matrix", &keys,
                                    json_pack("{s:I, s:o, s:i}", "size",
                                              (json_int_t)o->matrix_bytes, "pairs", plist,
                                              "window", o->window));
        pairs = json_array();
    }
    for (int i = 0; i < o->npairs; i++)
        if (o->pairs[i][0] >= rt->size || o->pairs[i][1] >= rt->size)
            st = tb_error(TB_ERR_USAGE, "--pairs %d-%d: the job has ranks 0..%d only",
                          o->pairs[i][0], o->pairs[i][1], rt->size - 1);
    if (!times || posix_memalign(&sbuf, 4096, o->matrix_bytes) ||
        posix_memalign(&rbuf, 4096, o->matrix_bytes))
        st = tb_error(TB_ERR_ENV, "isolated: cannot allocate %zu-byte buffers", o->matrix_bytes);
    else {
        memset(sbuf, 0, o->matrix_bytes);
        memset(rbuf, 0, o->matrix_bytes);
    }
    st = tb_rt_agree(rt, st);

    for (int i = 0; st == TB_OK && i < o->npairs; i++) {
        int a = o->pairs[i][0], b = o->pairs[i][1], in = rt->rank == a || rt->rank == b;
        MPI_Comm pc;
        MPI_Comm_split(rt->world, in ? 0 : MPI_UNDEFINED, rt->rank == a ? 0 : 1, &pc);
        if (in) {
            tb_bench_ctx_t ctx;
            double res[2];
            memset(&ctx, 0, sizeof(ctx));
            ctx.suite = s;
            ctx.comm = pc;
            ctx.nranks = 2;
            ctx.rank = rt->rank == a ? 0 : 1;
            ctx.peer = 1 - ctx.rank;
            ctx.peer_world = rt->rank == a ? b : a;
            ctx.world_rank = rt->rank;
            ctx.dtype = &tb_dtype_byte;
            ctx.window = o->window;
            ctx.sendbuf = sbuf;
            ctx.recvbuf = rbuf;
            ctx.buf_bytes = o->matrix_bytes;
            tb_wd_context("isolated", "", LAT_BYTES, i + 1, ctx.peer_world, NULL);
            ctx.size = ctx.count = LAT_BYTES;
            res[1] = pair_measure(s, &tb_test_latency, &ctx, times, 10, 4000) / 2 * 1e6;
            ctx.size = ctx.count = o->matrix_bytes;
            tb_wd_context("isolated", "", o->matrix_bytes, i + 1, ctx.peer_world, NULL);
            res[0] = tb_gbps((double)o->matrix_bytes * o->window,
                             pair_measure(s, &tb_test_bw, &ctx, times, 3, 200));
            /* The initiator reports to rank 0. */
            if (rt->rank == a && a != 0)
                MPI_Send(res, 2, MPI_DOUBLE, 0, 31, rt->world);
            if (rt->rank == 0 && a == 0)
                json_array_append_new(pairs, pair_json(rt, a, b, res));
            MPI_Comm_free(&pc);
        }
        if (rt->rank == 0 && a != 0) {
            /* Polled, so the heartbeat goes on while the pair measures; the pair's own
             * watchdogs catch a hang between them. */
            double res[2];
            MPI_Request rq;
            tb_wd_context("isolated", "", o->matrix_bytes, i + 1, a, NULL);
            MUST(MPI_Irecv(res, 2, MPI_DOUBLE, a, 31, rt->world, &rq));
            if (tb_wd_wait_polled(&rq) != TB_OK)
                tb_rt_abort(TB_ERR_INTERNAL, "isolated: receiving a pair's result");
            json_array_append_new(pairs, pair_json(rt, a, b, res));
        }
        /* One pair at a time: nobody starts the next pair before this one is done. */
        tb_suite_wait_all(s, "isolated");
    }
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
    free(sbuf);
    free(rbuf);
    return st;
}
