#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# video.sh: priority drop at the relay, with H.264 video. A server streams
# a test picture with B frames through ebpfrelaysink (kernel path) to three
# viewers that subscribed with priority limits 0, 1 and 7:
#
#   limit 0  gets everything
#   limit 1  loses the B frames (NAL NRI 0: priority 0), nothing it needs
#   limit 7  gets only the IDR pictures and SPS/PPS (NRI 3: priority 7):
#            one picture a second, each decodable on its own
#
# The relay drops in the kernel what a viewer's limit excludes and rewrites
# each viewer's RTP sequence numbers to stay contiguous, so its jitter buffer
# and depayloader see a clean stream, just with fewer frames.
#
#   video.sh --demo [-d SECONDS] [-o OUTDIR] [-p PREFIX] [-l LIMITS] [--meter]
#            [--loss P]
#       stream SECONDS (default 5), print per viewer the frames decoded,
#       packets received, packets dropped for it at the relay and decoder
#       errors; exit 1 if any viewer saw a decoder error or decoded no
#       frame. PNGs go to OUTDIR (kept) or a temporary directory.
#   video.sh [-d SECONDS] [-o OUTDIR] ...
#       the same, by hand: streams until Ctrl-C (or SECONDS), PNGs kept in
#       OUTDIR (default ./video-out).
#
#   -l LIMITS  comma-separated priority limits, one viewer each (default 0,1,7)
#   --loss P   each viewer also loses a random fraction P (0..1) of what it
#              receives, before its depayloader (identity drop-probability=P):
#              what network loss does to a decoder, next to the relay's
#              priority drop, which leaves nothing to conceal
#   --meter    one more receiver (namespace PREFIX-cliN+1, a static subscriber
#              at limit 0): tests/tools/rtp-prio-count counts the sender's
#              packets per priority with bpf/priority.h, and each viewer's
#              packet count is checked against the packets of priority >= its
#              limit (the end-to-end test uses this)
#
# Pipelines (each runs as a gst-launch-1.0 description, through
# tests/tools/launch-stats: gst-launch-1.0 -e that prints every element's
# "stats" property at the end, where the packet counters come from):
#
#   server (PREFIX-srv):
#     videotestsrc is-live=true num-buffers=30*SECONDS pattern=ball
#       ! video/x-raw,width=320,height=240,framerate=30/1
#       ! x264enc bframes=2 b-adapt=false key-int-max=30 speed-preset=ultrafast tune=zerolatency
#       ! video/x-h264,profile=main ! rtph264pay config-interval=-1 pt=96
#       ! rtpframemarking ! udpsink host=10.200.1.2 port=5004
#   relay (PREFIX-rel):
#     udpsrc port=5004 caps="$CAPS" ! ebpfrelaysink mode=kernel control-port=5005
#   viewer K (PREFIX-cliK, limit L):
#     ebpfprioritysrc port=6000 priority-limit=L relay=10.200.(10+K).1:5005 caps="$CAPS"
#       ! rtpjitterbuffer ! rtph264depay ! avdec_h264 ! videoconvert ! pngenc
#       ! multifilesink location=OUTDIR/cliK-%05d.png
#   with CAPS = application/x-rtp,media=video,encoding-name=H264,payload=96,
#     clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking
#
# rtpframemarking tags each packet (RFC 9626) from its NAL NRI: IDR, SPS and
# PPS 7, P 6, B 0. Frames decoded: the PNGs written (one per frame).
# Packets received: ebpfprioritysrc's "kept"; dropped at the relay:
# ebpfrelaysink's per-client "priority-dropped" (read before the viewers
# stop, as stopping unsubscribes them). Decoder errors: WARNING/ERROR lines
# of avdec_h264 (and libav), the video decoder base class and the
# depayloader in the viewer's output, plus libav's "concealing N DC, N AC,
# N MV errors" lines (logged at INFO level: each is a picture decoded with
# missing data), with GST_DEBUG set for those categories.
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
  echo "usage: $0 [--demo] [-d SECONDS] [-o OUTDIR] [-p PREFIX] [-l LIMITS] [--meter] [--loss P]" >&2
  exit 2
}

