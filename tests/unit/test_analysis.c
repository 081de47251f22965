/* The analyzer's rules on hand-made documents (tests/data/analysis, written by make.py):
 * each rule fires where its fault is injected and nowhere else, and noise alone is OK. */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "doc.h"
#include "log.h"
#include "tb_test.h"

#define DIR TB_TEST_DATA_DIR "/analysis"

static json_t *analyze(const char *name, const tb_analysis_opts_t *opts_in)
{
    char path[512];
    json_t *doc = NULL, *a = NULL;
    tb_analysis_opts_t opts;
    tb_analysis_opts_default(&opts);
    if (opts_in)
        opts = *opts_in;
    snprintf(path, sizeof(path), "%s/%s", DIR, name);
    TB_CHECK_INT(tb_doc_load(path, &doc), TB_OK);
    if (!doc)
        return NULL;
    TB_CHECK_INT(tb_analysis_run(doc, DIR, &opts, &a), TB_OK);
    json_decref(doc);
    return a;
}

/* "kind subject" of every culprit, sorted by position, joined by "; ". */
static void culprits_of(const json_t *a, char *buf, size_t len)
{
    const json_t *cu;
    size_t i, n = 0;
    buf[0] = 0;
    json_array_foreach(json_object_get(a, "culprits"), i, cu)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s %s", i ? "; " : "",
                              json_string_value(json_object_get(cu, "kind")),
                              json_string_value(json_object_get(cu, "subject")));
}

static const char *verdict(const json_t *a)
{
    return json_string_value(json_object_get(a, "verdict"));
}

static void expect(const char *doc, const char *want_verdict, const char *want_culprits)
{
    char got[1024];
    json_t *a = analyze(doc, NULL);
    if (!a)
        return;
    culprits_of(a, got, sizeof(got));
    printf("%s: %s [%s]\n", doc, verdict(a), got);
    TB_CHECK_STR(verdict(a), want_verdict);
    TB_CHECK_STR(got, want_culprits);
    json_decref(a);
}

static const json_t *first_evidence(const json_t *a)
{
    return json_array_get(json_object_get(json_array_get(json_object_get(a, "culprits"), 0),
                                          "evidence"),
                          0);
}

static void test_rules(void)
{
    expect("noise_only.json", "ok", "");
    expect("rank_level.json", "ok", "");
    expect("slow_node.json", "suspect", "node n3");
    expect("two_slow_nodes.json", "suspect", "node n3; node n4");
    expect("two_slow_nodes_loaded.json", "suspect", "node n1; node n3");
    expect("slow_link.json", "suspect", "link n1 <-> n4");
    expect("one_way.json", "suspect", "direction n2 -> n5");
    expect("one_way_back.json", "suspect", "direction n5 -> n2");
    expect("slow_egress.json", "suspect", "node n3 (sending)");
    expect("slow_egress_few.json", "suspect",
           "direction n3 -> n0; direction n3 -> n5; direction n3 -> n6");
    expect("latency_link.json", "suspect", "latency_link n0 <-> n6");
    expect("latency_node_slow_link.json", "suspect", "link n1 <-> n3; latency_node n3");
    expect("below_model.json", "suspect", "path_class every NET cell below the model");
    expect("below_model_small.json", "ok", ""); /* 64 KiB: peers only */
    expect("rank_shared_healthy.json", "ok", ""); /* every NET cell at 0.7 of its figure */
    expect("two_of_four_slow.json", "suspect", "node n2; node n3"); /* against the model */
    expect("four_of_four_slow.json", "suspect", "path_class every NET cell below the model");
    expect("rank_shared_slow.json", "suspect", "path_class every NET cell below the model");
    expect("p2p_large.json", "suspect", "below_model ranks 0 -> 1 (bw)");
    expect("p2p_small.json", "ok", ""); /* the sweep ends at 64 KiB */
    expect("half_rate_nic.json", "suspect", "node n4");
    expect("differs_healthy.json", "suspect", "topology n2");
    expect("isolated_pairs.json", "suspect", "below_model ranks 2 -> 5 (isolated)");
    expect("slow_node_latency_links.json", "suspect", "node n3");
    expect("shaped_latency_loaded.json", "suspect", "node n1; node n3");
    expect("latency_noisy_node.json", "ok", "");
    expect("kernels_latency_link.json", "suspect", "latency_link n0 <-> n6");
    expect("shared_kernel_latency.json", "ok", "");
    expect("shared_kernel_link_mild.json", "ok", "");
    expect("shared_kernel_link_gross.json", "suspect", "link n1 <-> n4");
    expect("latency_zero_median.json", "ok", "");
    expect("latency_some_zero.json", "suspect", "latency_link n0 <-> n6");
}

