/* Subcommand table and dispatch. `topobench` with no subcommand, or with an option first,
 * means `run`, so `mpirun topobench -b 8 -e 1M` works as nccl-tests users expect. */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "gate.h"
#include "log.h"
#include "report.h"
#include "tb_build_info.h"
#include "tb_git.h"
#include "topo.h"

static tb_status_t cmd_version(int argc, char **argv);
static tb_status_t cmd_report(int argc, char **argv);
static tb_status_t cmd_help(int argc, char **argv);

static const struct tb_subcommand {
    const char *name;
    tb_status_t (*fn)(int argc, char **argv);
    const char *summary;
} subcommands[] = {
    {"run", tb_run_cmd, "measure (default; launch with mpirun or srun)"},
    {"topo", tb_topo_cmd, "this node's or a recorded topology, paths, expected bandwidth"},
    {"report", cmd_report, "regenerate CSV files, the HTML report, the Markdown summary, offline"},
    {"analyze", tb_analyze_cmd, "judge a results.json against its topology and peers, offline"},
    {"baseline", tb_baseline_cmd, "keep what a CI gate compares, from a results.json or nccl-tests log"},
    {"check", tb_check_cmd, "CI gate: compare a results.json with a baseline and expectations"},
    {"version", cmd_version, "print version and build options"},
    {"help", cmd_help, "this text; `topobench help SUBCOMMAND` for a subcommand's options"},
};

/* What the configure found and what code was compiled for it (tb_build_info.h). Whether
 * a library can be loaded is a run-time fact, added where the run loads it. */
static const struct tb_build_dep {
    const char *name;
    int found, compiled;
    const char *compiled_in, *detail;
} build_deps[] = {
    {"cuda", TB_FOUND_CUDA, TB_COMPILED_CUDA, TB_COMPILED_IN_CUDA, TB_DETAIL_CUDA},
    {"nccl", TB_FOUND_NCCL, TB_COMPILED_NCCL, TB_COMPILED_IN_NCCL, TB_DETAIL_NCCL},
    {"ucx", TB_FOUND_UCX, TB_COMPILED_UCX, TB_COMPILED_IN_UCX, TB_DETAIL_UCX},
    {"verbs", TB_FOUND_VERBS, TB_COMPILED_VERBS, TB_COMPILED_IN_VERBS, TB_DETAIL_VERBS},
};
#define N_BUILD_DEPS (sizeof(build_deps) / sizeof(build_deps[0]))

static const char *dep_state(const struct tb_build_dep *d)
{
    return d->compiled ? "compiled" : d->found ? "found" : "no";
}

void *tb_cli_build_json(void)
{
    json_t *b = json_object();
    for (size_t i = 0; i < N_BUILD_DEPS; i++)
        json_object_set_new(b, build_deps[i].name,
                            json_pack("{s:b, s:b, s:s}", "found", build_deps[i].found,
                                      "compiled", build_deps[i].compiled, "detail",
                                      build_deps[i].detail));
    json_object_set_new(b, "sanitize", json_boolean(strcmp(TB_SANITIZE_BUILD, "ON") == 0));
    return b;
}

/* `report --baseline FILE` reads FILE as `check --baseline` does (report/ links core
 * only, so the gate's reader is handed to it here). */
static tb_status_t load_baseline(const char *path, json_t **baseline_p)
{
    tb_gate_import_opts_t io;
    tb_gate_import_opts_default(&io);
    return tb_gate_baseline_load(path, &io, baseline_p);
}

static tb_status_t cmd_report(int argc, char **argv)
{
    return tb_report_cmd_with(argc, argv, load_baseline);
}

