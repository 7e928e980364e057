#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-ipv6.sh MODE SET: IPv6 through the relay in the dual-stack topology
# (ebr_topology_v6: fd00:200:N::/64 on the same veths as 10.200.N.0/24),
# 50 subscribers in two client namespaces, each receives every datagram
# exactly once, byte-identical.
#   SET v6      the stream arrives over IPv6 (udpsrc address=::), all 50
#               subscribers are IPv6
#   SET mixed   an IPv4 stream to 24 IPv4 and 26 IPv6 subscribers: each
#               served in its own family (v6 ones from an IPv6 socket)
#   SET mixed6  the same subscribers, the stream over IPv6 (udpsrc
#               address=::): the v4 ones from the dual-stack socket
# MODE kernel|userspace. The relay's counters must say who sent: in kernel
# mode the kernel for every subscriber of the stream's family (SET v6 and
# mixed6: every IPv6 one; mixed: every IPv4 one), userspace for the
# others (the kernel does not translate between IPv4 and IPv6); in
# userspace mode never the kernel. get-stats' path says the same (a KERNEL
# slot of the other family is served by userspace: path=userspace).
# Kernel mode, SET v6 and mixed6: kernel-ipv6 counts the stream.
set -uo pipefail

MODE=${1:-userspace}
SET=${2:-mixed}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 kernel|userspace v6|mixed|mixed6" >&2; exit 2 ;; esac
case $SET in v6|mixed|mixed6) ;; *) echo "usage: $0 kernel|userspace v6|mixed|mixed6" >&2; exit 2 ;; esac
# the stream's family
SFAM=4
[ "$SET" = mixed ] || SFAM=6

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "ipv6-$MODE-$SET"

COUNT=300
SIZE=200
PER_CLI=25
NCLI=2
PORT=5004
P=$E2E_PREFIX

ebr_topology_up "$P" "$NCLI" || e2e_fail "topology"
ebr_topology_v6 "$P" "$NCLI" || e2e_fail "IPv6 topology"
e2e_gen "$E2E_WORK/records.bin" $COUNT $SIZE

# subscribers: SET v6 all v6; mixed, mixed6: on each client ports
# 6000-6011 v4, 6012-6024 v6. The receivers bind :: (both families, one port each).
subs=()
declare -A fam=()
for k in $(seq 1 $NCLI); do
  net=$(ebr_cli_net "$k")
  for i in $(seq 0 $((PER_CLI - 1))); do
    port=$((6000 + i))
    if [ "$SET" = v6 ] || [ "$i" -ge 12 ]; then
      sub="[fd00:200:$net::2]:$port"; fam[$sub]=6
    else
      sub="10.200.$net.2:$port"; fam[$sub]=4
    fi
    subs+=("$sub")
  done
