// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's MPI-like job (see the seeds' 2005 thread): a parent maps a
 * shared region and forks workers; each worker runs on a CPU of node 0 or 1,
 * fills "its" chunk there (first touch), reads its neighbour's, and keeps
 * using its own.  Each worker binds its chunk and a scratch area to its node
 * (mbind), as MPI jobs do.  The job is moved to nodes 2 and 3 with
 * migrate-pages, without and then with --update-policy, and a fresh page
 * each worker allocates afterwards shows where the job will keep growing;
 * then it is moved back and moved again with mainline migrate_pages(2), and
 * the two are shown side by side: placement per worker, data verified, time.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#define WORKERS	4
#define CHUNK	(32UL << 20)	/* per worker */
#define SCRATCH	64		/* pages a worker allocates on request */
#define PAGE	4096UL

/* Shared by the demo and its workers. */
struct ctl {
	int go;			/* set once every worker has filled its chunk */
	int ask[WORKERS];	/* bumped to ask worker w for a fresh page */
	int done[WORKERS];	/* the last request worker w served */
	int node[WORKERS];	/* where its fresh page landed */
};

static char *region;
static struct ctl *ctl;
static pid_t workers[WORKERS];

static unsigned long long word(int w, unsigned long i, unsigned int round)
{
	return ((unsigned long long)w << 56) ^ (i * 0x9e3779b97f4a7c15ULL) ^ round;
}

static long node_of(pid_t pid, void *addr)
{
	int status = -1;

	if (syscall(SYS_move_pages, pid, 1, &addr, NULL, &status, 0))
		return -1;
	return status;
}

/* A fresh page of the scratch area, on request: where does it land? */
static void serve(int w, char *scratch, int *next)
{
	int ask = __atomic_load_n(&ctl->ask[w], __ATOMIC_ACQUIRE);

	if (ask == ctl->done[w] || *next >= SCRATCH)
		return;
	scratch[*next * PAGE] = 1;
	ctl->node[w] = node_of(0, scratch + *next * PAGE);
	(*next)++;
	__atomic_store_n(&ctl->done[w], ask, __ATOMIC_RELEASE);
}

static void run_worker(int w, int ready)
{
	unsigned long long *mine = (unsigned long long *)(region + w * CHUNK);
	unsigned long i, n = CHUNK / 8, mask = 1UL << (w % 2);
	unsigned int round = 0;
	cpu_set_t cpus;
	char *scratch;
	int served = 0;

	CPU_ZERO(&cpus);
	CPU_SET(w % 2, &cpus);		/* CPU 0 is on node 0, CPU 1 on node 1 */
	sched_setaffinity(0, sizeof(cpus), &cpus);
	scratch = mmap(NULL, SCRATCH * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* The job binds its memory to its node, as MPI jobs do. */
	if (scratch == MAP_FAILED ||
	    syscall(SYS_mbind, mine, CHUNK, MPOL_BIND, &mask, 64, 0) ||
	    syscall(SYS_mbind, scratch, SCRATCH * PAGE, MPOL_BIND, &mask, 64, 0))
		_exit(1);
	for (i = 0; i < n; i++)
		mine[i] = word(w, i, round);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	/* Only then read the neighbour's chunk: every page is mapped twice. */
	while (!__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE))
		usleep(10000);
	for (;;) {
		char *next = region + ((w + 1) % WORKERS) * CHUNK;
		unsigned long long *other = (unsigned long long *)next;

		serve(w, scratch, &served);
		for (i = 0; i < n; i += 512)
			__atomic_load_n(&other[i], __ATOMIC_RELAXED);
		/* Rewrite our chunk each round, checking the last round. */
		round++;
		for (i = 0; i < n; i++) {
			if (mine[i] != word(w, i, round - 1)) {
				fprintf(stderr, "w%d: word %lu lost!\n", w, i);
				_exit(1);
			}
			mine[i] = word(w, i, round);
		}
		usleep(200000);
	}
}

/* Ask every worker for a fresh page and show where each one landed. */
static void fresh(const char *title)
{
	int w;

	for (w = 0; w < WORKERS; w++)
		__atomic_add_fetch(&ctl->ask[w], 1, __ATOMIC_RELEASE);
	for (w = 0; w < WORKERS; w++)
		while (__atomic_load_n(&ctl->done[w], __ATOMIC_ACQUIRE) != ctl->ask[w])
			usleep(10000);
	printf("%-34s", title);
	for (w = 0; w < WORKERS; w++)
		printf("  w%d: N%d     ", w, ctl->node[w]);
	printf("\n");
}

