# SPDX-License-Identifier: GPL-2.0
"""The benchmark's numbers: the guest's MP2-BENCH lines (harness/bench/
mp2-bench.c) reduced to medians and ratios, a markdown report, and the data
and script for gnuplot's throughput plot.

Ratios are mainline's median over migrate_pages2's median: above 1,
migrate_pages2 is faster (or stalls its target less).

Pure (no harness import); imported by verbs_bench.
"""

import collections
import statistics

MP2 = 'migrate_pages2'
# migrate_pages2 with 1 (the caller alone), 2 and 4 workers.
MP2S = (MP2, MP2 + '-w2', MP2 + '-w4')
WORKERS = {MP2: 1, MP2 + '-w2': 2, MP2 + '-w4': 4}
# mainline's ways of doing the same thing; and migrate_pages(2) of the
# patched kernel, which runs on the engine (for reference).
BASELINES = ('migrate_pages', 'move_pages', 'migrate_pages-engine')
LABEL = {'migrate_pages': 'migrate_pages(2), pristine', 'move_pages': 'move_pages(2)',
	 'memcpy': 'memcpy', MP2: 'migrate_pages2', MP2 + '-w2': 'migrate_pages2 w=2',
	 MP2 + '-w4': 'migrate_pages2 w=4',
	 MP2 + '-ut4': '4 user threads, w=1 each',
	 'migrate_pages-engine': 'migrate_pages(2) on the engine',
	 'migrate_pages-pristine': 'migrate_pages(2), pristine'}
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
		# (id, method) -> [{vmstat counter: change during the sample}]
		self.vmstat = collections.defaultdict(list)
		self.done = None				# (samples, pages verified)
		# (id, method) -> {function: [hits, total us]}, summed over CPUs
		self.profile = collections.defaultdict(dict)


def parse(lines):
	"""Results from console lines; anything else on the console is ignored."""
	r = Results()
	prof = None
	snaps = {}
	for line in lines:
		f = line.split()
		if f and f[0] == 'MP2-PROFILE' and len(f) == 4:
			key = (f[1], f[2])
			prof = snaps.setdefault((key, f[3]), {})
			continue
		if f and f[0] == 'MP2-PROFILE-END':
			prof = None
			if (key, 'after') in snaps:
				r.profile[key] = profile_diff(snaps.pop((key, 'before'), {}),
							      snaps.pop((key, 'after')))
			continue
		if prof is not None:
			profile_line(prof, f)
			continue
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
		elif tag == 'MP2-BENCH-VMSTAT' and len(f) > 3:
			r.vmstat[(f[1], f[2])].append(
				{k: int(v) for k, v in (kv.split('=', 1) for kv in f[3:])})
		elif tag == 'MP2-BENCH-DONE' and len(f) == 3:
			r.done = (int(f[1]), int(f[2]))
	return r


def profile_line(prof, f):
	"""Add one line of a trace_stat/function<cpu> file:
	'name hits time us avg us s^2 us'."""
	if len(f) >= 4 and f[3] == 'us' and f[1].isdigit():
		try:
			us = float(f[2])
		except ValueError:
			return
		hits_us = prof.setdefault(f[0], [0, 0.0])
		hits_us[0] += int(f[1])
		hits_us[1] += us


def profile_diff(before, after):
	"""Counts of one sample: the counts after it less those before."""
	out = {}
	for name, (hits, us) in after.items():
		h0, us0 = before.get(name, (0, 0.0))
		if hits > h0:
			out[name] = [hits - h0, us - us0]
	return out


def profile_table(r, top=25):
	"""The functions with the most total time (children included: the
	function graph tracer's default), side by side for each profiled
	method of each scenario."""
	out = []
	for sid in sorted({k[0] for k in r.profile}):
		meths = [m for (i, m) in r.profile if i == sid]
		ranked = {m: sorted(r.profile[(sid, m)].items(), key=lambda kv: -kv[1][1])[:top]
			  for m in meths}
		out += ['', 'Scenario %s (%s): top %d functions by total time, all CPUs.' %
			(sid, r.titles.get(sid, ''), top), '']
		out.append('| rank |' + ''.join(' %s | ms | hits |' % LABEL.get(m, m) for m in meths))
		out.append('|---|' + '---|---|---|' * len(meths))
		for i in range(top):
			row = '| %d |' % (i + 1)
			for m in meths:
				if i < len(ranked[m]):
					name, (hits, us) = ranked[m][i]
					row += ' `%s` | %.1f | %d |' % (name, us / 1000, hits)
				else:
					row += ' | | |'
			out.append(row)
	return out


# Lines that carry a method's name in their third field.
PER_METHOD = ('MP2-BENCH', 'MP2-BENCH-STALL', 'MP2-BENCH-THP', 'MP2-BENCH-VMSTAT')


