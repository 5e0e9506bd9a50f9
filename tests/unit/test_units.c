// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for everything after the kernel, on synthetic record streams:
 * process table, pipeline scope, JSON escaping, recordings.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <jansson.h>
#include "check.h"
#include "core/container.h"
#include "core/detector.h"
#include "core/progid.h"
#include "core/proctable.h"
#include "core/recording.h"
/* FT_CORE_ONLY: the core's tests alone, built without libbpf (make
 * core-alone); the rest need the stages above it */
#ifndef FT_CORE_ONLY
#include "contain/policy.h"
#include "front/report.h"
#include "front/topview.h"
#include "live/container_node.h"
#include "live/hostlimits.h"
#include "live/procfs.h"
#include "pipeline.h"
#include "present/health.h"
#include "present/json.h"
#include "present/metrics.h"
#endif

#define SEC	 1000000000ull
#define START(n) ((uint64_t)(n)*FT_NS_PER_TICK) /* start times one tick apart */

/* Synthetic record builders: pid, its start tick, parent pid and start. */
static struct ft_fork mk_fork(uint32_t pid, uint64_t start, uint32_t ppid, uint64_t pstart,
			      uint64_t ts)
{
	struct ft_fork f = { 0 };

	f.h.type = FT_EV_FORK;
	f.h.size = sizeof(f);
	f.h.ts_ns = ts;
	f.h.tgid = f.h.tid = pid;
	f.h.start_ns = start;
	f.h.ppid = f.real_ppid = ppid;
	f.h.pstart_ns = pstart;
	f.parent_threads = 1;
	snprintf(f.h.comm, sizeof(f.h.comm), "p%u", pid);
	return f;
}

static struct ft_exit mk_exit(uint32_t pid, uint64_t start, uint32_t ppid, uint64_t ts,
			      uint32_t status)
{
	struct ft_exit x = { 0 };

	x.h.type = FT_EV_EXIT;
	x.h.size = sizeof(x);
	x.h.flags = FT_F_GROUP_DEAD;
	x.h.ts_ns = ts;
	x.h.tgid = x.h.tid = pid;
	x.h.start_ns = start;
	x.h.ppid = ppid;
	x.exit_code = status;
	return x;
}

static struct ft_snapshot mk_snap(uint32_t pid, uint64_t start, uint32_t ppid, uint64_t pstart)
{
	struct ft_snapshot s = { 0 };

	s.h.type = FT_EV_SNAPSHOT;
	s.h.size = sizeof(s);
	s.h.tgid = s.h.tid = pid;
	s.h.start_ns = start;
	s.h.ppid = ppid;
	s.h.pstart_ns = pstart;
	s.threads = 1;
	snprintf(s.h.comm, sizeof(s.h.comm), "s%u", pid);
	return s;
}

#define APPLY(t, rec) pt_apply(t, &(rec).h)

static void test_fork_exit_basic(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_fork f = mk_fork(100, START(10), 1, START(1), 1 * SEC);
	struct ft_exit x = mk_exit(100, START(10), 1, 2 * SEC, 3 << 8);
	int32_t i1, i100;

	i1 = APPLY(t, init);
	i100 = APPLY(t, f);
	CHECK(i1 != PT_NONE && i100 != PT_NONE && i1 != i100);
	CHECK(pt_get(t, i100)->parent == i1);
	CHECK(pt_get(t, i100)->state == PT_ALIVE);
	CHECK(pt_get_stats(t)->live == 2);
	CHECK(APPLY(t, x) == i100);
	CHECK(pt_get(t, i100)->state == PT_DEAD);
	CHECK(pt_get(t, i100)->has_exit_code && pt_get(t, i100)->exit_code == 3 << 8);
	CHECK(pt_get_stats(t)->live == 1);
	/* a second group-dead exit (pre-6.16 race) is a duplicate, not news */
	APPLY(t, x);
	CHECK(pt_get_stats(t)->duplicate_exits == 1);
	pt_free(t);
}

static void test_reparenting_keeps_lineage(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_fork fa = mk_fork(100, START(10), 1, START(1), 1 * SEC);
	struct ft_fork fb = mk_fork(101, START(11), 100, START(10), 1 * SEC);
	struct ft_exit xa = mk_exit(100, START(10), 1, 2 * SEC, 0);
	/* B's exit record says its current parent is now init */
	struct ft_exit xb = mk_exit(101, START(11), 1, 3 * SEC, 0);
	int32_t a, b;

	APPLY(t, init);
	a = APPLY(t, fa);
	b = APPLY(t, fb);
	APPLY(t, xa);
	CHECK(pt_get(t, b)->reparented);
	CHECK(pt_get(t, b)->lineage.tgid == 100);
	CHECK(pt_get(t, b)->parent == a);
	CHECK(pt_is_descendant(t, b, a));
	APPLY(t, xb);
	CHECK(pt_get(t, b)->ppid_now == 1);
	CHECK(pt_get(t, b)->lineage.tgid == 100); /* who forked it never changes */
	pt_free(t);
}

/*
 * The pre-order walk: parents before children, every descendant once (dead
 * ones too), nothing outside the subtree, and descend = false skips one.
 */
static void test_subtree_walk(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	/* 100 -> {101 -> {103, 104}, 102 -> {105}}; 200 beside 100 */
	static const uint32_t parent_of[] = { [100] = 1,   [101] = 100, [102] = 100, [103] = 101,
					      [104] = 101, [105] = 102, [200] = 1 };
	struct ft_exit x = mk_exit(101, START(101), 100, 3 * SEC, 0);
	int32_t slot[206] = { 0 }, order[16];
	uint32_t n = 0, skipped = 0;

	APPLY(t, init);
	for (uint32_t pid = 100; pid <= 200; pid++) {
		struct ft_fork f;

		if (!parent_of[pid])
			continue;
		f = mk_fork(pid, START(pid), parent_of[pid], START(parent_of[pid]), 1 * SEC + pid);
		slot[pid] = APPLY(t, f);
	}
	APPLY(t, x); /* 101 dies: its children stay under it */
	for (int32_t i = slot[100]; i != PT_NONE && n < 16;
	     i = pt_subtree_next(t, slot[100], i, true))
		order[n++] = i;
	CHECK(n == 6 && order[0] == slot[100]);
	/* each of 100..105 exactly once, after its parent */
	for (uint32_t pid = 100; pid <= 105; pid++) {
		uint32_t seen = 0, at = 0, parent_at = 0;

		for (uint32_t k = 0; k < n; k++) {
			if (order[k] == slot[pid]) {
				seen++;
				at = k;
			}
			if (pid != 100 && order[k] == slot[parent_of[pid]])
				parent_at = k;
		}
		CHECK(seen == 1 && (pid == 100 || parent_at < at));
	}
	for (int32_t i = slot[100]; i != PT_NONE && skipped < 16;
	     i = pt_subtree_next(t, slot[100], i, pt_get(t, i)->key.tgid != 101))
		skipped++;
	CHECK(skipped == 4); /* 100, 101, 102, 105 */
	/* a leaf's walk is itself */
	CHECK(pt_subtree_next(t, slot[105], slot[105], true) == PT_NONE);
	/* sizes: 101 is dead, so 100 holds 5 live of 6; 101's subtree 2 of 3 */
	{
		uint32_t size[128] = { 0 };
		int32_t listed[128];

		CHECK(pt_subtree_sizes(t, slot[100], listed, 128, size, true) == 6);
		CHECK(size[slot[100]] == 5 && size[slot[101]] == 2 && size[slot[102]] == 2 &&
		      size[slot[105]] == 1);
		CHECK(pt_subtree_sizes(t, slot[100], listed, 128, size, false) == 6);
		CHECK(size[slot[100]] == 6 && size[slot[101]] == 3);
		/* a walk cut at 3 slots counts those it listed: 100, a child, its child */
		CHECK(pt_subtree_sizes(t, slot[100], listed, 3, size, false) == 3);
		CHECK(size[slot[100]] == 3 && size[listed[1]] == 2 && size[listed[2]] == 1);
		CHECK(pt_subtree_sizes(t, PT_NONE, listed, 128, size, true) == 0);
	}
	pt_free(t);
}

/* the subtree's live processes by the full walk, the count to check against */
static uint32_t live_by_full_walk(const struct proctable *t, int32_t root)
{
	uint32_t live = 0;

	for (int32_t i = root; i != PT_NONE; i = pt_subtree_next(t, root, i, true))
		live += pt_get(t, i)->state == PT_ALIVE;
	return live;
}

/*
 * pt_live_in_subtree walks the branches only; through forks, exits,
 * evictions under a full table and prunes, it counts what the full walk
 * counts, cut at its limit.
 */
static void test_live_in_subtree_follows_the_table(void)
{
	struct proctable *t = pt_new(96, 1 * SEC);
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	uint32_t pids[400], npids = 0, gone[400], ngone = 0, seed = 7, checked = 0, late = 0;
	uint64_t ts = 1 * SEC;

	APPLY(t, init);
	for (int step = 0; step < 3000; step++) {
		uint32_t r = (seed = seed * 1103515245u + 12345u) >> 8;

		ts += 1000000;
		if (npids < 2 || r % 3 == 0) {
			/* a fork under init or under one of the processes made; one
			 * in 7 under an exited one (its fork record came after its
			 * exit record), whose entry may be pruned by now */
			bool after_exit = ngone && r % 7 == 3;
			uint32_t parent = after_exit	   ? gone[(r >> 4) % ngone]
					  : npids && r % 5 ? pids[(r >> 4) % npids]
							   : 1;
			int32_t ps = parent == 1 ? pt_find(t, 1, START(1))
						 : pt_find(t, parent, START(parent));
			uint32_t pid = 1000 + (uint32_t)step;
			struct ft_fork f;

			if (npids == 400 ||
			    (!after_exit && (ps == PT_NONE || pt_get(t, ps)->state != PT_ALIVE)))
				continue;
			late += after_exit && ps != PT_NONE;
			f = mk_fork(pid, START(pid), parent, START(parent), ts);
			if (APPLY(t, f) != PT_NONE)
				pids[npids++] = pid;
		} else if (r % 3 == 1) {
			uint32_t k = (r >> 4) % npids;
			struct ft_exit x = mk_exit(pids[k], START(pids[k]), 1, ts, 0);

			APPLY(t, x);
			gone[ngone < 400 ? ngone++ : (r >> 4) % 400] = pids[k];
			pids[k] = pids[--npids]; /* exited: forks no more */
		} else if (r % 17 == 2) {
			pt_prune(t, ts);
		}
		for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i)) {
			const struct pt_entry *e = pt_get(t, i);
			uint32_t full = live_by_full_walk(t, i), branches = 0, listed = 0, members = 0;

			/* the branch list is exactly the children alive or with
			 * children: each member is one, and each one a member
			 * (bounded: a cycle fails rather than hangs) */
			CHECK(e->is_branch == (e->parent != PT_NONE &&
					       (e->state == PT_ALIVE || e->first_child != PT_NONE)));
			for (int32_t c = e->first_child; c != PT_NONE; c = pt_get(t, c)->next_sibling)
				branches += pt_get(t, c)->is_branch;
			for (int32_t c = e->branch_first; c != PT_NONE && members <= 96;
			     c = pt_get(t, c)->branch_next) {
				members++;
				listed += pt_get(t, c)->is_branch && pt_get(t, c)->parent == i;
			}
			CHECK(listed == branches && members == branches);
			CHECK(pt_live_in_subtree(t, i, UINT32_MAX, NULL) == full);
			CHECK(pt_live_in_subtree(t, i, 3, NULL) == (full < 3 ? full : 3));
			checked++;
		}
	}
	/* the table filled and evicted, the walk met real trees, and exited
	 * entries gained children */
	CHECK(pt_get_stats(t)->evicted > 0 && pt_get_stats(t)->pruned > 0 && checked > 10000);
	CHECK(late > 20);
	CHECK(pt_live_in_subtree(t, PT_NONE, 4, NULL) == 0);
	pt_free(t);
}

static void test_pid_reuse_is_a_new_process(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_fork old_f = mk_fork(200, START(20), 1, START(1), 1 * SEC);
	struct ft_exit old_x = mk_exit(200, START(20), 1, 2 * SEC, 1 << 8);
	struct ft_fork new_f = mk_fork(200, START(90), 1, START(1), 9 * SEC);
	struct ft_fork child = mk_fork(201, START(91), 200, START(90), 9 * SEC);
	int32_t o, n, c;

	APPLY(t, init);
	o = APPLY(t, old_f);
	APPLY(t, old_x);
	n = APPLY(t, new_f);
	c = APPLY(t, child);
	CHECK(o != n);
	CHECK(pt_get(t, o)->state == PT_DEAD);
	CHECK(pt_get(t, n)->state == PT_ALIVE);
	CHECK(!pt_get(t, n)->has_exit_code);
	CHECK(pt_get(t, c)->parent == n); /* linked to the new 200, not the dead one */
	CHECK(pt_find_live_pid(t, 200) == n);
	/* a late exit of the old 200 must not kill the new one */
	APPLY(t, old_x);
	CHECK(pt_get(t, n)->state == PT_ALIVE);
	pt_free(t);
}

static void test_exit_before_fork_and_late_snapshot(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_exit x = mk_exit(300, START(30), 1, 2 * SEC, 0);
	struct ft_fork f = mk_fork(300, START(30), 1, START(1), 1 * SEC);
	struct ft_snapshot s = mk_snap(300, START(30), 1, START(1));
	int32_t i;

	i = APPLY(t, x); /* tombstone for a process never seen */
	CHECK(i != PT_NONE && pt_get(t, i)->state == PT_DEAD);
	CHECK(APPLY(t, f) == i);
	CHECK(pt_get(t, i)->state == PT_DEAD);
	CHECK(APPLY(t, s) == i);
	CHECK(pt_get(t, i)->state == PT_DEAD);
	CHECK(pt_get_stats(t)->resurrect_refused == 2);
	CHECK(pt_get_stats(t)->live == 0);
	pt_free(t);
}

static void test_threads_counted_not_processes(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_snapshot p = mk_snap(400, START(40), 1, START(1));
	struct ft_fork th = mk_fork(400, START(40), 400, START(40), 1 * SEC);
	struct ft_exit tx = mk_exit(400, START(40), 1, 2 * SEC, 0);
	int32_t i;

	th.h.tid = 401;
	th.h.flags = FT_F_THREAD;
	th.parent_threads = 2; /* the kernel's count, new thread included */
	tx.h.tid = 401;
	tx.h.flags = FT_F_THREAD;
	tx.nr_threads = 2; /* drops only at release, after the record */
	i = APPLY(t, p);
	CHECK(APPLY(t, th) == i);
	CHECK(pt_get(t, i)->threads == 2);
	CHECK(pt_get_stats(t)->used == 1);
	APPLY(t, tx);
	CHECK(pt_get(t, i)->threads == 1);
	CHECK(pt_get(t, i)->state == PT_ALIVE);
	pt_free(t);
}

static void test_gone_and_prune(void)
{
	struct proctable *t = pt_new(128, 5 * SEC);
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_fork fa = mk_fork(500, START(50), 1, START(1), 1 * SEC);
	struct ft_fork fb = mk_fork(501, START(51), 500, START(50), 1 * SEC);
	struct ft_exit xa = mk_exit(500, START(50), 1, 2 * SEC, 0);
	struct ft_header gone = { 0 };
	int32_t a, b;

	APPLY(t, init);
	a = APPLY(t, fa);
	b = APPLY(t, fb);
	APPLY(t, xa);
	/* a resync found 501 gone: its exit record was lost */
	gone.type = FT_EV_GONE;
	gone.size = sizeof(gone);
	gone.ts_ns = 3 * SEC;
	gone.tgid = 501;
	gone.start_ns = START(51);
	CHECK(pt_apply(t, &gone) == b);
	CHECK(pt_get(t, b)->state == PT_DEAD && !pt_get(t, b)->has_exit_code);
	/* inside the grace period nothing goes */
	pt_prune(t, 4 * SEC);
	CHECK(pt_get(t, a) && pt_get(t, b));
	/* after it, the leaf goes first; its parent only once it is childless */
	pt_prune(t, 8500000000ull);
	CHECK(pt_get(t, a) != NULL); /* had a child when its turn came */
	CHECK(pt_get(t, b) == NULL);
	pt_prune(t, 8600000000ull);
	CHECK(pt_get(t, a) == NULL);
	CHECK(pt_get_stats(t)->pruned == 2);
	pt_free(t);
}

static void test_dead_ancestor_of_live_tree_is_kept(void)
{
	struct proctable *t = pt_new(128, 1 * SEC);
	struct ft_fork fa = mk_fork(600, START(60), 1, START(1), 1 * SEC);
	struct ft_fork fb = mk_fork(601, START(61), 600, START(60), 1 * SEC);
	struct ft_exit xa = mk_exit(600, START(60), 1, 2 * SEC, 0);
	int32_t a, b;

	a = APPLY(t, fa);
	b = APPLY(t, fb);
	APPLY(t, xa);
	pt_prune(t, 100 * SEC);
	CHECK(pt_get(t, a) != NULL); /* the bomb whose root exited stays rooted */
	CHECK(pt_is_descendant(t, b, a));
	pt_free(t);
}

static void test_eviction_at_bound(void)
{
	struct proctable *t = pt_new(64, 5 * SEC);
	uint32_t pid;

	for (pid = 1000; pid < 1064; pid++) {
		struct ft_fork f = mk_fork(pid, START(pid), 1, START(1), 1 * SEC);

		CHECK(APPLY(t, f) != PT_NONE);
	}
	CHECK(pt_get_stats(t)->used == 64);
	for (pid = 1000; pid < 1010; pid++) {
		struct ft_exit x = mk_exit(pid, START(pid), 1, 2 * SEC + pid, 0);

		APPLY(t, x);
	}
	/* 20 more: ten evict the dead (oldest death first), ten find no room */
	for (pid = 2000; pid < 2020; pid++) {
		struct ft_fork f = mk_fork(pid, START(pid), 1, START(1), 3 * SEC);

		APPLY(t, f);
	}
	CHECK(pt_get_stats(t)->evicted == 10);
	CHECK(pt_get_stats(t)->dropped_full == 10);
	CHECK(pt_get_stats(t)->used == 64);
	CHECK(pt_get_stats(t)->live == 64);
	CHECK(pt_find(t, 1000, START(1000)) == PT_NONE); /* evicted */
	CHECK(pt_find(t, 1010, START(1010)) != PT_NONE); /* live ones never are */
	CHECK(pt_find(t, 2009, START(2009)) != PT_NONE);
	CHECK(pt_find(t, 2010, START(2010)) == PT_NONE);
	pt_free(t);
}

/*
 * Full table: the entry dead longest has a live child, so evicting it would
 * cut the child's tree from its root.  The next-oldest childless dead entry
 * goes instead; a pinned one never does.  With no childless one left, the
 * exited ancestor goes (its child keeps its lineage key) rather than a new
 * process going untracked; with nothing dead but pinned, the insert is
 * dropped and counted.
 */
static void test_eviction_spares_ancestors_and_pinned(void)
{
	struct proctable *t = pt_new(8, 5 * SEC);
	struct ft_fork fa = mk_fork(100, START(100), 1, START(1), 1 * SEC);
	struct ft_fork fb = mk_fork(101, START(101), 100, START(100), 1 * SEC);
	struct ft_exit xa = mk_exit(100, START(100), 1, 2 * SEC, 0);
	int32_t a, b, pinned;
	uint32_t pid;

	a = APPLY(t, fa);
	b = APPLY(t, fb);
	APPLY(t, xa); /* dead first, with a live child */
	for (pid = 200; pid < 206; pid++) {
		struct ft_fork f = mk_fork(pid, START(pid), 1, START(1), 1 * SEC);

		CHECK(APPLY(t, f) != PT_NONE);
	}
	CHECK(pt_get_stats(t)->used == 8);
	for (pid = 200; pid < 203; pid++) {
		struct ft_exit x = mk_exit(pid, START(pid), 1, 3 * SEC + pid, 0);

		APPLY(t, x);
	}
	pinned = pt_find(t, 200, START(200));
	pt_set_pinned(t, pinned, true);
	for (pid = 300; pid < 304; pid++) {
		struct ft_fork f = mk_fork(pid, START(pid), 1, START(1), 4 * SEC);

		APPLY(t, f);
	}
	/* 201 and 202 went first; then 100, a parent; 200 (pinned) stayed */
	CHECK(pt_get_stats(t)->evicted == 3);
	CHECK(pt_get_stats(t)->evicted_ancestors == 1);
	CHECK(pt_get_stats(t)->dropped_full == 1);
	CHECK(pt_find(t, 100, START(100)) == PT_NONE && a != PT_NONE);
	CHECK(pt_get(t, b)->parent == PT_NONE && pt_get(t, b)->lineage.tgid == 100);
	CHECK(pt_find(t, 200, START(200)) == pinned);
	CHECK(pt_find(t, 201, START(201)) == PT_NONE && pt_find(t, 202, START(202)) == PT_NONE);
	/* pruning spares the pinned entry too, until it is unpinned */
	pt_prune(t, 100 * SEC);
	CHECK(pt_find(t, 200, START(200)) == pinned);
	pt_set_pinned(t, pinned, false);
	pt_prune(t, 101 * SEC);
	CHECK(pt_find(t, 200, START(200)) == PT_NONE);
	/* the child dies and goes; then every entry is live: dropped */
	{
		struct ft_exit xb = mk_exit(101, START(101), 1, 5 * SEC, 0);
		struct ft_fork f1 = mk_fork(400, START(400), 1, START(1), 6 * SEC);
		struct ft_fork f2 = mk_fork(401, START(401), 1, START(1), 6 * SEC);
		struct ft_fork f3 = mk_fork(402, START(402), 1, START(1), 6 * SEC);

		APPLY(t, xb);
		CHECK(APPLY(t, f1) != PT_NONE); /* the slot pruning freed */
		CHECK(APPLY(t, f2) != PT_NONE); /* evicts 101 */
		CHECK(pt_find(t, 101, START(101)) == PT_NONE);
		CHECK(APPLY(t, f3) == PT_NONE);
		CHECK(pt_get_stats(t)->dropped_full == 2);
	}
	pt_free(t);
	/* a chain of processes that each fork the next and exit holds one
	 * live process: it cannot fill the table against what comes later */
	t = pt_new(64, 5 * SEC);
	for (pid = 1000; pid < 1300; pid++) {
		struct ft_fork f = mk_fork(pid + 1, START(pid + 1), pid, START(pid), 1 * SEC);
		struct ft_exit x = mk_exit(pid, START(pid), 1, 1 * SEC + pid, 0);

		APPLY(t, f);
		APPLY(t, x);
	}
	for (pid = 5000; pid < 5040; pid++) {
		struct ft_fork f = mk_fork(pid, START(pid), 1, START(1), 2 * SEC);

		CHECK(APPLY(t, f) != PT_NONE);
	}
	CHECK(pt_get_stats(t)->dropped_full == 0 && pt_get_stats(t)->evicted_ancestors > 0);
	pt_free(t);
	/* and what it evicts hands its children up: a pinned root (a
	 * flagged tree's) keeps its live descendants below it */
	t = pt_new(64, 5 * SEC);
	{
		struct ft_fork f = mk_fork(1000, START(1000), 1, START(1), 1 * SEC);

		pt_set_pinned(t, APPLY(t, f), true);
	}
	for (pid = 1000; pid < 1300; pid++) {
		struct ft_fork f = mk_fork(pid + 1, START(pid + 1), pid, START(pid), 1 * SEC);
		struct ft_exit x = mk_exit(pid, START(pid), 1, 1 * SEC + pid, 0);

		APPLY(t, f);
		if (pid > 1000)
			APPLY(t, x);
	}
	CHECK(pt_get_stats(t)->evicted_ancestors > 0);
	CHECK(pt_is_descendant(t, pt_find(t, 1300, START(1300)), pt_find(t, 1000, START(1000))));
	/* handed up, it is no child of its forker's: piles and storms, which
	 * count a process's own children, leave it out */
	{
		uint32_t handed = 0;

		for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i))
			handed += pt_get(t, i)->parent != PT_NONE && !pt_parent_forked(t, i);
		CHECK(handed > 0);
	}
	pt_free(t);
	/* of exited ancestors, one with a single child goes before an older
	 * one with many (a splice moves each child) */
	t = pt_new(8, 5 * SEC);
	{
		struct ft_fork fx = mk_fork(100, START(100), 1, START(1), 1 * SEC);
		struct ft_fork fy = mk_fork(200, START(200), 1, START(1), 1 * SEC);
		struct ft_exit xx = mk_exit(100, START(100), 1, 2 * SEC, 0);
		struct ft_exit xy = mk_exit(200, START(200), 1, 3 * SEC, 0);
		int32_t kid;

		APPLY(t, fx);
		APPLY(t, fy);
		for (pid = 101; pid < 104; pid++) {
			struct ft_fork f = mk_fork(pid, START(pid), 100, START(100), 1 * SEC);

			APPLY(t, f);
		}
		{
			struct ft_fork f = mk_fork(201, START(201), 200, START(200), 1 * SEC);

			kid = APPLY(t, f);
		}
		CHECK(kid != PT_NONE && pt_parent_forked(t, kid));
		APPLY(t, xx); /* dead first, three children */
		APPLY(t, xy); /* one child */
		for (pid = 300; pid < 303; pid++) {
			struct ft_fork f = mk_fork(pid, START(pid), 1, START(1), 4 * SEC);

			APPLY(t, f);
		}
		CHECK(pt_find(t, 200, START(200)) == PT_NONE);
		CHECK(pt_find(t, 100, START(100)) != PT_NONE);
		CHECK(pt_get_stats(t)->evicted_ancestors == 1);
	}
	pt_free(t);
}

#ifndef FT_CORE_ONLY
static void test_json_escaping(void)
{
	char out[256];

	json_escape(out, sizeof(out), "a\"b\\c", 5);
	CHECK(!strcmp(out, "a\\\"b\\\\c"));
	json_escape(out, sizeof(out), "x\ny\t\x01\x7f", 6);
	CHECK(!strcmp(out, "x\\ny\\t\\u0001\\u007f"));
	/* valid UTF-8 passes, broken sequences become \u00XX per byte */
	json_escape(out, sizeof(out), "caf\xc3\xa9", 5);
	CHECK(!strcmp(out, "caf\xc3\xa9"));
	json_escape(out, sizeof(out), "\xc3(\xff", 3);
	CHECK(!strcmp(out, "\\u00c3(\\u00ff"));
	json_escape(out, sizeof(out), "\xed\xa0\x80", 3); /* a UTF-16 surrogate */
	CHECK(!strcmp(out, "\\u00ed\\u00a0\\u0080"));
	/* stops at the length limit and at NUL */
	json_escape(out, sizeof(out), "abc\0def", 7);
	CHECK(!strcmp(out, "abc"));
	json_escape(out, 4, "abcdef", 6);
	CHECK(!strcmp(out, "abc"));
}
#endif

static const char *tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "/tmp/forktrace-unit-%d-%s", (int)getpid(), name);
	return path;
}

