/* The analyzer (docs/analysis.md): reads a results document, joins every measured cell to
 * its path through ranks[] and hosts[].topology, judges it against the model's expected
 * figure and, robustly (median and MAD), against its peers of the same path class, and
 * names the culprits: a node whose links are all low, a link low both ways, one direction
 * of a link, latency outliers apart, and nodes whose topology differs, joined to their
 * measurements. Never touches hardware; the document is the only input. */
#include "analysis.h"
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "log.h"
#include "stats.h"
#include "topo.h"

/* MAD scaled to the standard deviation of a normal distribution. */
#define MAD_SCALE 1.4826
#define MAX_NUMA 64
#define CELLS_CITED 6

typedef struct numa_info {
    int os_index, package;
    tb_cpumask_t cpus;
} numa_info_t;

typedef struct host_info {
    const char *name;
    int nnuma;
    numa_info_t numa[MAX_NUMA];
    double net_gbs, net_theo_gbs; /* the node's fastest active RDMA port; 0 = none known */
    double net_sum_gbs;           /* all its active RDMA ports with a known rate */
    char net_desc[192];
    json_t *facts;    /* strings: topology findings and node_differs behind a verdict */
    json_t *differs;  /* node_differs findings of this host (messages), or NULL */
    json_t *measured; /* how the host measured against its peers, per set */
    int ncpus, nlocal; /* CPUs of the machine (0 unknown), ranks on it */
    /* hosts[].boot_id: hosts with the same one run on one kernel (network namespaces,
     * containers): machine_ranks is the ranks of all of them, machine_hosts their count */
    const char *boot_id;
    int machine_ranks, machine_hosts;
    size_t latency_skipped; /* latency outliers not judged: the node was oversubscribed */
    size_t bw_skipped; /* bandwidth outliers within the scheduler's reach, oversubscribed */
    unsigned char bw_verdict; /* a bandwidth node verdict in the entry being judged */
} host_info_t;

typedef struct rank_info {
    int host, numa, package, bound;
} rank_info_t;

enum { CLS_NET, CLS_SAME_NUMA, CLS_CROSS_NUMA, CLS_CROSS_SOCKET, CLS_INTRA, NCLS };
static const char *const cls_names[NCLS] = {"NET", "same-NUMA", "cross-NUMA", "cross-socket",
                                            "intra-node"};

typedef struct ctx {
    const json_t *doc;
    const tb_analysis_opts_t *opts;
    size_t nhosts, nranks;
    host_info_t *hosts;
    rank_info_t *ranks;
    json_t *culprits, *sets, *p2p, *notes, *confirm_pairs, *confirm_controls;
    json_t *gpu_copy, *collectives; /* the GPU copy entries' and collectives' judgements */
    json_t *culprit_index; /* "kind\x1fsubject" -> culprit (culprit_add) */
    size_t ncells, nflagged;
    long long confirm_size;
    double *work; /* scratch memory kept across sets (work_doubles, work_idx) */
    size_t work_cap, *idx, idx_cap;
} ctx_t;

/* ---- the document's facts --------------------------------------------------------- */

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* NUMA nodes (with their package) and the fastest active RDMA port of one node. */
static void host_read_topology(host_info_t *h, const json_t *topo)
{
    const json_t *objs = json_object_get(topo, "objects"), *o, *f;
    size_t i, k;
    json_array_foreach(objs, i, o) {
        const char *kind = str_of(o, "kind");
        if (!strcmp(kind, "machine")) {
            tb_cpumask_t m;
            tb_cpumask_parse(str_of(o, "cpuset"), &m);
            h->ncpus += tb_cpumask_count(&m);
        } else if (!strcmp(kind, "numa") && h->nnuma < MAX_NUMA) {
            numa_info_t *n = &h->numa[h->nnuma++];
            json_int_t p = json_integer_value(json_object_get(o, "parent"));
            n->os_index = (int)json_integer_value(json_object_get(o, "os_index"));
            n->package = -1;
            /* walk up to the package; bounded in case the parents form a loop */
            for (int hop = 0; hop < 64 && p >= 0 && (size_t)p < json_array_size(objs); hop++) {
                const json_t *up = json_array_get(objs, (size_t)p);
                if (!strcmp(str_of(up, "kind"), "package")) {
                    n->package = (int)p;
                    break;
                }
                p = json_integer_value(json_object_get(up, "parent"));
            }
            tb_cpumask_parse(str_of(o, "cpuset"), &n->cpus);
        } else if (!strcmp(kind, "nic")) {
            const json_t *port;
            json_array_foreach(json_object_get(o, "ports"), k, port) {
                const char *state = str_of(port, "state");
                double rate = json_number_value(json_object_get(port, "rate_gbps"));
                tb_topo_bw_t bw;
                if (rate <= 0 || (state[0] && strcmp(state, "ACTIVE") != 0))
                    continue;
                if (tb_topo_bw_net(rate, str_of(port, "link_layer"), &bw) != 0)
                    continue;
                h->net_sum_gbs += bw.achievable_gbs;
                if (bw.achievable_gbs <= h->net_gbs)
                    continue;
                h->net_gbs = bw.achievable_gbs;
                h->net_theo_gbs = bw.theoretical_gbs;
                snprintf(h->net_desc, sizeof(h->net_desc), "%s port %lld, %s at %g Gb/s",
                         str_of(o, "name"),
                         (long long)json_integer_value(json_object_get(port, "num")), bw.name,
                         rate);
            }
        }
    }
    json_array_foreach(json_object_get(topo, "findings"), i, f) {
        if (!strcmp(str_of(f, "severity"), "info"))
            continue;
        json_array_append_new(h->facts, json_sprintf("%s: %s (%s): %s", h->name, str_of(f, "code"),
                                                     str_of(f, "object"), str_of(f, "message")));
    }
}

static tb_status_t ctx_load(ctx_t *c)
{
    const json_t *hosts = json_object_get(c->doc, "hosts"), *ranks = json_object_get(c->doc, "ranks");
    const json_t *h, *r, *f;
    size_t i;
    c->nhosts = json_array_size(hosts);
    c->nranks = json_array_size(ranks);
    c->hosts = calloc(c->nhosts ? c->nhosts : 1, sizeof(*c->hosts));
    c->ranks = calloc(c->nranks ? c->nranks : 1, sizeof(*c->ranks));
    if (!c->hosts || !c->ranks)
        return tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
    json_array_foreach(hosts, i, h) {
        host_info_t *hi = &c->hosts[i];
        hi->name = str_of(h, "name");
        hi->facts = json_array();
        hi->measured = json_array();
        hi->nlocal = (int)json_array_size(json_object_get(h, "ranks"));
        hi->boot_id = json_string_value(json_object_get(h, "boot_id"));
        if (json_is_object(json_object_get(h, "topology")))
            host_read_topology(hi, json_object_get(h, "topology"));
    }
    for (size_t a = 0; a < c->nhosts; a++) {
        host_info_t *ha = &c->hosts[a];
        ha->machine_ranks = ha->nlocal;
        ha->machine_hosts = 1;
        for (size_t b = 0; ha->boot_id && *ha->boot_id && b < c->nhosts; b++)
            if (b != a && c->hosts[b].boot_id && !strcmp(c->hosts[b].boot_id, ha->boot_id))
                ha->machine_ranks += c->hosts[b].nlocal, ha->machine_hosts++;
    }
    json_array_foreach(json_object_get(c->doc, "findings"), i, f) {
        const char *host = str_of(f, "host");
        if (strcmp(str_of(f, "code"), "node_differs") != 0)
            continue;
        for (size_t k = 0; k < c->nhosts; k++) {
            if (strcmp(c->hosts[k].name, host) != 0)
                continue;
            json_array_append_new(c->hosts[k].facts,
                                  json_sprintf("%s: node_differs (%s): %s", host,
                                               str_of(f, "severity"), str_of(f, "message")));
            if (!strcmp(str_of(f, "severity"), "warning")) {
                if (!c->hosts[k].differs)
                    c->hosts[k].differs = json_array();
                json_array_append_new(c->hosts[k].differs, json_string(str_of(f, "message")));
            }
        }
    }
    json_array_foreach(ranks, i, r) {
        rank_info_t *ri = &c->ranks[i];
        json_int_t rank = json_integer_value(json_object_get(r, "rank"));
        json_int_t node = json_integer_value(json_object_get(r, "node_index"));
        tb_cpumask_t cpus;
        if (rank != (json_int_t)i || node < 0 || (size_t)node >= c->nhosts)
            return tb_error(TB_ERR_INPUT,
                            "analyze: ranks[%zu]: expected rank %zu with node_index 0..%zu, "
                            "got rank %lld, node_index %lld",
                            i, i, c->nhosts ? c->nhosts - 1 : 0, (long long)rank,
                            (long long)node);
        ri->host = (int)node;
        ri->numa = ri->package = -1;
        ri->bound = json_is_true(json_object_get(r, "bound"));
        tb_cpumask_parse(str_of(r, "cpuset"), &cpus);
        for (int n = 0; ri->bound && n < c->hosts[node].nnuma; n++)
            if (tb_cpumask_within(&cpus, &c->hosts[node].numa[n].cpus)) {
                ri->numa = c->hosts[node].numa[n].os_index;
                ri->package = c->hosts[node].numa[n].package;
            }
    }
    return TB_OK;
}

/* ---- paths ------------------------------------------------------------------------ */

typedef struct path {
    int cls;
    double expected; /* GB/s, typically achieved; 0 = no model figure */
    char detail[400], source[400];
} path_t;

/* The class and expected figure alone, without the texts: once per cell. */
static int path_cls(const ctx_t *c, int ra, int rb)
{
    const rank_info_t *a = &c->ranks[ra], *b = &c->ranks[rb];
    if (a->host != b->host)
        return CLS_NET;
    if (a->numa < 0 || b->numa < 0)
        return CLS_INTRA;
    return a->numa == b->numa ? CLS_SAME_NUMA
           : a->package == b->package ? CLS_CROSS_NUMA
                                      : CLS_CROSS_SOCKET;
}

static double path_expected(const ctx_t *c, int ra, int rb)
{
    const host_info_t *ha = &c->hosts[c->ranks[ra].host], *hb = &c->hosts[c->ranks[rb].host];
    if (ha == hb || ha->net_gbs <= 0 || hb->net_gbs <= 0)
        return 0;
    return ha->net_gbs < hb->net_gbs ? ha->net_gbs : hb->net_gbs;
}

static void path_of(const ctx_t *c, int ra, int rb, path_t *p)
{
    const rank_info_t *a = &c->ranks[ra], *b = &c->ranks[rb];
    const host_info_t *ha = &c->hosts[a->host], *hb = &c->hosts[b->host];
    p->expected = 0;
    p->source[0] = 0;
    if (a->host != b->host) {
        p->cls = CLS_NET;
        snprintf(p->detail, sizeof(p->detail), "NET: %s (%s) -> %s (%s)", ha->name,
                 ha->net_desc[0] ? ha->net_desc : "no RDMA port in the model", hb->name,
                 hb->net_desc[0] ? hb->net_desc : "no RDMA port in the model");
        if (ha->net_gbs > 0 && hb->net_gbs > 0) {
            const host_info_t *lo = ha->net_gbs <= hb->net_gbs ? ha : hb;
            p->expected = lo->net_gbs;
            snprintf(p->source, sizeof(p->source),
                     "%s: %s (%.4g GB/s theoretical, %.4g typically achieved; link table, "
                     "REFERENCE.md 3)",
                     lo->name, lo->net_desc, lo->net_theo_gbs, lo->net_gbs);
        } else {
            snprintf(p->source, sizeof(p->source),
                     "none: %s has no active RDMA port with a known rate in its topology",
                     ha->net_gbs > 0 ? hb->name : ha->name);
        }
        return;
    }
    p->cls = path_cls(c, ra, rb);
    if (p->cls != CLS_INTRA) {
        snprintf(p->detail, sizeof(p->detail), "%s on %s: rank %d on NUMA %d, rank %d on NUMA %d",
                 cls_names[p->cls], ha->name, ra, a->numa, rb, b->numa);
    } else {
        snprintf(p->detail, sizeof(p->detail), "intra-node on %s: %s", ha->name,
                 (!a->bound || !b->bound) ? "ranks not bound, NUMA placement unknown"
                                          : "rank cpusets not within one NUMA node of the model");
    }
    snprintf(p->source, sizeof(p->source),
             "none: the model has no figure for shared-memory copies (peers only)");
}

/* ---- one set of comparable cells -------------------------------------------------- */

enum { PEER_OK, PEER_OUTLIER, PEER_NONE };

/* One byte per cell: its path class (CLS_ABSENT: no measurement, or a rank with itself),
 * its verdict among its peers, whether it touches a node with a verdict, whether it is
 * below the model and whether the model has a figure for it. A 4,096-rank matrix is
 * 16.7 million cells: they are judged in place, their values in the matrix as read, and
 * nothing else is kept per cell. */
#define CLS_ABSENT 7
#define F_CLS 0x07u
#define F_PEER_SHIFT 3
#define F_PEER 0x18u
#define F_NODE_BAD 0x20u
#define F_BELOW 0x40u
#define F_EXP 0x80u

typedef struct cellset {
    const char *test, *level, *metric;
    int higher; /* bandwidth: higher is better; latency: lower */
    long long size;
    size_t n, nvalid;   /* cells (a matrix: nrows^2, the diagonal included); measured ones */
    const double *v;    /* cell k's value */
    const int *pa, *pb; /* pairs measured one at a time: cell k's ranks; NULL for a matrix */
    const int *row;     /* a matrix: the world rank of each row; cell k = row k / nrows,
                         * column k % nrows */
    size_t nrows;
    unsigned char *f;
    /* Shift-pattern matrices: in round d every row i sends to (i + d) mod n at once, so
     * a node's port carries out[h * nrows + d] flows out and in[...] flows in. */
    unsigned *out, *in;
    double *eo, *ei; /* host h's figure / out[h * nrows + d] (in[...]), 1 for 0 */
    size_t *hr_off, *hr; /* a matrix: the rows of each host, hr[hr_off[h] .. hr_off[h + 1]) */
} cellset_t;

/* A cell as the verdicts read it (cell_at). */
typedef struct cell {
    size_t k;
    int ra, rb; /* world ranks: from, to */
    int i, j;   /* matrix row and column; -1 for pairs measured one at a time */
    double v;
    unsigned char cls, peer, node_bad; /* node_bad: touches a node judged bad */
} cell_t;

/* Walks every cell of a set in order; i and j follow a matrix's row and column without a
 * division per cell. */
#define FOR_CELLS(s, k, i, j)                                                                  \
    for (size_t k = 0, i = 0, j = 0; k < (s)->n;                                               \
         k++, (++j == (s)->nrows ? (void)(j = 0, i++) : (void)0))
#define CELL_RA(s, k, i) ((s)->pa ? (s)->pa[k] : (s)->row[i])
#define CELL_RB(s, k, j) ((s)->pb ? (s)->pb[k] : (s)->row[j])
#define CELL_CLS(s, k) ((s)->f[k] & F_CLS)
#define CELL_PEER(s, k) (((s)->f[k] & F_PEER) >> F_PEER_SHIFT)

static void cell_at(const cellset_t *s, size_t k, cell_t *x)
{
    unsigned f = s->f[k];
    x->k = k;
    if (s->pa) {
        x->ra = s->pa[k];
        x->rb = s->pb[k];
        x->i = x->j = -1;
    } else {
        x->i = (int)(k / s->nrows);
        x->j = (int)(k % s->nrows);
        x->ra = s->row[x->i];
        x->rb = s->row[x->j];
    }
    x->v = s->v[k];
    x->cls = (unsigned char)(f & F_CLS);
    x->peer = (unsigned char)((f & F_PEER) >> F_PEER_SHIFT);
    x->node_bad = (f & F_NODE_BAD) != 0;
}

/* The analyzer's scratch memory, kept across sets: a 4,096-rank matrix needs 268 MB of
 * it, and allocating that afresh for every metric cost more in page faults than the
 * judging itself. */
static double *work_doubles(ctx_t *c, size_t n)
{
    if (n > c->work_cap) {
        double *w = realloc(c->work, n * sizeof(double));
        if (!w)
            return NULL;
        c->work = w;
        c->work_cap = n;
    }
    return c->work;
}

static size_t *work_idx(ctx_t *c, size_t n)
{
    if (n > c->idx_cap) {
        size_t cap = c->idx_cap < 64 ? 64 : c->idx_cap, *w;
        while (cap < n)
            cap *= 2;
        w = realloc(c->idx, cap * sizeof(size_t));
        if (!w)
            return NULL;
        c->idx = w;
        c->idx_cap = cap;
    }
    return c->idx;
}

/* Counts, per node and round, the concurrent flows through its port, and lists each
 * node's rows. */
static void set_shares(const ctx_t *c, cellset_t *s)
{
    size_t n = s->nrows;
    int *host = malloc((n ? n : 1) * sizeof(int));
    s->out = calloc(c->nhosts * (n ? n : 1), sizeof(unsigned));
    s->in = calloc(c->nhosts * (n ? n : 1), sizeof(unsigned));
    s->hr_off = calloc(c->nhosts + 1, sizeof(size_t));
    s->hr = malloc((n ? n : 1) * sizeof(size_t));
    if (!host || !s->out || !s->in || !s->hr_off || !s->hr) {
        free(s->out), free(s->in), free(s->hr_off), free(s->hr);
        s->out = s->in = NULL;
        s->hr_off = s->hr = NULL;
        free(host);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        host[i] = c->ranks[s->row[i]].host;
        s->hr_off[host[i] + 1]++;
    }
    for (size_t h = 0; h < c->nhosts; h++)
        s->hr_off[h + 1] += s->hr_off[h];
    {
        size_t *fill = calloc(c->nhosts ? c->nhosts : 1, sizeof(size_t));
        if (fill)
            for (size_t i = 0; i < n; i++)
                s->hr[s->hr_off[host[i]] + fill[host[i]]++] = i;
        else
            free(s->hr_off), s->hr_off = NULL;
        free(fill);
    }
    for (size_t d = 1; d < n; d++)
        for (size_t i = 0, to = d; i < n; i++, to = to + 1 == n ? 0 : to + 1) {
            int ha = host[i], hb = host[to]; /* to: (i + d) mod n */
            if (ha != hb)
                s->out[(size_t)ha * n + d]++, s->in[(size_t)hb * n + d]++;
        }
    free(host);
    /* each port's share of its figure per round, divided once here instead of per cell
     * (cell_expected_net) */
    s->eo = malloc(c->nhosts * (n ? n : 1) * sizeof(double));
    s->ei = malloc(c->nhosts * (n ? n : 1) * sizeof(double));
    if (!s->eo || !s->ei) {
        free(s->eo), free(s->ei);
        s->eo = s->ei = NULL;
        return;
    }
    for (size_t h = 0; h < c->nhosts; h++)
        for (size_t d = 0; d < n; d++) {
            unsigned ko = s->out[h * n + d], ki = s->in[h * n + d];
            s->eo[h * n + d] = c->hosts[h].net_gbs / (ko ? ko : 1);
            s->ei[h * n + d] = c->hosts[h].net_gbs / (ki ? ki : 1);
        }
}

/* The cell's expected figure: the path's, divided among the flows that share a port in
 * the cell's shift round (a rank-level matrix with 8 ranks per node sends 8 flows
 * through each port at once). Adjusts p (when given) and says so in its source. */
static double cell_expected(const ctx_t *c, const cellset_t *s, const cell_t *x, path_t *p);

