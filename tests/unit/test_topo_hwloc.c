/* hwloc XML import (topo/discovery/hwloc.c) against every real export in fixtures/hwloc_xml. The
 * expected facts were read off each file by hand: Package and NUMANode objects, PCI
 * functions of display class from GPU vendors, network-class (02xx, 0c06) functions and
 * the names of their OpenFabrics / network OS devices, NVLinkBandwidth matrices. NICs are
 * the RDMA devices (an OpenFabrics OS device); plain Ethernet functions (I350, BCM5719,
 * the Emulex and Wi-Fi functions) are interfaces only. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb_test.h"
#include "topo.h"
#include "topo_internal.h"

typedef struct fixture_facts {
    const char *file;
    int reject;         /* XML version 3.0: refused with TB_ERR_INPUT */
    int packages, numa, gpus, nvswitches;
    const char *nics;   /* RDMA NICs: names in graph order, comma-separated */
    const char *netifs; /* interfaces (network OS devices), graph order */
    int nvlinks;        /* NVLink link entries (object pairs) */
    int nvlink_count;   /* NVLinks summed over entries */
    double nvlink_gbs;  /* GB/s of every entry (all equal in these files) */
    const char *gpu0_model;
} fixture_facts_t;

static const fixture_facts_t facts[] = {
    {"flux-sched_amd_gpu_rsmi_corona240.xml", 0, 2, 2, 8, 0, "mlx5_0", "hsi0,eno1,eno2", 0, 0, 0,
     "Radeon Instinct MI50 32GB"},
    /* 4 NUMANode elements, but nodes 1 and 3 (the memory-less 2990WX dies) have an
     * empty nodeset and hwloc 2 drops them. */
    {"flux-sched_multi_gpu_types_chimera.xml", 0, 1, 2, 2, 0, "", "enp4s0,wlp5s0,enp6s0", 0, 0, 0,
     "GeForce GTX 1070"},
    {"hwloc-master-v3-linux_32em64t-2n8c+dax+nvme+mic+dimms.xml", 1, 0, 0, 0, 0, NULL, NULL, 0, 0, 0,
     NULL},
    {"hwloc-master-v3-linux_40intel64-2g2n4c+pcilocality.xml", 1, 0, 0, 0, 0, NULL, NULL, 0, 0, 0,
     NULL},
    {"hwloc-master-v3_nvidiaDGX2.xml", 1, 0, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL},
    {"hwloc-master-v3_power8gpudistances.xml", 1, 0, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL},
    {"hwloc-v2x_24em64t-2n6c2t-pci.xml", 0, 2, 2, 3, 0, "mlx4_0", "eth0,eth1,eth2,ib0", 0, 0, 0,
     "10de:06d2"},
    {"hwloc-v2x_32em64t-2n8c2t-pci-normalio.xml", 0, 2, 2, 4, 0, "mlx5_0", "eth0,eth1,ib0", 0, 0, 0,
     "Tesla M2075 Dual-Slot Computing Processor Module"},
    {"hwloc-v2x_32em64t-2n8c2t-pci-wholeio.xml", 0, 2, 2, 4, 0, "mlx5_0", "eth0,eth1,ib0", 0, 0, 0,
     "Tesla M2075 Dual-Slot Computing Processor Module"},
    /* 16 GPUs x 6 NVSwitches, one NVLink2 (25000 MB/s) each. */
    {"hwloc-v2x_nvidiaDGX2.xml", 0, 2, 2, 16, 12, "", "", 96, 96, 25.0, "Tesla V100-SXM3-32GB-H"},
    /* GPU pairs 0-1, 2-3 and each GPU to its package: 40000 MB/s = 2 NVLink1 links. */
    {"hwloc-v2x_power8gpudistances.xml", 0, 2, 2, 4, 0, "", "", 6, 12, 40.0, "Tesla P100-SXM2-16GB"},
    /* hwloc 1.11 export; the two FirePro (1002:67a0, class 0380) carry only DRM osdevs. */
    {"mpibind_arm64-ulna-hwloc1.xml", 0, 2, 2, 2, 0, "mlx5_0,mlx5_1,mlx5_2,mlx5_3",
     "hsi0,enp22s0f0,enp22s0f1,hsi1", 0, 0, 0,
     "1002:67a0"},
    {"mpibind_coral-lassen.xml", 0, 2, 2, 4, 0, "mlx5_0,mlx5_1,mlx5_2,mlx5_3",
     "hsi0,hsi1,enP5p1s0f0,enP5p1s0f1,hsi2,hsi3", 0, 0, 0, "Tesla V100-SXM2-16GB"},
    {"mpibind_cts1-pascal.xml", 0, 2, 2, 2, 0, "mlx5_0", "hsi0,enp12s0f0,enp12s0f1", 0, 0, 0,
     "Tesla P100-PCIE-16GB"},
    {"mpibind_cts1-quartz-smt1.xml", 0, 2, 2, 0, 0, "hfi1_0",
     "eno1,aci0,ens786f0,ens786f1,hsi0", 0, 0,
     0, NULL},
    {"mpibind_epyc-corona-p2.xml", 0, 2, 2, 8, 0, "mlx5_0", "hsi0,eno1,eno2", 0, 0, 0,
     "Radeon Instinct MI50 32GB"},
    {"mpibind_epyc-corona.xml", 0, 2, 8, 4, 0, "mlx5_0", "enp3s0f0,enp3s0f1,hsi0", 0, 0, 0, "Vega 20"},
};

