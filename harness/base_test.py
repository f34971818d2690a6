# SPDX-License-Identifier: GPL-2.0
"""Tests of the base's messages (base.py) and of the failing hunks taken
from patch(1)'s output (series.py), on a patch made here and on the lines
GNU patch prints."""

import os
import shutil
import subprocess
import tempfile
import unittest

import base
import series

PATCH = '''diff -urN a/mm/x.c b/mm/x.c
--- a/mm/x.c	2026-01-01 00:00:00.000000000 +0000
+++ b/mm/x.c	2026-01-01 00:00:00.000000000 +0000
@@ -2,3 +2,3 @@
 1
-2
+two
 3
@@ -6,3 +6,3 @@ static int f(void)
 5
-6
+six
 7
diff -urN a/mm/gone.c b/mm/gone.c
--- a/mm/gone.c	2026-01-01 00:00:00.000000000 +0000
+++ b/mm/gone.c	2026-01-01 00:00:00.000000000 +0000
@@ -1,1 +1,1 @@ int g(void)
-a
+b
'''


class Messages(unittest.TestCase):
	def test_stated_base(self):
		b = base.Base({})
		self.assertEqual(str(b), 'linux-source-7.3 7.3.4-1~bpo13+1')
		self.assertEqual(b.tarball, 'usr/src/linux-source-7.3.tar.xz')
		self.assertEqual(b.tree, 'linux-source-7.3')
		self.assertIn('Linux 7.3.4', b.describe())
		self.assertIn('trixie-backports', b.describe())

	def test_overrides(self):
		b = base.Base({'MP2_BASE_VERSION': '7.3.3-1~bpo13+1',
			       'MP2_BASE_PACKAGE': 'linux-source-7.9'})
		self.assertEqual(b.version, '7.3.3-1~bpo13+1')
		self.assertEqual(b.tarball, 'usr/src/linux-source-7.9.tar.xz')
		self.assertEqual(b.at('7.3.5-1').version, '7.3.5-1')
		self.assertEqual(b.version, '7.3.3-1~bpo13+1')

	def test_mismatch_is_one_line(self):
		b = base.Base({})
		self.assertEqual(base.mismatch(b, '7.3.5-1~bpo13+1'),
				 'series is against linux-source-7.3 7.3.4-1~bpo13+1; '
				 'the archive serves 7.3.5-1~bpo13+1')

	def test_absent_says_what_and_what_to_do(self):
		msg = base.absent(base.Base({}), 'http://m/debian trixie-backports')
		self.assertEqual(len(msg.splitlines()), 1)
		self.assertIn('no linux-source-7.3', msg)
		self.assertIn('needs a rebase', msg)
		self.assertIn('7.3.4-1~bpo13+1', msg)

	def test_patch_failure(self):
		b = base.Base({})
		hunks = ['mm/x.c: hunk #2 FAILED at 6: @@ -6,3 +6,3 @@']
		same = base.patch_failure(b, b.version, 'series/0002-x.patch', hunks)
		self.assertEqual(same.splitlines(), [
			'series/0002-x.patch does not apply to linux-source-7.3 7.3.4-1~bpo13+1 (fuzz 0):',
			'  mm/x.c: hunk #2 FAILED at 6: @@ -6,3 +6,3 @@'])
		other = base.patch_failure(b, '7.3.5-1~bpo13+1', 'series/0002-x.patch', hunks)
		self.assertEqual(other.splitlines()[0], base.mismatch(b, '7.3.5-1~bpo13+1'))
		self.assertIn('hunk #2', other.splitlines()[2])

	def test_host_mirror(self):
		deb822 = ('Types: deb\n# http://snapshot.debian.org/archive/debian/2025\n'
			  'URIs: http://ftp.de.debian.org/debian/\nSuites: bookworm\n\n'
			  'Types: deb\nURIs: http://security.debian.org/debian-security\n')
		self.assertEqual(base.host_mirror([deb822]), 'http://ftp.de.debian.org/debian')
		self.assertEqual(base.host_mirror([deb822], 'debian-security'),
				 'http://security.debian.org/debian-security')
		one = 'deb [signed-by=/k.gpg] http://mirror/debian bookworm main\n'
		self.assertEqual(base.host_mirror(['', one]), 'http://mirror/debian')
		self.assertIsNone(base.host_mirror(['deb http://example.org/ubuntu jammy main']))

	def test_madison(self):
		out = (' linux-source-7.3 | 7.3.5-1~bpo13+1 | http://m/debian trixie-backports/main '
		       'amd64 Packages\n linux-source-7.3 | 7.3.4-1~bpo13+1 | http://m/debian '
		       'trixie-backports/main amd64 Packages\n')
		self.assertEqual(base.madison_versions(out, 'linux-source-7.3'),
				 ['7.3.5-1~bpo13+1', '7.3.4-1~bpo13+1'])
		self.assertEqual(base.madison_versions('', 'linux-source-7.3'), [])