/* Whether x is worse than the median beyond both thresholds. */
static int is_worse(const ctx_t *c, int higher, double x, double med, double mad)
{
    double dev = higher ? med - x : x - med, sd = MAD_SCALE * mad;
    if (dev <= 0)
        return 0;
    if (dev < c->opts->min_drop * med)
        return 0;
    return sd <= 0 || dev > c->opts->mad_k * sd;
}

/* Percentile p of v (reordered in place): by selection, O(n); a node's cells in a
 * 4,096-rank matrix are 65,000 values, and sorting them was most of the analyzer's time. */
static double quantile(double *v, size_t n, double p)
{
    return tb_stats_percentile_select(v, n, p);
}

/* Median and MAD of v[0..n), reordering v and overwriting it with the deviations: the
 * same figures as tb_stats_median_mad without its copy. */
static void median_mad_inplace(double *v, size_t n, double *med_p, double *mad_p)
{
    double med = tb_stats_median_select(v, n);
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - med);
    *med_p = med;
    *mad_p = tb_stats_median_select(v, n);
}

static json_t *cells_cited(const cellset_t *s, const size_t *idx, size_t n)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < n && k < CELLS_CITED; k++) {
        cell_t x;
        cell_at(s, idx[k], &x);
        json_array_append_new(arr, json_pack("{s:i, s:i, s:f}", "from", x.ra, "to", x.rb,
                                             "value", x.v));
    }
    return arr;
}

/* Finds or creates the culprit (kind, subject) and appends one piece of evidence. The
 * index (kind and subject -> culprit) keeps this O(1) when a noisy set names thousands. */
static json_t *culprit_add(ctx_t *c, const char *kind, const char *subject, json_t *evidence)
{
    json_t *cu, *key = json_sprintf("%s\x1f%s", kind, subject);
    if (key && (cu = json_object_get(c->culprit_index, json_string_value(key)))) {
        json_array_append_new(json_object_get(cu, "evidence"), evidence);
        json_decref(key);
        return cu;
    }
    cu = json_pack("{s:s, s:s, s:[], s:[], s:[o], s:[], s:[]}", "kind", kind, "subject", subject,
                   "hosts", "ranks", "evidence", evidence, "topology", "confirm_pairs");
    json_array_append_new(c->culprits, cu);
    if (key)
        json_object_set(c->culprit_index, json_string_value(key), cu);
    json_decref(key);
    return cu;
}

static void json_add_unique_str(json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (!strcmp(json_string_value(x), s)) return;
    json_array_append_new(arr, json_string(s));
}

static void json_add_unique_pair(json_t *arr, int a, int b)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (json_integer_value(json_array_get(x, 0)) == a &&
            json_integer_value(json_array_get(x, 1)) == b)
            return;
    }
    json_array_append_new(arr, json_pack("[i, i]", a, b));
}

static void culprit_host(ctx_t *c, json_t *cu, int host)
{
    size_t i;
    json_t *f;
    json_add_unique_str(json_object_get(cu, "hosts"), c->hosts[host].name);
    json_array_foreach(c->hosts[host].facts, i, f)
        json_add_unique_str(json_object_get(cu, "topology"), json_string_value(f));
}

/* Whether cell x shares a node (NET) or a rank (within a node) with the pair (a, b). */
static int cell_touches(const ctx_t *c, const cell_t *x, int a, int b)
{
    if (x->cls == CLS_NET) {
        int ha = c->ranks[a].host, hb = c->ranks[b].host, hx = c->ranks[x->ra].host,
            hy = c->ranks[x->rb].host;
        return hx == ha || hx == hb || hy == ha || hy == hb;
    }
    return x->ra == a || x->ra == b || x->rb == a || x->rb == b;
}

static void culprit_confirm(ctx_t *c, json_t *cu, const cellset_t *s, int a, int b)
{
    int cls = path_cls(c, a, b);
    json_add_unique_pair(json_object_get(cu, "confirm_pairs"), a, b);
    json_add_unique_pair(c->confirm_pairs, a, b);
    if (!c->confirm_size && s->size > 0)
        c->confirm_size = s->size;
    /* the reference: a healthy pair of the same path class away from the suspects, so
     * the pairs measured alone are compared with pairs measured alone */
    for (size_t k = 0; k < s->n; k++) {
        cell_t x;
        if (CELL_CLS(s, k) != (unsigned)cls || CELL_PEER(s, k) != PEER_OK ||
            (s->f[k] & F_NODE_BAD))
            continue;
        cell_at(s, k, &x);
        if (cell_touches(c, &x, a, b))
            continue;
        if (!json_object_get(cu, "control_pairs"))
            json_object_set_new(cu, "control_pairs", json_array());
        json_add_unique_pair(json_object_get(cu, "control_pairs"), x.ra, x.rb);
        json_add_unique_pair(c->confirm_controls, x.ra, x.rb);
        break;
    }
}

static json_t *evidence_new(const cellset_t *s, int cls, double measured, double med,
                            double mad, const path_t *p)
{
    json_t *e = json_pack("{s:s, s:s?, s:s, s:s, s:f, s:f, s:f, s:f}", "test", s->test, "level",
                          s->level, "metric", s->metric, "path", cls_names[cls], "measured",
                          measured, "peer_median", med, "peer_mad", mad, "ratio_to_peers",
                          med > 0 ? measured / med : 0.0);
    json_object_set_new(e, "path_detail", json_string(p->detail));
    if (s->higher && p->expected > 0) {
        json_object_set_new(e, "expected_gbps", json_real(p->expected));
        json_object_set_new(e, "ratio_to_expected", json_real(measured / p->expected));
    } else {
        json_object_set_new(e, "expected_gbps", json_null());
    }
    json_object_set_new(e, "expected_source",
                        json_string(s->higher ? p->source
                                              : "none: the model has no latency figures (peers only)"));
    return e;
}

static int cmp_idx_value;
static const cellset_t *cmp_set;
static int cmp_worst(const void *a, const void *b)
{
    double x = cmp_set->v[*(const size_t *)a], y = cmp_set->v[*(const size_t *)b];
    int r = (x > y) - (x < y);
    return cmp_idx_value ? r : -r; /* higher is better: ascending puts the worst first */
}

static void sort_worst_first(const cellset_t *s, size_t *idx, size_t n)
{
    cmp_set = s;
    cmp_idx_value = s->higher;
    qsort(idx, n, sizeof(*idx), cmp_worst);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The host of a cell's sender and receiver. */
static int cell_host_a(const ctx_t *c, const cellset_t *s, size_t k, size_t i)
{
    return c->ranks[CELL_RA(s, k, i)].host;
}

static int cell_host_b(const ctx_t *c, const cellset_t *s, size_t k, size_t j)
{
    return c->ranks[CELL_RB(s, k, j)].host;
}

/* Node stage: per host, its "good side" quantile among the cells of class `cls` that touch
 * it (p75 of bandwidths, p25 of latencies), compared across hosts. A node whose best
 * links are still low is the node, not its peers. Marks bad[h]. */
/* judge_nodes: a node whose bandwidth score is under (1 - this) of the nodes' median (or
 * under 1 - --min-drop, where that is larger) is flagged whatever the MAD
 * (docs/analysis.md). */
#define NODE_GROSS_DROP 0.5

static int oversubscribed(const host_info_t *h);

/* Bandwidth on an oversubscribed host: whether figure x is a gross drop from the median
 * (under NODE_GROSS_DROP of it, or --min-drop where that is larger), the only outlier
 * such a host names. Its ranks wait on the scheduler inside every window, so the MAD
 * rule alone names noise: the virtual cluster's 3 unshaped nodes (6 ranks on 2 cores)
 * named a node, a link or a direction at 0.59-0.61x in 2 of 3 runs on an idle machine,
 * while its shaped nodes measure under 0.25x. */
static int gross_drop(const ctx_t *c, double x, double med)
{
    return x < (1 - fmax(NODE_GROSS_DROP, c->opts->min_drop)) * med;
}

/* Latency cells between hosts of which one has a bandwidth node verdict in the same entry
 * (judged first): that node explains them, and they are nobody's peers. A shaped node's
 * ping-pongs run faster or slower than its peers' with the load its queue puts on the
 * machine; on a loaded machine, they set the nodes' latency median apart from the
 * healthy nodes' own and named two healthy nodes (the virtual cluster, 2026-12-02). */
static int explained(const ctx_t *c, const cellset_t *s, int ha, int hb)
{
    return !s->higher && (c->hosts[ha].bw_verdict || c->hosts[hb].bw_verdict);
}

static size_t host_cells(ctx_t *c, const cellset_t *s, unsigned cls, int h);

/* Latency node candidates whose cells are not mostly outliers against the cells of the
 * other nodes (median med, MAD mad of np cells) are no verdict: a node whose p25 is 1.3x
 * the nodes' median while none of its cells stands out from its peers is noise.
 * Returns whether a candidate was dropped. */
static int latency_demote(ctx_t *c, const cellset_t *s, unsigned cls, unsigned char *bad,
                          double med, double mad, size_t np)
{
    int dropped = 0;
    if (s->higher || np < 3)
        return 0;
    for (size_t h = 0; h < c->nhosts; h++) {
        size_t n, nhigh = 0;
        if (!bad[h])
            continue;
        if ((n = host_cells(c, s, cls, (int)h)) == (size_t)-1)
            continue;
        for (size_t q = 0; q < n; q++)
            nhigh += is_worse(c, 0, s->v[c->idx[q]], med, mad);
        if (2 * nhigh < n)
            bad[h] = 0, dropped = 1;
    }
    return dropped;
}

/* The scores of a matrix's hosts, gathered host by host (its rows, then its columns of the
 * other rows) into the scratch memory: a scatter of every cell into per-host lists wrote
 * 268 MB at random for a 4,096-rank matrix and was a third of the analyzer's time. The
 * values are those judge_nodes' scatter collects (order aside, which a quantile ignores).
 * Returns 0 when out of memory. */
static int node_scores_matrix(ctx_t *c, cellset_t *s, unsigned cls, double *score, size_t *count)
{
    size_t nr = s->nrows;
    for (size_t h = 0; h < c->nhosts; h++) {
        size_t n = 0, mine = s->hr_off[h + 1] - s->hr_off[h];
        const size_t *rows = s->hr + s->hr_off[h];
        double *vals = work_doubles(c, 2 * mine * nr + 1);
        if (!vals)
            return 0;
        for (size_t q = 0; q < mine; q++) {
            const unsigned char *f = s->f + rows[q] * nr;
            const double *v = s->v + rows[q] * nr;
            for (size_t j = 0; j < nr; j++)
                if ((f[j] & F_CLS) == cls &&
                    !explained(c, s, (int)h, c->ranks[s->row[j]].host))
                    vals[n++] = v[j];
        }
        for (size_t i = 0; mine && i < nr; i++) {
            const unsigned char *f = s->f + i * nr;
            const double *v = s->v + i * nr;
            if (c->ranks[s->row[i]].host == (int)h ||
                explained(c, s, c->ranks[s->row[i]].host, (int)h))
                continue;
            for (size_t q = 0; q < mine; q++)
                if ((f[rows[q]] & F_CLS) == cls)
                    vals[n++] = v[rows[q]];
        }
        count[h] = n;
        score[h] = n >= 2 ? quantile(vals, n, s->higher ? 75 : 25) : NAN;
    }
    return 1;
}

static void judge_nodes(ctx_t *c, cellset_t *s, unsigned cls, unsigned char *bad, double *score,
                        double *node_med_p, double *node_mad_p)
{
    /* every host's values side by side in the scratch memory: host h's at off[h] */
    size_t *off = calloc(c->nhosts + 1, sizeof(size_t)), *fill = calloc(c->nhosts, sizeof(size_t));
    double *vals = NULL, *sc = NULL;
    size_t nh = 0;
    *node_med_p = *node_mad_p = 0;
    if (!off || !fill)
        goto out;
    if (!s->pa && s->hr_off) {
        if (!node_scores_matrix(c, s, cls, score, fill))
            goto out;
        goto scored;
    }
    /* pass 0 counts each host's values, pass 1 places them */
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            for (size_t h = 0; h < c->nhosts; h++)
                off[h + 1] += off[h];
            if (!(vals = work_doubles(c, off[c->nhosts] ? off[c->nhosts] : 1)))
                goto out;
        }
        FOR_CELLS(s, k, i, j) {
            int ha, hb;
            if (CELL_CLS(s, k) != cls)
                continue;
            ha = cell_host_a(c, s, k, i);
            hb = cell_host_b(c, s, k, j);
            if (explained(c, s, ha, hb))
                continue;
            if (!pass) {
                off[ha + 1]++;
                off[hb + 1] += hb != ha;
                continue;
            }
            vals[off[ha] + fill[ha]++] = s->v[k];
            if (hb != ha)
                vals[off[hb] + fill[hb]++] = s->v[k];
        }
    }
    for (size_t h = 0; h < c->nhosts; h++)
        score[h] = fill[h] >= 2 ? quantile(vals + off[h], fill[h], s->higher ? 75 : 25) : NAN;
scored:
    if (!(sc = malloc((c->nhosts ? c->nhosts : 1) * sizeof(double))))
        goto out;
    for (size_t h = 0; h < c->nhosts; h++)
        if (!isnan(score[h]))
            sc[nh++] = score[h];
    if (nh < 3)
        goto out;
    median_mad_inplace(sc, nh, node_med_p, node_mad_p);
    /* An outlier beyond the MADs, or, for bandwidth, a node at under half the nodes'
     * median (NODE_GROSS_DROP): with few nodes the MAD of their scores is as wide as the
     * healthy nodes' spread (5 nodes of which 2 are slow: the 3 healthy ones set it), and
     * k of them can exceed the median itself, so a node at a tenth of its peers would
     * pass. Latency keeps the MAD rule alone: a loaded machine doubles it at random. */
    for (size_t h = 0; h < c->nhosts; h++) {
        int gross, mad_rule;
        if (isnan(score[h]))
            continue;
        gross = s->higher && gross_drop(c, score[h], *node_med_p);
        mad_rule = is_worse(c, s->higher, score[h], *node_med_p, *node_mad_p);
        if (mad_rule && !gross && s->higher && oversubscribed(&c->hosts[h]))
            c->hosts[h].bw_skipped++, mad_rule = 0;
        if (gross || mad_rule)
            bad[h] = 1;
    }
out:
    free(off);
    free(fill);
    free(sc);
}

/* The cells of class cls between the row sets A and B of a matrix (every cell a -> b and
 * b -> a, a in A, b in B; A and B: a host's rows for NET, a rank's rows within a node)
 * at or after cell `from`, in cell order, into the scratch index; pairs measured one at a
 * time are scanned. net: keys are hosts, else ranks. Returns the count; (size_t)-1 when
 * out of memory. */
static int key_of(const ctx_t *c, int rank, int net)
{
    return net ? c->ranks[rank].host : rank;
}

static size_t rows_of(const cellset_t *s, int net, int key, size_t *buf, size_t cap,
                      const ctx_t *c)
{
    size_t n = 0;
    if (net && s->hr_off) {
        for (size_t q = s->hr_off[key]; q < s->hr_off[key + 1] && n < cap; q++)
            buf[n++] = s->hr[q];
        return n;
    }
    for (size_t i = 0; i < s->nrows && n < cap; i++)
        if (key_of(c, s->row[i], net) == key)
            buf[n++] = i;
    return n;
}

static size_t pair_cells(ctx_t *c, const cellset_t *s, unsigned cls, int net, int ka, int kb)
{
    size_t n = 0, *idx;
    if (s->pa) {
        for (size_t k = 0; k < s->n; k++) {
            int ya, yb;
            if (CELL_CLS(s, k) != cls)
                continue;
            ya = key_of(c, s->pa[k], net);
            yb = key_of(c, s->pb[k], net);
            if ((ya == ka && yb == kb) || (ya == kb && yb == ka)) {
                if (!(idx = work_idx(c, n + 1)))
                    return (size_t)-1;
                idx[n++] = k;
            }
        }
        return n;
    }
    {
        size_t na, nb, *ra = malloc(s->nrows * sizeof(size_t)), *rb = malloc(s->nrows * sizeof(size_t));
        if (!ra || !rb) {
            free(ra), free(rb);
            return (size_t)-1;
        }
        na = rows_of(s, net, ka, ra, s->nrows, c);
        nb = ka == kb ? 0 : rows_of(s, net, kb, rb, s->nrows, c);
        if (!(idx = work_idx(c, 2 * na * (nb ? nb : na) + 1))) {
            free(ra), free(rb);
            return (size_t)-1;
        }
        for (size_t p = 0; p < na; p++)
            for (size_t q = 0; q < (nb ? nb : na); q++) {
                size_t i = ra[p], j = nb ? rb[q] : ra[q], k1 = i * s->nrows + j,
                       k2 = j * s->nrows + i;
                if (CELL_CLS(s, k1) == cls)
                    idx[n++] = k1;
                if (nb && CELL_CLS(s, k2) == cls)
                    idx[n++] = k2;
            }
        free(ra), free(rb);
        qsort(idx, n, sizeof(*idx), cmp_size);
    }
    return n;
}

/* The cells of class cls touching host h, in cell order, into the scratch index. */
static size_t host_cells(ctx_t *c, const cellset_t *s, unsigned cls, int h)
{
    size_t n = 0, *idx;
    if (s->pa || !s->hr_off) {
        for (size_t k = 0; k < s->n; k++) {
            if (CELL_CLS(s, k) != cls ||
                (c->ranks[s->pa ? s->pa[k] : s->row[k / s->nrows]].host != h &&
                 c->ranks[s->pb ? s->pb[k] : s->row[k % s->nrows]].host != h))
                continue;
            if (!(idx = work_idx(c, n + 1)))
                return (size_t)-1;
            idx[n++] = k;
        }
        return n;
    }
    {
        size_t nr = s->hr_off[h + 1] - s->hr_off[h];
        const size_t *mine = s->hr + s->hr_off[h];
        if (!(idx = work_idx(c, 2 * nr * s->nrows + 1)))
            return (size_t)-1;
        for (size_t i = 0; i < s->nrows; i++) {
            if (c->ranks[s->row[i]].host == h) {
                for (size_t j = 0; j < s->nrows; j++)
                    if (CELL_CLS(s, i * s->nrows + j) == cls)
                        idx[n++] = i * s->nrows + j;
            } else {
                /* its columns: this host's rows, in order */
                for (size_t q = 0; q < nr; q++)
                    if (CELL_CLS(s, i * s->nrows + mine[q]) == cls)
                        idx[n++] = i * s->nrows + mine[q];
            }
        }
    }
    return n;
}

/* Keys (an unordered pair of hosts or ranks) seen so far, open addressing. */
typedef struct keyset {
    uint64_t *slot;
    size_t cap, n;
} keyset_t;

static uint64_t keyset_key(int a, int b)
{
    uint32_t lo = (uint32_t)(a < b ? a : b), hi = (uint32_t)(a < b ? b : a);
    return ((uint64_t)hi << 32 | lo) + 1; /* 0 is the empty slot */
}

/* Adds key; 1 if it was new, 0 if present, -1 out of memory. */
static int keyset_add(keyset_t *ks, uint64_t key)
{
    size_t mask, h;
    if (2 * (ks->n + 1) > ks->cap) {
        size_t ncap = ks->cap ? 2 * ks->cap : 64;
        uint64_t *ns = calloc(ncap, sizeof(uint64_t));
        if (!ns)
            return -1;
        for (size_t q = 0; q < ks->cap; q++)
            if (ks->slot[q]) {
                size_t p = (size_t)((ks->slot[q] * 0x9E3779B97F4A7C15ull) >> 20) & (ncap - 1);
                while (ns[p])
                    p = (p + 1) & (ncap - 1);
                ns[p] = ks->slot[q];
            }
        free(ks->slot);
        ks->slot = ns;
        ks->cap = ncap;
    }
    mask = ks->cap - 1;
    for (h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask; ks->slot[h];
         h = (h + 1) & mask)
        if (ks->slot[h] == key)
            return 0;
    ks->slot[h] = key;
    ks->n++;
    return 1;
}

