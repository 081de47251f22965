#!/usr/bin/env python3
"""Writes tests/data/sysfs_rdma: a recorded-style sysfs tree for bench/verbs's decisions
(tests/unit/test_verbs_setup.c). Not measured from a machine: the values follow the
kernel's formats (ports/N/{state,link_layer,lid,gids/N}, gid_attrs/{types,ndevs}/N, PCI
config space with extended capabilities) for the cases the tests need. Run it again after
changing it; the tree is committed."""
import os, shutil, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sysfs_rdma")


def put(rel, text):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(text, str) else "wb") as f:
        f.write(text)


def port(dev, num, layer, state, lid, gids, busid):
    base = f"class/infiniband/{dev}"
    put(f"{base}/device/uevent", f"DRIVER=mlx5_core\nPCI_SLOT_NAME={busid}\n")
    put(f"{base}/hca_type", "MT4123\n")
    p = f"{base}/ports/{num}"
    put(f"{p}/link_layer", layer + "\n")
    put(f"{p}/state", {4: "4: ACTIVE", 1: "1: DOWN"}[state] + "\n")
    put(f"{p}/phys_state", "5: LinkUp\n" if state == 4 else "3: Disabled\n")
    put(f"{p}/lid", f"0x{lid:x}\n")
    put(f"{p}/rate", "200 Gb/sec (4X HDR)\n")
    for i, (gid, typ, ndev) in enumerate(gids):
        put(f"{p}/gids/{i}", gid + "\n")
        if typ is not None:
            put(f"{p}/gid_attrs/types/{i}", typ + "\n")
        if ndev is not None and layer == "Ethernet":
            put(f"{p}/gid_attrs/ndevs/{i}", ndev + "\n")
    if layer == "Ethernet":
        os.makedirs(os.path.join(ROOT, f"{p}/gid_attrs/ndevs"), exist_ok=True)
        put(f"{p}/gid_attrs/ndevs/.keep", "")


Z = "0000:0000:0000:0000:0000:0000:0000:0000"


def config(ext_caps, size=4096):
    """Config space: a bridge header, then the extended capabilities [(id, cap, ctrl)]
    chained from 0x100 (ACS holds capability and control words; others are padding)."""
    b = bytearray(size)
    b[0:4] = struct.pack("<HH", 0x15b3, 0x1021)
    off = 0x100
    for k, (cid, cap, ctrl) in enumerate(ext_caps):
        nxt = off + 0x48 if k + 1 < len(ext_caps) else 0
        b[off:off + 4] = struct.pack("<I", cid | (1 << 16) | (nxt << 20))
        b[off + 4:off + 8] = struct.pack("<HH", cap, ctrl)
        off = nxt
    return bytes(b)


def pci(chain, cfgs):
    """chain: bus ids from the root port down to the device; the device link points at
    devices/pci<dom>:<bus>/<chain...>."""
    dom_bus = chain[0][:7]
    real = "devices/pci" + dom_bus + "/" + "/".join(chain)
    os.makedirs(os.path.join(ROOT, real), exist_ok=True)
    for i, bdf in enumerate(chain):
        cfg = cfgs.get(bdf)
        if cfg is not None:
            put("devices/pci" + dom_bus + "/" + "/".join(chain[:i + 1]) + "/config", cfg)
    for i, bdf in enumerate(chain):  # every function has its link, bridges too
        link = os.path.join(ROOT, "bus/pci/devices", bdf)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink("../../../devices/pci" + dom_bus + "/" + "/".join(chain[:i + 1]), link)


shutil.rmtree(ROOT, ignore_errors=True)
# mlx5_0: InfiniBand, LID 0x12; the IB GID (subnet prefix + GUID) only.
port("mlx5_0", 1, "InfiniBand", 4, 0x12,
     [("fe80:0000:0000:0000:b859:9f03:00c1:2a0e", "IB/RoCE v1", None)], "0000:06:00.0")
# mlx5_1: RoCE with the common table: v1/v2 pairs for link-local, IPv4-mapped, IPv6; 6 unused.
port("mlx5_1", 1, "Ethernet", 4, 0,
     [("fe80:0000:0000:0000:0e42:a1ff:fe5e:1f10", "IB/RoCE v1", "ens2f0"),
      ("fe80:0000:0000:0000:0e42:a1ff:fe5e:1f10", "RoCE v2", "ens2f0"),
      ("0000:0000:0000:0000:0000:ffff:c0a8:010a", "IB/RoCE v1", "ens2f0"),
      ("0000:0000:0000:0000:0000:ffff:c0a8:010a", "RoCE v2", "ens2f0"),
      ("2001:0db8:0000:0000:0000:0000:0000:0010", "IB/RoCE v1", "ens2f0"),
      ("2001:0db8:0000:0000:0000:0000:0000:0010", "RoCE v2", "ens2f0"),
      (Z, "IB/RoCE v1", None)], "0000:86:00.0")
