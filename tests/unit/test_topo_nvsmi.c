/* nvidia-smi topo -m importer against every file in fixtures/nvidia_smi_topo, with facts
 * read off each file by hand, plus synthetic inputs: ANSI colours, tabs, a NIC legend. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tb_test.h"
#include "tb_test_topo.h"
#include "topo.h"

#define FIX TB_FIXTURES_DIR "/nvidia_smi_topo/"
#define DATA TB_TEST_DATA_DIR "/topo/"

typedef struct pair_fact {
    const char *a, *b, *cls;
    int nvlinks;
} pair_fact_t;

typedef struct file_fact {
    const char *file;
    int gpus, nics;
    pair_fact_t pairs[4];
    const char *finding;
    int nfinding;
    int nfindings_total;
    const char *gpu0_cpus; /* CPU affinity of GPU0 */
    int gpu0_numa;
} file_fact_t;

static const file_fact_t facts[] = {
    /* Header GPU0-7, NIC0-9; rows GPU0-5 only. */
    {"NVIDIA-DCGM-issue149_DGX-A100-320GB_NV12-10NIC-PXB_PARTIAL-rows-GPU0-5.txt", 8, 10,
     {{"GPU0", "GPU7", "NV", 12}, {"GPU0", "NIC0", "PXB", 0}, {"GPU4", "NIC5", "PXB", 0},
      {"GPU6", "GPU7", "?", 0}},
     "topo_partial", 1, 1, "48-63,176-191", 3},
    /* Header GPU0-7, NIC0-8; rows GPU0-6; every GPU pair NV8. */
    {"NVIDIA-nccl-issue933_8xA800-NV8-9NIC_PIX-NODE-SYS_PARTIAL-rows-GPU0-6.txt", 8, 9,
     {{"GPU0", "GPU1", "NV", 8}, {"GPU0", "NIC2", "PIX", 0}, {"GPU0", "NIC0", "NODE", 0},
      {"GPU4", "NIC0", "SYS", 0}},
     "nvlink_count", 1, 2, "0-47,96-143", 0},
    {"gqcn-johns-blog_8xGPU-PCIe-switch-pairs_PIX-NODE-SYS_XeonGold6430.txt", 8, 0,
     {{"GPU0", "GPU1", "PIX", 0}, {"GPU0", "GPU2", "NODE", 0}, {"GPU0", "GPU4", "SYS", 0},
      {"GPU6", "GPU7", "PIX", 0}},
     NULL, 0, 0, "0-31,64-95", 0},
    {"noonghunna-club-3090-issue1229_2xRTX5090_PHB.txt", 2, 0, {{"GPU0", "GPU1", "PHB", 0}},
     NULL, 0, 0, "0-63", 0},
    /* topo -p2p rw: GNS = GPU not supported. */
    {"noonghunna-club-3090-issue1229_2xRTX5090_topo-p2p-rw_GNS.txt", 2, 0,
     {{"GPU0", "GPU1", "?", 0}}, "no_p2p", 1, 1, "", -1},
    {"stas00-ml-engineering_2GPU-NVLink-bridge_NV2.txt", 2, 0, {{"GPU0", "GPU1", "NV", 2}},
     NULL, 0, 0, "0-23", -1},
    {"stas00-ml-engineering_2GPU-consumer_PHB.txt", 2, 0, {{"GPU1", "GPU0", "PHB", 0}}, NULL,
     0, 0, "0-11", -1},
    {"stas00-ml-engineering_8xA100-SXM_NV12.txt", 8, 0,
     {{"GPU0", "GPU7", "NV", 12}, {"GPU3", "GPU4", "NV", 12}}, NULL, 0, 0, "0-23", 0},
    {"stas00-ml-engineering_8xH100-SXM_NV18.txt", 8, 0, {{"GPU0", "GPU7", "NV", 18}}, NULL, 0,
     0, "0-51", 0},
    {"stas00-ml-engineering_8xH100-SXM_NV18_HT-affinity.txt", 8, 0,
     {{"GPU5", "GPU6", "NV", 18}}, NULL, 0, 0, "0-51,104-155", 0},
    /* NIC legend names NIC0/1 mlx5_0/1; NIC rows present. */
    /* Both GPUs reach the ConnectX pair through NODE: GPUDirect RDMA is off by default. */
    {"stelline_Puget-ThreadripperPRO-WRX90_2xRTX6000Ada-2xmlx5_PHB.txt", 2, 2,
     {{"GPU0", "GPU1", "PHB", 0}, {"GPU0", "mlx5_0", "NODE", 0}, {"mlx5_0", "mlx5_1", "PIX", 0}},
     "gdr_off_by_default", 2, 2, "0-23", 0},
};

