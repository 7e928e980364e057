#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-anyup.sh local|queue: ebpfrelaysink fed by something other than a
# udpsrc right upstream (issue 13 item 1), in mode=kernel, to three
# viewers at limits 0, 6 and 7 (cli1 6000@0 and 6007@7, cli2 6006@6):
#   local  a local sender pipeline in the relay's namespace: the project's
#          RTP test stream (rtp-prio gen: H.264 NRI 3/2/1/0, frame marked
#          packets, some not RTP) read by filesrc, paced by identity, caps
#          from a capsfilter; no udpsrc anywhere. The relay sends each
#          buffer once to 127.0.0.1 on lo, where its TC program makes the
#          copies: local-sent = kernel-local = COUNT, every copy counted in
#          kernel-packets, user-packets 0, local-userspace 0.
#   queue  udpsrc ! queue ! ebpfrelaysink, the stream from the server
#          namespace: the ingress fast path (program on up0 and the downs,
#          not on lo; kernel-matched = COUNT, local-sent 0).
# Each viewer gets exactly its packets (rtp-prio check: the relay's
# classifier, contiguous sequence numbers per SSRC), and the kernel sent
# every copy. On main (before item 1) the local row delivers 0 of COUNT.
# The relay's veths have transmit checksum offload off: each copy's UDP
# checksum is completed in software as it leaves (a datagram from lo is
# CHECKSUM_PARTIAL: the rewrites must keep its pseudo-header sum right),
# and the viewers' stack verifies it: a wrong one is dropped, counted in
# their Udp InCsumErrors, which must stay 0.
set -uo pipefail

MODE=${1:-local}
case $MODE in local|queue) ;; *) echo "usage: $0 local|queue" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "anyup-$MODE"

e2e_tool EBR_RTP_PRIO rtp-prio
e2e_tool EBR_LAUNCH_STATS launch-stats

COUNT=400
SIZE=200
PORT=5004
E2E_PACE_US=${EBR_E2E_PACE_US:-2000}
P=$E2E_PREFIX
C1=10.200.11.2 C2=10.200.12.2
SUBS=("$C1 6000 0" "$C2 6006 6" "$C1 6007 7")

ebr_topology_up "$P" 2 || e2e_fail "topology"
for d in down1 down2; do
  ip netns exec "$P-rel" ethtool -K $d tx off >/dev/null 2>&1 \
    || e2e_fail "ethtool -K $d tx off (is ethtool installed? scripts/deps.sh)"
done
csum_errors () {
  ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
    else print $c["InCsumErrors"] }' /proc/net/snmp
}
"$EBR_RTP_PRIO" gen "$E2E_WORK/stream.bin" $COUNT $SIZE || e2e_fail "rtp-prio gen"
e2e_receivers "$P-cli1" cli1 6000 6007
recv1=$E2E_LAST_PID
e2e_receivers "$P-cli2" cli2 6006
recv2=$E2E_LAST_PID
# The viewers' MACs known before the first packet: every copy is the
# kernel's from the start (no hand-over from userspace to count).
for h in $C1 $C2; do
  ip netns exec "$P-rel" ping -c 1 -W 2 "$h" >/dev/null || e2e_fail "ping $h"
done

clients=
for s in "${SUBS[@]}"; do
  read -r host port limit <<<"$s"
  clients+="${clients:+,}$host:$port@$limit"
done
caps='application/x-rtp,media=(string)video,encoding-name=(string)H264,payload=(int)96,clock-rate=(int)90000,extmap-3=(string)urn:ietf:params:rtp-hdrext:framemarking'
sink="ebpfrelaysink name=relay mode=kernel rtcp-port=0 clients=$clients"

if [ "$MODE" = local ]; then
  e2e_bg "$P-rel" relay "$EBR_LAUNCH_STATS" filesrc \
    location="$E2E_WORK/stream.bin" blocksize=$SIZE \
    ! identity sleep-time="$E2E_PACE_US" ! capsfilter caps="$caps" \
    ! $sink port=$PORT
  relay=$E2E_LAST_PID
  e2e_log "local sender: $COUNT buffers through ebpfrelaysink (no udpsrc)"
  for i in $(seq 300); do
    ebr_running "$relay" || break
    sleep 0.1
  done
  ebr_running "$relay" && e2e_fail "the local pipeline did not end"
