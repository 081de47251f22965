/* `topobench baseline` and `topobench check`: the CI gate's commands (docs/gate.md). The
 * comparison is topo/analysis's (gate.h), the table, JUnit XML and Markdown are report/'s;
 * this file parses the options, reads the files and writes the outputs. Offline: no MPI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "doc.h"
#include "fs.h"
#include "gate.h"
#include "log.h"
#include "report.h"
#include "units.h"

static const char import_help[] =
    "nccl-tests output as the baseline (what the log does not show):\n"
    "      --nccl-test NAME   the collective (all_reduce, all_gather, ...) when the\n"
    "                         output names no *_perf binary\n"
    "      --nccl-size SIZE   the size of a table without a size column (8G)\n"
    "      --nccl-ranks N     the rank count when the output shows none\n"
    "      --nccl-dtype T     the element type when there is no type column\n"
    "                         (default float, nccl-tests' default)\n"
    "      --nccl-backend B   backend key of the entries (default nccl)\n"
    "      --nccl-memory M    memory kind of both buffers (default device)\n";

/* One --nccl-* option at argv[*a]; 1 when it was one (and consumed its value), 0 when
 * not, -1 on a bad value (logged). */
static int import_opt(int argc, char **argv, int *a, tb_gate_import_opts_t *o, const char *cmd)
{
    const char *arg = argv[*a], *val = *a + 1 < argc ? argv[*a + 1] : NULL;
    static const char *const names[] = {"--nccl-test",  "--nccl-size",    "--nccl-ranks",
                                        "--nccl-dtype", "--nccl-backend", "--nccl-memory", NULL};
    int k;
    for (k = 0; names[k] && strcmp(arg, names[k]); k++)
        ;
    if (!names[k])
        return 0;
    if (!val || !val[0]) {
        tb_error(TB_ERR_USAGE, "%s: option '%s' needs a value", cmd, arg);
        return -1;
    }
    (*a)++;
    switch (k) {
    case 0: o->test = val; break;
    case 1:
        if (tb_size_parse(val, &o->size) != TB_OK || o->size == 0) {
            tb_error(TB_ERR_USAGE, "%s: --nccl-size '%s': expected a size (8G, 16M)", cmd, val);
            return -1;
        }
        break;
    case 2: {
        char *end;
        o->ranks = strtol(val, &end, 10);
        if (*end || o->ranks < 1 || o->ranks > 100000000) {
            tb_error(TB_ERR_USAGE, "%s: --nccl-ranks '%s': expected a count in [1, 1e8]", cmd,
                     val);
            return -1;
        }
        break;
    }
    case 3: o->dtype = val; break;
    case 4: o->backend = val; break;
    default: o->memory = val; break;
    }
    return 1;
}

