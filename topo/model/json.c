/* The topology model as JSON (jansson): objects, links, per GPU pair and GPU-NIC pair the
 * path class, expected bandwidth and bottleneck, locality, findings and notes. This is the
 * `topo --json` output and the "topology" member of each host in results.json. */
#include <jansson.h>
#include <string.h>

#include "topo.h"

static const char *link_kind_name(tb_link_kind_t k)
{
    static const char *names[TB_LINK_KIND_COUNT] = {"pcie", "nvlink", "xgmi", "socket", "net",
                                                    "given"};
    return (unsigned)k < TB_LINK_KIND_COUNT ? names[k] : "unknown";
}

const char *tb_topo_severity_name(tb_finding_severity_t sev)
{
    return sev == TB_SEV_ERROR ? "error" : sev == TB_SEV_WARN ? "warning" : "info";
}

/* Sets a member only when the value is known, so consumers see absence, not "" or -1. */
static int set_str(json_t *o, const char *key, const char *v)
{
    return v && v[0] ? json_object_set_new(o, key, json_string(v)) : 0;
}

static int set_int(json_t *o, const char *key, long long v)
{
    return v >= 0 ? json_object_set_new(o, key, json_integer(v)) : 0;
}

/* The names of TB_INF_* bits, for the "inferred" lists. */
static json_t *inferred_json(unsigned bits)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{TB_INF_NUMA, "numa"},           {TB_INF_LINK, "pcie_link"},
                 {TB_INF_LINK_MAX, "pcie_max_gen"}, {TB_INF_LINK_LAYER, "link_layer"},
                 {TB_INF_COUNT, "count"},          {TB_INF_VERSION, "version"}};
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < sizeof(names) / sizeof(names[0]); k++)
        if (bits & names[k].bit)
            json_array_append_new(arr, json_string(names[k].name));
    return arr;
}

