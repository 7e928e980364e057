#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-rtcp-rr.sh MODE: the RR figures in the relay's get-stats agree with
# what the viewer's rtpbin reports, under 5 % loss on the viewer's link,
# MODE kernel or userspace:
#   srv:  rtpbin + x264enc: RTP to the relay's 5004, RTCP to its 5005, the
#         relay's RRs back into the sender's rtpbin (upstream-rtcp 5008);
#   rel:  ebpfrelaysink clients=cli1:6000;
#   cli1: rtpbin-viewer.py (system python3 with gi), one session: RTP on
#         6000, RTCP on 6001, its RRs from a udpsink to the relay's 5005;
#         it prints the report block each RR of its carries (the remote
#         source's "sent-rb-*" stats: fraction lost, cumulative lost,
#         jitter) as they change; an nftables table in cli1's namespace
#         drops 5 % of the datagrams to UDP 6000 at random (numgen random
#         mod 100 < 5; removed by the test's clean-up, also on failure;
#         the namespace goes with it).
# The relay's get-stats of 10.200.11.2:6000 is read every 200 ms. A
# viewer report and a relay sample are the same report when their
# cumulative packets lost are equal (it grows with each report under
# loss; viewer reports whose count repeats are not used) and the sample
# was taken after the viewer made the report.
# Asserts, for at least 3 such reports with packets lost > 0 and, among
# them, at least one with fraction lost > 0:
#   1. rtcp-fraction-lost x 256 is within 1 of the viewer's fraction lost;
#   2. rtcp-jitter is within 10 % (at least 1 unit) of the viewer's jitter;
#   3. the relay's RTT for the viewer is known (rtt-ms >= 0) at one of them
#      at least (the viewer's first RR, before any SR, has no LSR).
# The loss is on the viewer's link only, so figures the relay made up
# itself (its own upstream statistics: no loss) or took from another
# report would fail 1 or the match.
set -uo pipefail

MODE=${1:-kernel}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 kernel|userspace" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "rtcp-rr-$MODE"

for e in rtpbin x264enc rtph264pay rtph264depay avdec_h264 videotestsrc; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v nft >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v nft >/dev/null || { echo "SKIP: nft (nftables) not installed"; exit $E2E_SKIP; }
GI_PY=/usr/bin/python3
"$GI_PY" -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null \
  || { echo "SKIP: $GI_PY has no GStreamer bindings (python3-gi, gir1.2-gstreamer-1.0)"; exit $E2E_SKIP; }
HERE=$(dirname "${BASH_SOURCE[0]}")
P=$E2E_PREFIX
VIEW_SECS=40
LOSS=5
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
ebr_topology_up "$P" 1 || e2e_fail "topology"

TABLE=ebr_loss_$$
e2e_on_cleanup "ip netns exec $P-cli1 nft delete table inet $TABLE"
ip netns exec "$P-cli1" nft -f - <<EOF || e2e_fail "nft: cannot install the loss rule"
table inet $TABLE {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport 6000 numgen random mod 100 < $LOSS counter drop
  }
}
EOF

e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE clients=10.200.11.2:6000 upstream-rtcp=10.200.1.1:5008"
e2e_wait_udp "$P-rel" 5004 5005
[ "$MODE" = kernel ] && e2e_wait_tcx "$P-rel" 1 up0

e2e_bg "$P-cli1" viewer "$GI_PY" "$HERE/rtpbin-viewer.py" $VIEW_SECS 10.200.11.1 \
  "6000:5005:$CAPS:rtph264depay ! avdec_h264"
VIEWER=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000 6001

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc tune=zerolatency key-int-max=60 bitrate=800 ! rtph264pay config-interval=1 pt=96 \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=5004 \
  rb.send_rtcp_src_0 ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID

