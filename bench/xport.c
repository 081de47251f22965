/* The transport table's MPI row, the choice of transport, and the record of what a transport
 * selected for each pair (xport.h). */
#include "xport.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
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

/* MPI counts in int: a message the options allow (TB_MAX_MESSAGE_BYTES, 1 GiB) fits; a
 * larger one is a negative count, which MPI refuses (MPI_ERR_COUNT) instead of truncating. */
#define BYTE_COUNT(n) ((n) > INT_MAX ? -1 : (int)(n))

static tb_status_t mpi_send(tb_xport_t *x, const void *buf, size_t n, int peer, int tag)
{
    return TB_MPI_CHECK(MPI_Send(buf, BYTE_COUNT(n), MPI_BYTE, peer, tag, x->comm));
}

static tb_status_t mpi_recv(tb_xport_t *x, void *buf, size_t n, int peer, int tag)
{
    return TB_MPI_CHECK(
        MPI_Recv(buf, BYTE_COUNT(n), MPI_BYTE, peer, tag, x->comm, MPI_STATUS_IGNORE));
}

static tb_status_t mpi_isend(tb_xport_t *x, int slot, const void *buf, size_t n, int peer, int tag)
{
    MPI_Request *rq = x->impl;
    return TB_MPI_CHECK(MPI_Isend(buf, BYTE_COUNT(n), MPI_BYTE, peer, tag, x->comm, &rq[slot]));
}

