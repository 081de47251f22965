/* The results document (results.json): the single source of truth of a run. Everything
 * else a run writes is rendered from it, so `topobench report` works offline.
 *
 * The document is a jansson tree (schema in docs/results-schema.md). This module owns
 * creating its skeleton, writing it atomically (rank 0 after every finished test, so an
 * aborted run leaves what it measured) and loading it back with validation. */
#ifndef TB_CORE_DOC_H
#define TB_CORE_DOC_H

#include <jansson.h>

#include "stats.h"
#include "status.h"

#define TB_DOC_SCHEMA "topobench-results"
/* 3: GPU paths (run.cuda, run.nccl, run.mpi_cuda_aware, run.environment, ranks[].gpu,
 * tests[].transfer, memory kinds other than host). Version 2 documents read as they are:
 * 3 only added members. */
#define TB_DOC_SCHEMA_VERSION 3
/* The first version with explicit entry keys; older ones are upgraded on loading. */
#define TB_DOC_SCHEMA_KEYS_VERSION 2

/* What tells apart the entries of one test, each an explicit field of the entry, so a
 * baseline matches an entry by fields, never by parsing a label. NULL is written as JSON
 * null (the key does not apply to this entry). */
typedef struct tb_doc_keys {
    const char *backend;     /* transport: "mpi" */
    const char *send_memory; /* memory kind of the send buffers: "host" */
    const char *recv_memory; /* memory kind of the receive buffers: "host" */
    const char *dtype;       /* element type: "byte", "float", "double" */
    const char *placement;   /* point-to-point pair: "intra-node", "inter-node" */
    const char *level;       /* matrices: "rank", "node", "isolated" */
} tb_doc_keys_t;

/* A tests[] entry {name, kind, the keys, status "running", params, units, results [],
 * errors []}; `params` is stolen (NULL: {}). */
json_t *tb_doc_entry_new(const char *name, const char *kind, const tb_doc_keys_t *keys,
                         json_t *params);

/* Whether two entries measure the same thing: same name and the same value (or null) for
 * every key of tb_doc_keys_t. How a baseline finds a run's counterpart of an entry. */
int tb_doc_entry_same(const json_t *a, const json_t *b);

/* Short label of what distinguishes an entry, for titles and file names: the backend and
 * memory kinds when they are not "mpi" and "host", "staged" when device buffers went
 * through host staging (transfer "staged"), then the placement, or the level, or
 * (collectives) the dtype, joined by '-': "intra-node", "float", "device-staged-float". */
void tb_doc_entry_label(const json_t *entry, char *buf, size_t len);

/* Matrices (N x N doubles, row-major, NaN where there is no measurement, the diagonal
 * included) live in an entry's "matrix" object under a key such as "recv_gbps".
 * Up to TB_DOC_MATRIX_INLINE_MAX rows they are inline, N arrays of N numbers (null for
 * NaN), readable by eye; larger ones go to a side file beside the document in numpy's
 * NPY format 1.0 (little-endian float64, C order), and the document holds the reference
 * {"format": "npy", "file": NAME, "dtype": "float64", "shape": [N, N]}. Both keep every
 * double exactly. docs/results-schema.md, "Matrices". */
#define TB_DOC_MATRIX_INLINE_MAX 64

/* Stores `cells` (n x n) in m[key]; a side file is written atomically as
 * "<dir>/<stem>-<key>.npy" (`stem`: [A-Za-z0-9_.-] only, e.g. "matrix-rank").
 * TB_ERR_ENV (logged with the path) when the side file cannot be written; m is then
 * unchanged. */
TB_NODISCARD tb_status_t tb_doc_matrix_set(json_t *m, const char *key, const double *cells,
                                           size_t n, const char *dir, const char *stem);

/* Reads m[key] into a new n x n array (*cells_p, free() it; NaN for null), resolving a
 * side file in `dir` (the document's directory). m[key] absent: TB_OK with *cells_p NULL
 * and *n_p 0. TB_ERR_INPUT, logged as "<where>: matrix.<key>: ...", when the value has
 * the wrong type or shape, or the side file is missing, truncated or not float64
 * N x N. */
TB_NODISCARD tb_status_t tb_doc_matrix_get(const json_t *m, const char *key, const char *dir,
                                           const char *where, double **cells_p,
                                           size_t *n_p);

/* The same matrix read a few rows at a time, for readers of large matrices: no n x n
 * buffer (134 MB at 4,096 ranks; filling fresh pages costs more than reading the file
 * on a virtual machine). Open checks the reference and the side file's header and size
 * as tb_doc_matrix_get does (same statuses and messages; absent: TB_OK, *rows_p NULL);
 * read copies rows first..first+count-1 into out (count x n doubles, NaN for null),
 * TB_ERR_INPUT if the file shrank meanwhile. */
