/* Recommendations with evidence (docs/analysis.md, "Recommendations"): from the document
 * (every node's topology model, ranks[], the node matrix) and the verdicts just reached,
 * the NCCL settings to use (each with the topology fact or measurement behind it; a
 * setting NCCL documents as debugging-only never becomes a default), the placement of
 * every local rank (GPU, NIC port, cores of the nearest NUMA node), a host order for
 * rings, and the nodes to drain. The result is the analysis section's `recommendations`
 * member; report/ renders it into nccl.env, the rankfile, the Slurm line and the wrapper
 * script. Nothing here reads hardware. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "internal.h"
#include "stats.h"

#define MAX_PORTS 256 /* RDMA ports of one node */
#define MAX_LOCAL 256 /* local ranks placed per node */
#define RING_PASSES 30

typedef struct rport {
    const char *nic;
    int num, numa, usable, roce, gid; /* gid: RoCE v2 IPv4 GID index; -1 none; -2 untyped */
    int down, near_gpu;               /* state known and not ACTIVE; nearest NIC of a GPU */
    double rate, max_rate;
    char state[24];
    char why[200];
} rport_t;

typedef struct rhost {
    const char *name;
    const json_t *topo; /* NULL: no topology recorded */
    rport_t ports[MAX_PORTS];
    size_t nports, nusable;
    int ngpus, nlocal_run, drain;
    double best_gpu_nic; /* the fastest port of a NIC nearest a GPU (Gb/s), 0 unknown */
    char hca[1024]; /* "=mlx5_0:1,mlx5_1:1": its usable RDMA ports */
} rhost_t;

typedef struct rctx {
    const json_t *doc, *analysis;
    const tb_analysis_opts_t *opts;
    const char *docdir;
    rhost_t *hosts;
    size_t nhosts;
    json_t *env, *kept, *findings, *drain;
} rctx_t;

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int iget(const json_t *o, const char *k, int dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

/* The element of topo[array] whose `key` is `value`, or NULL. */
static const json_t *find_by(const json_t *topo, const char *array, const char *key,
                             const char *value)
{
    const json_t *o;
    size_t i;
    json_array_foreach(json_object_get(topo, array), i,
                       o) if (!strcmp(sget(o, key), value)) return o;
    return NULL;
}

static const json_t *obj_named(const json_t *topo, const char *name)
{
    return find_by(topo, "objects", "name", name);
}

static const json_t *locality_of(const json_t *topo, const char *name)
{
    return find_by(topo, "locality", "name", name);
}

/* The nth object of a kind, in the JSON's order (GPUs in number order), or NULL. */
static const json_t *nth_of_kind(const json_t *topo, const char *kind, int nth)
{
    const json_t *o;
    size_t i;
    int k = 0;
    json_array_foreach(json_object_get(topo, "objects"), i,
                       o) if (!strcmp(sget(o, "kind"), kind) && k++ == nth) return o;
    return NULL;
}

/* The cores of NUMA node `numa` ("" unknown). */
static const char *numa_cpuset(const json_t *topo, int numa)
{
    for (int k = 0;; k++) {
        const json_t *o = nth_of_kind(topo, "numa", k);
        if (!o || iget(o, "os_index", -1) == numa)
            return sget(o, "cpuset");
    }
}

static void cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    if (n + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

/* ---- the nodes' RDMA ports ---------------------------------------------------------- */

/* Every RDMA port with the facts its verdict needs (ports_judge decides it once the drained
 * nodes are known). A port whose source records no state or rate is usable: only a stated
 * fact excludes. */
static void host_ports(rhost_t *h)
{
    const json_t *o, *p;
    size_t i, k;
    h->best_gpu_nic = 0;
    /* the rate of the NICs nearest a GPU, for telling a front-end NIC */
    json_array_foreach(json_object_get(h->topo, "locality"), i, o)
    {
        const json_t *n;
        size_t m;
        json_array_foreach(json_object_get(o, "nearest_nics"), m, n)
        {
            const json_t *nic = obj_named(h->topo, json_string_value(n));
            json_array_foreach(json_object_get(nic, "ports"), k, p)
            {
                double r = json_number_value(json_object_get(p, "rate_gbps"));
                if (r > h->best_gpu_nic)
                    h->best_gpu_nic = r;
            }
        }
    }
    json_array_foreach(json_object_get(h->topo, "objects"), i, o) h->ngpus +=
        !strcmp(sget(o, "kind"), "gpu");
    json_array_foreach(json_object_get(h->topo, "objects"), i, o)
    {
        int near_gpu = 0;
        if (strcmp(sget(o, "kind"), "nic") != 0)
            continue;
        {
            const json_t *l;
            size_t m, q;
            json_array_foreach(json_object_get(h->topo, "locality"), m, l)
            {
                const json_t *n;
                json_array_foreach(json_object_get(l, "nearest_nics"), q, n) near_gpu |=
                    !strcmp(json_string_value(n), sget(o, "name"));
            }
        }
        json_array_foreach(json_object_get(o, "ports"), k, p)
        {
            rport_t *rp;
            const char *state = sget(p, "state");
            if (h->nports >= MAX_PORTS)
                break;
            rp = &h->ports[h->nports++];
            memset(rp, 0, sizeof(*rp));
            rp->nic = sget(o, "name");
            rp->num = iget(p, "num", 1);
            rp->numa = iget(o, "numa", -1);
            rp->near_gpu = near_gpu;
            rp->down = state[0] && strcmp(state, "ACTIVE") != 0;
            snprintf(rp->state, sizeof(rp->state), "%s", state);
            rp->rate = json_number_value(json_object_get(p, "rate_gbps"));
            rp->max_rate = json_number_value(json_object_get(p, "max_rate_gbps"));
            rp->roce = !strcmp(sget(p, "link_layer"), "Ethernet");
            rp->gid = json_is_integer(json_object_get(p, "rocev2_gid_index"))
                          ? iget(p, "rocev2_gid_index", -1)
                      : json_is_true(json_object_get(p, "gids_typed")) ? -1
                                                                       : -2;
        }
    }
}

/* The rate most active ports of one kind (InfiniBand, or RoCE) run at on the nodes not
 * drained (all nodes where every one is), the lower on a tie; 0 when no rate is
 * recorded. A port is judged against its peers, not against the maximum it supports:
 * HDR100 on a ConnectX-6, or 200GbE NICs on 100G switches, run every port below its own
 * maximum, and that is the fabric, not a fault. */
static double reference_rate(const rctx_t *c, int roce)
{
    size_t n = 0, cap = 0, best_n = 0;
    double *r = NULL, best = 0;
    for (int pass = 0; pass < 2 && !n; pass++)
        for (size_t h = 0; h < c->nhosts; h++)
            for (size_t k = 0; k < c->hosts[h].nports; k++) {
                const rport_t *p = &c->hosts[h].ports[k];
                if ((pass == 0 && c->hosts[h].drain) || p->down || p->roce != roce || p->rate <= 0)
                    continue;
                if (n == cap) {
                    double *nr = realloc(r, (cap = cap ? 2 * cap : 64) * sizeof(double));
                    if (!nr) {
                        free(r);
                        return 0;
                    }
                    r = nr;
                }
                r[n++] = p->rate;
            }
    if (n)
        qsort(r, n, sizeof(double), tb_stats_cmp_double);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && r[j] == r[i]; j++)
            ;
        if (j - i > best_n) /* ascending: a tie keeps the lower rate, excluding less */
            best = r[i], best_n = j - i;
    }
    free(r);
    return best;
}

/* Each port's verdict: usable (up, at the rate its peers run at) or why not; the nodes'
 * HCA lists; an info finding for ports below the rate they support. */
