#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""dashboard-queries.py DASHBOARD URL: every query of the Grafana dashboard
(examples/grafana/dashboard.json) against the Prometheus at URL, for
e2e-prometheus.sh: each must be valid PromQL (status success), and each one
on metrics a stream without RTCP has must give at least one series, so the
dashboard names only metrics the relay exports. Grafana's variables become
"every value" ($job, $instance, $stream_port: .*) and $__rate_interval 5s.
Prints one line per query; exits 1 when one fails."""
import json
import sys
import urllib.parse
import urllib.request

# Metrics that need the subscribers' RTCP or the subscription channel: may
# have no series in a plain stream.
MAY_BE_EMPTY = ("rtt_seconds", "fraction_lost", "jitter", "nacks_received",
                "retransmitted", "control_")

dash = json.load(open(sys.argv[1]))
url = sys.argv[2].rstrip("/") + "/api/v1/query"
exprs = []
for p in dash["panels"]:
    for t in p.get("targets", []):
        exprs.append((p["title"], t["expr"]))
for v in dash["templating"]["list"]:
    if v["type"] == "query":
        exprs.append((f"variable {v['name']}",
                      v["query"]["query"]))
bad = 0
for title, expr in exprs:
    q = (expr.replace("$__rate_interval", "5s").replace("$job", ".*")
         .replace("$instance", ".*").replace("$stream_port", ".*"))
    if q.startswith("label_values("):
        # Grafana's function: the series of its metric selector
        inner = q[len("label_values("):q.rindex(",")]
        q = f"count({inner})"
    try:
        with urllib.request.urlopen(url + "?" + urllib.parse.urlencode(
                {"query": q}), timeout=5) as r:
            ans = json.load(r)
    except Exception as e:  # noqa: BLE001 (an HTTP 400 is a bad query)
        print(f"FAIL {title}: {q}: {e}")
        bad += 1
        continue
    n = len(ans["data"]["result"]) if ans.get("status") == "success" else -1
    may_be_empty = any(m in q for m in MAY_BE_EMPTY)
    ok = n > 0 or (n == 0 and may_be_empty)
    print(f"{'ok  ' if ok else 'FAIL'} {title}: {n} series")
    bad += not ok
sys.exit(1 if bad else 0)
