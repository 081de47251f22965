/* report's public header: artefacts rendered from the results document (never from live
 * state), so `topobench report results.json` reproduces them offline. */
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "status.h"

/* Matrices above this many ranks get no long-form CSV (one row per cell): their NPY side
 * file is the machine-readable form. */
#define TB_REPORT_LONG_FORM_MAX 256

/* Writes one CSV file per test entry into `dir` (named "<name>[-<label>].csv", plus
 * "<name>-<label>-matrix-bw.csv"/"-matrix-lat.csv" for matrices), one row per
 * measurement, units in the header, each file atomically. `docdir` is the directory
 * holding the document (its matrix side files). TB_ERR_ENV when a file cannot be
 * written, TB_ERR_INPUT when a matrix is malformed. */
TB_NODISCARD tb_status_t tb_report_csv_write(const json_t *doc, const char *docdir,
                                             const char *dir);
/* The same, counting the files written into *nfiles_p (may be NULL). */
TB_NODISCARD tb_status_t tb_report_csv_write_count(const json_t *doc, const char *docdir,
                                                   const char *dir, size_t *nfiles_p);

/* The terminal table of one test entry, in the column style of nccl-tests and OSU, with
 * units in the header. A matrix of up to TB_REPORT_GRID_MAX ranks is printed as its grid,
 * a larger one aggregated per node with its worst cells. `docdir`: as above.
 * TB_ERR_INPUT when a matrix is malformed (logged; the table says so). */
#define TB_REPORT_GRID_MAX 64
tb_status_t tb_report_table_print(const json_t *test, const char *docdir, FILE *out);

/* The CI gate's result (`topobench check`, the object tb_gate_check builds; docs/gate.md):
 * the table of what was compared and what failed (`quiet`: the failed and missing ones
 * only) with the verdict last; JUnit XML, one test case per check in a suite per source
 * (baseline, expect); a Markdown summary, failures first. */
void tb_report_check_print(const json_t *result, int quiet, FILE *out);
void tb_report_check_junit(const json_t *result, FILE *out);
void tb_report_check_markdown(const json_t *result, FILE *out);

/* The recommendation files rendered from the document's analysis.recommendations into
 * `dir` (docs/analysis.md, "Files"): nccl.env, rankfile, hostfile, slurm.txt,
 * slurm-hostfile, topobench-bind.sh (executable), drain.txt, and nccl-topo*.xml where a
 * generated NCCL topology is recommended. Nothing when the document has no analysis (or
 * one without recommendations). *nfiles_p (may be NULL): files written. TB_ERR_ENV
 * (logged with the path) when a file cannot be written. */
TB_NODISCARD tb_status_t tb_report_recommend_write(const json_t *doc, const char *dir,
                                                   size_t *nfiles_p);

/* The HTML report (docs/report.md, "HTML report"): one self-contained file rendered from
 * the document alone (its `analysis` when present), written atomically to `path`. With
 * a `baseline` (the gate's, docs/gate.md, as tb_gate_baseline_load gives it; may be
 * NULL) the sweep plots draw its figures for the entries it has, matched by key.
 * Matrices above TB_HTML_GRID_MAX rows whose labels name fewer hosts are drawn per node
 * pair (median and worst cell). `docdir`: as above. TB_ERR_INPUT when a matrix is
 * malformed, TB_ERR_ENV when the file cannot be written (both logged). */
#define TB_HTML_GRID_MAX 256
TB_NODISCARD tb_status_t tb_report_html_write(const json_t *doc, const json_t *baseline,
                                              const char *docdir, const char *path);
/* The data the page draws (a JSON object, every string as in the document), for tests. */
TB_NODISCARD tb_status_t tb_report_html_view(const json_t *doc, const json_t *baseline,
                                             const char *docdir, json_t **view_p);

/* The Markdown summary of a document (`report --format md`): verdict, culprits with
 * their evidence, the confirm command, problems of the run, findings, and per test its
 * large-message figure. Every document string escaped for Markdown and HTML. */
void tb_report_markdown(const json_t *doc, FILE *out);

/* Writes `s` as Markdown table-cell text: '|' escaped, '<', '>', '&' as entities, line
 * breaks as spaces. */
void tb_report_md_put(const char *s, FILE *out);

/* `topobench report results.json [-o DIR] [--format LIST] [--baseline FILE]`. `load`
 * reads the --baseline file (the gate's reader, which report/ does not link: bench gives
 * it); NULL refuses the option. */
typedef tb_status_t (*tb_report_baseline_load_fn)(const char *path, json_t **baseline_p);
TB_NODISCARD tb_status_t tb_report_cmd_with(int argc, char **argv, tb_report_baseline_load_fn load);
TB_NODISCARD tb_status_t tb_report_cmd(int argc, char **argv);

#endif