static tb_status_t mpi_irecv(tb_xport_t *x, int slot, void *buf, size_t n, int peer, int tag)
{
    MPI_Request *rq = x->impl;
    return TB_MPI_CHECK(MPI_Irecv(buf, BYTE_COUNT(n), MPI_BYTE, peer, tag, x->comm, &rq[slot]));
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
    .describe = NULL, /* MPI does not say how it reaches a peer */
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

/* One rank's distinct selections: their canonical texts (compact JSON of the parsed report,
 * each NUL-terminated, back to back), how many of the rank's peers use each, and its
 * (peer, selection) pairs. */
typedef struct {
    json_t *index; /* canonical text -> local selection index */
    char *texts;
    size_t bytes, cap;
    int n, *uses;   /* n selections, uses[i] peers each */
    int np, *pairs; /* np pairs: peer, selection */
} local_sel_t;

static void local_sel_free(local_sel_t *l)
{
    json_decref(l->index);
    free(l->texts);
    free(l->uses);
    free(l->pairs);
}

/* Adds the canonical text `key` (a selection used to reach `peer`); -1 when out of memory. */
static int local_sel_add(local_sel_t *l, const char *key, int peer)
{
    json_t *have = json_object_get(l->index, key);
    int i;
    if (have) {
        i = (int)json_integer_value(have);
    } else {
        size_t len = strlen(key) + 1;
        int *uses = realloc(l->uses, sizeof(int) * (size_t)(l->n + 1));
        if (!uses)
            return -1;
        l->uses = uses;
        if (l->bytes + len > l->cap) {
            size_t cap = (l->bytes + len) * 2;
            char *t = realloc(l->texts, cap);
            if (!t)
                return -1;
            l->texts = t;
            l->cap = cap;
        }
        memcpy(l->texts + l->bytes, key, len);
        l->bytes += len;
        i = l->n++;
        l->uses[i] = 0;
        if (json_object_set_new(l->index, key, json_integer(i)))
            return -1;
    }
    l->uses[i]++;
    l->pairs[2 * l->np] = peer;
    l->pairs[2 * l->np + 1] = i;
    l->np++;
    return i;
}

/* This rank's selections for `peers`: each report parsed here, so what is merged is what
 * the endpoint selected, never UCX's text (newer UCX prints the process's context in it). */
static tb_status_t local_selections(tb_xport_t *x, const int *peers, int n, local_sel_t *l)
{
    memset(l, 0, sizeof(*l));
    l->index = json_object();
    l->pairs = malloc(sizeof(int) * 2 * (size_t)(n > 0 ? n : 1));
    if (!l->index || !l->pairs)
        return tb_error(TB_ERR_ENV, "out of memory describing %d peers", n);
    for (int i = 0; i < n; i++) {
        char *text, *key;
        json_t *one;
        int added;
        if (peers[i] < 0 || !(text = x->ops->describe(x, peers[i])))
            continue;
        one = tb_xport_ucx_info_parse(text);
        free(text);
        /* a report this parser does not know: one selection for all such, said as such */
        key = one ? json_dumps(one, JSON_COMPACT | JSON_PRESERVE_ORDER)
                  : strdup("{\"transports\":\"\",\"lanes\":[],\"unparsed\":true}");
        json_decref(one);
        added = key ? local_sel_add(l, key, peers[i]) : -1;
        free(key);
        if (added < 0)
            return tb_error(TB_ERR_ENV, "out of memory describing %d peers", n);
    }
    return TB_OK;
}

#define SEL_ABORT(call) TB_MPI_OR_ABORT(call, "describing the transports' selections")

static tb_status_t describe_pairs(tb_xport_t *x, const int *peers, int n, const int *world_of,
                                  json_t **desc_p)
{
    /* Rank 0 gathers, per rank: its distinct selections' texts and use counts, and its
     * pairs while they are among the comm's first TB_XPORT_PAIRS_MAX (rank order). */
    enum { BYTES, NSEL, NPAIRS, HDR };
    local_sel_t l;
    int hdr[HDR], *hdrs = NULL, *bcount = NULL, *bdispl = NULL, *scount = NULL, *sdispl = NULL,
                  *pcount = NULL, *pdispl = NULL, *uses = NULL, *plist = NULL, *gmap = NULL,
                  send_pairs = 0;
    long long *gcount = NULL, npairs = 0;
    char *texts = NULL;
    json_t *gindex = NULL, *sel = NULL, *pairs = NULL;
    tb_status_t st;
    *desc_p = NULL;
    if (!x->ops->describe) /* the same transport on every rank: none of them reports */
        return TB_OK;
    st = local_selections(x, peers, n, &l);
    if (st == TB_OK && l.bytes > INT_MAX)
        st = tb_error(TB_ERR_INTERNAL, "the transport's reports exceed %d bytes", INT_MAX);
    if (st == TB_OK && x->rank == 0 &&
        (!(hdrs = calloc((size_t)x->size * HDR, sizeof(int))) ||
         !(bcount = calloc((size_t)x->size, sizeof(int))) ||
         !(bdispl = calloc((size_t)x->size, sizeof(int))) ||
         !(scount = calloc((size_t)x->size, sizeof(int))) ||
         !(sdispl = calloc((size_t)x->size, sizeof(int))) ||
         !(pcount = calloc((size_t)x->size, sizeof(int))) ||
         !(pdispl = calloc((size_t)x->size, sizeof(int)))))
        st = tb_error(TB_ERR_ENV, "out of memory gathering %d ranks' selections", x->size);
    if ((st = tb_rt_agree_comm(x->comm, st)))
        goto out;
    hdr[BYTES] = (int)l.bytes;
    hdr[NSEL] = l.n;
    hdr[NPAIRS] = l.np;
    SEL_ABORT(MPI_Gather(hdr, HDR, MPI_INT, hdrs, HDR, MPI_INT, 0, x->comm));
    if (x->rank == 0) {
        /* each rank's share of the listed pairs, then where everything lands */
        long long btotal = 0, stotal = 0, listed = 0;
        for (int r = 0; r < x->size; r++) {
            const int *h = hdrs + (size_t)r * HDR;
            long long room = TB_XPORT_PAIRS_MAX - listed;
            bcount[r] = h[BYTES];
            bdispl[r] = (int)btotal;
            scount[r] = h[NSEL];
            sdispl[r] = (int)stotal;
            pdispl[r] = (int)(2 * listed);
            pcount[r] = (int)(h[NPAIRS] < room ? h[NPAIRS] : room);
            listed += pcount[r];
            btotal += h[BYTES];
            stotal += h[NSEL];
            npairs += h[NPAIRS];
            if (btotal > INT_MAX || stotal > INT_MAX)
                tb_rt_abort(TB_ERR_INTERNAL, "the transports' selections exceed 2 GiB");
        }
        texts = malloc((size_t)(btotal > 0 ? btotal : 1));
        uses = malloc(sizeof(int) * (size_t)(stotal > 0 ? stotal : 1));
        plist = malloc(sizeof(int) * 2 * (size_t)(listed > 0 ? listed : 1));
        gmap = malloc(sizeof(int) * (size_t)(stotal > 0 ? stotal : 1));
        gcount = calloc((size_t)(stotal > 0 ? stotal : 1), sizeof(long long));
        if (!texts || !uses || !plist || !gmap || !gcount)
            tb_rt_abort(TB_ERR_ENV, "describing the transports' selections");
    }
    SEL_ABORT(MPI_Scatter(pcount, 1, MPI_INT, &send_pairs, 1, MPI_INT, 0, x->comm));
    for (int r = 0; x->rank == 0 && r < x->size; r++)
        pcount[r] *= 2; /* ints: peer, selection */
    SEL_ABORT(
        MPI_Gatherv(l.texts, hdr[BYTES], MPI_CHAR, texts, bcount, bdispl, MPI_CHAR, 0, x->comm));
    SEL_ABORT(MPI_Gatherv(l.uses, l.n, MPI_INT, uses, scount, sdispl, MPI_INT, 0, x->comm));
    SEL_ABORT(
        MPI_Gatherv(l.pairs, 2 * send_pairs, MPI_INT, plist, pcount, pdispl, MPI_INT, 0, x->comm));
    if (x->rank != 0 || npairs == 0)
        goto out;
    /* rank 0: each rank's local selections mapped to the global ones once */
    gindex = json_object();
    sel = json_array();
    pairs = json_array();
    if (!gindex || !sel || !pairs) {
        st = tb_error(TB_ERR_ENV, "out of memory merging the transports' selections");
        goto out;
    }
    for (int r = 0; r < x->size; r++) {
        const char *t = texts + bdispl[r];
        int nsel = scount[r];
        for (int k = 0; k < nsel; k++, t += strlen(t) + 1) {
            json_t *have = json_object_get(gindex, t);
            int g = have ? (int)json_integer_value(have) : (int)json_array_size(sel);
            if (!have) {
                json_t *one = json_loads(t, 0, NULL);
                if (!one || json_array_append_new(sel, one) ||
                    json_object_set_new(gindex, t, json_integer(g))) {
                    st = tb_error(TB_ERR_INTERNAL, "merging the transports' selections");
                    goto out;
                }
            }
            gmap[sdispl[r] + k] = g;
            gcount[g] += uses[sdispl[r] + k];
        }
        for (int k = 0; k < pcount[r]; k += 2) {
            const int *p = plist + pdispl[r] + k;
            json_array_append_new(
                pairs, json_pack("[i,i,i]", world_of[r], world_of[p[0]], gmap[sdispl[r] + p[1]]));
        }
    }
    for (size_t g = 0; g < json_array_size(sel); g++)
        json_object_set_new(json_array_get(sel, g), "pairs", json_integer(gcount[g]));
    *desc_p = json_pack("{s:o, s:o, s:I}", "selections", sel, "pairs", pairs, "npairs",
                        (json_int_t)npairs);
    sel = pairs = NULL;
out:
    local_sel_free(&l);
    json_decref(gindex);
    json_decref(sel);
    json_decref(pairs);
    free(hdrs);
    free(bcount);
    free(bdispl);
    free(scount);
    free(sdispl);
    free(pcount);
    free(pdispl);
    free(texts);
    free(uses);
    free(plist);
    free(gmap);
    free(gcount);
    return st;
}

/* ---- UCX's endpoint report ---- */

/* One lane line of ucp_ep_print_info, after "lane[i]:". UCX 1.13:
 *   "  0:tcp/eth0.0 md[0]   -> md[0]/tcp/sysdev[255] rma_bw#1 wireup"
 * UCX 1.16 on (the remote resource gains its segment size; a wireup lane still connecting
 * names its auxiliary transport):
 *   "  6:rc_mlx5/mlx5_0:1.0 md[1]   -> md[1]/ib/sysdev[1] seg 4294967295 rma_bw#0 am wireup"
 * The transport and device ("tcp", "eth0": the ".0" is the path index) and, after the
 * remote resource, what the lane is used for. A connection-manager lane ("cm tcp") names
 * no transport/device: NULL, as for text that is not a lane. */
static json_t *lane_parse(const char *p, const char *eol, int lane)
{
    const char *rsc, *slash, *end, *arrow;
    json_t *uses;
    char tl[64], dev[64];
    while (p < eol && *p == ' ')
        p++;
    rsc = memchr(p, ':', (size_t)(eol - p));
    if (!rsc)
        return NULL;
    rsc++;
    end = rsc;
    while (end < eol && !isspace((unsigned char)*end))
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
    for (arrow = end; arrow + 1 < eol && !(arrow[0] == '-' && arrow[1] == '>'); arrow++)
        ;
    if (arrow + 1 < eol) {
        const char *q = arrow + 2;
        int skip = 1; /* the remote resource */
        while (q < eol && *q == ' ')
            q++;
        while (q < eol) {
            const char *w, *brace;
            while (q < eol && isspace((unsigned char)*q))
                q++;
            w = q;
            while (q < eol && !isspace((unsigned char)*q))
                q++;
            if (q == w)
                continue;
            if (q - w == 3 && !memcmp(w, "seg", 3)) {
                skip = 1; /* "seg N": the remote's segment size, not a use */
                continue;
            }
            if (skip) {
                skip = 0;
                continue;
            }
            /* "wireup{tcp/eth0}": the stub endpoint's transport, there only while connecting */
            brace = memchr(w, '{', (size_t)(q - w));
            json_array_append_new(uses, json_stringn(w, (size_t)((brace ? brace : q) - w)));
        }
    }
    return json_pack("{s:i, s:s, s:s, s:o}", "lane", lane, "transport", tl, "device", dev, "uses",
                     uses);
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

/* The report's line [p, eol) without its "#" and indentation, if it starts with `what`. */
static const char *line_is(const char *p, const char *eol, const char *what)
{
    size_t n = strlen(what);
    while (p < eol && (*p == '#' || *p == ' '))
        p++;
    return (size_t)(eol - p) >= n && !memcmp(p, what, n) ? p + n : NULL;
}

void *tb_xport_ucx_info_parse(const char *text)
{
    json_t *lanes = json_array(), *o;
    char *transports = NULL, *tag_send = NULL;
    size_t tlen = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n'), *p;
        if (!eol)
            eol = line + strlen(line);
        if ((p = line_is(line, eol, "lane[")) != NULL) {
            int lane = atoi(p);
            const char *colon = strstr(p, "]:");
            json_t *l = colon && colon < eol ? lane_parse(colon + 2, eol, lane) : NULL;
            if (l) {
                const char *t = json_string_value(json_object_get(l, "transport")),
                           *d = json_string_value(json_object_get(l, "device"));
                size_t n = strlen(t) + strlen(d) + 2;
                char *td = malloc(n), *grown;
                if (td)
                    snprintf(td, n, "%s/%s", t, d);
                /* each transport/device once, in lane order */
                if (td && !word_in(transports ? transports : "", td) &&
                    (grown = realloc(transports, tlen + n + 1)) != NULL) {
                    transports = grown;
                    tlen += (size_t)sprintf(transports + tlen, "%s%s", tlen ? " " : "", td);
                }
                free(td);
                json_array_append_new(lanes, l);
            }
        } else if ((p = line_is(line, eol, "tag_send:")) != NULL && !tag_send) {
            const char *e = eol;
            while (p < e && *p == ' ')
                p++;
            while (e > p && isspace((unsigned char)e[-1]))
                e--;
            tag_send = strndup(p, (size_t)(e - p));
        }
        line = *eol ? eol + 1 : NULL;
    }
    if (json_array_size(lanes) == 0) {
        json_decref(lanes);
        free(transports);
        free(tag_send);
        return NULL;
    }
    o = json_pack("{s:s, s:o}", "transports", transports ? transports : "", "lanes", lanes);
    if (tag_send && *tag_send)
        json_object_set_new(o, "tag_send", json_string(tag_send));
    free(transports);
    free(tag_send);
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
