/* libibverbs for the verbs tests (verbs_ib.h): device, protection domain, one completion
 * queue, RC QPs, the registered buffer, connection to one peer, the timed loops. */
#define _DEFAULT_SOURCE /* lrand48, srand48 */
#include "verbs_ib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "watchdog.h"

#ifdef TB_HAVE_VERBS
#include <infiniband/verbs.h>

#include "verbs_setup.h"

struct tb_vib {
    struct ibv_context *ctx;
    struct ibv_pd *pd;
    struct ibv_cq *cq;
    struct ibv_qp *qp[TB_VIB_MAX_QPS];
    struct ibv_mr *mr;
    struct ibv_port_attr pa;
    union ibv_gid gid;
    void *buf;
    size_t len, half;
    int host_mem; /* the MR is host memory (inline sends may read it) */
    int nqps, depth, rx_depth, port, gid_index, tclass, sl;
    int rd_atomic; /* RDMA reads we accept as responder (RTR max_dest_rd_atomic) */
    int init_rd;   /* RDMA reads we may have outstanding as initiator (RTS max_rd_atomic) */
    int max_inline;
    int recv_posted[TB_VIB_MAX_QPS];
    uint32_t psn[TB_VIB_MAX_QPS];
    tb_vib_conn_t remote;
    tb_vib_abort_fn abort_fn;
    void *abort_arg;
    long idle; /* empty polls since the last abort check */
};

/* QPs grant remote access; MRs ask for relaxed ordering too (an optional flag that
 * libibverbs drops where the kernel lacks it; perftest and NCCL set it: without it GPU
 * memory bandwidth drops on some AMD and switch platforms). */
#define QP_ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)
#define MR_ACCESS (QP_ACCESS | IBV_ACCESS_RELAXED_ORDERING)
/* perftest's latency tests' default inline sizes: 220 bytes for RDMA writes, 236 for sends
 * on RC (its "optimal values" for mlx5); bandwidth tests send nothing inline. */
#define INLINE_WRITE 220
#define INLINE_SEND 236
#define INLINE_ASK INLINE_SEND

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* verbs calls return an errno value (or set errno): one conversion, logged with the call. */
#define VIB_CHECK(rc, what) vib_status((rc), (what), __FILE__, __LINE__)
static tb_status_t vib_status(int rc, const char *what, const char *file, int line)
{
    if (rc == 0)
        return TB_OK;
    return tb_error(TB_ERR_INTERNAL, "%s: %s (errno %d) at %s:%d", what, strerror(rc), rc, file,
                    line);
}

/* A failed creation in tb_vib_open: the locked-memory limit is a skip with the limit named
 * (not logged), anything else an error, logged; `why` says which in both cases. */
static tb_status_t open_failed(int err, const char *what, char *why, size_t wlen)
{
    tb_status_t st = tb_verbs_errno_status(err ? err : ENOMEM, what, tb_verbs_memlock(), why, wlen);
    if (st != TB_ERR_ENV)
        tb_error(st, "verbs: %s", why);
    return st;
}

static tb_status_t modify_init(tb_vib_t *v, struct ibv_qp *qp)
{
    struct ibv_qp_attr a;
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_INIT;
    a.pkey_index = 0;
    a.port_num = (uint8_t)v->port;
    a.qp_access_flags = QP_ACCESS;
    return VIB_CHECK(
        ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS),
        "ibv_modify_qp(INIT)");
}

/* One RC QP; inline data asked for, and the QP created without it where the provider
 * refuses the size. The granted inline size is in *inline_p. */
static struct ibv_qp *create_qp(tb_vib_t *v, int *inline_p)
{
    struct ibv_qp_init_attr ia;
    struct ibv_qp *qp;
    for (int ask = INLINE_ASK;; ask = 0) {
        memset(&ia, 0, sizeof(ia));
        ia.send_cq = ia.recv_cq = v->cq;
        ia.qp_type = IBV_QPT_RC;
        ia.cap.max_send_wr = (uint32_t)v->depth;
        ia.cap.max_recv_wr = (uint32_t)v->rx_depth;
        ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
        ia.cap.max_inline_data = (uint32_t)ask;
        errno = 0;
        /* ibv_create_qp writes the capabilities it granted back into ia.cap. */
        if ((qp = ibv_create_qp(v->pd, &ia)) || ask == 0)
            break;
    }
    *inline_p = qp ? (int)ia.cap.max_inline_data : 0;
    return qp;
}

