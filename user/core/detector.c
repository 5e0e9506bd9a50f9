// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Growth detector.  The model (docs/detection.md): a runaway tree
 * *replicates*: copies of one program start copies of that program, which
 * start copies in turn, generation after generation, while the population
 * keeps doubling.  A copy is a process running the same program as its
 * nearest ancestor that does (user/core/progid.h): a fork without exec, the
 * same executable again, or the same script again through a shell, env or
 * any other chain of programs.  Bounded parallelism does not replicate
 * deeply: make runs sh runs gcc (other programs doing the work), a pool's
 * workers do not start pools, and a recursive build's depth is its
 * directory tree's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/detector.h"
#include "core/utf8.h"


#include "core/det_int.h"

struct detector *det_new(const struct det_config *c, uint32_t cap)
{
	struct detector *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->c = *c;
	d->cap = cap;
	d->procs = calloc(cap, sizeof(*d->procs));
	d->order = calloc(cap, sizeof(*d->order));
	d->copy_of = calloc(cap, sizeof(*d->copy_of));
	d->gen = calloc(cap, sizeof(*d->gen));
	d->is_copy = calloc(cap, sizeof(*d->is_copy));
	d->forker = calloc(cap, sizeof(*d->forker));
	d->sub_live = calloc(cap, sizeof(*d->sub_live));
	d->branches = calloc(cap, sizeof(*d->branches));
	d->growing = calloc(cap, sizeof(*d->growing));
	d->idle = calloc(cap, sizeof(*d->idle));
	d->growth_start = calloc(cap, sizeof(*d->growth_start));
	d->leads = calloc(cap, sizeof(*d->leads));
	d->ages = calloc(cap, sizeof(*d->ages));
	d->forkers = calloc(cap, sizeof(*d->forkers));
	d->forker_listed = calloc(cap, sizeof(*d->forker_listed));
	if (!d->procs || !d->order || !d->copy_of || !d->gen || !d->is_copy || !d->forker ||
	    !d->sub_live || !d->branches || !d->growing || !d->idle || !d->growth_start ||
	    !d->leads || !d->ages || !d->forkers || !d->forker_listed) {
		det_free(d);
		return NULL;
	}
	return d;
}

void det_set_config(struct detector *d, const struct det_config *c)
{
	d->c = *c;
}

void det_free(struct detector *d)
{
	if (!d)
		return;
	free(d->procs);
	free(d->order);
	free(d->copy_of);
	free(d->gen);
	free(d->is_copy);
	free(d->forker);
	free(d->sub_live);
	free(d->branches);
	free(d->growing);
	free(d->idle);
	free(d->growth_start);
	free(d->leads);
	free(d->ages);
	free(d->forkers);
	free(d->forker_listed);
	free(d);
}

/*
 * Breadth-first walk of root's subtree into d->order (parents before
 * children); skip_flagged leaves out the subtrees of live alerts' members
 * below root.  Returns how many.
 */
uint32_t det_walk_subtree(struct detector *d, const struct proctable *t, int32_t root,
			     bool skip_flagged)
{
	uint32_t n = 0, head = 0;

	d->order[n++] = root;
	while (head < n) {
		const struct pt_entry *e = pt_get(t, d->order[head++]);

		for (int32_t c = e->first_child; c != PT_NONE && n < d->cap;
		     c = pt_get(t, c)->next_sibling)
			if (!skip_flagged || !det_alert_of(d, det_proc_state(d, t, c)))
				d->order[n++] = c;
	}
	return n;
}

/* the shell itself, not its subshells (forks that inherit its kind) */
bool det_interactive(const struct pt_entry *e)
{
	return e->prog.kind == PROG_INTERACTIVE && e->exec_seen;
}

bool det_forked_within(struct detector *d, const struct proctable *t, int32_t slot, uint64_t now,
		       uint64_t span)
{
	struct det_proc *p = det_proc_state(d, t, slot);

	return p && p->last_fork_ns && p->last_fork_ns + span >= now;
}

bool det_forked_recently(struct detector *d, const struct proctable *t, int32_t slot,
			    uint64_t now)
{
	return det_forked_within(d, t, slot, now, d->c.window_ns);
}


/*
 * A copy was made (a fork, or an exec of a program an ancestor runs).
 * Climb the copies above it; if there are enough generations for a
 * runaway, profile the chain from the highest copy down: the first that
 * is a runaway holds the root (then chosen by det_choose_root).
 */
static bool outer_runaway(struct detector *d, const struct proctable *t, int32_t x, uint64_t now,
			  det_verdict_fn fn, void *ctx);

