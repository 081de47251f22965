/* Progress display on rank 0: a redrawn line on a terminal, plain lines at most every few
 * seconds otherwise (logs, CI), so long runs show they are alive without flooding. */
#ifndef TB_CORE_PROGRESS_H
#define TB_CORE_PROGRESS_H

#include <stdio.h>

#include "status.h"

typedef struct tb_progress {
    FILE *out;
    int tty;
    int enabled;
    double last_print; /* monotonic seconds */
    double interval;   /* plain-mode minimum seconds between lines */
    int line_open;     /* tty: a line is drawn and not yet cleared */
} tb_progress_t;

void tb_progress_init(tb_progress_t *p, FILE *out, int enabled);
void tb_progress_update(tb_progress_t *p, const char *fmt, ...) TB_PRINTF(2, 3);
/* Clears the redrawn line (tty) so that ordinary output follows on a clean line. */
void tb_progress_clear(tb_progress_t *p);

double tb_now(void); /* monotonic seconds */

#endif
