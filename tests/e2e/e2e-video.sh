#!/usr/bin/env bash
# The video example end to end: examples/video.sh with its meter (a static
# limit-0 subscriber that counts the sender's packets per priority with
# bpf/priority.h). Server (rtpbin, x264enc with a 5 s GOP), relay
# (mode=kernel, control-port, upstream-rtcp to the server's rtpbin), three
# viewers at limits 0, 1 and 7 and one at limit 0 joining halfway are
# gst-launch pipelines; the viewers are stock rtpbin ! rtph264depay
# request-keyframe=true ! avdec_h264.
#
# Asserts, per viewer:
#   - the relay kernel's per-priority counters == the meter's counts;
#   - packets received == the sender's packets of priority >= its limit,
#     and received + dropped for it at the relay == all the sender's packets;
#   - 0 sequence gaps at its jitter buffer (contiguous rewriting);
#   - 0 decoder errors, frames decoded: limit 0 all 30*SECS, then
#     strictly fewer at limit 1 (B frames gone), fewer still at limit 7
#     (IDR pictures only), at least one;
#   - RTCP through the relay: the relay sent it the sender's SRs
#     (rtcp-sent > 0), its rtpbin holds the sender's SR (have-sr), the
#     relay has its RRs (fraction lost 0, a round-trip time >= 0);
# and for the late viewer: its first frame within 0.5 s of its join (the
# relay asked the sender's rtpbin for a key frame: keyframe-requests-join
# >= 1; without it the next one is up to 5 s away), frames, 0 decoder
# errors, 0 sequence gaps, the sender's SRs.
# Then checks that the decoder-error count can fail: the same example with
# 20 % random loss before the depayloader (--loss 0.2) must exit 1 and count
# errors.
#
# e2e-video.sh ipv6: the same over IPv6 (video.sh --ipv6: the stream, RTCP,
# the subscriptions and every viewer in IPv6), without the loss check
# (nothing in it depends on the family).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
FAM=${1:-ipv4}
case $FAM in ipv4) FAM_OPT=() ;; ipv6) FAM_OPT=(--ipv6) ;; *) echo "usage: $0 [ipv6]" >&2; exit 2 ;; esac
e2e_init "video-$FAM"

for e in x264enc avdec_h264 rtph264pay rtph264depay rtpjitterbuffer pngenc multifilesink; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
e2e_tool EBR_LAUNCH_STATS launch-stats
e2e_tool EBR_RTP_PRIO_COUNT rtp-prio-count

SECS=8
VIDEO=$EBR_SOURCE_ROOT/examples/video.sh

# kv LINE NAME: the value of NAME=VALUE in LINE.
kv ()
{
  grep -oE "(^| )$2=[^ ]+" <<<"$1" | head -n 1 | sed 's/.*=//'
}

e2e_log "video.sh --demo --meter -d $SECS ${FAM_OPT[*]} (limits 0,1,7)"
bash "$VIDEO" --demo --meter "${FAM_OPT[@]}" -d $SECS -p "$E2E_PREFIX" -o "$E2E_WORK/run1" \
  >"$E2E_WORK/video.log" 2>&1
rc=$?
cat "$E2E_WORK/video.log"
[ $rc -eq 0 ] || e2e_fail "video.sh exited $rc"
sum=$E2E_WORK/run1/summary.txt
[ -s "$sum" ] || e2e_fail "no summary"

meter=$(sed -n 's/^meter //p' "$sum")
sent=$(kv "$meter" packets)
[ -n "$sent" ] && [ "$sent" -gt 0 ] || e2e_fail "the meter counted no packet: $meter"
sender=$(kv "$(grep '^sender ' "$sum")" packets)
# The meter (a limit-0 subscriber there from the first packet) starts at
# the first key frame start (bpf/switch.h): x264's first access unit
# begins with a delimiter (NRI 0, frame marking D) that it is not sent;
# held packets are priority 0 (checked below, against the kernel's
# classification of all of them), and few.
held=$((sender - sent))
[ "$held" -ge 0 ] && [ "$held" -le 2 ] \
  || e2e_fail "udpsink rendered $sender packets, the meter received $sent"
[ "$(kv "$meter" p7)" -gt 0 ] && [ "$(kv "$meter" p0)" -gt 0 ] \
  || e2e_fail "the stream has no priority-7 or no priority-0 packet: $meter"

# The relay's kernel classified the stream as the meter (userspace, same
# header) did, priority by priority.
relay=$(grep '^relay ' "$sum")
for p in 0 1 2 3 4 5 6 7; do
  want=$(kv "$meter" "p$p")
  [ $p -eq 0 ] && want=$((want + held))
  [ "$(kv "$relay" "kernel-p$p")" = "$want" ] \
    || e2e_fail "priority $p: the relay's kernel counted $(kv "$relay" "kernel-p$p"), the meter $(kv "$meter" "p$p") (+ $held held at p0)"
