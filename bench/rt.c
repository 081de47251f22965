/* MPI runtime set-up: node identity and binding. */
#include "rt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo.h"

tb_status_t tb_rt_mpi_status(int rc, const char *what, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (rc == MPI_SUCCESS)
        return TB_OK;
    MPI_Error_string(rc, msg, &len);
    return tb_error(TB_ERR_INTERNAL, "%s failed at %s:%d: %s", what, file, line, msg);
}

/* Records this rank's CPU binding. */
static void rt_binding(tb_rt_t *rt)
{
    if (tb_topo_binding(rt->cpuset, sizeof(rt->cpuset), &rt->bound) != TB_OK)
        rt->bound = 0;
}

/* Warns once per node when ranks are unbound or share cores. The allocation is agreed
 * on before the gathers that use it. */
static tb_status_t rt_binding_check(tb_rt_t *rt)
{
    char *all = calloc((size_t)rt->local_size, sizeof(rt->cpuset));
    int *bound = calloc((size_t)rt->local_size, sizeof(int));
    tb_status_t st = all && bound ? TB_OK
                                  : tb_error(TB_ERR_ENV, "out of memory for %d ranks' bindings",
                                             rt->local_size);
    if ((st = tb_rt_agree_comm(rt->node, st)) ||
        (st = TB_MPI_CHECK(MPI_Allgather(rt->cpuset, sizeof(rt->cpuset), MPI_CHAR, all,
                                         sizeof(rt->cpuset), MPI_CHAR, rt->node))) ||
        (st = TB_MPI_CHECK(MPI_Allgather(&rt->bound, 1, MPI_INT, bound, 1, MPI_INT, rt->node))))
        goto out;
    if (rt->local_rank == 0) {
        int unbound = 0, shared = 0;
        for (int i = 0; i < rt->local_size; i++)
            unbound += !bound[i];
        for (int i = 0; i < rt->local_size; i++)
            for (int j = i + 1; j < rt->local_size; j++)
                shared += bound[i] && bound[j] &&
                          tb_topo_cpusets_intersect(all + (size_t)i * sizeof(rt->cpuset),
                                                    all + (size_t)j * sizeof(rt->cpuset));
        if (unbound)
            tb_warn("%d of %d ranks on this node are not bound to cores; timings will be "
                    "noisier (mpirun --bind-to core, srun --cpu-bind=cores)",
                    unbound, rt->local_size);
        if (shared)
            tb_warn("%d rank pairs on this node share cores (oversubscribed binding)", shared);
    }
out:
    free(all);
    free(bound);
    return st;
}

/* One rank's name for the sort: ties broken by rank, so the first of a run of equal
 * names is the node's lowest rank. */
typedef struct {
    const char *name;
    int rank;
} rank_name_t;

static int cmp_rank_name(const void *pa, const void *pb)
{
    const rank_name_t *a = pa, *b = pb;
    int c = strncmp(a->name, b->name, TB_HOST_LEN);
    return c ? c : (a->rank > b->rank) - (a->rank < b->rank);
}

static int cmp_int(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

tb_status_t tb_rt_group_nodes(const char *hosts, int n, int *node_of, int *nnodes_p)
{
    rank_name_t *v = malloc(sizeof(*v) * (size_t)(n > 0 ? n : 1));
    int *firsts = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1)), nnodes = 0;
    if (!v || !firsts) {
        free(v);
        free(firsts);
        return tb_error(TB_ERR_INTERNAL, "out of memory for %d ranks", n);
    }
    /* Sort by (name, rank): equal names become runs, each led by its lowest rank. The
     * nodes' order is that of their lowest ranks, so sort those too, then give every run
     * the position of its leader. O(N log N) name comparisons in all. */
    for (int r = 0; r < n; r++) {
        v[r].name = hosts + (size_t)r * TB_HOST_LEN;
        v[r].rank = r;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_rank_name);
    for (int i = 0; i < n; i++)
        if (i == 0 || strncmp(v[i].name, v[i - 1].name, TB_HOST_LEN) != 0)
            firsts[nnodes++] = v[i].rank;
    qsort(firsts, (size_t)nnodes, sizeof(int), cmp_int);
    for (int i = 0, leader = 0; i < n; i++) {
        if (i == 0 || strncmp(v[i].name, v[i - 1].name, TB_HOST_LEN) != 0) {
            int *at = bsearch(&v[i].rank, firsts, (size_t)nnodes, sizeof(int), cmp_int);
            leader = (int)(at - firsts);
        }
        node_of[v[i].rank] = leader;
    }
    *nnodes_p = nnodes;
    free(v);
    free(firsts);
    return TB_OK;
}

