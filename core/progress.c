/* Progress line. */
#include "progress.h"

#include <stdarg.h>
#include <time.h>
#include <unistd.h>

double tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tb_progress_init(tb_progress_t *p, FILE *out, int enabled)
{
    p->out = out;
    p->tty = isatty(fileno(out));
    p->enabled = enabled;
    p->last_print = 0;
    p->interval = 5.0;
    p->line_open = 0;
}

void tb_progress_update(tb_progress_t *p, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    double now = tb_now();
    if (!p->enabled)
        return;
    if (!p->tty && now - p->last_print < p->interval)
        return;
    if (p->tty && now - p->last_print < 0.1)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (p->tty) {
        fprintf(p->out, "\r\033[K%s", line);
        p->line_open = 1;
    } else {
        fprintf(p->out, "progress: %s\n", line);
    }
    fflush(p->out);
    p->last_print = now;
}

void tb_progress_clear(tb_progress_t *p)
{
    if (p->enabled && p->tty && p->line_open) {
        fprintf(p->out, "\r\033[K");
        fflush(p->out);
        p->line_open = 0;
    }
}
