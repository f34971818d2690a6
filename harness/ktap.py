# SPDX-License-Identifier: GPL-2.0
"""Reading a guest console log: KTAP from KUnit and kselftests, the guest
runner's frame lines, and kernel reports (WARNING, BUG, lockdep, KASAN...).

The console mixes everything, so the parser is tolerant: it picks KTAP lines
out of the noise, nests them by indentation and checks every plan.

Pure (no harness import); imported by series, mm_selftests, mainline and
the verbs.
"""

import collections
import fnmatch
import re

Result = collections.namedtuple('Result', 'name status detail')

RESULT_RE = re.compile(r'^(\s*)(ok|not ok) (\d+)(?: -)? ?(.*?)(?:\s+#\s*(SKIP|skip|TODO)\b\s*(.*))?$')
PLAN_RE = re.compile(r'^(\s*)1\.\.(\d+)\s*$')
DIAG_RE = re.compile(r'^\s*#\s?(.*)$')

# Lines that open a kernel report.  Test programs print only '#', 'ok' and
# 'not ok' lines, so these are matched on the kernel's own lines.
REPORT_RE = re.compile(
	r'------------\[ cut here \]------------|^WARNING: |^BUG: |\bBUG: |'
	r'^Oops: |Kernel panic|general protection fault|KASAN: |UBSAN: |'
	r'kmemleak: \d+ new suspected|possible recursive locking|'
	r'possible circular locking|inconsistent lock state|'
	r'suspicious RCU usage|INFO: task .* blocked|rcu: INFO: |'
	r'WARNING: possible|^Call Trace:|^RIP: ')
REPORT_END_RE = re.compile(r'---\[ end (trace|Kernel panic)|^MP2-')


def between(lines, start, end_prefix):
	"""The lines after the line `start`, up to one starting with end_prefix."""
	out, inside = [], False
	for l in lines:
		if inside and l.startswith(end_prefix):
			break
		if inside:
			out.append(l)
		elif l == start:
			inside = True
	return out


def exit_status(lines):
	"""The guest command's status from its 'MP2-EXIT: N' line, else None."""
	for l in reversed(lines):
		m = re.match(r'^MP2-EXIT: (\d+)$', l)
		if m:
			return int(m.group(1))
	return None


def kernel_reports(lines):
	"""Each kernel report in the log, as a list of its lines."""
	reports, i = [], 0
	while i < len(lines):
		l = lines[i]
		if not l.lstrip().startswith('#') and REPORT_RE.search(l):
			j = i + 1
			while j < len(lines) and j < i + 60 and not REPORT_END_RE.search(lines[j]):
				j += 1
			reports.append(lines[i:j + 1])
			i = j + 1
		else:
			i += 1
	return reports


class _Level:
	"""One nesting level of a KTAP document."""

	def __init__(self, indent):
		self.indent = indent
		self.plan = None
		self.nodes = []		# (name, status, detail, child _Level or None)
		self.diag = []
		self.pending = None	# a finished nested level awaiting its result line


def parse_ktap(lines, prefix):
	"""Leaf test results of one KTAP document; nested subtests are named
	parent.child.  A plan that does not match its results is a failure."""
	stack = [_Level(0)]
	for line in lines:
		line = line.rstrip()
		plan, res, diag = PLAN_RE.match(line), RESULT_RE.match(line), DIAG_RE.match(line)
		if not (plan or res or diag):
			continue
		indent = len(line) - len(line.lstrip())
		while indent < stack[-1].indent:
			child = stack.pop()
			stack[-1].pending = child
		if indent > stack[-1].indent:
			stack.append(_Level(indent))
		lvl = stack[-1]
		if plan:
			lvl.plan = int(plan.group(2))
		elif res:
			skip = res.group(5) and res.group(5).upper() == 'SKIP'
			status = 'skip' if skip else ('pass' if res.group(2) == 'ok' else 'fail')
			detail = lvl.diag if status == 'fail' else [res.group(6) or '']
			lvl.nodes.append((res.group(4).strip(), status, detail, lvl.pending))
			lvl.pending, lvl.diag = None, []
		else:
			lvl.diag.append(diag.group(1))
	while len(stack) > 1:
		child = stack.pop()
		stack[-1].pending = child
	return _flatten(stack[0], prefix)


