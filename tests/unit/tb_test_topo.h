/* Helper for the topology importer tests: imports a text written in the test itself
 * through a temporary file, optionally capturing what the importer logged. */
#ifndef TB_TEST_TOPO_H
#define TB_TEST_TOPO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo.h"

/* Imports `text` as `format`; the topology comes back in *topo_p on success (NULL
 * otherwise). When `msg` is given, stderr (the error message) is captured into it. */
static tb_status_t tb_test_import_text(const char *text, tb_topo_format_t format,
                                       tb_topo_t **topo_p, char *msg, size_t len)
{
    char path[] = "/tmp/tb_topo_text_XXXXXX";
    int fd = mkstemp(path), saved = -1;
    FILE *tmp = NULL;
    tb_status_t st;
    *topo_p = NULL;
    if (msg)
        msg[0] = 0;
    if (fd < 0)
        return TB_ERR_INTERNAL;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        close(fd);
        unlink(path);
        return TB_ERR_INTERNAL;
    }
    close(fd);
    if (msg && (tmp = tmpfile()) != NULL) {
        fflush(stderr);
        saved = dup(fileno(stderr));
        dup2(fileno(tmp), fileno(stderr));
    }
    st = tb_topo_import_file(path, format, topo_p);
    if (tmp) {
        fflush(stderr);
        dup2(saved, fileno(stderr));
        close(saved);
        rewind(tmp);
        msg[fread(msg, 1, len - 1, tmp)] = 0;
        fclose(tmp);
    }
    unlink(path);
    return st;
}

#endif
