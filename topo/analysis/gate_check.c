/* The gate's comparison (docs/gate.md): every row of a baseline against the run's row of
 * the same key, beyond both a tolerance and the measured spread to fail; every line of an
 * expectation file against the rows it selects or the analysis's culprits. The result is
 * a plain JSON object that report/ renders (table, JUnit XML, Markdown). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "doc.h"
#include "gate_internal.h"
#include "log.h"
#include "units.h"

void tb_gate_opts_default(tb_gate_opts_t *opts)
{
    opts->tolerance = 0.05;
    opts->spread_k = 2.0;
    opts->allow_missing = 0;
}

typedef struct gctx {
    const json_t *doc;
    const char *docdir;
    const tb_gate_opts_t *opts;
    size_t ntests;
    json_t **rows; /* per tests[] entry, every figure; computed on first use */
    json_t **keys;
    int *matched;
    json_t *checks;
    json_t *analysis; /* the document's, or made here */
} gctx_t;

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static tb_status_t run_rows(gctx_t *c, size_t i, const json_t **rows_p)
{
    if (!c->rows[i]) {
        char where[256];
        tb_status_t st;
        snprintf(where, sizeof(where), "tests[%zu] (%s)", i,
                 str_of(json_array_get(json_object_get(c->doc, "tests"), i), "name"));
        if ((st = tb_gate_entry_rows(json_array_get(json_object_get(c->doc, "tests"), i),
                                     c->docdir, where, 1, &c->rows[i])))
            return st;
    }
    *rows_p = c->rows[i];
    return TB_OK;
}

static const json_t *row_find(const json_t *rows, const json_t *want)
{
    const json_t *r;
    size_t i;
    json_array_foreach(rows, i, r) {
        if (tb_gate_row_same(want, r))
            return r;
    }
    return NULL;
}

/* "all_reduce (float) 1M in-place busbw_gbps", "... 1M op=prod root=0 ..." (`row`: the
 * row's redop and root, NCCL's, where not the default). */
static void check_name(char *buf, size_t len, const char *test, const char *label,
                       const json_t *size, int in_place, const char *figure, const json_t *row)
{
    char sz[32] = "", extra[96] = "";
    const char *op = json_string_value(json_object_get(row, "redop"));
    const json_t *root = json_object_get(row, "root");
    size_t n = 0;
    if (json_is_integer(size))
        tb_size_format((size_t)json_integer_value(size), sz, sizeof(sz));
    if (op && strcmp(op, "sum") && strcmp(op, "none"))
        n += (size_t)snprintf(extra, sizeof(extra), " op=%.40s", op);
    if (json_is_integer(root) && json_integer_value(root) >= 0 && n < sizeof(extra))
        snprintf(extra + n, sizeof(extra) - n, " root=%lld", (long long)json_integer_value(root));
    snprintf(buf, len, "%s%s%s%s %s%s%s %s", test, label[0] ? " (" : "", label,
             label[0] ? ")" : "", sz, extra, in_place ? " in-place" : "", figure);
}

static json_t *check_new(gctx_t *c, const char *suite, const char *name, const char *test,
                         const char *label, const json_t *size, int in_place,
                         const char *figure)
{
    const tb_gate_figure_t *f = tb_gate_figure_find(figure);
    json_t *ck = json_pack("{s:s, s:s, s:s, s:s, s:O?, s:b, s:s, s:s, s:s}", "suite", suite,
                           "name", name, "test", test, "label", label, "size", size,
                           "in_place", in_place, "figure", figure, "unit", f ? f->unit : "",
                           "better", f && f->higher_better ? "higher" : "lower");
    if (!ck) /* a name that is not UTF-8 (a document can hold only UTF-8: defensive) */
        ck = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "suite", suite, "name", "?", "test",
                       "?", "label", "", "in_place", in_place, "figure", figure);
    json_array_append_new(c->checks, ck);
    return ck;
}

