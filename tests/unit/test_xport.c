/* The transport table (bench/xport.h): the --backend option, the table rows, and the
 * parser of UCX's endpoint report on reports captured from UCX 1.13.1 (tests/data/ucx), on
 * reports in the format of UCX 1.16 and later written from UCX's source (tests/data/ucx/
 * README.md), and on a synthetic InfiniBand one (a device name with a colon). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "opts.h"
#include "tb_test.h"
#include "ucx_xport.h"
#include "xport.h"

static char *slurp(const char *name)
{
    char path[512], *buf;
    FILE *f;
    long n;
    snprintf(path, sizeof(path), "%s/ucx/%s", TB_TEST_DATA_DIR, name);
    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static json_t *parse_file(const char *name)
{
    char *text = slurp(name);
    json_t *j = text ? tb_xport_ucx_info_parse(text) : NULL;
    free(text);
    return j;
}

static const char *lane_str(json_t *j, size_t lane, const char *key)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(j, "lanes"), lane), key));
}

static void test_parse(void)
{
    json_t *j = parse_file("ep_tcp.txt"), *uses;
    TB_CHECK(j != NULL);
    TB_CHECK_STR(json_string_value(json_object_get(j, "transports")), "tcp/lo tcp/eth0");
    TB_CHECK_INT(json_array_size(json_object_get(j, "lanes")), 2);
    TB_CHECK_STR(lane_str(j, 0, "transport"), "tcp");
    TB_CHECK_STR(lane_str(j, 0, "device"), "lo");
    TB_CHECK_STR(lane_str(j, 1, "device"), "eth0");
    uses = json_object_get(json_array_get(json_object_get(j, "lanes"), 0), "uses");
    TB_CHECK_INT(json_array_size(uses), 3);
    TB_CHECK_STR(json_string_value(json_array_get(uses, 0)), "rma_bw#0");
    TB_CHECK_STR(json_string_value(json_array_get(uses, 1)), "am");
    TB_CHECK_STR(json_string_value(json_object_get(j, "tag_send")),
                 "0..<egr/short>..8185..<egr/zcopy>..8192..<rndv>..(inf)");
    json_decref(j);

    j = parse_file("ep_posix_cma.txt");
    TB_CHECK_STR(json_string_value(json_object_get(j, "transports")), "posix/memory cma/memory");
    TB_CHECK_STR(lane_str(j, 1, "transport"), "cma");
    json_decref(j);

    j = parse_file("ep_self_cma.txt"); /* "memory0.0": the path index goes, the 0 stays */
    TB_CHECK_STR(json_string_value(json_object_get(j, "transports")), "self/memory0 cma/memory");
    json_decref(j);

    /* synthetic: UCX on an HCA port, two lanes on the same device listed once */
    j = tb_xport_ucx_info_parse(
        "#                 lane[0]:  3:rc_mlx5/mlx5_0:1.0 md[2]  -> md[2]/ib/sysdev[0] rma_bw#0 "
        "am am_bw#0\n"
        "#                 lane[1]:  4:ud_mlx5/mlx5_0:1.0 md[2]  -> md[2]/ib/sysdev[0] wireup\n"
        "#                 lane[2]:  5:rc_mlx5/mlx5_0:1.1 md[2]  -> md[2]/ib/sysdev[0] rma_bw#1\n");
    TB_CHECK_STR(json_string_value(json_object_get(j, "transports")),
                 "rc_mlx5/mlx5_0:1 ud_mlx5/mlx5_0:1");
    TB_CHECK_STR(lane_str(j, 0, "device"), "mlx5_0:1");
    TB_CHECK(json_object_get(j, "tag_send") == NULL);
    json_decref(j);

    /* a connection-manager lane names no transport/device: not a lane of the selection */
    j = tb_xport_ucx_info_parse(
        "#                 lane[0]:  1:tcp/eth0.0 md[0]   -> md[0]/tcp/sysdev[255] am\n"
        "#                 lane[1]: cm tcp\n");
    TB_CHECK_INT(json_array_size(json_object_get(j, "lanes")), 1);
    json_decref(j);

    /* nothing to parse */
    TB_CHECK(tb_xport_ucx_info_parse("") == NULL);
    TB_CHECK(tb_xport_ucx_info_parse("#\n# UCP endpoint\n#\n") == NULL);
    TB_CHECK(tb_xport_ucx_info_parse("lane[0]: garbage\n") == NULL);
}

static const char *use_str(json_t *j, size_t lane, size_t k)
{
    return json_string_value(json_array_get(
        json_object_get(json_array_get(json_object_get(j, "lanes"), lane), "uses"), k));
}