/* A latency set whose peers' median is 0 us is not judged against its peers: every
 * non-zero cell stood out from a MAD of 0. The class and the notes say why. */
static void test_zero_latency_median(void)
{
    json_t *a = analyze("latency_zero_median.json", NULL);
    const json_t *x, *set;
    size_t i;
    int said = 0;
    if (!a)
        return;
    json_array_foreach(json_object_get(a, "notes"), i, x)
        said |= strstr(json_string_value(x), "NET latency_us: the median of") != NULL;
    TB_CHECK(said);
    set = NULL;
    json_array_foreach(json_object_get(a, "sets"), i, x)
        if (!strcmp(json_string_value(json_object_get(x, "metric")), "latency_us"))
            set = x;
    x = json_array_get(json_object_get(set, "classes"), 0);
    TB_CHECK(x && strstr(json_string_value(json_object_get(x, "note")), "median latency is 0"));
    TB_CHECK_INT(json_integer_value(json_object_get(x, "flagged")), 0);
    json_decref(a);
}

/* A link between nodes named in another entry (an isolated pair below the model) that
 * touches a node with a node verdict is folded into it under `explains`, its evidence
 * kept; latency cells touching the node are its evidence, not peers. */
static void test_node_explains_links(void)
{
    json_t *a = analyze("slow_node_isolated_pair.json", NULL);
    const json_t *cu = json_array_get(json_object_get(a, "culprits"), 0), *x;
    char got[512] = "";
    size_t i;
    if (!a)
        return;
    TB_CHECK_INT(json_array_size(json_object_get(a, "culprits")), 1);
    TB_CHECK_STR(json_string_value(json_object_get(cu, "subject")), "n3");
    json_array_foreach(json_object_get(cu, "explains"), i, x) {
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s %s", i ? "; " : "",
                 json_string_value(json_object_get(x, "kind")),
                 json_string_value(json_object_get(x, "subject")));
        TB_CHECK(json_array_size(json_object_get(x, "evidence")) >= 1);
    }
    TB_CHECK_STR(got, "below_model ranks 2 -> 3 (isolated)");
    json_decref(a);
}

/* Hosts on one kernel (the same boot_id) share its CPUs: 10 ranks on 8 are
 * oversubscribed, and the note says why no latency culprit was named. */
static void test_shared_kernel(void)
{
    json_t *a = analyze("shared_kernel_latency.json", NULL);
    const json_t *x;
    size_t i;
    int said = 0;
    if (!a)
        return;
    json_array_foreach(json_object_get(a, "notes"), i, x)
        said |= strstr(json_string_value(x), "n0 shares one kernel with 9 other hosts (the same "
                                              "boot_id): their 10 ranks ran on 8 CPUs "
                                              "(oversubscribed)") != NULL &&
                strstr(json_string_value(x), "latency outlier") != NULL;
    TB_CHECK(said);
    json_decref(a);
}

/* The evidence a verdict cites: cells, the peer median, the expected figure and source,
 * the topology facts; and the command that confirms it. */
