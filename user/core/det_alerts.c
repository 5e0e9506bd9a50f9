// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The detector's alerts, from raise to end: a slot for each flagged tree,
 * its members tagged, its verdicts (alert, updates as it doubles, end),
 * its live members recounted as they fork and die, and the questions the
 * pipeline and the policy ask of it by id.  When to look, and what a look
 * finds, is user/core/detector.c's; the profile a look takes is
 * user/core/det_profile.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/detector.h"
#include "core/utf8.h"
#include "core/det_int.h"

/*
 * N doublings of a tree as nanoseconds, saturated: a doubling time comes from
 * the stream's timestamps, and a replayed or hostile stream's can be anything.
 */
uint64_t det_doublings_ns(double doubling_ms, double n)
{
	double ns = doubling_ms * n * 1e6;

	return ns <= 0 ? 0 : ns >= 1.8e19 ? UINT64_MAX : (uint64_t)ns;
}

static void fill_tree_verdict(struct det_verdict *v, const struct profile *pr)
{
	v->tasks = pr->live;
	v->generations = pr->generations;
	v->births_per_s = pr->births_per_s;
	v->doubling_ms = pr->doubling_ms;
	v->ngen = pr->ngen;
	memcpy(v->live_per_gen, pr->live_per_gen, sizeof(v->live_per_gen));
	memcpy(v->forkers_per_gen, pr->forkers_per_gen, sizeof(v->forkers_per_gen));
	for (uint32_t g = 0; g < DET_MAX_GEN; g++)
		if (pr->forkers_per_gen[g] && g + 1 > v->ngen)
			v->ngen = g + 1;
}

void det_base_verdict(struct det_verdict *v, enum det_kind kind, enum det_pattern p,
			 uint64_t now, const struct proctable *t, int32_t root)
{
	const struct pt_entry *re = pt_get(t, root);
	/* the process that forked it, not an ancestor it was handed to */
	const struct pt_entry *le = pt_parent_forked(t, root) ? pt_get(t, re->parent) : NULL;

	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->pattern = p;
	v->ts_ns = now;
	v->root = re->key.tgid;
	v->root_start_ns = re->start_ns;
	v->root_comm = re->comm;
	v->root_exe = re->filename;
	v->cmdline = re->cmdline;
	v->launcher_comm = v->launcher_cmdline = "";
	if (le) {
		v->launcher = le->key.tgid;
		v->launcher_comm = le->comm;
		v->launcher_cmdline = le->cmdline;
	} else {
		v->launcher = re->lineage.tgid;
	}
	v->doubling_ms = -1;
}

/* What the profile shows, in words that hold whatever its numbers are. */
static void tree_evidence(struct det_verdict *v, const struct profile *pr, enum det_pattern p)
{
	size_t off, len = sizeof(v->evidence);

	off = (size_t)snprintf(v->evidence, len,
			       "%u live copies of one program; copies forked copies for %u "
			       "generations in a row (forkers by generation:",
			       pr->live_copies, pr->generations);
	for (uint32_t g = 0; g < pr->ngen && g < DET_MAX_GEN && off < len; g++)
		off +=
		    (size_t)snprintf(v->evidence + off, len - off, " %u", pr->forkers_per_gen[g]);
	if (off < len)
		off += (size_t)snprintf(v->evidence + off, len - off,
					"); median copy %.1f s old; %u of %u processes ran "
					"other programs",
					pr->doubling_ms / 1e3, pr->other, pr->members);
	if (off >= len)
		return;
	if (p == DET_RECURSIVE_SPAWN)
		off += (size_t)snprintf(v->evidence + off, len - off,
					"; %u of %u copies exec'd the program again (%u the same "
					"command line in the same directory)",
					pr->exec_edges, pr->exec_edges + pr->fork_edges,
					pr->clone_edges);
	else if (p == DET_NESTED_POOL)
		off += (size_t)snprintf(v->evidence + off, len - off,
			 "; %u of %u forkers started their copies in one burst (%u "
			 "multithreaded), as pools do",
			 pr->bursts, pr->settled, pr->mt_forkers);
	else
		off += (size_t)snprintf(v->evidence + off, len - off,
					"; copies are forks without exec");
	if (p == DET_RECURSIVE_SPAWN && pr->script && pr->fresh_forkers && off < len)
		off += (size_t)snprintf(v->evidence + off, len - off,
					"; %u of %u forking copies ran in a directory made for them",
					pr->fresh_forkers, pr->forker_execs);
	if (pr->generations < 3 && pr->wide_gen1 >= 2 && off < len)
		off += (size_t)snprintf(v->evidence + off, len - off,
					"; a fan-out: %u of the root's copies each started %u "
					"copies or more, %u of theirs alive",
					pr->wide_gen1, FANOUT_BRANCHES, pr->live_per_gen[2]);
	if (pr->refused_copies && off < len)
		off += (size_t)snprintf(v->evidence + off, len - off,
					"; %u copies of the last generation were refused "
					"forks by a pids.max the tree itself fills",
					pr->refused_copies);
	if (pr->by_kin && off < len)
		snprintf(v->evidence + off, len - off,
			 "; copies are kin, not identical (a binary of one size at new paths, "
			 "a script of one name in new places, or new -c text)");
}

