# SPDX-License-Identifier: GPL-2.0
"""What every phase uses: timestamped log lines (log, die), external
commands printed once (run, try_run), files read and replaced only when
their content changes (read, write_if_changed), mounts under a folder.

Imports no harness module; imported by every module above state (deps
and up).
"""

import os
import shlex
import subprocess
import sys
import time

T0 = time.monotonic()


def log(msg):
	"""One timestamped line per phase or event, like kunit.py."""
	print('[%7.1fs] %s' % (time.monotonic() - T0, msg), flush=True)


def die(msg):
	log('error: ' + msg)
	sys.exit(2)


def run(cmd, quiet=False, logfile=None, **kw):
	"""Run an external command, printed once; output to logfile if given."""
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	if logfile:
		with open(logfile, 'w') as f:
			r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, **kw)
		if r.returncode:
			with open(logfile) as f:
				sys.stdout.write(''.join(f.readlines()[-40:]))
			die('%s failed (exit %d), full log: %s' % (cmd[0], r.returncode, logfile))
		return r
	if quiet:
		kw.setdefault('stdout', subprocess.DEVNULL)
	r = subprocess.run(cmd, **kw)
	if r.returncode:
		die('%s failed (exit %d)' % (cmd[0], r.returncode))
	return r


def try_run(cmd, logfile, cwd=None):
	"""Run cmd, its output to logfile; (ok, the log's lines)."""
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	with open(logfile, 'w') as f:
		r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd)
	return r.returncode == 0, read(logfile, 'r').splitlines()


def read(path, mode='rb'):
	with open(path, mode) as f:
		return f.read()


def write_if_changed(path, data):
	"""Replace path by data unless it already holds it.  The file is
	replaced, not written in place, so hard links to the pristine tree are
	broken and timestamps move only when the content does."""
	if os.path.exists(path) and read(path) == data:
		return False
	os.makedirs(os.path.dirname(path), exist_ok=True)
	tmp = path + '.mp2-tmp'
	with open(tmp, 'wb') as f:
		f.write(data)
	os.replace(tmp, path)
	return True


def mounts_under(path):
	path = os.path.realpath(path)
	with open('/proc/mounts') as f:
		points = [l.split()[1] for l in f]
	return [m for m in points if m == path or m.startswith(path + '/')]
