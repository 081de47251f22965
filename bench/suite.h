/* State of one `topobench run` shared by the harness and the tests: the runtime, the
 * options, the results document (rank 0 only) and the test-only fault switch. */
#ifndef TB_BENCH_SUITE_H
#define TB_BENCH_SUITE_H

#include <jansson.h>
#include <pthread.h>

#include "doc.h"
#include "opts.h"
#include "progress.h"
#include "rt.h"

/* Test-only fault injection. Enabled only when TOPOBENCH_TEST_FAULT names the fault AND
 * TOPOBENCH_TEST_FAULT_CONFIRM carries the confirmation phrase, so no production run can
 * enable it by accident; an enabled fault is announced and recorded in results.json. */
#define TB_FAULT_CONFIRM_PHRASE "inject-faults-into-this-run"
typedef struct tb_fault {
    int enabled;
    char kind[16]; /* "corrupt" or "hang" */
    char test[32]; /* test name */
    int rank;      /* world rank that misbehaves */
} tb_fault_t;

typedef struct tb_suite {
    const tb_rt_t *rt;
    const tb_opts_t *opts;
    json_t *doc; /* rank 0 only */
    pthread_mutex_t doc_lock;
    char results_path[4096];
    tb_progress_t progress;
    tb_fault_t fault;
    int test_seq;      /* entries started so far */
} tb_suite_t;

/* How many test entries the selected tests make (the n of the progress line's k/n). */
int tb_suite_planned_entries(const tb_suite_t *s);

/* Rank 0: appends a test entry (tb_doc_entry_new: name, kind, the keys, status
 * "running", params, units, results [], errors []) to the document and returns it
 * (borrowed); NULL elsewhere. */
/* Keys of an entry measured over MPI between host buffers, the only backend and memory
 * kind built so far. */
tb_doc_keys_t tb_suite_keys(const char *dtype, const char *placement, const char *level);

json_t *tb_suite_begin_test(tb_suite_t *s, const char *name, const char *kind,
                            const tb_doc_keys_t *keys, json_t *params);
/* Rank 0: appends one measurement (steals `result`). */
void tb_suite_add_result(tb_suite_t *s, json_t *entry, json_t *result);
void tb_suite_add_error(tb_suite_t *s, json_t *entry, json_t *error);
/* Rank 0: final status of the entry, then writes the document and prints the entry's
 * table (the CSV files are written at the end of the run). Returns TB_ERR_ENV when the
 * document cannot be written. */
tb_status_t tb_suite_end_test(tb_suite_t *s, json_t *entry, const char *status,
                              const char *skip_reason);
/* Rank 0: writes the document (under the lock). */
tb_status_t tb_suite_save(tb_suite_t *s);

/* Every world rank: waits until all ranks reach this point, polling so the heartbeat
 * keeps beating (ranks idle during a pair test are not stuck; the busy ones are watched). */
void tb_suite_wait_all(tb_suite_t *s, const char *test);

/* Whether the fault switch targets (kind, test) on this rank. */
int tb_suite_fault(const tb_suite_t *s, const char *kind, const char *test);
/* Injected hang: never returns (the watchdog ends the job). */
void tb_suite_hang(const char *test, const char *variant, size_t size);

#endif
