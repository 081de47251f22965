/* The CUDA driver API (libcuda.so.1), loaded at run time like the runtime (cuda.h), for
 * the few calls the runtime does not have: GPUDirect RDMA's dma-buf export
 * (cuMemGetHandleForAddressRange), the device's dma-buf support attribute, the flush of
 * GPUDirect RDMA writes before the GPU reads them, and the primary context's state. The driver
 * ships the library; nothing links it. TOPOBENCH_CUDA_DRIVER_LIB names another file (tests).
 * Where cuda.h was present at build time the types and constants are checked against it. */
#ifndef TB_BENCH_GPU_CUDRV_H
#define TB_BENCH_GPU_CUDRV_H

#include <stddef.h>

/* The ABI of CUDA's types (an enum is an int; CUdeviceptr is 64 bits): cudrv.c checks them
 * against the toolkit's cuda.h where it was found (TB_CUDA_DRIVER_H). */
typedef int tb_cu_result_t;
typedef int tb_cu_device_t;
typedef unsigned long long tb_cu_deviceptr_t;
typedef int tb_cu_attr_t;
typedef int tb_cu_range_handle_t;
typedef int tb_cu_flush_target_t;
typedef int tb_cu_flush_scope_t;

/* CUDA's values (cuda.h; checked in cudrv.c where it is present). */
#define TB_CU_SUCCESS 0
#define TB_CU_ERROR_NOT_SUPPORTED 801
#define TB_CU_ATTR_DMA_BUF_SUPPORTED 124
#define TB_CU_RANGE_HANDLE_DMA_BUF_FD 1
#define TB_CU_FLUSH_TARGET_CURRENT_CTX 0
#define TB_CU_FLUSH_TO_OWNER 100

typedef struct tb_cudrv {
    void *lib;
    char path[256];
    tb_cu_result_t (*Init)(unsigned int flags);
    tb_cu_result_t (*DeviceGet)(tb_cu_device_t *device, int ordinal);
    tb_cu_result_t (*DeviceGetAttribute)(int *pi, tb_cu_attr_t attrib, tb_cu_device_t dev);
    tb_cu_result_t (*MemGetHandleForAddressRange)(void *handle, tb_cu_deviceptr_t dptr, size_t size,
                                                  tb_cu_range_handle_t type,
                                                  unsigned long long flags);
    tb_cu_result_t (*GetErrorString)(tb_cu_result_t error, const char **str);
    /* Optional (NULL where the driver lacks them): cuFlushGPUDirectRDMAWrites (CUDA 11.3),
     * cuDevicePrimaryCtxGetState, cuDevicePrimaryCtxReset(_v2). */
    tb_cu_result_t (*FlushGPUDirectRDMAWrites)(tb_cu_flush_target_t target,
                                               tb_cu_flush_scope_t scope);
    tb_cu_result_t (*DevicePrimaryCtxGetState)(tb_cu_device_t dev, unsigned int *flags,
                                               int *active);
    tb_cu_result_t (*DevicePrimaryCtxReset)(tb_cu_device_t dev);
} tb_cudrv_t;

/* The process's driver library, opened and cuInit'ed on first call and kept; NULL with
 * *why_p (static text) when it cannot be loaded, lacks a required symbol or cuInit fails.
 * Thread-safe. */
const tb_cudrv_t *tb_cudrv_get(const char **why_p);

/* CUDA's text for a driver error ("CUDA_ERROR_NOT_SUPPORTED"-like message), never NULL. */
const char *tb_cudrv_error(const tb_cudrv_t *d, tb_cu_result_t rc);

#endif
