/* Logging with a host/rank prefix, to stderr. Messages at or above the threshold are
 * printed as "topobench[host:rank] level: message". */
#ifndef TB_CORE_LOG_H
#define TB_CORE_LOG_H

#include "status.h"

typedef enum { TB_LOG_DEBUG, TB_LOG_INFO, TB_LOG_WARN, TB_LOG_ERROR } tb_log_level_t;

/* Rank -1 means "no MPI" (offline commands): the prefix then shows only the host. */
void tb_log_set_identity(const char *host, int rank);
void tb_log_set_level(tb_log_level_t level);
void tb_log(tb_log_level_t level, const char *fmt, ...) TB_PRINTF(2, 3);

#define tb_debug(...) tb_log(TB_LOG_DEBUG, __VA_ARGS__)
#define tb_info(...) tb_log(TB_LOG_INFO, __VA_ARGS__)
#define tb_warn(...) tb_log(TB_LOG_WARN, __VA_ARGS__)

/* Report and return in one line: `return tb_error(TB_ERR_INPUT, "...")`. */
tb_status_t tb_error(tb_status_t status, const char *fmt, ...) TB_PRINTF(2, 3);

/* errno-style helper: logs "<what>: strerror(errno)" and returns the status. */
tb_status_t tb_error_errno(tb_status_t status, const char *what);

#endif
