/* Baselines (docs/gate.md): what a gate keeps of a good run, made from a results document
 * or read back from a baseline file (validated field by field), or imported from
 * nccl-tests output (gate_nccl.c); and the figures of a tests[] entry that a baseline
 * keeps and an expectation names. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fs.h"
#include "gate_internal.h"
#include "log.h"
#include "stats.h"

static const tb_gate_figure_t figures[] = {
    {"busbw_gbps", "GB/s", 1},        {"algbw_gbps", "GB/s", 1},
    {"bw_gbps", "GB/s", 1},           {"latency_us", "us", 0},
    {"recv_gbps_median", "GB/s", 1}, {"recv_gbps_min", "GB/s", 1},
    {"latency_us_median", "us", 0},   {"latency_us_max", "us", 0},
    {"verdicts", "", 0},
};

const tb_gate_figure_t *tb_gate_figure_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(figures) / sizeof(figures[0]); i++)
        if (!strcmp(figures[i].name, name))
            return &figures[i];
    return NULL;
}

json_t *tb_gate_figure_new(double value, double cv, double resolution)
{
    json_t *f = json_object();
    json_object_set_new(f, "value", json_real(value));
    json_object_set_new(f, "cv", cv >= 0 ? json_real(cv) : json_null());
    if (resolution > 0)
        json_object_set_new(f, "resolution", json_real(resolution));
    return f;
}

int tb_gate_row_same(const json_t *a, const json_t *b)
{
    static const char *const opt[] = {"redop", "root"};
    if (!json_is_integer(json_object_get(a, "size")) ||
        !json_equal(json_object_get(a, "size"), json_object_get(b, "size")) ||
        json_is_true(json_object_get(a, "in_place")) != json_is_true(json_object_get(b, "in_place")))
        return 0;
    for (int i = 0; i < 2; i++) {
        const json_t *x = json_object_get(a, opt[i]), *y = json_object_get(b, opt[i]);
        if (x && y && !json_equal(x, y))
            return 0;
    }
    return 1;
}

int tb_gate_ranks_agree(const json_t *a, const json_t *b)
{
    return !json_is_integer(a) || !json_is_integer(b) ||
           json_integer_value(a) == json_integer_value(b);
}

static int num(const json_t *o, const char *key, double *v)
{
    const json_t *x = json_object_get(o, key);
    if (!json_is_number(x) || !isfinite(json_number_value(x)))
        return 0;
    *v = json_number_value(x);
    return 1;
}

static const char *const key_fields[] = {"backend", "send_memory", "recv_memory",
                                         "dtype",   "placement",   "level"};

json_t *tb_gate_entry_key(const json_t *test)
{
    const json_t *params = json_object_get(test, "params"), *x;
    const char *kind = json_string_value(json_object_get(test, "kind"));
    json_t *k = json_object();
    json_object_set(k, "name", json_object_get(test, "name"));
    json_object_set_new(k, "kind", json_string(kind ? kind : ""));
    for (size_t i = 0; i < sizeof(key_fields) / sizeof(key_fields[0]); i++) {
        x = json_object_get(test, key_fields[i]);
        json_object_set_new(k, key_fields[i], json_is_string(x) ? json_copy((json_t *)x)
                                                                : json_null());
    }
    if (kind && !strcmp(kind, "p2p"))
        x = json_integer(2);
    else if (json_is_integer(json_object_get(params, "ranks")))
        x = json_copy(json_object_get(params, "ranks"));
    else if (json_is_array(json_object_get(json_object_get(test, "matrix"), "labels")))
        x = json_integer((json_int_t)json_array_size(
            json_object_get(json_object_get(test, "matrix"), "labels")));
    else
        x = json_null();
    json_object_set_new(k, "ranks", (json_t *)x);
    return k;
}

/* One sweep row: the gated figure (busbw, else bw, else the mean time) or all of them. */
static json_t *sweep_row(const json_t *r, int all)
{
    const json_t *tu = json_object_get(r, "time_us");
    double v, cv = -1, c;
    json_t *row, *figs = json_object();
    const char *gated[] = {"busbw_gbps", "bw_gbps", NULL};

    if (!json_is_integer(json_object_get(r, "size")) ||
        json_integer_value(json_object_get(r, "size")) < 0) {
        json_decref(figs);
        return NULL;
    }
    if (num(tu, "cv", &c) && c >= 0)
        cv = c;
    for (int i = 0; gated[i]; i++)
        if (num(r, gated[i], &v) && (all || json_object_size(figs) == 0))
            json_object_set_new(figs, gated[i], tb_gate_figure_new(v, cv, 0));
    if (all && num(r, "algbw_gbps", &v))
        json_object_set_new(figs, "algbw_gbps", tb_gate_figure_new(v, cv, 0));
    if (num(tu, "mean", &v) && (all || json_object_size(figs) == 0))
        json_object_set_new(figs, "latency_us", tb_gate_figure_new(v, cv, 0));
    if (json_object_size(figs) == 0) {
        json_decref(figs);
        return NULL;
    }
    row = json_pack("{s:O, s:b, s:o}", "size", json_object_get(r, "size"), "in_place",
                    json_is_true(json_object_get(r, "in_place")), "figures", figs);
    /* NCCL rows (nccl-tests' -o all, -r all) also differ by reduction and root. */
    if (json_is_string(json_object_get(r, "redop")))
        json_object_set(row, "redop", json_object_get(r, "redop"));
    if (json_is_integer(json_object_get(r, "root")))
        json_object_set(row, "root", json_object_get(r, "root"));
    return row;
}

