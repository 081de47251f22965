/* The run's GPU state (gpu.h): device per rank, CUDA-aware MPI detection, and the job's
 * agreement on whether GPU tests can run. */
#include "gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#if defined(OPEN_MPI) && OPEN_MPI
#include <mpi-ext.h>
#endif

int tb_gpu_mpi_cuda_aware(char *how, size_t len)
{
    const char *env = getenv("TOPOBENCH_MPI_CUDA_AWARE");
    if (env && (!strcmp(env, "0") || !strcmp(env, "1"))) {
        snprintf(how, len, "TOPOBENCH_MPI_CUDA_AWARE=%s", env);
        return env[0] == '1';
    }
#if defined(MPIX_CUDA_AWARE_SUPPORT)
    /* Open MPI: compiled support (the macro) and the library's run-time answer. */
    snprintf(how, len, "MPIX_Query_cuda_support (Open MPI; compiled %d)",
             (int)MPIX_CUDA_AWARE_SUPPORT);
    return MPIX_Query_cuda_support() != 0;
#elif defined(MPIX_GPU_SUPPORT_CUDA)
    {
        int yes = 0;
        snprintf(how, len, "MPIX_GPU_query_support (MPICH)");
        if (MPIX_GPU_query_support(MPIX_GPU_SUPPORT_CUDA, &yes) != MPI_SUCCESS)
            return 0;
        return yes != 0;
    }
#else
    /* The library's own build information: a CUDA-enabled build names CUDA there
     * (MVAPICH2-GDR, Spectrum MPI, Cray MPICH with GPU support). */
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    snprintf(how, len, "library build information (MPI_Get_library_version)");
    if (MPI_Get_library_version(lib, &n) != MPI_SUCCESS)
        return 0;
    lib[n < (int)sizeof(lib) ? n : (int)sizeof(lib) - 1] = '\0';
    return strstr(lib, "CUDA") != NULL || strstr(lib, "cuda") != NULL;
#endif
}

tb_status_t tb_gpu_setup(const tb_rt_t *rt, const int *map, int nmap, tb_gpu_t *g)
{
    const char *why = NULL;
    char mine[sizeof(g->why)];
    int ok, all_ok = 0, first_bad = rt->size, bad_index = 0, any_bad_index = 0, in[2], out[2];
    tb_status_t st = TB_OK;

    memset(g, 0, sizeof(*g));
    g->device = -1;
    mine[0] = '\0';
    g->cu = tb_cuda_get(&why);
    if (!g->cu) {
        snprintf(mine, sizeof(mine), "%s", why);
    } else if (g->cu->ndevices == 0) {
        snprintf(mine, sizeof(mine), "%s", g->cu->why);
    } else {
        int dev = nmap > 0 ? map[rt->local_rank % nmap] : rt->local_rank % g->cu->ndevices;
        if (dev >= g->cu->ndevices) {
            bad_index = 1;
            snprintf(mine, sizeof(mine),
                     "--gpus: device %d does not exist (%d visible device%s, numbered from 0 "
                     "after CUDA_VISIBLE_DEVICES)",
                     dev, g->cu->ndevices, g->cu->ndevices == 1 ? "" : "s");
        } else if (TB_CUDA_CHECK(g->cu, g->cu->SetDevice(dev)) != TB_OK ||
                   tb_cuda_device_info(g->cu, dev, &g->info) != TB_OK) {
            snprintf(mine, sizeof(mine), "%s: device %d cannot be used (the error is above)",
                     g->cu->path, dev);
        } else {
            g->device = dev;
        }
    }
    ok = g->device >= 0;
    g->mpi_cuda_aware = tb_gpu_mpi_cuda_aware(g->mpi_cuda_how, sizeof(g->mpi_cuda_how));

    /* Agreement: every rank must have a device; the lowest failing rank says why. */
    in[0] = ok ? rt->size : rt->rank;
    in[1] = bad_index;
    if ((st = TB_MPI_CHECK(MPI_Allreduce(&in[0], &out[0], 1, MPI_INT, MPI_MIN, rt->world))) ||
        (st = TB_MPI_CHECK(MPI_Allreduce(&in[1], &out[1], 1, MPI_INT, MPI_MAX, rt->world))))
        return st;
    first_bad = out[0];
    any_bad_index = out[1];
    all_ok = first_bad == rt->size;
    g->ok = all_ok;
    if (!all_ok) {
        char reason[sizeof(g->why)];
        if (rt->rank == first_bad)
            snprintf(reason, sizeof(reason), "%s", mine);
        if ((st = TB_MPI_CHECK(MPI_Bcast(reason, (int)sizeof(reason), MPI_CHAR, first_bad,
                                         rt->world))))
            return st;
        reason[sizeof(reason) - 1] = '\0';
        if (rt->size > 1)
            snprintf(g->why, sizeof(g->why), "rank %d (host %s): %s", first_bad,
                     tb_rt_host_of(rt, first_bad), reason);
        else
            snprintf(g->why, sizeof(g->why), "%s", reason);
        if (any_bad_index) {
            if (rt->rank == 0)
                tb_log(TB_LOG_ERROR, "%s", g->why);
            return TB_ERR_USAGE;
        }
    }
    /* Two ranks of one node on one device: figures then share it (said, not refused). */
    if (all_ok && rt->local_size > 1) {
        int *devs = malloc(sizeof(int) * (size_t)rt->local_size), shared = 0, any = 0;
        st = devs ? TB_OK : tb_error(TB_ERR_ENV, "out of memory");
        if ((st = tb_rt_agree(rt, st))) {
            free(devs);
            return st;
        }
        if ((st = TB_MPI_CHECK(MPI_Allgather(&g->device, 1, MPI_INT, devs, 1, MPI_INT,
                                             rt->node)))) {
            free(devs);
            return st;
        }
        for (int i = 0; i < rt->local_size; i++)
            if (i != rt->local_rank && devs[i] == g->device)
                shared = 1;
        free(devs);
        if ((st = TB_MPI_CHECK(MPI_Allreduce(&shared, &any, 1, MPI_INT, MPI_MAX, rt->world))))
            return st;
        g->shared = any;
    }
    return TB_OK;
}
