/* The transport table's MPI row, the choice of transport, and the record of what a transport
 * selected for each pair (xport.h). */
#include "xport.h"

#include <ctype.h>
#include <jansson.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "log.h"
#include "mem.h"
#include "suite.h"
#include "ucx_xport.h"

/* ---- MPI: the slots are MPI requests ---- */

static tb_status_t mpi_open(const tb_suite_t *s, tb_xport_t *x, int nslots)
{
    MPI_Request *rq = malloc(sizeof(MPI_Request) * (size_t)(nslots > 0 ? nslots : 1));
    if (!rq)
        return tb_error(TB_ERR_ENV, "out of memory for %d MPI requests", nslots);
    for (int i = 0; i < nslots; i++)
        rq[i] = MPI_REQUEST_NULL;
    x->impl = rq;
    x->device_memory = tb_xport_device_memory(s);
    return TB_OK;
}

static void mpi_close(tb_xport_t *x)
{
    free(x->impl);
}

static tb_status_t mpi_send(tb_xport_t *x, const void *buf, size_t n, int peer, int tag)
{
    return TB_MPI_CHECK(MPI_Send(buf, (int)n, MPI_BYTE, peer, tag, x->comm));
}

static tb_status_t mpi_recv(tb_xport_t *x, void *buf, size_t n, int peer, int tag)
{
    return TB_MPI_CHECK(MPI_Recv(buf, (int)n, MPI_BYTE, peer, tag, x->comm, MPI_STATUS_IGNORE));
}

static tb_status_t mpi_isend(tb_xport_t *x, int slot, const void *buf, size_t n, int peer, int tag)
{
    MPI_Request *rq = x->impl;
    return TB_MPI_CHECK(MPI_Isend(buf, (int)n, MPI_BYTE, peer, tag, x->comm, &rq[slot]));
}

static tb_status_t mpi_irecv(tb_xport_t *x, int slot, void *buf, size_t n, int peer, int tag)
{
    MPI_Request *rq = x->impl;
    return TB_MPI_CHECK(MPI_Irecv(buf, (int)n, MPI_BYTE, peer, tag, x->comm, &rq[slot]));
}

static tb_status_t mpi_testall(tb_xport_t *x, int first, int count, int *done_p)
{
    MPI_Request *rq = x->impl;
    if (count == 1)
        return TB_MPI_CHECK(MPI_Test(rq + first, done_p, MPI_STATUS_IGNORE));
    return TB_MPI_CHECK(MPI_Testall(count, rq + first, done_p, MPI_STATUSES_IGNORE));
}

static tb_status_t mpi_waitall(tb_xport_t *x, int first, int count)
{
    MPI_Request *rq = x->impl;
    return TB_MPI_CHECK(MPI_Waitall(count, rq + first, MPI_STATUSES_IGNORE));
}

static void mpi_describe(tb_xport_t *x, int peer, char *buf, size_t len)
{
    (void)x;
    (void)peer;
    if (len)
        buf[0] = '\0';
}

const tb_xport_ops_t tb_xport_mpi = {
    .name = "mpi",
    .open = mpi_open,
    .close = mpi_close,
    .send = mpi_send,
    .recv = mpi_recv,
    .isend = mpi_isend,
    .irecv = mpi_irecv,
    .testall = mpi_testall,
    .waitall = mpi_waitall,
    .progress = NULL,
    .describe = mpi_describe,
};

/* ---- the choice ---- */

const tb_xport_ops_t *tb_xport_ops(const tb_suite_t *s)
{
    return strcmp(s->opts->backend, "ucx") ? &tb_xport_mpi : &tb_xport_ucx;
}

const char *tb_xport_skip_reason(const tb_suite_t *s)
{
    if (tb_xport_ops(s) == &tb_xport_ucx && !s->ucx)
        return s->backend_why[0] ? s->backend_why : "UCX did not start";
    return NULL;
}

int tb_xport_device_memory(const tb_suite_t *s)
{
    if (tb_xport_ops(s) == &tb_xport_mpi)
        return s->gpu && s->gpu->mpi_cuda_aware;
    return tb_ucx_device_memory(s->ucx);
}

