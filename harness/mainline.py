# SPDX-License-Identifier: GPL-2.0
"""make test's differential check of migrate_pages(2) (issue 20): the
pristine base kernel and the patched one, built from the same config
fragments (the pristine one without the series' own options, in
out/kbuild-test-pristine), each boot the same initramfs running
/bin/mp2-mainline-diff (harness/guest/mainline-diff.c).  That program runs
a table of scenarios with mainline system calls only and prints one
"MP2-DIFF <name> ret=... <placement> data=..." line each; a scenario
passes when its line is the same on both kernels.

compare() is pure (tested by mainline_test.py); run() builds and boots
through state, config, build and guest.
"""

import os

import config
import ktap
import state
from build import kernel, make_initramfs
from guest import boot
from util import log, read, write_if_changed

PREFIX = 'MP2-DIFF '
END = 'MP2-DIFF-END'


def scenarios(lines):
	"""{name: line} of one console, in order; None if the table never
	finished."""
	out = {}
	for l in lines:
		l = l.strip()
		if l == END:
			return out
		if l.startswith(PREFIX):
			name = l[len(PREFIX):].split(' ', 1)[0]
			out[name] = l[len(PREFIX):]
	return None


def compare(pristine, patched):
	"""One ktap.Result per scenario of either console, 'mainline/<name>':
	pass if both kernels printed the same line, and a result for each
	console that did not finish the table."""
	results = []
	got = {'pristine': scenarios(pristine), 'patched': scenarios(patched)}
	for k, v in got.items():
		results.append(ktap.Result('mainline/%s-finished' % k, 'pass' if v is not None else 'fail',
					   [] if v is not None else ['the table did not finish on the %s '
								      'kernel' % k]))
	p, q = got['pristine'] or {}, got['patched'] or {}
	for name in list(p) + [n for n in q if n not in p]:
		same = p.get(name) == q.get(name)
		results.append(ktap.Result('mainline/' + name, 'pass' if same else 'fail',
					   [] if same else ['pristine: %s' % p.get(name, '(none)'),
							    'patched:  %s' % q.get(name, '(none)')]))
	return results


def fragments():
	"""make test's fragments without the series' options, for the
	pristine tree."""
	path = os.path.join(state.OUT, 'test-pristine.config')
	text = ''.join(l for f in config.fragments() if os.path.exists(f)
		       for l in read(f, 'r').splitlines(True) if 'MIGRATE_PAGES2' not in l)
	write_if_changed(path, text.encode())
	return [path]


def run(timeout, verbose):
	"""Boot the patched kernel (the current build), then the pristine one,
	each running the table; the results, with the patched kernel's log
	checked for reports (the pristine one warns of its failed
	allocations, mainline's own behaviour)."""
	patched_build = state.KBUILD
	cpio = make_initramfs('mainline', 'mp2-mainline-diff', [])
	log('mainline: migrate_pages(2) scenarios on the patched kernel')
	patched, t1 = boot(cpio, 'mainline-patched.log', timeout, echo=verbose)
	state.use_build('kbuild-test-pristine', state.PRISTINE)
	kernel(base=fragments())
	log('mainline: the same on the pristine kernel')
	pristine, t2 = boot(cpio, 'mainline-pristine.log', timeout, echo=verbose)
	state.use_build(os.path.basename(patched_build))
	reports = ktap.kernel_reports(patched)
	results = compare(pristine if not t2 else [], patched if not t1 else [])
	results.append(ktap.Result('mainline/patched-kernel-log-clean', 'fail' if reports else 'pass',
				   [l for r in reports for l in r]))
	return results