static void test_evidence(void)
{
    json_t *a = analyze("half_rate_nic.json", NULL);
    const json_t *cu = json_array_get(json_object_get(a, "culprits"), 0), *ev = first_evidence(a);
    const json_t *confirm = json_object_get(a, "confirm");
    const char *cmd = json_string_value(json_object_get(confirm, "command"));
    char facts[2048] = "";
    size_t i;
    const json_t *x;
    if (!a)
        return;
    TB_CHECK_STR(json_string_value(json_object_get(ev, "path")), "NET");
    TB_CHECK_INT(json_integer_value(json_object_get(ev, "cells_total")), 14);
    TB_CHECK_INT(json_integer_value(json_object_get(ev, "cells_outside_peers")), 14);
    TB_CHECK_INT(json_array_size(json_object_get(ev, "cells")), 6);
    TB_CHECK(json_number_value(json_object_get(ev, "peer_median")) > 20.0);
    TB_CHECK(json_number_value(json_object_get(ev, "ratio_to_peers")) < 0.6);
    /* the slower end's port sets the figure: EDR (100 Gb/s) 12 GB/s achieved */
    TB_CHECK_NEAR(json_number_value(json_object_get(ev, "expected_gbps")), 12.0, 1e-9);
    TB_CHECK(strstr(json_string_value(json_object_get(ev, "expected_source")), "IB EDR") != NULL);
    json_array_foreach(json_object_get(cu, "topology"), i, x)
        strncat(facts, json_string_value(x), sizeof(facts) - strlen(facts) - 1);
    TB_CHECK(strstr(facts, "ib_port_slow") != NULL);
    TB_CHECK(strstr(facts, "node_differs") != NULL);
    TB_CHECK(cmd && strstr(cmd, "--host n0:1,n1:1,n2:1,n3:1,n4:1,n5:1,n6:1,n7:1") != NULL);
    TB_CHECK(cmd && strstr(cmd, "run -t isolated --pairs ") != NULL);
    TB_CHECK(cmd && strstr(cmd, "-4") != NULL); /* a pair with node 4 (rank 4) */
    TB_CHECK(cmd && strstr(cmd, " -m 4194304") != NULL);
    json_decref(a);

    /* a direction verdict confirms both directions, with a healthy pair of the same path
     * class away from both nodes as the reference; every cell listed, with its path */
    a = analyze("one_way.json", NULL);
    if (!a)
        return;
    TB_CHECK_STR(json_string_value(json_object_get(json_object_get(a, "confirm"), "command")) +
                     strlen(json_string_value(json_object_get(json_object_get(a, "confirm"),
                                                              "command"))) -
                     strlen("--pairs 2-5,5-2,0-1 -m 4194304"),
                 "--pairs 2-5,5-2,0-1 -m 4194304");
    TB_CHECK_INT(json_integer_value(json_object_get(a, "cells_judged")), 3 * 8 * 7);
    TB_CHECK_INT(json_array_size(json_object_get(json_array_get(json_object_get(a, "sets"), 0),
                                                 "cells")),
                 8 * 7);
    json_decref(a);
}

/* Paths from ranks[] and the NUMA nodes of hosts[].topology. */
static void test_paths(void)
{
    json_t *a = analyze("rank_level.json", NULL);
    const json_t *set, *cl;
    size_t i;
    char classes[256] = "";
    if (!a)
        return;
    set = json_array_get(json_object_get(a, "sets"), 0);
    json_array_foreach(json_object_get(set, "classes"), i, cl) {
        strncat(classes, json_string_value(json_object_get(cl, "path")),
                sizeof(classes) - strlen(classes) - 1);
        strncat(classes, " ", sizeof(classes) - strlen(classes) - 1);
    }
    TB_CHECK_STR(classes, "NET cross-socket ");
    /* the port's figure is shared by the flows of the cell's shift round: in round 2 both
     * ranks of n0 send to n1 at once, in round 1 only rank 1 leaves n0 */
    json_array_foreach(json_object_get(set, "cells"), i, cl) {
        json_int_t from = json_integer_value(json_object_get(cl, "from")),
                   to = json_integer_value(json_object_get(cl, "to"));
        if (from == 0 && to == 2)
            TB_CHECK_NEAR(json_number_value(json_object_get(cl, "expected_gbps")), 23.5 / 2, 1e-9);
        if (from == 1 && to == 2)
            TB_CHECK_NEAR(json_number_value(json_object_get(cl, "expected_gbps")), 23.5, 1e-9);
        if (from == 0 && to == 1)
            TB_CHECK(json_object_get(cl, "expected_gbps") == NULL);
    }
    json_decref(a);
}

/* The threshold is an option: a strict one finds nothing in the one-way document's 0.4x
 * cell when the minimum departure is set above it. */
