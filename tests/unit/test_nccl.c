/* bench/nccl: the NCCL loader (a missing library, a missing symbol, the double), the
 * collectives' counts and bandwidth formulas against nccl-tests' definitions, the host
 * conversions of every type, NCCL's reduction semantics, and the check's patterns: exact
 * for every type, operation and rank count. No GPU, no MPI calls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <dirent.h>

#include "nccl_bench.h"
#include "opts.h"
#include "report.h"
#include "tb_test.h"

/* nccl-tests' getBw and getCollByteCount (src/<collective>.cu), at 8 ranks and 1 MiB of floats. */
static void test_formulas(void)
{
    static const struct {
        const char *name;
        double bus8;       /* busbw / algbw at 8 ranks */
        size_t send, recv, param; /* elements for count = 1000 floats at 3 ranks */
        int alg_ranks;
    } table[] = {
        {"nccl_all_reduce", 2.0 * 7 / 8, 1000, 1000, 1000, 0},
        {"nccl_all_gather", 7.0 / 8, 332, 996, 332, 1},
        {"nccl_reduce_scatter", 7.0 / 8, 996, 332, 332, 1},
        {"nccl_broadcast", 1, 1000, 1000, 1000, 0},
        {"nccl_reduce", 1, 1000, 1000, 1000, 0},
        {"nccl_alltoall", 7.0 / 8, 996, 996, 332, 1},
        {"nccl_sendrecv", 1, 1000, 1000, 1000, 0},
    };
    TB_CHECK_INT(tb_nccl_ncolls, sizeof(table) / sizeof(table[0]));
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const tb_nccl_coll_t *c = tb_nccl_coll_find(table[i].name);
        tb_nccl_counts_t k;
        TB_CHECK(c != NULL);
        if (!c)
            continue;
        TB_CHECK_NEAR(c->bus_factor(8), table[i].bus8, 1e-12);
        c->counts(1000, 4, 3, &k);
        TB_CHECK_INT(k.send, table[i].send);
        TB_CHECK_INT(k.recv, table[i].recv);
        TB_CHECK_INT(k.param, table[i].param);
        /* algbw: 1 GB in 1 s is 1 GB/s; the split collectives count every rank's part. */
        TB_CHECK_NEAR(tb_nccl_algbw(c, 250000000, 4, 8, 1.0), table[i].alg_ranks ? 8.0 : 1.0,
                      1e-12);
    }
    /* In place: all_gather's send is its slot in the receive buffer, reduce_scatter's
     * receive its slot in the send buffer. */
    {
        tb_nccl_counts_t k;
        tb_nccl_coll_find("nccl_all_gather")->counts(1024, 8, 4, &k);
        TB_CHECK_INT(k.send_inplace, 256);
        TB_CHECK_INT(k.recv_inplace, 0);
        tb_nccl_coll_find("nccl_reduce_scatter")->counts(1024, 8, 4, &k);
        TB_CHECK_INT(k.recv_inplace, 256);
        /* 16-byte rounding: 1000 doubles at 3 ranks: 333 -> 332. */
        tb_nccl_coll_find("nccl_reduce_scatter")->counts(1000, 8, 3, &k);
        TB_CHECK_INT(k.param, 332);
    }
}

static void test_minifloats(void)
{
    TB_CHECK_INT(tb_minifloat_encode(1.0, 5, 10, 0), 0x3c00);
    TB_CHECK_INT(tb_minifloat_encode(2048.0, 5, 10, 0), 0x6800);
    TB_CHECK_INT(tb_minifloat_encode(-2.0, 5, 10, 0), 0xc000);
    TB_CHECK_INT(tb_minifloat_encode(65520.0, 5, 10, 0), 0x7c00); /* rounds to infinity */
    TB_CHECK_INT(tb_minifloat_encode(1.0, 8, 7, 0), 0x3f80);
    TB_CHECK_INT(tb_minifloat_encode(1.0, 4, 3, 1), 0x38);
    TB_CHECK_INT(tb_minifloat_encode(448.0, 4, 3, 1), 0x7e);
    TB_CHECK_INT(tb_minifloat_encode(1000.0, 4, 3, 1), 0x7e); /* saturates */
    TB_CHECK_INT(tb_minifloat_encode(1.0, 5, 2, 0), 0x3c);
    TB_CHECK_NEAR(tb_minifloat_decode(0x0001, 5, 10, 0), 5.960464477539063e-08, 1e-20);
    TB_CHECK(isnan(tb_minifloat_decode(0x7f, 4, 3, 1)));
    /* 2049 is not a half: nearest even is 2048. */
    TB_CHECK_INT(tb_minifloat_encode(2049.0, 5, 10, 0), 0x6800);
    for (size_t t = 0; t < tb_nccl_ntypes; t++) {
        const tb_nccl_type_t *ty = &tb_nccl_types[t];
        unsigned char buf[8];
        double top = ty->exact < 4096 ? ty->exact : 4096;
        for (double v = 0; v <= top; v++) {
            tb_nccl_set(ty, buf, 0, v);
            if (tb_nccl_get(ty, buf, 0) != v) {
                fprintf(stderr, "%s: %g does not survive\n", ty->name, v);
                TB_CHECK(0);
                break;
            }
        }
    }
}

