/* The one harness: size sweep, warm-up, adaptive iteration count, timing, statistics
 * across ranks, data checking and output. A test is a table of function pointers
 * (tb_test_ops_t); adding a collective is one file and one table row. */
#ifndef TB_BENCH_HARNESS_H
#define TB_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "cuda.h"
#include "doc.h"
#include "mem.h"
#include "suite.h"

typedef enum { TB_KIND_P2P, TB_KIND_COLL } tb_test_kind_t;

typedef struct tb_dtype {
    const char *name; /* "float", "double", "byte" */
    MPI_Datatype mpi;
    size_t size;
} tb_dtype_t;

extern const tb_dtype_t tb_dtype_float, tb_dtype_double, tb_dtype_byte;

typedef struct tb_bench_ctx {
    const tb_suite_t *suite;
    MPI_Comm comm;      /* participants; comm rank 0 is world rank 0 */
    int rank, nranks;   /* in comm */
    int world_rank;
    const tb_dtype_t *dtype;
    size_t size;        /* bytes as the test counts them (see each test) */
    size_t count;       /* elements of dtype */
    int in_place;
    int window;         /* p2p bandwidth */
    /* What run() passes to MPI: the buffers themselves, or, when they are device memory
     * and MPI is not CUDA-aware, pinned host staging buffers (see xsend). */
    void *sendbuf, *recvbuf;
    /* What fill() and check() read and write: host views of the buffers. The harness
     * copies them to and from memory the host cannot touch (mem.h). */
    void *send_host, *recv_host;
    size_t buf_bytes;   /* capacity of each buffer */
    int peer;           /* p2p: the other rank in comm */
    int peer_world;     /* p2p: its world rank */
    /* Staging (the harness fills these): a device buffer MPI cannot take is copied to
     * its staging buffer (sendbuf, recvbuf) before the operation sends it (tb_stage_send)
     * and back after it received (tb_stage_recv); xsend and xrecv say which (mem.h). */
    const tb_cuda_t *cu;
    const tb_xferbuf_t *xsend, *xrecv;
    size_t stage_send_bytes, stage_recv_bytes; /* this size's bytes of each buffer */
    int recv_is_input;  /* in-place, or no send buffer (broadcast): the receive buffer
                         * holds input, staged before the operation too */
    struct tb_xport *xp; /* point-to-point: the transport the messages go through */
} tb_bench_ctx_t;

/* Staged device buffers: device -> staging before sending, staging -> device after
 * receiving (nothing when the side is not staged). A test whose table sets
 * stages_itself calls them where its protocol sends and receives (point-to-point: each
 * leg of a round trip pays its copies); for the others the harness calls them around
 * run(). A failed copy ends the job (the peer is inside the matching call). */
void tb_stage_send(tb_bench_ctx_t *ctx);
void tb_stage_recv(tb_bench_ctx_t *ctx);

/* A mismatch found by a check. */
typedef struct tb_mismatch {
    size_t wrong;        /* wrong elements */
    size_t first_offset; /* element index of the first wrong one */
    double expected, got;
} tb_mismatch_t;

typedef struct tb_test_ops {
    const char *name;
    tb_test_kind_t kind;
    int has_in_place;
    double time_scale; /* reported time = measured x scale (0.5: half round trip) */
    /* Elements each buffer needs for `count` elements per rank as the test counts them. */
    void (*buffers)(size_t count, int nranks, size_t *send_elems, size_t *recv_elems);
    /* Bytes moved per iteration for algbw / p2p bandwidth (S, S x n, S x window, ...);
     * NULL: no bandwidth (latency). */
    double (*alg_bytes)(const tb_bench_ctx_t *ctx);
    /* busbw = algbw x bus_factor(n); NULL for point-to-point. */
    double (*bus_factor)(int nranks);
    /* One iteration. */
    tb_status_t (*run)(tb_bench_ctx_t *ctx);
    /* Check iterations: fill the host views (send_host, recv_host) for iteration `iter`,
     * then verify recv_host after run. */
    void (*fill)(tb_bench_ctx_t *ctx, long iter);
    void (*check)(const tb_bench_ctx_t *ctx, long iter, tb_mismatch_t *mm);
    /* run() calls tb_stage_send/tb_stage_recv itself (see there). */
    int stages_itself;
} tb_test_ops_t;

/* The test tables, one per file. */
extern const tb_test_ops_t tb_test_latency, tb_test_bw, tb_test_bibw;
extern const tb_test_ops_t tb_test_all_reduce, tb_test_all_gather, tb_test_reduce_scatter,
    tb_test_broadcast, tb_test_alltoall;

