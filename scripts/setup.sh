#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine needs: system packages (as root, via apt-get; OpenBLAS and oneDNN
# for the native backend), npm packages (npm ci also builds the BLAS addon, falling back to wasm if it cannot),
# and the tslab Jupyter kernel registered inside the repo (.jupyter/), independent of PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel fonts-dejavu-core libopenblas-dev
  libdnnl-dev python3-numpy python3-scipy chromium) # numpy/scipy: the metric tests' oracle; chromium: the gallery test
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund

# Jupyter is Debian's, so it runs under /usr/bin/python3 (the python3 on PATH may be another install).
node_modules/.bin/tslab install --python=/usr/bin/python3 --prefix="$PWD/.jupyter" --binary="$PWD/node_modules/.bin/tslab" >/dev/null
echo "setup: done ($(node bin/sfd.js info | sed -n 1p))"