def with_mainline(patched, pristine):
	"""One run's lines from two boots: the patched kernel's, its
	migrate_pages(2) renamed migrate_pages-engine, and the pristine
	kernel's migrate_pages(2) samples (the mainline ones)."""
	out = []
	for line in patched:
		f = line.split()
		if len(f) > 2 and f[0] in PER_METHOD and f[2] == 'migrate_pages':
			f[2] = 'migrate_pages-engine'
			line = ' '.join(f)
		out.append(line)
	for line in pristine:
		f = line.split()
		if len(f) > 2 and f[0] in PER_METHOD and f[2] == 'migrate_pages':
			out.append(line)
	return out


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
	"""Scenarios 1-7: one row per mainline way of doing the same thing, with
	migrate_pages2's median and ratio for each worker count it ran with."""
	head = '| # | scenario | mainline | mainline median [min-max] |'
	rule = '|---|---|---|---|'
	for m in MP2S:
		head += ' w=%d median [min-max] | ratio |' % WORKERS[m]
		rule += '---|---|'
	rows = [head, rule]
	for sid, title in r.titles.items():
		if sid in scaling_ids(r):
			continue
		for base in BASELINES:
			theirs = r.times.get((sid, base))
			if theirs is None:
				continue
			row = '| %s | %s | %s | %s |' % (sid, title, LABEL[base], cell(theirs))
			for m in MP2S:
				ours = r.times.get((sid, m))
				row += ' %s | %s |' % (cell(ours), ratio(theirs, ours))
			rows.append(row)
		for k, what in ((0, 'worst mmap+munmap in the target'),
				(1, 'worst page touch in the target')):
			ours_s = [s[k] for s in r.stall.get((sid, MP2), [])]
			for base in BASELINES:
				theirs_s = [s[k] for s in r.stall.get((sid, base), [])]
				if theirs_s:
					rows.append('| %s | %s | %s | %s | %s | %s |%s' % (
						sid, what, LABEL[base],
						cell(theirs_s, 'ms', 1e-3),
						cell(ours_s, 'ms', 1e-3),
						ratio(theirs_s, ours_s),
						' - | - |' * (len(MP2S) - 1)))
	return rows


