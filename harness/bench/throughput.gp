# SPDX-License-Identifier: GPL-2.0
# Throughput vs size from harness/bench.py's data file.
# gnuplot -e "data='in.dat'; out='out.png'" throughput.gp
set terminal png size 800,500 noenhanced
set output out
set title "Moving anonymous memory from node 0 to node 1 (guest, TCG; medians)"
set xlabel "bytes moved (MiB)"
set ylabel "throughput (MiB/s)"
set logscale xy 2
set key top left
set grid
plot data using 1:2 with linespoints lw 2 title "migrate_pages2, 1 worker", \
     data using 1:3 with linespoints lw 2 title "migrate_pages2, 2 workers", \
     data using 1:4 with linespoints lw 2 title "migrate_pages2, 4 workers", \
     data using 1:5 with linespoints lw 2 title "migrate_pages(2)", \
     data using 1:6 with linespoints lw 1 dt 2 title "memcpy, same bytes (reference)"