uint16_t det_id_of_alert(const struct detector *d, const struct det_alert *a)
{
	return (uint16_t)(a - d->alerts + 1);
}

/* Tag every process of root's subtree, but another alert's, as a member of a. */
static void tag_subtree(struct detector *d, const struct proctable *t, int32_t root, uint16_t a)
{
	uint32_t n = det_walk_subtree(d, t, root, true);

	for (uint32_t k = 0; k < n; k++) {
		struct det_proc *p = det_proc_state(d, t, d->order[k]);

		p->alert = a;
		p->flagged = true;
	}
}

/*
 * The live members of a flagged tree, counted in the table: the one count
 * detector and policy share (a second tally, kept per fork and exit, drifts
 * when a resync and a late exit report one death twice).
 */
static uint32_t count_members(struct detector *d, const struct proctable *t, struct det_alert *a)
{
	int32_t r = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
	uint16_t id = det_id_of_alert(d, a);
	uint32_t n, live = 0;

	if (r == PT_NONE) { /* root evicted: every tagged member, wherever */
		for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i))
			live += pt_get(t, i)->state == PT_ALIVE && det_proc_state(d, t, i)->alert == id;
		return live;
	}
	n = det_walk_subtree(d, t, r, false);
	for (uint32_t k = 0; k < n; k++)
		live += pt_get(t, d->order[k])->state == PT_ALIVE &&
			det_proc_state(d, t, d->order[k])->alert == id;
	return live;
}

static void end_alert(struct detector *d, struct det_alert *a, uint64_t now, det_verdict_fn fn,
		      void *ctx);

/* The tree's members stop pointing at the alert (its slot is reused). */
static void untag(struct detector *d, const struct proctable *t, struct det_alert *a)
{
	int32_t r = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
	uint16_t id = det_id_of_alert(d, a);
	uint32_t n;

	if (r == PT_NONE) {
		for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i))
			if (det_proc_state(d, t, i)->alert == id)
				det_proc_state(d, t, i)->alert = 0;
		return;
	}
	n = det_walk_subtree(d, t, r, false);
	for (uint32_t k = 0; k < n; k++)
		if (det_proc_state(d, t, d->order[k])->alert == id)
			det_proc_state(d, t, d->order[k])->alert = 0;
}

/*
 * A slot for a new alert: a free one, else the one of the least recently
 * active alert that no action holds, retired (ended, with its tree alive:
 * flagged again if it grows again).  Flagged trees nobody acts on (observed,
 * exempt, dry run) would otherwise fill the table for as long as one
 * member lives, and a neighbour could make 1,023 of them to silence
 * detection for everyone.  NULL (counted) only when every alert is held
 * by an action.
 */
