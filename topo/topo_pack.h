/* Flat byte images of a topology (pack.c), for carrying every node's model to rank 0 over
 * MPI. Both ends must run the same build; an image from another build is rejected. */
#ifndef TB_TOPO_PACK_H
#define TB_TOPO_PACK_H

#include "topo.h"

TB_NODISCARD tb_status_t tb_topo_pack(const tb_topo_t *topo, void **buf_p, size_t *len_p);
TB_NODISCARD tb_status_t tb_topo_unpack(const void *buf, size_t len, tb_topo_t **topo_p);

#endif
