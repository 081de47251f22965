/* NVML source: loads libnvidia-ml.so.1 at run time (no CUDA toolkit or driver needed to
 * build) and completes the NVIDIA GPUs of the graph: name, UUID, PCIe generation and
 * width (current and maximum), near cores, NVLinks with their state, version and remote
 * end (GPU, NVSwitch or CPU), and GPU pairs without peer-to-peer access.
 *
 * No NVML header is available, so the few types and entry points used are declared here
 * from NVML's documented ABI. TOPOBENCH_NVML_LIB names another library (the tests' fake). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "topo_internal.h"

/* --- the NVML ABI subset --- */
typedef int nvml_ret_t; /* nvmlReturn_t: 0 success */
typedef struct nvml_device *nvml_dev_t;
typedef struct nvml_pci {
    char bus_id_legacy[16];
    unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32]; /* "00000000:1B:00.0" */
} nvml_pci_t;

enum {
    NVML_OK = 0,
    NVML_FEATURE_ENABLED = 1,
    NVML_NVLINK_MAX_LINKS = 18,
    NVML_P2P_CAPS_INDEX_READ = 0,
    NVML_P2P_STATUS_OK = 0,
    NVML_NVLINK_DEVICE_TYPE_GPU = 0x00,
    NVML_NVLINK_DEVICE_TYPE_IBMNPU = 0x01,
    NVML_NVLINK_DEVICE_TYPE_SWITCH = 0x02,
};

typedef struct nvml_api {
    void *lib;
    nvml_ret_t (*init)(void);
    nvml_ret_t (*shutdown)(void);
    const char *(*error_string)(nvml_ret_t);
    nvml_ret_t (*driver_version)(char *, unsigned int);
    nvml_ret_t (*count)(unsigned int *);
    nvml_ret_t (*handle)(unsigned int, nvml_dev_t *);
    nvml_ret_t (*name)(nvml_dev_t, char *, unsigned int);
    nvml_ret_t (*uuid)(nvml_dev_t, char *, unsigned int);
    nvml_ret_t (*pci)(nvml_dev_t, nvml_pci_t *);
    nvml_ret_t (*curr_gen)(nvml_dev_t, unsigned int *);
    nvml_ret_t (*max_gen)(nvml_dev_t, unsigned int *);
    nvml_ret_t (*curr_width)(nvml_dev_t, unsigned int *);
    nvml_ret_t (*max_width)(nvml_dev_t, unsigned int *);
    nvml_ret_t (*cpu_affinity)(nvml_dev_t, unsigned int, unsigned long *);
    nvml_ret_t (*nvlink_state)(nvml_dev_t, unsigned int, int *);
    nvml_ret_t (*nvlink_version)(nvml_dev_t, unsigned int, unsigned int *);
    nvml_ret_t (*nvlink_remote_pci)(nvml_dev_t, unsigned int, nvml_pci_t *);
    nvml_ret_t (*nvlink_remote_type)(nvml_dev_t, unsigned int, int *);
    nvml_ret_t (*p2p_status)(nvml_dev_t, nvml_dev_t, int, int *);
} nvml_api_t;

/* dlsym returns void *; converting through memcpy keeps ISO C (no object-to-function
 * pointer cast) and -Wpedantic quiet. */
static int sym(void *lib, const char *name, void *fn_p, size_t size)
{
    void *p = dlsym(lib, name);
    if (p)
        memcpy(fn_p, &p, size);
    return p != NULL;
}
#define SYM(api, field, name) sym((api)->lib, name, &(api)->field, sizeof((api)->field))

