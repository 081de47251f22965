/* Document bookkeeping of a run (rank 0), the idle wait, and the test-only fault switch. */
#include "suite.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"
#include "log.h"
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

int tb_suite_planned_entries(const tb_suite_t *s)
{
    static const char *const one_entry[] = {"all_gather", "reduce_scatter", "broadcast",
                                            "alltoall", "matrix", "node_matrix", "isolated"};
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
        else
            for (size_t j = 0; j < sizeof(one_entry) / sizeof(one_entry[0]); j++)
                n += !strcmp(t, one_entry[j]);
    }
    return n;
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
    pthread_mutex_unlock(&s->doc_lock);
}

void tb_suite_add_error(tb_suite_t *s, json_t *entry, json_t *error)
{
    pthread_mutex_lock(&s->doc_lock);
    json_array_append_new(json_object_get(entry, "errors"), error);
    pthread_mutex_unlock(&s->doc_lock);
}

tb_status_t tb_suite_save(tb_suite_t *s)
{
    char now[32];
    tb_status_t st;
    tb_doc_timestamp(now, sizeof(now));
    pthread_mutex_lock(&s->doc_lock);
    json_object_set_new(json_object_get(s->doc, "run"), "end_time", json_string(now));
    st = tb_doc_write(s->doc, s->results_path);
    pthread_mutex_unlock(&s->doc_lock);
    return st;
}

tb_status_t tb_suite_end_test(tb_suite_t *s, json_t *entry, const char *status,
                              const char *skip_reason)
{
    tb_status_t st;
    pthread_mutex_lock(&s->doc_lock);
    json_object_set_new(entry, "status", json_string(status));
    if (skip_reason)
        json_object_set_new(entry, "skip_reason", json_string(skip_reason));
    pthread_mutex_unlock(&s->doc_lock);
    st = tb_suite_save(s);
    tb_progress_clear(&s->progress);
    if (!s->opts->quiet) {
        /* A malformed matrix was logged and the table says so; the run goes on. */
        tb_report_table_print(entry, s->opts->outdir, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    return st;
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

void tb_suite_hang(const char *test, const char *variant, size_t size)
{
    tb_log(TB_LOG_WARN, "test fault: hanging in test '%s' on purpose", test);
    tb_wd_context(test, variant, size, 0, -1,
                  "injected hang (test fault switch), not waiting on a peer");
    for (;;)
        sleep(1);
}