static int write_sample(const char *path, int n)
{
	struct ft_run_info info = { .kernel = "6.99-test", .start_ns = 1 };
	struct ft_writer *w;
	char err[256];

	if (ft_writer_open(path, &info, true, &w, err, sizeof(err)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct ft_fork f = mk_fork(100 + i, START(100 + i), 1, START(1), SEC + i);

		if (ft_writer_put(w, (union ft_record *)&f, err, sizeof(err)))
			return -1;
	}
	return ft_writer_close(w, err, sizeof(err));
}

static int read_all(const char *path, int *count, char *err, size_t errlen)
{
	struct ft_run_info info;
	struct ft_reader *r;
	union ft_record rec;
	int got;

	*count = 0;
	if (ft_reader_open(path, &info, &r, err, errlen))
		return -1;
	while ((got = ft_reader_next(r, &rec, err, errlen)) > 0)
		(*count)++;
	ft_reader_close(r);
	return got;
}

static void corrupt_byte(const char *path, long offset)
{
	FILE *f = fopen(path, "r+b");
	int c;

	fseek(f, offset, SEEK_SET);
	c = fgetc(f);
	fseek(f, offset, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
}

static void test_recording_roundtrip_and_damage(void)
{
	const char *path = tmp_path("rec");
	char err[512];
	int count;
	long size;
	FILE *f;

	CHECK(write_sample(path, 10) == 0);
	CHECK(read_all(path, &count, err, sizeof(err)) == 0 && count == 10);

	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	/* truncated mid-record: the good records come out, then an offset */
	CHECK(truncate(path, size - 7) == 0);
	CHECK(read_all(path, &count, err, sizeof(err)) == -1 && count == 9);
	CHECK(strstr(err, "truncated record at offset") != NULL);

	/* one flipped bit near the end of the 7th record's payload */
	CHECK(write_sample(path, 10) == 0);
	corrupt_byte(path, size - 3 * (long)(sizeof(struct ft_fork) + 8) - 20);
	CHECK(read_all(path, &count, err, sizeof(err)) == -1 && count == 6);
	CHECK(strstr(err, "checksum mismatch") != NULL && strstr(err, "offset") != NULL);

	/* a foreign file */
	f = fopen(path, "wb");
	fputs("{\"event\":\"start\"}\n", f);
	fclose(f);
	CHECK(read_all(path, &count, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a forktrace recording") != NULL);

	/* an empty file, and a header cut short */
	f = fopen(path, "wb");
	fclose(f);
	CHECK(read_all(path, &count, err, sizeof(err)) == -1);
	CHECK(write_sample(path, 1) == 0 && truncate(path, 40) == 0);
	CHECK(read_all(path, &count, err, sizeof(err)) == -1);
	CHECK(strstr(err, "truncated header") != NULL);

	/* a damaged length field */
	CHECK(write_sample(path, 2) == 0);
	corrupt_byte(path, size - 10 * (long)(sizeof(struct ft_fork) + 8) + 2);
	CHECK(read_all(path, &count, err, sizeof(err)) == -1);
	CHECK(strstr(err, "offset") != NULL);
	unlink(path);
}

#ifndef FT_CORE_ONLY
/* Run a synthetic stream through the whole pipeline, JSON into a buffer. */
static char *run_pipeline(const union ft_record *const *recs, int n, uint32_t root_pid, bool tree)
{
	struct ft_run_info info = { .kernel = "test" };
	struct pipeline_opts po = {
		.root_pid = root_pid,
		.table_capacity = 128,
		.grace_ns = 5 * SEC,
	};
	const struct output_shows shows = { .tree = tree };
	struct pipeline *p;
	struct output *o;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || pipeline_new(&po, &info, &p, err, sizeof(err)))
		return NULL;
	o = pipeline_add_lines(p, f, OUT_JSON, &info, &shows);
	pipeline_start(p, "test", 1);
	for (int i = 0; i < n; i++)
		pipeline_feed(p, recs[i]);
	pipeline_finish(p, 10 * SEC, err, sizeof(err));
	pipeline_free(p);
	output_free(o);
	fclose(f);
	return buf;
}

static int count_lines(const char *buf, const char *needle)
{
	int n = 0;

	for (const char *p = buf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_pipeline_pid_scope_and_lost(void)
{
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_snapshot shell = mk_snap(50, START(5), 1, START(1));
	struct ft_fork a = mk_fork(700, START(70), 50, START(5), 1 * SEC);
	struct ft_fork a1 = mk_fork(701, START(71), 700, START(70), 1 * SEC);
	struct ft_fork other = mk_fork(800, START(80), 1, START(1), 1 * SEC);
	struct ft_exit xa1 = mk_exit(701, START(71), 700, 2 * SEC, 9);
	struct ft_lost lost = { .h = { .type = FT_EV_LOST, .size = sizeof(lost), .ts_ns = 2 * SEC },
				.lost_type = FT_EV_FORK,
				.count = 42 };
	const union ft_record *recs[] = {
		(void *)&init,	(void *)&shell, (void *)&a,    (void *)&a1,
		(void *)&other, (void *)&xa1,	(void *)&lost,
	};
	char *out;

	out = run_pipeline(recs, 7, 700, true);
	CHECK(out != NULL);
	if (!out)
		return;
	CHECK(count_lines(out, "\"event\":\"fork\"") == 2); /* 700 and 701, not 800 */
	CHECK(count_lines(out, "\"pid\":800") == 0);
	CHECK(count_lines(out, "\"event\":\"exit\",\"ts\":2000000000,\"pid\":701") == 1);
	CHECK(count_lines(out, "\"signal\":9") == 1);
	CHECK(count_lines(out, "\"event\":\"lost\"") == 1 && count_lines(out, "\"count\":42") == 1);
	CHECK(count_lines(out, "\"forks\":2,") == 1 && count_lines(out, "\"lost\":42,") == 1);
	/* the tree is the -p subtree only: 700 alive, 701 dead and hidden */
	CHECK(count_lines(out, "\"event\":\"tree\"") == 1);
	CHECK(count_lines(out, "\"event\":\"tree\",\"ts\":10000000000,\"pid\":700") == 1);
	free(out);

	out = run_pipeline(recs, 7, 0, false);
	CHECK(out && count_lines(out, "\"event\":\"fork\"") == 3);
	free(out);
}
#endif

/* --- detector on synthetic streams ------------------------------------- */

struct synth {
	struct proctable *t;
	struct detector *d;
	struct det_verdict got[32];
	int n;
	uint32_t next_pid;
	struct ft_exe_key exe; /* what fork and exec records say the program is */
	uint64_t exe_size;     /* what exec records say its size is */
	uint64_t cwd;	       /* the working directory exec records carry */
	uint64_t cwd_age_ns;   /* and its age, plus one (0: unknown) */
	uint32_t cwd_nlink;    /* and its links (2: no subdirectories) */
	uint64_t cwd_parent;   /* and the directory it is in */
	uint64_t cgroup;       /* the cgroup fork records carry */
	uint32_t parent_threads; /* the forking parent's threads, fork records say */
	uint16_t fork_flags;	 /* more ft_header flags fork records carry */
	uint64_t parent_run_ns;	 /* the forking thread's time on a CPU fork records say */
	uint64_t parent_wait_ns; /* and waiting for one */
	uint64_t parent_throttled_ns; /* its CPU cgroups throttled */
	uint32_t parent_tid;	 /* and that thread (0: the parent's main thread) */
	uint32_t uid;		 /* the real uid fork and exec records carry */
};

static void collect(void *ctx, const struct det_verdict *v)
{
	struct synth *s = ctx;

	if (s->n < 32)
		s->got[s->n++] = *v;
}

static void synth_init(struct synth *s)
{
	struct det_config c;
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_snapshot shell = mk_snap(50, START(5), 1, START(1));

	memset(s, 0, sizeof(*s));
	det_config_defaults(&c);
	s->t = pt_new(4096, 5 * SEC);
	s->d = det_new(&c, 4096);
	s->next_pid = 1000;
	det_feed(s->d, s->t, (union ft_record *)&init, APPLY(s->t, init), collect, s);
	det_feed(s->d, s->t, (union ft_record *)&shell, APPLY(s->t, shell), collect, s);
}

static void synth_free(struct synth *s)
{
	det_free(s->d);
	pt_free(s->t);
}

/* parent forks a new process at ts; returns the child's pid (start = pid ticks) */
static uint32_t synth_fork(struct synth *s, uint32_t ppid, uint64_t ts)
{
	uint32_t pid = s->next_pid++;
	struct ft_fork f = mk_fork(pid, START(pid), ppid, ppid == 50 ? START(5) : START(ppid), ts);

	f.exe = s->exe;
	f.h.cgroup_id = s->cgroup;
	if (s->parent_threads)
		f.parent_threads = s->parent_threads;
	f.h.flags |= s->fork_flags;
	f.parent_run_ns = s->parent_run_ns;
	f.parent_wait_ns = s->parent_wait_ns;
	f.parent_throttled_ns = s->parent_throttled_ns;
	if (s->parent_tid)
		f.parent_tid = s->parent_tid;
	f.h.uid = s->uid;
	det_feed(s->d, s->t, (union ft_record *)&f, APPLY(s->t, f), collect, s);
	return pid;
}

/* argv: NUL-separated, len bytes; NULL for argv = { file } */
static void synth_exec_argv(struct synth *s, uint32_t pid, const char *file, const char *argv,
			    size_t len, uint64_t ts)
{
	struct ft_exec e = { 0 };

	if (!argv) {
		argv = file;
		len = strlen(file) + 1;
	}
	memcpy(e.args, argv, len);
	e.args_len = (uint32_t)len;

	e.h.type = FT_EV_EXEC;
	e.h.size = sizeof(e);
	e.h.ts_ns = ts;
	e.h.tgid = e.h.tid = pid;
	e.h.start_ns = START(pid);
	snprintf(e.h.comm, sizeof(e.h.comm), "%s", strrchr(file, '/') + 1);
	snprintf(e.filename, sizeof(e.filename), "%s", file);
	e.exe = s->exe;
	e.exe_size = s->exe_size;
	e.cwd_ino = s->cwd;
	e.cwd_age_ns = s->cwd_age_ns;
	e.cwd_nlink = s->cwd_nlink;
	e.cwd_parent_ino = s->cwd_parent;
	e.h.cgroup_id = s->cgroup;
	e.h.uid = s->uid;
	det_feed(s->d, s->t, (union ft_record *)&e, APPLY(s->t, e), collect, s);
}

static void synth_exec(struct synth *s, uint32_t pid, const char *file, uint64_t ts)
{
	synth_exec_argv(s, pid, file, NULL, 0, ts);
}

static void synth_exit(struct synth *s, uint32_t pid, uint64_t ts, uint32_t status)
{
	struct ft_exit x = mk_exit(pid, START(pid), 1, ts, status);

	det_feed(s->d, s->t, (union ft_record *)&x, APPLY(s->t, x), collect, s);
}

/*
 * A bomb from root, 0.5 ms per fork.  Like `for (;;) fork();`: in rounds,
 * every process made so far forks once more (so older ones have more
 * children).  With parents_exit, the shell bomb's shape instead: each
 * process forks two children and exits.  Returns the last fork's time.
 */
static uint64_t synth_bomb(struct synth *s, uint32_t root, uint64_t t0, int total,
			   bool parents_exit)
{
	uint32_t procs[4096];
	int made = 1, head = 0;
	uint64_t ts = t0;

	procs[0] = root;
	while (made < total) {
		if (parents_exit) {
			uint32_t p = procs[head++];

			for (int k = 0; k < 2 && made < total; k++)
				procs[made++] = synth_fork(s, p, ts += 500000);
			synth_exit(s, p, ts + 1000, 0);
			continue;
		}
		for (int i = 0, n = made; i < n && made < total; i++)
			procs[made++] = synth_fork(s, procs[i], ts += 500000);
	}
	return ts;
}

static int count_kind(const struct synth *s, enum det_kind kind, uint32_t root)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += s->got[i].kind == kind && (!root || s->got[i].root == root);
	return n;
}

static void test_detect_grows_then_stops(void)
{
	struct synth s;
	uint32_t root;
	uint64_t ts;

	synth_init(&s);
	root = synth_fork(&s, 50, 1 * SEC);
	synth_exec(&s, root, "/tmp/bomb", 1 * SEC + 1000);
	ts = synth_bomb(&s, root, 1 * SEC, 40, false);
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	CHECK(s.n >= 1 && s.got[0].pattern == DET_FORK_BOMB);
	CHECK(s.n >= 1 && s.got[0].tasks >= 16 && s.got[0].tasks < 40);
	/* it stopped growing: nothing more until every member is gone */
	for (uint32_t pid = root; pid < root + 40; pid++)
		synth_exit(&s, pid, ts + 2 * SEC + pid, 0);
	CHECK(count_kind(&s, DET_ALERT_UPDATE, 0) <= 1);
	CHECK(count_kind(&s, DET_ALERT_END, root) == 1);
	CHECK(s.got[s.n - 1].kind == DET_ALERT_END && s.got[s.n - 1].peak_tasks == 40);
	synth_free(&s);
}

static void test_detect_two_bombs_at_once(void)
{
	struct synth s;
	uint32_t a, b, qa[256], qb[256];
	int ha = 0, ta = 0, hb = 0, tb = 0;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	a = synth_fork(&s, 50, ts);
	b = synth_fork(&s, 50, ts + 1000);
	synth_exec(&s, a, "/tmp/bomb-a", ts + 2000);
	synth_exec(&s, b, "/tmp/bomb-b", ts + 3000);
	qa[ta++] = a;
	qb[tb++] = b;
	/* interleave: one fork in each tree in turn */
	for (int i = 0; i < 60; i++) {
		ts += 300000;
		qa[ta++] = synth_fork(&s, qa[ha], ts);
		if (i & 1)
			ha++;
		ts += 300000;
		qb[tb++] = synth_fork(&s, qb[hb], ts);
		if (i & 1)
			hb++;
	}
	CHECK(count_kind(&s, DET_ALERT, a) == 1);
	CHECK(count_kind(&s, DET_ALERT, b) == 1);
	CHECK(count_kind(&s, DET_ALERT, 50) == 0); /* not the shell that started both */
	CHECK(count_kind(&s, DET_ALERT, 0) == 2);
	synth_free(&s);
}

static void test_detect_root_exits_early(void)
{
	struct synth s;
	uint32_t root;

	synth_init(&s);
	root = synth_fork(&s, 50, 1 * SEC);
	synth_exec_argv(&s, root, "/bin/bash", "bash\0bomb.sh", 13, 1 * SEC + 1000);
	/* the shell bomb's shape: every process forks two and exits */
	synth_bomb(&s, root, 1 * SEC, 120, true);
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	CHECK(s.n >= 1 && pt_get(s.t, pt_find(s.t, root, START(root)))->state == PT_DEAD);
	CHECK(s.n >= 1 && s.got[0].pattern == DET_FORK_BOMB);
	synth_free(&s);
}

static void test_detect_make_like_tree_is_not_flagged(void)
{
	struct synth s;
	uint64_t ts = 1 * SEC;
	uint32_t make;

	synth_init(&s);
	make = synth_fork(&s, 50, ts);
	synth_exec(&s, make, "/usr/bin/make", ts + 1000);
	/* make -j16: 300 jobs of sh -> gcc -> cc1 + as, 16 at a time */
	for (int job = 0; job < 300; job++) {
		uint32_t sh, gcc, cc1, as;

		ts += 3000000;
		sh = synth_fork(&s, make, ts);
		synth_exec(&s, sh, "/bin/sh", ts + 100000);
		gcc = synth_fork(&s, sh, ts + 200000);
		synth_exec(&s, gcc, "/usr/bin/gcc", ts + 300000);
		cc1 = synth_fork(&s, gcc, ts + 400000);
		synth_exec(&s, cc1, "/usr/lib/gcc/cc1", ts + 500000);
		as = synth_fork(&s, gcc, ts + 30000000);
		synth_exec(&s, as, "/usr/bin/as", ts + 30100000);
		if (job >= 16) { /* the job started 16 ago finishes */
			uint32_t old = sh - 16 * 4;

			for (uint32_t p = old; p < old + 4; p++)
				synth_exit(&s, p, ts + 40000000, 0);
		}
	}
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	synth_free(&s);
}

/*
 * A vfork storm under a chain of copies (runner forks a copy forking the
 * storm), 20,000 children that
 * exit at once, 40 us apart.  Nothing to flag, and the detector's subtree
 * walks must stay a few processes per record although every chain node's
 * subtree holds thousands of exited children (the table's capacity).
 */
static void test_detect_storm_cost_bounded(void)
{
	struct synth s;
	struct det_work w;
	uint64_t ts = 1 * SEC;
	uint32_t runner, storm;
	int records = 0;

	synth_init(&s);
	runner = synth_fork(&s, 50, ts);
	synth_exec(&s, runner, "/usr/bin/runner", ts + 1000);
	/* copies of the runner forking copies: every storm fork is looked at */
	storm = synth_fork(&s, runner, ts += 1000000);
	storm = synth_fork(&s, storm, ts += 1000000);
	for (int i = 0; i < 20000; i++, records += 2) {
		uint32_t c = synth_fork(&s, storm, ts += 40000);

		synth_exit(&s, c, ts + 20000, 0);
	}
	det_get_work(s.d, &w);
	CHECK(s.n == 0);
	CHECK(w.profiles > 0);
	/* 6 per record; with a fixed 20 ms timer, 11 */
	if (w.nodes >= 8ull * (uint64_t)records)
		fprintf(stderr, "    %llu nodes visited for %d records\n",
			(unsigned long long)w.nodes, records);
	CHECK(w.nodes < 8ull * (uint64_t)records);
	synth_free(&s);
}

static void test_detect_restart_loop(void)
{
	struct synth s;
	uint64_t ts = 1 * SEC;
	uint32_t dog;

	synth_init(&s);
	dog = synth_fork(&s, 50, ts);
	for (int i = 0; i < 20; i++) {
		uint32_t c = synth_fork(&s, dog, ts += 50000000);

		synth_exec(&s, c, "/usr/bin/crasher", ts + 100000);
		synth_exit(&s, c, ts + 2000000, 11); /* SIGSEGV */
	}
	CHECK(count_kind(&s, DET_ALERT, dog) == 1);
	CHECK(s.n >= 1 && s.got[0].pattern == DET_RESTART_LOOP && s.got[0].restarts == 8);
	CHECK(count_kind(&s, DET_ALERT_UPDATE, dog) == 1); /* at 16 */
	synth_free(&s);
}

/* --- program identity, root choice, limits: the pure decision rules --- */

#define ARGV(s) s, sizeof(s)

static struct prog_id pid_of(const char *file, const char *argv, size_t len, uint64_t cwd)
{
	return prog_identify(file, argv, len, cwd);
}

static void test_prog_identity_table(void)
{
	struct prog_id a = pid_of("/usr/bin/python3", ARGV("python3\0a.py"), 7);
	struct prog_id b = pid_of("/usr/bin/python3", ARGV("python3\0b.py"), 7);

	CHECK(a.kind == PROG_SCRIPT && a.hash && a.hash != b.hash);
	/* options, interpreter version and "./" change nothing */
	CHECK(pid_of("/usr/bin/python3.11", ARGV("python3.11\0-u\0-X\0dev\0./a.py"), 7).hash ==
	      a.hash);
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0-Bu\0a.py\0--x"), 7).hash == a.hash);
	/* a relative script is another program in another directory */
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0a.py"), 8).hash != a.hash);
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0/srv/a.py"), 7).hash ==
	      pid_of("/usr/bin/python3", ARGV("python3\0/srv/a.py"), 8).hash);
	/* a shebang script, then env's exec of python3: one program */
	CHECK(pid_of("./tool.py", ARGV("/usr/bin/env\0python3\0./tool.py\0x"), 7).hash ==
	      pid_of("/usr/bin/python3", ARGV("python3\0./tool.py\0x"), 7).hash);
	CHECK(pid_of("./t.sh", ARGV("/bin/bash\0./t.sh"), 7).hash ==
	      pid_of("/bin/bash", ARGV("bash\0-x\0t.sh"), 7).hash);
	/* -c text and -m modules */
	CHECK(pid_of("/bin/sh", ARGV("sh\0-c\0make all"), 7).kind == PROG_CODE);
	CHECK(pid_of("/bin/sh", ARGV("sh\0-ec\0make all"), 7).hash ==
	      pid_of("/bin/dash", ARGV("dash\0-c\0make all\0name"), 9).hash);
	CHECK(pid_of("/bin/sh", ARGV("sh\0-c\0make all"), 7).hash !=
	      pid_of("/bin/sh", ARGV("sh\0-c\0make test"), 7).hash);
	CHECK(pid_of("/bin/bash", ARGV("bash\0-o\0posix\0s.sh"), 7).kind == PROG_SCRIPT);
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0-c\0print(1)"), 7).hash !=
	      pid_of("/usr/bin/python3", ARGV("python3\0-c\0print(2)"), 7).hash);
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0-m\0pytest\0-x"), 7).hash ==
	      pid_of("/usr/bin/python3", ARGV("python3\0-B\0-mpytest"), 9).hash);
	CHECK(pid_of("/usr/bin/perl", ARGV("perl\0-e\0fork"), 7).kind == PROG_CODE);
	CHECK(pid_of("/usr/bin/node", ARGV("node\0--eval\0x"), 7).kind == PROG_CODE);
	CHECK(pid_of("/usr/bin/ruby", ARGV("ruby\0-r\0lib\0app.rb"), 7).kind == PROG_SCRIPT);
	/* multiprocessing's spawn and forkserver children run the parent's program */
	CHECK(pid_of("/usr/bin/python3",
		     ARGV("python3\0-B\0-c\0from multiprocessing.spawn import spawn_main; "
			  "spawn_main(tracker_fd=5, pipe_handle=7)\0--multiprocessing-fork"),
		     7)
		  .kind == PROG_INHERIT);
	/* interpreters with no program, and binaries */
	CHECK(pid_of("/bin/bash", ARGV("-bash"), 7).kind == PROG_INTERACTIVE);
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0-"), 7).kind == PROG_INTERACTIVE);
	CHECK(pid_of("/usr/bin/make", ARGV("make\0-C\0a"), 7).hash ==
	      pid_of("/usr/bin/make", ARGV("make\0-C\0b"), 8).hash);
	CHECK(pid_of("/usr/bin/make", ARGV("make"), 7).kind == PROG_EXE);
	CHECK(pid_of("./bomb", ARGV("./bomb"), 7).hash != pid_of("./bomb", ARGV("./bomb"), 8).hash);
	CHECK(pid_of("", "", 0, 7).kind == PROG_NONE);
	/* spellings of one path */
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0/tmp//b.py"), 7).hash ==
	      pid_of("/usr/bin/python3", ARGV("python3\0/tmp/./b.py"), 7).hash);
	/* argv cut short inside the script's path, or before it: not that
	 * script, nor "interactive", but the interpreter's executable */
	CHECK(pid_of("/usr/bin/python3", "python3\0-W\0ignore\0/srv/ap", 25, 7).kind == PROG_EXE);
	CHECK(pid_of("/usr/bin/python3", "python3\0-W\0ignore", 17, 7).kind == PROG_EXE);
	/* cut inside -c text: the text's start still names it */
	CHECK(pid_of("/usr/bin/python3", "python3\0-c\0print(1); pri", 24, 7).kind == PROG_CODE);
}

/* Kin: what a copy can change without doing anything else (progid.h). */
static void test_prog_kin(void)
{
	struct prog_id a = pid_of("/usr/bin/python3", ARGV("python3\0-c\0spawn() # 1"), 7);
	struct prog_id b = pid_of("/usr/bin/python3", ARGV("python3\0-c\0spawn() # 2"), 7);
	struct prog_id x = pid_of("/tmp/s/copy-1", ARGV("/tmp/s/copy-1"), 7);
	struct prog_id y = pid_of("/tmp/s/copy-2", ARGV("/tmp/s/copy-2"), 7);

	/* -c text: another program, the same kin; another interpreter's is not */
	CHECK(a.hash != b.hash && a.kin && a.kin == b.kin);
	CHECK(pid_of("/bin/sh", ARGV("sh\0-c\0spawn"), 7).kin != a.kin);
	/* a script by its file name, wherever it is */
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0me.py"), 7).kin ==
	      pid_of("/usr/bin/python3", ARGV("python3\0../d/me.py"), 8).kin);
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0me.py"), 7).kin !=
	      pid_of("/usr/bin/python3", ARGV("python3\0you.py"), 7).kin);
	/* modules: kin is the program */
	CHECK(pid_of("/usr/bin/python3", ARGV("python3\0-m\0pytest"), 7).kin ==
	      pid_of("/usr/bin/python3", ARGV("python3\0-m\0pytest"), 7).hash);
	/* binaries: one size at new paths is one kin; unknown size, the name */
	CHECK(x.hash != y.hash);
	prog_set_exe_size(&x, 16328);
	prog_set_exe_size(&y, 16328);
	CHECK(x.kin == y.kin && x.kin);
	prog_set_exe_size(&y, 16336);
	CHECK(x.kin != y.kin);
	CHECK(pid_of("./bomb", ARGV("./bomb"), 7).kin == pid_of("../bomb", ARGV("../bomb"), 8).kin);
	/* size is a binary's kin only: a script keeps its name */
	a = pid_of("/usr/bin/python3", ARGV("python3\0me.py"), 7);
	b = a;
	prog_set_exe_size(&b, 6000000);
	CHECK(a.kin == b.kin);
}

static void test_choose_root(void)
{
	/* a bomb: its first copy forked two branches that grow */
	struct det_root_candidate bomb[] = { { false, true, false, 2 },
					     { false, true, false, 2 },
					     { false, true, false, 1 } };
	/* a supervisor forked its worker once; the worker is the bomb */
	struct det_root_candidate sup[] = { { false, true, false, 1 },
					    { false, true, false, 2 },
					    { false, true, false, 2 } };
	/* an interactive shell running :(){ :|:& };: */
	struct det_root_candidate shell[] = { { true, true, false, 2 },
					      { false, true, false, 2 },
					      { false, true, false, 2 } };
	/* a supervisor above a supervisor above the bomb */
	struct det_root_candidate two[] = { { false, true, false, 1 },
					    { false, true, false, 1 },
					    { false, true, false, 3 } };
	/* bash bomb.sh: its first process started one background job and exited */
	struct det_root_candidate script[] = { { false, false, false, 1 },
					       { false, true, false, 2 } };
	struct det_root_candidate one[] = { { true, true, false, 1 } };
	struct det_root_candidate cbomb[] = { { false, true, true, 1 }, { false, true, true, 2 } };

	CHECK(det_choose_root(bomb, 3) == 0);
	CHECK(det_choose_root(sup, 3) == 1);
	CHECK(det_choose_root(shell, 3) == 1);
	CHECK(det_choose_root(two, 3) == 2);
	CHECK(det_choose_root(script, 2) == 0);
	/* a C bomb's first process, one child grown so far, still forking */
	CHECK(det_choose_root(cbomb, 2) == 0);
	CHECK(det_choose_root(one, 1) == 1); /* none: a shell is never the root */
}

/*
 * Container and pod from cgroup paths as kubelet (systemd and cgroupfs
 * drivers), containerd, CRI-O, docker and podman write them.
 */
static void test_container_from_cgroup_path(void)
{
#define ID   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID  "8f3c2b1a-1d2e-4f5a-9b8c-7d6e5f4a3b2c"
#define UID_ "8f3c2b1a_1d2e_4f5a_9b8c_7d6e5f4a3b2c"
	static const struct {
		const char *path;
		enum ct_runtime runtime;
		const char *id, *pod_uid;
	} cases[] = {
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		  ".slice/cri-containerd-" ID ".scope",
		  CT_CONTAINERD, ID, UID },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope", CT_CRIO, ID,
		  UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		  ".slice/docker-" ID ".scope",
		  CT_DOCKER, ID, UID },
		{ "/kubepods/burstable/pod" UID "/" ID, CT_UNKNOWN, ID, UID },
		{ "/kubepods/pod" UID "/" ID, CT_UNKNOWN, ID, UID },
		/* v1 controller line of the same process: same answer */
		{ "/kubepods/besteffort/pod" UID "/crio-" ID, CT_CRIO, ID, UID },
		{ "/system.slice/docker-" ID ".scope", CT_DOCKER, ID, "" },
		{ "/docker/" ID, CT_DOCKER, ID, "" },
		{ "/machine.slice/libpod-" ID ".scope", CT_PODMAN, ID, "" },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
		  ".scope/container",
		  CT_PODMAN, ID, "" },
		{ "/libpod_parent/" ID, CT_PODMAN, ID, "" },
		/* docker in docker: the inner container */
		{ "/docker/" ID "/docker/" ID2, CT_DOCKER, ID2, "" },
		/* the runtimes' helpers are not containers */
		{ "/machine.slice/libpod-conmon-" ID ".scope", CT_NONE, "", "" },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" ID ".scope", CT_NONE,
		  "", "" },
		/* a pod's own slice, no container (the pause process's parent) */
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice", CT_NONE, "", "" },
		{ "/user.slice/user-1000.slice/session-3.scope", CT_NONE, "", "" },
		{ "/system.slice/sshd.service", CT_NONE, "", "" },
		{ "/", CT_NONE, "", "" },
		{ "", CT_NONE, "", "" },
		/* near misses: short, upper-case, non-hex ids; a pod uid out of shape */
		{ "/docker/"
		  "0123456789abcdef",
		  CT_NONE, "", "" },
		{ "/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		  CT_NONE, "", "" },
		{ "/kubepods/podnot-a-uid/" ID, CT_UNKNOWN, ID, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ct_ref r;
		bool found = ct_from_cgroup_path(cases[i].path, &r);

		CHECK(found == (cases[i].runtime != CT_NONE));
		CHECK(r.runtime == cases[i].runtime);
		CHECK(!strcmp(r.id, cases[i].id));
		CHECK(!strcmp(r.pod_uid, cases[i].pod_uid));
		if (r.runtime != cases[i].runtime || strcmp(r.id, cases[i].id) ||
		    strcmp(r.pod_uid, cases[i].pod_uid))
			fprintf(stderr, "  case %zu: %s -> %s %s %s\n", i, cases[i].path,
				ct_runtime_name(r.runtime), r.id, r.pod_uid);
	}
	CHECK(!strcmp(ct_runtime_name(CT_CRIO), "cri-o"));
#undef ID
#undef ID2
#undef UID
#undef UID_
}

/* The first alert's pattern, or -1. */
static int first_pattern(const struct synth *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->got[i].kind == DET_ALERT)
			return (int)s->got[i].pattern;
	return -1;
}

/* Feed a tree of forks in time order: node k is born at ts[k] to parent[k]
 * (-1: the shell; a parent is always born first).  Stops at the first alert. */
static void synth_feed_tree(struct synth *s, uint64_t *ts, const int32_t *parent, uint32_t n)
{
	uint32_t born[512];

	for (uint32_t done = 0; done < n && n <= 512 && first_pattern(s) < 0; done++) {
		uint32_t k = n;

		for (uint32_t j = 0; j < n; j++)
			if (ts[j] && (k == n || ts[j] < ts[k]))
				k = j;
		born[k] = synth_fork(s, parent[k] < 0 ? 50 : born[parent[k]], ts[k]);
		ts[k] = 0;
	}
}

/*
 * A C bomb on a starved host: each process gets the CPU for a moment every
 * 20 ms and forks 3 times in it, so every forker forks in bursts with quiet
 * between, as a pool does; but it does so again and again.  Still a
 * fork_bomb.  (Until each process has run exactly once, a starved C bomb's
 * fork events are those of nested pools: docs/detection.md, Known limits.)
 * The same every 60 ms from multithreaded forkers: forks that span up to a
 * stretched burst are not yet judged, and the few forkers whose rhythm shows
 * must not name the tree (a review found it named nested_pool).
 */
static void test_detect_starved_c_bomb_is_no_pool(void)
{
	static const struct {
		uint64_t slice_ns;
		uint32_t threads;
	} runs[] = { { 20000000, 0 }, { 60000000, 2 } };

	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		uint64_t ts[400];
		int32_t parent[400];
		uint32_t n = 1;
		struct synth s;

		synth_init(&s);
		s.parent_threads = runs[r].threads;
		ts[0] = 2 * SEC;
		parent[0] = -1;
		for (uint32_t i = 0; i < n && n < 400; i++)
			for (uint64_t slice = 1; slice <= 8 && n < 400; slice++)
				for (uint64_t f = 0; f < 3 && n < 400; f++, n++) {
					ts[n] = ts[i] + slice * runs[r].slice_ns + f * 200000;
					parent[n] = (int32_t)i;
				}
		synth_feed_tree(&s, ts, parent, n);
		CHECK(first_pattern(&s) == DET_FORK_BOMB);
		synth_free(&s);
	}
}

/*
 * Pools of two workers whose workers open pools of their own, on a loaded
 * host: each pool's two forks 15 ms apart (recorded runs show 1-12 ms),
 * a worker's own pool starting 30 ms after it is born; then on a host
 * loaded further, one pool in three with its forks 75 ms apart (recorded
 * too: they were read as steady, and outvoted the bursts).  A nested_pool.
 */
static void test_detect_loaded_nested_pool(void)
{
	static const uint64_t gap_ns[] = { 15000000, 75000000 };

	for (size_t r = 0; r < sizeof(gap_ns) / sizeof(gap_ns[0]); r++) {
		uint64_t ts[255];
		int32_t parent[255];
		struct synth s;

		synth_init(&s);
		/* node i (0 = the first worker) forks nodes 2i+1 and 2i+2 */
		ts[0] = 2 * SEC;
		parent[0] = -1;
		for (uint32_t i = 0; 2 * i + 2 < 255; i++) {
			ts[2 * i + 1] = ts[i] + 30000000;
			ts[2 * i + 2] = ts[i] + 30000000 + (i % 3 == 2 ? gap_ns[r] : gap_ns[0]);
			parent[2 * i + 1] = parent[2 * i + 2] = (int32_t)i;
		}
		synth_feed_tree(&s, ts, parent, 255);
		CHECK(first_pattern(&s) == DET_NESTED_POOL);
		synth_free(&s);
	}
}

