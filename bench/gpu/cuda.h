/* The CUDA runtime, loaded at run time: one binary runs on CPU-only nodes, GPU nodes and
 * the tests' double (tests/gpudouble), and says what it skipped and why.
 *
 * How to use it (the NCCL and copy-matrix code builds on this):
 *
 *     const tb_cuda_t *cu;
 *     const char *why;
 *     if (!(cu = tb_cuda_get(&why)))      // no library, or a symbol missing: skip
 *         ... record a skip with `why` ...
 *     else if (cu->ndevices == 0)        // loaded, but no device or no driver: skip
 *         ... record a skip with cu->why ...
 *     TB_CUDA_TRY(cu, cu->SetDevice(dev));
 *     TB_CUDA_TRY(cu, cu->Malloc(&p, bytes));
 *
 * Every CUDA runtime call topobench makes is one member of tb_cuda_t, named after the
 * CUDA function without its `cuda` prefix (cu->MemcpyAsync is cudaMemcpyAsync) and with
 * its exact prototype. Which library: TOPOBENCH_CUDA_LIB (a file name or path) when set,
 * else the default sonames in order (TB_CUDA_DEFAULT_LIBS). A failure to load says which
 * library, which paths were searched and which symbol was missing.
 *
 * Types: where the CUDA headers were present at build time (TB_CUDA_HEADERS=1, CMake's
 * TB_WITH_CUDA), the tb_cuda_* types below are the headers' own types and every member's
 * prototype is checked at compile time against cuda_runtime_api.h (cuda.c); without them
 * the same declarations use this header's minimal types of the same ABI, and the code
 * still compiles and runs (the values of the constants below are CUDA's, stable since
 * CUDA 4). Nothing here links the CUDA runtime.
 *
 * Constants use CUDA's values under TB_CUDA_ names; members take and return the CUDA
 * types. Errors are converted at the boundary by one macro (TB_CUDA_CHECK), which logs
 * cudaGetErrorString's text with the call and file:line and yields TB_ERR_INTERNAL. */
#ifndef TB_BENCH_GPU_CUDA_H
#define TB_BENCH_GPU_CUDA_H

#include <stddef.h>

#include "status.h"

#if TB_CUDA_HEADERS
#include <cuda_runtime_api.h>
typedef cudaError_t tb_cuda_err_t;
typedef cudaStream_t tb_cuda_stream_t;
typedef cudaEvent_t tb_cuda_event_t;
typedef cudaGraph_t tb_cuda_graph_t;
typedef cudaGraphExec_t tb_cuda_graph_exec_t;
typedef enum cudaMemcpyKind tb_cuda_memcpy_kind_t;
typedef enum cudaDeviceAttr tb_cuda_attr_t;
typedef enum cudaStreamCaptureMode tb_cuda_capture_mode_t;
typedef struct cudaPointerAttributes tb_cuda_ptr_attr_t;
typedef struct cudaDeviceProp tb_cuda_prop_t;
#else
/* The ABI of the same types: an enum is an int, handles are opaque pointers. */
typedef int tb_cuda_err_t;
typedef struct CUstream_st *tb_cuda_stream_t;
typedef struct CUevent_st *tb_cuda_event_t;
typedef struct CUgraph_st *tb_cuda_graph_t;
typedef struct CUgraphExec_st *tb_cuda_graph_exec_t;
typedef int tb_cuda_memcpy_kind_t;
typedef int tb_cuda_attr_t;
typedef int tb_cuda_capture_mode_t;
typedef struct tb_cuda_ptr_attr {
    int type; /* TB_CUDA_MEMORY_* */
    int device;
    void *devicePointer;
    void *hostPointer;
} tb_cuda_ptr_attr_t;
/* cudaDeviceProp is passed as an opaque buffer (tb_cuda_device_info reads its stable
 * prefix); the real struct's size changes between releases. */
typedef struct tb_cuda_prop tb_cuda_prop_t;
#endif

/* CUDA's values (plain integers: they compare with and convert to the enums of the headers
 * without warnings). */
