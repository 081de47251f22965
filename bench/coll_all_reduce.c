/* all_reduce (sum). S = bytes of each rank's buffer; algbw = S / t;
 * busbw = algbw x 2(n-1)/n (nccl-tests). */
#include "harness.h"

static void buffers(size_t count, int n, size_t *send_elems, size_t *recv_elems)
{
    (void)n;
    *send_elems = *recv_elems = count;
}

static double alg_bytes(const tb_bench_ctx_t *ctx) { return (double)ctx->size; }
static double bus_factor(int n) { return 2.0 * (n - 1) / n; }

static tb_status_t run(tb_bench_ctx_t *ctx)
{
    const void *src = ctx->in_place ? MPI_IN_PLACE : ctx->sendbuf;
    return TB_MPI_CHECK(MPI_Allreduce(src, ctx->recvbuf, (int)ctx->count, ctx->dtype->mpi,
                                      MPI_SUM, ctx->comm));
}

static void fill(tb_bench_ctx_t *ctx, long iter)
{
    void *own = ctx->in_place ? ctx->recv_host : ctx->send_host;
    if (!ctx->in_place)
        for (size_t i = 0; i < ctx->count; i++)
            tb_buf_set(ctx->dtype, ctx->recv_host, i, -1);
    tb_pattern_fill(ctx->dtype, own, ctx->count, ctx->rank, 0, iter, ctx->size, 1);
}

static void check(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    double sums[17];
    tb_pattern_sums(ctx->nranks, sums);
    for (size_t i = 0; i < ctx->count; i++)
        tb_check_elem(ctx, mm, i, tb_pattern_sum(sums, i, iter, ctx->size));
}

TB_COLLECTIVE_OPS(tb_test_all_reduce, "all_reduce", 1);
