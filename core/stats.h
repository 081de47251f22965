/* Statistics over per-iteration times: min, median, p99, mean, coefficient of
 * variation, and the robust pair median/MAD used to find outliers among peers. */
#ifndef TB_CORE_STATS_H
#define TB_CORE_STATS_H

#include <stddef.h>

#include "status.h"

typedef struct tb_stats {
    size_t count;
    double min, median, p99, mean, max;
    double cv; /* standard deviation / mean; 0 for a single sample */
} tb_stats_t;

/* Sorts `samples` in place and fills *stats_p. count == 0 gives all zeros. */
void tb_stats_compute(double *samples, size_t count, tb_stats_t *stats_p);

/* qsort comparator of doubles, ascending. */
int tb_stats_cmp_double(const void *a, const void *b);

/* Percentile with linear interpolation between closest ranks, on sorted data;
 * p in [0, 100]. */
double tb_stats_percentile_sorted(const double *sorted, size_t count, double p);

/* Median of v[0..count) by selection (O(n), no sort; the mean of the two middle values
 * for an even count, as tb_stats_percentile_sorted's 50th), reordering v; 0 when count
 * is 0. */
double tb_stats_median_select(double *v, size_t count);

/* Percentile p of v[0..count) by selection, the same figure as tb_stats_percentile_sorted
 * on the sorted values (O(n), no sort), reordering v; 0 when count is 0. */
double tb_stats_percentile_select(double *v, size_t count, double p);

/* Median and median absolute deviation; `scratch` holds count doubles. */
void tb_stats_median_mad(const double *values, size_t count, double *scratch,
                         double *median_p, double *mad_p);

/* tb_stats_median_mad of the values v[k], k < n, whose flag byte has (f[k] & mask) ==
 * want (count of them), read where they are instead of copied: for a large matrix of
 * which most cells are selected. Exact: the same figures as tb_stats_median_mad over
 * those values. Uses scratch (cap doubles; about count / 20 are needed). Returns 1, or 0
 * with *median_p and *mad_p untouched when it could not (fewer than 16,384 values, too
 * small a scratch, an unlucky sample): the caller then copies the values. */
int tb_stats_median_mad_masked(const double *v, const unsigned char *f, size_t n,
                               unsigned char mask, unsigned char want, size_t count,
                               double *scratch, size_t cap, double *median_p, double *mad_p);

/* The median alone, as tb_stats_median_mad_masked gives it (the same returns). */
int tb_stats_median_masked(const double *v, const unsigned char *f, size_t n, unsigned char mask,
                           unsigned char want, size_t count, double *scratch, size_t cap,
                           double *median_p);

#endif