static int cell_cmp_pair(const ctx_t *c, const cell_t *x, int *ka, int *kb)
{
    /* grouping key of an unexplained outlier: hosts for NET cells, ranks within a node */
    if (x->cls == CLS_NET) {
        *ka = c->ranks[x->ra].host;
        *kb = c->ranks[x->rb].host;
        return 1;
    }
    *ka = x->ra;
    *kb = x->rb;
    return 0;
}

/* More ranks than CPUs: a ping-pong then waits on the scheduler, not on the path. */
static int oversubscribed(const host_info_t *h)
{
    return h->ncpus > 0 && h->machine_ranks > h->ncpus;
}

static const char *bad_word(const cellset_t *s)
{
    return s->higher ? "low" : "high";
}

/* The flows sharing the ports of the cell's ends in its shift round, and its figure. */
static double cell_expected_raw(const ctx_t *c, const cellset_t *s, int ra, int rb, size_t i,
                                size_t j, unsigned *ko_p, unsigned *ki_p, size_t *d_p)
{
    const rank_info_t *a = &c->ranks[ra], *b = &c->ranks[rb];
    const host_info_t *ha = &c->hosts[a->host], *hb = &c->hosts[b->host];
    unsigned ko, ki;
    size_t d;
    double ea, eb;
    *ko_p = *ki_p = 1;
    if (ha == hb || ha->net_gbs <= 0 || hb->net_gbs <= 0)
        return 0;
    if (!s->out || s->pa)
        return ha->net_gbs < hb->net_gbs ? ha->net_gbs : hb->net_gbs;
    d = j >= i ? j - i : j + s->nrows - i; /* (j - i) mod nrows, without a division */
    ko = s->out[(size_t)a->host * s->nrows + d];
    ki = s->in[(size_t)b->host * s->nrows + d];
    *ko_p = ko = ko ? ko : 1;
    *ki_p = ki = ki ? ki : 1;
    *d_p = d;
    ea = ha->net_gbs / ko;
    eb = hb->net_gbs / ki;
    return ea < eb ? ea : eb;
}

/* cell_expected_raw's figure alone, from set_shares' tables where there are: once per
 * cell of a 16.7-million-cell matrix. */
static double cell_expected_net(const ctx_t *c, const cellset_t *s, int ra, int rb, size_t i,
                                size_t j)
{
    int a = c->ranks[ra].host, b = c->ranks[rb].host;
    size_t d;
    double ea, eb;
    if (!s->eo || s->pa) {
        unsigned ko, ki;
        return cell_expected_raw(c, s, ra, rb, i, j, &ko, &ki, &d);
    }
    if (a == b || c->hosts[a].net_gbs <= 0 || c->hosts[b].net_gbs <= 0)
        return 0;
    d = j >= i ? j - i : j + s->nrows - i;
    ea = s->eo[(size_t)a * s->nrows + d];
    eb = s->ei[(size_t)b * s->nrows + d];
    return ea < eb ? ea : eb;
}

/* Whether bandwidth measured with `size`-byte messages is judged against the model: from
 * --model-min-size on (below it bandwidth still rises with size); a size not recorded
 * (0) is judged, as before the floor. */
static int model_size_ok(const ctx_t *c, long long size)
{
    return size <= 0 || size >= c->opts->model_min_size;
}

static double cell_expected(const ctx_t *c, const cellset_t *s, const cell_t *x, path_t *p)
{
    unsigned ko, ki;
    size_t d = 0;
    double e;
    if (s->higher && !model_size_ok(c, s->size)) {
        if (p) {
            p->expected = 0;
            snprintf(p->source, sizeof(p->source),
                     "none: %lld-byte messages are under the %lld bytes from which bandwidth "
                     "is judged against the model (it still rises with size there): peers only",
                     s->size, c->opts->model_min_size);
        }
        return 0;
    }
    e = cell_expected_raw(c, s, x->ra, x->rb, (size_t)(x->i < 0 ? 0 : x->i),
                                 (size_t)(x->j < 0 ? 0 : x->j), &ko, &ki, &d);
    if (p && e > 0 && (ko > 1 || ki > 1)) {
        size_t len = strlen(p->source);
        p->expected = e;
        snprintf(p->source + len, sizeof(p->source) - len,
                 "; shared in shift round %zu by %u flows out of %s and %u into %s: %.3g GB/s "
                 "per flow",
                 d, ko, c->hosts[c->ranks[x->ra].host].name, ki,
                 c->hosts[c->ranks[x->rb].host].name, e);
    }
    return e;
}

static void below_model_culprit(ctx_t *c, const cellset_t *s, const cell_t *x)
{
    char subject[200];
    path_t p;
    json_t *ev, *cu;
    path_of(c, x->ra, x->rb, &p);
    cell_expected(c, s, x, &p);
    ev = json_pack("{s:s, s:s?, s:s, s:s, s:f, s:f, s:f, s:s, s:s, s:[{s:i, s:i, s:f}]}", "test",
                   s->test, "level", s->level, "metric", s->metric, "path", cls_names[x->cls],
                   "measured", x->v, "expected_gbps", p.expected, "ratio_to_expected",
                   x->v / p.expected, "expected_source", p.source, "path_detail", p.detail,
                   "cells", "from", x->ra, "to", x->rb, "value", x->v);
    json_object_set_new(ev, "message",
                        json_sprintf("ranks %d -> %d: %.3g GB/s is %.2f of the expected %.3g "
                                     "(no peers to compare with)",
                                     x->ra, x->rb, x->v, x->v / p.expected, p.expected));
    snprintf(subject, sizeof(subject), "ranks %d -> %d (%s)", x->ra, x->rb, s->test);
    cu = culprit_add(c, "below_model", subject, ev);
    culprit_host(c, cu, c->ranks[x->ra].host);
    culprit_host(c, cu, c->ranks[x->rb].host);
    json_object_set_new(cu, "suggests",
                        json_string("the pair's path: MPI not using the modelled NIC (TCP "
                                    "fallback, wrong HCA), or the link itself"));
}

/* Link and direction verdicts of one class: outliers no node explains. The first outlier
 * of each group (a host pair for NET, a rank pair within a node) speaks for it. */
static void judge_links(ctx_t *c, cellset_t *s, unsigned cls, double med, double mad)
{
    keyset_t seen = {0};
    path_t p;
    for (size_t k0 = 0; k0 < s->n; k0++) {
        cell_t x;
        int ka, kb, net, rev = 0, rev_ok = 0, added;
        size_t n = 0, m, *idx;
        char subject[200];
        const char *kind;
        json_t *ev, *cu;
        if (CELL_CLS(s, k0) != cls || CELL_PEER(s, k0) != PEER_OUTLIER ||
            (s->f[k0] & F_NODE_BAD))
            continue;
        cell_at(s, k0, &x);
        if (!s->higher && (oversubscribed(&c->hosts[c->ranks[x.ra].host]) ||
                           oversubscribed(&c->hosts[c->ranks[x.rb].host]))) {
            c->hosts[c->ranks[x.ra].host].latency_skipped++;
            continue;
        }
        if (s->higher && !gross_drop(c, x.v, med) &&
            (oversubscribed(&c->hosts[c->ranks[x.ra].host]) ||
             oversubscribed(&c->hosts[c->ranks[x.rb].host]))) {
            c->hosts[c->ranks[x.ra].host].bw_skipped++;
            continue;
        }
        net = cell_cmp_pair(c, &x, &ka, &kb);
        if ((added = keyset_add(&seen, keyset_key(ka, kb))) <= 0) {
            if (added < 0)
                break;
            continue;
        }
        /* the group's cells: its outliers both ways, and whether the reverse direction has
         * a cell within its peers (its cells may come before this one: i > j) */
        if ((m = pair_cells(c, s, cls, net, ka, kb)) == (size_t)-1)
            break;
        idx = c->idx;
        for (size_t q = 0; q < m; q++) {
            size_t k = idx[q];
            unsigned peer = CELL_PEER(s, k);
            int bad_node = (s->f[k] & F_NODE_BAD) != 0, ya;
            cell_t y;
            cell_at(s, k, &y);
            ya = key_of(c, y.ra, net);
            if (ya == ka && key_of(c, y.rb, net) == kb) {
                if (peer == PEER_OUTLIER && !bad_node)
                    idx[n++] = k;
            } else if (ka != kb) {
                if (peer == PEER_OUTLIER && !bad_node)
                    rev = 1, idx[n++] = k;
                else if (peer == PEER_OK)
                    rev_ok = 1;
            }
        }
        sort_worst_first(s, idx, n);
        path_of(c, x.ra, x.rb, &p);
        cell_expected(c, s, &x, &p);
        if (!s->higher) {
            kind = "latency_link";
        } else if (!rev && rev_ok) {
            kind = "direction";
        } else {
            kind = "link";
        }
        if (net && !strcmp(kind, "direction"))
            snprintf(subject, sizeof(subject), "%s -> %s", c->hosts[ka].name, c->hosts[kb].name);
        else if (net)
            snprintf(subject, sizeof(subject), "%s <-> %s", c->hosts[ka < kb ? ka : kb].name,
                     c->hosts[ka < kb ? kb : ka].name);
        else if (!strcmp(kind, "direction"))
            snprintf(subject, sizeof(subject), "rank %d -> %d on %s", ka, kb,
                     c->hosts[c->ranks[ka].host].name);
        else
            snprintf(subject, sizeof(subject), "ranks %d <-> %d on %s", ka < kb ? ka : kb,
                     ka < kb ? kb : ka, c->hosts[c->ranks[ka].host].name);
        {
            double *v = malloc((n ? n : 1) * sizeof(double)), cm;
            for (size_t q = 0; v && q < n; q++)
                v[q] = s->v[idx[q]];
            cm = v ? quantile(v, n, 50) : x.v;
            free(v);
            ev = evidence_new(s, (int)cls, cm, med, mad, &p);
        }
        json_object_set_new(ev, "cells", cells_cited(s, idx, n));
        json_object_set_new(ev, "cells_total", json_integer((json_int_t)n));
        {
            cell_t w;
            cell_at(s, idx[0], &w);
            json_object_set_new(
                ev, "message",
                json_sprintf("%s %s: %s %.3g against peers' median %.3g (%.2fx, %.1f scaled "
                             "MADs)%s",
                             subject, s->metric, bad_word(s), w.v, med, med > 0 ? w.v / med : 0.0,
                             mad > 0 ? fabs(w.v - med) / (MAD_SCALE * mad) : INFINITY,
                             !strcmp(kind, "direction") ? "; the reverse direction is within "
                                                          "its peers"
                                                        : ""));
            cu = culprit_add(c, kind, subject, ev);
            culprit_host(c, cu, c->ranks[x.ra].host);
            culprit_host(c, cu, c->ranks[x.rb].host);
            json_add_unique_pair(json_object_get(cu, "ranks"), w.ra, w.rb);
            json_object_set_new(
                cu, "suggests",
                json_string(!strcmp(kind, "direction")
                                ? "one direction of the link: a transmit lane, the sender's "
                                  "port or the switch port's egress"
                            : net ? "the link between the two: cable, transceiver or switch "
                                    "port"
                                  : "the pair within the node: binding or the path between "
                                    "their NUMA nodes"));
            culprit_confirm(c, cu, s, w.ra, w.rb);
            if (!strcmp(kind, "direction"))
                culprit_confirm(c, cu, s, w.rb, w.ra);
        }
    }
    free(seen.slot);
}

#define NODE_SUGGESTS "the node: its HCA or port, its PCIe link, NUMA binding or CPU frequency"

/* Node verdicts of one class: bad[h] set by judge_nodes. */
static void judge_node_verdicts(ctx_t *c, cellset_t *s, unsigned cls, const unsigned char *bad,
                                const double *score, double node_med, double node_mad,
                                double med, double mad, size_t np)
{
    path_t p;
    for (size_t h = 0; h < c->nhosts; h++) {
        size_t n, nlow = 0, worst, *idx;
        char subject[160];
        json_t *ev, *cu;
        cell_t w;
        if (!isnan(score[h]) && c->hosts[h].differs)
            json_array_append_new(c->hosts[h].measured,
                                  json_sprintf("%s %s %s (%s): its cells %.3g against the "
                                               "nodes' median %.3g%s",
                                               s->test, s->level ? s->level : "", s->metric,
                                               cls_names[cls], score[h], node_med,
                                               bad[h] ? " (node verdict)" : ""));
        if (!bad[h])
            continue;
        if (s->higher)
            c->hosts[h].bw_verdict = 1;
        if ((n = host_cells(c, s, cls, (int)h)) == (size_t)-1 || !n)
            continue;
        idx = c->idx;
        for (size_t q = 0; q < n; q++)
            if (np && is_worse(c, s->higher, s->v[idx[q]], med, mad))
                nlow++;
        sort_worst_first(s, idx, n);
        worst = idx[0];
        /* the worst cell to a node without a verdict shows this node alone */
        for (size_t m = 0; m < n; m++) {
            cell_t y;
            int other;
            cell_at(s, idx[m], &y);
            other = c->ranks[y.ra].host == (int)h ? c->ranks[y.rb].host : c->ranks[y.ra].host;
            if (!bad[other] || other == (int)h) {
                worst = idx[m];
                break;
            }
        }
        cell_at(s, worst, &w);
        path_of(c, w.ra, w.rb, &p);
        cell_expected(c, s, &w, &p);
        ev = evidence_new(s, (int)cls, score[h], node_med, node_mad, &p);
        json_object_set_new(ev, "cells", cells_cited(s, idx, n));
        json_object_set_new(ev, "cells_total", json_integer((json_int_t)n));
        json_object_set_new(ev, "cells_outside_peers", json_integer((json_int_t)nlow));
        json_object_set_new(ev, "cell_peer_median", json_real(med));
        json_object_set_new(ev, "message",
                            json_sprintf("%s's %s cells: p%d %.3g against the nodes' median "
                                         "%.3g (%.2fx); %zu of its %zu cells %s against peers' "
                                         "%.3g",
                                         c->hosts[h].name, s->metric, s->higher ? 75 : 25,
                                         score[h], node_med,
                                         node_med > 0 ? score[h] / node_med : 0.0, nlow, n,
                                         bad_word(s), med));
        snprintf(subject, sizeof(subject), "%s", c->hosts[h].name);
        cu = culprit_add(c, s->higher ? "node" : "latency_node", subject, ev);
        culprit_host(c, cu, (int)h);
        json_object_set_new(cu, "suggests",
                            json_string(s->higher ? NODE_SUGGESTS
                                                  : "the node: CPU frequency or power "
                                                    "state, binding, interrupt load, "
                                                    "its HCA"));
        /* confirm with the node's worst cell against a healthy node */
        culprit_confirm(c, cu, s, w.ra, w.rb);
    }
}

/* Node against the model: per host its cells with an expected figure, those below
 * --model-min, and its best cell, in one pass over a set of any size. */
typedef struct {
    size_t *n, *below, *above; /* per host: cells, under --model-min, clearly over it */
    double *best;      /* per host: its best cell's measured/expected */
    size_t *bestk;     /* ... and that cell */
} model_count_t;

static void model_count_free(model_count_t *m)
{
    free(m->n), free(m->below), free(m->above), free(m->best), free(m->bestk);
}

/* Zeroed counts for nh hosts; 0 when out of memory. */
static int model_count_new(model_count_t *m, size_t nh)
{
    m->n = calloc(nh, sizeof(size_t));
    m->below = calloc(nh, sizeof(size_t));
    m->above = calloc(nh, sizeof(size_t));
    m->best = malloc(nh * sizeof(double));
    m->bestk = calloc(nh, sizeof(size_t));
    if (!m->n || !m->below || !m->above || !m->best || !m->bestk) {
        model_count_free(m);
        return 0;
    }
    for (size_t h = 0; h < nh; h++)
        m->best[h] = -1;
    return 1;
}

static void model_count_add(model_count_t *m, int h, double r, int below, int above, size_t k)
{
    m->n[h]++;
    m->below[h] += below != 0;
    m->above[h] += above != 0;
    if (r > m->best[h])
        m->best[h] = r, m->bestk[h] = k;
}

/* Rule 2 against the model, for classes with an expected figure: a host whose good side
 * (p75 of measured/expected) is below --model-min while at least two hosts' are not is a
 * node verdict. Rule 2 misses it when the slow nodes are so many that the nodes' median
 * and MAD take them in (two of four), and path_class then blamed the whole fabric.
 * Returns how many it named. */
static size_t judge_nodes_model(ctx_t *c, cellset_t *s, unsigned cls, const model_count_t *m,
                                const unsigned char *bad)
{
    size_t nfast = 0, nslow = 0, named = 0, *worstk;
    double *worst;
    unsigned char *mark;
    /* slow: its p75 under --model-min (at least ceil(3n/4) of its cells under it); fast:
     * its p75 clearly over it, by --min-drop (a quarter of its cells there): a fabric at
     * about the threshold, every node on both sides of it by noise, is neither. An
     * oversubscribed host is left to rule 2's gross drop (its ranks wait on the
     * scheduler). */
#define SLOW(h) (m->n[h] >= 3 && m->below[h] >= (3 * m->n[h] + 3) / 4)
    for (size_t h = 0; h < c->nhosts; h++) {
        if (bad[h] || m->n[h] < 3)
            continue;
        if (SLOW(h) && oversubscribed(&c->hosts[h]))
            c->hosts[h].bw_skipped++;
        else if (SLOW(h))
            nslow++;
        else if (m->above[h] * 4 >= m->n[h])
            nfast++;
    }
    if (!nslow || nfast < 2)
        return 0;
    mark = calloc(c->nhosts, 1);
    worst = malloc(c->nhosts * sizeof(double));
    worstk = malloc(c->nhosts * sizeof(size_t));
    if (!mark || !worst || !worstk) {
        free(mark), free(worst), free(worstk);
        return 0;
    }
    for (size_t h = 0; h < c->nhosts; h++) {
        mark[h] = !bad[h] && SLOW(h) && !oversubscribed(&c->hosts[h]);
        worst[h] = INFINITY, worstk[h] = m->bestk[h];
    }
#undef SLOW
    /* their cells are the node's, nobody's peers and no link's (as rule 2's); each node
     * confirmed with its worst cell to a host not named */
    FOR_CELLS(s, k, i, j) {
        int ha, hb;
        if (CELL_CLS(s, k) != cls)
            continue;
        ha = cell_host_a(c, s, k, i);
        hb = cell_host_b(c, s, k, j);
        if (!mark[ha] && !mark[hb])
            continue;
        s->f[k] |= F_NODE_BAD;
        if ((s->f[k] & F_EXP) && mark[ha] != mark[hb] && !bad[mark[ha] ? hb : ha]) {
            int h = mark[ha] ? ha : hb;
            double e = cell_expected_net(c, s, CELL_RA(s, k, i), CELL_RB(s, k, j), i, j),
                   r = e > 0 ? s->v[k] / e : INFINITY;
            if (r < worst[h])
                worst[h] = r, worstk[h] = k;
        }
    }
    for (size_t h = 0; h < c->nhosts; h++) {
        cell_t w;
        path_t p;
        json_t *ev, *cu;
        if (!mark[h])
            continue;
        c->hosts[h].bw_verdict = 1;
        cell_at(s, worstk[h], &w);
        path_of(c, w.ra, w.rb, &p);
        cell_expected(c, s, &w, &p);
        ev = evidence_new(s, (int)cls, w.v, 0, 0, &p);
        json_object_set_new(ev, "peer_median", json_null());
        json_object_set_new(ev, "peer_mad", json_null());
        json_object_set_new(ev, "ratio_to_peers", json_null());
        json_object_set_new(ev, "cells", json_pack("[{s:i, s:i, s:f}]", "from", w.ra, "to", w.rb,
                                                   "value", w.v));
        json_object_set_new(ev, "cells_total", json_integer((json_int_t)m->n[h]));
        json_object_set_new(
            ev, "message",
            json_sprintf("%s's %s cells: %zu of its %zu under %.2f of their expected figures "
                         "(its best %.2f of its figure), while %zu other nodes measure a "
                         "quarter of theirs or more over %.2f: the node, not the fabric",
                         c->hosts[h].name, s->metric, m->below[h], m->n[h], c->opts->model_min,
                         m->best[h], nfast, c->opts->model_min * (1 + c->opts->min_drop)));
        cu = culprit_add(c, "node", c->hosts[h].name, ev);
        culprit_host(c, cu, (int)h);
        json_object_set_new(cu, "suggests", json_string(NODE_SUGGESTS));
        culprit_confirm(c, cu, s, w.ra, w.rb);
        named++;
    }
    free(mark), free(worst), free(worstk);
    return named;
}

