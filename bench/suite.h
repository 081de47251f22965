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
#include "topo.h"

/* Test-only fault injection. Enabled only when TOPOBENCH_TEST_FAULT names the fault AND
 * TOPOBENCH_TEST_FAULT_CONFIRM carries the confirmation phrase, so no production run can
 * enable it by accident; an enabled fault is announced and recorded in results.json. */
#define TB_FAULT_CONFIRM_PHRASE "inject-faults-into-this-run"
typedef struct tb_fault {
    int enabled;
    char kind[16]; /* corrupt hang stop oom slowsave fail slow (README, tests/mpi) */
    char test[32]; /* test name ("any": every test the kind applies to) */
    int rank;      /* world rank that misbehaves */
    int peer;      /* slow: the other end of the slow link; -1 otherwise */
} tb_fault_t;

/* The slow-link fault: every timed bandwidth window between the two ranks starts this
 * many seconds late on both ends (the ranks' other transfers go on meanwhile, and the
 * waiting gives the CPU away), as a link far below its rate would make it. */
#define TB_FAULT_SLOW_DELAY_S 1.0

struct tb_gpu;

typedef struct tb_suite {
    const tb_rt_t *rt;
    const tb_opts_t *opts;
    const struct tb_gpu *gpu; /* the GPU state (bench/gpu/gpu.h), set up for every run */
    json_t *doc; /* rank 0 only */
    tb_doc_writer_t *writer; /* rank 0: rewrites with hosts[] and ranks[] frozen (or NULL) */
    pthread_mutex_t doc_lock;
    char results_path[4096];
    tb_progress_t progress;
    tb_fault_t fault;
    int test_seq;      /* entries started so far */
    int quiet_skips;   /* skipped entries are not printed (their reason was, once) */
    /* Rank 0's saving of the document: due when dirty and a test finished or
     * TB_SAVE_INTERVAL_S passed; a failed write is kept (save_status) and retried. */
    int dirty, finished_unsaved;
    double last_save, save_cost; /* when, and how long the last write took */
    size_t saved_finished; /* finished tests in the last document written */
    tb_status_t save_status;
    unsigned long saved_ino; /* results.json as rank 0 last wrote it (rename: a new inode) */
    /* Node leaders: this node's topology as the run recorded it (discovered, or
     * TOPOBENCH_TOPO_FILE), for the tests that place work by it (gpu_copy); NULL
     * elsewhere or when discovery failed. NCCL's view of the node is set against it too
     * (bench/nccl/nccl_view.c). */
    tb_topo_t *node_topo;
    /* --backend ucx: the UCX transport's state (bench/ucx), NULL when it is not running;
     * backend_why says why the backend's tests are skipped then. */
    struct tb_ucx *ucx;
    char backend_why[256];
} tb_suite_t;

/* How many test entries the selected tests make (the n of the progress line's k/n). */
int tb_suite_planned_entries(const tb_suite_t *s);

/* Results finished inside a test reach the disk this long after they were measured (a
 * kill keeps them), or 10 x the time one write takes when that is longer, so a large
 * document costs the run at most a tenth of its time. */
#define TB_SAVE_INTERVAL_S 5.0

/* Rank 0: appends a test entry (tb_doc_entry_new: name, kind, the keys, status
 * "running", params, units, results [], errors []) to the document and returns it
 * (borrowed); NULL elsewhere. */
/* Keys of an entry measured over MPI between host buffers. */
tb_doc_keys_t tb_suite_keys(const char *dtype, const char *placement, const char *level);
/* The same with the memory kinds of --mem and the transport of --backend (the
 * point-to-point tests, collectives and matrices). */
tb_doc_keys_t tb_suite_keys_mem(const tb_suite_t *s, const char *dtype, const char *placement,
                                const char *level);

json_t *tb_suite_begin_test(tb_suite_t *s, const char *name, const char *kind,
                            const tb_doc_keys_t *keys, json_t *params);
/* Rank 0: appends one measurement (steals `result`). */
void tb_suite_add_result(tb_suite_t *s, json_t *entry, json_t *result);
void tb_suite_add_error(tb_suite_t *s, json_t *entry, json_t *error);
/* Rank 0: final status of the entry, and prints the entry's table; the document is
 * written at the next tb_suite_sync (the CSV files at the end of the run). */
tb_status_t tb_suite_end_test(tb_suite_t *s, json_t *entry, const char *status,
                              const char *skip_reason);
/* Rank 0: writes the document (under the lock). A failure is logged with the tests the
 * document on disk lacks, kept in save_status, and returned. */
tb_status_t tb_suite_save(tb_suite_t *s);
/* Rank 0: "bw (intra-node), all_reduce (float)": the tests missing from the document
 * on disk (finished or running after the last successful write). */
void tb_suite_unsaved_tests(tb_suite_t *s, char *buf, size_t len);

/* Every rank of `comm` (whose rank 0 is world rank 0, or which lacks world rank 0):
 * agrees on the worst status, and when rank 0 has results to save (a test finished, or
 * TB_SAVE_INTERVAL_S passed) rank 0 writes the document while the others wait polled,
 * so the write never counts toward their watchdog (up to 10 x the timeout). */
tb_status_t tb_suite_sync(tb_suite_t *s, MPI_Comm comm, tb_status_t local);
/* Rank 0, once hosts[] and ranks[] are complete (after the topologies are gathered):
 * later rewrites reuse their text instead of serializing them again. */
void tb_suite_freeze_job(tb_suite_t *s);

/* Every world rank: waits until all ranks reach this point, polling so the heartbeat
 * keeps beating (ranks idle during a pair test are not stuck; the busy ones are watched). */
void tb_suite_wait_all(tb_suite_t *s, const char *test);

/* Whether the fault switch targets (kind, test) on this rank. */
int tb_suite_fault(const tb_suite_t *s, const char *kind, const char *test);
/* The slow-link fault between this rank and `peer_world` in test `test`: 1 when this
 * rank is one end of the faulty link and the fault names this test or "any", else 0. Both
 * ends apply it (TB_FAULT_SLOW_DELAY_S), so the link is slow both ways. */
int tb_suite_fault_slow(const tb_suite_t *s, const char *test, int peer_world);
/* Injected hang: never returns (the watchdog ends the job). */
void tb_suite_hang(const char *test, const char *variant, size_t size);
/* Parses TOPOBENCH_TEST_FAULT (inert without its confirmation variable). */
void tb_suite_fault_from_env(tb_suite_t *s);

#endif
