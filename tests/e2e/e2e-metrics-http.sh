#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-metrics-http.sh: what an operator sees of a running relay (issue 15),
# a gst-launch-1.0 -m relay (mode=kernel, two subscribers, one at limit 6)
# with stats-interval=500 and metrics-port:
#  - the bus: at least one stats message per second, each with both
#    subscribers' structures; their path change to the kernel posted as
#    ebpfrelaysink-client-changed;
#  - /metrics passes `promtool check metrics`, and after the stream its
#    per-subscriber packets and bytes and priority drops equal those of
#    the last stats message (within one interval: nothing moves any more);
#  - only GET /metrics is served: other methods 405, other paths 404;
#  - a bounded flood of junk HTTP (tests/e2e/http-junk.py) neither crashes
#    nor wedges it: a good GET answers after each phase and at the end,
#    the relay still forwards, its RSS grew by less than 20 MB and it holds
#    no more fds after it and 100 scrapes.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init metrics-http

command -v promtool >/dev/null && command -v curl >/dev/null \
  || e2e_fail "promtool (package prometheus) or curl not installed (scripts/deps.sh)"

COUNT=1500 SIZE=200 PORT=5004 MPORT=9465
P=$E2E_PREFIX
A_HOST=10.200.11.2 A_PORT=6000 B_PORT=6001
CAPS="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,extmap-3=(string)urn:ietf:params:rtp-hdrext:framemarking"
URL=http://127.0.0.1:$MPORT

ebr_topology_up "$P" 1 || e2e_fail "topology"
e2e_tool EBR_RTP_PRIO rtp-prio
"$EBR_RTP_PRIO" gen "$E2E_WORK/records.bin" $COUNT $SIZE || e2e_fail "rtp-prio gen"
e2e_receivers "$P-cli1" cli1 $A_PORT $B_PORT

e2e_bg "$P-rel" relay gst-launch-1.0 -m udpsrc port=$PORT caps="$CAPS" \
  ! ebpfrelaysink mode=kernel stats-interval=500 metrics-port=$MPORT \
  clients=$A_HOST:$A_PORT,$A_HOST:$B_PORT@6
relay_pid=$E2E_LAST_PID
e2e_wait_tcx "$P-rel" 1 up0 down1
t0=$(date +%s.%N)

rcurl () { ip netns exec "$P-rel" curl -s --max-time 5 "$@"; }
status () { rcurl -o /dev/null -w '%{http_code}' "$@"; }

e2e_log "sending $COUNT records"
e2e_send "$P-srv" "$E2E_WORK/records.bin" $SIZE 10.200.1.2 $PORT
sleep 1.2    # two intervals: the last stats message is after the stream

# --- the bus -----------------------------------------------------------------
rlog=$E2E_WORK/relay.log
t1=$(date +%s.%N)
n=$(grep -c 'application/x-ebpfrelaysink-stats' "$rlog")
secs=$(python3 -c "print(int($t1 - $t0))")
e2e_log "$n stats messages in $secs s"
[ "$n" -ge "$secs" ] && [ "$secs" -ge 2 ] \
  || e2e_fail "$n stats messages in $secs s (stats-interval=500)"
# (GstStructure escapes the structures inside the clients array:
# "port\=\(int\)6000"; without the backslashes)
last=$(grep 'application/x-ebpfrelaysink-stats' "$rlog" | tail -n 1 | sed 's/\\//g')
for p in $A_PORT $B_PORT; do
  grep -q "client-stats, host=(string)$A_HOST, port=(int)$p," <<<"$last" \
    || e2e_fail "the last stats message has no structure of $A_HOST:$p"
done
grep -q 'ebpfrelaysink-client-changed, change=(string)path.*path=(string)kernel' \
  "$rlog" || e2e_fail "no ebpfrelaysink-client-changed message of a path change"

# sub_field PORT FIELD: the field of that subscriber in the last message
sub_field ()
{
  grep -o "port=(int)$1, path=[^\"]*" <<<"$last" \
    | grep -oE "(^|[ ,])$2=\([a-z0-9]*\)[0-9]+" | head -n 1 | sed 's/.*)//'
}

# --- /metrics ------------------------------------------------------------------
rcurl -o "$E2E_WORK/metrics.txt" "$URL/metrics" || e2e_fail "GET /metrics"
promtool check metrics <"$E2E_WORK/metrics.txt" >"$E2E_WORK/promtool.log" 2>&1 \
  || e2e_fail "promtool check metrics: $(head -5 "$E2E_WORK/promtool.log")"
