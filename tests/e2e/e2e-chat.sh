#!/usr/bin/env bash
# The chat examples as the README runs them: examples/chat.sh --demo (every
# client gets every line) and examples/chat-priority.sh --demo (a high and
# a low line; the limit-0 client gets both, the limit-7 client exactly the
# high line, and the relay counts the low line's packets as dropped for
# it). Both scripts check what their clients received and exit 1 when it
# is wrong; this test also checks that they removed their namespaces.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init chat

e2e_tool EBR_LAUNCH_STATS launch-stats

for ex in chat chat-priority; do
  e2e_log "examples/$ex.sh --demo"
  bash "$EBR_SOURCE_ROOT/examples/$ex.sh" --demo -p "$E2E_PREFIX" \
    >"$E2E_WORK/$ex.log" 2>&1
  rc=$?
  sed 's/^/    /' "$E2E_WORK/$ex.log"
  [ $rc -eq 0 ] || e2e_fail "$ex.sh --demo exited $rc"
  [ -z "$(ebr_topology_namespaces "$E2E_PREFIX")" ] \
    || e2e_fail "$ex.sh left namespaces: $(ebr_topology_namespaces "$E2E_PREFIX" | tr '\n' ' ')"
done
grep -q 'cli2 .* limit 7: 3 line(s)' "$E2E_WORK/chat-priority.log" \
  || e2e_fail "chat-priority: the limit-7 client's line count is missing"
e2e_log "PASS"
