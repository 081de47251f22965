/* The shared sweep: for each size (and in-place variant), calibrate, warm up, time the
 * iterations, reduce the per-iteration times across ranks, run the check iterations and
 * record one result row. Tests only provide the operations in their table.
 *
 * The harness owns the buffers: it allocates them in the entry's memory kinds (mem.h),
 * gives the tests host views to fill and check, copies those views to and from device
 * memory around the check iterations, and stages device buffers through pinned host
 * memory when MPI is not CUDA-aware (the entry's `transfer` is then "staged"). */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "gpu.h"
#include "stats.h"
#include "units.h"
#include "watchdog.h"
#include "xport.h"

const tb_dtype_t tb_dtype_float = {"float", MPI_FLOAT, sizeof(float)};
const tb_dtype_t tb_dtype_double = {"double", MPI_DOUBLE, sizeof(double)};
const tb_dtype_t tb_dtype_byte = {"byte", MPI_BYTE, 1};

double tb_buf_get(const tb_dtype_t *dt, const void *buf, size_t i)
{
    if (dt->size == sizeof(float) && dt->mpi == MPI_FLOAT)
        return ((const float *)buf)[i];
    if (dt->mpi == MPI_DOUBLE)
        return ((const double *)buf)[i];
    return ((const unsigned char *)buf)[i];
}

void tb_buf_set(const tb_dtype_t *dt, void *buf, size_t i, double v)
{
    if (dt->mpi == MPI_FLOAT)
        ((float *)buf)[i] = (float)v;
    else if (dt->mpi == MPI_DOUBLE)
        ((double *)buf)[i] = v;
    else
        ((unsigned char *)buf)[i] = (unsigned char)v;
}

void tb_pattern_fill(const tb_dtype_t *dt, void *buf, size_t n, int rank, size_t base,
                     long iter, size_t size, int reduce)
{
    uint64_t seed = tb_pattern_seed(rank, iter, size);
    if (dt->mpi == MPI_BYTE) {
        unsigned char *b = buf;
        for (size_t i = 0; i < n; i++)
            b[i] = tb_pattern_byte(seed, base + i);
    } else if (reduce) {
        for (size_t i = 0; i < n; i++)
            tb_buf_set(dt, buf, i, tb_pattern(rank, base + i, iter, size));
    } else {
        for (size_t i = 0; i < n; i++)
            tb_buf_set(dt, buf, i, tb_pattern_copy(seed, base + i));
    }
}

/* Byte k of word w is byte k of tb_mix64(seed ^ w), so on a little-endian host a word
 * of the pattern is the hash itself and a whole word is written or compared at once. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TB_PATTERN_WORDS 1
#else
#define TB_PATTERN_WORDS 0
#endif

void tb_pattern_fill_bytes(unsigned char *p, size_t n, uint64_t seed, int complement)
{
    size_t i = 0;
    uint64_t flip = complement ? ~(uint64_t)0 : 0;
    if (TB_PATTERN_WORDS)
        for (; i + 8 <= n; i += 8) {
            uint64_t w = tb_mix64(seed ^ (i >> 3)) ^ flip;
            memcpy(p + i, &w, 8);
        }
    for (; i < n; i++)
        p[i] = (unsigned char)(tb_pattern_byte(seed, i) ^ (unsigned char)flip);
}

void tb_pattern_check_bytes(const unsigned char *p, size_t n, uint64_t seed, size_t base,
                            tb_mismatch_t *mm)
{
    size_t i = 0;
    if (TB_PATTERN_WORDS)
        for (; i + 8 <= n; i += 8) {
            uint64_t want = tb_mix64(seed ^ (i >> 3)), got;
            memcpy(&got, p + i, 8);
            if (got == want)
                continue;
            for (size_t k = 0; k < 8; k++) {
                unsigned char wb = (unsigned char)(want >> (8 * k));
                if (p[i + k] != wb)
                    tb_mismatch_note(mm, base + i + k, wb, p[i + k]);
            }
        }
    for (; i < n; i++) {
        unsigned char want = tb_pattern_byte(seed, i);
        if (p[i] != want)
            tb_mismatch_note(mm, base + i, want, p[i]);
    }
}

void tb_pattern_sums(int nranks, double sums[17])
{
    for (int k = 0; k < 17; k++) {
        sums[k] = 0;
        for (int r = 0; r < nranks && r < 17; r++)
            sums[k] += (double)(((unsigned long)r * 7u + (unsigned long)k) % 17u) *
                       (double)((nranks - 1 - r) / 17 + 1); /* ranks r, r+17, r+34, ... */
    }
}

