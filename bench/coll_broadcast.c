/* broadcast from root 0. S = bytes broadcast; algbw = S / t; busbw = algbw. One buffer
 * (the receive buffer), so there is no separate in-place variant. */
#include "harness.h"

static void buffers(size_t count, int n, size_t *send_elems, size_t *recv_elems)
{
    (void)n;
    *send_elems = 0;
    *recv_elems = count;
}

static double alg_bytes(const tb_bench_ctx_t *ctx) { return (double)ctx->size; }
static double bus_factor(int n)
{
    (void)n;
    return 1.0;
}

static tb_status_t run(tb_bench_ctx_t *ctx)
{
    return TB_MPI_CHECK(MPI_Bcast(ctx->recvbuf, (int)ctx->count, ctx->dtype->mpi, 0, ctx->comm));
}

static void fill(tb_bench_ctx_t *ctx, long iter)
{
    if (ctx->rank == 0)
        tb_pattern_fill(ctx->dtype, ctx->recv_host, ctx->count, 0, 0, iter, ctx->size, 0);
    else
        for (size_t i = 0; i < ctx->count; i++)
            tb_buf_set(ctx->dtype, ctx->recv_host, i, -1);
}

static void check(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    uint64_t seed = tb_pattern_seed(0, iter, ctx->size);
    for (size_t i = 0; i < ctx->count; i++)
        tb_check_elem(ctx, mm, i, tb_pattern_copy(seed, i));
}

TB_COLLECTIVE_OPS(tb_test_broadcast, "broadcast", 0);
