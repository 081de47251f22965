/* libFuzzer target for the hwloc XML import (topo/hwloc.c): arbitrary bytes written to a
 * file and imported. hwloc parses the XML itself; what is fuzzed here is our version
 * sniffing before it and the mapping of whatever hwloc accepts (odd bridges, OS devices
 * without PCI parents, distance matrices naming any objects) into the graph.
 *
 * hwloc 2.9's own XML importer is not hardened against corrupt input: fuzzing found NULL
 * dereferences on objects without complete_cpuset/complete_nodeset (now refused by
 * hwloc.c before loading), leaks on its error paths, and huge allocations from absurd
 * sizes. Run with -detect_leaks=0 and ASAN_OPTIONS=allocator_may_return_null=1, and
 * triage crashes whose top frames are inside libhwloc as hwloc issues, not ours. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "topo.h"
#include "topo_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tb_fuzz_hwloc_XXXXXX";
    tb_topo_t *topo = NULL;
    int fd;
    static int quiet;

    if (!quiet) {
        /* Every rejected input logs an error; the fuzzer only cares about crashes. */
        tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
        setenv("HWLOC_XML_VERBOSE", "0", 1);
        quiet = 1;
    }
    fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    if (tb_topo_create(&topo) == TB_OK) {
        if (tb_topo_from_hwloc(topo, path) == TB_OK) {
            /* The graph's invariant: parents come first and are in range. */
            for (size_t i = 0; i < topo->nobjs; i++)
                if (topo->objs[i].parent >= (int)i || topo->objs[i].parent < -1)
                    abort();
            for (size_t i = 0; i < topo->nlinks; i++)
                if (topo->links[i].a < 0 || topo->links[i].b < 0 ||
                    (size_t)topo->links[i].a >= topo->nobjs ||
                    (size_t)topo->links[i].b >= topo->nobjs)
                    abort();
        }
        tb_topo_destroy(topo);
    }
    unlink(path);
    return 0;
}
