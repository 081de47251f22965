/* The HTML report (docs/report.md, "HTML report"): one self-contained file rendered from
 * the results document alone. C builds a compact view of the document (every string
 * copied as data, never as markup; matrices quantised and, above TB_HTML_GRID_MAX rows,
 * aggregated to nodes) and embeds it as JSON in the page; the page's script (html_page.js,
 * compiled in at build time with its style sheet) draws it with textContent and canvas/SVG
 * only. A Content-Security-Policy forbids every network request. */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cells.h"
#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"
#include "stats.h"
#include "escape.h"

/* Compiled in by report/CMakeLists.txt from html_page.css and html_page.js. */
extern const char tb_html_css[];
extern const char tb_html_js[];

static const char *sget(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- matrices: quantised to 16 bits, base64 --------------------------------------- */

/* Code 65535 is "no measurement". Positive data are quantised on a log scale (relative
 * error below 1e-4 over 10 decades), other data linearly between their min and max. */
#define QMISSING 65535u
#define QMAX 65534.0

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const unsigned char *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    size_t i;
    if (!out)
        return NULL;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = b64[v >> 18 & 63], *o++ = b64[v >> 12 & 63];
        *o++ = b64[v >> 6 & 63], *o++ = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = b64[v >> 18 & 63], *o++ = b64[v >> 12 & 63];
        *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int is_finite(double x) { return x == x && x - x == 0; }

/* {"scale": "log"|"lin", "lo", "hi", "data": base64 of little-endian uint16} */
static json_t *quantise(const double *v, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    int logscale = 1;
    unsigned char *q = malloc(n * 2 + 1);
    char *text;
    json_t *o;
    size_t i;
    if (!q)
        return NULL;
    for (i = 0; i < n; i++)
        if (is_finite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
            if (v[i] <= 0)
                logscale = 0;
        }
    if (!(lo <= hi))
        lo = hi = 0;
    for (i = 0; i < n; i++) {
        unsigned c = QMISSING;
        if (is_finite(v[i])) {
            double t = hi > lo ? (logscale ? log(v[i] / lo) / log(hi / lo) : (v[i] - lo) / (hi - lo)) : 0;
            c = (unsigned)lround(t * QMAX);
        }
        q[2 * i] = (unsigned char)(c & 255);
        q[2 * i + 1] = (unsigned char)(c >> 8);
    }
    text = base64(q, n * 2);
    free(q);
    if (!text)
        return NULL;
    o = json_pack("{s:s, s:f, s:f, s:s}", "scale", logscale ? "log" : "lin", "lo", lo, "hi",
                  hi, "data", text);
    free(text);
    return o;
}

/* Row -> group (host) index, hosts named in order of first appearance. */
static size_t group_rows(const json_t *labels, size_t n, size_t *group, json_t *names)
{
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        char host[512];
        size_t g;
        const char *label = json_string_value(json_array_get(labels, i));
        tb_cells_label_host(label ? label : "", host, sizeof(host));
        /* Labels come host by host in every run; a scattered order costs a scan. */
        if (ng && !strcmp(json_string_value(json_array_get(names, ng - 1)), host))
            g = ng - 1;
        else {
            for (g = 0; g < ng; g++)
                if (!strcmp(json_string_value(json_array_get(names, g)), host))
                    break;
            if (g == ng) {
                json_array_append_new(names, json_string(host));
                ng++;
            }
        }
        group[i] = g;
    }
    return ng;
}

/* Aggregates an n x n matrix, read a host's rows at a time, into ng x ng blocks: the
 * median of each block's measured cells into med, its worst (lowest when `low_bad`, else
 * highest) into worst; with worst NULL the mean into med (the spreads: a summary, not a
 * figure to judge). Each row is read once, its cells copied run by run into their
 * block's slice of `buf`; then one pass over the blocks. */
static tb_status_t aggregate(tb_doc_matrix_rows_t *reader, size_t n, const size_t *group,
                             size_t ng, int low_bad, double *med, double *worst)
{
    size_t *start = calloc(ng + 1, sizeof(*start)), *rows = malloc(n * sizeof(*rows) + 1);
    size_t *at = malloc(ng * sizeof(*at) + 1), *fill = calloc(ng + 1, sizeof(*fill));
    size_t *run = malloc((n + 1) * sizeof(*run)), nrun = 0, maxg = 0;
    double *buf = NULL, *cells = NULL;
    tb_status_t st = TB_ERR_ENV;

    for (size_t i = 0; i < ng * ng; i++)
        med[i] = worst ? (worst[i] = NAN) : NAN;
    if (!start || !rows || !at || !fill || !run)
        goto out;
    /* rows: the row indices host by host; start[g]: where group g begins in them. */
    for (size_t i = 0; i < n; i++)
        start[group[i] + 1]++;
    for (size_t g = 0; g < ng; g++) {
        maxg = start[g + 1] > maxg ? start[g + 1] : maxg;
        start[g + 1] += start[g];
    }
    for (size_t i = 0; i < n; i++)
        rows[start[group[i]] + fill[group[i]]++] = i;
    /* run[r]..run[r + 1]: the columns of the r-th run of one group. */
    for (size_t j = 0; j < n; j++)
        if (!j || group[j] != group[j - 1])
            run[nrun++] = j;
    run[nrun] = n;
    if (!(buf = malloc(maxg * n * sizeof(*buf) + 1)) ||
        !(cells = malloc(maxg * n * sizeof(*cells) + 1)))
        goto out;
    st = TB_OK;
    for (size_t a = 0; a < ng; a++) {
        size_t na = start[a + 1] - start[a];
        /* The group's rows, adjacent ones in one read. */
        for (size_t x = start[a], y; x < start[a + 1]; x = y) {
            for (y = x + 1; y < start[a + 1] && rows[y] == rows[y - 1] + 1; y++)
                ;
            if ((st = tb_doc_matrix_rows_read(reader, rows[x], y - x, cells + (x - start[a]) * n)))
                goto out;
        }
        /* Block (a, b) holds up to na x |b| cells, at na * start[b]. */
        for (size_t b = 0; b < ng; b++)
            at[b] = na * start[b], fill[b] = 0;
        for (size_t x = 0; x < na; x++) {
            size_t i = rows[start[a] + x];
            const double *row = cells + x * n;
            for (size_t r = 0; r < nrun; r++) {
                size_t g = group[run[r]], k = fill[g];
                double *dst = buf + at[g];
                /* Branch-free: every cell written, the count moved past the measured. */
                for (size_t j = run[r]; j < run[r + 1]; j++) {
                    dst[k] = row[j];
                    k += (j != i) & is_finite(row[j]);
                }
                fill[g] = k;
            }
        }
        for (size_t b = 0; b < ng; b++) {
            double *p = buf + at[b], w = NAN, sum = 0;
            size_t k = fill[b];
            for (size_t y = 0; y < k; y++) {
                sum += p[y];
                if (!(w == w) || (low_bad ? p[y] < w : p[y] > w))
                    w = p[y];
            }
            if (!k)
                continue;
            if (worst) {
                med[a * ng + b] = tb_stats_median_select(p, k);
                worst[a * ng + b] = w;
            } else {
                med[a * ng + b] = sum / (double)k;
            }
        }
    }
out:
    if (st == TB_ERR_ENV)
        tb_error(st, "report: out of memory aggregating a %zu x %zu matrix", n, n);
    free(buf);
    free(cells);
    free(start);
    free(rows);
    free(at);
    free(fill);
    free(run);
    return st;
}

