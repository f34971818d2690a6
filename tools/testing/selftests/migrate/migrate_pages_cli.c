// SPDX-License-Identifier: GPL-2.0
/*
 * The migrate-pages tool (tools/mm/migrate-pages.c) driven as an admin
 * would: each option, each exit status, numactl's form, JSON read back, and
 * bad input refused with a message, exit status 2 and no page moved.  A
 * child holds 1024 pages on node 0; after each run the test asks the kernel
 * where they are.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define NPAGES	1024
#define SEED	0xc1ULL
#define OUT	8192

/*
 * A child holding NPAGES written on node 0, at the same address as here;
 * bound there by mbind() if asked (a VMA policy it inherits).
 */
struct target {
	pid_t pid;
	char *buf;
	char range[64];		/* "--range ADDR:LEN" of its pages */
};

static char *touch_buf;

/* SIGUSR1: the target touches each of its pages once (a read). */
static void touch_all(int sig)
{
	unsigned long i;

	for (i = 0; i < NPAGES; i++)
		__atomic_load_n(&touch_buf[i * PAGE], __ATOMIC_RELAXED);
}

static int start_target(struct target *t, bool bind)
{
	int ready[2];
	char c;

	t->buf = map_anon(NPAGES * PAGE, MAP_PRIVATE);
	if (!t->buf || pipe(ready))
		return -1;
	/* Bound to node 0: mask bit 0. */
	if (bind && sys_mbind(t->buf, NPAGES * PAGE, MPOL_BIND, 1, 0))
		return -1;
	snprintf(t->range, sizeof(t->range), "--range %p:%luK", t->buf, NPAGES * PAGE / 1024);
	t->pid = fork();
	if (!t->pid) {
		touch_buf = t->buf;
		signal(SIGUSR1, touch_all);
		/* Its own copy of the pages, written on node 0. */
		if (fill_on(t->buf, NPAGES, 0, SEED) || write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (t->pid < 0 || read(ready[0], &c, 1) != 1)
		return -1;
	close(ready[0]);
	close(ready[1]);
	return 0;
}

static void stop_target(struct target *t)
{
	if (t->pid > 0)
		reap(t->pid);
	t->pid = 0;
	if (t->buf)
		munmap(t->buf, NPAGES * PAGE);
	t->buf = NULL;
}

static unsigned long target_on(const struct target *t, int node)
{
	unsigned long counts[MAX_TEST_NODES];

	if (count_nodes(t->pid, t->buf, NPAGES, counts))
		return ~0UL;
	return counts[node];
}

/* Run the tool with args; its stdout and stderr in out; its exit status. */
static int run(char *out, const char *fmt, ...)
{
	char args[512], cmd[600];
	va_list ap;
	size_t n;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "migrate-pages %s 2>&1", args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, OUT - 1, p);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The number after "key": in JSON, or -1. */
static long json_number(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/*
 * The counts the tool printed ("scanned 1024, moved 1024, shared 0, busy
 * 0, no memory 0, split 0"), or with --json its stats; -1 if it gave none.
 */
static int printed_stats(const char *out, struct migrate_pages_stats *st)
{
	unsigned long long v[5];
	const char *p;

	memset(st, 0, sizeof(*st));
	if (out[0] == '{') {
		st->scanned = json_number(out, "scanned");
		st->moved = json_number(out, "moved");
		st->shared = json_number(out, "shared");
		st->busy = json_number(out, "busy");
		st->no_memory = json_number(out, "no_memory");
		return strstr(out, "\"no_memory\":") ? 0 : -1;
	}
	p = strstr(out, "scanned ");
	if (!p || sscanf(p, "scanned %llu, moved %llu, shared %llu, busy %llu, no memory %llu",
			 &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
		return -1;
	st->scanned = v[0];
	st->moved = v[1];
	st->shared = v[2];
	st->busy = v[3];
	st->no_memory = v[4];
	return 0;
}

/* The pages the tool said stayed ("N pages stayed: ..."): 0 if none. */
static long printed_left(const char *out)
{
	const char *p = strstr(out, " pages stayed: ");

	if (!p)
		return 0;
	while (p > out && p[-1] != '\n')
		p--;
	return strtol(p, NULL, 10);
}

/* The tool moved all the target's NPAGES pages, and said so. */
#define EXPECT_ALL_MOVED(out) do {					\
	const char *_out = (out);					\
	struct migrate_pages_stats _printed;				\
									\
	ASSERT_EQ(0, printed_stats(_out, &_printed)) {			\
		TH_LOG("output: %s", _out);				\
	}								\
	EXPECT_STATS(&_printed, NPAGES, NPAGES, 0, 0, 0);		\
	EXPECT_EQ(0, printed_left(_out));				\
} while (0)

/* Why the tests cannot run here, or NULL. */
static const char *cli_missing(void)
{
	if (nodes_with_memory() < 4)
		return "needs 4 nodes with memory";
	if (system("migrate-pages --help >/dev/null 2>&1"))
		return "migrate-pages is not in PATH";
	return NULL;
}

FIXTURE(cli) {
	struct target t;
	char out[OUT];
};

FIXTURE_SETUP(cli)
{
	const char *missing = cli_missing();

	if (missing)
		SKIP(return, "%s", missing);
	ASSERT_EQ(0, start_target(&self->t, false));
}

FIXTURE_TEARDOWN(cli)
{
	stop_target(&self->t);
}

TEST_F(cli, help_shows_an_example_and_exits_0)
{
	EXPECT_EQ(0, run(self->out, "--help"));
	EXPECT_NE(NULL, strstr(self->out, "Usage:"));
	EXPECT_NE(NULL, strstr(self->out, "Examples:"));
	EXPECT_NE(NULL, strstr(self->out, "Exit status"));
}

TEST_F(cli, map_moves_and_exits_0)
{
	EXPECT_EQ(0, run(self->out, "%s --map 0:1 %d", self->t.range, self->t.pid));
	EXPECT_EQ(NPAGES, target_on(&self->t, 1));
	EXPECT_NE(NULL, strstr(self->out, "moved 1024,"));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_NE(NULL, strstr(self->out, "MiB/s"));
	EXPECT_NE(NULL, strstr(self->out, "N1 "));
}

TEST_F(cli, whole_process_without_range)
{
	struct migrate_pages_stats st;
	long left;
	int r;

	/* Its private pages move; what it shares with us stays (exit 1 or 0). */
	r = run(self->out, "--map 0:1 %d", self->t.pid);
	EXPECT_GE(1, r);
	EXPECT_EQ(NPAGES, target_on(&self->t, 1));
	ASSERT_EQ(0, printed_stats(self->out, &st)) {
		TH_LOG("output: %s", self->out);
	}
	/* How much libc's pages we share is not known: the counts add up. */
	left = printed_left(self->out);
	EXPECT_STATS_CONSISTENT(left, &st);
	EXPECT_EQ(left > 0, r);
	EXPECT_LE(NPAGES, st.moved);
}

TEST_F(cli, numactl_form_pairs_by_position)
{
	/* 0-1 -> 2-3: node 0 to node 2. */
	EXPECT_EQ(0, run(self->out, "%s %d 0-1 2-3", self->t.range, self->t.pid));
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	EXPECT_ALL_MOVED(self->out);
}

TEST_F(cli, numactl_form_all_and_not)
{
	/* every node with memory but 3 -> 3 */
	EXPECT_EQ(0, run(self->out, "%s %d '!3' 3", self->t.range, self->t.pid));
	EXPECT_EQ(NPAGES, target_on(&self->t, 3));
	EXPECT_ALL_MOVED(self->out);
}

TEST_F(cli, any_node_source)
{
	EXPECT_EQ(0, run(self->out, "%s --map '1:1,*:2' %d", self->t.range, self->t.pid));
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	EXPECT_ALL_MOVED(self->out);
}

TEST_F(cli, shared_pages_stay_exit_1_then_all_moves)
{
	struct target *t = &self->t;
	struct migrate_pages_stats st;

	/* Pages we write and a child of ours maps too: mapped twice. */
	reap(t->pid);
	ASSERT_EQ(0, fill_on(t->buf, NPAGES, 0, SEED));
	t->pid = spawn_mapper(t->buf, NPAGES);
	ASSERT_LT(0, t->pid);
	EXPECT_EQ(1, run(self->out, "%s --map 0:1 %d", t->range, t->pid));
	EXPECT_NE(NULL, strstr(self->out, "1024 pages stayed: 1024 shared"));
	EXPECT_NE(NULL, strstr(self->out, "--all"));
	ASSERT_EQ(0, printed_stats(self->out, &st));
	EXPECT_STATS(&st, NPAGES, 0, NPAGES, 0, 0);
	EXPECT_EQ(NPAGES, printed_left(self->out));
	EXPECT_EQ(NPAGES, target_on(t, 0));
	EXPECT_EQ(0, run(self->out, "--all %s --map 0:1 %d", t->range, t->pid));
	EXPECT_EQ(NPAGES, target_on(t, 1));
	EXPECT_EQ(NPAGES, pages_on(0, t->buf, NPAGES, 1));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(-1, check_pattern(t->buf, NPAGES, SEED));
}

TEST_F(cli, dry_run_moves_nothing)
{
	struct migrate_pages_stats st;

	EXPECT_EQ(0, run(self->out, "--dry-run %s --map 0:1 %d", self->t.range, self->t.pid));
	EXPECT_NE(NULL, strstr(self->out, "scanned 1024,"));
	EXPECT_NE(NULL, strstr(self->out, "dry run"));
	EXPECT_EQ(NPAGES, target_on(&self->t, 0));
	ASSERT_EQ(0, printed_stats(self->out, &st));
	EXPECT_DRY_STATS(&st, NPAGES, 0, 0, 0, 0);
	EXPECT_EQ(0, printed_left(self->out));
}

TEST_F(cli, range_moves_only_the_range)
{
	struct migrate_pages_stats st;

	EXPECT_EQ(0, run(self->out, "--range %p:64K --map 0:1 %d",
			 self->t.buf + 16 * PAGE, self->t.pid));
	EXPECT_EQ(16, target_on(&self->t, 1));
	EXPECT_EQ(NPAGES - 16, target_on(&self->t, 0));
	ASSERT_EQ(0, printed_stats(self->out, &st));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	EXPECT_EQ(0, printed_left(self->out));
}

TEST_F(cli, rate_moves_in_chunks)
{
	EXPECT_EQ(0, run(self->out, "--rate 512 %s --map 0:2 %d", self->t.range, self->t.pid));
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	EXPECT_NE(NULL, strstr(self->out, "moved 1024,"));
	/* The chunks' counts, summed. */
	EXPECT_ALL_MOVED(self->out);
}

TEST_F(cli, cgroup_moves_its_processes)
{
	const char *cg = "/sys/fs/cgroup/mp2-cli";
	char path[128];
	FILE *f;

	mkdir(cg, 0755);
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%d\n", self->t.pid);
	ASSERT_EQ(0, fclose(f));
	EXPECT_EQ(0, run(self->out, "--cgroup mp2-cli %s --map 0:3", self->t.range));
	EXPECT_EQ(NPAGES, target_on(&self->t, 3));
	EXPECT_ALL_MOVED(self->out);
	stop_target(&self->t);
	rmdir(cg);
}

TEST_F(cli, json_reads_back)
{
	EXPECT_EQ(0, run(self->out, "--json %s --map 0:1 %d", self->t.range, self->t.pid));
	EXPECT_EQ('{', self->out[0]);
	EXPECT_EQ(0, json_number(self->out, "left"));
	EXPECT_EQ(NPAGES, json_number(self->out, "moved"));
	EXPECT_EQ(NPAGES, json_number(self->out, "scanned"));
	EXPECT_EQ(0, json_number(self->out, "no_memory"));
	EXPECT_EQ(0, json_number(self->out, "shared"));
	EXPECT_EQ(0, json_number(self->out, "busy"));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(self->t.pid, json_number(self->out, "pid"));
	EXPECT_EQ(NPAGES, target_on(&self->t, 1));
}

/* --workers is passed to the call and reported; the move is the same. */
TEST_F(cli, workers_move_and_are_reported)
{
	EXPECT_EQ(0, run(self->out, "--json --workers 4 %s --map 0:2 %d", self->t.range,
			 self->t.pid));
	EXPECT_EQ(4, json_number(self->out, "workers"));
	EXPECT_EQ(NPAGES, json_number(self->out, "moved"));
	EXPECT_EQ(0, json_number(self->out, "left"));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	EXPECT_EQ(0, run(self->out, "--workers 1 %s --map 2:0 %d", self->t.range,
			 self->t.pid));
	EXPECT_NE(NULL, strstr(self->out, "1 worker\n"));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 0));
}

/*
 * --update-policy reaches the kernel: a target bound to node 0 is bound to
 * node 2 after the move (its numa_maps), and the tool says so.
 */
TEST_F(cli, update_policy_is_passed_and_reported)
{
	char pol[64];

	stop_target(&self->t);
	ASSERT_EQ(0, start_target(&self->t, true));
	policy_at(self->t.pid, self->t.buf, pol, sizeof(pol));
	ASSERT_STREQ("bind:0", pol);
	EXPECT_EQ(0, run(self->out, "--json --update-policy %s --map 0:2 %d",
			 self->t.range, self->t.pid));
	EXPECT_NE(NULL, strstr(self->out, "\"update_policy\":true"));
	EXPECT_EQ(1, json_number(self->out, "policies"));
	EXPECT_EQ(0, json_number(self->out, "left"));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	policy_at(self->t.pid, self->t.buf, pol, sizeof(pol));
	EXPECT_STREQ("bind:2", pol);
	/* Back, the short form, in text. */
	EXPECT_EQ(0, run(self->out, "-u %s --map 2:0 %d", self->t.range, self->t.pid));
	EXPECT_NE(NULL, strstr(self->out, "1 memory policy rewritten"));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 0));
	policy_at(self->t.pid, self->t.buf, pol, sizeof(pol));
	EXPECT_STREQ("bind:0", pol);
	/* Without the flag the policy stays. */
	EXPECT_EQ(0, run(self->out, "%s --map 0:2 %d", self->t.range, self->t.pid));
	EXPECT_ALL_MOVED(self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	policy_at(self->t.pid, self->t.buf, pol, sizeof(pol));
	EXPECT_STREQ("bind:0", pol);
}

TEST_F(cli, quiet_prints_nothing)
{
	EXPECT_EQ(0, run(self->out, "--quiet %s --map 0:1 %d", self->t.range, self->t.pid));
	EXPECT_STREQ("", self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 1));
}

