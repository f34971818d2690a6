# SPDX-License-Identifier: GPL-2.0
"""make mm-selftests: mainline's own selftests of what the series touches,
on the pristine base kernel and on the patched one.

Both kernels are built from make test's config fragments plus
configs/mm-selftests.config (the pristine one without the series' own
options), in out/kbuild-mm-pristine and out/kbuild-mm; the selftests are
built once, against the pristine kernel's UAPI headers, and the same
initramfs boots both kernels in the same 4-node guest.  Each kselftest
result line becomes one row with a column per kernel; the command fails
when a row differs between the columns, or fails or skips on both
without a reason in BOTH_KERNELS.

The pure part (the guest script, the console parser, the two-column
comparison and report) is tested by mm_selftests_test.py; main(), called
by verbs_bench.py, runs the phases through state, deps, config, build
and guest.
"""

import collections
import fnmatch
import os
import re
import sys
import time

import config
import ktap
import state
from build import kernel, make_initramfs
from deps import debian_version, phase_deps
from guest import boot
from util import die, log, read, run, write_if_changed

# The selftests, in the order they run: (suite, program, arguments, why it
# is here).  Programs are tools/testing/selftests/<suite>/<program> of the
# base, unchanged by the series.  Left out: khugepaged and transhuge-stress
# (minutes of collapse and fault loops, nothing migrated), mremap_test
# (page-table moves; no migration or mempolicy code), ksm_tests -P/-H/-D/-C
# (timings of 100 MiB areas), cgroup's test_cpuset_prs.sh and
# test_cpuset_v1_*.sh (bash scripts, and the guest has busybox's sh only;
# prs is about CPU partitions, not memory).
TESTS = [
	('mm', 'migration', '',
	 'move_pages() of private and shared anon, THP and hugetlb pages between '
	 'two nodes while threads fault on them (migration entries)'),
	('mm', 'rmap', '',
	 'move_pages() of anon, shm, file and KSM pages mapped in a tree of '
	 'forked processes: every mapping must follow the move (rmap walk)'),
	('mm', 'mkdirty', '',
	 'mbind(MPOL_MF_MOVE) of a PTE page and of a PMD-mapped THP: mempolicy\'s '
	 'walk and queueing (patch 0002) and what migration keeps of the dirty bit'),
	('mm', 'compaction_test', '',
	 'compaction migrates locked pages to build huge pages: migrate_pages(), '
	 'whose counting patch 0001 reworks, from its busiest caller'),
	('mm', 'split_huge_page_test', '',
	 'THP splits to every order (anon, PTE-mapped, file, page cache): the '
	 'engine splits a THP it cannot move whole and counts the splits'),
	('mm', 'hugetlb-soft-offline', '',
	 'soft offline migrates an in-use hugetlb folio (migrate_pages(), '
	 'MR_MEMORY_FAILURE; isolation and putback of hugetlb folios)'),
	('mm', 'hugetlb-madvise', '',
	 'hugetlb reservations and free counts across MADV_DONTNEED/REMOVE '
	 'and fallocate: the pool the engine isolates from and puts back to'),
	('mm', 'cow', '',
	 'COW after fork() of base pages, THP, mTHP and hugetlb, with R/O pins: '
	 'the exclusive and maybe-shared state that migration entries carry'),
	('mm', 'gup_longterm', '',
	 'FOLL_LONGTERM pins, which first migrate unpinnable pages '
	 '(migrate_pages(), MR_LONGTERM_PIN), on anon, shmem, memfd and hugetlb'),
	('mm', 'mlock2-tests', '',
	 'mlock2() and MLOCK_ONFAULT: mlocked pages sit on the unevictable LRU, '
	 'which the engine isolates from'),
	('mm', 'ksm_functional_tests', '',
	 'KSM merge, unmerge, fork and prctl: KSM pages are what the walk counts '
	 'as shared and moves once'),
	('mm', 'ksm_tests', '-M -p 10', 'KSM merging (quick mode of run_vmtests.sh)'),
	('mm', 'ksm_tests', '-U', 'KSM unmerging'),
	('mm', 'ksm_tests', '-Z -p 10 -z 0', 'KSM zero pages, use_zero_pages off'),
	('mm', 'ksm_tests', '-Z -p 10 -z 1', 'KSM zero pages, use_zero_pages on'),
	('mm', 'ksm_tests', '-N -m 1',
	 'KSM on pages placed on two nodes, merge_across_nodes on'),
	('mm', 'ksm_tests', '-N -m 0',
	 'KSM on pages placed on two nodes, merge_across_nodes off (per-node trees)'),
	('cgroup', 'test_cpuset', '',
	 'cpuset permissions and affinity on controller disable: the files '
	 'around cpuset.mems, whose migration runs on the engine'),
]