tb_status_t tb_rt_init(int *argc, char ***argv, tb_rt_t *rt)
{
    int name_len = 0, shared_size = 0;
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    MPI_Comm shared = MPI_COMM_NULL;
    tb_status_t st;

    memset(rt, 0, sizeof(*rt));
    rt->world = rt->node = rt->leaders = MPI_COMM_NULL;
    /* MPI_Init, not MPI_Init_thread(FUNNELED): asking Open MPI 4.1 for any thread level
     * adds ~50 ns to every small message (0.27 -> 0.32 us ping-pong here, measured with
     * bench/perf/ref_pingpong.c both ways). The watchdog thread makes no MPI call (it
     * talks to rank 0's watchdog over its own socket and leaves with _exit). */
    if ((st = TB_MPI_CHECK(MPI_Init(argc, argv))))
        return st;
    if ((st = TB_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &rt->world))) ||
        /* Errors come back as codes so that we report them with context. */
        (st = TB_MPI_CHECK(MPI_Comm_set_errhandler(rt->world, MPI_ERRORS_RETURN))) ||
        (st = TB_MPI_CHECK(MPI_Comm_rank(rt->world, &rt->rank))) ||
        (st = TB_MPI_CHECK(MPI_Comm_size(rt->world, &rt->size))) ||
        (st = TB_MPI_CHECK(MPI_Get_processor_name(name, &name_len))))
        return st;
    snprintf(rt->host, sizeof(rt->host), "%.*s", TB_HOST_LEN - 1, name);
    tb_log_set_identity(rt->host, rt->rank);

    rt->hosts = calloc((size_t)rt->size, TB_HOST_LEN);
    rt->node_of = calloc((size_t)rt->size, sizeof(int));
    st = rt->hosts && rt->node_of
             ? TB_OK
             : tb_error(TB_ERR_ENV, "out of memory for %d ranks", rt->size);
    if ((st = tb_rt_agree(rt, st)) ||
        (st = TB_MPI_CHECK(MPI_Allgather(rt->host, TB_HOST_LEN, MPI_CHAR, rt->hosts,
                                         TB_HOST_LEN, MPI_CHAR, rt->world))))
        return st;

    if ((st = tb_rt_agree(rt, tb_rt_group_nodes(rt->hosts, rt->size, rt->node_of,
                                                 &rt->nnodes))))
        return st;
    rt->first_rank_of_node = calloc((size_t)rt->nnodes, sizeof(int));
    st = rt->first_rank_of_node ? TB_OK
                                : tb_error(TB_ERR_ENV, "out of memory for %d nodes", rt->nnodes);
    if ((st = tb_rt_agree(rt, st)))
        return st;
    for (int r = rt->size - 1; r >= 0; r--)
        rt->first_rank_of_node[rt->node_of[r]] = r;
    rt->node_index = rt->node_of[rt->rank];
    if ((st = TB_MPI_CHECK(MPI_Comm_split(rt->world, rt->node_index, rt->rank, &rt->node))) ||
        (st = TB_MPI_CHECK(MPI_Comm_rank(rt->node, &rt->local_rank))) ||
        (st = TB_MPI_CHECK(MPI_Comm_size(rt->node, &rt->local_size))) ||
        (st = TB_MPI_CHECK(MPI_Comm_split(rt->world, rt->local_rank == 0 ? 0 : MPI_UNDEFINED,
                                          rt->rank, &rt->leaders))))
        return st;

    /* Containers can share a host name across machines, or hide one machine's ranks from
     * each other: the shared-memory split must agree with the names. */
    if ((st = TB_MPI_CHECK(MPI_Comm_split_type(rt->world, MPI_COMM_TYPE_SHARED, rt->rank,
                                               MPI_INFO_NULL, &shared))) ||
        (st = TB_MPI_CHECK(MPI_Comm_size(shared, &shared_size))) ||
        (st = TB_MPI_CHECK(MPI_Comm_free(&shared))))
        return st;
    if (shared_size != rt->local_size)
        tb_warn("host name '%s' groups %d ranks but shared memory groups %d; node identity "
                "follows the host name",
                rt->host, rt->local_size, shared_size);

    rt_binding(rt);
    return rt_binding_check(rt);
}

