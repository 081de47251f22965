/* What NCCL saw on each node (issue 8 point 5): NCCL's own topology (NCCL_TOPO_DUMP_FILE)
 * and the graphs it built (NCCL_GRAPH_DUMP_FILE), dumped by one rank per node while the
 * communicator is created, read with topo's NCCL XML importer and graph reader on that
 * node, set against the node's discovered topology there, and gathered by rank 0 into
 * hosts[].nccl with the findings in the document's findings.
 *
 * NCCL dumps on the rank NCCL_*_DUMP_FILE_RANK names (default 0), once per process that
 * reads it: topobench sets both variables on every node leader (local rank 0) to a file of
 * its own, so each node dumps. A user's NCCL_TOPO_DUMP_FILE / NCCL_GRAPH_DUMP_FILE is
 * respected: the file is then read only on the rank that dumps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nccl_bench.h"
#include "suite.h"
#include "topo.h"
#include "topo_nccl.h"
#include "watchdog.h"

/* Before ncclCommInitRank: which files this rank reads afterwards ("" none). */
void tb_nccl_view_prepare(const tb_rt_t *rt, tb_nccl_view_t *v)
{
    static const struct {
        const char *file, *rank;
    } vars[2] = {{"NCCL_TOPO_DUMP_FILE", "NCCL_TOPO_DUMP_FILE_RANK"},
                 {"NCCL_GRAPH_DUMP_FILE", "NCCL_GRAPH_DUMP_FILE_RANK"}};
    memset(v, 0, sizeof(*v));
    for (int i = 0; i < 2; i++) {
        const char *file = getenv(vars[i].file), *rank = getenv(vars[i].rank);
        char *dst = i == 0 ? v->topo : v->graph;
        if (file && *file) {
            /* The user's: NCCL writes it on one rank only. */
            if ((rank && *rank ? atoi(rank) : 0) == rt->rank)
                snprintf(dst, sizeof(v->topo), "%s", file);
            continue;
        }
        if (rt->local_rank != 0)
            continue;
        char r[16];
        snprintf(dst, sizeof(v->topo), "/tmp/topobench-nccl-%s-%ld.xml", i ? "graph" : "topo",
                 (long)getpid());
        snprintf(r, sizeof(r), "%d", rt->rank);
        unlink(dst);
        setenv(vars[i].file, dst, 1);
        setenv(vars[i].rank, r, 1);
        v->ours[i] = 1;
    }
}

/* This rank's part: {"topology": ..., "graphs": ..., "files": ...} and the findings, as
 * JSON text (malloc'd, NULL when this rank read nothing). */
static char *read_local(const tb_suite_t *s, const tb_nccl_view_t *v)
{
    tb_topo_t *t = NULL;
    void *graphs = NULL;
    json_t *out = json_object(), *findings = json_array();
    char *text = NULL;
    int any = 0;
    if (v->topo[0] && access(v->topo, R_OK) == 0) {
        if (tb_topo_import_file(v->topo, TB_TOPO_FMT_NCCL_XML, &t) == TB_OK) {
            json_object_set_new(out, "topology", tb_topo_to_json(t));
            any = 1;
        } else {
            json_object_set_new(out, "topology_error",
                                json_string("NCCL's topology dump could not be read (see this "
                                            "node's log)"));
        }
        json_object_set_new(out, "topology_file", json_string(v->topo));
    }
    if (v->graph[0] && access(v->graph, R_OK) == 0) {
        if (tb_topo_nccl_graphs_read(v->graph, &graphs) == TB_OK) {
            json_object_set_new(out, "graphs", graphs);
            any = 1;
        }
        json_object_set_new(out, "graph_file", json_string(v->graph));
    }
    if (any && s->node_topo)
        tb_topo_nccl_compare(s->node_topo, t, graphs, s->rt->host, findings);
    json_object_set_new(out, "findings", findings);
    if (any)
        text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    tb_topo_destroy(t);
    for (int i = 0; i < 2; i++)
        if (v->ours[i])
            unlink(i ? v->graph : v->topo);
    return text;
}

tb_status_t tb_nccl_view_gather(tb_suite_t *s, const tb_nccl_view_t *v)
{
    const tb_rt_t *rt = s->rt;
    char *mine = read_local(s, v), *all = NULL;
    int len = mine ? (int)strlen(mine) + 1 : 0, *lens = NULL, *displs = NULL, total = 0;
    tb_status_t st;

    tb_wd_context("nccl", "", 0, 0, TB_WD_COLLECTIVE, "gathering NCCL's view of each node");
    if ((st = tb_rt_alloc_agreed(rt->world, 1, (size_t)rt->size * sizeof(int), (void **)&lens)) ||
        (st = tb_rt_alloc_agreed(rt->world, 1, (size_t)rt->size * sizeof(int),
                                 (void **)&displs)) ||
        (st = TB_MPI_CHECK(MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, rt->world))))
        goto out;
    for (int r = 0; rt->rank == 0 && r < rt->size; r++) {
        displs[r] = total;
        total += lens[r];
    }
    if ((st = tb_rt_alloc_agreed(rt->world, 1, (size_t)total + 1, (void **)&all)) ||
        (st = TB_MPI_CHECK(MPI_Gatherv(mine, len, MPI_CHAR, all, lens, displs, MPI_CHAR, 0,
                                       rt->world))))
        goto out;
    if (rt->rank != 0 || !s->doc)
        goto out;
    pthread_mutex_lock(&s->doc_lock);
    /* hosts[] was frozen for the writer: a new array (same members) is written anew. */
    json_object_set_new(s->doc, "hosts", json_copy(json_object_get(s->doc, "hosts")));
    for (int r = 0; r < rt->size; r++) {
        json_t *view, *host, *f, *findings = json_object_get(s->doc, "findings");
        size_t i;
        if (!lens[r] || !(view = json_loads(all + displs[r], 0, NULL)))
            continue;
        host = json_array_get(json_object_get(s->doc, "hosts"), (size_t)rt->node_of[r]);
        json_array_foreach(json_object_get(view, "findings"), i, f)
            json_array_append(findings, f);
        json_object_set_new(view, "rank", json_integer(r));
        if (host)
            json_object_set(host, "nccl", view);
        json_decref(view);
    }
    s->dirty = 1;
    pthread_mutex_unlock(&s->doc_lock);
out:
    free(mine);
    free(all);
    free(lens);
    free(displs);
    return st;
}
