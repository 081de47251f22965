/* The topobench command: a table of subcommands, each a function taking argc/argv and
 * returning a tb_status_t that main() turns into the exit status. */
#ifndef TB_BENCH_CLI_H
#define TB_BENCH_CLI_H

#include "status.h"

#include <stdio.h>

int tb_cli_main(int argc, char **argv);

/* The exit status table, for every --help. */
void tb_cli_print_exit_statuses(FILE *out);

/* The "build" object of results.json (a json_t *): per optional dependency whether the
 * configure found it and whether code for it was compiled in, and the sanitizer flag. */
void *tb_cli_build_json(void);

/* Subcommands living in bench/ (others come from topo/ and report/ public headers). */
TB_NODISCARD tb_status_t tb_run_cmd(int argc, char **argv);
/* The CI gate (gate_cmd.c, docs/gate.md). */
TB_NODISCARD tb_status_t tb_baseline_cmd(int argc, char **argv);
TB_NODISCARD tb_status_t tb_check_cmd(int argc, char **argv);

#endif
