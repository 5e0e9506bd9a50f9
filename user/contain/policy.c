// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Containment's decisions: which verdicts are acted on, the actions on
 * flagged trees and their state machine (action_next), the sweeps that
 * signal every member a safety rule does not spare, and what is said of
 * it (policy outcomes).  The rules themselves are allow.c's; the pidfds
 * and /proc reads that act on the host are pidfd.c's, reached through
 * struct policy_ops.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "contain/policy.h"
#include "live/procfs.h"

#define MAX_ANCESTORS 64


/*
 * An action on a flagged tree.  Containment owns its identity: `tree` is
 * the id the kernel knows it by (the `trees` key, the value of its
 * `members` entries, what its action records carry) and the index of
 * the action in policy's table; it is allocated here and freed when the
 * action ends.  `alert` is the detector's name for the tree, the tag its
 * members carry (det_tree_of): which processes belong to it is the
 * detector's fact, what is done to them is containment's.
 */
struct action {
	enum action_state state; /* ACTION_NONE: the slot was never used */
	bool by_operator;	 /* the live view's s/k, not a verdict */
	bool lasting;		 /* action_obs.lasting: a spawn_storm's jobs */
	uint32_t tree, sig;
	uint32_t alert;	/* 0 once detached */
	uint32_t live;	/* live members it may signal, at its last sweep */
	bool detached;	/* its alert retired: members are its own (in_tree) */
	struct pt_key root;
	uint64_t root_start_ns;
	char root_comm[FT_COMM_LEN];
	uint64_t started_ns;
	uint64_t phase_ns;	/* SIGNALLING began (again): the give-up clock */
	uint64_t next_sweep_ns; /* HELD and GAVE_UP are swept at a slower pace */
	uint32_t epoch;		/* bumped on re-arming: every member is signalled anew */
	uint32_t signalled;
	uint32_t failures; /* kernel map updates that failed */
	uint64_t root_cgroup;
};

/* an action still at work (the kernel stops the tree's forks) */
static bool acting(const struct action *a)
{
	return a->state == ACTION_SIGNALLING || a->state == ACTION_HELD ||
	       a->state == ACTION_GAVE_UP;
}

/*
 * How often a held, given-up or re-armed tree is looked at again: every
 * RECHECK_NS, and RECHECK_PER_MEMBER_NS more per member, so that a big
 * stopped tree (each look reads every member's /proc/PID/stat) costs the
 * event loop a bounded share of its time whatever its size, and a
 * neighbour who keeps continuing it gets one re-stop per look.  Meanwhile
 * the kernel stops every fork at once.
 */
#define RECHECK_NS	      200000000ull
#define RECHECK_PER_MEMBER_NS 100000ull
#define RECHECK_MEMBERS_MAX   18000ull /* the pace is 2 s at most */
/* A lasting action's pace: a storm's new job is signalled before it has
 * started up and asked its parent for more */
#define LASTING_SWEEP_NS      5000000ull
#define LASTING_PER_MEMBER_NS 1000ull

struct sweep_mark {
	struct pt_key key; /* the process the mark is for (slots are reused) */
	uint32_t tree;
	uint32_t epoch;	       /* the action's epoch the signal was sent in */
	bool armed, signalled; /* in the kernel's members map; signal sent */
	bool spared;	       /* written to the map as tree 0 (left alone) */
	bool said_undecided;   /* OUTCOME_UNDECIDED sent for it */
};

/* exe_rule when /proc/<pid>/exe could not be read: no match, not inherited */
#define EXE_UNKNOWN (-2)

/*
 * Per table slot: the first exe rule the process's executable matched (-1:
 * none), valid for that identity and exec count; exe_inherited when that
 * match was taken from the parent (exe_from_parent) rather than read.  The
 * sweep re-checks every member every few ms and reading /proc/<pid>/exe
 * each time would cost a bomb's worth of reads; what a process runs
 * changes at exec, which the count catches (and through prctl(PR_SET_MM_
 * MAP/EXE_FILE), which takes CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in
 * the process's user namespace: outside the initial one no exe rule
 * counts, struct ft_exe_key).
 */
struct allow_memo {
	struct pt_key key;
	uint32_t execs;
	int32_t exe_rule;
	bool valid, exe_inherited;
};

struct policy {
	struct policy_opts o;
	struct policy_ops ops;
	struct action actions[FT_MAX_TREES]; /* by kernel tree id; 0 unused */
	/* per detector alert id: the kernel tree id of the action at work on
	 * it (0: none); kept by bind_alert */
	uint16_t by_alert[FT_MAX_TREES];
	struct sweep_mark *marks; /* per table slot: already signalled */
	struct allow_memo *memo;  /* per table slot */
	uint32_t cap;
	uint32_t self;
	struct pt_key ancestors[MAX_ANCESTORS];
	uint32_t nancestors;
	uint32_t *scratch; /* a verdict's actionable slots, then the dry-run pids */
	uint64_t failures;
	struct ct_cache *containers; /* for namespace: and pod: rules; may be NULL */
};

uint32_t policy_allow_rules(const struct policy *p, const struct allow_rule **rules)
{
	*rules = p->o.allow;
	return p->o.nallow;
}

