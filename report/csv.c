/* CSV files rendered from the results document: one file per test entry (one row per
 * measurement), long-form bandwidth and latency matrices, the isolated pairs, and
 * summary.csv with one row per entry. Columns and units are documented in docs/report.md.
 *
 * Fields are quoted as RFC 4180 says (only when they hold a comma, quote or line break);
 * numbers are printed with "%.9g" (measurements keep every meaningful digit, and no
 * binary noise) in the C locale whatever the caller's locale is. A text field that a
 * spreadsheet would run as a formula (first character = + - @, tab or carriage return)
 * gets a leading apostrophe (OWASP's advice against CSV injection); numbers never do.
 * Every file is written to a temporary name and renamed into place, like results.json. */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cells.h"
#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"

/* A results[] key (or time_us sub-key) and the CSV column it becomes. Order here is the
 * column order; keys this table does not know are appended after it, named as in the
 * document, in the order they first appear. */
typedef struct {
    const char *key;
    const char *sub; /* member of the object at `key`, or NULL */
    const char *column;
} csv_col_t;

static const csv_col_t known_cols[] = {
    {"size", NULL, "size_bytes"},
    {"count", NULL, "count"},
    {"in_place", NULL, "in_place"},
    {"iterations", NULL, "iterations"},
    {"samples", NULL, "samples"},
    {"batch", NULL, "batch"},
    {"warmup", NULL, "warmup"},
    /* the headline first (OSU's mean), then the extras under their own names */
    {"time_us", "mean", "time_mean_us"},
    {"time_us", "min", "time_min_us"},
    {"time_us", "median", "time_median_us"},
    {"time_us", "p99", "time_p99_us"},
    {"time_us", "max", "time_max_us"},
    {"time_us", "cv", "time_cv"},
    {"time_us", "slowest_rank", "time_slowest_rank_us"},
    {"time_us", "fastest_rank", "time_fastest_rank_us"},
    {"algbw_gbps", NULL, "algbw_GBps"},
    {"busbw_gbps", NULL, "busbw_GBps"},
    {"bw_gbps", NULL, "bw_GBps"},
    {"wrong", NULL, "wrong"},
    {"checked", NULL, "checked"},
};
#define N_KNOWN (sizeof(known_cols) / sizeof(known_cols[0]))

/* One output file being written (atomically); `first` says whether the next field
 * starts a line. */
typedef struct {
    FILE *f;
    tb_afile_t a;
    int first;
} csv_file_t;

static tb_status_t csv_open(csv_file_t *c, const char *dir, const char *base, const char *suffix)
{
    char path[4096];
    tb_status_t st;
    if (snprintf(path, sizeof(path), "%s/%s%s", dir, base, suffix) >= (int)sizeof(path))
        return tb_error(TB_ERR_ENV, "output path too long: %s/%s%s", dir, base, suffix);
    if ((st = tb_afile_open(&c->a, path)))
        return st;
    c->f = c->a.f;
    c->first = 1;
    return TB_OK;
}

/* Renames the finished file into place; TB_ERR_ENV (logged) on any write error. */
static tb_status_t csv_close(csv_file_t *c)
{
    c->f = NULL;
    return tb_afile_commit(&c->a);
}

/* Leaves the previous file of that name as it was. */
static void csv_abort(csv_file_t *c)
{
    c->f = NULL;
    tb_afile_abort(&c->a);
}

static void csv_sep(csv_file_t *c)
{
    if (!c->first)
        fputc(',', c->f);
    c->first = 0;
}

static void csv_end_row(csv_file_t *c)
{
    fputc('\n', c->f); /* LF line ends: every CSV reader takes them */
    c->first = 1;
}

static void csv_str(csv_file_t *c, const char *s)
{
    int formula;
    csv_sep(c);
    if (!s)
        return;
    formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, c->f);
        return;
    }
    fputc('"', c->f);
    if (formula)
        fputc('\'', c->f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', c->f);
        fputc(*s, c->f);
    }
    fputc('"', c->f);
}

static void csv_num(csv_file_t *c, double v)
{
    csv_sep(c);
    fprintf(c->f, "%.9g", v);
}

static void csv_int(csv_file_t *c, long long v)
{
    csv_sep(c);
    fprintf(c->f, "%lld", v);
}

