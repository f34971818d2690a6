// SPDX-License-Identifier: GPL-2.0
/*
 * mp2-bench: migrate_pages2(2) side by side with mainline migrate_pages(2)
 * and move_pages(2), in one boot of the 4-node guest (harness/bench.py).
 *
 * Every scenario runs a "job": one or more processes forked from here that
 * map their regions at fixed addresses, fill them on their first node and
 * then wait for commands on a pipe.  The job alternates between two layouts
 * (layout 0 -> 1 -> 0 ...); each move is one sample, made by the methods in
 * turn (the order rotates every repetition, so each method sees both
 * directions).  After every sample the placement of every page is queried
 * (move_pages() with NULL nodes) and the job checks two words of every page:
 * a benchmark that moves nothing, or loses data, stops with status 1 instead
 * of looking fast.
 *
 * migrate_pages2 runs with workers = 1 (the caller alone), 2 and 4 where the
 * scenario says so: the methods "migrate_pages2", "migrate_pages2-w2" and
 * "migrate_pages2-w4"; and "migrate_pages2-ut4" is what a caller can do
 * without helpers: four threads of its own, each calling migrate_pages2()
 * (workers = 1) on a quarter of every region at once.
 *
 * Output, one line per fact, parsed on the host:
 *   MP2-BENCH-SCENARIO <id> <title>
 *   MP2-BENCH <id> <method> <bytes> <seconds>
 *   MP2-BENCH-STALL <id> <method> <worst mmap+munmap us> <worst touch us>
 *   MP2-BENCH-THP <id> <method> <AnonHugePages kB after the sample>
 *   MP2-BENCH-VMSTAT <id> <method> <counter>=<change during the sample> ...
 *   MP2-BENCH-DONE <samples> <pages verified>
 * and with -p, before and after each sample, the function profiler's counts
 * (turned on once: turning it on and off patches every function's entry,
 * and repeated patching under QEMU TCG was seen to end in an int3 oops):
 *   MP2-PROFILE <id> <method> before|after, trace_stat/function*, MP2-PROFILE-END
 *
 * Usage: mp2-bench [-r reps] [-s scale] [-o id,id,...] [-m method,...] [-p]
 *   -s divides region sizes (floor 2 MiB) for a quick run;
 *   -m runs only these methods (e.g. migrate_pages on a pristine kernel);
 *   -p profiles each sample (a kernel with CONFIG_FUNCTION_PROFILER).
 */
#define _GNU_SOURCE
#include "bench.h"

#define GIB		(1024 * MIB)
#define MAX_REGIONS	3
#define MAX_PROCS	8
#define MAX_CALLS	3
#define CHUNK		65536UL			/* pages per move_pages() call */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum method { MP2, MP2_W2, MP2_W4, MP2_UT4, MIGRATE_PAGES, MOVE_PAGES, COPY,
	      NR_METHODS };

static const char *const method_name[NR_METHODS] = {
	"migrate_pages2", "migrate_pages2-w2", "migrate_pages2-w4",
	"migrate_pages2-ut4", "migrate_pages", "move_pages", "memcpy",
};

/* MP2_UT4: this many threads of the caller, each a call on its part. */
#define USER_THREADS	4

/* migrate_pages2's workers for each of its methods. */
static const unsigned int method_workers[NR_METHODS] = {
	[MP2] = 1, [MP2_W2] = 2, [MP2_W4] = 4,
};

struct region {
	unsigned long size;
	int node[2];		/* its node in layout 0 and in layout 1 */
	bool thp;
	bool shared;		/* MAP_SHARED, mapped by every process */
	bool after;		/* right after the previous one (one VMA) */
};

/* A mainline migrate_pages(2) call, layout 0 -> 1: node masks. */
struct mask_call {
	unsigned long from, to;
};

struct scenario {
	const char *id;
	const char *title;
	int nr_procs;		/* 0 means 1 */
	int nr_regions;
	struct region r[MAX_REGIONS];
	int range;		/* region moved with start/len, or 0: all */
	unsigned int methods;	/* BIT(enum method) */
	int nr_calls;		/* migrate_pages(2) calls per process */
	struct mask_call calls[MAX_CALLS];
	bool stall;		/* measure the target's latencies meanwhile */
};

