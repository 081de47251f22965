/* Document bookkeeping of a run (rank 0), the idle wait, and the test-only fault switch. */
#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "log.h"
#include "nccl_types.h"
#include "report.h"
#include "watchdog.h"

tb_doc_keys_t tb_suite_keys(const char *dtype, const char *placement, const char *level)
{
    tb_doc_keys_t k = {.backend = "mpi",
                       .send_memory = "host",
                       .recv_memory = "host",
                       .dtype = dtype,
                       .placement = placement,
                       .level = level};
    return k;
}

tb_doc_keys_t tb_suite_keys_mem(const tb_suite_t *s, const char *dtype, const char *placement,
                                const char *level)
{
    tb_doc_keys_t k = tb_suite_keys(dtype, placement, level);
    k.backend = s->opts->backend;
    k.send_memory = s->opts->mem[0];
    k.recv_memory = s->opts->mem[1];
    return k;
}

int tb_suite_planned_entries(const tb_suite_t *s)
{
    static const char *const one_entry[] = {"all_gather", "reduce_scatter", "broadcast",
                                            "alltoall", "matrix", "node_matrix", "isolated",
                                            "gpu_copy"};
    const tb_opts_t *o = s->opts;
    int n = 0;
    /* Point-to-point: the intra-node pair (measured or skipped), and the inter-node pair
     * with two nodes or more. all_reduce: float and double. */
    for (int i = 0; i < o->ntests; i++) {
        const char *t = o->tests[i];
        if (!strcmp(t, "latency") || !strcmp(t, "bw") || !strcmp(t, "bibw"))
            n += 1 + (s->rt->nnodes > 1);
        else if (!strcmp(t, "all_reduce"))
            n += 2;
        else if (!strncmp(t, "verbs_", 6) || !strcmp(t, "gdr")) /* bench/verbs: one each */
            n++;
        else if (!strncmp(t, "nccl_", 5)) /* one per type (-d all: twelve) */
            n += strcmp(o->nccl.dtype, "all") ? 1 : (int)tb_nccl_ntypes;
        else
            for (size_t j = 0; j < sizeof(one_entry) / sizeof(one_entry[0]); j++)
                n += !strcmp(t, one_entry[j]);
    }
    return n + o->retest; /* its entry, when the analysis names suspects */
}

json_t *tb_suite_begin_test(tb_suite_t *s, const char *name, const char *kind,
                            const tb_doc_keys_t *keys, json_t *params)
{
    json_t *entry;
    s->test_seq++;
    if (s->rt->rank != 0) {
        json_decref(params);
        return NULL;
    }
    {
        const char *what = keys ? (keys->placement ? keys->placement
                                   : keys->level   ? keys->level
                                                   : keys->dtype)
                                : NULL;
        char label[96];
        snprintf(label, sizeof(label), "%s%s%s%s", name, what ? " (" : "", what ? what : "",
                 what ? ")" : "");
        tb_progress_test(&s->progress, s->test_seq, tb_suite_planned_entries(s), label);
    }
    entry = tb_doc_entry_new(name, kind, keys, params);
    pthread_mutex_lock(&s->doc_lock);
    json_array_append_new(json_object_get(s->doc, "tests"), entry);
    pthread_mutex_unlock(&s->doc_lock);
    return entry;
}

void tb_suite_add_result(tb_suite_t *s, json_t *entry, json_t *result)
{
    pthread_mutex_lock(&s->doc_lock);
    json_array_append_new(json_object_get(entry, "results"), result);
    s->dirty = 1;
    pthread_mutex_unlock(&s->doc_lock);
}

void tb_suite_add_error(tb_suite_t *s, json_t *entry, json_t *error)
{
    pthread_mutex_lock(&s->doc_lock);
    json_array_append_new(json_object_get(entry, "errors"), error);
    pthread_mutex_unlock(&s->doc_lock);
}

/* Finished entries (a prefix: tests run one after another). Under the lock. */
static size_t finished_tests(const tb_suite_t *s)
{
    json_t *tests = json_object_get(s->doc, "tests"), *t;
    size_t i, n = 0;
    json_array_foreach(tests, i, t) {
        const char *st = json_string_value(json_object_get(t, "status"));
        if (st && strcmp(st, "running") != 0)
            n = i + 1;
    }
    return n;
}

void tb_suite_unsaved_tests(tb_suite_t *s, char *buf, size_t len)
{
    json_t *tests, *t;
    size_t i, off = 0;
    buf[0] = '\0';
    pthread_mutex_lock(&s->doc_lock);
    tests = json_object_get(s->doc, "tests");
    json_array_foreach(tests, i, t) {
        char label[96];
        if (i < s->saved_finished || off >= len)
            continue;
        tb_doc_entry_label(t, label, sizeof(label));
        off += (size_t)snprintf(buf + off, len - off, "%s%s%s%s%s", off ? ", " : "",
                                json_string_value(json_object_get(t, "name")),
                                label[0] ? " (" : "", label, label[0] ? ")" : "");
    }
    pthread_mutex_unlock(&s->doc_lock);
    if (!buf[0])
        snprintf(buf, len, "none");
}

