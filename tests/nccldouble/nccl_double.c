/* A test double of NCCL (libnccl.so.2's calls that topobench makes), for CI on machines
 * without a GPU: topobench loads it through --nccl-lib / TOPOBENCH_NCCL_LIB exactly as it
 * loads NCCL. It works on the CUDA double's device memory (tests/gpudouble: host memory
 * at addresses the host cannot dereference, translated with TB_DOUBLE_HOST_OF) and queues
 * every operation on the caller's stream with tb_double_enqueue, so it runs when the
 * stream runs it, or at every launch of a captured CUDA graph. An operation is done over
 * MPI on the communicator's ranks, with NCCL's reduction semantics for every type and
 * operation (integers wrap, half, bfloat16 and fp8 round after each step, ncclAvg
 * pre-multiplies floats by 1/n and divides integer sums). Its timings mean nothing; its
 * data are right, so topobench's check is exercised end to end.
 *
 * NCCL's dumps, for topobench's reading of them: when NCCL_TOPO_DUMP_FILE is set and
 * NCCL_TOPO_DUMP_FILE_RANK (default 0) is this rank, ncclCommInitRank copies the file
 * TOPOBENCH_NCCL_DOUBLE_TOPO there; the same for NCCL_GRAPH_DUMP_FILE and
 * TOPOBENCH_NCCL_DOUBLE_GRAPH.
 *
 * Fault injection: TOPOBENCH_NCCL_DOUBLE_FAULT=wrong[:RANK] flips a byte of the middle
 * element of every result on communicator rank RANK (default 0): a wrong element the
 * check must find. Build variants (compile definitions) mimic older NCCL releases:
 * TB_DOUBLE_NCCL_2_6 has no ncclSend, ncclRecv, ncclAlltoAll (version 2.6.4);
 * TB_DOUBLE_NCCL_2_1 also lacks ncclBroadcast (2.2), which topobench requires.
 *
 * Limits: ncclCommInitRank splits MPI_COMM_WORLD, so every MPI rank must create the
 * communicator together (topobench's one communicator over all ranks); counts above
 * INT_MAX elements are refused. */
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpudouble.h"
#include "nccl_lib.h"
#include "nccl_types.h"

#define EXPORT __attribute__((visibility("default")))

enum {
    R_OK = 0,
    R_SYSTEM = 2,
    R_INTERNAL = 3,
    R_INVALID_ARGUMENT = 4,
    R_INVALID_USAGE = 5,
};

struct ncclComm {
    MPI_Comm comm;
    int rank, size;
};

#if defined(TB_DOUBLE_NCCL_2_1)
#define DOUBLE_VERSION 2115
#elif defined(TB_DOUBLE_NCCL_2_6)
#define DOUBLE_VERSION 2604
#else
#define DOUBLE_VERSION 22800
#endif

/* ---- the reduction as an MPI operation on elements of one type ---- */

static const tb_nccl_type_t *cur_type;
static int cur_op;

static void mpi_reduce(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    tb_nccl_reduce(cur_type, cur_op, in, inout, (size_t)*len);
}

typedef struct elem {
    MPI_Datatype type; /* contiguous bytes of one element */
    MPI_Op op;
} elem_t;

static int elem_begin(int dtype, int op, elem_t *e)
{
    cur_type = tb_nccl_type_of(dtype);
    if (!cur_type || op < 0 || op > TB_NCCL_AVG)
        return R_INVALID_ARGUMENT;
    cur_op = op == TB_NCCL_AVG ? TB_NCCL_SUM : op;
    if (MPI_Type_contiguous((int)cur_type->size, MPI_BYTE, &e->type) != MPI_SUCCESS ||
        MPI_Type_commit(&e->type) != MPI_SUCCESS)
        return R_SYSTEM;
    if (MPI_Op_create(mpi_reduce, 1, &e->op) != MPI_SUCCESS) {
        MPI_Type_free(&e->type);
        return R_SYSTEM;
    }
    return R_OK;
}

static void elem_end(elem_t *e)
{
    MPI_Op_free(&e->op);
    MPI_Type_free(&e->type);
}

/* ---- fault injection ---- */