static tb_status_t cmd_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: topobench version\n\nPrints the version, the git commit and, per "
                   "optional dependency,\nwhether the configure found it (found) and whether "
                   "code for it was\ncompiled in (compiled).\n");
            return TB_OK;
        }
        return tb_error(TB_ERR_USAGE, "version: unexpected argument '%s' (it takes none)",
                        argv[i]);
    }
    printf("topobench %s (git %s, %s)\n", TB_VERSION, TB_GIT_HASH, TB_BUILD_TYPE);
    printf("build:");
    for (size_t i = 0; i < N_BUILD_DEPS; i++)
        printf(" %s=%s", build_deps[i].name, dep_state(&build_deps[i]));
    printf(" sanitize=%s\n", TB_SANITIZE_BUILD);
    for (size_t i = 0; i < N_BUILD_DEPS; i++) {
        const struct tb_build_dep *d = &build_deps[i];
        printf("  %-6s %s", d->name, d->found ? "found" : "not found");
        if (d->detail[0])
            printf(" (%s)", d->detail);
        if (d->compiled)
            printf("; compiled into %s\n", d->compiled_in);
        else if (d->found)
            printf("; no code for it is compiled in\n");
        else
            printf("\n");
    }
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
            "  %d  performance below baseline, a failed expectation (check)\n"
            "  %d  data corruption detected\n"
            "  %d  timeout: a blocking step exceeded the watchdog\n"
            "  %d  interrupted by SIGINT or SIGTERM (what finished is kept)\n",
            TB_EXIT_OK, TB_EXIT_INTERNAL, TB_EXIT_USAGE, TB_EXIT_INPUT, TB_EXIT_ENV,
            TB_EXIT_REGRESSION, TB_EXIT_CORRUPT, TB_EXIT_TIMEOUT, TB_EXIT_INTERRUPTED);
}

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static const struct tb_subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (!strcmp(name, subcommands[i].name))
            return &subcommands[i];
    return NULL;
}

/* `topobench help [SUBCOMMAND]`: the list of subcommands, or SUBCOMMAND --help. */
static tb_status_t cmd_help(int argc, char **argv)
{
    if (argc > 2)
        return tb_error(TB_ERR_USAGE, "help: one subcommand at most (usage: topobench help "
                                      "[SUBCOMMAND])");
    if (argc == 2 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help")) {
        const struct tb_subcommand *sub = find_subcommand(argv[1]);
        char help_opt[] = "--help", *sub_argv[] = {argv[1], help_opt, NULL};
        if (!sub)
            return tb_error(TB_ERR_USAGE, "help: unknown subcommand '%s' (try `topobench help`)",
                            argv[1]);
        if (sub->fn == cmd_help)
            return cmd_help(1, argv + 1);
        return sub->fn(2, sub_argv);
    }
    printf("usage: topobench [SUBCOMMAND] [OPTIONS]\n"
           "       mpirun -np N topobench [run] [OPTIONS]\n\nSubcommands:\n");
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        printf("  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    printf("\n`topobench help SUBCOMMAND` or `topobench SUBCOMMAND --help` for its options.\n"
           "Only `run` starts MPI.\n\n");
    tb_cli_print_exit_statuses(stdout);
    return TB_OK;
}

int tb_cli_main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "run";
    int shift = 1;

    const struct tb_subcommand *sub;

    if (argc > 1 && argv[1][0] == '-') {
        /* `topobench --help` is the command's help, not run's, and starts no MPI. */
        if (!strcmp(argv[1], "--version"))
            return tb_status_exit_code(cmd_version(argc - 1, argv + 1));
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
            return tb_status_exit_code(cmd_help(argc - 1, argv + 1));
        name = "run"; /* options first: `topobench -b 8 -e 1M` */
        shift = 0;
    } else if (argc <= 1) {
        shift = 0;
    }
    /* Each subcommand sees argv[0] = its own name, like git's builtins. */
    if ((sub = find_subcommand(name)))
        return tb_status_exit_code(sub->fn(argc - shift, argv + shift));
    tb_error(TB_ERR_USAGE, "unknown subcommand '%s' (try `topobench help`)", name);
    return TB_EXIT_USAGE;
}