/* Median of the measured cells within one group (same host) and across groups. */
static void peer_refs(const double *v, size_t n, const size_t *group, json_t *out)
{
    double *buf = malloc(n * n * sizeof(*buf) + 1);
    size_t k;
    if (!buf)
        return;
    for (int same = 0; same < 2; same++) {
        k = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (i != j && is_finite(v[i * n + j]) && (group[i] == group[j]) == same)
                    buf[k++] = v[i * n + j];
        if (k)
            json_object_set_new(out, same ? "intra" : "net",
                                json_real(tb_stats_median_select(buf, k)));
    }
    free(buf);
}

static const char *unit_of_key(const char *key, int *low_bad)
{
    size_t l = strlen(key);
    *low_bad = 0;
    if (l > 5 && !strcmp(key + l - 5, "_gbps")) {
        *low_bad = 1;
        return "GB/s";
    }
    if (l > 3 && !strcmp(key + l - 3, "_us"))
        return "us";
    if (l > 3 && !strcmp(key + l - 3, "_cv"))
        return "cv";
    return "";
}

static const char *what_of_key(const char *key)
{
    if (!strcmp(key, "recv_gbps"))
        return "bandwidth from row (sender) to column, timed at the receiver";
    if (!strcmp(key, "send_gbps"))
        return "bandwidth from row (sender) to column, timed at the sender";
    if (!strcmp(key, "bandwidth_gbps"))
        return "bandwidth from row (sender) to column";
    if (!strcmp(key, "latency_us"))
        return "half round-trip latency at 8 bytes, row initiating";
    return "";
}

/* The analysis set of this matrix and metric, if any. */
static const json_t *analysis_set(const json_t *doc, const json_t *test, const char *key)
{
    const json_t *set;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(doc, "analysis"), "sets"), i, set)
        if (!strcmp(sget(set, "test"), sget(test, "name")) &&
            json_equal(json_object_get(set, "level"), json_object_get(test, "level")) &&
            !strcmp(sget(set, "metric"), key))
            return set;
    return NULL;
}

/* One heatmap of the view: {title, unit, better, what, n, agg, labels, v, [worst], [cv],
 * refs, group, [cells: analysis cells as [row, col, path, expected, verdict]]}. */
