/* The CUDA runtime loader (cuda.h): dlopen of the runtime, every symbol into one table of
 * function pointers, the versions and the device count; device facts as the run records
 * them; the one checking macro's conversion of CUDA errors. */
#include "cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#if TB_CUDA_HEADERS
#include <stddef.h>
/* Every member's prototype is the header's: a wrong parameter or return type in
 * TB_CUDA_FUNCS fails the build here (where the toolkit is installed, as on every
 * development machine). _Generic does not evaluate its operand, so nothing references the
 * runtime's symbols. */
#define TB_CUDA_CHECK_PROTO(name, ret, args, optional, other)                                  \
    _Static_assert(_Generic(&cuda##name, ret(*) args: 1, default: 0),                          \
                   "cuda" #name ": prototype differs from cuda_runtime_api.h");
TB_CUDA_FUNCS(TB_CUDA_CHECK_PROTO)
#undef TB_CUDA_CHECK_PROTO
/* tb_cuda_device_info reads the stable prefix of cudaDeviceProp. */
_Static_assert(offsetof(struct cudaDeviceProp, uuid) == 256, "cudaDeviceProp.uuid moved");
_Static_assert(offsetof(struct cudaDeviceProp, totalGlobalMem) == 288,
               "cudaDeviceProp.totalGlobalMem moved");
_Static_assert(sizeof(struct cudaDeviceProp) <= 4096, "cudaDeviceProp grew beyond 4 KiB");
_Static_assert(cudaMemcpyDeviceToHost == TB_CUDA_MEMCPY_D2H && cudaMemoryTypeManaged == 3 &&
                   cudaDevAttrPciDomainId == TB_CUDA_ATTR_PCI_DOMAIN_ID &&
                   cudaErrorNoDevice == TB_CUDA_ERR_NO_DEVICE &&
                   cudaStreamNonBlocking == TB_CUDA_STREAM_NON_BLOCKING &&
                   cudaEventDisableTiming == TB_CUDA_EVENT_DISABLE_TIMING,
               "a TB_CUDA_ constant differs from CUDA's");
#endif

/* Where cudaDeviceProp keeps what the run records (the same in CUDA 11, 12 and 13; checked
 * against the header above where it is present). The buffer is larger than any release's
 * struct. */
#define PROP_BUF 4096
#define PROP_UUID 256
#define PROP_TOTAL_MEM 288

/* dlsym returns void *; converting through memcpy keeps ISO C (no object-to-function
 * pointer cast). */
static int sym(void *lib, const char *name, void *fn_p, size_t size)
{
    void *p = name ? dlsym(lib, name) : NULL;
    if (p)
        memcpy(fn_p, &p, size);
    return p != NULL;
}

/* Appends strings to a bounded text (NULL ends the list). */
static void add(char *buf, size_t len, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3 && parts[i]; i++) {
        size_t n = strlen(buf);
        if (n + 1 < len)
            snprintf(buf + n, len - n, "%s", parts[i]);
    }
}

/* Resolves every symbol; the first missing required one is named in `why`. */
static int load_symbols(tb_cuda_t *cu, const char *name, char *why)
{
    char missing[128] = "";
    int ok = 1;
    cu->missing_optional[0] = '\0';
#define TB_CUDA_LOAD(member, ret, args, optional, other)                                       \
    if (!sym(cu->lib, other, &cu->member, sizeof(cu->member)) &&                               \
        !sym(cu->lib, "cuda" #member, &cu->member, sizeof(cu->member))) {                      \
        if (optional)                                                                          \
            add(cu->missing_optional, sizeof(cu->missing_optional),                            \
                cu->missing_optional[0] ? " " : "", "cuda" #member, NULL);                     \
        else if (ok) {                                                                         \
            ok = 0;                                                                            \
            snprintf(missing, sizeof(missing), "%s", "cuda" #member);                          \
        }                                                                                      \
    }
    TB_CUDA_FUNCS(TB_CUDA_LOAD)
#undef TB_CUDA_LOAD
    if (!ok) {
        add(why, TB_CUDA_WHY_LEN, name, ": symbol ", missing);
        add(why, TB_CUDA_WHY_LEN, " missing (not a usable CUDA runtime); ", NULL, NULL);
    }
    return ok;
}

void tb_dl_search_paths(char *buf, size_t len)
{
    const char *ld = getenv("LD_LIBRARY_PATH");
    snprintf(buf, len, "LD_LIBRARY_PATH=%s, the ld.so cache (/etc/ld.so.conf), /lib, /usr/lib",
             ld && *ld ? ld : "(unset)");
}

static void read_devices(tb_cuda_t *cu)
{
    int n = 0;
    tb_cuda_err_t rc;
    cu->runtime_version = cu->driver_version = 0;
    (void)cu->RuntimeGetVersion(&cu->runtime_version);
    (void)cu->DriverGetVersion(&cu->driver_version);
    rc = cu->GetDeviceCount(&n);
    cu->why[0] = '\0';
    if (rc != TB_CUDA_SUCCESS) {
        const char *text = cu->GetErrorString(rc);
        snprintf(cu->why, sizeof(cu->why), "%s: cudaGetDeviceCount: %s (error %d)", cu->path,
                 text ? text : "unknown error", (int)rc);
        (void)cu->GetLastError(); /* not sticky: clear it */
        n = 0;
    } else if (n <= 0) {
        snprintf(cu->why, sizeof(cu->why), "%s: no CUDA device visible (CUDA_VISIBLE_DEVICES=%s)",
                 cu->path, getenv("CUDA_VISIBLE_DEVICES") ? getenv("CUDA_VISIBLE_DEVICES")
                                                          : "(unset)");
        n = 0;
    }
    cu->ndevices = n;
}

static int try_one(tb_cuda_t *cu, const char *name, char *why)
{
    void *lib, *fn;
    Dl_info info;
    memset(cu, 0, sizeof(*cu));
    dlerror();
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        add(why, TB_CUDA_WHY_LEN, e ? e : name, e ? "; " : ": cannot be loaded; ", NULL);
        return 0;
    }
    cu->lib = lib;
    snprintf(cu->path, sizeof(cu->path), "%s", name);
    if (!load_symbols(cu, name, why)) {
        dlclose(lib);
        memset(cu, 0, sizeof(*cu));
        return 0;
    }
    /* The file behind a soname, for the record. */
    memcpy(&fn, &cu->GetDeviceCount, sizeof(fn));
    if (dladdr(fn, &info) && info.dli_fname)
        snprintf(cu->resolved, sizeof(cu->resolved), "%s", info.dli_fname);
    return 1;
}

tb_status_t tb_cuda_open(const char *lib, tb_cuda_t *cu, char *why)
{
    static const char *const defaults[] = TB_CUDA_DEFAULT_LIBS;
    const char *env = getenv("TOPOBENCH_CUDA_LIB");
    char paths[1024];
    why[0] = '\0';
    if (!lib && env && *env)
        lib = env;
    if (lib) {
        if (try_one(cu, lib, why)) {
            read_devices(cu);
            return TB_OK;
        }
    } else {
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
            if (try_one(cu, defaults[i], why)) {
                read_devices(cu);
                why[0] = '\0';
                return TB_OK;
            }
    }
    /* Trim the last "; " and say where a bare name was looked for. */
    {
        size_t n = strlen(why);
        if (n >= 2 && why[n - 2] == ';')
            why[n - 2] = '\0';
    }
    if (!lib || !strchr(lib, '/')) {
        tb_dl_search_paths(paths, sizeof(paths));
        add(why, TB_CUDA_WHY_LEN, " (searched ", paths,
            lib ? ")" : "; TOPOBENCH_CUDA_LIB names another library)");
    }
    return TB_ERR_ENV;
}

void tb_cuda_close(tb_cuda_t *cu)
{
    if (cu->lib)
        dlclose(cu->lib);
    memset(cu, 0, sizeof(*cu));
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static tb_cuda_t the_cuda;
static int the_cuda_ok;
static char the_why[TB_CUDA_WHY_LEN];

static void open_once(void)
{
    the_cuda_ok = tb_cuda_open(NULL, &the_cuda, the_why) == TB_OK;
}

const tb_cuda_t *tb_cuda_get(const char **why_p)
{
    pthread_once(&once, open_once);
    if (why_p)
        *why_p = the_cuda_ok ? "" : the_why;
    return the_cuda_ok ? &the_cuda : NULL;
}

tb_status_t tb_cuda_status(const tb_cuda_t *cu, tb_cuda_err_t rc, const char *what,
                           const char *file, int line)
{
    const char *name, *text;
    if (rc == TB_CUDA_SUCCESS)
        return TB_OK;
    name = cu && cu->GetErrorName ? cu->GetErrorName(rc) : NULL;
    text = cu && cu->GetErrorString ? cu->GetErrorString(rc) : NULL;
    return tb_error(TB_ERR_INTERNAL, "%s failed: %s (%s, error %d) at %s:%d", what,
                    text ? text : "unknown CUDA error", name ? name : "?", (int)rc, file, line);
}

tb_status_t tb_cuda_device_info(const tb_cuda_t *cu, int index, tb_cuda_device_t *dev)
{
    unsigned char *prop = calloc(1, PROP_BUF);
    const unsigned char *u;
    char bus[32] = "";
    size_t mem;
    tb_status_t st;
    if (!prop)
        return tb_error(TB_ERR_ENV, "out of memory for the properties of CUDA device %d", index);
    memset(dev, 0, sizeof(*dev));
    dev->index = index;
    if ((st = TB_CUDA_CHECK(cu, cu->GetDeviceProperties((tb_cuda_prop_t *)(void *)prop, index))) ||
        (st = TB_CUDA_CHECK(cu, cu->DeviceGetPCIBusId(bus, (int)sizeof(bus), index))) ||
        (st = TB_CUDA_CHECK(cu, cu->DeviceGetAttribute(&dev->cc_major, TB_CUDA_ATTR_CC_MAJOR,
                                                       index))) ||
        (st = TB_CUDA_CHECK(cu, cu->DeviceGetAttribute(&dev->cc_minor, TB_CUDA_ATTR_CC_MINOR,
                                                       index))))
        goto out;
    memcpy(dev->name, prop, sizeof(dev->name) - 1);
    u = prop + PROP_UUID;
    snprintf(dev->uuid, sizeof(dev->uuid),
             "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    memcpy(&mem, prop + PROP_TOTAL_MEM, sizeof(mem));
    dev->total_mem = mem;
    /* CUDA says "00000000:1B:00.0"; sysfs and topo say "0000:1b:00.0". */
    {
        unsigned domain = 0, b = 0, d = 0, f = 0;
        if (sscanf(bus, "%x:%x:%x.%x", &domain, &b, &d, &f) == 4)
            snprintf(dev->busid, sizeof(dev->busid), "%04x:%02x:%02x.%x", domain & 0xffffu,
                     b & 0xffu, d & 0x1fu, f & 0x7u);
        else
            snprintf(dev->busid, sizeof(dev->busid), "%s", bus);
    }
out:
    free(prop);
    return st;
}

void tb_cuda_version_string(int version, char *buf, size_t len)
{
    if (version <= 0)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%d.%d", version / 1000, (version % 1000) / 10);
}