tb_status_t tb_vib_open(const char *dev, int port, const tb_vib_cfg_t *cfg, tb_vib_t **v_p,
                        char *why, size_t wlen)
{
    static int seeded;
    struct ibv_device **list;
    struct ibv_device_attr da;
    tb_vib_t *v;
    tb_status_t st = TB_ERR_ENV;
    int n = 0, found = -1, rc, cqe = 0;

    *v_p = NULL;
    if (cfg->nqps < 1 || cfg->nqps > TB_VIB_MAX_QPS)
        return tb_error(TB_ERR_USAGE, "--qps %d: expected 1 to %d", cfg->nqps, TB_VIB_MAX_QPS);
    if (!seeded) {
        /* The initial PSNs: different from run to run, as perftest's. */
        srand48((long)time(NULL) ^ (long)getpid());
        seeded = 1;
    }
    list = ibv_get_device_list(&n);
    if (!list || n == 0) {
        snprintf(why, wlen, "no RDMA device (libibverbs lists none%s)",
                 !list && errno == ENOSYS ? ": no RDMA support in the kernel" : "");
        if (list)
            ibv_free_device_list(list);
        return TB_ERR_ENV;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(ibv_get_device_name(list[i]), dev))
            found = i;
    if (found < 0) {
        snprintf(why, wlen, "libibverbs does not list %s (%d other device%s)", dev, n,
                 n == 1 ? "" : "s");
        ibv_free_device_list(list);
        return TB_ERR_ENV;
    }
    if (!(v = calloc(1, sizeof(*v)))) {
        ibv_free_device_list(list);
        snprintf(why, wlen, "out of memory");
        return tb_error(TB_ERR_ENV, "out of memory");
    }
    v->nqps = cfg->nqps;
    v->depth = cfg->depth;
    v->port = port;
    v->gid_index = cfg->gid_index;
    v->tclass = cfg->tclass;
    v->sl = cfg->sl;
    v->ctx = ibv_open_device(list[found]);
    ibv_free_device_list(list);
    if (!v->ctx) {
        snprintf(why, wlen, "cannot open %s: %s", dev, strerror(errno));
        goto err;
    }
    /* Both return the errno value and need not set errno. */
    if ((rc = ibv_query_device(v->ctx, &da)) != 0 ||
        (rc = ibv_query_port(v->ctx, (uint8_t)port, &v->pa)) != 0) {
        snprintf(why, wlen, "%s port %d: cannot query it: %s", dev, port, strerror(rc));
        goto err;
    }
    if (v->pa.state != IBV_PORT_ACTIVE) {
        snprintf(why, wlen, "%s port %d is %s, not ACTIVE", dev, port,
                 ibv_port_state_str(v->pa.state));
        goto err;
    }
    if (v->pa.link_layer == IBV_LINK_LAYER_ETHERNET && cfg->gid_index < 0) {
        snprintf(why, wlen, "%s port %d is RoCE and no GID was chosen", dev, port);
        goto err;
    }
    if (cfg->gid_index >= 0 &&
        (rc = ibv_query_gid(v->ctx, (uint8_t)port, cfg->gid_index, &v->gid)) != 0) {
        snprintf(why, wlen, "%s port %d: cannot read GID %d: %s", dev, port, cfg->gid_index,
                 strerror(rc < 0 ? errno : rc));
        goto err;
    }
    /* As responder: max_qp_rd_atom; as initiator: max_qp_init_rd_atom (RTS's max_rd_atomic
     * must not exceed it, nor what the peer accepts). */
    v->rd_atomic = da.max_qp_rd_atom < 16 ? da.max_qp_rd_atom : 16;
    v->init_rd = da.max_qp_init_rd_atom < 16 ? da.max_qp_init_rd_atom : 16;
    if (v->rd_atomic < 1)
        v->rd_atomic = 1;
    if (v->init_rd < 1)
        v->init_rd = 1;
    if ((st = tb_verbs_queue_sizes(dev, cfg->nqps, cfg->depth, da.max_qp_wr, da.max_cqe,
                                   &v->rx_depth, &cqe, why, wlen)) != TB_OK) {
        tb_error(st, "%s", why);
        goto err;
    }
    if (!(v->pd = ibv_alloc_pd(v->ctx))) {
        st = open_failed(errno, "ibv_alloc_pd", why, wlen);
        goto err;
    }
    /* Room for every send and every receive completion at once. */
    if (!(v->cq = ibv_create_cq(v->ctx, cqe, NULL, NULL, 0))) {
        st = open_failed(errno, "ibv_create_cq", why, wlen);
        goto err;
    }
    v->max_inline = INLINE_ASK;
    for (int q = 0; q < cfg->nqps; q++) {
        int granted = 0;
        if (!(v->qp[q] = create_qp(v, &granted))) {
            st = open_failed(errno, "ibv_create_qp", why, wlen);
            goto err;
        }
        if (granted < v->max_inline)
            v->max_inline = granted;
        if ((st = modify_init(v, v->qp[q])) != TB_OK) {
            snprintf(why, wlen, "%s port %d: ibv_modify_qp(INIT) failed", dev, port);
            goto err;
        }
        v->psn[q] = (uint32_t)(lrand48() & 0xffffff);
    }
    *v_p = v;
    return TB_OK;
err:
    tb_vib_close(v);
    return st;
}

