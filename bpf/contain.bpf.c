// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace's kernel half of containment (--kill, --stop, --guard, the live
 * view's k and s): which processes belong to a flagged tree, whom the
 * safety rules spare, and the signal at fork.
 *
 * A BPF object of its own, beside the observation one (forktrace.bpf.c):
 * its programs run on the same tracepoints, and the loader loads and
 * attaches them only when something may have to be stopped: at start for
 * --kill, --stop and --guard (attached before the observation programs, so
 * a flagged fork is signalled before its record is written, whatever room
 * the ring has), and at the live view's first k or s (attached after them:
 * there a kernel signal's record follows the fork's).  Observing therefore
 * costs no lookup per fork and allocates none of the maps below.  Records
 * (the kernel's signals, ft_action) go into the observation object's ring,
 * whose map the loader hands this object (record.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "forktrace.h"
#include "compat.h"
#include "record.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Settings, rodata like forktrace.bpf.c's: the verifier drops what they
 * switch off.
 */
/* optional guard: more than guard_forks forks by non-root members of one
 * tree within guard_window_ns trips it (0: off) */
const volatile __u32 guard_forks = 0;
const volatile __u64 guard_window_ns = 1000000000ull;
const volatile __u32 guard_sig = 9;

#define PIDTYPE_TGID_ 1

/* kfunc from 6.13; resolved to NULL by libbpf where the kernel lacks it */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type,
				__u64 value) __ksym __weak;

/* Processes of flagged trees (user space adds them; children inherit). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ft_member_key);
	__type(value, __u32);
} members SEC(".maps");

/* What to do to each flagged tree, by tree id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FT_MAX_TREES);
	__type(key, __u32);
	__type(value, struct ft_tree_policy);
} trees SEC(".maps");

/* Never signalled, by identity: forktrace and its ancestors (start-up). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, struct ft_member_key);
	__type(value, __u8);
} protected_ids SEC(".maps");

/*
 * --allow rules (and the defaults), filled by the loader before attach and
 * rewritten when user space re-reads them (SIGHUP): maps, not rodata, so
 * that the kernel spares what user space spares from then on.  Room for
 * two sets: a re-read adds the new rules before it drops the old ones.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * FT_GUARD_MAX_RULES);
	__type(key, struct ft_exe_key);
	__type(value, __u8);
} allow_exes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * FT_GUARD_MAX_RULES);
	__type(key, __u32);
	__type(value, __u8);
} allow_uids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * FT_GUARD_MAX_RULES);
	__type(key, struct ft_cgroup_key);
	__type(value, __u8);
} allow_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * FT_GUARD_MAX_RULES);
	__type(key, struct ft_unit_key);
	__type(value, __u8);
} allow_units SEC(".maps");

/* which of the cgroup and unit rules there are (no walk, no lookup when
 * none), and on which v1 hierarchies: rewritten with the rules */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ft_rule_shape);
} rule_shape SEC(".maps");

/*
 * Guard trees: a process that execs roots a new guard tree; a child inherits
 * its parent's.  LRU: best effort by design, the guard is a backstop.
 */
struct guard_ref {
	struct ft_member_key tree; /* the guard tree's root */
	__u32 is_root;
	__u32 pad;
};

struct guard_count {
	__u64 window_start;
	__u64 last_over; /* last fork past the budget: re-arm after a quiet spell */
	__u32 forks;
	__u32 tripped;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ft_member_key);
	__type(value, struct guard_ref);
} guard_of SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ft_member_key);
	__type(value, struct guard_count);
} guard_counts SEC(".maps");

static __always_inline void member_key(struct ft_member_key *k, __u32 tgid, __u64 start_ns)
{
	k->tgid = tgid;
	k->pad = 0;
	k->start_ticks = start_ns / FT_NS_PER_TICK;
}

