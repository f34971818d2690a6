# SPDX-License-Identifier: GPL-2.0
"""Phase build: the kernel of the current selection (phase_build(), and
kernel(): deps, prepare, config and build in turn), the guest's selftests
(build_selftests()) and static tools (build_tools()), and the initramfs
that carries them (make_initramfs(), from a gen_init_cpio text spec).

Imports config, deps, tree, state, util; imported by mm_selftests, mainline,
verbs_run and verbs_bench.
"""

import glob
import os
import subprocess

import state
from config import kmake, phase_config
from deps import phase_deps
from state import HARNESS, JOBS, log_suffix, OUT, SRC, TOP
from tree import OVERLAY_DIRS, phase_prepare
from util import die, log, read, run


def phase_build():
	"""Incremental kernel build and the UAPI headers for the selftests."""
	blog = os.path.join(OUT, 'build%s.log' % log_suffix())
	run(kmake('-j' + JOBS, state.ARCH.image), logfile=blog)
	warnings = [l for l in read(blog, 'r').splitlines()
		    if 'warning:' in l and any(('/%s/' % d) in l or l.startswith(d + '/')
					       for d in OVERLAY_DIRS)]
	for w in warnings:
		log('build ' + w)
	run(kmake('headers_install'),
	    logfile=os.path.join(OUT, 'headers%s.log' % log_suffix()))
	log('kernel: %s' % state.BZIMAGE)


# (suite, its programs to build (None: all of them), compiler, guest folder).
# The migrate selftests also run as i386 programs in the x86_64 guest: a
# 32-bit caller reaches migrate_pages2() through the compat system call
# table (IA32_EMULATION), with the same pairs, statistics, errnos and pidfds.
COMPAT_PROGRAMS = ['migrate_pages2_errors', 'migrate_pages2_test']


def selftests():
	"""The guest's selftest suites: (suite, its programs to build (None: all
	of them), extra compiler flags, guest folder)."""
	suites = [('migrate', None, '', 'migrate'), ('mm', ['migration'], '', 'mm')]
	if state.ARCH.compat:
		suites.append(('migrate', COMPAT_PROGRAMS, state.ARCH.compat, 'migrate32'))
	return suites


def build_selftests():
	"""Static selftest binaries for the guest; returns [(guest path, host path)]."""
	files = []
	inc = '-isystem ' + os.path.join(state.KBUILD, 'usr', 'include')
	for suite, only, flags, folder in selftests():
		sdir = os.path.join(SRC, 'tools', 'testing', 'selftests', suite)
		if not os.path.isdir(sdir):
			continue
		odir = os.path.join(state.GUEST, 'kselftest', folder)
		os.makedirs(odir, exist_ok=True)
		targets = [os.path.join(odir, n) for n in only] if only else ['all']
		cc = ' '.join([state.ARCH.cc, '-static'] + ([flags] if flags else []))
		run(['make', '-C', sdir, 'OUTPUT=' + odir, 'CC=' + cc,
		     'KHDR_INCLUDES=' + inc, '-j' + JOBS] + state.ARCH.make + targets,
		    logfile=os.path.join(OUT, 'selftests-%s.log' % folder))
		names = only or selftest_programs(sdir)
		for n in names:
			files.append(('/kselftest/%s/%s' % (folder, n), os.path.join(odir, n)))
	return files


def selftest_programs(sdir):
	"""TEST_GEN_PROGS of a selftest directory, as its Makefile lists them."""
	r = subprocess.run(['make', '-s', '-C', sdir, '-f', 'Makefile', '-f', '-',
			    'mp2-print-progs'],
			   input='mp2-print-progs:\n\t@echo $(notdir $(TEST_GEN_PROGS))\n',
			   capture_output=True, text=True)
	return r.stdout.split()


# Static programs every guest gets in /bin: the admin tool, the demo job,
# the benchmark and the migrate_pages(2) scenarios (mainline.py).
GUEST_TOOLS = [('migrate-pages', 'tools/mm/migrate-pages.c'),
	       ('mp2-demo-job', 'harness/guest/demo-job.c'),
	       ('mp2-bench', 'harness/bench/mp2-bench.c'),
	       ('mp2-lazy-bench', 'harness/bench/mp2-lazy-bench.c'),
	       ('mp2-mainline-diff', 'harness/guest/mainline-diff.c')]


