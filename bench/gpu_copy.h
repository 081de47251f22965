/* Each node's GPU copy matrix: the copy-engine cases of nvbandwidth that matter for a
 * cluster node (host->device and device->host from pinned memory on every NUMA node,
 * device->device for every GPU pair one way and both ways, device-local copy), measured
 * on every node at once by the node's local rank 0, and recorded per node in one
 * `gpu_copy` entry of the results document (docs/results-schema.md, "gpu_copy"). */
#ifndef TB_BENCH_GPU_COPY_H
#define TB_BENCH_GPU_COPY_H

#include "suite.h"

/* nvbandwidth's method (common.h, memcpy.cpp): 16 copies per timed batch, 4 warm-up
 * copies; its 512 MiB buffer and 3 batches (the median reported) are the defaults of
 * --copy-size and --copy-samples (opts.c). */
#define TB_GPU_COPY_BATCH 16
#define TB_GPU_COPY_WARMUP 4

/* Every world rank calls it. Local rank 0 of every node measures its node's GPUs (the
 * others wait, polled); rank 0 gathers the nodes into one entry. A node without CUDA or
 * without a device is recorded as skipped with the reason; the entry is skipped when no
 * node could measure. */
TB_NODISCARD tb_status_t tb_gpu_copy_run(tb_suite_t *s);

#endif
