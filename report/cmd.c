/* `topobench report results.json [-o DIR] [--format LIST] [--quiet]`: regenerates the CSV
 * files and prints the tables, the HTML report, the Markdown summary from a results
 * document, offline (no MPI). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"


static void usage(FILE *out)
{
    fprintf(out, "usage: topobench report RESULTS.json [-o DIR] [--format LIST] [--quiet]\n"
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
                 "  -h, --help        this text\n"
                 "\n"
                 "Exit statuses: 0 success, 2 usage error or missing file, 3 malformed\n"
                 "document, 4 output directory or file not writable.\n");
}

tb_status_t tb_report_cmd(int argc, char **argv)
{
    const char *input = NULL, *outdir = NULL;
    char docdir[4096], path[4200];
    int quiet = 0, csv = 0, html = 0, md = 0;
    const char *format = "csv";
    json_t *doc = NULL;
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

    if ((st = tb_doc_load(input, &doc)))
        return st;
    if ((st = tb_mkdir_p(outdir)) ||
        (csv && ((st = tb_report_csv_write_count(doc, docdir, outdir, &nfiles)) ||
                 (st = tb_report_recommend_write(doc, outdir, &nrec)))))
        goto out;
    nfiles += nrec;
    if (html) {
        snprintf(path, sizeof(path), "%s/report.html", outdir);
        if ((st = tb_report_html_write(doc, docdir, path)))
            goto out;
        nfiles++;
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
    }
    if (csv && !quiet) {
        json_array_foreach(json_object_get(doc, "tests"), i, test) {
            tb_status_t one = tb_report_table_print(test, docdir, stdout);
            if (one > st)
                st = one;
            fputc('\n', stdout);
        }
    }
    printf("report: wrote %zu files to %s\n", nfiles, outdir);
    if (fflush(stdout) != 0)
        st = tb_error_errno(TB_ERR_ENV, "standard output");
out:
    json_decref(doc);
    return st;
}
