#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-soak.sh: subscribers come and go by the thousand while a stream runs
# (mode=kernel). A known RTP stream (rtp-prio gen: H.264 NRI 3/2/1/0 on one
# SSRC, frame-marked packets on another, some datagrams not RTP) of COUNT
# datagrams at about 2,000 per second (60 s) goes through the relay to
#   cli1: 10 stable subscribers (clients, limits 0, 0, 0, 0, 6, 6, 6, 7, 7, 0
#         on ports 6000-6009), there from the first datagram to the last;
# while in cli2, during the stream,
# in rounds until 15 s before the stream ends (at least one: 2,000),
#   - CHURN_SIG subscribers are added and removed with the action signals
#     ("add"/"remove", BATCH at a time, ports 20000..; nftables in cli2
#     drops what reaches them, so no ICMP answers), and
#   - CHURN_SUB subscribe and unsubscribe through the subscription channel
#     (tests/tools/sub-churn: ebpfprioritysrc's client code, a socket each,
#     cookies answered, BATCH at a time, ports 30000..).
# Asserts:
#   - every stable subscriber got exactly the datagrams its limit lets
#     through, each once, in order, RTP sequence numbers contiguous per SSRC
#     (rtp-prio check, byte for byte; the first few may come from
#     userspace, before the next hop's MAC address is resolved);
#   - every churned subscriber was added (client-added) and removed
#     (client-removed), every channel subscription was accepted, and the
#     churned ones received the stream while they were there;
#   - afterwards the relay holds only the stable subscribers again (stats:
#     clients, control-subscribers), the kernel's subscriber slots in use
#     (subs map, state != empty) are back to 10, its per-SSRC stream table
#     (frame_state) holds no more entries than before the churn, and the
#     relay's resident memory grew by less than RSS_SLACK_KB over the churn
#     (it is measured after a first round of churn, so one-time allocations
#     such as the subscriber table's and GLib's do not count).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init soak

e2e_tool EBR_RTP_PRIO rtp-prio
e2e_tool EBR_SUB_CHURN sub-churn
command -v nft >/dev/null || e2e_fail "nft (nftables) not installed"
command -v bpftool >/dev/null || e2e_fail "bpftool not installed"

COUNT=${EBR_SOAK_COUNT:-120000}
SIZE=200
PORT=5004
CPORT=5005
BATCH=100
CHURN_SIG=${EBR_SOAK_SIG:-1000}
CHURN_SUB=${EBR_SOAK_SUB:-1000}
RSS_SLACK_KB=${EBR_SOAK_RSS_SLACK_KB:-2048}
E2E_PACE_US=${EBR_E2E_PACE_US:-370}
P=$E2E_PREFIX
C1=10.200.11.2 C2=10.200.12.2
LIMITS=(0 0 0 0 6 6 6 7 7 0)

ebr_topology_up "$P" 2 || e2e_fail "topology"
"$EBR_RTP_PRIO" gen "$E2E_WORK/stream.bin" "$COUNT" $SIZE || e2e_fail "rtp-prio gen"

ports=()
clients=
for i in "${!LIMITS[@]}"; do
  ports+=($((6000 + i)))
  clients+="${clients:+,}$C1:$((6000 + i))@${LIMITS[i]}"
done
e2e_receivers "$P-cli1" cli1 "${ports[@]}"
recv1=$E2E_LAST_PID
ip netns exec "$P-cli2" nft -f - <<EOF || e2e_fail "nftables rule"
table inet ebr_soak {
  chain input {
    type filter hook input priority 0;
    udp dport 20000-29999 counter drop
  }
}
EOF

caps='application/x-rtp,media=(string)video,encoding-name=(string)H264,payload=(int)96,clock-rate=(int)90000,extmap-3=(string)urn:ietf:params:rtp-hdrext:framemarking'
e2e_ctl_start "$P-rel" relay "udpsrc port=$PORT caps=\"$caps\" ! \
ebpfrelaysink name=relay mode=kernel control-port=$CPORT rtcp-port=0 \
subscriber-timeout=60 clients=$clients"
RELAY=$E2E_CTL_PID
e2e_wait_tcx "$P-rel" 1 up0 down1 down2

