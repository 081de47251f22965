/* NCCL, loaded at run time: one binary runs on CPU-only nodes, GPU nodes with any NCCL
 * build, and the tests' double (tests/nccldouble), and says what it skipped and why.
 *
 * Which library: --nccl-lib PATH, else TOPOBENCH_NCCL_LIB, else the soname libnccl.so.2
 * through the dynamic loader (LD_LIBRARY_PATH, the ld.so cache, /lib, /usr/lib), then the
 * CUDA toolkit's standard places. Two NCCL builds compare with one topobench binary, as
 * nccl-tests users compare them with LD_LIBRARY_PATH.
 *
 * Every NCCL call topobench makes is one member of tb_nccl_lib_t, named after the NCCL
 * function without its `nccl` prefix (lib->AllReduce is ncclAllReduce), with its exact
 * prototype. Where nccl.h was present at build time (TB_NCCL_HEADERS=1) the types are
 * nccl.h's and every prototype is checked against it at compile time (nccl_lib.c);
 * without it the declarations below have the same ABI (NCCL's enum values are part of
 * its ABI and have not changed since 2.0). Nothing here links NCCL.
 *
 * A required symbol missing (an NCCL too old for topobench) fails the load, naming the
 * library, the symbol and the release that added it; a missing per-test symbol (ncclSend
 * before 2.7, ncclAlltoAll before 2.28) leaves its member NULL and skips only the tests
 * that need it (tb_nccl_coll_t.needs). */
#ifndef TB_BENCH_NCCL_LIB_H
#define TB_BENCH_NCCL_LIB_H

#include <stddef.h>

#include "status.h"

#if TB_NCCL_HEADERS
#include <nccl.h>
typedef ncclResult_t tb_nccl_result_t;
typedef ncclComm_t tb_nccl_comm_t;
typedef ncclUniqueId tb_nccl_id_t;
typedef ncclDataType_t tb_nccl_dtype_t;
typedef ncclRedOp_t tb_nccl_op_t;
typedef cudaStream_t tb_nccl_stream_t;
#else
typedef int tb_nccl_result_t; /* an enum is an int */
typedef struct ncclComm *tb_nccl_comm_t;
typedef struct {
    char internal[128];
} tb_nccl_id_t;
typedef int tb_nccl_dtype_t;
typedef int tb_nccl_op_t;
typedef struct CUstream_st *tb_nccl_stream_t;
#endif

/* NCCL's values (nccl.h). */
#define TB_NCCL_SUCCESS 0
enum {
    TB_NCCL_INT8 = 0,
    TB_NCCL_UINT8 = 1,
    TB_NCCL_INT32 = 2,
    TB_NCCL_UINT32 = 3,
    TB_NCCL_INT64 = 4,
    TB_NCCL_UINT64 = 5,
    TB_NCCL_FLOAT16 = 6,
    TB_NCCL_FLOAT32 = 7,
    TB_NCCL_FLOAT64 = 8,
    TB_NCCL_BFLOAT16 = 9,
    TB_NCCL_FLOAT8E4M3 = 10,
    TB_NCCL_FLOAT8E5M2 = 11,
};
enum { TB_NCCL_SUM = 0, TB_NCCL_PROD = 1, TB_NCCL_MAX = 2, TB_NCCL_MIN = 3, TB_NCCL_AVG = 4 };
/* NCCL_VERSION(X,Y,Z) of nccl.h: codes below 2.9 have two digits for the minor. */
#define TB_NCCL_VERSION(x, y, z)                                                               \
    (((x) <= 2 && (y) <= 8) ? (x) * 1000 + (y) * 100 + (z) : (x) * 10000 + (y) * 100 + (z))

/* Every function loaded: X(member, return type, (parameters), required, NCCL release that
 * added it). The symbol is "nccl" #member. Required ones fail the load when missing. */