#define M(x)		(1U << (x))
#define N(x)		(1UL << (x))
#define R(sz, a, b, ...)	{ .size = (sz), .node = { (a), (b) }, __VA_ARGS__ }
#define ALL3		(M(MP2) | M(MIGRATE_PAGES) | M(MOVE_PAGES))
#define WORKERS		(M(MP2_W2) | M(MP2_W4))
#define ONE(a, b)	.nr_calls = 1, .calls = { { N(a), N(b) } }

static const struct scenario scenarios[] = {
	{ .id = "1", .title = "256 MiB of base pages, node 0 -> 1",
	  .nr_regions = 1, .r = { R(256 * MIB, 0, 1) },
	  .methods = ALL3 | WORKERS | M(MP2_UT4), ONE(0, 1) },
	{ .id = "2", .title = "256 MiB of THP, node 0 -> 1",
	  .nr_regions = 1, .r = { R(256 * MIB, 0, 1, .thp = true) },
	  .methods = ALL3 | WORKERS | M(COPY), ONE(0, 1) },
	{ .id = "3", .title = "shift [0,1,2] -> [1,2,3], 3 x 64 MiB",
	  .nr_regions = 3,
	  .r = { R(64 * MIB, 0, 1), R(64 * MIB, 1, 2), R(64 * MIB, 2, 3) },
	  .methods = ALL3 | WORKERS, .nr_calls = 1,
	  .calls = { { N(0) | N(1) | N(2), N(1) | N(2) | N(3) } } },
	{ .id = "4", .title = "swap 0 <-> 1, 2 x 128 MiB (mainline: 3 calls via node 2)",
	  .nr_regions = 2, .r = { R(128 * MIB, 0, 1), R(128 * MIB, 1, 0) },
	  .methods = ALL3 | WORKERS | M(MP2_UT4), .nr_calls = 3,
	  .calls = { { N(0), N(2) }, { N(1), N(0) }, { N(2), N(1) } } },
	{ .id = "5", .title = "2 MiB range inside a 1 GiB process, node 0 -> 1",
	  .nr_regions = 3,
	  .r = { R(512 * MIB, 0, 0), R(2 * MIB, 0, 1, .after = true),
		 R(510 * MIB, 0, 0, .after = true) },
	  .range = 1, .methods = M(MP2) | M(MOVE_PAGES) },
	{ .id = "6", .title = "job of 8 processes, 64 MiB shared + 16 MiB each, node 0 -> 1",
	  .nr_procs = 8, .nr_regions = 2,
	  .r = { R(64 * MIB, 0, 1, .shared = true), R(16 * MIB, 0, 1) },
	  .methods = M(MP2) | WORKERS | M(MIGRATE_PAGES), ONE(0, 1) },
	{ .id = "7", .title = "target stall while 1 GiB moves, node 0 -> 1",
	  .nr_regions = 1, .r = { R(GIB, 0, 1) },
	  .methods = M(MP2) | M(MIGRATE_PAGES), ONE(0, 1), .stall = true },
#define SCALE(mib)							\
	{ .id = "8-" #mib, .title = #mib " MiB of base pages, node 0 -> 1",	\
	  .nr_regions = 1, .r = { R((mib) * MIB, 0, 1) },		\
	  .methods = M(MP2) | WORKERS | M(MIGRATE_PAGES) | M(COPY), ONE(0, 1) }
	SCALE(64), SCALE(128), SCALE(256), SCALE(512), SCALE(1024),
};

static unsigned long scale = 1;
static const char *only_methods;	/* -m: a comma-separated list, or NULL */

static void fail(const char *fmt, const char *id, unsigned long n)
{
	fprintf(stderr, "mp2-bench: scenario %s: ", id);
	fprintf(stderr, fmt, n);
	fputc('\n', stderr);
	exit(1);
}

/* Where the current scenario's regions are, and their sizes (scaled). */
static char *raddr[MAX_REGIONS];
static unsigned long rsize[MAX_REGIONS];

static void place_regions(const struct scenario *s)
{
	int i;

	for (i = 0; i < s->nr_regions; i++) {
		unsigned long sz = s->r[i].size;

		if (sz > 2 * MIB) {
			sz = (sz / scale) & ~(2 * MIB - 1);
			if (sz < 2 * MIB)
				sz = 2 * MIB;
		}
		rsize[i] = sz;
		raddr[i] = s->r[i].after ? raddr[i - 1] + rsize[i - 1] :
			   (char *)(BASE + i * 4 * GIB);
	}
}

static int bind_node(int node)
{
	unsigned long mask = N(node);

	if (node < 0)
		return syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	return syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8 + 1);
}

