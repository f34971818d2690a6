# SPDX-License-Identifier: GPL-2.0
"""Tests of mainline.compare(): the pristine and patched consoles of the
migrate_pages(2) scenarios, line by line."""

import unittest

import mainline

PRISTINE = ['[ 1.0] boot', 'MP2-DIFF pinned-4k ret=8 pages=01000000 data=ok',
	    'MP2-DIFF full-destination ret=-12 source=some-on-0 data=ok', 'MP2-DIFF-END']


def by_name(results):
	return {r.name: r.status for r in results}


class Compare(unittest.TestCase):
	def test_same_lines_pass(self):
		got = by_name(mainline.compare(PRISTINE, PRISTINE))
		self.assertEqual(got, {'mainline/pristine-finished': 'pass',
				       'mainline/patched-finished': 'pass',
				       'mainline/pinned-4k': 'pass',
				       'mainline/full-destination': 'pass'})

	def test_a_different_value_fails_with_both_lines(self):
		patched = [l.replace('ret=-12', 'ret=1858') for l in PRISTINE]
		res = {r.name: r for r in mainline.compare(PRISTINE, patched)}
		self.assertEqual('fail', res['mainline/full-destination'].status)
		self.assertIn('ret=1858', ' '.join(res['mainline/full-destination'].detail))
		self.assertEqual('pass', res['mainline/pinned-4k'].status)

	def test_unfinished_or_missing_fails(self):
		got = by_name(mainline.compare(PRISTINE, PRISTINE[:2]))
		self.assertEqual('fail', got['mainline/patched-finished'])
		self.assertEqual('fail', got['mainline/pinned-4k'])
		self.assertEqual('fail', got['mainline/full-destination'])


if __name__ == '__main__':
	unittest.main()
