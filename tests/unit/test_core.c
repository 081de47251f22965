/* core: size/duration parsing, statistics, status mapping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "status.h"
#include "progress.h"
#include "tb_test.h"
#include "units.h"

static void test_size_parse(void)
{
    static const struct {
        const char *text;
        size_t value;
    } good[] = {{"0", 0},         {"8", 8},          {"1K", 1024},     {"64k", 65536},
                {"4M", 4u << 20}, {"1G", 1u << 30},  {"2KiB", 2048},   {"3MB", 3u << 20},
                {"1024", 1024}};
    static const char *bad[] = {"", "-1", "abc", "4X", "1.5M", "K", "99999999999999999999",
                                "18014398509481984T", " 4", "4 "};
    size_t v;
    char buf[32];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 12345;
        TB_CHECK_INT(tb_size_parse(good[i].text, &v), TB_OK);
        TB_CHECK_INT(v, good[i].value);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        TB_CHECK_INT(tb_size_parse(bad[i], &v), TB_ERR_USAGE);
    TB_CHECK_STR(tb_size_format(4u << 20, buf, sizeof(buf)), "4M");
    TB_CHECK_STR(tb_size_format(1000, buf, sizeof(buf)), "1000");
    TB_CHECK_STR(tb_size_format(8, buf, sizeof(buf)), "8");
    TB_CHECK_STR(tb_size_format(3072, buf, sizeof(buf)), "3K");
}

static void test_duration_parse(void)
{
    double s = -1;
    TB_CHECK_INT(tb_duration_parse("30", &s), TB_OK);
    TB_CHECK_NEAR(s, 30.0, 1e-12);
    TB_CHECK_INT(tb_duration_parse("500ms", &s), TB_OK);
    TB_CHECK_NEAR(s, 0.5, 1e-12);
    TB_CHECK_INT(tb_duration_parse("2m", &s), TB_OK);
    TB_CHECK_NEAR(s, 120.0, 1e-12);
    TB_CHECK_INT(tb_duration_parse("1.5s", &s), TB_OK);
    TB_CHECK_NEAR(s, 1.5, 1e-12);
    TB_CHECK_INT(tb_duration_parse("-1", &s), TB_ERR_USAGE);
    TB_CHECK_INT(tb_duration_parse("5 parsecs", &s), TB_ERR_USAGE);
    TB_CHECK_INT(tb_duration_parse("", &s), TB_ERR_USAGE);
}

static void test_stats(void)
{
    double v[] = {5, 1, 4, 2, 3};
    double many[100];
    double scratch[100], med, mad;
    tb_stats_t st;
    tb_stats_compute(v, 5, &st);
    TB_CHECK_INT(st.count, 5);
    TB_CHECK_NEAR(st.min, 1, 0);
    TB_CHECK_NEAR(st.max, 5, 0);
    TB_CHECK_NEAR(st.median, 3, 0);
    TB_CHECK_NEAR(st.mean, 3, 1e-12);
    /* sample std dev of 1..5 = sqrt(2.5) */
    TB_CHECK_NEAR(st.cv, sqrt(2.5) / 3.0, 1e-12);
    /* p99 of 1..5: position 0.99*4 = 3.96 -> 4 + 0.96 */
    TB_CHECK_NEAR(st.p99, 4.96, 1e-12);
    for (int i = 0; i < 100; i++)
        many[i] = 100 - i; /* 1..100 reversed */
    tb_stats_compute(many, 100, &st);
    TB_CHECK_NEAR(st.median, 50.5, 1e-12);
    TB_CHECK_NEAR(st.p99, 99.01, 1e-9);
    tb_stats_compute(many, 1, &st);
    TB_CHECK_NEAR(st.cv, 0, 0);
    tb_stats_compute(many, 0, &st);
    TB_CHECK_INT(st.count, 0);
    double outl[] = {10, 10, 11, 9, 10, 50};
    tb_stats_median_mad(outl, 6, scratch, &med, &mad);
    TB_CHECK_NEAR(med, 10, 1e-12);
    TB_CHECK_NEAR(mad, 0.5, 1e-12);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Selection on large arrays (the bracket of a sorted sample, then a selection over the
 * values within it) gives exactly the figures of sorting, whatever the values' shape:
 * spread, few distinct values, all equal, sorted, a heavy tail that the sample misses. */