def _flatten(lvl, prefix, top=True):
	results = []
	# KTAP lets a nested level (a parameterised test) leave out its plan.
	if lvl.plan is None and top:
		results.append(Result(prefix + '(plan)', 'fail', ['no test plan']))
	elif lvl.plan is not None and lvl.plan != len(lvl.nodes):
		results.append(Result(prefix + '(plan)', 'fail',
				      ['plan 1..%d but %d results' % (lvl.plan, len(lvl.nodes))]))
	for name, status, detail, child in lvl.nodes:
		if child is None:
			results.append(Result(prefix + name, status, detail))
			continue
		sub = _flatten(child, prefix + name + '.', top=False)
		results += sub
		if status == 'fail' and not any(r.status == 'fail' for r in sub):
			results.append(Result(prefix + name, 'fail', detail))
	if lvl.pending is not None:
		results.append(Result(prefix + '(subtest)', 'fail', ['subtest without a result line']))
	return results


def parse_kunit(lines):
	"""KUnit's KTAP from the boot part of the console (before MP2-BEGIN)."""
	boot = []
	for l in lines:
		if l == 'MP2-BEGIN':
			break
		boot.append(l)
	start = [i for i, l in enumerate(boot) if l.strip() == 'KTAP version 1' and l == l.lstrip()]
	if not start:
		return []
	doc = [l for l in boot[start[0]:] if RESULT_RE.match(l) or PLAN_RE.match(l) or DIAG_RE.match(l)]
	return parse_ktap(doc, 'kunit/')


def parse_guest(lines, programs):
	"""Results of every kselftest program the runner framed with
	MP2-TEST / MP2-TEST-END, and of KUnit."""
	results = parse_kunit(lines)
	for prog in programs:
		name = prog.replace('/kselftest/', '', 1)
		body = between(lines, 'MP2-TEST: ' + prog, 'MP2-TEST-END: ' + prog)
		end = [l for l in lines if l.startswith('MP2-TEST-END: %s ' % prog)]
		if not end:
			results.append(Result(name, 'fail', ['did not finish (crash or timeout)'] + body[-20:]))
			continue
		rc = int(end[0].split()[-1])
		doc = [l for l in body if RESULT_RE.match(l) or PLAN_RE.match(l) or DIAG_RE.match(l)]
		res = parse_ktap(doc, name + ':')
		results += res
		if rc not in (0, 4) and not any(r.status == 'fail' for r in res):
			results.append(Result(name, 'fail', ['exit status %d' % rc]))
	return results


def load_expected_skips(path):
	"""{glob: reason} from a file of 'name-glob  reason' lines."""
	skips = {}
	try:
		with open(path) as f:
			for line in f:
				line = line.split('#', 1)[0].strip()
				if line:
					parts = line.split(None, 1)
					skips[parts[0]] = parts[1] if len(parts) > 1 else ''
	except FileNotFoundError:
		pass
	return skips


def report(results, lines, timed_out, expected_skips, log):
	"""Print one line per test and the verdict; return the exit code.
	lines: the guest's console, or None for checks that boot nothing."""
	final = list(results)
	reports = []
	if lines is not None:
		finished = any(l.startswith('MP2-EXIT:') for l in lines)
		final.append(Result('guest/finished', 'pass' if finished and not timed_out else 'fail',
				    ['guest timed out' if timed_out else
				     'guest never reached MP2-EXIT (panic?)'] + lines[-30:]))
		reports = kernel_reports(lines)
		detail = []
		for r in reports:
			detail += r + ['']
		final.append(Result('guest/kernel-log-clean', 'fail' if reports else 'pass', detail))
	passed = failed = skipped = 0
	for i, r in enumerate(final, 1):
		status = r.status
		if status == 'skip' and not any(fnmatch.fnmatch(r.name, g) for g in expected_skips):
			status = 'fail'
			r = Result(r.name, 'fail', ['unexpected skip: %s' % ' '.join(r.detail)])
		if status == 'pass':
			passed += 1
			print('ok %d %s' % (i, r.name))
		elif status == 'skip':
			skipped += 1
			print('ok %d %s # SKIP %s' % (i, r.name, ' '.join(r.detail)))
		else:
			failed += 1
			print('not ok %d %s' % (i, r.name))
			for d in r.detail:
				print('#   ' + d)
	if lines is not None:
		log('kernel log: %s' % ('clean' if not reports else '%d report(s)' % len(reports)))
	print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
	return 1 if failed or not passed else 0
