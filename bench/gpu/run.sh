#!/usr/bin/env bash
# Score Lab GPU bench: runs bench-gpu.mjs from this folder on the Node 18 shipped in runtime/, with
# no network and no install. From anywhere:
#   bash bundle/run.sh [--out DIR] [--quick] [--budget-s SECONDS] [--engines pytorch,webgpu,native,webgpu-stock]
#                      [--cases train:64,train:256,em:64,em:1] [--python PYTHON]
# Writes DIR/gpu-bench.json and DIR/gpu-bench.md (DIR: ./gpu-bench-results from where it is called).
# Only bash builtins here, so it also runs with a bare PATH.
set -u
src="${BASH_SOURCE[0]}"
case "$src" in */*) here="${src%/*}" ;; *) here=. ;; esac
here="$(cd "$here" && pwd)" || exit 1

# --out is relative to the caller's folder; Node starts in the bundle folder (below)
export SCORE_LAB_CALLER_CWD="$PWD"
# python3 and nvidia-smi get the caller's library path back, not the bundle's runtime libraries
export SCORE_LAB_ORIG_LD_LIBRARY_PATH="${LD_LIBRARY_PATH-}"

# The NVIDIA container toolkit may mount the driver's Vulkan ICD outside the loader's search path.
if [ -z "${VK_ICD_FILENAMES-}" ] && [ -z "${VK_DRIVER_FILES-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then
      export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
      echo "run.sh: Vulkan driver $icd" >&2
      break
    fi
  done
fi
# The Vulkan loader Dawn opens (libvulkan.so.1) is the bundle's: the target may have none.
base="$here/vulkan"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  if [ -d "$d" ]; then base="$base:$d"; fi
done
base="$base${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Debian's Node reads five builtins from ./runtime/nodejs at start (MANIFEST.json: the patch).
cd "$here" || exit 1
node="$here/runtime/node"
rt="$here/runtime/lib"
if why="$(LD_LIBRARY_PATH="$rt:$base" "$node" -e 0 2>&1)"; then
  export LD_LIBRARY_PATH="$rt:$base"
elif LD_LIBRARY_PATH="$rt:$here/runtime/libstdcxx:$base" "$node" -e 0 >/dev/null 2>&1; then
  # an older libstdc++ than Debian 12's (GLIBCXX_3.4.30): use the bundled one
  export LD_LIBRARY_PATH="$rt:$here/runtime/libstdcxx:$base"
  echo "run.sh: the system's libstdc++ is older than the bundled Node needs; using runtime/libstdcxx" >&2
else
  why="${why%%$'\n'*}"
  if command -v node >/dev/null 2>&1 && [ "$(node -p 'Number(process.versions.node.split(".")[0]) >= 18' 2>/dev/null)" = true ]; then
    node="$(command -v node)"
    export LD_LIBRARY_PATH="$base"
    echo "run.sh: the bundled Node 18 cannot start here ($why); using $node $("$node" --version) from PATH instead" >&2
  else
    echo "run.sh: the bundled Node 18 cannot start here ($why), and there is no Node >= 18 on PATH" >&2
    exit 1
  fi
fi
exec "$node" "$here/bench-gpu.mjs" "$@"