static void test_threshold(void)
{
    tb_analysis_opts_t o;
    json_t *a;
    tb_analysis_opts_default(&o);
    o.min_drop = 0.7;
    a = analyze("one_way.json", &o);
    if (a)
        TB_CHECK_STR(verdict(a), "ok");
    json_decref(a);
    tb_analysis_opts_default(&o);
    o.mad_k = 1.0;
    o.min_drop = 0.01;
    a = analyze("noise_only.json", &o);
    if (a)
        TB_CHECK_STR(verdict(a), "suspect"); /* a loose threshold does see noise */
    json_decref(a);
}

/* A matrix naming a rank the job does not have is malformed input (exit 3). */
static void test_malformed(void)
{
    json_t *doc = NULL, *a = NULL;
    tb_analysis_opts_t o;
    tb_analysis_opts_default(&o);
    TB_CHECK_INT(tb_doc_load(DIR "/bad_rank.json", &doc), TB_OK);
    TB_CHECK_INT(tb_analysis_run(doc, DIR, &o, &a), TB_ERR_INPUT);
    TB_CHECK(a == NULL);
    json_object_set_new(json_array_get(json_object_get(doc, "ranks"), 2), "rank",
                        json_integer(7));
    TB_CHECK_INT(tb_analysis_run(doc, DIR, &o, &a), TB_ERR_INPUT);
    json_decref(doc);
}

/* Entries that did not end ok are noted once per status and reason: no GPU must not
 * repeat its reason for every GPU test. */
static void test_unjudged_grouped(void)
{
    json_t *doc = NULL, *a = NULL, *tests;
    tb_analysis_opts_t o;
    const json_t *n;
    size_t i, grouped = 0, single = 0, mentions = 0;
    tb_analysis_opts_default(&o);
    TB_CHECK_INT(tb_doc_load(DIR "/noise_only.json", &doc), TB_OK);
    if (!doc)
        return;
    tests = json_object_get(doc, "tests");
    for (int k = 0; k < 3; k++)
        json_array_append_new(tests, json_pack("{s:s, s:s, s:s, s:s}", "name",
                                               k == 0 ? "nccl_a" : k == 1 ? "nccl_b" : "nccl_c",
                                               "kind", "collective", "status", "skipped",
                                               "skip_reason", "no GPU: REASON-X"));
    json_array_append_new(tests, json_pack("{s:s, s:s, s:s, s:s}", "name", "gpu_copy", "kind",
                                           "gpu_copy", "status", "skipped", "skip_reason",
                                           "REASON-Y"));
    TB_CHECK_INT(tb_analysis_run(doc, DIR, &o, &a), TB_OK);
    json_array_foreach(json_object_get(a, "notes"), i, n) {
        const char *s = json_string_value(n);
        if (strstr(s, "REASON-X"))
            mentions++;
        if (!strcmp(s, "nccl_a, nccl_b, nccl_c (3 tests): skipped: no GPU: REASON-X, not judged"))
            grouped++;
        if (!strcmp(s, "gpu_copy (gpu_copy): skipped: REASON-Y, not judged"))
            single++;
    }
    TB_CHECK_INT(mentions, 1);
    TB_CHECK_INT(grouped, 1);
    TB_CHECK_INT(single, 1);
    json_decref(a);
    json_decref(doc);
}

/* --backend ucx entries: what UCX selected is a note; TCP between two hosts that both have
 * RDMA NICs (every host of noise_only.json has one) is said, RDMA transports are not. */
