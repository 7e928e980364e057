#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-fragments.sh [consume]: datagrams larger than the MTU reach the
# relay as IP fragments. In kernel mode the relay forwards the fragments
# themselves: the first (with the UDP header) rewritten like any packet,
# the others to the same subscribers with their addresses; the subscriber's
# stack reassembles them. A subscriber served from userspace (here one on
# an address of the relay itself) gets the datagram from userspace: the
# first fragment's event names it, the fragments go up (also with
# pass-original=false, "consume"), and when the socket has the datagram
# whole, userspace sends it. Sent: 3 datagrams of 1000 bytes, 5 of 4000
# (MTU 1500: three fragments each), 3 of 1000.
#   - cli1 (kernel) and the local subscriber (userspace) receive all 11,
#     whole and in order;
#   - kernel-fragmented = 5, kernel-fragments-to-userspace = 5,
#     fragments-unsent = 0, and no warning.
set -uo pipefail

EXTRA=
[ "${1:-}" = consume ] && EXTRA=" pass-original=false"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "fragments${1:+-$1}"

P=$E2E_PREFIX
PORT=5004
ebr_topology_up "$P" 1 || e2e_fail "topology"

# record NS NAME PORT: one file per datagram received on PORT
record ()
{
  e2e_bg "$1" "$2" gst-launch-1.0 -e udpsrc port="$3" \
    ! multifilesink next-file=buffer location="$E2E_WORK/$2-%05d.bin"
}
record "$P-cli1" cli1 6000
cli1=$E2E_LAST_PID
record "$P-rel" local 7000
loc=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000
e2e_wait_udp "$P-rel" 7000
e2e_ctl_start "$P-rel" relay "udpsrc port=$PORT ! ebpfrelaysink name=relay \
mode=kernel$EXTRA clients=10.200.11.2:6000,10.200.1.2:7000"
e2e_wait_tcx "$P-rel" 1 up0

# send SIZE COUNT BYTE: COUNT datagrams of SIZE bytes filled with BYTE
send ()
{
  head -c "$1" /dev/zero | tr '\0' "\\$3" >"$E2E_WORK/d$1-$3.bin"
  local i
  for i in $(seq "$2"); do
    ip netns exec "$P-srv" gst-launch-1.0 -q filesrc location="$E2E_WORK/d$1-$3.bin" \
      blocksize="$1" ! udpsink host=10.200.1.2 port=$PORT \
      >>"$E2E_WORK/send.log" 2>&1 || e2e_fail "sending $1 bytes failed"
    sleep 0.05
  done
}
send 1000 3 101
send 4000 5 102
send 1000 3 103
sleep 1.5        # the relay looks at the counters once a second

e2e_ctl stats
stats=$E2E_CTL_REPLY
num () { grep -o "$1=(guint64)[0-9]*" <<<"$stats" | grep -o '[0-9]*$'; }
frag=$(num kernel-fragmented)
touser=$(num kernel-fragments-to-userspace)
unsent=$(num fragments-unsent)
ebr_stop "$cli1"
ebr_stop "$loc"
e2e_ctl_stop

# sizes NAME: the sizes of the datagrams NAME received, in order, and
# whether each is one byte repeated
sizes ()
{
  local f
  for f in "$E2E_WORK/$1"-*.bin; do
    [ -e "$f" ] || continue
    printf '%s:%s ' "$(stat -c %s "$f")" "$(od -An -v -tx1 "$f" | tr -s ' \n' '\n\n' | grep . | sort -u | tr '\n' ,)"
  done
}
got1=$(sizes cli1)
gotl=$(sizes local)
e2e_log "cli1 (kernel): $got1"
e2e_log "local (userspace): $gotl"
e2e_log "kernel-fragmented=${frag:-?} kernel-fragments-to-userspace=${touser:-?} fragments-unsent=${unsent:-?}"
want1="1000:41, 1000:41, 1000:41, 4000:42, 4000:42, 4000:42, 4000:42, 4000:42, 1000:43, 1000:43, 1000:43, "
wantl=$want1
[ "$got1" = "$want1" ] || e2e_fail "cli1 got: $got1; want: $want1"
[ "$gotl" = "$wantl" ] || e2e_fail "the local subscriber got: $gotl; want: $wantl"
[ "${frag:-0}" -eq 5 ] || e2e_fail "kernel-fragmented=${frag:-missing}, want 5"
[ "${touser:-0}" -eq 5 ] || e2e_fail "kernel-fragments-to-userspace=${touser:-missing}, want 5"
[ "${unsent:-x}" = 0 ] || e2e_fail "fragments-unsent=${unsent:-missing}, want 0"
! grep -q 'warning from relay' "$E2E_WORK/relay.log" \
  || e2e_fail "the relay warned: $(cat "$E2E_WORK/relay.log")"
e2e_log PASS
