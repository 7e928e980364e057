#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# ingress-egress-poc.sh: proof that a packet the relay's TC ingress program
# clones (bpf_clone_redirect) still passes the egress hook of the interface
# it leaves by, so egress filters, shapers and counters there see every
# copy.
#
#   ingress-egress-poc.sh [-p PREFIX] [-k PACKETS]
#
# Topology of topology.sh (default prefix ebr-poc, 2 clients); the relay
# runs mode=kernel for both clients; each relay->client veth (down1, down2)
# gets a clsact egress filter that matches UDP to port 6000 and only counts:
#   tc filter add dev downK egress protocol ip prio 1 u32 \
#      match ip protocol 17 0xff match ip dport 6000 0xffff action pass
# Kernels without act_gact ("action pass") get "action mirred egress mirror"
# to a veth whose other end sits in a namespace of its own and drops
# everything: the action's counter is the count, nothing comes back.
# The server sends K datagrams; the script prints each filter's hit count
# next to K and to what each client received, and, when relay-ctl is built,
# the relay's own counters (kernel-packets must be K: otherwise the copies
# were not made by the kernel and nothing is proven). Exit 1 if any differ.
set -uo pipefail

# shellcheck source=../tests/lib/ebr.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/ebr.sh"

prefix=ebr-poc
K=20
port=5004
cport=6000
while [ $# -gt 0 ]; do
  case $1 in
    -p) prefix=$2; shift 2 ;;
    -k) K=$2; shift 2 ;;
    *) echo "usage: $0 [-p PREFIX] [-k PACKETS]" >&2; exit 2 ;;
  esac
done

ebr_have_netns || { echo "$0: needs root and 'ip netns'" >&2; exit 1; }
build=${EBR_BUILD_DIR:-$EBR_LIB_ROOT/build}
if [ -z "${GST_PLUGIN_PATH:-}" ] && [ -d "$build/gst-plugin" ]; then
  export GST_PLUGIN_PATH=$build/gst-plugin
fi
if ! gst-inspect-1.0 ebpfrelaysink >/dev/null 2>&1; then
  echo "$0: GStreamer cannot find ebpfrelaysink; build it (meson setup build &&" \
    "ninja -C build) or set GST_PLUGIN_PATH" >&2
  exit 1
fi
relay_ctl=$build/tests/relay-ctl
tcx_count=$build/tests/tcx-count

work=$(mktemp -d /tmp/ebr-poc.XXXXXX)
pids=()
sink_ns=$prefix-sink
cleanup ()
{
  [ -z "${ctl_fd:-}" ] || eval "exec $ctl_fd>&-"
  ebr_stop_all
  ebr_topology_down "$prefix"
  ebr_ns_del "$sink_ns"
  rm -rf "$work"
}
ebr_on_exit cleanup

rel=$prefix-rel
ebr_topology_up "$prefix" 2 || { echo "$0: topology failed" >&2; exit 1; }
# Every link answers (this also fills the relay's neighbour table, so even
# the first copies can be made in the kernel).
ebr_topology_check "$prefix" 2 >/dev/null || { echo "$0: topology check failed" >&2; exit 1; }

# --- the counting egress filters --------------------------------------------
match=(protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport "$cport" 0xffff)
how="action pass"
for k in 1 2; do
  tc -n "$rel" qdisc replace dev "down$k" clsact || exit 1
done
if ! tc -n "$rel" filter add dev down1 egress "${match[@]}" action pass 2>/dev/null; then
  # No act_gact in this kernel: mirror into a dead end instead.
  ebr_ns_add "$sink_ns" || exit 1
  ebr_veth "$rel" cnt0 "" "$sink_ns" cnt1 "" || exit 1
  how="action mirred egress mirror dev cnt0 (no act_gact here; cnt0's peer drops all)"
  tc -n "$rel" filter add dev down1 egress "${match[@]}" action mirred egress mirror dev cnt0 || exit 1
  tc -n "$rel" filter add dev down2 egress "${match[@]}" action mirred egress mirror dev cnt0 || exit 1
else
  tc -n "$rel" filter add dev down2 egress "${match[@]}" action pass || exit 1
fi

# hits DEV: the egress filter's action counter ("Sent B bytes N pkt").
hits ()
{
  tc -n "$rel" -s filter show dev "$1" egress \
    | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -n 1
}