/* Does the NUL-terminated name (len bytes with the NUL) end in ".slice"? */
static __always_inline bool is_slice(const char *name, long len)
{
	const char sfx[] = ".slice";
	long at = len - 7; /* where ".slice" starts when it ends the name */

	if (len < 7 || len > FT_UNIT_LEN)
		return false;
	for (int k = 0; k < 6; k++)
		if (name[(at + k) & (FT_UNIT_LEN - 1)] != sfx[k])
			return false;
	return true;
}

/*
 * Is t in a cgroup (or below one) that an allow rule names, in the
 * hierarchy whose css chain starts at css?  Walks css.parent as
 * in_filter_cgroup does; each level's kernfs node gives the id (cgroup
 * rules) and the directory name (unit rules: systemd names a unit's cgroup
 * after the unit, e.g. system.slice/sshd.service).  A unit rule matches
 * only a system unit, one with nothing but slices above it, as
 * policy_unit_in_path (user/contain/allow.c) decides: below a unit is delegated
 * ground where anyone with the delegation names directories as they like
 * (a user's systemd-run --user --unit=sshd.service makes
 * user@1000.service/app.slice/sshd.service).  Walking up, each unit seen
 * replaces the verdict of the ones below it.
 */
static __always_inline bool css_chain_allowed(bool check_cgroups, bool check_units,
					      struct cgroup_subsys_state *css, __s32 subsys)
{
	struct ft_cgroup_key ck = { .subsys = subsys };
	struct ft_unit_key uk;
	bool unit_hit = false;

	for (int i = 0; i < 32 && css; i++) {
		struct kernfs_node *kn = BPF_CORE_READ(css, cgroup, kn);

		ck.id = BPF_CORE_READ(kn, id);
		if (check_cgroups && bpf_map_lookup_elem(&allow_cgroups, &ck))
			return true;
		if (check_units) {
			long len;

			__builtin_memset(&uk, 0, sizeof(uk));
			len = bpf_probe_read_kernel_str(uk.name, sizeof(uk.name),
							BPF_CORE_READ(kn, name));
			/* the root ("" or "/") leaves the verdict as it is; a
			 * slice named by a rule allows what is below it, another
			 * slice changes nothing; any other unit decides afresh */
			if (len > 1 && uk.name[0] != '/') {
				bool named = bpf_map_lookup_elem(&allow_units, &uk) != NULL;

				if (!is_slice(uk.name, len))
					unit_hit = named;
				else if (named)
					unit_hit = true;
			}
		}
		css = BPF_CORE_READ(css, parent);
	}
	/* a chain deeper than the walk: its top unseen, the verdict unsure:
	 * spare nothing on it (nested slices made on delegated ground) */
	return css ? false : unit_hit;
}

/*
 * The kernel's half of the safety rules user space applies before any
 * signal (user/contain/policy.c): never pid 1, a kernel thread, forktrace or its
 * ancestors, nor a process an allow rule matches.  Read with
 * BPF_CORE_READ throughout (slow path, both attach modes):
 *  - identity: tgid and the group leader's start_boottime, as members;
 *  - exe: mm->exe_file->f_inode, the file the process runs (what
 *    /proc/PID/exe names), its i_ino and i_sb->s_dev;
 *  - uid: cred->uid, the real uid, as the records carry;
 *  - cgroups: the cgroup2 chain from cgroups->dfl_cgrp, and the v1
 *    hierarchies cgroup rules name through cgroups->subsys[id].
 * A global function: the verifier checks it once, on its own, rather than
 * at each of the places a fork is signalled from (forker and child, for
 * the guard and for a flagged tree), its cgroup and unit walks included
 * whichever rules the shape says are there.  So it takes the task as an
 * address (every read above is a probe read), which task_address makes.
 */
