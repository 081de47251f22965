#!/usr/bin/env bash
# `topobench topo` from the command line: live discovery on this machine, --from every
# format, --json, and bad input with the documented exit statuses.
. "$(dirname "$0")/common.sh"
FX=${TB_FIXTURES_DIR:-$(dirname "$0")/../../../shared/fixtures}

expect_status 0 "topo on this machine" "$TB" topo
expect_output "^Topology of " "topo prints a header"
expect_output "nvml: .*(not found|skipped)|nvml: [0-9]+ GPU" "topo says what NVML gave or why not"
expect_status 0 "topo --json" "$TB" topo --json
py_check "topo --json is the model" "$WORK/out" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["source"] == "live" and isinstance(m["objects"], list) and m["notes"], m.keys()
PY
expect_status 0 "topo --from NCCL XML" "$TB" topo --from "$FX/nccl_topo_xml/oci-hpc-oke_BM.GPU.H100.8.xml"
expect_output "GPU0 +X +NV18" "the NCCL dump gives the NV18 matrix"
expect_output "pcie_degraded" "the OCI H100 dump's slow switch uplinks are found"
expect_status 0 "topo --from hwloc XML" "$TB" topo --from "$FX/hwloc_xml/hwloc-v2x_nvidiaDGX2.xml"
expect_output "16 GPU" "the DGX-2 export has 16 GPUs"
expect_status 0 "topo --from nvidia-smi text" "$TB" topo --from "$FX/nvidia_smi_topo/stas00-ml-engineering_8xH100-SXM_NV18.txt"
expect_output "NV18" "the nvidia-smi matrix is read"
expect_status 0 "--format overrides sniffing" "$TB" topo --format nccl --from "$FX/nccl_topo_xml/aws-ofi-nccl_p4d-24xl-topo.xml"
expect_status 3 "malformed NCCL XML" "$TB" topo --from "$FX/nccl_topo_xml/ljqqqqq-azhpc-images_ndv6-topo_GB200-malformed.xml"
expect_output "GB200-malformed.xml:[0-9]+" "the malformed file is named with its line"
expect_status 3 "hwloc 3.0 export" "$TB" topo --from "$FX/hwloc_xml/hwloc-master-v3_nvidiaDGX2.xml"
expect_output "newer hwloc" "the newer hwloc format is explained"
expect_status 2 "missing file" "$TB" topo --from "$WORK/nope.xml"
expect_output "nope.xml" "the missing file is named"
expect_status 2 "unknown option" "$TB" topo --frobnicate
expect_status 2 "bad format" "$TB" topo --format yaml --from "$FX/nccl_topo_xml/aws-ofi-nccl_p4d-24xl-topo.xml"
start=$(date +%s%N)
"$TB" topo >/dev/null 2>&1
ms=$((($(date +%s%N) - start) / 1000000))
echo "info: topobench topo took $ms ms here (target: under 1 s)"
finish
