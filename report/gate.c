/* The gate's result (`topobench check`, docs/gate.md) rendered three ways: the table on the
 * terminal, JUnit XML (one test case per check) for CI systems, and a Markdown summary for
 * a merge request or a job page. Reads the result object only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long count_of(const json_t *r, const char *key)
{
    return (long long)json_integer_value(json_object_get(json_object_get(r, "counts"), key));
}

/* A figure the way the tables print it: 3-4 significant digits. */
static const char *fmt_num(const json_t *v, char *buf, size_t len)
{
    double x = json_number_value(v);
    if (!json_is_number(v) || !isfinite(x))
        snprintf(buf, len, "-");
    else if (fabs(x) >= 1000)
        snprintf(buf, len, "%.0f", x);
    else if (fabs(x) >= 100)
        snprintf(buf, len, "%.1f", x);
    else if (fabs(x) >= 1)
        snprintf(buf, len, "%.2f", x);
    else
        snprintf(buf, len, "%.3g", x);
    return buf;
}

static const char *fmt_pct(const json_t *v, int sign, char *buf, size_t len)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, sign ? "%+.1f%%" : "%.1f%%", 100 * json_number_value(v));
    return buf;
}

/* The reference column: the baseline's figure, or an expectation's "op limit". */
static const char *fmt_ref(const json_t *ck, char *buf, size_t len)
{
    char n[32];
    if (!strcmp(str_of(ck, "suite"), "expect"))
        snprintf(buf, len, "%s %s", str_of(ck, "op"), fmt_num(json_object_get(ck, "limit"), n, sizeof(n)));
    else
        snprintf(buf, len, "%s", fmt_num(json_object_get(ck, "baseline"), n, sizeof(n)));
    return buf;
}

static const char *status_word(const json_t *ck)
{
    const char *s = str_of(ck, "status");
    if (!strcmp(s, "pass"))
        return json_is_true(json_object_get(ck, "improved")) ? "better" : "ok";
    if (!strcmp(s, "missing"))
        return json_is_true(json_object_get(ck, "fails")) ? "MISSING" : "missing";
    return "FAIL";
}

static void summary_line(const json_t *r, char *buf, size_t len)
{
    const json_t *o = json_object_get(r, "options");
    snprintf(buf, len, "%s: %lld checks, %lld failed, %lld missing%s (tolerance %.4g%%, spread x%.3g)",
             !strcmp(str_of(r, "verdict"), "pass") ? "PASS" : "FAIL", count_of(r, "checks"),
             count_of(r, "failed"), count_of(r, "missing"),
             json_is_true(json_object_get(o, "allow_missing")) ? " (allowed)" : "",
             100 * json_number_value(json_object_get(o, "tolerance")),
             json_number_value(json_object_get(o, "spread_k")));
}

void tb_report_check_print(const json_t *r, int quiet, FILE *out)
{
    const json_t *ck, *e;
    size_t i, w = 20;
    char line[512], a[32], b[32], c[32], d[32];

    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        size_t l = strlen(str_of(ck, "name"));
        if (l > w)
            w = l < 64 ? l : 64;
    }
    int shown = 0;
    json_array_foreach(json_object_get(r, "checks"), i, ck)
        shown |= !quiet || strcmp(str_of(ck, "status"), "pass");
    if (shown) {
        fprintf(out, "%-8s %-*s %12s %12s %8s %8s  %s\n", "status", (int)w, "check",
                "reference", "measured", "change", "allowed", "unit");
        json_array_foreach(json_object_get(r, "checks"), i, ck) {
            const char *s = status_word(ck);
            if (quiet && !strcmp(str_of(ck, "status"), "pass"))
                continue;
            fprintf(out, "%-8s %-*.*s %12s %12s %8s %8s  %s\n", s, (int)w, (int)w,
                    str_of(ck, "name"), fmt_ref(ck, a, sizeof(a)),
                    fmt_num(json_object_get(ck, "measured"), b, sizeof(b)),
                    fmt_pct(json_object_get(ck, "change"), 1, c, sizeof(c)),
                    fmt_pct(json_object_get(ck, "allowed"), 0, d, sizeof(d)), str_of(ck, "unit"));
        }
    }
    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        if (!strcmp(str_of(ck, "status"), "pass"))
            continue;
        if (json_object_get(ck, "source"))
            fprintf(out, "%s %s: %s: %s\n", status_word(ck), str_of(ck, "source"),
                    str_of(ck, "name"), str_of(ck, "message"));
        else
            fprintf(out, "%s %s: %s\n", status_word(ck), str_of(ck, "name"),
                    str_of(ck, "message"));
    }
    json_array_foreach(json_object_get(r, "new"), i, e) {
        fprintf(out, "new: %s (%s): in the run, not in the baseline (%lld rows, %s)\n",
                str_of(e, "name"), str_of(e, "label"),
                (long long)json_integer_value(json_object_get(e, "rows")), str_of(e, "status"));
    }
    summary_line(r, line, sizeof(line));
    fprintf(out, "check: %s\n", line);
}

