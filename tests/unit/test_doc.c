/* core/doc: the results document round-trips through a file, and loading rejects
 * malformed, truncated, foreign and newer documents with TB_ERR_INPUT; entries carry
 * explicit keys (and version 1 documents are upgraded to them); matrices round-trip
 * losslessly inline and as NPY side files, and wrong shapes or types are refused. */
#include <math.h>
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
    tb_doc_keys_t keys = {"mpi", "host", "host", "float", NULL, NULL};
    test = tb_doc_entry_new("all_reduce", "collective", &keys, NULL);
    json_array_append_new(json_object_get(test, "results"),
                          json_pack("{s:i, s:o}", "size", 1024, "time_us", tb_doc_stats_us(&st)));
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
        {"{\"schema\": \"topobench-results\", \"schema_version\": 1, \"run\": {}, \"hosts\": [],"
         " \"ranks\": [], \"tests\": [{\"name\": \"x\", \"kind\": \"p2p\", \"variant\": \"gpu\","
         " \"results\": []}]}",
         "version 1 variant it never wrote"},
        {"{\"schema\": \"topobench-results\", \"schema_version\": 2, \"run\": {}, \"hosts\": [],"
         " \"ranks\": [], \"tests\": [{\"name\": \"x\", \"kind\": \"p2p\", \"results\": []}]}",
         "version 2 entry without its keys"},
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

/* Keys: explicit in the entry, matched field by field, labelled as the old variant was. */
static void test_keys(void)
{
    tb_doc_keys_t intra = {"mpi", "host", "host", "byte", "intra-node", NULL};
    tb_doc_keys_t inter = {"mpi", "host", "host", "byte", "inter-node", NULL};
    tb_doc_keys_t dev = {"mpi", "device", "host", "byte", "intra-node", NULL};
    tb_doc_keys_t coll = {"mpi", "host", "host", "double", NULL, NULL};
    json_t *a = tb_doc_entry_new("latency", "p2p", &intra, NULL);
    json_t *b = tb_doc_entry_new("latency", "p2p", &intra, json_object());
    json_t *c = tb_doc_entry_new("latency", "p2p", &inter, NULL);
    json_t *d = tb_doc_entry_new("latency", "p2p", &dev, NULL);
    json_t *e = tb_doc_entry_new("all_reduce", "collective", &coll, NULL);
    char label[64];

    TB_CHECK_STR(json_string_value(json_object_get(a, "placement")), "intra-node");
    TB_CHECK(json_is_null(json_object_get(a, "level")));
    TB_CHECK(tb_doc_entry_same(a, b));
    TB_CHECK(!tb_doc_entry_same(a, c));
    TB_CHECK(!tb_doc_entry_same(a, d));
    TB_CHECK(!tb_doc_entry_same(a, e));
    tb_doc_entry_label(a, label, sizeof(label));
    TB_CHECK_STR(label, "intra-node");
    tb_doc_entry_label(d, label, sizeof(label));
    TB_CHECK_STR(label, "device-host-intra-node");
    tb_doc_entry_label(e, label, sizeof(label));
    TB_CHECK_STR(label, "double");
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(e);
}

/* A version 1 document (one `variant` per entry) is read with the explicit keys. */
static void test_upgrade(void)
{
    char path[256];
    json_t *doc = NULL;
    snprintf(path, sizeof(path), "%s/v1.json", dir);
    write_text(path,
               "{\"schema\": \"topobench-results\", \"schema_version\": 1, \"run\": {},"
               " \"hosts\": [], \"ranks\": [], \"tests\": ["
               "{\"name\": \"bw\", \"kind\": \"p2p\", \"variant\": \"inter-node\", \"results\": []},"
               "{\"name\": \"all_reduce\", \"kind\": \"collective\", \"variant\": \"double\","
               " \"results\": []},"
               "{\"name\": \"node_matrix\", \"kind\": \"matrix\", \"variant\": \"node\","
               " \"results\": []}]}");
    TB_CHECK_INT(tb_doc_load(path, &doc), TB_OK);
    if (doc) {
        const json_t *t = json_object_get(doc, "tests");
        TB_CHECK_INT(json_integer_value(json_object_get(doc, "schema_version")),
                     TB_DOC_SCHEMA_VERSION);
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(t, 0), "placement")),
                     "inter-node");
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(t, 0), "backend")), "mpi");
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(t, 1), "dtype")), "double");
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(t, 2), "level")), "node");
        TB_CHECK(json_object_get(json_array_get(t, 2), "variant") == NULL);
    }
    json_decref(doc);
}

/* n x n cells whose doubles need all 17 digits; NaN on the diagonal. */
static double *cells_make(size_t n)
{
    double *v = malloc(n * n * sizeof(double));
    for (size_t i = 0; v && i < n; i++)
        for (size_t j = 0; j < n; j++)
            v[i * n + j] = i == j ? NAN : 1.0 / 3.0 + (double)(i * n + j) * 1e-7;
    return v;
}