static void check_set(json_t *ck, const char *status, int fails, const char *fmt, ...)
    TB_PRINTF(4, 5);
static void check_set(json_t *ck, const char *status, int fails, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_object_set_new(ck, "status", json_string(status));
    json_object_set_new(ck, "fails", json_boolean(fails));
    json_object_set_new(ck, "message", json_string(msg));
}

static void num_set(json_t *ck, const char *key, double v, int have)
{
    json_object_set_new(ck, key, have && isfinite(v) ? json_real(v) : json_null());
}

/* One figure of a row against its baseline. */
static void compare(gctx_t *c, json_t *ck, const json_t *bf, const json_t *rf, int higher)
{
    double b = json_number_value(json_object_get(bf, "value"));
    double r = json_number_value(json_object_get(rf, "value"));
    const json_t *bcv = json_object_get(bf, "cv"), *rcv = json_object_get(rf, "cv");
    double res = json_number_value(json_object_get(bf, "resolution"));
    double sb = json_is_number(bcv) ? json_number_value(bcv) * b : 0;
    double sr = json_is_number(rcv) ? json_number_value(rcv) * r : 0;
    double sd = sqrt(sb * sb + sr * sr), tol = c->opts->tolerance * b;
    double allowed = tol, worse = higher ? b - r : r - b;
    const char *by = "tolerance";
    const char *unit = str_of(ck, "unit");

    if (c->opts->spread_k * sd > allowed) {
        allowed = c->opts->spread_k * sd;
        by = "spread";
    }
    if (res > allowed) {
        allowed = res;
        by = "resolution";
    }
    num_set(ck, "baseline", b, 1);
    num_set(ck, "measured", r, 1);
    num_set(ck, "change", (r - b) / b, b > 0);
    num_set(ck, "allowed", allowed / b, b > 0);
    num_set(ck, "spread", sd / b, b > 0 && sd > 0);
    json_object_set_new(ck, "allowed_by", json_string(by));
    if (worse > allowed) {
        check_set(ck, "fail", 1,
                  "%.4g %s against the baseline's %.4g: %+.1f%%, beyond the %.1f%% allowed "
                  "(%s)", r, unit, b, b > 0 ? 100 * (r - b) / b : 0.0,
                  b > 0 ? 100 * allowed / b : 0.0, by);
    } else if (-worse > allowed) {
        json_object_set_new(ck, "improved", json_true());
        check_set(ck, "pass", 0, "%.4g %s against %.4g: %+.1f%%, better than the baseline by "
                                 "more than the %.1f%% allowed (refresh the baseline?)",
                  r, unit, b, b > 0 ? 100 * (r - b) / b : 0.0, b > 0 ? 100 * allowed / b : 0.0);
    } else {
        check_set(ck, "pass", 0, "%.4g %s against %.4g: %+.1f%%, within %.1f%% (%s)", r, unit, b,
                  b > 0 ? 100 * (r - b) / b : 0.0, b > 0 ? 100 * allowed / b : 0.0, by);
    }
}

/* Every row and figure of a baseline entry the run cannot be compared on. */
static void entry_unmatched(gctx_t *c, const json_t *be, const char *label, const char *status,
                            int fails, const char *why)
{
    const json_t *br, *f;
    const char *fig;
    size_t k;
    char name[512];
    json_array_foreach(json_object_get(be, "rows"), k, br) {
        json_object_foreach((json_t *)json_object_get(br, "figures"), fig, f) {
            int ip = json_is_true(json_object_get(br, "in_place"));
            json_t *ck;
            check_name(name, sizeof(name), str_of(be, "name"), label,
                       json_object_get(br, "size"), ip, fig, br);
            ck = check_new(c, "baseline", name, str_of(be, "name"), label,
                           json_object_get(br, "size"), ip, fig);
            num_set(ck, "baseline", json_number_value(json_object_get(f, "value")), 1);
            json_object_set_new(ck, "measured", json_null());
            check_set(ck, status, fails, "%s", why);
        }
    }
}

