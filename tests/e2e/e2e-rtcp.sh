#!/usr/bin/env bash
# e2e-rtcp.sh MODE [consume]: the feedback plane (RTCP) through the relay,
# MODE kernel or userspace (consume: kernel with pass-original=false, the
# relay process sees no RTP: its RRs come from the kernel's counts), with
# a stock GStreamer sender and viewer:
#   srv:  rtpbin + x264enc sending RTP to the relay's stream port 5004 (a
#         tee copies it to rtcp-tool keyframes on 127.0.0.1:5098: the IDR
#         pictures the sender made, timed) and RTCP to its rtcp-port 5005
#         (a tee also copies the sender's own RTCP to a local capture);
#         what the relay sends the sender is captured at
#         upstream-rtcp=10.200.1.1:5007 (rtcp-tool listen) and forwarded
#         to the sender's rtpbin (udpsrc 5008), which turns each PLI into
#         a force-key-unit event that x264enc answers with an IDR;
#   cli1: rtpbin viewer: RTP on udpsrc 6000, RTCP on 6001, its RTCP sent
#         from a udpsink (ephemeral port) to the relay's 5005;
#   cli2: FLOOD subscribers at 7000, 7002, ... sending PLIs every 100 ms
#         from their media port + 1 (rtcp-tool flood);
#   cli3: a subscriber at 6000 whose port 6001 is a capture (the SRs the
#         relay sends down); later a joiner at 6100.
# Asserts:
#   1. the SRs at cli3 (limit 7) are the sender's SRs with SSRC, NTP and
#      RTP timestamps untouched (and there are at least two); their packet
#      counts are cli3's own (0 < count < the sender's), from the kernel's
#      per-(slot, SSRC) counts in kernel mode, userspace's in userspace mode;
#   2. the relay's get-stats for the rtpbin viewer shows its RRs:
#      rtcp-received > 0, a report, fraction lost 0, and an RTT (its LSR
#      names an SR the relay forwarded: the viewer's rtpbin received it);
#   3. the relay's own RRs reach upstream-rtcp (>= 2, about the sender's
#      SSRC), each with cumulative loss 0 and an extended highest
#      sequence number that grows from one RR to the next;
#   4. FLOOD (100) subscribers x 10 PLI/s for 3 s (1000 PLI/s) reach the
#      sender as at most 2 per second per SSRC (+2), and at least 3; and
#      the sender makes key frames at that rate, not more: the IDR
#      pictures it produced in the flood window (+0.5 s for the answer
#      to the last PLI) are at most 2 per second of that window + 1 and
#      at least the PLIs that reached it - 1, and at most those PLIs + 1
#      (+1: a GOP IDR, key-int-max=300, may fall in the window). Without
#      the relay's throttle the sender's rtpbin would pass the PLIs on
#      (it ignores only those within 2 RTTs, about a millisecond here)
#      and x264enc would make an IDR of nearly every frame (30/s);
#   5. malformed RTCP (truncated, bad length, version 1, 3 bytes) from a
#      subscriber's address is counted (rtcp-malformed +4) and sends nothing
#      upstream; a valid PLI from an address that is nobody's is counted
#      (rtcp-unknown +1) and sends nothing upstream;
#   6. a join (add) makes exactly one PLI reach the sender;
#   7. lowering a subscriber's limit (set-priority-limit 7 -> 0) makes
#      exactly one PLI reach the sender (keyframe-requests-limit +1),
#      raising it again (0 -> 7) none (keyframe-requests-limit unchanged).
# By hand, EBR_E2E_KEYFRAME_MS=0 (no throttle) shows that 4 fails
# without the throttle.
#   8. two FIRs (RFC 5104) from a subscriber within the throttle: one
#      reaches the sender, numbered by the relay (0), and it makes an IDR.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
CONSUME=${2:-}
e2e_init "rtcp-$MODE${CONSUME:+-$CONSUME}"
EXTRA=
[ "$CONSUME" = consume ] && EXTRA="pass-original=false"

