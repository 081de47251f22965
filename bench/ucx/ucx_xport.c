/* The UCX transport (ucx_xport.h). Requests: ucp_tag_send_nbx / ucp_tag_recv_nbx without
 * callbacks, completed by driving the worker (ucp_worker_progress) and reading each
 * request's status, as UCX's own perf tool does. A tag carries the test's tag and the
 * sender's world rank, so a receive matches only its peer's message. */
#include "ucx_xport.h"

#include <assert.h>
#include <jansson.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "suite.h"

#ifdef TB_UCX

#include <ucp/api/ucp.h>
#include <ucs/memory/memory_type.h>

struct tb_ucx {
    ucp_context_h ctx;
    ucp_worker_h worker;
    int rank, size;     /* world */
    char *addrs;        /* the workers' addresses, world rank order */
    int *addr_off, *addr_len;
    ucp_ep_h *eps;      /* per world rank, created on first use */
    uint64_t memory_types;
    int device_memory; /* every rank's UCX supports CUDA memory */
};

/* UCX's status at the boundary: its message with file:line, as TB_MPI_CHECK does. */
#define TB_UCX_CHECK(status, what) ucx_status((status), (what), __FILE__, __LINE__)
static tb_status_t ucx_status(ucs_status_t s, const char *what, const char *file, int line)
{
    if (s == UCS_OK)
        return TB_OK;
    return tb_error(TB_ERR_INTERNAL, "UCX %s failed: %s (%s:%d)", what, ucs_status_string(s),
                    file, line);
}

/* The tag of a message: the test's tag and the sender's world rank. It does not name the
 * communicator: one binding (tb_xport_open) at a time posts requests (the tests run one
 * after another, and a binding completes or cancels its requests before it closes), so a
 * message can only match the binding that is open. */
static uint64_t tag_of(int tag, int world_sender)
{
    return (uint64_t)(uint32_t)tag << 32 | (uint32_t)world_sender;
}

/* Endpoint to world rank w, created on first use from the exchanged address (local: the
 * connection is made by the first transfer). */
static tb_status_t ep_get(tb_ucx_t *u, int w, ucp_ep_h *ep_p)
{
    ucp_ep_params_t p;
    if (!u->eps[w]) {
        memset(&p, 0, sizeof(p));
        p.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
        p.address = (const ucp_address_t *)(u->addrs + u->addr_off[w]);
        tb_status_t st = TB_UCX_CHECK(ucp_ep_create(u->worker, &p, &u->eps[w]), "ucp_ep_create");
        if (st)
            return st;
    }
    *ep_p = u->eps[w];
    return TB_OK;
}

#define TEARDOWN_S 60.0 /* the teardown's barriers wait this long for a missing rank */
#define CLOSE_S 5.0     /* requests and endpoint closes get this long to complete */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* An MPI barrier over comm that keeps the worker going meanwhile (a peer may still need
 * this rank's progress to finish its side), yielding after the first polls. Gives up after
 * `limit_s` (a rank that never comes): TB_ERR_TIMEOUT. */
static tb_status_t barrier_progressed(tb_ucx_t *u, MPI_Comm comm, double limit_s)
{
    MPI_Request rq;
    int done = 0;
    double t0 = now_s();
    TB_MPI_TRY(MPI_Ibarrier(comm, &rq));
    for (long polls = 0; !done; polls++) {
        TB_MPI_TRY(MPI_Test(&rq, &done, MPI_STATUS_IGNORE));
        if (u)
            ucp_worker_progress(u->worker);
        if (polls >= 64 && !done) {
            sched_yield();
            if (now_s() - t0 > limit_s)
                return tb_error(TB_ERR_TIMEOUT, "UCX teardown: not every rank came within %.0f s",
                                limit_s);
        }
    }
    return TB_OK;
}

/* Drives the worker until the n requests reqs[] (NULL: none) complete, freeing each, or
 * `limit_s` passed. Returns how many are still live. */
static int requests_finish(tb_ucx_t *u, void **reqs, int n, double limit_s)
{
    int pending = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        pending += reqs[i] != NULL;
    while (pending) {
        ucp_worker_progress(u->worker);
        for (int i = 0; i < n; i++)
            if (reqs[i] && ucp_request_check_status(reqs[i]) != UCS_INPROGRESS) {
                ucp_request_free(reqs[i]);
                reqs[i] = NULL;
                pending--;
            }
        if (pending && now_s() - t0 > limit_s)
            break;
    }
    return pending;
}

