# SPDX-License-Identifier: GPL-2.0
"""Tests of bench_lazy.py: the lazy scenario's lines parsed and reported."""

import unittest

import bench_lazy

LINES = '''MP2-BENCH-LAZY-SCENARIO MPI-like job, 256 MiB, 4 workers
noise on the console
MP2-BENCH-LAZY eager-w1 2.0 2.1 0.40 300 32768 32768 0
MP2-BENCH-LAZY eager-w1 3.0 3.1 0.60 500 32768 32768 0
MP2-BENCH-LAZY eager-w4 1.0 1.1 0.30 200 32768 32768 0
MP2-BENCH-LAZY lazy 0.02 0.9 0.10 50 0 32768 1.5
MP2-BENCH-LAZY lazy 0.04 1.1 0.20 70 16 32768 2.5
MP2-BENCH-LAZY lazy short line
MP2-BENCH-LAZY-DONE 5 327680'''.splitlines()


class LazyTest(unittest.TestCase):
	def test_parse(self):
		r = bench_lazy.parse(LINES)
		self.assertEqual('MPI-like job, 256 MiB, 4 workers', r.title)
		self.assertEqual(2, len(r.samples['eager-w1']))
		self.assertEqual(2, len(r.samples['lazy']))
		self.assertEqual(1.5, r.samples['lazy'][0]['finish'])
		self.assertEqual((5, 327680), r.done)

	def test_report(self):
		text = '\n'.join(bench_lazy.report(bench_lazy.parse(LINES)))
		self.assertIn('| migrate_pages2 LAZY | 0.03 s [0.02-0.04] | 1 s [0.9-1.1] '
			      '| 15 % [10-20] | 60 ms [50-70] | 0.0244% | 2 s [1.5-2.5] |', text)
		self.assertIn('| migrate_pages2 w=1 | 2.5 s [2-3] |', text)
		# The lazy call against w=1's, and the lost work of each method.
		self.assertIn('The lazy call took 1.2% of the eager w=1 call', text)
		self.assertIn('lost 15% of its work during a lazy move against 50% (w=1) '
			      'and 30% (w=4)', text)

	def test_nothing_without_samples(self):
		self.assertEqual([], bench_lazy.report(bench_lazy.parse(['MP2-BENCH x'])))


if __name__ == '__main__':
	unittest.main()
