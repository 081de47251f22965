/* The HTML report and the Markdown summary (report/html.c, report/markdown.c): every
 * document string reaches the page as escaped data, matrices survive quantisation, large
 * ones are aggregated per node pair, and the command's --format option. What the page
 * draws in a browser is tests/browser's. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"
#include "tb_test.h"

#define EVIL "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&amp;"

static json_t *sample(void)
{
    json_t *doc = NULL;
    TB_CHECK_INT(tb_doc_load(TB_TEST_DATA_DIR "/report/results-sample.json", &doc), TB_OK);
    return doc;
}

/* Decodes a view's quantised matrix ({scale, lo, hi, data}) into n doubles. */
static double *dequantise(const json_t *q, size_t n)
{
    static const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *s = json_string_value(json_object_get(q, "data"));
    double lo = json_number_value(json_object_get(q, "lo")), hi = json_number_value(json_object_get(q, "hi"));
    int lg = !strcmp(json_string_value(json_object_get(q, "scale")), "log");
    unsigned char *bytes = calloc(n * 2 + 3, 1);
    double *out = calloc(n + 1, sizeof(*out));
    size_t k = 0;
    for (size_t i = 0; s && s[i] && s[i + 1] && s[i + 2] && s[i + 3]; i += 4) {
        unsigned v = 0;
        for (int c = 0; c < 4; c++)
            v = v << 6 | (s[i + c] == '=' ? 0 : (unsigned)(strchr(alpha, s[i + c]) - alpha));
        bytes[k++] = (unsigned char)(v >> 16);
        bytes[k++] = (unsigned char)(v >> 8);
        bytes[k++] = (unsigned char)v;
        if (k >= n * 2)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned c = bytes[2 * i] | (unsigned)bytes[2 * i + 1] << 8;
        out[i] = c == 65535 ? NAN : lg ? lo * exp(log(hi / lo) * c / 65534.0) : lo + (hi - lo) * c / 65534.0;
    }
    free(bytes);
    return out;
}

static char *html_of(const json_t *doc, const char *dir)
{
    char path[4096], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/report.html", dir);
    TB_CHECK_INT(tb_report_html_write(doc, NULL, dir, path), TB_OK);
    TB_CHECK_INT(tb_file_read(path, &text, &len), TB_OK);
    return text;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t k = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p++)
        k++;
    return k;
}

/* Markup in every free-text field stays data: the page holds exactly its own two
 * <script> elements, the title is entity-escaped, the data has \u003c for '<'. */
static void test_escaping(void)
{
    json_t *doc = sample(), *host;
    char tmp[] = "/tmp/tb-html-XXXXXX", *text, *md = NULL;
    size_t i, len = 0;
    FILE *f;
    if (!doc || !mkdtemp(tmp))
        return;
    json_array_foreach(json_object_get(doc, "hosts"), i, host)
        json_object_set_new(host, "name", json_string(EVIL));
    json_object_set_new(json_object_get(doc, "run"), "start_time", json_string(EVIL "</title>"));
    json_object_set_new(json_object_get(doc, "run"), "command_line", json_pack("[s, s]", "run", EVIL "</script><!--"));
    json_array_append_new(json_object_get(doc, "findings"),
                          json_pack("{s:s, s:s, s:s, s:s}", "severity", "error", "code", EVIL,
                                    "host", EVIL, "message", EVIL "\u2028"));
    text = html_of(doc, tmp);
    TB_CHECK_INT(count_of(text, "<script"), 2);
    TB_CHECK_INT(count_of(text, "</script>"), 2);
    TB_CHECK_INT(count_of(text, "<img"), 0);
    TB_CHECK_INT(count_of(text, "<!--"), 0);
    TB_CHECK_HAS(text, "<title>topobench report: &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x "
                       "onerror=alert(2)&gt;&quot;&#39;&amp;amp;&lt;/title&gt;");
    TB_CHECK_HAS(text, "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e");
    TB_CHECK_HAS(text, "default-src 'none'");
    /* No address but the SVG namespace's name (an identifier, never fetched). */
    TB_CHECK_INT(count_of(text, "://"), count_of(text, "http://www.w3.org/2000/svg"));
    free(text);

    f = open_memstream(&md, &len);
    if (f) {
        tb_report_markdown(doc, f);
        fclose(f);
    }
    TB_CHECK_INT(count_of(md, "<script"), 0);
    TB_CHECK_INT(count_of(md, "<img"), 0);
    TB_CHECK_HAS(md, "&lt;script&gt;alert(1)");
    TB_CHECK_HAS(md, "**Not analysed**");
    TB_CHECK_HAS(md, "| all_reduce | float | ok | 4194304 | ");
    free(md);
    json_decref(doc);
    {
        char path[4200];
        snprintf(path, sizeof(path), "%s/report.html", tmp);
        unlink(path);
    }
    rmdir(tmp);
}