uint32_t policy_ancestors(struct pt_key *out, uint32_t max)
{
	uint32_t pid = (uint32_t)getpid(), n = 0;
	struct procfs_stat st;

	while (pid > 1 && n < max && !procfs_stat(pid, &st)) {
		out[n].tgid = pid;
		out[n++].start_ticks = st.start_ticks;
		pid = st.ppid;
	}
	return n;
}

struct policy *policy_new(const struct policy_opts *o, const struct policy_ops *ops,
			  uint32_t table_capacity)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	p->ops = *ops;
	p->cap = table_capacity;
	p->marks = calloc(table_capacity, sizeof(*p->marks));
	p->memo = calloc(table_capacity, sizeof(*p->memo));
	p->scratch = calloc(table_capacity, sizeof(*p->scratch));
	if (!p->marks || !p->memo || !p->scratch) {
		policy_free(p);
		return NULL;
	}
	p->self = (uint32_t)getpid();
	p->nancestors = policy_ancestors(p->ancestors, MAX_ANCESTORS);
	return p;
}

void policy_set_allow(struct policy *p, const struct policy_opts *o)
{
	memcpy(p->o.allow, o->allow, sizeof(p->o.allow));
	p->o.nallow = o->nallow;
	/* remembered exe matches index the old rules */
	memset(p->memo, 0, p->cap * sizeof(*p->memo));
}

void policy_set_containers(struct policy *p, struct ct_cache *containers)
{
	p->containers = containers;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->marks);
	free(p->memo);
	free(p->scratch);
	free(p);
}

bool policy_busy(const struct policy *p)
{
	/* sweeping now: come back within milliseconds */
	for (int i = 0; i < FT_MAX_TREES; i++)
		if (p->actions[i].state == ACTION_SIGNALLING && !p->actions[i].epoch)
			return true;
	return false;
}

/* The action at work on the detector's alert, or NULL. */
static struct action *action_on(const struct policy *p, uint32_t alert)
{
	const struct action *a;

	if (!alert || alert >= FT_MAX_TREES || !p->by_alert[alert])
		return NULL;
	a = &p->actions[p->by_alert[alert]];
	return acting(a) && a->alert == alert ? (struct action *)a : NULL;
}

bool policy_holds(void *ctx, uint32_t alert)
{
	const struct action *a = action_on(ctx, alert);

	/* a held or given-up action can go on without its alert (detach) */
	return a && a->state == ACTION_SIGNALLING;
}

static void move_to(struct policy *p, struct action *a, enum action_state to, uint64_t now,
		    uint32_t remaining, const char *why, policy_outcome_fn fn, void *ctx);

/*
 * A kernel tree id for a new action: a slot never used, else the one
 * whose action ended longest ago.  When every id is held by an action
 * still at work, a *detached* one (its alert retired: its tree is
 * flagged again if it grows) lets go of its id, the one with the fewest
 * live members, held or given up before signalling: a neighbour who keeps
 * a thousand small stopped trees must not leave the next runaway without
 * an action.  An action whose alert is live never lets go (the detector
 * would never flag its tree again).  NULL when none may.
 */
static struct action *free_action(struct policy *p, uint64_t now, policy_outcome_fn fn, void *ctx)
{
	struct action *best = NULL, *idle = NULL;

	for (uint32_t i = 1; i < FT_MAX_TREES; i++) {
		struct action *a = &p->actions[i];
		bool quiet;

		if (a->state == ACTION_NONE)
			return a;
		if (!acting(a) && (!best || a->started_ns < best->started_ns))
			best = a;
		if (!acting(a) || !a->detached)
			continue;
		quiet = a->state == ACTION_HELD || a->state == ACTION_GAVE_UP;
		if (!idle || (quiet && !(idle->state == ACTION_HELD ||
					 idle->state == ACTION_GAVE_UP)) ||
		    (quiet == (idle->state == ACTION_HELD || idle->state == ACTION_GAVE_UP) &&
		     a->live < idle->live))
			idle = a;
	}
	if (best || !idle)
		return best;
	move_to(p, idle, ACTION_SUPERSEDED, now, idle->live,
		"let go: every kernel tree id was in use; its members stay as they are, and "
		"the tree is flagged again if it grows",
		fn, ctx);
	return idle;
}

uint64_t policy_failures(const struct policy *p)
{
	return p->failures;
}

/* Never: init, kernel threads, forktrace itself or any of its ancestors. */
static const char *protected_reason(const struct policy *p, const struct pt_entry *e)
{
	if (e->key.tgid <= 1)
		return "init";
	if (e->kthread)
		return "kernel thread";
	if (e->key.tgid == p->self)
		return "forktrace itself";
	for (uint32_t i = 0; i < p->nancestors; i++)
		if (p->ancestors[i].tgid == e->key.tgid &&
		    p->ancestors[i].start_ticks == e->key.start_ticks)
			return "an ancestor of forktrace";
	return NULL;
}

/* namespace: and pod: rules, on what the runtime's bundle says of the
 * process's cgroup; only a bundle that made that very cgroup is believed
 * (ct_resolve), so naming a cgroup after a pod's container gains nothing */
