#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-tree.sh [MODE]: a relay tree (issue 13 item 4). relay2 subscribes at
# relay1 as any viewer does, with an ebpfprioritysrc, and fans out what it
# gets (default mode=kernel at relay2; relay1 always kernel):
#
#   srv 10.200.1.1 ─ up0 10.200.1.2  rel1  down0 10.200.2.1 ─ up0 10.200.2.2  rel2
#                                          rel2 down1 10.200.11.1 ─ cli1 10.200.11.2
#                                          rel2 down2 10.200.12.1 ─ cli2 10.200.12.2
#
# rel1: udpsrc port=5004 ! ebpfrelaysink control-port=5005
# rel2: ebpfprioritysrc port=5006 relay=10.200.2.1:5005 ! ebpfrelaysink
#       control-port=5007 mode=MODE
# cli1, cli2: ebpfprioritysrc relay=<rel2>:5007 at limits 6 and 0.
#
# Asserts: relay2's subscription at relay1 follows relay2's own
# subscribers, the lowest of their limits (7 with none; 6 with cli1; 0
# once cli2 joins; 6 again when cli2 leaves), as relay1's get-stats shows
# it and relay2's stats (upstream-limit) say; cli1 gets exactly the packets
# of priority >= 6 and cli2 every packet (control-stub check, from the
# stream's first key frame); in kernel mode relay2's kernel sent the
# copies (kernel-packets). Then relay2 with follow-limits=false: its
# subscription stays at the ebpfprioritysrc's own priority-limit.
set -uo pipefail

MODE=${1:-kernel}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 [kernel|userspace]" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "tree-$MODE"

e2e_tool EBR_CONTROL_STUB control-stub
STUB=$EBR_CONTROL_STUB
COUNT=400 PKT=32
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
E2E_PACE_US=${EBR_E2E_PACE_US:-3000}
P=$E2E_PREFIX
SRV=$P-srv REL1=$P-rel1 REL2=$P-rel2 CLI1=$P-cli1 CLI2=$P-cli2

for ns in "$SRV" "$REL1" "$REL2" "$CLI1" "$CLI2"; do
  e2e_ns "$ns"
done
ebr_forwarding "$REL1" && ebr_forwarding "$REL2" || e2e_fail "sysctl"
ebr_veth "$SRV" eth0 10.200.1.1/24 "$REL1" up0 10.200.1.2/24 || e2e_fail "veth"
ebr_veth "$REL1" down0 10.200.2.1/24 "$REL2" up0 10.200.2.2/24 || e2e_fail "veth"
ebr_veth "$REL2" down1 10.200.11.1/24 "$CLI1" eth0 10.200.11.2/24 || e2e_fail "veth"
ebr_veth "$REL2" down2 10.200.12.1/24 "$CLI2" eth0 10.200.12.2/24 || e2e_fail "veth"
ebr_default_route "$SRV" 10.200.1.2
ebr_default_route "$REL2" 10.200.2.1
ebr_default_route "$CLI1" 10.200.11.1
ebr_default_route "$CLI2" 10.200.12.1
"$STUB" gen "$E2E_WORK/stream.bin" "$COUNT" || e2e_fail "control-stub gen"

# upstream_limit: relay2's limit as relay1 has it (its get-stats entry),
# empty while relay1 does not have relay2
R1=relay1 R2=relay2
upstream_limit ()
{
  e2e_ctl_select $R1
  e2e_ctl get-stats 10.200.2.2 5006
  grep '^get-stats ' <<<"$E2E_CTL_REPLY" | grep -oE 'priority-limit=\(int\)[0-9]+' \
    | grep -oE '[0-9]+$'
}

# wait_upstream_limit L WHAT: until relay1 has relay2 at limit L (10 s)
wait_upstream_limit ()
{
  local i got
  for i in $(seq 100); do
    got=$(upstream_limit)
    [ "$got" = "$1" ] && { e2e_log "relay1 has relay2 at limit $1 ($2)"; return 0; }
    sleep 0.1
  done
  e2e_fail "relay1 has relay2 at limit '${got:-none}', not $1 ($2)"
}

# relay2_stat NAME: a field of relay2's element stats
relay2_stat ()
{
  e2e_ctl_select $R2
  e2e_ctl stats
  tr -d '\\' <<<"$E2E_CTL_REPLY" | grep -oE "(^|[ ,])$1=\([a-z0-9]*\)-?[0-9]+" | head -n 1 \
    | grep -oE -- '-?[0-9]+$'
}

viewer ()     # viewer NS NAME LIMIT
{
  e2e_bg "$1" "$2" gst-launch-1.0 -e ebpfprioritysrc port=6000 \
    relay=10.200.$([ "$2" = cli1 ] && echo 11 || echo 12).1:5007 \
    priority-limit="$3" caps="$CAPS" ! filesink location="$E2E_WORK/$2.bin" \
    buffer-mode=unbuffered
}

