/* Statistics helpers. Percentiles interpolate linearly between closest ranks (the
 * "R-7" definition used by numpy's default), so small samples behave predictably. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tb_stats_cmp_double(const void *a, const void *b)
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
    qsort(samples, count, sizeof(double), tb_stats_cmp_double);
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

/* Below this many values a plain selection; above, a bracket first. */
#define SELECT_BRACKET_MIN 16384
#define SELECT_SAMPLES 4096

/* The k-th smallest of v (*a) and the (k+1)-th (*b; *a when k is the last), reordering v.
 * Large arrays: a sorted sample (SELECT_SAMPLES values from a million values on, a quarter
 * of that below), taken at even strides, gives a bracket [lo, hi] around the k-th value;
 * one pass counts the values below lo and moves those within the bracket to the front, and
 * the selection runs over those alone (a 16.7-million-cell matrix: a few thousand values). Exact: when the bracket misses k or
 * k + 1 (an unlucky sample) the whole array is selected as before. */
static void select_pair(double *v, size_t count, size_t k, double *a, double *b)
{
    size_t n = count, kk = k;
    if (count >= SELECT_BRACKET_MIN) {
        /* m samples (1,024 up to a million values), d = 3 standard deviations of the
         * sample rank of the k-th value (sqrt(m) / 2 at most) */
        double samp[SELECT_SAMPLES], lo, hi;
        size_t m = count < 1048576 ? SELECT_SAMPLES / 4 : SELECT_SAMPLES,
               d = (size_t)(1.5 * sqrt((double)m)) + 1, below = 0, w = 0, r;
        for (size_t t = 0; t < m; t++)
            samp[t] = v[(size_t)((double)t * (double)count / (double)m)];
        qsort(samp, m, sizeof(double), tb_stats_cmp_double);
        r = (size_t)((double)k / (double)count * (double)m);
        lo = r >= d ? samp[r - d] : -INFINITY;
        hi = r + 1 + d < m ? samp[r + 1 + d] : INFINITY;
        /* counted without a branch: half the values are below, at random */
        for (size_t i = 0; i < count; i++) {
            double x = v[i];
            below += x < lo;
            if (x >= lo && x <= hi)
                swap(&v[w++], &v[i]);
        }
        if (below <= k && (k + 1 < below + w || (k + 1 == count && k < below + w)))
            n = w, kk = k - below;
        else
            n = count, kk = k; /* the bracket missed: select over everything */
    }
    *a = select_kth(v, n, kk);
    *b = *a;
    if (kk + 1 < n) {
        *b = v[kk + 1];
        for (size_t i = kk + 2; i < n; i++)
            if (v[i] < *b)
                *b = v[i];
    }
}

/* The value of cell k as the masked selection sees it: v[k], or its distance from
 * `center` (the deviations of a MAD). */
static double masked_value(const double *v, size_t k, int dev, double center)
{
    return dev ? fabs(v[k] - center) : v[k];
}

/* select_pair over the cells k < n with (f[k] & mask) == want (count of them), read in
 * place: a sample of them brackets the k-th value, one pass counts the cells below the
 * bracket and copies those within it into scratch (cap doubles), and the selection runs
 * there. Returns 0, *a and *b untouched, when the bracket missed k or k + 1 or scratch
 * was too small: the caller then copies the values and selects over them. */
static int select_pair_masked(const double *v, const unsigned char *f, size_t n,
                              unsigned char mask, unsigned char want, size_t count, size_t k,
                              int dev, double center, double *scratch, size_t cap, double *a,
                              double *b)
{
    double samp[SELECT_SAMPLES], lo, hi;
    size_t m = 0, d, below = 0, w = 0, r, kk;
    if (count < SELECT_BRACKET_MIN || k >= count)
        return 0;
    /* the first selected cell at or after each of SELECT_SAMPLES even strides */
    for (size_t t = 0, at = 0; t < SELECT_SAMPLES; t++) {
        size_t from = (size_t)((double)t * (double)n / SELECT_SAMPLES);
        at = from > at ? from : at;
        while (at < n && (f[at] & mask) != want)
            at++;
        if (at >= n)
            break;
        samp[m++] = masked_value(v, at++, dev, center);
    }
    if (m < SELECT_SAMPLES / 4)
        return 0;
    qsort(samp, m, sizeof(double), tb_stats_cmp_double);
    d = (size_t)(1.5 * sqrt((double)m)) + 1;
    r = (size_t)((double)k / (double)count * (double)m);
    lo = r >= d ? samp[r - d] : -INFINITY;
    hi = r + 1 + d < m ? samp[r + 1 + d] : INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x;
        if ((f[i] & mask) != want)
            continue;
        x = masked_value(v, i, dev, center);
        below += x < lo;
        if (x >= lo && x <= hi) {
            if (w == cap)
                return 0;
            scratch[w++] = x;
        }
    }
    if (!(below <= k && (k + 1 < below + w || (k + 1 == count && k < below + w))))
        return 0;
    kk = k - below;
    *a = select_kth(scratch, w, kk);
    *b = *a;
    if (kk + 1 < w) {
        *b = scratch[kk + 1];
        for (size_t i = kk + 2; i < w; i++)
            if (scratch[i] < *b)
                *b = scratch[i];
    }
    return 1;
}

/* The median (the mean of the two middle values for an even count) of the selected
 * cells, or their distances from center; 0 when the masked selection failed. */
static int median_masked(const double *v, const unsigned char *f, size_t n, unsigned char mask,
                         unsigned char want, size_t count, int dev, double center,
                         double *scratch, size_t cap, double *med_p)
{
    double lo, hi;
    size_t k = count % 2 ? count / 2 : count / 2 - 1;
    if (!select_pair_masked(v, f, n, mask, want, count, k, dev, center, scratch, cap, &lo, &hi))
        return 0;
    *med_p = count % 2 ? lo : (lo + hi) / 2;
    return 1;
}

int tb_stats_median_masked(const double *v, const unsigned char *f, size_t n, unsigned char mask,
                           unsigned char want, size_t count, double *scratch, size_t cap,
                           double *median_p)
{
    return median_masked(v, f, n, mask, want, count, 0, 0, scratch, cap, median_p);
}

int tb_stats_median_mad_masked(const double *v, const unsigned char *f, size_t n,
                               unsigned char mask, unsigned char want, size_t count,
                               double *scratch, size_t cap, double *median_p, double *mad_p)
{
    double med, mad;
    if (!median_masked(v, f, n, mask, want, count, 0, 0, scratch, cap, &med) ||
        !median_masked(v, f, n, mask, want, count, 1, med, scratch, cap, &mad))
        return 0;
    *median_p = med;
    *mad_p = mad;
    return 1;
}

double tb_stats_median_select(double *v, size_t count)
{
    double lo, hi;
    if (count == 0)
        return 0;
    if (count % 2) {
        select_pair(v, count, count / 2, &lo, &hi);
        return lo;
    }
    /* the two middle values: the largest of the lower half and the smallest of the upper */
    select_pair(v, count, count / 2 - 1, &lo, &hi);
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
    select_pair(v, count, k, &lo, &hi);
    if (frac <= 0 || k + 1 >= count)
        return lo;
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
