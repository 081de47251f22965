/* The verbs tests (docs/verbs.md): perftest's bandwidth and latency loops between rank 0 and
 * the first rank of another node, the fabric matrix over every pair of nodes in shift
 * rounds, and the GPUDirect RDMA verdict per node. The sweep is perftest's, not the MPI
 * harness's: each size posts `iters` work requests with --tx-depth outstanding per QP and
 * times the whole loop (perftest's definition, so figures compare with ib_write_bw's), and
 * the buffers are registered with the HCA, which the harness's memory kinds are not. */
#include "verbs_run.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cudrv.h"
#include "gpu.h"
#include "harness.h"
#include "verbs_ib.h"
#include "verbs_setup.h"
#include "watchdog.h"

#define WHY_LEN 320

/* A step's outcome on one rank, shared with the others of the test. */
typedef struct outcome {
    int st;
    char why[WHY_LEN];
} outcome_t;

static const char *root_dir(void)
{
    return tb_topo_sysfs_root();
}

/* Every rank of `c`: the worst status; `all` gets "host: why" of each rank at that status
 * (TB_ERR_ENV: the reasons to skip). Polled, so a rank waiting on slower ones beats. */
tb_status_t tb_verbs_agree(const tb_rt_t *rt, MPI_Comm c, tb_status_t local, const char *why,
                           char *all, size_t len)
{
    outcome_t mine, *every;
    int n = 0, worst = TB_OK;
    MPI_Request req;
    memset(&mine, 0, sizeof(mine));
    mine.st = (int)local;
    if (why && why[0]) /* no reason given: none listed */
        snprintf(mine.why, sizeof(mine.why), "%s: %s", rt->host, why);
    MPI_Comm_size(c, &n);
    every = tb_rt_gather_buffer((size_t)n * sizeof(*every));
    if (TB_MPI_CHECK(MPI_Iallgather(&mine, (int)sizeof(mine), MPI_BYTE, every, (int)sizeof(mine),
                                    MPI_BYTE, c, &req)) != TB_OK ||
        tb_wd_wait_polled(&req) != TB_OK) {
        free(every);
        return TB_ERR_INTERNAL;
    }
    for (int i = 0; i < n; i++)
        if (every[i].st > worst)
            worst = every[i].st;
    if (all) {
        all[0] = '\0';
        for (int i = 0, shown = 0; i < n; i++) {
            size_t k = strlen(all);
            int dup = 0;
            /* One line per distinct reason (after the host name). */
            if (every[i].st != worst || !every[i].why[0] || k + 8 >= len)
                continue;
            for (int j = 0; j < i && !dup; j++)
                dup = every[j].st == worst && every[j].why[0] &&
                      !strcmp(strchr(every[j].why, ':'), strchr(every[i].why, ':'));
            if (dup)
                continue;
            /* At most 4 reasons named. */
            if (shown++ == 4) {
                snprintf(all + k, len - k, "; ...");
                break;
            }
            snprintf(all + k, len - k, "%s%s", k ? "; " : "", every[i].why);
        }
    }
    free(every);
    return (tb_status_t)worst;
}

/* The HCA port of this rank: --hca, else the NIC nearest its GPU or cores in the node's
 * topology (node leaders have it), else the first device. TB_ERR_ENV: skip, with `why`. */
static tb_status_t choose_port(tb_suite_t *s, tb_verbs_side_t *sd, char *why, size_t wlen)
{
    const tb_opts_t *o = s->opts;
    char list[512];
    tb_status_t st;
    if (tb_verbs_devices_list(list, sizeof(list)) == 0) {
        snprintf(why, wlen, "no RDMA device (%s/class/infiniband is empty or absent)", root_dir());
        return TB_ERR_ENV;
    }
    if (o->verbs.hca) {
        if ((st = tb_verbs_hca_parse(o->verbs.hca, sd->dev, sizeof(sd->dev), &sd->port)))
            return st;
        snprintf(sd->chosen_by, sizeof(sd->chosen_by), "--hca %s", o->verbs.hca);
    } else if (s->node_topo) {
        const char *busid = s->gpu->ok ? s->gpu->info.busid : NULL;
        if (tb_verbs_nic_nearest(s->node_topo, busid, s->rt->cpuset, s->rt->local_rank, sd->dev,
                                 sizeof(sd->dev), &sd->port, sd->chosen_by,
                                 sizeof(sd->chosen_by)) != TB_OK) {
            snprintf(why, wlen, "no RDMA NIC in this node's topology (sysfs lists %s)", list);
            return TB_ERR_ENV;
        }
    } else {
        snprintf(sd->dev, sizeof(sd->dev), "%.*s", (int)strcspn(list, ","), list);
        sd->port = 1;
        snprintf(sd->chosen_by, sizeof(sd->chosen_by),
                 "first RDMA device (this rank has no topology: not a node leader)");
    }
    if (!(sd->info = calloc(1, sizeof(*sd->info))))
        return tb_error(TB_ERR_ENV, "out of memory");
    if ((st = tb_verbs_port_read(sd->dev, sd->port, sd->info)) != TB_OK)
        return st;
    st = tb_verbs_gid_choose(sd->info, o->verbs.gid_index, &sd->gid);
    if (st == TB_ERR_ENV)
        snprintf(why, wlen, "%s port %d: no GID usable for RoCE", sd->dev, sd->port);
    return st;
}

