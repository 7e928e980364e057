#!/usr/bin/env bash
# e2e-rtcp-dest.sh MODE: each subscriber gets the sender's SRs at its RTCP
# destination (issue 9), MODE kernel or userspace. A stock rtpbin sender
# (x264enc) sends RTP to the relay's 5004 and RTCP to its 5005; the relay
# has control-port 5010 and
#   clients=10.200.11.2:6000/6011,10.200.12.2:6000/mux,10.200.12.2:6100
#   cli1: stock rtpbin viewer: RTP on 6000, RTCP received on 6011 (not
#         6001: its clients entry says so), its RTCP sent from a udpsink;
#   cli2: a mux viewer on 6000 (rtcp-dest-tool.py mux: RTP and RTCP on one
#         socket, answers each SR with an RR from that socket); a
#         subscriber with default settings at 6100 whose 6101 is a capture;
#         a capture on 6001 (must stay empty: the mux viewer's SRs go to
#         6000);
#   cli3: ebpfprioritysrc port=6000 rtcp-port=6021 subscribing at 5010,
#         into a stock rtpbin whose RTCP is received on 6021;
#   cli4: ebpfprioritysrc port=6000 rtcp-port=6031 (6031 a capture) and
#         ebpfprioritysrc port=6100 rtcp-port=0 (mux), both subscribing.
# Asserts:
#   1. get-stats shows each subscriber's rtcp-port: 6011, 6000 (mux), 6101,
#      6021 and 6031 (subscription), 6100 (subscription, mux);
#   2. the default subscriber gets >= 2 SRs at 6101, the cli4 subscriber
#      >= 2 at 6031 (its subscription's port); nothing reaches cli2's 6001;
#   3. the rtpbin viewers (clients entry; subscription) are attributed
#      their RRs (rtcp-received > 0) with an RTT: their LSR names an SR the
#      relay forwarded to their non-default RTCP port, so their rtpbin got
#      it there;
#   4. the mux viewer gets >= 2 SRs on its media port, every other datagram
#      there is RTP (none unparsable), RTP keeps coming (> 200 packets,
#      lost <= 1 %, no duplicates), and its RRs, sent from its media port
#      while another subscriber shares its address, are attributed to it by
#      that port (rtcp-received > 0, an RTT).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
MODE=${1:-kernel}
e2e_init "rtcp-dest-$MODE"

for e in rtpbin x264enc rtph264pay rtph264depay avdec_h264 videotestsrc ebpfprioritysrc; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
HERE=$(dirname "${BASH_SOURCE[0]}")
TOOL="python3 $HERE/rtcp-tool.py"
DEST="python3 $HERE/rtcp-dest-tool.py"
P=$E2E_PREFIX
SECS=40           # the captures' lifetime; the test ends before
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
ebr_topology_up "$P" 4 || e2e_fail "topology"

srs () { grep -c ' SR:' "$1" 2>/dev/null || true; }
stats_line ()
{
  e2e_ctl_stats "$1" "$2"
  grep -q 'rtcp-port=' <<<"$E2E_STATS_LINE" \
    || e2e_fail "no get-stats for $1:$2 (not subscribed?): $E2E_STATS_LINE"
}
rtt_of () { grep -oE 'rtt-ms=\(double\)-?[0-9.e-]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//'; }
# attributed HOST PORT: its RTCP reached get-stats with an RTT.
attributed ()
{
  e2e_ctl_stats "$1" "$2"
  [ "$(ebr_field "$E2E_STATS_LINE" rtcp-received)" -gt 0 ] 2>/dev/null \
    && grep -q 'rtcp-has-report=(boolean)true' <<<"$E2E_STATS_LINE" \
    && ! grep -q 'rtt-ms=(double)-1' <<<"$E2E_STATS_LINE"
}

e2e_bg "$P-cli2" default $TOOL listen 6101 "$E2E_WORK/default.txt" $SECS
e2e_bg "$P-cli2" notmux $TOOL listen 6001 "$E2E_WORK/notmux.txt" $SECS
e2e_bg "$P-cli4" subport $TOOL listen 6031 "$E2E_WORK/subport.txt" $SECS
e2e_bg "$P-cli2" mux $DEST mux 6000 "$E2E_WORK/mux.txt" $SECS 10.200.12.1 5005
e2e_wait_udp "$P-cli2" 6000 6001 6101
e2e_wait_udp "$P-cli4" 6031

e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE control-port=5010 \
clients=10.200.11.2:6000/6011,10.200.12.2:6000/mux,10.200.12.2:6100"
e2e_wait_udp "$P-rel" 5004 5005 5010

e2e_bg "$P-cli1" viewer gst-launch-1.0 -e rtpbin name=rb \
  udpsrc port=6000 caps="$CAPS" ! rb.recv_rtp_sink_0 \
  udpsrc port=6011 ! rb.recv_rtcp_sink_0 \
  rb. ! rtph264depay ! avdec_h264 ! fakesink \
  rb.send_rtcp_src_0 ! udpsink host=10.200.11.1 port=5005 sync=false async=false
VIEWER=$E2E_LAST_PID
e2e_bg "$P-cli3" subviewer gst-launch-1.0 -e rtpbin name=rb \
  ebpfprioritysrc port=6000 rtcp-port=6021 relay=10.200.13.1:5010 caps="$CAPS" \
  ! rb.recv_rtp_sink_0 \
  udpsrc port=6021 ! rb.recv_rtcp_sink_0 \
  rb. ! rtph264depay ! avdec_h264 ! fakesink \
  rb.send_rtcp_src_0 ! udpsink host=10.200.13.1 port=5005 sync=false async=false
