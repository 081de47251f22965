/* The gdr test: does GPUDirect RDMA work on these nodes? Each node leader registers its
 * GPU's memory with its RDMA port, dma-buf first (cuMemGetHandleForAddressRange +
 * ibv_reg_dmabuf_mr), then peer memory (ibv_reg_mr on the device pointer, nvidia_peermem);
 * reads the GPU-NIC path class from the node's topology and PCIe ACS along the path; with
 * two nodes or more measures RDMA write and read bandwidth GPU->GPU and host->host in one
 * ring round (node i to node i+1, all at once). Rank 0 decides each node's verdict
 * (verbs_setup.c), prints it and records it (docs/results-schema.md, "gdr"). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cudrv.h"
#include "gpu.h"
#include "verbs_ib.h"
#include "verbs_run.h"

#define GPU_ALIGN ((size_t)2 << 20) /* cudaMalloc's granularity: whole pages for dma-buf */

typedef struct gpu_buf {
    void *ptr;
    size_t len;
    int dmabuf; /* register by dma-buf (1) or peer memory (0) */
    int device;
    const tb_cuda_t *cu;
} gpu_buf_t;

static int is_unsupported(int err)
{
    return err == EOPNOTSUPP || err == ENOTSUP || err == EPROTONOSUPPORT || err == ENOSYS;
}

/* A dma-buf file descriptor of the buffer, or -1 with the reason and whether it is a
 * lack of support (1) or an error (0). */
static int dmabuf_fd(const gpu_buf_t *b, char *why, size_t wlen, int *unsupported_p)
{
    const char *dwhy = NULL;
    const tb_cudrv_t *drv = tb_cudrv_get(&dwhy);
    tb_cu_device_t dev;
    tb_cu_result_t rc;
    int fd = -1, ok = 0;
    *unsupported_p = 1;
    if (!drv) {
        snprintf(why, wlen, "%s", dwhy);
        return -1;
    }
    if ((rc = drv->DeviceGet(&dev, b->device)) != TB_CU_SUCCESS ||
        (rc = drv->DeviceGetAttribute(&ok, TB_CU_ATTR_DMA_BUF_SUPPORTED, dev)) != TB_CU_SUCCESS) {
        snprintf(why, wlen, "cuDeviceGetAttribute(DMA_BUF_SUPPORTED): %s", tb_cudrv_error(drv, rc));
        *unsupported_p = 0;
        return -1;
    }
    if (!ok) {
        snprintf(why, wlen,
                 "CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED = 0 (driver or kernel "
                 "without dma-buf export)");
        return -1;
    }
    rc = drv->MemGetHandleForAddressRange(&fd, (tb_cu_deviceptr_t)(uintptr_t)b->ptr, b->len,
                                          TB_CU_RANGE_HANDLE_DMA_BUF_FD, 0);
    if (rc != TB_CU_SUCCESS) {
        snprintf(why, wlen, "cuMemGetHandleForAddressRange: %s", tb_cudrv_error(drv, rc));
        *unsupported_p = rc == TB_CU_ERROR_NOT_SUPPORTED;
        return -1;
    }
    return fd;
}

/* Registration of the GPU buffer on `v` by its method; 0 or errno. */
static int reg_gpu(tb_vib_t *v, void *arg)
{
    const gpu_buf_t *b = arg;
    char why[256];
    int unsupported, fd, err;
    if (!b->dmabuf)
        return tb_vib_reg_peermem(v, b->ptr, b->len, 0);
    if ((fd = dmabuf_fd(b, why, sizeof(why), &unsupported)) < 0)
        return EOPNOTSUPP;
    err = tb_vib_reg_dmabuf(v, b->ptr, b->len, fd, 0);
    close(fd); /* the MR holds its own reference */
    return err;
}

/* Host <-> GPU copies of the ring's data check. A copy from pageable memory may return
 * before its data is in GPU memory: the device is synchronised before the NIC reads it. */
static int gpu_put(void *arg, size_t off, const void *src, size_t n)
{
    const gpu_buf_t *b = arg;
    return b->cu->Memcpy((char *)b->ptr + off, src, n, TB_CUDA_MEMCPY_H2D) != TB_CUDA_SUCCESS ||
           b->cu->DeviceSynchronize() != TB_CUDA_SUCCESS;
}