void tb_vib_unreg(tb_vib_t *v)
{
    if (v && v->mr) {
        ibv_dereg_mr(v->mr);
        v->mr = NULL;
    }
}

void tb_vib_close(tb_vib_t *v)
{
    if (!v)
        return;
    tb_vib_unreg(v);
    for (int q = 0; q < v->nqps; q++)
        if (v->qp[q])
            ibv_destroy_qp(v->qp[q]);
    if (v->cq)
        ibv_destroy_cq(v->cq);
    if (v->pd)
        ibv_dealloc_pd(v->pd);
    if (v->ctx)
        ibv_close_device(v->ctx);
    free(v);
}

static int reg_done(tb_vib_t *v, void *buf, size_t len, size_t half, int host_mem)
{
    if (!v->mr)
        return errno ? errno : EINVAL;
    v->buf = buf;
    v->len = len;
    v->half = half;
    v->host_mem = host_mem;
    return 0;
}

int tb_vib_reg_host(tb_vib_t *v, void *buf, size_t len, size_t half)
{
    tb_vib_unreg(v);
    errno = 0;
    v->mr = ibv_reg_mr(v->pd, buf, len, MR_ACCESS);
    return reg_done(v, buf, len, half, 1);
}

int tb_vib_reg_peermem(tb_vib_t *v, void *buf, size_t len, size_t half)
{
    tb_vib_unreg(v);
    errno = 0;
    v->mr = ibv_reg_mr(v->pd, buf, len, MR_ACCESS);
    return reg_done(v, buf, len, half, 0);
}

int tb_vib_reg_dmabuf(tb_vib_t *v, void *buf, size_t len, int fd, size_t half)
{
    tb_vib_unreg(v);
    errno = 0;
    v->mr = ibv_reg_dmabuf_mr(v->pd, 0, len, (uint64_t)(uintptr_t)buf, fd, MR_ACCESS);
    /* ibv_reg_dmabuf_mr hands the flags to the kernel as they are: one that refuses the
     * optional relaxed ordering gets the plain registration. */
    if (!v->mr && errno == EINVAL) {
        errno = 0;
        v->mr = ibv_reg_dmabuf_mr(v->pd, 0, len, (uint64_t)(uintptr_t)buf, fd, QP_ACCESS);
    }
    return reg_done(v, buf, len, half, 0);
}

void tb_vib_local(const tb_vib_t *v, tb_vib_conn_t *c)
{
    memset(c, 0, sizeof(*c));
    for (int q = 0; q < v->nqps; q++) {
        c->qpn[q] = v->qp[q]->qp_num;
        c->psn[q] = v->psn[q];
    }
    memcpy(c->gid, v->gid.raw, sizeof(c->gid));
    c->addr = (uint64_t)(uintptr_t)v->buf;
    c->half = v->half;
    c->rkey = v->mr ? v->mr->rkey : 0;
    c->lid = v->pa.lid;
    c->gid_index = v->gid_index;
    c->mtu = (int32_t)v->pa.active_mtu;
    c->nqps = v->nqps;
    c->rd_atomic = v->rd_atomic;
    c->roce = tb_vib_is_roce(v);
}

int tb_vib_is_roce(const tb_vib_t *v)
{
    return v->pa.link_layer == IBV_LINK_LAYER_ETHERNET;
}

void tb_vib_set_abort(tb_vib_t *v, tb_vib_abort_fn fn, void *arg)
{
    v->abort_fn = fn;
    v->abort_arg = arg;
    v->idle = 0;
}