static json_t *obj_json(const tb_topo_t *topo, size_t i)
{
    const tb_topo_obj_t *o = &topo->objs[i];
    json_t *j = json_object();
    int err = 0;
    if (!j)
        return NULL;
    err |= json_object_set_new(j, "index", json_integer((json_int_t)i));
    err |= json_object_set_new(j, "kind", json_string(tb_topo_kind_name(o->kind)));
    err |= json_object_set_new(j, "parent", json_integer(o->parent));
    err |= set_str(j, "name", o->name);
    err |= set_str(j, "model", o->model);
    err |= set_str(j, "busid", o->busid);
    err |= set_str(j, "uuid", o->uuid);
    err |= set_int(j, "os_index", o->os_index);
    err |= set_int(j, "numa", o->numa);
    err |= set_str(j, "cpuset", o->cpuset);
    if (o->memory_bytes)
        err |= json_object_set_new(j, "memory_bytes", json_integer((json_int_t)o->memory_bytes));
    if (o->link_gen > 0 || o->link_width > 0 || o->link_gbs > 0) {
        json_t *l = json_pack("{s:i, s:i, s:i, s:i, s:f}", "gen", o->link_gen, "width",
                              o->link_width, "max_gen", o->link_max_gen, "max_width",
                              o->link_max_width, "gbs", o->link_gbs);
        err |= json_object_set_new(j, "pcie_link", l);
    }
    if (o->nvlink_expected)
        err |= json_object_set_new(j, "nvlink_expected", json_integer(o->nvlink_expected));
    if (o->inferred)
        err |= json_object_set_new(j, "inferred", inferred_json(o->inferred));
    if (o->kind == TB_OBJ_NIC) {
        json_t *ports = json_array();
        for (int k = 0; ports && k < o->nports && k < TB_TOPO_MAX_PORTS; k++) {
            const tb_topo_port_t *p = &o->ports[k];
            json_t *pj = json_object();
            if (!pj)
                break;
            json_object_set_new(pj, "num", json_integer(p->num));
            set_str(pj, "state", p->state);
            set_str(pj, "phys_state", p->phys_state);
            set_str(pj, "link_layer", p->link_layer);
            if (p->rate_gbps > 0)
                json_object_set_new(pj, "rate_gbps", json_real(p->rate_gbps));
            if (p->max_rate_gbps > 0)
                json_object_set_new(pj, "max_rate_gbps", json_real(p->max_rate_gbps));
            set_str(pj, "netdev", p->netdev);
            if (p->state[0] && strcmp(p->link_layer, "Ethernet") == 0) {
                json_object_set_new(pj, "rocev2_gid", json_boolean(p->has_rocev2_gid));
                set_int(pj, "rocev2_gid_index", p->rocev2_gid_index);
            }
            /* Whether rocev2_gid says anything: only verbs and sysfs read GID types. */
            if (strcmp(p->link_layer, "Ethernet") == 0 && p->gids_typed)
                json_object_set_new(pj, "gids_typed", json_true());
            json_array_append_new(ports, pj);
        }
        err |= json_object_set_new(j, "ports", ports);
        err |= set_str(j, "firmware", o->firmware);
        err |= set_str(j, "driver", o->driver);
    }
    if (err) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *path_json(const tb_topo_t *topo, int a, int b)
{
    tb_topo_path_t p;
    json_t *j;
    tb_topo_path(topo, a, b, &p);
    /* xGMI paths: class "XGMI" with "xgmi_links", as the text prints XGMI#. */
    j = json_pack("{s:s, s:s, s:s}", "a", topo->objs[a].name, "b", topo->objs[b].name, "class",
                  p.xgmi ? "XGMI" : tb_path_class_name(p.cls));
    if (!j)
        return NULL;
    if (p.cls == TB_PATH_NV)
        json_object_set_new(j, p.xgmi ? "xgmi_links" : "nvlinks", json_integer(p.nvlinks));
    if (p.given)
        json_object_set_new(j, "given", json_true());
    if (p.inferred)
        json_object_set_new(j, "inferred", json_true());
    if (p.theoretical_gbs > 0) {
        json_object_set_new(j, "theoretical_gbs", json_real(p.theoretical_gbs));
        json_object_set_new(j, "achievable_gbs", json_real(p.achievable_gbs));
    }
    set_str(j, "bottleneck", p.bottleneck);
    return j;
}

static json_t *locality_json(const tb_topo_t *topo, size_t i)
{
    const tb_topo_obj_t *o = &topo->objs[i];
    json_t *j = json_pack("{s:s}", "name", o->name);
    if (!j)
        return NULL;
    set_int(j, "numa", o->numa);
    set_str(j, "cpuset", o->cpuset);
    if (o->kind == TB_OBJ_GPU) {
        int nics[64];
        size_t n = tb_topo_nearest_nics(topo, (int)i, nics, 64);
        json_t *arr = json_array();
        tb_topo_path_t best, p;
        if (n)
            tb_topo_path(topo, (int)i, nics[0], &best);
        for (size_t k = 0; arr && k < n; k++) {
            tb_topo_path(topo, (int)i, nics[k], &p);
            if (p.cls != best.cls)
                break;
            json_array_append_new(arr, json_string(topo->objs[nics[k]].name));
        }
        json_object_set_new(j, "nearest_nics", arr);
        if (n)
            json_object_set_new(j, "nearest_nic_class", json_string(tb_path_class_name(best.cls)));
    }
    return j;
}

/* Host network interfaces (sysfs): which are physical matters for NCCL_SOCKET_IFNAME. */
static json_t *netifs_json(const tb_topo_t *topo)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < topo->nnetifs; i++) {
        const tb_topo_netif_t *n = &topo->netifs[i];
        json_t *nj = json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", n->name, "kind",
                               tb_netif_kind_name(n->kind), "operstate", n->operstate,
                               "speed_mbps", n->speed_mbps, "mtu", n->mtu);
        if (!nj)
            continue;
        set_str(nj, "busid", n->busid);
        set_str(nj, "address", n->address);
        set_str(nj, "ipv4", n->ipv4);
        json_array_append_new(arr, nj);
    }
    return arr;
}

