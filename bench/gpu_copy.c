/* Each node's GPU copy matrix, measured as nvbandwidth measures its copy-engine cases
 * (read from its source, none of it copied): a buffer of --copy-size bytes (nvbandwidth:
 * 512 MiB), warm-up copies, then --copy-samples batches (nvbandwidth: 3) of 16
 * back-to-back asynchronous copies on one stream, each batch timed by CUDA events
 * recorded before and after it; the figure is the median over batches of
 * size x 16 / batch time. Both-ways copies run two batches at once, one stream per
 * direction, the second stream started by the first one's start event; each direction
 * is timed on its own stream and reported on its own (nvbandwidth's device-to-device
 * bidirectional "write" test, whose total is the sum of the two).
 *
 * Endpoints of a node: its NUMA nodes (from the topology the run discovered), then the
 * GPUs its local rank 0 sees, in CUDA order. The matrices are square over the endpoints,
 * cell [i][j] copying from endpoint i to endpoint j:
 *   NUMA -> GPU   host to device from pinned memory placed on that NUMA node
 *   GPU -> NUMA   device to host into pinned memory placed on that NUMA node
 *   GPU -> GPU    device to device (cudaMemcpyPeerAsync on the source GPU's stream)
 *   GPU -> itself device-local copy (the diagonal)
 * One process drives all of a node's GPUs: a device-to-device copy needs both devices in
 * one process (no IPC handles), and one driver per node runs the cells one after another
 * as nvbandwidth does, so two cells never share a copy engine or a link. The nodes do not
 * share these links, so every node measures at once. */
#include "gpu_copy.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/mempolicy.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cuda.h"
#include "harness.h"
#include "mem.h"
#include "topo.h"
#include "watchdog.h"

#define TEST_NAME "gpu_copy"

/* ---------------------------------------------------------------------------------------
 * Host memory placed on one NUMA node.
 *
 * The thread that allocates pinned memory is bound to the node (memory policy MPOL_BIND,
 * and its CPUs to the node's cores) while it allocates, so the pages the driver pins are
 * the node's; then the page of the first, middle and last byte is asked where it lives
 * (get_mempolicy), and the answer is recorded, so a binding the kernel did not honour is
 * seen, never assumed. Plain Linux system calls: no libnuma at build or run time.
 * ------------------------------------------------------------------------------------- */

#define NODEMASK_BITS 1024

/* A CPU list in hwloc's list syntax ("0-23,48-71") into *set; -1 when malformed. */
static int cpulist_parse(const char *list, cpu_set_t *set)
{
    const char *p = list;
    CPU_ZERO(set);
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0)
            return -1;
        b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a)
                return -1;
        }
        for (long c = a; c <= b && c < CPU_SETSIZE; c++)
            CPU_SET((int)c, set);
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return CPU_COUNT(set) ? 0 : -1;
}

typedef struct numa_binding {
    cpu_set_t old_cpus;
    int cpus_bound, mem_bound;
} numa_binding_t;

/* Binds this thread to NUMA node `node` (memory) and `cpuset` (CPUs, "" to leave them).
 * Writes why it could not into `why` (the binding that worked stays). */
static void numa_bind(int node, const char *cpuset, numa_binding_t *b, char *why, size_t len)
{
    unsigned long mask[NODEMASK_BITS / (8 * sizeof(unsigned long))];
    cpu_set_t cpus;
    memset(b, 0, sizeof(*b));
    why[0] = '\0';
    if (cpuset[0] && cpulist_parse(cpuset, &cpus) == 0 &&
        sched_getaffinity(0, sizeof(b->old_cpus), &b->old_cpus) == 0) {
        if (sched_setaffinity(0, sizeof(cpus), &cpus) == 0)
            b->cpus_bound = 1;
        else
            snprintf(why, len, "CPUs %s: sched_setaffinity: %s; ", cpuset, strerror(errno));
    }
    if (node < 0 || node >= NODEMASK_BITS) {
        snprintf(why + strlen(why), len - strlen(why), "NUMA node %d out of range", node);
        return;
    }
    memset(mask, 0, sizeof(mask));
    mask[(size_t)node / (8 * sizeof(unsigned long))] |= 1UL << ((size_t)node % (8 * sizeof(unsigned long)));
    /* The kernel reads maxnode - 1 bits. */
    if (syscall(SYS_set_mempolicy, MPOL_BIND, mask, (unsigned long)NODEMASK_BITS + 1) == 0)
        b->mem_bound = 1;
    else
        snprintf(why + strlen(why), len - strlen(why), "set_mempolicy(MPOL_BIND, node %d): %s",
                 node, strerror(errno));
}

static void numa_unbind(const numa_binding_t *b)
{
    if (b->mem_bound)
        (void)syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0UL);
    if (b->cpus_bound)
        (void)sched_setaffinity(0, sizeof(b->old_cpus), &b->old_cpus);
}

/* NUMA node of the page holding `p`, -1 when the kernel does not say. */
static int numa_of(const void *p)
{
    int node = -1;
    if (syscall(SYS_get_mempolicy, &node, NULL, 0UL, p, (unsigned long)(MPOL_F_NODE | MPOL_F_ADDR)) != 0)
        return -1;
    return node;
}

/* Where the pages of [p, p + n) live: the node when its first, middle and last pages
 * agree, -2 when they differ, -1 unknown. */