void tb_verbs_vib_cfg(const tb_suite_t *s, const tb_verbs_side_t *sd, tb_vib_cfg_t *cfg)
{
    cfg->gid_index = sd->gid.index;
    cfg->nqps = s->opts->verbs.qps;
    cfg->depth = s->opts->verbs.tx_depth;
    cfg->tclass = s->opts->verbs.tclass;
    cfg->sl = s->opts->verbs.sl;
}

/* A failed registration of the ring or test buffer: the locked-memory limit is a skip with
 * the limit named; anything else an error, logged. */
static tb_status_t reg_failed(int err, const char *what, char *why, size_t wlen)
{
    tb_status_t st = tb_verbs_errno_status(err, what, tb_verbs_memlock(), why, wlen);
    if (st != TB_ERR_ENV)
        tb_error(st, "verbs: %s", why);
    return st;
}

/* choose_port, then the port opened and a host buffer of 2 x `max` registered. */
tb_status_t tb_verbs_side_open(tb_suite_t *s, tb_verbs_side_t *sd, size_t max, char *why,
                               size_t wlen)
{
    tb_status_t st = choose_port(s, sd, why, wlen);
    tb_vib_cfg_t cfg;
    char what[128];
    int err;
    if (st != TB_OK)
        return st;
    tb_verbs_vib_cfg(s, sd, &cfg);
    if ((st = tb_vib_open(sd->dev, sd->port, &cfg, &sd->vib, why, wlen)) != TB_OK)
        return st;
    sd->half = max;
    if (posix_memalign((void **)&sd->buf, 4096, 2 * max) != 0) {
        snprintf(why, wlen, "cannot allocate 2 x %zu bytes", max);
        return tb_error(TB_ERR_ENV, "verbs: %s", why);
    }
    memset(sd->buf, 0, 2 * max);
    snprintf(what, sizeof(what), "ibv_reg_mr of %zu bytes of host memory on %s", 2 * max, sd->dev);
    if ((err = tb_vib_reg_host(sd->vib, sd->buf, 2 * max, max)) != 0)
        return reg_failed(err, what, why, wlen);
    return TB_OK;
}

void tb_verbs_side_close(tb_verbs_side_t *sd)
{
    tb_vib_close(sd->vib);
    free(sd->buf);
    free(sd->info);
    memset(sd, 0, sizeof(*sd));
}

/* Swaps connection information with `peer` of `c` and connects. */
static tb_status_t exchange_connect(tb_vib_t *v, MPI_Comm c, int to, int from, char *why,
                                    size_t wlen)
{
    tb_vib_conn_t mine, theirs;
    tb_vib_local(v, &mine);
    TB_MPI_TRY(MPI_Sendrecv(&mine, (int)sizeof(mine), MPI_BYTE, to, 71, &theirs,
                            (int)sizeof(theirs), MPI_BYTE, from, 71, c, MPI_STATUS_IGNORE));
    return tb_vib_connect(v, &theirs, why, wlen);
}

/* The peer's word at the end of each loop of a pair (its status and reason), watched while
 * this side waits on its CQ: a side whose peer failed (a post refused, retries exceeded)
 * would otherwise wait for completions that never come until the watchdog ends the job. */
typedef struct peer_watch {
    MPI_Request req;
    outcome_t in;
    int got;
} peer_watch_t;