/* The target's pages on node, once they are all there or after 5 s. */
static unsigned long target_settles_on(const struct target *t, int node)
{
	unsigned long on = 0;
	int i;

	for (i = 0; i < 500 && (on = target_on(t, node)) != NPAGES; i++)
		usleep(10000);
	return on;
}

/*
 * --lazy marks and returns: nothing moves until the job touches its
 * pages, and then each goes to its pair's node.
 */
TEST_F(cli, lazy_marks_and_the_job_moves_its_pages)
{
	EXPECT_EQ(0, run(self->out, "--lazy %s --map 0:2 %d", self->t.range, self->t.pid));
	EXPECT_NE(NULL, strstr(self->out, "lazy: 1024 pages marked")) {
		TH_LOG("output: %s", self->out);
	}
	EXPECT_EQ(NPAGES, target_on(&self->t, 0));
	ASSERT_EQ(0, kill(self->t.pid, SIGUSR1));
	EXPECT_EQ(NPAGES, target_settles_on(&self->t, 2));
	/* Not on a terminal: no progress line. */
	EXPECT_EQ(NULL, strstr(self->out, "on the destination nodes ("));
}

/*
 * --lazy --finish-after: the ordinary call moves what the job did not
 * touch; JSON says both.
 */
TEST_F(cli, lazy_finish_after_moves_the_rest)
{
	EXPECT_EQ(0, run(self->out, "--json --lazy --finish-after 0.3 %s --map 0:2 %d",
			 self->t.range, self->t.pid));
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));
	EXPECT_NE(NULL, strstr(self->out, "\"lazy\":true")) {
		TH_LOG("output: %s", self->out);
	}
	EXPECT_EQ(NPAGES, json_number(self->out, "deferred"));
	EXPECT_EQ(0, json_number(self->out, "gained_on_destinations"));
	ASSERT_NE(NULL, strstr(self->out, "\"finish\":"));
	EXPECT_EQ(NPAGES, json_number(strstr(self->out, "\"finish\":"), "moved"));
	EXPECT_EQ(0, json_number(self->out, "left"));
}

