/* Terminal tables of one test entry, printed after each test by `run` and for every entry
 * by `topobench report`: nccl-tests' columns for collectives (out-of-place and in-place
 * side by side), OSU's for point-to-point tests, N x N matrices with host:rank labels up to
 * 64 ranks and, above, per node and worst cells (O(N) lines for N^2 cells). Formats are
 * documented in docs/report.md; numbers in the C locale. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "doc.h"
#include "log.h"
#include "report.h"
#include "table_nccl.h"

#define CELL 32 /* room for one formatted cell */

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

/* Element i of an array of strings, "?" when it is not one. */
static const char *str_at(const json_t *array, size_t i)
{
    const char *s = json_string_value(json_array_get(array, i));
    return s ? s : "?";
}

/* A number with 2 decimals, "-" when absent or not a number. */
static const char *fmt2(const json_t *v, char buf[CELL])
{
    if (!json_is_number(v))
        return "-";
    snprintf(buf, CELL, "%.2f", json_number_value(v));
    return buf;
}

/* A bandwidth with three significant digits and no exponent ("0.0250", "1.04", "23.1",
 * "231"): a 200 Mbit/s link must not read "0.02". "-" when absent or not a number. */
static const char *fmt_bw_d(double x, char buf[CELL])
{
    int decimals = 0;
    if (x != x)
        return "-";
    if (x != 0 && isfinite(x)) {
        /* digits before the point of |x|, then the decimals that make three in all */
        int mag = (int)floor(log10(fabs(x)));
        decimals = mag >= 2 ? 0 : 2 - mag;
        if (decimals > 12)
            decimals = 12;
    }
    snprintf(buf, CELL, "%.*f", decimals, x);
    /* rounding can carry into a new digit (0.09996 -> "0.1000"): one decimal less */
    if (decimals > 0 && x != 0 && fabs(strtod(buf, NULL)) >= pow(10, 3 - decimals))
        snprintf(buf, CELL, "%.*f", decimals - 1, x);
    return buf;
}

static const char *fmt_bw(const json_t *v, char buf[CELL])
{
    return json_is_number(v) ? fmt_bw_d(json_number_value(v), buf) : "-";
}

/* A double with 2 decimals, "-" for NaN (no measurement). */
static const char *fmt2d(double v, char buf[CELL])
{
    if (v != v)
        return "-";
    snprintf(buf, CELL, "%.2f", v);
    return buf;
}

/* The shortest "%g" form that reads back as the same double: an expected and a received
 * value that differ in the 17th digit must not print alike. */
static const char *fmt_exact(double v, char buf[CELL])
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, CELL, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

/* An integer, "-" when absent. */
static const char *fmt_int(const json_t *v, char buf[CELL])
{
    if (!json_is_integer(v))
        return "-";
    snprintf(buf, CELL, "%lld", (long long)json_integer_value(v));
    return buf;
}

static const json_t *time_of(const json_t *row, const char *stat)
{
    return json_object_get(json_object_get(row, "time_us"), stat);
}

/* "# name (label)" (tb_doc_entry_label) without the parentheses when there is no label. */
static void print_title(const json_t *test, FILE *out)
{
    char label[256];
    tb_doc_entry_label(test, label, sizeof(label));
    fprintf(out, "# %s", str_or(test, "name", "?"));
    if (label[0])
        fprintf(out, " (%s)", label);
}

/* ---- collectives: nccl-tests columns, one line per size ---- */

/* The row of `size` and placement, NULL when the document has none. */
static const json_t *coll_row(const json_t *results, json_int_t size, int in_place)
{
    size_t i;
    const json_t *row;
    json_array_foreach(results, i, row) {
        if (json_integer_value(json_object_get(row, "size")) == size &&
            json_is_true(json_object_get(row, "in_place")) == in_place)
            return row;
    }
    return NULL;
}

static void coll_half(const json_t *row, FILE *out)
{
    char b[5][CELL];
    const char *wrong = "-";
    if (row && json_is_false(json_object_get(row, "checked")))
        wrong = "N/A";
    else if (row)
        wrong = fmt_int(json_object_get(row, "wrong"), b[3]);
    fprintf(out, "  %8s  %8s  %8s  %8s  %6s", row ? fmt2(time_of(row, "mean"), b[0]) : "-",
            row ? fmt2(time_of(row, "slowest_rank"), b[4]) : "-",
            row ? fmt_bw(json_object_get(row, "algbw_gbps"), b[1]) : "-",
            row ? fmt_bw(json_object_get(row, "busbw_gbps"), b[2]) : "-", wrong);
}

