/* Off-diagonal cells of a matrix (medians: core/stats.h). */
#include "cells.h"

#include <string.h>

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

void tb_cells_label_host(const char *label, char *buf, size_t len)
{
    const char *colon = strrchr(label, ':');
    size_t n = colon ? (size_t)(colon - label) : strlen(label);
    if (n >= len)
        n = len - 1;
    memcpy(buf, label, n);
    buf[n] = '\0';
}
