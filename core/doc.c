/* Results document skeleton, atomic writes and validated loading. */
#include "doc.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"

json_t *tb_doc_new(void)
{
    return json_pack("{s:s, s:i, s:b, s:s, s:{}, s:[], s:[], s:[], s:[]}",
                     "schema", TB_DOC_SCHEMA, "schema_version", TB_DOC_SCHEMA_VERSION,
                     "complete", 0, "status", "running", "run", "hosts", "ranks", "tests",
                     "findings");
}

#define TB_DOC_DUMP_FLAGS (JSON_INDENT(1) | JSON_PRESERVE_ORDER)
#define TB_DOC_MAX_FROZEN 8

struct tb_doc_writer {
    size_t n;
    struct {
        char key[32];
        const json_t *value; /* identity of what was serialized */
        char *text;
    } frozen[TB_DOC_MAX_FROZEN];
};

tb_status_t tb_doc_writer_create(tb_doc_writer_t **writer_p)
{
    tb_doc_writer_t *w = calloc(1, sizeof(*w));
    if (!w)
        return tb_error(TB_ERR_INTERNAL, "out of memory");
    *writer_p = w;
    return TB_OK;
}

void tb_doc_writer_destroy(tb_doc_writer_t *w)
{
    for (size_t i = 0; w && i < w->n; i++)
        free(w->frozen[i].text);
    free(w);
}

tb_status_t tb_doc_writer_freeze(tb_doc_writer_t *w, const json_t *doc, const char *key)
{
    const json_t *v = json_object_get(doc, key);
    char *text;
    size_t i;
    if (!v || strlen(key) >= sizeof(w->frozen[0].key))
        return tb_error(TB_ERR_INTERNAL, "document member \"%s\" cannot be frozen", key);
    if (!(text = json_dumps(v, TB_DOC_DUMP_FLAGS | JSON_ENCODE_ANY)))
        return tb_error(TB_ERR_INTERNAL, "out of memory serializing \"%s\"", key);
    for (i = 0; i < w->n && strcmp(w->frozen[i].key, key) != 0; i++)
        ;
    if (i == TB_DOC_MAX_FROZEN) {
        free(text);
        return tb_error(TB_ERR_INTERNAL, "too many frozen document members");
    }
    if (i == w->n)
        w->n++;
    else
        free(w->frozen[i].text);
    snprintf(w->frozen[i].key, sizeof(w->frozen[i].key), "%s", key);
    w->frozen[i].value = v;
    w->frozen[i].text = text;
    return TB_OK;
}

/* The top-level object member by member (each as jansson writes a value alone), frozen
 * members from their text: the same bytes whichever members are frozen. */
static int dump_members(tb_doc_writer_t *w, const json_t *doc, FILE *f)
{
    const char *key;
    json_t *v;
    int first = 1;
    if (fputs("{", f) < 0)
        return -1;
    json_object_foreach((json_t *)doc, key, v) {
        const char *text = NULL;
        char *ktext;
        json_t *k;
        for (size_t i = 0; w && i < w->n; i++)
            if (!strcmp(w->frozen[i].key, key) && w->frozen[i].value == v)
                text = w->frozen[i].text;
        k = json_string(key);
        ktext = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
        json_decref(k);
        if (!ktext || fprintf(f, "%s\n %s: ", first ? "" : ",", ktext) < 0) {
            free(ktext);
            return -1;
        }
        free(ktext);
        first = 0;
        if (text ? fputs(text, f) < 0 : json_dumpf(v, f, TB_DOC_DUMP_FLAGS | JSON_ENCODE_ANY) != 0)
            return -1;
    }
    return fputs(first ? "}\n" : "\n}\n", f) < 0 ? -1 : 0;
}

tb_status_t tb_doc_writer_write(tb_doc_writer_t *w, const json_t *doc, const char *path)
{
    tb_afile_t a;
    tb_status_t st = tb_afile_open(&a, path);
    if (st)
        return st;
    setvbuf(a.f, NULL, _IOFBF, 1 << 20);
    errno = 0;
    if (!json_is_object(doc) || dump_members(w, doc, a.f) != 0) {
        int err = errno;
        tb_afile_abort(&a);
        return tb_error(TB_ERR_ENV, "cannot write %s: %s", path,
                        err ? strerror(err) : "write failed");
    }
    return tb_afile_commit(&a);
}

