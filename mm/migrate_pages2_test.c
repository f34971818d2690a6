// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for migrate_pages2(): the checks on the request's scalar
 * fields and the node map built from the pairs.  Both are pure logic; the
 * map tests assume nodes 0-3 have memory and skip otherwise.
 */
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/mempolicy.h>
#include <linux/nodemask.h>
#include <linux/slab.h>

#include "migrate_pages2.h"

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");

struct args_case {
	const char *name;
	struct migrate_pages_args args;
	int err;
};

#define VALID		.nr_pids = 1, .nr_nodes = 1
#define LAST_PAGE	(ULONG_MAX & PAGE_MASK)

static const struct args_case args_cases[] = {
	{ "valid", { VALID }, 0 },
	{ "all_flags", { .flags = MIGRATE_PAGES2_FLAGS, VALID },
	  IS_ENABLED(CONFIG_MIGRATE_PAGES2_LAZY) ? 0 : -EOPNOTSUPP },
	{ "unknown_flag", { .flags = 1ULL << 5, VALID }, -EINVAL },
	{ "lazy", { .flags = MIGRATE_PAGES2_LAZY, VALID },
	  IS_ENABLED(CONFIG_MIGRATE_PAGES2_LAZY) ? 0 : -EOPNOTSUPP },
	{ "lazy_and_unknown_flag",
	  { .flags = MIGRATE_PAGES2_LAZY | 1ULL << 5, VALID }, -EINVAL },
	{ "nr_pids_zero", { .nr_pids = 0, .nr_nodes = 1 }, -EINVAL },
	{ "nr_pids_max", { .nr_pids = 1024, .nr_nodes = 1 }, 0 },
	{ "nr_pids_over_max", { .nr_pids = 1025, .nr_nodes = 1 }, -EINVAL },
	{ "nr_nodes_zero", { .nr_pids = 1, .nr_nodes = 0 }, -EINVAL },
	{ "nr_nodes_max", { .nr_pids = 1, .nr_nodes = MAX_NUMNODES }, 0 },
	{ "nr_nodes_over_max",
	  { .nr_pids = 1, .nr_nodes = MAX_NUMNODES + 1 }, -EINVAL },
	{ "workers_max", { .workers = 1024, VALID }, 0 },
	{ "workers_over_max", { .workers = 1025, VALID }, -EINVAL },
	{ "reserved_set", { .reserved = 1, VALID }, -EINVAL },
	{ "range", { .start = PAGE_SIZE, .len = 3, VALID }, 0 },
	{ "start_unaligned", { .start = PAGE_SIZE + 1, .len = PAGE_SIZE, VALID }, -EINVAL },
	{ "start_without_len", { .start = PAGE_SIZE, VALID }, -EINVAL },
	{ "len_from_zero", { .len = PAGE_SIZE, VALID }, 0 },
	{ "range_wraps", { .start = PAGE_SIZE, .len = ~0ULL, VALID }, -EINVAL },
	{ "range_to_last_page",
	  { .start = PAGE_SIZE, .len = LAST_PAGE - PAGE_SIZE, VALID }, 0 },
	{ "range_end_rounds_past_top",
	  { .start = PAGE_SIZE, .len = LAST_PAGE - PAGE_SIZE + 1, VALID }, -EINVAL },
};

static void args_case_desc(const struct args_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(args, args_cases, args_case_desc);

static void check_args(struct kunit *test)
{
	const struct args_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, c->err, mp2_check_args(&c->args));
}

static struct mp2_call *new_call(struct kunit *test)
{
	struct mp2_call *call = kunit_kzalloc(test, sizeof(*call), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, call);
	if (!node_state(0, N_MEMORY) || !node_state(1, N_MEMORY) ||
	    !node_state(2, N_MEMORY) || !node_state(3, N_MEMORY))
		kunit_skip(test, "needs nodes 0-3 with memory");
	return call;
}

