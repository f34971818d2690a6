# SPDX-License-Identifier: GPL-2.0
"""The fresh-check verb: make test in minimal Debian 12 and 13 roots
(debootstrap minbase, chroot) with only the README's prerequisite line
installed, under out/fresh.

Imports base, deps, state, util; imported by mp2.py alone.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

import base
from deps import debian_mirror, phase_deps
from state import BASE, OUT, TOP
from util import die, log, mounts_under, read, run

FRESH = os.path.join(OUT, 'fresh')
# The README's line for a newcomer on a minimal system; make fresh-check
# runs exactly what it says, so the two cannot drift apart.
PREREQ = re.compile(r'^Before them, on a minimal Debian 12 or 13 \(as root or with sudo\): '
		    r'`apt-get install ([a-z0-9 .+-]+)`')


def readme_prereqs():
	for line in read(os.path.join(TOP, 'README.md'), 'r').splitlines():
		m = PREREQ.match(line)
		if m:
			return m.group(1).split()
	die('README.md has no prerequisite line (%s)' % PREREQ.pattern)


# The roots make fresh-check runs make test in: Debian 12 and Debian 13.
FRESH_SUITES = {'bookworm': 'Debian 12', 'trixie': 'Debian 13'}


def fresh_base(suite, mirror):
	"""out/fresh/minbase-<suite>.tar: a debootstrap minbase of suite, made
	once (debootstrap checks it with the host's archive keyring)."""
	tar = os.path.join(FRESH, 'minbase-%s.tar' % suite)
	if os.path.exists(tar):
		return tar
	tmp = os.path.join(FRESH, 'debootstrap-' + suite)
	shutil.rmtree(tmp, ignore_errors=True)
	os.makedirs(tmp)
	run(['debootstrap', '--variant=minbase', suite, tmp, mirror],
	    logfile=os.path.join(FRESH, 'debootstrap-%s.log' % suite))
	run(['tar', '-cf', tar + '.tmp', '-C', tmp, '.'])
	os.replace(tar + '.tmp', tar)
	shutil.rmtree(tmp)
	return tar


def fresh_sources(root, suite, mirror, security):
	"""The root's apt sources: its own suite, its updates and security, as
	a fresh install of that Debian has them."""
	keyring = next((k for k in base.KEYRINGS if os.path.exists(root + k)), base.KEYRINGS[0])
	return ('Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n'
		'Signed-By: %s\n\nTypes: deb\nURIs: %s\nSuites: %s-security\n'
		'Components: main\nSigned-By: %s\n' %
		(mirror, suite, suite, keyring, security, suite, keyring))


def fresh_run(suite, prereqs, mirror, tree):
	"""make test in a fresh root of suite; (exit status, base version got)."""
	name = FRESH_SUITES[suite]
	root = os.path.join(FRESH, 'root-' + suite)
	if mounts_under(root):
		die('something is still mounted under %s: %s' % (root, mounts_under(root)))
	shutil.rmtree(root, ignore_errors=True)
	tar = fresh_base(suite, mirror)
	os.makedirs(root)
	run(['tar', '-xf', tar, '-C', root])
	# The suite's own Debian sources (from the host's mirror), the resolver.
	for f in ('etc/apt/sources.list', 'etc/apt/sources.list.d/debian.sources'):
		if os.path.exists(os.path.join(root, f)):
			os.unlink(os.path.join(root, f))
	os.makedirs(os.path.join(root, 'etc/apt/sources.list.d'), exist_ok=True)
	with open(os.path.join(root, 'etc/apt/sources.list.d/debian.sources'), 'w') as f:
		f.write(fresh_sources(root, suite, mirror, debian_mirror('debian-security')))
	if os.path.exists('/etc/resolv.conf'):
		shutil.copyfile('/etc/resolv.conf', os.path.join(root, 'etc/resolv.conf'))
	for f in tree:
		dst = os.path.join(root, 'mp2', f)
		os.makedirs(os.path.dirname(dst), exist_ok=True)
		shutil.copy2(os.path.join(TOP, f), dst)
	log('minimal %s (%s) in %s, %d files of the working tree in /mp2' %
	    (name, suite, root, len(tree)))
	script = ('apt-get update -q && apt-get install -y -q --no-install-recommends %s && '
		  'cd /mp2 && make test' % ' '.join(prereqs))
	env = ['env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'CI=true',
	       'DEBIAN_FRONTEND=noninteractive', 'LANG=C.UTF-8']
	env += ['%s=%s' % (k, os.environ[k]) for k in ('MP2_BASE_VERSION', 'MP2_BASE_PACKAGE')
		if os.environ.get(k)]
	binds = [('proc', 'proc', ['-t', 'proc']), ('sys', 'sys', ['-t', 'sysfs']),
		 ('/dev', 'dev', ['--bind']), ('devpts', 'dev/pts', ['-t', 'devpts'])]
	mounted = []
	try:
		for what, where, how in binds:
			run(['mount'] + how + [what, os.path.join(root, where)])
			mounted.append(os.path.join(root, where))
		log('$ chroot %s sh -c %s' % (root, shlex.quote(script)))
		rc = subprocess.call(['chroot', root] + env + ['sh', '-c', script])
	finally:
		for m in reversed(mounted):
			subprocess.call(['umount', '-l', m])
	stamp = os.path.join(root, 'mp2', 'out', 'base', '.version')
	got = read(stamp, 'r').strip() if os.path.exists(stamp) else 'none'
	return rc, got


def cmd_fresh_check(args):
	"""make test on a minimal Debian 12 and a minimal Debian 13 (debootstrap
	minbase), each with nothing but the README's prerequisite line
	installed: a missing install step fails here, not on a newcomer's
	machine.  The closing lines say which base version each root got."""
	if os.geteuid() != 0:
		die('fresh-check needs root (debootstrap, chroot, mount)')
	suites = args.suites.split(',')
	unknown = [s for s in suites if s not in FRESH_SUITES]
	if unknown:
		die('fresh-check: no such root %s (%s)' % (', '.join(unknown), ', '.join(FRESH_SUITES)))
	phase_deps('fresh')
	prereqs = readme_prereqs()
	mirror = debian_mirror()
	tree = subprocess.run(['git', '-C', TOP, 'ls-files', '-co', '--exclude-standard', '-z'],
			      capture_output=True, text=True, check=True).stdout.split('\0')
	tree = [f for f in tree if f and os.path.isfile(os.path.join(TOP, f))]
	done = []
	for suite in suites:
		rc, got = fresh_run(suite, prereqs, mirror, tree)
		done.append((suite, rc, got))
		log('fresh-check: %s (%s): make test exited %d, on %s %s' %
		    (FRESH_SUITES[suite], suite, rc, BASE.package, got))
	for suite, rc, got in done:
		log('fresh-check: make test on a minimal %s (%s) with `apt-get install %s`: '
		    '%s, %s %s%s' % (FRESH_SUITES[suite], suite, ' '.join(prereqs),
				     'passed' if rc == 0 else 'exit %d' % rc, BASE.package, got,
				     '' if got == BASE.version else ' (stated: %s)' % BASE.version))
	sys.exit(max(rc for _, rc, _ in done))
