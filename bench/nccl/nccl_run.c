/* The nccl_* tests: NCCL collectives on device memory, one GPU per rank, run and timed as
 * nccl-tests runs them (its src/common.cu, read for the method):
 *
 * - one communicator for the run: rank 0's ncclGetUniqueId broadcast over MPI, then
 *   ncclCommInitRank on every rank (its time recorded: at scale users wait for it);
 * - per entry (collective x type), a warm-up of -w iterations at every size from -b to -e
 *   doubling, as nccl-tests' TimeTest does;
 * - per size, out-of-place then in-place: one operation and a barrier, then a batch of -n
 *   iterations queued back to back on one stream (each shifted through the buffers as
 *   nccl-tests shifts them), timed on the host clock from the first enqueue to the end
 *   of the stream synchronisation, divided by the iterations (and by -G's launches when
 *   the batch was captured as a CUDA graph); -z adds nccl-tests' waits and barriers; the
 *   time over ranks is -a's (mean by default). That batch is nccl-tests' figure.
 *   topobench repeats it --batches times: the headline is the mean of the batches, with
 *   min, median, p99 and cv of the batches beside it;
 * - -c check iterations: the send buffer filled from the host, the operation, the
 *   receive buffer copied back and every element compared; #wrong sums over ranks.
 *
 * Without NCCL, a CUDA runtime or a GPU for every rank, every selected nccl_* test is
 * recorded as skipped with the reason (library, paths searched, symbol), said once. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h"
#include "gpu.h"
#include "harness.h"
#include "nccl_bench.h"
#include "stats.h"
#include "suite.h"
#include "units.h"
#include "watchdog.h"

#define WHY_LEN 2048

typedef struct nccl_run {
    tb_suite_t *s;
    const tb_cuda_t *cu;
    tb_nccl_lib_t lib;
    tb_nccl_comm_t comm;
    tb_nccl_stream_t stream;
    int rank, nranks, device;
    int iters, warmup;
    double init_us[3]; /* ncclCommInitRank: fastest, mean, slowest rank */
    json_t *nccl_json; /* rank 0: run.nccl */
} nccl_run_t;

/* ---- skips ---- */

/* Rank 0: an entry per selected test (and type), skipped with `why`. The reason is printed
 * with the first entry only; the others say so in one line. */
static void skip_entries(tb_suite_t *s, const tb_nccl_coll_t *const *colls, size_t n,
                         const char *why)
{
    char others[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        tb_doc_keys_t keys = tb_suite_keys(s->opts->nccl.dtype, NULL, NULL);
        json_t *e;
        keys.backend = "nccl";
        keys.send_memory = keys.recv_memory = "device";
        e = tb_suite_begin_test(s, colls[i]->name, "collective", &keys, NULL);
        if (!e)
            continue;
        if (i == 0) {
            (void)tb_suite_end_test(s, e, "skipped", why);
            continue;
        }
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(e, "status", json_string("skipped"));
        json_object_set_new(e, "skip_reason", json_string(why));
        s->dirty = s->finished_unsaved = 1;
        pthread_mutex_unlock(&s->doc_lock);
        if (len < sizeof(others))
            len += (size_t)snprintf(others + len, sizeof(others) - len, "%s%s",
                                    len ? ", " : "", colls[i]->name);
    }
    if (len && !s->opts->quiet)
        printf("# %s: skipped for the same reason\n\n", others);
}

/* Every rank: whether any rank failed (why non-empty); if so every rank gets the first
 * failing rank's reason, prefixed with its rank and host. */
static tb_status_t agree_reason(tb_suite_t *s, char *why, int *failed_p)
{
    const tb_rt_t *rt = s->rt;
    int mine = why[0] ? rt->rank : INT_MAX, first = INT_MAX;
    char buf[WHY_LEN];
    tb_status_t st;
    *failed_p = 0;
    if ((st = TB_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, rt->world))))
        return st;
    if (first == INT_MAX)
        return TB_OK;
    if (rt->rank == first)
        snprintf(buf, sizeof(buf), "%s", why);
    if ((st = TB_MPI_CHECK(MPI_Bcast(buf, (int)sizeof(buf), MPI_CHAR, first, rt->world))))
        return st;
    buf[sizeof(buf) - 1] = '\0';
    if (rt->size > 1)
        snprintf(why, WHY_LEN, "rank %d (host %s): %s", first, tb_rt_host_of(rt, first), buf);
    else
        snprintf(why, WHY_LEN, "%s", buf);
    *failed_p = 1;
    return TB_OK;
}

