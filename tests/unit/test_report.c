/* report/: CSV files and terminal tables against golden files rendered from a hand-made
 * results document (tests/data/report), quoting and file names, write failures, and the
 * `report` subcommand's option handling and exit statuses.
 *
 * The goldens were written once by this code and checked by hand against the document;
 * this test only compares, it never rewrites them. */
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../report/cells.h"
#include "doc.h"
#include "log.h"
#include "report.h"
#include "tb_test.h"

#define DATA TB_TEST_DATA_DIR "/report"

static char *read_file(const char *path, size_t *len_p)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) != NULL) {
        if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
            *len_p = (size_t)len;
        }
    }
    fclose(f);
    return buf;
}

/* Byte-for-byte comparison; on a difference prints the first differing line of each. */
static void check_same_file(const char *got_path, const char *want_path)
{
    size_t glen = 0, wlen = 0, i = 0, line = 1, start = 0;
    char *got = read_file(got_path, &glen), *want = read_file(want_path, &wlen);

    tb_test_checks++;
    if (!got || !want) {
        fprintf(stderr, "cannot read %s or %s\n", got_path, want_path);
        tb_test_failures++;
    } else if (glen != wlen || memcmp(got, want, glen) != 0) {
        for (; i < glen && i < wlen && got[i] == want[i]; i++)
            if (got[i] == '\n')
                line++, start = i + 1;
        fprintf(stderr, "%s differs from %s at line %zu:\n  got:  %.*s\n  want: %.*s\n",
                got_path, want_path, line, (int)strcspn(got + start, "\n"), got + start,
                (int)strcspn(want + start, "\n"), want + start);
        tb_test_failures++;
    }
    free(got);
    free(want);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* rm -r of a temporary directory. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            remove_dir(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static char *make_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/tb-test-report.XXXXXX");
    return mkdtemp(buf);
}

/* Every golden CSV is produced identically, and nothing else is produced. */
static void test_csv_golden(const json_t *doc)
{
    char tmp[64], got[4096], want[4096];
    DIR *d;
    struct dirent *e;
    int ngolden = 0, nout = 0;

    if (!make_tmpdir(tmp, sizeof(tmp))) {
        TB_CHECK(!"mkdtemp");
        return;
    }
    TB_CHECK_INT(tb_report_csv_write(doc, DATA, tmp), TB_OK);
    d = opendir(DATA "/golden");
    TB_CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        ngolden++;
        snprintf(got, sizeof(got), "%s/%s", tmp, e->d_name);
        snprintf(want, sizeof(want), "%s/%s", DATA "/golden", e->d_name);
        check_same_file(got, want);
    }
    if (d)
        closedir(d);
    d = opendir(tmp);
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        nout++;
        snprintf(want, sizeof(want), "%s/%s", DATA "/golden", e->d_name);
        if (!file_exists(want))
            fprintf(stderr, "unexpected output file %s\n", e->d_name);
    }
    if (d)
        closedir(d);
    TB_CHECK_INT(nout, ngolden);
    TB_CHECK_INT(ngolden, 10);
    remove_dir(tmp);
}

/* The table of each entry against tables/<name>-<label>.txt. */
static void test_table_golden(const json_t *doc)
{
    const json_t *test;
    size_t i;

    json_array_foreach(json_object_get(doc, "tests"), i, test) {
        char want[4096], got[] = "/tmp/tb-test-table.XXXXXX", label[128];
        int fd = mkstemp(got);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        tb_doc_entry_label(test, label, sizeof(label));
        snprintf(want, sizeof(want), "%s/tables/%s-%s.txt", DATA,
                 json_string_value(json_object_get(test, "name")), label);
        TB_CHECK(f != NULL);
        if (!f)
            continue;
        tb_report_table_print(test, DATA, f);
        fclose(f);
        check_same_file(got, want);
        unlink(got);
    }
}

static char *table_of(const char *json_text)
{
    json_error_t err;
    json_t *test = json_loads(json_text, 0, &err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!test)
        fprintf(stderr, "bad test JSON: %s\n", err.text);
    if (test && f)
        tb_report_table_print(test, DATA, f);
    if (f)
        fclose(f);
    json_decref(test);
    return buf;
}