/* A document value as a field: empty when absent, null or not a scalar. */
static void csv_json(csv_file_t *c, const json_t *v)
{
    if (json_is_integer(v))
        csv_int(c, (long long)json_integer_value(v));
    else if (json_is_real(v))
        csv_num(c, json_real_value(v));
    else if (json_is_boolean(v))
        csv_str(c, json_is_true(v) ? "true" : "false");
    else if (json_is_string(v))
        csv_str(c, json_string_value(v));
    else
        csv_sep(c);
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

/* The entry's keys, explicit columns that identify it (tb_doc_keys_t). */
static const char *const key_cols[] = {"backend", "send_memory", "recv_memory",
                                       "dtype",   "placement",   "level"};

static void csv_keys_header(csv_file_t *c)
{
    csv_str(c, "test");
    for (size_t k = 0; k < sizeof(key_cols) / sizeof(key_cols[0]); k++)
        csv_str(c, key_cols[k]);
}

static void csv_keys(csv_file_t *c, const json_t *test)
{
    csv_str(c, str_or(test, "name", ""));
    for (size_t k = 0; k < sizeof(key_cols) / sizeof(key_cols[0]); k++)
        csv_str(c, json_string_value(json_object_get(test, key_cols[k])));
}

/* "<name>[-<label>]" (tb_doc_entry_label) with anything outside [A-Za-z0-9_.-] turned
 * into '_', so a name never leaves the output directory. */
static void file_base(const json_t *test, char *buf, size_t len)
{
    const char *name = str_or(test, "name", "");
    char label[256];
    tb_doc_entry_label(test, label, sizeof(label));
    snprintf(buf, len, "%s%s%s", name[0] ? name : "unnamed", label[0] ? "-" : "", label);
    for (char *p = buf; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            *p = '_';
}

/* The columns of one test's results: the known ones any row has, then unknown scalar
 * keys. Unknown keys live in `extra` (a JSON object used as an ordered set). */
static size_t results_columns(const json_t *results, const csv_col_t **cols, json_t *extra)
{
    size_t n = 0, i;
    const json_t *row;
    for (size_t k = 0; k < N_KNOWN; k++) {
        json_array_foreach(results, i, row) {
            const json_t *v = json_object_get(row, known_cols[k].key);
            if (known_cols[k].sub)
                v = json_object_get(v, known_cols[k].sub);
            if (v) {
                cols[n++] = &known_cols[k];
                break;
            }
        }
    }
    json_array_foreach(results, i, row) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)row, key, v) {
            size_t k;
            if (json_is_object(v) || json_is_array(v))
                continue;
            for (k = 0; k < N_KNOWN && strcmp(known_cols[k].key, key) != 0; k++)
                ;
            if (k == N_KNOWN)
                json_object_set_new(extra, key, json_true());
        }
    }
    return n;
}

static tb_status_t write_results(const json_t *test, const char *dir, const char *base)
{
    const json_t *results = json_object_get(test, "results"), *row;
    const csv_col_t *cols[N_KNOWN];
    json_t *extra = json_object();
    const char *key;
    json_t *v;
    csv_file_t c;
    size_t ncols, i;
    tb_status_t st;

    if (!extra)
        return tb_error(TB_ERR_INTERNAL, "out of memory");
    ncols = results_columns(results, cols, extra);
    if ((st = csv_open(&c, dir, base, ".csv")))
        goto out;
    csv_keys_header(&c);
    for (size_t k = 0; k < ncols; k++)
        csv_str(&c, cols[k]->column);
    json_object_foreach(extra, key, v)
        csv_str(&c, key);
    csv_end_row(&c);
    json_array_foreach(results, i, row) {
        csv_keys(&c, test);
        for (size_t k = 0; k < ncols; k++) {
            const json_t *x = json_object_get(row, cols[k]->key);
            csv_json(&c, cols[k]->sub ? json_object_get(x, cols[k]->sub) : x);
        }
        json_object_foreach(extra, key, v)
            csv_json(&c, json_object_get(row, key));
        csv_end_row(&c);
    }
    st = csv_close(&c);
out:
    json_decref(extra);
    return st;
}

/* One row per ordered pair (i != j) of an N x N matrix, empty where there is no
 * measurement. */
