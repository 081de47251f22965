/* Internals shared by the analyzer's files (analysis.c judges the measurements,
 * recommend.c turns the document and the verdicts into recommendations): CPU sets in
 * hwloc's list syntax, and the recommendation pass's entry point. */
#ifndef TB_TOPO_ANALYSIS_INTERNAL_H
#define TB_TOPO_ANALYSIS_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "analysis.h"

#define TB_CPU_WORDS 64 /* 4096 CPUs */
/* Buffer sizes that hold any mask whole: tb_cpumask_groups (9 characters per 32-bit
 * group), tb_cpumask_hex ("0x" and 16 digits per word). */
#define TB_CPUMASK_GROUPS_LEN (TB_CPU_WORDS * 2 * 9 + 1)
#define TB_CPUMASK_HEX_LEN (2 + TB_CPU_WORDS * 16 + 1)

typedef struct tb_cpumask {
    uint64_t w[TB_CPU_WORDS];
    int any;
    int beyond; /* the text named CPU ids of TB_CPU_WORDS * 64 and above: not in w */
} tb_cpumask_t;

/* hwloc list syntax "0-3,8,10-11"; anything else leaves the mask empty. CPU ids beyond the
 * mask's 4096 are left out and flagged (`beyond`), never dropped silently. */
void tb_cpumask_parse(const char *s, tb_cpumask_t *m);
/* Whether a (non-empty) lies within b. */
int tb_cpumask_within(const tb_cpumask_t *a, const tb_cpumask_t *b);
int tb_cpumask_count(const tb_cpumask_t *m);
/* Linux cpumask text as NCCL's topology files write `affinity`: 32-bit groups in hex,
 * most significant first, joined by ',' ("00000000,00ffffff"). */
void tb_cpumask_groups(const tb_cpumask_t *m, char *buf, size_t len);
/* One hexadecimal number "0xff00" (Slurm's --cpu-bind=mask_cpu). */
void tb_cpumask_hex(const tb_cpumask_t *m, char *buf, size_t len);

/* The `recommendations` member of the analysis section (docs/analysis.md): NCCL
 * settings, placement, ring order and nodes to drain, each with its evidence, from the
 * document and the analysis built so far (its culprits, with their isolation verdicts).
 * NULL only when out of memory. */
json_t *tb_recommend(const json_t *doc, const json_t *analysis, const tb_analysis_opts_t *opts,
                     const char *docdir);

#endif
