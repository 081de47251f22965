/* The verbs tests and the GPUDirect RDMA verdict as `topobench run` calls them
 * (docs/verbs.md). verbs_run.c: verbs_write_bw, verbs_read_bw, verbs_send_bw,
 * verbs_write_lat, verbs_send_lat, verbs_matrix; verbs_gdr.c: gdr. */
#ifndef TB_BENCH_VERBS_RUN_H
#define TB_BENCH_VERBS_RUN_H

#include "suite.h"
#include "verbs_ib.h"
#include "verbs_setup.h"

/* Every rank: the selected verbs tests, each recorded (or skipped with its reason) by rank
 * 0; returns the agreed worst status (a skip is TB_OK). */
TB_NODISCARD tb_status_t tb_verbs_run_tests(tb_suite_t *s);

/* Every rank: the gdr test (verbs_gdr.c). */
TB_NODISCARD tb_status_t tb_verbs_gdr_run(tb_suite_t *s);

/* Shared by verbs_run.c and verbs_gdr.c. One rank's end of a test: its port, the host
 * buffer (2 x half bytes) registered on it. */
typedef struct tb_verbs_side {
    char dev[TB_VERBS_DEV_LEN];
    int port;
    char chosen_by[256];
    tb_verbs_port_info_t *info;
    tb_verbs_gid_choice_t gid;
    struct tb_vib *vib;
    unsigned char *buf;
    size_t half;
} tb_verbs_side_t;

/* The options of a port handle for the side's port (--qps, --tx-depth, --tclass, --sl, the
 * chosen GID). */
void tb_verbs_vib_cfg(const tb_suite_t *s, const tb_verbs_side_t *sd, tb_vib_cfg_t *cfg);

/* The port (--hca, else the NIC nearest the rank's GPU or cores) opened with a host buffer
 * of 2 x `max` registered. TB_ERR_ENV: skip, with `why` (the locked-memory limit among
 * them); other failures with `why` too. */
TB_NODISCARD tb_status_t tb_verbs_side_open(tb_suite_t *s, tb_verbs_side_t *sd, size_t max,
                                            char *why, size_t wlen);
void tb_verbs_side_close(tb_verbs_side_t *sd);
void *tb_verbs_side_json(const tb_verbs_side_t *sd); /* json_t * */

/* Every rank of `c`: the worst status, and in `all` (when given) "host: why" of the ranks
 * at that status that gave a reason (an empty `why` is none). */
tb_status_t tb_verbs_agree(const tb_rt_t *rt, MPI_Comm c, tb_status_t local, const char *why,
                           char *all, size_t len);

/* The memory a ring round moves: registration on a port handle, and copies from and to the
 * host for the data check; the receive half starts at `half` (writers target it, so the
 * source half is never overwritten while it is sent). */
typedef struct tb_verbs_ring_mem {
    int (*reg)(struct tb_vib *v, void *arg);                      /* 0 or errno */
    int (*put)(void *arg, size_t off, const void *src, size_t n); /* 0 ok */
    int (*get)(void *arg, size_t off, void *dst, size_t n);       /* 0 ok */
    void *arg;
    size_t half;
} tb_verbs_ring_mem_t;

/* The side's host buffer as ring memory. */
void tb_verbs_ring_mem_host(tb_verbs_side_t *sd, tb_verbs_ring_mem_t *m);

/* One shift round over the node leaders `lc`: this node runs `iters` operations `op` of
 * `size` bytes to node (i + d) % N (its outgoing bandwidth in *gbps) while node i - d does
 * the same to it, on two connections of the side's port. Writes are checked: the source
 * half carries this node's byte pattern, and *wrong_p counts the bytes of the receive half
 * that differ from the predecessor's (0 for reads). Returns, the same on every node:
 * TB_ERR_ENV or TB_ERR_INTERNAL when the round could not be set up somewhere (`why`: "ring
 * not run: host: reason; ..."), TB_ERR_INTERNAL when a transfer failed somewhere: `nodes`
 * (N entries, when not NULL) says whose and with which error (tb_verbs_ring_judge), `why`
 * this node's own error or ""; a usage error as such. */
TB_NODISCARD tb_status_t tb_verbs_ring_round(tb_suite_t *s, MPI_Comm lc, const tb_verbs_side_t *sd,
                                             int d, const tb_verbs_ring_mem_t *m, int op,
                                             size_t size, long iters, double *gbps, size_t *wrong_p,
                                             tb_verbs_ring_node_t *nodes, char *why, size_t wlen);

/* Whether any node's transfer failed in a ring round's `nodes`. */
int tb_verbs_ring_any_failed(const tb_verbs_ring_node_t *nodes, int n);

/* perftest's iteration count for a size (-n, else 5000 for bandwidth, 1000 for latency,
 * at most 4 GiB per size). */
long tb_verbs_iterations(const tb_opts_t *o, int latency, size_t size);

#endif