static int numa_of_buffer(const unsigned char *p, size_t n)
{
    int a = numa_of(p), b = numa_of(p + n / 2), c = numa_of(p + n - 1);
    if (a < 0 || b < 0 || c < 0)
        return -1;
    return a == b && b == c ? a : -2;
}

/* ---------------------------------------------------------------------------------------
 * Endpoints and the node's state.
 * ------------------------------------------------------------------------------------- */

typedef enum { EP_NUMA, EP_GPU } ep_kind_t;

typedef struct ep {
    ep_kind_t kind;
    char label[40];
    int os;       /* NUMA: the OS node number (-1: no topology, unbound host memory);
                   * GPU: the CUDA device ordinal */
    int obj;      /* object in the node's topology, -1 none */
    int numa;     /* GPU: NUMA node it hangs below (topology), -1 unknown */
    char busid[32], uuid[48], model[256]; /* GPU: as the CUDA runtime says */
    char cpuset[128]; /* NUMA: its cores, "" unknown */
    /* GPU: its two buffers, stream and events; NUMA: its two pinned buffers while its
     * row and column are measured. */
    void *src, *dst;
    tb_cuda_stream_t stream;
    tb_cuda_event_t start, stop;
    uint64_t seed; /* pattern of `src` */
    int placed;    /* NUMA: where the pinned pages were found (numa_of_buffer) */
} ep_t;

typedef struct node {
    tb_suite_t *s;
    const tb_cuda_t *cu;
    const tb_topo_t *topo;
    size_t bytes;
    int samples, check, corrupt;
    size_t n, nnuma, ngpu;
    ep_t *ep; /* NUMA nodes first, then GPUs */
    /* n x n, NaN where nothing was measured */
    double *copy, *copy_cv, *bidir, *bidir_cv, *expected, *peer;
    unsigned char *stage; /* pageable host buffer of `bytes`: fills and checks */
    json_t *notes, *errors, *paths, *placement;
    size_t cells_done, cells_total;
    tb_status_t corrupt_st;
} node_t;

#define CELL(nd, m, i, j) ((nd)->m[(i) * (nd)->n + (j)])

static void note(node_t *nd, const char *fmt, ...) TB_PRINTF(2, 3);
static void note(node_t *nd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(nd->notes, json_string(buf));
}

/* Whether two PCI bus ids name the same device: "0000:1B:00.0" (CUDA), "00000000:1b:00.0"
 * (NVML), "1b:00.0". */
static int busid_same(const char *a, const char *b)
{
    unsigned d[2][4];
    const char *s[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        if (sscanf(s[k], "%x:%x:%x.%x", &d[k][0], &d[k][1], &d[k][2], &d[k][3]) == 4)
            continue;
        d[k][0] = 0;
        if (sscanf(s[k], "%x:%x.%x", &d[k][1], &d[k][2], &d[k][3]) != 3)
            return 0;
    }
    return !memcmp(d[0], d[1], sizeof(d[0]));
}

/* ---------------------------------------------------------------------------------------
 * CUDA calls. Each failure is logged with CUDA's own message and file:line, and becomes
 * TB_ERR_INTERNAL (a device that fails mid-measurement is not a skip).
 * ------------------------------------------------------------------------------------- */

/* cu->X(...) through the loader's one checking macro. */
#define CU(nd, call) TB_CUDA_CHECK((nd)->cu, (nd)->cu->call)
#define CU_TRY(nd, call) TB_CUDA_TRY((nd)->cu, (nd)->cu->call)

/* The memory kind of an endpoint's buffers (bench/mem.h): the harness's table allocates,
 * fills and reads them back; the copies between them are the test's own. */
static const tb_mem_kind_t *kind_of(const ep_t *e)
{
    return tb_mem_kind(e->kind == EP_GPU ? TB_MEM_DEVICE : TB_MEM_PINNED);
}

static tb_status_t gpu_setup(node_t *nd, ep_t *g)
{
    const tb_mem_kind_t *k = kind_of(g);
    tb_status_t st;
    CU_TRY(nd, SetDevice(g->os));
    if ((st = k->alloc(nd->cu, nd->bytes, &g->src)) || (st = k->alloc(nd->cu, nd->bytes, &g->dst)))
        return st;
    CU_TRY(nd, StreamCreateWithFlags(&g->stream, TB_CUDA_STREAM_NON_BLOCKING));
    CU_TRY(nd, EventCreateWithFlags(&g->start, TB_CUDA_EVENT_DEFAULT));
    CU_TRY(nd, EventCreateWithFlags(&g->stop, TB_CUDA_EVENT_DEFAULT));
    /* The source carries its pattern for the whole run; destinations are cleared before
     * every check. */
    tb_pattern_fill_bytes(nd->stage, nd->bytes, g->seed, 0);
    return k->from_host(nd->cu, g->src, nd->stage, nd->bytes);
}

static void gpu_teardown(node_t *nd, ep_t *g)
{
    if (nd->cu->SetDevice(g->os) != TB_CUDA_SUCCESS)
        return;
    if (g->start)
        (void)nd->cu->EventDestroy(g->start);
    if (g->stop)
        (void)nd->cu->EventDestroy(g->stop);
    if (g->stream)
        (void)nd->cu->StreamDestroy(g->stream);
    kind_of(g)->free(nd->cu, g->src);
    kind_of(g)->free(nd->cu, g->dst);
    g->src = g->dst = NULL;
}

