#!/usr/bin/env bash
# e2e-kfcache.sh MODE [nocache]: a late joiner gets a picture at once from a
# sender that cannot answer a key-frame request, thanks to the relay's
# key-frame cache (keyframe-cache=true); MODE kernel or userspace:
#   srv:  x264enc with a 10 s GOP (key-int-max=300 at 30 fps) ! rtph264pay
#         ! udpsink to the relay's stream port 5004: no rtpbin, no RTCP
#         either way, so nothing can ask it for a key frame (a tee copies
#         the stream to rtcp-tool keyframes on 127.0.0.1:5098: the
#         sender's IDR pictures, timed);
#   rel:  ebpfrelaysink keyframe-cache=true, no subscriber at first;
#   cli1: a stock viewer, udpsrc ! rtpjitterbuffer ! rtph264depay !
#         avdec_h264 ! pngenc ! multifilesink (a PNG per decoded frame),
#         with a tee copy of what udpsrc got to kfcache-tool capture
#         (sequence numbers, key packets), started 3 s into the stream and
#         added (relay-ctl add) once it listens.
# Asserts:
#   1. its first decoded frame is written within 0.5 s of the add (the
#      time is logged), no decoder error in its log;
#   2. the sender made no IDR picture between its first and 0.5 s after
#      the add (the picture came from the relay's cache);
#   3. what the viewer received is one contiguous run of sequence numbers
#      (no gap, no duplicate) starting at a key frame (SPS/IDR), the burst
#      then the live packets, and 3 s after the add it has decoded at least
#      the 3 s of the GOP plus most of the 3 s live since;
#   4. the relay counted one burst (keyframe-bursts, the subscriber's
#      keyframe-burst-packets > 0), no miss, and the subscriber is no longer
#      pending (kernel mode: served by the kernel, path=kernel);
#   5. an SR of the stream (rtcp-tool send sr:SSRC from the sender's host
#      to the relay's RTCP port 5005) reaches the viewer's port 6001 with
#      its own packet count, the burst's packets included: within 20 of
#      what the capture got before the SR (the burst alone is ~200-300).
# subscribe: the viewer is ebpfprioritysrc (priority-limit 0, then the
#   same tee) subscribing through the relay's subscription channel
#   (control-port 5006) when it starts; the join is when relay-ctl prints
#   its client-added (polled every 10 ms).
# limit6: the viewer joins through a clients change at priority limit 6
#   (x264's access unit delimiters and SEI, NRI 0, are dropped for it, in
#   the burst and live): the same, in its own contiguous numbering.
# small: keyframe-cache-size=64, smaller than the GOP so far (~290
#   packets): the burst is a miss (keyframe-cache-misses 1), the viewer
#   waits for the sender's next IDR as without the cache (no frame within
#   2 s), then gets one contiguous run from that key frame, no decoder
#   error, and moves to the kernel.
# nocache (the negative control): keyframe-cache=false; then the first
# frame comes only with the sender's next IDR, ~7 s after the add:
# asserts no frame within 2 s.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
CONTROL=${2:-}
e2e_init "kfcache-$MODE${CONTROL:+-$CONTROL}"

for e in x264enc rtph264pay rtph264depay avdec_h264 videotestsrc tee \
  pngenc multifilesink videoconvert rtpjitterbuffer; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
HERE=$(dirname "${BASH_SOURCE[0]}")
TOOL="python3 $HERE/rtcp-tool.py"
KF="python3 $HERE/kfcache-tool.py"
P=$E2E_PREFIX
SECS=30
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
CACHE=true
[ "$CONTROL" = nocache ] && CACHE=false
[ "$CONTROL" = small ] && CACHE="true keyframe-cache-size=64"
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
e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE keyframe-cache=$CACHE $CHANNEL"
e2e_wait_udp "$P-rel" 5004

e2e_bg "$P-srv" sender gst-launch-1.0 -e \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc key-int-max=300 tune=zerolatency speed-preset=ultrafast bitrate=500 \
  ! rtph264pay config-interval=-1 pt=96 ! tee name=m \
  m. ! queue ! udpsink host=10.200.1.2 port=5004 \
  m. ! queue ! udpsink host=127.0.0.1 port=5098