static void ports_judge(rctx_t *c)
{
    double ref[2] = {reference_rate(c, 0), reference_rate(c, 1)};
    char below[1024] = "";
    size_t nbelow = 0;
    for (size_t h = 0; h < c->nhosts; h++) {
        rhost_t *rh = &c->hosts[h];
        rh->nusable = 0;
        rh->hca[0] = 0;
        for (size_t k = 0; k < rh->nports; k++) {
            rport_t *rp = &rh->ports[k];
            double want = ref[rp->roce];
            rp->usable = 1;
            rp->why[0] = 0;
            if (rp->down) {
                char state[sizeof(rp->state)];
                /* a copy: GCC's -Wrestrict (ASan build) takes two arrays of one struct
                 * for overlapping objects */
                memcpy(state, rp->state, sizeof(state));
                rp->usable = 0;
                snprintf(rp->why, sizeof(rp->why), "%s: %s port %d is %s", rh->name, rp->nic,
                         rp->num, state);
            } else if (rp->rate > 0 && want > 0 && rp->rate < want) {
                rp->usable = 0;
                snprintf(rp->why, sizeof(rp->why),
                         "%s: %s port %d is active at %g Gb/s, below the %g Gb/s most nodes' "
                         "%s ports run at",
                         rh->name, rp->nic, rp->num, rp->rate, want,
                         rp->roce ? "RoCE" : "InfiniBand");
            } else if (rh->ngpus > 0 && !rp->near_gpu && rh->best_gpu_nic > 0 && rp->rate > 0 &&
                       rp->rate < rh->best_gpu_nic) {
                rp->usable = 0;
                snprintf(rp->why, sizeof(rp->why),
                         "%s: %s port %d (%g Gb/s) is the nearest NIC of no GPU and slower than "
                         "the GPUs' NICs (%g Gb/s): a front-end or storage NIC",
                         rh->name, rp->nic, rp->num, rp->rate, rh->best_gpu_nic);
            }
            if (rp->usable && !rh->drain && rp->rate > 0 && rp->max_rate > rp->rate && nbelow++ < 6)
                cat(below, sizeof(below), "%s%s: %s port %d at %g of %g Gb/s", below[0] ? "; " : "",
                    rh->name, rp->nic, rp->num, rp->rate, rp->max_rate);
            if (rp->usable) {
                cat(rh->hca, sizeof(rh->hca), "%s%s:%d", rh->nusable ? "," : "=", rp->nic, rp->num);
                rh->nusable++;
            }
        }
    }
    if (nbelow) {
        char *msg = NULL;
        if (asprintf(&msg,
                     "%zu RDMA port%s run below the rate %s support, at the rate most nodes' "
                     "ports of %s kind run at (a switch, cable or fabric limit, not a fault of "
                     "the port; kept in NCCL_IB_HCA): %s%s",
                     nbelow, nbelow == 1 ? "" : "s", nbelow == 1 ? "it" : "they",
                     nbelow == 1 ? "its" : "their", below, nbelow > 6 ? "; ..." : "") >= 0) {
            json_array_append_new(c->findings,
                                  json_pack("{s:s, s:s, s:s}", "severity", "info", "code",
                                            "port_below_max_rate", "message", msg));
            free(msg);
        }
    }
}

/* ---- items -------------------------------------------------------------------------- */

static json_t *env_item(rctx_t *c, const char *name, const char *value, const char *status)
{
    /* every rule so far stands on the nodes' topologies */
    json_t *it = json_pack("{s:s, s:s?, s:s, s:s, s:[]}", "name", name, "value", value, "status",
                           status, "basis", "topology", "evidence");
    json_array_append_new(c->env, it);
    return it;
}

static void evidence(json_t *item, const char *text)
{
    json_array_append_new(json_object_get(item, "evidence"), json_string(text));
}

static void evidencef(json_t *item, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void evidencef(json_t *item, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) >= 0) {
        evidence(item, msg);
        free(msg);
    }
    va_end(ap);
}

static json_t *kept_item(rctx_t *c, const char *name, const char *why)
{
    json_t *it = json_pack("{s:s, s:s, s:[]}", "name", name, "why", why, "evidence");
    json_array_append_new(c->kept, it);
    return it;
}

/* The value most hosts share (among `vals`, "" = none; drained hosts do not vote), and
 * the per-host exceptions into `per_host`. */
static const char *majority(rctx_t *c, char *const *vals, json_t *per_host)
{
    const char *best = NULL;
    size_t best_n = 0;
    for (size_t h = 0; h < c->nhosts; h++) {
        size_t n = 0;
        if (!vals[h][0] || c->hosts[h].drain)
            continue;
        for (size_t g = 0; g < c->nhosts; g++)
            n += !c->hosts[g].drain && !strcmp(vals[g], vals[h]);
        if (n > best_n)
            best = vals[h], best_n = n;
    }
    for (size_t h = 0; best && h < c->nhosts; h++)
        if (vals[h][0] && strcmp(vals[h], best) != 0)
            json_object_set_new(per_host, c->hosts[h].name, json_string(vals[h]));
    return best;
}

static char **vals_new(size_t n, size_t len)
{
    char **v = calloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = calloc(1, len))) {
            while (i--)
                free(v[i]);
            free(v);
            return NULL;
        }
    return v;
}

static void vals_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- NCCL_IB_HCA -------------------------------------------------------------------- */

static void rule_ib_hca(rctx_t *c)
{
    size_t excluded = 0, with_ports = 0;
    char **vals = vals_new(c->nhosts, 1024);
    json_t *per = json_object(), *it;
    const char *best;
    if (!vals || !per)
        goto out;
    for (size_t h = 0; h < c->nhosts; h++) {
        rhost_t *rh = &c->hosts[h];
        if (!rh->nports || rh->drain)
            continue; /* a drained node's ports are its drain reason, not the job's list */
        with_ports++;
        snprintf(vals[h], 1024, "%s", rh->hca);
        for (size_t k = 0; k < rh->nports; k++)
            excluded += !rh->ports[k].usable;
    }
    if (!with_ports) {
        kept_item(c, "NCCL_IB_HCA", "no node has an RDMA port in its topology: NCCL uses sockets");
        goto out;
    }
    if (!excluded) {
        kept_item(c, "NCCL_IB_HCA",
                  "every RDMA port of every node (drained nodes left out) is up at the rate "
                  "most nodes' ports of its kind run at (as far as the sources record state "
                  "and rate): NCCL uses them all, and narrowing the list would only lose "
                  "bandwidth");
        goto out;
    }
    best = majority(c, vals, per);
    if (!best) {
        kept_item(c, "NCCL_IB_HCA", "no node has a usable RDMA port left");
        goto out;
    }
    it = env_item(c, "NCCL_IB_HCA", best, "set");
    for (size_t h = 0; h < c->nhosts; h++)
        for (size_t k = 0; k < c->hosts[h].nports && !c->hosts[h].drain; k++)
            if (!c->hosts[h].ports[k].usable)
                evidence(it, c->hosts[h].ports[k].why);
    evidence(it, "the list names the ports that are up at the rate most nodes' ports of their "
                 "kind run at, with '=' for exact names (mlx5_1 would otherwise also match "
                 "mlx5_10)");
    if (json_object_size(per)) {
        json_object_set(it, "per_host", per);
        evidence(it, "nodes whose usable ports differ get their own list (per_host; the "
                     "wrapper script sets it)");
    }
out:
    json_decref(per);
    vals_free(vals, c->nhosts);
}

/* ---- NCCL_SOCKET_IFNAME ------------------------------------------------------------- */

static int nccl_skips(const char *name)
{
    /* NCCL's automatic choice passes over lo and docker* (NCCL environment variables
     * documentation, NCCL_SOCKET_IFNAME). */
    return !strcmp(name, "lo") || !strncmp(name, "docker", 6);
}

static int if_up(const json_t *n)
{
    const char *s = sget(n, "operstate");
    return !s[0] || !strcmp(s, "up") || !strcmp(s, "unknown");
}

/* An interface a device carries: a NIC (physical, IPoIB children included), a bond over
 * its slaves, a VLAN over its parent. veth, tun/tap and bridges have none. */
static int if_backed(const char *kind)
{
    return !strcmp(kind, "physical") || !strcmp(kind, "bond") || !strcmp(kind, "vlan");
}

