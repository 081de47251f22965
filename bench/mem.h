/* Memory kinds: where a test's buffers live (host, pinned host, device, managed). A kind
 * is one table of operations, so the harness, not each test, allocates, fills and
 * checks: tests fill and check host views of their buffers, and the harness copies those
 * views to and from memory the host cannot touch (device memory). */
#ifndef TB_BENCH_MEM_H
#define TB_BENCH_MEM_H

#include <stddef.h>

#include "cuda.h"
#include "status.h"

typedef enum tb_mem_id {
    TB_MEM_HOST,    /* malloc'd (page-aligned) host memory */
    TB_MEM_PINNED,  /* page-locked host memory (cudaHostAlloc) */
    TB_MEM_DEVICE,  /* GPU memory (cudaMalloc) */
    TB_MEM_MANAGED, /* unified memory (cudaMallocManaged) */
    TB_MEM_COUNT
} tb_mem_id_t;

typedef struct tb_mem_kind {
    tb_mem_id_t id;
    const char *name;  /* "host", "pinned", "device", "managed": --mem and results.json */
    int needs_gpu;     /* needs the CUDA runtime and a device */
    int host_access;   /* the host reads and writes it directly (no shadow needed) */
    /* `cu` is NULL for host memory. Page-aligned; the bytes are zero after alloc. */
    tb_status_t (*alloc)(const tb_cuda_t *cu, size_t bytes, void **p);
    void (*free)(const tb_cuda_t *cu, void *p);
    /* Copies n bytes between the buffer and host memory (synchronous). */
    tb_status_t (*to_host)(const tb_cuda_t *cu, void *host, const void *buf, size_t n);
    tb_status_t (*from_host)(const tb_cuda_t *cu, void *buf, const void *host, size_t n);
    /* Sets n bytes to `byte`. */
    tb_status_t (*fill)(const tb_cuda_t *cu, void *buf, int byte, size_t n);
} tb_mem_kind_t;

const tb_mem_kind_t *tb_mem_kind(tb_mem_id_t id);
/* The kind called `name`, or NULL. */
const tb_mem_kind_t *tb_mem_kind_find(const char *name);

/* Compares n bytes of `buf` (of kind k) with host memory `want`: *first_p is the offset
 * of the first differing byte, or n when they are equal. */
TB_NODISCARD tb_status_t tb_mem_compare(const tb_mem_kind_t *k, const tb_cuda_t *cu,
                                        const void *buf, const void *want, size_t n,
                                        size_t *first_p);

/* A buffer of one kind with its host view: `buf` is what operations use, `host` is what
 * fill and check read and write (buf itself for host-accessible kinds, else a shadow). */
typedef struct tb_membuf {
    const tb_mem_kind_t *kind;
    void *buf, *host;
    size_t bytes;
} tb_membuf_t;

/* Allocates `bytes` (zeroed) of kind k and its host view. On failure *b is empty and the
 * reason is logged. */
TB_NODISCARD tb_status_t tb_membuf_alloc(tb_membuf_t *b, const tb_mem_kind_t *k,
                                         const tb_cuda_t *cu, size_t bytes);
void tb_membuf_free(tb_membuf_t *b, const tb_cuda_t *cu);
/* The first n bytes: host view -> buffer (push) and buffer -> host view (pull); nothing
 * to do for host-accessible kinds. */
TB_NODISCARD tb_status_t tb_membuf_push(const tb_membuf_t *b, const tb_cuda_t *cu, size_t n);
TB_NODISCARD tb_status_t tb_membuf_pull(const tb_membuf_t *b, const tb_cuda_t *cu, size_t n);

/* How MPI reaches buffers of these kinds: "direct" (the host can touch both),
 * "cuda-aware" (device pointers given to a CUDA-aware MPI) or "staged" (device buffers
 * copied through pinned host buffers). Recorded as each entry's `transfer`. */
const char *tb_mem_transfer(const tb_mem_kind_t *send, const tb_mem_kind_t *recv,
                            int mpi_cuda_aware);

/* A buffer MPI transfers: the buffer of its kind with its host view, and, when it is
 * device memory and MPI is not CUDA-aware, a pinned host staging buffer that MPI is given
 * instead (`mpi`). stage_out copies bytes [offset, offset + n) device -> staging before
 * they are sent, stage_in staging -> device after they arrived; both do nothing when the
 * buffer is not staged. */
typedef struct tb_xferbuf {
    tb_membuf_t mem;
    void *stage; /* pinned staging, NULL when not staged */
    void *mpi;   /* what MPI is given: stage, or mem.buf */
} tb_xferbuf_t;

TB_NODISCARD tb_status_t tb_xferbuf_alloc(tb_xferbuf_t *x, const tb_mem_kind_t *k,
                                          const tb_cuda_t *cu, size_t bytes,
                                          int mpi_cuda_aware);
void tb_xferbuf_free(tb_xferbuf_t *x, const tb_cuda_t *cu);
TB_NODISCARD tb_status_t tb_xferbuf_stage_out(const tb_xferbuf_t *x, const tb_cuda_t *cu,
                                              size_t offset, size_t n);
TB_NODISCARD tb_status_t tb_xferbuf_stage_in(const tb_xferbuf_t *x, const tb_cuda_t *cu,
                                             size_t offset, size_t n);

#endif
