// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the presenters ask of the detector, answered from its state and
 * fresh profiles (scratch only: no alert is raised, updated or ended
 * here): the tree an OOM victim was in (flagged, or growing), and the
 * growing trees the live view lists.
 */
#include <stdlib.h>
#include <string.h>
#include "core/detector.h"
#include "core/det_int.h"

void det_oom_tree(struct detector *d, const struct proctable *t, int32_t victim, uint64_t now,
		  struct det_oom_tree *out)
{
	struct det_proc *p = det_proc_state(d, t, victim);
	struct det_alert *a = det_alert_of(d, p);
	struct profile pr;
	int32_t top = victim;

	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	out->known = true;
	if (a) {
		out->flagged = true;
		out->pattern = a->pattern;
		out->root = a->root.tgid;
		out->root_comm = a->comm;
		out->tasks = a->live;
		out->growing = true;
		out->doubling_ms = -1;
		return;
	}
	/* the tree the victim grew in: its highest recently-forking ancestor */
	for (int32_t x = pt_get(t, victim)->parent, n = 0; x != PT_NONE && n < DET_CLIMB_MAX;
	     x = pt_get(t, x)->parent, n++) {
		if (pt_get(t, x)->key.tgid == 1 || !det_forked_recently(d, t, x, now))
			break;
		top = x;
	}
	det_profile(d, t, top, now, &pr);
	out->root = pt_get(t, top)->key.tgid;
	out->root_comm = pt_get(t, top)->comm;
	out->tasks = pr.live;
	out->births_per_s = pr.births_per_s;
	out->doubling_ms = pr.doubling_ms;
	out->growing = pr.births_window > 0 && pr.doubling_ms >= 0 &&
		       pr.doubling_ms * 1e6 <= (double)d->c.max_doubling_ns;
}

#define TOP_TREE_MIN_LIVE 4
/* listed while it forked within this many windows: a tree whose copies
 * fork once a window stays on the screen between its rounds */
#define TOP_TREE_WINDOWS 2
/*
 * What one call may visit looking for unflagged trees, in tables' worths
 * of entries (its counts and profiles together).  Each recent forker costs
 * its subtree, so a chain of exited forkers of alternating programs (none
 * the copy of its parent, each holding the chain below it) would cost the
 * chain's length squared per redraw and metrics sample; past this the call
 * lists what it found and counts the cut (det_work.top_cut).  Detection
 * does not use this view: a cut hides a tree from the list, never from an
 * alert.
 */
#define TOP_TREE_BUDGET_TABLES 4

