# Sourced by demo.sh and run.sh: the demo's environment, and the sandbox platform started
# in the background (stopped when the calling script exits).
BIN=.venv/bin
export INBOX_AGENT_HOME="${INBOX_AGENT_HOME:-$PWD/.inbox-agent}"
PORT="${INBOX_AGENT_SANDBOX_PORT:-8765}"
export INBOX_AGENT_SANDBOX_URL="http://127.0.0.1:$PORT"
export SANDBOX_PASSWORD="${SANDBOX_PASSWORD:-sandbox}"   # the sandbox's documented practice password
export OMP_THREAD_LIMIT=1

start_sandbox() {
  LOG="$INBOX_AGENT_HOME/sandbox.log"
  mkdir -p "$INBOX_AGENT_HOME"
  echo "== starting the sandbox platform at $INBOX_AGENT_SANDBOX_URL"
  "$BIN/inbox-agent" sandbox serve --port "$PORT" --seed 1 >"$LOG" 2>&1 &
  SANDBOX_PID=$!
  trap 'kill $SANDBOX_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if "$BIN/python" -c "import httpx; httpx.get('$INBOX_AGENT_SANDBOX_URL/admin/health', timeout=0.5)" 2>/dev/null; then
      return 0
    fi
    kill -0 $SANDBOX_PID 2>/dev/null || { cat "$LOG"; echo "the sandbox did not start"; exit 1; }
    sleep 0.2
  done
}
