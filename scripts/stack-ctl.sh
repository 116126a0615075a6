#!/usr/bin/env bash
# Background variant of scripts/run-stack.sh: start it detached, show its state, stop it.
# Usage: scripts/stack-ctl.sh start BIN_DIR | status | stop
# The supervisor (run-stack.sh) writes run/stack.pids ("supervisor PID", then "NAME PID PORT" per
# service, then "ready"); stop sends SIGTERM to the supervisor, which stops every service by PID in
# reverse order. STACK_RUN_DIR and STACK_PORT_OFFSET are honoured as in run-stack.sh.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run_dir=${STACK_RUN_DIR:-"$root/run"}
pid_file="$run_dir/stack.pids"
supervisor() { [ -f "$pid_file" ] && awk '$1 == "supervisor" {print $2}' "$pid_file"; }

case "${1:-}" in
start)
    bin_dir=${2:?usage: stack-ctl.sh start BIN_DIR}
    pid=$(supervisor)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "stack: already running (supervisor PID $pid) — 'make stop' first." >&2; exit 1
    fi
    mkdir -p "$run_dir"
    # The log of a start that fails (e.g. a port in use) must not clobber a running stack's log.
    log="$run_dir/stack.log.$$"
    nohup "$root/scripts/run-stack.sh" "$bin_dir" > "$log" 2>&1 < /dev/null &
    pid=$!
    for _ in $(seq 600); do
        grep -qx ready "$pid_file" 2>/dev/null && [ "$(supervisor)" = "$pid" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; rm -f "$log"; exit 1; }
        sleep 0.1
    done
    mv "$log" "$run_dir/stack.log"
    sed -n '/Cityscape is running/,/stops everything/p' "$run_dir/stack.log"
    echo "  logs: $run_dir/stack.log"
    ;;
status)
    pid=$(supervisor)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "stack: not running"; exit 3; fi
    echo "stack: running (supervisor PID $pid)"
    while read -r name service_pid port; do
        [[ "$name" == supervisor || "$name" == ready ]] && continue
        state=dead
        kill -0 "$service_pid" 2>/dev/null && state=alive
        printf '  %-12s PID %-7s port %-6s %s\n' "$name" "$service_pid" "$port" "$state"
    done < "$pid_file"
    ;;
stop)
    pid=$(supervisor)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "stack: not running"; rm -f "$pid_file"; exit 0; fi
    kill -TERM "$pid"
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "stack: supervisor $pid still running after 20 s" >&2; exit 1; fi
    echo "stack: stopped"
    ;;
*) echo "usage: stack-ctl.sh start BIN_DIR | status | stop" >&2; exit 2 ;;
esac