/* This rank's NCCL, CUDA runtime and GPU; "" in `why` when all are there. The GPU state
 * (runtime, this rank's device from --gpus or the local rank, made current) is the run's
 * (bench/gpu/gpu.h), so NCCL uses the GPU every other test of the run uses. */
static void open_local(nccl_run_t *r, char *why)
{
    const tb_opts_t *o = r->s->opts;
    const tb_gpu_t *g = r->s->gpu;
    char nwhy[TB_NCCL_WHY_LEN];
    why[0] = '\0';
    if (tb_nccl_lib_open(o->nccl.lib, &r->lib, nwhy) != TB_OK) {
        snprintf(why, WHY_LEN, "no usable NCCL: %s", nwhy);
        return;
    }
    if (!g || !g->ok || !g->cu) {
        snprintf(why, WHY_LEN, "no GPU: %s", g && g->why[0] ? g->why : "no CUDA runtime");
        return;
    }
    r->cu = g->cu;
    r->device = g->device;
    /* NCCL refuses two ranks of one communicator on one GPU. */
    if (g->shared)
        snprintf(why, WHY_LEN,
                 "ranks of a node share a GPU (%d visible): NCCL needs one GPU per rank "
                 "(nccl-tests' -g 1); start at most that many ranks per node or map them with "
                 "--gpus",
                 r->cu->ndevices);
}

/* ---- the communicator ---- */

static tb_status_t comm_init(nccl_run_t *r)
{
    const tb_rt_t *rt = r->s->rt;
    tb_nccl_id_t id;
    double t0, t, sum = 0, ext[2], mine[2];
    tb_status_t st = TB_OK;

    memset(&id, 0, sizeof(id));
    tb_wd_context("nccl", "", 0, 0, TB_WD_COLLECTIVE, "creating the NCCL communicator");
    if ((st = TB_CUDA_CHECK(r->cu, r->cu->SetDevice(r->device))) == TB_OK)
        st = TB_CUDA_CHECK(r->cu, r->cu->StreamCreateWithFlags(
                                      (tb_cuda_stream_t *)&r->stream, TB_CUDA_STREAM_NON_BLOCKING));
    if (st == TB_OK && rt->rank == 0)
        st = TB_NCCL_CHECK(&r->lib, r->lib.GetUniqueId(&id));
    if ((st = tb_rt_agree(rt, st)) ||
        (st = TB_MPI_CHECK(MPI_Bcast(&id, (int)sizeof(id), MPI_BYTE, 0, rt->world))) ||
        (st = TB_MPI_CHECK(MPI_Barrier(rt->world))))
        return st;
    t0 = MPI_Wtime();
    st = TB_NCCL_CHECK(&r->lib, r->lib.CommInitRank(&r->comm, rt->size, id, rt->rank));
    t = MPI_Wtime() - t0;
    if ((st = tb_rt_agree(rt, st)))
        return st;
    mine[0] = t;
    mine[1] = -t;
    if ((st = TB_MPI_CHECK(MPI_Allreduce(&t, &sum, 1, MPI_DOUBLE, MPI_SUM, rt->world))) ||
        (st = TB_MPI_CHECK(MPI_Allreduce(mine, ext, 2, MPI_DOUBLE, MPI_MAX, rt->world))))
        return st;
    r->init_us[0] = -ext[1] * 1e6;
    r->init_us[1] = sum / rt->size * 1e6;
    r->init_us[2] = ext[0] * 1e6;
    return TB_OK;
}

/* ---- one entry ---- */

typedef struct entry {
    nccl_run_t *r;
    const tb_nccl_coll_t *coll;
    const tb_nccl_type_t *type;
    json_t *json;           /* rank 0 */
    char *sbuf, *rbuf;      /* device */
    size_t cap;             /* bytes of each device buffer */
    unsigned char *host;    /* staging for the check, cap bytes */
    double *samples;        /* one per batch */
    double busbw_sum;       /* nccl-tests' "Avg bus bandwidth": every line's busbw */
    long busbw_n, wrong_total;
} entry_t;

static void die(tb_status_t st, const char *what)
{
    if (st)
        tb_rt_abort(st, what);
}

/* A failed call inside a measurement cannot be agreed on (the others sit in NCCL): the
 * job ends (architecture.md, "Decisions"). */
#define RUN_OR_ABORT(e, expr)                                                                  \
    die(TB_NCCL_CHECK(&(e)->r->lib, (expr)), (e)->coll->name)
