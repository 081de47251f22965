/* nccl-tests output as a baseline (docs/gate.md), so a team's history counts: the result
 * table nccl-tests prints (`size count type redop root time algbw busbw #wrong` twice,
 * out-of-place and in-place), as printed, `#`-prefixed, labelled by srun (`0: `) or Open
 * MPI (`[1,0]<stdout>:`), indented, with massaged columns (`size time algbw busbw`,
 * sizes with `_`), and Markdown tables quoting busbw (a size or payload column, a GPUs
 * column, a collective column). Columns are found by their header names, never by
 * position. What the output does not say (the collective, the size of a one-size table,
 * the rank count) comes from the lines that launched it, then from --nccl-* options. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doc.h"
#include "gate_internal.h"
#include "log.h"
#include "units.h"

#define MAXTOK 48
#define TOKLEN 64

/* Longest names first: "all_reduce_perf" must not read as "reduce". */
static const char *const collectives[] = {"all_reduce", "all_gather", "reduce_scatter",
                                          "alltoall",   "broadcast",  "sendrecv",
                                          "hypercube",  "gather",     "scatter",
                                          "reduce",     NULL};

/* nccl-tests' size column is the whole buffer (n blocks) for these. */
static int gather_type(const char *t)
{
    return !strcmp(t, "all_gather") || !strcmp(t, "reduce_scatter") || !strcmp(t, "alltoall") ||
           !strcmp(t, "gather") || !strcmp(t, "scatter");
}

static size_t elem_size(const char *type)
{
    static const struct {
        const char *name;
        size_t bytes;
    } types[] = {{"int8", 1},   {"uint8", 1},  {"f8e4m3", 1},   {"f8e5m2", 1},
                 {"half", 2},   {"bfloat16", 2}, {"int32", 4},  {"uint32", 4},
                 {"float", 4},  {"int64", 8},  {"uint64", 8},   {"double", 8}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(types[i].name, type))
            return types[i].bytes;
    return 0;
}

typedef struct toks {
    int n;
    char t[MAXTOK][TOKLEN];
} toks_t;

static void tokenize(const char *p, size_t n, toks_t *tk)
{
    size_t i = 0;
    tk->n = 0;
    while (i < n) {
        size_t s, l;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i >= n)
            break;
        s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        if (tk->n == MAXTOK) {
            tk->n++; /* more columns than any nccl-tests table: counted, not kept */
            return;
        }
        l = i - s < TOKLEN - 1 ? i - s : TOKLEN - 1;
        memcpy(tk->t[tk->n], p + s, l);
        tk->t[tk->n][l] = 0;
        tk->n++;
    }
}

/* A collective named as an nccl-tests binary ("all_reduce_perf", "all_reduce_bench.py")
 * within s[0..n), or NULL. */
static const char *collective_in(const char *s, size_t n)
{
    for (int i = 0; collectives[i]; i++) {
        size_t cl = strlen(collectives[i]);
        for (size_t k = 0; k + cl + 5 <= n; k++) {
            if (memcmp(s + k, collectives[i], cl) ||
                (k > 0 && isalnum((unsigned char)s[k - 1])))
                continue;
            if (!memcmp(s + k + cl, "_perf", 5) ||
                (k + cl + 6 <= n && !memcmp(s + k + cl, "_bench", 6)))
                return collectives[i];
        }
    }
    return NULL;
}

/* "all-reduce, `NCCL_NVLS_ENABLE=1`" -> "all_reduce"; NULL when it names no collective. */
static const char *collective_cell(const char *cell)
{
    char buf[TOKLEN];
    size_t k = 0;
    while (*cell == ' ' || *cell == '`')
        cell++;
    for (; *cell && *cell != ',' && *cell != '(' && *cell != '`' && k < sizeof(buf) - 1; cell++)
        buf[k++] = *cell == '-' || *cell == ' ' ? '_' : (char)tolower((unsigned char)*cell);
    while (k > 0 && buf[k - 1] == '_')
        k--;
    buf[k] = 0;
    for (int i = 0; collectives[i]; i++)
        if (!strcmp(buf, collectives[i]))
            return collectives[i];
    return NULL;
}