void tb_mismatch_note(tb_mismatch_t *mm, size_t offset, double expected, double got)
{
    if (mm->wrong++ == 0) {
        mm->first_offset = offset;
        mm->expected = expected;
        mm->got = got;
    }
}

typedef struct sweep {
    tb_suite_t *s;
    const tb_test_ops_t *ops;
    tb_bench_ctx_t ctx;
    json_t *entry;
    const char *variant;
    double *times, *reduced;
    size_t times_cap;
    const tb_cuda_t *cu;    /* NULL when both kinds are host memory */
    tb_xferbuf_t xb[2];     /* send, receive: the buffers, host views and staging */
    tb_xport_t xp;          /* point-to-point: the transport of --backend */
    int device_direct;      /* the transport takes device pointers (else: staged) */
} sweep_t;

/* A failed staging copy ends the job: the peer is inside the matching call. */
static void stage_check(tb_status_t st)
{
    if (st)
        tb_rt_abort(st, "staging a device buffer");
}

void tb_stage_send(tb_bench_ctx_t *ctx)
{
    if (ctx->xsend)
        stage_check(tb_xferbuf_stage_out(ctx->xsend, ctx->cu, 0, ctx->stage_send_bytes));
    if (ctx->xrecv && ctx->recv_is_input)
        stage_check(tb_xferbuf_stage_out(ctx->xrecv, ctx->cu, 0, ctx->stage_recv_bytes));
}

void tb_stage_recv(tb_bench_ctx_t *ctx)
{
    if (ctx->xrecv)
        stage_check(tb_xferbuf_stage_in(ctx->xrecv, ctx->cu, 0, ctx->stage_recv_bytes));
}

/* One operation, with the staging copies of tests that do not place them themselves. */
static tb_status_t sweep_run(sweep_t *sw)
{
    tb_status_t st;
    if (!sw->ops->stages_itself)
        tb_stage_send(&sw->ctx);
    st = sw->ops->run(&sw->ctx);
    if (st == TB_OK && !sw->ops->stages_itself)
        tb_stage_recv(&sw->ctx);
    return st;
}

/* Host views -> buffers (after a fill), receive buffer -> its host view (before a check).
 * Local calls; a failure ends the job like a failed operation. */
static void sweep_push(sweep_t *sw)
{
    tb_status_t st;
    if ((st = tb_membuf_push(&sw->xb[0].mem, sw->cu, sw->ctx.stage_send_bytes)) ||
        (st = tb_membuf_push(&sw->xb[1].mem, sw->cu, sw->ctx.stage_recv_bytes)))
        tb_rt_abort(st, "copying the test data to the buffers");
}

static void sweep_pull(sweep_t *sw)
{
    tb_status_t st = tb_membuf_pull(&sw->xb[1].mem, sw->cu, sw->ctx.stage_recv_bytes);
    if (st)
        tb_rt_abort(st, "copying the received data back");
}

/* Runs `n` iterations, each timed on its own; times[i] (if non-NULL) gets iteration i's
 * time on this rank. Returns the wall time of the whole loop (barriers included), which
 * sizes the iteration count.
 *
 * OSU's method (7.x): every iteration is timed alone, never in batches. Collectives get a
 * barrier before every iteration, kept out of the timing (osu_bcast, osu_allreduce, ...):
 * back to back, a collective that does not synchronise (a broadcast's root, a small eager
 * reduction) would be timed as the rate at which one rank issues calls, not as one
 * operation completed on every rank. Point-to-point tests are synchronised by their own
 * protocol (a round trip, a window's acknowledgement); like osu_latency and osu_bw they
 * time each iteration, so the clock's two reads count as they do in OSU's figures. */
