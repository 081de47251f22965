/* All-pairs matrices (shift pattern, N-1 concurrent rounds) and the isolated mode that
 * measures chosen pairs one at a time. */
#ifndef TB_BENCH_MATRIX_H
#define TB_BENCH_MATRIX_H

#include "suite.h"

/* Every rank of `comm` calls it; comm rank 0 must be world rank 0. `level` is "rank" or
 * "node" and becomes the entry's level. */
TB_NODISCARD tb_status_t tb_matrix_run(tb_suite_t *s, const char *name, const char *level,
                                       MPI_Comm comm);

/* Every world rank calls it. */
TB_NODISCARD tb_status_t tb_isolated_run(tb_suite_t *s);

#endif
