// SPDX-License-Identifier: GPL-2.0
/*
 * migrate-pages: move processes' memory between NUMA nodes with
 * migrate_pages2(2), and say what happened.
 *
 * Same idiom as numactl's migratepages(8) (a pid and two node lists), plus
 * explicit pairs, several processes or a whole cgroup in one call, ranges,
 * dry runs, a bandwidth cap, and an answer that can be acted on: pages per
 * node before and after, what stayed and why, and an exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/migrate_pages2.h>

#ifndef __NR_migrate_pages2
#error "migrate_pages2 needs the kernel's UAPI headers: make headers_install"
#endif

#define fallthrough	__attribute__((__fallthrough__))

#define MAX_NODES	1024
#define MAX_PIDS	1024
#define MAX_WORKERS	1024
#define DEFAULT_WORKERS	8
#define MIB		(1024.0 * 1024.0)

enum { EXIT_ALL_MOVED = 0, EXIT_SOME_STAYED = 1, EXIT_FAILED = 2 };

struct request {
	uint64_t flags;
	int old_nodes[MAX_NODES];
	int new_nodes[MAX_NODES];
	unsigned int nr_nodes;
	int pids[MAX_PIDS];
	unsigned int nr_pids;
	uint64_t start;
	uint64_t len;
	double rate;		/* MiB/s, 0 for no cap */
	unsigned int workers;	/* threads moving pages, 0 until chosen */
	double finish_after;	/* --lazy: seconds until an ordinary call, or -1 */
	bool json;
	bool quiet;
};

/* Pages of one process per node, from /proc/PID/numa_maps. */
struct placement {
	unsigned long pages[MAX_NODES];
};

static const char *prog = "migrate-pages";

static const char help_text[] =
"Usage: migrate-pages [OPTIONS] --map SRC:DST[,SRC:DST...] PID...\n"
"       migrate-pages [OPTIONS] --map SRC:DST[,...] --cgroup PATH\n"
"       migrate-pages [OPTIONS] PID FROM-NODES TO-NODES\n"
"\n"
"Move the memory of processes between NUMA nodes with migrate_pages2(2)\n"
"(a kernel with CONFIG_MIGRATE_PAGES2).  A page on SRC goes to DST; SRC\n"
"'*' is every node that no other pair names.  The second form is\n"
"numactl's migratepages(8): node lists like 0-2,5, 'all' or '!3', paired\n"
"by position.\n"
"\n"
"Options:\n"
"  -m, --map PAIRS      source:destination pairs, e.g. 0:2,1:3 or 0:1,1:0\n"
"  -a, --all            also move pages mapped by several processes\n"
"                       (needs CAP_SYS_NICE; use it to move a whole job)\n"
"  -n, --dry-run        count what would move, move nothing\n"
"  -u, --update-policy  first rewrite the processes' memory policies (mbind,\n"
"                       set_mempolicy) through the pairs, so that memory they\n"
"                       allocate later lands where the job was moved\n"
"  -L, --lazy           move nothing now: mark the pages, and each moves to its\n"
"                       pair's node when the job next touches it; returns at\n"
"                       once (needs a kernel with NUMA balancing support; no\n"
"                       node may be both a source and a destination)\n"
"      --finish-after SECONDS  with --lazy: report while the job's own\n"
"                       touches move pages, then after SECONDS move the rest\n"
"                       with an ordinary call\n"
"  -r, --range START:LEN  only this address range (one PID); LEN may end\n"
"                       in K, M or G\n"
"  -c, --cgroup PATH    every process of a cgroup v2 group, in one call\n"
"                       (relative paths are under /sys/fs/cgroup)\n"
"      --rate MIB/S     move in chunks, at most MIB/S (one call per chunk)\n"
"  -w, --workers N      threads moving pages at once: this one and N-1\n"
"                       kernel helpers on the destination nodes' CPUs first\n"
"                       (default: the CPUs this tool may run on, at most 8;\n"
"                       1: this thread alone)\n"
"  -j, --json           print the result as JSON\n"
"  -q, --quiet          print nothing but errors, and no progress line (shown\n"
"                       on a terminal while pages move)\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 every page on a source node moved; 1 some pages stayed\n"
"(the output says how many and why); 2 usage error or the call failed.\n"
"\n"
"Examples:\n"
"  migrate-pages --all --map 0:2,1:3 1234 1235   move a two-process job\n"
"                                                to nodes 2 and 3\n"
"  migrate-pages --map 0:1,1:0 1234              swap nodes 0 and 1\n"
"  migrate-pages 1234 0-1 2-3                    numactl's form\n"
"  migrate-pages --lazy --finish-after 30 --map 0:2 1234\n"
"                                                move what the job touches\n"
"                                                now, the rest after 30 s\n";

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILED);
}