/* The view: every matrix of the sample with its spread, quantised within 1e-4; the
 * sweeps as series; the run's facts. */
static void test_view(void)
{
    json_t *doc = sample(), *view = NULL, *m, *rows = NULL;
    double *v;
    size_t i, j, n;
    if (!doc)
        return;
    TB_CHECK_INT(tb_report_html_view(doc, NULL, TB_TEST_DATA_DIR "/report", &view), TB_OK);
    TB_CHECK_INT(json_array_size(json_object_get(view, "matrices")), 3);
    m = json_array_get(json_object_get(view, "matrices"), 0);
    TB_CHECK_STR(json_string_value(json_object_get(m, "key")), "recv_gbps");
    TB_CHECK_STR(json_string_value(json_object_get(m, "unit")), "GB/s");
    TB_CHECK(json_object_get(m, "cv") != NULL);
    n = (size_t)json_integer_value(json_object_get(m, "n"));
    TB_CHECK_INT(n, 4);
    v = dequantise(json_object_get(m, "v"), n * n);
    {
        const json_t *te;
        json_array_foreach(json_object_get(doc, "tests"), i, te)
            if (!strcmp(json_string_value(json_object_get(te, "name")), "matrix"))
                rows = json_object_get(json_object_get(te, "matrix"), "recv_gbps");
    }
    for (i = 0; rows && i < n; i++)
        for (j = 0; j < n; j++) {
            const json_t *x = json_array_get(json_array_get(rows, i), j);
            if (json_is_number(x))
                TB_CHECK_NEAR(v[i * n + j], json_number_value(x), 1e-4 * json_number_value(x));
            else
                TB_CHECK(isnan(v[i * n + j]));
        }
    free(v);
    TB_CHECK(json_array_size(json_object_get(view, "bw")) >= 3);
    TB_CHECK(json_array_size(json_object_get(view, "time")) >= 2);
    {
        char *facts = json_dumps(json_object_get(view, "facts"), 0);
        TB_CHECK_HAS(facts, "Open MPI v4.1.4");
        free(facts);
    }
    json_decref(view);
    json_decref(doc);
}

/* Above TB_HTML_GRID_MAX rows: one cell per node pair, the median of the pair's rank
 * cells and its worst one. */