static int load_api(nvml_api_t *api)
{
    int ok = 1;
    ok &= SYM(api, init, "nvmlInit_v2");
    ok &= SYM(api, shutdown, "nvmlShutdown");
    ok &= SYM(api, count, "nvmlDeviceGetCount_v2");
    ok &= SYM(api, handle, "nvmlDeviceGetHandleByIndex_v2");
    ok &= SYM(api, pci, "nvmlDeviceGetPciInfo_v3");
    /* The rest are optional: older drivers lack some, and each only adds detail. */
    SYM(api, error_string, "nvmlErrorString");
    SYM(api, driver_version, "nvmlSystemGetDriverVersion");
    SYM(api, name, "nvmlDeviceGetName");
    SYM(api, uuid, "nvmlDeviceGetUUID");
    SYM(api, curr_gen, "nvmlDeviceGetCurrPcieLinkGeneration");
    SYM(api, max_gen, "nvmlDeviceGetMaxPcieLinkGeneration");
    SYM(api, curr_width, "nvmlDeviceGetCurrPcieLinkWidth");
    SYM(api, max_width, "nvmlDeviceGetMaxPcieLinkWidth");
    SYM(api, cpu_affinity, "nvmlDeviceGetCpuAffinity");
    SYM(api, nvlink_state, "nvmlDeviceGetNvLinkState");
    SYM(api, nvlink_version, "nvmlDeviceGetNvLinkVersion");
    SYM(api, nvlink_remote_pci, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
    SYM(api, nvlink_remote_type, "nvmlDeviceGetNvLinkRemoteDeviceType");
    SYM(api, p2p_status, "nvmlDeviceGetP2PStatus");
    return ok;
}

static const char *err_str(const nvml_api_t *api, nvml_ret_t r)
{
    static char buf[32];
    if (api->error_string)
        return api->error_string(r);
    snprintf(buf, sizeof(buf), "NVML error %d", r);
    return buf;
}

/* The NVLink generation of nvmlDeviceGetNvLinkVersion's answer. That is an
 * nvmlNvlinkVersion_t (documented since CUDA 12.8, returned long before): 1 = 1.0, 2 = 2.0,
 * 3 = 2.2, 4 = 3.0, 5 = 3.1, 6 = 4.0, 7 = 5.0, not the generation itself. An A100 answers 5,
 * which read as a generation would double its links to NVLink5's 50 GB/s (hwloc issue
 * #658). 0 when unknown (a newer version than the bandwidth table has). */
static int nvlink_generation(unsigned nvml_version)
{
    static const int gen[] = {0, 1, 2, 2, 3, 3, 4, 5};
    return nvml_version < sizeof(gen) / sizeof(gen[0]) ? gen[nvml_version] : 0;
}

static int root_index(const tb_topo_t *topo)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].kind == TB_OBJ_MACHINE)
            return (int)i;
    return -1;
}

/* The package above an object (NVLink to the CPU on POWER ends there). */
static int package_of(const tb_topo_t *topo, int i)
{
    while (i >= 0 && topo->objs[i].kind != TB_OBJ_PACKAGE)
        i = topo->objs[i].parent;
    return i >= 0 ? i : tb_topo_nth(topo, TB_OBJ_PACKAGE, 0);
}

/* The GPU object of an NVML device, by PCI bus id; created below the machine when hwloc
 * did not see it (PCI discovery unavailable, containers). */
static int gpu_object(tb_topo_t *topo, const nvml_pci_t *pci, unsigned index)
{
    char busid[32];
    tb_topo_obj_t obj;
    int idx;
    tb_topo_busid_normalize(pci->bus_id, busid, sizeof(busid));
    idx = tb_topo_find_busid(topo, busid);
    if (idx >= 0) {
        topo->objs[idx].kind = TB_OBJ_GPU;
        return idx;
    }
    tb_topo_obj_init(&obj, TB_OBJ_GPU);
    obj.parent = root_index(topo);
    obj.os_index = (int)index;
    snprintf(obj.busid, sizeof(obj.busid), "%s", busid);
    snprintf(obj.name, sizeof(obj.name), "GPU%u", index);
    return tb_topo_add_obj(topo, &obj);
}

/* The remote end of an NVLink: a GPU or NVSwitch of the graph by bus id, the package for
 * a CPU (IBM NPU), or a new NVSwitch object (NVSwitches are often not PCI-visible). */