/* The NIC's writes into GPU memory are not ordered before a later read by the GPU's copy
 * engine: cuFlushGPUDirectRDMAWrites first (the current context is the run's device, whose
 * memory the ring uses), where the driver has it (CUDA 11.3; without the driver API loaded
 * the copy is made without a flush). */
static int gpu_get(void *arg, size_t off, void *dst, size_t n)
{
    const gpu_buf_t *b = arg;
    const tb_cudrv_t *drv = tb_cudrv_get(NULL);
    if (drv && drv->FlushGPUDirectRDMAWrites &&
        drv->FlushGPUDirectRDMAWrites(TB_CU_FLUSH_TARGET_CURRENT_CTX, TB_CU_FLUSH_TO_OWNER) !=
            TB_CU_SUCCESS)
        return 1;
    return b->cu->Memcpy(dst, (const char *)b->ptr + off, n, TB_CUDA_MEMCPY_D2H) != TB_CUDA_SUCCESS;
}

/* Both registration paths on this node, in order. */
static void try_registrations(tb_verbs_side_t *sd, gpu_buf_t *b, tb_gdr_inputs_t *in)
{
    int unsupported = 0, fd, err;
    b->dmabuf = 1;
    if ((fd = dmabuf_fd(b, in->dmabuf_why, sizeof(in->dmabuf_why), &unsupported)) < 0) {
        in->dmabuf = unsupported ? TB_GDR_REG_UNSUPPORTED : TB_GDR_REG_ERROR;
    } else {
        err = tb_vib_reg_dmabuf(sd->vib, b->ptr, b->len, fd, 0);
        close(fd);
        in->dmabuf = err == 0              ? TB_GDR_REG_OK
                     : is_unsupported(err) ? TB_GDR_REG_UNSUPPORTED
                                           : TB_GDR_REG_ERROR;
        in->dmabuf_errno = err;
        if (err)
            snprintf(in->dmabuf_why, sizeof(in->dmabuf_why), "ibv_reg_dmabuf_mr: %s",
                     strerror(err));
    }
    err = tb_vib_reg_peermem(sd->vib, b->ptr, b->len, 0);
    in->peermem = err == 0 ? TB_GDR_REG_OK : TB_GDR_REG_ERROR;
    in->peermem_errno = err;
    if (err)
        snprintf(in->peermem_why, sizeof(in->peermem_why), "ibv_reg_mr: %s", strerror(err));
    tb_vib_unreg(sd->vib);
    b->dmabuf = in->dmabuf == TB_GDR_REG_OK;
}

/* Path class and ACS between the GPU and the NIC, from the node's topology and sysfs. */
static void read_path(const tb_suite_t *s, const char *gpu_busid, const char *dev,
                      tb_gdr_inputs_t *in)
{
    const tb_topo_t *t = s->node_topo;
    char want[32], have[32];
    int gpu = -1, nic;
    if (!t)
        return;
    tb_topo_busid_normalize(gpu_busid, want, sizeof(want));
    for (size_t i = 0; i < t->nobjs && gpu < 0; i++) {
        tb_topo_busid_normalize(t->objs[i].busid, have, sizeof(have));
        if (t->objs[i].kind == TB_OBJ_GPU && !strcmp(want, have))
            gpu = (int)i;
    }
    nic = tb_topo_find(t, dev);
    if (gpu < 0 || nic < 0)
        return;
    {
        tb_topo_path_t p;
        tb_topo_path(t, gpu, nic, &p);
        if (p.cls != TB_PATH_UNKNOWN)
            snprintf(in->path_class, sizeof(in->path_class), "%s", tb_path_class_name(p.cls));
    }
    if (t->objs[nic].busid[0] && tb_pci_acs_path(gpu_busid, t->objs[nic].busid, &in->acs) == TB_OK)
        in->acs_checked = 1;
}

