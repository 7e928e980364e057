#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-priority.sh MODE (kernel|userspace) [ipv6]: priority drop at the relay.
# (ipv6: the same with every subscriber IPv6, see below.)
# A known RTP stream (rtp-prio gen: H.264 NRI 3/2/1/0 on one SSRC, frame
# marked I/D/TID packets on another, some datagrams not RTP) goes through
# a relay whose caps name H.264 and the frame marking extension, to:
#   cli1 6000@0 6005@5 6006@6 6007@7     fixed limits
#   cli2 6000@0 -> 6, 6001@7 -> 0        changed mid-stream (set-priority-limit)
#   cli2 6003@7 removed mid-stream and 6004@6 added, with one change of
#                                        the clients property: 6004 takes
#                                        6003's slot and must start clean
#                                        (no sequence offset of 6003's)
#   rel  7006@6                          the relay's own address: in
#                                        mode=kernel served by userspace
#                                        through the kernel's events
# Each receives exactly the datagrams whose priority reaches its limit
# (rtp-prio check, with the relay's classifier), byte for byte, with
# sequence numbers contiguous per SSRC; a changed limit applies from one
# datagram on (the check passes with both limits, fails with either
# alone); the relay's priority-dropped counters agree; in mode=kernel the
# kernel sent the remote copies.
set -uo pipefail

MODE=${1:-kernel}
FAMILY=${2:-ipv4}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 kernel|userspace [ipv6]" >&2; exit 2 ;; esac
case $FAMILY in ipv4|ipv6) ;; *) echo "usage: $0 kernel|userspace [ipv6]" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "priority-$MODE${2:+-$2}"

e2e_tool EBR_RTP_PRIO rtp-prio

COUNT=600
SIZE=200
PORT=5004
CHANGE_AT=200     # records cli1:6000 has received when the limits change
E2E_PACE_US=${EBR_E2E_PACE_US:-3000}
P=$E2E_PREFIX
C1=10.200.11.2 C2=10.200.12.2 LOCAL=10.200.1.2 DEST=10.200.1.2 SRC_ADDR=
# ipv6: every subscriber IPv6 (dual-stack topology), the stream over IPv6
# too: in kernel mode the kernel makes the v6 copies
if [ "$FAMILY" = ipv6 ]; then
  C1=[fd00:200:11::2] C2=[fd00:200:12::2] LOCAL=[fd00:200:1::2]
  export E2E_RECV_ADDRESS=::
  DEST=fd00:200:1::2 SRC_ADDR="address=:: "
fi

# host port limit what-happens-mid-stream (-: nothing, a new limit,
# removed, added)
SUBS=(
  "$C1 6000 0 -" "$C1 6005 5 -" "$C1 6006 6 -" "$C1 6007 7 -"
  "$C2 6000 0 6" "$C2 6001 7 0"
  "$LOCAL 7006 6 -"
  "$C2 6003 7 removed" "$C2 6004 6 added"
)

ebr_topology_up "$P" 2 || e2e_fail "topology"
[ "$FAMILY" = ipv4 ] || ebr_topology_v6 "$P" 2 || e2e_fail "IPv6 topology"
"$EBR_RTP_PRIO" gen "$E2E_WORK/stream.bin" $COUNT $SIZE || e2e_fail "rtp-prio gen"

e2e_receivers "$P-cli1" cli1 6000 6005 6006 6007
recv1=$E2E_LAST_PID
e2e_receivers "$P-cli2" cli2 6000 6001 6003 6004
recv2=$E2E_LAST_PID
e2e_receivers "$P-rel" local 7006
recv3=$E2E_LAST_PID

clients=
for s in "${SUBS[@]}"; do
  read -r host port limit change <<<"$s"
  [ "$change" = added ] || clients+="${clients:+,}$host:$port@$limit"
done
caps='application/x-rtp,media=(string)video,encoding-name=(string)H264,payload=(int)96,clock-rate=(int)90000,extmap-3=(string)urn:ietf:params:rtp-hdrext:framemarking'
e2e_ctl_start "$P-rel" relay "udpsrc ${SRC_ADDR}port=$PORT caps=\"$caps\" ! \
ebpfrelaysink name=relay mode=$MODE clients=$clients"
if [ "$MODE" = kernel ]; then
  e2e_wait_tcx "$P-rel" 1 up0 down1 down2
else
  e2e_wait_udp "$P-rel" $PORT
fi
sleep 1
e2e_alive "$E2E_CTL_PID" relay

records_in ()
{
  local sz
  sz=$(stat -c %s "$1" 2>/dev/null || echo 0)
  echo $((sz / SIZE))
}