static void test_reductions(void)
{
    const tb_nccl_type_t *i8 = tb_nccl_type_find("int8"), *h = tb_nccl_type_find("half");
    int8_t a[2] = {100, -128}, b[2] = {100, -1};
    uint16_t x[1], y[1];
    tb_nccl_reduce(i8, TB_NCCL_SUM, a, b, 2);
    TB_CHECK_INT(b[0], -56); /* wraps as the GPU's int8 */
    TB_CHECK_INT(b[1], 127);
    tb_nccl_reduce(i8, TB_NCCL_MIN, a, b, 2);
    TB_CHECK_INT(b[0], -56);
    TB_CHECK_INT(b[1], -128);
    /* half: 2048 + 1 rounds back to 2048 at each step. */
    tb_nccl_set(h, x, 0, 1);
    tb_nccl_set(h, y, 0, 2048);
    tb_nccl_reduce(h, TB_NCCL_SUM, x, y, 1);
    TB_CHECK_NEAR(tb_nccl_get(h, y, 0), 2048, 0);
    TB_CHECK(tb_nccl_op_find("avg") && tb_nccl_op_find("avg")->since == 21000);
    TB_CHECK(tb_nccl_type_find("f8e4m3") && tb_nccl_type_find("f8e4m3")->since == 22400);
    TB_CHECK(tb_nccl_type_find("fp8") == NULL);
}

/* The check's expected results equal what NCCL's arithmetic gives in any rank order, for
 * every type, operation and rank count: the pattern never relies on luck. */
static void test_patterns(void)
{
    static const int ns[] = {1, 2, 3, 8, 17, 300};
    for (size_t t = 0; t < tb_nccl_ntypes; t++) {
        const tb_nccl_type_t *ty = &tb_nccl_types[t];
        for (size_t o = 0; o < tb_nccl_nops; o++) {
            for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
                tb_nccl_pattern_t p;
                int n = ns[k], bad = 0;
                tb_nccl_pattern_init(&p, ty, tb_nccl_ops[o].nccl, n, 3);
                for (size_t j = 0; j < 40 && !bad; j++) {
                    unsigned char acc[8], in[8], acc_rev[8];
                    int op = tb_nccl_ops[o].nccl == TB_NCCL_AVG ? TB_NCCL_SUM
                                                                : tb_nccl_ops[o].nccl;
                    for (int r = 0; r < n; r++) {
                        unsigned char *dst = r == 0 ? acc : in;
                        tb_nccl_set(ty, dst, 0, tb_nccl_pattern_input(&p, r, j));
                        if (tb_nccl_ops[o].nccl == TB_NCCL_AVG)
                            tb_nccl_avg_pre(ty, dst, 1, n);
                        if (r)
                            tb_nccl_reduce(ty, op, in, acc, 1);
                    }
                    for (int r = n - 1; r >= 0; r--) { /* the other order */
                        unsigned char *dst = r == n - 1 ? acc_rev : in;
                        tb_nccl_set(ty, dst, 0, tb_nccl_pattern_input(&p, r, j));
                        if (tb_nccl_ops[o].nccl == TB_NCCL_AVG)
                            tb_nccl_avg_pre(ty, dst, 1, n);
                        if (r != n - 1)
                            tb_nccl_reduce(ty, op, in, acc_rev, 1);
                    }
                    if (tb_nccl_ops[o].nccl == TB_NCCL_AVG) {
                        tb_nccl_avg_post(ty, acc, 1, n);
                        tb_nccl_avg_post(ty, acc_rev, 1, n);
                    }
                    double want = tb_nccl_pattern_result(&p, j);
                    if (!tb_nccl_pattern_ok(&p, want, tb_nccl_get(ty, acc, 0)) ||
                        !tb_nccl_pattern_ok(&p, want, tb_nccl_get(ty, acc_rev, 0))) {
                        fprintf(stderr, "%s %s n=%d j=%zu: want %g, got %g / %g\n", ty->name,
                                tb_nccl_ops[o].name, n, j, want, tb_nccl_get(ty, acc, 0),
                                tb_nccl_get(ty, acc_rev, 0));
                        bad = 1;
                    }
                    /* A wrong element is never accepted. */
                    if (tb_nccl_ops[o].nccl != TB_NCCL_AVG &&
                        tb_nccl_pattern_ok(&p, want, want + 1))
                        bad = 1;
                }
                TB_CHECK(!bad);
            }
        }
        /* Copies: different ranks' blocks differ, and every value is exact. */
        {
            tb_nccl_pattern_t p;
            int same = 0;
            tb_nccl_pattern_init(&p, ty, TB_NCCL_SUM, 4, 1);
            for (size_t j = 0; j < 64; j++) {
                unsigned char b[8];
                double v = tb_nccl_pattern_copy(&p, 1, j);
                tb_nccl_set(ty, b, 0, v);
                TB_CHECK(tb_nccl_get(ty, b, 0) == v);
                same += v == tb_nccl_pattern_copy(&p, 2, j);
            }
            TB_CHECK(same < 40);
        }
    }
}