static bool in_pod(const struct policy *p, const struct pt_entry *e, const struct allow_rule *r)
{
	const struct ft_container *c = ct_cache_get(p->containers, e->cgroup_id);
	size_t nslen;

	if (!c || !(c->flags & FT_CT_ANNOTATED))
		return false;
	if (r->kind == ALLOW_NAMESPACE)
		return !strcmp(c->ns, r->value);
	nslen = strlen(c->ns);
	return !strncmp(r->value, c->ns, nslen) && r->value[nslen] == '/' &&
	       !strcmp(r->value + nslen + 1, c->pod);
}

static bool rule_matches(const struct policy *p, const struct allow_rule *r,
			 const struct pt_entry *e, const char *exe, uint64_t dev, uint64_t ino)
{
	switch (r->kind) {
	case ALLOW_EXE:
		/* the file, by identity, as the kernel matches it: a copy or a
		 * replacement is another inode, whatever its name */
		(void)exe;
		return dev == r->dev && ino == r->ino;
	case ALLOW_UID:
		return e->uid == r->uid;
	case ALLOW_COMM:
		return !strncmp(e->comm, r->value, FT_COMM_LEN - 1);
	case ALLOW_CGROUP:
		return p->ops.in_cgroup && p->ops.in_cgroup(p->ops.ctx, e->key.tgid, r->value);
	case ALLOW_UNIT:
		return p->ops.in_unit && p->ops.in_unit(p->ops.ctx, e->key.tgid, r->value);
	case ALLOW_NAMESPACE:
	case ALLOW_POD:
		return in_pod(p, e, r);
	}
	return false;
}

static struct allow_memo *memo_of(struct policy *p, const struct pt_entry *e, int32_t slot)
{
	struct allow_memo *m = slot >= 0 && (uint32_t)slot < p->cap ? &p->memo[slot] : NULL;

	if (m && m->valid && m->key.tgid == e->key.tgid &&
	    m->key.start_ticks == e->key.start_ticks && m->execs == e->execs)
		return m;
	return NULL;
}

/*
 * A child that forked and never exec'd runs the image its parent ran at the
 * fork; if the parent has not exec'd since, the parent's exe match is the
 * child's, and a bomb of thousands of forks costs one /proc read instead of
 * one each, between the verdict and the kernel's arming.  (The executable
 * can change without exec through prctl(PR_SET_MM_MAP/EXE_FILE), which
 * needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the caller's user
 * namespace; a lost exec record makes the parent's memo stale the same
 * way.)
 */
static const struct allow_memo *exe_from_parent(struct policy *p, const struct proctable *t,
						const struct pt_entry *e)
{
	const struct pt_entry *pe = pt_get(t, e->parent);
	const struct allow_memo *pm;

	if (e->origin != PT_FROM_FORK || e->execs || !e->born_ns || !pe ||
	    pe->key.tgid != e->lineage.tgid || pe->key.start_ticks != e->lineage.start_ticks ||
	    pe->exec_ns >= e->born_ns)
		return NULL;
	pm = memo_of(p, pe, e->parent);
	return pm && pm->exe_rule != EXE_UNKNOWN ? pm : NULL;
}

static int32_t first_exe_rule(struct policy *p, const struct pt_entry *e)
{
	char exe[sizeof(p->o.allow[0].path)];
	uint64_t dev = 0, ino = 0;
	bool read = false;

	for (uint32_t i = 0; i < p->o.nallow; i++) {
		const struct allow_rule *r = &p->o.allow[i];

		if (r->kind != ALLOW_EXE)
			continue;
		/*
		 * The kernel's view first: fork and exec records carry the
		 * executable's identity, so nothing a process controls (a FUSE
		 * mount that refuses root, or never answers) stands between
		 * a member and its verdict.  /proc only for processes found
		 * running at start (snapshots) and old recordings.
		 */
		if (e->exe.ino) {
			/* a process in a user namespace of its own can name its
			 * executable (struct ft_exe_key): no exe rule spares it */
			if (!e->exe.userns && e->exe.ino == r->ino && e->exe.dev == r->kdev)
				return (int32_t)i;
			continue;
		}
		if (!read) {
			read = true;
			if (!p->ops.exe || p->ops.exe(p->ops.ctx, e->key.tgid, e->key.start_ticks,
						      exe, sizeof(exe), &dev, &ino))
				return EXE_UNKNOWN;
		}
		if (rule_matches(p, r, e, exe, dev, ino))
			return (int32_t)i;
	}
	return -1;
}

/*
 * The allow rule e matches, if any.  inherit lets a fork take its parent's
 * exe match (exe_from_parent): good enough to decide what the kernel arms,
 * which checks each task's executable itself before any signal; a pidfd
 * signal is sent only on the process's own read (inherit false).
 */
