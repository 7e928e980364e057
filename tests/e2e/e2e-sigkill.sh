#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-sigkill.sh: a relay killed with SIGKILL leaves nothing in the kernel,
# and relays on different ports in one namespace coexist, whichever comes
# first in the interfaces' TCX chains.
#
#  1. relay A (gst-launch; port 5004 -> cli1:6000, cli2:6000), mode=kernel:
#     one TCX ingress program on each relay interface (up0, down1, down2).
#  2. relay B (relay-ctl; port 5005 -> cli1:7000, cli2:7000), same
#     namespace: two programs on each interface, B's after A's.
#  3. streams A (200-byte records) and B (240-byte records) at once: each
#     client set gets its own stream only, every record once (a datagram of
#     the other stream would break the record framing and show as corrupt),
#     and B's kernel sent its copies (A's program let B's packets through).
#  4. kill -9 A: one program left on each interface, and every BPF program
#     A held is gone from the kernel, not just detached.
#  5. relay A2 (relay-ctl; port 5004 as A), now after B in the chains; both
#     streams again: all delivered, A2's kernel sent (B's program let A2's
#     packets through), B still forwards.
#  6. kill -9 B, then kill -9 A2: 1, then 0 programs on each interface; their
#     programs unloaded.
#
# e2e-sigkill.sh ipv6: the same with both streams and every subscriber in
# IPv6 (the kernel makes the v6 copies).
set -uo pipefail

FAMILY=${1:-ipv4}
case $FAMILY in ipv4|ipv6) ;; *) echo "usage: $0 [ipv6]" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "sigkill-$FAMILY"

command -v bpftool >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v bpftool >/dev/null || e2e_fail "bpftool not installed"

COUNT=300
SIZE_A=200
SIZE_B=240
P=$E2E_PREFIX
RELAY_IFS=(up0 down1 down2)

ebr_topology_up "$P" 2 || e2e_fail "topology"
H1=10.200.11.2 H2=10.200.12.2 DEST=10.200.1.2 SRC_ADDR=
if [ "$FAMILY" = ipv6 ]; then
  ebr_topology_v6 "$P" 2 || e2e_fail "IPv6 topology"
  H1=fd00:200:11::2 H2=fd00:200:12::2 DEST=fd00:200:1::2 SRC_ADDR="address=::"
  export E2E_RECV_ADDRESS=::
fi
# clients entries (an IPv6 address in brackets)
sub () { if [ "$FAMILY" = ipv6 ]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }
e2e_gen "$E2E_WORK/a.bin" $COUNT $SIZE_A
e2e_gen "$E2E_WORK/b.bin" $COUNT $SIZE_B

# relay_ingress_ids_of PID: relay_ingress programs that bpftool attributes
# to PID (needs a bpftool built with pid iterators; empty otherwise).
relay_ingress_ids_of ()
{
  bpftool -j prog show 2>/dev/null | jq -r --argjson pid "$1" \
    '.[] | select(.name == "relay_ingress") | select(any(.pids[]?; .pid == $pid)) | .id'
}

# none_loaded IDS...: no BPF program of IDS is loaded; those that are go
# to LOADED (" ID ...").
none_loaded ()
{
  local id
  LOADED=
  for id in "$@"; do
    bpftool prog show id "$id" >/dev/null 2>&1 && LOADED="$LOADED $id"
  done
  [ -z "$LOADED" ]
}

# assert_gone WHAT PID IDS...: after PID's death, none of IDS exists and
# bpftool attributes no relay_ingress to PID.
assert_gone ()
{
  local what=$1 pid=$2 id left
  shift 2
  ebr_until 50 none_loaded "$@"
  left=$LOADED
  [ -z "$left" ] || e2e_fail "$what: BPF program(s)$left still loaded after kill -9: $(for id in $left; do bpftool prog show id "$id" | head -n 1; done)"
  left=$(relay_ingress_ids_of "$pid")
  [ -z "$left" ] || e2e_fail "$what: bpftool lists relay_ingress held by pid $pid: $left"
}

start_relay ()
{
  local name=$1 port=$2 dport=$3
  # (the two streams' ports are adjacent: no RTCP port, which would be
  # the stream's port + 1)
  e2e_bg "$P-rel" "$name" gst-launch-1.0 udpsrc $SRC_ADDR port="$port" \
    ! ebpfrelaysink mode=kernel rtcp-port=0 \
    clients="$(sub $H1 "$dport"),$(sub $H2 "$dport")"
}

# start_relay_ctl NAME PORT DPORT: the same relay under relay-ctl (so its
# counters can be read); sets E2E_CTL_PID.
start_relay_ctl ()
{
  local name=$1 port=$2 dport=$3
  e2e_ctl_start "$P-rel" "$name" "udpsrc $SRC_ADDR port=$port ! ebpfrelaysink \
name=relay mode=kernel rtcp-port=0 clients=$(sub $H1 "$dport"),$(sub $H2 "$dport")"
}