static tb_status_t write_json(const json_t *j, const char *path)
{
    tb_afile_t f;
    tb_status_t st;
    if (!strcmp(path, "-")) {
        if (json_dumpf(j, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0)
            return tb_error_errno(TB_ERR_ENV, "standard output");
        fputc('\n', stdout);
        return TB_OK;
    }
    if ((st = tb_afile_open(&f, path)))
        return st;
    if (json_dumpf(j, f.f, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0) {
        tb_afile_abort(&f);
        return tb_error(TB_ERR_ENV, "cannot write %s", path);
    }
    fputc('\n', f.f);
    return tb_afile_commit(&f);
}

static void baseline_usage(FILE *out)
{
    fprintf(out,
            "usage: topobench baseline INPUT -o BASE.json [OPTIONS]\n"
            "\n"
            "Keeps what `topobench check` compares: per test entry its key (test, backend,\n"
            "memory kinds, dtype, placement or matrix level, ranks) and per size the headline\n"
            "figure with its spread (docs/gate.md). INPUT is a results.json of a good run\n"
            "(entries that finished ok; isolated pairs are not kept) or nccl-tests output\n"
            "(every layout nccl-tests prints, and Markdown tables quoting busbw).\n"
            "\n"
            "  -o, --output FILE      the baseline to write ('-': standard output)\n"
            "  -h, --help             this text\n"
            "%s\n"
            "Exit statuses: 0 written, 2 usage error or missing file, 3 malformed input\n"
            "(named with file, line or field), 4 output not writable.\n",
            import_help);
}

tb_status_t tb_baseline_cmd(int argc, char **argv)
{
    tb_gate_import_opts_t io;
    const char *input = NULL, *output = NULL;
    json_t *b = NULL;
    tb_status_t st;
    int r;

    tb_gate_import_opts_default(&io);
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            baseline_usage(stdout);
            return TB_OK;
        } else if (!strcmp(arg, "-o") || !strcmp(arg, "--output")) {
            if (a + 1 >= argc || !argv[a + 1][0])
                return tb_error(TB_ERR_USAGE, "baseline: option '%s' needs a file", arg);
            output = argv[++a];
        } else if ((r = import_opt(argc, argv, &a, &io, "baseline")) != 0) {
            if (r < 0)
                return TB_ERR_USAGE;
        } else if (arg[0] == '-' && arg[1]) {
            return tb_error(TB_ERR_USAGE,
                            "baseline: unknown option '%s' (try `topobench baseline --help`)", arg);
        } else if (input) {
            return tb_error(TB_ERR_USAGE, "baseline: one input only ('%s' and '%s')", input, arg);
        } else {
            input = arg;
        }
    }
    if (!input || !output)
        return tb_error(TB_ERR_USAGE, "baseline: %s (usage: topobench baseline INPUT -o BASE.json)",
                        input ? "where to? give -o BASE.json" : "which results.json or log?");
    if ((st = tb_gate_baseline_load(input, &io, &b)))
        return st;
    if ((st = write_json(b, output)) == TB_OK) {
        const json_t *e;
        size_t i, rows = 0;
        json_array_foreach(json_object_get(b, "entries"), i, e)
            rows += json_array_size(json_object_get(e, "rows"));
        json_array_foreach(json_object_get(b, "notes"), i, e)
            fprintf(stderr, "baseline: note: %s\n", json_string_value(e));
        fprintf(strcmp(output, "-") ? stdout : stderr,
                "baseline: %zu entries, %zu sizes from %s (%s) written to %s\n",
                json_array_size(json_object_get(b, "entries")), rows, input,
                json_string_value(json_object_get(json_object_get(b, "source"), "format")),
                output);
    }
    json_decref(b);
    return st;
}

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: topobench check RESULTS.json --baseline BASE [--expect FILE] [OPTIONS]\n"
            "\n"
            "The CI gate: compares a results document with a baseline (a file written by\n"
            "`topobench baseline`, a results.json, or nccl-tests output) entry by entry on\n"
            "their keys, and with an expectation file; prints what was compared and what\n"
            "failed, and exits 5 when something regressed or an expectation failed\n"
            "(docs/gate.md). A figure regresses when it is worse than the baseline by more\n"
            "than the tolerance AND more than K times the combined spread of both runs.\n"
            "\n"
            "  -b, --baseline FILE    what to compare with\n"
            "  -x, --expect FILE      expectations, one per line (docs/gate.md)\n"
            "  -t, --tolerance T      allowed change: 5%%, 0.05 (default 5%%)\n"
            "      --spread K         ... and K combined standard deviations (default 2)\n"
            "      --allow-missing    baseline entries or sizes the run lacks are\n"
            "                         reported, not failed (default: they fail)\n"
            "      --junit FILE       JUnit XML, one test case per check\n"
            "      --markdown FILE    a Markdown summary\n"
            "      --json FILE        the check result as JSON ('-': standard output)\n"
            "  -q, --quiet            print the failed and missing checks only\n"
            "  -h, --help             this text\n"
            "%s\n"
            "Exit statuses: 0 pass, 5 a regression, a failed expectation or (without\n"
            "--allow-missing) a missing entry, 2 usage error or missing file, 3 malformed\n"
            "results, baseline or expectation file (named with file, line or field),\n"
            "4 an output file not writable.\n",
            import_help);
}

static tb_status_t parse_fraction(const char *opt, const char *val, double *out)
{
    char *end;
    double v;
    if (!val || !val[0])
        return tb_error(TB_ERR_USAGE, "check: option '%s' needs a value", opt);
    v = strtod(val, &end);
    if (end != val && *end == '%' && !end[1])
        v /= 100;
    else if (end == val || *end || v > 1)
        return tb_error(TB_ERR_USAGE, "check: %s '%s': expected a percentage (5%%) or a "
                                      "fraction (0.05) in [0, 100%%)", opt, val);
    if (!(v >= 0 && v < 1))
        return tb_error(TB_ERR_USAGE, "check: %s '%s': expected a value in [0, 100%%)", opt, val);
    *out = v;
    return TB_OK;
}

