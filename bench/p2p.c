/* Point-to-point tests over the entry's transport (MPI or UCX, xport.h), in OSU's method:
 *  latency: ping-pong, reported as half the round trip;
 *  bw:      the initiator posts a window of non-blocking sends, waits, then waits for a
 *           small acknowledgement; bandwidth = size x window / time;
 *  bibw:    both sides post the window of receives and sends; counts both directions.
 * Comm rank 0 is the initiator and the timing rank. Like OSU, every message of a window
 * uses the same buffer; check iterations still see the whole pattern because every
 * message of the window carries identical bytes.
 *
 * Staged device buffers (MPI not CUDA-aware): every leg pays its copies where a staging
 * program would: the sender copies device -> pinned host before it sends, the receiver
 * pinned host -> device after it received and before it answers, so the initiator's time
 * includes both sides' copies. A window's messages share one buffer (as in OSU), so a
 * window is staged once on each side. */
#include <stdlib.h>

#include "harness.h"
#include "xport.h"

#define TAG_DATA 11
#define TAG_ACK 12

static void p2p_buffers(size_t count, int nranks, size_t *send_elems, size_t *recv_elems)
{
    (void)nranks;
    *send_elems = *recv_elems = count;
}

static double bytes_window(const tb_bench_ctx_t *ctx)
{
    return (double)ctx->size * ctx->window;
}
static double bytes_window2(const tb_bench_ctx_t *ctx)
{
    return 2.0 * (double)ctx->size * ctx->window;
}

#define XP_TRY(call)                                                                               \
    do {                                                                                           \
        tb_status_t xp_st_ = (call);                                                               \
        if (xp_st_ != TB_OK)                                                                       \
            return xp_st_;                                                                         \
    } while (0)

/* The messages go through the entry's transport (ctx->xp, xport.h): request slots 0..w-1
 * hold a window's receives or sends, w..2w-1 bibw's sends. */
static tb_status_t latency_run(tb_bench_ctx_t *ctx)
{
    tb_xport_t *x = ctx->xp;
    if (ctx->rank == 0) {
        tb_stage_send(ctx);
        XP_TRY(x->ops->send(x, ctx->sendbuf, ctx->size, ctx->peer, TAG_DATA));
        XP_TRY(x->ops->recv(x, ctx->recvbuf, ctx->size, ctx->peer, TAG_DATA));
        tb_stage_recv(ctx);
    } else {
        XP_TRY(x->ops->recv(x, ctx->recvbuf, ctx->size, ctx->peer, TAG_DATA));
        tb_stage_recv(ctx);
        tb_stage_send(ctx);
        XP_TRY(x->ops->send(x, ctx->sendbuf, ctx->size, ctx->peer, TAG_DATA));
    }
    return TB_OK;
}

static tb_status_t bw_run(tb_bench_ctx_t *ctx)
{
    tb_xport_t *x = ctx->xp;
    int w = ctx->window;
    char ack[4] = {0};
    if (ctx->rank == 0) {
        tb_stage_send(ctx);
        for (int i = 0; i < w; i++)
            XP_TRY(x->ops->isend(x, i, ctx->sendbuf, ctx->size, ctx->peer, TAG_DATA));
        XP_TRY(x->ops->waitall(x, 0, w));
        XP_TRY(x->ops->recv(x, ack, 4, ctx->peer, TAG_ACK));
    } else {
        for (int i = 0; i < w; i++)
            XP_TRY(x->ops->irecv(x, i, ctx->recvbuf, ctx->size, ctx->peer, TAG_DATA));
        XP_TRY(x->ops->waitall(x, 0, w));
        tb_stage_recv(ctx);
        XP_TRY(x->ops->send(x, ack, 4, ctx->peer, TAG_ACK));
    }
    return TB_OK;
}

static tb_status_t bibw_run(tb_bench_ctx_t *ctx)
{
    tb_xport_t *x = ctx->xp;
    int w = ctx->window;
    for (int i = 0; i < w; i++)
        XP_TRY(x->ops->irecv(x, i, ctx->recvbuf, ctx->size, ctx->peer, TAG_DATA));
    tb_stage_send(ctx);
    for (int i = 0; i < w; i++)
        XP_TRY(x->ops->isend(x, w + i, ctx->sendbuf, ctx->size, ctx->peer, TAG_DATA));
    XP_TRY(x->ops->waitall(x, 0, 2 * w));
    tb_stage_recv(ctx);
    return TB_OK;
}

/* Sender's pattern in sendbuf; the receive buffer gets a sentinel so a transfer that
 * did not happen cannot pass for one that did. */
static void p2p_fill(tb_bench_ctx_t *ctx, long iter)
{
    unsigned char *r = ctx->recv_host;
    uint64_t peer_seed = tb_pattern_seed(ctx->peer_world, iter, ctx->size);
    tb_pattern_fill(&tb_dtype_byte, ctx->send_host, ctx->size, ctx->world_rank, 0, iter, ctx->size,
                    0);
    for (size_t i = 0; i < ctx->size; i++)
        r[i] = (unsigned char)~tb_pattern_byte(peer_seed, i);
}

static void p2p_check_recv(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    const unsigned char *r = ctx->recv_host;
    uint64_t seed = tb_pattern_seed(ctx->peer_world, iter, ctx->size);
    for (size_t i = 0; i < ctx->size; i++) {
        unsigned char want = tb_pattern_byte(seed, i);
        if (r[i] != want)
            tb_mismatch_note(mm, i, want, r[i]);
    }
}

/* bw: only the responder receives data. */
static void bw_check(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm)
{
    if (ctx->rank == 1)
        p2p_check_recv(ctx, iter, mm);
}

const tb_test_ops_t tb_test_latency = {
    .name = "latency",
    .kind = TB_KIND_P2P,
    .time_scale = 0.5,
    .buffers = p2p_buffers,
    .run = latency_run,
    .fill = p2p_fill,
    .check = p2p_check_recv,
    .stages_itself = 1,
};

const tb_test_ops_t tb_test_bw = {
    .name = "bw",
    .kind = TB_KIND_P2P,
    .time_scale = 1.0,
    .buffers = p2p_buffers,
    .alg_bytes = bytes_window,
    .run = bw_run,
    .fill = p2p_fill,
    .check = bw_check,
    .stages_itself = 1,
};

const tb_test_ops_t tb_test_bibw = {
    .name = "bibw",
    .kind = TB_KIND_P2P,
    .time_scale = 1.0,
    .buffers = p2p_buffers,
    .alg_bytes = bytes_window2,
    .run = bibw_run,
    .fill = p2p_fill,
    .check = p2p_check_recv,
    .stages_itself = 1,
};
