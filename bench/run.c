/* PLACEHOLDER: the run command is being written. */
#include "cli.h"
#include "log.h"
tb_status_t tb_run_cmd(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return tb_error(TB_ERR_INTERNAL, "run: not built yet");
}
