#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages, a virtualenv with the project and its test
# extras) and runs the linters and the whole suite. The README's Quick start and .ci/run both call this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real components the tests talk to: gcc (fake libnvidia-ml.so), promtool (Prometheus exposition),
# chromium (the dashboard's browser tests; Playwright drives this package, it never downloads a browser).
apt_packages=(gcc prometheus chromium)
# The dashboard build (web/, run by the package's build hook) needs Node.js 20+ and npm.
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
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
(cd web && npm ci --no-audit --no-fund && npx tsc --noEmit && npm test)

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/pytest "$@"
