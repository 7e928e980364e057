#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# video.sh: an RTP relay with its feedback plane, with H.264 video, as a
# GStreamer user writes it: rtpbin at the sender and at every viewer. A
# server streams a test picture with B frames (a key frame every 5 s)
# through ebpfrelaysink (kernel path) to three viewers that subscribed with
# priority limits 0, 1 and 7, and one more viewer joins late:
#
#   limit 0  gets everything
#   limit 1  loses the B frames (NAL NRI 0: priority 0), nothing it needs
#   limit 7  gets only the IDR pictures and SPS/PPS (NRI 3: priority 7),
#            each decodable on its own
#   late     joins halfway (limit 0 by default): the relay holds its stream
#            back until a key frame starts and asks the sender for one at
#            once (a PLI to the sender's rtpbin, which makes x264enc encode
#            an IDR), so it shows its first picture within about a round
#            trip and the jitter buffer's latency, not the rest of the GOP
#
# The relay drops in the kernel what a viewer's limit excludes and rewrites
# each viewer's RTP sequence numbers to stay contiguous, so its jitter buffer
# and depayloader see a clean stream, just with fewer frames. RTCP goes
# through the relay: the sender's SRs down to every viewer (with the packet
# counts of what that viewer was sent), the viewers' RRs consumed at the
# relay (their loss and round-trip time in its stats), their PLIs up to the
# sender, throttled.
#
#   video.sh --demo [-d SECONDS] [-o OUTDIR] [-p PREFIX] [-l LIMITS]
#            [-L LIMIT|none] [--meter] [--loss P] [--shaped KBIT] [--ipv6]
#       stream SECONDS (default 8), print per viewer the frames decoded,
#       the time from its join to its first frame, packets received,
#       packets dropped for it at the relay, decoder errors, and its RTCP:
#       SRs the relay sent it, whether its rtpbin holds the sender's SR
#       (what lip sync needs), the fraction lost and the round-trip time
#       from its RRs; exit 1 if any viewer saw a decoder error or decoded
#       no frame, or the late viewer waited more than 0.5 s for its first
#       frame. PNGs go to OUTDIR (kept) or a temporary directory.
#   video.sh [-d SECONDS] [-o OUTDIR] ...
#       the same, by hand: streams until Ctrl-C (or SECONDS), PNGs kept in
#       OUTDIR (default ./video-out).
#
#   -l LIMITS  comma-separated priority limits, one viewer each (default 0,1,7)
#   -L LIMIT   the late viewer's limit (default 0), or "none"; it joins
#              after half of SECONDS (4 s by hand until Ctrl-C)
#   --loss P   each viewer also loses a random fraction P (0..1) of what it
#              receives, before its depayloader (identity drop-probability=P):
#              what network loss does to a decoder, next to the relay's
#              priority drop, which leaves nothing to conceal
#   --shaped KBIT
#              two more viewers behind a token bucket (tbf) of KBIT kbit/s
#              each on their downlink (the relay's interface towards them):
#              one adaptive (ebpfprioritysrc priority-limit-auto=true: the
#              relay moves its limit from its RTCP), one at the fixed limit
#              0; both rtpbin with do-retransmission=true (they NACK). Prints
#              the adaptive viewer's limit over time (each switch) and both
#              viewers' decoder errors; the fixed one's are expected (its
#              link drops what does not fit) and do not fail the demo. E.g.
#              60 % of the stream's rate: -d 30 --shaped 1270 (--shaped
#              streams 640x360 at 2 Mbit/s, whose B frames are half of it;
#              its 3 B frames make avdec_h264 warn "decreasing timestamp" in
#              its first second, on every viewer: not counted as errors then)
#   --ipv6     everything over IPv6 (the topology made dual stack:
#              tests/lib/ebr.sh ebr_topology_v6): the server fd00:200:1::1
#              sends to the relay's fd00:200:1::2 (udpsrc address=::, RTCP
#              to and from the server over v6 too), every viewer at
#              fd00:200:(10+K)::2 subscribes at [fd00:200:(10+K)::1]:5005
#              (ebpfprioritysrc address=::); the same checks
#   --meter    one more receiver (the last namespace, a static subscriber
#              at limit 0): tests/tools/rtp-prio-count counts the sender's
#              packets per priority with bpf/priority.h, and each viewer's
#              packet count is checked against the packets of priority >= its
#              limit (the end-to-end test uses this; not the late viewer's)
#
# Pipelines (each runs as a gst-launch-1.0 description, through
# tests/tools/launch-stats: gst-launch-1.0 -e that prints every element's
# "stats" property at the end, where the counters come from):
#
#   server (PREFIX-srv, 10.200.1.1):
#     rtpbin name=rb rtp-profile=avpf
#     videotestsrc is-live=true num-buffers=30*SECONDS pattern=ball
#       ! video/x-raw,width=320,height=240,framerate=30/1
#       ! x264enc bframes=2 b-adapt=false key-int-max=150 speed-preset=ultrafast tune=zerolatency
#       ! video/x-h264,profile=main ! rtph264pay config-interval=-1 pt=96
#       ! rtpframemarking ! rb.send_rtp_sink_0
#     rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=5004
#     rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=5005 sync=false async=false
#     udpsrc port=5007 ! rb.recv_rtcp_sink_0
#   relay (PREFIX-rel):
#     udpsrc port=5004 caps="$CAPS" ! ebpfrelaysink mode=kernel control-port=5005
#       upstream-rtcp=10.200.1.1:5007
#     (RTCP on the stream's port + 1, 5005, the same socket as the
#     subscription channel; the sender gets the relay's RRs and key-frame
#     requests on its udpsrc port 5007)
#   viewer K (PREFIX-cliK, limit L, relay R = 10.200.(10+K).1):
#     rtpbin name=rb rtp-profile=avpf
#     ebpfprioritysrc port=6000 priority-limit=L relay=R:5005 caps="$CAPS"
#       ! rb.recv_rtp_sink_0
#     udpsrc port=6001 ! rb.recv_rtcp_sink_0
#     rb.send_rtcp_src_0 ! udpsink host=R port=5005 sync=false async=false
#     rb. ! rtph264depay request-keyframe=true ! avdec_h264 ! videoconvert
#       ! pngenc ! multifilesink location=OUTDIR/cliK-%05d.png
#   with CAPS = application/x-rtp,media=video,encoding-name=H264,payload=96,
#     clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking
#
# rtpframemarking tags each packet (RFC 9626) from its NAL NRI: IDR, SPS and
# PPS 7, P 6, B 0. Frames decoded: the PNGs written (one per frame); the
# first one's time (its file's mtime) against the viewer's join (its
# ebpfprioritysrc reporting state=subscribed, or the server's start for the
# viewers there before it). Packets received: ebpfprioritysrc's "kept";
# dropped at the relay: ebpfrelaysink's per-client "priority-dropped", and
# from the same structure "rtcp-sent" (the sender's SR compounds sent to
# it), "rtcp-fraction-lost" and "rtt-ms" (read before the viewers stop, as
# stopping unsubscribes them); "has-sr": the viewer's rtpsession reports
# have-sr for the sender. Decoder errors: WARNING/ERROR lines of avdec_h264
# (and libav), the video decoder base class and the depayloader in the
# viewer's output, plus libav's "concealing N DC, N AC, N MV errors" lines
# (logged at INFO level: each is a picture decoded with missing data), with
# GST_DEBUG set for those categories.
#
# The summary also has each viewer's seq-gaps: the packets its jitter
# buffer counted as lost (gaps in the RTP sequence numbers); 0 when the
# relay's per-viewer rewriting keeps them contiguous across the drops.
#
# Writes a machine-readable OUTDIR/summary.txt (when -o is given) or
# WORK/summary.txt. Needs root; uses the plugin from GST_PLUGIN_PATH, or
# ./build/gst-plugin, and launch-stats (rtp-prio-count for --meter) from the
# tests directory next to it (meson -Dtests=enabled), or EBR_LAUNCH_STATS
# and EBR_RTP_PRIO_COUNT.
set -uo pipefail

