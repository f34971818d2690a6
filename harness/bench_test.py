# SPDX-License-Identifier: GPL-2.0
"""Tests of harness/bench.py on a small saved run (testdata/bench-small.log)."""

import os
import unittest

import bench

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'testdata')


def load(name):
	with open(os.path.join(DATA, name)) as f:
		return f.read().splitlines()


class BenchTest(unittest.TestCase):
	def setUp(self):
		self.r = bench.parse(load('bench-small.log'))

	def test_parse(self):
		self.assertEqual(list(self.r.titles)[:2], ['1', '2'])
		self.assertEqual(self.r.times[('1', 'migrate_pages2')], [0.2, 0.3, 0.1])
		self.assertEqual(self.r.bytes['8-64'], 67108864)
		self.assertEqual(self.r.stall[('7', 'migrate_pages')], [(1500.0, 20.0), (900.0, 40.0)])
		self.assertEqual(self.r.done, (14, 1000))
		self.assertEqual(self.r.times[('1', 'migrate_pages2-w4')], [0.08])

	def test_medians_and_ratio(self):
		self.assertEqual(bench.median([0.2, 0.3, 0.1]), 0.2)
		# mainline median 0.4 over ours 0.2
		self.assertEqual(bench.ratio([0.4, 0.5, 0.3], [0.2, 0.3, 0.1]), '2.00')
		self.assertEqual(bench.ratio(None, [0.1]), '-')

	def test_table_rows(self):
		rows = bench.main_table(self.r)
		row = [x for x in rows if x.startswith('| 1 |') and 'move_pages' in x][0]
		# w=1 0.2 s, w=2 not run, w=4 0.08 s against move_pages 0.25 s
		self.assertIn('| 0.25 s [0.25-0.25] | 0.2 s [0.1-0.3] | 1.25 | - | - |'
			      ' 0.08 s [0.08-0.08] | 3.12 |', row)
		stall = [x for x in rows if 'mmap+munmap' in x][0]
		# worst 1.2 ms (median of 1.5, 0.9) against ours 0.01 ms
		self.assertIn('1.2 ms', stall)
		self.assertIn('| 120.00 |', stall)
		self.assertEqual(stall.count('|'), rows[0].count('|'))

	def test_scaling(self):
		rows = bench.scaling_table(self.r)
		# 64 MiB in 1 s is 16 s/GiB; w=1 0.5 s is 8 s/GiB; w=2 0.25 s is
		# 4 s/GiB; memcpy 0.1 s
		self.assertEqual(rows[2], '| 64 MiB | 16 | 8 | 2.00 | 4 | 4.00 | - | - |'
			      ' 1.6 | 5.0 | 2.5 | - |')
		self.assertEqual(bench.plot_data(self.r).splitlines()[1],
				 '64 128.00 256.00 NaN 64.00 640.00')

	def test_workers(self):
		r = bench.parse(['MP2-BENCH-SCENARIO 2 thp',
				 'MP2-BENCH 2 migrate_pages2 100 1.0',
				 'MP2-BENCH 2 migrate_pages2-w2 100 0.5',
				 'MP2-BENCH 2 migrate_pages2-w4 100 0.4',
				 'MP2-BENCH 2 memcpy 100 0.1',
				 'MP2-BENCH-SCENARIO 5 range',
				 'MP2-BENCH 5 migrate_pages2 100 1.0'])
		rows = bench.workers_table(r)
		# scenario 5 ran no helpers: no row
		self.assertEqual(len(rows), 3)
		self.assertEqual(rows[2], '| 2 | thp | 2.00 | 2.50 | 0.1 s [0.1-0.1] |'
				 ' 10.0 | 5.0 | 4.0 |')
		self.assertEqual(rows[0].count('|'), rows[2].count('|'))
		self.assertIn('Helpers: speedup', bench.report(r, ['# t']))

	def test_user_threads(self):
		r = bench.parse(['MP2-BENCH-SCENARIO 1 base pages',
				 'MP2-BENCH 1 migrate_pages2 100 1.0',
				 'MP2-BENCH 1 migrate_pages2-w4 100 0.4',
				 'MP2-BENCH 1 migrate_pages2-ut4 100 0.5',
				 'MP2-BENCH-SCENARIO 5 range',
				 'MP2-BENCH 5 migrate_pages2 100 1.0'])
		rows = bench.user_threads_table(r)
		# scenario 5 ran no user threads: no row
		self.assertEqual(len(rows), 3)
		# 0.5 s over 0.4 s; 1.0 s over 0.5 s; 1.0 s over 0.4 s
		self.assertEqual(rows[2], '| 1 | base pages | 0.5 s [0.5-0.5] | 0.4 s [0.4-0.4] |'
				 ' 1.25 | 2.00 | 2.50 |')
		self.assertEqual(rows[0].count('|'), rows[2].count('|'))
		self.assertIn('4 user threads', bench.report(r, ['# t']))

	def test_profile(self):
		prof = self.r.profile[('1', 'migrate_pages2')]
		# summed over the two CPUs' files, less the counts before
		self.assertEqual(prof['migrate_pages_batch'], [5, 1000.0])
		self.assertNotIn('schedule', prof)
		rows = bench.profile_table(self.r, top=2)
		first = [x for x in rows if x.startswith('| 1 |')][0]
		self.assertEqual(first, '| 1 | `migrate_pages_batch` | 1.0 | 5 |'
				 ' `__x64_sys_migrate_pages` | 1.2 | 1 |')

	def test_pristine_table(self):
		pristine = bench.parse(['MP2-BENCH-SCENARIO 7 stall',
					'MP2-BENCH-STALL 7 migrate_pages 2000.0 50.0',
					'MP2-BENCH 7 migrate_pages 100 4.0'])
		patched = bench.parse(['MP2-BENCH-SCENARIO 7 stall',
				       'MP2-BENCH-STALL 7 migrate_pages 50.0 50.0',
				       'MP2-BENCH 7 migrate_pages 100 2.0'])
		rows = bench.pristine_table(pristine, patched)
		self.assertEqual(rows[2], '| 7 | stall | 4 s [4-4] | 2 s [2-2] | 2.00 |')
		self.assertTrue(rows[3].endswith('| 2 ms [2-2] | 0.05 ms [0.05-0.05] | 40.00 |'))

	def test_with_mainline(self):
		lines = bench.with_mainline(['MP2-BENCH 1 migrate_pages 100 2.0',
					     'MP2-BENCH-VMSTAT 1 migrate_pages compact_stall=1',
					     'MP2-BENCH 1 migrate_pages2 100 1.0'],
					    ['MP2-BENCH 1 migrate_pages 100 4.0',
					     'MP2-BENCH-VMSTAT 1 migrate_pages compact_stall=2',
					     'MP2-BENCH-DONE 1 1'])
		r = bench.parse(lines)
		self.assertEqual(r.times[('1', 'migrate_pages')], [4.0])
		self.assertEqual(r.times[('1', 'migrate_pages-engine')], [2.0])
		self.assertEqual(r.times[('1', 'migrate_pages2')], [1.0])
		# every per-method line follows its method's rename
		self.assertEqual(r.vmstat[('1', 'migrate_pages')], [{'compact_stall': 2}])
		self.assertEqual(r.vmstat[('1', 'migrate_pages-engine')], [{'compact_stall': 1}])

	def test_vmstat(self):
		self.assertEqual(self.r.vmstat[('2', 'migrate_pages2')],
				 [{'compact_stall': 3, 'compact_migrate_scanned': 900,
				   'thp_migration_success': 128}])
		rows = bench.vmstat_table(self.r)
		self.assertEqual(rows[0], '| scenario | method | time of each sample (s) | '
				 'compact_stall | compact_migrate_scanned | thp_migration_success |')
		self.assertEqual(rows[2], '| 2 | migrate_pages2 | 0.1 | 3 | 900 | 128 |')

	def test_report_counts_samples(self):
		text = bench.report(self.r, ['# t'])
		self.assertIn('14 samples, 1000 page placements verified.', text)


if __name__ == '__main__':
	unittest.main()
