#!/usr/bin/env bash
# `make run`: the scheduler on the demo home until Ctrl-C. The sandbox platform keeps its
# sessions in memory, so it is started again here and the example profiles signed in again.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export INBOX_AGENT_HOME="${INBOX_AGENT_HOME:-$PWD/.inbox-agent}"
PORT="${INBOX_AGENT_SANDBOX_PORT:-8765}"
export INBOX_AGENT_SANDBOX_URL="http://127.0.0.1:$PORT"
export SANDBOX_PASSWORD="${SANDBOX_PASSWORD:-sandbox}"   # the sandbox's documented practice password
export OMP_THREAD_LIMIT=1
[ -d "$INBOX_AGENT_HOME/workspaces" ] || "$BIN/inbox-agent" init "$INBOX_AGENT_HOME" >/dev/null
LOG="$INBOX_AGENT_HOME/sandbox.log"
"$BIN/inbox-agent" sandbox serve --port "$PORT" --seed 1 >"$LOG" 2>&1 &
SANDBOX_PID=$!
trap 'kill $SANDBOX_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if "$BIN/python" -c "import httpx; httpx.get('$INBOX_AGENT_SANDBOX_URL/admin/health', timeout=0.5)" 2>/dev/null; then
    break
  fi
  kill -0 $SANDBOX_PID 2>/dev/null || { cat "$LOG"; echo "the sandbox did not start"; exit 1; }
  sleep 0.2
done
for ws in sandbox-acme-web sandbox-globex-web sandbox-initech-web sandbox-acme-android; do
  "$BIN/inbox-agent" login "$ws"
done
echo "scheduler running; in another terminal: INBOX_AGENT_HOME=$INBOX_AGENT_HOME $BIN/inbox-agent status"
"$BIN/inbox-agent" run