demo=0
meter=0
secs=
outdir=
prefix=ebrv
limits=0,1,7
loss=
port=5004
cport=5005
vport=6000
while [ $# -gt 0 ]; do
  case $1 in
    --demo) demo=1; shift ;;
    --meter) meter=1; shift ;;
    -d) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
    -o) [ $# -ge 2 ] || usage; outdir=$2; shift 2 ;;
    -p) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    -l) [ $# -ge 2 ] || usage; limits=$2; shift 2 ;;
    --loss) [ $# -ge 2 ] || usage; loss=$2; shift 2 ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
[ -n "$secs" ] || { [ $demo -eq 1 ] && secs=5 || secs=0; }
case $secs in ''|*[!0-9]*) usage ;; esac
if [ -n "$loss" ] && ! awk -v p="$loss" 'BEGIN { exit !(p ~ /^(0|1|0?\.[0-9]+)$/ && p + 0 <= 1) }'; then
  echo "$0: --loss is a fraction 0..1, not '$loss'" >&2
  exit 2
fi
IFS=, read -r -a lim <<<"$limits"
n=${#lim[@]}
[ "$n" -ge 1 ] && [ "$n" -le 200 ] || usage
for l in "${lim[@]}"; do
  case $l in [0-7]) ;; *) echo "$0: limits are 0-7, not '$l'" >&2; exit 2 ;; esac
done

ebr_example_setup x264enc avdec_h264 rtph264pay rtph264depay rtpjitterbuffer \
  pngenc multifilesink identity
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
nsn=$n
[ $meter -eq 0 ] || nsn=$((n + 1))
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

# kv TEXT NAME: the number in NAME=N.
kv ()
{
  grep -oE "(^| )$2=[0-9]+" <<<"$1" | head -n 1 | sed 's/.*=//'
}

ebr_topology_up "$prefix" "$nsn" || { echo "$0: topology failed" >&2; exit 1; }

CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,extmap-1=urn:ietf:params:rtp-hdrext:framemarking"
nbuf=-1
[ "$secs" -eq 0 ] || nbuf=$((30 * secs))
server=(videotestsrc is-live=true num-buffers=$nbuf pattern=ball
  ! video/x-raw,width=320,height=240,framerate=30/1
  ! x264enc bframes=2 b-adapt=false key-int-max=30 speed-preset=ultrafast tune=zerolatency
  ! video/x-h264,profile=main ! rtph264pay config-interval=-1 pt=96
  ! rtpframemarking ! udpsink host=10.200.1.2 port=$port)
relay=(udpsrc port=$port "caps=\"$CAPS\"" ! ebpfrelaysink mode=kernel "control-port=$cport")
meter_addr=10.200.$(ebr_cli_net $((n + 1))).2
[ $meter -eq 0 ] || relay+=("clients=$meter_addr:$vport")
viewer ()      # viewer K L: the pipeline of viewer K at limit L, in V
{
  V=(ebpfprioritysrc port=$vport priority-limit="$2"
    relay="$3:$cport" "caps=\"$CAPS\"" ! rtpjitterbuffer)
  [ -z "$loss" ] || V+=(! identity drop-probability="$loss")
  V+=(! rtph264depay ! avdec_h264 ! videoconvert ! pngenc
    ! multifilesink "location=\"$4/cli$1-%05d.png\"")
}

echo "== H.264 priority drop: server 10.200.1.1 -> relay 10.200.1.2:$port -> $n viewer(s) (limits $limits)"
echo "   server: gst-launch-1.0 ${server[*]}"
echo "   relay:  gst-launch-1.0 ${relay[*]}"
viewer K L "10.200.(10+K).1" OUTDIR
echo "   viewer: gst-launch-1.0 ${V[*]}"

