/* Human-readable topology report (`topobench topo`): the path class matrix in the layout
 * of `nvidia-smi topo -m`, the expected bandwidth matrix with its bottlenecks, a locality
 * table, the findings and the notes. Readable at a glance; units in every header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

/* A NUMA node as printed: "N/A" unknown, a '*' when inferred (TB_INF_NUMA). */
static void numa_text(const tb_topo_obj_t *o, char *buf, size_t len)
{
    if (o->numa >= 0)
        snprintf(buf, len, "%d%s", o->numa, o->inferred & TB_INF_NUMA ? "*" : "");
    else
        snprintf(buf, len, "N/A");
}

static void cell_text(const tb_topo_path_t *p, char *buf, size_t len)
{
    if (p->cls == TB_PATH_NV)
        snprintf(buf, len, "%s%d", p->xgmi ? "XGMI" : "NV", p->nvlinks);
    else if (p->cls == TB_PATH_UNKNOWN)
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%s", tb_path_class_name(p->cls));
}

/* GPUs then NICs: the rows and columns of the matrices. */
static size_t endpoints(const tb_topo_t *topo, int *idx, size_t max)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < topo->nobjs && n < max; i++)
            if (topo->objs[i].kind == (pass ? TB_OBJ_NIC : TB_OBJ_GPU))
                idx[n++] = (int)i;
    return n;
}

static int name_width(const tb_topo_t *topo, const int *idx, size_t n)
{
    int w = 6;
    for (size_t i = 0; i < n; i++) {
        int l = (int)strlen(topo->objs[idx[i]].name);
        if (l + 2 > w)
            w = l + 2;
    }
    return w > 24 ? 24 : w;
}

static void print_class_matrix(const tb_topo_t *topo, FILE *out, const int *idx, size_t n)
{
    int w = name_width(topo, idx, n);
    fprintf(out, "Path classes (nvidia-smi topo -m layout)\n%-*s", w, "");
    for (size_t c = 0; c < n; c++)
        fprintf(out, "%-*.*s", w, w - 1, topo->objs[idx[c]].name);
    fprintf(out, "%-18s%s\n", "CPU Affinity", "NUMA Affinity");
    for (size_t r = 0; r < n; r++) {
        const tb_topo_obj_t *o = &topo->objs[idx[r]];
        char buf[16];
        fprintf(out, "%-*.*s", w, w - 1, o->name);
        for (size_t c = 0; c < n; c++) {
            tb_topo_path_t p;
            tb_topo_path(topo, idx[r], idx[c], &p);
            cell_text(&p, buf, sizeof(buf));
            fprintf(out, "%-*s", w, buf);
        }
        /* A long cpuset still leaves one space before the NUMA column. */
        numa_text(o, buf, sizeof(buf));
        fprintf(out, "%-17s %s\n", o->cpuset[0] ? o->cpuset : "N/A", buf);
    }
    fprintf(out, "  X = self, NV# = # NVLinks (XGMI# = # xGMI links), PIX = at most one PCIe "
                 "switch,\n  PXB = several PCIe switches, PHB = through a PCIe host bridge, "
                 "NODE = across host\n  bridges in one NUMA node, SYS = across NUMA nodes "
                 "(inter-socket), ? = not known from the source\n\n");
}

typedef struct bottleneck_row {
    char cls[16];
    char name[64];
    double theo, achv;
    int count;
    char example[2 * TB_TOPO_NAME_LEN + 2];
    int inferred;
} bottleneck_row_t;

