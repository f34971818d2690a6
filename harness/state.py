# SPDX-License-Identifier: GPL-2.0
"""The run's paths and its current selection, read by every layer.

Constants, fixed at start-up and importable by name: TOP, OUT ($MP2_OUT),
HARNESS, BASE (harness/base.py's stated base), APT_DIR, BASE_DIR, TARBALL,
PRISTINE, SRC, JOBS, and ARCHES (the guests: Arch).

The selection, which a verb changes while it runs (set_arch(), use_build(),
use_guest(), set_node_mem()): ARCH, GUEST, KBUILD, BZIMAGE, KSRC,
TOOLS_KBUILD and NODE_MEM_MB.  They are module attributes, always read as state.KBUILD and
never imported by name (a copy would not see the next use_build()), so a
change here is seen by config, build, guest and the verbs alike;
layout_test.py checks that no module imports them by name.

Imports base alone; imported by every module above it (deps and up).
"""

import os

import base

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.abspath(os.environ.get('MP2_OUT', os.path.join(TOP, 'out')))
HARNESS = os.path.join(TOP, 'harness')
BASE = base.Base()		# the series' base (MP2_BASE_VERSION overrides it)
APT_DIR = os.path.join(OUT, 'apt')	# apt's private sources, lists and cache
BASE_DIR = os.path.join(OUT, 'base')	# the base .deb, extracted (dpkg-deb -x)
TARBALL = os.path.join(BASE_DIR, BASE.tarball)
PRISTINE = os.path.join(OUT, 'pristine', BASE.tree)
SRC = os.path.join(OUT, 'src')
JOBS = str(os.cpu_count() or 2)


class Arch:
	"""What differs between the guests: the kernel's ARCH and image, the
	compilers, the base config fragment, busybox and QEMU."""

	def __init__(self, name, karch, image, cross, console, base, busybox, compat):
		self.name = name
		self.make = [] if not cross else ['ARCH=' + karch, 'CROSS_COMPILE=' + cross]
		self.image = image		# the kernel make target, under arch/<karch>/boot
		self.karch = karch
		self.cc = cross + 'gcc'
		self.console = console
		self.base = os.path.join(HARNESS, 'configs', base)
		self.busybox = busybox
		self.compat = compat		# flags of a 32-bit build of the selftests


ARCHES = {
	'x86_64': Arch('x86_64', 'x86', 'bzImage', '', 'ttyS0', 'guest.config',
		       '/bin/busybox', '-m32'),
	# busybox-static:arm64, unpacked from Debian's archive by phase_deps()
	'arm64': Arch('arm64', 'arm64', 'Image', 'aarch64-linux-gnu-', 'ttyAMA0',
		      'guest-arm64.config', os.path.join(OUT, 'arm64', 'bin', 'busybox'), None),
}


# ---------------------------------------------------------------- the selection
# Read as state.X, changed only by the functions below.
ARCH = ARCHES['x86_64']
KSRC = SRC		# the tree the kernel is built from (use_build())
KBUILD = os.path.join(OUT, 'kbuild')
# The UAPI headers the guest tools are built against: the last patched
# build's (a pristine build installs no migrate_pages2.h; use_build()).
TOOLS_KBUILD = KBUILD
GUEST = os.path.join(OUT, 'guest')
BZIMAGE = os.path.join(KBUILD, 'arch', 'x86', 'boot', 'bzImage')
# The guest: 4 nodes with memory, node 3 without CPUs (a CXL-like tier),
# NODE_MEM_MB each ($MP2_NODE_MB overrides it; guest.py has the CPUs).
NODE_MEM_MB = int(os.environ.get('MP2_NODE_MB', '1024'))


def arch_suffix():
	"""Console logs of another guest than x86_64's go apart: out/test-arm64.log."""
	return '' if ARCH.name == 'x86_64' else '-' + ARCH.name


def log_suffix():
	"""Build logs of another build dir than out/kbuild go apart: out/build.log
	is make test's, out/build-kbuild-arm64.log the arm64 guest's."""
	name = os.path.basename(KBUILD)
	return '' if name == 'kbuild' else '-' + name


def set_arch(name):
	"""Build and boot another architecture's guest, in out/kbuild-<arch>
	and out/guest-<arch>."""
	global ARCH, GUEST
	ARCH = ARCHES[name]
	GUEST = os.path.join(OUT, 'guest-' + name)
	use_build('kbuild-' + name)


def use_build(name, tree=None):
	"""Build in out/<name> instead of out/kbuild (make stress's kernel),
	from tree (default: out/src, the patched tree)."""
	global KBUILD, BZIMAGE, KSRC, TOOLS_KBUILD
	KBUILD = os.path.join(OUT, name)
	BZIMAGE = os.path.join(KBUILD, 'arch', ARCH.karch, 'boot', ARCH.image)
	KSRC = tree or SRC
	if KSRC != PRISTINE:
		TOOLS_KBUILD = KBUILD


def use_guest(name):
	"""The initramfs, selftests and tools of this run in out/<name> (make
	mm-selftests' out/guest-mm) instead of out/guest."""
	global GUEST
	GUEST = os.path.join(OUT, name)


def set_node_mem(default_mb):
	"""Nodes of default_mb MiB for this run (the benchmarks'), unless
	$MP2_NODE_MB says otherwise."""
	global NODE_MEM_MB
	NODE_MEM_MB = int(os.environ.get('MP2_NODE_MB', str(default_mb)))