/* A number as printed, and half its last printed digit (what rounding may have hidden). */
static int parse_value(const char *tok, double *v, double *res)
{
    char *end;
    const char *dot;
    if (!isdigit((unsigned char)tok[0]) && tok[0] != '.')
        return 0;
    *v = strtod(tok, &end);
    if (end == tok || !isfinite(*v) || *v < 0)
        return 0;
    dot = memchr(tok, '.', (size_t)(end - tok));
    if (memchr(tok, 'e', (size_t)(end - tok)) || memchr(tok, 'E', (size_t)(end - tok)))
        *res = 0;
    else
        *res = 0.5 * pow(10, -(double)(dot ? end - dot - 1 : 0));
    return (int)(end - tok);
}

/* A byte count with optional `_` or `,` grouping ("1_073_741_824"). */
static int parse_bytes(const char *tok, unsigned long long *v)
{
    char buf[TOKLEN], *end;
    size_t k = 0;
    for (const char *p = tok; *p && k < sizeof(buf) - 1; p++)
        if (*p != '_' && *p != ',')
            buf[k++] = *p;
    buf[k] = 0;
    if (!isdigit((unsigned char)buf[0]))
        return 0;
    *v = strtoull(buf, &end, 10);
    return *end == 0 && *v < (1ULL << 62);
}

typedef struct nrow {
    char test[TOKLEN], dtype[TOKLEN], redop[TOKLEN];
    long root;
    int have_root;
    unsigned long long size, count;
    int have_count, in_place, line, sized; /* sized: size is already topobench's */
    long ranks;
    double busbw, res;
} nrow_t;

typedef struct named {
    int line;
    const char *test;
} named_t;

typedef struct parser {
    const char *what;
    const tb_gate_import_opts_t *opts;
    nrow_t *rows;
    size_t nrows, cap;
    named_t *names;
    size_t nnames, ncap;
    long max_rank, cmd_ranks;
    unsigned long long cmd_size;
    int cmd_size_conflict, cmd_ranks_conflict;
    /* the nccl-tests header in force */
    int hdr_line, ncols, col_size, col_count, col_type, col_redop, col_root, nbus, col_busbw[2];
    /* a Markdown table in force */
    int md_state; /* 0 none, 1 header read, 2 rows */
    int md_line, md_size, md_busbw, md_ranks, md_test, md_ncells;
} parser_t;

static tb_status_t bad(const parser_t *ps, int line, const char *fmt, ...) TB_PRINTF(3, 4);
static tb_status_t bad(const parser_t *ps, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return tb_error(TB_ERR_INPUT, "%s:%d: %s", ps->what, line, msg);
}

static nrow_t *row_add(parser_t *ps)
{
    if (ps->nrows == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        nrow_t *r = realloc(ps->rows, cap * sizeof(*r));
        if (!r)
            return NULL;
        ps->rows = r;
        ps->cap = cap;
    }
    memset(&ps->rows[ps->nrows], 0, sizeof(nrow_t));
    return &ps->rows[ps->nrows++];
}

static void name_add(parser_t *ps, int line, const char *test)
{
    if (ps->nnames == ps->ncap) {
        size_t cap = ps->ncap ? ps->ncap * 2 : 16;
        named_t *n = realloc(ps->names, cap * sizeof(*n));
        if (!n)
            return;
        ps->names = n;
        ps->ncap = cap;
    }
    ps->names[ps->nnames].line = line;
    ps->names[ps->nnames++].test = test;
}

/* A line that launched nccl-tests: its collective, `-b X -e X` (one size) and `-g N`
 * without a launcher (one process: N ranks). */
