#!/usr/bin/env bash
# e2e-switch.sh MODE [storm|720p]: a viewer's limit switched while PLAYING never
# breaks a picture (issue 12 item 1), MODE kernel or userspace, with a
# stock GStreamer sender and viewer:
#   srv:  rtpbin + x264enc (640x360 snow, ~5 packets a frame, B frames:
#         main profile, a 4 s GOP) sending RTP to
#         the relay's port 5004 and RTCP to 5005; it gets RTCP on 5008
#         (a PLI becomes a key frame); a tee records what it sent
#         (rtp-switch rec on 127.0.0.1:5098);
#   rel:  ebpfrelaysink mode=MODE upstream-rtcp=10.200.1.1:5008;
#   cli1: a stock rtpbin viewer (rtph264depay ! avdec_h264 ! fakesink),
#         its RTP also recorded (a tee to rtp-switch rec on 127.0.0.1:7000).
# Without storm: switched 7->0, 0->7, 0->1, 1->0, 6->0 at random moments
# (set-priority-limit); after each lowering, the time until get-stats says
# the new limit is in force (limit-in-force, limit-pending) is measured
# and must stay under 1 s (the relay asks the sender for a key frame; the
# GOP is 4 s). With storm: 200 toggles between limits 0 and 6 at 37 ms.
# With 720p: the same switches at 1280x720, 5 Mbit/s (tens of packets a
# frame).
# Asserts:
#   1. 0 decoder errors (avdec_h264, depayloader); ffmpeg decodes the
#      received stream (rtp-switch h264) with no error, every picture;
#   2. rtp-switch check: what the viewer received is exactly what the
#      sent stream gives under limits in force that changed only at frame
#      starts (raises) and key frame starts (lowerings), sequence numbers
#      contiguous (original minus the drops), byte for byte otherwise;
#   3. the relay's counts for it agree: packets == received,
#      priority-dropped == dropped by the check;
#   4. in the end the limit asked for is in force (no switch pending).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
KIND=${2:-}
e2e_init "switch-$MODE${KIND:+-$KIND}"

for e in rtpbin x264enc rtph264pay rtph264depay avdec_h264 videotestsrc tee \
  fakesink; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
e2e_tool EBR_RTP_SWITCH rtp-switch
P=$E2E_PREFIX
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
V=10.200.11.2
SIZE="width=640,height=360"
RATE=1500
# 720p: a frame spans tens of packets (mtu 1200)
[ "$KIND" = 720p ] && SIZE="width=1280,height=720" RATE=5000
ebr_topology_up "$P" 1 || e2e_fail "topology"

e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS buffer-size=4194304 \
! ebpfrelaysink name=relay mode=$MODE upstream-rtcp=10.200.1.1:5008"
e2e_wait_udp "$P-rel" 5004 5005

e2e_bg "$P-cli1" rec-rx "$EBR_RTP_SWITCH" rec 7000 "$E2E_WORK/rx.rec"
RECRX=$E2E_LAST_PID
e2e_bg "$P-srv" rec-tx "$EBR_RTP_SWITCH" rec 5098 "$E2E_WORK/tx.rec"
RECTX=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 7000
e2e_wait_udp "$P-srv" 5098

export GST_DEBUG_NO_COLOR=1 \
  GST_DEBUG=libav:4,avviddec:2,videodecoder:2,rtph264depay:2,rtpbasedepayload:2
e2e_bg "$P-cli1" viewer gst-launch-1.0 -e rtpbin name=rb latency=200 \
  udpsrc port=6000 caps="$CAPS" buffer-size=4194304 ! tee name=t \
  t. ! queue ! rb.recv_rtp_sink_0 \
  t. ! queue ! udpsink host=127.0.0.1 port=7000 sync=false async=false \
  udpsrc port=6001 ! rb.recv_rtcp_sink_0 \
  rb. ! rtph264depay ! avdec_h264 ! fakesink sync=false \
  rb.send_rtcp_src_0 ! udpsink host=10.200.11.1 port=5005 sync=false async=false
VIEWER=$E2E_LAST_PID
unset GST_DEBUG GST_DEBUG_NO_COLOR
e2e_wait_udp "$P-cli1" 6000 6001
e2e_ctl add $V 6000
e2e_ctl set-priority-limit $V 6000 7
# kernel mode: the sender starts once the relay's kernel serves the viewer
# (its route resolved): copies the kernel leaves to userspace meanwhile go
# up as perf events, which a 720p key frame's burst can overflow on a
# loaded machine (kernel-event-errors), and the check would see the loss
if [ "$MODE" = kernel ]; then
  ip netns exec "$P-rel" ping -c 1 -W 1 $V >/dev/null 2>&1   # its neighbour entry
  for _ in $(seq 100); do
    e2e_ctl get-stats $V 6000
    grep -q 'path=(string)kernel' <<<"$E2E_CTL_REPLY" && break
    sleep 0.05
  done
  grep -q 'path=(string)kernel' <<<"$E2E_CTL_REPLY" \
    || e2e_log "the relay's kernel does not serve the viewer yet: starting anyway"
