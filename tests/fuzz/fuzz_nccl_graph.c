/* libFuzzer target for NCCL's graph dump reader (NCCL_GRAPH_DUMP_FILE, tb_topo_nccl_graphs_read
 * in topo/import_nccl.c) and the comparison that consumes it (topo/nccl_view.c): arbitrary
 * graphs set against an empty topology and against themselves as NCCL's view. */
#include "fuzz_import.h"
#include "topo_nccl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tb_fuzz_graph_XXXXXX";
    void *graphs = NULL;
    tb_topo_t *topo = NULL;
    json_t *findings = json_array();

    tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
    if (!tb_fuzz_tmpfile(data, size, path))
        return 0;
    if (tb_topo_nccl_graphs_read(path, &graphs) == TB_OK) {
        char *text = json_dumps(graphs, 0);
        free(text);
        if (tb_topo_create(&topo) == TB_OK)
            (void)tb_topo_nccl_compare(topo, topo, graphs, "fuzz", findings);
        tb_topo_destroy(topo);
        json_decref(graphs);
    }
    json_decref(findings);
    unlink(path);
    return 0;
}