/* ---- JUnit XML ------------------------------------------------------------------------- */

/* Text as XML character data or an attribute value: markup escaped, characters XML 1.0
 * forbids (controls, U+FFFE, U+FFFF) replaced by '?'. The input is UTF-8 (jansson's). */
static void xml_put(const char *s, FILE *out)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '&')
            fputs("&amp;", out);
        else if (*p == '<')
            fputs("&lt;", out);
        else if (*p == '>')
            fputs("&gt;", out);
        else if (*p == '"')
            fputs("&quot;", out);
        else if (*p == '\'')
            fputs("&apos;", out);
        else if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            fputc('?', out);
        else if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
            fputc('?', out);
            p += 2;
        } else
            fputc(*p, out);
    }
}

static void junit_suite(const json_t *r, const char *suite, FILE *out)
{
    const json_t *ck;
    size_t i, n = 0, failures = 0, skipped = 0;
    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        if (strcmp(str_of(ck, "suite"), suite))
            continue;
        n++;
        if (json_is_true(json_object_get(ck, "fails")))
            failures++;
        else if (!strcmp(str_of(ck, "status"), "missing"))
            skipped++;
    }
    fprintf(out, "  <testsuite name=\"topobench.%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                 "skipped=\"%zu\">\n", suite, n, failures, skipped);
    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        const char *st = str_of(ck, "status");
        if (strcmp(str_of(ck, "suite"), suite))
            continue;
        fputs("    <testcase classname=\"topobench.", out);
        xml_put(suite, out);
        fputc('.', out);
        xml_put(str_of(ck, "test"), out);
        fputs("\" name=\"", out);
        xml_put(str_of(ck, "name"), out);
        fputs("\" time=\"0\">\n", out);
        if (json_is_true(json_object_get(ck, "fails"))) {
            fprintf(out, "      <failure type=\"%s\" message=\"",
                    !strcmp(st, "missing") ? "missing"
                    : !strcmp(suite, "expect") ? "expectation" : "regression");
            xml_put(str_of(ck, "message"), out);
            fputs("\">", out);
            if (json_object_get(ck, "source")) {
                xml_put(str_of(ck, "source"), out);
                fputs(": ", out);
                xml_put(str_of(ck, "expectation"), out);
            } else {
                xml_put(str_of(ck, "name"), out);
            }
            fputs("</failure>\n", out);
        } else if (!strcmp(st, "missing")) {
            fputs("      <skipped message=\"", out);
            xml_put(str_of(ck, "message"), out);
            fputs("\"/>\n", out);
        } else {
            fputs("      <system-out>", out);
            xml_put(str_of(ck, "message"), out);
            fputs("</system-out>\n", out);
        }
        fputs("    </testcase>\n", out);
    }
    fputs("  </testsuite>\n", out);
}

