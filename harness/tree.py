# SPDX-License-Identifier: GPL-2.0
"""Phase prepare: the kernel trees.  out/pristine is the base tarball
extracted once per version; out/src a hard-linked copy with the project's
files (OVERLAY_DIRS) and the series' patches over it (phase_prepare());
sync_tree() and series_files() make any such tree hold a prefix of the
series (make series-check); make_series() writes the series as git
format-patch output.

Imports base, series, deps, state, util; imported by build, verbs_run,
verbs_series and mp2.py.
"""

import glob
import os
import shutil
import tempfile

import base
import series
from deps import debian_version
from state import BASE, OUT, PRISTINE, SRC, TARBALL, TOP
from util import die, log, read, run, write_if_changed

# Top-level folders of the repository that hold new kernel files at their
# kernel paths; they are copied over the pristine tree.
OVERLAY_DIRS = ('mm', 'include', 'tools', 'Documentation')


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


def make_series():
	try:
		return series.make_series(TOP, OUT, PRISTINE, overlay_files(),
					  BASE.at(debian_version()), log)
	except series.SeriesError as e:
		die(str(e))