#define CUDA_OR_ABORT(e, expr) die(TB_CUDA_CHECK((e)->r->cu, (expr)), (e)->coll->name)
#define MPI_OR_ABORT(e, expr) die(TB_MPI_CHECK(expr), (e)->coll->name)

static void sync_stream(entry_t *e)
{
    CUDA_OR_ABORT(e, e->r->cu->StreamSynchronize((tb_cuda_stream_t)e->r->stream));
}

/* Pointers of a size and placement (nccl-tests' startColl: in place, the send pointer is
 * inside the receive buffer at the collective's offset). */
static void pointers(const entry_t *e, const tb_nccl_counts_t *c, int in_place, size_t shift,
                     char **s, char **rv)
{
    size_t elt = e->type->size, rank = (size_t)e->r->rank;
    *rv = e->rbuf + shift + (in_place ? c->recv_inplace * rank * elt : 0);
    *s = in_place ? e->rbuf + shift + c->send_inplace * rank * elt : e->sbuf + shift;
}

/* One timed batch; returns the time per iteration over ranks as -a says. */
static double batch(entry_t *e, tb_nccl_call_t *call, const tb_nccl_counts_t *c, int in_place)
{
    const tb_nccl_opts_t *no = &e->r->s->opts->nccl;
    const tb_cuda_t *cu = e->r->cu;
    MPI_Comm world = e->r->s->rt->world;
    size_t elt = e->type->size;
    size_t total = (c->send > c->recv ? c->send : c->recv) * elt;
    size_t steps = total ? e->r->s->opts->max_bytes / total : 1;
    tb_cuda_graph_t graph = NULL;
    tb_cuda_graph_exec_t exec = NULL;
    double t0, dt, coll_only = 0, out = 0;
    char *sp, *rp;

    if (steps == 0)
        steps = 1;
    if (no->graph > 0)
        CUDA_OR_ABORT(e, cu->StreamBeginCapture((tb_cuda_stream_t)e->r->stream,
                                                TB_CUDA_CAPTURE_THREAD_LOCAL));
    t0 = MPI_Wtime();
    for (int i = 0; i < e->r->iters; i++) {
        double ti = MPI_Wtime();
        tb_wd_iteration(i);
        pointers(e, c, in_place, total * ((size_t)i % steps), &sp, &rp);
        RUN_OR_ABORT(e, e->coll->run(call, sp, rp));
        if (no->blocking)
            sync_stream(e);
        if (no->blocking == 1)
            MPI_OR_ABORT(e, MPI_Barrier(world));
        if (no->blocking == 3) {
            coll_only += MPI_Wtime() - ti;
            MPI_OR_ABORT(e, MPI_Barrier(world));
        }
        tb_wd_beat();
    }
    if (no->graph > 0) {
        CUDA_OR_ABORT(e, cu->StreamEndCapture((tb_cuda_stream_t)e->r->stream, &graph));
        CUDA_OR_ABORT(e, cu->GraphInstantiateWithFlags(&exec, graph, 0));
        MPI_OR_ABORT(e, MPI_Barrier(world));
        t0 = MPI_Wtime();
        for (int l = 0; l < no->graph; l++)
            CUDA_OR_ABORT(e, cu->GraphLaunch(exec, (tb_cuda_stream_t)e->r->stream));
    }
    if (!no->blocking)
        sync_stream(e);
    dt = (no->blocking == 3 ? coll_only : MPI_Wtime() - t0) / e->r->iters;
    if (no->graph > 0) {
        dt /= no->graph;
        CUDA_OR_ABORT(e, cu->GraphExecDestroy(exec));
        CUDA_OR_ABORT(e, cu->GraphDestroy(graph));
    }
    switch (no->average) {
    case 0: /* rank 0's own figure */
        out = dt;
        MPI_OR_ABORT(e, MPI_Bcast(&out, 1, MPI_DOUBLE, 0, world));
        break;
    case 2: MPI_OR_ABORT(e, MPI_Allreduce(&dt, &out, 1, MPI_DOUBLE, MPI_MIN, world)); break;
    case 3: MPI_OR_ABORT(e, MPI_Allreduce(&dt, &out, 1, MPI_DOUBLE, MPI_MAX, world)); break;
    default:
        MPI_OR_ABORT(e, MPI_Allreduce(&dt, &out, 1, MPI_DOUBLE, MPI_SUM, world));
        out /= e->r->nranks;
        break;
    }
    return out;
}

