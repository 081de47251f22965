/* The UCX transport (--backend ucx): one UCP context and worker per rank, the workers'
 * addresses exchanged over MPI once, an endpoint per peer created on first use, tagged
 * sends and receives (xport.h's table). Built where the configure found libucx (UCX is
 * linked, not loaded); elsewhere the setup says why and the UCX tests are skipped. */
#ifndef TB_BENCH_UCX_XPORT_H
#define TB_BENCH_UCX_XPORT_H

#include <stddef.h>

#include "rt.h"
#include "xport.h"

typedef struct tb_ucx tb_ucx_t;

extern const tb_xport_ops_t tb_xport_ucx;

/* Every world rank calls it. Starts UCX on every rank and exchanges the workers' addresses.
 * When UCX is not compiled in or fails to start on some rank, *ucx_p is NULL on every rank
 * and `why` says why (the same text everywhere); that is a skip, not an error: the status
 * is TB_OK unless MPI itself failed. */
TB_NODISCARD tb_status_t tb_ucx_setup(const tb_rt_t *rt, tb_ucx_t **ucx_p, char *why,
                                      size_t len);
/* Every world rank calls it (endpoints closed while all ranks drive their workers). It
 * runs after the watchdog stopped, so it is bounded: a rank that does not come within 60 s
 * (or endpoints that do not close within 5 s) leaves UCX to the process's end, with a
 * message. */
void tb_ucx_teardown(const tb_rt_t *rt, tb_ucx_t *u);

/* UCX's version, the memory types it supports and whether device memory is among them, as a
 * new jansson object for run.ucx; u NULL: {"available": false, "reason": why}. */
void *tb_ucx_describe(const tb_ucx_t *u, const char *why);

/* Whether UCX takes device (CUDA) memory: it was built with CUDA support. */
int tb_ucx_device_memory(const tb_ucx_t *u);

#endif