static void test_ucx_selection(void)
{
    json_t *doc = NULL, *a = NULL, *tests;
    tb_analysis_opts_t o;
    const json_t *n;
    size_t i, summary = 0, tcp = 0, rdma = 0;
    tb_analysis_opts_default(&o);
    TB_CHECK_INT(tb_doc_load(DIR "/noise_only.json", &doc), TB_OK);
    if (!doc)
        return;
    tests = json_object_get(doc, "tests");
    /* rank 0 -> 1 over tcp (n0 -> n1), 1 -> 0 over rc_mlx5, as a latency entry */
    json_array_append_new(
        tests, json_pack("{s:s, s:s, s:s, s:s, s:s, s:[], s:{s:[{s:s, s:I}, {s:s, s:I}], "
                         "s:[[i,i,i], [i,i,i]], s:I}}",
                         "name", "latency", "kind", "collective", "backend", "ucx", "placement",
                         "inter-node", "status", "ok", "results", "selected", "selections",
                         "transports", "tcp/eth0", "pairs", (json_int_t)1, "transports",
                         "rc_mlx5/mlx5_0:1 ud_mlx5/mlx5_0:1", "pairs", (json_int_t)1, "pairs", 0,
                         1, 0, 1, 0, 1, "npairs", (json_int_t)2));
    TB_CHECK_INT(tb_analysis_run(doc, DIR, &o, &a), TB_OK);
    json_array_foreach(json_object_get(a, "notes"), i, n) {
        const char *s = json_string_value(n);
        if (!strcmp(s, "latency (inter-node, ucx): UCX selected tcp/eth0 (1 pairs); "
                       "rc_mlx5/mlx5_0:1 ud_mlx5/mlx5_0:1 (1 pairs)"))
            summary++;
        if (strstr(s, "from rank 0 (n0) to rank 1 (n1) over tcp/eth0 although both hosts have "
                      "RDMA NICs"))
            tcp++;
        if (strstr(s, "from rank 1"))
            rdma++;
    }
    TB_CHECK_INT(summary, 1);
    TB_CHECK_INT(tcp, 1);
    TB_CHECK_INT(rdma, 0);
    json_decref(a);
    json_decref(doc);
}

/* The collective named `name` of the analysis's collectives[]. */
static const json_t *collective_of(const json_t *a, const char *name)
{
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(a, "collectives"), i, x)
        if (!strcmp(json_string_value(json_object_get(x, "test")), name))
            return x;
    return NULL;
}

/* Checks the collective `name`'s verdict and that its expected_source says `source`;
 * returns it. */
static const json_t *collective_said(const json_t *a, const char *name, const char *want,
                                     const char *source)
{
    const json_t *x = collective_of(a, name);
    const char *src = json_string_value(json_object_get(x, "expected_source"));
    TB_CHECK_STR(json_string_value(json_object_get(x, "verdict")), want);
    if (!src || !strstr(src, source))
        printf("%s: expected_source \"%s\" lacks \"%s\"\n", name, src ? src : "(none)", source);
    TB_CHECK(src && strstr(src, source));
    return x;
}

/* GPU copy cells against their peers of the same copy kind and path class and the model;
 * collectives' busbw against the ring model, or unjudged with the reason. */
