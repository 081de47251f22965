/* libFuzzer target for the hwloc XML import (topo/discovery/hwloc.c): arbitrary bytes written to a
 * file and imported. hwloc parses the XML itself; what is fuzzed here is our version
 * sniffing before it, the mapping of whatever hwloc accepts (odd bridges, OS devices
 * without PCI parents, distance matrices naming any objects) into the graph, and the
 * model and outputs on that graph.
 *
 * hwloc 2.9's own XML importer is not hardened against corrupt input: fuzzing found NULL
 * dereferences on objects without complete_cpuset/complete_nodeset (now refused by
 * hwloc.c before loading), leaks on its error paths, and huge allocations from absurd
 * sizes. Run with -detect_leaks=0 and ASAN_OPTIONS=allocator_may_return_null=1 (run.sh
 * does), and triage crashes whose top frames are inside libhwloc as hwloc issues. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        setenv("HWLOC_XML_VERBOSE", "0", 1);
        quiet = 1;
    }
    return tb_fuzz_import(data, size, tb_topo_from_hwloc);
}