/* `buf` is a host address. */
static void maybe_corrupt(const struct ncclComm *c, void *buf, size_t count, size_t elt)
{
    const char *f = getenv("TOPOBENCH_NCCL_DOUBLE_FAULT");
    int rank = 0;
    if (!f || strncmp(f, "wrong", 5) != 0 || count == 0)
        return;
    if (f[5] == ':')
        rank = atoi(f + 6);
    if (c->rank == rank)
        ((unsigned char *)buf)[(count / 2) * elt] ^= 0x5a;
}

/* NCCL writes its dumps during ncclCommInitRank on the rank that NCCL_*_DUMP_FILE_RANK
 * names; the double copies a recorded one. */
static void copy_dump(const char *file_var, const char *rank_var, const char *src_var, int rank)
{
    const char *dst = getenv(file_var), *src = getenv(src_var), *r = getenv(rank_var);
    FILE *in, *out;
    char buf[8192];
    size_t n;
    if (!dst || !*dst || !src || !*src || (r && *r ? atoi(r) : 0) != rank)
        return;
    if (!(in = fopen(src, "rb")))
        return;
    if ((out = fopen(dst, "wb"))) {
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            if (fwrite(buf, 1, n, out) != n)
                break;
        fclose(out);
    }
    fclose(in);
}

/* ---- version, ids, communicators ---- */

EXPORT tb_nccl_result_t ncclGetVersion(int *version)
{
    if (!version)
        return R_INVALID_ARGUMENT;
    *version = DOUBLE_VERSION;
    return R_OK;
}

EXPORT const char *ncclGetErrorString(tb_nccl_result_t result)
{
    switch (result) {
    case R_OK: return "no error";
    case R_SYSTEM: return "unhandled system error (NCCL double: an MPI call failed)";
    case R_INTERNAL: return "internal error (NCCL double)";
    case R_INVALID_ARGUMENT: return "invalid argument (NCCL double)";
    case R_INVALID_USAGE: return "invalid usage (NCCL double)";
    default: return "unknown result code";
    }
}

EXPORT tb_nccl_result_t ncclGetUniqueId(tb_nccl_id_t *id)
{
    static unsigned counter;
    if (!id)
        return R_INVALID_ARGUMENT;
    memset(id, 0, sizeof(*id));
    snprintf(id->internal, sizeof(id->internal), "topobench-nccl-double-%u", ++counter);
    return R_OK;
}

EXPORT tb_nccl_result_t ncclCommInitRank(tb_nccl_comm_t *comm, int nranks, tb_nccl_id_t id,
                                         int rank)
{
    struct ncclComm *c;
    int size = 0;
    (void)id;
    if (!comm || nranks < 1 || rank < 0 || rank >= nranks)
        return R_INVALID_ARGUMENT;
    if (!(c = calloc(1, sizeof(*c))))
        return R_SYSTEM;
    if (MPI_Comm_split(MPI_COMM_WORLD, 0, rank, &c->comm) != MPI_SUCCESS ||
        MPI_Comm_size(c->comm, &size) != MPI_SUCCESS) {
        free(c);
        return R_SYSTEM;
    }
    if (size != nranks) {
        MPI_Comm_free(&c->comm);
        free(c);
        return R_INVALID_USAGE; /* the double needs every MPI rank in the communicator */
    }
    c->rank = rank;
    c->size = nranks;
    *comm = c;
    copy_dump("NCCL_TOPO_DUMP_FILE", "NCCL_TOPO_DUMP_FILE_RANK", "TOPOBENCH_NCCL_DOUBLE_TOPO",
              rank);
    copy_dump("NCCL_GRAPH_DUMP_FILE", "NCCL_GRAPH_DUMP_FILE_RANK",
              "TOPOBENCH_NCCL_DOUBLE_GRAPH", rank);
    return R_OK;
}

EXPORT tb_nccl_result_t ncclCommDestroy(tb_nccl_comm_t comm)
{
    if (!comm)
        return R_INVALID_ARGUMENT;
    MPI_Comm_free(&comm->comm);
    free(comm);
    return R_OK;
}

EXPORT tb_nccl_result_t ncclCommCount(const tb_nccl_comm_t comm, int *count)
{
    if (!comm || !count)
        return R_INVALID_ARGUMENT;
    *count = comm->size;
    return R_OK;
}

EXPORT tb_nccl_result_t ncclCommUserRank(const tb_nccl_comm_t comm, int *rank)
{
    if (!comm || !rank)
        return R_INVALID_ARGUMENT;
    *rank = comm->rank;
    return R_OK;
}