static void test_fixtures(void)
{
    for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
        const file_fact_t *f = &facts[i];
        char path[512];
        tb_topo_t *t = NULL;
        int g0;
        snprintf(path, sizeof(path), FIX "%s", f->file);
        TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &t), TB_OK);
        if (!t) {
            fprintf(stderr, "%s: not imported\n", f->file);
            continue;
        }
        TB_CHECK_STR(t->source, "nvidia-smi");
        TB_CHECK_INT(tb_topo_count(t, TB_OBJ_GPU), f->gpus);
        TB_CHECK_INT(tb_topo_count(t, TB_OBJ_NIC), f->nics);
        for (size_t k = 0; k < 4 && f->pairs[k].a; k++) {
            int a = tb_topo_find(t, f->pairs[k].a), b = tb_topo_find(t, f->pairs[k].b);
            tb_topo_path_t p;
            TB_CHECK(a >= 0 && b >= 0);
            if (a < 0 || b < 0)
                continue;
            tb_topo_path(t, a, b, &p);
            if (strcmp(tb_path_class_name(p.cls), f->pairs[k].cls) != 0)
                fprintf(stderr, "%s: %s-%s\n", f->file, f->pairs[k].a, f->pairs[k].b);
            TB_CHECK_STR(tb_path_class_name(p.cls), f->pairs[k].cls);
            if (p.cls == TB_PATH_NV)
                TB_CHECK_INT(p.nvlinks, f->pairs[k].nvlinks);
        }
        if (f->finding)
            TB_CHECK_INT((int)tb_topo_count_findings(t, f->finding), f->nfinding);
        if (t->nfindings != (size_t)f->nfindings_total)
            for (size_t k = 0; k < t->nfindings; k++)
                fprintf(stderr, "%s: finding %s\n", f->file, t->findings[k].code);
        TB_CHECK_INT(t->nfindings, f->nfindings_total);
        g0 = tb_topo_find(t, "GPU0");
        if (g0 >= 0) {
            TB_CHECK_STR(t->objs[g0].cpuset, f->gpu0_cpus);
            TB_CHECK_INT(t->objs[g0].numa, f->gpu0_numa);
        }
        tb_topo_destroy(t);
    }
}

static tb_topo_t *import_text(const char *text)
{
    tb_topo_t *t = NULL;
    if (tb_test_import_text(text, TB_TOPO_FMT_AUTO, &t, NULL, 0) != TB_OK)
        return NULL;
    return t;
}

static void test_ansi_and_legend(void)
{
    /* What a pasted coloured terminal capture looks like. */
    const char *text =
        "\t\x1b[4mGPU0\tGPU1\tNIC0\tCPU Affinity\tNUMA Affinity\x1b[0m\n"
        "\x1b[1mGPU0\x1b[0m\t X \tNV4\tPIX\t0-7\t0\n"
        "\x1b[1mGPU1\x1b[0m\tNV4\t X \tSYS\t8-15\t1\n"
        "\x1b[1mNIC0\x1b[0m\tPIX\tSYS\t X \n\nLegend:\n\n  X    = Self\n\nNIC Legend:\n\n"
        "  NIC0: mlx5_3\n";
    tb_topo_t *t = import_text(text);
    TB_CHECK(t != NULL);
    if (!t)
        return;
    TB_CHECK_INT(tb_topo_count(t, TB_OBJ_GPU), 2);
    TB_CHECK_INT(tb_topo_count(t, TB_OBJ_NIC), 1);
    TB_CHECK(tb_topo_find(t, "mlx5_3") >= 0);
    {
        tb_topo_path_t p;
        int nics[2];
        tb_topo_path(t, tb_topo_find(t, "GPU0"), tb_topo_find(t, "GPU1"), &p);
        TB_CHECK_INT(p.cls, TB_PATH_NV);
        TB_CHECK_INT(p.nvlinks, 4);
        TB_CHECK_NEAR(p.theoretical_gbs, 100.0, 1e-9);
        TB_CHECK_INT(tb_topo_nearest_nics(t, tb_topo_find(t, "GPU0"), nics, 2), 1);
        TB_CHECK_INT(nics[0], tb_topo_find(t, "mlx5_3"));
        TB_CHECK_INT(t->objs[tb_topo_find(t, "mlx5_3")].numa, 0);
        /* GPU1's only NIC is across the sockets. */
        TB_CHECK_INT(t->nfindings, 1);
        if (t->nfindings)
            TB_CHECK_STR(t->findings[0].code, "gpu_nic_far");
    }
    tb_topo_destroy(t);
}

