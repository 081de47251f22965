/* NCCL's types and operations on the host (nccl_types.h). */
#include "nccl_types.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nccl_lib.h"

const tb_nccl_type_t tb_nccl_types[] = {
    {"int8", TB_NCCL_INT8, 1, 1, 1, 127, 0, 2000},
    {"uint8", TB_NCCL_UINT8, 1, 1, 0, 255, 0, 2000},
    {"int32", TB_NCCL_INT32, 4, 1, 1, 2147483647.0, 0, 2000},
    {"uint32", TB_NCCL_UINT32, 4, 1, 0, 4294967295.0, 0, 2000},
    {"int64", TB_NCCL_INT64, 8, 1, 1, 9007199254740992.0, 0, 2000},
    {"uint64", TB_NCCL_UINT64, 8, 1, 0, 9007199254740992.0, 0, 2000},
    {"half", TB_NCCL_FLOAT16, 2, 0, 1, 2048, 10, 2000},
    {"float", TB_NCCL_FLOAT32, 4, 0, 1, 16777216.0, 23, 2000},
    {"double", TB_NCCL_FLOAT64, 8, 0, 1, 9007199254740992.0, 52, 2000},
    {"bfloat16", TB_NCCL_BFLOAT16, 2, 0, 1, 256, 7, 21000},
    {"f8e4m3", TB_NCCL_FLOAT8E4M3, 1, 0, 1, 16, 3, 22400},
    {"f8e5m2", TB_NCCL_FLOAT8E5M2, 1, 0, 1, 8, 2, 22400},
};
const size_t tb_nccl_ntypes = sizeof(tb_nccl_types) / sizeof(tb_nccl_types[0]);

const tb_nccl_opdef_t tb_nccl_ops[] = {
    {"sum", TB_NCCL_SUM, 2000}, {"prod", TB_NCCL_PROD, 2000}, {"max", TB_NCCL_MAX, 2000},
    {"min", TB_NCCL_MIN, 2000}, {"avg", TB_NCCL_AVG, 21000},
};
const size_t tb_nccl_nops = sizeof(tb_nccl_ops) / sizeof(tb_nccl_ops[0]);

const tb_nccl_type_t *tb_nccl_type_find(const char *name)
{
    for (size_t i = 0; i < tb_nccl_ntypes; i++)
        if (!strcmp(tb_nccl_types[i].name, name))
            return &tb_nccl_types[i];
    return NULL;
}

const tb_nccl_type_t *tb_nccl_type_of(int nccl)
{
    for (size_t i = 0; i < tb_nccl_ntypes; i++)
        if (tb_nccl_types[i].nccl == nccl)
            return &tb_nccl_types[i];
    return NULL;
}

const tb_nccl_opdef_t *tb_nccl_op_find(const char *name)
{
    for (size_t i = 0; i < tb_nccl_nops; i++)
        if (!strcmp(tb_nccl_ops[i].name, name))
            return &tb_nccl_ops[i];
    return NULL;
}

unsigned tb_minifloat_encode(double v, int ebits, int mbits, int fn)
{
    unsigned sign = signbit(v) ? 1u : 0u, emax_biased, bits;
    int bias = (1 << (ebits - 1)) - 1, e;
    double a = fabs(v), f, m;
    unsigned top = (1u << ebits) - 1; /* all-ones exponent */
    /* fn (e4m3): the all-ones exponent holds numbers; only S.1111.111 is NaN. */
    emax_biased = fn ? top : top - 1;
    if (isnan(v))
        return (sign << (ebits + mbits)) | (top << mbits) | ((1u << mbits) - 1);
    if (a == 0)
        return sign << (ebits + mbits);
    f = frexp(a, &e); /* a = f * 2^e, f in [0.5, 1) */
    e -= 1;           /* a = (2f) * 2^e, 2f in [1, 2) */
    if (e + bias >= 1) {
        unsigned biased = (unsigned)(e + bias);
        m = nearbyint((2 * f - 1) * (double)(1u << mbits));
        if (m >= (double)(1u << mbits)) {
            m = 0;
            biased++;
        }
        if (biased > emax_biased || (fn && biased == top && m >= (double)((1u << mbits) - 1)))
            goto overflow;
        bits = (biased << mbits) | (unsigned)m;
    } else {
        /* Subnormal: a / 2^(1 - bias - mbits); rounding up to 2^mbits gives the smallest
         * normal, whose bits are the same number. */
        m = nearbyint(ldexp(a, mbits - 1 + bias));
        bits = (unsigned)m;
    }
    return (sign << (ebits + mbits)) | bits;
overflow:
    if (fn) /* saturate at the largest finite value, S.1111.110 */
        return (sign << (ebits + mbits)) | (top << mbits) | ((1u << mbits) - 2);
    return (sign << (ebits + mbits)) | (top << mbits); /* infinity */
}

