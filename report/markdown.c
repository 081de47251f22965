/* `topobench report --format md`: a Markdown summary of a results document for CI job
 * pages and tickets (docs/report.md): verdict first, the culprits with one line of
 * evidence each, the confirm command, problems of the run, findings, then one line per
 * test with its large-message figure. Rendered from the document alone. */
#include <math.h>
#include <string.h>

#include "doc.h"
#include "escape.h"
#include "report.h"

static const char *sv(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void put_num(double x, FILE *out)
{
    if (!(x == x) || x - x != 0)
        fputs("-", out);
    else if (fabs(x) >= 100)
        fprintf(out, "%.0f", x);
    else
        fprintf(out, "%.3g", x);
}

/* The figure a reader looks at first: busbw or bandwidth at the largest size (out of
 * place), else the mean time at the smallest. */
static void large_msg(const json_t *test, FILE *out)
{
    const json_t *rows = json_object_get(test, "results"), *row, *best = NULL;
    size_t i;
    json_array_foreach(rows, i, row)
        if (!json_is_true(json_object_get(row, "in_place")) &&
            (!best || json_integer_value(json_object_get(row, "size")) >
                          json_integer_value(json_object_get(best, "size"))))
            best = row;
    if (!best) {
        fputs("- | - |", out);
        return;
    }
    fprintf(out, "%lld | ", (long long)json_integer_value(json_object_get(best, "size")));
    if (json_is_number(json_object_get(best, "busbw_gbps"))) {
        put_num(json_number_value(json_object_get(best, "busbw_gbps")), out);
        fputs(" GB/s busbw |", out);
    } else if (json_is_number(json_object_get(best, "bw_gbps"))) {
        put_num(json_number_value(json_object_get(best, "bw_gbps")), out);
        fputs(" GB/s |", out);
    } else {
        put_num(json_number_value(json_object_get(json_object_get(best, "time_us"), "mean")), out);
        fputs(" us |", out);
    }
}

void tb_report_markdown(const json_t *doc, FILE *out)
{
    const json_t *a = json_object_get(doc, "analysis"), *run = json_object_get(doc, "run");
    const json_t *c, *f, *test, *x;
    const char *cmd = sv(json_object_get(a, "confirm"), "command");
    size_t i, k, nc = json_array_size(json_object_get(a, "culprits"));

    fputs("## topobench report: ", out);
    tb_report_md_put(sv(run, "start_time"), out);
    fprintf(out, ", %zu nodes, %zu ranks\n\n", json_array_size(json_object_get(doc, "hosts")),
            json_array_size(json_object_get(doc, "ranks")));
    if (!a)
        fputs("**Not analysed** (`topobench analyze RESULTS.json` names culprits)\n", out);
    else if (!strcmp(sv(a, "verdict"), "ok"))
        fprintf(out, "**OK**: no culprit among %lld measured cells\n",
                (long long)json_integer_value(json_object_get(a, "cells_judged")));
    else
        fprintf(out, "**SUSPECT: %zu culprit%s**\n", nc, nc == 1 ? "" : "s");
    if (!json_is_true(json_object_get(doc, "complete"))) {
        fputs("\nThe run did not finish (status: ", out);
        tb_report_md_put(sv(doc, "status"), out);
        fputs("): what was measured before it ended.\n", out);
    }
    if (nc)
        fputs("\n", out);
    json_array_foreach(json_object_get(a, "culprits"), i, c) {
        const json_t *ev = json_array_get(json_object_get(c, "evidence"), 0);
        fputs("- **", out);
        tb_report_md_put(sv(c, "kind"), out);
        fputs(": ", out);
        tb_report_md_put(sv(c, "subject"), out);
        fputs("**", out);
        if (sv(c, "suggests")[0]) {
            fputs(" (look at: ", out);
            tb_report_md_put(sv(c, "suggests"), out);
            fputs(")", out);
        }
        if (sv(ev, "message")[0]) {
            fputs(": ", out);
            tb_report_md_put(sv(ev, "message"), out);
        }
        fputs("\n", out);
        /* links between nodes this node verdict explains (analysis: `explains`) */
        json_array_foreach(json_object_get(c, "explains"), k, x) {
            fputs("  - explains ", out);
            tb_report_md_put(sv(x, "kind"), out);
            fputs(" ", out);
            tb_report_md_put(sv(x, "subject"), out);
            fputs("\n", out);
        }
    }
    if (cmd[0]) {
        /* HTML <pre>, not a code fence: a host name cannot close it. */
        fputs("\nConfirm one pair at a time:\n\n<pre>", out);
        tb_report_html_text(cmd, out);
        fputs("</pre>\n", out);
    }
    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        if (!strcmp(sv(test, "status"), "ok") && !json_array_size(json_object_get(test, "errors")))
            continue;
        fputs("\n- test ", out);
        tb_report_md_put(sv(test, "name"), out);
        fputs(": ", out);
        tb_report_md_put(sv(test, "status"), out);
        if (json_array_size(json_object_get(test, "errors")))
            fprintf(out, ", %zu data error records", json_array_size(json_object_get(test, "errors")));
        if (sv(test, "skip_reason")[0]) {
            fputs(" (", out);
            tb_report_md_put(sv(test, "skip_reason"), out);
            fputs(")", out);
        }
    }
    if (json_array_size(json_object_get(doc, "findings"))) {
        fputs("\n\n### Findings\n\n", out);
        json_array_foreach(json_object_get(doc, "findings"), i, f) {
            fputs("- ", out);
            tb_report_md_put(sv(f, "severity"), out);
            fputs(" ", out);
            tb_report_md_put(sv(f, "code"), out);
            if (sv(f, "host")[0]) {
                fputs(" on ", out);
                tb_report_md_put(sv(f, "host"), out);
            }
            fputs(": ", out);
            tb_report_md_put(sv(f, "message"), out);
            fputs("\n", out);
        }
    }
    fputs("\n\n### Tests\n\n| test | | status | largest size (B) | figure |\n|---|---|---|---|---|\n", out);
    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        char label[128];
        tb_doc_entry_label(test, label, sizeof(label));
        fputs("| ", out);
        tb_report_md_put(sv(test, "name"), out);
        fputs(" | ", out);
        tb_report_md_put(label, out);
        fputs(" | ", out);
        tb_report_md_put(sv(test, "status"), out);
        fputs(" | ", out);
        if (json_object_get(test, "matrix"))
            fputs("matrix | see the HTML report |", out);
        else
            large_msg(test, out);
        fputs("\n", out);
    }
    fputs("\nUnits: bandwidth in GB/s (1e9 bytes/s), time in us.\n", out);
}
