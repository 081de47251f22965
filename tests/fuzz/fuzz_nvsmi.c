/* libFuzzer target for the nvidia-smi topo -m text importer (topo/importers/import_nvsmi.c) and the
 * model built on what it accepts: ragged rows, odd cells, escapes, legends. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return tb_fuzz_import(data, size, tb_topo_from_nvsmi);
}