static void set_judge(ctx_t *c, cellset_t *s)
{
    unsigned char *bad = calloc(c->nhosts ? c->nhosts : 1, 1);
    double *score = malloc((c->nhosts ? c->nhosts : 1) * sizeof(double));
    size_t count[NCLS] = {0}, listed = 0, unlisted_node = 0, unlisted_max = 0;
    json_t *setj = json_pack("{s:s, s:s?, s:s, s:s, s:I, s:I, s:[], s:[]}", "test", s->test,
                             "level", s->level, "metric", s->metric, "better",
                             s->higher ? "higher" : "lower", "size", (json_int_t)s->size,
                             "cells_judged", (json_int_t)s->nvalid, "classes", "cells");
    int list_all = !c->opts->list_max || s->nvalid <= c->opts->list_max;
    if (!bad || !score || !setj)
        goto out;
    for (size_t k = 0; k < s->n; k++)
        if (CELL_CLS(s, k) != CLS_ABSENT)
            count[CELL_CLS(s, k)]++;
    for (unsigned cls = 0; cls < NCLS; cls++) {
        size_t nc = count[cls], np = 0, nout = 0, first = 0, stride, skip = 1, nratio = 0,
               nbelow_free = 0;
        double med = 0, mad = 0, node_med, node_mad, exp_sum = 0, *vals, *ratios, ratio_med;
        model_count_t mh;
        path_t p;
        int any = 0, have_first = 0, zero_med;
        cell_t fx;
        if (!nc)
            continue;
        memset(bad, 0, c->nhosts);
        judge_nodes(c, s, cls, bad, score, &node_med, &node_mad);
        for (size_t h = 0; !s->higher && h < c->nhosts; h++)
            if (bad[h] && oversubscribed(&c->hosts[h]))
                bad[h] = 0, c->hosts[h].latency_skipped++;
        /* the peers: cells touching no node verdict; latency verdicts then need their
         * cells to stand out from them (a second pass when one did not) */
        for (int pass = 0;; pass++) {
            np = 0;
            FOR_CELLS(s, k, i, j) {
                int ha, hb;
                if (CELL_CLS(s, k) != cls)
                    continue;
                if (!have_first)
                    first = k, have_first = 1;
                ha = cell_host_a(c, s, k, i);
                hb = cell_host_b(c, s, k, j);
                if (bad[ha] || bad[hb] || explained(c, s, ha, hb)) {
                    s->f[k] |= F_NODE_BAD;
                } else {
                    s->f[k] &= (unsigned char)~F_NODE_BAD;
                    np++;
                }
            }
            med = mad = 0;
            /* read in place where there are many (a 4,096-rank matrix: 16.7 million, and
             * a copy of them cost more than their selection), else copied */
            if (np >= 3 && !((vals = work_doubles(c, np / 16 + 65536)) &&
                             tb_stats_median_mad_masked(s->v, s->f, s->n, F_CLS | F_NODE_BAD,
                                                        (unsigned char)cls, np, vals,
                                                        np / 16 + 65536, &med, &mad))) {
                size_t w = 0;
                if (!(vals = work_doubles(c, np)))
                    goto out;
                for (size_t k = 0; k < s->n; k++)
                    if ((s->f[k] & (F_CLS | F_NODE_BAD)) == cls)
                        vals[w++] = s->v[k];
                median_mad_inplace(vals, np, &med, &mad);
            }
            if (pass || !latency_demote(c, s, cls, bad, med, mad, np))
                break;
        }
        /* a latency median of 0 (half the cells or more read 0 us: a timer coarser than
         * the ping-pong) leaves a MAD of 0, and every other cell would stand out: neither
         * the cells nor the nodes are judged against their peers */
        zero_med = !s->higher && np >= 3 && med <= 0;
        if (zero_med) {
            memset(bad, 0, c->nhosts);
            for (size_t k = 0; k < s->n; k++)
                if (CELL_CLS(s, k) == cls)
                    s->f[k] &= (unsigned char)~F_NODE_BAD;
            json_array_append_new(c->notes,
                                  json_sprintf("%s %s %s: the median of %zu peer cells is 0 "
                                               "us, not judged against their peers",
                                               s->test, cls_names[cls], s->metric, np));
        }
        /* peers, and the model: each cell's expected figure, once; measured/expected of
         * the peers (every stride-th of them: an estimate of the median is enough) */
        np = np >= 3 && !zero_med ? np : 0;
        stride = nc / 65536 + 1;
        ratios = s->higher ? work_doubles(c, nc / stride + 1) : NULL;
        FOR_CELLS(s, k, i, j) {
            unsigned peer;
            if (CELL_CLS(s, k) != cls)
                continue;
            peer = !np ? PEER_NONE : is_worse(c, s->higher, s->v[k], med, mad) ? PEER_OUTLIER
                                                                                : PEER_OK;
            s->f[k] = (unsigned char)((s->f[k] & ~F_PEER) | peer << F_PEER_SHIFT);
            if (peer == PEER_OUTLIER || (s->f[k] & F_NODE_BAD))
                nout++;
            if (s->higher && model_size_ok(c, s->size)) {
                double e = cell_expected_net(c, s, CELL_RA(s, k, i), CELL_RB(s, k, j), i, j);
                if (e > 0) {
                    exp_sum += e, any++;
                    s->f[k] |= F_EXP;
                    if (s->v[k] / e < c->opts->model_min)
                        s->f[k] |= F_BELOW;
                    if (ratios && !(s->f[k] & F_NODE_BAD) && --skip == 0) /* no division */
                        skip = stride, ratios[nratio++] = s->v[k] / e;
                    nbelow_free += (s->f[k] & (F_BELOW | F_NODE_BAD)) == F_BELOW;
                }
            }
        }
        cell_at(s, first, &fx);
        path_of(c, fx.ra, fx.rb, &p);
        cell_expected(c, s, &fx, &p);
        {
            json_t *cj = json_pack("{s:s, s:I, s:I, s:f, s:f, s:f}", "path", cls_names[cls],
                                   "cells", (json_int_t)nc, "flagged", (json_int_t)nout,
                                   "peer_median", med, "peer_mad", mad, "node_median", node_med);
            double exp_mean = any ? exp_sum / any : 0;
            json_object_set_new(cj, "expected_gbps", any ? json_real(exp_mean) : json_null());
            json_object_set_new(cj, "expected_source",
                                json_string(s->higher ? p.source
                                                      : "none: the model has no latency figures"));
            if (!np)
                json_object_set_new(cj, "note",
                                    json_string(zero_med ? "the peers' median latency is 0: "
                                                           "no spread to judge against, cells "
                                                           "not judged against their peers"
                                                         : "fewer than 3 peers outside "
                                                           "flagged nodes: cells judged "
                                                           "against the model only"));
            json_array_append_new(json_object_get(setj, "classes"), cj);
            /* every cell of the class below the model: the transport or the fabric, not
             * one part of it. Judged cell by cell (the median of measured/expected): a
             * matrix's cells expect different figures (a port shared by 1 to 8 flows in
             * its shift rounds), and the median of the figures against their mean blamed
             * a healthy fabric of 3 nodes x 8 ranks at 0.7 of the model. */
            ratio_med = nratio ? quantile(ratios, nratio, 50) : NAN;
            /* nodes below the model while others are not: they, not the fabric. Counted
             * in a second pass, only when a node's worth of cells (a quarter of the
             * average) is below the model outside node verdicts */
            if (any && cls == CLS_NET && c->nhosts >= 3 && nbelow_free * c->nhosts * 4 >= nc &&
                model_count_new(&mh, c->nhosts)) {
                FOR_CELLS(s, k, i, j) {
                    double e, r;
                    int below, above;
                    if (CELL_CLS(s, k) != cls || !(s->f[k] & F_EXP))
                        continue;
                    e = cell_expected_net(c, s, CELL_RA(s, k, i), CELL_RB(s, k, j), i, j);
                    r = e > 0 ? s->v[k] / e : 0;
                    below = (s->f[k] & F_BELOW) != 0;
                    above = r >= c->opts->model_min * (1 + c->opts->min_drop);
                    model_count_add(&mh, cell_host_a(c, s, k, i), r, below, above, k);
                    model_count_add(&mh, cell_host_b(c, s, k, j), r, below, above, k);
                }
                if (judge_nodes_model(c, s, cls, &mh, bad))
                    ratio_med = NAN;
                model_count_free(&mh);
            }
            if (any && np && nratio && ratio_med < c->opts->model_min) {
                char subject[160];
                json_t *ev = evidence_new(s, (int)cls, med, med, mad, &p), *cu;
                snprintf(subject, sizeof(subject), "every %s cell below the model", cls_names[cls]);
                json_object_set_new(ev, "message",
                                    json_sprintf("%s cells measure a median %.2f of their "
                                                 "expected figures (median %.3g GB/s; expected "
                                                 "%.3g GB/s on average)",
                                                 cls_names[cls], ratio_med, med, exp_mean));
                cu = culprit_add(c, "path_class", subject, ev);
                json_object_set_new(cu, "suggests",
                                    json_string("the transport or the fabric as a whole, not one "
                                                "part of it: MPI over TCP instead of RDMA, the "
                                                "wrong HCA or port for every rank, a fabric "
                                                "below its rate"));
            }
        }
        judge_node_verdicts(c, s, cls, bad, score, node_med, node_mad, med, mad, np);
        judge_links(c, s, cls, med, mad);
    }
    /* the cells themselves: counted, and listed: all of them, or in a set of more than
     * --list-max cells the flagged ones, up to --list-max, leaving out the cells of nodes
     * with a verdict (their culprit's evidence cites its worst cells and counts them: at
     * 4,096 ranks one node is 65,000 cells per metric, and listing them cost more than
     * judging the whole matrix) */
    for (size_t k = 0; k < s->n; k++) {
        unsigned f = s->f[k], peer = CELL_PEER(s, k);
        int flagged, has_exp = (f & F_EXP) != 0;
        cell_t x;
        json_t *cj;
        double expected, ratio;
        if ((f & F_CLS) == CLS_ABSENT)
            continue;
        flagged = peer == PEER_OUTLIER || (f & F_NODE_BAD) || (f & F_BELOW);
        c->ncells++;
        c->nflagged += flagged;
        if (!flagged && !list_all)
            continue;
        cell_at(s, k, &x);
        /* without peers the model is the only judge: a pair below it is named */
        if ((f & F_BELOW) && peer == PEER_NONE)
            below_model_culprit(c, s, &x);
        if (!list_all && (f & F_NODE_BAD)) {
            unlisted_node++;
            continue;
        }
        if (!list_all && listed >= c->opts->list_max) {
            unlisted_max++;
            continue;
        }
        listed++;
        expected = has_exp ? cell_expected(c, s, &x, NULL) : 0;
        ratio = has_exp ? x.v / expected : 0;
        cj = json_pack("{s:i, s:i, s:f, s:s, s:s}", "from", x.ra, "to", x.rb, "value", x.v,
                       "path", cls_names[x.cls], "peers",
                       peer == PEER_NONE      ? "none"
                       : peer == PEER_OUTLIER ? "outlier"
                                              : "ok");
        if (has_exp) {
            json_object_set_new(cj, "expected_gbps", json_real(expected));
            json_object_set_new(cj, "ratio_to_expected", json_real(ratio));
            json_object_set_new(cj, "model", json_string((f & F_BELOW) ? "below" : "ok"));
        } else {
            json_object_set_new(cj, "model", json_string("none"));
        }
        if (x.node_bad)
            json_object_set_new(cj, "node_verdict", json_true());
        json_object_set_new(cj, "verdict",
                            json_string(flagged                          ? "suspect"
                                        : peer == PEER_NONE && !has_exp ? "unjudged"
                                                                          : "ok"));
        json_array_append_new(json_object_get(setj, "cells"), cj);
    }
    if (!list_all) {
        json_object_set_new(setj, "cells_listed", json_string("flagged only"));
        json_object_set_new(setj, "cells_not_listed",
                            json_pack("{s:I, s:I}", "node_verdict", (json_int_t)unlisted_node,
                                      "over_list_max", (json_int_t)unlisted_max));
    }
    json_array_append(c->sets, setj);
out:
    json_decref(setj);
    free(bad);
    free(score);
}

/* ---- reading the entries ---------------------------------------------------------- */

static tb_status_t rank_check(const ctx_t *c, const cellset_t *s, int r)
{
    if (r < 0 || (size_t)r >= c->nranks)
        return tb_error(TB_ERR_INPUT,
                        "analyze: test '%s': %s: rank %d is not in ranks[] (expected 0..%zu)",
                        s->test, s->metric, r, c->nranks ? c->nranks - 1 : 0);
    return TB_OK;
}

static tb_status_t matrix_sets(ctx_t *c, const json_t *t, const char *docdir, size_t ti)
{
    static const struct {
        const char *key;
        int higher;
    } metrics[] = {{"recv_gbps", 1}, {"send_gbps", 1}, {"latency_us", 0}};
    const json_t *m = json_object_get(t, "matrix"), *ranks = json_object_get(m, "ranks");
    char where[96];
    tb_status_t st = TB_OK;
    snprintf(where, sizeof(where), "tests[%zu]", ti);
    for (size_t h = 0; h < c->nhosts; h++)
        c->hosts[h].bw_verdict = 0;
    if (json_is_array(json_object_get(m, "pairs"))) {
        static const char *const keys[] = {"bw_gbps", "latency_us"};
        size_t np = json_array_size(json_object_get(m, "pairs"));
        int *pa = malloc((np ? np : 1) * sizeof(int)), *pb = malloc((np ? np : 1) * sizeof(int));
        double *v = malloc((np ? np : 1) * sizeof(double));
        unsigned char *f = malloc(np ? np : 1);
        if (!pa || !pb || !v || !f)
            st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
        for (int mk = 0; mk < 2 && !st; mk++) {
            cellset_t s = {.test = str_of(t, "name"),
                           .level = json_string_value(json_object_get(t, "level")),
                           .metric = keys[mk],
                           .higher = mk == 0,
                           .size = json_integer_value(json_object_get(m, "size")),
                           .v = v,
                           .pa = pa,
                           .pb = pb,
                           .f = f};
            size_t i;
            const json_t *pr;
            json_array_foreach(json_object_get(m, "pairs"), i, pr) {
                const json_t *x = json_object_get(pr, keys[mk]);
                int a = (int)json_integer_value(json_object_get(pr, "a")),
                    b = (int)json_integer_value(json_object_get(pr, "b"));
                if (!json_is_number(x) || isnan(json_number_value(x)) || a == b)
                    continue;
                if ((st = rank_check(c, &s, a)) || (st = rank_check(c, &s, b)))
                    break;
                pa[s.n] = a, pb[s.n] = b, v[s.n] = json_number_value(x);
                f[s.n++] = (unsigned char)path_cls(c, a, b);
            }
            s.nvalid = s.n;
            if (!st && s.n)
                set_judge(c, &s);
        }
        free(pa), free(pb), free(v), free(f);
        return st;
    }
    for (size_t mk = 0; mk < sizeof(metrics) / sizeof(metrics[0]) && !st; mk++) {
        tb_doc_matrix_map_t map;
        const double *cells;
        int *row = NULL;
        size_t n = 0, ninf = 0;
        cellset_t s = {.test = str_of(t, "name"),
                       .level = json_string_value(json_object_get(t, "level")),
                       .metric = metrics[mk].key,
                       .higher = metrics[mk].higher,
                       .size = json_integer_value(json_object_get(m, "size"))};
        if ((st = tb_doc_matrix_map(m, metrics[mk].key, docdir, where, &map)) || !map.cells)
            continue;
        cells = map.cells;
        n = map.n;
        if (json_array_size(ranks) != n)
            st = tb_error(TB_ERR_INPUT, "analyze: %s: matrix.ranks has %zu entries for a %zu x %zu "
                                        "matrix", where, json_array_size(ranks), n, n);
        if (!st && (!(row = malloc((n ? n : 1) * sizeof(int))) || !(s.f = malloc(n ? n * n : 1))))
            st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
        for (size_t i = 0; !st && i < n; i++) {
            row[i] = (int)json_integer_value(json_array_get(ranks, i));
            st = rank_check(c, &s, row[i]);
        }
        s.v = cells;
        s.row = row;
        s.nrows = n;
        s.n = st ? 0 : n * n;
        if (!st && s.n)
            set_shares(c, &s);
        /* each cell's class: NET between two hosts, path_cls within one (a host's rows,
         * set_shares' hr, when there; else every cell), CLS_ABSENT when not measured */
        for (size_t i = 0; i < (s.n ? n : 0); i++) {
            unsigned char *f = s.f + i * n;
            const double *v = cells + i * n;
            int hi = c->ranks[row[i]].host;
            size_t cnt = 0;
            if (s.hr_off) {
                memset(f, CLS_NET, n);
                for (size_t q = s.hr_off[hi]; q < s.hr_off[hi + 1]; q++)
                    f[s.hr[q]] = row[i] == row[s.hr[q]] ? CLS_ABSENT
                                                         : (unsigned char)path_cls(c, row[i],
                                                                                   row[s.hr[q]]);
            } else {
                for (size_t j = 0; j < n; j++)
                    f[j] = row[i] == row[j] ? CLS_ABSENT : (unsigned char)path_cls(c, row[i], row[j]);
            }
            for (size_t j = 0; j < n; j++) {
                if (!isfinite(v[j]) && f[j] != CLS_ABSENT) {
                    f[j] = CLS_ABSENT;
                    ninf += !isnan(v[j]);
                }
                cnt += f[j] != CLS_ABSENT;
            }
            s.nvalid += cnt;
        }
        if (s.nvalid && s.higher && !model_size_ok(c, s.size))
            json_array_append_new(c->notes,
                                  json_sprintf("%s %s %s: %lld-byte messages, under the %lld "
                                               "bytes from which bandwidth is judged against "
                                               "the model: judged against peers only",
                                               s.test, s.level ? s.level : "", s.metric, s.size,
                                               c->opts->model_min_size));
        if (ninf) /* only .npy cells can be infinite: JSON has no such number */
            json_array_append_new(c->notes, json_sprintf("%s %s %s: %zu infinite cell%s, not judged",
                                                         s.test, s.level ? s.level : "", s.metric,
                                                         ninf, ninf == 1 ? "" : "s"));
        if (!st && s.nvalid)
            set_judge(c, &s);
        free(row);
        tb_doc_matrix_unmap(&map);
        free(s.f);
        free(s.out);
        free(s.in);
        free(s.eo);
        free(s.ei);
        free(s.hr_off);
        free(s.hr);
    }
    return st;
}

