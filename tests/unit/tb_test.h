/* Minimal assertion helpers for unit tests (libuv's test/task.h style): a failed check
 * prints the expression and both values, and the test continues so one run shows every
 * failure; tb_test_done() returns the exit status (77 = skipped). */
#ifndef TB_TEST_H
#define TB_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int tb_test_failures;
static int tb_test_checks;

#define TB_CHECK(expr)                                                                     \
    do {                                                                                   \
        tb_test_checks++;                                                                  \
        if (!(expr)) {                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);      \
            tb_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

#define TB_CHECK_INT(a, b)                                                                 \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        tb_test_checks++;                                                                  \
        if (va_ != vb_) {                                                                  \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__,  \
                    #a, #b, va_, vb_);                                                     \
            tb_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

#define TB_CHECK_NEAR(a, b, tol)                                                           \
    do {                                                                                   \
        double va_ = (double)(a), vb_ = (double)(b);                                       \
        tb_test_checks++;                                                                  \
        if (!(fabs(va_ - vb_) <= (tol))) {                                                 \
            fprintf(stderr, "%s:%d: %s ~= %s failed: %.9g vs %.9g (tol %g)\n", __FILE__,  \
                    __LINE__, #a, #b, va_, vb_, (double)(tol));                            \
            tb_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

#define TB_CHECK_STR(a, b)                                                                 \
    do {                                                                                   \
        const char *va_ = (a), *vb_ = (b);                                                 \
        tb_test_checks++;                                                                  \
        if (!va_ || !vb_ || strcmp(va_, vb_) != 0) {                                       \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,        \
                    __LINE__, #a, #b, va_ ? va_ : "(null)", vb_ ? vb_ : "(null)");         \
            tb_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

/* The text (a rendered table, a message) contains `needle`. */
#define TB_CHECK_HAS(text, needle)                                                         \
    do {                                                                                   \
        tb_test_checks++;                                                                  \
        if (!(text) || !strstr((text), (needle))) {                                        \
            fprintf(stderr, "%s:%d: output lacks \"%s\":\n%s\n", __FILE__, __LINE__,     \
                    (needle), (text) ? (text) : "(null)");                                 \
            tb_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

static inline int tb_test_done(void)
{
    if (tb_test_checks == 0) {
        fprintf(stderr, "no checks ran\n");
        return 1;
    }
    printf("%d checks, %d failed\n", tb_test_checks, tb_test_failures);
    return tb_test_failures ? 1 : 0;
}

#endif