# Rows that may fail or skip on both kernels: (glob on the row name, why).
# Anything else that fails or skips on both fails the command.
PROC_MEM = ('make test\'s config has PROC_MEM_FORCE_PTRACE (the default): a write '
	    'through /proc/self/mem to a read-only mapping needs a ptracer; mm\'s own '
	    'selftest config sets PROC_MEM_ALWAYS_FORCE')
NO_UFFD = 'no CONFIG_USERFAULTFD in make test\'s config'
BOTH_KERNELS = [
	('mm/cow: *swapped*',
	 'no swap in the guest: MADV_PAGEOUT cannot swap the page out'),
	('mm/split_huge_page_test: Pagecache folio split skipped*',
	 'no file system with large page-cache folios in the guest (tmpfs, ext2 on brd)'),
	('mm/mkdirty: PTRACE write access*', PROC_MEM),
	('mm/ksm_functional_tests: test_prot_none', PROC_MEM),
	('mm/mkdirty: UFFDIO_COPY', NO_UFFD),
	('mm/ksm_functional_tests: test_unmerge_uffd_wp', NO_UFFD),
	('mm/ksm_tests -U: KSM unmerging',
	 'fails on the pristine kernel alike: assert_ksm_pages_count(0) after the one '
	 'scan that follows the writes; cause not investigated yet'),
]

PROGRAM_TIMEOUT = 300		# seconds per program in the guest

Row = collections.namedtuple('Row', 'key name status detail')


def label(suite, prog, args):
	"""A test's name in the console frames and in the report."""
	return '%s/%s%s' % (suite, prog, ' ' + args if args else '')


def labels(tests=TESTS):
	return [label(s, p, a) for s, p, a, _ in tests]


def programs(tests=TESTS):
	"""{suite: [program]} to build, each once."""
	out = collections.OrderedDict()
	for suite, prog, _, _ in tests:
		if prog not in out.setdefault(suite, []):
			out[suite].append(prog)
	return out


def guest_script(tests=TESTS, timeout=PROGRAM_TIMEOUT):
	"""The guest's runner: every test framed by MP2-TEST lines, as
	guest/run-tests frames make test's, with its arguments."""
	out = ['#!/bin/sh', '# SPDX-License-Identifier: GPL-2.0',
	       '# Generated by harness/mm_selftests.py: mainline selftests, one frame each.']
	for suite, prog, args, _ in tests:
		name = label(suite, prog, args)
		out += ['echo "MP2-TEST: %s"' % name,
			'(cd /kselftest/%s && timeout %d ./%s%s 2>&1)' %
			(suite, timeout, prog, ' ' + args if args else ''),
			'echo "MP2-TEST-END: %s $?"' % name]
	return '\n'.join(out) + '\n'


TITLE_RE = re.compile(r'^\[(RUN|INFO)\]\s+(.*)$')
# A kselftest result line.  Unlike ktap.RESULT_RE it takes "ok 3 # SKIP
# why", without a description, as kselftest.h's ksft_test_result_skip()
# prints it, for a skip; and XFAIL (an expected failure: cow) as its own
# status.
RESULT_RE = re.compile(r'^(ok|not ok) (\d+)(?: -)?(?: (.*?))?'
		       r'(?:\s*#\s*(SKIP|skip|XFAIL|TODO)\b\s*(.*))?$')


