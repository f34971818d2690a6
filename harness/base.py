# SPDX-License-Identifier: GPL-2.0
"""The series' base, stated here and nowhere else: the Debian package the
series applies to, its exact version and the upstream release it carries.

The harness fetches exactly this version (apt-get download from SUITE, with a
private sources list under out/apt: the machine's apt sources and pinning are
left alone).  When the archive serves another version it says so in one line
(mismatch()) and applies the series with fuzz 0 all the same; when the archive
has no such package at all it stops at once (absent()): the series needs a
rebase.  MP2_BASE_VERSION (and MP2_BASE_PACKAGE) override the stated base, to
simulate both cases.

Pure (no harness import); imported by state, deps, tree and verbs_fresh.
"""

import copy
import os
import re

PACKAGE = 'linux-source-7.3'
VERSION = '7.3.4-1~bpo13+1'		# the exact Debian version
UPSTREAM = '7.3.4'			# the Linux release it carries
SUITE = 'trixie-backports'		# the Debian suite that serves it
TARBALL = 'usr/src/linux-source-7.3.tar.xz'	# inside the .deb
TREE = 'linux-source-7.3'		# the tarball's top folder
DEFAULT_MIRROR = 'http://deb.debian.org/debian'
KEYRINGS = ('/usr/share/keyrings/debian-archive-keyring.gpg',
	    '/usr/share/keyrings/debian-archive-keyring.pgp')


class Base:
	"""The stated base, with the environment's overrides."""

	def __init__(self, env=None):
		env = os.environ if env is None else env
		self.package = env.get('MP2_BASE_PACKAGE') or PACKAGE
		self.version = env.get('MP2_BASE_VERSION') or VERSION
		self.upstream = UPSTREAM
		self.suite = SUITE
		if self.package == PACKAGE:
			self.tarball, self.tree = TARBALL, TREE
		else:
			self.tarball = 'usr/src/%s.tar.xz' % self.package
			self.tree = self.package

	def at(self, version):
		"""The same base at another version (what the archive served)."""
		other = copy.copy(self)
		other.version = version
		if version != self.version:
			# Debian's version is upstream-revision: 7.3.5-1~bpo13+1.
			other.upstream = version.split('-')[0]
		return other

	def __str__(self):
		return '%s %s' % (self.package, self.version)

	def describe(self):
		"""The base as the cover letter states it."""
		return ('Linux %s, as Debian\'s %s %s (%s)' %
			(self.upstream, self.package, self.version, self.suite))


def mismatch(base, served):
	"""The one line printed when the archive serves another version."""
	return 'series is against %s %s; the archive serves %s' % (base.package, base.version,
								    served)


def absent(base, where, detail=''):
	"""Why a run stops when the archive has no base package at all."""
	return ('%s: no %s there (the series is against %s %s, Linux %s)%s; the series '
		'needs a rebase onto a kernel Debian still ships, and harness/base.py '
		'must then name it' % (where, base.package, base.package, base.version,
				       base.upstream, ' [%s]' % detail if detail else ''))


def patch_failure(stated, served, patch, failed):
	"""Why a run stops when a patch of the series does not apply to the
	base it got: the mismatch line first if the archive served another
	version than the stated one, then the failing hunks."""
	lines = [mismatch(stated, served)] if served != stated.version else []
	lines.append('%s does not apply to %s %s (fuzz 0):' % (patch, stated.package, served))
	return '\n'.join(lines + ['  ' + f for f in failed])


def sources_line(mirror, suite, keyring):
	"""The private sources list: the base's suite of the host's mirror."""
	return 'deb [signed-by=%s] %s %s main\n' % (keyring, mirror, suite)


def host_mirror(texts, archive='debian'):
	"""The first mirror URI of the Debian archive (or of debian-security) in
	the host's apt sources (the texts of sources.list and *.sources files);
	None if there is none."""
	for text in texts:
		for line in text.splitlines():
			line = line.strip()
			if line.startswith('#'):
				continue
			m = re.match(r'^URIs:\s*(.*)$', line, re.I)
			uris = m.group(1).split() if m else []
			m = re.match(r'^deb\s+(?:\[[^]]*\]\s+)?(\S+)', line)
			if m:
				uris = [m.group(1)]
			for uri in uris:
				uri = uri.rstrip('/')
				if re.match(r'^https?://', uri) and uri.endswith('/' + archive):
					return uri
	return None


def madison_versions(text, package):
	"""Versions of package in `apt-cache madison` output, newest first."""
	out = []
	for line in text.splitlines():
		fields = [f.strip() for f in line.split('|')]
		if len(fields) >= 3 and fields[0] == package and fields[1] not in out:
			out.append(fields[1])
	return out
