/* A fake libnvidia-ml for tests of topo/discovery/nvml.c: the NVML entry points topobench uses,
 * describing an 8x H100 SXM node shaped like the OCI BM.GPU.H100.8 dump in
 * fixtures/nccl_topo_xml (GPU bus ids 0f, 2d, 44, 5b, 89, a8, c0, d8; 18 NVLink4 links per
 * GPU to 4 NVSwitches at 1a-1d, 4+5+5+4) and cores split like the 2x52-core H100 node of
 * fixtures/nvidia_smi_topo. Two faults are built in: GPU3's link 17 is down and GPU5 is
 * trained at Gen5 x8 of its Gen5 x16. FAKE_NVML_NO_P2P=1 makes every GPU pair report
 * "GPU not supported" for P2P (the GeForce GNS case). FAKE_NVML_BLACKWELL=1 makes the GPUs
 * B200s with NVLink5 (NVML's NVLink version answer 7).
 *
 * Compiled by test_topo_live.c at run time: cc -shared -fPIC fake_nvml.c -o libfake.so */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nvml_device *nvml_dev_t;
typedef struct {
    char bus_id_legacy[16];
    unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
} nvml_pci_t;

enum { OK = 0, ERR_UNINITIALIZED = 1, ERR_INVALID_ARGUMENT = 2, ERR_NOT_SUPPORTED = 3 };

#define NGPUS 8
#define NLINKS 18
static const unsigned gpu_bus[NGPUS] = {0x0f, 0x2d, 0x44, 0x5b, 0x89, 0xa8, 0xc0, 0xd8};
static int initialized;

static int dev_index(nvml_dev_t d)
{
    uintptr_t i = (uintptr_t)d;
    return i >= 1 && i <= NGPUS ? (int)(i - 1) : -1;
}

/* Links 0-4 -> switch 1c, 5-9 -> 1b, 10-13 -> 1a, 14-17 -> 1d. */
static unsigned switch_bus(unsigned link)
{
    return link < 5 ? 0x1c : link < 10 ? 0x1b : link < 14 ? 0x1a : 0x1d;
}

static void fill_pci(nvml_pci_t *p, unsigned bus, unsigned devid)
{
    memset(p, 0, sizeof(*p));
    p->domain = 0;
    p->bus = bus;
    p->device = 0;
    p->pci_device_id = devid;
    snprintf(p->bus_id_legacy, sizeof(p->bus_id_legacy), "0000:%02X:00.0", bus);
    snprintf(p->bus_id, sizeof(p->bus_id), "00000000:%02X:00.0", bus);
}

int nvmlInit_v2(void) { initialized = 1; return OK; }
int nvmlShutdown(void) { initialized = 0; return OK; }
const char *nvmlErrorString(int r) { return r == OK ? "Success" : "Fake NVML error"; }

int nvmlSystemGetDriverVersion(char *v, unsigned int len)
{
    snprintf(v, len, "535.129.03");
    return OK;
}

int nvmlDeviceGetCount_v2(unsigned int *n)
{
    if (!initialized)
        return ERR_UNINITIALIZED;
    *n = NGPUS;
    return OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvml_dev_t *d)
{
    if (i >= NGPUS)
        return ERR_INVALID_ARGUMENT;
    *d = (nvml_dev_t)(uintptr_t)(i + 1);
    return OK;
}

int nvmlDeviceGetName(nvml_dev_t d, char *name, unsigned int len)
{
    if (dev_index(d) < 0)
        return ERR_INVALID_ARGUMENT;
    const char *bw = getenv("FAKE_NVML_BLACKWELL");
    snprintf(name, len, bw && *bw == '1' ? "NVIDIA B200" : "NVIDIA H100 80GB HBM3");
    return OK;
}

int nvmlDeviceGetUUID(nvml_dev_t d, char *uuid, unsigned int len)
{
    int i = dev_index(d);
    if (i < 0)
        return ERR_INVALID_ARGUMENT;
    snprintf(uuid, len, "GPU-5c1a8f2e-%04x-4d1b-9e7a-00000000000%d", 0x1000 + i, i);
    return OK;
}