tb_status_t tb_doc_write(const json_t *doc, const char *path)
{
    return tb_doc_writer_write(NULL, doc, path);
}

/* ---- entries and their keys ---- */

static const char *const key_names[] = {"backend", "send_memory", "recv_memory",
                                        "dtype",   "placement",   "level"};
#define N_KEYS (sizeof(key_names) / sizeof(key_names[0]))

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *tb_doc_entry_new(const char *name, const char *kind, const tb_doc_keys_t *k,
                         json_t *params)
{
    const char *vals[N_KEYS] = {k->backend, k->send_memory, k->recv_memory,
                                k->dtype,   k->placement,   k->level};
    json_t *e = json_pack("{s:s, s:s}", "name", name, "kind", kind), *rest;
    for (size_t i = 0; e && i < N_KEYS; i++)
        json_object_set_new(e, key_names[i], string_or_null(vals[i]));
    rest = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}, s:[], s:[]}", "status", "running", "params",
                     params ? params : json_object(), "units", "size", "bytes", "time", "us",
                     "bandwidth", "GB/s", "results", "errors");
    if (e && rest)
        json_object_update(e, rest);
    json_decref(rest);
    return e;
}

int tb_doc_entry_same(const json_t *a, const json_t *b)
{
    const json_t *na = json_object_get(a, "name"), *nb = json_object_get(b, "name");
    if (!na || !nb || !json_equal(na, nb))
        return 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const json_t *x = json_object_get(a, key_names[i]), *y = json_object_get(b, key_names[i]);
        int xnull = !x || json_is_null(x), ynull = !y || json_is_null(y);
        if (xnull != ynull || (!xnull && !json_equal(x, y)))
            return 0;
    }
    return 1;
}

static void label_add(char *buf, size_t len, size_t *n, const char *part)
{
    if (!part || !part[0] || *n >= len)
        return;
    *n += (size_t)snprintf(buf + *n, len - *n, "%s%s", *n ? "-" : "", part);
    if (*n >= len)
        *n = len - 1;
}

void tb_doc_entry_label(const json_t *e, char *buf, size_t len)
{
    const char *backend = json_string_value(json_object_get(e, "backend"));
    const char *sm = json_string_value(json_object_get(e, "send_memory"));
    const char *rm = json_string_value(json_object_get(e, "recv_memory"));
    const char *placement = json_string_value(json_object_get(e, "placement"));
    const char *level = json_string_value(json_object_get(e, "level"));
    const char *kind = json_string_value(json_object_get(e, "kind"));
    size_t n = 0;

    if (!len)
        return;
    buf[0] = '\0';
    if (backend && strcmp(backend, "mpi") != 0)
        label_add(buf, len, &n, backend);
    if ((sm && strcmp(sm, "host") != 0) || (rm && strcmp(rm, "host") != 0)) {
        label_add(buf, len, &n, sm ? sm : "?");
        if (!sm || !rm || strcmp(sm, rm) != 0)
            label_add(buf, len, &n, rm ? rm : "?");
    }
    {
        const char *transfer = json_string_value(json_object_get(e, "transfer"));
        if (transfer && !strcmp(transfer, "staged"))
            label_add(buf, len, &n, "staged");
    }
    if (placement)
        label_add(buf, len, &n, placement);
    else if (level)
        label_add(buf, len, &n, level);
    else if (!kind || strcmp(kind, "p2p") != 0)
        label_add(buf, len, &n, json_string_value(json_object_get(e, "dtype")));
}

