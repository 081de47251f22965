/* The memory-kind table (mem.h): host memory through libc, the others through the CUDA
 * runtime loaded at run time (bench/gpu/cuda.h). */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ALIGN 4096

/* ---- host ---- */

static tb_status_t host_alloc(const tb_cuda_t *cu, size_t bytes, void **p)
{
    (void)cu;
    *p = NULL;
    if (posix_memalign(p, ALIGN, bytes ? bytes : 1)) {
        *p = NULL;
        return tb_error(TB_ERR_ENV, "cannot allocate %zu bytes of host memory", bytes);
    }
    memset(*p, 0, bytes);
    return TB_OK;
}

static void host_free(const tb_cuda_t *cu, void *p)
{
    (void)cu;
    free(p);
}

static tb_status_t host_copy(const tb_cuda_t *cu, void *dst, const void *src, size_t n)
{
    (void)cu;
    if (n && dst != src)
        memcpy(dst, src, n);
    return TB_OK;
}

static tb_status_t host_fill(const tb_cuda_t *cu, void *buf, int byte, size_t n)
{
    (void)cu;
    memset(buf, byte, n);
    return TB_OK;
}

/* ---- pinned host memory ---- */

static tb_status_t pinned_alloc(const tb_cuda_t *cu, size_t bytes, void **p)
{
    tb_status_t st;
    *p = NULL;
    if ((st = TB_CUDA_CHECK(cu, cu->HostAlloc(p, bytes ? bytes : 1, TB_CUDA_HOST_ALLOC_DEFAULT))))
        return st;
    memset(*p, 0, bytes);
    return TB_OK;
}

static void pinned_free(const tb_cuda_t *cu, void *p)
{
    if (p)
        (void)TB_CUDA_CHECK(cu, cu->FreeHost(p));
}

/* ---- device memory ---- */

static tb_status_t device_alloc(const tb_cuda_t *cu, size_t bytes, void **p)
{
    tb_status_t st;
    *p = NULL;
    if ((st = TB_CUDA_CHECK(cu, cu->Malloc(p, bytes ? bytes : 1))) ||
        (st = TB_CUDA_CHECK(cu, cu->Memset(*p, 0, bytes)))) {
        if (*p)
            (void)cu->Free(*p);
        *p = NULL;
    }
    return st;
}

static void device_free(const tb_cuda_t *cu, void *p)
{
    if (p)
        (void)TB_CUDA_CHECK(cu, cu->Free(p));
}

static tb_status_t device_to_host(const tb_cuda_t *cu, void *host, const void *buf, size_t n)
{
    return n ? TB_CUDA_CHECK(cu, cu->Memcpy(host, buf, n, TB_CUDA_MEMCPY_D2H)) : TB_OK;
}

static tb_status_t device_from_host(const tb_cuda_t *cu, void *buf, const void *host, size_t n)
{
    return n ? TB_CUDA_CHECK(cu, cu->Memcpy(buf, host, n, TB_CUDA_MEMCPY_H2D)) : TB_OK;
}

static tb_status_t device_fill(const tb_cuda_t *cu, void *buf, int byte, size_t n)
{
    return n ? TB_CUDA_CHECK(cu, cu->Memset(buf, byte, n)) : TB_OK;
}

/* ---- managed memory: host-accessible once the device is idle ---- */

static tb_status_t managed_alloc(const tb_cuda_t *cu, size_t bytes, void **p)
{
    tb_status_t st;
    *p = NULL;
    if ((st = TB_CUDA_CHECK(cu, cu->MallocManaged(p, bytes ? bytes : 1,
                                                  TB_CUDA_MEM_ATTACH_GLOBAL))))
        return st;
    memset(*p, 0, bytes);
    return TB_OK;
}

static tb_status_t managed_sync_copy(const tb_cuda_t *cu, void *dst, const void *src, size_t n)
{
    tb_status_t st = TB_CUDA_CHECK(cu, cu->DeviceSynchronize());
    if (st == TB_OK && n && dst != src)
        memcpy(dst, src, n);
    return st;
}

static tb_status_t managed_fill(const tb_cuda_t *cu, void *buf, int byte, size_t n)
{
    tb_status_t st = TB_CUDA_CHECK(cu, cu->DeviceSynchronize());
    if (st == TB_OK)
        memset(buf, byte, n);
    return st;
}

static const tb_mem_kind_t kinds[TB_MEM_COUNT] = {
    {TB_MEM_HOST, "host", 0, 1, host_alloc, host_free, host_copy, host_copy, host_fill},
    {TB_MEM_PINNED, "pinned", 1, 1, pinned_alloc, pinned_free, host_copy, host_copy,
     host_fill},
    {TB_MEM_DEVICE, "device", 1, 0, device_alloc, device_free, device_to_host,
     device_from_host, device_fill},
    {TB_MEM_MANAGED, "managed", 1, 1, managed_alloc, device_free, managed_sync_copy,
     managed_sync_copy, managed_fill},
};

