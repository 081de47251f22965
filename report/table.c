/* Terminal tables of one test entry, printed after each test by `run` and for every entry
 * by `topobench report`: nccl-tests' columns for collectives (out-of-place and in-place
 * side by side), OSU's for point-to-point tests, N x N matrices with host:rank labels.
 * Formats are documented in docs/report.md; numbers in the C locale. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

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
static const char *fmt_bw(const json_t *v, char buf[CELL])
{
    double x;
    int decimals = 0;
    if (!json_is_number(v))
        return "-";
    x = json_number_value(v);
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

/* "# name (variant)" without the parentheses when there is no variant. */
static void print_title(const json_t *test, FILE *out)
{
    const char *variant = str_or(test, "variant", "");
    fprintf(out, "# %s", str_or(test, "name", "?"));
    if (variant[0])
        fprintf(out, " (%s)", variant);
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
                str_or(params, "dtype", str_or(test, "variant", "-")), str_or(params, "op", "-"),
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

/* `fmt` formats one cell: fmt_bw for bandwidths, fmt2 for latencies. */
static void print_grid(const json_t *labels, const json_t *cells,
                       const char *(*fmt)(const json_t *, char[CELL]), FILE *out)
{
    size_t n = json_array_size(labels);
    int w = 6;
    char b[CELL];

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
        const json_t *row = json_array_get(cells, i);
        fprintf(out, "%-*s", w, str_at(labels, i));
        for (size_t j = 0; j < n; j++)
            fprintf(out, "  %*s", w, i == j ? "-" : fmt(json_array_get(row, j), b));
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

static void print_matrix(const json_t *test, FILE *out)
{
    const json_t *m = json_object_get(test, "matrix");
    const json_t *labels = json_object_get(m, "labels"), *pairs = json_object_get(m, "pairs");
    char b[3][CELL];
    size_t i;
    const json_t *p;

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
        return;
    }
    fprintf(out, ": %zu ranks, %s-byte messages\n", json_array_size(labels),
            fmt_int(json_object_get(m, "size"), b[0]));
    if (json_is_array(json_object_get(m, "bandwidth_gbps"))) {
        fprintf(out, "# bandwidth in GB/s, row sends to column\n");
        print_grid(labels, json_object_get(m, "bandwidth_gbps"), fmt_bw, out);
    }
    if (json_is_array(json_object_get(m, "latency_us"))) {
        fprintf(out, "# latency in us at 8 bytes (half round trip, row initiates)\n");
        print_grid(labels, json_object_get(m, "latency_us"), fmt2, out);
    }
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
        if (json_is_integer(json_object_get(e, "from_rank")))
            fprintf(out, " from rank %s", fmt_int(json_object_get(e, "from_rank"), b));
        fprintf(out, " offset %s", fmt_int(json_object_get(e, "offset"), b));
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

static void print_entry(const json_t *test, FILE *out)
{
    const char *status = str_or(test, "status", "");
    const char *kind = str_or(test, "kind", "");

    if (!strcmp(status, "skipped")) {
        print_title(test, out);
        fprintf(out, ": skipped: %s\n", str_or(test, "skip_reason", "no reason recorded"));
        return;
    }
    if (json_is_object(json_object_get(test, "matrix")))
        print_matrix(test, out);
    else if (!strcmp(kind, "collective"))
        print_collective(test, out);
    else if (!strcmp(kind, "p2p"))
        print_p2p(test, out);
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
}

void tb_report_table_print(const json_t *test, FILE *out)
{
    /* Numbers in the C locale whatever the program set. */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;

    print_entry(test, out);
    if (c_locale) {
        uselocale(old);
        freelocale(c_locale);
    }
}