/* Read a node list file of sysfs ("0-3") into mask; false if unreadable. */
static bool read_sysfs_nodes(const char *path, bool mask[MAX_NODES])
{
	char line[4096], *p;
	FILE *f = fopen(path, "r");

	memset(mask, 0, MAX_NODES * sizeof(mask[0]));
	if (!f)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	while (p && *p >= '0' && *p <= '9') {
		long a = strtol(p, &p, 10), b = a;

		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		for (; a <= b && a < MAX_NODES; a++)
			mask[a] = true;
		if (*p != ',')
			break;
		p++;
	}
	return true;
}

static bool *memory_nodes(void)
{
	static bool mask[MAX_NODES];
	static bool read;

	if (!read && !read_sysfs_nodes("/sys/devices/system/node/has_memory", mask))
		die("cannot read /sys/devices/system/node/has_memory: %s", strerror(errno));
	read = true;
	return mask;
}

static int parse_node(const char *s, char **end)
{
	long n;

	if (*s < '0' || *s > '9')
		die("'%s': expected a node number", s);
	n = strtol(s, end, 10);
	if (n >= MAX_NODES)
		die("node %ld is out of range (at most %d)", n, MAX_NODES - 1);
	return n;
}

/* numactl's node list syntax: "0-2,5", "all", "!3"; sorted ids into out. */
static unsigned int parse_node_list(const char *s, int out[MAX_NODES])
{
	bool mask[MAX_NODES] = { false }, invert = false;
	unsigned int n = 0;
	char *p;
	int i;

	if (*s == '!') {
		invert = true;
		s++;
	}
	if (!strcmp(s, "all")) {
		memcpy(mask, memory_nodes(), sizeof(mask));
	} else {
		p = (char *)s;
		for (;;) {
			int a = parse_node(p, &p), b = a;

			if (*p == '-')
				b = parse_node(p + 1, &p);
			if (b < a)
				die("'%s': range %d-%d is backwards", s, a, b);
			for (; a <= b; a++)
				mask[a] = true;
			if (!*p)
				break;
			if (*p != ',')
				die("'%s': unexpected '%c' in node list", s, *p);
			p++;
		}
	}
	for (i = 0; i < MAX_NODES; i++)
		if (mask[i] != invert && (!invert || memory_nodes()[i]))
			out[n++] = i;
	if (!n)
		die("'%s' names no node", s);
	return n;
}

static void add_pair(struct request *req, int src, int dst)
{
	unsigned int i;

	for (i = 0; i < req->nr_nodes; i++)
		if (req->old_nodes[i] == src)
			die(src < 0 ? "'*' is given twice" : "node %d is a source twice", src);
	if (req->nr_nodes == MAX_NODES)
		die("too many pairs (at most %d)", MAX_NODES);
	req->old_nodes[req->nr_nodes] = src;
	req->new_nodes[req->nr_nodes++] = dst;
}

/* --map 0:2,1:3,*:3 */
static void parse_map(struct request *req, const char *s)
{
	char *p = (char *)s;

	for (;;) {
		int src, dst;

		if (*p == '*') {
			src = MIGRATE_PAGES2_ANY_NODE;
			p++;
		} else {
			src = parse_node(p, &p);
		}
		if (*p != ':')
			die("--map '%s': expected SRC:DST pairs like 0:2,1:3", s);
		dst = parse_node(p + 1, &p);
		add_pair(req, src, dst);
		if (!*p)
			return;
		if (*p != ',')
			die("--map '%s': unexpected '%c'", s, *p);
		p++;
	}
}