static tb_status_t compare_baseline(gctx_t *c, const json_t *baseline)
{
    const json_t *tests = json_object_get(c->doc, "tests"), *be;
    size_t e;
    int miss_fails = !c->opts->allow_missing;
    tb_status_t st;

    json_array_foreach(json_object_get(baseline, "entries"), e, be) {
        char label[128], why[512], name[512];
        size_t i, found = (size_t)-1, other = (size_t)-1;
        const json_t *t, *br, *rows;
        tb_doc_entry_label(be, label, sizeof(label));
        for (i = 0; i < c->ntests; i++) {
            t = json_array_get(tests, i);
            if (!tb_doc_entry_same(be, t))
                continue;
            if (tb_gate_ranks_agree(json_object_get(be, "ranks"),
                                    json_object_get(c->keys[i], "ranks"))) {
                found = i;
                break;
            }
            other = i;
        }
        if (found == (size_t)-1 && other != (size_t)-1) {
            c->matched[other] = 1;
            snprintf(why, sizeof(why), "not comparable: the run measured it at %lld ranks, the "
                                       "baseline at %lld",
                     (long long)json_integer_value(json_object_get(c->keys[other], "ranks")),
                     (long long)json_integer_value(json_object_get(be, "ranks")));
            entry_unmatched(c, be, label, "missing", miss_fails, why);
            continue;
        }
        if (found == (size_t)-1) {
            entry_unmatched(c, be, label, "missing", miss_fails, "not in the run");
            continue;
        }
        c->matched[found] = 1;
        t = json_array_get(tests, found);
        if (!strcmp(str_of(t, "status"), "skipped")) {
            snprintf(why, sizeof(why), "skipped in the run: %s", str_of(t, "skip_reason"));
            entry_unmatched(c, be, label, "missing", miss_fails, why);
            continue;
        }
        if (strcmp(str_of(t, "status"), "ok")) {
            snprintf(why, sizeof(why), "the run's entry ended '%s'", str_of(t, "status"));
            entry_unmatched(c, be, label, "fail", 1, why);
            continue;
        }
        if ((st = run_rows(c, found, &rows)))
            return st;
        json_array_foreach(json_object_get(be, "rows"), i, br) {
            int ip = json_is_true(json_object_get(br, "in_place"));
            const json_t *rr = row_find(rows, br), *bf;
            const char *fig;
            json_object_foreach((json_t *)json_object_get(br, "figures"), fig, bf) {
                const tb_gate_figure_t *f = tb_gate_figure_find(fig);
                const json_t *rf = json_object_get(json_object_get(rr, "figures"), fig);
                json_t *ck;
                check_name(name, sizeof(name), str_of(be, "name"), label,
                           json_object_get(br, "size"), ip, fig, br);
                ck = check_new(c, "baseline", name, str_of(be, "name"), label,
                               json_object_get(br, "size"), ip, fig);
                if (!rr || !rf) {
                    num_set(ck, "baseline", json_number_value(json_object_get(bf, "value")), 1);
                    json_object_set_new(ck, "measured", json_null());
                    check_set(ck, "missing", miss_fails, "%s",
                              rr ? "this figure was not measured in the run"
                                 : "this size was not measured in the run");
                    continue;
                }
                compare(c, ck, bf, rf, f && f->higher_better);
            }
        }
    }
    return TB_OK;
}

/* ---- expectations ---------------------------------------------------------------------- */

static int key_matches(const json_t *key, const json_t *filters)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)filters, k, v) {
        if (!strcmp(k, "size") || !strcmp(k, "in_place"))
            continue;
        if (!strcmp(k, "memory")) {
            if (!json_equal(json_object_get(key, "send_memory"), v) ||
                !json_equal(json_object_get(key, "recv_memory"), v))
                return 0;
        } else if (!json_equal(json_object_get(key, k), v)) {
            return 0;
        }
    }
    return 1;
}