fi

# One CPU for the sender: its packets then reach the relay in the order it
# recorded them (a thread moving between CPUs mid-burst reorders them in
# the veth's per-CPU backlogs, and the check compares with that order).
e2e_bg "$P-srv" sender taskset -c 0 gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=snow ! video/x-raw,$SIZE,framerate=30/1 \
  ! x264enc bframes=2 b-adapt=false key-int-max=120 speed-preset=ultrafast \
    tune=zerolatency bitrate=$RATE \
  ! video/x-h264,profile=main ! rtph264pay config-interval=-1 pt=96 mtu=1200 ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! tee name=m \
  m. ! queue ! udpsink host=10.200.1.2 port=5004 \
  m. ! queue ! udpsink host=127.0.0.1 port=5098 \
  rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID
e2e_wait_udp "$P-srv" 5008

# in_force: the limit in force and the one pending ("-" for none).
in_force ()
{
  local s
  e2e_ctl get-stats $V 6000
  s=$(grep '^get-stats ' <<<"$E2E_CTL_REPLY")
  F=$(ebr_field "$s" limit-in-force)
  PEND=$(ebr_field "$s" limit-pending)
  F=${F:--}
  PEND=${PEND:--}
}

# switch_to L: asks for L; when it is a lowering, waits for it to be in
# force and logs how long that took.
LOWER_MS=()
switch_to ()
{
  local l=$1 t0 ms old
  in_force
  old=$F
  t0=$(e2e_now)
  e2e_ctl set-priority-limit $V 6000 "$l"
  [ "$old" != - ] && [ "$l" -lt "$old" ] || return 0
  for _ in $(seq 300); do
    in_force
    [ "$F" = "$l" ] && [ "$PEND" = - ] && break
    sleep 0.01
  done
  ms=$(awk -v a="$t0" -v b="$(e2e_now)" 'BEGIN { printf "%d", (b - a) * 1000 }')
  [ "$F" = "$l" ] || e2e_fail "limit $old -> $l not in force after ${ms} ms (in force $F, pending $PEND)"
  LOWER_MS+=("$ms")
  e2e_log "lowered $old -> $l: in force after $ms ms"
}

# the viewer starts at a key frame, at 7
for _ in $(seq 100); do
  in_force
  [ "$F" = 7 ] && break
  sleep 0.1
done
[ "$F" = 7 ] || e2e_fail "the viewer did not start (in force $F)"
e2e_alive "$SENDER" sender

rnd_sleep ()
{
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.3f", 0.3 + rand() * 1.2 }')"
}

if [ "$KIND" = storm ]; then
  LIMITS="0 6 7"    # 7: where it starts
  switch_to 0
  rnd_sleep
  # 200 toggles, 37 ms apart, written without waiting for each answer
  before=$(wc -l <"$E2E_CTL_OUT")
  for i in $(seq 200); do
    echo "set-priority-limit $V 6000 $(( i % 2 ? 6 : 0 ))" >&"$E2E_CTL_FD"
    sleep 0.037
  done
  for _ in $(seq 500); do
    [ "$(tail -n +"$((before + 1))" "$E2E_CTL_OUT" | grep -cx ok)" -ge 200 ] && break
    sleep 0.02
  done
  [ "$(tail -n +"$((before + 1))" "$E2E_CTL_OUT" | grep -cx ok)" -ge 200 ] \
    || e2e_fail "not every toggle was answered"
  e2e_log "200 toggles 0 <-> 6 sent at 37 ms"
  # ends at 0 (the 200th toggle): in force at the next key frame
  for _ in $(seq 300); do
    in_force
    [ "$F" = 0 ] && [ "$PEND" = - ] && break
    sleep 0.01
  done
else
  LIMITS="0 1 6 7"
  for l in 0 7 0 1 0 6 0; do
    rnd_sleep
    switch_to "$l"
  done
fi
sleep 1
in_force
[ "$F" = 0 ] && [ "$PEND" = - ] || e2e_fail "in the end: in force $F, pending $PEND (asked 0)"
e2e_alive "$VIEWER" viewer
e2e_alive "$SENDER" sender

