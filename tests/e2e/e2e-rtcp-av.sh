#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-rtcp-av.sh MODE: an rtpbin audio+video viewer gets both streams' SRs
# through the relay, MODE kernel or userspace. The topology a GStreamer
# user would build (one RTP session per medium, each relayed by its own
# ebpfrelaysink, as multiudpsink would be used per stream):
#   srv:  one rtpbin, session 0 video (x264enc ! rtph264pay pt=96) to the
#         relay's 5004, its RTCP to 5005; session 1 audio (alawenc !
#         rtppcmapay pt=8) to 5006, its RTCP to 5007; one CNAME for both
#         (rtpbin's); tees copy each session's RTCP to a local capture
#         (127.0.0.1:5099 video, :5098 audio); the relays' RRs come back
#         into the sessions on 5008 and 5010 (upstream-rtcp);
#   rel:  ONE process (relay-ctl) with two ebpfrelaysink: "relay" on 5004
#         (rtcp-port 5005, the default port + 1) and "relaya" on 5006
#         (rtcp-port 5007), both with the viewer as subscriber (6000 and
#         6002);
#   cli1: rtpbin-viewer.py (system python3 with gi): an rtpbin with two
#         sessions, RTP 6000/6002, RTCP 6001/6003 (where each relay sends
#         its SRs down), its RTCP from udpsinks to the relays' 5005/5007;
#         it reads rtpbin's internal sessions every 100 ms
#         ("get-internal-session", the sources' stats: have-sr, sr-*).
# Asserts:
#   1. session 0 has a remote source with have-sr whose SSRC, NTP and RTP
#      timestamps are those of an SR the sender sent in its video session,
#      and session 1 likewise for the audio session (at least 2 SRs each,
#      never one of the other medium's);
#   2. both sources carry the same, non-empty CNAME (the sender's SDES
#      came down with the SRs);
#   3. lip sync is established: both jitterbuffers handed an SR to rtpbin
#      ("handle-sync", the NTP<->RTP mapping of each stream), and rtpbin
#      associated both SSRCs with one client (its CNAME) and computed the
#      inter-stream offsets (its debug log: "new association of SSRC ..."
#      for both with the same client, then "client ... min delta").
# Without the audio relay's SRs (or with SRs of the wrong session) 1 fails;
# without SDES, 2 and 3.
set -uo pipefail

MODE=${1:-kernel}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 kernel|userspace" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "rtcp-av-$MODE"

for e in rtpbin x264enc rtph264pay rtph264depay avdec_h264 videotestsrc \
  audiotestsrc audioconvert audioresample alawenc alawdec rtppcmapay rtppcmadepay tee; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
GI_PY=/usr/bin/python3
"$GI_PY" -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null \
  || { echo "SKIP: $GI_PY has no GStreamer bindings (python3-gi, gir1.2-gstreamer-1.0)"; exit $E2E_SKIP; }
HERE=$(dirname "${BASH_SOURCE[0]}")
TOOL="python3 $HERE/rtcp-tool.py"
P=$E2E_PREFIX
SECS=30
VIEW_SECS=22
VCAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
ACAPS="application/x-rtp,media=audio,encoding-name=PCMA,payload=8,clock-rate=8000"
ebr_topology_up "$P" 1 || e2e_fail "topology"

e2e_bg "$P-srv" sender-v $TOOL listen 5099 "$E2E_WORK/sender-v.txt" $SECS
e2e_bg "$P-srv" sender-a $TOOL listen 5098 "$E2E_WORK/sender-a.txt" $SECS
e2e_wait_udp "$P-srv" 5099 5098

e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$VCAPS ! ebpfrelaysink \
name=relay mode=$MODE clients=10.200.11.2:6000 upstream-rtcp=10.200.1.1:5008 \
udpsrc port=5006 caps=$ACAPS ! ebpfrelaysink name=relaya mode=$MODE \
clients=10.200.11.2:6002 upstream-rtcp=10.200.1.1:5010"
e2e_wait_udp "$P-rel" 5004 5005 5006 5007
[ "$MODE" = kernel ] && e2e_wait_tcx "$P-rel" 2 up0

GST_DEBUG=rtpbin:5 GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE=$E2E_WORK/rtpbin-debug.txt \
  e2e_bg "$P-cli1" viewer "$GI_PY" "$HERE/rtpbin-viewer.py" $VIEW_SECS 10.200.11.1 \
  "6000:5005:$VCAPS:rtph264depay ! avdec_h264" \
  "6002:5007:$ACAPS:rtppcmadepay ! alawdec"
VIEWER=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000 6001 6002 6003

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc tune=zerolatency key-int-max=60 bitrate=500 ! rtph264pay config-interval=1 pt=96 \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=5004 \
  rb.send_rtcp_src_0 ! tee name=tv \
  tv. ! queue ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  tv. ! queue ! udpsink host=127.0.0.1 port=5099 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0 \
  audiotestsrc is-live=true wave=ticks ! audioconvert ! audioresample \
  ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay pt=8 ! rb.send_rtp_sink_1 \
  rb.send_rtp_src_1 ! udpsink host=10.200.1.2 port=5006 \
  rb.send_rtcp_src_1 ! tee name=ta \
  ta. ! queue ! udpsink host=10.200.1.2 port=5007 sync=false async=false \
  ta. ! queue ! udpsink host=127.0.0.1 port=5098 sync=false async=false \
  udpsrc port=5010 ! rb.recv_rtcp_sink_1
