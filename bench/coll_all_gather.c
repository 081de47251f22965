/* all_gather. S = bytes each rank contributes; algbw = S x n / t; busbw = algbw x (n-1)/n
 * (REFERENCE.md §1). In place, each rank's contribution already sits at its slot of the
 * receive buffer. */
#include "harness.h"

static void buffers(size_t count, int n, size_t *send_elems, size_t *recv_elems)
{
    *send_elems = count;
    *recv_elems = count * (size_t)n;
}

static double alg_bytes(const tb_bench_ctx_t *ctx) { return (double)ctx->size * ctx->nranks; }
static double bus_factor(int n) { return (double)(n - 1) / n; }

static tb_status_t run(tb_bench_ctx_t *ctx)
{
    const void *src = ctx->in_place ? MPI_IN_PLACE : ctx->sendbuf;
    return TB_MPI_CHECK(MPI_Allgather(src, (int)ctx->count, ctx->dtype->mpi, ctx->recvbuf,
                                      (int)ctx->count, ctx->dtype->mpi, ctx->comm));
}

static void fill(tb_bench_ctx_t *ctx, long iter)
{
    size_t total = ctx->count * (size_t)ctx->nranks;
    char *slot = (char *)ctx->recv_host + ctx->count * (size_t)ctx->rank * ctx->dtype->size;
    for (size_t i = 0; i < total; i++)
        tb_buf_set(ctx->dtype, ctx->recv_host, i, -1);
    tb_pattern_fill(ctx->dtype, ctx->in_place ? slot : ctx->send_host, ctx->count, ctx->rank, 0,
                    iter, ctx->size, 0);
}

static void check(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    for (int r = 0; r < ctx->nranks; r++) {
        uint64_t seed = tb_pattern_seed(r, iter, ctx->size);
        for (size_t i = 0; i < ctx->count; i++)
            tb_check_elem(ctx, mm, (size_t)r * ctx->count + i, tb_pattern_copy(seed, i));
    }
}

TB_COLLECTIVE_OPS(tb_test_all_gather, "all_gather", 1);
