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

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Hoare's selection with a median-of-three pivot: v[k] ends as the k-th smallest. */
static double select_kth(double *v, size_t count, size_t k)
{
    size_t lo = 0, hi = count - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
        double pivot;
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap(&v[hi], &v[mid]);
        pivot = v[mid];
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                swap(&v[i], &v[j]);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

double tb_stats_median_select(double *v, size_t count)
{
    double hi, lo;
    if (count == 0)
        return 0;
    hi = select_kth(v, count, count / 2);
    if (count % 2)
        return hi;
    /* The largest value below the upper middle: everything left of count/2 is <= it. */
    lo = v[0];
    for (size_t i = 1; i < count / 2; i++)
        if (v[i] > lo)
            lo = v[i];
    return (lo + hi) / 2;
}

double tb_stats_percentile_select(double *v, size_t count, double p)
{
    double pos, frac, lo, hi;
    size_t k;
    if (count == 0)
        return 0.0;
    pos = p <= 0 ? 0 : p >= 100 ? (double)(count - 1) : p / 100.0 * (double)(count - 1);
    k = (size_t)pos;
    frac = pos - (double)k;
    lo = select_kth(v, count, k);
    if (frac <= 0 || k + 1 >= count)
        return lo;
    /* The next order statistic: the smallest value right of k (all of them are >= v[k]). */
    hi = v[k + 1];
    for (size_t i = k + 2; i < count; i++)
        if (v[i] < hi)
            hi = v[i];
    return lo + frac * (hi - lo);
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
    med = tb_stats_median_select(scratch, count);
    for (size_t i = 0; i < count; i++)
        scratch[i] = fabs(values[i] - med);
    *median_p = med;
    *mad_p = tb_stats_median_select(scratch, count);
}
