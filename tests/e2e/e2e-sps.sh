#!/usr/bin/env bash
# No added delay at a limit (issue 12 item 2): a limit-7 viewer of an x264
# stream with B frames (bframes=2, a key frame each 2 s at 30 fps) shows
# each key frame as it arrives, because ebpfprioritysrc rewrites the SPS it
# pushes to declare no reordering (rewrite-sps, ebpfrelay-sps.c).
# sps-viewer.py runs sender and viewer on the loopback of a namespace of
# this test, and ffmpeg on what the viewer pushed (over RTP, live).
#
#   e2e-sps.sh MODE       MODE: kernel or userspace (the viewer's filter)
#
# Asserts:
#   - rewrite-sps=true (the default), limit 7: avdec_h264 outputs one
#     picture per IDR picture the viewer pushed (at least 3), each within
#     100 ms of its first packet's arrival; ffmpeg outputs every one but
#     the last (its H.264 parser ends an access unit when the next one
#     starts: the last one waits for a key frame that is not sent), the
#     SPSs were rewritten;
#   - the control, rewrite-sps=false: avdec_h264 holds pictures back
#     (fewer pictures than IDRs while the stream is live: the ~4 s of the
#     issue, two key frame intervals for x264's max_num_reorder_frames=2),
#     ffmpeg shows fewer than with the rewrite;
#   - limit 0 (B slices pass): no SPS rewritten, every SPS pushed as
#     received, every frame decoded;
#   - switching while PLAYING, 7 -> 0 at 3 s -> 7 at 7 s: the SPSs at limit
#     0 as received (the decoder learns the reordering before the B frames
#     come), rewritten again after the raise, where each key frame shows
#     within 100 ms of its arrival again; the limit-0 pictures decoded; no
#     decoder warning or error (but avdec's "decreasing timestamp" of B
#     frames stamped at their arrival, which limit 0 alone also logs).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init sps

MODE=${1:-kernel}
for e in x264enc avdec_h264 rtph264pay rtph264depay videotestsrc tee; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v ffmpeg >/dev/null || e2e_fail "ffmpeg not installed (scripts/deps.sh)"
GI_PY=/usr/bin/python3
"$GI_PY" -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null \
  || e2e_fail "$GI_PY has no GStreamer bindings (python3-gi, scripts/deps.sh)"
VIEWER=$(dirname "${BASH_SOURCE[0]}")/sps-viewer.py
NS=$E2E_PREFIX-sps
e2e_ns "$NS"

kv ()
{
  grep -oE "(^| )$2=[^ ]+" <<<"$1" | head -n 1 | sed 's/.*=//'
}

# run NAME SECONDS LIMIT REWRITE [SWITCH]: the summary line of one run.
run ()
{
  local name=$1 dir=$E2E_WORK/$1
  mkdir -p "$dir"
  GST_DEBUG=libav:2,videodecoder:2,rtph264depay:2 GST_DEBUG_NO_COLOR=1 \
    ip netns exec "$NS" "$GI_PY" "$VIEWER" "$2" "$3" "$4" "$MODE" 5004 5006 \
    "$dir" ${5:+"$5"} >"$E2E_WORK/$name.log" 2>&1 </dev/null \
    || e2e_fail "sps-viewer.py ($name) failed: $(tail -n 3 "$E2E_WORK/$name.log")"
  grep '^summary ' "$E2E_WORK/$name.log" \
    || e2e_fail "sps-viewer.py ($name): no summary"
}

e2e_log "limit 7, rewrite-sps=true, mode=$MODE"
s=$(run rewrite 7 7 true)
e2e_log "$s"
idrs=$(kv "$s" idrs)
[ "$idrs" -ge 3 ] || e2e_fail "the viewer pushed $idrs IDR pictures, expected >= 3"
[ "$(kv "$s" frames)" -eq "$idrs" ] \
  || e2e_fail "avdec_h264 output $(kv "$s" frames) pictures of $idrs IDRs"
d=$(kv "$s" max-delay-ms)
[ "$d" -ge 0 ] && [ "$d" -lt 100 ] \
  || e2e_fail "a key frame was shown $d ms after its arrival (limit 100 ms)"
