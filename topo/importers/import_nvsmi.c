/* `nvidia-smi topo -m` (and `topo -p2p rw|r|w|...`) text importer. The text has a matrix of
 * path classes but no PCIe tree, so each stated pair becomes a TB_LINK_GIVEN link that
 * tb_topo_path() reports as is. Accepted: tab or space alignment, ANSI colour escapes, the
 * legend and NIC legend ("NIC0: mlx5_0"), CPU Affinity / NUMA Affinity / GPU NUMA ID
 * columns, and partial matrices (rows cut off), which import as far as they go with a
 * note and a finding naming what is missing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topo_internal.h"

#define MAX_FILE (4u << 20)
#define MAX_DEVS 128
#define MAX_TOKENS (MAX_DEVS + 16)

typedef struct nvsmi_ctx {
    tb_topo_t *topo;
    const char *path;
    int ndev;
    char labels[MAX_DEVS][32];
    int obj[MAX_DEVS];      /* object index of each label */
    int row_seen[MAX_DEVS]; /* line number of its row, 0 none */
    int numa[MAX_DEVS];
    char cpus[MAX_DEVS][128];
    int has_cpu_aff, has_numa_aff, has_gpu_numa;
    int p2p_mode;
    int nunknown_cells;
    /* Markdown tables (| |GPU0|GPU1|...|): what each cell position of the header holds. */
    int markdown;
    int header_line;
    int md_ncols;
    int md_col[MAX_TOKENS]; /* a device index, or one of the MD_* roles */
} nvsmi_ctx_t;

enum { MD_LABEL = -1, MD_CPU = -2, MD_NUMA = -3, MD_GPU_NUMA = -4, MD_OTHER = -5 };

/* Removes ANSI escape sequences (ESC [ ... final byte) in place: nvidia-smi colours the
 * matrix when it writes to a terminal and people paste that. */
static void strip_ansi(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (*r == 0x1b) {
            r++;
            if (*r == '[') {
                r++;
                while (*r && !(*r >= '@' && *r <= '~'))
                    r++;
                if (*r)
                    r++;
            } else if (*r) {
                r++;
            }
            continue;
        }
        *w++ = *r++;
    }
    *w = 0;
}

static int tokenize(char *line, char **tok, int max)
{
    int n = 0;
    for (char *p = strtok(line, " \t\r"); p && n < max; p = strtok(NULL, " \t\r"))
        tok[n++] = p;
    return n;
}

static int device_label(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n >= 32)
        return 0;
    if ((strncmp(t, "GPU", 3) == 0 || strncmp(t, "NIC", 3) == 0) && n > 3) {
        for (size_t i = 3; i < n; i++)
            if (!isdigit((unsigned char)t[i]))
                return 0;
        return 1;
    }
    /* Older drivers name NIC columns by device (mlx5_0). */
    return strncmp(t, "mlx", 3) == 0 || strncmp(t, "bnxt_re", 7) == 0 ||
           strncmp(t, "irdma", 5) == 0;
}

static int label_index(const nvsmi_ctx_t *c, const char *t)
{
    for (int i = 0; i < c->ndev; i++)
        if (strcmp(c->labels[i], t) == 0)
            return i;
    return -1;
}

/* Path class of a matrix cell; NV# puts # in *count_p. -1 when the cell is not a class. */
static int cell_class(const char *t, int *count_p)
{
    static const struct {
        const char *name;
        tb_path_class_t cls;
    } names[] = {{"X", TB_PATH_SELF},  {"PIX", TB_PATH_PIX}, {"PXB", TB_PATH_PXB},
                 {"PHB", TB_PATH_PHB}, {"NODE", TB_PATH_NODE}, {"SYS", TB_PATH_SYS},
                 {"SOC", TB_PATH_SYS}}; /* SOC: older drivers' name for SYS */
    *count_p = 0;
    if (strncmp(t, "NV", 2) == 0 && isdigit((unsigned char)t[2])) {
        char *end;
        long n = strtol(t + 2, &end, 10);
        if (*end || n <= 0 || n > 64)
            return -1;
        *count_p = (int)n;
        return TB_PATH_NV;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(t, names[i].name) == 0)
            return names[i].cls;
    return -1;
}

/* topo -p2p cells: OK, or a reason why not. -1 when the cell is not a p2p status. */
static int cell_p2p(const char *t)
{
    static const char *no[] = {"CNS", "GNS", "TNS", "NS", "DR", "U"};
    if (strcmp(t, "OK") == 0)
        return 1;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(t, no[i]) == 0)
            return 0;
    return -1;
}

