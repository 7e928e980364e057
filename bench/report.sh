#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/report.sh OUT: the tables of a bench/run.sh result directory
# (OUT/results.tsv), as Markdown. bench/run.sh calls it; run it again on a
# kept directory to reprint them.
set -euo pipefail
OUT=${1:?usage: report.sh OUT}
R=$OUT/results.tsv
[ -s "$R" ] || { echo "report.sh: no $R" >&2; exit 1; }

echo "## Machine"
echo
sed 's/^/    /' "$OUT/machine.txt"
echo

awk -F'\t' '
function med(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
    if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  if (n == 0) return "-"
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
function hi(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
function add(arr, k, v) { if (v == "-" || v == "") return; arr[k] = (k in arr) ? arr[k] " " v : v }
function r(a, b) { return (a == "-" || b == "-" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
# table(TITLE, TEXT, HEAD, ALIGN, SET, FROM): a section (after a blank
# line, but for the first): its title, its text, the head of its table;
# the keys of SET in table order (N, then path from the FROMth of order[])
# into ks[1..], their path and N into P[] and N[]; returns how many
function table(title, text, head, align, set, from,   i, o, k, n) {
  if (ntables++) print ""
  print title; print ""; print text; print ""; print head; print align
  for (i = 1; i <= nsn; i++) for (o = from; o <= no; o++) {
    k = order[o] SUBSEP nl[i]
    if (k in set) { ks[++n] = k; P[k] = order[o]; N[k] = nl[i] }
  }
  return n + 0
}
NR == 1 { next }
{
  k = $2 SUBSEP $3
  if ($1 == "video") {
    vrate = $5
    keys[k] = 1; np[$2] = 1; nn[$3] = 1
    add(p50, k, $11); add(p99, k, $12); add(mx, k, $13); add(loss, k, $9)
    add(relay, k, $14); add(soft, k, $18); add(busy, k, $19); add(sendc, k, $16)
    add(recvc, k, $17); add(load, k, $23); add(rate, k, $6); add(sdr, k, $25); reps[k]++
    rp50[k, $4] = $11; rp99[k, $4] = $12
  } else if ($1 == "sweep") {
    skeys[k] = 1; np[$2] = 1; nn[$3] = 1
    if ($24 == 1 && (!(k in best) || $6 + 0 > best[k] + 0)) { best[k] = $6; bestp99[k] = $12; bestloss[k] = $9; bestbound[k] = $26 ? " (sender-bound: target " $5 ")" : "" }
    if ($24 == 0 && (!(k in firstfail) || $5 + 0 < firstfail[k] + 0)) { firstfail[k] = $5; ffrate[k] = $6; ffwhy[k] = "sent " $6 "/s, loss " $9 "%, p99 " $12 " us, backlog drops " $25 }
  } else if ($1 == "probe") {
    pkeys[k] = 1; np[$2] = 1; nn[$3] = 1
    # multiudpsink sends in the reverse order of its clients list: its
    # list-first subscriber gets the latest copy.
    if ($2 == "multiudpsink") {
      add(pf50, k, $11); add(pf99, k, $12); add(pfmx, k, $13)
      add(pl50, k, $27); add(pl99, k, $28); add(plmx, k, $29)
    } else {
      add(pf50, k, $27); add(pf99, k, $28); add(pfmx, k, $29)
      add(pl50, k, $11); add(pl99, k, $12); add(plmx, k, $13)
    }
    add(ploss, k, $9)
    add(prelay, k, $14); add(psend, k, $16); add(pload, k, $23); preps[k]++
  } else if ($1 == "drop") {
    dkeys[k] = 1; np[$2] = 1; nn[$3] = 1
    add(drelay, k, $14); add(dsoft, k, $18); add(dbusy, k, $19); add(dsend, k, $16)
    add(dloss, k, $9); add(dload, k, $23)
  } else if ($1 == "dropstats") {
    add(dbpf, k, $20); add(dbpfc, k, $21); add(dbsend, k, $16)
  }
}
END {
  no = split("floor multiudpsink multiudpsink@base userspace userspace@base kernel kernel@base kernel-consume kernel-consume@base", order, " ")
  # bench/run.sh --ipv6: each path over IPv6 after its IPv4 twin
  for (o = no; o >= 1; o--) { order[2 * o - 1] = order[o]; order[2 * o] = order[o] ".v6" }
  no *= 2
  ns = ""; for (n in nn) ns = ns " " n
  nsn = split(ns, nl, " ")
  for (i = 1; i <= nsn; i++) for (j = i + 1; j <= nsn; j++) if (nl[j] + 0 < nl[i] + 0) { t = nl[i]; nl[i] = nl[j]; nl[j] = t }

  nr = table("## Video rate: " vrate " datagrams/s of 1200 bytes",
    "Median of the repeats; p99 range = lowest..highest p99 over the repeats. CPU in microseconds per forwarded copy: relay = the relay process (user+system), sender = the sender process per datagram, softirq and busy = whole machine (tick-sampled, noisy). backlog drops = /proc/net/softnet_stat drops (machine-wide): copies lost because a CPU input backlog (net.core.netdev_max_backlog) was full.",
    "| path | N | repeats | rate sent | loss % | p50 us | p99 us | p99 range | max us | relay us/copy | sender us/dgram | recv us/copy | softirq us/copy | busy us/copy | backlog drops | load1 |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", keys, 1)
  for (q = 1; q <= nr; q++) { k = ks[q]
    printf "| %s | %s | %d | %s | %s | %s | %s | %s..%s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
      P[k], N[k], reps[k], med(rate[k]), med(loss[k]), med(p50[k]), med(p99[k]),
      lo(p99[k]), hi(p99[k]), med(mx[k]), (k in relay) ? med(relay[k]) : "-", med(sendc[k]),
      med(recvc[k]), med(soft[k]), med(busy[k]), med(sdr[k]), med(load[k])
  }
  nr = table("### Ratios at video rate (median p50, p99; relay CPU per copy)",
    "To the floor (plain routing, N = 1) and to multiudpsink at the same N, of the same IP version.",
    "| path | N | p50 / floor | p99 / floor | p50 / multiudpsink | p99 / multiudpsink | relay CPU / multiudpsink | busy CPU / multiudpsink |", "|---|---:|---:|---:|---:|---:|---:|---:|", keys, 2)
  for (q = 1; q <= nr; q++) { k = ks[q]; v6 = (P[k] ~ /\.v6$/) ? ".v6" : ""
    f = "floor" v6 SUBSEP 1; m = "multiudpsink" v6 SUBSEP N[k]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", P[k], N[k],
      (f in keys) ? r(med(p50[k]), med(p50[f])) : "-", (f in keys) ? r(med(p99[k]), med(p99[f])) : "-",
      (m in keys) ? r(med(p50[k]), med(p50[m])) : "-", (m in keys) ? r(med(p99[k]), med(p99[m])) : "-",
      (m in keys && k in relay) ? r(med(relay[k]), med(relay[m])) : "-",
      (m in keys) ? r(med(busy[k]), med(busy[m])) : "-"
  }
  nb = 0
  for (k in keys) if (index(k, "@base")) nb++
  if (nb) {
    nr = table("### Against the base build (PATH@base) at video rate",
      "Median p50, p99 and relay CPU per copy of each path over its PATH@base run with --base-plugin-path (same traffic, interleaved: repeat r of both ran back to back); per-repeat range = lowest..highest of the repeats\x27 own ratios.",
      "| path | N | p50 / base | p99 / base | p50 ratio per repeat | p99 ratio per repeat | relay CPU / base |", "|---|---:|---:|---:|---:|---:|---:|", keys, 1)
    for (q = 1; q <= nr; q++) { k = ks[q]; if (index(P[k], "@base")) continue
      b = P[k] "@base" SUBSEP N[k]; if (!(b in keys)) continue
      l50 = ""; l99 = ""
      for (rr = 1; rr <= reps[k]; rr++) if (((k, rr) in rp50) && ((b, rr) in rp50)) {
        l50 = l50 " " r(rp50[k, rr], rp50[b, rr]); l99 = l99 " " r(rp99[k, rr], rp99[b, rr])
      }
      printf "| %s | %s | %s | %s | %s..%s | %s..%s | %s |\n", P[k], N[k],
        r(med(p50[k]), med(p50[b])), r(med(p99[k]), med(p99[b])), lo(l50), hi(l50), lo(l99), hi(l99),
        (k in relay && b in relay) ? r(med(relay[k]), med(relay[b])) : "-"
    }
  }
  nb = 0
  for (k in keys) if (k ~ /\.v6/) nb++
  if (nb) {
    nr = table("### IPv6 against IPv4 at video rate (bench/run.sh --ipv6)",
      "Median p50 and p99 of each path over IPv6 (PATH.v6: the stream, the subscribers and the receivers in IPv6) over the same path over IPv4, in the same run (repeat r of both ran back to back); per-repeat range = lowest..highest of the repeats\x27 own ratios. Issue 14\x27s goal: the kernel path within 1.1x.",
      "| path | N | p50 v6 us | p50 v4 us | p50 v6/v4 | p99 v6 us | p99 v4 us | p99 v6/v4 | p50 ratio per repeat | p99 ratio per repeat |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", keys, 1)
    for (q = 1; q <= nr; q++) { k = ks[q]; if (P[k] !~ /\.v6$/) continue
      b = substr(P[k], 1, length(P[k]) - 3) SUBSEP N[k]; if (!(b in keys)) continue
      l50 = ""; l99 = ""
      for (rr = 1; rr <= reps[k]; rr++) if (((k, rr) in rp50) && ((b, rr) in rp50)) {
        l50 = l50 " " r(rp50[k, rr], rp50[b, rr]); l99 = l99 " " r(rp99[k, rr], rp99[b, rr])
      }
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s..%s | %s..%s |\n", P[k], N[k],
        med(p50[k]), med(p50[b]), r(med(p50[k]), med(p50[b])),
        med(p99[k]), med(p99[b]), r(med(p99[k]), med(p99[b])), lo(l50), hi(l50), lo(l99), hi(l99)
    }
  }
  nr = table("## Video rate, two receiving subscribers: the one served first and the one served last of N",
    "The other N - 2 subscribers are in namespaces that drop at their veth ingress, so no receiving processes compete with the relay for the 2 CPUs. first/last = order in which the relay sends the copies (ebpfrelaysink: the clients list order; multiudpsink: the reverse of it). Median of the repeats; p99 range over repeats; loss = of the two receiving subscribers.",
    "| path | N | repeats | first p50 us | first p99 us | last p50 us | last p99 us | last p99 range | last max us | loss % | relay us/copy | sender us/dgram |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", pkeys, 1)
  for (q = 1; q <= nr; q++) { k = ks[q]
    printf "| %s | %s | %d | %s | %s | %s | %s | %s..%s | %s | %s | %s | %s |\n", P[k], N[k], preps[k],
      med(pf50[k]), med(pf99[k]), med(pl50[k]), med(pl99[k]), lo(pl99[k]), hi(pl99[k]), med(plmx[k]),
      med(ploss[k]), (k in prelay) ? med(prelay[k]) : "-", med(psend[k])
  }
  nr = table("## Highest sustainable input rate (loss < 0.1 % and p99 < 1 ms)",
    "Datagrams/s of 1200 bytes into the relay, as the sender achieved it; copies/s = that x N. \"first failure\" is the lowest target rate that failed twice.",
    "| path | N | highest passing rate | copies/s | its p99 us | its loss % | first failure (target) | why |", "|---|---:|---:|---:|---:|---:|---:|---|", skeys, 1)
  for (q = 1; q <= nr; q++) { k = ks[q]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", P[k], N[k],
      (k in best) ? best[k] bestbound[k] : "none", (k in best) ? best[k] * N[k] : "-",
      (k in best) ? bestp99[k] : "-", (k in best) ? bestloss[k] : "-",
      (k in firstfail) ? firstfail[k] : "none within the sweep", (k in firstfail) ? ffwhy[k] : ""
  }
  nr = table("## Relay cost with receivers that drop at their veth ingress (" vrate " datagrams/s)",
    "No receiving sockets: each client namespace drops IPv4 at its TCX ingress. relay = relay process; sender us/dgram includes the softirq work done in the context of the sending process (for the kernel path and the floor, that is where the relay namespace receive path and the TC program run); bpf = the relay TC program own run time per input datagram and per copy, from a separate run with BPF_ENABLE_STATS on (its sender us/dgram in the last column shows what the statistics themselves cost). \"loss\" here = copies that did not reach the client veths.",
    "| path | N | loss % | relay us/copy | sender us/dgram | sender us/copy | softirq us/copy | busy us/copy | bpf ns/dgram | bpf ns/copy | load1 | sender us/dgram with stats |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", dkeys, 1)
  for (q = 1; q <= nr; q++) { k = ks[q]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", P[k], N[k],
      med(dloss[k]), (k in drelay) ? med(drelay[k]) : "-", med(dsend[k]),
      sprintf("%.3f", med(dsend[k]) / N[k]), med(dsoft[k]), med(dbusy[k]),
      (k in dbpf) ? med(dbpf[k]) : "-", (k in dbpfc) ? med(dbpfc[k]) : "-", med(dload[k]),
      (k in dbsend) ? med(dbsend[k]) : "-"
  }
}' "$R"