static const struct allow_rule *allowed(struct policy *p, const struct proctable *t, int32_t slot,
					bool inherit, bool *undecided)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct allow_memo *m = memo_of(p, e, slot);
	const struct allow_memo *pm = NULL;
	int32_t hit, exe_rule;

	if (m && (inherit || !m->exe_inherited)) {
		exe_rule = m->exe_rule;
	} else {
		if (inherit)
			pm = exe_from_parent(p, t, e);
		exe_rule = pm ? pm->exe_rule : first_exe_rule(p, e);
		/* an unreadable exe is asked again next time, never remembered */
		if (exe_rule != EXE_UNKNOWN && slot >= 0 && (uint32_t)slot < p->cap) {
			m = &p->memo[slot];
			m->key = e->key;
			m->execs = e->execs;
			m->exe_rule = exe_rule;
			m->exe_inherited = pm != NULL;
			m->valid = true;
		}
	}
	if (undecided)
		*undecided = exe_rule == EXE_UNKNOWN;
	/* the other rules are read each time: a cgroup changes without exec */
	hit = exe_rule >= 0 ? exe_rule : -1;
	for (uint32_t i = 0; i < p->o.nallow && (hit < 0 || (int32_t)i < hit); i++)
		if (p->o.allow[i].kind != ALLOW_EXE &&
		    rule_matches(p, &p->o.allow[i], e, NULL, 0, 0))
			hit = (int32_t)i;
	return hit >= 0 ? &p->o.allow[hit] : NULL;
}

/* Did a sweep of tree see the process in slot (and is it still that one)? */
static bool marked(const struct policy *p, int32_t slot, const struct pt_entry *e, uint32_t tree)
{
	const struct sweep_mark *m = slot >= 0 && (uint32_t)slot < p->cap ? &p->marks[slot] : NULL;

	return m && e && m->tree == tree && m->key.tgid == e->key.tgid &&
	       m->key.start_ticks == e->key.start_ticks;
}

/*
 * A live member of the action's tree.  Every caller walks the root's
 * subtree (pt_subtree_next, parents first), so lineage is given; the
 * detector's tag leaves out the subtrees of other alerts below the root.
 * A detached action (its alert retired to make room) keeps its own
 * members: those its sweeps saw, and what they fork.
 */
static bool in_tree(const struct policy *p, const struct proctable *t, struct detector *d,
		    const struct action *a, int32_t slot)
{
	const struct pt_entry *e = pt_get(t, slot), *pe;

	if (!e || e->state != PT_ALIVE)
		return false;
	if (!a->detached)
		return det_tree_of(d, t, slot) == a->alert;
	/* its own alert is retired: a tagged process is another alert's */
	if (det_tree_of(d, t, slot))
		return false;
	if (marked(p, slot, e, a->tree))
		return true;
	pe = pt_get(t, e->parent);
	return pt_parent_forked(t, slot) && marked(p, e->parent, pe, a->tree);
}

static void report(policy_outcome_fn fn, void *ctx, struct policy_outcome *r)
{
	fn(ctx, r);
}

static void policy_failed(struct policy *p, struct action *a)
{
	p->failures++;
	a->failures++;
}

enum action_state action_next(enum action_state s, const struct action_obs *o)
{
	switch (s) {
	case ACTION_SIGNALLING:
		if (!o->live)
			return o->lasting ? ACTION_SIGNALLING : ACTION_EMPTIED;
		if (o->stop && o->stopped == o->live)
			return ACTION_HELD;
		return o->past_deadline ? ACTION_GAVE_UP : ACTION_SIGNALLING;
	case ACTION_HELD:
		if (!o->live)
			return o->lasting ? ACTION_HELD : ACTION_EMPTIED;
		/* continued from outside (kill -CONT): stop it again */
		return o->stopped < o->live ? ACTION_SIGNALLING : ACTION_HELD;
	case ACTION_GAVE_UP:
		if (!o->live)
			return o->lasting ? ACTION_GAVE_UP : ACTION_EMPTIED;
		if (o->stop && o->stopped == o->live)
			return ACTION_HELD;
		/* what could not be signalled is growing again: try again */
		return o->grew ? ACTION_SIGNALLING : ACTION_GAVE_UP;
	default:
		return s; /* ended, or never begun */
	}
}

bool action_ended(enum action_state s)
{
	return s == ACTION_EMPTIED || s == ACTION_RESUMED || s == ACTION_SUPERSEDED;
}

const char *action_state_name(enum action_state s)
{
	static const char *const names[] = { "none",	"signalling", "held",	   "gave up",
					     "emptied", "resumed",    "superseded" };

	return s <= ACTION_SUPERSEDED ? names[s] : "?";
}

static void action_report(const struct action *a, struct policy_outcome *r, enum outcome_kind kind,
			  uint64_t now)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->ts_ns = now;
	r->action = a->sig == SIGSTOP ? "stop" : "kill";
	r->root = a->root.tgid;
	r->root_start_ns = a->root_start_ns;
	r->root_comm = a->root_comm;
	r->tree = a->tree;
	r->cgroup = a->root_cgroup;
	r->signalled = a->signalled;
	r->ms = (double)(now - a->started_ns) / 1e6;
	r->by_operator = a->by_operator;
	r->policy_failures = a->failures;
	r->state = action_state_name(a->state);
}