double tb_minifloat_decode(unsigned bits, int ebits, int mbits, int fn)
{
    unsigned sign = (bits >> (ebits + mbits)) & 1u, top = (1u << ebits) - 1;
    unsigned biased = (bits >> mbits) & top, mant = bits & ((1u << mbits) - 1);
    int bias = (1 << (ebits - 1)) - 1;
    double v;
    if (!fn && biased == top)
        v = mant ? NAN : INFINITY;
    else if (fn && biased == top && mant == (1u << mbits) - 1)
        v = NAN;
    else if (biased == 0)
        v = ldexp((double)mant, 1 - bias - mbits);
    else
        v = ldexp(1.0 + (double)mant / (double)(1u << mbits), (int)biased - bias);
    return sign ? -v : v;
}

double tb_nccl_get(const tb_nccl_type_t *t, const void *buf, size_t i)
{
    switch (t->nccl) {
    case TB_NCCL_INT8: return ((const int8_t *)buf)[i];
    case TB_NCCL_UINT8: return ((const uint8_t *)buf)[i];
    case TB_NCCL_INT32: return ((const int32_t *)buf)[i];
    case TB_NCCL_UINT32: return ((const uint32_t *)buf)[i];
    case TB_NCCL_INT64: return (double)((const int64_t *)buf)[i];
    case TB_NCCL_UINT64: return (double)((const uint64_t *)buf)[i];
    case TB_NCCL_FLOAT16: return tb_minifloat_decode(((const uint16_t *)buf)[i], 5, 10, 0);
    case TB_NCCL_FLOAT32: return ((const float *)buf)[i];
    case TB_NCCL_FLOAT64: return ((const double *)buf)[i];
    case TB_NCCL_BFLOAT16: return tb_minifloat_decode(((const uint16_t *)buf)[i], 8, 7, 0);
    case TB_NCCL_FLOAT8E4M3: return tb_minifloat_decode(((const uint8_t *)buf)[i], 4, 3, 1);
    case TB_NCCL_FLOAT8E5M2: return tb_minifloat_decode(((const uint8_t *)buf)[i], 5, 2, 0);
    default: return NAN;
    }
}

/* Integers wrap modulo 2^bits (through int64, then the unsigned type). */
static uint64_t wrap(double v)
{
    if (!isfinite(v))
        return 0;
    if (v < 0)
        return (uint64_t)(int64_t)v;
    return v >= 18446744073709551616.0 ? (uint64_t)fmod(v, 18446744073709551616.0) : (uint64_t)v;
}

void tb_nccl_set(const tb_nccl_type_t *t, void *buf, size_t i, double v)
{
    switch (t->nccl) {
    case TB_NCCL_INT8:
    case TB_NCCL_UINT8: ((uint8_t *)buf)[i] = (uint8_t)wrap(v); break;
    case TB_NCCL_INT32:
    case TB_NCCL_UINT32: ((uint32_t *)buf)[i] = (uint32_t)wrap(v); break;
    case TB_NCCL_INT64:
    case TB_NCCL_UINT64: ((uint64_t *)buf)[i] = wrap(v); break;
    case TB_NCCL_FLOAT16: ((uint16_t *)buf)[i] = (uint16_t)tb_minifloat_encode(v, 5, 10, 0); break;
    case TB_NCCL_FLOAT32: ((float *)buf)[i] = (float)v; break;
    case TB_NCCL_FLOAT64: ((double *)buf)[i] = v; break;
    case TB_NCCL_BFLOAT16: ((uint16_t *)buf)[i] = (uint16_t)tb_minifloat_encode(v, 8, 7, 0); break;
    case TB_NCCL_FLOAT8E4M3: ((uint8_t *)buf)[i] = (uint8_t)tb_minifloat_encode(v, 4, 3, 1); break;
    case TB_NCCL_FLOAT8E5M2: ((uint8_t *)buf)[i] = (uint8_t)tb_minifloat_encode(v, 5, 2, 0); break;
    default: break;
    }
}