/* The finite off-diagonal cells of an n x n matrix, moved to its front; their count. */
static size_t offdiag(double *m, size_t n, size_t *index)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x = m[i * n + j];
            if (i != j && isfinite(x)) {
                if (index)
                    index[k] = i * n + j;
                m[k++] = x;
            }
        }
    return k;
}

/* A matrix's row: median and minimum of the receive bandwidths (with the median cell
 * spread, and the worst cell's own), median and maximum of the latencies. */
static tb_status_t matrix_row(const json_t *test, const char *docdir, const char *where,
                              int all, json_t **row_p)
{
    const json_t *m = json_object_get(test, "matrix");
    double *bw = NULL, *cv = NULL, *lat = NULL;
    size_t n = 0, ncv = 0, nlat = 0, k, *index = NULL;
    json_t *figs = json_object();
    tb_status_t st;

    *row_p = NULL;
    if (!json_is_integer(json_object_get(m, "size")) ||
        json_integer_value(json_object_get(m, "size")) < 0)
        goto out_ok;
    if ((st = tb_doc_matrix_get(m, "recv_gbps", docdir, where, &bw, &n)) ||
        (st = tb_doc_matrix_get(m, "recv_cv", docdir, where, &cv, &ncv)) ||
        (st = tb_doc_matrix_get(m, "latency_us", docdir, where, &lat, &nlat)))
        goto out;
    if (bw && n > 0 && (index = malloc(n * n * sizeof(*index))) != NULL &&
        (k = offdiag(bw, n, index)) > 0) {
        size_t worst = 0;
        double cvmed = -1;
        for (size_t i = 1; i < k; i++)
            if (bw[i] < bw[worst])
                worst = i;
        double minv = bw[worst], wcv = -1;
        if (cv && ncv == n && isfinite(cv[index[worst]]))
            wcv = cv[index[worst]];
        if (cv && ncv == n) {
            size_t kc = offdiag(cv, n, NULL);
            if (kc > 0)
                cvmed = tb_stats_median_select(cv, kc);
        }
        json_object_set_new(figs, "recv_gbps_median",
                            tb_gate_figure_new(tb_stats_median_select(bw, k), cvmed, 0));
        json_object_set_new(figs, "recv_gbps_min", tb_gate_figure_new(minv, wcv, 0));
    }
    if (lat && nlat > 0 && (k = offdiag(lat, nlat, NULL)) > 0) {
        double maxv = lat[0];
        for (size_t i = 1; i < k; i++)
            if (lat[i] > maxv)
                maxv = lat[i];
        json_object_set_new(figs, "latency_us_median",
                            tb_gate_figure_new(tb_stats_median_select(lat, k), -1, 0));
        if (all)
            json_object_set_new(figs, "latency_us_max", tb_gate_figure_new(maxv, -1, 0));
    }
out_ok:
    st = TB_OK;
    if (json_object_size(figs) > 0) {
        *row_p = json_pack("{s:O, s:b, s:O}", "size", json_object_get(m, "size"), "in_place", 0,
                           "figures", figs);
    }
out:
    json_decref(figs);
    free(bw);
    free(cv);
    free(lat);
    free(index);
    return st;
}

