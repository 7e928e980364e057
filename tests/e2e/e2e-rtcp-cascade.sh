#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-rtcp-cascade.sh [MODE]: the feedback plane (RTCP) through two relays
# in a row (default mode=kernel):
#
#   srv 10.200.1.1 ─ up0 10.200.1.2  relayA  down0 10.200.2.1 ─ up0 10.200.2.2  relayB
#                                    relayA  down1 10.200.10.1 ─ cli0 10.200.10.2
#                                            relayB down1 10.200.11.1 ─ cli 10.200.11.2
#
#   srv:    rtpbin + x264enc: RTP to A's 5004, RTCP to A's rtcp-port 5005 (a
#           tee copies it to a local capture, 5099); A's RTCP to the
#           sender is captured at upstream-rtcp=10.200.1.1:5007;
#   relayA: udpsrc 5004 ! ebpfrelaysink clients=10.200.2.2:5006,cli0:7000
#           upstream-rtcp=10.200.1.1:5007 (rtcp-port 5005): relay B is its
#           subscriber, so A's SRs go to B's 5007, B's rtcp-port;
#   cli0:   a viewer of A flooding PLIs too (A's own throttle);
#   relayB: udpsrc 5006 ! ebpfrelaysink clients=cli:6000,cli:7000,...
#           upstream-rtcp=10.200.2.1:5005 (A's rtcp-port; rtcp-port 5007);
#   cli:    6001 captures the SRs B sends down (rtcp-tool listen); FLOOD
#           subscribers at 7000, 7002, ... send PLIs from their media
#           port + 1 every 100 ms (rtcp-tool flood).
# Asserts:
#   1. SRs reach the viewer through both relays with the sender's SSRC,
#      NTP and RTP timestamps (at least two);
#   2. the viewers' PLI flood (FLOOD x 10/s for 3 s at B, 10/s at A from
#      cli0) reaches the sender as at least 3 and at most 2 per second (+2)
#      PLIs about the stream's SSRC; relay A got at most that many from
#      relay B (each hop throttles: B lets through at most ~2/s, and A
#      at most ~2/s of B's and cli0's together);
#   3. both relays' RRs go up: A's about the sender's SSRC at the sender,
#      B's attributed to B at A (A's get-stats of 10.200.2.2:5006 shows
#      rtcp-received > 0).
set -uo pipefail

MODE=${1:-kernel}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 [kernel|userspace]" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "rtcp-cascade-$MODE"

for e in rtpbin x264enc rtph264pay videotestsrc tee; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
TOOL="python3 $(dirname "${BASH_SOURCE[0]}")/rtcp-tool.py"
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
FLOOD=4
SECS=30
P=$E2E_PREFIX
SRV=$P-srv RELA=$P-rela RELB=$P-relb CLI=$P-cli CLI0=$P-cli0

for ns in "$SRV" "$RELA" "$RELB" "$CLI" "$CLI0"; do
  e2e_ns "$ns"
done
ebr_forwarding "$RELA" && ebr_forwarding "$RELB" || e2e_fail "sysctl"
ebr_veth "$SRV" eth0 10.200.1.1/24 "$RELA" up0 10.200.1.2/24 || e2e_fail "veth"
ebr_veth "$RELA" down0 10.200.2.1/24 "$RELB" up0 10.200.2.2/24 || e2e_fail "veth"
ebr_veth "$RELA" down1 10.200.10.1/24 "$CLI0" eth0 10.200.10.2/24 || e2e_fail "veth"
ebr_veth "$RELB" down1 10.200.11.1/24 "$CLI" eth0 10.200.11.2/24 || e2e_fail "veth"
ebr_default_route "$SRV" 10.200.1.2
ebr_default_route "$RELB" 10.200.2.1
ebr_default_route "$CLI" 10.200.11.1
ebr_default_route "$CLI0" 10.200.10.1


e2e_bg "$SRV" upstream $TOOL listen 5007 "$E2E_WORK/upstream.txt" $SECS
e2e_bg "$SRV" senderrtcp $TOOL listen 5099 "$E2E_WORK/sender-rtcp.txt" $SECS
e2e_bg "$CLI" down $TOOL listen 6001 "$E2E_WORK/down.txt" $SECS
e2e_wait_udp "$SRV" 5007 5099
e2e_wait_udp "$CLI" 6001

clients=10.200.11.2:6000
for i in $(seq 0 $((FLOOD - 1))); do
  clients=$clients,10.200.11.2:$((7000 + 2 * i))
done
# B first, so A's first copies find it listening.
e2e_ctl_start "$RELB" relayB "udpsrc port=5006 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE clients=$clients upstream-rtcp=10.200.2.1:5005"
e2e_wait_udp "$RELB" 5006 5007
e2e_ctl_start "$RELA" relayA "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE clients=10.200.2.2:5006,10.200.10.2:7000 \
upstream-rtcp=10.200.1.1:5007"
e2e_wait_udp "$RELA" 5004 5005
if [ "$MODE" = kernel ]; then
  e2e_wait_tcx "$RELB" 1 up0 down1
  e2e_wait_tcx "$RELA" 1 up0 down0 down1
fi

e2e_bg "$SRV" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc tune=zerolatency key-int-max=300 bitrate=500 ! rtph264pay config-interval=1 pt=96 \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=5004 \
  rb.send_rtcp_src_0 ! tee name=t \
  t. ! queue ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  t. ! queue ! udpsink host=127.0.0.1 port=5099 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID
