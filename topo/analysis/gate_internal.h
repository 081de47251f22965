/* Shared between the gate's files (gate_baseline.c, gate_nccl.c, gate_expect.c,
 * gate_check.c); not a public interface. */
#ifndef TB_TOPO_GATE_INTERNAL_H
#define TB_TOPO_GATE_INTERNAL_H

#include "gate.h"

/* The rows of one tests[] entry: [{size, in_place, figures: {name: {value, cv}}}], one per
 * result row of a sweep, one for a matrix (at its message size). `all` = 0: only the
 * gated figure(s) a baseline keeps; 1: every figure an expectation may name. `where`
 * prefixes matrix errors. Isolated pairs give no rows. */
TB_NODISCARD tb_status_t tb_gate_entry_rows(const json_t *test, const char *docdir,
                                            const char *where, int all, json_t **rows_p);

/* The key of a tests[] entry as a baseline keeps it: name, kind, the six keys of
 * tb_doc_keys_t (null where absent) and ranks (null when unknown). New reference. */
json_t *tb_gate_entry_key(const json_t *test);

/* A baseline skeleton {schema, schema_version, created, source, notes: [], entries: []}
 * with `source` stolen. */
json_t *tb_gate_baseline_new(json_t *source);

/* Appends a printf-formatted line to the baseline's `notes`. */
void tb_gate_note(json_t *baseline, const char *fmt, ...) TB_PRINTF(2, 3);

/* {value, cv} (cv < 0: null) and the same with a resolution (r > 0). */
json_t *tb_gate_figure_new(double value, double cv, double resolution);

/* Whether two rows are the same measurement: size and in_place equal, and redop and root
 * equal where both rows have them (NCCL rows; nccl-tests logs). */
int tb_gate_row_same(const json_t *a, const json_t *b);

/* Whether two values of `ranks` agree: equal, or either unknown (null/absent). */
int tb_gate_ranks_agree(const json_t *a, const json_t *b);

#endif