static tb_status_t view_matrix(const json_t *doc, const json_t *test, const char *key,
                               const char *docdir, json_t *list)
{
    const json_t *m = json_object_get(test, "matrix"), *labels = json_object_get(m, "labels");
    char where[256], label[128], cvkey[128];
    tb_doc_matrix_rows_t *rcells = NULL, *rcv = NULL;
    double *cells = NULL, *cv = NULL, *med = NULL, *worst = NULL, *cvmed = NULL;
    size_t n, ncv = 0, ng, *group = NULL;
    int low_bad, agg;
    const char *unit = unit_of_key(key, &low_bad);
    json_t *names = json_array(), *view = NULL, *refs = json_object(), *gr;
    tb_status_t st;

    tb_doc_entry_label(test, label, sizeof(label));
    snprintf(where, sizeof(where), "%s (%s)", sget(test, "name"), label);
    if ((st = tb_doc_matrix_rows_open(m, key, docdir, where, &rcells, &n)) || !rcells)
        goto out;
    if (!(group = malloc(n * sizeof(*group) + 1)))
        goto out;
    ng = group_rows(labels, n, group, names);
    agg = n > TB_HTML_GRID_MAX && ng < n;
    /* Aggregated, the matrices are read a host's rows at a time (134 MB each at 4,096
     * ranks); a grid drawn cell by cell, whole. A spread that cannot be read is left out. */
    snprintf(cvkey, sizeof(cvkey), "%.*s_cv", (int)(strlen(key) > 5 ? strlen(key) - 5 : 0), key);
    if (agg) {
        if (low_bad && json_object_get(m, cvkey) &&
            (tb_doc_matrix_rows_open(m, cvkey, docdir, where, &rcv, &ncv) || ncv != n)) {
            tb_doc_matrix_rows_close(rcv);
            rcv = NULL;
        }
    } else {
        if (!(cells = malloc(n * n * sizeof(*cells) + 1)) ||
            (st = tb_doc_matrix_rows_read(rcells, 0, n, cells)))
            goto out;
        if (low_bad && json_object_get(m, cvkey) &&
            (tb_doc_matrix_get(m, cvkey, docdir, where, &cv, &ncv) || ncv != n)) {
            free(cv);
            cv = NULL;
        }
    }
    view = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I}", "test", sget(test, "name"),
                     "label", label, "key", key, "unit", unit, "what", what_of_key(key),
                     "size", json_object_get(m, "size") ? json_object_get(m, "size") : json_null(),
                     "ranks", (json_int_t)n);
    if (agg) {
        med = malloc(ng * ng * sizeof(*med) + 1);
        worst = malloc(ng * ng * sizeof(*worst) + 1);
        if (rcv)
            cvmed = malloc(ng * ng * sizeof(*cvmed) + 1);
        if (!med || !worst || (rcv && !cvmed))
            goto out;
        if ((st = aggregate(rcells, n, group, ng, low_bad, med, worst)))
            goto out;
        if (rcv && aggregate(rcv, n, group, ng, 0, cvmed, NULL)) {
            free(cvmed);
            cvmed = NULL;
        }
        gr = json_array();
        for (size_t g = 0; g < ng; g++)
            json_array_append_new(gr, json_integer((json_int_t)g));
        for (size_t g = 0; g < ng; g++)
            group[g] = g;
        peer_refs(med, ng, group, refs);
        json_object_set_new(view, "n", json_integer((json_int_t)ng));
        json_object_set_new(view, "agg", json_true());
        json_object_set(view, "labels", names);
        json_object_set_new(view, "v", quantise(med, ng * ng));
        json_object_set_new(view, "worst", quantise(worst, ng * ng));
        if (cvmed)
            json_object_set_new(view, "cv", quantise(cvmed, ng * ng));
    } else {
        const json_t *set = analysis_set(doc, test, key), *c, *ranks = json_object_get(m, "ranks");
        json_t *acells = json_array();
        size_t i;
        gr = json_array();
        for (size_t r = 0; r < n; r++)
            json_array_append_new(gr, json_integer((json_int_t)group[r]));
        peer_refs(cells, n, group, refs);
        json_object_set_new(view, "n", json_integer((json_int_t)n));
        json_object_set_new(view, "agg", json_false());
        json_object_set_new(view, "labels", labels ? json_incref((json_t *)labels) : json_array());
        json_object_set_new(view, "v", quantise(cells, n * n));
        if (cv)
            json_object_set_new(view, "cv", quantise(cv, n * n));
        /* The analysis names cells by world rank; rows are matrix.ranks. */
        json_array_foreach(json_object_get(set, "cells"), i, c) {
            json_int_t from = json_integer_value(json_object_get(c, "from"));
            json_int_t to = json_integer_value(json_object_get(c, "to"));
            json_int_t row = -1, col = -1;
            for (size_t r = 0; r < n; r++) {
                json_int_t wr = ranks ? json_integer_value(json_array_get(ranks, r)) : (json_int_t)r;
                row = wr == from ? (json_int_t)r : row;
                col = wr == to ? (json_int_t)r : col;
            }
            if (row >= 0 && col >= 0)
                json_array_append_new(acells, json_pack("[I, I, s, O, s]", row, col, sget(c, "path"),
                    json_object_get(c, "expected_gbps") ? json_object_get(c, "expected_gbps") : json_null(),
                    sget(c, "verdict")));
        }
        json_object_set_new(view, "cells", acells);
    }
    json_object_set_new(view, "group", gr);
    json_object_set(view, "refs", refs);
    json_array_append(list, view);
out:
    json_decref(view);
    json_decref(names);
    json_decref(refs);
    tb_doc_matrix_rows_close(rcells);
    tb_doc_matrix_rows_close(rcv);
    free(cells);
    free(cv);
    free(med);
    free(worst);
    free(cvmed);
    free(group);
    return st;
}

/* Per-node matrices (an entry's nodes[], gpu_copy): one view per key with every node's
 * matrix, its spread, the expected figure and the path class of each cell. */