/* Point-to-point entries: one pair per placement, so no peers; judged against the model
 * at the largest size where the model has a figure. */
static void p2p_judge(ctx_t *c, const json_t *t)
{
    const json_t *params = json_object_get(t, "params"), *pair = json_object_get(params, "pair");
    const json_t *results = json_object_get(t, "results"), *last;
    const char *name = str_of(t, "name");
    int a = (int)json_integer_value(json_array_get(pair, 0)),
        b = (int)json_integer_value(json_array_get(pair, 1));
    int bw = json_is_number(json_object_get(json_array_get(results, 0), "bw_gbps"));
    double v, expected;
    path_t p;
    json_t *j;
    if (json_array_size(pair) != 2 || !json_array_size(results) || a < 0 || b < 0 ||
        (size_t)a >= c->nranks || (size_t)b >= c->nranks || a == b)
        return;
    last = json_array_get(results, json_array_size(results) - 1);
    v = bw ? json_number_value(json_object_get(last, "bw_gbps"))
           : json_number_value(json_object_get(json_object_get(last, "time_us"), "mean"));
    path_of(c, a, b, &p);
    /* bibw moves both directions at once: twice the per-direction figure */
    expected = bw && p.expected > 0 ? p.expected * (!strcmp(name, "bibw") ? 2 : 1) : 0;
    if (expected > 0 && json_integer_value(json_object_get(last, "size")) < c->opts->model_min_size) {
        expected = -1; /* a sweep ending below the plateau: its peak is not the link's */
        json_array_append_new(c->notes,
                              json_sprintf("%s ranks %d -> %d: its largest message, %lld bytes, "
                                           "is under the %lld bytes from which bandwidth is "
                                           "judged against the model: not judged",
                                           name, a, b,
                                           (long long)json_integer_value(json_object_get(last, "size")),
                                           c->opts->model_min_size));
    }
    j = json_pack("{s:s, s:s?, s:i, s:i, s:I, s:s, s:f, s:s, s:s}", "test", name, "placement",
                  json_string_value(json_object_get(t, "placement")), "from", a, "to", b, "size",
                  json_integer_value(json_object_get(last, "size")), "metric",
                  bw ? "bw_gbps" : "latency_us", "value", v, "path", cls_names[p.cls],
                  "path_detail", p.detail);
    json_object_set_new(j, "peers", json_string("none: one pair per placement"));
    c->ncells++;
    if (expected > 0) {
        int below = v / expected < c->opts->model_min;
        json_object_set_new(j, "expected_gbps", json_real(expected));
        json_object_set_new(j, "expected_source", json_string(p.source));
        json_object_set_new(j, "ratio_to_expected", json_real(v / expected));
        json_object_set_new(j, "verdict", json_string(below ? "suspect" : "ok"));
        if (below) {
            char subject[200];
            json_t *ev = json_pack("{s:s, s:s, s:f, s:f, s:f, s:s, s:s}", "test", name, "metric",
                                   "bw_gbps", "measured", v, "expected_gbps", expected,
                                   "ratio_to_expected", v / expected, "expected_source", p.source,
                                   "path_detail", p.detail);
            json_t *cu;
            c->nflagged++;
            snprintf(subject, sizeof(subject), "ranks %d -> %d (%s)", a, b, name);
            cu = culprit_add(c, "below_model", subject, ev);
            culprit_host(c, cu, c->ranks[a].host);
            culprit_host(c, cu, c->ranks[b].host);
            json_object_set_new(cu, "suggests",
                                json_string("the pair's transport: MPI not using the modelled "
                                            "NIC (TCP fallback, wrong HCA) or the path"));
        }
    } else {
        json_object_set_new(
            j, "expected_source",
            expected < 0 ? json_sprintf("none: its largest message, %lld bytes, is under the "
                                        "%lld bytes from which bandwidth is judged against the "
                                        "model (it still rises with size there)",
                                        (long long)json_integer_value(json_object_get(last, "size")),
                                        c->opts->model_min_size)
            : json_string(bw ? p.source : "none: the model has no latency figures"));
        json_object_set_new(j, "verdict", json_string("unjudged"));
    }
    json_array_append_new(c->p2p, j);
}

/* ---- GPU copies (gpu_copy entries) -------------------------------------------------- */

/* The copy kinds of a node's copy matrix: from a NUMA node to a GPU, back, between two
 * GPUs, and a GPU's copy within its own memory. */
enum { GC_H2D, GC_D2H, GC_D2D, GC_LOCAL, NGC };
static const char *const gc_names[NGC] = {"host->device", "device->host", "device->device",
                                          "device-local"};
/* The side of a GPU a verdict is about: its PCIe link (host<->device), its links to the
 * other GPUs (device<->device), its memory (device-local). */
enum { GSIDE_HOST, GSIDE_PEER, GSIDE_LOCAL, NGSIDE };
static const char *const gside_names[NGSIDE] = {"host<->device", "device<->device",
                                                "device-local"};

typedef struct gcell {
    size_t node;       /* the entry's nodes[] index */
    int host, a, b;    /* the ctx host (-1 unknown); endpoints: row and column */
    int kind, group;   /* GC_*; the peer group (kind and path class) */
    double v, expected; /* expected 0: no model figure */
    double rel;         /* v against its group's median (v where the group has none) */
    unsigned char peer, below, gpu_bad;
} gcell_t;

typedef struct ggroup {
    int kind;
    char path[24];
    size_t n, nflag;
    double med, mad;
    int judged; /* 3 or more cells: judged against peers */
} ggroup_t;

typedef struct gnode {
    const json_t *j, *labels;
    int host;
    const char *name;
    size_t lo, hi; /* its cells: cells[lo .. hi) (gathered node by node) */
} gnode_t;

static const char *gc_label(const gnode_t *nd, int e)
{
    const char *l = json_string_value(json_array_get(nd->labels, (size_t)e));
    return l ? l : "?";
}

static int gc_is_gpu(const gnode_t *nd, int e)
{
    return !strcmp(str_of(json_array_get(json_object_get(nd->j, "endpoints"), (size_t)e), "kind"),
                   "gpu");
}

/* The GPU's PCIe link as the topology records it, a fact for a verdict about it. */
static void gc_gpu_fact(const ctx_t *c, const gnode_t *nd, int e, json_t *facts)
{
    const json_t *topo = nd->host >= 0 ? json_object_get(json_array_get(json_object_get(c->doc,
                                                                                          "hosts"),
                                                                          (size_t)nd->host),
                                                         "topology")
                                       : NULL,
                 *o, *ep = json_array_get(json_object_get(nd->j, "endpoints"), (size_t)e);
    const char *name = str_of(ep, "topology_object");
    size_t i;
    json_array_foreach(json_object_get(topo, "objects"), i, o) {
        const json_t *l = json_object_get(o, "pcie_link");
        if (strcmp(str_of(o, "kind"), "gpu") != 0 || !name[0] || strcmp(str_of(o, "name"), name))
            continue;
        if (json_is_object(l)) {
            long long maxw = (long long)json_integer_value(json_object_get(l, "max_width")),
                      maxg = (long long)json_integer_value(json_object_get(l, "max_gen"));
            char cap[64] = "";
            if (maxw > 0 || maxg > 0)
                snprintf(cap, sizeof(cap), ", capable of Gen%lld x%lld", maxg, maxw);
            json_array_append_new(
                facts, json_sprintf("%s: %s PCIe link Gen%lld x%lld (%.4g GB/s)%s", nd->name,
                                    name, (long long)json_integer_value(json_object_get(l, "gen")),
                                    (long long)json_integer_value(json_object_get(l, "width")),
                                    json_number_value(json_object_get(l, "gbs")), cap));
        }
    }
}

/* Evidence of a GPU verdict or a GPU link: the cells, worst first, against their peers. */
static json_t *gc_evidence(const ggroup_t *groups, const gcell_t *cells, const size_t *idx,
                           size_t n, const gnode_t *nodes, const char *test)
{
    json_t *ev = json_pack("{s:s, s:s, s:[]}", "test", test, "metric", "copy_gbps", "cells");
    const gcell_t *w = &cells[idx[0]];
    const ggroup_t *g = &groups[w->group];
    double exp = w->expected;
    for (size_t q = 0; q < n && q < CELLS_CITED; q++) {
        const gcell_t *x = &cells[idx[q]];
        json_array_append_new(json_object_get(ev, "cells"),
                              json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}", "from",
                                        gc_label(&nodes[x->node], x->a), "to",
                                        gc_label(&nodes[x->node], x->b), "copy",
                                        gc_names[x->kind], "path", groups[x->group].path, "value",
                                        x->v, "peer_median", groups[x->group].med));
    }
    json_object_set_new(ev, "cells_total", json_integer((json_int_t)n));
    json_object_set_new(ev, "path", json_string(g->path));
    json_object_set_new(ev, "measured", json_real(w->v));
    json_object_set_new(ev, "peer_median", json_real(g->med));
    json_object_set_new(ev, "peer_mad", json_real(g->mad));
    json_object_set_new(ev, "ratio_to_peers", json_real(g->med > 0 ? w->v / g->med : 0.0));
    json_object_set_new(ev, "expected_gbps", exp > 0 ? json_real(exp) : json_null());
    if (exp > 0)
        json_object_set_new(ev, "ratio_to_expected", json_real(w->v / exp));
    json_object_set_new(ev, "expected_source",
                        json_string(exp > 0 ? "the copy matrix's expected_gbps: the path's "
                                              "typically achieved figure from the link table "
                                              "(REFERENCE.md 3)"
                                            : "none: the topology has no figure for this path "
                                              "(peers only)"));
    return ev;
}

static int gc_cmp_worst(const void *a, const void *b)
{
    const gcell_t *x = *(const gcell_t *const *)a, *y = *(const gcell_t *const *)b;
    return (x->rel > y->rel) - (x->rel < y->rel);
}

static void gc_sort_worst(const gcell_t *cells, size_t *idx, size_t n)
{
    /* lowest against its group's median first: cells of several paths compare as ratios */
    const gcell_t **p = malloc((n ? n : 1) * sizeof(*p));
    if (!p)
        return;
    for (size_t q = 0; q < n; q++)
        p[q] = &cells[idx[q]];
    qsort(p, n, sizeof(*p), gc_cmp_worst);
    for (size_t q = 0; q < n; q++)
        idx[q] = (size_t)(p[q] - cells);
    free(p);
}

static int gc_side(int kind)
{
    return kind == GC_D2D ? GSIDE_PEER : kind == GC_LOCAL ? GSIDE_LOCAL : GSIDE_HOST;
}

/* Whether the cells idx[0 .. n) all lie between the same two endpoints (either way). */
static int gc_one_pair(const gcell_t *cells, const size_t *idx, size_t n)
{
    for (size_t q = 1; q < n; q++) {
        const gcell_t *x = &cells[idx[q]], *y = &cells[idx[0]];
        if (!((x->a == y->a && x->b == y->b) || (x->a == y->b && x->b == y->a)))
            return 0;
    }
    return 1;
}

/* One gpu_copy entry: every node's copy cells, grouped by copy kind and path class (the
 * `paths` of the node, nvidia-smi's vocabulary) across the nodes, judged against their
 * group's median and MAD and the cell's expected figure; a GPU whose cells of one side
 * are mostly low is a `gpu` verdict, other low cells a `gpu_link` (docs/analysis.md). */