static void rule_socket_ifname(rctx_t *c)
{
    char good[1024] = "", risky[1024] = "", ib_hosts[512] = "";
    size_t hosts_known = 0, nrisky = 0, ngood = 0, nib = 0;
    json_t *it;
    for (size_t h = 0; h < c->nhosts; h++) {
        const json_t *nifs = json_object_get(c->hosts[h].topo, "netifs"), *n;
        size_t i;
        int any_ipv4 = 0, ib_first = 0, ib_skipped = 0;
        if (c->hosts[h].drain || !json_array_size(nifs))
            continue;
        hosts_known++;
        json_array_foreach(nifs, i, n) any_ipv4 |= sget(n, "ipv4")[0] != 0;
        /* NCCL's automatic choice takes the ib* interfaces with an address first and looks
         * no further (NCCL's socket code: "ib", then "^docker,lo"): where the source
         * records addresses and one is there, no other interface is a candidate */
        json_array_foreach(nifs, i, n) ib_first |=
            if_up(n) && !strncmp(sget(n, "name"), "ib", 2) && sget(n, "ipv4")[0];
        json_array_foreach(nifs, i, n)
        {
            const char *name = sget(n, "name"), *kind = sget(n, "kind");
            char one[200];
            if (!if_up(n) || nccl_skips(name))
                continue;
            if (if_backed(kind)) {
                char key[40];
                if (any_ipv4 && !sget(n, "ipv4")[0])
                    continue; /* up but without an address (a bond's slave): bootstrap
                               * cannot use it */
                snprintf(key, sizeof(key), ",%s,", name);
                if (!strstr(good, key) && strlen(good) + strlen(key) + 2 < sizeof(good)) {
                    if (!good[0])
                        snprintf(good, sizeof(good), ",");
                    cat(good, sizeof(good), "%s,", name);
                    ngood++;
                }
            } else if (!strcmp(kind, "virtual") || !strcmp(kind, "bridge")) {
                if (ib_first) {
                    ib_skipped = 1;
                    continue;
                }
                snprintf(one, sizeof(one), "%s%s: %s (%s, %s%s%s)", nrisky ? "; " : "",
                         c->hosts[h].name, name, kind,
                         sget(n, "operstate")[0] ? sget(n, "operstate") : "state unknown",
                         sget(n, "ipv4")[0] ? ", " : "", sget(n, "ipv4"));
                cat(risky, sizeof(risky), "%s", one);
                nrisky++;
            }
        }
        if (ib_skipped && nib++ < 6)
            cat(ib_hosts, sizeof(ib_hosts), "%s%s", ib_hosts[0] ? ", " : "", c->hosts[h].name);
    }
    if (!hosts_known) {
        kept_item(c, "NCCL_SOCKET_IFNAME",
                  "no node's topology lists its network interfaces (live discovery records "
                  "them; imported files mostly do not): not judged");
        return;
    }
    if (!nrisky || !ngood) {
        it = kept_item(c, "NCCL_SOCKET_IFNAME",
                       !nrisky ? "besides lo and docker* (which NCCL's automatic choice skips) "
                                 "every interface that is up and a candidate is carried by a "
                                 "device (a NIC, a bond, a VLAN): NCCL's choice is among them"
                               : "no interface carried by a device is up with an address: "
                                 "nothing to name");
        if (ib_hosts[0])
            evidencef(it,
                      "a veth or bridge is up on %s, where an ib* interface has an IPv4 "
                      "address: NCCL's automatic choice takes ib* interfaces first and never "
                      "reaches it",
                      ib_hosts);
        return;
    }
    {
        /* ",eth0,ib0," -> "=eth0,ib0" */
        char value[1024];
        size_t n = strlen(good);
        good[n - 1] = 0;
        snprintf(value, sizeof(value), "=%s", good + 1);
        it = env_item(c, "NCCL_SOCKET_IFNAME", value, "set");
    }
    evidencef(it,
              "interfaces up that NCCL's automatic choice would consider (it skips only lo and "
              "docker*, and takes ib* interfaces first only where one has an address): %s",
              risky);
    evidence(it, "the value names the interfaces carried by a device (NICs, bonds, VLANs) that "
                 "are up (with an IPv4 address where the source records addresses), exactly "
                 "('=')");
}

/* ---- NCCL_IB_GID_INDEX -------------------------------------------------------------- */

static void rule_gid_index(rctx_t *c)
{
    char **vals = vals_new(c->nhosts, 32);
    char listing[2048] = "", untyped[1024] = "";
    size_t nroce = 0, nknown = 0, nnone = 0;
    int disagree = 0;
    json_t *per = json_object(), *it;
    const char *best;
    if (!vals || !per)
        goto out;
    for (size_t h = 0; h < c->nhosts; h++) {
        rhost_t *rh = &c->hosts[h];
        int host_gid = -3;
        for (size_t k = 0; k < rh->nports && !rh->drain; k++) {
            rport_t *p = &rh->ports[k];
            if (!p->roce || !p->usable)
                continue;
            nroce++;
            if (p->gid == -2) {
                cat(untyped, sizeof(untyped), "%s%s %s/%d", untyped[0] ? ", " : "", rh->name,
                    p->nic, p->num);
                continue;
            }
            cat(listing, sizeof(listing), "%s%s %s/%d: %s", listing[0] ? "; " : "", rh->name,
                p->nic, p->num, p->gid >= 0 ? "" : "no RoCE v2 GID with an IPv4 address");
            if (p->gid < 0) {
                nnone++;
                continue;
            }
            cat(listing, sizeof(listing), "%d", p->gid);
            nknown++;
            if (host_gid == -3)
                host_gid = p->gid;
            else if (host_gid != p->gid)
                disagree = 1; /* two ports of one node */
        }
        if (host_gid >= 0)
            snprintf(vals[h], 32, "%d", host_gid);
    }
    if (!nroce) {
        kept_item(c, "NCCL_IB_GID_INDEX",
                  "no usable RoCE (Ethernet) RDMA port: InfiniBand needs no GID index");
        goto out;
    }
    if (!nknown) {
        it = kept_item(c, "NCCL_IB_GID_INDEX",
                       nnone ? "RoCE ports without a RoCE v2 GID carrying an IPv4 address: no "
                               "index to name (configure an address on the port's netdev)"
                             : "the sources did not record the GID types (hwloc does not): "
                               "which GID is RoCE v2 is unknown (show_gids on a node says)");
        if (listing[0])
            evidence(it, listing);
        if (untyped[0])
            evidence(it, untyped);
        goto out;
    }
    best = majority(c, vals, per);
    it = env_item(c, "NCCL_IB_GID_INDEX", best, "set");
    evidencef(it,
              "each RoCE port's GID table: the first RoCE v2 GID with an IPv4-mapped address "
              "(::ffff:a.b.c.d, routable across subnets): %s",
              listing);
    if (json_object_size(per) || disagree) {
        json_t *f = json_pack("{s:s, s:s, s:s}", "severity", "warning", "code",
                              "gid_index_disagree", "message", "");
        char msg[2400];
        snprintf(msg, sizeof(msg),
                 "the RoCE v2 IPv4 GID index differs between %s: %s; NCCL_IB_GID_INDEX is one "
                 "value per process, so %s",
                 disagree ? "ports of one node" : "nodes", listing,
                 disagree ? "a node whose ports disagree needs its GID tables aligned"
                          : "the wrapper script sets each node's own index (per_host)");
        json_object_set_new(f, "message", json_string(msg));
        json_array_append_new(c->findings, f);
        json_object_set(it, "per_host", per);
        evidence(it, msg);
    }
    if (untyped[0])
        evidencef(it, "not judged (GID types not recorded by the source): %s", untyped);
out:
    json_decref(per);
    vals_free(vals, c->nhosts);
}

/* ---- NCCL_NET_GDR_LEVEL ------------------------------------------------------------- */

/* NCCL's path levels: NCCL_NET_GDR_LEVEL takes LOC, PIX, PXB, PHB, SYS; NCCL's PHB is
 * "same NUMA node", which covers the model's NODE. */
static int class_rank(const char *cls)
{
    static const char *const order[] = {"NV", "PIX", "PXB", "PHB", "NODE", "SYS"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(cls, order[i]))
            return i;
    return -1;
}

/* The NCCL_NET_GDR_LEVEL a class needs: NODE is NCCL's PHB. */
static int nccl_level(int rank)
{
    return rank == 4 ? 3 : rank;
}

/* The gdr test's verdicts (bench/verbs, docs/verbs.md): one per GPU of each node, each
 * with its GPU-NIC path. The test entry, or NULL. */
static const json_t *gdr_verdicts(const json_t *doc)
{
    const json_t *t;
    size_t i;
    json_array_foreach(json_object_get(doc, "tests"), i,
                       t) if (!strcmp(sget(t, "name"), "gdr")) return json_object_get(t,
                                                                                      "verdicts");
    return NULL;
}

/* A measured "not available" about GDR itself, not about missing hardware: 1; 2 when
 * registration worked and the transfers failed (NCCL would use GDR and fail). */
static int gdr_broken(const json_t *v)
{
    const char *code = sget(json_array_get(json_object_get(v, "reasons"), 0), "code");
    if (!v || !strcmp(sget(v, "status"), "works") || !strcmp(code, "no_rdma_device") ||
        !strcmp(code, "no_gpu"))
        return 0;
    return !strcmp(code, "transfer_error") ? 2 : 1;
}

/* GDR over a far path measured at this share of host-memory RDMA or more: a setting, not an
 * experiment (staging through host memory cannot beat the host-memory figure). */
