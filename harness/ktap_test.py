# SPDX-License-Identifier: GPL-2.0
"""Tests of the console parser (ktap.py) on saved logs in testdata/."""

import os
import unittest

import ktap

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'testdata')


def lines(name):
	with open(os.path.join(DATA, name)) as f:
		return f.read().splitlines()


def by_name(results):
	return {r.name: r for r in results}


class ParseGuest(unittest.TestCase):
	def setUp(self):
		self.log = lines('kunit-and-kselftest.log')
		progs = ['/kselftest/migrate/a', '/kselftest/migrate/b',
			 '/kselftest/mm/migration']
		self.res = by_name(ktap.parse_guest(self.log, progs))

	def test_kunit_nested_names_and_statuses(self):
		self.assertEqual('pass', self.res['kunit/migrate_pages2.check_args.valid'].status)
		self.assertEqual('fail', self.res['kunit/migrate_pages2.map_swap'].status)
		self.assertEqual('skip', self.res['kunit/migrate_pages2.map_any_node'].status)

	def test_kunit_failure_keeps_its_diagnostics(self):
		detail = self.res['kunit/migrate_pages2.map_swap'].detail
		self.assertIn('Expected 1 == call->map[0], but call->map[0] == 0', detail)

	def test_parameterised_subtest_needs_no_plan(self):
		self.assertNotIn('kunit/migrate_pages2.check_args.(plan)', self.res)

	def test_kselftest_failure_detail(self):
		r = self.res['migrate/a:mp2.two']
		self.assertEqual('fail', r.status)
		self.assertTrue(any('Expected 16 (16)' in d for d in r.detail))

	def test_short_plan_is_a_failure(self):
		self.assertEqual('fail', self.res['migrate/a:(plan)'].status)

	def test_clean_program(self):
		self.assertEqual('pass', self.res['migrate/b:b.only'].status)
		self.assertNotIn('migrate/b:(plan)', self.res)

	def test_program_without_end_did_not_finish(self):
		self.assertEqual('fail', self.res['mm/migration'].status)


class Reports(unittest.TestCase):
	def test_warning_found_once_with_its_trace(self):
		reports = ktap.kernel_reports(lines('warning.log'))
		self.assertEqual(1, len(reports))
		self.assertTrue(reports[0][1].startswith('WARNING: CPU: 3'))
		self.assertTrue(reports[0][-1].startswith('---[ end trace'))

	def test_clean_log(self):
		self.assertEqual([], ktap.kernel_reports(lines('kunit-and-kselftest.log')))

	def test_exit_status(self):
		self.assertEqual(0, ktap.exit_status(lines('warning.log')))
		self.assertIsNone(ktap.exit_status(['MP2-BEGIN', 'Kernel panic - not syncing']))


class Verdict(unittest.TestCase):
	def verdict(self, results, log, skips=None):
		import contextlib
		import io
		out = io.StringIO()
		with contextlib.redirect_stdout(out):
			rc = ktap.report(results, log, False, skips or {}, lambda m: None)
		return rc, out.getvalue().splitlines()

	def test_unexpected_skip_fails(self):
		rc, out = self.verdict([ktap.Result('x', 'skip', ['why'])], ['MP2-EXIT: 0'])
		self.assertEqual(1, rc)
		# the two guest/ checks pass: it finished, its log is clean
		self.assertEqual('2 passed, 1 failed, 0 skipped', out[-1])

	def test_expected_skip_passes(self):
		rc, out = self.verdict([ktap.Result('x', 'skip', ['why']),
					ktap.Result('y', 'pass', [])],
				       ['MP2-EXIT: 0'], {'x': 'known'})
		self.assertEqual(0, rc)
		self.assertEqual('3 passed, 0 failed, 1 skipped', out[-1])

	def test_kernel_report_fails_the_run(self):
		rc, out = self.verdict([ktap.Result('y', 'pass', [])], lines('warning.log'))
		self.assertEqual(1, rc)
		self.assertIn('not ok 3 guest/kernel-log-clean', out)


if __name__ == '__main__':
	unittest.main()
