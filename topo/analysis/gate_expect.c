/* Expectation files (docs/gate.md): one check per line,
 *
 *     TEST [KEY=VALUE ...] FIGURE OP NUMBER [UNIT]      # comment
 *     all_reduce dtype=float size=1G busbw_gbps >= 40 GB/s
 *     latency placement=intra-node size=8 latency_us <= 2.5 us
 *     analysis kind=node verdicts == 0
 *
 * parsed into an array of objects {line, text, test, filters, figure, op, value}; the
 * first bad line is refused with its file, line and field. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "gate_internal.h"
#include "log.h"
#include "units.h"

#define LINE_MAX_LEN 4096
#define MAXTOK 32

static tb_status_t bad(const char *what, int line, const char *field, const char *fmt, ...)
    TB_PRINTF(4, 5);
static tb_status_t bad(const char *what, int line, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return tb_error(TB_ERR_INPUT, "%s:%d: field '%s': %s", what, line, field, msg);
}

static const char *const test_keys[] = {"backend", "send_memory", "recv_memory", "memory",
                                        "dtype",   "placement",   "level",       "size",
                                        "in_place", "ranks",      NULL};
static const char *const analysis_keys[] = {"kind", "host", NULL};
static const char *const ops[] = {">=", "<=", ">", "<", "==", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s))
            return 1;
    return 0;
}

static int name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-:/+", *s))
            return 0;
    return 1;
}

/* One line (comment already cut, NUL-terminated); *exp_p NULL for a blank line. */
static tb_status_t parse_line(char *s, const char *what, int line, json_t **exp_p)
{
    char *tok[MAXTOK + 1], *save = NULL;
    int n = 0, i, analysis;
    json_t *filters, *e;
    const tb_gate_figure_t *fig;
    double value;
    char *end;

    *exp_p = NULL;
    for (char *t = strtok_r(s, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAXTOK)
            return bad(what, line, "line", "more than %d words", MAXTOK);
        tok[n++] = t;
    }
    if (n == 0)
        return TB_OK;
    if (!name_ok(tok[0]) || strchr(tok[0], '='))
        return bad(what, line, "test", "'%s' is not a test name (latency, all_reduce, "
                                       "node_matrix, ... or analysis)", tok[0]);
    analysis = !strcmp(tok[0], "analysis");
    filters = json_object();
    for (i = 1; i < n && strchr(tok[i], '='); i++) {
        char *eq = strchr(tok[i], '='), *key = tok[i], *val = eq + 1;
        json_t *v;
        *eq = 0;
        if (!in_list(analysis ? analysis_keys : test_keys, key)) {
            json_decref(filters);
            return bad(what, line, key, "unknown key (%s)",
                       analysis ? "expected kind or host"
                                : "expected backend, send_memory, recv_memory, memory, dtype, "
                                  "placement, level, size, in_place or ranks");
        }
        if (json_object_get(filters, key)) {
            json_decref(filters);
            return bad(what, line, key, "given twice");
        }
        if (!*val) {
            json_decref(filters);
            return bad(what, line, key, "no value after '='");
        }
        if (!strcmp(key, "size")) {
            size_t sz;
            if (tb_size_parse(val, &sz) != TB_OK) {
                json_decref(filters);
                return bad(what, line, key, "'%s' is not a size (8, 64K, 1M, 1G)", val);
            }
            v = json_integer((json_int_t)sz);
        } else if (!strcmp(key, "in_place")) {
            if (strcmp(val, "true") && strcmp(val, "false")) {
                json_decref(filters);
                return bad(what, line, key, "'%s': expected true or false", val);
            }
            v = json_boolean(!strcmp(val, "true"));
        } else if (!strcmp(key, "ranks")) {
            long r = strtol(val, &end, 10);
            if (*end || r < 1 || !isdigit((unsigned char)val[0])) {
                json_decref(filters);
                return bad(what, line, key, "'%s': expected a rank count >= 1", val);
            }
            v = json_integer(r);
        } else {
            if (!name_ok(val)) {
                json_decref(filters);
                return bad(what, line, key, "'%s' is not a plain name", val);
            }
            v = json_string(val);
        }
        json_object_set_new(filters, key, v);
    }
    if (i >= n) {
        json_decref(filters);
        return bad(what, line, "figure", "missing: expected FIGURE OP NUMBER after the test%s",
                   analysis ? " (analysis ... verdicts == 0)" : " (... busbw_gbps >= 40)");
    }
    fig = tb_gate_figure_find(tok[i]);
    if (!fig || analysis != !strcmp(tok[i], "verdicts")) {
        json_decref(filters);
        return bad(what, line, "figure", "'%s': expected %s", tok[i],
                   analysis ? "verdicts (analysis counts culprits)"
                            : "busbw_gbps, algbw_gbps, bw_gbps, latency_us, recv_gbps_median, "
                              "recv_gbps_min, latency_us_median or latency_us_max");
    }
    if (i + 1 >= n || !in_list(ops, tok[i + 1])) {
        json_decref(filters);
        return bad(what, line, "operator", "'%s': expected >=, <=, >, < or ==",
                   i + 1 < n ? tok[i + 1] : "");
    }
    if (i + 2 >= n) {
        json_decref(filters);
        return bad(what, line, "value", "missing: expected a number after '%s'", tok[i + 1]);
    }
    value = strtod(tok[i + 2], &end);
    if (end == tok[i + 2] || *end || !isfinite(value) || value < 0 ||
        (analysis && value != floor(value))) {
        json_decref(filters);
        return bad(what, line, "value", "'%s': expected %s", tok[i + 2],
                   analysis ? "a count (0, 1, ...)" : "a number >= 0");
    }
    if (i + 3 < n && strcmp(tok[i + 3], fig->unit)) {
        json_decref(filters);
        if (!fig->unit[0])
            return bad(what, line, "unit", "'%s': %s is a count, it has no unit", tok[i + 3],
                       fig->name);
        return bad(what, line, "unit", "'%s': %s is in %s", tok[i + 3], fig->name, fig->unit);
    }
    if (i + 4 < n) {
        json_decref(filters);
        return bad(what, line, "line", "'%s' after the value and unit (a comment starts "
                                       "with #)", tok[i + 4]);
    }
    e = json_pack("{s:i, s:s, s:o, s:s, s:s, s:f}", "line", line, "test", tok[0], "filters",
                  filters, "figure", fig->name, "op", tok[i + 1], "value", value);
    *exp_p = e;
    return TB_OK;
}

