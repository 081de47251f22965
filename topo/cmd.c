/* `topobench topo [--from FILE] [--format auto|hwloc|nccl|nvsmi] [--json] [--help]`:
 * this node's topology (live discovery) or a recorded one, printed as matrices, locality
 * and findings, or as JSON on stdout. Options are a table, parsed by one loop. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "topo.h"

typedef struct topo_opts {
    const char *from;
    tb_topo_format_t format;
    int json;
    int help;
} topo_opts_t;

static const struct {
    const char *name;
    int takes_arg;
    const char *help;
} options[] = {
    {"--from", 1, "FILE  import a recorded topology instead of discovering this node"},
    {"--format", 1, "F    auto (default), hwloc, nccl or nvsmi: the format of FILE"},
    {"--json", 0, "     print the model as JSON on stdout"},
    {"--help", 0, "     this text"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: topobench topo [--from FILE] [--format auto|hwloc|nccl|nvsmi] "
                 "[--json]\n\n"
                 "Shows the topology of this node (hwloc, NVML, verbs, sysfs) or of a file\n"
                 "(hwloc XML from lstopo, NCCL_TOPO_FILE XML, `nvidia-smi topo -m` text):\n"
                 "path classes, expected bandwidth and its bottleneck, locality, findings.\n\n");
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        fprintf(out, "  %-9s %s\n", options[i].name, options[i].help);
}

static tb_status_t parse_format(const char *text, tb_topo_format_t *format_p)
{
    static const struct {
        const char *name;
        tb_topo_format_t format;
    } formats[] = {{"auto", TB_TOPO_FMT_AUTO},
                   {"hwloc", TB_TOPO_FMT_HWLOC_XML},
                   {"nccl", TB_TOPO_FMT_NCCL_XML},
                   {"nvsmi", TB_TOPO_FMT_NVSMI},
                   {"nvidia-smi", TB_TOPO_FMT_NVSMI}};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(text, formats[i].name) == 0) {
            *format_p = formats[i].format;
            return TB_OK;
        }
    return tb_error(TB_ERR_USAGE, "topo: unknown --format '%s' (auto, hwloc, nccl, nvsmi)",
                    text);
}

static tb_status_t parse_args(int argc, char **argv, topo_opts_t *o)
{
    tb_status_t st;
    memset(o, 0, sizeof(*o));
    /* argv[0] is the subcommand name. */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL, *eq = strchr(arg, '=');
        size_t k, nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
            if (strlen(options[k].name) == nlen && strncmp(options[k].name, arg, nlen) == 0)
                break;
        if (k == sizeof(options) / sizeof(options[0]))
            return tb_error(TB_ERR_USAGE, "topo: unknown option '%s' (see topobench topo --help)",
                            arg);
        if (options[k].takes_arg) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return tb_error(TB_ERR_USAGE, "topo: %s needs a value", options[k].name);
        } else if (eq) {
            return tb_error(TB_ERR_USAGE, "topo: %s takes no value", options[k].name);
        }
        switch (k) {
        case 0:
            o->from = val;
            break;
        case 1:
            if ((st = parse_format(val, &o->format)) != TB_OK)
                return st;
            break;
        case 2:
            o->json = 1;
            break;
        default:
            o->help = 1;
            break;
        }
    }
    if (o->format != TB_TOPO_FMT_AUTO && !o->from)
        return tb_error(TB_ERR_USAGE, "topo: --format applies to --from FILE only");
    return TB_OK;
}

tb_status_t tb_topo_cmd(int argc, char **argv)
{
    topo_opts_t o;
    tb_topo_t *topo = NULL;
    tb_status_t st;

    if ((st = parse_args(argc, argv, &o)) != TB_OK)
        return st;
    if (o.help) {
        usage(stdout);
        return TB_OK;
    }
    if (o.from)
        st = tb_topo_import_file(o.from, o.format, &topo);
    else
        st = tb_topo_discover(&topo);
    if (st != TB_OK)
        return st;
    if (o.json) {
        json_t *j = tb_topo_to_json(topo);
        if (!j) {
            st = tb_error(TB_ERR_INTERNAL, "topo: cannot build the JSON document");
            goto out;
        }
        if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF)
            st = tb_error_errno(TB_ERR_ENV, "topo: writing JSON to stdout");
        json_decref(j);
    } else {
        tb_topo_print(topo, stdout);
    }
out:
    tb_topo_destroy(topo);
    return st;
}
