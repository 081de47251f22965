/* alltoall. S = bytes each rank sends to each peer (one block); algbw = S x n / t;
 * busbw = algbw x (n-1)/n (REFERENCE.md §1). Block d of rank r carries pattern indices
 * d*count.., so every block is distinguishable. */
#include "harness.h"

static void buffers(size_t count, int n, size_t *send_elems, size_t *recv_elems)
{
    *send_elems = *recv_elems = count * (size_t)n;
}

static double alg_bytes(const tb_bench_ctx_t *ctx) { return (double)ctx->size * ctx->nranks; }
static double bus_factor(int n) { return (double)(n - 1) / n; }

static tb_status_t run(tb_bench_ctx_t *ctx)
{
    const void *src = ctx->in_place ? MPI_IN_PLACE : ctx->sendbuf;
    return TB_MPI_CHECK(MPI_Alltoall(src, (int)ctx->count, ctx->dtype->mpi, ctx->recvbuf,
                                     (int)ctx->count, ctx->dtype->mpi, ctx->comm));
}

static void fill(tb_bench_ctx_t *ctx, long iter)
{
    size_t total = ctx->count * (size_t)ctx->nranks;
    if (!ctx->in_place)
        for (size_t i = 0; i < total; i++)
            tb_buf_set(ctx->dtype, ctx->recv_host, i, -1);
    tb_pattern_fill(ctx->dtype, ctx->in_place ? ctx->recv_host : ctx->send_host, total, ctx->rank,
                    0, iter, ctx->size, 0);
}

static void check(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    /* Block r of the result came from rank r's block number `rank`. */
    for (int r = 0; r < ctx->nranks; r++) {
        uint64_t seed = tb_pattern_seed(r, iter, ctx->size);
        for (size_t i = 0; i < ctx->count; i++)
            tb_check_elem(ctx, mm, (size_t)r * ctx->count + i,
                          tb_pattern_copy(seed, (size_t)ctx->rank * ctx->count + i));
    }
}

TB_COLLECTIVE_OPS(tb_test_alltoall, "alltoall", 1);