/* Errors and failure statuses are printed; missing placements and unchecked rows show. */
static void test_table_details(void)
{
    char *t = table_of(
        "{\"name\": \"broadcast\", \"kind\": \"collective\", \"dtype\": \"float\","
        " \"status\": \"data corruption\", \"params\": {\"dtype\": \"float\", \"op\": \"sum\","
        " \"root\": 0, \"ranks\": 4},"
        " \"results\": [{\"size\": 1024, \"count\": 256, \"in_place\": false,"
        "   \"time_us\": {\"mean\": 10.5}, \"algbw_gbps\": 0.1, \"busbw_gbps\": 0.1,"
        "   \"wrong\": 3, \"checked\": true},"
        "  {\"size\": 2048, \"count\": 512, \"in_place\": true, \"time_us\": {\"mean\": 11},"
        "   \"checked\": false}],"
        " \"errors\": [{\"size\": 1024, \"in_place\": false, \"rank\": 3, \"host\": \"nodeB\","
        "   \"offset\": 100, \"expected\": 1.5, \"got\": 2, \"wrong\": 3, \"iteration\": 21},"
        "  {\"size\": 2048, \"in_place\": true, \"rank\": 1, \"offset\": 8,"
        "   \"expected\": 19, \"got\": 19.000000000000004}]}");
    TB_CHECK_HAS(t, "# broadcast (float): 4 ranks;");
    TB_CHECK_HAS(t, "     10.50         -     0.100     0.100       3         -         -         -"
                    "         -       -\n");
    TB_CHECK_HAS(t, "         -         -         -         -       -     11.00         -         -"
                    "         -     N/A\n");
    TB_CHECK_HAS(t, "# 2 data errors:\n#   size 1024 rank 3 (nodeB) offset 100: 3 wrong, "
                    "expected 1.5, got 2 (iteration 21)\n");
    TB_CHECK_HAS(t, "#   size 2048 in-place rank 1 offset 8, expected 19, got 19.000000000000004\n");
    TB_CHECK_HAS(t, "# status: data corruption\n");
    free(t);

    t = table_of("{\"name\": \"bw\", \"kind\": \"p2p\", \"placement\": \"inter-node\","
                 " \"status\": \"timeout\", \"timeout_message\": \"rank 2 stuck in bw at 4M\","
                 " \"results\": []}");
    TB_CHECK_HAS(t, "# status: timeout: rank 2 stuck in bw at 4M\n");
    free(t);

    t = table_of(
        "{\"name\": \"matrix\", \"kind\": \"matrix\", \"level\": \"rank\","
        " \"status\": \"ok\", \"results\": [], \"matrix\": {\"size\": 8,"
        " \"labels\": [\"a:0\", \"b:1\"], \"recv_gbps\": [[null, 1], [null, null]],"
        " \"latency_us\": [[null, 2], [3, null]]}}");
    TB_CHECK_HAS(t, "#          a:0     b:1\na:0          -    1.00\nb:1          -       -\n");
    TB_CHECK_HAS(t, "a:0          -    2.00\nb:1       3.00       -\n");
    free(t);

    /* A cell's spread follows it as a percentage. */
    t = table_of(
        "{\"name\": \"node_matrix\", \"kind\": \"matrix\", \"variant\": \"node\","
        " \"status\": \"ok\", \"results\": [], \"matrix\": {\"size\": 8, \"window\": 2,"
        " \"labels\": [\"a:0\", \"b:1\"], \"send_gbps\": [[null, 0.5], [2, null]],"
        " \"send_cv\": [[null, 0.042], [null, null]]}}");
    TB_CHECK_HAS(t, ", a window of 2 per pair and repetition\n");
    TB_CHECK_HAS(t, "# bandwidth in GB/s timed at the sender");
    TB_CHECK_HAS(t, "a:0                    -   0.500 (4%)\nb:1                 2.00            -\n");
    free(t);
}

/* Headlines are named by their definition (OSU's), and bandwidths keep three significant
 * digits: a 200 Mbit/s link reads 0.0250, not 0.02. */