/* Writes `n` values of `rank`'s send pattern to the device at `dst`. */
static void upload(entry_t *e, const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int root,
                   char *dst)
{
    for (size_t j = 0; j < c->send; j++)
        tb_nccl_set(e->type, e->host, j, e->coll->send_value(p, c, e->r->rank, root, j));
    if (c->send)
        CUDA_OR_ABORT(e, e->r->cu->Memcpy(dst, e->host, c->send * e->type->size,
                                          TB_CUDA_MEMCPY_H2D));
}

/* One check iteration; the wrong elements of this rank into *mm. */
static void check_once(entry_t *e, tb_nccl_call_t *call, const tb_nccl_counts_t *c,
                       int in_place, long iter, tb_mismatch_t *mm)
{
    const tb_cuda_t *cu = e->r->cu;
    tb_nccl_pattern_t p;
    size_t elt = e->type->size;
    char *sp, *rp;
    tb_nccl_pattern_init(&p, e->type, call->op, e->r->nranks, iter);
    pointers(e, c, in_place, 0, &sp, &rp);
    /* A receive buffer that was not written reads as 0xff bytes, never as the answer. */
    if (!in_place && c->recv)
        CUDA_OR_ABORT(e, cu->Memset(rp, 0xff, c->recv * elt));
    upload(e, &p, c, call->root, sp);
    if (e->r->s->opts->nccl.graph > 0) {
        tb_cuda_graph_t graph = NULL;
        tb_cuda_graph_exec_t exec = NULL;
        CUDA_OR_ABORT(e, cu->StreamBeginCapture((tb_cuda_stream_t)e->r->stream,
                                                TB_CUDA_CAPTURE_THREAD_LOCAL));
        RUN_OR_ABORT(e, e->coll->run(call, sp, rp));
        CUDA_OR_ABORT(e, cu->StreamEndCapture((tb_cuda_stream_t)e->r->stream, &graph));
        CUDA_OR_ABORT(e, cu->GraphInstantiateWithFlags(&exec, graph, 0));
        CUDA_OR_ABORT(e, cu->GraphLaunch(exec, (tb_cuda_stream_t)e->r->stream));
        sync_stream(e);
        CUDA_OR_ABORT(e, cu->GraphExecDestroy(exec));
        CUDA_OR_ABORT(e, cu->GraphDestroy(graph));
    } else {
        RUN_OR_ABORT(e, e->coll->run(call, sp, rp));
        sync_stream(e);
    }
    if (e->coll->root_only && e->r->rank != call->root)
        return;
    /* The test-only fault switch: one wrong element in device memory, found by the same
     * copy back and compare as a real one. */
    if (c->recv && tb_suite_fault(e->r->s, "corrupt", e->coll->name))
        CUDA_OR_ABORT(e, cu->Memset(rp + (c->recv / 2) * elt, 0x5a, 1));
    if (c->recv)
        CUDA_OR_ABORT(e, cu->Memcpy(e->host, rp, c->recv * elt, TB_CUDA_MEMCPY_D2H));
    for (size_t j = 0; j < c->recv; j++) {
        double want = e->coll->recv_value(&p, c, e->r->rank, call->root, j);
        double got = tb_nccl_get(e->type, e->host, j);
        if (!tb_nccl_pattern_ok(&p, want, got))
            tb_mismatch_note(mm, j, want, got);
    }
}

/* JSON has no NaN: a corrupted float often reads as one. */
static json_t *number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Every rank's first wrong element, recorded at rank 0. */
static tb_status_t collect_errors(entry_t *e, const tb_mismatch_t *mm, size_t size,
                                  int in_place, const char *opname, int root, long iter)
{
    const tb_rt_t *rt = e->r->s->rt;
    double mine[4] = {(double)mm->wrong, (double)mm->first_offset, mm->expected, mm->got};
    double *all = NULL;
    tb_status_t st;
    if ((st = tb_rt_alloc_agreed(rt->world, 1, sizeof(mine) * (size_t)rt->size, (void **)&all)) ||
        (st = TB_MPI_CHECK(MPI_Gather(mine, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, 0, rt->world))))
        goto out;
    for (int q = 0; rt->rank == 0 && q < rt->size; q++) {
        double *x = all + 4 * q;
        if (x[0] > 0)
            tb_suite_add_error(e->r->s, e->json,
                               json_pack("{s:I, s:b, s:s, s:i, s:i, s:s, s:I, s:o, s:o, s:I, "
                                         "s:I}",
                                         "size", (json_int_t)size, "in_place", in_place,
                                         "redop", opname, "root", root, "rank", q, "host",
                                         tb_rt_host_of(rt, q), "offset", (json_int_t)x[1],
                                         "expected", number(x[2]), "got", number(x[3]),
                                         "wrong", (json_int_t)x[0], "iteration",
                                         (json_int_t)iter));
    }
out:
    free(all);
    return st;
}