static tb_status_t parse_header(nvsmi_ctx_t *c, char **tok, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(tok[i], "CPU") == 0) {
            c->has_cpu_aff = 1;
        } else if (strcmp(tok[i], "NUMA") == 0 && i > 0 && strcmp(tok[i - 1], "GPU") == 0) {
            c->has_gpu_numa = 1;
        } else if (strcmp(tok[i], "NUMA") == 0) {
            c->has_numa_aff = 1;
        } else if (device_label(tok[i]) && !c->has_cpu_aff && !c->has_numa_aff) {
            if (c->ndev >= MAX_DEVS)
                return tb_error(TB_ERR_INPUT, "%s: more than %d devices in the matrix header",
                                c->path, MAX_DEVS);
            if (label_index(c, tok[i]) >= 0)
                return tb_error(TB_ERR_INPUT, "%s: device %s twice in the matrix header",
                                c->path, tok[i]);
            snprintf(c->labels[c->ndev++], sizeof(c->labels[0]), "%s", tok[i]);
        }
    }
    return TB_OK;
}

static tb_status_t add_given(nvsmi_ctx_t *c, int r, int col, int cls, int count, int p2p,
                             int line)
{
    tb_topo_t *topo = c->topo;
    tb_topo_link_t l;
    int a = c->obj[r], b = c->obj[col];
    for (size_t i = 0; i < topo->nlinks; i++) {
        tb_topo_link_t *e = &topo->links[i];
        if (e->kind != TB_LINK_GIVEN || !((e->a == a && e->b == b) || (e->a == b && e->b == a)))
            continue;
        if (e->cls != cls || e->count != count || e->p2p != p2p)
            tb_topo_add_note(topo, "%s:%d: %s-%s differs from the symmetric cell; keeping the "
                             "first", c->path, line, c->labels[r], c->labels[col]);
        return TB_OK;
    }
    memset(&l, 0, sizeof(l));
    l.kind = TB_LINK_GIVEN;
    l.a = a;
    l.b = b;
    l.cls = cls;
    l.count = count;
    l.p2p = p2p;
    l.active = 1;
    if (tb_topo_add_link(topo, &l) < 0)
        return tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
    return TB_OK;
}

/* A matrix cell: a path class (NV# puts # in *count_p) or a topo -p2p status (*p2p_p, class
 * unknown). Returns -1 when the text is neither. */
static int read_cell(nvsmi_ctx_t *c, const char *t, int *cls_p, int *count_p, int *p2p_p)
{
    *p2p_p = -1;
    *cls_p = cell_class(t, count_p);
    if (*cls_p >= 0)
        return 0;
    if ((*p2p_p = cell_p2p(t)) < 0)
        return -1;
    c->p2p_mode = 1;
    *cls_p = TB_PATH_UNKNOWN;
    return 0;
}

static tb_status_t store_cell(nvsmi_ctx_t *c, int r, int col, int cls, int count, int p2p,
                              int line)
{
    if (cls == TB_PATH_SELF || col == r)
        return TB_OK;
    return add_given(c, r, col, cls, count, p2p, line);
}

/* CPU Affinity and NUMA Affinity cells; "N/A" (and an empty cell) stand for unknown. */
static void set_affinity(nvsmi_ctx_t *c, int r, const char *cpus, const char *numa)
{
    if (cpus && *cpus && strcmp(cpus, "N/A") != 0)
        snprintf(c->cpus[r], sizeof(c->cpus[0]), "%s", cpus);
    if (numa && *numa) {
        char *end;
        long v = strtol(numa, &end, 10);
        if (end != numa && *end == 0 && v >= 0 && v < 4096)
            c->numa[r] = (int)v;
    }
}

static tb_status_t parse_row(nvsmi_ctx_t *c, int r, char **tok, int n, int line)
{
    int k = 1, ncells = 0;
    tb_status_t st;
    c->row_seen[r] = line;
    for (int col = 0; col < c->ndev && k < n; col++, k++) {
        int count = 0, cls, p2p;
        /* Not a cell: the row is shorter than the header (the affinity columns start
         * here). */
        if (read_cell(c, tok[k], &cls, &count, &p2p) < 0)
            break;
        ncells++;
        if ((st = store_cell(c, r, col, cls, count, p2p, line)) != TB_OK)
            return st;
    }
    if (ncells < c->ndev)
        c->nunknown_cells += c->ndev - ncells;
    /* Affinity columns, in header order; tabs may leave empty fields, which strtok drops. */
    if (c->has_cpu_aff && k < n)
        set_affinity(c, r, tok[k++], NULL);
    if (c->has_numa_aff && k < n)
        set_affinity(c, r, NULL, tok[k++]);
    return TB_OK;
}