static int find_bus(const tb_topo_t *topo, const char *busid)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (strcmp(topo->objs[i].busid, busid) == 0)
            return (int)i;
    return -1;
}

/* Runs the import with stderr captured, so that rejection messages can be checked. */
static tb_status_t import_capture(const char *path, tb_topo_t *topo, char *err, size_t len)
{
    char tmpl[] = "/tmp/tb_topo_hwloc_XXXXXX";
    int fd = mkstemp(tmpl), saved;
    tb_status_t st;
    ssize_t n;
    err[0] = '\0';
    if (fd < 0)
        return tb_topo_from_hwloc(topo, path);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    st = tb_topo_from_hwloc(topo, path);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, err, len - 1);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(tmpl);
    return st;
}

static void check_fixture(const fixture_facts_t *f)
{
    char path[1024], err[2048], names[512] = "";
    tb_topo_t *topo = NULL;
    tb_status_t st;
    int nvl = 0, nvcount = 0;

    snprintf(path, sizeof(path), "%s/hwloc_xml/%s", TB_FIXTURES_DIR, f->file);
    if (tb_topo_create(&topo) != TB_OK) {
        TB_CHECK(!"tb_topo_create");
        return;
    }
    st = import_capture(path, topo, err, sizeof(err));
    if (f->reject) {
        TB_CHECK_INT(st, TB_ERR_INPUT);
        TB_CHECK(strstr(err, f->file) != NULL);
        TB_CHECK(strstr(err, "newer hwloc (3.x)") != NULL);
        TB_CHECK(strstr(err, "version 3.0") != NULL);
        tb_topo_destroy(topo);
        topo = NULL;
        fflush(stderr);
        TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &topo), TB_ERR_INPUT);
        tb_topo_destroy(topo);
        return;
    }
    TB_CHECK_INT(st, TB_OK);
    if (st != TB_OK) {
        fprintf(stderr, "%s: %s\n", f->file, err);
        tb_topo_destroy(topo);
        return;
    }
    fprintf(stderr, "%s: %s\n", f->file, topo->nnotes ? topo->notes[topo->nnotes - 1] : "");
    TB_CHECK_INT(tb_topo_count(topo, TB_OBJ_MACHINE), 1);
    TB_CHECK_INT(tb_topo_count(topo, TB_OBJ_PACKAGE), f->packages);
    TB_CHECK_INT(tb_topo_count(topo, TB_OBJ_NUMA), f->numa);
    TB_CHECK_INT(tb_topo_count(topo, TB_OBJ_GPU), f->gpus);
    TB_CHECK_INT(tb_topo_count(topo, TB_OBJ_NVSWITCH), f->nvswitches);
    for (size_t i = 0; i < tb_topo_count(topo, TB_OBJ_NIC); i++) {
        const tb_topo_obj_t *o = &topo->objs[tb_topo_nth(topo, TB_OBJ_NIC, i)];
        if (i)
            strcat(names, ",");
        strncat(names, o->name, sizeof(names) - strlen(names) - 1);
    }
    TB_CHECK_STR(names, f->nics);
    names[0] = '\0';
    for (size_t i = 0; i < topo->nnetifs; i++) {
        if (i)
            strcat(names, ",");
        strncat(names, topo->netifs[i].name, sizeof(names) - strlen(names) - 1);
    }
    TB_CHECK_STR(names, f->netifs);
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        if (l->kind != TB_LINK_NVLINK)
            continue;
        nvl++;
        nvcount += l->count;
        TB_CHECK_NEAR(l->gbs, f->nvlink_gbs, 1e-9);
        TB_CHECK_INT(l->active, 1);
    }
    TB_CHECK_INT(nvl, f->nvlinks);
    TB_CHECK_INT(nvcount, f->nvlink_count);
    if (f->gpu0_model)
        TB_CHECK_STR(topo->objs[tb_topo_nth(topo, TB_OBJ_GPU, 0)].model, f->gpu0_model);
    /* The same file through the public importer (format sniffing, then the model). */
    {
        tb_topo_t *imported = NULL;
        TB_CHECK_INT(tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &imported), TB_OK);
        if (imported) {
            TB_CHECK_INT(tb_topo_count(imported, TB_OBJ_GPU), f->gpus);
            TB_CHECK_INT(tb_topo_count(imported, TB_OBJ_NIC),
                         tb_topo_count(topo, TB_OBJ_NIC));
            tb_topo_destroy(imported);
        }
    }
    /* Every object's parent is a valid index and leads to the root; only the root has
     * -1. (GPUs are reordered into their numbers, so a parent may come after a GPU.) */
    for (size_t i = 0; i < topo->nobjs; i++) {
        int p = topo->objs[i].parent, steps = 0;
        TB_CHECK(i == 0 ? p == -1 : (p >= 0 && p < (int)topo->nobjs && p != (int)i));
        while (p > 0 && steps++ < (int)topo->nobjs)
            p = topo->objs[p].parent;
        TB_CHECK(i == 0 || p == 0);
    }
    tb_topo_destroy(topo);
}

