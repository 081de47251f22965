/* Log prefix state and the printing routines. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char log_host[64];
static int log_rank = -1;
static tb_log_level_t log_level = TB_LOG_INFO;

void tb_log_set_identity(const char *host, int rank)
{
    snprintf(log_host, sizeof(log_host), "%s", host ? host : "");
    log_rank = rank;
}

void tb_log_set_level(tb_log_level_t level) { log_level = level; }

static void log_v(tb_log_level_t level, const char *fmt, va_list ap) TB_PRINTF(2, 0);
static void log_v(tb_log_level_t level, const char *fmt, va_list ap)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    char msg[2048];
    if (level < log_level)
        return;
    if (!log_host[0])
        gethostname(log_host, sizeof(log_host) - 1);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* One fprintf per message keeps lines from different ranks whole. */
    if (log_rank >= 0)
        fprintf(stderr, "topobench[%s:%d] %s: %s\n", log_host, log_rank, names[level], msg);
    else
        fprintf(stderr, "topobench[%s] %s: %s\n", log_host, names[level], msg);
    fflush(stderr);
}

void tb_log(tb_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(level, fmt, ap);
    va_end(ap);
}

tb_status_t tb_error(tb_status_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(TB_LOG_ERROR, fmt, ap);
    va_end(ap);
    return status;
}

tb_status_t tb_error_errno(tb_status_t status, const char *what)
{
    return tb_error(status, "%s: %s", what, strerror(errno));
}