static int remote_object(tb_topo_t *topo, int gpu, const nvml_pci_t *pci, int type,
                         int *nswitches_p)
{
    char busid[32];
    tb_topo_obj_t obj;
    int idx;
    if (type == NVML_NVLINK_DEVICE_TYPE_IBMNPU)
        return package_of(topo, gpu);
    tb_topo_busid_normalize(pci->bus_id, busid, sizeof(busid));
    idx = tb_topo_find_busid(topo, busid);
    if (idx >= 0) {
        if (type == NVML_NVLINK_DEVICE_TYPE_SWITCH)
            topo->objs[idx].kind = TB_OBJ_NVSWITCH;
        return idx;
    }
    if (type == NVML_NVLINK_DEVICE_TYPE_GPU)
        return -1; /* a GPU NVML did not list (hidden by CUDA_VISIBLE_DEVICES-like masks) */
    tb_topo_obj_init(&obj, TB_OBJ_NVSWITCH);
    obj.parent = root_index(topo);
    snprintf(obj.busid, sizeof(obj.busid), "%s", busid);
    snprintf(obj.name, sizeof(obj.name), "NVSwitch%zu", tb_topo_count(topo, TB_OBJ_NVSWITCH));
    snprintf(obj.model, sizeof(obj.model), "NVSwitch");
    (*nswitches_p)++;
    return tb_topo_add_obj(topo, &obj);
}

/* Near cores from NVML's affinity mask, as a list string "0-23,48-71". */
static void affinity_list(const unsigned long *mask, unsigned nwords, char *buf, size_t len)
{
    const unsigned bits = (unsigned)(8 * sizeof(unsigned long));
    size_t off = 0;
    unsigned total = nwords * bits;
    buf[0] = '\0';
    for (unsigned c = 0; c < total && off < len; c++) {
        unsigned end;
        if (!(mask[c / bits] >> (c % bits) & 1UL))
            continue;
        end = c;
        while (end + 1 < total && (mask[(end + 1) / bits] >> ((end + 1) % bits) & 1UL))
            end++;
        off += (size_t)snprintf(buf + off, len - off, end > c ? "%s%u-%u" : "%s%u",
                                off ? "," : "", c, end);
        c = end;
    }
    if (off >= len && len > 0)
        buf[len - 1] = '\0';
}

typedef struct link_acc {
    int remote;
    int active;
    int count;
    unsigned version;
} link_acc_t;

/* NVLinks of one GPU, summed per (remote end, state). GPU-GPU links are seen from both
 * ends; only the lower object index records them. */
static void add_gpu_nvlinks(tb_topo_t *topo, const nvml_api_t *api, nvml_dev_t dev, int gpu,
                            int *nswitches_p, int *nactive_p, int *ndown_p)
{
    link_acc_t acc[NVML_NVLINK_MAX_LINKS];
    int nacc = 0;
    if (!api->nvlink_state)
        return;
    for (unsigned l = 0; l < NVML_NVLINK_MAX_LINKS; l++) {
        int state = 0, type = -1, remote;
        unsigned version = 0;
        nvml_pci_t rpci;
        /* Links beyond the GPU's count answer NOT_SUPPORTED or INVALID_ARGUMENT. */
        if (api->nvlink_state(dev, l, &state) != NVML_OK)
            continue;
        if (api->nvlink_version)
            api->nvlink_version(dev, l, &version);
        memset(&rpci, 0, sizeof(rpci));
        if (!api->nvlink_remote_pci || api->nvlink_remote_pci(dev, l, &rpci) != NVML_OK)
            continue;
        if (api->nvlink_remote_type && api->nvlink_remote_type(dev, l, &type) != NVML_OK)
            type = -1;
        remote = remote_object(topo, gpu, &rpci, type, nswitches_p);
        if (remote < 0 || remote == gpu)
            continue;
        if (topo->objs[remote].kind == TB_OBJ_GPU && remote < gpu)
            continue;
        if (state == NVML_FEATURE_ENABLED)
            (*nactive_p)++;
        else
            (*ndown_p)++;
        {
            int a = 0;
            while (a < nacc && !(acc[a].remote == remote &&
                                 acc[a].active == (state == NVML_FEATURE_ENABLED)))
                a++;
            if (a == nacc) {
                acc[nacc].remote = remote;
                acc[nacc].active = state == NVML_FEATURE_ENABLED;
                acc[nacc].count = 0;
                acc[nacc].version = version;
                nacc++;
            }
            acc[a].count++;
        }
    }
    for (int a = 0; a < nacc; a++) {
        tb_topo_link_t link;
        tb_topo_bw_t bw;
        memset(&link, 0, sizeof(link));
        link.kind = TB_LINK_NVLINK;
        link.a = gpu;
        link.b = acc[a].remote;
        link.count = acc[a].count;
        link.version = nvlink_generation(acc[a].version);
        link.active = acc[a].active;
        /* The table's rate for the generation (REFERENCE.md section 3); 0 when unknown. */
        if (acc[a].active && link.version > 0 &&
            tb_topo_bw_nvlink(link.version, link.count, &bw) == 0)
            link.gbs = bw.theoretical_gbs;
        if (tb_topo_add_link(topo, &link) < 0)
            return;
    }
}