/* Is slot the process of a thread_explosion alert (its tree's root)? */
static bool exploded_root(struct detector *d, const struct proctable *t, int32_t slot)
{
	const struct det_alert *a = det_alert_of(d, det_proc_state(d, t, slot));
	const struct pt_entry *e = pt_get(t, slot);

	return a && a->pattern == DET_THREAD_EXPLOSION && e && a->root.tgid == e->key.tgid &&
	       a->root.start_ticks == e->key.start_ticks;
}

/* Where a look's chain of copies starts, and how it is paced. */
enum look_from {
	LOOK_NEW_COPY, /* slot was just made: the copies above it, each at its pace */
	LOOK_REFUSED,  /* slot's fork was refused: the same, one generation denied */
	LOOK_OUTER,    /* slot is a copy of an outer program: it and above, now */
};

/*
 * A grandchild of a binary's copy, by forks alone (up: its n copies
 * above, nearest first): a fan-out (fans_out) shows one generation before
 * min_generations, before the copy chain is deep enough for the other
 * rules.  Builds' sub-makes
 * exec: their looks keep the pace they had.
 */
static bool fanout_look(const struct detector *d, const struct proctable *t, const int32_t *up,
			uint32_t n)
{
	return d->c.fanout_min_tasks && n >= 2 && !pt_get(t, up[0])->exec_seen && pt_get(t, up[n - 1])->prog.kind == PROG_EXE;
}

/*
 * Live children of x that run its program (copies, by program or kin),
 * counted to two among its first 64 children: a parent of thousands of
 * exited children costs a fork no more than that.
 */
static uint32_t live_copy_children(const struct detector *d, const struct proctable *t, int32_t x)
{
	const struct pt_entry *xe = pt_get(t, x);
	uint32_t live = 0, seen = 0;

	for (int32_t c = xe->first_child; c != PT_NONE && live < 2 && seen++ < 64;
	     c = pt_get(t, c)->next_sibling) {
		const struct pt_entry *ce = pt_get(t, c);

		live += ce->state == PT_ALIVE && det_same_program(ce, xe, d->by_kin);
	}
	return live;
}

/*
 * Is x a young binary whose subtree, at its last look, was small enough
 * to profile on every fork for a fan-out (fans_out)?
 */
static bool fanout_due(const struct detector *d, const struct proctable *t, int32_t x,
		       const struct det_proc *node, uint64_t now)
{
	const struct pt_entry *e = pt_get(t, x);
	uint64_t born = det_born_of(e);

	return d->c.fanout_min_tasks && node->members_at_analysis < FANOUT_SMALL &&
	       e->prog.kind == PROG_EXE && born + d->c.window_ns >= now;
}

static bool look_at_copies(struct detector *d, const struct proctable *t, int32_t slot,
			   enum look_from from, uint64_t now, det_verdict_fn fn, void *ctx)
{
	int32_t up[DET_CLIMB_MAX], chain[DET_CLIMB_MAX], x;
	uint32_t n = 0, first = 0, need = d->c.min_generations < d->c.min_generations_exec
				   ? d->c.min_generations
				   : d->c.min_generations_exec;
	bool outer = from == LOOK_OUTER, branching = false, fanout_checked = false;
	uint32_t gen_cap = (d->c.min_generations > d->c.min_generations_exec ? d->c.min_generations
										   : d->c.min_generations_exec) + 2;
	struct profile pr;