static void print_bw_matrix(const tb_topo_t *topo, FILE *out, const int *idx, size_t n,
                            size_t ngpu)
{
    int w = name_width(topo, idx, n);
    bottleneck_row_t *rows = calloc(n * n + 1, sizeof(*rows));
    size_t nrows = 0;
    if (ngpu == 0 || !rows) {
        free(rows);
        return;
    }
    fprintf(out, "Expected bandwidth per direction (GB/s, theoretical; '-' = unknown)\n%-*s", w,
            "");
    for (size_t c = 0; c < n; c++)
        fprintf(out, "%-*.*s", w, w - 1, topo->objs[idx[c]].name);
    fprintf(out, "\n");
    for (size_t r = 0; r < ngpu; r++) {
        fprintf(out, "%-*.*s", w, w - 1, topo->objs[idx[r]].name);
        for (size_t c = 0; c < n; c++) {
            tb_topo_path_t p;
            char buf[24], cls[16];
            size_t k;
            tb_topo_path(topo, idx[r], idx[c], &p);
            if (p.cls == TB_PATH_SELF)
                snprintf(buf, sizeof(buf), "X");
            else if (p.theoretical_gbs > 0)
                snprintf(buf, sizeof(buf), "%.1f", p.theoretical_gbs);
            else
                snprintf(buf, sizeof(buf), "-");
            fprintf(out, "%-*s", w, buf);
            if (p.cls == TB_PATH_SELF || (c < ngpu && c < r))
                continue;
            cell_text(&p, cls, sizeof(cls));
            for (k = 0; k < nrows; k++)
                if (strcmp(rows[k].cls, cls) == 0 && strcmp(rows[k].name, p.bottleneck) == 0 &&
                    rows[k].theo == p.theoretical_gbs && rows[k].inferred == p.inferred)
                    break;
            if (k == nrows) {
                nrows++;
                snprintf(rows[k].cls, sizeof(rows[k].cls), "%s", cls);
                snprintf(rows[k].name, sizeof(rows[k].name), "%s", p.bottleneck);
                rows[k].theo = p.theoretical_gbs;
                rows[k].achv = p.achievable_gbs;
                rows[k].inferred = p.inferred;
                snprintf(rows[k].example, sizeof(rows[k].example), "%s-%s",
                         topo->objs[idx[r]].name, topo->objs[idx[c]].name);
            }
            rows[k].count++;
        }
        fprintf(out, "\n");
    }
    fprintf(out, "\n%-8s %-34s %11s %11s %6s  %s\n", "class", "bottleneck link",
            "theor. GB/s", "typ. GB/s", "pairs", "e.g.");
    for (size_t k = 0; k < nrows; k++) {
        if (rows[k].inferred) /* the link's figure rests on an inferred value */
            snprintf(rows[k].name + strlen(rows[k].name),
                     sizeof(rows[k].name) - strlen(rows[k].name), "*");
        if (rows[k].theo > 0)
            fprintf(out, "%-8s %-34.34s %11.1f %11.1f %6d  %s\n", rows[k].cls, rows[k].name,
                    rows[k].theo, rows[k].achv, rows[k].count, rows[k].example);
        else
            fprintf(out, "%-8s %-34.34s %11s %11s %6d  %s\n", rows[k].cls, rows[k].name, "-",
                    "-", rows[k].count, rows[k].example);
    }
    fprintf(out, "\n");
    free(rows);
}

static void print_locality(const tb_topo_t *topo, FILE *out)
{
    size_t ngpu = tb_topo_count(topo, TB_OBJ_GPU), nnic = tb_topo_count(topo, TB_OBJ_NIC);
    if (ngpu) {
        /* Near cores come last and in full: a list cut to a column is a wrong list. */
        fprintf(out, "Locality\n%-10s %-5s %-32s %-30s %s\n", "GPU", "NUMA", "model",
                "nearest NIC(s) (class)", "near cores");
        for (size_t i = 0; i < topo->nobjs; i++) {
            const tb_topo_obj_t *o = &topo->objs[i];
            int nics[64];
            size_t n;
            char list[160] = "-", numa[8];
            size_t used = 0;
            tb_topo_path_t best, p;
            if (o->kind != TB_OBJ_GPU)
                continue;
            n = tb_topo_nearest_nics(topo, (int)i, nics, 64);
            if (n) {
                tb_topo_path(topo, (int)i, nics[0], &best);
                for (size_t k = 0; k < n; k++) {
                    int wr;
                    tb_topo_path(topo, (int)i, nics[k], &p);
                    if (p.cls != best.cls)
                        break;
                    wr = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                                  topo->objs[nics[k]].name);
                    if (wr < 0 || (size_t)wr >= sizeof(list) - used)
                        break;
                    used += (size_t)wr;
                }
                if (used + 8 < sizeof(list))
                    snprintf(list + used, sizeof(list) - used, " (%s)",
                             tb_path_class_name(best.cls));
            }
            numa_text(o, numa, sizeof(numa));
            fprintf(out, "%-10.10s %-5s %-32.32s %-30s %s\n", o->name, numa,
                    o->model[0] ? o->model : "-", list, o->cpuset[0] ? o->cpuset : "N/A");
        }
    }
    if (nnic) {
        fprintf(out, "%s%-16s %-5s %-22s %s\n", ngpu ? "\n" : "Locality\n", "NIC", "NUMA",
                "model", "ports (state, rate Gb/s, link layer)");
        for (size_t i = 0; i < topo->nobjs; i++) {
            const tb_topo_obj_t *o = &topo->objs[i];
            char numa[8];
            if (o->kind != TB_OBJ_NIC)
                continue;
            numa_text(o, numa, sizeof(numa));
            fprintf(out, "%-16.16s %-5s %-22.22s", o->name, numa, o->model[0] ? o->model : "-");
            for (int k = 0; k < o->nports && k < TB_TOPO_MAX_PORTS; k++) {
                const tb_topo_port_t *pt = &o->ports[k];
                char rate[16];
                if (pt->rate_gbps > 0)
                    snprintf(rate, sizeof(rate), "%g", pt->rate_gbps);
                else
                    snprintf(rate, sizeof(rate), "?");
                fprintf(out, " %s%d: %s %s %s%s", k ? "; " : "", pt->num,
                        pt->state[0] ? pt->state : "state?", rate,
                        pt->link_layer[0] ? pt->link_layer : "layer?",
                        pt->link_layer[0] && (o->inferred & TB_INF_LINK_LAYER) ? "*" : "");
            }
            fprintf(out, "\n");
        }
    }
    if (ngpu || nnic)
        fprintf(out, "\n");
}