tb_status_t tb_gate_expect_parse(const char *text, size_t len, const char *what,
                                 json_t **expect_p)
{
    json_t *list = json_array(), *e;
    char buf[LINE_MAX_LEN + 1], shown[LINE_MAX_LEN + 1];
    size_t pos = 0;
    int line = 0;
    tb_status_t st;

    while (pos < len) {
        const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        char *hash;
        pos += n + 1;
        line++;
        if (n > LINE_MAX_LEN) {
            json_decref(list);
            return bad(what, line, "line", "longer than %d characters", LINE_MAX_LEN);
        }
        if (memchr(p, '\0', n)) {
            json_decref(list);
            return bad(what, line, "line", "a NUL byte: not a text file");
        }
        memcpy(buf, p, n);
        buf[n] = 0;
        if ((hash = strchr(buf, '#')) != NULL)
            *hash = 0;
        /* the text as written (comment cut, spaces squeezed), for messages and reports */
        {
            size_t k = 0;
            int space = 0;
            for (const char *c = buf; *c; c++) {
                if (*c == ' ' || *c == '\t' || *c == '\r') {
                    space = k > 0;
                    continue;
                }
                if (space)
                    shown[k++] = ' ';
                space = 0;
                shown[k++] = *c;
            }
            shown[k] = 0;
        }
        if ((st = parse_line(buf, what, line, &e))) {
            json_decref(list);
            return st;
        }
        if (e) {
            char src[512];
            snprintf(src, sizeof(src), "%s:%d", what, line);
            json_object_set_new(e, "text", json_string(shown));
            json_object_set_new(e, "source", json_string(src));
            json_array_append_new(list, e);
        }
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return tb_error(TB_ERR_INPUT, "%s: no expectation in it (a line such as `all_reduce "
                                      "size=1G busbw_gbps >= 40`; docs/gate.md)", what);
    }
    *expect_p = list;
    return TB_OK;
}

tb_status_t tb_gate_expect_load(const char *path, json_t **expect_p)
{
    char *text;
    size_t len;
    tb_status_t st = tb_file_read(path, &text, &len);
    if (st)
        return st;
    st = tb_gate_expect_parse(text, len, path, expect_p);
    free(text);
    return st;
}
