#!/usr/bin/env bash
# GPU probe: what a GPU machine offers the engine, in minutes. Lists the Vulkan loader and drivers, the providers
# onnxruntime-node supports, creates a webgpu session on a one-conv model, then runs the op goldens on webgpu
# (and on cuda when its provider is installed). Not part of the test suite: no test needs a GPU.
# Usage: bash scripts/gpu-probe.sh [--install]   (--install adds Debian's Vulkan loader and tools first)
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--install" ]]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends libvulkan1 vulkan-tools mesa-vulkan-drivers >/dev/null
fi

echo "== GPU"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "nvidia-smi: not found"

echo "== Vulkan loader"
ldconfig -p | grep -E 'libvulkan\.so' || echo "libvulkan.so: not found (apt-get install libvulkan1)"

echo "== Vulkan ICDs (drivers)"
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  [[ -d "$d" ]] && ls -1 "$d" | sed "s#^#$d/#"
done
command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>/dev/null | sed -n '/Devices:/,$p' | head -30 || echo "vulkaninfo: not installed"

echo "== onnxruntime-node providers"
node -e "const o=require('onnxruntime-node'); console.log(o.env.versions.common, JSON.stringify(o.listSupportedBackends()))"

echo "== webgpu session on a one-conv model"
node --import tsx scripts/gpu-probe-conv.ts webgpu
status_webgpu=$?

if [[ $status_webgpu -eq 0 ]]; then
  echo "== op goldens and lowering cross-checks on webgpu"
  SVD_TEST_PROVIDER=webgpu SVD_HAS_GPU=1 node scripts/run-tests.mjs golden-ops ops-crosscheck 2>&1 | tail -15
fi

if node --import tsx scripts/gpu-probe-conv.ts cuda; then
  echo "== op goldens on cuda"
  SVD_TEST_PROVIDER=cuda SVD_HAS_GPU=1 node scripts/run-tests.mjs golden-ops ops-crosscheck 2>&1 | tail -15
fi
