#!/usr/bin/env bash
# Installs what Lotline needs on a fresh Debian/Ubuntu machine, idempotently: ClickHouse from
# Debian's packages, a virtualenv (.venv) with Lotline and its test extras, and the web pages built
# from their npm packages (web/, into query/web/static). With --with-browser, also Debian's
# Chromium, which the browser tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {  # packages from Debian's archive, with sudo when not root
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing $* from Debian's packages" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v clickhouse-server >/dev/null 2>&1 || apt_install clickhouse-server
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.lotline-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing Lotline and its dependencies into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi

# The pages' scripts: npm packages at the versions package-lock.json pins, bundled by esbuild;
# rebuilt when a source is newer than the last build.
built=query/web/static/build.json
if [ ! -f "$built" ] || [ -n "$(find web/src web/build.mjs web/package.json web/package-lock.json -newer "$built" -print -quit)" ]; then
  echo "bootstrap: building the web pages (npm ci, npm run build in web/)" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
fi