# mlx5_2: RoCE whose IPv4 v2 entry is bound to no netdev (a stale address): the global
# IPv6 v2 entry wins.
port("mlx5_2", 1, "Ethernet", 4, 0,
     [("fe80:0000:0000:0000:0e42:a1ff:fe5e:1f20", "IB/RoCE v1", "ens3f0"),
      ("fe80:0000:0000:0000:0e42:a1ff:fe5e:1f20", "RoCE v2", "ens3f0"),
      ("0000:0000:0000:0000:0000:ffff:0a00:0005", "RoCE v2", None),
      ("2001:0db8:0000:0000:0000:0000:0000:0005", "RoCE v2", "ens3f0")], "0000:87:00.0")
# mlx5_3: port 1 RoCE v1 only; port 2 DOWN with untyped entries.
port("mlx5_3", 1, "Ethernet", 4, 0,
     [("fe80:0000:0000:0000:0e42:a1ff:fe5e:1f30", "IB/RoCE v1", "ens4f0"),
      ("0000:0000:0000:0000:0000:ffff:0a00:0006", "IB/RoCE v1", "ens4f0")], "0000:88:00.0")
port("mlx5_3", 2, "Ethernet", 1, 0,
     [("fe80:0000:0000:0000:0e42:a1ff:fe5e:1f31", None, "ens4f1")], "0000:88:00.1")

# PCIe: GPU 0000:05:00.0 and NIC (mlx5_0) 0000:06:00.0 below one switch (upstream port
# 03:00.0, downstream ports 04:00.0 and 04:01.0) on root port 00:01.0. 04:00.0 has ACS
# redirect (SV|RR|CR|UF = 0x001d) as firmware leaves it; 04:01.0 has AER then ACS with
# control 0; the upstream port's config is the 64 bytes an unprivileged reader gets.
acs_cap = 0x005f
pci(["0000:00:01.0", "0000:03:00.0", "0000:04:00.0", "0000:05:00.0"],
    {"0000:00:01.0": config([(0x000d, acs_cap, 0x0000)]),
     "0000:03:00.0": config([], size=64),
     "0000:04:00.0": config([(0x000d, acs_cap, 0x001d)]),
     "0000:05:00.0": config([])})
pci(["0000:00:01.0", "0000:03:00.0", "0000:04:01.0", "0000:06:00.0"],
    {"0000:04:01.0": config([(0x0001, 0, 0), (0x000d, acs_cap, 0x0000)]),
     "0000:06:00.0": config([])})
# GPU 0000:85:00.0 and NIC (mlx5_1) 0000:86:00.0 below a switch whose ports have ACS off.
pci(["0000:80:01.0", "0000:83:00.0", "0000:84:00.0", "0000:85:00.0"],
    {"0000:80:01.0": config([(0x000d, acs_cap, 0)]),
     "0000:83:00.0": config([]),
     "0000:84:00.0": config([(0x000d, acs_cap, 0x0001)]),
     "0000:85:00.0": config([])})
pci(["0000:80:01.0", "0000:83:00.0", "0000:84:01.0", "0000:86:00.0"],
    {"0000:84:01.0": config([(0x000d, acs_cap, 0)]), "0000:86:00.0": config([])})

put("README.md", """# Recorded-style sysfs tree for bench/verbs

Written by `../sysfs_rdma_make.py` (run it again after editing it) for
tests/unit/test_verbs_setup.c and tests/mpi/test_verbs.sh through TOPOBENCH_SYSFS_ROOT.
No real machine's values: the files follow the kernel's formats for the cases tested.

- `mlx5_0` port 1: InfiniBand, ACTIVE, LID 0x12 (PCI 0000:06:00.0).
- `mlx5_1` port 1: RoCE, GID table with v1/v2 pairs for link-local, IPv4-mapped
  (192.168.1.10) and IPv6 (2001:db8::10) addresses and an unused slot 6: RoCE v2 IPv4 is 3.
- `mlx5_2` port 1: RoCE whose v2 IPv4 entry has no netdev (gid_attrs/ndevs/2 absent): the
  v2 global IPv6 entry 3 is chosen.
- `mlx5_3` port 1: RoCE v1 entries only; port 2 DOWN with untyped entries (no usable GID).
- PCIe: GPU 0000:05:00.0 and NIC 0000:06:00.0 below one switch; downstream port
  0000:04:00.0 has ACS redirect on (control 0x001d); 0000:04:01.0 has AER then ACS (off);
  the upstream port 0000:03:00.0's config is 64 bytes (unreadable extended space). GPU
  0000:85:00.0 and NIC 0000:86:00.0 below a switch with ACS redirect off (0x0001: source
  validation only).
- No `module/nvidia_peermem` (see ../sysfs_peermem for a tree where it is loaded, and
  ../sysfs_nvpeermem for one with the older MLNX_OFED module nv_peer_mem).
""")
put("../sysfs_peermem/module/nvidia_peermem/refcnt", "0\n")
put("../sysfs_nvpeermem/module/nv_peer_mem/refcnt", "0\n")