/* Data patterns. Every value depends on the producing rank, the element, the iteration
 * and the size, so a block from the wrong sender, a stale, duplicated or reordered chunk
 * and a transfer that did not happen all read wrong.
 *
 * Copies (point-to-point, all_gather, alltoall, broadcast) use a hash (splitmix64's
 * finaliser) of a per-(rank, iteration, size) seed and the element: bytes for the
 * point-to-point tests, 24-bit integers (exact in float) for the collectives.
 * Reductions need exact sums over thousands of ranks, so they use small integers
 * (0..16); a sum cannot say which rank was wrong anyway. */
static inline uint64_t tb_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
static inline uint64_t tb_pattern_seed(int rank, long iter, size_t size)
{
    return tb_mix64(tb_mix64((uint64_t)(unsigned)rank) ^ tb_mix64((uint64_t)iter << 1 | 1) ^
                    (uint64_t)size);
}
static inline unsigned char tb_pattern_byte(uint64_t seed, size_t index)
{
    return (unsigned char)(tb_mix64(seed ^ (index >> 3)) >> (8 * (index & 7)));
}
static inline double tb_pattern_copy(uint64_t seed, size_t index)
{
    return (double)(tb_mix64(seed ^ index) & 0xFFFFFF);
}
static inline int tb_pattern(int rank, size_t index, long iter, size_t size)
{
    return (int)((((unsigned long)rank * 7u + (unsigned long)index * 3u +
                   (unsigned long)iter * 5u + (unsigned long)size) % 17u));
}
/* Bytes [0, n) of the pattern `seed` (tb_pattern_byte), or their complement (a receive
 * buffer's sentinel, so a transfer that did not happen cannot pass for one that did); and
 * the check of n bytes against it, `base` added to the offsets noted in *mm. One hash per
 * 8 bytes, and whole words compared at once: buffers are megabytes to a gigabyte. */
void tb_pattern_fill_bytes(unsigned char *p, size_t n, uint64_t seed, int complement);
void tb_pattern_check_bytes(const unsigned char *p, size_t n, uint64_t seed, size_t base,
                            tb_mismatch_t *mm);

/* Sum over ranks 0..n-1 of tb_pattern(r, index, iter, size), in O(1) per element from a
 * table of 17 sums filled once per check (tb_pattern_sums). */
void tb_pattern_sums(int nranks, double sums[17]);
static inline double tb_pattern_sum(const double sums[17], size_t index, long iter,
                                    size_t size)
{
    return sums[((unsigned long)index * 3u + (unsigned long)iter * 5u + (unsigned long)size) %
                17u];
}

/* Fill elements [0, n) of `buf` as dtype with the pattern of (rank, base + i, iter,
 * size): bytes for MPI_BYTE; the copy pattern, or the small reduction pattern when
 * `reduce` is set, for the others. */
void tb_pattern_fill(const tb_dtype_t *dt, void *buf, size_t n, int rank, size_t base,
                     long iter, size_t size, int reduce);
double tb_buf_get(const tb_dtype_t *dt, const void *buf, size_t i);
void tb_buf_set(const tb_dtype_t *dt, void *buf, size_t i, double v);
/* Records a wrong element in *mm (the first one with its values). */
void tb_mismatch_note(tb_mismatch_t *mm, size_t offset, double expected, double got);

/* Compares element `at` of the receive buffer with `want`. */
static inline void tb_check_elem(const tb_bench_ctx_t *ctx, tb_mismatch_t *mm, size_t at,
                                 double want)
{
    double got = tb_buf_get(ctx->dtype, ctx->recv_host, at);
    if (got != want)
        tb_mismatch_note(mm, at, want, got);
}

/* The table of a collective whose file defines buffers, alg_bytes, bus_factor, run, fill
 * and check as static functions. */
#define TB_COLLECTIVE_OPS(var, name_, in_place_)                                           \
    const tb_test_ops_t var = {.name = name_,                                              \
                               .kind = TB_KIND_COLL,                                       \
                               .has_in_place = in_place_,                                  \
                               .time_scale = 1.0,                                          \
                               .buffers = buffers,                                         \
                               .alg_bytes = alg_bytes,                                     \
                               .bus_factor = bus_factor,                                   \
                               .run = run,                                                 \
                               .fill = fill,                                               \
                               .check = check}

/* Runs one test over the size sweep on `comm` (every rank of comm calls it) and records
 * it in the document as one entry with `keys` (backend, memory kinds, placement; the
 * dtype is taken from `dt`). `params` (rank 0, stolen) goes into the entry. Returns the
 * agreed status over comm. */
TB_NODISCARD tb_status_t tb_harness_run(tb_suite_t *s, const tb_test_ops_t *ops,
                                        const tb_dtype_t *dt, const tb_doc_keys_t *keys,
                                        MPI_Comm comm, json_t *params);

/* Largest buffer one rank allocates for one test; larger sizes are skipped with a note. */
#define TB_MAX_BUFFER_BYTES TB_MAX_MESSAGE_BYTES

#endif