for e in rtpbin x264enc rtph264pay rtph264depay avdec_h264 videotestsrc tee; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
TOOL="python3 $(dirname "${BASH_SOURCE[0]}")/rtcp-tool.py"
P=$E2E_PREFIX
counts=
FLOOD=100
SECS=30           # the captures' lifetime; the test ends before
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
ebr_topology_up "$P" 3 || e2e_fail "topology"


e2e_bg "$P-srv" upstream $TOOL listen 5007 "$E2E_WORK/upstream.txt" $SECS 127.0.0.1:5008
e2e_bg "$P-srv" idr $TOOL keyframes 5098 "$E2E_WORK/idr.txt" $SECS
e2e_bg "$P-srv" senderrtcp $TOOL listen 5099 "$E2E_WORK/sender-rtcp.txt" $SECS
e2e_bg "$P-cli3" down $TOOL listen 6001 "$E2E_WORK/down.txt" $SECS
e2e_wait_udp "$P-srv" 5007 5099 5098
e2e_wait_udp "$P-cli3" 6001

# (cli3 at limit 7: it gets IDR pictures and parameter sets only, so its
# SRs' counts differ from the sender's)
clients=10.200.11.2:6000,10.200.13.2:6000@7
for i in $(seq 0 $((FLOOD - 1))); do
  clients=$clients,10.200.12.2:$((7000 + 2 * i))
done
e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE clients=$clients upstream-rtcp=10.200.1.1:5007 $EXTRA \
${EBR_E2E_KEYFRAME_MS:+keyframe-request-interval=$EBR_E2E_KEYFRAME_MS}"
e2e_wait_udp "$P-rel" 5004 5005
e2e_log "relay: mode=$MODE $EXTRA rtcp-port=$(e2e_relay_stat rtcp-port)"

e2e_bg "$P-cli1" viewer gst-launch-1.0 -e rtpbin name=rb \
  udpsrc port=6000 caps="$CAPS" ! rb.recv_rtp_sink_0 \
  udpsrc port=6001 ! rb.recv_rtcp_sink_0 \
  rb. ! rtph264depay ! avdec_h264 ! fakesink \
  rb.send_rtcp_src_0 ! udpsink host=10.200.11.1 port=5005 sync=false async=false
VIEWER=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000 6001

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc tune=zerolatency key-int-max=300 bitrate=500 ! rtph264pay config-interval=1 pt=96 \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! tee name=m \
  m. ! queue ! udpsink host=10.200.1.2 port=5004 \
  m. ! queue ! udpsink host=127.0.0.1 port=5098 \
  rb.send_rtcp_src_0 ! tee name=t \
  t. ! queue ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  t. ! queue ! udpsink host=127.0.0.1 port=5099 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID

# 1 and 3: SRs down, RRs up (rtpbin's first RTCP comes after a few s).
ebr_until 150 eval '[ "$(e2e_count "$E2E_WORK/down.txt" "^SR:")" -ge 2 ]' \
  || e2e_fail "no 2 SRs at the subscriber within 15 s (sender sent $(e2e_count "$E2E_WORK/sender-rtcp.txt" "^SR:"))"
e2e_alive "$SENDER" sender
e2e_alive "$VIEWER" viewer
down_srs=$(grep -oE 'SR:[0-9]+:[0-9]+:[0-9]+' "$E2E_WORK/down.txt" | sort -u)
sent_srs=$(grep -oE 'SR:[0-9]+:[0-9]+:[0-9]+' "$E2E_WORK/sender-rtcp.txt" | sort -u)
n_down=$(wc -l <<<"$down_srs")
n_same=$(comm -12 <(echo "$down_srs") <(echo "$sent_srs") | wc -l)
[ "$n_same" -eq "$n_down" ] \
  || e2e_fail "SRs at the subscriber not the sender's (SSRC:NTP:RTP): $(comm -23 <(echo "$down_srs") <(echo "$sent_srs") | head -3)"