/* One line half: size, placement, op, root. */
static tb_status_t measure(entry_t *e, size_t size, int in_place, const tb_nccl_opdef_t *op,
                           int root)
{
    const tb_suite_t *s = e->r->s;
    const tb_opts_t *o = s->opts;
    const tb_nccl_opts_t *no = &o->nccl;
    tb_nccl_counts_t c;
    tb_nccl_call_t call = {&e->r->lib, e->r->comm, e->r->stream, e->type,
                           op ? op->nccl : TB_NCCL_SUM, root < 0 ? 0 : root,
                           e->r->rank, e->r->nranks, 0};
    tb_nccl_pattern_t p;
    tb_mismatch_t mm;
    unsigned long long wrong_local, wrong = 0;
    const char *opname = e->coll->reduces || e->coll->op_column ? (op ? op->name : "sum")
                                                                  : "none";
    char *sp, *rp;
    tb_status_t st = TB_OK;
    size_t elt = e->type->size;

    e->coll->counts(size / elt, elt, e->r->nranks, &c);
    call.param = c.param;
    tb_wd_context(e->coll->name, e->type->name, size, 0, TB_WD_COLLECTIVE,
                  "waiting in an NCCL collective");
    if (tb_suite_fault(s, "hang", e->coll->name))
        tb_suite_hang(e->coll->name, e->type->name, size);

    /* Valid data for the timed iterations (nccl-tests initialises them too). */
    tb_nccl_pattern_init(&p, e->type, call.op, e->r->nranks, 0);
    pointers(e, &c, in_place, 0, &sp, &rp);
    upload(e, &p, &c, call.root, sp);
    /* nccl-tests' BenchTime: one operation, completed, then a barrier. */
    RUN_OR_ABORT(e, e->coll->run(&call, sp, rp));
    sync_stream(e);
    MPI_OR_ABORT(e, MPI_Barrier(s->rt->world));
    for (int b = 0; b < no->batches; b++)
        e->samples[b] = batch(e, &call, &c, in_place);

    memset(&mm, 0, sizeof(mm));
    if (o->check) {
        long iter = 1;
        for (int k = 0; k < o->check_iters; k++, iter++)
            check_once(e, &call, &c, in_place, iter, &mm);
        wrong_local = mm.wrong;
        MPI_OR_ABORT(e, MPI_Allreduce(&wrong_local, &wrong, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                                      s->rt->world));
        if (mm.wrong)
            tb_log(TB_LOG_ERROR,
                   "data corruption: test '%s' (%s, %s) size %zu%s: %zu wrong elements, first "
                   "at offset %zu: expected %g, got %g",
                   e->coll->name, e->type->name, opname, size, in_place ? " in-place" : "",
                   mm.wrong, mm.first_offset, mm.expected, mm.got);
        if (wrong && (st = collect_errors(e, &mm, size, in_place, opname, root, iter - 1)))
            return st;
        e->wrong_total += (long)wrong;
    }

    if (e->r->rank == 0) {
        tb_stats_t stats;
        double t, algbw, busbw;
        size_t shown = (c.send > c.recv ? c.send : c.recv) * elt;
        json_t *row, *time_us;
        tb_stats_compute(e->samples, (size_t)no->batches, &stats);
        t = stats.mean;
        algbw = tb_nccl_algbw(e->coll, c.param, elt, e->r->nranks, t);
        busbw = algbw * e->coll->bus_factor(e->r->nranks);
        e->busbw_sum += busbw;
        e->busbw_n++;
        time_us = tb_doc_stats_us(&stats);
        row = json_pack("{s:I, s:I, s:s, s:s, s:i, s:b, s:i, s:i, s:i, s:o, s:o, s:o, s:I, s:b}",
                        "size", (json_int_t)shown, "count", (json_int_t)c.param, "type",
                        e->type->name, "redop", opname, "root", e->coll->rooted ? root : -1,
                        "in_place", in_place, "iterations", e->r->iters, "batches",
                        no->batches, "warmup", e->r->warmup, "time_us", time_us, "algbw_gbps",
                        number(algbw), "busbw_gbps", number(busbw), "wrong",
                        (json_int_t)wrong, "checked", o->check);
        tb_suite_add_result(e->r->s, e->json, row);
    }
    return wrong ? TB_ERR_CORRUPT : TB_OK;
}

