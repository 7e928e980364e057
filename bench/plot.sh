#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/plot.sh OUT [DEST]: the plots of a bench/run.sh result directory,
# with gnuplot (apt-get install gnuplot-nox):
#   DEST/delay-cdf.png  one-way delay CDF at video rate, per path, N = 1 and
#                       the largest N measured (first repeat)
#   DEST/fanout.png     p50/p99 delay at video rate and the highest
#                       sustainable input rate against N, per path
set -euo pipefail
OUT=${1:?usage: plot.sh OUT [DEST]}
DEST=${2:-$OUT}
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$DEST"
R=$OUT/results.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

paths="floor multiudpsink userspace kernel"
nmax=$(awk -F'\t' 'NR > 1 && $1 == "video" && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$R")
machine="$(sed -n 's/^cpu: //p' "$OUT/machine.txt"), $(sed -n 's/^nproc: //p' "$OUT/machine.txt") CPUs, kernel $(sed -n 's/^kernel: //p' "$OUT/machine.txt")"

# CDF
plot=""
for p in $paths; do
  for n in 1 "$nmax"; do
    f=$OUT/cdf-$p-n$n.txt
    [ -s "$f" ] || continue
    case " $plot " in *"$f"*) continue ;; esac
    [ -z "$plot" ] || plot="$plot, "
    plot="$plot'$f' using 1:2 with steps lw 2 title '$p N=$n'"
  done
done
if [ -n "$plot" ]; then
  gnuplot <<EOF
set terminal pngcairo size 1000,620 font ",11"
set output '$DEST/delay-cdf.png'
set title "One-way delay, server to subscriber, 2000 x 1200-byte datagrams/s\n$machine"
set xlabel 'delay (us, log scale)'
set ylabel 'fraction of datagrams'
set logscale x
set grid
set key bottom right
set yrange [0:1.02]
plot $plot
EOF
fi

# fan-out
for p in $paths; do
  awk -F'\t' -v p="$p" '
    function med(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR > 1 && $2 == p && $1 == "video" && $11 != "-" { p50[$3] = p50[$3] " " $11; p99[$3] = p99[$3] " " $12 }
    NR > 1 && $2 == p && $1 == "sweep" && $24 == 1 && $6 + 0 > best[$3] + 0 { best[$3] = $6 }
    END { for (n in p50) print n, med(p50[n]), med(p99[n]), (n in best) ? best[n] : "NaN" }' "$R" \
    | sort -n >"$tmp/$p.dat"
done
plot1=""; plot2=""
for p in $paths; do
  [ -s "$tmp/$p.dat" ] || continue
  [ -z "$plot1" ] || { plot1="$plot1, "; plot2="$plot2, "; }
  plot1="$plot1'$tmp/$p.dat' using 1:2 with linespoints lw 2 title '$p p50', '$tmp/$p.dat' using 1:3 with linespoints lw 2 dt 2 title '$p p99'"
  plot2="$plot2'$tmp/$p.dat' using 1:4 with linespoints lw 2 title '$p'"
done
if [ -n "$plot1" ]; then
  gnuplot <<EOF
set terminal pngcairo size 1000,900 font ",11"
set output '$DEST/fanout.png'
set multiplot layout 2,1 title "Fan-out scaling, $machine"
set logscale xy
set grid
set xlabel 'subscribers N'
set ylabel 'one-way delay (us)'
set title 'delay at 2000 datagrams/s (median of repeats)'
set key outside right
plot $plot1
$(if grep -qv NaN "$tmp"/*.dat 2>/dev/null && awk '$4 != "NaN"' "$tmp"/*.dat | grep -q .; then
  echo "set ylabel 'datagrams/s in'"
  echo "set title 'highest input rate with loss < 0.1 % and p99 < 1 ms'"
  echo "plot $plot2"
fi)
unset multiplot
EOF
fi
echo "plots: $DEST/delay-cdf.png $DEST/fanout.png"
