#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-publisher.sh MODE (kernel|userspace) [ipv6]: only the publisher's
# datagrams for this host reach the subscriber (issue 11 items 1 and 2).
# Three relay runs, one subscriber in cli1; sender A is 10.200.1.1:7001,
# sender B 10.200.1.3:7002 (a second address of the server namespace),
# each record stream with its own datagram size, so a stray datagram
# breaks the subscriber's file:
#  1. any sender, udpsrc bound to 10.200.1.2: A to it, and transit
#     traffic routed through the relay namespace to the stream's port (to
#     192.0.2.1 and to the viewer's own address), and datagrams to the
#     relay's other address (10.200.11.1, not the bound one): the
#     subscriber gets exactly A's records; kernel mode: kernel-not-local
#     counts every other datagram.
#  2. sources=A: A and B at once: exactly A's; B's counted rejected.
#  3. source-latch=true source-timeout=800: A first, B during A
#     (rejected), then after A's silence B again: A's records, then B's.
# ipv6: the same over IPv6 (ebr_topology_v6): A [fd00:200:1::1]:7001, B
# [fd00:200:1::3]:7002, the relay at fd00:200:1::2 (run 1: its udpsrc
# bound there; runs 2, 3: on ::), the subscriber [fd00:200:11::2]:6000
# (kernel mode: served by the kernel), sources=[fd00:200:1::1]:7001, the
# transit to 2001:db8::1 (behind the relay), the viewer and the relay's
# fd00:200:11::1.
set -uo pipefail

MODE=${1:-kernel}
FAM=${2:-ipv4}
case $MODE in
  kernel|userspace) ;;
  *) echo "usage: $0 kernel|userspace [ipv6]" >&2; exit 2 ;;
esac
case $FAM in
  ipv4|ipv6) ;;
  *) echo "usage: $0 kernel|userspace [ipv6]" >&2; exit 2 ;;
esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
if [ "$FAM" = ipv6 ]; then e2e_init "publisher-$MODE-ipv6"; else e2e_init "publisher-$MODE"; fi

PORT=5004
SUB_PORT=6000
NA=300          # A's records, 200 bytes each
NB=50           # B's records, 180 bytes each
PACE=5000       # us between two datagrams of one sender
P=$E2E_PREFIX
if [ "$FAM" = ipv6 ]; then
  A=fd00:200:1::1 B=fd00:200:1::3 RELAY=fd00:200:1::2 RELAY_OTHER=fd00:200:11::1
  VIEWER=fd00:200:11::2 TRANSIT=2001:db8::1
  SUB="[$VIEWER]:$SUB_PORT" SRC_A="[$A]:7001" SRC_B="[$B]:7002"
  ANY_ADDR="address=::"
  export E2E_RECV_ADDRESS=::
else
  A=10.200.1.1 B=10.200.1.3 RELAY=10.200.1.2 RELAY_OTHER=10.200.11.1
  VIEWER=10.200.11.2 TRANSIT=192.0.2.1
  SUB="$VIEWER:$SUB_PORT" SRC_A="$A:7001" SRC_B="$B:7002"
  ANY_ADDR=
fi

ebr_topology_up "$P" 1 || e2e_fail "topology"
if [ "$FAM" = ipv6 ]; then
  ebr_topology_v6 "$P" 1 || e2e_fail "IPv6 topology"
  ip -n "$P-srv" addr add $B/64 dev eth0 nodad || e2e_fail "second address"
  # transit: 2001:db8::1 lies behind the relay (towards cli1, which drops it)
  ip -n "$P-rel" -6 route add $TRANSIT/128 via $VIEWER || e2e_fail "transit route"
  # until DAD of the link-local addresses is over, neighbour discovery
  # (and so the first datagrams) may wait: the path from srv to the viewer
  # answers first
  ebr_until 50 ebr_reach "$P-srv" $VIEWER || e2e_fail "no IPv6 path from srv to $VIEWER"