SUBVIEWER=$E2E_LAST_PID
e2e_bg "$P-cli4" subs gst-launch-1.0 -e \
  ebpfprioritysrc port=6000 rtcp-port=6031 relay=10.200.14.1:5010 caps="$CAPS" ! fakesink \
  ebpfprioritysrc port=6100 rtcp-port=0 relay=10.200.14.1:5010 caps="$CAPS" ! fakesink
SUBS=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000 6011
e2e_wait_udp "$P-cli3" 6000 6021
e2e_wait_udp "$P-cli4" 6000 6100

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc tune=zerolatency key-int-max=60 bitrate=500 ! rtph264pay config-interval=1 pt=96 \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=5004 \
  rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID

# 1. every subscriber's RTCP port, the subscriptions' included
subscribed () { e2e_ctl_stats "$1" "$2"; grep -q 'rtcp-port=' <<<"$E2E_STATS_LINE"; }
for sub in 10.200.13.2:6000 10.200.14.2:6000 10.200.14.2:6100; do
  ebr_until 100 subscribed "${sub%:*}" "${sub#*:}" \
    || e2e_fail "$sub did not subscribe within 10 s"
done
want="10.200.11.2:6000=6011 10.200.12.2:6000=6000 10.200.12.2:6100=6101"
want="$want 10.200.13.2:6000=6021 10.200.14.2:6000=6031 10.200.14.2:6100=6100"
got=
for w in $want; do
  sub=${w%=*}
  stats_line "${sub%:*}" "${sub#*:}"
  rp=$(ebr_field "$E2E_STATS_LINE" rtcp-port)
  got="$got $sub=$rp"
  [ "$rp" = "${w#*=}" ] || e2e_fail "$sub: rtcp-port $rp, not ${w#*=}"
done
e2e_log "1. rtcp-port per subscriber:$got"

# 2. SRs at the default port + 1 and at the subscription's port
ebr_until 150 eval '[ "$(srs "$E2E_WORK/default.txt")" -ge 2 ] && [ "$(srs "$E2E_WORK/subport.txt")" -ge 2 ]' \
  || e2e_fail "SRs: $(srs "$E2E_WORK/default.txt") at the default subscriber's 6101, $(srs "$E2E_WORK/subport.txt") at the subscription's 6031, within 15 s"
e2e_alive "$SENDER" sender
e2e_alive "$VIEWER" viewer
e2e_alive "$SUBVIEWER" "subscribed viewer"
e2e_alive "$SUBS" "subscribers"
e2e_log "2. SRs at 10.200.12.2:6101 (default): $(srs "$E2E_WORK/default.txt"), at 10.200.14.2:6031 (subscription): $(srs "$E2E_WORK/subport.txt"); e.g. $(grep -m1 -oE 'SR:[0-9:]+' "$E2E_WORK/default.txt")"

# 3. the rtpbin viewers: RRs attributed, with an RTT
ebr_until 200 attributed 10.200.11.2 6000 \
  || e2e_fail "the rtpbin viewer's RTCP (RTCP port 6011) not attributed with an RTT in 20 s: $E2E_STATS_LINE"
e2e_log "3. rtpbin viewer (clients /6011): rtcp-received=$(ebr_field "$E2E_STATS_LINE" rtcp-received) rtt-ms=$(rtt_of)"
ebr_until 200 attributed 10.200.13.2 6000 \
  || e2e_fail "the subscribed rtpbin viewer's RTCP (rtcp-port=6021) not attributed with an RTT in 20 s: $E2E_STATS_LINE"
e2e_log "3. rtpbin viewer (subscription rtcp-port=6021): rtcp-received=$(ebr_field "$E2E_STATS_LINE" rtcp-received) rtt-ms=$(rtt_of)"

# 4. the mux viewer
ebr_until 150 eval '[ "$(tail -n 1 "$E2E_WORK/mux.txt" | grep -oE "srs=[0-9]+" | cut -d= -f2)" -ge 2 ]' \
  || e2e_fail "the mux viewer got no 2 SRs on its media port: $(tail -n 1 "$E2E_WORK/mux.txt")"
ebr_until 150 attributed 10.200.12.2 6000 \
  || e2e_fail "the mux viewer's RRs (from its media port) not attributed with an RTT: $E2E_STATS_LINE"
e2e_log "4. mux viewer: rtcp-received=$(ebr_field "$E2E_STATS_LINE" rtcp-received) rtt-ms=$(rtt_of)"
sleep 1
last=$(tail -n 1 "$E2E_WORK/mux.txt")
e2e_log "4. mux viewer on 6000: $last"
mux_of () { grep -oE "(^| )$1=[0-9]+" <<<"$last" | cut -d= -f2; }
[ "$(mux_of other)" -eq 0 ] || e2e_fail "the mux viewer got $(mux_of other) datagrams that are neither RTP nor RTCP"
[ "$(mux_of dup)" -eq 0 ] || e2e_fail "the mux viewer got $(mux_of dup) duplicate or reordered RTP packets"
[ "$(mux_of rtp)" -gt 200 ] || e2e_fail "the mux viewer got only $(mux_of rtp) RTP packets"
[ $(( $(mux_of lost) * 100 )) -le "$(mux_of rtp)" ] \
  || e2e_fail "the mux viewer lost $(mux_of lost) of $(mux_of rtp) RTP packets"
[ ! -s "$E2E_WORK/notmux.txt" ] \
  || e2e_fail "RTCP reached the mux viewer's port + 1: $(head -n 2 "$E2E_WORK/notmux.txt")"
e2e_log "4. nothing at 10.200.12.2:6001"

e2e_ctl stats
e2e_log "relay: $(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE 'rtcp-(unknown|sent-down|malformed)=\([a-z0-9]+\)[0-9]+' | sed 's/([a-z0-9]*)//' | tr '\n' ' ')"
e2e_ctl_stop
e2e_log "PASS"