SSRC=$(head -n 1 <<<"$down_srs" | cut -d: -f2)
# The counts are rewritten to what the limit-7 subscriber got (fewer
# than the sender sent, more than 0), in both modes.
while read -r key pc oc; do
  spc=$(grep -oE "$key:[0-9]+" "$E2E_WORK/sender-rtcp.txt" | head -n 1 | sed 's/.*://')
  [ "$pc" -gt 0 ] && [ "$pc" -lt "$spc" ] \
    || e2e_fail "SR $key: count $pc at the limit-7 subscriber, the sender's $spc"
  counts="$counts $pc/$spc"
done < <(grep -oE 'SR:[0-9]+:[0-9]+:[0-9]+:[0-9]+:[0-9]+' "$E2E_WORK/down.txt" \
  | sed -E 's/^(SR:[0-9]+:[0-9]+:[0-9]+):([0-9]+):([0-9]+)$/\1 \2 \3/')
e2e_log "1. SR packet counts at the limit-7 subscriber / the sender's:$counts"
e2e_log "1. $n_down SRs at the subscriber, all with the sender's SSRC/NTP/RTP (SSRC $SSRC); e.g. $(grep -m1 -oE 'SR:[0-9:]+' "$E2E_WORK/down.txt")"

ebr_until 100 eval '[ "$(e2e_count "$E2E_WORK/upstream.txt" "^RB:$SSRC:")" -ge 2 ]' \
  || e2e_fail "no 2 RRs of the relay about $SSRC at upstream-rtcp"
e2e_log "3. relay RRs at the sender: $(e2e_count "$E2E_WORK/upstream.txt" "^RR:"), e.g. $(grep -m1 -oE 'RB:[0-9:-]+' "$E2E_WORK/upstream.txt") (media:fraction:lost:jitter:lsr:ext_highest_seq)"
# the blocks about the sender: no loss, the highest sequence number
# growing (the relay counts what it receives, also what the kernel
# consumes)
rbs=$(grep -oE "RB:$SSRC:[0-9:-]+" "$E2E_WORK/upstream.txt")
bad_rb=$(awk -F: '$4 != 0 { print; exit }' <<<"$rbs")
[ -z "$bad_rb" ] || e2e_fail "3. a relay RR reports loss: $bad_rb"
first_ext=$(head -n1 <<<"$rbs" | cut -d: -f7)
last_ext=$(tail -n1 <<<"$rbs" | cut -d: -f7)
[ -n "$first_ext" ] && [ "$last_ext" -gt "$first_ext" ] \
  || e2e_fail "3. the RRs' highest sequence number does not grow: $first_ext .. $last_ext"
e2e_log "3. relay RRs about $SSRC: loss 0, highest sequence number $first_ext .. $last_ext; the last: $(tail -n1 <<<"$rbs")"

# 2: the viewer's RR in get-stats (its second RR carries the LSR of a
# forwarded SR).
rtt_known ()
{
  e2e_ctl_stats 10.200.11.2 6000
  grep -q 'rtcp-has-report=(boolean)true' <<<"$E2E_STATS_LINE" \
    && ! grep -q 'rtt-ms=(double)-1' <<<"$E2E_STATS_LINE"
}
ebr_until 150 rtt_known || e2e_fail "no RR with RTT from the viewer in get-stats: $E2E_STATS_LINE"
rcv=$(e2e_stat_of rtcp-received)
frac=$(grep -oE 'rtcp-fraction-lost=\(double\)[0-9.e-]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//')
rtt=$(grep -oE 'rtt-ms=\(double\)[0-9.e-]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//')
jit=$(e2e_stat_of rtcp-jitter)
lost=$(grep -oE 'rtcp-packets-lost=\(int\)-?[0-9]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//')
[ "$rcv" -gt 0 ] || e2e_fail "rtcp-received $rcv"
[ "$frac" = 0 ] || e2e_fail "fraction lost $frac on a clean link"
e2e_log "2. viewer in get-stats: rtcp-received=$rcv fraction-lost=$frac packets-lost=$lost jitter=$jit rtt-ms=$rtt"

