#!/usr/bin/env bash
# Plots the CSV of `opossum-bench` as PNG images with gnuplot (Debian
# gnuplot-nox):
#   OUT/throughput.png  the rate of every workload per backend (log scale)
#   OUT/scale.png       read_tag and decide_sync_1 against the store size
# Usage: bench/plot.sh RESULTS.csv OUT_DIR
set -euo pipefail
csv=$1 out=$2
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
backends="opossum sqlite lmdb limit"

# One row per workload, one column per backend (missing: "-").
awk -F, -v backends="$backends" '
  /^#/ || $1 == "workload" || $1 ~ /^scale_/ { next }
  { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1; unit[$1] = $8 }
    rate[$1, $2] = $10 }
  END {
    nb = split(backends, b, " ")
    for (i = 1; i <= n; i++) {
      w = order[i]; line = "\"" w "\\n(" unit[w] ")\""
      for (j = 1; j <= nb; j++) line = line " " ((w, b[j]) in rate ? rate[w, b[j]] : "-")
      print line
    }
  }' "$csv" >"$tmp/rates.dat"

# Per scale workload and backend: store size and rate.
for w in scale_read_tag scale_decide_sync_1; do
  for b in $backends; do
    awk -F, -v w="$w" -v b="$b" '$1 == w && $2 == b { print $4, $10 }' "$csv" | sort -n >"$tmp/$w-$b.dat"
  done
done

machine=$(sed -n '1s/^# //p' "$csv")
# The header names the columns (autotitle columnhead).
{ echo "workload $backends"; cat "$tmp/rates.dat"; } >"$tmp/rates-h.dat"
gnuplot <<GNUPLOT
set terminal pngcairo size 1400,700 font ",10" noenhanced
set datafile missing "-"
set output "$out/throughput.png"
set title "opossum bench: rate per workload and backend (higher is better)\n$machine"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set format y "%.0e"
set ylabel "operations or events per second (log scale)"
set xtics rotate by -30 left
set key top right autotitle columnhead
set grid ytics
plot for [i=2:5] "$tmp/rates-h.dat" using i:xtic(1)
GNUPLOT

gnuplot <<GNUPLOT
set terminal pngcairo size 1400,560 font ",10" noenhanced
set output "$out/scale.png"
set multiplot layout 1,2 title "opossum bench: cost against store size (flat is good)\n$machine"
set logscale xy
set format y "%.0e"
set xlabel "events in the store"
set grid
set key bottom left
set title "read_tag: one tag's 10 events (reads/s)"
plot for [b in "$backends"] "$tmp/scale_read_tag-".b.".dat" using 1:2 with linespoints title b
set title "decide_sync_1: read two tags, conditional durable append (decisions/s)"
plot for [b in "$backends"] "$tmp/scale_decide_sync_1-".b.".dat" using 1:2 with linespoints title b
unset multiplot
GNUPLOT
echo "plot.sh: wrote $out/throughput.png and $out/scale.png"