static void print_collective(const json_t *test, FILE *out)
{
    const json_t *params = json_object_get(test, "params");
    const json_t *results = json_object_get(test, "results"), *row;
    char b[3][CELL];
    size_t i;

    print_title(test, out);
    if (json_is_integer(json_object_get(params, "ranks")))
        fprintf(out, ": %lld ranks",
                (long long)json_integer_value(json_object_get(params, "ranks")));
    fprintf(out, "; size in bytes, time in us, bandwidth in GB/s from avg\n");
    fprintf(out, "# avg: each rank's mean time per operation, averaged over ranks (OSU's Avg "
                 "Latency); slowest: the slowest rank's mean (OSU's Max Latency)\n");
    fprintf(out, "#%51s%48s%48s\n", "", "out-of-place", "in-place");
    fprintf(out, "#%11s  %12s  %8s  %6s  %6s", "size", "count", "type", "redop", "root");
    for (int k = 0; k < 2; k++)
        fprintf(out, "  %8s  %8s  %8s  %8s  %6s", "avg", "slowest", "algbw", "busbw", "#wrong");
    fprintf(out, "\n#%11s  %12s  %8s  %6s  %6s", "(B)", "(elements)", "", "", "");
    fprintf(out, "  %8s  %8s  %8s  %8s  %6s", "(us)", "(us)", "(GB/s)", "(GB/s)", "");
    fprintf(out, "  %8s  %8s  %8s  %8s\n", "(us)", "(us)", "(GB/s)", "(GB/s)"); /* no trailing blanks */
    json_array_foreach(results, i, row) {
        json_int_t size = json_integer_value(json_object_get(row, "size"));
        const json_t *oop = coll_row(results, size, 0), *ip = coll_row(results, size, 1);
        /* One line per size, printed where its first row is. */
        if (row != (oop ? oop : ip))
            continue;
        fprintf(out, "%12lld  %12s  %8s  %6s  %6s", (long long)size,
                fmt_int(json_object_get(row, "count"), b[0]),
                str_or(params, "dtype", str_or(test, "dtype", "-")), str_or(params, "op", "-"),
                fmt_int(json_object_get(params, "root"), b[1]));
        coll_half(oop, out);
        coll_half(ip, out);
        fputc('\n', out);
    }
}

/* ---- point-to-point: OSU columns ---- */

static void print_p2p(const json_t *test, FILE *out)
{
    const json_t *params = json_object_get(test, "params");
    const json_t *results = json_object_get(test, "results"), *row;
    const json_t *pair = json_object_get(params, "pair"), *hosts = json_object_get(params, "hosts");
    char b[5][CELL];
    int is_bw = 0;
    size_t i;

    json_array_foreach(results, i, row) {
        if (json_object_get(row, "bw_gbps"))
            is_bw = 1;
    }
    print_title(test, out);
    if (json_array_size(pair) == 2) {
        fprintf(out, ": ranks %s -> %s", fmt_int(json_array_get(pair, 0), b[0]),
                fmt_int(json_array_get(pair, 1), b[1]));
        if (json_array_size(hosts) == 2)
            fprintf(out, " (%s -> %s)", str_at(hosts, 0), str_at(hosts, 1));
    }
    if (!strcmp(str_or(test, "backend", ""), "verbs")) {
        /* bench/verbs: perftest's figures (the whole loop timed), both bandwidth units. */
        fprintf(out, is_bw ? "; size in bytes, bandwidth in Gb/s (1e9 bits/s, perftest's "
                             "--report_gbits) and GB/s, message rate in Mpps\n"
                           : "; size in bytes, latency in us (half the mean round trip, "
                             "perftest's t_avg)\n");
        fprintf(out, is_bw ? "# %-10s%12s%14s%14s%14s\n" : "# %-10s%12s%14s\n", "Size",
                "Iterations", is_bw ? "BW(Gb/s)" : "t_avg(us)", "BW(GB/s)", "MsgRate(Mpps)");
        json_array_foreach(results, i, row) {
            fprintf(out, "%-12s%12s", fmt_int(json_object_get(row, "size"), b[0]),
                    fmt_int(json_object_get(row, "iterations"), b[1]));
            if (is_bw)
                fprintf(out, "%14s%14s%14s\n", fmt2(json_object_get(row, "bw_gbit"), b[2]),
                        fmt_bw(json_object_get(row, "bw_gbps"), b[3]),
                        fmt2(json_object_get(row, "msg_rate_mpps"), b[4]));
            else
                fprintf(out, "%14s\n", fmt2(time_of(row, "mean"), b[2]));
        }
        return;
    }
    if (is_bw) {
        fprintf(out, "; size in bytes, bandwidth in GB/s from the mean time per window "
                     "(OSU's)\n");
        fprintf(out, "# %-10s%18s\n", "Size", "Bandwidth(GB/s)");
        json_array_foreach(results, i, row) {
            fprintf(out, "%-12s%18s\n", fmt_int(json_object_get(row, "size"), b[0]),
                    fmt_bw(json_object_get(row, "bw_gbps"), b[1]));
        }
        return;
    }
    fprintf(out, "; size in bytes, latency in us (half round trip; Avg is the mean, OSU's)\n");
    fprintf(out, "# %-10s%18s%12s%12s%12s\n", "Size", "Avg Latency(us)", "Min(us)",
            "Median(us)", "P99(us)");
    json_array_foreach(results, i, row) {
        fprintf(out, "%-12s%18s%12s%12s%12s\n", fmt_int(json_object_get(row, "size"), b[0]),
                fmt2(time_of(row, "mean"), b[1]), fmt2(time_of(row, "min"), b[2]),
                fmt2(time_of(row, "median"), b[3]), fmt2(time_of(row, "p99"), b[4]));
    }
}

/* ---- matrices ---- */

