#!/usr/bin/env bash
# e2e-nack.sh MODE [LIMIT] [nocache]: loss repaired at the relay, MODE
# kernel or userspace, with a stock GStreamer sender and viewer:
#   srv:  rtpbin + x264enc (2 B frames, GOP 30) ! rtph264pay !
#         rtpframemarking, RTP to the relay's 5004 (a tee depayloads the
#         same packets locally: every access unit the sender sent, one file
#         each), RTCP to 5005, the relay's RTCP on udpsrc 5008;
#   rel:  ebpfrelaysink (nack-cache default), the viewer added at LIMIT
#         (default 0; 6 drops the B frames, so the viewer's numbers differ
#         from the originals);
#   cli1: a stock rtpbin viewer, rtp-profile=avpf do-retransmission=true
#         latency=2000 (its jitter buffer NACKs what is missing; stock
#         rtpsession sends them with its RTCP, at most one early packet per
#         regular interval, so a NACK can wait for hundreds of ms, and
#         nftables drops 5 % of the resends too: with 500, 96 % recovered;
#         with 1000, 98.6-100 %, below 99 % in one run of the suite on a
#         loaded machine), its RTCP
#         sent from a udpsink to the relay's 5005, rtph264depay writing one
#         file per access unit; nftables in its namespace drops 5 % of the
#         UDP datagrams to its RTP port 6000 at random (numgen random),
#         retransmissions included, and counts them (the table goes with
#         the namespace, also when the test fails).
# Asserts, after 12 s of stream with loss and 3.5 s without:
#   1. nftables dropped packets (> 20), the viewer's rtpbin NACKed, and the
#      relay resent (nack-resent > 0, nack-received > 0);
#   2. the viewer's jitter buffer gave up on (num-lost) at most 1 % of the
#      packets nftables dropped: >= 99 % recovered;
#   3. every NAL unit the viewer depayloaded is byte-identical to one the
#      sender sent, in the sender's order (none corrupted, none invented;
#      at most one per packet its jitter buffer gave up on); with LIMIT 6
#      the relay dropped packets (priority-dropped > 0: the viewer's
#      numbers differ from the originals) and the viewer has fewer NAL
#      units;
#   4. nothing was resent that the viewer was not sent: nack-not-sent 0;
#   5. NACKs by hand from the viewer's address once it stopped
#      (nack-probe.py): ten NACKs of 5 numbers within 1 ms bring each
#      back once; a NACK naming another SSRC brings nothing; one datagram
#      of 250 FCIs (4250 numbers) brings each number at most once, no more
#      than the cache holds.
# nocache (the negative control): nack-cache=0; asserts that the jitter
# buffer then loses more than 50 % of the dropped packets: without the
# relay's answers assertion 2 fails.
# rtx: RFC 4588 RTX: the relay has rtx-payload-type-map 96 -> 97 and the
# viewer (rtx-viewer.py: the same pipeline, with an rtprtxreceive
# payload-type-map 96 -> 97 in rtpbin through request-aux-receiver) gets
# the resends as RTX; 1-5 as above, and 6: every resend went as RTX
# (rtx-sent = nack-resent > 0) and the viewer's rtprtxreceive received
# RTX packets and associated them with its requests (num-rtx-assoc-packets
# > 0, at least half of what the relay sent as RTX: nftables drops 5 % of
# them, and a late one is not associated); plain resends on the media SSRC
# would leave it at 0.
# rtxplain (rtx's negative control): the same viewer, the relay without
# the map: 1-4 hold (rtpjitterbuffer takes resends on the media SSRC) but
# the viewer's rtprtxreceive counts no RTX packet, so 6 would fail.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
LIMIT=${2:-0}
CONTROL=${3:-}
e2e_init "nack-$MODE-$LIMIT${CONTROL:+-$CONTROL}"

for e in rtpbin x264enc rtph264pay rtph264depay videotestsrc tee \
  multifilesink rtpframemarking; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v nft >/dev/null || e2e_fail "nft (nftables) not installed"