/* numactl's form: the i-th FROM node goes to the i-th TO node (wrapping). */
static void pair_lists(struct request *req, const char *from, const char *to)
{
	static int f[MAX_NODES], t[MAX_NODES];
	unsigned int nf = parse_node_list(from, f), nt = parse_node_list(to, t);
	unsigned int i;

	for (i = 0; i < nf; i++)
		add_pair(req, f[i], t[i % nt]);
}

static uint64_t parse_size(const char *s, char **end)
{
	uint64_t v;

	errno = 0;
	v = strtoull(s, end, 0);
	if (errno || *end == s)
		die("'%s': expected a number", s);
	switch (**end) {
	case 'G': case 'g':
		v <<= 10;
		fallthrough;
	case 'M': case 'm':
		v <<= 10;
		fallthrough;
	case 'K': case 'k':
		v <<= 10;
		(*end)++;
	}
	return v;
}

static void parse_range(struct request *req, const char *s)
{
	char *p;

	req->start = parse_size(s, &p);
	if (*p != ':')
		die("--range '%s': expected START:LEN, e.g. 0x7f0000000000:64M", s);
	req->len = parse_size(p + 1, &p);
	if (*p)
		die("--range '%s': trailing '%s'", s, p);
	if (!req->len)
		die("--range '%s': the length is 0", s);
	if (req->start % sysconf(_SC_PAGESIZE))
		die("--range '%s': the start is not page aligned", s);
}

static void add_pid(struct request *req, const char *s)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT32_MAX)
		die("'%s' is not a process id", s);
	if (req->nr_pids == MAX_PIDS)
		die("too many processes (at most %d in one call)", MAX_PIDS);
	req->pids[req->nr_pids++] = pid;
}

static void add_cgroup(struct request *req, const char *path)
{
	char file[4096], line[64];
	unsigned int before = req->nr_pids;
	FILE *f;

	snprintf(file, sizeof(file), "%s%s/cgroup.procs",
		 path[0] == '/' ? "" : "/sys/fs/cgroup/", path);
	f = fopen(file, "r");
	if (!f)
		die("--cgroup: cannot read %s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		add_pid(req, line);
	}
	fclose(f);
	if (req->nr_pids == before)
		die("--cgroup: %s has no processes", file);
}

/* Before the call, so that a mistake is named rather than an EINVAL. */
static void check_destinations(const struct request *req)
{
	unsigned int i;

	for (i = 0; i < req->nr_nodes; i++)
		if (!memory_nodes()[req->new_nodes[i]])
			die("node %d has no memory (see /sys/devices/system/node/has_memory)",
			    req->new_nodes[i]);
}

static void read_placement(int pid, struct placement *pl)
{
	long base_kb = sysconf(_SC_PAGESIZE) / 1024;
	char path[64], *line = NULL, *tok, *save;
	size_t cap = 0;
	FILE *f;

	memset(pl, 0, sizeof(*pl));
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		unsigned long counts[MAX_NODES] = { 0 }, kb = base_kb;
		int node, i;

		for (tok = strtok_r(line, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			unsigned long v;

			if (sscanf(tok, "N%d=%lu", &node, &v) == 2 &&
			    node >= 0 && node < MAX_NODES)
				counts[node] += v;
			else
				sscanf(tok, "kernelpagesize_kB=%lu", &kb);
		}
		for (i = 0; i < MAX_NODES; i++)
			pl->pages[i] += counts[i] * (kb / base_kb);
	}
	free(line);
	fclose(f);
}

/*
 * The nodes pages leave and the nodes they arrive at, each not also the
 * other (a swap's nodes are both): what the progress line counts.
 */
static void classify_nodes(const struct request *req, bool from[MAX_NODES],
			   bool to[MAX_NODES])
{
	bool named[MAX_NODES] = { false }, moving[MAX_NODES] = { false };
	int any = -1, n;
	unsigned int i;

	for (i = 0; i < req->nr_nodes; i++) {
		if (req->old_nodes[i] == MIGRATE_PAGES2_ANY_NODE) {
			any = req->new_nodes[i];
			continue;
		}
		named[req->old_nodes[i]] = true;
		moving[req->old_nodes[i]] = req->old_nodes[i] != req->new_nodes[i];
	}
	for (n = 0; any >= 0 && n < MAX_NODES; n++)
		if (!named[n] && memory_nodes()[n])
			moving[n] = n != any;
	memset(to, 0, MAX_NODES * sizeof(to[0]));
	for (i = 0; i < req->nr_nodes; i++) {
		int src = req->old_nodes[i];

		if (src == MIGRATE_PAGES2_ANY_NODE || moving[src])
			to[req->new_nodes[i]] = true;
	}
	for (n = 0; n < MAX_NODES; n++) {
		from[n] = moving[n] && !to[n];
		to[n] = to[n] && !moving[n];
	}
}

