#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine needs: system packages (as root, via apt-get; OpenBLAS and oneDNN
# for the native backend), npm packages (npm ci also builds the BLAS addon, falling back to wasm if it cannot),
# and the tslab Jupyter kernel registered inside the repo (.jupyter/), independent of PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(jupyter-notebook jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel fonts-dejavu-core
  libopenblas-dev libdnnl-dev python3-numpy python3-scipy chromium) # jupyter-notebook: `npm run notebook` (the
# front-end Debian packages); numpy/scipy: the metric tests' oracle; chromium: the gallery test
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

# Lavapipe (Mesa's software Vulkan driver) for the WebGPU tests: Dawn needs Mesa >= 23, which Debian 12
# has only in bookworm-backports (its own 22.3 is refused); newer Debian releases have it in their main suite.
lavapipe_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null) || return 1
  dpkg --compare-versions "$v" ge 23 && dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'
}
if ! lavapipe_ok; then
  if [ "$(id -u)" = 0 ]; then
    . /etc/os-release
    suite=()
    if [ "${VERSION_CODENAME:-}" = bookworm ]; then
      if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        # the machine's own Debian mirror (first URIs:/deb line that is not the security archive)
        mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list |
          grep -v security | grep -m1 -oE 'https?://[^ ]+' || true)
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
          "${mirror:-http://deb.debian.org/debian}" >/etc/apt/sources.list.d/bookworm-backports.sources
      fi
      suite=(-t bookworm-backports)
    fi
    echo "setup: installing lavapipe (mesa-vulkan-drivers ${suite[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${suite[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    echo "setup: no Mesa >= 23 lavapipe: the WebGPU tests will be skipped (install mesa-vulkan-drivers from bookworm-backports as root)" >&2
  fi
fi

npm ci --no-audit --no-fund

# Jupyter is Debian's, so it runs under /usr/bin/python3 (the python3 on PATH may be another install).
node_modules/.bin/tslab install --python=/usr/bin/python3 --prefix="$PWD/.jupyter" --binary="$PWD/node_modules/.bin/tslab" >/dev/null
node scripts/kernel-spec.js # the kernel spec names tslab relative to itself: the clone can move
node scripts/plotly-nbextension.js # live Plotly charts in the classic Notebook, plotly.js served locally
echo "setup: done ($(node bin/sfd.js info | sed -n 1p))"