	if (from == LOOK_OUTER)
		up[n++] = slot;
	for (x = det_copy_ancestor(t, slot, PT_NONE, d->by_kin, d->c.window_ns); x != PT_NONE && n < DET_CLIMB_MAX;
	     x = det_copy_ancestor(t, x, PT_NONE, d->by_kin, d->c.window_ns))
		up[n++] = x;
	/* a generation of forkers needs a copy below it: n copies above the
	 * new one make at most n forker generations */
	if ((from == LOOK_NEW_COPY && n < need && !fanout_look(d, t, up, n)) ||
	    (from == LOOK_REFUSED && n + 1 < need))
		return false;
	for (uint32_t i = 0; i < n; i++)
		chain[i] = up[n - 1 - i];
	/*
	 * Each copy on the chain keeps its own pace: it is looked at again
	 * once a quarter of its own subtree's size in forks has happened, or
	 * after an interval that also grows with that size.  A bomb's root is
	 * small and looked at often (it reaches hundreds of tasks in
	 * milliseconds: time alone is too coarse, and a slow bomb needs the
	 * timer); a long-lived copy high above it, whose subtree may hold
	 * thousands of exited processes, rarely.  A fixed interval would
	 * re-walk such a subtree 50 times a second for as long as it keeps
	 * forking; scaled, the timer costs each node at most ~256 visits per
	 * interval, and the count pace keeps the rest O(N log N).
	 */
	/*
	 * A thread explosion's tree is its process and what that forks from
	 * the verdict on: its older children are nobody's, and a runaway
	 * among them is looked for below it (profiles above it leave the
	 * flagged process's subtree out).
	 */
	for (uint32_t i = 0; i < n; i++)
		if (exploded_root(d, t, chain[i]))
			first = i + 1;
	/* does the generation above slot's parent branch (two live copies)? */
	if (n >= 2 && !outer)
		branching = live_copy_children(d, t, up[1]) >= 2;
	for (uint32_t i = first; i < n; i++) {
		struct det_proc *node = det_proc_state(d, t, chain[i]);
		uint64_t interval =
		    d->c.analysis_interval_ns * (1 + node->members_at_analysis / ANALYSIS_SCALE);

		/* generations of copies below chain[i] down to slot (at most
		 * DET_CLIMB_MAX: kept whole, a deeper chain would bypass the
		 * pace on every fork) */
		uint32_t depth = n - i - outer;

		if (det_alert_of(d, node))
			return false; /* already flagged (or inside a flagged tree) */
		/* a copy deeper than any before, below a generation that
		 * branches, is a generation more: looked at at once (at most
		 * DET_CLIMB_MAX times a node), not at the pace of the forks
		 * that fill the generations above.  A chain (a daemon's
		 * fork-fork-exec detach) keeps the pace. */
		/* a new generation, where one can still change a verdict */
		bool fresh = depth > node->depth_at_analysis && depth <= gen_cap &&
			     (branching || (node->depth_at_analysis < need && depth >= need));
		bool paced = !outer && !fresh &&
			     d->forks < node->forks_at_analysis + 4 + node->members_at_analysis / 4 &&
			     now < node->last_analysis_ns + interval;

		if (paced) {
			/* a young binary's small fan-out is checked on every fork
			 * (its profile is small): only for the fan-out, leaving
			 * the pace, and what it smooths, to the other rules; one
			 * such profile a fork, the highest node's */
			if (fanout_checked || !fanout_due(d, t, chain[i], node, now))
				continue;
			fanout_checked = true;
			det_profile(d, t, chain[i], now, &pr);
			if (!det_fans_out(d, &pr))
				continue;
		} else {
			node->last_analysis_ns = now;
			node->forks_at_analysis = d->forks;
			if (depth > node->depth_at_analysis)
				node->depth_at_analysis = (uint8_t)depth;
			det_profile(d, t, chain[i], now, &pr);
			node->members_at_analysis = pr.members;
		}
		if (paced || det_is_runaway(d, &pr)) {
			/* a copy above, skipped for its pace, may be part of it too:
			 * the root is the highest */
			while (i > first) {
				det_profile(d, t, chain[i - 1], now, &pr);
				if (!det_is_runaway(d, &pr))
					break;
				i--;
			}
			/* python -> sh -c -> python: the shells are copies of one
			 * another too; the runaway's root is the outermost program's
			 * (the first python), so look at copies around this chain */
			if (!outer && outer_runaway(d, t, chain[i], now, fn, ctx))
				return true;
			det_profile(d, t, chain[i], now, &pr);
			det_raise_alert(d, t, chain + i, n - i, &pr, now, fn, ctx);
			return true;
		}
		if (pr.live_copies < d->c.min_tasks)
			return false; /* smaller subtrees below cannot qualify either */
	}
	return false;
}

static bool outer_runaway(struct detector *d, const struct proctable *t, int32_t x, uint64_t now,
			  det_verdict_fn fn, void *ctx)
{
	int32_t y = pt_get(t, x)->parent;

	for (int hop = 0; y != PT_NONE && hop <= DET_COPY_HOPS; hop++, y = pt_get(t, y)->parent) {
		const struct pt_entry *ye = pt_get(t, y);

		if (ye->key.tgid == 1 || ye->kthread)
			break;
		if (det_copy_ancestor(t, y, PT_NONE, d->by_kin, d->c.window_ns) != PT_NONE ||
		    !det_same_program(ye, pt_get(t, x), d->by_kin))
			return look_at_copies(d, t, y, LOOK_OUTER, now, fn, ctx);
	}
	return false;
}

/*
 * The second look, by kin: only where kin and program disagree about the
 * nearest copy above slot (the exec of a copied binary, of a script moved
 * elsewhere, of new -c text).  A fork without exec runs its parent's
 * program either way, and the first look judged that.
 */
