// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A parent's children piling up (zombies it never reaps, idle workers it
 * keeps starting) and a parent's jobs storming (spawn_storm): the
 * detector's rules about one parent's children, as opposed to a tree's
 * copies (user/core/detector.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/det_int.h"

/* --- a parent's children piling up: zombies and idle workers ----------- */


/* A parent's pile of children, reported: at the threshold, then at each doubling. */
static void pile_verdict(struct detector *d, const struct proctable *t, int32_t parent,
			 enum det_pattern p, uint32_t n, double rate, int32_t child, uint64_t now,
			 det_verdict_fn fn, void *ctx)
{
	struct det_proc *pp = det_proc_state(d, t, parent);
	const struct pt_entry *ce = pt_get(t, child), *pe = pt_get(t, parent);
	uint32_t *seq = p == DET_ZOMBIE_LEAK ? &pp->zombie_seq : &pp->leak_seq;
	struct det_verdict v;

	det_base_verdict(&v, *seq ? DET_ALERT_UPDATE : DET_ALERT, p, now, t, parent);
	v.seq = ++*seq;
	v.leaked = v.tasks = n;
	v.per_minute = rate;
	v.child = ce ? ce->key.tgid : 0;
	if (p == DET_ZOMBIE_LEAK)
		snprintf(v.evidence, sizeof(v.evidence),
			 "%u children exited and were never reaped (the first %.1f s ago), "
			 "%.0f more a minute; each holds a pid until its parent waits for it "
			 "(the parent is the remedy: its children are already dead)",
			 n, (double)(now - pp->zombie_first_ns) / 1e9, rate);
	else
		snprintf(v.evidence, sizeof(v.evidence),
			 "%u live children of one program ('%.200s'), none forking, "
			 "%.0f more a minute: hung or leaked workers, or jobs piling up",
			 n,
			 /* a fork without exec runs its parent's command line */
			 ce && ce->cmdline[0] ? ce->cmdline
			 : ce && ce->exec_seen ? ce->comm
			 : pe->cmdline[0] ? pe->cmdline : pe->comm,
			 rate);
	fn(ctx, &v);
}

/* Can children pile up under pe?  Not init's, a kernel thread's, or an
 * interactive shell's (a user's background jobs). */
static bool pile_parent(const struct pt_entry *pe)
{
	return pe && pe->key.tgid > 1 && !pe->kthread && pe->state == PT_ALIVE &&
	       !det_interactive(pe);
}

/* A new period of zombie ages, if the current one is over (see det_proc). */
static void zombie_periods(struct det_proc *pp, uint64_t period, uint64_t now)
{
	if (now < pp->z_cur_start + period)
		return;
	pp->z_old += pp->z_prev;
	/* a whole period with no death: the current one aged twice */
	if (now >= pp->z_cur_start + 2 * period) {
		pp->z_old += pp->z_cur;
		pp->z_cur = 0;
	}
	pp->z_prev = pp->z_cur;
	pp->z_prev_start = pp->z_cur_start;
	pp->z_cur = 0;
	pp->z_cur_start = now;
}

/* slot exited: a zombie of its parent until a reap record says otherwise */
void det_zombie_exit(struct detector *d, const struct proctable *t, int32_t slot,
			const struct ft_exit *x, det_verdict_fn fn, void *ctx)
{
	int32_t ps = pt_find(t, x->h.ppid, x->h.pstart_ns);
	struct det_proc *pp, *cp = det_proc_state(d, t, slot);
	uint64_t now = x->h.ts_ns;

	if (!d->reaps_seen || !cp || ps == PT_NONE || !pile_parent(pt_get(t, ps)))
		return;
	pp = det_proc_state(d, t, ps);
	if (!pp->zombies++) {
		pp->zombie_first_ns = now;
		pp->zombies_reported = 0;
		pp->z_cur_start = now;
	}
	zombie_periods(pp, d->c.zombie_min_age_ns, now);
	pp->z_cur++;
	cp->zombie_counted = true;
	/* the old ones decide; the report counts them all */
	if (pp->z_old < d->c.zombie_min || pp->zombies < 2 * pp->zombies_reported)
		return;
	pp->zombies_reported = pp->zombies;
	pile_verdict(d, t, ps, DET_ZOMBIE_LEAK, pp->zombies,
		     det_growth_per_minute(pp->zombies, pp->zombie_first_ns, now), slot, now, fn, ctx);
}

/*
 * slot (PT_NONE once pruned) is no zombie any more: the reaper ps took it
 * (the parent that counted it, unless that parent died and handed it to
 * another reaper, whose count never had it).
 */
void det_reaped(struct detector *d, const struct proctable *t, int32_t slot, int32_t ps)
{
	struct det_proc *pp, *cp = slot != PT_NONE ? det_proc_state(d, t, slot) : NULL;
	uint64_t died;

	if (cp) {
		if (!cp->zombie_counted)
			return;
		cp->zombie_counted = false;
	}
	if (ps == PT_NONE || !(pp = det_proc_state(d, t, ps)) || !pp->zombies)
		return;
	/* out of the age it died in; a child gone from the table died long ago */
	died = cp ? pt_get(t, slot)->died_ns : 0;
	if (died >= pp->z_cur_start && pp->z_cur)
		pp->z_cur--;
	else if (died >= pp->z_prev_start && pp->z_prev)
		pp->z_prev--;
	else if (pp->z_old)
		pp->z_old--;
	else if (pp->z_prev)
		pp->z_prev--;
	else if (pp->z_cur)
		pp->z_cur--;
	if (!--pp->zombies) {
		pp->zombies_reported = 0;
		pp->z_cur = pp->z_prev = pp->z_old = 0;
	}
}

/* A reap record: its header's parent is the reaper. */
void det_on_reap(struct detector *d, const struct proctable *t, int32_t slot,
		    const struct ft_header *h)
{
	d->reaps_seen = true;
	det_reaped(d, t, slot, pt_find(t, h->ppid, h->pstart_ns));
}

/*
 * Reaps or exits were lost (the ring was full): a zombie count can no
 * longer be trusted to come down.  Every count starts again from zero;
 * a leak that goes on is counted again within two periods.
 */
void det_zombies_forget(struct detector *d)
{
	for (uint32_t i = 0; i < d->cap; i++) {
		struct det_proc *p = &d->procs[i];

		p->zombie_counted = false;
		p->zombies = p->zombies_reported = 0;
		p->z_cur = p->z_prev = p->z_old = 0;
	}
}

/* slot forked, exec'd or exited: it is no idle child of its parent's pile now */
void det_pile_remove(struct detector *d, const struct proctable *t, int32_t slot)
{
	struct det_proc *cp = det_proc_state(d, t, slot), *pp;
	struct pile *pl;

	if (!cp || !cp->pile)
		return;
	/* its forker was evicted: the pile it counted in went with it */
	pp = pt_parent_forked(t, slot) ? det_proc_state(d, t, pt_get(t, slot)->parent) : NULL;
	pl = pp ? &pp->piles[cp->pile - 1] : NULL;
	cp->pile = 0;
	if (!pl || !pl->live)
		return;
	if (--pl->live < d->c.leak_min / 4)
		pl->half_ns = 0; /* a run of growth is over */
	if (!pl->live)
		pl->peak = pl->pow = 0;
}

/* parent's spawn_storm alert, if it has one still raised */
static struct det_alert *storm_of(struct detector *d, const struct proctable *t, int32_t parent)
{
	const struct pt_entry *pe = pt_get(t, parent);
	struct det_proc *pp = det_proc_state(d, t, parent);
	struct det_alert *a;

	if (!pp || !pp->storm || pp->storm > DET_MAX_ALERTS)
		return NULL;
	a = &d->alerts[pp->storm - 1];
	if (a->used && a->pattern == DET_SPAWN_STORM && a->root.tgid == pe->key.tgid &&
	    a->root.start_ticks == pe->key.start_ticks)
		return a;
	pp->storm = 0;
	return NULL;
}

/*
 * Could slot, a child of storm a's root, be one of its jobs?  Alive, in
 * no alert, running the storm's program (by kin: jobs of new -c text are
 * one storm), born since the growth began.  Jobs that were there while
 * the parent held still, and children the table knows only from /proc (no
 * birth time), are left alone.
 */
static bool storm_kin(struct detector *d, const struct proctable *t, int32_t slot,
		      const struct det_alert *a)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *cp = det_proc_state(d, t, slot);

	return e && cp && e->state == PT_ALIVE && !det_alert_of(d, cp) &&
	       pt_parent_forked(t, slot) &&
	       (e->prog.kin ? e->prog.kin : e->prog.hash) == a->storm_prog && e->born_ns &&
	       e->born_ns >= a->storm_since;
}