/* ---- collectives: checked when called, run as stream work ---- */

enum { K_ALLREDUCE, K_REDUCE, K_REDUCESCATTER, K_ALLGATHER, K_BROADCAST, K_ALLTOALL };

typedef struct coll {
    int kind, dtype, op, root;
    const void *send; /* device addresses */
    void *recv;
    size_t count;     /* the call's count argument */
    struct ncclComm *comm;
} coll_t;

static int too_big(size_t count)
{
    return count > (size_t)INT_MAX;
}

/* A host copy of `count` elements at `src` (a host address) for a reduction's input,
 * pre-multiplied for a floating ncclAvg. */
static void *reduce_input(const void *src, size_t count, int op, int nranks)
{
    size_t bytes = count * cur_type->size;
    void *tmp = malloc(bytes ? bytes : 1);
    if (!tmp)
        return NULL;
    memcpy(tmp, src, bytes);
    if (op == TB_NCCL_AVG)
        tb_nccl_avg_pre(cur_type, tmp, count, nranks);
    return tmp;
}

static void failed(const char *what)
{
    fprintf(stderr, "NCCL double: %s failed\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void run_coll(void *arg)
{
    const coll_t *a = arg;
    struct ncclComm *c = a->comm;
    const void *send = TB_DOUBLE_HOST_OF(a->send);
    void *recv = TB_DOUBLE_HOST_OF(a->recv), *tmp = NULL;
    size_t out = a->count, n = (size_t)c->size;
    elem_t e;
    int rc = MPI_SUCCESS;

    if (elem_begin(a->dtype, a->op, &e) != R_OK)
        failed("an MPI type or operation");
    switch (a->kind) {
    case K_ALLREDUCE:
        if (!(tmp = reduce_input(send, a->count, a->op, c->size)))
            failed("an allocation");
        rc = MPI_Allreduce(tmp, recv, (int)a->count, e.type, e.op, c->comm);
        break;
    case K_REDUCE:
        if (!(tmp = reduce_input(send, a->count, a->op, c->size)))
            failed("an allocation");
        rc = MPI_Reduce(tmp, c->rank == a->root ? recv : NULL, (int)a->count, e.type, e.op,
                        a->root, c->comm);
        break;
    case K_REDUCESCATTER: /* the input is copied first: in place, the output lies in it */
        if (!(tmp = reduce_input(send, a->count * n, a->op, c->size)))
            failed("an allocation");
        rc = MPI_Reduce_scatter_block(tmp, recv, (int)a->count, e.type, e.op, c->comm);
        break;
    case K_ALLGATHER:
        rc = MPI_Allgather(send == (const char *)recv + (size_t)c->rank * a->count * cur_type->size
                               ? MPI_IN_PLACE : send,
                           (int)a->count, e.type, recv, (int)a->count, e.type, c->comm);
        out = a->count * n;
        break;
    case K_BROADCAST:
        if (c->rank == a->root && send != recv)
            memmove(recv, send, a->count * cur_type->size);
        rc = MPI_Bcast(recv, (int)a->count, e.type, a->root, c->comm);
        break;
    case K_ALLTOALL:
        if (send == recv) {
            size_t bytes = a->count * n * cur_type->size;
            if (!(tmp = malloc(bytes ? bytes : 1)))
                failed("an allocation");
            memcpy(tmp, send, bytes);
        }
        rc = MPI_Alltoall(tmp ? tmp : send, (int)a->count, e.type, recv, (int)a->count, e.type,
                          c->comm);
        out = a->count * n;
        break;
    }
    if (rc != MPI_SUCCESS)
        failed("an MPI collective");
    if (a->kind != K_REDUCE || c->rank == a->root) {
        if (a->op == TB_NCCL_AVG && a->kind != K_ALLGATHER && a->kind != K_BROADCAST &&
            a->kind != K_ALLTOALL)
            tb_nccl_avg_post(cur_type, recv, out, c->size);
        maybe_corrupt(c, recv, out, cur_type->size);
    }
    free(tmp);
    elem_end(&e);
}

/* Checks the arguments as NCCL does when called, then queues the operation. */
static tb_nccl_result_t submit(tb_nccl_stream_t stream, const coll_t *a, size_t total)
{
    if (!a->comm || too_big(total) || !tb_nccl_type_of(a->dtype) || a->op < 0 ||
        a->op > TB_NCCL_AVG || (a->kind == K_REDUCE || a->kind == K_BROADCAST
                                    ? a->root < 0 || a->root >= a->comm->size : 0))
        return R_INVALID_ARGUMENT;
    return tb_double_enqueue((struct CUstream_st *)stream, run_coll, a, sizeof(*a)) ? R_INVALID_ARGUMENT
                                                                         : R_OK;
}

EXPORT tb_nccl_result_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
                                      tb_nccl_dtype_t datatype, tb_nccl_op_t op,
                                      tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    coll_t a = {K_ALLREDUCE, datatype, op, 0, sendbuff, recvbuff, count, comm};
    return submit(stream, &a, count);
}

EXPORT tb_nccl_result_t ncclReduce(const void *sendbuff, void *recvbuff, size_t count,
                                   tb_nccl_dtype_t datatype, tb_nccl_op_t op, int root,
                                   tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    coll_t a = {K_REDUCE, datatype, op, root, sendbuff, recvbuff, count, comm};
    return submit(stream, &a, count);
}

EXPORT tb_nccl_result_t ncclReduceScatter(const void *sendbuff, void *recvbuff,
                                          size_t recvcount, tb_nccl_dtype_t datatype,
                                          tb_nccl_op_t op, tb_nccl_comm_t comm,
                                          tb_nccl_stream_t stream)
{
    coll_t a = {K_REDUCESCATTER, datatype, op, 0, sendbuff, recvbuff, recvcount, comm};
    return submit(stream, &a, comm ? recvcount * (size_t)comm->size : 0);
}

EXPORT tb_nccl_result_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount,
                                      tb_nccl_dtype_t datatype, tb_nccl_comm_t comm,
                                      tb_nccl_stream_t stream)
{
    coll_t a = {K_ALLGATHER, datatype, TB_NCCL_SUM, 0, sendbuff, recvbuff, sendcount, comm};
    return submit(stream, &a, comm ? sendcount * (size_t)comm->size : 0);
}

