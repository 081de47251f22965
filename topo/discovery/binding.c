/* This process's CPU binding and cpuset arithmetic, for the MPI runtime in bench/, which
 * must not include hwloc.h itself (folder ownership: hwloc belongs to topo/). */
#include <hwloc.h>
#include <stdio.h>

#include "log.h"
#include "topo.h"

const char *tb_topo_hwloc_version(void) { return HWLOC_VERSION; }

tb_status_t tb_topo_binding(char *cpuset, size_t len, int *bound_p)
{
    hwloc_topology_t topo;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    tb_status_t st = TB_ERR_ENV;

    *bound_p = 0;
    snprintf(cpuset, len, "unknown");
    if (!set)
        return TB_ERR_INTERNAL;
    if (hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0 &&
            hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) == 0) {
            hwloc_bitmap_list_snprintf(cpuset, len, set);
            *bound_p = !hwloc_bitmap_isincluded(hwloc_topology_get_complete_cpuset(topo), set);
            st = TB_OK;
        }
        hwloc_topology_destroy(topo);
    }
    hwloc_bitmap_free(set);
    return st;
}

int tb_topo_cpusets_intersect(const char *a, const char *b)
{
    hwloc_bitmap_t x = hwloc_bitmap_alloc(), y = hwloc_bitmap_alloc();
    int hit = 0;
    if (x && y && hwloc_bitmap_list_sscanf(x, a) == 0 && hwloc_bitmap_list_sscanf(y, b) == 0)
        hit = hwloc_bitmap_intersects(x, y);
    hwloc_bitmap_free(x);
    hwloc_bitmap_free(y);
    return hit;
}
