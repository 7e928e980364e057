#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# e2e-prometheus.sh: a real Prometheus (Debian's prometheus server) scrapes
# ebpfrelaysink's metrics-port every second, from inside the relay's
# namespace, while a stream goes to two subscribers through the kernel.
# After the stream, its HTTP API (/api/v1/query) gives, per subscriber,
# packets and bytes by path equal to get-stats (nothing moves any more, so
# the next scrape holds the final values), the relay's kernel counters equal
# the stats property, the target is up (Prometheus parsed what it got, in
# OpenMetrics, which it asks for first), process_cpu_seconds_total grew,
# and every query of examples/grafana/dashboard.json is valid and finds
# its series (tests/e2e/dashboard-queries.py).
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib/e2e.sh"
e2e_init prometheus

command -v prometheus >/dev/null && command -v curl >/dev/null \
  || e2e_fail "prometheus or curl not installed (scripts/deps.sh)"

COUNT=1000 SIZE=200 PORT=5004 MPORT=9465 PPORT=9466
P=$E2E_PREFIX
A=10.200.11.2:6000 B=10.200.11.2:6001

ebr_topology_up "$P" 1 || e2e_fail "topology"
e2e_gen "$E2E_WORK/records.bin" $COUNT $SIZE
e2e_receivers "$P-cli1" cli1 6000 6001

e2e_ctl_start "$P-rel" relay "udpsrc port=$PORT ! ebpfrelaysink name=relay \
mode=kernel clients=$A,$B metrics-port=$MPORT"
e2e_wait_tcx "$P-rel" 1 up0 down1

TSDB=$(mktemp -d "${EBR_E2E_TMP:-/tmp}/e2e-prometheus-tsdb.XXXXXX")
e2e_on_cleanup "rm -rf '$TSDB'"
cat >"$E2E_WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: ebpfrelay
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
YML
e2e_bg "$P-rel" prometheus nice prometheus \
  --config.file="$E2E_WORK/prometheus.yml" --storage.tsdb.path="$TSDB" \
  --web.listen-address=127.0.0.1:$PPORT --log.level=warn
prom_pid=$E2E_LAST_PID

# query EXPR: the value of EXPR's one sample now ("none" without one)
query ()
{
  ip netns exec "$P-rel" curl -sf --max-time 5 -G \
    "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "none")' 2>/dev/null || echo none
}

up_is_1 () { [ "$(query 'up{job="ebpfrelay"}')" = 1 ]; }
ebr_until 300 up_is_1 || e2e_fail "Prometheus does not see the relay up" \
  "(up=$(query 'up{job="ebpfrelay"}')); see prometheus.log"
e2e_alive "$prom_pid" prometheus
cpu0=$(query 'process_cpu_seconds_total{job="ebpfrelay"}')
e2e_log "Prometheus scrapes the relay; process CPU $cpu0 s"

e2e_log "sending $COUNT records"
e2e_send "$P-srv" "$E2E_WORK/records.bin" $SIZE 10.200.1.2 $PORT
sleep 1

# get-stats now, then what Prometheus has once it scraped again after it
fails=0
for sub in $A $B; do
  e2e_ctl_stats "${sub%:*}" "${sub#*:}"
  kb=$(e2e_stat_of kernel-bytes)
  ub=$(e2e_stat_of user-bytes)
  [ "$E2E_KP" -ge $((COUNT * 9 / 10)) ] \
    || e2e_fail "$sub: kernel-packets $E2E_KP of $COUNT"
  sel="subscriber_address=\"${sub%:*}\",subscriber_port=\"${sub#*:}\",stream_port=\"$PORT\""
  sleep 2.2   # (two scrapes: the one after get-stats is in)
  for pair in "packets kernel $E2E_KP" "packets userspace $E2E_UP" \
    "bytes kernel $kb" "bytes userspace $ub"; do
    set -- $pair
    got=$(query "ebpfrelay_subscriber_$1_total{$sel,path=\"$2\"}")
    e2e_log "$sub $1 by $2: Prometheus $got, get-stats $3"
    [ "$got" = "$3" ] || fails=$((fails + 1))
  done
done
[ $fails -eq 0 ] || e2e_fail "$fails series differ from get-stats"

e2e_ctl stats
matched=$(ebr_field "$(grep '^stats ' <<<"$E2E_CTL_REPLY")" kernel-matched)
got=$(query "ebpfrelay_kernel_matched_packets_total{stream_port=\"$PORT\"}")
e2e_log "kernel-matched: Prometheus $got, stats $matched"
[ "$got" = "$matched" ] || e2e_fail "kernel-matched: Prometheus $got, stats $matched"
# both subscribers on the kernel path
n=$(query "count(ebpfrelay_subscriber_path{path=\"kernel\"} == 1)")
[ "$n" = 2 ] || e2e_fail "subscribers on the kernel path per Prometheus: $n"
cpu1=$(query 'process_cpu_seconds_total{job="ebpfrelay"}')
e2e_log "process CPU $cpu0 -> $cpu1 s"
python3 -c "import sys; sys.exit(0 if float('$cpu1') > float('$cpu0') else 1)" \
  2>/dev/null || e2e_fail "process_cpu_seconds_total did not grow ($cpu0 -> $cpu1)"
# the Grafana dashboard's queries, on what this Prometheus has
ip netns exec "$P-rel" python3 "$EBR_SOURCE_ROOT/tests/e2e/dashboard-queries.py" \
  "$EBR_SOURCE_ROOT/examples/grafana/dashboard.json" "http://127.0.0.1:$PPORT" \
  >"$E2E_WORK/dashboard.log" 2>&1 \
  || e2e_fail "dashboard queries: $(grep -v '^ok' "$E2E_WORK/dashboard.log" | head -5)"
e2e_log "the $(grep -c '^ok' "$E2E_WORK/dashboard.log") queries of examples/grafana/dashboard.json work"
e2e_alive "$E2E_CTL_PID" relay
e2e_alive "$prom_pid" prometheus
e2e_ctl_stop
e2e_log "PASS"
