#!/usr/bin/env bash
# Shengxin set-up and run script: the README's two commands.
#   ./run.sh demo   set everything up, load the demo district and serve it on http://127.0.0.1:8000
#   ./run.sh test   set everything up and run the whole test suite (extra arguments go to pytest)
# Needs only Python 3.11+ and the package registries (PyPI, npm, and Debian's when run as root).
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\033[1;34m[shengxin]\033[0m %s\n' "$*"; }
as_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_install() {
  if as_root; then
    log "installing Debian packages: $*"
    if [ ! -f /tmp/.shengxin-apt-updated ]; then apt-get update -qq && touch /tmp/.shengxin-apt-updated; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    log "please install with your package manager: $*"; return 1
  fi
}

find_python() {
  for p in ${PYTHON:-} python3.11 python3.12 python3.13 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$p"; return
    fi
  done
  echo "Python 3.11 or newer is required" >&2; exit 1
}

setup() {
  if [ ! -x .venv/bin/python ]; then
    log "creating the virtual environment in .venv/"
    "$(find_python)" -m venv .venv
  fi
  log "installing the Python package and its dependencies"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
  if ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  log "installing front-end libraries from the npm registry (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
}

browser_deps() {
  if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
    apt_install chromium fonts-noto-cjk || log "browser tests will be skipped: no Chromium"
  fi
}

postgres_url() {
  # Use the local PostgreSQL for the tests when one answers and none was configured.
  if [ -z "${SHENGXIN_TEST_POSTGRES_URL:-}" ]; then
    local url="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    if .venv/bin/python - "$url" <<'PY' 2>/dev/null; then
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as c:
    c.execute(text("select 1"))
PY
      export SHENGXIN_TEST_POSTGRES_URL="$url"
      log "PostgreSQL tests use $url"
    else
      log "no PostgreSQL at 127.0.0.1:5432: its tests will be skipped (set SHENGXIN_TEST_POSTGRES_URL)"
    fi
  fi
}

case "${1:-}" in
  demo)
    shift
    setup
    export SHENGXIN_DEMO=true
    export SHENGXIN_DATA_DIR="${SHENGXIN_DATA_DIR:-var/demo}"
    .venv/bin/shengxin demo setup
    log "open http://${HOST:-127.0.0.1}:${PORT:-8000}/ — demo accounts are listed in README.md"
    exec .venv/bin/shengxin serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
    ;;
  test)
    shift
    setup
    browser_deps
    postgres_url
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh demo | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