# shellcheck source=../tests/lib/ebr.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/ebr.sh"

usage ()
{
  echo "usage: $0 [--demo] [-d SECONDS] [-o OUTDIR] [-p PREFIX] [-l LIMITS] [-L LIMIT|none] [--meter] [--loss P] [--shaped KBIT]" >&2
  exit 2
}

demo=0
meter=0
secs=
outdir=
prefix=ebrv
limits=0,1,7
late=0
loss=
shaped=
ipv6=0
port=5004
cport=5005
sport=5007
vport=6000
while [ $# -gt 0 ]; do
  case $1 in
    --demo) demo=1; shift ;;
    --meter) meter=1; shift ;;
    -d) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
    -o) [ $# -ge 2 ] || usage; outdir=$2; shift 2 ;;
    -p) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    -l) [ $# -ge 2 ] || usage; limits=$2; shift 2 ;;
    -L) [ $# -ge 2 ] || usage; late=$2; shift 2 ;;
    --loss) [ $# -ge 2 ] || usage; loss=$2; shift 2 ;;
    --shaped) [ $# -ge 2 ] || usage; shaped=$2; shift 2 ;;
    --ipv6) ipv6=1; shift ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
[ -n "$secs" ] || { [ $demo -eq 1 ] && secs=8 || secs=0; }
case $secs in ''|*[!0-9]*) usage ;; esac
if [ -n "$loss" ] && ! awk -v p="$loss" 'BEGIN { exit !(p ~ /^(0|1|0?\.[0-9]+)$/ && p + 0 <= 1) }'; then
  echo "$0: --loss is a fraction 0..1, not '$loss'" >&2
  exit 2
