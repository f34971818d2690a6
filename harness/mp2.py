#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# The command line alone (after kunit.py): argparse, then one call into the
# verb modules (verbs_run, verbs_bench, verbs_series, verbs_fresh) or a
# phase (deps, prepare, config).  No module imports this one; the layers
# and who imports whom are in README.md's Layout section (one way, checked
# by layout_test.py).  The docstring below is --help's text.
"""mp2: build the migrate_pages2 series on its base, Debian's linux-source-7.3
(harness/base.py states the exact version), boot it in a 4-node QEMU guest and
run its tests.

Phases, each also a command: deps -> prepare -> config -> build -> guest ->
exec -> parse.  Everything generated lives under out/ (or $MP2_OUT), never in
git: out/base the base .deb as fetched (apt-get download, private sources in
out/apt), out/pristine its untouched tarball, out/src a hard-linked copy with
the project's files and patches applied, out/kbuild the kernel's O= directory.
"""

import argparse
import os

from config import phase_config
from deps import PACKAGES, phase_deps
from state import ARCHES, set_arch
from tree import phase_prepare
from util import die
from verbs_bench import cmd_bench, cmd_mm_selftests, cmd_pristine_bench, cmd_profile
from verbs_fresh import cmd_fresh_check, FRESH_SUITES
from verbs_series import cmd_series, cmd_series_check
from verbs_run import (cmd_clean, cmd_cli, cmd_demo, cmd_kernel, cmd_parse, cmd_run,
	cmd_shell, cmd_stress, cmd_test)


def main():
	p = argparse.ArgumentParser(description=__doc__,
				    formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument('--arch', default='x86_64', choices=ARCHES,
		       help='the guest: x86_64 (default) or arm64 (test, kernel, run, shell)')
	sub = p.add_subparsers(dest='command', required=True)
	s = sub.add_parser('deps', help='install missing Debian packages')
	s.set_defaults(func=lambda a: phase_deps(a.kind))
	s.add_argument('--kind', default='test', choices=PACKAGES)
	sub.add_parser('prepare', help='pristine tree + overlay + patches').set_defaults(
		func=lambda a: phase_prepare())
	sub.add_parser('config', help='tinyconfig + fragments, validated').set_defaults(
		func=lambda a: (phase_prepare(), phase_config()))
	sub.add_parser('kernel', help='build; prints bzImage last').set_defaults(func=cmd_kernel)
	sub.add_parser('cli', help='build migrate-pages; prints its path last').set_defaults(
		func=cmd_cli)
	for name, func in (('run', cmd_run), ('shell', cmd_shell), ('demo', cmd_demo)):
		s = sub.add_parser(name)
		s.set_defaults(func=func)
		s.add_argument('--files', nargs='*', default=[])
		s.add_argument('--timeout', type=int, default=600)
		s.add_argument('-v', '--verbose', action='store_true',
			       help='show the whole console')
		if name == 'run':
			s.add_argument('cmd')
	b = sub.add_parser('bench', help='migrate_pages2 vs mainline, one boot')
	b.set_defaults(func=cmd_bench)
	b.add_argument('--reps', type=int, default=5, help='samples per method (>= 5)')
	b.add_argument('--scale', type=int, default=1, help='divide sizes (quick runs)')
	b.add_argument('--only', help='scenario ids, e.g. 1,3,8')
	b.add_argument('--timeout', type=int, default=3600)
	b.add_argument('--reuse', action='store_true',
		       help='report the last run again from out/bench*.log, no boots')
	b.add_argument('-v', '--verbose', action='store_true')
	pr = sub.add_parser('profile', help='function profile of one move per method')
	pr.set_defaults(func=cmd_profile)
	pr.add_argument('--timeout', type=int, default=3600)
	pr.add_argument('-v', '--verbose', action='store_true')
	pb = sub.add_parser('pristine-bench',
			    help='migrate_pages(2): the pristine base against the patched kernel')
	pb.set_defaults(func=cmd_pristine_bench)
	pb.add_argument('--boots', type=int, default=3, help='boots of each kernel')
	pb.add_argument('--reps', type=int, default=3, help='samples per boot')
	pb.add_argument('--only', default='1,3,6,7', help='scenario ids')
	pb.add_argument('--timeout', type=int, default=3600)
	pb.add_argument('-v', '--verbose', action='store_true')
	ms = sub.add_parser('mm-selftests',
			    help="mainline's mm selftests: pristine and patched kernel side by side")
	ms.set_defaults(func=cmd_mm_selftests)
	ms.add_argument('--timeout', type=int, default=2400, help='per boot')
	ms.add_argument('--reuse', action='store_true',
			help='report the last run again from out/mm-selftests-*.log, no boots')
	ms.add_argument('-v', '--verbose', action='store_true')
	st = sub.add_parser('stress', help='stress on a KASAN + kmemleak kernel')
	st.set_defaults(func=cmd_stress)
	st.add_argument('--seconds', type=int, default=30, help='per stress test')
	st.add_argument('--timeout', type=int, default=5400)
	st.add_argument('-v', '--verbose', action='store_true')
	t = sub.add_parser('test', help='build, boot, run every test')
	t.set_defaults(func=cmd_test)
	t.add_argument('--timeout', type=int, default=1800)
	t.add_argument('-v', '--verbose', action='store_true')
	t.add_argument('--no-checkpatch', action='store_true')
	sub.add_parser('series', help='git format-patch series + checkpatch').set_defaults(
		func=cmd_series)
	sub.add_parser('series-check', help='build every patch in turn; W=1, sparse, '
		       'kernel-doc').set_defaults(func=cmd_series_check)
	sub.add_parser('clean').set_defaults(func=cmd_clean)
	s = sub.add_parser('fresh-check', help='make test on minimal Debian 12 and 13 roots')
	s.set_defaults(func=cmd_fresh_check)
	s.add_argument('--suites', default=','.join(FRESH_SUITES),
		       help='the roots, of %s' % ', '.join(FRESH_SUITES))
	s = sub.add_parser('parse', help='parse a saved console log')
	s.set_defaults(func=cmd_parse)
	s.add_argument('log')
	args = p.parse_args()
	# make's command-line variables (make test state.ARCH=arm64) reach every make
	# below through MAKEFLAGS; the harness sets what each build needs.
	for var in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL'):
		os.environ.pop(var, None)
	if args.arch != 'x86_64':
		if args.command not in ('test', 'kernel', 'run', 'shell', 'config', 'deps'):
			die('%s runs on the x86_64 guest only' % args.command)
		set_arch(args.arch)
	args.func(args)


if __name__ == '__main__':
	main()