# Stop the sender first, then the recorders and the viewer.
ebr_stop "$SENDER" 50
sleep 0.5
e2e_ctl get-stats $V 6000
stats=$(grep '^get-stats ' <<<"$E2E_CTL_REPLY")
relay_packets=$(ebr_field "$stats" packets)
relay_dropped=$(ebr_field "$stats" priority-dropped)
relay_held=$(ebr_field "$stats" keyframe-held)
retried=$(e2e_relay_stat keyframe-requests-retried)
event_errors=$(e2e_relay_stat kernel-event-errors)
limit_req=$(e2e_relay_stat keyframe-requests-limit)
ebr_stop "$VIEWER" 50
ebr_stop "$RECRX" 20
ebr_stop "$RECTX" 20

# Decoder errors as e2e-latejoin.sh counts them, but for GstVideoDecoder's
# "decreasing timestamp" warning: a timing one (the output's PTS, from the
# viewer's jitter buffer, went back by less than a frame), which its
# stream gets once after the IDR-only period at limit 7 with B frames
# whatever the relay does (also on main: issue 12 item 2's reorder delay);
# counted apart and logged.
errs=$(grep -E '^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing' "$E2E_WORK/viewer.log" | grep -vc 'decreasing timestamp')
ts_warn=$(grep -c 'videodecoder.*decreasing timestamp' "$E2E_WORK/viewer.log")
check=$("$EBR_RTP_SWITCH" check "$E2E_WORK/tx.rec" "$E2E_WORK/rx.rec" $LIMITS 2>"$E2E_WORK/check.err")
crc=$?
e2e_log "rtp-switch check: $check (exit $crc)"
[ -s "$E2E_WORK/check.err" ] && head -n 5 "$E2E_WORK/check.err" >&2
e2e_log "relay: packets=$relay_packets priority-dropped=$relay_dropped keyframe-held=$relay_held keyframe-requests-limit=$limit_req retried=$retried kernel-event-errors=${event_errors:-0}; decoder errors $errs (and $ts_warn decreasing-timestamp warnings)"
[ ${#LOWER_MS[@]} -gt 0 ] && e2e_log "lowering to in force (ms): ${LOWER_MS[*]}"

[ "$errs" -eq 0 ] || e2e_fail "$errs decoder errors: $(grep -E 'WARN|ERROR|concealing' "$E2E_WORK/viewer.log" | grep -v 'decreasing timestamp' | head -n 3)"
[ $crc -eq 0 ] || e2e_fail "the viewer's stream is not the sent one switched at boundaries: $(head -n 3 "$E2E_WORK/check.err")"
# ffmpeg decodes what the viewer was given (depacketized by rtp-switch).
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
  pics=$("$EBR_RTP_SWITCH" h264 "$E2E_WORK/rx.rec" "$E2E_WORK/rx.h264" | sed -n 's/^pictures=//p')
  ff_errs=$(ffmpeg -nostdin -v error -f h264 -i "$E2E_WORK/rx.h264" -f null - 2>&1 | tee "$E2E_WORK/ffmpeg.log" | wc -l)
  ff_frames=$(ffprobe -v error -f h264 -count_frames -select_streams v:0 \
    -show_entries stream=nb_read_frames -of csv=p=0 "$E2E_WORK/rx.h264")
  e2e_log "ffmpeg: $pics pictures given, $ff_frames decoded, $ff_errs error lines"
  [ "$ff_errs" -eq 0 ] || e2e_fail "ffmpeg: $(head -n 3 "$E2E_WORK/ffmpeg.log")"
  [ -n "$pics" ] && [ "${ff_frames:-0}" -ge "$pics" ] \
    || e2e_fail "ffmpeg decoded ${ff_frames:-no} frames of the $pics pictures given"
else
  e2e_log "ffmpeg/ffprobe not installed: not decoded with ffmpeg"
fi
got=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$check")
dropped=$(sed -n 's/.*dropped=\([0-9]*\).*/\1/p' <<<"$check")
[ "$got" -gt 500 ] || e2e_fail "the viewer received only $got packets"
[ "$relay_packets" = "$got" ] || e2e_fail "the relay counted $relay_packets packets sent to it, it received $got"
[ "$relay_dropped" = "$dropped" ] || e2e_fail "the relay counted $relay_dropped dropped for it, the check $dropped"
for ms in "${LOWER_MS[@]}"; do
  [ "$ms" -le 1000 ] || e2e_fail "a lowering took $ms ms to be in force (GOP 4 s; the key-frame request should make it ~RTT + encoder delay)"
done
e2e_ctl_stop
e2e_log "PASS"
