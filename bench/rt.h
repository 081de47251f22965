/* The MPI runtime: who we are (rank, node, local rank), the communicators the tests run
 * on, and collective agreement on failure so that no rank waits forever in a barrier. */
#ifndef TB_BENCH_RT_H
#define TB_BENCH_RT_H

#include <mpi.h>

#include "log.h"
#include "status.h"

#define TB_HOST_LEN 64

typedef struct tb_rt {
    int rank, size;
    int local_rank, local_size;
    int node_index, nnodes;
    char host[TB_HOST_LEN];
    MPI_Comm world;   /* duplicate of MPI_COMM_WORLD */
    MPI_Comm node;    /* ranks of this node */
    MPI_Comm leaders; /* local rank 0 of every node; MPI_COMM_NULL elsewhere */
    char *hosts;      /* size x TB_HOST_LEN: host of every rank (O(N) per rank) */
    int *node_of;     /* node index of every rank */
    int *first_rank_of_node; /* nnodes entries */
    char cpuset[128]; /* this rank's binding, hwloc list syntax */
    int bound;        /* 0 when bound to the whole machine */
} tb_rt_t;

/* Backend errors are converted at the boundary by this one macro: it logs MPI's own
 * message with file:line and yields TB_ERR_INTERNAL. */
#define TB_MPI_CHECK(call) tb_rt_mpi_status((call), #call, __FILE__, __LINE__)
tb_status_t tb_rt_mpi_status(int rc, const char *what, const char *file, int line);
/* The same, returning from the calling function on failure. */
#define TB_MPI_TRY(call)                                                                   \
    do {                                                                                   \
        tb_status_t tb_try_st_ = TB_MPI_CHECK(call);                                       \
        if (tb_try_st_ != TB_OK)                                                           \
            return tb_try_st_;                                                             \
    } while (0)

/* The same, ending the job on failure: for calls inside a measurement, where the other
 * ranks sit in the matching call and no agreement can reach them (tb_rt_abort). */
#define TB_MPI_OR_ABORT(call, where)                                                       \
    do {                                                                                   \
        tb_status_t tb_abort_st_ = TB_MPI_CHECK(call);                                     \
        if (tb_abort_st_ != TB_OK)                                                         \
            tb_rt_abort(tb_abort_st_, where);                                              \
    } while (0)

/* Node grouping: `hosts` holds n names of TB_HOST_LEN bytes (rank order); ranks with the
 * same name share a node, and nodes are numbered in the order of their lowest rank.
 * Writes node_of[0..n) and the node count. O(N log N) (sorts the names), no MPI. */
TB_NODISCARD tb_status_t tb_rt_group_nodes(const char *hosts, int n, int *node_of,
                                           int *nnodes_p);

/* MPI_Init without threads (the watchdog thread makes no MPI call, see rt.c), node grouping
 * (processor name, cross-checked with the shared-memory split), local ranks, binding. */
TB_NODISCARD tb_status_t tb_rt_init(int *argc, char ***argv, tb_rt_t *rt);
void tb_rt_finalize(tb_rt_t *rt);

/* Every rank contributes its status; all get the worst one (statuses are ordered by
 * severity). Call after any step that can fail on some ranks only. */
tb_status_t tb_rt_agree(const tb_rt_t *rt, tb_status_t local);
tb_status_t tb_rt_agree_comm(MPI_Comm comm, tb_status_t local);

const char *tb_rt_host_of(const tb_rt_t *rt, int rank);

/* Ends the whole job with the exit status of `status`. For failures inside a measurement
 * loop: the other ranks are blocked in the matching call, so no agreement can reach them
 * (the failing call has already been logged). The abort hook (the watchdog's: rank 0
 * records the ending in the document) runs first. */
void tb_rt_abort(tb_status_t status, const char *where);
typedef void (*tb_rt_abort_hook_t)(tb_status_t status, const char *message);
void tb_rt_set_abort_hook(tb_rt_abort_hook_t hook);

/* Every rank of `comm`: allocates `bytes` (only comm rank 0 when root_only) and agrees
 * on the outcome before any collective uses the buffer, so an allocation failure on one
 * rank ends the step on all of them (TB_ERR_ENV). *p is NULL where nothing was asked. */
TB_NODISCARD tb_status_t tb_rt_alloc_agreed(MPI_Comm comm, int root_only, size_t bytes,
                                            void **p);

/* Rank 0's buffer for a gather: the other ranks are already sending into the collective,
 * so running out of memory here ends the job instead of returning. */
void *tb_rt_gather_buffer(size_t bytes);

/* MPI library version string. */
void tb_rt_library_version(char *buf, size_t len);

#endif
