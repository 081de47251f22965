/* core/doc: the results document round-trips through a file, and loading rejects
 * malformed, truncated, foreign and newer documents with TB_ERR_INPUT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"
#include "tb_test.h"

static char dir[] = "/tmp/tb-test-doc.XXXXXX";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_round_trip(void)
{
    char path[256];
    json_t *doc = tb_doc_new(), *back = NULL, *test;
    tb_stats_t st = {.count = 3, .min = 1e-6, .median = 2e-6, .p99 = 3e-6, .mean = 2e-6,
                     .max = 3e-6, .cv = 0.5};
    snprintf(path, sizeof(path), "%s/results.json", dir);
    test = json_pack("{s:s, s:s, s:s, s:[{s:i, s:o}]}", "name", "all_reduce", "kind",
                     "collective", "variant", "float", "results", "size", 1024, "time_us",
                     tb_doc_stats_us(&st));
    json_array_append_new(json_object_get(doc, "tests"), test);
    TB_CHECK_INT(tb_doc_write(doc, path), TB_OK);
    TB_CHECK_INT(tb_doc_load(path, &back), TB_OK);
    TB_CHECK(back && json_equal(doc, back));
    if (back) {
        json_t *tu = json_object_get(
            json_array_get(json_object_get(json_array_get(json_object_get(back, "tests"), 0),
                                           "results"),
                           0),
            "time_us");
        TB_CHECK_NEAR(json_real_value(json_object_get(tu, "median")), 2.0, 1e-9);
        TB_CHECK_NEAR(json_real_value(json_object_get(tu, "cv")), 0.5, 1e-12);
    }
    /* No temporary file is left behind. */
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s/results.json.tmp.%ld", dir, (long)getpid());
    TB_CHECK(access(tmp, F_OK) != 0);
    json_decref(doc);
    json_decref(back);
}

static void test_rejects(void)
{
    static const struct {
        const char *text;
        const char *why;
    } bad[] = {
        {"{\"schema\": \"topobench-results\", \"schema_version\": 1, \"run\": {", "truncated"},
        {"[1, 2, 3]", "not an object"},
        {"{\"hello\": 1}", "foreign document"},
        {"{\"schema\": \"topobench-results\", \"schema_version\": 99, \"run\": {}, \"hosts\": [],"
         " \"ranks\": [], \"tests\": []}",
         "newer schema"},
        {"{\"schema\": \"topobench-results\", \"schema_version\": 1, \"run\": {}, \"hosts\": [],"
         " \"ranks\": [], \"tests\": {}}",
         "tests not an array"},
        {"{\"schema\": \"topobench-results\", \"schema_version\": 1, \"run\": {}, \"hosts\": [],"
         " \"ranks\": [], \"tests\": [{\"name\": \"x\", \"kind\": \"p2p\", \"results\": [{}]}]}",
         "result without size"},
        {"", "empty file"},
    };
    char path[256];
    snprintf(path, sizeof(path), "%s/bad.json", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = NULL;
        write_text(path, bad[i].text);
        tb_status_t st = tb_doc_load(path, &doc);
        if (st != TB_ERR_INPUT)
            fprintf(stderr, "case '%s' gave %d\n", bad[i].why, st);
        TB_CHECK_INT(st, TB_ERR_INPUT);
        TB_CHECK(doc == NULL);
    }
    json_t *doc = NULL;
    snprintf(path, sizeof(path), "%s/missing.json", dir);
    TB_CHECK_INT(tb_doc_load(path, &doc), TB_ERR_USAGE);
    /* Writing where no directory exists is an environment error. */
    doc = tb_doc_new();
    TB_CHECK_INT(tb_doc_write(doc, "/proc/no-such-dir/results.json"), TB_ERR_ENV);
    json_decref(doc);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 77;
    test_round_trip();
    test_rejects();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return tb_test_done();
}