const char *tb_xport_mem_skip_reason(const tb_suite_t *s)
{
    int device = 0;
    for (int side = 0; side < 2; side++) {
        const tb_mem_kind_t *k = tb_mem_kind_find(s->opts->mem[side]);
        device |= k && !k->host_access;
    }
    if (!device || tb_xport_ops(s) == &tb_xport_mpi || tb_xport_device_memory(s))
        return NULL;
    return "this UCX was built without CUDA support (its memory types: host only): device "
           "memory is measured over --backend mpi, which stages it";
}

tb_status_t tb_xport_open(const tb_suite_t *s, MPI_Comm comm, int nslots, tb_xport_t *x)
{
    tb_status_t st;
    memset(x, 0, sizeof(*x));
    x->ops = tb_xport_ops(s);
    x->comm = comm;
    x->nslots = nslots;
    if ((st = TB_MPI_CHECK(MPI_Comm_rank(comm, &x->rank))) ||
        (st = TB_MPI_CHECK(MPI_Comm_size(comm, &x->size))))
        return st;
    if ((st = x->ops->open(s, x, nslots)))
        x->ops = NULL;
    return st;
}

void tb_xport_close(tb_xport_t *x)
{
    if (x->ops)
        x->ops->close(x);
    memset(x, 0, sizeof(*x));
}

tb_status_t tb_xport_wait_mpi(tb_xport_t *x, MPI_Request *rq)
{
    int done = 0;
    for (long polls = 0;; polls++) {
        TB_MPI_TRY(MPI_Test(rq, &done, MPI_STATUS_IGNORE));
        if (done)
            return TB_OK;
        if (x->ops && x->ops->progress)
            x->ops->progress(x);
        if (polls >= 64)
            sched_yield();
    }
}

tb_status_t tb_xport_settle(tb_xport_t *x)
{
    MPI_Request rq;
    if (!x->ops || !x->ops->progress)
        return TB_OK;
    TB_MPI_TRY(MPI_Ibarrier(x->comm, &rq));
    return tb_xport_wait_mpi(x, &rq);
}

/* ---- what was selected for each pair ---- */

#define DESC_LEN 2048

/* Index of `text` among the n distinct texts of `all` (DESC_LEN each), added if new. */
static int distinct_index(char *all, int *n, const char *text)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(all + (size_t)i * DESC_LEN, text))
            return i;
    snprintf(all + (size_t)*n * DESC_LEN, DESC_LEN, "%s", text);
    return (*n)++;
}