const tb_mem_kind_t *tb_mem_kind(tb_mem_id_t id)
{
    return id < TB_MEM_COUNT ? &kinds[id] : NULL;
}

const tb_mem_kind_t *tb_mem_kind_find(const char *name)
{
    for (size_t i = 0; i < TB_MEM_COUNT; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

tb_status_t tb_mem_compare(const tb_mem_kind_t *k, const tb_cuda_t *cu, const void *buf,
                           const void *want, size_t n, size_t *first_p)
{
    const unsigned char *got = buf, *w = want;
    unsigned char *tmp = NULL;
    tb_status_t st = TB_OK;
    *first_p = n;
    if (!k->host_access) {
        if (!(tmp = malloc(n ? n : 1)))
            return tb_error(TB_ERR_ENV, "cannot allocate %zu bytes to compare a buffer", n);
        if ((st = k->to_host(cu, tmp, buf, n)))
            goto out;
        got = tmp;
    }
    for (size_t i = 0; i < n; i++)
        if (got[i] != w[i]) {
            *first_p = i;
            break;
        }
out:
    free(tmp);
    return st;
}

tb_status_t tb_membuf_alloc(tb_membuf_t *b, const tb_mem_kind_t *k, const tb_cuda_t *cu,
                            size_t bytes)
{
    tb_status_t st;
    memset(b, 0, sizeof(*b));
    if ((st = k->alloc(cu, bytes, &b->buf)))
        return st;
    if (k->host_access) {
        b->host = b->buf;
    } else if ((st = host_alloc(NULL, bytes, &b->host))) {
        k->free(cu, b->buf);
        b->buf = NULL;
        return st;
    }
    b->kind = k;
    b->bytes = bytes;
    return TB_OK;
}

void tb_membuf_free(tb_membuf_t *b, const tb_cuda_t *cu)
{
    if (!b->kind)
        return;
    if (b->host != b->buf)
        free(b->host);
    b->kind->free(cu, b->buf);
    memset(b, 0, sizeof(*b));
}

tb_status_t tb_membuf_push(const tb_membuf_t *b, const tb_cuda_t *cu, size_t n)
{
    if (b->host == b->buf)
        return b->kind && b->kind->id == TB_MEM_MANAGED ? managed_sync_copy(cu, b->buf, b->host, 0)
                                                        : TB_OK;
    return b->kind->from_host(cu, b->buf, b->host, n);
}

tb_status_t tb_membuf_pull(const tb_membuf_t *b, const tb_cuda_t *cu, size_t n)
{
    if (b->host == b->buf)
        return b->kind && b->kind->id == TB_MEM_MANAGED ? managed_sync_copy(cu, b->host, b->buf, 0)
                                                        : TB_OK;
    return b->kind->to_host(cu, b->host, b->buf, n);
}

const char *tb_mem_transfer(const tb_mem_kind_t *send, const tb_mem_kind_t *recv,
                            int mpi_cuda_aware)
{
    if (send->id != TB_MEM_DEVICE && recv->id != TB_MEM_DEVICE)
        return "direct";
    return mpi_cuda_aware ? "cuda-aware" : "staged";
}

tb_status_t tb_xferbuf_alloc(tb_xferbuf_t *x, const tb_mem_kind_t *k, const tb_cuda_t *cu,
                             size_t bytes, int mpi_cuda_aware)
{
    tb_status_t st;
    memset(x, 0, sizeof(*x));
    if ((st = tb_membuf_alloc(&x->mem, k, cu, bytes)))
        return st;
    x->mpi = x->mem.buf;
    if (k->id == TB_MEM_DEVICE && !mpi_cuda_aware) {
        if ((st = kinds[TB_MEM_PINNED].alloc(cu, bytes, &x->stage))) {
            tb_membuf_free(&x->mem, cu);
            memset(x, 0, sizeof(*x));
            return st;
        }
        x->mpi = x->stage;
    }
    return TB_OK;
}

void tb_xferbuf_free(tb_xferbuf_t *x, const tb_cuda_t *cu)
{
    if (x->stage)
        kinds[TB_MEM_PINNED].free(cu, x->stage);
    tb_membuf_free(&x->mem, cu);
    memset(x, 0, sizeof(*x));
}

tb_status_t tb_xferbuf_stage_out(const tb_xferbuf_t *x, const tb_cuda_t *cu, size_t offset,
                                 size_t n)
{
    return x->stage && n ? device_to_host(cu, (char *)x->stage + offset,
                                          (const char *)x->mem.buf + offset, n)
                         : TB_OK;
}

tb_status_t tb_xferbuf_stage_in(const tb_xferbuf_t *x, const tb_cuda_t *cu, size_t offset,
                                size_t n)
{
    return x->stage && n ? device_from_host(cu, (char *)x->mem.buf + offset,
                                            (const char *)x->stage + offset, n)
                         : TB_OK;
}
