#!/usr/bin/env bash
# e2e-latejoin.sh MODE [nopli|subscribe|consume]: a late joiner gets a picture fast, MODE
# kernel or userspace, with a stock GStreamer sender and viewer:
#   srv:  rtpbin + x264enc with a 10 s GOP (key-int-max=300 at 30 fps)
#         sending RTP to the relay's stream port 5004 (a tee copies it to
#         rtcp-tool keyframes on 127.0.0.1:5098: the sender's IDR
#         pictures, timed) and RTCP to its rtcp-port 5005; it receives
#         RTCP on udpsrc 5008 into rtpbin, which turns a PLI into a
#         GstForceKeyUnit event upstream that x264enc answers;
#   rel:  ebpfrelaysink with no subscriber, upstream-rtcp=10.200.1.1:5008;
#   cli1: a stock rtpbin viewer (rtph264depay ! avdec_h264 ! pngenc !
#         multifilesink, a PNG per decoded frame), started 3 s into the
#         stream and added (relay-ctl add) once its port is bound.
# Asserts:
#   1. its first decoded frame is written within 0.5 s of the add (the
#      measured time is logged), with no decoder error in its log;
#   2. the sender made an IDR picture beyond the initial one within those
#      0.5 s, and none between its first and the add (the GOP is 10 s);
#   3. the relay's keyframe-requests-join is 1.
# subscribe: the viewer is ebpfprioritysrc (priority-limit 0, then
#   rtpjitterbuffer ! rtph264depay ! avdec_h264 ...) subscribing through
#   the relay's subscription channel (control-port 5006) when it starts;
#   the join is when relay-ctl prints its client-added (polled every
#   10 ms); the time from the viewer's launch is logged too.
# consume: the relay runs with pass-original=false (the kernel consumes
#   what it forwards; the relay's userspace sees the first datagram and the
#   sender's RTCP only) and the same is asserted.
# nopli (the negative control): upstream-rtcp points at a port nobody
# listens on, so the join's PLI never reaches the sender; asserts that
# then the first frame takes more than 2 s (the next IDR, ~7 s after the
# add) and that the sender made no IDR within 0.5 s of the add: without
# the relay's key-frame request assertion 1 fails.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
CONTROL=${2:-}
e2e_init "latejoin-$MODE${CONTROL:+-$CONTROL}"

for e in rtpbin x264enc rtph264pay rtph264depay avdec_h264 videotestsrc tee \
  pngenc multifilesink videoconvert; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
TOOL="python3 $(dirname "${BASH_SOURCE[0]}")/rtcp-tool.py"
P=$E2E_PREFIX
SECS=40           # the capture's lifetime; the test ends before
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
UPSTREAM=10.200.1.1:5008
[ "$CONTROL" = nopli ] && UPSTREAM=10.200.1.1:5009     # nobody there
ebr_topology_up "$P" 1 || e2e_fail "topology"

# idrs FROM [TO]: the sender's IDR pictures at unix time FROM <= t < TO.
idrs ()
{
  awk -v from="$1" -v to="${2:-1e12}" '
    { t = substr($1, 3) + 0 } t >= from && t < to { n++ } END { print n + 0 }' \
    "$E2E_WORK/idr.txt"
}

e2e_bg "$P-srv" idr $TOOL keyframes 5098 "$E2E_WORK/idr.txt" $SECS
e2e_wait_udp "$P-srv" 5098
CHANNEL=
[ "$CONTROL" = subscribe ] && CHANNEL="control-port=5006 token=sesame"
[ "$CONTROL" = consume ] && CHANNEL="pass-original=false"
e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE upstream-rtcp=$UPSTREAM $CHANNEL"
e2e_wait_udp "$P-rel" 5004 5005

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc key-int-max=300 tune=zerolatency speed-preset=ultrafast bitrate=500 \
  ! rtph264pay config-interval=-1 pt=96 ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! tee name=m \
  m. ! queue ! udpsink host=10.200.1.2 port=5004 \
  m. ! queue ! udpsink host=127.0.0.1 port=5098 \
  rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID
e2e_wait_udp "$P-srv" 5008
ebr_until 100 eval '[ "$(idrs 0)" -ge 1 ]' || e2e_fail "no IDR from the sender within 10 s"
t_first=$(awk '{ print substr($1, 3); exit }' "$E2E_WORK/idr.txt")
e2e_log "the sender's first IDR at $t_first"
sleep 3
e2e_alive "$SENDER" sender

# The viewer, 3 s into the stream, added as soon as it listens (or
# subscribing itself).
mkdir -p "$E2E_WORK/frames"
DECODE=(rtph264depay ! avdec_h264 ! videoconvert ! pngenc
  ! multifilesink location="$E2E_WORK/frames/f-%05d.png")
export GST_DEBUG_NO_COLOR=1 \
  GST_DEBUG=libav:4,avviddec:2,videodecoder:2,rtph264depay:2,rtpbasedepayload:2
