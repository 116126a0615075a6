#!/usr/bin/env bash
# Starts the local stack described in deploy/stack.conf in the foreground, health-gated, in order.
# Logs are prefixed by service; Ctrl-C or SIGTERM stops every process by PID in reverse order.
# Usage: scripts/run-stack.sh BIN_DIR [STACK_FILE]
set -uo pipefail
bin_dir=${1:?usage: run-stack.sh BIN_DIR [STACK_FILE]}
stack_file=${2:-"$(dirname "$0")/../deploy/stack.conf"}
host=127.0.0.1
names=() pids=()
declare -A port_of

stop_all() {
    trap - INT TERM
    [ ${#pids[@]} -eq 0 ] && return
    echo "stopping: ${names[*]}"
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null
        # Services drain in-flight requests on SIGTERM; give them 10 s before SIGKILL.
        for _ in $(seq 100); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
        kill -0 "${pids[i]}" 2>/dev/null && kill -KILL "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    echo "stopped"
}
fail() { echo "run-stack: $*" >&2; stop_all; exit 1; }
trap 'stop_all; exit 0' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

while read -r name binary port flags; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    port_in_use "$port" && fail "port $port ($name) is already in use — is another 'make run' still running? Stop it first."
    [ -x "$bin_dir/$binary" ] || fail "$bin_dir/$binary not found; run 'make release'"
    # shellcheck disable=SC2086  # flags are deliberately word-split
    "$bin_dir/$binary" --host "$host" --port "$port" $flags > >(sed -u "s/^/[$name] /") 2>&1 &
    names+=("$name") pids+=("$!")
    port_of[$name]=$port
    healthy=""
    for _ in $(seq 300); do
        kill -0 "$!" 2>/dev/null || fail "$name exited during start-up (see its log above)"
        if curl -fsS --max-time 1 "http://$host:$port/healthz" >/dev/null 2>&1; then healthy=1; break; fi
        sleep 0.1
    done
    [ -n "$healthy" ] || fail "$name did not answer /healthz on port $port within 30 s"
done < "$stack_file"

cat <<BANNER

  Cityscape is running (PIDs ${pids[*]}). Try:
    curl -si http://$host:${port_of[gateway]}/api/sun/97227/US
    curl -s http://$host:${port_of[location]}/api/location/97227/US
    curl -s 'http://$host:${port_of[sun]}/json?lat=45.5496&lng=-122.6743&date=2026-06-21&formatted=0'
    curl -s http://$host:${port_of[location]}/healthz
    curl -s http://$host:${port_of[sun]}/metrics | head
  Ctrl-C stops everything.

BANNER
# Exit as soon as any service dies, so a crash is never hidden behind a live banner.
wait -n "${pids[@]}"
fail "a service exited unexpectedly"