fi
case $shaped in
  '') ;;
  *[!0-9]*|0) echo "$0: --shaped is a rate in kbit/s, not '$shaped'" >&2; exit 2 ;;
esac
IFS=, read -r -a lim <<<"$limits"
n=${#lim[@]}
[ "$n" -ge 1 ] && [ "$n" -le 200 ] || usage
for l in "${lim[@]}"; do
  case $l in [0-7]) ;; *) echo "$0: limits are 0-7, not '$l'" >&2; exit 2 ;; esac
done
# the shaped viewers: the last two of the regular ones (auto, then 0)
shaped_first=0
if [ -n "$shaped" ]; then
  lim+=(auto 0)
  n=$((n + 2))
  shaped_first=$((n - 1))
fi
# is_shaped K: viewer K is behind the token bucket
is_shaped ()
{
  case $1 in ''|*[!0-9]*) return 1 ;; esac
  [ "$shaped_first" -gt 0 ] && [ "$1" -ge "$shaped_first" ] && [ "$1" -le $((shaped_first + 1)) ]
}
case $late in
  none) nv=$n ;;
  [0-7]) nv=$((n + 1)); lim+=("$late") ;;
  *) echo "$0: -L is a limit 0-7 or none, not '$late'" >&2; exit 2 ;;
esac
# the late viewer joins after half the stream (4 s when streaming by hand)
late_after=4
[ "$secs" -eq 0 ] || late_after=$(awk -v s="$secs" 'BEGIN { printf "%.1f", s / 2 }')

ebr_example_setup x264enc avdec_h264 rtph264pay rtph264depay rtpbin \
  pngenc multifilesink identity
if [ -n "$shaped" ] && ! command -v tc >/dev/null; then
  echo "$0: --shaped needs tc (iproute2)" >&2
  exit 1
fi
LAUNCH=$(ebr_test_tool launch-stats EBR_LAUNCH_STATS) || exit 1
COUNTER=
if [ $meter -eq 1 ]; then
  COUNTER=$(ebr_test_tool rtp-prio-count EBR_RTP_PRIO_COUNT) || exit 1
fi
setsid=
command -v setsid >/dev/null 2>&1 && setsid=setsid

work=$(mktemp -d /tmp/ebr-video.XXXXXX)
if [ -z "$outdir" ]; then
  if [ $demo -eq 1 ]; then outdir=$work/frames; else outdir=$PWD/video-out; fi
  summary=$work/summary.txt
else
  summary=$outdir/summary.txt
fi
mkdir -p "$outdir" || exit 1
outdir=$(cd "$outdir" && pwd)
rm -f "$outdir"/cli*-[0-9]*.png "$summary"
nsn=$nv
[ $meter -eq 0 ] || nsn=$((nv + 1))
created=0
[ -n "$(ebr_topology_namespaces "$prefix")" ] || created=1

