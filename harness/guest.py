# SPDX-License-Identifier: GPL-2.0
"""Phase guest: the 4-node QEMU guest (qemu_cmd()) booted on an initramfs,
its console streamed to out/<log> and returned as lines (boot()); host
files for the guest's /bin (guest_files()).

Imports state, util; imported by mm_selftests, mainline, verbs_run and
verbs_bench.
"""

import os
import shlex
import subprocess
import threading

import state
from state import OUT
from util import die, log

# The guest: 4 nodes with memory, node 3 without CPUs (a CXL-like tier).
NODE_CPUS = ['0', '1', '2-3', None]
CMDLINE = 'panic=-1 loglevel=7 transparent_hugepage=madvise'

# make profile's guest: one CPU, on node 0.  Turning the function profiler
# on patches every function's entry through int3 breakpoints, and with
# more than one vCPU under TCG that ended in an int3 oops (seen on the
# first and on a later switch).
ONE_CPU = ['0', None, None, None]


def qemu_cmd(cpio, interactive=False, node_cpus=None, prealloc=False):
	# One socket per CPU: cores of one socket share an LLC, and the
	# scheduler warns when LLC siblings sit on different nodes.
	node_cpus = node_cpus or NODE_CPUS
	ncpus = 1 if node_cpus == ONE_CPU else 4
	cmdline = 'console=%s %s' % (state.ARCH.console, CMDLINE)
	if state.ARCH.name == 'arm64':
		# The virt board, booted from the Image with a device tree; its
		# memory starts at 1 GiB.  pauth-impdef: a cheap pointer
		# authentication algorithm, the architected one is slow in TCG.
		cmd = ['qemu-system-aarch64', '-accel', 'tcg', '-machine', 'virt',
		       '-cpu', 'max,pauth-impdef=on', '-smp', str(ncpus)]
	else:
		cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max',
		       '-smp', '%d,sockets=%d,cores=1,threads=1' % (ncpus, ncpus),
		       '-bios', '/usr/share/qemu/qboot.rom', '-vga', 'none']
	cmd += ['-m', '%dM' % (4 * state.NODE_MEM_MB), '-kernel', state.BZIMAGE, '-initrd', cpio,
		'-append', cmdline, '-display', 'none', '-no-reboot', '-nodefaults']
	for n, cpus in enumerate(node_cpus):
		cmd += ['-object', 'memory-backend-ram,id=m%d,size=%dM%s' % (
			n, state.NODE_MEM_MB, ',prealloc=on' if prealloc else '')]
		numa = 'node,nodeid=%d,memdev=m%d' % (n, n)
		if cpus:
			numa += ',cpus=' + cpus
		cmd += ['-numa', numa]
	cmd += ['-serial', 'mon:stdio' if interactive else 'stdio']
	return cmd


def boot(cpio, logname, timeout, echo, node_cpus=None, prealloc=False):
	"""Boot the guest, stream its console to out/<logname> (and stdout if
	echo), return (lines, timed_out).  prealloc: the host backs all guest
	memory before the boot, so no sample pays for the host's first touch."""
	path = os.path.join(OUT, logname)
	cmd = qemu_cmd(cpio, node_cpus=node_cpus, prealloc=prealloc)
	log('$ ' + ' '.join(shlex.quote(c) for c in cmd))
	log('console: %s' % path)
	proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	timed_out = threading.Event()

	def watchdog():
		if _wait(proc, timeout) is None:
			timed_out.set()
			proc.kill()

	threading.Thread(target=watchdog, daemon=True).start()
	lines = []
	with open(path, 'w') as f:
		for raw in proc.stdout:
			line = raw.decode('utf-8', 'replace').rstrip('\r\n').replace('\r', '')
			lines.append(line)
			f.write(line + '\n')
			f.flush()
			if echo and not line.startswith('MP2-'):
				print(line, flush=True)
	proc.wait()
	return lines, timed_out.is_set()


def _wait(proc, t):
	try:
		return proc.wait(t)
	except subprocess.TimeoutExpired:
		return None


def guest_files(names):
	files = []
	for n in names:
		if not os.path.exists(n):
			die('no such file for the guest: %s' % n)
		files.append(('/bin/' + os.path.basename(n), os.path.abspath(n)))
	return files