static void map_swap(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 0, 1 }, n[] = { 1, 0 };

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
	KUNIT_EXPECT_EQ(test, 1, call->map[0]);
	KUNIT_EXPECT_EQ(test, 0, call->map[1]);
	KUNIT_EXPECT_EQ(test, NUMA_NO_NODE, call->map[2]);
	KUNIT_EXPECT_EQ(test, 2, nodes_weight(call->moving));
	KUNIT_EXPECT_TRUE(test, call->track_moved);
}

static void map_disjoint_needs_no_tracking(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 0, 1 }, n[] = { 2, 3 };

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
	KUNIT_EXPECT_EQ(test, 2, call->map[0]);
	KUNIT_EXPECT_EQ(test, 3, call->map[1]);
	KUNIT_EXPECT_FALSE(test, call->track_moved);
	KUNIT_EXPECT_EQ(test, 2, nodes_weight(call->dests));
}

static void map_shift_is_chained(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 0, 1, 2 }, n[] = { 1, 2, 3 };

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
	KUNIT_EXPECT_EQ(test, 3, call->map[2]);
	KUNIT_EXPECT_TRUE(test, call->track_moved);
}

static void map_identity_moves_nothing(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 2 }, n[] = { 2 };

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
	KUNIT_EXPECT_EQ(test, 2, call->map[2]);
	KUNIT_EXPECT_TRUE(test, nodes_empty(call->moving));
}

static void map_any_node(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 1, MIGRATE_PAGES2_ANY_NODE }, n[] = { 1, 3 };

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
	KUNIT_EXPECT_EQ(test, 3, call->map[0]);
	KUNIT_EXPECT_EQ(test, 1, call->map[1]);
	KUNIT_EXPECT_EQ(test, 3, call->map[2]);
	KUNIT_EXPECT_EQ(test, 3, call->map[3]);
	KUNIT_EXPECT_TRUE(test, node_isset(0, call->moving));
	KUNIT_EXPECT_FALSE(test, node_isset(1, call->moving));
	KUNIT_EXPECT_FALSE(test, node_isset(3, call->moving));
	KUNIT_EXPECT_FALSE(test, call->track_moved);
}

static void map_many_to_one(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 0, 1, 2 }, n[] = { 3, 3, 3 };

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
	KUNIT_EXPECT_EQ(test, 3, nodes_weight(call->moving));
	KUNIT_EXPECT_EQ(test, 1, nodes_weight(call->dests));
}

struct map_error {
	const char *name;
	s32 old_nodes[2];
	s32 new_nodes[2];
};

static const struct map_error map_errors[] = {
	{ "source_twice", { 0, 0 }, { 1, 2 } },
	{ "any_node_twice", { -1, -1 }, { 1, 2 } },
	{ "source_below_any", { -2, 1 }, { 1, 2 } },
	{ "source_over_max", { MAX_NUMNODES, 1 }, { 1, 2 } },
	{ "dest_negative", { 0, 1 }, { -1, 2 } },
	{ "dest_over_max", { 0, 1 }, { MAX_NUMNODES, 2 } },
};