tb_status_t tb_vib_connect(tb_vib_t *v, const tb_vib_conn_t *r, char *why, size_t wlen)
{
    tb_status_t st;
    if (r->nqps != v->nqps) {
        snprintf(why, wlen, "the peer has %d QPs, we have %d", r->nqps, v->nqps);
        return tb_error(TB_ERR_INTERNAL, "verbs: %s", why);
    }
    if ((st = tb_verbs_peer_compat(tb_vib_is_roce(v), v->gid.raw, v->gid_index, r->roce, r->gid,
                                   r->gid_index, why, wlen)) != TB_OK)
        return st;
    v->remote = *r;
    for (int q = 0; q < v->nqps; q++) {
        struct ibv_qp_attr a;
        memset(&a, 0, sizeof(a));
        a.qp_state = IBV_QPS_RTR;
        a.path_mtu =
            (enum ibv_mtu)(r->mtu < (int)v->pa.active_mtu ? r->mtu : (int)v->pa.active_mtu);
        a.dest_qp_num = r->qpn[q];
        a.rq_psn = r->psn[q];
        a.max_dest_rd_atomic = (uint8_t)v->rd_atomic;
        a.min_rnr_timer = 12;
        a.ah_attr.dlid = (uint16_t)r->lid;
        a.ah_attr.sl = (uint8_t)v->sl;
        a.ah_attr.port_num = (uint8_t)v->port;
        /* RoCE always routes by GID (a GRH); InfiniBand when --gid-index asks for it. */
        if (v->gid_index >= 0 && r->gid_index >= 0) {
            a.ah_attr.is_global = 1;
            memcpy(a.ah_attr.grh.dgid.raw, r->gid, sizeof(r->gid));
            a.ah_attr.grh.sgid_index = (uint8_t)v->gid_index;
            a.ah_attr.grh.hop_limit = 64;
            a.ah_attr.grh.traffic_class = (uint8_t)v->tclass;
        }
        st = VIB_CHECK(ibv_modify_qp(v->qp[q], &a,
                                     IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
                                         IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
                                         IBV_QP_MIN_RNR_TIMER),
                       "ibv_modify_qp(RTR)");
        if (st != TB_OK) {
            snprintf(why, wlen, "ibv_modify_qp(RTR) failed");
            return st;
        }
        memset(&a, 0, sizeof(a));
        a.qp_state = IBV_QPS_RTS;
        a.timeout = 14;
        a.retry_cnt = 7;
        a.rnr_retry = 7; /* receiver not ready: retry forever, as perftest */
        a.sq_psn = v->psn[q];
        a.max_rd_atomic = (uint8_t)(r->rd_atomic < v->init_rd ? r->rd_atomic : v->init_rd);
        st =
            VIB_CHECK(ibv_modify_qp(v->qp[q], &a,
                                    IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
                                        IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC),
                      "ibv_modify_qp(RTS)");
        if (st != TB_OK) {
            snprintf(why, wlen, "ibv_modify_qp(RTS) failed");
            return st;
        }
    }
    return TB_OK;
}

static int qp_index(const tb_vib_t *v, uint32_t qpn)
{
    for (int q = 0; q < v->nqps; q++)
        if (v->qp[q]->qp_num == qpn)
            return q;
    return 0;
}

#define ABORT_CHECK_POLLS 1024 /* empty polls between two looks at the peer */

/* Polls up to 16 completions; a failed one ends the test with its status text, and so does
 * the peer giving up (the abort check, every ABORT_CHECK_POLLS empty polls). */
static int poll(tb_vib_t *v, struct ibv_wc *wc, char *why, size_t wlen, tb_status_t *st)
{
    int n = ibv_poll_cq(v->cq, 16, wc);
    *st = TB_OK;
    if (n < 0) {
        snprintf(why, wlen, "ibv_poll_cq failed");
        *st = tb_error(TB_ERR_INTERNAL, "verbs: ibv_poll_cq failed (%d)", n);
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (wc[i].status != IBV_WC_SUCCESS) {
            snprintf(why, wlen, "completion error: %s (status %d, vendor error 0x%x)",
                     ibv_wc_status_str(wc[i].status), (int)wc[i].status, wc[i].vendor_err);
            *st = tb_error(TB_ERR_INTERNAL, "verbs: %s", why);
            return 0;
        }
    if (n > 0) {
        v->idle = 0;
        tb_wd_beat();
    } else if (v->abort_fn && ++v->idle % ABORT_CHECK_POLLS == 0 &&
               v->abort_fn(v->abort_arg, why, wlen)) {
        /* The peer logged its own failure; ours is only the consequence. */
        *st = TB_ERR_INTERNAL;
    }
    return n;
}

static tb_status_t post_one(tb_vib_t *v, int q, tb_vib_op_t op, size_t size, uint64_t local,
                            uint64_t remote, int may_inline)
{
    struct ibv_sge sge;
    struct ibv_send_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof(wr));
    sge.addr = local;
    sge.length = (uint32_t)size;
    sge.lkey = v->mr->lkey;
    wr.wr_id = (uint64_t)q;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = op == TB_VIB_WRITE  ? IBV_WR_RDMA_WRITE
                : op == TB_VIB_READ ? IBV_WR_RDMA_READ
                                    : IBV_WR_SEND;
    wr.send_flags = IBV_SEND_SIGNALED;
    /* Inline: the CPU copies the data into the work request (host memory only). */
    if (may_inline && op != TB_VIB_READ && v->host_mem && size <= (size_t)v->max_inline &&
        size <= (op == TB_VIB_SEND ? INLINE_SEND : INLINE_WRITE))
        wr.send_flags |= IBV_SEND_INLINE;
    wr.wr.rdma.remote_addr = remote;
    wr.wr.rdma.rkey = v->remote.rkey;
    return VIB_CHECK(ibv_post_send(v->qp[q], &wr, &bad), "ibv_post_send");
}

