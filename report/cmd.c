/* `topobench report results.json [-o DIR] [--quiet]`: regenerates the CSV files and
 * prints the tables from a results document, offline (no MPI). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"


static void usage(FILE *out)
{
    fprintf(out, "usage: topobench report RESULTS.json [-o DIR] [--quiet]\n"
                 "\n"
                 "Renders the CSV files (one per test, matrices in long form, summary.csv),\n"
                 "the recommendation files of its analysis (nccl.env, rankfile, hostfile,\n"
                 "slurm.txt, slurm-hostfile, topobench-bind.sh, drain.txt) and the terminal\n"
                 "tables from a results document, without MPI.\n"
                 "\n"
                 "  -o, --outdir DIR  write the CSV files into DIR (created if missing;\n"
                 "                    default: the directory holding RESULTS.json)\n"
                 "  -q, --quiet       do not print the tables\n"
                 "  -h, --help        this text\n"
                 "\n"
                 "Exit statuses: 0 success, 2 usage error or missing file, 3 malformed\n"
                 "document, 4 output directory or file not writable.\n");
}

tb_status_t tb_report_cmd(int argc, char **argv)
{
    const char *input = NULL, *outdir = NULL;
    char docdir[4096];
    int quiet = 0;
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
                                      "RESULTS.json [-o DIR] [--quiet])");
    /* Matrix side files are read beside the document; output goes there by default. */
    tb_path_dir(input, docdir, sizeof(docdir));
    if (!outdir)
        outdir = docdir;

    if ((st = tb_doc_load(input, &doc)))
        return st;
    if ((st = tb_mkdir_p(outdir)) ||
        (st = tb_report_csv_write_count(doc, docdir, outdir, &nfiles)) ||
        (st = tb_report_recommend_write(doc, outdir, &nrec)))
        goto out;
    nfiles += nrec;
    if (!quiet) {
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
