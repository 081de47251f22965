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

/* Helpers shared by the discovery sources. sysfs.c: port parsing and bus ids (one code
 * path fills tb_topo_port_t whether verbs, hwloc's OS-device infos or sysfs read it). */
void tb_topo_port_init(tb_topo_port_t *port, int num);
tb_topo_port_t *tb_topo_nic_port(tb_topo_obj_t *nic, int num);
void tb_topo_port_set_state(tb_topo_port_t *port, int state, int phys_state);
void tb_topo_port_add_gid(tb_topo_port_t *port, int index, const unsigned char raw[16],
                          const char *type);
int tb_topo_find_busid(const tb_topo_t *topo, const char *busid);
/* Network hardware that carries RDMA by its PCI ids and 16-bit class (0x0207, ...): the
 * rule for NICs without an RDMA OS device (docs/topology.md, "Which devices are NICs"). */
int tb_topo_rdma_hardware(unsigned vendor, unsigned device, unsigned cls);
int tb_topo_sysfs_gid_type(const char *dev, int port, int index, char *buf, size_t len);
void tb_topo_sysfs_port_netdev(const char *dev, int port, char *buf, size_t len);
int tb_topo_sysfs_ib_nic(tb_topo_t *topo, const char *dev);

/* model.c: GPU numbering, shared by every source (docs/topology.md). GPU i is the device
 * the driver calls i: when every GPU has a driver index in os_index (hwloc's nvml/cuda/
 * rsmi/opencl OS devices, NVML, NCCL's dev, the nvidia-smi header) and they differ, those;
 * otherwise PCI bus order (CUDA_DEVICE_ORDER=PCI_BUS_ID), graph order where a GPU has no
 * bus id. GPU objects are then reordered among themselves so that graph order is number
 * order, named GPU<i>, with os_index = i. Idempotent. */
TB_NODISCARD tb_status_t tb_topo_number_gpus(tb_topo_t *topo);

/* hwloc.c: PCIe per-direction GB/s of gen x width (from model.c's table), and the
 * (gen, width) that hwloc's GB/s figure stands for. */
double tb_topo_pcie_gbs(int gen, int width);
void tb_topo_pcie_from_gbs(double gbs, int *gen_p, int *width_p);

#endif