void *tb_topo_to_json(const tb_topo_t *topo)
{
    json_t *root = json_object(), *objs = json_array(), *links = json_array(),
           *gpu_pairs = json_array(), *gpu_nic = json_array(), *loc = json_array(),
           *findings = json_array(), *notes = json_array();
    if (!topo || !root || !objs || !links || !gpu_pairs || !gpu_nic || !loc || !findings ||
        !notes)
        goto err;
    set_str(root, "hostname", topo->hostname);
    set_str(root, "source", topo->source);
    set_str(root, "source_file", topo->source_file);
    set_str(root, "cpu_model", topo->cpu_model);
    set_str(root, "driver_version", topo->driver_version);
    json_object_set_new(root, "gpus", json_integer((json_int_t)tb_topo_count(topo, TB_OBJ_GPU)));
    json_object_set_new(root, "nics", json_integer((json_int_t)tb_topo_count(topo, TB_OBJ_NIC)));
    for (size_t i = 0; i < topo->nobjs; i++) {
        json_t *o = obj_json(topo, i);
        if (!o || json_array_append_new(objs, o))
            goto err;
    }
    for (size_t i = 0; i < topo->nlinks; i++) {
        const tb_topo_link_t *l = &topo->links[i];
        json_t *lj = json_pack("{s:s, s:s, s:s, s:i, s:b}", "kind", link_kind_name(l->kind), "a",
                               topo->objs[l->a].name, "b", topo->objs[l->b].name, "count",
                               l->count, "active", l->active);
        if (!lj)
            goto err;
        if (l->version)
            json_object_set_new(lj, "version", json_integer(l->version));
        if (l->inferred)
            json_object_set_new(lj, "inferred", inferred_json(l->inferred));
        if (l->gbs > 0)
            json_object_set_new(lj, "gbs", json_real(l->gbs));
        if (l->kind == TB_LINK_GIVEN) {
            json_object_set_new(lj, "class", json_string(tb_path_class_name(l->cls)));
            if (l->p2p >= 0)
                json_object_set_new(lj, "p2p", json_boolean(l->p2p));
        }
        json_array_append_new(links, lj);
    }
    for (size_t a = 0; a < topo->nobjs; a++) {
        if (topo->objs[a].kind != TB_OBJ_GPU)
            continue;
        for (size_t b = 0; b < topo->nobjs; b++) {
            json_t *pj = NULL;
            if (topo->objs[b].kind == TB_OBJ_GPU && b > a)
                pj = path_json(topo, (int)a, (int)b), json_array_append_new(gpu_pairs, pj);
            else if (topo->objs[b].kind == TB_OBJ_NIC)
                pj = path_json(topo, (int)a, (int)b), json_array_append_new(gpu_nic, pj);
            else
                continue;
            if (!pj)
                goto err;
        }
    }
    for (size_t i = 0; i < topo->nobjs; i++) {
        if (topo->objs[i].kind == TB_OBJ_GPU || topo->objs[i].kind == TB_OBJ_NIC) {
            json_t *lj = locality_json(topo, i);
            if (!lj || json_array_append_new(loc, lj))
                goto err;
        }
    }
    for (size_t i = 0; i < topo->nfindings; i++) {
        const tb_topo_finding_t *f = &topo->findings[i];
        json_t *fj = json_pack("{s:s, s:s, s:s, s:s}", "severity",
                               tb_topo_severity_name(f->severity), "code", f->code, "object",
                               f->object, "message", f->message);
        if (!fj || json_array_append_new(findings, fj))
            goto err;
    }
    for (size_t i = 0; i < topo->nnotes; i++)
        json_array_append_new(notes, json_string(topo->notes[i]));
    json_object_set_new(root, "netifs", netifs_json(topo));
    json_object_set_new(root, "objects", objs);
    json_object_set_new(root, "links", links);
    json_object_set_new(root, "gpu_pairs", gpu_pairs);
    json_object_set_new(root, "gpu_nic_paths", gpu_nic);
    json_object_set_new(root, "locality", loc);
    json_object_set_new(root, "findings", findings);
    json_object_set_new(root, "notes", notes);
    return root;
err:
    json_decref(root);
    json_decref(objs);
    json_decref(links);
    json_decref(gpu_pairs);
    json_decref(gpu_nic);
    json_decref(loc);
    json_decref(findings);
    json_decref(notes);
    return NULL;
}