/* One copy of a cell: from endpoint `from` to `to`, on the stream of GPU `on`. */
typedef struct copy {
    ep_t *from, *to, *on;
} copy_t;

static tb_status_t copy_issue(node_t *nd, const copy_t *c)
{
    void *dst = c->to->dst;
    const void *src = c->from->src;
    if (c->from->kind == EP_GPU && c->to->kind == EP_GPU && c->from != c->to)
        return CU(nd, MemcpyPeerAsync(dst, c->to->os, src, c->from->os, nd->bytes,
                                          c->on->stream));
    return CU(nd, MemcpyAsync(dst, src, nd->bytes,
                                  c->from->kind == EP_NUMA ? TB_CUDA_MEMCPY_H2D
                                  : c->to->kind == EP_NUMA ? TB_CUDA_MEMCPY_D2H
                                                           : TB_CUDA_MEMCPY_D2D,
                                  c->on->stream));
}

/* Warm-up, then the timed batches of `nc` (1 or 2) concurrent copies; per copy the
 * median bandwidth over batches (GB/s) and the spread (cv) of the batch times. */
static tb_status_t copy_measure(node_t *nd, const copy_t *c, int nc, double *gbps, double *cv)
{
    double bw[2][64], t[64];
    int samples = nd->samples;
    tb_status_t st;

    for (int i = 0; i < nc; i++) {
        CU_TRY(nd, SetDevice(c[i].on->os));
        for (int w = 0; w < TB_GPU_COPY_WARMUP; w++)
            if ((st = copy_issue(nd, &c[i])))
                return st;
    }
    for (int i = 0; i < nc; i++)
        CU_TRY(nd, StreamSynchronize(c[i].on->stream));
    tb_wd_beat();
    for (int k = 0; k < samples; k++) {
        /* The second stream starts when the first one's start event has happened, so the
         * two directions overlap from the first copy (nvbandwidth's method). */
        for (int i = 0; i < nc; i++) {
            CU_TRY(nd, SetDevice(c[i].on->os));
            if (i > 0)
                CU_TRY(nd, StreamWaitEvent(c[i].on->stream, c[0].on->start, 0));
            CU_TRY(nd, EventRecord(c[i].on->start, c[i].on->stream));
        }
        for (int b = 0; b < TB_GPU_COPY_BATCH; b++)
            for (int i = 0; i < nc; i++)
                if ((st = copy_issue(nd, &c[i])))
                    return st;
        for (int i = 0; i < nc; i++)
            CU_TRY(nd, EventRecord(c[i].on->stop, c[i].on->stream));
        for (int i = 0; i < nc; i++) {
            float ms = 0;
            CU_TRY(nd, EventSynchronize(c[i].on->stop));
            CU_TRY(nd, EventElapsedTime(&ms, c[i].on->start, c[i].on->stop));
            /* An event pair closer than the timer's resolution gives no figure. */
            bw[i][k] = ms > 0 ? (double)nd->bytes * TB_GPU_COPY_BATCH / (ms * 1e-3) / 1e9 : NAN;
        }
        tb_wd_beat();
    }
    for (int i = 0; i < nc; i++) {
        tb_stats_t stt;
        int ok = 1;
        for (int k = 0; k < samples; k++) {
            ok &= isfinite(bw[i][k]);
            t[k] = ok ? (double)nd->bytes * TB_GPU_COPY_BATCH / (bw[i][k] * 1e9) : 0;
        }
        if (!ok) {
            gbps[i] = cv[i] = NAN;
            continue;
        }
        /* nvbandwidth's figure: the median of the batches' bandwidths. */
        tb_stats_compute(bw[i], (size_t)samples, &stt);
        gbps[i] = stt.median;
        tb_stats_compute(t, (size_t)samples, &stt);
        cv[i] = stt.cv;
    }
    return TB_OK;
}

/* Check copies: every destination cleared, one copy each (concurrently, as measured),
 * then every byte of each destination compared with its source's pattern. */
static tb_status_t copy_check(node_t *nd, const copy_t *c, int nc, const char *measurement)
{
    tb_status_t st;
    for (int i = 0; i < nc; i++) {
        if (c[i].to->kind == EP_GPU)
            CU_TRY(nd, SetDevice(c[i].to->os));
        if ((st = kind_of(c[i].to)->fill(nd->cu, c[i].to->dst, 0, nd->bytes)))
            return st;
    }
    for (int i = 0; i < nc; i++) {
        CU_TRY(nd, SetDevice(c[i].on->os));
        if ((st = copy_issue(nd, &c[i])))
            return st;
    }
    for (int i = 0; i < nc; i++)
        CU_TRY(nd, StreamSynchronize(c[i].on->stream));
    for (int i = 0; i < nc; i++) {
        const unsigned char *got = c[i].to->dst;
        tb_mismatch_t mm = {0};
        if (nd->corrupt) {
            /* Test-only fault: one byte of the first checked copy arrives wrong. */
            size_t off = nd->bytes / 2;
            unsigned char want = tb_pattern_byte(c[i].from->seed, off), bad = (unsigned char)~want;
            nd->corrupt = 0;
            tb_warn("test fault: corrupting byte %zu of the copy %s -> %s", off,
                    c[i].from->label, c[i].to->label);
            if (c[i].to->kind == EP_GPU)
                CU_TRY(nd, SetDevice(c[i].to->os));
            if ((st = kind_of(c[i].to)->fill(nd->cu, (unsigned char *)c[i].to->dst + off, bad, 1)))
                return st;
        }
        if (!kind_of(c[i].to)->host_access) {
            CU_TRY(nd, SetDevice(c[i].to->os));
            if ((st = kind_of(c[i].to)->to_host(nd->cu, nd->stage, c[i].to->dst, nd->bytes)))
                return st;
            got = nd->stage;
        }
        tb_pattern_check_bytes(got, nd->bytes, c[i].from->seed, 0, &mm);
        tb_wd_beat();
        if (!mm.wrong)
            continue;
        tb_log(TB_LOG_ERROR, "data corruption: test '%s' (%s) size %zu %s -> %s: %zu wrong "
               "bytes, first at offset %zu (expected %g, got %g)", TEST_NAME, measurement,
               nd->bytes, c[i].from->label, c[i].to->label, mm.wrong, mm.first_offset,
               mm.expected, mm.got);
        json_array_append_new(nd->errors,
                              json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:f, s:f}", "size",
                                        (json_int_t)nd->bytes, "measurement", measurement,
                                        "from", c[i].from->label, "to", c[i].to->label,
                                        "offset", (json_int_t)mm.first_offset, "wrong",
                                        (json_int_t)mm.wrong, "expected", mm.expected, "got",
                                        mm.got));
        nd->corrupt_st = TB_ERR_CORRUPT;
    }
    return TB_OK;
}

