/* The analyzer: every measured cell of a results document joined through ranks[] and
 * hosts[].topology to its path, judged against the model's expected figure (where there
 * is one) and robustly against its peers of the same path class, and the outliers turned
 * into named culprits (a node, a link, one direction of a link) with their evidence.
 * Reads only the document (docs/analysis.md); the result is the document's versioned
 * `analysis` section. */
#ifndef TB_TOPO_ANALYSIS_H
#define TB_TOPO_ANALYSIS_H

#include <jansson.h>
#include <stdio.h>

#include "status.h"

#define TB_ANALYSIS_VERSION 1

typedef struct tb_analysis_opts {
    double mad_k;     /* a cell is an outlier beyond this many scaled MADs (default 4) */
    double min_drop;  /* ... and at least this far from the peer median, relative (0.25) */
    double model_min; /* measured / expected below this is below the model (0.5) */
    long long model_min_size; /* bandwidth at smaller messages is not judged against the
                                 model: still rising with size (default 1 MiB) */
    size_t list_max;  /* list every cell of a set up to this many cells, else flagged
                         cells only (default 4096; 0: always every cell) */
    const char *program; /* topobench path in the confirmation command (NULL: the run's) */
} tb_analysis_opts_t;

void tb_analysis_opts_default(tb_analysis_opts_t *opts);

/* Builds the `analysis` object of `doc` (validated by tb_doc_load); `docdir` resolves
 * matrix side files. TB_ERR_INPUT (logged, naming the field) when a matrix cannot be
 * read or a referenced rank does not exist. */
TB_NODISCARD tb_status_t tb_analysis_run(const json_t *doc, const char *docdir,
                                         const tb_analysis_opts_t *opts, json_t **analysis_p);

/* The verdict first (OK, or the culprits one per line with their evidence), then the
 * confirmation command and the notes. */
void tb_analysis_print(const json_t *analysis, FILE *out);

/* `topobench analyze RESULTS.json [options]`, offline. */
tb_status_t tb_analyze_cmd(int argc, char **argv);

#endif
