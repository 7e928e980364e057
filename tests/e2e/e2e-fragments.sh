#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-fragments.sh: datagrams larger than the MTU reach the relay as IP
# fragments, which the kernel path does not forward (it sees fragments, not
# the datagram). The relay must say so, not lose them silently: a warning
# on the bus naming the port and the remedy, and kernel-fragmented in stats
# equal to the datagrams sent. Datagrams below the MTU, sent before and
# after, still reach the subscriber. (mode=userspace forwards whole
# datagrams, fragmented or not; e2e-fanout covers that path.)
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib-e2e.sh"
e2e_init fragments

P=$E2E_PREFIX
PORT=5004
ebr_topology_up "$P" 1 || e2e_fail "topology"

e2e_bg "$P-cli1" recv gst-launch-1.0 -e udpsrc port=6000 \
  ! multifilesink next-file=buffer location="$E2E_WORK/got-%05d.bin"
recv=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000
e2e_ctl_start "$P-rel" relay \
  "udpsrc port=$PORT ! ebpfrelaysink name=relay mode=kernel clients=10.200.11.2:6000"
e2e_wait_tcx "$P-rel" 1 up0

# send SIZE COUNT: COUNT datagrams of SIZE bytes from srv to the relay
send ()
{
  ip netns exec "$P-srv" gst-launch-1.0 -q fakesrc num-buffers="$2" \
    sizetype=fixed sizemax="$1" filltype=zero ! udpsink host=10.200.1.2 port=$PORT \
    >>"$E2E_WORK/send.log" 2>&1 || e2e_fail "sending $2 x $1 bytes failed"
}
send 1000 3
sleep 0.5
send 4000 5
sleep 0.5
send 1000 3
sleep 1.5        # the relay looks at the counter once a second

e2e_ctl stats
stats=$E2E_CTL_REPLY
frag=$(grep -o 'kernel-fragmented=(guint64)[0-9]*' <<<"$stats" | grep -o '[0-9]*$')
e2e_stop "$recv"
e2e_ctl_stop

got=$(find "$E2E_WORK" -maxdepth 1 -name 'got-*.bin' -size 1000c | wc -l)
big=$(find "$E2E_WORK" -maxdepth 1 -name 'got-*.bin' ! -size 1000c | wc -l)
e2e_log "kernel-fragmented=${frag:-missing}; the subscriber got $got datagrams of 1000 bytes, $big others"
[ "${frag:-0}" -eq 5 ] || e2e_fail "kernel-fragmented=${frag:-missing}, want 5"
grep -q 'warning from relay: Datagrams larger than the MTU arrive as IP fragments on port 5004' \
  "$E2E_WORK/relay.log" || e2e_fail "no warning about the fragments: $(cat "$E2E_WORK/relay.log")"
[ "$(grep -c 'Datagrams larger than the MTU' "$E2E_WORK/relay.log")" -eq 1 ] \
  || e2e_fail "the warning was posted more than once"
[ "$got" -eq 6 ] || e2e_fail "the subscriber got $got of the 6 small datagrams"
e2e_log PASS
