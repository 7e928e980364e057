#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-rtcp-srcounts.sh MODE [consume]: the SRs a subscriber gets carry its
# own packet and octet counts, exactly, MODE kernel or userspace (consume:
# kernel mode with pass-original=false):
#   srv:  rtpbin + x264enc bframes=2 b-adapt=false (IDR pictures and
#         parameter sets priority 7, P pictures 6, B pictures 0: about
#         60 % of the packets are priority 0) sending RTP to the relay's
#         5004 and RTCP to its rtcp-port 5005; a tee copies the sender's
#         RTCP to a local capture (127.0.0.1:5099, rtcp-tool listen); the
#         relay's RRs go to the sender's rtpbin (upstream-rtcp 5008);
#   rel:  ebpfrelaysink clients=cli1:6000@6,cli1:6010 (limit 0);
#   cli1: for each subscriber ONE listener (rtcp-tool srcounts) on its
#         media port and media port + 1, where the relay sends the SRs
#         down, which orders every datagram of both ports by the kernel's
#         receive time: for each SR it knows how many RTP packets and
#         payload octets of that SSRC had arrived before it.
# Asserts, for both subscribers and every SR they got (at least 2 each):
#   1. SSRC, NTP and RTP timestamps are those of an SR the sender sent
#      (captured at the sender): untouched;
#   2. the SR's packet count equals the RTP packets of that SSRC received
#      before it, and its octet count their RFC 3550 payload octets (no
#      RTP header, CSRC list, header extension or padding; computed by
#      the listener from the packets themselves), within TOL_MS = 2 ms:
#      count >= received - (those received within 2 ms before the SR) and
#      <= received + (those received within 2 ms after it). Why 2 ms:
#      the relay reads its counters (the kernel's per-(slot, SSRC) counts,
#      or userspace's) at one instant and sends the SR from its RTCP
#      thread through a socket, while the media copies leave from the TC
#      program (or the streaming thread's sendmmsg); the two paths cross
#      the veth through different CPUs' backlogs, so a copy counted just
#      before the read may arrive just after the SR and one counted just
#      after it just before; a one-way trip here takes tens of µs (the
#      RTT the relay measures is under 1 ms, scheduling included), and at
#      this stream's ~60 packets/s 2 ms holds 0 or 1 packet. No other
#      slack: a packet lost or counted twice fails;
#   3. the check can fail: for the limit-6 subscriber, every SR's count
#      is below the sender's count for the same SR by more than the
#      tolerance (B pictures are dropped for it), so an SR passed down
#      with the sender's counts (not rewritten) fails 2; its total is also
#      below 60 % of the limit-0 subscriber's.
set -uo pipefail

MODE=${1:-kernel}
VARIANT=${2:-}
case $MODE in kernel|userspace) ;; *) echo "usage: $0 kernel|userspace [consume]" >&2; exit 2 ;; esac
case $VARIANT in ''|consume) ;; *) echo "usage: $0 kernel|userspace [consume]" >&2; exit 2 ;; esac

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init "rtcp-srcounts-$MODE${VARIANT:+-$VARIANT}"

for e in rtpbin x264enc rtph264pay videotestsrc tee; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || e2e_fail "GStreamer element $e not found"
done
command -v python3 >/dev/null || e2e_fail "python3 not installed"
TOOL="python3 $(dirname "${BASH_SOURCE[0]}")/rtcp-tool.py"
P=$E2E_PREFIX
SECS=16           # the listeners' lifetime: the SRs of about 14 s of stream
TOL_MS=2
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000"
CONSUME=
[ "$VARIANT" = consume ] && CONSUME="pass-original=false"
ebr_topology_up "$P" 1 || e2e_fail "topology"

e2e_bg "$P-srv" senderrtcp $TOOL listen 5099 "$E2E_WORK/sender-rtcp.txt" $((SECS + 5))
e2e_wait_udp "$P-srv" 5099
e2e_bg "$P-cli1" srcounts6 $TOOL srcounts 6000 $SECS $TOL_MS "$E2E_WORK/sr-6000.txt"
L6=$E2E_LAST_PID
e2e_bg "$P-cli1" srcounts0 $TOOL srcounts 6010 $SECS $TOL_MS "$E2E_WORK/sr-6010.txt"
L0=$E2E_LAST_PID
e2e_wait_udp "$P-cli1" 6000 6001 6010 6011

e2e_ctl_start "$P-rel" relay "udpsrc port=5004 caps=$CAPS ! ebpfrelaysink \
name=relay mode=$MODE clients=10.200.11.2:6000@6,10.200.11.2:6010 \
upstream-rtcp=10.200.1.1:5008 $CONSUME"
e2e_wait_udp "$P-rel" 5004 5005
[ "$MODE" = kernel ] && e2e_wait_tcx "$P-rel" 1 up0

