// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages(2) scenario by scenario, for the pristine and the patched
 * kernel alike: it uses mainline system calls only.  Each scenario prints
 * one line, "MP2-DIFF <name> ret=<value or -errno> <where> data=<ok|bad>",
 * where <where> says on which node each part of its memory is afterwards
 * (move_pages() with no nodes, which moves nothing).  The harness boots
 * both kernels with the same config, runs this in each and compares the
 * lines (harness/verbs_mainline.py): they must be identical.
 *
 * Scenarios: a pinned 4 KiB page, a pinned THP, a THP mapped by PTEs, a
 * THP split on the way (alone and with pinned pages), a full destination,
 * a chain into a nearly full node, shared pages with and without
 * CAP_SYS_NICE, masks with holes and overlaps, a mix of all in another
 * process, a memfd mapped twice in one process, a THP met again after
 * another, a hugetlb page beyond a base page -ENOMEM, and mainline's
 * errnos.  Where the amount that fits on a full node is up to the
 * allocator, <where> says only "none", "some" or "all".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE	4096UL
#define THP	(2UL << 20)
#define BLOCK	16
#define NODES	4
#define MAXNODE	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static long migrate(pid_t pid, unsigned long old, unsigned long new)
{
	long r = syscall(__NR_migrate_pages, pid, MAXNODE, &old, &new);

	return r < 0 ? -errno : r;
}

static int bind_to(int node)
{
	unsigned long mask = 1UL << node;

	if (node < 0)
		return syscall(__NR_set_mempolicy, 0, NULL, 0);
	return syscall(__NR_set_mempolicy, 2 /* MPOL_BIND */, &mask, MAXNODE + 1);
}

static uint64_t pattern(const void *p)
{
	return (uintptr_t)p * 0x9e3779b97f4a7c15ULL;
}

static void fill_on(char *buf, unsigned long npages, int node)
{
	unsigned long i;

	bind_to(node);
	for (i = 0; i < npages * PAGE / 8; i++)
		((uint64_t *)buf)[i] = pattern(&((uint64_t *)buf)[i]);
	bind_to(-1);
}

static bool intact(const char *buf, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages * PAGE / 8; i++)
		if (((const uint64_t *)buf)[i] != pattern(&((const uint64_t *)buf)[i]))
			return false;
	return true;
}