static void test_gpu_and_collectives(void)
{
    json_t *a;
    const json_t *cu, *x;
    size_t i;
    int fact = 0;
    expect("gpu_copy_noise.json", "ok", "");
    expect("gpu_copy_slow_pcie.json", "suspect", "gpu n2 GPU3");
    expect("gpu_copy_slow_nvlink.json", "suspect", "gpu_link n1 GPU0 <-> GPU1");
    expect("gpu_copy_one_way.json", "suspect", "gpu_link n3 GPU2 -> GPU0");
    /* 2-GPU nodes: a slow NVLink is each GPU's every peer cell, and still one link */
    expect("gpu_copy_2gpu_nvlink.json", "suspect", "gpu_link n1 GPU0 <-> GPU1");
    expect("gpu_copy_gpu_peers.json", "suspect", "gpu n1 GPU0");
    expect("coll_ok.json", "ok", "");
    expect("coll_slow_nccl.json", "suspect", "collective nccl_all_reduce (nccl, float)");
    expect("coll_small.json", "ok", ""); /* the same swept to 64 KiB: unjudged */
    expect("coll_node_ok.json", "ok", "");
    expect("coll_node_slow.json", "suspect",
           "collective all_reduce (mpi, float); collective broadcast (mpi, float)");
    /* ranks round-robin over the nodes: two ring hops share each port */
    expect("coll_map_by_node_ok.json", "ok", "");
    expect("coll_map_by_node_slow.json", "suspect", "collective all_reduce (mpi, float)");

    /* the GPU verdict cites its PCIe link from the topology, its cells and their peers */
    if ((a = analyze("gpu_copy_slow_pcie.json", NULL))) {
        cu = json_array_get(json_object_get(a, "culprits"), 0);
        json_array_foreach(json_object_get(cu, "topology"), i, x)
            fact |= strstr(json_string_value(x), "GPU3 PCIe link Gen5 x8") != NULL;
        TB_CHECK(fact);
        x = json_array_get(json_object_get(cu, "evidence"), 0);
        TB_CHECK_INT(json_array_size(json_object_get(x, "cells")), 4);
        TB_CHECK(json_number_value(json_object_get(x, "ratio_to_peers")) < 0.6);
        TB_CHECK(json_number_value(json_object_get(x, "expected_gbps")) > 0);
        x = json_array_get(json_object_get(a, "gpu_copy"), 0);
        TB_CHECK_INT(json_array_size(json_object_get(x, "groups")), 7);
        json_decref(a);
    }
    /* busbw: judged against the ring's slowest hop where every hop has a figure */
    if ((a = analyze("coll_ok.json", NULL))) {
        x = collective_of(a, "nccl_all_reduce");
        TB_CHECK_STR(json_string_value(json_object_get(x, "verdict")), "ok");
        TB_CHECK_NEAR(json_number_value(json_object_get(x, "expected_gbps")), 23.5, 1e-9);
        TB_CHECK(strstr(json_string_value(json_object_get(x, "expected_source")),
                        "slowest hop") != NULL);
        x = collective_of(a, "all_reduce");
        TB_CHECK_STR(json_string_value(json_object_get(x, "verdict")), "unjudged");
        TB_CHECK(strstr(json_string_value(json_object_get(x, "expected_source")),
                        "shared-memory") != NULL);
        x = collective_of(a, "alltoall");
        TB_CHECK_STR(json_string_value(json_object_get(x, "verdict")), "unjudged");
        TB_CHECK(strstr(json_string_value(json_object_get(x, "expected_source")),
                        "bisection") != NULL);
        json_decref(a);
    }
    /* round-robin placement: the port's figure halved (two ring hops leave each node at
     * once); NCCL's rings do not follow rank order there: not judged, and why */
    if ((a = analyze("coll_map_by_node_ok.json", NULL))) {
        x = collective_said(a, "all_reduce", "ok", "shared by the 2 ring hops leaving");
        TB_CHECK_NEAR(json_number_value(json_object_get(x, "expected_gbps")), 23.5 / 2, 1e-9);
        collective_said(a, "nccl_all_reduce", "unjudged", "not contiguous per node");
        json_decref(a);
    }
    /* one rank per node without GPUs: MPI's ring over NET hops only, the slowest port */
    if ((a = analyze("coll_node_slow.json", NULL))) {
        x = collective_of(a, "all_reduce");
        TB_CHECK_STR(json_string_value(json_object_get(x, "verdict")), "suspect");
        TB_CHECK_INT(json_integer_value(json_object_get(x, "size")), 268435456);
        TB_CHECK_NEAR(json_number_value(json_object_get(x, "busbw_gbps")), 6.0, 1e-9);
        json_decref(a);
    }
}

/* An infinite cell (an NPY matrix can hold one) is not judged and says so: it was taken
 * for the worst latency of its link, whose evidence JSON cannot hold. */
static void test_infinite_cell(void)
{
    json_t *a = analyze("inf_cell.json", NULL), *x;
    char got[512];
    size_t i;
    int noted = 0;
    if (!a)
        return;
    culprits_of(a, got, sizeof(got));
    TB_CHECK_STR(got, "link n1 <-> n4");
    json_array_foreach(json_object_get(a, "notes"), i, x)
        noted |= strstr(json_string_value(x), "latency_us: 1 infinite cell, not judged") != NULL;
    TB_CHECK(noted);
    json_decref(a);
}

/* After run --retest, a link folded into a node verdict keeps what measuring its pairs
 * alone said: the retest used to run after the fold and skip it. */