e2e_bg "$P-srv" sender gst-launch-1.0 -e rtpbin name=rb \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! x264enc bframes=2 b-adapt=false key-int-max=60 bitrate=500 rc-lookahead=5 \
  ! rtph264pay config-interval=1 pt=96 ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! udpsink host=10.200.1.2 port=5004 \
  rb.send_rtcp_src_0 ! tee name=t \
  t. ! queue ! udpsink host=10.200.1.2 port=5005 sync=false async=false \
  t. ! queue ! udpsink host=127.0.0.1 port=5099 sync=false async=false \
  udpsrc port=5008 ! rb.recv_rtcp_sink_0
SENDER=$E2E_LAST_PID

# The listeners write their files when they end (SECS after they began).
ebr_until $((SECS * 10 + 50)) eval 'ebr_ended $L6 && ebr_ended $L0' \
  || e2e_fail "the srcounts listeners did not end"
wait "$L6" || e2e_fail "rtcp-tool srcounts 6000 failed"
wait "$L0" || e2e_fail "rtcp-tool srcounts 6010 failed"
e2e_alive "$SENDER" sender
e2e_alive "$E2E_CTL_PID" relay
e2e_ctl stats
e2e_log "relay: $(grep '^stats ' <<<"$E2E_CTL_REPLY" | grep -oE '(rtcp-(sender-packets|srs-forwarded|sent-down)|kernel-consumed)=\([a-z0-9]+\)[0-9]+' | sed 's/([a-z0-9]*)//' | tr '\n' ' ')"

# check PORT LIMIT: assertions 1-3 on one subscriber's SRs; sets TOTAL_P.
check ()
{
  local port=$1 limit=$2 f=$E2E_WORK/sr-$1.txt out rc
  [ -s "$f" ] || e2e_fail "no output from the listener at $port"
  out=$(awk -v limit="$limit" -v port="$port" '
    FNR == NR {
      for (i = 4; i <= NF; i++) if ($i ~ /^SR:/) {
        split($i, a, ":"); sender[a[2] ":" a[3] ":" a[4]] = a[5] ":" a[6]
      }
      next
    }
    /^total=/ { split(substr($1, 7), a, ":"); total = a[1]; next }
    {
      split($2, sr, ":"); split(substr($3, 4), rx, ":")
      split(substr($4, 7), early, ":"); split(substr($5, 6), late, ":")
      key = sr[2] ":" sr[3] ":" sr[4]; pc = sr[5]; oc = sr[6]; n++
      printf "  %s SR %s: count %d/%d octets, received before it %d/%d (%d/%d within 2 ms before, %d/%d after)", \
        port, key, pc, oc, rx[1], rx[2], early[1], early[2], late[1], late[2]
      if (!(key in sender)) { printf " NOT THE SENDER'\''S\n"; bad++; next }
      split(sender[key], s, ":")
      printf "; the sender'\''s %d/%d\n", s[1], s[2]
      if (pc < rx[1] - early[1] || pc > rx[1] + late[1]) { print "  ^ packet count wrong"; bad++ }
      if (oc < rx[2] - early[2] || oc > rx[2] + late[2]) { print "  ^ octet count wrong"; bad++ }
      if (limit == 6 && rx[1] > 0 && s[1] <= rx[1] + late[1]) {
        print "  ^ the sender'\''s count is within the tolerance: no packet dropped?"; bad++
      }
    }
    END {
      printf "  %s: %d SRs, %d RTP packets in all\n", port, n, total
      if (n < 2) { print "  ^ fewer than 2 SRs"; bad++ }
      print "total " total
      exit bad > 0
    }' "$E2E_WORK/sender-rtcp.txt" "$f")
  rc=$?
  grep -v '^total ' <<<"$out"
  TOTAL_P=$(sed -n 's/^total //p' <<<"$out")
  [ $rc -eq 0 ] || e2e_fail "the SRs at the limit-$limit subscriber ($port) are wrong (above)"
}
check 6000 6
t6=$TOTAL_P
check 6010 0
t0=$TOTAL_P
e2e_log "received in all: limit 6 $t6 packets, limit 0 $t0"
[ "$t6" -gt 0 ] && [ $((t6 * 10)) -lt $((t0 * 6)) ] \
  || e2e_fail "the limit-6 subscriber got $t6 packets, the limit-0 one $t0: not fewer"
e2e_ctl_stop
e2e_log PASS
