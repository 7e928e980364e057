#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-cascade.sh [MODE]: two relays in a row (default mode=kernel).
#
#   srv 10.200.1.1 ─ up0 10.200.1.2  rel1  down0 10.200.2.1 ─ up0 10.200.2.2  rel2
#                                    rel1  down1 10.200.10.1 ─ cli0 10.200.10.2
#                                          rel2 down1 10.200.11.1 ─ cli1 10.200.11.2
#                                          rel2 down2 10.200.12.1 ─ cli2 10.200.12.2
#
# rel1: udpsrc port=5004 ! ebpfrelaysink clients=10.200.2.2:5006,10.200.10.2:6000
# rel2: udpsrc port=5006 ! ebpfrelaysink clients=cli1:6000,cli1:6001,cli2:6000,cli2:6001
# Every client gets every record exactly once; with mode=kernel both relays'
# counters show the kernel sent the copies. cli2:6001 is `udp-records recv`,
# which sees the sender: every copy must come from relay2's address on the
# interface it left by (10.200.12.1), UDP source port 5006 (the stream's).
set -uo pipefail

MODE=${1:-kernel}
case $MODE in kernel|userspace|auto) ;; *) echo "usage: $0 [kernel|userspace|auto]" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "cascade-$MODE"

COUNT=300
SIZE=200
P=$E2E_PREFIX
SRV=$P-srv REL1=$P-rel1 REL2=$P-rel2 CLI0=$P-cli0 CLI1=$P-cli1 CLI2=$P-cli2

for ns in "$SRV" "$REL1" "$REL2" "$CLI0" "$CLI1" "$CLI2"; do
  e2e_ns "$ns"
done
ebr_forwarding "$REL1" && ebr_forwarding "$REL2" || e2e_fail "sysctl"
ebr_veth "$SRV" eth0 10.200.1.1/24 "$REL1" up0 10.200.1.2/24 || e2e_fail "veth"
ebr_veth "$REL1" down0 10.200.2.1/24 "$REL2" up0 10.200.2.2/24 || e2e_fail "veth"
ebr_veth "$REL1" down1 10.200.10.1/24 "$CLI0" eth0 10.200.10.2/24 || e2e_fail "veth"
ebr_veth "$REL2" down1 10.200.11.1/24 "$CLI1" eth0 10.200.11.2/24 || e2e_fail "veth"
ebr_veth "$REL2" down2 10.200.12.1/24 "$CLI2" eth0 10.200.12.2/24 || e2e_fail "veth"
ebr_default_route "$SRV" 10.200.1.2
ebr_default_route "$REL2" 10.200.2.1
ebr_default_route "$CLI0" 10.200.10.1
ebr_default_route "$CLI1" 10.200.11.1
ebr_default_route "$CLI2" 10.200.12.1

e2e_gen "$E2E_WORK/records.bin" $COUNT $SIZE

e2e_receivers "$CLI0" cli0 6000
r0=$E2E_LAST_PID
e2e_receivers "$CLI1" cli1 6000 6001
r1=$E2E_LAST_PID
e2e_receivers "$CLI2" cli2 6000
r2=$E2E_LAST_PID
e2e_bg "$CLI2" recv-src "$EBR_UDP_RECORDS" recv 6001 "$E2E_WORK/cli2-6001.bin" $COUNT 5000
rsrc=$E2E_LAST_PID
e2e_wait_udp "$CLI2" 6001

# relay2 first, so relay1's first copies find it listening.
e2e_ctl_start "$REL2" relay2 "udpsrc port=5006 ! ebpfrelaysink name=relay \
mode=$MODE clients=10.200.11.2:6000,10.200.11.2:6001,10.200.12.2:6000,10.200.12.2:6001"
e2e_ctl_start "$REL1" relay1 "udpsrc port=5004 ! ebpfrelaysink name=relay \
mode=$MODE clients=10.200.2.2:5006,10.200.10.2:6000"
if [ "$MODE" = kernel ]; then
  e2e_wait_tcx "$REL2" 1 up0 down1 down2
  e2e_wait_tcx "$REL1" 1 up0 down0 down1
fi
sleep 1
alive ()
{
  e2e_alive "${E2E_CTL_PIDS[relay1]}" relay1
  e2e_alive "${E2E_CTL_PIDS[relay2]}" relay2
}
alive

e2e_log "sending $COUNT x $SIZE bytes through two relays (mode=$MODE)"
e2e_send "$SRV" "$E2E_WORK/records.bin" $SIZE 10.200.1.2 5004
sleep 1
alive

rc=0
# Who sent what: kernel-packets must be there in mode=kernel, and every
# copy accounted for.
stat_check ()
{
  local relay=$1 host=$2 port=$3
  e2e_ctl_select "$relay"
  e2e_ctl_stats "$host" "$port"
  e2e_log "$relay -> $host:$port: $E2E_STATS_LINE"
  if [ "$MODE" = kernel ] && { [ -z "$E2E_KP" ] || [ "$E2E_KP" -eq 0 ]; }; then
    echo "$relay's kernel sent nothing to $host:$port" >&2
    rc=1
  fi
  if [ "${E2E_P:-0}" -ne $COUNT ]; then
    echo "$relay counts packets=${E2E_P:-?} to $host:$port, $COUNT were sent" >&2
    rc=1
  fi
}
stat_check relay1 10.200.2.2 5006
stat_check relay1 10.200.10.2 6000
stat_check relay2 10.200.11.2 6000
stat_check relay2 10.200.11.2 6001
stat_check relay2 10.200.12.2 6000
stat_check relay2 10.200.12.2 6001

ebr_stop "$r0"
ebr_stop "$r1"
ebr_stop "$r2"
e2e_ctl_select relay1
e2e_ctl_stop
e2e_ctl_select relay2
e2e_ctl_stop

wait "$rsrc" || { echo "udp-records recv failed" >&2; rc=1; }
senders=$(grep '^from ' "$E2E_WORK/recv-src.log")
e2e_log "cli2:6001 received from: $senders"
if [ "$senders" != "from 10.200.12.1:5006 datagrams=$COUNT" ]; then
  echo "copies to 10.200.12.2:6001 did not all come from 10.200.12.1:5006" >&2
  rc=1
fi
for f in cli0-6000 cli1-6000 cli1-6001 cli2-6000 cli2-6001; do
  e2e_check "$E2E_WORK/$f.bin" $COUNT $SIZE || { echo "$f did not get every record once" >&2; rc=1; }
done
[ $rc -eq 0 ] || e2e_fail "cascade"
e2e_log PASS