static char *map(unsigned long len, int flags)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* A 2 MiB-aligned THP in a fresh mapping, filled on node; NULL if none. */
static char *thp_on(int node)
{
	char *p = map(2 * THP, MAP_PRIVATE);
	char *huge = (char *)(((uintptr_t)p + THP - 1) & ~(THP - 1));
	char line[128];
	long kb = 0;
	FILE *f;

	if (madvise(huge, THP, MADV_HUGEPAGE))
		return NULL;
	fill_on(huge, THP / PAGE, node);
	f = fopen("/proc/self/smaps_rollup", "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "AnonHugePages: %ld", &kb);
	if (f)
		fclose(f);
	return kb >= 2048 ? huge : NULL;
}

/* The node of each page of [buf, buf + npages) in process pid. */
static void nodes_of(pid_t pid, char *buf, unsigned long npages, int *status)
{
	void **pages = calloc(npages, sizeof(*pages));
	unsigned long i;

	for (i = 0; i < npages; i++)
		pages[i] = buf + i * PAGE;
	if (syscall(__NR_move_pages, pid, npages, pages, NULL, status, 0))
		for (i = 0; i < npages; i++)
			status[i] = -errno;
	free(pages);
}

/*
 * Where a part is, appended to out: one node digit per run of @run pages
 * ("x" if the run is split), or with @coarse "none"/"some"/"all" of it on
 * @node.
 */
static void where(char *out, const char *part, pid_t pid, char *buf,
		  unsigned long npages, unsigned long run, int coarse, int node)
{
	int *st = calloc(npages, sizeof(*st));
	unsigned long i, j, on = 0;
	char *o = out + strlen(out);

	nodes_of(pid, buf, npages, st);
	o += sprintf(o, " %s=", part);
	if (coarse) {
		for (i = 0; i < npages; i++)
			on += st[i] == node;
		sprintf(o, "%s-on-%d", !on ? "none" : on == npages ? "all" : "some", node);
		free(st);
		return;
	}
	for (i = 0; i < npages; i += run) {
		int n = st[i];

		for (j = i; j < i + run && j < npages; j++)
			if (st[j] != n)
				n = -100;
		*o++ = n == -100 ? 'x' : n < 0 ? 'e' : '0' + n;
	}
	*o = 0;
	free(st);
}

static void report(const char *name, long ret, const char *placement, bool ok)
{
	printf("MP2-DIFF %s ret=%ld%s data=%s\n", name, ret, placement, ok ? "ok" : "bad");
	fflush(stdout);
}

static void masks(unsigned long old, unsigned long new)
{
	static const int layout[] = { 0, 1, 2, 3, 3, 2, 1, 0 };
	enum { NR = ARRAY_SIZE(layout) };
	char *buf = map(NR * BLOCK * PAGE, MAP_PRIVATE), out[256] = "", name[64];
	long r;
	int i;

	for (i = 0; i < NR; i++)
		fill_on(buf + i * BLOCK * PAGE, BLOCK, layout[i]);
	r = migrate(0, old, new);
	where(out, "blocks", 0, buf, NR * BLOCK, BLOCK, 0, 0);
	snprintf(name, sizeof(name), "masks-%#lx-to-%#lx", old, new);
	report(name, r, out, intact(buf, NR * BLOCK));
	munmap(buf, NR * BLOCK * PAGE);
}

/* Pin npages of buf through a pipe; the pipe's read end, to release them. */
static int pin(char *buf, unsigned long npages)
{
	struct iovec iov = { buf, npages * PAGE };
	int fds[2];

	if (pipe(fds) || fcntl(fds[1], F_SETPIPE_SZ, 64 * PAGE) < 0 ||
	    vmsplice(fds[1], &iov, 1, 0) != (ssize_t)(npages * PAGE)) {
		perror("vmsplice");
		exit(1);
	}
	return fds[0];
}

static void pinned_4k(void)
{
	char *buf = map(64 * PAGE, MAP_PRIVATE), out[256] = "";
	long r;

	fill_on(buf, 64, 0);
	pin(buf + 8 * PAGE, 8);
	r = migrate(0, 1 << 0, 1 << 1);
	where(out, "pages", 0, buf, 64, 8, 0, 0);
	report("pinned-4k", r, out, intact(buf, 64));
}

static void thp(const char *name, bool pinned, bool ptes)
{
	char *huge = thp_on(0), out[256] = "";
	long r;

	if (!huge) {
		report(name, 0, " no-thp", true);
		return;
	}
	if (pinned)
		pin(huge + 5 * PAGE, 1);
	/* Half read-only: the PMD is split, the folio mapped by PTEs. */
	if (ptes && mprotect(huge, THP / 2, PROT_READ))
		perror("mprotect");
	r = migrate(0, 1 << 0, 1 << 1);
	where(out, "thp", 0, huge, THP / PAGE, THP / PAGE / 8, 0, 0);
	report(name, r, out, intact(huge, THP / PAGE));
}

/*
 * A THP half unmapped (MADV_DONTNEED), so on the deferred split list:
 * migrate_pages() splits it and counts it as one failure whether or not
 * its pieces move, a count it clears only when every folio of its list
 * moved.  With @pinned, 512 more pages, 8 of them pinned, in the same
 * per-node pass: the split counts then, as the pinned pages do.
 */
static void partly_unmapped_thp(const char *name, bool pinned)
{
	char *huge = thp_on(0), *buf = NULL, out[256] = "";
	long r;

	if (!huge) {
		report(name, 0, " no-thp", true);
		return;
	}
	if (madvise(huge + THP / 2, THP / 2, MADV_DONTNEED))
		perror("madvise");
	if (pinned) {
		buf = map(512 * PAGE, MAP_PRIVATE);
		fill_on(buf, 512, 0);
		pin(buf + 100 * PAGE, 8);
	}
	r = migrate(0, 1 << 0, 1 << 1);
	where(out, "thp", 0, huge, THP / PAGE / 2, THP / PAGE / 8, 0, 0);
	if (pinned)
		where(out, "pages", 0, buf, 512, 64, 0, 0);
	report(name, r, out, intact(huge, THP / PAGE / 2) && (!buf || intact(buf, 512)));
}

static int set_hugepages(int node, long nr)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
		 node);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", nr);
	return fclose(f);
}

/* Free pages of a node, buddy and per-CPU lists, from /proc/zoneinfo. */
static long node_free(int node)
{
	char line[256];
	long total = 0, v;
	int cur = -1;
	FILE *f = fopen("/proc/zoneinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &cur) == 1)
			continue;
		if (cur == node && (sscanf(line, " pages free %ld", &v) == 1 ||
				    sscanf(line, " count: %ld", &v) == 1))
			total += v;
	}
	if (f)
		fclose(f);
	return total;
}

