#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
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
import collections
import glob
import hashlib
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import base
import bench
import ktap
import mm_selftests
import series

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.abspath(os.environ.get('MP2_OUT', os.path.join(TOP, 'out')))
HARNESS = os.path.join(TOP, 'harness')
BASE = base.Base()		# the series' base (MP2_BASE_VERSION overrides it)
APT_DIR = os.path.join(OUT, 'apt')	# apt's private sources, lists and cache
BASE_DIR = os.path.join(OUT, 'base')	# the base .deb, extracted (dpkg-deb -x)
TARBALL = os.path.join(BASE_DIR, BASE.tarball)
PRISTINE = os.path.join(OUT, 'pristine', BASE.tree)
SRC = os.path.join(OUT, 'src')
KSRC = SRC		# the tree the kernel is built from (use_build())
KBUILD = os.path.join(OUT, 'kbuild')
# The UAPI headers the guest tools are built against: the last patched
# build's (a pristine build installs no migrate_pages2.h; use_build()).
TOOLS_KBUILD = KBUILD
GUEST = os.path.join(OUT, 'guest')
BZIMAGE = os.path.join(KBUILD, 'arch', 'x86', 'boot', 'bzImage')
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
ARCH = ARCHES['x86_64']

# Top-level folders of the repository that hold new kernel files at their
# kernel paths; they are copied over the pristine tree.
OVERLAY_DIRS = ('mm', 'include', 'tools', 'Documentation')

# What each kind of run installs: Debian package -> the programs of it that
# the harness or the kernel build calls (checked after the install, so a
# missing one stops the run before a 7-minute build, naming it).  A
# minimal Debian 12 or 13 (debootstrap --variant=minbase) has none of these.
# The base's source package is not installed: fetch_base() downloads it.
PACKAGES = {
	'test': {
		'busybox-static': [],
		'qemu-system-x86': ['qemu-system-x86_64'],
		'gcc': ['gcc'], 'libc6-dev': [], 'make': ['make'], 'flex': ['flex'], 'bison': ['bison'],
		'bc': ['bc'], 'libelf-dev': [], 'libssl-dev': [], 'cpio': ['cpio'],
		'xz-utils': ['xz'], 'patch': ['patch'], 'perl': ['perl'], 'git': ['git'],
		'libnuma-dev': [], 'rsync': ['rsync'], 'gcc-multilib': [],
	},
	'bench': {'gnuplot-nox': ['gnuplot']},
	'fresh': {'debootstrap': ['debootstrap']},
	'series': {'sparse': ['sparse']},
	# libnuma-dev:arm64 for mm's migration selftest, from the arm64 archive
	'arm64': {'gcc-aarch64-linux-gnu': ['aarch64-linux-gnu-gcc'],
		  'libc6-dev-arm64-cross': [], 'qemu-system-arm': ['qemu-system-aarch64'],
		  'libnuma-dev:arm64': []},
}
# Files of those packages that are not programs but that the run needs.
NEEDED_FILES = {
	'test': ['/bin/busybox',
		 '/usr/share/qemu/qboot.rom', '/usr/include/libelf.h',
		 '/usr/include/openssl/ssl.h', '/usr/include/numa.h',
		 '/usr/lib/x86_64-linux-gnu/libc.a', '/usr/lib32/libc.a'],
}

def fragments():
	"""make test's config: the guest's base, the test options (those of
	every architecture, then this one's) and the migrate selftests' own."""
	return [ARCH.base, os.path.join(HARNESS, 'configs', 'test.config'),
		os.path.join(HARNESS, 'configs', 'test-%s.config' % ARCH.name),
		os.path.join(TOP, 'tools', 'testing', 'selftests', 'migrate', 'config')]


def expected_skips():
	"""The skips make test accepts: everywhere, and on this architecture."""
	skips = ktap.load_expected_skips(os.path.join(HARNESS, 'expected-skips'))
	skips.update(ktap.load_expected_skips(os.path.join(HARNESS,
							   'expected-skips-' + ARCH.name)))
	return skips

# The guest: 4 nodes with memory, node 3 without CPUs (a CXL-like tier).
NODE_MEM_MB = int(os.environ.get('MP2_NODE_MB', '1024'))
NODE_CPUS = ['0', '1', '2-3', None]
CMDLINE = 'panic=-1 loglevel=7 transparent_hugepage=madvise'

T0 = time.monotonic()


def log(msg):
	"""One timestamped line per phase or event, like kunit.py."""
	print('[%7.1fs] %s' % (time.monotonic() - T0, msg), flush=True)


def die(msg):
	log('error: ' + msg)
	sys.exit(2)


def run(cmd, quiet=False, logfile=None, **kw):
	"""Run an external command, printed once; output to logfile if given."""
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	if logfile:
		with open(logfile, 'w') as f:
			r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, **kw)
		if r.returncode:
			with open(logfile) as f:
				sys.stdout.write(''.join(f.readlines()[-40:]))
			die('%s failed (exit %d), full log: %s' % (cmd[0], r.returncode, logfile))
		return r
	if quiet:
		kw.setdefault('stdout', subprocess.DEVNULL)
	r = subprocess.run(cmd, **kw)
	if r.returncode:
		die('%s failed (exit %d)' % (cmd[0], r.returncode))
	return r