static void read_command(parser_t *ps, const toks_t *tk, int line)
{
    const char *b = NULL, *e = NULL;
    long g = 0, t = 1;
    int launcher = 0, per_node = 0;
    for (int i = 0; i < tk->n && i < MAXTOK; i++) {
        const char *c = collective_in(tk->t[i], strlen(tk->t[i]));
        if (c)
            name_add(ps, line, c);
        if (strstr(tk->t[i], "mpirun") || strstr(tk->t[i], "srun") || strstr(tk->t[i], "mpiexec") ||
            strstr(tk->t[i], "--nnodes"))
            launcher = 1;
        /* torchrun on one node: --nproc_per_node=N processes, one rank each */
        if (!strncmp(tk->t[i], "--nproc_per_node=", 17) ||
            !strncmp(tk->t[i], "--nproc-per-node=", 17)) {
            g = strtol(tk->t[i] + 17, NULL, 10);
            per_node = 1;
        }
        if (i + 1 < tk->n && i + 1 < MAXTOK) {
            const char *v = tk->t[i + 1];
            if (!strcmp(tk->t[i], "-b") || !strcmp(tk->t[i], "--minbytes"))
                b = v;
            else if (!strcmp(tk->t[i], "-e") || !strcmp(tk->t[i], "--maxbytes"))
                e = v;
            else if (!strcmp(tk->t[i], "-g") || !strcmp(tk->t[i], "--ngpus"))
                g = strtol(v, NULL, 10);
            else if (!strcmp(tk->t[i], "-t") || !strcmp(tk->t[i], "--nthreads"))
                t = strtol(v, NULL, 10);
        }
    }
    if (b && e && !strcmp(b, e)) {
        size_t s;
        if (tb_size_parse(b, &s) == TB_OK) {
            if (ps->cmd_size && ps->cmd_size != s)
                ps->cmd_size_conflict = 1;
            ps->cmd_size = s;
        }
    }
    if (!launcher && g > 0 && g < 100000 && t > 0 && t < 1000 && (b || e || per_node)) {
        if (ps->cmd_ranks && ps->cmd_ranks != g * t)
            ps->cmd_ranks_conflict = 1;
        ps->cmd_ranks = g * t;
    }
}

/* A line of nccl-tests' result table: its header, or a row under it. */
static tb_status_t read_text(parser_t *ps, const toks_t *tk, int hash, int line)
{
    nrow_t *r;
    double v, res;
    if (tk->n > 0 && tk->n <= MAXTOK && !strcmp(tk->t[0], "size")) {
        int nbus = 0, have = 0;
        for (int i = 0; i < tk->n; i++)
            have |= !strcmp(tk->t[i], "busbw");
        if (!have)
            return TB_OK;
        ps->hdr_line = line;
        ps->ncols = tk->n;
        ps->col_size = 0;
        ps->col_count = ps->col_type = ps->col_redop = ps->col_root = -1;
        for (int i = 0; i < tk->n; i++) {
            if (!strcmp(tk->t[i], "count"))
                ps->col_count = i;
            else if (!strcmp(tk->t[i], "type"))
                ps->col_type = i;
            else if (!strcmp(tk->t[i], "redop"))
                ps->col_redop = i;
            else if (!strcmp(tk->t[i], "root"))
                ps->col_root = i;
            else if (!strcmp(tk->t[i], "busbw") && nbus < 2)
                ps->col_busbw[nbus++] = i;
        }
        ps->nbus = nbus;
        return TB_OK;
    }
    if (!ps->hdr_line || hash || tk->n == 0 || !isdigit((unsigned char)tk->t[0][0]))
        return TB_OK;
    if (tk->n != ps->ncols)
        return bad(ps, line, "%d columns where the header (line %d) has %d", tk->n,
                   ps->hdr_line, ps->ncols);
    for (int g = 0; g < ps->nbus; g++) {
        if (!(r = row_add(ps)))
            return tb_error(TB_ERR_ENV, "%s: out of memory", ps->what);
        r->line = line;
        r->in_place = g == 1;
        if (!parse_bytes(tk->t[ps->col_size], &r->size))
            return bad(ps, line, "column 'size': '%s' is not a byte count", tk->t[ps->col_size]);
        if (ps->col_count >= 0) {
            if (!parse_bytes(tk->t[ps->col_count], &r->count))
                return bad(ps, line, "column 'count': '%s' is not an element count",
                           tk->t[ps->col_count]);
            r->have_count = 1;
        }
        if (ps->col_type >= 0)
            snprintf(r->dtype, sizeof(r->dtype), "%s", tk->t[ps->col_type]);
        if (ps->col_redop >= 0)
            snprintf(r->redop, sizeof(r->redop), "%s", tk->t[ps->col_redop]);
        if (ps->col_root >= 0) {
            char *end;
            r->root = strtol(tk->t[ps->col_root], &end, 10);
            if (end == tk->t[ps->col_root] || *end)
                return bad(ps, line, "column 'root': '%s' is not a rank", tk->t[ps->col_root]);
            r->have_root = 1;
        }
        if (parse_value(tk->t[ps->col_busbw[g]], &v, &res) !=
            (int)strlen(tk->t[ps->col_busbw[g]]))
            return bad(ps, line, "column 'busbw' (%s): '%s' is not a bandwidth in GB/s",
                       g ? "in-place" : "out-of-place", tk->t[ps->col_busbw[g]]);
        r->busbw = v;
        r->res = res;
    }
    return TB_OK;
}

