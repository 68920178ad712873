#!/usr/bin/env bash
# Install everything gradviz needs on a fresh Debian machine (run as root), idempotently.
#
#   scripts/setup.sh [all|system|python|node]...     (default: all)
#
# system  Debian packages: graphviz (dot), chromium (browser tests), redis-server
#         (scale-out tests); node/npm only if missing. apt-get update runs only
#         when something is missing.
# python  pip install -e '.[dev]' (skipped when pyproject.toml and the install
#         location are unchanged since the last successful run).
# node    npm ci at the repo root (skipped when package.json/package-lock.json
#         are unchanged since the last successful run), then scripts/vendor.py
#         copies the browser files into gradviz/static/vendor/.
#
# Environment: PYTHON (default: python, else python3), GRADVIZ_SETUP_FORCE=1 to
# ignore the skip stamps.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -z "${PYTHON:-}" ]]; then
    if command -v python >/dev/null 2>&1; then PYTHON=python; else PYTHON=python3; fi
fi
STAMPS="$ROOT/build/.setup"      # build/ is ignored by git
FORCE="${GRADVIZ_SETUP_FORCE:-0}"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

sha_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# True when a stamp file holds exactly the given key (and no forced rerun).
stamp_ok() { [[ "$FORCE" != 1 && -f "$1" && "$(cat "$1")" == "$2" ]]; }

# --- system packages ------------------------------------------------------

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# "package:command" — a package counts as present when its command is on PATH
# or dpkg says it is installed (either is enough: chromium may come from elsewhere).
SYSTEM_PACKAGES=(graphviz:dot chromium:chromium redis-server:redis-server)

setup_system() {
    local missing=() entry pkg cmd
    for entry in "${SYSTEM_PACKAGES[@]}"; do
        pkg="${entry%%:*}"; cmd="${entry#*:}"
        if command -v "$cmd" >/dev/null 2>&1 || pkg_installed "$pkg"; then
            continue
        fi
        missing+=("$pkg")
    done
    if ! command -v npm >/dev/null 2>&1; then
        missing+=(nodejs npm)
    fi
    if ((${#missing[@]} == 0)); then
        log "system packages present (graphviz, chromium, redis-server, npm)"
        return
    fi
    command -v apt-get >/dev/null 2>&1 \
        || die "missing ${missing[*]} and no apt-get here; install them with your package manager"
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# --- python ---------------------------------------------------------------

setup_python() {
    local key stamp="$STAMPS/python"
    key="$(sha_of pyproject.toml) $("$PYTHON" -c 'import sys; print(sys.executable)') $ROOT"
    # The stamp alone is not enough: site-packages may have changed since, or the
    # editable install may now point at another checkout (a CI clone, say).
    if stamp_ok "$stamp" "$key" && "$PYTHON" -I - "$ROOT" <<'PY' 2>/dev/null
import importlib.metadata as md, json, os, sys
for name in ("pytest", "torch", "playwright", "hypothesis"):
    md.version(name)
url = json.loads(md.distribution("gradviz").read_text("direct_url.json"))["url"]
assert os.path.realpath(url.removeprefix("file://")) == os.path.realpath(sys.argv[1]), url
PY
    then
        log "python packages up to date (gradviz editable + dev extras)"
        return
    fi
    log "pip install -e '.[dev]'"
    "$PYTHON" -m pip install --disable-pip-version-check --root-user-action=ignore -q -e '.[dev]'
    # pyenv only sees new console scripts (gradviz) after a rehash.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
    mkdir -p "$STAMPS"
    printf '%s' "$key" >"$stamp"
}

# --- node + vendored browser files -----------------------------------------

setup_node() {
    local key stamp="node_modules/.gradviz-setup"    # lives and dies with node_modules
    if [[ -f package-lock.json ]]; then
        key="$(sha_of package.json package-lock.json)"
        if stamp_ok "$stamp" "$key"; then
            log "node_modules up to date with package-lock.json"
        else
            log "npm ci"
            npm ci --no-audit --no-fund --loglevel=error
            printf '%s' "$key" >"$stamp"
        fi
    else
        log "no package-lock.json: npm install"
        npm install --no-audit --no-fund --loglevel=error
        printf '%s' "$(sha_of package.json package-lock.json)" >"$stamp"
    fi
    "$PYTHON" scripts/vendor.py
}

# --------------------------------------------------------------------------

steps=("$@")
((${#steps[@]})) || steps=(all)
for step in "${steps[@]}"; do
    case "$step" in
        all) setup_system; setup_python; setup_node ;;
        system) setup_system ;;
        python) setup_python ;;
        node) setup_node ;;
        *) die "unknown step '$step' (use all, system, python or node)" ;;
    esac
done