def parse_program(name, body, rc):
	"""Rows of one program's output: one per top-level result line, keyed
	by its number (the same binary runs on both kernels), titled by the
	[RUN] or [INFO] line before it, else its own name.  A program without
	result lines is one row, from its exit status (0 pass, 4 skip).
	rc None: the program did not finish."""
	rows, diag, plan, plan_skip = [], [], None, ''
	for line in body:
		line = line.rstrip()
		m = ktap.PLAN_RE.match(line) or re.match(r'^()1\.\.(0)\s*#\s*SKIP\s*(.*)$', line)
		if m and not m.group(1):
			plan = int(m.group(2))
			if m.lastindex == 3:
				plan_skip = m.group(3)
			continue
		m = RESULT_RE.match(line)
		if m:
			directive = (m.group(4) or '').upper()
			status = {'SKIP': 'skip', 'XFAIL': 'xfail', 'TODO': 'xfail'}.get(
				directive, 'pass' if m.group(1) == 'ok' else 'fail')
			said = [t.groups() for t in map(TITLE_RE.match, diag) if t]
			# an [INFO] line names the test only right before its result
			# (mkdirty); earlier ones are the program's setup (migration)
			last = TITLE_RE.match(diag[-1]) if diag else None
			title = ([t for kind, t in said if kind == 'RUN'] +
				 ([last.group(2)] if last else []) +
				 [(m.group(3) or '').strip() or (m.group(5) or '').strip() or
				  '#' + m.group(2)])[0]
			why = [d for d in diag if not TITLE_RE.match(d)][-3:]
			if (m.group(5) or '').strip() not in ('', title):
				why.append(m.group(5).strip())
			detail = {'skip': why, 'fail': diag[-20:]}.get(status, [])
			rows.append(Row('%s: %s' % (name, m.group(2)), title, status, detail))
			diag = []
			continue
		m = ktap.DIAG_RE.match(line)
		if m:
			diag.append(m.group(1).strip())
		elif line.strip() and not line.startswith('['):
			# plain output of a program that prints no KTAP (ksm_tests)
			diag.append(line.strip())
	# A title used twice in a program gets its number.
	count = collections.Counter(r.name for r in rows)
	rows = [r._replace(name='%s: %s%s' % (name, r.name, ' [#%s]' % r.key.rsplit(' ', 1)[1]
						if count[r.name] > 1 else ''))
		for r in rows]
	if not rows:
		status = 'pass' if rc == 0 else ('skip' if rc == 4 else 'fail')
		detail = [plan_skip] if plan_skip else diag[-20:]
		if rc is None:
			detail = ['did not finish (crash or timeout)'] + detail
		elif status == 'fail':
			detail = ['exit status %d' % rc] + detail
		return [Row(name, name, status, detail)]
	failed = any(r.status == 'fail' for r in rows)
	if rc is None:
		rows.append(Row(name + ' (finished)', name + ' (finished)', 'fail',
				['did not finish (crash or timeout)'] + diag[-20:]))
	elif plan is None or plan != len(rows):
		rows.append(Row(name + ' (plan)', name + ' (plan)', 'fail',
				['plan 1..%s but %d results' % (plan, len(rows))]))
	if rc is not None and rc not in (0, 4) and not failed:
		rows.append(Row(name + ' (exit)', name + ' (exit)', 'fail',
				['exit status %d%s' % (rc, ' (timeout)' if rc == 124 else '')] +
				diag[-20:]))
	return rows


