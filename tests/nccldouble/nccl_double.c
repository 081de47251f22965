/* A test double of NCCL (libnccl.so.2's calls that topobench makes), for CI on machines
 * without a GPU: topobench loads it through --nccl-lib / TOPOBENCH_NCCL_LIB exactly as it
 * loads NCCL. "Device" memory is host memory (the CUDA double's model), streams are
 * ignored: every call completes before it returns, over MPI on the communicator's ranks,
 * with NCCL's reduction semantics for every type and operation (integers wrap, half,
 * bfloat16 and fp8 round after each step, ncclAvg pre-multiplies floats by 1/n and
 * divides integer sums). Its timings mean nothing; its data are right, so topobench's
 * check is exercised end to end.
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

/* ---- collectives ---- */

static int too_big(size_t count)
{
    return count > (size_t)INT_MAX;
}

/* A copy of `n` elements of `src` for the reduction's input, pre-multiplied for a
 * floating ncclAvg. */
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

EXPORT tb_nccl_result_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
                                      tb_nccl_dtype_t datatype, tb_nccl_op_t op,
                                      tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    elem_t e;
    void *tmp;
    int rc;
    (void)stream;
    if (!comm || too_big(count))
        return R_INVALID_ARGUMENT;
    if ((rc = elem_begin(datatype, op, &e)) != R_OK)
        return rc;
    tmp = reduce_input(sendbuff, count, op, comm->size);
    rc = tmp && MPI_Allreduce(tmp, recvbuff, (int)count, e.type, e.op, comm->comm) == MPI_SUCCESS
             ? R_OK : R_SYSTEM;
    if (rc == R_OK && op == TB_NCCL_AVG)
        tb_nccl_avg_post(cur_type, recvbuff, count, comm->size);
    if (rc == R_OK)
        maybe_corrupt(comm, recvbuff, count, cur_type->size);
    free(tmp);
    elem_end(&e);
    return rc;
}

EXPORT tb_nccl_result_t ncclReduce(const void *sendbuff, void *recvbuff, size_t count,
                                   tb_nccl_dtype_t datatype, tb_nccl_op_t op, int root,
                                   tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    elem_t e;
    void *tmp;
    int rc;
    (void)stream;
    if (!comm || too_big(count) || root < 0 || root >= comm->size)
        return R_INVALID_ARGUMENT;
    if ((rc = elem_begin(datatype, op, &e)) != R_OK)
        return rc;
    tmp = reduce_input(sendbuff, count, op, comm->size);
    rc = tmp && MPI_Reduce(tmp, comm->rank == root ? recvbuff : NULL, (int)count, e.type, e.op,
                           root, comm->comm) == MPI_SUCCESS
             ? R_OK : R_SYSTEM;
    if (rc == R_OK && comm->rank == root) {
        if (op == TB_NCCL_AVG)
            tb_nccl_avg_post(cur_type, recvbuff, count, comm->size);
        maybe_corrupt(comm, recvbuff, count, cur_type->size);
    }
    free(tmp);
    elem_end(&e);
    return rc;
}

EXPORT tb_nccl_result_t ncclReduceScatter(const void *sendbuff, void *recvbuff,
                                          size_t recvcount, tb_nccl_dtype_t datatype,
                                          tb_nccl_op_t op, tb_nccl_comm_t comm,
                                          tb_nccl_stream_t stream)
{
    elem_t e;
    void *tmp;
    int rc;
    (void)stream;
    if (!comm || too_big(recvcount * (size_t)comm->size))
        return R_INVALID_ARGUMENT;
    if ((rc = elem_begin(datatype, op, &e)) != R_OK)
        return rc;
    /* The input is copied first: in place, the output lies inside it. */
    tmp = reduce_input(sendbuff, recvcount * (size_t)comm->size, op, comm->size);
    rc = tmp && MPI_Reduce_scatter_block(tmp, recvbuff, (int)recvcount, e.type, e.op,
                                         comm->comm) == MPI_SUCCESS
             ? R_OK : R_SYSTEM;
    if (rc == R_OK && op == TB_NCCL_AVG)
        tb_nccl_avg_post(cur_type, recvbuff, recvcount, comm->size);
    if (rc == R_OK)
        maybe_corrupt(comm, recvbuff, recvcount, cur_type->size);
    free(tmp);
    elem_end(&e);
    return rc;
}

EXPORT tb_nccl_result_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount,
                                      tb_nccl_dtype_t datatype, tb_nccl_comm_t comm,
                                      tb_nccl_stream_t stream)
{
    elem_t e;
    int rc;
    size_t bytes;
    const void *src;
    (void)stream;
    if (!comm || too_big(sendcount * (size_t)comm->size))
        return R_INVALID_ARGUMENT;
    if ((rc = elem_begin(datatype, TB_NCCL_SUM, &e)) != R_OK)
        return rc;
    bytes = sendcount * cur_type->size;
    src = sendbuff == (char *)recvbuff + (size_t)comm->rank * bytes ? MPI_IN_PLACE : sendbuff;
    rc = MPI_Allgather(src, (int)sendcount, e.type, recvbuff, (int)sendcount, e.type,
                       comm->comm) == MPI_SUCCESS
             ? R_OK : R_SYSTEM;
    if (rc == R_OK)
        maybe_corrupt(comm, recvbuff, sendcount * (size_t)comm->size, cur_type->size);
    elem_end(&e);
    return rc;
}