SENDER=$E2E_LAST_PID

# srs K: the distinct SRs the viewer's rtpbin reported in session K.
srs () { grep -c " sr session=$1 " "$E2E_WORK/viewer.log"; }
ebr_until $((VIEW_SECS * 10 - 20)) eval '[ "$(srs 0)" -ge 2 ] && [ "$(srs 1)" -ge 2 ]'
e2e_alive "$SENDER" sender
e2e_alive "$E2E_CTL_PID" relay
ebr_stop "$VIEWER" 50 || e2e_fail "the viewer failed: $(tail -n 3 "$E2E_WORK/viewer.log")"
grep -E ' (sr|sync) ' "$E2E_WORK/viewer.log" | sed 's/^/  /'

# 1 and 2
# check_session K SENDER-CAPTURE OTHER-CAPTURE WHAT: sets SSRC_K, CNAME_K.
check_session ()
{
  local k=$1 mine=$E2E_WORK/$2 other=$E2E_WORK/$3 what=$4 n ssrc='' ntp rtp cname
  n=$(srs "$k")
  [ "$n" -ge 2 ] || e2e_fail "the viewer's rtpbin reports $n SR(s) in session $k ($what), not 2 (the sender sent $(e2e_count "$mine" "^SR:"))"
  while read -r ssrc ntp rtp cname; do
    if ! grep -q " SR:$ssrc:$ntp:$rtp:" "$mine"; then
      grep -q " SR:$ssrc:$ntp:$rtp:" "$other" \
        && e2e_fail "session $k ($what) got an SR of the other medium: $ssrc:$ntp:$rtp"
      e2e_fail "session $k ($what): SR $ssrc:$ntp:$rtp is none the sender sent"
    fi
    printf -v "SSRC_$k" %s "$ssrc"
    printf -v "CNAME_$k" %s "$cname"
  done < <(grep " sr session=$k " "$E2E_WORK/viewer.log" \
    | sed -E 's/.* ssrc=([0-9]+) ntp=([0-9]+) rtp=([0-9]+) .* cname=(.*)$/\1 \2 \3 \4/')
  e2e_log "1. session $k ($what): $n SRs in the viewer's rtpbin, all the sender's (SSRC/NTP/RTP), SSRC $(eval echo "\$SSRC_$k")"
}
check_session 0 sender-v.txt sender-a.txt video
check_session 1 sender-a.txt sender-v.txt audio
[ "$SSRC_0" != "$SSRC_1" ] || e2e_fail "both sessions report SSRC $SSRC_0"
[ -n "$CNAME_0" ] && [ "$CNAME_0" != - ] && [ "$CNAME_0" = "$CNAME_1" ] \
  || e2e_fail "CNAMEs: video '$CNAME_0', audio '$CNAME_1'"
e2e_log "2. both remote sources have CNAME $CNAME_0"

# 3
for k in 0 1; do
  grep -qE " sync session=$k " "$E2E_WORK/viewer.log" \
    || e2e_fail "session $k's jitterbuffer handed no SR to rtpbin (handle-sync)"
done
dbg=$E2E_WORK/rtpbin-debug.txt
hv=$(printf '%08x' "$SSRC_0")
ha=$(printf '%08x' "$SSRC_1")
cv=$(grep -m1 -oE "new association of SSRC $hv with client 0x[0-9a-f]+" "$dbg" | awk '{ print $NF }')
ca=$(grep -m1 -oE "new association of SSRC $ha with client 0x[0-9a-f]+" "$dbg" | awk '{ print $NF }')
[ -n "$cv" ] && [ "$cv" = "$ca" ] \
  || e2e_fail "rtpbin did not associate both SSRCs with one client: video ${cv:-none}, audio ${ca:-none}"
grep -q "client $cv min delta" "$dbg" \
  || e2e_fail "rtpbin computed no inter-stream offset for client $cv"
e2e_log "3. lip sync: both jitterbuffers' SRs reached rtpbin ($(grep -c ' sync session=0 ' "$E2E_WORK/viewer.log") video, $(grep -c ' sync session=1 ' "$E2E_WORK/viewer.log") audio), both SSRCs associated with client $cv, offsets computed: $(grep "client $cv min delta" "$dbg" | tail -n 1 | sed 's/.*client/client/')"

e2e_ctl stats
e2e_log "video relay: $(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE 'rtcp-(sender-packets|srs-forwarded|sent-down|rr-sent)=\([a-z0-9]+\)[0-9]+' | sed 's/([a-z0-9]*)//' | tr '\n' ' ')"
e2e_ctl_stop
e2e_log PASS