static void test_aggregate(void)
{
    enum { N = 300, PER = 10 };
    char tmp[] = "/tmp/tb-html-XXXXXX", path[4200];
    json_t *doc = tb_doc_new(), *labels = json_array(), *m, *view = NULL, *mv;
    tb_doc_keys_t keys = {"mpi", "host", "host", "byte", NULL, "rank"};
    json_t *t = tb_doc_entry_new("matrix", "matrix", &keys, NULL);
    double *bw = malloc(N * N * sizeof(double)), *med, *worst;
    if (!mkdtemp(tmp))
        return;
    for (size_t i = 0; i < N; i++) {
        char l[32];
        snprintf(l, sizeof(l), "h%zu:%zu", i / PER, i);
        json_array_append_new(labels, json_string(l));
        for (size_t j = 0; j < N; j++)
            bw[i * N + j] = i == j ? NAN : (i / PER == 3 && j / PER == 5) ? 2.0 : 10.0;
    }
    bw[31 * N + 52] = 0.5; /* h3 -> h5's worst cell */
    m = json_pack("{s:s, s:i, s:o}", "level", "rank", "size", 1048576, "labels", labels);
    json_object_set_new(t, "matrix", m);
    json_array_append_new(json_object_get(doc, "tests"), t);
    TB_CHECK_INT(tb_doc_matrix_set(m, "recv_gbps", bw, N, tmp, "matrix-rank"), TB_OK);
    TB_CHECK_INT(tb_report_html_view(doc, NULL, tmp, &view), TB_OK);
    mv = json_array_get(json_object_get(view, "matrices"), 0);
    TB_CHECK(json_is_true(json_object_get(mv, "agg")));
    TB_CHECK_INT(json_integer_value(json_object_get(mv, "n")), N / PER);
    TB_CHECK_STR(json_string_value(json_array_get(json_object_get(mv, "labels"), 5)), "h5");
    med = dequantise(json_object_get(mv, "v"), (N / PER) * (N / PER));
    worst = dequantise(json_object_get(mv, "worst"), (N / PER) * (N / PER));
    TB_CHECK_NEAR(med[3 * (N / PER) + 5], 2.0, 1e-3);
    TB_CHECK_NEAR(worst[3 * (N / PER) + 5], 0.5, 1e-3);
    TB_CHECK_NEAR(med[5 * (N / PER) + 3], 10.0, 1e-3);
    TB_CHECK_NEAR(med[0], 10.0, 1e-3); /* a diagonal block: the node's own pairs */
    TB_CHECK_NEAR(json_number_value(json_object_get(json_object_get(mv, "refs"), "net")), 10.0, 1e-9);
    free(med);
    free(worst);
    free(bw);
    json_decref(view);
    json_decref(doc);
    snprintf(path, sizeof(path), "%s/matrix-rank-recv_gbps.npy", tmp);
    unlink(path);
    rmdir(tmp);
}