static void test_loader(void)
{
    tb_nccl_lib_t lib;
    char why[TB_NCCL_WHY_LEN];
    const char *missing = NULL;

    /* No library: the reason names what was tried. */
    TB_CHECK_INT(tb_nccl_lib_open("/nonexistent/libnccl.so.2", &lib, why), TB_ERR_ENV);
    TB_CHECK(strstr(why, "/nonexistent/libnccl.so.2") != NULL);
    TB_CHECK_INT(tb_nccl_lib_open("libtb-no-such-nccl.so.2", &lib, why), TB_ERR_ENV);
    TB_CHECK(strstr(why, "LD_LIBRARY_PATH") != NULL);

    /* The double: a current NCCL. */
    TB_CHECK_INT(tb_nccl_lib_open(TB_NCCL_DOUBLE, &lib, why), TB_OK);
    TB_CHECK_INT(lib.version, 22800);
    TB_CHECK_STR(lib.version_str, "2.28.0");
    TB_CHECK(lib.AlltoAll != NULL && lib.Send != NULL);
    TB_CHECK(tb_nccl_coll_supported(tb_nccl_coll_find("nccl_alltoall"), &lib, &missing));
    tb_nccl_lib_close(&lib);

    /* NCCL 2.6: no ncclSend/ncclRecv/ncclAlltoAll: those tests only are skipped. */
    TB_CHECK_INT(tb_nccl_lib_open(TB_NCCL_DOUBLE_2_6, &lib, why), TB_OK);
    TB_CHECK_STR(lib.version_str, "2.6.4");
    TB_CHECK(lib.AlltoAll == NULL && lib.Send == NULL);
    TB_CHECK(!tb_nccl_coll_supported(tb_nccl_coll_find("nccl_alltoall"), &lib, &missing));
    TB_CHECK_STR(missing, "AlltoAll");
    TB_CHECK(!tb_nccl_coll_supported(tb_nccl_coll_find("nccl_sendrecv"), &lib, &missing));
    TB_CHECK_STR(missing, "Send");
    TB_CHECK(tb_nccl_coll_supported(tb_nccl_coll_find("nccl_all_reduce"), &lib, &missing));
    TB_CHECK_STR(tb_nccl_symbol_since("AlltoAll"), "2.28");
    tb_nccl_lib_close(&lib);

    /* NCCL 2.1: a required call missing: the load fails naming it and its release. */
    TB_CHECK_INT(tb_nccl_lib_open(TB_NCCL_DOUBLE_2_1, &lib, why), TB_ERR_ENV);
    TB_CHECK(strstr(why, "ncclBroadcast") != NULL);
    TB_CHECK(strstr(why, "2.2") != NULL);

    /* TOPOBENCH_NCCL_LIB when no path is given. */
    setenv("TOPOBENCH_NCCL_LIB", TB_NCCL_DOUBLE_2_6, 1);
    TB_CHECK_INT(tb_nccl_lib_open(NULL, &lib, why), TB_OK);
    TB_CHECK_INT(lib.version, 2604);
    tb_nccl_lib_close(&lib);
    unsetenv("TOPOBENCH_NCCL_LIB");

    {
        char v[32];
        tb_nccl_version_string(22809, v, sizeof(v));
        TB_CHECK_STR(v, "2.28.9");
        tb_nccl_version_string(2708, v, sizeof(v));
        TB_CHECK_STR(v, "2.7.8");
        TB_CHECK_INT(TB_NCCL_VERSION(2, 28, 9), 22809);
        TB_CHECK_INT(TB_NCCL_VERSION(2, 7, 8), 2708);
    }
}

