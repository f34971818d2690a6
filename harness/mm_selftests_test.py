# SPDX-License-Identifier: GPL-2.0
"""Tests of make mm-selftests' pure part (mm_selftests.py): the guest
script, the console parser and the two-column comparison, on canned
consoles."""

import unittest

import mm_selftests as ms

TESTS = [('mm', 'migration', '', 'why'), ('mm', 'cow', '', 'why'),
	 ('mm', 'ksm_tests', '-M -p 10', 'why'), ('mm', 'split_huge_page_test', '', 'why')]
NAMES = ms.labels(TESTS)

PRISTINE = '''\
[    1.0] Linux version 7.3.4
MP2-BEGIN
MP2-TEST: mm/migration
TAP version 13
1..2
# Starting 2 tests from 1 test cases.
#  RUN           migration.private_anon ...
#            OK  migration.private_anon
ok 1 migration.private_anon
#  RUN           migration.private_anon_thp ...
#            OK  migration.private_anon_thp
ok 2 migration.private_anon_thp
# PASSED: 2 / 2 tests passed.
MP2-TEST-END: mm/migration 0
MP2-TEST: mm/cow
TAP version 13
1..3
# [INFO] detected PMD size: 2048 KiB
# [RUN] Basic COW after fork() ... with base page
ok 1 Basic COW after fork() ... with base page
# [RUN] Basic COW after fork() ... with hugetlb (1048576 kB)
ok 2 # SKIP need more free huge pages
# [RUN] R/O-mapping a page with GUP-fast ... with base page
ok 3 R/O-mapping a page with GUP-fast ... with base page
MP2-TEST-END: mm/cow 0
MP2-TEST: mm/ksm_tests -M -p 10
 OK
MP2-TEST-END: mm/ksm_tests -M -p 10 0
MP2-TEST: mm/split_huge_page_test
TAP version 13
1..0 # SKIP Transparent Hugepages not available
MP2-TEST-END: mm/split_huge_page_test 4
MP2-EXIT: 0
'''

# The patched kernel: cow's GUP-fast case fails, ksm_tests fails, and
# migration stops (the guest dies) after its first test.
PATCHED = '''\
MP2-BEGIN
MP2-TEST: mm/cow
TAP version 13
1..3
# [RUN] Basic COW after fork() ... with base page
ok 1 Basic COW after fork() ... with base page
# [RUN] Basic COW after fork() ... with hugetlb (1048576 kB)
ok 2 # SKIP need more free huge pages
# [RUN] R/O-mapping a page with GUP-fast ... with base page
# Leak from parent into child
not ok 3 R/O-mapping a page with GUP-fast ... with base page
MP2-TEST-END: mm/cow 1
MP2-TEST: mm/ksm_tests -M -p 10
 Not OK
MP2-TEST-END: mm/ksm_tests -M -p 10 1
MP2-TEST: mm/split_huge_page_test
TAP version 13
1..0 # SKIP Transparent Hugepages not available
MP2-TEST-END: mm/split_huge_page_test 4
MP2-TEST: mm/migration
TAP version 13
1..2
#  RUN           migration.private_anon ...
ok 1 migration.private_anon
------------[ cut here ]------------
WARNING: CPU: 1 PID: 90 at mm/migrate.c:100 migrate_folio+0x1/0x2
---[ end trace 0000000000000000 ]---
'''


def col(text, timed_out=False):
	return ms.parse_console(text.splitlines(), NAMES, timed_out)


def by_name(rows):
	return {r.name: r for r in rows}


class Script(unittest.TestCase):
	def test_frames_and_arguments(self):
		s = ms.guest_script(TESTS, timeout=60)
		self.assertIn('echo "MP2-TEST: mm/ksm_tests -M -p 10"\n'
			      '(cd /kselftest/mm && timeout 60 ./ksm_tests -M -p 10 2>&1)\n'
			      'echo "MP2-TEST-END: mm/ksm_tests -M -p 10 $?"\n', s)

	def test_each_program_built_once(self):
		progs = ms.programs(TESTS + [('mm', 'ksm_tests', '-U', 'why')])
		self.assertEqual(['migration', 'cow', 'ksm_tests', 'split_huge_page_test'], progs['mm'])

	def test_every_real_test_has_a_reason_to_be_there(self):
		self.assertTrue(all(why for _, _, _, why in ms.TESTS))
		self.assertEqual(len(ms.labels()), len(set(ms.labels())))


