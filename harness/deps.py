# SPDX-License-Identifier: GPL-2.0
"""Phase deps: the Debian packages each kind of run needs (PACKAGES,
phase_deps()), and the series' base: found in the archive through private
apt sources under out/apt (apt_private(), base_version()), downloaded and
extracted into out/base (fetch_base(), debian_version()).  The host's
mirror is read from its apt sources (debian_mirror()).

Imports base, state, util; imported by tree, config, build,
mm_selftests, every verbs_* module and mp2.py.
"""

import os
import pwd
import shutil
import subprocess
import tempfile

import base
from state import APT_DIR, ARCHES, BASE, BASE_DIR, OUT, TARBALL
from util import die, log, read, run, try_run, write_if_changed

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
