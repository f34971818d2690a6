// SPDX-License-Identifier: GPL-2.0
/*
 * mp2-lazy-bench: what a move costs a running job, eager against lazy
 * (MIGRATE_PAGES2_LAZY), in one boot of the 4-node guest
 * (harness/verbs_bench.py, harness/bench.py).
 *
 * The job is MPI-like: one process whose four worker threads each rewrite
 * their own chunk in a loop (one word of every page per iteration); half of
 * each chunk is hot, rewritten all the time, and half is cold, written once
 * at the start.  Workers 0 and 1 start on node 0, workers 2 and 3 on node
 * 1.  Each sample moves the whole job to the other pair of nodes ({0,1} ->
 * {2,3}, then back), by one method: migrate_pages2 with the caller alone
 * ("eager-w1"), with four workers ("eager-w4"), or lazily ("lazy": the call
 * marks the pages and the workers' own touches move the hot ones; an
 * ordinary call then moves the cold rest, timed apart as "finish").
 *
 * Per sample: the call's duration; the time from the call until every hot
 * page is on its new node (the placement polled with move_pages()); the
 * job's lost work over that time (1 - iterations done / iterations the same
 * time took just before); the worst latency of one iteration of one worker;
 * and how many cold pages had moved by then.  The job checks a tag in every
 * page after each sample.
 *
 * Output, parsed on the host:
 *   MP2-BENCH-LAZY-SCENARIO <title>
 *   MP2-BENCH-LAZY <method> <call s> <hot s> <lost work> <worst iteration ms>
 *                  <cold pages moved> <cold pages> <finish s>
 *   MP2-BENCH-LAZY-DONE <samples> <pages verified>
 *
 * Usage: mp2-lazy-bench [-r reps] [-s scale]
 */
#define _GNU_SOURCE
#include "bench.h"

#define WORKERS		4
#define JOB_MIB		256

enum method { EAGER_W1, EAGER_W4, LAZY, NR_METHODS };

static const char *const method_name[NR_METHODS] = {
	"eager-w1", "eager-w4", "lazy",
};

/* What the job's workers report; shared with the bench process. */
struct board {
	__u64 iters[WORKERS];
	__u64 worst_ns[WORKERS];
	int stop;
};

static struct board *board;
static unsigned long chunk_pages;	/* per worker: hot half, then cold half */
static char *job;

static char *page_of(int worker, unsigned long i)
{
	return job + (worker * chunk_pages + i) * PAGE;
}

static __u64 tag(int worker, unsigned long i)
{
	return ((__u64)worker << 56) ^ (i * 0x9e3779b97f4a7c15ULL);
}

/* The node worker's chunk is on in layout 0 and in layout 1. */
static int node_of(int worker, int layout)
{
	return worker / 2 + 2 * layout;
}

