/* Transports: how the point-to-point tests and the matrices move their messages between
 * ranks. A memory kind is one table of operations (mem.h) and a transport another, so a
 * test is written once and runs over MPI or UCX (UCX's perf tool separates its tests from
 * their launcher the same way). --backend picks the transport; the entries record it as
 * their `backend` key.
 *
 * A transport is bound to a communicator: peers are ranks of that communicator, and the
 * requests live in numbered slots, so a test says "post the window's receives in slots
 * 0..w-1" whatever the transport's request type is. Barriers, reductions of the figures
 * and the agreement on failure stay MPI's (the launcher's part). */
#ifndef TB_BENCH_XPORT_H
#define TB_BENCH_XPORT_H

#include <stddef.h>

#include "rt.h"
#include "status.h"

struct tb_suite;
typedef struct tb_xport tb_xport_t;

typedef struct tb_xport_ops {
    const char *name; /* "mpi", "ucx": --backend and the entries' backend key */
    /* Binds x (comm, rank, size set by tb_xport_open) with `nslots` request slots. Local: no
     * collective call, so callers agree on its status. */
    tb_status_t (*open)(const struct tb_suite *s, tb_xport_t *x, int nslots);
    void (*close)(tb_xport_t *x);
    /* Blocking send and receive of n bytes to and from comm rank `peer`. */
    tb_status_t (*send)(tb_xport_t *x, const void *buf, size_t n, int peer, int tag);
    tb_status_t (*recv)(tb_xport_t *x, void *buf, size_t n, int peer, int tag);
    /* Non-blocking ones in request slot `slot`, completed by testall or waitall. */
    tb_status_t (*isend)(tb_xport_t *x, int slot, const void *buf, size_t n, int peer, int tag);
    tb_status_t (*irecv)(tb_xport_t *x, int slot, void *buf, size_t n, int peer, int tag);
    /* Slots [first, first + count): *done_p = 1 when all completed (then freed). */
    tb_status_t (*testall)(tb_xport_t *x, int first, int count, int *done_p);
    tb_status_t (*waitall)(tb_xport_t *x, int first, int count);
    /* Drives the transport while the caller waits on something else (an MPI barrier);
     * NULL when MPI's own progress is all there is. */
    void (*progress)(tb_xport_t *x);
    /* What the transport selected to reach comm rank `peer`: its own report, whole, as a
     * new string (the caller frees it), or NULL when it has nothing to say (no endpoint to
     * that peer). NULL for a transport that never reports (MPI). */
    char *(*describe)(tb_xport_t *x, int peer);
} tb_xport_ops_t;

struct tb_xport {
    const tb_xport_ops_t *ops;
    MPI_Comm comm;
    int rank, size;    /* in comm */
    int nslots;
    int device_memory; /* takes device pointers (CUDA-aware MPI, UCX built with CUDA) */
    void *impl;
};

extern const tb_xport_ops_t tb_xport_mpi;

/* The transport of --backend. */
const tb_xport_ops_t *tb_xport_ops(const struct tb_suite *s);

/* Why the tests of --backend cannot run in this job (UCX not compiled in, or it failed to
 * start: the reason), or NULL. */
const char *tb_xport_skip_reason(const struct tb_suite *s);

/* Whether the transport of --backend takes device pointers (CUDA-aware MPI; UCX built with
 * CUDA, agreed over the job); MPI stages device buffers otherwise (mem.h). */
int tb_xport_device_memory(const struct tb_suite *s);

/* Why --mem's kinds cannot be measured over --backend (device memory and a UCX without
 * CUDA support: UCX is never staged through host memory), or NULL. */
const char *tb_xport_mem_skip_reason(const struct tb_suite *s);

/* Binds the transport of --backend to comm with `nslots` request slots (local). */
TB_NODISCARD tb_status_t tb_xport_open(const struct tb_suite *s, MPI_Comm comm, int nslots,
                                       tb_xport_t *x);
/* Releases what open took; x may be empty (zeroed). */
void tb_xport_close(tb_xport_t *x);

/* Completes the MPI request *rq (a non-blocking collective over x's comm) while driving the
 * transport. A rank whose own requests completed may still owe its peers progress: UCX's
 * rendezvous receiver acknowledges the data (ATS) after its receive completed, and when
 * the shared-memory FIFO is full that acknowledgement waits in this rank's worker, sent
 * only by this rank's ucp_worker_progress; the sender's send completes on it. A rank that
 * went into a blocking MPI call there would never send it: the sender waits on its send,
 * the others in the MPI call (a circular wait). Polls, yielding the CPU after the first
 * polls (oversubscribed nodes). */
TB_NODISCARD tb_status_t tb_xport_wait_mpi(tb_xport_t *x, MPI_Request *rq);

/* Every rank of x's comm calls it: a barrier that drives the transport (tb_xport_wait_mpi),
 * after which every rank's requests completed and none needs a peer's progress, so
 * blocking MPI calls are safe. Returns at once, without a barrier, for a transport that
 * MPI itself progresses (MPI). */
TB_NODISCARD tb_status_t tb_xport_settle(tb_xport_t *x);

/* Every rank of x's comm calls it: each rank's view of what the transport selected to reach
 * each of `peers` (comm ranks; n of them, -1 skipped) goes to comm rank 0, which records in
 * `entry` (rank 0's; NULL elsewhere) the member "selected":
 * {"selections": [{"transports": "tcp/eth0 ...", "lanes": [...], "tag_send": "...",
 *  "pairs": count}], "pairs": [[from, to, index into selections], ...], "npairs": count}
 * with world ranks `world_of[comm rank]` (needed at comm rank 0 only). [from, to] is from's
 * endpoint to `to`: it carries from -> to eager messages and rendezvous that from pushes;
 * a rendezvous the receiver pulls (UCX's get: cma, rc) runs over to's rma_bw lanes, the
 * selection of [to, from] (docs/results-schema.md). Each rank parses its reports and sends
 * its few distinct parsed selections, how many peers use each, and its (peer, selection)
 * pairs only while they fall within the first TB_XPORT_PAIRS_MAX of the comm (beyond, the
 * selections keep their counts): rank 0's work grows with the ranks, not the pairs.
 * Nothing is recorded when the transport reports nothing (MPI). */
#define TB_XPORT_PAIRS_MAX 4096
TB_NODISCARD tb_status_t tb_xport_record(struct tb_suite *s, void *entry, tb_xport_t *x,
                                         const int *peers, int n, const int *world_of);

/* Parses a UCX endpoint report (ucp_ep_print_info's text; UCX 1.13's with its tag_send
 * line, or a newer one whose lanes carry "seg N" and which ends in protocol tables) into
 * {"transports": "tl/dev tl/dev", "lanes": [{"lane": i, "transport": tl, "device": dev,
 *  "uses": ["am", "rma_bw#0", ...]}], "tag_send": "0..<egr/short>..8185.."} (a new jansson
 * object; tag_send only where the report has that line), or NULL when the text holds no
 * lane. Only what the endpoint selected is kept (never the peer's name, segment sizes, a
 * wireup's auxiliary transport or the protocol tables, whose titles name the process), so
 * equal selections parse to equal objects on every rank. Independent of UCX (unit-tested). */
void *tb_xport_ucx_info_parse(const char *text);

#endif
