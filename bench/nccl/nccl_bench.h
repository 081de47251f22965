/* NCCL collectives as nccl-tests runs them: one table row per collective (its buffer
 * counts, bandwidth formula, the NCCL call, and its data pattern and expected result),
 * and the run of the selected ones (nccl_run.c) with nccl-tests' timing. */
#ifndef TB_BENCH_NCCL_BENCH_H
#define TB_BENCH_NCCL_BENCH_H

#include <stddef.h>

#include "nccl_lib.h"
#include "nccl_types.h"
#include "status.h"

struct tb_suite;
struct tb_rt;

/* Elements of each buffer for a size, as nccl-tests' getCollByteCount counts them:
 * send and recv buffer, the count argument of the call, and the in-place offsets (times
 * the rank) of the send and receive pointers inside the receive buffer. */
typedef struct tb_nccl_counts {
    size_t send, recv, param;
    size_t send_inplace, recv_inplace;
} tb_nccl_counts_t;

/* What one call needs. */
typedef struct tb_nccl_call {
    const tb_nccl_lib_t *lib;
    tb_nccl_comm_t comm;
    tb_nccl_stream_t stream;
    const tb_nccl_type_t *type;
    int op, root, rank, nranks;
    size_t param;
} tb_nccl_call_t;

/* The data pattern of one check iteration (nccl_colls.c). Reduction inputs are small
 * integers chosen so every partial result is exact in the type whatever the order of the
 * reduction (so a check needs no tolerance except for a floating ncclAvg, whose 1/n
 * NCCL rounds); copies are a hash of (rank, element, iteration) in the type's exact
 * integers, so a misrouted or stale block reads wrong. */
typedef struct tb_nccl_pattern {
    const tb_nccl_type_t *type;
    int op, nranks;
    long iter;
    unsigned m;         /* reduction values are 0..m-1; 0: one-hot (a single rank's 1) */
    double table[17];   /* the reduced value of residue k */
    unsigned copy_bits; /* copies use this many low bits */
} tb_nccl_pattern_t;

void tb_nccl_pattern_init(tb_nccl_pattern_t *p, const tb_nccl_type_t *t, int op, int nranks,
                          long iter);
double tb_nccl_pattern_input(const tb_nccl_pattern_t *p, int rank, size_t j);
double tb_nccl_pattern_result(const tb_nccl_pattern_t *p, size_t j);
double tb_nccl_pattern_copy(const tb_nccl_pattern_t *p, int rank, size_t j);
/* Whether `got` is right for `want` (exact, or ncclAvg's rounding on floating types). */
int tb_nccl_pattern_ok(const tb_nccl_pattern_t *p, double want, double got);

typedef struct tb_nccl_coll {
    const char *name;   /* test name: "nccl_all_reduce" */
    const char *perf;   /* the nccl-tests program it mirrors: "all_reduce_perf" */
    int reduces;        /* has a reduction operation (the redop column) */
    int rooted;         /* has a root (the root column; -1 otherwise) */
    int op_column;      /* redop column shows the op even without a reduction (sendrecv) */
    /* Members of tb_nccl_lib_t the call needs beyond the required ones; `alt` is an
     * alternative set (alltoall: ncclAlltoAll, or ncclSend and ncclRecv). */
    const char *needs[2], *alt[2];
    void (*counts)(size_t count, size_t elt, int nranks, tb_nccl_counts_t *c);
    double (*bus_factor)(int nranks);
    int alg_ranks;      /* algbw = param x elt x nranks / t (1), or param x elt / t (0) */
    tb_nccl_result_t (*run)(const tb_nccl_call_t *c, const void *send, void *recv);
    /* Host values, element by element (the buffers can be larger than a host array of
     * doubles): element j of `rank`'s send buffer, and of its expected receive buffer. */
    double (*send_value)(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                         int root, size_t j);
    double (*recv_value)(const tb_nccl_pattern_t *p, const tb_nccl_counts_t *c, int rank,
                         int root, size_t j);
    int root_only;      /* only the root's receive buffer is defined (ncclReduce) */
} tb_nccl_coll_t;

extern const tb_nccl_coll_t tb_nccl_colls[];
extern const size_t tb_nccl_ncolls;
const tb_nccl_coll_t *tb_nccl_coll_find(const char *name);

/* busbw / algbw and algbw itself, as nccl-tests' getBw (GB/s = 1e9 bytes/s). */
double tb_nccl_algbw(const tb_nccl_coll_t *coll, size_t param, size_t elt, int nranks,
                     double seconds);

/* Whether the loaded library has what `coll` needs; if not, *missing_p names the symbol
 * (NULL: nothing missing). */
int tb_nccl_coll_supported(const tb_nccl_coll_t *coll, const tb_nccl_lib_t *lib,
                           const char **missing_p);

/* NCCL's view of each node (nccl_view.c): the dump files this rank reads after the
 * communicator is created ("" none), and which of them topobench named (and removes). */
typedef struct tb_nccl_view {
    char topo[512], graph[512];
    int ours[2];
} tb_nccl_view_t;
/* Before ncclCommInitRank: node leaders have NCCL dump its topology and graphs to files of
 * their own (NCCL_*_DUMP_FILE and _RANK), unless the user set those variables. */
void tb_nccl_view_prepare(const struct tb_rt *rt, tb_nccl_view_t *v);
/* After it (every rank): the dumps read, set against the node's discovered topology, and
 * gathered into hosts[].nccl and the document's findings at rank 0. */
TB_NODISCARD tb_status_t tb_nccl_view_gather(struct tb_suite *s, const tb_nccl_view_t *v);

/* Runs every selected nccl_* test (all ranks), or records each as skipped with the reason
 * (no NCCL, no CUDA runtime or device, a symbol missing) printed once. Returns the agreed
 * status (TB_ERR_CORRUPT for wrong data). */
TB_NODISCARD tb_status_t tb_nccl_run_tests(struct tb_suite *s);

#endif