typedef struct tb_doc_matrix_rows tb_doc_matrix_rows_t;
TB_NODISCARD tb_status_t tb_doc_matrix_rows_open(const json_t *m, const char *key,
                                                 const char *dir, const char *where,
                                                 tb_doc_matrix_rows_t **rows_p, size_t *n_p);
TB_NODISCARD tb_status_t tb_doc_matrix_rows_read(tb_doc_matrix_rows_t *rows, size_t first,
                                                 size_t count, double *out);
void tb_doc_matrix_rows_close(tb_doc_matrix_rows_t *rows);

/* The same matrix as tb_doc_matrix_get gives, for a reader that only reads it: a side
 * file is mapped read-only (little-endian host, cells 8-byte aligned), so its 134 MB at
 * 4,096 ranks are neither copied nor backed by fresh memory; otherwise it is read.
 * map->cells NULL when absent. Release with tb_doc_matrix_unmap. */
typedef struct tb_doc_matrix_map {
    const double *cells;
    size_t n;
    void *base;   /* the mapping, or NULL */
    size_t len;   /* its length */
    double *read; /* the cells read instead, or NULL */
} tb_doc_matrix_map_t;
TB_NODISCARD tb_status_t tb_doc_matrix_map(const json_t *m, const char *key, const char *dir,
                                           const char *where, tb_doc_matrix_map_t *map_p);
void tb_doc_matrix_unmap(tb_doc_matrix_map_t *map);

/* Whether m[key] is stored as a matrix (inline rows or a side-file reference). */
int tb_doc_matrix_is(const json_t *m, const char *key);

/* New document with schema header, empty run/hosts/ranks/tests/findings, complete=false. */
json_t *tb_doc_new(void);

/* Writes to `path` through a temporary file and rename(), so readers never see half a
 * document. TB_ERR_ENV (logged with the path) when it cannot. */
TB_NODISCARD tb_status_t tb_doc_write(const json_t *doc, const char *path);

/* A writer for a document rewritten many times (rank 0 rewrites it after every test):
 * top-level members that will not change any more are frozen, serialized once and their
 * text reused. At 4,096 ranks hosts[] (every node's topology model) is ~95% of the
 * document, so a rewrite then costs the tests' entries only. The output is the same
 * bytes tb_doc_write would write. */
typedef struct tb_doc_writer tb_doc_writer_t;
TB_NODISCARD tb_status_t tb_doc_writer_create(tb_doc_writer_t **writer_p);
void tb_doc_writer_destroy(tb_doc_writer_t *writer);
/* Promises that doc[key] will not be modified from now on (replacing it with another
 * value is noticed and re-serialized; changing it in place is not). */
TB_NODISCARD tb_status_t tb_doc_writer_freeze(tb_doc_writer_t *writer, const json_t *doc,
                                              const char *key);
/* tb_doc_write with the frozen members' text; `writer` NULL: plain tb_doc_write. */
TB_NODISCARD tb_status_t tb_doc_writer_write(tb_doc_writer_t *writer, const json_t *doc,
                                             const char *path);

/* Loads and validates: JSON syntax (error names file, line and column), schema name,
 * version, the types of the top-level members, of each test's required members and keys,
 * and of each matrix (shape against its labels). A schema_version 1 document (one
 * `variant` string per entry) is upgraded in memory to the explicit keys. TB_ERR_INPUT
 * on any problem, logged with the file and the field. */
TB_NODISCARD tb_status_t tb_doc_load(const char *path, json_t **doc_p);

/* Same validation for a document already in memory; `what` names it in messages. A
 * schema_version 1 document is refused here: tb_doc_upgrade it first. */
TB_NODISCARD tb_status_t tb_doc_validate(const json_t *doc, const char *what);

/* Rewrites a schema_version 1 document in place into the current version (each entry's
 * `variant` becomes placement, dtype or level; backend "mpi" and host memory, the only
 * ones version 1 had). Other versions are left alone. TB_ERR_INPUT for a variant
 * version 1 never wrote. */
TB_NODISCARD tb_status_t tb_doc_upgrade(json_t *doc, const char *what);

/* Statistics of iteration times (seconds in, microseconds in the document). */
json_t *tb_doc_stats_us(const tb_stats_t *stats);

/* UTC time as ISO 8601 "2026-11-26T17:43:35Z". */
void tb_doc_timestamp(char *buf, size_t len);

#endif