cleanup ()
{
  ebr_example_end $created "$prefix"
  if [ "${EBR_VIDEO_KEEP:-0}" = 1 ]; then
    echo "(logs kept in $work)" >&2
  else
    rm -rf "$work"
  fi
}
ebr_on_exit cleanup

# field TEXT NAME: the number in NAME=(type)N, escaped or not.
field ()
{
  ebr_field "$(tr -d '\\' <<<"$1")" "$2"
}

# real TEXT NAME: the number (maybe negative or with a fraction) in
# NAME=(double)N.
real ()
{
  tr -d '\\' <<<"$1" | grep -oE "(^|[ ,])$2=\([a-z]*\)-?[0-9.e+-]+" | head -n 1 | sed 's/.*)//'
}

# kv TEXT NAME: the number in NAME=N.
kv ()
{
  grep -oE "(^| )$2=[0-9]+" <<<"$1" | head -n 1 | sed 's/.*=//'
}

# now: the time in seconds, to the nanosecond.
now ()
{
  date +%s.%N
}

ebr_topology_up "$prefix" "$nsn" || { echo "$0: topology failed" >&2; exit 1; }
# Addresses (--ipv6: the same topology's IPv6 ones). cli_addr K: viewer
# K's; relay_for K: the relay's on viewer K's link; hp ADDR PORT: a
# HOST:PORT property value (an IPv6 address in brackets).
if [ $ipv6 -eq 1 ]; then
  ebr_topology_v6 "$prefix" "$nsn" || { echo "$0: IPv6 topology failed" >&2; exit 1; }
  srv_addr=fd00:200:1::1 relay_up=fd00:200:1::2 any="address=::"
  cli_addr () { echo "fd00:200:$(ebr_cli_net "$1")::2"; }
  relay_for () { echo "fd00:200:$(ebr_cli_net "$1")::1"; }
  hp () { echo "[$1]:$2"; }
else
  srv_addr=10.200.1.1 relay_up=10.200.1.2 any=
  cli_addr () { echo "10.200.$(ebr_cli_net "$1").2"; }
  relay_for () { echo "10.200.$(ebr_cli_net "$1").1"; }
  hp () { echo "$1:$2"; }
fi

CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking"
nbuf=-1
[ "$secs" -eq 0 ] || nbuf=$((30 * secs))
# (--shaped: a moving test card at 640x360, 2 Mbit/s, 3 B frames, a key
# frame every 2 s, so that dropping the B frames halves the rate)
picture="pattern=ball"
size="width=320,height=240"
enc="bframes=2 b-adapt=false key-int-max=150"
if [ -n "$shaped" ]; then
  picture="pattern=smpte horizontal-speed=4"
  size="width=640,height=360"
  enc="bitrate=2000 bframes=3 b-adapt=false key-int-max=60"
fi
server=(rtpbin name=rb rtp-profile=avpf
  videotestsrc is-live=true num-buffers=$nbuf $picture
  ! video/x-raw,$size,framerate=30/1
  ! x264enc $enc speed-preset=ultrafast tune=zerolatency
  ! video/x-h264,profile=main ! rtph264pay config-interval=-1 pt=96
  ! rtpframemarking ! rb.send_rtp_sink_0
  rb.send_rtp_src_0 ! udpsink name=rtpsink host=$relay_up port=$port
  rb.send_rtcp_src_0 ! udpsink host=$relay_up port=$cport sync=false async=false
  udpsrc $any port=$sport ! rb.recv_rtcp_sink_0)
relay=(udpsrc $any port=$port "caps=\"$CAPS\"" ! ebpfrelaysink mode=kernel "control-port=$cport"
  "upstream-rtcp=$(hp $srv_addr $sport)")