static int cells_same(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n * n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
            return 0;
    return 1;
}

static json_t *labels_of(size_t n)
{
    json_t *labels = json_array();
    for (size_t i = 0; i < n; i++) {
        char l[32];
        snprintf(l, sizeof(l), "h%zu:%zu", i / 8, i);
        json_array_append_new(labels, json_string(l));
    }
    return labels;
}

/* Matrices go through the document and back bit for bit: inline at 3 ranks, as an NPY
 * side file at 100; the document with them passes validation after a file round trip. */
/* The row reader gives the same cells, a few rows at a time, inline or from the side
 * file; rows past the end are refused; a side file cut short after opening is an error. */
static void test_matrix_rows(const json_t *m, const double *in, size_t n)
{
    tb_doc_matrix_rows_t *rows = NULL;
    size_t n2 = 0;
    double *out = malloc(3 * n * sizeof(*out));
    tb_doc_matrix_map_t map;
    /* mapped: the same cells; a side file mapped, an inline matrix read; absent: NULL */
    TB_CHECK_INT(tb_doc_matrix_map(m, "bandwidth_gbps", dir, "test", &map), TB_OK);
    TB_CHECK_INT(map.n, n);
    TB_CHECK((map.base != NULL) == (n > TB_DOC_MATRIX_INLINE_MAX));
    for (size_t k = 0; map.cells && k < n * n; k++) {
        double a = in[k], b = map.cells[k];
        TB_CHECK(a == b || (a != a && b != b));
    }
    tb_doc_matrix_unmap(&map);
    TB_CHECK_INT(tb_doc_matrix_map(m, "latency_us", dir, "test", &map), TB_OK);
    TB_CHECK(map.cells == NULL && map.n == 0);
    TB_CHECK_INT(tb_doc_matrix_rows_open(m, "bandwidth_gbps", dir, "test", &rows, &n2), TB_OK);
    TB_CHECK_INT(n2, n);
    for (size_t first = 0; rows && out && first < n; first += 3) {
        size_t count = n - first < 3 ? n - first : 3;
        TB_CHECK_INT(tb_doc_matrix_rows_read(rows, first, count, out), TB_OK);
        for (size_t k = 0; k < count * n; k++) {
            double a = in[first * n + k], b = out[k];
            TB_CHECK(a == b || (a != a && b != b));
        }
    }
    if (rows) {
        TB_CHECK_INT(tb_doc_matrix_rows_read(rows, n - 1, 2, out), TB_ERR_INTERNAL);
        if (n > TB_DOC_MATRIX_INLINE_MAX) {
            char cmd[512];
            snprintf(cmd, sizeof(cmd), "truncate -s 200 %s/matrix-rank-bandwidth_gbps.npy", dir);
            TB_CHECK_INT(system(cmd), 0);
            TB_CHECK_INT(tb_doc_matrix_rows_read(rows, n - 2, 2, out), TB_ERR_INPUT);
        }
    }
    tb_doc_matrix_rows_close(rows);
    TB_CHECK_INT(tb_doc_matrix_rows_open(m, "latency_us", dir, "test", &rows, &n2), TB_OK);
    TB_CHECK(rows == NULL && n2 == 0);
    free(out);
}

static void test_matrix_round_trip(void)
{
    const size_t sizes[] = {3, TB_DOC_MATRIX_INLINE_MAX, TB_DOC_MATRIX_INLINE_MAX + 1, 100};
    char path[256];
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k], n2 = 0;
        double *in = cells_make(n), *out = NULL;
        json_t *doc = tb_doc_new(), *back = NULL, *m = json_pack("{s:o}", "labels", labels_of(n));
        tb_doc_keys_t keys = {"mpi", "host", "host", "byte", NULL, "rank"};
        json_t *t = tb_doc_entry_new("matrix", "matrix", &keys, NULL);
        json_object_set_new(t, "matrix", m);
        json_array_append_new(json_object_get(doc, "tests"), t);
        TB_CHECK_INT(tb_doc_matrix_set(m, "bandwidth_gbps", in, n, dir, "matrix-rank"), TB_OK);
        TB_CHECK_INT(json_is_array(json_object_get(m, "bandwidth_gbps")),
                     n <= TB_DOC_MATRIX_INLINE_MAX);
        snprintf(path, sizeof(path), "%s/results.json", dir);
        TB_CHECK_INT(tb_doc_write(doc, path), TB_OK);
        TB_CHECK_INT(tb_doc_load(path, &back), TB_OK);
        if (back) {
            const json_t *bm =
                json_object_get(json_array_get(json_object_get(back, "tests"), 0), "matrix");
            TB_CHECK(tb_doc_matrix_is(bm, "bandwidth_gbps"));
            TB_CHECK(!tb_doc_matrix_is(bm, "labels"));
            TB_CHECK_INT(tb_doc_matrix_get(bm, "bandwidth_gbps", dir, "test", &out, &n2), TB_OK);
            TB_CHECK_INT(n2, n);
            TB_CHECK(out && in && cells_same(in, out, n));
            free(out);
            out = NULL;
            TB_CHECK_INT(tb_doc_matrix_get(bm, "latency_us", dir, "test", &out, &n2), TB_OK);
            TB_CHECK(out == NULL && n2 == 0);
            test_matrix_rows(bm, in, n);
        }
        free(in);
        json_decref(doc);
        json_decref(back);
    }
}