tb_status_t tb_doc_upgrade(json_t *doc, const char *what)
{
    static const struct {
        const char *variant, *key, *value;
    } map[] = {{"intra-node", "placement", "intra-node"}, {"inter-node", "placement", "inter-node"},
               {"float", "dtype", "float"},             {"double", "dtype", "double"},
               {"rank", "level", "rank"},               {"node", "level", "node"},
               {"isolated", "level", "isolated"}};
    json_t *tests = json_object_get(doc, "tests"), *t;
    size_t i;

    if (json_integer_value(json_object_get(doc, "schema_version")) != 1 ||
        !json_is_array(tests))
        return TB_OK;
    json_array_foreach(tests, i, t) {
        const char *variant = json_string_value(json_object_get(t, "variant"));
        const char *kind = json_string_value(json_object_get(t, "kind"));
        size_t m;
        if (!json_is_object(t))
            continue; /* validation names it */
        for (m = 0; variant && variant[0] && m < sizeof(map) / sizeof(map[0]); m++)
            if (!strcmp(variant, map[m].variant))
                break;
        if (variant && variant[0] && m == sizeof(map) / sizeof(map[0]))
            return tb_error(TB_ERR_INPUT,
                            "%s: tests[%zu]: variant \"%s\" is not one schema_version 1 "
                            "had (intra-node, inter-node, float, double, rank, node, isolated)",
                            what, i, variant);
        json_object_set_new(t, "backend", json_string("mpi"));
        json_object_set_new(t, "send_memory", json_string("host"));
        json_object_set_new(t, "recv_memory", json_string("host"));
        /* Version 1 ran point-to-point tests and matrices on bytes. */
        json_object_set_new(t, "dtype", json_string(kind && !strcmp(kind, "collective")
                                                        ? "float" : "byte"));
        json_object_set_new(t, "placement", json_null());
        json_object_set_new(t, "level", json_null());
        if (variant && variant[0])
            json_object_set_new(t, map[m].key, json_string(map[m].value));
        json_object_del(t, "variant");
    }
    json_object_set_new(doc, "schema_version", json_integer(TB_DOC_SCHEMA_VERSION));
    return TB_OK;
}

/* ---- matrices ---- */

#define NPY_MAGIC "\x93NUMPY"
#define NPY_PREAMBLE 10 /* magic (6), version (2), header length (2) */

static int host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void swap8(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char *b = (unsigned char *)&v[i];
        for (int k = 0; k < 4; k++) {
            unsigned char t = b[k];
            b[k] = b[7 - k];
            b[7 - k] = t;
        }
    }
}

static tb_status_t npy_write(const char *path, const double *cells, size_t n)
{
    char header[128];
    int hlen = snprintf(header, sizeof(header),
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }", n, n);
    size_t total, chunk = 1 << 16;
    unsigned char pre[NPY_PREAMBLE];
    tb_afile_t a;
    tb_status_t st;
    double *tmp = NULL;

    /* Pad with spaces and a final newline so the data starts 64-byte aligned, as numpy
     * writes it. */
    total = ((size_t)NPY_PREAMBLE + (size_t)hlen + 1 + 63) / 64 * 64;
    memset(header + hlen, ' ', total - NPY_PREAMBLE - (size_t)hlen);
    header[total - NPY_PREAMBLE - 1] = '\n';
    hlen = (int)(total - NPY_PREAMBLE);
    memcpy(pre, NPY_MAGIC, 6);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    if ((st = tb_afile_open(&a, path)))
        return st;
    fwrite(pre, 1, sizeof(pre), a.f);
    fwrite(header, 1, (size_t)hlen, a.f);
    if (host_little_endian()) {
        fwrite(cells, sizeof(double), n * n, a.f);
    } else if ((tmp = malloc(chunk * sizeof(double))) != NULL) {
        for (size_t i = 0; i < n * n; i += chunk) {
            size_t k = n * n - i < chunk ? n * n - i : chunk;
            memcpy(tmp, cells + i, k * sizeof(double));
            swap8(tmp, k);
            fwrite(tmp, sizeof(double), k, a.f);
        }
        free(tmp);
    } else {
        tb_afile_abort(&a);
        return tb_error(TB_ERR_ENV, "cannot write %s: out of memory", path);
    }
    return tb_afile_commit(&a);
}

/* Opens an NPY 1.0 file of little-endian float64 in C order, shape (n, n), and checks its
 * header and size: *f_p is positioned at the first cell, *offset_p is that offset. */
