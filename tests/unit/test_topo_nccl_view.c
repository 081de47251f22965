/* topo/model/nccl_view.c: NCCL's graph dump read as JSON, and NCCL's view set against
 * discovery: an OCI BM.GPU4.8 dump from the fixtures as "discovered", and a copy edited
 * as NCCL would dump it on a misconfigured node (a NIC missing, GDR off, a GPU at another
 * address), with a graph whose channel takes a far NIC. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb_test.h"
#include "topo_nccl.h"

#define FIXTURE TB_FIXTURES_DIR "/nccl_topo_xml/oci-hpc-oke_BM.GPU4.8.xml"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Replaces the first `from` in `text` with `to` (same buffer, enough room: to <= from). */
static int edit(char *text, const char *from, const char *to)
{
    char *p = strstr(text, from);
    if (!p || strlen(to) > strlen(from))
        return 0;
    memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
    memcpy(p, to, strlen(to));
    return 1;
}

static int has(const json_t *findings, const char *code, const char *object, const char *text)
{
    size_t i;
    const json_t *f;
    json_array_foreach(findings, i, f) {
        if (!strcmp(json_string_value(json_object_get(f, "code")), code) &&
            (!object || !strcmp(json_string_value(json_object_get(f, "object")), object)) &&
            (!text || strstr(json_string_value(json_object_get(f, "message")), text)))
            return 1;
    }
    return 0;
}

int main(void)
{
    char dump[] = "/tmp/tb-nccl-view-topo-XXXXXX", graph[] = "/tmp/tb-nccl-view-graph-XXXXXX";
    char *text = slurp(FIXTURE);
    tb_topo_t *found = NULL, *nccl = NULL;
    json_t *graphs = NULL, *findings = json_array();
    void *gv = NULL;
    FILE *f;
    int fd;

    if (!text) {
        fprintf(stderr, "fixture %s missing\n", FIXTURE);
        return 77;
    }
    TB_CHECK(edit(text, "busid=\"0000:da:00.0\"", "busid=\"0000:db:00.0\""));
    TB_CHECK(edit(text, "<net name=\"mlx5_33\"", "<!-- n=\"mlx5_33\""));
    TB_CHECK(edit(text, "maxconn=\"131072\" gdr=\"1\"/>\n                <net name=\"mlx5_19\"",
                  "maxconn=\"131072\" gdr=\"0\"/>\n                <net name=\"mlx5_19\""));
    {
        /* close the comment opened above at the end of mlx5_33's line */
        char *p = strstr(text, "<!-- n=\"mlx5_33\"");
        char *end = p ? strstr(p, "/>") : NULL;
        TB_CHECK(end != NULL);
        if (end)
            memcpy(end - 1, "-->", 3);
    }
    fd = mkstemp(dump);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    TB_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    fd = mkstemp(graph);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    TB_CHECK(f != NULL);
    if (f) {
        fputs("<graphs version=\"1\">\n"
              "  <graph id=\"0\" pattern=\"4\" crossnic=\"0\" nchannels=\"2\" speedintra=\"40\" "
              "speedinter=\"12\" latencyinter=\"0\" typeintra=\"NVL\" typeinter=\"SYS\" "
              "samechannels=\"0\">\n"
              "    <channel><net dev=\"8\"/><gpu dev=\"0\"/><gpu dev=\"1\"/><net dev=\"8\"/></channel>\n"
              "    <channel><net dev=\"0\"/><gpu dev=\"1\"/><gpu dev=\"0\"/><net dev=\"0\"/></channel>\n"
              "  </graph>\n"
              "  <graph id=\"1\" pattern=\"1\" crossnic=\"0\" nchannels=\"1\" speedintra=\"40\" "
              "speedinter=\"12\" typeintra=\"NVL\" typeinter=\"PXB\">\n"
              "    <channel><net dev=\"0\"/><gpu dev=\"0\"/><net dev=\"0\"/></channel>\n"
              "  </graph>\n"
              "</graphs>\n",
              f);
        fclose(f);
    }

    TB_CHECK_INT(tb_topo_import_file(FIXTURE, TB_TOPO_FMT_NCCL_XML, &found), TB_OK);
    TB_CHECK_INT(tb_topo_import_file(dump, TB_TOPO_FMT_NCCL_XML, &nccl), TB_OK);
    TB_CHECK_INT(tb_topo_nccl_graphs_read(graph, &gv), TB_OK);
    graphs = gv;
    TB_CHECK_INT(json_array_size(graphs), 2);
    {
        const json_t *g0 = json_array_get(graphs, 0);
        TB_CHECK_STR(json_string_value(json_object_get(g0, "pattern_name")), "ring");
        TB_CHECK_INT(json_integer_value(json_object_get(g0, "nchannels")), 2);
        TB_CHECK_STR(json_string_value(json_object_get(g0, "typeinter")), "SYS");
        TB_CHECK_INT(json_integer_value(json_array_get(json_object_get(
                         json_array_get(json_object_get(g0, "channels"), 0), "nets"), 0)),
                     8);
        TB_CHECK_STR(json_string_value(json_object_get(json_array_get(graphs, 1), "pattern_name")),
                     "balanced_tree");
    }
    if (found && nccl) {
        size_t n = tb_topo_nccl_compare(found, nccl, graphs, "n0", findings);
        TB_CHECK(n >= 4);
        TB_CHECK(has(findings, "nccl_gpu_unused", "GPU7", "0000:da:00.0"));
        TB_CHECK(has(findings, "nccl_nic_unused", "mlx5_33", "lists no mlx5_33"));
        TB_CHECK(has(findings, "nccl_nic_unused", "mlx5_20", "none of the 2 graphs"));
        TB_CHECK(!has(findings, "nccl_nic_unused", "mlx5_18", NULL)); /* channel 1 uses it */
        TB_CHECK(has(findings, "nccl_nic_far", "mlx5_32", "GPU0"));
        TB_CHECK(has(findings, "nccl_nic_far", "mlx5_32", "over SYS while mlx5_"));
        TB_CHECK(has(findings, "nccl_gdr_disabled", "mlx5_18", NULL));
        TB_CHECK(!has(findings, "nccl_gpu_unused", "GPU0", NULL));
        if (tb_test_failures)
            fprintf(stderr, "%s\n", json_dumps(findings, JSON_INDENT(1)));
    }
    /* Same topology, no graphs: nothing to say. */
    {
        json_t *none = json_array();
        tb_topo_t *again = NULL;
        TB_CHECK_INT(tb_topo_import_file(FIXTURE, TB_TOPO_FMT_NCCL_XML, &again), TB_OK);
        if (found && again)
            TB_CHECK_INT(tb_topo_nccl_compare(found, again, NULL, "n0", none), 0);
        tb_topo_destroy(again);
        json_decref(none);
    }
    /* Not a graph file: an error naming it. */
    TB_CHECK_INT(tb_topo_nccl_graphs_read(FIXTURE, &gv), TB_ERR_INPUT);
    TB_CHECK(gv == NULL);
    unlink(dump);
    unlink(graph);
    tb_topo_destroy(found);
    tb_topo_destroy(nccl);
    json_decref(graphs);
    json_decref(findings);
    free(text);
    return tb_test_done();
}