alive ()
{
  e2e_alive "$SENDER" sender
  e2e_alive "${E2E_CTL_PIDS[relayA]}" relayA
  e2e_alive "${E2E_CTL_PIDS[relayB]}" relayB
}

# 1: SRs down through both relays.
ebr_until 150 eval '[ "$(e2e_count "$E2E_WORK/down.txt" "^SR:")" -ge 2 ]' \
  || e2e_fail "no 2 SRs at the viewer within 15 s (the sender sent $(e2e_count "$E2E_WORK/sender-rtcp.txt" "^SR:"))"
alive
down_srs=$(grep -oE 'SR:[0-9]+:[0-9]+:[0-9]+' "$E2E_WORK/down.txt" | sort -u)
sent_srs=$(grep -oE 'SR:[0-9]+:[0-9]+:[0-9]+' "$E2E_WORK/sender-rtcp.txt" | sort -u)
n_down=$(wc -l <<<"$down_srs")
n_same=$(comm -12 <(echo "$down_srs") <(echo "$sent_srs") | wc -l)
[ "$n_same" -eq "$n_down" ] \
  || e2e_fail "SRs at the viewer not the sender's (SSRC:NTP:RTP): $(comm -23 <(echo "$down_srs") <(echo "$sent_srs") | head -3)"
SSRC=$(head -n 1 <<<"$down_srs" | cut -d: -f2)
e2e_log "1. $n_down SRs at the viewer through A and B, all the sender's SSRC/NTP/RTP (SSRC $SSRC); e.g. $(grep -m1 -oE 'SR:[0-9:]+' "$E2E_WORK/down.txt")"

# 3: RRs up, from both relays.
ebr_until 100 eval '[ "$(e2e_count "$E2E_WORK/upstream.txt" "^RB:$SSRC:")" -ge 2 ]' \
  || e2e_fail "no 2 RRs of relay A about $SSRC at the sender"
e2e_ctl_select relayA
b_rtcp ()
{
  e2e_ctl_stats 10.200.2.2 5006
  [ "$(ebr_field "$E2E_STATS_LINE" rtcp-received)" -gt 0 ] 2>/dev/null
}
ebr_until 100 b_rtcp || e2e_fail "relay A attributes no RTCP to relay B: $E2E_STATS_LINE"
e2e_log "3. relay A's RRs at the sender: $(e2e_count "$E2E_WORK/upstream.txt" "^RR:"); relay B at relay A: rtcp-received=$(ebr_field "$E2E_STATS_LINE" rtcp-received)"

# 2: the PLI flood, through both throttles.
e2e_ctl_stats 10.200.2.2 5006
a_pli0=$(ebr_field "$E2E_STATS_LINE" pli-received)
sleep 0.6
t0=$(e2e_now)
e2e_bg "$CLI0" flood0 $TOOL flood 7000 1 0.1 3 10.200.10.1 5005
flood0=$E2E_LAST_PID
flood_out=$(ip netns exec "$CLI" $TOOL flood 7000 $FLOOD 0.1 3 10.200.11.1 5007) \
  || e2e_fail "rtcp-tool flood"
wait "$flood0" || e2e_fail "rtcp-tool flood at cli0"
t1=$(e2e_now)
sleep 0.4
plis=$(e2e_count "$E2E_WORK/upstream.txt" "^PLI:$SSRC\$" "$t0" "$(e2e_now)")
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
max=$(awk -v d="$dur" 'BEGIN { printf "%d", 2 * d + 2 }')
e2e_ctl_select relayA
e2e_ctl_stats 10.200.2.2 5006
a_pli=$(( $(ebr_field "$E2E_STATS_LINE" pli-received) - a_pli0 ))
e2e_ctl_stats 10.200.10.2 7000
a0_pli=$(ebr_field "$E2E_STATS_LINE" pli-received)
e2e_ctl_select relayB
e2e_ctl_stats 10.200.11.2 7000
b_pli=$(ebr_field "$E2E_STATS_LINE" pli-received)
e2e_log "2. flood: $FLOOD viewers of B, $flood_out PLIs in ${dur}s, and cli0 at A ($(cat "$E2E_WORK/flood0.log")) -> relay B got $b_pli from 10.200.11.2:7000, relay A got $a_pli from relay B and $a0_pli from cli0, $plis PLIs for $SSRC at the sender (at most $max)"
[ "$b_pli" -ge 25 ] || e2e_fail "relay B counts $b_pli PLIs of 10.200.11.2:7000"
[ "$a0_pli" -ge 25 ] || e2e_fail "relay A counts $a0_pli PLIs of 10.200.10.2:7000"
[ "$a_pli" -ge 3 ] && [ "$a_pli" -le "$max" ] || e2e_fail "relay A got $a_pli PLIs from relay B (B's throttle)"
[ "$plis" -ge 3 ] && [ "$plis" -le "$max" ] || e2e_fail "$plis PLIs reached the sender"
alive

for r in relayA relayB; do
  e2e_ctl_select $r
  e2e_ctl stats
  e2e_log "$r: $(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE '(rtcp|keyframe)-[a-z-]+=\([a-z0-9]+\)[0-9]+' | sed 's/([a-z0-9]*)//' | tr '\n' ' ')"
  e2e_ctl_stop
done
e2e_log PASS