/* slot is one of storm a's members, alone: an idle job has no children */
static void storm_tag(struct detector *d, const struct proctable *t, int32_t slot,
		      const struct det_alert *a)
{
	struct det_proc *p = det_proc_state(d, t, slot);

	p->alert = det_id_of_alert(d, a);
	p->flagged = true;
}

/*
 * A job just exec'd under a parent with a spawn_storm raised: one more of
 * the storm's, if it runs the storm's program.  True if it joined.
 */
bool det_storm_join(struct detector *d, const struct proctable *t, int32_t slot,
		       uint64_t now, det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_alert *a = e->parent != PT_NONE ? storm_of(d, t, e->parent) : NULL;

	if (!a || !storm_kin(d, t, slot, a))
		return false;
	storm_tag(d, t, slot, a);
	a->storm_join_ns[a->storm_joins++ % STORM_JOINS] = now;
	a->last_active_ns = now;
	if (++a->forks_since_count >= a->live)
		det_member_changed(d, t, a, now, fn, ctx);
	return true;
}

/*
 * pl, parent's pile of exec'd jobs, just doubled to pl->pow in doubling_ns
 * and det_spawn_storm says it is a storm: the jobs are copies asking their
 * parent for more copies (a job runner, systemd-run, at, a container
 * runtime).  The alert is rooted at the parent, which names it; its
 * members are the jobs alone, so an action stops them, never the parent.
 */
