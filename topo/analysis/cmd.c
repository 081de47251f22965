/* `topobench analyze RESULTS.json`: judges a results document offline (no MPI, no
 * hardware), prints the verdict and writes the `analysis` section back into the document
 * (docs/analysis.md). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "doc.h"
#include "fs.h"
#include "log.h"
#include "report.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: topobench analyze RESULTS.json [OPTIONS]\n"
            "\n"
            "Judges every measured cell of a results document against its topology path\n"
            "(the model's expected figure) and robustly against its peers of the same path\n"
            "class (median and MAD), names the culprits (a node, a link, one direction of a\n"
            "link, latency outliers, nodes whose topology differs) with their evidence, and\n"
            "prints the command that measures the suspects again in isolation. Offline: no\n"
            "MPI, no hardware. Writes the result as the document's `analysis` section\n"
            "(docs/analysis.md), with the recommendations (NCCL settings, placement, ring\n"
            "order, nodes to drain) rendered beside it as nccl.env, rankfile, hostfile,\n"
            "slurm.txt, slurm-hostfile, topobench-bind.sh and drain.txt, unless --no-write.\n"
            "\n"
            "  -k, --mad-threshold K  a cell is an outlier beyond K scaled MADs from its\n"
            "                         peers' median (default 4)\n"
            "      --min-drop F       ... and at least F (fraction) from it (default 0.25)\n"
            "      --model-min F      measured / expected below F is below the model\n"
            "                         (default 0.5)\n"
            "      --list-max N       list every cell of a set up to N cells, else the\n"
            "                         flagged ones only (default 4096, 0 = always all)\n"
            "      --program PATH     topobench path in the confirmation command\n"
            "                         (default: the run's argv[0])\n"
            "      --json             print the analysis section as JSON instead of text\n"
            "  -n, --no-write         leave RESULTS.json unchanged and write no files\n"
            "  -h, --help             this text\n"
            "\n"
            "Exit statuses: 0 analysed (whatever the verdict; `check` is the gate),\n"
            "2 usage error or missing file, 3 malformed document, 4 document not writable.\n");
}

static tb_status_t parse_num(const char *opt, const char *val, double lo, double hi, double *out)
{
    char *end;
    double v;
    if (!val || !val[0])
        return tb_error(TB_ERR_USAGE, "analyze: option '%s' needs a number", opt);
    v = strtod(val, &end);
    if (*end || !(v >= lo && v <= hi))
        return tb_error(TB_ERR_USAGE, "analyze: %s '%s': expected a number in [%g, %g]", opt, val,
                        lo, hi);
    *out = v;
    return TB_OK;
}

tb_status_t tb_analyze_cmd(int argc, char **argv)
{
    tb_analysis_opts_t opts;
    const char *input = NULL;
    int as_json = 0, no_write = 0;
    char docdir[4096];
    json_t *doc = NULL, *analysis = NULL;
    tb_status_t st;
    double v = 0;
    size_t nfiles = 0;

    tb_analysis_opts_default(&opts);
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return TB_OK;
        } else if (!strcmp(arg, "--json")) {
            as_json = 1;
        } else if (!strcmp(arg, "-n") || !strcmp(arg, "--no-write")) {
            no_write = 1;
        } else if (!strcmp(arg, "-k") || !strcmp(arg, "--mad-threshold")) {
            if ((st = parse_num(arg, val, 0.5, 1000, &opts.mad_k)))
                return st;
            a++;
        } else if (!strcmp(arg, "--min-drop")) {
            if ((st = parse_num(arg, val, 0, 0.99, &opts.min_drop)))
                return st;
            a++;
        } else if (!strcmp(arg, "--model-min")) {
            if ((st = parse_num(arg, val, 0, 10, &opts.model_min)))
                return st;
            a++;
        } else if (!strcmp(arg, "--list-max")) {
            if ((st = parse_num(arg, val, 0, 1e12, &v)))
                return st;
            opts.list_max = (size_t)v;
            a++;
        } else if (!strcmp(arg, "--program")) {
            if (!val || !val[0])
                return tb_error(TB_ERR_USAGE, "analyze: option '--program' needs a path");
            opts.program = val;
            a++;
        } else if (arg[0] == '-' && arg[1]) {
            return tb_error(TB_ERR_USAGE,
                            "analyze: unknown option '%s' (try `topobench analyze --help`)", arg);
        } else if (input) {
            return tb_error(TB_ERR_USAGE, "analyze: one results file only ('%s' and '%s')", input,
                            arg);
        } else {
            input = arg;
        }
    }
    if (!input)
        return tb_error(TB_ERR_USAGE, "analyze: which results.json? (usage: topobench analyze "
                                      "RESULTS.json [OPTIONS])");
    tb_path_dir(input, docdir, sizeof(docdir));
    /* A 4,096-rank matrix is read three times (one metric each, 134 MB) and judged with
     * as much scratch memory: kept in the heap once freed instead of returned to the
     * kernel (glibc maps blocks over 32 MB afresh each time), the later reads reuse pages
     * already mapped. At 512 x 8 ranks: 2.2 -> 0.9-1.3 s of system time. */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if ((st = tb_doc_load(input, &doc)))
        return st;
    if ((st = tb_analysis_run(doc, docdir, &opts, &analysis)))
        goto out;
    if (as_json) {
        if (json_dumpf(analysis, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(6)) == 0)
            fputc('\n', stdout);
    } else {
        tb_analysis_print(analysis, stdout);
    }
    if (!no_write) {
        json_object_set(doc, "analysis", analysis);
        if ((st = tb_doc_write(doc, input)))
            goto out;
        if (!as_json)
            printf("analysis: written to %s (section \"analysis\", version %d)\n", input,
                   TB_ANALYSIS_VERSION);
        if ((st = tb_report_recommend_write(doc, docdir, &nfiles)))
            goto out;
        if (!as_json)
            printf("recommendations: %zu files written to %s (nccl.env, rankfile, hostfile, "
                   "slurm.txt, slurm-hostfile, topobench-bind.sh, drain.txt%s)\n",
                   nfiles, docdir, nfiles > 7 ? ", nccl-topo*.xml" : "");
    }
    if (fflush(stdout) != 0)
        st = tb_error_errno(TB_ERR_ENV, "standard output");
out:
    json_decref(analysis);
    json_decref(doc);
    return st;
}