#define TB_CUDA_SUCCESS 0
#define TB_CUDA_ERR_INVALID_VALUE 1
#define TB_CUDA_ERR_MEMORY_ALLOCATION 2
#define TB_CUDA_ERR_INSUFFICIENT_DRIVER 35
#define TB_CUDA_ERR_NO_DEVICE 100
#define TB_CUDA_ERR_INVALID_DEVICE 101
#define TB_CUDA_ERR_PEER_ACCESS_UNSUPPORTED 217
#define TB_CUDA_ERR_INVALID_HANDLE 400
#define TB_CUDA_ERR_NOT_READY 600
#define TB_CUDA_ERR_PEER_ACCESS_ALREADY_ENABLED 704
#define TB_CUDA_ERR_NOT_SUPPORTED 801
#define TB_CUDA_ERR_CAPTURE_UNSUPPORTED 900
#define TB_CUDA_MEMCPY_H2H 0
#define TB_CUDA_MEMCPY_H2D 1
#define TB_CUDA_MEMCPY_D2H 2
#define TB_CUDA_MEMCPY_D2D 3
#define TB_CUDA_MEMCPY_DEFAULT 4
#define TB_CUDA_MEMORY_UNREGISTERED 0
#define TB_CUDA_MEMORY_HOST 1
#define TB_CUDA_MEMORY_DEVICE 2
#define TB_CUDA_MEMORY_MANAGED 3
#define TB_CUDA_ATTR_PCI_BUS_ID 33
#define TB_CUDA_ATTR_PCI_DEVICE_ID 34
#define TB_CUDA_ATTR_ASYNC_ENGINE_COUNT 40
#define TB_CUDA_ATTR_UNIFIED_ADDRESSING 41
#define TB_CUDA_ATTR_PCI_DOMAIN_ID 50
#define TB_CUDA_ATTR_CC_MAJOR 75
#define TB_CUDA_ATTR_CC_MINOR 76
#define TB_CUDA_ATTR_MANAGED_MEMORY 83
#define TB_CUDA_ATTR_CONCURRENT_MANAGED_ACCESS 89
#define TB_CUDA_STREAM_NON_BLOCKING 0x01u
#define TB_CUDA_EVENT_DEFAULT 0x00u
#define TB_CUDA_EVENT_DISABLE_TIMING 0x02u
#define TB_CUDA_HOST_ALLOC_DEFAULT 0x00u
#define TB_CUDA_HOST_REGISTER_DEFAULT 0x00u
#define TB_CUDA_MEM_ATTACH_GLOBAL 0x01u
#define TB_CUDA_CAPTURE_GLOBAL 0
#define TB_CUDA_CAPTURE_THREAD_LOCAL 1
#define TB_CUDA_CAPTURE_RELAXED 2

/* Every function loaded: X(member, return type, (parameters), optional, other symbol).
 * The symbol is "cuda" #member, or `other symbol` first where it is not NULL (a later
 * name of the same call). A missing required symbol fails the load; a missing optional
 * one leaves its member NULL (tb_cuda_t.missing_optional says which). Add rows at the
 * end of a group; never rename one (other code uses the members). */