/*
 * On a terminal, a line counts the pages on the destination nodes while
 * they move; --quiet drops it.  The tool's stderr is a pseudo-terminal;
 * -2 if there is none to be had (devpts not mounted).
 */
static int run_on_tty(char *out, const char *args)
{
	char cmd[600], *name;
	int master, status, n = 0;
	struct pollfd pfd;
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0)
		return -2;
	if (grantpt(master) || unlockpt(master))
		return -1;
	name = ptsname(master);
	if (!name)
		return -1;
	snprintf(cmd, sizeof(cmd), "migrate-pages %s >/dev/null", args);
	pid = fork();
	if (!pid) {
		int slave = open(name, O_RDWR | O_NOCTTY);

		if (slave < 0 || dup2(slave, 2) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, NULL);
		_exit(127);
	}
	pfd.fd = master;
	pfd.events = POLLIN;
	while (n < OUT - 1 && poll(&pfd, 1, 3000) > 0) {
		ssize_t r = read(master, out + n, OUT - 1 - n);

		if (r <= 0)
			break;
		n += r;
	}
	out[n] = 0;
	waitpid(pid, &status, 0);
	close(master);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(cli, progress_line_on_a_terminal_only)
{
	char args[256];

	snprintf(args, sizeof(args), "--lazy --finish-after 1 %s --map 0:2 %d",
		 self->t.range, self->t.pid);
	if (run_on_tty(self->out, "--help") == -2)
		SKIP(return, "no pseudo-terminal (is devpts mounted on /dev/pts?)");
	EXPECT_EQ(0, run_on_tty(self->out, args));
	/* The target's pages, all of its mappings: the buffer's and more. */
	EXPECT_NE(NULL, strstr(self->out, "\r")) {
		TH_LOG("terminal: %s", self->out);
	}
	EXPECT_NE(NULL, strstr(self->out, " pages on the destination nodes (")) {
		TH_LOG("terminal: %s", self->out);
	}
	EXPECT_EQ(NPAGES, target_on(&self->t, 2));

	snprintf(args, sizeof(args), "--quiet %s --map 2:1 %d", self->t.range, self->t.pid);
	EXPECT_EQ(0, run_on_tty(self->out, args));
	EXPECT_STREQ("", self->out);
	EXPECT_EQ(NPAGES, target_on(&self->t, 1));
}

