# SPDX-License-Identifier: GPL-2.0
"""The lazy scenario's numbers: mp2-lazy-bench's MP2-BENCH-LAZY lines
(harness/bench/mp2-lazy-bench.c) reduced to medians, and the report's
section on what a move costs a running job, eager and lazy.

Pure (no harness import but bench's arithmetic); imported by verbs_bench.
"""

import collections

from bench import cell, fmt, median

METHODS = ('eager-w1', 'eager-w4', 'lazy')
LABEL = {'eager-w1': 'migrate_pages2 w=1', 'eager-w4': 'migrate_pages2 w=4',
	 'lazy': 'migrate_pages2 LAZY'}
FIELDS = ('call', 'hot', 'lost', 'worst_ms', 'cold', 'cold_total', 'finish')


class Results:
	def __init__(self):
		self.title = None
		self.samples = collections.defaultdict(list)	# method -> [{field: value}]
		self.done = None				# (samples, pages verified)


def parse(lines):
	"""Results from console lines; anything else is ignored."""
	r = Results()
	for line in lines:
		f = line.split()
		if not f:
			continue
		if f[0] == 'MP2-BENCH-LAZY-SCENARIO':
			r.title = ' '.join(f[1:])
		elif f[0] == 'MP2-BENCH-LAZY' and len(f) == 2 + len(FIELDS):
			r.samples[f[1]].append(dict(zip(FIELDS, (float(x) for x in f[2:]))))
		elif f[0] == 'MP2-BENCH-LAZY-DONE' and len(f) == 3:
			r.done = (int(f[1]), int(f[2]))
	return r


def values(r, method, field):
	return [s[field] for s in r.samples.get(method, [])]


def share(r, method, num, den):
	"""median(num / den) over the samples, as a percentage."""
	xs = [s[num] / s[den] for s in r.samples.get(method, []) if s[den]]
	return '%s%%' % fmt(100 * median(xs)) if xs else '-'


def table(r):
	rows = ['| method | the call | until every hot page moved | job\'s lost work '
		'| worst iteration | cold pages moved by then | then an ordinary call |',
		'|---|---|---|---|---|---|---|']
	for m in METHODS:
		if not r.samples.get(m):
			continue
		lost = [100 * x for x in values(r, m, 'lost')]
		fin = values(r, m, 'finish') if m == 'lazy' else []
		rows.append('| %s | %s | %s | %s | %s | %s | %s |' % (
			LABEL[m], cell(values(r, m, 'call')), cell(values(r, m, 'hot')),
			cell(lost, '%'), cell(values(r, m, 'worst_ms'), 'ms'),
			share(r, m, 'cold', 'cold_total'), cell(fin) if fin else '-'))
	return rows


def ratio_line(r):
	"""The lazy call against the eager ones, and the lost work, in words."""
	lazy, w1 = median(values(r, 'lazy', 'call')), median(values(r, 'eager-w1', 'call'))
	if not lazy or not w1:
		return []
	return ['The lazy call took %s%% of the eager w=1 call (medians); the job '
		'lost %s%% of its work during a lazy move against %s%% (w=1) and '
		'%s%% (w=4) during an eager one.' % (
			fmt(100 * lazy / w1),
			fmt(100 * (median(values(r, 'lazy', 'lost')) or 0)),
			fmt(100 * (median(values(r, 'eager-w1', 'lost')) or 0)),
			fmt(100 * (median(values(r, 'eager-w4', 'lost')) or 0)))]


def report(r):
	"""The section's markdown lines; none without samples."""
	if not r.samples:
		return []
	n = max(len(v) for v in r.samples.values())
	out = ['', '## A running job moved eagerly and lazily', '',
	       '%s: medians of %d samples [min-max].  Lost work: 1 - the '
	       'iterations the job did from the call until every hot page was on '
	       'its new node, over what the same time gave just before; cold '
	       'pages moved: of the half never touched after the start, the share '
	       'on the new nodes by then (a lazy move copies none; its ordinary '
	       'call then moves them, timed in the last column).' % (r.title, n), '']
	out += table(r)
	out += [''] + ratio_line(r)
	if r.done:
		out += ['', '%d samples, %d pages checked by the job.' % r.done]
	return out
