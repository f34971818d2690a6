# SPDX-License-Identifier: GPL-2.0
"""The verbs that build and boot one kernel: kernel, cli, run, shell, demo,
test (with the harness's own tests and checkpatch), stress, parse (a
saved console again) and clean.  Each is a thin function over the phase
modules; the verdict is ktap.report()'s.

Imports ktap, mainline, series, build, deps, guest, tree, state, util; imported by
mp2.py alone.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

import ktap
import mainline
import series
import state
from build import build_selftests, build_tools, kernel, make_initramfs
from deps import debian_version, phase_deps
from guest import boot, guest_files, qemu_cmd
from state import arch_suffix, BASE, HARNESS, OUT, SRC, use_build
from tree import make_series
from util import die, log, mounts_under, read


def expected_skips():
	"""The skips make test accepts: everywhere, and on this architecture."""
	skips = ktap.load_expected_skips(os.path.join(HARNESS, 'expected-skips'))
	skips.update(ktap.load_expected_skips(os.path.join(HARNESS,
							   'expected-skips-' + state.ARCH.name)))
	return skips


def cmd_kernel(_):
	kernel()
	print(state.BZIMAGE)


def cmd_run(args):
	"""Boot, run CMD as root with FILES in /bin, print its output, exit with
	its status."""
	kernel()
	cpio = make_initramfs('run', args.cmd, guest_files(args.files))
	lines, timed_out = boot(cpio, 'run%s.log' % arch_suffix(), args.timeout,
				echo=args.verbose)
	out = ktap.between(lines, 'MP2-BEGIN', 'MP2-EXIT:')
	for l in out:
		print(l)
	reports = ktap.kernel_reports(lines)
	for r in reports:
		print('\n'.join(r))
	rc = ktap.exit_status(lines)
	if timed_out or rc is None:
		die('guest did not finish%s (see %s)' %
		    (' in %ds' % args.timeout if timed_out else '',
		     os.path.join(OUT, 'run%s.log' % arch_suffix())))
	sys.exit(rc if not reports else max(rc, 1))


def cmd_shell(args):
	kernel()
	cpio = make_initramfs('shell', 'exec setsid cttyhack sh -l', guest_files(args.files))
	cmd = qemu_cmd(cpio, interactive=True)
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	sys.exit(subprocess.call(cmd))


def cmd_test(args):
	"""Everything: deps, build, checkpatch, boot, selftests, KUnit, and
	on x86_64 migrate_pages(2) on the pristine kernel against the patched
	one (mainline.py); the verdict."""
	phase_deps()
	log('migrate_pages2 test run on %s %s' % (BASE.package, debian_version()))
	kernel()
	results = ktap_selftest()
	if not args.no_checkpatch:
		results += series.checkpatch(make_series(), SRC)
	files = build_selftests()
	cpio = make_initramfs('test', 'mp2-run-tests', files)
	lines, timed_out = boot(cpio, 'test%s.log' % arch_suffix(), args.timeout,
				echo=args.verbose)
	results += ktap.parse_guest(lines, [g for g, _ in files])
	if state.ARCH.name == 'x86_64':
		results += mainline.run(args.timeout, args.verbose)
	expected = expected_skips()
	sys.exit(ktap.report(results, lines, timed_out, expected, log))


STRESS_CONFIG = os.path.join(HARNESS, 'configs', 'stress.config')
STRESS_FIGURES = re.compile(r'# calls (\d+) \(failed (\d+):.*\), rounds (\d+), '
			    r'MiB verified (\d+), pages moved (\d+)')


def cmd_stress(args):
	"""Issue 6: the stress selftest (args.seconds per test) and every
	migrate selftest on a KASAN + kmemleak + lockdep kernel, then a kmemleak
	scan; the verdict as make test's, and the figures."""
	phase_deps()
	use_build('kbuild-stress')
	kernel([STRESS_CONFIG])
	files = [f for f in build_selftests() if f[0].startswith('/kselftest/migrate/')]
	files.append(('/bin/mp2-run-stress', os.path.join(HARNESS, 'guest', 'run-stress')))
	cpio = make_initramfs('stress', 'mp2-run-stress %d' % args.seconds, files)
	lines, timed_out = boot(cpio, 'stress.log', args.timeout, echo=args.verbose)
	progs = [g for g, _ in files if g.startswith('/kselftest/')]
	results = ktap.parse_guest(lines, progs)
	figures = [list(map(int, m.groups())) for m in map(STRESS_FIGURES.search, lines) if m]
	total = [sum(col) for col in zip(*figures)] or [0] * 5
	reports = ktap.kernel_reports(lines)
	leak = [l for l in lines if l.startswith('kmemleak: scanned')]
	log('stress figures: %d calls (%d failed with documented errnos), %d target rounds, '
	    '%d MiB verified, %d pages moved, %d kernel reports; %s' %
	    (*total, len(reports), leak[0] if leak else 'kmemleak did not run'))
	results.append(ktap.Result('guest/kmemleak-scanned', 'pass' if leak else 'fail',
				   leak or ['kmemleak did not scan (see %s)' % os.path.join(OUT, 'stress.log')]))
	sys.exit(ktap.report(results, lines, timed_out, set(), log))


def ktap_selftest():
	"""The harness's own tests, every harness/*_test.py: the console parser
	on saved logs (ktap_test.py), the benchmark's arithmetic (bench_test.py),
	the base's messages and the failing hunks of a patch (base_test.py)."""
	tests = sorted(n[:-3] for n in os.listdir(HARNESS) if n.endswith('_test.py'))
	r = subprocess.run([sys.executable, '-m', 'unittest', '-q'] + tests,
			   cwd=HARNESS, capture_output=True, text=True)
	detail = (r.stdout + r.stderr).splitlines()
	return [ktap.Result('harness/self-tests', 'fail' if r.returncode else 'pass', detail)]


def cmd_demo(args):
	"""The seeds' story: an MPI-like job moved between nodes, both ways."""
	args.cmd = 'echo "nodes with memory: $(cat /sys/devices/system/node/has_memory),' \
		   ' with CPUs: $(cat /sys/devices/system/node/has_cpu)"; mp2-demo-job'
	args.files = []
	args.verbose = False
	cmd_run(args)


def cmd_cli(_):
	"""Build the admin tool; its path is the last line printed."""
	phase_deps()
	files = build_tools()
	print(files[0][1])


def cmd_clean(_):
	busy = mounts_under(OUT) if os.path.isdir(OUT) else []
	if busy:
		die('not removing %s: still mounted there: %s' % (OUT, ' '.join(busy)))
	shutil.rmtree(OUT, ignore_errors=True)


def cmd_parse(args):
	"""Parse a saved console log again (the parser's own debugging aid)."""
	lines = read(args.log, 'r').splitlines()
	progs = [l.split(None, 1)[1] for l in lines if l.startswith('MP2-TEST: ')]
	results = ktap.parse_guest(lines, progs)
	sys.exit(ktap.report(results, lines, False,
			     expected_skips(), log))
