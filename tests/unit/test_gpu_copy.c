/* gpu_copy's parts that need no GPU: the document's per-node matrices (validation), the
 * terminal tables and the CSV rendered from a hand-made entry, and the byte patterns the
 * copies are checked with (word-wise, the same bytes as tb_pattern_byte). The copies
 * themselves run end to end against the CUDA runtime double in tests/mpi/test_gpu_copy.sh. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"
#include "harness.h"
#include "log.h"
#include "report.h"
#include "tb_test.h"

/* One node: NUMA0, NUMA1, GPU0, GPU1. Row copies to column. */
static const char *const ENTRY =
    "{\"name\": \"gpu_copy\", \"kind\": \"gpu_copy\", \"backend\": \"cuda\","
    " \"send_memory\": null, \"recv_memory\": null, \"dtype\": \"byte\", \"placement\": null,"
    " \"level\": \"node\", \"status\": \"ok\","
    " \"params\": {\"size\": 1048576, \"batch\": 16, \"warmup\": 4, \"samples\": 3},"
    " \"results\": [], \"errors\": [],"
    " \"nodes\": [{\"host\": \"n0\", \"node_index\": 0, \"rank\": 0, \"status\": \"ok\","
    "   \"labels\": [\"NUMA0\", \"NUMA1\", \"GPU0\", \"GPU1\"],"
    "   \"endpoints\": [{\"label\": \"NUMA0\", \"kind\": \"numa\", \"numa\": 0},"
    "     {\"label\": \"NUMA1\", \"kind\": \"numa\", \"numa\": 1},"
    "     {\"label\": \"GPU0\", \"kind\": \"gpu\", \"cuda_device\": 0, \"numa\": 0},"
    "     {\"label\": \"GPU1\", \"kind\": \"gpu\", \"cuda_device\": 1, \"numa\": 1}],"
    "   \"paths\": {\"NUMA0\": {\"GPU0\": \"PHB\", \"GPU1\": \"SYS\"},"
    "     \"NUMA1\": {\"GPU0\": \"SYS\", \"GPU1\": \"PHB\"},"
    "     \"GPU0\": {\"NUMA0\": \"PHB\", \"NUMA1\": \"SYS\", \"GPU0\": \"X\", \"GPU1\": \"NV18\"},"
    "     \"GPU1\": {\"NUMA0\": \"SYS\", \"NUMA1\": \"PHB\", \"GPU0\": \"NV18\", \"GPU1\": \"X\"}},"
    "   \"copy_gbps\": [[null, null, 26.1, 20.5], [null, null, 19.9, 26.3],"
    "                   [25.5, 18.5, 1500.2, 376.4], [18.7, 25.7, 375.0, 1490.0]],"
    "   \"copy_cv\": [[null, null, 0.01, 0.01], [null, null, 0.01, 0.01],"
    "                 [0.01, 0.01, 0.001, 0.002], [0.01, 0.01, 0.002, 0.001]],"
    "   \"bidir_gbps\": [[null, null, null, null], [null, null, null, null],"
    "                    [null, null, null, 370.5], [null, null, 371.5, null]],"
    "   \"bidir_cv\": [[null, null, null, null], [null, null, null, null],"
    "                  [null, null, null, 0.01], [null, null, 0.01, null]],"
    "   \"expected_gbps\": [[null, null, 55, 22], [null, null, 22, 55],"
    "                       [55, 22, null, 376], [22, 55, 376, null]],"
    "   \"peer_access\": [[null, null, null, null], [null, null, null, null],"
    "                     [null, null, null, 0], [null, null, 1, null]],"
    "   \"notes\": [\"NUMA1: set_mempolicy(MPOL_BIND, node 1): Invalid argument\"]},"
    "  {\"host\": \"n1\", \"node_index\": 1, \"rank\": 2, \"status\": \"skipped\","
    "   \"skip_reason\": \"n1: no CUDA device\"}]}";

static json_t *doc_with(json_t *entry)
{
    json_t *doc = tb_doc_new();
    json_array_append_new(json_object_get(doc, "tests"), entry);
    return doc;
}

static char *table_of(const json_t *entry)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        TB_CHECK_INT(tb_report_table_print(entry, ".", f), TB_OK);
        fclose(f);
    }
    return buf;
}

/* The per-node matrices are validated against each node's own labels. */
static void test_validate(void)
{
    json_t *entry = json_loads(ENTRY, 0, NULL), *doc, *node;
    TB_CHECK(entry != NULL);
    if (!entry)
        return;
    doc = doc_with(entry);
    TB_CHECK_INT(tb_doc_validate(doc, "doc"), TB_OK);
    node = json_array_get(json_object_get(entry, "nodes"), 0);
    /* One row short: refused, naming the node and the matrix. */
    json_array_remove(json_object_get(node, "copy_gbps"), 3);
    tb_log_set_level(TB_LOG_ERROR + 1);
    TB_CHECK_INT(tb_doc_validate(doc, "doc"), TB_ERR_INPUT);
    json_object_set_new(node, "copy_gbps", json_string("fast"));
    TB_CHECK_INT(tb_doc_validate(doc, "doc"), TB_OK); /* not a matrix: not checked as one */
    json_object_set_new(node, "labels", json_pack("[s,i]", "NUMA0", 3));
    TB_CHECK_INT(tb_doc_validate(doc, "doc"), TB_ERR_INPUT);
    json_object_set_new(entry, "nodes", json_string("n0"));
    TB_CHECK_INT(tb_doc_validate(doc, "doc"), TB_ERR_INPUT);
    tb_log_set_level(TB_LOG_INFO);
    json_decref(doc);
}

