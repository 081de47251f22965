/* A test double of the CUDA runtime: fake devices whose memory is host memory, streams and
 * events that time host work, graph capture that records and replays, peer access and a
 * corruption fault. What it implements and its switches: gpudouble.h. Its figures mean
 * nothing about any GPU; it keeps topobench's GPU code paths running in CI. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda.h"
#include "gpudouble.h"

/* Every definition below matches the prototypes topobench loads (and, where the CUDA
 * headers are present, cuda_runtime_api.h's: cuda.h includes it). */
#define TB_DOUBLE_DECL(name, ret, args, optional, other) ret cuda##name args;
TB_CUDA_FUNCS(TB_DOUBLE_DECL)
#undef TB_DOUBLE_DECL

#define MAX_DEVICES 64
#define DEVICE_MEM ((size_t)80 << 30)
#define ERR_HOST_ALREADY_REGISTERED 712
#define ERR_HOST_NOT_REGISTERED 713
#define ERR_CAPTURE_INVALIDATED 901
#define PROP_UUID 256
#define PROP_TOTAL_MEM 288

/* ---- allocations ---- */

enum { MEM_DEVICE, MEM_PINNED, MEM_REGISTERED, MEM_MANAGED };

typedef struct alloc {
    struct alloc *next;
    unsigned char *host; /* host address of the bytes */
    size_t size;
    int kind, device;    /* device: visible index at allocation */
} alloc_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static alloc_t *allocs;
static size_t used[MAX_DEVICES];
static unsigned char peer_on[MAX_DEVICES][MAX_DEVICES];
static _Thread_local int cur_dev;
static _Thread_local tb_cuda_err_t last_err;

static tb_cuda_err_t fail(tb_cuda_err_t e)
{
    if (e)
        last_err = e;
    return e;
}

/* The allocation holding [p, p + n) (host address), or NULL. Under the lock. */
static alloc_t *find(const unsigned char *p, size_t n)
{
    for (alloc_t *a = allocs; a; a = a->next)
        if (p >= a->host && p <= a->host + a->size && n <= (size_t)(a->host + a->size - p))
            return a;
    return NULL;
}

static tb_cuda_err_t add_alloc(unsigned char *host, size_t size, int kind)
{
    alloc_t *a = calloc(1, sizeof(*a));
    if (!a)
        return TB_CUDA_ERR_MEMORY_ALLOCATION;
    a->host = host;
    a->size = size;
    a->kind = kind;
    a->device = cur_dev;
    pthread_mutex_lock(&lock);
    a->next = allocs;
    allocs = a;
    if (kind == MEM_DEVICE && cur_dev < MAX_DEVICES)
        used[cur_dev] += size;
    pthread_mutex_unlock(&lock);
    return TB_CUDA_SUCCESS;
}

/* Removes and returns the allocation starting at host with this kind. */
static alloc_t *take_alloc(const void *host, int kind)
{
    alloc_t **pp, *a = NULL;
    pthread_mutex_lock(&lock);
    for (pp = &allocs; *pp; pp = &(*pp)->next)
        if ((*pp)->host == host && (*pp)->kind == kind) {
            a = *pp;
            *pp = a->next;
            if (kind == MEM_DEVICE && a->device < MAX_DEVICES)
                used[a->device] -= a->size;
            break;
        }
    pthread_mutex_unlock(&lock);
    return a;
}

/* ---- devices ---- */

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    char *end;
    long n;
    if (!v || !*v)
        return dflt;
    n = strtol(v, &end, 10);
    return *end || n < 0 || n > MAX_DEVICES ? dflt : (int)n;
}

static void uuid_of(int phys, unsigned char u[16])
{
    static const unsigned char base[16] = {0x7d, 0x0b, 0x1e, 0x00, 0, 0, 0x4a, 0x11,
                                           0x9e, 0x5b, 0xd0, 0x0b, 0x1e, 0x00, 0, 0};
    memcpy(u, base, 16);
    u[5] = (unsigned char)phys;
    u[15] = (unsigned char)phys;
}