/* nccl-tests' TimeTest warm-up: -w out-of-place iterations at every size from -b to -e,
 * doubling. */
static void warm_up(entry_t *e, const tb_nccl_opdef_t *op, int root)
{
    const tb_opts_t *o = e->r->s->opts;
    size_t elt = e->type->size;
    tb_nccl_call_t call = {&e->r->lib, e->r->comm, e->r->stream, e->type,
                           op ? op->nccl : TB_NCCL_SUM, root < 0 ? 0 : root,
                           e->r->rank, e->r->nranks, 0};
    tb_wd_context(e->coll->name, e->type->name, 0, 0, TB_WD_COLLECTIVE, "warming up");
    for (size_t size = o->min_bytes; size <= o->max_bytes; size = size ? size * 2 : 1) {
        tb_nccl_counts_t c;
        char *sp, *rp;
        e->coll->counts(size / elt, elt, e->r->nranks, &c);
        call.param = c.param;
        pointers(e, &c, 0, 0, &sp, &rp);
        for (int i = 0; i < e->r->warmup; i++) {
            RUN_OR_ABORT(e, e->coll->run(&call, sp, rp));
            tb_wd_beat();
        }
    }
    sync_stream(e);
}

static json_t *entry_params(const entry_t *e)
{
    const tb_nccl_opts_t *no = &e->r->s->opts->nccl;
    const tb_nccl_lib_t *lib = &e->r->lib;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
                     "s:i, s:{s:f, s:f, s:f}, s:s}",
                     "perf", e->coll->perf, "dtype", e->type->name, "op",
                     e->coll->reduces ? no->op : "none", "nccl_library",
                     lib->resolved[0] ? lib->resolved : lib->path, "nccl_version",
                     lib->version_str, "nccl_version_code", lib->version, "memory", "device",
                     "ranks", e->r->nranks, "gpus_per_rank", 1, "root",
                     e->coll->rooted ? no->root : -1, "iters", e->r->iters, "warmup",
                     e->r->warmup, "blocking", no->blocking, "cudagraph", no->graph,
                     "average", no->average, "comm_init_us", "min", e->r->init_us[0], "mean",
                     e->r->init_us[1], "max", e->r->init_us[2], "timing",
                     "nccl-tests: host clock over a batch of iterations queued on one stream, "
                     "per iteration; headline = mean of the batches");
}

/* Ops of the entry: the one asked for, every one the library has ("all"), or none. */
static size_t entry_ops(const entry_t *e, const tb_nccl_opdef_t **ops)
{
    const char *want = e->r->s->opts->nccl.op;
    size_t n = 0;
    if (!e->coll->reduces && !e->coll->op_column) {
        ops[0] = NULL;
        return 1;
    }
    for (size_t i = 0; i < tb_nccl_nops; i++)
        if ((!strcmp(want, "all") && tb_nccl_ops[i].since <= e->r->lib.version) ||
            !strcmp(want, tb_nccl_ops[i].name))
            ops[n++] = &tb_nccl_ops[i];
    if (!e->coll->reduces) /* sendrecv's redop column shows the op; one is enough */
        n = n > 1 ? 1 : n;
    return n;
}