static tb_status_t npy_open(const char *path, const char *where, const char *key, size_t n,
                            FILE **f_p, size_t *offset_p)
{
    unsigned char pre[NPY_PREAMBLE];
    char header[65536 + 1], *p;
    size_t hlen, r, c;
    struct stat sb;
    FILE *f = fopen(path, "rb");

    if (!f)
        return tb_error(TB_ERR_INPUT, "%s: matrix.%s: cannot open its file %s: %s", where, key,
                        path, strerror(errno));
    if (fread(pre, 1, sizeof(pre), f) != sizeof(pre) || memcmp(pre, NPY_MAGIC, 6) != 0 ||
        pre[6] != 1) {
        tb_error(TB_ERR_INPUT, "%s: matrix.%s: %s is not an NPY 1.0 file", where, key, path);
        goto fail;
    }
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (fread(header, 1, hlen, f) != hlen) {
        tb_error(TB_ERR_INPUT, "%s: matrix.%s: %s: truncated NPY header", where, key, path);
        goto fail;
    }
    header[hlen] = '\0';
    if (!strstr(header, "'descr': '<f8'") || !strstr(header, "'fortran_order': False") ||
        !(p = strstr(header, "'shape': ("))) {
        tb_error(TB_ERR_INPUT, "%s: matrix.%s: %s should hold little-endian float64 in C order "
                 "('<f8', fortran_order False)", where, key, path);
        goto fail;
    }
    p += strlen("'shape': (");
    if (sscanf(p, "%zu, %zu)", &r, &c) != 2 || r != n || c != n) {
        tb_error(TB_ERR_INPUT, "%s: matrix.%s: %s should have shape (%zu, %zu)", where, key,
                 path, n, n);
        goto fail;
    }
    if (fstat(fileno(f), &sb) != 0 || (uint64_t)sb.st_size != NPY_PREAMBLE + hlen + n * n * 8) {
        tb_error(TB_ERR_INPUT, "%s: matrix.%s: %s should be %zu bytes (%zu x %zu float64)",
                 where, key, path, NPY_PREAMBLE + hlen + n * n * 8, n, n);
        goto fail;
    }
    *f_p = f;
    *offset_p = NPY_PREAMBLE + hlen;
    return TB_OK;
fail:
    fclose(f);
    return TB_ERR_INPUT;
}

/* A side file's name: a plain name in the document's directory. */
static int plain_name(const char *s)
{
    return s && s[0] && s[0] != '.' && !strchr(s, '/');
}

int tb_doc_matrix_is(const json_t *m, const char *key)
{
    const json_t *v = json_object_get(m, key);
    if (json_is_array(v))
        return json_array_size(v) == 0 || json_is_array(json_array_get(v, 0));
    return json_is_object(v) && json_is_string(json_object_get(v, "format"));
}

/* The matrix at m[key] has the shape it claims and `n` rows; message on failure. */
static tb_status_t matrix_check(const json_t *v, const char *key, size_t n, const char *where)
{
    if (json_is_array(v)) {
        size_t i, j;
        const json_t *row, *x;
        if (json_array_size(v) != n)
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s has %zu rows but there are %zu labels",
                            where, key, json_array_size(v), n);
        json_array_foreach(v, i, row) {
            if (!json_is_array(row) || json_array_size(row) != n)
                return tb_error(TB_ERR_INPUT, "%s: matrix.%s row %zu should be an array of %zu "
                                "numbers", where, key, i, n);
            json_array_foreach(row, j, x) {
                if (!json_is_number(x) && !json_is_null(x))
                    return tb_error(TB_ERR_INPUT, "%s: matrix.%s[%zu][%zu] should be a number "
                                    "or null", where, key, i, j);
            }
        }
        return TB_OK;
    }
    if (json_is_object(v)) {
        const char *fmt = json_string_value(json_object_get(v, "format"));
        const json_t *shape = json_object_get(v, "shape");
        const char *dtype = json_string_value(json_object_get(v, "dtype"));
        if (!fmt || strcmp(fmt, "npy") != 0)
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s.format should be \"npy\"", where, key);
        if (!plain_name(json_string_value(json_object_get(v, "file"))))
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s.file should be a file name beside the "
                            "document (no '/')", where, key);
        if (!dtype || strcmp(dtype, "float64") != 0)
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s.dtype should be \"float64\"", where,
                            key);
        if (!json_is_array(shape) || json_array_size(shape) != 2 ||
            !json_is_integer(json_array_get(shape, 0)) ||
            !json_is_integer(json_array_get(shape, 1)) ||
            json_integer_value(json_array_get(shape, 0)) != (json_int_t)n ||
            json_integer_value(json_array_get(shape, 1)) != (json_int_t)n)
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s.shape should be [%zu, %zu] (one row "
                            "and column per label)", where, key, n, n);
        return TB_OK;
    }
    return tb_error(TB_ERR_INPUT, "%s: matrix.%s should be an array of rows or an NPY file "
                    "reference", where, key);
}