static int op_holds(const char *op, double x, double v)
{
    if (!strcmp(op, ">="))
        return x >= v;
    if (!strcmp(op, "<="))
        return x <= v;
    if (!strcmp(op, ">"))
        return x > v;
    if (!strcmp(op, "<"))
        return x < v;
    return x == v;
}

static json_t *expect_check(gctx_t *c, const json_t *ex, const char *name, const char *test,
                            const char *label, const json_t *size, int in_place)
{
    json_t *ck = check_new(c, "expect", name, test, label, size, in_place, str_of(ex, "figure"));
    json_object_set(ck, "source", json_object_get(ex, "source"));
    json_object_set(ck, "op", json_object_get(ex, "op"));
    json_object_set(ck, "limit", json_object_get(ex, "value"));
    json_object_set(ck, "expectation", json_object_get(ex, "text"));
    return ck;
}

static tb_status_t analysis_of(gctx_t *c, const json_t **a_p)
{
    const json_t *a = json_object_get(c->doc, "analysis");
    if (!c->analysis) {
        const json_t *v = json_object_get(a, "version");
        if (json_is_object(a) && json_is_integer(v) && json_integer_value(v) >= 1 &&
            json_integer_value(v) <= TB_ANALYSIS_VERSION &&
            json_is_array(json_object_get(a, "culprits"))) {
            c->analysis = json_incref((json_t *)a);
        } else {
            tb_analysis_opts_t o;
            tb_status_t st;
            tb_analysis_opts_default(&o);
            if ((st = tb_analysis_run(c->doc, c->docdir, &o, &c->analysis)))
                return st;
        }
    }
    *a_p = c->analysis;
    return TB_OK;
}

static tb_status_t expect_analysis(gctx_t *c, const json_t *ex)
{
    const json_t *a, *cu, *filters = json_object_get(ex, "filters");
    const char *kind = json_string_value(json_object_get(filters, "kind"));
    const char *host = json_string_value(json_object_get(filters, "host"));
    char subjects[768] = "";
    size_t i, n = 0, len = 0;
    double limit = json_number_value(json_object_get(ex, "value"));
    json_t *ck;
    tb_status_t st;

    if ((st = analysis_of(c, &a)))
        return st;
    json_array_foreach(json_object_get(a, "culprits"), i, cu) {
        int host_ok = !host;
        const json_t *h;
        size_t k;
        if (kind && strcmp(str_of(cu, "kind"), kind))
            continue;
        json_array_foreach(json_object_get(cu, "hosts"), k, h) {
            if (host && json_is_string(h) && !strcmp(json_string_value(h), host))
                host_ok = 1;
        }
        if (!host_ok)
            continue;
        n++;
        if (len < sizeof(subjects))
            len += (size_t)snprintf(subjects + len, sizeof(subjects) - len, "%s%s %s",
                                    n > 1 ? "; " : "", str_of(cu, "kind"), str_of(cu, "subject"));
    }
    ck = expect_check(c, ex, str_of(ex, "text"), "analysis", "", NULL, 0);
    num_set(ck, "measured", (double)n, 1);
    if (op_holds(str_of(ex, "op"), (double)n, limit))
        check_set(ck, "pass", 0, "%zu culprit(s)%s%s", n, n ? ": " : "", subjects);
    else
        check_set(ck, "fail", 1, "%zu culprit(s), expected %s %g%s%s", n, str_of(ex, "op"),
                  limit, n ? ": " : "", subjects);
    return TB_OK;
}

