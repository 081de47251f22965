/* Lifetime of a topology graph and the helpers every source uses to fill it. */
#include "topo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

tb_status_t tb_topo_create(tb_topo_t **topo_p)
{
    tb_topo_t *topo = calloc(1, sizeof(*topo));
    if (!topo)
        return tb_error(TB_ERR_INTERNAL, "out of memory creating a topology");
    *topo_p = topo;
    return TB_OK;
}

void tb_topo_destroy(tb_topo_t *topo)
{
    if (!topo)
        return;
    free(topo->objs);
    free(topo->links);
    free(topo->findings);
    free(topo);
}

/* Grows an array of `elem` bytes so that one more fits; 0 on success. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    size_t ncap;
    void *p;
    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

void tb_topo_obj_init(tb_topo_obj_t *obj, tb_topo_kind_t kind)
{
    memset(obj, 0, sizeof(*obj));
    obj->kind = kind;
    obj->parent = -1;
    obj->os_index = -1;
    obj->numa = -1;
}

int tb_topo_add_obj(tb_topo_t *topo, const tb_topo_obj_t *obj)
{
    if (grow((void **)&topo->objs, &topo->cap_objs, topo->nobjs, sizeof(*obj)))
        return -1;
    topo->objs[topo->nobjs] = *obj;
    return (int)topo->nobjs++;
}

int tb_topo_add_link(tb_topo_t *topo, const tb_topo_link_t *link)
{
    if (grow((void **)&topo->links, &topo->cap_links, topo->nlinks, sizeof(*link)))
        return -1;
    topo->links[topo->nlinks] = *link;
    return (int)topo->nlinks++;
}

void tb_topo_add_finding(tb_topo_t *topo, tb_finding_severity_t sev, const char *code,
                         const char *object, const char *fmt, ...)
{
    tb_topo_finding_t *f;
    va_list ap;
    if (grow((void **)&topo->findings, &topo->cap_findings, topo->nfindings, sizeof(*f)))
        return;
    f = &topo->findings[topo->nfindings++];
    memset(f, 0, sizeof(*f));
    f->severity = sev;
    snprintf(f->code, sizeof(f->code), "%s", code);
    snprintf(f->object, sizeof(f->object), "%s", object ? object : "");
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
}

void tb_topo_add_note(tb_topo_t *topo, const char *fmt, ...)
{
    va_list ap;
    if (topo->nnotes >= sizeof(topo->notes) / sizeof(topo->notes[0]))
        return;
    va_start(ap, fmt);
    vsnprintf(topo->notes[topo->nnotes++], sizeof(topo->notes[0]), fmt, ap);
    va_end(ap);
}

const char *tb_topo_kind_name(tb_topo_kind_t kind)
{
    static const char *names[TB_OBJ_KIND_COUNT] = {
        "machine", "package", "numa", "hostbridge", "bridge", "gpu", "nic", "nvswitch", "pcidev"};
    return (unsigned)kind < TB_OBJ_KIND_COUNT ? names[kind] : "unknown";
}

const char *tb_path_class_name(tb_path_class_t cls)
{
    static const char *names[TB_PATH_COUNT] = {"X",   "NV",  "PIX", "PXB", "PHB",
                                               "NODE", "SYS", "NET", "?"};
    return (unsigned)cls < TB_PATH_COUNT ? names[cls] : "?";
}

size_t tb_topo_count(const tb_topo_t *topo, tb_topo_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < topo->nobjs; i++)
        n += topo->objs[i].kind == kind;
    return n;
}

int tb_topo_nth(const tb_topo_t *topo, tb_topo_kind_t kind, size_t nth)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (topo->objs[i].kind == kind && nth-- == 0)
            return (int)i;
    return -1;
}

int tb_topo_find(const tb_topo_t *topo, const char *name)
{
    for (size_t i = 0; i < topo->nobjs; i++)
        if (strcmp(topo->objs[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t tb_topo_count_findings(const tb_topo_t *topo, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < topo->nfindings; i++)
        n += strcmp(topo->findings[i].code, code) == 0;
    return n;
}