[ "$(kv "$s" ffmpeg)" -ge $((idrs - 1)) ] \
  || e2e_fail "ffmpeg showed $(kv "$s" ffmpeg) pictures of $idrs IDRs (expected >= $((idrs - 1)))"
[ "$(kv "$s" sps-rewritten)" -ge "$idrs" ] && [ "$(kv "$s" sps-kept)" -eq 0 ] \
  || e2e_fail "SPSs rewritten $(kv "$s" sps-rewritten), kept $(kv "$s" sps-kept)"
ff_rewrite=$(kv "$s" ffmpeg)
e2e_log "rewrite: $idrs IDRs, $idrs pictures, the latest ${d} ms after its arrival; ffmpeg $ff_rewrite"

e2e_log "the control: limit 7, rewrite-sps=false"
s=$(run control 7 7 false)
e2e_log "$s"
cidrs=$(kv "$s" idrs)
[ "$cidrs" -ge 3 ] || e2e_fail "control: the viewer pushed $cidrs IDR pictures"
[ "$(kv "$s" frames)" -lt "$cidrs" ] \
  || e2e_fail "control: avdec_h264 output every picture without the rewrite ($(kv "$s" frames) of $cidrs): the test cannot fail"
[ "$(kv "$s" ffmpeg)" -lt "$ff_rewrite" ] \
  || e2e_fail "control: ffmpeg showed $(kv "$s" ffmpeg) pictures, as many as with the rewrite"
[ "$(kv "$s" sps-rewritten)" -eq 0 ] || e2e_fail "control: SPSs rewritten with rewrite-sps=false"
e2e_log "control: $(kv "$s" frames) pictures of $cidrs IDRs while live, ffmpeg $(kv "$s" ffmpeg)"

e2e_log "limit 0, rewrite-sps=true: nothing rewritten"
s=$(run limit0 5 0 true)
e2e_log "$s"
[ "$(kv "$s" sps-rewritten)" -eq 0 ] && [ "$(kv "$s" sps-kept)" -ge 2 ] \
  || e2e_fail "limit 0: SPSs rewritten $(kv "$s" sps-rewritten), kept $(kv "$s" sps-kept)"
f=$(kv "$s" frames)
# 5 s at 30 fps, less the frames the decoder still holds (B frames) and
# the sender's start
[ "$f" -ge 120 ] || e2e_fail "limit 0: $f pictures decoded in 5 s"
e2e_log "limit 0: $f pictures, SPSs as received"

e2e_log "switching: limit 7, 0 at 3 s, 7 at 7 s"
s=$(run switch 14 7 true "3:0,7:7")
e2e_log "$s"
[ "$(kv "$s" sps-kept)" -ge 2 ] \
  || e2e_fail "switch: $(kv "$s" sps-kept) SPSs as received at limit 0"
[ "$(kv "$s" sps-rewritten)" -ge 4 ] \
  || e2e_fail "switch: $(kv "$s" sps-rewritten) SPSs rewritten at limit 7"
d=$(kv "$s" tail-delay-ms)
[ "$d" -ge 0 ] && [ "$d" -lt 100 ] \
  || e2e_fail "switch: after the raise to 7 a key frame was shown $d ms after its arrival"
[ "$(kv "$s" frames)" -ge $(( $(kv "$s" idrs) + 30 )) ] \
  || e2e_fail "switch: $(kv "$s" frames) pictures, the limit-0 phase missing"
w=$(grep -E '(WARN|ERROR) .*(libav|videodecoder|rtph264depay)' "$E2E_WORK/switch.log" \
  | grep -vc 'decreasing timestamp')
[ "$w" -eq 0 ] || e2e_fail "switch: $w decoder warnings or errors: $(grep -E '(WARN|ERROR) ' "$E2E_WORK/switch.log" | grep -v 'decreasing timestamp' | head -n 3)"
e2e_log "switch: SPSs kept at 0 $(kv "$s" sps-kept), rewritten $(kv "$s" sps-rewritten), key frames after the raise within $d ms, no decoder warning"
e2e_log "PASS"