/*
 * Move a to state `to` and say so.  The first ending (emptied, held, gave
 * up) is the action's report, as before; later moves are STATE reports.
 * Only an ended action clears the tree's signal in the kernel (and with it
 * the members): while any member lives, its forks stay stopped.
 */
static void move_to(struct policy *p, struct action *a, enum action_state to, uint64_t now,
		    uint32_t remaining, const char *why, policy_outcome_fn fn, void *ctx)
{
	enum action_state from = a->state;
	bool first = from == ACTION_SIGNALLING && !a->epoch;
	struct policy_outcome r;

	if (to == from)
		return;
	a->state = to;
	if (to == ACTION_SIGNALLING) {
		/* every member is looked at and signalled anew */
		a->epoch++;
		a->phase_ns = now;
	}
	if (action_ended(to) && p->ops.flag_tree && p->ops.flag_tree(p->ops.ctx, a->tree, 0))
		policy_failed(p, a);
	action_report(a, &r, first || to == ACTION_SUPERSEDED ? OUTCOME_ACTION : OUTCOME_STATE, now);
	r.complete = to == ACTION_EMPTIED || to == ACTION_HELD;
	r.remaining = remaining;
	r.why = why;
	if (!why && to == ACTION_HELD)
		r.why = "resume: kill -CONT <pids>, or end: kill -KILL <pids> (pids: the tree "
			"events above); stopped again if continued from outside";
	/* failures: a map update refused, or the kernel's half not loaded at all */
	if (!why && to == ACTION_GAVE_UP)
		r.why = a->failures ? "gave up for now (the kernel's half failed too, see "
				      "policy_failures); re-armed if it grows"
				    : "gave up for now: the kernel still stops the tree's forks; "
				      "re-armed if it grows";
	if (!why && to == ACTION_SIGNALLING)
		r.why = from == ACTION_HELD ? "continued from outside: stopping it again"
					    : "the tree grew again: re-armed";
	report(fn, ctx, &r);
}

static void say_undecided(const struct action *a, const struct pt_entry *e, uint64_t now,
			  policy_outcome_fn fn, void *ctx)
{
	struct policy_outcome r;

	action_report(a, &r, OUTCOME_UNDECIDED, now);
	r.pid = e->key.tgid;
	r.comm = e->comm;
	r.why = "its executable could not be read (no exec or fork record, /proc/PID/exe "
		"unreadable): whether an exe: rule spares it is unknown; not signalled by "
		"pidfd, its forks are still stopped in the kernel";
	report(fn, ctx, &r);
}

static void sweep(struct policy *p, const struct proctable *t, struct detector *d, struct action *a,
		  uint64_t now, policy_outcome_fn fn, void *ctx)
{
	int32_t root = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
	uint32_t live = 0, stopped = 0, steps = 0, fresh = 0, spared = 0;
	uint64_t members;
	struct action_obs obs;
	enum action_state next;

	/* the bound: a table rebuilt from a damaged recording could loop */
	for (int32_t i = root; i != PT_NONE && steps++ < p->cap;
	     i = pt_subtree_next(t, root, i, true)) {
		const struct pt_entry *e = pt_get(t, i);
		struct sweep_mark *m = &p->marks[i];
		struct policy_outcome r;
		bool undecided = false;
		int ret;

		if (!in_tree(p, t, d, a, i))
			continue;
		if (m->tree != a->tree || m->key.tgid != e->key.tgid ||
		    m->key.start_ticks != e->key.start_ticks) {
			*m = (struct sweep_mark){ .key = e->key, .tree = a->tree };
			fresh++;
		}
		/* the safety rules hold per process: a protected root does not
		 * shield its tree, an allowed member does not expose itself */
		if (protected_reason(p, e) || allowed(p, t, i, false, &undecided)) {
			/* and in the kernel: it passes on no membership */
			if (!m->spared && p->ops.add_member &&
			    p->ops.add_member(p->ops.ctx, e->key.tgid, e->key.start_ticks, 0))
				policy_failed(p, a);
			m->spared = true;
			spared++;
			continue;
		}
		live++;
		if (undecided) {
			/* said once; asked again next sweep */
			if (!m->said_undecided)
				say_undecided(a, e, now, fn, ctx);
			m->said_undecided = true;
			continue;
		}
		if (a->sig == SIGSTOP && p->ops.state) {
			char st = p->ops.state(p->ops.ctx, e->key.tgid, e->key.start_ticks);

			if (st == 'T' || st == 't' || !st) {
				stopped++;
				continue;
			}
		}
		if (m->signalled && m->epoch == a->epoch)
			continue; /* its exit (or stop) is on the way */
		/*
		 * A member the verdict did not know (its fork record was still
		 * in the ring when the kernel was armed): arm it before the
		 * signal lands, so what it forks meanwhile is stopped in the
		 * kernel, not left to the next sweep.
		 */
		if (!m->armed && p->ops.add_member &&
		    p->ops.add_member(p->ops.ctx, e->key.tgid, e->key.start_ticks, a->tree))
			policy_failed(p, a);
		m->armed = true;
		m->spared = false;
		ret = p->ops.signal(p->ops.ctx, e->key.tgid, e->key.start_ticks, (int)a->sig);
		/* sent, or nobody left to send it to; another error: try again */
		m->signalled = ret == 0 || ret == -ESRCH;
		m->epoch = a->epoch;
		if (ret == 0)
			a->signalled++;
		memset(&r, 0, sizeof(r));
		r.kind = OUTCOME_SIGNAL;
		r.ts_ns = now;
		r.action = a->sig == SIGSTOP ? "stop" : "kill";
		r.root = a->root.tgid;
		r.root_start_ns = a->root_start_ns;
		r.root_comm = a->root_comm;
		r.tree = a->tree;
		r.pid = e->key.tgid;
		r.comm = e->comm;
		r.cgroup = e->cgroup_id;
		r.sig = (int)a->sig;
		r.result = ret;
		report(fn, ctx, &r);
	}
	members = live + spared;
	a->next_sweep_ns = now + RECHECK_NS +
			   (members < RECHECK_MEMBERS_MAX ? members : RECHECK_MEMBERS_MAX) *
			       RECHECK_PER_MEMBER_NS;
	/* a lasting action walks its root's subtree (a daemon's, maybe big)
	 * each look: at most a share of the loop's time, whatever its size */
	if (a->lasting)
		a->next_sweep_ns = now + LASTING_SWEEP_NS + steps * LASTING_PER_MEMBER_NS;
	a->live = live;
	obs = (struct action_obs){
		.stop = a->sig == SIGSTOP,
		.live = live,
		.stopped = stopped,
		.grew = fresh > 0,
		.past_deadline = now > a->phase_ns + p->o.give_up_ns,
		.lasting = a->lasting,
	};
	/* empty and waiting for the parent's next job: no deadline runs */
	if (a->lasting && !live)
		a->phase_ns = now;
	next = action_next(a->state, &obs);
	/* a kill ends when the detector sees the tree empty (policy_on_verdict),
	 * or here: no member left that it may signal */
	move_to(p, a, next, now, live - stopped, NULL, fn, ctx);
}