#define TB_NCCL_FUNCS(X)                                                                       \
    X(GetVersion, tb_nccl_result_t, (int *version), 1, "2.3")                                  \
    X(GetErrorString, const char *, (tb_nccl_result_t result), 1, "2.0")                       \
    X(GetUniqueId, tb_nccl_result_t, (tb_nccl_id_t * uniqueId), 1, "2.0")                      \
    X(CommInitRank, tb_nccl_result_t,                                                          \
      (tb_nccl_comm_t * comm, int nranks, tb_nccl_id_t commId, int rank), 1, "2.0")            \
    X(CommDestroy, tb_nccl_result_t, (tb_nccl_comm_t comm), 1, "2.0")                          \
    X(CommCount, tb_nccl_result_t, (const tb_nccl_comm_t comm, int *count), 1, "2.0")          \
    X(CommUserRank, tb_nccl_result_t, (const tb_nccl_comm_t comm, int *rank), 1, "2.0")        \
    X(GroupStart, tb_nccl_result_t, (void), 1, "2.0")                                          \
    X(GroupEnd, tb_nccl_result_t, (void), 1, "2.0")                                            \
    X(AllReduce, tb_nccl_result_t,                                                             \
      (const void *sendbuff, void *recvbuff, size_t count, tb_nccl_dtype_t datatype,           \
       tb_nccl_op_t op, tb_nccl_comm_t comm, tb_nccl_stream_t stream),                         \
      1, "2.0")                                                                                \
    X(Reduce, tb_nccl_result_t,                                                                \
      (const void *sendbuff, void *recvbuff, size_t count, tb_nccl_dtype_t datatype,           \
       tb_nccl_op_t op, int root, tb_nccl_comm_t comm, tb_nccl_stream_t stream),               \
      1, "2.0")                                                                                \
    X(AllGather, tb_nccl_result_t,                                                             \
      (const void *sendbuff, void *recvbuff, size_t sendcount, tb_nccl_dtype_t datatype,       \
       tb_nccl_comm_t comm, tb_nccl_stream_t stream),                                          \
      1, "2.0")                                                                                \
    X(ReduceScatter, tb_nccl_result_t,                                                         \
      (const void *sendbuff, void *recvbuff, size_t recvcount, tb_nccl_dtype_t datatype,       \
       tb_nccl_op_t op, tb_nccl_comm_t comm, tb_nccl_stream_t stream),                         \
      1, "2.0")                                                                                \
    X(Broadcast, tb_nccl_result_t,                                                             \
      (const void *sendbuff, void *recvbuff, size_t count, tb_nccl_dtype_t datatype, int root, \
       tb_nccl_comm_t comm, tb_nccl_stream_t stream),                                          \
      1, "2.2")                                                                                \
    X(Send, tb_nccl_result_t,                                                                  \
      (const void *sendbuff, size_t count, tb_nccl_dtype_t datatype, int peer,                 \
       tb_nccl_comm_t comm, tb_nccl_stream_t stream),                                          \
      0, "2.7")                                                                                \
    X(Recv, tb_nccl_result_t,                                                                  \
      (void *recvbuff, size_t count, tb_nccl_dtype_t datatype, int peer, tb_nccl_comm_t comm,  \
       tb_nccl_stream_t stream),                                                               \
      0, "2.7")                                                                                \
    X(AlltoAll, tb_nccl_result_t,                                                              \
      (const void *sendbuff, void *recvbuff, size_t count, tb_nccl_dtype_t datatype,           \
       tb_nccl_comm_t comm, tb_nccl_stream_t stream),                                          \
      0, "2.28")

#define TB_NCCL_WHY_LEN 1024
/* The soname, then the CUDA toolkit's standard places (where NCCL's packages and the
 * toolkit put it). */
#define TB_NCCL_DEFAULT_LIBS                                                                   \
    { "libnccl.so.2", "/usr/local/cuda/lib64/libnccl.so.2", "/usr/local/cuda/lib/libnccl.so.2" }

typedef struct tb_nccl_lib {
    void *handle;        /* dlopen handle */
    char path[512];      /* as named (soname or path) */
    char resolved[512];  /* the file it resolved to (dladdr), "" unknown */
    int version;         /* ncclGetVersion's code: 22809 = 2.28.9 */
    char version_str[32];/* "2.28.9" */
#define TB_NCCL_MEMBER(name, ret, args, required, since) ret(*name) args;
    TB_NCCL_FUNCS(TB_NCCL_MEMBER)
#undef TB_NCCL_MEMBER
} tb_nccl_lib_t;

/* Opens NCCL into *lib: `path` when not NULL (--nccl-lib), else TOPOBENCH_NCCL_LIB when
 * set, else TB_NCCL_DEFAULT_LIBS in order, and reads its version. TB_ERR_ENV when none
 * loads with every required symbol; `why` (TB_NCCL_WHY_LEN bytes) then says which
 * libraries were tried, where the loader searched, and which symbol was missing with the
 * NCCL release that added it. Logs nothing: a missing library is a skip the caller says
 * once. */
TB_NODISCARD tb_status_t tb_nccl_lib_open(const char *path, tb_nccl_lib_t *lib, char *why);
void tb_nccl_lib_close(tb_nccl_lib_t *lib);

/* "2.28.9" from 22809 (and "2.7.8" from 2708). */
void tb_nccl_version_string(int code, char *buf, size_t len);

/* The member's symbol name and release, for messages ("ncclAlltoAll", "2.28"); NULL when
 * `member` is not one. */
const char *tb_nccl_symbol_since(const char *member);
/* Whether member `name` ("AlltoAll") was loaded. */
int tb_nccl_lib_has(const tb_nccl_lib_t *lib, const char *member);

/* Backend errors are converted here: logs the call, NCCL's text and file:line, yields
 * TB_ERR_INTERNAL (TB_OK on success). */
#define TB_NCCL_CHECK(lib, call) tb_nccl_status((lib), (call), #call, __FILE__, __LINE__)
tb_status_t tb_nccl_status(const tb_nccl_lib_t *lib, tb_nccl_result_t rc, const char *what,
                           const char *file, int line);

#endif