/* --- Markdown tables, as wikis and cluster documentation publish the matrix:
 *   | |GPU0|GPU1|mlx5_0|CPU Affinity|NUMA Affinity|
 *   |---|---|---|---|---|---|
 *   |GPU0|X|NV18|PXB|0-55|0|
 * Cells are read by their position in the header, so the affinity columns may come first
 * and the row label may stand in any column (the header's empty cell). */

static int is_md_line(const char *line)
{
    return line[strspn(line, " \t")] == '|';
}

/* Splits "| a | b |" into trimmed cells; emphasis and code marks around a cell (**GPU0**,
 * `NV12`) are dropped. Returns the number of cells. */
static int md_cells(char *line, char **cell, int max)
{
    char *p = line + strspn(line, " \t");
    int n = 0;
    if (*p != '|')
        return 0;
    p++;
    while (n < max) {
        char *end = strchr(p, '|'), *e, last;
        if (!end) {
            end = p + strlen(p);
            if (p[strspn(p, " \t\r")] == 0)
                break; /* nothing after the closing pipe */
        }
        last = *end;
        *end = 0;
        p += strspn(p, " \t*`");
        e = p + strlen(p);
        while (e > p && strchr(" \t\r*`", e[-1]))
            e--;
        *e = 0;
        cell[n++] = p;
        if (!last)
            break;
        p = end + 1;
    }
    return n;
}

/* A delimiter row: |---|:---:|. */
static int md_is_rule(char **cell, int n)
{
    int dashes = 0;
    for (int i = 0; i < n; i++)
        for (const char *q = cell[i]; *q; q++) {
            if (*q != '-' && *q != ':' && *q != ' ')
                return 0;
            dashes |= *q == '-';
        }
    return dashes;
}

/* A device column's name: GPU0, NIC3, mlx5_0, bnxt_re1 (no spaces). */
static int md_device_name(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n >= sizeof(((nvsmi_ctx_t *)0)->labels[0]))
        return 0;
    for (const char *q = t; *q; q++)
        if (!isalnum((unsigned char)*q) && !strchr("_-.:", *q))
            return 0;
    return 1;
}

static int md_role(const char *t)
{
    if (strncmp(t, "CPU", 3) == 0 && strstr(t, "Affinity"))
        return MD_CPU;
    if (strcmp(t, "NUMA Affinity") == 0)
        return MD_NUMA;
    if (strcmp(t, "GPU NUMA ID") == 0)
        return MD_GPU_NUMA;
    return MD_OTHER;
}

static tb_status_t md_header(nvsmi_ctx_t *c, char **cell, int n, int line)
{
    int label = -1, shift;
    /* The row label's column: the header's empty cell, else a first cell that names no
     * device ("Device"); a header without one lists only the columns after the label. */
    for (int i = 0; i < n && label < 0; i++)
        if (!cell[i][0])
            label = i;
    if (label < 0 && !device_label(cell[0]) && md_role(cell[0]) == MD_OTHER &&
        !md_device_name(cell[0]))
        label = 0;
    shift = label < 0;
    c->markdown = 1;
    c->md_ncols = n + shift;
    if (shift)
        c->md_col[0] = MD_LABEL;
    for (int i = 0; i < n; i++) {
        int *role = &c->md_col[i + shift];
        if (i == label) {
            *role = MD_LABEL;
        } else if ((*role = md_role(cell[i])) != MD_OTHER) {
            c->has_cpu_aff |= *role == MD_CPU;
            c->has_numa_aff |= *role == MD_NUMA;
            c->has_gpu_numa |= *role == MD_GPU_NUMA;
        } else if (md_device_name(cell[i])) {
            if (c->ndev >= MAX_DEVS)
                return tb_error(TB_ERR_INPUT, "%s:%d: more than %d devices in the matrix "
                                "header", c->path, line, MAX_DEVS);
            if (label_index(c, cell[i]) >= 0)
                return tb_error(TB_ERR_INPUT, "%s:%d: device %s twice in the matrix header",
                                c->path, line, cell[i]);
            *role = c->ndev;
            snprintf(c->labels[c->ndev++], sizeof(c->labels[0]), "%s", cell[i]);
        } else if (cell[i][0]) {
            tb_topo_add_note(c->topo, "%s:%d: column \"%s\" is neither a device nor an "
                             "affinity column; ignored", c->path, line, cell[i]);
        }
    }
    return TB_OK;
}

