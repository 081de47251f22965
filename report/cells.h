/* Matrix cells for the report: the off-diagonal measurements of an N x N matrix and
 * with core's selection median (tb_stats_median_select, O(n), no sort), so a 4,096-rank matrix (16.7 million cells)
 * is summarised in well under a second. Internal to report/. */
#ifndef TB_REPORT_CELLS_H
#define TB_REPORT_CELLS_H

#include <stddef.h>

/* Moves the finite off-diagonal cells of the n x n matrix `m` to its front, in row-major
 * order, and returns how many there are (the rest of `m` is left undefined). */
size_t tb_cells_compact(double *m, size_t n);

/* The host part of a matrix label "host:rank" (the whole label without a colon) into buf
 * (len bytes, truncated). */
void tb_cells_label_host(const char *label, char *buf, size_t len);


#endif