static int watch_check(void *arg, char *why, size_t wlen)
{
    peer_watch_t *w = arg;
    int flag = 0;
    if (!w->got && MPI_Test(&w->req, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS)
        w->got = flag;
    if (!w->got || w->in.st == TB_OK)
        return 0;
    snprintf(why, wlen, "the peer stopped: %s", w->in.why);
    return 1;
}

static tb_status_t watch_begin(peer_watch_t *w, tb_vib_t *v, MPI_Comm c, int peer)
{
    memset(w, 0, sizeof(*w));
    TB_MPI_TRY(MPI_Irecv(&w->in, (int)sizeof(w->in), MPI_BYTE, peer, 74, c, &w->req));
    tb_vib_set_abort(v, watch_check, w);
    return TB_OK;
}

/* Sends this side's word (after its loop, whatever the outcome) and receives the peer's. */
static tb_status_t watch_end(const tb_rt_t *rt, peer_watch_t *w, tb_vib_t *v, MPI_Comm c, int peer,
                             tb_status_t local, const char *why)
{
    outcome_t mine;
    MPI_Request req;
    tb_status_t st;
    tb_vib_set_abort(v, NULL, NULL);
    memset(&mine, 0, sizeof(mine));
    mine.st = (int)local;
    snprintf(mine.why, sizeof(mine.why), "%s: %s", rt->host, local != TB_OK ? why : "");
    TB_MPI_TRY(MPI_Isend(&mine, (int)sizeof(mine), MPI_BYTE, peer, 74, c, &req));
    st = tb_wd_wait_polled(&req);
    if (!w->got && st == TB_OK)
        st = tb_wd_wait_polled(&w->req);
    return st;
}

static tb_status_t barrier_polled(MPI_Comm c)
{
    MPI_Request req;
    TB_MPI_TRY(MPI_Ibarrier(c, &req));
    return tb_wd_wait_polled(&req);
}

typedef struct vtest {
    const char *name;
    tb_vib_op_t op;
    int latency;
} vtest_t;

static const vtest_t vtests[] = {
    {"verbs_write_bw", TB_VIB_WRITE, 0}, {"verbs_read_bw", TB_VIB_READ, 0},
    {"verbs_send_bw", TB_VIB_SEND, 0},   {"verbs_write_lat", TB_VIB_WRITE, 1},
    {"verbs_send_lat", TB_VIB_SEND, 1},
};

/* perftest's defaults: 5000 iterations for bandwidth, 1000 for latency (-n); bandwidth
 * iterations capped so one size moves at most 4 GiB. */
long tb_verbs_iterations(const tb_opts_t *o, int latency, size_t size)
{
    long n = o->iters > 0 ? o->iters : latency ? 1000 : 5000;
    if (!o->iters && !latency && (double)n * (double)size > 4294967296.0)
        n = (long)(4294967296.0 / (double)size);
    return n < 1 ? 1 : n;
}

/* One loop of a bandwidth test (`k` operations; the initiator's time in *secs) with the
 * peer's word watched on both sides. */
static tb_status_t loop_watched(tb_suite_t *s, tb_verbs_side_t *sd, const vtest_t *t, MPI_Comm c,
                                int me, size_t size, long k, double *secs, char *why, size_t wlen)
{
    peer_watch_t w;
    tb_status_t st = watch_begin(&w, sd->vib, c, 1 - me), end;
    if (st != TB_OK)
        return st;
    if (t->latency)
        st = tb_vib_pingpong(sd->vib, t->op, size, k, me == 0, secs, why, wlen);
    else if (me == 0)
        st = tb_vib_bw(sd->vib, t->op, size, k, secs, why, wlen);
    else if (t->op == TB_VIB_SEND)
        st = tb_vib_recv(sd->vib, k, why, wlen);
    end = watch_end(s->rt, &w, sd->vib, c, 1 - me, st, why);
    return st != TB_OK ? st : end;
}

/* One size's check: the initiator's (WRITE, SEND) or the target's (READ) pattern travels
 * once; the receiving side counts wrong bytes. */
static tb_status_t check_once(tb_suite_t *s, tb_verbs_side_t *sd, const vtest_t *t, size_t size,
                              int me, MPI_Comm c, size_t *wrong, char *why, size_t wlen)
{
    int source = t->op == TB_VIB_READ ? 1 : 0;
    uint64_t seed = tb_pattern_seed(source, -1, size);
    tb_mismatch_t mm;
    tb_status_t st = TB_OK;
    double secs;
    memset(&mm, 0, sizeof(mm));
    tb_pattern_fill_bytes(sd->buf, size, seed, me != source);
    if (t->op == TB_VIB_SEND && me == 1)
        st = tb_vib_recv_post(sd->vib);
    if ((st = tb_rt_agree_comm(c, st)) != TB_OK || (st = barrier_polled(c)) != TB_OK)
        return st;
    st = loop_watched(s, sd, t, c, me, size, 1, &secs, why, wlen);
    if ((st = tb_verbs_agree(s->rt, c, st, why, why, wlen)) != TB_OK)
        return st;
    if (me != source)
        tb_pattern_check_bytes(sd->buf, size, seed, 0, &mm);
    /* Rank 0 records the row: the receiving side's count reaches it. */
    {
        unsigned long long mine = mm.wrong, sum = 0;
        TB_MPI_TRY(MPI_Allreduce(&mine, &sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, c));
        *wrong = (size_t)sum;
    }
    return TB_OK;
}

/* The sweep of one test on the pair (comm rank 0 initiates); rank 0 records the rows. */
static tb_status_t pair_sweep(tb_suite_t *s, const vtest_t *t, tb_verbs_side_t *sd, MPI_Comm c,
                              int me, int peer_world, json_t *entry, char *why, size_t wlen)
{
    size_t sizes[TB_MAX_SIZES];
    size_t n = tb_opts_sizes(s->opts, sizes, TB_MAX_SIZES);
    tb_status_t st = TB_OK;
    for (size_t i = 0; i < n && st == TB_OK && sizes[i] <= TB_MAX_MESSAGE_BYTES; i++) {
        size_t size = sizes[i] ? sizes[i] : 1, wrong = 0;
        long iters = tb_verbs_iterations(s->opts, t->latency, size);
        long warm = s->opts->warmup >= 0 ? s->opts->warmup : (iters / 10 > 0 ? iters / 10 : 1);
        double secs = 0, dummy;
        tb_wd_context(t->name, "inter-node", size, 0, peer_world, "verbs");
        for (int pass = 0; pass < 2 && st == TB_OK; pass++) {
            long k = pass ? iters : warm;
            if (t->latency) {
                if (t->op == TB_VIB_WRITE)
                    memset(sd->buf + sd->half, 0, size);
                else
                    st = tb_vib_recv_post(sd->vib);
            } else if (t->op == TB_VIB_SEND && me == 1) {
                st = tb_vib_recv_post(sd->vib);
            }
            if ((st = tb_rt_agree_comm(c, st)) != TB_OK || (st = barrier_polled(c)))
                break;
            st = loop_watched(s, sd, t, c, me, size, k, pass ? &secs : &dummy, why, wlen);
            st = tb_verbs_agree(s->rt, c, st, why, why, wlen);
        }
        if (st == TB_OK && s->opts->check && !t->latency)
            st = check_once(s, sd, t, size, me, c, &wrong, why, wlen);
        if (st == TB_OK && me == 0 && entry) {
            double per = secs / (double)iters;
            json_t *row = json_pack("{s:I, s:I, s:I, s:I, s:b}", "size", (json_int_t)size, "count",
                                    (json_int_t)size, "iterations", (json_int_t)iters, "warmup",
                                    (json_int_t)warm, "checked", s->opts->check && !t->latency);
            if (t->latency) {
                json_object_set_new(row, "time_us", json_pack("{s:f}", "mean", 0.5e6 * per));
            } else {
                double gbs = (double)size / per / 1e9;
                /* No latency: the loop keeps --tx-depth messages in flight, so its time per
                 * message is the message rate's inverse (msg_rate_mpps), not a time any
                 * message took. */
                json_object_set_new(row, "time_us", json_object());
                json_object_set_new(row, "bw_gbps", json_real(gbs));
                json_object_set_new(row, "bw_gbit", json_real(8 * gbs));
                json_object_set_new(row, "msg_rate_mpps", json_real(1e-6 / per));
            }
            json_object_set_new(row, "wrong", json_integer((json_int_t)wrong));
            tb_suite_add_result(s, entry, row);
            if (wrong)
                tb_suite_add_error(s, entry,
                                   json_pack("{s:I, s:i, s:I}", "size", (json_int_t)size, "rank",
                                             t->op == TB_VIB_READ ? 0 : peer_world, "wrong",
                                             (json_int_t)wrong));
        }
        if (st == TB_OK && wrong)
            st = TB_ERR_CORRUPT;
        /* The receiving side's wrong bytes reach rank 0 through the agreement. */
        st = tb_rt_agree_comm(c, st);
    }
    return st;
}

void *tb_verbs_side_json(const tb_verbs_side_t *sd)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:i, s:s}", "hca", sd->dev, "port", sd->port,
                     "chosen_by", sd->chosen_by, "link_layer", sd->info ? sd->info->link_layer : "",
                     "gid_index", sd->gid.index, "gid_choice", sd->gid.why);
}

