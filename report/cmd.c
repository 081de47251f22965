/* `topobench report results.json [-o DIR] [--quiet]`: regenerates the CSV files and
 * prints the tables from a results document, offline (no MPI). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "doc.h"
#include "log.h"
#include "report.h"

/* Defined in csv.c; see the comment there. */
tb_status_t tb_report_csv_write_count(const json_t *doc, const char *dir, size_t *nfiles_p);

static void usage(FILE *out)
{
    fprintf(out, "usage: topobench report RESULTS.json [-o DIR] [--quiet]\n"
                 "\n"
                 "Renders the CSV files (one per test, matrices in long form, summary.csv)\n"
                 "and the terminal tables from a results document, without MPI.\n"
                 "\n"
                 "  -o, --outdir DIR  write the CSV files into DIR (created if missing;\n"
                 "                    default: the directory holding RESULTS.json)\n"
                 "  -q, --quiet       do not print the tables\n"
                 "  -h, --help        this text\n"
                 "\n"
                 "Exit statuses: 0 success, 2 usage error or missing file, 3 malformed\n"
                 "document, 4 output directory or file not writable.\n");
}

/* mkdir -p: every missing component of `dir`, then check it is a directory. */
static tb_status_t make_dirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);
    struct stat sb;

    if (len >= sizeof(path))
        return tb_error(TB_ERR_ENV, "output directory name too long: %s", dir);
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; p <= path + len; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return tb_error(TB_ERR_ENV, "cannot create output directory %s: %s", dir,
                            strerror(errno));
        *p = c;
    }
    if (stat(dir, &sb) != 0)
        return tb_error(TB_ERR_ENV, "cannot create output directory %s: %s", dir,
                        strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return tb_error(TB_ERR_ENV, "output directory %s exists and is not a directory", dir);
    return TB_OK;
}

/* The directory part of `path`, "." when there is none. */
static void dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    size_t n;
    if (!slash) {
        snprintf(buf, len, ".");
        return;
    }
    n = slash == path ? 1 : (size_t)(slash - path);
    snprintf(buf, len, "%.*s", (int)n, path);
}

tb_status_t tb_report_cmd(int argc, char **argv)
{
    const char *input = NULL, *outdir = NULL;
    char dirbuf[4096];
    int quiet = 0;
    json_t *doc = NULL;
    size_t nfiles = 0, i;
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
    if (!outdir) {
        dir_of(input, dirbuf, sizeof(dirbuf));
        outdir = dirbuf;
    }

    if ((st = tb_doc_load(input, &doc)))
        return st;
    if ((st = make_dirs(outdir)) || (st = tb_report_csv_write_count(doc, outdir, &nfiles)))
        goto out;
    if (!quiet) {
        json_array_foreach(json_object_get(doc, "tests"), i, test) {
            tb_report_table_print(test, stdout);
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
