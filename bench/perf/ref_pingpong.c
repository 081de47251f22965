/* Independent ping-pong for bench/perf/compare_netpipe.sh, deliberately naive and sharing no
 * code with topobench. It exists to explain a difference between topobench and NetPIPE:
 * NetPIPE (in its default cache mode) sends back the very buffer it just received into,
 * OSU and topobench send from a buffer of their own. Both variants here:
 *   BUFFERS=2: send buffer and receive buffer apart (OSU, topobench)
 *   BUFFERS=1: one buffer per rank, received into and sent from (NetPIPE)
 * Rank 0 sends, rank 1 receives and sends back, with blocking MPI_Send/MPI_Recv; after
 * WARMUP round trips, ITERS timed ones; prints "BYTES US", the mean half round trip.
 * Build: mpicc -O2 -o ref_pingpong ref_pingpong.c
 * Usage: mpirun -np 2 ref_pingpong BYTES ITERS WARMUP BUFFERS */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rank, iters, warmup, nbuf, n, peer;
    char *sbuf, *rbuf;
    double t0 = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc < 5) {
        if (rank == 0)
            fprintf(stderr, "usage: ref_pingpong BYTES ITERS WARMUP BUFFERS\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    n = atoi(argv[1]);
    iters = atoi(argv[2]);
    warmup = atoi(argv[3]);
    nbuf = atoi(argv[4]);
    peer = 1 - rank;
    rbuf = malloc((size_t)n + 4096);
    sbuf = nbuf == 1 ? rbuf : malloc((size_t)n + 4096);
    if (n <= 0 || iters <= 0 || warmup < 0 || (nbuf != 1 && nbuf != 2) || !rbuf || !sbuf) {
        fprintf(stderr, "ref_pingpong: bad arguments or out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    memset(rbuf, 1, (size_t)n);
    memset(sbuf, 2, (size_t)n);

    MPI_Barrier(MPI_COMM_WORLD);
    for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup)
            t0 = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(sbuf, n, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
            MPI_Recv(rbuf, n, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(rbuf, n, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(sbuf, n, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
        }
    }
    if (rank == 0)
        printf("%d %.4f\n", n, (MPI_Wtime() - t0) / iters / 2 * 1e6);
    if (sbuf != rbuf)
        free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
