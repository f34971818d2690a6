# SPDX-License-Identifier: GPL-2.0
"""Phase config: make test's fragments (fragments()) merged onto
tinyconfig in the current build dir, then validated option by option:
every requested option must survive olddefconfig, else it is named
(phase_config()).  kmake() is make on the current tree and build dir.

Imports deps, state, util; imported by build, mm_selftests, mainline,
verbs_bench, verbs_series and mp2.py.
"""

import hashlib
import os
import re
import subprocess

import state
from deps import debian_version
from state import HARNESS, log_suffix, OUT, TOP
from util import die, log, read, run


def fragments():
	"""make test's config: the guest's base, the test options (those of
	every architecture, then this one's) and the migrate selftests' own."""
	return [state.ARCH.base, os.path.join(HARNESS, 'configs', 'test.config'),
		os.path.join(HARNESS, 'configs', 'test-%s.config' % state.ARCH.name),
		os.path.join(TOP, 'tools', 'testing', 'selftests', 'migrate', 'config')]


def kmake(*args):
	"""make on the kernel tree being built, for the guest's architecture."""
	return ['make', '-C', state.KSRC, 'O=' + state.KBUILD] + state.ARCH.make + list(args)


def parse_config(text):
	"""{CONFIG_X: value} of a .config or fragment; 'n' for "is not set"."""
	opts = {}
	for line in text.splitlines():
		m = re.match(r'^(CONFIG_\w+)=(.*)$', line)
		if m:
			opts[m.group(1)] = m.group(2)
			continue
		m = re.match(r'^# (CONFIG_\w+) is not set$', line)
		if m:
			opts[m.group(1)] = 'n'
	return opts


def kconfig_defines(tree, option):
	"""Does some Kconfig file of tree define option (CONFIG_X)?"""
	r = subprocess.run(['grep', '-rqx', '--include=Kconfig*', 'config ' + option[7:],
			    os.path.join(tree, 'mm'), os.path.join(tree, 'lib'),
			    os.path.join(tree, 'init'), os.path.join(tree, 'arch'),
			    os.path.join(tree, 'kernel')])
	return r.returncode == 0


def phase_config(extra=(), base=None, lenient=False):
	"""tinyconfig + fragments, then check every requested option survived.
	lenient: an option the tree does not define yet (a step of the series
	before the patch that adds it) may be dropped."""
	frags = [f for f in (base or fragments()) if os.path.exists(f)] + list(extra)
	text = ''.join(read(f, 'r') for f in frags)
	digest = hashlib.sha256((text + debian_version()).encode()).hexdigest()
	stamp = os.path.join(state.KBUILD, '.mp2-config')
	dotconfig = os.path.join(state.KBUILD, '.config')
	clog = os.path.join(OUT, 'config%s.log' % log_suffix())
	# Lenient (a step of the series): always from the fragments, since an
	# earlier step's olddefconfig dropped the options it did not know.
	fresh = lenient or not (os.path.exists(stamp) and read(stamp, 'r') == digest and
				os.path.exists(dotconfig))
	if fresh:
		os.makedirs(state.KBUILD, exist_ok=True)
		run(kmake('tinyconfig'), logfile=clog)
		with open(dotconfig, 'a') as f:
			f.write(text)
	# Always: a patched Kconfig may have brought new symbols.
	run(kmake('olddefconfig'), logfile=clog)
	want = parse_config(text)
	got = parse_config(read(dotconfig, 'r'))
	lost = [k for k, v in want.items() if got.get(k, 'n') != v]
	unknown = [k for k in lost if lenient and not kconfig_defines(state.KSRC, k)]
	dropped = ['%s=%s (got %s)' % (k, want[k], got.get(k, 'n'))
		   for k in lost if k not in unknown]
	if dropped:
		die('config options dropped by olddefconfig (missing dependencies?):\n  ' +
		    '\n  '.join(dropped))
	with open(stamp, 'w') as f:
		f.write(digest)
	if fresh:
		log('config: %d fragment options, all kept%s' %
		    (len(want), ' but %s (not in this tree yet)' % ', '.join(unknown)
		     if unknown else ''))