class Hunks(unittest.TestCase):
	def setUp(self):
		self.tmp = tempfile.mkdtemp()
		self.patch = os.path.join(self.tmp, 'p.patch')
		with open(self.patch, 'w') as f:
			f.write(PATCH)

	def tearDown(self):
		shutil.rmtree(self.tmp)

	def test_sections(self):
		self.assertEqual(series.patch_sections(self.patch), [
			('mm/x.c', 3, ['@@ -2,3 +2,3 @@', '@@ -6,3 +6,3 @@ static int f(void)']),
			('mm/gone.c', 16, ['@@ -1,1 +1,1 @@ int g(void)'])])

	def test_failed_hunks_from_patch_output(self):
		out = ('patching file mm/x.c\nHunk #2 FAILED at 6.\n1 out of 2 hunks FAILED\n'
		       "can't find file to patch at input line 17\n"
		       'Perhaps you used the wrong -p or --strip option?\n'
		       '|+++ b/mm/gone.c\nSkipping patch.\n1 out of 1 hunk ignored\n')
		self.assertEqual(series.failed_hunks(out, self.patch), [
			'mm/x.c: hunk #2 FAILED at 6: @@ -6,3 +6,3 @@ static int f(void)',
			'mm/gone.c: no such file in the base'])

	def test_already_applied(self):
		out = ('patching file mm/x.c\nReversed (or previously applied) patch detected!  '
		       'Skipping patch.\n2 out of 2 hunks ignored\n')
		self.assertEqual(series.failed_hunks(out, self.patch),
				 ['mm/x.c: already applied in the base (or reversed)'])

	@unittest.skipUnless(shutil.which('patch'), 'no patch(1)')
	def test_apply_fuzz_0(self):
		"""A hunk whose context changed by one line fails (fuzz 2, patch's
		default, would apply it); the other applies."""
		tree = os.path.join(self.tmp, 't')
		os.makedirs(os.path.join(tree, 'mm'))
		with open(os.path.join(tree, 'mm', 'x.c'), 'w') as f:
			f.write(''.join('%d\n' % i for i in range(10)).replace('7\n', 'seven\n'))
		r = subprocess.run(['patch', '-p1', '--dry-run', '-d', tree, '-i', self.patch],
				   stdin=subprocess.DEVNULL, capture_output=True, text=True)
		self.assertIn('Hunk #2 succeeded at 6 with fuzz 1', r.stdout)
		self.assertEqual(series.apply(self.patch, tree), [
			'mm/x.c: hunk #2 FAILED at 6: @@ -6,3 +6,3 @@ static int f(void)',
			'mm/gone.c: no such file in the base'])
		with open(os.path.join(tree, 'mm', 'x.c')) as f:
			self.assertIn('two\n', f.read())

if __name__ == '__main__':
	unittest.main()