/*
 * --lazy: a page moved on one touch must not move again on the next, so
 * no node may receive pages and give them; named here, not as EINVAL.
 */
static void check_lazy_map(const struct request *req)
{
	bool named[MAX_NODES] = { false };
	int any = -1;
	unsigned int i, j;

	for (i = 0; i < req->nr_nodes; i++) {
		if (req->old_nodes[i] == MIGRATE_PAGES2_ANY_NODE)
			any = req->new_nodes[i];
		else
			named[req->old_nodes[i]] = true;
	}
	for (i = 0; i < req->nr_nodes; i++) {
		int dst = req->new_nodes[i];
		bool gives = any >= 0 && !named[dst] && any != dst;

		if (req->old_nodes[i] == dst)
			continue;
		for (j = 0; j < req->nr_nodes; j++)
			gives |= req->old_nodes[j] == dst && req->new_nodes[j] != dst;
		if (gives)
			die("--lazy: node %d both receives and gives pages (%s)", dst,
			    "a chain, swap or cycle: a page would move again on its next touch");
	}
}

static long do_call(const struct request *req, const int *pids,
		    unsigned int nr_pids, uint64_t start, uint64_t len,
		    struct migrate_pages_stats *st)
{
	struct migrate_pages_args args = {
		.flags = req->flags,
		.pids = (uintptr_t)pids,
		.old_nodes = (uintptr_t)req->old_nodes,
		.new_nodes = (uintptr_t)req->new_nodes,
		.stats = (uintptr_t)st,
		.start = start,
		.len = len,
		.nr_pids = nr_pids,
		.nr_nodes = req->nr_nodes,
		.workers = req->workers,
	};

	return syscall(__NR_migrate_pages2, &args, sizeof(args));
}

static const char *call_error(int err)
{
	switch (err) {
	case ESRCH:
		return "no such process (has it exited?)";
	case EPERM:
		return "permission denied: another user's process needs ptrace rights; "
		       "--all, and destinations outside a process's cpuset, need CAP_SYS_NICE; "
		       "destinations must be in your own cpuset";
	case EINVAL:
		return "invalid request: a kernel thread as target, or a node the kernel refuses";
	case EINTR:
		return "interrupted; pages already moved stay moved";
	case ENOMEM:
		return "the kernel is out of memory for its bookkeeping";
	case ENOSYS:
		return "this kernel has no migrate_pages2 (needs CONFIG_MIGRATE_PAGES2=y)";
	case EOPNOTSUPP:
		return "this kernel cannot move pages lazily (needs CONFIG_NUMA_BALANCING=y)";
	default:
		return strerror(err);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A line on stderr, redrawn while pages move: pages on their new nodes. */
struct watch {
	const struct request *req;
	const struct placement *before;
	bool from[MAX_NODES], to[MAX_NODES];
	int stop;
	bool shown;
};

static void watch_line(struct watch *w)
{
	unsigned long on = 0, total = 0;
	struct placement now;
	unsigned int i;
	int n;

	for (i = 0; i < w->req->nr_pids; i++) {
		read_placement(w->req->pids[i], &now);
		for (n = 0; n < MAX_NODES; n++) {
			if (w->to[n]) {
				on += now.pages[n];
				total += w->before[i].pages[n];
			}
			if (w->from[n])
				total += w->before[i].pages[n];
		}
	}
	if (!total)
		return;
	fprintf(stderr, "\r%lu of %lu pages on the destination nodes (%lu%%)  ",
		on, total, on * 100 / total);
	w->shown = true;
}

static void watch_pause(struct watch *w, double secs)
{
	double end = now() + secs;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) && now() < end)
		usleep(20000);
}

static void *watch_thread(void *arg)
{
	struct watch *w = arg;

	/* A short move shows nothing. */
	watch_pause(w, 1.0);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		watch_line(w);
		watch_pause(w, 0.5);
	}
	return NULL;
}

