/* Subcommand table and dispatch. `topobench` with no subcommand, or with an option first,
 * means `run`, so `mpirun topobench -b 8 -e 1M` works as nccl-tests users expect. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "report.h"
#include "tb_build_info.h"
#include "topo.h"

static tb_status_t cmd_version(int argc, char **argv);
static tb_status_t cmd_help(int argc, char **argv);

static const struct tb_subcommand {
    const char *name;
    tb_status_t (*fn)(int argc, char **argv);
    const char *summary;
} subcommands[] = {
    {"run", tb_run_cmd, "measure (default; launch with mpirun or srun)"},
    {"topo", tb_topo_cmd, "this node's or a recorded topology, paths, expected bandwidth"},
    {"report", tb_report_cmd, "regenerate CSV files from a results.json, offline"},
    {"version", cmd_version, "print version and build options"},
    {"help", cmd_help, "this text; `topobench run --help` for the run options"},
};

static tb_status_t cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("topobench %s (git %s, %s)\n", TB_VERSION, TB_GIT_HASH, TB_BUILD_TYPE);
    printf("build: cuda=%s nccl=%s ucx=%s verbs=%s sanitize=%s\n", TB_HAVE_CUDA ? "yes" : "no",
           TB_HAVE_NCCL ? "yes" : "no", TB_HAVE_UCX ? "yes" : "no",
           TB_HAVE_VERBS ? "yes" : "no", TB_SANITIZE_BUILD);
    return TB_OK;
}

void tb_cli_print_exit_statuses(FILE *out)
{
    fprintf(out,
            "Exit statuses:\n"
            "  %d  success\n"
            "  %d  internal error\n"
            "  %d  usage error (unknown option, bad value)\n"
            "  %d  malformed input file (results.json, topology file)\n"
            "  %d  environment error (unwritable output directory, missing library)\n"
            "  %d  performance below baseline (check)\n"
            "  %d  data corruption detected\n"
            "  %d  timeout: a blocking step exceeded the watchdog\n",
            TB_EXIT_OK, TB_EXIT_INTERNAL, TB_EXIT_USAGE, TB_EXIT_INPUT, TB_EXIT_ENV,
            TB_EXIT_REGRESSION, TB_EXIT_CORRUPT, TB_EXIT_TIMEOUT);
}

static tb_status_t cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: topobench [SUBCOMMAND] [OPTIONS]\n"
           "       mpirun -np N topobench [run] [OPTIONS]\n\nSubcommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        printf("  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    printf("\n");
    tb_cli_print_exit_statuses(stdout);
    return TB_OK;
}

int tb_cli_main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "run";
    int shift = 1;

    if (argc > 1 && argv[1][0] == '-') {
        if (!strcmp(argv[1], "--version"))
            return tb_status_exit_code(cmd_version(0, NULL));
        name = "run"; /* options first: `topobench -b 8 -e 1M` */
        shift = 0;
    } else if (argc <= 1) {
        shift = 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (!strcmp(name, subcommands[i].name)) {
            /* Each subcommand sees argv[0] = its own name, like git's builtins. */
            return tb_status_exit_code(subcommands[i].fn(argc - shift, argv + shift));
        }
    }
    tb_error(TB_ERR_USAGE, "unknown subcommand '%s' (try `topobench help`)", name);
    return TB_EXIT_USAGE;
}