#define GDR_MEASURED_SET_RATIO 0.9

/* What the gdr test measured on one host, over all its GPUs' verdicts. */
typedef struct gdr_host {
    int broken;   /* a GPU's GDR not available (registration, module, ...) */
    int far_best; /* the farthest level (nccl_level) measured at GDR_MEASURED_SET_RATIO or
                   * more; -1 none */
    int nfar;     /* far verdicts with a figure */
    int nweak;    /* ... below GDR_MEASURED_SET_RATIO */
} gdr_host_t;

static void gdr_host_scan(const json_t *verdicts, const char *host, gdr_host_t *g, char *broken,
                          size_t blen, int *nbroken, char *measured, size_t mlen, int *nmeasured)
{
    const json_t *v;
    size_t i;
    memset(g, 0, sizeof(*g));
    g->far_best = -1;
    json_array_foreach(verdicts, i, v)
    {
        int r = nccl_level(class_rank(sget(v, "path")));
        if (strcmp(sget(v, "host"), host) != 0)
            continue;
        if (gdr_broken(v)) {
            g->broken = 1;
            if ((*nbroken)++ < 6)
                cat(broken, blen, "%s%s %s: %s", broken[0] ? "; " : "", host, sget(v, "gpu"),
                    sget(v, "line"));
        } else if (json_is_number(json_object_get(v, "ratio")) && r >= 3) {
            double ratio = json_number_value(json_object_get(v, "ratio"));
            g->nfar++;
            if (ratio >= GDR_MEASURED_SET_RATIO) {
                if (r > g->far_best)
                    g->far_best = r;
            } else {
                g->nweak++;
            }
            if ((*nmeasured)++ < 6)
                cat(measured, mlen, "%s%s %s (%s): %s", measured[0] ? "; " : "", host,
                    sget(v, "gpu"), sget(v, "path"), sget(v, "line"));
        }
    }
}

static void rule_gdr_level(rctx_t *c)
{
    char far[2048] = "", measured[2048] = "", broken[2048] = "";
    int worst = -1, gdr_off = 0, hosts_gpu = 0, nfar = 0, nmeasured = 0, nweak = 0, nbroken = 0,
        far_hosts = 0, nset = 0;
    const json_t *verdicts = gdr_verdicts(c->doc);
    json_t *it;
    for (size_t h = 0; h < c->nhosts; h++) {
        const json_t *topo = c->hosts[h].topo, *l, *f;
        size_t i;
        gdr_host_t g;
        int host_gdr_off = 0, host_worst = -1;
        if (c->hosts[h].drain || !c->hosts[h].ngpus || !c->hosts[h].nports)
            continue;
        hosts_gpu++;
        json_array_foreach(json_object_get(topo, "findings"), i, f) host_gdr_off |=
            !strcmp(sget(f, "code"), "gdr_unavailable");
        /* The gdr test's verdicts outrank the topology: it registered and moved memory, on
         * every GPU of the node. */
        gdr_host_scan(verdicts, c->hosts[h].name, &g, broken, sizeof(broken), &nbroken, measured,
                      sizeof(measured), &nmeasured);
        host_gdr_off |= g.broken;
        gdr_off |= host_gdr_off;
        nweak += g.nweak;
        json_array_foreach(json_object_get(topo, "locality"), i, l)
        {
            const char *cls = sget(l, "nearest_nic_class");
            int r = class_rank(cls);
            if (!json_object_get(l, "nearest_nics") || r < 3 || host_gdr_off)
                continue;
            if (r > worst)
                worst = r;
            if (nccl_level(r) > host_worst)
                host_worst = nccl_level(r);
            if (nfar++ < 6)
                cat(far, sizeof(far), "%s%s %s: nearest NIC %s (%s)", far[0] ? "; " : "",
                    c->hosts[h].name, sget(l, "name"),
                    json_string_value(json_array_get(json_object_get(l, "nearest_nics"), 0)), cls);
        }
        far_hosts += host_worst >= 0;
        /* measured good over a path at least as far (in NCCL's levels) as this node's
         * farthest, none weak */
        nset += host_worst >= 0 && !g.nweak && g.far_best >= host_worst;
    }
    if (!hosts_gpu) {
        kept_item(c, "NCCL_NET_GDR_LEVEL", "no node with both GPUs and RDMA NICs in its topology");
        return;
    }
    if (worst < 0) {
        it = kept_item(c, "NCCL_NET_GDR_LEVEL",
                       gdr_off ? "GPUDirect RDMA is unavailable on a NIC (gdr_unavailable: no "
                                 "nvidia-peermem or dma-buf, or the gdr test's verdict): no "
                                 "level enables it"
                               : "every GPU's nearest NIC is PIX or PXB away: NCCL's default "
                                 "already uses GPUDirect RDMA there");
        if (broken[0])
            evidencef(it, "measured (gdr test): %s", broken);
        return;
    }
    if (nfar > 6)
        cat(far, sizeof(far), "; and %d more GPUs", nfar - 6);
    /* Measured on every far node at host-memory speed: set it; otherwise an experiment. */
    it = env_item(c, "NCCL_NET_GDR_LEVEL", worst >= 5 ? "SYS" : "PHB",
                  far_hosts && nset == far_hosts ? "set" : "try");
    evidencef(it,
              "NCCL uses GPUDirect RDMA by default only up to PXB; these GPUs are farther "
              "from their nearest NIC: %s",
              far);
    if (far_hosts && nset == far_hosts) {
        json_object_set_new(it, "basis", json_string("measured"));
        evidencef(it,
                  "the gdr test measured GPUDirect RDMA over paths as far as each node's "
                  "farthest at %.0f%% or more of host-memory RDMA, which host staging cannot "
                  "beat: %s",
                  100 * GDR_MEASURED_SET_RATIO, measured);
    } else if (nmeasured) {
        evidencef(it,
                  "an experiment: the gdr test measured GPUDirect RDMA over far paths (%s)%s; "
                  "keep the level only where NCCL's own figures beat staging through host "
                  "memory",
                  measured,
                  nweak ? ", below 90% of host-memory RDMA on some"
                        : ", not on every far node or not over its farthest path");
    } else {
        evidence(it, "an experiment, not a default: keep it where a GPUDirect transfer over "
                     "that path measures faster than staging through host memory (this "
                     "document holds no such measurement: run -t gdr)");
    }
    if (broken[0])
        evidencef(it,
                  "left out: nodes where the gdr test found GPUDirect RDMA not available "
                  "(where NCCL finds no GPUDirect support it stages through host memory "
                  "whatever the level; a registration failing on one GPU needs its cause "
                  "fixed): %s",
                  broken);
}

/* ---- NCCL_CROSS_NIC ----------------------------------------------------------------- */

static void rule_cross_nic(rctx_t *c)
{
    char counts[1024] = "";
    size_t first = (size_t)-1, multi = 0;
    int differ = 0;
    json_t *it;
    for (size_t h = 0; h < c->nhosts; h++) {
        if (c->hosts[h].drain || !c->hosts[h].nports)
            continue;
        multi += c->hosts[h].nusable > 1;
        if (first == (size_t)-1)
            first = h;
        else if (strcmp(c->hosts[h].hca, c->hosts[first].hca) != 0)
            differ = 1;
        cat(counts, sizeof(counts), "%s%s %zu (%s)", counts[0] ? ", " : "", c->hosts[h].name,
            c->hosts[h].nusable, c->hosts[h].hca[0] ? c->hosts[h].hca + 1 : "none");
    }
    if (!multi) {
        kept_item(c, "NCCL_CROSS_NIC", "no node has more than one usable RDMA port: no rails");
        return;
    }
    if (!differ) {
        kept_item(c, "NCCL_CROSS_NIC",
                  "every node has the same usable RDMA ports; whether the fabric's rails are "
                  "disjoint is not in the document (no per-rail measurement), and NCCL's "
                  "default (2: prefer the same rail) suits both layouts");
        return;
    }
    it = env_item(c, "NCCL_CROSS_NIC", "1", "set");
    evidencef(it,
              "the nodes' usable RDMA ports differ, so rail i of one node has no "
              "counterpart on another: %s; 1 lets a channel use different NICs at its ends",
              counts);
}

/* ---- NCCL_TOPO_FILE ----------------------------------------------------------------- */

/* Whether an object has a PCIe switch (bridge) above it. */
static int below_switch(const json_t *topo, const json_t *o)
{
    const json_t *objs = json_object_get(topo, "objects");
    int p = iget(o, "parent", -1);
    for (int hop = 0; hop < 64 && p >= 0 && (size_t)p < json_array_size(objs); hop++) {
        const json_t *up = json_array_get(objs, (size_t)p);
        if (!strcmp(sget(up, "kind"), "bridge"))
            return 1;
        p = iget(up, "parent", -1);
    }
    return 0;
}