e2e_log "promtool check metrics: ok ($(grep -vc '^#' "$E2E_WORK/metrics.txt") samples)"
fails=0
for p in $A_PORT $B_PORT; do
  sel="stream_port=\"$PORT\",subscriber_address=\"$A_HOST\",subscriber_port=\"$p\""
  for pair in "packets_total{$sel,path=\"kernel\"} kernel-packets" \
    "bytes_total{$sel,path=\"kernel\"} kernel-bytes" \
    "packets_total{$sel,path=\"userspace\"} user-packets" \
    "priority_dropped_packets_total{$sel} priority-dropped"; do
    set -- $pair
    got=$(grep -F "ebpfrelay_subscriber_$1 " "$E2E_WORK/metrics.txt" | awk '{print $2}')
    want=$(sub_field "$p" "$2")
    e2e_log ":$p $2: /metrics $got, bus $want"
    [ -n "$got" ] && [ "$got" = "$want" ] || fails=$((fails + 1))
  done
done
[ $fails -eq 0 ] || e2e_fail "$fails values of /metrics differ from the stats message"
dropped=$(sub_field $B_PORT priority-dropped)
[ "${dropped:-0}" -gt 0 ] || e2e_fail "the limit-6 subscriber had nothing dropped"

# --- only GET /metrics -----------------------------------------------------------
for m in POST PUT DELETE HEAD OPTIONS PATCH; do
  if [ $m = HEAD ]; then c=$(status -I "$URL/metrics"); else c=$(status -X $m "$URL/metrics"); fi
  [ "$c" = 405 ] || e2e_fail "$m /metrics: $c, not 405"
done
for path in / /metrics/ /metricsx /metrics/x /favicon.ico /api/v1/query; do
  c=$(status "$URL$path")
  [ "$c" = 404 ] || e2e_fail "GET $path: $c, not 404"
done
[ "$(status "$URL/metrics")" = 200 ] || e2e_fail "GET /metrics is not 200"
e2e_log "other methods 405, other paths 404"

# --- junk ------------------------------------------------------------------------
rss0=$(awk '/^VmRSS/ {print $2}' /proc/$relay_pid/status)
fds0=$(ls /proc/$relay_pid/fd | wc -l)
ip netns exec "$P-rel" python3 "$EBR_SOURCE_ROOT/tests/e2e/http-junk.py" \
  127.0.0.1 $MPORT >"$E2E_WORK/junk.log" 2>&1
rc=$?
sed 's/^/  /' "$E2E_WORK/junk.log"
[ $rc -eq 0 ] || e2e_fail "the endpoint did not survive the junk (see junk.log)"
e2e_alive "$relay_pid" relay
rss1=$(awk '/^VmRSS/ {print $2}' /proc/$relay_pid/status)
e2e_log "relay RSS $rss0 -> $rss1 kB"
# no socket left behind: 100 scrapes (keep-alive clients, as curl) and the
# junk's connections all closed (libsoup 3.2 kept one fd per kept-alive
# connection that the client closed, until each answer said close)
for i in $(seq 100); do rcurl -o /dev/null "$URL/metrics"; done
sleep 0.5
fds1=$(ls /proc/$relay_pid/fd | wc -l)
e2e_log "relay fds $fds0 -> $fds1 after the junk and 100 scrapes"
[ "$fds1" -le $((fds0 + 2)) ] || e2e_fail "the relay holds $((fds1 - fds0)) more fds"
[ $((rss1 - rss0)) -lt 20480 ] || e2e_fail "RSS grew by $((rss1 - rss0)) kB"

# still forwarding, still answering
before=$(stat -c %s "$E2E_WORK/cli1-$A_PORT.bin")
e2e_send "$P-srv" "$E2E_WORK/records.bin" $SIZE 10.200.1.2 $PORT
sleep 0.5
after=$(stat -c %s "$E2E_WORK/cli1-$A_PORT.bin")
[ "$after" -gt "$before" ] || e2e_fail "the relay stopped forwarding"
rcurl -o "$E2E_WORK/metrics2.txt" "$URL/metrics" || e2e_fail "GET /metrics after the junk"
promtool check metrics <"$E2E_WORK/metrics2.txt" >/dev/null 2>&1 \
  || e2e_fail "promtool check metrics after the junk"
e2e_alive "$relay_pid" relay
e2e_log "PASS"