/* `fmt` formats one cell: fmt_bw_d for bandwidths, fmt2d for latencies; with `spread`
 * (n x n), each cell is followed by its spread as a percentage: "1.23 (4%)". */
static void print_grid(const json_t *labels, const double *cells, const double *spread,
                       size_t n, const char *(*fmt)(double, char[CELL]), FILE *out)
{
    int w = spread ? 11 : 6;
    char b[CELL], cell[2 * CELL];

    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(str_at(labels, i));
        if (len > w)
            w = len;
    }
    fprintf(out, "%-*s", w, "#");
    for (size_t j = 0; j < n; j++)
        fprintf(out, "  %*s", w, str_at(labels, j));
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%-*s", w, str_at(labels, i));
        for (size_t j = 0; j < n; j++) {
            double x = cells[i * n + j], sp = spread ? spread[i * n + j] : NAN;
            if (i == j || x != x)
                snprintf(cell, sizeof(cell), "-");
            else if (sp == sp)
                snprintf(cell, sizeof(cell), "%s (%.0f%%)", fmt(x, b), 100 * sp);
            else
                snprintf(cell, sizeof(cell), "%s", fmt(x, b));
            fprintf(out, "  %*s", w, cell);
        }
        fputc('\n', out);
    }
}

/* "a (host) -> b (host)" of an isolated pair; the hosts when the document has them. */
static void pair_label(const json_t *p, char *buf, size_t len)
{
    char b[2][CELL];
    const char *ha = json_string_value(json_object_get(p, "a_host"));
    const char *hb = json_string_value(json_object_get(p, "b_host"));
    if (ha && hb)
        snprintf(buf, len, "%s (%s) -> %s (%s)", fmt_int(json_object_get(p, "a"), b[0]), ha,
                 fmt_int(json_object_get(p, "b"), b[1]), hb);
    else
        snprintf(buf, len, "%s -> %s", fmt_int(json_object_get(p, "a"), b[0]),
                 fmt_int(json_object_get(p, "b"), b[1]));
}

/* ---- large matrices: per node and worst cells ---- */

#define WORST_CELLS 10
#define NODE_LINES 16

typedef struct {
    const char *host; /* label's host part, borrowed from `hosts` */
    size_t ranks;
    double send_med, send_worst, recv_med, recv_worst; /* NaN: no cell */
} node_agg_t;

/* The host part of label i ("host:rank"), written into hosts + i * TB_HOSTBUF. */
#define TB_HOSTBUF 128

static int worse(double a, double b, int low_is_bad)
{
    return low_is_bad ? a < b : a > b;
}

/* The worse of a node's send and receive medians (NaN when it has neither). */
static double node_key(const node_agg_t *a, int low_is_bad)
{
    if (a->send_med != a->send_med)
        return a->recv_med;
    if (a->recv_med != a->recv_med)
        return a->send_med;
    return worse(a->send_med, a->recv_med, low_is_bad) ? a->send_med : a->recv_med;
}

/* Worst first; nodes without cells last. */
static int cmp_nodes(const void *pa, const void *pb, int low_is_bad)
{
    double x = node_key(pa, low_is_bad), y = node_key(pb, low_is_bad);
    if (x != x || y != y)
        return (x != x) - (y != y);
    return worse(x, y, low_is_bad) ? -1 : worse(y, x, low_is_bad) ? 1 : 0;
}
static int cmp_nodes_low(const void *a, const void *b)
{
    return cmp_nodes(a, b, 1);
}
static int cmp_nodes_high(const void *a, const void *b)
{
    return cmp_nodes(a, b, 0);
}

/* Aggregated view of a matrix too large to print as a grid. Per node: the median over
 * its ranks of each rank's mean cell as sender (row) and as receiver (column), and its
 * worst cell each way; nodes sorted worst first. Then the worst cells of the matrix.
 * O(N^2) time, O(N) memory besides the cells; `cells` is consumed (reordered) at the end
 * for the overall median. */