ip netns exec "$prefix-rel" $setsid "$LAUNCH" "${relay[@]}" \
  >"$work/relay.log" 2>&1 </dev/null &
relay_pid=$!

# Ready when the relay holds its BPF program (the pipeline itself reaches
# PLAYING only with the first packet, as a live pipeline's sink does).
ebr_wait_relay "$relay_pid" "$work/relay.log" "$prefix" 0 0 || exit 1
prog_ids=$(ebr_prog_ids "$relay_pid")

# Viewers: each subscribes through the relay's control port; their
# decoder and depayloader warnings go to their log.
declare -a vpid
for k in $(seq 1 "$n"); do
  viewer "$k" "${lim[k - 1]}" "10.200.$(ebr_cli_net "$k").1" "$outdir"
  GST_DEBUG_NO_COLOR=1 \
    GST_DEBUG=libav:4,avviddec:2,videodecoder:2,rtph264depay:2,rtpbasedepayload:2 \
    ip netns exec "$prefix-cli$k" $setsid "$LAUNCH" "${V[@]}" \
    >"$work/cli$k.log" 2>&1 </dev/null &
  vpid[k]=$!
done
if [ $meter -eq 1 ]; then
  ip netns exec "$prefix-cli$nsn" $setsid "$COUNTER" -p 96 -f 1 -i 3600000 \
    -w 86400 $vport >"$work/meter.txt" 2>"$work/meter.log" </dev/null &
  meter_pid=$!
fi
for _ in $(seq 100); do
  ok=0
  for k in $(seq 1 "$n"); do
    grep -q 'state=(string)subscribed' "$work/cli$k.log" && ok=$((ok + 1))
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
while ebr_running "$server_pid"; do
  wait "$server_pid" 2>/dev/null
done
trap 'exit 130' INT
grep -q '^ERROR' "$work/server.log" && { echo "$0: the server failed:" >&2; cat "$work/server.log" >&2; exit 1; }
sleep 0.5                      # the jitter buffers' latency (200 ms)

# The relay first: its per-viewer counters go when the viewers unsubscribe.
ebr_stop "$relay_pid" 150
for k in $(seq 1 "$n"); do
  ebr_stop "${vpid[k]}" 150
done
[ $meter -eq 0 ] || ebr_stop "$meter_pid" 150

relay_stats=$(grep '^stats ebpfrelaysink' "$work/relay.log")
sent=$(field "$(grep '^stats udpsink' "$work/server.log")" rendered)
tagged=$(field "$(grep '^stats rtpframemarking' "$work/server.log")" tagged)
meter_line=
[ $meter -eq 0 ] || meter_line=$(cat "$work/meter.txt")
{
  echo "sender packets=${sent:-0} tagged=${tagged:-0}"
  echo "relay mode=$(tr -d '\\' <<<"$relay_stats" | grep -o 'mode=(string)[a-z]*' | sed 's/.*)//') buffers-in=$(field "$relay_stats" buffers-in) kernel-matched=$(field "$relay_stats" kernel-matched)" \
    "$(for p in 0 1 2 3 4 5 6 7; do printf 'kernel-p%s=%s ' $p "$(field "$relay_stats" kernel-priority-$p)"; done)"
  [ $meter -eq 0 ] || echo "meter $meter_line"
} >"$summary"

printf '== sender: %s RTP packets (%s frame-marked)\n' "${sent:-?}" "${tagged:-?}"
printf '   the relay'"'"'s kernel classified them: priority 7: %s  6: %s  0: %s\n' \
  "$(field "$relay_stats" kernel-priority-7)" "$(field "$relay_stats" kernel-priority-6)" \
  "$(field "$relay_stats" kernel-priority-0)"
if [ $meter -eq 1 ]; then
  printf '   by priority (meter %s): 7: %s  6: %s  0: %s  others: %s\n' "$meter_addr" \
    "$(kv "$meter_line" p7)" "$(kv "$meter_line" p6)" "$(kv "$meter_line" p0)" \
    $(( $(kv "$meter_line" packets) - $(kv "$meter_line" p7) - $(kv "$meter_line" p6) - $(kv "$meter_line" p0) ))