static void test_stats_select_large(void)
{
    static const double ps[] = {0, 1, 25, 50, 75, 99, 100};
    static const size_t sizes[] = {16383, 16384, 16385, 65537, 200000};
    size_t nmax = 200000;
    double *v = malloc(nmax * sizeof(double)), *w = malloc(nmax * sizeof(double)),
           *u = malloc(nmax * sizeof(double));
    unsigned s = 777;
    TB_CHECK(v && w && u);
    for (size_t si = 0; v && w && u && si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        for (int shape = 0; shape < 5; shape++) {
            for (size_t i = 0; i < n; i++) {
                s = s * 1103515245u + 12345u;
                u[i] = shape == 0   ? (double)(s >> 8) / 7.0
                       : shape == 1 ? (double)(s >> 29)
                       : shape == 2 ? 3.5
                       : shape == 3 ? (double)i
                                    : (i % 3 ? 1.0 + (double)(s >> 20) / 1e6 : 1e9 + (double)i);
            }
            memcpy(w, u, n * sizeof(double));
            qsort(w, n, sizeof(double), cmp_dbl);
            memcpy(v, u, n * sizeof(double));
            TB_CHECK_NEAR(tb_stats_median_select(v, n),
                          n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2, 0);
            for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
                memcpy(v, u, n * sizeof(double));
                TB_CHECK_NEAR(tb_stats_percentile_select(v, n, ps[k]),
                              tb_stats_percentile_sorted(w, n, ps[k]), 0);
            }
        }
    }
    free(v);
    free(w);
    free(u);
}

/* The masked median and MAD (cells read in place, flag bytes selecting them) give
 * exactly tb_stats_median_mad's figures over the selected values, whatever their shape;
 * too few values or too small a scratch: 0, figures untouched. */
static void test_stats_median_mad_masked(void)
{
    static const size_t sizes[] = {40000, 40001, 300000};
    size_t nmax = 300000, cap = 65536;
    double *v = malloc(nmax * sizeof(double)), *w = malloc(nmax * sizeof(double)),
           *scratch = malloc(nmax * sizeof(double));
    unsigned char *f = malloc(nmax);
    unsigned s = 4242;
    TB_CHECK(v && w && scratch && f);
    for (size_t si = 0; v && w && scratch && f && si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        for (int shape = 0; shape < 4; shape++) {
            size_t count = 0;
            double med = -1, mad = -1, med2, mad2;
            for (size_t i = 0; i < n; i++) {
                s = s * 1103515245u + 12345u;
                v[i] = shape == 0   ? (double)(s >> 8) / 7.0
                       : shape == 1 ? (double)(s >> 29)
                       : shape == 2 ? 3.5
                                    : (i % 3 ? 1.0 + (double)(s >> 20) / 1e6 : 1e9 + (double)i);
                /* class in the low bits, a flag above: 2 of 3 cells of class 1 selected */
                f[i] = (unsigned char)(i % 7 == 0 ? 2 : (i % 3 == 0 ? 0x20 | 1 : 1));
                if (f[i] == 1)
                    w[count++] = v[i];
            }
            TB_CHECK_INT(tb_stats_median_mad_masked(v, f, n, 0x27, 1, count, scratch, nmax, &med,
                                                    &mad),
                         1);
            tb_stats_median_mad(w, count, scratch, &med2, &mad2);
            TB_CHECK_NEAR(med, med2, 0);
            TB_CHECK_NEAR(mad, mad2, 0);
            med = mad = -1;
            if (shape == 0)
                TB_CHECK_INT(tb_stats_median_mad_masked(v, f, n, 0x27, 1, count, scratch, 16,
                                                        &med, &mad),
                             0);
            TB_CHECK_INT(tb_stats_median_mad_masked(v, f, n, 0x27, 2, n / 7 + 1 < 16384 ? n / 7 + 1
                                                                                       : 0,
                                                    scratch, cap, &med, &mad),
                         0);
            TB_CHECK(med == -1 && mad == -1);
        }
    }
    free(v);
    free(w);
    free(scratch);
    free(f);
}