static double sweep_iterate(sweep_t *sw, long n, double *times, long first_iter)
{
    tb_bench_ctx_t *ctx = &sw->ctx;
    double start = MPI_Wtime(), wall;
    tb_status_t st;
    for (long i = 0; i < n; i++) {
        double t0, t1;
        tb_wd_iteration(first_iter + i);
        if (sw->ops->kind == TB_KIND_COLL)
            TB_MPI_OR_ABORT(MPI_Barrier(ctx->comm), sw->ops->name);
        t0 = MPI_Wtime();
        st = sweep_run(sw);
        t1 = MPI_Wtime();
        if (st)
            tb_rt_abort(st, sw->ops->name);
        if (times)
            times[i] = t1 - t0;
        tb_wd_beat();
    }
    wall = MPI_Wtime() - start;
    /* Point-to-point: the peer's transfers completed too before the blocking MPI calls that
     * follow (a UCX rank may still owe its peer a rendezvous acknowledgement; xport.h). */
    if (ctx->xp && (st = tb_xport_settle(ctx->xp)))
        tb_rt_abort(st, sw->ops->name);
    return wall;
}

/* Check iterations; returns the mismatch record of this rank. */
static void sweep_check(sweep_t *sw, long iters, tb_mismatch_t *mm)
{
    tb_bench_ctx_t *ctx = &sw->ctx;
    const tb_suite_t *s = sw->s;
    int window = ctx->window;
    long iter = iters;
    memset(mm, 0, sizeof(*mm));
    /* One message per window here: OSU's window receives every message into one buffer,
     * where only the last to land could be verified. */
    ctx->window = 1;
    for (int j = 0; j < s->opts->check_iters; j++) {
        tb_status_t st;
        /* Never the timed iterations' pattern (iteration 0; the reduction pattern
         * repeats every 17 iterations). */
        if (++iter % 17 == 0)
            iter++;
        sw->ops->fill(ctx, iter);
        sweep_push(sw);
        tb_wd_iteration(iter);
        st = sweep_run(sw);
        if (st)
            tb_rt_abort(st, sw->ops->name);
        sweep_pull(sw);
        if (tb_suite_fault(s, "corrupt", sw->ops->name) && ctx->buf_bytes > 0)
            ((unsigned char *)ctx->recv_host)[0] ^= 0x5a; /* a flipped byte on the way in */
        sw->ops->check(ctx, iter, mm);
        tb_wd_beat();
    }
    ctx->window = window;
    if (ctx->xp) {
        tb_status_t st = tb_xport_settle(ctx->xp);
        if (st)
            tb_rt_abort(st, sw->ops->name);
    }
    if (mm->wrong)
        tb_log(TB_LOG_ERROR,
               "data corruption: test '%s'%s%s%s size %zu%s: %zu wrong elements, first at "
               "offset %zu: expected %g, got %g",
               sw->ops->name, sw->variant[0] ? " (" : "", sw->variant,
               sw->variant[0] ? ")" : "", ctx->size, ctx->in_place ? " in-place" : "",
               mm->wrong, mm->first_offset, mm->expected, mm->got);
}

/* JSON has no NaN or infinity, and a corrupted float often reads as one: null then. */
static json_t *json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Gathers every rank's mismatch at comm rank 0 and records them. */
static tb_status_t sweep_collect_errors(sweep_t *sw, const tb_mismatch_t *mm, long iter)
{
    tb_bench_ctx_t *ctx = &sw->ctx;
    double mine[5] = {(double)mm->wrong, (double)mm->first_offset, mm->expected, mm->got,
                      (double)ctx->world_rank};
    double *all = NULL;
    tb_status_t st;
    if ((st = tb_rt_alloc_agreed(ctx->comm, 1, sizeof(mine) * (size_t)ctx->nranks,
                                 (void **)&all)) ||
        (st = TB_MPI_CHECK(MPI_Gather(mine, 5, MPI_DOUBLE, all, 5, MPI_DOUBLE, 0, ctx->comm))))
        goto out;
    if (ctx->rank == 0) {
        for (int r = 0; r < ctx->nranks; r++) {
            double *e = all + 5 * r;
            if (e[0] > 0)
                tb_suite_add_error(sw->s, sw->entry,
                                   json_pack("{s:I, s:b, s:i, s:s, s:I, s:o, s:o, s:I, s:I}",
                                             "size", (json_int_t)ctx->size, "in_place",
                                             ctx->in_place, "rank", (int)e[4], "host",
                                             tb_rt_host_of(sw->s->rt, (int)e[4]), "offset",
                                             (json_int_t)e[1], "expected", json_number(e[2]),
                                             "got", json_number(e[3]), "wrong",
                                             (json_int_t)e[0], "iteration", (json_int_t)iter));
        }
    }
out:
    free(all);
    return st;
}