static void print_aggregate(const json_t *labels, double *cells, size_t n, int low_is_bad,
                            const char *unit, const char *(*fmt)(double, char[CELL]), FILE *out)
{
    char *hosts = calloc(n ? n : 1, TB_HOSTBUF);
    size_t *node_of = calloc(n ? n : 1, sizeof(size_t));
    double *row_mean = calloc(n ? n : 1, sizeof(double)), *col_mean = calloc(n ? n : 1, sizeof(double));
    double *scratch = calloc(n ? n : 1, sizeof(double));
    size_t *col_cnt = calloc(n ? n : 1, sizeof(size_t));
    node_agg_t *nodes = calloc(n ? n : 1, sizeof(node_agg_t));
    struct {
        double v;
        size_t i, j;
    } worst[WORST_CELLS];
    size_t nworst = 0, nnodes = 0, count;
    char b[4][CELL];

    if (!hosts || !node_of || !row_mean || !col_mean || !scratch || !col_cnt || !nodes) {
        fprintf(out, "# (out of memory for the per-node view)\n");
        goto out;
    }
    /* Nodes in order of first appearance; labels of one host are usually adjacent, so
     * the previous node is tried first, then a scan (O(N x nodes) only for shuffled
     * labels). */
    for (size_t i = 0; i < n; i++) {
        const char *label = str_at(labels, i), *colon = strrchr(label, ':');
        size_t len = colon ? (size_t)(colon - label) : strlen(label), k;
        char *h = hosts + i * TB_HOSTBUF;
        snprintf(h, TB_HOSTBUF, "%.*s", (int)(len < TB_HOSTBUF ? len : TB_HOSTBUF - 1), label);
        if (nnodes && !strcmp(nodes[nnodes - 1].host, h))
            k = nnodes - 1;
        else
            for (k = 0; k < nnodes && strcmp(nodes[k].host, h) != 0; k++)
                ;
        if (k == nnodes) {
            nodes[k].host = h;
            nnodes++;
        }
        nodes[k].ranks++;
        node_of[i] = k;
    }
    for (size_t k = 0; k < nnodes; k++)
        nodes[k].send_worst = nodes[k].recv_worst = NAN;
    /* One pass in memory order: each rank's mean cell as sender (row) and as receiver
     * (column), every node's worst cell each way, the worst cells overall. Means, not
     * medians, per rank: O(1) per cell, where 2 x N selections of N cells made the
     * table slower than everything else report does at 4,096 ranks. */
    for (size_t i = 0; i < n; i++) {
        node_agg_t *snd = &nodes[node_of[i]];
        double sum = 0;
        size_t c = 0;
        for (size_t j = 0; j < n; j++) {
            double x = cells[i * n + j];
            node_agg_t *rcv = &nodes[node_of[j]];
            if (i == j || x != x)
                continue;
            sum += x;
            c++;
            col_mean[j] += x;
            col_cnt[j]++;
            if (snd->send_worst != snd->send_worst || worse(x, snd->send_worst, low_is_bad))
                snd->send_worst = x;
            if (rcv->recv_worst != rcv->recv_worst || worse(x, rcv->recv_worst, low_is_bad))
                rcv->recv_worst = x;
            if (nworst < WORST_CELLS || worse(x, worst[nworst - 1].v, low_is_bad)) {
                size_t at = nworst < WORST_CELLS ? nworst++ : WORST_CELLS - 1;
                while (at > 0 && worse(x, worst[at - 1].v, low_is_bad)) {
                    worst[at] = worst[at - 1];
                    at--;
                }
                worst[at].v = x;
                worst[at].i = i;
                worst[at].j = j;
            }
        }
        row_mean[i] = c ? sum / (double)c : NAN;
    }
    for (size_t j = 0; j < n; j++)
        col_mean[j] = col_cnt[j] ? col_mean[j] / (double)col_cnt[j] : NAN;
    for (size_t k = 0; k < nnodes; k++) {
        size_t c = 0, r = 0;
        for (size_t i = 0; i < n; i++)
            if (node_of[i] == k && row_mean[i] == row_mean[i])
                scratch[c++] = row_mean[i];
        nodes[k].send_med = c ? tb_stats_median_select(scratch, c) : NAN;
        for (size_t i = 0; i < n; i++)
            if (node_of[i] == k && col_mean[i] == col_mean[i])
                scratch[r++] = col_mean[i];
        nodes[k].recv_med = r ? tb_stats_median_select(scratch, r) : NAN;
    }
    count = tb_cells_compact(cells, n);
    fprintf(out, "# %zu x %zu cells (too many to print; every cell is in the CSV or NPY file)"
                 ": median %s%s%s over %zu measured cells\n",
            n, n, fmt(count ? tb_stats_median_select(cells, count) : NAN, b[0]), unit[0] ? " " : "",
            unit, count);
    qsort(nodes, nnodes, sizeof(nodes[0]), low_is_bad ? cmp_nodes_low : cmp_nodes_high);
    fprintf(out, "# per node, worst first: a rank's mean cell as sender (row) and receiver "
                 "(column), the median of those over the node's ranks, and the node's worst "
                 "cell\n");
    fprintf(out, "# %-22s %6s %12s %12s %12s %12s\n", "node", "ranks", "send_median",
            "send_worst", "recv_median", "recv_worst");
    for (size_t k = 0; k < nnodes && k < NODE_LINES; k++)
        fprintf(out, "%-24s %6zu %12s %12s %12s %12s\n", nodes[k].host, nodes[k].ranks,
                fmt(nodes[k].send_med, b[0]), fmt(nodes[k].send_worst, b[1]),
                fmt(nodes[k].recv_med, b[2]), fmt(nodes[k].recv_worst, b[3]));
    if (nnodes > NODE_LINES)
        fprintf(out, "# ... %zu more nodes, none worse than those above\n", nnodes - NODE_LINES);
    fprintf(out, "# %zu worst cells (row sends to column)\n", nworst);
    for (size_t w = 0; w < nworst; w++)
        fprintf(out, "%-24s -> %-24s %12s\n", str_at(labels, worst[w].i),
                str_at(labels, worst[w].j), fmt(worst[w].v, b[0]));
out:
    free(hosts);
    free(node_of);
    free(row_mean);
    free(col_mean);
    free(scratch);
    free(col_cnt);
    free(nodes);
}

/* One matrix of an entry: the grid (each cell with its spread from m[spread_key] when
 * that is given and present), or the aggregate above TB_REPORT_GRID_MAX ranks. */