e2e_log "sending $COUNT RTP datagrams, one every $E2E_PACE_US us (mode=$MODE)"
e2e_send_bg "$P-srv" "$E2E_WORK/stream.bin" $SIZE $DEST $PORT
send_pid=$E2E_LAST_PID
for i in $(seq 300); do
  [ "$(records_in "$E2E_WORK/cli1-6000.bin")" -ge $CHANGE_AT ] && break
  ebr_running "$send_pid" || break
  sleep 0.1
done
e2e_ctl set-priority-limit $C2 6000 6
e2e_ctl set-priority-limit $C2 6001 0
clients=
for s in "${SUBS[@]}"; do
  read -r host port limit change <<<"$s"
  case $change in
    -|added) clients+="${clients:+,}$host:$port@$limit" ;;
    removed) ;;
    *) clients+="${clients:+,}$host:$port@$change" ;;
  esac
done
e2e_ctl set clients "$clients"
e2e_log "cli2 changed at cli1:6000=$(records_in "$E2E_WORK/cli1-6000.bin") records"
e2e_wait_send "$send_pid"
sleep 1
e2e_alive "$E2E_CTL_PID" relay

declare -A dropped_stat=() kp=() up=()
for s in "${SUBS[@]}"; do
  read -r host port _ change <<<"$s"
  [ "$change" != removed ] || continue
  e2e_ctl_stats "$host" "$port"
  dropped_stat[$host:$port]=$(ebr_field "$E2E_STATS_LINE" priority-dropped)
  kp[$host:$port]=$E2E_KP
  up[$host:$port]=$E2E_UP
done
ebr_stop "$recv1"
ebr_stop "$recv2"
ebr_stop "$recv3"
e2e_ctl_stop

rc=0
summary=
for s in "${SUBS[@]}"; do
  read -r host port limit change <<<"$s"
  case $host in "$C1") f=cli1-$port ;; "$C2") f=cli2-$port ;; *) f=local-$port ;; esac
  f=$E2E_WORK/$f.bin
  [ -e "$f" ] || : >"$f"
  case $change in
    -) after= how= label=$limit ;;
    removed) after= how=--until label="$limit(removed)" ;;
    added) after= how=--from label="$limit(added)" ;;
    *) after=$change how=$change label="$limit->$change" ;;
  esac
  sub="$host:$port@$label"
  if ! dropped=$("$EBR_RTP_PRIO" check "$E2E_WORK/stream.bin" "$f" $SIZE $limit $how 2>>"$E2E_WORK/check.log"); then
    echo "$sub did not get exactly its packets: $(tail -n 1 "$E2E_WORK/check.log" | sed "s|$E2E_WORK/||")" >&2
    rc=1
    continue
  fi
  line=$(tail -n 1 "$E2E_WORK/check.log" | sed "s|$E2E_WORK/||")
  e2e_log "$sub: $line"
  summary+=" $label:$(sed 's/.*received=\([0-9]*\).*/\1/' <<<"$line")"
  [ "$change" != removed ] || continue
  if [ -n "$after" ]; then
    # the change mattered: neither limit alone explains the file
    for l in $limit $after; do
      if "$EBR_RTP_PRIO" check "$E2E_WORK/stream.bin" "$f" $SIZE $l >/dev/null 2>&1; then
        echo "$sub: the file matches limit $l alone: the change did not take effect mid-stream" >&2
        rc=1
      fi
    done
  fi
  if [ "${dropped_stat[$host:$port]}" != "$dropped" ]; then
    echo "$sub: relay priority-dropped=${dropped_stat[$host:$port]:-?}, the stream's priorities say $dropped" >&2
    rc=1
  fi
  if [ "$MODE" = userspace ] && [ "${kp[$host:$port]}" != 0 ]; then
    echo "$sub: kernel-packets=${kp[$host:$port]} in mode=userspace" >&2
    rc=1
  fi
  if [ "$MODE" = kernel ]; then
    if [ "$host" = "$LOCAL" ]; then
      if [ "${kp[$host:$port]}" != 0 ] || [ "${up[$host:$port]:-0}" -eq 0 ]; then
        echo "$sub: the relay's own address must be served by userspace (kernel ${kp[$host:$port]}, user ${up[$host:$port]})" >&2
        rc=1
      fi
    elif [ "${kp[$host:$port]:-0}" -eq 0 ]; then
      echo "$sub: mode=kernel but the kernel sent it nothing" >&2
      rc=1
    fi
  fi
done

echo "mode=$MODE family=$FAMILY sent=$COUNT received (limit:count):$summary"
[ $rc -eq 0 ] || e2e_fail "priority drop"
e2e_log PASS