/* What page i of a region holds at both ends (owner: process, 0xff shared). */
static __u64 tag(int owner, int region, unsigned long i)
{
	return ((__u64)owner << 56) ^ ((__u64)region << 48) ^ (i * 0x9e3779b97f4a7c15ULL);
}

static void map_region(const struct region *r, int idx)
{
	int flags = MAP_FIXED_NOREPLACE | MAP_ANONYMOUS |
		    (r->shared ? MAP_SHARED : MAP_PRIVATE);

	if (mmap(raddr[idx], rsize[idx], PROT_READ | PROT_WRITE, flags, -1, 0) !=
	    raddr[idx])
		die("mmap");
	if (r->thp && madvise(raddr[idx], rsize[idx], MADV_HUGEPAGE))
		die("madvise");
}

/* First touch on the region's layout-0 node. */
static void fill(const struct region *r, int owner, int idx)
{
	unsigned long i, n = rsize[idx] / PAGE;
	char *p = raddr[idx];

	if (bind_node(r->node[0]))
		die("set_mempolicy");
	for (i = 0; i < n; i++) {
		__u64 t = tag(owner, idx, i);

		memcpy(p + i * PAGE, &t, sizeof(t));
		memcpy(p + (i + 1) * PAGE - sizeof(t), &t, sizeof(t));
	}
	bind_node(-1);
}

static unsigned long check(int owner, int idx)
{
	unsigned long i, bad = 0, n = rsize[idx] / PAGE;
	const char *p = raddr[idx];

	for (i = 0; i < n; i++) {
		__u64 t = tag(owner, idx, i), a, b;

		memcpy(&a, p + i * PAGE, sizeof(a));
		memcpy(&b, p + (i + 1) * PAGE - sizeof(b), sizeof(b));
		bad += a != t || b != t;
	}
	return bad;
}

/* ------------------------------------------------------------ stall */
struct stall {
	bool stop;		/* atomic */
	__u64 worst_mmap_ns, worst_touch_ns;
	pthread_t mmap_thread, touch_thread;
};

static __u64 ns(void)
{
	return (__u64)(now() * 1e9);
}

static void *mmap_loop(void *arg)
{
	struct stall *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		__u64 t = ns();
		char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			die("mmap");
		*p = 1;
		munmap(p, PAGE);
		t = ns() - t;
		if (t > s->worst_mmap_ns)
			s->worst_mmap_ns = t;
	}
	return NULL;
}

static void *touch_loop(void *arg)
{
	struct stall *s = arg;
	unsigned long n = rsize[0] / PAGE, i = 1;
	const char *p = raddr[0];

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		__u64 t = ns();

		i = (i * 6364136223846793005ULL + 1442695040888963407ULL);
		__atomic_load_n(&p[((i >> 20) % n) * PAGE], __ATOMIC_RELAXED);
		t = ns() - t;
		if (t > s->worst_touch_ns)
			s->worst_touch_ns = t;
	}
	return NULL;
}

/* ------------------------------------------------------------ the job */
struct job {
	const struct scenario *s;
	int nr;
	pid_t pid[MAX_PROCS];
	int cmd[MAX_PROCS];	/* bench -> process */
	int reply[MAX_PROCS];	/* process -> bench */
};

static void put(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		_exit(1);
}

static void get(int fd, void *buf, size_t len)
{
	if (read(fd, buf, len) != (ssize_t)len)
		die("job died");
}

/* One process of the job: map, fill, report its pid, serve commands. */
static void job_process(const struct scenario *s, int idx, int cmd, int reply)
{
	struct stall st = { 0 };
	pid_t me = getpid();
	__u64 v[2];
	int i;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < s->nr_regions; i++) {
		if (s->r[i].shared) {
			/* mapped and filled by process 0; map each page here */
			check(0xff, i);
			continue;
		}
		map_region(&s->r[i], i);
		fill(&s->r[i], idx, i);
	}
	put(reply, &me, sizeof(me));
	while (read(cmd, &c, 1) == 1) {
		memset(v, 0, sizeof(v));
		if (c == 'v') {
			for (i = 0; i < s->nr_regions; i++)
				v[0] += check(s->r[i].shared ? 0xff : idx, i);
		} else if (c == 's') {
			st.stop = false;
			st.worst_mmap_ns = 0;
			st.worst_touch_ns = 0;
			pthread_create(&st.mmap_thread, NULL, mmap_loop, &st);
			pthread_create(&st.touch_thread, NULL, touch_loop, &st);
		} else if (c == 'e') {
			__atomic_store_n(&st.stop, true, __ATOMIC_RELAXED);
			pthread_join(st.mmap_thread, NULL);
			pthread_join(st.touch_thread, NULL);
			v[0] = st.worst_mmap_ns;
			v[1] = st.worst_touch_ns;
		}
		put(reply, v, sizeof(v));
	}
	/* The leader exits last, so the next scenario starts on empty nodes. */
	while (wait(NULL) > 0)
		;
	_exit(0);
}

