/* Live discovery of this node: hwloc builds the graph, then NVML, libibverbs and sysfs
 * complete it (GPU link state and NVLinks, RDMA ports, interfaces and PCIe link state),
 * and the model derives path classes and findings. A missing source is a note, never an
 * error; only hwloc failing to see the machine at all fails discovery. */
#define _DEFAULT_SOURCE /* gethostname */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"
#include "topo_internal.h"

tb_status_t tb_topo_discover(tb_topo_t **topo_p)
{
    tb_topo_t *topo = NULL;
    tb_status_t st;
    double t0 = tb_now();

    st = tb_topo_create(&topo);
    if (st != TB_OK)
        return st;
    if (gethostname(topo->hostname, sizeof(topo->hostname) - 1) != 0)
        snprintf(topo->hostname, sizeof(topo->hostname), "unknown");
    snprintf(topo->source, sizeof(topo->source), "live");

    st = tb_topo_from_hwloc(topo, NULL);
    if (st != TB_OK)
        goto err;
    /* Order matters: NVML may add NVSwitches and names GPUs; verbs fills RDMA ports
     * before sysfs, which only fills the ports verbs left empty. */
    tb_topo_add_nvml(topo);
    tb_topo_add_verbs(topo);
    tb_topo_add_sysfs(topo);
    st = tb_topo_model_build(topo);
    if (st != TB_OK)
        goto err;
    tb_debug("topology discovery took %.3f s", tb_now() - t0);
    *topo_p = topo;
    return TB_OK;

err:
    tb_topo_destroy(topo);
    return st;
}
