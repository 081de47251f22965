/* Shared body of the importer fuzz targets: arbitrary bytes go through a temporary file
 * (the importers read files), then the model, the text output and the JSON output run on
 * whatever was accepted, so every consumer of an imported graph is exercised. Only
 * crashes and leaks matter; rejected inputs are expected and kept quiet. */
#ifndef TB_FUZZ_IMPORT_H
#define TB_FUZZ_IMPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "topo.h"
#include "topo_internal.h"

typedef tb_status_t (*tb_fuzz_importer_t)(tb_topo_t *topo, const char *path);

/* Writes the input to a new temporary file named from the template `path` (the readers
 * read files); 0 when it cannot. */
static inline int tb_fuzz_tmpfile(const uint8_t *data, size_t size, char *path)
{
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    return 1;
}

static inline int tb_fuzz_import(const uint8_t *data, size_t size, tb_fuzz_importer_t import)
{
    char path[] = "/tmp/tb_fuzz_import_XXXXXX";
    tb_topo_t *topo = NULL;
    static FILE *devnull;

    if (!devnull) {
        tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
        devnull = fopen("/dev/null", "w");
    }
    if (!tb_fuzz_tmpfile(data, size, path))
        return 0;
    if (tb_topo_create(&topo) == TB_OK) {
        if (import(topo, path) == TB_OK) {
            /* The graph's invariant: parents exist and every parent chain ends at a root
             * (no cycles), and links name existing objects. */
            for (size_t i = 0; i < topo->nobjs; i++) {
                int p = (int)i;
                for (size_t steps = 0; p >= 0; steps++) {
                    if (steps > topo->nobjs || topo->objs[p].parent >= (int)topo->nobjs ||
                        topo->objs[p].parent < -1)
                        abort();
                    p = topo->objs[p].parent;
                }
            }
            for (size_t i = 0; i < topo->nlinks; i++)
                if (topo->links[i].a < 0 || topo->links[i].b < 0 ||
                    (size_t)topo->links[i].a >= topo->nobjs ||
                    (size_t)topo->links[i].b >= topo->nobjs)
                    abort();
        }
        if (topo->nobjs && tb_topo_model_build(topo) == TB_OK) {
            json_decref((json_t *)tb_topo_to_json(topo));
            if (devnull)
                tb_topo_print(topo, devnull);
        }
        tb_topo_destroy(topo);
    }
    unlink(path);
    return 0;
}

#endif