static tb_status_t describe_pairs(tb_xport_t *x, const int *peers, int n, const int *world_of,
                                  json_t **desc_p)
{
    /* Each rank sends its distinct reports (few: one per kind of path) and, per peer, which
     * one; rank 0 merges them into one list. */
    char *mine = calloc((size_t)(n > 0 ? n : 1), DESC_LEN), *all = NULL, text[DESC_LEN];
    int *idx = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1)), nmine = 0, *counts = NULL,
        *displs = NULL, *pidx = NULL, *pcount = NULL, *pdispl = NULL;
    json_t *sel = NULL, *pairs = NULL;
    size_t npairs = 0;
    tb_status_t st = TB_OK;
    *desc_p = NULL;
    if (!mine || !idx)
        st = tb_error(TB_ERR_ENV, "out of memory describing %d peers", n);
    for (int i = 0; st == TB_OK && i < n; i++) {
        idx[i] = -1;
        if (peers[i] < 0)
            continue;
        x->ops->describe(x, peers[i], text, sizeof(text));
        if (text[0])
            idx[i] = distinct_index(mine, &nmine, text);
    }
    if (x->rank == 0) {
        counts = calloc((size_t)x->size, sizeof(int));
        displs = calloc((size_t)x->size, sizeof(int));
        pcount = calloc((size_t)x->size, sizeof(int));
        pdispl = calloc((size_t)x->size, sizeof(int));
        if (!counts || !displs || !pcount || !pdispl)
            st = tb_error(TB_ERR_ENV, "out of memory gathering %d ranks' reports", x->size);
    }
    if ((st = tb_rt_agree_comm(x->comm, st)))
        goto out;
    /* the reports, then each rank's (peer, report) list */
    {
        int bytes = nmine * DESC_LEN, total = 0, ptotal = 0, np = 0, *plist;
        plist = malloc(sizeof(int) * 2 * (size_t)(n > 0 ? n : 1));
        if (!plist)
            tb_rt_abort(TB_ERR_ENV, "describing the transports' selections");
        for (int i = 0; i < n; i++)
            if (idx[i] >= 0) {
                plist[2 * np] = peers[i];
                plist[2 * np + 1] = idx[i];
                np++;
            }
        np *= 2;
        TB_MPI_OR_ABORT(MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, x->comm),
                        "describing the transports' selections");
        TB_MPI_OR_ABORT(MPI_Gather(&np, 1, MPI_INT, pcount, 1, MPI_INT, 0, x->comm),
                        "describing the transports' selections");
        if (x->rank == 0) {
            for (int r = 0; r < x->size; r++) {
                displs[r] = total;
                total += counts[r];
                pdispl[r] = ptotal;
                ptotal += pcount[r];
            }
            all = malloc((size_t)(total > 0 ? total : 1));
            pidx = malloc(sizeof(int) * (size_t)(ptotal > 0 ? ptotal : 1));
            if (!all || !pidx)
                tb_rt_abort(TB_ERR_ENV, "describing the transports' selections");
        }
        TB_MPI_OR_ABORT(MPI_Gatherv(mine, bytes, MPI_CHAR, all, counts, displs, MPI_CHAR, 0,
                                    x->comm),
                        "describing the transports' selections");
        TB_MPI_OR_ABORT(MPI_Gatherv(plist, np, MPI_INT, pidx, pcount, pdispl, MPI_INT, 0,
                                    x->comm),
                        "describing the transports' selections");
        free(plist);
    }
    if (x->rank != 0)
        goto out;
    {
        /* rank 0: one list of distinct reports over all ranks */
        int ndist = 0, cap = 0;
        char *dist = NULL;
        for (int r = 0; r < x->size; r++)
            cap += counts[r] / DESC_LEN;
        dist = calloc((size_t)(cap > 0 ? cap : 1), DESC_LEN);
        if (!dist) {
            st = tb_error(TB_ERR_ENV, "out of memory merging the transports' reports");
            goto out;
        }
        sel = json_array();
        pairs = json_array();
        for (int r = 0; r < x->size; r++) {
            const char *texts = all + displs[r];
            const int *pl = pidx + pdispl[r];
            for (int k = 0; k + 1 < pcount[r]; k += 2) {
                int before = ndist, d = distinct_index(dist, &ndist, texts + (size_t)pl[k + 1] * DESC_LEN);
                if (d == before) {
                    json_t *one = tb_xport_ucx_info_parse(dist + (size_t)d * DESC_LEN);
                    if (!one)
                        one = json_pack("{s:s}", "text", dist + (size_t)d * DESC_LEN);
                    json_object_set_new(one, "pairs", json_integer(0));
                    json_array_append_new(sel, one);
                }
                {
                    json_t *o = json_array_get(sel, (size_t)d);
                    json_object_set_new(
                        o, "pairs",
                        json_integer(json_integer_value(json_object_get(o, "pairs")) + 1));
                }
                if (npairs++ < TB_XPORT_PAIRS_MAX)
                    json_array_append_new(pairs, json_pack("[i,i,i]", world_of[r],
                                                           world_of[pl[k]], d));
            }
        }
        free(dist);
        if (npairs) {
            json_t *d = json_pack("{s:o, s:o, s:I}", "selections", sel, "pairs", pairs,
                                  "npairs", (json_int_t)npairs);
            sel = pairs = NULL;
            *desc_p = d;
        }
    }
out:
    json_decref(sel);
    json_decref(pairs);
    free(mine);
    free(idx);
    free(all);
    free(counts);
    free(displs);
    free(pidx);
    free(pcount);
    free(pdispl);
    return st;
}

/* ---- UCX's endpoint report ---- */

/* One lane line of ucp_ep_print_info (UCX 1.13):
 *   "#   lane[1]:  0:tcp/eth0.0 md[0]   -> md[0]/tcp/sysdev[255] rma_bw#1 wireup"
 * the transport and device ("tcp", "eth0": the ".0" is the path index) and, after the
 * remote resource, what the lane is used for. */
