#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/plot.sh OUT [DEST]: the plots of a bench/run.sh result directory,
# with gnuplot (apt-get install gnuplot-nox):
#   DEST/delay-cdf.png  one-way delay CDF at video rate per path: N = 1, and
#                       N = CDF_N (default 100, else the largest measured)
#                       with every subscriber receiving and with only the
#                       last one receiving (probe phase); a panel without
#                       data is left out, not drawn empty
#   DEST/fanout.png     against N, per path: delay at video rate (all N
#                       receiving; the copy sent last), and the highest
#                       sustainable rate in copies/s (input rate x N), an N
#                       where even the lowest rate failed marked with a
#                       cross at that rate's copies/s
#   DEST/cpu.png        against N, per path: CPU per copy, the relay
#                       process's own (video phase) and the whole machine's
#                       with receivers that drop at ingress (drop phase:
#                       the kernel path's softirq work is there)
# Paths are named as users set them: "kernel, pass-original=false" is the
# bench's kernel-consume.
set -euo pipefail
OUT=${1:?usage: plot.sh OUT [DEST]}
DEST=${2:-$OUT}
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$DEST"
R=$OUT/results.tsv
[ -s "$R" ] || { echo "plot.sh: no $R" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

paths="floor multiudpsink userspace kernel kernel-consume"
declare -A color=([floor]='#7b2cbf' [multiudpsink]='#2a9d3f' [userspace]='#e07a10' [kernel]='#1f5fbf' [kernel-consume]='#d62828')
declare -A label=([floor]='floor (no relay)' [multiudpsink]='multiudpsink'
  [userspace]='ebpfrelaysink mode=userspace' [kernel]='ebpfrelaysink mode=kernel'
  [kernel-consume]='mode=kernel pass-original=false')
cdf_n=${CDF_N:-100}
[ -s "$OUT/cdf-kernel-n$cdf_n.txt" ] || [ -s "$OUT/cdf-multiudpsink-n$cdf_n.txt" ] \
  || cdf_n=$(awk -F'\t' 'NR > 1 && $1 == "video" && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$R")
vrates=$(awk -F'\t' 'NR > 1 && $1 == "video" && !seen[$5]++ { printf "%s%s", (n++ ? " and " : ""), $5 }' "$R")
machine="$(sed -n 's/^cpu: //p' "$OUT/machine.txt"), $(sed -n 's/^nproc: //p' "$OUT/machine.txt") CPUs, kernel $(sed -n 's/^kernel: //p' "$OUT/machine.txt")"

# cdf_plot PREFIX N: gnuplot plot arguments for the CDF files
# PREFIX-PATH-nN.txt ("" when there is none)
cdf_plot ()
{
  local pre=$1 n=$2 p f plot=""
  for p in $paths; do
    f=$OUT/$pre-$p-n$n.txt
    [ -s "$f" ] || continue
    [ -z "$plot" ] || plot="$plot, "
    plot="$plot'$f' using 1:2 with steps lw 2 lc rgb '${color[$p]}' title '${label[$p]}'"
  done
  echo "$plot"
}

# plot_head FILE TITLE AXES PANELS: the start of a gnuplot script for
# PANELS plots side by side in DEST/FILE, AXES on a log scale
plot_head ()
{
  printf '%s\n' "set terminal pngcairo size $(( 470 * $4 )),480 font \",10\"" \
    "set output '$DEST/$1'" "set multiplot layout 1,$4 title \"$2\"" \
    "set logscale $3" 'set grid'
}

# --- delay-cdf.png: only the panels that have data ---------------------------------
panels=()
for spec in "cdf 1|N = 1" "cdf $cdf_n|N = $cdf_n, all subscribers receiving" \
  "cdf-probe $cdf_n|N = $cdf_n, copy sent last, only 2 of N receiving"; do
  args=${spec%%|*}; title=${spec#*|}
  # shellcheck disable=SC2086
  p=$(cdf_plot $args)
  [ -n "$p" ] && panels+=("set title '$title'"$'\n'"plot $p")
done
if [ ${#panels[@]} -gt 0 ]; then
  {
    plot_head delay-cdf.png "One-way delay CDF, server -> subscriber kernel receive timestamp, ${vrates:-2000} x 1200-byte datagrams/s; $machine" x ${#panels[@]}
    printf '%s\n' 'set key bottom right font ",8"' 'set yrange [0:1.02]' \
      "set xlabel 'delay (us, log scale)'" "set ylabel 'fraction of datagrams'"
    printf '%s\n' "${panels[@]}"
    echo 'unset multiplot'
  } | gnuplot
fi

# --- per path: N, video p50, p99, copies/s at the best sweep rate, probe-last
# p50, p99, copies/s at the lowest failed rate where none passed, relay
# us/copy (video), machine busy us/copy (drop) --------------------------------------
for p in $paths; do
  awk -F'\t' -v p="$p" '
    function med(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR > 1 && $2 == p && $1 == "video" && $11 != "-" {
      seen[$3] = 1; p50[$3] = p50[$3] " " $11; p99[$3] = p99[$3] " " $12
      if ($14 != "-") relay[$3] = relay[$3] " " $14
    }
    # the copy sent last (multiudpsink sends in reverse list order)
    NR > 1 && $2 == p && $1 == "probe" && $11 != "-" {
      seen[$3] = 1
      if (p == "multiudpsink") { q50[$3] = q50[$3] " " $27; q99[$3] = q99[$3] " " $28 }
      else { q50[$3] = q50[$3] " " $11; q99[$3] = q99[$3] " " $12 }
    }
    NR > 1 && $2 == p && $1 == "sweep" {
      seen[$3] = 1; swept[$3] = 1
      if ($24 == 1 && $6 + 0 > best[$3] + 0) best[$3] = $6
      if ($24 == 0 && (!($3 in fail) || $5 + 0 < fail[$3] + 0)) fail[$3] = $5
    }
    NR > 1 && $2 == p && $1 == "drop" && $19 != "" { seen[$3] = 1; busy[$3] = busy[$3] " " $19 }
    END {
      for (n in seen) {
        # N = 1: the one subscriber is the probe
        if (n == 1 && (n in p50)) { q50[n] = p50[n]; q99[n] = p99[n] }
        print n, (n in p50) ? med(p50[n]) : "NaN", (n in p99) ? med(p99[n]) : "NaN",
          (n in best) ? best[n] * n : "NaN", (n in q50) ? med(q50[n]) : "NaN",
          (n in q99) ? med(q99[n]) : "NaN",
          ((n in swept) && !(n in best) && (n in fail)) ? fail[n] * n : "NaN",
          (n in relay) ? med(relay[n]) : "NaN", (n in busy) ? med(busy[n]) : "NaN"
      }
    }' "$R" | sort -n >"$tmp/$p.dat"
done

# series COLUMN STYLE SUFFIX: plot arguments over the paths whose data has a
# number in COLUMN
series ()
{
  local col=$1 style=$2 suffix=$3 p plot=""
  for p in $paths; do
    [ -s "$tmp/$p.dat" ] || continue
    awk -v c="$col" '$c != "NaN" { f = 1 } END { exit !f }' "$tmp/$p.dat" || continue
    [ -z "$plot" ] || plot="$plot, "
    plot="$plot'$tmp/$p.dat' using 1:$col $style lc rgb '${color[$p]}' title '${label[$p]}$suffix'"
  done
  echo "$plot"
}

panels=()
d50=$(series 2 'with linespoints lw 2' ' p50') d99=$(series 3 'with linespoints lw 2 dt 2' ' p99')
[ -n "$d50$d99" ] && panels+=("set ylabel 'one-way delay (us)'"$'\n'"set title 'delay at ${vrates:-2000}/s, all N receiving'"$'\n'"plot $(sed 's/^, //' <<<"${d50:+$d50}${d99:+, $d99}")")
q50=$(series 5 'with linespoints lw 2' ' p50') q99=$(series 6 'with linespoints lw 2 dt 2' ' p99')
[ -n "$q50$q99" ] && panels+=("set ylabel 'one-way delay (us)'"$'\n'"set title 'delay at ${vrates:-2000}/s, copy sent last, only 2 of N receiving'"$'\n'"plot $(sed 's/^, //' <<<"${q50:+$q50}${q99:+, $q99}")")
best=$(series 4 'with linespoints lw 2' '') failed=$(series 7 'with points pt 2 ps 2.5 lw 3' ': failed at the lowest rate')
[ -n "$best$failed" ] && panels+=("set ylabel 'copies/s out of the relay (input rate x N)'"$'\n'"set title 'highest rate with loss < 0.1 % and p99 < 1 ms'"$'\n'"plot $(sed 's/^, //' <<<"${best:+$best}${failed:+, $failed}")")
if [ ${#panels[@]} -gt 0 ]; then
  {
    plot_head fanout.png "Fan-out scaling; $machine" xy ${#panels[@]}
    printf '%s\n' "set xlabel 'subscribers N'" 'set key top left font ",8"'
    printf '%s\n' "${panels[@]}"
    echo 'unset multiplot'
  } | gnuplot
fi

panels=()
relay=$(series 8 'with linespoints lw 2' '')
[ -n "$relay" ] && panels+=("set ylabel 'us of CPU per copy'"$'\n'"set title 'relay process (user + system), ${vrates:-2000}/s'"$'\n'"plot $relay")
busy=$(series 9 'with linespoints lw 2' '')
[ -n "$busy" ] && panels+=("set ylabel 'us of CPU per copy'"$'\n'"set title 'whole machine (softirq in), receivers drop at ingress'"$'\n'"plot $busy")
if [ ${#panels[@]} -gt 0 ]; then
  {
    plot_head cpu.png "CPU per copy against N; $machine" xy ${#panels[@]}
    printf '%s\n' "set xlabel 'subscribers N'" 'set key top right font ",8"'
    printf '%s\n' "${panels[@]}"
    echo 'unset multiplot'
  } | gnuplot
fi
ls "$DEST"/delay-cdf.png "$DEST"/fanout.png "$DEST"/cpu.png 2>/dev/null | tr '\n' ' ' | sed 's/^/plots: /'
echo
