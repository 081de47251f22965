/* The run's GPU state, set up once by every rank (collectively): the CUDA runtime (cuda.h),
 * this rank's device (--gpus, else the local rank's index into the visible devices), and
 * whether MPI takes device buffers (CUDA-aware) or they are staged through pinned host
 * memory. GPU tests read it from tb_suite_t.gpu:
 *
 *     const tb_gpu_t *g = s->gpu;
 *     if (!g->ok)                  // every rank agreed: no GPU test can run
 *         ... skip with g->why ...
 *     g->cu->...(g->device ...)    // this rank's device is already current (SetDevice)
 */
#ifndef TB_BENCH_GPU_GPU_H
#define TB_BENCH_GPU_GPU_H

#include "cuda.h"
#include "rt.h"
#include "status.h"

typedef struct tb_gpu {
    const tb_cuda_t *cu; /* NULL when this rank has no loadable runtime */
    /* Every rank of the job has a runtime and a device (agreed). */
    int ok;
    /* Why not: the first failing rank's reason, with its rank and host ("" when ok). */
    char why[TB_CUDA_WHY_LEN + 128];
    int device;              /* this rank's device, -1 when none */
    int shared;              /* some device is used by more than one rank of its node */
    tb_cuda_device_t info;   /* this rank's device */
    /* MPI and device buffers. */
    int mpi_cuda_aware;      /* MPI takes device pointers */
    char mpi_cuda_how[96];   /* how that was decided */
} tb_gpu_t;

/* Every rank: loads the runtime (tb_cuda_get), picks this rank's device (map[local_rank %
 * nmap] when nmap > 0, else local_rank % ndevices) and makes it current, reads its facts,
 * detects CUDA-aware MPI, and agrees over the job on whether it can run GPU tests.
 * Fails (TB_ERR_USAGE) only for a --gpus index that does not exist; no GPU is g->ok = 0
 * with g->why, not an error. */
TB_NODISCARD tb_status_t tb_gpu_setup(const tb_rt_t *rt, const int *map, int nmap,
                                      tb_gpu_t *g);

/* CUDA-aware MPI: TOPOBENCH_MPI_CUDA_AWARE=0|1 when set, else Open MPI's
 * MPIX_Query_cuda_support or MPICH's MPIX_GPU_query_support where the library has them,
 * else the library's build information (MPI_Get_library_version mentions CUDA). */
int tb_gpu_mpi_cuda_aware(char *how, size_t len);

#endif
