# SPDX-License-Identifier: GPL-2.0
"""The series verbs: series (git format-patch output and checkpatch) and
series-check (every patch built in turn on the pristine tree, the series
with its options off, W=1, sparse and kernel-doc on the files it adds and
changes, in out/src-series and out/kbuild-series).

Imports ktap, series, config, deps, tree, state, util; imported by mp2.py
alone.
"""

import collections
import os
import re
import sys

import ktap
import series
import state
from config import phase_config
from deps import phase_deps
from state import JOBS, log_suffix, OUT, SRC, TOP, use_build
from tree import (extract_pristine, make_series, overlay_files, phase_prepare,
	series_files, sync_tree)
from util import die, log, try_run, write_if_changed


def cmd_series(_):
	phase_deps()
	phase_prepare()
	outdir = make_series()
	results = series.checkpatch(outdir, SRC)
	bad = [r for r in results if r.status == 'fail']
	for r in bad:
		print('\n'.join(r.detail))
	print(outdir)
	sys.exit(1 if bad else 0)


SERIES_SRC = os.path.join(OUT, 'src-series')
FINDING_RE = re.compile(r'^(\S+?):(\d+):(?:\d+:)? (warning|error): (.*)$')


def findings(lines, files, sparse=False):
	"""{file: [message]} of compiler (or sparse) warnings and errors on files,
	line numbers dropped, so that a tree can be compared with another."""
	found = collections.defaultdict(list)
	for line in lines:
		m = FINDING_RE.match(line)
		if not m:
			continue
		path = os.path.normpath(m.group(1))
		rel = next((f for f in files if path == f or path.endswith('/' + f)), None)
		# gcc ends its warnings with the flag that asked for them; sparse does not
		if rel and (not sparse or not line.rstrip().endswith(']')):
			found[rel].append('%s: %s' % (m.group(3), m.group(4)))
	return found


def lint(name, files):
	"""W=1, sparse (C=2) and kernel-doc findings on files of the series-check
	tree: {check: {file: [message]}}."""
	objs = [f[:-2] + '.o' for f in files if f.endswith('.c') and
		os.path.exists(os.path.join(SERIES_SRC, f))]
	make = ['make', '-C', SERIES_SRC, 'O=' + state.KBUILD, '-j' + JOBS]
	out = {}
	_, lines = try_run(make + ['W=1'] + objs, os.path.join(OUT, 'series-check-%s-w1.log' % name))
	out['W=1'] = findings(lines, files)
	_, lines = try_run(make + ['C=2'] + objs,
			   os.path.join(OUT, 'series-check-%s-sparse.log' % name))
	out['sparse'] = findings(lines, files, sparse=True)
	present = [f for f in files if os.path.exists(os.path.join(SERIES_SRC, f))]
	_, lines = try_run(['perl', 'scripts/kernel-doc', '-none', '-Wall'] + present,
			   os.path.join(OUT, 'series-check-%s-kdoc.log' % name), cwd=SERIES_SRC)
	out['kernel-doc'] = findings(lines, files)
	return out


def build_result(label, extra=()):
	"""Configure (lenient: a step may predate an option) and build the
	series-check tree; its Result."""
	try:
		phase_config(extra, lenient=True)
	except SystemExit:
		return ktap.Result('series-check/build/' + label, 'fail',
				   ['configuration failed, see %s' %
				    os.path.join(OUT, 'config%s.log' % log_suffix())])
	blog = os.path.join(OUT, 'series-check-build.log')
	ok, lines = try_run(['make', '-C', SERIES_SRC, 'O=' + state.KBUILD, '-j' + JOBS, 'bzImage'], blog)
	ours = [l for l in lines if FINDING_RE.match(l) and 'migrate_pages2' in l]
	detail = ours + ([] if ok else lines[-30:])
	return ktap.Result('series-check/build/' + label, 'pass' if ok and not ours else 'fail',
			   detail)


def option_off(name, options):
	path = os.path.join(OUT, 'series-check-%s.config' % name)
	write_if_changed(path, ''.join('# CONFIG_%s is not set\n' % o for o in options).encode())
	return path


def migration_on():
	"""A fragment that keeps MIGRATION=y without NUMA_MIGRATION (7.3's
	MIGRATION has no prompt: MEMORY_FAILURE and COMPACTION select it)."""
	path = os.path.join(OUT, 'series-check-migration.config')
	write_if_changed(path, b'CONFIG_MEMORY_FAILURE=y\nCONFIG_COMPACTION=y\n'
			 b'CONFIG_MIGRATION=y\nCONFIG_NUMA=y\n')
	return path


def cmd_series_check(args):
	"""Issue 15: the series as bisection and build bots see it.  Each patch
	applied in turn onto the pristine tree and built (x86_64, make test's
	config), the pristine tree first; the whole series without
	CONFIG_MIGRATE_PAGES2 and without CONFIG_KUNIT; W=1, sparse and
	kernel-doc clean on the new files, and nothing beyond the pristine
	tree's own findings on the upstream files the series changes."""
	phase_deps()
	phase_deps('series')
	extract_pristine()
	ser = series.load(TOP)
	errors = ser.check(overlay_files())
	if errors:
		die('series/ does not cover the project:\n  ' + '\n  '.join(errors))
	use_build('kbuild-series', SERIES_SRC)
	manifest = os.path.join(OUT, 'src-series.manifest')
	kernel_file = lambda f: f.endswith(('.c', '.h')) and not f.startswith('tools/')
	new = sorted(f for c in ser.commits for f in c.files if kernel_file(f))
	changed = sorted({t for p in ser.patches() for t in series.patch_targets(p)
			  if kernel_file(t)})
	results = []
	base = None
	for k in range(len(ser.commits) + 1):
		label = os.path.basename(ser.commits[k - 1].path)[:-7] if k else 'pristine'
		sync_tree(SERIES_SRC, series_files(ser.commits[:k]), manifest)
		log('series-check: %s' % label)
		results.append(build_result(label))
		if k == 0:
			base = lint('pristine', changed)
	last = lint('series', new + changed)
	for check, by_file in sorted(last.items()):
		for f in new + changed:
			extra = list(by_file.get(f, []))
			for msg in base[check].get(f, []):
				if msg in extra:
					extra.remove(msg)
			results.append(ktap.Result('series-check/%s/%s' % (check, f),
						   'fail' if extra else 'pass', extra))
	results.append(build_result('MIGRATE_PAGES2=n', [option_off(
		'no-mp2', ['MIGRATE_PAGES2', 'MIGRATE_PAGES2_KUNIT_TEST'])]))
	results.append(build_result('KUNIT=n', [option_off(
		'no-kunit', ['KUNIT', 'MIGRATE_PAGES2_KUNIT_TEST'])]))
	# NUMA=y with MIGRATION=y (selected by MEMORY_FAILURE and COMPACTION
	# in the guest config) but NUMA_MIGRATION=n: mempolicy's
	# do_migrate_pages() stub, not the engine's, is the one linked.
	results.append(build_result('NUMA_MIGRATION=n', [option_off(
		'no-numa-migration', ['NUMA_MIGRATION', 'NUMA_BALANCING', 'MIGRATE_PAGES2',
				      'MIGRATE_PAGES2_KUNIT_TEST']), migration_on()]))
	sys.exit(ktap.report(results, None, False, set(), log))