static tb_topo_t *load(const char *file)
{
    char path[1024];
    tb_topo_t *topo = NULL;
    snprintf(path, sizeof(path), "%s/hwloc_xml/%s", TB_FIXTURES_DIR, file);
    if (tb_topo_create(&topo) != TB_OK)
        return NULL;
    if (tb_topo_from_hwloc(topo, path) != TB_OK) {
        tb_topo_destroy(topo);
        return NULL;
    }
    return topo;
}

/* Details of individual files: quirks listed in CATALOG.md. */
static void check_details(void)
{
    tb_topo_t *t;
    int i, j;

    /* DGX-2: each GPU has 6 NVLinks, one to each NVSwitch of its board; the switch with
     * pci_type 0000 [0000:0000] is still an NVSwitch (hwloc subtype). */
    if ((t = load("hwloc-v2x_nvidiaDGX2.xml"))) {
        int per_gpu[128] = {0};
        i = find_bus(t, "0000:66:00.0");
        TB_CHECK(i >= 0 && t->objs[i].kind == TB_OBJ_NVSWITCH);
        for (size_t k = 0; k < t->nlinks; k++) {
            const tb_topo_link_t *l = &t->links[k];
            TB_CHECK(t->objs[l->a].kind == TB_OBJ_GPU && t->objs[l->b].kind == TB_OBJ_NVSWITCH);
            TB_CHECK_INT(l->version, 2);
            if (l->a < 128)
                per_gpu[l->a] += l->count;
        }
        for (size_t g = 0; g < tb_topo_count(t, TB_OBJ_GPU); g++)
            TB_CHECK_INT(per_gpu[tb_topo_nth(t, TB_OBJ_GPU, g)], 6);
        i = find_bus(t, "0000:34:00.0");
        TB_CHECK(i >= 0 && t->objs[i].kind == TB_OBJ_GPU);
        if (i >= 0) {
            TB_CHECK_STR(t->objs[i].uuid, "GPU-d3977428-7a30-086b-2e20-5c1eeed647c6");
            TB_CHECK_INT(t->objs[i].os_index, 0);
            TB_CHECK_INT(t->objs[i].link_gen, 3);
            TB_CHECK_INT(t->objs[i].link_width, 16);
            TB_CHECK_NEAR(t->objs[i].link_gbs, 15.753846, 1e-5);
            TB_CHECK_INT(t->objs[i].numa, 0);
            /* 6 bridge levels in the file (depth 0-5): the host bridge, the root port and
             * two PLX 9781 switches of an upstream and a downstream port each. The model
             * keeps one bridge per switch. */
            j = t->objs[i].parent;
            for (int depth = 0; depth < 2 && j >= 0; depth++) {
                TB_CHECK_INT(t->objs[j].kind, TB_OBJ_BRIDGE);
                j = t->objs[j].parent;
            }
            TB_CHECK(j >= 0 && t->objs[j].kind == TB_OBJ_HOSTBRIDGE);
        }
        TB_CHECK(strstr(t->cpu_model, "8174") != NULL);
        tb_topo_destroy(t);
    }

    /* POWER8: NVLink1 to the CPU, so two of the links end at packages. */
    if ((t = load("hwloc-v2x_power8gpudistances.xml"))) {
        int to_cpu = 0;
        for (size_t k = 0; k < t->nlinks; k++) {
            to_cpu += t->objs[t->links[k].b].kind == TB_OBJ_PACKAGE;
            TB_CHECK_INT(t->links[k].count, 2);
            TB_CHECK_INT(t->links[k].version, 1);
        }
        TB_CHECK_INT(to_cpu, 4);
        tb_topo_destroy(t);
    }

    /* Lassen: dual-port ConnectX-5 as two functions under one bridge, one per socket;
     * GPUs behind PLX ports whose own uplinks are x4/x2 Gen3. */
    if ((t = load("mpibind_coral-lassen.xml"))) {
        i = tb_topo_find(t, "mlx5_0");
        j = tb_topo_find(t, "mlx5_1");
        TB_CHECK(i >= 0 && j >= 0);
        if (i >= 0 && j >= 0) {
            TB_CHECK_STR(t->objs[i].busid, "0003:01:00.0");
            TB_CHECK_STR(t->objs[j].busid, "0003:01:00.1");
            TB_CHECK_INT(t->objs[i].parent, t->objs[j].parent);
            TB_CHECK_INT(t->objs[i].numa, 0);
            TB_CHECK(t->objs[i].cpuset[0] != '\0'); /* near cores of socket 0 */
            TB_CHECK_INT(t->objs[i].nports, 1);
            TB_CHECK_STR(t->objs[i].ports[0].state, "ACTIVE");
            TB_CHECK_INT(t->objs[i].ports[0].lid, 0x527);
            TB_CHECK_STR(t->objs[i].ports[0].netdev, "hsi0");
            TB_CHECK_INT(t->objs[i].ports[0].ngids, 1);
        }
        i = tb_topo_find(t, "mlx5_2");
        TB_CHECK(i >= 0 && t->objs[i].numa == 8);
        i = find_bus(t, "0004:04:00.0");
        TB_CHECK(i >= 0 && t->objs[i].kind == TB_OBJ_GPU);
        if (i >= 0) {
            j = t->objs[i].parent;
            TB_CHECK(j >= 0 && t->objs[j].kind == TB_OBJ_BRIDGE);
            TB_CHECK(j >= 0 && t->objs[j].link_width < 16 && t->objs[j].link_gbs < 4);
        }
        tb_topo_destroy(t);
    }

    /* Pascal: both GPUs and the HCA below one PLX 8796 switch. */
    if ((t = load("mpibind_cts1-pascal.xml"))) {
        int g0 = tb_topo_nth(t, TB_OBJ_GPU, 0), g1 = tb_topo_nth(t, TB_OBJ_GPU, 1);
        int nic = tb_topo_find(t, "mlx5_0");
        TB_CHECK(g0 >= 0 && g1 >= 0 && nic >= 0);
        if (g0 >= 0 && g1 >= 0 && nic >= 0) {
            int s0 = t->objs[g0].parent;
            tb_topo_path_t path;
            TB_CHECK_INT(t->objs[g1].parent, s0);
            TB_CHECK_INT(t->objs[nic].parent, s0);
            TB_CHECK_INT(t->objs[s0].kind, TB_OBJ_BRIDGE);
            tb_topo_path(t, g0, nic, &path);
            TB_CHECK_STR(tb_path_class_name(path.cls), "PIX");
            tb_topo_path(t, g0, g1, &path);
            TB_CHECK_STR(tb_path_class_name(path.cls), "PIX");
            TB_CHECK(strstr(t->objs[s0].model, "8796") != NULL ||
                     strstr(t->objs[s0].model, "PEX") != NULL);
        }
        tb_topo_destroy(t);
    }

    /* Corona (MI50): ConnectX-6 on the Gen4 root; rsmi's cut "deon Instinct" repaired. */
    if ((t = load("mpibind_epyc-corona-p2.xml"))) {
        i = tb_topo_find(t, "mlx5_0");
        TB_CHECK(i >= 0);
        if (i >= 0) {
            TB_CHECK_INT(t->objs[i].link_gen, 4);
            TB_CHECK_INT(t->objs[i].link_width, 16);
            TB_CHECK_NEAR(t->objs[i].link_gbs, 31.5, 0.05);
        }
        tb_topo_destroy(t);
    }

    /* 8 NUMA nodes (NPS4 x 2): GPUs and the HCA sit below distinct nodes. */
    if ((t = load("mpibind_epyc-corona.xml"))) {
        static const int gpu_numa[] = {1, 2, 5, 7};
        for (size_t g = 0; g < 4; g++) {
            i = tb_topo_nth(t, TB_OBJ_GPU, g);
            TB_CHECK(i >= 0 && t->objs[i].numa == gpu_numa[g]);
            if (i >= 0) {
                /* the chain up reaches the NUMA object of that number */
                j = t->objs[i].parent;
                while (j >= 0 && t->objs[j].kind != TB_OBJ_NUMA)
                    j = t->objs[j].parent;
                TB_CHECK(j >= 0 && t->objs[j].os_index == gpu_numa[g]);
            }
        }
        i = tb_topo_find(t, "mlx5_0");
        TB_CHECK(i >= 0 && t->objs[i].numa == 3);
        i = tb_topo_nth(t, TB_OBJ_NUMA, 0);
        TB_CHECK(i >= 0 && t->objs[i].memory_bytes > 0 && t->objs[i].cpuset[0]);
        tb_topo_destroy(t);
    }

    /* pci_link_speed 0 means unknown: no generation is invented. */
    if ((t = load("hwloc-v2x_32em64t-2n8c2t-pci-normalio.xml"))) {
        i = tb_topo_find(t, "mlx5_0");
        TB_CHECK(i >= 0 && t->objs[i].link_gbs == 0 && t->objs[i].link_gen == 0);
        i = find_bus(t, "0000:84:00.0"); /* K40m with its CUDA osdev */
        TB_CHECK(i >= 0 && strcmp(t->objs[i].model, "Tesla K40m") == 0);
        tb_topo_destroy(t);
    }

    /* Old mlx4 HCA of class 0c06 at 2.0 GB/s; the ATI ES1000 management VGA is no GPU. */
    if ((t = load("hwloc-v2x_24em64t-2n6c2t-pci.xml"))) {
        i = tb_topo_find(t, "mlx4_0");
        TB_CHECK(i >= 0 && t->objs[i].link_gbs == 2.0);
        i = find_bus(t, "0000:01:03.0");
        TB_CHECK(i >= 0 && t->objs[i].kind == TB_OBJ_PCIDEV);
        tb_topo_destroy(t);
    }

    /* hwloc 1.x export: an Ethernet (RoCE) port of a dual-port HCA is down. */
    if ((t = load("mpibind_arm64-ulna-hwloc1.xml"))) {
        i = tb_topo_find(t, "mlx5_2");
        TB_CHECK(i >= 0 && t->objs[i].nports == 1 && strcmp(t->objs[i].ports[0].state, "DOWN") == 0);
        tb_topo_destroy(t);
    }
}

