/* PLACEHOLDER until report/ lands; delete this file when report/cmd.c exists. */
#include "log.h"
#include "report.h"
tb_status_t tb_report_cmd(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return tb_error(TB_ERR_INTERNAL, "report: not built yet");
}
tb_status_t tb_report_csv_write(const json_t *doc, const char *dir)
{
    (void)doc;
    (void)dir;
    return TB_OK;
}
void tb_report_table_print(const json_t *test, FILE *out)
{
    (void)test;
    (void)out;
}