static tb_status_t md_row(nvsmi_ctx_t *c, char **cell, int n, int line)
{
    int r = -1, ncells = 0;
    const char *label = "";
    tb_status_t st;
    for (int i = 0; i < n && i < c->md_ncols; i++)
        if (c->md_col[i] == MD_LABEL) {
            label = cell[i];
            r = label_index(c, label);
        }
    if (r < 0) {
        if (device_label(label))
            tb_topo_add_note(c->topo, "%s:%d: row %s is not in the header; ignored", c->path,
                             line, label);
        return TB_OK;
    }
    if (c->row_seen[r]) {
        tb_topo_add_note(c->topo, "%s:%d: second row for %s ignored", c->path, line, label);
        return TB_OK;
    }
    if (n > c->md_ncols)
        return tb_error(TB_ERR_INPUT, "%s:%d: row %s has %d cells, the header (line %d) has "
                        "%d", c->path, line, label, n, c->header_line, c->md_ncols);
    c->row_seen[r] = line;
    for (int i = 0; i < n; i++) {
        int col = c->md_col[i], count = 0, cls, p2p;
        if (col == MD_CPU)
            set_affinity(c, r, cell[i], NULL);
        else if (col == MD_NUMA)
            set_affinity(c, r, NULL, cell[i]);
        if (col < 0 || !cell[i][0])
            continue; /* an empty cell: the pair is unknown */
        if (read_cell(c, cell[i], &cls, &count, &p2p) < 0)
            return tb_error(TB_ERR_INPUT, "%s:%d: row %s, column %s: \"%s\" is not a path "
                            "class (X, NV#, PIX, PXB, PHB, NODE, SYS, SOC) or a topo -p2p "
                            "status (OK, CNS, GNS, TNS, NS, DR, U)",
                            c->path, line, label, c->labels[col], cell[i]);
        ncells++;
        if ((st = store_cell(c, r, col, cls, count, p2p, line)) != TB_OK)
            return st;
    }
    if (ncells < c->ndev)
        c->nunknown_cells += c->ndev - ncells;
    return TB_OK;
}

/* "NIC0: mlx5_0" in the NIC legend names the NIC columns. */
static void parse_legend(nvsmi_ctx_t *c, char *line)
{
    char label[32], name[64];
    int i;
    if (sscanf(line, " %31[A-Za-z0-9_]: %63s", label, name) != 2)
        return;
    if ((i = label_index(c, label)) < 0 || strncmp(label, "NIC", 3) != 0)
        return;
    /* Device names are printable ASCII; anything else is noise (and not valid JSON text). */
    for (const char *q = name; *q; q++)
        if (*q < 0x21 || *q > 0x7e)
            return;
    snprintf(c->topo->objs[c->obj[i]].name, sizeof(c->topo->objs[0].name), "%s", name);
}

static tb_status_t make_objects(nvsmi_ctx_t *c)
{
    tb_topo_obj_t o;
    int root;
    tb_topo_obj_init(&o, TB_OBJ_MACHINE);
    snprintf(o.name, sizeof(o.name), "Machine");
    if ((root = tb_topo_add_obj(c->topo, &o)) < 0)
        return tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
    for (int i = 0; i < c->ndev; i++) {
        int gpu = strncmp(c->labels[i], "GPU", 3) == 0;
        tb_topo_obj_init(&o, gpu ? TB_OBJ_GPU : TB_OBJ_NIC);
        o.parent = root;
        snprintf(o.name, sizeof(o.name), "%s", c->labels[i]);
        if (gpu) {
            o.os_index = atoi(c->labels[i] + 3);
        } else {
            o.nports = 1;
            o.ports[0].num = 1;
            o.ports[0].rocev2_gid_index = -1;
        }
        if ((c->obj[i] = tb_topo_add_obj(c->topo, &o)) < 0)
            return tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
        c->numa[i] = -1;
    }
    return TB_OK;
}

/* A header line was read: with device columns it is the matrix's header (objects made,
 * rows follow); without any it was not one and the search goes on. */
