/* Statistics helpers. Percentiles interpolate linearly between closest ranks (the
 * "R-7" definition used by numpy's default), so small samples behave predictably. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tb_stats_percentile_sorted(const double *sorted, size_t count, double p)
{
    double pos, frac;
    size_t lo;
    if (count == 0)
        return 0.0;
    if (p <= 0)
        return sorted[0];
    if (p >= 100)
        return sorted[count - 1];
    pos = p / 100.0 * (double)(count - 1);
    lo = (size_t)pos;
    frac = pos - (double)lo;
    if (lo + 1 >= count)
        return sorted[count - 1];
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void tb_stats_compute(double *samples, size_t count, tb_stats_t *stats_p)
{
    double sum = 0.0, sq = 0.0;
    memset(stats_p, 0, sizeof(*stats_p));
    if (count == 0)
        return;
    qsort(samples, count, sizeof(double), cmp_double);
    for (size_t i = 0; i < count; i++)
        sum += samples[i];
    stats_p->count = count;
    stats_p->min = samples[0];
    stats_p->max = samples[count - 1];
    stats_p->median = tb_stats_percentile_sorted(samples, count, 50);
    stats_p->p99 = tb_stats_percentile_sorted(samples, count, 99);
    stats_p->mean = sum / (double)count;
    if (count > 1 && stats_p->mean > 0) {
        for (size_t i = 0; i < count; i++) {
            double d = samples[i] - stats_p->mean;
            sq += d * d;
        }
        stats_p->cv = sqrt(sq / (double)(count - 1)) / stats_p->mean;
    }
}

void tb_stats_median_mad(const double *values, size_t count, double *scratch,
                         double *median_p, double *mad_p)
{
    double med;
    if (count == 0) {
        *median_p = *mad_p = 0.0;
        return;
    }
    memcpy(scratch, values, count * sizeof(double));
    qsort(scratch, count, sizeof(double), cmp_double);
    med = tb_stats_percentile_sorted(scratch, count, 50);
    for (size_t i = 0; i < count; i++)
        scratch[i] = fabs(values[i] - med);
    qsort(scratch, count, sizeof(double), cmp_double);
    *median_p = med;
    *mad_p = tb_stats_percentile_sorted(scratch, count, 50);
}