/* Every file of the directory is covered by the table, so a new fixture is not skipped. */
static void check_table_covers_directory(void)
{
    char dir[1024];
    DIR *d;
    struct dirent *e;
    snprintf(dir, sizeof(dir), "%s/hwloc_xml", TB_FIXTURES_DIR);
    d = opendir(dir);
    TB_CHECK(d != NULL);
    if (!d)
        return;
    while ((e = readdir(d))) {
        int found = 0;
        if (!strstr(e->d_name, ".xml"))
            continue;
        for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
            found |= strcmp(facts[i].file, e->d_name) == 0;
        if (!found)
            fprintf(stderr, "fixture %s has no facts in the table\n", e->d_name);
        TB_CHECK(found);
    }
    closedir(d);
}

static void check_bad_files(void)
{
    char path[] = "/tmp/tb_topo_hwloc_bad_XXXXXX";
    char err[2048];
    tb_topo_t *topo = NULL;
    int fd;
    if (tb_topo_create(&topo) != TB_OK)
        return;
    TB_CHECK_INT(import_capture("/nonexistent/topo.xml", topo, err, sizeof(err)), TB_ERR_INPUT);
    TB_CHECK(strstr(err, "/nonexistent/topo.xml") != NULL);
    fd = mkstemp(path);
    if (fd >= 0) {
        static const char junk[] = "<?xml version=\"1.0\"?>\n<topology version=\"2.0\">\n<object";
        TB_CHECK(write(fd, junk, sizeof(junk) - 1) == (ssize_t)(sizeof(junk) - 1));
        close(fd);
        TB_CHECK_INT(import_capture(path, topo, err, sizeof(err)), TB_ERR_INPUT);
        TB_CHECK(strstr(err, path) != NULL);
        unlink(path);
    }
    /* A cpuset without complete_cpuset crashes hwloc 2.9's importer (found by fuzzing). */
    memcpy(path + strlen(path) - 6, "XXXXXX", 6);
    fd = mkstemp(path);
    if (fd >= 0) {
        static const char bad[] =
            "<?xml version=\"1.0\"?>\n<topology version=\"2.0\">\n"
            "<object type=\"Machine\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\"\n"
            " nodeset=\"0x1\" complete_nodeset=\"0x1\" gp_index=\"1\">\n"
            "<object type=\"Core\" os_index=\"0\" cpuset=\"0x3\" nodeset=\"0x1\"\n"
            " complete_nodeset=\"0x1\" gp_index=\"2\"/>\n</object>\n</topology>\n";
        TB_CHECK(write(fd, bad, sizeof(bad) - 1) == (ssize_t)(sizeof(bad) - 1));
        close(fd);
        TB_CHECK_INT(import_capture(path, topo, err, sizeof(err)), TB_ERR_INPUT);
        TB_CHECK(strstr(err, ":6: object with a cpuset but no complete_cpuset") != NULL);
        unlink(path);
    }
    tb_topo_destroy(topo);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
        check_fixture(&facts[i]);
    check_details();
    check_table_covers_directory();
    check_bad_files();
    return tb_test_done();
}