static json_t *lane_parse(const char *p, int lane)
{
    const char *rsc, *slash, *end, *arrow;
    json_t *uses, *o;
    char tl[64], dev[64];
    while (*p == ' ')
        p++;
    rsc = strchr(p, ':');
    if (!rsc)
        return NULL;
    rsc++;
    end = rsc;
    while (*end && !isspace((unsigned char)*end))
        end++;
    slash = memchr(rsc, '/', (size_t)(end - rsc));
    if (!slash || slash == rsc)
        return NULL;
    snprintf(tl, sizeof(tl), "%.*s", (int)(slash - rsc), rsc);
    {
        const char *d = slash + 1, *dot = end;
        for (const char *q = end - 1; q > d; q--)
            if (*q == '.') {
                dot = q;
                break;
            }
        snprintf(dev, sizeof(dev), "%.*s", (int)(dot - d), d);
    }
    uses = json_array();
    arrow = strstr(end, "->");
    if (arrow) {
        const char *q = arrow + 2;
        while (*q == ' ')
            q++;
        while (*q && !isspace((unsigned char)*q)) /* the remote resource */
            q++;
        while (*q) {
            const char *w;
            while (*q && isspace((unsigned char)*q))
                q++;
            w = q;
            while (*q && !isspace((unsigned char)*q))
                q++;
            if (q > w) {
                char word[64];
                snprintf(word, sizeof(word), "%.*s", (int)(q - w), w);
                json_array_append_new(uses, json_string(word));
            }
        }
    }
    o = json_pack("{s:i, s:s, s:s, s:o}", "lane", lane, "transport", tl, "device", dev, "uses",
                  uses);
    return o;
}

/* Whether the space-separated list holds the word w. */
static int word_in(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

void *tb_xport_ucx_info_parse(const char *text)
{
    json_t *lanes = json_array(), *o;
    char transports[512] = "", tag_send[256] = "";
    size_t tlen = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n'), *lp;
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[1024];
        snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
                 line);
        if ((lp = strstr(buf, "lane[")) != NULL) {
            int lane = atoi(lp + 5);
            const char *colon = strstr(lp, "]:");
            json_t *l = colon ? lane_parse(colon + 2, lane) : NULL;
            if (l) {
                char td[160];
                snprintf(td, sizeof(td), "%s/%s", json_string_value(json_object_get(l, "transport")),
                         json_string_value(json_object_get(l, "device")));
                /* each transport/device once, in lane order */
                if (!word_in(transports, td))
                    tlen += (size_t)snprintf(transports + tlen, sizeof(transports) - tlen,
                                             "%s%s", tlen ? " " : "", td);
                if (tlen >= sizeof(transports))
                    tlen = sizeof(transports) - 1;
                json_array_append_new(lanes, l);
            }
        } else if ((lp = strstr(buf, "tag_send:")) != NULL && !tag_send[0]) {
            lp += strlen("tag_send:");
            while (*lp == ' ')
                lp++;
            snprintf(tag_send, sizeof(tag_send), "%s", lp);
            for (size_t k = strlen(tag_send); k > 0 && isspace((unsigned char)tag_send[k - 1]);
                 k--)
                tag_send[k - 1] = '\0';
        }
        line = nl ? nl + 1 : NULL;
    }
    if (json_array_size(lanes) == 0) {
        json_decref(lanes);
        return NULL;
    }
    o = json_pack("{s:s, s:o}", "transports", transports, "lanes", lanes);
    if (tag_send[0])
        json_object_set_new(o, "tag_send", json_string(tag_send));
    return o;
}

tb_status_t tb_xport_record(tb_suite_t *s, void *entry, tb_xport_t *x, const int *peers, int n,
                            const int *world_of)
{
    json_t *desc = NULL;
    tb_status_t st = describe_pairs(x, peers, n, world_of, &desc);
    if (desc && entry) {
        pthread_mutex_lock(&s->doc_lock);
        json_object_set_new(entry, "selected", desc);
        pthread_mutex_unlock(&s->doc_lock);
    } else {
        json_decref(desc);
    }
    return st;
}