static void test_status(void)
{
    TB_CHECK_INT(tb_status_exit_code(TB_OK), 0);
    TB_CHECK_INT(tb_status_exit_code(TB_ERR_USAGE), TB_EXIT_USAGE);
    TB_CHECK_INT(tb_status_exit_code(TB_ERR_CORRUPT), TB_EXIT_CORRUPT);
    TB_CHECK_INT(tb_status_exit_code(TB_ERR_TIMEOUT), TB_EXIT_TIMEOUT);
    TB_CHECK_INT(tb_status_exit_code(TB_ERR_INTERRUPTED), 8);
    TB_CHECK_STR(tb_status_string(TB_ERR_INTERRUPTED), "interrupted");
    TB_CHECK_INT(tb_status_exit_code((tb_status_t)99), TB_EXIT_INTERNAL);
    /* Exit statuses are distinct. */
    for (int a = 0; a < TB_STATUS_COUNT; a++)
        for (int b = a + 1; b < TB_STATUS_COUNT; b++)
            TB_CHECK(tb_status_exit_code((tb_status_t)a) != tb_status_exit_code((tb_status_t)b));
}

static void test_progress_format(void)
{
    char line[256];
    /* Test 3 of 10 half done after 50 s: 2.5 of 10 tests took 50 s, 7.5 take 150 s. */
    tb_progress_format(line, sizeof(line), 3, 10, "all_reduce (float)", "64K in-place", 0.5,
                       50.0);
    TB_CHECK_STR(line, "test 3/10 all_reduce (float): 64K in-place; 0:50 elapsed, about 2:30 left");
    /* Nothing done yet: no estimate. */
    tb_progress_format(line, sizeof(line), 1, 12, "latency (intra-node)", "8", 0, 0.2);
    TB_CHECK_STR(line, "test 1/12 latency (intra-node): 8; 0:00 elapsed, estimating what is left");
    /* Hours; more tests than planned never shows k above n (12.25 of 13 done). */
    tb_progress_format(line, sizeof(line), 13, 12, "matrix (rank)", "round 2/63", 0.25, 7322);
    TB_CHECK_STR(line, "test 13/13 matrix (rank): round 2/63; 2:02:02 elapsed, about 7:28 left");
    /* Out-of-range fractions are clamped. */
    tb_progress_format(line, sizeof(line), 2, 2, "isolated (isolated)", "", 7.0, 10);
    TB_CHECK_STR(line, "test 2/2 isolated (isolated); 0:10 elapsed, about 0:00 left");
}

static void test_progress_plain_lines(void)
{
    /* Not a terminal: the first step prints at once, the next ones only after the
     * interval, each a plain line with k/n, what, elapsed and the estimate. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tb_progress_t p;
    tb_progress_init(&p, f, 1);
    tb_progress_test(&p, 1, 4, "bw (intra-node)");
    tb_progress_step(&p, 0.0, "%s", "8");
    tb_progress_step(&p, 0.5, "%s", "4K");
    p.interval = 0;
    tb_progress_step(&p, 0.5, "%s", "4K");
    tb_progress_clear(&p);
    fclose(f);
    {
        const char *first = "progress: test 1/4 bw (intra-node): 8; 0:00 elapsed, estimating";
        TB_CHECK(buf && !strncmp(buf, first, strlen(first)));
    }
    TB_CHECK(buf && strstr(buf, "\nprogress: test 1/4 bw (intra-node): 4K; 0:00 elapsed, about"));
    TB_CHECK(buf && !strstr(buf, "\033"));
    TB_CHECK_INT(buf ? (long long)(strchr(strchr(buf, '\n') + 1, '\n') - buf) + 1 : 0, (long long)len);
    free(buf);
}

int main(void)
{
    test_size_parse();
    test_duration_parse();
    test_stats();
    test_stats_select_large();
    test_stats_median_mad_masked();
    test_status();
    test_progress_format();
    test_progress_plain_lines();
    return tb_test_done();
}