static tb_status_t write_matrix(const json_t *m, const double *cells, size_t n,
                                const char *column, const char *dir, const char *base,
                                const char *suffix)
{
    const json_t *labels = json_object_get(m, "labels"), *ranks = json_object_get(m, "ranks");
    csv_file_t c;
    tb_status_t st;

    if ((st = csv_open(&c, dir, base, suffix)))
        return st;
    fprintf(c.f, "src_rank,src_host,dst_rank,dst_host,%s\n", column);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            size_t ends[2] = {i, j};
            double x = cells[i * n + j];
            if (i == j)
                continue;
            for (int e = 0; e < 2; e++) {
                const json_t *r = json_array_get(ranks, ends[e]);
                const char *label = json_string_value(json_array_get(labels, ends[e]));
                char host[256];
                tb_cells_label_host(label ? label : "", host, sizeof(host));
                if (json_is_integer(r))
                    csv_json(&c, r);
                else
                    csv_int(&c, (long long)ends[e]);
                csv_str(&c, host);
            }
            if (x == x)
                csv_num(&c, x);
            else
                csv_sep(&c);
            csv_end_row(&c);
        }
    }
    return csv_close(&c);
}

/* The long-form file of one matrix: "-matrix-bw.csv" and "-matrix-lat.csv" for the two
 * first matrices, "-matrix-<key>.csv" for others. */
static void matrix_file(const char *key, char *suffix, size_t slen, char *column, size_t clen)
{
    if (!strcmp(key, "bandwidth_gbps")) {
        snprintf(suffix, slen, "-matrix-bw.csv");
        snprintf(column, clen, "bandwidth_GBps");
    } else if (!strcmp(key, "latency_us")) {
        snprintf(suffix, slen, "-matrix-lat.csv");
        snprintf(column, clen, "latency_us");
    } else {
        size_t n = strlen(key);
        snprintf(suffix, slen, "-matrix-%s.csv", key);
        /* "_gbps" columns are named "_GBps" like the others. */
        if (n > 5 && !strcmp(key + n - 5, "_gbps"))
            snprintf(column, clen, "%.*s_GBps", (int)(n - 5), key);
        else
            snprintf(column, clen, "%s", key);
    }
}

/* Host of a world rank, from the document's ranks[]. */
static const char *rank_host(const json_t *doc, json_int_t rank)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(doc, "ranks"), i, r) {
        if (json_integer_value(json_object_get(r, "rank")) == rank)
            return str_or(r, "host", "");
    }
    return "";
}

static tb_status_t write_pairs(const json_t *doc, const json_t *pairs, const char *dir,
                               const char *base)
{
    csv_file_t c;
    size_t i;
    const json_t *p;
    tb_status_t st;

    if ((st = csv_open(&c, dir, base, "-pairs.csv")))
        return st;
    fputs("a_rank,a_host,b_rank,b_host,bw_GBps,latency_us,wrong\n", c.f);
    json_array_foreach(pairs, i, p) {
        const json_t *a = json_object_get(p, "a"), *b = json_object_get(p, "b");
        csv_json(&c, a);
        csv_str(&c, json_is_integer(a) ? rank_host(doc, json_integer_value(a)) : "");
        csv_json(&c, b);
        csv_str(&c, json_is_integer(b) ? rank_host(doc, json_integer_value(b)) : "");
        csv_json(&c, json_object_get(p, "bw_gbps"));
        csv_json(&c, json_object_get(p, "latency_us"));
        csv_json(&c, json_object_get(p, "wrong"));
        csv_end_row(&c);
    }
    return csv_close(&c);
}

/* ---- summary.csv ---- */

typedef struct {
    size_t sizes;
    long long min_size, max_size;
    const char *metric; /* "busbw", "bw" or NULL */
    int have_peak, have_large, have_small;
    double peak, large, small;
} summary_t;

/* The row of `results` at `size` to quote: out-of-place when there is one. */
static const json_t *row_at(const json_t *results, long long size)
{
    const json_t *row, *found = NULL;
    size_t i;
    json_array_foreach(results, i, row) {
        if (json_integer_value(json_object_get(row, "size")) != size)
            continue;
        if (!json_is_true(json_object_get(row, "in_place")))
            return row;
        if (!found)
            found = row;
    }
    return found;
}