static tb_status_t view_node_matrices(const json_t *test, const char *docdir, json_t *list)
{
    const json_t *nodes = json_object_get(test, "nodes"), *node, *first = NULL;
    const char *key;
    json_t *value;
    char label[128], where[256], cvkey[128];
    size_t i, l;
    tb_status_t st = TB_OK;
    int low_bad;

    json_array_foreach(nodes, i, node)
        if (!first && json_object_get(node, "labels"))
            first = node;
    tb_doc_entry_label(test, label, sizeof(label));
    json_object_foreach((json_t *)first, key, value) {
        json_t *view, *vnodes;
        const char *unit = unit_of_key(key, &low_bad);
        if (!tb_doc_matrix_is(first, key) || !strcmp(key, "expected_gbps") ||
            ((l = strlen(key)) > 3 && !strcmp(key + l - 3, "_cv")) || !unit[0])
            continue;
        snprintf(cvkey, sizeof(cvkey), "%.*s_cv", (int)(l > 5 ? l - 5 : 0), key);
        vnodes = json_array();
        view = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:b, s:o}", "test", sget(test, "name"),
                         "label", label, "key", key, "unit", unit, "what", what_of_key(key), "size",
                         json_object_get(json_object_get(test, "params"), "size")
                             ? json_object_get(json_object_get(test, "params"), "size") : json_null(),
                         "agg", 0, "nodes", vnodes);
        json_array_foreach(nodes, i, node) {
            double *cells = NULL, *cv = NULL, *exp = NULL;
            size_t n = 0, n2 = 0, *group = NULL;
            const json_t *labels = json_object_get(node, "labels"), *paths = json_object_get(node, "paths");
            json_t *vn = json_pack("{s:s, s:s, s:s}", "host", sget(node, "host"), "status",
                                   sget(node, "status"), "skip_reason", sget(node, "skip_reason"));
            snprintf(where, sizeof(where), "%s (%s) node %s", sget(test, "name"), label, sget(node, "host"));
            json_array_append_new(vnodes, vn);
            json_object_set_new(vn, "notes", json_object_get(node, "notes")
                                                 ? json_incref(json_object_get(node, "notes")) : json_array());
            if ((st = tb_doc_matrix_get(node, key, docdir, where, &cells, &n)) || !cells)
                goto next;
            if (json_object_get(node, cvkey) &&
                (tb_doc_matrix_get(node, cvkey, docdir, where, &cv, &n2) || n2 != n)) {
                free(cv);
                cv = NULL;
            }
            if (json_object_get(node, "expected_gbps") &&
                (tb_doc_matrix_get(node, "expected_gbps", docdir, where, &exp, &n2) || n2 != n)) {
                free(exp);
                exp = NULL;
            }
            if (!(group = calloc(n + 1, sizeof(*group))))
                goto next;
            {
                json_t *refs = json_object(), *gr = json_array(), *pflat = json_array();
                peer_refs(cells, n, group, refs);
                for (size_t r = 0; r < n; r++) {
                    json_array_append_new(gr, json_integer(0));
                    for (size_t c = 0; c < n; c++)
                        json_array_append_new(pflat, json_string(sget(json_object_get(paths,
                            json_string_value(json_array_get(labels, r)) ? json_string_value(json_array_get(labels, r)) : ""),
                            json_string_value(json_array_get(labels, c)) ? json_string_value(json_array_get(labels, c)) : "")));
                }
                json_object_set_new(vn, "n", json_integer((json_int_t)n));
                json_object_set(vn, "labels", (json_t *)labels);
                json_object_set_new(vn, "v", quantise(cells, n * n));
                if (cv)
                    json_object_set_new(vn, "cv", quantise(cv, n * n));
                if (exp)
                    json_object_set_new(vn, "exp", quantise(exp, n * n));
                json_object_set_new(vn, "paths", pflat);
                json_object_set_new(vn, "group", gr);
                json_object_set_new(vn, "refs", refs);
            }
        next:
            free(cells);
            free(cv);
            free(exp);
            free(group);
            if (st) {
                json_decref(view);
                return st;
            }
        }
        json_array_append_new(list, view);
    }
    return st;
}

/* ---- sweeps ------------------------------------------------------------------------- */

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *jnum(double x) { return is_finite(x) ? json_real(x) : json_null(); }

/* The expected figure the analysis gave a sweep entry, or NaN: a point-to-point pair's
 * (analysis.p2p, by test and placement), a collective's ring model (analysis.collectives,
 * by test, backend and dtype). */
static double sweep_expected(const json_t *doc, const json_t *test)
{
    const json_t *p, *a = json_object_get(doc, "analysis");
    size_t i;
    json_array_foreach(json_object_get(a, "p2p"), i, p)
        if (!strcmp(sget(p, "test"), sget(test, "name")) &&
            !strcmp(sget(p, "placement"), sget(test, "placement")))
            return num(p, "expected_gbps");
    json_array_foreach(json_object_get(a, "collectives"), i, p)
        if (!strcmp(sget(p, "test"), sget(test, "name")) &&
            !strcmp(sget(p, "backend"), sget(test, "backend")) &&
            !strcmp(sget(p, "dtype"), sget(test, "dtype")))
            return num(p, "expected_gbps");
    return NAN;
}

/* The baseline's entry for a run's entry, matched as the gate matches (docs/gate.md): the
 * same name and keys (tb_doc_entry_same, never the position), and the same rank count
 * where both give one (a pair is 2 ranks). NULL: none. */
static const json_t *baseline_entry(const json_t *baseline, const json_t *test)
{
    const json_t *be, *r = json_object_get(json_object_get(test, "params"), "ranks");
    json_int_t ranks = !strcmp(sget(test, "kind"), "p2p") ? 2
                       : json_is_integer(r)               ? json_integer_value(r)
                                                          : -1;
    size_t i;
    json_array_foreach(json_object_get(baseline, "entries"), i, be) {
        const json_t *br = json_object_get(be, "ranks");
        if (tb_doc_entry_same(be, test) &&
            (ranks < 0 || !json_is_integer(br) || json_integer_value(br) == ranks))
            return be;
    }
    return NULL;
}

/* The baseline's figure (the first of `names` it has) for a run's row: the row of the
 * same size and in_place, and redop and root where both rows give them. [size, value,
 * cv or null], or NULL. */
static json_t *baseline_point(const json_t *be, const json_t *row, const char *const *names)
{
    const json_t *br, *f;
    size_t i;
    json_array_foreach(json_object_get(be, "rows"), i, br) {
        int same = json_equal(json_object_get(br, "size"), json_object_get(row, "size")) &&
                   json_is_true(json_object_get(br, "in_place")) ==
                       json_is_true(json_object_get(row, "in_place"));
        for (int k = 0; k < 2; k++) {
            const char *key = k ? "root" : "redop";
            const json_t *x = json_object_get(br, key), *y = json_object_get(row, key);
            same = same && (!x || !y || json_equal(x, y));
        }
        if (!same)
            continue;
        for (; *names; names++)
            if ((f = json_object_get(json_object_get(br, "figures"), *names)))
                return json_pack("[O, o, o]", json_object_get(row, "size"), jnum(num(f, "value")),
                                 jnum(num(f, "cv")));
        return NULL;
    }
    return NULL;
}

/* Per sweep entry (and in-place variant) one series into bw (bandwidth against size,
 * spread from the min and p99 times) or time (mean time with min..p99), each with the
 * baseline's figures at its sizes where `baseline` has the entry. */