/* Cells of a Markdown row "| a | b |", trimmed, backticks kept. */
static int md_cells(const char *p, size_t n, char cells[][TOKLEN], int max)
{
    int k = 0;
    size_t i = 0;
    if (i < n && p[i] == '|')
        i++;
    while (i < n && k < max) {
        size_t s = i, e, l;
        while (i < n && p[i] != '|')
            i++;
        e = i;
        while (s < e && (p[s] == ' ' || p[s] == '\t'))
            s++;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\r'))
            e--;
        if (i >= n && s == e)
            break; /* after the closing '|' */
        l = e - s < TOKLEN - 1 ? e - s : TOKLEN - 1;
        memcpy(cells[k], p + s, l);
        cells[k][l] = 0;
        k++;
        if (i < n)
            i++;
    }
    return k;
}

static int md_separator(char cells[][TOKLEN], int n)
{
    for (int i = 0; i < n; i++)
        for (const char *c = cells[i]; *c; c++)
            if (*c != '-' && *c != ':' && *c != ' ')
                return 0;
    return n > 0;
}

static tb_status_t read_markdown(parser_t *ps, const char *p, size_t n, int line)
{
    char cells[MAXTOK][TOKLEN];
    int nc = md_cells(p, n, cells, MAXTOK);
    nrow_t *r;
    double v, res;
    int used;

    if (ps->md_state == 0) {
        ps->md_state = 1;
        ps->md_line = line;
        ps->md_ncells = nc;
        ps->md_size = ps->md_busbw = ps->md_ranks = ps->md_test = -1;
        for (int i = 0; i < nc; i++) {
            char h[TOKLEN];
            size_t k;
            for (k = 0; cells[i][k] && k < sizeof(h) - 1; k++)
                h[k] = (char)tolower((unsigned char)cells[i][k]);
            h[k] = 0;
            if (!strcmp(h, "busbw") && ps->md_busbw < 0)
                ps->md_busbw = i;
            else if ((!strncmp(h, "size", 4) || !strcmp(h, "payload") || !strcmp(h, "bytes")) &&
                     ps->md_size < 0)
                ps->md_size = i;
            else if ((!strcmp(h, "gpus") || !strcmp(h, "ranks")) && ps->md_ranks < 0)
                ps->md_ranks = i;
            else if ((!strcmp(h, "collective") || !strcmp(h, "test")) && ps->md_test < 0)
                ps->md_test = i;
        }
        return TB_OK;
    }
    if (md_separator(cells, nc))
        return TB_OK;
    ps->md_state = 2;
    if (ps->md_busbw < 0)
        return TB_OK; /* a table that quotes no busbw */
    if (nc != ps->md_ncells)
        return bad(ps, line, "%d cells where the table's header (line %d) has %d", nc,
                   ps->md_line, ps->md_ncells);
    if (!(r = row_add(ps)))
        return tb_error(TB_ERR_ENV, "%s: out of memory", ps->what);
    r->line = line;
    used = parse_value(cells[ps->md_busbw], &v, &res);
    if (!used || (cells[ps->md_busbw][used] && strcasecmp(cells[ps->md_busbw] + used, "GBps") &&
                  strcasecmp(cells[ps->md_busbw] + used, "GB/s") &&
                  strcasecmp(cells[ps->md_busbw] + used, " GB/s")))
        return bad(ps, line, "column 'busbw': '%s' is not a bandwidth in GB/s (GBps)",
                   cells[ps->md_busbw]);
    r->busbw = v;
    r->res = res;
    if (ps->md_size >= 0) {
        size_t s;
        char buf[TOKLEN];
        size_t k = 0;
        for (const char *c = cells[ps->md_size]; *c && k < sizeof(buf) - 1; c++)
            if (*c != '_' && *c != ',' && *c != ' ' && *c != '`')
                buf[k++] = *c;
        buf[k] = 0;
        if (tb_size_parse(buf, &s) != TB_OK)
            return bad(ps, line, "column 'size': '%s' is not a size (8, 32KiB, 16G)",
                       cells[ps->md_size]);
        r->size = s;
        r->sized = 0;
    } else {
        r->size = 0; /* resolved from the commands or --nccl-size */
        r->sized = -1;
    }
    if (ps->md_ranks >= 0) {
        char *end;
        r->ranks = strtol(cells[ps->md_ranks], &end, 10);
        if (end == cells[ps->md_ranks] || *end || r->ranks < 1)
            return bad(ps, line, "column 'GPUs': '%s' is not a rank count",
                       cells[ps->md_ranks]);
    }
    if (ps->md_test >= 0) {
        const char *c = collective_cell(cells[ps->md_test]);
        if (!c)
            return bad(ps, line, "column 'collective': '%s' names no nccl-tests collective",
                       cells[ps->md_test]);
        snprintf(r->test, sizeof(r->test), "%s", c);
    }
    return TB_OK;
}