# round NAME: both streams at once to fresh receivers; every client gets
# its two streams exactly once.
round ()
{
  local name=$1 k r1 r2 sa sb rc=0
  e2e_receivers "$P-cli1" "$name-cli1" 6000 7000
  r1=$E2E_LAST_PID
  e2e_receivers "$P-cli2" "$name-cli2" 6000 7000
  r2=$E2E_LAST_PID
  e2e_log "$name: sending stream A ($COUNT x $SIZE_A) and stream B ($COUNT x $SIZE_B) at once"
  e2e_send_bg "$P-srv" "$E2E_WORK/a.bin" $SIZE_A $DEST 5004 "$name-send-a"
  sa=$E2E_LAST_PID
  e2e_send_bg "$P-srv" "$E2E_WORK/b.bin" $SIZE_B $DEST 5005 "$name-send-b"
  sb=$E2E_LAST_PID
  e2e_wait_send "$sa"
  e2e_wait_send "$sb"
  sleep 1
  ebr_stop "$r1"
  ebr_stop "$r2"
  for k in 1 2; do
    e2e_check "$E2E_WORK/$name-cli$k-6000.bin" $COUNT $SIZE_A || { echo "cli$k: stream A not exactly once" >&2; rc=1; }
    e2e_check "$E2E_WORK/$name-cli$k-7000.bin" $COUNT $SIZE_B || { echo "cli$k: stream B not exactly once" >&2; rc=1; }
  done
  [ $rc -eq 0 ] || e2e_fail "$name: two relays in one namespace"
}

# kernel_sent CTLNAME DPORT: the relay under relay-ctl CTLNAME had its
# kernel send to both its clients.
kernel_sent ()
{
  local ctl=$1 dport=$2 host
  e2e_ctl_select "$ctl"
  for host in $H1 $H2; do
    e2e_ctl_stats $host "$dport"
    e2e_log "$ctl -> $host:$dport: kernel-packets=${E2E_KP:-?} user-packets=${E2E_UP:-?}"
    [ -n "$E2E_KP" ] && [ "$E2E_KP" -gt 0 ] \
      || e2e_fail "$ctl's kernel sent nothing to $host:$dport: $E2E_STATS_LINE"
  done
}

# kill_relay WHAT PID IDS...: kill -9, then its programs must be gone.
kill_relay ()
{
  local what=$1 pid=$2
  shift 2
  e2e_alive "$pid" "$what"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  assert_gone "$what" "$pid" "$@"
}

# --- 1. relay A ------------------------------------------------------------
start_relay relayA 5004 6000
pid_a=$E2E_LAST_PID
e2e_wait_tcx "$P-rel" 1 "${RELAY_IFS[@]}"
e2e_alive "$pid_a" "relay A"
ids_a=$(ebr_prog_ids "$pid_a")
[ -n "$ids_a" ] || e2e_fail "relay A holds no BPF program fd"
for ifc in "${RELAY_IFS[@]}"; do
  tcx_ids=$(ip netns exec "$P-rel" "$EBR_TCX_COUNT" "$ifc" --ids | sed -n 's/^ingress-ids://p')
  for id in $tcx_ids; do
    grep -qx "$id" <<<"$ids_a" || e2e_fail "program $id on $ifc is not relay A's ($ids_a)"
  done
done
e2e_log "relay A (pid $pid_a) attached; holds program(s) $(echo $ids_a)"
bpftool prog show | grep -A1 -E "^($(echo $ids_a | tr ' ' '|')): " | sed 's/^/  /'

# --- 2. relay B ------------------------------------------------------------
start_relay_ctl relayB 5005 7000
pid_b=$E2E_CTL_PID
e2e_wait_tcx "$P-rel" 2 "${RELAY_IFS[@]}"
ids_b=$(ebr_prog_ids "$pid_b")
[ -n "$ids_b" ] || e2e_fail "relay B holds no BPF program fd"
e2e_log "relay B (pid $pid_b) attached; holds program(s) $(echo $ids_b)"
sleep 1

# --- 3. both streams ---------------------------------------------------------
round round1
kernel_sent relayB 7000

# --- 4. kill -9 A ----------------------------------------------------------
# shellcheck disable=SC2086
kill_relay "relay A" "$pid_a" $ids_a
e2e_wait_tcx "$P-rel" 1 "${RELAY_IFS[@]}"
e2e_log "relay A killed: 1 program left per interface, A's programs unloaded"

# --- 5. relay A2 after B -----------------------------------------------------
start_relay_ctl relayA2 5004 6000
pid_a2=$E2E_CTL_PID
e2e_wait_tcx "$P-rel" 2 "${RELAY_IFS[@]}"
ids_a2=$(ebr_prog_ids "$pid_a2")
e2e_log "relay A2 (pid $pid_a2) attached; holds program(s) $(echo $ids_a2)"
sleep 1
round round2
kernel_sent relayA2 6000
kernel_sent relayB 7000

# --- 6. kill -9 B, then A2 ---------------------------------------------------
# shellcheck disable=SC2086
kill_relay "relay B" "$pid_b" $ids_b
e2e_wait_tcx "$P-rel" 1 "${RELAY_IFS[@]}"
# shellcheck disable=SC2086
kill_relay "relay A2" "$pid_a2" $ids_a2
e2e_wait_tcx "$P-rel" 0 "${RELAY_IFS[@]}"
for ifc in "${RELAY_IFS[@]}"; do
  left=$(ip netns exec "$P-rel" "$EBR_TCX_COUNT" "$ifc")
  e2e_log "$ifc after the kills: $left"
  [ "$left" = "ingress=0 egress=0" ] || e2e_fail "$ifc still has TCX programs: $left"
done
e2e_log PASS
