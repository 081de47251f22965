/* report's NCCL table (table_nccl.c): nccl-tests' layout, column for column. Internal to
 * report/; tb_report_table_print picks it for entries whose backend is "nccl". */
#ifndef TB_REPORT_TABLE_NCCL_H
#define TB_REPORT_TABLE_NCCL_H

#include <jansson.h>
#include <stdio.h>

void tb_report_nccl_table(const json_t *test, FILE *out);
/* nccl-tests' number format: `value` in `width` characters (str: width + 1 bytes). */
void tb_report_nccl_float(double value, int width, char *str);

#endif