SENDER=$E2E_LAST_PID
ebr_until 100 eval '[ "$(idrs 0)" -ge 1 ]' || e2e_fail "no IDR from the sender within 10 s"
t_first=$(awk '{ print substr($1, 3); exit }' "$E2E_WORK/idr.txt")
e2e_log "the sender's first IDR at $t_first"
sleep 3
e2e_alive "$SENDER" sender

mkdir -p "$E2E_WORK/frames"
e2e_bg "$P-cli1" capture $KF capture 6100 "$E2E_WORK/seqs.txt" 20
# (bound before the viewer starts: a burst sent while the capture's socket
# is not there yet is refused on the viewer's loopback, and the capture
# then starts at the first live packet, no key frame)
e2e_wait_udp "$P-cli1" 6100
export GST_DEBUG_NO_COLOR=1 \
  GST_DEBUG=libav:4,avviddec:2,videodecoder:2,rtph264depay:2,rtpbasedepayload:2
if [ "$CONTROL" = subscribe ]; then
  gst-inspect-1.0 ebpfprioritysrc >/dev/null 2>&1 \
    || e2e_fail "gst-inspect-1.0 cannot find ebpfprioritysrc"
  SRC=(ebpfprioritysrc port=6000 relay=10.200.11.1:5006 token=sesame
    priority-limit=0 caps="$CAPS")
else
  SRC=(udpsrc port=6000 caps="$CAPS" buffer-size=4194304)
fi
e2e_bg "$P-cli1" viewer gst-launch-1.0 -e "${SRC[@]}" ! tee name=t \
  t. ! queue ! rtpjitterbuffer latency=200 ! rtph264depay ! avdec_h264 \
  ! videoconvert ! pngenc ! multifilesink location="$E2E_WORK/frames/f-%05d.png" \
  t. ! queue ! udpsink host=127.0.0.1 port=6100 sync=false async=false
VIEWER=$E2E_LAST_PID
unset GST_DEBUG GST_DEBUG_NO_COLOR
if [ "$CONTROL" = subscribe ]; then
  for _ in $(seq 1000); do
    grep -q '^client-added 10.200.11.2 6000$' "$E2E_CTL_OUT" && break
    sleep 0.01
  done
  t_add=$(e2e_now)
  grep -q '^client-added 10.200.11.2 6000$' "$E2E_CTL_OUT" \
    || e2e_fail "the viewer did not subscribe within 10 s"
else
  e2e_wait_udp "$P-cli1" 6000
  t_add=$(e2e_now)
  if [ "$CONTROL" = limit6 ]; then
    e2e_ctl set clients 10.200.11.2:6000@6
  else
    e2e_ctl add 10.200.11.2 6000
  fi
fi
e2e_log "viewer added at $t_add ($(awk -v a="$t_first" -v b="$t_add" 'BEGIN { printf "%.2f", b - a }') s after the first IDR)"

first=$E2E_WORK/frames/f-00000.png
wait_tenths=20
[ "$CONTROL" = nocache ] || [ "$CONTROL" = small ] && wait_tenths=25
ebr_until $wait_tenths test -s "$first"
e2e_alive "$VIEWER" viewer
t_frame=$( [ -s "$first" ] && stat -c %.9Y "$first")
join_ms=$( [ -n "$t_frame" ] && awk -v a="$t_add" -v b="$t_frame" 'BEGIN { printf "%d", (b - a) * 1000 }')
t_half=$(awk -v a="$t_add" 'BEGIN { printf "%.3f", a + 0.5 }')
idr_between=$(idrs "$(awk -v a="$t_first" 'BEGIN { printf "%.3f", a + 0.001 }')" "$t_half")

if [ "$CONTROL" = nocache ]; then
  e2e_log "control: join to first frame ${join_ms:-more than 2500} ms; sender IDRs after the first and within 0.5 s of the add: $idr_between"
  [ "$idr_between" -eq 0 ] || e2e_fail "the sender made $idr_between IDR(s) (GOP 10 s)"
  [ -z "$join_ms" ] || [ "$join_ms" -gt 2000 ] \
    || e2e_fail "control: a frame ${join_ms} ms after the add without the cache"
  e2e_ctl_stop
  e2e_log "PASS"
  exit 0
fi