static const char *p2p_reason(int status)
{
    static const char *names[] = {"ok",
                                  "chipset_not_supported",
                                  "gpu_not_supported",
                                  "ioh_topology_not_supported",
                                  "disabled_by_regkey",
                                  "not_supported",
                                  "unknown"};
    return status >= 0 && status < 7 ? names[status] : "unknown";
}

static void add_p2p(tb_topo_t *topo, const nvml_api_t *api, nvml_dev_t *devs, int *objs,
                    unsigned n)
{
    int all = 1;
    if (!api->p2p_status)
        return;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = i + 1; j < n; j++) {
            int status = -1;
            if (objs[i] < 0 || objs[j] < 0 ||
                api->p2p_status(devs[i], devs[j], NVML_P2P_CAPS_INDEX_READ, &status) != NVML_OK) {
                all = 0;
                continue;
            }
            if (status != NVML_P2P_STATUS_OK && topo->nno_p2p < TB_TOPO_MAX_P2P) {
                tb_topo_p2p_t *p = &topo->no_p2p[topo->nno_p2p++];
                p->a = objs[i] < objs[j] ? objs[i] : objs[j];
                p->b = objs[i] < objs[j] ? objs[j] : objs[i];
                snprintf(p->reason, sizeof(p->reason), "%s", p2p_reason(status));
            }
        }
    }
    topo->p2p_checked = all;
}

static void fill_gpu(tb_topo_obj_t *o, const nvml_api_t *api, nvml_dev_t dev, unsigned index)
{
    unsigned v = 0;
    char buf[96];
    unsigned long mask[16];
    o->os_index = (int)index;
    snprintf(o->name, sizeof(o->name), "GPU%u", index);
    if (api->name && api->name(dev, buf, sizeof(buf)) == NVML_OK) {
        buf[sizeof(buf) - 1] = '\0';
        memcpy(o->model, buf, sizeof(o->model));
    }
    if (api->uuid && api->uuid(dev, buf, sizeof(o->uuid)) == NVML_OK)
        memcpy(o->uuid, buf, sizeof(o->uuid));
    if (api->curr_gen && api->curr_gen(dev, &v) == NVML_OK)
        o->link_gen = (int)v;
    if (api->curr_width && api->curr_width(dev, &v) == NVML_OK)
        o->link_width = (int)v;
    if (api->max_gen && api->max_gen(dev, &v) == NVML_OK)
        o->link_max_gen = (int)v;
    if (api->max_width && api->max_width(dev, &v) == NVML_OK)
        o->link_max_width = (int)v;
    if (o->link_gen && o->link_width)
        o->link_gbs = tb_topo_pcie_gbs(o->link_gen, o->link_width);
    memset(mask, 0, sizeof(mask));
    if (!o->cpuset[0] && api->cpu_affinity &&
        api->cpu_affinity(dev, (unsigned)(sizeof(mask) / sizeof(mask[0])), mask) == NVML_OK)
        affinity_list(mask, (unsigned)(sizeof(mask) / sizeof(mask[0])), o->cpuset,
                      sizeof(o->cpuset));
}

