#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-multicast.sh MODE [ipv6] [iface]: a multicast group as a subscriber
# (multiudpsink's multicast clients; issue 13 item 2). The relay namespace
# routes the groups (239.0.0.0/8; with ipv6 ff0e::/16, the stream then over
# IPv6 too) out of down1 (towards cli1); its clients are the group
# (239.1.2.3:6000 or [ff0e::1:2:3]:6000) and a unicast subscriber on cli2
# (10.200.12.2:6001 or [fd00:200:12::2]:6001).
#   - cli1, joined to the group on its eth0 (udpsrc address=GROUP),
#     receives every datagram exactly once, byte-identical;
#   - cli2, joined to the same group on its link, receives nothing on the
#     group's port (the group is routed out of down1 only) and every
#     datagram on its unicast port;
#   - with iface: the relay has multicast-iface=down2, so the group's copies
#     leave by down2 whatever the route says (as from a socket with
#     IP_MULTICAST_IF): cli2 gets every datagram of the group, cli1 none;
#   - with MODE kernel the relay's kernel sent the group's copies
#     (kernel-packets of the group), each to the group's MAC (01:00:5e:01:02:03,
#     IPv6 33:33:00:02:00:03, derived in the kernel path: a unicast MAC there
#     would make the receiver drop the frame as another host's; test-route
#     checks the IPv6 derivation byte for byte);
#   - with MODE userspace the kernel sent nothing;
#   - auto-multicast (default true): the relay host is a member of the
#     group on the interface the copies leave by while it runs (ip maddr),
#     on no other, and no longer after it stopped; a group added while
#     PLAYING (the add signal) is joined, and left when it is removed.
set -uo pipefail

MODE=${1:-kernel}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 kernel|userspace [ipv6] [iface]" >&2; exit 2 ;; esac
shift
V6=0 IFACE=0
for a in "$@"; do
  case $a in
    ipv6) V6=1 ;;
    iface) IFACE=1 ;;
    *) echo "usage: $0 kernel|userspace [ipv6] [iface]" >&2; exit 2 ;;
  esac
done

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "multicast-$MODE${1:+-$1}${2:+-$2}"

COUNT=300
SIZE=200
PORT=5004
P=$E2E_PREFIX

ebr_topology_up "$P" 2 || e2e_fail "topology"
if [ $V6 = 1 ]; then
  GROUP=ff0e::1:2:3 GROUP_C="[ff0e::1:2:3]" UNI=fd00:200:12::2 UNI_C="[fd00:200:12::2]"
  ebr_topology_v6 "$P" 2 || e2e_fail "IPv6 topology"
  ip -n "$P-rel" -6 route add multicast ff0e::/16 dev down1 table local \
    || e2e_fail "group route"
  SRC="udpsrc address=:: port=$PORT" DEST=fd00:200:1::2
  RADDR=::
else
  GROUP=239.1.2.3 GROUP_C=239.1.2.3 UNI=10.200.12.2 UNI_C=10.200.12.2
  ip -n "$P-rel" route add 239.0.0.0/8 dev down1 || e2e_fail "group route"
  SRC="udpsrc port=$PORT" DEST=10.200.1.2
  RADDR=
fi
OPTS=
[ $IFACE = 1 ] && OPTS="multicast-iface=down2"
e2e_gen "$E2E_WORK/records.bin" $COUNT $SIZE

# the group's receivers (both join it on eth0), and cli2's unicast one
e2e_bg "$P-cli1" recv-cli1 gst-launch-1.0 -e udpsrc address=$GROUP port=6000 \
  multicast-iface=eth0 buffer-size=2097152 \
  ! filesink location="$E2E_WORK/cli1-group.bin" buffer-mode=unbuffered
r1=$E2E_LAST_PID
e2e_bg "$P-cli2" recv-cli2 gst-launch-1.0 -e udpsrc address=$GROUP port=6000 \
  multicast-iface=eth0 ! filesink location="$E2E_WORK/cli2-group.bin" \
  buffer-mode=unbuffered
r2=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000
e2e_wait_udp "$P-cli2" 6000
E2E_RECV_ADDRESS=$RADDR e2e_receivers "$P-cli2" cli2 6001
r3=$E2E_LAST_PID

e2e_ctl_start "$P-rel" relay \
  "$SRC ! ebpfrelaysink name=relay mode=$MODE $OPTS clients=$GROUP_C:6000,$UNI_C:6001"
if [ "$MODE" = kernel ]; then
  e2e_wait_tcx "$P-rel" 1 up0 down1 down2
