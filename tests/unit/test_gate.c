/* The CI gate (topo/analysis/gate_*.c, report/gate.c), MPI-free: a baseline made from a
 * results document, a pass, a regression beyond tolerance and spread (and the same change
 * within a noisy run's spread), missing and new entries, malformed baselines, every
 * nccl-tests layout of the fixtures imported with its figures, a check against an
 * nccl-tests log, expectations (pass, fail, no match, verdicts, bad lines), and the JUnit
 * rendering's test-case count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fs.h"
#include "gate.h"
#include "gate_internal.h"
#include "log.h"
#include "report.h"
#include "tb_test.h"

#define SAMPLE TB_TEST_DATA_DIR "/report/results-sample.json"
#define NCCL TB_FIXTURES_DIR "/nccl_tests/"

static json_t *load_doc(const char *path)
{
    json_t *doc = NULL;
    TB_CHECK_INT(tb_doc_load(path, &doc), TB_OK);
    return doc;
}

static json_t *test_named(json_t *doc, const char *name)
{
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(doc, "tests"), i, t) {
        if (!strcmp(json_string_value(json_object_get(t, "name")), name))
            return t;
    }
    return NULL;
}

static long long count(const json_t *r, const char *key)
{
    return (long long)json_integer_value(json_object_get(json_object_get(r, "counts"), key));
}

static const char *verdict(const json_t *r)
{
    return json_string_value(json_object_get(r, "verdict"));
}

/* The only check with status `status`, by name ("" when none or several). */
static const char *only(const json_t *r, const char *status)
{
    const json_t *ck;
    const char *found = "";
    size_t i, n = 0;
    json_array_foreach(json_object_get(r, "checks"), i, ck) {
        if (!strcmp(json_string_value(json_object_get(ck, "status")), status)) {
            found = json_string_value(json_object_get(ck, "name"));
            n++;
        }
    }
    return n == 1 ? found : "";
}

static json_t *check(const json_t *doc, const json_t *b, const json_t *ex,
                     const tb_gate_opts_t *o_in)
{
    tb_gate_opts_t o;
    json_t *r = NULL;
    tb_gate_opts_default(&o);
    if (o_in)
        o = *o_in;
    TB_CHECK_INT(tb_gate_check(doc, TB_TEST_DATA_DIR "/report", b, ex, &o, &r), TB_OK);
    return r;
}

/* Scales the headline of all_reduce's out-of-place 4M row: time x f, busbw / f. */
static void slow_down(json_t *doc, double f, double cv)
{
    json_t *r;
    size_t i;
    json_array_foreach(json_object_get(test_named(doc, "all_reduce"), "results"), i, r) {
        if (json_integer_value(json_object_get(r, "size")) == 4194304 &&
            !json_is_true(json_object_get(r, "in_place"))) {
            json_t *tu = json_object_get(r, "time_us");
            json_object_set_new(tu, "mean", json_real(json_number_value(json_object_get(tu, "mean")) * f));
            json_object_set_new(r, "busbw_gbps",
                                json_real(json_number_value(json_object_get(r, "busbw_gbps")) / f));
            if (cv >= 0)
                json_object_set_new(tu, "cv", json_real(cv));
        }
    }
}