# ---------------------------------------------------------------- deps
def arch_suffix():
	"""Console logs of another guest than x86_64's go apart: out/test-arm64.log."""
	return '' if ARCH.name == 'x86_64' else '-' + ARCH.name


def log_suffix():
	"""Build logs of another build dir than out/kbuild go apart: out/build.log
	is make test's, out/build-kbuild-arm64.log the arm64 guest's."""
	name = os.path.basename(KBUILD)
	return '' if name == 'kbuild' else '-' + name


def kmake(*args):
	"""make on the kernel tree being built, for the guest's architecture."""
	return ['make', '-C', KSRC, 'O=' + KBUILD] + ARCH.make + list(args)


def apt(args):
	sudo = [] if os.geteuid() == 0 else ['sudo']
	if sudo and not shutil.which('sudo'):
		die('need root or sudo to run apt-get %s' % ' '.join(args))
	env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
	run(sudo + ['apt-get'] + args, quiet=True, env=env)


def foreign_arch(arch):
	"""Let apt take packages of arch from Debian's archive (multiarch)."""
	foreign = subprocess.run(['dpkg', '--print-foreign-architectures'],
				 capture_output=True, text=True).stdout.split()
	if arch not in foreign:
		run(([] if os.geteuid() == 0 else ['sudo']) + ['dpkg', '--add-architecture', arch])
		apt(['update', '-q'])


def arm64_busybox():
	"""busybox-static for arm64, unpacked from Debian's archive into out/arm64
	(not installed: it would replace the host's /bin/busybox)."""
	if os.path.exists(ARCHES['arm64'].busybox):
		return
	with tempfile.TemporaryDirectory() as tmp:
		os.chmod(tmp, 0o755)
		run(['apt-get', 'download', '-q', 'busybox-static:arm64'], quiet=True, cwd=tmp)
		deb = [n for n in os.listdir(tmp) if n.endswith('.deb')]
		if not deb:
			die('apt-get download busybox-static:arm64 fetched nothing')
		run(['dpkg-deb', '-x', os.path.join(tmp, deb[0]), os.path.join(OUT, 'arm64')])


def phase_deps(kind='test'):
	"""Install the Debian packages a phase needs, if any is missing, then
	check that every program and file the phase uses is there.  The test
	kind first finds its base in the archive (in seconds: no base, no
	install) and ends by fetching it."""
	if kind == 'test':
		base_version()
	if kind == 'arm64':
		foreign_arch('arm64')
	want = list(PACKAGES[kind])
	q = subprocess.run(['dpkg-query', '-W', '-f=${Package} ${Architecture} ${Status}\n'] + want,
			   capture_output=True, text=True)
	have = set()
	for l in q.stdout.splitlines():
		if l.endswith(' installed'):
			name, arch = l.split()[:2]
			have.update((name, '%s:%s' % (name, arch)))
	missing = [p for p in want if p not in have]
	if missing:
		apt(['update', '-q'])
		apt(['install', '-y', '-q', '--no-install-recommends'] + missing)
	if kind == 'arm64':
		arm64_busybox()
	absent = ['%s (package %s)' % (prog, pkg) for pkg, progs in PACKAGES[kind].items()
		  for prog in progs if not shutil.which(prog)]
	absent += [f for f in NEEDED_FILES.get(kind, []) if not os.path.exists(f)]
	if kind == 'arm64' and not os.path.exists(ARCHES['arm64'].busybox):
		absent.append(ARCHES['arm64'].busybox)
	if absent:
		die('still missing after the install: ' + ', '.join(absent))
	if kind == 'test':
		fetch_base(base_version())


# ---------------------------------------------------------------- the base
def apt_private():
	"""apt-get and apt-cache options for the base's suite alone: a private
	sources list, lists and cache under out/apt; the machine's sources,
	pinning and state are not read or changed (dpkg's status is read)."""
	for d in ('lists/partial', 'cache/archives/partial', 'sources.list.d',
		  'preferences.d'):
		os.makedirs(os.path.join(APT_DIR, d), exist_ok=True)
	keyring = next((k for k in base.KEYRINGS if os.path.exists(k)), base.KEYRINGS[0])
	write_if_changed(os.path.join(APT_DIR, 'sources.list'),
			 base.sources_line(debian_mirror(), BASE.suite, keyring).encode())
	opts = {'Dir::Etc::SourceList': os.path.join(APT_DIR, 'sources.list'),
		'Dir::Etc::SourceParts': os.path.join(APT_DIR, 'sources.list.d'),
		'Dir::Etc::Preferences': os.path.join(APT_DIR, 'preferences'),
		'Dir::Etc::PreferencesParts': os.path.join(APT_DIR, 'preferences.d'),
		'Dir::State::Lists': os.path.join(APT_DIR, 'lists'),
		'Dir::Cache': os.path.join(APT_DIR, 'cache'),
		'Dir::State::status': '/var/lib/dpkg/status',
		'Acquire::Languages': 'none'}
	return [a for k, v in opts.items() for a in ('-o', '%s=%s' % (k, v))]