static void job_start(struct job *j, const struct scenario *s)
{
	int cmd[MAX_PROCS][2], reply[MAX_PROCS][2], i, k;
	pid_t leader;

	j->s = s;
	j->nr = s->nr_procs ?: 1;
	for (k = 0; k < j->nr; k++)
		if (pipe(cmd[k]) || pipe(reply[k]))
			die("pipe");
	leader = fork();
	if (leader < 0)
		die("fork");
	if (!leader) {
		cpu_set_t all;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Any CPU: the caller keeps node 2's CPU 2 to itself. */
		CPU_ZERO(&all);
		for (i = 0; i < 4; i++)
			CPU_SET(i, &all);
		sched_setaffinity(0, sizeof(all), &all);
		/* Only the bench holds these, so closing them ends the job. */
		for (k = 0; k < j->nr; k++) {
			close(cmd[k][1]);
			close(reply[k][0]);
		}
		for (i = 0; i < s->nr_regions; i++) {
			if (!s->r[i].shared)
				continue;
			map_region(&s->r[i], i);
			fill(&s->r[i], 0xff, i);
		}
		for (k = 1; k < j->nr; k++) {
			pid_t w = fork();

			if (w < 0)
				die("fork");
			if (!w)
				job_process(s, k, cmd[k][0], reply[k][1]);
		}
		job_process(s, 0, cmd[0][0], reply[0][1]);
	}
	for (k = 0; k < j->nr; k++) {
		close(cmd[k][0]);
		close(reply[k][1]);
		j->cmd[k] = cmd[k][1];
		j->reply[k] = reply[k][0];
		get(j->reply[k], &j->pid[k], sizeof(pid_t));
	}
}

static void job_ask(struct job *j, char c, __u64 *sum)
{
	__u64 v[2];
	int k;

	sum[0] = 0;
	sum[1] = 0;
	for (k = 0; k < j->nr; k++)
		put(j->cmd[k], &c, 1);
	for (k = 0; k < j->nr; k++) {
		get(j->reply[k], v, sizeof(v));
		sum[0] += v[0];
		sum[1] += v[1];
	}
}

static void job_stop(struct job *j)
{
	int k;

	for (k = 0; k < j->nr; k++) {
		close(j->cmd[k]);
		close(j->reply[k]);
	}
	while (wait(NULL) > 0)
		;
}

/* ------------------------------------------------------------ moves */
static void **addrs;
static int *status;

/* Pages of the regions a process must see (shared ones in process 0). */
static bool region_of(const struct job *j, int k, int i)
{
	return !j->s->r[i].shared || k == 0;
}

/* Every page on its node of layout @to?  Returns pages checked. */
static unsigned long verify(const struct job *j, int to)
{
	const struct scenario *s = j->s;
	unsigned long total = 0;
	int k, i;

	for (k = 0; k < j->nr; k++) {
		for (i = 0; i < s->nr_regions; i++) {
			unsigned long n = rsize[i] / PAGE, p, c;
			char *base = raddr[i];

			if (!region_of(j, k, i))
				continue;
			for (p = 0; p < n; p += CHUNK) {
				unsigned long cnt = n - p < CHUNK ? n - p : CHUNK;

				for (c = 0; c < cnt; c++)
					addrs[c] = base + (p + c) * PAGE;
				if (syscall(SYS_move_pages, j->pid[k], cnt, addrs, NULL,
					    status, 0))
					die("move_pages (query)");
				for (c = 0; c < cnt; c++)
					if (status[c] != s->r[i].node[to])
						fail("page %lu not on its node", s->id,
						     p + c);
			}
			total += n;
		}
	}
	return total;
}

/*
 * One migrate_pages2() call moving layout !to to layout to, on the range
 * [start, start + len) (len 0: the scenario's range, if any).
 */