SAMPLES=$E2E_WORK/relay-samples.txt
: >"$SAMPLES"
# sample: one get-stats of the viewer, "t=UNIX lost fraction*256 jitter rtt".
sample ()
{
  local f
  e2e_ctl_stats 10.200.11.2 6000
  grep -q 'rtcp-has-report=(boolean)true' <<<"$E2E_STATS_LINE" || return 0
  f=$(grep -oE 'rtcp-fraction-lost=\(double\)[0-9.e-]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//')
  echo "t=$(e2e_now) $(grep -oE 'rtcp-packets-lost=\(int\)-?[0-9]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//') \
$(awk -v f="$f" 'BEGIN { printf "%.3f", f * 256 }') $(e2e_stat_of rtcp-jitter) \
$(grep -oE 'rtt-ms=\(double\)-?[0-9.e-]+' <<<"$E2E_STATS_LINE" | sed 's/.*)//')" >>"$SAMPLES"
}
# matched: prints one line per viewer report (session 0, packets lost > 0,
# a count no other report of it has) with the first relay sample of the
# same count taken after it: "lost vf rf vj rj rtt ok|BAD".
matched ()
{
  awk '
    FNR == NR {
      if ($2 != "rb") next
      split($0, kv, " "); delete v
      for (i in kv) { n = split(kv[i], p, "="); if (n == 2) v[p[1]] = p[2] }
      if (v["session"] != 0) next
      nrb++; rt[nrb] = substr($1, 3) + 0; rl[nrb] = v["lost"]
      rf[nrb] = v["fraction"]; rj[nrb] = v["jitter"]; seen[v["lost"]]++
      next
    }
    { st[++ns] = substr($1, 3) + 0; sl[ns] = $2; sf[ns] = $3; sj[ns] = $4; srtt[ns] = $5 }
    END {
      for (i = 1; i <= nrb; i++) {
        if (rl[i] <= 0 || seen[rl[i]] > 1) continue
        for (k = 1; k <= ns; k++) {
          if (st[k] < rt[i] || sl[k] != rl[i]) continue
          df = sf[k] - rf[i]; if (df < 0) df = -df
          dj = sj[k] - rj[i]; if (dj < 0) dj = -dj
          tol = rj[i] / 10; if (tol < 1) tol = 1
          ok = (df <= 1 && dj <= tol) ? "ok" : "BAD"
          print rl[i], rf[i], sf[k], rj[i], sj[k], srtt[k], ok
          break
        }
      }
    }' "$E2E_WORK/viewer.log" "$SAMPLES"
}
enough ()
{
  local m
  sample
  m=$(matched)
  [ "$(grep -c ' ok$' <<<"$m")" -ge 3 ] \
    && awk '$2 > 0 && $7 == "ok" { f = 1 } $6 >= 0 { r = 1 } END { exit !(f && r) }' <<<"$m"
}
for _ in $(seq $(((VIEW_SECS - 5) * 5))); do
  enough && break
  grep -q ' BAD$' <<<"$(matched)" && break
  ebr_running "$VIEWER" || break
  sleep 0.2
done
e2e_alive "$SENDER" sender
e2e_alive "$E2E_CTL_PID" relay
drops=$(ip netns exec "$P-cli1" nft list table inet "$TABLE" | grep -oE 'packets [0-9]+' | head -n 1)
e2e_log "the loss rule dropped $drops at the viewer"
grep ' rb session=0 ' "$E2E_WORK/viewer.log" | sed 's/^/  viewer /'
m=$(matched)
e2e_log "reports matched (lost, fraction viewer/relay, jitter viewer/relay, rtt-ms):"
sed 's/^/  /' <<<"$m"
ebr_stop "$VIEWER" 50 || e2e_fail "the viewer failed: $(tail -n 3 "$E2E_WORK/viewer.log")"
! grep -q ' BAD$' <<<"$m" || e2e_fail "the relay's RR figures differ from the viewer's (above)"
[ "$(grep -c ' ok$' <<<"$m")" -ge 3 ] \
  || e2e_fail "fewer than 3 of the viewer's lossy reports found in get-stats (samples: $(wc -l <"$SAMPLES"))"
awk '$2 > 0 { f = 1 } END { exit !f }' <<<"$m" \
  || e2e_fail "no matched report with fraction lost > 0: is there loss?"
awk '$6 >= 0 { r = 1 } END { exit !r }' <<<"$m" \
  || e2e_fail "no RTT for the viewer in get-stats (rtt-ms -1 throughout)"
e2e_ctl_stop
e2e_log PASS