__noinline int task_may_be_signalled(__u64 task_addr)
{
	struct task_struct *t = (struct task_struct *)task_addr;
	const struct ft_rule_shape *in_map;
	struct ft_rule_shape shape;
	struct ft_member_key k;
	struct ft_exe_key ek = {};
	struct css_set *cset;
	struct inode *ino;
	__u32 uid, zero = 0;

	if (BPF_CORE_READ(t, flags) & PF_KTHREAD)
		return false;
	member_key(&k, BPF_CORE_READ(t, tgid), BPF_CORE_READ(t, group_leader, start_boottime));
	if (k.tgid <= 1 || bpf_map_lookup_elem(&protected_ids, &k))
		return false;
	uid = BPF_CORE_READ(t, cred, uid.val);
	if (bpf_map_lookup_elem(&allow_uids, &uid))
		return false;
	ino = BPF_CORE_READ(t, mm, exe_file, f_inode);
	/* in a user namespace of its own a process can name its exe_file
	 * (struct ft_exe_key): exe rules spare only the initial namespace's */
	if (ino && !BPF_CORE_READ(t, cred, user_ns, level)) {
		ek.ino = BPF_CORE_READ(ino, i_ino);
		ek.dev = BPF_CORE_READ(ino, i_sb, s_dev);
		if (bpf_map_lookup_elem(&allow_exes, &ek))
			return false;
	}
	/* one copy for the whole check: a re-read may be rewriting it, and
	 * user space's order (live_set_safety) makes any mix of two
	 * successive versions look at no less than the maps' rules need */
	in_map = bpf_map_lookup_elem(&rule_shape, &zero);
	if (!in_map)
		return true;
	__builtin_memcpy(&shape, in_map, sizeof(shape));
	if (!shape.check_cgroups && !shape.check_units)
		return true;
	cset = BPF_CORE_READ(t, cgroups);
	{
		struct cgroup *dfl = BPF_CORE_READ(cset, dfl_cgrp);

		if (css_chain_allowed(shape.check_cgroups, shape.check_units, &dfl->self, -1))
			return false;
	}
	for (int i = 0; i < FT_GUARD_MAX_V1 && shape.check_cgroups; i++) {
		struct cgroup_subsys_state *css;
		__s32 id = shape.v1_subsys[i];

		if (id < 0)
			break;
		if (bpf_core_read(&css, sizeof(css), &cset->subsys[id & 63]))
			continue;
		if (css_chain_allowed(true, shape.check_units, css, id))
			return false;
	}
	return true;
}

/* a task pointer as a plain number (a typed pointer is no scalar to the
 * verifier, whatever C says): read back from the stack */
static __always_inline __u64 task_address(struct task_struct *t)
{
	__u64 addr = 0;

	bpf_probe_read_kernel(&addr, sizeof(addr), &t);
	return addr;
}

static __always_inline bool may_signal_task(struct task_struct *t)
{
	return task_may_be_signalled(task_address(t));
}

/*
 * Stop a fork where it happens: signal the forking process (current) and
 * the new child, each unless the safety rules spare it, and log both
 * results.  The tree can then grow by no more than the forks already in
 * flight.
 */
static __always_inline void signal_fork(struct task_struct *parent, struct task_struct *child,
					__u32 tree, __u32 sig, __u32 guard, const bool typed)
{
	bool sig_parent = may_signal_task(parent), sig_child = may_signal_task(child);
	struct ft_action rec, *a = &rec;
	long pret = FT_SIG_SPARED, cret = FT_SIG_SPARED;

	if (!sig_parent && !sig_child)
		return;
	if (sig_parent)
		pret = bpf_send_signal(sig);
	/* the kfunc needs a trusted task pointer: tp_btf only, 6.13+ */
	if (sig_child)
		cret = typed && bpf_send_signal_task
			   ? bpf_send_signal_task(child, sig, PIDTYPE_TGID_, 0)
			   : FT_SIG_UNAVAILABLE;
	if (pret < 0 || cret < 0)
		stat_inc(FT_STAT_SIGNAL_FAILED);
	__builtin_memset(a, 0, sizeof(*a));
	fill_header(&a->h, FT_EV_ACTION, sizeof(*a), child, typed);
	a->h.ppid = bpf_get_current_pid_tgid() >> 32;
	a->tree = tree;
	a->sig = sig;
	a->parent_ret = pret;
	a->child_ret = cret;
	a->guard = guard;
	a->pad = 0;
	/* actions are rare and urgent: wake the reader now */
	emit(a, sizeof(*a), FT_EV_ACTION, BPF_RB_FORCE_WAKEUP);
}