def parse_console(lines, names, timed_out=False):
	"""Rows of one boot: every framed test, then the guest's own rows
	(it finished; its kernel log has no WARNING, BUG, lockdep... report)."""
	rows = []
	for name in names:
		body, rc, inside = [], None, False
		for l in lines:
			if l == 'MP2-TEST: ' + name:
				inside, body = True, []
			elif inside and l.startswith('MP2-TEST-END: %s ' % name):
				tail = l[len('MP2-TEST-END: %s ' % name):]
				rc = int(tail) if tail.isdigit() else None
				break
			elif inside:
				body.append(l)
		if not inside:
			rows.append(Row(name, name, 'fail', ['never started']))
			continue
		rows += parse_program(name, body, rc)
	finished = any(l.startswith('MP2-EXIT:') for l in lines) and not timed_out
	rows.append(Row('guest/finished', 'guest/finished', 'pass' if finished else 'fail',
			[] if finished else ['guest timed out' if timed_out else
					     'guest never reached MP2-EXIT (panic?)'] + lines[-20:]))
	reports = ktap.kernel_reports(lines)
	rows.append(Row('guest/kernel-log-clean', 'guest/kernel-log-clean',
			'fail' if reports else 'pass', [l for r in reports for l in r + ['']]))
	return rows


Compared = collections.namedtuple('Compared', 'name statuses details verdict reason')


def compare(columns, reasons=BOTH_KERNELS):
	"""columns: [(kernel, rows)], two of them.  One Compared per row key,
	in the order of the first column (then rows only the second has);
	verdict: same (passes on both), explained (fails or skips alike on
	both, with its reason), unexplained (alike, without one), differs."""
	keys = collections.OrderedDict()
	by_col = []
	for _, rows in columns:
		d = {}
		for r in rows:
			keys.setdefault(r.key, r.name)
			d[r.key] = r
		by_col.append(d)
	out = []
	for key, name in keys.items():
		got = [d.get(key) for d in by_col]
		statuses = [r.status if r else '-' for r in got]
		details = [r.detail if r else ['no such result'] for r in got]
		reason = next((why for glob, why in reasons if fnmatch.fnmatchcase(name, glob)), None)
		if len(set(statuses)) > 1:
			verdict = 'differs'
		elif statuses[0] in ('pass', 'xfail'):
			verdict = 'same'
		else:
			verdict = 'explained' if reason else 'unexplained'
		out.append(Compared(name, statuses, details, verdict, reason))
	return out


def report(compared, kernels, reasons=BOTH_KERNELS):
	"""The two-column table, the details of what needs a look, a summary;
	(lines, exit code)."""
	width = min(max([len(c.name) for c in compared] + [4]), 78)
	out = [('%-*s  %-8s  %s' % (width, 'test', kernels[0], kernels[1])).rstrip()]
	for c in compared:
		note = {'differs': '  <- differs', 'unexplained': '  <- on both, no reason listed',
			'explained': '  (both: %s)' % c.reason}.get(c.verdict, '')
		out.append(('%-*s  %-8s  %-8s%s' % (width, c.name, c.statuses[0], c.statuses[1],
						     note)).rstrip())
	bad = [c for c in compared if c.verdict in ('differs', 'unexplained')]
	for c in bad:
		out += ['', '%s: %s' % (c.name, c.verdict)]
		for k, st, det in zip(kernels, c.statuses, c.details):
			out.append('  %s: %s' % (k, st))
			out += ['    # ' + d for d in det if d]
	stale = [glob for glob, _ in reasons
		 if not any(c.verdict == 'explained' and fnmatch.fnmatchcase(c.name, glob)
			    for c in compared)]
	if stale:
		out += ['', 'reasons listed for rows that did not fail or skip on both: ' +
			', '.join(stale)]
	count = collections.Counter(c.verdict for c in compared)
	alike = collections.Counter(c.statuses[0] for c in compared if c.verdict == 'explained')
	out += ['', '%d results: %d pass on both, %d fail and %d skip on both with a reason, '
		'%d alike without a reason, %d differ' %
		(len(compared), count['same'], alike['fail'], alike['skip'],
		 count['unexplained'], count['differs'])]
	return out, 1 if bad or not count['same'] else 0


# ---------------------------------------------------------------- the run
KERNELS = ('pristine', 'patched')


