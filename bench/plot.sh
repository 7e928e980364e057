#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/plot.sh OUT [DEST]: the plots of a bench/run.sh result directory,
# with gnuplot (apt-get install gnuplot-nox):
#   DEST/delay-cdf.png  one-way delay CDF at video rate per path: N = 1, and
#                       N = CDF_N (default 100, else the largest measured)
#                       with every subscriber receiving and with only the
#                       last one receiving (probe phase)
#   DEST/fanout.png     delay at video rate, and the highest sustainable
#                       input rate, against N, per path
set -euo pipefail
OUT=${1:?usage: plot.sh OUT [DEST]}
DEST=${2:-$OUT}
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$DEST"
R=$OUT/results.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

paths="floor multiudpsink userspace kernel kernel-consume"
declare -A color=([floor]='#7b2cbf' [multiudpsink]='#2a9d3f' [userspace]='#e07a10' [kernel]='#1f5fbf' [kernel-consume]='#d62828')
cdf_n=${CDF_N:-100}
[ -s "$OUT/cdf-kernel-n$cdf_n.txt" ] || [ -s "$OUT/cdf-multiudpsink-n$cdf_n.txt" ] \
  || cdf_n=$(awk -F'\t' 'NR > 1 && $1 == "video" && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$R")
vrates=$(awk -F'\t' 'NR > 1 && $1 == "video" && !seen[$5]++ { printf "%s%s", (n++ ? " and " : ""), $5 }' "$R")
machine="$(sed -n 's/^cpu: //p' "$OUT/machine.txt"), $(sed -n 's/^nproc: //p' "$OUT/machine.txt") CPUs, kernel $(sed -n 's/^kernel: //p' "$OUT/machine.txt")"

# cdf_plot PREFIX N: gnuplot plot arguments for the CDF files PREFIX-PATH-nN.txt
cdf_plot ()
{
  local pre=$1 n=$2 p f plot=""
  for p in $paths; do
    f=$OUT/$pre-$p-n$n.txt
    [ -s "$f" ] || continue
    [ -z "$plot" ] || plot="$plot, "
    plot="$plot'$f' using 1:2 with steps lw 2 lc rgb '${color[$p]}' title '$p'"
  done
  echo "${plot:-NaN notitle}"
}

# plot_head FILE TITLE AXES: the start of a gnuplot script for three plots
# side by side in DEST/FILE, AXES on a log scale
plot_head ()
{
  printf '%s\n' 'set terminal pngcairo size 1400,480 font ",10"' \
    "set output '$DEST/$1'" "set multiplot layout 1,3 title \"$2\"" \
    "set logscale $3" 'set grid'
}

gnuplot <<EOF
$(plot_head delay-cdf.png "One-way delay CDF, server -> subscriber kernel receive timestamp, ${vrates:-2000} x 1200-byte datagrams/s; $machine" x)
set key bottom right
set yrange [0:1.02]
set xlabel 'delay (us, log scale)'
set ylabel 'fraction of datagrams'
set title 'N = 1'
plot $(cdf_plot cdf 1)
set title 'N = $cdf_n, all subscribers receiving'
plot $(cdf_plot cdf "$cdf_n")
set title 'N = $cdf_n, copy sent last, only 2 of N receiving'
plot $(cdf_plot cdf-probe "$cdf_n")
unset multiplot
EOF

# fan-out data: N, video p50, video p99, best sweep rate, probe-last p50, probe-last p99
for p in $paths; do
  awk -F'\t' -v p="$p" '
    function med(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR > 1 && $2 == p && $1 == "video" && $11 != "-" { seen[$3] = 1; p50[$3] = p50[$3] " " $11; p99[$3] = p99[$3] " " $12 }
    # the copy sent last (multiudpsink sends in reverse list order)
    NR > 1 && $2 == p && $1 == "probe" && $11 != "-" {
      seen[$3] = 1
      if (p == "multiudpsink") { q50[$3] = q50[$3] " " $27; q99[$3] = q99[$3] " " $28 }
      else { q50[$3] = q50[$3] " " $11; q99[$3] = q99[$3] " " $12 }
    }
    NR > 1 && $2 == p && $1 == "sweep" && $24 == 1 && $6 + 0 > best[$3] + 0 { seen[$3] = 1; best[$3] = $6 }
    END {
      for (n in seen) {
        # N = 1: the one subscriber is the probe
        if (n == 1 && (n in p50)) { q50[n] = p50[n]; q99[n] = p99[n] }
        print n, (n in p50) ? med(p50[n]) : "NaN", (n in p99) ? med(p99[n]) : "NaN",
          (n in best) ? best[n] : "NaN", (n in q50) ? med(q50[n]) : "NaN", (n in q99) ? med(q99[n]) : "NaN"
      }
    }' "$R" | sort -n >"$tmp/$p.dat"
done
plot1=""; plot2=""; plot3=""
for p in $paths; do
  [ -s "$tmp/$p.dat" ] || continue
  c=${color[$p]}
  [ -z "$plot1" ] || { plot1="$plot1, "; plot2="$plot2, "; plot3="$plot3, "; }
  plot1="$plot1'$tmp/$p.dat' using 1:2 with linespoints lw 2 lc rgb '$c' title '$p p50', '$tmp/$p.dat' using 1:3 with linespoints lw 2 dt 2 lc rgb '$c' title '$p p99'"
  plot2="$plot2'$tmp/$p.dat' using 1:5 with linespoints lw 2 lc rgb '$c' title '$p p50', '$tmp/$p.dat' using 1:6 with linespoints lw 2 dt 2 lc rgb '$c' title '$p p99'"
  plot3="$plot3'$tmp/$p.dat' using 1:4 with linespoints lw 2 lc rgb '$c' title '$p'"
done
gnuplot <<EOF
$(plot_head fanout.png "Fan-out scaling; $machine" xy)
set xlabel 'subscribers N'
set key top left font ",8"
set ylabel 'one-way delay (us)'
set title 'delay at ${vrates:-2000}/s, all N receiving'
plot $plot1
set title 'delay at ${vrates:-2000}/s, copy sent last, only 2 of N receiving'
plot $plot2
set ylabel 'datagrams/s into the relay'
set title 'highest rate, loss < 0.1 % and p99 < 1 ms'
plot $plot3
unset multiplot
EOF
echo "plots: $DEST/delay-cdf.png $DEST/fanout.png"