/* UCX 1.16 on: "seg N" on every lane, no tag_send line, protocol tables naming the process. */
static void test_parse_v2(void)
{
    json_t *a = parse_file("ep_v2_sm_a.txt"), *b = parse_file("ep_v2_sm_b.txt"), *j;
    char *ta = a ? json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL,
         *tb = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    TB_CHECK(a != NULL && b != NULL);
    TB_CHECK_STR(json_string_value(json_object_get(a, "transports")), "sysv/memory cma/memory");
    TB_CHECK_INT(json_array_size(json_object_get(a, "lanes")), 2);
    /* the segment size is no use: "am am_bw#0", "rma_bw#0 wireup" */
    TB_CHECK_INT(
        json_array_size(json_object_get(json_array_get(json_object_get(a, "lanes"), 0), "uses")),
        2);
    TB_CHECK_STR(use_str(a, 0, 0), "am");
    TB_CHECK_STR(use_str(a, 0, 1), "am_bw#0");
    TB_CHECK_STR(use_str(a, 1, 0), "rma_bw#0");
    TB_CHECK_STR(use_str(a, 1, 1), "wireup");
    TB_CHECK(json_object_get(a, "tag_send") == NULL);
    /* two processes, one selection: what is merged is equal, though the texts are not */
    TB_CHECK(ta && tb);
    TB_CHECK_STR(ta, tb);
    free(ta);
    free(tb);
    json_decref(a);
    json_decref(b);

    j = parse_file("ep_v2_ib_multirail.txt"); /* 2.5 KiB, nine lanes */
    TB_CHECK(j != NULL);
    TB_CHECK_STR(json_string_value(json_object_get(j, "transports")),
                 "rc_mlx5/mlx5_0:1 rc_mlx5/mlx5_1:1 rc_mlx5/mlx5_2:1 rc_mlx5/mlx5_3:1 "
                 "ud_mlx5/mlx5_0:1");
    TB_CHECK_INT(json_array_size(json_object_get(j, "lanes")), 9);
    TB_CHECK_STR(lane_str(j, 7, "device"), "mlx5_3:1");
    TB_CHECK_STR(use_str(j, 7, 0), "rma_bw#7");
    TB_CHECK(use_str(j, 7, 1) == NULL);
    /* the wireup lane still connecting: its auxiliary transport is not part of the choice */
    TB_CHECK_STR(use_str(j, 8, 0), "keepalive");
    TB_CHECK_STR(use_str(j, 8, 1), "wireup");
    json_decref(j);
}

static tb_status_t parse_opts(tb_opts_t *o, int argc, char **argv)
{
    int help = 0;
    return tb_opts_parse(argc, argv, o, &help);
}

static void test_backend_option(void)
{
    tb_opts_t o;
    char *def[] = {"run", NULL}, *ucx[] = {"run", "--backend", "ucx", NULL},
         *bad[] = {"run", "--backend", "verbs", NULL};
    TB_CHECK_INT(parse_opts(&o, 1, def), TB_OK);
    TB_CHECK_STR(o.backend, "mpi");
    TB_CHECK_INT(parse_opts(&o, 3, ucx), TB_OK);
    TB_CHECK_STR(o.backend, "ucx");
    TB_CHECK_INT(parse_opts(&o, 3, bad), TB_ERR_USAGE);
    TB_CHECK_STR(tb_xport_mpi.name, "mpi");
    TB_CHECK_STR(tb_xport_ucx.name, "ucx");
    /* every operation the tests call is in both rows where UCX is compiled in */
    TB_CHECK(tb_xport_mpi.open && tb_xport_mpi.close && tb_xport_mpi.send && tb_xport_mpi.recv &&
             tb_xport_mpi.isend && tb_xport_mpi.irecv && tb_xport_mpi.testall &&
             tb_xport_mpi.waitall);
    /* MPI needs no driving and reports nothing: the record skips it without a collective */
    TB_CHECK(!tb_xport_mpi.progress && !tb_xport_mpi.describe);
    TB_CHECK(tb_xport_ucx.open && tb_xport_ucx.close);
#ifdef TB_UCX_TEST
    TB_CHECK(tb_xport_ucx.send && tb_xport_ucx.recv && tb_xport_ucx.isend && tb_xport_ucx.irecv &&
             tb_xport_ucx.testall && tb_xport_ucx.waitall && tb_xport_ucx.describe &&
             tb_xport_ucx.progress);
#endif
}

int main(void)
{
    test_parse();
    test_parse_v2();
    test_backend_option();
    return tb_test_done();
}