/* Rank 0: the verdicts, printed and recorded. */
static void record(tb_suite_t *s, const tb_gdr_inputs_t *all, int n, size_t size, long iters)
{
    tb_doc_keys_t keys = tb_suite_keys("byte", NULL, "node");
    json_t *verdicts = json_array(), *entry;
    int any = 0;
    keys.backend = "verbs";
    keys.send_memory = keys.recv_memory = "device";
    for (int i = 0; i < n; i++) {
        tb_gdr_verdict_t v;
        tb_gdr_verdict_decide(&all[i], &v);
        json_array_append_new(verdicts, tb_gdr_verdict_to_json(&all[i], &v));
        any |= all[i].have_nic && all[i].have_gpu;
    }
    entry = tb_suite_begin_test(s, "gdr", "gdr", &keys,
                                json_pack("{s:I, s:I, s:i, s:i}", "size", (json_int_t)size,
                                          "iterations", (json_int_t)iters, "qps",
                                          s->opts->verbs.qps, "tx_depth", s->opts->verbs.tx_depth));
    if (entry)
        json_object_set_new(entry, "verdicts", verdicts);
    else
        json_decref(verdicts);
    if (entry)
        json_object_set_new(entry, "units",
                            json_pack("{s:s, s:s}", "size", "bytes", "bandwidth", "GB/s"));
    /* Not available everywhere for want of hardware: a skip, whose reason is the first
     * node's verdict; the verdicts are in the entry all the same. */
    tb_suite_end_test(s, entry, any ? "ok" : "skipped",
                      any ? NULL
                          : json_string_value(json_object_get(
                                json_array_get(json_object_get(entry, "verdicts"), 0), "line")));
}

#define MAX_PAIRS 16 /* GPU-NIC pairs judged per node */

/* Whether this process already has device `dev`'s primary context (1 when it cannot tell). */
static int primary_ctx_active(int dev)
{
    const tb_cudrv_t *drv = tb_cudrv_get(NULL);
    tb_cu_device_t cd;
    unsigned flags = 0;
    int active = 1;
    if (drv && drv->DevicePrimaryCtxGetState && drv->DeviceGet(&cd, dev) == TB_CU_SUCCESS &&
        drv->DevicePrimaryCtxGetState(cd, &flags, &active) != TB_CU_SUCCESS)
        active = 1;
    return active;
}

/* Destroys device `dev`'s primary context, which the registration check created: it holds
 * hundreds of MB of GPU memory for the rest of the run otherwise. */
static void primary_ctx_reset(int dev)
{
    const tb_cudrv_t *drv = tb_cudrv_get(NULL);
    tb_cu_device_t cd;
    if (drv && drv->DevicePrimaryCtxReset && drv->DeviceGet(&cd, dev) == TB_CU_SUCCESS)
        (void)drv->DevicePrimaryCtxReset(cd);
}

/* Another GPU of this node (visible device `dev`): its pair with its nearest RDMA port (or
 * --hca) registered and its path read, without bandwidth (only the run's GPU is in the
 * ring). Local work: no MPI. */