tb_status_t tb_doc_matrix_set(json_t *m, const char *key, const double *cells, size_t n,
                              const char *dir, const char *stem)
{
    json_t *v;
    if (n <= TB_DOC_MATRIX_INLINE_MAX) {
        v = json_array();
        for (size_t i = 0; v && i < n; i++) {
            json_t *row = json_array();
            for (size_t j = 0; row && j < n; j++) {
                double x = cells[i * n + j];
                json_array_append_new(row, isfinite(x) ? json_real(x) : json_null());
            }
            json_array_append_new(v, row);
        }
    } else {
        char name[512], path[4096 + 512];
        tb_status_t st;
        snprintf(name, sizeof(name), "%s-%s.npy", stem, key);
        for (char *p = name; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
                *p = '_';
        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
            return tb_error(TB_ERR_ENV, "output path too long: %s/%s", dir, name);
        if ((st = npy_write(path, cells, n)))
            return st;
        v = json_pack("{s:s, s:s, s:s, s:[I,I]}", "format", "npy", "file", name, "dtype",
                      "float64", "shape", (json_int_t)n, (json_int_t)n);
    }
    if (!v)
        return tb_error(TB_ERR_INTERNAL, "out of memory for a %zu x %zu matrix", n, n);
    json_object_set_new(m, key, v);
    return TB_OK;
}

struct tb_doc_matrix_rows {
    const json_t *inline_rows; /* inline matrix, or NULL */
    FILE *f;                   /* side file, or NULL */
    size_t offset, n;
    char path[8192];
};

tb_status_t tb_doc_matrix_rows_open(const json_t *m, const char *key, const char *dir,
                                    const char *where, tb_doc_matrix_rows_t **rows_p,
                                    size_t *n_p)
{
    const json_t *v = json_object_get(m, key), *labels = json_object_get(m, "labels");
    tb_doc_matrix_rows_t *r;
    size_t n;
    tb_status_t st;

    *rows_p = NULL;
    *n_p = 0;
    if (!v)
        return TB_OK;
    if (json_is_array(labels))
        n = json_array_size(labels);
    else if (json_is_array(v))
        n = json_array_size(v);
    else
        n = (size_t)json_integer_value(json_array_get(json_object_get(v, "shape"), 0));
    /* 2^20 ranks: far beyond any job, and n * n * 8 bytes cannot overflow. */
    if (n > ((size_t)1 << 20))
        return tb_error(TB_ERR_INPUT, "%s: matrix.%s: %zu rows is more than this topobench reads",
                        where, key, n);
    if ((st = matrix_check(v, key, n, where)))
        return st;
    if (!(r = calloc(1, sizeof(*r))))
        return tb_error(TB_ERR_ENV, "%s: matrix.%s: out of memory", where, key);
    r->n = n;
    if (json_is_array(v)) {
        r->inline_rows = v;
    } else {
        snprintf(r->path, sizeof(r->path), "%s/%s", dir && dir[0] ? dir : ".",
                 json_string_value(json_object_get(v, "file")));
        if ((st = npy_open(r->path, where, key, n, &r->f, &r->offset))) {
            free(r);
            return st;
        }
    }
    *rows_p = r;
    *n_p = n;
    return TB_OK;
}

tb_status_t tb_doc_matrix_rows_read(tb_doc_matrix_rows_t *r, size_t first, size_t count,
                                    double *out)
{
    if (first > r->n || count > r->n - first)
        return tb_error(TB_ERR_INTERNAL, "%s: rows %zu to %zu of %zu asked for", r->path,
                        first, first + count, r->n);
    if (r->inline_rows) {
        for (size_t i = first; i < first + count; i++) {
            const json_t *row = json_array_get(r->inline_rows, i);
            for (size_t j = 0; j < r->n; j++) {
                const json_t *x = json_array_get(row, j);
                *out++ = json_is_number(x) ? json_number_value(x) : NAN;
            }
        }
        return TB_OK;
    }
    {
        char *p = (char *)out;
        size_t left = count * r->n * sizeof(double);
        off_t at = (off_t)(r->offset + first * r->n * sizeof(double));
        while (left) {
            ssize_t got = pread(fileno(r->f), p, left, at);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return tb_error(TB_ERR_INPUT, "%s: cannot read its rows %zu to %zu: %s", r->path,
                                first, first + count - 1, got ? strerror(errno) : "file truncated");
            p += got;
            at += got;
            left -= (size_t)got;
        }
        if (!host_little_endian())
            swap8(out, count * r->n);
    }
    return TB_OK;
}

void tb_doc_matrix_rows_close(tb_doc_matrix_rows_t *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r);
}