static void raise_storm(struct detector *d, const struct proctable *t, int32_t parent,
			struct pile *pl, int32_t child, uint64_t doubling_ns, uint64_t now,
			det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *pe = pt_get(t, parent), *ce = pt_get(t, child);
	struct det_verdict v;
	struct det_alert *a = det_new_alert(d, t, DET_SPAWN_STORM, pe, 0, now, fn, ctx);
	uint32_t n = 0, jobs = pl->pow, held = pl->held;
	uint16_t id;

	if (!a)
		return;
	id = det_id_of_alert(d, a);
	a->storm_prog = pl->prog;
	a->storm_since = pl->growth_ns;
	det_proc_state(d, t, parent)->storm = id;
	for (int32_t c = pe->first_child, next; c != PT_NONE; c = next) {
		next = pt_get(t, c)->next_sibling;
		/* idle jobs only: one that forked is no longer in the pile */
		if (det_proc_state(d, t, c)->pile == PILE_EXECS + 1 && storm_kin(d, t, c, a)) {
			det_pile_remove(d, t, c);
			storm_tag(d, t, c, a);
			n++;
		}
	}
	a->live = a->peak = a->reported_tasks = n;
	/* a fork without exec runs its parent's command line */
	snprintf(a->storm_cmd, sizeof(a->storm_cmd), "%.159s",
		 ce && ce->cmdline[0] ? ce->cmdline : ce ? ce->comm : "?");
	det_base_verdict(&v, DET_ALERT, DET_SPAWN_STORM, now, t, parent);
	det_storm_verdict(d, a, &v, now, ce ? ce->key.tgid : 0);
	v.doubling_ms = (double)doubling_ns / 1e6;
	snprintf(v.evidence, sizeof(v.evidence),
		 "its idle jobs of one program ('%.200s') doubled to %u in %.1f s, at least "
		 "twice the %u it ever held: copies asking it for more copies; the %u born "
		 "since the growth began are the runaway, this process is spared",
		 a->storm_cmd, jobs, (double)doubling_ns / 1e9, held, n);
	fn(ctx, &v);
}