static void test_table_definitions(void)
{
    char *t = table_of(
        "{\"name\": \"bw\", \"kind\": \"p2p\", \"variant\": \"inter-node\", \"status\": \"ok\","
        " \"results\": [{\"size\": 8, \"bw_gbps\": 0.025}, {\"size\": 16, \"bw_gbps\": 0.09996},"
        " {\"size\": 32, \"bw_gbps\": 1.0449}, {\"size\": 64, \"bw_gbps\": 231.4},"
        " {\"size\": 128, \"bw_gbps\": 1234.6}, {\"size\": 256, \"bw_gbps\": 0}]}");
    TB_CHECK_HAS(t, "from the mean time per window (OSU's)");
    TB_CHECK_HAS(t, "\n8                       0.0250\n");
    TB_CHECK_HAS(t, "\n16                       0.100\n");
    TB_CHECK_HAS(t, "\n32                        1.04\n");
    TB_CHECK_HAS(t, "\n64                         231\n");
    TB_CHECK_HAS(t, "\n128                       1235\n");
    TB_CHECK_HAS(t, "\n256                          0\n");
    free(t);

    t = table_of("{\"name\": \"latency\", \"kind\": \"p2p\", \"status\": \"ok\","
                 " \"results\": [{\"size\": 8, \"time_us\": {\"mean\": 0.3, \"median\": 0.2}}]}");
    TB_CHECK_HAS(t, "Avg Latency(us)");
    TB_CHECK_HAS(t, "\n8                         0.30");
    free(t);

    t = table_of("{\"name\": \"all_reduce\", \"kind\": \"collective\", \"status\": \"ok\","
                 " \"results\": [{\"size\": 8, \"count\": 2, \"in_place\": false,"
                 " \"time_us\": {\"mean\": 2.5, \"median\": 1, \"slowest_rank\": 4.25}}]}");
    TB_CHECK_HAS(t, "averaged over ranks (OSU's Avg Latency)");
    TB_CHECK_HAS(t, "       avg   slowest");
    TB_CHECK_HAS(t, "      2.50      4.25");
    free(t);
}

/* RFC 4180 quoting, file-name sanitizing, columns from keys the table does not know. */
static void test_csv_quoting(void)
{
    const char *text =
        "{\"schema\": \"topobench-results\", \"schema_version\": 2, \"run\": {}, \"hosts\": [],"
        " \"ranks\": [], \"tests\": [{\"name\": \"all_reduce\", \"kind\": \"collective\","
        " \"backend\": \"x/y \\\"q\\\",z\", \"send_memory\": \"host\", \"recv_memory\": \"host\","
        " \"dtype\": \"float\", \"placement\": null, \"level\": null,"
        " \"status\": \"ok\", \"results\": [{\"size\": 8,"
        " \"time_us\": {\"mean\": 1.25}, \"note\": \"a,b\", \"extra\": 0.1},"
        " {\"size\": 16, \"time_us\": {}, \"extra\": 2}]}]}";
    const char *want =
        "test,backend,send_memory,recv_memory,dtype,placement,level,size_bytes,time_mean_us,"
        "note,extra\n"
        "all_reduce,\"x/y \"\"q\"\",z\",host,host,float,,,8,1.25,\"a,b\",0.1\n"
        "all_reduce,\"x/y \"\"q\"\",z\",host,host,float,,,16,,,2\n";
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    char tmp[64], path[4096];
    size_t len = 0;
    char *got;

    TB_CHECK(doc != NULL);
    if (!doc || !make_tmpdir(tmp, sizeof(tmp)))
        return;
    TB_CHECK_INT(tb_doc_validate(doc, "quoting test"), TB_OK);
    TB_CHECK_INT(tb_report_csv_write(doc, DATA, tmp), TB_OK);
    snprintf(path, sizeof(path), "%s/all_reduce-x_y__q__z-float.csv", tmp);
    got = read_file(path, &len);
    TB_CHECK_STR(got, want);
    free(got);
    snprintf(path, sizeof(path), "%s/summary.csv", tmp);
    got = read_file(path, &len);
    TB_CHECK_HAS(got,
                 "\nall_reduce,\"x/y \"\"q\"\",z\",host,host,float,,,collective,ok,2,8,16,,,,1.25,0,\n");
    free(got);
    remove_dir(tmp);

    /* A directory that cannot be written is an environment error. */
    TB_CHECK_INT(tb_report_csv_write(doc, DATA, "/proc/tb-test-report-no/such"), TB_ERR_ENV);
    json_decref(doc);
}