/* Pages of each worker's chunk per node, sampled every 64th page. */
static void show(const char *title)
{
	int w, n;

	printf("%-34s", title);
	for (w = 0; w < WORKERS; w++) {
		unsigned long per[4] = { 0 }, i;

		for (i = 0; i < CHUNK / PAGE; i += 64) {
			long nd = node_of(workers[w], region + w * CHUNK + i * PAGE);

			if (nd >= 0 && nd < 4)
				per[nd]++;
		}
		printf("  w%d:", w);
		for (n = 0; n < 4; n++)
			if (per[n])
				printf(" N%d %3lu%%", n, per[n] * 100 / (CHUNK / PAGE / 64));
	}
	printf("\n");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_cli(const char *args)
{
	char cmd[512];
	int n, len;

	len = snprintf(cmd, sizeof(cmd), "migrate-pages %s", args);
	for (n = 0; n < WORKERS; n++)
		len += snprintf(cmd + len, sizeof(cmd) - len, " %d", workers[n]);
	printf("$ %s\n", cmd);
	fflush(stdout);
	return WEXITSTATUS(system(cmd));
}

/* Mainline: one migrate_pages(2) call per process, masks remapped by position. */
static double mainline(unsigned long from, unsigned long to)
{
	double t0 = now();
	int w;

	for (w = 0; w < WORKERS; w++)
		if (syscall(SYS_migrate_pages, workers[w], 8, &from, &to) < 0)
			perror("migrate_pages");
	return now() - t0;
}

static int alive(void)
{
	int w, status;

	for (w = 0; w < WORKERS; w++)
		if (waitpid(workers[w], &status, WNOHANG) == workers[w])
			return 0;
	return 1;
}

int main(void)
{
	int ready[2], w, rc;
	double secs;
	char c;

	region = mmap(NULL, WORKERS * CHUNK, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ctl = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || ctl == MAP_FAILED || pipe(ready))
		return 1;
	for (w = 0; w < WORKERS; w++) {
		workers[w] = fork();
		if (!workers[w])
			run_worker(w, ready[1]);
		if (read(ready[0], &c, 1) != 1)
			return 1;
	}
	__atomic_store_n(&ctl->go, 1, __ATOMIC_RELEASE);
	usleep(300000);
	printf("A job of %d workers sharing %lu MiB; worker w binds its %lu MiB to node\n"
	       "w%%2 (mbind) and fills it there.\n\n", WORKERS, WORKERS * CHUNK >> 20,
	       CHUNK >> 20);
	show("placement at start:");

	printf("\n1. migrate_pages2: the whole job to nodes 2 and 3, one call\n");
	rc = run_cli("--all --map 0:2,1:3");
	show("placement after:");
	printf("   exit status %d; workers %s\n", rc,
	       alive() ? "running, every word checked" : "FAILED");
	fresh("a fresh page, policies as they were:");
	printf("   the workers' policies still say nodes 0 and 1: the job grows back there\n");

	printf("\n1b. the same move with --update-policy (back first, then over)\n");
	rc = run_cli("--all --quiet --map 2:0,3:1");
	rc |= run_cli("--all --update-policy --map 0:2,1:3");
	show("placement after:");
	fresh("a fresh page, policies rewritten:");
	printf("   the policies followed the move: the job grows on nodes 2 and 3\n");

	printf("\n2. swap nodes 2 and 3, one call each way\n");
	rc = run_cli("--all --quiet --map 2:3,3:2");
	show("placement after the swap:");
	rc |= run_cli("--all --quiet --map 2:3,3:2");
	show("placement after swapping back:");

	printf("\n3. mainline migrate_pages(2): back to {0,1}, then {0,1} -> {2,3}\n");
	mainline(0xc, 0x3);		/* {2,3} -> {0,1} */
	show("placement moved back:");
	secs = mainline(0x3, 0xc);
	show("after migrate_pages(2) x4:");
	printf("   %d calls (one per process, each walking the shared region) in %.3f s\n",
	       WORKERS, secs);
	secs = mainline(0x3, 0x3);
	printf("   a swap {0,1} -> {1,0} is the same two masks: nothing to ask for\n");

	printf("\nworkers %s\n", alive() ? "still running, data intact" : "FAILED");
	rc = alive() ? 0 : 1;
	for (w = 0; w < WORKERS; w++)
		kill(workers[w], SIGKILL);
	while (wait(NULL) > 0)
		;
	return rc;
}
