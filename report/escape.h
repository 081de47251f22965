/* Escaping shared by report's writers (internal to report/). */
#ifndef TB_REPORT_ESCAPE_H
#define TB_REPORT_ESCAPE_H

#include <stdio.h>

/* `s` as HTML text or attribute value: & < > " ' as entities. */
void tb_report_html_text(const char *s, FILE *out);

#endif
