/* bench: the bandwidth formulas of every test table against REFERENCE.md §1
 * (nccl-tests' algbw and busbw), the option parser and the size sweep. No MPI calls. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "opts.h"
#include "tb_test.h"

static void test_formulas(void)
{
    static const struct {
        const tb_test_ops_t *ops;
        double alg_mult; /* algbw = S x alg_mult / t */
        double bus[3];   /* busbw / algbw at n = 2, 4, 8 */
    } table[] = {
        {&tb_test_all_reduce, 1, {2.0 * 1 / 2, 2.0 * 3 / 4, 2.0 * 7 / 8}},
        {&tb_test_all_gather, -1, {1.0 / 2, 3.0 / 4, 7.0 / 8}},
        {&tb_test_reduce_scatter, -1, {1.0 / 2, 3.0 / 4, 7.0 / 8}},
        {&tb_test_alltoall, -1, {1.0 / 2, 3.0 / 4, 7.0 / 8}},
        {&tb_test_broadcast, 1, {1, 1, 1}},
    };
    static const int ns[3] = {2, 4, 8};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        for (int k = 0; k < 3; k++) {
            tb_bench_ctx_t ctx;
            memset(&ctx, 0, sizeof(ctx));
            ctx.size = 1 << 20;
            ctx.nranks = ns[k];
            double mult = table[i].alg_mult < 0 ? ns[k] : table[i].alg_mult;
            TB_CHECK_NEAR(table[i].ops->alg_bytes(&ctx), (double)ctx.size * mult, 0);
            TB_CHECK_NEAR(table[i].ops->bus_factor(ns[k]), table[i].bus[k], 1e-12);
        }
    }
    /* Point-to-point: latency is half the round trip and has no bandwidth; bw counts the
     * window, bibw both directions. */
    tb_bench_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.size = 4096;
    ctx.window = 64;
    TB_CHECK_NEAR(tb_test_latency.time_scale, 0.5, 0);
    TB_CHECK(tb_test_latency.alg_bytes == NULL);
    TB_CHECK_NEAR(tb_test_bw.alg_bytes(&ctx), 4096.0 * 64, 0);
    TB_CHECK_NEAR(tb_test_bibw.alg_bytes(&ctx), 2 * 4096.0 * 64, 0);
    TB_CHECK(tb_test_bw.bus_factor == NULL);
    /* Buffer shapes: in-place reduce_scatter needs the whole input in the receive buffer. */
    size_t se, re;
    tb_test_reduce_scatter.buffers(100, 4, &se, &re);
    TB_CHECK_INT(se, 400);
    TB_CHECK_INT(re, 400);
    tb_test_all_gather.buffers(100, 4, &se, &re);
    TB_CHECK_INT(se, 100);
    TB_CHECK_INT(re, 400);
}

static tb_status_t parse(tb_opts_t *o, const char *line)
{
    char buf[512], *argv[32], *save = NULL;
    int argc = 0, help = 0;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    return tb_opts_parse(argc, argv, o, &help);
}