tb_status_t tb_gate_entry_rows(const json_t *test, const char *docdir, const char *where,
                               int all, json_t **rows_p)
{
    const char *kind = json_string_value(json_object_get(test, "kind"));
    json_t *rows = json_array(), *row;
    const json_t *r;
    tb_status_t st = TB_OK;
    size_t i;

    if (kind && !strcmp(kind, "matrix")) {
        const char *level = json_string_value(json_object_get(test, "level"));
        if (!(level && !strcmp(level, "isolated")) && json_object_get(test, "matrix")) {
            if ((st = matrix_row(test, docdir, where, all, &row))) {
                json_decref(rows);
                return st;
            }
            if (row)
                json_array_append_new(rows, row);
        }
    } else {
        json_array_foreach(json_object_get(test, "results"), i, r) {
            if ((row = sweep_row(r, all)) != NULL)
                json_array_append_new(rows, row);
        }
    }
    *rows_p = rows;
    return TB_OK;
}

json_t *tb_gate_baseline_new(json_t *source)
{
    char now[32];
    tb_doc_timestamp(now, sizeof(now));
    return json_pack("{s:s, s:i, s:s, s:o, s:[], s:[]}", "schema", TB_BASELINE_SCHEMA,
                     "schema_version", TB_BASELINE_VERSION, "created", now, "source", source,
                     "notes", "entries");
}

void tb_gate_note(json_t *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(json_object_get(b, "notes"), json_string(buf));
}

tb_status_t tb_gate_baseline_from_doc(const json_t *doc, const char *docdir, const char *what,
                                      json_t **baseline_p)
{
    const json_t *run = json_object_get(doc, "run"), *t, *h;
    json_t *source, *b, *hosts = json_array(), *rows;
    const char *status = json_string_value(json_object_get(doc, "status"));
    char label[128], where[512];
    tb_status_t st;
    size_t i;

    json_array_foreach(json_object_get(doc, "hosts"), i, h) {
        if (json_is_string(json_object_get(h, "name")))
            json_array_append(hosts, json_object_get(h, "name"));
    }
    source = json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:o}", "format", "results",
                       "file", what, "start_time", json_object_get(run, "start_time"),
                       "git_hash", json_object_get(run, "git_hash"), "topobench_version",
                       json_object_get(run, "topobench_version"), "nranks",
                       json_object_get(run, "nranks"), "nnodes", json_object_get(run, "nnodes"),
                       "hosts", hosts);
    b = tb_gate_baseline_new(source);
    if (status && strcmp(status, "success") && strcmp(status, "running"))
        tb_gate_note(b, "%s ended '%s': only its entries that finished ok are kept", what, status);
    json_array_foreach(json_object_get(doc, "tests"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *tstat = json_string_value(json_object_get(t, "status"));
        const char *level = json_string_value(json_object_get(t, "level"));
        json_t *e;
        if (!name)
            name = "?";
        tb_doc_entry_label(t, label, sizeof(label));
        if (!tstat || strcmp(tstat, "ok")) {
            tb_gate_note(b, "%s (%s): not kept: it ended '%s'", name, label, tstat ? tstat : "?");
            continue;
        }
        if (level && !strcmp(level, "isolated")) {
            tb_gate_note(b, "%s (%s): not kept: isolated pairs are suspects measured on demand, not a "
                    "fixed set to compare", name, label);
            continue;
        }
        snprintf(where, sizeof(where), "%s: tests[%zu] (%s)", what, i, name ? name : "?");
        if ((st = tb_gate_entry_rows(t, docdir, where, 0, &rows))) {
            json_decref(b);
            return st;
        }
        if (json_array_size(rows) == 0) {
            tb_gate_note(b, "%s (%s): not kept: no measured figure", name, label);
            json_decref(rows);
            continue;
        }
        e = tb_gate_entry_key(t);
        json_object_set_new(e, "rows", rows);
        json_array_append_new(json_object_get(b, "entries"), e);
    }
    if (json_array_size(json_object_get(b, "entries")) == 0) {
        json_decref(b);
        return tb_error(TB_ERR_INPUT, "%s: no test entry finished ok with a measured figure: "
                                      "nothing for a baseline to keep", what);
    }
    *baseline_p = b;
    return TB_OK;
}

/* ---- validation of a baseline file --------------------------------------------------- */

#define BAD(...) return tb_error(TB_ERR_INPUT, __VA_ARGS__)