/*
 * Why no member of the tree may be signalled: the root's reason if it has
 * one (what an operator looks for first), else the members' tally.
 */
static void explain_exempt(struct policy *p, const struct proctable *t, int32_t root,
			   uint32_t nprot, uint32_t nallow, const struct allow_rule *first,
			   char *why, size_t len)
{
	const struct pt_entry *re = pt_get(t, root);
	const struct allow_rule *rule;
	char rs[300];

	if (protected_reason(p, re)) {
		snprintf(why, len, "root is %s; no member may be signalled",
			 protected_reason(p, re));
	} else if ((rule = allowed(p, t, root, false, NULL))) {
		policy_allow_describe(rule, false, rs, sizeof(rs));
		snprintf(why, len, "allowed by %s; no member may be signalled", rs);
	} else if (first) {
		policy_allow_describe(first, false, rs, sizeof(rs));
		snprintf(why, len,
			 "no member may be signalled: %u protected, %u allowed (first by %s)",
			 nprot, nallow, rs);
	} else {
		snprintf(why, len, "no member may be signalled: %u protected, none alive", nprot);
	}
}

/*
 * Act on the flagged tree rooted at (pid, start_ns) with sig: a verdict's
 * action or the operator's.  The same rules either way: protected and
 * allowed members are spared, in user space and in the kernel.  alert:
 * the verdict's tree (one root may root two alerts: a spawn_storm's
 * members are its jobs, not its root's tree), 0 to look it up by root.
 */