static void call_mp2_range(const struct job *j, int to, unsigned int workers,
			   char *start, unsigned long len)
{
	const struct scenario *s = j->s;
	int old[MAX_REGIONS], new[MAX_REGIONS], nr = 0, i, k;
	struct migrate_pages_stats st;
	long left;
	struct migrate_pages_args a = {
		.flags = MIGRATE_PAGES2_MOVE_ALL,
		.pids = (uintptr_t)j->pid,
		.old_nodes = (uintptr_t)old,
		.new_nodes = (uintptr_t)new,
		.stats = (uintptr_t)&st,
		.nr_pids = j->nr,
		.workers = workers,
	};

	for (i = 0; i < s->nr_regions; i++) {
		int from = s->r[i].node[!to], dest = s->r[i].node[to];

		for (k = 0; k < nr && old[k] != from; k++)
			;
		if (from != dest && k == nr) {
			old[nr] = from;
			new[nr++] = dest;
		}
	}
	a.nr_nodes = nr;
	if (len) {
		a.start = (uintptr_t)start;
		a.len = len;
	} else if (s->range) {
		a.start = (uintptr_t)raddr[s->range];
		a.len = rsize[s->range];
	}
	left = syscall(__NR_migrate_pages2, &a, sizeof(a));
	if (left < 0)
		die("migrate_pages2");
	if (left)
		fail("migrate_pages2 left %lu pages behind", s->id, left);
}

static void call_mp2(const struct job *j, int to, unsigned int workers)
{
	call_mp2_range(j, to, workers, NULL, 0);
}

/*
 * The answer to "why threads inside the call": USER_THREADS threads of the
 * caller, each calling migrate_pages2() (workers = 1) on its part of every
 * region, 1/USER_THREADS of it, at once.
 */
struct user_thread {
	const struct job *j;
	int to, t;
};

static void *user_thread(void *arg)
{
	const struct user_thread *u = arg;
	unsigned long part;
	int i;

	for (i = 0; i < u->j->s->nr_regions; i++) {
		part = rsize[i] / USER_THREADS / PAGE * PAGE;
		if (u->t == USER_THREADS - 1)
			call_mp2_range(u->j, u->to, 1, raddr[i] + u->t * part,
				       rsize[i] - u->t * part);
		else
			call_mp2_range(u->j, u->to, 1, raddr[i] + u->t * part, part);
	}
	return NULL;
}

static void call_user_threads(const struct job *j, int to)
{
	struct user_thread u[USER_THREADS];
	pthread_t th[USER_THREADS];
	int t;

	for (t = 0; t < USER_THREADS; t++) {
		u[t] = (struct user_thread){ .j = j, .to = to, .t = t };
		if (pthread_create(&th[t], NULL, user_thread, &u[t]))
			die("pthread_create");
	}
	for (t = 0; t < USER_THREADS; t++)
		pthread_join(th[t], NULL);
}

static void call_migrate_pages(const struct job *j, int to)
{
	const struct scenario *s = j->s;
	int k, c;

	for (k = 0; k < j->nr; k++) {
		for (c = 0; c < s->nr_calls; c++) {
			/* 1 -> 0 undoes 0 -> 1: the calls reversed. */
			const struct mask_call *m = &s->calls[to ? c : s->nr_calls - 1 - c];
			unsigned long from = to ? m->from : m->to;
			unsigned long dest = to ? m->to : m->from;

			if (syscall(SYS_migrate_pages, j->pid[k], sizeof(from) * 8 + 1,
				    &from, &dest) < 0)
				die("migrate_pages");
		}
	}
}

/* move_pages(2) given every page that moves, prepared before the clock. */
struct page_list {
	unsigned long n;
	void **addrs;
	int *nodes;
	int *pid;	/* per page: index of its process */
	int *status;
};

static void prepare_move_pages(const struct job *j, int to, struct page_list *l)
{
	const struct scenario *s = j->s;
	int k, i;

	l->n = 0;
	for (k = 0; k < j->nr; k++) {
		for (i = 0; i < s->nr_regions; i++) {
			unsigned long n = rsize[i] / PAGE, p;

			if (!region_of(j, k, i) || s->r[i].node[0] == s->r[i].node[1])
				continue;
			for (p = 0; p < n; p++) {
				l->addrs[l->n] = raddr[i] + p * PAGE;
				l->nodes[l->n] = s->r[i].node[to];
				l->pid[l->n++] = k;
			}
		}
	}
}