static void test_baseline_from_doc(void)
{
    json_t *doc = load_doc(SAMPLE), *b = NULL, *e, *r;
    if (!doc)
        return;
    TB_CHECK_INT(tb_gate_baseline_from_doc(doc, TB_TEST_DATA_DIR "/report", "sample", &b), TB_OK);
    if (!b)
        goto out;
    TB_CHECK_INT(tb_gate_baseline_validate(b, "sample"), TB_OK);
    /* latency, bw, all_reduce, matrix; node_matrix skipped and isolated left out (noted) */
    TB_CHECK_INT(json_array_size(json_object_get(b, "entries")), 4);
    TB_CHECK_INT(json_array_size(json_object_get(b, "notes")), 2);
    e = json_array_get(json_object_get(b, "entries"), 2);
    TB_CHECK_STR(json_string_value(json_object_get(e, "name")), "all_reduce");
    TB_CHECK_STR(json_string_value(json_object_get(e, "dtype")), "float");
    TB_CHECK_INT(json_integer_value(json_object_get(e, "ranks")), 4);
    TB_CHECK_INT(json_array_size(json_object_get(e, "rows")), 6);
    r = json_object_get(json_object_get(json_array_get(json_object_get(e, "rows"), 4), "figures"),
                        "busbw_gbps");
    TB_CHECK_NEAR(json_number_value(json_object_get(r, "value")), 8.935305747, 1e-9);
    TB_CHECK_NEAR(json_number_value(json_object_get(r, "cv")), 0.0108, 1e-12);
    /* one gated figure per sweep row: the latency test keeps its mean time */
    e = json_array_get(json_object_get(b, "entries"), 0);
    r = json_object_get(json_array_get(json_object_get(e, "rows"), 0), "figures");
    TB_CHECK_INT(json_object_size(r), 1);
    TB_CHECK_NEAR(json_number_value(json_object_get(json_object_get(r, "latency_us"), "value")),
                  0.2478, 1e-12);
    /* the matrix: median and worst receive cell, median latency */
    e = json_array_get(json_object_get(b, "entries"), 3);
    r = json_object_get(json_array_get(json_object_get(e, "rows"), 0), "figures");
    TB_CHECK_INT(json_object_size(r), 3);
    TB_CHECK(json_object_get(r, "recv_gbps_min") != NULL);
out:
    json_decref(b);
    json_decref(doc);
}

static void test_pass_and_regression(void)
{
    json_t *doc = load_doc(SAMPLE), *b = NULL, *run, *r;
    tb_gate_opts_t o;
    if (!doc || tb_gate_baseline_from_doc(doc, TB_TEST_DATA_DIR "/report", "sample", &b))
        goto out;

    r = check(doc, b, NULL, NULL);
    TB_CHECK_STR(verdict(r), "pass");
    TB_CHECK_INT(count(r, "checks"), 15);
    TB_CHECK_INT(count(r, "failed"), 0);
    TB_CHECK_INT(json_array_size(json_object_get(r, "new")), 2); /* node_matrix, isolated */
    json_decref(r);

    /* 20% slower with the baseline's spread (cv 1%): beyond 5% and 2 sigma */
    run = json_deep_copy(doc);
    slow_down(run, 1.25, -1);
    r = check(run, b, NULL, NULL);
    TB_CHECK_STR(verdict(r), "fail");
    TB_CHECK_INT(count(r, "failed"), 1);
    TB_CHECK_STR(only(r, "fail"), "all_reduce (float) 4M busbw_gbps");
    json_decref(r);
    /* a tolerance of 25% lets it pass */
    tb_gate_opts_default(&o);
    o.tolerance = 0.25;
    r = check(run, b, NULL, &o);
    TB_CHECK_STR(verdict(r), "pass");
    json_decref(r);
    json_decref(run);

    /* the same drop in a run whose iterations vary by 15%: within 2 combined sigma */
    run = json_deep_copy(doc);
    slow_down(run, 1.25, 0.15);
    r = check(run, b, NULL, NULL);
    TB_CHECK_STR(verdict(r), "pass");
    TB_CHECK_INT(count(r, "failed"), 0);
    /* ... which --spread 1 no longer covers */
    tb_gate_opts_default(&o);
    o.spread_k = 1;
    json_decref(r);
    r = check(run, b, NULL, &o);
    TB_CHECK_STR(verdict(r), "fail");
    json_decref(r);
    json_decref(run);

    /* twice as fast: passes, marked improved */
    run = json_deep_copy(doc);
    slow_down(run, 0.5, -1);
    r = check(run, b, NULL, NULL);
    TB_CHECK_STR(verdict(r), "pass");
    TB_CHECK_INT(count(r, "improved"), 1);
    json_decref(r);
    json_decref(run);
out:
    json_decref(b);
    json_decref(doc);
}

