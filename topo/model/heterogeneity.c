/* Heterogeneity across nodes: each node's shape (GPU count, NIC count and port rates, GPU
 * models, driver version, NIC firmware, the classes of its GPU pairs) is compared with the
 * majority of nodes, attribute by attribute, and each node that differs gets one finding
 * listing every difference. A slow or misbuilt node in a homogeneous cluster is the usual
 * cause of a collective running at the speed of its worst member. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

enum { ATTR_GPUS, ATTR_NICS, ATTR_NIC_RATES, ATTR_GPU_MODELS, ATTR_DRIVER, ATTR_FIRMWARE,
       ATTR_GPU_PAIRS, ATTR_COUNT };

static const char *attr_names[ATTR_COUNT] = {
    "GPU count", "NIC count", "NIC port rates", "GPU models", "driver version",
    "NIC firmware", "GPU pair path classes"};

#define SHAPE_LEN 256

typedef struct shape {
    char v[ATTR_COUNT][SHAPE_LEN];
} shape_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, counted list of strings: "8x NVIDIA H100 80GB HBM3" or "2x 200, 8x 400". */
static void counted_list(const char **items, size_t n, const char *suffix, char *out,
                         size_t len)
{
    size_t used = 0;
    out[0] = 0;
    qsort(items, n, sizeof(*items), cmp_str);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int w;
        while (j < n && strcmp(items[j], items[i]) == 0)
            j++;
        w = snprintf(out + used, len - used, "%s%zux %s%s", used ? ", " : "", j - i, items[i],
                     suffix);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
        i = j;
    }
}

static void make_shape(const tb_topo_t *t, shape_t *s)
{
    const char **items = calloc(t->nobjs + 1, sizeof(*items));
    char (*rates)[24] = calloc(t->nobjs + 1, sizeof(*rates));
    const char **pairs = NULL;
    char (*pair_names)[16] = NULL;
    size_t n = 0, ngpu = tb_topo_count(t, TB_OBJ_GPU), npairs = 0;
    memset(s, 0, sizeof(*s));
    snprintf(s->v[ATTR_GPUS], SHAPE_LEN, "%zu", ngpu);
    snprintf(s->v[ATTR_NICS], SHAPE_LEN, "%zu", tb_topo_count(t, TB_OBJ_NIC));
    snprintf(s->v[ATTR_DRIVER], SHAPE_LEN, "%s", t->driver_version);
    if (!items || !rates)
        goto out;
    /* NIC port rates (Gb/s of each port). */
    for (size_t i = 0; i < t->nobjs; i++)
        if (t->objs[i].kind == TB_OBJ_NIC)
            for (int k = 0; k < t->objs[i].nports && k < TB_TOPO_MAX_PORTS && n < t->nobjs; k++) {
                snprintf(rates[n], sizeof(rates[0]), "%g", t->objs[i].ports[k].rate_gbps);
                items[n] = rates[n];
                n++;
            }
    counted_list(items, n, " Gb/s", s->v[ATTR_NIC_RATES], SHAPE_LEN);
    n = 0;
    for (size_t i = 0; i < t->nobjs; i++)
        if (t->objs[i].kind == TB_OBJ_GPU)
            items[n++] = t->objs[i].model[0] ? t->objs[i].model : "unknown";
    counted_list(items, n, "", s->v[ATTR_GPU_MODELS], SHAPE_LEN);
    n = 0;
    for (size_t i = 0; i < t->nobjs; i++)
        if (t->objs[i].kind == TB_OBJ_NIC && t->objs[i].firmware[0])
            items[n++] = t->objs[i].firmware;
    counted_list(items, n, "", s->v[ATTR_FIRMWARE], SHAPE_LEN);
    /* The PCIe/NVLink shape, as the multiset of GPU pair classes. */
    if (ngpu > 1) {
        size_t max = ngpu * (ngpu - 1) / 2;
        pairs = calloc(max, sizeof(*pairs));
        pair_names = calloc(max, sizeof(*pair_names));
        if (!pairs || !pair_names)
            goto out;
        for (size_t a = 0; a < t->nobjs; a++) {
            if (t->objs[a].kind != TB_OBJ_GPU)
                continue;
            for (size_t b = a + 1; b < t->nobjs && npairs < max; b++) {
                tb_topo_path_t p;
                if (t->objs[b].kind != TB_OBJ_GPU)
                    continue;
                tb_topo_path(t, (int)a, (int)b, &p);
                if (p.cls == TB_PATH_NV)
                    snprintf(pair_names[npairs], sizeof(pair_names[0]), "%s%d",
                             p.xgmi ? "XGMI" : "NV", p.nvlinks);
                else
                    snprintf(pair_names[npairs], sizeof(pair_names[0]), "%s",
                             tb_path_class_name(p.cls));
                pairs[npairs] = pair_names[npairs];
                npairs++;
            }
        }
        counted_list(pairs, npairs, "", s->v[ATTR_GPU_PAIRS], SHAPE_LEN);
    }
out:
    free(items);
    free(rates);
    free(pairs);
    free(pair_names);
}

