#!/usr/bin/env bash
# make deploy-test: the compose stack and the systemd units really run, under rootful podman.
# Installs what it needs first: podman, buildah, runc, netavark, aardvark-dns and debootstrap (Debian
# packages, as root) and podman-compose pinned in tools/deploy/podman-requirements.txt into .venv-podman.
# Usage: scripts/deploy-test.sh BIN_DIR   (the built binaries: .build/debug in make test, or .build/release)
# DEPLOY_TEST=skip skips it on a machine without podman (CI does not set it). Every step that cannot run
# here fails with its name; tools/deploy/deploy_test.py holds the steps.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${DEPLOY_TEST:-}" = skip ]; then
    echo "deploy-test: SKIPPED (DEPLOY_TEST=skip)"
    exit 0
fi
bin_dir=${1:?usage: scripts/deploy-test.sh BIN_DIR}
VENV=${PODMAN_VENV:-.venv-podman}
fail() { printf 'deploy-test: FAILED at step %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "'tools': rootful podman is needed; run as root (or DEPLOY_TEST=skip where there is no podman)"
scripts/install-deps.sh podman buildah runc netavark aardvark-dns debootstrap || fail "'tools': apt-get install"
requirements=tools/deploy/podman-requirements.txt
if ! cmp -s "$requirements" "$VENV/requirements.installed" 2>/dev/null; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" || fail "'tools': pip install podman-compose"
    cp "$requirements" "$VENV/requirements.installed"
fi
# runc, ulimits within the sandbox's hard limits, netavark: see the file.
export CONTAINERS_CONF=$PWD/deploy/podman/containers.conf
exec python3 -m tools.deploy.deploy_test --bin-dir "$bin_dir" --venv "$VENV"