/* Pools fork in a burst and stop; bombs fork at a steady pace or die. */
static void test_fork_rhythm(void)
{
	const uint64_t ms = 1000000ull, t0 = 10 * SEC;

	/* a pool's two workers 2 ms apart, judged 100 ms on */
	CHECK(det_fork_rhythm(2, t0, t0 + 2 * ms, t0 + 100 * ms) == DET_RHYTHM_BURST);
	/* the same on a loaded host: 40 ms apart, 300 ms of quiet */
	CHECK(det_fork_rhythm(2, t0, t0 + 40 * ms, t0 + 300 * ms) == DET_RHYTHM_BURST);
	/* ... not judged before it has been quiet for twice the burst */
	CHECK(det_fork_rhythm(2, t0, t0 + 40 * ms, t0 + 110 * ms) == DET_RHYTHM_UNDECIDED);
	/* nor within the first POOL_BURST_NS of quiet, however short the burst */
	CHECK(det_fork_rhythm(2, t0, t0 + 1000, t0 + 5 * ms) == DET_RHYTHM_UNDECIDED);
	/* ... or stretched further by a loaded host: 75 ms apart, judged after
	 * four times as long a quiet (py_nested_pool.py's pools on a loaded
	 * host were named fork_bomb with the quick burst's limit alone) */
	CHECK(det_fork_rhythm(2, t0, t0 + 75 * ms, t0 + 123 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(2, t0, t0 + 75 * ms, t0 + 300 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(2, t0, t0 + 75 * ms, t0 + 380 * ms) == DET_RHYTHM_BURST);
	/* the limits: a quick burst of 50 ms wants 100 ms of quiet, one a
	 * nanosecond longer four times its length; 250 ms is the longest */
	CHECK(det_fork_rhythm(2, t0, t0 + 50 * ms, t0 + 150 * ms - 1) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(2, t0, t0 + 50 * ms, t0 + 150 * ms) == DET_RHYTHM_BURST);
	CHECK(det_fork_rhythm(2, t0, t0 + 50 * ms + 1, t0 + 250 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(2, t0, t0 + 50 * ms + 1, t0 + 250 * ms + 5) == DET_RHYTHM_BURST);
	CHECK(det_fork_rhythm(2, t0, t0 + 250 * ms, t0 + 1250 * ms) == DET_RHYTHM_BURST);
	CHECK(det_fork_rhythm(2, t0, t0 + 250 * ms + 1, t0 + 2 * SEC) == DET_RHYTHM_STEADY);
	/* one fork: steady once older than a quick burst (a loaded host puts
	 * tens of ms between a pool's first two workers) */
	CHECK(det_fork_rhythm(1, t0, t0, t0 + 2 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(1, t0, t0, t0 + 25 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(1, t0, t0, t0 + 50 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(1, t0, t0, t0 + 50 * ms + 1) == DET_RHYTHM_STEADY);
	CHECK(det_fork_rhythm(1, t0, t0, t0 + 60 * ms) == DET_RHYTHM_STEADY);
	CHECK(det_fork_rhythm(1, t0, t0, t0 + SEC) == DET_RHYTHM_STEADY);
	/* a C bomb's forker, forking still: never a burst */
	CHECK(det_fork_rhythm(500, t0, t0 + 50 * ms, t0 + 50 * ms + 1000) != DET_RHYTHM_BURST);
	CHECK(det_fork_rhythm(500, t0, t0 + 80 * ms, t0 + 81 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(500, t0, t0 + 300 * ms, t0 + 301 * ms) == DET_RHYTHM_STEADY);
	/* the slow bomb: a fork every 100-200 ms, never a burst; steady once
	 * its forks span more than a stretched burst */
	CHECK(det_fork_rhythm(2, t0, t0 + 100 * ms, t0 + 300 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(2, t0, t0 + 100 * ms, t0 + 350 * ms) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(3, t0, t0 + 300 * ms, t0 + 500 * ms) == DET_RHYTHM_STEADY);
	/* a copy doubling every 2 s */
	CHECK(det_fork_rhythm(2, t0, t0 + 2 * SEC, t0 + 4 * SEC - ms) == DET_RHYTHM_STEADY);
	/* no forks, or timestamps out of order (a damaged recording) */
	CHECK(det_fork_rhythm(0, 0, 0, t0) == DET_RHYTHM_UNDECIDED);
	CHECK(det_fork_rhythm(2, t0 + SEC, t0, t0 + 2 * SEC) == DET_RHYTHM_UNDECIDED);
}

static void test_seconds_to_limit(void)
{
	double s = det_seconds_to_limit(100, 2000, 1000, 500);

	/* 100 tasks doubling every 2 s fill 500 more in 2 * log2(6) s */
	CHECK(s > 5.16 && s < 5.18);
	CHECK(det_seconds_to_limit(100, 2000, 1000, 1000) == 0);
	CHECK(det_seconds_to_limit(100, -1, 1000, 10) < 0);
	CHECK(det_seconds_to_limit(0, 2000, 1000, 10) < 0);
	/* a leak of 300 a minute fills 500 more in 100 s */
	CHECK(det_seconds_to_limit_linear(300, 1000, 500) == 100);
	CHECK(det_seconds_to_limit_linear(300, 1000, 1000) == 0);
	CHECK(det_seconds_to_limit_linear(0, 1000, 10) < 0);
}

/* Find the one alert of kind DET_ALERT in s, or NULL. */
static const struct det_verdict *only_alert(const struct synth *s)
{
	const struct det_verdict *v = NULL;

	for (int i = 0; i < s->n; i++)
		if (s->got[i].kind == DET_ALERT) {
			if (v)
				return NULL;
			v = &s->got[i];
		}
	return v;
}

/*
 * python3 sup.py starts python3 worker.py once; the worker re-runs itself,
 * two copies each (exec, like subprocess.Popen).  The supervisor is the
 * launcher, the first worker the root.
 */
static void test_detect_supervisor_launches_respawn(void)
{
	struct synth s;
	uint32_t sup, q[256];
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v;

	synth_init(&s);
	sup = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, sup, "/usr/bin/python3", ARGV("python3\0sup.py"), ts + 1000);
	q[tail] = synth_fork(&s, sup, ts += 1000000);
	synth_exec_argv(&s, q[tail++], "/usr/bin/python3", ARGV("python3\0worker.py"), ts + 1000);
	while (tail < 200) {
		uint32_t p = q[head++];

		for (int k = 0; k < 2; k++) {
			q[tail] = synth_fork(&s, p, ts += 2000000);
			synth_exec_argv(&s, q[tail++], "/usr/bin/python3",
					ARGV("python3\0worker.py"), ts + 1000000);
		}
	}
	v = only_alert(&s);
	CHECK(v && v->pattern == DET_RECURSIVE_SPAWN);
	CHECK(v && v->root == q[0] && v->launcher == sup && v->tree);
	CHECK(v && v->tasks < 200);
	synth_free(&s);
}

/* An interactive bash running :(){ :|:& };: is the launcher, never the root. */
static void test_detect_interactive_shell_is_launcher(void)
{
	struct synth s;
	uint32_t sh, q[256];
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v;

	synth_init(&s);
	sh = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, sh, "/bin/bash", ARGV("-bash"), ts + 1000);
	ts += 60 * SEC; /* typed a minute later */
	q[tail++] = synth_fork(&s, sh, ts += 100000);
	while (tail < 120) {
		uint32_t p = q[head++];

		q[tail++] = synth_fork(&s, p, ts += 200000);
		q[tail++] = synth_fork(&s, p, ts += 200000);
		synth_exit(&s, p, ts + 1000, 0);
	}
	v = only_alert(&s);
	CHECK(v && v->root != sh && v->launcher == sh);
	CHECK(count_kind(&s, DET_ALERT, sh) == 0);
	synth_free(&s);
}

/* python -> sh -c 'python x.py' -> python: copies through a shell. */
/*
 * python3 x.py running two copies of itself each through `sh -c`, from
 * working directory cwd (0: unknown), until an alert or 120 copies.
 * Returns the only alert (NULL if none or more), the first copy in *root.
 */
static const struct det_verdict *synth_shell_respawn(struct synth *s, uint64_t cwd,
						     uint32_t *root)
{
	uint32_t q[256];
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;

	s->cwd = cwd;
	q[tail] = synth_fork(s, 50, ts);
	synth_exec_argv(s, q[tail++], "/usr/bin/python3", ARGV("python3\0x.py"), ts + 1000);
	*root = q[0];
	while (tail < 120 && !count_kind(s, DET_ALERT, 0)) {
		uint32_t p = q[head++];

		for (int k = 0; k < 2; k++) {
			uint32_t sh = synth_fork(s, p, ts += 1000000);

			synth_exec_argv(s, sh, "/bin/sh", ARGV("/bin/sh\0-c\0python3 x.py"),
					ts + 100000);
			q[tail] = synth_fork(s, sh, ts += 1000000);
			synth_exec_argv(s, q[tail++], "/usr/bin/python3", ARGV("python3\0x.py"),
					ts + 100000);
		}
	}
	return only_alert(s);
}

/*
 * A script started without its __main__ guard, each copy starting
 * `self --shard 0` and `self --shard 1` (tests/workloads/sup_respawn_worker.py):
 * no copy runs its parent's command line, but each runs one a copy above
 * it ran.  Flagged as clones, at min_generations_clone, by 40 tasks.
 */
static void test_detect_sharded_respawn(void)
{
	static const char shard[2][32] = { "python3\0w.py\0--shard\0" "0",
					   "python3\0w.py\0--shard\0" "1" };
	uint32_t q[256], top;
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v;
	struct synth s;

	synth_init(&s);
	s.cwd = 77;
	top = q[tail++] = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, top, "/usr/bin/python3", ARGV("python3\0w.py"), ts + 1000);
	while (tail < 120 && !count_kind(&s, DET_ALERT, 0)) {
		uint32_t p = q[head++];

		for (int k = 0; k < 2; k++) {
			q[tail] = synth_fork(&s, p, ts += 1000000);
			synth_exec_argv(&s, q[tail++], "/usr/bin/python3", shard[k],
					sizeof("python3\0w.py\0--shard\0" "0"), ts + 100000);
		}
	}
	v = only_alert(&s);
	CHECK(v && v->pattern == DET_RECURSIVE_SPAWN && v->root == top);
	CHECK(v && v->tasks <= 40 && strstr(v->evidence, "same command line"));
	synth_free(&s);
}

static void test_detect_copies_through_a_shell(void)
{
	struct synth s;
	const struct det_verdict *v;
	uint32_t root;

	synth_init(&s);
	v = synth_shell_respawn(&s, 0, &root);
	CHECK(v && v->pattern == DET_RECURSIVE_SPAWN && v->root == root);
	CHECK(v && v->tasks < 200);
	synth_free(&s);
}

/*
 * Clones: a script re-running itself through `sh -c`, the same command in
 * the same directory every time: flagged at min_generations_clone, well
 * before 40 tasks.  A recursive make five levels deep fanning out three
 * ways, every level's makes started before any compiler (breadth first,
 * as -j does), is quiet: its sub-makes run in other directories (cd sub
 * && make: the same command line) or with other arguments (make -C sub).
 */
static void test_detect_clones(void)
{
	const struct det_verdict *v;
	struct synth s;
	uint32_t root;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	v = synth_shell_respawn(&s, 77, &root);
	CHECK(v && v->pattern == DET_RECURSIVE_SPAWN && v->root == root);
	CHECK(v && v->tasks <= 40 && strstr(v->evidence, "same command line"));
	synth_free(&s);

	for (int style = 0; style < 3; style++) {
		uint32_t level[400], next[400] = { 0 };
		uint64_t dir[400] = { 100 }, next_dir[400] = { 0 };
		int n = 1, made = 1;

		synth_init(&s);
		s.cwd = 100;
		level[0] = synth_fork(&s, 50, ts);
		synth_exec_argv(&s, level[0], "/usr/bin/make", ARGV("make\0-j64"), ts + 1000);
		for (int depth = 1; depth <= 5; depth++) {
			int m = 0;

			for (int i = 0; i < n; i++)
				for (int k = 0; k < 3 && m < 400; k++) {
					uint32_t c = synth_fork(&s, level[i], ts += 200000);

					if (style == 0) { /* cd sub && $(MAKE): same argv, new cwd */
						s.cwd = 100 + (uint64_t)(++made);
						synth_exec_argv(&s, c, "/usr/bin/make", ARGV("make"),
								ts + 50000);
					} else if (style == 1) { /* $(MAKE) -C sub */
						char argv[32];
						int len = snprintf(argv, sizeof(argv), "make%c-C%cd%d", 0,
								   0, ++made);

						synth_exec_argv(&s, c, "/usr/bin/make", argv,
								(size_t)len + 1, ts + 50000);
					} else { /* $(MAKE) -C lib|src|doc at every level:
						  * the same argv, run from the parent's directory */
						char argv[32];
						int len = snprintf(argv, sizeof(argv), "make%c-C%cd%d", 0,
								   0, k);

						s.cwd = dir[i];
						synth_exec_argv(&s, c, "/usr/bin/make", argv,
								(size_t)len + 1, ts + 50000);
						next_dir[m] = 100 + (uint64_t)(++made);
					}
					next[m++] = c;
				}
			memcpy(level, next, sizeof(level[0]) * (size_t)m);
			memcpy(dir, next_dir, sizeof(dir[0]) * (size_t)m);
			n = m;
		}
		CHECK(made > 300);
		CHECK(count_kind(&s, DET_ALERT, 0) == 0);
		synth_free(&s);
	}
}

/*
 * A bomb of kin that are not copies: each process starts two processes of
 * a program made for them, `mk(s, parent, child, ts)` (a copied binary, new
 * -c text, a relative path from a new directory).  Flagged by kin at 6
 * exec generations, before 200 tasks, rooted at the first.
 */
typedef void (*kin_exec_fn)(struct synth *s, uint32_t pid, int gen, uint64_t ts);

static const struct det_verdict *synth_kin_bomb(struct synth *s, kin_exec_fn mk, uint32_t *first)
{
	uint32_t q[256];
	int gen[256], head = 0, tail = 0;
	uint64_t ts = 1 * SEC;

	q[tail] = synth_fork(s, 50, ts);
	gen[tail] = 0;
	mk(s, q[tail++], 0, ts + 1000);
	*first = q[0];
	while (tail < 250 && !count_kind(s, DET_ALERT, 0)) {
		uint32_t p = q[head];
		int g = gen[head++];

		for (int k = 0; k < 2; k++) {
			q[tail] = synth_fork(s, p, ts += 1000000);
			gen[tail] = g + 1;
			mk(s, q[tail++], g + 1, ts + 300000);
		}
	}
	return only_alert(s);
}

static void exec_copied_binary(struct synth *s, uint32_t pid, int gen, uint64_t ts)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/scratch/copy-%u", pid);
	s->exe.ino = 5000 + pid; /* a new file every time */
	s->exe_size = 16328;
	synth_exec_argv(s, pid, path, path, strlen(path) + 1, ts);
}

static void exec_new_c_text(struct synth *s, uint32_t pid, int gen, uint64_t ts)
{
	char argv[128];
	int n = snprintf(argv, sizeof(argv), "python3%c-c%cimport os; spawn(2) # %d", 0, 0, gen);

	synth_exec_argv(s, pid, "/usr/bin/python3", argv, (size_t)n + 1, ts);
}

static void exec_from_new_dir(struct synth *s, uint32_t pid, int gen, uint64_t ts)
{
	s->cwd = 900 + (uint64_t)gen; /* mkdir d; cd d; ../bomb */
	s->exe_size = 16328;
	synth_exec_argv(s, pid, "../bomb", ARGV("../bomb"), ts);
}

/*
 * A container's entrypoint `sh -c` runs a CI runner; a minute later the
 * runner starts two job shells: job A runs a nested step, job B a bomb of
 * new -c text.  Every sh -c is kin of every other, but the entrypoint
 * started long before: the alert's root is inside job B, never the
 * entrypoint (whose kill would take the runner and job A).
 */
static void test_detect_kin_root_stays_in_the_job(void)
{
	const struct det_verdict *v;
	struct synth s;
	uint32_t entry, runner, job_a, job_b, q[256];
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	entry = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, entry, "/bin/sh", ARGV("sh\0-c\0prepare; exec runner"), ts + 1000);
	runner = synth_fork(&s, entry, ts += 1000000);
	synth_exec_argv(&s, runner, "/usr/bin/runner", ARGV("runner\0run"), ts + 1000);
	ts = 60 * SEC;
	job_a = synth_fork(&s, runner, ts);
	synth_exec_argv(&s, job_a, "/bin/sh", ARGV("sh\0-c\0make test"), ts + 1000);
	synth_exec_argv(&s, synth_fork(&s, job_a, ts + 2000000), "/bin/sh",
			ARGV("sh\0-c\0./run-step"), ts + 3000000);
	job_b = synth_fork(&s, runner, ts += 5000000);
	synth_exec_argv(&s, job_b, "/bin/sh", ARGV("sh\0-c\0./go"), ts + 1000);
	q[tail++] = job_b;
	while (tail < 250 && !count_kind(&s, DET_ALERT, 0)) {
		uint32_t p = q[head++];

		for (int k = 0; k < 2; k++) {
			char argv[64];
			int n = snprintf(argv, sizeof(argv), "sh%c-c%cgo # %d", 0, 0, tail);

			q[tail] = synth_fork(&s, p, ts += 1000000);
			synth_exec_argv(&s, q[tail++], "/bin/sh", argv, (size_t)n + 1, ts + 300000);
		}
	}
	v = only_alert(&s);
	CHECK(v && v->root != entry && v->root != runner && v->root != job_a);
	CHECK(v && (v->root == job_b || v->root == q[1] || v->root == q[2]));
	synth_free(&s);
}

static void exec_script_in_new_dir(struct synth *s, uint32_t pid, int gen, uint64_t ts)
{
	s->cwd = 700 + pid; /* each directory's own build.sh */
	synth_exec_argv(s, pid, "./build.sh", ARGV("/bin/sh\0./build.sh"), ts);
}

/* mkdir d$$; cp $0 d$$/; cd d$$; ./bomb.sh & ./bomb.sh &: the directory
 * was made just now, after the copy above began */
static void exec_script_copy_in_made_dir(struct synth *s, uint32_t pid, int gen, uint64_t ts)
{
	const struct pt_entry *e = pt_get(s->t, pt_find_live_pid(s->t, pid));

	s->cwd_age_ns = 1 + 200000;
	s->cwd_nlink = 2;
	s->cwd_parent = pt_get(s->t, e->parent)->cwd_ino;
	exec_script_in_new_dir(s, pid, gen, ts);
}

/* where a script of one name runs, in test_detect_script_kin_keep_the_exec_bar */
enum script_place {
	PLACE_UNKNOWN,	   /* a kernel that says nothing */
	PLACE_OLD,	   /* bare directories, unchanged since before the build */
	PLACE_LOGGED,	   /* `>build.log` in each just before, among subdirectories */
	PLACE_SAME_DIR,	   /* all run from one bare directory, written to all the
			    * time, each its own sub/build.sh */
	PLACE_BEFORE_EXEC, /* changed after the parent's fork, before its exec */
	PLACE_BEFORE_BOOT, /* changed before the records' clock began */
	PLACE_FEW_MADE,	   /* a third of the forking levels in bare, new directories */
	PLACE_OUT_OF_TREE, /* bare build directories made for each step, each running
			    * the source tree's build.sh by its full path */
	PLACE_SIBLINGS,	   /* bare package directories side by side, each building
			    * its dependencies first: (cd ../dep && ./build.sh >log) & */
	PLACE_COUNT
};

static void set_script_place(struct synth *s, enum script_place how, int idx, int parent_idx,
			     bool leaf, uint64_t parent_fork, uint64_t exec_ts)
{
	s->cwd = 700 + (uint64_t)idx;
	s->cwd_parent = 700 + (uint64_t)parent_idx; /* a subdirectory of the parent's */
	s->cwd_nlink = leaf ? 2 : 4;
	s->cwd_age_ns = 1 + 100000;
	switch (how) {
	case PLACE_UNKNOWN:
		s->cwd_nlink = 0;
		s->cwd_age_ns = 0;
		break;
	case PLACE_OLD:
		s->cwd_nlink = 2;
		s->cwd_age_ns = 1 + exec_ts - SEC / 2;
		break;
	case PLACE_LOGGED:
		break;
	case PLACE_SAME_DIR:
		s->cwd = 700;
		s->cwd_nlink = 2;
		break;
	case PLACE_BEFORE_EXEC:
		s->cwd_nlink = 2;
		s->cwd_age_ns = 1 + exec_ts - (parent_fork + 100000);
		break;
	case PLACE_BEFORE_BOOT:
		s->cwd_nlink = 2;
		s->cwd_age_ns = 1 + exec_ts + 10 * SEC;
		break;
	case PLACE_FEW_MADE:
		s->cwd_nlink = leaf || idx % 3 == 0 ? 2 : 4;
		break;
	case PLACE_OUT_OF_TREE:
		s->cwd_nlink = 2;
		break;
	case PLACE_SIBLINGS:
		s->cwd_nlink = 2;
		s->cwd_parent = 699; /* the packages' directory, for all */
		break;
	default:
		break;
	}
}

/*
 * A build whose build.sh runs `(cd $d && ./build.sh) &` for each subdirectory,
 * five levels deep and two wide, before any work: kin by the
 * script's name, each started by its kin directly, branching.  Scripts of
 * one name keep the exec bar, wherever they run: only where most forking
 * levels ran in bare directories made after the script above began would
 * it be a copy's shape (test_detect_kin_bombs).
 */
static void test_detect_script_kin_keep_the_exec_bar(void)
{
	for (int how = 0; how < PLACE_COUNT; how++) {
		uint32_t q[64];
		uint64_t forked[64];
		int head = 0, tail = 0;
		uint64_t ts = 1 * SEC;
		struct synth s;

		synth_init(&s);
		forked[tail] = ts;
		q[tail] = synth_fork(&s, 50, ts);
		set_script_place(&s, (enum script_place)how, tail, 0, false, 0, ts + 1000);
		synth_exec_argv(&s, q[tail++], "./build.sh", ARGV("/bin/sh\0./build.sh"), ts + 1000);
		while (tail + 2 <= 63) {
			int p = head++;

			for (int k = 0; k < 2; k++) {
				forked[tail] = ts += 1000000;
				q[tail] = synth_fork(&s, q[p], ts);
				set_script_place(&s, (enum script_place)how, tail, p, tail >= 31,
						 forked[p], ts + 300000);
				/* in the place just set (exec_script_in_new_dir picks
				 * its own), each with its own argument: no clones */
				char argv[64];
				char file[32] = "./build.sh";
				int len;

				if (how == PLACE_OUT_OF_TREE)
					snprintf(file, sizeof(file), "/src/p%d/build.sh", tail);
				len = how == PLACE_SAME_DIR
					      ? snprintf(argv, sizeof(argv), "sh%cp%d/build.sh", 0,
							 tail)
					      : snprintf(argv, sizeof(argv), "/bin/sh%c%s%cpart%d", 0,
							 file, 0, tail);

				synth_exec_argv(&s, q[tail++],
						how == PLACE_SAME_DIR ? "/bin/sh" : file, argv,
						(size_t)len + 1, ts + 300000);
			}
		}
		CHECK(count_kind(&s, DET_ALERT, 0) == 0);
		if (count_kind(&s, DET_ALERT, 0))
			fprintf(stderr, "    place %d: %s\n", how, s.got[0].evidence);
		synth_free(&s);
	}
}

static void test_detect_kin_bombs(void)
{
	static const kin_exec_fn shapes[] = { exec_copied_binary, exec_new_c_text,
					      exec_from_new_dir, exec_script_copy_in_made_dir };

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct det_verdict *v;
		struct synth s;
		uint32_t first;

		synth_init(&s);
		v = synth_kin_bomb(&s, shapes[i], &first);
		CHECK(v && v->pattern == DET_RECURSIVE_SPAWN && v->root == first);
		/* kin that only start their kin, doubling: the clones' depth */
		CHECK(v && v->tasks <= 40 && strstr(v->evidence, "kin"));
		if (!v || v->root != first || v->tasks > 40 || !strstr(v->evidence, "kin"))
			fprintf(stderr, "    kin bomb %zu: %u tasks: %s\n", i, v ? v->tasks : 0,
				v ? v->evidence : "no alert");
		synth_free(&s);
	}
}

/*
 * Kin that do work are no bomb: a build driven by nested `sh -c` steps,
 * seven deep and two wide, each step's shell running three compiles besides
 * the next level; every -c text differs, all of one kin.  Deep enough for
 * the exec rule; the work raises the bar past it.
 */
static void synth_ci_steps(struct synth *s, uint32_t sh, int depth, uint64_t *ts)
{
	char argv[64];

	for (int k = 0; k < 3; k++) {
		uint32_t work = synth_fork(s, sh, *ts += 2000000);

		synth_exec_argv(s, work, "/usr/bin/cc", ARGV("cc\0-c\0f.c"), *ts + 50000);
		synth_exit(s, work, *ts += 20000000, 0);
	}
	if (!depth)
		return;
	for (int i = 0; i < 2; i++) {
		uint32_t c = synth_fork(s, sh, *ts += 1000000);
		int n = snprintf(argv, sizeof(argv), "sh%c-c%cstep %d.%d", 0, 0, depth, i);

		synth_exec_argv(s, c, "/bin/sh", argv, (size_t)n + 1, *ts + 50000);
		synth_ci_steps(s, c, depth - 1, ts);
	}
}

static void test_detect_kin_that_work_are_quiet(void)
{
	struct synth s;
	uint64_t ts = 1 * SEC;
	uint32_t top;

	synth_init(&s);
	top = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, top, "/bin/sh", ARGV("sh\0-c\0ci all"), ts + 1000);
	synth_ci_steps(&s, top, 7, &ts);
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	synth_free(&s);
	/*
	 * A chain is no doubling: twenty nested steps, each leaving a helper
	 * step running beside the next (40 live kin, 20 generations, doing
	 * nothing else), have one forker per generation.
	 */
	synth_init(&s);
	ts = 1 * SEC;
	top = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, top, "/bin/sh", ARGV("sh\0-c\0ci all"), ts + 1000);
	for (int depth = 0; depth < 20; depth++) {
		char argv[64];
		uint32_t helper = synth_fork(&s, top, ts += 1000000), next;
		int n = snprintf(argv, sizeof(argv), "sh%c-c%chelper %d", 0, 0, depth);

		synth_exec_argv(&s, helper, "/bin/sh", argv, (size_t)n + 1, ts + 50000);
		next = synth_fork(&s, top, ts += 1000000);
		n = snprintf(argv, sizeof(argv), "sh%c-c%cstep %d", 0, 0, depth);
		synth_exec_argv(&s, next, "/bin/sh", argv, (size_t)n + 1, ts + 50000);
		top = next;
	}
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	synth_free(&s);
}

/* pid exits at ts, its parent being ppid (who must reap it) */
static void synth_exit_of(struct synth *s, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	struct ft_exit x = mk_exit(pid, START(pid), ppid, ts, 0);

	x.h.pstart_ns = ppid == 50 ? START(5) : START(ppid);
	det_feed(s->d, s->t, (union ft_record *)&x, APPLY(s->t, x), collect, s);
}

/* pid, child of ppid, was reaped at ts */
static void synth_reap(struct synth *s, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	struct ft_reap r = { 0 };

	r.h.type = FT_EV_REAP;
	r.h.size = sizeof(r);
	r.h.ts_ns = ts;
	r.h.tgid = r.h.tid = pid;
	r.h.start_ns = START(pid);
	r.h.ppid = ppid;
	r.h.pstart_ns = ppid == 50 ? START(5) : START(ppid);
	det_feed(s->d, s->t, (union ft_record *)&r, APPLY(s->t, r), collect, s);
}

static const struct det_verdict *first_of(const struct synth *s, enum det_pattern p)
{
	for (int i = 0; i < s->n; i++)
		if (s->got[i].kind == DET_ALERT && s->got[i].pattern == p)
			return &s->got[i];
	return NULL;
}

/*
 * A parent forking a child every 100 ms that exits at once, never reaped:
 * zombie_leak within 10 s, named with its rate.  Reaped children, or a
 * stream with no reaps at all (a recording from before version 8), are
 * none; nor is a shell loop's fast stream of children whose reaps the
 * kernel reports 400 ms late (the free after an RCU grace period), nor a
 * parent whose reaps were now and then lost from a full ring (said by a
 * lost record): the counts start again rather than creep up for days.
 */
static void test_detect_zombie_leak(void)
{
	for (int mode = 0; mode < 5; mode++) {
		const struct det_verdict *v;
		struct synth s;
		uint64_t ts = 1 * SEC, first_exit = 0;
		uint32_t parent, late[512];
		uint64_t late_ts[512];
		int nlate = 0, head = 0;

		synth_init(&s);
		parent = synth_fork(&s, 50, ts);
		if (mode != 2) /* someone else's child, reaped: the stream carries reaps */
			synth_reap(&s, synth_fork(&s, 50, ts), 50, ts + 1000);
		for (int i = 0; i < (mode >= 3 ? 3000 : 100); i++) {
			uint32_t c = synth_fork(&s, parent, ts += mode == 3 ? 2000000 : 100000000);

			while (head < nlate && late_ts[head % 512] <= ts) {
				synth_reap(&s, late[head % 512], parent, late_ts[head % 512]);
				head++;
			}
			synth_exit_of(&s, c, parent, ts + 1000000);
			if (!first_exit)
				first_exit = ts + 1000000;
			if (mode == 1 || (mode == 4 && i % 50))
				synth_reap(&s, c, parent, ts + 2000000);
			if (mode == 4 && !(i % 50)) { /* that reap was lost: the ring said so */
				struct ft_lost l = { .h = { .type = FT_EV_LOST, .size = sizeof(l),
							    .ts_ns = ts + 3000000 },
						     .lost_type = FT_EV_REAP, .count = 1 };

				det_feed(s.d, s.t, (union ft_record *)&l, PT_NONE, collect, &s);
			}
			if (mode == 3) {
				late[nlate % 512] = c;
				late_ts[nlate++ % 512] = ts + 400000000;
			}
		}
		v = first_of(&s, DET_ZOMBIE_LEAK);
		if (mode) {
			CHECK(!v);
		} else {
			CHECK(v && v->root == parent && v->leaked >= 32);
			CHECK(v && v->ts_ns - first_exit <= 10 * SEC);
			CHECK(v && v->per_minute > 400 && v->per_minute < 800);
			CHECK(count_kind(&s, DET_ALERT, 0) == 1);
		}
		synth_free(&s);
	}
}

/*
 * The seed's watchdog without the cascade: a worker forked every 200 ms,
 * each hung for good: process_leak at 32, about 300 a minute.  A pool that
 * starts 64 workers at once, or grows 1, 2, 4 ... 64 within three seconds,
 * and then replaces the ones that exit, is no leak.
 */
static void test_detect_process_leak(void)
{
	for (int mode = 0; mode < 3; mode++) {
		const struct det_verdict *v;
		struct synth s;
		uint64_t ts = 1 * SEC;
		uint32_t parent, live[64];
		int n = 0;

		synth_init(&s);
		parent = synth_fork(&s, 50, ts);
		synth_exec_argv(&s, parent, "/usr/bin/python3", ARGV("python3\0dog.py"), ts + 1000);
		if (mode == 0) {
			for (int i = 0; i < 60; i++)
				synth_fork(&s, parent, ts += 200000000);
		} else {
			for (int step = 1; n < 64; step *= 2) {
				for (int k = 0; k < (mode == 1 ? 64 : step) && n < 64; k++)
					live[n++] = synth_fork(&s, parent, ts += 1000000);
				ts += 500000000;
			}
			for (int i = 0; i < 200; i++) { /* recycled: one out, one in */
				synth_exit_of(&s, live[i % 64], parent, ts += 50000000);
				live[i % 64] = synth_fork(&s, parent, ts += 1000000);
			}
		}
		v = first_of(&s, DET_PROCESS_LEAK);
		if (mode) {
			CHECK(!v);
		} else {
			CHECK(v && v->root == parent && v->leaked == 32);
			CHECK(v && v->per_minute > 200 && v->per_minute < 400);
			CHECK(v && strstr(v->evidence, "dog.py"));
		}
		synth_free(&s);
	}
}

/*
 * A parent starts idle children 55 ms apart (a Python test's pool of
 * sleepers on a host where forking a big interpreter takes that long).
 * Busy all along, on a CPU or mostly waiting for one (a forkserver on a
 * loaded host): a pool filling, no leak (up to 100).  Named as before when
 * it sleeps between forks (a watchdog's period, even on a host so loaded
 * that it waits as long again for a CPU), or forks from two threads whose
 * times do not compare; and a busy one still at eight times leak_min.
 */
static void test_detect_slow_pool_fill_is_no_leak(void)
{
	static const struct {
		uint64_t run, wait, throttled; /* per fork, of its 55 ms */
		bool two_threads;
		int forks;
		uint32_t leaked; /* the first process_leak's count: 0 none, 1 under 256 */
	} cases[] = {
		{ 55000000, 0, 0, false, 100, 0 },
		{ 5000000, 46000000, 0, false, 100, 0 },
		{ 11000000, 0, 0, false, 100, 1 },
		{ 15000000, 13000000, 0, false, 100, 1 },
		{ 5000000, 30000000, 0, false, 100, 1 },
		{ 5000000, 46000000, 30000000, false, 100, 1 }, /* waiting under its limit */
		{ 55000000, 0, 0, true, 100, 1 },
		{ 55000000, 0, 0, false, 300, 256 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct det_verdict *v;
		struct synth s;
		uint64_t ts = 1 * SEC;
		uint32_t parent;

		synth_init(&s);
		parent = synth_fork(&s, 50, ts);
		synth_exec_argv(&s, parent, "/usr/bin/python3", ARGV("python3\0-m\0test"),
				ts + 1000);
		s.parent_run_ns = 3 * SEC;
		for (int i = 0; i < cases[c].forks; i++) {
			s.parent_run_ns += cases[c].run;
			s.parent_wait_ns += cases[c].wait;
			s.parent_throttled_ns += cases[c].throttled;
			s.parent_tid = cases[c].two_threads && i % 2 ? parent + 7000 : parent;
			synth_fork(&s, parent, ts += 55000000);
		}
		v = first_of(&s, DET_PROCESS_LEAK);
		bool as_told = cases[c].leaked == 0	? !v
			       : cases[c].leaked == 1 ? v && v->root == parent && v->leaked < 256
						      : v && v->root == parent && v->leaked == 256;

		CHECK(as_told);
		if (!as_told)
			fprintf(stderr, "    case %zu: %s\n", c, v ? v->evidence : "no leak");
		synth_free(&s);
	}
	/* the rule itself: asleep a quarter of the time or less (waiting under
	 * its own CPU limit is no excuse), a quarter second on a CPU a fork at
	 * most, times known and moving forward */
	{
		struct det_busy from = { 1 * SEC, 5 * SEC, 0, SEC, 10 };
		struct det_busy ok[] = {
			{ 3 * SEC, 6 * SEC + SEC / 2, 0, SEC, 30 },
			{ 3 * SEC, 5 * SEC + SEC / 4, SEC + SEC / 4, SEC, 30 },
			{ 3 * SEC, 5 * SEC + 1, 3 * SEC / 2, SEC, 30 },
			{ 3 * SEC, 6 * SEC + SEC / 2, 0, SEC, 16 }, /* 250 ms a fork */
		};
		struct det_busy no[] = {
			{ 3 * SEC, 6 * SEC + SEC / 2 - 1, 0, SEC, 30 }, /* asleep just over a quarter */
			{ 3 * SEC, 5 * SEC + SEC / 4, SEC + SEC / 4 - 1, SEC, 30 }, /* the same, waiting */
			/* waiting, half of it throttled by its own limit */
			{ 3 * SEC, 5 * SEC + SEC / 4, SEC + SEC / 4, SEC + SEC / 2, 30 },
			{ 3 * SEC, 6 * SEC + SEC / 2, 0, SEC, 15 }, /* 300 ms on a CPU a fork */
			{ 3 * SEC, 6 * SEC + SEC / 2, 0, SEC, 10 }, /* no fork between */
			{ 3 * SEC, 6 * SEC + SEC / 2, 0, 0, 30 },   /* throttling went backwards */
			{ 1 * SEC, 6 * SEC, 0, SEC, 30 },	    /* no time passed */
			{ 3 * SEC, 4 * SEC, 0, SEC, 30 },	    /* running went backwards */
			{ 3 * SEC, 0, 0, SEC, 30 },		    /* unknown */
		};

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			CHECK(det_forked_back_to_back(&from, &ok[i]));
		for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
			CHECK(!det_forked_back_to_back(&from, &no[i]));
			if (det_forked_back_to_back(&from, &no[i]))
				fprintf(stderr, "    not busy %zu\n", i);
		}
		from.wait_ns = 2 * SEC; /* waiting went backwards */
		CHECK(!det_forked_back_to_back(&from, &ok[1]));
	}
}

/* daemon starts a job at ts: a fork that execs python3 job.py 1 ms later */
static uint32_t synth_job(struct synth *s, uint32_t daemon, uint64_t ts)
{
	uint32_t job = synth_fork(s, daemon, ts);

	synth_exec_argv(s, job, "/usr/bin/python3", ARGV("python3\0job.py"), ts + 1000000);
	return job;
}

/*
 * A job runner (python3 runner.py) that holds nold jobs still for 9 s, then
 * starts njobs more, one each gap (forks that exec nothing with !exec),
 * and at the 20th a child of another program (*other).  Returns the
 * runner; *ts is the last job's time.
 */
static uint32_t synth_runner(struct synth *s, uint32_t nold, uint32_t *old, uint32_t njobs,
			     uint32_t *jobs, uint64_t gap, bool exec, uint32_t *other, uint64_t *ts)
{
	uint32_t daemon = synth_fork(s, 50, *ts);

	synth_exec_argv(s, daemon, "/usr/bin/python3", ARGV("python3\0runner.py"), *ts + 1000);
	for (uint32_t i = 0; i < nold; i++)
		old[i] = synth_job(s, daemon, *ts += 5000000);
	*ts += 9 * SEC;
	for (uint32_t n = 0; n < njobs; n++) {
		jobs[n] = exec ? synth_job(s, daemon, *ts += gap) : synth_fork(s, daemon, *ts += gap);
		if (n == 19) {
			*other = synth_fork(s, daemon, *ts += 1000);
			synth_exec(s, *other, "/bin/sh", *ts += 1000);
		}
	}
	return daemon;
}

/* the spawn_storm rule alone: size, pace, and what the parent held before */
static void test_spawn_storm_rule(void)
{
	struct det_config c;

	det_config_defaults(&c);
	CHECK(det_spawn_storm(&c, 128, 3 * SEC, 0));
	CHECK(det_spawn_storm(&c, 256, 10 * SEC, 128));
	CHECK(!det_spawn_storm(&c, 64, 1 * SEC, 0));	    /* a pool's size */
	CHECK(!det_spawn_storm(&c, 128, 11 * SEC, 0));	    /* a leak's pace */
	CHECK(!det_spawn_storm(&c, 256, 1 * SEC, 129));	    /* not twice what it held */
	c.storm_min = 512;
	CHECK(!det_spawn_storm(&c, 256, 1 * SEC, 0));
}

/*
 * A job runner (python3 runner.py) whose jobs (python3 job.py) each ask it
 * for more, at the pace two CPUs start Python: 40 a second, steady.
 * spawn_storm at 128 jobs, rooted at the runner, which is no member: its
 * members are the jobs born since the growth began, not the 4 it held
 * still for 9 s before, nor its other children; a job it starts after the
 * alert joins it.  Emptied, the alert waits a window for more jobs (the
 * runner's queue still holds requests of jobs killed mid-way), then ends.
 * Jobs leaking at 5 a second, a runner that held 100 jobs growing to 190,
 * and forks that exec nothing (a pre-fork server's workers) are no storm.
 */
static void test_detect_spawn_storm(void)
{
	for (int mode = 0; mode < 4; mode++) {
		const struct det_verdict *v;
		struct synth s;
		uint64_t ts = 1 * SEC, gap = mode == 1 ? 200000000 : 25000000;
		uint32_t daemon, old[100], jobs[200], other = 0, late, n = mode == 2 ? 90 : 140;

		synth_init(&s);
		daemon = synth_runner(&s, mode == 2 ? 100 : 4, old, n, jobs, gap, mode != 3, &other,
				      &ts);
		v = first_of(&s, DET_SPAWN_STORM);
		if (mode) {
			CHECK(!v);
			CHECK(mode != 1 || first_of(&s, DET_PROCESS_LEAK));
			synth_free(&s);
			continue;
		}
		CHECK(v && v->root == daemon && v->tree && v->leaked == 124);
		CHECK(v && v->per_minute > 2000 && v->per_minute < 2800);
		CHECK(v && strstr(v->evidence, "job.py") && strstr(v->evidence, "spared"));
		if (!v)
			break;
		CHECK(det_alert_rooted_at(s.d, v->tree, daemon, START(daemon)));
		CHECK(det_tree_lasting(s.d, v->tree));
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, daemon, START(daemon))) == 0);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, old[0], START(old[0]))) == 0);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, other, START(other))) == 0);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, jobs[0], START(jobs[0]))) == v->tree);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, jobs[139], START(jobs[139]))) == v->tree);
		late = synth_job(&s, daemon, ts += gap);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, late, START(late))) == v->tree);
		/* nobody acts on it: a job that forks leaves it, and what it
		 * forks is looked at as any tree, not hidden as a member */
		synth_fork(&s, jobs[130], ts += 1000);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, jobs[130], START(jobs[130]))) == 0);
		CHECK(det_tree_of(s.d, s.t, pt_find(s.t, s.next_pid - 1, START(s.next_pid - 1))) == 0);
		/* all killed: the alert waits for the runner's next jobs; 20 in
		 * a window (each killed as it comes) keep it, one does not */
		for (uint32_t i = 0; i < n; i++)
			synth_exit_of(&s, jobs[i], daemon, ts += 100000);
		synth_exit_of(&s, late, daemon, ts += 100000);
		CHECK(s.got[s.n - 1].kind != DET_ALERT_END);
		for (int i = 0; i < 20; i++) {
			late = synth_job(&s, daemon, ts += 50000000);
			CHECK(det_tree_of(s.d, s.t, pt_find(s.t, late, START(late))) == v->tree);
			synth_exit_of(&s, late, daemon, ts += 100000);
		}
		synth_exit_of(&s, old[0], daemon, ts += SEC + 100000000); /* a window on */
		CHECK(s.got[s.n - 1].kind != DET_ALERT_END);
		late = synth_job(&s, daemon, ts += SEC);
		synth_exit_of(&s, late, daemon, ts += 100000);
		synth_exit_of(&s, old[1], daemon, ts += 1100000000);
		CHECK(s.got[s.n - 1].kind == DET_ALERT_END && s.got[s.n - 1].pattern == DET_SPAWN_STORM);
		synth_free(&s);
	}
}

/* the kernel refused count forks by pid at ts (errno EAGAIN); pids_limit:
 * the full pids.max that refused them, 0 for another limit */
static void synth_refuse(struct synth *s, uint32_t pid, uint32_t count, uint32_t pids_limit,
			 uint64_t ts)
{
	struct ft_fork_fail f = { 0 };

	f.h.type = FT_EV_FORK_FAIL;
	f.h.size = sizeof(f);
	f.h.ts_ns = ts;
	f.h.tgid = f.h.tid = pid;
	f.h.start_ns = START(pid);
	f.h.cgroup_id = s->cgroup;
	f.err = -EAGAIN;
	f.syscall = FT_CALL_CLONE;
	f.count = count;
	f.pids_limit = pids_limit;
	det_feed(s->d, s->t, (union ft_record *)&f, APPLY(s->t, f), collect, s);
}

/*
 * A -j recursive make spawns its sub-makes with posix_spawn: each child
 * shares its make's memory until it execs make, and make waits.  Caught
 * at the wrong moment (CI did), half the copies are spawns in flight: 8
 * exec'd makes (the forkers, one idle) and 8 children not yet exec'd, one
 * below each make, three generations deep.  As plain forks, that is a C
 * bomb's shape: fork edges outnumber exec edges, and three generations
 * are enough (the second run shows it is flagged, so this test can fail).
 * Their fork records say they share their parent's memory: no fork edges,
 * and the makes keep the exec bar, however long their exec takes (the
 * third run looks again 150 ms on).  A bomb of clone(CLONE_VM) children
 * that fork on is still flagged, its newest copies uncounted.
 */
static void test_detect_spawns_in_flight_are_no_forks(void)
{
	for (int run = 0; run < 3; run++) {
		bool shared = run != 1;
		static const int forking[4] = { 0, 1, 3, 6 };
		struct synth s;
		uint32_t root, g1[4], g2[8];
		uint64_t ts = 1 * SEC;
		int n2 = 0;

		synth_init(&s);
		s.fork_flags = shared ? FT_F_SHARED_VM : 0;
		root = synth_fork(&s, 50, ts += 1000000);
		synth_exec_argv(&s, root, "/usr/bin/make", ARGV("make\0-j64"), ts += 100000);
		/* three sub-makes exec'd, the fourth in flight */
		for (int i = 0; i < 4; i++) {
			g1[i] = synth_fork(&s, root, ts += 100000);
			if (i < 3)
				synth_exec_argv(&s, g1[i], "/usr/bin/make", ARGV("make\0-C\0m"),
						ts += 100000);
		}
		/* below them 2, 2 and 1 exec'd, and one in flight each */
		for (int i = 0; i < 3; i++)
			for (int k = 0; k < (i == 2 ? 2 : 3); k++) {
				g2[n2] = synth_fork(&s, g1[i], ts += 100000);
				if (k < (i == 2 ? 1 : 2))
					synth_exec_argv(&s, g2[n2], "/usr/bin/make",
							ARGV("make\0-C\0s"), ts += 100000);
				n2++;
			}
		/* one in flight below four of the five exec'd (g2[4] idle); the
		 * last when the makes above are due another look */
		for (int i = 0; i < 4; i++)
			synth_fork(&s, g2[forking[i]], ts += i < 3 ? 100000 : 30000000);
		/* the idle one spawns too, past the others' grace */
		if (run == 2)
			synth_fork(&s, g2[4], ts += 150000000);
		CHECK(run != 1 ? s.n == 0
			     : s.n == 1 && s.got[0].pattern == DET_FORK_BOMB && s.got[0].root == root &&
				   s.got[0].tasks == 17);
		synth_free(&s);
	}
	{
		struct synth s;
		uint32_t root;
		int flagged = 0;

		synth_init(&s);
		s.fork_flags = FT_F_SHARED_VM;
		root = synth_fork(&s, 50, 1 * SEC);
		synth_exec(&s, root, "/tmp/vmbomb", 1 * SEC + 1000);
		synth_bomb(&s, root, 1 * SEC + 2000, 128, false);
		for (int i = 0; i < s.n; i++)
			flagged += s.got[i].kind == DET_ALERT && s.got[i].pattern == DET_FORK_BOMB &&
				   s.got[i].root == root;
		CHECK(flagged == 1);
		synth_free(&s);
	}
}