/* Bad input: a message that names the cause, exit 2, nothing moved. */
FIXTURE(cli_bad) {
	struct target t;
	char out[OUT];
};

FIXTURE_VARIANT(cli_bad) {
	const char *args;	/* %d is the target */
	const char *says;
};

FIXTURE_VARIANT_ADD(cli_bad, unknown_option) {
	.args = "--bogus --map 0:1 %d", .says = "unrecognized option" };
FIXTURE_VARIANT_ADD(cli_bad, bad_node_list) {
	.args = "%d 0-x 1", .says = "expected a node number" };
FIXTURE_VARIANT_ADD(cli_bad, backwards_node_range) {
	.args = "%d 3-1 0", .says = "backwards" };
FIXTURE_VARIANT_ADD(cli_bad, missing_pid) {
	.args = "--map 0:1", .says = "no process given" };
FIXTURE_VARIANT_ADD(cli_bad, bad_map) {
	.args = "--map 0-1 %d", .says = "SRC:DST" };
FIXTURE_VARIANT_ADD(cli_bad, source_twice) {
	.args = "--map 0:1,0:2 %d", .says = "source twice" };
FIXTURE_VARIANT_ADD(cli_bad, node_without_memory) {
	.args = "--map 0:7 %d", .says = "has no memory" };
