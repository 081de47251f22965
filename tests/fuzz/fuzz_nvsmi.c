/* libFuzzer target for the nvidia-smi topo -m text importer (topo/import_nvsmi.c) and the model built on what it accepts: ragged rows, odd cells, escapes, legends.
 * Arbitrary bytes go through a temporary file (the importers read files), then the model,
 * the text output and the JSON output run on the result, so every consumer of an
 * imported graph is exercised. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "topo.h"
#include "topo_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tb_fuzz_nvsmi_XXXXXX";
    tb_topo_t *topo = NULL;
    static FILE *devnull;
    int fd;

    if (!devnull) {
        /* Rejected inputs log errors; only crashes and leaks matter here. */
        tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
        devnull = fopen("/dev/null", "w");
    }
    fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    if (tb_topo_create(&topo) == TB_OK) {
        if (tb_topo_from_nvsmi(topo, path) == TB_OK && tb_topo_model_build(topo) == TB_OK) {
            json_t *j = tb_topo_to_json(topo);
            json_decref(j);
            if (devnull)
                tb_topo_print(topo, devnull);
        }
        tb_topo_destroy(topo);
    }
    unlink(path);
    return 0;
}