static tb_status_t load_text(const char *text)
{
    char path[256];
    json_t *doc = NULL;
    tb_status_t st;
    snprintf(path, sizeof(path), "%s/m.json", dir);
    write_text(path, text);
    st = tb_doc_load(path, &doc);
    json_decref(doc);
    return st;
}

#define DOC_HEAD                                                                           \
    "{\"schema\": \"topobench-results\", \"schema_version\": 2, \"run\": {}, \"hosts\": [],"      \
    " \"ranks\": [], \"tests\": [{\"name\": \"matrix\", \"kind\": \"matrix\", \"backend\": \"mpi\","  \
    " \"send_memory\": \"host\", \"recv_memory\": \"host\", \"dtype\": \"byte\","                \
    " \"placement\": null, \"level\": \"rank\", \"results\": [], \"matrix\": "
#define DOC_TAIL "}]}"

/* Matrices whose shape disagrees with their labels, or of the wrong type, are refused; so
 * are side files that are missing, truncated or of another dtype. */
static void test_matrix_rejects(void)
{
    static const struct {
        const char *matrix;
        const char *why;
    } bad[] = {
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": [[null, 1]]}", "one row, two labels"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": [[null, 1], [2]]}", "short row"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": [[null, 1], [\"2\", null]]}",
         "string cell"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": \"fast\"}", "string matrix"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"latency_us\": 5}", "number matrix"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"ranks\": [0], \"latency_us\": [[null, 1], [1, null]]}",
         "ranks shorter than labels"},
        {"{\"labels\": \"a:0\", \"latency_us\": [[null]]}", "labels not an array"},
        {"{\"bandwidth_gbps\": [[null, 1], [1, null]]}", "no labels"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": {\"format\": \"npy\", \"file\":"
         " \"m.npy\", \"dtype\": \"float64\", \"shape\": [3, 3]}}",
         "side file shape against labels"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": {\"format\": \"npy\", \"file\":"
         " \"../m.npy\", \"dtype\": \"float64\", \"shape\": [2, 2]}}",
         "side file outside the directory"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": {\"format\": \"npy\", \"file\":"
         " \"m.npy\", \"dtype\": \"float32\", \"shape\": [2, 2]}}",
         "side file dtype"},
        {"{\"labels\": [\"a:0\", \"b:1\"], \"pairs\": [1]}", "pair not an object"},
        {"[1, 2]", "matrix not an object"},
    };
    char text[1024];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tb_status_t st;
        snprintf(text, sizeof(text), DOC_HEAD "%s" DOC_TAIL, bad[i].matrix);
        st = load_text(text);
        if (st != TB_ERR_INPUT)
            fprintf(stderr, "case '%s' gave %d\n", bad[i].why, st);
        TB_CHECK_INT(st, TB_ERR_INPUT);
    }
    /* A matrix under a key this version does not know is still checked like one. */
    snprintf(text, sizeof(text), DOC_HEAD "%s" DOC_TAIL,
             "{\"labels\": [\"a:0\", \"b:1\"], \"recv_bandwidth_gbps\": [[null, 1]]}");
    TB_CHECK_INT(load_text(text), TB_ERR_INPUT);
    snprintf(text, sizeof(text), DOC_HEAD "%s" DOC_TAIL,
             "{\"labels\": [\"a:0\", \"b:1\"], \"bandwidth_gbps\": [[null, 1], [2.5, null]],"
             " \"ranks\": [0, 1], \"pairs\": []}");
    TB_CHECK_INT(load_text(text), TB_OK);

    /* Side files: missing, truncated, wrong header. */
    {
        size_t n = TB_DOC_MATRIX_INLINE_MAX + 1, n2;
        double *in = cells_make(n), *out = NULL;
        json_t *m = json_pack("{s:o}", "labels", labels_of(n));
        char path[512], cmd[1024];
        TB_CHECK_INT(tb_doc_matrix_set(m, "latency_us", in, n, dir, "x"), TB_OK);
        snprintf(path, sizeof(path), "%s/x-latency_us.npy", dir);
        snprintf(cmd, sizeof(cmd), "truncate -s -8 %s", path);
        TB_CHECK_INT(system(cmd), 0);
        TB_CHECK_INT(tb_doc_matrix_get(m, "latency_us", dir, "test", &out, &n2), TB_ERR_INPUT);
        snprintf(cmd, sizeof(cmd), "printf 'not numpy at all' > %s", path);
        TB_CHECK_INT(system(cmd), 0);
        TB_CHECK_INT(tb_doc_matrix_get(m, "latency_us", dir, "test", &out, &n2), TB_ERR_INPUT);
        unlink(path);
        TB_CHECK_INT(tb_doc_matrix_get(m, "latency_us", dir, "test", &out, &n2), TB_ERR_INPUT);
        TB_CHECK(out == NULL);
        /* A reference without labels whose shape would overflow n x n is refused, even
         * with a file whose header agrees (2^32 squared times 8 bytes wraps to 0). */
        {
            char hdr[128], p2[512];
            FILE *f;
            int hl = snprintf(hdr, sizeof(hdr), "{'descr': '<f8', 'fortran_order': False, "
                              "'shape': (4294967296, 4294967296), }");
            snprintf(p2, sizeof(p2), "%s/x.npy", dir);
            f = fopen(p2, "wb");
            if (f) {
                unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                         (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
                fwrite(pre, 1, sizeof(pre), f);
                fwrite(hdr, 1, (size_t)hl, f);
                fclose(f);
            }
            json_t *huge = json_pack("{s:{s:s, s:s, s:s, s:[I,I]}}", "m", "format", "npy", "file",
                                    "x.npy", "dtype", "float64", "shape",
                                    (json_int_t)1 << 32, (json_int_t)1 << 32);
            TB_CHECK_INT(tb_doc_matrix_get(huge, "m", dir, "test", &out, &n2), TB_ERR_INPUT);
            json_decref(huge);
        }
        /* An unwritable directory leaves the matrix object as it was. */
        TB_CHECK_INT(tb_doc_matrix_set(m, "bandwidth_gbps", in, n, "/proc/no-such", "x"),
                     TB_ERR_ENV);
        TB_CHECK(json_object_get(m, "bandwidth_gbps") == NULL);
        free(in);
        json_decref(m);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;
    if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = calloc(1, (size_t)len + 1)) != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    return buf;
}