static struct det_alert *alert_slot(struct detector *d, const struct proctable *t, uint64_t now,
				    det_verdict_fn fn, void *ctx)
{
	struct det_alert *victim = NULL;

	/* a free id an action still holds is not free yet */
	for (uint32_t i = 0; i < DET_MAX_ALERTS; i++)
		if (!d->alerts[i].used &&
		    !(d->pinned && d->pinned(d->pin_ctx, det_id_of_alert(d, &d->alerts[i]))))
			return &d->alerts[i];
	for (uint32_t i = 0; i < DET_MAX_ALERTS; i++) {
		struct det_alert *a = &d->alerts[i];

		if (d->pinned && d->pinned(d->pin_ctx, det_id_of_alert(d, a)))
			continue;
		if (!victim || a->last_active_ns < victim->last_active_ns)
			victim = a;
	}
	if (!victim) {
		d->alerts_dropped++;
		return NULL;
	}
	untag(d, t, victim);
	victim->retired = true;
	end_alert(d, victim, now, fn, ctx);
	d->alerts_retired++;
	return victim;
}

struct det_alert *det_new_alert(struct detector *d, const struct proctable *t,
				   enum det_pattern p, const struct pt_entry *root, uint32_t live,
				   uint64_t now, det_verdict_fn fn, void *ctx)
{
	struct det_alert *a = alert_slot(d, t, now, fn, ctx);

	if (!a)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->pattern = p;
	a->root = root->key;
	a->root_start_ns = root->start_ns;
	a->live = a->peak = a->reported_tasks = live;
	a->seq = 1;
	a->first_ns = a->last_active_ns = now;
	a->next_count_ns = now + RECOUNT_NS;
	memcpy(a->comm, root->comm, sizeof(a->comm));
	memcpy(a->exe, root->filename, sizeof(a->exe));
	memcpy(a->cmdline, root->cmdline, sizeof(a->cmdline));
	return a;
}

void det_set_pinned(struct detector *d, bool (*pinned)(void *ctx, uint32_t tree), void *ctx)
{
	d->pinned = pinned;
	d->pin_ctx = ctx;
}

/*
 * x is the highest copy found to be a runaway; chain[0..n-1] the copies
 * from x down towards the fork that triggered the look.  Choose the root
 * (det_choose_root), profile it and raise the alert.
 */
void det_raise_alert(struct detector *d, const struct proctable *t, const int32_t *chain,
			uint32_t n, const struct profile *top, uint64_t now, det_verdict_fn fn,
			void *ctx)
{
	uint64_t recent;
	struct det_verdict v;
	struct det_alert *a;
	struct profile pr;
	enum det_pattern p;
	int32_t root;

	/* "recently": within two doublings of the runaway, or the window */
	recent = d->c.window_ns;
	if (det_doublings_ns(top->doubling_ms, 2) > recent)
		recent = det_doublings_ns(top->doubling_ms, 2);
	/* branches[] still holds the profile of chain[0], the widest view */
	root = det_chain_root(d, t, chain, n, recent, now);
	if (root == PT_NONE)
		return;
	det_profile(d, t, root, now, &pr);
	p = det_name_runaway(&pr);
	a = det_new_alert(d, t, p, pt_get(t, root), pr.live, now, fn, ctx);
	if (!a)
		return;
	a->by_kin = d->by_kin;
	tag_subtree(d, t, root, det_id_of_alert(d, a));
	det_base_verdict(&v, DET_ALERT, p, now, t, root);
	fill_tree_verdict(&v, &pr);
	tree_evidence(&v, &pr, p);
	v.seq = 1;
	v.tree = det_id_of_alert(d, a);
	v.peak_tasks = a->peak;
	fn(ctx, &v);
}