/*
 * Refusals are growth only where the tree filled its own pids.max.  A C
 * bomb that filled its cgroup between two looks (its root made most of
 * the 53 forks in 2 ms: two generations of forkers) and whose newest
 * copies, under two parents at least, keep forking against that cap is
 * denied its third generation: flagged (shape 0).  The same records are no
 * verdict:
 *  1. when the limit was another (pid_max, a shared RLIMIT_NPROC: 0): an
 *     innocent two-level tree next to a neighbour that used it up;
 *  2. when the full pids.max holds 400: others filled it;
 *  3. for a build of exec'd copies at its own cap (its makes fail jobs);
 *  4. when only the first generation is refused: a pool at its cap whose
 *     workers try to start helpers;
 *  5. for one generation of copies (a root and its 58 children) refused;
 *  6. for an interpreter's copies (pool workers starting a command);
 *  7. when the refused copies have one parent only;
 *  8. for copies that started another program before (a shell's
 *     subshells run commands);
 *  9. when the refused copies' cgroup has a small cap (8) that their tree
 *     holds only half of (a harness's per-test cgroup, filled by threads,
 *     the harness around it).
 * Each refusal is reported either way.
 */
static void test_detect_refusals_are_growth_only_at_own_limit(void)
{
	static const uint32_t limit_of_shape[] = { 60, 0, 400, 64, 60, 60, 60, 60, 60, 8 };

	for (int shape = 0; shape < 10; shape++) {
		struct synth s;
		uint32_t root, kids[64], young[64], limit = limit_of_shape[shape];
		int nkids = 0, nyoung = 0, refusals = 0, alerts = 0;
		uint64_t ts = 1 * SEC;

		synth_init(&s);
		s.cgroup = 900;
		root = synth_fork(&s, 50, ts += 300000000);
		if (shape == 3) {
			/* five levels of sub-makes, two per make, nothing to build */
			uint32_t makes[64];
			int n = 1;

			synth_exec_argv(&s, root, "/usr/bin/make", ARGV("make\0-j"), ts += 1000);
			makes[0] = root;
			for (int i = 0; n < 63; i++)
				for (int k = 0; k < 2; k++) {
					makes[n] = synth_fork(&s, makes[i], ts += 300000);
					synth_exec_argv(&s, makes[n++], "/usr/bin/make",
							ARGV("make\0-C\0dir"), ts += 100000);
				}
			for (uint32_t pid = root + 1; pid < s.next_pid; pid++)
				synth_refuse(&s, pid, 1, limit, ts += 30000000);
		} else {
			if (shape == 6)
				synth_exec_argv(&s, root, "/usr/bin/python3", ARGV("python3\0w.py"),
						ts += 1000);
			else
				synth_exec(&s, root, "/tmp/bomb", ts += 1000);
			for (int i = 0; i < (shape == 5 ? 58 : 40); i++)
				kids[nkids++] = synth_fork(&s, root, ts += 20000);
			for (int i = 0; i < (shape == 5 ? 0 : 4); i++)
				for (int k = 0; k < 3; k++) {
					/* shape 9: one per kid in a cgroup of their own */
					s.cgroup = shape == 9 && k == 0 ? 901 : 900;
					young[nyoung++] = synth_fork(&s, kids[i], ts += 20000);
				}
			if (shape == 8)
				for (int i = 0; i < nyoung; i++) {
					uint32_t cmd;

					/* posix_spawn: no copy while in flight */
					s.fork_flags = FT_F_SHARED_VM;
					cmd = synth_fork(&s, young[i], ts += 20000);
					s.fork_flags = 0;
					synth_exec(&s, cmd, "/usr/bin/true", ts += 20000);
					synth_exit_of(&s, cmd, young[i], ts += 20000);
				}
			CHECK(s.n == 0);
			ts += 30000000;
			for (int round = 0; round < 3; round++, ts += 100000000) {
				/* shape 9: only the small cgroup is full */
				for (int i = 0; i < nyoung && shape != 4; i++)
					if ((shape != 7 || i < 3) && (shape != 9 || i % 3 == 0))
						synth_refuse(&s, young[i], 1, limit, ts += 100000);
				for (int i = 0; i < nkids && shape != 9; i++)
					synth_refuse(&s, kids[i], 1, limit, ts += 100000);
			}
		}
		for (int i = 0; i < s.n; i++) {
			const struct det_verdict *v = &s.got[i];

			if (v->pattern == DET_FORKS_REFUSED) {
				refusals++;
				continue;
			}
			CHECK(shape == 0 && v->kind == DET_ALERT && v->pattern == DET_FORK_BOMB &&
			      v->root == root && v->tasks == 53 &&
			      strstr(v->evidence, "copies of the last generation were refused"));
			alerts++;
		}
		CHECK(refusals > 0);
		CHECK(alerts == (shape == 0));
		if (shape == 0) {
			/* once flagged, the refusals are pinned on the bomb itself */
			const struct det_verdict *last = &s.got[s.n - 1];

			CHECK(last->pattern == DET_FORKS_REFUSED && last->root == root &&
			      last->culprit == root);
		}
		synth_free(&s);
	}
}

/*
 * Forks refused: a flagged bomb's members, then a neighbour's process in
 * the same cgroup: each refused tree reported once (doublings aside), the
 * bomb named as the culprit of both.  A root process in another cgroup (a
 * pod of its own that hit its own pids.max) is not pinned on the bomb.
 */
static void test_detect_forks_refused(void)
{
	struct synth s;
	const struct det_verdict *v;
	uint32_t root, other;
	uint64_t ts;

	synth_init(&s);
	s.cgroup = 900;
	root = synth_fork(&s, 50, 1 * SEC);
	synth_exec(&s, root, "/tmp/bomb", 1 * SEC + 1000);
	ts = synth_bomb(&s, root, 1 * SEC, 100, false);
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	other = synth_fork(&s, 50, ts += 1000000);
	synth_exec(&s, other, "/usr/bin/make", ts += 1000000);
	for (int i = 0; i < 8; i++)
		synth_refuse(&s, i < 4 ? root + 1 + (uint32_t)i : other, 3, 0, ts += 1000000);
	v = first_of(&s, DET_FORKS_REFUSED);
	CHECK(v && v->root == root && v->err == -EAGAIN && v->culprit == root);
	CHECK(v && strstr(v->evidence, "(itself)"));
	{
		int mine = 0, theirs = 0;

		for (int i = 0; i < s.n; i++)
			if (s.got[i].pattern == DET_FORKS_REFUSED) {
				mine += s.got[i].root == root;
				theirs += s.got[i].root == other && s.got[i].culprit == root;
			}
		/* 3, 6, then 12 refusals: the first and two doublings */
		CHECK(mine == 3 && theirs == 3);
	}
	s.cgroup = 901;
	other = synth_fork(&s, 50, ts += 1000000);
	synth_exec(&s, other, "/usr/bin/make", ts += 1000000);
	s.n = 0;
	synth_refuse(&s, other, 3, 0, ts += 1000000);
	v = first_of(&s, DET_FORKS_REFUSED);
	CHECK(v && v->root == other && !v->culprit);
	synth_free(&s);
}

/*
 * A C bomb's third generation can come late: its root and first copies
 * fork many times before the scheduler runs a grandchild.  The fan-out
 * (a young root -> 8 copies, two of them 10 copies each, nothing else
 * run, within milliseconds) is flagged at two generations.  Each shape
 * after the first takes one condition away and is not flagged by it:
 *  1 fanout_min_tasks=0      2 one wide forker (20 and 1)
 *  3 a Python root           4 one process ran another program
 *  5 spread over 0.9 s       6 the root's copies exec'd the bomb again
 *  7 fanout_min_tasks=40     8 forkers that forked in a burst, long ago
 *  9 the third generation under 16 (20 copies, two forkers of 7)
 * 10 a root 10 s old (a master embedding an interpreter, its workers'
 *    pools)                 11 a root of 5 copies
 * 12 min_generations=4: the fan-out needs three
 */
static void test_detect_fanout_is_two_generations(void)
{
	for (int shape = 0; shape < 13; shape++) {
		struct synth s;
		uint32_t root, kids[32];
		int nkids = shape == 9 ? 20 : shape == 11 ? 5 : 8, each = shape == 9 ? 7 : 10;
		uint64_t ts = 1 * SEC, step = shape == 5 ? 30000000 : 20000;

		synth_init(&s);
		{
			/* the rule is off by default (a supervisor's workers
			 * before they exec: the test below); on here */
			struct det_config c;
			char err[128];

			det_config_defaults(&c);
			CHECK(det_config_set(&c, "fanout_min_tasks=24", err, sizeof(err)) == 0);
			if (shape == 1 || shape == 7 || shape == 12)
				CHECK(det_config_set(&c,
						     shape == 1   ? "fanout_min_tasks=0"
						     : shape == 7 ? "fanout_min_tasks=40"
								  : "min_generations=4",
						     err, sizeof(err)) == 0);
			det_set_config(s.d, &c);
		}
		root = synth_fork(&s, 50, ts += 1000);
		if (shape == 10)
			ts += 10 * SEC;
		if (shape == 3)
			synth_exec_argv(&s, root, "/usr/bin/python3", ARGV("python3\0b.py"), ts += 1000);
		else
			synth_exec(&s, root, "/tmp/bomb", ts += 1000);
		for (int i = 0; i < nkids; i++) {
			kids[i] = synth_fork(&s, root, ts += step);
			if (shape == 6)
				synth_exec(&s, kids[i], "/tmp/bomb", ts += step);
		}
		if (shape == 4) {
			uint32_t helper = synth_fork(&s, kids[7], ts += step);

			synth_exec(&s, helper, "/usr/bin/logger", ts += step);
		}
		if (shape == 8)
			ts += 200000000;
		/* the two wide copies fork in turn, as on two CPUs; then a third
		 * (a bomb keeps forking: looks keep their pace) */
		for (int j = 0; j < (shape == 2 ? 20 : each); j++)
			for (int k = 0; k < 2; k++)
				if (!(shape == 2 && k && j))
					synth_fork(&s, kids[k], ts += step);
		for (int j = 0; j < 8 && shape != 2 && shape != 9; j++)
			synth_fork(&s, kids[2], ts += step);
		if (shape == 8) {
			/* a pool: each forker's burst is long over when a worker
			 * is replaced */
			ts += 200000000;
			synth_fork(&s, kids[0], ts += step);
		}
		/*
		 * One more look, past the pace, that needs no grandchild's fork
		 * to reach the rule: a grandchild refused by a roomy pids.max
		 * after a neighbour's forks (a look 20 ms later would find
		 * every forker's burst over)
		 */
		if (shape) {
			uint32_t last = s.next_pid - 1, other = synth_fork(&s, 50, ts += step);

			synth_exec(&s, other, "/usr/bin/other", ts += step);
			for (int i = 0; i < 16; i++)
				synth_fork(&s, other, ts += step);
			synth_refuse(&s, last, 1, 400, ts += step);
		}
		if (!shape) {
			const struct det_verdict *v = first_of(&s, DET_FORK_BOMB);

			CHECK(count_kind(&s, DET_ALERT, root) == 1);
			CHECK(v && v->root == root && v->generations == 2 &&
			      v->tasks == 25 && strstr(v->evidence, "a fan-out"));
		} else {
			for (int i = 0; i < s.n; i++)
				if (s.got[i].pattern != DET_FORKS_REFUSED) {
					fprintf(stderr, "    shape %d: %s\n", shape, s.got[i].evidence);
					CHECK(!"flagged");
				}
		}
		synth_free(&s);
	}
}

/*
 * A young supervisor binary forks 8 managers; 4 of them start 4 workers
 * each by fork, setup, execve.  Until a worker's exec arrives it is a
 * fork-only copy of the supervisor, two generations down: the fan-out's
 * very shape (helper-17's review: a close-all-fds loop before the exec,
 * or a neighbour's CPU load, keeps it there for 100 ms).  At the
 * defaults nothing is flagged, whenever the execs come; with the
 * fan-out turned on, the supervisor would be (docs/detection.md).
 */
static void test_detect_supervisor_before_its_workers_exec(void)
{
	enum { N_DELAYS = 3 };
	const uint64_t exec_delays_us[N_DELAYS] = { 300, 1000, 100000 };

	for (uint32_t di = 0; di < 2 * N_DELAYS; di++) {
		uint64_t delay = exec_delays_us[di % N_DELAYS] * 1000;
		bool fanout_on = di >= N_DELAYS;
		struct synth s;
		uint32_t root, managers[8], workers[16];
		uint64_t ts = 1 * SEC, born[16];
		uint32_t n = 0, execd = 0;

		synth_init(&s);
		if (fanout_on) {
			struct det_config c;
			char err[128];

			det_config_defaults(&c);
			CHECK(det_config_set(&c, "fanout_min_tasks=24", err, sizeof(err)) == 0);
			det_set_config(s.d, &c);
		}
		root = synth_fork(&s, 50, ts += 1000);
		synth_exec(&s, root, "/usr/sbin/superd", ts += 1000);
		for (int i = 0; i < 8; i++)
			managers[i] = synth_fork(&s, root, ts += 1000);
		for (int round = 0; round < 4; round++)
			for (int i = 0; i < 4; i++) {
				born[n] = ts += 50000;
				workers[n] = synth_fork(&s, managers[i], born[n]);
				n++;
				/* the execs already due, in time order */
				while (execd < n && born[execd] + delay <= ts) {
					synth_exec(&s, workers[execd], "/usr/libexec/worker",
						   born[execd] + delay);
					execd++;
				}
			}
		for (; execd < n; execd++)
			synth_exec(&s, workers[execd], "/usr/libexec/worker", born[execd] + delay);
		if (!fanout_on)
			CHECK(count_kind(&s, DET_ALERT, 0) == 0);
		else if (delay >= 1000000) /* the known false alert of the opt-in rule */
			CHECK(count_kind(&s, DET_ALERT, root) == 1);
		synth_free(&s);
	}
}

/*
 * A generation deeper than any before is looked at on the fork that makes
 * it, whatever the pace: a C bomb whose root and first copy fork a dozen
 * times each (the root looked at on the way) is flagged on its first
 * third-generation copy, at 26 tasks, not ten forks later.
 */
static void test_detect_new_generation_is_looked_at_once(void)
{
	struct synth s;
	uint32_t root, kid, grandchild = 0;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	root = synth_fork(&s, 50, ts += 1000);
	synth_exec(&s, root, "/tmp/bomb", ts += 1000);
	kid = synth_fork(&s, root, ts += 20000);
	for (int i = 0; i < 11; i++)
		synth_fork(&s, root, ts += 20000);
	for (int i = 0; i < 12; i++) {
		uint32_t c = synth_fork(&s, kid, ts += 20000);

		grandchild = grandchild ? grandchild : c;
	}
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	synth_fork(&s, grandchild, ts += 20000);
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	CHECK(s.n == 1 && s.got[0].tasks == 26 && s.got[0].generations == 3);
	synth_free(&s);
}

/*
 * A chain of 40 fork-only copies, grown a minute apart (never a runaway),
 * the last but one with a second copy, whose last copy forks and reaps a
 * child 300 times: each fork's look
 * keeps the pace of every copy above it.  A depth remembered only to 32
 * let every node deeper than that be profiled on every fork (~8,000
 * nodes a fork instead of ~150).
 */
static void test_detect_deep_chain_keeps_its_pace(void)
{
	struct synth s;
	struct det_work w;
	uint32_t last, prev = 0;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	last = synth_fork(&s, 50, ts);
	synth_exec(&s, last, "/tmp/chain", ts += 1000);
	for (int i = 0; i < 40; i++) {
		prev = last;
		last = synth_fork(&s, last, ts += 61 * SEC);
	}
	/* the generation above the forking copy branches */
	synth_fork(&s, prev, ts += 61 * SEC);
	for (int i = 0; i < 300; i++) {
		uint32_t c = synth_fork(&s, last, ts += 1000000);

		synth_exit_of(&s, c, last, ts += 100000);
	}
	det_get_work(s.d, &w);
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	CHECK(w.nodes < 1000ull * 300);
	synth_free(&s);
}

/*
 * A recursive make, `levels` levels of sub-makes below the top with fanout
 * directories each, all at once (-j high); every leaf make runs compile jobs
 * (sh -> cc).  Returns the number of processes.
 */
static int synth_recursive_make(struct synth *s, uint32_t make, int levels, int fanout,
				uint64_t *ts)
{
	int n = 1;

	if (!levels) {
		for (int j = 0; j < 4; j++) {
			uint32_t sh = synth_fork(s, make, *ts += 300000), cc;

			synth_exec_argv(s, sh, "/bin/sh", ARGV("/bin/sh\0-c\0cc -c f.c"),
					*ts + 50000);
			cc = synth_fork(s, sh, *ts += 300000);
			synth_exec_argv(s, cc, "/usr/bin/cc", ARGV("cc\0-c\0f.c"), *ts + 50000);
			n += 2;
		}
		return n;
	}
	for (int i = 0; i < fanout; i++) {
		uint32_t sub = synth_fork(s, make, *ts += 300000);

		synth_exec_argv(s, sub, "/usr/bin/make", ARGV("make\0-C\0dir"), *ts + 100000);
		n += synth_recursive_make(s, sub, levels - 1, fanout, ts);
	}
	return n;
}

static void test_detect_deep_recursive_make_is_quiet(void)
{
	static const int shapes[][2] = { { 3, 4 }, { 4, 3 }, { 5, 2 }, { 7, 2 } };

	/* natively, then emulated: binfmt_misc runs qemu for every foreign
	 * binary, and the kernel reports qemu's file (one inode, one size)
	 * for make and cc alike: one file under two names is no copy */
	for (size_t i = 0; i < 2 * sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct synth s;
		uint64_t ts = 1 * SEC;
		uint32_t top;
		int n;

		synth_init(&s);
		if (i >= sizeof(shapes) / sizeof(shapes[0])) {
			s.exe.ino = 4242;
			s.exe.dev = 7;
			s.exe_size = 5012344;
		}
		top = synth_fork(&s, 50, ts);
		synth_exec_argv(&s, top, "/usr/bin/make", ARGV("make\0-j64"), ts + 1000);
		n = synth_recursive_make(&s, top, shapes[i % 4][0], shapes[i % 4][1], &ts);
		CHECK(n > 100);
		if (count_kind(&s, DET_ALERT, 0))
			fprintf(stderr, "    make %d levels x %d%s: alert at %u: %s %s\n", shapes[i % 4][0],
				shapes[i % 4][1], i >= 4 ? " (emulated)" : "", s.got[0].tasks, s.got[0].root_exe, s.got[0].evidence);
		CHECK(count_kind(&s, DET_ALERT, 0) == 0);
		synth_free(&s);
	}
}

/* Every copy of a C program forks once every 2 s: flagged, doubling ~2 s. */
static void test_detect_slow_doubling(void)
{
	struct synth s;
	uint32_t procs[512];
	int n = 1;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v;

	synth_init(&s);
	procs[0] = synth_fork(&s, 50, ts);
	synth_exec(&s, procs[0], "/tmp/slow", ts + 1000);
	for (int round = 0; round < 8 && !count_kind(&s, DET_ALERT, 0); round++) {
		int made = n;

		ts += 2 * SEC;
		for (int i = 0; i < made; i++)
			procs[n++] = synth_fork(&s, procs[i], ts + (uint64_t)i * 1000000);
	}
	v = only_alert(&s);
	CHECK(v && v->root == procs[0] && v->pattern == DET_FORK_BOMB);
	CHECK(v && v->doubling_ms >= 1000 && v->doubling_ms <= 4000);
	CHECK(v && v->tasks >= 16 && v->tasks <= 64);
	synth_free(&s);
}

/*
 * A pre-fork master (python3 srv.py) forked 4 idle workers; a minute later
 * worker 0 turns into a bomb.  The master and the healthy workers are not
 * part of it: the root is worker 0, the master its launcher.  And when the
 * master forks a replacement while the flagged tree still lives, that is
 * no new alert rooted at the master.
 */
static void test_detect_prefork_master_is_not_the_root(void)
{
	struct synth s;
	uint32_t master, workers[4], q[256];
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v;

	synth_init(&s);
	master = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, master, "/usr/bin/python3", ARGV("python3\0srv.py"), ts + 1000);
	for (int i = 0; i < 4; i++)
		workers[i] = synth_fork(&s, master, ts += 1000000);
	ts += 60 * SEC;
	q[tail++] = workers[0];
	while (tail < 100) {
		uint32_t p = q[head++];

		q[tail++] = synth_fork(&s, p, ts += 300000);
		q[tail++] = synth_fork(&s, p, ts += 300000);
	}
	v = only_alert(&s);
	CHECK(v && v->root == workers[0] && v->launcher == master);
	for (int i = 0; i < 8; i++)
		synth_fork(&s, master, ts += 300000);
	CHECK(count_kind(&s, DET_ALERT, master) == 0);
	CHECK(count_kind(&s, DET_ALERT, 0) == 1);
	synth_free(&s);
}

/*
 * A program is a path anyone can exec: a user who runs a bomb as
 * /usr/sbin/sshd (LD_PRELOAD, or a bind mount of their own) must not get
 * the root sshd listener chosen as its root, whose other children are other
 * users' sessions.  The root stops below the privilege boundary: the
 * listener and the monitors it forks (which re-exec at once) are root's, in
 * sshd.service; a session (forked by its monitor, root's at the fork, then
 * setuid to its user) and what it runs are in the session's scope.
 * Generations are still counted across uids: a bomb whose copies are root
 * in their container and alternate uids is flagged, rooted at its top.
 */
static void test_detect_root_never_crosses_a_privilege_boundary(void)
{
	struct synth s;
	uint32_t listener, monitor, session, shell, others[3], q[4096], top;
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v = NULL;
	int32_t root;

	CHECK(det_privilege_boundary(0, 7, 1000, 200));
	CHECK(!det_privilege_boundary(0, 200, 1000, 200)); /* its own cgroup */
	CHECK(!det_privilege_boundary(0, 7, 0, 200));	   /* root's copies */
	CHECK(!det_privilege_boundary(1000, 7, 1001, 200)); /* no privilege above */
	/* no cgroup2 to tell (pure v1: every id the root's): uid alone */
	CHECK(det_privilege_boundary(0, 1, 1000, 1) && det_privilege_boundary(0, 0, 1000, 0));
	CHECK(!det_privilege_boundary(0, 1, 0, 1));
	synth_init(&s);
	s.cgroup = 7;
	listener = synth_fork(&s, 50, ts);
	synth_exec(&s, listener, "/usr/sbin/sshd", ts += 1000);
	for (int k = 0; k < 3; k++) {
		s.uid = 0;
		s.cgroup = 7;
		monitor = synth_fork(&s, listener, ts += 1000000);
		synth_exec(&s, monitor, "/usr/sbin/sshd", ts += 1000);
		s.cgroup = 100 + (uint64_t)k;
		session = synth_fork(&s, monitor, ts += 1000);
		s.uid = 1001 + (uint32_t)k;
		others[k] = synth_fork(&s, session, ts += 1000);
		synth_exec(&s, others[k], "/bin/bash", ts += 1000);
		session = synth_fork(&s, others[k], ts += 1000);
		synth_exec(&s, session, "/usr/bin/vim", ts += 1000);
	}
	ts += 3600 * SEC;
	s.uid = 0; /* the tenant logs in now: the listener has just forked */
	s.cgroup = 7;
	monitor = synth_fork(&s, listener, ts);
	synth_exec(&s, monitor, "/usr/sbin/sshd", ts += 1000);
	s.cgroup = 200;
	session = synth_fork(&s, monitor, ts += 1000);
	s.uid = 1000;
	shell = synth_fork(&s, session, ts += 1000);
	synth_exec(&s, shell, "/bin/bash", ts += 1000);
	q[tail] = synth_fork(&s, shell, ts += 1000000);
	synth_exec(&s, q[tail++], "/usr/sbin/sshd", ts += 1000);
	while (tail < 3000) {
		uint32_t p = q[head++];

		for (int k = 0; k < 2; k++) {
			q[tail] = synth_fork(&s, p, ts += 300000);
			synth_exec(&s, q[tail++], "/usr/sbin/sshd", ts += 300000);
		}
	}
	for (int i = 0; i < s.n && !v; i++)
		if (s.got[i].kind == DET_ALERT)
			v = &s.got[i];
	CHECK(v != NULL);
	if (!v)
		goto out;
	root = pt_find(s.t, v->root, v->root_start_ns);
	CHECK(root != PT_NONE && pt_get(s.t, root)->cgroup_id == 200);
	CHECK(v->root != listener && v->root != monitor);
	for (int k = 0; k < 3; k++)
		CHECK(root == PT_NONE || !pt_is_descendant(s.t, pt_find_live_pid(s.t, others[k]),
							     root));
	synth_free(&s);

	/* root in its container, each copy's children of the other uid */
	synth_init(&s);
	s.cgroup = 300;
	top = synth_fork(&s, 50, ts);
	synth_exec(&s, top, "/tmp/bomb", ts + 1000);
	head = tail = 0;
	q[tail++] = top;
	while (tail < 600) {
		uint32_t p = q[head++];

		s.uid = pt_get(s.t, pt_find_live_pid(s.t, p))->uid ^ 1;
		q[tail++] = synth_fork(&s, p, ts += 300000);
		q[tail++] = synth_fork(&s, p, ts += 300000);
	}
	v = NULL;
	for (int i = 0; i < s.n && !v; i++)
		if (s.got[i].kind == DET_ALERT)
			v = &s.got[i];
	CHECK(v && v->root == top);
out:
	synth_free(&s);
}

/* A test suite's workers run many different programs that fail: no restart loop. */
static void test_detect_test_suite_is_no_restart_loop(void)
{
	struct synth s;
	uint64_t ts = 1 * SEC;
	uint32_t worker;
	char code[64], argv[96];

	synth_init(&s);
	worker = synth_fork(&s, 50, ts);
	for (int i = 0; i < 40; i++) {
		uint32_t c = synth_fork(&s, worker, ts += 20000000);
		int len;

		snprintf(code, sizeof(code), "import sys; sys.exit(%d)", i % 3 + 1);
		len = snprintf(argv, sizeof(argv), "python3%c-c%c%s%ctest_%d", 0, 0, code, 0, i);
		synth_exec_argv(&s, c, "/usr/bin/python3", argv, (size_t)len + 1, ts + 100000);
		synth_exit(&s, c, ts + 5000000, (uint32_t)(i % 3 + 1) << 8);
	}
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	synth_free(&s);

	/* a test script running one program on many bad inputs (sed's
	 * compile-errors.sh): each run fails, no run is a restart */
	synth_init(&s);
	worker = synth_fork(&s, 50, ts);
	for (int i = 0; i < 40; i++) {
		uint32_t c = synth_fork(&s, worker, ts += 20000000);
		int len = snprintf(argv, sizeof(argv), "sed%c-e%cs/x/y/%d%c", 0, 0, i, 0);

		synth_exec_argv(&s, c, "/bin/sed", argv, (size_t)len, ts + 100000);
		synth_exit(&s, c, ts + 2000000, 1 << 8);
	}
	CHECK(count_kind(&s, DET_ALERT, 0) == 0);
	synth_free(&s);

	/* workers a test terminates (SIGKILL, SIGTERM) did not crash */
	for (uint32_t sig = 9; sig <= 15; sig += 6) {
		synth_init(&s);
		worker = synth_fork(&s, 50, ts);
		for (int i = 0; i < 40; i++) {
			uint32_t c = synth_fork(&s, worker, ts += 20000000);

			synth_exit(&s, c, ts + 2000000, sig);
		}
		CHECK(count_kind(&s, DET_ALERT, 0) == 0);
		synth_free(&s);
	}
}

/* A flagged bomb's members killed by forktrace do not make a restart loop,
 * and a resync's GONE followed by the same process's EXIT counts it once. */
static void test_detect_own_kills_and_double_deaths(void)
{
	struct synth s;
	uint32_t root;
	uint64_t ts;
	struct ft_header gone = { 0 };

	synth_init(&s);
	root = synth_fork(&s, 50, 1 * SEC);
	synth_exec(&s, root, "/tmp/bomb", 1 * SEC + 1000);
	ts = synth_bomb(&s, root, 1 * SEC, 60, false);
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	/* the resync finds member root+1 gone, then its exit record arrives,
	 * twice over for good measure */
	gone.type = FT_EV_GONE;
	gone.size = sizeof(gone);
	gone.tgid = gone.tid = root + 1;
	gone.start_ns = START(root + 1);
	for (int i = 0; i < 30; i++) {
		gone.ts_ns = ts += 3000000;
		gone.tgid = gone.tid = root + 1 + (uint32_t)i;
		gone.start_ns = START(root + 1 + (uint32_t)i);
		det_feed(s.d, s.t, (union ft_record *)&gone, pt_apply(s.t, &gone), collect, &s);
		synth_exit(&s, root + 1 + (uint32_t)i, ts += 3000000, SIGKILL);
	}
	/* half the tree is still alive: the alert goes on */
	CHECK(count_kind(&s, DET_ALERT_END, 0) == 0);
	for (uint32_t pid = root + 31; pid < root + 60; pid++)
		synth_exit(&s, pid, ts += 3000000, SIGKILL);
	synth_exit(&s, root, ts += 3000000, SIGKILL);
	CHECK(count_kind(&s, DET_ALERT_END, root) == 1);
	for (int i = 0; i < s.n; i++)
		CHECK(s.got[i].pattern != DET_RESTART_LOOP);
	synth_free(&s);
}

/* A thread explosion is a tree of its own: it has an id the policy can act on. */
static void test_detect_thread_explosion_has_a_tree(void)
{
	struct synth s;
	uint32_t p;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	p = synth_fork(&s, 50, ts);
	for (uint32_t n = 16; n <= 256; n *= 2) {
		struct ft_fork f = mk_fork(p, START(p), 50, START(5), ts += 10000000);

		f.h.flags |= FT_F_THREAD | FT_F_MILESTONE;
		f.h.tid = p + n;
		f.parent_threads = n;
		det_feed(s.d, s.t, (union ft_record *)&f, APPLY(s.t, f), collect, &s);
	}
	CHECK(s.n >= 1 && s.got[0].pattern == DET_THREAD_EXPLOSION && s.got[0].tree);
	CHECK(s.n >= 1 && det_tree_of(s.d, s.t, pt_find(s.t, p, START(p))) == s.got[0].tree);
	synth_exit(&s, p, ts + 1000, SIGKILL);
	CHECK(count_kind(&s, DET_ALERT_END, p) == 1);
	synth_free(&s);
}

/*
 * fork_while_threaded: one finding per tree of copies, updates at
 * doublings.  The same tree spawned with posix_spawn (children sharing the
 * parent's memory, copying no lock) gives none.
 */
static void test_detect_fork_while_threaded_per_tree(void)
{
	for (int spawned = 0; spawned < 2; spawned++) {
		struct synth s;
		uint32_t svc, procs[64];
		uint64_t ts = 1 * SEC;
		int n = 0, findings = 0;

		synth_init(&s);
		svc = synth_fork(&s, 50, ts);
		synth_exec_argv(&s, svc, "/usr/bin/python3", ARGV("python3\0svc.py"), ts + 1000);
		procs[n++] = svc;
		for (int i = 0; i < 20; i++) {
			struct ft_fork f;
			uint32_t pid = s.next_pid++;

			f = mk_fork(pid, START(pid), procs[i / 2],
				    procs[i / 2] == 50 ? START(5) : START(procs[i / 2]),
				    ts += 50000000);
			f.parent_threads = 3;
			f.h.flags |= spawned ? FT_F_SHARED_VM : 0;
			det_feed(s.d, s.t, (union ft_record *)&f, APPLY(s.t, f), collect, &s);
			procs[n++] = pid;
		}
		det_finish(s.d, s.t, ts + SEC, collect, &s);
		for (int i = 0; i < s.n; i++)
			findings += s.got[i].pattern == DET_FORK_WHILE_THREADED;
		/* 10 forkers: reported at 1, 2, 4, 8 */
		CHECK(findings == (spawned ? 0 : 4));
		CHECK(spawned || (s.n >= 1 && s.got[s.n - 1].count == 8));
		synth_free(&s);
	}
}

/* --- policy on a synthetic flagged tree, with a recording fake actuator -- */

#ifndef FT_CORE_ONLY
struct fake_act {
	uint32_t signalled[256], nsig, members, flagged_tree, flagged_sig;
	uint32_t spared;   /* add_member calls with tree 0 */
	uint32_t gone_pid; /* pretend this one's pid was reused */
	/*
	 * exe_pid runs exe_path with that (dev, ino), and so does every fork
	 * below it that has not exec'd since (what /proc shows: a fork keeps
	 * its parent's image); everyone else /tmp/evil.  t: the table that
	 * says who forked whom.
	 */
	uint32_t exe_pid;
	char exe_path[256];
	uint64_t exe_dev, exe_ino;
	const struct proctable *t;
	uint32_t exe_unreadable;  /* this pid's /proc/PID/exe read fails */
	bool exe_refused;	  /* every /proc/PID/exe read fails (a FUSE mount) */
	uint32_t disarmed;	  /* flag_tree calls with sig 0 */
	uint32_t exe_reads;	  /* calls of .exe: each is /proc reads in the tool */
	uint32_t reads_at_arming; /* exe_reads when the tree's signal was set */
	bool fail_maps;		  /* add_member and flag_tree fail */
	int last_sig;
	/* with_state: /proc/PID/stat says T for the pids in stopped[] (SIGSTOP
	 * adds, SIGCONT removes), S for the rest; else the op is absent */
	bool with_state;
	uint32_t stopped[64], nstopped;
};

static bool fake_is_stopped(const struct fake_act *f, uint32_t pid)
{
	for (uint32_t i = 0; i < f->nstopped; i++)
		if (f->stopped[i] == pid)
			return true;
	return false;
}

static char fake_state(void *ctx, uint32_t pid, uint64_t start_ticks)
{
	return fake_is_stopped(ctx, pid) ? 'T' : 'S';
}

static int fake_flag(void *ctx, uint32_t tree, uint32_t sig)
{
	struct fake_act *f = ctx;

	if (sig && !f->flagged_sig)
		f->reads_at_arming = f->exe_reads;
	if (sig) {
		f->flagged_tree = tree;
		f->flagged_sig = sig;
	}
	f->disarmed += !sig;
	return f->fail_maps ? -ENOMEM : 0;
}

static int fake_member(void *ctx, uint32_t tgid, uint64_t start_ticks, uint32_t tree)
{
	struct fake_act *f = ctx;

	if (tree)
		f->members++;
	else
		f->spared++;
	return f->fail_maps ? -E2BIG : 0;
}

static int fake_exe(void *ctx, uint32_t pid, uint64_t start_ticks, char *path, size_t len,
		    uint64_t *dev, uint64_t *ino)
{
	struct fake_act *f = ctx;
	int32_t i = f->t ? pt_find_live_pid(f->t, pid) : PT_NONE;
	bool it;

	/* the image is the one of the last exec up the line of forks */
	while (i != PT_NONE && !pt_get(f->t, i)->execs && pt_get(f->t, i)->parent != PT_NONE)
		i = pt_get(f->t, i)->parent;
	it = f->exe_pid && (i != PT_NONE ? pt_get(f->t, i)->key.tgid : pid) == f->exe_pid;
	f->exe_reads++;
	if (pid == f->exe_unreadable)
		return -ESRCH;
	if (f->exe_refused)
		return -EACCES;
	snprintf(path, len, "%s", it ? f->exe_path : "/tmp/evil");
	*dev = it ? f->exe_dev : 0;
	*ino = it ? f->exe_ino : 0;
	return 0;
}

static int fake_signal(void *ctx, uint32_t pid, uint64_t start_ticks, int sig)
{
	struct fake_act *f = ctx;

	if (pid == f->gone_pid)
		return -ESRCH;
	if (f->nsig < 256)
		f->signalled[f->nsig++] = pid;
	f->last_sig = sig;
	if (sig == SIGSTOP && !fake_is_stopped(f, pid) && f->nstopped < 64)
		f->stopped[f->nstopped++] = pid;
	for (uint32_t i = 0; sig == SIGCONT && i < f->nstopped; i++)
		if (f->stopped[i] == pid)
			f->stopped[i--] = f->stopped[--f->nstopped];
	return 0;
}

struct report_log {
	int signals, actions, exempt, dry, refused, undecided, states;
	char last_state[32];
	uint32_t dry_n, policy_failures;
	char why[400];
};