# 4: the flood.
sleep 0.6
t0=$(e2e_now)
flood_out=$(ip netns exec "$P-cli2" $TOOL flood 7000 $FLOOD 0.1 3 10.200.12.1 5005) \
  || e2e_fail "rtcp-tool flood"
t1=$(e2e_now)
sleep 0.5
t2=$(e2e_now)
plis=$(e2e_count "$E2E_WORK/upstream.txt" "^PLI:$SSRC\$" "$t0" "$t2")
idrs=$(awk -v from="$t0" -v to="$t2" -v s="ssrc=$SSRC" '
  { t = substr($1, 3) + 0 } t >= from && t < to && $2 == s { n++ } END { print n + 0 }' \
  "$E2E_WORK/idr.txt")
dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
max=$(awk -v d="$dur" 'BEGIN { printf "%d", 2 * d + 2 }')
idr_win=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
idr_max=$(awk -v d="$idr_win" 'BEGIN { printf "%d", 2 * d + 1 }')
e2e_log "4. flood: $FLOOD subscribers, $flood_out PLIs in ${dur}s -> $plis PLIs for $SSRC at the sender (at most $max); the sender made $idrs IDR pictures in ${idr_win}s (at most $idr_max, at least $((plis - 1)))"
[ "$plis" -ge 3 ] && [ "$plis" -le "$max" ] || e2e_fail "$plis PLIs reached the sender"
[ "$idrs" -le "$idr_max" ] || e2e_fail "the sender made $idrs IDR pictures in ${idr_win}s, more than $idr_max"
[ "$idrs" -ge $((plis - 1)) ] && [ "$idrs" -le $((plis + 1)) ] \
  || e2e_fail "the sender made $idrs IDR pictures for $plis PLIs"
e2e_ctl_stats 10.200.12.2 7000
[ "$(e2e_stat_of pli-received)" -ge 25 ] || e2e_fail "pli-received of 10.200.12.2:7000: $(e2e_stat_of pli-received)"

# 5: malformed and unknown.
sleep 0.7
mal0=$(e2e_relay_stat rtcp-malformed)
unk0=$(e2e_relay_stat rtcp-unknown)
t0=$(e2e_now)
ip netns exec "$P-cli2" $TOOL send 10.200.12.1 5005 7001 truncated badlen version1 garbage \
  || e2e_fail "rtcp-tool send"
ip netns exec "$P-rel" $TOOL send 10.200.11.1 5005 0 "pli:$SSRC" || e2e_fail "rtcp-tool send"
sleep 0.7
mal1=$(e2e_relay_stat rtcp-malformed)
unk1=$(e2e_relay_stat rtcp-unknown)
up=$(e2e_count "$E2E_WORK/upstream.txt" "^(PLI|FIR|BAD)" "$t0" "$(e2e_now)")
e2e_log "5. malformed: rtcp-malformed $mal0 -> $mal1, rtcp-unknown $unk0 -> $unk1, key-frame requests upstream: $up"
[ $((mal1 - mal0)) -eq 4 ] || e2e_fail "rtcp-malformed grew by $((mal1 - mal0)), not 4"
[ $((unk1 - unk0)) -eq 1 ] || e2e_fail "rtcp-unknown grew by $((unk1 - unk0)), not 1"
[ "$up" -eq 0 ] || e2e_fail "$up key-frame requests reached the sender"

# 6: a join.
t0=$(e2e_now)
e2e_ctl add 10.200.13.2 6100
sleep 0.8
join=$(e2e_count "$E2E_WORK/upstream.txt" "^PLI:$SSRC\$" "$t0" "$(e2e_now)")
e2e_log "6. join: $join PLI at the sender"
[ "$join" -eq 1 ] || e2e_fail "a join made $join PLIs reach the sender, not 1"

# 7: a limit lowered (it gets more: a key frame at once), then raised.
sleep 0.7       # past the throttle (keyframe-request-interval 500 ms)
lim0=$(e2e_relay_stat keyframe-requests-limit)
t0=$(e2e_now)
e2e_ctl set-priority-limit 10.200.13.2 6000 0
sleep 0.8
t1=$(e2e_now)
lowered=$(e2e_count "$E2E_WORK/upstream.txt" "^PLI:$SSRC\$" "$t0" "$t1")
lim1=$(e2e_relay_stat keyframe-requests-limit)
e2e_ctl set-priority-limit 10.200.13.2 6000 7
sleep 0.8
raised=$(e2e_count "$E2E_WORK/upstream.txt" "^PLI:$SSRC\$" "$t1" "$(e2e_now)")
lim2=$(e2e_relay_stat keyframe-requests-limit)
e2e_log "7. limit 7 -> 0: $lowered PLI at the sender, 0 -> 7: $raised; keyframe-requests-limit $lim0 -> $lim1 -> $lim2"
[ "$lowered" -eq 1 ] || e2e_fail "lowering a limit made $lowered PLIs reach the sender, not 1"
[ "$raised" -eq 0 ] || e2e_fail "raising a limit made $raised PLIs reach the sender, not 0"
[ $((lim1 - lim0)) -eq 1 ] && [ "$lim2" -eq "$lim1" ] \
  || e2e_fail "keyframe-requests-limit $lim0 -> $lim1 -> $lim2, not +1 then +0"

# 8: FIR (RFC 5104) from a subscriber: one reaches the sender, with the
# relay's own command number (its first for this SSRC: 0), not the
# subscriber's (77, sent twice); the sender answers with an IDR.
sleep 0.7       # past the throttle
t0=$(e2e_now)
ip netns exec "$P-cli1" $TOOL send 10.200.11.1 5005 0 "fir:$SSRC:77" "fir:$SSRC:77" \
  || e2e_fail "rtcp-tool send"
sleep 0.8
t1=$(e2e_now)
firs=$(e2e_count "$E2E_WORK/upstream.txt" "^FIR:$SSRC:" "$t0" "$t1")
fir_seq=$(awk -v from="$t0" -v to="$t1" '
  { t = substr($1, 3) + 0 } t >= from && t < to {
    for (i = 4; i <= NF; i++) if ($i ~ /^FIR:/) { split($i, f, ":"); print f[3] } }' \
  "$E2E_WORK/upstream.txt" | head -1)
fir_idrs=$(awk -v from="$t0" -v to="$t1" -v s="ssrc=$SSRC" '
  { t = substr($1, 3) + 0 } t >= from && t < to && $2 == s { n++ } END { print n + 0 }' \
  "$E2E_WORK/idr.txt")
e2e_log "8. two FIRs (seq 77) from a subscriber: $firs FIR at the sender, seq ${fir_seq:-none}; the sender made $fir_idrs IDR pictures"
[ "$firs" -eq 1 ] || e2e_fail "two FIRs within the throttle made $firs FIRs reach the sender, not 1"
[ "$fir_seq" = 0 ] || e2e_fail "the FIR at the sender has seq $fir_seq, not the relay's first (0)"
[ "$fir_idrs" -ge 1 ] || e2e_fail "the sender made no IDR after the FIR"

e2e_ctl stats
e2e_log "relay: $(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE '(rtcp|keyframe)-[a-z-]+=\([a-z0-9]+\)[0-9]+' | sed 's/([a-z0-9]*)//' | tr '\n' ' ')"
e2e_ctl_stop
e2e_log "PASS"
