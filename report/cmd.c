/* `topobench report results.json [-o DIR] [--format LIST] [--quiet]`: regenerates the CSV
 * files and prints the tables, the HTML report, the Markdown summary from a results
 * document, offline (no MPI). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"


/* TOPOBENCH_REPORT_TIMES=1: each step's CPU time on standard error (the document's load,
 * each format), so bench/perf/report_html.sh times the writing apart from the loading. */
static double cpu_s(void)
{
    struct timespec t;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
               ? 0
               : (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void step_time(const char *what, double *t0)
{
    static int on = -1;
    double t = cpu_s();
    if (on < 0)
        on = getenv("TOPOBENCH_REPORT_TIMES") && !strcmp(getenv("TOPOBENCH_REPORT_TIMES"), "1");
    if (on && what)
        fprintf(stderr, "report: %s: %.3f s CPU\n", what, t - *t0);
    *t0 = t;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: topobench report RESULTS.json [-o DIR] [--format LIST] [--quiet]\n"
                 "                        [--baseline FILE]\n"
                 "\n"
                 "Renders, from a results document and without MPI, the CSV files (one per\n"
                 "test, matrices in long form, summary.csv), the recommendation files of its\n"
                 "analysis (nccl.env, rankfile, hostfile, slurm.txt, slurm-hostfile,\n"
                 "topobench-bind.sh, drain.txt) and the terminal tables (format csv), the\n"
                 "HTML report (report.html, one self-contained file; html) and the Markdown\n"
                 "summary (report.md; md).\n"
                 "\n"
                 "  -o, --outdir DIR  write the files into DIR (created if missing;\n"
                 "                    default: the directory holding RESULTS.json)\n"
                 "  -f, --format LIST csv, html, md or all, comma-separated (default csv;\n"
                 "                    the tables are printed with csv)\n"
                 "  -q, --quiet       do not print the tables\n"
                 "  --baseline FILE   draw this baseline's figures in the HTML report's sweep\n"
                 "                    plots (a `topobench baseline` file, a results.json or\n"
                 "                    an nccl-tests log, as `check --baseline` reads it;\n"
                 "                    entries matched by their keys)\n"
                 "  -h, --help        this text\n"
                 "\n"
                 "Exit statuses: 0 success, 2 usage error or missing file, 3 malformed\n"
                 "document, 4 output directory or file not writable.\n");
}

tb_status_t tb_report_cmd(int argc, char **argv)
{
    return tb_report_cmd_with(argc, argv, NULL);
}

tb_status_t tb_report_cmd_with(int argc, char **argv, tb_report_baseline_load_fn load)
{
    const char *input = NULL, *outdir = NULL, *base = NULL;
    char docdir[4096], path[4200];
    int quiet = 0, csv = 0, html = 0, md = 0;
    const char *format = "csv";
    json_t *doc = NULL, *baseline = NULL;
    double t0;
    size_t nfiles = 0, nrec = 0, i;
    const json_t *test;
    tb_status_t st;

    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return TB_OK;
        } else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(arg, "-o") || !strcmp(arg, "--outdir")) {
            if (a + 1 >= argc || !argv[a + 1][0])
                return tb_error(TB_ERR_USAGE, "report: option '%s' needs a directory", arg);
            outdir = argv[++a];
        } else if (!strcmp(arg, "-f") || !strcmp(arg, "--format")) {
            if (a + 1 >= argc || !argv[a + 1][0])
                return tb_error(TB_ERR_USAGE, "report: option '%s' needs csv, html, md or all", arg);
            format = argv[++a];
        } else if (!strcmp(arg, "--baseline")) {
            if (a + 1 >= argc || !argv[a + 1][0])
                return tb_error(TB_ERR_USAGE, "report: option '%s' needs a file", arg);
            base = argv[++a];
        } else if (!strncmp(arg, "--baseline=", 11) && arg[11]) {
            base = arg + 11;
        } else if (!strncmp(arg, "--format=", 9) && arg[9]) {
            format = arg + 9;
        } else if (!strncmp(arg, "--outdir=", 9) && arg[9]) {
            outdir = arg + 9;
        } else if (arg[0] == '-' && arg[1]) {
            return tb_error(TB_ERR_USAGE,
                            "report: unknown option '%s' (try `topobench report --help`)", arg);
        } else if (input) {
            return tb_error(TB_ERR_USAGE, "report: one results file only ('%s' and '%s')",
                            input, arg);
        } else {
            input = arg;
        }
    }
    if (!input)
        return tb_error(TB_ERR_USAGE, "report: which results.json? (usage: topobench report "
                                      "RESULTS.json [-o DIR] [--format LIST] [--quiet])");
    for (const char *p = format; *p;) {
        size_t l = strcspn(p, ",");
        if (l == 3 && !strncmp(p, "csv", 3))
            csv = 1;
        else if (l == 4 && !strncmp(p, "html", 4))
            html = 1;
        else if (l == 2 && !strncmp(p, "md", 2))
            md = 1;
        else if (l == 3 && !strncmp(p, "all", 3))
            csv = html = md = 1;
        else
            return tb_error(TB_ERR_USAGE, "report: --format '%s': expected csv, html, md or all, "
                                          "comma-separated", format);
        p += l + (p[l] == ',');
    }
    /* Matrix side files are read beside the document; output goes there by default. */
    tb_path_dir(input, docdir, sizeof(docdir));
    if (!outdir)
        outdir = docdir;

    if (base && !html)
        return tb_error(TB_ERR_USAGE, "report: --baseline is drawn in the HTML report only: "
                                      "add --format html");
    if (base && !load)
        return tb_error(TB_ERR_USAGE, "report: --baseline: this program cannot read baselines");
    step_time(NULL, &t0);
    if ((st = tb_doc_load(input, &doc)))
        goto out;
    step_time("loading the document", &t0);
    if (base && (st = load(base, &baseline)))
        goto out;
    step_time(base ? "loading the baseline" : NULL, &t0);
    if ((st = tb_mkdir_p(outdir)) ||
        (csv && ((st = tb_report_csv_write_count(doc, docdir, outdir, &nfiles)) ||
                 (st = tb_report_recommend_write(doc, outdir, &nrec)))))
        goto out;
    nfiles += nrec;
    step_time(csv ? "CSV files" : NULL, &t0);
    if (html) {
        snprintf(path, sizeof(path), "%s/report.html", outdir);
        if ((st = tb_report_html_write(doc, baseline, docdir, path)))
            goto out;
        nfiles++;
        step_time("writing report.html", &t0);
    }
    if (md) {
        tb_afile_t af;
        snprintf(path, sizeof(path), "%s/report.md", outdir);
        if ((st = tb_afile_open(&af, path)))
            goto out;
        tb_report_markdown(doc, af.f);
        if ((st = tb_afile_commit(&af)))
            goto out;
        nfiles++;
        step_time("writing report.md", &t0);
    }
    if (csv && !quiet) {
        json_array_foreach(json_object_get(doc, "tests"), i, test) {
            tb_status_t one = tb_report_table_print(test, docdir, stdout);
            if (one > st)
                st = one;
            fputc('\n', stdout);
        }
    }
    printf("report: wrote %zu file%s to %s\n", nfiles, nfiles == 1 ? "" : "s", outdir);
    if (fflush(stdout) != 0)
        st = tb_error_errno(TB_ERR_ENV, "standard output");
out:
    json_decref(doc);
    json_decref(baseline);
    return st;
}