static void act(struct policy *p, const struct proctable *t, struct detector *d, uint32_t pid,
		uint64_t start_ns, uint32_t alert, uint64_t now, int sig, bool dry_run,
		bool by_operator, policy_outcome_fn fn, void *ctx)
{
	int32_t root = pt_find(t, pid, start_ns);
	const struct pt_entry *re = pt_get(t, root);
	struct policy_outcome r = {
		.ts_ns = now,
		.root = pid,
		.root_start_ns = start_ns,
		.root_comm = re ? re->comm : "",
		.action = sig == SIGSTOP ? "stop" : "kill",
		.by_operator = by_operator,
	};
	const struct allow_rule *first = NULL;
	uint32_t tree;
	uint32_t n = 0, nprot = 0, nallow = 0, nspared = 0;
	struct action *a;
	char why[400];

	r.cgroup = re ? re->cgroup_id : 0;
	if (!det_alert_rooted_at(d, alert, pid, start_ns))
		alert = det_alert_id(d, pid, start_ns);
	/* asked to act and cannot: say so, never return silently */
	if (!re || !alert) {
		r.kind = OUTCOME_REFUSED;
		r.why = !re ? "root not in the process table" : "no tree id (detector state full)";
		report(fn, ctx, &r);
		return;
	}
	/* one action per tree: a kill stands; a stop may become a kill */
	a = action_on(p, alert);
	if (a && (a->sig == SIGKILL || (int)a->sig == sig)) {
		r.kind = OUTCOME_REFUSED;
		r.tree = a->tree;
		r.why = a->sig == SIGKILL ? "already being killed" : "already being stopped";
		report(fn, ctx, &r);
		return;
	}
	if (a)
		move_to(p, a, ACTION_SUPERSEDED, now, 0, "a kill follows", fn, ctx);
	else
		a = free_action(p, now, fn, ctx);
	if (!a) {
		r.kind = OUTCOME_REFUSED;
		r.why = "no kernel tree id: every one is held by an action at work";
		report(fn, ctx, &r);
		return;
	}
	tree = (uint32_t)(a - p->actions);
	r.tree = tree;
	memset(a, 0, sizeof(*a));
	a->tree = tree;
	a->alert = alert;
	a->sig = (uint32_t)sig;
	a->by_operator = by_operator;
	a->lasting = det_tree_lasting(d, alert);
	a->root = re->key;
	a->root_start_ns = start_ns;
	memcpy(a->root_comm, re->comm, sizeof(a->root_comm));
	a->root_cgroup = re->cgroup_id;
	a->started_ns = now;
	/*
	 * Pre-order: a parent's exe match is known before its children ask.
	 * The actionable members fill scratch from the front; the live ones
	 * left alone (protected, allowed, another alert's) from the back.
	 */
	for (int32_t i = root; i != PT_NONE && n + nspared < p->cap;
	     i = pt_subtree_next(t, root, i, true)) {
		const struct pt_entry *e = pt_get(t, i);
		const struct allow_rule *rule;

		if (e->state != PT_ALIVE)
			continue;
		if (!in_tree(p, t, d, a, i)) {
			/* another alert's: armed by its own action, or left alone */
			if (!action_on(p, det_tree_of(d, t, i)))
				p->scratch[p->cap - 1 - nspared++] = (uint32_t)i;
		} else if (protected_reason(p, e)) {
			nprot++;
			p->scratch[p->cap - 1 - nspared++] = (uint32_t)i;
		} else if ((rule = allowed(p, t, i, true, NULL))) {
			nallow++;
			first = first ? first : rule;
			p->scratch[p->cap - 1 - nspared++] = (uint32_t)i;
		} else {
			p->scratch[n++] = (uint32_t)i;
		}
	}
	if (!n) {
		r.kind = OUTCOME_EXEMPT;
		explain_exempt(p, t, root, nprot, nallow, first, why, sizeof(why));
		r.why = why;
		report(fn, ctx, &r);
		return;
	}
	if (dry_run) {
		for (uint32_t k = 0; k < n; k++)
			p->scratch[k] = pt_get(t, (int32_t)p->scratch[k])->key.tgid;
		r.kind = OUTCOME_DRY_RUN;
		r.pids = p->scratch;
		r.npids = n;
		report(fn, ctx, &r);
		return;
	}
	/*
	 * First the kernel.  The processes left alone go in as tree 0, so the
	 * kernel's own arming (member_by_ancestry, pass_membership) never
	 * reaches past them; then the tree's signal before its members: each
	 * member added from then on has every fork it makes stopped.
	 */
	for (uint32_t k = 0; k < nspared; k++) {
		int32_t i = (int32_t)p->scratch[p->cap - 1 - k];
		const struct pt_entry *e = pt_get(t, i);

		/* a storm's members are its root's children: the root alone
		 * bounds the kernel's arming (its other subtrees hold none),
		 * and a daemon's big subtree does not fill the map */
		if (a->lasting && i != root && !in_tree(p, t, d, a, i))
			continue;
		if (p->ops.add_member &&
		    p->ops.add_member(p->ops.ctx, e->key.tgid, e->key.start_ticks, 0))
			policy_failed(p, a);
		if (in_tree(p, t, d, a, i))
			p->marks[i] =
			    (struct sweep_mark){ .key = e->key, .tree = tree, .spared = true };
	}
	if (p->ops.flag_tree && p->ops.flag_tree(p->ops.ctx, tree, a->sig))
		policy_failed(p, a);
	for (uint32_t k = 0; k < n; k++) {
		const struct pt_entry *e = pt_get(t, (int32_t)p->scratch[k]);

		if (p->ops.add_member &&
		    p->ops.add_member(p->ops.ctx, e->key.tgid, e->key.start_ticks, tree))
			policy_failed(p, a);
		p->marks[p->scratch[k]] =
		    (struct sweep_mark){ .key = e->key, .tree = tree, .armed = true };
	}
	a->state = ACTION_SIGNALLING;
	a->phase_ns = now;
	p->by_alert[alert] = (uint16_t)tree;
	sweep(p, t, d, a, now, fn, ctx);
}

bool policy_storm_due(const struct det_verdict *v, uint64_t horizon_ns)
{
	uint64_t room = v->limit_value > v->limit_used ? v->limit_value - v->limit_used : 0;

	return v->limit_name && v->per_minute > 0 && v->limit_seconds >= 0 &&
	       v->limit_seconds * 1e9 <= (double)horizon_ns && room <= 3ull * v->tasks;
}