static tb_status_t run_pair_test(tb_suite_t *s, const vtest_t *t)
{
    const tb_rt_t *rt = s->rt;
    int b = rt->nnodes > 1 ? rt->first_rank_of_node[1] : rt->size > 1 ? 1 : -1;
    const char *placement = rt->nnodes > 1 ? "inter-node" : "intra-node";
    tb_doc_keys_t keys = tb_suite_keys("byte", placement, NULL);
    tb_status_t st = TB_OK;
    char why[WHY_LEN] = "", all[1024] = "";
    size_t sizes[TB_MAX_SIZES], max;
    json_t *entry = NULL;
    MPI_Comm c = MPI_COMM_NULL;
    tb_verbs_side_t sd;

    memset(&sd, 0, sizeof(sd));
    keys.backend = "verbs";
    /* Work requests carry 32-bit lengths: the sweep stops at 1 GiB, as the MPI tests'. */
    max = tb_opts_sizes(s->opts, sizes, TB_MAX_SIZES) ? s->opts->max_bytes : 1;
    if (max > TB_MAX_MESSAGE_BYTES)
        max = TB_MAX_MESSAGE_BYTES;
    if (max < 1)
        max = 1;
    if (b < 0) {
        char list[64];
        if (rt->rank == 0) {
            entry = tb_suite_begin_test(s, t->name, "p2p", &keys, NULL);
            snprintf(all, sizeof(all), "%s",
                     tb_verbs_devices_list(list, sizeof(list))
                         ? "needs two ranks (one on each of two nodes)"
                         : "no RDMA device on this node, and the "
                           "test needs two ranks");
            st = tb_suite_end_test(s, entry, "skipped", all);
        }
        return tb_suite_sync(s, rt->world, st);
    }
    if ((st = TB_MPI_CHECK(MPI_Comm_split(rt->world,
                                          rt->rank == 0 || rt->rank == b ? 0 : MPI_UNDEFINED,
                                          rt->rank == 0 ? 0 : 1, &c))) != TB_OK)
        return tb_suite_sync(s, rt->world, st);
    if (c != MPI_COMM_NULL) {
        int me = rt->rank == 0 ? 0 : 1;
        st = tb_verbs_side_open(s, &sd, max, why, sizeof(why));
        st = tb_verbs_agree(rt, c, st, why, all, sizeof(all));
        if (st == TB_OK)
            st = exchange_connect(sd.vib, c, 1 - me, 1 - me, why, sizeof(why));
        st = tb_verbs_agree(rt, c, st, why, st == TB_OK ? NULL : all, sizeof(all));
        if (me == 0) {
            json_t *params =
                json_pack("{s:[i,i], s:[s,s], s:i, s:i, s:s, s:o}", "pair", 0, b, "hosts",
                          tb_rt_host_of(rt, 0), tb_rt_host_of(rt, b), "qps", s->opts->verbs.qps,
                          "tx_depth", s->opts->verbs.tx_depth, "perftest",
                          t->latency ? (t->op == TB_VIB_WRITE ? "ib_write_lat" : "ib_send_lat")
                          : t->op == TB_VIB_WRITE ? "ib_write_bw"
                          : t->op == TB_VIB_READ  ? "ib_read_bw"
                                                  : "ib_send_bw",
                          "hca", tb_verbs_side_json(&sd));
            entry = tb_suite_begin_test(s, t->name, "p2p", &keys, params);
            json_object_set_new(entry, "units",
                                json_pack("{s:s, s:s, s:s, s:s}", "size", "bytes", "time", "us",
                                          "bandwidth", "GB/s", "bw_gbit", "Gb/s"));
        }
        if (st == TB_OK)
            st = pair_sweep(s, t, &sd, c, me, me == 0 ? b : 0, entry, why, sizeof(why));
        if (me == 0)
            tb_suite_end_test(s, entry,
                              st == TB_ERR_ENV ? "skipped"
                              : st == TB_OK    ? "ok"
                                               : tb_status_string(st),
                              st == TB_ERR_ENV ? all : NULL);
        tb_verbs_side_close(&sd);
        (void)TB_MPI_CHECK(MPI_Comm_free(&c));
        if (st == TB_ERR_ENV)
            st = TB_OK; /* a skip */
    }
    tb_suite_wait_all(s, t->name);
    return tb_suite_sync(s, rt->world, st);
}