/* --format: a list of csv, html, md, all; anything else a usage error. */
static void test_cmd_format(void)
{
    char tmp[] = "/tmp/tb-html-XXXXXX", path[4200];
    char *argv[] = {"report", TB_TEST_DATA_DIR "/report/results-sample.json", "-o", tmp, "-q",
                    "--format", "html,md", NULL};
    if (!mkdtemp(tmp))
        return;
    TB_CHECK_INT(tb_report_cmd(7, argv), TB_OK);
    snprintf(path, sizeof(path), "%s/report.html", tmp);
    TB_CHECK(access(path, R_OK) == 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/report.md", tmp);
    TB_CHECK(access(path, R_OK) == 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/summary.csv", tmp);
    TB_CHECK(access(path, R_OK) != 0); /* csv not asked for */
    argv[6] = "html,pdf";
    TB_CHECK_INT(tb_report_cmd(7, argv), TB_ERR_USAGE);
    argv[6] = "";
    TB_CHECK_INT(tb_report_cmd(7, argv), TB_ERR_USAGE);
    rmdir(tmp);
}

/* An analysed document: the recommendation files' texts are in the view, in the order of
 * docs/analysis.md, and no temporary file is left. */
static void test_recommend_texts(void)
{
    char tmp[] = "/tmp/tb-html-XXXXXX", path[4200];
    json_t *doc = NULL, *view = NULL, *files, *f;
    tb_analysis_opts_t ao;
    json_t *a = NULL;
    size_t i;
    int env = 0, slurm = 0;
    if (!mkdtemp(tmp))
        return;
    TB_CHECK_INT(tb_doc_load(TB_TEST_DATA_DIR "/analysis/slow_node.json", &doc), TB_OK);
    tb_analysis_opts_default(&ao);
    TB_CHECK_INT(tb_analysis_run(doc, TB_TEST_DATA_DIR "/analysis", &ao, &a), TB_OK);
    json_object_set_new(doc, "analysis", a);
    TB_CHECK_INT(tb_report_html_view(doc, NULL, tmp, &view), TB_OK);
    files = json_object_get(view, "rec_files");
    TB_CHECK(json_array_size(files) >= 5);
    TB_CHECK_STR(json_string_value(json_object_get(json_array_get(files, 0), "file")), "nccl.env");
    json_array_foreach(files, i, f) {
        const char *text = json_string_value(json_object_get(f, "text"));
        env |= !strcmp(json_string_value(json_object_get(f, "file")), "nccl.env") && strstr(text, "NCCL");
        slurm |= !strcmp(json_string_value(json_object_get(f, "file")), "slurm.txt") && strstr(text, "--exclude=n3");
        TB_CHECK(!strstr(text, "tb-report-rec-"));
    }
    TB_CHECK(env && slurm);
    json_decref(view);
    json_decref(doc);
    snprintf(path, sizeof(path), "%s/report.html", tmp);
    rmdir(tmp);
}

/* A node verdict's `explains` (links between nodes it accounts for) in the Markdown
 * summary, under its culprit. */
static void test_markdown_explains(void)
{
    json_t *doc = NULL, *a = NULL;
    tb_analysis_opts_t ao;
    char *md = NULL;
    size_t len = 0;
    FILE *f;
    TB_CHECK_INT(tb_doc_load(TB_TEST_DATA_DIR "/analysis/slow_node_isolated_pair.json", &doc),
                 TB_OK);
    if (!doc)
        return;
    tb_analysis_opts_default(&ao);
    TB_CHECK_INT(tb_analysis_run(doc, TB_TEST_DATA_DIR "/analysis", &ao, &a), TB_OK);
    json_object_set_new(doc, "analysis", a);
    f = open_memstream(&md, &len);
    if (f) {
        tb_report_markdown(doc, f);
        fclose(f);
    }
    TB_CHECK_HAS(md, "- **node: n3**");
    TB_CHECK_HAS(md, "\n  - explains below_model ranks 2 -&gt; 3 (isolated)\n");
    free(md);
    json_decref(doc);
}

/* A baseline's figures in the sweep series: entries matched by their keys whatever their
 * order, not at another rank count, rows by size and in_place; a placement that differs
 * is another entry. */
static void test_baseline(void)
{
    json_t *doc = sample(), *view = NULL, *base, *s;
    const char *K = "\"backend\": \"mpi\", \"send_memory\": \"host\", \"recv_memory\": \"host\"";
    char text[2048];
    size_t i;
    int seen = 0;
    if (!doc)
        return;
    snprintf(text, sizeof(text),
             "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"source\": {\"file\": "
             "\"old/results.json\", \"format\": \"results\", \"start_time\": \"2026-01-01T00:00:00Z\"},"
             " \"entries\": ["
             "{\"name\": \"all_reduce\", \"kind\": \"collective\", %s, \"dtype\": \"float\", "
             "\"placement\": null, \"level\": null, \"ranks\": 8, \"rows\": [{\"size\": 4194304, "
             "\"in_place\": false, \"figures\": {\"busbw_gbps\": {\"value\": 1, \"cv\": null}}}]},"
             "{\"name\": \"latency\", \"kind\": \"p2p\", %s, \"dtype\": \"byte\", \"placement\": "
             "\"intra-node\", \"level\": null, \"ranks\": null, \"rows\": [{\"size\": 8, \"in_place\": "
             "false, \"figures\": {\"latency_us\": {\"value\": 0.5, \"cv\": null}}}, {\"size\": 999, "
             "\"in_place\": false, \"figures\": {\"latency_us\": {\"value\": 9, \"cv\": null}}}]},"
             "{\"name\": \"bw\", \"kind\": \"p2p\", %s, \"dtype\": \"byte\", \"placement\": "
             "\"intra-node\", \"level\": null, \"ranks\": 2, \"rows\": [{\"size\": 4194304, "
             "\"in_place\": false, \"figures\": {\"bw_gbps\": {\"value\": 99, \"cv\": 0.5}}}]},"
             "{\"name\": \"bw\", \"kind\": \"p2p\", %s, \"dtype\": \"byte\", \"placement\": "
             "\"inter-node\", \"level\": null, \"ranks\": 2, \"rows\": [{\"size\": 4194304, "
             "\"in_place\": false, \"figures\": {\"bw_gbps\": {\"value\": 11, \"cv\": 0.01}}}]}]}",
             K, K, K, K);
    base = json_loads(text, 0, NULL);
    TB_CHECK(base != NULL);
    TB_CHECK_INT(tb_report_html_view(doc, base, TB_TEST_DATA_DIR "/report", &view), TB_OK);
    TB_CHECK_HAS(json_string_value(json_object_get(view, "baseline")),
                 "old/results.json (results, run of 2026-01-01");
    json_array_foreach(json_object_get(view, "bw"), i, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        char *b = json_dumps(json_object_get(s, "baseline"), JSON_COMPACT);
        if (!strcmp(name, "bw (inter-node)")) {
            TB_CHECK_STR(b, "[[4194304,11.0,0.01]]");
            seen++;
        } else { /* all_reduce: measured at 4 ranks, the baseline's at 8 */
            TB_CHECK_STR(b, "[]");
        }
        free(b);
    }
    json_array_foreach(json_object_get(view, "time"), i, s)
        if (!strcmp(json_string_value(json_object_get(s, "name")), "latency (intra-node)")) {
            char *b = json_dumps(json_object_get(s, "baseline"), JSON_COMPACT);
            TB_CHECK_STR(b, "[[8,0.5,null]]");
            free(b);
            seen++;
        }
    TB_CHECK_INT(seen, 2);
    json_decref(view);
    view = NULL;
    TB_CHECK_INT(tb_report_html_view(doc, NULL, TB_TEST_DATA_DIR "/report", &view), TB_OK);
    TB_CHECK(view && !json_object_get(view, "baseline"));
    json_decref(view);
    json_decref(base);
    json_decref(doc);
}

/* The sweeps' expected lines: a collective's ring model from the analysis (an NCCL
 * all_reduce at 0.32 of it), both variants; none for the MPI all_reduce within a node. */
static void test_expected_lines(void)
{
    json_t *doc = NULL, *view = NULL, *a = NULL, *s;
    tb_analysis_opts_t ao;
    size_t i;
    int nccl = 0;
    TB_CHECK_INT(tb_doc_load(TB_TEST_DATA_DIR "/analysis/coll_slow_nccl.json", &doc), TB_OK);
    if (!doc)
        return;
    tb_analysis_opts_default(&ao);
    TB_CHECK_INT(tb_analysis_run(doc, TB_TEST_DATA_DIR "/analysis", &ao, &a), TB_OK);
    json_object_set_new(doc, "analysis", a);
    TB_CHECK_INT(tb_report_html_view(doc, NULL, TB_TEST_DATA_DIR "/analysis", &view), TB_OK);
    json_array_foreach(json_object_get(view, "bw"), i, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (!strncmp(name, "nccl_all_reduce (nccl-device-float)", 35)) {
            TB_CHECK_NEAR(json_number_value(json_object_get(s, "expected")), 23.5, 1e-9);
            nccl++;
        } else if (!strncmp(name, "all_reduce", 10)) {
            TB_CHECK(json_is_null(json_object_get(s, "expected")));
        }
    }
    TB_CHECK_INT(nccl, 2);
    json_decref(view);
    json_decref(doc);
}

int main(void)
{
    tb_log_set_level(TB_LOG_ERROR);
    test_escaping();
    test_view();
    test_aggregate();
    test_cmd_format();
    test_recommend_texts();
    test_markdown_explains();
    test_baseline();
    test_expected_lines();
    return tb_test_done();
}