FIXTURE_VARIANT_ADD(cli_bad, no_such_process) {
	.args = "--map 0:1 999999", .says = "no such process" };
FIXTURE_VARIANT_ADD(cli_bad, not_a_pid) {
	.args = "--map 0:1 12ab", .says = "not a process id" };
FIXTURE_VARIANT_ADD(cli_bad, range_with_two_pids) {
	.args = "--range 0x1000:4K --map 0:1 %d 1", .says = "exactly one process" };
FIXTURE_VARIANT_ADD(cli_bad, range_unaligned) {
	.args = "--range 0x1001:4K --map 0:1 %d", .says = "not page aligned" };
FIXTURE_VARIANT_ADD(cli_bad, bad_rate) {
	.args = "--rate fast --map 0:1 %d", .says = "--rate" };
FIXTURE_VARIANT_ADD(cli_bad, zero_workers) {
	.args = "--workers 0 --map 0:1 %d", .says = "--workers" };
FIXTURE_VARIANT_ADD(cli_bad, too_many_workers) {
	.args = "--workers 1025 --map 0:1 %d", .says = "from 1 to 1024" };
FIXTURE_VARIANT_ADD(cli_bad, missing_cgroup) {
	.args = "--cgroup no-such-group --map 0:1", .says = "cannot read" };