def scaling_table(r):
	"""Scenarios 8 and 9: time per GiB by size for each worker count, and the
	copy reference."""
	head = '| size | migrate_pages(2) s/GiB |'
	rule = '|---|---|'
	for m in MP2S:
		head += ' w=%d s/GiB | ratio |' % WORKERS[m]
		rule += '---|---|'
	head += ' memcpy s/GiB |' + ''.join(' w=%d / memcpy |' % WORKERS[m] for m in MP2S)
	rule += '---|' * (1 + len(MP2S))
	rows = [head, rule]
	for sid in scaling_ids(r):
		per_gib = GIB / r.bytes[sid]
		med = {m: median(r.times.get((sid, m), []))
		       for m in ('migrate_pages', 'memcpy') + MP2S}

		def per(m):
			return fmt(med[m] * per_gib) if med[m] else '-'

		row = '| %d MiB | %s |' % (r.bytes[sid] // MIB, per('migrate_pages'))
		for m in MP2S:
			row += ' %s | %s |' % (per(m), ratio(r.times.get((sid, 'migrate_pages')),
							  r.times.get((sid, m))))
		row += ' %s |' % per('memcpy')
		for m in MP2S:
			row += ' %s |' % ('%.1f' % (med[m] / med['memcpy'])
					  if med[m] and med['memcpy'] else '-')
		rows.append(row)
	return rows


def workers_table(r):
	"""Scenarios 1-7 that ran with helpers: what each worker count gained
	over the caller alone, and, where the scenario also copied its bytes
	with memcpy, migrate_pages2's time over the copy's."""
	head = '| # | scenario |' + ''.join(' w=%d / w=1 |' % WORKERS[m] for m in MP2S[1:])
	head += ' memcpy median [min-max] |' + ''.join(' w=%d / memcpy |' % WORKERS[m]
						       for m in MP2S)
	rows = [head, '|---|---|' + '---|' * (len(MP2S) * 2)]
	for sid, title in r.titles.items():
		if sid in scaling_ids(r) or not r.times.get((sid, MP2S[1])):
			continue
		one = r.times.get((sid, MP2))
		copy = r.times.get((sid, 'memcpy'))
		row = '| %s | %s |' % (sid, title)
		row += ''.join(' %s |' % ratio(one, r.times.get((sid, m))) for m in MP2S[1:])
		row += ' %s |' % cell(copy)
		row += ''.join(' %s |' % ('%.1f' % (median(r.times[(sid, m)]) / median(copy))
					 if copy and r.times.get((sid, m)) else '-')
			       for m in MP2S)
		rows.append(row)
	return rows


def user_threads_table(r):
	"""Scenarios run both ways: four threads of the caller, each calling
	with workers = 1 on a quarter of the range, against one call with
	workers = 4; and each against one call alone (w=1)."""
	ut = MP2 + '-ut4'
	rows = ['| # | scenario | 4 user threads median [min-max] | w=4 median [min-max] '
		'| user threads / w=4 | w=1 / user threads | w=1 / w=4 |',
		'|---|---|---|---|---|---|---|']
	for sid, title in r.titles.items():
		mine = r.times.get((sid, ut))
		if not mine:
			continue
		w4, w1 = r.times.get((sid, MP2 + '-w4')), r.times.get((sid, MP2))
		rows.append('| %s | %s | %s | %s | %s | %s | %s |' % (
			sid, title, cell(mine), cell(w4), ratio(mine, w4), ratio(w1, mine),
			ratio(w1, w4)))
	return rows


def pristine_table(pristine, patched):
	"""migrate_pages(2) on two kernels: a row per scenario, and the stall
	rows of scenario 7."""
	rows = ['| # | scenario | pristine median [min-max] | patched median [min-max] | ratio |',
		'|---|---|---|---|---|']
	base = 'migrate_pages'
	for sid, title in patched.titles.items():
		old, new = pristine.times.get((sid, base)), patched.times.get((sid, base))
		rows.append('| %s | %s | %s | %s | %s |' % (sid, title, cell(old), cell(new),
							   ratio(old, new)))
		for k, what in ((0, 'worst mmap+munmap in the target'),
				(1, 'worst page touch in the target')):
			old_s = [x[k] for x in pristine.stall.get((sid, base), [])]
			new_s = [x[k] for x in patched.stall.get((sid, base), [])]
			if old_s or new_s:
				rows.append('| %s | %s | %s | %s | %s |' % (
					sid, what, cell(old_s, 'ms', 1e-3), cell(new_s, 'ms', 1e-3),
					ratio(old_s, new_s)))
	return rows


def thp_lines(r):
	out = []
	for (sid, meth), kbs in r.thp.items():
		out.append('- scenario %s, %s: AnonHugePages after each sample: %s kB' %
			   (sid, LABEL.get(meth, meth), ', '.join(str(k) for k in kbs)))
	return out


def vmstat_table(r):
	"""Each method's THP samples, their times beside what /proc/vmstat
	counted meanwhile, sample by sample."""
	names = []
	for samples in r.vmstat.values():
		for d in samples:
			names += [k for k in d if k not in names]
	if not names:
		return []
	rows = ['| scenario | method | time of each sample (s) | %s |' % ' | '.join(names),
		'|---|---|---|%s' % ('---|' * len(names))]
	for (sid, meth), samples in r.vmstat.items():
		times = ', '.join(fmt(t) for t in r.times.get((sid, meth), []))
		rows.append('| %s | %s | %s | %s |' % (
			sid, LABEL.get(meth, meth), times or '-',
			' | '.join(', '.join(str(d.get(k, '-')) for d in samples) for k in names)))
	return rows


PLOTTED = MP2S + ('migrate_pages', 'memcpy')


def plot_data(r):
	"""gnuplot data: size in MiB, then MiB/s medians for each method."""
	lines = ['# size_mib %s  (MiB/s, medians)' % ' '.join(PLOTTED)]
	for sid in scaling_ids(r):
		mib = r.bytes[sid] / MIB
		vals = []
		for m in PLOTTED:
			med = median(r.times.get((sid, m), []))
			vals.append('%.2f' % (mib / med) if med else 'NaN')
		lines.append('%d %s' % (mib, ' '.join(vals)))
	return '\n'.join(lines) + '\n'


def report(r, header):
	"""The markdown report: header lines, both tables, THP, totals."""
	reps = max((len(v) for v in r.times.values()), default=0)
	out = list(header)
	out += ['', 'Medians of %d samples per cell, [min-max]; ratio = mainline / '
		'migrate_pages2 (above 1: migrate_pages2 is faster, or stalls less); '
		'w=N: migrate_pages2 with N workers (the caller and N-1 helper '
		'threads).' % reps,
		'Placement of every page was checked after every sample (move_pages() '
		'with NULL nodes), and the job checked its data.', '']
	out += main_table(r)
	workers = workers_table(r)
	if len(workers) > 2:
		out += ['', 'Helpers: speedup of w=2 and w=4 over w=1 (median over median), '
			'and each worker count\'s time over memcpy of the same bytes where '
			'the scenario ran it:', ''] + workers
	users = user_threads_table(r)
	if len(users) > 2:
		out += ['', 'Helpers inside the call, or the caller\'s own threads: four '
			'threads each calling migrate_pages2 (w=1) on a quarter of the '
			'range, against one call with w=4 (above 1 in the ratio columns: '
			'the second is faster):', ''] + users
	out += ['', 'Scaling (scenario 8) and the physical reference (scenario 9: '
		'memcpy of the same bytes, node 2 to node 3, in the guest):', '']
	out += scaling_table(r)
	thp = thp_lines(r)
	if thp:
		out += ['', 'THP kept huge (scenario 2):', ''] + thp
	vm = vmstat_table(r)
	if vm:
		out += ['', 'Where THP samples spent their time: /proc/vmstat\'s change '
			'during each sample (compact_*: direct compaction for the '
			'destination\'s huge pages):', ''] + vm
	if r.done:
		out += ['', '%d samples, %d page placements verified.' % r.done]
	return '\n'.join(out) + '\n'