/* Without @thread, only set up for watch_line(). */
static bool watch_start(struct watch *w, const struct request *req,
			const struct placement *before, pthread_t *thread)
{
	w->req = req;
	w->before = before;
	w->stop = 0;
	w->shown = false;
	classify_nodes(req, w->from, w->to);
	if (!thread || req->quiet || !isatty(STDERR_FILENO))
		return false;
	return !pthread_create(thread, NULL, watch_thread, w);
}

static void watch_stop(struct watch *w, pthread_t thread)
{
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	if (w->shown)
		fputc('\n', stderr);
}

static void add_stats(struct migrate_pages_stats *sum,
		      const struct migrate_pages_stats *st)
{
	sum->scanned += st->scanned;
	sum->moved += st->moved;
	sum->shared += st->shared;
	sum->busy += st->busy;
	sum->no_memory += st->no_memory;
	sum->split += st->split;
	sum->policies += st->policies;
	sum->deferred += st->deferred;
}

static void progress(uint64_t done, uint64_t total, double mib_s)
{
	int width = 30, fill = total ? (int)(width * done / total) : width;

	fprintf(stderr, "\r[%-*.*s] %3d%% %8.1f MiB %7.1f MiB/s", width, fill,
		"##############################", total ? (int)(100 * done / total) : 100,
		done / MIB, mib_s);
}

/* Mapped ranges of pid, clipped to [start, start + len) when len is set. */
static size_t read_ranges(int pid, uint64_t start, uint64_t len,
			  uint64_t (*ranges)[2], size_t max)
{
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		if (len) {
			a = a > start ? a : start;
			b = b < start + len ? b : start + len;
		}
		if (a < b) {
			ranges[n][0] = a;
			ranges[n++][1] = b;
		}
	}
	fclose(f);
	return n;
}

/*
 * --rate: one call per chunk of each target's mapped ranges, sleeping so
 * that the bytes moved stay under the cap.
 */
static long move_rated(const struct request *req, struct migrate_pages_stats *sum)
{
	static uint64_t ranges[65536][2];
	uint64_t page = sysconf(_SC_PAGESIZE), chunk, total = 0, done = 0;
	bool bar = !req->quiet && !req->json && isatty(STDERR_FILENO);
	double t0 = now();
	long left = 0;
	unsigned int i;
	size_t r, n;

	chunk = (uint64_t)(req->rate * MIB / 10) & ~(page - 1);
	if (chunk < (2 << 20))
		chunk = 2 << 20;
	for (i = 0; i < req->nr_pids; i++) {
		n = read_ranges(req->pids[i], req->start, req->len, ranges, 65536);
		for (r = 0; r < n; r++)
			total += ranges[r][1] - ranges[r][0];
	}
	for (i = 0; i < req->nr_pids; i++) {
		n = read_ranges(req->pids[i], req->start, req->len, ranges, 65536);
		for (r = 0; r < n; r++) {
			uint64_t a;

			for (a = ranges[r][0]; a < ranges[r][1]; a += chunk) {
				uint64_t l = ranges[r][1] - a < chunk ? ranges[r][1] - a : chunk;
				struct migrate_pages_stats st;
				long ret = do_call(req, &req->pids[i], 1, a, l, &st);
				double wait;

				if (ret < 0)
					return ret;
				left += ret;
				add_stats(sum, &st);
				done += l;
				wait = sum->moved * page / MIB / req->rate - (now() - t0);
				if (wait > 0)
					usleep(wait * 1e6);
				if (bar)
					progress(done, total,
						 sum->moved * page / MIB / (now() - t0));
			}
		}
	}
	if (bar)
		fputc('\n', stderr);
	return left;
}

static void print_placement(const struct request *req, struct placement *before,
			    struct placement *after)
{
	unsigned int i;
	int n;

	for (i = 0; i < req->nr_pids; i++) {
		char path[64], comm[64] = "?";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", req->pids[i]);
		f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		printf("pid %d (%s):", req->pids[i], comm);
		for (n = 0; n < MAX_NODES; n++)
			if (before[i].pages[n] || after[i].pages[n])
				printf(" N%d %lu->%lu", n, before[i].pages[n], after[i].pages[n]);
		printf("\n");
	}
}

