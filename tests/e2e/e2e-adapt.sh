#!/usr/bin/env bash
# e2e-adapt.sh [MODE]: the automatic priority limit (issue 12 item 3) with
# a real x264 stream and a stock rtpbin viewer behind a token bucket; MODE
# kernel (default) or userspace (the relay's mode).
#
# Server: rtpbin, x264enc bitrate=2000 bframes=3 b-adapt=false (a key frame
# every 2 s), rtpframemarking; relay: ebpfrelaysink mode=MODE with
# control-port and upstream-rtcp (as examples/video.sh). Viewers:
#   cli1  ebpfprioritysrc priority-limit-auto=true (subscribes with the
#         auto flag), rtpbin sending its RRs to the relay, avdec_h264;
#   cli2..cli4  static clients at limits 0, 1 and 6 (udpsrc ! fakesink):
#         their interfaces' byte counters measure each limit's rate.
# Then a tbf qdisc on the relay's interface towards cli1 (its downlink) at
# EBR_ADAPT_SHARE (default 60 %) of the measured limit-0 rate, and checks:
#   - cli1 settles within 10 s of the shaping at the highest limit whose
#     measured rate fits (the lowest of 0/1/6/7 at most 95 % of the bucket's
#     rate), above 0;
#   - for 20 s after settling, every 0.25 s, the bucket's sent and dropped
#     counters: at most 1 % lost at the settled limit (the intervals at it,
#     3 s or more after its last switch), at most 15 % with the probes
#     (each step down meets loss under the bucket: the hysteresis bounds
#     how often); both printed;
#   - 0 decoder errors at the settled limit (in those intervals; switches
#     come into force at boundaries, issue 12 item 1), those during the
#     climb and the probes printed;
#   - each switch posted (ebpfrelaysink-limit messages) and in its stats
#     (auto=true, auto-switches);
# then lifts the shaping (tc qdisc del) and checks it comes back to 0
# within 30 s.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
e2e_init "adapt-$MODE"

for e in x264enc avdec_h264 rtph264pay rtph264depay rtpbin fakesink; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v tc >/dev/null || { echo "SKIP: no tc"; exit 77; }
e2e_tool EBR_LAUNCH_STATS launch-stats
[ $E2E_FAILED -eq 0 ] || exit 1

P=$E2E_PREFIX
SHARE=${EBR_ADAPT_SHARE:-0.6}
PATTERN=${EBR_ADAPT_PATTERN:-pattern=smpte horizontal-speed=4}
port=5004
cport=5005
sport=5007
vport=6000
ebr_topology_up "$P" 4 || e2e_fail "topology"
# (the namespaces go with e2e_cleanup; the qdisc with cli1's veth, and
# before that here)
e2e_on_cleanup "tc -n $P-rel qdisc del dev down1 root"
modprobe sch_tbf 2>/dev/null
ip netns exec "$P-rel" tc qdisc add dev down1 root tbf rate 10mbit burst 20kb latency 100ms \
  && ip netns exec "$P-rel" tc qdisc del dev down1 root \
  || { echo "SKIP: tbf qdisc not available"; exit 77; }

# tstamp FILE: each line of stdin, prefixed with the wall clock (s.µs).
tstamp ()
{
  local l
  while IFS= read -r l; do
    printf '%s %s\n' "$EPOCHREALTIME" "$l"
  done >"$1"
}

CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking"
SECS=75             # longer than the test: stopped at its end
relay=(udpsrc port=$port "caps=\"$CAPS\"" ! ebpfrelaysink name=relay mode=$MODE
  "control-port=$cport" "upstream-rtcp=10.200.1.1:$sport"
  "clients=10.200.12.2:$vport,10.200.13.2:$vport@1,10.200.14.2:$vport@6")
server=(rtpbin name=rb rtp-profile=avpf
  videotestsrc is-live=true num-buffers=$((30 * SECS)) $PATTERN
  ! video/x-raw,width=640,height=360,framerate=30/1
  ! x264enc bitrate=2000 bframes=${EBR_ADAPT_BFRAMES:-3} b-adapt=false key-int-max=60 speed-preset=ultrafast tune=zerolatency
  ! video/x-h264,profile=main ! rtph264pay config-interval=-1 pt=96 mtu=1200
  ! rtpframemarking ! rb.send_rtp_sink_0
  rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=$port
  rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=$cport sync=false async=false
  udpsrc port=$sport ! rb.recv_rtcp_sink_0)