void tb_report_check_junit(const json_t *r, FILE *out)
{
    const json_t *ck;
    size_t i;
    int have_baseline = 0, have_expect = 0;
    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        have_baseline |= !strcmp(str_of(ck, "suite"), "baseline");
        have_expect |= !strcmp(str_of(ck, "suite"), "expect");
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites name=\"topobench check\" tests=\"%lld\" failures=\"%lld\" "
                 "errors=\"0\">\n",
            count_of(r, "checks"),
            count_of(r, "failed") +
                (json_is_true(json_object_get(json_object_get(r, "options"), "allow_missing"))
                     ? 0
                     : count_of(r, "missing")));
    if (have_baseline)
        junit_suite(r, "baseline", out);
    if (have_expect)
        junit_suite(r, "expect", out);
    fputs("</testsuites>\n", out);
}

/* ---- Markdown -------------------------------------------------------------------------- */

/* A table cell: '|' and HTML markup escaped, line breaks as spaces. */
void tb_report_md_put(const char *s, FILE *out)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void md_table(const json_t *r, int failing_only, FILE *out)
{
    const json_t *ck;
    size_t i;
    char a[32], b[32], c[32], d[32];
    fputs("| status | check | reference | measured | change | allowed | why |\n"
          "|---|---|--:|--:|--:|--:|---|\n", out);
    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        if (failing_only && !strcmp(str_of(ck, "status"), "pass"))
            continue;
        fprintf(out, "| %s | ", status_word(ck));
        tb_report_md_put(str_of(ck, "name"), out);
        fprintf(out, " | %s | %s%s%s | %s | %s | ", fmt_ref(ck, a, sizeof(a)),
                fmt_num(json_object_get(ck, "measured"), b, sizeof(b)),
                json_is_number(json_object_get(ck, "measured")) && str_of(ck, "unit")[0] ? " " : "",
                json_is_number(json_object_get(ck, "measured")) ? str_of(ck, "unit") : "",
                fmt_pct(json_object_get(ck, "change"), 1, c, sizeof(c)),
                fmt_pct(json_object_get(ck, "allowed"), 0, d, sizeof(d)));
        if (json_object_get(ck, "source")) {
            tb_report_md_put(str_of(ck, "source"), out);
            fputs(": ", out);
        }
        tb_report_md_put(str_of(ck, "message"), out);
        fputs(" |\n", out);
    }
}

void tb_report_check_markdown(const json_t *r, FILE *out)
{
    const json_t *src = json_object_get(r, "baseline"), *e;
    size_t i;
    char line[512];
    int pass = !strcmp(str_of(r, "verdict"), "pass");

    summary_line(r, line, sizeof(line));
    fprintf(out, "## topobench check: %s\n\n", pass ? "PASS" : "**FAIL**");
    tb_report_md_put(line, out);
    fputs("\n", out);
    if (src) {
        fputs("\nBaseline: ", out);
        tb_report_md_put(str_of(src, "file"), out);
        fprintf(out, " (%s", str_of(src, "format"));
        if (json_object_get(src, "start_time")) {
            fputs(", run of ", out);
            tb_report_md_put(str_of(src, "start_time"), out);
        }
        fputs(")\n", out);
    }
    if (!json_is_true(json_object_get(r, "complete")))
        fputs("\nThe results document is incomplete (the run did not finish).\n", out);
    if (count_of(r, "failed") + count_of(r, "missing") > 0) {
        fputs("\n### Failed and missing\n\n", out);
        md_table(r, 1, out);
    }
    if (json_array_size(json_object_get(r, "new")) > 0) {
        fputs("\nIn the run, not in the baseline:", out);
        json_array_foreach(json_object_get(r, "new"), i, e) {
            fputs(i ? ", " : " ", out);
            tb_report_md_put(str_of(e, "name"), out);
            fputs(" (", out);
            tb_report_md_put(str_of(e, "label"), out);
            fputs(")", out);
        }
        fputs("\n", out);
    }
    fprintf(out, "\n<details><summary>All %lld checks</summary>\n\n", count_of(r, "checks"));
    md_table(r, 0, out);
    fputs("\n</details>\n", out);
}
