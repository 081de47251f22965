/* Hand-timed cudaMemcpy between pinned host memory and one GPU, the reference
 * scripts/gpu-check.sh sets topobench's gpu_copy host<->device cells against. Deliberately
 * naive and sharing no code with topobench: linked to the CUDA runtime (no dlopen), no
 * streams or events; each direction is WARMUP blocking cudaMemcpy calls, then ITERS of
 * them between two clock_gettime(CLOCK_MONOTONIC) reads. Bandwidth = BYTES x ITERS / that
 * time, GB/s = 1e9 bytes/s. Host memory is wherever the process's memory policy puts it:
 * run it under `numactl --membind=N --cpunodebind=N` to place it on NUMA node N (the
 * script does where numactl exists). Every byte is checked after the last copy each way.
 * Prints one line per direction: "h2d DEVICE BYTES GBPS" and "d2h DEVICE BYTES GBPS".
 * Build: cc -O2 -I$CUDA/include -o ref_memcpy ref_memcpy.c -L$CUDA/lib64 -lcudart
 * Usage: ref_memcpy DEVICE BYTES ITERS WARMUP */
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int ok(cudaError_t e, const char *what)
{
    if (e == cudaSuccess)
        return 1;
    fprintf(stderr, "ref_memcpy: %s: %s\n", what, cudaGetErrorString(e));
    return 0;
}

int main(int argc, char **argv)
{
    int dev, iters, warmup;
    size_t bytes;
    unsigned char *host, *back;
    void *d;

    if (argc < 5) {
        fprintf(stderr, "usage: ref_memcpy DEVICE BYTES ITERS WARMUP\n");
        return 2;
    }
    dev = atoi(argv[1]);
    bytes = strtoull(argv[2], NULL, 10);
    iters = atoi(argv[3]);
    warmup = atoi(argv[4]);
    if (bytes == 0 || iters <= 0 || warmup < 0)
        return 2;
    if (!ok(cudaSetDevice(dev), "cudaSetDevice") ||
        !ok(cudaHostAlloc((void **)&host, bytes, cudaHostAllocDefault), "cudaHostAlloc") ||
        !ok(cudaHostAlloc((void **)&back, bytes, cudaHostAllocDefault), "cudaHostAlloc") ||
        !ok(cudaMalloc(&d, bytes), "cudaMalloc"))
        return 1;
    for (size_t i = 0; i < bytes; i++)
        host[i] = (unsigned char)(i * 7 + 3);
    memset(back, 0, bytes);

    for (int dir = 0; dir < 2; dir++) {
        double t0 = 0;
        for (int k = 0; k < warmup + iters; k++) {
            if (k == warmup)
                t0 = now();
            if (dir == 0 ? !ok(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice), "h2d")
                         : !ok(cudaMemcpy(back, d, bytes, cudaMemcpyDeviceToHost), "d2h"))
                return 1;
        }
        printf("%s %d %zu %.4f\n", dir == 0 ? "h2d" : "d2h", dev, bytes,
               (double)bytes * iters / (now() - t0) / 1e9);
    }
    if (memcmp(host, back, bytes) != 0) {
        fprintf(stderr, "ref_memcpy: the data read back differs from the data written\n");
        return 6;
    }
    return 0;
}
