/* reduce_scatter (sum, MPI_Reduce_scatter with every rank's count equal). S = bytes of
 * each rank's result; algbw = S x n / t; busbw = algbw x (n-1)/n. In place, the receive
 * buffer holds the whole input and the result lands in its first S bytes.
 *
 * MPI_Reduce_scatter, not MPI_Reduce_scatter_block: it is the call OSU's
 * osu_reduce_scatter times and the one applications make, and Open MPI chooses its
 * algorithms for the two separately (4.1's tuned component: up to 2-6x apart at 128 KiB
 * to 8 MiB on 2 ranks over shared memory, docs/perf.md). */
#include <stdlib.h>

#include "harness.h"

static void buffers(size_t count, int n, size_t *send_elems, size_t *recv_elems)
{
    *send_elems = count * (size_t)n;
    *recv_elems = count * (size_t)n; /* in-place needs the whole input here */
}

static double alg_bytes(const tb_bench_ctx_t *ctx) { return (double)ctx->size * ctx->nranks; }
static double bus_factor(int n) { return (double)(n - 1) / n; }

/* The counts array (every entry `count`), kept between iterations. */
static int *counts;
static int counts_n, counts_value = -1;

static tb_status_t run(tb_bench_ctx_t *ctx)
{
    const void *src = ctx->in_place ? MPI_IN_PLACE : ctx->sendbuf;
    if (ctx->nranks > counts_n) {
        int *c = realloc(counts, sizeof(*c) * (size_t)ctx->nranks);
        if (!c)
            return tb_error(TB_ERR_INTERNAL, "reduce_scatter: out of memory for %d counts",
                            ctx->nranks);
        counts = c;
        counts_n = ctx->nranks;
        counts_value = -1;
    }
    if (counts_value != (int)ctx->count) {
        for (int r = 0; r < counts_n; r++)
            counts[r] = (int)ctx->count;
        counts_value = (int)ctx->count;
    }
    return TB_MPI_CHECK(MPI_Reduce_scatter(src, ctx->recvbuf, counts, ctx->dtype->mpi, MPI_SUM,
                                           ctx->comm));
}

static void fill(tb_bench_ctx_t *ctx, long iter)
{
    size_t total = ctx->count * (size_t)ctx->nranks;
    if (!ctx->in_place)
        for (size_t i = 0; i < ctx->count; i++)
            tb_buf_set(ctx->dtype, ctx->recv_host, i, -1);
    tb_pattern_fill(ctx->dtype, ctx->in_place ? ctx->recv_host : ctx->send_host, total, ctx->rank,
                    0, iter, ctx->size, 1);
}

static void check(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    size_t base = (size_t)ctx->rank * ctx->count;
    double sums[17];
    tb_pattern_sums(ctx->nranks, sums);
    for (size_t i = 0; i < ctx->count; i++)
        tb_check_elem(ctx, mm, i, tb_pattern_sum(sums, base + i, iter, ctx->size));
}

TB_COLLECTIVE_OPS(tb_test_reduce_scatter, "reduce_scatter", 1);