/* A writer with frozen members writes the same bytes as tb_doc_write, reuses the frozen
 * text while the member stays, and notices a member that was replaced. */
static void test_writer(void)
{
    char plain[256], fast[256];
    json_t *doc = tb_doc_new();
    tb_doc_writer_t *w = NULL;
    tb_doc_keys_t keys = {"mpi", "host", "host", "byte", "intra-node", NULL};
    char *a, *b;

    snprintf(plain, sizeof(plain), "%s/plain.json", dir);
    snprintf(fast, sizeof(fast), "%s/fast.json", dir);
    json_array_append_new(json_object_get(doc, "hosts"),
                          json_pack("{s:s, s:i, s:[i,i], s:{s:[f,f]}}", "name", "n\"0", "node_index",
                                    0, "ranks", 0, 1, "topology", "x", 1.5, 1.0 / 3.0));
    TB_CHECK_INT(tb_doc_writer_create(&w), TB_OK);
    TB_CHECK_INT(tb_doc_writer_freeze(w, doc, "hosts"), TB_OK);
    TB_CHECK_INT(tb_doc_writer_freeze(w, doc, "no_such_member"), TB_ERR_INTERNAL);
    for (int step = 0; step < 3; step++) {
        if (step == 1)
            json_array_append_new(json_object_get(doc, "tests"),
                                  tb_doc_entry_new("latency", "p2p", &keys, NULL));
        if (step == 2) /* replaced: the writer must not reuse the old text */
            json_object_set_new(doc, "hosts", json_pack("[{s:s}]", "name", "other"));
        TB_CHECK_INT(tb_doc_write(doc, plain), TB_OK);
        TB_CHECK_INT(tb_doc_writer_write(w, doc, fast), TB_OK);
        a = slurp(plain);
        b = slurp(fast);
        TB_CHECK(a && b && strcmp(a, b) == 0);
        if (step == 2)
            TB_CHECK(b && strstr(b, "other") != NULL);
        free(a);
        free(b);
    }
    {
        json_t *back = NULL;
        TB_CHECK_INT(tb_doc_load(fast, &back), TB_OK);
        TB_CHECK(back && json_equal(back, doc));
        json_decref(back);
    }
    tb_doc_writer_destroy(w);
    json_decref(doc);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 77;
    test_round_trip();
    test_rejects();
    test_keys();
    test_writer();
    test_upgrade();
    test_matrix_round_trip();
    test_matrix_rejects();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return tb_test_done();
}