def build_tools():
	"""The guest's static tools, built against the patched kernel's
	installed UAPI headers (phase_build()'s headers_install): they take the
	system call number from there, never from a fallback define.  A
	pristine kernel's guest gets the same binaries (it has no such headers;
	there they run mainline calls only, or fail with ENOSYS)."""
	files = []
	bindir = os.path.join(state.GUEST, 'bin')
	os.makedirs(bindir, exist_ok=True)
	hdrs = os.path.join(state.TOOLS_KBUILD, 'usr', 'include')
	if not os.path.exists(os.path.join(hdrs, 'linux', 'migrate_pages2.h')):
		die('no patched kernel headers in %s for the guest tools: build the '
		    'patched kernel first' % hdrs)
	deps = [os.path.join(hdrs, 'linux', 'migrate_pages2.h')] + \
		glob.glob(os.path.join(hdrs, 'asm', 'unistd*.h'))
	# The benchmarks' shared header (harness/bench/bench.h) and the like.
	local = {src: glob.glob(os.path.join(TOP, os.path.dirname(src), '*.h'))
		 for _, src in GUEST_TOOLS}
	for name, src in GUEST_TOOLS:
		out = os.path.join(bindir, name)
		srcpath = os.path.join(TOP, src)
		if not os.path.exists(out) or any(os.path.getmtime(out) < os.path.getmtime(d)
						  for d in [srcpath] + local[src] + deps):
			run([state.ARCH.cc, '-static', '-pthread', '-O2', '-Wall', '-Wextra', '-Werror',
			     '-isystem', hdrs, '-o', out, srcpath])
		files.append(('/bin/' + name, out))
	return files


def gen_init_cpio():
	tool = os.path.join(OUT, 'gen_init_cpio')
	srcf = os.path.join(SRC, 'usr', 'gen_init_cpio.c')
	if not os.path.exists(tool) or os.path.getmtime(tool) < os.path.getmtime(srcf):
		run(['gcc', '-O2', '-o', tool, srcf])
	return tool


def make_initramfs(name, cmd, files):
	"""A cpio from a text spec: busybox, /init, the command, the guest
	tools and files."""
	os.makedirs(state.GUEST, exist_ok=True)
	files = build_tools() + list(files)
	cmdfile = os.path.join(state.GUEST, name + '.cmd')
	with open(cmdfile, 'w') as f:
		f.write(cmd + '\n')
	spec = ['dir /dev 755 0 0', 'nod /dev/console 600 0 0 c 5 1',
		'dir /proc 755 0 0', 'dir /sys 755 0 0', 'dir /tmp 1777 0 0',
		'dir /bin 755 0 0', 'dir /etc 755 0 0', 'dir /root 700 0 0',
		'dir /kselftest 755 0 0',
		'file /bin/busybox %s 755 0 0' % state.ARCH.busybox,
		'file /init %s/guest/init 755 0 0' % HARNESS,
		'file /bin/mp2-run-tests %s/guest/run-tests 755 0 0' % HARNESS,
		'file /etc/passwd %s/guest/passwd 644 0 0' % HARNESS,
		'file /etc/mp2.cmd %s 644 0 0' % cmdfile]
	dirs = set()
	for gpath, hpath in files:
		d = os.path.dirname(gpath)
		while d not in ('/', '', '/bin', '/kselftest') and d not in dirs:
			dirs.add(d)
			d = os.path.dirname(d)
	# A parent before its children: sorted paths put /a before /a/b.
	spec += ['dir %s 755 0 0' % d for d in sorted(dirs)]
	spec += ['file %s %s 755 0 0' % f for f in files]
	specfile = os.path.join(state.GUEST, name + '.spec')
	with open(specfile, 'w') as f:
		f.write('\n'.join(spec) + '\n')
	cpio = os.path.join(state.GUEST, name + '.cpio')
	with open(cpio, 'wb') as f:
		r = subprocess.run([gen_init_cpio(), specfile], stdout=f)
	if r.returncode:
		die('gen_init_cpio failed on %s' % specfile)
	return cpio


def kernel(extra=(), base=None):
	phase_deps()
	if state.ARCH.name != 'x86_64':
		phase_deps(state.ARCH.name)
	phase_prepare()
	phase_config(extra, base)
	phase_build()