static void judge_other_gpu(tb_suite_t *s, const tb_gdr_inputs_t *base, int dev, tb_gdr_inputs_t *e)
{
    const tb_gpu_t *g = s->gpu;
    tb_cuda_device_t info;
    tb_verbs_side_t sd;
    tb_verbs_port_info_t *pi = NULL;
    gpu_buf_t b;
    tb_vib_cfg_t cfg = {0};
    char why[256] = "";
    int fresh = 0;
    memset(e, 0, sizeof(*e));
    memset(&sd, 0, sizeof(sd));
    memset(&b, 0, sizeof(b));
    snprintf(e->host, sizeof(e->host), "%s", base->host);
    e->peermem_loaded = base->peermem_loaded;
    e->have_gpu = 1;
    snprintf(e->not_measured, sizeof(e->not_measured),
             "bandwidth measured for the run's GPU only (--gpus %d measures this one)", dev);
    if (tb_cuda_device_info(g->cu, dev, &info) != TB_OK) {
        e->have_gpu = 0;
        snprintf(e->no_gpu_why, sizeof(e->no_gpu_why), "device %d: cannot read its facts", dev);
        return;
    }
    snprintf(e->gpu, sizeof(e->gpu), "GPU%d %s", dev, info.busid);
    if (s->opts->verbs.hca) {
        if (tb_verbs_hca_parse(s->opts->verbs.hca, sd.dev, sizeof(sd.dev), &sd.port) != TB_OK)
            return; /* parsed once already at start: cannot fail here */
    } else if (!s->node_topo || tb_verbs_nic_nearest(s->node_topo, info.busid, s->rt->cpuset, 0,
                                                     sd.dev, sizeof(sd.dev), &sd.port, sd.chosen_by,
                                                     sizeof(sd.chosen_by)) != TB_OK) {
        snprintf(e->no_nic_why, sizeof(e->no_nic_why), "no RDMA NIC in this node's topology");
        return;
    }
    snprintf(e->nic, sizeof(e->nic), "%s:%d", sd.dev, sd.port);
    cfg.nqps = cfg.depth = 1;
    if ((pi = calloc(1, sizeof(*pi))) && tb_verbs_port_read(sd.dev, sd.port, pi) == TB_OK &&
        tb_verbs_gid_choose(pi, s->opts->verbs.gid_index, &sd.gid) == TB_OK) {
        cfg.gid_index = sd.gid.index;
        if (tb_vib_open(sd.dev, sd.port, &cfg, &sd.vib, why, sizeof(why)) != TB_OK)
            sd.vib = NULL;
    }
    if (!sd.vib) {
        snprintf(e->no_nic_why, sizeof(e->no_nic_why), "%s", why[0] ? why : "port not usable");
        free(pi);
        return;
    }
    e->have_nic = 1;
    read_path(s, info.busid, sd.dev, e);
    b.len = GPU_ALIGN;
    b.device = dev;
    b.cu = g->cu;
    fresh = !primary_ctx_active(dev);
    if (g->cu->SetDevice(dev) != TB_CUDA_SUCCESS ||
        g->cu->Malloc(&b.ptr, b.len) != TB_CUDA_SUCCESS) {
        b.ptr = NULL;
        e->have_gpu = 0;
        snprintf(e->no_gpu_why, sizeof(e->no_gpu_why), "device %d: cudaMalloc failed", dev);
    } else {
        try_registrations(&sd, &b, e);
        (void)g->cu->Free(b.ptr);
    }
    (void)g->cu->SetDevice(g->device); /* the run's device again */
    if (fresh)
        primary_ctx_reset(dev);
    tb_vib_close(sd.vib);
    free(pi);
}

/* One ring round of the gdr test (shift 1) and this node's part of it: a transfer that
 * failed anywhere, or a round that could not be set up, goes into the node's inputs
 * (tb_gdr_ring_result: the likely culprit gets transfer_error, the others a bandwidth not
 * measured, with the failed pair named) and is TB_ERR_ENV: a finding, not the end of the
 * run. Other failures (a usage error, MPI) are returned as they are. */
static tb_status_t ring(tb_suite_t *s, const tb_verbs_side_t *sd, const tb_verbs_ring_mem_t *m,
                        int op, size_t size, long iters, tb_verbs_ring_node_t *nodes,
                        tb_gdr_inputs_t *in, double *gbps, size_t *wrong)
{
    MPI_Comm lc = s->rt->leaders;
    int gpu = m->reg == reg_gpu, read = op == TB_VIB_READ, me = 0;
    char why[320] = "", text[320];
    tb_verbs_ring_part_t part;
    tb_status_t st =
        tb_verbs_ring_round(s, lc, sd, 1, m, op, size, iters, gbps, wrong, nodes, why, sizeof(why));
    if (st != TB_ERR_INTERNAL && st != TB_ERR_ENV)
        return st;
    MPI_Comm_rank(lc, &me);
    part = tb_verbs_ring_judge(nodes, s->rt->nnodes, 1, me, read, text, sizeof(text));
    if (part == TB_RING_FINE) { /* not set up: every node has the reason in `why` */
        part = TB_RING_STOPPED;
        snprintf(text, sizeof(text), "%s", why);
    }
    if (read) { /* the write figures stand; the read ring's outcome is said apart */
        char r[sizeof(text)];
        snprintf(r, sizeof(r), "read: %s", text);
        snprintf(text, sizeof(text), "%s", r);
    }
    tb_gdr_ring_result(in, gpu, part, text);
    return TB_ERR_ENV;
}