static const char *gts_of(int gen)
{
    static const char *const t[] = {"",          "2.5 GT/s",  "5.0 GT/s", "8.0 GT/s",
                                    "16.0 GT/s", "32.0 GT/s", "64.0 GT/s"};
    return gen >= 1 && gen <= 6 ? t[gen] : "";
}

/* One device of the generated file: bus id, PCI class, link. */
static json_t *xml_dev(const json_t *o, const char *cls)
{
    const json_t *l = json_object_get(o, "pcie_link");
    json_t *d = json_pack("{s:s, s:s, s:s}", "busid", sget(o, "busid"), "class", cls, "name",
                          sget(o, "name"));
    if (iget(l, "gen", 0) > 0)
        json_object_set_new(d, "link_speed", json_string(gts_of(iget(l, "gen", 0))));
    if (iget(l, "width", 0) > 0)
        json_object_set_new(d, "link_width", json_integer(iget(l, "width", 0)));
    return d;
}

/* The NCCL topology a hidden tree should have been: per NUMA node its GPUs and RDMA NICs;
 * where a parent object (a host bridge) holds both GPUs and NICs they share one virtual
 * switch, else each NUMA node's do. */
static json_t *topo_file_system(const json_t *topo)
{
    const json_t *objs = json_object_get(topo, "objects"), *o;
    json_t *cpus = json_array();
    size_t i;
    int sw = 0;
    json_array_foreach(objs, i, o)
    {
        tb_cpumask_t m;
        char aff[TB_CPUMASK_GROUPS_LEN];
        json_t *cpu, *groups;
        const json_t *d;
        size_t k;
        int numa;
        if (strcmp(sget(o, "kind"), "numa") != 0)
            continue;
        groups = json_object();
        numa = iget(o, "os_index", -1);
        tb_cpumask_parse(sget(o, "cpuset"), &m);
        tb_cpumask_groups(&m, aff, sizeof(aff));
        cpu = json_pack("{s:i, s:s, s:[]}", "numaid", numa, "affinity", aff, "switches");
        /* group the NUMA node's GPUs and NICs by parent (or all in one) */
        json_array_foreach(objs, k, d)
        {
            const char *kind = sget(d, "kind");
            int isgpu = !strcmp(kind, "gpu"), isnic = !strcmp(kind, "nic");
            char key[32];
            json_t *g;
            if ((!isgpu && !isnic) || iget(d, "numa", -2) != numa || !sget(d, "busid")[0])
                continue;
            snprintf(key, sizeof(key), "%d", iget(d, "parent", -1));
            if (!(g = json_object_get(groups, key))) {
                g = json_pack("{s:i, s:i, s:[]}", "gpus", 0, "nics", 0, "devices");
                json_object_set_new(groups, key, g);
            }
            json_object_set_new(g, isgpu ? "gpus" : "nics",
                                json_integer(iget(g, isgpu ? "gpus" : "nics", 0) + 1));
            json_array_append_new(json_object_get(g, "devices"),
                                  xml_dev(d, isgpu ? "0x030200" : "0x020700"));
        }
        {
            /* parents holding both kinds get a switch each; the rest of the NUMA node's
             * devices share one */
            const char *key;
            json_t *g, *rest = json_array();
            int rest_g = 0, rest_n = 0;
            json_object_foreach(groups, key, g)
            {
                if (iget(g, "gpus", 0) && iget(g, "nics", 0)) {
                    char bus[32];
                    snprintf(bus, sizeof(bus), "ffff:ff:%02x.0", ++sw);
                    json_array_append_new(json_object_get(cpu, "switches"),
                                          json_pack("{s:s, s:O}", "busid", bus, "devices",
                                                    json_object_get(g, "devices")));
                } else {
                    json_array_extend(rest, json_object_get(g, "devices"));
                    rest_g += iget(g, "gpus", 0);
                    rest_n += iget(g, "nics", 0);
                }
            }
            if (json_array_size(rest)) {
                char bus[32];
                if (rest_g && rest_n)
                    snprintf(bus, sizeof(bus), "ffff:ff:%02x.0", ++sw);
                else
                    bus[0] = 0; /* nothing to pair: the devices hang off the CPU */
                json_array_append_new(json_object_get(cpu, "switches"),
                                      json_pack("{s:s, s:o}", "busid", bus, "devices", rest));
            } else {
                json_decref(rest);
            }
        }
        json_decref(groups);
        json_array_append_new(cpus, cpu);
    }
    return json_pack("{s:o}", "cpus", cpus);
}

static void rule_topo_file(rctx_t *c, json_t *files)
{
    char hidden[1024] = "";
    size_t nfired = 0;
    json_t *per = json_object(), *it = NULL, *first_sys = NULL;
    int same = 1;
    for (size_t h = 0; h < c->nhosts; h++) {
        const json_t *topo = c->hosts[h].topo, *o;
        size_t i;
        int gpus = 0, nics = 0, switched = 0;
        json_t *sys;
        if (c->hosts[h].drain || !topo)
            continue;
        /* a source that states path classes without a tree (nvidia-smi) hides nothing */
        json_array_foreach(json_object_get(topo, "links"), i, o)
            if (!strcmp(sget(o, "kind"), "given"))
                break;
        if (i < json_array_size(json_object_get(topo, "links")))
            continue;
        json_array_foreach(json_object_get(topo, "objects"), i, o)
        {
            const char *kind = sget(o, "kind");
            if (strcmp(kind, "gpu") != 0 && strcmp(kind, "nic") != 0)
                continue;
            gpus += !strcmp(kind, "gpu");
            nics += !strcmp(kind, "nic");
            switched |= below_switch(topo, o);
        }
        if (gpus < 2 || !nics || switched)
            continue;
        nfired++;
        cat(hidden, sizeof(hidden), "%s%s (%d GPUs, %d RDMA NICs, source %s)",
            hidden[0] ? ", " : "", c->hosts[h].name, gpus, nics, sget(topo, "source"));
        sys = topo_file_system(topo);
        if (!first_sys) {
            first_sys = sys;
            json_array_append_new(files, json_pack("{s:s, s:O, s:[s]}", "file", "nccl-topo.xml",
                                                   "system", sys, "hosts", c->hosts[h].name));
        } else if (json_equal(sys, first_sys)) {
            json_array_append_new(json_object_get(json_array_get(files, 0), "hosts"),
                                  json_string(c->hosts[h].name));
            json_decref(sys);
        } else {
            char name[160];
            same = 0;
            snprintf(name, sizeof(name), "nccl-topo-%s.xml", c->hosts[h].name);
            json_array_append_new(files, json_pack("{s:s, s:o, s:[s]}", "file", name, "system", sys,
                                                   "hosts", c->hosts[h].name));
            json_object_set_new(per, c->hosts[h].name, json_string(name));
        }
    }
    if (!nfired) {
        kept_item(c, "NCCL_TOPO_FILE",
                  "no node with several GPUs and an RDMA NIC shows them without any PCIe switch: "
                  "the trees look real, NCCL reads them itself");
        goto out;
    }
    it = env_item(c, "NCCL_TOPO_FILE", "nccl-topo.xml", "set");
    json_object_set_new(it, "file", json_string("nccl-topo.xml"));
    evidencef(it,
              "GPUs and RDMA NICs hang directly off host bridges or NUMA nodes with no PCIe "
              "switch above any of them, as a VM's virtual PCIe tree shows them: %s; NCCL "
              "then sees every GPU-NIC path as PHB or SYS and leaves GPUDirect RDMA off",
              hidden);
    evidence(it, "the generated file puts each NUMA node's GPUs and NICs (or those sharing a "
                 "host bridge) under one virtual switch (ffff:ff:NN.0), as the cloud providers' "
                 "own files for such VMs do (Azure ND A100 v4, AWS p4d); it claims a proximity "
                 "the VM does not show: check it with a GPUDirect measurement, or use the "
                 "provider's file");
    if (!same) {
        json_object_set(it, "per_host", per);
        evidence(it, "the nodes' trees differ: one file per node shape (per_host)");
    }
out:
    json_decref(first_sys);
    json_decref(per);
}

/* ---- debugging-only settings -------------------------------------------------------- */

