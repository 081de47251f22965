/* The CI gate (docs/gate.md): a baseline keeps what a gate compares of a good run (per
 * test entry its key fields, per size the headline figure and its spread); a check
 * compares a new results document with it, and with an expectation file, and says which
 * checks failed. A baseline is made from a results document or imported from an
 * nccl-tests log, so a team's history counts. Reads documents only (core, jansson, the
 * analyzer for verdict expectations); rendering the result as a table, JUnit XML or
 * Markdown is report/'s (report.h). */
#ifndef TB_TOPO_GATE_H
#define TB_TOPO_GATE_H

#include <jansson.h>
#include <stddef.h>

#include "status.h"

#define TB_BASELINE_SCHEMA "topobench-baseline"
#define TB_BASELINE_VERSION 1
#define TB_CHECK_SCHEMA "topobench-check"
#define TB_CHECK_VERSION 1

/* What an nccl-tests log does not say, given on the command line (--nccl-*). */
typedef struct tb_gate_import_opts {
    const char *test;    /* collective when the file names none ("all_reduce"); NULL */
    const char *dtype;   /* element type when no `type` column ("float", nccl-tests' default) */
    const char *backend; /* "nccl" */
    const char *memory;  /* send and receive memory kind: "device" */
    size_t size;         /* message size of a table without a size column; 0: none */
    long ranks;          /* ranks when the log does not show them; 0: unknown */
} tb_gate_import_opts_t;

void tb_gate_import_opts_default(tb_gate_import_opts_t *opts);

/* A baseline from a results document (validated by tb_doc_load): every entry that
 * finished `ok`, except isolated pairs, with its rows' gated figures. `docdir` resolves
 * matrix side files; `what` names the source in the baseline and in messages. */
TB_NODISCARD tb_status_t tb_gate_baseline_from_doc(const json_t *doc, const char *docdir,
                                                   const char *what, json_t **baseline_p);

/* A baseline from nccl-tests output (every layout in the fixtures: plain, `#`-prefixed,
 * srun-labelled, massaged columns, and Markdown tables quoting busbw). TB_ERR_INPUT,
 * logged as "<what>:<line>: ...", when a result line is malformed or nothing says which
 * collective or size a row is. */
TB_NODISCARD tb_status_t tb_gate_baseline_from_nccl(const char *text, size_t len,
                                                    const char *what,
                                                    const tb_gate_import_opts_t *opts,
                                                    json_t **baseline_p);

/* Checks a baseline document's schema, version and every field; TB_ERR_INPUT naming the
 * field ("base.json: entries[2].rows[0].size: ..."). */
TB_NODISCARD tb_status_t tb_gate_baseline_validate(const json_t *baseline, const char *what);

/* Reads `len` bytes as a baseline, a results document (converted) or nccl-tests output
 * (imported), sniffed by content; `docdir`: a results document's side files. */
TB_NODISCARD tb_status_t tb_gate_baseline_parse(const char *text, size_t len, const char *what,
                                                const char *docdir,
                                                const tb_gate_import_opts_t *opts,
                                                json_t **baseline_p);
/* The same from a file. TB_ERR_USAGE when it does not exist. */
TB_NODISCARD tb_status_t tb_gate_baseline_load(const char *path,
                                               const tb_gate_import_opts_t *opts,
                                               json_t **baseline_p);

/* An expectation file (one check per line, docs/gate.md): an array of parsed lines.
 * TB_ERR_INPUT, logged as "<what>:<line>: field '<field>': ...", on the first bad line. */
TB_NODISCARD tb_status_t tb_gate_expect_parse(const char *text, size_t len, const char *what,
                                              json_t **expect_p);
TB_NODISCARD tb_status_t tb_gate_expect_load(const char *path, json_t **expect_p);

typedef struct tb_gate_opts {
    double tolerance; /* a change within this fraction of the baseline passes (0.05) */
    double spread_k;  /* ... and within this many combined standard deviations (2) */
    int allow_missing; /* baseline rows the run lacks are reported but pass */
} tb_gate_opts_t;

void tb_gate_opts_default(tb_gate_opts_t *opts);

/* Compares the results document `doc` with `baseline` and `expect` (either may be NULL)
 * into a check result (docs/gate.md): one object per check, the entries the baseline
 * lacks, counts and `verdict` "pass" or "fail". TB_ERR_INPUT when a matrix of the
 * document cannot be read or its analysis cannot be made. */
TB_NODISCARD tb_status_t tb_gate_check(const json_t *doc, const char *docdir,
                                       const json_t *baseline, const json_t *expect,
                                       const tb_gate_opts_t *opts, json_t **result_p);

/* Figures a gate knows: name, unit ("GB/s", "us", "" for a count) and whether higher is
 * better. NULL for an unknown name. */
typedef struct tb_gate_figure {
    const char *name, *unit;
    int higher_better;
} tb_gate_figure_t;
const tb_gate_figure_t *tb_gate_figure_find(const char *name);

#endif
