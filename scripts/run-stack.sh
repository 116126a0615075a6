#!/usr/bin/env bash
# Starts the local stack described in deploy/stack.conf in the foreground, health-gated, in order.
# Logs are prefixed by service; Ctrl-C or SIGTERM stops every process by PID in reverse order.
# Usage: scripts/run-stack.sh BIN_DIR [STACK_FILE]
# Environment:
#   STACK_PORT_OFFSET=N   shift every port of the stack file by N (the port column and every
#                         HOST:PORT or URL port in the flags), e.g. for tests next to a running stack;
#                         gateways get CITYSCAPE_LOCATION_URL / CITYSCAPE_SUN_URL of the shifted services
#   STACK_RUN_DIR=DIR     where the PID file goes (default run/ in the repo; gitignored)
#   STACK_HEALTH_LOGS=1   keep the access-log lines of successful /healthz checks (hidden by default:
#                         the proxy checks every replica once per second)
set -uo pipefail
bin_dir=${1:?usage: run-stack.sh BIN_DIR [STACK_FILE]}
root="$(cd "$(dirname "$0")/.." && pwd)"
stack_file=${2:-"$root/deploy/stack.conf"}
offset=${STACK_PORT_OFFSET:-0}
run_dir=${STACK_RUN_DIR:-"$root/run"}
pid_file="$run_dir/stack.pids"
host=127.0.0.1
names=() pids=()
declare -A port_of flags_of

stop_all() {
    trap - INT TERM
    [ ${#pids[@]} -eq 0 ] && return
    local reversed=()
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do reversed+=("${names[i]}"); done
    echo "stopping, in reverse order: ${reversed[*]}"
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null
        # Services drain in-flight requests on SIGTERM; give them 10 s before SIGKILL.
        for _ in $(seq 100); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
        kill -0 "${pids[i]}" 2>/dev/null && kill -KILL "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    rm -f "$pid_file"
    echo "stopped"
}
fail() { echo "run-stack: $*" >&2; stop_all; exit 1; }
trap 'stop_all; exit 0' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

# Shifts the port of every HOST:PORT or scheme://HOST:PORT[/path] word by the offset.
shift_ports() {
    local word out=()
    for word in $1; do
        if ((offset != 0)) && [[ "$word" =~ ^(.*:)([0-9]+)(/.*)?$ ]]; then
            word="${BASH_REMATCH[1]}$((BASH_REMATCH[2] + offset))${BASH_REMATCH[3]}"
        fi
        out+=("$word")
    done
    echo "${out[*]}"
}

# A second stack with the same PID file is refused even before its ports are probed.
if [ -f "$pid_file" ] && read -r _ supervisor < <(grep '^supervisor ' "$pid_file") && kill -0 "$supervisor" 2>/dev/null; then
    echo "run-stack: a stack is already running (supervisor PID $supervisor, $pid_file) — 'make stop' first." >&2
    exit 1
fi

lines=()
while read -r name binary port flags; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    port=$((port + offset))
    port_in_use "$port" && { echo "run-stack: port $port ($name) is already in use — is another 'make run' still running? Stop it first." >&2; exit 1; }
    lines+=("$name $binary $port $(shift_ports "$flags")")
done < "$stack_file"

# The gateways find location and sun where this stack file (and the offset) puts them; a flag in the
# stack file still wins over these environment variables.
for line in "${lines[@]}"; do
    read -r name _ port _ <<< "$line"
    [ "$name" = location ] && export CITYSCAPE_LOCATION_URL="http://$host:$port"
    [ "$name" = sun ] && export CITYSCAPE_SUN_URL="http://$host:$port"
done

mkdir -p "$run_dir"
echo "supervisor $$" > "$pid_file"

for line in "${lines[@]}"; do
    read -r name binary port flags <<< "$line"
    [ -x "$bin_dir/$binary" ] || fail "$bin_dir/$binary not found; run 'make release'"
    filter='/ info .*\] GET \/healthz 200 /d'
    [ "${STACK_HEALTH_LOGS:-0}" = 1 ] && filter=''
    # setsid: a terminal's Ctrl-C reaches only this script, which then stops the services by PID in
    # reverse order (otherwise every process would get SIGINT at once); the log filter ignores SIGINT
    # so the services' shutdown lines still get through.
    # shellcheck disable=SC2086  # flags are deliberately word-split
    setsid "$bin_dir/$binary" --host "$host" --port "$port" $flags \
        > >(trap '' INT; exec sed -u -e "$filter" -e "s/^/[$name] /") 2>&1 &
    names+=("$name") pids+=("$!")
    port_of[$name]=$port flags_of[$name]=$flags
    echo "$name $! $port" >> "$pid_file"
    # A proxy forwards /healthz to its backends; its own health is on the admin listener.
    health="http://$host:$port/healthz"
    [[ " $flags " =~ \ --admin\ ([^ ]+:[0-9]+)\  ]] && health="http://${BASH_REMATCH[1]}/healthz"
    healthy=""
    for _ in $(seq 300); do
        kill -0 "$!" 2>/dev/null || fail "$name exited during start-up (see its log above)"
        if curl -fsS --max-time 1 "$health" >/dev/null 2>&1; then healthy=1; break; fi
        sleep 0.1
    done
    [ -n "$healthy" ] || fail "$name did not answer /healthz on port $port within 30 s"
done
echo "ready" >> "$pid_file"

admin=$(sed -n 's/.*--admin \([^ ]*\).*/\1/p' <<< "${flags_of[proxy]:-}")
gw="http://$host:${port_of[gateway]:-?}" px="http://$host:${port_of[proxy]:-?}"
cat <<BANNER

  Cityscape is running (PIDs ${pids[*]}): ${names[*]}
  The two fixes for slow upstreams, side by side:
    async gateway, one process:              $gw/api/sun/97227/US
    blocking replicas behind cityscape-proxy: $px/api/sun/97227/US
  Try:
    curl -si $gw/api/sun/97227/US              # Server-Timing shows where the time went
    curl -si '$px/api/sun/97227/US?date=2026-06-21'
    curl -s http://$host:${port_of[location]:-?}/api/location/97227/US
    curl -s 'http://$host:${port_of[sun]:-?}/json?lat=45.5496&lng=-122.6743&date=2026-06-21&formatted=0'
    curl -s http://$admin/status             # proxy admin: backends, state, in-flight
    curl -s $gw/metrics | head
  Ctrl-C (or 'make stop' from another shell) stops everything.

BANNER
# Exit as soon as any service dies, so a crash is never hidden behind a live banner.
# (wait is interrupted by INT/TERM, whose trap stops everything.)
wait -n "${pids[@]}"
fail "a service exited unexpectedly"