tb_status_t tb_doc_matrix_get(const json_t *m, const char *key, const char *dir,
                              const char *where, double **cells_p, size_t *n_p)
{
    tb_doc_matrix_rows_t *rows;
    double *cells;
    size_t n;
    tb_status_t st;

    *cells_p = NULL;
    *n_p = 0;
    if ((st = tb_doc_matrix_rows_open(m, key, dir, where, &rows, &n)) || !rows)
        return st;
    /* n <= 2^20 (rows_open): n * n * 8 bytes cannot overflow. */
    if (!(cells = malloc(n ? n * n * sizeof(double) : 1)))
        st = tb_error(TB_ERR_ENV, "%s: matrix.%s: out of memory for %zu x %zu", where, key, n, n);
    else if ((st = tb_doc_matrix_rows_read(rows, 0, n, cells))) {
        free(cells);
        cells = NULL;
    }
    tb_doc_matrix_rows_close(rows);
    *cells_p = cells;
    *n_p = cells ? n : 0;
    return st;
}

tb_status_t tb_doc_matrix_map(const json_t *m, const char *key, const char *dir,
                              const char *where, tb_doc_matrix_map_t *map_p)
{
    tb_doc_matrix_rows_t *rows;
    size_t n;
    tb_status_t st;
    double *cells;

    memset(map_p, 0, sizeof(*map_p));
    if ((st = tb_doc_matrix_rows_open(m, key, dir, where, &rows, &n)) || !rows)
        return st;
    if (rows->f && host_little_endian() && rows->offset % sizeof(double) == 0 && n) {
        size_t len = rows->offset + n * n * sizeof(double);
        void *base = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(rows->f), 0);
        if (base != MAP_FAILED) {
            map_p->base = base;
            map_p->len = len;
            map_p->cells = (const double *)((const char *)base + rows->offset);
            map_p->n = n;
            tb_doc_matrix_rows_close(rows);
            return TB_OK;
        }
    }
    tb_doc_matrix_rows_close(rows);
    if ((st = tb_doc_matrix_get(m, key, dir, where, &cells, &n)))
        return st;
    map_p->read = cells;
    map_p->cells = cells;
    map_p->n = n;
    return TB_OK;
}

void tb_doc_matrix_unmap(tb_doc_matrix_map_t *map)
{
    if (map->base)
        munmap(map->base, map->len);
    free(map->read);
    memset(map, 0, sizeof(*map));
}

static tb_status_t require(const json_t *obj, const char *key, json_type type,
                           const char *what, const char *where)
{
    static const char *names[] = {"object", "array",  "string", "integer",
                                  "real",   "true",   "false",  "null"};
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return tb_error(TB_ERR_INPUT, "%s: %s: missing field \"%s\"", what, where, key);
    if (json_typeof(v) == type)
        return TB_OK;
    if (type == JSON_REAL && json_is_integer(v))
        return TB_OK;
    if (type == JSON_TRUE && json_is_boolean(v))
        return TB_OK;
    return tb_error(TB_ERR_INPUT, "%s: %s: field \"%s\" should be %s %s", what, where, key,
                    strchr("aeiou", names[type][0]) ? "an" : "a", names[type]);
}

/* Every key of tb_doc_keys_t: a string or null. */
static tb_status_t validate_keys(const json_t *t, const char *what, const char *where)
{
    for (size_t k = 0; k < N_KEYS; k++) {
        const json_t *x = json_object_get(t, key_names[k]);
        if (!x)
            return tb_error(TB_ERR_INPUT, "%s: %s: missing field \"%s\"", what, where,
                            key_names[k]);
        if (!json_is_string(x) && !json_is_null(x))
            return tb_error(TB_ERR_INPUT, "%s: %s: field \"%s\" should be a string or null",
                            what, where, key_names[k]);
    }
    return TB_OK;
}