# --- receivers, relay ---------------------------------------------------------
for k in 1 2; do
  ip netns exec "$prefix-cli$k" gst-launch-1.0 -q -e udpsrc port=$cport \
    ! filesink location="$work/cli$k.txt" buffer-mode=unbuffered \
    >"$work/cli$k.log" 2>&1 &
  pids+=($!)
done
clients=10.200.11.2:$cport,10.200.12.2:$cport
pipeline="udpsrc port=$port ! ebpfrelaysink name=relay mode=kernel clients=$clients"
if [ -x "$relay_ctl" ]; then
  mkfifo "$work/ctl"
  ip netns exec "$rel" "$relay_ctl" "$pipeline" <"$work/ctl" >"$work/ctl.out" 2>"$work/relay.log" &
  relay_pid=$!
  exec {ctl_fd}>"$work/ctl"
else
  # shellcheck disable=SC2086
  ip netns exec "$rel" gst-launch-1.0 $pipeline >"$work/relay.log" 2>&1 &
  relay_pid=$!
fi
pids+=("$relay_pid")

ebr_wait_relay "$relay_pid" "$work/relay.log" "$prefix" $cport 2 || exit 1
sleep 0.5

echo "== relay (mode=kernel) for $clients, in $rel"
if [ -x "$tcx_count" ]; then
  for dev in up0 down1 down2; do
    printf '   %-6s TCX %s\n' "$dev" "$(ip netns exec "$rel" "$tcx_count" "$dev")"
  done
fi
echo "== egress filter on down1, down2: u32 match udp dport $cport, $how"

# --- K datagrams from the server ------------------------------------------
before1=$(hits down1)
before2=$(hits down2)
echo "== server sends $K datagrams to 10.200.1.2:$port"
ip netns exec "$prefix-srv" bash -c "
  for i in \$(seq 1 $K); do
    printf 'poc packet %d\n' \$i >/dev/udp/10.200.1.2/$port
    sleep 0.01
  done" || { echo "$0: sending failed" >&2; exit 1; }
sleep 0.5

h1=$(( $(hits down1) - before1 ))
h2=$(( $(hits down2) - before2 ))
stats=()
if [ -n "${ctl_fd:-}" ]; then
  for k in 1 2; do
    echo "get-stats 10.200.1$k.2 $cport" >&"$ctl_fd"
  done
  sleep 0.5
  mapfile -t stats < <(grep '^get-stats' "$work/ctl.out")
fi
for pid in "${pids[@]}"; do
  [ "$pid" = "$relay_pid" ] || kill -INT "$pid" 2>/dev/null
done
sleep 0.5
r1=$(grep -c '^poc packet' "$work/cli1.txt" 2>/dev/null)
r2=$(grep -c '^poc packet' "$work/cli2.txt" 2>/dev/null)

rc=0
printf '\n   %-6s %-5s %-18s %-12s %-9s %-15s %s\n' iface sent egress-filter-hits client received relay-kernel relay-userspace
for k in 1 2; do
  h=$((k == 1 ? h1 : h2))
  r=$((k == 1 ? r1 : r2))
  kp=- up=-
  if [ ${#stats[@]} -ge $k ]; then
    kp=$(ebr_field "${stats[$((k - 1))]}" kernel-packets)
    up=$(ebr_field "${stats[$((k - 1))]}" user-packets)
  fi
  printf '   %-6s %-5s %-18s %-12s %-9s %-15s %s\n' "down$k" "$K" "$h" "10.200.1$k.2" "$r" "${kp:-?}" "${up:-?}"
  if [ "$h" -ne "$K" ] || [ "$r" -ne "$K" ]; then
    rc=1
  elif [ "$kp" != - ] && { [ "${kp:-0}" -eq 0 ] || [ $((${kp:-0} + ${up:-0})) -ne "$K" ]; }; then
    [ $rc -ne 0 ] || rc=2
  fi
done
echo
case $rc in
  0)
    if [ "$kp" = - ]; then
      echo "every copy passed the egress hook of down1 and down2 ($K of $K)" \
        "(build relay-ctl to see how many the kernel made)"
    else
      echo "PROVEN: every copy passed the egress hook of down1 and down2," \
        "and the relay's kernel made them (relay-kernel column) by cloning at ingress"
    fi
    ;;
  1) echo "MISMATCH: egress filter hits or received counts differ from $K" ;;
  2) echo "NOT PROVEN: the relay's counters do not show the kernel making these copies" ;;
esac
[ $rc -eq 0 ] || { echo "--- relay log"; cat "$work/relay.log"; } >&2
exit $rc