static void test_missing(void)
{
    json_t *doc = load_doc(SAMPLE), *b = NULL, *run, *r, *tests;
    tb_gate_opts_t o;
    size_t i;
    if (!doc || tb_gate_baseline_from_doc(doc, TB_TEST_DATA_DIR "/report", "sample", &b))
        goto out;
    /* the bw test gone: its 3 rows missing, failing by default */
    run = json_deep_copy(doc);
    tests = json_object_get(run, "tests");
    for (i = 0; i < json_array_size(tests); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(tests, i), "name")), "bw"))
            json_array_remove(tests, i);
    r = check(run, b, NULL, NULL);
    TB_CHECK_STR(verdict(r), "fail");
    TB_CHECK_INT(count(r, "missing"), 3);
    TB_CHECK_INT(count(r, "failed"), 0);
    json_decref(r);
    tb_gate_opts_default(&o);
    o.allow_missing = 1;
    r = check(run, b, NULL, &o);
    TB_CHECK_STR(verdict(r), "pass");
    TB_CHECK_INT(count(r, "missing"), 3);
    json_decref(r);
    json_decref(run);

    /* a size the run did not measure */
    run = json_deep_copy(doc);
    json_array_remove(json_object_get(test_named(run, "latency"), "results"), 0);
    r = check(run, b, NULL, NULL);
    TB_CHECK_STR(only(r, "missing"), "latency (intra-node) 8 latency_us");
    json_decref(r);
    json_decref(run);

    /* another rank count is not comparable */
    run = json_deep_copy(doc);
    json_object_set_new(json_object_get(test_named(run, "all_reduce"), "params"), "ranks",
                        json_integer(8));
    r = check(run, b, NULL, NULL);
    TB_CHECK_INT(count(r, "missing"), 6);
    TB_CHECK(strstr(json_string_value(json_object_get(
                        json_array_get(json_object_get(r, "checks"), 6), "message")),
                    "at 8 ranks, the baseline at 4") != NULL);
    json_decref(r);
    json_decref(run);

    /* an entry that timed out fails its checks */
    run = json_deep_copy(doc);
    json_object_set_new(test_named(run, "bw"), "status", json_string("timeout"));
    r = check(run, b, NULL, NULL);
    TB_CHECK_INT(count(r, "failed"), 3);
    json_decref(r);
    json_decref(run);
out:
    json_decref(b);
    json_decref(doc);
}

static tb_status_t parse_text(const char *text, json_t **b_p)
{
    tb_gate_import_opts_t io;
    tb_gate_import_opts_default(&io);
    return tb_gate_baseline_parse(text, strlen(text), "base.json", ".", &io, b_p);
}

static void test_malformed_baseline(void)
{
    static const char *const bad[] = {
        "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"entries\": [",
        "{\"schema\": \"topobench-baseline\", \"schema_version\": 2, \"entries\": []}",
        "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"entries\": []}",
        "{\"schema\": \"something\"}",
        "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"entries\": [{\"name\": "
        "\"bw\", \"rows\": [{\"size\": \"x\", \"figures\": {\"bw_gbps\": {\"value\": 1}}}]}]}",
        "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"entries\": [{\"name\": "
        "\"bw\", \"rows\": [{\"size\": 8, \"figures\": {\"speed\": {\"value\": 1}}}]}]}",
        "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"entries\": [{\"name\": "
        "\"bw\", \"rows\": [{\"size\": 8, \"figures\": {\"bw_gbps\": {\"value\": -1}}}]}]}",
        "hello, this is no nccl-tests log\n",
        "#  size count type redop root time algbw busbw #wrong\n  8 2 float sum\n",
        "#  size count type redop root time algbw busbw #wrong\n  8 2 float sum -1 1.0 0.0 x 0\n",
        NULL};
    const char *good = "{\"schema\": \"topobench-baseline\", \"schema_version\": 1, \"entries\": "
                       "[{\"name\": \"bw\", \"placement\": \"inter-node\", \"rows\": [{\"size\": "
                       "8, \"figures\": {\"bw_gbps\": {\"value\": 1, \"cv\": null}}}]}]}";
    json_t *b = NULL;
    for (int i = 0; bad[i]; i++) {
        b = NULL;
        TB_CHECK_INT(parse_text(bad[i], &b), TB_ERR_INPUT);
        TB_CHECK(b == NULL);
        json_decref(b);
    }
    b = NULL;
    TB_CHECK_INT(parse_text(good, &b), TB_OK);
    json_decref(b);
}