static tb_status_t write_with(const json_t *result, const char *path,
                              void (*render)(const json_t *, FILE *))
{
    tb_afile_t f;
    tb_status_t st;
    if ((st = tb_afile_open(&f, path)))
        return st;
    render(result, f.f);
    return tb_afile_commit(&f);
}

tb_status_t tb_check_cmd(int argc, char **argv)
{
    tb_gate_import_opts_t io;
    tb_gate_opts_t go;
    const char *input = NULL, *base = NULL, *expect = NULL, *junit = NULL, *md = NULL,
               *json = NULL;
    json_t *doc = NULL, *b = NULL, *ex = NULL, *result = NULL;
    char docdir[4096];
    int quiet = 0, r;
    tb_status_t st;

    tb_gate_import_opts_default(&io);
    tb_gate_opts_default(&go);
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        const char **file = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            check_usage(stdout);
            return TB_OK;
        } else if (!strcmp(arg, "-b") || !strcmp(arg, "--baseline")) {
            file = &base;
        } else if (!strcmp(arg, "-x") || !strcmp(arg, "--expect")) {
            file = &expect;
        } else if (!strcmp(arg, "--junit")) {
            file = &junit;
        } else if (!strcmp(arg, "--markdown")) {
            file = &md;
        } else if (!strcmp(arg, "--json")) {
            file = &json;
        } else if (!strcmp(arg, "-t") || !strcmp(arg, "--tolerance")) {
            if ((st = parse_fraction(arg, val, &go.tolerance)))
                return st;
            a++;
        } else if (!strcmp(arg, "--spread")) {
            char *end;
            if (!val || (go.spread_k = strtod(val, &end), end == val || *end) ||
                !(go.spread_k >= 0 && go.spread_k <= 100))
                return tb_error(TB_ERR_USAGE, "check: --spread '%s': expected a number in "
                                              "[0, 100]", val ? val : "");
            a++;
        } else if (!strcmp(arg, "--allow-missing")) {
            go.allow_missing = 1;
        } else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
            quiet = 1;
        } else if ((r = import_opt(argc, argv, &a, &io, "check")) != 0) {
            if (r < 0)
                return TB_ERR_USAGE;
        } else if (arg[0] == '-' && arg[1]) {
            return tb_error(TB_ERR_USAGE, "check: unknown option '%s' (try `topobench check "
                                          "--help`)", arg);
        } else if (input) {
            return tb_error(TB_ERR_USAGE, "check: one results file only ('%s' and '%s')", input,
                            arg);
        } else {
            input = arg;
        }
        if (file) {
            if (!val || !val[0])
                return tb_error(TB_ERR_USAGE, "check: option '%s' needs a file", arg);
            *file = val;
            a++;
        }
    }
    if (!input)
        return tb_error(TB_ERR_USAGE, "check: which results.json? (usage: topobench check "
                                      "RESULTS.json --baseline BASE [--expect FILE])");
    if (!base && !expect)
        return tb_error(TB_ERR_USAGE, "check: nothing to check against: give --baseline FILE, "
                                      "--expect FILE or both");
    /* Every input is read before anything is compared, so a bad file is status 3 with
     * nothing half-written. */
    if (expect && (st = tb_gate_expect_load(expect, &ex)))
        goto out;
    if (base && (st = tb_gate_baseline_load(base, &io, &b)))
        goto out;
    tb_path_dir(input, docdir, sizeof(docdir));
    if ((st = tb_doc_load(input, &doc)))
        goto out;
    if ((st = tb_gate_check(doc, docdir, b, ex, &go, &result)))
        goto out;
    json_object_set_new(result, "results_file", json_string(input));
    if (expect)
        json_object_set_new(result, "expect_file", json_string(expect));
    /* --json - puts the result on standard output: the table goes to standard error. */
    tb_report_check_print(result, quiet, json && !strcmp(json, "-") ? stderr : stdout);
    if (fflush(stdout) != 0) {
        st = tb_error_errno(TB_ERR_ENV, "standard output");
        goto out;
    }
    if ((junit && (st = write_with(result, junit, tb_report_check_junit))) ||
        (md && (st = write_with(result, md, tb_report_check_markdown))) ||
        (json && (st = write_json(result, json))))
        goto out;
    st = strcmp(json_string_value(json_object_get(result, "verdict")), "pass") ? TB_ERR_REGRESSION
                                                                               : TB_OK;
out:
    json_decref(result);
    json_decref(doc);
    json_decref(b);
    json_decref(ex);
    return st;
}
