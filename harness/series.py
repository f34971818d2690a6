# SPDX-License-Identifier: GPL-2.0
"""The patch series as data: series/NNNN-*.commit files, one per commit, each
a header (Subject, Author, Files, Patches), a blank line and the body.  Files
are new kernel files of this repository; Patches are series/*.patch diffs
against the pristine tree for upstream files.  The order of the commit files
is the order of the series and of patch application.

Imports ktap alone; imported by tree, verbs_run and verbs_series.
"""

import collections
import glob
import os
import re
import shutil
import subprocess

import ktap


class Commit:
	def __init__(self, path):
		self.path = path
		head, _, self.body = open(path).read().partition('\n\n')
		self.fields = {}
		for line in head.splitlines():
			key, _, val = line.partition(':')
			self.fields[key.strip().lower()] = val.strip()
		self.subject = self.fields['subject']
		self.author = self.fields.get('author', 'migrate_pages2 developers <mp2@localhost>')
		self.files = self.fields.get('files', '').split()
		base = os.path.dirname(path)
		self.patches = [os.path.join(base, p) for p in self.fields.get('patches', '').split()]


class Series:
	def __init__(self, top):
		self.top = top
		self.commits = [Commit(p) for p in sorted(glob.glob(os.path.join(top, 'series', '*.commit')))]

	def patches(self):
		return [p for c in self.commits for p in c.patches]

	def check(self, overlay):
		"""Every project file and patch belongs to exactly one commit."""
		errors = []
		owner = {}
		for c in self.commits:
			for f in c.files + [os.path.relpath(p, self.top) for p in c.patches]:
				if f in owner:
					errors.append('%s is in two commits: %s and %s' % (f, owner[f], c.path))
				owner[f] = os.path.basename(c.path)
				if not os.path.exists(os.path.join(self.top, f)):
					errors.append('%s: no such file %s' % (os.path.basename(c.path), f))
		for f in overlay + [os.path.relpath(p, self.top)
				    for p in glob.glob(os.path.join(self.top, 'series', '*.patch'))]:
			if f not in owner:
				errors.append('%s belongs to no commit in series/' % f)
		return errors


def load(top):
	return Series(top)


def patch_targets(patch):
	"""Kernel paths a unified diff changes."""
	targets = []
	with open(patch) as f:
		for line in f:
			if line.startswith('+++ '):
				path = line[4:].split('\t')[0].strip()
				if path != '/dev/null':
					targets.append(path.split('/', 1)[1])
	return targets


def patch_sections(patch):
	"""[(kernel path, line of its +++ header, [hunk headers])] of a unified
	diff, in order; a deleted file goes by its old path."""
	sections = []
	old = None
	with open(patch, errors='replace') as f:
		for n, line in enumerate(f, 1):
			if line.startswith('--- '):
				old = line[4:].split('\t')[0].strip()
			elif line.startswith('+++ ') and old is not None:
				path = line[4:].split('\t')[0].strip()
				if path == '/dev/null':
					path = old
				sections.append((path.split('/', 1)[-1], n, []))
				old = None
			elif line.startswith('@@ ') and sections:
				sections[-1][2].append(line.rstrip('\n'))
	return sections


def failed_hunks(output, patch):
	"""What patch(1) said failed, one line each, with the hunk's header
	taken from the patch: ['mm/x.c: hunk #2 FAILED at 47: @@ -47,7 +47,7 @@ f()'].
	Empty if its output names nothing (the caller shows the output then)."""
	sections = patch_sections(patch)
	seen = collections.Counter()
	current = None
	failed = []
	for line in output.splitlines():
		m = re.match(r"^(?:patching|checking) file (.+)$", line)
		if m:
			current = m.group(1).strip("'\"")
			seen[current] += 1
			continue
		m = re.match(r'^Hunk #(\d+) FAILED at (\d+)', line)
		if m and current:
			nth = [s for s in sections if s[0] == current][seen[current] - 1:][:1]
			hunks = nth[0][2] if nth else []
			k = int(m.group(1))
			header = hunks[k - 1] if 0 < k <= len(hunks) else '(hunk not found in the patch)'
			failed.append('%s: hunk #%d FAILED at %s: %s' % (current, k, m.group(2), header))
			continue
		m = re.match(r"^can't find file to patch at input line (\d+)", line)
		if m:
			before = [s for s in sections if s[1] < int(m.group(1))]
			current = before[-1][0] if before else '?'
			seen[current] += 1
			failed.append('%s: no such file in the base' % current)
			continue
		if line.startswith('Reversed (or previously applied) patch detected'):
			failed.append('%s: already applied in the base (or reversed)' % current)
	return failed


# fuzz 0: a hunk applies where its whole context matches, or not at all
PATCH = ['patch', '-p1', '--fuzz=0', '-N', '-r', '-', '--no-backup-if-mismatch']


def apply(patch, tree):
	"""Apply patch to tree; None, or what failed (failed_hunks(), else the
	end of patch's own output)."""
	r = subprocess.run(PATCH + ['-d', tree, '-i', patch], stdin=subprocess.DEVNULL,
			   capture_output=True, text=True)
	if r.returncode == 0:
		return None
	out = r.stdout + r.stderr
	return failed_hunks(out, patch) or out.splitlines()[-10:]