/* Rank 0: how the transport reached the buffers (tb_mem_transfer). */
static void entry_transfer(tb_suite_t *s, json_t *entry, const tb_mem_kind_t *const kinds[2],
                           int device_direct)
{
    const char *t = tb_mem_transfer(kinds[0], kinds[1], device_direct);
    pthread_mutex_lock(&s->doc_lock);
    json_object_set_new(entry, "transfer", json_string(t));
    pthread_mutex_unlock(&s->doc_lock);
}

/* The send and receive buffers in their kinds, staged through pinned host memory where
 * they are device memory the transport cannot take. */
static tb_status_t sweep_buffers(sweep_t *sw, const tb_mem_kind_t *const kinds[2])
{
    tb_bench_ctx_t *ctx = &sw->ctx;
    tb_status_t st = TB_OK;
    ctx->cu = sw->cu;
    for (int side = 0; side < 2 && st == TB_OK; side++)
        st = tb_xferbuf_alloc(&sw->xb[side], kinds[side], sw->cu, ctx->buf_bytes,
                              sw->device_direct);
    if (st != TB_OK) {
        tb_log(TB_LOG_ERROR, "%s: cannot allocate 2 x %zu bytes of %s/%s memory", sw->ops->name,
               ctx->buf_bytes, kinds[0]->name, kinds[1]->name);
        return st;
    }
    ctx->sendbuf = sw->xb[0].mpi;
    ctx->send_host = sw->xb[0].mem.host;
    ctx->xsend = &sw->xb[0];
    ctx->recvbuf = sw->xb[1].mpi;
    ctx->recv_host = sw->xb[1].mem.host;
    ctx->xrecv = &sw->xb[1];
    return TB_OK;
}

static void sweep_free_buffers(sweep_t *sw)
{
    for (int side = 0; side < 2; side++)
        tb_xferbuf_free(&sw->xb[side], sw->cu);
}

static long clamp_long(double v, long lo, long hi)
{
    if (!(v >= (double)lo))
        return lo;
    if (v > (double)hi)
        return hi;
    return (long)v;
}