tb_status_t tb_verbs_gdr_run(tb_suite_t *s)
{
    const tb_rt_t *rt = s->rt;
    const tb_gpu_t *g = s->gpu;
    size_t size = s->opts->matrix_bytes;
    long iters = tb_verbs_iterations(s->opts, 0, size);
    tb_status_t st = TB_OK;
    if (rt->leaders != MPI_COMM_NULL) {
        static tb_gdr_inputs_t in, mine[MAX_PAIRS];
        tb_gdr_inputs_t *all = NULL;
        int nmine = 0, total = 0;
        int *counts = rt->rank == 0 ? tb_rt_gather_buffer((size_t)rt->nnodes * sizeof(int)) : NULL;
        int *displs = rt->rank == 0 ? tb_rt_gather_buffer((size_t)rt->nnodes * sizeof(int)) : NULL;
        tb_verbs_side_t sd;
        gpu_buf_t b;
        char why[320] = "";
        int flags[2], every[2];
        memset(&in, 0, sizeof(in));
        memset(&sd, 0, sizeof(sd));
        memset(&b, 0, sizeof(b));
        snprintf(in.host, sizeof(in.host), "%s", rt->host);
        in.peermem_loaded = tb_gdr_peermem_loaded();
        st = tb_verbs_side_open(s, &sd, size, why, sizeof(why));
        snprintf(in.nic, sizeof(in.nic), "%s%s%d", sd.dev, sd.dev[0] ? ":" : "",
                 sd.dev[0] ? sd.port : 0);
        if (!sd.dev[0])
            in.nic[0] = '\0';
        in.have_nic = st == TB_OK;
        /* A port that cannot be used (no device, the locked-memory limit, a failed call) is
         * this node's verdict, recorded with the others; only a usage error ends the test. */
        if (st != TB_OK && st != TB_ERR_USAGE) {
            snprintf(in.no_nic_why, sizeof(in.no_nic_why), "%s",
                     why[0] ? why : tb_status_string(st));
            st = TB_OK;
        }
        in.have_gpu = g->ok && g->cu;
        if (!in.have_gpu)
            snprintf(in.no_gpu_why, sizeof(in.no_gpu_why), "%s", g->why);
        else
            snprintf(in.gpu, sizeof(in.gpu), "GPU%d %s", g->device, g->info.busid);
        if (st == TB_OK && in.have_nic && in.have_gpu) {
            read_path(s, g->info.busid, sd.dev, &in);
            /* A source half and a receive half (the ring's data check). */
            b.len = (2 * size + GPU_ALIGN - 1) / GPU_ALIGN * GPU_ALIGN;
            b.device = g->device;
            b.cu = g->cu;
            if (g->cu->Malloc(&b.ptr, b.len) != TB_CUDA_SUCCESS) {
                b.ptr = NULL;
                in.have_gpu = 0;
                snprintf(in.no_gpu_why, sizeof(in.no_gpu_why), "cudaMalloc of %zu bytes failed",
                         b.len);
            } else {
                try_registrations(&sd, &b, &in);
            }
        }
        st = tb_verbs_agree(rt, rt->leaders, st, why, NULL, 0);
        /* The ring runs where every node can take part (a node without a NIC or a GPU
         * path would leave its neighbours without a peer). */
        flags[0] = in.have_nic;
        flags[1] = in.dmabuf == TB_GDR_REG_OK || in.peermem == TB_GDR_REG_OK;
        if (st == TB_OK)
            st = TB_MPI_CHECK(MPI_Allreduce(flags, every, 2, MPI_INT, MPI_MIN, rt->leaders));
        if (st == TB_OK && rt->nnodes < 2) {
            snprintf(in.not_measured, sizeof(in.not_measured),
                     "one node (the bandwidth needs a second node: run with one rank on each "
                     "of two nodes)");
        } else if (st == TB_OK) {
            tb_verbs_ring_mem_t hm, gm = {reg_gpu, gpu_put, gpu_get, &b, size};
            tb_verbs_ring_node_t *nodes = NULL;
            tb_status_t one = TB_OK;
            size_t wrong = 0;
            tb_verbs_ring_mem_host(&sd, &hm);
            st = tb_rt_alloc_agreed(rt->leaders, 0, (size_t)rt->nnodes * sizeof(*nodes),
                                    (void **)&nodes);
            if (st == TB_OK && every[0]) {
                one =
                    ring(s, &sd, &hm, TB_VIB_WRITE, size, iters, nodes, &in, &in.host_gbps, &wrong);
                if (one == TB_OK && wrong)
                    one = tb_error(TB_ERR_CORRUPT,
                                   "gdr: %zu of %zu bytes written into %s's host memory by the "
                                   "previous node are wrong",
                                   wrong, size, rt->host);
                one = tb_rt_agree_comm(rt->leaders, one); /* every node reads, or none */
                if (one == TB_OK)
                    one = ring(s, &sd, &hm, TB_VIB_READ, size, iters, nodes, &in,
                               &in.host_read_gbps, &wrong);
                if (one != TB_ERR_ENV)
                    st = one; /* a transfer's failure was a finding (ring), data errors not */
            }
            st = tb_rt_agree_comm(rt->leaders, st);
            if (st == TB_OK && every[1]) {
                char text[320] = "";
                int failed;
                one =
                    ring(s, &sd, &gm, TB_VIB_WRITE, size, iters, nodes, &in, &in.gdr_gbps, &wrong);
                failed = one == TB_ERR_ENV; /* the round's outcome is in `in` already */
                if (failed) /* for the others, should this node alone have failed */
                    snprintf(text, sizeof(text), "%s",
                             in.transfer_failed ? in.transfer_why : in.not_measured);
                if (one == TB_OK && wrong) {
                    /* Data that did not arrive as written is no working GPUDirect. */
                    snprintf(text, sizeof(text),
                             "%zu of %zu bytes written into this node's GPU memory by the "
                             "previous node are wrong",
                             wrong, size);
                    tb_gdr_ring_result(&in, 1, TB_RING_BLAMED, text);
                    in.gdr_gbps = 0;
                    one = TB_ERR_ENV;
                }
                /* The read ring runs where every node's write check passed. */
                one = tb_verbs_agree(rt, rt->leaders, one, text, text, sizeof(text));
                if (one == TB_ERR_ENV && !failed && !in.transfer_failed) {
                    char nm[sizeof(in.not_measured)];
                    snprintf(nm, sizeof(nm), "read not measured: %s", text);
                    tb_gdr_ring_result(&in, 1, TB_RING_STOPPED, nm);
                }
                if (one == TB_OK)
                    one = ring(s, &sd, &gm, TB_VIB_READ, size, iters, nodes, &in, &in.gdr_read_gbps,
                               &wrong);
                if (one != TB_ERR_ENV)
                    st = one;
            } else if (st == TB_OK) {
                snprintf(in.not_measured, sizeof(in.not_measured),
                         "GPU memory not registered on every node of the ring");
            }
            free(nodes);
        }
        st = tb_rt_agree_comm(rt->leaders, st);
        /* The node's other GPUs, each with its nearest port: registration and path only. */
        mine[0] = in;
        nmine = 1;
        if (st == TB_OK && in.have_nic && in.have_gpu)
            for (int k = 0; k < g->cu->ndevices && nmine < MAX_PAIRS; k++)
                if (k != g->device)
                    judge_other_gpu(s, &in, k, &mine[nmine++]);
        if (st == TB_OK)
            st = TB_MPI_CHECK(MPI_Gather(&nmine, 1, MPI_INT, counts, 1, MPI_INT, 0, rt->leaders));
        if (st == TB_OK && rt->rank == 0) {
            for (int i = 0; i < rt->nnodes; i++) {
                displs[i] = total * (int)sizeof(in);
                total += counts[i];
                counts[i] *= (int)sizeof(in);
            }
            all = tb_rt_gather_buffer((size_t)total * sizeof(in));
        }
        if (st == TB_OK)
            st = TB_MPI_CHECK(MPI_Gatherv(mine, nmine * (int)sizeof(in), MPI_BYTE, all, counts,
                                          displs, MPI_BYTE, 0, rt->leaders));
        if (st == TB_OK && rt->rank == 0)
            record(s, all, total, size, iters);
        free(all);
        free(counts);
        free(displs);
        if (b.ptr)
            (void)g->cu->Free(b.ptr);
        tb_verbs_side_close(&sd);
    }
    tb_suite_wait_all(s, "gdr");
    return tb_suite_sync(s, rt->world, st);
}