def _git(repo, *args, **kw):
	return subprocess.run(['git', '-C', repo] + list(args), check=True,
			      capture_output=True, text=True, **kw)


class SeriesError(Exception):
	pass


def make_series(top, out, pristine, overlay, base, log):
	"""git format-patch output of the series, in out/series; returns the
	folder.  overlay: the project's new kernel files; base: the base tree
	(package and version) for the first commit, and the cover letter's base
	line, where git format-patch --base puts its base-commit.  The repository holds only the files the
	series touches, at their pristine versions, so it is built in a second.
	Raises SeriesError if a file or patch belongs to no commit or to two."""
	ser = Series(top)
	errors = ser.check(overlay)
	if errors:
		raise SeriesError('series/ does not cover the project:\n  ' + '\n  '.join(errors))
	repo = os.path.join(out, 'series-git')
	outdir = os.path.join(out, 'series')
	shutil.rmtree(repo, ignore_errors=True)
	shutil.rmtree(outdir, ignore_errors=True)
	os.makedirs(repo)
	touched = set()
	for c in ser.commits:
		touched.update(c.files)
		for p in c.patches:
			touched.update(patch_targets(p))
	for f in touched:
		if os.path.exists(os.path.join(pristine, f)):
			os.makedirs(os.path.dirname(os.path.join(repo, f)), exist_ok=True)
			shutil.copyfile(os.path.join(pristine, f), os.path.join(repo, f))
	env = dict(os.environ, GIT_AUTHOR_DATE='2026-11-22T00:00:00Z',
		   GIT_COMMITTER_DATE='2026-11-22T00:00:00Z')
	_git(repo, 'init', '-q')
	_git(repo, 'add', '-A')
	ident = ['-c', 'user.name=mp2', '-c', 'user.email=mp2@localhost']
	_git(repo, *ident, 'commit', '-q', '--allow-empty', '-m',
	     '%s (pristine files)' % base, env=env)
	for c in ser.commits:
		for f in c.files:
			dst = os.path.join(repo, f)
			os.makedirs(os.path.dirname(dst), exist_ok=True)
			shutil.copyfile(os.path.join(top, f), dst)
		for p in c.patches:
			failed = apply(p, repo)
			if failed:
				raise SeriesError('%s does not apply (fuzz 0):\n  %s' %
						  (os.path.relpath(p, top), '\n  '.join(failed)))
		_git(repo, 'add', '-A')
		msg = c.subject + '\n\n' + c.body
		_git(repo, *ident, 'commit', '-q', '--author', c.author, '-F', '-',
		     input=msg, env=env)
	if not ser.commits:
		os.makedirs(outdir)
		return outdir
	_git(repo, 'format-patch', '-q', '--cover-letter', '-o', outdir, 'HEAD~%d' % len(ser.commits))
	cover = os.path.join(outdir, '0000-cover-letter.patch')
	text = open(cover).read()
	letter = open(os.path.join(top, 'series', 'cover-letter')).read()
	subject, _, blurb = letter.partition('\n\n')
	text = text.replace('*** SUBJECT HERE ***', subject.strip())
	text = text.replace('*** BLURB HERE ***', blurb.strip())
	# Always, as git format-patch --base puts it: the blurb may name the
	# base in prose, but tools read this line.
	text = with_base_line(text, 'base: ' + base.describe())
	with open(cover, 'w') as f:
		f.write(text)
	log('series: %d patches in %s' % (len(ser.commits), outdir))
	return outdir


def with_base_line(cover, line):
	"""The cover letter with line where git format-patch --base writes its
	base-commit: after the diffstat, before the signature."""
	sig = cover.rfind('\n-- \n')
	if sig < 0:
		return cover.rstrip('\n') + '\n\n' + line + '\n'
	return cover[:sig] + '\n' + line + cover[sig:]


def _tools_only(patch):
	"""Does the patch change user-space tools (and MAINTAINERS) only?"""
	paths = [l.split()[1] for l in open(patch) if l.startswith('+++ b/')]
	return bool(paths) and all(p.startswith('b/tools/') or p == 'b/MAINTAINERS'
				   for p in paths)


def checkpatch(outdir, src):
	"""checkpatch.pl --strict on each patch, one result per patch."""
	results = []
	for p in sorted(glob.glob(os.path.join(outdir, '*.patch'))):
		name = os.path.basename(p)
		if name.startswith('0000-'):
			continue
		# ENOSYS is kernel code's "no such system call" only; a user
		# program comparing errno with it (the CLI, the selftests) means
		# exactly that, so patches of tools/ alone do not take the check.
		ignore = ['--ignore', 'ENOSYS'] if _tools_only(p) else []
		r = subprocess.run(['perl', 'scripts/checkpatch.pl', '--strict', '--terse',
				    '--show-types'] + ignore + [p], cwd=src,
				   capture_output=True, text=True)
		lines = [l for l in r.stdout.splitlines() if 'total:' not in l]
		results.append(ktap.Result('checkpatch/' + name, 'fail' if r.returncode else 'pass',
					   lines))
	return results
