/* All-pairs matrices (shift pattern, N-1 concurrent rounds) and the isolated mode that
 * measures chosen pairs one at a time. */
#ifndef TB_BENCH_MATRIX_H
#define TB_BENCH_MATRIX_H

#include "suite.h"

/* Every rank of `comm` calls it; comm rank 0 must be world rank 0. `level` is "rank" or
 * "node" and becomes the entry's level. */
TB_NODISCARD tb_status_t tb_matrix_run(tb_suite_t *s, const char *name, const char *level,
                                       MPI_Comm comm);

/* Every world rank calls it: the --pairs of the options, as test "isolated". */
TB_NODISCARD tb_status_t tb_isolated_run(tb_suite_t *s);

/* Every world rank calls it with the same pairs: each pair measured alone (latency and
 * windowed bandwidth at --matrix-size, with check iterations) while the others wait, as
 * the entry `name` (level "isolated"; "retest" for run --retest). `extra` (rank 0, stolen,
 * may be NULL) adds members to the entry's params. */
TB_NODISCARD tb_status_t tb_pairs_run(tb_suite_t *s, const char *name, const int (*pairs)[2],
                                      int npairs, json_t *extra);

#endif
