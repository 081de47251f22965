/* report's public header: artefacts rendered from the results document (never from live
 * state), so `topobench report results.json` reproduces them offline. */
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "status.h"

/* Writes one CSV file per test entry into `dir` (named "<name>[-<variant>].csv", plus
 * "<name>-<variant>-matrix-bw.csv"/"-matrix-lat.csv" for matrices), one row per
 * measurement, units in the header. TB_ERR_ENV when a file cannot be written. */
TB_NODISCARD tb_status_t tb_report_csv_write(const json_t *doc, const char *dir);
/* The same, counting the files written into *nfiles_p (may be NULL). */
TB_NODISCARD tb_status_t tb_report_csv_write_count(const json_t *doc, const char *dir,
                                                   size_t *nfiles_p);

/* The terminal table of one test entry, in the column style of nccl-tests and OSU, with
 * units in the header. */
void tb_report_table_print(const json_t *test, FILE *out);

/* `topobench report results.json [-o DIR]`. */
TB_NODISCARD tb_status_t tb_report_cmd(int argc, char **argv);

#endif