static void log_report(void *ctx, const struct policy_outcome *r)
{
	struct report_log *l = ctx;

	l->signals += r->kind == OUTCOME_SIGNAL;
	l->actions += r->kind == OUTCOME_ACTION;
	l->exempt += r->kind == OUTCOME_EXEMPT;
	l->refused += r->kind == OUTCOME_REFUSED;
	l->undecided += r->kind == OUTCOME_UNDECIDED;
	l->states += r->kind == OUTCOME_STATE;
	if ((r->kind == OUTCOME_STATE || r->kind == OUTCOME_ACTION) && r->state)
		snprintf(l->last_state, sizeof(l->last_state), "%s", r->state);
	if (r->why)
		snprintf(l->why, sizeof(l->why), "%s", r->why);
	if (r->kind == OUTCOME_ACTION)
		l->policy_failures += r->policy_failures;
	if (r->kind == OUTCOME_DRY_RUN) {
		l->dry++;
		l->dry_n = r->npids;
	}
}

static bool was_signalled(const struct fake_act *f, uint32_t pid)
{
	for (uint32_t i = 0; i < f->nsig; i++)
		if (f->signalled[i] == pid)
			return true;
	return false;
}

/* Flag a bomb rooted at a fresh process under the shell; return its root. */
static uint32_t flagged_bomb(struct synth *s, const char *exe, int n)
{
	uint32_t root = synth_fork(s, 50, 1 * SEC);

	synth_exec(s, root, exe, 1 * SEC + 1000);
	synth_bomb(s, root, 1 * SEC, n, false);
	return root;
}

/* A policy acting through the fakes (f) on s's table. */
static struct policy *fake_policy(struct synth *s, struct policy_opts *o, struct fake_act *f)
{
	struct policy_ops ops = {
		.flag_tree = fake_flag,
		.add_member = fake_member,
		.signal = fake_signal,
		.exe = fake_exe,
		.state = f->with_state ? fake_state : NULL,
		.ctx = f,
	};

	f->t = s->t;
	return policy_new(o, &ops, 4096);
}

/* containers: where processes run, for namespace: and pod: rules (or NULL) */
static void run_policy_in(struct synth *s, struct policy_opts *o, struct fake_act *f,
			  struct report_log *l, struct ct_cache *containers)
{
	struct policy *p = fake_policy(s, o, f);

	CHECK(p != NULL);
	if (!p)
		return;
	policy_set_containers(p, containers);
	for (int i = 0; i < s->n; i++)
		policy_on_verdict(p, s->t, s->d, &s->got[i], log_report, l);
	policy_tick(p, s->t, s->d, 5 * SEC, log_report, l);
	policy_free(p);
}

static void run_policy(struct synth *s, struct policy_opts *o, struct fake_act *f,
		       struct report_log *l)
{
	run_policy_in(s, o, f, l, NULL);
}
#endif

/* The detector's settings as text read back to the same settings. */
static void test_det_config_format_reads_back(void)
{
	struct det_config c, back;
	char text[FT_SETTINGS_LEN], err[256], line[128];
	const char *at;
	size_t n;

	det_config_defaults(&c);
	CHECK(det_config_set(&c, "window_ms=1500.5", err, sizeof(err)) == 0);
	CHECK(det_config_set(&c, "min_tasks=40", err, sizeof(err)) == 0);
	CHECK(det_config_set(&c, "storm_doubling_ms=1234.567891", err, sizeof(err)) == 0);
	n = det_config_format(&c, text, sizeof(text));
	CHECK(n > 0 && n < sizeof(text) && strlen(text) == n);
	CHECK(strstr(text, "min_tasks=40\n") && strstr(text, "window_ms=1500.5\n"));
	det_config_defaults(&back);
	for (at = text; *at;) {
		size_t len = strcspn(at, "\n");

		CHECK(len < sizeof(line));
		if (len >= sizeof(line))
			break;
		memcpy(line, at, len);
		line[len] = '\0';
		CHECK(det_config_set(&back, line, err, sizeof(err)) == 0);
		at += len + (at[len] == '\n');
	}
	CHECK(!memcmp(&c, &back, sizeof(c)));
	/* a short buffer: what it needs, cut and terminated */
	CHECK(det_config_format(&c, text, 10) == n && strlen(text) == 9);
}

#ifndef FT_CORE_ONLY
/* The alert lines of a stream fed through a pipeline (-j --alerts). */
static char *alert_lines(const char *read_path, const union ft_record *recs, size_t nrecs,
			 bool live, const char *write_path, bool settings_fixed)
{
	const struct ft_run_info info = { .kernel = "test" };
	const struct output_shows shows = { .alerts_only = true };
	struct pipeline_opts po = { 0 };
	struct pipeline *p = NULL;
	struct output *o = NULL;
	struct ft_reader *r = NULL;
	struct ft_run_info got;
	union ft_record in;
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	po.table_capacity = 4096;
	po.grace_ns = 5 * SEC;
	po.host_limits = live; /* live: read now (here the host's pid_max, threads-max) */
	po.write_path = write_path;
	po.settings_fixed = settings_fixed;
	det_config_defaults(&po.detect);
	CHECK(out && pipeline_new(&po, &info, &p, err, sizeof(err)) == 0);
	if (p)
		CHECK((o = pipeline_add_lines(p, out, OUT_JSON, &info, &shows)) != NULL);
	if (read_path) {
		CHECK(ft_reader_open(read_path, &got, &r, err, sizeof(err)) == 0);
		while (r && p && ft_reader_next(r, &in, err, sizeof(err)) > 0)
			CHECK(pipeline_feed(p, &in) == 0);
		ft_reader_close(r);
	}
	for (size_t i = 0; p && i < nrecs; i++)
		CHECK(pipeline_feed(p, &recs[i]) == 0);
	pipeline_free(p);
	output_free(o);
	if (out)
		fclose(out);
	return text;
}

/*
 * A recording carries the run's settings: a bomb recorded under
 * min_tasks=1000 (no alert live) replays with no alert, as the run had;
 * a replay told its own settings (--set) uses them and flags it.
 */
static void test_replay_takes_the_recorded_settings(void)
{
	const char *path = tmp_path("settings");
	struct ft_run_info info = { .kernel = "test" };
	struct ft_writer *w = NULL;
	struct ft_settings set;
	char err[512];
	uint32_t next = 1000, q[200];
	int head = 0, tail = 0;
	uint64_t ts = SEC;

	CHECK(ft_writer_open(path, &info, true, &w, err, sizeof(err)) == 0);
	if (!w)
		return;
	memset(&set, 0, sizeof(set));
	set.h.type = FT_EV_SETTINGS;
	set.h.size = sizeof(set);
	set.h.ts_ns = ts;
	{
		struct det_config c;

		det_config_defaults(&c);
		CHECK(det_config_set(&c, "min_tasks=1000", err, sizeof(err)) == 0);
		set.len = (uint32_t)det_config_format(&c, set.text, sizeof(set.text));
	}
	CHECK(ft_writer_put(w, (const union ft_record *)&set, err, sizeof(err)) == 0);
	q[tail++] = 50;
	{
		struct ft_snapshot init = mk_snap(1, START(1), 0, 0),
				   shell = mk_snap(50, START(5), 1, START(1));

		CHECK(ft_writer_put(w, (const union ft_record *)&init, err, sizeof(err)) == 0);
		CHECK(ft_writer_put(w, (const union ft_record *)&shell, err, sizeof(err)) == 0);
	}
	while (tail < 180) {
		uint32_t parent = q[head++];

		for (int k = 0; k < 2; k++) {
			struct ft_fork fk = mk_fork(next, START(next), parent,
						    parent == 50 ? START(5) : START(parent),
						    ts += 1000000);

			CHECK(ft_writer_put(w, (const union ft_record *)&fk, err, sizeof(err)) == 0);
			q[tail++] = next++;
		}
	}
	CHECK(ft_writer_close(w, err, sizeof(err)) == 0);

	for (int fixed = 0; fixed < 2; fixed++) {
		char *text = alert_lines(path, NULL, 0, false, NULL, fixed);

		CHECK(text && (strstr(text, "\"event\":\"alert\"") != NULL) == fixed);
		free(text);
	}
	unlink(path);
}

/* The record types a pipeline observer saw, in order. */
struct seen_types {
	uint32_t type[4096], n;
	uint32_t policy_at; /* index of the first FT_EV_POLICY, or 0 */
};

static void see_type(void *ctx, const struct observed_record *seen)
{
	const union ft_record *rec = seen->rec;
	struct seen_types *s = ctx;

	if (rec->h.type == FT_EV_POLICY && !s->policy_at)
		s->policy_at = s->n;
	if (s->n < 4096)
		s->type[s->n++] = rec->h.type;
}

/* Each observer writes its letter and the call into one log. */
struct observer_log {
	char text[512];
};

struct observer_mark {
	struct observer_log *log;
	char letter;
};

static void mark(const struct observer_mark *m, char call)
{
	size_t n = strlen(m->log->text);

	if (n + 3 < sizeof(m->log->text)) {
		m->log->text[n] = m->letter;
		m->log->text[n + 1] = call;
		m->log->text[n + 2] = '\0';
	}
}

static void mark_start(void *ctx, const char *source, uint32_t self_pid)
{
	mark(ctx, 's');
}

static void mark_record(void *ctx, const struct observed_record *r)
{
	/* r: a fork in scope, with its subject in the table */
	if (r->rec->h.type == FT_EV_FORK)
		mark(ctx, r->in_scope && r->slot != PT_NONE ? 'f' : 'x');
}

static void mark_finish(void *ctx, const struct observed_end *end)
{
	mark(ctx, end->totals->forks == 1 && end->scope_known ? 'e' : 'x');
}

/*
 * Outputs are observers, none built in: each is called in the order it was
 * added, at every stage of the run; one that leaves hears nothing more; a
 * fifth finds no room.
 */
static void test_pipeline_observers_in_order(void)
{
	struct ft_run_info info = { .kernel = "test" };
	struct pipeline_opts po = { .table_capacity = 64, .grace_ns = SEC };
	struct observer_log log = { "" };
	struct observer_mark a = { &log, 'a' }, b = { &log, 'b' }, c = { &log, 'c' };
	struct observer oa = { .start = mark_start, .record = mark_record, .finish = mark_finish,
			       .ctx = &a };
	struct observer ob = oa, oc = oa;
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct ft_fork fk = mk_fork(20, START(20), 1, START(1), 2 * SEC);
	struct pipeline *p = NULL;
	char err[256];

	ob.ctx = &b;
	oc.ctx = &c;
	det_config_defaults(&po.detect);
	CHECK(pipeline_new(&po, &info, &p, err, sizeof(err)) == 0);
	if (!p)
		return;
	CHECK(pipeline_observe(p, &oa) == 0 && pipeline_observe(p, &ob) == 0);
	CHECK(pipeline_observe(p, &oc) == 0 && pipeline_observe(p, &oa) == 0);
	CHECK(pipeline_observe(p, &ob) == -1); /* OBSERVERS_MAX */
	pipeline_unobserve(p, &a);	       /* both of a's leave */
	pipeline_start(p, "test", 1);
	pipeline_feed(p, (const union ft_record *)&init);
	pipeline_feed(p, (const union ft_record *)&fk);
	CHECK(pipeline_finish(p, 3 * SEC, err, sizeof(err)) == 0);
	CHECK(!strcmp(log.text, "bscsbfcfbece"));
	pipeline_free(p);
}

/*
 * The core runs one record at a time.  A live policy's outcome (a dry run
 * on a C bomb's alert, made inside the detector's callback) is queued and
 * fed after the fork that raised the alert: the observers see it, the
 * recording has it in the same place, and a replay of that recording
 * shows the same stream.
 */
static void test_pipeline_feeds_policy_outcomes_after_their_record(void)
{
	const char *path = tmp_path("policy-queue");
	struct ft_run_info info = { .kernel = "test" };
	struct policy_ops ops = { .flag_tree = fake_flag, .add_member = fake_member,
				  .signal = fake_signal, .exe = fake_exe };
	struct seen_types *live = calloc(1, sizeof(*live)), *replay = calloc(1, sizeof(*replay));
	struct observer ob = { .record = see_type };
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0), shell = mk_snap(50, START(5), 1, START(1));
	struct pipeline_opts po = { 0 };
	struct fake_act f = { 0 };
	struct pipeline *p = NULL;
	struct ft_reader *r = NULL;
	union ft_record in;
	uint32_t q[128], next = 1000;
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;
	char err[512];

	CHECK(live && replay);
	if (!live || !replay)
		goto out;
	ops.ctx = &f;
	/* no lines presenter, as the live view and the report: nothing that
	 * would print (the tree at the end, a kernel signal) may need one */
	po.table_capacity = 4096;
	po.grace_ns = 5 * SEC;
	po.write_path = path;
	po.actuator = &ops;
	det_config_defaults(&po.detect);
	policy_defaults(&po.policy);
	po.policy.mode = POLICY_KILL;
	po.policy.dry_run = true;
	CHECK(pipeline_new(&po, &info, &p, err, sizeof(err)) == 0);
	if (!p)
		goto out;
	f.t = pipeline_table(p);
	ob.ctx = live;
	CHECK(pipeline_observe(p, &ob) == 0);
	pipeline_start(p, "live", 1);
	pipeline_feed(p, (const union ft_record *)&init);
	pipeline_feed(p, (const union ft_record *)&shell);
	q[tail++] = 50;
	while (tail < 120 && !live->policy_at) {
		uint32_t parent = q[head++];

		for (int k = 0; k < 2; k++) {
			struct ft_fork fk = mk_fork(next, START(next), parent,
						    parent == 50 ? START(5) : START(parent),
						    ts += 1000000);

			CHECK(pipeline_feed(p, (const union ft_record *)&fk) == 0);
			q[tail++] = next++;
		}
	}
	/* the dry run came in the stream, right after the fork it answered */
	CHECK(live->policy_at > 0 && live->type[live->policy_at - 1] == FT_EV_FORK);
	{
		struct ft_action k = { .h = { .type = FT_EV_ACTION, .size = sizeof(k) } };

		k.h.ts_ns = ts += 1000000;
		k.h.tgid = next - 1;
		k.sig = SIGKILL;
		CHECK(pipeline_feed(p, (const union ft_record *)&k) == 0);
	}
	CHECK(!pipeline_error(p));
	CHECK(pipeline_finish(p, ts, err, sizeof(err)) == 0);
	pipeline_free(p);
	p = NULL;

	/* the recording holds the stream the observers saw */
	CHECK(ft_reader_open(path, &info, &r, err, sizeof(err)) == 0);
	while (r && ft_reader_next(r, &in, err, sizeof(err)) > 0) {
		const struct observed_record seen = { .rec = &in, .slot = PT_NONE };

		see_type(replay, &seen);
	}
	CHECK(replay->n == live->n && replay->policy_at == live->policy_at);
	CHECK(!memcmp(replay->type, live->type, sizeof(live->type[0]) * live->n));
out:
	pipeline_free(p);
	ft_reader_close(r);
	free(live);
	free(replay);
	unlink(path);
}

static void test_policy_kills_only_the_flagged_tree(void)
{
	struct policy_opts o;
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct synth s;
	uint32_t root, sibling, last;

	synth_init(&s);
	sibling = synth_fork(&s, 50, 1 * SEC);
	synth_exec(&s, sibling, "/usr/bin/sleep", 1 * SEC + 500);
	root = flagged_bomb(&s, "/tmp/bomb", 40);
	last = s.next_pid - 1;
	f.gone_pid = root + 3; /* exited and its pid reused: the signal must miss */
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	run_policy(&s, &o, &f, &l);
	CHECK(f.flagged_sig == SIGKILL && f.flagged_tree >= 1);
	CHECK(f.members >= 16);
	CHECK(was_signalled(&f, root) && was_signalled(&f, last));
	CHECK(!was_signalled(&f, sibling) && !was_signalled(&f, 50) && !was_signalled(&f, 1));
	CHECK(!was_signalled(&f, root + 3));
	CHECK(f.nsig == 40 - 1 && l.signals == 40); /* every attempt is logged */
	synth_free(&s);
}

static void test_policy_allow_dry_run_and_observe(void)
{
	struct policy_opts o;
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct synth s;
	char err[128];

	synth_init(&s);
	flagged_bomb(&s, "/tmp/bomb", 40);
	/* observing: nothing at all */
	policy_defaults(&o);
	run_policy(&s, &o, &f, &l);
	CHECK(f.nsig == 0 && f.members == 0 && l.signals + l.actions + l.exempt == 0);
	/* an allowlisted tree (every member: synthetic uids are 0): exempt,
	 * reported, never signalled */
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	CHECK(policy_add_allow(&o, "uid:0", err, sizeof(err)) == 0);
	run_policy(&s, &o, &f, &l);
	CHECK(l.exempt == 1 && f.nsig == 0 && f.members == 0);
	/* dry run: the list, no signals, nothing flagged in the kernel */
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	o.dry_run = true;
	run_policy(&s, &o, &f, &l);
	CHECK(l.dry == 1 && l.dry_n == 40 && f.nsig == 0 && f.flagged_tree == 0);
	/* bad rules are refused */
	CHECK(policy_add_allow(&o, "user:root", err, sizeof(err)) == -1);
	CHECK(policy_set_act_on(&o, "fork_while_threaded", err, sizeof(err)) == -1);
	CHECK(policy_set_act_on(&o, "restart_loop,fork_bomb", err, sizeof(err)) == 0);
	synth_free(&s);
}

/*
 * A name is not an identity: a bomb that calls itself sshd is killed like
 * any other.  An exe rule matches the path /proc/PID/exe shows and the
 * file it named when the rule was parsed: a copy at that path (another
 * inode) or the same file under another name does not pass.  A fork runs
 * its parent's image until it execs: the root's match holds for its forks
 * (one read for the whole bomb), not for a member that exec'd since, nor
 * for that member's children.
 */
static void test_policy_exe_rules_and_allowed_root(void)
{
	char self[256], err[256];
	struct policy_opts o;
	struct fake_act f;
	struct report_log l;
	struct synth s;
	struct stat st;
	uint32_t root, nchild;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0 && stat("/proc/self/exe", &st) == 0);
	if (n <= 0)
		return;
	self[n] = '\0';
	synth_init(&s);
	root = flagged_bomb(&s, "/usr/sbin/sshd", 40); /* comm "sshd" */
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	CHECK(!strcmp(pt_get(s.t, pt_find(s.t, root, START(root)))->comm, "sshd"));

	/* the defaults have no comm rule: the root is signalled */
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	for (uint32_t i = 0; i < o.nallow; i++)
		CHECK(o.allow[i].kind == ALLOW_EXE);
	run_policy(&s, &o, &f, &l);
	CHECK(was_signalled(&f, root) && f.nsig == 40 && l.exempt == 0);
	/* armed on one read, each signal sent on the process's own */
	CHECK(f.reads_at_arming == (o.nallow ? 1 : 0) && f.exe_reads == (o.nallow ? 40 : 0));

	/* exe rule for this binary; the root runs it, and so do its forks */
	CHECK(policy_add_allow(&o, "exe:/proc/self/exe", err, sizeof(err)) == 0);
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	f.exe_pid = root;
	snprintf(f.exe_path, sizeof(f.exe_path), "%s", self);
	f.exe_dev = st.st_dev;
	f.exe_ino = st.st_ino;
	run_policy(&s, &o, &f, &l);
	CHECK(f.nsig == 0 && l.exempt == 1 && f.members == 0 && f.exe_reads == 1);

	/* a copy put at that path (another inode): not allowed */
	memset(&f.signalled, 0, sizeof(f.signalled));
	f.nsig = 0;
	f.exe_ino = st.st_ino + 1;
	run_policy(&s, &o, &f, &l);
	CHECK(was_signalled(&f, root) && f.nsig == 40);
	/* the same file under another name (a hard link): allowed, as the
	 * kernel matches it, by identity */
	memset(&f.signalled, 0, sizeof(f.signalled));
	f.nsig = 0;
	f.exe_ino = st.st_ino;
	snprintf(f.exe_path, sizeof(f.exe_path), "/tmp/sshd");
	run_policy(&s, &o, &f, &l);
	CHECK(!was_signalled(&f, root) && f.nsig == 0);

	/*
	 * root + 1 execs something else after its forks: its own /proc read
	 * says /tmp/evil, and its children (forked before that exec) are read
	 * too, not credited with the root's match.  The root and its other
	 * forks stay spared, and go into the kernel's map as spared (tree 0).
	 */
	snprintf(f.exe_path, sizeof(f.exe_path), "%s", self);
	synth_exec(&s, root + 1, "/usr/sbin/sshd", 4 * SEC);
	memset(&f.signalled, 0, sizeof(f.signalled));
	f.nsig = f.exe_reads = f.members = f.spared = f.flagged_sig = 0;
	run_policy(&s, &o, &f, &l);
	CHECK(!was_signalled(&f, root) && was_signalled(&f, root + 1));
	CHECK(f.members == 20 && f.spared == 20);
	/* root + 1 was the first fork of a doubling: half the bomb is its */
	CHECK(f.nsig == 20);
	/* read: the root, root + 1 and its children; their children inherit */
	nchild = 0;
	for (int32_t c = pt_get(s.t, pt_find(s.t, root + 1, START(root + 1)))->first_child;
	     c != PT_NONE; c = pt_get(s.t, c)->next_sibling)
		nchild++;
	CHECK(nchild > 1 && f.reads_at_arming == 2 + nchild);

	/* bad rules: one line naming the problem */
	CHECK(policy_add_allow(&o, "exe:sshd", err, sizeof(err)) == -1 && strstr(err, "absolute"));
	CHECK(policy_add_allow(&o, "exe:/nonexistent/sshd", err, sizeof(err)) == -1 &&
	      strstr(err, "No such file"));
	CHECK(policy_add_allow(&o, "unit:sshd", err, sizeof(err)) == -1 && strstr(err, "unit"));
	CHECK(policy_add_allow(&o, "unit:sshd.service", err, sizeof(err)) == 0);
	CHECK(policy_add_allow(&o, "uid:x", err, sizeof(err)) == -1 && strstr(err, "uid"));
	CHECK(policy_add_allow(&o, "cgroup:rel", err, sizeof(err)) == -1);
	CHECK(!strchr(err, '\n'));
	synth_free(&s);
}

/*
 * A parent whose /proc/PID/exe cannot be read (dying, a zombie leader)
 * passes nothing on: its forks, which run the allowed image, are read and
 * spared themselves, not armed on the parent's "no match".  The parent is
 * armed (the kernel reads each task's executable before it signals) but
 * not sent a pidfd signal on an unknown: asked again at every sweep.
 */
static void test_policy_unreadable_exe_is_not_inherited(void)
{
	struct policy_opts o;
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct synth s;
	char err[256];
	uint32_t root;

	synth_init(&s);
	root = flagged_bomb(&s, "/usr/sbin/sshd", 40);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	CHECK(policy_add_allow(&o, "exe:/proc/self/exe", err, sizeof(err)) == 0);
	f.exe_pid = root;
	f.exe_unreadable = root;
	snprintf(f.exe_path, sizeof(f.exe_path), "%s", o.allow[o.nallow - 1].path);
	f.exe_dev = o.allow[o.nallow - 1].dev;
	f.exe_ino = o.allow[o.nallow - 1].ino;
	run_policy(&s, &o, &f, &l);
	CHECK(f.members == 1 && f.spared == 39);
	CHECK(f.nsig == 0 && l.actions == 0);
	/* once readable (and not allowed): signalled */
	f.exe_unreadable = 0;
	f.exe_pid = 0;
	f.nsig = f.members = f.spared = 0;
	run_policy(&s, &o, &f, &l);
	CHECK(f.nsig == 40 && was_signalled(&f, root));
	synth_free(&s);
}

/*
 * A member the verdict did not know (its fork record arrived after) is
 * armed by the sweep that finds it, before its signal.
 */
static void test_policy_sweep_arms_late_members(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t root, late;

	synth_init(&s);
	root = flagged_bomb(&s, "/tmp/bomb", 40);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < s.n; i++)
		policy_on_verdict(p, s.t, s.d, &s.got[i], log_report, &l);
	CHECK(f.members == 40 && f.nsig == 40);
	late = synth_fork(&s, root + 1, 3 * SEC);
	policy_tick(p, s.t, s.d, 3 * SEC + 1000, log_report, &l);
	CHECK(f.members == 41 && f.nsig == 41 && was_signalled(&f, late));
	/* armed once, signalled once: the next sweep adds nothing */
	policy_tick(p, s.t, s.d, 3 * SEC + 2000, log_report, &l);
	CHECK(f.members == 41 && f.nsig == 41);
	policy_free(p);
	synth_free(&s);
}

/* Root protected (a kernel thread here), members not: members signalled. */
static void test_policy_protected_root_members_signalled(void)
{
	struct policy_opts o;
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct ft_exec e = { 0 };
	struct synth s;
	uint32_t root;

	synth_init(&s);
	root = flagged_bomb(&s, "/tmp/bomb", 40);
	e.h.type = FT_EV_EXEC;
	e.h.size = sizeof(e);
	e.h.flags = FT_F_KTHREAD;
	e.h.tgid = e.h.tid = root;
	e.h.start_ns = START(root);
	APPLY(s.t, e);
	CHECK(pt_get(s.t, pt_find(s.t, root, START(root)))->kthread);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	run_policy(&s, &o, &f, &l);
	CHECK(!was_signalled(&f, root) && f.nsig == 39 && l.exempt == 0 && f.members == 39);
	synth_free(&s);
}

/* Every member allowed: one exempt event saying why, nothing signalled. */
static void test_policy_all_allowed_is_one_exempt(void)
{
	struct policy_opts o;
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct synth s;
	char err[128];

	synth_init(&s);
	flagged_bomb(&s, "/tmp/bomb", 40);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	CHECK(policy_add_allow(&o, "uid:0", err, sizeof(err)) == 0); /* synthetic uids are 0 */
	run_policy(&s, &o, &f, &l);
	CHECK(l.exempt == 1 && l.actions == 0 && l.signals == 0);
	CHECK(f.nsig == 0 && f.members == 0 && f.flagged_tree == 0);
	CHECK(strstr(l.why, "uid:0") != NULL);
	synth_free(&s);
}

/* An act-on verdict is acted on or refused aloud; failed map updates count. */
static void test_policy_refusals_and_failures(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct det_verdict v;
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t root;

	synth_init(&s);
	root = flagged_bomb(&s, "/tmp/bomb", 40);
	CHECK(s.n >= 1 && s.got[0].kind == DET_ALERT && s.got[0].root == root);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	f.fail_maps = true;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	/* an alert for a root the detector has no tree id for (the shell) */
	v = s.got[0];
	v.root = 50;
	v.root_start_ns = START(5);
	policy_on_verdict(p, s.t, s.d, &v, log_report, &l);
	CHECK(l.refused == 1 && strstr(l.why, "no tree id"));
	/* one for a root the table does not know */
	v.root = 99999;
	policy_on_verdict(p, s.t, s.d, &v, log_report, &l);
	CHECK(l.refused == 2 && strstr(l.why, "not in the process table"));
	/* the real one: every add_member and the arming flag_tree call fail,
	 * and say so; giving up (the table still shows the members alive)
	 * leaves the kernel armed, so there is no disarming call */
	policy_on_verdict(p, s.t, s.d, &s.got[0], log_report, &l);
	policy_tick(p, s.t, s.d, 20 * SEC, log_report, &l);
	CHECK(policy_failures(p) == 40 + 1);
	CHECK(l.actions == 1 && l.policy_failures == 41);
	CHECK(f.nsig == 40); /* the sweep does not depend on the maps */
	policy_free(p);
	synth_free(&s);
}

/* Human output under --kill: one ACTION line per tree, signals only with -v. */
static void test_output_action_line_and_verbose(void)
{
	struct ft_run_info info = { .kernel = "test" };
	struct policy_outcome sig = { .kind = OUTCOME_SIGNAL,
				     .action = "kill",
				     .root = 700,
				     .root_comm = "bomb",
				     .tree = 3,
				     .pid = 701,
				     .comm = "bomb",
				     .sig = SIGKILL };
	struct policy_outcome done = { .kind = OUTCOME_ACTION,
				      .action = "kill",
				      .root = 700,
				      .root_comm = "bomb",
				      .tree = 3,
				      .signalled = 5,
				      .ms = 12.5,
				      .complete = true };
	struct proctable *t = pt_new(64, SEC);
	struct ft_action k = { 0 };
	char *buf = NULL;
	size_t len = 0;

	k.h.type = FT_EV_ACTION;
	k.h.size = sizeof(k);
	k.h.tgid = 702;
	k.tree = 3;
	k.sig = SIGKILL;
	for (int verbose = 0; verbose < 2; verbose++) {
		FILE *f = open_memstream(&buf, &len);
		struct output *o = output_new(f, OUT_HUMAN, &info);

		CHECK(f && o);
		if (!f || !o)
			return;
		output_set_verbose(o, verbose);
		output_record(o, (union ft_record *)&k, t, PT_NONE, NULL);
		output_record(o, (union ft_record *)&k, t, PT_NONE, NULL);
		k.child_ret = -3; /* a failed child signal is not a kill */
		output_record(o, (union ft_record *)&k, t, PT_NONE, NULL);
		k.child_ret = 0;
		output_policy(o, &sig);
		output_policy(o, &done);
		output_free(o);
		fclose(f);
		CHECK(count_lines(buf, "ACTION") == 1);
		CHECK(strstr(buf, "killed 7 processes of tree 700 (bomb) in 12.5 ms: 5 by pidfd "
				  "sweep, 2 in kernel at fork") != NULL);
		CHECK(count_lines(buf, "SIGNAL") == (verbose ? 4 : 0));
		free(buf);
		buf = NULL;
	}
	pt_free(t);
}

/* The kernel's containment failure counters reach the summary. */
static void test_summary_reports_kernel_failures(void)
{
	struct ft_counters c = { .h = { .type = FT_EV_COUNTERS, .size = sizeof(c), .ts_ns = SEC },
				 .signal_failed = 3,
				 .member_full = 2 };
	const union ft_record *recs[] = { (void *)&c };
	char *out = run_pipeline(recs, 1, 0, false);

	CHECK(out && strstr(out, "\"kernel_signal_failures\":3,\"member_map_full\":2,"
				 "\"policy_failures\":0"));
	free(out);
}
#endif

/*
 * det_apply_limits: the nearest limit at the tree's pace, none for a tree
 * not growing; the pids controller's refusals only when read.
 */
static void test_limits_record_applied(void)
{
	struct ft_limits l = { .h = { .type = FT_EV_LIMITS, .size = sizeof(l) } };
	struct det_verdict v;

	memset(&v, 0, sizeof(v));
	l.n = 2;
	l.lim[0].kind = FT_LIMIT_PID_MAX;
	l.lim[0].limit = 4194304;
	l.lim[0].used = 300;
	l.lim[1].kind = FT_LIMIT_PIDS_MAX;
	l.lim[1].limit = 500;
	l.lim[1].used = 100;
	v.tasks = 100;
	v.doubling_ms = 200;
	det_apply_limits(&v, &l);
	CHECK(v.limit_name && !strcmp(v.limit_name, "pids.max") && v.limit_value == 500 &&
	      v.limit_used == 100 && v.limit_seconds > 0 && v.limit_seconds < 1);
	CHECK(!v.pids_events_read);
	memset(&v, 0, sizeof(v)); /* not growing: no time to a limit */
	l.flags = FT_LIM_PIDS_EVENTS;
	l.pids_events_max = 7;
	det_apply_limits(&v, &l);
	CHECK(!v.limit_name && v.pids_events_read && v.pids_events_max == 7);
	l.n = FT_LIMITS_MAX + 1; /* a damaged record is refused whole */
	CHECK(!ft_record_sane((union ft_record *)&l));
	l.n = 1;
	l.lim[0].kind = FT_LIMIT_KIND_MAX;
	CHECK(!ft_record_sane((union ft_record *)&l));
	CHECK(!strcmp(ft_limit_name(FT_LIMIT_NPROC), "RLIMIT_NPROC"));
}

#ifndef FT_CORE_ONLY
/*
 * The host limits a live run read for its alerts are recorded ahead of
 * the record that raised them, so a replay's alert lines are the run's,
 * limits included; without those records a replay has no limits.
 */
static void test_replay_has_the_runs_host_limits(void)
{
	const char *live_rec = tmp_path("limits_live"), *bare = tmp_path("limits_bare");
	union ft_record *recs = calloc(400, sizeof(*recs));
	struct ft_writer *w = NULL;
	struct ft_reader *r = NULL;
	struct ft_run_info info = { .kernel = "test" }, got;
	uint32_t next = 1000, q[400];
	size_t n = 0;
	int head = 0, tail = 0, limits = 0, limits_ahead = 0;
	uint64_t ts = SEC, prev_limits_ts = 0;
	char *live = NULL, *replay = NULL, *without = NULL, err[256];
	union ft_record in;

	if (!recs)
		return;
	recs[n].snapshot = mk_snap(1, START(1), 0, 0);
	recs[n++].h.ts_ns = ts;
	recs[n].snapshot = mk_snap(50, START(5), 1, START(1));
	recs[n++].h.ts_ns = ts;
	q[tail++] = 50;
	while (tail < 300) { /* a binary fork bomb, a fork a millisecond */
		uint32_t parent = q[head++];

		for (int k = 0; k < 2; k++) {
			recs[n++].fork = mk_fork(next, START(next), parent,
						 parent == 50 ? START(5) : START(parent), ts += 1000000);
			q[tail++] = next++;
		}
	}
	live = alert_lines(NULL, recs, n, true, live_rec, false);
	CHECK(live && strstr(live, "\"event\":\"alert\"") && strstr(live, "\"limit\":\""));
	replay = alert_lines(live_rec, NULL, 0, false, NULL, false);
	CHECK(live && replay && !strcmp(live, replay));

	/* each LIMITS record comes right before a record of its own time, and
	 * the same recording without them replays with no limit */
	CHECK(ft_reader_open(live_rec, &got, &r, err, sizeof(err)) == 0);
	CHECK(ft_writer_open(bare, &info, true, &w, err, sizeof(err)) == 0);
	while (r && w && ft_reader_next(r, &in, err, sizeof(err)) > 0) {
		if (prev_limits_ts && in.h.type != FT_EV_LIMITS) {
			limits_ahead += in.h.ts_ns == prev_limits_ts;
			prev_limits_ts = 0;
		}
		if (in.h.type == FT_EV_LIMITS) {
			limits++;
			prev_limits_ts = in.h.ts_ns;
			continue;
		}
		CHECK(ft_writer_put(w, &in, err, sizeof(err)) == 0);
	}
	ft_reader_close(r);
	if (w)
		CHECK(ft_writer_close(w, err, sizeof(err)) == 0);
	CHECK(limits > 0 && limits_ahead == limits);
	without = alert_lines(bare, NULL, 0, false, NULL, false);
	CHECK(without && strstr(without, "\"event\":\"alert\"") && !strstr(without, "\"limit\""));
	free(live);
	free(replay);
	free(without);
	free(recs);
	unlink(live_rec);
	unlink(bare);
}
#endif

/*
 * ALLOW records (the policy's rules, recording version 12): a damaged
 * one (an index past its set, a set too large) is refused like any bad
 * record, a rule is cut at its field, and they come back from a recording
 * as written; a version 11 file holding one is damaged, not misread.
 */