static void test_nvlink_down_pair(void)
{
    /* Four NVSwitch GPUs where one pair lost links. */
    const char *text = "      GPU0  GPU1  GPU2  GPU3  CPU Affinity  NUMA Affinity\n"
                       "GPU0   X    NV18  NV18  NV18  0-7  0\n"
                       "GPU1  NV18   X    NV18  NV16  0-7  0\n"
                       "GPU2  NV18  NV18   X    NV18  0-7  0\n"
                       "GPU3  NV18  NV16  NV18   X    0-7  0\n";
    tb_topo_t *t = import_text(text);
    TB_CHECK(t != NULL);
    if (!t)
        return;
    TB_CHECK_INT((int)tb_topo_count_findings(t, "nvlink_down"), 1);
    TB_CHECK_INT((int)tb_topo_count_findings(t, "nvlink_count"), 0);
    tb_topo_destroy(t);
}

/* Imports `text` as nvidia-smi text; what was logged (the error message) goes to msg. */
static tb_status_t import_text_msg(const char *text, char *msg, size_t len)
{
    tb_topo_t *t = NULL;
    tb_status_t st = tb_test_import_text(text, TB_TOPO_FMT_NVSMI, &t, msg, len);
    tb_topo_destroy(t);
    return st;
}

static void check_class(const tb_topo_t *t, const char *a, const char *b, const char *cls,
                        int nvlinks)
{
    int ia = tb_topo_find(t, a), ib = tb_topo_find(t, b);
    tb_topo_path_t p;
    TB_CHECK(ia >= 0 && ib >= 0);
    if (ia < 0 || ib < 0)
        return;
    tb_topo_path(t, ia, ib, &p);
    TB_CHECK_STR(tb_path_class_name(p.cls), cls);
    TB_CHECK_INT(p.nvlinks, nvlinks);
}

/* Issue 7, shape 2: the matrix pasted as a Markdown table (wikis, cluster docs), read by
 * auto-detection and with --format nvsmi alike. */