static void ucx_free(tb_ucx_t *u)
{
    if (!u)
        return;
    if (u->worker)
        ucp_worker_destroy(u->worker);
    if (u->ctx)
        ucp_cleanup(u->ctx);
    free(u->addrs);
    free(u->addr_off);
    free(u->addr_len);
    free(u->eps);
    free(u);
}

/* This rank's context and worker; its address in *addr_p (UCX's, released by the caller).
 * On failure `why` gets the step and UCX's message. */
#define START(call, what)                                                                          \
    do {                                                                                           \
        ucs_status_t start_s_ = (call);                                                            \
        if (start_s_ != UCS_OK) {                                                                  \
            snprintf(why, len, "%s: %s", what, ucs_status_string(start_s_));                       \
            st = TB_ERR_ENV; /* a skip: said once, by rank 0 */                              \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
static tb_status_t ucx_start(tb_ucx_t *u, ucp_address_t **addr_p, size_t *len_p, char *why,
                             size_t len)
{
    ucp_config_t *cfg = NULL;
    ucp_params_t p;
    ucp_worker_params_t wp;
    ucp_context_attr_t ca;
    tb_status_t st = TB_OK;
    START(ucp_config_read(NULL, NULL, &cfg), "ucp_config_read");
    memset(&p, 0, sizeof(p));
    p.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_ESTIMATED_NUM_EPS;
    p.features = UCP_FEATURE_TAG;
    p.estimated_num_eps = (size_t)u->size;
    START(ucp_init(&p, cfg, &u->ctx), "ucp_init");
    memset(&ca, 0, sizeof(ca));
    ca.field_mask = UCP_ATTR_FIELD_MEMORY_TYPES;
    START(ucp_context_query(u->ctx, &ca), "ucp_context_query");
    u->memory_types = ca.memory_types;
    memset(&wp, 0, sizeof(wp));
    wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wp.thread_mode = UCS_THREAD_MODE_SINGLE;
    START(ucp_worker_create(u->ctx, &wp, &u->worker), "ucp_worker_create");
    START(ucp_worker_get_address(u->worker, addr_p, len_p), "ucp_worker_get_address");
out:
    if (cfg)
        ucp_config_release(cfg);
    return st;
}
#undef START

tb_status_t tb_ucx_setup(const tb_rt_t *rt, tb_ucx_t **ucx_p, char *why, size_t len)
{
    tb_ucx_t *u = calloc(1, sizeof(*u));
    ucp_address_t *addr = NULL;
    size_t alen = 0;
    int failed, first_failed, mine_len, total = 0;
    char msg[256] = "";
    tb_status_t st = TB_OK, local;
    *ucx_p = NULL;
    why[0] = '\0';
    if (!u) {
        local = tb_error(TB_ERR_ENV, "out of memory starting UCX");
    } else {
        u->rank = rt->rank;
        u->size = rt->size;
        u->addr_off = calloc((size_t)rt->size, sizeof(int));
        u->addr_len = calloc((size_t)rt->size, sizeof(int));
        u->eps = calloc((size_t)rt->size, sizeof(ucp_ep_h));
        local = u->addr_off && u->addr_len && u->eps
                    ? ucx_start(u, &addr, &alen, msg, sizeof(msg))
                    : tb_error(TB_ERR_ENV, "out of memory starting UCX");
    }
    if (local)
        snprintf(why, len, "UCX did not start on rank %d (host %s): %s", rt->rank,
                 tb_rt_host_of(rt, rt->rank), msg[0] ? msg : "out of memory");
    /* The first rank that failed tells everyone why. */
    failed = local ? rt->rank : rt->size;
    if ((st = TB_MPI_CHECK(
             MPI_Allreduce(&failed, &first_failed, 1, MPI_INT, MPI_MIN, rt->world))))
        goto fail;
    if (first_failed < rt->size) {
        if ((st = TB_MPI_CHECK(MPI_Bcast(why, (int)len, MPI_CHAR, first_failed, rt->world))))
            goto fail;
        goto fail;
    }
    mine_len = (int)alen;
    if ((st = TB_MPI_CHECK(
             MPI_Allgather(&mine_len, 1, MPI_INT, u->addr_len, 1, MPI_INT, rt->world))))
        goto fail;
    for (int r = 0; r < rt->size; r++) {
        u->addr_off[r] = total;
        total += u->addr_len[r];
    }
    u->addrs = malloc((size_t)total);
    local = u->addrs ? TB_OK : tb_error(TB_ERR_ENV, "out of memory for %d UCX addresses", rt->size);
    if ((st = tb_rt_agree(rt, local)))
        goto fail;
    if ((st = TB_MPI_CHECK(MPI_Allgatherv(addr, mine_len, MPI_BYTE, u->addrs, u->addr_len,
                                          u->addr_off, MPI_BYTE, rt->world))))
        goto fail;
    ucp_worker_release_address(u->worker, addr);
    addr = NULL;
    /* Device memory only where every rank's UCX takes it. */
    {
        int cuda = (u->memory_types & UCS_BIT(UCS_MEMORY_TYPE_CUDA)) != 0, all = 0;
        if ((st = TB_MPI_CHECK(MPI_Allreduce(&cuda, &all, 1, MPI_INT, MPI_MIN, rt->world))))
            goto fail;
        u->device_memory = all;
    }
    *ucx_p = u;
    return TB_OK;
fail:
    if (addr && u)
        ucp_worker_release_address(u->worker, addr);
    ucx_free(u);
    return st;
}

void tb_ucx_teardown(const tb_rt_t *rt, tb_ucx_t *u)
{
    void **reqs;
    int pending = 0;
    if (!u)
        return;
    /* Runs after the watchdog stopped: bounded, and a rank that does not come leaves UCX
     * to the process's end (its peers' endpoints may still be in use). */
    if (barrier_progressed(u, rt->world, TEARDOWN_S))
        return;
    reqs = calloc((size_t)u->size, sizeof(void *));
    for (int w = 0; reqs && w < u->size; w++) {
        ucp_request_param_t p;
        void *r;
        if (!u->eps[w])
            continue;
        memset(&p, 0, sizeof(p));
        r = ucp_ep_close_nbx(u->eps[w], &p);
        if (UCS_PTR_IS_ERR(r))
            tb_warn("closing the UCX endpoint to rank %d: %s", w,
                    ucs_status_string(UCS_PTR_STATUS(r)));
        else if (UCS_PTR_IS_PTR(r))
            reqs[w] = r;
    }
    if (reqs && (pending = requests_finish(u, reqs, u->size, CLOSE_S)))
        tb_warn("%d UCX endpoints did not close in %.0f s", pending, CLOSE_S);
    free(reqs);
    if (barrier_progressed(u, rt->world, TEARDOWN_S) == TB_OK && !pending && reqs)
        ucx_free(u);
    /* else the worker stays: its requests, or a peer's, are still live */
}

int tb_ucx_device_memory(const tb_ucx_t *u)
{
    return u && u->device_memory;
}

void *tb_ucx_describe(const tb_ucx_t *u, const char *why)
{
    json_t *types;
    if (!u)
        return json_pack("{s:b, s:s, s:s}", "available", 0, "version", ucp_get_version_string(),
                         "reason", why);
    types = json_array();
    for (int t = 0; t < UCS_MEMORY_TYPE_LAST; t++)
        if (u->memory_types & UCS_BIT(t))
            json_array_append_new(types, json_string(ucs_memory_type_names[t]));
    return json_pack("{s:b, s:s, s:o, s:b}", "available", 1, "version", ucp_get_version_string(),
                     "memory_types", types, "device_memory", tb_ucx_device_memory(u));
}

/* ---- the transport table ---- */

typedef struct {
    void *req;       /* UCX's request; NULL when complete (or never posted) */
    int recv;
    size_t expect;   /* receives: the bytes expected */
    ucp_tag_recv_info_t info;
    int peer;
} slot_t;

typedef struct {
    tb_ucx_t *u;
    int *world_of;   /* comm rank -> world rank */
    slot_t *slots;   /* nslots, then one for the blocking calls */
} ux_t;

static tb_status_t ux_open(const tb_suite_t *s, tb_xport_t *x, int nslots)
{
    ux_t *ux = calloc(1, sizeof(*ux));
    MPI_Group g = MPI_GROUP_NULL, wg = MPI_GROUP_NULL;
    int *mine = NULL;
    tb_status_t st = TB_OK;
    if (!s->ucx) {
        free(ux);
        return tb_error(TB_ERR_ENV, "UCX is not running in this job");
    }
    if (!ux || !(ux->world_of = malloc(sizeof(int) * (size_t)x->size)) ||
        !(ux->slots = calloc((size_t)nslots + 1, sizeof(slot_t))) ||
        !(mine = malloc(sizeof(int) * (size_t)x->size))) {
        st = tb_error(TB_ERR_ENV, "out of memory for %d UCX requests", nslots);
        goto out;
    }
    for (int i = 0; i < x->size; i++)
        mine[i] = i;
    if ((st = TB_MPI_CHECK(MPI_Comm_group(x->comm, &g))) ||
        (st = TB_MPI_CHECK(MPI_Comm_group(s->rt->world, &wg))) ||
        (st = TB_MPI_CHECK(MPI_Group_translate_ranks(g, x->size, mine, wg, ux->world_of))))
        goto out;
    ux->u = s->ucx;
    x->impl = ux;
    x->device_memory = tb_ucx_device_memory(s->ucx);
out:
    if (g != MPI_GROUP_NULL)
        MPI_Group_free(&g);
    if (wg != MPI_GROUP_NULL)
        MPI_Group_free(&wg);
    free(mine);
    if (st && ux) {
        free(ux->world_of);
        free(ux->slots);
        free(ux);
    }
    return st;
}

/* A request left live at close would go on writing into or reading from buffers the
 * caller frees next: unmatched receives are cancelled (ucp_request_cancel completes them),
 * then every request is driven to completion. One that does not finish (a rendezvous send
 * whose receiver cancelled) ends the job rather than touch freed memory. */
static void ux_close(tb_xport_t *x)
{
    ux_t *ux = x->impl;
    void **reqs;
    int pending;
    if (!ux)
        return;
    reqs = calloc((size_t)x->nslots + 1, sizeof(void *));
    if (!reqs)
        tb_rt_abort(TB_ERR_ENV, "closing the UCX transport");
    for (int i = 0; i <= x->nslots; i++)
        if ((reqs[i] = ux->slots[i].req) != NULL && ux->slots[i].recv)
            ucp_request_cancel(ux->u->worker, reqs[i]);
    pending = requests_finish(ux->u, reqs, x->nslots + 1, CLOSE_S);
    free(reqs);
    if (pending) {
        tb_log(TB_LOG_ERROR, "%d UCX requests still live %.0f s after their test ended", pending,
               CLOSE_S);
        tb_rt_abort(TB_ERR_INTERNAL, "closing the UCX transport");
    }
    free(ux->world_of);
    free(ux->slots);
    free(ux);
}

static tb_status_t ux_isend(tb_xport_t *x, int slot, const void *buf, size_t n, int peer, int tag)
{
    ux_t *ux = x->impl;
    ucp_request_param_t p;
    ucp_ep_h ep;
    void *r;
    tb_status_t st;
    assert(slot >= 0 && slot <= x->nslots && !ux->slots[slot].req); /* the slot is free */
    if ((st = ep_get(ux->u, ux->world_of[peer], &ep)))
        return st;
    memset(&p, 0, sizeof(p));
    r = ucp_tag_send_nbx(ep, buf, n, tag_of(tag, ux->u->rank), &p);
    if (UCS_PTR_IS_ERR(r))
        return TB_UCX_CHECK(UCS_PTR_STATUS(r), "ucp_tag_send_nbx");
    ux->slots[slot].req = r;
    ux->slots[slot].recv = 0;
    ux->slots[slot].peer = peer;
    return TB_OK;
}

static tb_status_t ux_irecv(tb_xport_t *x, int slot, void *buf, size_t n, int peer, int tag)
{
    ux_t *ux = x->impl;
    slot_t *sl = &ux->slots[slot];
    ucp_request_param_t p;
    void *r;
    assert(slot >= 0 && slot <= x->nslots && !sl->req); /* the slot is free */
    memset(&p, 0, sizeof(p));
    memset(&sl->info, 0, sizeof(sl->info));
    /* Always a request, whose completion gives the received length. */
    p.op_attr_mask = UCP_OP_ATTR_FLAG_NO_IMM_CMPL;
    r = ucp_tag_recv_nbx(ux->u->worker, buf, n, tag_of(tag, ux->world_of[peer]), UINT64_MAX, &p);
    if (UCS_PTR_IS_ERR(r))
        return TB_UCX_CHECK(UCS_PTR_STATUS(r), "ucp_tag_recv_nbx");
    sl->req = r;
    sl->recv = 1;
    sl->expect = n;
    sl->peer = peer;
    return TB_OK;
}

/* Whether slot sl completed; its request is then freed. */
static tb_status_t slot_test(ux_t *ux, slot_t *sl, int *done_p)
{
    ucs_status_t s;
    *done_p = 1;
    if (!sl->req)
        return TB_OK;
    s = sl->recv ? ucp_tag_recv_request_test(sl->req, &sl->info)
                 : ucp_request_check_status(sl->req);
    if (s == UCS_INPROGRESS) {
        *done_p = 0;
        return TB_OK;
    }
    ucp_request_free(sl->req);
    sl->req = NULL;
    if (s != UCS_OK)
        return tb_error(TB_ERR_INTERNAL, "UCX %s rank %d failed: %s",
                        sl->recv ? "receive from" : "send to", ux->world_of[sl->peer],
                        ucs_status_string(s));
    if (sl->recv && sl->info.length != sl->expect)
        return tb_error(TB_ERR_INTERNAL, "UCX receive from rank %d: %zu bytes, expected %zu",
                        ux->world_of[sl->peer], sl->info.length, sl->expect);
    return TB_OK;
}

static tb_status_t ux_testall(tb_xport_t *x, int first, int count, int *done_p)
{
    ux_t *ux = x->impl;
    int all = 1;
    ucp_worker_progress(ux->u->worker);
    for (int i = first; i < first + count; i++) {
        int done;
        tb_status_t st = slot_test(ux, &ux->slots[i], &done);
        if (st)
            return st;
        all &= done;
    }
    *done_p = all;
    return TB_OK;
}

static tb_status_t ux_waitall(tb_xport_t *x, int first, int count)
{
    int done = 0;
    while (!done) {
        tb_status_t st = ux_testall(x, first, count, &done);
        if (st)
            return st;
    }
    return TB_OK;
}

static tb_status_t ux_send(tb_xport_t *x, const void *buf, size_t n, int peer, int tag)
{
    tb_status_t st = ux_isend(x, x->nslots, buf, n, peer, tag);
    return st ? st : ux_waitall(x, x->nslots, 1);
}

static tb_status_t ux_recv(tb_xport_t *x, void *buf, size_t n, int peer, int tag)
{
    tb_status_t st = ux_irecv(x, x->nslots, buf, n, peer, tag);
    return st ? st : ux_waitall(x, x->nslots, 1);
}

static void ux_progress(tb_xport_t *x)
{
    ux_t *ux = x->impl;
    ucp_worker_progress(ux->u->worker);
}

/* UCX's own report of the endpoint's lanes (ucp_ep_print_info; UCX 1.13 has no query for
 * the transports of an endpoint), whole: a multi-rail endpoint and newer UCX's protocol
 * tables run to many kilobytes. Only an endpoint a test used: none is created here. */
static char *ux_describe(tb_xport_t *x, int peer)
{
    ux_t *ux = x->impl;
    ucp_ep_h ep = ux->u->eps[ux->world_of[peer]];
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    if (!ep || !(f = open_memstream(&text, &len)))
        return NULL;
    ucp_ep_print_info(ep, f);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}

#else /* no UCX */

struct tb_ucx {
    int unused;
};

tb_status_t tb_ucx_setup(const tb_rt_t *rt, tb_ucx_t **ucx_p, char *why, size_t len)
{
    (void)rt;
    *ucx_p = NULL;
    snprintf(why, len, "UCX is not compiled in (the configure found no libucx; "
                       "topobench version lists the optional dependencies)");
    return TB_OK;
}

void tb_ucx_teardown(const tb_rt_t *rt, tb_ucx_t *u)
{
    (void)rt;
    (void)u;
}

int tb_ucx_device_memory(const tb_ucx_t *u)
{
    (void)u;
    return 0;
}

void *tb_ucx_describe(const tb_ucx_t *u, const char *why)
{
    (void)u;
    return json_pack("{s:b, s:s}", "available", 0, "reason", why);
}

static tb_status_t ux_open(const tb_suite_t *s, tb_xport_t *x, int nslots)
{
    (void)s;
    (void)x;
    (void)nslots;
    return tb_error(TB_ERR_ENV, "UCX is not compiled in");
}

static void ux_close(tb_xport_t *x)
{
    (void)x;
}

#define ux_send NULL
#define ux_recv NULL
#define ux_isend NULL
#define ux_irecv NULL
#define ux_testall NULL
#define ux_waitall NULL
#define ux_progress NULL
#define ux_describe NULL

#endif

const tb_xport_ops_t tb_xport_ucx = {
    .name = "ucx",
    .open = ux_open,
    .close = ux_close,
    .send = ux_send,
    .recv = ux_recv,
    .isend = ux_isend,
    .irecv = ux_irecv,
    .testall = ux_testall,
    .waitall = ux_waitall,
    .progress = ux_progress,
    .describe = ux_describe,
};