#if !defined(TB_DOUBLE_NCCL_2_1) /* ncclBroadcast came with NCCL 2.2 */
EXPORT tb_nccl_result_t ncclBroadcast(const void *sendbuff, void *recvbuff, size_t count,
                                      tb_nccl_dtype_t datatype, int root, tb_nccl_comm_t comm,
                                      tb_nccl_stream_t stream)
{
    elem_t e;
    int rc;
    (void)stream;
    if (!comm || too_big(count) || root < 0 || root >= comm->size)
        return R_INVALID_ARGUMENT;
    if ((rc = elem_begin(datatype, TB_NCCL_SUM, &e)) != R_OK)
        return rc;
    if (comm->rank == root && sendbuff != recvbuff)
        memmove(recvbuff, sendbuff, count * cur_type->size);
    rc = MPI_Bcast(recvbuff, (int)count, e.type, root, comm->comm) == MPI_SUCCESS ? R_OK
                                                                                   : R_SYSTEM;
    if (rc == R_OK)
        maybe_corrupt(comm, recvbuff, count, cur_type->size);
    elem_end(&e);
    return rc;
}
#endif

/* ---- groups and point-to-point ---- */

#if !defined(TB_DOUBLE_NCCL_2_6) && !defined(TB_DOUBLE_NCCL_2_1)
typedef struct p2p {
    int send; /* 1 send, 0 receive */
    void *buf; /* receive: the user's buffer; send: a copy taken when the call was made */
    size_t count, elt;
    int peer;
    struct ncclComm *comm;
} p2p_t;

static p2p_t *pending;
static size_t npending, cap_pending;
#endif
static int group_depth;

#if !defined(TB_DOUBLE_NCCL_2_6) && !defined(TB_DOUBLE_NCCL_2_1)
/* Posts every pending receive, then every send, and waits for all: one group. */
static int flush(void)
{
    MPI_Request *req = calloc(npending ? npending : 1, sizeof(*req));
    int rc = req ? R_OK : R_SYSTEM;
    for (size_t pass = 0; pass < 2 && rc == R_OK; pass++)
        for (size_t i = 0; i < npending && rc == R_OK; i++) {
            p2p_t *p = &pending[i];
            if ((size_t)p->send != pass)
                continue;
            if ((p->send ? MPI_Isend(p->buf, (int)(p->count * p->elt), MPI_BYTE, p->peer, 77,
                                     p->comm->comm, &req[i])
                         : MPI_Irecv(p->buf, (int)(p->count * p->elt), MPI_BYTE, p->peer, 77,
                                     p->comm->comm, &req[i])) != MPI_SUCCESS)
                rc = R_SYSTEM;
        }
    if (rc == R_OK && MPI_Waitall((int)npending, req, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        rc = R_SYSTEM;
    for (size_t i = 0; i < npending; i++) {
        if (pending[i].send)
            free(pending[i].buf);
        else if (rc == R_OK)
            maybe_corrupt(pending[i].comm, pending[i].buf, pending[i].count, pending[i].elt);
    }
    npending = 0;
    free(req);
    return rc;
}

static int enqueue(int send, const void *buf, size_t count, int datatype, int peer,
                   struct ncclComm *comm)
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
    p = &pending[npending];
    memset(p, 0, sizeof(*p));
    p->send = send;
    p->count = count;
    p->elt = t->size;
    p->peer = peer;
    p->comm = comm;
    if (send) {
        /* Sent data are read when the call is made: in place, a receive of the same
         * group may overwrite them before the group runs. */
        size_t bytes = count * t->size;
        if (!(p->buf = malloc(bytes ? bytes : 1)))
            return R_SYSTEM;
        memcpy(p->buf, buf, count * t->size);
    } else {
        p->buf = (void *)buf;
    }
    npending++;
    return group_depth ? R_OK : flush();
}

EXPORT tb_nccl_result_t ncclSend(const void *sendbuff, size_t count, tb_nccl_dtype_t datatype,
                                 int peer, tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    (void)stream;
    return enqueue(1, sendbuff, count, datatype, peer, comm);
}

EXPORT tb_nccl_result_t ncclRecv(void *recvbuff, size_t count, tb_nccl_dtype_t datatype,
                                 int peer, tb_nccl_comm_t comm, tb_nccl_stream_t stream)
{
    (void)stream;
    return enqueue(0, recvbuff, count, datatype, peer, comm);
}

EXPORT tb_nccl_result_t ncclAlltoAll(const void *sendbuff, void *recvbuff, size_t count,
                                     tb_nccl_dtype_t datatype, tb_nccl_comm_t comm,
                                     tb_nccl_stream_t stream)
{
    elem_t e;
    int rc;
    void *tmp = NULL;
    const void *src = sendbuff;
    (void)stream;
    if (!comm || too_big(count * (size_t)comm->size))
        return R_INVALID_ARGUMENT;
    if ((rc = elem_begin(datatype, TB_NCCL_SUM, &e)) != R_OK)
        return rc;
    if (sendbuff == recvbuff) {
        size_t bytes = count * (size_t)comm->size * cur_type->size;
        if (!(tmp = malloc(bytes ? bytes : 1))) {
            elem_end(&e);
            return R_SYSTEM;
        }
        memcpy(tmp, sendbuff, bytes);
        src = tmp;
    }
    rc = MPI_Alltoall(src, (int)count, e.type, recvbuff, (int)count, e.type, comm->comm) ==
                 MPI_SUCCESS
             ? R_OK : R_SYSTEM;
    if (rc == R_OK)
        maybe_corrupt(comm, recvbuff, count * (size_t)comm->size, cur_type->size);
    free(tmp);
    elem_end(&e);
    return rc;
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