static void view_sweeps(const json_t *doc, const json_t *baseline, json_t *bw, json_t *time)
{
    static const char *const bw_figs[] = {"busbw_gbps", "bw_gbps", NULL};
    static const char *const time_figs[] = {"latency_us", NULL};
    const json_t *test, *row, *be;
    size_t i, k;
    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        const json_t *results = json_object_get(test, "results");
        char label[128], name[256];
        if (json_object_get(test, "matrix") || !json_array_size(results))
            continue;
        tb_doc_entry_label(test, label, sizeof(label));
        be = baseline_entry(baseline, test);
        for (int inplace = 0; inplace < 2; inplace++) {
            json_t *s[2] = {json_array(), json_array()}, *b[2] = {json_array(), json_array()}, *bp;
            int any = 0, isbw = 0;
            json_array_foreach(results, k, row) {
                const json_t *t = json_object_get(row, "time_us");
                double y = num(row, "busbw_gbps"), mean = num(t, "mean");
                if (json_is_true(json_object_get(row, "in_place")) != inplace)
                    continue;
                if (!is_finite(y))
                    y = num(row, "bw_gbps");
                any = 1;
                if (is_finite(y)) {
                    isbw = 1;
                    json_array_append_new(s[0], json_pack("[I, o, o, o]",
                        json_integer_value(json_object_get(row, "size")), jnum(y),
                        jnum(y * mean / num(t, "p99")), jnum(y * mean / num(t, "min"))));
                }
                json_array_append_new(s[1], json_pack("[I, o, o, o]",
                    json_integer_value(json_object_get(row, "size")), jnum(mean),
                    jnum(num(t, "min")), jnum(num(t, "p99"))));
                for (int fig = 0; be && fig < 2; fig++)
                    if ((bp = baseline_point(be, row, fig ? time_figs : bw_figs)))
                        json_array_append_new(b[fig], bp);
            }
            if (any) {
                snprintf(name, sizeof(name), "%s%s%s%s%s", sget(test, "name"), label[0] ? " (" : "",
                         label, label[0] ? ")" : "", inplace ? " in-place" : "");
                if (isbw)
                    json_array_append_new(
                        bw, json_pack("{s:s, s:O, s:o, s:O*}", "name", name, "points", s[0],
                                      "expected", jnum(sweep_expected(doc, test)), "baseline",
                                      baseline ? b[0] : NULL));
                if (!isbw || !strcmp(sget(test, "kind"), "collective"))
                    json_array_append_new(time, json_pack("{s:s, s:O, s:O*}", "name", name,
                                                          "points", s[1], "baseline",
                                                          baseline ? b[1] : NULL));
            }
            for (int fig = 0; fig < 2; fig++) {
                json_decref(s[fig]);
                json_decref(b[fig]);
            }
        }
    }
}

/* ---- topology: per node the nvidia-smi style matrix, nodes alike grouped ------------ */

static size_t index_of(const json_t *names, const char *name)
{
    size_t i;
    const json_t *x;
    json_array_foreach(names, i, x)
        if (!strcmp(json_string_value(x), name))
            return i;
    return (size_t)-1;
}

static json_t *topo_matrix(const json_t *topo)
{
    json_t *rows = json_array(), *cols = json_array(), *cells, *nics = json_array(), *o;
    const json_t *p, *obj;
    size_t i, r, c;
    json_array_foreach(json_object_get(topo, "objects"), i, obj) {
        if (!strcmp(sget(obj, "kind"), "gpu"))
            json_array_append_new(rows, json_string(sget(obj, "name")));
        if (!strcmp(sget(obj, "kind"), "nic")) {
            const json_t *port;
            size_t k;
            char text[512];
            int len = snprintf(text, sizeof(text), "%s%s%s%s", sget(obj, "name"),
                               json_object_get(obj, "model") ? " (" : "", sget(obj, "model"),
                               json_object_get(obj, "model") ? ")" : "");
            json_array_foreach(json_object_get(obj, "ports"), k, port)
                if (len > 0 && (size_t)len < sizeof(text))
                    len += snprintf(text + len, sizeof(text) - (size_t)len,
                                    "%s port %lld %s %s %g Gb/s", k ? "," : ":",
                                    (long long)json_integer_value(json_object_get(port, "num")),
                                    sget(port, "state"), sget(port, "link_layer"),
                                    num(port, "rate_gbps"));
            json_array_append_new(nics, json_string(text));
            json_array_append_new(cols, json_string(sget(obj, "name")));
        }
    }
    /* Columns: the GPUs, then the NICs. */
    {
        json_t *all = json_deep_copy(rows);
        json_array_extend(all, cols);
        json_decref(cols);
        cols = all;
    }
    cells = json_array();
    for (r = 0; r < json_array_size(rows); r++) {
        json_t *line = json_array();
        for (c = 0; c < json_array_size(cols); c++)
            json_array_append_new(line, json_string(r == c ? "X" : ""));
        json_array_append_new(cells, line);
    }
    for (int pass = 0; pass < 2; pass++)
        json_array_foreach(json_object_get(topo, pass ? "gpu_nic_paths" : "gpu_pairs"), i, p) {
            char cls[32];
            const char *a = sget(p, "a"), *b = sget(p, "b");
            long long links = json_integer_value(json_object_get(p, "nvlinks"));
            if (!links)
                links = json_integer_value(json_object_get(p, "xgmi_links"));
            snprintf(cls, sizeof(cls), "%s", sget(p, "class"));
            if (links)
                snprintf(cls, sizeof(cls), "%s%lld", sget(p, "class"), links);
            for (int way = 0; way < (pass ? 1 : 2); way++) {
                size_t ra = index_of(rows, way ? b : a), cb = index_of(cols, way ? a : b);
                if (ra < json_array_size(rows) && cb < json_array_size(cols))
                    json_array_set_new(json_array_get(cells, ra), cb, json_string(cls));
            }
        }
    o = json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:I}", "rows", rows, "cols", cols, "cells",
                  cells, "nics", nics, "cpu", sget(topo, "cpu_model"), "source",
                  sget(topo, "source"), "numa", 0);
    {
        json_int_t numa = 0;
        json_array_foreach(json_object_get(topo, "objects"), i, obj)
            numa += !strcmp(sget(obj, "kind"), "numa");
        json_object_set_new(o, "numa", json_integer(numa));
    }
    return o;
}