/* nccl-tests' options with their meaning. */
static void test_options(void)
{
    tb_opts_t o;
    int help = 0;
    char *argv[] = {"run", "-t", "all_reduce", "-b", "8", "-e", "8G", "-f", "2", "-g", "1",
                    "-d", "half", "--op", "max", "-r", "all", "-z", "3", "-a", "3", "-c", "4",
                    "-n", "7", "-w", "2", "--nccl-lib", "/x/libnccl.so.2", NULL};
    TB_CHECK_INT(tb_opts_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &o, &help), TB_OK);
    TB_CHECK_STR(o.nccl.dtype, "half");
    TB_CHECK_STR(o.nccl.op, "max");
    TB_CHECK_INT(o.nccl.root, -1);
    TB_CHECK_INT(o.nccl.blocking, 3);
    TB_CHECK_INT(o.nccl.average, 3);
    TB_CHECK_INT(o.check_iters, 4);
    TB_CHECK_INT(o.check, 1);
    TB_CHECK_INT(o.iters, 7);
    TB_CHECK_INT(o.warmup, 2);
    TB_CHECK_INT(o.max_bytes, (size_t)8 << 30);
    TB_CHECK_STR(o.nccl.lib, "/x/libnccl.so.2");
    {
        char *bad[][3] = {{"run", "-g", "2"},         {"run", "-d", "fp8"},
                          {"run", "--op", "mulsum"},   {"run", "-z", "4"},
                          {"run", "-a", "5"},         {"run", "-r", "x"}};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            TB_CHECK_INT(tb_opts_parse(3, bad[i], &o, &help), TB_ERR_USAGE);
        char *both[] = {"run", "-z", "3", "-G", "2", NULL};
        TB_CHECK_INT(tb_opts_parse(5, both, &o, &help), TB_ERR_USAGE);
        char *c0[] = {"run", "-c", "0", NULL};
        TB_CHECK_INT(tb_opts_parse(3, c0, &o, &help), TB_OK);
        TB_CHECK_INT(o.check, 0);
    }
}

/* How scripts read nccl-tests' output: an optional launcher label ("0: "), lines starting
 * with '#' are comments except the "Avg bus bandwidth" footer (some outputs drop the '#'),
 * a result line is 13 whitespace-separated fields whose first is the size. */
typedef struct parsed {
    int rows, bad_rows;
    double first[13]; /* the first row's numbers (type and redop: 0) */
    char type[16], redop[16];
    double avg_busbw;
    int have_avg;
} parsed_t;

static void parse_nccl_tests(FILE *f, parsed_t *p)
{
    char line[1024];
    memset(p, 0, sizeof(*p));
    while (fgets(line, sizeof(line), f)) {
        char *s = line, *tok[20], *save = NULL, *avg;
        int n = 0;
        while (isspace((unsigned char)*s))
            s++;
        if (isdigit((unsigned char)*s)) { /* "0: " from srun --label */
            char *q = s;
            while (isdigit((unsigned char)*q))
                q++;
            if (q[0] == ':' && q[1] == ' ')
                s = q + 2;
        }
        if ((avg = strstr(s, "Avg bus bandwidth")) && (avg = strchr(avg, ':'))) {
            p->avg_busbw = strtod(avg + 1, NULL);
            p->have_avg = 1;
            continue;
        }
        if (s[0] == '#')
            continue;
        for (char *t = strtok_r(s, " \t\n", &save); t && n < 20; t = strtok_r(NULL, " \t\n", &save))
            tok[n++] = t;
        if (n == 0 || !isdigit((unsigned char)tok[0][0]))
            continue;
        if (n != 13) {
            p->bad_rows++;
            continue;
        }
        if (p->rows++ == 0) {
            for (int i = 0; i < 13; i++)
                p->first[i] = strtod(tok[i], NULL);
            snprintf(p->type, sizeof(p->type), "%s", tok[2]);
            snprintf(p->redop, sizeof(p->redop), "%s", tok[3]);
        }
    }
}

/* topobench's NCCL table reads as nccl-tests' output, with the parser that reads the real
 * outputs of the fixtures. */
