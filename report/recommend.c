/* The recommendation files, rendered from the analysis section's `recommendations`
 * (docs/analysis.md, "Files"): nccl.env, an Open MPI rankfile and hostfile in ring order,
 * the Slurm line and its host file, the per-rank wrapper script, the nodes to drain, and
 * the generated NCCL topology files. Every setting carries its evidence as a comment;
 * nothing here decides anything. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "log.h"
#include "report.h"

static const char *sget(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long iget(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* A comment, wrapped at about 92 columns. */
static void comment(FILE *f, const char *lead, const char *text)
{
    size_t indent = strlen(lead), col = 2 + indent;
    int first = 1;
    fprintf(f, "# %s", lead);
    while (*text) {
        size_t w;
        while (*text == ' ')
            text++;
        w = strcspn(text, " ");
        if (!w)
            break;
        if (!first && col + 1 + w > 92) {
            fprintf(f, "\n#   ");
            col = 4;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)w, text);
        col += w;
        text += w;
        first = 0;
    }
    fputc('\n', f);
}

static void evidence_comments(FILE *f, const json_t *item)
{
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(item, "evidence"), i, e)
        comment(f, "  ", json_string_value(e));
}

typedef struct out_ctx {
    const char *dir;
    size_t nfiles;
    tb_status_t st;
} out_ctx_t;

static FILE *open_out(out_ctx_t *o, tb_afile_t *a, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", o->dir, name);
    if (o->st || tb_afile_open(a, path) != TB_OK) {
        if (!o->st)
            o->st = TB_ERR_ENV;
        return NULL;
    }
    return a->f;
}

static void close_out(out_ctx_t *o, tb_afile_t *a, int mode)
{
    char path[sizeof(a->path)];
    snprintf(path, sizeof(path), "%s", a->path);
    if (tb_afile_commit(a) != TB_OK) {
        o->st = TB_ERR_ENV;
        return;
    }
    if (mode && chmod(path, (mode_t)mode) != 0) {
        o->st = tb_error_errno(TB_ERR_ENV, path);
        return;
    }
    o->nfiles++;
}

/* ---- nccl.env --------------------------------------------------------------------------- */

static void write_env(out_ctx_t *o, const json_t *doc, const json_t *rec, const char *absdir)
{
    tb_afile_t a;
    FILE *f = open_out(o, &a, "nccl.env");
    const json_t *x;
    size_t i;
    if (!f)
        return;
    fprintf(f, "# NCCL settings for the nodes of the run started %s, recommended by topobench\n",
            sget(json_object_get(doc, "run"), "start_time"));
    comment(f, "",
            "from what the run measured and each node's topology (the evidence is above each "
            "setting). Load with `set -a; . ./nccl.env; set +a` or `docker run --env-file "
            "nccl.env`; topobench-bind.sh loads it itself and sets the values of nodes that "
            "differ (per_host).");
    json_array_foreach(json_object_get(rec, "nccl_env"), i, x)
    {
        const char *name = sget(x, "name"), *value = sget(x, "value");
        char abs[4200];
        int try_ = !strcmp(sget(x, "status"), "try");
        if (!strcmp(name, "NCCL_TOPO_FILE")) {
            snprintf(abs, sizeof(abs), "%s/%s", absdir, value);
            value = abs;
        }
        fprintf(f, "\n");
        comment(f, "",
                try_ ? "to try (an experiment, not a default): uncomment where a "
                       "measurement says so"
                     : name);
        evidence_comments(f, x);
        json_t *per = json_object_get(x, "per_host");
        if (json_object_size(per)) {
            const char *host;
            json_t *v;
            json_object_foreach(per, host, v)
            {
                char line[600];
                snprintf(line, sizeof(line), "on %s: %s=%s (set by topobench-bind.sh)", host, name,
                         json_string_value(v));
                comment(f, "  ", line);
            }
        }
        fprintf(f, "%s%s=%s\n", try_ ? "#" : "", name, value);
    }
    fprintf(f, "\n# Left to NCCL's defaults:\n");
    json_array_foreach(json_object_get(rec, "defaults_kept"), i, x)
    {
        char line[1200];
        snprintf(line, sizeof(line), "%s: %s", sget(x, "name"), sget(x, "why"));
        comment(f, "", line);
        evidence_comments(f, x);
    }
    json_array_foreach(json_object_get(rec, "findings"), i, x)
    {
        char line[3000];
        snprintf(line, sizeof(line), "finding %s: %s", sget(x, "code"), sget(x, "message"));
        fprintf(f, "\n");
        comment(f, "", line);
    }
    close_out(o, &a, 0);
}