viewer=(rtpbin name=rb rtp-profile=avpf do-retransmission=true
  ebpfprioritysrc name=src port=$vport priority-limit=0 priority-limit-auto=true
  relay=10.200.11.1:$cport "caps=\"$CAPS\"" ! rb.recv_rtp_sink_0
  udpsrc port=$((vport + 1)) ! rb.recv_rtcp_sink_0
  rb.send_rtcp_src_0 ! udpsink host=10.200.11.1 port=$cport sync=false async=false
  rb. ! rtph264depay request-keyframe=true ! avdec_h264 ! fakesink)

ip netns exec "$P-rel" "$EBR_LAUNCH_STATS" "${relay[@]}" \
  > >(tstamp "$E2E_WORK/relay.log") 2>&1 </dev/null &
relay_pid=$!
if [ "$MODE" = kernel ]; then
  ebr_wait_relay "$relay_pid" "$E2E_WORK/relay.log" "$P" 0 0 || e2e_fail "relay not ready"
else
  e2e_wait_udp "$P-rel" $port $cport
fi
for k in 2 3 4; do
  e2e_bg "$P-cli$k" "sink$k" gst-launch-1.0 -q udpsrc port=$vport ! fakesink
done
GST_DEBUG_NO_COLOR=1 \
  GST_DEBUG=libav:4,avviddec:2,videodecoder:2,rtph264depay:2,rtpbasedepayload:2 \
  ip netns exec "$P-cli1" "$EBR_LAUNCH_STATS" "${viewer[@]}" \
  > >(tstamp "$E2E_WORK/viewer.log") 2>&1 </dev/null &
viewer_pid=$!
ebr_until 100 grep -qs 'state=(string)subscribed' "$E2E_WORK/viewer.log" \
  || e2e_fail "the viewer did not subscribe"
e2e_bg "$P-srv" server "$EBR_LAUNCH_STATS" "${server[@]}"
server_pid=$E2E_LAST_PID
[ $E2E_FAILED -eq 0 ] || exit 1