static tb_status_t gpu_copy_judge(ctx_t *c, const json_t *t, const char *docdir, size_t ti)
{
    const json_t *nodes_j = json_object_get(t, "nodes"), *nj;
    size_t nn = json_array_size(nodes_j), ncells = 0, cap = 0, ngroups = 0, i, *idx = NULL;
    gnode_t *nodes = calloc(nn ? nn : 1, sizeof(*nodes));
    gcell_t *cells = NULL;
    ggroup_t groups[64];
    json_t *entry = NULL;
    const char *test = str_of(t, "name");
    tb_status_t st = TB_OK;
    if (!nodes) {
        st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
        goto out;
    }
    json_array_foreach(nodes_j, i, nj) {
        gnode_t *nd = &nodes[i];
        double *copy = NULL, *exp = NULL;
        size_t n = 0, ne = 0;
        char where[96];
        json_int_t hi = json_integer_value(json_object_get(nj, "node_index"));
        nd->j = nj;
        nd->labels = json_object_get(nj, "labels");
        nd->name = str_of(nj, "host");
        nd->host = json_is_integer(json_object_get(nj, "node_index")) && hi >= 0 &&
                           (size_t)hi < c->nhosts && !strcmp(c->hosts[hi].name, nd->name)
                       ? (int)hi
                       : -1;
        nd->lo = nd->hi = ncells;
        if (strcmp(str_of(nj, "status"), "ok") != 0)
            continue;
        snprintf(where, sizeof(where), "tests[%zu].nodes[%zu]", ti, i);
        if ((st = tb_doc_matrix_get(nj, "copy_gbps", docdir, where, &copy, &n)) ||
            (st = tb_doc_matrix_get(nj, "expected_gbps", docdir, where, &exp, &ne))) {
            free(copy);
            goto out;
        }
        if (copy && json_array_size(nd->labels) != n) {
            free(copy), free(exp);
            st = tb_error(TB_ERR_INPUT, "analyze: %s: labels has %zu entries for a %zu x %zu "
                                        "copy matrix", where, json_array_size(nd->labels), n, n);
            goto out;
        }
        for (size_t a = 0; copy && a < n; a++)
            for (size_t b = 0; b < n; b++) {
                double v = copy[a * n + b];
                int ga = gc_is_gpu(nd, (int)a), gb = gc_is_gpu(nd, (int)b), kind, g;
                const char *path;
                if (!isfinite(v) || (!ga && !gb))
                    continue;
                kind = a == b ? GC_LOCAL : ga && gb ? GC_D2D : gb ? GC_H2D : GC_D2H;
                path = a == b ? "X"
                              : str_of(json_object_get(json_object_get(nj, "paths"),
                                                       gc_label(nd, (int)a)),
                                       gc_label(nd, (int)b));
                if (!path || !path[0])
                    path = "unknown";
                for (g = 0; g < (int)ngroups; g++)
                    if (groups[g].kind == kind && !strcmp(groups[g].path, path))
                        break;
                if (g == (int)ngroups) {
                    if (ngroups == sizeof(groups) / sizeof(groups[0]))
                        continue; /* more path classes than any node has: left out */
                    groups[ngroups] = (ggroup_t){.kind = kind};
                    snprintf(groups[ngroups].path, sizeof(groups[ngroups].path), "%s", path);
                    ngroups++;
                }
                if (ncells == cap) {
                    gcell_t *nc = realloc(cells, (cap = cap ? 2 * cap : 256) * sizeof(*nc));
                    if (!nc) {
                        free(copy), free(exp);
                        st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
                        goto out;
                    }
                    cells = nc;
                }
                cells[ncells++] = (gcell_t){
                    .node = i,
                    .host = nd->host,
                    .a = (int)a,
                    .b = (int)b,
                    .kind = kind,
                    .group = g,
                    .v = v,
                    .expected = exp && ne == n && !isnan(exp[a * n + b]) ? exp[a * n + b] : 0};
                groups[g].n++;
            }
        nd->hi = ncells;
        free(copy);
        free(exp);
    }
    if (!ncells)
        goto out;
    /* peers: each group's median and MAD, over every node */
    {
        double *vals = malloc(ncells * sizeof(double));
        if (!vals || !(idx = malloc(ncells * sizeof(size_t)))) {
            free(vals);
            st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
            goto out;
        }
        for (size_t g = 0; g < ngroups; g++) {
            size_t n = 0;
            for (size_t k = 0; k < ncells; k++)
                if (cells[k].group == (int)g)
                    vals[n++] = cells[k].v;
            groups[g].judged = n >= 3;
            if (groups[g].judged)
                median_mad_inplace(vals, n, &groups[g].med, &groups[g].mad);
        }
        free(vals);
    }
    for (size_t k = 0; k < ncells; k++) {
        gcell_t *x = &cells[k];
        const ggroup_t *g = &groups[x->group];
        x->peer = !g->judged ? PEER_NONE
                  : is_worse(c, 1, x->v, g->med, g->mad) ? PEER_OUTLIER
                                                          : PEER_OK;
        x->below = x->expected > 0 && x->v / x->expected < c->opts->model_min;
        x->rel = g->judged && g->med > 0 ? x->v / g->med : x->v;
    }
    /* GPU verdicts: per node, GPU and side, more than half of at least 2 judged cells low
     * (one for its device-local copy) */
    for (size_t ni = 0; ni < nn; ni++) {
        const gnode_t *nd = &nodes[ni];
        for (int e = 0; e < (int)json_array_size(nd->labels); e++) {
            if (!gc_is_gpu(nd, e))
                continue;
            for (int side = 0; side < NGSIDE; side++) {
                size_t judged = 0, low = 0, n = 0;
                char subject[200];
                json_t *ev, *cu;
                for (size_t k = nd->lo; k < nd->hi; k++) {
                    const gcell_t *x = &cells[k];
                    if ((x->a != e && x->b != e) || gc_side(x->kind) != side ||
                        x->peer == PEER_NONE)
                        continue;
                    judged++;
                    if (x->peer == PEER_OUTLIER)
                        low++, idx[n++] = k;
                }
                if (judged < (side == GSIDE_LOCAL ? 1u : 2u) || 2 * low <= judged)
                    continue;
                /* every low cell between the GPU and one peer: the link between them, named
                 * a gpu_link below (on a 2-GPU node a GPU's only peer cells are the two of
                 * its link, and a faulty NVLink named both GPUs) */
                if (side == GSIDE_PEER && gc_one_pair(cells, idx, n))
                    continue;
                for (size_t k = nd->lo; k < nd->hi; k++)
                    if ((cells[k].a == e || cells[k].b == e) && gc_side(cells[k].kind) == side)
                        cells[k].gpu_bad = 1;
                gc_sort_worst(cells, idx, n);
                ev = gc_evidence(groups, cells, idx, n, nodes, test);
                json_object_set_new(
                    ev, "message",
                    json_sprintf("%s %s: %zu of its %zu %s copy cells low against their peers "
                                 "(worst %s -> %s %s, %.3g GB/s against the median %.3g of "
                                 "%zu %s %s cells, %.2fx)",
                                 nd->name, gc_label(nd, e), low, judged, gside_names[side],
                                 gc_label(nd, cells[idx[0]].a), gc_label(nd, cells[idx[0]].b),
                                 groups[cells[idx[0]].group].path, cells[idx[0]].v,
                                 groups[cells[idx[0]].group].med,
                                 groups[cells[idx[0]].group].n, gc_names[cells[idx[0]].kind],
                                 groups[cells[idx[0]].group].path,
                                 groups[cells[idx[0]].group].med > 0
                                     ? cells[idx[0]].v / groups[cells[idx[0]].group].med
                                     : 0.0));
                json_object_set_new(ev, "side", json_string(gside_names[side]));
                snprintf(subject, sizeof(subject), "%s %s", nd->name, gc_label(nd, e));
                cu = culprit_add(c, "gpu", subject, ev);
                if (nd->host >= 0)
                    culprit_host(c, cu, nd->host);
                else
                    json_add_unique_str(json_object_get(cu, "hosts"), nd->name);
                gc_gpu_fact(c, nd, e, json_object_get(cu, "topology"));
                json_object_set_new(
                    cu, "suggests",
                    json_string(side == GSIDE_HOST
                                    ? "the GPU's PCIe link: trained below its width or "
                                      "generation (lspci -vv: LnkSta against LnkCap; "
                                      "nvidia-smi -q: PCIe generation and link width), a "
                                      "riser or slot, or its NUMA node's memory"
                                : side == GSIDE_PEER
                                    ? "the GPU's links to its peers: NVLinks down or "
                                      "degraded (nvidia-smi nvlink -s), peer access "
                                      "refused, or its PCIe link"
                                    : "the GPU itself: memory clocks, power or thermal "
                                      "throttling (nvidia-smi -q -d CLOCK,PERFORMANCE)"));
            }
        }
    }
    /* GPU links: low cells no GPU verdict explains, by endpoint pair */
    for (size_t k0 = 0; k0 < ncells; k0++) {
        const gcell_t *x = &cells[k0];
        const gnode_t *nd = &nodes[x->node];
        size_t n = 0;
        int rev = 0, rev_ok = 0, first = 1;
        char subject[200];
        json_t *ev, *cu;
        if (x->peer != PEER_OUTLIER || x->gpu_bad)
            continue;
        for (size_t k = nd->lo; k < k0; k++) /* an earlier cell of the pair spoke for it */
            if (cells[k].peer == PEER_OUTLIER && !cells[k].gpu_bad &&
                ((cells[k].a == x->a && cells[k].b == x->b) ||
                 (cells[k].a == x->b && cells[k].b == x->a)))
                first = 0;
        if (!first)
            continue;
        for (size_t k = nd->lo; k < nd->hi; k++) {
            const gcell_t *y = &cells[k];
            if (y->a == x->a && y->b == x->b && y->peer == PEER_OUTLIER)
                idx[n++] = k;
            else if (y->a == x->b && y->b == x->a) {
                if (y->peer == PEER_OUTLIER && !y->gpu_bad)
                    rev = 1, idx[n++] = k;
                else if (y->peer == PEER_OK)
                    rev_ok = 1;
            }
        }
        gc_sort_worst(cells, idx, n);
        if (!rev && rev_ok)
            snprintf(subject, sizeof(subject), "%s %s -> %s", nd->name, gc_label(nd, x->a),
                     gc_label(nd, x->b));
        else
            snprintf(subject, sizeof(subject), "%s %s <-> %s", nd->name, gc_label(nd, x->a),
                     gc_label(nd, x->b));
        ev = gc_evidence(groups, cells, idx, n, nodes, test);
        json_object_set_new(ev, "message",
                            json_sprintf("%s %s copy: %.3g GB/s against the median %.3g of its "
                                         "%zu peers of path %s (%.2fx)%s",
                                         subject, gc_names[x->kind], cells[idx[0]].v,
                                         groups[x->group].med, groups[x->group].n,
                                         groups[x->group].path,
                                         groups[x->group].med > 0
                                             ? cells[idx[0]].v / groups[x->group].med
                                             : 0.0,
                                         !rev && rev_ok ? "; the reverse direction is within "
                                                          "its peers"
                                                        : ""));
        cu = culprit_add(c, "gpu_link", subject, ev);
        if (nd->host >= 0)
            culprit_host(c, cu, nd->host);
        else
            json_add_unique_str(json_object_get(cu, "hosts"), nd->name);
        json_object_set_new(cu, "suggests",
                            json_string(x->kind == GC_D2D
                                            ? "the path between the two GPUs: an NVLink down, "
                                              "peer access refused (copies staged through host "
                                              "memory), or a PCIe switch port"
                                            : "the path between the NUMA node and the GPU: "
                                              "the PCIe switch or host bridge, or the NUMA "
                                              "node's memory"));
    }
    /* the model: a whole group below it (peer access off everywhere, a wrong link table),
     * and a cell without peers below it */
    for (size_t g = 0; g < ngroups; g++) {
        double esum = 0;
        size_t ne = 0;
        for (size_t k = 0; k < ncells; k++)
            if (cells[k].group == (int)g && cells[k].expected > 0)
                esum += cells[k].expected, ne++;
        if (groups[g].judged && ne && groups[g].med < c->opts->model_min * (esum / (double)ne)) {
            char subject[200];
            json_t *ev = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f}", "test", test, "metric",
                                   "copy_gbps", "path", groups[g].path, "measured", groups[g].med,
                                   "peer_median", groups[g].med, "expected_gbps",
                                   esum / (double)ne, "ratio_to_expected",
                                   groups[g].med / (esum / (double)ne)),
                   *cu;
            json_object_set_new(ev, "message",
                                json_sprintf("%s %s median %.3g GB/s is %.2f of the expected "
                                             "%.3g GB/s",
                                             gc_names[groups[g].kind], groups[g].path,
                                             groups[g].med, groups[g].med / (esum / (double)ne),
                                             esum / (double)ne));
            snprintf(subject, sizeof(subject), "every %s %s %s cell below the model", test,
                     gc_names[groups[g].kind], groups[g].path);
            cu = culprit_add(c, "path_class", subject, ev);
            json_object_set_new(cu, "suggests",
                                json_string("every copy of this path: peer access off (copies "
                                            "staged through host memory), IOMMU or ACS "
                                            "redirecting peer traffic, or GPUs below their "
                                            "clocks"));
        }
    }
    for (size_t k = 0; k < ncells; k++) {
        const gcell_t *x = &cells[k];
        const gnode_t *nd = &nodes[x->node];
        if (x->below && x->peer == PEER_NONE) {
            char subject[200];
            json_t *ev, *cu;
            idx[0] = k;
            ev = gc_evidence(groups, cells, idx, 1, nodes, test);
            json_object_set_new(ev, "message",
                                json_sprintf("%s -> %s: %.3g GB/s is %.2f of the expected %.3g "
                                             "(fewer than 3 copies of this kind and path to "
                                             "compare with)",
                                             gc_label(nd, x->a), gc_label(nd, x->b), x->v,
                                             x->v / x->expected, x->expected));
            snprintf(subject, sizeof(subject), "%s %s -> %s (%s)", nd->name, gc_label(nd, x->a),
                     gc_label(nd, x->b), test);
            cu = culprit_add(c, "below_model", subject, ev);
            if (nd->host >= 0)
                culprit_host(c, cu, nd->host);
            json_object_set_new(cu, "suggests",
                                json_string("the copy's path: its PCIe link or NVLinks, or peer "
                                            "access refused"));
        }
    }
    /* the section: groups, and the cells (all, or the flagged ones of a large entry) */
    entry = json_pack("{s:s, s:I, s:[], s:[]}", "test", test, "size",
                      json_integer_value(json_object_get(json_object_get(t, "params"), "size")),
                      "groups", "cells");
    for (size_t k = 0; k < ncells; k++) {
        const gcell_t *x = &cells[k];
        int flagged = x->peer == PEER_OUTLIER || x->gpu_bad || x->below;
        json_t *cj;
        c->ncells++;
        c->nflagged += flagged;
        groups[x->group].nflag += flagged;
        if (c->opts->list_max && ncells > c->opts->list_max && !flagged)
            continue;
        cj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f}", "host", nodes[x->node].name, "from",
                       gc_label(&nodes[x->node], x->a), "to", gc_label(&nodes[x->node], x->b),
                       "copy", gc_names[x->kind], "path", groups[x->group].path, "value", x->v);
        json_object_set_new(cj, "expected_gbps", x->expected > 0 ? json_real(x->expected)
                                                                 : json_null());
        if (x->expected > 0)
            json_object_set_new(cj, "ratio_to_expected", json_real(x->v / x->expected));
        json_object_set_new(cj, "peers", json_string(x->peer == PEER_NONE      ? "none"
                                                     : x->peer == PEER_OUTLIER ? "outlier"
                                                                               : "ok"));
        json_object_set_new(cj, "model", json_string(x->expected <= 0 ? "none"
                                                     : x->below       ? "below"
                                                                      : "ok"));
        if (x->gpu_bad)
            json_object_set_new(cj, "gpu_verdict", json_true());
        json_object_set_new(cj, "verdict",
                            json_string(flagged                                 ? "suspect"
                                        : x->peer == PEER_NONE && x->expected <= 0 ? "unjudged"
                                                                                  : "ok"));
        json_array_append_new(json_object_get(entry, "cells"), cj);
    }
    if (c->opts->list_max && ncells > c->opts->list_max)
        json_object_set_new(entry, "cells_listed", json_string("flagged only"));
    for (size_t g = 0; g < ngroups; g++) {
        double esum = 0;
        size_t ne = 0;
        json_t *gj;
        for (size_t k = 0; k < ncells; k++)
            if (cells[k].group == (int)g && cells[k].expected > 0)
                esum += cells[k].expected, ne++;
        gj = json_pack("{s:s, s:s, s:I, s:I}", "copy", gc_names[groups[g].kind], "path",
                       groups[g].path, "cells", (json_int_t)groups[g].n, "flagged",
                       (json_int_t)groups[g].nflag);
        json_object_set_new(gj, "peer_median", groups[g].judged ? json_real(groups[g].med)
                                                                : json_null());
        json_object_set_new(gj, "peer_mad", groups[g].judged ? json_real(groups[g].mad)
                                                             : json_null());
        json_object_set_new(gj, "expected_gbps", ne ? json_real(esum / (double)ne) : json_null());
        if (!groups[g].judged)
            json_object_set_new(gj, "note", json_string("fewer than 3 copies of this kind and "
                                                        "path: judged against the model only"));
        json_array_append_new(json_object_get(entry, "groups"), gj);
    }
    json_array_append(c->gpu_copy, entry);
out:
    json_decref(entry);
    free(nodes);
    free(cells);
    free(idx);
    return st;
}

/* ---- collectives: bus bandwidth at the largest size against the ring's model --------- */

/* The GPU pair's figure from the node's topology (gpu_pairs: class, typically achieved
 * figure, bottleneck), 0 when it has none. */
static double gpu_pair_gbs(const json_t *topo, const char *a, const char *b, char *desc,
                           size_t len)
{
    const json_t *p;
    size_t i;
    json_array_foreach(json_object_get(topo, "gpu_pairs"), i, p) {
        const char *pa = str_of(p, "a"), *pb = str_of(p, "b");
        double g = json_number_value(json_object_get(p, "achievable_gbs"));
        if (!((!strcmp(pa, a) && !strcmp(pb, b)) || (!strcmp(pa, b) && !strcmp(pb, a))) || g <= 0)
            continue;
        snprintf(desc, len, "%s %s: %s (%s), %.4g GB/s typically achieved", a, b,
                 str_of(p, "class"), str_of(p, "bottleneck"), g);
        return g;
    }
    return 0;
}

/* The name of rank r's GPU in its node's topology, or NULL. */
static const char *rank_gpu_name(const json_t *doc, size_t r, char *buf, size_t len)
{
    const json_t *g = json_object_get(json_array_get(json_object_get(doc, "ranks"), r), "gpu");
    if (!json_is_object(g))
        return NULL;
    if (json_is_string(json_object_get(g, "topology_object")))
        return json_string_value(json_object_get(g, "topology_object"));
    if (!json_is_integer(json_object_get(g, "index")))
        return NULL;
    snprintf(buf, len, "GPU%lld", (long long)json_integer_value(json_object_get(g, "index")));
    return buf;
}

/* busbw of a ring is bounded by its slowest hop: the model's expected bus bandwidth is
 * the minimum over the hops (rank r -> r + 1, in rank order) of the link table's figure
 * for the hop's path, a NET hop's port divided among the ring's hops that leave (or
 * enter) the node through it at once: with ranks placed round-robin (--map-by node) every
 * hop is NET and 8 ranks per node send 8 hops through each port. Returns it, or 0 with
 * *why saying which hop has no figure. */
static double ring_expected(const ctx_t *c, size_t n, int nccl, char *src, size_t srclen,
                            char *why, size_t whylen)
{
    double best = INFINITY;
    unsigned *hops = calloc(2 * (c->nhosts ? c->nhosts : 1), sizeof(*hops)),
             *hops_in = hops ? hops + c->nhosts : NULL;
    src[0] = why[0] = 0;
    if (!hops) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    for (size_t r = 0; r < n; r++) {
        int ha = c->ranks[r].host, hb = c->ranks[(r + 1) % n].host;
        if (ha != hb)
            hops[ha]++, hops_in[hb]++;
    }
    for (size_t r = 0; r < n; r++) {
        size_t s = (r + 1) % n;
        int ha = c->ranks[r].host, hb = c->ranks[s].host;
        const host_info_t *a = &c->hosts[ha], *b = &c->hosts[hb];
        double g;
        char desc[400];
        if (ha != hb) {
            double ga = nccl ? a->net_sum_gbs : a->net_gbs, gb = nccl ? b->net_sum_gbs : b->net_gbs;
            unsigned ka = hops[ha], kb = hops_in[hb];
            if (ga <= 0 || gb <= 0) {
                snprintf(why, whylen,
                         "the ring's hop ranks %zu -> %zu leaves %s for %s, and %s has no "
                         "active RDMA port with a known rate in its topology",
                         r, s, a->name, b->name, ga <= 0 ? a->name : b->name);
                best = 0;
                break;
            }
            ga /= ka, gb /= kb;
            g = ga < gb ? ga : gb;
            snprintf(desc, sizeof(desc),
                     "ranks %zu -> %zu, NET %s -> %s: %s%s, %.4g GB/s (the port's figure "
                     "shared by the %u ring hops %s the node at once)",
                     r, s, a->name, b->name, (ga <= gb ? a : b)->net_desc,
                     nccl ? " (NCCL spreads its channels over the node's RDMA ports: their sum)"
                          : "",
                     g, ga <= gb ? ka : kb, ga <= gb ? "leaving" : "entering");
        } else if (!nccl) {
            snprintf(why, whylen,
                     "the ring's hop ranks %zu -> %zu stays within %s: a shared-memory copy, "
                     "for which the model has no figure",
                     r, s, a->name);
            best = 0;
            break;
        } else {
            char ba[32], bb[32], pd[300];
            const char *ga = rank_gpu_name(c->doc, r, ba, sizeof(ba)),
                       *gb = rank_gpu_name(c->doc, s, bb, sizeof(bb));
            const json_t *topo = json_object_get(
                json_array_get(json_object_get(c->doc, "hosts"), (size_t)ha), "topology");
            if (!ga || !gb) {
                snprintf(why, whylen, "ranks[%zu] records no GPU: the ring's hop ranks %zu -> "
                                      "%zu within %s has no path", !ga ? r : s, r, s, a->name);
                best = 0;
                break;
            }
            if (!strcmp(ga, gb) || (g = gpu_pair_gbs(topo, ga, gb, pd, sizeof(pd))) <= 0) {
                snprintf(why, whylen,
                         "the ring's hop ranks %zu -> %zu (%s %s -> %s) has no GPU pair figure "
                         "in the topology",
                         r, s, a->name, ga, gb);
                best = 0;
                break;
            }
            snprintf(desc, sizeof(desc), "ranks %zu -> %zu on %s, %s", r, s, a->name, pd);
        }
        if (g < best) {
            best = g;
            snprintf(src, srclen,
                     "ring model: busbw is bounded by the ring's slowest hop (ranks in order, "
                     "the link table's typically achieved figures, REFERENCE.md 3); the "
                     "slowest: %s",
                     desc);
        }
    }
    free(hops);
    return isinf(best) ? 0 : best;
}

/* The first of ranks 0 .. n-1 that returns to a node an earlier rank left, or n when every
 * node's ranks are contiguous. */
static size_t ring_node_revisit(const ctx_t *c, size_t n)
{
    unsigned char *left = calloc(c->nhosts ? c->nhosts : 1, 1);
    size_t r = 1;
    if (!left)
        return n; /* out of memory: taken as contiguous, the model judges as it did */
    for (; r < n; r++) {
        int prev = c->ranks[r - 1].host, h = c->ranks[r].host;
        if (h == prev)
            continue;
        left[prev] = 1;
        if (left[h])
            break;
    }
    free(left);
    return r < n ? r : n;
}

/* One collective entry (MPI or nccl_*): its bus bandwidth at the largest size (the better
 * of out-of-place and in-place) against the ring model, where the model gives a figure;
 * otherwise recorded unjudged with the reason. */
static void collective_judge(ctx_t *c, const json_t *t)
{
    const char *name = str_of(t, "name"), *backend = str_of(t, "backend");
    const char *op = !strncmp(name, "nccl_", 5) ? name + 5 : name;
    const json_t *row;
    size_t i,
        n = (size_t)json_integer_value(json_object_get(json_object_get(t, "params"), "ranks")),
        revisit;
    long long size = -1;
    double busbw = NAN, expected = 0;
    int nccl = !strcmp(backend, "nccl"), in_place = 0;
    char src[700] = "", why[400] = "", label[160];
    json_t *j;
    json_array_foreach(json_object_get(t, "results"), i, row) {
        long long sz = (long long)json_integer_value(json_object_get(row, "size"));
        double b = json_number_value(json_object_get(row, "busbw_gbps"));
        if (!json_is_number(json_object_get(row, "busbw_gbps")))
            continue;
        if (sz > size || (sz == size && b > busbw))
            size = sz, busbw = b, in_place = json_is_true(json_object_get(row, "in_place"));
    }
    if (size < 0)
        return;
    snprintf(label, sizeof(label), "%s (%s, %s)", name, backend[0] ? backend : "mpi",
             str_of(t, "dtype"));
    if (!n)
        n = c->nranks;
    if (n > c->nranks)
        snprintf(why, sizeof(why), "params.ranks %zu is more than ranks[] holds (%zu)", n,
                 c->nranks);
    else if (n < 2)
        snprintf(why, sizeof(why), "one rank: no ring");
    else if (!strcmp(op, "alltoall"))
        snprintf(why, sizeof(why), "alltoall's bus bandwidth is bounded by the fabric's "
                                   "bisection, not by a ring: the model has no figure");
    else if (strcmp(op, "all_reduce") && strcmp(op, "reduce_scatter") && strcmp(op, "all_gather") &&
             strcmp(op, "broadcast") && strcmp(op, "reduce") && strcmp(op, "sendrecv"))
        snprintf(why, sizeof(why), "no bus bandwidth model for %s", op);
    else if (size < c->opts->model_min_size)
        snprintf(why, sizeof(why), "its largest message, %lld bytes, is under the %lld bytes "
                                   "from which bandwidth is judged against the model (it "
                                   "still rises with size there)",
                 (long long)size, c->opts->model_min_size);
    else if (nccl && json_integer_value(json_object_get(json_object_get(t, "params"),
                                                        "gpus_per_rank")) > 1)
        snprintf(why, sizeof(why), "several GPUs per rank: the hops between a rank's own GPUs "
                                   "are not recorded");
    else if (nccl && (revisit = ring_node_revisit(c, n)) < n)
        snprintf(why, sizeof(why),
                 "rank %zu returns to %s after other nodes' ranks: NCCL orders its rings by "
                 "the topology, not by rank, so with ranks not contiguous per node its hops "
                 "are not known",
                 revisit, c->hosts[c->ranks[revisit].host].name);
    else
        expected = ring_expected(c, n, nccl, src, sizeof(src), why, sizeof(why));
    j = json_pack("{s:s, s:s, s:s, s:I, s:b, s:f}", "test", name, "backend",
                  backend[0] ? backend : "mpi", "dtype", str_of(t, "dtype"), "size",
                  (json_int_t)size, "in_place", in_place, "busbw_gbps", busbw);
    c->ncells++;
    if (expected > 0) {
        double ratio = busbw / expected;
        int below = ratio < c->opts->model_min;
        json_object_set_new(j, "expected_gbps", json_real(expected));
        json_object_set_new(j, "expected_source", json_string(src));
        json_object_set_new(j, "ratio_to_expected", json_real(ratio));
        json_object_set_new(j, "verdict", json_string(below ? "suspect" : "ok"));
        if (below) {
            json_t *ev = json_pack("{s:s, s:s, s:I, s:f, s:f, s:f, s:s}", "test", name, "metric",
                                   "busbw_gbps", "size", (json_int_t)size, "measured", busbw,
                                   "expected_gbps", expected, "ratio_to_expected", ratio,
                                   "expected_source", src),
                   *cu;
            json_object_set_new(ev, "message",
                                json_sprintf("%s busbw %.3g GB/s at %lld bytes is %.2f of the "
                                             "ring's expected %.3g GB/s",
                                             label, busbw, size, ratio, expected));
            c->nflagged++;
            cu = culprit_add(c, "collective", label, ev);
            json_object_set_new(
                cu, "suggests",
                json_string(nccl ? "the collective's path: NCCL's graph (NCCL_DEBUG=INFO: the "
                                   "rings and their links), GPUDirect RDMA off, a NIC or "
                                   "NVLink below its rate; the node and link verdicts, if any"
                                 : "the collective's path: MPI's transport (TCP instead of "
                                   "RDMA), its algorithm at this size, or a slow node or link "
                                   "(the node and link verdicts, if any)"));
        }
    } else {
        json_object_set_new(j, "expected_gbps", json_null());
        json_object_set_new(j, "expected_source", json_sprintf("none: %s", why));
        json_object_set_new(j, "verdict", json_string("unjudged"));
    }
    json_array_append_new(c->collectives, j);
}