/* --- node rings: the fabric matrix and the GPUDirect measurement --- */

/* One shift round on the leaders: this node writes `iters` x `size` bytes to node
 * (i + d) % N while node (i - d) writes to it; two connections, one per direction, on
 * two port handles of the same port. *gbps: this node's outgoing write bandwidth. The
 * buffers are registered by `reg` (host or GPU memory). */
static int host_reg(tb_vib_t *v, void *arg)
{
    const tb_verbs_side_t *sd = arg;
    return tb_vib_reg_host(v, sd->buf, 2 * sd->half, sd->half);
}

static int host_put(void *arg, size_t off, const void *src, size_t n)
{
    memcpy(((tb_verbs_side_t *)arg)->buf + off, src, n);
    return 0;
}

static int host_get(void *arg, size_t off, void *dst, size_t n)
{
    memcpy(dst, ((tb_verbs_side_t *)arg)->buf + off, n);
    return 0;
}

void tb_verbs_ring_mem_host(tb_verbs_side_t *sd, tb_verbs_ring_mem_t *m)
{
    m->reg = host_reg;
    m->put = host_put;
    m->get = host_get;
    m->arg = sd;
    m->half = sd->half;
}

/* Pattern of node `node` (or its complement) into [off, off + size) of the ring memory. */
static int ring_fill(const tb_verbs_ring_mem_t *m, unsigned char *tmp, size_t off, size_t size,
                     int node, int complement)
{
    tb_pattern_fill_bytes(tmp, size, tb_pattern_seed(node, -1, size), complement);
    return m->put(m->arg, off, tmp, size);
}

/* A step of a ring round's setup on every node: the worst status; where it is not OK,
 * `why` on every node says where and why ("ring not run: host: reason; ..."). */
