/* libFuzzer target for the NCCL topology XML importer (topo/importers/import_nccl.c) and the model
 * built on what it accepts: unclosed tags, odd attributes, link targets anywhere, deep
 * nesting. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return tb_fuzz_import(data, size, tb_topo_from_nccl_xml);
}
