/* tb_topo_import_file: a recorded topology from a file. The format is sniffed from the
 * content (hwloc XML has a <topology> root, NCCL XML a <system>, nvidia-smi text a GPU0
 * header line, plain or as a Markdown table row) unless the caller names it; the importer for that format fills the graph,
 * then the model is built. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "topo_internal.h"

/* Whether a line of the text is an nvidia-smi matrix header: one of its cells, split at
 * blanks and Markdown pipes, is exactly GPU0, and another is GPU1 or an affinity column. A
 * matrix pasted into a Markdown or HTML page (| |GPU0|GPU1|...|, <details> around it) is
 * found this way. */
static int has_matrix_header(const char *buf)
{
    for (const char *line = buf; *line;) {
        size_t len = strcspn(line, "\n");
        int gpu0 = 0, more = 0;
        for (size_t i = 0; i < len;) {
            size_t n;
            i += strspn(line + i, " \t\r|*`");
            n = strcspn(line + i, " \t\r|*`\n");
            if (i + n > len)
                n = len - i;
            gpu0 |= n == 4 && strncmp(line + i, "GPU0", 4) == 0;
            more |= (n == 4 && strncmp(line + i, "GPU1", 4) == 0) ||
                    (n == 8 && strncmp(line + i, "Affinity", 8) == 0);
            i += n ? n : 1;
        }
        if (gpu0 && more)
            return 1;
        line += len + (line[len] == '\n');
    }
    return 0;
}

/* Skips whitespace, an XML declaration, comments and a UTF-8 byte order mark, and tells
 * which root element follows. */
static tb_topo_format_t sniff(const char *buf)
{
    const char *p = buf;
    if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
        p += 3;
    for (;;) {
        p += strspn(p, " \t\r\n");
        if (strncmp(p, "<?", 2) == 0 || strncmp(p, "<!DOCTYPE", 9) == 0) {
            const char *e = strchr(p, '>');
            if (!e)
                break;
            p = e + 1;
        } else if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p, "-->");
            if (!e)
                break;
            p = e + 3;
        } else {
            break;
        }
    }
    if (strncmp(p, "<topology", 9) == 0)
        return TB_TOPO_FMT_HWLOC_XML;
    if (strncmp(p, "<system", 7) == 0 || strncmp(p, "<graphs", 7) == 0)
        return TB_TOPO_FMT_NCCL_XML; /* the NCCL importer explains a graph file */
    if (p[0] != '<' && strstr(buf, "GPU0") != NULL)
        return TB_TOPO_FMT_NVSMI;
    if (has_matrix_header(buf))
        return TB_TOPO_FMT_NVSMI;
    return TB_TOPO_FMT_AUTO;
}

tb_status_t tb_topo_import_file(const char *path, tb_topo_format_t format, tb_topo_t **topo_p)
{
    char buf[8192];
    size_t n;
    FILE *f;
    tb_topo_t *topo = NULL;
    tb_status_t st;

    if (!path || !*path)
        return tb_error(TB_ERR_USAGE, "topology import: no file given");
    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return tb_error(TB_ERR_USAGE, "%s: no such file", path);
        return tb_error(TB_ERR_USAGE, "%s: cannot open: %s", path, strerror(errno));
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    if (format == TB_TOPO_FMT_AUTO) {
        format = sniff(buf);
        if (format == TB_TOPO_FMT_AUTO)
            return tb_error(TB_ERR_INPUT,
                            "%s: not a topology this program reads (hwloc XML <topology>, NCCL "
                            "XML <system>, nvidia-smi topo -m text); use --format to force one",
                            path);
    }
    if ((st = tb_topo_create(&topo)) != TB_OK)
        return st;
    snprintf(topo->source_file, sizeof(topo->source_file), "%s", path);
    switch (format) {
    case TB_TOPO_FMT_HWLOC_XML:
        st = tb_topo_from_hwloc(topo, path);
        break;
    case TB_TOPO_FMT_NCCL_XML:
        st = tb_topo_from_nccl_xml(topo, path);
        break;
    case TB_TOPO_FMT_NVSMI:
        st = tb_topo_from_nvsmi(topo, path);
        break;
    default:
        st = tb_error(TB_ERR_USAGE, "%s: unknown topology format %d", path, (int)format);
        break;
    }
    if (st != TB_OK)
        goto err;
    if ((st = tb_topo_model_build(topo)) != TB_OK)
        goto err;
    *topo_p = topo;
    return TB_OK;
err:
    tb_topo_destroy(topo);
    return st;
}