static void print_json_nodes(const struct placement *pl)
{
	const char *sep = "";
	int n;

	printf("{");
	for (n = 0; n < MAX_NODES; n++) {
		if (pl->pages[n]) {
			printf("%s\"%d\":%lu", sep, n, pl->pages[n]);
			sep = ",";
		}
	}
	printf("}");
}

/*
 * --lazy --finish-after: what the job's touches moved before the ordinary
 * call, and what that call did.
 */
struct finish {
	double after;		/* seconds from the lazy call to the ordinary one */
	/*
	 * pages the destinations gained by then: the job's touches, what the
	 * lazy call moved at once, pages the job allocated there
	 */
	unsigned long gained;
	long left;		/* the ordinary call's return */
	double secs;		/* its duration */
	struct migrate_pages_stats st;
};

static void print_json_finish(const struct finish *fin)
{
	printf("\"finish\":{\"after_s\":%.3f,\"gained_on_destinations\":%lu,\"left\":%ld,",
	       fin->after, fin->gained, fin->left);
	printf("\"seconds\":%.6f,\"stats\":{\"scanned\":%llu,\"moved\":%llu,", fin->secs,
	       (unsigned long long)fin->st.scanned, (unsigned long long)fin->st.moved);
	printf("\"shared\":%llu,\"busy\":%llu,\"no_memory\":%llu,\"split\":%llu}},",
	       (unsigned long long)fin->st.shared, (unsigned long long)fin->st.busy,
	       (unsigned long long)fin->st.no_memory, (unsigned long long)fin->st.split);
}

static void print_json(const struct request *req, long left,
		       const struct migrate_pages_stats *st, double secs,
		       const struct finish *fin,
		       struct placement *before, struct placement *after)
{
	double mib = st->moved * sysconf(_SC_PAGESIZE) / MIB;
	unsigned int i;

	printf("{\"pairs\":[");
	for (i = 0; i < req->nr_nodes; i++)
		printf("%s[%d,%d]", i ? "," : "", req->old_nodes[i], req->new_nodes[i]);
	printf("],\"all\":%s,\"dry_run\":%s,\"update_policy\":%s,\"lazy\":%s,",
	       req->flags & MIGRATE_PAGES2_MOVE_ALL ? "true" : "false",
	       req->flags & MIGRATE_PAGES2_DRY_RUN ? "true" : "false",
	       req->flags & MIGRATE_PAGES2_UPDATE_POLICY ? "true" : "false",
	       req->flags & MIGRATE_PAGES2_LAZY ? "true" : "false");
	printf("\"workers\":%u,\"left\":%ld,", req->workers, left);
	printf("\"stats\":{\"scanned\":%llu,", (unsigned long long)st->scanned);
	printf("\"moved\":%llu,", (unsigned long long)st->moved);
	printf("\"shared\":%llu,", (unsigned long long)st->shared);
	printf("\"busy\":%llu,", (unsigned long long)st->busy);
	printf("\"no_memory\":%llu,", (unsigned long long)st->no_memory);
	printf("\"split\":%llu,", (unsigned long long)st->split);
	printf("\"policies\":%llu,", (unsigned long long)st->policies);
	printf("\"deferred\":%llu},", (unsigned long long)st->deferred);
	if (fin)
		print_json_finish(fin);
	printf("\"seconds\":%.6f,\"mib_per_s\":%.1f,\"processes\":[", secs,
	       secs > 0 ? mib / secs : 0);
	for (i = 0; i < req->nr_pids; i++) {
		printf("%s{\"pid\":%d,\"before\":", i ? "," : "", req->pids[i]);
		print_json_nodes(&before[i]);
		printf(",\"after\":");
		print_json_nodes(&after[i]);
		printf("}");
	}
	printf("]}\n");
}

static void print_text(const struct request *req, long left,
		       const struct migrate_pages_stats *st, double secs,
		       const struct finish *fin,
		       struct placement *before, struct placement *after)
{
	unsigned long long policies = st->policies;
	double mib;

