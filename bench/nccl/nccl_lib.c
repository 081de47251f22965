/* The NCCL loader (nccl_lib.h): dlopen of the library, every symbol into one table of
 * function pointers, its version, and the one checking macro's conversion of NCCL
 * errors. */
#include "nccl_lib.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda.h"
#include "log.h"

#if TB_NCCL_HEADERS
/* Every member's prototype is nccl.h's: a wrong parameter or return type in
 * TB_NCCL_FUNCS fails the build here. _Generic does not evaluate its operand, so nothing
 * references NCCL's symbols. */
#define TB_NCCL_CHECK_PROTO(name, ret, args, required, since)                                  \
    _Static_assert(_Generic(&nccl##name, ret(*) args: 1, default: 0),                          \
                   "nccl" #name ": prototype differs from nccl.h");
TB_NCCL_FUNCS(TB_NCCL_CHECK_PROTO)
#undef TB_NCCL_CHECK_PROTO
_Static_assert((int)ncclSum == TB_NCCL_SUM && (int)ncclProd == TB_NCCL_PROD &&
                   (int)ncclMax == TB_NCCL_MAX && (int)ncclMin == TB_NCCL_MIN &&
                   (int)ncclInt8 == TB_NCCL_INT8 && (int)ncclUint64 == TB_NCCL_UINT64 &&
                   (int)ncclFloat16 == TB_NCCL_FLOAT16 && (int)ncclFloat64 == TB_NCCL_FLOAT64 &&
                   (int)ncclSuccess == TB_NCCL_SUCCESS,
               "a TB_NCCL_ constant differs from nccl.h");
#if NCCL_VERSION_CODE >= 21000 /* ncclAvg and ncclBfloat16 came with 2.10 */
_Static_assert((int)ncclAvg == TB_NCCL_AVG && (int)ncclBfloat16 == TB_NCCL_BFLOAT16,
               "ncclAvg or ncclBfloat16 differs from nccl.h");
#endif
_Static_assert(sizeof(ncclUniqueId) == 128, "ncclUniqueId is not 128 bytes");
#endif

/* dlsym returns void *; memcpy keeps ISO C (no object-to-function pointer cast). */
static int sym(void *handle, const char *name, void *fn_p, size_t size)
{
    void *p = dlsym(handle, name);
    if (p)
        memcpy(fn_p, &p, size);
    return p != NULL;
}

static void add(char *buf, size_t len, const char *fmt, ...) TB_PRINTF(3, 4);
static void add(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    if (n + 1 < len)
        vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

static const struct {
    const char *member, *symbol, *since;
} symbols[] = {
#define TB_NCCL_ROW(name, ret, args, required, since) {#name, "nccl" #name, since},
    TB_NCCL_FUNCS(TB_NCCL_ROW)
#undef TB_NCCL_ROW
};

const char *tb_nccl_symbol_since(const char *member)
{
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
        if (!strcmp(symbols[i].member, member))
            return symbols[i].since;
    return NULL;
}

int tb_nccl_lib_has(const tb_nccl_lib_t *lib, const char *member)
{
#define TB_NCCL_HAS(name, ret, args, required, since)                                          \
    if (!strcmp(member, #name))                                                                \
        return lib->name != NULL;
    TB_NCCL_FUNCS(TB_NCCL_HAS)
#undef TB_NCCL_HAS
    return 0;
}

void tb_nccl_version_string(int code, char *buf, size_t len)
{
    if (code <= 0)
        snprintf(buf, len, "unknown");
    else if (code < 10000) /* before 2.9: X*1000 + Y*100 + Z */
        snprintf(buf, len, "%d.%d.%d", code / 1000, (code % 1000) / 100, code % 100);
    else
        snprintf(buf, len, "%d.%d.%d", code / 10000, (code % 10000) / 100, code % 100);
}

static int try_one(tb_nccl_lib_t *lib, const char *name, char *why)
{
    void *h;
    Dl_info info;
    int ok = 1;
    memset(lib, 0, sizeof(*lib));
    dlerror();
    h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        add(why, TB_NCCL_WHY_LEN, "%s: %s; ", name, e ? e : "cannot be loaded");
        return 0;
    }
    lib->handle = h;
    snprintf(lib->path, sizeof(lib->path), "%s", name);
#define TB_NCCL_LOAD(member, ret, args, required, since)                                       \
    if (!sym(h, "nccl" #member, &lib->member, sizeof(lib->member)) && (required) && ok) {      \
        ok = 0;                                                                                \
        add(why, TB_NCCL_WHY_LEN, "%s: symbol %s missing (added in NCCL %s: too old for "      \
                                  "topobench); ",                                              \
            name, "nccl" #member, since);                                                      \
    }
    TB_NCCL_FUNCS(TB_NCCL_LOAD)
#undef TB_NCCL_LOAD
    if (!ok) {
        dlclose(h);
        memset(lib, 0, sizeof(*lib));
        return 0;
    }
    if (lib->GetVersion(&lib->version) != TB_NCCL_SUCCESS)
        lib->version = 0;
    tb_nccl_version_string(lib->version, lib->version_str, sizeof(lib->version_str));
    if (dladdr(*(void **)&lib->GetVersion, &info) && info.dli_fname)
        snprintf(lib->resolved, sizeof(lib->resolved), "%s", info.dli_fname);
    return 1;
}

tb_status_t tb_nccl_lib_open(const char *path, tb_nccl_lib_t *lib, char *why)
{
    static const char *const defaults[] = TB_NCCL_DEFAULT_LIBS;
    const char *env = getenv("TOPOBENCH_NCCL_LIB");
    why[0] = '\0';
    if (!path && env && *env)
        path = env;
    if (path) {
        if (try_one(lib, path, why))
            return TB_OK;
    } else {
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
            if (try_one(lib, defaults[i], why)) {
                why[0] = '\0';
                return TB_OK;
            }
    }
    {
        size_t n = strlen(why);
        if (n >= 2 && why[n - 2] == ';')
            why[n - 2] = '\0';
    }
    if (!path || !strchr(path, '/')) {
        char paths[1024];
        tb_dl_search_paths(paths, sizeof(paths));
        add(why, TB_NCCL_WHY_LEN, " (a bare name is searched in %s)%s", paths,
            path ? "" : "; --nccl-lib PATH or TOPOBENCH_NCCL_LIB names another library");
    }
    return TB_ERR_ENV;
}

void tb_nccl_lib_close(tb_nccl_lib_t *lib)
{
    if (lib->handle)
        dlclose(lib->handle);
    memset(lib, 0, sizeof(*lib));
}

tb_status_t tb_nccl_status(const tb_nccl_lib_t *lib, tb_nccl_result_t rc, const char *what,
                           const char *file, int line)
{
    const char *text;
    if (rc == TB_NCCL_SUCCESS)
        return TB_OK;
    text = lib && lib->GetErrorString ? lib->GetErrorString(rc) : NULL;
    return tb_error(TB_ERR_INTERNAL, "%s failed: %s (NCCL error %d) at %s:%d", what,
                    text ? text : "unknown NCCL error", (int)rc, file, line);
}