static void rule_debug_settings(rctx_t *c, json_t *experiments)
{
    static const char *const debug[] = {
        "NCCL_ALGO",      "NCCL_PROTO",    "NCCL_MIN_NCHANNELS", "NCCL_MAX_NCHANNELS",
        "NCCL_P2P_LEVEL", "NCCL_MIN_CTAS", "NCCL_MAX_CTAS"};
    const json_t *run = json_object_get(c->doc, "run"), *v;
    const char *key;
    char set[512] = "";
    /* the run's recorded environment, where the run recorded one */
    json_object_foreach((json_t *)run, key, v)
    {
        if (!json_is_object(v))
            continue;
        for (size_t i = 0; i < sizeof(debug) / sizeof(debug[0]); i++)
            if (json_is_string(json_object_get(v, debug[i])))
                cat(set, sizeof(set), "%s%s=%s", set[0] ? ", " : "", debug[i],
                    json_string_value(json_object_get(v, debug[i])));
    }
    if (set[0]) {
        char msg[900];
        json_t *f;
        snprintf(msg, sizeof(msg),
                 "this run was measured with %s: NCCL documents these as debugging settings "
                 "(not for production); they are not carried into nccl.env. Their effect is "
                 "an A/B experiment: the same tests with and without them",
                 set);
        f = json_pack("{s:s, s:s, s:s}", "severity", "warning", "code", "debug_setting_in_run",
                      "message", msg);
        json_array_append_new(c->findings, f);
    }
    kept_item(c, "NCCL_ALGO, NCCL_PROTO",
              json_array_size(experiments)
                  ? "debugging settings: only as the measured experiments listed"
                  : "debugging settings (NCCL documentation): never a default, only a measured "
                    "A/B experiment, and this document holds none");
}

/* ---- drain ------------------------------------------------------------------------- */

static void drain_add(rctx_t *c, size_t h, const char *basis, const char *reason)
{
    json_t *d;
    size_t i;
    json_array_foreach(c->drain, i, d) if (!strcmp(sget(d, "host"), c->hosts[h].name))
    {
        json_array_append_new(json_object_get(d, "reasons"),
                              json_pack("{s:s, s:s}", "basis", basis, "reason", reason));
        return;
    }
    c->hosts[h].drain = 1;
    json_array_append_new(c->drain, json_pack("{s:s, s:[{s:s, s:s}]}", "host", c->hosts[h].name,
                                              "reasons", "basis", basis, "reason", reason));
}

static void find_drains(rctx_t *c)
{
    const json_t *cu, *f;
    size_t i;
    json_array_foreach(json_object_get(c->analysis, "culprits"), i, cu)
    {
        const char *kind = sget(cu, "kind");
        const json_t *iso = json_object_get(cu, "isolation");
        char reason[1200];
        if (strcmp(kind, "node") != 0 && strcmp(kind, "latency_node") != 0)
            continue;
        if (!strcmp(sget(iso, "verdict"), "not confirmed"))
            continue; /* alone it measured like its peers: load, not the node */
        snprintf(reason, sizeof(reason), "%s verdict: %s; %s%s%s", kind, sget(cu, "suggests"),
                 sget(json_array_get(json_object_get(cu, "evidence"), 0), "message"),
                 iso ? "; isolation: " : "", iso ? sget(iso, "message") : "");
        /* the node is its one host ("n3", "n3 (sending)") */
        for (size_t h = 0; h < c->nhosts; h++)
            if (json_array_size(json_object_get(cu, "hosts")) == 1 &&
                !strcmp(c->hosts[h].name,
                        json_string_value(json_array_get(json_object_get(cu, "hosts"), 0))))
                drain_add(c, h, "measured", reason);
    }
    /* GDR registration works and the transfers on GPU memory fail (ACS, IOMMU): NCCL would
     * use GPUDirect RDMA on that node and fail with it. The node, not the cluster's level. */
    json_array_foreach(gdr_verdicts(c->doc), i, f)
    {
        char reason[600];
        if (gdr_broken(f) != 2)
            continue;
        snprintf(reason, sizeof(reason),
                 "gdr test: GPU memory registered and the RDMA transfers on it failed (%s%s%s): "
                 "NCCL would use GPUDirect RDMA there and fail; %s",
                 sget(f, "gpu"), sget(f, "path")[0] ? ", path " : "", sget(f, "path"),
                 sget(f, "line"));
        for (size_t h = 0; h < c->nhosts; h++)
            if (!strcmp(c->hosts[h].name, sget(f, "host")))
                drain_add(c, h, "measured", reason);
    }
    json_array_foreach(json_object_get(c->doc, "findings"), i, f)
    {
        char reason[600];
        if (strcmp(sget(f, "code"), "node_differs") != 0 || strcmp(sget(f, "severity"), "warning"))
            continue;
        snprintf(reason, sizeof(reason), "its topology differs from the majority: %s",
                 sget(f, "message"));
        for (size_t h = 0; h < c->nhosts; h++)
            if (!strcmp(c->hosts[h].name, sget(f, "host")))
                drain_add(c, h, "topology", reason);
    }
}

/* ---- placement ---------------------------------------------------------------------- */

/* The run's GPU of (host, local rank) where ranks[] records one: {"gpu": {"index": i}} or
 * "gpu_index": i; -1 otherwise. */
/* The GPU the run gave local rank lr of host hi, or -1. The host's own ranks (hosts[].ranks)
 * are looked at, not all of ranks[]: at 4,096 ranks the scan per local rank was 16.7
 * million lookups. */
static int run_gpu_of(const json_t *doc, size_t hi, const char *host, int lr)
{
    const json_t *ranks = json_object_get(doc, "ranks"), *r, *x;
    const json_t *mine = json_object_get(json_array_get(json_object_get(doc, "hosts"), hi), "ranks");
    size_t i, n = json_array_size(mine) ? json_array_size(mine) : json_array_size(ranks);
    for (i = 0; i < n; i++) {
        const json_t *g;
        if (json_array_size(mine)) {
            x = json_array_get(mine, i);
            r = json_array_get(ranks, (size_t)json_integer_value(x));
            if (!json_is_integer(x) || !r)
                continue;
        } else {
            r = json_array_get(ranks, i);
        }
        g = json_object_get(r, "gpu");
        if (strcmp(sget(r, "host"), host) != 0 || iget(r, "local_rank", -1) != lr)
            continue;
        if (json_is_object(g) && json_is_integer(json_object_get(g, "index")))
            return iget(g, "index", -1);
        if (json_is_integer(g))
            return (int)json_integer_value(g);
        return iget(r, "gpu_index", -1);
    }
    return -1;
}

/* The usable port of NIC `nic` ("mlx5_0:1"), or NULL. */
static const rport_t *usable_port(const rhost_t *h, const char *nic)
{
    for (size_t k = 0; k < h->nports; k++)
        if (h->ports[k].usable && !strcmp(h->ports[k].nic, nic))
            return &h->ports[k];
    return NULL;
}