def base_stamp():
	"""The version of the base .deb extracted in out/base, if any."""
	stamp = os.path.join(BASE_DIR, '.version')
	if os.path.exists(stamp) and os.path.exists(TARBALL):
		return read(stamp, 'r').strip()
	return None


_SERVED = []


def base_version():
	"""The base version to build: the stated one if out/ has it or the
	archive serves it; else, after one line saying so, the one the archive
	serves.  Stops within seconds if the archive has no base package."""
	if _SERVED:
		return _SERVED[0]
	cached = base_stamp()
	if cached == BASE.version:
		_SERVED.append(cached)
		return cached
	where = '%s %s' % (debian_mirror(), BASE.suite)
	opts = apt_private()
	ulog = os.path.join(APT_DIR, 'update.log')
	ok, lines = try_run(['apt-get'] + opts + ['-q', 'update'], ulog)
	lists = [n for n in os.listdir(os.path.join(APT_DIR, 'lists'))
		 if '_dists_%s_' % BASE.suite in n and '_Packages' in n]
	if not ok or not lists:
		errors = [l for l in lines if l.startswith(('E:', 'W:', 'Err:'))]
		if cached:
			log('cannot read %s (%s); using out/base\'s %s' %
			    (where, errors[-1] if errors else 'no index', cached))
			served = cached
		elif any('Release file' in l or '404' in l for l in errors):
			die(base.absent(BASE, where, errors[-1]))
		else:
			die('cannot read the index of %s (see %s):\n  %s' %
			    (where, ulog, '\n  '.join(errors[-5:] or lines[-5:])))
	else:
		q = subprocess.run(['apt-cache'] + opts + ['madison', BASE.package],
				   capture_output=True, text=True)
		versions = base.madison_versions(q.stdout, BASE.package)
		if not versions:
			die(base.absent(BASE, where))
		served = BASE.version if BASE.version in versions else versions[0]
	if served != BASE.version:
		log(base.mismatch(BASE, served))
	_SERVED.append(served)
	return served


def fetch_base(version):
	"""out/base: the base .deb of version, downloaded and extracted once."""
	if base_stamp() == version:
		return
	ddir = os.path.join(APT_DIR, 'download')
	shutil.rmtree(ddir, ignore_errors=True)
	os.makedirs(ddir)
	if os.geteuid() == 0:
		# apt downloads as _apt where it can write
		try:
			os.chown(ddir, pwd.getpwnam('_apt').pw_uid, -1)
		except (KeyError, OSError):
			pass
	run(['apt-get'] + apt_private() + ['-q', 'download', '%s=%s' % (BASE.package, version)],
	    logfile=os.path.join(APT_DIR, 'download.log'), cwd=ddir)
	debs = [n for n in os.listdir(ddir) if n.endswith('.deb')]
	if len(debs) != 1:
		die('apt-get download %s=%s fetched %s' % (BASE.package, version, debs or 'nothing'))
	deb = os.path.join(ddir, debs[0])
	got = subprocess.run(['dpkg-deb', '-f', deb, 'Version'], capture_output=True,
			     text=True).stdout.strip()
	if got != version:
		die('%s is version %r, not %s' % (deb, got, version))
	shutil.rmtree(BASE_DIR, ignore_errors=True)
	run(['dpkg-deb', '-x', deb, BASE_DIR])
	if not os.path.exists(TARBALL):
		die('%s has no %s' % (deb, BASE.tarball))
	with open(os.path.join(BASE_DIR, '.version'), 'w') as f:
		f.write(version + '\n')
	shutil.rmtree(ddir)


def debian_version():
	"""The Debian version of the base in out/base: the .deb fetched."""
	version = base_version()
	fetch_base(version)
	return version


# ---------------------------------------------------------------- prepare
def read(path, mode='rb'):
	with open(path, mode) as f:
		return f.read()


def write_if_changed(path, data):
	"""Replace path by data unless it already holds it.  The file is
	replaced, not written in place, so hard links to the pristine tree are
	broken and timestamps move only when the content does."""
	if os.path.exists(path) and read(path) == data:
		return False
	os.makedirs(os.path.dirname(path), exist_ok=True)
	tmp = path + '.mp2-tmp'
	with open(tmp, 'wb') as f:
		f.write(data)
	os.replace(tmp, path)
	return True


def overlay_files():
	"""Repository files that go into the kernel tree, by kernel path."""
	files = []
	for d in OVERLAY_DIRS:
		for root, _, names in os.walk(os.path.join(TOP, d)):
			for n in names:
				files.append(os.path.relpath(os.path.join(root, n), TOP))
	return sorted(files)


def patched_files(patches, base_dir):
	"""Apply patches in order to copies of the files they touch, taken from
	base_dir; return {kernel path: new content}."""
	result = {}
	with tempfile.TemporaryDirectory() as tmp:
		for p in patches:
			for f in series.patch_targets(p):
				dst = os.path.join(tmp, f)
				if not os.path.exists(dst) and os.path.exists(os.path.join(base_dir, f)):
					os.makedirs(os.path.dirname(dst), exist_ok=True)
					shutil.copyfile(os.path.join(base_dir, f), dst)
			failed = series.apply(p, tmp)
			if failed:
				die(base.patch_failure(BASE, debian_version(),
						       os.path.relpath(p, TOP), failed))
			for f in series.patch_targets(p):
				result[f] = None
		for f in result:
			result[f] = read(os.path.join(tmp, f))
	return result