static int by_slot(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The processes that forked within span of now, in slot order (as a walk
 * of the table would meet them); the others leave the list until they
 * fork again.
 */
static uint32_t recent_forkers(struct detector *d, const struct proctable *t, uint64_t now,
			       uint64_t span)
{
	uint32_t kept = 0;

	d->top_looked += d->nforkers;
	for (uint32_t i = 0; i < d->nforkers; i++) {
		int32_t slot = d->forkers[i];

		if (det_forked_within(d, t, slot, now, span))
			d->forkers[kept++] = slot;
		else
			d->forker_listed[slot] = 0;
	}
	d->nforkers = kept;
	qsort(d->forkers, kept, sizeof(*d->forkers), by_slot);
	return kept;
}

static int by_growth(const void *a, const void *b)
{
	const struct det_tree_info *x = a, *y = b;

	if (x->flagged != y->flagged)
		return x->flagged ? -1 : 1;
	if (x->births_per_s != y->births_per_s)
		return x->births_per_s > y->births_per_s ? -1 : 1;
	return x->live > y->live ? -1 : x->live < y->live;
}

uint32_t det_top_trees(struct detector *d, const struct proctable *t, uint64_t now,
		       struct det_tree_info *out, uint32_t max)
{
	uint64_t recent = TOP_TREE_WINDOWS * d->c.window_ns, spent;
	uint64_t budget = TOP_TREE_BUDGET_TABLES * (uint64_t)pt_get_stats(t)->capacity;
	struct det_tree_info worst;
	struct profile pr;
	uint32_t n = 0, nrecent;

	for (uint32_t i = 0; i < DET_MAX_ALERTS && n < max; i++) {
		const struct det_alert *a = &d->alerts[i];
		int32_t slot = a->used ? pt_find(t, a->root.tgid, a->root_start_ns) : PT_NONE;

		if (slot == PT_NONE)
			continue;
		out[n] = (struct det_tree_info){
			.root = a->root.tgid,
			.root_start_ns = a->root_start_ns,
			.root_slot = slot,
			.root_comm = a->comm,
			.live = a->live,
			.doubling_ms = -1,
			.flagged = true,
			.pattern = a->pattern,
			.tree = det_id_of_alert(d, a),
		};
		if (pt_get(t, slot)->state == PT_ALIVE) {
			det_profile(d, t, slot, now, &pr);
			out[n].births_per_s = pr.births_per_s;
			out[n].doubling_ms = pr.births_window ? pr.doubling_ms : -1;
			out[n].generations = pr.ngen;
		}
		n++;
	}
	/*
	 * Unflagged trees: the top of each chain of recently forking copies of
	 * one program (through exited ones: a shell bomb's forkers die), its
	 * root then chosen as an alert's would be, so that a launcher (a
	 * supervisor, a shell) is not what the live view acts on.  Only the
	 * processes that forked lately can be such a top: those are looked
	 * at, not the table.
	 */
	nrecent = recent_forkers(d, t, now, recent);
	spent = d->profiled_nodes + d->top_counted;
	for (uint32_t r = 0; r < nrecent; r++) {
		int32_t i = d->forkers[r];
		const struct pt_entry *e = pt_get(t, i), *pe;
		int32_t chain[DET_CLIMB_MAX], root;
		uint32_t len = 0;
		bool listed = false;

		if (!e)
			continue;
		if (d->profiled_nodes + d->top_counted - spent > budget) {
			d->top_cut++;
			break;
		}
		pe = pt_get(t, e->parent);
		if (e->key.tgid <= 1 || e->kthread || det_interactive(e) ||
		    !det_forked_within(d, t, i, now, recent) ||
		    (pe && pe->key.tgid > 1 && !det_interactive(pe) && det_same_program(e, pe, false) &&
		     (pe->state == PT_DEAD || det_forked_within(d, t, e->parent, now, recent))) ||
		    det_alert_of(d, det_proc_state(d, t, i)))
			continue;
		/* most forkers hold no tree (a storm's driver, whose children
		 * exited by the table's capacity): counted over the branches,
		 * not by the profile, which walks every exited leaf too (its
		 * count is never more than this one) */
		if (pt_live_in_subtree(t, i, TOP_TREE_MIN_LIVE, &d->top_counted) < TOP_TREE_MIN_LIVE)
			continue;
		det_profile(d, t, i, now, &pr);
		if (pr.live < TOP_TREE_MIN_LIVE)
			continue;
		/* down the copies that hold the most live copies */
		for (int32_t x = i; x != PT_NONE && len < DET_CLIMB_MAX;) {
			int32_t best = PT_NONE;

			chain[len++] = x;
			for (int32_t c = pt_get(t, x)->first_child; c != PT_NONE;
			     c = pt_get(t, c)->next_sibling)
				if (d->is_copy[c] && d->sub_live[c] &&
				    (best == PT_NONE || d->sub_live[c] > d->sub_live[best]))
					best = c;
			x = best;
		}
		/* "still forking" as det_raise_alert judges it: two doublings, or the window */
		root = det_chain_root(d, t, chain, len,
				   det_doublings_ns(pr.doubling_ms, 2) > d->c.window_ns
				       ? det_doublings_ns(pr.doubling_ms, 2)
				       : d->c.window_ns,
				   now);
		for (uint32_t k = 0; k < n && !listed; k++)
			listed = out[k].root_slot == root;
		if (root == PT_NONE || listed)
			continue;
		if (root != i)
			det_profile(d, t, root, now, &pr);
		/* a shell running one command at a time is no tree to watch */
		if (pr.live < TOP_TREE_MIN_LIVE)
			continue;
		e = pt_get(t, root);
		worst = (struct det_tree_info){
			.root = e->key.tgid,
			.root_start_ns = e->start_ns,
			.root_slot = root,
			.root_comm = e->comm,
			.live = pr.live,
			.births_per_s = pr.births_per_s,
			.doubling_ms = pr.births_window ? pr.doubling_ms : -1,
			.generations = pr.ngen,
		};
		if (n < max) {
			out[n++] = worst;
		} else if (max && by_growth(&worst, &out[max - 1]) < 0) {
			out[max - 1] = worst;
		} else {
			continue;
		}
		qsort(out, n, sizeof(*out), by_growth);
	}
	/* a tree holding another listed one is its launcher: the inner one
	 * is what grows (make -j running a bomb lists the bomb) */
	for (uint32_t a = 0; a < n;) {
		bool outer = false;

		for (uint32_t b = 0; b < n && !outer && !out[a].flagged; b++)
			outer = b != a && pt_is_descendant(t, out[b].root_slot, out[a].root_slot);
		if (outer)
			memmove(&out[a], &out[a + 1], (--n - a) * sizeof(*out));
		else
			a++;
	}
	return n;
}
