#!/usr/bin/env python3
"""Writes a results document of NODES nodes x PER ranks for the report's browser tests and
benchmark: rank matrices (receive/send bandwidth with their spreads, latency) in NPY side
files above 64 ranks, the node matrix, a topology per node, seeded 5% noise and one slow
node (every link of it at 0.45x), which the analysis names.

  gen_cluster.py DIR NODES PER [--slow NODE_INDEX] [--topology FILE.json]

The cell values are made up (this is a test input, not a measurement); the analysis and
the report treat them like a run's.
"""
import argparse
import array
import json
import os
import random
import sys


def npy(path, n, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (n, n)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        if sys.byteorder != "little":
            values.byteswap()
        values.tofile(f)


def matrix(m, key, n, values, d, stem):
    if n <= 64:
        m[key] = [[None if v != v else v for v in values[i * n:(i + 1) * n]] for i in range(n)]
    else:
        name = f"{stem}-{key}.npy"
        npy(os.path.join(d, name), n, values)
        m[key] = {"format": "npy", "file": name, "dtype": "float64", "shape": [n, n]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("nodes", type=int)
    ap.add_argument("per", type=int)
    ap.add_argument("--slow", type=int, default=None)
    ap.add_argument("--topology")
    a = ap.parse_args()
    rnd = random.Random(7)
    os.makedirs(a.dir, exist_ok=True)
    nodes, per = a.nodes, a.per
    n = nodes * per
    slow = a.slow if a.slow is not None else nodes // 3
    hosts = [f"node{h:04d}" for h in range(nodes)]
    topo = json.load(open(a.topology)) if a.topology else {
        "hostname": "", "source": "test", "cpu_model": "Intel Xeon", "gpus": 0, "nics": 1, "netifs": [],
        "objects": [{"index": 0, "kind": "machine", "parent": -1, "name": "Machine", "cpuset": "0-%d" % (per - 1)},
                    {"index": 1, "kind": "package", "parent": 0, "name": "Package0", "os_index": 0, "cpuset": "0-%d" % (per - 1)},
                    {"index": 2, "kind": "numa", "parent": 1, "name": "NUMA0", "os_index": 0, "cpuset": "0-%d" % (per - 1)},
                    {"index": 3, "kind": "nic", "parent": 2, "name": "mlx5_0", "model": "ConnectX-6",
                     "ports": [{"num": 1, "state": "ACTIVE", "link_layer": "InfiniBand", "rate_gbps": 200.0, "max_rate_gbps": 200.0}]}],
        "links": [], "gpu_pairs": [], "gpu_nic_paths": [], "locality": [], "findings": [], "notes": []}
    doc = {"schema": "topobench-results", "schema_version": 2, "complete": True, "status": "success", "exit_code": 0,
           "run": {"start_time": "2026-12-02T12:00:00Z", "end_time": "2026-12-02T12:10:00Z",
                   "command_line": ["run", "-t", "matrix,node_matrix"], "nranks": n, "nnodes": nodes},
           "hosts": [], "ranks": [], "tests": [], "findings": []}
    for h in range(nodes):
        t = dict(topo)
        t["hostname"] = hosts[h]
        doc["hosts"].append({"name": hosts[h], "node_index": h, "ranks": list(range(h * per, (h + 1) * per)), "topology": t})
        for l in range(per):
            doc["ranks"].append({"rank": h * per + l, "host": hosts[h], "node_index": h, "local_rank": l,
                                 "local_size": per, "cpuset": str(l), "bound": True})
    for level, m_n, m_per in (("rank", n, per), ("node", nodes, 1)):
        recv, send, rcv, scv, lat = (array.array("d", bytes(8 * m_n * m_n)) for _ in range(5))
        nan = float("nan")
        for i in range(m_n):
            hi = i // m_per
            for j in range(m_n):
                k = i * m_n + j
                if i == j:
                    recv[k] = send[k] = rcv[k] = scv[k] = lat[k] = nan
                    continue
                hj = j // m_per
                same = hi == hj
                base = (38.0 if same else 23.0 / m_per) * (1 + rnd.uniform(-0.05, 0.05))
                if hi == slow or hj == slow:
                    base *= 0.45 if not same else 1
                recv[k] = base
                send[k] = base * 1.02
                rcv[k] = scv[k] = rnd.uniform(0.005, 0.03)
                lat[k] = (0.4 if same else 1.8) * (1 + rnd.uniform(-0.05, 0.05))
        labels = [f"{hosts[i // m_per]}:{i if m_per > 1 else i * per}" for i in range(m_n)]
        ranks = [i if m_per > 1 else i * per for i in range(m_n)]
        name = "matrix" if level == "rank" else "node_matrix"
        m = {"level": level, "size": 4194304, "window": 4, "rounds": m_n - 1, "elapsed_s": 1.0,
             "repetitions": [3] * (m_n - 1), "labels": labels, "ranks": ranks}
        for key, vals in (("recv_gbps", recv), ("send_gbps", send), ("recv_cv", rcv), ("send_cv", scv), ("latency_us", lat)):
            matrix(m, key, m_n, vals, a.dir, f"{name}-{level}")
        doc["tests"].append({"name": name, "kind": "matrix", "backend": "mpi", "send_memory": "host",
                             "recv_memory": "host", "dtype": "byte", "placement": None, "level": level,
                             "status": "ok", "params": {"size": 4194304, "ranks": m_n, "window": 4},
                             "units": {"size": "bytes", "time": "us", "bandwidth": "GB/s"},
                             "results": [], "matrix": m, "errors": []})
    with open(os.path.join(a.dir, "results.json"), "w") as f:
        json.dump(doc, f)
    print(f"gen_cluster: {nodes} nodes x {per} ranks, slow node {hosts[slow]}, in {a.dir}")


if __name__ == "__main__":
    main()