else
  e2e_bg "$P-rel" relay "$EBR_LAUNCH_STATS" udpsrc port=$PORT caps="$caps" \
    ! queue ! $sink
  relay=$E2E_LAST_PID
  e2e_wait_tcx "$P-rel" 1 up0 down1 down2
  e2e_log "sending $COUNT datagrams from the server to udpsrc ! queue ! ebpfrelaysink"
  e2e_send "$P-srv" "$E2E_WORK/stream.bin" $SIZE 10.200.1.2 $PORT
  sleep 1
  kill -INT "$relay"
  for i in $(seq 100); do
    ebr_running "$relay" || break
    sleep 0.1
  done
fi
sleep 0.5
ebr_stop "$recv1"
ebr_stop "$recv2"

# (the clients' structures are escaped inside the array: unescaped here)
stats=$(grep '^stats relay ' "$E2E_WORK/relay.log" | tail -n 1 | tr -d '\\')
[ -n "$stats" ] || e2e_fail "no stats from the relay (see relay.log)"
field () { ebr_field "$stats" "$1"; }
# per client, in the clients' order
mapfile -t kp < <(grep -o 'kernel-packets=(guint64)[0-9]*' <<<"$stats" | sed 's/.*)//')
mapfile -t up < <(grep -o 'user-packets=(guint64)[0-9]*' <<<"$stats" | sed 's/.*)//')

rc=0
summary=
copies=0
for i in "${!SUBS[@]}"; do
  read -r host port limit <<<"${SUBS[$i]}"
  case $host in $C1) f=cli1-$port ;; *) f=cli2-$port ;; esac
  f=$E2E_WORK/$f.bin
  [ -e "$f" ] || : >"$f"
  got=$(( $(stat -c %s "$f") / SIZE ))
  copies=$((copies + got))
  summary+=" $limit:$got"
  if ! "$EBR_RTP_PRIO" check "$E2E_WORK/stream.bin" "$f" $SIZE "$limit" >/dev/null 2>>"$E2E_WORK/check.log"; then
    echo "$host:$port@$limit did not get exactly its packets ($got records): $(tail -n 1 "$E2E_WORK/check.log" | sed "s|$E2E_WORK/||")" >&2
    rc=1
  fi
  if [ "${kp[$i]:-0}" != "$got" ] || [ "${up[$i]:-x}" != 0 ]; then
    echo "$host:$port@$limit: received $got, kernel-packets=${kp[$i]:-?} user-packets=${up[$i]:-?}: not every copy the kernel's" >&2
    rc=1
  fi
done
e2e_log "received (limit:count):$summary; copies=$copies"
ifaces=$(grep -o 'interfaces=(string)"[^"]*"' <<<"$stats" | sed 's/^[^"]*"//; s/"$//')
e2e_log "relay: interfaces=$ifaces buffers-in=$(field buffers-in) local-sent=$(field local-sent) kernel-local=$(field kernel-local) local-userspace=$(field local-userspace) kernel-matched=$(field kernel-matched)"

if [ "$MODE" = local ]; then
  # userspace sent each buffer once, the kernel made every copy
  [ "$(field local-sent)" = $COUNT ] || { echo "local-sent=$(field local-sent), want $COUNT (once per buffer)" >&2; rc=1; }
  [ "$(field kernel-local)" = $COUNT ] || { echo "kernel-local=$(field kernel-local), want $COUNT" >&2; rc=1; }
  [ "$(field local-userspace)" = 0 ] || { echo "local-userspace=$(field local-userspace): buffers sent from userspace" >&2; rc=1; }
  [ "$ifaces" = "lo (tcx)" ] || [ "$ifaces" = "lo (tc)" ] || { echo "the program is not on lo: $ifaces" >&2; rc=1; }
else
  [ "$(field kernel-matched)" = $COUNT ] || { echo "kernel-matched=$(field kernel-matched), want $COUNT" >&2; rc=1; }
  [ "$(field local-sent)" = 0 ] || { echo "local-sent=$(field local-sent) with udpsrc ! queue upstream" >&2; rc=1; }
  if grep -q '\blo\b' <<<"$ifaces"; then
    echo "udpsrc ! queue: attached to lo, not the ingress path" >&2; rc=1
  fi
fi
[ "$copies" -gt $COUNT ] || { echo "only $copies copies in all" >&2; rc=1; }
for ns in cli1 cli2; do
  e=$(csum_errors "$P-$ns")
  [ "$e" = 0 ] || { echo "$ns: Udp InCsumErrors=$e: copies with a wrong UDP checksum" >&2; rc=1; }
done

echo "mode=$MODE sent=$COUNT received (limit:count):$summary"
[ $rc -eq 0 ] || e2e_fail "any upstream ($MODE)"
e2e_log PASS