tb_status_t tb_suite_save(tb_suite_t *s)
{
    char now[32];
    tb_status_t st;
    size_t finished;
    double t0 = tb_now();
    tb_doc_timestamp(now, sizeof(now));
    /* A test fault: a file system that takes three timeouts to write. */
    if (s->fault.enabled && s->fault.rank == 0 && !strcmp(s->fault.kind, "slowsave") &&
        s->finished_unsaved) {
        pthread_mutex_lock(&s->doc_lock);
        json_t *tests = json_object_get(s->doc, "tests");
        json_t *last = json_array_get(tests, json_array_size(tests) - 1);
        int hit = last && !strcmp(json_string_value(json_object_get(last, "name")), s->fault.test);
        pthread_mutex_unlock(&s->doc_lock);
        if (hit) {
            tb_warn("test fault: the document write takes %.0f s", 3 * s->opts->timeout);
            tb_wd_busy(1);
            usleep((useconds_t)(3 * s->opts->timeout * 1e6));
        }
    }
    tb_wd_busy(1);
    pthread_mutex_lock(&s->doc_lock);
    json_object_set_new(json_object_get(s->doc, "run"), "end_time", json_string(now));
    finished = finished_tests(s);
    st = tb_doc_writer_write(s->writer, s->doc, s->results_path);
    if (st == TB_OK) {
        struct stat sb;
        s->saved_ino = stat(s->results_path, &sb) == 0 ? (unsigned long)sb.st_ino : 0;
        if (s->save_status != TB_OK && s->saved_finished < finished)
            tb_info("%s written again", s->results_path);
        s->saved_finished = finished;
        s->dirty = s->finished_unsaved = 0;
    }
    pthread_mutex_unlock(&s->doc_lock);
    tb_wd_busy(0);
    s->last_save = tb_now();
    s->save_cost = s->last_save - t0;
    if (st != TB_OK) {
        char missing[512];
        /* Said once per failing stretch; the status is kept for the run's ending. */
        if (s->save_status == TB_OK) {
            tb_suite_unsaved_tests(s, missing, sizeof(missing));
            tb_log(TB_LOG_ERROR,
                   "%s is not up to date: it lacks %s; measuring goes on and the write is "
                   "retried",
                   s->results_path, missing);
        }
        s->save_status = st;
    }
    return st;
}

void tb_suite_freeze_job(tb_suite_t *s)
{
    tb_doc_writer_t *w = NULL;
    if (s->rt->rank != 0 || !s->doc || tb_doc_writer_create(&w) != TB_OK)
        return;
    pthread_mutex_lock(&s->doc_lock);
    /* Without the frozen text every rewrite still works, only slower. */
    if (tb_doc_writer_freeze(w, s->doc, "hosts") != TB_OK ||
        tb_doc_writer_freeze(w, s->doc, "ranks") != TB_OK) {
        tb_doc_writer_destroy(w);
        w = NULL;
    }
    s->writer = w;
    pthread_mutex_unlock(&s->doc_lock);
}