/* Removes a launcher's label: srun -l "12: ", Open MPI --tag-output "[1,0]<stdout>:". */
static void strip_label(const char **p, size_t *n)
{
    const char *s = *p, *end = *p + *n;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s < end && isdigit((unsigned char)*s)) {
        const char *q = s;
        while (q < end && isdigit((unsigned char)*q))
            q++;
        if (q + 1 < end && q[0] == ':' && (q[1] == ' ' || q[1] == '\t'))
            s = q + 1;
    } else if (s < end && *s == '[') {
        for (const char *q = s; q < end && q < s + 40; q++)
            if (*q == ':' && q > s && q[-1] == '>') {
                s = q + 1;
                break;
            }
    }
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    *n = (size_t)(end - s);
    *p = s;
}

static tb_status_t read_line(parser_t *ps, const char *p, size_t n, int line)
{
    toks_t tk;
    int hash = 0;
    const char *c;

    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    strip_label(&p, &n);
    if (n > 0 && p[0] == '|')
        return read_markdown(ps, p, n, line);
    ps->md_state = 0;
    if (n > 0 && p[0] == '#') {
        hash = 1;
        p++;
        n--;
    }
    tokenize(p, n, &tk);
    if (hash && tk.n >= 2 && !strcmp(tk.t[0], "Rank")) {
        long r = strtol(tk.t[1], NULL, 10);
        if (r >= 0 && r < 100000000 && r > ps->max_rank)
            ps->max_rank = r;
    }
    if ((c = collective_in(p, n)) != NULL) {
        if (tk.n > 0 && (tk.t[0][0] == '$' || strstr(tk.t[0], "_perf") ||
                         strstr(tk.t[0], "mpirun") || strstr(tk.t[0], "srun") ||
                         strstr(tk.t[0], "NCCL_") || strstr(tk.t[0], "python")))
            read_command(ps, &tk, line);
        else
            name_add(ps, line, c);
    }
    return read_text(ps, &tk, hash, line);
}