static tb_status_t header_done(nvsmi_ctx_t *c, int lineno)
{
    if (c->ndev == 0)
        return TB_OK;
    c->header_line = lineno;
    return make_objects(c);
}

/* The text has no tree, but locality needs NUMA objects: GPUs hang below the NUMA node of
 * their NUMA Affinity, NICs below the NUMA node of a GPU they share a node with. */
static tb_status_t place(nvsmi_ctx_t *c)
{
    tb_topo_t *topo = c->topo;
    for (int i = 0; i < c->ndev; i++) {
        tb_topo_obj_t *d = &topo->objs[c->obj[i]];
        if (d->kind != TB_OBJ_NIC || c->numa[i] >= 0)
            continue;
        for (size_t k = 0; k < topo->nlinks && c->numa[i] < 0; k++) {
            const tb_topo_link_t *l = &topo->links[k];
            int other = l->a == c->obj[i] ? l->b : l->b == c->obj[i] ? l->a : -1;
            if (l->kind != TB_LINK_GIVEN || other < 0 || l->cls < TB_PATH_PIX ||
                l->cls > TB_PATH_NODE)
                continue;
            for (int j = 0; j < c->ndev; j++)
                if (c->obj[j] == other && c->numa[j] >= 0) {
                    c->numa[i] = c->numa[j];
                    d->inferred |= TB_INF_NUMA; /* the text gives NICs none */
                }
        }
    }
    for (int i = 0; i < c->ndev; i++) {
        int numa_obj = -1;
        if (c->numa[i] < 0)
            continue;
        for (size_t k = 0; k < topo->nobjs; k++)
            if (topo->objs[k].kind == TB_OBJ_NUMA && topo->objs[k].os_index == c->numa[i])
                numa_obj = (int)k;
        if (numa_obj < 0) {
            tb_topo_obj_t o;
            tb_topo_obj_init(&o, TB_OBJ_NUMA);
            o.parent = 0;
            o.os_index = c->numa[i];
            snprintf(o.name, sizeof(o.name), "NUMA%d", c->numa[i]);
            if (strncmp(c->labels[i], "GPU", 3) == 0)
                snprintf(o.cpuset, sizeof(o.cpuset), "%s", c->cpus[i]);
            if ((numa_obj = tb_topo_add_obj(topo, &o)) < 0)
                return tb_error(TB_ERR_INTERNAL, "%s: out of memory", c->path);
        }
        topo->objs[c->obj[i]].parent = numa_obj;
        topo->objs[c->obj[i]].numa = c->numa[i];
    }
    for (int i = 0; i < c->ndev; i++)
        if (c->cpus[i][0])
            snprintf(topo->objs[c->obj[i]].cpuset, sizeof(topo->objs[0].cpuset), "%s",
                     c->cpus[i]);
    return TB_OK;
}

static void report_missing(nvsmi_ctx_t *c)
{
    char missing[200] = "";
    size_t used = 0;
    int nmissing = 0, nseen = 0;
    for (int i = 0; i < c->ndev; i++) {
        if (c->row_seen[i]) {
            nseen++;
            continue;
        }
        nmissing++;
        if (used + 16 < sizeof(missing)) {
            int w = snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? ", " : "",
                             c->labels[i]);
            if (w > 0)
                used += (size_t)w;
        } else if (used + 5 < sizeof(missing) && missing[used - 1] != '.') {
            used += (size_t)snprintf(missing + used, sizeof(missing) - used, ", ...");
        }
    }
    if (!nmissing)
        return;
    /* Rows of NICs are optional in older drivers' output only when no NIC row exists at
     * all and every GPU row is there; anything else is a cut-off matrix. */
    tb_topo_add_note(c->topo, "%s: partial matrix: %d of %d rows, missing %s", c->path, nseen,
                     c->ndev, missing);
    tb_topo_add_finding(c->topo, TB_SEV_WARN, "topo_partial", "",
                        "the nvidia-smi matrix is cut off: no rows for %s; pairs among them "
                        "and their CPU/NUMA affinity are unknown",
                        missing);
}