GI_PY=/usr/bin/python3
VIEW_RTX=
case $CONTROL in rtx | rtxplain) VIEW_RTX=1 ;; esac
if [ -n "$VIEW_RTX" ]; then
  "$GI_PY" -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null \
    || { echo "SKIP: $GI_PY has no GStreamer bindings (python3-gi, gir1.2-gstreamer-1.0)"; exit $E2E_SKIP; }
  gst-inspect-1.0 rtprtxreceive >/dev/null 2>&1 || e2e_fail "GStreamer element rtprtxreceive not found"
fi
e2e_tool EBR_LAUNCH_STATS launch-stats
P=$E2E_PREFIX
FM=urn:ietf:params:rtp-hdrext:framemarking
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,extmap-1=$FM"
NFT_TABLE=ebr_nack_loss
LATENCY=${EBR_NACK_LATENCY:-2000}
ebr_topology_up "$P" 1 || e2e_fail "topology"

CACHE=
[ "$CONTROL" = nocache ] && CACHE="nack-cache=0"
RTX_MAP="application/x-rtp-pt-map, 96=(uint)97"
[ "$CONTROL" = rtx ] && CACHE="rtx-payload-type-map=\"$RTX_MAP\""
e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE upstream-rtcp=10.200.1.1:5008 $CACHE"
e2e_wait_udp "$P-rel" 5004 5005

# The viewer first: it gets the stream from its first key frame.
mkdir -p "$E2E_WORK/sent" "$E2E_WORK/got"
ip netns exec "$P-cli1" nft -f - <<EOF || e2e_fail "nftables rule"
table inet $NFT_TABLE {
  chain input {
    type filter hook input priority 0;
    udp dport 6000 numgen random mod 100 < 5 counter drop
  }
}
EOF
VOPTS="latency=$LATENCY ${EBR_NACK_VOPTS:-} rtp-profile=avpf do-retransmission=true"
if [ -n "$VIEW_RTX" ]; then
  e2e_bg "$P-cli1" viewer "$GI_PY" "$(dirname "${BASH_SOURCE[0]}")/rtx-viewer.py" \
    "$RTX_MAP" "$VOPTS" 6000 10.200.11.1 5005 "$CAPS" \
    "rtph264depay ! video/x-h264,stream-format=byte-stream,alignment=au \
    ! multifilesink location=$E2E_WORK/got/au-%05d.h264"
else
  e2e_bg "$P-cli1" viewer "$EBR_LAUNCH_STATS" rtpbin name=rb $VOPTS \
    udpsrc port=6000 caps="$CAPS" ! rb.recv_rtp_sink_0 \
    udpsrc port=6001 ! rb.recv_rtcp_sink_0 \
    rb. ! rtph264depay ! video/x-h264,stream-format=byte-stream,alignment=au \
    ! multifilesink location="$E2E_WORK/got/au-%05d.h264" \
    rb.send_rtcp_src_0 ! udpsink host=10.200.11.1 port=5005 sync=false async=false
fi
VIEWER=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000 6001
e2e_ctl add 10.200.11.2 6000
[ "$LIMIT" = 0 ] || e2e_ctl set-priority-limit 10.200.11.2 6000 "$LIMIT"

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb rtp-profile=avpf \
  videotestsrc is-live=true pattern=snow ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc key-int-max=30 bframes=2 speed-preset=ultrafast bitrate=1500 \
  ! rtph264pay config-interval=-1 pt=96 mtu=600 ! rtpframemarking \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! tee name=m \
  m. ! queue ! udpsink host=10.200.1.2 port=5004 \
  m. ! queue ! rtph264depay ! video/x-h264,stream-format=byte-stream,alignment=au \
  ! multifilesink location="$E2E_WORK/sent/au-%05d.h264" \
  rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID
