/* PLACEHOLDER until the topo command lands; delete this file when topo/cmd.c exists. */
#include "log.h"
#include "topo.h"
tb_status_t tb_topo_cmd(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return tb_error(TB_ERR_INTERNAL, "topo: not built yet");
}