if [ "$CONTROL" = small ]; then
  [ -z "$join_ms" ] || [ "$join_ms" -gt 2000 ] \
    || e2e_fail "small: a frame ${join_ms} ms after the add with a cache smaller than the GOP"
  # the sender's next IDR (its GOP: 10 s from the first), then 2 s of play
  ebr_until 100 test -s "$first" || e2e_fail "no frame after the next IDR"
  t_frame=$(stat -c %.9Y "$first")
  join_ms=$(awk -v a="$t_add" -v b="$t_frame" 'BEGIN { printf "%d", (b - a) * 1000 }')
  t_idr2=$(awk -v a="$t_first" '{ t = substr($1, 3) + 0 } t > a + 1 { printf "%.3f", t; exit }' "$E2E_WORK/idr.txt")
  sleep 2
  e2e_alive "$VIEWER" viewer
  check=$($KF check "$E2E_WORK/seqs.txt")
  check_rc=$?
  errs=$(grep -cE '^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing' "$E2E_WORK/viewer.log")
  e2e_ctl stats
  st=$(grep '^stats ' <<<"$E2E_CTL_REPLY")
  misses=$(ebr_field "$st" keyframe-cache-misses)
  overflows=$(ebr_field "$st" keyframe-cache-overflows)
  e2e_ctl get-stats 10.200.11.2 6000
  line=$(grep '^get-stats ' <<<"$E2E_CTL_REPLY")
  bpk=$(ebr_field "$line" keyframe-burst-packets)
  path=$(grep -oE 'path=\(string\)[a-z]+' <<<"$line" | sed 's/.*)//')
  e2e_log "small: first frame ${join_ms} ms after the add (the sender's next IDR at ${t_idr2:-?}); viewer's packets: $check; misses=$misses overflows=$overflows burst packets=$bpk path=$path; decoder errors $errs"
  [ "$misses" = 1 ] || e2e_fail "keyframe-cache-misses is $misses, not 1"
  [ "${bpk:-x}" = 0 ] || e2e_fail "a burst of $bpk packets from a cache smaller than the GOP"
  [ "$check_rc" -eq 0 ] || e2e_fail "the viewer's sequence numbers are not one contiguous run from a key frame: $check"
  [ "$errs" -eq 0 ] || e2e_fail "$errs decoder errors: $(grep -m3 -E 'WARN|ERROR|concealing' "$E2E_WORK/viewer.log")"
  [ "$MODE" != kernel ] || [ "$path" = kernel ] || e2e_fail "served from $path after the key frame, not the kernel"
  e2e_ctl_stop
  e2e_log "PASS"
  exit 0
fi