meter_addr=$(cli_addr $((nv + 1)))
[ $meter -eq 0 ] || relay+=("clients=$(hp "$meter_addr" $vport)")
viewer ()      # viewer K L R OUTDIR: the pipeline of viewer K at limit L (or auto), in V
{
  local lim_opts="priority-limit=$2" rb_opts=
  [ "$2" != auto ] || lim_opts="priority-limit=0 priority-limit-auto=true"
  ! is_shaped "$1" || rb_opts="do-retransmission=true"
  V=(rtpbin name=rb rtp-profile=avpf $rb_opts
    ebpfprioritysrc $any port=$vport $lim_opts relay="$(hp "$3" $cport)" "caps=\"$CAPS\""
    ! rb.recv_rtp_sink_0
    udpsrc $any port=$((vport + 1)) ! rb.recv_rtcp_sink_0
    rb.send_rtcp_src_0 ! udpsink host="$3" port=$cport sync=false async=false
    rb.)
  [ -z "$loss" ] || V+=(! identity drop-probability="$loss")
  V+=(! rtph264depay request-keyframe=true ! avdec_h264 ! videoconvert ! pngenc
    ! multifilesink "location=\"$4/cli$1-%05d.png\"")
}

# start_viewer K: viewer K (limit lim[K-1]) in its namespace, pid in vpid[K].
declare -a vpid
start_viewer ()
{
  viewer "$1" "${lim[$1 - 1]}" "$(relay_for "$1")" "$outdir"
  GST_DEBUG_NO_COLOR=1 \
    GST_DEBUG=libav:4,avviddec:2,videodecoder:2,rtph264depay:2,rtpbasedepayload:2 \
    ip netns exec "$prefix-cli$1" $setsid "$LAUNCH" "${V[@]}" \
    >"$work/cli$1.log" 2>&1 </dev/null &
  vpid[$1]=$!
}

# subscribed K: viewer K's ebpfprioritysrc reported that the relay took it.
subscribed ()
{
  grep -q 'state=(string)subscribed' "$work/cli$1.log"
}

late_txt=
[ "$nv" -eq "$n" ] || late_txt=", one more at limit $late joining after $late_after s"
echo "== H.264 through rtpbin: server $srv_addr -> relay $(hp $relay_up $port) -> $n viewer(s) (limits $limits)$late_txt"
echo "   server: gst-launch-1.0 ${server[*]}"
echo "   relay:  gst-launch-1.0 ${relay[*]}"
viewer K L "$([ $ipv6 -eq 1 ] && echo "fd00:200:(10+K)::1" || echo "10.200.(10+K).1")" OUTDIR
echo "   viewer: gst-launch-1.0 ${V[*]}"

# relay.log as it prints it; relay-ts.log the same lines with the wall
# clock in front (the switches' times)
tstamp ()
{
  local l
  while IFS= read -r l; do
    printf '%s %s\n' "$EPOCHREALTIME" "$l"
  done >"$1"
}
ip netns exec "$prefix-rel" $setsid "$LAUNCH" "${relay[@]}" \
  > >(tee "$work/relay.log" | tstamp "$work/relay-ts.log") 2>&1 </dev/null &
relay_pid=$!
if [ -n "$shaped" ]; then
  for k in $shaped_first $((shaped_first + 1)); do
    ip netns exec "$prefix-rel" tc qdisc replace dev "down$k" root tbf rate "${shaped}kbit" \
      burst 16kb latency 200ms || { echo "$0: tc tbf on down$k failed" >&2; exit 1; }
  done
  echo "== viewers cli$shaped_first (auto) and cli$((shaped_first + 1)) (limit 0) behind tbf ${shaped} kbit/s on the relay's down$shaped_first, down$((shaped_first + 1))"
fi

# Ready when the relay holds its BPF program (the pipeline itself reaches
# PLAYING only with the first packet, as a live pipeline's sink does).
ebr_wait_relay "$relay_pid" "$work/relay.log" "$prefix" 0 0 || exit 1
prog_ids=$(ebr_prog_ids "$relay_pid")

# Viewers: each subscribes through the relay's control port; their
# decoder and depayloader warnings go to their log.
for k in $(seq 1 "$n"); do
  start_viewer "$k"
done
if [ $meter -eq 1 ]; then
  ip netns exec "$prefix-cli$nsn" $setsid "$COUNTER" -p 96 -f 1 -i 3600000 \
    -w 86400 $vport >"$work/meter.txt" 2>"$work/meter.log" </dev/null &
  meter_pid=$!