if [ "$CONTROL" = subscribe ]; then
  gst-inspect-1.0 ebpfprioritysrc >/dev/null 2>&1 \
    || e2e_fail "gst-inspect-1.0 cannot find ebpfprioritysrc"
  t_launch=$(e2e_now)
  e2e_bg "$P-cli1" viewer gst-launch-1.0 -e ebpfprioritysrc port=6000 \
    relay=10.200.11.1:5006 token=sesame priority-limit=0 caps="$CAPS" \
    ! rtpjitterbuffer latency=100 ! "${DECODE[@]}"
  VIEWER=$E2E_LAST_PID
  for _ in $(seq 1000); do
    grep -q '^client-added 10.200.11.2 6000$' "$E2E_CTL_OUT" && break
    sleep 0.01
  done
  t_add=$(e2e_now)
  grep -q '^client-added 10.200.11.2 6000$' "$E2E_CTL_OUT" \
    || e2e_fail "the viewer did not subscribe within 10 s"
  e2e_log "viewer launched at $t_launch, subscribed (client-added) $(awk -v a="$t_launch" -v b="$t_add" 'BEGIN { printf "%d", (b - a) * 1000 }') ms later"
else
  e2e_bg "$P-cli1" viewer gst-launch-1.0 -e rtpbin name=rb latency=100 \
    udpsrc port=6000 caps="$CAPS" ! rb.recv_rtp_sink_0 \
    udpsrc port=6001 ! rb.recv_rtcp_sink_0 \
    rb. ! "${DECODE[@]}" \
    rb.send_rtcp_src_0 ! udpsink host=10.200.11.1 port=5005 sync=false async=false
  VIEWER=$E2E_LAST_PID
  e2e_wait_udp "$P-cli1" 6000 6001
  t_add=$(e2e_now)
  e2e_ctl add 10.200.11.2 6000
fi
unset GST_DEBUG GST_DEBUG_NO_COLOR
e2e_log "viewer added at $t_add ($(awk -v a="$t_first" -v b="$t_add" 'BEGIN { printf "%.2f", b - a }') s after the first IDR)"

first=$E2E_WORK/frames/f-00000.png
wait_tenths=20
[ "$CONTROL" = nopli ] && wait_tenths=120
ebr_until $wait_tenths test -s "$first"
e2e_alive "$VIEWER" viewer
sleep 0.6
t_frame=$( [ -s "$first" ] && stat -c %.9Y "$first")
join_ms=$( [ -n "$t_frame" ] && awk -v a="$t_add" -v b="$t_frame" 'BEGIN { printf "%d", (b - a) * 1000 }')
frames=$(find "$E2E_WORK/frames" -name 'f-*.png' | wc -l)
t_half=$(awk -v a="$t_add" 'BEGIN { printf "%.3f", a + 0.5 }')
before=$(idrs "$(awk -v a="$t_first" 'BEGIN { printf "%.3f", a + 0.001 }')" "$t_add")
after=$(idrs "$t_add" "$t_half")
join=$(e2e_relay_stat keyframe-requests-join)
errs=$(grep -cE '^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing' "$E2E_WORK/viewer.log")
e2e_ctl get-stats 10.200.11.2 6000
held=$(ebr_field "$(grep '^get-stats ' <<<"$E2E_CTL_REPLY")" keyframe-held)
[ -n "${t_launch:-}" ] && [ -n "$t_frame" ] \
  && e2e_log "launch to first frame: $(awk -v a="$t_launch" -v b="$t_frame" 'BEGIN { printf "%d", (b - a) * 1000 }') ms"
e2e_log "join to first frame: ${join_ms:-none} ms (mode=$MODE${CONTROL:+, $CONTROL}); frames so far $frames; sender IDRs after the first and before the add: $before, within 0.5 s of the add: $after; keyframe-requests-join=$join; decoder errors $errs; held at the relay ${held:-?}"

[ "$join" = 1 ] || e2e_fail "keyframe-requests-join is $join, not 1"
[ "$before" -eq 0 ] || e2e_fail "the sender made $before IDR(s) before the add (GOP 10 s)"
if [ "$CONTROL" = nopli ]; then
  [ "$after" -eq 0 ] || e2e_fail "control: the sender made $after IDR(s) within 0.5 s without the PLI"
  [ -z "$join_ms" ] || [ "$join_ms" -gt 2000 ] \
    || e2e_fail "control: the first frame came ${join_ms} ms after the add without the PLI"
  e2e_log "control: without the PLI no frame within 0.5 s (first after ${join_ms:-more than 12000} ms)"
else
  [ -n "$join_ms" ] || e2e_fail "no decoded frame within 2 s of the add"
  [ "$join_ms" -le 500 ] || e2e_fail "first frame ${join_ms} ms after the add, more than 500"
  [ "$after" -ge 1 ] || e2e_fail "the sender made no IDR within 0.5 s of the add"
fi
[ "$errs" -eq 0 ] || e2e_fail "$errs decoder errors: $(grep -m3 -E 'WARN|ERROR|concealing' "$E2E_WORK/viewer.log")"
e2e_ctl_stop
e2e_log "PASS"