static void view_topologies(const json_t *doc, json_t *groups, json_t *findings)
{
    const json_t *host, *f, *prev = NULL;
    json_t *index = json_object(), *findex = json_object(), *g = NULL, *fs = json_array(), *e;
    size_t i, k;
    json_array_foreach(json_object_get(doc, "hosts"), i, host) {
        const json_t *topo = json_object_get(host, "topology");
        if (!json_is_object(topo))
            continue;
        /* A node like the one before it (the common case: one node type) joins its group
         * and its findings without rendering its matrix again. */
        if (!prev || !json_equal(topo, prev)) {
            json_t *tm = topo_matrix(topo);
            char *key = json_dumps(tm, JSON_COMPACT | JSON_SORT_KEYS);
            g = NULL;
            if (key && !(g = json_object_get(index, key))) {
                json_object_set_new(tm, "hosts", json_array());
                json_object_set(index, key, tm);
                json_array_append(groups, tm);
                g = tm;
            }
            free(key);
            json_decref(tm);
            /* A node's findings, the same text on many nodes listed once with its nodes. */
            json_array_clear(fs);
            json_array_foreach(json_object_get(topo, "findings"), k, f) {
                json_t *fk = json_pack("[s, s, s, s]", sget(f, "severity"), sget(f, "code"),
                                       sget(f, "object"), sget(f, "message"));
                char *fkey = json_dumps(fk, JSON_COMPACT);
                if (fkey && !(e = json_object_get(findex, fkey))) {
                    e = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "severity", sget(f, "severity"),
                                  "code", sget(f, "code"), "object", sget(f, "object"),
                                  "message", sget(f, "message"), "hosts");
                    json_object_set_new(findex, fkey, e);
                    json_array_append(findings, e);
                }
                if (fkey)
                    json_array_append(fs, e);
                free(fkey);
                json_decref(fk);
            }
            prev = topo;
        }
        if (g)
            json_array_append_new(json_object_get(g, "hosts"), json_string(sget(host, "name")));
        json_array_foreach(fs, k, e)
            json_array_append_new(json_object_get(e, "hosts"), json_string(sget(host, "name")));
    }
    json_decref(fs);
    json_decref(index);
    json_decref(findex);
}

/* ---- the run -------------------------------------------------------------------------- */

static void fact(json_t *facts, const char *name, const char *value)
{
    if (value && value[0])
        json_array_append_new(facts, json_pack("[s, s]", name, value));
}

static void view_run(const json_t *doc, json_t *facts)
{
    const json_t *run = json_object_get(doc, "run"), *v, *host, *rank;
    const char *k;
    char buf[4096];
    size_t i, len = 0, bound = 0;
    static const char *known[] = {"start_time", "end_time", "command_line", "topobench_version",
                                  "git_hash", "build_type", "build", "mpi_library",
                                  "mpi_version", "hwloc_version", "nranks", "nnodes",
                                  "options", NULL};

    snprintf(buf, sizeof(buf), "%s%s, exit status %lld", sget(doc, "status"),
             json_is_true(json_object_get(doc, "complete")) ? "" : " (incomplete: the run did not finish)",
             (long long)json_integer_value(json_object_get(doc, "exit_code")));
    fact(facts, "status", buf);
    fact(facts, "ended by", sget(json_object_get(doc, "ending"), "message"));
    snprintf(buf, sizeof(buf), "%s to %s (UTC)", sget(run, "start_time"), sget(run, "end_time"));
    fact(facts, "when", buf);
    json_array_foreach(json_object_get(doc, "hosts"), i, host) {
        if (i == 32) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, " and %zu more",
                                    json_array_size(json_object_get(doc, "hosts")) - 32);
            break;
        }
        if (len < sizeof(buf) - 600)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "", sget(host, "name"));
    }
    if (len) {
        char head[64];
        snprintf(head, sizeof(head), "hosts (%zu)", json_array_size(json_object_get(doc, "hosts")));
        fact(facts, head, buf);
    }
    json_array_foreach(json_object_get(doc, "ranks"), i, rank)
        bound += json_is_true(json_object_get(rank, "bound"));
    rank = json_array_get(json_object_get(doc, "ranks"), 0);
    snprintf(buf, sizeof(buf), "%zu ranks on %zu node%s; %zu of them bound to cores%s%s%s",
             json_array_size(json_object_get(doc, "ranks")),
             json_array_size(json_object_get(doc, "hosts")),
             json_array_size(json_object_get(doc, "hosts")) == 1 ? "" : "s", bound,
             rank ? " (rank 0: cores " : "", rank ? sget(rank, "cpuset") : "", rank ? ")" : "");
    fact(facts, "ranks, binding", buf);
    snprintf(buf, sizeof(buf), "%s, commit %s, %s build", sget(run, "topobench_version"),
             sget(run, "git_hash"), sget(run, "build_type"));
    fact(facts, "topobench", json_object_get(run, "topobench_version") ? buf : NULL);
    snprintf(buf, sizeof(buf), "%s (MPI %s)", sget(run, "mpi_library"), sget(run, "mpi_version"));
    fact(facts, "MPI", json_object_get(run, "mpi_library") ? buf : NULL);
    fact(facts, "hwloc", sget(run, "hwloc_version"));
    json_object_foreach((json_t *)json_object_get(run, "build"), k, v)
        if (json_is_object(v)) {
            snprintf(buf, sizeof(buf), "%s; %s", json_is_true(json_object_get(v, "compiled")) ? "compiled in" : "not compiled in",
                     sget(v, "detail"));
            fact(facts, k, buf);
        }
    len = 0;
    buf[0] = '\0';
    json_array_foreach(json_object_get(run, "command_line"), i, v)
        if (len < sizeof(buf) - 1)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "topobench ",
                                    json_string_value(v) ? json_string_value(v) : "");
    fact(facts, "command line", buf);
    len = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)json_object_get(run, "options"), k, v) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
        if (s && len < sizeof(buf) - 1)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%s", len ? ", " : "", k, s);
        free(s);
    }
    fact(facts, "options", buf);
    /* Whatever else the run records (environment, the CUDA runtime it loaded, versions of
     * newer writers): an object as key=value pairs; named "at run time" where the build's
     * facts above have the same name. */
    json_object_foreach((json_t *)run, k, v) {
        int skip = 0;
        char name[128];
        for (i = 0; known[i]; i++)
            skip |= !strcmp(k, known[i]);
        if (skip || json_is_null(v))
            continue;
        snprintf(name, sizeof(name), "%s%s", k,
                 json_object_get(json_object_get(run, "build"), k) ? " at run time" : "");
        if (json_is_object(v)) {
            const char *ek;
            json_t *ev;
            len = 0;
            buf[0] = '\0';
            json_object_foreach((json_t *)v, ek, ev) {
                char *s =
                    json_is_string(ev) ? NULL : json_dumps(ev, JSON_ENCODE_ANY | JSON_COMPACT);
                if (len < sizeof(buf) - 1)
                    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%s",
                                            len ? ", " : "", ek, s ? s : json_string_value(ev));
                free(s);
            }
            fact(facts, name, buf);
        } else {
            char *s = json_is_string(v) ? strdup(json_string_value(v))
                                        : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            fact(facts, name, s);
            free(s);
        }
    }
}