static void test_allow_records_checked_and_recorded(void)
{
	const char *path = tmp_path("allow");
	struct ft_run_info info = { .kernel = "test" }, got_info;
	struct ft_allow_rule a = { .h = { .type = FT_EV_ALLOW, .size = sizeof(a) } };
	struct ft_writer *w = NULL;
	struct ft_reader *r = NULL;
	union ft_record rec;
	unsigned char hdr[512];
	uint16_t version = 11, hsize;
	uint32_t crc;
	char err[256];
	int got = 0;
	FILE *f;

	memset(&rec, 0, sizeof(rec));
	memcpy(&rec, &a, sizeof(a));
	rec.allow.count = 2;
	rec.allow.index = 1;
	memset(rec.allow.rule, 'x', sizeof(rec.allow.rule)); /* no NUL */
	CHECK(ft_record_sane(&rec) && rec.allow.rule[FT_ALLOW_LEN - 1] == '\0');
	rec.allow.index = 2; /* past its set */
	CHECK(!ft_record_sane(&rec));
	rec.allow.count = rec.allow.index = 0; /* a set of none */
	CHECK(ft_record_sane(&rec));
	rec.allow.index = 1;
	CHECK(!ft_record_sane(&rec));
	rec.allow.count = FT_ALLOW_MAX_RECORDS + 1;
	rec.allow.index = 0;
	CHECK(!ft_record_sane(&rec));
	CHECK(!strcmp(ft_type_name(FT_EV_ALLOW), "allow"));

	CHECK(ft_writer_open(path, &info, true, &w, err, sizeof(err)) == 0);
	if (!w)
		return;
	for (uint32_t i = 0; i < 2; i++) {
		a.h.ts_ns = SEC;
		a.index = i;
		a.count = 2;
		snprintf(a.rule, sizeof(a.rule), i ? "uid:4242" : "exe:/sbin/init (/usr/lib/systemd/systemd)");
		CHECK(ft_writer_put(w, (const union ft_record *)&a, err, sizeof(err)) == 0);
	}
	CHECK(ft_writer_close(w, err, sizeof(err)) == 0);
	CHECK(ft_reader_open(path, &got_info, &r, err, sizeof(err)) == 0);
	while (r && ft_reader_next(r, &rec, err, sizeof(err)) > 0) {
		CHECK(rec.h.type == FT_EV_ALLOW && rec.allow.index == (uint32_t)got &&
		      rec.allow.count == 2);
		CHECK(!strcmp(rec.allow.rule,
			      got ? "uid:4242" : "exe:/sbin/init (/usr/lib/systemd/systemd)"));
		got++;
	}
	CHECK(got == 2);
	ft_reader_close(r);

	/* the same file said to be version 11 (its header's CRC made good):
	 * no ALLOW record existed then */
	f = fopen(path, "r+b");
	CHECK(f && fread(hdr, 1, 12, f) == 12);
	if (!f)
		return;
	memcpy(&hsize, hdr + 10, 2);
	CHECK(hsize <= sizeof(hdr) && hsize > 16);
	if (hsize <= sizeof(hdr) && hsize > 16) {
		rewind(f);
		CHECK(fread(hdr, 1, hsize, f) == hsize);
		memcpy(hdr + 8, &version, 2);
		crc = (uint32_t)crc32(0L, hdr, (uInt)(hsize - 8));
		memcpy(hdr + hsize - 8, &crc, 4);
		rewind(f);
		CHECK(fwrite(hdr, 1, hsize, f) == hsize);
	}
	fclose(f);
	r = NULL;
	CHECK(ft_reader_open(path, &got_info, &r, err, sizeof(err)) == 0);
	CHECK(r && ft_reader_next(r, &rec, err, sizeof(err)) < 0 &&
	      strstr(err, "unknown record type 17") != NULL);
	ft_reader_close(r);
	unlink(path);
}

/*
 * A recording as versions 2 to 4 wrote it: their header ended the run info
 * before the host's name (magic, version, header size, byte order, 160
 * bytes of run info, CRC, pad), then rec (len bytes) in one frame.
 */
static void write_old_recording(const char *path, uint16_t version, const void *rec, uint32_t len)
{
	struct ft_run_info info = { .kernel = "old-kernel", .host = "not-written" };
	const size_t info_len = offsetof(struct ft_run_info, host), crc_at = 16 + info_len;
	unsigned char hdr[16 + sizeof(info) + 8] = "FORKTRC\n";
	uint16_t size = (uint16_t)(crc_at + 8);
	uint32_t bom = 0x01020304u, crc, frame[2] = { len, (uint32_t)crc32(0L, rec, len) };
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	memcpy(hdr + 8, &version, 2);
	memcpy(hdr + 10, &size, 2);
	memcpy(hdr + 12, &bom, 4);
	memcpy(hdr + 16, &info, info_len);
	crc = (uint32_t)crc32(0L, hdr, (uInt)crc_at);
	memcpy(hdr + crc_at, &crc, 4);
	memset(hdr + crc_at + 4, 0, 4);
	CHECK(fwrite(hdr, 1, size, f) == size);
	CHECK(fwrite(frame, sizeof(frame), 1, f) == 1 && fwrite(rec, len, 1, f) == 1);
	fclose(f);
}

static void test_recording_old_versions_readable(void)
{
	const char *path = tmp_path("old");
	struct ft_counters c = { .h = { .type = FT_EV_COUNTERS }, .threads_started = 7 };
	struct ft_fork fork = mk_fork(300, START(300), 1, START(1), SEC);
	uint32_t v2len = offsetof(struct ft_counters, signal_failed);
	struct ft_run_info info;
	union ft_record rec;
	struct ft_reader *r;
	char err[256];

	/* version 2: a counters record shorter than today's */
	c.h.size = (uint16_t)v2len;
	write_old_recording(path, 2, &c, v2len);
	CHECK(ft_reader_open(path, &info, &r, err, sizeof(err)) == 0);
	if (r) {
		CHECK(ft_reader_next(r, &rec, err, sizeof(err)) == 1);
		CHECK(rec.h.type == FT_EV_COUNTERS && rec.counters.threads_started == 7);
		CHECK(rec.counters.signal_failed == 0 && rec.counters.member_full == 0);
		CHECK(rec.h.size == sizeof(struct ft_counters));
		CHECK(ft_reader_next(r, &rec, err, sizeof(err)) == 0);
		ft_reader_close(r);
	}
	/* version 4: the shorter header, no host, a fork record without the
	 * executable (version 6 added it) */
	fork.h.size = (uint16_t)offsetof(struct ft_fork, exe);
	write_old_recording(path, 4, &fork, offsetof(struct ft_fork, exe));
	CHECK(ft_reader_open(path, &info, &r, err, sizeof(err)) == 0);
	if (r) {
		CHECK(!strcmp(info.kernel, "old-kernel") && info.host[0] == '\0');
		CHECK(ft_reader_next(r, &rec, err, sizeof(err)) == 1);
		CHECK(rec.h.type == FT_EV_FORK && rec.h.tgid == 300);
		CHECK(rec.h.size == sizeof(struct ft_fork) && rec.fork.exe.ino == 0);
		CHECK(ft_reader_next(r, &rec, err, sizeof(err)) == 0);
		ft_reader_close(r);
	}
	/* version 5 with version 4's header size: refused, named */
	write_old_recording(path, 5, &fork, sizeof(fork));
	CHECK(ft_reader_open(path, &info, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unsupported recording version 5") != NULL);
	unlink(path);
}

#ifndef FT_CORE_ONLY
static void test_procfs_stat_survives_hostile_comm(void)
{
	const char *hostile = "a) b (c) 1 2";
	struct procfs_stat st;
	FILE *f = fopen("/proc/self/comm", "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(hostile, f);
	fclose(f);
	CHECK(procfs_stat((uint32_t)getpid(), &st) == 0);
	CHECK(!strcmp(st.comm, hostile));
	CHECK(st.ppid == (uint32_t)getppid() && st.state == 'R' && st.threads == 1);
	CHECK(st.start_ticks > 0);
	CHECK(procfs_stat(0x3fffffff, &st) == -1); /* no such pid */
}
#endif

/* --- container attribution: bundle annotations, the cache, pod rules ----- */

#define ID   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID  "8f3c2b1a-1d2e-4f5a-9b8c-7d6e5f4a3b2c"
#define UID_ "8f3c2b1a_1d2e_4f5a_9b8c_7d6e5f4a3b2c" /* as systemd unit names spell it */

#ifndef FT_CORE_ONLY
static void test_container_bundle_annotations(void)
{
	static const char containerd[] =
	    "{\"ociVersion\":\"1.0.2\",\"linux\":{\"cgroupsPath\":"
	    "\"kubepods-burstable-pod" UID_ ".slice:cri-containerd:" ID "\"},\"annotations\":{"
	    "\"io.kubernetes.cri.container-type\":\"container\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	    "\"io.kubernetes.cri.sandbox-name\":\"web-0\","
	    "\"io.kubernetes.cri.container-name\":\"app\","
	    "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}";
	static const char crio[] =
	    "{\"annotations\":{\"io.kubernetes.pod.namespace\":\"kube-system\","
	    "\"io.kubernetes.pod.name\":\"dns-7\","
	    "\"io.kubernetes.container.name\":\"coredns\","
	    "\"io.kubernetes.pod.uid\":\"" UID "\"}}";
	char longname[600], cg[512];
	struct ft_container c;

	memset(&c, 0, sizeof(c));
	CHECK(ct_parse_bundle_config(containerd, strlen(containerd), CT_CONTAINERD, &c, cg,
				     sizeof(cg)));
	CHECK(!strcmp(c.ns, "shop") && !strcmp(c.pod, "web-0") && !strcmp(c.name, "app"));
	CHECK(!strcmp(c.pod_uid, UID) && (c.flags & FT_CT_ANNOTATED));
	CHECK(!strcmp(cg, "kubepods-burstable-pod" UID_ ".slice:cri-containerd:" ID));
	memset(&c, 0, sizeof(c));
	CHECK(ct_parse_bundle_config(crio, strlen(crio), CT_CRIO, &c, cg, sizeof(cg)));
	CHECK(!strcmp(c.ns, "kube-system") && !strcmp(c.pod, "dns-7") &&
	      !strcmp(c.name, "coredns") && cg[0] == '\0');
	/* each runtime's own keys only: CRI-O's keys in containerd's bundle
	 * (or the reverse) name nothing */
	memset(&c, 0, sizeof(c));
	CHECK(!ct_parse_bundle_config(crio, strlen(crio), CT_CONTAINERD, &c, NULL, 0) && !c.flags);
	CHECK(!ct_parse_bundle_config(containerd, strlen(containerd), CT_CRIO, &c, NULL, 0) &&
	      !c.flags);
	CHECK(!ct_parse_bundle_config(crio, strlen(crio), CT_DOCKER, &c, NULL, 0) && !c.flags);
	/* no annotations, broken or hostile JSON: no pod */
	CHECK(!ct_parse_bundle_config("{\"annotations\":{}}", 18, CT_CRIO, &c, NULL, 0) &&
	      !c.flags);
	CHECK(!ct_parse_bundle_config("{\"annotations\":", 15, CT_CRIO, &c, cg, sizeof(cg)) &&
	      !c.flags && cg[0] == '\0');
	CHECK(!ct_parse_bundle_config("[1,2,3]", 7, CT_CRIO, &c, NULL, 0) && !c.flags);
	/* the agent's way: the same answers from a confined child */
	memset(&c, 0, sizeof(c));
	CHECK(ct_parse_bundle_confined(containerd, strlen(containerd), CT_CONTAINERD, &c, cg,
				       sizeof(cg)) == 1);
	CHECK(!strcmp(c.ns, "shop") && !strcmp(c.pod, "web-0") && !strcmp(c.name, "app") &&
	      !strcmp(c.pod_uid, UID) && (c.flags & FT_CT_ANNOTATED));
	CHECK(!strcmp(cg, "kubepods-burstable-pod" UID_ ".slice:cri-containerd:" ID));
	memset(&c, 0, sizeof(c));
	CHECK(ct_parse_bundle_confined(crio, strlen(crio), CT_CONTAINERD, &c, NULL, 0) == 0 &&
	      !c.flags);
	{
		/* a document that needs more than the child's arena: no pod,
		 * and the agent is untouched */
		size_t n = 1u << 20;
		char *big = malloc(n);

		CHECK(big != NULL);
		if (big) {
			big[0] = '[';
			for (size_t i = 1; i + 2 < n; i += 2)
				memcpy(big + i, "1,", 2);
			memcpy(big + n - 2, "1]", 2);
			memset(&c, 0, sizeof(c));
			CHECK(ct_parse_bundle_confined(big, n, CT_CRIO, &c, NULL, 0) <= 0 &&
			      !c.flags);
			free(big);
		}
	}
	CHECK(!ct_parse_bundle_config("{\"annotations\":{\"io.kubernetes.pod.name\":7}}", 44,
				      CT_CRIO, &c, NULL, 0) &&
	      !c.flags);
	/* a pod name longer than the record's field is cut, still terminated */
	snprintf(longname, sizeof(longname),
		 "{\"annotations\":{\"io.kubernetes.pod.name\":\"%0500d\"}}", 7);
	memset(&c, 0, sizeof(c));
	CHECK(ct_parse_bundle_config(longname, strlen(longname), CT_CRIO, &c, NULL, 0));
	CHECK(strlen(c.pod) == sizeof(c.pod) - 1 && c.ns[0] == '\0');
}
#endif

/* The cgroup a bundle's cgroupsPath makes: what a process's cgroup must
 * be for the bundle's pod to be believed. */
/* Each form of a container's label, a pod's and a bare runtime's. */
static void test_container_label_forms(void)
{
	struct ft_container c;
	char buf[256];

	memset(&c, 0, sizeof(c));
	ct_label(&c, CT_LABEL_FULL, buf, sizeof(buf));
	CHECK(buf[0] == '\0'); /* no container */
	ct_label(NULL, CT_LABEL_POD, buf, sizeof(buf));
	CHECK(buf[0] == '\0');
	c.runtime = CT_CONTAINERD;
	snprintf(c.id, sizeof(c.id), "0123456789abcdef0123");
	ct_label(&c, CT_LABEL_POD, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0123456789ab"));
	ct_label(&c, CT_LABEL_FULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "container 0123456789ab"));
	c.flags |= FT_CT_ANNOTATED;
	snprintf(c.ns, sizeof(c.ns), "shop");
	snprintf(c.pod, sizeof(c.pod), "web-0");
	snprintf(c.name, sizeof(c.name), "app");
	ct_label(&c, CT_LABEL_POD, buf, sizeof(buf));
	CHECK(!strcmp(buf, "shop/web-0"));
	ct_label(&c, CT_LABEL_FULL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "shop/web-0/app"));
	ct_label(&c, CT_LABEL_PROSE, buf, sizeof(buf));
	CHECK(!strcmp(buf, "pod shop/web-0, container app"));
	ct_label(&c, CT_LABEL_PROSE, buf, 5); /* cut, terminated */
	CHECK(!strcmp(buf, "pod "));
}

static void test_container_cgroup_of_bundle(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "kubepods-burstable-pod" UID_ ".slice:cri-containerd:" ID,
		  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		  ".slice/cri-containerd-" ID ".scope" },
		{ "kubepods-pod" UID_ ".slice:crio:" ID,
		  "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope" },
		{ "machine.slice:libpod:" ID, "/machine.slice/libpod-" ID ".scope" },
		{ "-.slice:docker:" ID, "/docker-" ID ".scope" },
		{ "/kubepods/burstable/pod" UID "/" ID, "/kubepods/burstable/pod" UID "/" ID },
		{ "kubepods.slice/x", "/kubepods.slice/x" },
		{ "", NULL },
		{ "a.slice:b", NULL },
		{ "a.slice:b:c:d", NULL },
		{ "notaslice:b:c", NULL },
		{ ":b:c", NULL },
		{ "a/b.slice:c:d", NULL },
	};
	char out[512], small[20];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = ct_cgroup_of_bundle(cases[i].in, out, sizeof(out));

		CHECK(ok == (cases[i].out != NULL));
		if (ok && cases[i].out && strcmp(out, cases[i].out)) {
			fprintf(stderr, "  %s -> %s\n", cases[i].in, out);
			CHECK(0);
		}
	}
	/* too long for the buffer: refused, never cut */
	CHECK(!ct_cgroup_of_bundle(cases[0].in, small, sizeof(small)));
	CHECK(!ct_cgroup_of_bundle(cases[4].in, small, sizeof(small)));
}

/* /proc/<pid>/cgroup paths seen from a pod's cgroup namespace, mapped to
 * the host's hierarchy */
static void test_container_ns_paths(void)
{
	static const struct {
		const char *root, *path, *out;
	} cases[] = {
		{ "", "/", "/" },
		{ "", "/system.slice/x.service", "/system.slice/x.service" },
		{ "/kubepods.slice/pod1.slice/agent.scope", "/",
		  "/kubepods.slice/pod1.slice/agent.scope" },
		{ "/kubepods.slice/pod1.slice/agent.scope", "/../../pod2.slice/c.scope",
		  "/kubepods.slice/pod2.slice/c.scope" },
		{ "/kubepods.slice/pod1.slice/agent.scope", "/../../..", "/" },
		{ "/kubepods.slice/pod1.slice/agent.scope", "/../../../..", NULL },
		{ "/a", "/./b/../c", "/a/c" },
		{ "/a", "/../..", NULL },
		{ "", "/..", NULL },
	};
	char out[128], tiny[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = ct_join_cgroup_path(cases[i].root, cases[i].path, out, sizeof(out));

		CHECK(ok == (cases[i].out != NULL));
		CHECK(!ok || !strcmp(out, cases[i].out));
	}
	CHECK(!ct_join_cgroup_path("/abc", "/defgh", tiny, sizeof(tiny)));
}

/* --- host limits read on the node's cgroupfs (--host-root) -------------- */

#ifndef FT_CORE_ONLY
/*
 * A node root in a temporary directory, as a pod sees it under --host-root:
 * its cgroup2 mount at ROOT/sys/fs/cgroup, forktrace's cgroup namespace
 * rooted at ns_root there.  The process read is this one (its
 * /proc/self/cgroup line, whatever it is, joined to ns_root as
 * /proc/<pid>/cgroup paths are): own is that cgroup's path on the node.
 */
struct fake_node {
	char root[64];
	char own[1024];
	struct ct_node n;
};

static bool own_cgroup2_path(void *ctx, const char *ctrl, const char *path)
{
	if (ctrl[0])
		return false;
	snprintf(ctx, 1024, "%s", path);
	return true;
}

static int fake_node_init(struct fake_node *f, const char *ns_root)
{
	char seen[1024] = "";

	memset(f, 0, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/forktrace-unit-node-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->n.host_root, sizeof(f->n.host_root), "%s", f->root);
	snprintf(f->n.cgroup2, sizeof(f->n.cgroup2), "%s/sys/fs/cgroup", f->root);
	snprintf(f->n.ns_root, sizeof(f->n.ns_root), "%s", ns_root);
	if (!procfs_cgroups((uint32_t)getpid(), own_cgroup2_path, seen) ||
	    !ct_join_cgroup_path(ns_root, seen, f->own, sizeof(f->own)))
		return -1;
	return 0;
}

/* the directory of the cgroup at path (from the mount's root), made with
 * every directory above it */
static int fake_cgroup_dir(const struct fake_node *f, const char *path, char *dir, size_t len)
{
	size_t at = strlen(f->root);

	if ((size_t)snprintf(dir, len, "%s/sys/fs/cgroup%s", f->root, path) >= len)
		return -1;
	for (size_t i = at + 1;; i++) {
		char c = dir[i];

		if (c && c != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -1;
		dir[i] = c;
		if (!c)
			return 0;
	}
}

static int fake_cgroup_file(const struct fake_node *f, const char *path, const char *name,
			    const char *text)
{
	char dir[1200], file[1300];
	FILE *out;
	int ok;

	if (fake_cgroup_dir(f, path, dir, sizeof(dir)) ||
	    (size_t)snprintf(file, sizeof(file), "%s/%s", dir, name) >= sizeof(file))
		return -1;
	out = fopen(file, "we");
	if (!out)
		return -1;
	ok = fputs(text, out) >= 0;
	return fclose(out) == 0 && ok ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void fake_node_remove(const struct fake_node *f)
{
	if (f->root[0])
		CHECK(nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

/* the pids.max limits_read finds for this process on the node, or NULL */
static const struct host_limit *own_pids_max(const struct fake_node *f, struct host_limit *lim)
{
	int n = limits_read(&f->n, (uint32_t)getpid(), 0, 0, lim);

	for (int i = 0; i < n; i++)
		if (lim[i].kind == FT_LIMIT_PIDS_MAX)
			return &lim[i];
	return NULL;
}
#endif

#define AGENT_POD "/kubepods.slice/kubepods-pod1.slice"
#define AGENT_NS  AGENT_POD "/cri-containerd-agent.scope"

#ifndef FT_CORE_ONLY
/*
 * In a pod, the nearest pids.max is the node's: read under --host-root,
 * at the path /proc/<pid>/cgroup gives joined to the agent's namespace
 * root, and at every level above it, outside the namespace too (kubelet's
 * pod limit).  The host's own /sys/fs/cgroup is not what is read.
 */
static void test_hostlimits_pids_max_under_host_root(void)
{
	struct host_limit lim[LIMITS_MAX];
	const struct host_limit *pm;
	struct fake_node f;

	CHECK(fake_node_init(&f, AGENT_NS) == 0);
	CHECK(!strncmp(f.own, AGENT_NS, strlen(AGENT_NS)));
	/* the process's own cgroup: room for 400 more; the pod's: 10 */
	CHECK(fake_cgroup_file(&f, f.own, "pids.max", "500\n") == 0);
	CHECK(fake_cgroup_file(&f, f.own, "pids.current", "100\n") == 0);
	CHECK(fake_cgroup_file(&f, AGENT_POD, "pids.max", "1000\n") == 0);
	CHECK(fake_cgroup_file(&f, AGENT_POD, "pids.current", "990\n") == 0);
	pm = own_pids_max(&f, lim);
	CHECK(pm && pm->limit == 1000 && pm->used == 990);

	/* the pod's limit gone: the process's own */
	CHECK(fake_cgroup_file(&f, AGENT_POD, "pids.max", "max\n") == 0);
	pm = own_pids_max(&f, lim);
	CHECK(pm && pm->limit == 500 && pm->used == 100);

	/* no cgroup2 mount on the node: no pids.max, and no v1 hierarchy
	 * read from a namespace whose v1 root is not known */
	f.n.cgroup2[0] = '\0';
	CHECK(fake_cgroup_file(&f, "/pids", "pids.max", "7\n") == 0);
	CHECK(fake_cgroup_file(&f, "/pids", "pids.current", "1\n") == 0);
	CHECK(own_pids_max(&f, lim) == NULL);
	fake_node_remove(&f);

	/* in the node's own cgroup namespace (the systemd unit with
	 * --host-root): the path as /proc shows it */
	CHECK(fake_node_init(&f, "") == 0);
	CHECK(fake_cgroup_file(&f, f.own, "pids.max", "300\n") == 0);
	CHECK(fake_cgroup_file(&f, f.own, "pids.current", "299\n") == 0);
	pm = own_pids_max(&f, lim);
	CHECK(pm && pm->limit == 300 && pm->used == 299);
	fake_node_remove(&f);
}

/*
 * forks_refused's cross-check: pids.events.local (else pids.events) of the
 * process's own cgroup on the node, read under --host-root through the
 * agent's namespace root; a level above is not the process's count.
 */
static void test_hostlimits_pids_events_under_host_root(void)
{
	uint64_t refused = 0;
	struct fake_node f;
	char file[1600];

	CHECK(fake_node_init(&f, AGENT_NS) == 0);
	CHECK(fake_cgroup_file(&f, AGENT_POD, "pids.events", "max 99\n") == 0);
	CHECK(fake_cgroup_file(&f, f.own, "pids.events", "max 3\n") == 0);
	CHECK(fake_cgroup_file(&f, f.own, "pids.events.local", "max 7\n") == 0);
	CHECK(limits_pids_refused(&f.n, (uint32_t)getpid(), &refused) == 1 && refused == 7);

	/* before Linux 6.11: pids.events alone */
	snprintf(file, sizeof(file), "%s%s/pids.events.local", f.n.cgroup2, f.own);
	CHECK(unlink(file) == 0);
	refused = 0;
	CHECK(limits_pids_refused(&f.n, (uint32_t)getpid(), &refused) == 1 && refused == 3);

	/* the process's cgroup has neither: not its pod's count */
	snprintf(file, sizeof(file), "%s%s/pids.events", f.n.cgroup2, f.own);
	CHECK(unlink(file) == 0);
	CHECK(limits_pids_refused(&f.n, (uint32_t)getpid(), &refused) == 0);

	/* no node given: nothing read */
	CHECK(limits_pids_refused(NULL, (uint32_t)getpid(), &refused) == 0);
	fake_node_remove(&f);
}
#endif

static struct ft_container container_rec(uint64_t cgroup_id, const char *ns, const char *pod)
{
	struct ft_container c;

	memset(&c, 0, sizeof(c));
	c.h.type = FT_EV_CONTAINER;
	c.h.size = sizeof(c);
	c.h.cgroup_id = cgroup_id;
	c.flags = FT_CT_PATH | (pod ? FT_CT_ANNOTATED : 0);
	c.runtime = pod ? CT_CONTAINERD : CT_NONE;
	snprintf(c.cgroup, sizeof(c.cgroup), "/cg/%llu", (unsigned long long)cgroup_id);
	if (pod) {
		snprintf(c.id, sizeof(c.id), "%s", ID);
		snprintf(c.ns, sizeof(c.ns), "%s", ns);
		snprintf(c.pod, sizeof(c.pod), "%s", pod);
		snprintf(c.name, sizeof(c.name), "app");
	}
	return c;
}

static void test_container_cache_bounded_and_retried(void)
{
	struct ct_cache *c = ct_cache_new(4);
	struct ct_cache_stats st;
	struct ft_container rec;

	CHECK(c != NULL);
	if (!c)
		return;
	/* first sight is due once; a complete answer is never asked again */
	CHECK(ct_cache_due(c, 10, 0) && !ct_cache_due(c, 10, 1));
	CHECK(ct_cache_get(c, 10) == NULL);
	rec = container_rec(10, "shop", "web-0");
	ct_cache_put(c, &rec, 0);
	CHECK(ct_cache_get(c, 10) && !strcmp(ct_cache_get(c, 10)->pod, "web-0"));
	CHECK(!ct_cache_due(c, 10, 100 * SEC));
	/* a container without its pod yet: asked again, backing off, 4 times */
	rec = container_rec(11, NULL, NULL);
	rec.runtime = CT_CRIO;
	CHECK(ct_cache_due(c, 11, 0));
	ct_cache_put(c, &rec, 0);
	CHECK(!ct_cache_due(c, 11, SEC / 2) && ct_cache_due(c, 11, SEC));
	CHECK(!ct_cache_due(c, 11, 2 * SEC) && ct_cache_due(c, 11, 4 * SEC));
	CHECK(ct_cache_due(c, 11, 20 * SEC) && !ct_cache_due(c, 11, 100 * SEC));
	/* full: the least recently used goes, counted */
	for (uint64_t id = 20; id < 23; id++) {
		rec = container_rec(id, "ns", "p");
		ct_cache_put(c, &rec, 0);
	}
	/* 11 has no pod (yet): it goes before 10, a pod's, though 10 was
	 * last asked before 11's retries */
	CHECK(ct_cache_get(c, 11) == NULL);
	CHECK(ct_cache_get(c, 10) != NULL);
	ct_cache_get_stats(c, &st);
	CHECK(st.entries == 4 && st.capacity == 4 && st.evictions == 1);
	CHECK(ct_cache_get(c, 22) && ct_cache_get(c, 20));
	ct_cache_free(c);
}

#ifndef FT_CORE_ONLY
/* Anyone with a delegated cgroup subtree can churn short-lived cgroups
 * through the cache: a pod's attribution stays (evictions take the rest
 * first), so a pod: allow rule still spares the pod's processes after
 * 100,000 of them; with only pods left, the least recently used pod goes. */
static void test_container_cache_churn_keeps_pods(void)
{
	struct ct_cache *cache = ct_cache_new(1024);
	struct ft_container rec = container_rec(0, "shop", "web-0"), churn;
	struct ct_cache_stats st;
	struct policy_opts o;
	struct fake_act f;
	struct report_log l;
	struct synth s;
	char err[256];

	CHECK(cache != NULL);
	if (!cache)
		return;
	ct_cache_put(cache, &rec, 0);
	for (uint64_t id = 1000; id < 101000; id++) {
		CHECK(ct_cache_due(cache, id, id));
		if (id % 3 == 0) {
			ct_cache_gone(cache, id); /* removed before it was asked */
			continue;
		}
		churn = container_rec(id, NULL, NULL);
		if (id % 3 == 1)
			churn.runtime = CT_CONTAINERD; /* a container, no pod yet */
		ct_cache_put(cache, &churn, id);
	}
	CHECK(ct_cache_get(cache, 0) && !strcmp(ct_cache_get(cache, 0)->pod, "web-0"));
	ct_cache_get_stats(cache, &st);
	CHECK(st.entries == 1024 && st.evictions == 100000 - 1023);
	/* a gone cgroup is not asked again */
	CHECK(!ct_cache_due(cache, 100998, 200000 * SEC));
	synth_init(&s);
	flagged_bomb(&s, "/tmp/bomb", 40);
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	CHECK(policy_add_allow(&o, "pod:shop/web-0", err, sizeof(err)) == 0);
	run_policy_in(&s, &o, &f, &l, cache);
	CHECK(l.exempt == 1 && f.nsig == 0);
	synth_free(&s);
	/* only pods: the least recently used pod goes */
	for (uint64_t id = 1; id <= 1024; id++) {
		rec = container_rec(id, "ns", "p");
		ct_cache_put(cache, &rec, 0);
	}
	CHECK(ct_cache_get(cache, 0) == NULL && ct_cache_get(cache, 1024) != NULL);
	ct_cache_free(cache);
}

/* namespace: and pod: rules read the cgroup's attribution (synthetic
 * processes all live in cgroup 0) */
static void test_policy_pod_rules(void)
{
	struct ct_cache *cache = ct_cache_new(8);
	struct ft_container rec = container_rec(0, "shop", "web-0");
	struct policy_opts o;
	struct fake_act f;
	struct report_log l;
	struct synth s;
	char err[256];
	struct {
		const char *rule;
		bool spared;
	} cases[] = {
		{ "namespace:shop", true },   { "pod:shop/web-0", true },
		{ "pod:shop/web-1", false },  { "namespace:sho", false },
		{ "pod:shopx/web-0", false },
	};

	CHECK(cache != NULL);
	if (!cache)
		return;
	ct_cache_put(cache, &rec, 0);
	synth_init(&s);
	flagged_bomb(&s, "/tmp/bomb", 40);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		memset(&l, 0, sizeof(l));
		policy_defaults(&o);
		o.mode = POLICY_KILL;
		CHECK(policy_add_allow(&o, cases[i].rule, err, sizeof(err)) == 0);
		run_policy_in(&s, &o, &f, &l, cache);
		if (cases[i].spared)
			CHECK(l.exempt == 1 && f.nsig == 0);
		else
			CHECK(l.exempt == 0 && f.nsig == 40);
	}
	/* malformed rules */
	policy_defaults(&o);
	CHECK(policy_add_allow(&o, "pod:web-0", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "pod:/web-0", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "pod:a/b/c", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "pod:shop/", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "namespace:a/b", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "namespace:", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "namespace:kube-system ", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "namespace:Kube", err, sizeof(err)) == -1);
	CHECK(policy_add_allow(&o, "pod:shop/web-0.a", err, sizeof(err)) == 0);
	CHECK(policy_add_allow(&o, "pod:sh.op/web-0", err, sizeof(err)) == -1);
	synth_free(&s);
	ct_cache_free(cache);
}

/* A live run's container records travel in the recording: the replay's
 * events carry the pod the live run resolved. */
static void test_replay_attributes_from_container_records(void)
{
	const char *path = tmp_path("ct");
	struct ft_run_info info = { .kernel = "test" };
	struct ft_container rec = container_rec(77, "shop", "web-\"0\"");
	struct ft_writer *w = NULL;
	struct ft_reader *r = NULL;
	struct pipeline_opts po = { 0 };
	const struct output_shows shows = { 0 };
	struct pipeline *p = NULL;
	struct output *o = NULL;
	struct ft_fork fork;
	union ft_record in;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int got, n = 0;

	CHECK(ft_writer_open(path, &info, true, &w, err, sizeof(err)) == 0);
	if (!w)
		return;
	rec.h.ts_ns = SEC;
	CHECK(ft_writer_put(w, (const union ft_record *)&rec, err, sizeof(err)) == 0);
	memset(&fork, 0, sizeof(fork));
	fork.h.type = FT_EV_FORK;
	fork.h.size = sizeof(fork);
	fork.h.ts_ns = SEC + 1;
	fork.h.tgid = fork.h.tid = 500;
	fork.h.ppid = 1;
	fork.h.start_ns = SEC;
	fork.h.cgroup_id = 77;
	memcpy(fork.h.comm, "worker", 7);
	CHECK(ft_writer_put(w, (const union ft_record *)&fork, err, sizeof(err)) == 0);
	CHECK(ft_writer_close(w, err, sizeof(err)) == 0);

	po.table_capacity = 256;
	po.grace_ns = SEC;
	po.no_detect = true;
	det_config_defaults(&po.detect);
	CHECK(ft_reader_open(path, &info, &r, err, sizeof(err)) == 0);
	CHECK(pipeline_new(&po, &info, &p, err, sizeof(err)) == 0);
	if (!r || !p)
		goto out;
	CHECK((o = pipeline_add_lines(p, out, OUT_JSON, &info, &shows)) != NULL);
	while ((got = ft_reader_next(r, &in, err, sizeof(err))) > 0 && n++ < 10)
		pipeline_feed(p, &in);
	CHECK(got == 0);
	CHECK(pipeline_container(p, 77) && !strcmp(pipeline_container(p, 77)->ns, "shop"));
	fflush(out);
	CHECK(text && strstr(text, "\"event\":\"fork\"") != NULL);
	CHECK(text && strstr(text, "\"namespace\":\"shop\",\"pod\":\"web-\\\"0\\\"\","
				   "\"container\":\"app\"") != NULL);
	CHECK(text && strstr(text, "\"container_id\":\"" ID "\"") != NULL);
out:
	pipeline_free(p);
	output_free(o);
	ft_reader_close(r);
	fclose(out);
	free(text);
	unlink(path);
}
#endif

/* --- metrics: the exposition text --------------------------------------- */

#ifndef FT_CORE_ONLY
static void test_metrics_render(void)
{
	struct metrics_sample *s = calloc(1, sizeof(*s));
	struct det_verdict v;
	char *buf = malloc(65536);
	size_t n;

	CHECK(s && buf);
	if (!s || !buf)
		goto out;
	s->kernel = "6.1.0-test";
	s->tot.forks = 12345;
	s->tot.lost_by_type[FT_EV_EXEC] = 7;
	s->table.capacity = 65536;
	s->table.live = 900;
	memset(&v, 0, sizeof(v));
	v.kind = DET_ALERT;
	v.pattern = DET_FORK_BOMB;
	v.root_start_ns = 10 * SEC;
	v.ts_ns = 10 * SEC + SEC / 5; /* 0.2 s: the 0.25 bucket */
	metrics_count_verdict(&s->counts, &v);
	v.kind = DET_ALERT_UPDATE; /* updates are no new alert */
	metrics_count_verdict(&s->counts, &v);
	v.kind = DET_ALERT;
	v.pattern = DET_RESTART_LOOP; /* counted, no latency */
	metrics_count_verdict(&s->counts, &v);
	s->counts.actions[MA_KILL] = 2;
	s->ntrees = 1;
	s->trees[0].root = 4242;
	snprintf(s->trees[0].comm, sizeof(s->trees[0].comm), "b\"o\\mb");
	snprintf(s->trees[0].ns, sizeof(s->trees[0].ns), "shop");
	snprintf(s->trees[0].pod, sizeof(s->trees[0].pod), "web-0");
	s->trees[0].live = 512;
	s->trees[0].flagged = true;
	/* a name that is not UTF-8 must not spoil the scrape; one that is stays */
	s->ntrees = 2;
	s->trees[1].root = 7;
	snprintf(s->trees[1].comm, sizeof(s->trees[1].comm), "a\xff\xc3\xa9\xe2");
	n = metrics_render(s, buf, 65536);
	CHECK(strstr(buf, "root_pid=\"7\",comm=\"a\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\"") != NULL);
	CHECK(n > 0 && n < 65536 && buf[n] == '\0');
	CHECK(strstr(buf, "forktrace_events_total{type=\"fork\"} 12345\n") != NULL);
	CHECK(strstr(buf, "forktrace_records_lost_total{type=\"exec\"} 7\n") != NULL);
	CHECK(strstr(buf, "forktrace_live_processes 900\n") != NULL);
	CHECK(
	    strstr(buf, "forktrace_alerts_total{pattern=\"fork_bomb\",severity=\"critical\"} 1\n"));
	CHECK(strstr(buf,
		     "forktrace_alerts_total{pattern=\"restart_loop\",severity=\"warning\"} 1\n"));
	CHECK(strstr(buf, "forktrace_actions_total{kind=\"kill\"} 2\n") != NULL);
	CHECK(strstr(buf, "forktrace_detection_latency_seconds_bucket{le=\"0.1\"} 0\n") != NULL);
	CHECK(strstr(buf, "forktrace_detection_latency_seconds_bucket{le=\"0.25\"} 1\n") != NULL);
	CHECK(strstr(buf, "forktrace_detection_latency_seconds_bucket{le=\"+Inf\"} 1\n") != NULL);
	CHECK(strstr(buf, "forktrace_detection_latency_seconds_count 1\n") != NULL);
	CHECK(strstr(buf, "forktrace_tree_live_tasks{rank=\"1\",root_pid=\"4242\","
			  "comm=\"b\\\"o\\\\mb\",namespace=\"shop\",pod=\"web-0\","
			  "flagged=\"true\"} 512\n") != NULL);
	CHECK(strstr(buf, "# TYPE forktrace_detection_latency_seconds histogram\n") != NULL);
	/* SIGHUP outcomes: a failed kernel update says so until one succeeds;
	 * a bad config between them changes nothing the kernel holds */
	CHECK(strstr(buf, "forktrace_kernel_allow_rules_stale 0\n") != NULL);
	metrics_count_reload(&s->counts, MR_KERNEL_RULES_FAILED);
	metrics_count_reload(&s->counts, MR_BAD_CONFIG);
	metrics_render(s, buf, 65536);
	CHECK(strstr(buf, "forktrace_kernel_allow_rules_stale 1\n") != NULL);
	CHECK(strstr(buf, "forktrace_settings_reloads_total{result=\"bad_config\"} 1\n") != NULL);
	CHECK(strstr(buf, "forktrace_settings_reloads_total{result=\"kernel_rules_failed\"} 1\n"));
	metrics_count_reload(&s->counts, MR_APPLIED);
	metrics_count_reload(&s->counts, (enum metrics_reload)METRICS_RELOAD_KINDS); /* ignored */
	metrics_render(s, buf, 65536);
	CHECK(strstr(buf, "forktrace_kernel_allow_rules_stale 0\n") != NULL);
	CHECK(strstr(buf, "forktrace_settings_reloads_total{result=\"applied\"} 1\n") != NULL);
	/* a small buffer is filled and terminated, never overrun */
	buf[100] = 'X';
	CHECK(metrics_render(s, buf, 100) <= 100 && memchr(buf, '\0', 100) && buf[100] == 'X');
out:
	free(s);
	free(buf);
}

static void test_topview_filter(void)
{
	struct topview_row_facts f = { "python3", "python3 worker.py --n 4", "shop/web-0", 1000 };
	struct topview_row_facts bare = { "make", "make -j8", "", 0 };

	CHECK(topview_match("", &f) && topview_match(NULL, &f));
	CHECK(topview_match("comm:py", &f) && !topview_match("comm:worker", &f));
	CHECK(topview_match("pod:shop/web-0", &f) && topview_match("pod:web", &f));
	CHECK(!topview_match("pod:shop", &bare) && !topview_match("pod:", &bare));
	CHECK(topview_match("uid:1000", &f) && !topview_match("uid:100", &f));
	CHECK(!topview_match("uid:", &f) && !topview_match("uid:10x", &f));
	CHECK(topview_match("worker", &f) && topview_match("shop", &f));
	CHECK(topview_match("-j8", &bare) && !topview_match("shop", &bare));
}

static void test_report_helpers(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(report_tick_step(100, 6) == 20);
	CHECK(report_tick_step(84, 6) == 20);
	CHECK(report_tick_step(12, 10) == 2);
	CHECK(report_tick_step(1000, 5) == 200);
	CHECK(fabs(report_tick_step(0.5, 10) - 0.05) < 1e-12);
	CHECK(report_tick_step(0, 6) == 1 && report_tick_step(10, 0) == 1);
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	if (!f)
		return;
	report_escape(f, "<a&\"'>", 99);
	report_escape(f, "|\xff|\x01|\xc3\xa9|", 99); /* bad byte, control, then é */
	report_escape(f, "cut-here", 3);
	fclose(f);
	CHECK(text && !strcmp(text, "&lt;a&amp;&quot;&#39;&gt;|\xef\xbf\xbd||\xc3\xa9|cut"));
	free(text);
}

/*
 * The live view's s/k/c on a tree no verdict flagged: the detector gives
 * it an alert that says who asked, the policy acts whatever the mode,
 * spares what the rules spare, and c continues only what is stopped.
 */
static void test_operator_flag_stop_and_resume(void)
{
	struct fake_act f = { .with_state = true };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t root, kids[5], id;
	int32_t slot;
	char err[256];

	synth_init(&s);
	root = synth_fork(&s, 50, 1 * SEC);
	for (int i = 0; i < 5; i++)
		kids[i] = synth_fork(&s, root, 1 * SEC + (uint64_t)i * SEC / 2);
	CHECK(count_kind(&s, DET_ALERT, 0) == 0); /* five workers: no runaway */
	slot = pt_find_live_pid(s.t, root);
	id = det_flag_tree(s.d, s.t, slot, 4 * SEC, collect, &s);
	CHECK(id >= 1 && count_kind(&s, DET_ALERT, root) == 1);
	CHECK(s.n && s.got[s.n - 1].by_operator && s.got[s.n - 1].tasks == 6);
	CHECK(s.n && !strncmp(s.got[s.n - 1].evidence, "flagged by the operator; ", 25));
	CHECK(det_flag_tree(s.d, s.t, slot, 4 * SEC, collect, &s) == id); /* once */
	CHECK(count_kind(&s, DET_ALERT, root) == 1);
	CHECK(det_flag_tree(s.d, s.t, PT_NONE, 4 * SEC, collect, &s) == 0);

	policy_defaults(&o);
	o.mode = POLICY_KILL; /* a verdict by the operator is not the policy's to act on */
	CHECK(policy_add_allow(&o, "comm:p1003", err, sizeof(err)) == 0);
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		goto out;
	policy_on_verdict(p, s.t, s.d, &s.got[s.n - 1], log_report, &l);
	CHECK(f.nsig == 0 && f.flagged_sig == 0);
	/* nothing stopped it yet: c has nothing to undo, not even a ^Z'd member */
	f.stopped[f.nstopped++] = kids[1];
	policy_resume(p, s.t, s.d, root, START(root), 4 * SEC, log_report, &l);
	CHECK(l.refused == 1 && !strcmp(l.why, "not stopped by forktrace") && f.nsig == 0);
	f.nstopped = 0;

	policy_operator(p, s.t, s.d, root, START(root), POLICY_STOP, 4 * SEC, log_report, &l);
	CHECK(f.flagged_tree == id && f.flagged_sig == SIGSTOP && f.last_sig == SIGSTOP);
	CHECK(was_signalled(&f, root) && was_signalled(&f, kids[0]) && was_signalled(&f, kids[4]));
	CHECK(!was_signalled(&f, 1003) && kids[2] == 1003 && f.nsig == 5);
	CHECK(!was_signalled(&f, 50) && l.actions == 0);
	policy_operator(p, s.t, s.d, root, START(root), POLICY_STOP, 4 * SEC, log_report, &l);
	CHECK(l.refused == 2 && !strcmp(l.why, "already being stopped") && f.nsig == 5);
	policy_tick(p, s.t, s.d, 4 * SEC + 1000, log_report, &l);
	CHECK(l.actions == 1); /* all it may stop are stopped */

	/* c: SIGCONT to what the stop froze, the spared member untouched */
	f.nsig = 0;
	f.stopped[f.nstopped++] = 1003; /* stopped by someone else: not ours */
	policy_resume(p, s.t, s.d, root, START(root), 5 * SEC, log_report, &l);
	CHECK(f.last_sig == SIGCONT && f.nsig == 5 && !was_signalled(&f, 1003));
	CHECK(f.nstopped == 1);
	f.nsig = 0;
	policy_resume(p, s.t, s.d, root, START(root), 6 * SEC, log_report, &l);
	CHECK(f.nsig == 0 && l.refused == 3); /* a second c: nothing left to undo */
	policy_resume(p, s.t, s.d, 50, START(5), 6 * SEC, log_report, &l);
	CHECK(l.refused == 4 && !strcmp(l.why, "not a flagged tree"));

	/* stop, then kill: the kill takes over; a kill is not stopped again */
	f.nstopped = 0;
	policy_operator(p, s.t, s.d, root, START(root), POLICY_STOP, 7 * SEC, log_report, &l);
	policy_operator(p, s.t, s.d, root, START(root), POLICY_KILL, 7 * SEC, log_report, &l);
	CHECK(f.flagged_sig == SIGKILL && f.last_sig == SIGKILL);
	policy_operator(p, s.t, s.d, root, START(root), POLICY_STOP, 7 * SEC, log_report, &l);
	CHECK(l.refused == 5 && !strcmp(l.why, "already being killed") && f.last_sig == SIGKILL);
	policy_resume(p, s.t, s.d, root, START(root), 7 * SEC, log_report, &l);
	CHECK(l.refused == 6 && !strcmp(l.why, "being killed"));
	policy_free(p);
out:
	synth_free(&s);
}
#endif

/* The trees the live view lists: never a launcher, a shell or a kernel thread. */
static void test_top_trees_roots(void)
{
	struct det_tree_info top[8];
	struct ft_snapshot kt = mk_snap(2, START(2), 0, 0);
	struct synth s;
	uint32_t launcher, bomb, sh, q[64], n;
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	kt.h.flags = FT_F_KTHREAD;
	det_feed(s.d, s.t, (union ft_record *)&kt, APPLY(s.t, kt), collect, &s);
	/* bash -c 'bomb & wait': a C bomb of 8 under a launcher of another program */
	launcher = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, launcher, "/bin/bash", ARGV("bash\0-c\0bomb & wait"), ts + 1000);
	bomb = synth_fork(&s, launcher, ts += 1000000);
	synth_exec(&s, bomb, "/tmp/bomb", ts + 1000);
	synth_bomb(&s, bomb, ts + 2000, 8, false);
	/* an interactive shell's shell-bomb: its forkers exit as they go */
	sh = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, sh, "/bin/bash", ARGV("-bash"), ts + 1000);
	q[tail++] = synth_fork(&s, sh, ts += 100000);
	while (tail < 12) {
		uint32_t p = q[head++];

		q[tail++] = synth_fork(&s, p, ts += 200000);
		q[tail++] = synth_fork(&s, p, ts += 200000);
		synth_exit(&s, p, ts + 1000, 0);
	}
	CHECK(count_kind(&s, DET_ALERT, 0) == 0); /* below the alert's size: suspects */
	n = det_top_trees(s.d, s.t, ts + 1000, top, 8);
	CHECK(n == 2);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(!top[i].flagged);
		CHECK(top[i].root != launcher && top[i].root != sh && top[i].root != 2 &&
		      top[i].root != 50);
	}
	CHECK(n == 2 && (top[0].root == bomb || top[1].root == bomb));
	/* the shell bomb's root: its first copy (exited), every live copy below it */
	CHECK(n == 2 && (top[0].root == q[0] || top[1].root == q[0]));
	for (uint32_t i = 0; i < n; i++)
		if (top[i].root == q[0])
			CHECK(top[i].live == (uint32_t)(tail - head));
	synth_free(&s);
}