static size_t ep_index(const node_t *nd, const ep_t *e)
{
    return (size_t)(e - nd->ep);
}

/* One cell (one copy) or one both-ways pair (two copies): measure, check, store. */
static tb_status_t cell(node_t *nd, const copy_t *c, int nc)
{
    double gbps[2], cv[2];
    char what[96];
    tb_status_t st;
    snprintf(what, sizeof(what), "%s %s %s", c[0].from->label, nc == 2 ? "<->" : "->",
             c[0].to->label);
    tb_wd_context(TEST_NAME, what, nd->bytes, 0, TB_WD_LOCAL, "copying on this node's GPUs");
    if (nd->s->rt->rank == 0)
        tb_progress_step(&nd->s->progress, (double)nd->cells_done / (double)nd->cells_total,
                         "%s", what);
    if ((st = copy_measure(nd, c, nc, gbps, cv)))
        return st;
    if (nd->check && (st = copy_check(nd, c, nc, nc == 2 ? "bidir" : "copy")))
        return st;
    for (int i = 0; i < nc; i++) {
        size_t a = ep_index(nd, c[i].from), b = ep_index(nd, c[i].to);
        if (nc == 2) {
            CELL(nd, bidir, a, b) = gbps[i];
            CELL(nd, bidir_cv, a, b) = cv[i];
        } else {
            CELL(nd, copy, a, b) = gbps[i];
            CELL(nd, copy_cv, a, b) = cv[i];
        }
    }
    nd->cells_done++;
    return TB_OK;
}

/* Peer access between every ordered GPU pair, enabled where the runtime allows it; the
 * copies of a pair without it still run (the runtime stages them through host memory),
 * and the matrix says which pairs those are. */
static tb_status_t enable_peers(node_t *nd)
{
    ep_t *gpus = nd->ep + nd->nnuma;
    for (size_t a = 0; a < nd->ngpu; a++)
        for (size_t b = 0; b < nd->ngpu; b++) {
            int can = 0;
            tb_cuda_err_t err;
            if (a == b)
                continue;
            CU_TRY(nd, DeviceCanAccessPeer(&can, gpus[a].os, gpus[b].os));
            if (!can) {
                CELL(nd, peer, nd->nnuma + a, nd->nnuma + b) = 0;
                note(nd, "%s -> %s: no peer access (cudaDeviceCanAccessPeer says 0): the runtime "
                     "copies through host memory", gpus[a].label, gpus[b].label);
                continue;
            }
            CU_TRY(nd, SetDevice(gpus[a].os));
            err = nd->cu->DeviceEnablePeerAccess(gpus[b].os, 0);
            if (err != TB_CUDA_SUCCESS && err != TB_CUDA_ERR_PEER_ACCESS_ALREADY_ENABLED) {
                CELL(nd, peer, nd->nnuma + a, nd->nnuma + b) = 0;
                note(nd, "%s -> %s: cudaDeviceEnablePeerAccess failed (%s): the runtime copies "
                     "through host memory", gpus[a].label, gpus[b].label,
                     nd->cu->GetErrorString(err));
            } else {
                CELL(nd, peer, nd->nnuma + a, nd->nnuma + b) = 1;
            }
            /* The failed call's error is not sticky; clear it for the next check. */
            (void)nd->cu->GetLastError();
        }
    return TB_OK;
}

/* The GPU rows and columns: device-local copies, then every ordered pair one way, then
 * every pair both ways. */
static tb_status_t measure_gpus(node_t *nd)
{
    ep_t *g = nd->ep + nd->nnuma;
    tb_status_t st;
    for (size_t a = 0; a < nd->ngpu; a++) {
        copy_t c = {&g[a], &g[a], &g[a]};
        if ((st = cell(nd, &c, 1)))
            return st;
    }
    for (size_t a = 0; a < nd->ngpu; a++)
        for (size_t b = 0; b < nd->ngpu; b++) {
            /* On the source GPU's stream: nvbandwidth's "write" direction. */
            copy_t c = {&g[a], &g[b], &g[a]};
            if (a != b && (st = cell(nd, &c, 1)))
                return st;
        }
    for (size_t a = 0; a < nd->ngpu; a++)
        for (size_t b = a + 1; b < nd->ngpu; b++) {
            copy_t c[2] = {{&g[a], &g[b], &g[a]}, {&g[b], &g[a], &g[b]}};
            if ((st = cell(nd, c, 2)))
                return st;
        }
    return TB_OK;
}