static tb_status_t ring_setup_agree(const tb_rt_t *rt, MPI_Comm lc, tb_status_t st, char *why,
                                    size_t wlen)
{
    char all[1024];
    if ((st = tb_verbs_agree(rt, lc, st, why, all, sizeof(all))) != TB_OK)
        snprintf(why, wlen, "ring not run: %s", all[0] ? all : "its setup failed");
    return st;
}

int tb_verbs_ring_any_failed(const tb_verbs_ring_node_t *nodes, int n)
{
    for (int i = 0; nodes && i < n; i++)
        if (nodes[i].failed)
            return 1;
    return 0;
}

/* Every node's transfer outcome into `nodes` (N entries, or a buffer of ours): TB_OK, or
 * TB_ERR_INTERNAL on every node when one failed. */
static tb_status_t ring_outcomes(const tb_rt_t *rt, MPI_Comm lc, tb_status_t local, const char *why,
                                 tb_verbs_ring_node_t *nodes, int n)
{
    tb_verbs_ring_node_t mine,
        *every = nodes ? nodes : tb_rt_gather_buffer((size_t)n * sizeof(mine));
    MPI_Request req;
    tb_status_t st;
    memset(&mine, 0, sizeof(mine));
    mine.failed = local != TB_OK;
    snprintf(mine.host, sizeof(mine.host), "%s", rt->host);
    if (mine.failed)
        snprintf(mine.why, sizeof(mine.why), "%s", why[0] ? why : tb_status_string(local));
    st = TB_MPI_CHECK(MPI_Iallgather(&mine, (int)sizeof(mine), MPI_BYTE, every, (int)sizeof(mine),
                                     MPI_BYTE, lc, &req));
    if (st == TB_OK)
        st = tb_wd_wait_polled(&req);
    if (st == TB_OK && tb_verbs_ring_any_failed(every, n))
        st = TB_ERR_INTERNAL;
    if (every != nodes)
        free(every);
    return st;
}

tb_status_t tb_verbs_ring_round(tb_suite_t *s, MPI_Comm lc, const tb_verbs_side_t *sd, int d,
                                const tb_verbs_ring_mem_t *m, int op, size_t size, long iters,
                                double *gbps, size_t *wrong_p, tb_verbs_ring_node_t *nodes,
                                char *why, size_t wlen)
{
    int me, n, succ, pred, err, check = op == TB_VIB_WRITE;
    tb_vib_t *out = NULL, *in = NULL;
    unsigned char *tmp = NULL;
    tb_vib_cfg_t cfg;
    tb_status_t st, local;
    double secs = 0, dummy;
    MPI_Comm_rank(lc, &me);
    MPI_Comm_size(lc, &n);
    succ = (me + d) % n;
    pred = (me - d + n) % n;
    *gbps = 0;
    *wrong_p = 0;
    why[0] = '\0';
    if (nodes)
        memset(nodes, 0, (size_t)n * sizeof(*nodes));
    tb_verbs_vib_cfg(s, sd, &cfg);
    st = tb_vib_open(sd->dev, sd->port, &cfg, &out, why, wlen);
    if (st == TB_OK)
        st = tb_vib_open(sd->dev, sd->port, &cfg, &in, why, wlen);
    if (st == TB_OK && ((err = m->reg(out, m->arg)) != 0 || (err = m->reg(in, m->arg)) != 0))
        st = reg_failed(err, "registration of the ring's buffer", why, wlen);
    /* The source half carries this node's pattern, the receive half the complement of the
     * predecessor's, so a write that did not land reads wrong. */
    if (st == TB_OK && check &&
        (!(tmp = malloc(size)) || ring_fill(m, tmp, 0, size, me, 0) ||
         ring_fill(m, tmp, m->half, size, pred, 1))) {
        snprintf(why, wlen, "cannot set the check pattern in the buffer");
        st = TB_ERR_ENV;
    }
    if ((st = ring_setup_agree(s->rt, lc, st, why, wlen)) != TB_OK)
        goto out;
    {
        /* My outgoing QPs meet the successor's incoming ones, and the other way; writers
         * (and readers) target the receive half. */
        tb_vib_conn_t mo, mi, so, pi;
        tb_vib_local(out, &mo);
        tb_vib_local(in, &mi);
        mi.addr += m->half;
        st = TB_MPI_CHECK(MPI_Sendrecv(&mo, (int)sizeof(mo), MPI_BYTE, succ, 72, &pi,
                                       (int)sizeof(pi), MPI_BYTE, pred, 72, lc, MPI_STATUS_IGNORE));
        if (st == TB_OK)
            st = TB_MPI_CHECK(MPI_Sendrecv(&mi, (int)sizeof(mi), MPI_BYTE, pred, 73, &so,
                                           (int)sizeof(so), MPI_BYTE, succ, 73, lc,
                                           MPI_STATUS_IGNORE));
        if (st == TB_OK)
            st = tb_vib_connect(out, &so, why, wlen);
        if (st == TB_OK)
            st = tb_vib_connect(in, &pi, why, wlen);
    }
    if ((st = ring_setup_agree(s->rt, lc, st, why, wlen)) != TB_OK ||
        (st = barrier_polled(lc)) != TB_OK)
        goto out;
    tb_wd_context("verbs ring", "node", size, d, succ, "verbs");
    /* The warm-up's outcome is agreed before the barrier of the timed loop: a node whose
     * warm-up failed must not leave the others in that barrier. */
    local = tb_vib_bw(out, (tb_vib_op_t)op, size, iters / 10 + 1, &dummy, why, wlen);
    if (tb_rt_agree_comm(lc, local) == TB_OK) {
        if ((st = barrier_polled(lc)) != TB_OK)
            goto out;
        local = tb_vib_bw(out, (tb_vib_op_t)op, size, iters, &secs, why, wlen);
    }
    if (local == TB_OK)
        why[0] = '\0';
    if (local == TB_OK && secs > 0)
        *gbps = (double)size * (double)iters / secs / 1e9;
    /* Every node learns whose transfer failed (a finding for the caller to judge). */
    if ((st = ring_outcomes(s->rt, lc, local, why, nodes, n)) != TB_OK) {
        *gbps = 0;
        goto out;
    }
    /* Every write has completed everywhere (the gather): the receive half is final. */
    if (check) {
        tb_mismatch_t mm;
        memset(&mm, 0, sizeof(mm));
        if (m->get(m->arg, m->half, tmp, size) != 0) {
            snprintf(why, wlen, "cannot read the receive half back");
            st = TB_ERR_ENV;
        } else {
            tb_pattern_check_bytes(tmp, size, tb_pattern_seed(pred, -1, size), 0, &mm);
            *wrong_p = mm.wrong;
        }
    }
out:
    free(tmp);
    tb_vib_close(out);
    tb_vib_close(in);
    return st;
}

