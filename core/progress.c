/* Progress line. */
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
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
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->tty = isatty(fileno(out));
    p->enabled = enabled;
    p->start = tb_now();
    p->last_print = -1;
    p->interval = TB_PROGRESS_PLAIN_INTERVAL_S;
}

void tb_progress_test(tb_progress_t *p, int k, int n, const char *label)
{
    p->test_k = k;
    p->test_n = n > k ? n : k;
    snprintf(p->test, sizeof(p->test), "%s", label ? label : "");
}

/* "1:05", "12:00", "1:02:03". */
static void format_duration(char *buf, size_t len, double seconds)
{
    long s = seconds > 0 && seconds < 1e9 ? lround(seconds) : 0;
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

void tb_progress_format(char *buf, size_t len, int k, int n, const char *test, const char *what,
                        double done, double elapsed)
{
    char el[32], left[32];
    double frac;
    if (n < k)
        n = k;
    if (!(done >= 0))
        done = 0;
    if (done > 1)
        done = 1;
    frac = n > 0 && k > 0 ? (k - 1 + done) / n : 0;
    format_duration(el, sizeof(el), elapsed);
    if (frac >= 0.01) {
        char est[32];
        format_duration(est, sizeof(est), elapsed * (1 - frac) / frac);
        snprintf(left, sizeof(left), "about %s left", est);
    } else {
        snprintf(left, sizeof(left), "estimating what is left");
    }
    snprintf(buf, len, "test %d/%d %s%s%s; %s elapsed, %s", k, n, test, what && *what ? ": " : "",
             what ? what : "", el, left);
}

void tb_progress_step(tb_progress_t *p, double done, const char *fmt, ...)
{
    char what[96], line[320];
    va_list ap;
    double now = tb_now();
    if (!p->enabled)
        return;
    if (p->last_print >= 0 && now - p->last_print < (p->tty ? 0.1 : p->interval))
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    tb_progress_format(line, sizeof(line), p->test_k, p->test_n, p->test, what, done,
                       now - p->start);
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