# txb DEV: bytes sent on the relay's DEV.
txb ()
{
  ip netns exec "$P-rel" cat "/sys/class/net/$1/statistics/tx_bytes"
}
# limit_now: cli1's latest limit from the relay's switch messages (0
# before the first).
limit_now ()
{
  local l
  l=$(grep 'ebpfrelaysink-limit' "$E2E_WORK/relay.log" | grep 'host=(string)10.200.11.2' \
    | tail -n 1 | grep -oE 'to=\(uint\)[0-9]+' | sed 's/.*)//')
  echo "${l:-0}"
}
at_limit () { [ "$(limit_now)" = "$1" ]; }
now () { echo "$EPOCHREALTIME"; }
elapsed () { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Measure each limit's rate for 4 s (after 2 s of warm-up).
sleep 2
declare -A b0 b1 rate
for k in 2 3 4; do b0[$k]=$(txb down$k); done
sleep 4
for k in 2 3 4; do b1[$k]=$(txb down$k); done
rate[0]=$(( (b1[2] - b0[2]) / 4 ))
rate[1]=$(( (b1[3] - b0[3]) / 4 ))
rate[6]=$(( (b1[4] - b0[4]) / 4 ))
[ "$(limit_now)" = 0 ] || e2e_fail "cli1 switched before any shaping: $(grep ebpfrelaysink-limit "$E2E_WORK/relay.log")"
bucket=$(awk -v r="${rate[0]}" -v s="$SHARE" 'BEGIN { printf "%d", r * s }')
want=7
for l in 6 1 0; do
  awk -v r="${rate[$l]}" -v b="$bucket" 'BEGIN { exit !(r <= 0.95 * b) }' && want=$l
done
e2e_log "rates (bytes/s): limit 0 ${rate[0]}, limit 1 ${rate[1]}, limit 6 ${rate[6]}; bucket ${bucket} B/s (${SHARE} of limit 0): expected limit $want"
[ "${rate[0]}" -gt 50000 ] || e2e_fail "the stream is too thin (${rate[0]} B/s)"
[ "$want" -gt 0 ] || e2e_fail "limit 0 fits in the bucket: nothing to adapt"

# Shape: cli1's downlink (the relay's down1), a 200 ms queue.
ip netns exec "$P-rel" tc qdisc add dev down1 root tbf rate "${bucket}bps" \
  burst 16kb latency 200ms || e2e_fail "tc qdisc add tbf"
t_shape=$(now)
e2e_log "tbf on down1 at $bucket B/s"

# settles: the expected limit reached within 10 s
settled=
while awk -v a="$t_shape" -v b="$(now)" 'BEGIN { exit !(b - a < 10) }'; do
  if [ "$(limit_now)" = "$want" ]; then settled=$(now); break; fi
  sleep 0.2
done
# switches: the switch messages so far, timed from the shaping
switches ()
{
  grep 'ebpfrelaysink-limit' "$E2E_WORK/relay.log" | awk -v t="$t_shape" '{
    printf "    %+6.1f s: %s\n", $1 - t, $0 }' | sed -E 's/ [0-9]+\.[0-9]+ message relay ebpfrelaysink-limit,/ /'
}
switches
[ -n "$settled" ] || e2e_fail "cli1 not at limit $want within 10 s of the shaping (at $(limit_now))"
[ $E2E_FAILED -eq 0 ] || exit 1
e2e_log "settled at limit $want $(awk -v a="$t_shape" -v b="$settled" 'BEGIN { printf "%.1f", b - a }') s after the shaping"
# (what the queue drops from now on)
qstat ()
{
  ip netns exec "$P-rel" tc -s qdisc show dev down1 | tr '\n' ' ' \
    | grep -oE "Sent [0-9]+ bytes [0-9]+ pkt \(dropped [0-9]+" | sed 's/[^0-9 ]//g'
}
# last_switch: the time of cli1's last switch message (0: none).
last_switch ()
{
  local t
  t=$(grep 'ebpfrelaysink-limit' "$E2E_WORK/relay.log" | grep 'host=(string)10.200.11.2' \
    | tail -n 1 | cut -d' ' -f1)
  echo "${t:-0}"
}
# For HOLD s, every 0.25 s: what the bucket sent and dropped, counted as
# steady (at the settled limit, its last switch 3 s ago or more: the 200 ms
# queue a failed probe filled drains at the margin between the bucket and
# the limit's rate, 10 % or so: in about 2 s) or as the probes' (the rest).
read -r _ p0 d0 <<<"$(qstat)"
t0=$(now)
t_err=$t0
st_sent=0 st_lost=0 pr_sent=0 pr_lost=0
hold=${EBR_ADAPT_HOLD:-20}
while awk -v a="$t0" -v b="$(now)" -v h="$hold" 'BEGIN { exit !(b - a < h) }'; do
  l0=$(limit_now)
  ls0=$(last_switch)
  ta=$(now)
  sleep 0.25
  read -r _ p1 d1 <<<"$(qstat)"
  dl=$(( d1 - d0 ))
  ds=$(( p1 - p0 + dl ))
  if [ "$l0" = "$want" ] && [ "$(limit_now)" = "$want" ] && [ "$(last_switch)" = "$ls0" ] \
    && awk -v a="$ls0" -v b="$ta" 'BEGIN { exit !(b - a >= 3) }'; then
    st_sent=$(( st_sent + ds )); st_lost=$(( st_lost + dl ))
    echo "$ta $(now)" >>"$E2E_WORK/steady.txt"
  else
    pr_sent=$(( pr_sent + ds )); pr_lost=$(( pr_lost + dl ))
  fi
  echo "$ta $l0 $ds $dl" >>"$E2E_WORK/bucket.txt"
  p0=$p1 d0=$d1
done
e2e_log "after settling, $hold s: at limit $want $st_lost of $st_sent packets dropped at the bucket;" \
  "probing (and 3 s after each switch) $pr_lost of $pr_sent; limit now $(limit_now)"
awk -v l="$st_lost" -v s="$st_sent" 'BEGIN { exit !(s > 0 && l <= 0.01 * s) }' \
  || e2e_fail "more than 1 % lost at the settled limit: $st_lost of $st_sent"