/* One NUMA node's row (host to every GPU) and column (every GPU to host), from pinned
 * buffers allocated while bound to the node. */
static tb_status_t measure_numa(node_t *nd, ep_t *h)
{
    numa_binding_t b;
    char why[256] = "";
    tb_status_t st = TB_OK;
    ep_t *g = nd->ep + nd->nnuma;
    size_t hi = ep_index(nd, h);

    if (h->os >= 0)
        numa_bind(h->os, h->cpuset, &b, why, sizeof(why));
    else
        memset(&b, 0, sizeof(b));
    if (why[0])
        note(nd, "%s: %s", h->label, why);
    /* Pinned and zeroed by the allocating thread, so every page is placed while bound. */
    if ((st = kind_of(h)->alloc(nd->cu, nd->bytes, &h->src)) == TB_OK)
        st = kind_of(h)->alloc(nd->cu, nd->bytes, &h->dst);
    if (st == TB_OK) {
        tb_pattern_fill_bytes(h->src, nd->bytes, h->seed, 0);
        h->placed = numa_of_buffer(h->src, nd->bytes);
    }
    numa_unbind(&b);
    if (st == TB_OK) {
        int dst_at = numa_of_buffer(h->dst, nd->bytes);
        json_object_set_new(nd->placement, h->label,
                            json_pack("{s:b, s:b, s:o, s:o}", "memory_bound", b.mem_bound,
                                      "cpus_bound", b.cpus_bound, "src_node",
                                      h->placed >= 0 ? json_integer(h->placed) : json_null(),
                                      "dst_node",
                                      dst_at >= 0 ? json_integer(dst_at) : json_null()));
        if (h->os >= 0 && (h->placed != h->os || dst_at != h->os))
            note(nd, "%s: pinned buffers found on NUMA node %d and %d (-1: the kernel did not "
                 "say, -2: spread over nodes), not on %d", h->label, h->placed, dst_at, h->os);
    }
    for (size_t k = 0; st == TB_OK && k < nd->ngpu; k++) {
        copy_t up = {h, &g[k], &g[k]}, down = {&g[k], h, &g[k]};
        if ((st = cell(nd, &up, 1)) == TB_OK)
            st = cell(nd, &down, 1);
    }
    kind_of(h)->free(nd->cu, h->src);
    kind_of(h)->free(nd->cu, h->dst);
    h->src = h->dst = NULL;
    (void)hi;
    return st;
}

/* The endpoints: the topology's NUMA nodes (or one unbound host row without topology),
 * then every GPU the CUDA runtime shows, matched to the topology by PCI bus id. */
static tb_status_t endpoints(node_t *nd, int ndev)
{
    const tb_topo_t *t = nd->topo;
    size_t nnuma = t ? tb_topo_count(t, TB_OBJ_NUMA) : 0, k = 0;
    int world = nd->s->rt->rank;

    nd->nnuma = nnuma ? nnuma : 1;
    nd->ngpu = (size_t)ndev;
    /* The matrices are stored inline (docs/results-schema.md): a node has far fewer. */
    if (nd->nnuma + nd->ngpu > TB_DOC_MATRIX_INLINE_MAX) {
        note(nd, "%zu GPUs and %zu NUMA nodes: only the first %zu GPUs are measured",
             nd->ngpu, nd->nnuma, (size_t)TB_DOC_MATRIX_INLINE_MAX - nd->nnuma);
        nd->ngpu = TB_DOC_MATRIX_INLINE_MAX - nd->nnuma;
    }
    nd->n = nd->nnuma + nd->ngpu;
    nd->ep = calloc(nd->n, sizeof(*nd->ep));
    if (!nd->ep)
        return tb_error(TB_ERR_ENV, "gpu_copy: out of memory");
    if (!nnuma) {
        ep_t *e = &nd->ep[k++];
        e->kind = EP_NUMA;
        e->os = e->obj = e->numa = -1;
        snprintf(e->label, sizeof(e->label), "host");
        note(nd, "no NUMA nodes in this node's topology: host memory was not bound to a node");
    }
    for (size_t i = 0; i < nnuma; i++) {
        ep_t *e = &nd->ep[k++];
        int obj = tb_topo_nth(t, TB_OBJ_NUMA, i);
        e->kind = EP_NUMA;
        e->obj = obj;
        e->os = t->objs[obj].os_index;
        e->numa = e->os;
        snprintf(e->cpuset, sizeof(e->cpuset), "%s", t->objs[obj].cpuset);
        snprintf(e->label, sizeof(e->label), "NUMA%d", e->os);
    }
    for (size_t i = 0; i < nd->ngpu; i++) {
        ep_t *e = &nd->ep[k++];
        e->kind = EP_GPU;
        e->os = (int)i;
        e->obj = e->numa = -1;
        tb_cuda_device_t dev;
        tb_status_t st;
        if ((st = tb_cuda_device_info(nd->cu, (int)i, &dev)))
            return st;
        snprintf(e->busid, sizeof(e->busid), "%s", dev.busid);
        snprintf(e->uuid, sizeof(e->uuid), "%s", dev.uuid);
        snprintf(e->model, sizeof(e->model), "%s", dev.name);
        for (size_t j = 0; t && e->busid[0] && j < tb_topo_count(t, TB_OBJ_GPU); j++) {
            int obj = tb_topo_nth(t, TB_OBJ_GPU, j);
            if (t->objs[obj].busid[0] && busid_same(t->objs[obj].busid, e->busid)) {
                e->obj = obj;
                e->numa = t->objs[obj].numa;
            }
        }
        /* The driver's name for it where the topology knows it (GPU2 under
         * CUDA_VISIBLE_DEVICES=2,3 is CUDA device 0), else its CUDA ordinal. */
        if (e->obj >= 0)
            snprintf(e->label, sizeof(e->label), "%s", t->objs[e->obj].name);
        else
            snprintf(e->label, sizeof(e->label), "cuda%d", e->os);
    }
    for (size_t i = 0; i < nd->n; i++)
        nd->ep[i].seed = tb_pattern_seed(world, (long)i + 1, nd->bytes);
    if (t && tb_topo_count(t, TB_OBJ_GPU) > nd->ngpu)
        note(nd, "this rank sees %zu of the node's %zu GPUs (CUDA_VISIBLE_DEVICES=%s): the "
             "others are not in the matrix", nd->ngpu, tb_topo_count(t, TB_OBJ_GPU),
             getenv("CUDA_VISIBLE_DEVICES") ? getenv("CUDA_VISIBLE_DEVICES") : "unset");
    return TB_OK;
}