#if !defined(TB_DOUBLE_NCCL_2_1) /* ncclBroadcast came with NCCL 2.2 */
EXPORT tb_nccl_result_t ncclBroadcast(const void *sendbuff, void *recvbuff, size_t count,
                                      tb_nccl_dtype_t datatype, int root, tb_nccl_comm_t comm,
                                      tb_nccl_stream_t stream)
{
    coll_t a = {K_BROADCAST, datatype, TB_NCCL_SUM, root, sendbuff, recvbuff, count, comm};
    return submit(stream, &a, count);
}
#endif

/* ---- groups and point-to-point ---- */

static int group_depth;

#if !defined(TB_DOUBLE_NCCL_2_6) && !defined(TB_DOUBLE_NCCL_2_1)
typedef struct p2p {
    int send;          /* 1 send, 0 receive */
    void *buf;         /* device address */
    size_t count, elt;
    int peer;
    struct ncclComm *comm;
} p2p_t;

/* A group's operations. Kept for the life of the process: a captured graph runs them
 * again at every launch. */
typedef struct group {
    size_t n;
    p2p_t *ops;
} group_t;

static p2p_t *pending;
static size_t npending, cap_pending;
static tb_nccl_stream_t group_stream;
static group_t **groups;
static size_t ngroups, cap_groups;

/* Stream work of one group: every send's data read first (in place, a receive may land on
 * them), then every receive and send posted, and all waited for. */
