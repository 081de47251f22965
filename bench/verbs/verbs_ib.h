/* The HCA side of the verbs tests: one RDMA port opened with libibverbs, RC queue pairs to
 * one peer, one registered buffer, and the timed operations perftest times (ib_write_bw,
 * ib_read_bw, ib_send_bw, ib_send_lat, ib_write_lat). Connection information travels as a
 * plain struct (tb_vib_conn_t) that the caller exchanges over MPI: no out-of-band server.
 * verbs.h stays in verbs_ib.c; without libibverbs (TB_HAVE_VERBS unset) every call says
 * so and the tests skip. */
#ifndef TB_BENCH_VERBS_IB_H
#define TB_BENCH_VERBS_IB_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define TB_VIB_MAX_QPS 64

typedef struct tb_vib tb_vib_t;

/* What a peer needs to reach our QPs and buffer (fixed layout, sent as bytes between ranks
 * of one job, so both ends have the same build). */
typedef struct tb_vib_conn {
    uint32_t qpn[TB_VIB_MAX_QPS];
    uint32_t psn[TB_VIB_MAX_QPS];
    uint8_t gid[16];
    uint64_t addr; /* the registered buffer */
    uint64_t half; /* offset of the receive half (latency tests) */
    uint32_t rkey;
    int32_t lid;
    int32_t gid_index; /* -1: no GRH (InfiniBand by LID) */
    int32_t mtu;       /* enum ibv_mtu of the active MTU */
    int32_t nqps;
    int32_t rd_atomic; /* outstanding RDMA reads it accepts as responder */
    int32_t roce;      /* link layer Ethernet (1) or InfiniBand (0) */
} tb_vib_conn_t;

/* How a port handle is opened: the options of docs/verbs.md. */
typedef struct tb_vib_cfg {
    int gid_index; /* -1: none (InfiniBand by LID) */
    int nqps;      /* RC QPs to the peer (--qps) */
    int depth;     /* send work requests per QP (--tx-depth) */
    int tclass;    /* GRH traffic class (--tclass) */
    int sl;        /* service level (--sl) */
} tb_vib_cfg_t;

typedef enum tb_vib_op { TB_VIB_WRITE, TB_VIB_READ, TB_VIB_SEND } tb_vib_op_t;

/* Opens `dev` port `port` with `cfg`: its QPs (receive queues of max(512, 2 x depth) so a
 * sender never meets an empty one), one CQ for all. Things a node lacks (the device is not
 * listed by libibverbs, the port is not ACTIVE, no libibverbs in the build, a locked-memory
 * limit too small: ENOMEM/EPERM, tb_verbs_errno_status) are TB_ERR_ENV with the reason in
 * `why` and nothing logged: the tests skip with it. --tx-depth or --qps beyond the device's
 * caps is TB_ERR_USAGE, logged; other failed calls are logged and TB_ERR_INTERNAL. `why`
 * says what failed in every case. */
TB_NODISCARD tb_status_t tb_vib_open(const char *dev, int port, const tb_vib_cfg_t *cfg,
                                     tb_vib_t **v_p, char *why, size_t wlen);
void tb_vib_close(tb_vib_t *v);

/* Registers the buffer [buf, buf + len) the operations use (one at a time; a new one
 * replaces the old): host memory, GPU memory by its dma-buf file descriptor
 * (ibv_reg_dmabuf_mr), or GPU memory through a peer-memory client (ibv_reg_mr on the device
 * pointer). Relaxed ordering is asked for (an optional flag: ignored where unsupported).
 * Returns 0 or the errno of the failed call. `half` is where the receive half of the latency
 * tests starts. */
int tb_vib_reg_host(tb_vib_t *v, void *buf, size_t len, size_t half);
int tb_vib_reg_peermem(tb_vib_t *v, void *buf, size_t len, size_t half);
int tb_vib_reg_dmabuf(tb_vib_t *v, void *buf, size_t len, int fd, size_t half);
void tb_vib_unreg(tb_vib_t *v);

/* Our side of the connection, after tb_vib_reg_*. */
void tb_vib_local(const tb_vib_t *v, tb_vib_conn_t *c);
/* Brings the QPs to RTS towards `remote` (its QPs in the same order). Ports that cannot
 * reach each other (link layer, GID family: tb_verbs_peer_compat) are TB_ERR_ENV with `why`;
 * a failed call is logged, TB_ERR_INTERNAL, with `why`. */
TB_NODISCARD tb_status_t tb_vib_connect(tb_vib_t *v, const tb_vib_conn_t *remote, char *why,
                                        size_t wlen);
/* A check the waiting loops (tb_vib_bw, tb_vib_recv, tb_vib_pingpong) call about every
 * 1000 empty polls of the CQ: non-zero when the peer has given up (its reason in `why`),
 * which ends the loop with TB_ERR_INTERNAL instead of waiting for completions that will
 * never come. NULL: none. */
typedef int (*tb_vib_abort_fn)(void *arg, char *why, size_t wlen);
void tb_vib_set_abort(tb_vib_t *v, tb_vib_abort_fn fn, void *arg);
/* The link layer: 1 Ethernet (RoCE), 0 InfiniBand. */
int tb_vib_is_roce(const tb_vib_t *v);

/* Initiator: `iters` operations of `size` bytes from the buffer's start to the peer's
 * buffer's start (READ: the other way), spread over the QPs with at most `depth`
 * outstanding per QP, every one signalled; *secs from the first post to the last
 * completion. A failed completion is TB_ERR_INTERNAL with its status text in `why`. */
TB_NODISCARD tb_status_t tb_vib_bw(tb_vib_t *v, tb_vib_op_t op, size_t size, long iters,
                                   double *secs, char *why, size_t wlen);
/* Receiver of TB_VIB_SEND: keeps the receive queues full (each receive the whole buffer,
 * re-posted as soon as it completes), returns after `iters` arrived. tb_vib_recv_post alone tops
 * the receives up (call it before the sender starts). */
TB_NODISCARD tb_status_t tb_vib_recv_post(tb_vib_t *v);
TB_NODISCARD tb_status_t tb_vib_recv(tb_vib_t *v, long iters, char *why, size_t wlen);

/* Ping-pong on QP 0, `iters` round trips of `size` bytes; *secs the whole loop's time on
 * this side. SEND: send/receive completions; WRITE: RDMA writes into the peer's receive
 * half, whose last byte the peer polls (host memory only; the caller clears the receive
 * half and synchronises first). Messages from host memory up to perftest's inline sizes
 * (220 bytes for writes, 236 for sends, within what the QP was granted) go inline, as
 * perftest's latency tests send them. */
TB_NODISCARD tb_status_t tb_vib_pingpong(tb_vib_t *v, tb_vib_op_t op, size_t size, long iters,
                                         int initiator, double *secs, char *why, size_t wlen);

#endif
