/* Functions shared between topo/ source files; not part of topo's public header.
 * Ownership: import.c (format sniffing and dispatch), import_nccl.c, import_nvsmi.c,
 * model.c, print.c, json.c, cmd.c; hwloc.c (live hwloc and hwloc XML), nvml.c, verbs.c,
 * sysfs.c, discover.c (tb_topo_discover). */
#ifndef TB_TOPO_INTERNAL_H
#define TB_TOPO_INTERNAL_H

#include "topo.h"

/* hwloc.c: fills `topo` from an hwloc XML export (xml_path != NULL) or from this machine
 * (xml_path == NULL). A file from a newer hwloc (XML version 3.0 and later on hwloc 2.x)
 * gets a message naming the file and saying so, TB_ERR_INPUT. */
TB_NODISCARD tb_status_t tb_topo_from_hwloc(tb_topo_t *topo, const char *xml_path);

/* import_nccl.c: NCCL topology XML (NCCL_TOPO_FILE / NCCL_TOPO_DUMP_FILE, RCCL dialect). */
TB_NODISCARD tb_status_t tb_topo_from_nccl_xml(tb_topo_t *topo, const char *path);

/* import_nvsmi.c: `nvidia-smi topo -m` text. */
TB_NODISCARD tb_status_t tb_topo_from_nvsmi(tb_topo_t *topo, const char *path);

/* nvml.c, verbs.c, sysfs.c: live enrichment of a graph already built by hwloc. Each adds a
 * note saying what it found or why it skipped; none fails when its source is absent. */
void tb_topo_add_nvml(tb_topo_t *topo);
void tb_topo_add_verbs(tb_topo_t *topo);
void tb_topo_add_sysfs(tb_topo_t *topo);

#endif