done
clients=$(IFS=,; echo "${subs[*]}")
NSUBS=${#subs[@]}
ports=$(seq 6000 $((6000 + PER_CLI - 1)))

recv_pids=()
for k in $(seq 1 $NCLI); do
  # shellcheck disable=SC2086
  E2E_RECV_ADDRESS=:: e2e_receivers "$P-cli$k" "cli$k" $ports
  recv_pids+=("$E2E_LAST_PID")
done

if [ "$SFAM" = 6 ]; then
  src="udpsrc address=:: port=$PORT"; dest=fd00:200:1::2
else
  src="udpsrc port=$PORT"; dest=10.200.1.2
fi
e2e_ctl_start "$P-rel" relay "$src ! ebpfrelaysink name=relay mode=$MODE clients=$clients"
relay_ifs=(up0)
for k in $(seq 1 $NCLI); do relay_ifs+=("down$k"); done
if [ "$MODE" = kernel ]; then
  e2e_wait_tcx "$P-rel" 1 "${relay_ifs[@]}"
else
  e2e_wait_udp "$P-rel" $PORT
fi
sleep 1
e2e_alive "$E2E_CTL_PID" relay

e2e_log "sending $COUNT x $SIZE bytes to $dest, $NSUBS subscribers (mode=$MODE, $SET)"
e2e_send "$P-srv" "$E2E_WORK/records.bin" $SIZE $dest $PORT
sleep 1
e2e_alive "$E2E_CTL_PID" relay

stats_bad=0
kernel_total=0
user_total=0
declare -A seen=()
while read -r sub kp up p; do
  seen[$sub]=1
  if [ "$kp" = - ] || [ "$p" = - ] || [ "$up" = - ]; then
    echo "get-stats $sub lacks kernel-packets/user-packets/packets" >&2
    stats_bad=1
    continue
  fi
  kernel_total=$((kernel_total + kp))
  user_total=$((user_total + up))
  [ "$p" -eq $COUNT ] || { echo "get-stats $sub: packets=$p, sent $COUNT" >&2; stats_bad=1; }
  if [ "$MODE" = userspace ] || [ "${fam[$sub]:-}" != $SFAM ]; then
    [ "$kp" -eq 0 ] || { echo "get-stats $sub: kernel-packets=$kp" >&2; stats_bad=1; }
  else
    # kernel mode, a subscriber of the stream's family: the kernel sends
    # (the first packets may leave from userspace until its neighbour is
    # known)
    [ "$kp" -gt $((COUNT / 2)) ] || { echo "get-stats $sub: kernel-packets=$kp" >&2; stats_bad=1; }
  fi
done < <(e2e_ctl_stats_all "${subs[@]}")
for sub in "${subs[@]}"; do
  [ -n "${seen[$sub]:-}" ] || { echo "no get-stats answer for $sub" >&2; stats_bad=1; }
done

# get-stats' path: who serves each subscriber (kernel mode: the kernel
# those of the stream's family, userspace the others)
paths_bad=0
npath_kernel=0
declare -A pseen
while read -r sub path; do
  pseen[$sub]=1
  want=userspace
  [ "$MODE" = kernel ] && [ "${fam[$sub]:-}" = $SFAM ] && want=kernel
  [ "$path" = kernel ] && npath_kernel=$((npath_kernel + 1))
  [ "$path" = "$want" ] || { echo "get-stats $sub: path=$path, want $want (IPv${fam[$sub]:-?} subscriber of an IPv$SFAM stream, $MODE mode)" >&2; paths_bad=1; }
done < <(e2e_ctl_field_all path "${subs[@]}")
for sub in "${subs[@]}"; do
  [ -n "${pseen[$sub]:-}" ] || { echo "get-stats $sub: no path field" >&2; paths_bad=1; }
done

kipv6=-
if [ "$MODE" = kernel ]; then
  kipv6=$(e2e_relay_stat kernel-ipv6)
  if [ "$SFAM" = 6 ]; then
    [ "${kipv6:-0}" -ge $COUNT ] || { echo "kernel-ipv6=$kipv6, want >= $COUNT" >&2; stats_bad=1; }
  else
    [ "${kipv6:-1}" -eq 0 ] || { echo "kernel-ipv6=$kipv6, want 0" >&2; stats_bad=1; }
  fi
fi

e2e_log "stopping receivers and relay"
for pid in "${recv_pids[@]}"; do
  ebr_stop "$pid"
done
e2e_ctl_stop

received=0
bad=0
for k in $(seq 1 $NCLI); do
  for port in $ports; do
    f=$E2E_WORK/cli$k-$port.bin
    [ -e "$f" ] || : >"$f"
    e2e_check "$f" $COUNT $SIZE 2>/dev/null || bad=$((bad + 1))
    line=$(tail -n 1 "$E2E_WORK/check.log")
    received=$((received + $(sed 's/.*received=\([0-9]*\).*/\1/' <<<"$line")))
  done
done
[ $bad -eq 0 ] || grep -v 'lost=0 duplicated=0 corrupt=0' "$E2E_WORK/check.log" | sed "s|^$E2E_WORK/||" >&2
n6=0
for sub in "${subs[@]}"; do [ "${fam[$sub]}" = 4 ] || n6=$((n6 + 1)); done
echo "subscribers=$NSUBS ipv6=$n6 sent=$COUNT received=$received mode=$MODE set=$SET" \
  "kernel-packets=$kernel_total user-packets=$user_total kernel-ipv6=$kipv6" \
  "path-kernel=$npath_kernel"
[ $bad -eq 0 ] || e2e_fail "$bad of $NSUBS subscribers did not get the stream exactly once"
[ $received -eq $((NSUBS * COUNT)) ] || e2e_fail "received $received, expected $((NSUBS * COUNT))"
[ $stats_bad -eq 0 ] || e2e_fail "relay counters disagree (see above)"
[ $paths_bad -eq 0 ] || e2e_fail "get-stats path disagrees with who serves (see above)"
e2e_log PASS