/*
 * A redraw looks at the processes that forked lately, not at the table: a
 * storm's 3,000 exited children cost it nothing (its driver is counted
 * over its live branches, not profiled), and forkers gone quiet leave the
 * list until they fork again.  (A forker holding a tree beside a storm is
 * profiled whole, exited leaves too: the bomb here has a launcher of its
 * own.)
 */
/*
 * A chain of exited forkers of two programs in turn (each forks the next
 * link and exits; a few live processes at its end): every link forked
 * lately and none is a copy of its parent, so each would be counted and
 * profiled over the chain below it, the chain's length squared per call.
 * A call stops at its budget (a few tables' worth of visits) and says so.
 */
static void test_top_trees_budget_a_chain_of_forkers(void)
{
	struct det_tree_info top[8];
	struct det_work before, after;
	struct synth s;
	uint32_t link, tail;
	uint64_t ts = 1 * SEC, capacity;

	synth_init(&s);
	capacity = pt_get_stats(s.t)->capacity;
	link = synth_fork(&s, 50, ts);
	for (int i = 0; i < 3000; i++) {
		uint32_t next = synth_fork(&s, link, ts += 20000);

		synth_exec(&s, next, i % 2 ? "/tmp/a" : "/tmp/b", ts += 1000);
		synth_exit(&s, link, ts += 1000, 0);
		link = next;
	}
	for (int i = 0; i < 6; i++) {
		tail = synth_fork(&s, link, ts += 20000);
		synth_exec(&s, tail, "/tmp/c", ts += 1000);
	}
	det_get_work(s.d, &before);
	det_top_trees(s.d, s.t, ts + 1000, top, 8);
	det_get_work(s.d, &after);
	/* the budget, plus the one forker that crossed it (a count and two
	 * profiles of at most the table each) */
	CHECK(after.nodes + after.top_counted - before.nodes - before.top_counted <=
	      4 * capacity + 3 * capacity);
	CHECK(after.top_cut - before.top_cut == 1);
	synth_free(&s);
}

static void test_top_trees_look_at_recent_forkers(void)
{
	struct det_tree_info top[8];
	struct det_work before, after;
	struct det_config c;
	struct synth s;
	uint32_t storm, bomb, runner, n, last = 0;
	uint64_t ts = 1 * SEC, quiet;

	det_config_defaults(&c);
	synth_init(&s);
	storm = synth_fork(&s, 50, ts);
	synth_exec(&s, storm, "/tmp/storm", ts + 1000);
	for (int i = 0; i < 3000; i++) {
		last = synth_fork(&s, storm, ts += 10000);
		synth_exit(&s, last, ts + 5000, 0);
	}
	runner = synth_fork(&s, 1, ts += 1000);
	bomb = synth_fork(&s, runner, ts += 1000);
	synth_exec(&s, bomb, "/tmp/bomb", ts + 1000);
	ts = synth_bomb(&s, bomb, ts + 2000, 8, false);
	CHECK(pt_find(s.t, last, START(last)) != PT_NONE); /* the children are still there */
	det_get_work(s.d, &before);
	n = det_top_trees(s.d, s.t, ts + 1000, top, 8);
	det_get_work(s.d, &after);
	CHECK(n == 1 && top[0].root == bomb);
	/* the storm's parent, the launcher's shell, the bomb's forkers */
	CHECK(after.top_looked - before.top_looked <= 16);
	/* and profiled the bomb's 8 and its launcher, not the storm's parent
	 * with its 3,000 exited children; nor did counting visit them */
	CHECK(after.nodes - before.nodes <= 64);
	CHECK(after.top_counted - before.top_counted <= 64);
	/* three windows of quiet: nothing listed, and what was looked at
	 * leaves (a second look has nothing to look at) */
	quiet = ts + 3 * c.window_ns + 1;
	CHECK(det_top_trees(s.d, s.t, quiet, top, 8) == 0);
	det_get_work(s.d, &before);
	CHECK(det_top_trees(s.d, s.t, quiet, top, 8) == 0);
	det_get_work(s.d, &after);
	CHECK(after.top_looked - before.top_looked == 0);
	/* one fork more and the bomb's forker is back */
	synth_fork(&s, bomb, quiet + 1000);
	before = after;
	det_top_trees(s.d, s.t, quiet + 2000, top, 8);
	det_get_work(s.d, &after);
	CHECK(after.top_looked - before.top_looked == 1);
	synth_free(&s);
}

#ifndef FT_CORE_ONLY
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = calloc(1, (size_t)n + 1)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * forktrace report on a recording of a bomb whose name is hostile bytes:
 * markup, a bad UTF-8 byte, a control, a C1 control and U+FFFE.  The page
 * and the plot carry none of them raw; the JSON keeps the name, cleaned.
 */
static void test_report_hostile_names(void)
{
	static const char comm[] = "<b>&\xff\x01\xc2\x85\xef\xbf\xbe";
	const char *rec_path = tmp_path("hostile"), *html = "/tmp/ft-unit-report.html";
	const char *svg = "/tmp/ft-unit-report.svg", *js = "/tmp/ft-unit-report.json";
	struct ft_run_info info = { .kernel = "test", .host = "h<o>st" };
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	uint32_t procs[64], made = 1;
	struct ft_writer *w = NULL;
	char err[256], *text;
	json_t *doc;

	CHECK(ft_writer_open(rec_path, &info, true, &w, err, sizeof(err)) == 0);
	if (!w)
		return;
	init.h.ts_ns = SEC;
	CHECK(ft_writer_put(w, (union ft_record *)&init, err, sizeof(err)) == 0);
	procs[0] = 100;
	{
		struct ft_fork root = mk_fork(100, START(100), 1, START(1), SEC + 1000);

		memcpy(root.h.comm, comm, sizeof(comm));
		CHECK(ft_writer_put(w, (union ft_record *)&root, err, sizeof(err)) == 0);
	}
	for (uint64_t ts = SEC + 2000; made < 40;) /* every process forks once a round */
		for (uint32_t i = 0, n = made; i < n && made < 40; i++) {
			struct ft_fork f = mk_fork(100 + made, START(100 + made), procs[i],
						   START(procs[i]), ts += 500000);

			memcpy(f.h.comm, comm, sizeof(comm));
			procs[made] = 100 + made;
			made++;
			CHECK(ft_writer_put(w, (union ft_record *)&f, err, sizeof(err)) == 0);
		}
	CHECK(ft_writer_close(w, err, sizeof(err)) == 0);

	{
		char *a_html[] = { "report", (char *)rec_path, "-o", (char *)html, NULL };
		char *a_svg[] = { "report", (char *)rec_path, "-o", (char *)svg, "--format", "svg",
				  NULL };
		char *a_json[] = { "report",   (char *)rec_path, "-o", (char *)js,
				   "--format", "json",		 NULL };

		CHECK(report_main(4, a_html) == 0);
		CHECK(report_main(6, a_svg) == 0);
		CHECK(report_main(6, a_json) == 0);
	}
	text = slurp(html);
	CHECK(text && strstr(text, "fork_bomb") && strstr(text, "&lt;b&gt;&amp;\xef\xbf\xbd"));
	CHECK(text && !strstr(text, "<b>") && !strstr(text, "\x01") && !strstr(text, "\xc2\x85") &&
	      !strstr(text, "\xef\xbf\xbe") && strstr(text, "h&lt;o&gt;st"));
	free(text);
	text = slurp(svg);
	CHECK(text && strstr(text, "id=\"tree-100\"") && !strstr(text, "<b>") &&
	      !strstr(text, "\xc2\x85") && !strstr(text, "\xef\xbf\xbe"));
	free(text);
	doc = json_load_file(js, 0, NULL);
	CHECK(doc && json_array_size(json_object_get(doc, "alerts")) == 1);
	CHECK(doc && !strncmp(json_string_value(json_object_get(
				  json_array_get(json_object_get(doc, "alerts"), 0), "comm")),
			      "<b>&\xef\xbf\xbd", 7));
	CHECK(doc && !strcmp(json_string_value(json_object_get(doc, "host")), "h<o>st"));
	json_decref(doc);
	unlink(rec_path);
	unlink(html);
	unlink(svg);
	unlink(js);
}

/* A line longer than the writer holds is never half written. */
static void test_json_line_too_long(void)
{
	static char big[4096];
	char *text = NULL;
	size_t len = 0;
	struct json_line *j = malloc(sizeof(*j));
	FILE *f = open_memstream(&text, &len);

	CHECK(j && f);
	if (!j || !f)
		goto out;
	memset(big, 0x01, sizeof(big) - 1); /* each byte escapes to six */
	json_begin(j, f);
	for (int i = 0; i < 4; i++)
		json_strn(j, "s", big, sizeof(big) - 1);
	json_end(j);
	json_begin(j, f); /* the next line is whole again */
	json_u64(j, "n", 7);
	json_end(j);
	fflush(f);
	CHECK(text && !strcmp(text, "{\"event\":\"error\",\"error\":\"line too long\"}\n"
				    "{\"n\":7}\n"));
out:
	if (f)
		fclose(f);
	free(text);
	free(j);
}

struct seen_reports {
	int n, alerts;
	struct policy_outcome last;
	char why[160], evidence[512];
};

static void keep_verdict(void *ctx, const struct det_verdict *v, uint64_t cgroup)
{
	struct seen_reports *s = ctx;

	s->alerts += v->kind == DET_ALERT && v->by_operator;
	snprintf(s->evidence, sizeof(s->evidence), "%s", v->evidence);
}

static void keep_report(void *ctx, const struct policy_outcome *r)
{
	struct seen_reports *s = ctx;

	s->n++;
	s->last = *r;
	snprintf(s->why, sizeof(s->why), "%s", r->why ? r->why : "");
}

/* A recording's policy record comes back as the report the live run made. */
static void test_replay_reports_recorded_actions(void)
{
	struct ft_run_info info = { .kernel = "test" };
	struct ft_policy rec = { .h = { .type = FT_EV_POLICY, .size = sizeof(rec) } };
	struct seen_reports seen = { 0 };
	struct observer ob = { .policy = keep_report, .verdict = keep_verdict, .ctx = &seen };
	const struct output_shows shows = { 0 };
	struct output *o = NULL;
	FILE *f = NULL;
	struct ft_snapshot running = mk_snap(4242, START(4242), 1, 0);
	struct ft_policy flag = { .h = { .type = FT_EV_POLICY, .size = sizeof(flag) } };
	struct pipeline_opts po = { 0 };
	struct pipeline *p = NULL;
	char err[256], *text = NULL;
	size_t len = 0;

	rec.h.ts_ns = 2 * SEC;
	rec.h.tgid = 4242;
	rec.h.start_ns = START(4242);
	memcpy(rec.h.comm, "bomb", 5);
	rec.kind = FT_POL_ACTION;
	rec.flags = FT_POL_COMPLETE | FT_POL_OPERATOR;
	rec.tree = 3;
	rec.sig = SIGSTOP;
	rec.signalled = 12;
	rec.elapsed_ns = 7500000;
	snprintf(rec.why, sizeof(rec.why), "resume: kill -CONT");
	f = open_memstream(&text, &len);
	po.table_capacity = 256;
	po.grace_ns = SEC;
	det_config_defaults(&po.detect);
	CHECK(f && pipeline_new(&po, &info, &p, err, sizeof(err)) == 0);
	if (!p)
		goto out;
	/* the lines first, as main.c adds them */
	CHECK((o = pipeline_add_lines(p, f, OUT_JSON, &info, &shows)) != NULL);
	CHECK(pipeline_observe(p, &ob) == 0);
	/* the operator's flag replays as the live run's alert */
	running.h.ts_ns = SEC;
	flag.h.ts_ns = SEC + 1;
	flag.h.tgid = 4242;
	flag.h.start_ns = START(4242);
	flag.kind = FT_POL_FLAG;
	CHECK(pipeline_feed(p, (const union ft_record *)&running) == 0);
	CHECK(pipeline_feed(p, (const union ft_record *)&flag) == 0);
	CHECK(seen.alerts == 1 && seen.n == 0);
	CHECK(!strncmp(seen.evidence, "flagged by the operator", 23));
	CHECK(pipeline_feed(p, (const union ft_record *)&rec) == 0);
	CHECK(seen.n == 1 && seen.last.kind == OUTCOME_ACTION && seen.last.root == 4242);
	CHECK(seen.last.root_start_ns == START(4242) && seen.last.tree == 3);
	CHECK(!strcmp(seen.last.action, "stop") && seen.last.by_operator && seen.last.complete);
	CHECK(seen.last.signalled == 12 && fabs(seen.last.ms - 7.5) < 1e-9);
	CHECK(!strcmp(seen.why, "resume: kill -CONT"));
	fflush(f);
	CHECK(text && strstr(text, "\"event\":\"action\"") && strstr(text, "\"operator\":true"));
	CHECK(pipeline_act(p, 4242, START(4242), PIPELINE_KILL, 3 * SEC, err, sizeof(err)) == -1);
	CHECK(!strcmp(err, "actions need a live run"));
out:
	pipeline_free(p);
	output_free(o);
	if (f)
		fclose(f);
	free(text);
}
#endif


/* --- containment you can leave on (the action's life, identity, roots) --- */

#ifndef FT_CORE_ONLY
static void test_action_next_rules(void)
{
	struct action_obs kill = { .live = 3 }, stop = { .stop = true, .live = 3 };

	/* signalling: a kill ends when nobody is left, a stop when all are T */
	CHECK(action_next(ACTION_SIGNALLING, &kill) == ACTION_SIGNALLING);
	kill.live = 0;
	CHECK(action_next(ACTION_SIGNALLING, &kill) == ACTION_EMPTIED);
	stop.stopped = 3;
	CHECK(action_next(ACTION_SIGNALLING, &stop) == ACTION_HELD);
	stop.stopped = 2;
	CHECK(action_next(ACTION_SIGNALLING, &stop) == ACTION_SIGNALLING);
	stop.past_deadline = true;
	CHECK(action_next(ACTION_SIGNALLING, &stop) == ACTION_GAVE_UP);
	/* held: continued from outside, stopped again; emptied ends it */
	stop.past_deadline = false;
	CHECK(action_next(ACTION_HELD, &stop) == ACTION_SIGNALLING);
	stop.stopped = 3;
	CHECK(action_next(ACTION_HELD, &stop) == ACTION_HELD);
	stop.live = stop.stopped = 0;
	CHECK(action_next(ACTION_HELD, &stop) == ACTION_EMPTIED);
	/* gave up: re-armed when the tree grows, never ended while it lives */
	kill = (struct action_obs){ .live = 5, .past_deadline = true };
	CHECK(action_next(ACTION_GAVE_UP, &kill) == ACTION_GAVE_UP);
	kill.grew = true;
	CHECK(action_next(ACTION_GAVE_UP, &kill) == ACTION_SIGNALLING);
	kill.live = 0;
	CHECK(action_next(ACTION_GAVE_UP, &kill) == ACTION_EMPTIED);
	/* a lasting action (a spawn_storm's) is not ended by being empty */
	kill.lasting = true;
	CHECK(action_next(ACTION_GAVE_UP, &kill) == ACTION_GAVE_UP);
	CHECK(action_next(ACTION_SIGNALLING, &kill) == ACTION_SIGNALLING);
	CHECK(action_next(ACTION_HELD, &kill) == ACTION_HELD);
	kill.lasting = false;
	/* ended states stay ended, and only they clear the kernel's signal */
	for (int st = ACTION_EMPTIED; st <= ACTION_SUPERSEDED; st++) {
		CHECK(action_ended((enum action_state)st));
		CHECK(action_next((enum action_state)st, &kill) == (enum action_state)st);
	}
	CHECK(!action_ended(ACTION_HELD) && !action_ended(ACTION_GAVE_UP) &&
	      !action_ended(ACTION_SIGNALLING));
}

static void test_unit_rules_only_system_units(void)
{
	CHECK(policy_unit_in_path("/system.slice/sshd.service", "sshd.service"));
	CHECK(policy_unit_in_path("/system.slice/sshd.service/sub", "sshd.service"));
	CHECK(policy_unit_in_path("/user.slice/user-1000.slice/session-3.scope", "session-3.scope"));
	CHECK(policy_unit_in_path("/machine.slice/a.slice/kubelet.service", "kubelet.service"));
	/* a user's own systemd, or anything delegated below a unit */
	CHECK(!policy_unit_in_path("/user.slice/user-1000.slice/user@1000.service/app.slice/"
				   "sshd.service",
				   "sshd.service"));
	CHECK(!policy_unit_in_path("/user.slice/user-1000.slice/user@1000.service/"
				   "session-3.scope",
				   "session-3.scope"));
	CHECK(!policy_unit_in_path("/system.slice/docker-x.scope/sshd.service", "sshd.service"));
	CHECK(!policy_unit_in_path("/kubepods.slice/pod.slice/cri-x.scope/x.slice/sshd.service",
				   "sshd.service"));
	CHECK(!policy_unit_in_path("/", "sshd.service"));
	CHECK(!policy_unit_in_path("/system.slice/sshd.service2", "sshd.service"));
	/* from inside a cgroup namespace (the DaemonSet), outside paths climb */
	CHECK(policy_unit_in_path("/../../../system.slice/sshd.service", "sshd.service"));
	CHECK(policy_unit_in_path("/../../../../system.slice/kubelet.service", "kubelet.service"));
	CHECK(!policy_unit_in_path("/../../user.slice/user-1000.slice/user@1000.service/app.slice/"
				   "sshd.service",
				   "sshd.service"));
	CHECK(!policy_unit_in_path("/..x/sshd.service", "sshd.service"));
	/* a slice rule: everything below the slice, nothing delegated */
	CHECK(policy_unit_in_path("/user.slice/user-1000.slice/session-3.scope", "user.slice"));
	CHECK(!policy_unit_in_path("/system.slice/x.service/app.slice/y", "app.slice"));
}

static void test_choose_root_prefork_master(void)
{
	/* php-fpm: 7 idle workers, one runs away; the master respawned a
	 * worker a moment ago (forking, a new branch) */
	struct det_root_candidate fpm[] = {
		{ .alive = true, .forking = true, .live_branches = 2, .growing_branches = 1,
		  .idle_branches = 7 },
		{ .alive = true, .forking = true, .live_branches = 3, .growing_branches = 3 },
	};
	/* a C bomb's first process: every child it made has grown, none idle */
	struct det_root_candidate cbomb[] = {
		{ .alive = true, .forking = true, .live_branches = 5, .growing_branches = 4 },
		{ .alive = true, .forking = true, .live_branches = 3, .growing_branches = 3 },
	};
	/* a bomb whose root also keeps a few old children: it grows more
	 * branches than it keeps idle */
	struct det_root_candidate mixed[] = {
		{ .alive = true, .forking = true, .live_branches = 6, .growing_branches = 5,
		  .idle_branches = 2 },
		{ .alive = true, .forking = true, .live_branches = 3, .growing_branches = 3 },
	};
	/* a dead master stays the root (it launches nothing any more) */
	struct det_root_candidate dead[] = {
		{ .alive = false, .forking = true, .live_branches = 1, .growing_branches = 1,
		  .idle_branches = 3 },
		{ .alive = true, .forking = true, .live_branches = 3, .growing_branches = 3 },
	};

	/* the seed's watchdog whose first two workers hung on the inherited
	 * lock long before the third ran away: a master, to this rule */
	struct det_root_candidate seed[] = {
		{ .alive = true, .forking = true, .live_branches = 1, .growing_branches = 1,
		  .idle_branches = 2 },
		{ .alive = true, .forking = true, .live_branches = 3, .growing_branches = 2 },
	};

	CHECK(det_choose_root(fpm, 2) == 1);
	CHECK(det_choose_root(cbomb, 2) == 0);
	CHECK(det_choose_root(mixed, 2) == 0);
	CHECK(det_choose_root(dead, 2) == 0);
	CHECK(det_choose_root(seed, 2) == 1);
}
#endif

/*
 * A pre-fork master with 8 workers; the tenant crashes one worker, the
 * master respawns it, and less than a second later another worker bombs:
 * the worker is the root, never the master.
 */
/*
 * A pre-fork master runs 8 workers for age_ns, respawns the crashed worker
 * 7, and gap_ns later worker 0 bombs (every copy forks two, one per pace
 * ns) up to 120 copies.  The first runaway alert, or NULL.
 */
static const struct det_verdict *synth_prefork_bomb(struct synth *s, const char *file,
						    const char *argv, size_t argv_len,
						    uint64_t age_ns, uint64_t gap_ns,
						    uint64_t pace, uint32_t *master,
						    uint32_t *workers)
{
	uint32_t q[256];
	int head = 0, tail = 0;
	uint64_t ts = 1 * SEC;

	*master = synth_fork(s, 50, ts);
	synth_exec_argv(s, *master, file, argv, argv_len, ts + 1000);
	for (int i = 0; i < 8; i++)
		workers[i] = synth_fork(s, *master, ts += 1000000);
	ts += age_ns;
	synth_exit(s, workers[7], ts, SIGSEGV);
	workers[7] = synth_fork(s, *master, ts += 1000000);
	ts += gap_ns;
	q[tail++] = workers[0];
	while (tail < 120) {
		uint32_t p = q[head++];

		q[tail++] = synth_fork(s, p, ts += pace);
		q[tail++] = synth_fork(s, p, ts += pace);
	}
	return first_of(s, DET_FORK_BOMB) ? first_of(s, DET_FORK_BOMB)
					  : first_of(s, DET_NESTED_POOL);
}

/*
 * A young pre-fork master (8 workers, 4 s old) whose worker bombs at a
 * moderate pace (one fork per 5 to 100 ms): first looked at with about as
 * many bomb copies as old workers, the tree's median age is a worker's.
 * The workers are idle all the same: the root is the bombing worker, at
 * every pace, never the master.
 */
static void test_detect_young_prefork_master_is_not_the_root(void)
{
	static const uint64_t paces[] = { 300000, 5000000, 20000000, 50000000, 100000000 };

	for (int k = 0; k < 5; k++) {
		struct synth s;
		uint32_t master, workers[8];
		const struct det_verdict *v;

		synth_init(&s);
		v = synth_prefork_bomb(&s, "/usr/bin/python3", ARGV("python3\0t.py"), 4 * SEC,
				       200000000, paces[k], &master, workers);
		CHECK(v && v->root == workers[0]);
		CHECK(count_kind(&s, DET_ALERT, master) == 0);
		synth_free(&s);
	}
}

static void test_detect_master_respawn_then_worker_bombs(void)
{
	/* a master that forks from one thread (php-fpm), or from many (a
	 * celery or node master with a metrics thread) */
	for (uint32_t threads = 1; threads <= 4; threads += 3) {
		struct synth s;
		uint32_t master, workers[8];
		const struct det_verdict *v;

		synth_init(&s);
		s.parent_threads = threads;
		synth_prefork_bomb(&s, "/usr/sbin/php-fpm", ARGV("php-fpm\0-F"), 60 * SEC, 0,
				   300000, &master, workers);
		v = only_alert(&s);
		CHECK(v && v->root == workers[0] && v->launcher == master);
		CHECK(count_kind(&s, DET_ALERT, master) == 0);
		synth_free(&s);
	}
}

/*
 * The seed's cascade: every working copy forks a replacement every 2 s and
 * about half of them deadlock at once (alive, idle, nothing below).  The
 * stuck copies are born after the runaway began: they are no pre-fork
 * pool, and the top stays the root.
 */
static void test_detect_seed_cascade_keeps_its_root(void)
{
	struct synth s;
	uint32_t top, active[512], nactive = 1, stuck = 0, made = 0;
	uint64_t ts = 1 * SEC;
	const struct det_verdict *v = NULL;

	synth_init(&s);
	top = synth_fork(&s, 50, ts);
	synth_exec_argv(&s, top, "/usr/bin/python3", ARGV("python3\0svc.py"), ts + 1000);
	active[0] = top;
	for (int round = 0; round < 8 && !v; round++) {
		uint32_t n = nactive;

		ts += 2 * SEC;
		for (uint32_t i = 0; i < n && nactive < 512; i++) {
			uint32_t c = synth_fork(&s, active[i], ts += 1000000);

			/* every other replacement inherits the lock and hangs */
			if (++made % 2)
				stuck++;
			else
				active[nactive++] = c;
		}
		v = only_alert(&s);
	}
	CHECK(v && v->root == top);
	CHECK(stuck > 4);
	synth_free(&s);
}

/*
 * The seed's cascade when the watchdog's first workers all hang: six
 * hung children, 2 s apart, before one that works and runs away.  They
 * are a pre-fork master's idle pool to the detector, forked from one
 * thread or from many (a shared celery or node master forks from
 * threads, and a tenant can make it respawn a worker): the root is the
 * worker that runs away, never the watchdog (docs/detection.md, Known
 * limits).
 */