void policy_on_verdict(struct policy *p, const struct proctable *t, struct detector *d,
		       const struct det_verdict *v, policy_outcome_fn fn, void *ctx)
{
	bool storm = v->pattern == DET_SPAWN_STORM;

	if (v->kind == DET_ALERT_END) {
		/* the detector saw the tree empty: a kill is done (the
		 * operator's too, whatever the mode) */
		struct action *a = action_on(p, v->tree);

		/* retired to make room with its tree alive: the action goes on
		 * alone, on the members it knows (the alert id is free now) */
		if (a && v->retired) {
			a->detached = true;
			a->alert = 0;
			p->by_alert[v->tree] = 0;
		} else if (a) {
			move_to(p, a, ACTION_EMPTIED, v->ts_ns, 0, NULL, fn, ctx);
		}
		return;
	}
	/* the operator's flag comes with the operator's action */
	if (p->o.mode == POLICY_OBSERVE || v->by_operator || !(p->o.act_on & (1u << v->pattern)))
		return;
	/* a storm is acted on once its pace nears a limit: at its alert, or
	 * at an update (each doubling) if not before */
	if (storm ? (v->kind != DET_ALERT && v->kind != DET_ALERT_UPDATE) ||
			action_on(p, v->tree) || !policy_storm_due(v, p->o.storm_horizon_ns)
		  : v->kind != DET_ALERT)
		return;
	act(p, t, d, v->root, v->root_start_ns, v->tree, v->ts_ns,
	    p->o.mode == POLICY_STOP ? SIGSTOP : SIGKILL, p->o.dry_run, false, fn, ctx);
}

void policy_operator(struct policy *p, const struct proctable *t, struct detector *d, uint32_t pid,
		     uint64_t start_ns, enum policy_mode mode, uint64_t now, policy_outcome_fn fn,
		     void *ctx)
{
	act(p, t, d, pid, start_ns, 0, now, mode == POLICY_STOP ? SIGSTOP : SIGKILL, false, true,
	    fn, ctx);
}

void policy_resume(struct policy *p, const struct proctable *t, struct detector *d, uint32_t pid,
		   uint64_t start_ns, uint64_t now, policy_outcome_fn fn, void *ctx)
{
	int32_t root = pt_find(t, pid, start_ns);
	uint32_t alert = det_alert_id(d, pid, start_ns), steps = 0;
	const struct action members = { .alert = alert };
	struct action *a = alert && p->by_alert[alert] ? &p->actions[p->by_alert[alert]] : NULL;
	struct policy_outcome r = {
		.kind = OUTCOME_RESUME,
		.ts_ns = now,
		.action = "resume",
		.root = pid,
		.root_start_ns = start_ns,
		.root_comm = root != PT_NONE ? pt_get(t, root)->comm : "",
		.tree = a ? a->tree : 0,
		.cgroup = root != PT_NONE ? pt_get(t, root)->cgroup_id : 0,
		.by_operator = true,
	};

	if (root == PT_NONE || !alert) {
		r.kind = OUTCOME_REFUSED;
		r.why = root == PT_NONE ? "root not in the process table" : "not a flagged tree";
		report(fn, ctx, &r);
		return;
	}
	/* only what forktrace froze: the tree's last action was its stop (its
	 * slot may have gone to another tree since: the root says) */
	if (!a || a->alert != alert || a->sig != SIGSTOP ||
	    a->root.tgid != pt_get(t, root)->key.tgid ||
	    a->root.start_ticks != pt_get(t, root)->key.start_ticks) {
		r.kind = OUTCOME_REFUSED;
		r.why = a && a->alert == alert && acting(a) ? "being killed"
							     : "not stopped by forktrace";
		report(fn, ctx, &r);
		return;
	}
	/* the stop ends here (its kernel signal too): nothing is frozen again */
	if (acting(a))
		move_to(p, a, ACTION_RESUMED, now, 0, "resumed", fn, ctx);
	a->sig = 0; /* continued: a second c has nothing to undo */
	for (int32_t i = root; i != PT_NONE && steps++ < p->cap;
	     i = pt_subtree_next(t, root, i, true)) {
		const struct pt_entry *e = pt_get(t, i);

		/* what the stop spared was never frozen by it; 't' is a
		 * debugger's stop, not ours */
		if (!in_tree(p, t, d, &members, i) || protected_reason(p, e) ||
		    allowed(p, t, i, false, NULL) || !p->ops.state ||
		    p->ops.state(p->ops.ctx, e->key.tgid, e->key.start_ticks) != 'T')
			continue;
		if (p->ops.signal(p->ops.ctx, e->key.tgid, e->key.start_ticks, SIGCONT) == 0)
			r.signalled++;
	}
	report(fn, ctx, &r);
}

void policy_tick(struct policy *p, const struct proctable *t, struct detector *d, uint64_t now,
		 policy_outcome_fn fn, void *ctx)
{
	for (int i = 1; i < FT_MAX_TREES; i++) {
		struct action *a = &p->actions[i];

		/* the first signalling at once, every look after it at the
		 * recheck pace (RECHECK_NS) */
		if ((a->state == ACTION_SIGNALLING && !a->epoch && !a->lasting) ||
		    (acting(a) && now >= a->next_sweep_ns))
			sweep(p, t, d, a, now, fn, ctx);
	}
}