/* Path class and expected bandwidth of every endpoint pair from the node's topology. */
static void paths(node_t *nd)
{
    for (size_t i = 0; i < nd->n; i++) {
        json_t *row = json_object();
        for (size_t j = 0; j < nd->n; j++) {
            const ep_t *a = &nd->ep[i], *b = &nd->ep[j];
            tb_topo_path_t p;
            char cls[16];
            if (a->kind == EP_NUMA && b->kind == EP_NUMA)
                continue;
            if (i == j) {
                json_object_set_new(row, b->label, json_string("X"));
                continue;
            }
            tb_topo_path(nd->topo, a->obj, b->obj, &p);
            if (p.cls == TB_PATH_NV)
                snprintf(cls, sizeof(cls), "%s%d", p.xgmi ? "XGMI" : "NV", p.nvlinks);
            else
                snprintf(cls, sizeof(cls), "%s",
                         p.cls == TB_PATH_UNKNOWN ? "unknown" : tb_path_class_name(p.cls));
            json_object_set_new(row, b->label, json_string(cls));
            if (p.achievable_gbs > 0)
                CELL(nd, expected, i, j) = p.achievable_gbs;
        }
        json_object_set_new(nd->paths, nd->ep[i].label, row);
    }
}

static json_t *endpoints_json(const node_t *nd)
{
    json_t *a = json_array();
    for (size_t i = 0; i < nd->n; i++) {
        const ep_t *e = &nd->ep[i];
        const tb_topo_obj_t *o = e->obj >= 0 ? &nd->topo->objs[e->obj] : NULL;
        json_t *j = json_pack("{s:s, s:s}", "label", e->label, "kind",
                              e->kind == EP_GPU ? "gpu" : "numa");
        if (e->kind == EP_GPU) {
            json_object_set_new(j, "cuda_device", json_integer(e->os));
            json_object_set_new(j, "busid", json_string(e->busid));
            json_object_set_new(j, "uuid", json_string(e->uuid));
            json_object_set_new(j, "model", json_string(e->model));
            json_object_set_new(j, "topology_object",
                                o ? json_string(o->name) : json_null());
        } else if (e->os >= 0) {
            json_object_set_new(j, "cpuset", json_string(e->cpuset));
        }
        json_object_set_new(j, "numa", e->numa >= 0 ? json_integer(e->numa) : json_null());
        json_array_append_new(a, j);
    }
    return a;
}

/* The node's measurement into `node` (a JSON object); status of the CUDA calls. */
static tb_status_t measure_node(node_t *nd, int ndev, json_t *node)
{
    tb_status_t st;
    double **m[] = {&nd->copy, &nd->copy_cv, &nd->bidir, &nd->bidir_cv, &nd->expected, &nd->peer};
    static const char *const keys[] = {"copy_gbps", "copy_cv", "bidir_gbps", "bidir_cv",
                                       "expected_gbps", "peer_access"};
    double t0 = tb_now();

    if ((st = endpoints(nd, ndev)))
        return st;
    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
        *m[k] = malloc(nd->n * nd->n * sizeof(double));
        if (!*m[k])
            return tb_error(TB_ERR_ENV, "gpu_copy: out of memory");
        for (size_t i = 0; i < nd->n * nd->n; i++)
            (*m[k])[i] = NAN;
    }
    nd->stage = malloc(nd->bytes);
    if (!nd->stage)
        return tb_error(TB_ERR_ENV, "gpu_copy: no host memory for a %zu-byte staging buffer",
                        nd->bytes);
    nd->cells_total = nd->ngpu + nd->ngpu * (nd->ngpu - 1) + nd->ngpu * (nd->ngpu - 1) / 2 +
                      2 * nd->nnuma * nd->ngpu;
    paths(nd);
    for (size_t k = 0; k < nd->ngpu && st == TB_OK; k++)
        st = gpu_setup(nd, &nd->ep[nd->nnuma + k]);
    if (st == TB_OK)
        st = enable_peers(nd);
    if (st == TB_OK)
        st = measure_gpus(nd);
    for (size_t k = 0; k < nd->nnuma && st == TB_OK; k++)
        st = measure_numa(nd, &nd->ep[k]);
    for (size_t k = 0; k < nd->ngpu; k++)
        gpu_teardown(nd, &nd->ep[nd->nnuma + k]);
    if (st)
        return st;
    json_object_set_new(node, "labels", json_array());
    for (size_t i = 0; i < nd->n; i++)
        json_array_append_new(json_object_get(node, "labels"), json_string(nd->ep[i].label));
    json_object_set_new(node, "endpoints", endpoints_json(nd));
    json_object_set_new(node, "paths", json_incref(nd->paths));
    json_object_set_new(node, "host_memory", json_incref(nd->placement));
    /* n <= TB_DOC_MATRIX_INLINE_MAX: inline, no side file (the node is not rank 0's). */
    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++)
        if ((st = tb_doc_matrix_set(node, keys[k], *m[k], nd->n, ".", TEST_NAME)))
            return st;
    json_object_set_new(node, "elapsed_s", json_real(tb_now() - t0));
    return TB_OK;
}