else
  ip -n "$P-srv" addr add $B/24 dev eth0 || e2e_fail "second address"
  # transit: 192.0.2.1 lies behind the relay (towards cli1, which drops it)
  ip -n "$P-rel" route add $TRANSIT/32 via $VIEWER || e2e_fail "transit route"
fi
e2e_gen "$E2E_WORK/a.bin" $NA 200
e2e_gen "$E2E_WORK/b.bin" $NB 180
e2e_gen "$E2E_WORK/b2.bin" $NA 180

# send NAME FILE SIZE BIND_ADDR BIND_PORT HOST: in the server namespace,
# one datagram per record, from BIND_ADDR:BIND_PORT; sets E2E_LAST_PID.
send () {
  e2e_bg "$P-srv" "send-$1" gst-launch-1.0 -q filesrc location="$2" \
    blocksize="$3" ! identity sleep-time=$PACE \
    ! udpsink host="$6" port=$PORT bind-address="$4" bind-port="$5"
}
num () { grep -o "[ ,]$1=(guint64)[0-9]*" <<<"$E2E_CTL_REPLY" | grep -o '[0-9]*$'; }
# (a string field as GstStructure writes it: quoted, [ and ] escaped)
str () { grep -o "[ ,]$1=(string)[^,]*" <<<"$E2E_CTL_REPLY" | sed 's/.*=(string)//;s/"//g;s/\\//g'; }

# run_relay N PROPS [UDPSRC_PROPS]: relay run N with PROPS; the subscriber's file is
# $E2E_WORK/runN-$SUB_PORT.bin.
run_relay () {
  e2e_receivers "$P-cli1" "run$1" $SUB_PORT
  RECV_PID=$E2E_LAST_PID
  e2e_ctl_start "$P-rel" "relay$1" "udpsrc port=$PORT ${3:-} ! ebpfrelaysink \
name=relay mode=$MODE rtcp-port=0 clients=$SUB $2"
  if [ "$MODE" = kernel ]; then
    e2e_wait_tcx "$P-rel" 1 up0 down1
  else
    e2e_wait_udp "$P-rel" $PORT
  fi
  sleep 0.5
}
end_relay () {
  sleep 0.5
  e2e_ctl_stats "${SUB%:*}" $SUB_PORT
  SUB_KP=$E2E_KP
  e2e_ctl stats
  STATS=$E2E_CTL_REPLY
  ebr_stop "$RECV_PID"
  e2e_ctl_stop
}
rejected () {
  if [ "$MODE" = kernel ]; then num kernel-rejected-source; else num rejected-source; fi
}

# --- 1: transit -------------------------------------------------------------
e2e_log "run 1: A to the relay, transit to $TRANSIT and to the viewer"
run_relay 1 "" "address=$RELAY"
send a "$E2E_WORK/a.bin" 200 $A 7001 $RELAY
pa=$E2E_LAST_PID
send t3 "$E2E_WORK/b.bin" 180 $B 7004 $RELAY_OTHER
pt3=$E2E_LAST_PID
send t1 "$E2E_WORK/b.bin" 180 $B 7002 $TRANSIT
pt1=$E2E_LAST_PID
send t2 "$E2E_WORK/b.bin" 180 $B 7003 $VIEWER
pt2=$E2E_LAST_PID
for p in $pa $pt1 $pt2 $pt3; do e2e_wait_send "$p"; done
end_relay
E2E_CTL_REPLY=$STATS
not_local=$(num kernel-not-local)
e2e_check "$E2E_WORK/run1-$SUB_PORT.bin" $NA 200 \
  || e2e_fail "run 1: the subscriber did not get exactly A's $NA records"
if [ "$MODE" = kernel ]; then
  [ "${not_local:-0}" -eq $((3 * NB)) ] \
    || e2e_fail "run 1: kernel-not-local=${not_local:-?}, sent $((3 * NB)) datagrams not to the bound address"