/*
 * slot is a new child (PILE_FORKS: it runs its parent's program) or has
 * just exec'd another program (PILE_EXECS): count it in its parent's pile.
 * A pile that grows past leak_min, its second half born over at least
 * leak_min_span, or past eight times leak_min however fast (well past a
 * pool's size), is a process_leak.  A pool starts its workers in a burst
 * and then holds that size: no new peak.
 */
void det_pile_add(struct detector *d, const struct proctable *t, int32_t slot, int kind,
		     uint64_t now, det_verdict_fn fn, void *ctx)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *cp = det_proc_state(d, t, slot), *pp;
	struct pile *pl;
	bool slow;

	if (!cp || cp->pile || cp->flagged || !e->prog.hash || !pt_parent_forked(t, slot) ||
	    !pile_parent(pt_get(t, e->parent)))
		return;
	pp = det_proc_state(d, t, e->parent);
	pl = &pp->piles[kind];
	/* by kin: jobs of new -c text, or copied binaries, are one pile */
	if (!pl->live)
		pl->prog = e->prog.kin ? e->prog.kin : e->prog.hash;
	if ((e->prog.kin ? e->prog.kin : e->prog.hash) != pl->prog)
		return;
	cp->pile = (uint8_t)(kind + 1);
	/* growth is told by births: a job's exec comes after its fork */
	if (++pl->live == 1 && !pl->peak)
		pl->growth_ns = e->born_ns ? e->born_ns : now;
	if (pl->live == d->c.leak_min / 2 && !pl->half_ns) {
		pl->half_ns = now;
		pl->half_busy = pp->fork_busy;
		pl->half_tid = pp->fork_tid;
	}
	if (pl->live <= pl->peak)
		return;
	/* a new peak after a still spell: what it held is its normal */
	if (pl->peak && now >= pl->peak_ns + d->c.leak_min_span_ns) {
		if (pl->peak > pl->held)
			pl->held = pl->peak;
		pl->growth_ns = e->born_ns ? e->born_ns : now;
	}
	pl->peak = pl->live;
	pl->peak_ns = now;
	if (!(pl->peak & (pl->peak - 1))) {
		uint64_t since = pl->pow && pl->pow == pl->peak / 2 ? pl->pow_ns : 0;

		pl->pow = pl->peak;
		pl->pow_ns = now;
		if (kind == PILE_EXECS && since && !storm_of(d, t, e->parent) &&
		    det_spawn_storm(&d->c, pl->pow, now - since, pl->held)) {
			raise_storm(d, t, e->parent, pl, slot, now - since, now, fn, ctx);
			return;
		}
	}
	/* slowly, and not because the parent starts them as fast as this host
	 * lets it: a pool filling on a loaded or slow host is not a leak */
	slow = pl->half_ns && now >= pl->half_ns + d->c.leak_min_span_ns &&
	       !(pl->half_tid && pl->half_tid == pp->fork_tid &&
		 det_forked_back_to_back(&pl->half_busy, &pp->fork_busy));
	if (pl->live < d->c.leak_min || pl->live < 2 * pp->leak_reported ||
	    (!slow && pl->live < 8 * d->c.leak_min))
		return;
	pp->leak_reported = pl->live;
	pile_verdict(d, t, e->parent, DET_PROCESS_LEAK, pl->live,
		     det_growth_per_minute(pl->live - d->c.leak_min / 2, pl->half_ns, now), slot, now,
		     fn, ctx);
}
