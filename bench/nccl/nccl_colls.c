/* The NCCL collectives, one table row each, with nccl-tests' definitions (src/<collective>.cu of
 * NVIDIA/nccl-tests, read for the facts, none of its code): buffer counts (all_gather,
 * reduce_scatter and alltoall round the per-rank count down to 16 bytes), in-place
 * offsets, algbw and busbw factors, and sendrecv's ring (send to rank+1, receive from
 * rank-1 in one group). Also the data patterns of the check. */
#include <math.h>
#include <string.h>

#include "harness.h" /* tb_mix64, tb_pattern_seed */
#include "nccl_bench.h"

/* ---- data patterns ---- */

void tb_nccl_pattern_init(tb_nccl_pattern_t *p, const tb_nccl_type_t *t, int op, int nranks,
                          long iter)
{
    double lim;
    memset(p, 0, sizeof(*p));
    p->type = t;
    p->op = op;
    p->nranks = nranks;
    p->iter = iter;
    for (p->copy_bits = 24; p->copy_bits > 1 && ldexp(1.0, (int)p->copy_bits) - 1 > t->exact;)
        p->copy_bits--;
    if (op == TB_NCCL_PROD)
        return;
    /* Sums must stay exact at every partial result: n x (m-1) within the type's exact
     * integers. Where even 0/1 values would not (more ranks than a small float holds),
     * one rank contributes 1 and the others 0. */
    lim = (op == TB_NCCL_MAX || op == TB_NCCL_MIN) ? t->exact : floor(t->exact / nranks);
    p->m = lim >= 16 ? 17u : (unsigned)lim + 1u;
    if (p->m < 2) {
        p->m = 0;
        return;
    }
    for (unsigned k = 0; k < p->m; k++) {
        double acc = op == TB_NCCL_MIN ? INFINITY : op == TB_NCCL_MAX ? -INFINITY : 0;
        for (int r = 0; r < nranks; r++) {
            double v = (double)((7ul * (unsigned long)r + k) % p->m);
            if (op == TB_NCCL_MIN)
                acc = v < acc ? v : acc;
            else if (op == TB_NCCL_MAX)
                acc = v > acc ? v : acc;
            else
                acc += v;
        }
        if (op == TB_NCCL_AVG)
            acc = t->is_int ? trunc(acc / nranks) : acc / nranks;
        p->table[k] = acc;
    }
}

static int one_hot_rank(const tb_nccl_pattern_t *p, size_t j)
{
    return (int)((j + (size_t)p->iter) % (size_t)p->nranks);
}

double tb_nccl_pattern_input(const tb_nccl_pattern_t *p, int rank, size_t j)
{
    if (p->op == TB_NCCL_PROD)
        return rank == one_hot_rank(p, j) ? 2 : 1;
    if (p->m == 0)
        return rank == one_hot_rank(p, j) ? 1 : 0;
    return (double)((7ul * (unsigned long)rank + (3ul * j + 5ul * (unsigned long)p->iter)) %
                    p->m);
}

double tb_nccl_pattern_result(const tb_nccl_pattern_t *p, size_t j)
{
    int n = p->nranks;
    if (p->op == TB_NCCL_PROD)
        return 2;
    if (p->m == 0) {
        switch (p->op) {
        case TB_NCCL_MIN: return n == 1 ? 1 : 0;
        case TB_NCCL_AVG: return p->type->is_int ? (n == 1 ? 1 : 0) : 1.0 / n;
        default: return 1;
        }
    }
    return p->table[(3ul * j + 5ul * (unsigned long)p->iter) % p->m];
}

double tb_nccl_pattern_copy(const tb_nccl_pattern_t *p, int rank, size_t j)
{
    uint64_t seed = tb_pattern_seed(rank, p->iter, 0);
    return (double)(tb_mix64(seed ^ (uint64_t)j) & ((1ull << p->copy_bits) - 1));
}

int tb_nccl_pattern_ok(const tb_nccl_pattern_t *p, double want, double got)
{
    if (p->op == TB_NCCL_AVG && !p->type->is_int) {
        /* NCCL multiplies each input by 1/n rounded to the type, then sums with rounding. */
        double tol = (p->nranks + 2) * ldexp(1.0, -p->type->mant_bits) * fmax(fabs(want), 1.0);
        return fabs(got - want) <= tol;
    }
    return got == want;
}

/* ---- the collectives ---- */

/* nccl-tests' per-rank count of the split collectives: count / n, down to whole 16 bytes. */
static size_t split_base(size_t count, size_t elt, int n)
{
    size_t per16 = elt < 16 ? 16 / elt : 1;
    return (count / (size_t)n) & ~(per16 - 1);
}