tb_status_t tb_suite_end_test(tb_suite_t *s, json_t *entry, const char *status,
                              const char *skip_reason)
{
    pthread_mutex_lock(&s->doc_lock);
    json_object_set_new(entry, "status", json_string(status));
    if (skip_reason)
        json_object_set_new(entry, "skip_reason", json_string(skip_reason));
    s->dirty = s->finished_unsaved = 1;
    pthread_mutex_unlock(&s->doc_lock);
    tb_progress_clear(&s->progress);
    if (!s->opts->quiet && !(s->quiet_skips && !strcmp(status, "skipped"))) {
        /* A malformed matrix was logged and the table says so; the run goes on. */
        tb_report_table_print(entry, s->opts->outdir, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    return TB_OK;
}

tb_status_t tb_suite_sync(tb_suite_t *s, MPI_Comm comm, tb_status_t local)
{
    int in[2] = {(int)local, 0}, out[2] = {(int)TB_ERR_INTERNAL, 0};
    MPI_Request req;
    tb_status_t st;
    if (s->rt->rank == 0 && s->doc) {
        pthread_mutex_lock(&s->doc_lock);
        double every = 10 * s->save_cost > TB_SAVE_INTERVAL_S ? 10 * s->save_cost
                                                               : TB_SAVE_INTERVAL_S;
        in[1] = s->finished_unsaved || (s->dirty && tb_now() - s->last_save >= every);
        pthread_mutex_unlock(&s->doc_lock);
    }
    if ((st = TB_MPI_CHECK(MPI_Allreduce(in, out, 2, MPI_INT, MPI_MAX, comm))))
        return st;
    if (!out[1])
        return (tb_status_t)out[0];
    /* A failed write is kept in save_status (the run's ending reports it); measuring
     * goes on, so every rank goes on together. */
    if (s->rt->rank == 0)
        (void)tb_suite_save(s);
    tb_wd_context_keep(0);
    tb_wd_context("saving", "", 0, 0, s->rt->rank == 0 ? TB_WD_COLLECTIVE : 0,
                  "waiting for rank 0 to write the results document");
    if ((st = TB_MPI_CHECK(MPI_Ibarrier(comm, &req))) == TB_OK)
        st = tb_wd_wait_polled_for(&req, TB_WD_BUSY_FACTOR * s->opts->timeout);
    tb_wd_context_keep(1);
    return st != TB_OK ? st : (tb_status_t)out[0];
}

void tb_suite_wait_all(tb_suite_t *s, const char *test)
{
    MPI_Request req;
    tb_status_t st;
    tb_wd_context(test, "", 0, 0, -1, "waiting for the other ranks to finish the test");
    st = TB_MPI_CHECK(MPI_Ibarrier(s->rt->world, &req));
    if (st == TB_OK)
        st = tb_wd_wait_polled(&req);
    if (st != TB_OK)
        tb_rt_abort(st, "waiting for the other ranks");
}

int tb_suite_fault(const tb_suite_t *s, const char *kind, const char *test)
{
    return s->fault.enabled && s->fault.rank == s->rt->rank && !strcmp(s->fault.kind, kind) &&
           !strcmp(s->fault.test, test);
}

int tb_suite_fault_slow(const tb_suite_t *s, const char *test, int peer_world)
{
    const tb_fault_t *f = &s->fault;
    int me = s->rt->rank;
    if (!f->enabled || strcmp(f->kind, "slow") != 0 ||
        (strcmp(f->test, "any") != 0 && strcmp(f->test, test) != 0))
        return 0;
    return (me == f->rank && peer_world == f->peer) || (me == f->peer && peer_world == f->rank);
}

void tb_suite_hang(const char *test, const char *variant, size_t size)
{
    tb_log(TB_LOG_WARN, "test fault: hanging in test '%s' on purpose", test);
    tb_wd_context(test, variant, size, 0, TB_WD_LOCAL,
                  "injected hang (test fault switch), not waiting on a peer");
    for (;;)
        sleep(1);
}

void tb_suite_fault_from_env(tb_suite_t *s)
{
    static const char *const kinds[] = {"corrupt", "hang",  "stop", "oom",
                                        "slowsave", "fail", "slow"};
    const char *spec = getenv("TOPOBENCH_TEST_FAULT");
    const char *confirm = getenv("TOPOBENCH_TEST_FAULT_CONFIRM");
    char kind[16] = "", test[32] = "";
    int rank = -1, peer = -1, known = 0, nf;
    if (!spec || !*spec)
        return;
    if (!confirm || strcmp(confirm, TB_FAULT_CONFIRM_PHRASE) != 0) {
        if (s->rt->rank == 0)
            tb_warn("TOPOBENCH_TEST_FAULT is set but not confirmed; ignored (it is a test-only "
                    "switch)");
        return;
    }
    nf = sscanf(spec, "%15[a-z]:%31[a-z_]:%d:%d", kind, test, &rank, &peer);
    /* slow names the link's two ends (RANK:PEER); the others one rank */
    if (nf >= 3 && (nf == 4) == !strcmp(kind, "slow") && (nf == 3 || (peer >= 0 && peer != rank)))
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            known |= !strcmp(kind, kinds[i]);
    if (!known) {
        if (s->rt->rank == 0)
            tb_warn("TOPOBENCH_TEST_FAULT='%s' ignored: expected "
                    "corrupt|hang|stop|oom|slowsave|fail:TEST:RANK or slow:TEST:RANK:PEER",
                    spec);
        return;
    }
    s->fault.enabled = 1;
    snprintf(s->fault.kind, sizeof(s->fault.kind), "%s", kind);
    snprintf(s->fault.test, sizeof(s->fault.test), "%s", test);
    s->fault.rank = rank;
    s->fault.peer = nf == 4 ? peer : -1;
    if (s->rt->rank == 0 && nf == 4)
        tb_warn("TEST FAULT INJECTION ENABLED: %s link between ranks %d and %d in test '%s' "
                "(its bandwidth windows start %g s late)",
                kind, rank, peer, test, TB_FAULT_SLOW_DELAY_S);
    else if (s->rt->rank == 0)
        tb_warn("TEST FAULT INJECTION ENABLED: %s in test '%s' on rank %d", kind, test, rank);
    if (!strcmp(kind, "stop") && rank == s->rt->rank)
        tb_wd_stop_in(test);
}
