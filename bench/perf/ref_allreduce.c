/* Independent reference for topobench's all_reduce timing (bench/perf/compare_netpipe.sh).
 * Deliberately naive and sharing no code with topobench: the OSU micro-benchmarks'
 * method (osu_allreduce) in a few lines. Per size: a barrier, `warmup` untimed calls, then
 * `iters` timed calls of MPI_Allreduce(MPI_FLOAT, MPI_SUM, out-of-place), each timed on its
 * own with a barrier after it; every rank averages its own times and the job reports the
 * mean of those averages over ranks (OSU's "Avg Latency", topobench's headline).
 * Build: mpicc -O2 -o ref_allreduce ref_allreduce.c
 * Usage: mpirun -np N ref_allreduce BYTES [ITERS [WARMUP]]
 * Output (rank 0): "BYTES AVG_US" per line, the time in microseconds. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, nranks, iters, warmup;
    long bytes;
    size_t count;
    float *in, *out;
    double t, sum = 0, avg, total = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc < 2) {
        if (rank == 0)
            fprintf(stderr, "usage: ref_allreduce BYTES [ITERS [WARMUP]]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    bytes = atol(argv[1]);
    iters = argc > 2 ? atoi(argv[2]) : 100;
    warmup = argc > 3 ? atoi(argv[3]) : 10;
    count = (size_t)bytes / sizeof(float);
    in = malloc(count * sizeof(float));
    out = malloc(count * sizeof(float));
    if (bytes <= 0 || iters <= 0 || warmup < 0 || !in || !out) {
        fprintf(stderr, "ref_allreduce: bad arguments or out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size_t i = 0; i < count; i++)
        in[i] = (float)(rank + 1);

    MPI_Barrier(MPI_COMM_WORLD);
    for (int i = 0; i < warmup + iters; i++) {
        t = MPI_Wtime();
        MPI_Allreduce(in, out, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t = MPI_Wtime() - t;
        if (i >= warmup)
            sum += t;
        MPI_Barrier(MPI_COMM_WORLD);
    }
    avg = sum / iters;
    MPI_Reduce(&avg, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%ld %.3f\n", bytes, total / nranks * 1e6);
    free(in);
    free(out);
    MPI_Finalize();
    return 0;
}