static void test_table(void)
{
    json_t *entry = json_loads(ENTRY, 0, NULL);
    char *t = table_of(entry);
    TB_CHECK_HAS(t, "# gpu_copy (cuda-node): 2 nodes, 1048576-byte copies, batches of 16, "
                    "the median of 3 batches");
    TB_CHECK_HAS(t, "## n0 (rank 0): 2 NUMA nodes, 2 GPUs");
    TB_CHECK_HAS(t, "# host -> device, GB/s");
    /* host -> device: NUMA1's row reads [NUMA1][GPUx]. */
    TB_CHECK_HAS(t, "NUMA1       19.9     26.3");
    /* device -> host: NUMA1's row reads [GPUx][NUMA1] (transposed). */
    TB_CHECK_HAS(t, "NUMA1       18.5     25.7");
    /* device -> device with the device-local copy on the diagonal */
    TB_CHECK_HAS(t, "GPU0        1500      376");
    TB_CHECK_HAS(t, "GPU1         372        -");
    TB_CHECK_HAS(t, "NUMA1        SYS      PHB\nGPU0           X     NV18");
    TB_CHECK_HAS(t, "host->device         PHB      2          26.2            55.0   0.48");
    TB_CHECK_HAS(t, "device->device      NV18      2           376             376   1.00");
    TB_CHECK_HAS(t, "# no peer access GPU0 -> GPU1");
    TB_CHECK_HAS(t, "# note: NUMA1: set_mempolicy");
    TB_CHECK_HAS(t, "## n1 (rank 2): skipped: n1: no CUDA device");
    free(t);
    json_decref(entry);
}

static void test_csv(void)
{
    json_t *entry = json_loads(ENTRY, 0, NULL), *doc = doc_with(entry);
    char tmp[] = "/tmp/tb-test-gpucopy.XXXXXX", path[256], line[512];
    FILE *f;
    int rows = 0, h2d = 0, local = 0, bidir = 0, peer0 = 0;
    TB_CHECK(mkdtemp(tmp) != NULL);
    TB_CHECK_INT(tb_report_csv_write(doc, ".", tmp), TB_OK);
    snprintf(path, sizeof(path), "%s/gpu_copy-cuda-node-copies.csv", tmp);
    f = fopen(path, "r");
    TB_CHECK(f != NULL);
    while (f && fgets(line, sizeof(line), f)) {
        if (rows++ == 0) {
            TB_CHECK_STR(line, "host,rank,measurement,copy,src,dst,path,GBps,cv,expected_GBps,"
                               "peer_access\n");
            continue;
        }
        h2d += strstr(line, "n0,0,copy,host_to_device,NUMA1,GPU0,SYS,19.9,0.01,22,") == line;
        local += strstr(line, "n0,0,copy,device_local,GPU1,GPU1,X,1490,0.001,,") == line;
        bidir += strstr(line, ",bidir,device_to_device,") != NULL;
        peer0 += strstr(line, "n0,0,copy,device_to_device,GPU0,GPU1,NV18,376.4,0.002,376,0") == line;
    }
    if (f)
        fclose(f);
    /* 4 + 4 host cells, 2 local, 2 one way, 2 both ways */
    TB_CHECK_INT(rows, 1 + 14);
    TB_CHECK_INT(h2d, 1);
    TB_CHECK_INT(local, 1);
    TB_CHECK_INT(bidir, 2);
    TB_CHECK_INT(peer0, 1);
    /* summary.csv: the best one-way cell off the diagonal, the node's median cell. */
    snprintf(path, sizeof(path), "%s/summary.csv", tmp);
    f = fopen(path, "r");
    rows = 0;
    while (f && fgets(line, sizeof(line), f))
        rows += strstr(line, "gpu_copy,cuda,,,byte,,node,gpu_copy,ok,1,1048576,1048576,copy,376.4,25.6,") == line;
    if (f)
        fclose(f);
    TB_CHECK_INT(rows, 1);
    snprintf(line, sizeof(line), "rm -rf %s", tmp);
    TB_CHECK_INT(system(line), 0);
    json_decref(doc);
}

/* The word-wise fill and check write and expect tb_pattern_byte's bytes, at any length,
 * and the check finds every wrong byte with its offset. */
static void test_patterns(void)
{
    size_t n = 1000003;
    unsigned char *p = malloc(n);
    uint64_t seed = tb_pattern_seed(3, 7, n);
    tb_mismatch_t mm = {0};
    size_t bad = 0;
    TB_CHECK(p != NULL);
    if (!p)
        return;
    tb_pattern_fill_bytes(p, n, seed, 0);
    for (size_t i = 0; i < n; i++)
        bad += p[i] != tb_pattern_byte(seed, i);
    TB_CHECK_INT(bad, 0);
    tb_pattern_check_bytes(p, n, seed, 0, &mm);
    TB_CHECK_INT(mm.wrong, 0);
    p[12345] ^= 1;
    p[n - 1] ^= 0xff;
    tb_pattern_check_bytes(p, n, seed, 100, &mm);
    TB_CHECK_INT(mm.wrong, 2);
    TB_CHECK_INT(mm.first_offset, 100 + 12345);
    tb_pattern_fill_bytes(p, n, seed, 1);
    bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += p[i] != (unsigned char)~tb_pattern_byte(seed, i);
    TB_CHECK_INT(bad, 0);
    free(p);
}

int main(void)
{
    tb_log_set_identity("test", -1);
    test_validate();
    test_table();
    test_csv();
    test_patterns();
    return tb_test_done();
}
