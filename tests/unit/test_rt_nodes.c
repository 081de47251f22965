/* bench/rt.c node grouping: ranks with one host name share a node, nodes are numbered
 * in the order of their lowest rank, whatever order the names come in; checked against
 * the definition on shuffled names. */
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "tb_test.h"

/* The definition, checked as properties: ranks share a node exactly when their names
 * are equal, and scanning ranks in order meets the nodes as 0, 1, 2, ... */
static int reference(const char *hosts, int n, const int *node_of)
{
    int next = 0;
    for (int r = 0; r < n; r++) {
        int first = r;
        for (int q = 0; q < r; q++)
            if (!strncmp(hosts + (size_t)q * TB_HOST_LEN, hosts + (size_t)r * TB_HOST_LEN,
                         TB_HOST_LEN)) {
                first = q;
                break;
            }
        if (first == r) {
            if (node_of[r] != next++)
                return -1;
        } else if (node_of[r] != node_of[first]) {
            return -1;
        }
    }
    return next;
}

static void check_names(const char *const *names, int n)
{
    char *hosts = calloc((size_t)(n ? n : 1), TB_HOST_LEN);
    int *got = calloc((size_t)(n ? n : 1), sizeof(int));
    int nnodes = -1;
    for (int r = 0; r < n; r++)
        snprintf(hosts + (size_t)r * TB_HOST_LEN, TB_HOST_LEN, "%s", names[r]);
    TB_CHECK_INT(tb_rt_group_nodes(hosts, n, got, &nnodes), TB_OK);
    TB_CHECK_INT(reference(hosts, n, got), nnodes);
    free(hosts);
    free(got);
}

int main(void)
{
    const char *shuffled[] = {"nodeB", "nodeA", "nodeB", "nodeC", "nodeA", "nodeC", "nodeB"};
    const char *one[] = {"x", "x", "x"};
    const char *distinct[] = {"d", "c", "b", "a"};
    char *hosts = calloc(5, TB_HOST_LEN);
    int node_of[5], nnodes = 0;

    check_names(shuffled, 7);
    check_names(one, 3);
    check_names(distinct, 4);
    check_names(NULL, 0);
    /* Explicitly: nodeB (rank 0) is node 0, nodeA (first at rank 1) node 1. */
    for (int r = 0; r < 5; r++)
        snprintf(hosts + (size_t)r * TB_HOST_LEN, TB_HOST_LEN, "%s", shuffled[r]);
    TB_CHECK_INT(tb_rt_group_nodes(hosts, 5, node_of, &nnodes), TB_OK);
    TB_CHECK_INT(nnodes, 3);
    TB_CHECK_INT(node_of[0], 0);
    TB_CHECK_INT(node_of[1], 1);
    TB_CHECK_INT(node_of[2], 0);
    TB_CHECK_INT(node_of[3], 2);
    TB_CHECK_INT(node_of[4], 1);
    free(hosts);

    /* 3,000 ranks on 200 nodes named in a scrambled order, ranks dealt round-robin and
     * then shuffled. */
    {
        enum { N = 3000 };
        static char buf[N][24];
        static const char *names[N];
        unsigned s = 7;
        for (int r = 0; r < N; r++) {
            snprintf(buf[r], sizeof(buf[r]), "gpu%03u", (unsigned)((r * 37) % 200));
            names[r] = buf[r];
        }
        for (int r = N - 1; r > 0; r--) {
            int k;
            const char *t;
            s = s * 1103515245u + 12345u;
            k = (int)((s >> 8) % (unsigned)(r + 1));
            t = names[r];
            names[r] = names[k];
            names[k] = t;
        }
        check_names(names, N);
    }
    return tb_test_done();
}