/* Optional in-kernel fork budget per guard tree (see guard_forks). */
static __always_inline void guard_fork(struct ft_member_key *pk, struct ft_member_key *ck,
				       struct task_struct *parent, struct task_struct *child,
				       const bool typed)
{
	struct guard_ref *pref = bpf_map_lookup_elem(&guard_of, pk), cref = {};
	struct guard_count *gc, fresh = {};
	__u64 now = bpf_ktime_get_boot_ns();

	/* a parent we never saw exec roots its own guard tree */
	cref.tree = pref ? pref->tree : *pk;
	cref.is_root = 0;
	bpf_map_update_elem(&guard_of, ck, &cref, BPF_ANY);
	/* forks by the root itself (a shell running commands) do not count:
	 * the budget is for descendants that fork in turn */
	if (!pref || pref->is_root)
		return;
	gc = bpf_map_lookup_elem(&guard_counts, &cref.tree);
	if (!gc) {
		fresh.window_start = now;
		bpf_map_update_elem(&guard_counts, &cref.tree, &fresh, BPF_NOEXIST);
		gc = bpf_map_lookup_elem(&guard_counts, &cref.tree);
		if (!gc)
			return;
	}
	/*
	 * Re-arm after two quiet windows: a tree the guard emptied, or one
	 * whose burst was legitimate (and spared), gets its budget back
	 * rather than having every later fork signalled for good.
	 *
	 * Another CPU may have stored a later time than this CPU's now (a bomb
	 * forks on every CPU at once): now - last_over would wrap to a huge
	 * value and hand the bomb a fresh budget, so a time ahead of now is
	 * no quiet spell.
	 */
	if (gc->tripped && now > gc->last_over && now - gc->last_over > 2 * guard_window_ns) {
		gc->tripped = 0;
		gc->window_start = now;
		gc->forks = 0;
	}
	if (!gc->tripped && now > gc->window_start && now - gc->window_start > guard_window_ns) {
		gc->window_start = now;
		gc->forks = 0;
	}
	/* every CPU may fork into one tree at once: an atomic add loses no
	 * fork (a plain ++ let concurrent forks past the budget); the count
	 * read back may include other CPUs' forks, which only trips sooner */
	if (!gc->tripped) {
		__sync_fetch_and_add(&gc->forks, 1);
		if (gc->forks <= guard_forks)
			return;
	}
	gc->tripped = 1;
	gc->last_over = now;
	signal_fork(parent, child, 0, guard_sig, 1, typed);
}

/* how far up member_by_ancestry looks: the verdict-to-arming race spans
 * a fork or two of each process, never a long chain */
#define FT_ARM_ANCESTRY 4

/*
 * Non-zero while some tree's signal is set (user space keeps it so,
 * live_set_tree_signal): otherwise a fork outside every tree costs one
 * members lookup, not the FT_ARM_ANCESTRY more of member_by_ancestry.
 */
volatile __u32 trees_flagged = 0;

/*
 * May t's children include processes it did not fork?  A pid namespace's
 * init (SIGNAL_UNKILLABLE) adopts every orphan of its namespace, including
 * those of processes that entered it from outside (nsenter, docker exec):
 * for it, "t is the parent" does not mean "t's lineage".  A child
 * subreaper adopts only orphans of its own descendants: lineage still.
 */