static tb_status_t print_one_matrix(const json_t *m, const char *key, const char *spread_key,
                                    const char *docdir, const char *where, const char *title,
                                    int low_is_bad, const char *unit,
                                    const char *(*fmt)(double, char[CELL]), FILE *out)
{
    double *cells = NULL, *spread = NULL;
    size_t n = 0, ns = 0;
    tb_status_t st = tb_doc_matrix_get(m, key, docdir, where, &cells, &n);
    if (st) {
        fprintf(out, "# %s: not readable (see the message above)\n", key);
        return st;
    }
    if (!cells)
        return TB_OK;
    if (spread_key && n <= TB_REPORT_GRID_MAX &&
        (st = tb_doc_matrix_get(m, spread_key, docdir, where, &spread, &ns)) == TB_OK &&
        ns != n) {
        free(spread);
        spread = NULL;
    }
    fprintf(out, "# %s\n", title);
    if (n <= TB_REPORT_GRID_MAX)
        print_grid(json_object_get(m, "labels"), cells, spread, n, fmt, out);
    else
        print_aggregate(json_object_get(m, "labels"), cells, n, low_is_bad, unit, fmt, out);
    free(cells);
    free(spread);
    return st;
}

/* What one matrix holds, for its heading line. */
static void matrix_title(const char *key, char *buf, size_t len)
{
    static const struct {
        const char *key, *title;
    } known[] = {
        {"bandwidth_gbps", "bandwidth in GB/s, row sends to column"},
        {"recv_gbps", "bandwidth in GB/s timed at the receiver, row sends to column"},
        {"send_gbps", "bandwidth in GB/s timed at the sender, row sends to column"},
        {"recv_cv", "spread (cv) of the receive times, row sends to column"},
        {"send_cv", "spread (cv) of the send times, row sends to column"},
        {"latency_us", "latency in us at 8 bytes (half round trip, row initiates)"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(key, known[i].key)) {
            snprintf(buf, len, "%s", known[i].title);
            return;
        }
    snprintf(buf, len, "%s, row to column", key);
}

static tb_status_t print_matrix(const json_t *test, const char *docdir, FILE *out)
{
    const json_t *m = json_object_get(test, "matrix");
    const json_t *labels = json_object_get(m, "labels"), *pairs = json_object_get(m, "pairs");
    char b[3][CELL], where[128];
    size_t i;
    const json_t *p, *v;
    const char *key;
    tb_status_t st, one;

    print_title(test, out);
    if (json_is_array(pairs)) {
        fprintf(out, ": %zu pairs, %s-byte messages; bandwidth in GB/s, latency in us\n",
                json_array_size(pairs), fmt_int(json_object_get(m, "size"), b[0]));
        fprintf(out, "# %-30s%18s%14s\n", "Pair (host)", "Bandwidth(GB/s)", "Latency(us)");
        json_array_foreach(pairs, i, p) {
            char pair[4 * CELL + 16];
            pair_label(p, pair, sizeof(pair));
            fprintf(out, "%-32s%18s", pair, fmt_bw(json_object_get(p, "bw_gbps"), b[2]));
            fprintf(out, "%14s\n", fmt2(json_object_get(p, "latency_us"), b[2]));
        }
        return TB_OK;
    }
    fprintf(out, ": %zu ranks, %s-byte messages", json_array_size(labels),
            fmt_int(json_object_get(m, "size"), b[0]));
    if (json_is_integer(json_object_get(m, "window")))
        fprintf(out, ", a window of %s per pair and repetition",
                fmt_int(json_object_get(m, "window"), b[0]));
    fputc('\n', out);
    snprintf(where, sizeof(where), "%s", str_or(test, "name", "?"));
    /* Every matrix of the entry, in document order; a *_cv matrix is printed beside the
     * bandwidths it is the spread of. */
    st = TB_OK;
    json_object_foreach((json_t *)m, key, v) {
        char title[200], spread_key[64];
        size_t klen = strlen(key);
        int gbps = klen > 5 && !strcmp(key + klen - 5, "_gbps"), spread = 0;
        if (!strcmp(key, "labels") || !strcmp(key, "ranks") || !strcmp(key, "pairs") ||
            !tb_doc_matrix_is(m, key))
            continue;
        if (klen > 3 && !strcmp(key + klen - 3, "_cv")) {
            snprintf(spread_key, sizeof(spread_key), "%.*s_gbps", (int)(klen - 3), key);
            if (tb_doc_matrix_is(m, spread_key))
                continue;
        }
        if (gbps) {
            snprintf(spread_key, sizeof(spread_key), "%.*s_cv", (int)(klen - 5), key);
            spread = tb_doc_matrix_is(m, spread_key);
        }
        matrix_title(key, title, sizeof(title));
        if (spread)
            snprintf(title + strlen(title), sizeof(title) - strlen(title),
                     "; (n%%) = spread over repetitions (cv)");
        one = print_one_matrix(m, key, spread ? spread_key : NULL, docdir, where, title, gbps,
                               gbps ? "GB/s" : "", gbps ? fmt_bw_d : fmt2d, out);
        if (one && !st)
            st = one;
    }
    return st;
}

/* ---- gpu_copy: each node's copy matrices over its endpoints ---- */

/* Endpoint indices of one kind ("numa", "gpu") of a gpu_copy node, in document order. */
static size_t copy_endpoints(const json_t *node, const char *kind, size_t *idx, size_t cap)
{
    const json_t *e;
    size_t i, k = 0;
    json_array_foreach(json_object_get(node, "endpoints"), i, e) {
        if (k < cap && !strcmp(str_or(e, "kind", ""), kind))
            idx[k++] = i;
    }
    return k;
}

/* rows x cols of the n x n `cells` (NaN: "-"); `transpose` reads cell [col][row]. */
static void copy_grid(const json_t *labels, const double *cells, size_t n, const size_t *rows,
                      size_t nr, const size_t *cols, size_t nc, int transpose, FILE *out)
{
    int w = 7;
    char b[CELL];
    for (size_t k = 0; k < nr + nc; k++) {
        int len = (int)strlen(str_at(labels, k < nr ? rows[k] : cols[k - nr]));
        if (len > w)
            w = len;
    }
    fprintf(out, "%-*s", w, "#");
    for (size_t j = 0; j < nc; j++)
        fprintf(out, "  %*s", w, str_at(labels, cols[j]));
    fputc('\n', out);
    for (size_t i = 0; i < nr; i++) {
        fprintf(out, "%-*s", w, str_at(labels, rows[i]));
        for (size_t j = 0; j < nc; j++) {
            double x = transpose ? cells[cols[j] * n + rows[i]] : cells[rows[i] * n + cols[j]];
            fprintf(out, "  %*s", w, fmt_bw_d(x, b));
        }
        fputc('\n', out);
    }
}

/* Path classes of the node's endpoints (rows) to its GPUs (columns). */
static void copy_paths(const json_t *node, const size_t *rows, size_t nr, const size_t *cols,
                       size_t nc, FILE *out)
{
    const json_t *labels = json_object_get(node, "labels"), *paths = json_object_get(node, "paths");
    int w = 7;
    if (!json_is_object(paths))
        return;
    fprintf(out, "# path classes from the node's topology (nvidia-smi topo -m vocabulary)\n");
    fprintf(out, "%-*s", w, "#");
    for (size_t j = 0; j < nc; j++)
        fprintf(out, "  %*s", w, str_at(labels, cols[j]));
    fputc('\n', out);
    for (size_t i = 0; i < nr; i++) {
        const json_t *row = json_object_get(paths, str_at(labels, rows[i]));
        fprintf(out, "%-*s", w, str_at(labels, rows[i]));
        for (size_t j = 0; j < nc; j++)
            fprintf(out, "  %*s", w, str_or(row, str_at(labels, cols[j]), "-"));
        fputc('\n', out);
    }
}

/* Per kind of copy and path class: cells, median, expected (the link table's typically
 * achieved figure for the path) and their ratio. */
static void copy_summary(const json_t *node, const double *copy, const double *bidir,
                         const double *expected, size_t n, FILE *out)
{
    enum { MAXG = 48 };
    struct {
        char what[20], cls[16];
        double v[256], e[256];
        size_t c, ce;
    } *g = calloc(MAXG, sizeof(*g));
    const json_t *eps = json_object_get(node, "endpoints"), *labels = json_object_get(node, "labels");
    const json_t *paths = json_object_get(node, "paths");
    size_t ng = 0;
    char b[3][CELL];
    if (!g)
        return;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (int m = 0; m < 2; m++) {
                const double *cells = m ? bidir : copy;
                int gi = !strcmp(str_or(json_array_get(eps, i), "kind", ""), "gpu");
                int gj = !strcmp(str_or(json_array_get(eps, j), "kind", ""), "gpu");
                const char *what = m  ? "both ways"
                                   : !gi ? "host->device"
                                   : !gj ? "device->host"
                                   : i == j ? "local"
                                            : "device->device";
                const char *cls = str_or(json_object_get(paths, str_at(labels, i)),
                                         str_at(labels, j), "?");
                size_t k;
                if (!cells || cells[i * n + j] != cells[i * n + j])
                    continue;
                for (k = 0; k < ng; k++)
                    if (!strcmp(g[k].what, what) && !strcmp(g[k].cls, cls))
                        break;
                if (k == ng && ng == MAXG)
                    continue;
                if (k == ng) {
                    snprintf(g[k].what, sizeof(g[k].what), "%s", what);
                    snprintf(g[k].cls, sizeof(g[k].cls), "%s", cls);
                    ng++;
                }
                if (g[k].c < 256)
                    g[k].v[g[k].c++] = cells[i * n + j];
                if (expected && expected[i * n + j] == expected[i * n + j] && g[k].ce < 256)
                    g[k].e[g[k].ce++] = expected[i * n + j];
            }
    fprintf(out, "# %-16s%8s%7s%14s%16s%7s\n", "copy", "path", "cells", "median GB/s",
            "expected GB/s", "ratio");
    for (size_t k = 0; k < ng; k++) {
        double med = tb_stats_median_select(g[k].v, g[k].c);
        double exp = g[k].ce ? tb_stats_median_select(g[k].e, g[k].ce) : NAN;
        fprintf(out, "  %-16s%8s%7zu%14s%16s%7s\n", g[k].what, g[k].cls, g[k].c,
                fmt_bw_d(med, b[0]), fmt_bw_d(exp, b[1]),
                exp == exp && exp > 0 ? fmt2d(med / exp, b[2]) : "-");
    }
    free(g);
}

static tb_status_t print_copy_node(const json_t *node, const char *docdir, const char *where,
                                   FILE *out)
{
    static const char *const keys[] = {"copy_gbps", "bidir_gbps", "expected_gbps", "peer_access"};
    const json_t *labels = json_object_get(node, "labels"), *x;
    double *m[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0, numa[64], gpu[64], nn, ng, i;
    tb_status_t st = TB_OK;
    char b[CELL];

    fprintf(out, "## %s (rank %s)", str_or(node, "host", "?"), fmt_int(json_object_get(node, "rank"), b));
    if (strcmp(str_or(node, "status", ""), "ok") != 0) {
        fprintf(out, ": %s: %s\n", str_or(node, "status", "?"),
                str_or(node, "skip_reason", "no reason recorded"));
        return TB_OK;
    }
    for (size_t k = 0; k < 4 && st == TB_OK; k++) {
        size_t nk = 0;
        st = tb_doc_matrix_get(node, keys[k], docdir, where, &m[k], &nk);
        if (st == TB_OK && m[k] && n && nk != n)
            st = tb_error(TB_ERR_INPUT, "%s: %s is %zu x %zu, not %zu x %zu", where, keys[k], nk,
                          nk, n, n);
        if (m[k])
            n = nk;
    }
    nn = copy_endpoints(node, "numa", numa, 64);
    ng = copy_endpoints(node, "gpu", gpu, 64);
    if (st != TB_OK || !m[0] || nn + ng != n || n != json_array_size(labels)) {
        fprintf(out, ": matrices not readable\n");
        goto out;
    }
    fprintf(out, ": %zu NUMA node%s, %zu GPU%s", nn, nn == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
    if (json_is_number(json_object_get(node, "elapsed_s")))
        fprintf(out, ", %s s", fmt2(json_object_get(node, "elapsed_s"), b));
    fputc('\n', out);
    fprintf(out, "# host -> device, GB/s: pinned memory on the row's NUMA node to the column's GPU\n");
    copy_grid(labels, m[0], n, numa, nn, gpu, ng, 0, out);
    fprintf(out, "# device -> host, GB/s: the column's GPU to pinned memory on the row's NUMA node\n");
    copy_grid(labels, m[0], n, numa, nn, gpu, ng, 1, out);
    fprintf(out, "# device -> device, one way, GB/s: row copies to column; diagonal: "
                 "device-local copy\n");
    copy_grid(labels, m[0], n, gpu, ng, gpu, ng, 0, out);
    if (m[1] && ng > 1) {
        fprintf(out, "# device <-> device, both ways at once, GB/s: row -> column while "
                     "column -> row runs (their sum: nvbandwidth's total)\n");
        copy_grid(labels, m[1], n, gpu, ng, gpu, ng, 0, out);
    }
    {
        size_t rows[128];
        memcpy(rows, numa, nn * sizeof(*rows));
        memcpy(rows + nn, gpu, ng * sizeof(*rows));
        copy_paths(node, rows, nn + ng, gpu, ng, out);
    }
    copy_summary(node, m[0], m[1], m[2], n, out);
    for (size_t a = 0; m[3] && a < ng; a++)
        for (size_t c = 0; c < ng; c++)
            if (m[3][gpu[a] * n + gpu[c]] == 0)
                fprintf(out, "# no peer access %s -> %s: the runtime copied through host memory\n",
                        str_at(labels, gpu[a]), str_at(labels, gpu[c]));
    json_array_foreach(json_object_get(node, "notes"), i, x) {
        if (json_is_string(x) && !strstr(json_string_value(x), "no peer access"))
            fprintf(out, "# note: %s\n", json_string_value(x));
    }
out:
    for (size_t k = 0; k < 4; k++)
        free(m[k]);
    return st;
}

static tb_status_t print_gpu_copy(const json_t *test, const char *docdir, FILE *out)
{
    const json_t *params = json_object_get(test, "params"), *node;
    char b[3][CELL], where[160];
    size_t i;
    tb_status_t st = TB_OK, one;
    print_title(test, out);
    fprintf(out, ": %zu node%s, %s-byte copies, batches of %s, the median of %s batches; "
                 "GB/s = 1e9 bytes/s\n",
            json_array_size(json_object_get(test, "nodes")),
            json_array_size(json_object_get(test, "nodes")) == 1 ? "" : "s",
            fmt_int(json_object_get(params, "size"), b[0]),
            fmt_int(json_object_get(params, "batch"), b[1]),
            fmt_int(json_object_get(params, "samples"), b[2]));
    json_array_foreach(json_object_get(test, "nodes"), i, node) {
        snprintf(where, sizeof(where), "%s nodes[%zu]", str_or(test, "name", "?"), i);
        one = print_copy_node(node, docdir, where, out);
        if (one && !st)
            st = one;
    }
    return st;
}

/* ---- errors and status ---- */

static void print_errors(const json_t *errors, FILE *out)
{
    size_t i;
    const json_t *e;

    if (!json_array_size(errors))
        return;
    fprintf(out, "# %zu data error%s:\n", json_array_size(errors),
            json_array_size(errors) == 1 ? "" : "s");
    json_array_foreach(errors, i, e) {
        char b[CELL];
        fprintf(out, "#   size %s", fmt_int(json_object_get(e, "size"), b));
        if (json_is_true(json_object_get(e, "in_place")))
            fprintf(out, " in-place");
        fprintf(out, " rank %s", fmt_int(json_object_get(e, "rank"), b));
        if (json_is_string(json_object_get(e, "host")))
            fprintf(out, " (%s)", str_or(e, "host", ""));
        if (json_is_string(json_object_get(e, "measurement")))
            fprintf(out, " %s", str_or(e, "measurement", ""));
        if (json_is_integer(json_object_get(e, "from_rank")))
            fprintf(out, " from rank %s", fmt_int(json_object_get(e, "from_rank"), b));
        if (json_is_string(json_object_get(e, "from")) && json_is_string(json_object_get(e, "to")))
            fprintf(out, " %s -> %s", str_or(e, "from", ""), str_or(e, "to", ""));
        if (json_is_integer(json_object_get(e, "round")))
            fprintf(out, " round %s", fmt_int(json_object_get(e, "round"), b));
        if (json_object_get(e, "offset"))
            fprintf(out, " offset %s", fmt_int(json_object_get(e, "offset"), b));
        if (json_is_string(json_object_get(e, "error")))
            fprintf(out, ": %s", str_or(e, "error", ""));
        if (json_is_integer(json_object_get(e, "wrong")))
            fprintf(out, ": %s wrong", fmt_int(json_object_get(e, "wrong"), b));
        if (json_is_number(json_object_get(e, "expected")))
            fprintf(out, ", expected %s",
                    fmt_exact(json_number_value(json_object_get(e, "expected")), b));
        if (json_is_number(json_object_get(e, "got")))
            fprintf(out, ", got %s", fmt_exact(json_number_value(json_object_get(e, "got")), b));
        if (json_is_integer(json_object_get(e, "iteration")))
            fprintf(out, " (iteration %s)", fmt_int(json_object_get(e, "iteration"), b));
        fputc('\n', out);
    }
}

/* The gdr test's verdicts (bench/verbs): one line per node and GPU-NIC pair, then the
 * reasons and warnings that go with it. */
static void print_gdr(const json_t *test, FILE *out)
{
    const json_t *v, *r;
    size_t i, k;
    print_title(test, out);
    fprintf(out, ": GPUDirect RDMA per node (bandwidth in GB/s)\n");
    json_array_foreach(json_object_get(test, "verdicts"), i, v) {
        fprintf(out, "%s %s <-> %s (%s): %s\n", str_or(v, "host", "?"), str_or(v, "gpu", "no GPU"),
                str_or(v, "nic", "no NIC"), str_or(v, "path", "path unknown"),
                str_or(v, "line", ""));
        json_array_foreach(json_object_get(v, "reasons"), k, r)
            fprintf(out, "    %s: %s\n", str_or(r, "code", ""), str_or(r, "text", ""));
    }
}

static tb_status_t print_entry(const json_t *test, const char *docdir, FILE *out)
{
    const char *status = str_or(test, "status", "");
    const char *kind = str_or(test, "kind", "");
    tb_status_t st = TB_OK;

    if (!strcmp(status, "skipped")) {
        print_title(test, out);
        fprintf(out, ": skipped: %s\n", str_or(test, "skip_reason", "no reason recorded"));
        return TB_OK;
    }
    if (json_is_object(json_object_get(test, "matrix")))
        st = print_matrix(test, docdir, out);
    else if (json_is_array(json_object_get(test, "nodes")))
        st = print_gpu_copy(test, docdir, out);
    else if (!strcmp(kind, "collective") && !strcmp(str_or(test, "backend", ""), "nccl"))
        tb_report_nccl_table(test, out);
    else if (!strcmp(kind, "collective"))
        print_collective(test, out);
    else if (!strcmp(kind, "p2p"))
        print_p2p(test, out);
    else if (!strcmp(kind, "gdr"))
        print_gdr(test, out);
    else if (!strcmp(kind, "matrix")) {
        print_title(test, out);
        fprintf(out, ": no matrix recorded\n");
    } else {
        print_title(test, out);
        fprintf(out, ": kind '%s' has no table\n", kind);
    }
    print_errors(json_object_get(test, "errors"), out);
    if (status[0] && strcmp(status, "ok") != 0) {
        fprintf(out, "# status: %s", status);
        if (json_is_string(json_object_get(test, "timeout_message")))
            fprintf(out, ": %s", str_or(test, "timeout_message", ""));
        fputc('\n', out);
    }
    return st;
}

tb_status_t tb_report_table_print(const json_t *test, const char *docdir, FILE *out)
{
    /* Numbers in the C locale whatever the program set. */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;

    tb_status_t st = print_entry(test, docdir, out);
    if (c_locale) {
        uselocale(old);
        freelocale(c_locale);
    }
    return st;
}