static void test_opts(void)
{
    tb_opts_t o;
    size_t sizes[64], n;
    TB_CHECK_INT(parse(&o, "run"), TB_OK);
    TB_CHECK_STR(o.suite, "standard");
    TB_CHECK_INT(o.min_bytes, 8);
    TB_CHECK_INT(o.max_bytes, 16 << 20);
    TB_CHECK(!tb_opts_has_test(&o, "isolated"));
    TB_CHECK(tb_opts_has_test(&o, "node_matrix"));
    n = tb_opts_sizes(&o, sizes, 64);
    TB_CHECK_INT(n, 22); /* 8 .. 16M in x2 steps */
    TB_CHECK_INT(sizes[0], 8);
    TB_CHECK_INT(sizes[n - 1], 16 << 20);

    /* Explicit options win over the suite whatever their order. */
    TB_CHECK_INT(parse(&o, "run -b 1K --suite quick -e 3K -f 2"), TB_OK);
    TB_CHECK_STR(o.suite, "quick");
    n = tb_opts_sizes(&o, sizes, 64);
    TB_CHECK_INT(n, 3); /* 1K, 2K, then the maximum 3K */
    TB_CHECK_INT(sizes[2], 3072);
    TB_CHECK_INT(parse(&o, "run -t bw,all_reduce --pairs 0-3,1-2 -T 50ms"), TB_OK);
    TB_CHECK(tb_opts_has_test(&o, "isolated"));
    TB_CHECK_INT(o.npairs, 2);
    TB_CHECK_INT(o.pairs[1][0], 1);
    TB_CHECK_NEAR(o.time_budget, 0.05, 1e-12);
    TB_CHECK_INT(parse(&o, "run -squick"), TB_OK); /* value attached to the short option */
    TB_CHECK_STR(o.suite, "quick");
    /* A factor too small to move a byte count still gives distinct sizes, max included. */
    TB_CHECK_INT(parse(&o, "run -b 1 -e 8 -f 1.01"), TB_OK);
    n = tb_opts_sizes(&o, sizes, 64);
    TB_CHECK_INT(n, 8);
    TB_CHECK_INT(sizes[7], 8);
    TB_CHECK_INT(parse(&o, "run -f 1.5 -b 8 -e 64"), TB_OK);
    n = tb_opts_sizes(&o, sizes, 64);
    TB_CHECK_INT(sizes[1], 12);
    TB_CHECK_INT(sizes[n - 1], 64);

    static const char *bad[] = {"run --nope", "run -e", "run -e 4Q", "run -b 2M -e 1M",
                                "run -f 1", "run -n -3", "run -t bogus", "run --pairs 1-1",
                                "run --pairs 1-", "run --suite slow", "run -c x",
                                "run --timeout 0", "run -m 0", "run extra", "run -t isolated",
                                "run -m 2G", "run --window 4294967297",
                                "run -b 1 -e 1G -f 1.0001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tb_status_t st = parse(&o, bad[i]);
        if (st != TB_ERR_USAGE)
            fprintf(stderr, "'%s' gave %d\n", bad[i], st);
        TB_CHECK_INT(st, TB_ERR_USAGE);
    }
}

static void test_pattern(void)
{
    /* Reductions: small integers, so sums over thousands of ranks are exact in float;
     * the O(1) table of sums agrees with the sum it replaces. */
    static const int ns[] = {1, 2, 5, 16, 17, 18, 40, 1000};
    double sums[17];
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        tb_pattern_sums(ns[k], sums);
        for (size_t i = 0; i < 40; i++) {
            double want = 0;
            for (int r = 0; r < ns[k]; r++)
                want += tb_pattern(r, i, 7, 4096);
            TB_CHECK_NEAR(tb_pattern_sum(sums, i, 7, 4096), want, 0);
        }
    }
    for (int r = 0; r < 40; r++)
        TB_CHECK(tb_pattern(r, 3, 2, 64) >= 0 && tb_pattern(r, 3, 2, 64) < 17);

    /* Copies: every value depends on rank, element, iteration and size, with no short
     * period: rank r and r+17 (or r+256) differ, and so do 256-byte chunks of one
     * message (a duplicated or reordered chunk must not pass). */
    uint64_t s1 = tb_pattern_seed(1, 2, 64);
    TB_CHECK(s1 != tb_pattern_seed(18, 2, 64));
    TB_CHECK(s1 != tb_pattern_seed(257, 2, 64));
    TB_CHECK(s1 != tb_pattern_seed(1, 3, 64));
    TB_CHECK(s1 != tb_pattern_seed(1, 2, 65));
    int same_blocks = 0, same_chunks = 0;
    uint64_t s18 = tb_pattern_seed(18, 2, 64);
    for (size_t i = 0; i < 64; i++)
        same_blocks += tb_pattern_copy(s1, i) == tb_pattern_copy(s18, i);
    TB_CHECK(same_blocks < 4);
    for (size_t c = 1; c < 16; c++) {
        int same = 1;
        for (size_t i = 0; i < 256 && same; i++)
            same = tb_pattern_byte(s1, i) == tb_pattern_byte(s1, c * 256 + i);
        same_chunks += same;
    }
    TB_CHECK_INT(same_chunks, 0);
    /* 24-bit values: exact in float. */
    for (size_t i = 0; i < 1000; i++) {
        double v = tb_pattern_copy(s1, i);
        TB_CHECK(v >= 0 && v < 16777216.0 && (double)(float)v == v);
    }
}

int main(void)
{
    test_formulas();
    test_opts();
    test_pattern();
    return tb_test_done();
}