/* Rank 0: the failed transfers of a matrix round as errors[] entries (round, initiator,
 * target, the error its initiator saw). */
static void matrix_errors(const tb_rt_t *rt, json_t *errs, const tb_verbs_ring_node_t *nodes, int n,
                          int d, size_t size)
{
    for (int i = 0; i < n; i++) {
        int t = (i + d) % n;
        if (!nodes[i].failed)
            continue;
        json_array_append_new(errs, json_pack("{s:I, s:s, s:i, s:i, s:s, s:i, s:s, s:s}", "size",
                                              (json_int_t)size, "measurement", "transfer", "round",
                                              d, "rank", rt->first_rank_of_node[t], "host",
                                              nodes[t].host, "from_rank", rt->first_rank_of_node[i],
                                              "from_host", nodes[i].host, "error", nodes[i].why));
    }
}

/* The fabric matrix: RDMA write bandwidth from every node to every other, in N-1 shift
 * rounds of concurrent pairs (as the MPI matrices), host memory, --matrix-size messages. A
 * failed transfer is an error of the test (errors[]: round, pair, the completion error); the
 * other rounds still run, so every failed pair is named and the rest measured. */
static tb_status_t run_matrix(tb_suite_t *s)
{
    const tb_rt_t *rt = s->rt;
    tb_doc_keys_t keys = tb_suite_keys("byte", NULL, "node");
    size_t size = s->opts->matrix_bytes;
    long iters = tb_verbs_iterations(s->opts, 0, size);
    char why[WHY_LEN] = "", all[1024] = "";
    tb_status_t st = TB_OK;
    tb_verbs_side_t sd;
    tb_verbs_ring_mem_t mem;
    memset(&sd, 0, sizeof(sd));
    keys.backend = "verbs";
    if (rt->leaders != MPI_COMM_NULL) {
        int n = rt->nnodes, failed = 0;
        double *row = NULL, *cells = NULL;
        tb_verbs_ring_node_t *nodes = NULL;
        json_t *entry = NULL, *errs = rt->rank == 0 ? json_array() : NULL;
        /* A row and the round outcomes on every leader, or none runs. */
        st = tb_rt_alloc_agreed(rt->leaders, 0, (size_t)n * sizeof(double), (void **)&row);
        if (st == TB_OK)
            st = tb_rt_alloc_agreed(rt->leaders, 0, (size_t)n * sizeof(*nodes), (void **)&nodes);
        if (st != TB_OK)
            snprintf(why, sizeof(why), "out of memory for the matrix row");
        if (st == TB_OK) {
            memset(row, 0, (size_t)n * sizeof(double));
            st = n < 2 ? TB_ERR_ENV : tb_verbs_side_open(s, &sd, size, why, sizeof(why));
            if (n < 2)
                snprintf(why, sizeof(why), "needs two nodes");
            st = tb_verbs_agree(rt, rt->leaders, st, why, all, sizeof(all));
        }
        tb_verbs_ring_mem_host(&sd, &mem);
        for (int d = 1; d < n && st == TB_OK; d++) {
            double g = 0;
            size_t wrong = 0;
            tb_status_t one = tb_verbs_ring_round(s, rt->leaders, &sd, d, &mem, TB_VIB_WRITE, size,
                                                  iters, &g, &wrong, nodes, why, sizeof(why));
            row[(rt->node_index + d) % n] = g;
            if (one == TB_ERR_INTERNAL && tb_verbs_ring_any_failed(nodes, n)) {
                /* Every leader has the same outcomes: the round is recorded, the next runs. */
                if (errs)
                    matrix_errors(rt, errs, nodes, n, d, size);
                failed = 1;
                one = TB_OK;
            } else if (one == TB_ERR_ENV) {
                snprintf(all, sizeof(all), "%s", why); /* "ring not run: host: why" */
            }
            if (one == TB_OK && wrong) {
                tb_error(TB_ERR_CORRUPT,
                         "verbs_matrix: %zu of %zu bytes written by node %d to "
                         "%s in round %d are wrong",
                         wrong, size, (rt->node_index - d + n) % n, rt->host, d);
                one = TB_ERR_CORRUPT;
            }
            st = tb_rt_agree_comm(rt->leaders, one);
        }
        for (int j = 0; row && j < n; j++)
            if (row[j] == 0)
                row[j] = NAN;
        if (rt->rank == 0)
            cells = tb_rt_gather_buffer((size_t)n * (size_t)n * sizeof(double));
        if (st == TB_OK && row)
            st = TB_MPI_CHECK(MPI_Gather(row, n, MPI_DOUBLE, cells, n, MPI_DOUBLE, 0, rt->leaders));
        if (st == TB_OK && failed)
            st = TB_ERR_INTERNAL; /* after the gather: the cells measured are kept */
        if (rt->rank == 0) {
            json_t *labels = json_array(), *ranks = json_array(), *m, *e;
            size_t k;
            for (int i = 0; i < n; i++) {
                char l[TB_HOST_LEN + 16];
                snprintf(l, sizeof(l), "%s:%d", tb_rt_host_of(rt, rt->first_rank_of_node[i]),
                         rt->first_rank_of_node[i]);
                json_array_append_new(labels, json_string(l));
                json_array_append_new(ranks, json_integer(rt->first_rank_of_node[i]));
            }
            entry = tb_suite_begin_test(
                s, "verbs_matrix", "matrix", &keys,
                json_pack("{s:I, s:i, s:i, s:i, s:o}", "size", (json_int_t)size, "ranks", n, "qps",
                          s->opts->verbs.qps, "tx_depth", s->opts->verbs.tx_depth, "hca",
                          tb_verbs_side_json(&sd)));
            m = json_pack("{s:s, s:I, s:i, s:I, s:o, s:o}", "level", "node", "size",
                          (json_int_t)size, "rounds", n - 1, "iterations", (json_int_t)iters,
                          "labels", labels, "ranks", ranks);
            if ((st == TB_OK || failed) && cells &&
                tb_doc_matrix_set(m, "send_gbps", cells, (size_t)n, s->opts->outdir,
                                  "verbs_matrix") == TB_OK)
                json_object_set_new(entry, "matrix", m);
            else
                json_decref(m);
            json_array_foreach(errs, k, e) tb_suite_add_error(s, entry, json_incref(e));
            tb_suite_end_test(s, entry,
                              st == TB_ERR_ENV ? "skipped"
                              : st == TB_OK    ? "ok"
                                               : tb_status_string(st),
                              st == TB_ERR_ENV ? (all[0] ? all : why) : NULL);
        }
        json_decref(errs);
        free(cells);
        free(row);
        free(nodes);
        tb_verbs_side_close(&sd);
        if (st == TB_ERR_ENV)
            st = TB_OK;
    }
    tb_suite_wait_all(s, "verbs_matrix");
    return tb_suite_sync(s, rt->world, st);
}

tb_status_t tb_verbs_run_tests(tb_suite_t *s)
{
    tb_status_t worst = TB_OK, one;
    for (size_t i = 0; i < sizeof(vtests) / sizeof(vtests[0]); i++)
        if (tb_opts_has_test(s->opts, vtests[i].name)) {
            one = run_pair_test(s, &vtests[i]);
            if (one > worst)
                worst = one;
        }
    if (tb_opts_has_test(s->opts, "verbs_matrix") && (one = run_matrix(s)) > worst)
        worst = one;
    if (tb_opts_has_test(s->opts, "gdr") && (one = tb_verbs_gdr_run(s)) > worst)
        worst = one;
    return worst;
}