# The relay's maps, from its programs.
prog=$(ebr_prog_ids "$RELAY" | head -n 1)
[ -n "$prog" ] || e2e_fail "no BPF program of the relay found"
map_id ()
{
  local id
  for id in $(bpftool prog show id "$prog" -j | python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin).get("map_ids", []))))'); do
    [ "$(bpftool map show id "$id" -j | python3 -c 'import json,sys; print(json.load(sys.stdin).get("name", ""))')" = "$1" ] \
      && { echo "$id"; return 0; }
  done
  return 1
}
SUBS_MAP=$(map_id subs) || e2e_fail "no subs map"
FRAME_MAP=$(map_id frame_state) || e2e_fail "no frame_state map"

# slots_in_use: subs map entries whose state is not empty.
slots_in_use ()
{
  bpftool map dump id "$SUBS_MAP" -j | python3 -c '
import json, sys
n = 0
for e in json.load(sys.stdin):
    v = e.get("formatted", {}).get("value")
    if v is None:
        sys.exit("no BTF-formatted value in the subs map dump")
    n += v["state"] != 0
print(n)'
}
# frame_entries: entries of the per-SSRC stream table.
frame_entries ()
{
  bpftool map dump id "$FRAME_MAP" -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
rss_kb ()
{
  sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$RELAY/status"
}

# sig_churn FIRST N: N subscribers on ports FIRST.. of cli2, BATCH at a
# time, added then removed with the action signals.
sig_churn ()
{
  local first=$1 n=$2 b i cmds
  for ((b = 0; b < n; b += BATCH)); do
    cmds=()
    for ((i = b; i < b + BATCH && i < n; i++)); do
      cmds+=("add $C2 $((first + i))")
    done
    e2e_ctl_batch "${cmds[@]}"
    sleep 0.3
    cmds=()
    for ((i = b; i < b + BATCH && i < n; i++)); do
      cmds+=("remove $C2 $((first + i))")
    done
    e2e_ctl_batch "${cmds[@]}"
  done
}

e2e_log "sending $COUNT RTP datagrams, one every ~$E2E_PACE_US us (+ identity overhead: about 2,000/s)"
t0=$(e2e_now)
e2e_send_bg "$P-srv" "$E2E_WORK/stream.bin" $SIZE 10.200.1.2 $PORT
send_pid=$E2E_LAST_PID
sleep 2

# a first round (one batch each way), then the baseline
sig_churn 29000 $BATCH
ip netns exec "$P-cli2" "$EBR_SUB_CHURN" 10.200.12.1:$CPORT 39000 $BATCH $BATCH \
  >"$E2E_WORK/churn0.log" 2>&1 || e2e_fail "first channel round: $(tail -n 2 "$E2E_WORK/churn0.log")"
sleep 0.5
rss0=$(rss_kb)
slots0=$(slots_in_use)
frames0=$(frame_entries)
e2e_log "baseline: relay RSS $rss0 kB, subscriber slots in use $slots0, frame_state entries $frames0"
[ "$slots0" = ${#LIMITS[@]} ] || e2e_fail "$slots0 slots in use, expected ${#LIMITS[@]}"

e2e_log "churn: rounds of $CHURN_SIG subscribers through add/remove and $CHURN_SUB through the channel, $BATCH at a time, until the stream nears its end"
rounds=0
churn_rc=0
while ebr_running "$send_pid" \
    && awk -v a="$t0" -v b="$(e2e_now)" -v n="$COUNT" 'BEGIN { exit !(b - a < n / 2000 - 15) }'; do
  ip netns exec "$P-cli2" "$EBR_SUB_CHURN" 10.200.12.1:$CPORT 30000 "$CHURN_SUB" $BATCH \
    >"$E2E_WORK/churn.log" 2>&1 &
  churn_pid=$!
  E2E_PIDS+=("$churn_pid")
  sig_churn 20000 "$CHURN_SIG"
  wait "$churn_pid" || churn_rc=1
  grep -q "^subscribed $CHURN_SUB of $CHURN_SUB$" "$E2E_WORK/churn.log" \
    || e2e_fail "round $((rounds + 1)): not every channel subscription was accepted: $(tail -n 1 "$E2E_WORK/churn.log")"
  grep -q ' media 0$' "$E2E_WORK/churn.log" && e2e_fail "round $((rounds + 1)): a channel batch received no media"
  rounds=$((rounds + 1))
done
[ $rounds -ge 1 ] || e2e_fail "no churn round while the stream ran"
e2e_alive "$send_pid" "the sender (the churn outlasted the stream: raise COUNT)"
sleep 1
rss1=$(rss_kb)
slots1=$(slots_in_use)
frames1=$(frame_entries)
e2e_ctl stats
stats=$(grep '^stats ' <<<"$E2E_CTL_REPLY")
e2e_log "after the churn: relay RSS $rss1 kB, slots in use $slots1, frame_state entries $frames1"
e2e_wait_send "$send_pid"
t1=$(e2e_now)
sleep 1
e2e_alive "$RELAY" relay

declare -A kp=() up=()
for p in "${ports[@]}"; do
  e2e_ctl_stats "$C1" "$p"
  kp[$p]=$E2E_KP
  up[$p]=$E2E_UP
done
ebr_stop "$recv1"
e2e_ctl_stop

rate=$(awk -v n="$COUNT" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
e2e_log "the stream: $COUNT datagrams at $rate/s"

# the churn happened
[ $churn_rc -eq 0 ] || e2e_fail "the channel's churn: $(tail -n 3 "$E2E_WORK/churn.log")"
added=$(grep -c "^client-added $C2 2[0-9]*$" "$E2E_WORK/relay.out")
removed=$(grep -c "^client-removed $C2 2[0-9]*$" "$E2E_WORK/relay.out")
[ "$added" -eq $((rounds * CHURN_SIG + BATCH)) ] && [ "$removed" -eq "$added" ] \
  || e2e_fail "action signals: $added client-added, $removed client-removed, expected $((rounds * CHURN_SIG + BATCH))"
caught=$(ip netns exec "$P-cli2" nft list table inet ebr_soak | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[ "${caught:-0}" -gt 0 ] || e2e_fail "the signal-added subscribers received nothing"
e2e_log "churned: $rounds rounds, $added added and removed by signal (they received $caught datagrams), $((rounds * CHURN_SUB)) through the channel"

# back to the stable ones
[ "$(ebr_field "$stats" control-subscribers)" = 0 ] \
  || e2e_fail "control-subscribers $(ebr_field "$stats" control-subscribers) after the churn"
nclients=$(tr -d '\\' <<<"$stats" | grep -o 'host=(string)' | wc -l)
[ "$nclients" -eq ${#LIMITS[@]} ] || e2e_fail "the relay lists $nclients clients after the churn"
[ "$slots1" = "$slots0" ] || e2e_fail "subscriber slots in use: $slots0 before, $slots1 after"
[ "$frames1" -le "$frames0" ] || e2e_fail "frame_state entries: $frames0 before, $frames1 after"
growth=$((rss1 - rss0))
[ "$growth" -lt "$RSS_SLACK_KB" ] || e2e_fail "relay RSS grew by $growth kB over the churn ($rss0 -> $rss1)"
e2e_log "after: slots $slots1 (before $slots0), frame_state $frames1 (before $frames0), RSS +$growth kB"

# the stable ones got exactly their stream
for i in "${!LIMITS[@]}"; do
  p=${ports[i]}
  f=$E2E_WORK/cli1-$p.bin
  [ -e "$f" ] || : >"$f"
  if ! "$EBR_RTP_PRIO" check "$E2E_WORK/stream.bin" "$f" $SIZE "${LIMITS[i]}" \
      >/dev/null 2>>"$E2E_WORK/check.log"; then
    e2e_fail "$C1:$p (limit ${LIMITS[i]}): $(tail -n 1 "$E2E_WORK/check.log" | sed "s|$E2E_WORK/||")"
    continue
  fi
  e2e_log "$C1:$p limit ${LIMITS[i]}: $(tail -n 1 "$E2E_WORK/check.log" | sed "s|$E2E_WORK/||"), kernel ${kp[$p]} userspace ${up[$p]}"
done
e2e_log "PASS"