/* One size, one placement. */
static tb_status_t sweep_one(sweep_t *sw, size_t size, int in_place)
{
    tb_bench_ctx_t *ctx = &sw->ctx;
    const tb_opts_t *o = sw->s->opts;
    double est_local, est, wall, rank_min = 0, rank_max = 0;
    long iters, warmup, samples, wrong_total_l = 0;
    tb_mismatch_t mm = {0};
    unsigned long long wrong_local, wrong_total = 0;
    tb_status_t st;

    /* A size that is not a whole number of elements moves only the whole elements. */
    ctx->count = size / ctx->dtype->size;
    ctx->size = ctx->count * ctx->dtype->size;
    ctx->in_place = in_place;
    {
        size_t se, re;
        sw->ops->buffers(ctx->count, ctx->nranks, &se, &re);
        ctx->stage_send_bytes = se * ctx->dtype->size;
        ctx->stage_recv_bytes = re * ctx->dtype->size;
        ctx->recv_is_input = in_place || se == 0;
    }
    tb_wd_context(sw->ops->name, sw->variant, size, 0, sw->ops->kind == TB_KIND_P2P ? ctx->peer_world : -1,
                  "waiting in a collective");
    /* Valid data for the timed iterations. (In-place reductions grow by a factor of n
     * per iteration and may reach infinity, which costs nothing on current CPUs; no NaN
     * and no denormals arise.) */
    sw->ops->fill(ctx, 0);
    sweep_push(sw);
    if (tb_suite_fault(sw->s, "hang", sw->ops->name))
        tb_suite_hang(sw->ops->name, sw->variant, size);
    if (tb_suite_fault(sw->s, "fail", sw->ops->name))
        tb_rt_abort(TB_ERR_INTERNAL, "an injected failed call (test fault switch)");

    /* Calibration: two cold iterations, then four timed ones; the slowest rank's estimate
     * decides for everyone so all ranks run the same count. The estimate is the loop's
     * wall time per iteration, so a collective's barriers count toward the budget. */
    sweep_iterate(sw, 2, NULL, -6);
    wall = sweep_iterate(sw, 4, NULL, -4);
    est_local = wall / 4;
    TB_MPI_OR_ABORT(MPI_Allreduce(&est_local, &est, 1, MPI_DOUBLE, MPI_MAX, ctx->comm),
                    sw->ops->name);
    if (o->iters > 0)
        iters = o->iters;
    else
        iters = clamp_long(o->time_budget / (est > 0 ? est : 1e-9), o->min_iters, o->max_iters);
    samples = iters;
    warmup = o->warmup >= 0 ? o->warmup : clamp_long((double)iters / 10, 1, 100);
    /* samples is the same on every rank (from the agreed estimate), so every rank
     * reallocates here together and agrees before the collectives that use the buffers. */
    if ((size_t)samples > sw->times_cap) {
        free(sw->times);
        free(sw->reduced);
        sw->times = malloc(sizeof(double) * (size_t)samples);
        sw->reduced = malloc(sizeof(double) * (size_t)samples);
        st = TB_OK;
        if (!sw->times || !sw->reduced || tb_suite_fault(sw->s, "oom", sw->ops->name))
            st = tb_error(TB_ERR_ENV, "out of memory for %ld iteration times", samples);
        sw->times_cap = st == TB_OK ? (size_t)samples : 0;
        if ((st = tb_rt_agree_comm(ctx->comm, st)))
            return st;
    }
    sweep_iterate(sw, warmup, NULL, -1 - warmup);
    sweep_iterate(sw, samples, sw->times, 0);

    /* OSU's definition. A collective's sample i is the mean over ranks of iteration i's
     * time, so the mean of the samples is each rank's mean time per iteration averaged
     * over ranks (osu_*'s "Avg Latency"); the slowest and the fastest rank's own means
     * (OSU's "Max" and "Min Latency") are kept beside it. Point-to-point tests are timed
     * by the initiator (comm rank 0), as OSU's are. */
    if (sw->ops->kind == TB_KIND_COLL) {
        double sum = 0, mine[2], ext[2];
        for (long i = 0; i < samples; i++)
            sum += sw->times[i];
        mine[0] = sum / (double)samples;
        mine[1] = -mine[0];
        /* A failed reduction leaves rank 0's buffer unset: never a figure. */
        TB_MPI_OR_ABORT(MPI_Reduce(sw->times, sw->reduced, (int)samples, MPI_DOUBLE, MPI_SUM,
                                   0, ctx->comm),
                        sw->ops->name);
        TB_MPI_OR_ABORT(MPI_Reduce(mine, ext, 2, MPI_DOUBLE, MPI_MAX, 0, ctx->comm),
                        sw->ops->name);
        for (long i = 0; i < samples; i++)
            sw->reduced[i] /= ctx->nranks;
        rank_max = ext[0];
        rank_min = -ext[1];
    } else if (ctx->rank == 0) {
        memcpy(sw->reduced, sw->times, sizeof(double) * (size_t)samples);
    }

    if (o->check) {
        sweep_check(sw, iters, &mm);
        wrong_local = mm.wrong;
        TB_MPI_OR_ABORT(MPI_Allreduce(&wrong_local, &wrong_total, 1, MPI_UNSIGNED_LONG_LONG,
                                      MPI_SUM, ctx->comm),
                        sw->ops->name);
        if (wrong_total &&
            (st = sweep_collect_errors(sw, &mm, iters + 1 + ((iters + 1) % 17 == 0))))
            return st;
        wrong_total_l = (long)wrong_total;
    }

    if (ctx->rank == 0) {
        tb_stats_t stats;
        json_t *row, *time_us;
        double t;
        for (long i = 0; i < samples; i++)
            sw->reduced[i] *= sw->ops->time_scale;
        tb_stats_compute(sw->reduced, (size_t)samples, &stats);
        /* The headline is the mean (OSU's); bandwidths derive from it. */
        t = stats.mean;
        time_us = tb_doc_stats_us(&stats);
        if (sw->ops->kind == TB_KIND_COLL) {
            json_object_set_new(time_us, "slowest_rank", json_real(rank_max * 1e6));
            json_object_set_new(time_us, "fastest_rank", json_real(rank_min * 1e6));
        }
        row = json_pack("{s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:o}", "size", (json_int_t)ctx->size,
                        "count", (json_int_t)ctx->count, "in_place", in_place, "iterations",
                        (json_int_t)iters, "samples", (json_int_t)samples, "batch",
                        (json_int_t)1, "warmup", (json_int_t)warmup, "time_us", time_us);
        if (sw->ops->alg_bytes) {
            double algbw = tb_gbps(sw->ops->alg_bytes(ctx), t);
            if (sw->ops->bus_factor) {
                json_object_set_new(row, "algbw_gbps", json_real(algbw));
                json_object_set_new(row, "busbw_gbps",
                                    json_real(algbw * sw->ops->bus_factor(ctx->nranks)));
            } else {
                json_object_set_new(row, "bw_gbps", json_real(algbw));
            }
        }
        json_object_set_new(row, "wrong", json_integer(wrong_total_l));
        json_object_set_new(row, "checked", json_boolean(o->check));
        tb_suite_add_result(sw->s, sw->entry, row);
    }
    return wrong_total ? TB_ERR_CORRUPT : TB_OK;
}