/* ---- placement files ---------------------------------------------------------------------- */

static void write_rankfile(out_ctx_t *o, const json_t *hosts)
{
    tb_afile_t a;
    FILE *f = open_out(o, &a, "rankfile");
    const json_t *h, *l;
    size_t i, k;
    long long rank = 0;
    if (!f)
        return;
    fprintf(f, "# Open MPI rankfile (topobench): hosts in ring order, local rank i of each host\n"
               "# bound to the cores of its GPU's NUMA node, named by OS CPU (PU) numbers as\n"
               "# hwloc reports them. Open MPI 4.x reads them so in its physical mode, each\n"
               "# number naming the core that holds that PU (with SMT: the whole core):\n"
               "#   mpirun --hostfile hostfile --rankfile rankfile --mca rmaps_rank_file_physical "
               "1 APP\n"
               "# Without that parameter, and always in Open MPI 5 (PRRTE, which has no physical\n"
               "# mode), a slot list names logical core indices (logical hwthreads with\n"
               "# HWTCPUS): this file would bind to other CPUs. With Open MPI 5 use the wrapper,\n"
               "# which binds by OS CPU numbers itself:\n"
               "#   mpirun --hostfile hostfile --map-by slot --bind-to none ./topobench-bind.sh "
               "APP\n");
    json_array_foreach(hosts, i, h)
    {
        json_array_foreach(json_object_get(h, "local"), k, l)
        {
            if (sget(l, "cpuset")[0])
                fprintf(f, "rank %lld=%s slot=%s\n", rank, sget(h, "host"), sget(l, "cpuset"));
            else
                fprintf(f, "# rank %lld on %s: no CPU set known for its NUMA node\n", rank,
                        sget(h, "host"));
            rank++;
        }
    }
    close_out(o, &a, 0);
}

static void write_hostfiles(out_ctx_t *o, const json_t *rec, const json_t *hosts)
{
    tb_afile_t a;
    FILE *f = open_out(o, &a, "hostfile");
    const json_t *h, *ring = json_object_get(rec, "ring_order");
    size_t i;
    if (!f)
        return;
    fprintf(f, "# Open MPI hostfile (topobench), hosts in ring order%s\n",
            json_is_true(json_object_get(ring, "changed")) ? " (measured: see below)" : "");
    if (json_is_string(json_array_get(json_object_get(ring, "evidence"), 0)))
        comment(f, "", json_string_value(json_array_get(json_object_get(ring, "evidence"), 0)));
    json_array_foreach(hosts, i, h)
        fprintf(f, "%s slots=%lld\n", sget(h, "host"), iget(h, "ranks"));
    close_out(o, &a, 0);
    f = open_out(o, &a, "slurm-hostfile");
    if (!f)
        return;
    /* SLURM_HOSTFILE with --distribution=arbitrary: one line per task; no comments */
    json_array_foreach(hosts, i, h) for (long long r = 0; r < iget(h, "ranks"); r++)
        fprintf(f, "%s\n", sget(h, "host"));
    close_out(o, &a, 0);
}

/* One host's plan as text, to group hosts whose plans are the same. */
static void plan_key(const json_t *h, const json_t *rec, char *buf, size_t len)
{
    const json_t *l, *x;
    size_t k, n = 0;
    buf[0] = 0;
    json_array_foreach(json_object_get(h, "local"), k, l) n += (size_t)snprintf(
        buf + n, n < len ? len - n : 0, "%lld/%s/%s:%lld/%s;",
        json_is_integer(json_object_get(l, "gpu_index")) ? iget(l, "gpu_index") : -1,
        sget(l, "nic"), sget(l, "nic"), iget(l, "nic_port"), sget(l, "cpuset"));
    json_array_foreach(json_object_get(rec, "nccl_env"), k, x)
    {
        const json_t *v = json_object_get(json_object_get(x, "per_host"), sget(h, "host"));
        if (v)
            n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s=%s;", sget(x, "name"),
                                  json_string_value(v));
    }
}