/* Integer reductions in the type's width: sums and products in unsigned arithmetic (two's
 * complement wrap, no undefined behaviour), comparisons in the signed type. */
#define TB_REDUCE_INT(ST, UT)                                                                  \
    do {                                                                                       \
        const ST *x = in;                                                                      \
        ST *y = inout;                                                                         \
        for (size_t k = 0; k < n; k++) {                                                       \
            switch (op) {                                                                      \
            case TB_NCCL_PROD: y[k] = (ST)((UT)y[k] * (UT)x[k]); break;                        \
            case TB_NCCL_MAX: y[k] = x[k] > y[k] ? x[k] : y[k]; break;                         \
            case TB_NCCL_MIN: y[k] = x[k] < y[k] ? x[k] : y[k]; break;                         \
            default: y[k] = (ST)((UT)y[k] + (UT)x[k]); break;                                  \
            }                                                                                  \
        }                                                                                      \
    } while (0)

void tb_nccl_reduce(const tb_nccl_type_t *t, int op, const void *in, void *inout, size_t n)
{
    switch (t->nccl) {
    case TB_NCCL_INT8: TB_REDUCE_INT(int8_t, uint32_t); return;
    case TB_NCCL_UINT8: TB_REDUCE_INT(uint8_t, uint32_t); return;
    case TB_NCCL_INT32: TB_REDUCE_INT(int32_t, uint32_t); return;
    case TB_NCCL_UINT32: TB_REDUCE_INT(uint32_t, uint32_t); return;
    case TB_NCCL_INT64: TB_REDUCE_INT(int64_t, uint64_t); return;
    case TB_NCCL_UINT64: TB_REDUCE_INT(uint64_t, uint64_t); return;
    default: break;
    }
    /* Floating types: each step is one operation rounded to the type, as on the GPU (a
     * single add or multiply is exact in double before the rounding). */
    for (size_t k = 0; k < n; k++) {
        double a = tb_nccl_get(t, inout, k), b = tb_nccl_get(t, in, k), r;
        switch (op) {
        case TB_NCCL_PROD: r = a * b; break;
        case TB_NCCL_MAX: r = b > a ? b : a; break;
        case TB_NCCL_MIN: r = b < a ? b : a; break;
        default: r = a + b; break;
        }
        tb_nccl_set(t, inout, k, r);
    }
}

void tb_nccl_avg_pre(const tb_nccl_type_t *t, void *buf, size_t n, int nranks)
{
    double scale;
    if (t->is_int)
        return;
    /* The scalar 1/nranks is itself held in the type. */
    tb_nccl_set(t, &scale, 0, 1.0 / nranks);
    scale = tb_nccl_get(t, &scale, 0);
    for (size_t k = 0; k < n; k++)
        tb_nccl_set(t, buf, k, tb_nccl_get(t, buf, k) * scale);
}

void tb_nccl_avg_post(const tb_nccl_type_t *t, void *buf, size_t n, int nranks)
{
    if (!t->is_int)
        return;
    for (size_t k = 0; k < n; k++) {
        if (t->size == 8) {
            if (t->is_signed)
                ((int64_t *)buf)[k] /= nranks;
            else
                ((uint64_t *)buf)[k] /= (uint64_t)nranks;
        } else {
            /* Every 8- and 32-bit value is exact in double; C's division truncates. */
            double v = tb_nccl_get(t, buf, k);
            tb_nccl_set(t, buf, k, trunc(v / nranks));
        }
    }
}