void tb_rt_finalize(tb_rt_t *rt)
{
    /* Failures here are logged; nothing is measured any more. */
    if (rt->leaders != MPI_COMM_NULL)
        (void)TB_MPI_CHECK(MPI_Comm_free(&rt->leaders));
    if (rt->node != MPI_COMM_NULL)
        (void)TB_MPI_CHECK(MPI_Comm_free(&rt->node));
    if (rt->world != MPI_COMM_NULL)
        (void)TB_MPI_CHECK(MPI_Comm_free(&rt->world));
    free(rt->hosts);
    free(rt->node_of);
    free(rt->first_rank_of_node);
    (void)TB_MPI_CHECK(MPI_Finalize());
}

tb_status_t tb_rt_agree_comm(MPI_Comm comm, tb_status_t local)
{
    int in = (int)local, out = (int)TB_ERR_INTERNAL;
    tb_status_t st = TB_MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm));
    return st ? st : (tb_status_t)out;
}

tb_status_t tb_rt_alloc_agreed(MPI_Comm comm, int root_only, size_t bytes, void **p)
{
    int me = 0;
    tb_status_t st = TB_MPI_CHECK(MPI_Comm_rank(comm, &me));
    *p = NULL;
    if (st == TB_OK && (!root_only || me == 0) && !(*p = malloc(bytes ? bytes : 1)))
        st = tb_error(TB_ERR_ENV, "out of memory for %zu bytes", bytes);
    st = tb_rt_agree_comm(comm, st);
    if (st != TB_OK) {
        free(*p);
        *p = NULL;
    }
    return st;
}

tb_status_t tb_rt_agree(const tb_rt_t *rt, tb_status_t local)
{
    return tb_rt_agree_comm(rt->world, local);
}

const char *tb_rt_host_of(const tb_rt_t *rt, int rank)
{
    if (rank < 0 || rank >= rt->size)
        return "?";
    return rt->hosts + (size_t)rank * TB_HOST_LEN;
}

void tb_rt_library_version(char *buf, size_t len)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int n = 0;
    if (TB_MPI_CHECK(MPI_Get_library_version(v, &n)))
        snprintf(v, sizeof(v), "unknown");
    /* Keep the first line: Open MPI appends build details. */
    v[strcspn(v, "\n")] = '\0';
    snprintf(buf, len, "%s", v);
}

static tb_rt_abort_hook_t abort_hook;

void tb_rt_set_abort_hook(tb_rt_abort_hook_t hook)
{
    abort_hook = hook;
}

void tb_rt_abort(tb_status_t status, const char *where)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s failed (%s)", where, tb_status_string(status));
    tb_log(TB_LOG_ERROR, "%s; ending the job", msg);
    if (abort_hook)
        abort_hook(status, msg);
    MPI_Abort(MPI_COMM_WORLD, tb_status_exit_code(status));
    _exit(tb_status_exit_code(status)); /* MPI_Abort does not return; if it did */
}

void *tb_rt_gather_buffer(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        tb_log(TB_LOG_ERROR, "out of memory for %zu bytes of gathered results", bytes);
        tb_rt_abort(TB_ERR_ENV, "gathering results at rank 0");
    }
    return p;
}