static void summarize_results(const json_t *results, summary_t *s)
{
    const char *key = NULL;
    const json_t *row, *v;
    size_t i;

    json_array_foreach(results, i, row) {
        long long size = json_integer_value(json_object_get(row, "size"));
        if (row_at(results, size) == row) {
            s->sizes++;
            if (s->sizes == 1 || size < s->min_size)
                s->min_size = size;
            if (s->sizes == 1 || size > s->max_size)
                s->max_size = size;
        }
        if (!key && json_is_number(json_object_get(row, "busbw_gbps")))
            key = "busbw_gbps";
    }
    /* Collectives are summarized by bus bandwidth, p2p bandwidth tests by bandwidth. */
    json_array_foreach(results, i, row) {
        if (!key && json_is_number(json_object_get(row, "bw_gbps")))
            key = "bw_gbps";
    }
    s->metric = !key ? NULL : strcmp(key, "bw_gbps") ? "busbw" : "bw";
    if (!s->sizes)
        return;
    json_array_foreach(results, i, row) {
        v = key ? json_object_get(row, key) : NULL;
        if (json_is_number(v) && (!s->have_peak || json_number_value(v) > s->peak)) {
            s->peak = json_number_value(v);
            s->have_peak = 1;
        }
    }
    v = key ? json_object_get(row_at(results, s->max_size), key) : NULL;
    if (json_is_number(v)) {
        s->large = json_number_value(v);
        s->have_large = 1;
    }
    v = json_object_get(json_object_get(row_at(results, s->min_size), "time_us"), "mean");
    if (json_is_number(v)) {
        s->small = json_number_value(v);
        s->have_small = 1;
    }
}

/* matrix_max_median of a matrix as mapped: its finite off-diagonal cells (those
 * tb_cells_compact keeps). */
static tb_status_t matrix_max_median_mapped(const tb_doc_matrix_map_t *map, size_t *count_p,
                                            double *max_p, double *median_p)
{
    size_t n = map->n, count = 0, cap;
    const double *m = map->cells;
    unsigned char *f = malloc(n > 0 ? n * n : 1);
    double *v = NULL, max = 0;
    if (!f)
        return tb_error(TB_ERR_ENV, "out of memory for a %zu x %zu matrix", n, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x = m[i * n + j];
            /* x == x is false for NaN; the infinities cannot be measurements either. */
            unsigned char in = i != j && x == x && x - x == 0;
            f[i * n + j] = in;
            if (in && (!count || x > max))
                max = x;
            count += in;
        }
    *count_p = count;
    if (!count)
        goto out;
    *max_p = max;
    cap = count / 16 + 65536;
    if (!(v = malloc((count < cap ? count : cap) * sizeof(double)))) {
        free(f);
        return tb_error(TB_ERR_ENV, "out of memory for a %zu x %zu matrix", n, n);
    }
    if (count > cap && tb_stats_median_masked(m, f, n * n, 1, 1, count, v, cap, median_p))
        goto out;
    if (count > cap) {
        double *w = realloc(v, count * sizeof(double));
        if (!w) {
            free(f), free(v);
            return tb_error(TB_ERR_ENV, "out of memory for a %zu x %zu matrix", n, n);
        }
        v = w;
    }
    for (size_t k = 0, q = 0; k < n * n; k++)
        if (f[k])
            v[q++] = m[k];
    *median_p = tb_stats_median_select(v, count);
out:
    free(f);
    free(v);
    return TB_OK;
}

/* Max and median of the off-diagonal cells of m[key] (or of the pairs' `pkey`), at most
 * one matrix in memory at a time. 0 when there is none. */
