#!/usr/bin/env bash
# `make run`: the scheduler on the demo home until Ctrl-C. The sandbox platform keeps its
# sessions in memory, so it is started again here and the example profiles signed in again.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/sandbox.sh
source scripts/sandbox.sh
[ -d "$INBOX_AGENT_HOME/workspaces" ] || "$BIN/inbox-agent" init "$INBOX_AGENT_HOME" >/dev/null
start_sandbox
for ws in sandbox-acme-web sandbox-globex-web sandbox-initech-web sandbox-acme-android; do
  "$BIN/inbox-agent" login "$ws"
done
echo "scheduler running; in another terminal: INBOX_AGENT_HOME=$INBOX_AGENT_HOME $BIN/inbox-agent status"
"$BIN/inbox-agent" run