FIXTURE_VARIANT_ADD(cli_bad, lazy_chain) {
	.args = "--lazy --map 0:1,1:2 %d", .says = "node 1 both receives and gives" };
FIXTURE_VARIANT_ADD(cli_bad, lazy_swap) {
	.args = "--lazy --map 0:1,1:0 %d", .says = "both receives and gives" };
FIXTURE_VARIANT_ADD(cli_bad, lazy_any_node_onto_a_source) {
	.args = "--lazy --map 0:1,*:0 %d", .says = "both receives and gives" };
FIXTURE_VARIANT_ADD(cli_bad, finish_after_without_lazy) {
	.args = "--finish-after 1 --map 0:1 %d", .says = "goes with --lazy" };
FIXTURE_VARIANT_ADD(cli_bad, finish_after_not_a_number) {
	.args = "--lazy --finish-after soon --map 0:1 %d", .says = "--finish-after" };
FIXTURE_VARIANT_ADD(cli_bad, lazy_with_rate) {
	.args = "--lazy --rate 10 --map 0:1 %d", .says = "choose one" };

FIXTURE_SETUP(cli_bad)
{
	const char *missing = cli_missing();

	if (missing)
		SKIP(return, "%s", missing);
	ASSERT_EQ(0, start_target(&self->t, false));
}

FIXTURE_TEARDOWN(cli_bad)
{
	stop_target(&self->t);
}

TEST_F(cli_bad, exits_2_and_moves_nothing)
{
	EXPECT_EQ(2, run(self->out, variant->args, self->t.pid));
	EXPECT_NE(NULL, strstr(self->out, variant->says)) {
		TH_LOG("output: %s", self->out);
	}
	EXPECT_EQ(NPAGES, target_on(&self->t, 0));
}

TEST_HARNESS_MAIN