fi
for _ in $(seq 100); do
  ok=0
  for k in $(seq 1 "$n"); do
    subscribed "$k" && ok=$((ok + 1))
    ebr_running "${vpid[k]}" || { echo "$0: viewer cli$k exited:" >&2; cat "$work/cli$k.log" >&2; exit 1; }
  done
  [ $meter -eq 0 ] || grep -qx ready "$work/meter.log" || ok=-1
  [ $ok -eq "$n" ] && break
  sleep 0.1
done
if [ $ok -ne "$n" ]; then
  echo "$0: not every viewer subscribed at the relay within 10 s" >&2
  exit 1
fi
echo "== relay program(s) $(tr '\n' ' ' <<<"$prog_ids")loaded; $n viewer(s) subscribed through control port $cport"

declare -a joined
start=$(now)
for k in $(seq 1 "$n"); do
  joined[k]=$start
done
ip netns exec "$prefix-srv" $setsid "$LAUNCH" "${server[@]}" \
  >"$work/server.log" 2>&1 </dev/null &
server_pid=$!
interrupted=0
trap 'interrupted=1; kill -INT $server_pid 2>/dev/null' INT
if [ "$secs" -gt 0 ]; then
  echo "== streaming $secs s ($nbuf frames)..."
else
  echo "== streaming; Ctrl-C stops the server and shows the figures"
fi
if [ "$nv" -gt "$n" ]; then
  # the late viewer: started after late_after s; its join is when its
  # ebpfprioritysrc reports the relay's acceptance (polled every 10 ms)
  until ebr_ended "$server_pid" || awk -v a="$start" -v b="$(now)" -v d="$late_after" \
      'BEGIN { exit !(b - a >= d) }'; do
    sleep 0.05
  done
  if ebr_running "$server_pid"; then
    start_viewer "$nv"
    for _ in $(seq 500); do
      subscribed "$nv" && break
      ebr_running "${vpid[nv]}" || break
      sleep 0.01
    done
    joined[nv]=$(now)
    subscribed "$nv" || { echo "$0: the late viewer did not subscribe:" >&2; cat "$work/cli$nv.log" >&2; }
    echo "== the late viewer cli$nv (limit $late) joined $(awk -v a="$start" -v b="${joined[nv]}" 'BEGIN { printf "%.1f", b - a }') s after the start"
  fi
fi
while ebr_running "$server_pid"; do
  wait "$server_pid" 2>/dev/null
done
trap 'exit 130' INT
grep -q '^ERROR' "$work/server.log" && { echo "$0: the server failed:" >&2; cat "$work/server.log" >&2; exit 1; }
sleep 0.5                      # the jitter buffers' latency (200 ms)

# The relay first: its per-viewer counters go when the viewers unsubscribe.
ebr_stop "$relay_pid" 150
for k in $(seq 1 "$nv"); do
  [ -n "${vpid[k]:-}" ] && ebr_stop "${vpid[k]}" 150
done
[ $meter -eq 0 ] || ebr_stop "$meter_pid" 150

relay_stats=$(grep '^stats ebpfrelaysink' "$work/relay.log")
sent=$(field "$(grep '^stats rtpsink' "$work/server.log")" rendered)
tagged=$(field "$(grep '^stats rtpframemarking' "$work/server.log")" tagged)
meter_line=
[ $meter -eq 0 ] || meter_line=$(cat "$work/meter.txt")
{
  echo "sender packets=${sent:-0} tagged=${tagged:-0}"
  echo "relay mode=$(tr -d '\\' <<<"$relay_stats" | grep -o 'mode=(string)[a-z]*' | sed 's/.*)//') buffers-in=$(field "$relay_stats" buffers-in) kernel-matched=$(field "$relay_stats" kernel-matched)" \
    "keyframe-requests-sent=$(field "$relay_stats" keyframe-requests-sent)" \
    "keyframe-requests-join=$(field "$relay_stats" keyframe-requests-join)" \
    "$(for p in 0 1 2 3 4 5 6 7; do printf 'kernel-p%s=%s ' $p "$(field "$relay_stats" kernel-priority-$p)"; done)"
  [ $meter -eq 0 ] || echo "meter $meter_line"
} >"$summary"