static void counts_same(size_t count, size_t elt, int n, tb_nccl_counts_t *c)
{
    (void)elt;
    (void)n;
    memset(c, 0, sizeof(*c));
    c->send = c->recv = c->param = count;
}

static void counts_all_gather(size_t count, size_t elt, int n, tb_nccl_counts_t *c)
{
    size_t base = split_base(count, elt, n);
    memset(c, 0, sizeof(*c));
    c->send = c->param = c->send_inplace = base;
    c->recv = base * (size_t)n;
}

static void counts_reduce_scatter(size_t count, size_t elt, int n, tb_nccl_counts_t *c)
{
    size_t base = split_base(count, elt, n);
    memset(c, 0, sizeof(*c));
    c->send = base * (size_t)n;
    c->recv = c->param = c->recv_inplace = base;
}

static void counts_alltoall(size_t count, size_t elt, int n, tb_nccl_counts_t *c)
{
    size_t base = split_base(count, elt, n);
    memset(c, 0, sizeof(*c));
    c->param = base;
    c->send = c->recv = base * (size_t)n;
}

static double bus_one(int n)
{
    (void)n;
    return 1.0;
}
static double bus_all_reduce(int n) { return 2.0 * (n - 1) / n; }
static double bus_split(int n) { return (double)(n - 1) / n; }

static tb_nccl_result_t run_all_reduce(const tb_nccl_call_t *c, const void *s, void *r)
{
    return c->lib->AllReduce(s, r, c->param, c->type->nccl, c->op, c->comm, c->stream);
}
static tb_nccl_result_t run_reduce(const tb_nccl_call_t *c, const void *s, void *r)
{
    return c->lib->Reduce(s, r, c->param, c->type->nccl, c->op, c->root, c->comm, c->stream);
}
static tb_nccl_result_t run_all_gather(const tb_nccl_call_t *c, const void *s, void *r)
{
    return c->lib->AllGather(s, r, c->param, c->type->nccl, c->comm, c->stream);
}
static tb_nccl_result_t run_reduce_scatter(const tb_nccl_call_t *c, const void *s, void *r)
{
    return c->lib->ReduceScatter(s, r, c->param, c->type->nccl, c->op, c->comm, c->stream);
}
static tb_nccl_result_t run_broadcast(const tb_nccl_call_t *c, const void *s, void *r)
{
    return c->lib->Broadcast(s, r, c->param, c->type->nccl, c->root, c->comm, c->stream);
}

/* ncclAlltoAll where the library has it (2.28), else nccl-tests' grouped send/receive
 * to and from every rank. */
static tb_nccl_result_t run_alltoall(const tb_nccl_call_t *c, const void *s, void *r)
{
    tb_nccl_result_t rc;
    size_t block = c->param * c->type->size;
    if (c->lib->AlltoAll)
        return c->lib->AlltoAll(s, r, c->param, c->type->nccl, c->comm, c->stream);
    if ((rc = c->lib->GroupStart()) != TB_NCCL_SUCCESS)
        return rc;
    for (int p = 0; p < c->nranks; p++) {
        if ((rc = c->lib->Send((const char *)s + (size_t)p * block, c->param, c->type->nccl, p,
                               c->comm, c->stream)) != TB_NCCL_SUCCESS ||
            (rc = c->lib->Recv((char *)r + (size_t)p * block, c->param, c->type->nccl, p,
                               c->comm, c->stream)) != TB_NCCL_SUCCESS) {
            (void)c->lib->GroupEnd();
            return rc;
        }
    }
    return c->lib->GroupEnd();
}

/* sendrecv_perf: every rank sends to rank+1 and receives from rank-1, one group. */
static tb_nccl_result_t run_sendrecv(const tb_nccl_call_t *c, const void *s, void *r)
{
    tb_nccl_result_t rc;
    int to = (c->rank + 1) % c->nranks, from = (c->rank - 1 + c->nranks) % c->nranks;
    if ((rc = c->lib->GroupStart()) != TB_NCCL_SUCCESS)
        return rc;
    if ((rc = c->lib->Send(s, c->param, c->type->nccl, to, c->comm, c->stream)) ==
        TB_NCCL_SUCCESS)
        rc = c->lib->Recv(r, c->param, c->type->nccl, from, c->comm, c->stream);
    if (rc != TB_NCCL_SUCCESS) {
        (void)c->lib->GroupEnd();
        return rc;
    }
    return c->lib->GroupEnd();
}

static double send_reduce(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                          int root, size_t j)
{
    (void)c;
    (void)root;
    return tb_nccl_pattern_input(p, rank, j);
}