static void test_retest_folded(void)
{
    json_t *a = analyze("slow_node_retest.json", NULL);
    const json_t *cu, *ex;
    char got[512];
    if (!a)
        return;
    culprits_of(a, got, sizeof(got));
    TB_CHECK_STR(got, "node n3");
    cu = json_array_get(json_object_get(a, "culprits"), 0);
    ex = json_array_get(json_object_get(cu, "explains"), 0);
    TB_CHECK_STR(json_string_value(json_object_get(ex, "subject")), "n2 <-> n3");
    TB_CHECK_STR(json_string_value(json_object_get(json_object_get(ex, "isolation"), "verdict")),
                 "confirmed");
    json_decref(a);
    /* a retest at 64 KiB with no control pair: no model figure at that size */
    if (!(a = analyze("retest_small.json", NULL)))
        return;
    cu = json_array_get(json_object_get(a, "culprits"), 0);
    TB_CHECK_STR(json_string_value(json_object_get(cu, "subject")), "n1 <-> n4");
    TB_CHECK_STR(json_string_value(json_object_get(json_object_get(cu, "isolation"), "verdict")),
                 "inconclusive");
    json_decref(a);
}

/* A node slow sending to every peer is one node verdict, its directions under explains,
 * and it is drained (the drain rule read the subject, "n3 (sending)", as a host name). */
static void test_slow_egress(void)
{
    json_t *a = analyze("slow_egress.json", NULL);
    const json_t *cu;
    if (!a)
        return;
    cu = json_array_get(json_object_get(a, "culprits"), 0);
    TB_CHECK_INT((long long)json_array_size(json_object_get(cu, "explains")), 7);
    TB_CHECK_STR(json_string_value(json_object_get(
                     json_array_get(json_object_get(json_object_get(a, "recommendations"),
                                                    "drain"),
                                    0),
                     "host")),
                 "n3");
    json_decref(a);
}

/* A leaf's uplink slow one way: its four hosts each send low to the other leaf; the
 * one-way fold would have named four nodes (and drained them) for one uplink. */
static void test_shared_uplink(void)
{
    json_t *a = analyze("shared_uplink.json", NULL);
    const json_t *cu;
    size_t i, ndir = 0;
    if (!a)
        return;
    json_array_foreach(json_object_get(a, "culprits"), i, cu)
        ndir += !strcmp(json_string_value(json_object_get(cu, "kind")), "direction");
    TB_CHECK_INT((long long)ndir, 16);
    TB_CHECK_INT((long long)json_array_size(json_object_get(a, "culprits")), 16);
    TB_CHECK_INT((long long)json_array_size(
                     json_object_get(json_object_get(a, "recommendations"), "drain")),
                 0);
    json_decref(a);
}

/* The confirmation command holds every host name and the program path whatever their
 * length (250-character FQDNs, a long install path): it was a fixed-size buffer. */
static void test_long_names(void)
{
    char path[512], prog[700], name[260];
    json_t *doc = NULL, *a = NULL, *h;
    size_t i;
    const char *cmd;
    tb_analysis_opts_t opts;
    tb_analysis_opts_default(&opts);
    memset(prog, 'p', sizeof(prog) - 1);
    prog[0] = '/';
    prog[sizeof(prog) - 1] = 0;
    opts.program = prog;
    snprintf(path, sizeof(path), "%s/slow_link.json", DIR);
    TB_CHECK_INT(tb_doc_load(path, &doc), TB_OK);
    if (!doc)
        return;
    json_array_foreach(json_object_get(doc, "hosts"), i, h)
    {
        memset(name, 'a' + (int)i, 250);
        snprintf(name + 250, sizeof(name) - 250, "%zu", i);
        json_object_set_new(h, "name", json_string(name));
    }
    TB_CHECK_INT(tb_analysis_run(doc, DIR, &opts, &a), TB_OK);
    cmd = json_string_value(json_object_get(json_object_get(a, "confirm"), "command"));
    TB_CHECK(cmd != NULL);
    if (cmd) {
        TB_CHECK(strstr(cmd, prog) != NULL);
        TB_CHECK(strstr(cmd, name) != NULL); /* the last host */
        TB_CHECK(strstr(cmd, "--pairs ") != NULL);
    }
    json_decref(a);
    json_decref(doc);
}

int main(void)
{
    tb_log_set_identity("test", -1);
    test_rules();
    test_node_explains_links();
    test_zero_latency_median();
    test_shared_kernel();
    test_evidence();
    test_paths();
    test_threshold();
    test_malformed();
    test_unjudged_grouped();
    test_ucx_selection();
    test_gpu_and_collectives();
    test_long_names();
    test_infinite_cell();
    test_retest_folded();
    test_slow_egress();
    test_shared_uplink();
    return tb_test_done();
}