static void test_table(void)
{
    char path[4096];
    DIR *d = opendir(TB_FIXTURES_DIR "/nccl_tests");
    struct dirent *de;
    int files = 0, with_avg = 0;
    parsed_t p;
    json_error_t err;
    json_t *entry = json_loads(
        "{\"name\": \"nccl_all_reduce\", \"kind\": \"collective\", \"backend\": \"nccl\","
        " \"send_memory\": \"device\", \"recv_memory\": \"device\", \"dtype\": \"float\","
        " \"placement\": null, \"level\": null, \"status\": \"ok\", \"errors\": [],"
        " \"params\": {\"nccl_version\": \"2.28.0\", \"nccl_library\": \"/x/libnccl.so.2\", \"ranks\": 4},"
        " \"results\": ["
        "  {\"size\": 1048576, \"count\": 262144, \"type\": \"float\", \"redop\": \"sum\","
        "   \"root\": -1, \"in_place\": false, \"iterations\": 20, \"batches\": 5,"
        "   \"time_us\": {\"mean\": 123.456, \"min\": 120, \"median\": 123, \"p99\": 130, \"cv\": 0.02},"
        "   \"algbw_gbps\": 8.4937, \"busbw_gbps\": 12.7405, \"wrong\": 0, \"checked\": true},"
        "  {\"size\": 1048576, \"count\": 262144, \"type\": \"float\", \"redop\": \"sum\","
        "   \"root\": -1, \"in_place\": true, \"iterations\": 20, \"batches\": 5,"
        "   \"time_us\": {\"mean\": 12345.6, \"min\": 120, \"median\": 123, \"p99\": 130, \"cv\": 0.02},"
        "   \"algbw_gbps\": 1234.5, \"busbw_gbps\": 1851.75, \"wrong\": 3, \"checked\": true}]}",
        0, &err);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    TB_CHECK(entry != NULL && f != NULL);
    if (!entry || !f)
        return;
    TB_CHECK_INT(tb_report_table_print(entry, ".", f), TB_OK);
    fclose(f);
    f = fmemopen(text, len, "r");
    parse_nccl_tests(f, &p);
    fclose(f);
    TB_CHECK_INT(p.rows, 1);
    TB_CHECK_INT(p.bad_rows, 0);
    TB_CHECK_NEAR(p.first[0], 1048576, 0);
    TB_CHECK_NEAR(p.first[1], 262144, 0);
    TB_CHECK_STR(p.type, "float");
    TB_CHECK_STR(p.redop, "sum");
    TB_CHECK_NEAR(p.first[4], -1, 0);
    TB_CHECK_NEAR(p.first[5], 123.46, 1e-9);  /* nccl-tests' %7.2f */
    TB_CHECK_NEAR(p.first[6], 8.49, 1e-9);
    TB_CHECK_NEAR(p.first[7], 12.74, 1e-9);
    TB_CHECK_NEAR(p.first[8], 0, 0);
    TB_CHECK_NEAR(p.first[9], 12345.6, 1e-9); /* 7 characters: one decimal */
    TB_CHECK_NEAR(p.first[10], 1234.5, 1e-9);
    TB_CHECK_NEAR(p.first[11], 1851.8, 1e-9);
    TB_CHECK_NEAR(p.first[12], 3, 0);
    TB_CHECK(p.have_avg);
    TB_CHECK_NEAR(p.avg_busbw, (12.7405 + 1851.75) / 2, 1e-3);
    /* The header lines are nccl-tests' own, character for character. */
    TB_CHECK(strstr(text, "#       size         count      type   redop    root     time   algbw "
                          "  busbw  #wrong     time   algbw   busbw  #wrong \n") != NULL);
    TB_CHECK(strstr(text, "# Out of bounds values : 1 FAILED\n") != NULL);
    free(text);
    json_decref(entry);

    /* The same parser on real nccl-tests outputs. */
    while (d && (de = readdir(d))) {
        if (!strstr(de->d_name, "_perf.txt") || strstr(de->d_name, "massaged"))
            continue;
        snprintf(path, sizeof(path), "%s/nccl_tests/%s", TB_FIXTURES_DIR, de->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        parse_nccl_tests(f, &p);
        fclose(f);
        files++;
        with_avg += p.have_avg; /* some excerpts end before the footer */
        if (p.rows < 3 || p.bad_rows)
            fprintf(stderr, "%s: %d rows, %d bad\n", de->d_name, p.rows, p.bad_rows);
        TB_CHECK(p.rows >= 3 && p.bad_rows == 0);
    }
    if (d)
        closedir(d);
    TB_CHECK(files >= 8);
    TB_CHECK(with_avg >= 6);
}

int main(void)
{
    test_formulas();
    test_minifloats();
    test_reductions();
    test_patterns();
    test_loader();
    test_options();
    test_table();
    return tb_test_done();
}