fi
echo "== per viewer:"
printf '   %-18s %5s %7s %8s %13s %15s%s\n' viewer limit frames packets relay-dropped decoder-errors \
  "$([ $meter -eq 1 ] && echo '  expected')"
rc=0
for k in $(seq 1 "$n"); do
  l=${lim[k - 1]}
  addr=10.200.$(ebr_cli_net "$k").2
  log=$work/cli$k.log
  frames=$(find "$outdir" -maxdepth 1 -name "cli$k-[0-9]*.png" | wc -l)
  rendered=$(field "$(grep '^stats multifilesink' "$log")" rendered)
  vs=$(grep '^stats ebpfprioritysrc' "$log")
  packets=$(field "$vs" kept)
  fdrop=$(field "$vs" dropped)
  jb=$(grep '^stats rtpjitterbuffer' "$log")
  jlost=$(field "$jb" num-lost)
  cs=$(tr -d '\\' <<<"$relay_stats" | grep -oE "host=\(string\)$addr, port=\(int\)$vport, [^\"]*" | head -n 1)
  rdrop=$(field "$cs" priority-dropped)
  rpk=$(field "$cs" packets)
  errs=$(grep -cE '^(WARNING|ERROR): from element [^ ]*(avdec|depay)|[[:space:]](WARN|ERROR)[[:space:]]+(libav|avviddec|videodecoder|rtph264depay|rtpbasedepayload)[[:space:]]|[[:space:]]INFO[[:space:]]+libav[[:space:]].*concealing' "$log")
  expected=
  [ $meter -eq 0 ] || expected=$(kv "$meter_line" "ge$l")
  printf '   cli%-3s %-11s %5s %7s %8s %13s %15s%s\n' "$k" "$addr" "$l" "$frames" \
    "${packets:--}" "${rdrop:--}" "$errs" "$([ $meter -eq 1 ] && printf '%10s' "$expected")"
  echo "client=cli$k limit=$l frames=$frames rendered=${rendered:-0} packets=${packets:-0}" \
    "filter-dropped=${fdrop:-0} relay-packets=${rpk:-0} relay-dropped=${rdrop:-0}" \
    "seq-gaps=${jlost:-x}" \
    "decoder-errors=$errs${expected:+ expected=$expected}" >>"$summary"
  if [ "$errs" -gt 0 ]; then
    echo "   cli$k (limit $l) had $errs decoder error(s):" >&2
    grep -E '(WARN|ERROR)|concealing' "$log" | head -n 5 | sed 's/^/     /' >&2
    rc=1
  fi
  if [ "$frames" -eq 0 ]; then
    echo "   cli$k decoded no frame; its log:" >&2
    tail -n 15 "$log" >&2
    rc=1
  fi
  if [ $meter -eq 1 ] && [ "${packets:-x}" != "$expected" ]; then
    echo "   cli$k received ${packets:-?} packets, the sender sent $expected of priority >= $l" >&2
    rc=1
  fi
done
echo "   (frames: PNGs decoded and written; packets: ebpfprioritysrc kept;"
echo "    relay-dropped: ebpfrelaysink priority-dropped for that viewer, in the kernel)"
if [ $demo -eq 0 ] || [ -n "${EBR_VIDEO_SHOW_OUT:-}" ] || [[ $outdir != "$work"/* ]]; then
  echo "== frames in $outdir (cliK-NNNNN.png); summary in $summary"
fi
[ $interrupted -eq 0 ] || echo "== stopped by Ctrl-C"
if [ $rc -eq 0 ]; then
  echo "== every viewer decoded frames, without a decoder error"
else
  echo "== FAILED (logs: EBR_VIDEO_KEEP=1 keeps $work)" >&2
fi
exit $rc