static void node_free(node_t *nd)
{
    free(nd->ep);
    free(nd->copy);
    free(nd->copy_cv);
    free(nd->bidir);
    free(nd->bidir_cv);
    free(nd->expected);
    free(nd->peer);
    free(nd->stage);
    json_decref(nd->notes);
    json_decref(nd->errors);
    json_decref(nd->paths);
    json_decref(nd->placement);
}

/* Two buffers of --copy-size on every GPU: `why` says which GPU lacks the room (then the
 * node is skipped, not failed: another job's memory or a smaller GPU is not a fault). */
static tb_status_t device_memory_short(node_t *nd, char *why, size_t len)
{
    why[0] = '\0';
    for (int d = 0; d < nd->cu->ndevices && d < TB_DOC_MATRIX_INLINE_MAX; d++) {
        size_t free_b = 0, total_b = 0;
        CU_TRY(nd, SetDevice(d));
        CU_TRY(nd, MemGetInfo(&free_b, &total_b));
        if (free_b / 2 < nd->bytes) {
            snprintf(why, len, "%s: CUDA device %d has %zu bytes free of %zu; the copy matrix "
                     "needs two buffers of --copy-size %zu on every GPU", nd->s->rt->host, d,
                     free_b, total_b, nd->bytes);
            break;
        }
    }
    return TB_OK;
}

/* A node leader: this node's object for the entry ("status" ok or skipped). */
static tb_status_t run_leader(tb_suite_t *s, json_t **node_p)
{
    const tb_rt_t *rt = s->rt;
    node_t nd;
    char why[TB_CUDA_WHY_LEN + TB_HOST_LEN + 2];
    const char *skip = "";
    int prev = 0;
    tb_status_t st = TB_OK;
    json_t *node = json_pack("{s:s, s:i, s:i}", "host", rt->host, "node_index", rt->node_index,
                             "rank", rt->rank);

    memset(&nd, 0, sizeof(nd));
    nd.s = s;
    nd.topo = s->node_topo;
    nd.bytes = s->opts->copy_bytes;
    nd.samples = s->opts->copy_samples;
    nd.check = s->opts->check;
    nd.corrupt = tb_suite_fault(s, "corrupt", TEST_NAME);
    nd.notes = json_array();
    nd.errors = json_array();
    nd.paths = json_object();
    nd.placement = json_object();
    *node_p = node;

    tb_wd_context(TEST_NAME, "", 0, 0, TB_WD_LOCAL, "loading the CUDA runtime");
    if (!(nd.cu = tb_cuda_get(&skip)) || nd.cu->ndevices == 0) {
        snprintf(why, sizeof(why), "%s: %s", rt->host, nd.cu ? nd.cu->why : skip);
        json_object_set_new(node, "status", json_string("skipped"));
        json_object_set_new(node, "skip_reason", json_string(why));
        goto out;
    }
    /* The device this rank uses in the other tests stays its current one afterwards. */
    if ((st = CU(&nd, GetDevice(&prev))) == TB_OK &&
        (st = device_memory_short(&nd, why, sizeof(why))) == TB_OK && why[0]) {
        (void)nd.cu->SetDevice(prev);
        json_object_set_new(node, "status", json_string("skipped"));
        json_object_set_new(node, "skip_reason", json_string(why));
        goto out;
    }
    if (st == TB_OK) {
        st = measure_node(&nd, nd.cu->ndevices, node);
        if (nd.cu->SetDevice(prev) != TB_CUDA_SUCCESS && st == TB_OK)
            st = CU(&nd, SetDevice(prev));
    }
    json_object_set_new(node, "status", json_string(st == TB_OK ? "ok" : tb_status_string(st)));
    if (st == TB_OK)
        st = nd.corrupt_st;
out:
    json_object_set_new(node, "notes", json_incref(nd.notes));
    json_object_set_new(node, "errors", json_incref(nd.errors));
    node_free(&nd);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * The job: leaders measure at once, rank 0 gathers the nodes into the entry.
 * ------------------------------------------------------------------------------------- */

/* Node leaders: the nodes' objects as JSON text, gathered at rank 0 (leaders' rank 0),
 * parsed into `nodes` (rank 0). */
static tb_status_t gather_nodes(tb_suite_t *s, json_t *mine, json_t *nodes)
{
    const tb_rt_t *rt = s->rt;
    char *text = json_dumps(mine, JSON_COMPACT | JSON_REAL_PRECISION(17));
    int len = text ? (int)strlen(text) + 1 : 0, *lens = NULL, *displs = NULL, total = 0;
    char *all = NULL;
    tb_status_t st;

    tb_wd_context(TEST_NAME, "", 0, 0, TB_WD_LEADERS, "gathering the nodes' copy matrices");
    if ((st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)rt->nnodes * sizeof(int), (void **)&lens)) ||
        (st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)rt->nnodes * sizeof(int), (void **)&displs)) ||
        (st = TB_MPI_CHECK(MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, rt->leaders))))
        goto out;
    for (int i = 0; rt->rank == 0 && i < rt->nnodes; i++) {
        displs[i] = total;
        total += lens[i];
    }
    if ((st = tb_rt_alloc_agreed(rt->leaders, 1, (size_t)total, (void **)&all)) ||
        (st = TB_MPI_CHECK(MPI_Gatherv(text, len, MPI_CHAR, all, lens, displs, MPI_CHAR, 0,
                                       rt->leaders))))
        goto out;
    for (int i = 0; rt->rank == 0 && i < rt->nnodes; i++) {
        json_t *one = lens[i] ? json_loads(all + displs[i], 0, NULL) : NULL;
        if (!one)
            one = json_pack("{s:s, s:s}", "status", "internal error", "skip_reason",
                            "the node's copy matrix did not arrive");
        json_array_append_new(nodes, one);
    }
