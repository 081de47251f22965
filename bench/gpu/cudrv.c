/* The CUDA driver API loader (cudrv.h): dlopen of libcuda.so.1, the symbols into one table,
 * cuInit once. */
#include "cudrv.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h" /* tb_dl_search_paths */

#ifdef TB_CUDA_DRIVER_H
/* The toolkit's cuda.h by its path: bench/gpu/cuda.h (the runtime loader) has the same name. */
#include TB_CUDA_DRIVER_H
_Static_assert(sizeof(CUresult) == sizeof(tb_cu_result_t) &&
                   sizeof(CUdevice) == sizeof(tb_cu_device_t) &&
                   sizeof(CUdeviceptr) == sizeof(tb_cu_deviceptr_t) &&
                   sizeof(CUdevice_attribute) == sizeof(tb_cu_attr_t) &&
                   sizeof(CUmemRangeHandleType) == sizeof(tb_cu_range_handle_t) &&
                   sizeof(CUflushGPUDirectRDMAWritesTarget) == sizeof(tb_cu_flush_target_t) &&
                   sizeof(CUflushGPUDirectRDMAWritesScope) == sizeof(tb_cu_flush_scope_t),
               "a tb_cu_ type differs in size from cuda.h's");
_Static_assert(CUDA_SUCCESS == TB_CU_SUCCESS &&
                   CUDA_ERROR_NOT_SUPPORTED == TB_CU_ERROR_NOT_SUPPORTED &&
                   CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED == TB_CU_ATTR_DMA_BUF_SUPPORTED &&
                   CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD == TB_CU_RANGE_HANDLE_DMA_BUF_FD &&
                   CU_FLUSH_GPU_DIRECT_RDMA_WRITES_TARGET_CURRENT_CTX ==
                       TB_CU_FLUSH_TARGET_CURRENT_CTX &&
                   CU_FLUSH_GPU_DIRECT_RDMA_WRITES_TO_OWNER == TB_CU_FLUSH_TO_OWNER,
               "a TB_CU_ constant differs from cuda.h");
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static tb_cudrv_t drv;
static const tb_cudrv_t *loaded;
static char why[512];

static int sym(void *lib, const char *name, void *fn_p, size_t size)
{
    void *p = dlsym(lib, name);
    if (p)
        memcpy(fn_p, &p, size);
    return p != NULL;
}

static void load(void)
{
    const char *env = getenv("TOPOBENCH_CUDA_DRIVER_LIB");
    const char *name = env && *env ? env : "libcuda.so.1";
    const char *missing = NULL;
    char paths[256];
    tb_cu_result_t rc;
    snprintf(drv.path, sizeof(drv.path), "%s", name);
    if (!(drv.lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) {
        tb_dl_search_paths(paths, sizeof(paths));
        snprintf(why, sizeof(why), "CUDA driver %s not loadable (%s; searched %s)", name, dlerror(),
                 paths);
        return;
    }
#define TB_CUDRV_LOAD(sname, member)                                                               \
    if (!missing && !sym(drv.lib, #sname, &drv.member, sizeof(drv.member)))                        \
        missing = #sname;
    TB_CUDRV_LOAD(cuInit, Init)
    TB_CUDRV_LOAD(cuDeviceGet, DeviceGet)
    TB_CUDRV_LOAD(cuDeviceGetAttribute, DeviceGetAttribute)
    TB_CUDRV_LOAD(cuMemGetHandleForAddressRange, MemGetHandleForAddressRange)
    TB_CUDRV_LOAD(cuGetErrorString, GetErrorString)
#undef TB_CUDRV_LOAD
    /* Optional: the callers do without them. */
    (void)sym(drv.lib, "cuFlushGPUDirectRDMAWrites", &drv.FlushGPUDirectRDMAWrites,
              sizeof(drv.FlushGPUDirectRDMAWrites));
    (void)sym(drv.lib, "cuDevicePrimaryCtxGetState", &drv.DevicePrimaryCtxGetState,
              sizeof(drv.DevicePrimaryCtxGetState));
    /* cuda.h maps the name to its _v2 since CUDA 11. */
    (void)sym(drv.lib, "cuDevicePrimaryCtxReset_v2", &drv.DevicePrimaryCtxReset,
              sizeof(drv.DevicePrimaryCtxReset));
    if (missing) {
        snprintf(why, sizeof(why),
                 "CUDA driver %s has no %s (older than CUDA 11.7: no "
                 "dma-buf export)",
                 name, missing);
        return;
    }
    if ((rc = drv.Init(0)) != TB_CU_SUCCESS) {
        snprintf(why, sizeof(why), "CUDA driver %s: cuInit: %s", name, tb_cudrv_error(&drv, rc));
        return;
    }
    loaded = &drv;
}

const tb_cudrv_t *tb_cudrv_get(const char **why_p)
{
    pthread_once(&once, load);
    if (!loaded && why_p)
        *why_p = why;
    return loaded;
}

const char *tb_cudrv_error(const tb_cudrv_t *d, tb_cu_result_t rc)
{
    const char *s = NULL;
    if (d && d->GetErrorString && d->GetErrorString(rc, &s) == TB_CU_SUCCESS && s)
        return s;
    return "unknown CUDA driver error";
}