static void end_alert(struct detector *d, struct det_alert *a, uint64_t now, det_verdict_fn fn,
		      void *ctx)
{
	struct det_verdict v;

	memset(&v, 0, sizeof(v));
	v.kind = DET_ALERT_END;
	v.pattern = a->pattern;
	v.ts_ns = now;
	v.root = a->root.tgid;
	v.root_start_ns = a->root_start_ns;
	v.root_comm = a->comm;
	v.root_exe = a->exe;
	v.cmdline = a->cmdline;
	v.launcher_comm = v.launcher_cmdline = "";
	v.peak_tasks = a->peak;
	v.seq = ++a->seq;
	v.tree = det_id_of_alert(d, a);
	v.doubling_ms = -1;
	v.duration_ns = now - a->first_ns;
	v.retired = a->retired;
	if (a->retired)
		snprintf(v.evidence, sizeof(v.evidence),
			 "retired with its tree alive: every alert slot was in use and no "
			 "action held this one; flagged again if it grows");
	if (a->dirty)
		d->dirty_alerts--;
	a->used = a->dirty = false;
	fn(ctx, &v);
}

/* Growth per minute: gained since since_ns (0 when too short to say). */
double det_growth_per_minute(uint32_t gained, uint64_t since_ns, uint64_t now)
{
	return since_ns && now > since_ns + 100000000ull
		   ? (double)gained * 60e9 / (double)(now - since_ns)
		   : 0;
}

/* What a spawn_storm verdict (alert or update) says of its jobs. */
void det_storm_verdict(struct detector *d, struct det_alert *a, struct det_verdict *v,
			  uint64_t now, uint32_t child)
{
	v->seq = a->seq;
	v->tree = det_id_of_alert(d, a);
	v->tasks = v->leaked = a->live;
	v->peak_tasks = a->peak;
	/* the pace since the growth began: its nearest limit, and whether to act */
	v->per_minute = det_growth_per_minute(a->live, a->storm_since, now);
	v->child = child;
}

/*
 * Recount a flagged tree's live members: end the alert when it is empty,
 * report an update when it doubled since the last report.
 */
void det_recount(struct detector *d, const struct proctable *t, struct det_alert *a,
		    uint64_t now, det_verdict_fn fn, void *ctx)
{
	int32_t r;
	struct det_verdict v;
	struct profile pr;

	if (a->dirty)
		d->dirty_alerts--;
	a->dirty = false;
	a->forks_since_count = a->exits_since_count = 0;
	a->next_count_ns = now + RECOUNT_NS;
	a->live = count_members(d, t, a);
	if (a->live > a->peak)
		a->peak = a->live;
	/*
	 * A storm's parent still holds requests from jobs stopped mid-way (a
	 * job runner's queue): empty, it is over once fewer than STORM_JOINS
	 * jobs came in the last window (a trickle of jobs does not keep it,
	 * and the kernel tree id of its action, for ever); a job that comes
	 * meanwhile is one of its members.
	 */
	if (!a->live && a->pattern == DET_SPAWN_STORM && a->storm_joins >= STORM_JOINS) {
		/* the oldest of the latest STORM_JOINS joins */
		uint64_t oldest = a->storm_join_ns[a->storm_joins % STORM_JOINS];

		if (now < oldest + d->c.window_ns) {
			a->next_count_ns = oldest + d->c.window_ns;
			a->dirty = true;
			d->dirty_alerts++;
			return;
		}
	}
	if (!a->live) {
		end_alert(d, a, now, fn, ctx);
		return;
	}
	r = pt_find(t, a->root.tgid, a->root.start_ticks * FT_NS_PER_TICK);
	/* a tree of one process: no tree profile to say */
	if (a->live < 2 * a->reported_tasks || r == PT_NONE || a->pattern == DET_THREAD_EXPLOSION)
		return;
	a->reported_tasks = a->live;
	if (a->pattern == DET_SPAWN_STORM) { /* a parent's jobs: no tree profile either */
		det_base_verdict(&v, DET_ALERT_UPDATE, a->pattern, now, t, r);
		a->seq++;
		det_storm_verdict(d, a, &v, now, 0);
		snprintf(v.evidence, sizeof(v.evidence),
			 "its idle jobs of one program ('%.200s') still doubling: %u now, "
			 "%.0f more a minute; this process is spared",
			 a->storm_cmd, a->live, v.per_minute);
		fn(ctx, &v);
		return;
	}
	d->by_kin = a->by_kin; /* the update counts copies as the alert did */
	det_profile(d, t, r, now, &pr);
	d->by_kin = false;
	det_base_verdict(&v, DET_ALERT_UPDATE, a->pattern, now, t, r);
	fill_tree_verdict(&v, &pr);
	tree_evidence(&v, &pr, a->pattern);
	v.tasks = a->live;
	v.seq = ++a->seq;
	v.tree = det_id_of_alert(d, a);
	v.peak_tasks = a->peak;
	fn(ctx, &v);
}

