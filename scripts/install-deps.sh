#!/usr/bin/env bash
# Installs what sluice needs to build, test and benchmark on Debian 12, and only what is missing.
# Debian packages come from apt; the integration-test clients come from npm (package-lock.json).
set -euo pipefail

readonly packages=(
  g++ cmake make pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libnghttp2-dev libssl-dev zlib1g-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libgtest-dev
  nodejs
  nginx-light wrk nghttp2-client
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# npm ships with Debian's nodejs only as a separate package; NodeSource's nodejs bundles it.
if ! command -v npm >/dev/null 2>&1; then
  echo "installing npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi

top=$(cd "$(dirname "$0")/.." && pwd)
if [[ -f "$top/tests/integration/package.json" ]]; then
  lock="$top/tests/integration/package-lock.json"
  stamp="$top/tests/integration/node_modules/.installed-lock"
  if [[ ! -f "$stamp" ]] || ! cmp -s "$lock" "$stamp"; then
    echo "installing npm packages for the integration tests"
    (cd "$top/tests/integration" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
  fi
fi