/* The labels of a matrix object: absent, or an array of strings (*n_p of them). */
static tb_status_t labels_check(const json_t *m, const char *mwhere, size_t *n_p)
{
    const json_t *labels = json_object_get(m, "labels"), *x;
    size_t i;
    if (labels && !json_is_array(labels))
        return tb_error(TB_ERR_INPUT, "%s: matrix.labels should be an array", mwhere);
    json_array_foreach(labels, i, x) {
        if (!json_is_string(x))
            return tb_error(TB_ERR_INPUT, "%s: matrix.labels[%zu] should be a string", mwhere, i);
    }
    *n_p = json_array_size(labels);
    return TB_OK;
}

/* Every member of `m` that looks like a matrix (an array of arrays, or an object with
 * `format`: also the keys a newer writer added) has one row and column per label. */
static tb_status_t matrices_check(const json_t *m, const char *mwhere, size_t n)
{
    const char *key;
    const json_t *x;
    tb_status_t st;
    json_object_foreach((json_t *)m, key, x) {
        if (!strcmp(key, "labels") || !strcmp(key, "ranks") || !strcmp(key, "pairs") ||
            !tb_doc_matrix_is(m, key))
            continue;
        if (!json_object_get(m, "labels"))
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s without matrix.labels", mwhere, key);
        if ((st = matrix_check(x, key, n, mwhere)))
            return st;
    }
    return TB_OK;
}

/* An entry's matrix object: labels and ranks agree, every matrix has one row and column
 * per label, isolated pairs are objects. */
static tb_status_t validate_matrix(const json_t *t, const char *what, const char *where)
{
    static const char *const matrices[] = {"recv_gbps", "send_gbps",  "recv_cv",
                                           "send_cv",   "latency_us", "bandwidth_gbps"};
    const json_t *m = json_object_get(t, "matrix"), *labels, *ranks, *pairs, *x;
    char mwhere[160];
    size_t n, i;
    tb_status_t st;

    if (!m)
        return TB_OK;
    snprintf(mwhere, sizeof(mwhere), "%s: %s (%s)", what, where,
             json_string_value(json_object_get(t, "name")));
    if (!json_is_object(m))
        return tb_error(TB_ERR_INPUT, "%s: field \"matrix\" should be an object", mwhere);
    if ((st = labels_check(m, mwhere, &n)))
        return st;
    labels = json_object_get(m, "labels");
    ranks = json_object_get(m, "ranks");
    pairs = json_object_get(m, "pairs");
    if (ranks && (!json_is_array(ranks) || json_array_size(ranks) != n))
        return tb_error(TB_ERR_INPUT, "%s: matrix.ranks should be an array of %zu integers "
                        "(one per label)", mwhere, n);
    json_array_foreach(ranks, i, x) {
        if (!json_is_integer(x))
            return tb_error(TB_ERR_INPUT, "%s: matrix.ranks[%zu] should be an integer", mwhere, i);
    }
    if (pairs && !json_is_array(pairs))
        return tb_error(TB_ERR_INPUT, "%s: matrix.pairs should be an array", mwhere);
    json_array_foreach(pairs, i, x) {
        if (!json_is_object(x))
            return tb_error(TB_ERR_INPUT, "%s: matrix.pairs[%zu] should be an object", mwhere, i);
    }
    for (i = 0; i < sizeof(matrices) / sizeof(matrices[0]); i++) {
        x = json_object_get(m, matrices[i]);
        if (x && !labels)
            return tb_error(TB_ERR_INPUT, "%s: matrix.%s without matrix.labels", mwhere,
                            matrices[i]);
        if (x && (st = matrix_check(x, matrices[i], n, mwhere)))
            return st;
    }
    return matrices_check(m, mwhere, n);
}

/* Per-node matrices (gpu_copy): `nodes` is an array of objects, each with its own labels
 * and matrices over them. */
static tb_status_t validate_nodes(const json_t *t, const char *what, const char *where)
{
    const json_t *nodes = json_object_get(t, "nodes"), *node;
    size_t i, n;
    tb_status_t st;
    if (!nodes)
        return TB_OK;
    if (!json_is_array(nodes))
        return tb_error(TB_ERR_INPUT, "%s: %s (%s): field \"nodes\" should be an array", what,
                        where, json_string_value(json_object_get(t, "name")));
    json_array_foreach(nodes, i, node) {
        char nwhere[192];
        snprintf(nwhere, sizeof(nwhere), "%s: %s (%s) nodes[%zu]", what, where,
                 json_string_value(json_object_get(t, "name")), i);
        if (!json_is_object(node))
            return tb_error(TB_ERR_INPUT, "%s should be an object", nwhere);
        if ((st = labels_check(node, nwhere, &n)) || (st = matrices_check(node, nwhere, n)))
            return st;
    }
    return TB_OK;
}