class Parse(unittest.TestCase):
	def setUp(self):
		self.p = by_name(col(PRISTINE))
		self.q = by_name(col(PATCHED))

	def test_harness_and_ksft_names(self):
		self.assertEqual('pass', self.p['mm/migration: migration.private_anon_thp'].status)
		self.assertEqual('pass', self.p['mm/cow: Basic COW after fork() ... with base page'].status)

	def test_skip_without_a_name_takes_its_run_line(self):
		r = self.p['mm/cow: Basic COW after fork() ... with hugetlb (1048576 kB)']
		self.assertEqual(('skip', ['need more free huge pages']), (r.status, r.detail))

	def test_failure_keeps_its_diagnostics(self):
		r = self.q['mm/cow: R/O-mapping a page with GUP-fast ... with base page']
		self.assertEqual('fail', r.status)
		self.assertIn('Leak from parent into child', r.detail)

	def test_program_without_ktap_goes_by_its_exit_status(self):
		self.assertEqual('pass', self.p['mm/ksm_tests -M -p 10'].status)
		r = self.q['mm/ksm_tests -M -p 10']
		self.assertEqual('fail', r.status)
		self.assertEqual(['exit status 1', 'Not OK'], r.detail)

	def test_whole_program_skip_keeps_its_reason(self):
		r = self.p['mm/split_huge_page_test']
		self.assertEqual(('skip', ['Transparent Hugepages not available']), (r.status, r.detail))

	def test_unfinished_program_and_guest(self):
		self.assertEqual('fail', self.q['mm/migration (finished)'].status)
		self.assertEqual('fail', self.q['guest/finished'].status)
		self.assertEqual('pass', self.p['guest/finished'].status)
		self.assertNotIn('mm/migration: migration.private_anon_thp', self.q)

	def test_kernel_report_is_a_row(self):
		self.assertEqual('pass', self.p['guest/kernel-log-clean'].status)
		r = self.q['guest/kernel-log-clean']
		self.assertEqual('fail', r.status)
		self.assertTrue(any('mm/migrate.c:100' in d for d in r.detail))

	def test_info_line_names_only_the_result_right_after_it(self):
		rows = ms.parse_program('mm/x', ['# [INFO] detected size', '1..2', '#  RUN a ...',
						 'ok 1 a', '# [INFO] Page migration', 'ok 2 done'], 0)
		self.assertEqual(['mm/x: a', 'mm/x: Page migration'], [r.name for r in rows])

	def test_short_plan(self):
		rows = by_name(ms.parse_program('mm/x', ['1..3', 'ok 1 a', 'ok 2 b'], 0))
		self.assertEqual('fail', rows['mm/x (plan)'].status)

	def test_duplicate_titles_get_their_number(self):
		rows = ms.parse_program('mm/x', ['1..2', 'ok 1 same', 'ok 2 same'], 0)
		self.assertEqual(['mm/x: same [#1]', 'mm/x: same [#2]'], [r.name for r in rows])

	def test_timeout_is_said(self):
		rows = by_name(ms.parse_program('mm/x', ['1..2', 'ok 1 a'], 124))
		self.assertEqual(['exit status 124 (timeout)'], rows['mm/x (exit)'].detail)


class Compare(unittest.TestCase):
	def rows(self, reasons=()):
		c = ms.compare([('pristine', col(PRISTINE)), ('patched', col(PATCHED))], list(reasons))
		return c, {x.name: x for x in c}

	def test_columns_and_verdicts(self):
		_, c = self.rows()
		self.assertEqual((['pass', 'pass'], 'same'),
				 (c['mm/migration: migration.private_anon'].statuses,
				  c['mm/migration: migration.private_anon'].verdict))
		self.assertEqual((['pass', '-'], 'differs'),
				 (c['mm/migration: migration.private_anon_thp'].statuses,
				  c['mm/migration: migration.private_anon_thp'].verdict))
		self.assertEqual(['pass', 'fail'], c['mm/ksm_tests -M -p 10'].statuses)
		self.assertEqual(['-', 'fail'], c['mm/migration (finished)'].statuses)
		self.assertEqual('unexplained', c['mm/split_huge_page_test'].verdict)

	def test_order_is_the_first_column_s(self):
		c, _ = self.rows()
		self.assertEqual('mm/migration: migration.private_anon', c[0].name)
		self.assertEqual('mm/migration (finished)', c[-1].name)

	def test_reason_explains_alike_results_only(self):
		_, c = self.rows([('mm/split_huge_page_test', 'no THP here'),
				  ('mm/ksm_tests *', 'never used')])
		self.assertEqual(('explained', 'no THP here'),
				 (c['mm/split_huge_page_test'].verdict, c['mm/split_huge_page_test'].reason))
		self.assertEqual('differs', c['mm/ksm_tests -M -p 10'].verdict)

	def test_report_fails_on_differences(self):
		c, _ = self.rows([('mm/split_huge_page_test', 'no THP here'),
				  ('mm/cow: *hugetlb (1048576 kB)', 'no 1 GiB pages')])
		lines, rc = ms.report(c, ms.KERNELS)
		self.assertEqual(1, rc)
		self.assertRegex(lines[0], r'^test +pristine +patched$')
		row = [l for l in lines if l.startswith('mm/ksm_tests -M -p 10 ')][0]
		self.assertRegex(row, r'pass +fail +<- differs$')
		self.assertIn('    # Not OK', lines)
		self.assertRegex(lines[-1], r'^10 results: 2 pass on both, 0 fail and 2 skip on both '
				 r'with a reason, 0 alike without a reason, 6 differ$')

	def test_report_passes_when_alike_and_explained(self):
		reasons = [('mm/split_huge_page_test', 'no THP here'),
			   ('mm/cow: *hugetlb (1048576 kB)', 'no 1 GiB pages'), ('mm/gone', 'stale')]
		c = ms.compare([('pristine', col(PRISTINE)), ('patched', col(PRISTINE))], reasons)
		lines, rc = ms.report(c, ms.KERNELS, reasons)
		self.assertEqual(0, rc)
		self.assertIn('reasons listed for rows that did not fail or skip on both: mm/gone', lines)

	def test_report_fails_on_an_unexplained_skip_on_both(self):
		c = ms.compare([('pristine', col(PRISTINE)), ('patched', col(PRISTINE))], [])
		lines, rc = ms.report(c, ms.KERNELS)
		self.assertEqual(1, rc)
		self.assertTrue(any(l.endswith('<- on both, no reason listed') for l in lines))


if __name__ == '__main__':
	unittest.main()