/*
 * A member forked or died: recount now, or soon if it was just done.  Once
 * as many deaths were reported as there were live members at the last
 * count, the tree may be empty: recount at once (a death reported twice,
 * by a resync and by its exit record, only brings a count forward).
 */
void det_member_changed(struct detector *d, const struct proctable *t, struct det_alert *a,
			   uint64_t now, det_verdict_fn fn, void *ctx)
{
	if (now >= a->next_count_ns || a->exits_since_count >= a->live) {
		det_recount(d, t, a, now, fn, ctx);
	} else if (!a->dirty) {
		a->dirty = true;
		d->dirty_alerts++;
	}
}

void det_recount_due(struct detector *d, const struct proctable *t, uint64_t now,
			det_verdict_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < DET_MAX_ALERTS && d->dirty_alerts; i++)
		if (d->alerts[i].used && d->alerts[i].dirty && now >= d->alerts[i].next_count_ns)
			det_recount(d, t, &d->alerts[i], now, fn, ctx);
}

uint32_t det_alert_id(const struct detector *d, uint32_t pid, uint64_t start_ns)
{
	for (uint32_t i = 0; i < DET_MAX_ALERTS; i++) {
		const struct det_alert *a = &d->alerts[i];

		if (a->used && a->root.tgid == pid && a->root.start_ticks == pt_ticks(start_ns))
			return i + 1;
	}
	return 0;
}

bool det_alert_rooted_at(const struct detector *d, uint32_t alert, uint32_t pid,
			 uint64_t start_ns)
{
	const struct det_alert *a = alert && alert <= DET_MAX_ALERTS ? &d->alerts[alert - 1] : NULL;

	return a && a->used && a->root.tgid == pid && a->root.start_ticks == pt_ticks(start_ns);
}

bool det_tree_lasting(const struct detector *d, uint32_t tree)
{
	const struct det_alert *a = tree && tree <= DET_MAX_ALERTS ? &d->alerts[tree - 1] : NULL;

	return a && a->used && a->pattern == DET_SPAWN_STORM;
}

uint32_t det_tree_of(struct detector *d, const struct proctable *t, int32_t slot)
{
	const struct det_proc *p = det_proc_state(d, t, slot);

	return det_alert_of(d, p) ? p->alert : 0;
}

uint32_t det_flag_tree(struct detector *d, const struct proctable *t, int32_t root, uint64_t now,
		       det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *re = pt_get(t, root);
	struct det_verdict v;
	struct det_alert *a;
	struct profile pr;
	enum det_pattern p;
	char words[sizeof(v.evidence)];
	uint32_t id;

	if (!re)
		return 0;
	id = det_alert_id(d, re->key.tgid, re->start_ns);
	if (id)
		return id;
	det_profile(d, t, root, now, &pr);
	p = det_name_runaway(&pr);
	a = det_new_alert(d, t, p, re, pr.live, now, fn, ctx);
	if (!a)
		return 0;
	id = det_id_of_alert(d, a);
	tag_subtree(d, t, root, (uint16_t)id);
	det_base_verdict(&v, DET_ALERT, p, now, t, root);
	fill_tree_verdict(&v, &pr);
	tree_evidence(&v, &pr, p);
	memcpy(words, v.evidence, sizeof(words));
	/* truncation keeps the start, which says who flagged it */
	snprintf(v.evidence, sizeof(v.evidence), "flagged by the operator; %.480s", words);
	v.by_operator = true;
	v.seq = 1;
	v.tree = id;
	v.peak_tasks = a->peak;
	fn(ctx, &v);
	return id;
}