static void look_at_kin(struct detector *d, const struct proctable *t, int32_t slot, uint64_t now,
			det_verdict_fn fn, void *ctx)
{
	if (det_copy_ancestor(t, slot, PT_NONE, true, d->c.window_ns) ==
	    det_copy_ancestor(t, slot, PT_NONE, false, 0))
		return;
	d->by_kin = true;
	look_at_copies(d, t, slot, LOOK_NEW_COPY, now, fn, ctx);
	d->by_kin = false;
}

static void on_process_fork(struct detector *d, const struct proctable *t, int32_t child,
			    const struct ft_fork *f, det_verdict_fn fn, void *ctx)
{
	int32_t parent = pt_get(t, child)->parent;
	struct det_proc *pp = det_proc_state(d, t, parent), *cp = det_proc_state(d, t, child);
	uint64_t now = f->h.ts_ns;
	struct det_alert *a;

	if (!pp || !cp)
		return;
	/* the parent forks: no idle child of its own parent; the child is one */
	det_pile_remove(d, t, parent);
	d->forks++;
	if (!pp->nforks++)
		pp->first_fork_ns = now;
	pp->last_fork_ns = now;
	if (!d->forker_listed[parent]) {
		d->forker_listed[parent] = 1;
		d->forkers[d->nforkers++] = parent; /* one entry a slot: within cap */
	}
	pp->fork_busy = (struct det_busy){ now, f->parent_run_ns, f->parent_wait_ns,
					   f->parent_throttled_ns, pp->nforks };
	pp->fork_tid = f->parent_tid;
	det_pile_add(d, t, child, PILE_FORKS, now, fn, ctx);
	if (f->parent_threads > 1)
		pp->mt_fork = true;
	a = det_alert_of(d, pp);
	/*
	 * A storm's job that forks is no idle job.  While an action holds the
	 * storm, what it forks is a member like it (the kernel stops it too);
	 * otherwise it leaves the storm, and what it starts is looked at as
	 * any tree (a storm nobody acts on must not hide a bomb below it).
	 */
	if (a && a->pattern == DET_SPAWN_STORM &&
	    !(d->pinned && d->pinned(d->pin_ctx, det_id_of_alert(d, a)))) {
		pp->alert = 0;
		pp->flagged = false;
		det_member_changed(d, t, a, now, fn, ctx);
		a = NULL;
	}
	if (a) { /* membership is inherited at fork */
		a->last_active_ns = now;
		cp->alert = pp->alert;
		cp->flagged = true;
		/* the peak between two counts: births since the last one (a
		 * statistic only; decisions use counts) */
		if (++a->forks_since_count > a->exits_since_count &&
		    a->live + a->forks_since_count - a->exits_since_count > a->peak)
			a->peak = a->live + a->forks_since_count - a->exits_since_count;
		/* it may have doubled since the last count: look again */
		if (a->forks_since_count >= a->live)
			det_member_changed(d, t, a, now, fn, ctx);
		return;
	}
	if (!look_at_copies(d, t, child, LOOK_NEW_COPY, now, fn, ctx))
		look_at_kin(d, t, child, now, fn, ctx);
}

static void on_exec(struct detector *d, const struct proctable *t, int32_t slot, uint64_t now,
		    det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *pp = det_proc_state(d, t, e->parent);

	/* its parent starts other programs: its fresh forks will exec too */
	if (pp && !det_same_program(e, pt_get(t, e->parent), false))
		pp->spawner = true;
	det_pile_remove(d, t, slot);
	if (!det_storm_join(d, t, slot, now, fn, ctx))
		det_pile_add(d, t, slot, PILE_EXECS, now, fn, ctx);
	if (!det_proc_state(d, t, slot)->alert &&
	    !look_at_copies(d, t, slot, LOOK_NEW_COPY, now, fn, ctx))
		look_at_kin(d, t, slot, now, fn, ctx);
}