static tb_status_t run_entry(nccl_run_t *r, const tb_nccl_coll_t *coll, const tb_nccl_type_t *type)
{
    tb_suite_t *s = r->s;
    const tb_opts_t *o = s->opts;
    entry_t e;
    const tb_nccl_opdef_t *ops[8];
    size_t sizes[TB_MAX_SIZES + 1], nsizes, nops;
    tb_nccl_counts_t cmax;
    tb_doc_keys_t keys = tb_suite_keys(type->name, NULL, NULL);
    tb_status_t st = TB_OK, worst = TB_OK;
    int root_first = o->nccl.root < 0 ? 0 : o->nccl.root;
    int root_last = coll->rooted && o->nccl.root < 0 ? r->nranks - 1 : root_first;

    memset(&e, 0, sizeof(e));
    e.r = r;
    e.coll = coll;
    e.type = type;
    keys.backend = "nccl";
    keys.send_memory = keys.recv_memory = "device";
    e.json = tb_suite_begin_test(s, coll->name, "collective", &keys,
                                 r->rank == 0 ? entry_params(&e) : NULL);
    if (type->since > r->lib.version) {
        char why[256];
        char need[32];
        tb_nccl_version_string(type->since, need, sizeof(need));
        snprintf(why, sizeof(why), "type %s needs NCCL %s; %s is %s", type->name, need,
                 r->lib.path, r->lib.version_str);
        return e.json ? tb_suite_end_test(s, e.json, "skipped", why) : TB_OK;
    }
    nops = entry_ops(&e, ops);

    /* Buffers for the largest size, at least -e bytes so nccl-tests' per-iteration shift
     * stays inside them. */
    nsizes = tb_opts_sizes(o, sizes, sizeof(sizes) / sizeof(sizes[0]));
    coll->counts(o->max_bytes / type->size, type->size, r->nranks, &cmax);
    e.cap = (cmax.send > cmax.recv ? cmax.send : cmax.recv) * type->size;
    if (e.cap < o->max_bytes)
        e.cap = o->max_bytes;
    e.cap = (e.cap + 4095) & ~(size_t)4095;
    st = TB_CUDA_CHECK(r->cu, r->cu->Malloc((void **)&e.sbuf, e.cap));
    if (st == TB_OK)
        st = TB_CUDA_CHECK(r->cu, r->cu->Malloc((void **)&e.rbuf, e.cap));
    if (st == TB_OK && (!(e.host = malloc(e.cap)) ||
                        !(e.samples = malloc(sizeof(double) * (size_t)o->nccl.batches))))
        st = tb_error(TB_ERR_ENV, "%s: out of host memory for %zu bytes", coll->name, e.cap);
    if (st == TB_OK && tb_suite_fault(s, "oom", coll->name))
        st = tb_error(TB_ERR_ENV, "%s: an injected allocation failure", coll->name);
    st = tb_rt_agree(s->rt, st);

    for (size_t k = 0; st == TB_OK && k < nops; k++) {
        for (int root = root_first; st == TB_OK && root <= root_last; root++) {
            warm_up(&e, ops[k], root);
            for (size_t i = 0; st == TB_OK && i < nsizes; i++) {
                for (int in_place = 0; in_place <= 1 && st == TB_OK; in_place++) {
                    tb_status_t one;
                    if (r->rank == 0) {
                        char sz[32];
                        tb_progress_step(&s->progress, (double)(i * 2 + (size_t)in_place) /
                                                           (double)(nsizes * 2),
                                         "%s %s%s", type->name,
                                         tb_size_format(sizes[i], sz, sizeof(sz)),
                                         in_place ? " in-place" : "");
                    }
                    one = measure(&e, sizes[i], in_place, ops[k], coll->rooted ? root : -1);
                    if (one == TB_ERR_CORRUPT) {
                        worst = TB_ERR_CORRUPT;
                        one = TB_OK;
                    }
                    st = tb_suite_sync(s, s->rt->world, one);
                }
            }
        }
    }
    if (st == TB_OK)
        st = worst;
    if (r->rank == 0) {
        tb_progress_clear(&s->progress);
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(e.json, "summary",
                            json_pack("{s:o, s:I}", "avg_busbw_gbps",
                                      number(e.busbw_n ? e.busbw_sum / (double)e.busbw_n : 0),
                                      "out_of_bounds", (json_int_t)e.wrong_total));
        pthread_mutex_unlock(&s->doc_lock);
    }
    if (e.sbuf)
        (void)TB_CUDA_CHECK(r->cu, r->cu->Free(e.sbuf));
    if (e.rbuf)
        (void)TB_CUDA_CHECK(r->cu, r->cu->Free(e.rbuf));
    free(e.host);
    free(e.samples);
    if (e.json)
        (void)tb_suite_end_test(s, e.json, st == TB_OK ? "ok" : tb_status_string(st), NULL);
    return st;
}

/* Types of the run: -d's, or every one ("all"). */
static size_t run_types(const tb_opts_t *o, const tb_nccl_type_t **types)
{
    size_t n = 0;
    for (size_t i = 0; i < tb_nccl_ntypes; i++)
        if (!strcmp(o->nccl.dtype, "all") || !strcmp(o->nccl.dtype, tb_nccl_types[i].name))
            types[n++] = &tb_nccl_types[i];
    return n;
}

/* Rank 0: run.nccl in the document: the library, its version, the communicator's
 * creation time, or why NCCL was not used. */