static tb_status_t expect_rows(gctx_t *c, const json_t *ex)
{
    const json_t *tests = json_object_get(c->doc, "tests"), *filters = json_object_get(ex, "filters");
    const json_t *want_size = json_object_get(filters, "size"),
                 *want_ip = json_object_get(filters, "in_place");
    const char *test = str_of(ex, "test"), *figure = str_of(ex, "figure"), *op = str_of(ex, "op");
    double limit = json_number_value(json_object_get(ex, "value"));
    size_t matched = 0, i, k;
    char label[128], name[768], sizes[256] = "";
    size_t slen = 0;
    tb_status_t st;

    for (i = 0; i < c->ntests; i++) {
        const json_t *t = json_array_get(tests, i), *rows, *rr;
        if (strcmp(str_of(t, "name"), test) || !key_matches(c->keys[i], filters))
            continue;
        tb_doc_entry_label(t, label, sizeof(label));
        if (strcmp(str_of(t, "status"), "ok")) {
            json_t *ck;
            snprintf(name, sizeof(name), "%s: %s (%s)", str_of(ex, "text"), test, label);
            ck = expect_check(c, ex, name, test, label, want_size, json_is_true(want_ip));
            check_set(ck, "fail", 1, "the run's entry ended '%s'%s%s", str_of(t, "status"),
                      json_object_get(t, "skip_reason") ? ": " : "", str_of(t, "skip_reason"));
            matched++;
            continue;
        }
        if ((st = run_rows(c, i, &rows)))
            return st;
        json_array_foreach(rows, k, rr) {
            const json_t *f = json_object_get(json_object_get(rr, "figures"), figure);
            int ip = json_is_true(json_object_get(rr, "in_place"));
            char sz[32];
            json_t *ck;
            if (!ip && slen < sizeof(sizes) - 32) {
                tb_size_format((size_t)json_integer_value(json_object_get(rr, "size")), sz,
                               sizeof(sz));
                slen += (size_t)snprintf(sizes + slen, sizeof(sizes) - slen, "%s%s", slen ? " " : "", sz);
            }
            if ((want_size && !json_equal(want_size, json_object_get(rr, "size"))) ||
                (want_ip && json_is_true(want_ip) != ip))
                continue;
            matched++;
            check_name(name, sizeof(name), test, label, json_object_get(rr, "size"), ip, figure,
                       rr);
            ck = expect_check(c, ex, name, test, label, json_object_get(rr, "size"), ip);
            if (!f) {
                json_object_set_new(ck, "measured", json_null());
                check_set(ck, "fail", 1, "%s is not measured by this entry", figure);
                continue;
            }
            num_set(ck, "measured", json_number_value(json_object_get(f, "value")), 1);
            if (op_holds(op, json_number_value(json_object_get(f, "value")), limit))
                check_set(ck, "pass", 0, "%.4g %s %s %g", json_number_value(json_object_get(f, "value")),
                          str_of(ck, "unit"), op, limit);
            else
                check_set(ck, "fail", 1, "%.4g %s, expected %s %g",
                          json_number_value(json_object_get(f, "value")), str_of(ck, "unit"), op,
                          limit);
        }
    }
    if (matched == 0) {
        json_t *ck = expect_check(c, ex, str_of(ex, "text"), test, "", want_size,
                                  json_is_true(want_ip));
        json_object_set_new(ck, "measured", json_null());
        if (sizes[0])
            check_set(ck, "fail", 1, "no measurement matches (the run has %s at %s)", test,
                      sizes);
        else
            check_set(ck, "fail", 1, "no measurement matches: the run has no %s entry that "
                                     "finished with these keys", test);
    }
    return TB_OK;
}

/* ---- the whole check ------------------------------------------------------------------- */