tb_status_t tb_vib_bw(tb_vib_t *v, tb_vib_op_t op, size_t size, long iters, double *secs, char *why,
                      size_t wlen)
{
    int out[TB_VIB_MAX_QPS] = {0};
    long posted = 0, done = 0;
    struct ibv_wc wc[16];
    tb_status_t st = TB_OK;
    double t0 = now_s();
    while (done < iters && st == TB_OK) {
        for (int q = 0; q < v->nqps && st == TB_OK; q++)
            while (out[q] < v->depth && posted < iters && st == TB_OK) {
                st = post_one(v, q, op, size, (uint64_t)(uintptr_t)v->buf, v->remote.addr, 0);
                out[q]++;
                posted++;
            }
        for (int i = 0, n = st == TB_OK ? poll(v, wc, why, wlen, &st) : 0; i < n; i++) {
            out[wc[i].wr_id < (uint64_t)v->nqps ? wc[i].wr_id : 0]--;
            done++;
        }
    }
    *secs = now_s() - t0;
    return st;
}

static tb_status_t post_recv(tb_vib_t *v, int q)
{
    struct ibv_sge sge;
    struct ibv_recv_wr wr, *bad = NULL;
    tb_status_t st;
    memset(&wr, 0, sizeof(wr));
    sge.addr = (uint64_t)(uintptr_t)v->buf;
    sge.length = (uint32_t)(v->half ? v->half : v->len); /* any size that fits */
    sge.lkey = v->mr->lkey;
    wr.wr_id = (uint64_t)q;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    if ((st = VIB_CHECK(ibv_post_recv(v->qp[q], &wr, &bad), "ibv_post_recv")) == TB_OK)
        v->recv_posted[q]++;
    return st;
}

tb_status_t tb_vib_recv_post(tb_vib_t *v)
{
    tb_status_t st = TB_OK;
    for (int q = 0; q < v->nqps && st == TB_OK; q++)
        while (v->recv_posted[q] < v->rx_depth && st == TB_OK)
            st = post_recv(v, q);
    return st;
}

tb_status_t tb_vib_recv(tb_vib_t *v, long iters, char *why, size_t wlen)
{
    struct ibv_wc wc[16];
    long got = 0;
    tb_status_t st = TB_OK;
    while (got < iters && st == TB_OK) {
        int n = poll(v, wc, why, wlen, &st);
        /* Each receive back on its QP as soon as it completed: the queue never runs dry. */
        for (int i = 0; i < n && st == TB_OK; i++) {
            int q = qp_index(v, wc[i].qp_num);
            v->recv_posted[q]--;
            got++;
            st = post_recv(v, q);
        }
    }
    return st;
}