e2e_ctl_start "$REL1" relay1 "udpsrc port=5004 caps=\"$CAPS\" ! ebpfrelaysink \
name=relay mode=kernel control-port=5005 rewrite-seq=false subscriber-timeout=3"
e2e_ctl_start "$REL2" relay2 "ebpfprioritysrc port=5006 relay=10.200.2.1:5005 \
caps=\"$CAPS\" ! ebpfrelaysink name=relay mode=$MODE control-port=5007 \
rewrite-seq=false subscriber-timeout=3"
[ "$MODE" = kernel ] && e2e_wait_tcx "$REL2" 1 up0 down1 down2

# no subscriber at relay2: it asks relay1 for the least (7)
wait_upstream_limit 7 "relay2 has no subscriber"
[ "$(relay2_stat upstream-limit)" = 7 ] || e2e_fail "relay2's stats: upstream-limit is not 7"

viewer "$CLI1" cli1 6
cli1=$E2E_LAST_PID
wait_upstream_limit 6 "cli1 at 6 subscribed at relay2"
viewer "$CLI2" cli2 0
cli2=$E2E_LAST_PID
wait_upstream_limit 0 "cli2 at 0 joined"
[ "$(relay2_stat upstream-limit)" = 0 ] || e2e_fail "relay2's stats: upstream-limit is not 0"

e2e_log "sending $COUNT packets through the tree (relay2 mode=$MODE)"
e2e_send_bg "$SRV" "$E2E_WORK/stream.bin" $PKT 10.200.1.2 5004
e2e_wait_send "$E2E_LAST_PID"
sleep 1
e2e_alive "${E2E_CTL_PIDS[relay1]}" relay1
e2e_alive "${E2E_CTL_PIDS[relay2]}" relay2
e2e_ctl_select relay2
e2e_ctl stats
stats2=$E2E_CTL_REPLY

ebr_stop "$cli2"
wait_upstream_limit 6 "cli2 left"
changes=$(relay2_stat upstream-limit-changes)
ebr_stop "$cli1"
wait_upstream_limit 7 "cli1 left"
e2e_ctl_select relay2
e2e_ctl_stop
e2e_ctl_select relay1
e2e_ctl_stop

rc=0
"$STUB" check "$E2E_WORK/cli1.bin" $COUNT 6 gate 2>"$E2E_WORK/check1.log" \
  || { echo "cli1 did not get exactly the packets of priority >= 6: $(cat "$E2E_WORK/check1.log")" >&2; rc=1; }
"$STUB" check "$E2E_WORK/cli2.bin" $COUNT 0 gate 2>"$E2E_WORK/check2.log" \
  || { echo "cli2 did not get exactly every packet: $(cat "$E2E_WORK/check2.log")" >&2; rc=1; }
e2e_log "cli1: $(cat "$E2E_WORK/check1.log" | tail -n 1); cli2: $(cat "$E2E_WORK/check2.log" | tail -n 1)"
[ "${changes:-0}" -ge 3 ] \
  || { echo "relay2 changed its upstream limit ${changes:-?} times, not >= 3 (7, 6, 0, 6)" >&2; rc=1; }
if [ "$MODE" = kernel ]; then
  tr -d '\\' <<<"$stats2" | grep -qE 'kernel-packets=\(guint64\)[1-9]' \
    || { echo "kernel mode, but relay2's kernel sent nothing: $stats2" >&2; rc=1; }
else
  tr -d '\\' <<<"$stats2" | grep -qE 'kernel-packets=\(guint64\)0[,;]' \
    || { echo "userspace mode, but relay2's kernel sent (or no kernel-packets field): $stats2" >&2; rc=1; }
  tr -d '\\' <<<"$stats2" | grep -qE 'kernel-packets=\(guint64\)[1-9]' \
    && { echo "userspace mode, but relay2's kernel sent: $stats2" >&2; rc=1; }
fi

# follow-limits=false: relay2's subscription is its ebpfprioritysrc's own
R1=relay1b R2=relay2b
e2e_ctl_start "$REL1" relay1b "udpsrc port=5004 caps=\"$CAPS\" ! ebpfrelaysink \
name=relay mode=kernel control-port=5005 rewrite-seq=false subscriber-timeout=3"
e2e_ctl_start "$REL2" relay2b "ebpfprioritysrc port=5006 relay=10.200.2.1:5005 \
priority-limit=2 caps=\"$CAPS\" ! ebpfrelaysink name=relay mode=$MODE \
control-port=5007 follow-limits=false"
wait_upstream_limit 2 "follow-limits=false: the ebpfprioritysrc's own limit"
[ "$(relay2_stat upstream-limit)" = -1 ] \
  || { echo "follow-limits=false, but relay2's stats say upstream-limit $(relay2_stat upstream-limit)" >&2; rc=1; }
e2e_ctl_select relay2b
e2e_ctl_stop
e2e_ctl_select relay1b
e2e_ctl_stop

[ $rc -eq 0 ] && e2e_log "PASS: relay tree ($MODE)"
exit $rc
