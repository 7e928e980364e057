#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-fanout.sh MODE (kernel|userspace|kernel-consume): one stream, 50
# subscribers in two client namespaces; every subscriber receives every
# datagram exactly once, byte-identical. In kernel mode the relay's counters
# must show that the kernel sent them (and in userspace mode that it did
# not), so this test cannot pass on the wrong path. kernel-consume is
# mode=kernel pass-original=false: the same, and the packets after the
# first are consumed in the kernel (kernel-consumed) instead of reaching
# the relay's udpsrc (buffers-in stays small).
set -uo pipefail

MODE=${1:-kernel}
EXTRA=
case $MODE in
  kernel|userspace) ;;
  kernel-consume) EXTRA=" pass-original=false" ;;
  *) echo "usage: $0 kernel|userspace|kernel-consume" >&2; exit 2 ;;
esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "fanout-$MODE"
CONSUME=0
[ "$MODE" = kernel-consume ] && { MODE=kernel; CONSUME=1; }

COUNT=300
SIZE=200
PER_CLI=25
NCLI=2
PORT=5004
P=$E2E_PREFIX

ebr_topology_up "$P" "$NCLI" || e2e_fail "topology"
e2e_gen "$E2E_WORK/records.bin" $COUNT $SIZE

ports=$(seq 6000 $((6000 + PER_CLI - 1)))
clients=
subs=()
for k in $(seq 1 $NCLI); do
  for port in $ports; do
    subs+=("10.200.$(ebr_cli_net "$k").2:$port")
  done
done
clients=$(IFS=,; echo "${subs[*]}")
NSUBS=${#subs[@]}

recv_pids=()
for k in $(seq 1 $NCLI); do
  # shellcheck disable=SC2086
  e2e_receivers "$P-cli$k" "cli$k" $ports
  recv_pids+=("$E2E_LAST_PID")
done

e2e_ctl_start "$P-rel" relay \
  "udpsrc port=$PORT ! ebpfrelaysink name=relay mode=$MODE$EXTRA clients=$clients"
relay_ifs=(up0)
for k in $(seq 1 $NCLI); do relay_ifs+=("down$k"); done
if [ "$MODE" = kernel ]; then
  e2e_wait_tcx "$P-rel" 1 "${relay_ifs[@]}"
else
  e2e_wait_udp "$P-rel" $PORT
  for ifc in "${relay_ifs[@]}"; do
    [ "$(e2e_tcx "$P-rel" "$ifc")" = 0 ] \
      || e2e_fail "mode=userspace attached a TCX program to $ifc"
  done
fi
sleep 1
e2e_alive "$E2E_CTL_PID" relay

e2e_log "sending $COUNT x $SIZE bytes to $NSUBS subscribers (mode=$MODE)"
e2e_send "$P-srv" "$E2E_WORK/records.bin" $SIZE 10.200.1.2 $PORT
sleep 1
e2e_alive "$E2E_CTL_PID" relay

# Counters before the receivers stop.
e2e_ctl stats
e2e_log "relay $(sed 's/, clients=(structure).*//' <<<"$E2E_CTL_REPLY")"
e2e_log "reading the counters of $NSUBS subscribers"
kernel_total=0
user_total=0
stats_bad=0
declare -A seen=()
while read -r sub kp up p; do
  seen[$sub]=1
  if [ "$kp" = - ] || [ "$p" = - ]; then
    echo "get-stats $sub lacks kernel-packets/packets" >&2
    stats_bad=1
    continue
  fi
  kernel_total=$((kernel_total + kp))
  [ "$up" = - ] || user_total=$((user_total + up))
  if [ "$p" -ne $COUNT ]; then
    echo "get-stats $sub: packets=$p, sent $COUNT (kernel $kp, user $up)" >&2
    stats_bad=1
  fi
  if [ "$MODE" = kernel ] && [ "$kp" -eq 0 ]; then
    echo "get-stats $sub: the kernel sent nothing (user-packets=$up)" >&2
    stats_bad=1
  fi
  if [ "$MODE" = userspace ] && [ "$kp" -ne 0 ]; then
    echo "get-stats $sub: kernel-packets=$kp in mode=userspace" >&2
    stats_bad=1
  fi
done < <(e2e_ctl_stats_all "${subs[@]}")
for sub in "${subs[@]}"; do
  [ -n "${seen[$sub]:-}" ] || { echo "no get-stats answer for $sub" >&2; stats_bad=1; }
done

e2e_ctl stats
relay_stats=$E2E_CTL_REPLY
num () { grep -o "$1=(guint64)[0-9]*" <<<"$relay_stats" | grep -o '[0-9]*$'; }
bufs_in=$(num buffers-in)
consumed=$(num kernel-consumed)
e2e_log "relay: buffers-in=${bufs_in:-?} kernel-consumed=${consumed:-?}"
e2e_log "stopping receivers and relay"
for pid in "${recv_pids[@]}"; do
  ebr_stop "$pid"
done
e2e_ctl_stop
e2e_log "checking $NSUBS files"

received=0
lost=0
doubled=0
corrupt=0
bad=0
for k in $(seq 1 $NCLI); do
  for port in $ports; do
    f=$E2E_WORK/cli$k-$port.bin
    [ -e "$f" ] || : >"$f"
    e2e_check "$f" $COUNT $SIZE 2>/dev/null || bad=$((bad + 1))
    line=$(tail -n 1 "$E2E_WORK/check.log")
    received=$((received + $(sed 's/.*received=\([0-9]*\).*/\1/' <<<"$line")))
    lost=$((lost + $(sed 's/.*lost=\([0-9]*\).*/\1/' <<<"$line")))
    doubled=$((doubled + $(sed 's/.*duplicated=\([0-9]*\).*/\1/' <<<"$line")))
    corrupt=$((corrupt + $(sed 's/.*corrupt=\([0-9]*\).*/\1/' <<<"$line")))
  done
done
[ $bad -eq 0 ] || grep -v 'lost=0 duplicated=0 corrupt=0' "$E2E_WORK/check.log" | sed "s|^$E2E_WORK/||" >&2

echo "subscribers=$NSUBS sent=$COUNT received=$received lost=$lost" \
  "doubled=$doubled mode=$MODE corrupt=$corrupt" \
  "kernel-packets=$kernel_total user-packets=$user_total"

[ $bad -eq 0 ] || e2e_fail "$bad of $NSUBS subscribers did not get the stream exactly once"
[ $received -eq $((NSUBS * COUNT)) ] || e2e_fail "received $received, expected $((NSUBS * COUNT))"
[ $stats_bad -eq 0 ] || e2e_fail "relay counters disagree (see above)"
if [ "$MODE" = kernel ] && [ $kernel_total -eq 0 ]; then
  e2e_fail "mode=kernel but the kernel forwarded nothing"
fi
if [ $CONSUME -eq 1 ]; then
  [ -n "$bufs_in" ] && [ -n "$consumed" ] || e2e_fail "stats lack buffers-in or kernel-consumed"
  [ "$bufs_in" -le 10 ] || e2e_fail "pass-original=false, but $bufs_in buffers reached the udpsrc"
  [ $((bufs_in + consumed)) -eq $COUNT ] \
    || e2e_fail "buffers-in $bufs_in + kernel-consumed $consumed != sent $COUNT"
else
  [ "${consumed:-0}" -eq 0 ] || e2e_fail "pass-original=true, but kernel-consumed=$consumed"
  [ "${bufs_in:-0}" -eq $COUNT ] || e2e_fail "buffers-in ${bufs_in:-?}, sent $COUNT"
fi
e2e_log PASS