static tb_status_t parse(nvsmi_ctx_t *c, char *text)
{
    char *save = NULL, *tok[MAX_TOKENS];
    int lineno = 0, in_legend = 0;
    tb_status_t st;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char copy[4096];
        int n;
        lineno++;
        snprintf(copy, sizeof(copy), "%s", line);
        if (strstr(copy, "Legend:")) {
            in_legend = 1;
            continue;
        }
        if (in_legend) {
            if (c->header_line)
                parse_legend(c, copy);
            continue;
        }
        if (is_md_line(copy) && (!c->header_line || c->markdown)) {
            n = md_cells(copy, tok, MAX_TOKENS);
            if (c->header_line) {
                if (!md_is_rule(tok, n) && (st = md_row(c, tok, n, lineno)) != TB_OK)
                    return st;
                continue;
            }
            for (int i = 0; i < n; i++)
                if (strcmp(tok[i], "GPU0") == 0) {
                    if ((st = md_header(c, tok, n, lineno)) != TB_OK)
                        return st;
                    break;
                }
            if ((st = header_done(c, lineno)) != TB_OK)
                return st;
            continue;
        }
        n = tokenize(copy, tok, MAX_TOKENS);
        if (n == 0 || c->markdown)
            continue;
        if (!c->header_line) {
            int has_gpu0 = 0;
            for (int i = 0; i < n; i++)
                has_gpu0 |= strcmp(tok[i], "GPU0") == 0;
            if (!has_gpu0 || (n > 1 && strcmp(tok[0], "GPU0") == 0 && c->ndev == 0 &&
                              cell_class(tok[1], &(int){0}) >= 0))
                continue;
            if ((st = parse_header(c, tok, n)) != TB_OK)
                return st;
            if ((st = header_done(c, lineno)) != TB_OK)
                return st;
            continue;
        }
        {
            int r = label_index(c, tok[0]);
            if (r < 0)
                continue;
            if (c->row_seen[r]) {
                tb_topo_add_note(c->topo, "%s:%d: second row for %s ignored", c->path, lineno,
                                 tok[0]);
                continue;
            }
            if ((st = parse_row(c, r, tok, n, lineno)) != TB_OK)
                return st;
        }
    }
    if (!c->header_line)
        return tb_error(TB_ERR_INPUT, "%s: no nvidia-smi topo matrix header (a line naming "
                        "GPU0, GPU1, ..., plain or as a Markdown table row | |GPU0|GPU1|)",
                        c->path);
    return TB_OK;
}

tb_status_t tb_topo_from_nvsmi(tb_topo_t *topo, const char *path)
{
    nvsmi_ctx_t *c = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = NULL;
    tb_status_t st = TB_OK;
    int rows = 0;

    if (!(f = fopen(path, "rb")))
        return tb_error(TB_ERR_USAGE, "%s: cannot open", path);
    {
        /* Size the buffer to the file; the limit guards against a wrong file. */
        long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
        rewind(f);
        len = size >= 0 && size < (long)MAX_FILE ? (size_t)size + 1 : MAX_FILE;
    }
    if (!(text = malloc(len + 1)) || !(c = calloc(1, sizeof(*c)))) {
        st = tb_error(TB_ERR_INTERNAL, "%s: out of memory", path);
        goto out;
    }
    len = fread(text, 1, len, f);
    if (len == MAX_FILE && fgetc(f) != EOF) {
        st = tb_error(TB_ERR_INPUT, "%s: larger than %u bytes; not an nvidia-smi matrix", path,
                      MAX_FILE);
        goto out;
    }
    text[len] = 0;
    if (memchr(text, 0, len)) {
        st = tb_error(TB_ERR_INPUT, "%s: binary data, not nvidia-smi text", path);
        goto out;
    }
    strip_ansi(text);
    c->topo = topo;
    c->path = path;
    snprintf(topo->source, sizeof(topo->source), "nvidia-smi");
    if ((st = parse(c, text)) != TB_OK)
        goto out;
    if ((st = place(c)) != TB_OK)
        goto out;
    for (int i = 0; i < c->ndev; i++)
        rows += c->row_seen[i] != 0;
    if (rows == 0) {
        st = tb_error(TB_ERR_INPUT, "%s: matrix header but no rows", path);
        goto out;
    }
    report_missing(c);
    tb_topo_add_note(topo, "nvidia-smi%s: %zu GPU, %zu NIC; classes as stated (no PCIe tree, "
                     "no link speeds)", c->p2p_mode ? " topo -p2p" : "",
                     tb_topo_count(topo, TB_OBJ_GPU), tb_topo_count(topo, TB_OBJ_NIC));
out:
    if (f)
        fclose(f);
    free(text);
    free(c);
    return st;
}