static void host_name(const tb_topo_t *t, size_t i, char *out, size_t len)
{
    const char *slash;
    if (t->hostname[0]) {
        snprintf(out, len, "%s", t->hostname);
        return;
    }
    if (t->source_file[0]) {
        slash = strrchr(t->source_file, '/');
        snprintf(out, len, "%s", slash ? slash + 1 : t->source_file);
        return;
    }
    snprintf(out, len, "node%zu", i);
}

void tb_topo_compare_nodes(tb_topo_t *const *topos, size_t n, void *findings_json)
{
    json_t *findings = findings_json;
    shape_t *shapes;
    size_t majority[ATTR_COUNT];
    if (!topos || n < 2 || !json_is_array(findings))
        return;
    shapes = calloc(n, sizeof(*shapes));
    if (!shapes)
        return;
    for (size_t i = 0; i < n; i++)
        make_shape(topos[i], &shapes[i]);
    /* The majority value of each attribute. Without a strict majority (two nodes that
     * differ, or no value held by more than half) nobody can be blamed: one job-wide
     * finding lists every node's value instead. */
    for (int a = 0; a < ATTR_COUNT; a++) {
        size_t best = 0, best_count = 0;
        for (size_t i = 0; i < n; i++) {
            size_t count = 0;
            for (size_t j = 0; j < n; j++)
                count += strcmp(shapes[i].v[a], shapes[j].v[a]) == 0;
            if (count > best_count) {
                best = i;
                best_count = count;
            }
        }
        majority[a] = best;
        if (best_count < n && best_count * 2 <= n) {
            char msg[1024], host[300];
            size_t used = 0;
            for (size_t i = 0; i < n; i++) {
                int w;
                host_name(topos[i], i, host, sizeof(host));
                w = snprintf(msg + used, sizeof(msg) - used, "%s%s: %s", i ? "; " : "", host,
                             shapes[i].v[a][0] ? shapes[i].v[a] : "unknown");
                if (w > 0 && (size_t)w < sizeof(msg) - used)
                    used += (size_t)w;
            }
            json_array_append_new(
                findings, json_pack("{s:s, s:s, s:s, s:s, s:s}", "severity",
                                    a != ATTR_DRIVER && a != ATTR_FIRMWARE ? "warning" : "info",
                                    "code", "nodes_disagree", "host", "", "attribute",
                                    attr_names[a], "message", msg));
            majority[a] = SIZE_MAX; /* no node is compared on this attribute */
        }
    }
    for (size_t i = 0; i < n; i++) {
        char msg[1024], host[300];
        size_t used = 0;
        int diffs = 0, hard = 0;
        host_name(topos[i], i, host, sizeof(host));
        for (int a = 0; a < ATTR_COUNT; a++) {
            const char *mine = shapes[i].v[a], *maj;
            int w;
            if (majority[a] == SIZE_MAX)
                continue;
            maj = shapes[majority[a]].v[a];
            if (strcmp(mine, maj) == 0)
                continue;
            w = snprintf(msg + used, sizeof(msg) - used, "%s%s %s (majority: %s)",
                         diffs ? "; " : "", attr_names[a], mine[0] ? mine : "unknown",
                         maj[0] ? maj : "unknown");
            if (w > 0 && (size_t)w < sizeof(msg) - used)
                used += (size_t)w;
            diffs++;
            hard |= a != ATTR_DRIVER && a != ATTR_FIRMWARE;
        }
        if (!diffs)
            continue;
        json_array_append_new(
            findings, json_pack("{s:s, s:s, s:s, s:s+}", "severity", hard ? "warning" : "info",
                                "code", "node_differs", "host", host, "message",
                                "differs from the majority of nodes: ", msg));
    }
    free(shapes);
}