static void test_detect_seed_cascade_hung_first_workers(void)
{
	for (int threaded = 0; threaded < 2; threaded++) {
		struct synth s;
		uint32_t top, active[512], nactive = 1, made = 0;
		uint64_t ts = 1 * SEC;
		const struct det_verdict *v = NULL;

		synth_init(&s);
		s.parent_threads = threaded ? 3 : 1;
		top = synth_fork(&s, 50, ts);
		synth_exec_argv(&s, top, "/usr/bin/python3", ARGV("python3\0svc.py"), ts + 1000);
		for (int i = 0; i < 6; i++)
			synth_fork(&s, top, ts += 2 * SEC);
		ts += 2 * SEC;
		active[0] = synth_fork(&s, top, ts);
		for (int round = 0; round < 8 && !v; round++) {
			uint32_t n = nactive;

			ts += 2 * SEC;
			/* the watchdog goes on forking; so does every working copy */
			synth_fork(&s, top, ts);
			for (uint32_t i = 0; i < n && nactive < 512; i++) {
				uint32_t c = synth_fork(&s, active[i], ts += 1000000);

				if (++made % 2 == 0)
					active[nactive++] = c;
			}
			v = only_alert(&s);
		}
		CHECK(v && v->root == active[0]);
		synth_free(&s);
	}
}

#ifndef FT_CORE_ONLY
/* A daemon whose threads explode: the verdict's tree is the daemon and what
 * it forks from then on, never the shims and containers it ran before. */
static void test_thread_explosion_spares_the_existing_subtree(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t daemon, kids[10], late;
	uint64_t ts = 1 * SEC;
	int32_t tree_slot;

	synth_init(&s);
	daemon = synth_fork(&s, 50, ts);
	synth_exec(&s, daemon, "/usr/bin/containerd", ts + 1000);
	for (int i = 0; i < 5; i++) {
		kids[2 * i] = synth_fork(&s, daemon, ts += 1000000);
		synth_exec(&s, kids[2 * i], "/usr/bin/containerd-shim-runc-v2", ts + 1000);
		kids[2 * i + 1] = synth_fork(&s, kids[2 * i], ts += 1000000);
		synth_exec(&s, kids[2 * i + 1], "/usr/sbin/nginx", ts + 1000);
	}
	for (uint32_t n = 16; n <= 256; n *= 2) {
		struct ft_fork th = mk_fork(daemon, START(daemon), 50, START(5), ts += 10000000);

		th.h.flags |= FT_F_THREAD | FT_F_MILESTONE;
		th.h.tid = daemon + n;
		th.parent_threads = n;
		det_feed(s.d, s.t, (union ft_record *)&th, APPLY(s.t, th), collect, &s);
	}
	CHECK(s.n >= 1 && s.got[s.n - 1].pattern == DET_THREAD_EXPLOSION);
	for (int i = 0; i < 10; i++) {
		tree_slot = pt_find(s.t, kids[i], START(kids[i]));
		CHECK(det_tree_of(s.d, s.t, tree_slot) == 0);
	}
	late = synth_fork(&s, daemon, ts += 1000000);
	CHECK(det_tree_of(s.d, s.t, pt_find(s.t, late, START(late))) == s.got[s.n - 1].tree);
	policy_defaults(&o);
	memset(o.allow, 0, sizeof(o.allow)); /* no rule spares containerd here */
	o.nallow = 0;
	o.mode = POLICY_KILL;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < s.n; i++)
		policy_on_verdict(p, s.t, s.d, &s.got[i], log_report, &l);
	CHECK(was_signalled(&f, daemon) && was_signalled(&f, late) && f.nsig == 2);
	for (int i = 0; i < 10; i++)
		CHECK(!was_signalled(&f, kids[i]));
	/* and the kernel is told to leave them alone (no inherited membership) */
	CHECK(f.spared >= 10);
	policy_free(p);
	synth_free(&s);
}

/*
 * The bomb runs a binary on a FUSE mount without allow_other: root's
 * /proc/PID/exe reads fail (EACCES).  The fork and exec records carry the
 * executable's identity, so every member is decided without a read, exe:
 * rules still apply (by the kernel's identity), and the tree is signalled.
 */
static void test_policy_exe_from_the_kernel_not_proc(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct synth s;
	struct stat st;
	uint32_t root;
	char err[256];

	CHECK(stat("/proc/self/exe", &st) == 0);
	synth_init(&s);
	s.exe = (struct ft_exe_key){ .ino = 4242, .dev = 77 }; /* a file on the FUSE mount */
	root = flagged_bomb(&s, "/mnt/fuse/bomb", 40);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	f.exe_refused = true;
	run_policy(&s, &o, &f, &l);
	CHECK(was_signalled(&f, root) && f.nsig == 40 && f.exe_reads == 0 && l.undecided == 0);
	CHECK(l.actions == 0 || strcmp(l.last_state, "gave up"));
	synth_free(&s);

	/* an exe: rule names the file the records name: exempt, no reads */
	synth_init(&s);
	s.exe = (struct ft_exe_key){ .ino = st.st_ino,
				     .dev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev)) };
	root = flagged_bomb(&s, "/tmp/anything", 40);
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	CHECK(policy_add_allow(&o, "exe:/proc/self/exe", err, sizeof(err)) == 0);
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	f.exe_refused = true;
	run_policy(&s, &o, &f, &l);
	CHECK(f.nsig == 0 && l.exempt == 1 && f.exe_reads == 0);
	synth_free(&s);

	/* the same file, run in a user namespace of its own (where it could
	 * have named any file its exe_file): no exe rule spares it */
	synth_init(&s);
	s.exe = (struct ft_exe_key){ .ino = st.st_ino,
				     .dev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev)),
				     .userns = 1 };
	root = flagged_bomb(&s, "/tmp/anything", 40);
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	f.exe_refused = true;
	run_policy(&s, &o, &f, &l);
	CHECK(was_signalled(&f, root) && f.nsig == 40 && l.exempt == 0);
	synth_free(&s);
}

/*
 * Members found running at start (snapshots: no record names their
 * executable) whose /proc/PID/exe is refused: said, once each, never
 * signalled by pidfd; the action gives up but keeps the kernel armed, and
 * the tree growing again re-arms it.
 */
static void test_policy_undecided_said_and_gave_up_stays_armed(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t root, late;
	uint64_t last;

	synth_init(&s);
	root = flagged_bomb(&s, "/mnt/fuse/bomb", 40);
	last = 1 * SEC + 40 * 500000;
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	f.exe_refused = true;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < s.n; i++)
		policy_on_verdict(p, s.t, s.d, &s.got[i], log_report, &l);
	policy_tick(p, s.t, s.d, 2 * SEC, log_report, &l);
	CHECK(f.nsig == 0 && l.undecided == 40 && f.flagged_sig == SIGKILL);
	/* past give_up: gave up, said, the kernel still armed */
	policy_tick(p, s.t, s.d, 15 * SEC, log_report, &l);
	CHECK(l.actions == 1 && !strcmp(l.last_state, "gave up") && f.disarmed == 0);
	CHECK(l.undecided == 40); /* said once per member */
	/* the tree grows again: re-armed (signalling), still armed in the kernel */
	late = synth_fork(&s, root, last + 15 * SEC);
	policy_tick(p, s.t, s.d, 16 * SEC, log_report, &l);
	CHECK(!strcmp(l.last_state, "signalling") && l.states >= 1 && f.disarmed == 0);
	(void)late;
	policy_free(p);
	synth_free(&s);
}

/*
 * --stop holds the tree; a process outside it sends kill -CONT -1: the
 * tree is stopped again, and the kernel's signal is never cleared.
 */
static void test_policy_held_stop_survives_cont(void)
{
	struct fake_act f = { .with_state = true };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t root, before;

	synth_init(&s);
	root = flagged_bomb(&s, "/tmp/bomb", 40);
	policy_defaults(&o);
	o.mode = POLICY_STOP;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < s.n; i++)
		policy_on_verdict(p, s.t, s.d, &s.got[i], log_report, &l);
	policy_tick(p, s.t, s.d, 2 * SEC, log_report, &l);
	CHECK(f.nstopped == 40 && l.actions == 1 && !strcmp(l.last_state, "held"));
	/* kill -CONT -1 */
	f.nstopped = 0;
	before = f.nsig;
	policy_tick(p, s.t, s.d, 2 * SEC + 100000000ull, log_report, &l); /* not yet due */
	CHECK(f.nsig == before);
	policy_tick(p, s.t, s.d, 3 * SEC, log_report, &l); /* seen running: re-armed */
	CHECK(!strcmp(l.last_state, "signalling"));
	/* stopped again at the next look, at the recheck pace: nothing sooner
	 * (a neighbour who keeps continuing it gets one re-stop per look) */
	policy_tick(p, s.t, s.d, 3 * SEC + 1000, log_report, &l);
	CHECK(f.nsig == before);
	policy_tick(p, s.t, s.d, 3 * SEC + 300000000ull, log_report, &l);
	CHECK(f.nstopped == 40 && f.nsig == before + 40 && was_signalled(&f, root));
	policy_tick(p, s.t, s.d, 3 * SEC + 600000000ull, log_report, &l);
	CHECK(!strcmp(l.last_state, "held") && f.disarmed == 0 && f.flagged_sig == SIGSTOP);
	policy_free(p);
	synth_free(&s);
}

/*
 * A spawn_storm is acted on only toward a limit (policy_storm_due), on its
 * jobs alone: the runner, the jobs it held before and its other child are
 * never signalled, and the kernel is told of the runner alone (it bounds
 * the kernel's arming).  Empty, the action lasts: a job
 * the runner starts then is signalled at once; the action ends with the
 * detector's alert.
 */
static void test_policy_spawn_storm_spares_its_parent(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct det_verdict v;
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint64_t ts = 1 * SEC;
	uint32_t daemon, old[4], jobs[140], other = 0, late;
	const struct det_verdict *got;

	synth_init(&s);
	daemon = synth_runner(&s, 4, old, 140, jobs, 25000000, true, &other, &ts);
	got = first_of(&s, DET_SPAWN_STORM);
	CHECK(got != NULL);
	if (!got) {
		synth_free(&s);
		return;
	}
	v = *got;
	CHECK(!policy_storm_due(&v, 60 * SEC)); /* no limit read: a replay */
	v.limit_name = "pids.max";
	v.limit_seconds = 61;
	CHECK(!policy_storm_due(&v, 60 * SEC));
	policy_defaults(&o);
	o.mode = POLICY_KILL;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p) {
		synth_free(&s);
		return;
	}
	policy_on_verdict(p, s.t, s.d, &v, log_report, &l);
	CHECK(f.nsig == 0 && !f.flagged_sig);
	/* within 20 s, but room for twice as many again: a burst, not yet */
	v.limit_seconds = 20;
	v.limit_value = 1000;
	v.limit_used = 100;
	CHECK(!policy_storm_due(&v, 60 * SEC));
	v.limit_used = 700;
	CHECK(policy_storm_due(&v, 60 * SEC));
	v.per_minute = 0; /* a pace too short to measure */
	CHECK(!policy_storm_due(&v, 60 * SEC));
	v.per_minute = got->per_minute;
	policy_on_verdict(p, s.t, s.d, &v, log_report, &l);
	/* the 124 of the alert and the 16 that joined it since */
	CHECK(f.flagged_sig == SIGKILL && f.nsig == 140);
	CHECK(was_signalled(&f, jobs[0]) && was_signalled(&f, jobs[139]));
	CHECK(!was_signalled(&f, daemon) && !was_signalled(&f, old[0]) && !was_signalled(&f, other));
	CHECK(f.spared == 1); /* the runner: its old jobs and other child hold no member */
	/* all gone; the runner's next job is signalled at the next tick */
	for (uint32_t i = 0; i < 140; i++)
		synth_exit_of(&s, jobs[i], daemon, ts += 100000);
	policy_tick(p, s.t, s.d, ts, log_report, &l);
	CHECK(l.actions == 0 && f.disarmed == 0);
	late = synth_job(&s, daemon, ts += 500000000);
	policy_tick(p, s.t, s.d, ts + 2000000, log_report, &l);
	CHECK(f.nsig == 141 && was_signalled(&f, late));
	synth_exit_of(&s, late, daemon, ts += 100000);
	policy_tick(p, s.t, s.d, ts += 20 * SEC, log_report, &l); /* past give_up: no matter */
	CHECK(l.actions == 0 && f.disarmed == 0);
	/* the runner quiet for a window: the alert ends, and the action */
	synth_exit_of(&s, old[0], daemon, ts += 3 * SEC);
	for (int i = 0; i < s.n; i++)
		if (s.got[i].kind == DET_ALERT_END)
			policy_on_verdict(p, s.t, s.d, &s.got[i], log_report, &l);
	CHECK(l.actions == 1 && !strcmp(l.last_state, "emptied") && f.disarmed == 1);
	policy_free(p);
	synth_free(&s);
}

/*
 * Containment owns the kernel's tree ids: the detector's alert id is only
 * the tag its members carry.  Three trees flagged, the operator kills the
 * third: its action has kernel id 1, the kernel is armed with that id,
 * and policy_holds answers for the alert, not the kernel id.
 */
static void test_policy_owns_kernel_tree_ids(void)
{
	struct fake_act f = { 0 };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t roots[3], alerts[3];

	synth_init(&s);
	for (int i = 0; i < 3; i++) {
		char exe[32];

		snprintf(exe, sizeof(exe), "/tmp/bomb%d", i);
		roots[i] = synth_fork(&s, 50, (uint64_t)(i + 1) * SEC);
		synth_exec(&s, roots[i], exe, (uint64_t)(i + 1) * SEC + 1000);
		synth_bomb(&s, roots[i], (uint64_t)(i + 1) * SEC, 40, false);
		alerts[i] = det_alert_id(s.d, roots[i], START(roots[i]));
	}
	CHECK(alerts[0] && alerts[1] && alerts[2] && alerts[2] != 1);
	policy_defaults(&o);
	o.mode = POLICY_OBSERVE;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	policy_operator(p, s.t, s.d, roots[2], START(roots[2]), POLICY_KILL, 5 * SEC, log_report,
			&l);
	CHECK(f.flagged_tree == 1 && f.flagged_sig == SIGKILL);
	CHECK(was_signalled(&f, roots[2]) && !was_signalled(&f, roots[0]) &&
	      !was_signalled(&f, roots[1]));
	CHECK(policy_holds(p, alerts[2]) && !policy_holds(p, alerts[0]) &&
	      !policy_holds(p, alerts[1]));
	policy_free(p);
	synth_free(&s);
}

static void deliver_verdicts(struct synth *s, struct policy *p, struct report_log *l, int *done)
{
	for (; *done < s->n; (*done)++)
		policy_on_verdict(p, s->t, s->d, &s->got[*done], log_report, l);
}

/*
 * A stopped tree whose members its owner kills from outside: the alert
 * ends and its action ends with it (emptied), so the next runaway, given
 * the same alert id, is acted on and stays armed.  (Found by review: the
 * action outlived its alert, refused the next bomb and then disarmed it.)
 */
static void test_policy_action_ends_with_its_alert(void)
{
	struct fake_act f = { .with_state = true };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t a_root, a_last, b_root, b_last, b_signalled = 0;
	int done = 0;

	synth_init(&s);
	policy_defaults(&o);
	o.mode = POLICY_STOP;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	a_root = flagged_bomb(&s, "/tmp/bomb", 40);
	a_last = s.next_pid - 1;
	deliver_verdicts(&s, p, &l, &done);
	policy_tick(p, s.t, s.d, 2 * SEC, log_report, &l);
	CHECK(!strcmp(l.last_state, "held"));
	for (uint32_t pid = a_root; pid <= a_last; pid++)
		synth_exit(&s, pid, 2 * SEC + 250000000ull + pid, SIGKILL);
	deliver_verdicts(&s, p, &l, &done);
	CHECK(!strcmp(l.last_state, "emptied") && f.disarmed == 1);
	b_root = synth_fork(&s, 50, 2 * SEC + 260000000ull);
	synth_exec(&s, b_root, "/tmp/bomb2", 2 * SEC + 260001000ull);
	synth_bomb(&s, b_root, 2 * SEC + 260000000ull, 40, false);
	b_last = s.next_pid - 1;
	l.refused = 0;
	deliver_verdicts(&s, p, &l, &done);
	for (int k = 0; k < 20; k++)
		policy_tick(p, s.t, s.d, 3 * SEC + (uint64_t)k * 300000000ull, log_report, &l);
	for (uint32_t pid = b_root; pid <= b_last; pid++)
		b_signalled += was_signalled(&f, pid);
	CHECK(l.refused == 0 && b_signalled == b_last - b_root + 1);
	CHECK(f.disarmed == 1 && f.flagged_sig == SIGSTOP &&
	      policy_holds(p, det_alert_id(s.d, b_root, START(b_root))));
	policy_free(p);
	synth_free(&s);
}

/*
 * A process whose threads exploded (stopped: held) and whose child from
 * before the verdict then fork-bombs: the bomb is flagged on its own and
 * stopped.  (Review: tagging only the process had hidden its children's
 * runaways behind the flagged process.)
 */
static void test_detect_bomb_below_a_thread_explosion(void)
{
	struct fake_act f = { .with_state = true };
	struct report_log l = { 0 };
	struct policy_opts o;
	struct policy *p;
	struct synth s;
	uint32_t root, seed, q[1200];
	int head = 0, tail = 0, done = 0, bombs = 0, stopped = 0;
	uint64_t ts = 1 * SEC;

	synth_init(&s);
	policy_defaults(&o);
	o.mode = POLICY_STOP;
	p = fake_policy(&s, &o, &f);
	CHECK(p != NULL);
	if (!p)
		return;
	root = synth_fork(&s, 50, ts);
	synth_exec(&s, root, "/tmp/bomb", ts + 1000);
	seed = synth_fork(&s, root, ts += 1000000);
	for (uint32_t n = 16; n <= 256; n *= 2) {
		struct ft_fork th = mk_fork(root, START(root), 50, START(5), ts += 10000000);

		th.h.flags |= FT_F_THREAD | FT_F_MILESTONE;
		th.h.tid = root + 100000 + n;
		th.parent_threads = n;
		det_feed(s.d, s.t, (union ft_record *)&th, APPLY(s.t, th), collect, &s);
	}
	deliver_verdicts(&s, p, &l, &done);
	policy_tick(p, s.t, s.d, ts + 1000, log_report, &l);
	CHECK(fake_is_stopped(&f, root) && !fake_is_stopped(&f, seed));
	q[tail++] = seed;
	while (tail < 200) {
		uint32_t pp = q[head++];

		q[tail++] = synth_fork(&s, pp, ts += 300000);
		q[tail++] = synth_fork(&s, pp, ts += 300000);
	}
	deliver_verdicts(&s, p, &l, &done);
	policy_tick(p, s.t, s.d, ts + 1000, log_report, &l);
	for (int i = 0; i < s.n; i++)
		bombs += s.got[i].kind == DET_ALERT && s.got[i].pattern != DET_THREAD_EXPLOSION;
	for (int i = 0; i < tail; i++)
		stopped += was_signalled(&f, q[i]);
	CHECK(bombs == 1 && stopped > 0);
	policy_free(p);
	synth_free(&s);
}

/* A detector, table and policy wired as pipeline_new wires them. */
struct wired {
	struct proctable *t;
	struct detector *d;
	struct policy *p;
	struct report_log l;
	uint32_t victim_lo, victim_hi, victim_hits;
	uint32_t let_go, let_go_live_alert; /* actions that let go; of those, alerted */
};

static void wired_report(void *ctx, const struct policy_outcome *r)
{
	struct wired *w = (struct wired *)((char *)ctx - offsetof(struct wired, l));

	if (r->why && strstr(r->why, "let go")) {
		w->let_go++;
		w->let_go_live_alert += det_alert_id(w->d, r->root, r->root_start_ns) != 0;
	}
	log_report(ctx, r);
}

static void wired_verdict(void *ctx, const struct det_verdict *v)
{
	struct wired *w = ctx;

	policy_on_verdict(w->p, w->t, w->d, v, wired_report, &w->l);
}

/* the neighbour's trees read as stopped; the victim's as running */
static char wired_state(void *ctx, uint32_t pid, uint64_t start_ticks)
{
	const struct wired *w = ctx;

	return w->victim_lo && pid >= w->victim_lo ? 'S' : 'T';
}

static int wired_signal(void *ctx, uint32_t pid, uint64_t start_ticks, int sig)
{
	struct wired *w = ctx;

	w->victim_hits += pid >= w->victim_lo && pid <= w->victim_hi;
	return 0;
}

static int wired_flag(void *ctx, uint32_t tree, uint32_t sig)
{
	return 0;
}

static int wired_member(void *ctx, uint32_t tgid, uint64_t start_ticks, uint32_t tree)
{
	return 0;
}

/* a 40-process C bomb under init from *next; returns its root */
static uint32_t wired_bomb(struct wired *w, uint32_t *next, uint64_t *ts)
{
	uint32_t procs[64], made = 1, root = *next;
	struct ft_fork f0 = mk_fork(*next, START(*next), 1, START(1), *ts);

	f0.exe = (struct ft_exe_key){ .ino = 4242, .dev = 77 };
	procs[0] = (*next)++;
	det_feed(w->d, w->t, (union ft_record *)&f0, APPLY(w->t, f0), wired_verdict, w);
	while (made < 40)
		for (uint32_t i = 0, m = made; i < m && made < 40; i++) {
			struct ft_fork f =
			    mk_fork(*next, START(*next), procs[i], START(procs[i]), *ts += 500000);

			f.exe = f0.exe;
			procs[made++] = (*next)++;
			det_feed(w->d, w->t, (union ft_record *)&f, APPLY(w->t, f), wired_verdict, w);
		}
	return root;
}

/*
 * A neighbour cannot pin every alert: 1,023 trees it lets be stopped
 * (held, each left with one live process) and the next bomb on the node
 * is still flagged and stopped; the held trees' actions go on, detached
 * from their retired alerts.  (Review: held actions pinned their alerts
 * for good.)
 */
static void test_policy_held_trees_do_not_pin_the_table(void)
{
	struct wired w = { 0 };
	struct det_config c;
	struct policy_opts o;
	struct policy_ops ops = { .flag_tree = wired_flag,
				  .add_member = wired_member,
				  .signal = wired_signal,
				  .state = wired_state,
				  .ctx = &w };
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);
	struct det_drops drops;
	uint32_t pid = 1000;
	uint64_t ts = 1 * SEC;

	det_config_defaults(&c);
	w.t = pt_new(65536, 5 * SEC);
	w.d = det_new(&c, 65536);
	policy_defaults(&o);
	o.mode = POLICY_STOP;
	w.p = policy_new(&o, &ops, 65536);
	CHECK(w.t && w.d && w.p);
	if (!w.t || !w.d || !w.p)
		goto out;
	det_set_pinned(w.d, policy_holds, w.p);
	det_feed(w.d, w.t, (union ft_record *)&init, APPLY(w.t, init), wired_verdict, &w);
	for (uint32_t k = 0; k < FT_MAX_TREES - 1; k++) {
		uint32_t root = wired_bomb(&w, &pid, &ts);

		policy_tick(w.p, w.t, w.d, ts, wired_report, &w.l);
		/* the neighbour kills all but the root of its stopped tree (and
		 * one more, but in tree 500: the smallest, a decoy) */
		for (uint32_t m = root + (k == 500 ? 1 : 2); m < pid; m++) {
			struct ft_exit x = mk_exit(m, START(m), 1, ts += 1000, SIGKILL);

			det_feed(w.d, w.t, (union ft_record *)&x, APPLY(w.t, x), wired_verdict, &w);
		}
		policy_tick(w.p, w.t, w.d, ts += 300000000ull, wired_report, &w.l);
	}
	w.victim_lo = pid;
	wired_bomb(&w, &pid, &ts);
	w.victim_hi = pid - 1;
	policy_tick(w.p, w.t, w.d, ts + 1000, wired_report, &w.l);
	det_get_drops(w.d, &drops);
	CHECK(det_alert_id(w.d, w.victim_lo, START(w.victim_lo)) != 0);
	CHECK(w.victim_hits > 0 && drops.alerts == 0 && drops.retired >= 1 && w.l.refused == 0);
	/* whoever let go of its kernel id had no live alert: its tree is
	 * flagged again if it grows (a live alert never would be) */
	CHECK(w.let_go >= 1 && w.let_go_live_alert == 0);
out:
	policy_free(w.p);
	det_free(w.d);
	pt_free(w.t);
}
#endif

struct alert_count {
	uint32_t alerts;
};

static void count_alerts(void *ctx, const struct det_verdict *v)
{
	((struct alert_count *)ctx)->alerts += v->kind == DET_ALERT;
}

static bool pin_all(void *ctx, uint32_t tree)
{
	(void)ctx;
	return tree != 0;
}

/* one more 40-process bomb under init in t/d, from pid *next */
static void feed_small_bomb(struct proctable *t, struct detector *d, uint32_t *next, uint64_t *ts,
			    struct alert_count *n)
{
	uint32_t procs[64], made = 1, per = 40;
	struct ft_fork f0 = mk_fork(*next, START(*next), 1, START(1), *ts);

	procs[0] = (*next)++;
	det_feed(d, t, (union ft_record *)&f0, APPLY(t, f0), count_alerts, n);
	while (made < per)
		for (uint32_t i = 0, m = made; i < m && made < per; i++) {
			struct ft_fork f =
			    mk_fork(*next, START(*next), procs[i], START(procs[i]), *ts += 500000);

			procs[made++] = (*next)++;
			det_feed(d, t, (union ft_record *)&f, APPLY(t, f), count_alerts, n);
		}
}

/*
 * Flagged trees nobody acts on (observed, exempt) and that stay alive do
 * not silence detection: past the table's size the least recently active
 * is retired and every new runaway is flagged.  Only when every alert is
 * held by an action is a runaway not flagged, and that is counted.
 */
static void test_detect_many_live_alerts(void)
{
	const uint32_t trees = FT_MAX_TREES + 8;
	struct alert_count n = { 0 };
	struct det_config c;
	struct proctable *t;
	struct detector *d;
	struct det_drops drops;
	uint32_t pid = 1000;
	uint64_t ts = 1 * SEC;
	struct ft_snapshot init = mk_snap(1, START(1), 0, 0);

	det_config_defaults(&c);
	t = pt_new(65536, 5 * SEC);
	d = det_new(&c, 65536);
	CHECK(t && d);
	if (!t || !d)
		goto out;
	det_feed(d, t, (union ft_record *)&init, APPLY(t, init), count_alerts, &n);
	for (uint32_t k = 0; k < trees; k++) {
		feed_small_bomb(t, d, &pid, &ts, &n);
		if (k == 99)
			CHECK(n.alerts == 100); /* more than the 63 of old */
	}
	det_get_drops(d, &drops);
	CHECK(n.alerts == trees && drops.retired == trees - (FT_MAX_TREES - 1) &&
	      drops.alerts == 0);
	/* every alert held by an action: the next runaway is not flagged, counted */
	det_set_pinned(d, pin_all, NULL);
	feed_small_bomb(t, d, &pid, &ts, &n);
	det_get_drops(d, &drops);
	CHECK(n.alerts == trees && drops.alerts >= 1);
out:
	det_free(d);
	pt_free(t);
}

#ifndef FT_CORE_ONLY
/* --health-check in a child: it drops the calling thread's capabilities */
static int health_check_in_child(const char *path, uint64_t now)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		FILE *null = fopen("/dev/null", "w");

		_exit(health_check(path, now, 10000000000ull, null ? null : stderr));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_health_heartbeat_file(void)
{
	char path[] = "/tmp/ft-heartbeat-XXXXXX", buf[64];
	struct health h;
	uint64_t ns = 0, t0 = 5000000000ull;
	char err[256];
	ssize_t n;
	int fd = mkstemp(path);

	CHECK(health_parse("00000000000000000123\n", 21, &ns) == 0 && ns == 123);
	CHECK(health_parse("18446744073709551615\n", 21, &ns) == 0 && ns == UINT64_MAX);
	CHECK(health_parse("18446744073709551616\n", 21, &ns) == -1); /* overflow */
	CHECK(health_parse("", 0, &ns) == -1);
	CHECK(health_parse("\n", 1, &ns) == -1);
	CHECK(health_parse("123", 3, &ns) == -1);		       /* no newline */
	CHECK(health_parse("12a\n", 4, &ns) == -1);		       /* not digits */
	CHECK(health_parse("-1\n", 3, &ns) == -1);
	CHECK(health_parse("000000000000000000123\n", 22, &ns) == -1); /* too long */
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "junk that was there\n", 20) == 20);
	close(fd);
	/* opened: the old content is gone, and an empty file is not healthy */
	CHECK(health_open(path, &h, err, sizeof(err)) == 0);
	CHECK(health_check_in_child(path, t0) == 1);
	health_beat(&h, t0);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n == 21 && health_parse(buf, (size_t)n, &ns) == 0 && ns == t0);
	/* rewritten once a second, not on every loop */
	health_beat(&h, t0 + 500000000ull);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n == 21 && health_parse(buf, (size_t)n, &ns) == 0 && ns == t0);
	health_beat(&h, t0 + 1000000000ull);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n == 21 && health_parse(buf, (size_t)n, &ns) == 0 && ns == t0 + 1000000000ull);
	health_close(&h);
	/* fresh, at the limit, stale, from another boot */
	CHECK(health_check_in_child(path, t0 + 1000000000ull) == 0);
	CHECK(health_check_in_child(path, t0 + 11000000000ull) == 0);
	CHECK(health_check_in_child(path, t0 + 11000000001ull) == 1);
	CHECK(health_check_in_child(path, t0 + 60000000000ull) == 1);
	CHECK(health_check_in_child(path, 1000000000ull) == 1);
	/* junk, a directory, nothing */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "99999999999999999999999\n", 24) == 24);
	close(fd);
	CHECK(health_check_in_child(path, t0) == 1);
	CHECK(health_check_in_child("/tmp", t0) == 1);
	unlink(path);
	CHECK(health_check_in_child(path, t0) == 1);
}
#endif

int main(void)
{
	RUN(test_fork_exit_basic);
	RUN(test_reparenting_keeps_lineage);
	RUN(test_subtree_walk);
	RUN(test_live_in_subtree_follows_the_table);
	RUN(test_pid_reuse_is_a_new_process);
	RUN(test_exit_before_fork_and_late_snapshot);
	RUN(test_threads_counted_not_processes);
	RUN(test_gone_and_prune);
	RUN(test_dead_ancestor_of_live_tree_is_kept);
	RUN(test_eviction_at_bound);
#ifndef FT_CORE_ONLY
	RUN(test_json_escaping);
	RUN(test_procfs_stat_survives_hostile_comm);
#endif
	RUN(test_recording_roundtrip_and_damage);
#ifndef FT_CORE_ONLY
	RUN(test_pipeline_pid_scope_and_lost);
	RUN(test_pipeline_observers_in_order);
	RUN(test_pipeline_feeds_policy_outcomes_after_their_record);
#endif
	RUN(test_det_config_format_reads_back);
#ifndef FT_CORE_ONLY
	RUN(test_replay_takes_the_recorded_settings);
	RUN(test_replay_has_the_runs_host_limits);
#endif
	RUN(test_allow_records_checked_and_recorded);
	RUN(test_limits_record_applied);
	RUN(test_detect_grows_then_stops);
	RUN(test_detect_two_bombs_at_once);
	RUN(test_detect_root_exits_early);
	RUN(test_detect_make_like_tree_is_not_flagged);
	RUN(test_detect_restart_loop);
	RUN(test_detect_storm_cost_bounded);
	RUN(test_prog_identity_table);
	RUN(test_choose_root);
	RUN(test_seconds_to_limit);
	RUN(test_fork_rhythm);
	RUN(test_detect_starved_c_bomb_is_no_pool);
	RUN(test_detect_loaded_nested_pool);
	RUN(test_container_from_cgroup_path);
#ifndef FT_CORE_ONLY
	RUN(test_container_bundle_annotations);
#endif
	RUN(test_container_cgroup_of_bundle);
	RUN(test_container_label_forms);
	RUN(test_container_ns_paths);
#ifndef FT_CORE_ONLY
	RUN(test_hostlimits_pids_max_under_host_root);
	RUN(test_hostlimits_pids_events_under_host_root);
#endif
	RUN(test_container_cache_bounded_and_retried);
#ifndef FT_CORE_ONLY
	RUN(test_policy_pod_rules);
	RUN(test_replay_attributes_from_container_records);
	RUN(test_metrics_render);
#endif
	RUN(test_detect_supervisor_launches_respawn);
	RUN(test_detect_interactive_shell_is_launcher);
	RUN(test_detect_copies_through_a_shell);
	RUN(test_detect_sharded_respawn);
	RUN(test_prog_kin);
	RUN(test_detect_clones);
	RUN(test_detect_kin_bombs);
	RUN(test_detect_script_kin_keep_the_exec_bar);
	RUN(test_detect_kin_root_stays_in_the_job);
	RUN(test_detect_kin_that_work_are_quiet);
	RUN(test_detect_zombie_leak);
	RUN(test_detect_process_leak);
	RUN(test_detect_slow_pool_fill_is_no_leak);
	RUN(test_spawn_storm_rule);
	RUN(test_detect_spawn_storm);
	RUN(test_detect_forks_refused);
	RUN(test_detect_spawns_in_flight_are_no_forks);
	RUN(test_detect_refusals_are_growth_only_at_own_limit);
	RUN(test_detect_fanout_is_two_generations);
	RUN(test_detect_supervisor_before_its_workers_exec);
	RUN(test_detect_new_generation_is_looked_at_once);
	RUN(test_detect_deep_chain_keeps_its_pace);
	RUN(test_detect_deep_recursive_make_is_quiet);
	RUN(test_detect_slow_doubling);
	RUN(test_detect_prefork_master_is_not_the_root);
	RUN(test_detect_root_never_crosses_a_privilege_boundary);
	RUN(test_detect_test_suite_is_no_restart_loop);
	RUN(test_detect_own_kills_and_double_deaths);
	RUN(test_detect_thread_explosion_has_a_tree);
	RUN(test_detect_fork_while_threaded_per_tree);
#ifndef FT_CORE_ONLY
	RUN(test_policy_kills_only_the_flagged_tree);
	RUN(test_container_cache_churn_keeps_pods);
	RUN(test_policy_allow_dry_run_and_observe);
#endif
	/* policy branch: eviction, allow rules, per-process actions, output */
	RUN(test_eviction_spares_ancestors_and_pinned);
#ifndef FT_CORE_ONLY
	RUN(test_policy_exe_rules_and_allowed_root);
	RUN(test_policy_protected_root_members_signalled);
	RUN(test_policy_unreadable_exe_is_not_inherited);
	RUN(test_policy_sweep_arms_late_members);
	RUN(test_policy_all_allowed_is_one_exempt);
	RUN(test_policy_refusals_and_failures);
	RUN(test_output_action_line_and_verbose);
	RUN(test_summary_reports_kernel_failures);
#endif
	RUN(test_recording_old_versions_readable);
	/* the live view's and the report's rules, the operator's actions */
#ifndef FT_CORE_ONLY
	RUN(test_topview_filter);
	RUN(test_report_helpers);
	RUN(test_operator_flag_stop_and_resume);
#endif
	RUN(test_top_trees_roots);
	RUN(test_top_trees_look_at_recent_forkers);
	RUN(test_top_trees_budget_a_chain_of_forkers);
#ifndef FT_CORE_ONLY
	RUN(test_report_hostile_names);
	RUN(test_json_line_too_long);
	RUN(test_replay_reports_recorded_actions);
#endif
	/* containment you can leave on */
#ifndef FT_CORE_ONLY
	RUN(test_action_next_rules);
	RUN(test_unit_rules_only_system_units);
	RUN(test_choose_root_prefork_master);
#endif
	RUN(test_detect_master_respawn_then_worker_bombs);
	RUN(test_detect_young_prefork_master_is_not_the_root);
	RUN(test_detect_seed_cascade_keeps_its_root);
	RUN(test_detect_seed_cascade_hung_first_workers);
#ifndef FT_CORE_ONLY
	RUN(test_thread_explosion_spares_the_existing_subtree);
	RUN(test_policy_exe_from_the_kernel_not_proc);
	RUN(test_policy_undecided_said_and_gave_up_stays_armed);
	RUN(test_policy_held_stop_survives_cont);
#endif
	RUN(test_detect_many_live_alerts);
#ifndef FT_CORE_ONLY
	RUN(test_policy_owns_kernel_tree_ids);
	RUN(test_policy_action_ends_with_its_alert);
	RUN(test_policy_spawn_storm_spares_its_parent);
	RUN(test_detect_bomb_below_a_thread_explosion);
	RUN(test_policy_held_trees_do_not_pin_the_table);
	RUN(test_health_heartbeat_file);
#endif
	return SUMMARY();
}