static void *worker(void *arg)
{
	int w = (int)(uintptr_t)arg;
	unsigned long hot = chunk_pages / 2, i;

	while (!__atomic_load_n(&board->stop, __ATOMIC_RELAXED)) {
		double t = now();
		__u64 ns;

		/* now() is a call: the stores cannot be elided across it. */
		for (i = 0; i < hot; i++)
			(*(__u64 *)page_of(w, i))++;
		ns = (now() - t) * 1e9;
		__atomic_fetch_add(&board->iters[w], 1, __ATOMIC_RELAXED);
		if (ns > __atomic_load_n(&board->worst_ns[w], __ATOMIC_RELAXED))
			__atomic_store_n(&board->worst_ns[w], ns, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void bind_node(int node)
{
	unsigned long mask = 1UL << node;

	if (syscall(SYS_set_mempolicy, node < 0 ? MPOL_DEFAULT : MPOL_BIND,
		    node < 0 ? NULL : &mask, node < 0 ? 0 : sizeof(mask) * 8 + 1))
		die("set_mempolicy");
}

/*
 * The job: its chunks filled on their layout-0 nodes (a tag at the end of
 * each page), its workers started; 'v' on cmd checks every tag and answers
 * the number of bad pages on reply.
 */
static void job_process(int cmd, int reply)
{
	pthread_t threads[WORKERS];
	unsigned long i;
	__u64 bad;
	int w;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (w = 0; w < WORKERS; w++) {
		bind_node(node_of(w, 0));
		for (i = 0; i < chunk_pages; i++) {
			__u64 t = tag(w, i);

			memcpy(page_of(w, i) + PAGE - sizeof(t), &t, sizeof(t));
			*(__u64 *)page_of(w, i) = 0;
		}
	}
	bind_node(-1);
	for (w = 0; w < WORKERS; w++)
		if (pthread_create(&threads[w], NULL, worker, (void *)(uintptr_t)w))
			die("pthread_create");
	while (read(cmd, &c, 1) == 1) {
		bad = 0;
		for (w = 0; w < WORKERS; w++)
			for (i = 0; i < chunk_pages; i++) {
				__u64 t;

				memcpy(&t, page_of(w, i) + PAGE - sizeof(t), sizeof(t));
				bad += t != tag(w, i);
			}
		if (write(reply, &bad, sizeof(bad)) != sizeof(bad))
			_exit(1);
	}
	_exit(0);
}

static __u64 iters(void)
{
	__u64 sum = 0;
	int w;

	for (w = 0; w < WORKERS; w++)
		sum += __atomic_load_n(&board->iters[w], __ATOMIC_RELAXED);
	return sum;
}

static __u64 worst_ns(bool reset)
{
	__u64 worst = 0, v;
	int w;

	for (w = 0; w < WORKERS; w++) {
		v = reset ? __atomic_exchange_n(&board->worst_ns[w], 0, __ATOMIC_RELAXED) :
			    __atomic_load_n(&board->worst_ns[w], __ATOMIC_RELAXED);
		worst = v > worst ? v : worst;
	}
	return worst;
}

/* Pages of the hot (or cold) halves already on their layout-@to node. */
static unsigned long on_new_nodes(pid_t pid, int to, bool hot)
{
	static void *addrs[65536];
	static int status[65536];
	unsigned long half = chunk_pages / 2, done = 0, i, n;
	int w;

	for (w = 0; w < WORKERS; w++) {
		for (i = 0; i < half; i += n) {
			unsigned long k;

			n = half - i < 65536 ? half - i : 65536;
			for (k = 0; k < n; k++)
				addrs[k] = page_of(w, (hot ? 0 : half) + i + k);
			if (syscall(SYS_move_pages, pid, n, addrs, NULL, status, 0))
				die("move_pages");
			for (k = 0; k < n; k++)
				done += status[k] == node_of(w, to);
		}
	}
	return done;
}

static long call(pid_t pid, int to, uint64_t flags, unsigned int workers)
{
	int old[2] = { node_of(0, !to), node_of(2, !to) };
	int new[2] = { node_of(0, to), node_of(2, to) };
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.flags = flags,
		.pids = (uintptr_t)&pid,
		.old_nodes = (uintptr_t)old,
		.new_nodes = (uintptr_t)new,
		.stats = (uintptr_t)&st,
		/* The job's chunks: the rest of it is shared with this process. */
		.start = (uintptr_t)job,
		.len = WORKERS * chunk_pages * PAGE,
		.nr_pids = 1,
		.nr_nodes = 2,
		.workers = workers,
	};
	long r = syscall(__NR_migrate_pages2, &a, sizeof(a));

	if (r < 0)
		die("migrate_pages2");
	return r;
}

/*
 * A page the job writes while it moves can be busy: an eager move calls
 * again for what stayed (within the sample's time), as a scheduler would.
 */
static void call_all(pid_t pid, int to, uint64_t flags, unsigned int workers)
{
	int tries = 0;

	while (call(pid, to, flags, workers) > 0)
		if (++tries == 10)
			die("pages stayed after 10 calls");
}

static unsigned long samples, verified;

static void sample(pid_t pid, int cmd, int reply, enum method m, int to)
{
	unsigned long half = chunk_pages / 2, hot_total = WORKERS * half;
	double t0, t1, rate, t_call, t_hot, t_fin = 0;
	__u64 i0, i1, worst, bad;
	unsigned long cold;

	/* The job's pace just before the move. */
	usleep(300000);
	i0 = iters();
	t0 = now();
	usleep(1000000);
	rate = (iters() - i0) / (now() - t0);

	worst_ns(true);
	i1 = iters();
	t1 = now();
	call_all(pid, to, m == LAZY ? MIGRATE_PAGES2_LAZY : 0, m == EAGER_W4 ? 4 : 1);
	t_call = now() - t1;
	while (on_new_nodes(pid, to, true) < hot_total) {
		if (now() - t1 > 60)
			die("the hot pages did not all move in 60 s");
		usleep(20000);
	}
	t_hot = now() - t1;
	i0 = iters() - i1;
	worst = worst_ns(false);
	cold = on_new_nodes(pid, to, false);
	if (m == LAZY) {
		t0 = now();
		call_all(pid, to, 0, 1);
		t_fin = now() - t0;
	}
	if (write(cmd, "v", 1) != 1 || read(reply, &bad, sizeof(bad)) != sizeof(bad))
		die("job");
	if (bad) {
		fprintf(stderr, "mp2-lazy-bench: %llu pages lost their contents\n",
			(unsigned long long)bad);
		exit(1);
	}
	verified += WORKERS * chunk_pages;
	samples++;
	printf("MP2-BENCH-LAZY %s %.6f %.6f %.4f %.3f %lu %lu %.6f\n", method_name[m],
	       t_call, t_hot, 1 - i0 / (rate * t_hot), worst / 1e6, cold,
	       hot_total, t_fin);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int reps = 3, opt, cmd[2], reply[2], rep, m, to = 1;
	unsigned long scale = 1, bytes;
	cpu_set_t cpus;
	pid_t pid;

	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 's')
			scale = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if (reps < 1 || scale < 1)
		return 2;
	bytes = (JOB_MIB * MIB / scale) & ~(WORKERS * 2 * MIB - 1);
	if (bytes < WORKERS * 2 * MIB)
		bytes = WORKERS * 2 * MIB;
	chunk_pages = bytes / WORKERS / PAGE;
	board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	job = mmap((void *)BASE, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (board == MAP_FAILED || job != (void *)BASE || pipe(cmd) || pipe(reply))
		die("setup");
	printf("MP2-BENCH-LAZY-SCENARIO MPI-like job, %lu MiB (half hot, half cold), %s\n",
	       bytes / MIB, "4 workers, {0,1} -> {2,3}");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		job_process(cmd[0], reply[1]);
	/* The mover on node 2's CPUs, as mp2-bench's. */
	CPU_ZERO(&cpus);
	CPU_SET(2, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	while (on_new_nodes(pid, 0, false) < WORKERS * chunk_pages / 2)
		usleep(100000);
	for (rep = 0; rep < reps; rep++) {
		for (m = 0; m < NR_METHODS; m++) {
			sample(pid, cmd[1], reply[0], (m + rep) % NR_METHODS, to);
			to = !to;
		}
	}
	__atomic_store_n(&board->stop, 1, __ATOMIC_RELAXED);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("MP2-BENCH-LAZY-DONE %lu %lu\n", samples, verified);
	return 0;
}