static tb_status_t matrix_max_median(const json_t *m, const char *key, const char *pkey,
                                     const char *docdir, const char *where, size_t *count_p,
                                     double *max_p, double *median_p)
{
    const json_t *pairs = json_object_get(m, "pairs"), *p;
    double *v = NULL;
    size_t count = 0, i;
    tb_status_t st;
    tb_doc_matrix_map_t map;

    *count_p = 0;
    if ((st = tb_doc_matrix_map(m, key, docdir, where, &map)))
        return st;
    if (map.cells) {
        /* a large matrix is read where it is (mapped), its cells marked, and the median
         * selected in place; small ones, or when that fails, copied */
        st = matrix_max_median_mapped(&map, &count, max_p, median_p);
        tb_doc_matrix_unmap(&map);
        *count_p = count;
        return st;
    } else if (json_array_size(pairs)) {
        v = malloc(json_array_size(pairs) * sizeof(double));
        if (!v)
            return tb_error(TB_ERR_ENV, "out of memory");
        json_array_foreach(pairs, i, p) {
            if (json_is_number(json_object_get(p, pkey)))
                v[count++] = json_number_value(json_object_get(p, pkey));
        }
    }
    if (count) {
        *max_p = v[0];
        for (i = 1; i < count; i++)
            if (v[i] > *max_p)
                *max_p = v[i];
        *median_p = tb_stats_median_select(v, count);
    }
    *count_p = count;
    free(v);
    return TB_OK;
}

/* Matrix entries: peak = best cell, large = median cell of the receive bandwidth matrix
 * (`bandwidth_gbps` in documents before it was measured both ways), small = median latency
 * cell; isolated pairs the same over the pairs. */
static tb_status_t summarize_matrix(const json_t *m, const char *docdir, const char *where,
                                    summary_t *s)
{
    size_t count;
    double max;
    tb_status_t st;

    if (json_is_integer(json_object_get(m, "size"))) {
        s->sizes = 1;
        s->min_size = s->max_size = json_integer_value(json_object_get(m, "size"));
    }
    /* Bandwidth as received (recv_gbps) where the entry has both directions. */
    if ((st = matrix_max_median(m, json_object_get(m, "recv_gbps") ? "recv_gbps" : "bandwidth_gbps",
                                "bw_gbps", docdir, where, &count, &s->peak, &s->large)))
        return st;
    if (count) {
        s->metric = "bw";
        s->have_peak = s->have_large = 1;
    }
    if ((st = matrix_max_median(m, "latency_us", "latency_us", docdir, where, &count, &max,
                                &s->small)))
        return st;
    if (count)
        s->have_small = 1;
    return TB_OK;
}

/* gpu_copy entries: peak = the best one-way copy cell of any node (the diagonal, the
 * device-local copy, left out), large = the median of the nodes' median cells. */
static tb_status_t summarize_copies(const json_t *test, const char *docdir, const char *where,
                                    summary_t *s)
{
    const json_t *node;
    double med[256];
    size_t i, nmed = 0;
    tb_status_t st;

    if (json_is_integer(json_object_get(json_object_get(test, "params"), "size"))) {
        s->sizes = 1;
        s->min_size = s->max_size =
            json_integer_value(json_object_get(json_object_get(test, "params"), "size"));
    }
    json_array_foreach(json_object_get(test, "nodes"), i, node) {
        size_t count;
        double max = 0, median = 0;
        if ((st = matrix_max_median(node, "copy_gbps", NULL, docdir, where, &count, &max,
                                    &median)))
            return st;
        if (!count)
            continue;
        if (!s->have_peak || max > s->peak)
            s->peak = max;
        s->have_peak = 1;
        if (nmed < sizeof(med) / sizeof(med[0]))
            med[nmed++] = median;
    }
    if (nmed) {
        s->metric = "copy";
        s->large = tb_stats_median_select(med, nmed);
        s->have_large = 1;
    }
    return TB_OK;
}