static tb_status_t cmd(const char *a1, const char *a2, const char *a3, const char *a4,
                       const char *a5)
{
    char *argv[] = {"report", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    return tb_report_cmd(argc, argv);
}

static void test_cmd(void)
{
    char tmp[64], dir[128], path[4096];
    size_t len = 0;
    char *sample;
    FILE *f;

    if (!make_tmpdir(tmp, sizeof(tmp))) {
        TB_CHECK(!"mkdtemp");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/a/b", tmp);
    TB_CHECK_INT(cmd(DATA "/results-sample.json", "-o", dir, "--quiet", NULL), TB_OK);
    snprintf(path, sizeof(path), "%s/summary.csv", dir);
    TB_CHECK(file_exists(path));
    TB_CHECK_INT(cmd(DATA "/results-sample.json", "--frobnicate", NULL, NULL, NULL),
                 TB_ERR_USAGE);
    TB_CHECK_INT(cmd(NULL, NULL, NULL, NULL, NULL), TB_ERR_USAGE);
    TB_CHECK_INT(cmd(DATA "/results-sample.json", "-o", NULL, NULL, NULL), TB_ERR_USAGE);
    TB_CHECK_INT(cmd("/nonexistent/results.json", NULL, NULL, NULL, NULL), TB_ERR_USAGE);
    TB_CHECK_INT(cmd(DATA "/results-sample.json", "-q", "-o", "/proc/tb-test-report/x", NULL),
                 TB_ERR_ENV);
    TB_CHECK_INT(cmd(DATA "/results-sample.json", "-q", "-o", path, NULL), TB_ERR_ENV);

    /* The first half of the document: malformed input, not a crash. */
    sample = read_file(DATA "/results-sample.json", &len);
    snprintf(path, sizeof(path), "%s/truncated.json", tmp);
    f = fopen(path, "w");
    TB_CHECK(sample && f);
    if (sample && f)
        fwrite(sample, 1, len / 2, f);
    if (f)
        fclose(f);
    free(sample);
    TB_CHECK_INT(cmd(path, "-q", NULL, NULL, NULL), TB_ERR_INPUT);
    remove_dir(tmp);
}

/* A program that set a locale with a decimal comma still gets "0.25", not "0,25". */
static void test_locale(const json_t *doc)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    const json_t *latency = json_array_get(json_object_get(doc, "tests"), 0);
    char tmp[64], path[4096], *got, *table = NULL;
    size_t len = 0, i;
    FILE *f;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (setlocale(LC_NUMERIC, names[i]))
            break;
    if (i == sizeof(names) / sizeof(names[0])) {
        printf("no decimal-comma locale installed: locale check skipped\n");
        return;
    }
    if (!make_tmpdir(tmp, sizeof(tmp)))
        goto out;
    TB_CHECK_INT(tb_report_csv_write(doc, DATA, tmp), TB_OK);
    snprintf(path, sizeof(path), "%s/latency-intra-node.csv", tmp);
    got = read_file(path, &len);
    TB_CHECK_HAS(got, ",0.231,0.2395,0.3125,");
    free(got);
    remove_dir(tmp);
    f = open_memstream(&table, &len);
    if (f) {
        tb_report_table_print(latency, DATA, f);
        fclose(f);
    }
    TB_CHECK_HAS(table, "0.25        0.23        0.24        0.31\n");
    free(table);
out:
    setlocale(LC_NUMERIC, "C");
}

/* Text fields a spreadsheet would run as formulas get a leading apostrophe; numbers,
 * negative ones included, stay numbers. */
static void test_csv_formulas(void)
{
    const char *text =
        "{\"schema\": \"topobench-results\", \"schema_version\": 2, \"run\": {}, \"hosts\": [],"
        " \"ranks\": [], \"tests\": [{\"name\": \"bw\", \"kind\": \"p2p\", \"backend\": \"mpi\","
        " \"send_memory\": \"host\", \"recv_memory\": \"host\", \"dtype\": \"byte\","
        " \"placement\": \"@inter\", \"level\": null, \"status\": \"ok\", \"results\": [{\"size\": 8,"
        " \"time_us\": {\"median\": -1.5}, \"a\": \"=HYPERLINK(\\\"http://x\\\")\", \"b\": \"+1\","
        " \"c\": \"-2\", \"d\": \"plain-text\", \"e\": -3}]}]}";
    const char *want =
        "test,backend,send_memory,recv_memory,dtype,placement,level,size_bytes,time_median_us,"
        "a,b,c,d,e\n"
        "bw,mpi,host,host,byte,\"'@inter\",,8,-1.5,\"'=HYPERLINK(\"\"http://x\"\")\",\"'+1\",\"'-2\","
        "plain-text,-3\n";
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    char tmp[64], path[4096], *got;
    size_t len = 0;

    TB_CHECK(doc != NULL);
    if (!doc || !make_tmpdir(tmp, sizeof(tmp)))
        return;
    TB_CHECK_INT(tb_report_csv_write(doc, tmp, tmp), TB_OK);
    snprintf(path, sizeof(path), "%s/bw-_inter.csv", tmp);
    got = read_file(path, &len);
    TB_CHECK_STR(got, want);
    free(got);
    remove_dir(tmp);
    json_decref(doc);
}

/* Files are replaced atomically: a write that fails (here the file-size limit, as a full
 * disk would) leaves the previous files whole, and no temporary file behind. */
static void test_csv_atomic(const json_t *doc)
{
    char tmp[64], path[4096], want[4096];
    struct rlimit old, small;
    DIR *d;
    struct dirent *e;
    int leftovers = 0;

    if (!make_tmpdir(tmp, sizeof(tmp)))
        return;
    TB_CHECK_INT(tb_report_csv_write(doc, DATA, tmp), TB_OK);
    if (getrlimit(RLIMIT_FSIZE, &old) != 0)
        return;
    small = old;
    small.rlim_cur = 300; /* every golden file is longer than this */
    signal(SIGXFSZ, SIG_IGN);
    TB_CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    TB_CHECK_INT(tb_report_csv_write(doc, DATA, tmp), TB_ERR_ENV);
    TB_CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, SIG_DFL);
    snprintf(path, sizeof(path), "%s/latency-intra-node.csv", tmp);
    snprintf(want, sizeof(want), "%s/golden/latency-intra-node.csv", DATA);
    check_same_file(path, want);
    d = opendir(tmp);
    while (d && (e = readdir(d)) != NULL)
        leftovers += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    TB_CHECK_INT(leftovers, 0);
    remove_dir(tmp);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Selection medians and percentiles agree with sorting, duplicates and even counts
 * included. */
static void test_cells_median(void)
{
    static const double ps[] = {0, 1, 25, 50, 75, 99, 100};
    static double v[1001], w[1001], u[1001];
    unsigned s = 12345;
    for (size_t n = 1; n <= 1001; n += 37) {
        for (int dup = 0; dup < 2; dup++) {
            for (size_t i = 0; i < n; i++) {
                s = s * 1103515245u + 12345u;
                v[i] = w[i] = u[i] = dup ? (double)(s >> 28) : (double)(s >> 8) / 7.0;
            }
            qsort(w, n, sizeof(double), cmp_dbl);
            TB_CHECK_NEAR(tb_stats_median_select(v, n), n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2,
                          0);
            for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
                memcpy(v, u, n * sizeof(double));
                TB_CHECK_NEAR(tb_stats_percentile_select(v, n, ps[k]),
                              tb_stats_percentile_sorted(w, n, ps[k]), 1e-9 * w[n - 1]);
            }
        }
    }
    double m[9] = {NAN, 1, 2, 3, NAN, INFINITY, 4, 5, 6};
    TB_CHECK_INT(tb_cells_compact(m, 3), 5);
    TB_CHECK_NEAR(tb_stats_median_select(m, 5), 3, 0);
}