static void call_move_pages(const struct job *j, const struct page_list *l)
{
	unsigned long p = 0, q;

	while (p < l->n) {
		for (q = p; q < l->n && l->pid[q] == l->pid[p]; q++)
			;
		if (syscall(SYS_move_pages, j->pid[l->pid[p]], q - p, l->addrs + p,
			    l->nodes + p, l->status + p, MPOL_MF_MOVE_ALL) < 0)
			die("move_pages");
		p = q;
	}
}

/*
 * The physical reference: copy the same bytes from node 2 to node 3 (the
 * job holds nodes 0 and 1; under QEMU every node is the same host RAM).
 */
static double copy_bytes(unsigned long bytes, bool thp)
{
	char *src = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t;

	if (src == MAP_FAILED || dst == MAP_FAILED)
		die("mmap");
	if (thp && (madvise(src, bytes, MADV_HUGEPAGE) ||
		    madvise(dst, bytes, MADV_HUGEPAGE)))
		die("madvise");
	bind_node(2);
	memset(src, 0x5a, bytes);
	bind_node(3);
	memset(dst, 0, bytes);
	bind_node(-1);
	t = now();
	memcpy(dst, src, bytes);
	t = now() - t;
	if (memcmp(dst, src, bytes))
		fail("copy of %lu bytes differs", "copy", bytes);
	munmap(src, bytes);
	munmap(dst, bytes);
	return t;
}

/* AnonHugePages of a process, in kB: are its THPs still huge? */
static unsigned long anon_huge_kb(pid_t pid)
{
	char path[64], line[256];
	unsigned long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * /proc/vmstat counters that say where a THP sample's time went: direct
 * compaction for the destination's huge pages, or THPs split on the way.
 */
static const char *const vmstat_names[] = {
	"compact_stall", "compact_migrate_scanned", "compact_free_scanned",
	"thp_migration_success", "thp_migration_split", "pgmigrate_success",
};

#define NR_VMSTAT	ARRAY_SIZE(vmstat_names)

static void vmstat_read(unsigned long *val)
{
	char name[64];
	unsigned long v;
	size_t i;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		die("/proc/vmstat");
	memset(val, 0, NR_VMSTAT * sizeof(*val));
	while (fscanf(f, "%63s %lu", name, &v) == 2)
		for (i = 0; i < NR_VMSTAT; i++)
			if (!strcmp(name, vmstat_names[i]))
				val[i] = v;
	fclose(f);
}

static void vmstat_print(const char *id, const char *method,
			 const unsigned long *before, const unsigned long *after)
{
	size_t i;

	printf("MP2-BENCH-VMSTAT %s %s", id, method);
	for (i = 0; i < NR_VMSTAT; i++)
		printf(" %s=%lu", vmstat_names[i], after[i] - before[i]);
	printf("\n");
}

static unsigned long moved_bytes(const struct job *j)
{
	unsigned long b = 0;
	int k, i;

	for (k = 0; k < j->nr; k++)
		for (i = 0; i < j->s->nr_regions; i++)
			if (region_of(j, k, i) && j->s->r[i].node[0] != j->s->r[i].node[1])
				b += rsize[i];
	return b;
}

static unsigned long samples, verified;

/* ------------------------------------------------------------ profile */
#define TRACING		"/sys/kernel/tracing/"
static bool profile;

static void write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(val, f) < 0 || fclose(f))
		die(path);
}

/* Print every CPU's counts so far for the host, which subtracts. */
static void profile_dump(const char *id, const char *method, const char *when)
{
	char path[128], line[512];
	int cpu;

	printf("MP2-PROFILE %s %s %s\n", id, method, when);
	for (cpu = 0; ; cpu++) {
		FILE *f;

		snprintf(path, sizeof(path), TRACING "trace_stat/function%d", cpu);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			fputs(line, stdout);
		fclose(f);
	}
	printf("MP2-PROFILE-END\n");
	fflush(stdout);
}