static void test_markdown(void)
{
    static const tb_topo_format_t formats[] = {TB_TOPO_FMT_AUTO, TB_TOPO_FMT_NVSMI};
    for (size_t f = 0; f < 2; f++) {
        tb_topo_t *t = NULL;
        int g, nics[2];
        /* | |GPU0|...|mlx5_1|CPU Affinity|NUMA Affinity| with a |---| rule, NIC columns named
         * by device and no NIC legend. */
        TB_CHECK_INT(tb_topo_import_file(DATA "nvsmi_markdown_4xH100_mlx5.md", formats[f], &t),
                     TB_OK);
        if (!t)
            continue;
        TB_CHECK_STR(t->source, "nvidia-smi");
        TB_CHECK_INT(tb_topo_count(t, TB_OBJ_GPU), 4);
        TB_CHECK_INT(tb_topo_count(t, TB_OBJ_NIC), 2);
        check_class(t, "GPU0", "GPU3", "NV", 18);
        check_class(t, "GPU0", "mlx5_0", "PIX", 0);
        check_class(t, "GPU1", "mlx5_0", "PXB", 0);
        check_class(t, "GPU3", "mlx5_0", "SYS", 0);
        check_class(t, "mlx5_0", "mlx5_1", "SYS", 0);
        g = tb_topo_find(t, "GPU2");
        TB_CHECK_STR(t->objs[g].cpuset, "56-111,168-223");
        TB_CHECK_INT(t->objs[g].numa, 1);
        TB_CHECK_INT(t->objs[tb_topo_find(t, "mlx5_1")].numa, 1);
        TB_CHECK(tb_topo_nearest_nics(t, g, nics, 2) >= 1);
        TB_CHECK_INT(nics[0], tb_topo_find(t, "mlx5_1"));
        TB_CHECK_INT(t->nfindings, 0);
        tb_topo_destroy(t);

        /* Affinity columns first, the row label in the third cell under an empty header
         * cell, bold labels, alignment colons, an HTML <details> wrapper. */
        t = NULL;
        TB_CHECK_INT(
            tb_topo_import_file(DATA "nvsmi_markdown_affinity_first.md", formats[f], &t), TB_OK);
        if (!t)
            continue;
        TB_CHECK_INT(tb_topo_count(t, TB_OBJ_GPU), 2);
        TB_CHECK_INT(tb_topo_count(t, TB_OBJ_NIC), 2);
        check_class(t, "GPU0", "GPU1", "SYS", 0);
        check_class(t, "GPU0", "mlx5_0", "NODE", 0);
        check_class(t, "GPU1", "mlx5_1", "NODE", 0);
        check_class(t, "mlx5_0", "GPU1", "SYS", 0);
        g = tb_topo_find(t, "GPU1");
        TB_CHECK_STR(t->objs[g].cpuset, "32-63,96-127");
        TB_CHECK_INT(t->objs[g].numa, 1);
        TB_CHECK_INT(t->objs[tb_topo_find(t, "GPU0")].numa, 0);
        /* Each GPU's NIC is NODE away: GPUDirect RDMA off by default, nothing else. */
        TB_CHECK_INT((int)tb_topo_count_findings(t, "gdr_off_by_default"), 2);
        TB_CHECK_INT(t->nfindings, 2);
        tb_topo_destroy(t);
    }
    {
        /* A header without the label's empty cell lists only the columns after it. */
        tb_topo_t *t = import_text("|GPU0|GPU1|CPU Affinity|\n|---|---|---|\n"
                                   "|GPU0|X|NV4|0-7|\n|GPU1|NV4|X|8-15|\n");
        TB_CHECK(t != NULL);
        if (t) {
            check_class(t, "GPU0", "GPU1", "NV", 4);
            TB_CHECK_STR(t->objs[tb_topo_find(t, "GPU1")].cpuset, "8-15");
            tb_topo_destroy(t);
        }
    }
}

/* What cannot be read is named by file, line and column. */
static void test_markdown_errors(void)
{
    char msg[1024];
    TB_CHECK_INT(import_text_msg("| |GPU0|GPU1|\n|---|---|---|\n|GPU0|X|NV1B|\n|GPU1|NV4|X|\n",
                                 msg, sizeof(msg)),
                 TB_ERR_INPUT);
    TB_CHECK(strstr(msg, ":3: row GPU0, column GPU1: \"NV1B\" is not a path class") != NULL);
    TB_CHECK_INT(import_text_msg("| |GPU0|GPU1|\n|---|---|---|\n|GPU0|X|NV4|\n"
                                 "|GPU1|NV4|X|PIX|0-7|\n",
                                 msg, sizeof(msg)),
                 TB_ERR_INPUT);
    TB_CHECK(strstr(msg, ":4: row GPU1 has 5 cells, the header (line 1) has 3") != NULL);
    /* Plain text (and a Markdown table without GPU0) says what header it looked for. */
    TB_CHECK_INT(import_text_msg("| a | b |\n|---|---|\n| 1 | 2 |\n", msg, sizeof(msg)),
                 TB_ERR_INPUT);
    TB_CHECK(strstr(msg, "no nvidia-smi topo matrix header") != NULL);
    TB_CHECK(strstr(msg, "Markdown") != NULL);
}

static void test_rejects(void)
{
    tb_topo_t *t = import_text("no matrix here\njust text\n");
    TB_CHECK(t == NULL);
    t = import_text("        GPU0    GPU1\n");
    TB_CHECK(t == NULL);
}

int main(void)
{
    tb_log_set_level(TB_LOG_ERROR);
    test_fixtures();
    test_ansi_and_legend();
    test_nvlink_down_pair();
    test_rejects();
    test_markdown();
    test_markdown_errors();
    return tb_test_done();
}
