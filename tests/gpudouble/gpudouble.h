/* The CUDA runtime test double (cudart_double.c), as other test doubles (NCCL's) use it.
 *
 * libtb_cudart_double.so exports the CUDA runtime calls topobench makes (bench/gpu/cuda.h,
 * TB_CUDA_FUNCS) and is loaded through the same path as the real runtime
 * (TOPOBENCH_CUDA_LIB=/path/to/libtb_cudart_double.so). It implements:
 *
 *  - N fake devices (TOPOBENCH_DOUBLE_DEVICES, default 4; 0: cudaGetDeviceCount fails
 *    with cudaErrorNoDevice as on a node without GPUs), filtered and renumbered by
 *    CUDA_VISIBLE_DEVICES (indices or UUIDs) as the real runtime does. Device i (physical)
 *    is "topobench double GPU i", PCI bus id 0000:XX:00.0 with XX = 0x18 + 0x20 i (mod
 *    256), UUID GPU-7d0b1e00-000i-... (host-independent), compute capability 9.0, 80 GiB.
 *  - Device memory in host memory, at an address the host cannot dereference: a device
 *    pointer is the host address plus TB_DOUBLE_DEV_OFFSET (a non-canonical address on
 *    x86-64), so code that touches device memory without a copy crashes here as it would
 *    on a GPU. TB_DOUBLE_HOST_OF() gives the host address (pointer arithmetic inside an
 *    allocation is preserved). Copies check that a device range lies inside one
 *    allocation (cudaErrorInvalidValue otherwise) and that the memcpy kind matches the
 *    pointers. Pinned (cudaHostAlloc, cudaHostRegister) and managed memory are ordinary
 *    host memory, recorded so cudaPointerGetAttributes tells the kinds apart.
 *  - Streams and events that time host work: an operation runs when it is queued, an
 *    event records the host clock (CLOCK_MONOTONIC), so cudaEventElapsedTime is the host
 *    time of the work between two events. The figures mean nothing about any GPU.
 *  - Graph capture that records and replays: between cudaStreamBeginCapture and
 *    cudaStreamEndCapture the stream's operations are recorded, not run; a graph's
 *    instantiation replays them, in order, at every cudaGraphLaunch.
 *  - Peer access between every pair of visible devices, except the pairs of physical
 *    indices in TOPOBENCH_DOUBLE_NO_PEER ("0-3,1-2"); enabling it twice fails with
 *    cudaErrorPeerAccessAlreadyEnabled as in CUDA.
 *  - A fault: TOPOBENCH_DOUBLE_FAULT=corrupt_d2h[:RANK] flips one byte (the first) of
 *    every device-to-host copy, on every process or only on the MPI rank RANK
 *    (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK), so a data check must find it.
 *
 * libtb_cudart_double_nosym.so is the same library without cudaEventElapsedTime (a runtime
 * with a required symbol missing).
 *
 * Another double (NCCL's) that works on the same device memory links this library (one
 * instance per process: the dynamic loader maps the same file once) and uses:
 *  - TB_DOUBLE_HOST_OF(p) to read and write device memory;
 *  - tb_double_enqueue(stream, fn, arg, size): runs fn(copy of arg) as stream work now, or,
 *    while the stream is being captured, records it into the graph to run at every launch. */
#ifndef TB_TESTS_GPUDOUBLE_H
#define TB_TESTS_GPUDOUBLE_H

#include <stddef.h>
#include <stdint.h>

#define TB_DOUBLE_DEV_OFFSET ((uintptr_t)1 << 62)
#define TB_DOUBLE_IS_DEV(p) ((uintptr_t)(p) >= TB_DOUBLE_DEV_OFFSET)
#define TB_DOUBLE_HOST_OF(p)                                                                   \
    ((void *)(TB_DOUBLE_IS_DEV(p) ? (uintptr_t)(p) - TB_DOUBLE_DEV_OFFSET : (uintptr_t)(p)))

struct CUstream_st;
/* 0 on success, 1 (cudaErrorInvalidValue) when fn is NULL or arg cannot be copied. */
int tb_double_enqueue(struct CUstream_st *stream, void (*fn)(void *arg), const void *arg,
                      size_t arg_size);

#endif