static tb_status_t write_summary(const json_t *doc, const char *docdir, const char *dir)
{
    const json_t *test;
    csv_file_t c;
    size_t i;
    tb_status_t st;

    if ((st = csv_open(&c, dir, "summary", ".csv")))
        return st;
    csv_keys_header(&c);
    fputs(",kind,status,sizes,min_size_bytes,max_size_bytes,peak_metric,peak_GBps,"
          "large_msg_GBps,small_msg_time_us,errors,skip_reason",
          c.f);
    csv_end_row(&c);
    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        summary_t s = {0};
        const json_t *m = json_object_get(test, "matrix");
        if (json_is_object(m)) {
            char where[128];
            snprintf(where, sizeof(where), "tests[%zu] (%s)", i, str_or(test, "name", "?"));
            if ((st = summarize_matrix(m, docdir, where, &s))) {
                csv_abort(&c);
                return st;
            }
        } else if (json_is_array(json_object_get(test, "nodes"))) {
            char where[128];
            snprintf(where, sizeof(where), "tests[%zu] (%s)", i, str_or(test, "name", "?"));
            if ((st = summarize_copies(test, docdir, where, &s))) {
                csv_abort(&c);
                return st;
            }
        } else {
            summarize_results(json_object_get(test, "results"), &s);
        }
        csv_keys(&c, test);
        csv_str(&c, str_or(test, "kind", ""));
        csv_str(&c, str_or(test, "status", ""));
        csv_int(&c, (long long)s.sizes);
        if (s.sizes) {
            csv_int(&c, s.min_size);
            csv_int(&c, s.max_size);
        } else {
            csv_sep(&c);
            csv_sep(&c);
        }
        csv_str(&c, s.metric);
        if (s.have_peak)
            csv_num(&c, s.peak);
        else
            csv_sep(&c);
        if (s.have_large)
            csv_num(&c, s.large);
        else
            csv_sep(&c);
        if (s.have_small)
            csv_num(&c, s.small);
        else
            csv_sep(&c);
        csv_int(&c, (long long)json_array_size(json_object_get(test, "errors")));
        csv_str(&c, json_string_value(json_object_get(test, "skip_reason")));
        csv_end_row(&c);
    }
    return csv_close(&c);
}

/* Every matrix of an entry in long form, one at a time in memory. Above
 * TB_REPORT_LONG_FORM_MAX ranks the long form is left out (16.7 million rows at 4,096
 * ranks); the matrix's NPY file holds every cell. */
static tb_status_t write_matrices(const json_t *test, const char *docdir, const char *dir,
                                  const char *base, size_t idx, size_t *nfiles_p)
{
    const json_t *m = json_object_get(test, "matrix"), *v;
    const char *key;
    char where[128];
    tb_status_t st = TB_OK;

    snprintf(where, sizeof(where), "tests[%zu] (%s)", idx, str_or(test, "name", "?"));
    json_object_foreach((json_t *)m, key, v) {
        double *cells = NULL;
        size_t n = 0;
        char suffix[160], column[128];
        if (!strcmp(key, "labels") || !strcmp(key, "ranks") || !strcmp(key, "pairs") ||
            !tb_doc_matrix_is(m, key))
            continue;
        if (json_is_object(v) &&
            json_integer_value(json_array_get(json_object_get(v, "shape"), 0)) >
                TB_REPORT_LONG_FORM_MAX) {
            tb_info("%s-%s: long-form CSV left out above %d ranks; every cell is in %s", base,
                    key, TB_REPORT_LONG_FORM_MAX, json_string_value(json_object_get(v, "file")));
            continue;
        }
        if ((st = tb_doc_matrix_get(m, key, docdir, where, &cells, &n)))
            return st;
        matrix_file(key, suffix, sizeof(suffix), column, sizeof(column));
        st = write_matrix(m, cells, n, column, dir, base, suffix);
        free(cells);
        if (st)
            return st;
        ++*nfiles_p;
    }
    return TB_OK;
}

