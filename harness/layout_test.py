# SPDX-License-Identifier: GPL-2.0
"""Tests of the harness's own shape (issue 22): its modules import one way,
from the command line down to the pure modules, none has more than
MAX_LINES lines, each starts with a docstring, and the run's selection
(state.KBUILD...) is never copied by an import."""

import ast
import glob
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LINES = 400

# The layers, lowest first: a module may import modules of lower layers
# only.  A new module goes into the layer of its job (README.md's Layout).
LAYERS = [
	['base', 'bench', 'ktap'],	# pure: no phase, no state
	['series', 'bench_lazy'],	# pure too (ktap's Result, bench's arithmetic)
	['util'],
	['state'],
	['deps'],
	['tree'],
	['config'],
	['build', 'guest'],
	['mm_selftests', 'mainline'],
	['verbs_run', 'verbs_bench', 'verbs_series', 'verbs_fresh'],
	['mp2'],
]

# state's attributes that change during a run (use_build(), set_arch()...):
# a `from state import KBUILD` would keep the value of the moment.
SELECTION = ('ARCH', 'GUEST', 'KBUILD', 'BZIMAGE', 'KSRC', 'TOOLS_KBUILD', 'NODE_MEM_MB')


def modules():
	"""{name: path} of the harness's modules, tests included."""
	return {os.path.basename(p)[:-3]: p for p in glob.glob(os.path.join(HERE, '*.py'))}


def parse(path):
	with open(path) as f:
		return ast.parse(f.read(), path)


def imports(tree, names):
	"""The harness modules a module imports, anywhere in it."""
	found = set()
	for node in ast.walk(tree):
		if isinstance(node, ast.Import):
			found |= {a.name for a in node.names if a.name in names}
		elif isinstance(node, ast.ImportFrom) and node.module in names:
			found.add(node.module)
	return found


def graph():
	mods = modules()
	return {m: imports(parse(p), mods) for m, p in mods.items()}


def cycle(g):
	"""A list of modules that import each other in a ring, or None."""
	state = {}

	def visit(m, path):
		state[m] = 'open'
		for d in sorted(g.get(m, ())):
			if state.get(d) == 'open':		# on path: a ring
				return path[path.index(d):] + [d]
			if d not in state:
				found = visit(d, path + [d])
				if found:
					return found
		state[m] = 'done'
		return None

	for m in sorted(g):
		if m not in state:
			found = visit(m, [m])
			if found:
				return found
	return None


class Layout(unittest.TestCase):
	def test_cycle_finder(self):
		self.assertEqual(['a', 'b', 'a'], cycle({'a': {'b'}, 'b': {'a'}}))
		self.assertEqual(['b', 'c', 'b'], cycle({'a': {'b'}, 'b': {'c'}, 'c': {'b'}}))
		self.assertIsNone(cycle({'a': {'b', 'c'}, 'b': {'c'}, 'c': set()}))

	def test_no_cycle(self):
		self.assertIsNone(cycle(graph()))

	def test_layers_one_way(self):
		rank = {m: i for i, layer in enumerate(LAYERS) for m in layer}
		g = graph()
		unplaced = sorted(m for m in g if m not in rank and not m.endswith('_test'))
		self.assertEqual([], unplaced, 'modules in no layer of LAYERS')
		upward = ['%s imports %s' % (m, d) for m in sorted(g) if m in rank
			  for d in sorted(g[m]) if rank[d] >= rank[m]]
		self.assertEqual([], upward, 'a module may import lower layers only')

	def test_tests_import_no_verbs(self):
		verbs = set(LAYERS[-2] + LAYERS[-1])
		g = graph()
		self.assertEqual([], sorted('%s imports %s' % (m, d) for m in g if m.endswith('_test')
					    for d in g[m] & verbs))

	def test_size(self):
		big = []
		for m, p in sorted(modules().items()):
			with open(p) as f:
				n = len(f.read().splitlines())
			if n > MAX_LINES:
				big.append('%s.py: %d lines' % (m, n))
		self.assertEqual([], big, 'over %d lines: split by job' % MAX_LINES)

	def test_docstrings(self):
		bare = [m for m, p in sorted(modules().items()) if not ast.get_docstring(parse(p))]
		self.assertEqual([], bare, 'every module starts with what it does')

	def test_selection_read_through_state(self):
		copied = []
		for m, p in sorted(modules().items()):
			for node in ast.walk(parse(p)):
				if isinstance(node, ast.ImportFrom) and node.module == 'state':
					copied += ['%s: from state import %s' % (m, a.name)
						   for a in node.names if a.name in SELECTION or a.name == '*']
		self.assertEqual([], copied, 'read the selection as state.X')


if __name__ == '__main__':
	unittest.main()