#define TB_CUDA_FUNCS(X)                                                                       \
    /* devices */                                                                              \
    X(GetDeviceCount, tb_cuda_err_t, (int *count), 0, NULL)                                     \
    X(SetDevice, tb_cuda_err_t, (int device), 0, NULL)                                          \
    X(GetDevice, tb_cuda_err_t, (int *device), 0, NULL)                                         \
    X(GetDeviceProperties, tb_cuda_err_t, (tb_cuda_prop_t * prop, int device), 0,               \
      "cudaGetDeviceProperties_v2")                                                            \
    X(DeviceGetAttribute, tb_cuda_err_t, (int *value, tb_cuda_attr_t attr, int device), 0, NULL) \
    X(DeviceGetPCIBusId, tb_cuda_err_t, (char *pciBusId, int len, int device), 0, NULL)         \
    X(DriverGetVersion, tb_cuda_err_t, (int *driverVersion), 0, NULL)                           \
    X(RuntimeGetVersion, tb_cuda_err_t, (int *runtimeVersion), 0, NULL)                         \
    X(DeviceSynchronize, tb_cuda_err_t, (void), 0, NULL)                                        \
    X(MemGetInfo, tb_cuda_err_t, (size_t * free, size_t *total), 0, NULL)                       \
    X(DeviceCanAccessPeer, tb_cuda_err_t, (int *canAccessPeer, int device, int peerDevice), 0,  \
      NULL)                                                                                    \
    X(DeviceEnablePeerAccess, tb_cuda_err_t, (int peerDevice, unsigned int flags), 0, NULL)     \
    /* errors */                                                                               \
    X(GetErrorString, const char *, (tb_cuda_err_t error), 0, NULL)                             \
    X(GetErrorName, const char *, (tb_cuda_err_t error), 0, NULL)                               \
    X(GetLastError, tb_cuda_err_t, (void), 0, NULL)                                             \
    /* memory */                                                                               \
    X(Malloc, tb_cuda_err_t, (void **devPtr, size_t size), 0, NULL)                             \
    X(Free, tb_cuda_err_t, (void *devPtr), 0, NULL)                                             \
    X(HostAlloc, tb_cuda_err_t, (void **pHost, size_t size, unsigned int flags), 0, NULL)       \
    X(FreeHost, tb_cuda_err_t, (void *ptr), 0, NULL)                                            \
    X(HostRegister, tb_cuda_err_t, (void *ptr, size_t size, unsigned int flags), 0, NULL)       \
    X(HostUnregister, tb_cuda_err_t, (void *ptr), 0, NULL)                                      \
    X(MallocManaged, tb_cuda_err_t, (void **devPtr, size_t size, unsigned int flags), 0, NULL)  \
    X(PointerGetAttributes, tb_cuda_err_t, (tb_cuda_ptr_attr_t * attributes, const void *ptr),  \
      0, NULL)                                                                                 \
    X(Memcpy, tb_cuda_err_t,                                                                   \
      (void *dst, const void *src, size_t count, tb_cuda_memcpy_kind_t kind), 0, NULL)         \
    X(MemcpyAsync, tb_cuda_err_t,                                                              \
      (void *dst, const void *src, size_t count, tb_cuda_memcpy_kind_t kind,                   \
       tb_cuda_stream_t stream),                                                               \
      0, NULL)                                                                                 \
    X(MemcpyPeerAsync, tb_cuda_err_t,                                                          \
      (void *dst, int dstDevice, const void *src, int srcDevice, size_t count,                 \
       tb_cuda_stream_t stream),                                                               \
      0, NULL)                                                                                 \
    X(Memset, tb_cuda_err_t, (void *devPtr, int value, size_t count), 0, NULL)                  \
    X(MemsetAsync, tb_cuda_err_t,                                                              \
      (void *devPtr, int value, size_t count, tb_cuda_stream_t stream), 0, NULL)               \
    /* streams and events */                                                                   \
    X(StreamCreateWithFlags, tb_cuda_err_t, (tb_cuda_stream_t * pStream, unsigned int flags),   \
      0, NULL)                                                                                 \
    X(StreamDestroy, tb_cuda_err_t, (tb_cuda_stream_t stream), 0, NULL)                         \
    X(StreamSynchronize, tb_cuda_err_t, (tb_cuda_stream_t stream), 0, NULL)                     \
    X(StreamQuery, tb_cuda_err_t, (tb_cuda_stream_t stream), 0, NULL)                           \
    X(StreamWaitEvent, tb_cuda_err_t,                                                          \
      (tb_cuda_stream_t stream, tb_cuda_event_t event, unsigned int flags), 0, NULL)           \
    X(EventCreateWithFlags, tb_cuda_err_t, (tb_cuda_event_t * event, unsigned int flags), 0,    \
      NULL)                                                                                    \
    X(EventRecord, tb_cuda_err_t, (tb_cuda_event_t event, tb_cuda_stream_t stream), 0, NULL)    \
    X(EventSynchronize, tb_cuda_err_t, (tb_cuda_event_t event), 0, NULL)                        \
    X(EventElapsedTime, tb_cuda_err_t, (float *ms, tb_cuda_event_t start, tb_cuda_event_t end), \
      0, NULL)                                                                                 \
    X(EventDestroy, tb_cuda_err_t, (tb_cuda_event_t event), 0, NULL)                            \
    /* CUDA graphs (optional: a runtime without them runs everything but graph mode) */        \
    X(StreamBeginCapture, tb_cuda_err_t, (tb_cuda_stream_t stream, tb_cuda_capture_mode_t mode), \
      1, NULL)                                                                                 \
    X(StreamEndCapture, tb_cuda_err_t, (tb_cuda_stream_t stream, tb_cuda_graph_t * pGraph), 1,  \
      NULL)                                                                                    \
    X(GraphInstantiateWithFlags, tb_cuda_err_t,                                                \
      (tb_cuda_graph_exec_t * pGraphExec, tb_cuda_graph_t graph, unsigned long long flags), 1, \
      NULL)                                                                                    \
    X(GraphLaunch, tb_cuda_err_t, (tb_cuda_graph_exec_t graphExec, tb_cuda_stream_t stream), 1, \
      NULL)                                                                                    \
    X(GraphExecDestroy, tb_cuda_err_t, (tb_cuda_graph_exec_t graphExec), 1, NULL)               \
    X(GraphDestroy, tb_cuda_err_t, (tb_cuda_graph_t graph), 1, NULL)