tb_status_t tb_gate_check(const json_t *doc, const char *docdir, const json_t *baseline,
                          const json_t *expect, const tb_gate_opts_t *opts, json_t **result_p)
{
    gctx_t c;
    const json_t *tests = json_object_get(doc, "tests"), *ex, *ck, *t;
    json_t *result = NULL, *fresh;
    size_t i, passed = 0, failed = 0, missing = 0, improved = 0;
    tb_status_t st = TB_OK;

    memset(&c, 0, sizeof(c));
    c.doc = doc;
    c.docdir = docdir;
    c.opts = opts;
    c.ntests = json_array_size(tests);
    c.checks = json_array();
    c.rows = calloc(c.ntests + 1, sizeof(*c.rows));
    c.keys = calloc(c.ntests + 1, sizeof(*c.keys));
    c.matched = calloc(c.ntests + 1, sizeof(*c.matched));
    if (!c.rows || !c.keys || !c.matched) {
        st = tb_error(TB_ERR_ENV, "check: out of memory");
        goto out;
    }
    for (i = 0; i < c.ntests; i++)
        c.keys[i] = tb_gate_entry_key(json_array_get(tests, i));
    if (baseline && (st = compare_baseline(&c, baseline)))
        goto out;
    if (baseline) {
        /* Every row missing is a wrong baseline (another backend, another job shape), not a
         * pass, even where missing rows are allowed. */
        size_t compared = 0;
        json_array_foreach(c.checks, i, ck)
            compared += strcmp(str_of(ck, "status"), "missing") != 0;
        if (compared == 0) {
            json_t *w = check_new(&c, "baseline", "the baseline matches the run", "baseline", "",
                                  NULL, 0, "");
            check_set(w, "fail", 1, "no row of the baseline matched an entry of the run (by "
                                    "test, backend, memory kinds, dtype, placement or level, "
                                    "ranks and size): a baseline of another configuration?");
        }
    }
    json_array_foreach(expect, i, ex) {
        if (!strcmp(str_of(ex, "test"), "analysis"))
            st = expect_analysis(&c, ex);
        else
            st = expect_rows(&c, ex);
        if (st)
            goto out;
    }
    fresh = json_array();
    for (i = 0; baseline && i < c.ntests; i++) {
        char label[128];
        t = json_array_get(tests, i);
        if (c.matched[i])
            continue;
        tb_doc_entry_label(t, label, sizeof(label));
        json_array_append_new(fresh, json_pack("{s:s, s:s, s:s, s:I}", "name", str_of(t, "name"),
                                               "label", label, "status", str_of(t, "status"),
                                               "rows",
                                               (json_int_t)json_array_size(json_object_get(t, "results"))));
    }
    json_array_foreach(c.checks, i, ck) {
        const char *s = str_of(ck, "status");
        if (!strcmp(s, "pass"))
            passed++;
        else if (!strcmp(s, "missing"))
            missing++;
        else
            failed++;
        improved += json_is_true(json_object_get(ck, "improved"));
    }
    {
        int fail = failed > 0 || (missing > 0 && !opts->allow_missing);
        result = json_pack("{s:s, s:i, s:s, s:{s:f, s:f, s:b}, s:{s:I, s:I, s:I, s:I, s:I}, "
                           "s:O, s:o, s:O?, s:O?}",
                           "schema", TB_CHECK_SCHEMA, "version", TB_CHECK_VERSION, "verdict",
                           fail ? "fail" : "pass", "options", "tolerance", opts->tolerance,
                           "spread_k", opts->spread_k, "allow_missing", opts->allow_missing,
                           "counts", "checks", (json_int_t)json_array_size(c.checks), "passed",
                           (json_int_t)passed, "failed", (json_int_t)failed, "missing",
                           (json_int_t)missing, "improved", (json_int_t)improved, "checks",
                           c.checks, "new", fresh, "baseline",
                           baseline ? json_object_get(baseline, "source") : NULL,
                           "baseline_notes", baseline ? json_object_get(baseline, "notes") : NULL);
    }
    if (!result) {
        st = tb_error(TB_ERR_INTERNAL, "check: could not build the result");
        goto out;
    }
    json_object_set_new(result, "complete", json_boolean(json_is_true(json_object_get(doc, "complete"))));
    *result_p = result;
out:
    for (i = 0; i < c.ntests; i++) {
        json_decref(c.rows ? c.rows[i] : NULL);
        json_decref(c.keys ? c.keys[i] : NULL);
    }
    free(c.rows);
    free(c.keys);
    free(c.matched);
    json_decref(c.checks);
    json_decref(c.analysis);
    return st;
}