static tb_status_t check_figures(const json_t *figs, const char *what, size_t e, size_t r)
{
    const char *name;
    const json_t *f, *x;
    if (!json_is_object(figs) || json_object_size(figs) == 0)
        BAD("%s: entries[%zu].rows[%zu].figures: expected an object of figures", what, e, r);
    json_object_foreach((json_t *)figs, name, f) {
        const tb_gate_figure_t *fig = tb_gate_figure_find(name);
        if (!fig || !strcmp(name, "verdicts"))
            BAD("%s: entries[%zu].rows[%zu].figures.%s: unknown figure (expected busbw_gbps, "
                "algbw_gbps, bw_gbps, latency_us, recv_gbps_median, recv_gbps_min, "
                "latency_us_median or latency_us_max)", what, e, r, name);
        if (!json_is_object(f))
            BAD("%s: entries[%zu].rows[%zu].figures.%s: expected an object {\"value\", \"cv\"}",
                what, e, r, name);
        x = json_object_get(f, "value");
        if (!json_is_number(x) || !(json_number_value(x) >= 0) || !isfinite(json_number_value(x)))
            BAD("%s: entries[%zu].rows[%zu].figures.%s.value: expected a number >= 0", what, e,
                r, name);
        x = json_object_get(f, "cv");
        if (x && !json_is_null(x) && (!json_is_number(x) || !(json_number_value(x) >= 0) ||
                                      !isfinite(json_number_value(x))))
            BAD("%s: entries[%zu].rows[%zu].figures.%s.cv: expected a number >= 0 or null",
                what, e, r, name);
        x = json_object_get(f, "resolution");
        if (x && (!json_is_number(x) || !(json_number_value(x) >= 0) ||
                  !isfinite(json_number_value(x))))
            BAD("%s: entries[%zu].rows[%zu].figures.%s.resolution: expected a number >= 0",
                what, e, r, name);
    }
    return TB_OK;
}

static tb_status_t check_entry(const json_t *en, const char *what, size_t e)
{
    const json_t *x, *rows, *row;
    size_t r, r2;
    tb_status_t st;
    if (!json_is_object(en))
        BAD("%s: entries[%zu]: expected an object", what, e);
    x = json_object_get(en, "name");
    if (!json_is_string(x) || !json_string_value(x)[0])
        BAD("%s: entries[%zu].name: expected the test's name (a string)", what, e);
    x = json_object_get(en, "kind");
    if (x && !json_is_string(x))
        BAD("%s: entries[%zu].kind: expected a string", what, e);
    for (size_t k = 0; k < sizeof(key_fields) / sizeof(key_fields[0]); k++) {
        x = json_object_get(en, key_fields[k]);
        if (x && !json_is_string(x) && !json_is_null(x))
            BAD("%s: entries[%zu].%s: expected a string or null", what, e, key_fields[k]);
    }
    x = json_object_get(en, "ranks");
    if (x && !json_is_null(x) && (!json_is_integer(x) || json_integer_value(x) < 1))
        BAD("%s: entries[%zu].ranks: expected a rank count >= 1 or null", what, e);
    rows = json_object_get(en, "rows");
    if (!json_is_array(rows) || json_array_size(rows) == 0)
        BAD("%s: entries[%zu].rows: expected a non-empty array", what, e);
    json_array_foreach(rows, r, row) {
        if (!json_is_object(row))
            BAD("%s: entries[%zu].rows[%zu]: expected an object", what, e, r);
        x = json_object_get(row, "size");
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            BAD("%s: entries[%zu].rows[%zu].size: expected a size in bytes (an integer >= 0)",
                what, e, r);
        x = json_object_get(row, "in_place");
        if (x && !json_is_boolean(x))
            BAD("%s: entries[%zu].rows[%zu].in_place: expected true or false", what, e, r);
        x = json_object_get(row, "line");
        if (x && !json_is_integer(x))
            BAD("%s: entries[%zu].rows[%zu].line: expected an integer", what, e, r);
        if ((st = check_figures(json_object_get(row, "figures"), what, e, r)))
            return st;
        x = json_object_get(row, "redop");
        if (x && !json_is_string(x))
            BAD("%s: entries[%zu].rows[%zu].redop: expected a string", what, e, r);
        x = json_object_get(row, "root");
        if (x && !json_is_integer(x))
            BAD("%s: entries[%zu].rows[%zu].root: expected an integer", what, e, r);
        for (r2 = 0; r2 < r; r2++) {
            if (tb_gate_row_same(json_array_get(rows, r2), row))
                BAD("%s: entries[%zu].rows[%zu]: repeats rows[%zu] (same size, in_place, redop "
                    "and root)", what, e, r, r2);
        }
    }
    return TB_OK;
}

