#!/usr/bin/env bash
# The subscription channel end to end with the real relay: ebpfrelaysink
# control-port=... in the relay namespace, ebpfprioritysrc relay=... in the
# client namespaces.
#   - cli1 (right token, limit 6) is added only after answering the cookie,
#     receives exactly the packets of priority >= 6, and is removed when it
#     stops (UNSUBSCRIBE);
#   - cli2 (wrong token) is refused and receives nothing;
#   - a SUBSCRIBE that never answers its challenge (from srv) adds nobody;
#   - a SUBSCRIBE with a forged source (sent from srv over a raw socket,
#     claiming to be 10.200.13.2:6000, where cli3 records every datagram):
#     the challenge reaches cli3 (so the relay did process it), and cli3
#     never receives a media packet, nor is it ever a subscriber.
# rewrite-seq=false: the check compares the sender's own sequence numbers
# (contiguous rewriting is tested by e2e-priority).
# Usage: e2e-subscribe-relay.sh [kernel|userspace]  (the relay's mode)
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
e2e_init "subrelay-$MODE"

e2e_sub_init 3

e2e_ctl_start "$P-rel" relay "udpsrc port=$MPORT caps=\"$CAPS\" ! \
ebpfrelaysink name=relay mode=$MODE control-port=$CPORT token=sesame rewrite-seq=false \
subscriber-timeout=3"

e2e_sub_viewer "$P-cli1" cli1 10.200.11.1 sesame
cli1=$E2E_LAST_PID
e2e_sub_viewer "$P-cli2" cli2 10.200.12.1 wrong
cli2=$E2E_LAST_PID
ip netns exec "$P-srv" "$STUB" subscribe-once 10.200.1.2 $CPORT \
  || e2e_fail "subscribe-once"
# cli3, the victim of a forged SUBSCRIBE: one file per datagram it gets.
e2e_bg "$P-cli3" victim gst-launch-1.0 -e udpsrc port=6000 \
  ! multifilesink next-file=buffer location="$E2E_WORK/victim-%05d.bin"
victim=$E2E_LAST_PID
e2e_wait_udp "$P-cli3" 6000
# Reverse-path filtering off in the relay namespace (the default of a new
# namespace, made explicit): the forged packet must reach the relay's
# control socket for this to test the cookie, not rp_filter.
ip netns exec "$P-rel" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.up0.rp_filter=0
ip netns exec "$P-srv" "$STUB" subscribe-forged 10.200.13.2 6000 10.200.1.2 $CPORT \
  || e2e_fail "subscribe-forged"

for i in $(seq 100); do
  e2e_ctl stats
  grep -q '10\.200\.11\.2' <<<"$E2E_CTL_REPLY" && break
  sleep 0.1
done
grep -q '10\.200\.11\.2' <<<"$E2E_CTL_REPLY" \
  || e2e_fail "cli1 was not added through the channel: $E2E_CTL_REPLY"
e2e_log "cli1 subscribed through the channel"

e2e_send_bg "$P-srv" "$E2E_WORK/stream.bin" $PKT 10.200.1.2 $MPORT
e2e_wait_send "$E2E_LAST_PID"
sleep 1
# longer than subscriber-timeout: refreshes keep cli1
e2e_ctl stats
stats=$E2E_CTL_REPLY
grep -q '10\.200\.11\.2' <<<"$stats" \
  || e2e_fail "cli1 expired while it was running"
ebr_stop "$cli1"
sleep 1
e2e_ctl stats
after=$E2E_CTL_REPLY
ebr_stop "$cli2"
ebr_stop "$victim"
e2e_ctl_stop

rc=0
# both paths start cli1 at the stream's first key frame start
# (bpf/switch.h)
"$STUB" check "$E2E_WORK/cli1.bin" $COUNT 6 gate 2>"$E2E_WORK/check.log" \
  || { echo "cli1 did not get exactly the packets of priority >= 6: $(cat "$E2E_WORK/check.log")" >&2; rc=1; }
[ ! -s "$E2E_WORK/cli2.bin" ] || { echo "cli2 (refused) received data" >&2; rc=1; }
# What the victim of the forged SUBSCRIBE got: RTCP (the challenge,
# packet type 204 = APP) and nothing else.
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
e2e_log "forged SUBSCRIBE: the claimed source got $challenges challenge(s), $media other datagram(s)"
[ $challenges -ge 1 ] \
  || { echo "the forged SUBSCRIBE was never answered: it did not reach the relay, the test tests nothing" >&2; rc=1; }
[ $media -eq 0 ] || { echo "the forged source received $media media datagram(s)" >&2; rc=1; }
grep -qE '10\.200\.(1\.1|12\.2|13\.2)[^0-9]' <<<"$stats" \
  && { echo "a refused or unproven subscriber was added: $stats" >&2; rc=1; }
grep -q '10\.200\.11\.2' <<<"$after" \
  && { echo "cli1 still subscribed after it stopped: $after" >&2; rc=1; }
for f in control-refused-token control-challenges control-unsubscribed; do
  v=$(grep -o "$f=(guint64)[0-9]*" <<<"$after" | grep -o '[0-9]*$')
  e2e_log "$f=${v:-missing}"
  [ "${v:-0}" -ge 1 ] || { echo "relay stats: $f=${v:-missing}" >&2; rc=1; }
done
[ "$MODE" = kernel ] && ! tr -d '\\' <<<"$stats" | grep -qE 'kernel-packets=\(guint64\)[1-9]' \
  && { echo "kernel mode, but the kernel sent nothing: $stats" >&2; rc=1; }
[ $rc -eq 0 ] && e2e_log "PASS: subscription through the real relay ($MODE)"
exit $rc