printf '== sender: %s RTP packets (%s frame-marked)\n' "${sent:-?}" "${tagged:-?}"
printf '   the relay'"'"'s kernel classified them: priority 7: %s  6: %s  0: %s\n' \
  "$(field "$relay_stats" kernel-priority-7)" "$(field "$relay_stats" kernel-priority-6)" \
  "$(field "$relay_stats" kernel-priority-0)"
printf '   key frames the relay asked the sender for: %s (%s for joins)\n' \
  "$(field "$relay_stats" keyframe-requests-sent)" "$(field "$relay_stats" keyframe-requests-join)"
if [ $meter -eq 1 ]; then
  printf '   by priority (meter %s): 7: %s  6: %s  0: %s  others: %s\n' "$meter_addr" \
    "$(kv "$meter_line" p7)" "$(kv "$meter_line" p6)" "$(kv "$meter_line" p0)" \
    $(( $(kv "$meter_line" packets) - $(kv "$meter_line" p7) - $(kv "$meter_line" p6) - $(kv "$meter_line" p0) ))
fi
echo "== per viewer:"
printf '   %-16s %5s %6s %9s %7s %8s %7s %6s %3s %6s %7s%s\n' viewer limit frames 1st-frame \
  packets relay-drop dec-err SRs has-SR lost rtt-ms \
  "$([ $meter -eq 1 ] && echo '  expected')"
rc=0
for k in $(seq 1 "$nv"); do
  l=${lim[k - 1]}
  addr=$(cli_addr "$k")
  log=$work/cli$k.log
  name=cli$k
  [ "$k" -le "$n" ] || name="cli$k*"
  frames=$(find "$outdir" -maxdepth 1 -name "cli$k-[0-9]*.png" | wc -l)
  first=$(find "$outdir" -maxdepth 1 -name "cli$k-[0-9]*.png" | sort | head -n 1)
  first_ms=-
  [ -z "$first" ] || first_ms=$(awk -v a="${joined[k]:-0}" -v b="$(stat -c %.9Y "$first")" \
    'BEGIN { printf "%d", (b - a) * 1000 }')
  rendered=$(field "$(grep '^stats multifilesink' "$log")" rendered)
  vs=$(grep '^stats ebpfprioritysrc' "$log")
  packets=$(field "$vs" kept)
  fdrop=$(field "$vs" dropped)
  jb=$(grep '^stats rtpjitterbuffer' "$log")
  jlost=$(field "$jb" num-lost)
  hassr=no
  tr -d '\\' <<<"$(grep '^stats rtpsession' "$log")" | grep -q 'is-sender=(boolean)true[^}]*have-sr=(boolean)true' && hassr=yes
  cs=$(tr -d '\\' <<<"$relay_stats" | grep -oE "host=\(string\)$addr, port=\(int\)$vport, [^\"]*" | head -n 1)
  rdrop=$(field "$cs" priority-dropped)
  rpk=$(field "$cs" packets)
  srs=$(field "$cs" rtcp-sent)
  frac=$(real "$cs" rtcp-fraction-lost)
  rtt=$(real "$cs" rtt-ms)
  rtt_txt=$(awk -v r="${rtt:--1}" 'BEGIN { if (r < 0) print "-"; else printf "%.2f", r }')
  lost_txt=$(awk -v f="${frac:-0}" 'BEGIN { printf "%.1f%%", f * 100 }')
  errs=$(grep -E '^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing' "$log" \
    | { if [ -n "$shaped" ]; then grep -v 'decreasing timestamp'; else cat; fi; } | wc -l)
  expected=
  [ $meter -eq 0 ] || [ "$k" -gt "$n" ] || is_shaped "$k" || expected=$(kv "$meter_line" "ge$l")
  printf '   %-5s %-10s %5s %6s %7s ms %7s %10s %7s %3s %6s %6s %7s%s\n' "$name" "$addr" "$l" "$frames" \
    "$first_ms" "${packets:--}" "${rdrop:--}" "$errs" "${srs:--}" "$hassr" "$lost_txt" "$rtt_txt" \
    "$([ $meter -eq 1 ] && printf '%10s' "$expected")"
  echo "client=cli$k limit=$l late=$([ "$k" -gt "$n" ] && echo 1 || echo 0) frames=$frames" \
    "first-frame-ms=$first_ms rendered=${rendered:-0} packets=${packets:-0}" \
    "filter-dropped=${fdrop:-0} relay-packets=${rpk:-0} relay-dropped=${rdrop:-0}" \
    "seq-gaps=${jlost:-x} srs=${srs:-0} has-sr=$hassr fraction-lost=${frac:-x} rtt-ms=${rtt:-x}" \
    "decoder-errors=$errs${expected:+ expected=$expected}" >>"$summary"
  if [ "$errs" -gt 0 ] && is_shaped "$k"; then
    echo "   cli$k (limit $l, shaped) had $errs decoder error(s)"
  elif [ "$errs" -gt 0 ]; then
    echo "   cli$k (limit $l) had $errs decoder error(s):" >&2
    grep -E '(WARN|ERROR)|concealing' "$log" | head -n 5 | sed 's/^/     /' >&2
    rc=1
  fi
  if [ "$frames" -eq 0 ]; then
    echo "   cli$k decoded no frame; its log:" >&2
    tail -n 15 "$log" >&2
    rc=1
  fi
  if [ "$k" -gt "$n" ] && [ "$first_ms" != - ] && [ "$first_ms" -gt 500 ]; then
    echo "   the late viewer cli$k waited $first_ms ms for its first frame (more than 500)" >&2
    rc=1
  fi
  if [ -n "$expected" ] && [ "${packets:-x}" != "$expected" ]; then
    echo "   cli$k received ${packets:-?} packets, the sender sent $expected of priority >= $l" >&2
    rc=1
  fi