/* After the sweep: what the transport selected for the pair, both directions. */
static tb_status_t harness_selected(tb_suite_t *s, sweep_t *sw)
{
    int peer = sw->ctx.peer, world_of[2];
    world_of[sw->ctx.rank] = sw->ctx.world_rank;
    world_of[peer] = sw->ctx.peer_world;
    return tb_xport_record(s, sw->entry, &sw->xp, &peer, 1, world_of);
}

tb_status_t tb_harness_run(tb_suite_t *s, const tb_test_ops_t *ops, const tb_dtype_t *dt,
                           const tb_doc_keys_t *keys, MPI_Comm comm, json_t *params)
{
    tb_doc_keys_t k = *keys;
    sweep_t sw;
    size_t sizes[TB_MAX_SIZES + 1], nsizes, send_elems = 0, recv_elems = 0, max_count = 0;
    tb_status_t st = TB_OK, worst = TB_OK;
    const tb_mem_kind_t *kinds[2];
    int skipped_big = 0;

    memset(&sw, 0, sizeof(sw));
    sw.s = s;
    sw.ops = ops;
    /* What tells this entry apart in messages: the pair's placement or the dtype. */
    sw.variant = keys->placement ? keys->placement : dt->name;
    sw.ctx.suite = s;
    sw.ctx.comm = comm;
    sw.ctx.dtype = dt;
    sw.ctx.window = s->opts->window;
    sw.ctx.world_rank = s->rt->rank;
    if ((st = TB_MPI_CHECK(MPI_Comm_rank(comm, &sw.ctx.rank))) ||
        (st = TB_MPI_CHECK(MPI_Comm_size(comm, &sw.ctx.nranks))))
        return st;
    sw.ctx.peer = sw.ctx.nranks == 2 ? 1 - sw.ctx.rank : -1;
    if (ops->kind == TB_KIND_P2P) {
        int peer_world = -1, me = s->rt->rank;
        st = TB_MPI_CHECK(MPI_Sendrecv(&me, 1, MPI_INT, sw.ctx.peer, 0, &peer_world, 1,
                                       MPI_INT, sw.ctx.peer, 0, comm, MPI_STATUS_IGNORE));
        sw.ctx.peer_world = peer_world;
    }
    k.dtype = dt->name;
    for (int side = 0; side < 2; side++) {
        const char *name = side ? k.recv_memory : k.send_memory;
        kinds[side] = tb_mem_kind_find(name && *name ? name : "host");
        if (!kinds[side])
            return tb_error(TB_ERR_INTERNAL, "%s: unknown memory kind '%s'", ops->name, name);
        if (kinds[side]->needs_gpu)
            sw.cu = s->gpu && s->gpu->ok ? s->gpu->cu : NULL;
    }
    sw.entry = tb_suite_begin_test(s, ops->name, ops->kind == TB_KIND_P2P ? "p2p" : "collective",
                                   &k, params);
    if ((kinds[0]->needs_gpu || kinds[1]->needs_gpu) && !sw.cu) {
        /* run.c skips GPU tests when the job has no GPU; never measure host memory instead. */
        if (sw.entry)
            tb_suite_end_test(s, sw.entry, "skipped",
                              s->gpu && s->gpu->why[0] ? s->gpu->why : "no usable GPU");
        return TB_OK;
    }
    sw.device_direct = tb_xport_device_memory(s);
    if (ops->kind == TB_KIND_P2P) {
        /* The entry's transport. A transport that takes no device memory, where MPI would
         * stage it, measures nothing on device buffers. */
        const char *why = tb_xport_mem_skip_reason(s);
        if (!why)
            st = tb_rt_agree_comm(comm, tb_xport_open(s, comm, 2 * sw.ctx.window, &sw.xp));
        if (st || why) {
            if (sw.entry)
                tb_suite_end_test(s, sw.entry, why ? "skipped" : tb_status_string(st), why);
            tb_xport_close(&sw.xp);
            return st;
        }
        sw.ctx.xp = &sw.xp;
    }
    if (sw.entry)
        entry_transfer(s, sw.entry, kinds, sw.device_direct);

    nsizes = tb_opts_sizes(s->opts, sizes, sizeof(sizes) / sizeof(sizes[0]));
    /* Buffers for the largest size that fits the per-rank limit. */
    for (size_t i = 0; i < nsizes; i++) {
        size_t count = sizes[i] / dt->size, se, re;
        ops->buffers(count, sw.ctx.nranks, &se, &re);
        if ((se > re ? se : re) * dt->size > TB_MAX_BUFFER_BYTES) {
            skipped_big = 1;
            nsizes = i;
            break;
        }
        if (count > max_count) {
            max_count = count;
            send_elems = se;
            recv_elems = re;
        }
    }
    if (skipped_big && s->rt->rank == 0) {
        char note[160];
        snprintf(note, sizeof(note),
                 "sizes above %zu bytes skipped: their buffers would exceed %zu bytes per rank",
                 nsizes ? sizes[nsizes - 1] : 0, TB_MAX_BUFFER_BYTES);
        tb_warn("%s: %s", ops->name, note);
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(sw.entry, "note", json_string(note));
        pthread_mutex_unlock(&s->doc_lock);
    }
    sw.ctx.buf_bytes = (send_elems > recv_elems ? send_elems : recv_elems) * dt->size;
    if (sw.ctx.buf_bytes)
        st = sweep_buffers(&sw, kinds);
    st = tb_rt_agree_comm(comm, st);

    for (size_t i = 0; st == TB_OK && i < nsizes; i++) {
        /* Smaller than one element, or the same whole elements as the size before. */
        if (sizes[i] / dt->size == 0 ||
            (i > 0 && sizes[i] / dt->size == sizes[i - 1] / dt->size))
            continue;
        for (int in_place = 0; in_place <= ops->has_in_place && st == TB_OK; in_place++) {
            tb_status_t one;
            if (s->rt->rank == 0) {
                char sz[32];
                tb_progress_step(&s->progress,
                                 (double)(i * (1 + ops->has_in_place) + in_place) /
                                     (double)(nsizes * (1 + ops->has_in_place)),
                                 "%s%s", tb_size_format(sizes[i], sz, sizeof(sz)),
                                 in_place ? " in-place" : "");
            }
            one = sweep_one(&sw, sizes[i], in_place);
            if (one == TB_ERR_CORRUPT) {
                worst = TB_ERR_CORRUPT; /* keep measuring: report every bad size */
                one = TB_OK;
            }
            /* Rank 0 saves what finished every few seconds meanwhile. */
            st = tb_suite_sync(s, comm, one);
        }
    }
    if (st == TB_OK)
        st = worst;
    if (s->rt->rank == 0)
        tb_progress_clear(&s->progress);
    /* A corrupted entry keeps its status and still says what carried the bad data. */
    if ((st == TB_OK || st == TB_ERR_CORRUPT) && sw.ctx.xp) {
        tb_status_t sel = harness_selected(s, &sw);
        if (sel)
            st = sel;
    }
    tb_xport_close(&sw.xp);
    sweep_free_buffers(&sw);
    free(sw.times);
    free(sw.reduced);
    if (sw.entry)
        tb_suite_end_test(s, sw.entry, st == TB_OK ? "ok" : tb_status_string(st), NULL);
    return st;
}