static void uuid_text(int phys, char *buf, size_t len)
{
    unsigned char u[16];
    uuid_of(phys, u);
    snprintf(buf, len, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* Visible devices: their physical indices in visible order; returns the count, or -1 when
 * TOPOBENCH_DOUBLE_DEVICES is 0 (no device at all). Read on every call, so a test can
 * change the environment between calls. */
static int visible(int phys[MAX_DEVICES])
{
    int n = env_int("TOPOBENCH_DOUBLE_DEVICES", 4), nv = 0;
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    if (n == 0)
        return -1;
    if (!cvd) {
        for (int i = 0; i < n; i++)
            phys[nv++] = i;
        return nv;
    }
    /* As CUDA: a comma list of indices or UUIDs; parsing stops at the first invalid one. */
    for (const char *p = cvd; *p && nv < MAX_DEVICES;) {
        char tok[64];
        size_t k = strcspn(p, ",");
        int idx = -1;
        snprintf(tok, sizeof(tok), "%.*s", (int)(k < sizeof(tok) - 1 ? k : sizeof(tok) - 1), p);
        if (!strncmp(tok, "GPU-", 4)) {
            for (int i = 0; i < n; i++) {
                char u[48];
                uuid_text(i, u, sizeof(u));
                if (!strncmp(u, tok, strlen(tok)))
                    idx = i;
            }
        } else {
            char *end;
            long v = strtol(tok, &end, 10);
            if (end != tok && !*end && v >= 0 && v < n)
                idx = (int)v;
        }
        if (idx < 0)
            break;
        phys[nv++] = idx;
        p += k;
        if (*p == ',')
            p++;
    }
    return nv;
}

static int phys_of(int dev)
{
    int phys[MAX_DEVICES], n = visible(phys);
    return dev >= 0 && dev < n ? phys[dev] : -1;
}

tb_cuda_err_t cudaGetDeviceCount(int *count)
{
    int phys[MAX_DEVICES], n = visible(phys);
    *count = n > 0 ? n : 0;
    return n > 0 ? TB_CUDA_SUCCESS : fail(TB_CUDA_ERR_NO_DEVICE);
}

tb_cuda_err_t cudaSetDevice(int device)
{
    if (phys_of(device) < 0)
        return fail(TB_CUDA_ERR_INVALID_DEVICE);
    cur_dev = device;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaGetDevice(int *device)
{
    *device = cur_dev;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaGetDeviceProperties(tb_cuda_prop_t *prop, int device)
{
    unsigned char *p = (unsigned char *)(void *)prop, u[16];
    size_t mem = DEVICE_MEM;
    int phys = phys_of(device);
    if (phys < 0)
        return fail(TB_CUDA_ERR_INVALID_DEVICE);
    memset(p, 0, PROP_TOTAL_MEM + sizeof(size_t));
    snprintf((char *)p, 256, "topobench double GPU %d", phys);
    uuid_of(phys, u);
    memcpy(p + PROP_UUID, u, 16);
    memcpy(p + PROP_TOTAL_MEM, &mem, sizeof(mem));
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaDeviceGetAttribute(int *value, tb_cuda_attr_t attr, int device)
{
    int phys = phys_of(device);
    if (phys < 0)
        return fail(TB_CUDA_ERR_INVALID_DEVICE);
    switch ((int)attr) {
    case TB_CUDA_ATTR_PCI_BUS_ID:
        *value = (0x18 + 0x20 * phys) & 0xff;
        break;
    case TB_CUDA_ATTR_PCI_DEVICE_ID:
    case TB_CUDA_ATTR_PCI_DOMAIN_ID:
        *value = 0;
        break;
    case TB_CUDA_ATTR_ASYNC_ENGINE_COUNT:
        *value = 2;
        break;
    case TB_CUDA_ATTR_CC_MAJOR:
        *value = 9;
        break;
    case TB_CUDA_ATTR_CC_MINOR:
        *value = 0;
        break;
    case TB_CUDA_ATTR_UNIFIED_ADDRESSING:
    case TB_CUDA_ATTR_MANAGED_MEMORY:
    case TB_CUDA_ATTR_CONCURRENT_MANAGED_ACCESS:
        *value = 1;
        break;
    default:
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    }
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaDeviceGetPCIBusId(char *pciBusId, int len, int device)
{
    int phys = phys_of(device);
    if (phys < 0)
        return fail(TB_CUDA_ERR_INVALID_DEVICE);
    if (len < 13)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    snprintf(pciBusId, (size_t)len, "00000000:%02X:00.0", (0x18 + 0x20 * phys) & 0xff);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaDriverGetVersion(int *driverVersion)
{
    *driverVersion = 13000;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaRuntimeGetVersion(int *runtimeVersion)
{
    *runtimeVersion = 13000;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaDeviceSynchronize(void)
{
    return TB_CUDA_SUCCESS; /* all work ran when it was queued */
}

tb_cuda_err_t cudaMemGetInfo(size_t *free_p, size_t *total)
{
    size_t u;
    pthread_mutex_lock(&lock);
    u = cur_dev < MAX_DEVICES ? used[cur_dev] : 0;
    pthread_mutex_unlock(&lock);
    *total = DEVICE_MEM;
    *free_p = u < DEVICE_MEM ? DEVICE_MEM - u : 0;
    return TB_CUDA_SUCCESS;
}

/* Whether TOPOBENCH_DOUBLE_NO_PEER lists the pair of physical indices. */
static int no_peer(int a, int b)
{
    const char *v = getenv("TOPOBENCH_DOUBLE_NO_PEER");
    int x, y, k;
    while (v && *v) {
        if (sscanf(v, "%d-%d%n", &x, &y, &k) != 2)
            break;
        if ((x == a && y == b) || (x == b && y == a))
            return 1;
        v += k;
        if (*v == ',')
            v++;
    }
    return 0;
}

tb_cuda_err_t cudaDeviceCanAccessPeer(int *canAccessPeer, int device, int peerDevice)
{
    int a = phys_of(device), b = phys_of(peerDevice);
    if (a < 0 || b < 0)
        return fail(TB_CUDA_ERR_INVALID_DEVICE);
    *canAccessPeer = device != peerDevice && !no_peer(a, b);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaDeviceEnablePeerAccess(int peerDevice, unsigned int flags)
{
    int can = 0;
    tb_cuda_err_t e;
    if (flags)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    if ((e = cudaDeviceCanAccessPeer(&can, cur_dev, peerDevice)))
        return e;
    if (!can)
        return fail(TB_CUDA_ERR_PEER_ACCESS_UNSUPPORTED);
    pthread_mutex_lock(&lock);
    e = peer_on[cur_dev][peerDevice] ? TB_CUDA_ERR_PEER_ACCESS_ALREADY_ENABLED : TB_CUDA_SUCCESS;
    peer_on[cur_dev][peerDevice] = 1;
    pthread_mutex_unlock(&lock);
    return fail(e);
}

/* ---- errors ---- */

static const struct {
    int code;
    const char *name, *text;
} errors[] = {
    {0, "cudaSuccess", "no error"},
    {1, "cudaErrorInvalidValue", "invalid argument"},
    {2, "cudaErrorMemoryAllocation", "out of memory"},
    {35, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {100, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {101, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {217, "cudaErrorPeerAccessUnsupported", "peer access is not supported between these two devices"},
    {400, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {600, "cudaErrorNotReady", "device not ready"},
    {704, "cudaErrorPeerAccessAlreadyEnabled", "peer access is already enabled"},
    {712, "cudaErrorHostMemoryAlreadyRegistered",
     "part or all of the requested memory range is already mapped"},
    {713, "cudaErrorHostMemoryNotRegistered", "pointer does not correspond to a registered memory region"},
    {801, "cudaErrorNotSupported", "operation not supported"},
    {900, "cudaErrorStreamCaptureUnsupported", "operation not permitted when stream is capturing"},
    {901, "cudaErrorStreamCaptureInvalidated", "operation failed due to a previous error during capture"},
};

const char *cudaGetErrorString(tb_cuda_err_t error)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].code == (int)error)
            return errors[i].text;
    return "unrecognized error code";
}

const char *cudaGetErrorName(tb_cuda_err_t error)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].code == (int)error)
            return errors[i].name;
    return "cudaErrorUnknown";
}

tb_cuda_err_t cudaGetLastError(void)
{
    tb_cuda_err_t e = last_err;
    last_err = TB_CUDA_SUCCESS;
    return e;
}

/* ---- memory ---- */

static tb_cuda_err_t host_alloc(void **p, size_t size, int kind)
{
    void *m = NULL;
    tb_cuda_err_t e;
    if (!p)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    *p = NULL;
    if (size == 0)
        return TB_CUDA_SUCCESS;
    if (posix_memalign(&m, 4096, size))
        return fail(TB_CUDA_ERR_MEMORY_ALLOCATION);
    if ((e = add_alloc(m, size, kind))) {
        free(m);
        return fail(e);
    }
    *p = m;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaMalloc(void **devPtr, size_t size)
{
    tb_cuda_err_t e;
    if (phys_of(cur_dev) < 0)
        return fail(TB_CUDA_ERR_NO_DEVICE);
    if ((e = host_alloc(devPtr, size, MEM_DEVICE)) || !*devPtr)
        return e;
    *devPtr = (void *)((uintptr_t)*devPtr + TB_DOUBLE_DEV_OFFSET);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaFree(void *devPtr)
{
    alloc_t *a;
    if (!devPtr)
        return TB_CUDA_SUCCESS;
    if (!TB_DOUBLE_IS_DEV(devPtr) || !(a = take_alloc(TB_DOUBLE_HOST_OF(devPtr), MEM_DEVICE))) {
        /* cudaFree frees managed memory too. */
        if (!(a = take_alloc(devPtr, MEM_MANAGED)))
            return fail(TB_CUDA_ERR_INVALID_VALUE);
    }
    free(a->host);
    free(a);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaHostAlloc(void **pHost, size_t size, unsigned int flags)
{
    (void)flags;
    return host_alloc(pHost, size, MEM_PINNED);
}

tb_cuda_err_t cudaFreeHost(void *ptr)
{
    alloc_t *a;
    if (!ptr)
        return TB_CUDA_SUCCESS;
    if (!(a = take_alloc(ptr, MEM_PINNED)))
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    free(a->host);
    free(a);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaHostRegister(void *ptr, size_t size, unsigned int flags)
{
    alloc_t *a;
    (void)flags;
    if (!ptr || !size || TB_DOUBLE_IS_DEV(ptr))
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    pthread_mutex_lock(&lock);
    a = find(ptr, 1);
    pthread_mutex_unlock(&lock);
    if (a)
        return fail(ERR_HOST_ALREADY_REGISTERED);
    return fail(add_alloc(ptr, size, MEM_REGISTERED));
}

tb_cuda_err_t cudaHostUnregister(void *ptr)
{
    alloc_t *a = take_alloc(ptr, MEM_REGISTERED);
    if (!a)
        return fail(ERR_HOST_NOT_REGISTERED);
    free(a); /* the memory is the caller's */
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaMallocManaged(void **devPtr, size_t size, unsigned int flags)
{
    if (flags != TB_CUDA_MEM_ATTACH_GLOBAL && flags != 4 /* cudaMemAttachHost */)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    return host_alloc(devPtr, size, MEM_MANAGED);
}

tb_cuda_err_t cudaPointerGetAttributes(tb_cuda_ptr_attr_t *attributes, const void *ptr)
{
    const unsigned char *h = TB_DOUBLE_HOST_OF(ptr);
    alloc_t *a;
    int kind = -1, dev = -1;
    pthread_mutex_lock(&lock);
    a = find(h, 1);
    if (a && (a->kind == MEM_DEVICE) == (TB_DOUBLE_IS_DEV(ptr) != 0)) {
        kind = a->kind;
        dev = a->device;
    }
    pthread_mutex_unlock(&lock);
    memset(attributes, 0, sizeof(*attributes));
    attributes->device = dev;
    switch (kind) {
    case MEM_DEVICE:
        attributes->type = TB_CUDA_MEMORY_DEVICE;
        attributes->devicePointer = (void *)(uintptr_t)ptr;
        break;
    case MEM_MANAGED:
        attributes->type = TB_CUDA_MEMORY_MANAGED;
        attributes->devicePointer = attributes->hostPointer = (void *)(uintptr_t)ptr;
        break;
    case MEM_PINNED:
    case MEM_REGISTERED:
        attributes->type = TB_CUDA_MEMORY_HOST;
        attributes->devicePointer = attributes->hostPointer = (void *)(uintptr_t)ptr;
        break;
    default:
        attributes->type = TB_CUDA_MEMORY_UNREGISTERED;
        break;
    }
    return TB_CUDA_SUCCESS;
}

/* Whether p (n bytes) is device memory: 1 device, 0 host, -1 a device address outside
 * every allocation. Managed memory counts as both. */
static int where(const void *p, size_t n, int *managed)
{
    alloc_t *a;
    int r;
    *managed = 0;
    pthread_mutex_lock(&lock);
    if (TB_DOUBLE_IS_DEV(p)) {
        a = find(TB_DOUBLE_HOST_OF(p), n);
        r = a && a->kind == MEM_DEVICE ? 1 : -1;
    } else {
        a = find(p, n);
        *managed = a && a->kind == MEM_MANAGED;
        r = 0;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

static int fault_rank_matches(const char *spec)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    const char *colon = strchr(spec, ':');
    if (!colon)
        return 1;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v) == atoi(colon + 1);
    }
    return atoi(colon + 1) == 0;
}

/* The copy itself, after the pointers were checked. */
static tb_cuda_err_t copy(void *dst, const void *src, size_t count, int kind)
{
    int dm, sm, d, s;
    const char *fault;
    if (count == 0)
        return TB_CUDA_SUCCESS;
    if (!dst || !src)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    d = where(dst, count, &dm);
    s = where(src, count, &sm);
    if (d < 0 || s < 0)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    /* The kind must agree with the pointers (managed memory is both). */
    switch (kind) {
    case TB_CUDA_MEMCPY_H2H:
        if (d || s)
            return fail(TB_CUDA_ERR_INVALID_VALUE);
        break;
    case TB_CUDA_MEMCPY_H2D:
        if ((!d && !dm) || s)
            return fail(TB_CUDA_ERR_INVALID_VALUE);
        break;
    case TB_CUDA_MEMCPY_D2H:
        if (d || (!s && !sm))
            return fail(TB_CUDA_ERR_INVALID_VALUE);
        break;
    case TB_CUDA_MEMCPY_D2D:
        if ((!d && !dm) || (!s && !sm))
            return fail(TB_CUDA_ERR_INVALID_VALUE);
        break;
    case TB_CUDA_MEMCPY_DEFAULT:
        break;
    default:
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    }
    memmove(TB_DOUBLE_HOST_OF(dst), TB_DOUBLE_HOST_OF(src), count);
    fault = getenv("TOPOBENCH_DOUBLE_FAULT");
    if (fault && !strncmp(fault, "corrupt_d2h", 11) && (s || sm) && !d &&
        fault_rank_matches(fault))
        ((unsigned char *)dst)[0] ^= 0x5a;
    return TB_CUDA_SUCCESS;
}

static tb_cuda_err_t set(void *devPtr, int value, size_t count)
{
    int m;
    if (count == 0)
        return TB_CUDA_SUCCESS;
    if (where(devPtr, count, &m) != 1 && !m)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    memset(TB_DOUBLE_HOST_OF(devPtr), value, count);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaMemcpy(void *dst, const void *src, size_t count, tb_cuda_memcpy_kind_t kind)
{
    return copy(dst, src, count, (int)kind);
}

tb_cuda_err_t cudaMemset(void *devPtr, int value, size_t count)
{
    return set(devPtr, value, count);
}

/* ---- streams, events, graphs ---- */

enum { OP_COPY, OP_SET, OP_EVENT, OP_FN };

typedef struct op {
    int type;
    void *dst;
    const void *src;
    size_t count;
    int kind, value;
    struct CUevent_st *event;
    void (*fn)(void *);
    void *arg; /* owned copy */
} op_t;

typedef struct oplist {
    op_t *ops;
    size_t n, cap;
} oplist_t;

struct CUstream_st {
    int device;
    int capturing;
    tb_cuda_err_t capture_err;
    oplist_t captured;
};

struct CUevent_st {
    int recorded, timing;
    struct timespec t;
};

struct CUgraph_st {
    oplist_t ops;
};

struct CUgraphExec_st {
    oplist_t ops;
};

static void ops_free(oplist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ops[i].arg);
    free(l->ops);
    memset(l, 0, sizeof(*l));
}

static int ops_push(oplist_t *l, const op_t *op)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        op_t *n = realloc(l->ops, cap * sizeof(*n));
        if (!n)
            return -1;
        l->ops = n;
        l->cap = cap;
    }
    l->ops[l->n++] = *op;
    return 0;
}

static int ops_copy(oplist_t *to, const oplist_t *from)
{
    memset(to, 0, sizeof(*to));
    for (size_t i = 0; i < from->n; i++) {
        op_t op = from->ops[i];
        if (op.arg) {
            void *a = malloc(op.count);
            if (!a) {
                ops_free(to);
                return -1;
            }
            memcpy(a, op.arg, op.count);
            op.arg = a;
        }
        if (ops_push(to, &op)) {
            free(op.arg);
            ops_free(to);
            return -1;
        }
    }
    return 0;
}

static tb_cuda_err_t run_op(const op_t *op)
{
    switch (op->type) {
    case OP_COPY:
        return copy(op->dst, op->src, op->count, op->kind);
    case OP_SET:
        return set(op->dst, op->value, op->count);
    case OP_EVENT:
        clock_gettime(CLOCK_MONOTONIC, &op->event->t);
        op->event->recorded = 1;
        return TB_CUDA_SUCCESS;
    case OP_FN:
        op->fn(op->arg);
        return TB_CUDA_SUCCESS;
    }
    return TB_CUDA_ERR_INVALID_VALUE;
}

/* Runs the operation now, or records it while the stream is captured (an error found
 * while capturing invalidates the capture, as in CUDA). Takes op->arg. */
static tb_cuda_err_t submit(struct CUstream_st *s, op_t *op)
{
    tb_cuda_err_t e;
    if (s && s->capturing) {
        if (ops_push(&s->captured, op)) {
            free(op->arg);
            s->capture_err = ERR_CAPTURE_INVALIDATED;
            return fail(TB_CUDA_ERR_MEMORY_ALLOCATION);
        }
        return TB_CUDA_SUCCESS;
    }
    e = run_op(op);
    free(op->arg);
    return e;
}

int tb_double_enqueue(struct CUstream_st *stream, void (*fn)(void *arg), const void *arg,
                      size_t arg_size)
{
    op_t op = {.type = OP_FN, .fn = fn, .count = arg_size};
    if (!fn)
        return TB_CUDA_ERR_INVALID_VALUE;
    if (arg_size) {
        if (!(op.arg = malloc(arg_size)))
            return TB_CUDA_ERR_INVALID_VALUE;
        memcpy(op.arg, arg, arg_size);
    }
    return (int)submit(stream, &op);
}

tb_cuda_err_t cudaMemcpyAsync(void *dst, const void *src, size_t count,
                              tb_cuda_memcpy_kind_t kind, tb_cuda_stream_t stream)
{
    op_t op = {.type = OP_COPY, .dst = dst, .src = src, .count = count, .kind = (int)kind};
    return submit(stream, &op);
}

tb_cuda_err_t cudaMemcpyPeerAsync(void *dst, int dstDevice, const void *src, int srcDevice,
                                  size_t count, tb_cuda_stream_t stream)
{
    op_t op = {.type = OP_COPY, .dst = dst, .src = src, .count = count,
               .kind = TB_CUDA_MEMCPY_D2D};
    if (phys_of(dstDevice) < 0 || phys_of(srcDevice) < 0)
        return fail(TB_CUDA_ERR_INVALID_DEVICE);
    return submit(stream, &op);
}

tb_cuda_err_t cudaMemsetAsync(void *devPtr, int value, size_t count, tb_cuda_stream_t stream)
{
    op_t op = {.type = OP_SET, .dst = devPtr, .count = count, .value = value};
    return submit(stream, &op);
}

tb_cuda_err_t cudaStreamCreateWithFlags(tb_cuda_stream_t *pStream, unsigned int flags)
{
    struct CUstream_st *s;
    (void)flags;
    if (!pStream || !(s = calloc(1, sizeof(*s))))
        return fail(TB_CUDA_ERR_MEMORY_ALLOCATION);
    s->device = cur_dev;
    *pStream = s;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaStreamDestroy(tb_cuda_stream_t stream)
{
    if (!stream)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    ops_free(&stream->captured);
    free(stream);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaStreamSynchronize(tb_cuda_stream_t stream)
{
    if (stream && stream->capturing)
        return fail(TB_CUDA_ERR_CAPTURE_UNSUPPORTED);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaStreamQuery(tb_cuda_stream_t stream)
{
    return cudaStreamSynchronize(stream);
}

tb_cuda_err_t cudaStreamWaitEvent(tb_cuda_stream_t stream, tb_cuda_event_t event,
                                  unsigned int flags)
{
    (void)stream;
    (void)flags;
    return event ? TB_CUDA_SUCCESS : fail(TB_CUDA_ERR_INVALID_HANDLE);
}

tb_cuda_err_t cudaEventCreateWithFlags(tb_cuda_event_t *event, unsigned int flags)
{
    struct CUevent_st *e;
    if (!event || !(e = calloc(1, sizeof(*e))))
        return fail(TB_CUDA_ERR_MEMORY_ALLOCATION);
    e->timing = !(flags & TB_CUDA_EVENT_DISABLE_TIMING);
    *event = e;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaEventRecord(tb_cuda_event_t event, tb_cuda_stream_t stream)
{
    op_t op = {.type = OP_EVENT, .event = event};
    if (!event)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    return submit(stream, &op);
}

tb_cuda_err_t cudaEventSynchronize(tb_cuda_event_t event)
{
    return event ? TB_CUDA_SUCCESS : fail(TB_CUDA_ERR_INVALID_HANDLE);
}

#ifndef TB_DOUBLE_OMIT_EVENT_ELAPSED
tb_cuda_err_t cudaEventElapsedTime(float *ms, tb_cuda_event_t start, tb_cuda_event_t end)
{
    if (!ms || !start || !end || !start->recorded || !end->recorded)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    if (!start->timing || !end->timing)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    *ms = (float)((double)(end->t.tv_sec - start->t.tv_sec) * 1e3 +
                  (double)(end->t.tv_nsec - start->t.tv_nsec) / 1e6);
    return TB_CUDA_SUCCESS;
}
#endif

tb_cuda_err_t cudaEventDestroy(tb_cuda_event_t event)
{
    if (!event)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    free(event);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaStreamBeginCapture(tb_cuda_stream_t stream, tb_cuda_capture_mode_t mode)
{
    (void)mode;
    /* The legacy default stream cannot be captured. */
    if (!stream || stream->capturing)
        return fail(TB_CUDA_ERR_CAPTURE_UNSUPPORTED);
    stream->capturing = 1;
    stream->capture_err = TB_CUDA_SUCCESS;
    memset(&stream->captured, 0, sizeof(stream->captured));
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaStreamEndCapture(tb_cuda_stream_t stream, tb_cuda_graph_t *pGraph)
{
    struct CUgraph_st *g;
    if (!stream || !stream->capturing)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    stream->capturing = 0;
    if (stream->capture_err) {
        ops_free(&stream->captured);
        return fail(stream->capture_err);
    }
    if (!(g = calloc(1, sizeof(*g)))) {
        ops_free(&stream->captured);
        return fail(TB_CUDA_ERR_MEMORY_ALLOCATION);
    }
    g->ops = stream->captured;
    memset(&stream->captured, 0, sizeof(stream->captured));
    *pGraph = g;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaGraphInstantiateWithFlags(tb_cuda_graph_exec_t *pGraphExec,
                                            tb_cuda_graph_t graph, unsigned long long flags)
{
    struct CUgraphExec_st *x;
    (void)flags;
    if (!graph || !pGraphExec)
        return fail(TB_CUDA_ERR_INVALID_VALUE);
    if (!(x = calloc(1, sizeof(*x))) || ops_copy(&x->ops, &graph->ops)) {
        free(x);
        return fail(TB_CUDA_ERR_MEMORY_ALLOCATION);
    }
    *pGraphExec = x;
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaGraphLaunch(tb_cuda_graph_exec_t graphExec, tb_cuda_stream_t stream)
{
    (void)stream;
    if (!graphExec)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    for (size_t i = 0; i < graphExec->ops.n; i++) {
        tb_cuda_err_t e = run_op(&graphExec->ops.ops[i]);
        if (e)
            return fail(e);
    }
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaGraphExecDestroy(tb_cuda_graph_exec_t graphExec)
{
    if (!graphExec)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    ops_free(&graphExec->ops);
    free(graphExec);
    return TB_CUDA_SUCCESS;
}

tb_cuda_err_t cudaGraphDestroy(tb_cuda_graph_t graph)
{
    if (!graph)
        return fail(TB_CUDA_ERR_INVALID_HANDLE);
    ops_free(&graph->ops);
    free(graph);
    return TB_CUDA_SUCCESS;
}