else
  e2e_wait_udp "$P-rel" $PORT
fi
sleep 1
e2e_alive "$E2E_CTL_PID" relay

e2e_log "sending $COUNT x $SIZE bytes to the group $GROUP and one unicast subscriber (mode=$MODE)"
e2e_send "$P-srv" "$E2E_WORK/records.bin" $SIZE $DEST $PORT
sleep 1
e2e_alive "$E2E_CTL_PID" relay
e2e_ctl_stats $GROUP 6000
group_line=$E2E_STATS_LINE
gkp=$E2E_KP gp=$E2E_P
e2e_ctl_stats $UNI 6001
ukp=$E2E_KP
e2e_log "group: packets=$gp kernel-packets=$gkp; unicast kernel-packets=$ukp"
# auto-multicast (default true, as multiudpsink's): the relay host is a
# member of the group on the interface its copies leave by, while it runs
out_if=down1
[ $IFACE = 1 ] && out_if=down2
member () { ip -n "$P-rel" maddr show dev "$1" | grep -qw "$GROUP"; }
member_while=0 member_other=0
member $out_if && member_while=1
member $([ $out_if = down1 ] && echo down2 || echo down1) && member_other=1
# a group added while PLAYING is joined, and left when removed
if [ $V6 = 1 ]; then GROUP2=ff0e::1:2:4; else GROUP2=239.1.2.4; fi
e2e_ctl add $GROUP2 6002
member2_added=0 member2_removed=1
for i in $(seq 20); do
  ip -n "$P-rel" maddr show dev $out_if | grep -qw "$GROUP2" && { member2_added=1; break; }
  sleep 0.1
done
e2e_ctl remove $GROUP2 6002
for i in $(seq 20); do
  ip -n "$P-rel" maddr show dev $out_if | grep -qw "$GROUP2" || { member2_removed=0; break; }
  sleep 0.1
done
e2e_ctl_stop
member_after=0
member $out_if && member_after=1
ebr_stop "$r1"
ebr_stop "$r2"
ebr_stop "$r3"

rc=0
# the joined receiver behind the group's way out, and the one behind the
# other interface
if [ $IFACE = 1 ]; then
  got=cli2 none=cli1 why="multicast-iface=down2"
else
  got=cli1 none=cli2 why="the group is routed out of down1 only"
fi
e2e_check "$E2E_WORK/$got-group.bin" $COUNT $SIZE \
  || { echo "$got (joined to $GROUP; $why) did not get every datagram exactly once" >&2; rc=1; }
e2e_check "$E2E_WORK/cli2-6001.bin" $COUNT $SIZE \
  || { echo "cli2's unicast subscription did not get every datagram exactly once" >&2; rc=1; }
[ ! -s "$E2E_WORK/$none-group.bin" ] \
  || { echo "$none got group traffic ($(stat -c %s "$E2E_WORK/$none-group.bin") bytes): $why" >&2; rc=1; }
[ $member_while = 1 ] || { echo "auto-multicast: the relay host is no member of $GROUP on $out_if while running" >&2; rc=1; }
[ $member_other = 0 ] || { echo "auto-multicast: the relay host joined $GROUP on the other interface too" >&2; rc=1; }
[ $member2_added = 1 ] || { echo "auto-multicast: $GROUP2, added while PLAYING, was not joined on $out_if" >&2; rc=1; }
[ $member2_removed = 0 ] || { echo "auto-multicast: $GROUP2, removed while PLAYING, is still joined on $out_if" >&2; rc=1; }
[ $member_after = 0 ] || { echo "auto-multicast: still a member of $GROUP on $out_if after the relay stopped" >&2; rc=1; }
[ "${gp:-0}" = $COUNT ] || { echo "relay counted ${gp:-?} packets to the group, not $COUNT: $group_line" >&2; rc=1; }
if [ "$MODE" = kernel ]; then
  # (the first datagram may go up before the kernel knows the route)
  [ "${gkp:-0}" -ge $((COUNT - 5)) ] \
    || { echo "kernel mode: the kernel sent ${gkp:-?} of the group's $COUNT copies: $group_line" >&2; rc=1; }
else
  [ "${gkp:-missing}" = 0 ] && [ "${ukp:-missing}" = 0 ] \
    || { echo "userspace mode, but the kernel sent copies" >&2; rc=1; }
fi
[ $rc -eq 0 ] && e2e_log "PASS: a multicast group ($GROUP, $why) as a subscriber ($MODE)"
exit $rc