void tb_topo_add_nvml(tb_topo_t *topo)
{
    const char *env = getenv("TOPOBENCH_NVML_LIB");
    const char *path = env && env[0] ? env : "libnvidia-ml.so.1";
    nvml_api_t api;
    unsigned n = 0;
    nvml_dev_t *devs = NULL;
    int *objs = NULL;
    int nswitches = 0, nactive = 0, ndown = 0;
    nvml_ret_t r;
    char driver[80] = "";

    memset(&api, 0, sizeof(api));
    api.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!api.lib) {
        if (env && env[0])
            tb_topo_add_note(topo, "nvml: cannot load %s (%s): GPU details and NVLinks skipped",
                             path, dlerror());
        else
            tb_topo_add_note(topo, "nvml: libnvidia-ml.so.1 not found (no NVIDIA driver): GPU "
                             "details and NVLinks skipped");
        return;
    }
    if (!load_api(&api)) {
        tb_topo_add_note(topo, "nvml: %s lacks the NVML v2/v3 entry points (driver too old): "
                         "GPU details and NVLinks skipped", path);
        goto out_close;
    }
    r = api.init();
    if (r != NVML_OK) {
        tb_topo_add_note(topo, "nvml: nvmlInit failed (%s): GPU details and NVLinks skipped",
                         err_str(&api, r));
        goto out_close;
    }
    if (api.driver_version && api.driver_version(driver, sizeof(driver)) == NVML_OK)
        snprintf(topo->driver_version, sizeof(topo->driver_version), "%s", driver);
    r = api.count(&n);
    if (r != NVML_OK) {
        tb_topo_add_note(topo, "nvml: cannot count GPUs (%s)", err_str(&api, r));
        goto out_shutdown;
    }
    devs = calloc(n ? n : 1, sizeof(*devs));
    objs = calloc(n ? n : 1, sizeof(*objs));
    if (!devs || !objs) {
        tb_topo_add_note(topo, "nvml: out of memory");
        goto out_shutdown;
    }
    /* Objects first, links second: a GPU's NVLinks may end at a GPU listed later. */
    for (unsigned i = 0; i < n; i++) {
        nvml_pci_t pci;
        objs[i] = -1;
        memset(&pci, 0, sizeof(pci));
        if (api.handle(i, &devs[i]) != NVML_OK || api.pci(devs[i], &pci) != NVML_OK)
            continue;
        objs[i] = gpu_object(topo, &pci, i);
        if (objs[i] >= 0)
            fill_gpu(&topo->objs[objs[i]], &api, devs[i], i);
    }
    for (unsigned i = 0; i < n; i++)
        if (objs[i] >= 0)
            add_gpu_nvlinks(topo, &api, devs[i], objs[i], &nswitches, &nactive, &ndown);
    add_p2p(topo, &api, devs, objs, n);
    tb_topo_add_note(topo, "nvml: driver %s, %u GPU%s, %d NVLinks active, %d down, %d NVSwitch%s "
                     "added from NVLink ends, %zu GPU pair%s without P2P%s",
                     driver[0] ? driver : "?", n, n == 1 ? "" : "s", nactive, ndown, nswitches,
                     nswitches == 1 ? "" : "es", topo->nno_p2p, topo->nno_p2p == 1 ? "" : "s",
                     topo->p2p_checked ? "" : " (P2P not fully queried)");
out_shutdown:
    free(devs);
    free(objs);
    api.shutdown();
out_close:
    dlclose(api.lib);
}