static __always_inline bool may_adopt(struct task_struct *t)
{
	return BPF_CORE_READ(t, signal, flags) & FT_SIGNAL_UNKILLABLE;
}

/* Is the tree being acted on?  Membership spreads only while it is. */
static __always_inline struct ft_tree_policy *armed_tree(__u32 tree)
{
	struct ft_tree_policy *pol = tree ? bpf_map_lookup_elem(&trees, &tree) : NULL;

	return pol && pol->sig ? pol : NULL;
}

/*
 * A parent missing from the members map may still be a member: forked by
 * one between the event that raised the verdict and the arming of its tree,
 * its fork record still in the ring, so user space could not add it.  A
 * C bomb's newest processes are exactly those, and each forks hundreds of
 * times a second until found.  A member among its nearest ancestors makes
 * it one: added here, so the fork is stopped now, not at the next sweep.
 * The walk stops at a process user space spared (tree 0: its descendants
 * are user space's to judge) and at one that adopts orphans.  Whom the
 * membership lets be signalled is still decided per process by
 * may_signal_task, as for every inherited membership.
 */
static __always_inline __u32 *member_by_ancestry(struct task_struct *parent,
						 struct ft_member_key *pk)
{
	struct task_struct *a = parent;
	struct ft_member_key ak;
	__u32 *tree;

	for (int i = 0; i < FT_ARM_ANCESTRY; i++) {
		a = BPF_CORE_READ(a, real_parent);
		if (!a || may_adopt(a))
			return NULL;
		member_key(&ak, BPF_CORE_READ(a, tgid),
			   BPF_CORE_READ(a, group_leader, start_boottime));
		if (ak.tgid <= 1)
			return NULL;
		tree = bpf_map_lookup_elem(&members, &ak);
		if (!tree)
			continue;
		if (!armed_tree(*tree))
			return NULL;
		if (bpf_map_update_elem(&members, pk, tree, BPF_NOEXIST))
			stat_inc(FT_STAT_MEMBER_FULL);
		return tree;
	}
	return NULL;
}

static __always_inline void enforce_fork(struct task_struct *parent, struct task_struct *child,
					 const bool typed)
{
	struct ft_member_key pk, ck;
	struct ft_tree_policy *pol;
	__u32 *tree;

	member_key(
	    &pk, RD(typed, parent->tgid, parent, tgid),
	    RD(typed, parent->group_leader->start_boottime, parent, group_leader, start_boottime));
	member_key(
	    &ck, RD(typed, child->tgid, child, tgid),
	    RD(typed, child->group_leader->start_boottime, child, group_leader, start_boottime));
	if (guard_forks)
		guard_fork(&pk, &ck, parent, child, typed);
	tree = bpf_map_lookup_elem(&members, &pk);
	if (!tree && trees_flagged)
		tree = member_by_ancestry(parent, &pk);
	/*
	 * Tree 0: user space spared this process, its children are its to
	 * judge; a tree whose action ended spreads nothing (its entries are
	 * being deleted, and its id may come back for another tree).
	 */
	if (!tree || !(pol = armed_tree(*tree)))
		return;
	/* membership is inherited at fork, keyed by identity: pid reuse safe */
	if (bpf_map_update_elem(&members, &ck, tree, BPF_ANY))
		stat_inc(FT_STAT_MEMBER_FULL);
	signal_fork(parent, child, *tree, pol->sig, 0, typed);
}

/* an exiting member hands its membership to at most this many children */
#define FT_ORPHANS_MAX 64

/*
 * A thread of a member exits and leaves children behind (children lists
 * are per thread).  Children user space has not armed yet (forked just
 * before the arming, or by a member the sweep killed first) would fork
 * unchecked until the next sweep finds them, and once reparented
 * (exit_notify(), after this tracepoint) no ancestry leads back to the
 * tree for member_by_ancestry: hand them the membership now.  Newest first
 * (list_add_tail() at fork), skipping zombies: a bomb's list is mostly
 * unreaped dead children, and the unarmed ones are the newest.  Not from
 * a process that adopts orphans (may_adopt): some of its children are not
 * its lineage.  A child with a membership, or spared, keeps it.
 */