static json_t *host_placement(rctx_t *c, size_t hi, int *from_run)
{
    rhost_t *h = &c->hosts[hi];
    const json_t *topo = h->topo;
    int k = h->ngpus > 0 ? h->ngpus : (h->nlocal_run > 0 ? h->nlocal_run : 1);
    unsigned uses[MAX_PORTS] = {0};
    int nnuma = 0, numas[64];
    json_t *locals = json_array();
    const json_t *o;
    size_t i;
    if (k > MAX_LOCAL)
        k = MAX_LOCAL;
    json_array_foreach(json_object_get(topo, "objects"), i,
                       o) if (!strcmp(sget(o, "kind"), "numa") && nnuma < 64) numas[nnuma++] =
        iget(o, "os_index", -1);
    for (int lr = 0; lr < k; lr++) {
        const json_t *gpu = NULL, *loc = NULL;
        const rport_t *best = NULL;
        const char *cpuset = "", *cls = "";
        int numa = -1, gi = -1;
        char *ev, mask[TB_CPUMASK_HEX_LEN], groups[TB_CPUMASK_GROUPS_LEN];
        size_t evlen;
        tb_cpumask_t m;
        json_t *one;
        if (h->ngpus > 0) {
            gi = run_gpu_of(c->doc, hi, h->name, lr);
            if (gi >= 0)
                *from_run = 1;
            else
                gi = lr;
            {
                char name[32];
                snprintf(name, sizeof(name), "GPU%d", gi);
                gpu = obj_named(topo, name);
                if (!gpu)
                    gpu = nth_of_kind(topo, "gpu", gi);
            }
            loc = gpu ? locality_of(topo, sget(gpu, "name")) : NULL;
            numa = gpu ? iget(gpu, "numa", -1) : -1;
            cls = sget(loc, "nearest_nic_class");
            /* the nearest usable NIC, the least used one among equals */
            {
                const json_t *n;
                size_t q;
                json_array_foreach(json_object_get(loc, "nearest_nics"), q, n)
                {
                    const rport_t *p = usable_port(h, json_string_value(n));
                    if (p && (!best || uses[p - h->ports] < uses[best - h->ports]))
                        best = p;
                }
            }
        } else if (nnuma) {
            numa = numas[lr % nnuma];
        }
        if (!best) {
            /* no GPU (or no usable NIC near it): a usable port on the NUMA node, else any */
            for (size_t q = 0; q < h->nports; q++) {
                const rport_t *p = &h->ports[q];
                if (!p->usable)
                    continue;
                if (!best || (p->numa == numa && best->numa != numa) ||
                    ((p->numa == numa) == (best->numa == numa) && uses[q] < uses[best - h->ports]))
                    best = p;
            }
            if (best && h->ngpus > 0)
                cls = "";
        }
        if (best)
            uses[best - h->ports]++;
        cpuset = numa >= 0 ? numa_cpuset(topo, numa) : "";
        if (!cpuset[0] && loc)
            cpuset = sget(loc, "cpuset");
        if (!cpuset[0])
            cpuset = sget(nth_of_kind(topo, "machine", 0), "cpuset");
        tb_cpumask_parse(cpuset, &m);
        tb_cpumask_hex(&m, mask, sizeof(mask));
        tb_cpumask_groups(&m, groups, sizeof(groups));
        /* the cores' list is as long as the node makes it */
        evlen = strlen(cpuset) + 800;
        if (!(ev = calloc(1, evlen)))
            continue;
        if (gpu)
            cat(ev, evlen, "%s%s%s%s on ", sget(gpu, "name"), sget(gpu, "busid")[0] ? " (" : "",
                sget(gpu, "busid"), sget(gpu, "busid")[0] ? ")" : "");
        cat(ev, evlen, "NUMA %d (cores %s)", numa, cpuset[0] ? cpuset : "unknown");
        if (best && cls[0])
            cat(ev, evlen, "; NIC %s port %d, %s from the GPU (its nearest usable)", best->nic,
                best->num, cls);
        else if (best && best->numa >= 0)
            cat(ev, evlen, "; NIC %s port %d (NUMA %d)", best->nic, best->num, best->numa);
        else if (best)
            cat(ev, evlen, "; NIC %s port %d", best->nic, best->num);
        else
            cat(ev, evlen, "; no usable RDMA port");
        if (m.beyond)
            cat(ev, evlen,
                "; CPU ids of %d and above are left out of cpu_mask and cpu_groups (cpuset "
                "lists them all)",
                TB_CPU_WORDS * 64);
        one = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s}", "local_rank", lr, "numa", numa, "cpuset",
                        cpuset, "cpu_mask", mask, "cpu_groups", groups, "evidence", ev);
        free(ev);
        if (gpu) {
            json_object_set_new(one, "gpu", json_string(sget(gpu, "name")));
            json_object_set_new(one, "gpu_index", json_integer(iget(gpu, "os_index", gi)));
            if (sget(gpu, "busid")[0])
                json_object_set_new(one, "gpu_busid", json_string(sget(gpu, "busid")));
        }
        if (best) {
            json_object_set_new(one, "nic", json_string(best->nic));
            json_object_set_new(one, "nic_port", json_integer(best->num));
            if (cls[0])
                json_object_set_new(one, "nic_path", json_string(cls));
        }
        json_array_append_new(locals, one);
    }
    return json_pack("{s:s, s:i, s:s, s:o}", "host", h->name, "ranks", k, "hca", h->hca, "local",
                     locals);
}

/* ---- ring order ----------------------------------------------------------------------- */

/* Host x host bandwidth from the node matrix (else the rank matrix, per host pair the
 * median of its cells), the slower direction: w[a * n + b]. NULL when not measured. */
static double *host_matrix(rctx_t *c, char *what, size_t len)
{
    const json_t *t, *pick = NULL;
    size_t i, n = c->nhosts;
    double *w = NULL, *cells = NULL;
    size_t nm = 0;
    json_array_foreach(json_object_get(c->doc, "tests"), i, t)
    {
        const char *level = sget(t, "level");
        if (strcmp(sget(t, "kind"), "matrix") || strcmp(sget(t, "status"), "ok") ||
            !tb_doc_matrix_is(json_object_get(t, "matrix"), "recv_gbps"))
            continue;
        if (!strcmp(level, "node") || (!pick && !strcmp(level, "rank")))
            pick = t;
    }
    if (!pick)
        return NULL;
    {
        const json_t *m = json_object_get(pick, "matrix"), *ranks = json_object_get(m, "ranks");
        size_t *cnt;
        double **acc;
        if (tb_doc_matrix_get(m, "recv_gbps", c->docdir, "recommend", &cells, &nm) != TB_OK ||
            !cells || json_array_size(ranks) != nm) {
            free(cells);
            return NULL;
        }
        w = calloc(n * n, sizeof(double));
        cnt = calloc(n * n, sizeof(size_t));
        acc = calloc(n * n, sizeof(double *));
        if (!w || !cnt || !acc) {
            free(w), free(cnt), free(acc), free(cells);
            return NULL;
        }
        int *node = malloc(nm * sizeof(int));
        if (!node) {
            free(w), free(cnt), free(acc), free(cells);
            return NULL;
        }
        for (size_t a = 0; a < nm; a++)
            node[a] = iget(json_array_get(json_object_get(c->doc, "ranks"),
                                          (size_t)json_integer_value(json_array_get(ranks, a))),
                           "node_index", -1);
        /* per host pair: the cells, then their median */
        for (size_t a = 0; a < nm; a++)
            for (size_t b = 0; b < nm; b++) {
                int ra = node[a], rb = node[b];
                double v = cells[a * nm + b];
                size_t k;
                if (ra < 0 || rb < 0 || ra == rb || (size_t)ra >= n || (size_t)rb >= n || isnan(v))
                    continue;
                k = (size_t)ra * n + (size_t)rb;
                if (!(cnt[k] & (cnt[k] + 1)) || !acc[k]) {
                    double *na = realloc(acc[k], (cnt[k] ? 2 * cnt[k] + 1 : 1) * sizeof(double));
                    if (!na)
                        continue;
                    acc[k] = na;
                }
                acc[k][cnt[k]++] = v;
            }
        for (size_t k = 0; k < n * n; k++) {
            w[k] = cnt[k] ? tb_stats_median_select(acc[k], cnt[k]) : NAN;
            free(acc[k]);
        }
        free(acc);
        free(cnt);
        free(cells);
        free(node);
        snprintf(what, len, "%s %s recv_gbps%s", sget(pick, "name"), sget(pick, "level"),
                 strcmp(sget(pick, "level"), "node") ? " (median of each host pair's cells)" : "");
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            double x = w[a * n + b], y = w[b * n + a];
            double v = isnan(x) ? y : isnan(y) ? x : (x < y ? x : y);
            w[a * n + b] = w[b * n + a] = v;
        }
    return w;
}

/* A ring's score: its slowest neighbour pair, then the sum over neighbours. */
static void ring_score(const double *w, size_t n, const size_t *ord, size_t k, double *min_p,
                       double *sum_p, size_t *worst_p)
{
    *min_p = INFINITY;
    *sum_p = 0;
    *worst_p = 0;
    for (size_t i = 0; i < k; i++) {
        double v = w[ord[i] * n + ord[(i + 1) % k]];
        if (isnan(v))
            v = 0;
        *sum_p += v;
        if (v < *min_p)
            *min_p = v, *worst_p = i;
    }
}

static int ring_better(double min_a, double sum_a, double min_b, double sum_b)
{
    if (min_a > min_b * 1.01)
        return 1;
    return min_a >= min_b && sum_a > sum_b * 1.01;
}

static double ring_edge(const double *w, size_t n, size_t a, size_t b)
{
    double v = w[a * n + b];
    return isnan(v) ? 0 : v;
}

/* Whether reversing ord[i..j] surely leaves the ring no better (ring_better false): w is
 * symmetric, so the move replaces two neighbour pairs and keeps the others' figures; an
 * upper bound of the new minimum and the new sum up to rounding (abs: the sum of the
 * figures' magnitudes) decide it without the reversal and a score over the ring (512
 * nodes: 131,000 moves a pass). Unsure: 0, and the move is scored as before. */