static void map_error_desc(const struct map_error *e, char *desc)
{
	strscpy(desc, e->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(map_error, map_errors, map_error_desc);

static void map_rejects(struct kunit *test)
{
	const struct map_error *e = test->param_value;
	struct mp2_call *call = new_call(test);

	KUNIT_EXPECT_EQ(test, -EINVAL,
			mp2_build_map(call, e->old_nodes, e->new_nodes, 2));
}

static void map_dest_without_memory(struct kunit *test)
{
	struct mp2_call *call = new_call(test);
	s32 o[] = { 0 }, n[1];
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (!node_state(nid, N_MEMORY))
			break;
	if (nid == MAX_NUMNODES)
		kunit_skip(test, "every possible node has memory");
	n[0] = nid;
	KUNIT_EXPECT_EQ(test, -EINVAL, mp2_build_map(call, o, n, ARRAY_SIZE(o)));
}

/*
 * MIGRATE_PAGES2_LAZY: no node both receives pages and gives them, or a
 * page moved on one touch would move again on the next.
 */
struct lazy_case {
	const char *name;
	s32 old_nodes[3];
	s32 new_nodes[3];
	int nr;
	int err;
};

static const struct lazy_case lazy_cases[] = {
	{ "disjoint", { 0, 1 }, { 2, 3 }, 2, 0 },
	{ "many_to_one", { 0, 1, 2 }, { 3, 3, 3 }, 3, 0 },
	{ "identity_beside_a_move", { 0, 2 }, { 2, 2 }, 2, 0 },
	{ "all_identity", { 0, 1 }, { 0, 1 }, 2, 0 },
	{ "any_node_to_an_unnamed_node", { -1 }, { 1 }, 1, 0 },
	{ "chain", { 0, 1 }, { 1, 2 }, 2, -EINVAL },
	{ "swap", { 0, 1 }, { 1, 0 }, 2, -EINVAL },
	{ "cycle", { 0, 1, 2 }, { 1, 2, 0 }, 3, -EINVAL },
	{ "any_node_onto_a_source", { 0, -1 }, { 1, 0 }, 2, -EINVAL },
};

static void lazy_case_desc(const struct lazy_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(lazy, lazy_cases, lazy_case_desc);

static void map_lazy(struct kunit *test)
{
	const struct lazy_case *c = test->param_value;
	struct mp2_call *call = new_call(test);

	call->flags = MIGRATE_PAGES2_LAZY;
	KUNIT_EXPECT_EQ(test, c->err,
			mp2_build_map(call, c->old_nodes, c->new_nodes, c->nr));
	/* Without LAZY, the same pairs are a valid map. */
	call->flags = 0;
	KUNIT_EXPECT_EQ(test, 0,
			mp2_build_map(call, c->old_nodes, c->new_nodes, c->nr));
}

/* migrate_pages(2)'s pairs: old node i-th to new node i-th. */
struct remap_case {
	const char *name;
	unsigned long from, to;	/* node masks, nodes 0-3 */
	int map[4];		/* expected destination of nodes 0-3 */
	bool track_moved;
};

#define NONE	NUMA_NO_NODE

static const struct remap_case remap_cases[] = {
	{ "shift_by_one", 0x3, 0x6, { 1, 2, NONE, NONE }, true },
	{ "shift_three", 0x7, 0xe, { 1, 2, 3, NONE }, true },
	{ "one_node", 0x1, 0x8, { 3, NONE, NONE, NONE }, false },
	{ "equal_masks", 0x3, 0x3, { 0, 1, NONE, NONE }, false },
	{ "holes", 0x5, 0xa, { 1, NONE, 3, NONE }, false },
	/* Weights differ: a source that is also a destination stays. */
	{ "four_onto_two", 0xf, 0xc, { 2, 3, NONE, NONE }, false },
	{ "two_onto_one", 0x3, 0x2, { 1, NONE, NONE, NONE }, false },
	{ "one_onto_two", 0x1, 0x6, { 1, NONE, NONE, NONE }, false },
};

static void remap_case_desc(const struct remap_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(remap, remap_cases, remap_case_desc);

static void map_from_masks(struct kunit *test)
{
	const struct remap_case *c = test->param_value;
	struct mp2_call *call = new_call(test);
	nodemask_t from = NODE_MASK_NONE, to = NODE_MASK_NONE;
	int nid;

	for (nid = 0; nid < 4; nid++) {
		if (c->from & BIT(nid))
			node_set(nid, from);
		if (c->to & BIT(nid))
			node_set(nid, to);
	}
	mp2_map_from_masks(call, &from, &to);
	for (nid = 0; nid < 4; nid++)
		KUNIT_EXPECT_EQ_MSG(test, c->map[nid], call->map[nid], "node %d", nid);
	for (nid = 4; nid < MAX_NUMNODES; nid++)
		KUNIT_EXPECT_EQ(test, NUMA_NO_NODE, call->map[nid]);
	KUNIT_EXPECT_EQ(test, c->track_moved, call->track_moved);
	for (nid = 0; nid < 4; nid++)
		KUNIT_EXPECT_EQ_MSG(test, c->map[nid] != NONE && c->map[nid] != nid,
				    node_isset(nid, call->moving), "node %d", nid);
}

/* MIGRATE_PAGES2_UPDATE_POLICY: a policy's nodes rewritten through the pairs. */
struct policy_case {
	const char *name;
	s32 old_nodes[2], new_nodes[2];
	int nr;
	unsigned short mode, flags;
	unsigned long nodes, user;	/* masks of nodes 0-3 */
	int home;
	bool changed;
	unsigned long nodes_after, user_after;
	int home_after;
	unsigned long mems;	/* the cpuset's mems; 0: nodes 0-3 */
};

static const struct policy_case policy_cases[] = {
	{ "bind_moved", { 0 }, { 2 }, 1, MPOL_BIND, 0, 0x1, 0, NONE,
	  true, 0x4, 0, NONE },
	{ "swap", { 0, 1 }, { 1, 0 }, 2, MPOL_BIND, 0, 0x1, 0, NONE,
	  true, 0x2, 0, NONE },
	{ "many_to_one", { 0, 1 }, { 3, 3 }, 2, MPOL_INTERLEAVE, 0, 0x3, 0, NONE,
	  true, 0x8, 0, NONE },
	{ "other_nodes_stay", { 0 }, { 3 }, 1, MPOL_INTERLEAVE, 0, 0x3, 0, NONE,
	  true, 0xa, 0, NONE },
	{ "no_source_unchanged", { 0 }, { 2 }, 1, MPOL_PREFERRED, 0, 0x2, 0, NONE,
	  false, 0x2, 0, NONE },
	{ "any_node", { 1, MIGRATE_PAGES2_ANY_NODE }, { 1, 3 }, 2, MPOL_INTERLEAVE, 0,
	  0x7, 0, NONE, true, 0xa, 0, NONE },
	{ "static_user_mask", { 0 }, { 2 }, 1, MPOL_BIND, MPOL_F_STATIC_NODES, 0x1,
	  0x1, NONE, true, 0x4, 0x4, NONE },
	{ "relative_user_mask", { 1 }, { 3 }, 1, MPOL_BIND, MPOL_F_RELATIVE_NODES,
	  0x2, 0x2, NONE, true, 0x8, 0x8, NONE },
	/* Mems 2-3: relative {0} is node 2; a source it does not use changes nothing. */
	{ "relative_unused_source", { 0 }, { 1 }, 1, MPOL_BIND, MPOL_F_RELATIVE_NODES,
	  0x4, 0x1, NONE, false, 0x4, 0x1, NONE, 0xc },
	/* Node 2 -> 3 is position 0 -> 1 of the cpuset's mems. */
	{ "relative_positions", { 2 }, { 3 }, 1, MPOL_BIND, MPOL_F_RELATIVE_NODES,
	  0x4, 0x1, NONE, true, 0x8, 0x2, NONE, 0xc },
	/* Static {0,1} in mems 1-3 is node 1: a pair from 0 changes no node. */
	{ "static_effective_unchanged", { 0 }, { 2 }, 1, MPOL_BIND, MPOL_F_STATIC_NODES,
	  0x2, 0x3, NONE, false, 0x2, 0x3, NONE, 0xe },
	{ "home_node", { 0 }, { 2 }, 1, MPOL_BIND, 0, 0x3, 0, 0, true, 0x6, 0, 2 },
	{ "default_untouched", { 0 }, { 2 }, 1, MPOL_DEFAULT, 0, 0, 0, NONE,
	  false, 0, 0, NONE },
	{ "local_untouched", { 0 }, { 2 }, 1, MPOL_LOCAL, 0, 0, 0, NONE,
	  false, 0, 0, NONE },
};

static void policy_case_desc(const struct policy_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(policy, policy_cases, policy_case_desc);

static nodemask_t mask_of(unsigned long bits)
{
	nodemask_t m = NODE_MASK_NONE;
	int nid;

	for (nid = 0; nid < 4; nid++)
		if (bits & BIT(nid))
			node_set(nid, m);
	return m;
}

static void rewrite_policy(struct kunit *test)
{
	const struct policy_case *c = test->param_value;
	struct mp2_call *call = new_call(test);
	struct mempolicy pol = {
		.mode = c->mode, .flags = c->flags, .home_node = c->home,
	};
	nodemask_t nodes_after = mask_of(c->nodes_after);
	nodemask_t user_after = mask_of(c->user_after);
	nodemask_t mems = mask_of(c->mems ? c->mems : 0xf);

	KUNIT_ASSERT_EQ(test, 0, mp2_build_map(call, c->old_nodes, c->new_nodes, c->nr));
	pol.nodes = mask_of(c->nodes);
	if (c->flags)
		pol.w.user_nodemask = mask_of(c->user);
	KUNIT_EXPECT_EQ(test, c->changed, mp2_rewrite_policy(call, &pol, &mems));
	KUNIT_EXPECT_TRUE(test, nodes_equal(nodes_after, pol.nodes));
	if (c->flags)
		KUNIT_EXPECT_TRUE(test, nodes_equal(user_after, pol.w.user_nodemask));
	KUNIT_EXPECT_EQ(test, c->home_after, pol.home_node);
	KUNIT_EXPECT_EQ(test, c->mode, pol.mode);
	KUNIT_EXPECT_EQ(test, c->flags, pol.flags);
}

/*
 * The records of two folios of neighbouring anon_vmas (their mappings a
 * few bytes apart) at indexes that differ in the same bits: a tag must
 * not take one for the other, or a pfn reused by the second looks done.
 */
static void tags_tell_neighbours_apart(struct kunit *test)
{
	unsigned long anon = 0xffff888012345601UL, bit;
	pgoff_t index = 0x7f0000UL;

	KUNIT_EXPECT_PTR_EQ(test, mp2_tag_of((void *)anon, index, 0),
			    mp2_tag_of((void *)anon, index, 0));
	KUNIT_EXPECT_PTR_NE(test, mp2_tag_of((void *)anon, index, 0),
			    mp2_tag_of((void *)anon, index, 9));
	for (bit = 1UL << 3; bit < 1UL << 12; bit <<= 1)
		KUNIT_EXPECT_PTR_NE(test, mp2_tag_of((void *)anon, index, 0),
				    mp2_tag_of((void *)(anon ^ bit), index ^ bit, 0));
}

static struct kunit_case migrate_pages2_cases[] = {
	KUNIT_CASE_PARAM(check_args, args_gen_params),
	KUNIT_CASE(map_swap),
	KUNIT_CASE(map_disjoint_needs_no_tracking),
	KUNIT_CASE(map_shift_is_chained),
	KUNIT_CASE(map_identity_moves_nothing),
	KUNIT_CASE(map_any_node),
	KUNIT_CASE(map_many_to_one),
	KUNIT_CASE_PARAM(map_rejects, map_error_gen_params),
	KUNIT_CASE(map_dest_without_memory),
	KUNIT_CASE_PARAM(map_lazy, lazy_gen_params),
	KUNIT_CASE_PARAM(map_from_masks, remap_gen_params),
	KUNIT_CASE_PARAM(rewrite_policy, policy_gen_params),
	KUNIT_CASE(tags_tell_neighbours_apart),
	{}
};

static struct kunit_suite migrate_pages2_suite = {
	.name = "migrate_pages2",
	.test_cases = migrate_pages2_cases,
};

kunit_test_suite(migrate_pages2_suite);

MODULE_DESCRIPTION("KUnit tests for migrate_pages2()");
MODULE_LICENSE("GPL");