/* The collective of a text row: named at or before it, else after it, else --nccl-test,
 * else in the file name. */
static const char *row_test(const parser_t *ps, int line, const char **from)
{
    const char *before = NULL, *after = NULL, *base;
    for (size_t i = 0; i < ps->nnames; i++) {
        if (ps->names[i].line <= line)
            before = ps->names[i].test;
        else if (!after)
            after = ps->names[i].test;
    }
    if (before || after) {
        *from = "the log";
        return before ? before : after;
    }
    if (ps->opts->test) {
        *from = "--nccl-test";
        return ps->opts->test;
    }
    base = strrchr(ps->what, '/');
    base = base ? base + 1 : ps->what;
    *from = "the file name";
    return collective_in(base, strlen(base));
}

/* Fills in what each row lacks and checks it is enough to key it. */
static tb_status_t resolve(parser_t *ps, json_t *b)
{
    const char *from = NULL, *tfrom;
    long file_ranks = ps->max_rank >= 0 ? ps->max_rank + 1 : ps->cmd_ranks;
    int dtype_defaulted = 0;

    if (ps->cmd_ranks_conflict && ps->max_rank < 0)
        file_ranks = 0;
    for (size_t i = 0; i < ps->nrows; i++) {
        nrow_t *r = &ps->rows[i];
        size_t es;
        if (!r->test[0]) {
            const char *t = row_test(ps, r->line, &tfrom);
            if (!t)
                return bad(ps, r->line,
                           "which collective? the output names no *_perf binary (no "
                           "'Collective test starting' line, no command line, not in the file "
                           "name): give it with --nccl-test NAME (all_reduce, all_gather, ...)");
            snprintf(r->test, sizeof(r->test), "%s", t);
            if (!from)
                from = tfrom;
        }
        if (!r->dtype[0]) {
            snprintf(r->dtype, sizeof(r->dtype), "%s", ps->opts->dtype ? ps->opts->dtype : "float");
            dtype_defaulted = 1;
        }
        if (!r->ranks)
            r->ranks = file_ranks;
        es = elem_size(r->dtype);
        if (!r->ranks && r->have_count && es && gather_type(r->test) && r->count > 0 &&
            r->size % (r->count * es) == 0)
            r->ranks = (long)(r->size / (r->count * es));
        if (!r->ranks)
            r->ranks = ps->opts->ranks;
        if (r->sized < 0) {
            if (ps->opts->size)
                r->size = ps->opts->size;
            else if (ps->cmd_size && !ps->cmd_size_conflict)
                r->size = ps->cmd_size;
            else
                return bad(ps, r->line, "the table has no size column and no command line "
                                        "gives one size (-b X -e X): give it with --nccl-size "
                                        "SIZE");
        }
        /* topobench's size: one rank's part for the gather types (REFERENCE.md 1). */
        if (r->have_count && es) {
            r->size = r->count * es;
        } else if (gather_type(r->test)) {
            if (r->ranks <= 0)
                return bad(ps, r->line, "%s's size column is the whole buffer of every rank, "
                                        "and the output shows neither the element count nor the "
                                        "rank count: give --nccl-ranks N", r->test);
            r->size /= (unsigned long long)r->ranks;
        }
    }
    if (from)
        tb_gate_note(b, "collective named by %s", from);
    if (dtype_defaulted)
        tb_gate_note(b, "element type not in the output: %s assumed (%s)",
             ps->opts->dtype ? ps->opts->dtype : "float",
             ps->opts->dtype ? "--nccl-dtype" : "nccl-tests' default; --nccl-dtype to change");
    if (ps->opts->ranks && file_ranks && ps->opts->ranks != file_ranks)
        tb_gate_note(b, "--nccl-ranks %ld ignored: the output shows %ld ranks", ps->opts->ranks,
             file_ranks);
    return TB_OK;
}