/* Fold the per-CPU counters, and flush pages freed to a CPU-less node. */
static void stat_refresh(void)
{
	int i, fd;

	for (i = 0; i < 5; i++) {
		fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
		if (fd < 0 || write(fd, "1", 1) != 1)
			perror("stat_refresh");
		if (fd >= 0)
			close(fd);
	}
}

static long hugepages(int node)
{
	char path[128];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
		 node);
	f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	if (f)
		fclose(f);
	return nr;
}

/*
 * Node 3 full: huge pages, then another process's base pages moved there
 * by migrate_pages(2) until it fails.  Then 2048 pages of this process
 * toward it: -ENOMEM, none moves.  (A node given back a little room is
 * left out: how much of it an allocation sees depends on per-CPU lists
 * that differ from boot to boot.)
 */
static void full_destination(void)
{
	unsigned long npages = 2048, nfill;
	char out[256] = "", c = 0, *buf, *filler;
	int ready[2], status;
	pid_t child;
	long r;

	set_hugepages(3, 100000);
	nfill = node_free(3) + 4096;
	filler = map(nfill * PAGE, MAP_PRIVATE);
	if (pipe(ready))
		exit(1);
	child = fork();
	if (!child) {
		fill_on(filler, nfill, 0);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		exit(1);
	r = migrate(child, 1 << 0, 1 << 3);
	if (r != -ENOMEM)
		printf("# full-destination: the filler moved with %ld, not -ENOMEM\n", r);
	buf = map(npages * PAGE, MAP_PRIVATE);
	fill_on(buf, npages, 0);
	r = migrate(0, 1 << 0, 1 << 3);
	where(out, "source", 0, buf, npages, 0, 1, 0);
	report("full-destination", r, out, intact(buf, npages));
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	set_hugepages(3, 0);
}

/*
 * A chain {0,1} -> {1,2} into a node that holds the chain's own pages and
 * little else: 16 MiB on node 0 and 16 MiB on node 1, node 1 then filled
 * with huge pages and given back 8 MiB.  Mainline empties node 1 before
 * it fills it (1 -> 2 first, then 0 -> 1): everything fits.
 */
static void chain_into_full_node(void)
{
	unsigned long npages = 4096;
	char *b0 = map(npages * PAGE, MAP_PRIVATE), *b1 = map(npages * PAGE, MAP_PRIVATE);
	char out[256] = "";
	long r;

	fill_on(b0, npages, 0);
	fill_on(b1, npages, 1);
	set_hugepages(1, 100000);
	set_hugepages(1, hugepages(1) - 4);
	stat_refresh();
	r = migrate(0, 3 << 0, 3 << 1);
	where(out, "from0", 0, b0, npages, npages / 4, 0, 0);
	where(out, "from1", 0, b1, npages, npages / 4, 0, 0);
	report("chain-into-a-nearly-full-node", r, out,
	       intact(b0, npages) && intact(b1, npages));
	set_hugepages(1, 0);
}

/*
 * Shared anonymous pages, mapped by a sleeping child too, moved by a caller
 * with CAP_SYS_NICE (root) or without it (nobody).
 */
static void shared(const char *name, bool nobody)
{
	char *buf = map(64 * PAGE, MAP_SHARED), out[256] = "", c = 0;
	pid_t mapper, mover;
	int status, ready[2];
	long r;

	fill_on(buf, 64, 0);
	if (pipe(ready))
		exit(1);
	mapper = fork();
	if (!mapper) {
		/* fork copies no page table of shared memory: map it here */
		if (!intact(buf, 64) || write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		exit(1);
	mover = fork();
	if (!mover) {
		if (nobody && (setgid(65534) || setuid(65534)))
			_exit(1);
		if (!intact(buf, 64))
			_exit(1);
		r = migrate(0, 1 << 0, 1 << 1);
		where(out, "pages", 0, buf, 64, 16, 0, 0);
		report(name, r, out, intact(buf, 64));
		_exit(0);
	}
	waitpid(mover, &status, 0);
	kill(mapper, SIGKILL);
	waitpid(mapper, &status, 0);
	munmap(buf, 64 * PAGE);
}

/*
 * Another process with all of it: private pages on 0 and 1, some pinned,
 * a THP on 0, pages shared with the caller on 1; {0,1} -> {2,3}.
 */
static void mix(void)
{
	char *priv = map(64 * PAGE, MAP_PRIVATE), *shm = map(32 * PAGE, MAP_SHARED);
	int go[2], done[2], status;
	char out[512] = "", *huge = NULL, c = 0;
	pid_t target;
	long r;

	fill_on(shm, 32, 1);
	if (pipe(go) || pipe(done))
		exit(1);
	target = fork();
	if (!target) {
		fill_on(priv, 32, 0);
		fill_on(priv + 32 * PAGE, 32, 1);
		pin(priv + 30 * PAGE, 4);
		huge = thp_on(0);
		/* Mapped here too: fork copied no page table of it. */
		if (!intact(shm, 32))
			_exit(1);
		if (write(go[1], &huge, sizeof(huge)) != sizeof(huge) ||
		    read(done[0], &c, 1) != 1)
			_exit(1);
		_exit(!intact(priv, 64) || !intact(shm, 32) ||
		      (huge && !intact(huge, THP / PAGE)));
	}
	if (read(go[0], &huge, sizeof(huge)) != sizeof(huge))
		exit(1);
	r = migrate(target, 3 << 0, 3 << 2);
	where(out, "private", target, priv, 64, 4, 0, 0);
	where(out, "shared", target, shm, 32, 8, 0, 0);
	if (huge)
		where(out, "thp", target, huge, THP / PAGE, THP / PAGE / 4, 0, 0);
	else
		strcat(out, " thp=none");
	if (write(done[1], &c, 1) != 1)
		exit(1);
	waitpid(target, &status, 0);
	report("mix", r, out, WIFEXITED(status) && !WEXITSTATUS(status));
}

/*
 * A memfd of @npages filled on node 0 and mapped twice in this process,
 * moved by root (MPOL_MF_MOVE_ALL).  Mainline isolates the whole mm
 * before it moves anything: through the second mapping each page is
 * still isolated, so it counts every one as a page it could not isolate.
 * 64 pages fit in one batch of the engine; 1024 do not, so the second
 * mapping meets pages already moved.
 */
static void memfd_twice(const char *name, unsigned long npages)
{
	int fd = memfd_create("mp2-twice", 0);
	char *a, *b, out[256] = "";
	long r;

	if (fd < 0 || ftruncate(fd, npages * PAGE)) {
		perror("memfd");
		exit(1);
	}
	a = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	fill_on(a, npages, 0);
	/* Fault the second mapping in too: the same pages. */
	if (memcmp(a, b, npages * PAGE))
		exit(1);
	r = migrate(0, 1 << 0, 1 << 1);
	where(out, "first", 0, a, npages, npages / 8, 0, 0);
	where(out, "second", 0, b, npages, npages / 8, 0, 0);
	report(name, r, out, intact(a, npages) && !memcmp(a, b, npages * PAGE));
}

/*
 * A THP T whose second half is moved (mremap) past another THP U mapped
 * by PTEs: mainline meets T again after U, while T is still isolated, and
 * counts the 256 PTEs of that run as not isolated.
 */
static void thp_met_again(void)
{
	char *raw = map(10 * THP, MAP_PRIVATE);
	char *t = (char *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));
	char *u = t + 2 * THP, *half = t + 4 * THP, out[256] = "";
	long r;

	if (madvise(t, THP, MADV_HUGEPAGE) || madvise(u, THP, MADV_HUGEPAGE))
		perror("madvise");
	fill_on(t, THP / PAGE, 0);
	fill_on(u, THP / PAGE, 0);
	if (mremap(t + THP / 2, THP / 2, THP / 2, MREMAP_MAYMOVE | MREMAP_FIXED,
		   half) != half)
		perror("mremap");
	/* U mapped by PTEs: its PMD split by an mprotect of its last page */
	if (mprotect(u + THP - PAGE, PAGE, PROT_READ))
		perror("mprotect");
	r = migrate(0, 1 << 0, 1 << 1);
	where(out, "t-first-half", 0, t, THP / PAGE / 2, THP / PAGE / 8, 0, 0);
	where(out, "u", 0, u, THP / PAGE, THP / PAGE / 4, 0, 0);
	where(out, "t-second-half", 0, half, THP / PAGE / 2, THP / PAGE / 8, 0, 0);
	report("thp-met-again-after-another-thp", r, out,
	       intact(u, THP / PAGE));
}

/*
 * 16384 base pages below a hugetlb page, all on node 0, toward a node 1
 * whose memory is all in its free hugetlb pool: mainline's migrate_pages()
 * moves the hugetlb folios of its list first, from that pool, then runs
 * out of memory on the base pages (-ENOMEM).
 */
static void hugetlb_beyond_enomem(void)
{
	unsigned long nsmall = 16384;
	char *s = (char *)0x100000000UL, *h = (char *)0x200000000UL, out[256] = "";
	long r;

	if (set_hugepages(0, 1) || hugepages(0) != 1) {
		report("hugetlb-beyond-enomem", 0, " no-hugetlb", true);
		set_hugepages(0, 0);
		return;
	}
	s = mmap(s, nsmall * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	h = mmap(h, THP, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED_NOREPLACE, -1, 0);
	if (s == MAP_FAILED || h == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(s, nsmall * PAGE, MADV_NOHUGEPAGE);
	fill_on(s, nsmall, 0);
	fill_on(h, THP / PAGE, 0);
	set_hugepages(1, 100000);
	r = migrate(0, 1 << 0, 1 << 1);
	/*
	 * How many base pages fit in what the pool leaves free depends on
	 * the boot (pristine moved none in one boot, some in another): only
	 * the hugetlb page's placement is compared.
	 */
	where(out, "huge", 0, h, THP / PAGE, THP / PAGE, 0, 0);
	report("hugetlb-beyond-enomem", r, out,
	       intact(s, nsmall) && intact(h, THP / PAGE));
	munmap(h, THP);
	munmap(s, nsmall * PAGE);
	set_hugepages(1, 0);
	set_hugepages(0, 0);
}

static void errnos(void)
{
	unsigned long one = 1, big = 1UL << 40;
	pid_t child;
	int status;

	report("errno-node-without-memory", migrate(0, one, big), "", true);
	report("errno-no-such-pid", migrate(999999, 1, 2), "", true);
	report("errno-maxnode-too-large",
	       syscall(__NR_migrate_pages, 0, 1UL << 20, &one, &one) < 0 ? -errno : 0, "", true);
	report("errno-bad-mask-pointer",
	       syscall(__NR_migrate_pages, 0, MAXNODE, (void *)8, &one) < 0 ? -errno : 0, "", true);
	child = fork();
	if (!child) {
		if (setgid(65534) || setuid(65534))
			_exit(1);
		report("errno-other-users-process", migrate(1, 1, 2), "", true);
		_exit(0);
	}
	waitpid(child, &status, 0);
}

/* Each scenario in a process of its own: nothing carries over. */
static void run(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

static void thp_plain(void) { thp("thp", false, false); }
static void thp_pinned(void) { thp("pinned-thp", true, false); }
static void thp_ptes(void) { thp("thp-mapped-by-ptes", false, true); }
static void split_thp(void) { partly_unmapped_thp("partly-unmapped-thp", false); }
static void split_thp_pinned(void) { partly_unmapped_thp("partly-unmapped-thp-and-pinned-4k", true); }
static void shared_root(void) { shared("shared-with-cap-sys-nice", false); }
static void shared_nobody(void) { shared("shared-without-cap-sys-nice", true); }
static void memfd_twice_64(void) { memfd_twice("memfd-mapped-twice", 64); }
static void memfd_twice_1024(void) { memfd_twice("memfd-mapped-twice-beyond-a-batch", 1024); }

int main(void)
{
	static const unsigned long pairs[][2] = {
		{ 0x1, 0x2 }, { 0x3, 0xc }, { 0x3, 0x6 }, { 0x6, 0x3 },
		{ 0x5, 0xa }, { 0xa, 0x5 }, { 0xf, 0x6 }, { 0x6, 0xf },
		{ 0x9, 0x6 }, { 0xf, 0xf }, { 0x7, 0xe }, { 0xc, 0x1 },
	};
	unsigned int i;
	pid_t pid;
	int status;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		pid = fork();
		if (!pid) {
			masks(pairs[i][0], pairs[i][1]);
			_exit(0);
		}
		waitpid(pid, &status, 0);
	}
	run(pinned_4k);
	run(thp_plain);
	run(thp_pinned);
	run(thp_ptes);
	run(split_thp);
	run(split_thp_pinned);
	run(full_destination);
	run(chain_into_full_node);
	run(shared_root);
	run(shared_nobody);
	run(mix);
	run(memfd_twice_64);
	run(memfd_twice_1024);
	run(thp_met_again);
	run(hugetlb_beyond_enomem);
	run(errnos);
	printf("MP2-DIFF-END\n");
	return 0;
}