def fragments():
	"""{kernel: (build dir, tree, fragments)}: make test's fragments and
	mm-selftests.config, the pristine tree's without the series' options."""
	mine = os.path.join(state.HARNESS, 'configs', 'mm-selftests.config')
	patched = config.fragments() + [mine]
	path = os.path.join(state.OUT, 'mm-selftests-pristine.config')
	text = ''.join(l for f in patched if os.path.exists(f)
		       for l in read(f, 'r').splitlines(True) if 'MIGRATE_PAGES2' not in l)
	write_if_changed(path, text.encode())
	return {'pristine': ('kbuild-mm-pristine', state.PRISTINE, [path]),
		'patched': ('kbuild-mm', None, patched)}


def build_selftests():
	"""The programs of TESTS, static, built once from the base's selftests
	(the series changes none of them) against the current build's UAPI
	headers; [(guest path, host path)]."""
	files = []
	inc = '-isystem ' + os.path.join(state.KBUILD, 'usr', 'include')
	for suite, progs in programs().items():
		sdir = os.path.join(state.SRC, 'tools', 'testing', 'selftests', suite)
		odir = os.path.join(state.GUEST, 'kselftest', suite)
		os.makedirs(odir, exist_ok=True)
		run(['make', '-C', sdir, 'OUTPUT=' + odir, 'CC=gcc -static',
		     'KHDR_INCLUDES=' + inc, '-j' + state.JOBS] + [os.path.join(odir, p) for p in progs],
		    logfile=os.path.join(state.OUT, 'mm-selftests-build-%s.log' % suite))
		files += [('/kselftest/%s/%s' % (suite, p), os.path.join(odir, p)) for p in progs]
	return files


def main(args):
	"""make mm-selftests: build both kernels (incremental after the first
	run), the selftests once, boot each kernel with the same initramfs,
	compare.  --reuse: the last run's consoles, reported again."""
	names = labels()
	consoles = {k: os.path.join(state.OUT, 'mm-selftests-%s.log' % k) for k in KERNELS}
	if args.reuse:
		missing = [c for c in consoles.values() if not os.path.exists(c)]
		if missing:
			die('--reuse: no earlier run (%s missing); run make mm-selftests first' %
			    ', '.join(missing))
		columns = [(k, parse_console(read(consoles[k], 'r').splitlines(), names)) for k in KERNELS]
	else:
		phase_deps()
		log('mm-selftests: %d mainline selftests (TESTS in harness/mm_selftests.py '
		    'says why each) on %s %s, pristine and patched' %
		    (len(TESTS), state.BASE.package, debian_version()))
		state.use_guest('guest-mm')
		builds = fragments()
		for k in KERNELS:
			t = time.monotonic()
			build, tree, frags = builds[k]
			state.use_build(build, tree)
			kernel(base=frags)
			log('%s kernel ready in %.0fs: %s' % (k, time.monotonic() - t, state.BZIMAGE))
		state.use_build(*builds['pristine'][:2])
		files = build_selftests()
		script = os.path.join(state.GUEST, 'mm-selftests.sh')
		write_if_changed(script, guest_script().encode())
		files.append(('/bin/mp2-mm-selftests', script))
		# the guest's /bin tools take the patched kernel's headers
		state.use_build(*builds['patched'][:2])
		cpio = make_initramfs('mm-selftests', 'sh /bin/mp2-mm-selftests', files)
		columns = []
		for k in KERNELS:
			t = time.monotonic()
			state.use_build(*builds[k][:2])
			log('boot: %s kernel' % k)
			lines, timed_out = boot(cpio, os.path.basename(consoles[k]), args.timeout,
						echo=args.verbose)
			columns.append((k, parse_console(lines, names, timed_out)))
			log('%s kernel: guest done in %.0fs' % (k, time.monotonic() - t))
	compared = compare(columns)
	lines, rc = report(compared, KERNELS)
	print('\n'.join(lines))
	log('consoles: %s' % ', '.join(consoles[k] for k in KERNELS))
	sys.exit(rc)