static int ring_move_no_better(const double *w, size_t n, const size_t *ord, size_t k, size_t i,
                               size_t j, double min_r, double sum_r, double abs_r, size_t wi)
{
    size_t p = ord[i - 1], a = ord[i], b = ord[j], q = ord[(j + 1) % k];
    double e1 = ring_edge(w, n, p, a), e2 = ring_edge(w, n, b, q), f1 = ring_edge(w, n, p, b),
           f2 = ring_edge(w, n, a, q), m = f1 < f2 ? f1 : f2,
           s = sum_r - e1 - e2 + f1 + f2,
           tol = 1e-9 * (abs_r + fabs(e1) + fabs(e2) + fabs(f1) + fabs(f2));
    if (wi == i - 1 || wi == j)
        return 0; /* the slowest pair leaves the ring: the new minimum is not known here */
    m = m < min_r ? m : min_r;
    return m <= min_r * 1.01 && (m < min_r || s < sum_r * 1.01 - tol);
}

static double ring_abs(const double *w, size_t n, const size_t *ord, size_t k)
{
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += fabs(ring_edge(w, n, ord[i], ord[(i + 1) % k]));
    return s;
}

static json_t *ring_order(rctx_t *c)
{
    char what[160], msg[1000];
    size_t n = c->nhosts, k = 0, *ord = NULL, *nat = NULL, wi, wn;
    double *w, min_r, sum_r, abs_r, min_n, sum_n;
    json_t *out = json_pack("{s:[], s:b, s:[]}", "hosts", "changed", 0, "evidence");
    for (size_t h = 0; h < n; h++)
        if (!c->hosts[h].drain)
            json_array_append_new(json_object_get(out, "hosts"), json_string(c->hosts[h].name));
    w = host_matrix(c, what, sizeof(what));
    if (!w) {
        json_array_append_new(json_object_get(out, "evidence"),
                              json_string("no node-level or rank-level bandwidth matrix in "
                                          "this document (run -t node_matrix): the run's host "
                                          "order is kept"));
        return out;
    }
    ord = malloc(n * sizeof(size_t));
    nat = malloc(n * sizeof(size_t));
    if (!ord || !nat)
        goto done;
    for (size_t h = 0; h < n; h++)
        if (!c->hosts[h].drain)
            nat[k++] = h;
    if (k < 4) {
        json_array_append_new(json_object_get(out, "evidence"),
                              json_string("fewer than 4 nodes: every ring order has the same "
                                          "neighbours"));
        goto done;
    }
    /* 2-opt from the run's order on (slowest neighbours, then the sum), taking a move only
     * beyond 1% so that the order changes no more than the measurements ask */
    memcpy(ord, nat, k * sizeof(size_t));
    ring_score(w, n, ord, k, &min_r, &sum_r, &wi);
    abs_r = ring_abs(w, n, ord, k);
    for (int pass = 0; pass < RING_PASSES; pass++) {
        int improved = 0;
        for (size_t i = 1; i + 1 < k; i++)
            for (size_t j = i + 1; j < k; j++) {
                double m2, s2;
                size_t w2;
                if (ring_move_no_better(w, n, ord, k, i, j, min_r, sum_r, abs_r, wi))
                    continue;
                for (size_t a = i, b = j; a < b; a++, b--) {
                    size_t t = ord[a];
                    ord[a] = ord[b];
                    ord[b] = t;
                }
                ring_score(w, n, ord, k, &m2, &s2, &w2);
                if (ring_better(m2, s2, min_r, sum_r)) {
                    min_r = m2, sum_r = s2, wi = w2, improved = 1;
                    abs_r = ring_abs(w, n, ord, k);
                } else {
                    for (size_t a = i, b = j; a < b; a++, b--) {
                        size_t t = ord[a];
                        ord[a] = ord[b];
                        ord[b] = t;
                    }
                }
            }
        if (!improved || k > 256)
            break;
    }
    ring_score(w, n, nat, k, &min_n, &sum_n, &wn);
    /* worth a change: the slowest neighbours 5% faster, or as fast with 5% more in all */
    if (min_r > min_n * 1.05 || (min_r >= min_n * 0.95 && sum_r > sum_n * 1.05)) {
        json_t *hosts = json_array();
        for (size_t i = 0; i < k; i++)
            json_array_append_new(hosts, json_string(c->hosts[ord[i]].name));
        json_object_set_new(out, "hosts", hosts);
        json_object_set_new(out, "changed", json_true());
        snprintf(msg, sizeof(msg),
                 "in this order the slowest neighbours are %s and %s at %.3g GB/s (%s, the "
                 "slower direction), mean neighbour %.3g; in the run's order %s and %s at %.3g, "
                 "mean %.3g",
                 c->hosts[ord[wi]].name, c->hosts[ord[(wi + 1) % k]].name, min_r, what, sum_r / k,
                 c->hosts[nat[wn]].name, c->hosts[nat[(wn + 1) % k]].name, min_n, sum_n / k);
    } else {
        snprintf(msg, sizeof(msg),
                 "the run's order already keeps the nodes that measure close together adjacent: "
                 "slowest neighbours %s and %s at %.3g GB/s (%s), the best order found %.3g",
                 c->hosts[nat[wn]].name, c->hosts[nat[(wn + 1) % k]].name, min_n, what, min_r);
    }
    json_array_append_new(json_object_get(out, "evidence"), json_string(msg));
done:
    free(w);
    free(ord);
    free(nat);
    return out;
}

/* ---- entry point -------------------------------------------------------------------- */

json_t *tb_recommend(const json_t *doc, const json_t *analysis, const tb_analysis_opts_t *opts,
                     const char *docdir)
{
    rctx_t c = {.doc = doc, .analysis = analysis, .opts = opts, .docdir = docdir};
    const json_t *hosts = json_object_get(doc, "hosts"), *hj;
    json_t *rec = NULL, *files = json_array(), *placement = json_array(),
           *experiments = json_array();
    size_t i;
    int from_run = 0;
    c.nhosts = json_array_size(hosts);
    c.hosts = calloc(c.nhosts ? c.nhosts : 1, sizeof(*c.hosts));
    c.env = json_array();
    c.kept = json_array();
    c.findings = json_array();
    c.drain = json_array();
    if (!c.hosts || !c.env || !c.kept || !c.findings || !c.drain || !files || !placement ||
        !experiments)
        goto out;
    json_array_foreach(hosts, i, hj)
    {
        c.hosts[i].name = sget(hj, "name");
        c.hosts[i].nlocal_run = (int)json_array_size(json_object_get(hj, "ranks"));
        if (json_is_object(json_object_get(hj, "topology"))) {
            c.hosts[i].topo = json_object_get(hj, "topology");
            host_ports(&c.hosts[i]);
        }
    }
    find_drains(&c);
    ports_judge(&c);
    rule_ib_hca(&c);
    rule_socket_ifname(&c);
    rule_gid_index(&c);
    rule_gdr_level(&c);
    rule_cross_nic(&c);
    rule_topo_file(&c, files);
    rule_debug_settings(&c, experiments);
    rec = json_pack("{s:O, s:O, s:O, s:O, s:O}", "nccl_env", c.env, "defaults_kept", c.kept,
                    "findings", c.findings, "drain", c.drain, "experiments", experiments);
    if (!rec)
        goto out;
    json_object_set_new(rec, "nccl_topo_files", json_incref(files));
    {
        json_t *ring = ring_order(&c), *h;
        size_t k;
        json_array_foreach(json_object_get(ring, "hosts"), k, h)
        {
            for (size_t x = 0; x < c.nhosts; x++)
                if (!strcmp(c.hosts[x].name, json_string_value(h)) && c.hosts[x].topo)
                    json_array_append_new(placement, host_placement(&c, x, &from_run));
        }
        json_object_set_new(rec, "ring_order", ring);
    }
    json_object_set_new(
        rec, "placement",
        json_pack("{s:s, s:O}", "basis",
                  from_run ? "each local rank's GPU as the run recorded it in ranks[]; its NIC "
                             "and cores from the node's topology"
                           : "one rank per GPU (local rank i on GPU i, the default mapping; one "
                             "rank per NUMA node in turn on nodes without GPUs), its nearest "
                             "usable RDMA port and the cores of its NUMA node, from the node's "
                             "topology",
                  "hosts", placement));
out:
    free(c.hosts);
    json_decref(c.env);
    json_decref(c.kept);
    json_decref(c.findings);
    json_decref(c.drain);
    json_decref(files);
    json_decref(placement);
    json_decref(experiments);
    return rec;
}