tb_status_t tb_gate_baseline_validate(const json_t *b, const char *what)
{
    const json_t *x, *entries, *en;
    size_t e;
    tb_status_t st;
    if (!json_is_object(b))
        BAD("%s: expected a JSON object (a baseline)", what);
    x = json_object_get(b, "schema");
    if (!json_is_string(x) || strcmp(json_string_value(x), TB_BASELINE_SCHEMA))
        BAD("%s: schema: expected \"%s\"", what, TB_BASELINE_SCHEMA);
    x = json_object_get(b, "schema_version");
    if (!json_is_integer(x) || json_integer_value(x) < 1)
        BAD("%s: schema_version: expected an integer >= 1", what);
    if (json_integer_value(x) > TB_BASELINE_VERSION)
        BAD("%s: schema_version %lld: this topobench reads baselines up to version %d "
            "(written by a newer topobench?)", what, (long long)json_integer_value(x),
            TB_BASELINE_VERSION);
    x = json_object_get(b, "notes");
    if (x && !json_is_array(x))
        BAD("%s: notes: expected an array of strings", what);
    entries = json_object_get(b, "entries");
    if (!json_is_array(entries) || json_array_size(entries) == 0)
        BAD("%s: entries: expected a non-empty array", what);
    json_array_foreach(entries, e, en) {
        if ((st = check_entry(en, what, e)))
            return st;
        for (size_t e2 = 0; e2 < e; e2++) {
            const json_t *o = json_array_get(entries, e2);
            if (tb_doc_entry_same(o, en) &&
                json_equal(json_object_get(o, "ranks") ? json_object_get(o, "ranks")
                                                       : json_null(),
                           json_object_get(en, "ranks") ? json_object_get(en, "ranks")
                                                        : json_null()))
                BAD("%s: entries[%zu]: repeats entries[%zu] (same name, keys and ranks)", what,
                    e, e2);
        }
    }
    return TB_OK;
}

tb_status_t tb_gate_baseline_parse(const char *text, size_t len, const char *what,
                                   const char *docdir, const tb_gate_import_opts_t *opts,
                                   json_t **baseline_p)
{
    size_t p = 0;
    json_error_t err;
    json_t *j;
    const char *schema;
    tb_status_t st;

    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        p = 3;
    while (p < len && strchr(" \t\r\n", text[p]) && text[p])
        p++;
    if (p >= len || text[p] != '{')
        return tb_gate_baseline_from_nccl(text, len, what, opts, baseline_p);
    if (!(j = json_loadb(text + p, len - p, 0, &err)))
        return tb_error(TB_ERR_INPUT, "%s:%d:%d: malformed JSON: %s", what, err.line,
                        err.column, err.text);
    schema = json_string_value(json_object_get(j, "schema"));
    if (schema && !strcmp(schema, TB_BASELINE_SCHEMA)) {
        if ((st = tb_gate_baseline_validate(j, what))) {
            json_decref(j);
            return st;
        }
        *baseline_p = j;
        return TB_OK;
    }
    if (schema && !strcmp(schema, TB_DOC_SCHEMA)) {
        if ((st = tb_doc_upgrade(j, what)) == TB_OK && (st = tb_doc_validate(j, what)) == TB_OK)
            st = tb_gate_baseline_from_doc(j, docdir, what, baseline_p);
        json_decref(j);
        return st;
    }
    json_decref(j);
    return tb_error(TB_ERR_INPUT,
                    "%s: schema: expected \"%s\" (a baseline) or \"%s\" (a results document); "
                    "anything else not JSON is read as nccl-tests output",
                    what, TB_BASELINE_SCHEMA, TB_DOC_SCHEMA);
}

tb_status_t tb_gate_baseline_load(const char *path, const tb_gate_import_opts_t *opts,
                                  json_t **baseline_p)
{
    char *text, docdir[4096];
    size_t len;
    tb_status_t st;
    if ((st = tb_file_read(path, &text, &len)))
        return st;
    tb_path_dir(path, docdir, sizeof(docdir));
    st = tb_gate_baseline_parse(text, len, path, docdir, opts, baseline_p);
    free(text);
    return st;
}