def extract_pristine():
	"""out/pristine: the Debian tarball, extracted once per Debian version."""
	version = debian_version()
	stamp = os.path.join(OUT, 'pristine', '.version')
	if not os.path.exists(stamp) or read(stamp, 'r') != version:
		log('extracting %s (Debian %s)' % (TARBALL, version))
		shutil.rmtree(os.path.join(OUT, 'pristine'), ignore_errors=True)
		# Every hard-linked copy of the old tree, and every build of it:
		# tar keeps the tarball's file times, older than the objects, so
		# make would not rebuild a file the new version changed.
		for d in ([SRC, os.path.join(OUT, 'src-series')] +
			  glob.glob(os.path.join(OUT, 'kbuild*'))):
			shutil.rmtree(d, ignore_errors=True)
		for m in glob.glob(os.path.join(OUT, 'src*.manifest')):
			os.unlink(m)
		os.makedirs(os.path.join(OUT, 'pristine'))
		run(['tar', '-xJf', TARBALL, '-C', os.path.join(OUT, 'pristine')])
		with open(stamp, 'w') as f:
			f.write(version)
	return version


def sync_tree(src, want, manifest):
	"""Make src (a hard-linked copy of the pristine tree) hold want, {kernel
	path: content}, over the pristine files; files a previous sync changed
	and want no longer has go back to pristine.  Returns the paths changed."""
	if not os.path.isdir(src):
		run(['cp', '-al', PRISTINE, src])
	before = read(manifest, 'r').split() if os.path.exists(manifest) else []
	changed = []
	for f in before:
		if f in want:
			continue
		orig = os.path.join(PRISTINE, f)
		if os.path.exists(orig):
			write_if_changed(os.path.join(src, f), read(orig))
		elif os.path.exists(os.path.join(src, f)):
			os.unlink(os.path.join(src, f))
		changed.append(f)
	for f, data in sorted(want.items()):
		if write_if_changed(os.path.join(src, f), data):
			changed.append(f)
	with open(manifest, 'w') as f:
		f.write('\n'.join(sorted(want)) + '\n')
	return changed


def series_files(commits):
	"""{kernel path: content} of a prefix of the series: the new files of
	those commits and the upstream files their patches change."""
	want = {f: read(os.path.join(TOP, f)) for c in commits for f in c.files}
	want.update(patched_files([p for c in commits for p in c.patches], PRISTINE))
	return want


def phase_prepare():
	"""out/src = pristine tarball + the project's files + its patches."""
	version = extract_pristine()
	want = {f: read(os.path.join(TOP, f)) for f in overlay_files()}
	want.update(patched_files(series.load(TOP).patches(), PRISTINE))
	changed = sync_tree(SRC, want, os.path.join(OUT, 'src.manifest'))
	log('sources: %s %s + %d project files, %d changed' %
	    (BASE.package, version, len(want), len(changed)))


# ---------------------------------------------------------------- config
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
	stamp = os.path.join(KBUILD, '.mp2-config')
	dotconfig = os.path.join(KBUILD, '.config')
	clog = os.path.join(OUT, 'config%s.log' % log_suffix())
	# Lenient (a step of the series): always from the fragments, since an
	# earlier step's olddefconfig dropped the options it did not know.
	fresh = lenient or not (os.path.exists(stamp) and read(stamp, 'r') == digest and
				os.path.exists(dotconfig))
	if fresh:
		os.makedirs(KBUILD, exist_ok=True)
		run(kmake('tinyconfig'), logfile=clog)
		with open(dotconfig, 'a') as f:
			f.write(text)
	# Always: a patched Kconfig may have brought new symbols.
	run(kmake('olddefconfig'), logfile=clog)
	want = parse_config(text)
	got = parse_config(read(dotconfig, 'r'))
	lost = [k for k, v in want.items() if got.get(k, 'n') != v]
	unknown = [k for k in lost if lenient and not kconfig_defines(KSRC, k)]
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


# ---------------------------------------------------------------- build
def phase_build():
	"""Incremental kernel build and the UAPI headers for the selftests."""
	blog = os.path.join(OUT, 'build%s.log' % log_suffix())
	run(kmake('-j' + JOBS, ARCH.image), logfile=blog)
	warnings = [l for l in read(blog, 'r').splitlines()
		    if 'warning:' in l and any(('/%s/' % d) in l or l.startswith(d + '/')
					       for d in OVERLAY_DIRS)]
	for w in warnings:
		log('build ' + w)
	run(kmake('headers_install'),
	    logfile=os.path.join(OUT, 'headers%s.log' % log_suffix()))
	log('kernel: %s' % BZIMAGE)


# ---------------------------------------------------------------- guest
# (suite, its programs to build (None: all of them), compiler, guest folder).
# The migrate selftests also run as i386 programs in the x86_64 guest: a
# 32-bit caller reaches migrate_pages2() through the compat system call
# table (IA32_EMULATION), with the same pairs, statistics, errnos and pidfds.
COMPAT_PROGRAMS = ['migrate_pages2_errors', 'migrate_pages2_test']


