/* A flat byte image of a topology, so that MPI can carry every node's model to rank 0.
 * Both ends run the same build, so the image is the struct and its arrays as they are;
 * a header of sizes rejects an image from a different build instead of misreading it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topo_pack.h"

typedef struct pack_header {
    uint32_t magic;
    uint32_t topo_size, obj_size, link_size, finding_size;
    uint64_t nobjs, nlinks, nfindings;
} pack_header_t;

#define PACK_MAGIC 0x54425450u /* "TBTP" */

tb_status_t tb_topo_pack(const tb_topo_t *t, void **buf_p, size_t *len_p)
{
    pack_header_t h = {PACK_MAGIC, sizeof(tb_topo_t), sizeof(tb_topo_obj_t),
                       sizeof(tb_topo_link_t), sizeof(tb_topo_finding_t), t->nobjs,
                       t->nlinks, t->nfindings};
    size_t len = sizeof(h) + sizeof(*t) + t->nobjs * sizeof(tb_topo_obj_t) +
                 t->nlinks * sizeof(tb_topo_link_t) + t->nfindings * sizeof(tb_topo_finding_t);
    char *buf = malloc(len), *p = buf;
    tb_topo_t flat = *t;
    if (!buf)
        return tb_error(TB_ERR_INTERNAL, "out of memory packing a topology");
    flat.objs = NULL;
    flat.links = NULL;
    flat.findings = NULL;
    flat.cap_objs = flat.cap_links = flat.cap_findings = 0;
    memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    memcpy(p, &flat, sizeof(flat));
    p += sizeof(flat);
    if (t->nobjs)
        memcpy(p, t->objs, t->nobjs * sizeof(tb_topo_obj_t));
    p += t->nobjs * sizeof(tb_topo_obj_t);
    if (t->nlinks)
        memcpy(p, t->links, t->nlinks * sizeof(tb_topo_link_t));
    p += t->nlinks * sizeof(tb_topo_link_t);
    if (t->nfindings)
        memcpy(p, t->findings, t->nfindings * sizeof(tb_topo_finding_t));
    *buf_p = buf;
    *len_p = len;
    return TB_OK;
}

tb_status_t tb_topo_unpack(const void *buf, size_t len, tb_topo_t **topo_p)
{
    pack_header_t h;
    const char *p = buf;
    tb_topo_t *t;
    size_t need;
    if (len < sizeof(h))
        return tb_error(TB_ERR_INPUT, "topology image too short (%zu bytes)", len);
    memcpy(&h, p, sizeof(h));
    if (h.magic != PACK_MAGIC || h.topo_size != sizeof(tb_topo_t) ||
        h.obj_size != sizeof(tb_topo_obj_t) || h.link_size != sizeof(tb_topo_link_t) ||
        h.finding_size != sizeof(tb_topo_finding_t))
        return tb_error(TB_ERR_INPUT, "topology image from a different topobench build");
    if (h.nobjs > len || h.nlinks > len || h.nfindings > len)
        return tb_error(TB_ERR_INPUT, "topology image has impossible counts");
    need = sizeof(h) + sizeof(tb_topo_t) + h.nobjs * sizeof(tb_topo_obj_t) +
           h.nlinks * sizeof(tb_topo_link_t) + h.nfindings * sizeof(tb_topo_finding_t);
    if (need != len)
        return tb_error(TB_ERR_INPUT, "topology image is %zu bytes, expected %zu", len, need);
    t = malloc(sizeof(*t));
    if (!t)
        return tb_error(TB_ERR_INTERNAL, "out of memory unpacking a topology");
    p += sizeof(h);
    memcpy(t, p, sizeof(*t));
    p += sizeof(*t);
    t->nobjs = h.nobjs;
    t->nlinks = h.nlinks;
    t->nfindings = h.nfindings;
    t->objs = h.nobjs ? malloc(h.nobjs * sizeof(tb_topo_obj_t)) : NULL;
    t->links = h.nlinks ? malloc(h.nlinks * sizeof(tb_topo_link_t)) : NULL;
    t->findings = h.nfindings ? malloc(h.nfindings * sizeof(tb_topo_finding_t)) : NULL;
    t->cap_objs = h.nobjs;
    t->cap_links = h.nlinks;
    t->cap_findings = h.nfindings;
    if ((h.nobjs && !t->objs) || (h.nlinks && !t->links) || (h.nfindings && !t->findings)) {
        tb_topo_destroy(t);
        return tb_error(TB_ERR_INTERNAL, "out of memory unpacking a topology");
    }
    if (h.nobjs)
        memcpy(t->objs, p, h.nobjs * sizeof(tb_topo_obj_t));
    p += h.nobjs * sizeof(tb_topo_obj_t);
    if (h.nlinks)
        memcpy(t->links, p, h.nlinks * sizeof(tb_topo_link_t));
    p += h.nlinks * sizeof(tb_topo_link_t);
    if (h.nfindings)
        memcpy(t->findings, p, h.nfindings * sizeof(tb_topo_finding_t));
    *topo_p = t;
    return TB_OK;
}