static void write_slurm(out_ctx_t *o, const json_t *rec, const json_t *hosts)
{
    tb_afile_t a;
    FILE *f = open_out(o, &a, "slurm.txt");
    const json_t *first = json_array_get(hosts, 0), *l, *d, *h;
    size_t k, i;
    int gpus = 0, same = 1;
    if (!f)
        return;
    json_array_foreach(hosts, i, h)
    {
        const json_t *l0 = json_object_get(h, "local"), *l1 = json_object_get(first, "local");
        size_t m;
        const json_t *y;
        if (json_array_size(l0) != json_array_size(l1))
            same = 0;
        json_array_foreach(l0, m, y)
        {
            const json_t *z = json_array_get(l1, m);
            if (strcmp(sget(y, "cpuset"), sget(z, "cpuset")) ||
                iget(y, "gpu_index") != iget(z, "gpu_index"))
                same = 0;
        }
    }
    fprintf(f, "# Slurm (topobench): the nodes in ring order, every local rank bound as the\n"
               "# rankfile binds it (--gpu-bind=map_gpu and --cpu-bind=mask_cpu per local task;\n"
               "# the masks are OS CPU numbers), the nodes to drain excluded. For the ring order\n"
               "# put slurm-hostfile in SLURM_HOSTFILE with --distribution=arbitrary.\n");
    if (!first) {
        fprintf(f, "# no node to place\n");
        close_out(o, &a, 0);
        return;
    }
    json_array_foreach(json_object_get(first, "local"), k, l) gpus |=
        json_object_get(l, "gpu") != NULL;
    fprintf(f,
            "SLURM_HOSTFILE=slurm-hostfile srun --nodes=%zu --ntasks-per-node=%lld "
            "--distribution=arbitrary",
            json_array_size(hosts), iget(first, "ranks"));
    if (gpus) {
        fprintf(f, " --gpus-per-node=%lld --gpu-bind=map_gpu:", iget(first, "ranks"));
        json_array_foreach(json_object_get(first, "local"), k, l)
            fprintf(f, "%s%lld", k ? "," : "", iget(l, "gpu_index"));
    }
    fprintf(f, " --cpu-bind=mask_cpu:");
    json_array_foreach(json_object_get(first, "local"), k, l)
        fprintf(f, "%s%s", k ? "," : "", sget(l, "cpu_mask"));
    if (json_array_size(json_object_get(rec, "drain"))) {
        fprintf(f, " --exclude=");
        json_array_foreach(json_object_get(rec, "drain"), k, d)
            fprintf(f, "%s%s", k ? "," : "", sget(d, "host"));
    }
    fprintf(f, " ./topobench-bind.sh APP\n");
    if (!same)
        fprintf(f, "# the nodes' plans differ (GPUs or cores per local rank): bind with the\n"
                   "# wrapper alone instead of Slurm's masks:\n"
                   "#   SLURM_HOSTFILE=slurm-hostfile srun --distribution=arbitrary "
                   "--cpu-bind=none ./topobench-bind.sh APP\n");
    close_out(o, &a, 0);
}

/* ---- the wrapper script ---------------------------------------------------------------- */

static void wrapper_branch(FILE *f, const json_t *h, const json_t *rec)
{
    const json_t *l, *x;
    size_t k;
    fprintf(f, "        case \"$lr\" in\n");
    json_array_foreach(json_object_get(h, "local"), k, l)
    {
        fprintf(f, "        %lld) ", iget(l, "local_rank"));
        if (json_object_get(l, "gpu"))
            fprintf(f, "gpu=%lld ", iget(l, "gpu_index"));
        if (json_object_get(l, "nic"))
            fprintf(f, "nic=%s:%lld ", sget(l, "nic"), iget(l, "nic_port"));
        if (iget(l, "numa") >= 0)
            fprintf(f, "numa=%lld ", iget(l, "numa"));
        fprintf(f, "cpus=%s ;;  # %s\n", sget(l, "cpuset"), sget(l, "evidence"));
    }
    fprintf(f,
            "        *) echo \"topobench-bind.sh: $host has no plan for local rank $lr "
            "(%lld planned)\" >&2; exit 2 ;;\n        esac\n",
            iget(h, "ranks"));
    json_array_foreach(json_object_get(rec, "nccl_env"), k, x)
    {
        const json_t *v = json_object_get(json_object_get(x, "per_host"), sget(h, "host"));
        if (v && strcmp(sget(x, "status"), "try") != 0) {
            if (!strcmp(sget(x, "name"), "NCCL_TOPO_FILE"))
                fprintf(f, "        export %s=\"$here/%s\"\n", sget(x, "name"),
                        json_string_value(v));
            else
                fprintf(f, "        export %s='%s'\n", sget(x, "name"), json_string_value(v));
        }
    }
}