# the probes' cost is bounded by the hysteresis (5 s, then 10 s, 16 s...):
# each step down to limit 0 here nearly doubles the rate into the bucket
# (and the key frame it asks for comes on top) until its loss is NACKed
awk -v l="$((st_lost + pr_lost))" -v s="$((st_sent + pr_sent))" 'BEGIN { exit !(l <= 0.15 * s) }' \
  || e2e_fail "more than 15 % lost after settling, probes included: $((st_lost + pr_lost)) of $((st_sent + pr_sent))"

switches
# Lift the shaping at the settled limit (a probe in progress fails
# first), and it comes back to 0 within 30 s.
ebr_until 50 at_limit "$want" \
  || e2e_fail "cli1 not back at limit $want after a probe (at $(limit_now))"
ip netns exec "$P-rel" tc qdisc del dev down1 root || e2e_fail "tc qdisc del"
t_lift=$(now)
back=
while awk -v a="$t_lift" -v b="$(now)" 'BEGIN { exit !(b - a < 30) }'; do
  if [ "$(limit_now)" = 0 ]; then back=$(now); break; fi
  sleep 0.2
done
[ -n "$back" ] || e2e_fail "cli1 not back at limit 0 within 30 s of lifting the shaping (at $(limit_now))"
[ -z "$back" ] || e2e_log "back at limit 0 $(awk -v a="$t_lift" -v b="$back" 'BEGIN { printf "%.1f", b - a }') s after lifting"
switches

# Stats before the viewers go (the relay first).
kill -USR1 "$relay_pid"
sleep 0.3
ebr_stop "$server_pid" 50
ebr_stop "$relay_pid" 50
ebr_stop "$viewer_pid" 50
sleep 0.3
cs=$(grep '^[0-9.]* stats relay' "$E2E_WORK/relay.log" | tail -n 1 | tr -d '\\' \
  | grep -oE 'host=\(string\)10\.200\.11\.2, port=\(int\)6000, [^"]*' | head -n 1)
[[ $cs == *"auto=(boolean)true"* ]] || e2e_fail "cli1's stats do not say auto=true: $cs"
nsw=$(ebr_field "$cs" auto-switches)
nmsg=$(grep -c 'ebpfrelaysink-limit.*host=(string)10.200.11.2' "$E2E_WORK/relay.log")
[ "${nsw:-0}" -ge 2 ] && [ "$nsw" = "$nmsg" ] \
  || e2e_fail "auto-switches ${nsw:-?} against $nmsg messages"
e2e_log "cli1: $nsw switches (stats = messages), last reason $(grep -oE 'auto-reason=\(string\)[a-z-]+' <<<"$cs" | sed 's/.*)//')"

# Decoder errors: in the steady intervals (at the settled limit), and
# in all after the first switch (the climb, the probes' losses).
ERRS='^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing'
first=$(grep 'ebpfrelaysink-limit' "$E2E_WORK/relay.log" | head -n 1 | cut -d' ' -f1)
# (the times of the error lines: their numbers in the text without the
# time stamps, then the stamps of those lines)
cut -d' ' -f2- "$E2E_WORK/viewer.log" | grep -nE "$ERRS" | cut -d: -f1 \
  | awk 'NR == FNR { want[$1] = 1; next } FNR in want { print $1 }' - "$E2E_WORK/viewer.log" \
  >"$E2E_WORK/err-times.txt"
touch "$E2E_WORK/steady.txt"
steady_errs=$(awk 'NR == FNR { a[NR] = $1; b[NR] = $2; n = NR; next }
  { for (i = 1; i <= n; i++) if ($1 >= a[i] && $1 <= b[i]) { c++; break } }
  END { print c + 0 }' "$E2E_WORK/steady.txt" "$E2E_WORK/err-times.txt")
after_first=$(awk -v f="${first:-0}" '$1 >= f { c++ } END { print c + 0 }' "$E2E_WORK/err-times.txt")
all=$(wc -l <"$E2E_WORK/err-times.txt")
[[ $cs == *limit-in-force* ]] || e2e_fail "no limit-in-force in cli1's stats: $cs"
[ "$steady_errs" -eq 0 ] || e2e_fail "$steady_errs decoder errors at the settled limit"
e2e_log "decoder errors at the settled limit: $steady_errs; after the first switch: $after_first (the probes' losses); in all $all"
e2e_log "PASS"
