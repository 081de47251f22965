/* NCCL's view of a node against discovery (topo_nccl.h); the graph dump itself is read
 * by the NCCL XML importer (import_nccl.c). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "topo_nccl.h"

/* ---- NCCL's view against discovery ---- */

/* By name first (NICs: one RDMA device per port shares a PCI function with the other
 * port's), then by PCI address. */
static int find_by(const tb_topo_t *t, tb_topo_kind_t kind, const char *busid, const char *name)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; t && i < t->nobjs; i++) {
            const tb_topo_obj_t *o = &t->objs[i];
            if (o->kind != kind)
                continue;
            if (pass == 0 ? name && name[0] && !strcmp(o->name, name)
                          : busid && busid[0] && !strcmp(o->busid, busid) &&
                                (!name || !name[0] || kind != TB_OBJ_NIC))
                return (int)i;
        }
    return -1;
}

static int find_dev(const tb_topo_t *t, tb_topo_kind_t kind, json_int_t dev)
{
    for (size_t i = 0; t && i < t->nobjs; i++)
        if (t->objs[i].kind == kind && t->objs[i].os_index == dev)
            return (int)i;
    return -1;
}

static void add(json_t *findings, const char *sev, const char *code, const char *host,
                const char *object, const char *msg)
{
    json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s, s:s}", "severity", sev,
                                              "code", code, "host", host ? host : "", "object",
                                              object, "message", msg));
}

/* The discovered object NCCL's object `i` stands for (same PCI function, else name). */
static int in_found(const tb_topo_t *found, const tb_topo_t *nccl, int i)
{
    if (i < 0)
        return -1;
    return find_by(found, nccl->objs[i].kind, nccl->objs[i].busid,
                   nccl->objs[i].kind == TB_OBJ_NIC ? nccl->objs[i].name : NULL);
}

size_t tb_topo_nccl_compare(const tb_topo_t *found, const tb_topo_t *nccl, const void *graphs_v,
                            const char *host, void *findings_v)
{
    const json_t *graphs = graphs_v, *g, *ch;
    json_t *findings = findings_v;
    size_t before = json_array_size(findings), gi, ci;
    char msg[512];
    int inter = 0;
    int far_seen[64][2];
    size_t nfar = 0;

    if (!found || !findings)
        return 0;
    for (size_t i = 0; nccl && i < found->nobjs; i++) {
        const tb_topo_obj_t *o = &found->objs[i];
        if (o->kind == TB_OBJ_GPU && o->busid[0] &&
            find_by(nccl, TB_OBJ_GPU, o->busid, NULL) < 0) {
            snprintf(msg, sizeof(msg),
                     "%s (%s) is not in NCCL's topology: no rank on this node uses it (fewer "
                     "ranks than GPUs, CUDA_VISIBLE_DEVICES) or NCCL cannot see it",
                     o->name, o->busid);
            add(findings, "warning", "nccl_gpu_unused", host, o->name, msg);
        }
        if (o->kind == TB_OBJ_NIC && find_by(nccl, TB_OBJ_NIC, o->busid, o->name) < 0) {
            snprintf(msg, sizeof(msg),
                     "NCCL's topology lists no %s (%s): NCCL_IB_HCA excludes it, its port is "
                     "down, or NCCL's network transport does not use it",
                     o->name, o->busid[0] ? o->busid : "no PCI address");
            add(findings, "warning", "nccl_nic_unused", host, o->name, msg);
        }
    }
    /* Channels with NICs are the inter-node graphs: a NIC NCCL sees but no channel uses
     * carries none of NCCL's traffic. */
    json_array_foreach(graphs, gi, g)
        json_array_foreach(json_object_get(g, "channels"), ci, ch)
            inter |= json_array_size(json_object_get(ch, "nets")) > 0;
    for (size_t i = 0; nccl && inter && i < nccl->nobjs; i++) {
        const tb_topo_obj_t *o = &nccl->objs[i];
        int used = 0;
        if (o->kind != TB_OBJ_NIC)
            continue;
        json_array_foreach(graphs, gi, g) {
            json_array_foreach(json_object_get(g, "channels"), ci, ch) {
                size_t k;
                json_t *d;
                json_array_foreach(json_object_get(ch, "nets"), k, d)
                    used |= json_integer_value(d) == o->os_index;
            }
        }
        if (!used) {
            snprintf(msg, sizeof(msg),
                     "NCCL sees %s but none of the %zu graphs' channels use it: it carries no "
                     "NCCL traffic",
                     o->name, json_array_size(graphs));
            add(findings, "warning", "nccl_nic_unused", host, o->name, msg);
        }
    }
    /* A channel's NIC far from its GPU while a near one exists. */
    json_array_foreach(graphs, gi, g) {
        json_array_foreach(json_object_get(g, "channels"), ci, ch) {
            const json_t *nets = json_object_get(ch, "nets"), *gpus = json_object_get(ch, "gpus");
            int gn, nn, fg, fn, best = -1;
            tb_topo_path_t path, p2;
            size_t k;
            if (!nccl || !json_array_size(nets) || !json_array_size(gpus))
                continue;
            gn = find_dev(nccl, TB_OBJ_GPU, json_integer_value(json_array_get(gpus, 0)));
            nn = find_dev(nccl, TB_OBJ_NIC, json_integer_value(json_array_get(nets, 0)));
            fg = in_found(found, nccl, gn);
            fn = in_found(found, nccl, nn);
            if (fg < 0 || fn < 0)
                continue;
            tb_topo_path(found, fg, fn, &path);
            if (path.cls < TB_PATH_NODE || path.cls > TB_PATH_SYS)
                continue;
            for (size_t m = 0; m < found->nobjs; m++) {
                if (found->objs[m].kind != TB_OBJ_NIC || (int)m == fn)
                    continue;
                tb_topo_path(found, fg, (int)m, &p2);
                if (p2.cls <= TB_PATH_PXB && (best < 0 || p2.cls < path.cls))
                    best = (int)m;
            }
            for (k = 0; k < nfar; k++)
                if (far_seen[k][0] == fg && far_seen[k][1] == fn)
                    break;
            if (best < 0 || k < nfar)
                continue;
            if (nfar < sizeof(far_seen) / sizeof(far_seen[0])) {
                far_seen[nfar][0] = fg;
                far_seen[nfar++][1] = fn;
            }
            tb_topo_path(found, fg, best, &p2);
            snprintf(msg, sizeof(msg),
                     "NCCL's %s graph (channel %zu) sends %s's traffic through %s over %s while "
                     "%s is %s to it (check NCCL_IB_HCA, NCCL_CROSS_NIC)",
                     json_string_value(json_object_get(g, "pattern_name")), ci,
                     found->objs[fg].name, found->objs[fn].name, tb_path_class_name(path.cls),
                     found->objs[best].name, tb_path_class_name(p2.cls));
            add(findings, "warning", "nccl_nic_far", host, found->objs[fn].name, msg);
        }
    }
    /* GPUDirect RDMA off (gdr="0" in NCCL's dump; the importer found it). */
    for (size_t i = 0; nccl && i < nccl->nfindings; i++)
        if (!strcmp(nccl->findings[i].code, "gdr_unavailable"))
            add(findings, "warning", "nccl_gdr_disabled", host, nccl->findings[i].object,
                nccl->findings[i].message);
    return json_array_size(findings) - before;
}