void tb_topo_print(const tb_topo_t *topo, FILE *out)
{
    int *idx;
    size_t n, ngpu;
    if (!topo || !out)
        return;
    fprintf(out, "Topology of %s from %s%s%s\n",
            topo->hostname[0] ? topo->hostname : "this node",
            topo->source[0] ? topo->source : "unknown source", topo->source_file[0] ? " " : "",
            topo->source_file);
    if (topo->cpu_model[0])
        fprintf(out, "CPU: %s\n", topo->cpu_model);
    if (topo->driver_version[0])
        fprintf(out, "Driver: %s\n", topo->driver_version);
    ngpu = tb_topo_count(topo, TB_OBJ_GPU);
    fprintf(out, "%zu GPU, %zu NIC, %zu NVSwitch, %zu NUMA node(s)\n\n", ngpu,
            tb_topo_count(topo, TB_OBJ_NIC), tb_topo_count(topo, TB_OBJ_NVSWITCH),
            tb_topo_count(topo, TB_OBJ_NUMA));
    idx = calloc(topo->nobjs + 1, sizeof(*idx));
    if (idx) {
        n = endpoints(topo, idx, topo->nobjs);
        if (n) {
            print_class_matrix(topo, out, idx, n);
            print_bw_matrix(topo, out, idx, n, ngpu);
        }
        free(idx);
    }
    print_locality(topo, out);
    if (topo->nnetifs) {
        fprintf(out, "Network interfaces (NICs above are the RDMA devices)\n%-16s %-9s %-8s %11s %6s  %s\n", "name", "kind",
                "state", "speed(Mb/s)", "mtu", "PCI");
        for (size_t i = 0; i < topo->nnetifs; i++) {
            const tb_topo_netif_t *nif = &topo->netifs[i];
            char speed[16] = "-", mtu[16] = "-";
            if (nif->speed_mbps >= 0)
                snprintf(speed, sizeof(speed), "%d", nif->speed_mbps);
            if (nif->mtu > 0)
                snprintf(mtu, sizeof(mtu), "%d", nif->mtu);
            fprintf(out, "%-16s %-9s %-8s %11s %6s  %s\n", nif->name,
                    tb_netif_kind_name(nif->kind), nif->operstate[0] ? nif->operstate : "-",
                    speed, mtu, nif->busid[0] ? nif->busid : "-");
        }
        fprintf(out, "\n");
    }
    for (size_t i = 0; i < topo->nobjs + topo->nlinks; i++)
        if (i < topo->nobjs ? topo->objs[i].inferred : topo->links[i - topo->nobjs].inferred) {
            fprintf(out, "* = inferred: not stated by the source, derived by a rule (NUMA node, "
                         "PCIe generation/width from GB/s, link capability, link layer, NVLink "
                         "count or version; JSON \"inferred\")\n\n");
            break;
        }
    fprintf(out, "Findings (%zu)\n", topo->nfindings);
    for (size_t i = 0; i < topo->nfindings; i++) {
        const tb_topo_finding_t *f = &topo->findings[i];
        fprintf(out, "  [%s] %s%s%s: %s\n", tb_topo_severity_name(f->severity), f->code,
                f->object[0] ? " " : "", f->object, f->message);
    }
    if (topo->nnotes) {
        fprintf(out, "\nNotes\n");
        for (size_t i = 0; i < topo->nnotes; i++)
            fprintf(out, "  %s\n", topo->notes[i]);
    }
}