/* Default sonames, tried in order (the first that loads and has every required symbol
 * wins; the reason each one failed is kept). */
#define TB_CUDA_DEFAULT_LIBS                                                                   \
    { "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so" }

#define TB_CUDA_WHY_LEN 1024

typedef struct tb_cuda {
    void *lib;             /* dlopen handle */
    char path[512];        /* the library loaded: as named (soname or path) */
    char resolved[512];    /* the file it resolved to (dladdr), "" unknown */
    int runtime_version;   /* cudaRuntimeGetVersion: 13000 = 13.0 */
    int driver_version;    /* cudaDriverGetVersion: 0 when no driver is installed */
    int ndevices;          /* visible devices; 0 when none or the count failed */
    /* Why ndevices is 0 ("cudaGetDeviceCount: no CUDA-capable device is detected (error
     * 100)"), or "" when devices are usable. */
    char why[TB_CUDA_WHY_LEN];
    char missing_optional[256]; /* optional symbols absent, space-separated, "" none */
#define TB_CUDA_MEMBER(name, ret, args, optional, other) ret(*name) args;
    TB_CUDA_FUNCS(TB_CUDA_MEMBER)
#undef TB_CUDA_MEMBER
} tb_cuda_t;

/* Opens a CUDA runtime into *cu: `lib` (a soname or path) when not NULL, else
 * TOPOBENCH_CUDA_LIB when set, else TB_CUDA_DEFAULT_LIBS in order. Then reads the runtime
 * and driver versions and the device count (ndevices, why). Returns TB_ERR_ENV when no
 * library could be loaded with every required symbol; `why` (TB_CUDA_WHY_LEN bytes)
 * then says which libraries were tried, where the loader searched and which symbol was
 * missing. Logs nothing: a missing GPU library is a skip, which the caller says once. */
TB_NODISCARD tb_status_t tb_cuda_open(const char *lib, tb_cuda_t *cu, char *why);
void tb_cuda_close(tb_cuda_t *cu);

/* Where the dynamic loader looks for a bare soname (LD_LIBRARY_PATH, the ld.so cache,
 * /lib, /usr/lib), for the messages of every library opened at run time (CUDA, NCCL). */
void tb_dl_search_paths(char *buf, size_t len);

/* The process's runtime, opened on first call (tb_cuda_open(NULL, ...)) and kept until
 * exit. NULL when it cannot be loaded, with *why_p (static text) saying why. A loaded
 * runtime may still have ndevices == 0 (cu->why). Thread-safe. */
const tb_cuda_t *tb_cuda_get(const char **why_p);

/* One device as the run records it. */
typedef struct tb_cuda_device {
    int index;         /* index in the visible devices (after CUDA_VISIBLE_DEVICES) */
    char name[256];
    char uuid[48];     /* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi -L */
    char busid[32];    /* "0000:1b:00.0": lower case, 4-digit domain, as sysfs and topo */
    int cc_major, cc_minor;
    size_t total_mem;  /* bytes */
} tb_cuda_device_t;

/* Fills *dev for visible device `index` (logs and returns TB_ERR_INTERNAL on a failed
 * call). */
TB_NODISCARD tb_status_t tb_cuda_device_info(const tb_cuda_t *cu, int index,
                                             tb_cuda_device_t *dev);

/* "13.0" from 13000; "none" for 0. */
void tb_cuda_version_string(int version, char *buf, size_t len);

/* Backend errors are converted here: logs the call, CUDA's error name and text and
 * file:line, and yields TB_ERR_INTERNAL (TB_OK for success). */
#define TB_CUDA_CHECK(cu, call) tb_cuda_status((cu), (call), #call, __FILE__, __LINE__)
tb_status_t tb_cuda_status(const tb_cuda_t *cu, tb_cuda_err_t rc, const char *what,
                           const char *file, int line);
/* The same, returning from the calling function on failure. */
#define TB_CUDA_TRY(cu, call)                                                                  \
    do {                                                                                       \
        tb_status_t tb_cuda_try_st_ = TB_CUDA_CHECK(cu, call);                                 \
        if (tb_cuda_try_st_ != TB_OK)                                                          \
            return tb_cuda_try_st_;                                                            \
    } while (0)

#endif