static void on_thread_start(struct detector *d, const struct proctable *t, int32_t slot,
			    const struct ft_fork *f, det_verdict_fn fn, void *ctx)
{
	struct det_proc *p = det_proc_state(d, t, slot);
	uint32_t n = f->parent_threads, level = 0, need = 0;
	struct det_verdict v;
	struct det_alert *a;

	if (!p || n < 16)
		return;
	/* the first record at or above each power of two marks that milestone */
	while (level + 1 < DET_THREAD_LEVELS && (16u << (level + 1)) <= n)
		level++;
	if (!p->thr_ns[level])
		p->thr_ns[level] = f->h.ts_ns;
	while ((16u << need) < d->c.thread_min && need + 1 < DET_THREAD_LEVELS)
		need++;
	if (level < need || p->thr_reported || p->alert)
		return;
	/* every doubling from 16 up to thread_min came fast */
	for (uint32_t k = 1; k <= need; k++)
		if (!p->thr_ns[k - 1] || !p->thr_ns[k] ||
		    p->thr_ns[k] - p->thr_ns[k - 1] > d->c.thread_doubling_ns)
			return;
	p->thr_reported = true;
	/* a tree of one process (and what it forks from now on): actionable.
	 * Only the process is tagged: its children from before the verdict
	 * are not what exploded (a daemon's shims and containers) */
	a = det_new_alert(d, t, DET_THREAD_EXPLOSION, pt_get(t, slot), 1, f->h.ts_ns, fn, ctx);
	if (!a)
		return;
	p->alert = det_id_of_alert(d, a);
	p->flagged = true;
	det_base_verdict(&v, DET_ALERT, DET_THREAD_EXPLOSION, f->h.ts_ns, t, slot);
	v.tasks = 1;
	v.threads = n;
	v.seq = 1;
	v.tree = det_id_of_alert(d, a);
	v.peak_tasks = 1;
	v.doubling_ms = (double)(p->thr_ns[need] - p->thr_ns[need - 1]) / 1e6;
	snprintf(v.evidence, sizeof(v.evidence),
		 "threads doubled from 16 to %u, each doubling within %.0f ms", n,
		 (double)d->c.thread_doubling_ns / 1e6);
	fn(ctx, &v);
}

/*
 * Did a child fail on its own?  An exit code, or a signal a program raises
 * against itself (a crash, an abort, a limit).  SIGTERM, SIGKILL, SIGINT,
 * SIGHUP and the like come from someone else: a pool shutting its workers
 * down, a test terminating what it started, are no restarts.
 */
static bool crashed(uint32_t status)
{
	switch (status & 0x7f) {
	case 0:
		return status != 0;
	case 4: case 5: case 6: case 7: case 8: case 11: case 24: case 25: case 31:
		return true; /* SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGSEGV SIGXCPU SIGXFSZ SIGSYS */
	default:
		return false;
	}
}