tb_status_t tb_vib_pingpong(tb_vib_t *v, tb_vib_op_t op, size_t size, long iters, int initiator,
                            double *secs, char *why, size_t wlen)
{
    volatile unsigned char *rx = (volatile unsigned char *)v->buf + v->half + size - 1;
    unsigned char *tx = (unsigned char *)v->buf + size - 1;
    uint64_t local = (uint64_t)(uintptr_t)v->buf;
    uint64_t remote = op == TB_VIB_WRITE ? v->remote.addr + v->remote.half : 0;
    struct ibv_wc wc[16];
    tb_status_t st = TB_OK;
    double t0 = now_s();
    int pending = 0, early = 0; /* our sends not completed; receives seen while waiting */
    for (long i = 0; i < iters && st == TB_OK; i++) {
        unsigned char seq = (unsigned char)(i % 255 + 1);
        int sent = 0, got = 0, turn = initiator;
        if (early) {
            early--;
            got = turn = 1;
        }
        while (st == TB_OK && (!sent || !got)) {
            if (turn && !sent) {
                *tx = seq;
                st = post_one(v, 0, op, size, local, remote, 1);
                sent = 1;
                pending++;
                continue;
            }
            if (op == TB_VIB_WRITE && !got && *rx == seq) {
                got = turn = 1;
                continue;
            }
            for (int k = 0, n = poll(v, wc, why, wlen, &st); k < n; k++) {
                if (wc[k].opcode == IBV_WC_RECV) {
                    v->recv_posted[0]--;
                    got = turn = 1;
                } else {
                    pending--;
                }
            }
            if (got && op == TB_VIB_SEND && st == TB_OK)
                st = tb_vib_recv_post(v);
        }
        /* Our send's completion, so the send queue never fills (a receive that arrives
         * meanwhile is counted in the next round trip). */
        while (pending > 0 && st == TB_OK)
            for (int k = 0, n = poll(v, wc, why, wlen, &st); k < n; k++) {
                if (wc[k].opcode == IBV_WC_RECV) {
                    v->recv_posted[0]--;
                    early++;
                } else {
                    pending--;
                }
            }
        if (early && st == TB_OK)
            st = tb_vib_recv_post(v);
    }
    *secs = now_s() - t0;
    return st;
}

#else /* no libibverbs */

tb_status_t tb_vib_open(const char *dev, int port, const tb_vib_cfg_t *cfg, tb_vib_t **v_p,
                        char *why, size_t wlen)
{
    (void)dev, (void)port, (void)cfg;
    *v_p = NULL;
    snprintf(why, wlen, "built without libibverbs (TB_WITH_VERBS)");
    return TB_ERR_ENV;
}
void tb_vib_close(tb_vib_t *v)
{
    (void)v;
}
int tb_vib_reg_host(tb_vib_t *v, void *buf, size_t len, size_t half)
{
    (void)v, (void)buf, (void)len, (void)half;
    return ENOSYS;
}
int tb_vib_reg_peermem(tb_vib_t *v, void *buf, size_t len, size_t half)
{
    return tb_vib_reg_host(v, buf, len, half);
}
int tb_vib_reg_dmabuf(tb_vib_t *v, void *buf, size_t len, int fd, size_t half)
{
    (void)v, (void)buf, (void)len, (void)fd, (void)half;
    return ENOSYS;
}
void tb_vib_unreg(tb_vib_t *v)
{
    (void)v;
}
void tb_vib_local(const tb_vib_t *v, tb_vib_conn_t *c)
{
    (void)v;
    memset(c, 0, sizeof(*c));
}
int tb_vib_is_roce(const tb_vib_t *v)
{
    (void)v;
    return 0;
}
tb_status_t tb_vib_connect(tb_vib_t *v, const tb_vib_conn_t *remote, char *why, size_t wlen)
{
    (void)v, (void)remote;
    snprintf(why, wlen, "built without libibverbs (TB_WITH_VERBS)");
    return TB_ERR_ENV;
}
void tb_vib_set_abort(tb_vib_t *v, tb_vib_abort_fn fn, void *arg)
{
    (void)v, (void)fn, (void)arg;
}
tb_status_t tb_vib_bw(tb_vib_t *v, tb_vib_op_t op, size_t size, long iters, double *secs, char *why,
                      size_t wlen)
{
    (void)v, (void)op, (void)size, (void)iters, (void)why, (void)wlen;
    *secs = 0;
    return TB_ERR_ENV;
}
tb_status_t tb_vib_recv_post(tb_vib_t *v)
{
    (void)v;
    return TB_ERR_ENV;
}
tb_status_t tb_vib_recv(tb_vib_t *v, long iters, char *why, size_t wlen)
{
    (void)v, (void)iters, (void)why, (void)wlen;
    return TB_ERR_ENV;
}
tb_status_t tb_vib_pingpong(tb_vib_t *v, tb_vib_op_t op, size_t size, long iters, int initiator,
                            double *secs, char *why, size_t wlen)
{
    (void)v, (void)op, (void)size, (void)iters, (void)initiator, (void)why, (void)wlen;
    *secs = 0;
    return TB_ERR_ENV;
}

#endif