done
e2e_log "kernel classification = meter's: $(grep -o 'kernel-p[0-9]=[0-9]*' <<<"$relay" | tr '\n' ' ')"

[ "$(kv "$relay" keyframe-requests-join)" -ge 1 ] \
  || e2e_fail "the relay asked for no key frame when the late viewer joined: $relay"

# rtcp LINE: the RTCP checks of one viewer's summary line.
rtcp ()
{
  [ "$(kv "$1" srs)" -gt 0 ] || e2e_fail "$(kv "$1" client): the relay sent it no SR"
  [ "$(kv "$1" has-sr)" = yes ] || e2e_fail "$(kv "$1" client): its rtpbin has no SR of the sender"
}

declare -A frames
nlate=0
while read -r line; do
  c=$(kv "$line" client)
  rtcp "$line"
  if [ "$(kv "$line" late)" = 1 ]; then
    nlate=$((nlate + 1))
    ff=$(kv "$line" first-frame-ms)
    [ "$(kv "$line" frames)" -gt 0 ] || e2e_fail "$c (late) decoded no frame"
    [ "$ff" -le 500 ] || e2e_fail "$c (late): first frame $ff ms after its join"
    [ "$(kv "$line" seq-gaps)" = 0 ] || e2e_fail "$c (late): $(kv "$line" seq-gaps) sequence gaps"
    [ "$(kv "$line" decoder-errors)" = 0 ] \
      || e2e_fail "$c (late): $(kv "$line" decoder-errors) decoder errors"
    e2e_log "$c late: first frame $ff ms after its join, $(kv "$line" frames) frames, 0 gaps, 0 decoder errors, $(kv "$line" srs) SRs"
    continue
  fi
  [ "$(kv "$line" fraction-lost)" = 0 ] || e2e_fail "$c: fraction lost $(kv "$line" fraction-lost) in its RR"
  awk -v r="$(kv "$line" rtt-ms)" 'BEGIN { exit !(r ~ /^[0-9.]+$/) }' \
    || e2e_fail "$c: no round-trip time at the relay: $(kv "$line" rtt-ms)"
  l=$(kv "$line" limit)
  p=$(kv "$line" packets)
  exp=$(kv "$meter" "ge$l")
  [ "$p" = "$exp" ] || e2e_fail "$c (limit $l) received $p packets, expected $exp"
  [ $(( p + $(kv "$line" relay-dropped) )) -eq "$sent" ] \
    || e2e_fail "$c: received $p + dropped at the relay $(kv "$line" relay-dropped) != sent $sent"
  [ "$(kv "$line" seq-gaps)" = 0 ] || e2e_fail "$c: $(kv "$line" seq-gaps) sequence gaps"
  [ "$(kv "$line" decoder-errors)" = 0 ] \
    || e2e_fail "$c: $(kv "$line" decoder-errors) decoder errors"
  frames[$l]=$(kv "$line" frames)
  e2e_log "$c limit $l: packets $p (expected $exp), frames ${frames[$l]}, 0 gaps, 0 decoder errors, $(kv "$line" srs) SRs, rtt $(kv "$line" rtt-ms) ms"
done < <(grep '^client=' "$sum")
[ "${#frames[@]}" -eq 3 ] || e2e_fail "expected 3 viewers in the summary"
[ "$nlate" -eq 1 ] || e2e_fail "expected one late viewer in the summary"
[ "${frames[0]}" -eq $((30 * SECS)) ] \
  || e2e_fail "limit 0 decoded ${frames[0]} frames, not $((30 * SECS))"
[ "${frames[1]}" -lt "${frames[0]}" ] && [ "${frames[7]}" -lt "${frames[1]}" ] \
  && [ "${frames[7]}" -ge 1 ] \
  || e2e_fail "frames by limit 0/1/7: ${frames[0]}/${frames[1]}/${frames[7]}"

[ "$FAM" = ipv4 ] || { e2e_log "PASS"; exit 0; }
# The decoder-error count is real: random loss (which the relay's priority
# drop is not) makes avdec_h264 conceal and complain.
e2e_log "video.sh --demo -l 0 -L none --loss 0.2: decoder errors must be counted"
bash "$VIDEO" --demo -d 5 -l 0 -L none --loss 0.2 -p "$E2E_PREFIX" \
  -o "$E2E_WORK/run2" >"$E2E_WORK/video-loss.log" 2>&1
rc=$?
tail -n 8 "$E2E_WORK/video-loss.log"
line=$(grep '^client=' "$E2E_WORK/run2/summary.txt")
errs=$(kv "$line" decoder-errors)
[ $rc -eq 1 ] || e2e_fail "with 20 % loss video.sh exited $rc, not 1"
[ -n "$errs" ] && [ "$errs" -gt 0 ] || e2e_fail "20 % loss gave no decoder error: $line"
e2e_log "with 20 % loss: $errs decoder errors counted"
e2e_log "PASS"