/* What a restart restarts: the program with its arguments, as given. */
static uint64_t restart_identity(const struct pt_entry *e)
{
	uint64_t h = e->prog.hash ^ 0xcbf29ce484222325ull;

	for (const char *c = e->cmdline; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

/* A child exited: a parent re-spawning one program that fails at once? */
static void on_process_exit(struct detector *d, const struct proctable *t, int32_t slot,
			    const struct ft_exit *x, det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *p, *cp = det_proc_state(d, t, slot);
	struct det_alert *a = det_alert_of(d, cp);
	struct det_verdict v;
	bool failed, same;

	det_pile_remove(d, t, slot);
	/* a flagged tree's members die by forktrace's hand: no leak of theirs */
	if (cp && !cp->flagged)
		det_zombie_exit(d, t, slot, x, fn, ctx);
	if (a) {
		a->exits_since_count++;
		det_member_changed(d, t, a, x->h.ts_ns, fn, ctx);
	}
	/* forktrace's own kills (members of flagged trees) are no evidence */
	if (cp->flagged || !e->born_ns || e->parent == PT_NONE || !(p = det_proc_state(d, t, e->parent)))
		return;
	failed = crashed(x->exit_code) && x->h.ts_ns - e->born_ns <= d->c.restart_max_life_ns;
	/* one command restarted, not a runner running different tests, nor a
	 * test script running one program on many inputs */
	same = p->fail_run && restart_identity(e) == p->fail_prog &&
	       x->h.ts_ns <= p->fail_first_ns + d->c.restart_window_ns;
	/*
	 * Other children (the watchdog's own sleep, say) neither count nor
	 * reset the run; the restarted program surviving does.
	 */
	if (!failed) {
		if (same)
			p->fail_run = p->restart_reported = 0;
		return;
	}
	if (!same) {
		p->fail_run = p->restart_reported = 0;
		p->fail_first_ns = x->h.ts_ns;
		p->fail_prog = restart_identity(e);
	}
	p->fail_run++;
	/* report at restart_min failures, then at each doubling */
	if (p->fail_run < d->c.restart_min || p->fail_run < 2 * p->restart_reported)
		return;
	/* one alert per parent; later runs and growth are updates */
	det_base_verdict(&v, p->restart_seq ? DET_ALERT_UPDATE : DET_ALERT, DET_RESTART_LOOP,
		     x->h.ts_ns, t, e->parent);
	v.seq = ++p->restart_seq;
	p->restart_reported = p->fail_run;
	v.restarts = p->fail_run;
	v.child = e->key.tgid;
	v.births_per_s =
	    (double)p->fail_run * 1e9 / (double)(x->h.ts_ns - p->fail_first_ns + 1000000);
	snprintf(v.evidence, sizeof(v.evidence),
		 "%u children '%.16s' of one program died within %.0f ms each (last: %s %u)",
		 p->fail_run, e->comm, (double)d->c.restart_max_life_ns / 1e6,
		 (x->exit_code & 0x7f) ? "signal" : "exit code",
		 (x->exit_code & 0x7f) ? x->exit_code & 0x7f : (x->exit_code >> 8) & 0xff);
	fn(ctx, &v);
}

/* The highest copy above slot: where a tree's findings are counted. */
static int32_t copy_top(const struct proctable *t, int32_t slot)
{
	int32_t top = slot;

	for (int n = 0, a = det_copy_ancestor(t, slot, PT_NONE, false, 0);
	     a != PT_NONE && n < DET_CLIMB_MAX; a = det_copy_ancestor(t, a, PT_NONE, false, 0), n++)
		top = a;
	return top;
}

/*
 * The flagged tree (an alert's) in slot's cgroup, else in its uid unless
 * that is root's, with the most live tasks: the likeliest user of the limit
 * slot's fork hit.  A pod's pids.max counts its own cgroup; RLIMIT_NPROC
 * counts a uid across pods, but never root's (uid 0 is shared by every
 * root container, and RLIMIT_NPROC does not apply to it).
 */
static struct det_alert *culprit_of(struct detector *d, const struct proctable *t, int32_t slot)
{
	const struct pt_entry *ce = pt_get(t, slot);
	struct det_alert *best = NULL;
	bool best_cg = false;

	for (uint32_t i = 0; i < DET_MAX_ALERTS; i++) {
		struct det_alert *a = &d->alerts[i];
		int32_t r;
		const struct pt_entry *re;
		bool cg;

		if (!a->used || a->pattern == DET_THREAD_EXPLOSION)
			continue;
		r = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
		re = pt_get(t, r);
		if (!re)
			continue;
		cg = re->cgroup_id && re->cgroup_id == ce->cgroup_id;
		if (!cg && (re->uid != ce->uid || !ce->uid))
			continue;
		if (!best || (cg && !best_cg) || (cg == best_cg && a->live > best->live)) {
			best = a;
			best_cg = cg;
		}
	}
	return best;
}

/*
 * The kernel refused slot's fork(s): counted at the refused tree (the
 * flagged tree slot is in, else the highest copy of its program above
 * it), reported at the first refusal and at each doubling of the count,
 * with who used the limit up.
 */
static void on_fork_refused(struct detector *d, const struct proctable *t, int32_t slot,
			    const struct ft_fork_fail *f, det_verdict_fn fn, void *ctx)
{
	struct det_proc *tp;
	struct det_alert *own, *culprit;
	const struct pt_entry *ce = pt_get(t, slot);
	struct det_verdict v;
	int32_t top;
	size_t off;

	/*
	 * Refusals are no evidence of growth: a tree stalled at a limit a
	 * neighbour used up (pid_max, a shared RLIMIT_NPROC, a pids.max others
	 * filled) must not look any more like a runaway for it.  They are
	 * reported, and blamed on a flagged tree, never counted as forks.
	 * Unless the tree itself holds the pids.max that refused it: then a
	 * copy that keeps forking is a generation denied (count_denied).
	 */
	own = det_alert_of(d, det_proc_state(d, t, slot));
	/* a refusal by another limit says nothing of the cap: it keeps the
	 * last one (a slot freed between the refusal and the kernel's read
	 * of the counter makes a record say 0) */
	if (f->pids_limit && f->syscall != FT_CALL_VFORK) {
		det_proc_state(d, t, slot)->own_refused_ns = f->h.ts_ns;
		det_proc_state(d, t, slot)->own_refused_limit = f->pids_limit;
		if (!own && look_at_copies(d, t, slot, LOOK_REFUSED, f->h.ts_ns, fn, ctx))
			own = det_alert_of(d, det_proc_state(d, t, slot));
	}
	top = own ? pt_find(t, own->root.tgid, own->root.start_ticks * FT_NS_PER_TICK)
		  : copy_top(t, slot);
	if (top == PT_NONE)
		top = slot;
	tp = det_proc_state(d, t, top);
	tp->refused += f->count;
	if (tp->refused < 2 * tp->refused_reported)
		return;
	tp->refused_reported = tp->refused;
	det_base_verdict(&v, tp->refused_seq ? DET_ALERT_UPDATE : DET_ALERT, DET_FORKS_REFUSED,
		     f->h.ts_ns, t, top);
	v.seq = ++tp->refused_seq;
	v.err = f->err;
	v.refused = tp->refused;
	v.child = ce->key.tgid;
	culprit = culprit_of(d, t, slot);
	off = (size_t)snprintf(v.evidence, sizeof(v.evidence),
			       "%llu forks refused in this tree (errno %d, last by %u '%.16s'); ",
			       (unsigned long long)tp->refused, -f->err, ce->key.tgid, ce->comm);
	if (culprit) {
		v.culprit = culprit->root.tgid;
		v.culprit_comm = culprit->comm;
		v.culprit_tree = det_id_of_alert(d, culprit);
		v.culprit_tasks = culprit->live;
		snprintf(v.evidence + off, sizeof(v.evidence) - off,
			 "the limit went to flagged tree %u, %s %u '%.16s', %u live tasks%s",
			 v.culprit_tree, det_pattern_name(culprit->pattern), v.culprit,
			 culprit->comm, culprit->live, culprit == own ? " (itself)" : "");
	} else {
		v.culprit_comm = "";
		snprintf(v.evidence + off, sizeof(v.evidence) - off,
			 "no flagged tree in its cgroup or uid to blame");
	}
	fn(ctx, &v);
}

/*
 * fork_while_threaded: decided once the child had exec_grace to exec.  One
 * finding per tree of copies of one program, counted at its highest copy,
 * with an update at each doubling of the count.
 */
static void resolve_pending(struct detector *d, const struct proctable *t, uint64_t now, bool all,
			    det_verdict_fn fn, void *ctx)
{
	while (d->pend_len) {
		struct pending_fork *pf = &d->pending[d->pend_head];
		int32_t c, p, top;
		const struct pt_entry *ce;
		struct det_proc *ps, *agg;
		struct det_verdict v;

		if (!all && pf->ts + d->c.exec_grace_ns > now)
			break;
		d->pend_head = (d->pend_head + 1) % DET_PENDING;
		d->pend_len--;
		c = pt_find(t, pf->child.tgid, pf->child.start_ticks * FT_NS_PER_TICK);
		ce = pt_get(t, c);
		if (ce && ce->exec_seen)
			continue; /* fork+exec: the safe use */
		p = pt_find(t, pf->parent.tgid, pf->parent.start_ticks * FT_NS_PER_TICK);
		ps = det_proc_state(d, t, p);
		if (!ps || ps->fwt_reported_self)
			continue;
		ps->fwt_reported_self = true;
		top = copy_top(t, p);
		agg = det_proc_state(d, t, top);
		if (++agg->fwt_count < 2 * agg->fwt_reported)
			continue;
		det_base_verdict(&v, DET_FINDING, DET_FORK_WHILE_THREADED, pf->ts, t, p);
		v.seq = agg->fwt_reported ? 2 : 1;
		v.kind = DET_FINDING;
		agg->fwt_reported = agg->fwt_count;
		v.count = agg->fwt_count;
		v.threads = pf->threads;
		v.child = pf->child.tgid;
		snprintf(v.evidence, sizeof(v.evidence),
			 "forked child %u while running %u threads; the child did not exec "
			 "within %.0f ms (locks held by other threads stay locked in it); "
			 "%u processes of this tree (under %u) did so",
			 pf->child.tgid, pf->threads, (double)d->c.exec_grace_ns / 1e6,
			 agg->fwt_count, pt_get(t, top)->key.tgid);
		fn(ctx, &v);
	}
}

void det_feed(struct detector *d, const struct proctable *t, const union ft_record *rec,
	      int32_t slot, det_verdict_fn fn, void *ctx)
{
	const struct ft_header *h = &rec->h;
	struct det_alert *a;

	if (h->ts_ns) {
		resolve_pending(d, t, h->ts_ns, false, fn, ctx);
		if (d->dirty_alerts)
			det_recount_due(d, t, h->ts_ns, fn, ctx);
	}
	if (h->type == FT_EV_ACTION) {
		/* signalled in the kernel (a flagged tree's fork, or the guard):
		 * the deaths of the child and its forker are forktrace's doing,
		 * no evidence of anything */
		struct det_proc *c = det_proc_state(d, t, pt_find(t, h->tgid, h->start_ns));
		struct det_proc *f = det_proc_state(d, t, pt_find_live_pid(t, h->ppid));

		if (c)
			c->flagged = true;
		if (f)
			f->flagged = true;
		return;
	}
	if (h->type == FT_EV_REAP) {
		det_on_reap(d, t, slot, h); /* its subject may be gone from the table */
		return;
	}
	if (h->type == FT_EV_LOST) {
		if (rec->lost.lost_type == FT_EV_REAP || rec->lost.lost_type == FT_EV_EXIT)
			det_zombies_forget(d);
		return;
	}
	if (slot == PT_NONE || !pt_get(t, slot))
		return;
	switch (h->type) {
	case FT_EV_FORK_FAIL:
		on_fork_refused(d, t, slot, &rec->fork_fail, fn, ctx);
		break;
	case FT_EV_FORK:
		if (h->flags & FT_F_THREAD) {
			on_thread_start(d, t, slot, &rec->fork, fn, ctx);
			break;
		}
		/* a vfork or posix_spawn child copies no memory, and no lock
		 * another thread held: no fork_while_threaded */
		if (rec->fork.parent_threads > 1 && !(h->flags & FT_F_SHARED_VM) &&
		    pt_get(t, slot)->parent != PT_NONE) {
			struct pending_fork *pf;

			if (d->pend_len == DET_PENDING) {
				d->pend_dropped++;
			} else {
				pf = &d->pending[(d->pend_head + d->pend_len++) % DET_PENDING];
				pf->child = pt_get(t, slot)->key;
				pf->parent = pt_get(t, pt_get(t, slot)->parent)->key;
				pf->threads = rec->fork.parent_threads;
				pf->ts = h->ts_ns;
			}
		}
		on_process_fork(d, t, slot, &rec->fork, fn, ctx);
		break;
	case FT_EV_EXEC:
		on_exec(d, t, slot, h->ts_ns, fn, ctx);
		break;
	case FT_EV_EXIT:
		if (!(h->flags & FT_F_THREAD))
			on_process_exit(d, t, slot, &rec->exit, fn, ctx);
		break;
	case FT_EV_GONE:
		/* gone from /proc: exited (its exit lost) and reaped */
		det_pile_remove(d, t, slot);
		det_reaped(d, t, slot, pt_get(t, slot)->parent);
		a = det_alert_of(d, det_proc_state(d, t, slot));
		if (a) {
			a->exits_since_count++;
			det_member_changed(d, t, a, h->ts_ns, fn, ctx);
		}
		break;
	default:
		break;
	}
}

void det_finish(struct detector *d, const struct proctable *t, uint64_t now, det_verdict_fn fn,
		void *ctx)
{
	resolve_pending(d, t, now, true, fn, ctx);
	for (uint32_t i = 0; i < DET_MAX_ALERTS && d->dirty_alerts; i++)
		if (d->alerts[i].used && d->alerts[i].dirty)
			det_recount(d, t, &d->alerts[i], now, fn, ctx);
}

/*
 * The root among chain[0..n-1], copies top-down (det_choose_root), with
 * the facts of each: d->branches must hold a profile of chain[0].  "Still
 * forking" means within `recent`.  PT_NONE: only an interactive shell.
 */
int32_t det_chain_root(struct detector *d, const struct proctable *t, const int32_t *chain,
		       uint32_t n, uint64_t recent, uint64_t now)
{
	/* zeroed: gcc cannot see that det_choose_root reads only the first i */
	struct det_root_candidate cand[DET_CLIMB_MAX] = { 0 };
	const struct pt_entry *bottom;
	uint32_t i, top = 0;

	if (!n)
		return PT_NONE;
	/* nothing above a privilege boundary from the lowest copy is a candidate */
	bottom = pt_get(t, chain[n - 1]);
	for (i = 0; i + 1 < n; i++) {
		const struct pt_entry *e = pt_get(t, chain[i]);

		if (det_privilege_boundary(e->uid, e->cgroup_id, bottom->uid, bottom->cgroup_id))
			top = i + 1;
	}
	chain += top;
	n -= top;
	for (i = 0; i < n && i < DET_CLIMB_MAX; i++) {
		cand[i].interactive = det_interactive(pt_get(t, chain[i]));
		cand[i].live_branches = d->branches[chain[i]];
		cand[i].growing_branches = d->growing[chain[i]];
		cand[i].idle_branches = d->idle[chain[i]];
		cand[i].alive = pt_get(t, chain[i])->state == PT_ALIVE;
		cand[i].forking = det_proc_state(d, t, chain[i])->last_fork_ns + recent >= now;
	}
	i = det_choose_root(cand, i);
	return i < n ? chain[i] : PT_NONE;
}

void det_get_drops(const struct detector *d, struct det_drops *out)
{
	out->pending = d->pend_dropped;
	out->alerts = d->alerts_dropped;
	out->retired = d->alerts_retired;
}

void det_get_work(const struct detector *d, struct det_work *out)
{
	out->profiles = d->profiles;
	out->nodes = d->profiled_nodes;
	out->top_looked = d->top_looked;
	out->top_counted = d->top_counted;
	out->top_cut = d->top_cut;
}