fi
e2e_log "run 1: exactly A's $NA records; kernel-not-local=${not_local:-0}"

# --- 2: sources ----------------------------------------------------------------
e2e_log "run 2: sources=$SRC_A, A and B at once"
run_relay 2 "sources=$SRC_A" "$ANY_ADDR"
send a "$E2E_WORK/a.bin" 200 $A 7001 $RELAY
pa=$E2E_LAST_PID
sleep 0.2
send b "$E2E_WORK/b.bin" 180 $B 7002 $RELAY
pb=$E2E_LAST_PID
e2e_wait_send "$pa"; e2e_wait_send "$pb"
end_relay
E2E_CTL_REPLY=$STATS
rej2=$(rejected)
e2e_check "$E2E_WORK/run2-$SUB_PORT.bin" $NA 200 \
  || e2e_fail "run 2: the subscriber did not get exactly A's $NA records"
[ "${rej2:-0}" -eq $NB ] || e2e_fail "run 2: rejected ${rej2:-?}, B sent $NB"
# kernel mode: the kernel served the subscriber (of the stream's family)
# under the lock (the first packets may leave from userspace until its
# neighbour is known)
if [ "$MODE" = kernel ]; then
  [ "${SUB_KP:-0}" -gt $((NA / 2)) ] \
    || e2e_fail "run 2: the subscriber's kernel-packets=${SUB_KP:-?}, want most of $NA"
else
  [ "${SUB_KP:-1}" -eq 0 ] || e2e_fail "run 2: kernel-packets=$SUB_KP in userspace mode"
fi
e2e_log "run 2: exactly A's records (kernel-packets=${SUB_KP:-?}); B's $rej2 rejected"

# --- 3: latch and handover ------------------------------------------------------
e2e_log "run 3: source-latch, A first, B during A, B again after A's silence"
run_relay 3 "source-latch=true source-timeout=800" "$ANY_ADDR"
send a "$E2E_WORK/a.bin" 200 $A 7001 $RELAY
pa=$E2E_LAST_PID
sleep 0.3
send b "$E2E_WORK/b.bin" 180 $B 7002 $RELAY
pb=$E2E_LAST_PID
e2e_wait_send "$pb"; e2e_wait_send "$pa"
e2e_ctl stats
rej3a=$(rejected)
sleep 1.3
send b2 "$E2E_WORK/b2.bin" 180 $B 7002 $RELAY
e2e_wait_send "$E2E_LAST_PID"
end_relay
E2E_CTL_REPLY=$STATS
rej3=$(rejected)
locked=$(str source-locked)
latched=$(num kernel-source-latched)
f=$E2E_WORK/run3-$SUB_PORT.bin
head -c $((NA * 200)) "$f" >"$E2E_WORK/run3-a.bin"
tail -c +$((NA * 200 + 1)) "$f" >"$E2E_WORK/run3-b.bin"
e2e_check "$E2E_WORK/run3-a.bin" $NA 200 \
  || e2e_fail "run 3: the subscriber's first part is not exactly A's records"
e2e_check "$E2E_WORK/run3-b.bin" $NA 180 \
  || e2e_fail "run 3: after the handover, not exactly B's records"
[ "${rej3a:-0}" -eq $NB ] && [ "${rej3:-0}" -eq $NB ] \
  || e2e_fail "run 3: rejected ${rej3a:-?} during A, ${rej3:-?} in all; B sent $NB during A"
[ "$locked" = "$SRC_B" ] || e2e_fail "run 3: source-locked '$locked', want B ($SRC_B)"
if [ "$MODE" = kernel ]; then
  [ "${latched:-0}" -eq 2 ] || e2e_fail "run 3: kernel-source-latched=${latched:-?}, want 2"
fi
echo "mode=$MODE family=$FAM not-for-the-socket=$((3 * NB)) not-local=${not_local:-0} rejected-sources=$rej2" \
  "latch-rejected=$rej3 handover=ok source-locked=$locked"
e2e_log PASS
