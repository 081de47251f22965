/* topo/model/pack.c: a topology survives the byte image that carries it to rank 0, and damaged
 * or foreign images are rejected instead of misread. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tb_test.h"
#include "topo.h"
#include "topo_pack.h"

int main(void)
{
    char path[512];
    tb_topo_t *t = NULL, *back = NULL;
    void *img = NULL;
    size_t len = 0;

    tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
    snprintf(path, sizeof(path), "%s/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml",
             TB_FIXTURES_DIR);
    if (tb_topo_import_file(path, TB_TOPO_FMT_AUTO, &t) != TB_OK) {
        fprintf(stderr, "fixture %s not importable here\n", path);
        return 77;
    }
    TB_CHECK_INT(tb_topo_pack(t, &img, &len), TB_OK);
    TB_CHECK_INT(tb_topo_unpack(img, len, &back), TB_OK);
    if (back) {
        TB_CHECK_INT(back->nobjs, t->nobjs);
        TB_CHECK_INT(back->nlinks, t->nlinks);
        TB_CHECK_INT(back->nfindings, t->nfindings);
        TB_CHECK_INT(back->nnotes, t->nnotes);
        TB_CHECK(memcmp(back->objs, t->objs, t->nobjs * sizeof(*t->objs)) == 0);
        TB_CHECK(memcmp(back->links, t->links, t->nlinks * sizeof(*t->links)) == 0);
        TB_CHECK_STR(back->source, "nccl-xml");
        TB_CHECK_INT(tb_topo_count(back, TB_OBJ_GPU), 8);
        /* The copy is a working model: paths answer as on the original. */
        tb_topo_path_t a, b;
        tb_topo_path(t, tb_topo_find(t, "GPU0"), tb_topo_find(t, "GPU1"), &a);
        tb_topo_path(back, tb_topo_find(back, "GPU0"), tb_topo_find(back, "GPU1"), &b);
        TB_CHECK_INT(b.cls, a.cls);
        TB_CHECK_NEAR(b.theoretical_gbs, a.theoretical_gbs, 0);
        /* It can grow like any topology (its arrays are its own). */
        tb_topo_obj_t extra;
        tb_topo_obj_init(&extra, TB_OBJ_PCIDEV);
        TB_CHECK(tb_topo_add_obj(back, &extra) == (int)t->nobjs);
        tb_topo_destroy(back);
        back = NULL;
    }
    /* Damaged images: truncated, padded, a foreign header. */
    TB_CHECK_INT(tb_topo_unpack(img, len - 1, &back), TB_ERR_INPUT);
    TB_CHECK_INT(tb_topo_unpack(img, 3, &back), TB_ERR_INPUT);
    {
        char *bigger = calloc(1, len + 8);
        memcpy(bigger, img, len);
        TB_CHECK_INT(tb_topo_unpack(bigger, len + 8, &back), TB_ERR_INPUT);
        bigger[0] ^= 0xff;
        TB_CHECK_INT(tb_topo_unpack(bigger, len, &back), TB_ERR_INPUT);
        free(bigger);
    }
    TB_CHECK(back == NULL);
    free(img);
    tb_topo_destroy(t);
    return tb_test_done();
}