int nvmlDeviceGetPciInfo_v3(nvml_dev_t d, nvml_pci_t *p)
{
    int i = dev_index(d);
    if (i < 0)
        return ERR_INVALID_ARGUMENT;
    fill_pci(p, gpu_bus[i], 0x233010de);
    return OK;
}

int nvmlDeviceGetCurrPcieLinkGeneration(nvml_dev_t d, unsigned int *v)
{
    if (dev_index(d) < 0)
        return ERR_INVALID_ARGUMENT;
    *v = 5;
    return OK;
}

int nvmlDeviceGetMaxPcieLinkGeneration(nvml_dev_t d, unsigned int *v)
{
    if (dev_index(d) < 0)
        return ERR_INVALID_ARGUMENT;
    *v = 5;
    return OK;
}

int nvmlDeviceGetCurrPcieLinkWidth(nvml_dev_t d, unsigned int *v)
{
    int i = dev_index(d);
    if (i < 0)
        return ERR_INVALID_ARGUMENT;
    *v = i == 5 ? 8 : 16;
    return OK;
}

int nvmlDeviceGetMaxPcieLinkWidth(nvml_dev_t d, unsigned int *v)
{
    if (dev_index(d) < 0)
        return ERR_INVALID_ARGUMENT;
    *v = 16;
    return OK;
}

/* GPUs 0-3 near cores 0-51 and their hyper-threads 104-155; 4-7 near 52-103, 156-207. */
int nvmlDeviceGetCpuAffinity(nvml_dev_t d, unsigned int n, unsigned long *set)
{
    int i = dev_index(d);
    const unsigned bits = 8 * sizeof(unsigned long);
    if (i < 0)
        return ERR_INVALID_ARGUMENT;
    memset(set, 0, n * sizeof(*set));
    for (unsigned c = 0; c < 208 && c / bits < n; c++) {
        unsigned core = c % 104;
        if ((i < 4) == (core < 52))
            set[c / bits] |= 1UL << (c % bits);
    }
    return OK;
}

int nvmlDeviceGetNvLinkState(nvml_dev_t d, unsigned int link, int *active)
{
    int i = dev_index(d);
    if (i < 0 || link >= NLINKS)
        return ERR_INVALID_ARGUMENT;
    *active = !(i == 3 && link == 17);
    return OK;
}

/* What the driver answers: an nvmlNvlinkVersion_t, NVML_NVLINK_VERSION_4_0 = 6 for H100's
 * NVLink4, NVML_NVLINK_VERSION_5_0 = 7 for Blackwell's NVLink5 (FAKE_NVML_BLACKWELL=1). */
int nvmlDeviceGetNvLinkVersion(nvml_dev_t d, unsigned int link, unsigned int *v)
{
    const char *bw = getenv("FAKE_NVML_BLACKWELL");
    if (dev_index(d) < 0 || link >= NLINKS)
        return ERR_INVALID_ARGUMENT;
    *v = bw && *bw == '1' ? 7 : 6;
    return OK;
}

int nvmlDeviceGetNvLinkRemotePciInfo_v2(nvml_dev_t d, unsigned int link, nvml_pci_t *p)
{
    if (dev_index(d) < 0 || link >= NLINKS)
        return ERR_INVALID_ARGUMENT;
    fill_pci(p, switch_bus(link), 0x22a310de);
    return OK;
}

int nvmlDeviceGetNvLinkRemoteDeviceType(nvml_dev_t d, unsigned int link, int *type)
{
    if (dev_index(d) < 0 || link >= NLINKS)
        return ERR_INVALID_ARGUMENT;
    *type = 2; /* NVML_NVLINK_DEVICE_TYPE_SWITCH */
    return OK;
}

int nvmlDeviceGetP2PStatus(nvml_dev_t a, nvml_dev_t b, int caps, int *status)
{
    const char *env = getenv("FAKE_NVML_NO_P2P");
    (void)caps;
    if (dev_index(a) < 0 || dev_index(b) < 0)
        return ERR_INVALID_ARGUMENT;
    *status = env && env[0] == '1' ? 2 /* GPU_NOT_SUPPORTED */ : 0;
    return OK;
}