done
if [ -n "$shaped" ]; then
  k=$shaped_first
  echo "== cli$k (auto, behind ${shaped} kbit/s): its limit over time (from the start)"
  echo "   +0.0 s  limit 0"
  grep 'ebpfrelaysink-limit' "$work/relay-ts.log" \
    | grep "host=(string)$(cli_addr "$k")," \
    | awk -v t="$start" '{
        to = $0; sub(/.*to=\(uint\)/, "", to); sub(/[^0-9].*/, "", to)
        why = $0; sub(/.*reason=\(string\)/, "", why); sub(/[;,].*/, "", why)
        printf "   %+.1f s  limit %s (%s)\n", $1 - t, to, why }'
  echo "   decoder errors: cli$k (auto) $(grep -o "client=cli$k .*" "$summary" | grep -oE 'decoder-errors=[0-9]+' | cut -d= -f2)," \
    "cli$((k + 1)) (limit 0, same link) $(grep -o "client=cli$((k + 1)) .*" "$summary" | grep -oE 'decoder-errors=[0-9]+' | cut -d= -f2)"
fi
echo "   (* joined late. 1st-frame: from its join, or the server's start for the"
echo "    viewers there before it, to its first decoded frame; packets:"
echo "    ebpfprioritysrc kept; relay-drop: dropped for its limit at the relay,"
echo "    in the kernel; SRs: the sender's SRs the relay sent it, with its own"
echo "    packet counts; has-SR: its rtpbin holds the sender's SR (RTP to wall"
echo "    clock, lip sync); lost, rtt-ms: from its RRs, at the relay, '-'"
echo "    before its first RR about an SR; at limit 7 the decoder holds each"
echo "    picture back for B-frame reordering until the next key frame)"
if [ $demo -eq 0 ] || [ -n "${EBR_VIDEO_SHOW_OUT:-}" ] || [[ $outdir != "$work"/* ]]; then
  echo "== frames in $outdir (cliK-NNNNN.png); summary in $summary"
fi
[ $interrupted -eq 0 ] || echo "== stopped by Ctrl-C"
if [ $rc -eq 0 ] && [ -n "$shaped" ]; then
  echo "== every viewer decoded frames, without a decoder error but the fixed one behind the bucket"
elif [ $rc -eq 0 ]; then
  echo "== every viewer decoded frames, without a decoder error"
else
  echo "== FAILED (logs: EBR_VIDEO_KEEP=1 keeps $work)" >&2
fi
exit $rc