# 3 s of live play after the add
sleep "$(awk -v a="$t_add" -v n="$(e2e_now)" 'BEGIN { d = a + 3 - n; printf "%.2f", (d > 0 ? d : 0) }')"
e2e_alive "$VIEWER" viewer
frames=$(find "$E2E_WORK/frames" -name 'f-*.png' | wc -l)
gop_s=$(awk -v a="$t_first" -v b="$t_add" 'BEGIN { printf "%.2f", b - a }')
min_frames=$(awk -v g="$gop_s" 'BEGIN { printf "%d", 30 * g + 30 * 3 * 0.7 }')
check=$($KF check "$E2E_WORK/seqs.txt")
check_rc=$?
errs=$(grep -cE '^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing' "$E2E_WORK/viewer.log")
# 5. an SR through the relay, with the viewer's counts
e2e_bg "$P-cli1" srs $TOOL listen 6001 "$E2E_WORK/srs.txt" 5
e2e_wait_udp "$P-cli1" 6001
ssrc=$(awk 'NR == 1 { sub("ssrc=", "", $4); print $4 }' "$E2E_WORK/seqs.txt")
ip netns exec "$P-srv" $TOOL send 10.200.1.2 5005 0 "sr:${ssrc:-0}"
ebr_until 20 grep -q ' SR:' "$E2E_WORK/srs.txt"
sr_line=$(grep -m1 ' SR:' "$E2E_WORK/srs.txt")
t_sr=$(awk '{ print substr($1, 3) }' <<<"$sr_line")
sr_pk=$(grep -oE 'SR:[0-9]+:[0-9]+:[0-9]+:[0-9]+' <<<"$sr_line" | cut -d: -f5)
rx_pk=$(awk -v t="${t_sr:-0}" 'substr($1, 3) + 0 < t + 0 { n++ } END { print n + 0 }' "$E2E_WORK/seqs.txt")
e2e_log "SR at the viewer: packets=${sr_pk:-none}; the viewer had ${rx_pk} before it"
e2e_ctl stats
st=$(grep '^stats ' <<<"$E2E_CTL_REPLY")
bursts=$(ebr_field "$st" keyframe-bursts)
misses=$(ebr_field "$st" keyframe-cache-misses)
cache_pk=$(ebr_field "$st" keyframe-cache-packets)
cache_by=$(ebr_field "$st" keyframe-cache-bytes)
e2e_ctl get-stats 10.200.11.2 6000
line=$(grep '^get-stats ' <<<"$E2E_CTL_REPLY")
bpk=$(ebr_field "$line" keyframe-burst-packets)
bby=$(ebr_field "$line" keyframe-burst-bytes)
pending=$(grep -oE 'keyframe-burst-pending=\(boolean\)[a-z]+' <<<"$line" | sed 's/.*)//')
path=$(grep -oE 'path=\(string\)[a-z]+' <<<"$line" | sed 's/.*)//')
# the burst's pace at the viewer: its packets (the first bpk it got) took
# at least their bytes at keyframe-burst-rate (16 Mbit/s), less the
# bucket's 20 ms
burst_ms=$(awk -v n="${bpk:-0}" 'NR == 1 { a = substr($1, 3) } NR == n { printf "%d", (substr($1, 3) - a) * 1000; exit }' "$E2E_WORK/seqs.txt")
pace_ms=$(awk -v b="${bby:-0}" 'BEGIN { printf "%d", b * 8 / 16000000 * 1000 - 20 }')
e2e_log "the burst at the viewer: ${burst_ms:-?} ms for ${bby:-?} bytes (at 16 Mbit/s: $((pace_ms + 20)) ms)"
e2e_log "join to first frame: ${join_ms:-none} ms (mode=$MODE); frames 3 s after the add $frames (at least $min_frames: the ${gop_s} s of the GOP and 3 s live); sender IDRs after the first and within 0.5 s of the add: $idr_between; decoder errors $errs"
e2e_log "viewer's packets: $check"
dropped=$(ebr_field "$line" priority-dropped)
e2e_log "relay: priority-dropped=${dropped:-?} keyframe-bursts=$bursts misses=$misses cache now $cache_pk packets / $cache_by bytes; subscriber burst $bpk packets / $bby bytes, pending=$pending, path=$path"

[ -n "$join_ms" ] || e2e_fail "no decoded frame within 2 s of the add"
[ "$join_ms" -le 500 ] || e2e_fail "first frame ${join_ms} ms after the add, more than 500"
[ "$idr_between" -eq 0 ] || e2e_fail "the sender made $idr_between IDR(s): the frame may not come from the cache"
[ "$errs" -eq 0 ] || e2e_fail "$errs decoder errors: $(grep -m3 -E 'WARN|ERROR|concealing' "$E2E_WORK/viewer.log")"
[ "$check_rc" -eq 0 ] || e2e_fail "the viewer's sequence numbers are not one contiguous run from a key frame: $check"
[ "$frames" -ge "$min_frames" ] || e2e_fail "only $frames frames decoded 3 s after the add (at least $min_frames)"
[ "$bursts" = 1 ] || e2e_fail "keyframe-bursts is $bursts, not 1"
[ "$misses" = 0 ] || e2e_fail "keyframe-cache-misses is $misses, not 0"
[ "${bpk:-0}" -gt 0 ] || e2e_fail "the subscriber's keyframe-burst-packets is ${bpk:-missing}"
[ "$pending" = false ] || e2e_fail "the subscriber's burst is still pending"
[ "${burst_ms:-0}" -ge "$pace_ms" ] || e2e_fail "the burst took ${burst_ms:-?} ms, faster than keyframe-burst-rate allows ($pace_ms)"
[ -n "${sr_pk:-}" ] || e2e_fail "no SR reached the viewer's port 6001"
[ "$(( sr_pk > rx_pk ? sr_pk - rx_pk : rx_pk - sr_pk ))" -le 20 ] \
  || e2e_fail "the viewer's SR counts $sr_pk packets, it received $rx_pk before it (burst $bpk)"
if [ "$CONTROL" = limit6 ]; then
  [ "${dropped:-0}" -gt 0 ] || e2e_fail "limit 6: nothing dropped for it (priority-dropped ${dropped:-missing})"
fi
if [ "$MODE" = kernel ]; then
  [ "$path" = kernel ] || e2e_fail "the subscriber is served from $path, not the kernel, after its burst"
fi
e2e_ctl_stop
e2e_log "PASS"