/* A document with an n-rank matrix stored by tb_doc_matrix_set in `dir`; rank i is on
 * host "h<i/4>", and every cell that host h7 sends or receives is slow. */
static json_t *big_matrix_doc(size_t n, const char *dir)
{
    json_t *doc = tb_doc_new(), *labels = json_array(), *m;
    tb_doc_keys_t keys = {"mpi", "host", "host", "byte", NULL, "rank"};
    json_t *t = tb_doc_entry_new("matrix", "matrix", &keys, NULL);
    double *bw = malloc(n * n * sizeof(double)), *lat = malloc(n * n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        char l[32];
        snprintf(l, sizeof(l), "h%zu:%zu", i / 4, i);
        json_array_append_new(labels, json_string(l));
        for (size_t j = 0; j < n; j++) {
            int slow = i / 4 == 7 || j / 4 == 7;
            bw[i * n + j] = i == j ? NAN : slow ? 1.0 + (double)(i + j) / 1000 : 10.0;
            lat[i * n + j] = i == j ? NAN : slow ? 9.0 : 1.0;
        }
    }
    bw[3 * n + 5] = 0.25; /* the worst cell of all: h0:3 -> h1:5 */
    m = json_pack("{s:s, s:i, s:o}", "level", "rank", "size", 1048576, "labels", labels);
    json_object_set_new(t, "matrix", m);
    json_object_set_new(t, "status", json_string("ok"));
    json_array_append_new(json_object_get(doc, "tests"), t);
    TB_CHECK_INT(tb_doc_matrix_set(m, "bandwidth_gbps", bw, n, dir, "matrix-rank"), TB_OK);
    TB_CHECK_INT(tb_doc_matrix_set(m, "latency_us", lat, n, dir, "matrix-rank"), TB_OK);
    free(bw);
    free(lat);
    return doc;
}