typedef struct nccl_case {
    const char *file, *test_opt;
    size_t size_opt;
    size_t entries;
    const char *test, *dtype;
    long long ranks; /* 0: null */
    long long size;
    int in_place;
    double busbw;
} nccl_case_t;

static void test_nccl_fixtures(void)
{
    static const nccl_case_t cases[] = {
        {"awsome-distributed-training_2node-2xp4de.24xlarge-16xA100-EFA_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 0, 2147483648LL, 0, 78.33},
        {"awsome-distributed-training_2node-2xp5.48xlarge-16xH100-EFA_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 0, 17179869184LL, 1, 487.26},
        {"coreweave-nccl-tests_GB200-NVL72_2-Racks_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 144, 17179869184LL, 0, 810.41},
        {"coreweave-nccl-tests_GB200-NVL72_20-Racks_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 1440, 17179869184LL, 0, 405.74},
        {"coreweave-nccl-tests_GB200-NVL72_Single-Rack_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 72, 8589934592LL, 1, 846.82},
        {"dstack-docs_GCP-A3High-2node-16xH100-TCPX_all_gather_perf.txt", NULL, 0, 1, "all_gather", "float", 16, 536870912LL, 0, 50.17},
        {"dstack-docs_GCP-A3Mega-2node-16xH100-TCPXO_all_gather_perf.txt", NULL, 0, 1, "all_gather", "float", 16, 524288LL, 0, 47.19},
        {"dstack-docs_Lambda-2node-16xB200-IB_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 0, 2147483648LL, 1, 702.91},
        {"dstack-docs_Nebius-2node-16xH100-IB_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 0, 8589934592LL, 0, 467.54},
        {"oci-hpc_2node-16xH100-BM.GPU.H100.8-RoCE_all_reduce_perf.txt", NULL, 0, 1, "all_reduce", "float", 16, 17179869184LL, 0, 471.22},
        {"stas00-ml-engineering_1node-8xA100_all_reduce_perf_massaged.txt", NULL, 0, 1, "all_reduce", "float", 8, 17179869184LL, 0, 234.89},
        {"stas00-ml-engineering_1node-8xH200_all_reduce_bench-py.txt", NULL, 0, 1, "all_reduce", "float", 8, 8589934592LL, 0, 477.45},
        {"stas00-ml-engineering_1node-8xH200_NVLS-vs-ring_8GiB_table.md", "all_reduce", 8ULL << 30, 5, "all_reduce", "float", 8, 8589934592LL, 0, 473.1},
        {"stas00-ml-engineering_1node-8xB200-p6-b200_NVLS-vs-ring_8GiB_table.md", "all_reduce", 8ULL << 30, 5, "all_reduce", "float", 8, 8589934592LL, 0, 838.0},
        {"stas00-ml-engineering_1node-8xH200_16GiB_collectives_table.md", NULL, 0, 3, "all_gather", "float", 8, 2147483648LL, 0, 361.4},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const nccl_case_t *k = &cases[c];
        tb_gate_import_opts_t io;
        json_t *b = NULL, *e;
        size_t i, j;
        int found = 0;
        tb_gate_import_opts_default(&io);
        io.test = k->test_opt;
        io.size = k->size_opt;
        printf("nccl-tests fixture %s\n", k->file);
        {
            char path[1024];
            snprintf(path, sizeof(path), "%s%s", NCCL, k->file);
            TB_CHECK_INT(tb_gate_baseline_load(path, &io, &b), TB_OK);
        }
        if (!b)
            continue;
        TB_CHECK_INT(tb_gate_baseline_validate(b, k->file), TB_OK);
        TB_CHECK_INT(json_array_size(json_object_get(b, "entries")), k->entries);
        json_array_foreach(json_object_get(b, "entries"), i, e) {
            const json_t *row, *rk = json_object_get(e, "ranks");
            if (strcmp(json_string_value(json_object_get(e, "name")), k->test) ||
                strcmp(json_string_value(json_object_get(e, "dtype")), k->dtype) ||
                (k->ranks ? json_integer_value(rk) != k->ranks : !json_is_null(rk)))
                continue;
            TB_CHECK_STR(json_string_value(json_object_get(e, "backend")), "nccl");
            TB_CHECK_STR(json_string_value(json_object_get(e, "send_memory")), "device");
            json_array_foreach(json_object_get(e, "rows"), j, row) {
                if (json_integer_value(json_object_get(row, "size")) != k->size ||
                    json_is_true(json_object_get(row, "in_place")) != k->in_place)
                    continue;
                found = 1;
                TB_CHECK_NEAR(json_number_value(json_object_get(
                                  json_object_get(json_object_get(row, "figures"), "busbw_gbps"),
                                  "value")),
                              k->busbw, 1e-9);
            }
        }
        if (!found)
            fprintf(stderr, "  %s: no %s %s row at %lld bytes (ranks %lld)\n", k->file, k->test,
                    k->dtype, k->size, k->ranks);
        TB_CHECK(found);
        json_decref(b);
    }
}

/* nccl-tests -o all: one size per reduction; the rows stay apart, and a run's row is
 * matched by its reduction. */
static void test_nccl_ops(void)
{
    const char *log = "#  size count type redop root time algbw busbw #wrong time algbw busbw #wrong\n"
                      "  1024 256 float sum -1 19.85 0.05 0.08 0 19.50 0.05 0.08 0\n"
                      "  1024 256 float prod -1 29.85 0.03 0.05 0 29.50 0.03 0.05 0\n";
    tb_gate_import_opts_t io;
    json_t *b = NULL, *rows, *row;
    tb_gate_import_opts_default(&io);
    TB_CHECK_INT(tb_gate_baseline_from_nccl(log, strlen(log), "all_reduce_perf.log", &io, &b), TB_OK);
    if (!b)
        return;
    TB_CHECK_INT(tb_gate_baseline_validate(b, "ops"), TB_OK);
    rows = json_object_get(json_array_get(json_object_get(b, "entries"), 0), "rows");
    TB_CHECK_INT(json_array_size(rows), 4);
    row = json_array_get(rows, 2);
    TB_CHECK_STR(json_string_value(json_object_get(row, "redop")), "prod");
    TB_CHECK_INT(json_integer_value(json_object_get(row, "root")), -1);
    TB_CHECK(!tb_gate_row_same(json_array_get(rows, 0), row));
    json_object_del(row, "redop"); /* a row without a reduction matches either */
    TB_CHECK(tb_gate_row_same(json_array_get(rows, 0), row));
    json_decref(b);
}

static void test_nccl_needs_options(void)
{
    tb_gate_import_opts_t io;
    json_t *b = NULL;
    tb_gate_import_opts_default(&io);
    /* a table with neither collective nor size: both must be given */
    TB_CHECK_INT(tb_gate_baseline_load(NCCL "stas00-ml-engineering_1node-8xH200_NVLS-vs-ring_8GiB_table.md",
                                       &io, &b), TB_ERR_INPUT);
    io.test = "all_reduce";
    TB_CHECK_INT(tb_gate_baseline_load(NCCL "stas00-ml-engineering_1node-8xH200_NVLS-vs-ring_8GiB_table.md",
                                       &io, &b), TB_ERR_INPUT);
    TB_CHECK(b == NULL);
}

/* A run against an nccl-tests log of the same collective, backend and rank count. */
static void test_check_against_nccl(void)
{
    const char *log = "#  Rank  0 Group  0 Pid 1 on n0 device  0 [0x0f] GPU\n"
                      "#  Rank  3 Group  0 Pid 4 on n1 device  1 [0x2d] GPU\n"
                      "#       size         count      type   redop    root     time   algbw   "
                      "busbw #wrong     time   algbw   busbw #wrong\n"
                      "#        (B)    (elements)                               (us)  (GB/s)  "
                      "(GB/s)            (us)  (GB/s)  (GB/s)\n"
                      "        1024           256     float     sum      -1    19.85    0.05    "
                      "0.08      0    19.50    0.05    0.08      0\n"
                      "       65536         16384     float     sum      -1    63.91    1.03    "
                      "1.54      0    63.20    1.04    1.56      0\n"
                      "     4194304       1048576     float     sum      -1    704.1    5.96   "
                      "11.00      0    701.4    5.98   11.00      0\n";
    tb_gate_import_opts_t io;
    json_t *doc = load_doc(SAMPLE), *b = NULL, *t, *r;
    if (!doc)
        return;
    tb_gate_import_opts_default(&io);
    TB_CHECK_INT(tb_gate_baseline_from_nccl(log, strlen(log), "ci/all_reduce_perf.log", &io, &b), TB_OK);
    {
        /* the mpi run against the nccl log: nothing matches, a failure even when missing
         * rows are allowed */
        tb_gate_opts_t o;
        tb_gate_opts_default(&o);
        o.allow_missing = 1;
        r = check(doc, b, NULL, &o);
        TB_CHECK_STR(verdict(r), "fail");
        TB_CHECK_INT(count(r, "failed"), 1);
        TB_CHECK_STR(only(r, "fail"), "the baseline matches the run");
        json_decref(r);
    }
    t = test_named(doc, "all_reduce");
    json_object_set_new(t, "backend", json_string("nccl"));
    json_object_set_new(t, "send_memory", json_string("device"));
    json_object_set_new(t, "recv_memory", json_string("device"));
    r = check(doc, b, NULL, NULL);
    /* 1K and 64K within the log's rounding and the spread; 4M 8.9 against 11.00 */
    TB_CHECK_STR(verdict(r), "fail");
    TB_CHECK_INT(count(r, "checks"), 6);
    TB_CHECK_INT(count(r, "failed"), 2);
    TB_CHECK_INT(json_array_size(json_object_get(r, "new")), 5);
    json_decref(r);
    json_decref(b);
    json_decref(doc);
}

static json_t *expect_of(const char *text)
{
    json_t *ex = NULL;
    TB_CHECK_INT(tb_gate_expect_parse(text, strlen(text), "expect.txt", &ex), TB_OK);
    return ex;
}

static void test_expectations(void)
{
    static const char *const bad[] = {
        "all_reduce size=4M speed >= 8\n",                 /* unknown figure */
        "all_reduce size=4M busbw_gbps => 8\n",            /* operator */
        "all_reduce size=4Q busbw_gbps >= 8\n",            /* size */
        "latency size=8 latency_us <= 2.5 ms\n",           /* unit */
        "all_reduce size=4M busbw_gbps >=\n",              /* no value */
        "all_reduce colour=red busbw_gbps >= 8\n",         /* unknown key */
        "analysis busbw_gbps >= 8\n",                      /* analysis counts verdicts */
        "all_reduce verdicts == 0\n",                      /* ... and only it */
        "analysis kind=node verdicts == 0.5\n",            /* a count */
        "all_reduce size=4M size=1M busbw_gbps >= 8\n",    /* twice */
        "all_reduce size=4M busbw_gbps >= 8 GB/s extra\n", /* trailing words */
        "# only a comment\n\n",                            /* nothing to check */
        NULL};
    json_t *doc = load_doc(SAMPLE), *slow = load_doc(TB_TEST_DATA_DIR "/analysis/slow_node.json");
    json_t *ex, *r;
    for (int i = 0; bad[i]; i++) {
        ex = NULL;
        TB_CHECK_INT(tb_gate_expect_parse(bad[i], strlen(bad[i]), "expect.txt", &ex), TB_ERR_INPUT);
        json_decref(ex);
    }
    if (!doc || !slow)
        goto out;
    ex = expect_of("# the sample's floor\n"
                   "all_reduce dtype=float size=4M busbw_gbps >= 8 GB/s   # both placements\n"
                   "latency placement=intra-node size=8 latency_us <= 0.3 us\n"
                   "matrix recv_gbps_min >= 0.1\n"
                   "analysis kind=node verdicts == 0\n");
    TB_CHECK_INT(json_array_size(ex), 4);
    r = check(doc, NULL, ex, NULL);
    TB_CHECK_STR(verdict(r), "pass");
    TB_CHECK_INT(count(r, "checks"), 5);
    json_decref(r);
    json_decref(ex);

    ex = expect_of("all_reduce size=4M in_place=false busbw_gbps >= 20\n"
                   "latency size=3M latency_us <= 1\n"
                   "alltoall busbw_gbps >= 1\n");
    r = check(doc, NULL, ex, NULL);
    TB_CHECK_STR(verdict(r), "fail");
    TB_CHECK_INT(count(r, "checks"), 3);
    TB_CHECK_INT(count(r, "failed"), 3);
    json_decref(r);
    json_decref(ex);

    /* no node verdicts: the slow node fails it, naming the node */
    ex = expect_of("analysis kind=node verdicts == 0\n");
    r = check(slow, NULL, ex, NULL);
    TB_CHECK_STR(verdict(r), "fail");
    TB_CHECK(strstr(json_string_value(json_object_get(json_array_get(json_object_get(r, "checks"), 0),
                                                      "message")),
                    "node n3") != NULL);
    json_decref(r);
    json_decref(ex);
out:
    json_decref(doc);
    json_decref(slow);
}

static void test_junit(void)
{
    json_t *doc = load_doc(SAMPLE), *b = NULL, *r;
    char *buf = NULL;
    size_t len = 0, n = 0;
    FILE *f;
    if (!doc || tb_gate_baseline_from_doc(doc, TB_TEST_DATA_DIR "/report", "sample", &b))
        goto out;
    slow_down(doc, 1.25, -1);
    r = check(doc, b, NULL, NULL);
    f = open_memstream(&buf, &len);
    tb_report_check_junit(r, f);
    fclose(f);
    for (const char *p = buf; (p = strstr(p, "<testcase ")) != NULL; p++)
        n++;
    TB_CHECK_INT(n, count(r, "checks"));
    TB_CHECK(strstr(buf, "<failure type=\"regression\"") != NULL);
    TB_CHECK(strstr(buf, "tests=\"15\" failures=\"1\"") != NULL);
    free(buf);
    json_decref(r);
out:
    json_decref(b);
    json_decref(doc);
}

int main(void)
{
    tb_log_set_identity("test", -1);
    test_baseline_from_doc();
    test_pass_and_regression();
    test_missing();
    test_malformed_baseline();
    test_nccl_fixtures();
    test_nccl_ops();
    test_nccl_needs_options();
    test_check_against_nccl();
    test_expectations();
    test_junit();
    return tb_test_done();
}