	print_placement(req, before, after);
	if (req->flags & MIGRATE_PAGES2_LAZY)
		printf("lazy: %llu pages marked in %.3f s, each moves on its next touch%s\n",
		       (unsigned long long)st->deferred, secs,
		       req->flags & MIGRATE_PAGES2_DRY_RUN ? " (dry run: counted only)" : "");
	if (fin) {
		printf("after %.1f s: %lu pages on the destination nodes, %s\n",
		       fin->after, fin->gained, "more than before the call;");
		printf("then an ordinary call moved the rest:\n");
		st = &fin->st;
		left = fin->left;
		secs = fin->secs;
	}
	mib = st->moved * sysconf(_SC_PAGESIZE) / MIB;
	printf("scanned %llu, moved %llu, shared %llu, busy %llu, no memory %llu, split %llu%s\n",
	       (unsigned long long)st->scanned, (unsigned long long)st->moved,
	       (unsigned long long)st->shared, (unsigned long long)st->busy,
	       (unsigned long long)st->no_memory, (unsigned long long)st->split,
	       req->flags & MIGRATE_PAGES2_DRY_RUN ? " (dry run: nothing moved)" : "");
	printf("%.1f MiB in %.3f s, %.1f MiB/s, %u worker%s\n", mib, secs,
	       secs > 0 ? mib / secs : 0, req->workers, req->workers == 1 ? "" : "s");
	if (req->flags & MIGRATE_PAGES2_UPDATE_POLICY)
		printf("%llu memory polic%s rewritten%s\n", policies,
		       policies == 1 ? "y" : "ies",
		       req->flags & MIGRATE_PAGES2_DRY_RUN ? " (dry run: counted only)" : "");
	if (left > 0) {
		printf("%ld pages stayed: ", left);
		printf("%llu shared (mapped by several processes: add --all), ",
		       (unsigned long long)st->shared);
		printf("%llu busy (pinned or under I/O: try again), ",
		       (unsigned long long)st->busy);
		printf("%llu for want of memory on the destination\n",
		       (unsigned long long)st->no_memory);
	}
}

/* The CPUs this tool may run on, at most DEFAULT_WORKERS. */
static unsigned int default_workers(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > DEFAULT_WORKERS ? DEFAULT_WORKERS : n;
}