static void record_library(tb_suite_t *s, const nccl_run_t *r, const char *skip)
{
    json_t *run, *j;
    if (!s->doc)
        return;
    if (skip)
        j = json_pack("{s:b, s:s}", "used", 0, "skip_reason", skip);
    else
        j = json_pack("{s:b, s:s, s:s, s:s, s:i, s:{s:f, s:f, s:f}}", "used", 1, "library",
                      r->lib.path, "resolved", r->lib.resolved, "version", r->lib.version_str,
                      "version_code", r->lib.version, "comm_init_us", "min", r->init_us[0],
                      "mean", r->init_us[1], "max", r->init_us[2]);
    pthread_mutex_lock(&s->doc_lock);
    run = json_object_get(s->doc, "run");
    if (run && j)
        json_object_set_new(run, "nccl", j);
    else
        json_decref(j);
    s->dirty = 1;
    pthread_mutex_unlock(&s->doc_lock);
}

tb_status_t tb_nccl_run_tests(tb_suite_t *s)
{
    const tb_opts_t *o = s->opts;
    const tb_nccl_coll_t *sel[16], *todo[16];
    const tb_nccl_type_t *types[16];
    size_t nsel = 0, ntodo = 0, ntypes;
    nccl_run_t r;
    tb_nccl_view_t view;
    char why[WHY_LEN];
    int failed = 0;
    tb_status_t st, worst = TB_OK;

    for (size_t i = 0; i < tb_nccl_ncolls; i++)
        if (tb_opts_has_test(o, tb_nccl_colls[i].name))
            sel[nsel++] = &tb_nccl_colls[i];
    if (nsel == 0)
        return TB_OK;
    memset(&r, 0, sizeof(r));
    r.s = s;
    r.rank = s->rt->rank;
    r.nranks = s->rt->size;
    /* nccl-tests' defaults unless -n / -w were given. */
    r.iters = o->iters > 0 ? (int)(o->iters < INT_MAX ? o->iters : INT_MAX) : 20;
    r.warmup = o->warmup >= 0 ? (int)(o->warmup < INT_MAX ? o->warmup : INT_MAX) : 1;

    tb_wd_context("nccl", "", 0, 0, TB_WD_LOCAL, "loading NCCL and the CUDA runtime");
    open_local(&r, why);
    if ((st = agree_reason(s, why, &failed)))
        goto out;
    if (failed) {
        if (r.rank == 0) {
            if (o->quiet) /* otherwise the first skipped entry's table line says it */
                tb_warn("NCCL tests skipped: %s", why);
            skip_entries(s, sel, nsel, why);
            record_library(s, &r, why);
        }
        st = TB_OK;
        goto out;
    }
    /* Tests whose call the library lacks (ncclSend before 2.7): skipped, naming it. */
    for (size_t i = 0; i < nsel; i++) {
        const char *missing;
        if (tb_nccl_coll_supported(sel[i], &r.lib, &missing)) {
            todo[ntodo++] = sel[i];
        } else if (r.rank == 0) {
            char w[WHY_LEN];
            snprintf(w, sizeof(w), "%s (NCCL %s) lacks nccl%s (added in NCCL %s)",
                     r.lib.resolved[0] ? r.lib.resolved : r.lib.path, r.lib.version_str, missing,
                     tb_nccl_symbol_since(missing));
            skip_entries(s, &sel[i], 1, w);
        }
    }
    if (ntodo == 0)
        goto out;
    /* NCCL dumps its topology and graphs while the communicator is created. */
    tb_nccl_view_prepare(s->rt, &view);
    if ((st = comm_init(&r)) || (st = tb_nccl_view_gather(s, &view)))
        goto out;
    if (r.rank == 0) {
        record_library(s, &r, NULL);
        tb_info("NCCL %s (%s): communicator of %d ranks created in %.0f us (slowest rank)",
                r.lib.version_str, r.lib.resolved[0] ? r.lib.resolved : r.lib.path, r.nranks,
                r.init_us[2]);
    }
    ntypes = run_types(o, types);
    for (size_t i = 0; i < ntodo; i++) {
        for (size_t t = 0; t < ntypes; t++) {
            st = tb_suite_sync(s, s->rt->world, run_entry(&r, todo[i], types[t]));
            if (st > worst)
                worst = st;
            if (st != TB_OK && st != TB_ERR_CORRUPT)
                goto out;
        }
    }
    st = worst;
out:
    if (r.comm)
        (void)TB_NCCL_CHECK(&r.lib, r.lib.CommDestroy(r.comm));
    if (r.stream && r.cu)
        (void)TB_CUDA_CHECK(r.cu, r.cu->StreamDestroy((tb_cuda_stream_t)r.stream));
    /* The library stays loaded: NCCL's threads may outlive the communicator. */
    return st;
}