/* ---- recommendation files ------------------------------------------------------------- */

/* The texts of the recommendation files (nccl.env, rankfile, Slurm line, wrapper, ...), as
 * report/recommend.c renders them: written into a temporary directory, read back, the
 * temporary path in them (nccl.env names NCCL_TOPO_FILE by absolute path) replaced by
 * `outdir`, where `report`/`run` write the same files. Null without recommendations. */
static json_t *recommend_texts(const json_t *doc, const char *outdir)
{
    static const char *order[] = {"nccl.env", "rankfile", "hostfile", "slurm.txt",
                                  "slurm-hostfile", "topobench-bind.sh", "drain.txt", NULL};
    char tmp[] = "/tmp/tb-report-rec-XXXXXX", abstmp[PATH_MAX], absout[PATH_MAX], path[PATH_MAX + 300];
    json_t *list;
    DIR *d;
    struct dirent *e;
    if (!json_is_object(json_object_get(json_object_get(doc, "analysis"), "recommendations")) ||
        !mkdtemp(tmp))
        return NULL;
    list = json_array();
    if (tb_report_recommend_write(doc, tmp, NULL) == TB_OK && realpath(tmp, abstmp)) {
        if (!realpath(outdir, absout))
            snprintf(absout, sizeof(absout), "%s", outdir);
        for (int pass = 0; pass < 2; pass++)
            for (size_t k = 0; pass ? 1 : order[k] != NULL; k++) {
                const char *name = pass ? NULL : order[k];
                char *text = NULL;
                size_t len;
                if (pass) {
                    /* Then the generated NCCL topologies, in directory order. */
                    if (!(d = opendir(tmp)))
                        break;
                    while ((e = readdir(d)))
                        if (e->d_name[0] != '.') {
                            snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
                            if (tb_file_read(path, &text, &len) == TB_OK)
                                json_array_append_new(list, json_pack("{s:s, s:s%}", "file", e->d_name, "text", text, len));
                            free(text);
                            text = NULL;
                            unlink(path);
                        }
                    closedir(d);
                    break;
                }
                snprintf(path, sizeof(path), "%s/%s", tmp, name);
                if (access(path, R_OK) != 0)
                    continue;
                if (tb_file_read(path, &text, &len) == TB_OK) {
                    /* abstmp -> absout, every occurrence. */
                    size_t lt = strlen(abstmp), lo = strlen(absout), n = 0;
                    char *out, *o, *p;
                    for (p = text; (p = strstr(p, abstmp)); p += lt)
                        n++;
                    if ((out = o = malloc(len + n * lo + 1))) {
                        for (p = text; *p;) {
                            char *hit = strstr(p, abstmp);
                            size_t span = hit ? (size_t)(hit - p) : strlen(p);
                            memcpy(o, p, span);
                            o += span;
                            p += span;
                            if (hit) {
                                memcpy(o, absout, lo);
                                o += lo;
                                p += lt;
                            }
                        }
                        *o = '\0';
                        json_array_append_new(list, json_pack("{s:s, s:s}", "file", name, "text", out));
                        free(out);
                    }
                }
                free(text);
                unlink(path);
            }
    }
    /* Anything left (a failed render): removed. */
    if ((d = opendir(tmp))) {
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(tmp);
    return list;
}

/* ---- the page -------------------------------------------------------------------------- */

/* The view as JSON safe inside <script>: '<', '>', '&' (and U+2028/9 by jansson's
 * ensure-ascii) escaped as \u00XX, which only strings can contain. Written as jansson
 * produces it, chunk by chunk (the 512-node view is 9 MB: no copy of it in memory). */
static int put_chunk(const char *buf, size_t size, void *data)
{
    FILE *out = data;
    for (size_t i = 0, span; i < size; i += span) {
        for (span = 0; i + span < size && buf[i + span] != '<' && buf[i + span] != '>' &&
                       buf[i + span] != '&'; span++)
            ;
        fwrite(buf + i, 1, span, out);
        if (i + span < size) {
            fprintf(out, "\\u%04x", (unsigned)buf[i + span]);
            span++;
        }
    }
    return 0;
}

static int put_json(const json_t *v, FILE *out)
{
    return json_dump_callback(v, put_chunk, out, JSON_COMPACT | JSON_ENSURE_ASCII);
}

void tb_report_html_text(const char *s, FILE *out)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else if (*s == '\'')
            fputs("&#39;", out);
        else
            fputc(*s, out);
    }
}

static tb_status_t view_build(const json_t *doc, const json_t *baseline, const char *docdir,
                              const char *outdir, json_t **view_p);

