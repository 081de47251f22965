/* What NCCL saw on a node, set against what discovery found: the graphs NCCL built
 * (NCCL_GRAPH_DUMP_FILE: rings, trees, the NICs of each channel) as plain JSON, and the
 * findings where NCCL's topology (NCCL_TOPO_DUMP_FILE, read with the NCCL XML importer)
 * differs from the discovered one: a GPU or NIC NCCL does not use, a channel's NIC NCCL
 * reaches over SYS/NODE where a PIX/PXB one exists, GPUDirect RDMA off on a NIC. */
#ifndef TB_TOPO_NCCL_H
#define TB_TOPO_NCCL_H

#include "topo.h"

/* Reads an NCCL graph dump (<graphs version="1"><graph ...><channel><net dev/><gpu dev/>...)
 * into a JSON array (json_t *, *json_p): one object per graph with id, pattern (NCCL's
 * number and its name: balanced_tree, split_tree, tree, ring, nvls, collnet_direct),
 * crossnic, nchannels, speedintra, speedinter, typeintra, typeinter and its channels
 * [{"nets": [dev...], "gpus": [dev...]}]. TB_ERR_INPUT, naming the file and line, for XML
 * that does not parse or is not a graph file. */
TB_NODISCARD tb_status_t tb_topo_nccl_graphs_read(const char *path, void **json_p);

/* Appends to `findings` (a jansson array) the differences between `found` (discovery)
 * and `nccl` (NCCL's topology dump, may be NULL) given NCCL's `graphs` (from
 * tb_topo_nccl_graphs_read, may be NULL), each {"severity", "code", "host", "object",
 * "message"}: nccl_gpu_unused, nccl_nic_unused, nccl_nic_far, nccl_gdr_disabled
 * (docs/topology.md). Returns how many it added. */
size_t tb_topo_nccl_compare(const tb_topo_t *found, const tb_topo_t *nccl, const void *graphs,
                            const char *host, void *findings);

#endif