/* Above 64 ranks the terminal gets per-node lines, worst first, and the worst cells, not
 * an N x N grid; the CSV long form comes from the side file; above 512 ranks only the
 * side file holds the cells. */
static void test_big_matrix(void)
{
    char tmp[64], path[4096];
    json_t *doc;
    char *buf = NULL, *csv;
    size_t len = 0, lines = 0;
    FILE *f;

    if (!make_tmpdir(tmp, sizeof(tmp)))
        return;
    doc = big_matrix_doc(100, tmp);
    f = open_memstream(&buf, &len);
    if (f) {
        TB_CHECK_INT(tb_report_table_print(json_array_get(json_object_get(doc, "tests"), 0), tmp,
                                           f),
                     TB_OK);
        fclose(f);
    }
    for (char *p = buf; p && *p; p++)
        lines += *p == '\n';
    TB_CHECK(lines < 80); /* a grid would be 2 x 101 lines */
    TB_CHECK_HAS(buf, "# 100 x 100 cells");
    TB_CHECK_HAS(buf, ": median 10.0 GB/s over 9900 measured cells\n");
    TB_CHECK_HAS(buf, "send_median");
    /* The slow node leads both lists; the worst bandwidth cell is named. */
    TB_CHECK_HAS(buf, "worst cell\n# node                    ranks  send_median   send_worst  "
                      "recv_median   recv_worst\nh7     ");
    TB_CHECK_HAS(buf, "# ... 9 more nodes");
    TB_CHECK_HAS(buf, "cells (row sends to column)\nh0:3                     -> h1:5       "
                      "                     0.250\n");
    TB_CHECK_HAS(buf, "latency in us at 8 bytes");
    free(buf);
    TB_CHECK_INT(tb_report_csv_write(doc, tmp, tmp), TB_OK);
    snprintf(path, sizeof(path), "%s/matrix-rank-matrix-bw.csv", tmp);
    csv = read_file(path, &len);
    lines = 0;
    for (char *p = csv; p && *p; p++)
        lines += *p == '\n';
    TB_CHECK_INT(lines, 1 + 100 * 99);
    TB_CHECK_HAS(csv, "\n3,h0,5,h1,0.25\n");
    free(csv);
    snprintf(path, sizeof(path), "%s/summary.csv", tmp);
    csv = read_file(path, &len);
    TB_CHECK_HAS(csv, ",matrix,ok,1,1048576,1048576,bw,10,10,1,0,\n");
    free(csv);
    json_decref(doc);
    remove_dir(tmp);

    if (!make_tmpdir(tmp, sizeof(tmp)))
        return;
    doc = big_matrix_doc(TB_REPORT_LONG_FORM_MAX + 1, tmp);
    TB_CHECK_INT(tb_report_csv_write(doc, tmp, tmp), TB_OK);
    snprintf(path, sizeof(path), "%s/matrix-rank-matrix-bw.csv", tmp);
    TB_CHECK(!file_exists(path));
    snprintf(path, sizeof(path), "%s/matrix-rank-bandwidth_gbps.npy", tmp);
    TB_CHECK(file_exists(path));
    json_decref(doc);
    remove_dir(tmp);
}

int main(void)
{
    json_t *doc = NULL;

    tb_log_set_identity("test", -1);
    TB_CHECK_INT(tb_doc_load(DATA "/results-sample.json", &doc), TB_OK);
    if (doc) {
        test_csv_golden(doc);
        test_table_golden(doc);
        test_locale(doc);
        test_csv_atomic(doc);
        json_decref(doc);
    }
    test_table_details();
    test_table_definitions();
    test_csv_quoting();
    test_csv_formulas();
    test_cells_median();
    test_big_matrix();
    test_cmd();
    return tb_test_done();
}