tb_status_t tb_report_html_view(const json_t *doc, const json_t *baseline, const char *docdir,
                                json_t **view_p)
{
    return view_build(doc, baseline, docdir, docdir, view_p);
}

static tb_status_t view_build(const json_t *doc, const json_t *baseline, const char *docdir,
                              const char *outdir, json_t **view_p)
{
    json_t *view = json_object(), *mats = json_array(), *bw = json_array(), *time = json_array();
    json_t *topos = json_array(), *tfind = json_array(), *facts = json_array();
    const json_t *test, *analysis = json_object_get(doc, "analysis"), *run = json_object_get(doc, "run");
    const char *key;
    json_t *value;
    size_t i;
    tb_status_t st = TB_OK;

    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        const json_t *m = json_object_get(test, "matrix");
        size_t l;
        if (json_is_array(json_object_get(test, "nodes")) &&
            (st = view_node_matrices(test, docdir, mats)))
            goto out;
        if (!json_is_object(m))
            continue;
        json_object_foreach((json_t *)m, key, value) {
            if (!tb_doc_matrix_is(m, key) || ((l = strlen(key)) > 3 && !strcmp(key + l - 3, "_cv")))
                continue;
            if ((st = view_matrix(doc, test, key, docdir, mats)))
                goto out;
        }
    }
    view_sweeps(doc, baseline, bw, time);
    view_topologies(doc, topos, tfind);
    view_run(doc, facts);
    json_object_set_new(view, "title", json_sprintf("topobench report: %s, %zu node%s, %zu rank%s",
                        sget(run, "start_time"), json_array_size(json_object_get(doc, "hosts")),
                        json_array_size(json_object_get(doc, "hosts")) == 1 ? "" : "s",
                        json_array_size(json_object_get(doc, "ranks")),
                        json_array_size(json_object_get(doc, "ranks")) == 1 ? "" : "s"));
    json_object_set_new(view, "facts", facts);
    if (baseline) {
        /* What the sweeps' baseline lines are: the baseline's source, as `check` says it. */
        const json_t *src = json_object_get(baseline, "source");
        json_object_set_new(view, "baseline", json_sprintf("%s (%s%s%s)", sget(src, "file"),
            sget(src, "format"), json_object_get(src, "start_time") ? ", run of " : "",
            sget(src, "start_time")));
    }
    json_object_set_new(view, "status", json_string(sget(doc, "status")));
    json_object_set(view, "complete", json_object_get(doc, "complete") ? json_object_get(doc, "complete") : json_false());
    if (analysis)
        json_object_set_new(view, "analysis", json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}",
            "verdict", json_object_get(analysis, "verdict"), "culprits", json_object_get(analysis, "culprits"),
            "confirm", json_object_get(analysis, "confirm"), "notes", json_object_get(analysis, "notes"),
            "cells_judged", json_object_get(analysis, "cells_judged"),
            "cells_flagged", json_object_get(analysis, "cells_flagged"),
            "recommendations", json_object_get(analysis, "recommendations"),
            "generated", json_object_get(analysis, "generated")));
    {
        json_t *rec = recommend_texts(doc, outdir);
        if (rec)
            json_object_set_new(view, "rec_files", rec);
    }
    json_object_set_new(view, "matrices", mats);
    json_object_set_new(view, "bw", bw);
    json_object_set_new(view, "time", time);
    json_object_set_new(view, "topologies", topos);
    json_object_set_new(view, "node_findings", tfind);
    json_object_set_new(view, "findings", json_object_get(doc, "findings")
                                              ? json_incref(json_object_get(doc, "findings")) : json_array());
    {
        /* Entries with errors, skips or another ending: named in the banner. */
        json_t *problems = json_array();
        json_array_foreach(json_object_get(doc, "tests"), i, test) {
            char label[128];
            tb_doc_entry_label(test, label, sizeof(label));
            if (strcmp(sget(test, "status"), "ok") || json_array_size(json_object_get(test, "errors")))
                json_array_append_new(problems, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name",
                    sget(test, "name"), "label", label, "status", sget(test, "status"),
                    "reason", json_object_get(test, "skip_reason") ? sget(test, "skip_reason")
                              : sget(test, "timeout_message")[0] ? sget(test, "timeout_message")
                              : sget(test, "ending_message"),
                    "errors", (json_int_t)json_array_size(json_object_get(test, "errors"))));
        }
        json_object_set_new(view, "problems", problems);
    }
    *view_p = view;
    return TB_OK;
out:
    json_decref(view);
    json_decref(mats);
    json_decref(bw);
    json_decref(time);
    json_decref(topos);
    json_decref(tfind);
    json_decref(facts);
    return st;
}

tb_status_t tb_report_html_write(const json_t *doc, const json_t *baseline, const char *docdir,
                                 const char *path)
{
    tb_afile_t af;
    json_t *view = NULL;
    tb_status_t st;

    char outdir[4096];
    tb_path_dir(path, outdir, sizeof(outdir));
    if ((st = view_build(doc, baseline, docdir, outdir, &view)))
        return st;
    if ((st = tb_afile_open(&af, path))) {
        json_decref(view);
        return st;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          /* Nothing may be fetched: the file is read from mail, file:// and air-gapped hosts. */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n<title>", af.f);
    tb_report_html_text(json_string_value(json_object_get(view, "title")), af.f);
    fprintf(af.f, "</title>\n<style>\n%s</style>\n</head><body>\n"
            "<noscript><p>This report draws its sections with JavaScript; the same data is in "
            "results.json and the CSV files beside it.</p></noscript>\n"
            "<main id=\"app\"></main>\n<script type=\"application/json\" id=\"tb-data\">",
            tb_html_css);
    put_json(view, af.f);
    fprintf(af.f, "</script>\n<script>\n%s</script>\n</body></html>\n", tb_html_js);
    json_decref(view);
    st= tb_afile_commit(&af);
    return st;
}