tb_status_t tb_doc_validate(const json_t *doc, const char *what)
{
    const json_t *tests, *v;
    size_t i;
    tb_status_t st;

    if (!json_is_object(doc))
        return tb_error(TB_ERR_INPUT, "%s: top level should be a JSON object", what);
    v = json_object_get(doc, "schema");
    if (!json_is_string(v) || strcmp(json_string_value(v), TB_DOC_SCHEMA) != 0)
        return tb_error(TB_ERR_INPUT, "%s: not a topobench results document "
                        "(field \"schema\" should be \"%s\")", what, TB_DOC_SCHEMA);
    if ((st = require(doc, "schema_version", JSON_INTEGER, what, "document")))
        return st;
    if (json_integer_value(json_object_get(doc, "schema_version")) < TB_DOC_SCHEMA_KEYS_VERSION)
        return tb_error(TB_ERR_INPUT, "%s: schema_version %lld predates the explicit entry keys; "
                        "load it with tb_doc_load, which upgrades it", what,
                        (long long)json_integer_value(json_object_get(doc, "schema_version")));
    if (json_integer_value(json_object_get(doc, "schema_version")) > TB_DOC_SCHEMA_VERSION)
        return tb_error(TB_ERR_INPUT, "%s: schema_version %lld is newer than this topobench "
                        "understands (%d); use a newer topobench", what,
                        (long long)json_integer_value(json_object_get(doc, "schema_version")),
                        TB_DOC_SCHEMA_VERSION);
    if ((st = require(doc, "run", JSON_OBJECT, what, "document")) ||
        (st = require(doc, "hosts", JSON_ARRAY, what, "document")) ||
        (st = require(doc, "ranks", JSON_ARRAY, what, "document")) ||
        (st = require(doc, "tests", JSON_ARRAY, what, "document")))
        return st;
    tests = json_object_get(doc, "tests");
    json_array_foreach(tests, i, v) {
        char where[64];
        const json_t *results, *r;
        size_t j;
        snprintf(where, sizeof(where), "tests[%zu]", i);
        if (!json_is_object(v))
            return tb_error(TB_ERR_INPUT, "%s: %s should be an object", what, where);
        if ((st = require(v, "name", JSON_STRING, what, where)) ||
            (st = require(v, "kind", JSON_STRING, what, where)) ||
            (st = require(v, "results", JSON_ARRAY, what, where)) ||
            (st = validate_keys(v, what, where)) || (st = validate_matrix(v, what, where)) ||
            (st = validate_nodes(v, what, where)))
            return st;
        results = json_object_get(v, "results");
        json_array_foreach(results, j, r) {
            char rwhere[96];
            snprintf(rwhere, sizeof(rwhere), "tests[%zu] (%s) results[%zu]", i,
                     json_string_value(json_object_get(v, "name")), j);
            if (!json_is_object(r))
                return tb_error(TB_ERR_INPUT, "%s: %s should be an object", what, rwhere);
            if ((st = require(r, "size", JSON_INTEGER, what, rwhere)) ||
                (st = require(r, "time_us", JSON_OBJECT, what, rwhere)))
                return st;
        }
    }
    return TB_OK;
}

tb_status_t tb_doc_load(const char *path, json_t **doc_p)
{
    json_error_t err;
    json_t *doc;
    tb_status_t st;
    char *text;
    size_t len;

    if ((st = tb_file_read(path, &text, &len)))
        return st;
    doc = json_loadb(text, len, 0, &err);
    free(text);
    if (!doc)
        return tb_error(TB_ERR_INPUT, "%s:%d:%d: malformed JSON: %s", path, err.line,
                        err.column, err.text);
    st = tb_doc_upgrade(doc, path);
    if (st == TB_OK)
        st = tb_doc_validate(doc, path);
    if (st) {
        json_decref(doc);
        return st;
    }
    *doc_p = doc;
    return TB_OK;
}

json_t *tb_doc_stats_us(const tb_stats_t *s)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "min", s->min * 1e6, "median",
                     s->median * 1e6, "p99", s->p99 * 1e6, "mean", s->mean * 1e6, "max",
                     s->max * 1e6, "cv", s->cv);
}

void tb_doc_timestamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
