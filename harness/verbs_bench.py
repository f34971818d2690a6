# SPDX-License-Identifier: GPL-2.0
"""The measuring verbs: bench (the patched kernel's methods against
mainline migrate_pages(2) on the pristine kernel; a full run updates
results/ and the README's benchmark section), pristine-bench, profile,
and mm-selftests (mm_selftests.main()).  The arithmetic and the tables
are bench.py's, and bench_lazy.py's for the lazy scenario.

Imports bench, bench_lazy, ktap, mm_selftests, build, config, deps, guest,
state, util; imported by mp2.py alone.
"""

import os
import time

import bench
import bench_lazy
import ktap
import mm_selftests
import state
from build import kernel, make_initramfs
from config import fragments
from deps import debian_version, phase_deps
from guest import boot, ONE_CPU
from state import BASE, HARNESS, OUT, PRISTINE, TOP, use_build
from util import die, log, read, run, write_if_changed

RESULTS = os.path.join(TOP, 'results')
README_BEGIN = '<!-- bench: begin (written by make bench) -->'
README_END = '<!-- bench: end -->'


def cmd_bench(args):
	"""mp2-bench on the patched kernel (every method), then mainline
	migrate_pages(2) on the pristine kernel in a second boot: with the
	series, migrate_pages(2) runs on the engine, so mainline's numbers must
	come from the pristine tree.  Medians and ratios, table and plot.  A
	full run (no --only, --scale 1) also updates results/ and the README."""
	phase_deps()
	phase_deps('bench')
	# 1 GiB must fit on a node beside what the kernel keeps there.
	state.set_node_mem(2048)
	opts = '-r %d -s %d' % (args.reps, args.scale)
	if args.only:
		opts += ' -o ' + args.only
	when = time.strftime('%Y-%m-%d')
	# The lazy scenario (mp2-lazy-bench), unless --only leaves it out.
	lazy_opts = '-r %d -s %d' % (args.reps, args.scale)
	only = args.only.split(',') if args.only else []
	with_lazy = not only or 'lazy' in only
	with_main = not only or only != ['lazy']
	if args.reuse:
		# The last run's consoles, reported again (same options).
		names = (('bench', 'bench-pristine') if with_main else ()) + \
			(('bench-lazy',) if with_lazy else ())
		consoles = [os.path.join(OUT, n + '.log') for n in names]
		missing = [c for c in consoles if not os.path.exists(c)]
		if missing:
			die('--reuse: no earlier run to report (%s missing); run make bench first' %
			    ', '.join(missing))
		logs = [read(c, 'r').splitlines() for c in consoles]
		out, mainline = logs[:2] if with_main else ([], [])
		lazy = logs[-1] if with_lazy else []
		when = time.strftime('%Y-%m-%d', time.gmtime(os.path.getmtime(consoles[0])))
	else:
		# Timings of a lockdep + DEBUG_VM kernel say little: the benchmark's
		# kernels are make test's without test.config's debug options.
		if with_main:
			use_build('kbuild-pristine', PRISTINE)
			kernel(base=[pristine_fragment()])
		use_build('kbuild-bench')
		kernel(base=bench_fragments())
		out = bench_boot('bench', opts, args.timeout, args.verbose) if with_main else []
		lazy = bench_boot('bench-lazy', lazy_opts, args.timeout, args.verbose,
				  prog='mp2-lazy-bench') if with_lazy else []
		mainline = []
		if with_main:
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
		  'kernel ran mainline migrate_pages(2) alone, in the second boot.%s' %
		  (state.NODE_MEM_MB, BASE.package, debian_version(), opts, when,
		   ' A third boot of the patched kernel ran `mp2-lazy-bench %s`.' % lazy_opts
		   if lazy else '')]
	text = bench.report(res, header)
	text += ''.join(line + '\n' for line in bench_lazy.report(bench_lazy.parse(lazy)))
	full = not args.only and args.scale == 1
	dest = RESULTS if full else os.path.join(OUT, 'bench')
	os.makedirs(dest, exist_ok=True)
	paths = {k: os.path.join(dest, 'bench' + k) for k in ('.md', '.dat', '.png', '.log')}
	write_if_changed(paths['.md'], text.encode())
	write_if_changed(paths['.log'], ('\n'.join(l for l in out + lazy if l.startswith('MP2-BENCH'))
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


def bench_boot(name, opts, timeout, verbose, node_cpus=None, prog='mp2-bench'):
	"""Boot the current build with prog opts; its output lines."""
	cpio = make_initramfs(name, prog + ' ' + opts, [])
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
	phase_deps()
	phase_deps('bench')
	state.set_node_mem(2048)
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
			  (BASE.package, debian_version(), state.NODE_MEM_MB, args.boots, opts,
			   time.strftime('%Y-%m-%d')), ''] +
			 bench.pristine_table(res['pristine'], res['patched'])) + '\n'
	os.makedirs(RESULTS, exist_ok=True)
	write_if_changed(os.path.join(RESULTS, 'pristine.md'), text.encode())
	print(text)
	log('results: %s' % os.path.join(RESULTS, 'pristine.md'))


def cmd_mm_selftests(args):
	"""Issue 19: mainline's mm selftests on the pristine and the patched
	kernel, side by side (harness/mm_selftests.py)."""
	mm_selftests.main(args)


PROFILE_CONFIG = os.path.join(HARNESS, 'configs', 'profile.config')


def cmd_profile(args):
	"""The bench kernel with the function profiler, in a one-CPU guest: one
	256 MiB move of base pages (scenario 1) and one shift (scenario 3) by
	migrate_pages2 (the caller alone) and by migrate_pages(2), on the
	patched kernel (the engine) and on the pristine one (mainline), the top
	functions by total time side by side.  Writes results/profile.md."""
	phase_deps()
	state.set_node_mem(2048)
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
