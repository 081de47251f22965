/* Status names and their mapping to exit statuses. */
#include "status.h"

static const struct {
    const char *name;
    int exit_code;
} status_table[TB_STATUS_COUNT] = {
    [TB_OK] = {"success", TB_EXIT_OK},
    [TB_ERR_USAGE] = {"usage error", TB_EXIT_USAGE},
    [TB_ERR_INPUT] = {"malformed input", TB_EXIT_INPUT},
    [TB_ERR_ENV] = {"environment error", TB_EXIT_ENV},
    [TB_ERR_INTERNAL] = {"internal error", TB_EXIT_INTERNAL},
    [TB_ERR_REGRESSION] = {"performance below baseline", TB_EXIT_REGRESSION},
    [TB_ERR_CORRUPT] = {"data corruption", TB_EXIT_CORRUPT},
    [TB_ERR_TIMEOUT] = {"timeout", TB_EXIT_TIMEOUT},
    [TB_ERR_INTERRUPTED] = {"interrupted", TB_EXIT_INTERRUPTED},
};

const char *tb_status_string(tb_status_t status)
{
    if ((unsigned)status >= TB_STATUS_COUNT)
        return "unknown status";
    return status_table[status].name;
}

int tb_status_exit_code(tb_status_t status)
{
    if ((unsigned)status >= TB_STATUS_COUNT)
        return TB_EXIT_INTERNAL;
    return status_table[status].exit_code;
}