static void run_group(void *arg)
{
    const group_t *g = *(group_t *const *)arg;
    MPI_Request *req = calloc(g->n ? g->n : 1, sizeof(*req));
    void **copies = calloc(g->n ? g->n : 1, sizeof(*copies));
    if (!req || !copies)
        failed("an allocation");
    for (size_t i = 0; i < g->n; i++) {
        const p2p_t *p = &g->ops[i];
        size_t bytes = p->count * p->elt;
        if (!p->send)
            continue;
        if (!(copies[i] = malloc(bytes ? bytes : 1)))
            failed("an allocation");
        memcpy(copies[i], TB_DOUBLE_HOST_OF(p->buf), bytes);
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < g->n; i++) {
            const p2p_t *p = &g->ops[i];
            int bytes = (int)(p->count * p->elt);
            if (p->send != pass)
                continue;
            if ((p->send ? MPI_Isend(copies[i], bytes, MPI_BYTE, p->peer, 77, p->comm->comm,
                                     &req[i])
                         : MPI_Irecv(TB_DOUBLE_HOST_OF(p->buf), bytes, MPI_BYTE, p->peer, 77,
                                     p->comm->comm, &req[i])) != MPI_SUCCESS)
                failed("an MPI send or receive");
        }
    if (MPI_Waitall((int)g->n, req, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        failed("MPI_Waitall");
    for (size_t i = 0; i < g->n; i++) {
        if (g->ops[i].send)
            free(copies[i]);
        else
            maybe_corrupt(g->ops[i].comm, TB_DOUBLE_HOST_OF(g->ops[i].buf), g->ops[i].count,
                          g->ops[i].elt);
    }
    free(copies);
    free(req);
}

/* Queues the pending operations as one piece of stream work. */
static int flush(void)
{
    group_t *g;
    if (npending == 0)
        return R_OK;
    if (ngroups == cap_groups) {
        size_t cap = cap_groups ? 2 * cap_groups : 64;
        group_t **n = realloc(groups, cap * sizeof(*n));
        if (!n)
            return R_SYSTEM;
        groups = n;
        cap_groups = cap;
    }
    if (!(g = malloc(sizeof(*g))) || !(g->ops = malloc(npending * sizeof(*g->ops)))) {
        free(g);
        return R_SYSTEM;
    }
    memcpy(g->ops, pending, npending * sizeof(*g->ops));
    g->n = npending;
    groups[ngroups++] = g;
    npending = 0;
    return tb_double_enqueue((struct CUstream_st *)group_stream, run_group, &g, sizeof(g))
               ? R_INVALID_ARGUMENT : R_OK;
}

static int enqueue(int send, const void *buf, size_t count, int datatype, int peer,
                   struct ncclComm *comm, tb_nccl_stream_t stream)
{
    const tb_nccl_type_t *t = tb_nccl_type_of(datatype);
    p2p_t *p;
    if (!comm || !t || peer < 0 || peer >= comm->size || too_big(count * t->size))
        return R_INVALID_ARGUMENT;
    if (npending == cap_pending) {
        size_t cap = cap_pending ? 2 * cap_pending : 16;
        p2p_t *n = realloc(pending, cap * sizeof(*n));
        if (!n)
            return R_SYSTEM;
        pending = n;
        cap_pending = cap;
    }
    p = &pending[npending++];
    p->send = send;
    p->buf = (void *)buf;
    p->count = count;
    p->elt = t->size;
    p->peer = peer;
    p->comm = comm;
    group_stream = stream;
    return group_depth ? R_OK : flush();
}

EXPORT tb_nccl_result_t ncclSend(const void *sendbuff, size_t count, tb_nccl_dtype_t datatype,
                                 int peer, tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    return enqueue(1, sendbuff, count, datatype, peer, comm, stream);
}

EXPORT tb_nccl_result_t ncclRecv(void *recvbuff, size_t count, tb_nccl_dtype_t datatype,
                                 int peer, tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    return enqueue(0, recvbuff, count, datatype, peer, comm, stream);
}

EXPORT tb_nccl_result_t ncclAlltoAll(const void *sendbuff, void *recvbuff, size_t count,
                                     tb_nccl_dtype_t datatype, tb_nccl_comm_t comm,
                                     tb_nccl_stream_t stream)
{
    coll_t a = {K_ALLTOALL, datatype, TB_NCCL_SUM, 0, sendbuff, recvbuff, count, comm};
    return submit(stream, &a, comm ? count * (size_t)comm->size : 0);
}
#endif

EXPORT tb_nccl_result_t ncclGroupStart(void)
{
    group_depth++;
    return R_OK;
}

EXPORT tb_nccl_result_t ncclGroupEnd(void)
{
    if (group_depth == 0)
        return R_INVALID_USAGE;
    if (--group_depth > 0)
        return R_OK;
#if !defined(TB_DOUBLE_NCCL_2_6) && !defined(TB_DOUBLE_NCCL_2_1)
    return flush();
#else
    return R_OK;
#endif
}