sleep 12
e2e_alive "$SENDER" sender
e2e_alive "$VIEWER" viewer
# the loss ends 1.5 s + the latency before the viewer's counters are read:
# the last packets dropped have their chance too
dropped=$(ip netns exec "$P-cli1" nft list table inet $NFT_TABLE \
  | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
ip netns exec "$P-cli1" nft delete table inet $NFT_TABLE
sleep "$(awk -v l="$LATENCY" 'BEGIN { print 1.5 + l / 1000 }')"
# the viewer's counters while the stream still flows (SIGUSR1: launch-stats
# prints them; at the end of a stream a jitter buffer counts the packet it
# expected next as lost)
kill -USR1 "$VIEWER"
e2e_wait_log viewer '^stats rtpjitterbuffer'
# 5: NACKs by hand in the viewer's place, while the stream goes on
ebr_stop "$VIEWER" 100
probe=
if [ "$CONTROL" = "" ]; then
  probe=$(ip netns exec "$P-cli1" python3 "$(dirname "${BASH_SOURCE[0]}")/nack-probe.py" \
    6000 10.200.11.1 5005 2>&1)
fi
ebr_stop "$SENDER" 100

e2e_ctl get-stats 10.200.11.2 6000
line=$(grep '^get-stats ' <<<"$E2E_CTL_REPLY")
resent=$(ebr_field "$line" nack-resent)
nacked=$(ebr_field "$line" nack-received)
not_sent=$(ebr_field "$line" nack-not-sent)
not_cached=$(ebr_field "$line" nack-not-cached)
repeats=$(ebr_field "$line" nack-repeats)
rtx_sent=$(ebr_field "$line" rtx-sent)
prio_dropped=$(ebr_field "$line" priority-dropped)
jb=$(grep '^stats rtpjitterbuffer' "$E2E_WORK/viewer.log" | head -1)
lost=$(ebr_field "$jb" num-lost)
pushed=$(ebr_field "$jb" num-pushed)
rtx=$(ebr_field "$jb" rtx-count)
rtx_ok=$(ebr_field "$jb" rtx-success-count)

# 3: each NAL unit the viewer depayloaded, in order, is one the sender
# sent (NAL units, not access units: at a limit the relay drops some NAL
# units of an access unit, e.g. the priority-0 delimiter)
read -r matched unmatched sent_nals < <(cd "$E2E_WORK" && python3 - <<'PY'
import hashlib, os, re
def nals(d):
    out = []
    for f in sorted(os.listdir(d)):
        data = open(os.path.join(d, f), 'rb').read()
        for n in re.split(b'\x00\x00\x01', data)[1:]:
            n = n.rstrip(b'\x00')
            if n:
                out.append(hashlib.sha1(n).hexdigest())
    return out
sent, got = nals('sent'), nals('got')
pos = {}
for i, h in enumerate(sent):
    pos.setdefault(h, []).append(i)
last, ok, bad = -1, 0, 0
for h in got:
    nxt = [i for i in pos.get(h, []) if i > last]
    if nxt:
        last = nxt[0]; ok += 1
    else:
        bad += 1
print(ok, bad, len(sent))
PY
)
e2e_log "mode=$MODE limit=$LIMIT${CONTROL:+ $CONTROL}: nftables dropped ${dropped:-?}; viewer jitterbuffer pushed ${pushed:-?} lost ${lost:-?} rtx-count ${rtx:-?} rtx-success ${rtx_ok:-?}; relay nack-received ${nacked:-?} resent ${resent:-?} repeats ${repeats:-?} not-cached ${not_cached:-?} not-sent ${not_sent:-?} priority-dropped ${prio_dropped:-?}; NAL units: sender $sent_nals, viewer $matched identical to the sender's, $unmatched not"

[ -n "$dropped" ] && [ "$dropped" -gt 20 ] || e2e_fail "nftables dropped only ${dropped:-no} packets"
[ -n "$lost" ] || e2e_fail "no jitterbuffer stats from the viewer"
[ "$matched" -gt 100 ] || e2e_fail "the viewer depayloaded only $matched identical NAL units"
if [ "$CONTROL" = nocache ]; then
  [ "$resent" = 0 ] || e2e_fail "control: nack-cache=0 but $resent resent"
  [ $((lost * 2)) -gt "$dropped" ] \
    || e2e_fail "control: without the cache the viewer lost only $lost of $dropped"
  e2e_log "control: without the relay's answers $lost of $dropped lost"
else
  [ "${nacked:-0}" -gt 0 ] || e2e_fail "the relay received no NACK"
  [ "${resent:-0}" -gt 0 ] || e2e_fail "the relay resent nothing"
  [ "$not_sent" = 0 ] || e2e_fail "$not_sent NACKed numbers were no packet the viewer was sent"
  [ $((lost * 100)) -le "$dropped" ] \
    || e2e_fail "the viewer lost $lost of the $dropped dropped packets: less than 99 % recovered"
  [ "$unmatched" -le "$lost" ] \
    || e2e_fail "$unmatched NAL units differ from the sender's (lost $lost)"
fi
if [ -n "$VIEW_RTX" ]; then
  rx=$(grep '^rtx ' "$E2E_WORK/viewer.log" | head -1)
  rx_pkts=$(sed -n 's/.*num-rtx-packets=\([0-9]*\).*/\1/p' <<<"$rx")
  rx_assoc=$(sed -n 's/.*num-rtx-assoc-packets=\([0-9]*\).*/\1/p' <<<"$rx")
  e2e_log "rtx: relay rtx-sent ${rtx_sent:-?} of nack-resent ${resent:-?}; viewer rtprtxreceive: ${rx:-none}"
fi
if [ "$CONTROL" = rtxplain ]; then
  [ "$rtx_sent" = 0 ] && [ "$rx_pkts" = 0 ] \
    || e2e_fail "control: no RTX map, but rtx-sent ${rtx_sent:-?} and the viewer received ${rx_pkts:-?} RTX packets"
  e2e_log "control: plain resends, the viewer's rtprtxreceive received no RTX packet"
fi
if [ "$CONTROL" = rtx ]; then
  [ "${rtx_sent:-0}" -gt 0 ] && [ "$rtx_sent" = "$resent" ] \
    || e2e_fail "rtx-payload-type-map set but rtx-sent ${rtx_sent:-none} of nack-resent ${resent:-none}"
  [ -n "$rx_assoc" ] || e2e_fail "no rtprtxreceive counts from the viewer"
  [ "$rx_assoc" -gt 0 ] && [ $((rx_assoc * 2)) -ge "$rtx_sent" ] \
    || e2e_fail "the viewer's rtprtxreceive associated $rx_assoc RTX packets ($rx_pkts received) of $rtx_sent sent as RTX"
fi
if [ -n "$probe" ]; then
  e2e_ctl stats
  cache_packets=$(ebr_field "$(grep '^stats ' <<<"$E2E_CTL_REPLY")" nack-cache-packets)
  # per SSRC: the stream's ring, its lookups and hits
  stream_hits=$(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE 'hits\\?=\\?\(guint64\\?\)[0-9]+' \
    | grep -oE '[0-9]+$' | head -1)
  e2e_log "nack-cache-streams: $(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE 'nack-cache-streams=[^>]*>' | head -c 400)"
  [ "${stream_hits:-0}" -gt 0 ] || e2e_fail "no per-SSRC cache hits in nack-cache-streams"
  e2e_log "probe: $probe (cache holds ${cache_packets:-?})"
  read -r _ r_n r_dups _ o_n _ s_n s_dups s_distinct <<<"$probe"
  [ "$r_n" = 5 ] && [ "$r_dups" = 0 ] \
    || e2e_fail "ten NACKs of 5 numbers within an RTT: $r_n resent ($r_dups twice), not 5 once"
  [ "$o_n" = 0 ] || e2e_fail "a NACK naming another SSRC made the relay send $o_n packets"
  [ "$s_dups" = 0 ] || e2e_fail "a 4250-number NACK resent $s_dups numbers twice"
  [ "$s_n" -gt 0 ] && [ "$s_n" -le "${cache_packets:-0}" ] \
    || e2e_fail "a 4250-number NACK resent $s_n packets (the cache holds ${cache_packets:-?})"
fi
if [ "$LIMIT" -ge 1 ]; then
  [ "${prio_dropped:-0}" -gt 0 ] || e2e_fail "limit $LIMIT but the relay dropped nothing"
  [ "$matched" -lt "$sent_nals" ] || e2e_fail "limit $LIMIT but the viewer got every NAL unit"
fi
e2e_ctl_stop
e2e_log "PASS"
