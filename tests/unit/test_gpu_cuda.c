/* bench/gpu/cuda: the run-time loader against the CUDA runtime double (tests/gpudouble):
 * loading by path and by TOPOBENCH_CUDA_LIB, the messages of a missing library and of a
 * missing symbol, zero devices, CUDA_VISIBLE_DEVICES, device facts, memory of every kind,
 * copies that check their pointers, events timing host work, graph capture and replay,
 * peer access, the corruption fault. No MPI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda.h"
#include "tb_test.h"

#ifndef TB_CUDA_DOUBLE
#error "TB_CUDA_DOUBLE (the double's path) is defined by tests/CMakeLists.txt"
#endif

static void test_load_errors(void)
{
    tb_cuda_t cu;
    char why[TB_CUDA_WHY_LEN];
    /* A file that does not exist: named, with the loader's reason. */
    TB_CHECK_INT(tb_cuda_open("/nonexistent/libcudart.so.13", &cu, why), TB_ERR_ENV);
    TB_CHECK(strstr(why, "/nonexistent/libcudart.so.13") != NULL);
    TB_CHECK(strstr(why, "No such file") != NULL);
    /* A bare name that is nowhere: where the loader searched. */
    TB_CHECK_INT(tb_cuda_open("libtb-no-such-cudart.so", &cu, why), TB_ERR_ENV);
    TB_CHECK(strstr(why, "libtb-no-such-cudart.so") != NULL);
    TB_CHECK(strstr(why, "LD_LIBRARY_PATH") != NULL);
    /* A library without a required symbol: which one. */
    TB_CHECK_INT(tb_cuda_open(TB_CUDA_DOUBLE_NOSYM, &cu, why), TB_ERR_ENV);
    TB_CHECK(strstr(why, "symbol cudaEventElapsedTime missing") != NULL);
    TB_CHECK(strstr(why, "libtb_cudart_double_nosym") != NULL);
    if (tb_test_failures)
        fprintf(stderr, "why: %s\n", why);
}

static void test_devices(void)
{
    tb_cuda_t cu;
    tb_cuda_device_t d0, d1;
    char why[TB_CUDA_WHY_LEN];
    char v[16];

    unsetenv("CUDA_VISIBLE_DEVICES");
    setenv("TOPOBENCH_DOUBLE_DEVICES", "0", 1);
    TB_CHECK_INT(tb_cuda_open(TB_CUDA_DOUBLE, &cu, why), TB_OK);
    TB_CHECK_INT(cu.ndevices, 0);
    TB_CHECK(strstr(cu.why, "no CUDA-capable device is detected (error 100)") != NULL);
    TB_CHECK_INT(cu.runtime_version, 13000);
    tb_cuda_version_string(cu.runtime_version, v, sizeof(v));
    TB_CHECK_STR(v, "13.0");
    tb_cuda_version_string(0, v, sizeof(v));
    TB_CHECK_STR(v, "none");
    tb_cuda_close(&cu);

    /* Through TOPOBENCH_CUDA_LIB, with the default count and a visible subset. */
    unsetenv("TOPOBENCH_DOUBLE_DEVICES");
    setenv("TOPOBENCH_CUDA_LIB", TB_CUDA_DOUBLE, 1);
    setenv("CUDA_VISIBLE_DEVICES", "2,1", 1);
    TB_CHECK_INT(tb_cuda_open(NULL, &cu, why), TB_OK);
    TB_CHECK_STR(cu.path, TB_CUDA_DOUBLE);
    TB_CHECK_INT(cu.ndevices, 2);
    TB_CHECK_STR(cu.why, "");
    TB_CHECK_STR(cu.missing_optional, "");
    TB_CHECK_INT(tb_cuda_device_info(&cu, 0, &d0), TB_OK);
    TB_CHECK_INT(tb_cuda_device_info(&cu, 1, &d1), TB_OK);
    TB_CHECK_STR(d0.name, "topobench double GPU 2");
    TB_CHECK_STR(d0.busid, "0000:58:00.0"); /* 0x18 + 0x20 x 2, lower case, 4-digit domain */
    TB_CHECK_STR(d1.busid, "0000:38:00.0");
    TB_CHECK_INT(d0.cc_major, 9);
    TB_CHECK(d0.total_mem == (size_t)80 << 30);
    TB_CHECK_INT(strlen(d0.uuid), 40);
    TB_CHECK(strncmp(d0.uuid, "GPU-", 4) == 0 && strcmp(d0.uuid, d1.uuid) != 0);
    /* A UUID in CUDA_VISIBLE_DEVICES selects the same device. */
    setenv("CUDA_VISIBLE_DEVICES", d1.uuid, 1);
    {
        int n = -1;
        tb_cuda_device_t d;
        TB_CHECK_INT(cu.GetDeviceCount(&n), 0);
        TB_CHECK_INT(n, 1);
        TB_CHECK_INT(tb_cuda_device_info(&cu, 0, &d), TB_OK);
        TB_CHECK_STR(d.busid, d1.busid);
    }
    /* A failed call is converted with CUDA's own text. */
    TB_CHECK_INT(TB_CUDA_CHECK(&cu, cu.SetDevice(7)), TB_ERR_INTERNAL);
    TB_CHECK_INT(cu.GetLastError(), TB_CUDA_ERR_INVALID_DEVICE);
    TB_CHECK_INT(cu.GetLastError(), 0);
    TB_CHECK_STR(cu.GetErrorName(TB_CUDA_ERR_INVALID_DEVICE), "cudaErrorInvalidDevice");
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("TOPOBENCH_CUDA_LIB");
    tb_cuda_close(&cu);
}