out:
    free(text);
    free(lens);
    free(displs);
    free(all);
    return st;
}

/* Rank 0: the entry's status and skip reason from its nodes; moves each node's errors
 * into the entry's errors[] with the node's host. */
static const char *entry_status(json_t *entry, json_t *nodes, char *why, size_t len)
{
    size_t i, measured = 0;
    json_t *node, *errors = json_object_get(entry, "errors");
    const char *status = "ok", *failed = NULL;
    why[0] = '\0';
    json_array_foreach(nodes, i, node) {
        const char *st = json_string_value(json_object_get(node, "status"));
        json_t *errs = json_object_get(node, "errors"), *e;
        size_t j;
        json_array_foreach(errs, j, e) {
            json_t *copy = json_deep_copy(e);
            json_object_set(copy, "host", json_object_get(node, "host"));
            json_object_set(copy, "rank", json_object_get(node, "rank"));
            json_array_append_new(errors, copy);
        }
        json_object_del(node, "errors");
        if (st && !strcmp(st, "ok"))
            measured++;
        else if (st && strcmp(st, "skipped") != 0)
            failed = st; /* a CUDA call failed there: the entry says so */
        else if (!why[0] && json_is_string(json_object_get(node, "skip_reason")))
            snprintf(why, len, "%s", json_string_value(json_object_get(node, "skip_reason")));
    }
    if (failed)
        status = failed;
    else if (json_array_size(errors))
        status = "data corruption";
    else if (!measured)
        status = "skipped";
    return status;
}

tb_status_t tb_gpu_copy_run(tb_suite_t *s)
{
    const tb_rt_t *rt = s->rt;
    json_t *params = NULL, *entry, *mine = NULL;
    tb_doc_keys_t keys = {"cuda", NULL, NULL, "byte", NULL, "node"};
    tb_status_t st = TB_OK, gst = TB_OK;

    if (rt->rank == 0)
        params = json_pack("{s:I, s:i, s:i, s:i, s:s, s:s, s:s}", "size",
                           (json_int_t)s->opts->copy_bytes, "batch", TB_GPU_COPY_BATCH,
                           "warmup", TB_GPU_COPY_WARMUP, "samples", s->opts->copy_samples,
                           "statistic", "median", "method",
                           "copy engine: cudaMemcpyAsync (host<->device, device-local), "
                           "cudaMemcpyPeerAsync (device<->device) on the source GPU's stream; "
                           "CUDA events around each batch",
                           "driver", "local rank 0 of each node drives all of its GPUs");
    entry = tb_suite_begin_test(s, TEST_NAME, "gpu_copy", &keys, params);
    if (rt->leaders != MPI_COMM_NULL)
        st = run_leader(s, &mine);
    /* The other ranks of each node wait polled, beating; the leaders are watched by their
     * own watchdogs while they copy. */
    tb_suite_wait_all(s, TEST_NAME);
    if (rt->leaders != MPI_COMM_NULL) {
        json_t *nodes = rt->rank == 0 ? json_array() : NULL;
        gst = gather_nodes(s, mine, nodes);
        if (entry) {
            char why[1024];
            const char *status;
            pthread_mutex_lock(&s->doc_lock);
            json_object_set_new(entry, "nodes", nodes);
            status = entry_status(entry, nodes, why, sizeof(why));
            pthread_mutex_unlock(&s->doc_lock);
            if (!strcmp(status, "skipped"))
                tb_suite_end_test(s, entry, "skipped", why);
            else
                tb_suite_end_test(s, entry, status, NULL);
        } else {
            json_decref(nodes);
        }
    }
    json_decref(mine);
    return gst != TB_OK ? gst : st;
}