/* gpu_copy: one row per measured cell of every node, "<base>-copies.csv". */
static tb_status_t write_copies(const json_t *test, const char *docdir, const char *dir,
                                const char *base, size_t idx)
{
    static const char *const keys[] = {"copy_gbps", "copy_cv", "bidir_gbps", "bidir_cv",
                                       "expected_gbps", "peer_access"};
    const json_t *node;
    csv_file_t c;
    size_t k;
    tb_status_t st;

    if ((st = csv_open(&c, dir, base, "-copies.csv")))
        return st;
    fputs("host,rank,measurement,copy,src,dst,path,GBps,cv,expected_GBps,peer_access\n", c.f);
    json_array_foreach(json_object_get(test, "nodes"), k, node) {
        const json_t *labels = json_object_get(node, "labels"), *eps = json_object_get(node, "endpoints");
        double *m[6] = {NULL};
        size_t n = 0, nk;
        char where[160];
        snprintf(where, sizeof(where), "tests[%zu] (%s) nodes[%zu]", idx, str_or(test, "name", "?"), k);
        for (size_t q = 0; q < 6; q++) {
            if ((st = tb_doc_matrix_get(node, keys[q], docdir, where, &m[q], &nk)) == TB_OK &&
                m[q] && n && nk != n)
                st = tb_error(TB_ERR_INPUT, "%s: %s is %zu x %zu, not %zu x %zu", where, keys[q],
                              nk, nk, n, n);
            if (m[q])
                n = nk;
            if (st)
                break;
        }
        for (size_t i = 0; st == TB_OK && m[0] && i < n; i++)
            for (size_t j = 0; j < n; j++)
                for (int bi = 0; bi < 2; bi++) {
                    const double *v = m[2 * bi], *cv = m[2 * bi + 1];
                    int gi = !strcmp(str_or(json_array_get(eps, i), "kind", ""), "gpu");
                    int gj = !strcmp(str_or(json_array_get(eps, j), "kind", ""), "gpu");
                    const char *src = json_string_value(json_array_get(labels, i));
                    const char *dst = json_string_value(json_array_get(labels, j));
                    if (!v || v[i * n + j] != v[i * n + j])
                        continue;
                    csv_str(&c, str_or(node, "host", ""));
                    csv_json(&c, json_object_get(node, "rank"));
                    csv_str(&c, bi ? "bidir" : "copy");
                    csv_str(&c, !gi ? "host_to_device" : !gj ? "device_to_host"
                                : i == j ? "device_local" : "device_to_device");
                    csv_str(&c, src);
                    csv_str(&c, dst);
                    csv_str(&c, src && dst ? json_string_value(json_object_get(
                                                 json_object_get(json_object_get(node, "paths"), src), dst))
                                           : NULL);
                    csv_num(&c, v[i * n + j]);
                    if (cv && cv[i * n + j] == cv[i * n + j])
                        csv_num(&c, cv[i * n + j]);
                    else
                        csv_sep(&c);
                    if (m[4] && m[4][i * n + j] == m[4][i * n + j])
                        csv_num(&c, m[4][i * n + j]);
                    else
                        csv_sep(&c);
                    if (m[5] && m[5][i * n + j] == m[5][i * n + j])
                        csv_int(&c, (long long)m[5][i * n + j]);
                    else
                        csv_sep(&c);
                    csv_end_row(&c);
                }
        for (size_t q = 0; q < 6; q++)
            free(m[q]);
        if (st) {
            csv_abort(&c);
            return st;
        }
    }
    return csv_close(&c);
}

static tb_status_t write_all(const json_t *doc, const char *docdir, const char *dir,
                             size_t *nfiles_p)
{
    const json_t *test;
    size_t i;
    tb_status_t st;

    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        const json_t *m = json_object_get(test, "matrix");
        char base[512];
        file_base(test, base, sizeof(base));
        /* An entry without measurements (skipped, or a matrix) has no rows to write;
         * summary.csv still lists it. */
        if (json_array_size(json_object_get(test, "results"))) {
            if ((st = write_results(test, dir, base)))
                return st;
            ++*nfiles_p;
        }
        if (json_is_object(m) && (st = write_matrices(test, docdir, dir, base, i, nfiles_p)))
            return st;
        if (json_array_size(json_object_get(test, "nodes"))) {
            if ((st = write_copies(test, docdir, dir, base, i)))
                return st;
            ++*nfiles_p;
        }
        if (json_is_array(json_object_get(m, "pairs"))) {
            if ((st = write_pairs(doc, json_object_get(m, "pairs"), dir, base)))
                return st;
            ++*nfiles_p;
        }
    }
    if ((st = write_summary(doc, docdir, dir)))
        return st;
    ++*nfiles_p;
    return TB_OK;
}

tb_status_t tb_report_csv_write_count(const json_t *doc, const char *docdir, const char *dir,
                                      size_t *nfiles_p)
{
    /* Numbers in the C locale: a program that called setlocale() must not get "1,5". */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
    size_t n = 0;
    tb_status_t st = write_all(doc, docdir, dir, &n);

    if (c_locale) {
        uselocale(old);
        freelocale(c_locale);
    }
    if (st == TB_OK && nfiles_p)
        *nfiles_p = n;
    return st;
}

tb_status_t tb_report_csv_write(const json_t *doc, const char *docdir, const char *dir)
{
    return tb_report_csv_write_count(doc, docdir, dir, NULL);
}