static json_t *entry_for(json_t *b, const parser_t *ps, const nrow_t *r)
{
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(b, "entries"), i, e) {
        const json_t *rk = json_object_get(e, "ranks");
        if (!strcmp(json_string_value(json_object_get(e, "name")), r->test) &&
            !strcmp(json_string_value(json_object_get(e, "dtype")), r->dtype) &&
            (r->ranks > 0 ? json_is_integer(rk) && json_integer_value(rk) == r->ranks
                          : json_is_null(rk)))
            return (json_t *)e;
    }
    e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:o, s:[]}", "name", r->test,
                  "kind", "collective", "backend", ps->opts->backend, "send_memory",
                  ps->opts->memory, "recv_memory", ps->opts->memory, "dtype", r->dtype,
                  "placement", "level", "ranks",
                  r->ranks > 0 ? json_integer(r->ranks) : json_null(), "rows");
    json_array_append_new(json_object_get(b, "entries"), (json_t *)e);
    return (json_t *)e;
}

tb_status_t tb_gate_baseline_from_nccl(const char *text, size_t len, const char *what,
                                       const tb_gate_import_opts_t *opts, json_t **baseline_p)
{
    parser_t ps;
    tb_gate_import_opts_t defaults;
    json_t *b = NULL;
    tb_status_t st = TB_OK;
    size_t pos = 0;
    int line = 0;

    if (!opts) {
        tb_gate_import_opts_default(&defaults);
        opts = &defaults;
    }
    memset(&ps, 0, sizeof(ps));
    ps.what = what;
    ps.opts = opts;
    ps.max_rank = -1;
    while (pos < len) {
        const char *p = text + pos, *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + 1;
        line++;
        if ((st = read_line(&ps, p, n, line)))
            goto out;
    }
    if (ps.nrows == 0) {
        st = tb_error(TB_ERR_INPUT,
                      "%s: no nccl-tests result found: expected the header line (`size count "
                      "type redop root time algbw busbw #wrong ...`) with result rows under it, "
                      "or a Markdown table with a busbw column (or a JSON baseline or results "
                      "document)", what);
        goto out;
    }
    b = tb_gate_baseline_new(json_pack("{s:s, s:s}", "format", "nccl-tests", "file", what));
    if ((st = resolve(&ps, b)))
        goto out;
    for (size_t i = 0; i < ps.nrows; i++) {
        const nrow_t *r = &ps.rows[i];
        json_t *e = entry_for(b, &ps, r), *rows = json_object_get(e, "rows"), *row;
        const json_t *o;
        size_t k;
        int dup = 0;
        row = json_pack("{s:I, s:b, s:i, s:{s:o}}", "size", (json_int_t)r->size, "in_place",
                        r->in_place, "line", r->line, "figures", "busbw_gbps",
                        tb_gate_figure_new(r->busbw, -1, r->res));
        if (r->redop[0])
            json_object_set_new(row, "redop", json_string(r->redop)); /* NULL (not UTF-8): not set */
        if (r->have_root)
            json_object_set_new(row, "root", json_integer(r->root));
        json_array_foreach(rows, k, o) {
            if (tb_gate_row_same(o, row)) {
                tb_gate_note(b, "line %d: %s at %llu bytes%s repeats line %lld: the first kept", r->line,
                     r->test, r->size, r->in_place ? " in place" : "",
                     (long long)json_integer_value(json_object_get(o, "line")));
                dup = 1;
                break;
            }
        }
        if (dup) {
            json_decref(row);
            continue;
        }
        json_array_append_new(rows, row);
    }
    *baseline_p = b;
    b = NULL;
out:
    json_decref(b);
    free(ps.rows);
    free(ps.names);
    return st;
}

void tb_gate_import_opts_default(tb_gate_import_opts_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->backend = "nccl";
    opts->memory = "device";
}
