/* Status codes and process exit statuses shared by every module.
 *
 * Convention (as hwloc states it once): a fallible function returns tb_status_t,
 * TB_OK (0) on success; objects come back through a last `**out_p` argument, written
 * only on success. The first function that detects an error logs it; callers pass the
 * status up without logging it again. */
#ifndef TB_CORE_STATUS_H
#define TB_CORE_STATUS_H

#if defined(__GNUC__)
#define TB_NODISCARD __attribute__((warn_unused_result))
#define TB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TB_NODISCARD
#define TB_PRINTF(f, a)
#endif

/* Ordered by severity: when ranks agree on a status they take the maximum, so the
 * most specific failure wins (a timeout outranks a usage error seen by one rank). */
typedef enum tb_status {
    TB_OK = 0,
    TB_ERR_USAGE,      /* bad option or argument */
    TB_ERR_INPUT,      /* a file given to us is malformed or truncated */
    TB_ERR_ENV,        /* missing library, unwritable directory, no permission */
    TB_ERR_INTERNAL,   /* bug or unexpected backend failure */
    TB_ERR_REGRESSION, /* below baseline (the `check` gate) */
    TB_ERR_CORRUPT,    /* a transfer delivered wrong data */
    TB_ERR_TIMEOUT,    /* a blocking step exceeded its watchdog */
    TB_ERR_INTERRUPTED, /* SIGINT or SIGTERM ended the run */
    TB_STATUS_COUNT
} tb_status_t;

/* Process exit statuses. Documented in README.md and `topobench help`; CI branches on
 * them, so their values never change once released. */
enum {
    TB_EXIT_OK = 0,
    TB_EXIT_INTERNAL = 1,
    TB_EXIT_USAGE = 2,
    TB_EXIT_INPUT = 3,
    TB_EXIT_ENV = 4,
    TB_EXIT_REGRESSION = 5,
    TB_EXIT_CORRUPT = 6,
    TB_EXIT_TIMEOUT = 7,
    TB_EXIT_INTERRUPTED = 8,
};

const char *tb_status_string(tb_status_t status);
int tb_status_exit_code(tb_status_t status);

#endif