static void write_wrapper(out_ctx_t *o, const json_t *rec, const json_t *hosts)
{
    tb_afile_t a;
    FILE *f = open_out(o, &a, "topobench-bind.sh");
    const json_t *h;
    size_t i, n = json_array_size(hosts), best = 0, best_n = 0;
    char **keys = calloc(n ? n : 1, sizeof(char *));
    if (!f) {
        free(keys);
        return;
    }
    for (i = 0; keys && i < n; i++) {
        keys[i] = malloc(8192);
        if (keys[i])
            plan_key(json_array_get(hosts, i), rec, keys[i], 8192);
    }
    /* the plan most hosts share is the default branch */
    for (i = 0; keys && i < n; i++) {
        size_t c = 0;
        for (size_t j = 0; j < n; j++)
            c += keys[i] && keys[j] && !strcmp(keys[i], keys[j]);
        if (c > best_n)
            best = i, best_n = c;
    }
    fprintf(
        f,
        "#!/bin/sh\n"
        "# Per-rank wrapper (topobench): this rank's GPU (CUDA_VISIBLE_DEVICES), NIC\n"
        "# (UCX_NET_DEVICES; NCCL_IB_HCA where a node needs its own list) and CPU binding\n"
        "# (numactl, else taskset) from the recommended placement, with nccl.env beside\n"
        "# it loaded first (TOPOBENCH_NO_NCCL_ENV=1 skips it). Then runs the program:\n"
        "#   mpirun ... ./topobench-bind.sh APP ARGS      srun ... ./topobench-bind.sh APP ARGS\n"
        "# The local rank comes from the launcher (Open MPI, Slurm, MPICH, PMI).\n"
        "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
        "lr=${OMPI_COMM_WORLD_LOCAL_RANK:-${SLURM_LOCALID:-${MPI_LOCALRANKID:-${PMI_LOCAL_RANK:-}}}"
        "}\n"
        "if [ -z \"$lr\" ]; then\n"
        "    echo \"topobench-bind.sh: no local rank in the environment (not started by "
        "mpirun or srun?)\" >&2\n"
        "    exit 2\n"
        "fi\n"
        "if [ \"${TOPOBENCH_NO_NCCL_ENV:-0}\" != 1 ] && [ -f \"$here/nccl.env\" ]; then\n"
        "    set -a; . \"$here/nccl.env\"; set +a\n"
        "fi\n"
        "host=$(hostname)\n"
        "gpu= nic= numa= cpus=\n"
        "case \"$host\" in\n");
    for (i = 0; keys && i < n; i++) {
        int firstpat = 1;
        if (!keys[i] || !strcmp(keys[i], keys[best]))
            continue;
        /* hosts of this plan not printed yet */
        int done = 0;
        for (size_t j = 0; j < i; j++)
            done |= keys[j] && !strcmp(keys[j], keys[i]);
        if (done)
            continue;
        fprintf(f, "    ");
        for (size_t j = i; j < n; j++)
            if (keys[j] && !strcmp(keys[j], keys[i])) {
                fprintf(f, "%s%s", firstpat ? "" : "|", sget(json_array_get(hosts, j), "host"));
                firstpat = 0;
            }
        fprintf(f, ")\n");
        wrapper_branch(f, json_array_get(hosts, i), rec);
        fprintf(f, "        ;;\n");
    }
    fprintf(f, "    *)\n");
    h = json_array_get(hosts, best);
    if (h)
        wrapper_branch(f, h, rec);
    fprintf(f, "        ;;\n"
               "esac\n"
               "[ -n \"$gpu\" ] && export CUDA_VISIBLE_DEVICES=\"$gpu\"\n"
               "[ -n \"$nic\" ] && export UCX_NET_DEVICES=\"$nic\"\n"
               "if [ -n \"$cpus\" ] && command -v numactl >/dev/null 2>&1; then\n"
               "    exec numactl --physcpubind=\"$cpus\" --localalloc \"$@\"\n"
               "elif [ -n \"$cpus\" ] && command -v taskset >/dev/null 2>&1; then\n"
               "    exec taskset -c \"$cpus\" \"$@\"\n"
               "fi\n"
               "exec \"$@\"\n");
    close_out(o, &a, 0755);
    for (i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

/* ---- drain.txt ----------------------------------------------------------------------- */

static void write_drain(out_ctx_t *o, const json_t *rec)
{
    tb_afile_t a;
    FILE *f = open_out(o, &a, "drain.txt");
    const json_t *d, *r;
    size_t i, k;
    if (!f)
        return;
    fprintf(f, "# Nodes to drain (topobench): host, then each reason as basis: reason (measured:\n"
               "# a node verdict of the analysis; topology: the node differs from the majority).\n"
               "# Slurm: scontrol update nodename=HOST state=drain reason=\"topobench: ...\"\n");
    if (!json_array_size(json_object_get(rec, "drain")))
        fprintf(f, "# no node to drain\n");
    json_array_foreach(json_object_get(rec, "drain"), i, d)
    {
        fprintf(f, "%s", sget(d, "host"));
        json_array_foreach(json_object_get(d, "reasons"), k, r)
            fprintf(f, "%s%s: %s", k ? " | " : "\t", sget(r, "basis"), sget(r, "reason"));
        fputc('\n', f);
    }
    close_out(o, &a, 0);
}

/* ---- nccl-topo.xml ------------------------------------------------------------------- */

static void xml_pci(FILE *f, const json_t *d, const char *indent)
{
    fprintf(f, "%s<pci busid=\"%s\" class=\"%s\"", indent, sget(d, "busid"), sget(d, "class"));
    if (sget(d, "link_speed")[0])
        fprintf(f, " link_speed=\"%s\"", sget(d, "link_speed"));
    if (iget(d, "link_width") > 0)
        fprintf(f, " link_width=\"%lld\"", iget(d, "link_width"));
    fprintf(f, "/>\n");
}

static void write_topo_files(out_ctx_t *o, const json_t *rec)
{
    const json_t *file, *cpu, *sw, *d;
    size_t i, k, m, q;
    json_array_foreach(json_object_get(rec, "nccl_topo_files"), i, file)
    {
        tb_afile_t a;
        FILE *f = open_out(o, &a, sget(file, "file"));
        if (!f)
            return;
        fprintf(f, "<!-- NCCL topology (NCCL_TOPO_FILE) generated by topobench for:");
        json_array_foreach(json_object_get(file, "hosts"), k, d)
            fprintf(f, " %s", json_string_value(d));
        fprintf(f, ".\n     Their PCIe tree shows no switch above the GPUs and NICs: each NUMA "
                   "node's\n     GPUs and NICs (or those sharing a host bridge) are placed under "
                   "one virtual\n     switch. Check with a GPUDirect measurement. -->\n"
                   "<system version=\"1\">\n");
        json_array_foreach(json_object_get(json_object_get(file, "system"), "cpus"), k, cpu)
        {
            fprintf(f, "  <cpu numaid=\"%lld\"", iget(cpu, "numaid"));
            if (sget(cpu, "affinity")[0])
                fprintf(f, " affinity=\"%s\"", sget(cpu, "affinity"));
            fprintf(f, ">\n");
            json_array_foreach(json_object_get(cpu, "switches"), m, sw)
            {
                const json_t *devs = json_object_get(sw, "devices");
                if (!sget(sw, "busid")[0]) {
                    json_array_foreach(devs, q, d) xml_pci(f, d, "    ");
                    continue;
                }
                /* the virtual switch's link: its first device's */
                d = json_array_get(devs, 0);
                fprintf(f, "    <pci busid=\"%s\" class=\"0x060400\"", sget(sw, "busid"));
                if (sget(d, "link_speed")[0])
                    fprintf(f, " link_speed=\"%s\"", sget(d, "link_speed"));
                if (iget(d, "link_width") > 0)
                    fprintf(f, " link_width=\"%lld\"", iget(d, "link_width"));
                fprintf(f, ">\n");
                json_array_foreach(devs, q, d) xml_pci(f, d, "      ");
                fprintf(f, "    </pci>\n");
            }
            fprintf(f, "  </cpu>\n");
        }
        fprintf(f, "</system>\n");
        close_out(o, &a, 0);
    }
}

tb_status_t tb_report_recommend_write(const json_t *doc, const char *dir, size_t *nfiles_p)
{
    const json_t *rec = json_object_get(json_object_get(doc, "analysis"), "recommendations");
    const json_t *hosts = json_object_get(json_object_get(rec, "placement"), "hosts");
    out_ctx_t o = {dir, 0, TB_OK};
    char absdir[PATH_MAX];
    if (nfiles_p)
        *nfiles_p = 0;
    if (!json_is_object(rec))
        return TB_OK;
    if (!realpath(dir, absdir))
        snprintf(absdir, sizeof(absdir), "%s", dir);
    write_env(&o, doc, rec, absdir);
    write_rankfile(&o, hosts);
    write_hostfiles(&o, rec, hosts);
    write_slurm(&o, rec, hosts);
    write_wrapper(&o, rec, hosts);
    write_drain(&o, rec);
    write_topo_files(&o, rec);
    if (nfiles_p)
        *nfiles_p = o.nfiles;
    return o.st;
}
