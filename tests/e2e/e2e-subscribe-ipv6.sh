#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The subscription channel over IPv6 with the real relay, in the
# dual-stack topology (ebr_topology_v6):
#   - cli1 (ebpfprioritysrc address=:: relay=[fd00:200:11::1]:CPORT, right
#     token, limit 6) is added as fd00:200:11::2 only after answering the
#     cookie, receives exactly the packets of priority >= 6 (over IPv6,
#     the stream itself arrives over IPv4), and is removed when it stops;
#   - a SUBSCRIBE that never answers its challenge (from srv, v6) adds
#     nobody;
#   - a SUBSCRIBE with a forged IPv6 source (a raw IPv6 packet from srv
#     claiming fd00:200:13::2:6000, where cli3 records every datagram):
#     the challenge reaches cli3 (the relay processed it), cli3 never gets
#     media nor becomes a subscriber: the cookie binds the v6 address.
# Usage: e2e-subscribe-ipv6.sh [kernel|userspace]  (the relay's mode)
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-userspace}
e2e_init "subipv6-$MODE"

e2e_sub_init 3
ebr_topology_v6 "$P" 3 || e2e_fail "IPv6 topology"

e2e_ctl_start "$P-rel" relay "udpsrc port=$MPORT caps=\"$CAPS\" ! \
ebpfrelaysink name=relay mode=$MODE control-port=$CPORT token=sesame rewrite-seq=false \
subscriber-timeout=3"

e2e_sub_viewer "$P-cli1" cli1 "[fd00:200:11::1]" sesame address=::
cli1=$E2E_LAST_PID
ip netns exec "$P-srv" "$STUB" subscribe-once fd00:200:1::2 $CPORT \
  || e2e_fail "subscribe-once"
e2e_bg "$P-cli3" victim gst-launch-1.0 -e udpsrc address=:: port=6000 \
  ! multifilesink next-file=buffer location="$E2E_WORK/victim-%05d.bin"
victim=$E2E_LAST_PID
e2e_wait_udp "$P-cli3" 6000
ip netns exec "$P-srv" "$STUB" subscribe-forged fd00:200:13::2 6000 fd00:200:1::2 $CPORT \
  || e2e_fail "subscribe-forged"

for i in $(seq 100); do
  e2e_ctl stats
  grep -q 'fd00:200:11::2' <<<"$E2E_CTL_REPLY" && break
  sleep 0.1
done
grep -q 'fd00:200:11::2' <<<"$E2E_CTL_REPLY" \
  || e2e_fail "cli1 was not added through the channel over IPv6: $E2E_CTL_REPLY"
e2e_log "cli1 subscribed through the channel over IPv6"

e2e_send_bg "$P-srv" "$E2E_WORK/stream.bin" $PKT 10.200.1.2 $MPORT
e2e_wait_send "$E2E_LAST_PID"
sleep 1
e2e_ctl stats
stats=$E2E_CTL_REPLY
grep -q 'fd00:200:11::2' <<<"$stats" || e2e_fail "cli1 expired while it was running"
ebr_stop "$cli1"
sleep 1
e2e_ctl stats
after=$E2E_CTL_REPLY
ebr_stop "$victim"
e2e_ctl_stop

rc=0
"$STUB" check "$E2E_WORK/cli1.bin" $COUNT 6 gate 2>"$E2E_WORK/check.log" \
  || { echo "cli1 did not get exactly the packets of priority >= 6: $(cat "$E2E_WORK/check.log")" >&2; rc=1; }
e2e_log "cli1: $(cat "$E2E_WORK/check.log")"
challenges=0
media=0
for f in "$E2E_WORK"/victim-*.bin; do
  [ -e "$f" ] || continue
  if [ "$(od -An -tu1 -j1 -N1 "$f" | tr -d ' ')" = 204 ]; then
    challenges=$((challenges + 1))
  else
    media=$((media + 1))
  fi
done
e2e_log "forged IPv6 SUBSCRIBE: the claimed source got $challenges challenge(s), $media other datagram(s)"
[ $challenges -ge 1 ] \
  || { echo "the forged SUBSCRIBE was never answered: it did not reach the relay, the test tests nothing" >&2; rc=1; }
[ $media -eq 0 ] || { echo "the forged source received $media media datagram(s)" >&2; rc=1; }
grep -qE 'fd00:200:(1::1|13::2)' <<<"$stats" \
  && { echo "an unproven subscriber was added: $stats" >&2; rc=1; }
grep -q 'fd00:200:11::2' <<<"$after" \
  && { echo "cli1 still subscribed after it stopped: $after" >&2; rc=1; }
for f in control-challenges control-unsubscribed; do
  v=$(grep -o "$f=(guint64)[0-9]*" <<<"$after" | grep -o '[0-9]*$')
  e2e_log "$f=${v:-missing}"
  [ "${v:-0}" -ge 1 ] || { echo "relay stats: $f=${v:-missing}" >&2; rc=1; }
done
[ $rc -eq 0 ] && e2e_log "PASS: subscription over IPv6 ($MODE)"
exit $rc