static void test_memory(tb_cuda_t *cu)
{
    enum { N = 1 << 16 };
    unsigned char *host = malloc(N), *back = malloc(N), *pinned = NULL, *managed = NULL;
    void *dev = NULL, *dev2 = NULL;
    tb_cuda_ptr_attr_t at;
    size_t free_b = 0, total = 0;

    for (int i = 0; i < N; i++)
        host[i] = (unsigned char)(i * 7 + 1);
    TB_CHECK_INT(cu->SetDevice(1), 0);
    TB_CHECK_INT(cu->Malloc(&dev, N), 0);
    TB_CHECK_INT(cu->Malloc(&dev2, N), 0);
    TB_CHECK_INT(cu->MemGetInfo(&free_b, &total), 0);
    TB_CHECK(total - free_b == 2 * (size_t)N);
    /* Device memory is not host-addressable in the double either. */
    TB_CHECK((uintptr_t)dev >= ((uintptr_t)1 << 62));
    TB_CHECK_INT(cu->PointerGetAttributes(&at, (char *)dev + 100), 0);
    TB_CHECK_INT(at.type, TB_CUDA_MEMORY_DEVICE);
    TB_CHECK_INT(at.device, 1);
    TB_CHECK_INT(cu->PointerGetAttributes(&at, host), 0);
    TB_CHECK_INT(at.type, TB_CUDA_MEMORY_UNREGISTERED);

    /* Round trip through device memory, with an offset inside the allocation. */
    TB_CHECK_INT(cu->Memcpy(dev, host, N, TB_CUDA_MEMCPY_H2D), 0);
    TB_CHECK_INT(cu->Memcpy(dev2, dev, N, TB_CUDA_MEMCPY_D2D), 0);
    TB_CHECK_INT(cu->Memset((char *)dev2 + 10, 0xab, 5), 0);
    TB_CHECK_INT(cu->Memcpy(back, dev2, N, TB_CUDA_MEMCPY_D2H), 0);
    TB_CHECK(back[9] == host[9] && back[10] == 0xab && back[14] == 0xab && back[15] == host[15]);
    TB_CHECK(memcmp(back + 15, host + 15, N - 15) == 0);
    /* Copies check their pointers: the wrong kind, past the end of an allocation. */
    TB_CHECK_INT(cu->Memcpy(dev, host, N, TB_CUDA_MEMCPY_D2H), TB_CUDA_ERR_INVALID_VALUE);
    TB_CHECK_INT(cu->Memcpy(back, (char *)dev + 1, N, TB_CUDA_MEMCPY_D2H),
                 TB_CUDA_ERR_INVALID_VALUE);
    TB_CHECK_INT(cu->Memcpy(back, host, N, TB_CUDA_MEMCPY_H2D), TB_CUDA_ERR_INVALID_VALUE);
    (void)cu->GetLastError();

    /* Pinned, registered and managed memory. */
    TB_CHECK_INT(cu->HostAlloc((void **)&pinned, N, TB_CUDA_HOST_ALLOC_DEFAULT), 0);
    TB_CHECK_INT(cu->PointerGetAttributes(&at, pinned), 0);
    TB_CHECK_INT(at.type, TB_CUDA_MEMORY_HOST);
    TB_CHECK_INT(cu->HostRegister(back, N, TB_CUDA_HOST_REGISTER_DEFAULT), 0);
    TB_CHECK_INT(cu->HostRegister(back, N, 0), 712); /* already registered */
    TB_CHECK_INT(cu->PointerGetAttributes(&at, back + 5), 0);
    TB_CHECK_INT(at.type, TB_CUDA_MEMORY_HOST);
    TB_CHECK_INT(cu->HostUnregister(back), 0);
    TB_CHECK_INT(cu->HostUnregister(back), 713);
    TB_CHECK_INT(cu->MallocManaged((void **)&managed, N, TB_CUDA_MEM_ATTACH_GLOBAL), 0);
    TB_CHECK_INT(cu->PointerGetAttributes(&at, managed), 0);
    TB_CHECK_INT(at.type, TB_CUDA_MEMORY_MANAGED);
    TB_CHECK_INT(cu->Memcpy(managed, dev, N, TB_CUDA_MEMCPY_D2D), 0);
    TB_CHECK(memcmp(managed, host, N) == 0); /* managed memory is host-addressable */

    /* The fault flips the first byte of device-to-host copies (this process: no rank). */
    setenv("TOPOBENCH_DOUBLE_FAULT", "corrupt_d2h", 1);
    TB_CHECK_INT(cu->Memcpy(back, dev, N, TB_CUDA_MEMCPY_D2H), 0);
    TB_CHECK(back[0] == (host[0] ^ 0x5a) && back[1] == host[1]);
    TB_CHECK_INT(cu->Memcpy(pinned, host, N, TB_CUDA_MEMCPY_H2H), 0);
    TB_CHECK(pinned[0] == host[0]); /* host to host: untouched */
    setenv("TOPOBENCH_DOUBLE_FAULT", "corrupt_d2h:3", 1); /* another rank */
    TB_CHECK_INT(cu->Memcpy(back, dev, N, TB_CUDA_MEMCPY_D2H), 0);
    TB_CHECK(back[0] == host[0]);
    unsetenv("TOPOBENCH_DOUBLE_FAULT");

    TB_CHECK_INT(cu->Free(dev), 0);
    TB_CHECK_INT(cu->Free(dev), TB_CUDA_ERR_INVALID_VALUE);
    TB_CHECK_INT(cu->Free(dev2), 0);
    TB_CHECK_INT(cu->Free(managed), 0);
    TB_CHECK_INT(cu->FreeHost(pinned), 0);
    (void)cu->GetLastError();
    free(host);
    free(back);
}