static double send_copy(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                        int root, size_t j)
{
    (void)c;
    (void)root;
    return tb_nccl_pattern_copy(p, rank, j);
}

static double recv_all_reduce(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                              int root, size_t j)
{
    (void)c;
    (void)rank;
    (void)root;
    return tb_nccl_pattern_result(p, j);
}

static double recv_reduce_scatter(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c,
                                  int rank, int root, size_t i)
{
    (void)root;
    return tb_nccl_pattern_result(p, (size_t)rank * c->param + i);
}

static double recv_all_gather(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                              int root, size_t j)
{
    (void)rank;
    (void)root;
    return tb_nccl_pattern_copy(p, (int)(j / c->param), j % c->param);
}

static double recv_broadcast(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                             int root, size_t j)
{
    (void)c;
    (void)rank;
    return tb_nccl_pattern_copy(p, root, j);
}

/* Block r of the receive buffer is block `rank` of rank r's send buffer. */
static double recv_alltoall(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                            int root, size_t j)
{
    (void)root;
    return tb_nccl_pattern_copy(p, (int)(j / c->param), (size_t)rank * c->param + j % c->param);
}

static double recv_sendrecv(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                            int root, size_t j)
{
    (void)c;
    (void)root;
    return tb_nccl_pattern_copy(p, (rank - 1 + p->nranks) % p->nranks, j);
}

const tb_nccl_coll_t tb_nccl_colls[] = {
    {"nccl_all_reduce", "all_reduce_perf", 1, 0, 0, {NULL, NULL}, {NULL, NULL}, counts_same,
     bus_all_reduce, 0, run_all_reduce, send_reduce, recv_all_reduce, 0},
    {"nccl_all_gather", "all_gather_perf", 0, 0, 0, {NULL, NULL}, {NULL, NULL},
     counts_all_gather, bus_split, 1, run_all_gather, send_copy, recv_all_gather, 0},
    {"nccl_reduce_scatter", "reduce_scatter_perf", 1, 0, 0, {NULL, NULL}, {NULL, NULL},
     counts_reduce_scatter, bus_split, 1, run_reduce_scatter, send_reduce, recv_reduce_scatter,
     0},
    {"nccl_broadcast", "broadcast_perf", 0, 1, 0, {NULL, NULL}, {NULL, NULL}, counts_same,
     bus_one, 0, run_broadcast, send_copy, recv_broadcast, 0},
    {"nccl_reduce", "reduce_perf", 1, 1, 0, {NULL, NULL}, {NULL, NULL}, counts_same, bus_one, 0,
     run_reduce, send_reduce, recv_all_reduce, 1},
    {"nccl_alltoall", "alltoall_perf", 0, 0, 0, {"AlltoAll", NULL}, {"Send", "Recv"},
     counts_alltoall, bus_split, 1, run_alltoall, send_copy, recv_alltoall, 0},
    {"nccl_sendrecv", "sendrecv_perf", 0, 0, 1, {"Send", "Recv"}, {NULL, NULL}, counts_same,
     bus_one, 0, run_sendrecv, send_copy, recv_sendrecv, 0},
};
const size_t tb_nccl_ncolls = sizeof(tb_nccl_colls) / sizeof(tb_nccl_colls[0]);

const tb_nccl_coll_t *tb_nccl_coll_find(const char *name)
{
    for (size_t i = 0; i < tb_nccl_ncolls; i++)
        if (!strcmp(tb_nccl_colls[i].name, name))
            return &tb_nccl_colls[i];
    return NULL;
}

double tb_nccl_algbw(const tb_nccl_coll_t *coll, size_t param, size_t elt, int nranks,
                     double seconds)
{
    double bytes = (double)param * (double)elt * (coll->alg_ranks ? nranks : 1);
    return seconds > 0 ? bytes / 1e9 / seconds : 0;
}

static int has_all(const tb_nccl_lib_t *lib, const char *const set[2], const char **missing_p)
{
    for (int i = 0; i < 2; i++)
        if (set[i] && !tb_nccl_lib_has(lib, set[i])) {
            *missing_p = set[i];
            return 0;
        }
    return 1;
}

int tb_nccl_coll_supported(const tb_nccl_coll_t *coll, const tb_nccl_lib_t *lib,
                           const char **missing_p)
{
    const char *miss = NULL, *miss_alt = NULL;
    *missing_p = NULL;
    if (has_all(lib, coll->needs, &miss))
        return 1;
    if (coll->alt[0] && has_all(lib, coll->alt, &miss_alt))
        return 1;
    *missing_p = miss;
    return 0;
}