static bool wanted(const char *only, const char *id)
{
	size_t n = strlen(id);
	const char *p = only;

	if (!only)
		return true;
	while ((p = strstr(p, id))) {
		if ((p == only || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static void run_scenario(const struct scenario *s, int reps)
{
	struct page_list l = { 0 };
	enum method order[NR_METHODS];
	int nr = 0, rep, m, to = 1;
	unsigned long bytes, max_pages = 0;
	unsigned long vm_before[NR_VMSTAT], vm_after[NR_VMSTAT];
	struct job j;
	__u64 v[2];

	for (m = 0; m < NR_METHODS; m++)
		if (s->methods & M(m) && wanted(only_methods, method_name[m]))
			order[nr++] = m;
	if (!nr)
		return;
	printf("MP2-BENCH-SCENARIO %s %s\n", s->id, s->title);
	fflush(stdout);
	place_regions(s);
	job_start(&j, s);
	bytes = moved_bytes(&j);
	max_pages = bytes / PAGE;
	l.addrs = malloc(max_pages * sizeof(void *));
	l.nodes = malloc(max_pages * sizeof(int));
	l.pid = malloc(max_pages * sizeof(int));
	l.status = malloc(max_pages * sizeof(int));
	if (!l.addrs || !l.nodes || !l.pid || !l.status)
		die("malloc");
	verified += verify(&j, 0);
	if (s->r[0].thp)
		printf("MP2-BENCH-THP %s initial %lu\n", s->id, anon_huge_kb(j.pid[0]));
	for (rep = 0; rep < reps; rep++) {
		for (m = 0; m < nr; m++) {
			enum method meth = order[(m + rep) % nr];
			double t;

			if (meth == COPY) {
				t = copy_bytes(bytes, s->r[0].thp);
				printf("MP2-BENCH %s %s %lu %.6f\n", s->id,
				       method_name[meth], bytes, t);
				samples++;
				continue;
			}
			if (meth == MOVE_PAGES)
				prepare_move_pages(&j, to, &l);
			if (s->stall)
				job_ask(&j, 's', v);
			if (profile)
				profile_dump(s->id, method_name[meth], "before");
			if (s->r[0].thp)
				vmstat_read(vm_before);
			t = now();
			if (meth == MP2_UT4)
				call_user_threads(&j, to);
			else if (method_workers[meth])
				call_mp2(&j, to, method_workers[meth]);
			else if (meth == MIGRATE_PAGES)
				call_migrate_pages(&j, to);
			else
				call_move_pages(&j, &l);
			t = now() - t;
			if (s->r[0].thp)
				vmstat_read(vm_after);
			if (profile)
				profile_dump(s->id, method_name[meth], "after");
			if (s->stall) {
				job_ask(&j, 'e', v);
				printf("MP2-BENCH-STALL %s %s %.1f %.1f\n", s->id,
				       method_name[meth], v[0] / 1e3, v[1] / 1e3);
			}
			verified += verify(&j, to);
			if (s->r[0].thp) {
				printf("MP2-BENCH-THP %s %s %lu\n", s->id,
				       method_name[meth], anon_huge_kb(j.pid[0]));
				vmstat_print(s->id, method_name[meth], vm_before, vm_after);
			}
			job_ask(&j, 'v', v);
			if (v[0])
				fail("%lu pages lost their contents", s->id, v[0]);
			printf("MP2-BENCH %s %s %lu %.6f\n", s->id, method_name[meth],
			       bytes, t);
			fflush(stdout);
			samples++;
			to = !to;
		}
	}
	job_stop(&j);
	free(l.addrs);
	free(l.nodes);
	free(l.pid);
	free(l.status);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int reps = 5, opt;
	cpu_set_t cpus;
	size_t i;

	while ((opt = getopt(argc, argv, "r:s:o:m:p")) != -1) {
		if (opt == 'p')
			profile = true;
		else if (opt == 'm')
			only_methods = optarg;
		else if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 's')
			scale = strtoul(optarg, NULL, 0);
		else if (opt == 'o')
			only = optarg;
		else
			return 2;
	}
	if (reps < 1 || scale < 1)
		return 2;
	if (profile)
		write_str(TRACING "function_profile_enabled", "1");
	addrs = malloc(CHUNK * sizeof(void *));
	status = malloc(CHUNK * sizeof(int));
	if (!addrs || !status)
		die("malloc");
	/* The migrating caller on node 2's CPUs, away from the jobs' first nodes. */
	CPU_ZERO(&cpus);
	CPU_SET(2, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (!wanted(only, scenarios[i].id) &&
		    !(scenarios[i].id[1] == '-' && wanted(only, "8")))
			continue;
		run_scenario(&scenarios[i], reps);
	}
	printf("MP2-BENCH-DONE %lu %lu\n", samples, verified);
	return 0;
}