static void test_streams_graphs(tb_cuda_t *cu)
{
    enum { N = 1 << 20 };
    tb_cuda_stream_t s = NULL;
    tb_cuda_event_t e0 = NULL, e1 = NULL;
    tb_cuda_graph_t g = NULL;
    tb_cuda_graph_exec_t x = NULL;
    unsigned char *host = calloc(1, N), *back = calloc(1, N);
    void *dev = NULL;
    float ms = -1;

    TB_CHECK_INT(cu->SetDevice(0), 0);
    TB_CHECK_INT(cu->Malloc(&dev, N), 0);
    TB_CHECK_INT(cu->StreamCreateWithFlags(&s, TB_CUDA_STREAM_NON_BLOCKING), 0);
    TB_CHECK_INT(cu->EventCreateWithFlags(&e0, TB_CUDA_EVENT_DEFAULT), 0);
    TB_CHECK_INT(cu->EventCreateWithFlags(&e1, TB_CUDA_EVENT_DEFAULT), 0);
    /* Events time the host work queued between them. */
    TB_CHECK_INT(cu->EventRecord(e0, s), 0);
    for (int i = 0; i < 20; i++)
        TB_CHECK_INT(cu->MemcpyAsync(dev, host, N, TB_CUDA_MEMCPY_H2D, s), 0);
    TB_CHECK_INT(cu->EventRecord(e1, s), 0);
    TB_CHECK_INT(cu->EventSynchronize(e1), 0);
    TB_CHECK_INT(cu->EventElapsedTime(&ms, e0, e1), 0);
    TB_CHECK(ms > 0 && ms < 10000);

    /* Capture records instead of running; every launch replays. */
    memset(host, 1, N);
    TB_CHECK_INT(cu->StreamBeginCapture(s, TB_CUDA_CAPTURE_THREAD_LOCAL), 0);
    TB_CHECK_INT(cu->MemsetAsync(dev, 7, N, s), 0);
    TB_CHECK_INT(cu->MemcpyAsync(back, dev, N, TB_CUDA_MEMCPY_D2H, s), 0);
    TB_CHECK(back[0] == 0); /* not run yet */
    TB_CHECK_INT(cu->StreamEndCapture(s, &g), 0);
    TB_CHECK_INT(cu->GraphInstantiateWithFlags(&x, g, 0), 0);
    TB_CHECK_INT(cu->GraphDestroy(g), 0);
    TB_CHECK_INT(cu->GraphLaunch(x, s), 0);
    TB_CHECK_INT(cu->StreamSynchronize(s), 0);
    TB_CHECK(back[0] == 7 && back[N - 1] == 7);
    memset(back, 0, N);
    TB_CHECK_INT(cu->MemcpyAsync(dev, host, N, TB_CUDA_MEMCPY_H2D, s), 0);
    TB_CHECK_INT(cu->GraphLaunch(x, s), 0);
    TB_CHECK(back[5] == 7);
    TB_CHECK_INT(cu->GraphExecDestroy(x), 0);

    /* Peer access: every pair but the ones TOPOBENCH_DOUBLE_NO_PEER lists. */
    {
        int can = -1;
        void *dev1 = NULL;
        setenv("TOPOBENCH_DOUBLE_NO_PEER", "0-3", 1);
        TB_CHECK_INT(cu->DeviceCanAccessPeer(&can, 0, 1), 0);
        TB_CHECK_INT(can, 1);
        TB_CHECK_INT(cu->DeviceCanAccessPeer(&can, 3, 0), 0);
        TB_CHECK_INT(can, 0);
        TB_CHECK_INT(cu->DeviceEnablePeerAccess(1, 0), 0);
        TB_CHECK_INT(cu->DeviceEnablePeerAccess(1, 0), TB_CUDA_ERR_PEER_ACCESS_ALREADY_ENABLED);
        TB_CHECK_INT(cu->DeviceEnablePeerAccess(3, 0), TB_CUDA_ERR_PEER_ACCESS_UNSUPPORTED);
        (void)cu->GetLastError();
        unsetenv("TOPOBENCH_DOUBLE_NO_PEER");
        TB_CHECK_INT(cu->SetDevice(1), 0);
        TB_CHECK_INT(cu->Malloc(&dev1, N), 0);
        TB_CHECK_INT(cu->MemcpyPeerAsync(dev1, 1, dev, 0, N, s), 0);
        TB_CHECK_INT(cu->MemcpyAsync(back, dev1, N, TB_CUDA_MEMCPY_D2H, s), 0);
        TB_CHECK(back[0] == 7); /* the graph's memset */
        TB_CHECK_INT(cu->Free(dev1), 0);
    }
    TB_CHECK_INT(cu->EventDestroy(e0), 0);
    TB_CHECK_INT(cu->EventDestroy(e1), 0);
    TB_CHECK_INT(cu->StreamDestroy(s), 0);
    TB_CHECK_INT(cu->Free(dev), 0);
    free(host);
    free(back);
}

int main(void)
{
    tb_cuda_t cu;
    char why[TB_CUDA_WHY_LEN];
    test_load_errors();
    test_devices();
    unsetenv("TOPOBENCH_DOUBLE_DEVICES");
    unsetenv("CUDA_VISIBLE_DEVICES");
    if (tb_cuda_open(TB_CUDA_DOUBLE, &cu, why) != TB_OK) {
        fprintf(stderr, "cannot load the double: %s\n", why);
        return 1;
    }
    TB_CHECK_INT(cu.ndevices, 4);
    test_memory(&cu);
    test_streams_graphs(&cu);
    /* The process-wide runtime opens once and keeps its answer. */
    setenv("TOPOBENCH_CUDA_LIB", TB_CUDA_DOUBLE, 1);
    {
        const char *w = NULL;
        const tb_cuda_t *a = tb_cuda_get(&w), *b = tb_cuda_get(NULL);
        TB_CHECK(a != NULL && a == b);
        TB_CHECK_STR(w, "");
    }
    tb_cuda_close(&cu);
    return tb_test_done();
}
