/* Off-diagonal cells and quickselect medians. */
#include "cells.h"

size_t tb_cells_compact(double *m, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x = m[i * n + j];
            /* x == x is false for NaN; the infinities cannot be measurements either. */
            if (i != j && x == x && x - x == 0)
                m[k++] = x;
        }
    return k;
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

double tb_cells_median(double *v, size_t count)
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
