/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process table: every process forktrace knows, keyed by (tgid, start time)
 * so a reused pid is a different process.  Keeps lineage (the process that
 * forked it, kept when that parent dies) apart from the current parent
 * (which changes on reparenting).  Fixed capacity: dead entries are pruned
 * after a grace period and, under pressure, evicted oldest-first among those
 * with no children in the table and not pinned, then (none left) the exited
 * one that died first, its children handed to its parent; all counted.
 */
#ifndef FT_PROCTABLE_H
#define FT_PROCTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "forktrace.h"
#include "core/progid.h"

#define PT_NONE (-1)

enum pt_state { PT_ALIVE = 0, PT_DEAD = 1 };
enum pt_origin { PT_FROM_FORK = 0, PT_FROM_SNAPSHOT = 1, PT_FROM_OTHER = 2 };

struct pt_key {
	uint32_t tgid;
	uint64_t start_ticks;
};

struct pt_entry {
	struct pt_key key;
	uint64_t start_ns;     /* exact when known from the kernel, else ticks*10ms */
	struct pt_key lineage; /* who forked it; tgid 0 when unknown */
	uint32_t ppid_now;     /* current parent (changes on reparenting) */
	uint32_t uid;
	uint64_t cgroup_id;
	uint64_t born_ns, died_ns; /* 0 when not seen */
	uint64_t exec_ns;	   /* the last exec seen; 0 when none */
	uint32_t exit_code;	   /* wait status; valid with has_exit_code */
	uint32_t threads;	   /* live threads, when known */
	char comm[FT_COMM_LEN];
	char filename[FT_FILENAME_LEN];
	char cmdline[FT_ARGS_LEN]; /* argv joined by spaces, from the exec record */
	struct prog_id prog;	   /* what it runs: set at exec, inherited at fork */
	uint64_t cwd_ino;	   /* its working directory's inode at exec (0: unknown) */
	uint64_t cwd_changed_ns;   /* when that directory last changed before the exec, on
				    * the records' clock (0: unknown) */
	uint32_t cwd_nlink;	   /* and its link count then (2: no subdirectories) */
	uint64_t cwd_parent_ino;   /* and the directory it is in (0: unknown) */
	uint64_t command;	   /* its argv in its working directory (prog_command) */
	struct ft_exe_key exe;	   /* its executable, from the kernel's records (ino 0: unknown) */
	uint8_t state, origin;
	bool has_exit_code, exec_seen, kthread, reparented, seen;
	bool shared_vm; /* forked sharing its parent's memory: runs only to exec */
	bool pinned;	/* never evicted or pruned (pt_set_pinned) */
	bool evictable; /* on the evictable list */
	uint32_t execs; /* exec records seen: cached facts about the image go stale */

	/* links, as slot indexes (PT_NONE = none) */
	int32_t parent, first_child, next_sibling, prev_sibling;
	/* the children that are branches (alive, or holding children of
	 * their own): the subtree without its exited leaves, which a storm's
	 * driver holds by the table's capacity (pt_live_in_subtree) */
	int32_t branch_first, branch_next, branch_prev;
	bool is_branch; /* on its parent's branch list */
	int32_t hash_next, dead_prev, dead_next;
	int32_t evict_prev, evict_next;
};

struct pt_stats {
	uint64_t inserted, pruned, evicted, dropped_full, duplicate_exits, resurrect_refused;
	uint64_t evicted_ancestors; /* of evicted: exited with children in the table */
	uint32_t live, used, peak_used, capacity;
};

struct proctable;

struct proctable *pt_new(uint32_t capacity, uint64_t grace_ns);
void pt_free(struct proctable *t);

/* Apply one stream record (any type); returns the subject's slot or PT_NONE. */
int32_t pt_apply(struct proctable *t, const struct ft_header *h);

int32_t pt_find(const struct proctable *t, uint32_t tgid, uint64_t start_ns);
/* newest live entry with this tgid (for a pid given on the command line) */
int32_t pt_find_live_pid(const struct proctable *t, uint32_t tgid);
const struct pt_entry *pt_get(const struct proctable *t, int32_t slot);
bool pt_is_descendant(const struct proctable *t, int32_t slot, int32_t ancestor);
/*
 * Is slot's parent in the table the process that forked it?  Not when
 * that one was evicted and slot handed to an ancestor: what counts a
 * process's own children (piles, storms, a launcher's name) must not count
 * its grandchildren.
 */
bool pt_parent_forked(const struct proctable *t, int32_t slot);
/*
 * Pre-order walk of root's subtree (parents before children, no memory):
 * for (i = root; i != PT_NONE; i = pt_subtree_next(t, root, i, true)).
 * descend = false skips cur's descendants.
 */
int32_t pt_subtree_next(const struct proctable *t, int32_t root, int32_t cur, bool descend);
/*
 * The one count of a subtree's processes, for every stage that draws or
 * sizes one (the printed tree, the live view, the report): root's subtree
 * in pt_subtree_next's order into order[] (at most cap slots), and into
 * size[slot], for each slot listed, the processes of its own subtree
 * (itself included): live user processes only, or all the table holds.
 * order and size are the caller's (sized to the table's capacity, as
 * pt_get_stats says).  Returns how many slots were listed.
 */
uint32_t pt_subtree_sizes(const struct proctable *t, int32_t root, int32_t *order, uint32_t cap,
			  uint32_t *size, bool live_only);
/*
 * Live processes in root's subtree (itself included), counted up to limit:
 * walks only the branches, so it costs the subtree's live processes and
 * exited parents, never its exited leaves.  Adds the entries it visited
 * to *visited, if given.
 */
uint32_t pt_live_in_subtree(const struct proctable *t, int32_t root, uint32_t limit,
			    uint64_t *visited);

/* Drop dead entries older than the grace period whose children are gone. */
void pt_prune(struct proctable *t, uint64_t now_ns);

/*
 * A pinned entry is never evicted or pruned, dead or not (the detector pins
 * the roots of flagged trees so the alert keeps its anchor).  Unpin it when
 * done, or it holds its slot for the rest of the run.
 */
void pt_set_pinned(struct proctable *t, int32_t slot, bool pinned);

/* Iterate used slots (any order). */
int32_t pt_next(const struct proctable *t, int32_t after);

/* Resync support: mark seen live keys, then collect live entries not seen. */
void pt_mark_seen(struct proctable *t, int32_t slot);
int32_t pt_next_unseen_alive(struct proctable *t, int32_t after);
void pt_clear_seen(struct proctable *t);

const struct pt_stats *pt_get_stats(const struct proctable *t);

static inline uint64_t pt_ticks(uint64_t ns)
{
	return ns / FT_NS_PER_TICK;
}

#endif /* FT_PROCTABLE_H */
