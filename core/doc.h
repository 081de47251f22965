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
#define TB_DOC_SCHEMA_VERSION 1

/* New document with schema header, empty run/hosts/ranks/tests/findings, complete=false. */
json_t *tb_doc_new(void);

/* Writes to `path` through a temporary file and rename(), so readers never see half a
 * document. TB_ERR_ENV (logged with the path) when it cannot. */
TB_NODISCARD tb_status_t tb_doc_write(const json_t *doc, const char *path);

/* Loads and validates: JSON syntax (error names file, line and column), schema name,
 * version, and the types of the top-level members and of each test's required members.
 * TB_ERR_INPUT on any problem, logged with the file and the field. */
TB_NODISCARD tb_status_t tb_doc_load(const char *path, json_t **doc_p);

/* Same validation for a document already in memory; `what` names it in messages. */
TB_NODISCARD tb_status_t tb_doc_validate(const json_t *doc, const char *what);

/* Statistics of iteration times (seconds in, microseconds in the document). */
json_t *tb_doc_stats_us(const tb_stats_t *stats);

/* UTC time as ISO 8601 "2026-11-26T17:43:35Z". */
void tb_doc_timestamp(char *buf, size_t len);

#endif