def selftests():
	"""The guest's selftest suites: (suite, its programs to build (None: all
	of them), extra compiler flags, guest folder)."""
	suites = [('migrate', None, '', 'migrate'), ('mm', ['migration'], '', 'mm')]
	if ARCH.compat:
		suites.append(('migrate', COMPAT_PROGRAMS, ARCH.compat, 'migrate32'))
	return suites


def build_selftests():
	"""Static selftest binaries for the guest; returns [(guest path, host path)]."""
	files = []
	inc = '-isystem ' + os.path.join(KBUILD, 'usr', 'include')
	for suite, only, flags, folder in selftests():
		sdir = os.path.join(SRC, 'tools', 'testing', 'selftests', suite)
		if not os.path.isdir(sdir):
			continue
		odir = os.path.join(GUEST, 'kselftest', folder)
		os.makedirs(odir, exist_ok=True)
		targets = [os.path.join(odir, n) for n in only] if only else ['all']
		cc = ' '.join([ARCH.cc, '-static'] + ([flags] if flags else []))
		run(['make', '-C', sdir, 'OUTPUT=' + odir, 'CC=' + cc,
		     'KHDR_INCLUDES=' + inc, '-j' + JOBS] + ARCH.make + targets,
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


# Static programs every guest gets in /bin: the admin tool, the demo job and
# the benchmark.
GUEST_TOOLS = [('migrate-pages', 'tools/mm/migrate-pages.c'),
	       ('mp2-demo-job', 'harness/guest/demo-job.c'),
	       ('mp2-bench', 'harness/bench/mp2-bench.c')]


def build_tools():
	"""The guest's static tools, built against the patched kernel's
	installed UAPI headers (phase_build()'s headers_install): they take the
	system call number from there, never from a fallback define.  A
	pristine kernel's guest gets the same binaries (it has no such headers;
	there they run mainline calls only, or fail with ENOSYS)."""
	files = []
	bindir = os.path.join(GUEST, 'bin')
	os.makedirs(bindir, exist_ok=True)
	hdrs = os.path.join(TOOLS_KBUILD, 'usr', 'include')
	if not os.path.exists(os.path.join(hdrs, 'linux', 'migrate_pages2.h')):
		die('no patched kernel headers in %s for the guest tools: build the '
		    'patched kernel first' % hdrs)
	deps = [os.path.join(hdrs, 'linux', 'migrate_pages2.h')] + \
		glob.glob(os.path.join(hdrs, 'asm', 'unistd*.h'))
	for name, src in GUEST_TOOLS:
		out = os.path.join(bindir, name)
		srcpath = os.path.join(TOP, src)
		if not os.path.exists(out) or any(os.path.getmtime(out) < os.path.getmtime(d)
						  for d in [srcpath] + deps):
			run([ARCH.cc, '-static', '-pthread', '-O2', '-Wall', '-Wextra', '-Werror',
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
	os.makedirs(GUEST, exist_ok=True)
	files = build_tools() + list(files)
	cmdfile = os.path.join(GUEST, name + '.cmd')
	with open(cmdfile, 'w') as f:
		f.write(cmd + '\n')
	spec = ['dir /dev 755 0 0', 'nod /dev/console 600 0 0 c 5 1',
		'dir /proc 755 0 0', 'dir /sys 755 0 0', 'dir /tmp 1777 0 0',
		'dir /bin 755 0 0', 'dir /etc 755 0 0', 'dir /root 700 0 0',
		'dir /kselftest 755 0 0',
		'file /bin/busybox %s 755 0 0' % ARCH.busybox,
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
	specfile = os.path.join(GUEST, name + '.spec')
	with open(specfile, 'w') as f:
		f.write('\n'.join(spec) + '\n')
	cpio = os.path.join(GUEST, name + '.cpio')
	with open(cpio, 'wb') as f:
		r = subprocess.run([gen_init_cpio(), specfile], stdout=f)
	if r.returncode:
		die('gen_init_cpio failed on %s' % specfile)
	return cpio


# make profile's guest: one CPU, on node 0.  Turning the function profiler
# on patches every function's entry through int3 breakpoints, and with
# more than one vCPU under TCG that ended in an int3 oops (seen on the
# first and on a later switch).
ONE_CPU = ['0', None, None, None]


def qemu_cmd(cpio, interactive=False, node_cpus=None, prealloc=False):
	# One socket per CPU: cores of one socket share an LLC, and the
	# scheduler warns when LLC siblings sit on different nodes.
	node_cpus = node_cpus or NODE_CPUS
	ncpus = 1 if node_cpus == ONE_CPU else 4
	cmdline = 'console=%s %s' % (ARCH.console, CMDLINE)
	if ARCH.name == 'arm64':
		# The virt board, booted from the Image with a device tree; its
		# memory starts at 1 GiB.  pauth-impdef: a cheap pointer
		# authentication algorithm, the architected one is slow in TCG.
		cmd = ['qemu-system-aarch64', '-accel', 'tcg', '-machine', 'virt',
		       '-cpu', 'max,pauth-impdef=on', '-smp', str(ncpus)]
	else:
		cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max',
		       '-smp', '%d,sockets=%d,cores=1,threads=1' % (ncpus, ncpus),
		       '-bios', '/usr/share/qemu/qboot.rom', '-vga', 'none']
	cmd += ['-m', '%dM' % (4 * NODE_MEM_MB), '-kernel', BZIMAGE, '-initrd', cpio,
		'-append', cmdline, '-display', 'none', '-no-reboot', '-nodefaults']
	for n, cpus in enumerate(node_cpus):
		cmd += ['-object', 'memory-backend-ram,id=m%d,size=%dM%s' % (
			n, NODE_MEM_MB, ',prealloc=on' if prealloc else '')]
		numa = 'node,nodeid=%d,memdev=m%d' % (n, n)
		if cpus:
			numa += ',cpus=' + cpus
		cmd += ['-numa', numa]
	cmd += ['-serial', 'mon:stdio' if interactive else 'stdio']
	return cmd


def boot(cpio, logname, timeout, echo, node_cpus=None, prealloc=False):
	"""Boot the guest, stream its console to out/<logname> (and stdout if
	echo), return (lines, timed_out).  prealloc: the host backs all guest
	memory before the boot, so no sample pays for the host's first touch."""
	path = os.path.join(OUT, logname)
	cmd = qemu_cmd(cpio, node_cpus=node_cpus, prealloc=prealloc)
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	log('console: %s' % path)
	proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	timed_out = threading.Event()

	def watchdog():
		if _wait(proc, timeout) is None:
			timed_out.set()
			proc.kill()

	threading.Thread(target=watchdog, daemon=True).start()
	lines = []
	with open(path, 'w') as f:
		for raw in proc.stdout:
			line = raw.decode('utf-8', 'replace').rstrip('\r\n').replace('\r', '')
			lines.append(line)
			f.write(line + '\n')
			f.flush()
			if echo and not line.startswith('MP2-'):
				print(line, flush=True)
	proc.wait()
	return lines, timed_out.is_set()


def _wait(proc, t):
	try:
		return proc.wait(t)
	except subprocess.TimeoutExpired:
		return None


def guest_files(names):
	files = []
	for n in names:
		if not os.path.exists(n):
			die('no such file for the guest: %s' % n)
		files.append(('/bin/' + os.path.basename(n), os.path.abspath(n)))
	return files


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


def kernel(extra=(), base=None):
	phase_deps()
	if ARCH.name != 'x86_64':
		phase_deps(ARCH.name)
	phase_prepare()
	phase_config(extra, base)
	phase_build()


# ---------------------------------------------------------------- commands
def cmd_kernel(_):
	kernel()
	print(BZIMAGE)


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
	"""Everything: deps, build, checkpatch, boot, selftests, KUnit, verdict."""
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


def make_series():
	try:
		return series.make_series(TOP, OUT, PRISTINE, overlay_files(),
					  BASE.at(debian_version()), log)
	except series.SeriesError as e:
		die(str(e))


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


def cmd_demo(args):
	"""The seeds' story: an MPI-like job moved between nodes, both ways."""
	args.cmd = 'echo "nodes with memory: $(cat /sys/devices/system/node/has_memory),' \
		   ' with CPUs: $(cat /sys/devices/system/node/has_cpu)"; mp2-demo-job'
	args.files = []
	args.verbose = False
	cmd_run(args)


RESULTS = os.path.join(TOP, 'results')
README_BEGIN = '<!-- bench: begin (written by make bench) -->'
README_END = '<!-- bench: end -->'


def cmd_bench(args):
	"""mp2-bench on the patched kernel (every method), then mainline
	migrate_pages(2) on the pristine kernel in a second boot: with the
	series, migrate_pages(2) runs on the engine, so mainline's numbers must
	come from the pristine tree.  Medians and ratios, table and plot.  A
	full run (no --only, --scale 1) also updates results/ and the README."""
	global NODE_MEM_MB
	phase_deps()
	phase_deps('bench')
	# 1 GiB must fit on a node beside what the kernel keeps there.
	NODE_MEM_MB = int(os.environ.get('MP2_NODE_MB', '2048'))
	opts = '-r %d -s %d' % (args.reps, args.scale)
	if args.only:
		opts += ' -o ' + args.only
	when = time.strftime('%Y-%m-%d')
	if args.reuse:
		# The last run's consoles, reported again (same options).
		consoles = [os.path.join(OUT, n + '.log') for n in ('bench', 'bench-pristine')]
		missing = [c for c in consoles if not os.path.exists(c)]
		if missing:
			die('--reuse: no earlier run to report (%s missing); run make bench first' %
			    ', '.join(missing))
		out, mainline = (read(c, 'r').splitlines() for c in consoles)
		when = time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(consoles[0])))
	else:
		# Timings of a lockdep + DEBUG_VM kernel say little: the benchmark's
		# kernels are make test's without test.config's debug options.
		use_build('kbuild-pristine', PRISTINE)
		kernel(base=[pristine_fragment()])
		use_build('kbuild-bench')
		kernel(base=bench_fragments())
		out = bench_boot('bench', opts, args.timeout, args.verbose)
		use_build('kbuild-pristine', PRISTINE)
		mainline = bench_boot('bench-pristine', opts + ' -m migrate_pages',
				      args.timeout, args.verbose)
	res = bench.parse(bench.with_mainline(out, mainline))
	header = ['# migrate_pages2 benchmark',
		  '',
		  'Two boots of the guest (QEMU TCG, 4 vCPUs, 4 nodes x %d MiB, all '
		  'of it backed by the host before the boot), '
		  '%s %s, no debug options (no lockdep, DEBUG_VM or '
		  'KASAN), `mp2-bench %s`, %s: the patched kernel ran migrate_pages2, '
		  'move_pages(2) and migrate_pages(2) (now on the engine); the pristine '
		  'kernel ran mainline migrate_pages(2) alone, in the second boot.' %
		  (NODE_MEM_MB, BASE.package, debian_version(), opts, when)]
	text = bench.report(res, header)
	full = not args.only and args.scale == 1
	dest = RESULTS if full else os.path.join(OUT, 'bench')
	os.makedirs(dest, exist_ok=True)
	paths = {k: os.path.join(dest, 'bench' + k) for k in ('.md', '.dat', '.png', '.log')}
	write_if_changed(paths['.md'], text.encode())
	write_if_changed(paths['.log'], ('\n'.join(l for l in out if l.startswith('MP2-BENCH'))
					 + '\n').encode())
	write_if_changed(paths['.dat'], bench.plot_data(res).encode())
	if bench.scaling_ids(res):
		run(['gnuplot', '-e', "data='%s'; out='%s'" % (paths['.dat'], paths['.png']),
		     os.path.join(HARNESS, 'bench', 'throughput.gp')])
	else:
		del paths['.png']
	if full:
		update_readme(text)
	print(text)
	log('results: %s' % ', '.join(sorted(paths.values())))


def bench_fragments():
	"""make test's fragments without test.config's debug options."""
	return [f for f in fragments() if not os.path.basename(f).startswith('test')]


def pristine_fragment():
	"""The bench fragments without the series' own options, for the
	pristine tree (which has no such symbols)."""
	path = os.path.join(OUT, 'pristine-bench.config')
	text = ''.join(l for f in bench_fragments() if os.path.exists(f)
		       for l in read(f, 'r').splitlines(True) if 'MIGRATE_PAGES2' not in l)
	write_if_changed(path, text.encode())
	return path


def bench_boot(name, opts, timeout, verbose, node_cpus=None):
	"""Boot the current build with mp2-bench opts; its output lines."""
	cpio = make_initramfs(name, 'mp2-bench ' + opts, [])
	lines, timed_out = boot(cpio, name + '.log', timeout, echo=verbose, node_cpus=node_cpus,
				prealloc=True)
	out = ktap.between(lines, 'MP2-BEGIN', 'MP2-EXIT:')
	reports = ktap.kernel_reports(lines)
	rc = ktap.exit_status(lines)
	for r in reports:
		print('\n'.join(r))
	if timed_out or rc is None or rc or reports:
		print('\n'.join(out[-20:]))
		die('%s failed (see %s)' % (name, os.path.join(OUT, name + '.log')))
	return out


def cmd_pristine_bench(args):
	"""Issue 13: migrate_pages(2) on the pristine base kernel against
	migrate_pages(2) on the patched one, same bench config, alternating
	boots; medians of all samples.  Writes results/pristine.md."""
	global NODE_MEM_MB
	phase_deps()
	phase_deps('bench')
	NODE_MEM_MB = int(os.environ.get('MP2_NODE_MB', '2048'))
	opts = '-m migrate_pages -r %d -o %s' % (args.reps, args.only)
	builds = [('pristine', 'kbuild-pristine', PRISTINE, [pristine_fragment()]),
		  ('patched', 'kbuild-bench', None, bench_fragments())]
	for name, build, tree, frags in builds:
		use_build(build, tree)
		kernel(base=frags)
	runs = {'pristine': [], 'patched': []}
	for i in range(args.boots):
		for name, build, tree, _ in builds:
			use_build(build, tree)
			log('boot %d of %d: %s kernel' % (i + 1, args.boots, name))
			runs[name] += bench_boot('pristine-bench', opts, args.timeout, args.verbose)
	res = {k: bench.parse(v) for k, v in runs.items()}
	text = '\n'.join(['# migrate_pages(2): pristine %s against the engine' % BASE.upstream, '',
			  '%s %s, the bench config (no debug options), QEMU '
			  'TCG, 4 nodes x %d MiB; %d boots of each kernel, alternating, '
			  '`mp2-bench %s` in each; medians of all samples [min-max]; ratio = '
			  'pristine / patched (above 1: the patched kernel is faster, or '
			  'stalls its target less).  %s.' %
			  (BASE.package, debian_version(), NODE_MEM_MB, args.boots, opts,
			   time.strftime('%Y-%m-%d')), ''] +
			 bench.pristine_table(res['pristine'], res['patched'])) + '\n'
	os.makedirs(RESULTS, exist_ok=True)
	write_if_changed(os.path.join(RESULTS, 'pristine.md'), text.encode())
	print(text)
	log('results: %s' % os.path.join(RESULTS, 'pristine.md'))


def cmd_mm_selftests(args):
	"""Issue 19: mainline's mm selftests on the pristine and the patched
	kernel, side by side (harness/mm_selftests.py)."""
	mm_selftests.main(sys.modules[__name__], args)


PROFILE_CONFIG = os.path.join(HARNESS, 'configs', 'profile.config')


def cmd_profile(args):
	"""The bench kernel with the function profiler, in a one-CPU guest: one
	256 MiB move of base pages (scenario 1) and one shift (scenario 3) by
	migrate_pages2 (the caller alone) and by migrate_pages(2), on the
	patched kernel (the engine) and on the pristine one (mainline), the top
	functions by total time side by side.  Writes results/profile.md."""
	global NODE_MEM_MB
	phase_deps()
	NODE_MEM_MB = int(os.environ.get('MP2_NODE_MB', '2048'))
	runs = [('patched', 'kbuild-profile', None, bench_fragments(),
		 'migrate_pages2,migrate_pages', {'migrate_pages': 'migrate_pages-engine'}),
		('pristine', 'kbuild-profile-pristine', PRISTINE, [pristine_fragment()],
		 'migrate_pages', {'migrate_pages': 'migrate_pages-pristine'})]
	res = None
	for name, build, tree, frags, methods, rename in runs:
		use_build(build, tree)
		kernel([PROFILE_CONFIG], base=frags)
		r = bench.parse(bench_boot('profile-' + name, '-p -r 1 -o 1,3 -m ' + methods,
					   args.timeout, args.verbose, node_cpus=ONE_CPU))
		if res is None:
			res = bench.Results()
			res.titles = r.titles
		for (sid, meth), prof in r.profile.items():
			res.profile[(sid, rename.get(meth, meth))] = prof
	text = '\n'.join(['# migrate_pages2 profile', '',
			  'The bench config with CONFIG_FUNCTION_PROFILER (function graph '
			  'tracer: a function\'s time includes its children\'s), in a one-CPU '
			  'guest (more vCPUs crash the profiler\'s code patching under TCG): '
			  'one sample of migrate_pages2 (the caller alone) and of '
			  'migrate_pages(2) on the patched kernel (the engine), and of '
			  'migrate_pages(2) on the pristine kernel (mainline), '
			  '%s %s, `mp2-bench -p -r 1 -o 1,3`, %s.  Times are '
			  'under QEMU TCG with the profiler on (about 6x slower than '
			  'without): compare within a column, and between columns only '
			  'roughly.' % (BASE.package, debian_version(), time.strftime('%Y-%m-%d'))] +
			 bench.profile_table(res)) + '\n'
	os.makedirs(RESULTS, exist_ok=True)
	write_if_changed(os.path.join(RESULTS, 'profile.md'), text.encode())
	print(text)
	log('results: %s' % os.path.join(RESULTS, 'profile.md'))


def update_readme(text):
	"""Replace the README's benchmark section with the latest report."""
	path = os.path.join(TOP, 'README.md')
	readme = read(path, 'r')
	if README_BEGIN not in readme or README_END not in readme:
		log('README has no benchmark markers; left alone')
		return
	head, rest = readme.split(README_BEGIN, 1)
	tail = rest.split(README_END, 1)[1]
	body = text.split('\n', 2)[2]		# without the report's title
	body += '\n![throughput vs size](results/bench.png)\n'
	write_if_changed(path, (head + README_BEGIN + '\n' + body + README_END + tail).encode())


def cmd_cli(_):
	"""Build the admin tool; its path is the last line printed."""
	phase_deps()
	files = build_tools()
	print(files[0][1])


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


def host_sources():
	"""The texts of the host's apt sources, debian.sources first."""
	d = '/etc/apt/sources.list.d'
	files = [os.path.join(d, 'debian.sources'), '/etc/apt/sources.list']
	if os.path.isdir(d):
		files += sorted(os.path.join(d, n) for n in os.listdir(d)
				if n.endswith(('.sources', '.list')))
	return [read(f, 'r') for f in dict.fromkeys(files) if os.path.isfile(f)]


def debian_mirror(archive='debian'):
	"""The host's Debian mirror (or debian-security's), as apt knows it."""
	return base.host_mirror(host_sources(), archive) or \
		base.DEFAULT_MIRROR.rsplit('/', 1)[0] + '/' + archive


def mounts_under(path):
	path = os.path.realpath(path)
	with open('/proc/mounts') as f:
		points = [l.split()[1] for l in f]
	return [m for m in points if m == path or m.startswith(path + '/')]


# ---------------------------------------------------------------- series-check
SERIES_SRC = os.path.join(OUT, 'src-series')
FINDING_RE = re.compile(r'^(\S+?):(\d+):(?:\d+:)? (warning|error): (.*)$')


def try_run(cmd, logfile, cwd=None):
	"""Run cmd, its output to logfile; (ok, the log's lines)."""
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	with open(logfile, 'w') as f:
		r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd)
	return r.returncode == 0, read(logfile, 'r').splitlines()


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
	make = ['make', '-C', SERIES_SRC, 'O=' + KBUILD, '-j' + JOBS]
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
	ok, lines = try_run(['make', '-C', SERIES_SRC, 'O=' + KBUILD, '-j' + JOBS, 'bzImage'], blog)
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
	# make's command-line variables (make test ARCH=arm64) reach every make
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