static void parse_args(struct request *req, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "update-policy", no_argument, NULL, 'u' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "finish-after", required_argument, NULL, 'F' },
		{ "range", required_argument, NULL, 'r' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'R' },
		{ "workers", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *cgroup = NULL;
	bool mapped = false, ranged = false;
	char *end;
	int c;

	req->finish_after = -1;
	while ((c = getopt_long(argc, argv, "m:anuLr:c:w:jqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			parse_map(req, optarg);
			mapped = true;
			break;
		case 'a':
			req->flags |= MIGRATE_PAGES2_MOVE_ALL;
			break;
		case 'n':
			req->flags |= MIGRATE_PAGES2_DRY_RUN;
			break;
		case 'u':
			req->flags |= MIGRATE_PAGES2_UPDATE_POLICY;
			break;
		case 'L':
			req->flags |= MIGRATE_PAGES2_LAZY;
			break;
		case 'F':
			req->finish_after = strtod(optarg, &end);
			if (*end || !*optarg || req->finish_after < 0)
				die("--finish-after '%s': expected seconds, 0 or more", optarg);
			break;
		case 'r':
			parse_range(req, optarg);
			ranged = true;
			break;
		case 'c':
			cgroup = optarg;
			break;
		case 'R':
			req->rate = strtod(optarg, &end);
			if (*end || req->rate <= 0)
				die("--rate '%s': expected MiB/s, a positive number", optarg);
			break;
		case 'w':
			req->workers = strtoul(optarg, &end, 10);
			if (*end || !*optarg || req->workers < 1 || req->workers > MAX_WORKERS)
				die("--workers '%s': expected a number from 1 to %d",
				    optarg, MAX_WORKERS);
			break;
		case 'j':
			req->json = true;
			break;
		case 'q':
			req->quiet = true;
			break;
		case 'h':
			fputs(help_text, stdout);
			exit(EXIT_ALL_MOVED);
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			exit(EXIT_FAILED);
		}
	}
	if (!mapped) {
		if (argc - optind != 3 || cgroup)
			die("give --map SRC:DST and PIDs, or PID FROM-NODES TO-NODES (see --help)");
		add_pid(req, argv[optind]);
		pair_lists(req, argv[optind + 1], argv[optind + 2]);
	} else {
		for (; optind < argc; optind++)
			add_pid(req, argv[optind]);
		if (cgroup)
			add_cgroup(req, cgroup);
		if (!req->nr_pids)
			die("no process given: name PIDs or --cgroup PATH");
	}
	if (ranged && req->nr_pids != 1)
		die("--range takes exactly one process");
	if (req->finish_after >= 0 && !(req->flags & MIGRATE_PAGES2_LAZY))
		die("--finish-after goes with --lazy");
	if (req->finish_after >= 0 && req->flags & MIGRATE_PAGES2_DRY_RUN)
		die("--finish-after moves pages: not with --dry-run");
	if (req->flags & MIGRATE_PAGES2_LAZY && req->rate > 0)
		die("--rate paces a move, and --lazy moves nothing now: choose one");
	check_destinations(req);
	if (req->flags & MIGRATE_PAGES2_LAZY)
		check_lazy_map(req);
	if (!req->workers)
		req->workers = default_workers();
}

/* The call, with the progress line on a terminal while it runs. */
static long watched_call(const struct request *req, const struct placement *before,
			 struct migrate_pages_stats *st)
{
	static struct watch w;
	pthread_t thread;
	bool watching = watch_start(&w, req, before, &thread);
	long ret = do_call(req, req->pids, req->nr_pids, req->start, req->len, st);
	int err = errno;

	if (watching)
		watch_stop(&w, thread);
	errno = err;
	return ret;
}

/* The failed call's error, in JSON too; exits. */
static void call_failed(const struct request *req)
{
	int err = errno;

	if (req->json)
		printf("{\"error\":\"%s\",\"errno\":%d}\n", call_error(err), err);
	die("migrate_pages2: %s", call_error(err));
}

/*
 * --lazy --finish-after: the job's own touches move pages for a while
 * (the progress line shows how many), then an ordinary call moves what is
 * left and replaces the lazy call's counts in the exit status.
 */
static void finish_lazy(struct request *req, const struct placement *before,
			struct finish *fin)
{
	static struct watch w;
	struct placement now_pl;
	double t0 = now();
	bool show;
	unsigned int i;
	int n;

	watch_start(&w, req, before, NULL);
	show = !req->quiet && isatty(STDERR_FILENO);
	while (now() - t0 < req->finish_after) {
		if (show)
			watch_line(&w);
		usleep(200000);
	}
	if (w.shown)
		fputc('\n', stderr);
	fin->after = now() - t0;
	for (i = 0; i < req->nr_pids; i++) {
		read_placement(req->pids[i], &now_pl);
		for (n = 0; n < MAX_NODES; n++)
			if (w.to[n] && now_pl.pages[n] > before[i].pages[n])
				fin->gained += now_pl.pages[n] - before[i].pages[n];
	}
	req->flags &= ~MIGRATE_PAGES2_LAZY;
	t0 = now();
	fin->left = watched_call(req, before, &fin->st);
	fin->secs = now() - t0;
	req->flags |= MIGRATE_PAGES2_LAZY;
	if (fin->left < 0)
		call_failed(req);
}

int main(int argc, char **argv)
{
	static struct placement before[MAX_PIDS], after[MAX_PIDS];
	struct migrate_pages_stats st = { 0 };
	struct finish fin = { 0 }, *finp = NULL;
	static struct request req;
	double t0, secs;
	unsigned int i;
	long left;

	parse_args(&req, argc, argv);
	for (i = 0; i < req.nr_pids; i++)
		read_placement(req.pids[i], &before[i]);
	t0 = now();
	if (req.rate > 0)
		left = move_rated(&req, &st);
	else
		left = watched_call(&req, before, &st);
	secs = now() - t0;
	if (left < 0)
		call_failed(&req);
	if (req.finish_after >= 0) {
		finish_lazy(&req, before, &fin);
		finp = &fin;
		left = fin.left;
	}
	for (i = 0; i < req.nr_pids; i++)
		read_placement(req.pids[i], &after[i]);
	if (req.json)
		print_json(&req, left, &st, secs, finp, before, after);
	else if (!req.quiet)
		print_text(&req, left, &st, secs, finp, before, after);
	return left > 0 ? EXIT_SOME_STAYED : EXIT_ALL_MOVED;
}
