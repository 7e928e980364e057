#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-subscribe.sh [kernel|userspace]: ebpfprioritysrc subscribes across
# network namespaces at a relay-side stub of the subscription channel
# (tests/tools/control-stub: the server object of ebpfrelay-control.c and
# a userspace forwarder that honours each subscriber's limit).
#   cli1  token right, priority-limit=6 -> added with limit 6 (its media
#         address: the element's own socket), gets exactly the packets of
#         priority >= 6, stays subscribed past the relay's timeout by
#         refreshing, and is removed at once (UNSUBSCRIBE) when it stops
#   cli2  token wrong                  -> refused, warned, gets nothing
#   srv   one SUBSCRIBE, never answers the challenge -> never added
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
e2e_init "subscribe-$MODE"

TIMEOUT_MS=1500
e2e_sub_init 2

e2e_bg "$P-rel" relay "$STUB" relay $CPORT $MPORT $TIMEOUT_MS sesame
relay=$E2E_LAST_PID
e2e_wait_log relay '^ready$'

e2e_sub_viewer "$P-cli1" cli1 10.200.11.1 sesame mode="$MODE"
cli1=$E2E_LAST_PID
e2e_sub_viewer "$P-cli2" cli2 10.200.12.1 wrong mode="$MODE"
cli2=$E2E_LAST_PID
ip netns exec "$P-srv" "$STUB" subscribe-once 10.200.1.2 $CPORT \
  || e2e_fail "subscribe-once"

e2e_wait_log relay '^add 10\.200\.11\.2:6000 6$'
e2e_wait_log cli2 'refused the subscription: token missing or wrong'
e2e_log "cli1 subscribed, cli2 refused"

e2e_send "$P-srv" "$E2E_WORK/stream.bin" $PKT 10.200.1.2 $MPORT
# past the relay's timeout: only refreshes keep cli1
sleep 2
e2e_alive "$cli1" cli1
e2e_alive "$relay" "control-stub"
grep -q '^remove 10\.200\.11\.2:6000$' "$E2E_WORK/relay.log" \
  && e2e_fail "cli1 expired while it was running"

ebr_stop "$cli1"
# at once, not after the timeout
e2e_wait_log relay '^remove 10\.200\.11\.2:6000$' 10
ebr_stop "$cli2"
ebr_stop "$relay"
e2e_log "relay: $(grep -E '^(sent|stats)' "$E2E_WORK/relay.log" | tr '\n' ' ')"

"$STUB" check "$E2E_WORK/cli1.bin" $COUNT 6 2>"$E2E_WORK/check.log" \
  || e2e_fail "cli1 did not get exactly the packets of priority >= 6: $(cat "$E2E_WORK/check.log")"
[ ! -s "$E2E_WORK/cli2.bin" ] || e2e_fail "cli2 (refused) received data"
grep -qE '^add 10\.200\.(1\.1|12\.2):' "$E2E_WORK/relay.log" \
  && e2e_fail "a refused or unproven subscriber was added"
expected=$((COUNT / 2))
grep -qx "sent 10.200.11.2:6000 $expected" "$E2E_WORK/relay.log" \
  || e2e_fail "the relay did not send cli1 exactly $expected packets"
stats=$(grep '^stats ' "$E2E_WORK/relay.log")
for want in accepted=1 expired=0 unsubscribed=1; do
  [[ " $stats " == *" $want "* ]] || e2e_fail "relay stats: want $want: $stats"
done
[[ $stats =~ refused_token=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] \
  || e2e_fail "relay stats: no token refusal: $stats"
[[ $stats =~ challenges=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 3 ] \
  || e2e_fail "relay stats: fewer than 3 challenges: $stats"
e2e_log "pass"