/* ---- node verdicts explain the links that touch the node ------------------------- */

static int is_node_kind(const char *kind)
{
    return !strcmp(kind, "node") || !strcmp(kind, "latency_node");
}

/* Whether culprit cu is a direction between nodes with host `name` at end `side` (0:
 * sender, 1: receiver). */
static int direction_at(const json_t *cu, const char *name, int side)
{
    const json_t *hs = json_object_get(cu, "hosts");
    return !strcmp(str_of(cu, "kind"), "direction") && json_array_size(hs) == 2 &&
           !strcmp(json_string_value(json_array_get(hs, (size_t)side)), name);
}

/* The node culprit naming `host` that explains a link of metric `lat`: for a latency link
 * the latency node verdict first, else the bandwidth one (a node at a tenth of its peers'
 * bandwidth answers ping-pongs late too); for a bandwidth link only a bandwidth node
 * verdict (late ping-pongs do not explain a slow cable, which must stay named). NULL if
 * none. */
static json_t *node_culprit_of(const ctx_t *c, const char *host, int lat, const json_t *link)
{
    json_t *cu, *found = NULL, *x;
    size_t i, k;
    json_array_foreach(c->culprits, i, cu) {
        const char *kind = str_of(cu, "kind"), *sub = str_of(cu, "subject");
        int lat_node = !strcmp(kind, "latency_node"), side = -1;
        size_t sl = strlen(sub);
        if (!is_node_kind(kind) || (lat_node && !lat))
            continue;
        if (sl > 10 && !strcmp(sub + sl - 10, " (sending)"))
            side = 0;
        else if (sl > 12 && !strcmp(sub + sl - 12, " (receiving)"))
            side = 1;
        /* a node slow one way explains only directions of its own side */
        if (side >= 0 && !direction_at(link, host, side))
            continue;
        json_array_foreach(json_object_get(cu, "hosts"), k, x) {
            if (strcmp(json_string_value(x), host) != 0)
                continue;
            if (lat_node == (lat != 0))
                return cu;
            if (!found)
                found = cu;
        }
    }
    return found;
}

/* How many direction culprits have host h at end `side`. */
static size_t directions_at(const ctx_t *c, size_t h, int side)
{
    size_t n = 0, i;
    const json_t *cu;
    json_array_foreach(c->culprits, i, cu) n += direction_at(cu, c->hosts[h].name, side);
    return n;
}

/* Whether host h has a bandwidth node verdict already. */
static int has_node_verdict(const ctx_t *c, size_t h)
{
    size_t i;
    const json_t *cu;
    json_array_foreach(c->culprits, i, cu) if (!strcmp(str_of(cu, "kind"), "node") &&
                                               !strcmp(str_of(cu, "subject"), c->hosts[h].name))
        return 1;
    return 0;
}

/* A node slow one way only (its transmit side: every cell it sends low, every cell it
 * receives fine) keeps its p75 healthy, so rule 2 names no node and rule 3 names one
 * direction per peer. When one host sends (or receives) the low side of direction
 * verdicts to at least half of the other hosts, and at least 3, they are that node's
 * fault: one `node` culprit, "HOST (sending)" or "HOST (receiving)", its evidence the
 * worst direction's with the count, the directions under `explains`. */
static void fold_directions_into_node(ctx_t *c)
{
    size_t need = c->nhosts / 2, i, k; /* half of the other hosts, rounded up */
    json_t *cu, *x;
    if (c->nhosts < 4)
        return;
    need = need < 3 ? 3 : need;
    for (int side = 0; side < 2; side++) { /* 0: h sends, 1: h receives */
        /* two hosts or more qualifying on one side: a fault they share (a leaf's uplink
         * slow one way), not each node's: their directions stay named */
        size_t nq = 0;
        for (size_t h = 0; h < c->nhosts; h++)
            nq += directions_at(c, h, side) >= need;
        if (nq != 1)
            continue;
        for (size_t h = 0; h < c->nhosts; h++) {
            size_t n = 0, worst = 0, nconf = 0, nnot = 0;
            double worst_r = INFINITY;
            char subject[200];
            json_t *node, *ex, *ev, *first = NULL;
            if (directions_at(c, h, side) < need || has_node_verdict(c, h))
                continue; /* a node verdict of h's own takes its links in fold_links */
            json_array_foreach(c->culprits, i, cu) {
                if (!direction_at(cu, c->hosts[h].name, side))
                    continue;
                ev = json_array_get(json_object_get(cu, "evidence"), 0);
                x = json_object_get(ev, "ratio_to_peers");
                if (!first || (json_is_number(x) && json_number_value(x) < worst_r))
                    first = ev, worst = i,
                    worst_r = json_is_number(x) ? json_number_value(x) : worst_r;
                n++;
            }
            if (n < need)
                continue;
            ev = json_deep_copy(first);
            json_object_set_new(ev, "message",
                                json_sprintf("%s %s %zu of the %zu other nodes low in that "
                                             "direction only, the reverse within its peers; "
                                             "the worst: %s",
                                             c->hosts[h].name, side ? "receives from" : "sends to",
                                             n, c->nhosts - 1, str_of(first, "message")));
            snprintf(subject, sizeof(subject), "%s (%s)", c->hosts[h].name,
                     side ? "receiving" : "sending");
            node = culprit_add(c, "node", subject, ev);
            culprit_host(c, node, (int)h);
            json_object_set_new(
                node, "suggests",
                json_string(side ? "the node's receive side: its HCA port's receive lanes, the "
                                   "cable toward it or the switch port's egress to it"
                                 : "the node's transmit side: its HCA port's transmit lanes, "
                                   "the cable from it or the switch port's ingress"));
            json_object_set(node, "confirm_pairs",
                            json_object_get(json_array_get(c->culprits, worst), "confirm_pairs"));
            if (json_object_get(json_array_get(c->culprits, worst), "control_pairs"))
                json_object_set(node, "control_pairs",
                                json_object_get(json_array_get(c->culprits, worst),
                                                "control_pairs"));
            ex = json_array();
            i = 0;
            while (i < json_array_size(c->culprits)) {
                cu = json_array_get(c->culprits, i);
                if (!direction_at(cu, c->hosts[h].name, side)) {
                    i++;
                    continue;
                }
                x = json_pack("{s:s, s:s, s:O, s:O}", "kind", "direction", "subject",
                              str_of(cu, "subject"), "hosts", json_object_get(cu, "hosts"),
                              "evidence",
                              json_object_get(cu, "evidence"));
                if (x && json_object_get(cu, "isolation")) {
                    const char *v = str_of(json_object_get(cu, "isolation"), "verdict");
                    json_object_set(x, "isolation", json_object_get(cu, "isolation"));
                    nconf += !strcmp(v, "confirmed");
                    nnot += !strcmp(v, "not confirmed");
                }
                json_array_append_new(ex, x);
                json_array_foreach(json_object_get(cu, "ranks"), k, x)
                    json_array_append(json_object_get(node, "ranks"), x);
                json_array_remove(c->culprits, i);
            }
            json_object_set_new(node, "explains", ex);
            /* the retest measured its directions alone: confirmed when one of them is,
             * not confirmed when every one is fine alone (load, not the node) */
            if (nconf || nnot == n)
                json_object_set_new(
                    node, "isolation",
                    json_pack("{s:s, s:s}", "verdict", nconf ? "confirmed" : "not confirmed",
                              "message",
                              nconf ? "alone, at least one of its directions is still slow "
                                      "(see explains)"
                                    : "alone, every one of its directions measured like its "
                                      "peers: congestion, not the node (see explains)"));
        }
    }
}

/* A link between two nodes (link, direction, latency_link, below_model) one of whose ends
 * has a node verdict is explained by that node: a node whose bandwidth is a tenth of its
 * peers' also answers ping-pongs late, in another metric and another set (the virtual
 * cluster's shaped nodes named latency links to healthy nodes besides their node
 * verdicts). The link is folded into the node's culprit under `explains`, its evidence
 * kept, so a verdict names the node alone and nothing measured is dropped. Links within
 * one node are left: a slow pair inside a node is another fault than its HCA. */
static void fold_links_into_nodes(ctx_t *c)
{
    size_t i = 0;
    while (i < json_array_size(c->culprits)) {
        json_t *cu = json_array_get(c->culprits, i), *hosts = json_object_get(cu, "hosts"),
               *node = NULL, *x;
        const char *kind = str_of(cu, "kind");
        size_t k;
        if (is_node_kind(kind) || !strcmp(kind, "path_class") || json_array_size(hosts) != 2) {
            i++;
            continue;
        }
        json_array_foreach(hosts, k, x) {
            if ((node = node_culprit_of(c, json_string_value(x), !strcmp(kind, "latency_link"),
                                        cu)))
                break;
        }
        if (!node) {
            i++;
            continue;
        }
        if (!json_object_get(node, "explains"))
            json_object_set_new(node, "explains", json_array());
        {
            json_t *ex = json_pack("{s:s, s:s, s:O, s:O}", "kind", kind, "subject",
                                   str_of(cu, "subject"), "hosts", hosts, "evidence",
                                   json_object_get(cu, "evidence"));
            if (ex && json_object_get(cu, "isolation"))
                json_object_set(ex, "isolation", json_object_get(cu, "isolation"));
            json_array_append_new(json_object_get(node, "explains"), ex);
        }
        json_array_remove(c->culprits, i);
    }
}

/* ---- topology culprits and the confirmation command ------------------------------- */

static void topology_culprits(ctx_t *c)
{
    for (size_t h = 0; h < c->nhosts; h++) {
        json_t *cu, *ev, *x;
        size_t i, k;
        int has = 0;
        if (!c->hosts[h].differs)
            continue;
        json_array_foreach(c->culprits, i, cu) {
            json_array_foreach(json_object_get(cu, "hosts"), k, x)
                if (!strcmp(json_string_value(x), c->hosts[h].name) &&
                    (!strcmp(str_of(cu, "kind"), "node") ||
                     !strcmp(str_of(cu, "kind"), "latency_node")))
                    has = 1;
        }
        if (has)
            continue; /* the node verdict already cites the finding among its facts */
        ev = json_pack("{s:O, s:O}", "node_differs", c->hosts[h].differs, "measured",
                       c->hosts[h].measured);
        json_object_set_new(ev, "message",
                            json_string(json_array_size(c->hosts[h].measured)
                                            ? "its topology differs from the majority; its "
                                              "measurements against the other nodes are in "
                                              "`measured`"
                                            : "its topology differs from the majority; no "
                                              "measurement compares it with other nodes"));
        cu = culprit_add(c, "topology", c->hosts[h].name, ev);
        culprit_host(c, cu, (int)h);
        json_object_set_new(cu, "suggests",
                            json_string("the node's hardware or software differs: see the "
                                        "node_differs finding"));
    }
}

static json_t *confirm_command(ctx_t *c)
{
    /* run.command_line starts at the subcommand: the program's path is not recorded */
    const char *prog = c->opts->program ? c->opts->program : "topobench";
    size_t len = 0, i;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, &len); /* host names and the path have no length limit */
    int contiguous = 1, next = 0;
    json_t *pr, *out;
    if (!f)
        return json_null();
    fprintf(f, "mpirun -np %zu --host ", c->nranks);
    for (size_t h = 0; h < c->nhosts; h++) {
        const json_t *hr = json_object_get(json_array_get(json_object_get(c->doc, "hosts"), h),
                                           "ranks");
        json_t *r;
        json_array_foreach(hr, i, r) if (json_integer_value(r) != next++) contiguous = 0;
        fprintf(f, "%s%s:%zu", h ? "," : "", c->hosts[h].name, json_array_size(hr));
    }
    fprintf(f, " --map-by slot %s run -t isolated --pairs ", prog);
    json_array_foreach(c->confirm_pairs, i, pr)
        fprintf(f, "%s%lld-%lld", i ? "," : "", (long long)json_integer_value(json_array_get(pr, 0)),
                (long long)json_integer_value(json_array_get(pr, 1)));
    json_array_foreach(c->confirm_controls, i, pr)
        fprintf(f, ",%lld-%lld", (long long)json_integer_value(json_array_get(pr, 0)),
                (long long)json_integer_value(json_array_get(pr, 1)));
    if (c->confirm_size > 0)
        fprintf(f, " -m %lld", c->confirm_size);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return json_null();
    }
    out = json_pack("{s:s, s:O, s:O}", "command", buf, "pairs", c->confirm_pairs, "controls",
                    c->confirm_controls);
    if (out && !contiguous)
        json_object_set_new(out, "note",
                            json_string("the run's ranks were not placed host by host in rank "
                                        "order: place them as the original run did"));
    free(buf);
    return out ? out : json_null();
}

/* ---- run --retest: the verdicts against their pairs measured alone ------------------- */

/* The pair's figure in the retest entry (bandwidth or latency), NAN when not measured. */
static double retest_value(const json_t *pairs, int a, int b, int lat)
{
    const json_t *p;
    size_t i;
    json_array_foreach(pairs, i, p) {
        if (json_integer_value(json_object_get(p, "a")) == a &&
            json_integer_value(json_object_get(p, "b")) == b)
            return json_number_value(json_object_get(p, lat ? "latency_us" : "bw_gbps"));
    }
    return NAN;
}

/* Every verdict whose pairs the run measured again alone (entry "retest") gets its
 * `isolation`: confirmed when alone the pair is still worse than the healthy pairs of its
 * path class measured alone in the same step (beyond --min-drop), or, without such a
 * reference, below the model; not confirmed when alone it measures like them: the
 * concurrent matrix's load made it slow, not its link or node. */
static void retest_judge(ctx_t *c)
{
    const json_t *t, *entry = NULL, *cu, *pairs, *controls;
    size_t i, k;
    long long rsize;
    json_array_foreach(json_object_get(c->doc, "tests"), i, t)
        if (!strcmp(str_of(t, "name"), "retest") && !strcmp(str_of(t, "status"), "ok"))
            entry = t;
    if (!entry)
        return;
    pairs = json_object_get(json_object_get(entry, "matrix"), "pairs");
    rsize = json_integer_value(json_object_get(json_object_get(entry, "matrix"), "size"));
    controls = json_object_get(json_object_get(entry, "params"), "controls");
    json_array_foreach(c->culprits, i, cu) {
        const char *kind = str_of(cu, "kind");
        int lat = !strcmp(kind, "latency_node") || !strcmp(kind, "latency_link");
        const json_t *pr;
        double worst = NAN, expected = 0, ctl[256], med = NAN, ratio = NAN;
        size_t nctl = 0;
        int a0 = -1, b0 = -1, bad = -1;
        json_t *measured = json_array(), *iso;
        char msg[600];
        json_array_foreach(json_object_get(cu, "confirm_pairs"), k, pr) {
            int a = (int)json_integer_value(json_array_get(pr, 0)),
                b = (int)json_integer_value(json_array_get(pr, 1));
            double v = retest_value(pairs, a, b, lat);
            if (isnan(v) || a < 0 || b < 0 || (size_t)a >= c->nranks || (size_t)b >= c->nranks)
                continue;
            json_array_append_new(measured, json_pack("{s:i, s:i, s:f}", "from", a, "to", b,
                                                      "value", v));
            if (isnan(worst) || (lat ? v > worst : v < worst))
                worst = v, a0 = a, b0 = b;
        }
        if (isnan(worst)) {
            json_decref(measured);
            continue;
        }
        json_array_foreach(controls, k, pr) {
            int a = (int)json_integer_value(json_array_get(pr, 0)),
                b = (int)json_integer_value(json_array_get(pr, 1));
            double v = retest_value(pairs, a, b, lat);
            if (!isnan(v) && nctl < 256 && a >= 0 && b >= 0 && (size_t)a < c->nranks &&
                (size_t)b < c->nranks && path_cls(c, a, b) == path_cls(c, a0, b0))
                ctl[nctl++] = v;
        }
        if (nctl)
            med = quantile(ctl, nctl, 50);
        if (!lat && model_size_ok(c, rsize))
            expected = path_expected(c, a0, b0);
        if (nctl && med > 0) {
            ratio = worst / med;
            bad = lat ? ratio > 1 + c->opts->min_drop : ratio < 1 - c->opts->min_drop;
            snprintf(msg, sizeof(msg),
                     "alone, ranks %d -> %d measured %.3g %s, %.2fx the median %.3g of %zu "
                     "healthy pair%s of its path class measured alone in this run: %s",
                     a0, b0, worst, lat ? "us" : "GB/s", ratio, med, nctl, nctl == 1 ? "" : "s",
                     bad ? "the fault is the pair's own (isolation confirmed it)"
                         : "fine alone, so the load of the concurrent matrix made it slow "
                           "(isolation did not confirm it: congestion, not the link or node)");
        } else if (expected > 0) {
            ratio = worst / expected;
            bad = ratio < c->opts->model_min;
            snprintf(msg, sizeof(msg),
                     "alone, ranks %d -> %d measured %.3g GB/s, %.2f of the model's %.3g (no "
                     "healthy pair measured alone for reference): %s",
                     a0, b0, worst, ratio, expected,
                     bad ? "isolation confirmed it" : "isolation did not confirm it");
        } else {
            snprintf(msg, sizeof(msg),
                     "alone, ranks %d -> %d measured %.3g %s; no healthy pair of its path class "
                     "was measured alone and the model has no figure: inconclusive",
                     a0, b0, worst, lat ? "us" : "GB/s");
        }
        iso = json_pack("{s:s, s:o, s:i, s:s}", "verdict",
                        bad < 0 ? "inconclusive" : bad ? "confirmed" : "not confirmed",
                        "measured", measured, "controls", (int)nctl, "message", msg);
        json_object_set_new(iso, "control_median", nctl ? json_real(med) : json_null());
        json_object_set_new(iso, "expected_gbps", expected > 0 ? json_real(expected) : json_null());
        json_object_set_new(iso, "ratio", isnan(ratio) ? json_null() : json_real(ratio));
        json_object_set_new((json_t *)cu, "isolation", iso);
    }
}

