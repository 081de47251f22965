/* NCCL's element types and reduction operations as nccl-tests names them (-d, -o), with
 * host-side conversions of every type (half, bfloat16 and fp8 included) and NCCL's
 * reduction semantics on the host. Plain C, no MPI and no CUDA: the data check and the
 * NCCL test double (tests/nccldouble) share it. */
#ifndef TB_BENCH_NCCL_TYPES_H
#define TB_BENCH_NCCL_TYPES_H

#include <stddef.h>

typedef struct tb_nccl_type {
    const char *name; /* nccl-tests' -d name: "float", "bfloat16", "f8e4m3" */
    int nccl;         /* TB_NCCL_* value */
    size_t size;      /* bytes per element */
    int is_int, is_signed;
    /* Every integer 0..exact is representable (half: 2048, fp8 e4m3: 16). */
    double exact;
    int mant_bits;    /* floating types: stored mantissa bits (tolerance of avg) */
    int since;        /* NCCL version code that added the type */
} tb_nccl_type_t;

typedef struct tb_nccl_opdef {
    const char *name; /* nccl-tests' -o name */
    int nccl;         /* TB_NCCL_SUM ... */
    int since;
} tb_nccl_opdef_t;

extern const tb_nccl_type_t tb_nccl_types[];
extern const size_t tb_nccl_ntypes;
extern const tb_nccl_opdef_t tb_nccl_ops[];
extern const size_t tb_nccl_nops;

/* By name, or by NCCL value; NULL when there is none. */
const tb_nccl_type_t *tb_nccl_type_find(const char *name);
const tb_nccl_type_t *tb_nccl_type_of(int nccl);
const tb_nccl_opdef_t *tb_nccl_op_find(const char *name);

/* Element i of a buffer of type t, as a double (exact for every value of the 8-, 16- and
 * 32-bit types; 64-bit integers beyond 2^53 round). */
double tb_nccl_get(const tb_nccl_type_t *t, const void *buf, size_t i);
/* Stores v rounded to the type as the GPU converts (nearest even; integers wrap modulo
 * 2^bits; fp8 e4m3 saturates at 448, as NCCL's conversions do). */
void tb_nccl_set(const tb_nccl_type_t *t, void *buf, size_t i, double v);

/* IEEE-style small floats: half (5, 10, 15), bfloat16 (8, 7, 127), fp8 e5m2 (5, 2, 15)
 * and e4m3 (4, 3, 7, "fn": no infinity, one NaN) as bit patterns. */
unsigned tb_minifloat_encode(double v, int ebits, int mbits, int fn);
double tb_minifloat_decode(unsigned bits, int ebits, int mbits, int fn);

/* inout[i] = inout[i] op in[i] for n elements, in the type's own arithmetic (integers
 * wrap, floats round after each step as the GPU does). `op` is SUM, PROD, MAX or MIN;
 * AVG is SUM here (see tb_nccl_avg_pre and tb_nccl_avg_post). */
void tb_nccl_reduce(const tb_nccl_type_t *t, int op, const void *in, void *inout, size_t n);
/* ncclAvg as NCCL computes it: floating types multiply each input by 1/nranks before the
 * sum (pre), integer types divide the sum by nranks after it (post). */
void tb_nccl_avg_pre(const tb_nccl_type_t *t, void *buf, size_t n, int nranks);
void tb_nccl_avg_post(const tb_nccl_type_t *t, void *buf, size_t n, int nranks);

#endif