static __always_inline void pass_membership(struct task_struct *p, __u32 tree)
{
	unsigned long head = (unsigned long)p + bpf_core_field_offset(struct task_struct, children);
	unsigned long sibling = bpf_core_field_offset(struct task_struct, sibling);
	unsigned long pos = (unsigned long)BPF_CORE_READ(p, children.prev);

	if (may_adopt(p))
		return;
	for (int i = 0; i < FT_ORPHANS_MAX && pos && pos != head; i++) {
		struct task_struct *c = (struct task_struct *)(pos - sibling);
		struct ft_member_key ck;

		pos = (unsigned long)BPF_CORE_READ(c, sibling.prev);
		/* not exit_state: a process whose main thread exited lives on */
		if (!BPF_CORE_READ(c, signal, live.counter))
			continue;
		member_key(&ck, BPF_CORE_READ(c, tgid),
			   BPF_CORE_READ(c, group_leader, start_boottime));
		if (!bpf_map_lookup_elem(&members, &ck) &&
		    bpf_map_update_elem(&members, &ck, &tree, BPF_NOEXIST))
			stat_inc(FT_STAT_MEMBER_FULL);
	}
}

/*
 * Enforcement at a thread's exit: hand its children the membership and,
 * when the process is gone, drop it from the map (a reused pid has another
 * start time, but the entry would hold the map's room).
 */
static __always_inline void enforce_exit(struct task_struct *p, bool group_dead, const bool typed)
{
	struct ft_member_key k;
	__u32 *tree;

	member_key(&k, RD(typed, p->tgid, p, tgid),
		   RD(typed, p->group_leader->start_boottime, p, group_leader, start_boottime));
	tree = bpf_map_lookup_elem(&members, &k);
	if (!tree)
		return;
	if (armed_tree(*tree))
		pass_membership(p, *tree);
	if (group_dead)
		bpf_map_delete_elem(&members, &k);
}

/*
 * The programs.  Each hook has a tp_btf entry and a raw_tp fallback, as in
 * forktrace.bpf.c; the loader picks the observation object's kind.
 */
static __always_inline int contain_fork(struct task_struct *parent, struct task_struct *child,
					const bool typed)
{
	/* a thread is its process's: membership and signals are per process */
	if (RD(typed, child->pid, child, pid) != RD(typed, child->tgid, child, tgid))
		return 0;
	/* --cgroup: nothing outside it is acted on, as nothing is observed */
	if (!filter_cgroup_match(child))
		return 0;
	enforce_fork(parent, child, typed);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(contain_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return contain_fork(parent, child, true);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(contain_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return contain_fork(parent, child, false);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(contain_exit_btf, struct task_struct *p)
{
	enforce_exit(p, exit_group_dead(p, ctx), true);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(contain_exit_raw, struct task_struct *p)
{
	enforce_exit(p, exit_group_dead(p, ctx), false);
	return 0;
}

/*
 * --guard only (the loader loads these only with a budget): a process that
 * execs a new program roots a guard tree of its own.
 */
static __always_inline int guard_exec(struct task_struct *p, const bool typed)
{
	struct guard_ref self = { .is_root = 1 };

	if (!filter_cgroup_match(p))
		return 0;
	member_key(&self.tree, RD(typed, p->tgid, p, tgid),
		   RD(typed, p->group_leader->start_boottime, p, group_leader, start_boottime));
	bpf_map_update_elem(&guard_of, &self.tree, &self, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(guard_exec_btf, struct task_struct *p)
{
	return guard_exec(p, true);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(guard_exec_raw, struct task_struct *p)
{
	return guard_exec(p, false);
}