/* ---- entry points ----------------------------------------------------------------- */

void tb_analysis_opts_default(tb_analysis_opts_t *opts)
{
    opts->mad_k = 4.0;
    opts->min_drop = 0.25;
    opts->model_min = 0.5;
    opts->model_min_size = 1 << 20;
    opts->list_max = 4096;
    opts->program = NULL;
}

/* Tests that did not end ok are noted, not judged: grouped by status and reason, so a
 * reason shared by many entries (no GPU: every GPU test) is said once. */
static void not_judged_add(json_t *groups, const json_t *t)
{
    const char *reason = str_of(t, "skip_reason");
    json_t *key = json_sprintf("%s\x1f%s", str_of(t, "status"), reason), *g;
    if (!key)
        return;
    if (!(g = json_object_get(groups, json_string_value(key)))) {
        g = json_pack("{s:s, s:s, s:s, s:[]}", "status", str_of(t, "status"), "reason", reason,
                      "kind", str_of(t, "kind"), "names");
        json_object_set_new(groups, json_string_value(key), g);
    }
    json_decref(key);
    if (g)
        json_array_append_new(json_object_get(g, "names"), json_string(str_of(t, "name")));
}

static void not_judged_notes(json_t *groups, json_t *notes)
{
    const char *key;
    json_t *g;
    json_object_foreach(groups, key, g) {
        const json_t *names = json_object_get(g, "names");
        const char *reason = str_of(g, "reason");
        char *list = NULL;
        size_t len = 0, j;
        const json_t *n;
        FILE *m = open_memstream(&list, &len);
        if (!m)
            continue;
        json_array_foreach(names, j, n)
            fprintf(m, "%s%s", j ? ", " : "", json_string_value(n));
        fclose(m);
        if (json_array_size(names) == 1)
            json_array_append_new(notes, json_sprintf("%s (%s): %s%s%s, not judged", list,
                                                      str_of(g, "kind"), str_of(g, "status"),
                                                      reason[0] ? ": " : "", reason));
        else
            json_array_append_new(notes, json_sprintf("%s (%zu tests): %s%s%s, not judged", list,
                                                      json_array_size(names), str_of(g, "status"),
                                                      reason[0] ? ": " : "", reason));
        free(list);
    }
}

/* RDMA NICs of the host of world rank r (its topology's `nics`), -1 unknown. */
static int rank_nics(const json_t *doc, int r, const char **host_p)
{
    const char *host = str_of(json_array_get(json_object_get(doc, "ranks"), (size_t)r), "host");
    const json_t *h;
    size_t i;
    *host_p = host;
    json_array_foreach(json_object_get(doc, "hosts"), i, h)
        if (!strcmp(str_of(h, "name"), host)) {
            const json_t *n = json_object_get(json_object_get(h, "topology"), "nics");
            return json_is_integer(n) ? (int)json_integer_value(n) : -1;
        }
    return -1;
}

/* Whether UCX's transport list names an RDMA transport (InfiniBand/RoCE verbs, mlx5 DV). */
static int ucx_rdma(const char *transports)
{
    static const char *const rdma[] = {"rc", "dc", "ud", "ib", "rdmacm", "srd"};
    for (const char *p = transports; *p;) {
        size_t n = strcspn(p, "/");
        for (size_t k = 0; k < sizeof(rdma) / sizeof(rdma[0]); k++)
            if (!strncmp(p, rdma[k], strlen(rdma[k])) &&
                (p[strlen(rdma[k])] == '_' || p[strlen(rdma[k])] == '/'))
                return 1;
        p += n;
        p += strcspn(p, " ");
        p += strspn(p, " ");
    }
    return 0;
}

/* What UCX selected (tests[].selected), one note per --backend ucx entry, and a note for
 * pairs between two hosts that both have RDMA NICs where UCX went without RDMA: "UCX
 * picked tcp instead of rc_mlx5" said, not left to a slow figure. */
static void ucx_selection_notes(const json_t *doc, const json_t *t, json_t *notes)
{
    const json_t *sel = json_object_get(t, "selected"), *one, *p;
    const char *what = str_of(t, "placement")[0] ? str_of(t, "placement") : str_of(t, "level");
    char *list = NULL;
    size_t len = 0, i;
    FILE *m;
    if (!sel || strcmp(str_of(t, "backend"), "ucx") != 0 || !(m = open_memstream(&list, &len)))
        return;
    json_array_foreach(json_object_get(sel, "selections"), i, one)
        fprintf(m, "%s%s (%lld pairs)", i ? "; " : "", str_of(one, "transports"),
                (long long)json_integer_value(json_object_get(one, "pairs")));
    fclose(m);
    json_array_append_new(notes, json_sprintf("%s (%s, ucx): UCX selected %s", str_of(t, "name"),
                                              what, list));
    free(list);
    json_array_foreach(json_object_get(sel, "pairs"), i, p) {
        int a = (int)json_integer_value(json_array_get(p, 0)),
            b = (int)json_integer_value(json_array_get(p, 1));
        const json_t *s1 =
            json_array_get(json_object_get(sel, "selections"),
                           (size_t)json_integer_value(json_array_get(p, 2)));
        const char *ha, *hb;
        int na = rank_nics(doc, a, &ha), nb = rank_nics(doc, b, &hb);
        if (strcmp(ha, hb) != 0 && na > 0 && nb > 0 && !ucx_rdma(str_of(s1, "transports"))) {
            json_array_append_new(
                notes, json_sprintf("%s (%s, ucx): UCX sent from rank %d (%s) to rank %d (%s) "
                                    "over %s although both hosts have RDMA NICs: check UCX_TLS, "
                                    "UCX_NET_DEVICES and this UCX build's transports (the first "
                                    "such pair; figures of this entry are not the fabric's)",
                                    str_of(t, "name"), what, a, ha, b, hb,
                                    str_of(s1, "transports")));
            break;
        }
    }
}

tb_status_t tb_analysis_run(const json_t *doc, const char *docdir, const tb_analysis_opts_t *opts,
                            json_t **analysis_p)
{
    ctx_t c = {.doc = doc, .opts = opts};
    tb_status_t st;
    const json_t *t, *f;
    size_t i;
    json_t *a = NULL, *unjudged = NULL;
    char now[40];
    c.culprits = json_array();
    c.sets = json_array();
    c.p2p = json_array();
    c.notes = json_array();
    c.confirm_pairs = json_array();
    c.confirm_controls = json_array();
    c.culprit_index = json_object();
    c.gpu_copy = json_array();
    c.collectives = json_array();
    unjudged = json_object();
    if ((st = ctx_load(&c)))
        goto out;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
        if (!strcmp(str_of(f, "code"), "ranks_unbound"))
            json_array_append_new(c.notes,
                                  json_string("ranks were not bound to cores: intra-node "
                                              "paths are unknown (class intra-node) and timings "
                                              "noisier; bind them (mpirun --bind-to core) before "
                                              "trusting a latency verdict"));
    json_array_foreach(json_object_get(doc, "tests"), i, t) {
        const char *kind = str_of(t, "kind"), *status = str_of(t, "status");
        if (strcmp(status, "ok") != 0) {
            not_judged_add(unjudged, t);
            continue;
        }
        if (!strcmp(kind, "matrix") && !strcmp(str_of(t, "name"), "retest")) {
            continue; /* judged against the verdicts it retests (retest_judge) */
        } else if (!strcmp(kind, "matrix")) {
            if ((st = matrix_sets(&c, t, docdir, i)))
                goto out;
        } else if (!strcmp(kind, "p2p")) {
            p2p_judge(&c, t);
        } else if (!strcmp(kind, "gpu_copy")) {
            if ((st = gpu_copy_judge(&c, t, docdir, i)))
                goto out;
        } else if (!strcmp(kind, "collective")) {
            collective_judge(&c, t);
        }
        ucx_selection_notes(doc, t, c.notes);
    }
    not_judged_notes(unjudged, c.notes);
    /* the scratch memory is needed no more; the index would hold folded culprits */
    free(c.work), free(c.idx);
    c.work = NULL, c.idx = NULL;
    c.work_cap = c.idx_cap = 0;
    /* the retest judges every culprit measured alone, links folded into a node next
     * included: each keeps its isolation under the node's explains */
    retest_judge(&c);
    fold_directions_into_node(&c);
    fold_links_into_nodes(&c);
    json_object_clear(c.culprit_index);
    topology_culprits(&c);
    for (size_t h = 0; h < c.nhosts; h++) {
        const host_info_t *hi = &c.hosts[h];
        char ran[200];
        if (!oversubscribed(hi))
            continue;
        if (hi->machine_hosts > 1)
            snprintf(ran, sizeof(ran),
                     "%s shares one kernel with %d other host%s (the same boot_id): their %d "
                     "ranks ran on %d CPUs (oversubscribed)",
                     hi->name, hi->machine_hosts - 1, hi->machine_hosts == 2 ? "" : "s",
                     hi->machine_ranks, hi->ncpus);
        else
            snprintf(ran, sizeof(ran), "%s ran %d ranks on %d CPUs (oversubscribed)", hi->name,
                     hi->nlocal, hi->ncpus);
        json_array_append_new(
            c.notes, hi->latency_skipped
                         ? json_sprintf("%s: a ping-pong there waits on the scheduler, so its "
                                        "%zu latency outlier%s named no culprit",
                                        ran, hi->latency_skipped,
                                        hi->latency_skipped == 1 ? "" : "s")
                         : json_sprintf("%s: its latency cells would name no culprit (none "
                                        "was an outlier)",
                                        ran));
        if (hi->bw_skipped)
            json_array_append_new(
                c.notes, json_sprintf("%s: its ranks wait on the scheduler inside a bandwidth "
                                      "window too, so %zu bandwidth outlier%s above half "
                                      "their peers' median named no culprit (a node or link "
                                      "under half is still named)",
                                      hi->name, hi->bw_skipped, hi->bw_skipped == 1 ? "" : "s"));
    }
    tb_doc_timestamp(now, sizeof(now));
    a = json_pack("{s:i, s:s, s:s, s:{s:f, s:f, s:f, s:I, s:f}, s:I, s:I}", "version",
                  TB_ANALYSIS_VERSION, "generated", now, "verdict",
                  json_array_size(c.culprits) ? "suspect" : "ok", "options", "mad_threshold",
                  opts->mad_k, "min_drop", opts->min_drop, "model_min", opts->model_min,
                  "model_min_size", (json_int_t)opts->model_min_size, "mad_scale", MAD_SCALE, "cells_judged", (json_int_t)c.ncells, "cells_flagged",
                  (json_int_t)c.nflagged);
    if (!a) {
        st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
        goto out;
    }
    json_object_set(a, "culprits", c.culprits);
    json_object_set_new(a, "confirm",
                        json_array_size(c.confirm_pairs) ? confirm_command(&c) : json_null());
    json_object_set(a, "sets", c.sets);
    json_object_set(a, "p2p", c.p2p);
    json_object_set(a, "gpu_copy", c.gpu_copy);
    json_object_set(a, "collectives", c.collectives);
    json_object_set(a, "notes", c.notes);
    {
        json_t *rec = tb_recommend(doc, a, opts, docdir);
        if (!rec) {
            json_decref(a);
            a = NULL;
            st = tb_error(TB_ERR_INTERNAL, "analyze: out of memory");
            goto out;
        }
        json_object_set_new(a, "recommendations", rec);
    }
    *analysis_p = a;
out:
    for (size_t h = 0; c.hosts && h < c.nhosts; h++) {
        json_decref(c.hosts[h].facts);
        json_decref(c.hosts[h].differs);
        json_decref(c.hosts[h].measured);
    }
    free(c.hosts);
    free(c.ranks);
    json_decref(c.culprits);
    json_decref(c.sets);
    json_decref(c.p2p);
    json_decref(c.notes);
    json_decref(c.confirm_pairs);
    json_decref(c.confirm_controls);
    json_decref(c.culprit_index);
    json_decref(c.gpu_copy);
    json_decref(c.collectives);
    free(c.work);
    free(c.idx);
    json_decref(unjudged);
    return st;
}

static const char *kind_title(const char *kind)
{
    static const struct {
        const char *kind, *title;
    } t[] = {{"node", "NODE"},
             {"latency_node", "NODE (latency)"},
             {"link", "LINK"},
             {"direction", "DIRECTION"},
             {"latency_link", "LINK (latency)"},
             {"path_class", "PATH CLASS"},
             {"below_model", "BELOW MODEL"},
             {"topology", "TOPOLOGY"},
             {"gpu", "GPU"},
             {"gpu_link", "GPU LINK"},
             {"collective", "COLLECTIVE"}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(kind, t[i].kind))
            return t[i].title;
    return kind;
}

/* The recommendations, one line each with the first piece of its evidence; the rest is in
 * the analysis section and the files rendered from it. */
static void print_recommendations(const json_t *r, FILE *out)
{
    const json_t *x, *ring = json_object_get(r, "ring_order"), *pl;
    size_t i, k;
    char kept[512] = "";
    if (!json_is_object(r))
        return;
    fprintf(out, "recommendations (each with its evidence in the analysis section):\n");
    json_array_foreach(json_object_get(r, "nccl_env"), i, x) {
        const json_t *per = json_object_get(x, "per_host");
        fprintf(out, "  %s%s=%s%s: %s\n", !strcmp(str_of(x, "status"), "try") ? "to try: " : "",
                str_of(x, "name"), str_of(x, "value"),
                json_object_size(per) ? " (some nodes differ: per_host)" : "",
                json_string_value(json_array_get(json_object_get(x, "evidence"), 0)));
    }
    json_array_foreach(json_object_get(r, "defaults_kept"), i, x) {
        size_t n = strlen(kept);
        snprintf(kept + n, sizeof(kept) - n, "%s%s", n ? ", " : "", str_of(x, "name"));
    }
    if (kept[0])
        fprintf(out, "  left to NCCL's defaults (why: defaults_kept): %s\n", kept);
    json_array_foreach(json_object_get(r, "findings"), i, x)
        fprintf(out, "  finding: %s: %s\n", str_of(x, "code"), str_of(x, "message"));
    pl = json_array_get(json_object_get(json_object_get(r, "placement"), "hosts"), 0);
    if (pl) {
        fprintf(out, "  placement (%s, %lld ranks):\n", str_of(pl, "host"),
                (long long)json_integer_value(json_object_get(pl, "ranks")));
        json_array_foreach(json_object_get(pl, "local"), k, x) {
            if (k == 8) {
                fprintf(out, "    ...\n");
                break;
            }
            fprintf(out, "    local rank %lld: %s\n",
                    (long long)json_integer_value(json_object_get(x, "local_rank")),
                    str_of(x, "evidence"));
        }
    }
    if (json_is_object(ring)) {
        fprintf(out, "  ring order%s:", json_is_true(json_object_get(ring, "changed")) ? "" :
                                                                                         " (the run's)");
        json_array_foreach(json_object_get(ring, "hosts"), k, x) {
            if (k == 16) {
                fprintf(out, " ...");
                break;
            }
            fprintf(out, " %s", json_string_value(x));
        }
        fprintf(out, "\n    %s\n",
                json_string_value(json_array_get(json_object_get(ring, "evidence"), 0)));
    }
    if (!json_array_size(json_object_get(r, "drain")))
        fprintf(out, "  drain: no node\n");
    json_array_foreach(json_object_get(r, "drain"), i, x)
        fprintf(out, "  drain %s (%s): %s\n", str_of(x, "host"),
                str_of(json_array_get(json_object_get(x, "reasons"), 0), "basis"),
                str_of(json_array_get(json_object_get(x, "reasons"), 0), "reason"));
}

void tb_analysis_print(const json_t *a, FILE *out)
{
    const json_t *cu, *ev, *x, *confirm = json_object_get(a, "confirm");
    const json_t *culprits = json_object_get(a, "culprits");
    const json_t *o = json_object_get(a, "options");
    size_t i, k;
    if (!json_array_size(culprits))
        fprintf(out, "analysis: OK: no culprit among %lld cells judged (%lld flagged; an "
                     "outlier: beyond %g scaled MADs and %g%% from its peers' median; below "
                     "the model: under %g of its expected figure)\n",
                (long long)json_integer_value(json_object_get(a, "cells_judged")),
                (long long)json_integer_value(json_object_get(a, "cells_flagged")),
                json_number_value(json_object_get(o, "mad_threshold")),
                100 * json_number_value(json_object_get(o, "min_drop")),
                json_number_value(json_object_get(o, "model_min")));
    else
        fprintf(out, "analysis: %zu culprit%s (%lld of %lld cells flagged)\n",
                json_array_size(culprits), json_array_size(culprits) == 1 ? "" : "s",
                (long long)json_integer_value(json_object_get(a, "cells_flagged")),
                (long long)json_integer_value(json_object_get(a, "cells_judged")));
    json_array_foreach(culprits, i, cu) {
        fprintf(out, "  %s %s: %s\n", kind_title(str_of(cu, "kind")), str_of(cu, "subject"),
                str_of(cu, "suggests"));
        json_array_foreach(json_object_get(cu, "evidence"), k, ev) {
            const json_t *exp = json_object_get(ev, "expected_gbps");
            if (!strcmp(str_of(cu, "kind"), "topology")) {
                size_t m;
                json_array_foreach(json_object_get(ev, "measured"), m, x)
                    fprintf(out, "    measured: %s\n", json_string_value(x));
                continue;
            }
            fprintf(out, "    %s%s%s %s: %s\n", str_of(ev, "test"),
                    json_object_get(ev, "level") ? " " : "", str_of(ev, "level"),
                    str_of(ev, "metric"), str_of(ev, "message"));
            if (json_is_number(exp))
                fprintf(out, "      expected %.3g GB/s, measured %.2f of it (%s)\n",
                        json_number_value(exp),
                        json_number_value(json_object_get(ev, "ratio_to_expected")),
                        str_of(ev, "expected_source"));
            else
                fprintf(out, "      expected: %s\n", str_of(ev, "expected_source"));
        }
        json_array_foreach(json_object_get(cu, "topology"), k, x)
            fprintf(out, "    topology: %s\n", json_string_value(x));
        json_array_foreach(json_object_get(cu, "explains"), k, x)
            fprintf(out, "    explains: %s %s (%s)\n", kind_title(str_of(x, "kind")),
                    str_of(x, "subject"),
                    str_of(json_array_get(json_object_get(x, "evidence"), 0), "message"));
        if (json_is_object(json_object_get(cu, "isolation")))
            fprintf(out, "    isolation: %s: %s\n",
                    str_of(json_object_get(cu, "isolation"), "verdict"),
                    str_of(json_object_get(cu, "isolation"), "message"));
    }
    if (json_is_object(confirm)) {
        fprintf(out, "confirm in isolation:\n  %s\n", str_of(confirm, "command"));
        if (json_object_get(confirm, "note"))
            fprintf(out, "  (%s)\n", str_of(confirm, "note"));
    }
    json_array_foreach(json_object_get(a, "notes"), i, x)
        fprintf(out, "note: %s\n", json_string_value(x));
    print_recommendations(json_object_get(a, "recommendations"), out);
}
