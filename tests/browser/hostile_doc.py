#!/usr/bin/env python3
"""Writes a copy of a results document whose every free-text field (host names, labels,
the command line, versions, environment, findings, topology names, skip reasons) carries
markup and quotes, so a report that pastes document text as HTML would run it.

  hostile_doc.py IN.json OUT.json
"""
import json
import sys

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&amp;"


def host(h):
    return EVIL + h


def main():
    doc = json.load(open(sys.argv[1]))
    names = {h["name"]: host(h["name"]) for h in doc["hosts"]}
    for h in doc["hosts"]:
        h["name"] = names[h["name"]]
        t = h.get("topology")
        if isinstance(t, dict):
            t["hostname"] = h["name"]
            t["cpu_model"] = EVIL + "cpu"
            for o in t.get("objects", []):
                if o.get("kind") == "nic":
                    o["model"] = EVIL + "model"
            t.setdefault("findings", []).append(
                {"severity": "warning", "code": EVIL, "object": EVIL, "message": EVIL + " finding"})
    for r in doc["ranks"]:
        r["host"] = names.get(r["host"], r["host"])
    for t in doc["tests"]:
        p = t.get("params", {})
        if isinstance(p.get("hosts"), list):
            p["hosts"] = [names.get(x, x) for x in p["hosts"]]
        m = t.get("matrix")
        if isinstance(m, dict) and isinstance(m.get("labels"), list):
            m["labels"] = [names.get(lab.rsplit(":", 1)[0], lab.rsplit(":", 1)[0]) + ":" + lab.rsplit(":", 1)[1]
                           for lab in m["labels"]]
        if t.get("status") == "skipped":
            t["skip_reason"] = EVIL + " reason"
    run = doc["run"]
    run["command_line"] = ["run", "--tests", EVIL]
    for k in ("mpi_library", "hwloc_version", "topobench_version", "git_hash"):
        run[k] = EVIL + k
    run["environment"] = {"NCCL_DEBUG": EVIL, EVIL: "value"}
    doc["findings"].append({"severity": "error", "code": EVIL, "host": EVIL, "message": EVIL + " message"})
    json.dump(doc, open(sys.argv[2], "w"), indent=1)


if __name__ == "__main__":
    main()
