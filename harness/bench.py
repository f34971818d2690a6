# SPDX-License-Identifier: GPL-2.0
"""The benchmark's numbers: the guest's MP2-BENCH lines (harness/bench/
mp2-bench.c) reduced to medians and ratios, a markdown report, and the data
and script for gnuplot's throughput plot.

Ratios are mainline's median over migrate_pages2's median: above 1,
migrate_pages2 is faster (or stalls its target less).
"""

import collections
import statistics

MP2 = 'migrate_pages2'
BASELINES = ('migrate_pages', 'move_pages')
LABEL = {'migrate_pages': 'migrate_pages(2)', 'move_pages': 'move_pages(2)',
	 'memcpy': 'memcpy', MP2: 'migrate_pages2'}
MIB = 1 << 20
GIB = 1 << 30


class Results:
	"""Everything one bench run printed."""

	def __init__(self):
		self.titles = collections.OrderedDict()	# id -> title
		self.bytes = {}				# id -> bytes moved per sample
		self.times = collections.defaultdict(list)	# (id, method) -> [s]
		self.stall = collections.defaultdict(list)	# (id, method) -> [(us, us)]
		self.thp = collections.defaultdict(list)	# (id, method) -> [kB]
		self.done = None				# (samples, pages verified)


def parse(lines):
	"""Results from console lines; anything else on the console is ignored."""
	r = Results()
	for line in lines:
		f = line.split()
		if not f or not f[0].startswith('MP2-BENCH'):
			continue
		tag = f[0]
		if tag == 'MP2-BENCH-SCENARIO' and len(f) >= 3:
			r.titles[f[1]] = line.split(None, 2)[2]
		elif tag == 'MP2-BENCH' and len(f) == 5:
			r.bytes[f[1]] = int(f[3])
			r.times[(f[1], f[2])].append(float(f[4]))
		elif tag == 'MP2-BENCH-STALL' and len(f) == 5:
			r.stall[(f[1], f[2])].append((float(f[3]), float(f[4])))
		elif tag == 'MP2-BENCH-THP' and len(f) == 4:
			r.thp[(f[1], f[2])].append(int(f[3]))
		elif tag == 'MP2-BENCH-DONE' and len(f) == 3:
			r.done = (int(f[1]), int(f[2]))
	return r


def median(xs):
	return statistics.median(xs) if xs else None


def cell(xs, unit='s', scale=1.0):
	"""'median [min-max] unit' of a list of samples."""
	if not xs:
		return '-'
	ys = [x * scale for x in xs]
	return '%s %s [%s-%s]' % (fmt(median(ys)), unit, fmt(min(ys)), fmt(max(ys)))


def fmt(x):
	return '%.3g' % x if x < 100 else '%.0f' % x


def ratio(base, ours):
	if not base or not ours:
		return '-'
	return '%.2f' % (median(base) / median(ours))


def scaling_ids(r):
	return [i for i in r.titles if i.startswith('8-')]


def main_table(r):
	"""Scenarios 1-7: one row per mainline way of doing the same thing."""
	rows = ['| # | scenario | mainline | mainline median [min-max] | '
		'migrate_pages2 median [min-max] | ratio |',
		'|---|---|---|---|---|---|']
	for sid, title in r.titles.items():
		if sid in scaling_ids(r):
			continue
		ours = r.times.get((sid, MP2))
		for base in BASELINES:
			theirs = r.times.get((sid, base))
			if theirs is None:
				continue
			rows.append('| %s | %s | %s | %s | %s | %s |' % (
				sid, title, LABEL[base], cell(theirs), cell(ours),
				ratio(theirs, ours)))
		for k, what in ((0, 'worst mmap+munmap in the target'),
				(1, 'worst page touch in the target')):
			ours_s = [s[k] for s in r.stall.get((sid, MP2), [])]
			for base in BASELINES:
				theirs_s = [s[k] for s in r.stall.get((sid, base), [])]
				if theirs_s:
					rows.append('| %s | %s | %s | %s | %s | %s |' % (
						sid, what, LABEL[base],
						cell(theirs_s, 'ms', 1e-3),
						cell(ours_s, 'ms', 1e-3),
						ratio(theirs_s, ours_s)))
	return rows


def scaling_table(r):
	"""Scenarios 8 and 9: time per GiB by size, and the copy reference."""
	rows = ['| size | migrate_pages(2) s/GiB | migrate_pages2 s/GiB | ratio | '
		'memcpy s/GiB | migrate_pages2 / memcpy |',
		'|---|---|---|---|---|---|']
	for sid in scaling_ids(r):
		per_gib = GIB / r.bytes[sid]
		med = {m: median(r.times.get((sid, m), [])) for m in ('migrate_pages', MP2, 'memcpy')}
		rows.append('| %d MiB | %s | %s | %s | %s | %s |' % (
			r.bytes[sid] // MIB,
			*(fmt(med[m] * per_gib) if med[m] else '-' for m in ('migrate_pages', MP2)),
			ratio(r.times.get((sid, 'migrate_pages')), r.times.get((sid, MP2))),
			fmt(med['memcpy'] * per_gib) if med['memcpy'] else '-',
			'%.1f' % (med[MP2] / med['memcpy']) if med[MP2] and med['memcpy'] else '-'))
	return rows


def thp_lines(r):
	out = []
	for (sid, meth), kbs in r.thp.items():
		out.append('- scenario %s, %s: AnonHugePages after each sample: %s kB' %
			   (sid, LABEL.get(meth, meth), ', '.join(str(k) for k in kbs)))
	return out


def plot_data(r):
	"""gnuplot data: size in MiB, then MiB/s medians for each method."""
	lines = ['# size_mib migrate_pages2 migrate_pages memcpy  (MiB/s, medians)']
	for sid in scaling_ids(r):
		mib = r.bytes[sid] / MIB
		vals = []
		for m in (MP2, 'migrate_pages', 'memcpy'):
			med = median(r.times.get((sid, m), []))
			vals.append('%.2f' % (mib / med) if med else 'NaN')
		lines.append('%d %s' % (mib, ' '.join(vals)))
	return '\n'.join(lines) + '\n'


def report(r, header):
	"""The markdown report: header lines, both tables, THP, totals."""
	reps = max((len(v) for v in r.times.values()), default=0)
	out = list(header)
	out += ['', 'Medians of %d samples per cell, [min-max]; ratio = mainline / '
		'migrate_pages2 (above 1: migrate_pages2 is faster, or stalls less).' % reps,
		'Placement of every page was checked after every sample (move_pages() '
		'with NULL nodes), and the job checked its data.', '']
	out += main_table(r)
	out += ['', 'Scaling (scenario 8) and the physical reference (scenario 9: '
		'memcpy of the same bytes, node 2 to node 3, in the guest):', '']
	out += scaling_table(r)
	thp = thp_lines(r)
	if thp:
		out += ['', 'THP kept huge (scenario 2):', ''] + thp
	if r.done:
		out += ['', '%d samples, %d page placements verified.' % r.done]
	return '\n'.join(out) + '\n'
